"""A long clip in segments, painted in parallel (by :mod:`brushwork.cluster`) and joined with cross-fades.

A segment is painted as a clip of its own (:func:`~brushwork.video.painting.paint_clip`); segments start at scene
cuts, or else share a few frames with the one before, which are cross-faded so the seam does not jump.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from brushwork.core.errors import ImageError, SettingsError
from brushwork.core.settings import Settings, VideoSettings
from brushwork.engine import recipes
from brushwork.media.clips import ClipInfo, frames, probe
from brushwork.media.files import write_atomically
from brushwork.media.images import Picture, load_image
from brushwork.media.masks import RegionFiles, Regions, load_regions
from brushwork.model.device import encoder_for
from brushwork.model.network import VGG19
from brushwork.video.painting import FrameProgress, VideoResult, assemble_frames, clip_balanced, paint_clip
from brushwork.video.timeline import frame_size, no_frames, painted_positions
from brushwork.video.work_folder import (
    FRAMES,
    claim,
    fingerprint_of,
    frame_file,
    frame_recipe,
    work_folder,
)


class SegmentDiverged(ImageError):
    """A frame of a segment diverged: painted again, it would diverge again. It carries the setting to lower, and
    travels back from a Ray worker as it is (it pickles with its culprit)."""

    def __init__(self, message: str, culprit: str | None):
        super().__init__(message)
        self.culprit = culprit

    def __reduce__(self) -> tuple[type, tuple[str, str | None]]:
        return type(self), (str(self), self.culprit)


SEGMENT_OVERLAP = 4
"""Frames two neighbouring segments share (cross-faded) when no scene cut separates them."""


def segment_length(frames: int, workers: int, overlap: int = SEGMENT_OVERLAP) -> int:
    """Frames per segment that share ``frames`` out evenly over ``workers`` (each segment's first frame is painted
    coarse to fine, so segments are never much shorter than the overlap)."""
    return max(3 * overlap, -(-frames // workers) + overlap)


LAYOUT = "segments.json"
"""Where a work folder keeps the length its segments were planned at: a stopped run goes on in the same segments,
however many workers the next run has."""


def segmented(fingerprint: dict[str, Any], overlap: int = SEGMENT_OVERLAP) -> dict[str, Any]:
    """The work folder's fingerprint (:func:`~brushwork.video.work_folder.fingerprint_of`) of a clip painted in
    segments: its frames are kept by segment, so they are not those of a clip painted in one piece."""
    return {**fingerprint, "segments": {"overlap": overlap}}


def settled_length(
    work: Path, given: int | None, frames: int, workers: int, overlap: int = SEGMENT_OVERLAP, overwrite: bool = False
) -> int:
    """The segments' length: that of the stopped run whose segments ``work`` holds, else ``given``, else the
    ``frames`` shared out over ``workers``; kept in ``work`` (:data:`LAYOUT`). A ``given`` length other than that of
    segments already painted is refused, unless ``overwrite``: they are then painted again."""
    try:
        kept = json.loads((work / LAYOUT).read_text())["length"]
    except (OSError, ValueError, KeyError, TypeError):
        kept = None
    if isinstance(kept, int) and kept >= 2 and given not in (None, kept):
        if any(work.glob("segment_*/done")) and not overwrite:
            raise SettingsError(
                f"is {kept} for the segments already painted in {work}; give {kept} to go on, or overwrite them",
                "segment_frames",
            )
        for folder in work.glob("segment_*"):  # none finished, or to be painted again
            shutil.rmtree(folder)
        kept = None
    if isinstance(kept, int) and kept >= 2:
        return kept
    length = given or segment_length(frames, workers, overlap)
    write_atomically(work / LAYOUT, json.dumps({"length": length}).encode())
    return length


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
    cuts, before = [], None
    for frame in frames(clip.path, video.start, video.until):
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


SegmentRunner = Callable[[Settings, list[tuple[Segment, VideoSettings]], Callable[[Segment, list[bytes]], bool]], None]
"""Paints segments with the settings given (each with the video settings that cover just it) anywhere, and hands
each one's frames, as PNG bytes, to the callback as it finishes; it stops once the callback returns ``False``."""


def paint_segment(
    encoder: VGG19,
    clip_path: Path,
    style_paths: Sequence[Path],
    settings: Settings,
    video: VideoSettings,
    region_files: RegionFiles | None = None,
) -> list[bytes]:
    """Paint one segment (``video`` covers just it) and give its frames as PNG bytes, for the driver to keep."""
    clip = probe(clip_path)
    styles = [load_image(path, "style") for path in style_paths]
    regions = load_regions(region_files, clip.upright, styles, "frame")
    with tempfile.TemporaryDirectory(prefix="brushwork-segment-") as folder:
        out = Path(folder) / "segment.mp4"
        result = paint_clip(clip, styles, settings, video, out, encoder=encoder, assemble_clip=False, regions=regions)
        if result.status == "diverged":
            raise SegmentDiverged(result.message, result.culprit)
        if result.status != "done":
            raise KeyboardInterrupt  # Ctrl-C: nothing comes back from the segment
        return [path.read_bytes() for _, path in result.pictures]


def _frames_in(segments: Iterable[Segment]) -> int:
    """How many frames the segments hold, those they share counted once."""
    return len({p for segment in segments for p in range(segment.first, segment.last + 1)})


def paint_clip_in_segments(
    clip: ClipInfo,
    styles: Sequence[Picture],
    settings: Settings,
    video: VideoSettings,
    output: Path,
    runner: SegmentRunner,
    *,
    length: int | None = None,
    workers: int = 1,
    overlap: int = SEGMENT_OVERLAP,
    callback: Callable[[FrameProgress], bool | None] | None = None,
    on_plan: Callable[[Sequence[Segment], int], None] | None = None,
    overwrite: bool = False,
    regions: Regions | None = None,
) -> VideoResult:
    """Paint a clip as segments of about ``length`` frames (split at scene cuts, else sharing ``overlap``
    cross-faded frames) that ``runner`` paints, in parallel where it can, each with the temporal term inside.

    The same work folder as :func:`paint_clip`: each finished segment's frames are kept in their own folder
    in it, so a stopped run goes on from the segments finished, in the segments it planned (``length`` None: the
    frames shared out over ``workers``; see :func:`settled_length`); the clip is joined, with its sound, at the
    end. ``on_plan`` hears of the segments, and how many of them are left to paint, before any is painted.
    ``regions`` are the masks the runner's workers paint with (for the work folder's fingerprint and the balance).
    """
    start = time.perf_counter()
    positions = painted_positions(clip, video)
    if not positions:  # before the work folder is made: a refused clip leaves nothing behind
        raise no_frames(clip, video)
    # 1. The work folder, fingerprinted as a clip in segments: another run's frames are refused.
    work = work_folder(output)
    fingerprint = segmented(fingerprint_of(clip, styles, settings, video, regions), overlap)
    claim(work, fingerprint, overwrite)
    length = settled_length(work, length, len(positions), workers, overlap, overwrite)
    # 2. The segments, and which of them an earlier run finished.
    segments = plan_segments(positions, scene_cuts(clip, video), length, overlap)
    kept = _Kept(work, len(positions), callback)
    pending = []
    for segment in segments:
        if (work / segment.name / "done").exists():
            kept.painted[segment] = sorted((work / segment.name).glob(FRAMES))
        else:
            pending.append((segment, segment_settings(clip, video, segment)))
    result = kept.result
    result.done = _frames_in(kept.painted)
    if on_plan is not None:
        on_plan(segments, len(pending))
    # 3. The rest painted by the runner at one strength for the whole clip, each segment kept the moment it is back.
    try:
        if pending:
            runner(_balanced_once(clip, styles, settings, video, regions), pending, kept.segment)
    except KeyboardInterrupt:
        result.status = "interrupted"
    except SegmentDiverged as exc:  # as a clip painted in one piece says it: the frames finished are kept
        result.status, result.message, result.culprit = "diverged", str(exc), exc.culprit
    # 4. The clip joined from the segments, once all are painted.
    if len(kept.painted) < len(segments):
        result.status = "interrupted" if result.status == "done" else result.status
    else:
        recipe = frame_recipe(settings, video, clip, styles, fingerprint)
        try:
            join_segments(kept.painted, clip, video, work, output, recipe, overwrite)
            result.pictures = [(clip.times[p], work / frame_file(p)) for p in positions]
        except KeyboardInterrupt:  # every segment is kept: the same call joins them
            result.status = "interrupted"
    result.elapsed = time.perf_counter() - start
    return result


def _balanced_once(
    clip: ClipInfo,
    styles: Sequence[Picture],
    settings: Settings,
    video: VideoSettings,
    regions: Regions | None,
) -> Settings:
    """The settings balanced on the clip's first frame, as a clip painted in one piece is: every segment is then
    painted at the same strength, whichever frame it starts at. Measured here on the CPU: the workers' device (a
    GPU) need not be this machine's."""
    if not settings.style_balance:
        return settings
    with contextlib.closing(frames(clip.path, video.start, video.until)) as each:
        first = next(each).image
    photo = first.resize(frame_size(clip, settings), Image.Resampling.LANCZOS)
    here = settings.replace(device="cpu")
    return clip_balanced(settings, photo, styles, regions, encoder_for(here, torch.device("cpu")))


class _Kept:
    """The segments painted so far, by this run or one before it: each one's frames written into the work folder
    the moment it comes back, and the clip's progress told."""

    def __init__(self, work: Path, total: int, callback: Callable[[FrameProgress], bool | None] | None):
        self.work, self.callback = work, callback
        self.painted: dict[Segment, list[Path]] = {}
        self.result = VideoResult("done", 0, total, 0.0, work)
        self.fresh = 0
        self.start = time.perf_counter()

    def segment(self, segment: Segment, pictures: list[bytes]) -> bool:
        """Keep a segment's frames (it counts as finished once its ``done`` mark is written); False: stop."""
        folder = self.work / segment.name
        try:
            folder.mkdir(exist_ok=True)
            paths = [
                write_atomically(folder / frame_file(position), data)
                for position, data in zip(range(segment.first, segment.last + 1), pictures)
            ]
            (folder / "done").touch()
        except OSError as exc:
            raise ImageError(
                f"cannot write into {folder}: {exc.strerror or exc}; free some space and run again"
            ) from None
        self.painted[segment] = paths
        self.fresh += len(paths)
        self.result.painted = self.fresh
        self.result.done = _frames_in(self.painted)
        if self.callback is None:
            return True
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.fresh * (self.result.total - self.result.done)
        took = elapsed / self.fresh  # a frame's share of the painting so far
        progress = FrameProgress(self.result.done, self.result.total, segment.last, took, elapsed, eta, paths[-1])
        return self.callback(progress) is not False


def join_segments(
    painted: dict[Segment, list[Path]],
    clip: ClipInfo,
    video: VideoSettings,
    work: Path,
    output: Path,
    recipe: dict[str, Any],
    overwrite: bool = True,
) -> None:
    """Write every frame of the clip from its segments' frames into ``work`` (cross-fading where two segments
    share frames), then the clip with its sound into ``output`` (see :func:`assemble_frames`)."""
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
        path = work / frame_file(position)
        time = clip.times[position]
        recipes.save(chosen[position], path, {**recipe, "frame": position, "time": time}, overwrite=True)
        pictures.append((time, path))
    assemble_frames(pictures, clip, output, video.start, video.until, overwrite)


def segment_settings(clip: ClipInfo, video: VideoSettings, segment: Segment) -> VideoSettings:
    """The video settings that paint just ``segment`` of the clip."""
    end = clip.times[segment.last + 1] if segment.last + 1 < len(clip.times) else video.end
    return VideoSettings(clip.times[segment.first], end, video.temporal_weight, video.later_steps)
