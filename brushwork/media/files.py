"""Files brushwork reads and writes, whatever they hold: only regular files are read, and each is written whole.

Pictures, recipes, job records, batch logs and a clip's frames all go through here: a write cut short leaves
nothing half-written, a file already there is kept unless replacing it was asked for, and an output is checked
before any work, so that a long run never ends in a failed save.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from brushwork.core.errors import DiskFull, ImageError, OutputExistsError
from brushwork.core.formats import OUTPUT_FORMATS, OUTPUT_WORDS, in_words

__all__ = [
    "STALE_AFTER",
    "regular_file",
    "check_output_path",
    "taken",
    "spare_path",
    "file_sha256",
    "write_atomically",
    "written_atomically",
    "out_of_room",
]

STALE_AFTER = 3600.0
"""Seconds after which a temporary file of :func:`written_atomically` is taken as abandoned by a killed process:
writing one picture never takes that long."""


_TEMPORARY = re.compile(r"\.brushwork-[a-z0-9_]{8}\.[A-Za-z0-9]{1,5}")  # tempfile.mkstemp's names, with our prefix


_swept: set[Path] = set()


def regular_file(
    path: str | os.PathLike, role: str = "image", wanted: str = "an image file", shown: str | None = None
) -> Path:
    """``path``, refused in one :class:`ImageError` line (naming the file as ``shown``, by default its path)
    unless it is a regular file: a device such as ``/dev/zero`` or a pipe would be read for ever, and a name the
    system cannot take (too long, a NUL byte) would raise from deep inside a run."""
    p = Path(path)
    name = shown or p
    try:
        mode = p.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise ImageError(f"{role} file not found: {name}; check the path") from None
    except PermissionError:
        raise ImageError(f"cannot read {role} {name}: permission denied; check the file's permissions") from None
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise ImageError(f"cannot read {role} {shown or repr(str(p))}: {why}; check the path") from None
    if stat.S_ISDIR(mode):
        raise ImageError(f"{role} path is a folder: {name}; give {wanted}")
    if not stat.S_ISREG(mode):
        raise ImageError(f"{role} {name} is not a regular file (a device, pipe or socket); give {wanted}")
    return p


@contextlib.contextmanager
def written_atomically(path: Path, overwrite: bool = True) -> Iterator[Path]:
    """A hidden name beside ``path`` for the block to write to, renamed into place once the block is done: a reader
    sees the old file or the new one, a write cut short (a full disk, Ctrl-C) leaves nothing half-written, and a
    file put at ``path`` meanwhile is kept unless ``overwrite``. A failure to write is an :class:`ImageError` that
    names ``path`` (caused by the ``OSError``); one a crash leaves behind is swept later (:func:`_sweep`)."""
    _sweep(path.parent)
    try:
        fd, name = tempfile.mkstemp(prefix=".brushwork-", suffix=path.suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    temporary = Path(name)
    try:
        yield temporary
        temporary.chmod(0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions of a new file
        if not overwrite and taken(path):
            raise OutputExistsError(path)
        os.replace(temporary, path)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from exc
        raise


def _cannot_write(path: Path, exc: OSError) -> ImageError:
    """A failed write in one line, with what helps: space, permissions, or another folder."""
    if out_of_room(exc):
        return DiskFull(f"cannot write {path}: {exc.strerror or exc}; free some space and try again")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "make the folder writable, or choose another"
    else:
        advice = "choose another folder"
    return ImageError(f"cannot write {path}: {exc.strerror or exc}; {advice}")


def out_of_room(exc: BaseException) -> bool:
    """Whether a write failed for want of space or quota (a :class:`DiskFull` then)."""
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)


def _umask() -> int:
    """The process's file-creation mask (read by setting it, which is safe only before any thread starts)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` as :func:`written_atomically` does."""
    with written_atomically(path) as temporary:
        temporary.write_bytes(data)
    return path


def file_sha256(path: str | os.PathLike, role: str = "image") -> str:
    """Hex SHA-256 of a file, recorded in recipes so a rerun can check its inputs (see :func:`regular_file`); read
    once per version of the file (its time and size): a batch's paintings, a clip or a network's weights are asked
    for again and again, and may be large."""
    p = regular_file(path, role)
    stat = p.stat()
    try:
        return _sha256(str(p.resolve()), (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size))
    except PermissionError:
        raise ImageError(f"cannot read {role} {p}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise ImageError(f"cannot read {role} {p}: {exc.strerror or exc}; check the file") from None


@functools.lru_cache(maxsize=256)
def _sha256(path: str, version: tuple[int, ...]) -> str:
    """A file's SHA-256, remembered while the file's ``version`` (the cache's key, unused here) is the same: its
    device and inode (a file saved anew by renaming is another), its times (the change time, which no tool sets
    back) and its size."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_output_path(
    path: str | os.PathLike,
    overwrite: bool = False,
    inputs: tuple[str | os.PathLike, ...] = (),
    suffixes: Sequence[str] | None = None,
) -> Path:
    """Validate an output path before any work is done, so a long run never ends in a failed save.

    The folder is tried with a real (removed at once) file, so a read-only or special
    folder such as ``/proc`` is refused now rather than after the run. ``suffixes`` are the
    file types the caller writes (default: pictures).
    """
    p = Path(path)
    if p.is_dir():
        raise ImageError(f"output {p} is a folder; give a file name such as {p / ('out' + (suffixes or ['.png'])[0])}")
    if suffixes is None and p.suffix.lower() not in OUTPUT_FORMATS:
        raise ImageError(f"cannot write {p.name!r}: use a {OUTPUT_WORDS} file name")
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise ImageError(f"cannot write {p.name!r}: use a {in_words(suffixes)} file name")
    for src in inputs:
        if Path(src).exists() and p.exists() and p.resolve() == Path(src).resolve():
            raise ImageError(f"output {p} is one of the inputs; choose another output name")
    if taken(p) and not overwrite:
        raise OutputExistsError(p)
    parent = p.parent
    for folder in (parent, *parent.parents):
        if folder.exists() and not folder.is_dir():
            raise ImageError(f"{folder} is a file, not a folder; choose another output path")
    if not parent.is_dir():
        raise ImageError(f"folder {parent} does not exist; create it first")
    try:
        fd, probe = tempfile.mkstemp(prefix=".brushwork-", suffix=p.suffix, dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ImageError(f"cannot write to folder {parent}: {exc.strerror or exc}; choose another output") from None
    return p


def taken(path: str | os.PathLike) -> bool:
    """Whether anything is at ``path``: a file, a folder, or a link, one whose target is missing included (a
    picture written there would replace the link, which is the user's)."""
    return os.path.lexists(path)


def spare_path(path: Path, tag: str) -> Path:
    """The first free ``NAME.TAG-N.EXT`` beside ``path``: where a picture goes that must not replace the one there."""
    n = 1
    while taken(path.with_name(f"{path.stem}.{tag}-{n}{path.suffix}")):
        n += 1
    return path.with_name(f"{path.stem}.{tag}-{n}{path.suffix}")


def _sweep(folder: Path) -> None:
    """Remove the temporary files that processes killed mid-write (SIGKILL, a power cut) left in ``folder``: only
    names :func:`written_atomically` makes, only those older than :data:`STALE_AFTER`; once per folder per process."""
    if folder.resolve() in _swept:
        return
    _swept.add(folder.resolve())
    stale = time.time() - STALE_AFTER
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not _TEMPORARY.fullmatch(entry.name):
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < stale:
                    os.unlink(entry.path)
