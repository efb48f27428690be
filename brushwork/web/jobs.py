"""The job queue: one worker thread paints jobs in order on the device while requests read their state.

One worker, because the device is one: two jobs at once would only fight for its
memory. A clip's job shows its first frame emerging as a picture's does, then each
frame as it is finished; stopped, it keeps the clip painted so far. A job that fails,
for whatever reason, is recorded as failed with a one-line reason and the worker takes
the next; nothing a job does stops the queue.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from brushwork.core.errors import OUT_OF_MEMORY, BrushworkError, ImageError, SettingsError, first_line
from brushwork.core.settings import Settings, VideoSettings
from brushwork.core.words import count, try_lower
from brushwork.engine import recipes
from brushwork.engine import runner as engine
from brushwork.engine.inputs import load_inputs, load_picture
from brushwork.media.clips import probe
from brushwork.model.device import pick_device
from brushwork.video.painting import FrameProgress, assemble, paint_clip
from brushwork.video.timeline import painted_times
from brushwork.web.forms import label, settings_problem
from brushwork.web.limits import Limits
from brushwork.web.store import ACTIVE, CLIP_RESULT, RESULT, Job, Store
from brushwork.web.thumbs import jpeg_bytes

log = logging.getLogger("brushwork.web")

STOPPED = "the studio stopped while painting this picture; paint it again"
UNEXPECTED = "painting failed unexpectedly (the studio's log has the details); paint it again"


class Conflict(Exception):
    """The job is in a state that does not allow this (e.g. deleting one that is painting)."""


class Full(Exception):
    """The client asking already has as many jobs waiting as one client may."""


class Pace:
    """How often a painting's steps become its preview: its first step always, then at most once per ``interval``
    seconds, since each preview is a picture taken off the device and encoded while the painting waits."""

    def __init__(self, interval: float):
        self.interval = interval
        self._last = -math.inf

    def due(self, step: int) -> bool:
        """Whether step ``step``'s picture is to be shown now (and, if so, the clock starts again)."""
        now = time.monotonic()
        if step != 1 and now - self._last < self.interval:
            return False
        self._last = now
        return True


PREVIEW_SECONDS = {"cuda": 0.2}
"""Seconds between previews, by device: five a second where steps are quick (a GPU); elsewhere
:data:`PREVIEW_SECONDS_ELSEWHERE`, since on a CPU a 512 px step takes about that long itself."""
PREVIEW_SECONDS_ELSEWHERE = 1.0


def preview_interval(settings: Settings) -> float:
    """Seconds between a painting's previews on the device ``settings`` paint on."""
    return PREVIEW_SECONDS.get(pick_device(settings.device).type, PREVIEW_SECONDS_ELSEWHERE)


class JobQueue:
    """Jobs by id, the queue of waiting ones, and the worker thread that paints them."""

    def __init__(self, store: Store, preview_interval: float | None = None, max_waiting: int = Limits.max_waiting):
        self.store = store
        self.preview_interval = preview_interval
        """Seconds between previews; None: by the device (:func:`preview_interval`)."""
        self.max_waiting = max_waiting
        self.runner: Callable[..., engine.Result] = engine.run
        """What paints; tests swap in one that fails."""
        self._lock = threading.Condition()
        self._pending: deque[str] = deque()
        self._previews: dict[str, bytes] = {}
        self._thread: threading.Thread | None = None
        self._closed = False
        self.stopped: list[Job] = []
        """The jobs that were painting when the studio stopped (their pictures so far kept), for it to say."""
        self._jobs: dict[str, Job] = {}
        for job in sorted(store.load_all(), key=lambda j: j.created):
            if job.state == "queued":  # it waited when the last server stopped: it waits again
                self._pending.append(job.id)
            elif job.state == "running":  # the last server died while painting it (a clean stop cancels it)
                job.state, job.error, job.finished = "failed", STOPPED, job.finished or time.time()
                store.save(job)
            self._jobs[job.id] = job

    # --- requests ---------------------------------------------------------------------------------

    def submit(self, job: Job) -> Job:
        with self._lock:
            if self._closed:
                raise Conflict("the studio is shutting down; try again in a moment")
            if sum(self._jobs[i].client == job.client for i in self._pending) >= self.max_waiting:
                raise Full(
                    f"you already have {self.max_waiting} jobs waiting, the most the studio queues for one "
                    "machine; wait for one to start, or cancel one"
                )
            self.store.save(job)
            self._jobs[job.id] = job
            self._pending.append(job.id)
            self._start_worker()
            self._lock.notify_all()
            return copy.deepcopy(job)

    def get(self, job_id: str) -> Job:
        """A copy of the job (``KeyError`` if there is none), safe to read while the worker paints."""
        with self._lock:
            return copy.deepcopy(self._jobs[job_id])

    def all(self) -> list[Job]:
        """Every job, newest first."""
        with self._lock:
            return sorted((copy.deepcopy(j) for j in self._jobs.values()), key=lambda j: j.created, reverse=True)

    def position(self, job_id: str) -> int | None:
        """0 while painting, 1 for the next in line, ...; ``None`` once finished."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state not in ACTIVE:
                return None
            return 0 if job.state == "running" else list(self._pending).index(job_id) + 1

    @property
    def painting(self) -> bool:
        """Whether a job is being painted now."""
        with self._lock:
            return any(job.state == "running" for job in self._jobs.values())

    def preview(self, job_id: str) -> bytes | None:
        with self._lock:
            return self._previews.get(job_id)

    def cancel(self, job_id: str) -> Job:
        """Stop a job: a waiting one never starts; a painting one stops and keeps its picture so far."""
        with self._lock:
            job = self._jobs[job_id]
            if job.state == "queued":
                self._pending.remove(job_id)
                job.state, job.message, job.finished = "cancelled", "cancelled before it started", time.time()
                self.store.save(job)
            elif job.state == "running":
                job.cancel_requested = True
            else:
                raise Conflict(f"the job is already {job.state}; there is nothing to cancel")
            return copy.deepcopy(job)

    def delete(self, job_id: str) -> None:
        """Forget a job and its folder; a painting job must be cancelled first."""
        with self._lock:
            job = self._jobs[job_id]
            if job.state == "running":
                raise Conflict("the job is painting; cancel it first")
            if job.state == "queued":
                self._pending.remove(job_id)
            del self._jobs[job_id]
            self._previews.pop(job_id, None)
        self.store.delete(job_id)

    def open(self) -> None:
        """Take jobs again after :meth:`close`: a server may start and stop the same app more than once."""
        with self._lock:
            self._closed = False
            if self._pending:
                self._start_worker()

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking jobs, stop the one painting (its picture so far is saved) and wait for the worker; the jobs
        it stopped are :attr:`stopped`."""
        with self._lock:
            self._closed = True
            for job in self._jobs.values():
                if job.state == "running":
                    job.cancel_requested = True
                    self.stopped.append(job)
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # --- the worker -------------------------------------------------------------------------------

    def _start_worker(self) -> None:
        """Start the worker unless it runs (call with the lock held)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="brushwork-painter", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._jobs[self._pending.popleft()]
                job.state, job.started = "running", time.time()
            try:
                self.store.save(job)
                self._paint(job)
            except (BrushworkError, OSError, MemoryError, RuntimeError, ValueError) as exc:
                # the job's failure, not the queue's (torch reports its own failures as RuntimeError or ValueError)
                self._finish(job, "failed", _reason(exc))
                if not isinstance(exc, (BrushworkError, MemoryError)):
                    log.exception("job %s failed", job.id)
            finally:
                if job.state == "running":  # an unforeseen error is on its way to the thread's log:
                    self._finish(job, "failed", UNEXPECTED)  # the job fails, and a new worker takes the queue
                    with self._lock:
                        self._thread = None
                        self._start_worker()

    def _pace(self, settings: Settings) -> Pace:
        """The previews' pace of a painting: this queue's interval, else its device's."""
        return Pace(preview_interval(settings) if self.preview_interval is None else self.preview_interval)

    def _show(self, job: Job, picture: Image.Image) -> None:
        """Make ``picture`` the job's preview."""
        data = jpeg_bytes(picture)
        with self._lock:
            self._previews[job.id] = data
            job.previews += 1

    def _show_step(self, job: Job, p: engine.Progress, pace: Pace) -> None:
        """Make a step's picture the job's preview when ``pace`` says it is due; called before the step is
        recorded, so whoever sees the step finds its picture."""
        if pace.due(p.step):
            self._show(job, p.image())

    def _paint(self, job: Job) -> None:
        folder = self.store.folder(job.id)
        settings = Settings.from_dict(job.settings)
        paths = [folder / Path(item["file"]).name for item in job.pictures]
        if job.kind == "clip":
            self._paint_clip(job, folder, settings, paths)
            return
        regions = job.regions(folder)
        loaded = load_inputs(paths[0], paths[1:], regions, settings, names=job.sources)
        pace = self._pace(settings)

        def progress(p: engine.Progress) -> bool:
            self._show_step(job, p, pace)
            with self._lock:
                _record(job, p)
                job.eta = p.eta
                return not job.cancel_requested

        result = self.runner(
            loaded.photo, loaded.paintings, settings, callback=progress, keep_memory=True, regions=loaded.regions
        )
        recipe = recipes.build(settings, paths[0], paths[1:], result, base=folder, names=job.names, regions=regions)
        recipes.save_result(result, folder / RESULT, recipe, overwrite=True)
        if result.status == "diverged":
            advice = try_lower(result.culprit and label(result.culprit).lower())
            self._finish(job, "failed", result.message + advice, result)
        elif result.status in ("cancelled", "interrupted"):
            reason = f"the studio stopped at step {result.steps}" if self._closed else result.message
            self._finish(job, "cancelled", reason, result)
        else:
            self._finish(job, "done", "", result)

    def _paint_clip(self, job: Job, folder: Path, settings: Settings, paths: list[Path]) -> None:
        """Paint a clip into ``result.mp4``; stopped, the frames finished so far become the clip."""
        clip = probe(paths[0])
        styles = [load_picture(p, "painting", n) for p, n in zip(paths[1:], job.sources[1:])]
        video = VideoSettings(**job.video)
        with self._lock:
            job.frames_total = len(painted_times(clip, video))
        pace = self._pace(settings)

        def step(p: engine.Progress) -> bool:
            if job.frames_done == 0:  # the first frame emerges as a picture does (only this thread changes it)
                self._show_step(job, p, pace)
            with self._lock:
                _record(job, p)  # every frame's steps: the loss chart shows each frame settle
                return not job.cancel_requested

        def frame(p: FrameProgress) -> bool:
            self._show(job, Image.open(p.path))
            with self._lock:
                job.frames_done, job.frames_total, job.eta = p.done, p.total, p.eta
                return not job.cancel_requested

        output = folder / CLIP_RESULT
        result = paint_clip(  # the job's folder is the studio's own: a clip there is this job's, cut short
            clip, styles, settings, video, output, callback=frame, step_callback=step, keep_memory=True, overwrite=True
        )
        with self._lock:
            job.elapsed = result.elapsed
        if result.status == "done":
            self._finish(job, "done", "")
            return
        if result.pictures:
            assemble(result, clip, video, output)
        kept = f"; the {count(result.done, 'frame')} painted are kept as the clip" if result.pictures else ""
        if result.status == "diverged":
            advice = try_lower(result.culprit and label(result.culprit).lower())
            self._finish(job, "failed", f"{result.message}{advice}{kept}")
            return
        stopped = "the studio stopped" if self._closed else "stopped"
        self._finish(job, "cancelled", f"{stopped} after {result.done} of {result.total} frames{kept}")

    def _finish(self, job: Job, state: str, reason: str, result: engine.Result | None = None) -> None:
        with self._lock:
            job.state, job.finished, job.eta = state, time.time(), 0.0 if state == "done" else None
            if state == "failed":
                job.error = reason
            else:
                job.message = reason
            if result is not None:
                job.step, job.elapsed = result.steps, result.elapsed
                if state == "done":
                    job.total = result.steps  # the forecast is settled
            self._previews.pop(job.id, None)
            try:
                self.store.save(job)
            except ImageError as exc:  # a full disk, or the job's folder gone
                log.warning("could not record job %s: %s", job.id, exc)


def _record(job: Job, p: engine.Progress) -> None:
    """Note a step's progress and losses on the job (call with the lock held)."""
    total = p.losses.get("total", math.nan)
    job.step, job.total, job.elapsed = p.step, p.total, p.elapsed
    job.losses = {k: v for k, v in p.losses.items() if math.isfinite(v)}
    job.history.append(float(f"{total:.6g}") if math.isfinite(total) else None)


def _reason(exc: BaseException) -> str:
    """A failure in one line that says what to try next."""
    if isinstance(exc, SettingsError):
        return settings_problem(exc)
    text = first_line(exc)
    if isinstance(exc, BrushworkError):
        return text
    if isinstance(exc, MemoryError):
        return OUT_OF_MEMORY
    return f"painting failed ({type(exc).__name__}: {text})"
