"""Painting a clip: frame after frame, each held to the one before along the optical flow (Ruder et al. 2016).

The first frame is painted as a picture is (coarse to fine). Every later frame starts from the
previous painted frame, warped along the flow to where things are now, and its loss adds a
temporal term that holds it to that warped frame wherever the flow is certain
(:mod:`brushwork.flow`), so strokes stay put and do not flicker; being warm-started, it needs
only :attr:`VideoSettings.later_steps` steps at full size.

Work is never lost: each finished frame is written (atomically, with its recipe) into a work
folder beside the output, ``OUT.frames/``, the moment it is done. Running the same command
again skips the frames already there, and the clip is assembled from the folder at the end,
so it can always be assembled again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image, ImageFilter

from . import __version__, recipes
from .budget import RunPlan, duration
from .clips import ClipInfo, even_size, frames, probe, write_clip
from .engine import Callback, Progress, initial_image, plan, prepare_inputs, run
from .errors import ImageError
from .features import VGG19
from .flow import certainty, flow_between, inside, warp
from .forecast import LEVEL_SETUP
from .images import Picture, load_image, to_pil, to_tensor
from .machine import encoder_for, pick_device
from .settings import Settings, VideoSettings, blend_weights
from .terms import Temporal

__all__ = [
    "ClipPlan",
    "FrameProgress",
    "VideoResult",
    "assemble",
    "paint_clip",
    "painted_positions",
    "painted_times",
    "Segment",
    "SegmentRunner",
    "paint_segment",
    "paint_clip_in_segments",
    "scene_cuts",
    "plan_segments",
    "segment_length",
    "SEGMENT_OVERLAP",
    "segment_settings",
    "join_segments",
    "plan_clip",
    "work_folder",
    "frame_size",
    "frames_kept",
]

RECIPE = "recipe.json"
CARRY_SAMPLING = "cubic"  # bilinear carrying blurs the strokes a little more at every frame
HELD_TO = (1,)
"""How many frames back a frame is held to (Ruder et al.'s long-term term: a pixel uncertain in the frame before
is held to the nearest earlier one where it is certain)."""


@dataclass
class FrameProgress:
    """What the progress callback sees after each frame. Return ``False`` to stop (finished frames are kept)."""

    done: int
    """Frames finished, those found in the work folder included."""
    total: int
    index: int
    """The frame just finished (its position in the clip)."""
    seconds: float
    """What painting it took (0 for a frame found already painted)."""
    elapsed: float
    eta: float
    path: Path
    """Its picture in the work folder."""


@dataclass
class VideoResult:
    status: str
    """``done``, ``interrupted`` (Ctrl-C) or ``cancelled`` (callback)."""
    done: int
    total: int
    elapsed: float
    work: Path
    first_seconds: float | None = None
    """Seconds the first frame took to paint in this run (None if it was already there)."""
    later_seconds: list[float] = field(default_factory=list)
    """Seconds of each later frame painted in this run."""
    pictures: list[tuple[float, Path]] = field(default_factory=list)
    """(seconds from the clip's start, picture) of every finished frame, in order."""


def work_folder(output: Path) -> Path:
    """Where a clip's painted frames are kept: ``OUT.frames/`` beside ``OUT``."""
    return output.with_name(output.name + ".frames")


def frame_size(clip: ClipInfo, settings: Settings) -> tuple[int, int]:
    """The painted frame size: the clip's shape, upright, at ``settings.size`` (never larger), both sides even."""
    return even_size(*clip.upright, settings.size)


def painted_times(clip: ClipInfo, video: VideoSettings) -> list[float]:
    """The times of the frames ``video`` paints (from its start, before its end)."""
    return [clip.times[i] for i in painted_positions(clip, video)]


def painted_positions(clip: ClipInfo, video: VideoSettings) -> list[int]:
    """The positions in the clip (0: its first frame) of the frames ``video`` paints."""
    end = video.end if video.end is not None else math.inf
    return [i for i, t in enumerate(clip.times) if video.start - 1e-6 <= t < end - 1e-6]


def _frame_settings(clip: ClipInfo, settings: Settings, video: VideoSettings) -> tuple[Settings, Settings]:
    """The first frame's settings (coarse to fine, as a picture) and every later frame's (one level)."""
    first = settings.replace(size=max(frame_size(clip, settings)))
    return first, first.replace(scales=1, steps=video.later_steps)


@dataclass
class ClipPlan:
    """What painting a clip needs here: the first frame's plan, one later frame's, how many frames, and how many
    of them an earlier, stopped run already painted (the first ones: frames are painted in order)."""

    first: RunPlan
    later: RunPlan
    frames: int
    kept: int = 0

    @property
    def seconds(self) -> float:
        """What painting the frames left takes."""
        later = self.frames - max(self.kept, 1)
        return (self.first.seconds if not self.kept else 0.0) + later * self.later.seconds

    def describe(self) -> str:
        """The first frame's plan, then the later frames and the time of the frames left, for people."""
        width, height = self.first.levels[-1].size
        text = self.first.describe().replace("plan:", "plan of the first frame:", 1)
        if self.kept:
            text += f"\n{self.kept} of {self.frames} frames are already painted"
        later = self.frames - max(self.kept, 1)
        if later > 0:
            text += (
                f"\n{'then ' if not self.kept else 'the '}{later} later frame{'s' * (later > 1)} of "
                f"{self.later.levels[-1].steps} steps at {width}x{height} px, about {duration(self.later.seconds)} "
                f"each; {'the clip' if not self.kept else 'the frames left'} about {duration(self.seconds)}"
            )
        return text


def plan_clip(
    clip: ClipInfo,
    styles: Sequence[Picture],
    settings: Settings,
    video: VideoSettings,
    encoder: VGG19 | None = None,
    kept: int = 0,
) -> ClipPlan:
    """Plan a clip before painting it (see :func:`brushwork.engine.plan`), ``kept`` of its frames already painted
    (:func:`frames_kept`); refuses a part of the clip with no frames, and a frame size that cannot fit, with one
    line."""
    count = len(painted_times(clip, video))
    if count == 0:
        end = f"{video.end:g} s" if video.end is not None else "its end"
        raise ImageError(f"{clip.path.name} has no frames between {video.start:g} s and {end}")
    first, later = _frame_settings(clip, settings, video)
    frame = Picture(Image.new("RGB", frame_size(clip, settings)), None, clip.path.name)
    return ClipPlan(plan(frame, styles, first, encoder), plan(frame, styles, later, encoder), count, kept)


def _fingerprint(clip: ClipInfo, styles: Sequence[Picture], settings: Settings, video: VideoSettings) -> dict:
    """What must match for frames in a work folder to be this run's: settings and every input's bytes."""

    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    unused = {"start", "end"} | ({"later_steps"} if video.temporal_weight == 0 else set())  # frames painted alone

    return {
        "brushwork": __version__,
        "settings": settings.to_dict(),
        "video": {k: v for k, v in video.to_dict().items() if k not in unused},
        "clip": digest(clip.path.read_bytes()),
        "styles": [digest(np.asarray(s.rgb).tobytes()) for s in styles],
    }


def frames_kept(
    output: Path, clip: ClipInfo, styles: Sequence[Picture], settings: Settings, video: VideoSettings
) -> int:
    """How many of the frames to paint an earlier, stopped run of the same inputs and settings left in the work
    folder (the same call goes on from them)."""
    work = work_folder(output)
    try:
        same = json.loads((work / RECIPE).read_text()) == _fingerprint(clip, styles, settings, video)
    except (OSError, ValueError):
        return 0
    return sum((work / f"frame_{p:06d}.png").exists() for p in painted_positions(clip, video)) if same else 0


def _claim(work: Path, fingerprint: dict, overwrite: bool) -> None:
    """Make or reuse the work folder; one holding another run's frames is refused rather than mixed (or, with
    ``overwrite``, emptied)."""
    if work.exists() and not work.is_dir():
        raise ImageError(f"{work} is a file; the painted frames go in a folder of that name: move the file")
    recipe = work / RECIPE
    try:
        work.mkdir(exist_ok=True)
        if recipe.exists():
            try:
                kept = json.loads(recipe.read_text())
            except (OSError, ValueError):
                kept = None
            painted = any(work.glob("frame_*.png")) or any(work.glob("segment_*/frame_*.png"))
            if kept != fingerprint and (overwrite or not painted):  # a run stopped before its first frame: no work
                for old in work.glob("frame_*.png"):
                    old.unlink()
                for folder in work.glob("segment_*"):
                    shutil.rmtree(folder)
                recipe.unlink()
            elif kept != fingerprint:
                raise ImageError(
                    f"{work} holds frames painted from other inputs or settings; delete it (or pass --overwrite) "
                    "to start again, or choose another output name"
                )
        if not recipe.exists():
            _write_atomically(recipe, json.dumps(fingerprint, indent=1, sort_keys=True).encode())
    except OSError as exc:  # a full disk, say: the frames already there stay
        raise ImageError(f"cannot write {recipe}: {exc.strerror or exc}; free some space and run again") from None


def paint_clip(
    clip: ClipInfo,
    styles: Sequence[Picture],
    settings: Settings,
    video: VideoSettings,
    output: Path,
    *,
    callback: Callable[[FrameProgress], bool | None] | None = None,
    step_callback: Callback | None = None,
    encoder: VGG19 | None = None,
    keep_memory: bool = False,
    overwrite: bool = False,
    assemble_clip: bool = True,
) -> VideoResult:
    """Paint the frames of ``clip`` from ``video.start`` to ``video.end`` and, when all are done, write ``output``
    (unless ``assemble_clip`` is False: a segment painted for :func:`join_segments` needs only its frames).

    Never raises for Ctrl-C or a cancel: the frames finished so far stay in :func:`work_folder`, and the same
    call later goes on from them. ``overwrite`` empties a work folder of another run's frames. ``callback``
    hears of each finished frame, ``step_callback`` of each step within a frame (as :func:`brushwork.engine.run`'s
    callback); either stops the clip by returning ``False``.
    """
    start = time.perf_counter()
    work = work_folder(output)
    fingerprint = _fingerprint(clip, styles, settings, video)
    _claim(work, fingerprint, overwrite)
    inputs = _inputs(clip, styles, fingerprint)
    end = video.end if video.end is not None else math.inf
    total = len(painted_times(clip, video))
    size = frame_size(clip, settings)
    first_settings, later_settings = _frame_settings(clip, settings, video)
    encoder = encoder or encoder_for(settings, pick_device(settings.device))
    result = VideoResult("done", 0, total, 0.0, work)
    history: deque[tuple[Image.Image, Image.Image]] = deque(maxlen=max(HELD_TO))  # (photo, painted), newest first
    paint_times: list[float] = []
    full_size: list[float] = []  # when each full-size step of the first frame ended: what a later frame's step costs
    later_guess = None  # a later frame's seconds, until one is painted

    def first_frame_step(p: Progress) -> bool | None:
        if p.level == p.levels - 1:
            full_size.append(p.elapsed)
        return step_callback(p) if step_callback is not None else None

    try:
        for frame in frames(clip.path, video.start, end):
            path = work / f"frame_{frame.index:06d}.png"
            photo = frame.image.resize(size, Image.Resampling.LANCZOS)
            began = time.perf_counter()
            if path.exists():
                painted = Image.open(path).convert("RGB")
                seconds = 0.0
            else:
                picture = Picture(photo, None, f"frame {frame.index}")
                if not history or video.temporal_weight == 0:
                    outcome = run(
                        picture,
                        styles,
                        first_settings,
                        callback=first_frame_step,
                        encoder=encoder,
                        keep_memory=keep_memory,
                    )
                else:
                    warm, temporal, uncovered = _carried(history, photo, video.temporal_weight, encoder)
                    if uncovered.any():  # what came into view starts as a first frame would, not as streaks
                        own = _own_start(picture, styles, later_settings, encoder.mean.device)
                        warm = _filled(warm, uncovered, own)
                    outcome = run(
                        picture,
                        styles,
                        later_settings,
                        callback=step_callback,
                        encoder=encoder,
                        keep_memory=keep_memory,
                        start=warm,
                        temporal=temporal,
                    )
                if outcome.status != "done":  # a frame cut short is not a finished frame
                    result.status = "interrupted" if outcome.status == "interrupted" else outcome.status
                    break
                painted = outcome.image
                recipe = {**_recipe(settings, video, inputs), "frame": frame.index, "time": frame.time}
                recipes.save(painted, path, recipe, overwrite=True)
                seconds = time.perf_counter() - began
                if not history or video.temporal_weight == 0:
                    result.first_seconds = seconds if result.first_seconds is None else result.first_seconds
                    if video.temporal_weight and len(full_size) > 1:
                        step = (full_size[-1] - full_size[0]) / (len(full_size) - 1)
                        later_guess = step * (later_settings.steps + LEVEL_SETUP)
                else:
                    result.later_seconds.append(seconds)
                paint_times.append(seconds)
            history.appendleft((photo, painted))
            result.done += 1
            result.pictures.append((frame.time, path))
            if callback is not None:
                elapsed = time.perf_counter() - start
                # what the frames left cost: the later frames' recent time (the first costs many times more)
                recent = (result.later_seconds if video.temporal_weight else paint_times)[-5:]
                rate = sum(recent) / len(recent) if recent else later_guess or (paint_times or [0.0])[-1]
                progress = FrameProgress(
                    result.done, total, frame.index, seconds, elapsed, rate * (total - result.done), path
                )
                if callback(progress) is False:
                    result.status = "cancelled"
                    break
    except KeyboardInterrupt:
        result.status = "interrupted"
    if result.status == "done" and result.done == 0:
        raise ImageError(f"{clip.path.name} has no frames between {video.start:g} s and {end:g} s")
    if result.status == "done" and assemble_clip:
        _assemble(result.pictures, clip, output, video.start, end)
    result.elapsed = time.perf_counter() - start
    return result


def _inputs(clip: ClipInfo, styles: Sequence[Picture], fingerprint: dict) -> list[dict[str, str]]:
    inputs = [{"role": "clip", "name": clip.path.name, "path": str(clip.path.resolve()), "sha256": fingerprint["clip"]}]
    return inputs + [
        {"role": "style", "name": s.name, "pixels_sha256": h} for s, h in zip(styles, fingerprint["styles"])
    ]


def _recipe(settings: Settings, video: VideoSettings, inputs: list[dict[str, str]]) -> dict:
    """What every painted frame's recipe holds besides its position and time."""
    return {
        "brushwork": __version__,
        "settings": settings.to_dict(),
        "seed": settings.seed,
        "video": video.to_dict(),
        "inputs": inputs,
    }


def _carried(
    history: Sequence[tuple[Image.Image, Image.Image]], photo: Image.Image, weight: float, encoder: VGG19
) -> tuple[Image.Image, Temporal, np.ndarray]:
    """The previous painted frame carried along the flow to this frame, the term holding this one to the
    frames :data:`HELD_TO` back (each pixel to the nearest of them where its flow is certain), and where the
    carried frame has no source: what came into view since the frame before."""
    device = encoder.mean.device
    target = np.zeros((photo.height, photo.width, 3), np.float32)
    sure = np.zeros((photo.height, photo.width), np.float32)
    start, uncovered = None, np.zeros((photo.height, photo.width), bool)
    for back in HELD_TO:
        if back > len(history):
            break
        before, painted = history[back - 1]
        backward = flow_between(photo, before)  # where each pixel of this frame was in that one
        carried = warp(np.asarray(painted, dtype=np.float32), backward, CARRY_SAMPLING)
        if start is None:
            start = Image.fromarray(np.clip(carried, 0, 255).round().astype(np.uint8))
            uncovered = ~inside(backward)
        new = certainty(backward, flow_between(before, photo)) * (1 - sure)
        target += new[..., None] * carried
        sure += new
    assert start is not None, "a frame is carried only when there is one before it"
    held = Image.fromarray(np.clip(target, 0, 255).round().astype(np.uint8))
    mask = torch.from_numpy(sure)[None, None].to(device)
    return start, Temporal(to_tensor(held).to(device), mask, weight), uncovered


def _own_start(picture: Picture, styles: Sequence[Picture], settings: Settings, device: torch.device) -> Image.Image:
    """Where the frame would start if it were the first (by default the photo in the paintings' colours)."""
    content, paintings = prepare_inputs(picture, styles, settings, picture.rgb.size, device)
    return to_pil(initial_image(content, paintings, blend_weights(settings, len(styles)), settings))


def _filled(carried: Image.Image, uncovered: np.ndarray, own: Image.Image) -> Image.Image:
    """The carried frame with what it has no source for taken from the frame's own start: warping would only
    stretch the edge pixels into streaks, which later frames then carry on and hold to. The seam is widened by
    the cubic sampling's reach and feathered."""
    mask = Image.fromarray(uncovered.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(5))
    return Image.composite(own, carried, mask.filter(ImageFilter.GaussianBlur(1.5)))


def assemble(result: VideoResult, clip: ClipInfo, video: VideoSettings, output: Path) -> None:
    """Write ``output`` from the frames ``result`` finished: the whole clip once done, after a stop the part
    painted so far (its sound cut to match)."""
    if not result.pictures:
        raise ImageError("no frame was finished, so there is no clip to write")
    last = result.pictures[-1][0]
    following = [t for t in clip.times if t > last + 1e-6]
    end = min(following[0] if following else math.inf, video.end if video.end is not None else math.inf)
    _assemble(result.pictures, clip, output, video.start, end)


def _assemble(pictures: list[tuple[float, Path]], clip: ClipInfo, output: Path, start: float, end: float) -> None:
    """Write the clip from its painted frames, atomically (a stopped assembly leaves no broken file)."""
    partial = output.with_name(f".{output.stem}.partial{output.suffix}")
    try:
        write_clip(pictures, clip, partial, start, end)
        partial.replace(output)
    except (OSError, av.error.FFmpegError) as exc:  # a full disk, say: the painted frames are all kept
        raise ImageError(
            f"cannot write {output}: {getattr(exc, 'strerror', None) or exc}; the painted frames are kept in "
            f"{work_folder(output)}: free some space and run the same command again to write the clip"
        ) from None
    finally:
        partial.unlink(missing_ok=True)


# --- a long clip in segments, painted in parallel (see brushwork.cluster) ---------------------------------

SEGMENT_OVERLAP = 4
"""Frames two neighbouring segments share (cross-faded) when no scene cut separates them."""


def segment_length(frames: int, workers: int, overlap: int = SEGMENT_OVERLAP) -> int:
    """Frames per segment that share ``frames`` out evenly over ``workers`` (each segment's first frame is painted
    coarse to fine, so segments are never much shorter than the overlap)."""
    return max(3 * overlap, -(-frames // workers) + overlap)


SCENE_CUT = 0.35
"""Half the L1 distance between neighbouring frames' grey histograms above which a new shot starts."""


@dataclass(frozen=True)
class Segment:
    """Frames ``first`` to ``last`` (positions in the clip, inclusive), painted as a clip of their own. Its first
    ``fade`` frames are the previous segment's last ones too: the two are cross-faded there."""

    first: int
    last: int
    fade: int = 0

    @property
    def name(self) -> str:
        return f"segment_{self.first:06d}_{self.last:06d}"


def scene_cuts(clip: ClipInfo, video: VideoSettings) -> list[int]:
    """Positions of the frames that start a new shot (the colour histogram jumps): a segment may start there
    with no cross-fade, since the picture itself jumps."""
    end = video.end if video.end is not None else math.inf
    cuts, before = [], None
    for frame in frames(clip.path, video.start, end):
        small = frame.image.convert("L").resize((64, 36))
        histogram = np.bincount(np.asarray(small).ravel() // 8, minlength=32) / small.width / small.height
        if before is not None and 0.5 * np.abs(histogram - before).sum() > SCENE_CUT:
            cuts.append(frame.index)
        before = histogram
    return cuts


def plan_segments(positions: Sequence[int], cuts: Sequence[int], length: int, overlap: int) -> list[Segment]:
    """Split the frames at ``positions`` at the scene ``cuts``, and each shot into segments of about ``length``
    frames that share ``overlap`` frames with the one before (cross-faded, so the seam does not jump)."""
    if not positions:
        return []
    overlap = max(0, min(overlap, length - 1))
    segments: list[Segment] = []
    shot_starts = [0] + [positions.index(c) for c in cuts if c in positions and c != positions[0]]
    for start, stop in zip(shot_starts, [*shot_starts[1:], len(positions)]):
        first, fade = start, 0
        while True:
            last = min(first + length - 1, stop - 1)
            if stop - 1 - last < overlap + 1:  # a remainder too short to stand alone joins this segment
                last = stop - 1
            segments.append(Segment(positions[first], positions[last], fade))
            if last == stop - 1:
                break
            first, fade = last + 1 - overlap, overlap
    return segments


SegmentRunner = Callable[[list[tuple[Segment, VideoSettings]], Callable[[Segment, list[bytes]], bool]], None]
"""Paints segments (each with the video settings that cover just it) anywhere, and hands each one's frames,
as PNG bytes, to the callback as it finishes; it stops once the callback returns ``False``."""


def paint_segment(
    encoder: VGG19, clip_path: Path, style_paths: Sequence[Path], settings: Settings, video: VideoSettings
) -> list[bytes]:
    """Paint one segment (``video`` covers just it) and give its frames as PNG bytes, for the driver to keep."""
    clip = probe(clip_path)
    styles = [load_image(path, "style") for path in style_paths]
    with tempfile.TemporaryDirectory(prefix="brushwork-segment-") as folder:
        out = Path(folder) / "segment.mp4"
        result = paint_clip(clip, styles, settings, video, out, encoder=encoder, assemble_clip=False)
        if result.status != "done":
            raise KeyboardInterrupt  # only Ctrl-C stops a segment: nothing comes back from it
        return [path.read_bytes() for _, path in result.pictures]


def paint_clip_in_segments(
    clip: ClipInfo,
    styles: Sequence[Picture],
    settings: Settings,
    video: VideoSettings,
    output: Path,
    runner: SegmentRunner,
    *,
    length: int,
    overlap: int = SEGMENT_OVERLAP,
    callback: Callable[[FrameProgress], bool | None] | None = None,
    on_plan: Callable[[Sequence[Segment], int], None] | None = None,
    overwrite: bool = False,
) -> VideoResult:
    """Paint a clip as segments of about ``length`` frames (split at scene cuts, else sharing ``overlap``
    cross-faded frames) that ``runner`` paints, in parallel where it can, each with the temporal term inside.

    The same work folder as :func:`paint_clip`: each finished segment's frames are kept in their own folder
    in it, so a stopped run goes on from the segments finished; the clip is joined, with its sound, at the end.
    ``on_plan`` hears of the segments, and how many of them are left to paint, before any is painted.
    """
    start = time.perf_counter()
    work = work_folder(output)
    fingerprint = {**_fingerprint(clip, styles, settings, video), "segments": {"length": length, "overlap": overlap}}
    _claim(work, fingerprint, overwrite)
    positions = painted_positions(clip, video)
    if not positions:
        end = f"{video.end:g} s" if video.end is not None else "its end"
        raise ImageError(f"{clip.path.name} has no frames between {video.start:g} s and {end}")
    segments = plan_segments(positions, scene_cuts(clip, video), length, overlap)
    painted: dict[Segment, list[Path]] = {}
    pending = []
    for segment in segments:
        if (work / segment.name / "done").exists():
            painted[segment] = sorted((work / segment.name).glob("frame_*.png"))
        else:
            pending.append((segment, segment_settings(clip, video, segment)))
    if on_plan is not None:
        on_plan(segments, len(pending))
    result = VideoResult("done", 0, len(positions), 0.0, work)
    result.done = len({p for seg in painted for p in range(seg.first, seg.last + 1)})
    fresh: list[int] = []

    def on_segment(segment: Segment, pictures: list[bytes]) -> bool:
        folder = work / segment.name
        folder.mkdir(exist_ok=True)
        paths = []
        for position, data in zip(range(segment.first, segment.last + 1), pictures):
            paths.append(_write_atomically(folder / f"frame_{position:06d}.png", data))
        (folder / "done").touch()  # the segment counts as finished only once all its frames are there
        painted[segment] = paths
        result.done = len({p for seg in painted for p in range(seg.first, seg.last + 1)})
        fresh.append(len(paths))
        if callback is None:
            return True
        elapsed = time.perf_counter() - start
        eta = elapsed / max(1, sum(fresh)) * (result.total - result.done)
        progress = FrameProgress(result.done, result.total, segment.last, elapsed, elapsed, eta, paths[-1])
        return callback(progress) is not False

    try:
        if pending:
            runner(pending, on_segment)
    except KeyboardInterrupt:
        result.status = "interrupted"
    if len(painted) < len(segments):
        result.status = "interrupted" if result.status == "done" else result.status
    else:
        join_segments(painted, clip, video, work, output, _recipe(settings, video, _inputs(clip, styles, fingerprint)))
        result.pictures = [(clip.times[p], work / f"frame_{p:06d}.png") for p in positions]
    result.elapsed = time.perf_counter() - start
    return result


def _write_atomically(path: Path, data: bytes) -> Path:
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:  # a write cut short (a full disk) leaves nothing half-written
        partial.unlink(missing_ok=True)
    return path


def join_segments(
    painted: dict[Segment, list[Path]],
    clip: ClipInfo,
    video: VideoSettings,
    work: Path,
    output: Path,
    recipe: dict,
) -> None:
    """Write every frame of the clip from its segments' frames into ``work`` (cross-fading where two segments
    share frames), then the clip with its sound into ``output``."""
    ordered = sorted(painted, key=lambda seg: seg.first)
    chosen: dict[int, Image.Image] = {}
    for segment in ordered:
        for position, path in zip(range(segment.first, segment.last + 1), painted[segment]):
            picture = Image.open(path).convert("RGB")
            if position in chosen:  # shared with the segment before: blend towards this one across the fade
                k = position - segment.first + 1
                picture = Image.blend(chosen[position], picture, k / (segment.fade + 1))
            chosen[position] = picture
    pictures = []
    for position in sorted(chosen):
        path = work / f"frame_{position:06d}.png"
        time = clip.times[position]
        recipes.save(chosen[position], path, {**recipe, "frame": position, "time": time}, overwrite=True)
        pictures.append((time, path))
    end = video.end if video.end is not None else math.inf
    _assemble(pictures, clip, output, video.start, end)


def segment_settings(clip: ClipInfo, video: VideoSettings, segment: Segment) -> VideoSettings:
    """The video settings that paint just ``segment`` of the clip."""
    end = clip.times[segment.last + 1] if segment.last + 1 < len(clip.times) else video.end
    return VideoSettings(clip.times[segment.first], end, video.temporal_weight, video.later_steps)
