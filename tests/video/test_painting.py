"""Video: clips read and written as players expect (times, rotation, pixel aspect, sound), frames held together
along the flow, work kept frame by frame and resumed, and bad clips refused in one line before any work."""

from __future__ import annotations

import errno
import io
import os
import pickle
import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from sample_clips import PHOTO, STYLE, TIMES, make_clip, style

import brushwork
from brushwork.cli import main
from brushwork.core.errors import OutputExistsError, SettingsError
from brushwork.core.settings import Settings, VideoSettings
from brushwork.engine.recipes import read as read_recipe
from brushwork.media.clips import frames as frames_of
from brushwork.media.clips import peek, probe
from brushwork.media.flow import certainty, flow_between, warp
from brushwork.video import painting
from brushwork.video.painting import paint_clip
from brushwork.video.segments import (
    Segment,
    SegmentDiverged,
    paint_clip_in_segments,
    paint_segment,
    plan_segments,
    scene_cuts,
    segmented,
)
from brushwork.video.timeline import frame_size
from brushwork.video.work_folder import check_unclaimed, fingerprint_of, frames_kept, work_folder

pytestmark = pytest.mark.video

ROOT = Path(__file__).resolve().parents[2]
FAST = Settings(size=32, steps=3)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "pan.mp4")


def test_a_clip_is_described_as_a_player_sees_it(clip):
    info = probe(clip)
    assert (info.width, info.height, info.frames, info.rotation, info.aspect, info.audio) == (
        67,
        49,
        5,
        90,
        Fraction(4, 3),
        1,
    )
    assert info.times == pytest.approx(TIMES, abs=1e-3)


def test_every_audio_track_is_copied(tmp_path):
    """A film with two languages keeps both: one pass over the source takes every track's packets."""
    from brushwork.media.clips import write_clip

    source = make_clip(tmp_path / "two_tracks.mp4", size=(64, 48), rotation=0, tracks=2)
    info = probe(source)
    frames = []
    for i, seconds in enumerate(info.times):
        frames.append((seconds, tmp_path / f"frame_{i}.png"))
        Image.new("RGB", (info.width, info.height), (40 * i, 90, 120)).save(frames[-1][1])
    out = tmp_path / "painted.mp4"
    write_clip(frames, info, out)
    assert info.audio == 2 and probe(out).audio == 2
    with av.open(str(source)) as a, av.open(str(out)) as b:
        for n in range(2):
            original = [bytes(p) for p in a.demux(a.streams.audio[n]) if p.size]
            a.seek(0)
            assert [bytes(p) for p in b.demux(b.streams.audio[n]) if p.size] == original != []
            b.seek(0)


def test_a_painted_clip_keeps_times_upright_shape_aspect_and_sound(clip, tmp_path):
    out = tmp_path / "painted.mp4"
    result = brushwork.stylize_video(clip, STYLE, out, size=32, steps=3, later_steps=2)
    assert result.status == "done" and result.done == 5
    painted = probe(out)
    assert (painted.width, painted.height) == (24, 32)  # 67x49 turned a quarter: painted upright, as shown
    assert painted.times == pytest.approx(TIMES, abs=2e-3)
    assert (painted.rotation, painted.aspect, painted.audio) == (0, Fraction(3, 4), 1)  # wide pixels, turned
    with av.open(str(clip)) as a, av.open(str(out)) as b:
        original = [bytes(p) for p in a.demux(a.streams.audio[0]) if p.size]
        copied = [bytes(p) for p in b.demux(b.streams.audio[0]) if p.size]
    assert copied == original  # the sound is the very same packets, not re-encoded
    frames = sorted((out.parent / "painted.mp4.frames").glob("frame_*.png"))
    assert len(frames) == 5 and brushwork.engine.recipes.read(frames[0])["frame"] == 0
    assert Image.open(frames[0]).size == (24, 32)


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_a_turned_clip_is_read_upright_as_a_player_shows_it(tmp_path, rotation):
    path = make_clip(tmp_path / "phone.mp4", size=(64, 48), times=(0.0, 0.04), rotation=rotation, sound=False)
    info = probe(path)
    assert info.upright == ((48, 64) if rotation % 180 else (64, 48))
    coded = Image.open(PHOTO).convert("RGB").resize((128, 48)).crop((0, 0, 64, 48))
    shown = np.asarray(coded.rotate(rotation, expand=True), dtype=np.float32)  # counter-clockwise, as players do
    first = next(iter(brushwork.media.clips.frames(path))).image
    assert first.size == info.upright and np.abs(np.asarray(first, dtype=np.float32) - shown).mean() < 8
    assert frame_size(info, FAST) == ((24, 32) if rotation % 180 else (32, 24))


def test_start_and_end_paint_part_of_a_clip(clip, tmp_path):
    out = tmp_path / "part.mp4"
    result = brushwork.stylize_video(clip, STYLE, out, size=32, steps=3, later_steps=2, start=0.05, end=0.15)
    assert result.done == 2
    assert probe(out).times == pytest.approx((0.0, 0.03), abs=2e-3)


def test_an_interrupted_clip_keeps_its_frames_and_goes_on_from_them(clip, tmp_path, monkeypatch):
    out = tmp_path / "resumed.mp4"
    stopped = paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2), out, callback=lambda p: p.done < 2)
    assert stopped.status == "cancelled" and stopped.done == 2 and not out.exists()
    assert frames_kept(out, probe(clip), style(), FAST, VideoSettings(later_steps=2)) == 2
    assert frames_kept(out, probe(clip), style(), FAST.replace(seed=1), VideoSettings(later_steps=2)) == 0
    painted = []
    real_run = painting.run
    monkeypatch.setattr(painting, "run", lambda *a, **k: painted.append(1) or real_run(*a, **k))
    again = paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2), out)
    assert again.status == "done" and again.done == 5 and len(painted) == 3 and out.exists()


def test_ctrl_c_in_a_frame_keeps_its_picture_so_far_until_the_frame_is_painted(clip, tmp_path):
    out = tmp_path / "cut.mp4"

    def pressed_at_step_2(p) -> None:
        if p.step == 2:
            raise KeyboardInterrupt

    stopped = paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2), out, step_callback=pressed_at_step_2)
    so_far = work_folder(out) / "unfinished_frame_000000.png"
    assert (stopped.status, stopped.done, stopped.unfinished) == ("interrupted", 0, so_far)
    assert read_recipe(so_far)["run"] == {"status": "interrupted", "steps": 2}
    assert frames_kept(out, probe(clip), style(), FAST, VideoSettings(later_steps=2)) == 0  # not a frame
    again = paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05), out)
    assert again.status == "done" and not so_far.exists()


def test_frames_of_another_run_are_not_mixed_in(clip, tmp_path):
    out = tmp_path / "mixed.mp4"
    paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05), out)
    with pytest.raises(brushwork.ImageError, match="holds frames painted from other inputs or settings"):
        paint_clip(probe(clip), style(), FAST.replace(seed=1), VideoSettings(later_steps=2), out)


def test_frames_started_from_another_start_picture_are_not_mixed_in(clip, tmp_path):
    start = tmp_path / "start.png"
    Image.new("RGB", (40, 30), (0, 90, 0)).save(start)
    out = tmp_path / "started.mp4"
    paint_clip(probe(clip), style(), FAST.replace(init=str(start)), VideoSettings(later_steps=2, end=0.05), out)
    first = read_recipe(work_folder(out) / "frame_000000.png")["inputs"]
    assert {"role": "init", "name": "start.png", "path": str(start.resolve())}.items() <= first[-1].items()
    Image.new("RGB", (40, 30), (90, 0, 0)).save(start)  # the same name, another picture
    with pytest.raises(brushwork.ImageError, match="holds frames painted from other inputs or settings"):
        paint_clip(probe(clip), style(), FAST.replace(init=str(start)), VideoSettings(later_steps=2), out)


def test_frames_of_no_known_run_are_refused_and_a_damaged_frame_is_painted_again(clip, tmp_path):
    out = tmp_path / "found.mp4"
    work = work_folder(out)
    work.mkdir()
    Image.new("RGB", (40, 30), (200, 0, 0)).save(work / "frame_000000.png")  # put there by hand: no recipe
    with pytest.raises(brushwork.ImageError, match="holds frames without its recipe.json"):
        paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05), out)
    assert (work / "frame_000000.png").exists()  # refused, not removed
    done = paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05), out, overwrite=True)
    assert done.status == "done" and Image.open(work / "frame_000000.png").size == frame_size(probe(clip), FAST)
    first = (work / "frame_000000.png").read_bytes()
    whole = frames_kept(out, probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05))
    for cut in (len(first) // 3, len(first) - 5):  # cut short, or its end alone lost: not counted as painted
        (work / "frame_000000.png").write_bytes(first[:cut])
        assert frames_kept(out, probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05)) == whole - 1
    with pytest.raises(OutputExistsError):  # the clip there is kept: the frame is painted, not the clip
        paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05), out)
    assert Image.open(work / "frame_000000.png").size == frame_size(probe(clip), FAST)
    (work / "frame_000000.png").write_bytes(first[: len(first) // 3])
    again = paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05), out, overwrite=True)
    assert again.status == "done" and Image.open(work / "frame_000000.png").convert("RGB").size == frame_size(
        probe(clip), FAST
    )


def test_the_command_line_says_how_to_start_over_a_work_folder_of_another_run(capsys, clip, tmp_path):
    """The work folder refuses as any existing output does; the command line words how to allow it."""
    out = tmp_path / "other.mp4"
    paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2, end=0.05), out, assemble_clip=False)
    rc, err = cli(
        capsys, "video", clip, STYLE, "-o", out, "--size", "32", "--steps", "3", "--seed", "1", "--end", "0.05"
    )
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err  # without -q too: no plan before it
    assert "holds frames painted from other inputs or settings; choose another name or pass --overwrite" in err


def test_later_frames_hold_to_the_previous_one_along_the_flow(clip, tmp_path):
    """With the temporal term the painted frames follow the pan; painted alone they flicker far more."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from warping import warping_error

    info = probe(clip)
    inputs = [f.image.resize((24, 32)) for f in brushwork.media.clips.frames(clip)]
    errors = {}
    for weight in (0.0, 0.02):
        out = tmp_path / f"w{weight}.mp4"
        run = paint_clip(
            info, style(), Settings(size=32, steps=20), VideoSettings(temporal_weight=weight, later_steps=8), out
        )
        errors[weight] = warping_error(inputs, [Image.open(p) for _, p in run.pictures])
    assert errors[0.02] < 0.6 * errors[0.0], errors


def test_what_comes_into_view_starts_as_a_first_frame_does_not_as_stretched_edge_pixels(tmp_path):
    times = tuple(i * 0.04 for i in range(7))
    path = make_clip(tmp_path / "pan.mp4", size=(96, 64), times=times, rotation=0, sound=False)  # 3 px a frame
    result = paint_clip(
        probe(path), style(), Settings(size=96, steps=10, scales=1), VideoSettings(later_steps=1), tmp_path / "o.mp4"
    )
    last = np.asarray(Image.open(result.pictures[-1][1]).convert("L"), dtype=np.float64)

    def along_rows(columns: slice) -> float:  # a stretched edge pixel is a streak: flat along its row
        return float((np.diff(last[:, columns], axis=1) ** 2).mean())

    assert along_rows(slice(-12, None)) > 0.2 * along_rows(slice(12, -12))  # 18 px came in at the right (was 0.0002)


def test_flow_follows_a_shift_and_doubts_what_is_uncovered():
    photo = Image.open(PHOTO).convert("RGB").resize((160, 120))
    before, after = photo.crop((0, 0, 128, 120)), photo.crop((4, 0, 132, 120))  # the view moves 4 px right
    backward = flow_between(after, before)  # each pixel of `after` was 4 px further right in `before`
    assert float(np.median(backward[..., 0])) == pytest.approx(4, abs=0.5)
    carried = warp(np.asarray(before, dtype=np.float32), backward)
    inner = (slice(10, -10), slice(10, -20))
    assert np.abs(carried[inner] - np.asarray(after, dtype=np.float32)[inner]).mean() < 6
    sure = certainty(backward, flow_between(before, after))
    assert sure[:, -2:].mean() < 0.5 < sure[:, 20:100].mean()  # the strip that came into view is uncertain


def cli(capsys, *argv) -> tuple[int, str]:
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    return rc, capsys.readouterr().err


@pytest.fixture(scope="module")
def sound_only(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "sound.m4a"
    with av.open(str(path), "w") as out:
        audio = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 4000), dtype=np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for packet in [*audio.encode(frame), *audio.encode()]:
            out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("sound only", "has no video stream"),
        ("a photo", "is a still picture, not a video"),
        ("text named as a photo", "cannot read notes.jpg as a video or a picture"),
        ("corrupt", "cannot read corrupt.mp4 as a video"),
        ("empty", "cannot read empty.mp4 as a video"),
        ("output is the input", "is one of the inputs"),
        ("unwritable", "cannot write to folder /proc"),
        ("not a video name", "use a .mp4, .mov, .mkv or .m4v file name"),
        ("end before start", "--end must be after the start"),
        ("a folder", "video path is a folder"),
        ("a pipe", "is not a regular file (a device, pipe or socket)"),
        ("output is a folder", "is a folder; give a file name such as "),
    ],
)
def test_bad_clips_are_one_line_errors_before_any_work(capsys, tmp_path, clip, sound_only, case, words):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(clip.read_bytes()[:600])
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("a shopping list")
    source, out, extra = {
        "sound only": (sound_only, tmp_path / "o.mp4", []),
        "a photo": (PHOTO, tmp_path / "o.mp4", []),
        "text named as a photo": (tmp_path / "notes.jpg", tmp_path / "o.mp4", []),
        "corrupt": (corrupt, tmp_path / "o.mp4", []),
        "empty": (tmp_path / "empty.mp4", tmp_path / "o.mp4", []),
        "output is the input": (clip, clip, ["--overwrite"]),
        "unwritable": (clip, Path("/proc/o.mp4"), []),
        "not a video name": (clip, tmp_path / "o.png", []),
        "end before start": (clip, tmp_path / "o.mp4", ["--start", "1", "--end", "0.5"]),
        "a folder": (tmp_path, tmp_path / "o.mp4", []),
        "a pipe": (tmp_path / "pipe.mp4", tmp_path / "o.mp4", []),
        "output is a folder": (clip, tmp_path / "made.mp4", []),
    }[case]
    os.mkfifo(tmp_path / "pipe.mp4")  # read, it would wait for a writer for ever
    (tmp_path / "made.mp4").mkdir(exist_ok=True)
    before = clip.read_bytes()
    rc, err = cli(capsys, "video", source, STYLE, "-o", out, "--size", "32", *extra)
    assert rc == 2, err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert case != "output is a folder" or err.rstrip().endswith("made.mp4/out.mp4")  # a clip's name, not out.png
    assert clip.read_bytes() == before and not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("case", ["sound only", "a photo", "text named as a photo", "corrupt", "empty", "a folder"])
def test_a_first_frames_peek_refuses_what_probe_refuses_in_its_words(tmp_path, clip, sound_only, case):
    """The studio takes an upload by :func:`peek` (one frame) and reads it whole once: both say the same."""
    (tmp_path / "corrupt.mp4").write_bytes(clip.read_bytes()[:600])
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("a shopping list")
    source = {
        "sound only": sound_only,
        "a photo": PHOTO,
        "text named as a photo": tmp_path / "notes.jpg",
        "corrupt": tmp_path / "corrupt.mp4",
        "empty": tmp_path / "empty.mp4",
        "a folder": tmp_path,
    }[case]
    with pytest.raises(brushwork.ImageError) as probed:
        probe(source, shown="'upload.mp4'")
    with pytest.raises(brushwork.ImageError) as peeked:
        peek(source, shown="'upload.mp4'")
    assert str(peeked.value) == str(probed.value)
    assert peek(clip) is None


def test_a_painting_transparent_all_over_is_refused_before_the_clips_plan(capsys, clip, tmp_path):
    Image.new("RGBA", (48, 36), (200, 0, 0, 0)).save(tmp_path / "clear.png")
    rc, err = cli(capsys, "video", clip, tmp_path / "clear.png", "-o", tmp_path / "o.mp4", "--plan")
    assert rc == 2 and err.count("\n") == 1 and "the painting clear.png: it is transparent all over" in err, err


def test_the_command_paints_a_clip_and_says_where_its_frames_are(capsys, clip, tmp_path):
    out = tmp_path / "cli.mp4"
    rc, err = cli(capsys, "video", clip, STYLE, "-o", out, "--size", "32", "--steps", "3", "--later-steps", "2")
    assert rc == 0, err
    assert "plan of the first frame: 24x32 px" in err and "then 4 later frames of 2 steps" in err
    assert f"wrote {out}: 5 frames of 24x32 px, painted in " in err  # not "(5 frames, 3.1 s)": not the clip's length
    assert re.search(r"frame 1: step 3/3; (about \S+ \S+ left|almost done)", err)  # one time left, in the frame
    assert probe(out).frames == 5
    (out.with_name(out.name + ".frames") / "frame_000004.png").unlink()
    rc, err = cli(capsys, "video", clip, STYLE, "-o", out, "--size", "32", "--steps", "3", "--later-steps", "2")
    assert rc == 2 and "exists" in err  # the painted clip is never replaced without --overwrite
    args = ("video", clip, STYLE, "-o", out, "--size", "32", "--steps", "3", "--later-steps", "2", "--overwrite")
    assert main([*map(str, args), "--plan"]) == 0  # the plan counts the frames left
    resumed = capsys.readouterr().out
    assert "4 of 5 frames are already painted\nthe 1 later frame " in resumed
    assert resumed.startswith("plan of each frame left: 24x32 px") and "first frame" not in resumed
    rc, err = cli(capsys, *args)
    assert rc == 0 and "4 of 5 frames are already painted\nthe 1 later frame of 2 steps" in err
    assert "the frames left about " in err and "going on from the 4 frames painted in " in err
    out.unlink()  # every frame is painted: the clip is written from them, with no plan of painting
    rc, err = cli(capsys, *args)
    assert rc == 0 and "all 5 frames are painted in " in err and "plan" not in err
    assert "5 frames of 24x32 px, from the frames already painted" in err
    assert main([*map(str, args), "--plan"]) == 0
    assert capsys.readouterr().out.strip() == "all 5 frames are already painted: the clip is only put together"


def test_video_plan_paints_nothing_and_quiet_keeps_the_summary(capsys, clip, tmp_path):
    out = tmp_path / "planned.mp4"
    args = ["video", str(clip), str(STYLE), "--size", "32", "--steps", "3", "--later-steps", "2"]
    assert main([*args, "--plan", "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert "plan of the first frame: 24x32 px" in printed.out and "then 4 later frames" in printed.out
    assert printed.err == "" and not list(tmp_path.iterdir())  # nothing painted, no work folder
    rc, err = cli(capsys, *args, "--end", "0.05", "-q", "-o", out)
    assert rc == 0 and err.startswith(f"wrote {out}: 2 frames") and err.count("\n") == 1, err
    rc, err = cli(capsys, *args, "--plan", "--ray", "10.255.255.1:1")  # no cluster asked: its plan is not this one
    assert rc == 2 and "leave out --ray to see a frame's plan" in err and err.count("\n") == 1, err


def test_video_refuses_save_every_in_one_line(capsys, clip, tmp_path):
    rc, err = cli(capsys, "video", clip, STYLE, "-o", tmp_path / "o.mp4", "--save-every", "5")
    assert rc == 2 and "--save-every" in err and err.count("\n") == 1


def test_video_says_what_a_start_that_cannot_be_meant_is_before_any_work(capsys, clip, tmp_path):
    rc, err = cli(capsys, "video", clip, STYLE, "-o", tmp_path / "o.mp4", "--init", "Palette")
    assert rc == 2 and err.count("\n") == 1 and "--init takes content, palette, noise in small letters" in err, err
    assert not (tmp_path / "o.mp4").exists() and not work_folder(tmp_path / "o.mp4").exists()


def test_the_time_left_after_the_first_frame_is_the_later_frames_cost(clip, tmp_path):
    seen = []
    result = paint_clip(
        probe(clip),
        style(),
        FAST.replace(steps=15),
        VideoSettings(later_steps=2),
        tmp_path / "eta.mp4",
        callback=seen.append,
    )
    assert result.status == "done" and result.first_seconds is not None
    after_first = seen[0].eta / (seen[0].total - seen[0].done)  # each frame left, before any later one is painted
    assert after_first < 0.6 * result.first_seconds  # 2 steps, not the first frame's 15 and its setup


# --- segments (a long clip painted in parts, e.g. on Ray) ------------------------------------------------


def test_segments_start_at_scene_cuts_else_share_cross_faded_frames():
    plan = plan_segments
    assert plan(list(range(60)), [], 34, 4) == [Segment(0, 33, 0), Segment(30, 59, 4)]
    assert plan(list(range(60)), [20], 34, 4) == [Segment(0, 19, 0), Segment(20, 53, 0), Segment(50, 59, 4)]
    assert plan(list(range(10)), [], 8, 2) == [Segment(0, 9, 0)]  # a 2-frame remainder joins the segment
    assert plan(list(range(5, 9)), [], 2, 4) == [Segment(5, 6, 0), Segment(6, 8, 1)]  # overlap < length


def test_a_scene_cut_is_found_where_the_shot_changes(tmp_path):
    cut = make_clip(tmp_path / "cut.mp4", size=(64, 48), times=tuple(i / 10 for i in range(8)), rotation=0, cut=5)
    assert scene_cuts(probe(cut), VideoSettings()) == [5]
    plain = make_clip(tmp_path / "plain.mp4", size=(64, 48), times=tuple(i / 10 for i in range(8)), rotation=0)
    assert scene_cuts(probe(plain), VideoSettings()) == []


def test_a_clip_in_segments_is_joined_with_cross_fades_and_resumes_by_segment(clip, tmp_path, encoder):
    info, out = probe(clip), tmp_path / "out.mp4"
    painted: list[Segment] = []

    def runner(settings, segments, on_segment):  # in this process, one after another: what Ray spreads out
        for segment, part in segments:
            painted.append(segment)
            if not on_segment(segment, paint_segment(encoder, clip, [STYLE], settings, part)):
                return

    stop_after_one = lambda progress: False  # noqa: E731 - stop after the first segment
    first = paint_clip_in_segments(
        info, style(), FAST, VideoSettings(), out, runner, length=3, overlap=1, callback=stop_after_one
    )
    assert first.status == "interrupted" and not out.exists() and painted == [Segment(0, 2, 0)]
    result = paint_clip_in_segments(info, style(), FAST, VideoSettings(), out, runner, length=3, overlap=1)
    assert result.status == "done" and painted[1:] == [Segment(2, 4, 1)]  # the first was kept
    work = work_folder(out)
    shared = [
        Image.open(work / name / "frame_000002.png") for name in ("segment_000000_000002", "segment_000002_000004")
    ]
    joined = np.asarray(Image.open(work / "frame_000002.png"), dtype=float)
    assert np.abs(joined - np.mean([np.asarray(p, dtype=float) for p in shared], axis=0)).max() <= 1  # half and half
    written = probe(out)
    assert (
        written.frames == 5 and written.audio == 1 and (written.width, written.height, written.rotation) == (24, 32, 0)
    )


def test_a_clip_in_segments_goes_on_in_the_segments_it_began_whatever_the_workers(clip, tmp_path, encoder):
    info, out = probe(clip), tmp_path / "out.mp4"
    seen: list[tuple[Settings, Segment]] = []

    def runner(settings, segments, on_segment):  # records what each segment is painted with, paints nothing
        for segment, _ in segments:
            seen.append((settings, segment))
            if not on_segment(segment, _blank(segment)):
                return

    stop = lambda progress: False  # noqa: E731 - stop after the first segment
    settings = Settings(size=32, steps=3, style_balance=0.5)
    three = {"workers": 3, "overlap": 1}  # 5 frames in two segments of 3; one worker would take them in one
    first = paint_clip_in_segments(info, style(), settings, VideoSettings(), out, runner, **three, callback=stop)
    assert first.status == "interrupted" and [s for _, s in seen] == [Segment(0, 2, 0)]
    work = work_folder(out)
    assert check_unclaimed(work, segmented(fingerprint_of(info, style(), settings, VideoSettings()), 1), False) is None
    with pytest.raises(OutputExistsError):  # the same frames are not those of a clip painted in one piece
        check_unclaimed(work, fingerprint_of(info, style(), settings, VideoSettings()), False)
    again = paint_clip_in_segments(info, style(), settings, VideoSettings(), out, runner, workers=1, overlap=1)
    assert again.status == "done" and [s for _, s in seen] == [Segment(0, 2, 0), Segment(2, 4, 1)]
    with pytest.raises(SettingsError, match=r"^segment_frames is 3 for the segments already painted"):
        paint_clip_in_segments(info, style(), settings, VideoSettings(), out, runner, length=4, overlap=1)
    out.unlink()  # another length, asked for with overwrite: the segments are painted again at it
    again = paint_clip_in_segments(
        info, style(), settings, VideoSettings(), out, runner, length=4, overlap=1, overwrite=True
    )
    assert again.status == "done" and [s for _, s in seen[2:]] == [Segment(0, 4, 0)]
    # every segment at the strength the clip's first frame gives, as a clip painted in one piece is
    assert {s.style_weight for s, _ in seen} == {seen[0][0].style_weight} and seen[0][0].style_balance == 0
    first_frame = next(iter(frames_of(clip))).image.resize(frame_size(info, settings), Image.Resampling.LANCZOS)
    once = painting.clip_balanced(settings, first_frame, style(), None, encoder)
    assert seen[0][0].style_weight == pytest.approx(once.style_weight) and once.style_weight != settings.style_weight


def _blank(segment: Segment) -> list[bytes]:
    """A segment's frames as a worker hands them back: PNG bytes, here blank."""
    buffer = io.BytesIO()
    Image.new("RGB", (24, 32), "grey").save(buffer, "PNG")
    return [buffer.getvalue()] * (segment.last - segment.first + 1)


# --- full disks, damaged clips, and work folders left by stopped runs -------------------------------------


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_when_starting_is_one_line_and_leaves_no_torn_recipe(capsys, clip, tmp_path, monkeypatch):
    out = tmp_path / "full.mp4"
    monkeypatch.setattr(Path, "write_bytes", full_disk)
    rc, err = cli(capsys, "video", clip, STYLE, "-o", out, "--size", "32", "--steps", "3", "--later-steps", "2", "-q")
    assert rc == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "cannot write " in err and "recipe.json: No space left on device" in err
    assert list(work_folder(out).iterdir()) == []  # no half-written recipe to block the next run


def test_a_full_disk_when_assembling_keeps_every_frame(capsys, clip, tmp_path, monkeypatch):
    out = tmp_path / "full.mp4"
    argv = ("video", clip, STYLE, "-o", out, "--size", "32", "--steps", "3", "--later-steps", "2", "-q")
    real_write = painting.write_clip

    def disk_fills_up(pictures, source, output, *args):
        real_write(pictures[:2], source, output, *args)  # a partial clip is on disk when the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(painting, "write_clip", disk_fills_up)
    rc, err = cli(capsys, *argv)
    assert rc == 1  # a disk that filled, not a usage error and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"cannot write {out}: No space left on device; the painted frames are kept in " in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["full.mp4.frames"]  # no partial
    assert len(list(work_folder(out).glob("frame_*.png"))) == 5
    monkeypatch.setattr(painting, "write_clip", real_write)
    painted = []
    monkeypatch.setattr(painting, "run", lambda *a, **k: painted.append(1))
    rc, err = cli(capsys, *argv)
    assert rc == 0 and painted == [] and probe(out).frames == 5  # assembled from the kept frames alone


def test_ctrl_c_while_the_clip_is_put_together_keeps_every_frame_and_says_so(capsys, clip, tmp_path, monkeypatch):
    out = tmp_path / "stopped.mp4"
    argv = ("video", clip, STYLE, "-o", out, "--size", "32", "--steps", "3", "--later-steps", "2", "-q")

    def ctrl_c(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(painting, "write_clip", ctrl_c)
    rc, err = cli(capsys, *argv)
    assert rc == 130 and "nothing written" not in err, err
    assert "interrupted; 5 of 5 frames are kept in " in err and "run the same command again to go on" in err
    assert not out.exists() and len(list(work_folder(out).glob("frame_*.png"))) == 5


def test_a_burst_of_ctrl_c_keeps_the_frame_so_far_the_first_stopped_at(capsys, clip, tmp_path, ctrl_c_burst):
    """A second Ctrl-C while the frame's run builds its picture so far is ignored, and the frame is kept."""
    import signal

    ctrl_c_burst(painting)
    out = tmp_path / "burst.mp4"
    rc, err = cli(capsys, "video", clip, STYLE, "-o", out, "--size", "32", "--steps", "30", "-q")
    assert rc == 130 and "nothing written" not in err, err
    assert (work_folder(out) / "unfinished_frame_000000.png").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_segment_that_cannot_be_kept_is_one_line(tmp_path):
    from brushwork.video.segments import _Kept

    kept = _Kept(tmp_path / "gone.mp4.frames", 3, None)  # its work folder was removed meanwhile
    with pytest.raises(brushwork.ImageError, match=r"^cannot write into .*segment_000000_000002: No such file"):
        kept.segment(Segment(0, 2, 0), _blank(Segment(0, 2, 0)))


def test_a_work_folder_with_no_frame_yet_does_not_block_other_settings(clip, tmp_path):
    out = tmp_path / "stopped.mp4"
    stopped = paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2), out, step_callback=lambda p: False)
    assert stopped.done == 0 and list(work_folder(out).glob("frame_*")) == []
    other = paint_clip(probe(clip), style(), FAST.replace(seed=1), VideoSettings(later_steps=2), out)
    assert other.status == "done" and other.done == 5 and out.exists()


def test_a_damaged_clip_is_painted_with_a_warning(capsys, tmp_path):
    whole = make_clip(tmp_path / "whole.mkv", size=(32, 24), times=tuple(i / 4 for i in range(12)), sound=False)
    assert probe(whole).damage == ""
    damaged = tmp_path / "damaged.mkv"
    damaged.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) * 4 // 5])  # cut off, as by a failed download
    info = probe(damaged)
    assert 0 < info.frames < 12 and f"only {info.frames} frames, up to " in info.damage
    out = tmp_path / "painted.mp4"
    rc, err = cli(capsys, "video", damaged, STYLE, "-o", out, "--size", "32", "--steps", "2", "--later-steps=1", "-q")
    assert rc == 0 and err.count("\n") == 2 and "Traceback" not in err, err  # the warning, then -q's summary
    assert err.startswith(f"brushwork video: warning: damaged.mkv looks damaged: only {info.frames} frames")
    assert err.splitlines()[1].startswith(f"wrote {out}: {info.frames} frames of ")
    assert probe(out).frames == info.frames
    with pytest.warns(UserWarning, match="damaged.mkv looks damaged"):
        brushwork.stylize_video(damaged, STYLE, out, overwrite=True, size=32, steps=2, later_steps=1)


# --- regions: one mask for the whole clip ---------------------------------------------------------------


def left_half(path: Path, size=(49, 67)) -> Path:
    """A mask white on the left half of the clip as a player shows it (49x67, turned upright)."""
    mask = np.zeros((size[1], size[0]), dtype=np.uint8)
    mask[:, : size[0] // 2] = 255
    Image.fromarray(mask).save(path)
    return path


def test_a_kept_region_stays_the_photo_in_every_frame_and_a_new_mask_is_another_run(clip, tmp_path):
    keep = left_half(tmp_path / "keep.png")
    out = tmp_path / "kept.mp4"
    result = brushwork.stylize_video(clip, STYLE, out, size=32, steps=3, later_steps=2, keep=keep)
    assert result.status == "done" and result.done == 5
    frames = [frame.image.resize((24, 32)) for frame in painting.frames(clip, 0, float("inf"))]
    for (_, path), photo in zip(result.pictures, frames):
        change = np.abs(np.asarray(Image.open(path), dtype=float) - np.asarray(photo, dtype=float)).mean(axis=(0, 2))
        assert change[:9].mean() * 2 < change[15:].mean()  # the kept half is the photo; the other is painted
    recipe = brushwork.engine.recipes.read(result.pictures[0][1])
    assert [i["role"] for i in recipe["inputs"]] == ["clip", "style", "keep"]

    other = tmp_path / "other.png"
    Image.open(keep).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(other)
    out.unlink()  # the frames are still in the work folder: painted with the first mask, not this one
    with pytest.raises(brushwork.core.errors.OutputExistsError, match="frames painted from other inputs"):
        brushwork.stylize_video(clip, STYLE, out, size=32, steps=3, later_steps=2, keep=other, overwrite=False)


def test_what_no_mask_covers_stays_the_photo_in_later_frames_too(clip, tmp_path):
    """A later frame starts from the frame before, carried: what stays the photo starts as this frame's photo, or
    with few steps it drifts toward the painting's colours frame by frame."""
    only = left_half(tmp_path / "left.png")  # one painting on the left; the right is no region's: the photo
    result = brushwork.stylize_video(clip, STYLE, tmp_path / "m.mp4", size=32, steps=3, later_steps=1, masks=[only])
    frames = [frame.image.resize((24, 32)) for frame in painting.frames(clip, 0, float("inf"))]
    for (_, path), photo in zip(result.pictures, frames):
        change = np.abs(np.asarray(Image.open(path), dtype=float) - np.asarray(photo, dtype=float)).mean(axis=(0, 2))
        assert change[15:].mean() < 3 < change[:9].mean(), change  # was 9-13 on the right from the second frame


def test_video_masks_on_the_command_line_and_bad_masks_in_one_line(capsys, clip, tmp_path):
    sky = left_half(tmp_path / "sky.png")
    wide = tmp_path / "wide.png"
    drawn = Image.new("L", (67, 49), 0)  # the clip as coded, not as shown: the wrong shape
    drawn.paste(255, (0, 0, 33, 49))
    drawn.save(wide)
    out = tmp_path / "masked.mp4"
    common = ["--size", "32", "--steps", "3", "--later-steps", "2", "--end", "0.05"]
    rc, err = cli(capsys, "video", clip, STYLE, "-o", out, "--masks", wide, *common)
    assert rc == 2 and "not the frame's shape (49x67)" in err and err.count("\n") == 1 and not out.exists()
    rc, err = cli(capsys, "video", clip, STYLE, PHOTO, "-o", out, "--masks", sky, *common)
    assert rc == 2 and "fewer masks than paintings" in err and err.count("\n") == 1
    rc, err = cli(capsys, "video", clip, STYLE, "-o", out, "--masks", sky, "-q", *common)
    assert rc == 0 and probe(out).frames == 2, err


def test_segments_paint_with_the_clip_s_masks(clip, tmp_path, encoder):
    from brushwork.media.masks import RegionFiles

    files = RegionFiles(keep=left_half(tmp_path / "keep.png"))
    regions = files.load(probe(clip).upright, [p.rgb.size for p in style()])
    exact = FAST.replace(precision="fp32")  # bf16 kernels may round two runs apart on some CPUs (AMD EPYC)
    whole = paint_clip(probe(clip), style(), exact, VideoSettings(end=0.05), tmp_path / "a.mp4", regions=regions)
    pictures = paint_segment(encoder, clip, [STYLE], exact, VideoSettings(end=0.05), files)
    for (_, path), data in zip(whole.pictures, pictures):
        assert Image.open(path).tobytes() == Image.open(io.BytesIO(data)).tobytes()


def test_a_clip_is_painted_at_one_strength_balanced_on_its_first_frame(clip, tmp_path, monkeypatch):
    """The balance of painting to photo (brushwork.model.balance) is measured once: each frame measured on its
    own would change the strength from frame to frame, a flicker."""
    seen: list[Settings] = []

    def spy(picture, styles, settings, **kwargs):
        seen.append(settings)
        return real(picture, styles, settings, **kwargs)

    real = painting.run
    monkeypatch.setattr(painting, "run", spy)
    paint_clip(probe(clip), style(), FAST, VideoSettings(later_steps=2), tmp_path / "out.mp4")
    assert len(seen) == len(TIMES) and all(s.style_balance == 0 for s in seen)
    assert len({s.style_weight for s in seen}) == 1 and seen[0].style_weight != FAST.style_weight


def test_a_paintings_transparency_is_part_of_what_its_frames_were_painted_from(clip, tmp_path):
    painting = style()[0]
    alpha = Image.new("L", painting.rgb.size, 255)
    alpha.paste(0, (0, 0, painting.rgb.width // 2, painting.rgb.height))
    see_through = [brushwork.media.images.Picture(painting.rgb, alpha, "half.png")]
    out = tmp_path / "half.mp4"
    paint_clip(probe(clip), see_through, FAST, VideoSettings(later_steps=2, end=0.05), out)
    with pytest.raises(brushwork.ImageError, match="holds frames painted from other inputs or settings"):
        paint_clip(probe(clip), [painting], FAST, VideoSettings(later_steps=2, end=0.05), out)


def test_a_clip_refused_for_its_part_or_its_weights_leaves_nothing_behind(capsys, clip, tmp_path):
    out = tmp_path / "late.mp4"
    with pytest.raises(brushwork.ImageError, match=r"has no frames .*; its frames are from 0.00 s to \d+\.\d\d s$"):
        paint_clip(probe(clip), style(), FAST, VideoSettings(start=999.0), out)
    assert not work_folder(out).exists()
    rc, err = cli(capsys, "video", clip, STYLE, "-o", out, "--size", "32", "--weights", tmp_path / "nope.pth")
    assert rc == 2 and err.count("\n") == 1 and "weights file not found" in err, err
    assert not work_folder(out).exists() and not out.exists()


def test_a_frame_whose_loss_turns_nan_fails_the_clip_naming_the_setting_to_lower(capsys, clip, tmp_path, encoder):
    out, overshoot = tmp_path / "out.mp4", ("--size", "32", "--steps", "10", "--optimizer", "lbfgs", "--lr", "255")
    rc, err = cli(capsys, "video", clip, STYLE, "-o", out, *overshoot, "-q")
    assert rc == 1, err  # not 130: the same command would diverge again, and it does not say to run it again
    assert "brushwork video: error: frame 0: the loss became NaN or infinite" in err, err
    assert "try a lower --lr" in err and "again" not in err and not out.exists()
    settings = Settings(size=32, steps=10, optimizer="lbfgs", lr=255)

    def runner(given, segments, on_segment):  # what Ray does, here: a worker's segment, and what it says back
        for segment, part in segments:
            if not on_segment(segment, paint_segment(encoder, clip, [STYLE], given, part)):
                return

    painted = paint_clip_in_segments(probe(clip), style(), settings, VideoSettings(), out, runner, length=3)
    assert (painted.status, painted.culprit) == ("diverged", "lr") and painted.message.startswith("frame 0: the loss")
    thrown = pickle.loads(pickle.dumps(SegmentDiverged(painted.message, "lr")))  # as it travels back from a worker
    assert (str(thrown), thrown.culprit) == (painted.message, "lr")
