"""Painting a clip: frame after frame, each held to the one before along the optical flow (Ruder et al. 2016).

The first frame is painted as a picture is (coarse to fine). Every later frame starts from the
previous painted frame, warped along the flow to where things are now, and its loss adds a
temporal term that holds it to that warped frame wherever the flow is certain
(:mod:`brushwork.media.flow`), so strokes stay put and do not flicker; being warm-started, it needs
only :attr:`VideoSettings.later_steps` steps at full size.

Work is never lost: each finished frame is written (atomically, with its recipe) into a work
folder beside the output, ``OUT.frames/``, the moment it is done. Running the same command
again skips the frames already there, and the clip is assembled from the folder at the end,
so it can always be assembled again.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
from PIL import Image

from brushwork.core.errors import DiskFull, ImageError
from brushwork.core.interrupts import deaf_to_stops
from brushwork.core.settings import Settings, VideoSettings
from brushwork.core.words import count, duration
from brushwork.engine import recipes
from brushwork.engine.inputs import balance, measure_and_plan
from brushwork.engine.runner import Callback, Progress, Result, run
from brushwork.media.clips import TIME_SLACK, ClipInfo, Frame, frames, write_clip
from brushwork.media.files import out_of_room, written_atomically
from brushwork.media.images import Picture
from brushwork.media.masks import Regions
from brushwork.model.device import encoder_for, out_of_memory_worded, pick_device
from brushwork.model.network import VGG19
from brushwork.planning.forecast import LEVEL_SETUP
from brushwork.planning.machine import Machine
from brushwork.planning.run_plan import RunPlan
from brushwork.video import carry
from brushwork.video.timeline import frame_settings, frame_size, no_frames, painted_times
from brushwork.video.work_folder import claim, fingerprint_of, frame_file, frame_recipe, kept_frame, work_folder


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
    """``done``, ``interrupted`` (Ctrl-C), ``cancelled`` (callback) or ``diverged`` (a frame's loss turned NaN:
    ``message`` says where, ``culprit`` names the setting to lower; painting it again would diverge again)."""
    done: int
    total: int
    elapsed: float
    work: Path
    first_seconds: float | None = None
    """Seconds the first frame took to paint in this run (None if it was already there)."""
    later_seconds: list[float] = field(default_factory=list)
    """Seconds of each later frame painted in this run."""
    painted: int = 0
    """Frames painted in this run (not found already painted)."""
    pictures: list[tuple[float, Path]] = field(default_factory=list)
    """(seconds from the clip's start, picture) of every finished frame, in order."""
    unfinished: Path | None = None
    """The picture so far of the frame a stop cut short, in the work folder (painted again by the next run)."""
    message: str = ""
    """Why a diverged clip stopped, naming its frame."""
    culprit: str | None = None
    """The setting to lower when a frame diverged (a ``Settings`` field, as ``Result.culprit``)."""


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
        """The first frame's plan (once it is painted, a later frame's), then the later frames and the time of the
        frames left, for people."""
        width, height = self.first.levels[-1].size
        if self.kept >= self.frames:
            return f"all {self.frames} frames are already painted: the clip is only put together"
        if self.kept:  # the first frame is painted: every frame left is a later one
            text = self.later.describe().replace("plan:", "plan of each frame left:", 1)
            text += f"\n{self.kept} of {self.frames} frames are already painted"
        else:
            text = self.first.describe().replace("plan:", "plan of the first frame:", 1)
        later = self.frames - max(self.kept, 1)
        if later > 0:
            text += (
                f"\n{'then ' if not self.kept else 'the '}{count(later, 'later frame')} of "
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
    idle: Machine | None = None,
) -> ClipPlan:
    """Plan a clip before painting it (see :func:`~brushwork.engine.inputs.measure_and_plan`, which takes
    ``idle``), ``kept`` of its frames already painted (:func:`~brushwork.video.work_folder.frames_kept`); refuses a
    part of the clip with no frames, and a frame size that cannot fit, with one line."""
    count = len(painted_times(clip, video))
    if count == 0:
        raise no_frames(clip, video)
    first, later = frame_settings(clip, settings, video)
    frame = Picture(Image.new("RGB", frame_size(clip, settings)), None, clip.path.name)
    return ClipPlan(
        measure_and_plan(frame, styles, first, encoder, idle),
        measure_and_plan(frame, styles, later, encoder, idle),
        count,
        kept,
    )


@out_of_memory_worded()  # the network, the balance and a frame's own start use the device outside the engine too
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
    regions: Regions | None = None,
) -> VideoResult:
    """Paint the frames of ``clip`` from ``video.start`` to ``video.end`` and, when all are done, write ``output``
    (unless ``assemble_clip`` is False: a segment painted for :func:`~brushwork.video.segments.join_segments`
    needs only its frames).

    Never raises for Ctrl-C or a cancel: the frames finished so far stay in :func:`work_folder`, and the same
    call later goes on from them. ``overwrite`` empties a work folder of another run's frames, and lets the clip
    replace a file put at ``output`` while the frames were painted (without it, that file is kept: an
    :class:`~brushwork.core.errors.OutputExistsError` once every frame is painted and kept). ``callback``
    hears of each finished frame, ``step_callback`` of each step within a frame (as
    :func:`~brushwork.engine.runner.run`'s callback); either stops the clip by returning ``False``.
    ``regions`` (drawn on the clip as a player shows it) hold for every frame: masks that stay where they are.
    """
    start = time.perf_counter()
    total = len(painted_times(clip, video))
    if total == 0:  # before the work folder is made: a refused clip leaves nothing behind
        raise no_frames(clip, video)
    # 1. The work folder: this run's frames go on from where it stopped, another run's are refused.
    work = work_folder(output)
    fingerprint = fingerprint_of(clip, styles, settings, video, regions)
    claim(work, fingerprint, overwrite)
    recipe = frame_recipe(settings, video, clip, styles, fingerprint)
    result = VideoResult("done", 0, total, 0.0, work)
    encoder = encoder or encoder_for(settings, pick_device(settings.device))
    painter = _FramePainter(clip, styles, settings, video, regions, encoder, keep_memory, step_callback)
    # 2. Frame after frame: one already in the work folder is taken as it is, the others painted and kept.
    try:
        for frame in frames(clip.path, video.start, video.until):
            path = work / frame_file(frame.index)
            photo = frame.image.resize(painter.size, Image.Resampling.LANCZOS)
            painter.balance(photo)
            finished = _kept_frame(path) or _painted_frame(painter, photo, frame, path, recipe, result)
            if finished is None:  # cut short, or diverged: ``result`` says which
                break
            painter.remember(photo, finished.image)
            result.done += 1
            result.pictures.append((frame.time, path))
            # 3. Say how far it is, and stop if asked to.
            if callback is not None:
                left = painter.clock.left(result)
                elapsed = time.perf_counter() - start
                progress = FrameProgress(result.done, total, frame.index, finished.seconds, elapsed, left, path)
                if callback(progress) is False:
                    result.status = "cancelled"
                    break
        # 4. The clip, once every frame is painted.
        if result.status == "done" and result.done == 0:
            raise no_frames(clip, video)
        if result.status == "done" and assemble_clip:
            assemble_frames(result.pictures, clip, output, video.start, video.until, overwrite)
    except KeyboardInterrupt:  # while painting or joining: the frames finished are kept either way
        result.status = "interrupted"
    result.elapsed = time.perf_counter() - start
    return result


@dataclass
class _Finished:
    """A frame in the work folder, and the seconds painting it took this run (0: an earlier run painted it)."""

    image: Image.Image
    seconds: float = 0.0


def _painted_frame(
    painter: _FramePainter, photo: Image.Image, frame: Frame, path: Path, recipe: dict[str, Any], result: VideoResult
) -> _Finished | None:
    """Paint a frame and keep it at ``path``; None when it did not finish, with why in ``result`` (a frame cut
    short is kept beside it as it is so far; one that diverged keeps nothing, as painted again it would diverge
    again)."""
    began = time.perf_counter()
    outcome = painter.paint(Picture(photo, None, f"frame {frame.index}"))
    kept_so_far = path.with_name(f"unfinished_{path.name}")  # not a frame: the next run paints it again
    if outcome.status == "diverged":
        result.status, result.culprit = outcome.status, outcome.culprit
        result.message = f"frame {frame.index}: {outcome.cause}"
        return None
    if outcome.status != "done":
        result.status = outcome.status
        result.unfinished = _keep_so_far(outcome, kept_so_far, {**recipe, "frame": frame.index})
        return None
    recipes.save(outcome.image, path, {**recipe, "frame": frame.index, "time": frame.time}, overwrite=True)
    kept_so_far.unlink(missing_ok=True)
    seconds = time.perf_counter() - began
    painter.clock.took(seconds, result, first=painter.starts_afresh)
    result.painted += 1
    return _Finished(outcome.image, seconds)


def _keep_so_far(outcome: Result, path: Path, recipe: dict[str, Any]) -> Path | None:
    """Write the picture a stop cut short at ``path``, with how far it got; None if it painted no step, or the
    disk does not take it (the frame is painted again either way)."""
    if not outcome.steps:
        return None
    recipe = {**recipe, "run": {"status": outcome.status, "steps": outcome.steps}}
    try:
        with deaf_to_stops():
            return recipes.save(outcome.image, path, recipe, overwrite=True)
    except ImageError:
        return None


def _kept_frame(path: Path) -> _Finished | None:
    """A frame an earlier run of the same clip finished, as :func:`_painted_frame` gives one (see
    :func:`~brushwork.video.work_folder.kept_frame`)."""
    picture = kept_frame(path)
    return None if picture is None else _Finished(picture)


def clip_balanced(
    settings: Settings, photo: Image.Image, styles: Sequence[Picture], regions: Regions | None, encoder: VGG19
) -> Settings:
    """The settings with the style weights scaled by the clip's first frame, ``photo`` (see
    :func:`~brushwork.model.balance.balanced`): one strength for the whole clip, wherever it is painted."""
    return balance(settings, photo, styles, regions, encoder, encoder.mean.device)


class _FramePainter:
    """Paints a clip's frames in order: the first as a picture is, each later one started from the frame before
    carried along the flow and held to it (unless ``temporal_weight`` is 0), all at the strength the first
    frame's balance gives (one strength for the clip: no flicker)."""

    def __init__(
        self,
        clip: ClipInfo,
        styles: Sequence[Picture],
        settings: Settings,
        video: VideoSettings,
        regions: Regions | None,
        encoder: VGG19,
        keep_memory: bool,
        step_callback: Callback | None,
    ):
        self.styles, self.video, self.regions, self.encoder = styles, video, regions, encoder
        self.keep_memory, self.step_callback = keep_memory, step_callback
        self.size = frame_size(clip, settings)
        self.first, self.later = frame_settings(clip, settings, video)
        self.history: deque[tuple[Image.Image, Image.Image]] = deque(maxlen=max(carry.HELD_TO))  # (photo, painted)
        self.clock = _FrameClock(video, self.later.steps)

    @property
    def starts_afresh(self) -> bool:
        """Whether the next frame is painted as a first frame (no frame before it to carry, or no temporal term)."""
        return not self.history or self.video.temporal_weight == 0

    def balance(self, photo: Image.Image) -> None:
        """Scale the style weights by the clip's first frame, once (see :func:`clip_balanced`)."""
        if not self.first.style_balance:
            return
        self.first, self.later = (
            clip_balanced(s, photo, self.styles, self.regions, self.encoder) for s in (self.first, self.later)
        )

    def paint(self, picture: Picture) -> Result:
        """Paint one frame (never raises for Ctrl-C or a cancel: see the result's status)."""
        if self.starts_afresh:
            return self._run(picture, self.first, callback=self.clock.timing(self.step_callback))
        warm, temporal, uncovered = carry.carried(self.history, picture.rgb, self.video.temporal_weight, self.encoder)
        if uncovered.any():  # what came into view starts as a first frame would, not as streaks
            own = carry.own_start(picture, self.styles, self.later, self.regions, self.encoder.mean.device)
            warm = carry.filled(warm, uncovered, own)
        return self._run(picture, self.later, callback=self.step_callback, start=warm, extra=[temporal])

    def _run(self, picture: Picture, settings: Settings, **options: Any) -> Result:
        return run(
            picture,
            self.styles,
            settings,
            encoder=self.encoder,
            keep_memory=self.keep_memory,
            regions=self.regions,
            **options,
        )

    def remember(self, photo: Image.Image, painted: Image.Image) -> None:
        self.history.appendleft((photo, painted))


class _FrameClock:
    """What the frames left will take: the recent later frames' time (the first costs many times more), guessed
    from the first frame's full-size steps until a later frame is painted."""

    def __init__(self, video: VideoSettings, later_steps: int):
        self.video, self.later_steps = video, later_steps
        self.full_size: list[float] = []  # when each full-size step of a first frame ended
        self.painted: list[float] = []
        self.later_guess: float | None = None

    def timing(self, step_callback: Callback | None) -> Callback:
        """A first frame's step callback that also notes when its full-size steps end."""

        def step(p: Progress) -> bool | None:
            if p.level == p.levels - 1:
                self.full_size.append(p.elapsed)
            return step_callback(p) if step_callback is not None else None

        return step

    def took(self, seconds: float, result: VideoResult, first: bool) -> None:
        """A frame painted in ``seconds``, noted in ``result`` as the first frame's or a later one's."""
        self.painted.append(seconds)
        if not first:
            result.later_seconds.append(seconds)
            return
        result.first_seconds = seconds if result.first_seconds is None else result.first_seconds
        if self.video.temporal_weight and len(self.full_size) > 1:
            step = (self.full_size[-1] - self.full_size[0]) / (len(self.full_size) - 1)
            self.later_guess = step * (self.later_steps + LEVEL_SETUP)

    def left(self, result: VideoResult) -> float:
        recent = (result.later_seconds if self.video.temporal_weight else self.painted)[-5:]
        rate = sum(recent) / len(recent) if recent else self.later_guess or (self.painted or [0.0])[-1]
        return rate * (result.total - result.done)


def assemble(result: VideoResult, clip: ClipInfo, video: VideoSettings, output: Path) -> None:
    """Write ``output`` from the frames ``result`` finished: the whole clip once done, after a stop the part
    painted so far (its sound cut to match)."""
    if not result.pictures:
        raise ImageError("no frame was finished, so there is no clip to write")
    last = result.pictures[-1][0]
    following = [t for t in clip.times if t > last + TIME_SLACK]
    end = min(following[0] if following else math.inf, video.until)
    assemble_frames(result.pictures, clip, output, video.start, end)


def assemble_frames(
    pictures: list[tuple[float, Path]], clip: ClipInfo, output: Path, start: float, end: float, overwrite: bool = True
) -> None:
    """Write the clip from its painted frames, atomically (a stopped assembly leaves no broken file); a file put at
    ``output`` while the frames were painted is kept unless ``overwrite``."""
    with written_atomically(output, overwrite) as partial:
        try:
            write_clip(pictures, clip, partial, start, end)
        except (OSError, av.error.FFmpegError) as exc:  # a full disk, say: the painted frames are all kept
            raise (DiskFull if out_of_room(exc) else ImageError)(
                f"cannot write {output}: {getattr(exc, 'strerror', None) or exc}; the painted frames are kept in "
                f"{work_folder(output)}: free some space and run the same command again to write the clip"
            ) from None
