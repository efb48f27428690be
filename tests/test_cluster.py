"""Batches on Ray: the same inputs_folder as a local run, a killed worker's item retried, a bad input failing alone.

One local Ray instance (``ray.init(num_cpus=2)``) serves every test here; they share an xdist group so
that one test process starts it once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from PIL import Image

import brushwork
from brushwork.batch.inputs import batch_key, collect
from brushwork.batch.run import run_batch
from brushwork.cli import main
from brushwork.cluster import RayExecutor
from brushwork.core.settings import RayOptions, Settings

pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.ray, pytest.mark.slow]

FAST = Settings(size=64, steps=4, scales=1)


@pytest.fixture(scope="module")
def cluster():
    ray = pytest.importorskip("ray") if not os.environ.get("CI") else __import__("ray")
    os.environ.setdefault("RAY_worker_niceness", "0")  # as brushwork.cluster.connect starts it
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def inputs_folder(tmp_path, tubingen, wave):
    """Two small photos and one painting."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, source, size in (("a.jpg", tubingen, (96, 72)), ("b.jpg", tubingen, (72, 96))):
        with Image.open(source) as img:
            img.convert("RGB").resize(size).save(folder / name)
    with Image.open(wave) as img:
        img.convert("RGB").resize((96, 64)).save(folder / "wave.jpg")
    return folder


def test_ray_paints_the_same_pictures_as_a_local_run(cluster, inputs_folder, tmp_path):
    photos, painting = [inputs_folder / "a.jpg", inputs_folder / "b.jpg"], [inputs_folder / "wave.jpg"]
    here = run_batch(collect(photos, painting, tmp_path / "here"), FAST, tmp_path / "here")
    there = run_batch(collect(photos, painting, tmp_path / "there"), FAST, tmp_path / "there", execute=RayExecutor())
    assert (here.done, there.done, there.failed) == (2, 2, 0)
    for name in ("a__wave.png", "b__wave.png"):
        here_picture, there_picture = (np.asarray(Image.open(tmp_path / where / name)) for where in ("here", "there"))
        assert np.array_equal(here_picture, there_picture)
    again = run_batch(collect(photos, painting, tmp_path / "there"), FAST, tmp_path / "there", execute=RayExecutor())
    assert (again.skipped, again.done) == (2, 0)  # the driver's log and keys, whoever painted


def test_an_item_whose_worker_is_killed_is_retried_and_the_batch_completes(cluster, inputs_folder, tmp_path):
    killed: list[int] = []
    earlier = {p.pid for p in _ray_processes() if "ray::Painter" in _cmdline(p)}  # other tests' workers

    def kill_one_painting_worker() -> None:
        deadline = time.monotonic() + 240
        while not killed and time.monotonic() < deadline:
            for proc in _ray_processes():
                if proc.pid not in earlier and "ray::Painter.paint" in _cmdline(proc):
                    try:  # at once: an item killed at any point must go to a fresh worker
                        os.kill(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:  # it went meanwhile: watch for the next item
                        continue
                    killed.append(proc.pid)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_painting_worker)
    killer.start()
    items = collect([inputs_folder / "a.jpg", inputs_folder / "b.jpg"], [inputs_folder / "wave.jpg"], tmp_path / "out")
    slow = FAST.replace(size=96, steps=150)  # an item lasts a few seconds: time to kill it mid-way
    summary = run_batch(items, slow, tmp_path / "out", execute=RayExecutor(options=RayOptions(workers=1)))
    killer.join()
    assert killed, "no painting worker was seen"
    assert (summary.done, summary.failed) == (2, 0)
    assert sorted(r.attempts for r in summary.records) == [1, 2]  # the killed item went to a fresh worker
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a__wave.png", "b__wave.png", "batch.jsonl"]


def test_a_corrupt_input_fails_alone_on_ray(cluster, inputs_folder, tmp_path, capsys):
    (inputs_folder / "c.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    try:
        rc = main(
            ["batch", str(inputs_folder / "a.jpg"), str(inputs_folder / "c.jpg")]
            + ["--styles", str(inputs_folder / "wave.jpg"), "-o", str(tmp_path / "out"), "--ray", "local"]
            + ["--size", "64", "--steps", "4", "--scales", "1"]
        )
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 1
    assert re.search(r"on Ray: [12] workers? of 1 core each started", err), err  # one per item at most
    assert "failed: c.jpg with wave.jpg -> c__wave.png:" in err and "Traceback" not in err
    assert f"photo {inputs_folder / 'c.jpg'} " in err  # the user's file, not the worker's copy
    failed = [json.loads(line) for line in (tmp_path / "out" / "batch.jsonl").read_text().splitlines()]
    assert [(r["status"], r["key"] is not None) for r in failed if r["status"] != "done"] == [("failed", True)]
    assert (tmp_path / "out" / "a__wave.png").is_file() and not (tmp_path / "out" / "c__wave.png").exists()


def test_a_cluster_out_of_reach_is_one_line_before_any_work(inputs_folder, tmp_path):
    answer = subprocess.run(
        [sys.executable, "-m", "brushwork", "batch", str(inputs_folder / "a.jpg"), "--styles"]
        + [str(inputs_folder / "wave.jpg"), "-o", str(tmp_path / "o"), "--ray", "127.0.0.1:1", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 2 and "Traceback" not in answer.stderr
    assert "cannot reach a Ray cluster at '127.0.0.1:1'" in answer.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "o").exists()


def test_an_address_of_no_cluster_is_refused_naming_the_option(inputs_folder, tmp_path):
    """The cluster names the setting (``ray``); the command line words it as its option."""
    answer = subprocess.run(
        [sys.executable, "-m", "brushwork", "batch", str(inputs_folder / "a.jpg"), "--styles"]
        + [str(inputs_folder / "wave.jpg"), "-o", str(tmp_path / "o"), "--ray", "nowhere", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 2 and answer.stderr.count("\n") == 1, answer.stderr
    assert "error: --ray takes local, auto or HOST:PORT of a cluster's head, not 'nowhere'" in answer.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.video
def test_a_clip_on_ray_is_painted_in_segments_and_joined_with_its_sound(cluster, tmp_path, capsys):
    from brushwork.media.clips import probe

    clip = tmp_path / "fox.mp4"
    clip.write_bytes((Path(__file__).resolve().parents[1] / "brushwork/examples/video/fox.mp4").read_bytes())
    out = tmp_path / "painted.mp4"
    try:
        rc = main(
            ["video", str(clip), str(Path(__file__).resolve().parents[1] / "brushwork/examples/style/wave.jpg")]
            + ["-o", str(out), "--end", "0.5", "--size", "48", "--steps", "3", "--later-steps", "2"]
            + ["--ray", "local", "--workers", "2", "--segment-frames", "8"]
        )
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "on Ray: 2 segments of up to 11 frames, painted by 2 of 2 workers" in err
    work = out.with_name(out.name + ".frames")
    assert sorted(p.name for p in work.glob("segment_*")) == ["segment_000000_000007", "segment_000004_000014"]
    painted, source = probe(out), probe(clip)
    assert painted.frames == 15 and painted.audio == source.audio
    wave = Path(__file__).resolve().parents[1] / "brushwork/examples/style/wave.jpg"
    again = tmp_path / "again.mp4"  # the same clip from Python: the same segments, the same frames
    result = brushwork.stylize_video(
        clip, wave, again, end=0.5, size=48, steps=3, later_steps=2, ray="local", workers=2, segment_frames=8
    )
    assert result.status == "done" and probe(again).frames == 15
    for frame in ("frame_000000.png", "frame_000006.png", "frame_000014.png"):
        ours, theirs = (np.asarray(Image.open(w.with_name(w.name + ".frames") / frame)) for w in (out, again))
        assert np.array_equal(ours, theirs), frame
    with pytest.raises(brushwork.ImageError, match="on Ray the paintings and masks travel as files"):
        brushwork.stylize_video(clip, Image.open(wave), tmp_path / "mem.mp4", ray="local", end=0.5, size=48)


def test_ctrl_c_on_a_ray_batch_keeps_each_workers_picture_so_far(inputs_folder, tmp_path):
    command = [sys.executable, "-m", "brushwork", "batch", str(inputs_folder / "a.jpg"), str(inputs_folder / "b.jpg")]
    command += ["--styles", str(inputs_folder / "wave.jpg"), "-o", str(tmp_path / "out"), "--ray", "local", "-q"]
    proc = subprocess.Popen(command + ["--size", "96", "--steps", "5000", "--tolerance", "0"], stderr=subprocess.PIPE)
    deadline, painters = time.monotonic() + 180, []
    while time.monotonic() < deadline and len(painters) < 2:  # its workers, under its own Ray instance, paint
        painters = [c for c in _descendants(proc.pid) if "ray::Painter.paint" in _cmdline(c)]
        time.sleep(0.2)
    while time.monotonic() < deadline and min(_cpu_seconds(p) for p in painters) < 10:  # some steps painted
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    # soon: long before its 5000 steps; Ray's own shutdown takes over a minute on two busy cores
    try:
        _, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        left = [f"{p.pid} {_cmdline(p)}" for p in [psutil.Process(proc.pid), *_descendants(proc.pid)]]
        proc.kill()
        pytest.fail("the interrupted batch did not exit in 180 s; its processes: " + "; ".join(left))
    err = err.decode()
    assert proc.returncode == 130, err
    out = tmp_path / "out"
    kept = [out / "a__wave.unfinished-1.png", out / "b__wave.unfinished-1.png"]
    assert f"interrupted; 0 done, 2 left; the pictures so far are {kept[0]}, {kept[1]}" in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == [
        "a__wave.unfinished-1.png",
        "b__wave.unfinished-1.png",
        "batch.jsonl",
    ]
    logged = [json.loads(line) for line in (out / "batch.jsonl").read_text().splitlines()]
    assert sorted(r["kept"] for r in logged) == [str(k) for k in kept]
    assert all(r["status"] == "interrupted" and 0 < r["steps"] < 5000 for r in logged)
    for record in logged:  # each kept picture carries its item's key: the next run paints the item again
        assert batch_key(Path(record["kept"])) == record["key"]


def _cpu_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _ray_processes() -> list[psutil.Process]:
    """This test process's Ray instance (the raylet and its workers are its descendants), not any other."""
    return psutil.Process().children(recursive=True)


def _cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # it ended meanwhile
        return ""


def test_ctrl_c_hands_back_what_each_worker_has_cut_short_and_keeps_what_finished_as_it_is():
    """At Ctrl-C the driver asks every worker to stop and gathers what comes back: a run the stop cut short is
    interrupted, one that finished (or diverged) before the stop reached it keeps its status, so a finished picture
    is written where it belongs, and a worker that died gives nothing."""
    from types import SimpleNamespace

    from brushwork.cluster import _stop
    from brushwork.engine.runner import Result

    def outcome(status: str) -> Result:
        return Result(Image.new("RGB", (4, 4)), None, status, 7, {}, 1.0, f"{status} at step 7")

    class Died(Exception):
        pass

    stops: list[str] = []

    class Worker:
        def __init__(self, name: str):
            self.stop = SimpleNamespace(remote=lambda: stops.append(name))

    answers = {"cut": outcome("cancelled"), "finished": outcome("done"), "broke": outcome("diverged"), "dead": Died()}

    def get(ref: str) -> Result:
        if isinstance(answers[ref], Exception):
            raise answers[ref]
        return answers[ref]

    ray = SimpleNamespace(
        wait=lambda refs, num_returns, timeout: (refs, []),
        get=get,
        exceptions=SimpleNamespace(RayActorError=Died, RayTaskError=Died),
    )
    stopped = _stop(ray, {name: (Worker(name), name) for name in answers}, wait=5.0)
    assert sorted(stops) == sorted(answers)  # every worker was asked
    assert {item: result.status for item, result in stopped.items()} == {
        "cut": "interrupted",
        "finished": "done",
        "broke": "diverged",
    }
