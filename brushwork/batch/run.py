"""Painting many pictures: every photo with every painting, or the pairs a manifest lists.

A batch is resumable and honest. Each item's key is a hash of the settings and of its inputs'
bytes; the driver appends one JSON line per painted item to ``OUTDIR/batch.jsonl``, and a later
run skips an item whose output carries that key in its recipe (logging it again if its line was
lost), so a changed setting or an edited input is painted again however the files are named; the
earlier picture is replaced only when the caller allows it. Pictures are written atomically; an item cut
short by Ctrl-C keeps its picture so far beside its output (``NAME.unfinished-N.png``) and is painted again by the
next run.

Painting is behind a seam: :func:`run_batch` hands the items still to paint to an
:class:`Executor` (here, :class:`LocalExecutor`) and learns of each one through the
:class:`Record` it returns, so the items can be painted elsewhere (other processes, other
machines) by a different executor: its workers call :func:`paint_pictures`, the driver :func:`finish_item`,
which writes the picture (:mod:`brushwork.cluster` does so on Ray); the driver alone writes the log.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from brushwork import __version__
from brushwork.batch.inputs import Item, batch_key
from brushwork.batch.log import BatchLog, Record, claim
from brushwork.core.errors import (
    OUT_OF_MEMORY,
    BrushworkError,
    DiskFull,
    ImageError,
    OutputExistsError,
    SettingsError,
)
from brushwork.core.interrupts import deaf_to_stops
from brushwork.core.settings import Settings
from brushwork.engine import recipes
from brushwork.engine.inputs import check_run, load_inputs
from brushwork.engine.runner import Callback, Result, run
from brushwork.media.files import file_sha256, spare_path, taken
from brushwork.model.device import encoder_for, out_of_memory_worded, pick_device
from brushwork.model.network import VGG19


@dataclass
class BatchProgress:
    """What the batch callback sees before painting starts (``item`` None) and after each item."""

    done: int
    failed: int
    skipped: int
    """Items found already painted."""
    left: int
    total: int
    elapsed: float
    eta: float | None
    """Seconds left at the mean time of the items painted so far (None before the first)."""
    item: Item | None = None
    record: Record | None = None


@dataclass
class Summary:
    """The outcome of :func:`run_batch`."""

    status: str
    """``done`` (every item tried), ``interrupted`` (Ctrl-C, or a callback returned ``False``) or ``stopped``
    (the log could not be written; ``error`` says why)."""
    done: int
    failed: int
    skipped: int
    total: int
    elapsed: float
    log: Path
    records: list[Record] = field(default_factory=list)
    """This run's records, in the order the items ended."""
    error: str = ""
    """Why the batch stopped (``status`` ``stopped``): its log could not be written, e.g. on a full disk."""

    @property
    def left(self) -> int:
        return self.total - self.done - self.failed - self.skipped

    @property
    def failures(self) -> list[Record]:
        return [r for r in self.records if r.status == "failed"]


OnRecord = Callable[[Record], bool]


class Executor(Protocol):
    """Paints ``items`` and calls ``on_record`` with each one's :class:`Record` as it ends, in any order.

    It stops handing out items once ``on_record`` returns ``False`` or a record is ``interrupted``.
    A remote executor has its workers call :func:`paint_pictures` on (picklable) items and finishes each on the
    driver with :func:`finish_item`.
    """

    def __call__(self, items: Sequence[Item], settings: Settings, on_record: OnRecord) -> None: ...


@dataclass
class LocalExecutor:
    """Paints the items one after another in this process, with one network loaded once."""

    steps: Callback | None = None
    """Called after every step of the item being painted (see :class:`~brushwork.engine.runner.Progress`)."""
    keep_memory: bool = False
    """Passed to :func:`~brushwork.engine.runner.run`: only a program that owns its process asks."""

    def __call__(self, items: Sequence[Item], settings: Settings, on_record: OnRecord) -> None:
        with out_of_memory_worded():
            encoder = encoder_for(settings, pick_device(settings.device))
        for item in items:
            record = paint_item(item, settings, encoder, self.steps, keep_memory=self.keep_memory)
            if not on_record(record) or record.status == "interrupted":
                return


def item_key(item: Item, settings: Settings) -> str | None:
    """SHA-256 of the version, the settings and every input's bytes: what must match to skip the item.

    None when an input cannot be read: the item then fails when painted, with the reason.
    """
    key = hashlib.sha256(json.dumps([__version__, settings.to_dict()], sort_keys=True).encode())
    try:
        for path in (*item.inputs(), *(path for _, path in settings.files())):
            key.update(file_sha256(path).encode())
    except (OSError, ImageError):  # the item fails when painted, saying why
        return None
    return key.hexdigest()


def paint_item(
    item: Item,
    settings: Settings,
    encoder: VGG19 | None = None,
    callback: Callback | None = None,
    *,
    keep_memory: bool = False,
) -> Record:
    """Paint one item and write its picture (atomically, with its recipe and key); never raises for bad input.

    A bad input, a run that cannot fit or a NaN loss is a ``failed`` record with its one-line reason, and nothing
    is written; Ctrl-C (or ``callback`` returning ``False``) an ``interrupted`` one, its picture so far kept beside
    the output (:func:`finish_item`).
    """
    began = time.perf_counter()
    key = item_key(item, settings)
    outcome = paint_pictures(item, settings, encoder, callback, keep_memory=keep_memory, check_output=True, began=began)
    if isinstance(outcome, Record):
        outcome.key = key
        return outcome
    return finish_item(item, settings, key, outcome, began)


def paint_pictures(
    item: Item,
    settings: Settings,
    encoder: VGG19 | None = None,
    callback: Callback | None = None,
    *,
    keep_memory: bool = False,
    check_output: bool = False,
    began: float | None = None,
) -> Result | Record:
    """The painting half of :func:`paint_item`: the run's :class:`~brushwork.engine.runner.Result`, or a ``failed`` or
    ``interrupted`` record when it could not run. Writes nothing, so a worker on another machine can call it
    on copies of the inputs and hand the result back to the driver (:func:`finish_item`)."""
    began = time.perf_counter() if began is None else began
    try:
        if check_output:
            _refuse_foreign_output(item)
        loaded = load_inputs(item.photo, item.styles, item.regions, settings)
        return run(
            loaded.photo,
            loaded.paintings,
            settings,
            callback=callback,
            encoder=encoder,
            keep_memory=keep_memory,
            regions=loaded.regions,
        )
    except BrushworkError as exc:
        return record_of(item, None, "failed", began, str(exc))
    except MemoryError:
        return record_of(item, None, "failed", began, OUT_OF_MEMORY)
    except OSError as exc:  # e.g. an output name this file system cannot take
        return record_of(
            item, None, "failed", began, f"cannot use {exc.filename or item.output}: {exc.strerror or exc}"
        )
    except KeyboardInterrupt:
        return record_of(item, None, "interrupted", began, "interrupted; nothing written")


def _refuse_foreign_output(item: Item) -> None:
    """A picture at the item's output that no batch painted is the user's: never overwritten."""
    if taken(item.output) and batch_key(item.output) is None:
        raise ImageError(f"{item.output} exists and no batch painted it; move it or choose another OUTDIR")


def finish_item(item: Item, settings: Settings, key: str | None, result: Result, began: float) -> Record:
    """The writing half of :func:`paint_item`: a finished run's picture goes to ``item.output`` (atomically, with
    its recipe naming the driver's input files and the item's key); a stopped run's best picture goes beside it
    (:func:`_keep_unfinished`); a diverged run writes nothing. The record carries the run's notes."""
    record = _record_of_run(item, settings, key, result, began)
    record.notes = list(result.notes)
    return record


def _record_of_run(item: Item, settings: Settings, key: str | None, result: Result, began: float) -> Record:
    if result.status in ("interrupted", "cancelled"):  # the painting time is logged too: it was spent
        kept = _keep_unfinished(item, settings, key, result)
        message = f"{result.status} at step {result.steps}; " + (
            f"the picture so far is {kept}" if kept else "nothing written"
        )
        record = record_of(item, key, "interrupted", began, message, steps=result.steps, painting=result.elapsed)
        record.kept = str(kept or "")
        return record
    if result.status == "diverged":  # the engine keeps its last good picture; a batch writes none
        message = f"{result.cause}; nothing written"
        return record_of(item, key, "failed", began, message, result.culprit, result.steps, result.elapsed)
    try:
        _refuse_foreign_output(item)  # again: it may have come while the item was painted
        recipe = {**recipes.build(settings, item.photo, item.styles, result, regions=item.regions), "batch_key": key}
        recipes.save_result(result, item.output, recipe, overwrite=True)
    except DiskFull:  # every item after it would fail too: the batch stops, and paints this one again next time
        raise
    except BrushworkError as exc:
        return record_of(item, key, "failed", began, str(exc))
    _drop_unfinished(item, key)
    return record_of(item, key, "done", began, steps=result.steps, painting=result.elapsed)


def _keep_unfinished(item: Item, settings: Settings, key: str | None, result: Result) -> Path | None:
    """Write a stopped run's best picture beside the item's output, never at it (the next run paints the item
    again); None if it painted no step or the picture cannot be written. Its recipe carries the item's key, so a
    later batch over the same folder takes it for a batch's picture, not a photo."""
    if not result.steps:
        return None
    recipe = {**recipes.build(settings, item.photo, item.styles, result, regions=item.regions), "batch_key": key}
    try:
        with deaf_to_stops():
            return recipes.save(result.image, spare_path(item.output, "unfinished"), recipe, alpha=result.alpha)
    except ImageError:  # a full disk: the item is painted again all the same
        return None


def _drop_unfinished(item: Item, key: str | None) -> None:
    """Remove the pictures so far that interrupted runs of this very item kept (its key in their recipe): the
    finished picture stands for them. Anything else beside the output is left as it is."""
    for path in item.output.parent.glob(f"{glob.escape(item.output.stem)}.unfinished-*{item.output.suffix}"):
        if key is not None and batch_key(path) == key:
            with contextlib.suppress(OSError):
                path.unlink()


def record_of(
    item: Item,
    key: str | None,
    status: str,
    began: float,
    error: str = "",
    culprit: str | None = None,
    steps: int = 0,
    painting: float = 0.0,
) -> Record:
    """The log's record of an item that ``began`` (a ``time.perf_counter()``) and ended now as ``status``."""
    return Record(
        str(item.photo),
        [str(s) for s in item.styles],
        str(item.output),
        key,
        status,
        round(time.perf_counter() - began, 2),
        error,
        culprit,
        steps,
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
        round(painting, 2),
    )


def _recovered(item: Item, key: str) -> Record:
    """The ``done`` record of an item whose picture carries its key but whose log line was lost (the disk filled
    up, or the run was killed, between the two writes), rebuilt from the picture and its recipe."""
    run = recipes.read(item.output).get("run")
    run = run if isinstance(run, dict) else {}
    seconds = run.get("seconds", 0.0)
    seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    ended = datetime.fromtimestamp(item.output.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    record = record_of(item, key, "done", time.perf_counter() - seconds, steps=int(run.get("steps") or 0))
    record.time, record.painting = ended, seconds
    return record


def _check(items: Sequence[Item], settings: Settings) -> None:
    """What would fail every item is refused before any work."""
    twice = [path for path, n in Counter(item.output.resolve() for item in items).items() if n > 1]
    if twice:
        raise BrushworkError(f"two items would write {twice[0]}; give each its own output")
    for count in sorted({len(item.styles) for item in items}):
        check_run(settings, count)
    if settings.save_every:
        raise SettingsError("is not available in a batch; paint one picture to see its steps", "save_every")


def run_batch(
    items: Sequence[Item],
    settings: Settings,
    outdir: str | os.PathLike[str],
    *,
    execute: Executor | None = None,
    callback: Callable[[BatchProgress], bool | None] | None = None,
    overwrite: bool = False,
) -> Summary:
    """Paint the items not yet finished, logging each one in ``OUTDIR/batch.jsonl``; never raises for Ctrl-C.

    ``execute`` paints (default: a :class:`LocalExecutor` here). ``callback`` is called before painting
    starts and after each item; returning ``False`` stops after that item. Bad items fail alone
    (``Summary.failures``); what would fail them all (settings, the folder) raises before any work, and so
    does a picture an earlier batch painted from other inputs or settings, unless ``overwrite``. A log that
    cannot be written, or a full disk, stops the batch (``Summary.error``); the item it stopped at is painted
    again by the next run.
    """
    began = time.perf_counter()
    # 1. Before any work: the settings, the folder, and what earlier batches painted there.
    _check(items, settings)
    log = claim(Path(outdir))
    pending, replaced, unlogged = _sorted(items, settings, log.finished_keys())
    if replaced and not overwrite:
        more = f", as are {len(replaced) - 1} more in {outdir}" if len(replaced) > 1 else ""
        raise OutputExistsError(replaced[0].output, f" (painted by a batch from other inputs or settings{more})")
    summary = Summary("done", 0, 0, len(items) - len(pending), len(items), 0.0, log.path)
    # 2. Log the pictures an earlier run painted but could not log.
    try:
        for record in unlogged:
            log.append(record)
    except ImageError as exc:  # the disk is still full
        summary.status, summary.error = "stopped", str(exc)
        return summary
    # 3. Paint the rest, logging and reporting each item as it ends: first those that cannot be painted (an
    # unreadable input, the user's picture at the output) fail, before any is sent to a worker elsewhere.
    tally = _Tally(summary, log, pending, callback, began)
    try:
        if not tally.report():
            summary.status = "interrupted" if pending else summary.status
        else:
            paintable = _failed_at_once(pending, settings, tally)
            if paintable:  # (None: told to stop)
                (execute or LocalExecutor())(paintable, settings, tally.record)
    except KeyboardInterrupt:
        summary.status = "interrupted"
    except DiskFull as exc:
        summary.status, summary.error = "stopped", str(exc)
    summary.elapsed = time.perf_counter() - began
    return summary


def _sorted(
    items: Sequence[Item], settings: Settings, finished: set[str]
) -> tuple[list[Item], list[Item], list[Record]]:
    """The items to paint, those of them whose picture an earlier batch painted from other inputs or settings,
    and a record for each picture this batch already painted whose log line was lost (a full disk)."""
    pending, replaced, unlogged = [], [], []
    for item in items:
        key, kept = item_key(item, settings), batch_key(item.output)
        if key is not None and kept == key:
            if key not in finished:
                unlogged.append(_recovered(item, key))
            continue
        if kept is not None and key is not None:  # (an unreadable input fails its item, replacing nothing)
            replaced.append(item)
        pending.append(item)
    return pending, replaced, unlogged


def _failed_at_once(pending: Sequence[Item], settings: Settings, tally: _Tally) -> list[Item] | None:
    """The items that can be painted; each of the others is logged as failed, with why. None: the batch was told
    to stop meanwhile."""
    paintable = []
    for item in pending:
        began = time.perf_counter()
        try:
            for role, path in item.roles():
                file_sha256(path, role)  # read, not only found: a worker elsewhere gets its bytes
            _refuse_foreign_output(item)
        except ImageError as exc:
            if not tally.record(record_of(item, item_key(item, settings), "failed", began, str(exc))):
                return None
            continue
        paintable.append(item)
    return paintable


class _Tally:
    """A batch's count as its items end: each record logged, counted and reported; says when to stop."""

    def __init__(
        self,
        summary: Summary,
        log: BatchLog,
        pending: Sequence[Item],
        callback: Callable[[BatchProgress], bool | None] | None,
        began: float,
    ):
        self.summary, self.log, self.callback, self.began = summary, log, callback, began
        self.by_output = {str(item.output): item for item in pending}
        self.painted: list[float] = []  # seconds of each item painted, for the time left

    def report(self, item: Item | None = None, record: Record | None = None) -> bool:
        """Tell the callback how far the batch is; False if it asks to stop."""
        s = self.summary
        s.elapsed = time.perf_counter() - self.began
        eta = sum(self.painted) / len(self.painted) * s.left if self.painted else None
        progress = BatchProgress(s.done, s.failed, s.skipped, s.left, s.total, s.elapsed, eta, item, record)
        return self.callback is None or self.callback(progress) is not False

    def record(self, record: Record) -> bool:
        """Log and count an item that ended; False to stop the batch (Ctrl-C, a log that cannot be written, or the
        callback's word)."""
        s = self.summary
        s.records.append(record)
        try:
            self.log.append(record)
        except ImageError as exc:  # the picture (if any) keeps its key: the next run logs it and goes on
            s.status, s.error = "stopped", str(exc)
        if record.status == "interrupted":
            s.status = "interrupted"
            return False
        if record.status == "done":
            s.done += 1
            self.painted.append(record.seconds)
        else:
            s.failed += 1
        if s.error:
            return False
        if not self.report(self.by_output[record.output], record):
            s.status = "interrupted"
            return False
        return True
