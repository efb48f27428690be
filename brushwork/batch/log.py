"""A batch's log, ``OUTDIR/batch.jsonl``: one JSON line per item painted, appended by the driver alone."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brushwork.core.errors import ImageError
from brushwork.media.files import write_atomically

LOG_NAME = "batch.jsonl"


@dataclass
class Record:
    """How one item went; one line of the log. Plain values only, so it travels between processes."""

    photo: str
    styles: list[str]
    output: str
    key: str | None
    """:func:`~brushwork.batch.run.item_key` of the inputs painted (None when one could not be read)."""
    status: str
    """``done``, ``failed`` (``error`` says why) or ``interrupted`` (Ctrl-C or a cancel; its picture so far, if it
    had begun, is in ``kept``)."""
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
    kept: str = ""
    """Where an interrupted item's picture so far was written, beside ``output`` (never at it: the item is painted
    again by the next run); empty when nothing was."""
    notes: list[str] = field(default_factory=list)
    """What was done to the item's masks (one resized, a blend unused), as a single picture's run says it."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


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
        """Remove the lines a crash tore, so the log reads as JSON lines. A file with lines that are neither
        records nor torn ones (a record's start) is not a batch's log: refused, not emptied."""
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        foreign = next(
            (n for n, line in enumerate(data.splitlines(), 1) if line.strip() and not line.lstrip().startswith(b"{")),
            None,
        )
        if foreign is not None:
            raise ImageError(
                f"{self.path} is not a brushwork batch's log (its line {foreign} is no record of one); move it, or "
                "choose another OUTDIR"
            )
        kept = b"".join(line + b"\n" for line, _ in self._lines(data))
        if kept == data:
            return
        try:
            if data.startswith(kept):  # only the last line is torn: cut it off, which needs no space
                os.truncate(self.path, len(kept))
            else:
                write_atomically(self.path, kept)
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


def claim(outdir: Path) -> BatchLog:
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
