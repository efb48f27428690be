"""The command line, in-process (``brushwork.cli.main``) plus one run of the installed console script."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sample_pictures import png_header_only

import brushwork
from brushwork.cli import main
from brushwork.cli.kit import Bar
from brushwork.core.errors import ImageError
from brushwork.engine import inputs
from brushwork.engine import runner as engine
from brushwork.engine.recipes import RECIPE_KEY
from brushwork.engine.recipes import read as read_recipe

FAST = ["--size", "32", "--steps", "2"]


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``brushwork ARGV`` in this process; argparse's SystemExit counts as a return code."""
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, err: str) -> str:
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("brushwork")
    return lines[0]


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _text_as_jpg(tmp: Path) -> Path:
    (tmp / "notes.jpg").write_text("these are not pixels\n")
    return tmp / "notes.jpg"


def _truncated_jpeg(tmp: Path, tubingen: Path) -> Path:
    data = tubingen.read_bytes()
    (tmp / "half.jpg").write_bytes(data[: len(data) // 2])
    return tmp / "half.jpg"


def _truncated_png(tmp: Path) -> Path:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp / "full.png")
    data = (tmp / "full.png").read_bytes()
    (tmp / "half.png").write_bytes(data[: len(data) // 2])
    return tmp / "half.png"


def _write(tmp: Path, name: str, data: bytes) -> Path:
    (tmp / name).write_bytes(data)
    return tmp / name


# Each case: (how to make a bad content path, words the message must contain).
BAD_CONTENT = {
    "missing": (lambda tmp, tub: tmp / "nowhere.jpg", "not found"),
    "folder": (lambda tmp, tub: tmp, "folder"),
    "text named .jpg": (lambda tmp, tub: _text_as_jpg(tmp), "not an image"),
    "truncated jpeg": (_truncated_jpeg, "truncated"),
    "truncated png": (lambda tmp, tub: _truncated_png(tmp), "truncated"),
    "empty file": (lambda tmp, tub: _write(tmp, "empty.png", b""), "not an image"),
    "zero-width png": (lambda tmp, tub: _write(tmp, "zero.png", png_header_only(0, 10)), "content"),
    "huge png": (lambda tmp, tub: _write(tmp, "huge.png", png_header_only(100_000, 100_000)), "too large"),
    "a video clip": (
        lambda tmp, tub: Path(__file__).parents[2] / "brushwork/examples/video/fox.mp4",
        "is a video clip, not a picture; paint a clip with 'brushwork video'",
    ),
}


def test_a_clip_where_a_painting_goes_or_asked_for_its_recipe_says_what_fits(capsys, tmp_path, tubingen):
    fox = Path(__file__).parents[2] / "brushwork/examples/video/fox.mp4"
    rc, _, err = cli(capsys, tubingen, fox, "-o", tmp_path / "out.png", *FAST)
    assert "is a video clip, not a picture; the painting must be a picture" in err
    assert rc == 2 and "brushwork video" not in err
    page = tmp_path / "saved page.mp4"  # named as a clip, holding none: not called one, nor sent to 'video'
    page.write_text("<html>404 not found</html>")
    rc, _, err = cli(capsys, page, tubingen, "-o", tmp_path / "out.png", *FAST)
    assert "saved page.mp4 is not an image Pillow can read" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, "recipe", fox)  # the bundled fox was never painted here
    assert "each frame brushwork paints has one, in a folder beside the clip it writes (fox.mp4.frames/ here), " in (
        assert_one_line_error(rc, err)
    )
    painted = tmp_path / "sub" / "painted.mp4"  # named from another folder: the folder as it is reached from here
    (tmp_path / "sub" / "painted.mp4.frames").mkdir(parents=True)
    rc, _, err = cli(capsys, "recipe", painted)
    assert f"each of its frames has one, in {painted}.frames/ (brushwork recipe {painted}.frames/frame_" in (
        assert_one_line_error(rc, err)
    )


def test_a_frame_of_a_clip_or_a_figure_shows_its_recipe_and_sends_a_rerun_where_it_was_made(capsys, tmp_path):
    from brushwork.core.settings import Settings
    from brushwork.engine import recipes

    inputs = [{"role": "clip", "name": "fox.mp4", "path": "/elsewhere/fox.mp4", "sha256": "0" * 64}]
    frame = tmp_path / "frame_000003.png"
    recipe = {"brushwork": brushwork.__version__, "settings": Settings().to_dict(), "inputs": inputs, "frame": 3}
    recipes.save(Image.new("RGB", (8, 8)), frame, recipe)
    rc, out, _ = cli(capsys, "recipe", frame)
    assert rc == 0 and json.loads(out)["frame"] == 3
    rc, _, err = cli(capsys, "recipe", frame, "--rerun", "-o", tmp_path / "again.png")
    message = assert_one_line_error(rc, err)
    assert "is frame 3 of a painted clip; paint fox.mp4 again with 'brushwork video'" in message
    assert not (tmp_path / "again.png").exists()
    figure = tmp_path / "tv.png"
    recipes.save(Image.new("RGB", (8, 8)), figure, {**recipe, "figure": "tv", "panels": []})
    rc, _, err = cli(capsys, "recipe", figure, "--rerun", "-o", tmp_path / "again.png")
    assert "is the seed report's tv figure; make it again with 'brushwork figures tv'" in assert_one_line_error(rc, err)


@pytest.mark.parametrize("case", list(BAD_CONTENT))
def test_bad_content_image(capsys, tmp_path, tubingen, starry_night, case):
    make, words = BAD_CONTENT[case]
    bad = make(tmp_path, tubingen)
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, bad, starry_night, "-o", out, *FAST)
    assert words in assert_one_line_error(rc, err)
    assert not out.exists()


def test_bad_style_image(capsys, tmp_path, tubingen):
    rc, _, err = cli(capsys, tubingen, _text_as_jpg(tmp_path), "-o", tmp_path / "out.png", *FAST)
    assert "style" in assert_one_line_error(rc, err)


def test_unreadable_file(capsys, tmp_path, tubingen, starry_night, monkeypatch):
    locked = tmp_path / "locked.jpg"
    shutil.copy(tubingen, locked)
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # root reads anything: simulate the permission error instead
            real_open = Image.open

            def refuse(fp, *args, **kwargs):
                if isinstance(fp, (str, os.PathLike)) and Path(fp) == locked:
                    raise PermissionError(13, "Permission denied", str(fp))
                return real_open(fp, *args, **kwargs)

            monkeypatch.setattr(Image, "open", refuse)
        rc, _, err = cli(capsys, locked, starry_night, "-o", tmp_path / "out.png", *FAST)
    finally:
        locked.chmod(0o644)
    assert "permission denied" in assert_one_line_error(rc, err)


BAD_OPTIONS = {
    "negative size": (["--size", "-5"], "size"),
    "zero size": (["--size", "0"], "size"),
    "huge size": (["--size", "100000"], "size"),
    "size abc": (["--size", "abc"], "abc"),
    "fractional steps": (["--steps", "2.5"], "2.5"),
    "zero steps": (["--steps", "0"], "steps"),
    "negative style weight": (["--style-weight", "-1"], "--style-weight must be at least 0"),
    "negative content weight": (["--content-weight=-1"], "--content-weight"),
    "huge style weight": (["--style-weight", "1e300"], "--style-weight must be at most 1e+20, not 1e+300"),
    "nan lr": (["--lr", "nan"], "finite"),
    "inf tv weight": (["--tv-weight", "inf"], "finite"),
    "zero lr": (["--lr", "0"], "lr"),
    "huge lr": (["--optimizer", "adam", "--lr", "1e38"], "--lr must be at most 255"),
    "huge scheduled lr": (["--lr-schedule", "2:1e38"], "--lr-schedule must be at most 255"),
    "bad schedule": (["--lr-schedule", "180"], "STEP:RATE"),
    "negative layer weight": (["--style-layer-weights", "1,-1,1,1,1"], "--style-layer-weights"),
    "layer weight count": (["--style-layer-weights", "1,2"], "--style-layer-weights needs one weight per style layer"),
    "unknown style layer": (["--style-layers", "relu1_1,relu9_1"], "relu9_1"),
    "unknown content layer": (["--content-layers", "conv4_9"], "conv4_9"),
    "a layer given twice": (["--content-layers", "conv4_2,conv4_2"], "--content-layers names conv4_2 twice; give each"),
    "zero style scale": (["--style-scale", "0"], "--style-scale must be above 0"),
    "blend count": (["--style-blend", "1,2"], "--style-blend needs one weight per painting (1), not 2"),
    "an empty item": (["--style-blend", "1,,"], "'1,,' has an empty item"),
    "a value like an option": (["--style-blend", "-1,2"], "goes as --option=VALUE"),
    "every weight 0": (
        ["--content-weight", "0", "--style-weight", "0", "--swd-weight", "0", "--tv-weight", "0"],
        "there is nothing to paint by",
    ),
    "abbreviated option": (["--style-w", "100"], "unrecognized option --style-w; did you mean --style-weight?"),
    "unknown preset": (["--preset", "fastest"], "fastest"),
    "unknown device": (["--device", "tpu"], "tpu"),
    "missing init image": (["--init", "no_such_start.png"], "not found"),
    "missing weights": (["--weights", "no_such_weights.pth"], "weights"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_nonsense_options(capsys, tmp_path, tubingen, starry_night, case):
    options, words = BAD_OPTIONS[case]
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, "--size", "32", "--steps", "2", *options)
    assert words in assert_one_line_error(rc, err)
    assert not out.exists()


def test_corrupt_weights_file(capsys, tmp_path, tubingen, starry_night):
    weights = _write(tmp_path, "vgg19.pth", np.random.default_rng(1).bytes(5000))
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST, "--weights", weights)
    assert "cannot read weights file" in assert_one_line_error(rc, err)  # no progress bar line before it
    assert not out.exists()
    passwd = _write(tmp_path, "passwd", b"root:x:0:0:root:/root:/bin/bash\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n")
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST, "--weights", passwd)
    assert f"cannot read weights file {passwd}" in assert_one_line_error(rc, err)


def test_unavailable_device(capsys, tmp_path, tubingen, starry_night):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST, "--device", "cuda")
    assert "not available" in assert_one_line_error(rc, err)  # no progress bar line before it
    assert not out.exists()


def test_missing_arguments(capsys, tubingen, starry_night):
    assert_one_line_error(*cli(capsys, tubingen, starry_night)[::2])  # no -o
    assert_one_line_error(*cli(capsys, tubingen, "-o", "x.png")[::2])  # no style


@pytest.mark.parametrize("overwrite", [False, True])
def test_output_equal_to_an_input(capsys, tmp_path, starry_night, tubingen, overwrite):
    content = tmp_path / "photo.png"
    Image.open(tubingen).resize((64, 48)).save(content)
    before = content.read_bytes()
    rc, _, err = cli(capsys, content, starry_night, "-o", content, *FAST, *(["--overwrite"] if overwrite else []))
    assert "one of the inputs" in assert_one_line_error(rc, err)
    assert content.read_bytes() == before


def test_unwritable_outputs(capsys, tmp_path, tubingen, starry_night):
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "missing" / "out.png", *FAST)
    assert "does not exist" in assert_one_line_error(rc, err)
    (tmp_path / "dir.png").mkdir()
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "dir.png", *FAST)
    assert "folder" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "out.gif", *FAST)
    assert ".png" in assert_one_line_error(rc, err)
    assert not (tmp_path / "missing").exists() and not (tmp_path / "out.gif").exists()


def test_never_overwrites_without_flag(capsys, tmp_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    out.write_bytes(b"an older picture")
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST)
    assert "already exists" in assert_one_line_error(rc, err)
    assert out.read_bytes() == b"an older picture"

    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST, "-q", "--overwrite")
    assert rc == 0 and err == ""
    assert Image.open(out).size == (32, 24)


def test_never_overwrites_progression_sheet(capsys, tmp_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    sheet = tmp_path / "out_progression.png"
    sheet.write_bytes(b"an older sheet")
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST, "--save-every", "1")
    assert "already exists" in assert_one_line_error(rc, err)
    assert sheet.read_bytes() == b"an older sheet" and not out.exists()


def test_never_overwrites_snapshots_of_an_earlier_run(capsys, tmp_path, tubingen, starry_night):
    (tmp_path / "out_steps").mkdir()
    earlier = tmp_path / "out_steps" / "step_00001.png"
    earlier.write_bytes(b"an earlier snapshot")
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "out.png", *FAST, "--save-every", "1")
    assert "already holds snapshots" in assert_one_line_error(rc, err)
    assert earlier.read_bytes() == b"an earlier snapshot" and not (tmp_path / "out.png").exists()


def test_snapshot_folder_name_taken_by_a_file(capsys, tmp_path, tubingen, starry_night):
    (tmp_path / "out_steps").write_bytes(b"not a folder")
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "out.png", *FAST, "--save-every", "1")
    assert "out_steps" in assert_one_line_error(rc, err)
    assert (tmp_path / "out_steps").read_bytes() == b"not a folder" and not (tmp_path / "out.png").exists()


def test_run_writes_picture_with_progress_and_summary(capsys, tmp_path, tubingen, starry_night):
    out = tmp_path / "out.webp"
    rc, stdout, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST)
    assert rc == 0
    assert "painting" in err and f"wrote {out}" in err and "Traceback" not in err
    assert Image.open(out).size == (32, 24)
    assert read_recipe(out)["run"]["status"] == "done"


@pytest.mark.slow
def test_preset_with_explicit_overrides(capsys, tmp_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, "--preset", "seed", "--size", "32", "--steps=2", "-q")
    assert rc == 0, err
    settings = read_recipe(out)["settings"]
    assert settings["optimizer"] == "adam" and settings["lr"] == 3.0 and settings["lr_schedule"] == [[180, 0.1]]
    assert settings["steps"] == 2 and settings["size"] == 32


def ctrl_c_at_step_2(real_run):
    """``engine.run`` as if Ctrl-C were pressed once its second step is done."""

    def run_then_ctrl_c(content, styles, settings, *, callback=None, **kwargs):
        def pressed(p):
            if callback is not None:
                callback(p)
            if p.step == 2:
                raise KeyboardInterrupt

        return real_run(content, styles, settings, callback=pressed, **kwargs)

    return run_then_ctrl_c


def test_ctrl_c_writes_the_best_picture(capsys, tmp_path, tubingen, starry_night, monkeypatch):
    real_run = engine.run
    monkeypatch.setattr(engine, "run", ctrl_c_at_step_2(real_run))
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, "--size", "32", "--steps", "50")
    assert rc == 130
    last = err.strip().splitlines()[-1]
    assert last.startswith("brushwork: interrupted at step 2") and last.endswith(f"wrote {out}")
    assert "Traceback" not in err and f"wrote {out} (" not in err  # one line says it, not two
    assert Image.open(out).size == (32, 24)
    recipe = read_recipe(out)
    assert recipe["run"]["status"] == "interrupted" and recipe["run"]["steps"] == 2
    # Ctrl-C on a run that replaces a picture leaves that one and writes beside it
    before = out.read_bytes()
    rc, _, err = cli(
        capsys, tubingen, starry_night, "-o", out, "--size", "32", "--steps", "50", "--overwrite", "--save-every", "1"
    )
    spare, sheet = tmp_path / "out.unfinished-1.png", tmp_path / "out.unfinished-1_progression.png"
    assert rc == 130 and err.strip().splitlines()[-1].endswith(
        f"wrote {spare} and the progression sheet {sheet} ({out} kept as it was)"
    )
    assert out.read_bytes() == before and read_recipe(spare)["run"]["status"] == "interrupted"
    monkeypatch.setattr(engine, "run", real_run)
    again = tmp_path / "again.png"
    rc, _, err = cli(capsys, "recipe", out, "--rerun", "-o", again, "-q")
    assert rc == 0 and f"{out} was interrupted at step 2; this rerun paints all 50 steps" in err


def test_a_second_ctrl_c_while_the_picture_so_far_is_written_does_not_lose_it(
    capsys, tmp_path, tubingen, starry_night, monkeypatch
):
    import signal

    from brushwork.engine import recipes

    real_save = recipes.save_result

    def pressed_again(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # delivered at once, in the main thread
        return real_save(*args, **kwargs)

    monkeypatch.setattr(engine, "run", ctrl_c_at_step_2(engine.run))
    monkeypatch.setattr(recipes, "save_result", pressed_again)
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, "--size", "32", "--steps", "50")
    assert rc == 130 and err.strip().splitlines()[-1].endswith(f"wrote {out}"), err
    assert read_recipe(out)["run"]["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C stops the next run again


def test_a_burst_of_ctrl_c_cannot_cut_short_the_run_handing_back_the_picture_the_first_stopped_at(
    capsys, tmp_path, tubingen, starry_night, ctrl_c_burst
):
    """The first Ctrl-C stops the run; one pressed while the run builds its picture so far (before any save) is
    ignored: before, it escaped as Ctrl-C before painting, and nothing was written."""
    import signal

    ctrl_c_burst(engine)
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, "--size", "32", "--steps", "50")
    assert rc == 130 and err.strip().splitlines()[-1].startswith("brushwork: interrupted at step 2"), err
    assert read_recipe(out)["run"]["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C stops the next run again


def test_deaf_to_stops_is_only_for_the_main_thread_which_alone_receives_signals():
    import signal
    import threading

    from brushwork.core.interrupts import deaf_to_stops

    seen = []

    def elsewhere():
        with deaf_to_stops():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]
    with deaf_to_stops():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_on_a_replacing_run_keeps_the_earlier_runs_snapshots(
    capsys, tmp_path, tubingen, starry_night, monkeypatch
):
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST, "--save-every", "1", "-q")
    assert rc == 0, err
    earlier = {p.name: p.read_bytes() for p in (tmp_path / "out_steps").iterdir()}
    sheet = (tmp_path / "out_progression.png").read_bytes()
    assert len(earlier) == 2
    monkeypatch.setattr(engine, "run", ctrl_c_at_step_2(engine.run))
    rc, _, err = cli(
        capsys, tubingen, starry_night, "-o", out, "--size", "32", "--steps", "50", "--overwrite", "--save-every", "1"
    )
    assert rc == 130 and err.strip().endswith(f"({out} kept as it was)")
    assert {p.name: p.read_bytes() for p in (tmp_path / "out_steps").iterdir()} == earlier
    assert (tmp_path / "out_progression.png").read_bytes() == sheet
    unfinished = sorted(p.name for p in (tmp_path / "out.unfinished-1_steps").iterdir())
    assert unfinished == ["step_00001.png", "step_00002.png"]
    assert not list(tmp_path.glob("*.partial-*"))  # the snapshots' own folder is gone once they are in place


def test_options_may_come_between_the_photo_and_its_paintings(capsys, tmp_path, tubingen, starry_night, wave):
    rc, out, err = cli(capsys, tubingen, "--size", "32", starry_night, "-o", tmp_path / "x.png", wave, "--plan")
    assert rc == 0 and "2 paintings" not in err and out.startswith("plan: 32x24 px"), err
    fox = Path(__file__).parents[2] / "brushwork/examples/video/fox.mp4"
    rc, out, err = cli(capsys, "video", fox, "--size", "32", starry_night, "--end", "0.1", wave, "--plan")
    assert rc == 0 and out.startswith("plan of the first frame: 32x"), err


def test_ctrl_c_before_painting(capsys, tmp_path, tubingen, starry_night, monkeypatch):
    import brushwork.engine.inputs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(brushwork.engine.inputs, "load_image", interrupted)
    out = tmp_path / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST, "--save-every", "1")
    assert rc == 130 and len(err.strip().splitlines()) == 1 and "nothing written" in err
    assert not list(tmp_path.iterdir())  # no picture, and no empty snapshot folder


def test_diverged_run_exits_1_with_last_good_picture(capsys, tmp_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    rc, _, err = cli(
        capsys,
        tubingen,
        starry_night,
        "-o",
        out,
        "--size",
        "32",
        "--steps",
        "10",
        "--optimizer",
        "lbfgs",
        "--lr",
        "255",
        "-q",
    )
    assert rc == 1
    assert "NaN" in err and "Traceback" not in err
    assert read_recipe(out)["run"]["status"] == "diverged"
    with Image.open(out) as written:  # strict JSON, as other tools read it: the losses that blew up are null
        recipe = json.loads(written.text[RECIPE_KEY], parse_constant=lambda word: pytest.fail(f"{word} in the recipe"))
    assert recipe["run"]["losses"]["total"] is None
    picture = pixels(out).astype(float)
    photo = np.asarray(Image.open(tubingen).convert("RGB").resize((32, 24), Image.Resampling.LANCZOS), float)
    assert picture.std() > 20 and np.corrcoef(picture.ravel(), photo.ravel())[0, 1] > 0.9


def test_save_every_writes_snapshots_and_sheet(capsys, tmp_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    rc, _, err = cli(
        capsys,
        tubingen,
        starry_night,
        "-o",
        out,
        "--size",
        "32",
        "--steps",
        "4",
        "--save-every",
        "2",
        "--optimizer",
        "adam",
        "--swd-weight",  # the sliced-Wasserstein term's random draws make so short a run's loss noisy
        "0",
    )
    assert rc == 0, err
    snaps = sorted((tmp_path / "out_steps").iterdir())
    assert [p.name for p in snaps] == ["step_00002.png", "step_00004.png"]
    assert read_recipe(snaps[0])["snapshot_step"] == 2
    assert Image.open(snaps[1]).size == (32, 24)
    sheet = tmp_path / "out_progression.png"
    assert f"progression sheet {sheet}" in err
    with Image.open(sheet) as img:
        assert img.width == 8 + 2 * (32 + 8)  # two cells of the picture's width, with gaps
    assert not same(pixels(snaps[0]), pixels(snaps[1]))
    # a rerun repeats the snapshots too, and refuses (before any work) to replace another run's
    again = tmp_path / "again.png"
    (tmp_path / "again_steps").mkdir()
    shutil.copy(snaps[0], tmp_path / "again_steps" / "step_00002.png")
    rc, _, err = cli(capsys, "recipe", out, "--rerun", "-o", again)
    assert "already holds snapshots" in assert_one_line_error(rc, err) and not again.exists()
    rc, _, err = cli(capsys, "recipe", out, "--rerun", "-o", again, "--overwrite", "-q")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "again_steps").iterdir()) == ["step_00002.png", "step_00004.png"]
    assert (tmp_path / "again_progression.png").exists()


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


@pytest.fixture(scope="module")
def painted(tmp_path_factory, tubingen, starry_night):
    """One small finished run, with its inputs copied into a folder of their own."""
    folder = tmp_path_factory.mktemp("painted")
    content, style = folder / "photo.jpg", folder / "painting.jpg"
    shutil.copy(tubingen, content)
    shutil.copy(starry_night, style)
    out = folder / "out.png"
    rc = main([str(content), str(style), "-o", str(out), *FAST, "--seed", "7", "--optimizer", "adam", "-q"])
    assert rc == 0
    return out, content, style


def test_recipe_prints_json(capsys, painted):
    out, content, style = painted
    rc, stdout, err = cli(capsys, "recipe", out)
    assert rc == 0 and err == ""
    recipe = json.loads(stdout)
    assert recipe["brushwork"] == brushwork.__version__
    assert recipe["seed"] == 7 and recipe["settings"]["seed"] == 7
    assert recipe["settings"]["size"] == 32 and recipe["settings"]["steps"] == 2
    assert recipe["settings"]["optimizer"] == "adam"
    assert [(i["role"], i["name"], i["sha256"]) for i in recipe["inputs"]] == [
        ("content", "photo.jpg", sha256(content)),
        ("style", "painting.jpg", sha256(style)),
    ]
    assert recipe["run"]["status"] == "done" and recipe["run"]["steps"] == 2
    assert set(recipe["run"]["losses"]) == {"content", "style", "tv", "total"}


def test_recipe_rerun_reproduces_the_picture(capsys, painted, tmp_path):
    out, _, _ = painted
    new = tmp_path / "again.png"
    rc, _, err = cli(capsys, "recipe", out, "--rerun", "-o", new, "-q")
    assert rc == 0, err
    assert same(pixels(new), pixels(out))
    assert read_recipe(new)["settings"] == read_recipe(out)["settings"]
    # the rerun never writes over its own output either
    before = new.read_bytes()
    rc, _, err = cli(capsys, "recipe", out, "--rerun", "-o", new, "-q")
    assert "already exists" in assert_one_line_error(rc, err)
    assert new.read_bytes() == before


def test_recipe_rerun_errors(capsys, painted, tmp_path):
    out, content, _ = painted
    rc, _, err = cli(capsys, "recipe", out, "--rerun")
    assert "-o" in assert_one_line_error(rc, err)
    # an input whose contents changed since the run is not silently used
    moved = tmp_path / "copy.png"
    shutil.copy(out, moved)
    saved = content.read_bytes()
    try:
        content.write_bytes(saved + b"\0")
        rc, _, err = cli(capsys, "recipe", moved, "--rerun", "-o", tmp_path / "x.png")
        line = assert_one_line_error(rc, err)
        assert "photo.jpg" in line and "has changed since the picture was made" in line and "--allow-changed" in line
        assert "put it at" not in line  # it is there: saying where to put it would not help
        rc, _, err = cli(capsys, "recipe", moved, "--rerun", "-o", tmp_path / "x.png", "--allow-changed", "-q")
        assert rc == 0, err
        assert read_recipe(tmp_path / "x.png")["inputs"][0]["sha256"] == sha256(content)  # the file as it is now
    finally:
        content.write_bytes(saved)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(moved, elsewhere / "copy.png")
    shutil.copy(content, elsewhere / "photo.jpg")
    content.rename(content.with_name("gone.jpg"))  # a photo moved away: found beside the picture, and said so
    try:
        rc, _, err = cli(capsys, "recipe", elsewhere / "copy.png", "--rerun", "-o", tmp_path / "z.png", "-q")
        assert rc == 0 and err.strip() == (
            f"brushwork: note: photo.jpg is not at {content.resolve()}; "
            f"using {elsewhere / 'photo.jpg'} (the same bytes)"
        )
    finally:
        content.with_name("gone.jpg").rename(content)
    content.rename(content.with_name("gone.jpg"))  # a photo moved away: the line says where to put it
    try:
        rc, _, err = cli(capsys, "recipe", moved, "--rerun", "-o", tmp_path / "y.png")
        line = assert_one_line_error(rc, err)
        assert "cannot find the content image photo.jpg" in line and "beside copy.png" in line
    finally:
        content.with_name("gone.jpg").rename(content)


def test_a_starting_image_is_a_recipe_input_found_and_checked_like_the_others(capsys, tmp_path, tubingen, starry_night):
    """``--init FILE`` is hashed into the recipe: a rerun from another folder finds it beside the picture, and one
    edited since is refused (not painted from without a word)."""
    folder = tmp_path / "made"
    folder.mkdir()
    start = folder / "start.png"
    Image.new("RGB", (64, 48), (30, 90, 160)).save(start)
    out = folder / "out.png"
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, *FAST, "--optimizer", "adam", "--init", start, "-q")
    assert rc == 0, err
    assert read_recipe(out)["inputs"][-1] == {
        "role": "init",
        "name": "start.png",
        "path": str(start.resolve()),
        "sha256": sha256(start),
    }
    elsewhere = tmp_path / "elsewhere"
    shutil.move(folder, elsewhere)  # the picture and its starting image moved together
    rc, _, err = cli(capsys, "recipe", elsewhere / "out.png", "--rerun", "-o", tmp_path / "again.png", "-q")
    assert rc == 0, err
    assert same(pixels(tmp_path / "again.png"), pixels(elsewhere / "out.png"))
    Image.new("RGB", (64, 48), (200, 20, 20)).save(elsewhere / "start.png")
    rc, _, err = cli(capsys, "recipe", elsewhere / "out.png", "--rerun", "-o", tmp_path / "third.png")
    assert "start.png" in assert_one_line_error(rc, err) and not (tmp_path / "third.png").exists()


def test_a_starting_image_of_another_shape_is_noted_in_the_plan(capsys, tmp_path, tubingen, starry_night):
    Image.new("RGB", (48, 64), (30, 90, 160)).save(tmp_path / "tall.png")
    Image.new("RGB", (64, 48), (30, 90, 160)).save(tmp_path / "wide.png")
    rc, out, err = cli(capsys, tubingen, starry_night, *FAST, "--init", tmp_path / "tall.png", "--plan")
    assert rc == 0, err
    assert "the start picture tall.png (48x64) is another shape than the photo (" in out
    rc, out, err = cli(capsys, tubingen, starry_night, *FAST, "--init", tmp_path / "wide.png", "--plan")
    assert rc == 0 and "start picture" not in out, err


def test_recipe_of_a_picture_without_one(capsys, tmp_path, tubingen):
    rc, _, err = cli(capsys, "recipe", tubingen)
    assert "no brushwork recipe" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, "recipe", tmp_path / "missing.png")
    assert "not found" in assert_one_line_error(rc, err)


def test_sheet(capsys, tmp_path, tubingen, starry_night):
    out = tmp_path / "sheet.png"
    rc, _, err = cli(
        capsys, "sheet", tubingen, starry_night, "-o", out, "--labels", "photo,painting", "--title", "inputs"
    )
    assert rc == 0, err
    with Image.open(out) as img:
        assert img.width == 8 + 2 * (320 + 8)
        assert np.asarray(img.convert("L")).std() > 10
    rc, _, err = cli(capsys, "sheet", tubingen, starry_night, "-o", out)
    assert "already exists" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, "sheet", tubingen, "-o", tmp_path / "s2.png", "--labels", "a,b")
    assert "one label per picture" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, "sheet", tubingen, "-o", tmp_path / "s3.png", "--columns", "0")
    assert "columns" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, "sheet", _text_as_jpg(tmp_path), "-o", tmp_path / "s4.png")
    assert "not an image" in assert_one_line_error(rc, err)


def test_version(capsys):
    rc, out, _ = cli(capsys, "--version")
    assert rc == 0 and out.strip() == f"brushwork {brushwork.__version__}"


@pytest.mark.slow
def test_console_script(tmp_path, tubingen, starry_night):
    script = Path(sys.executable).with_name("brushwork")
    if not script.exists():
        pytest.skip("the brushwork console script is not installed next to this Python")
    out = tmp_path / "out.jpg"
    proc = subprocess.run(
        [str(script), str(tubingen), str(starry_night), "-o", str(out), *FAST, "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == ""
    assert Image.open(out).size == (32, 24)
    assert read_recipe(out)["settings"]["size"] == 32


def test_the_command_line_starts_before_torch_loads_so_an_early_ctrl_c_is_one_line():
    """``main`` catches Ctrl-C; importing torch at package import would take one outside it, as a traceback."""
    script = "import sys, brushwork.cli; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_settings_errors_name_the_option_by_lookup_and_leave_the_users_words_alone():
    from brushwork.cli.kit import describe
    from brushwork.core.errors import SettingsError

    assert describe(SettingsError("must be at least 0, not -1", "style_weight")) == (
        "--style-weight must be at least 0, not -1"
    )
    assert describe(SettingsError("unknown preset 'steps 2'; choose one of paper, seed", "preset")) == (
        "--preset unknown preset 'steps 2'; choose one of paper, seed"
    )
    assert describe(SettingsError("give at least one painting")) == "give at least one painting"


@pytest.mark.slow
def test_a_preset_keeps_every_option_the_user_typed(capsys, tmp_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    rc, _, err = cli(
        capsys,
        tubingen,
        starry_night,
        "-o",
        out,
        "--preset",
        "seed",
        "--size",
        "32",
        "--steps",
        "2",
        "--style-weight",
        "100",
        "--tv-weight=0",
        "-q",
    )
    assert rc == 0, err
    settings = read_recipe(out)["settings"]
    assert (settings["optimizer"], settings["style_weight"], settings["tv_weight"]) == ("adam", 100, 0)


@pytest.mark.slow
def test_sigterm_and_sighup_write_the_best_picture_like_ctrl_c(tmp_path, tubingen, starry_night):
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        out = tmp_path / f"out_{sig.name}.png"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brushwork",
                str(tubingen),
                str(starry_night),
                "-o",
                str(out),
                "--size",
                "48",
                "--steps",
                "1000",
                "--tolerance",
                "0",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        seen = ""
        deadline = time.monotonic() + 120
        while "1/" not in seen and "2/" not in seen:  # the bar has counted a step: painting has begun
            assert time.monotonic() < deadline and proc.poll() is None, seen
            seen += proc.stderr.read(1)
        proc.send_signal(sig)
        _, rest = proc.communicate(timeout=120)
        assert proc.returncode == 130, seen + rest
        assert "interrupted at step" in rest and "Traceback" not in rest
        assert read_recipe(out)["run"]["status"] == "interrupted"


def test_a_closed_pipe_ends_quietly(painted):
    out, _, _ = painted
    done = subprocess.run(
        f"{sys.executable} -m brushwork recipe {out} | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == '{\n  "brush' and done.stderr == ""


def test_outputs_that_cannot_be_written_are_refused_before_painting(capsys, tmp_path, tubingen, starry_night):
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", "/proc/brushwork_out.png", *FAST)
    assert "cannot write to folder /proc" in assert_one_line_error(rc, err)
    (tmp_path / "file.jpg").write_bytes(b"a picture, not a folder")
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "file.jpg" / "o.png", *FAST)
    assert "file.jpg is a file, not a folder" in assert_one_line_error(rc, err)


def test_overwrite_clears_an_earlier_runs_snapshots(capsys, tmp_path, tubingen, starry_night):
    (tmp_path / "out_steps").mkdir()
    (tmp_path / "out_steps" / "step_00300.png").write_bytes(b"from a longer earlier run")
    rc, _, err = cli(
        capsys, tubingen, starry_night, "-o", tmp_path / "out.png", *FAST, "--save-every", "1", "--overwrite", "-q"
    )
    assert rc == 0, err
    names = sorted(p.name for p in (tmp_path / "out_steps").iterdir())
    assert names and "step_00300.png" not in names


def test_public_names_and_layer_packages_load_on_first_use():
    script = (
        "import brushwork, brushwork.model.network as network; "
        "print(network.load_vgg19.__name__, brushwork.Settings().size, brushwork.model.network is network)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["load_vgg19", "512", "True"]


# -- the plan: shown before a run, printed alone with --plan, and a run that cannot fit refused first ---------


def test_plan_prints_the_plan_and_paints_nothing(capsys, tmp_path, tubingen, starry_night):
    rc, out, err = cli(capsys, tubingen, starry_night, "--plan", "--size", "4096", "--tile-size", "1024")
    assert rc == 0, err
    assert "4096x3072 px in 6 levels" in out and "tiles of 1024 px (+80 px margin)" in out and "peak memory" in out
    assert "seen at 2048 px, not 4096" in out  # the painting (1024 px wide) is not blown up past twice its size
    assert not list(tmp_path.iterdir())


def test_a_run_shows_its_plan_first(capsys, tmp_path, tubingen, starry_night):
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "out.png", *FAST)
    assert rc == 0, err
    assert err.index("plan: 32x24 px") < err.index("wrote")


def test_an_output_is_required_without_plan(capsys, tubingen, starry_night):
    rc, _, err = cli(capsys, tubingen, starry_night, *FAST)
    assert "required: -o/--output" in assert_one_line_error(rc, err)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--tile-size", "40"], "--tile-size 40 px is smaller than the 80 px margin"),
        (["--size", "9000"], "--size must be at most 8192"),
        (["--steps", "1000000000"], "--steps must be at most 100000, not 1000000000"),  # not 1e+09
    ],
)
def test_bad_print_settings_are_one_line_errors(capsys, tmp_path, tubingen, starry_night, args, words):
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "out.png", *args)
    assert words in assert_one_line_error(rc, err)
    assert not list(tmp_path.iterdir())


def test_a_run_that_cannot_fit_is_refused_before_any_work(capsys, tmp_path, tubingen, starry_night, monkeypatch):
    from brushwork.planning.machine import GB, Machine

    tiny = Machine("cpu", "a small machine", int(0.5 * GB), int(0.4 * GB), 4, 0.5, 1.0)
    monkeypatch.setattr(inputs, "measure", lambda *args: tiny)
    monkeypatch.setattr(engine, "run", lambda *a, **k: pytest.fail("painted a run that cannot fit"))
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "out.png", "--size", "8192")
    assert "--size 8192 needs" in assert_one_line_error(rc, err) and "even in tiles" in err and "or less" in err
    assert not list(tmp_path.iterdir())


def test_help_and_a_bare_brushwork_list_every_command(capsys):
    from brushwork.cli import COMMANDS

    rc, out, _ = cli(capsys, "--help")
    listed = out.split("other commands")[1]
    assert rc == 0 and all(f"\n  {name} " in listed for name in COMMANDS)
    assert "'brushwork video'" in out and "'brushwork batch'" in out
    rc, _, err = cli(capsys)  # typed alone: the usage and the commands, as git does
    assert rc == 2 and err.startswith("usage: brushwork") and all(f"\n  {name} " in err for name in COMMANDS)


def test_a_misspelt_command_is_named_not_taken_for_a_photo(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for typed, meant in (("vidoe", "video"), ("recpie", "recipe"), ("Serve", "serve")):
        rc, _, err = cli(capsys, typed, "fox.mp4", "wave.jpg", "-o", "v.mp4")
        assert f"no command or file {typed!r}; did you mean 'brushwork {meant}'?" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, "sheet.png", "wave.jpg", "-o", "out.png")  # a file's name: a missing photo
    assert "sheet.png" in assert_one_line_error(rc, err) and "did you mean" not in err
    Path("vidoe").write_bytes(b"")  # a file of that name is a photo, whatever it looks like
    rc, _, err = cli(capsys, "vidoe", "wave.jpg", "-o", "out.png")
    assert "did you mean" not in assert_one_line_error(rc, err)


def test_no_input_is_written_over_by_the_picture_or_its_snapshots(capsys, tmp_path, tubingen, starry_night):
    start = tmp_path / "start.png"
    shutil.copy(tubingen, start)
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", start, "--init", start, "--overwrite", *FAST)
    assert "is one of the inputs" in assert_one_line_error(rc, err) and start.read_bytes() == tubingen.read_bytes()
    (tmp_path / "y_steps").mkdir()
    inside = tmp_path / "y_steps" / "step_00002.png"
    sheet = tmp_path / "y_progression.png"
    for photo in (inside, sheet):
        shutil.copy(tubingen, photo)
        rc, _, err = cli(
            capsys, photo, starry_night, "-o", tmp_path / "y.png", "--save-every", "1", "--overwrite", *FAST
        )
        assert "lies where --save-every puts its pictures" in assert_one_line_error(rc, err)
        assert photo.read_bytes() == tubingen.read_bytes()


def test_a_painting_that_cannot_be_written_is_kept_elsewhere(capsys, tmp_path, tubingen, starry_night, monkeypatch):
    from brushwork.core.errors import DiskFull
    from brushwork.engine import recipes

    real = recipes.save

    def full_at(name, refused, advice):
        def save(image, path, *args, **kwargs):
            if Path(path).name == name:
                raise refused(f"cannot write {path}: No space left on device; {advice}")
            return real(image, path, *args, **kwargs)

        return save

    monkeypatch.setattr(recipes, "save", full_at("out.png", ImageError, "choose another output path"))
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "out.png", *FAST, "-q")
    kept = tmp_path / "out.unsaved-1.png"
    assert f"No space left on device; choose another output path; the painting is kept in {kept}" in err
    assert rc == 2 and read_recipe(kept)["run"]["status"] == "done"
    # the disk filled while it painted: not a usage error
    monkeypatch.setattr(recipes, "save", full_at("full.png", DiskFull, "free some space and try again"))
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", tmp_path / "full.png", *FAST, "-q")
    kept = tmp_path / "full.unsaved-1.png"
    assert rc == 1 and f"free some space and try again; the painting is kept in {kept}" in err, err


def test_a_plan_says_what_the_run_would_note(capsys, tmp_path, tubingen, starry_night):
    sky = Image.new("L", (512, 384), 0)
    sky.paste(255, (0, 0, 512, 150))
    sky.save(tmp_path / "sky.png")
    rc, out, err = cli(capsys, tubingen, starry_night, *FAST, "--keep", tmp_path / "sky.png", "--plan")
    assert rc == 0 and "keep mask sky.png is 512x384: resized to the photo's 1024x768" in out, err
    rc, out, err = cli(capsys, tubingen, starry_night, *FAST, "--save-every", "50", "--plan")
    assert rc == 0 and "a snapshot every 50 steps is more than the run's 2: none is taken" in out, err
    rc, _, err = cli(capsys, tubingen, starry_night, *FAST, "--save-every", "50", "-o", tmp_path / "s.png", "-q")
    assert rc == 0 and not (tmp_path / "s_steps").exists(), err  # no empty snapshot folder left


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--lr-schedule", "5:0.1,5:0.2"], "--lr-schedule gives step 5 two rates"),
        (["--init", "Palette"], "--init takes content, palette, noise in small letters, or a picture's path"),
    ],
)
def test_schedules_and_starts_that_cannot_be_meant(capsys, tmp_path, tubingen, starry_night, argv, words):
    rc, _, err = cli(capsys, tubingen, starry_night, *FAST, *argv, "-o", tmp_path / "x.png")
    assert words in assert_one_line_error(rc, err)


def test_recipe_options_of_a_rerun_need_it_and_help_is_a_command(capsys, painted):
    out, _, _ = painted
    rc, _, err = cli(capsys, "recipe", out, "-o", "x.png")
    assert "-o goes with --rerun" in assert_one_line_error(rc, err)
    rc, stdout, _ = cli(capsys, "help", "video")
    assert rc == 0 and stdout.startswith("usage: brushwork video")


def test_weights_of_ones_own_are_a_recipe_input_found_and_checked(capsys, tmp_path, encoder, tubingen, starry_night):
    import torch

    from brushwork.model.network import CONV_SHAPES

    folder = tmp_path / "made"
    folder.mkdir()
    state = {}
    for name, index in zip(CONV_SHAPES, [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]):  # torchvision's
        state[f"features.{index}.weight"] = encoder.convs[name].weight.detach().clone()
        state[f"features.{index}.bias"] = encoder.convs[name].bias.detach().clone()
    torch.save(state, folder / "mine.pt")
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", folder / "out.png", *FAST, "--weights", folder / "mine.pt")
    assert rc == 0, err
    assert read_recipe(folder / "out.png")["inputs"][-1]["role"] == "weights"
    shutil.move(folder, tmp_path / "moved")  # the picture and its weights moved together
    rc, _, err = cli(capsys, "recipe", tmp_path / "moved" / "out.png", "--rerun", "-o", tmp_path / "again.png", "-q")
    assert rc == 0, err
    state["features.0.bias"] += 1  # the weights changed since: refused, not painted with them
    torch.save(state, tmp_path / "moved" / "mine.pt")
    rc, _, err = cli(capsys, "recipe", tmp_path / "moved" / "out.png", "--rerun", "-o", tmp_path / "third.png")
    assert "mine.pt" in assert_one_line_error(rc, err) and not (tmp_path / "third.png").exists()


def test_an_unknown_option_is_named_not_the_value_after_it(capsys, tmp_path):
    rc, _, err = cli(capsys, "figures", "--out-dir", tmp_path / "x", "mondrian")
    assert "unrecognized option --out-dir; did you mean --out?" in assert_one_line_error(rc, err)
    assert not (tmp_path / "x").exists()
    for given, meant in (("--init-image", "--init"), ("--tile", "--tile-size"), ("--stlye-weight", "--style-weight")):
        rc, _, err = cli(capsys, "photo.jpg", "painting.jpg", given, "1")
        assert f"unrecognized option {given}; did you mean {meant}?" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, "photo.jpg", "painting.jpg", "--style", "1")
    assert "did you mean one of --style-weight, --style-balance, --style-layers" in assert_one_line_error(rc, err)
    rc, _, err = cli(capsys, "batch", tmp_path, tmp_path / "w.jpg", tmp_path / "out", "--plan")
    assert assert_one_line_error(rc, err).endswith("unrecognized option --plan (see brushwork batch --help)")
    rc, _, err = cli(capsys, "recipe", tmp_path / "p.png", "--rerun", "-o", tmp_path / "q.png", "--size", "128")
    assert "unrecognized option --size; recipe prints a recipe or, with --rerun, repeats its run exactly" in err


def test_the_plan_notes_inputs_used_otherwise_than_one_may_think(capsys, tmp_path, tubingen, starry_night):
    frames = [Image.new("RGB", (64, 48), colour) for colour in ((200, 0, 0), (0, 200, 0))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    Image.open(starry_night).convert("L").save(tmp_path / "grey.png")
    rc, out, err = cli(capsys, tmp_path / "anim.gif", tmp_path / "grey.png", "--preserve-color", "histogram", "--plan")
    assert rc == 0 and "anim.gif is animated (2 frames): only its first frame is used" in out, err
    assert "the painting grey.png has no colours: matching its histogram to the photo's cannot give it" in out
    Image.new("RGB", (2000, 10), (200, 50, 50)).save(tmp_path / "strip.png")
    rc, out, err = cli(capsys, tubingen, tmp_path / "strip.png", "--size", "96", "--plan")
    assert rc == 0 and "strip.png (2000x10) is seen at 3200 px, not 96: its short side must be 16 px" in out, err


def test_a_painting_transparent_all_over_is_refused_before_the_plan(capsys, tmp_path, tubingen):
    Image.new("RGBA", (64, 48), (200, 0, 0, 0)).save(tmp_path / "clear.png")
    rc, out, err = cli(capsys, tubingen, tmp_path / "clear.png", "--plan")
    assert "the painting clear.png: it is transparent all over" in assert_one_line_error(rc, err)
    assert out == ""


def test_a_value_that_starts_with_two_dashes_and_has_a_space_is_a_value(capsys, tmp_path):
    Image.new("RGB", (32, 24), (200, 0, 0)).save(tmp_path / "a.png")
    rc, _, err = cli(capsys, "sheet", tmp_path / "a.png", "-o", tmp_path / "s.png", "--title", "-- draft, v2 --")
    assert rc == 0 and (tmp_path / "s.png").exists(), err


def test_a_recipe_prints_names_as_written_or_escaped_where_the_terminal_cannot_show_them(tmp_path):
    from brushwork.engine import recipes

    picture = tmp_path / "p.png"
    photo = {"role": "content", "name": "東京.jpg", "path": "/elsewhere/東京.jpg", "sha256": "0" * 64}
    recipe = {"brushwork": brushwork.__version__, "settings": brushwork.Settings().to_dict(), "inputs": [photo]}
    recipes.save(Image.new("RGB", (8, 8)), picture, recipe)
    for encoding, shown in (("utf-8", "東京.jpg"), ("cp1252", "\\u6771\\u4eac.jpg")):
        done = subprocess.run(
            [sys.executable, "-m", "brushwork", "recipe", str(picture)],
            capture_output=True,
            env={**os.environ, "PYTHONIOENCODING": encoding},
        )
        assert done.returncode == 0 and shown in done.stdout.decode(encoding), done.stderr


def test_the_largest_weight_taken_paints_even_where_the_painting_raises_it(capsys, tmp_path, tubingen, starry_night):
    """The Starry Night's balance raises the style weights 1.74-fold: past the bound, not refused after the plan."""
    out = tmp_path / "loud.png"
    rc, _, err = cli(
        capsys, tubingen, starry_night, "-o", out, "--size", "32", "--steps", "2", "--style-weight", "1e20"
    )
    assert rc == 0 and out.exists(), err


def test_a_bar_into_a_log_draws_a_line_every_few_seconds_and_its_end(capsys, monkeypatch):
    """A run piped to a file would write a bar ten times a second: thousands of lines in a log."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with Bar("picture", "step") as bar:
        for step in range(1, 21):
            time.sleep(0.11)  # a step of a small picture
            bar.show(step, 20, f"about {20 - step} s left")
        bar.finish()
    drawn = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines() if line.strip()]
    assert len(drawn) <= 3, drawn
    assert "20/20 steps" in drawn[-1] and "done" in drawn[-1]


def test_a_snapshot_the_disk_cannot_take_ends_the_snapshots_not_the_run(
    capsys, tmp_path, tubingen, starry_night, monkeypatch
):
    from brushwork.engine import recipes

    out, save = tmp_path / "out.png", recipes.save

    def full_after_one(image, path, recipe, **kwargs):
        if recipe.get("snapshot_step", 0) > 1 or str(path).endswith("_progression.png"):
            raise ImageError(f"cannot write {path}: No space left on device; free some space and try again")
        return save(image, path, recipe, **kwargs)

    monkeypatch.setattr(recipes, "save", full_after_one)
    rc, _, err = cli(capsys, tubingen, starry_night, "-o", out, "--size", "32", "--steps", "4", "--save-every", "1")
    assert rc == 0 and out.exists(), err
    assert err.count("no more snapshots (cannot write") == 1 and "the run goes on" in err
    assert "no progression sheet (cannot write" in err and not (tmp_path / "out_progression.png").exists()
    assert [p.name for p in (tmp_path / "out_steps").iterdir()] == ["step_00001.png"]


def test_a_picture_painted_on_a_gpu_reruns_here_with_a_note(capsys, tmp_path, tubingen, starry_night):
    import torch

    from brushwork.engine import recipes

    if torch.cuda.is_available():
        pytest.skip("this machine has the GPU the picture was painted on")
    painted = tmp_path / "painted.png"
    assert cli(capsys, tubingen, starry_night, "-o", painted, *FAST, "-q")[0] == 0
    recipe = read_recipe(painted)
    recipe["settings"]["device"] = "cuda"  # as a picture painted with --device cuda records it
    recipes.save(Image.open(painted).convert("RGB"), tmp_path / "on_gpu.png", recipe)
    rc, _, err = cli(capsys, "recipe", tmp_path / "on_gpu.png", "--rerun", "-o", tmp_path / "again.png", "-q")
    assert rc == 0 and err == (
        f"brushwork: note: {tmp_path / 'on_gpu.png'} was painted on cuda, which this machine lacks; this rerun "
        "paints on cpu, so its pixels may differ a little\n"
    )
    assert read_recipe(tmp_path / "again.png")["settings"]["device"] == "auto"
