"""A batch's items: every photo with every painting (files, folders, globs), or the pairs a manifest lists,
each named predictably in OUTDIR."""

from __future__ import annotations

import csv
import glob
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brushwork.batch.log import LOG_NAME, BatchLog
from brushwork.core.errors import BrushworkError, ImageError, WrongKindError
from brushwork.core.formats import CLIP_INPUT_SUFFIXES, IMAGE_SUFFIXES, OUTPUT_FORMATS, OUTPUT_WORDS
from brushwork.core.words import count
from brushwork.engine import recipes
from brushwork.media.files import regular_file
from brushwork.media.masks import RegionFiles

CSV_COLUMNS = ("photo", "style", "output", "masks", "keep", "painting_masks")
"""A CSV manifest's columns: one painting per row, so ``masks`` holds at most one mask (where it applies) and
``painting_masks`` at most one (the part of the painting to learn from)."""
JSON_KEYS = ("photo", "styles", "style", "output", "masks", "keep", "painting_masks")
"""A JSON manifest's item's keys: ``styles`` a list of paintings (or ``style``, one)."""
NAME_MAX = 255
"""Bytes in a file name, on the usual file systems."""


@dataclass(frozen=True)
class Item:
    """One picture to paint: a photo, its paintings, where the picture goes, and the regions each painting
    applies to (a manifest's ``masks`` and ``keep``; none: the paintings blended over the whole photo)."""

    photo: Path
    styles: tuple[Path, ...]
    output: Path
    regions: RegionFiles = RegionFiles()

    def inputs(self) -> tuple[Path, ...]:
        """Every file the item reads: the photo, its paintings, then its masks."""
        return tuple(path for _, path in self.roles())

    def roles(self) -> tuple[tuple[str, Path], ...]:
        """Every file the item reads, with what it is to the run: :meth:`inputs`, each named as errors name it."""
        return (("photo", self.photo), *(("painting", p) for p in self.styles), *self.regions.inputs())

    def moved(self, paths: Sequence[Path], output: Path) -> Item:
        """The same item read from other files (``paths`` in the order of :meth:`inputs`) and written to ``output``."""
        return Item(
            paths[0], tuple(paths[1 : 1 + len(self.styles)]), output, self.regions.moved(paths[1 + len(self.styles) :])
        )


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


Note = Callable[[str], None]
"""Where what a batch leaves out is said (the command line prints it, the API warns)."""


def _images_in(argument: str, role: str, painted: set[Path], note: Note) -> list[Path]:
    """The files one argument names: itself, a folder's pictures (sorted, not recursive), or a glob's; a folder
    or glob leaves out the ``painted`` pictures and any other a batch painted (so that OUTDIR may be the photos'
    folder, and an earlier batch's pictures there are not photos to a batch writing elsewhere), and, with a
    ``note``, what is named as a picture but is no file to read (a broken link, a pipe)."""
    path = Path(argument)
    if os.path.isdir(argument):
        found = _pictures_among(sorted(path.iterdir()), role, painted, note)
    elif _is_glob(argument) and not os.path.lexists(argument):
        found = _pictures_among(list(map(Path, sorted(glob.glob(argument, recursive=True)))), role, painted, note)
    elif not os.path.lexists(argument):
        raise ImageError(f"{role} file or folder not found: {argument}; check the path")
    elif role == "photo" and path.suffix.lower() in CLIP_INPUT_SUFFIXES:  # the front door says what paints a clip
        raise WrongKindError(f"photo {argument} is a video clip, not a picture", clip=True)
    else:
        found = [regular_file(argument, role)]
    if not found:
        raise ImageError(f"no {role} pictures match {argument}; give image files, folders or globs")
    return found


def _pictures_among(paths: list[Path], role: str, painted: set[Path], note: Note) -> list[Path]:
    """The pictures (by their names) among a folder's or a glob's ``paths`` that no batch painted; one named as a
    picture that is no file to read (a broken link, a pipe) is noted as skipped, a folder left out unsaid."""
    named = [p for p in paths if _is_picture(p) and not p.is_dir()]
    for path in named:
        if path.is_symlink() and not path.exists():
            note(f"skipped {role} {path}: a link to a missing file")
        elif not path.is_file():
            note(f"skipped {role} {path}: not a regular file (a device, pipe or socket)")
    return [p for p in named if p.is_file() and not _painted(p, painted)]


def _painted(picture: Path, logged: set[Path]) -> bool:
    """Whether a batch painted ``picture``: its log says so, or (though the log lost it) the recipe of a picture
    named as a batch names its own (``photo__painting``) carries a batch's key."""
    return picture.resolve() in logged or ("__" in picture.stem and batch_key(picture) is not None)


def _is_picture(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _expand(arguments: Sequence[str | os.PathLike[str]], role: str, painted: set[Path], note: Note) -> list[Path]:
    """Every file the arguments name, in order, each once (see :func:`_images_in`)."""
    seen, out = set(), []
    for argument in arguments:
        for path in _images_in(os.fspath(argument), role, painted, note):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                out.append(path)
    return out


Row = tuple[Path, tuple[Path, ...], str | None, RegionFiles]
"""A photo, its paintings, the output name a manifest gives it (None: the usual name) and its masks."""


def collect(
    photos: Sequence[str | os.PathLike[str]],
    styles: Sequence[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    manifest: str | os.PathLike[str] | None = None,
    note: Note = lambda _: None,
) -> list[Item]:
    """The items of a batch: every photo with every painting, or the pairs ``manifest`` lists (not both).

    Each of ``photos`` and ``styles`` is a file, a folder or a glob. Pictures are named
    ``OUTDIR/{photo}__{painting}.png`` (several paintings joined by ``+``); a name taken twice gets
    ``_2``, ``_3``... in the order of the files' paths. An argument that matches nothing is an :class:`ImageError`.
    Folders and globs leave out the pictures a batch painted, logged in ``OUTDIR`` or not (they are not photos to
    paint again). What is left out that a user would miss is told to ``note``: a folder's broken link or pipe named
    like a picture, a manifest's pair listed again (painted once).
    """
    if manifest is not None:
        if photos or styles:
            raise BrushworkError("give either photos and paintings, or a manifest, not both")
        rows = _read_manifest(Path(manifest), note)
    else:
        if not photos or not styles:
            raise BrushworkError("give at least one photo and one painting (or a manifest)")
        painted, note = BatchLog(Path(outdir) / LOG_NAME).painted(), _once(note)
        paintings = _expand(styles, "painting", painted, note)
        rows = [
            (photo, (painting,), None, RegionFiles())
            for photo in _expand(photos, "photo", painted, note)
            for painting in paintings
        ]
    return [
        Item(photo, paintings, Path(outdir) / name, regions)
        for (photo, paintings, _, regions), name in zip(rows, _names(rows))
    ]


def _once(note: Note) -> Note:
    """``note``, saying each thing once (a folder given twice, as itself and in a glob, skips its links twice)."""
    said: set[str] = set()

    def said_once(text: str) -> None:
        if text not in said:
            said.add(text)
            note(text)

    return said_once


def batch_key(picture: Path) -> str | None:
    """The key a batch wrote into a picture's recipe; None for a picture no batch wrote (or none at all)."""
    try:
        return recipes.read(picture).get("batch_key") if picture.is_file() else None
    except (ImageError, OSError, SyntaxError, ValueError):  # a damaged picture's metadata (its EXIF, say)
        return None


def picture_name(photo: str, paintings: Sequence[str]) -> str:
    """``photo__painting`` (``photo__one+two`` for a blend), without a suffix: how a batch names its pictures from
    its inputs' names, and the studio its downloads."""
    return f"{photo}__{'+'.join(paintings)}"


def _names(rows: list[Row]) -> list[str]:
    """Each row's output name: its own, or ``photo__painting.png`` made unique (ignoring case) in the order of
    the rows' files' paths, not of the arguments: the same inputs given in another order get the same names, so a
    finished batch is found finished."""
    taken = {name.lower() for _, _, name, _ in rows if name}
    names = [name or "" for _, _, name, _ in rows]  # "": made below
    by_path = sorted(range(len(rows)), key=lambda i: [str(p.resolve()) for p in (rows[i][0], *rows[i][1])])
    for i in by_path:
        photo, paintings, name, _ = rows[i]
        if name is None:
            base = _shortened(picture_name(photo.stem, [p.stem for p in paintings]))
            name, n = f"{base}.png", 1
            while name.lower() in taken:
                n += 1
                name = f"{base}_{n}.png"
            taken.add(name.lower())
            names[i] = name
    return names


def _shortened(base: str) -> str:
    """``base`` cut so that ``base_NNN.webp`` fits in a file name (long photo and painting names add up)."""
    room = NAME_MAX - len("_999.jpeg")
    return base.encode()[:room].decode(errors="ignore")


def _read_manifest(path: Path, note: Note) -> list[Row]:
    """A manifest's rows: CSV with columns photo, style (and output, masks, keep, painting_masks), or JSON, a list
    of ``{"photo", "styles" or "style", "output", "masks", "keep", "painting_masks"}``. Input paths are relative to
    the manifest's folder; an output is a file name in OUTDIR; ``masks`` is one mask per painting, ``keep`` a
    region kept, ``painting_masks`` one per painting, drawn on it (the part of it to learn from). A row that
    repeats an earlier one's inputs, naming no output of its own, is noted and left out: it would be painted twice."""
    kind = path.suffix.lower()
    if kind not in (".csv", ".json"):
        raise BrushworkError(f"manifest {path} must be a .csv or .json file")
    try:
        text = regular_file(path, "manifest", "a .csv or .json file").read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BrushworkError(f"cannot read manifest {path} ({getattr(exc, 'strerror', None) or exc})") from None
    entries = _csv_entries(path, text) if kind == ".csv" else _json_entries(path, text)
    rows: list[Row] = []
    first: dict[tuple[object, ...], str] = {}  # each pair's files (by role, as found) and colours: where listed
    for where, entry in entries:
        row = _row(path, where, entry)
        photo, paintings, output, regions = row
        files = [("photo", photo), *(("painting", p) for p in paintings), *regions.inputs()]
        inputs = (*((role, p.resolve()) for role, p in files), *regions.colours)
        if output is None and inputs in first:
            note(f"manifest {path}, {where} repeats {first[inputs]}; painted once")
            continue
        first.setdefault(inputs, where)
        rows.append(row)
    if not rows:
        raise BrushworkError(f"manifest {path} lists no pictures to paint")
    twice = [name for name, n in Counter(name.lower() for _, _, name, _ in rows if name).items() if n > 1]
    if twice:
        raise BrushworkError(f"manifest {path} names the output {twice[0]} more than once")
    return rows


def _csv_entries(path: Path, text: str) -> list[tuple[str, Any]]:
    """A CSV manifest's rows as (where, entry), its headers read case- and space-insensitively; blank rows are
    skipped, an unknown column or a row longer than the headers refused."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or ()]  # "Photo, Style" too
        lines = list(reader)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise BrushworkError(f"manifest {path} is not a CSV file this can read ({exc})") from None
    missing = {"photo", "style"} - set(reader.fieldnames)
    if missing:
        found = ", ".join(repr(name) for name in reader.fieldnames) or "nothing"
        raise BrushworkError(
            f"manifest {path} needs the columns photo and style (and output, masks, keep, painting_masks), "
            f"in its first row; it has {found}"
        )
    unknown = [name for name in reader.fieldnames if name not in CSV_COLUMNS]
    if unknown:  # a second style column, say, would otherwise be dropped without a word
        raise BrushworkError(
            f"manifest {path} has a column {unknown[0]!r}; its columns are {', '.join(CSV_COLUMNS)} (several "
            "paintings for one photo: a JSON manifest)"
        )
    entries = [
        (f"row {n}", row)
        for n, row in enumerate(lines, start=2)
        if any(isinstance(v, str) and v.strip() for v in row.values())
    ]
    longer = next((where for where, row in entries if None in row), None)  # csv puts extra values under None
    if longer is not None:
        raise BrushworkError(
            f"manifest {path}, {longer}: has more values than the first row has columns; a path with a comma "
            'goes in "double quotes"'
        )
    return entries


def _json_entries(path: Path, text: str) -> list[tuple[str, Any]]:
    """A JSON manifest's items as (where, entry): it must be a list."""
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
    return [(f"item {n}", entry) for n, entry in enumerate(data, start=1)]


def _row(manifest: Path, where: str, entry: Any) -> Row:
    def bad(problem: str) -> BrushworkError:
        return BrushworkError(f"manifest {manifest}, {where}: {problem}")

    if not isinstance(entry, dict):
        raise bad('must be {"photo": ..., "styles": [...]}')
    unknown = [key for key in entry if key not in JSON_KEYS]
    if unknown:  # a misspelt "mask" would otherwise paint without it, without a word
        raise bad(f"has a key {unknown[0]!r}; its keys are {', '.join(JSON_KEYS)}")
    styles = entry.get("styles", entry.get("style") or [])
    styles = [styles] if isinstance(styles, str) else styles  # one painting, given as a string
    texts = [entry.get("photo"), *(styles if isinstance(styles, list) else [None])]
    if not styles or not all(isinstance(t, str) and t.strip() for t in texts):
        raise bad("needs a photo and at least one style, each a file path")
    masks, sources = (entry.get(name) or [] for name in ("masks", "painting_masks"))
    masks, sources = ([m] if isinstance(m, str) else m for m in (masks, sources))
    keep = entry.get("keep") or None
    if not (isinstance(masks, list) and isinstance(sources, list)) or not all(
        isinstance(t, str) and t.strip() for t in [*masks, *sources, keep or "-"]
    ):
        raise bad("masks and painting_masks (one per painting) and keep must be file paths")
    for name, given in (("masks", masks), ("painting masks", sources)):
        if given and len(given) != len(styles):
            raise bad(
                f"has {count(len(given), name.removesuffix('s'))} for {count(len(styles), 'painting')}; "
                "give one per painting"
            )
    output = entry.get("output")
    output = (output.strip() if isinstance(output, str) else output) or None
    if any("\0" in t for t in [*texts, *masks, *sources, keep, output] if isinstance(t, str)):
        raise bad("a path holds a NUL byte, which no file name can")
    if output is not None and not (isinstance(output, str) and Path(output).suffix.lower() in OUTPUT_FORMATS):
        raise bad(f"output {output!r} must be a file name ending in {OUTPUT_WORDS} (it goes in OUTDIR)")
    if output is not None and Path(output).name != output:
        raise bad(f"output {output!r} must be a file name alone, with no folder (it goes in OUTDIR)")
    if output is not None and len(output.encode()) > NAME_MAX:
        raise bad(f"output {output[:20]}... is {len(output.encode())} bytes long; a file name takes at most {NAME_MAX}")
    photo, *paintings = (_beside(manifest, t) for t in texts)
    if photo.suffix.lower() in CLIP_INPUT_SUFFIXES:  # the front door says what paints a clip
        raise WrongKindError(f"manifest {manifest}, {where}: photo {photo} is a video clip, not a picture", clip=True)
    regions = RegionFiles(
        tuple(_beside(manifest, m) for m in masks),
        keep=_beside(manifest, keep) if keep else None,
        painting_masks=tuple(_beside(manifest, m) for m in sources),
    )
    return photo, tuple(paintings), output, regions


def _beside(manifest: Path, text: str) -> Path:
    """A path a manifest gives, relative to the manifest's folder."""
    return Path(os.path.normpath(manifest.parent / text.strip()))
