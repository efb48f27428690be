"""Painting on a Ray cluster: a batch's items, or a long clip's segments, spread over workers.

Ray (an optional extra: ``pip install 'brushwork[ray]'``) schedules; brushwork only says what runs
where. Each worker is a Ray actor that loads the VGG19 once and keeps it: one per GPU, or one per
``cpus`` cores. Workers need no shared disk: the driver sends each item's input files as bytes and
gets back the painted picture (or frames), and writes everything itself, atomically, so a worker
killed mid-item leaves no broken file. An item whose worker dies is given to a fresh worker, at
most ``retries`` more times, then fails with the reason.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import torch

from brushwork.batch.inputs import Item
from brushwork.batch.log import Record
from brushwork.batch.run import OnRecord, finish_item, item_key, paint_pictures, record_of
from brushwork.core import words
from brushwork.core.errors import BrushworkError, ImageError, SettingsError, first_line
from brushwork.core.interrupts import deaf_to_stops
from brushwork.core.settings import RayOptions, Settings, VideoSettings
from brushwork.engine.runner import Result
from brushwork.media.clips import ClipInfo
from brushwork.media.images import Picture
from brushwork.media.masks import RegionFiles, Regions
from brushwork.model.device import encoder_for, pick_device
from brushwork.video.painting import FrameProgress, VideoResult
from brushwork.video.segments import Segment, SegmentDiverged, paint_clip_in_segments, paint_segment

__all__ = [
    "RayExecutor",
    "RaySegments",
    "Parcel",
    "Pool",
    "connect",
    "ray_segments",
    "session",
    "worker_counts",
    "spread",
    "paint_clip_on_ray",
]

LOCAL = "local"
STOP_WAIT = 60.0
"""Seconds Ctrl-C waits for the workers to hand back their items so far (a step of a print-size picture on a
CPU can take several)."""
_OR_LOCAL = f"or use {LOCAL} (a Ray started on this machine)"
T = TypeVar("T")


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BrushworkError("Ray is not installed; pip install 'brushwork[ray]' (or pip install ray)") from None
    return ray


def connect(address: str) -> Any:
    """The ``ray`` module, connected: ``local`` starts a Ray instance on this machine (or joins the one this
    process already started), ``auto`` joins the cluster this machine belongs to, else ``HOST:PORT`` of a head."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    if address not in (LOCAL, "auto"):
        _check_reachable(address)  # Ray itself waits for an unreachable head for minutes
    try:
        if address == LOCAL:
            # Ray starts its workers at niceness 15; painting is the job here, so it competes like a local run
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(address="local", include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise BrushworkError(
            f"cannot reach a Ray cluster at {address!r} ({first_line(exc)}); "
            f"start one with 'ray start --head' {_OR_LOCAL}"
        ) from None
    return ray


@contextmanager
def session(address: str) -> Iterator[Any]:
    """:func:`connect`, and at the end stop what this call started, deaf to Ctrl-C: the work is over by then, and
    Ray's own exit handler, interrupted, prints a traceback and exits 0. A connection made before is left open."""
    ray = _ray()
    opened = not ray.is_initialized()
    try:
        yield connect(address)
    finally:  # an error inside (a segment that cannot be painted) stops it too
        if opened and ray.is_initialized():
            with deaf_to_stops():
                ray.shutdown()


def _check_reachable(address: str) -> None:
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise SettingsError(f"takes local, auto or HOST:PORT of a cluster's head, not {address!r}", "ray")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise BrushworkError(
            f"cannot reach a Ray cluster at {address!r} ({exc.strerror or exc}); start one with 'ray start --head' "
            f"(it prints the address) {_OR_LOCAL}"
        ) from None


@dataclass(frozen=True)
class Parcel:
    """An item's input files as bytes, and the start picture its settings name, for a worker that cannot see the
    driver's disk."""

    item: Item
    files: tuple[tuple[str, bytes], ...]
    """(file name, bytes) of each of the item's inputs (:meth:`~brushwork.batch.inputs.Item.inputs`), then of the
    start picture the settings name, if any."""

    @classmethod
    def of(cls, item: Item, settings: Settings) -> Parcel:
        """The files as they are now; an unreadable one travels empty and fails the item with its reason."""

        def read(path: Path) -> bytes:
            try:
                return path.read_bytes()
            except OSError:
                return b""

        paths = [*item.inputs(), *(path for _, path in _shipped(settings))]
        return cls(item, tuple((path.name, read(path)) for path in paths))

    @contextmanager
    def unpacked(self, settings: Settings) -> Iterator[tuple[Item, Settings]]:
        """The item and the settings with their files written to a temporary folder (each in its own, so equal
        names do not clash)."""
        with tempfile.TemporaryDirectory(prefix="brushwork-") as folder:
            paths = []
            for index, (name, data) in enumerate(self.files):
                path = Path(folder) / str(index) / name
                path.parent.mkdir()
                path.write_bytes(data)
                paths.append(path)
            own = len(self.item.inputs())
            item = self.item.moved(paths[:own], Path(folder) / "unused")
            named = [role for role, _ in _shipped(settings)]
            yield item, settings.replace(**{role: str(path) for role, path in zip(named, paths[own:])})


def _shipped(settings: Settings) -> list[tuple[str, Path]]:
    """The files the settings name that travel with each item: the start picture. Not the weights: a worker loads
    its network once, as it starts, from their path."""
    return [(role, path) for role, path in settings.files() if role != "weights"]


class Painter:
    """A worker: the network loaded once, kept for every item it paints. It takes two calls at once (see
    :class:`Pool`), so that :meth:`stop` reaches it while it paints."""

    def __init__(self, settings: Settings, threads: int):
        torch.set_num_threads(max(1, threads))
        self.encoder = encoder_for(settings, pick_device(settings.device))
        self.stopping = threading.Event()

    def stop(self) -> None:
        """End the item being painted after its current step: :meth:`paint` then returns its picture so far. For
        good: the driver stops the workers next."""
        self.stopping.set()

    def _going(self, _: object) -> bool:
        return not self.stopping.is_set()

    def paint(self, parcel: Parcel, settings: Settings) -> Result | Record:
        with parcel.unpacked(settings) as (item, copied):
            outcome = paint_pictures(item, copied, self.encoder, self._going)
        if isinstance(outcome, Record):  # name the driver's files, not the worker's copies
            error = outcome.error
            copies = [*item.inputs(), *(path for _, path in copied.files())]
            for copy, original in zip(copies, [*parcel.item.inputs(), *(path for _, path in settings.files())]):
                error = error.replace(str(copy), str(original))
            outcome = replace(
                outcome,
                photo=str(parcel.item.photo),
                styles=[str(s) for s in parcel.item.styles],
                output=str(parcel.item.output),
                error=error,
            )
        return outcome

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(encoder, *args)`` here (a clip's segment, see :mod:`brushwork.video.segments`)."""
        return function(self.encoder, *args)


@dataclass
class RayExecutor:
    """Paints a batch's items on Ray actors (see :class:`brushwork.batch.run.Executor`)."""

    address: str = LOCAL
    options: RayOptions = RayOptions()
    """Its workers (None: one per GPU, else one per ``worker_cpus`` cores of the cluster), their cores and the
    further workers an item gets when the one painting it dies (``segment_frames`` is a clip's, not a batch's)."""
    on_start: Callable[[Pool], None] | None = None
    """Hears of the workers once they are started (to say how many)."""
    on_stop: Callable[[int, float], None] | None = None
    """Hears, at Ctrl-C, how many items are being handed back and for how many seconds at most (to say so)."""

    def __call__(self, items: Sequence[Item], settings: Settings, on_record: OnRecord) -> None:
        ray = connect(self.address)
        began: dict[Item, float] = {}  # when its current worker took it
        working: dict[Item, tuple[Any, Any]] = {}  # its worker and the reference to its outcome, once sent
        tries: dict[Item, int] = {}  # workers that took it

        def submit(actor: Any, item: Item) -> Any:
            working.pop(item, None)  # a dead worker's
            tries[item] = tries.get(item, 0) + 1
            began[item] = time.perf_counter()
            ref = actor.paint.remote(Parcel.of(item, settings), settings)  # Ctrl-C here: the item was never sent
            working[item] = actor, ref
            return ref

        def done(item: Item, outcome: Result | Record, attempt: int) -> bool:
            if isinstance(outcome, Result):
                outcome = finish_item(item, settings, item_key(item, settings), outcome, began.pop(item))
            else:
                began.pop(item)
                outcome.key = item_key(item, settings)
            outcome.attempts = attempt
            return on_record(outcome) and outcome.status != "interrupted"

        def ended(item: Item, status: str, reason: str, attempt: int = 1) -> bool:
            key, why = item_key(item, settings), f"{reason}; nothing written"
            record = record_of(item, key, status, began.pop(item), why)
            if status == "interrupted":  # stopped here while its worker painted: all of that time was spent on it
                record.painting = record.seconds
            record.attempts = attempt
            return on_record(record)

        options = self.options
        with Pool(ray, settings, options.workers, options.worker_cpus, len(items)) as pool:
            if self.on_start is not None:
                self.on_start(pool)
            try:
                spread(pool, list(items), submit, done, lambda i, why, n: ended(i, "failed", why, n), options.retries)
            except KeyboardInterrupt:  # the items being painted keep their pictures so far, as a local run's one
                painting = {item: working[item] for item in began if item in working}
                if painting and self.on_stop is not None:
                    self.on_stop(len(painting), STOP_WAIT)
                stopped = _stop(ray, painting, STOP_WAIT)
                for item in list(began):
                    if item in stopped:
                        done(item, stopped[item], tries[item])
                    else:
                        ended(item, "interrupted", "interrupted", tries.get(item, 1))
                raise


def _stop(ray: Any, working: dict[Item, tuple[Any, Any]], wait: float) -> dict[Item, Result | Record]:
    """Ask each worker to end its item now, and gather what comes back within ``wait`` seconds (or until Ctrl-C
    again): a run the stop cut short, as interrupted; one that finished, or diverged, before the stop reached it, as
    it is."""
    for actor, _ in working.values():
        actor.stop.remote()
    items = {ref: item for item, (_, ref) in working.items()}
    outcomes: dict[Item, Result | Record] = {}
    deadline = time.monotonic() + wait
    try:
        while len(outcomes) < len(items) and time.monotonic() < deadline:
            pending = [ref for ref, item in items.items() if item not in outcomes]
            for ref in ray.wait(pending, num_returns=len(pending), timeout=0.5)[0]:
                try:
                    outcome = ray.get(ref)
                except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError):
                    outcome = None
                if isinstance(outcome, Result) and outcome.status == "cancelled":
                    outcome = replace(outcome, status="interrupted")
                outcomes[items[ref]] = outcome
    except KeyboardInterrupt:  # twice: what came back is kept, the rest is dropped
        pass
    return {item: outcome for item, outcome in outcomes.items() if outcome is not None}


@dataclass
class RaySegments:
    """Paints a clip's segments on Ray actors (a :data:`brushwork.video.segments.SegmentRunner`)."""

    clip: Path
    styles: Sequence[Path]
    settings: Settings
    address: str = LOCAL
    options: RayOptions = RayOptions()
    """Its workers, as counted when connected (see :func:`ray_segments`), their cores and retries."""
    regions: RegionFiles = RegionFiles()
    """The masks every frame is painted with: files that travel with the clip."""

    def __call__(
        self,
        settings: Settings,
        segments: list[tuple[Segment, VideoSettings]],
        on_segment: Callable[[Segment, list[bytes]], bool],
    ) -> None:
        ray = connect(self.address)
        parcel = ray.put(Parcel.of(Item(self.clip, tuple(self.styles), self.clip, self.regions), self.settings))  # once

        def submit(actor: Any, task: tuple[Segment, VideoSettings]) -> Any:
            return actor.call.remote(_paint_segment, parcel, settings, task[1])

        def done(task: tuple[Segment, VideoSettings], frames: list[bytes] | SegmentDiverged, attempt: int) -> bool:
            if isinstance(frames, SegmentDiverged):
                raise frames  # the clip ends as one painted in one piece would
            return on_segment(task[0], frames)

        def failed(task: tuple[Segment, VideoSettings], reason: str, attempt: int) -> bool:
            segment = task[0]
            raise ImageError(f"frames {segment.first}-{segment.last} could not be painted: {reason}")

        options = self.options
        with Pool(ray, self.settings, options.workers, options.worker_cpus, len(segments)) as pool:
            spread(pool, segments, submit, done, failed, options.retries)


def ray_segments(
    clip: Path,
    styles: Sequence[Path],
    settings: Settings,
    address: str,
    options: RayOptions | None = None,
    regions: RegionFiles | None = None,
) -> RaySegments:
    """A clip's segment runner on the Ray cluster at ``address``, connected, with its worker count settled."""
    options = options or RayOptions()
    count = worker_counts(connect(address), settings, options.workers, options.worker_cpus)[0]
    return RaySegments(clip, styles, settings, address, replace(options, workers=count), regions or RegionFiles())


def paint_clip_on_ray(
    clip: ClipInfo,
    styles: Sequence[Picture],
    settings: Settings,
    video: VideoSettings,
    output: Path,
    files: tuple[Sequence[Path], RegionFiles],
    address: str,
    options: RayOptions,
    *,
    regions: Regions | None = None,
    callback: Callable[[FrameProgress], bool | None] | None = None,
    on_plan: Callable[[Sequence[Segment], int, int], None] | None = None,
    overwrite: bool = False,
) -> VideoResult:
    """A clip painted in segments on the Ray cluster at ``address``, ``options.segment_frames`` long (else shared
    out evenly among its workers), each by a worker that reads the paintings and masks from ``files`` (their
    paths); ``on_plan`` is told the segments, the frames left and the workers (see
    :func:`~brushwork.video.segments.paint_clip_in_segments`)."""
    paintings, region_files = files
    runner = ray_segments(clip.path, paintings, settings, address, options, region_files)
    workers = runner.options.workers or 1
    return paint_clip_in_segments(
        clip,
        styles,
        settings,
        video,
        output,
        runner,
        length=options.segment_frames,
        workers=workers,
        callback=callback,
        on_plan=None if on_plan is None else lambda segments, left: on_plan(segments, left, workers),
        overwrite=overwrite,
        regions=regions,
    )


def _paint_segment(
    encoder: Any, parcel: Parcel, settings: Settings, video: VideoSettings
) -> list[bytes] | SegmentDiverged:
    """A segment's frames, or why one of them diverged (handed back, not raised: Ray would wrap it)."""
    with parcel.unpacked(settings) as (item, copied):
        try:
            return paint_segment(encoder, item.photo, item.styles, copied, video, item.regions)
        except SegmentDiverged as exc:
            return exc


def spread(
    pool: Pool,
    tasks: Sequence[T],
    submit: Callable[[Any, T], Any],
    done: Callable[[T, Any, int], bool],
    failed: Callable[[T, str, int], bool],
    retries: int,
) -> None:
    """Give ``tasks`` to the pool's idle workers as they free up; ``done`` hears of each result and ``failed`` of
    each task that raised, or whose worker died ``retries + 1`` times (a dead worker's task goes to a fresh
    worker first). Either stops everything by returning ``False``."""
    ray = pool.ray
    queue = deque((task, 1) for task in tasks)
    running: dict[Any, tuple[Any, T, int]] = {}
    while queue or running:
        while queue and pool.idle:
            task, attempt = queue.popleft()
            actor = pool.idle.pop()
            running[submit(actor, task)] = (actor, task, attempt)
        ready: list[Any] = []
        while not ready:  # in short waits: Ctrl-C is only heard between them
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
        actor, task, attempt = running.pop(ready[0])
        try:
            value = ray.get(ready[0])
        except ray.exceptions.RayActorError as exc:  # the worker died (killed, out of memory, node lost)
            pool.replace(actor)
            if attempt <= retries:
                queue.appendleft((task, attempt + 1))
                continue
            if not failed(task, f"its worker died {attempt} times ({first_line(exc, 160)})", attempt):
                return
            continue
        except ray.exceptions.RayTaskError as exc:  # it raised on the worker: another worker would too
            pool.idle.append(actor)
            if not failed(task, first_line(exc.cause if exc.cause is not None else exc, 160), attempt):
                return
            continue
        pool.idle.append(actor)
        if not done(task, value, attempt):
            return


def worker_counts(ray: Any, settings: Settings, workers: int | None, cpus: int) -> tuple[int, int, int]:
    """(workers, cores each, GPUs each) on the connected cluster: one worker per GPU, else one per ``cpus``
    cores (never more cores than a node has: such a worker would wait forever), or ``workers`` if given."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    largest = max((int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive")), default=1)
    cpus = max(1, min(cpus, largest))
    each_gpu = 1 if gpus and settings.device != "cpu" else 0
    return workers or (gpus if each_gpu else max(1, int(resources.get("CPU", 1)) // cpus)), cpus, each_gpu


class Pool:
    """The actors of one run; all are stopped when it ends, however it ends (Ctrl-C included)."""

    def __init__(self, ray: Any, settings: Settings, workers: int | None, cpus: int, tasks: int):
        self.ray, self.settings = ray, settings
        count, self.cpus, self.gpus = worker_counts(ray, settings, workers, cpus)
        count = max(1, min(count, tasks))  # a worker with nothing to paint would only load the network
        self.actor = ray.remote(num_cpus=self.cpus, num_gpus=self.gpus, max_restarts=0, max_concurrency=2)(Painter)
        self.idle = [self._start() for _ in range(count)]
        self.all = list(self.idle)

    def describe(self) -> str:
        """The workers in a few words, for people: ``2 workers of 1 core each``."""
        cores = words.count(self.cpus, "core")
        return f"{words.count(len(self.all), 'worker')} of {f'1 GPU and {cores}' if self.gpus else cores} each"

    def _start(self) -> Any:
        return self.actor.remote(self.settings, self.cpus)

    def replace(self, dead: Any) -> None:
        """A fresh worker for one that died."""
        fresh = self._start()
        self.all = [a for a in self.all if a is not dead] + [fresh]
        self.idle.append(fresh)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *_: object) -> None:
        for actor in self.all:
            self.ray.kill(actor)
