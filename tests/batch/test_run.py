"""Batches: what is collected and how it is named, resuming by keys, failures alone, Ctrl-C, the command line."""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import brushwork
from brushwork.batch.inputs import Item, batch_key, collect
from brushwork.batch.log import BatchLog
from brushwork.batch.run import BatchProgress, LocalExecutor, item_key, paint_item, run_batch
from brushwork.cli import batch as cli_batch
from brushwork.cli import main
from brushwork.core.errors import BrushworkError, ImageError, OutputExistsError, SettingsError
from brushwork.core.settings import Settings
from brushwork.engine import runner as engine
from brushwork.engine.recipes import read as read_recipe
from brushwork.media.images import load_image
from brushwork.media.masks import RegionFiles

pytestmark = pytest.mark.slow

FAST = Settings(size=64, steps=4, scales=1)
FAST_FLAGS = ["--size", "64", "--steps", "4", "--scales", "1", "-q"]


def small_copy(source: Path, target: Path) -> Path:
    """A 96 px copy of a bundled picture, so hashing and loading cost nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as img:
        img.convert("RGB").resize((96, 72)).save(target)
    return target


@pytest.fixture
def inputs(tmp_path, tubingen, starry_night, wave):
    """photos/a.jpg, photos/b.png and paintings/starry.jpg, paintings/wave.jpg, all small."""
    return {
        "a": small_copy(tubingen, tmp_path / "photos" / "a.jpg"),
        "b": small_copy(tubingen.with_name("stata.jpg"), tmp_path / "photos" / "b.png"),
        "starry": small_copy(starry_night, tmp_path / "paintings" / "starry.jpg"),
        "wave": small_copy(wave, tmp_path / "paintings" / "wave.jpg"),
    }


def cli(capsys, *argv) -> tuple[int, str]:
    try:
        rc = main(["batch", *map(str, argv)])
    except SystemExit as exc:
        rc = exc.code
    return rc, capsys.readouterr().err


def log_lines(outdir: Path) -> list[dict]:
    return [json.loads(line) for line in (outdir / "batch.jsonl").read_text().splitlines()]


def test_every_photo_with_every_painting_from_files_folders_and_globs(inputs, tmp_path):
    (tmp_path / "photos" / "notes.txt").write_text("not a picture")
    (tmp_path / "photos" / ".hidden.jpg").write_bytes(inputs["a"].read_bytes())
    items = collect([tmp_path / "photos", inputs["a"]], [str(tmp_path / "paintings" / "*.jpg")], tmp_path / "out")
    assert [(i.photo.name, [s.name for s in i.styles], i.output.name) for i in items] == [
        ("a.jpg", ["starry.jpg"], "a__starry.png"),  # the folder's pictures, sorted; a.jpg named again counts once
        ("a.jpg", ["wave.jpg"], "a__wave.png"),
        ("b.png", ["starry.jpg"], "b__starry.png"),
        ("b.png", ["wave.jpg"], "b__wave.png"),
    ]
    assert all(i.output.parent == tmp_path / "out" for i in items)

    other = small_copy(inputs["a"], tmp_path / "more" / "a.png")  # the same name from another folder
    named = {i.photo: i.output.name for i in collect([inputs["a"], other], [inputs["wave"]], tmp_path / "out")}
    assert sorted(named.values()) == ["a__wave.png", "a__wave_2.png"]
    again = {i.photo: i.output.name for i in collect([other, inputs["a"]], [inputs["wave"]], tmp_path / "out")}
    assert again == named  # the same photos in another order: the same names (a finished batch stays finished)

    for photos, styles, words in [
        ([tmp_path / "nowhere"], [inputs["wave"]], "not found"),
        ([str(tmp_path / "photos" / "*.webp")], [inputs["wave"]], "no photo pictures match"),
        ([inputs["a"]], [], "one painting"),
    ]:
        with pytest.raises(BrushworkError, match=words) as caught:
            collect(photos, styles, tmp_path / "out")
        assert "\n" not in str(caught.value)


def test_a_folders_broken_link_and_pipe_named_as_pictures_are_skipped_with_a_note(inputs, tmp_path):
    photos = tmp_path / "photos"
    (photos / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    os.mkfifo(photos / "pipe.png")
    (photos / "album.jpg").mkdir()  # a folder named like a picture: left out, unsaid
    notes: list[str] = []
    for arguments in ([photos], [str(photos / "*")], [photos, str(photos / "*")]):  # the last: said once all the same
        notes.clear()
        items = collect(arguments, [inputs["wave"]], tmp_path / "out", note=notes.append)
        assert [i.photo.name for i in items] == ["a.jpg", "b.png"]
        assert notes == [
            f"skipped photo {photos / 'gone.jpg'}: a link to a missing file",
            f"skipped photo {photos / 'pipe.png'}: not a regular file (a device, pipe or socket)",
        ]


def test_a_manifests_pair_listed_twice_is_painted_once_with_a_note(inputs, tmp_path):
    csv = tmp_path / "photos" / "pairs.csv"
    (tmp_path / "photos" / "link.jpg").symlink_to(inputs["a"])
    csv.write_text(
        "photo,style,output\na.jpg,../paintings/wave.jpg,\nb.png,../paintings/wave.jpg,\n"
        f"./a.jpg,../paintings/wave.jpg,\n{inputs['a']},../paintings/wave.jpg,\nlink.jpg,../paintings/wave.jpg,\n"
        "a.jpg,../paintings/wave.jpg,copy.png\n"
    )
    notes: list[str] = []
    items = collect([], [], tmp_path / "out", csv, note=notes.append)
    assert [i.output.name for i in items] == ["a__wave.png", "b__wave.png", "copy.png"]  # a named output is painted
    assert notes == [f"manifest {csv}, row {n} repeats row 2; painted once" for n in (4, 5, 6)]


def test_manifests_list_pairs_relative_to_themselves(inputs, tmp_path):
    csv = tmp_path / "photos" / "pairs.csv"
    csv.write_text("photo,style,output\na.jpg,../paintings/wave.jpg,\nb.png,../paintings/starry.jpg,mine.jpg\n")
    items = collect([], [], tmp_path / "out", csv)
    assert items == [
        Item(inputs["a"], (inputs["wave"],), tmp_path / "out" / "a__wave.png"),
        Item(inputs["b"], (inputs["starry"],), tmp_path / "out" / "mine.jpg"),
    ]
    csv.write_text(csv.read_text().replace("photo,style,output", "Photo, Style, Output"))  # as a spreadsheet saves it
    assert collect([], [], tmp_path / "out", csv) == items
    manifest = tmp_path / "pairs.json"
    manifest.write_text(
        json.dumps(
            [
                {"photo": "photos/a.jpg", "styles": ["paintings/starry.jpg", "paintings/wave.jpg"]},
                {"photo": "photos/b.png", "style": "paintings/wave.jpg", "output": "b.webp"},
                {"photo": "photos/b.png", "styles": "paintings/starry.jpg"},
            ]
        )
    )
    items = collect([], [], tmp_path / "out", manifest)
    assert [(i.photo, i.styles, i.output.name) for i in items] == [
        (inputs["a"], (inputs["starry"], inputs["wave"]), "a__starry+wave.png"),
        (inputs["b"], (inputs["wave"],), "b.webp"),
        (inputs["b"], (inputs["starry"],), "b__starry.png"),
    ]
    csv.write_text("photo,style,style2\na.jpg,../paintings/wave.jpg,../paintings/starry.jpg\n")
    with pytest.raises(
        BrushworkError,
        match="has a column 'style2'; its columns are photo, style, output, masks, keep, painting_masks",
    ):
        collect([], [], tmp_path / "out", csv)
    for text, words in [
        ('{"photo": "a.jpg"}', "must hold a list"),
        ('[{"photo": "a.jpg"}]', "item 1: needs a photo and at least one style"),
        ('[{"photo": "a.jpg", "style": "s.jpg", "output": "../x.png"}]', "must be a file name alone, with no folder"),
        ('[{"photo": "a.jpg", "style": "s.jpg", "output": "x.tif"}]', "must be a file name ending in .png, .jpg"),
        ("[", "not valid JSON"),
        ("[]", "lists no pictures"),
    ]:
        manifest.write_text(text)
        with pytest.raises(BrushworkError, match=words):
            collect([], [], tmp_path / "out", manifest)
    with pytest.raises(BrushworkError, match="not both"):
        collect([inputs["a"]], [inputs["wave"]], tmp_path / "out", csv)


def test_a_second_run_skips_by_keys_and_changes_are_painted_again(inputs, tmp_path):
    out = tmp_path / "out"
    items = collect([inputs["a"], inputs["b"]], [inputs["wave"]], out)
    seen: list[BatchProgress] = []
    first = run_batch(items, FAST, out, callback=seen.append)
    assert (first.status, first.done, first.failed, first.skipped) == ("done", 2, 0, 0)
    assert seen[0].item is None and seen[0].left == 2 and seen[0].eta is None
    assert (seen[1].done, seen[1].left) == (1, 1) and seen[1].eta is not None and seen[-1].left == 0
    for item in items:
        assert read_recipe(item.output)["batch_key"] == item_key(item, FAST)
    records = log_lines(out)
    assert [(r["status"], Path(r["output"]).name, r["steps"], r["error"]) for r in records] == [
        ("done", "a__wave.png", 4, ""),
        ("done", "b__wave.png", 4, ""),
    ]
    assert pickle.loads(pickle.dumps((items, FAST, first.records))) == (items, FAST, first.records)  # for workers

    log_before = (out / "batch.jsonl").read_bytes()
    stamps = {item.output: item.output.stat().st_mtime_ns for item in items}
    again = run_batch(items, FAST, out)
    assert (again.done, again.skipped, again.records) == (0, 2, [])
    assert (out / "batch.jsonl").read_bytes() == log_before
    assert {item.output: item.output.stat().st_mtime_ns for item in items} == stamps

    small_copy(inputs["a"], inputs["b"])  # b's bytes change, its name does not
    with pytest.raises(OutputExistsError, match="b__wave.png already exists .painted by a batch from other inputs"):
        run_batch(items, FAST, out)  # an earlier picture is never replaced without being allowed to
    assert {item.output: item.output.stat().st_mtime_ns for item in items} == stamps
    edited = run_batch(items, FAST, out, overwrite=True)
    assert (edited.done, edited.skipped) == (1, 1) and edited.records[0].photo == str(inputs["b"])
    assert items[0].output.stat().st_mtime_ns == stamps[items[0].output]

    with pytest.raises(OutputExistsError, match="a__wave.png already exists .* as are 1 more in "):
        run_batch(items, FAST.replace(seed=1), out)
    reseeded = run_batch(items, FAST.replace(seed=1), out, overwrite=True)
    assert (reseeded.done, reseeded.skipped) == (2, 0)
    assert len(log_lines(out)) == 5


def test_same_seed_same_picture_as_the_engine(inputs, tmp_path):
    [item] = collect([inputs["a"]], [inputs["starry"]], tmp_path)
    record = paint_item(item, FAST)
    assert record.status == "done" and record.key == item_key(item, FAST)
    alone = engine.run(load_image(inputs["a"]), [load_image(inputs["starry"])], FAST)
    with Image.open(item.output) as painted:
        assert np.array_equal(np.asarray(painted.convert("RGB")), np.asarray(alone.image))


def test_an_item_stopped_after_some_steps_logs_the_time_it_spent_painting(inputs, tmp_path):
    [item] = collect([inputs["a"]], [inputs["starry"]], tmp_path)
    record = paint_item(item, FAST.replace(steps=10), callback=lambda p: p.step < 3)
    assert (record.status, record.steps) == ("interrupted", 3) and not item.output.exists()
    assert 0 < record.painting <= record.seconds  # not 0.0: three steps were painted
    kept = Path(record.kept)  # the picture so far, beside the output: the next run paints the item again
    assert kept == tmp_path / "a__starry.unfinished-1.png" and record.kept in record.error
    assert read_recipe(kept)["run"]["status"] == "cancelled" and batch_key(kept) == record.key


def test_a_bad_input_fails_alone_with_its_reason_and_exit_status_1(capsys, inputs, tmp_path):
    (tmp_path / "photos" / "broken.jpg").write_text("these are not pixels\n")
    small_copy(inputs["a"], tmp_path / "photos" / "c.jpg")
    out = tmp_path / "out"
    out.mkdir()
    foreign = inputs["b"].read_bytes()
    (out / "c__wave.png").write_bytes(foreign)  # someone else's picture: never replaced
    inputs["b"].unlink()
    rc, err = cli(capsys, tmp_path / "photos", "--styles", inputs["wave"], "-o", out, *FAST_FLAGS)
    assert rc == 1 and "Traceback" not in err
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 2  # the user's picture at an output is found before any painting, the broken photo when read
    assert "c.jpg with wave.jpg" in failed[0] and "no batch painted it" in failed[0]
    assert "broken.jpg with wave.jpg -> broken__wave.png: photo" in failed[1] and "not an image" in failed[1]
    assert err.splitlines()[-1].startswith("brushwork batch: 1 done, 2 failed (see ")
    records = {Path(r["photo"]).name: r for r in log_lines(out)}
    assert records["a.jpg"]["status"] == "done" and (out / "a__wave.png").exists()
    assert records["broken.jpg"]["status"] == "failed" and "\n" not in records["broken.jpg"]["error"]
    assert not (out / "broken__wave.png").exists()
    assert (out / "c__wave.png").read_bytes() == foreign


@pytest.mark.parametrize(
    "argv, words",
    [
        (["nowhere.jpg", "--styles", "{wave}", "-o", "{out}"], "not found"),
        (["{a}", "--styles", "{wave}", "-o", "{a}"], "is a file"),
        (["{a}", "-o", "{out}"], "give PHOTOS and --styles"),
        (["--styles", "{wave}", "{a}", "-o", "{out}"], "no PHOTOS: --styles takes every name after it"),
        (["{a}", "--styles", "{wave}", "-o", "{out}", "--style-blend", "1,2"], "--style-blend needs one weight"),
        (["{a}", "--styles", "{wave}", "-o", "{out}", "--save-every", "2"], "unrecognized option --save-every"),
        (["{a}", "--styles", "{wave}", "-o", "{out}", "--workers", "2"], "--workers only applies with --ray"),
        (
            ["{fox}", "--styles", "{wave}", "-o", "{out}"],
            "is a video clip, not a picture; paint a clip with 'brushwork video'",
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_status_2(capsys, inputs, tmp_path, argv, words):
    fox = Path(__file__).resolve().parents[2] / "brushwork/examples/video/fox.mp4"
    values = {"wave": inputs["wave"], "a": inputs["a"], "out": tmp_path / "out", "fox": fox}
    rc, err = cli(capsys, *(arg.format(**values) for arg in argv))
    assert rc == 2 and len(err.strip().splitlines()) == 1 and words in err
    assert not (tmp_path / "out").exists()


def test_ctrl_c_keeps_the_picture_so_far_writes_nothing_half_and_the_same_run_goes_on(
    inputs, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    items = collect([inputs["a"], inputs["b"]], [inputs["wave"]], out)

    def pressed_at_step_2(p: engine.Progress) -> None:
        if p.step == 2:
            raise KeyboardInterrupt

    stopped = run_batch(items, FAST, out, execute=LocalExecutor(steps=pressed_at_step_2))
    assert (stopped.status, stopped.done, stopped.left) == ("interrupted", 0, 2)
    assert [r["status"] for r in log_lines(out)] == ["interrupted"]
    kept = ["a__wave.unfinished-1.png", "batch.jsonl"]
    assert sorted(p.name for p in out.iterdir()) == kept  # the picture so far, no temporary file
    assert stopped.records[0].kept == str(out / kept[0]) and load_image(out / kept[0]).rgb.size == (64, 48)
    assert cli_batch._report(stopped) == 130  # the command line's summary says where it is
    assert f"the picture so far is {out / kept[0]}; the same command paints what is left" in capsys.readouterr().err

    real_save = Image.Image.save

    def pressed_while_saving(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half a picture")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", pressed_while_saving)
    assert run_batch(items, FAST, out).status == "interrupted"
    assert sorted(p.name for p in out.iterdir()) == kept  # nothing half-written
    monkeypatch.setattr(Image.Image, "save", real_save)

    def pressed_after_the_first(p: BatchProgress) -> None:
        if p.done:
            raise KeyboardInterrupt

    first = run_batch(items, FAST, out, callback=pressed_after_the_first)
    assert (first.status, first.done, first.left) == ("interrupted", 1, 1)
    with open(out / "batch.jsonl", "a") as log:
        log.write('{"key": "torn by a crash", "sta')
    rest = run_batch(items, FAST, out)
    assert (rest.status, rest.done, rest.skipped) == ("done", 1, 1)
    records = log_lines(out)  # the torn line is gone: every line is JSON again, for jq and pandas
    assert [r["status"] for r in records] == ["interrupted", "done", "done"]
    assert len(BatchLog(out / "batch.jsonl").finished_keys()) == 2
    assert all(item.output.exists() for item in items)
    assert not (out / kept[0]).exists()  # the finished picture stands for the one kept so far
    with pytest.raises(ImageError, match="no photo pictures"):  # the kept picture is a batch's, not a photo
        collect([out], [inputs["wave"]], out)


def test_a_burst_of_ctrl_c_keeps_the_picture_the_first_stopped_at(capsys, inputs, tmp_path, ctrl_c_burst):
    """A second Ctrl-C while the run builds its picture so far is ignored: before, it escaped, and the log said
    "nothing written"."""
    import signal

    from brushwork.batch import run as batch_run

    ctrl_c_burst(batch_run)
    out = tmp_path / "out"
    rc, err = cli(capsys, inputs["a"], "--styles", inputs["wave"], "-o", out, "--size", "32", "--steps", "50")
    assert rc == 130 and "the picture so far is" in err, err
    assert [r["status"] for r in log_lines(out)] == ["interrupted"] and (out / "a__wave.unfinished-1.png").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_quiet_hides_the_bars_not_the_summary(capsys, inputs, tmp_path):
    argv = [inputs["a"], "--styles", inputs["wave"], "-o", tmp_path / "out", *FAST_FLAGS]
    rc, err = cli(capsys, *argv)
    assert rc == 0 and err.strip().startswith("brushwork batch: 1 done in ") and len(err.strip().splitlines()) == 1
    rc, err = cli(capsys, *argv)
    assert rc == 0 and err.strip().startswith("brushwork batch: 0 done, 1 skipped as already painted in ")


def test_the_api_paints_a_manifest(inputs, tmp_path):
    manifest = tmp_path / "pairs.json"
    manifest.write_text(
        json.dumps([{"photo": "photos/a.jpg", "styles": ["paintings/starry.jpg", "paintings/wave.jpg"]}])
    )
    summary = brushwork.stylize_batch((), (), tmp_path / "out", manifest=manifest, settings=FAST, style_blend=(3, 1))
    assert (summary.status, summary.done, summary.failed) == ("done", 1, 0)
    recipe = read_recipe(tmp_path / "out" / "a__starry+wave.png")
    assert recipe["settings"]["style_blend"] == [3, 1]
    assert [i["name"] for i in recipe["inputs"]] == ["a.jpg", "starry.jpg", "wave.jpg"]
    with pytest.raises(ImageError, match="not found"):
        brushwork.stylize_batch(tmp_path / "nowhere", inputs["wave"], tmp_path / "out")
    with pytest.raises(SettingsError, match="save_every is not available in a batch"):
        brushwork.stylize_batch(inputs["a"], inputs["wave"], tmp_path / "out", save_every=2)


def run_command(*argv, timeout: float = 300) -> subprocess.CompletedProcess:
    """``brushwork batch ARGV`` in a process of its own: a hang is a failure, not a stuck test run."""
    command = [sys.executable, "-m", "brushwork", "batch", *map(str, argv)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def test_devices_in_a_manifest_fail_alone_instead_of_hanging(inputs, tmp_path):
    manifest = tmp_path / "pairs.json"
    pairs = [
        {"photo": "/dev/zero", "style": "paintings/wave.jpg"},
        {"photo": "photos/a.jpg", "style": "/dev/urandom"},
        {"photo": "photos/a.jpg", "style": "paintings/wave.jpg"},
    ]
    manifest.write_text(json.dumps(pairs))
    proc = run_command("--manifest", manifest, "-o", tmp_path / "out", *FAST_FLAGS, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    failed = [line for line in proc.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 2 and all("is not a regular file" in line for line in failed), failed
    assert proc.stderr.splitlines()[-1].startswith("brushwork batch: 1 done, 2 failed")
    proc = run_command("/dev/zero", "--styles", inputs["wave"], "-o", tmp_path / "out2", *FAST_FLAGS, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "/dev/zero is not a regular file" in proc.stderr


@pytest.mark.parametrize(
    "case, words",
    [
        ("a 300-character output name", "is 300 bytes long; a file name takes at most 255"),
        ("a NUL byte in a path", "item 1: a path holds a NUL byte"),
        ("JSON nested 200,000 deep", "is nested too deeply to read"),
        ("an integer of 100,000 digits", "holds a number too long to read"),
        ("a CSV field over the csv module's limit", "is not a CSV file this can read"),
        ("a misspelt JSON key", "item 1: has a key 'mask'; its keys are photo, styles, style, output, masks"),
        ("a CSV row longer than its header", "row 2: has more values than the first row has columns"),
        (
            "a CSV row with a clip as its photo",
            "fox.mp4 is a video clip, not a picture; paint a clip with 'brushwork video'",
        ),
        (
            "a CSV header without its columns",
            "needs the columns photo and style (and output, masks, keep, "
            "painting_masks), in its first row; it has 'image', 'painting'",
        ),
    ],
)
def test_manifests_that_would_crash_are_refused_in_one_line(capsys, inputs, tmp_path, case, words):
    text = {
        "a 300-character output name": json.dumps(
            [{"photo": "photos/a.jpg", "style": "paintings/wave.jpg", "output": "x" * 296 + ".png"}]
        ),
        "a NUL byte in a path": json.dumps([{"photo": "photos/a.jpg\0.png", "style": "paintings/wave.jpg"}]),
        "JSON nested 200,000 deep": "[" * 200_000 + "]" * 200_000,
        "an integer of 100,000 digits": '[{"photo": ' + "9" * 100_000 + "}]",
        "a CSV field over the csv module's limit": "photo,style\n" + "a" * 200_000 + ",wave.jpg\n",
        "a misspelt JSON key": json.dumps(
            [{"photo": "photos/a.jpg", "style": "paintings/wave.jpg", "mask": ["m.png"]}]
        ),
        "a CSV row longer than its header": "photo,style\nphotos/a.jpg,paintings/wave.jpg,extra.png\n",
        "a CSV row with a clip as its photo": "photo,style\nclips/fox.mp4,paintings/wave.jpg\n",
        "a CSV header without its columns": "Image,Painting\nphotos/a.jpg,paintings/wave.jpg\n",
    }[case]
    manifest = tmp_path / ("pairs.csv" if "CSV" in case else "pairs.json")
    manifest.write_text(text)
    rc, err = cli(capsys, "--manifest", manifest, "-o", tmp_path / "out", *FAST_FLAGS)
    assert rc == 2 and "Traceback" not in err and err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "out").exists()


def test_long_photo_and_painting_names_make_an_output_name_that_fits(inputs, tmp_path):
    photo = small_copy(inputs["a"], tmp_path / "long" / ("p" * 200 + ".jpg"))
    painting = small_copy(inputs["wave"], tmp_path / "long" / ("s" * 200 + ".jpg"))
    other = small_copy(inputs["b"], photo.with_name("p" * 200 + ".png"))  # the same stem: the name is numbered
    items = collect([photo, other], [painting], tmp_path / "out")
    names = [item.output.name for item in items]
    assert all(len(name) <= 255 for name in names) and names[1].endswith("_2.png") and len(set(names)) == 2


def test_an_outdir_in_the_photo_folder_does_not_paint_its_own_pictures(capsys, inputs, tmp_path):
    photos = tmp_path / "photos"
    argv = [photos, "--styles", inputs["wave"], "-o", photos, *FAST_FLAGS]
    rc, err = cli(capsys, *argv)
    assert rc == 0 and "2 done" in err, err
    rc, err = cli(capsys, *argv)
    assert rc == 0 and "0 done, 2 skipped as already painted" in err, err
    assert sorted(p.name for p in photos.iterdir()) == ["a.jpg", "a__wave.png", "b.png", "b__wave.png", "batch.jsonl"]
    rc, err = cli(capsys, str(photos / "*.png"), "--styles", inputs["wave"], "-o", photos, *FAST_FLAGS)
    assert rc == 0 and "0 done, 1 skipped" in err, err  # a glob leaves them out too: b.png alone, painted already
    assert not (photos / "b__wave__wave.png").exists()
    (photos / "batch.jsonl").unlink()  # the log lost: the pictures' recipes still say a batch painted them
    rc, err = cli(capsys, *argv)
    assert rc == 0 and "0 done, 2 skipped" in err, err
    assert not any("__wave__wave" in p.name for p in photos.iterdir())
    elsewhere = tmp_path / "elsewhere" / "sub"  # a batch writing elsewhere: the pictures there are no photos either
    rc, err = cli(capsys, photos, "--styles", inputs["wave"], "-o", elsewhere, *FAST_FLAGS)
    assert rc == 0 and "2 done" in err, err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["a__wave.png", "b__wave.png", "batch.jsonl"]


def test_a_changed_setting_never_replaces_a_picture_without_overwrite(capsys, inputs, tmp_path):
    out = tmp_path / "out"
    argv = [inputs["a"], "--styles", inputs["wave"], "-o", out, *FAST_FLAGS]
    assert cli(capsys, *argv)[0] == 0
    before = (out / "a__wave.png").read_bytes()
    rc, err = cli(capsys, *argv, "--seed", "7")
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{out / 'a__wave.png'} already exists (painted by a batch from other inputs or settings)" in err
    assert "pass --overwrite" in err and (out / "a__wave.png").read_bytes() == before
    rc, err = cli(capsys, *argv, "--seed", "7", "--overwrite")
    assert rc == 0 and "1 done" in err and (out / "a__wave.png").read_bytes() != before
    assert read_recipe(out / "a__wave.png")["settings"]["seed"] == 7


def test_a_full_disk_mid_batch_keeps_the_log_whole_and_the_next_run_logs_the_lost_record(
    capsys, inputs, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    argv = [inputs["a"], inputs["b"], "--styles", inputs["wave"], "-o", out, *FAST_FLAGS]
    real_write = os.write

    def disk_full_for_the_log(fd: int, data) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("batch.jsonl"):
            real_write(fd, bytes(data)[: len(data) // 2])  # half a line gets on disk, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full_for_the_log)
    rc, err = cli(capsys, *argv)
    monkeypatch.setattr(os, "write", real_write)
    assert rc == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"cannot write the log {out / 'batch.jsonl'}: No space left on device; stopped: 1 done, 1 left" in err
    assert (out / "batch.jsonl").read_bytes() == b""  # the half line was taken back
    assert (out / "a__wave.png").exists() and not (out / "b__wave.png").exists()

    rc, err = cli(capsys, *argv)
    assert rc == 0 and "1 done, 1 skipped as already painted" in err, err
    records = log_lines(out)
    assert [(Path(r["output"]).name, r["status"], r["steps"]) for r in records] == [
        ("a__wave.png", "done", 4),  # rebuilt from the picture's recipe: a was not painted again
        ("b__wave.png", "done", 4),
    ]


def test_a_disk_too_full_for_the_pictures_stops_the_batch_at_the_first(capsys, inputs, tmp_path, monkeypatch):
    """Every picture after it would fail too, each after its whole painting: the batch stops, and the next run,
    with room again, paints what is left."""
    out = tmp_path / "out"
    argv = [inputs["a"], inputs["b"], "--styles", inputs["wave"], "-o", out, *FAST_FLAGS]

    def no_room(self, fp, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", no_room)
    rc, err = cli(capsys, *argv)
    monkeypatch.undo()
    assert rc == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "No space left on device; free some space and try again; stopped: 0 done, 2 left" in err, err
    assert not list(out.glob("*.png"))
    rc, err = cli(capsys, *argv)
    assert rc == 0 and "2 done" in err, err


def test_lines_a_crash_tore_are_removed_from_the_log(inputs, tmp_path):
    out = tmp_path / "out"
    items = collect([inputs["a"]], [inputs["wave"]], out)
    run_batch(items, FAST, out)
    log = out / "batch.jsonl"
    good = log.read_bytes()
    log.write_bytes(b'{"status": "do\n' + good + b'{"key": "torn by a cr')  # one torn in the middle by an old run
    again = run_batch(items, FAST, out)
    assert (again.done, again.skipped) == (0, 1) and log.read_bytes() == good


def test_a_file_in_the_log_s_place_that_no_batch_wrote_is_refused_not_emptied(capsys, inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    notes = b"my notes line 1\nimportant line 2"
    (out / "batch.jsonl").write_bytes(notes)
    rc, err = cli(capsys, inputs["a"], "--styles", inputs["wave"], "-o", out, *FAST_FLAGS)
    assert rc == 2 and err.count("\n") == 1 and "is not a brushwork batch's log (its line 1 is no record" in err, err
    assert (out / "batch.jsonl").read_bytes() == notes and not list(out.glob("*.png"))


def half_mask(path: Path, top: bool, size=(96, 72)) -> Path:
    """A mask white on the top (or bottom) half of a ``size`` photo."""
    mask = np.zeros((size[1], size[0]), dtype=np.uint8)
    rows = np.arange(size[1])[:, None] < size[1] // 2
    mask[rows[:, 0] == top] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask).save(path)
    return path


def test_a_manifest_gives_each_photo_its_masks_and_a_changed_mask_is_painted_again(inputs, tmp_path):
    sky, ground = half_mask(tmp_path / "masks" / "sky.png", True), half_mask(tmp_path / "masks" / "ground.png", False)
    csv = tmp_path / "pairs.csv"
    csv.write_text("photo,style,masks,keep\nphotos/a.jpg,paintings/wave.jpg,masks/sky.png,\n")
    assert collect([], [], tmp_path / "out", csv)[0].regions == RegionFiles((sky,))
    manifest = tmp_path / "pairs.json"
    two = {"photo": "photos/b.png", "styles": ["paintings/starry.jpg", "paintings/wave.jpg"]}
    manifest.write_text(json.dumps([{**two, "masks": ["masks/sky.png", "masks/ground.png"]}]))
    (item,) = collect([], [], tmp_path / "out", manifest)
    assert item.regions == RegionFiles((sky, ground)) and item.inputs()[-2:] == (sky, ground)
    manifest.write_text(json.dumps([{**two, "painting_masks": ["masks/sky.png", "masks/ground.png"]}]))
    (item,) = collect([], [], tmp_path / "out", manifest)
    assert item.regions == RegionFiles(painting_masks=(sky, ground)) and item.inputs()[-2:] == (sky, ground)

    out = tmp_path / "out"
    summary = run_batch(collect([], [], out, csv), FAST, out)
    assert summary.failures == [] and summary.done == 1
    picture = out / "a__wave.png"
    recipe = read_recipe(picture)
    assert [i["role"] for i in recipe["inputs"]] == ["content", "style", "mask"]
    painted = np.asarray(Image.open(picture).convert("RGB"), dtype=float)
    photo = np.asarray(Image.open(inputs["a"]).convert("RGB").resize(Image.open(picture).size), dtype=float)
    change = np.abs(painted - photo).mean(axis=(1, 2))
    half = len(change) // 2
    assert change[half + 4 :].mean() * 2 < change[: half - 4].mean()  # the sky is painted, the rest kept as the photo

    assert run_batch(collect([], [], out, csv), FAST, out).skipped == 1  # the same masks: nothing to do
    half_mask(sky, False)  # the mask now says the ground: another picture, which replaces this one only if asked
    with pytest.raises(OutputExistsError, match="painted by a batch from other inputs or settings"):
        run_batch(collect([], [], out, csv), FAST, out)
    assert run_batch(collect([], [], out, csv), FAST, out, overwrite=True).done == 1


def test_what_was_done_to_an_items_masks_is_logged_and_said_as_for_one_picture(capsys, inputs, tmp_path):
    """A mask drawn at half the photo's size is resized, with the note a single picture's run gives: in the log,
    on the command line (with -q too) and, from Python, as a warning."""
    small = tmp_path / "masks" / "sky.png"
    half_mask(small, True)
    with Image.open(small) as drawn:
        drawn.resize((drawn.width // 2, drawn.height // 2)).save(small)
    csv = tmp_path / "pairs.csv"
    csv.write_text("photo,style,masks\nphotos/a.jpg,paintings/wave.jpg,masks/sky.png\n")
    rc, err = cli(capsys, "--manifest", csv, "-o", tmp_path / "out", *FAST_FLAGS)
    said = "mask sky.png is 48x36: resized to the photo's 96x72"
    assert rc == 0 and f"brushwork batch: note: a.jpg with wave.jpg -> a__wave.png: {said}" in err, err
    assert log_lines(tmp_path / "out")[0]["notes"] == [said]
    with pytest.warns(UserWarning, match=f"a__wave.png: {said}"):
        brushwork.stylize_batch([], [], tmp_path / "again", manifest=csv, settings=FAST)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"masks": ["masks/sky.png"]}, "item 1: has 1 mask for 2 paintings; give one per painting"),
        ({"painting_masks": ["p.png"]}, "item 1: has 1 painting mask for 2 paintings; give one per painting"),
        ({"masks": [3, 4]}, "item 1: masks and painting_masks (one per painting) and keep must be file paths"),
        ({"keep": ["masks/sky.png"]}, "item 1: masks and painting_masks (one per painting) and keep must be file"),
    ],
)
def test_a_manifest_with_masks_that_do_not_fit_its_paintings_is_refused(inputs, tmp_path, entry, words):
    manifest = tmp_path / "pairs.json"
    manifest.write_text(json.dumps([{"photo": "a.jpg", "styles": ["s.jpg", "t.jpg"], **entry}]))
    with pytest.raises(BrushworkError, match=re.escape(words)):
        collect([], [], tmp_path / "out", manifest)


def test_a_missing_or_empty_mask_fails_its_item_alone(inputs, tmp_path):
    black = tmp_path / "masks" / "black.png"
    black.parent.mkdir()
    Image.new("L", (96, 72)).save(black)
    manifest = tmp_path / "pairs.json"
    rows = [
        {"photo": "photos/a.jpg", "style": "paintings/wave.jpg", "masks": "masks/none.png"},
        {"photo": "photos/a.jpg", "style": "paintings/wave.jpg", "keep": "masks/black.png", "output": "k.png"},
        {"photo": "photos/b.png", "style": "paintings/wave.jpg"},
    ]
    manifest.write_text(json.dumps(rows))
    out = tmp_path / "out"
    summary = run_batch(collect([], [], out, manifest), FAST, out)
    reasons = [f.error for f in summary.failures]
    assert len(reasons) == 2 and "none.png" in reasons[0] and "keep mask black.png is empty" in reasons[1]
    assert summary.done == 1 and sorted(p.name for p in out.glob("*.png")) == ["b__wave.png"]


def test_masks_travel_with_an_item_to_a_worker(inputs, tmp_path):
    from brushwork.cluster import Parcel

    sky = half_mask(tmp_path / "masks" / "sky.png", True)
    keep = half_mask(tmp_path / "keep.png", False)
    item = Item(inputs["a"], (inputs["wave"],), tmp_path / "out" / "a.png", RegionFiles((sky,), keep=keep))
    parcel = pickle.loads(pickle.dumps(Parcel.of(item, FAST)))  # as Ray ships it
    with parcel.unpacked(FAST) as (copy, settings):
        assert copy.regions.masks[0].read_bytes() == sky.read_bytes() and copy.regions.masks[0] != sky
        assert copy.regions.keep is not None and copy.regions.keep.read_bytes() == keep.read_bytes()
        assert [p.name for p in copy.inputs()] == ["a.jpg", "wave.jpg", "sky.png", "keep.png"]
        assert settings == FAST


def test_a_start_picture_travels_with_an_item_to_a_worker_and_weights_do_not(inputs, tmp_path):
    """Workers need not see the driver's disk: a start picture goes with the item, renamed there; the weights, which
    a worker loads once as it starts, are not sent again with every item."""
    from brushwork.cluster import Parcel

    weights = tmp_path / "mine.pt"
    weights.write_bytes(b"not really weights")
    settings = FAST.replace(init=str(inputs["b"]), weights=str(weights))
    item = Item(inputs["a"], (inputs["wave"],), tmp_path / "out" / "a.png")
    parcel = pickle.loads(pickle.dumps(Parcel.of(item, settings)))
    with parcel.unpacked(settings) as (copy, moved):
        assert Path(moved.init).read_bytes() == inputs["b"].read_bytes() and moved.init != str(inputs["b"])
        assert moved.weights == settings.weights and moved.replace(init=settings.init) == settings
        assert [p.name for p in copy.inputs()] == ["a.jpg", "wave.jpg"]
    assert len(parcel.files) == 3  # the photo, the painting and the start picture


def test_a_changed_weights_file_makes_a_finished_item_paint_again(inputs, tmp_path):
    weights = tmp_path / "mine.pt"
    weights.write_bytes(b"one")
    settings = FAST.replace(weights=str(weights))
    item = Item(inputs["a"], (inputs["wave"],), tmp_path / "out" / "a.png")
    before = item_key(item, settings)
    weights.write_bytes(b"two")
    assert before is not None and item_key(item, settings) != before


def test_a_picture_with_damaged_metadata_in_outdir_is_no_batchs_and_no_crash(tmp_path):
    from brushwork.batch.inputs import batch_key

    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (0, 90, 0)).save(buffer, "JPEG")
    jpeg = buffer.getvalue()
    exif = b"Exif\x00\x00XXnot a tiff header"
    damaged = jpeg[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + jpeg[2:]
    (tmp_path / "holiday__old.jpg").write_bytes(damaged)
    assert batch_key(tmp_path / "holiday__old.jpg") is None


def test_an_item_that_cannot_be_painted_fails_before_any_is_sent_to_a_worker(inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "b__wave.png").write_bytes(b"the user's own")
    gone = tmp_path / "photos" / "gone.jpg"
    items = [Item(p, (inputs["wave"],), out / f"{p.stem}__wave.png") for p in (inputs["a"], inputs["b"], gone)]
    sent: list[Item] = []

    def worker_elsewhere(items, settings, on_record):  # a worker on another machine would see no file at all
        sent.extend(items)

    summary = run_batch(items, FAST, out, execute=worker_elsewhere)
    assert sent == items[:1] and summary.failed == 2
    reasons = {Path(r["photo"]).name: r["error"] for r in log_lines(out) if r["status"] == "failed"}
    assert reasons["gone.jpg"].startswith("photo file not found: ") and reasons["gone.jpg"].endswith("; check the path")
    assert "exists and no batch painted it" in reasons["b.png"]
    assert (out / "b__wave.png").read_bytes() == b"the user's own"
