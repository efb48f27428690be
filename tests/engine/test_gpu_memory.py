"""A GPU run is held to the memory its plan says (checked here with the card's calls stood in for)."""

from __future__ import annotations

import contextlib
import pickle
from types import SimpleNamespace

import pytest
import torch

from brushwork.core.errors import OutOfMemory
from brushwork.core.settings import Settings
from brushwork.engine import inputs
from brushwork.engine import runner as engine
from brushwork.model.device import PLAN_SLACK, held_to_plan, out_of_memory_worded

GB = 2**30


def test_a_gpu_run_may_reserve_its_plan_and_a_little_more_and_then_the_card_is_free(monkeypatch):
    fractions: list[tuple[float, int]] = []
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: SimpleNamespace(total_memory=100 * GB))
    monkeypatch.setattr(
        torch.cuda, "set_per_process_memory_fraction", lambda share, index: fractions.append((share, index))
    )
    with held_to_plan(torch.device("cuda"), 10 * GB) as held:
        assert held and fractions == [(pytest.approx(0.1 * PLAN_SLACK), 0)]
    assert fractions[-1] == (1.0, 0)
    with held_to_plan(torch.device("cuda:1"), 200 * GB):
        assert fractions[-1] == (1.0, 1)  # a plan larger than the card: the whole card, no more
    with held_to_plan(torch.device("cpu"), 10 * GB) as held:
        assert not held and len(fractions) == 4  # a CPU run is left alone


@pytest.mark.slow
def test_a_run_that_outgrows_its_cap_is_painted_again_without_it(pictures, monkeypatch):
    @contextlib.contextmanager
    def capped(device, planned):
        yield True

    paint, tries = engine._Run.paint, []

    def short_of_memory_once(self):
        tries.append(1)
        if len(tries) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return paint(self)

    monkeypatch.setattr(engine, "held_to_plan", capped)
    monkeypatch.setattr(engine._Run, "paint", short_of_memory_once)
    with pytest.warns(UserWarning, match="needed more GPU memory than its plan said"):
        result = engine.run(pictures["tubingen"], [pictures["starry_night"]], Settings(size=64, steps=3, scales=1))
    assert result.status == "done" and len(tries) == 2


def _out_of_memory(*args, **kwargs):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_a_run_out_of_gpu_memory_is_one_error_that_says_what_to_try(pictures, monkeypatch):
    monkeypatch.setattr(engine._Run, "paint", _out_of_memory)
    with pytest.raises(OutOfMemory, match="^out of memory; try a smaller size"):
        engine.run(pictures["tubingen"], [pictures["starry_night"]], Settings(size=64, steps=2, scales=1))


def test_planning_out_of_gpu_memory_is_the_same_error(pictures, monkeypatch):
    monkeypatch.setattr(inputs, "measure", _out_of_memory)
    with pytest.raises(OutOfMemory):
        inputs.measure_and_plan(pictures["tubingen"], [pictures["starry_night"]], Settings(size=64))


def test_other_runtime_errors_are_not_taken_for_memory():
    with pytest.raises(RuntimeError, match="boom"), out_of_memory_worded():
        raise RuntimeError("boom")
    with pytest.raises(OutOfMemory), out_of_memory_worded():
        raise RuntimeError("MPS backend out of memory (MPS allocated: 1.00 GB)")


def test_the_command_line_and_a_batch_say_it_in_one_line(tubingen, starry_night, tmp_path, monkeypatch, capsys):
    from brushwork.cli import main

    monkeypatch.setattr(engine._Run, "paint", _out_of_memory)
    out = tmp_path / "out.png"
    assert main([str(tubingen), str(starry_night), "-o", str(out), "--size", "64", "--steps", "2", "-q"]) == 2
    said = capsys.readouterr().err.strip().splitlines()
    assert said == ["brushwork: error: out of memory; try a smaller size or a single scale"] and not out.exists()
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(tubingen.read_bytes())
    (photos / "b.jpg").write_bytes(tubingen.read_bytes())
    batch = [
        "batch",
        str(photos),
        "--styles",
        str(starry_night),
        "-o",
        str(tmp_path / "painted"),
        "--size",
        "64",
        "--steps",
        "2",
    ]
    assert main([*batch, "-q"]) == 1  # every item failed, each alone: the batch went on to the second
    log = (tmp_path / "painted" / "batch.jsonl").read_text().splitlines()
    assert len(log) == 2 and all('"out of memory; try a smaller size' in line for line in log)


def test_out_of_memory_travels_back_from_a_worker_as_it_is():
    back = pickle.loads(pickle.dumps(OutOfMemory()))
    assert type(back) is OutOfMemory and str(back) == str(OutOfMemory())
