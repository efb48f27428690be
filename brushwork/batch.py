"""Painting many pictures: every photo with every painting, or the pairs a manifest lists.

A batch is resumable and honest. Each item's key is a hash of the settings and of its inputs'
bytes; the driver appends one JSON line per painted item to ``OUTDIR/batch.jsonl``, and a later
run skips an item whose output carries that key in its recipe (logging it again if its line was
lost), so a changed setting or an edited input is painted again however the files are named; the
earlier picture is replaced only when the caller allows it. Pictures are written atomically, and an
item cut short by Ctrl-C writes nothing.

Painting is behind a seam: :func:`run_batch` hands the items still to paint to an
:class:`Executor` (here, :class:`LocalExecutor`) and learns of each one through the
:class:`Record` it returns, so the items can be painted elsewhere (other processes, other
machines) by a different executor calling :func:`paint_item`; the driver alone writes the log.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from . import __version__, recipes
from .engine import Callback, Result, run
from .errors import BrushworkError, ImageError, OutputExistsError, SettingsError
from .features import VGG19
from .images import OUTPUT_FORMATS, file_sha256, load_image, regular_file
from .machine import encoder_for, pick_device
from .settings import INIT_WORDS, Settings, blend_weights

__all__ = [
    "Item",
    "Record",
    "BatchProgress",
    "Summary",
    "Executor",
    "LocalExecutor",
    "BatchLog",
    "LOG_NAME",
    "collect",
    "item_key",
    "paint_item",
    "paint_pictures",
    "finish_item",
    "run_batch",
]

LOG_NAME = "batch.jsonl"
NAME_MAX = 255
"""Bytes in a file name, on the usual file systems."""
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")
"""The files a folder or a glob contributes (a file named on its own is taken whatever its name)."""


@dataclass(frozen=True)
class Item:
    """One picture to paint: a photo, its paintings, and where the picture goes."""

    photo: Path
    styles: tuple[Path, ...]
    output: Path


@dataclass
class Record:
    """How one item went; one line of the log. Plain values only, so it travels between processes."""

    photo: str
    styles: list[str]
    output: str
    key: str | None
    """:func:`item_key` of the inputs painted (None when one could not be read)."""
    status: str
    """``done``, ``failed`` (``error`` says why) or ``interrupted`` (Ctrl-C or a cancel; nothing written)."""
    seconds: float
    error: str = ""
    culprit: str | None = None
    """For a run whose loss turned NaN, the setting to lower."""
    steps: int = 0
    time: str = ""
    """When the item ended (UTC, ISO 8601)."""
    painting: float = 0.0
    """Of ``seconds``, those spent painting (in the engine); the rest is loading, sending and writing."""
    attempts: int = 1
    """Workers that took the item: more than one when a worker died while painting it (see :mod:`brushwork.cluster`)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


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
    A remote executor sends :func:`paint_item` and its (picklable) arguments to its workers.
    """

    def __call__(self, items: Sequence[Item], settings: Settings, on_record: OnRecord) -> None: ...


@dataclass
class LocalExecutor:
    """Paints the items one after another in this process, with one network loaded once."""

    steps: Callback | None = None
    """Called after every step of the item being painted (see :class:`~brushwork.engine.Progress`)."""
    keep_memory: bool = False
    """Passed to :func:`~brushwork.engine.run`: only a program that owns its process asks."""

    def __call__(self, items: Sequence[Item], settings: Settings, on_record: OnRecord) -> None:
        encoder = encoder_for(settings, pick_device(settings.device))
        for item in items:
            record = paint_item(item, settings, encoder, self.steps, keep_memory=self.keep_memory)
            if not on_record(record) or record.status == "interrupted":
                return


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _images_in(argument: str, role: str, painted: set[Path]) -> list[Path]:
    """The files one argument names: itself, a folder's pictures (sorted, not recursive), or a glob's; a folder
    or glob leaves out the ``painted`` pictures (so that OUTDIR may be the photos' folder)."""
    path = Path(argument)
    if os.path.isdir(argument):
        found = sorted(p for p in path.iterdir() if p.is_file() and _is_picture(p) and p.resolve() not in painted)
    elif _is_glob(argument) and not os.path.lexists(argument):
        found = [
            p
            for p in map(Path, sorted(glob.glob(argument, recursive=True)))
            if p.is_file() and _is_picture(p) and p.resolve() not in painted
        ]
    else:
        found = [regular_file(argument, role)]
    if not found:
        raise ImageError(f"no {role} pictures match {argument}; give image files, folders or globs")
    return found


def _is_picture(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _expand(arguments: Sequence[str | os.PathLike[str]], role: str, painted: set[Path]) -> list[Path]:
    """Every file the arguments name, in order, each once (see :func:`_images_in`)."""
    seen, out = set(), []
    for argument in arguments:
        for path in _images_in(os.fspath(argument), role, painted):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                out.append(path)
    return out


Row = tuple[Path, tuple[Path, ...], str | None]
"""A photo, its paintings and the output name a manifest gives it (None: the usual name)."""


def collect(
    photos: Sequence[str | os.PathLike[str]],
    styles: Sequence[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    manifest: str | os.PathLike[str] | None = None,
) -> list[Item]:
    """The items of a batch: every photo with every painting, or the pairs ``manifest`` lists (not both).

    Each of ``photos`` and ``styles`` is a file, a folder or a glob. Pictures are named
    ``OUTDIR/{photo}__{painting}.png`` (several paintings joined by ``+``); a name taken twice gets
    ``_2``, ``_3``... in the order of the items. An argument that matches nothing is an :class:`ImageError`.
    Folders and globs leave out the pictures a batch logged in ``OUTDIR`` (they are not photos to paint again).
    """
    if manifest is not None:
        if photos or styles:
            raise BrushworkError("give either photos and paintings, or a manifest, not both")
        rows = _read_manifest(Path(manifest))
    else:
        if not photos or not styles:
            raise BrushworkError("give at least one photo and one painting (or a manifest)")
        painted = BatchLog(Path(outdir) / LOG_NAME).painted()
        paintings = _expand(styles, "painting", painted)
        rows = [(photo, (painting,), None) for photo in _expand(photos, "photo", painted) for painting in paintings]
    return [Item(photo, paintings, Path(outdir) / name) for (photo, paintings, _), name in zip(rows, _names(rows))]


def _names(rows: list[Row]) -> list[str]:
    """Each row's output name: its own, or ``photo__painting.png`` made unique in order (ignoring case)."""
    taken = {name.lower() for *_, name in rows if name}
    names = []
    for photo, paintings, name in rows:
        if name is None:
            base = _shortened(f"{photo.stem}__{'+'.join(p.stem for p in paintings)}")
            name, n = f"{base}.png", 1
            while name.lower() in taken:
                n += 1
                name = f"{base}_{n}.png"
            taken.add(name.lower())
        names.append(name)
    return names


def _shortened(base: str) -> str:
    """``base`` cut so that ``base_NNN.webp`` fits in a file name (long photo and painting names add up)."""
    room = NAME_MAX - len("_999.jpeg")
    return base.encode()[:room].decode(errors="ignore")


def _read_manifest(path: Path) -> list[Row]:
    """A manifest's rows: CSV with columns photo, style (and output), or JSON, a list of
    ``{"photo", "styles" or "style", "output"}``. Input paths are relative to the manifest's folder;
    an output is a file name in OUTDIR."""
    kind = path.suffix.lower()
    if kind not in (".csv", ".json"):
        raise BrushworkError(f"manifest {path} must be a .csv or .json file")
    try:
        text = regular_file(path, "manifest", "a .csv or .json file").read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BrushworkError(f"cannot read manifest {path} ({getattr(exc, 'strerror', None) or exc})") from None
    entries: list[tuple[str, dict[str, Any]]]
    if kind == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        try:
            lines = list(reader)
        except csv.Error as exc:  # e.g. a field over the csv module's size limit
            raise BrushworkError(f"manifest {path} is not a CSV file this can read ({exc})") from None
        missing = {"photo", "style"} - set(reader.fieldnames or ())
        if missing:
            raise BrushworkError(f"manifest {path} needs the columns photo and style (and output), in its first row")
        unknown = [name for name in reader.fieldnames or () if name not in ("photo", "style", "output")]
        if unknown:  # a second style column, say, would otherwise be dropped without a word
            raise BrushworkError(
                f"manifest {path} has a column {unknown[0]!r}; its columns are photo, style and output (several "
                "paintings for one photo: a JSON manifest)"
            )
        entries = [
            (f"row {n}", row)
            for n, row in enumerate(lines, start=2)
            if any(isinstance(v, str) and v.strip() for v in row.values())
        ]
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BrushworkError(f"manifest {path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
        except RecursionError:
            raise BrushworkError(f"manifest {path} is nested too deeply to read; a manifest is a flat list") from None
        except ValueError:  # Python refuses integers of over 4300 digits
            raise BrushworkError(f"manifest {path} holds a number too long to read") from None
        if not isinstance(data, list):
            raise BrushworkError(f'manifest {path} must hold a list of {{"photo": ..., "styles": [...]}}')
        entries = [(f"item {n}", entry) for n, entry in enumerate(data, start=1)]
    rows = [_row(path, where, entry) for where, entry in entries]
    if not rows:
        raise BrushworkError(f"manifest {path} lists no pictures to paint")
    twice = [name for name, n in Counter(name.lower() for *_, name in rows if name).items() if n > 1]
    if twice:
        raise BrushworkError(f"manifest {path} names the output {twice[0]} more than once")
    return rows


def _row(manifest: Path, where: str, entry: Any) -> Row:
    def bad(problem: str) -> BrushworkError:
        return BrushworkError(f"manifest {manifest}, {where}: {problem}")

    if not isinstance(entry, dict):
        raise bad('must be {"photo": ..., "styles": [...]}')
    styles = entry.get("styles", entry.get("style") or [])
    styles = [styles] if isinstance(styles, str) else styles  # one painting, given as a string
    texts = [entry.get("photo"), *(styles if isinstance(styles, list) else [None])]
    if not styles or not all(isinstance(t, str) and t.strip() for t in texts):
        raise bad("needs a photo and at least one style, each a file path")
    output = entry.get("output")
    output = (output.strip() if isinstance(output, str) else output) or None
    if any("\0" in t for t in [*texts, output] if isinstance(t, str)):
        raise bad("a path holds a NUL byte, which no file name can")
    if output is not None and not (isinstance(output, str) and Path(output).suffix.lower() in OUTPUT_FORMATS):
        raise bad(f"output {output!r} must be a file name ending in .png, .jpg or .webp (it goes in OUTDIR)")
    if output is not None and Path(output).name != output:
        raise bad(f"output {output!r} must be a file name alone, with no folder (it goes in OUTDIR)")
    if output is not None and len(output.encode()) > NAME_MAX:
        raise bad(f"output {output[:20]}... is {len(output.encode())} bytes long; a file name takes at most {NAME_MAX}")
    photo, *paintings = (Path(os.path.normpath(manifest.parent / t.strip())) for t in texts)
    return photo, tuple(paintings), output


def item_key(item: Item, settings: Settings, digests: dict[Path, str] | None = None) -> str | None:
    """SHA-256 of the version, the settings and every input's bytes: what must match to skip the item.

    ``digests`` caches file hashes across the items of one run. None when an input cannot be read:
    the item then fails when painted, with the reason.
    """
    digests = {} if digests is None else digests
    key = hashlib.sha256(json.dumps([__version__, settings.to_dict()], sort_keys=True).encode())
    start = [] if settings.init in INIT_WORDS else [Path(settings.init)]
    try:
        for path in (item.photo, *item.styles, *start):
            if path not in digests:
                digests[path] = file_sha256(path)
            key.update(digests[path].encode())
    except (OSError, ImageError):  # the item fails when painted, saying why
        return None
    return key.hexdigest()


def _batch_key(picture: Path) -> str | None:
    """The key a batch wrote into a picture's recipe; None for a picture no batch wrote (or none at all)."""
    try:
        return recipes.read(picture).get("batch_key") if picture.is_file() else None
    except (ImageError, OSError):
        return None


def paint_item(
    item: Item,
    settings: Settings,
    encoder: VGG19 | None = None,
    callback: Callback | None = None,
    *,
    keep_memory: bool = False,
) -> Record:
    """Paint one item and write its picture (atomically, with its recipe and key); never raises for bad input.

    A bad input, a run that cannot fit or a NaN loss is a ``failed`` record with its one-line reason;
    Ctrl-C (or ``callback`` returning ``False``) an ``interrupted`` one. Either way nothing is written.
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
    """The painting half of :func:`paint_item`: the run's :class:`~brushwork.engine.Result`, or a ``failed`` or
    ``interrupted`` record when it could not run. Writes nothing, so a worker on another machine can call it
    on copies of the inputs and hand the result back to the driver (:func:`finish_item`)."""
    began = time.perf_counter() if began is None else began
    try:
        if check_output and item.output.exists() and _batch_key(item.output) is None:
            raise ImageError(f"{item.output} exists and no batch painted it; move it or choose another OUTDIR")
        content = load_image(item.photo, "photo")
        styles = [load_image(path, "painting") for path in item.styles]
        return run(content, styles, settings, callback=callback, encoder=encoder, keep_memory=keep_memory)
    except BrushworkError as exc:
        return _record(item, None, "failed", began, str(exc))
    except MemoryError:
        return _record(item, None, "failed", began, "out of memory; try a smaller size or scales 1")
    except OSError as exc:  # e.g. an output name this file system cannot take
        return _record(item, None, "failed", began, f"cannot use {exc.filename or item.output}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        return _record(item, None, "interrupted", began, "interrupted; nothing written")


def finish_item(item: Item, settings: Settings, key: str | None, result: Result, began: float) -> Record:
    """The writing half of :func:`paint_item`: a finished run's picture goes to ``item.output`` (atomically, with
    its recipe naming the driver's input files and the item's key); a stopped or diverged run writes nothing."""
    if result.status in ("interrupted", "cancelled"):  # the painting time is logged too: it was spent
        message = f"{result.status} at step {result.steps}; nothing written"
        return _record(item, key, "interrupted", began, message, steps=result.steps, painting=result.elapsed)
    if result.status == "diverged":  # the engine keeps its last good picture; a batch writes none
        reason = result.message.removesuffix("; kept the last good picture")
        message = f"{reason}; nothing written"
        return _record(item, key, "failed", began, message, result.culprit, result.steps, result.elapsed)
    try:
        if item.output.exists() and _batch_key(item.output) is None:
            raise ImageError(f"{item.output} exists and no batch painted it; move it or choose another OUTDIR")
        recipe = {**recipes.build(settings, item.photo, item.styles, result), "batch_key": key}
        recipes.save_result(result, item.output, recipe, overwrite=True)
    except BrushworkError as exc:
        return _record(item, key, "failed", began, str(exc))
    return _record(item, key, "done", began, steps=result.steps, painting=result.elapsed)


def _record(
    item: Item,
    key: str | None,
    status: str,
    began: float,
    error: str = "",
    culprit: str | None = None,
    steps: int = 0,
    painting: float = 0.0,
) -> Record:
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


class BatchLog:
    """``OUTDIR/batch.jsonl``: one JSON line per item painted, appended and synced as each ends.

    Every line stays JSON that ``jq`` and pandas read: an append that fails (a full disk) is taken back, and a
    line torn by a crash is removed by :meth:`repair` at the start of the next run.
    """

    def __init__(self, path: Path):
        self.path = path

    def records(self) -> list[dict[str, Any]]:
        try:
            return [entry for _, entry in self._lines(self.path.read_bytes())] if self.path.is_file() else []
        except OSError:  # unreadable: no records (the pictures' own keys still tell what is painted)
            return []

    @staticmethod
    def _lines(data: bytes) -> list[tuple[bytes, dict[str, Any]]]:
        """Each readable record with its line; torn or damaged lines are left out."""
        out = []
        for line in data.splitlines():
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(entry, dict):
                out.append((line, entry))
        return out

    def finished_keys(self) -> set[str]:
        """Keys with a ``done`` record."""
        return {r["key"] for r in self.records() if r.get("status") == "done" and isinstance(r.get("key"), str)}

    def painted(self) -> set[Path]:
        """The pictures the log says a batch wrote (resolved; each in the log's folder)."""
        return {
            (self.path.parent / Path(r["output"]).name).resolve()
            for r in self.records()
            if r.get("status") == "done" and isinstance(r.get("output"), str)
        }

    def repair(self) -> None:
        """Remove the lines a crash tore (or anything else that is not a record), so the log reads as JSON lines."""
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        kept = b"".join(line + b"\n" for line, _ in self._lines(data))
        if kept == data:
            return
        try:
            if data.startswith(kept):  # only the last line is torn: cut it off, which needs no space
                os.truncate(self.path, len(kept))
            else:
                partial = self.path.with_name(f".{self.path.name}.partial")
                try:
                    partial.write_bytes(kept)
                    os.replace(partial, self.path)
                finally:
                    partial.unlink(missing_ok=True)
        except OSError as exc:
            raise ImageError(f"cannot repair the log {self.path}: {exc.strerror or exc}") from None

    def append(self, record: Record) -> None:
        """Add ``record``; a write that fails (a full disk) is taken back, so no torn line stays."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                size, rest = os.fstat(fd).st_size, memoryview(record.to_json().encode() + b"\n")
                try:
                    while rest:
                        rest = rest[os.write(fd, rest) :]
                    os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, size)
                    raise
            finally:
                os.close(fd)
        except OSError as exc:
            raise ImageError(f"cannot write the log {self.path}: {exc.strerror or exc}") from None


def _claim(outdir: Path) -> BatchLog:
    """Make the output folder and check its log can be written, before any work."""
    if outdir.exists() and not outdir.is_dir():
        raise ImageError(f"{outdir} is a file; give a folder for the pictures")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        with open(outdir / LOG_NAME, "ab"):
            pass
    except OSError as exc:
        raise ImageError(f"cannot write to folder {outdir}: {exc.strerror or exc}; choose another OUTDIR") from None
    log = BatchLog(outdir / LOG_NAME)
    log.repair()
    return log


def _recovered(item: Item, key: str) -> Record:
    """The ``done`` record of an item whose picture carries its key but whose log line was lost (the disk filled
    up, or the run was killed, between the two writes), rebuilt from the picture and its recipe."""
    run = recipes.read(item.output).get("run")
    run = run if isinstance(run, dict) else {}
    seconds = run.get("seconds", 0.0)
    seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    ended = datetime.fromtimestamp(item.output.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    record = _record(item, key, "done", time.perf_counter() - seconds, steps=int(run.get("steps") or 0))
    record.time, record.painting = ended, seconds
    return record


def _check(items: Sequence[Item], settings: Settings) -> None:
    """What would fail every item is refused before any work."""
    twice = [path for path, n in Counter(item.output.resolve() for item in items).items() if n > 1]
    if twice:
        raise BrushworkError(f"two items would write {twice[0]}; give each its own output")
    for count in sorted({len(item.styles) for item in items}):
        blend_weights(settings, count)
    if settings.save_every:
        raise SettingsError("is not available in a batch; paint one picture to see its steps", "save_every")
    if settings.init not in INIT_WORDS:
        load_image(settings.init, "init image")


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
    cannot be written (a full disk) stops the batch (``Summary.error``).
    """
    began = time.perf_counter()
    _check(items, settings)
    log = _claim(Path(outdir))
    finished = log.finished_keys()
    digests: dict[Path, str] = {}  # each painting is hashed once, not once per photo
    pending, replaced, unlogged = [], [], []
    for item in items:
        key, kept = item_key(item, settings, digests), _batch_key(item.output)
        if key is not None and kept == key:
            if key not in finished:
                unlogged.append(_recovered(item, key))
            continue
        if kept is not None and key is not None:  # (an unreadable input fails its item, replacing nothing)
            replaced.append(item)
        pending.append(item)
    if replaced and not overwrite:
        more = f", as are {len(replaced) - 1} more in {outdir}" if len(replaced) > 1 else ""
        raise OutputExistsError(replaced[0].output, f" (painted by a batch from other inputs or settings{more})")
    summary = Summary("done", 0, 0, len(items) - len(pending), len(items), 0.0, log.path)
    try:
        for record in unlogged:
            log.append(record)
    except ImageError as exc:  # the disk is still full
        summary.status, summary.error = "stopped", str(exc)
        return summary
    painted: list[float] = []

    def report(item: Item | None = None, record: Record | None = None) -> bool:
        summary.elapsed = time.perf_counter() - began
        eta = sum(painted) / len(painted) * summary.left if painted else None
        progress = BatchProgress(
            summary.done,
            summary.failed,
            summary.skipped,
            summary.left,
            summary.total,
            summary.elapsed,
            eta,
            item,
            record,
        )
        return callback is None or callback(progress) is not False

    by_output = {str(item.output): item for item in pending}

    def on_record(record: Record) -> bool:
        summary.records.append(record)
        try:
            log.append(record)
        except ImageError as exc:  # the picture (if any) keeps its key: the next run logs it and goes on
            summary.status, summary.error = "stopped", str(exc)
        if record.status == "interrupted":
            summary.status = "interrupted"
            return False
        if record.status == "done":
            summary.done += 1
            painted.append(record.seconds)
        else:
            summary.failed += 1
        if summary.error:
            return False
        if not report(by_output[record.output], record):
            summary.status = "interrupted"
            return False
        return True

    try:
        if report() and pending:
            (execute or LocalExecutor())(pending, settings, on_record)
        elif pending:
            summary.status = "interrupted"
    except KeyboardInterrupt:
        summary.status = "interrupted"
    summary.elapsed = time.perf_counter() - began
    return summary
