"""Recipes: everything needed to repeat a run, kept inside the pictures brushwork writes.

One home for building a recipe, writing it with a picture, reading it back, and
finding a recipe's inputs again for a rerun.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brushwork import __version__
from brushwork.core.errors import DiskFull, ImageError, InputChangedError, OutputExistsError
from brushwork.core.settings import Settings
from brushwork.media.bundled import EXAMPLES_DIR
from brushwork.media.files import file_sha256, spare_path, taken
from brushwork.media.images import read_tag, save_image
from brushwork.media.masks import RegionFiles

if TYPE_CHECKING:
    from PIL import Image

    from brushwork.engine.runner import Result

__all__ = [
    "RECIPE_KEY",
    "header",
    "input_record",
    "input_files",
    "build",
    "save",
    "save_run",
    "save_result",
    "read",
    "region_files",
    "find_inputs",
    "found_settings",
]

RECIPE_KEY = "brushwork-recipe"
"""The PNG text chunk that holds a picture's recipe (JPEG and WebP keep it as the EXIF description)."""


def header(settings: Settings) -> dict[str, Any]:
    """What every recipe, a picture's or a clip's frame's, starts with: the version and the settings, seed apart."""
    return {"brushwork": __version__, "settings": settings.to_dict(), "seed": settings.seed}


def input_record(role: str, name: str, path: str, sha256: str) -> dict[str, str]:
    """A file a run read: its role (``content``, ``style``, ``keep``...), its name as its owner knows it, where it
    was and its SHA-256."""
    return {"role": role, "name": name, "path": path, "sha256": sha256}


def input_files(
    settings: Settings,
    content: str | os.PathLike[str],
    styles: Sequence[str | os.PathLike[str]],
    regions: RegionFiles,
) -> tuple[str | os.PathLike[str], ...]:
    """Every file a run reads (photo or clip, paintings, masks, the settings' own files): what its recipe hashes,
    and what its output may not replace."""
    return (content, *styles, *(path for _, path in (*regions.inputs(), *settings.files())))


def build(
    settings: Settings,
    content: str | os.PathLike[str],
    styles: Sequence[str | os.PathLike[str]],
    result: Result | None = None,
    base: str | os.PathLike[str] | None = None,
    names: Sequence[str] | None = None,
    regions: RegionFiles | None = None,
) -> dict[str, Any]:
    """The recipe of a run: settings, seed, version, and the inputs with their hashes.

    Input paths are absolute, or relative to ``base`` when given (a server's pictures then do not
    reveal where it keeps its files); every input must then lie in ``base``. ``names`` are the
    inputs' names as their owner knows them (a server's uploads), content first, then the paintings and the
    regions' files; by default (and past the names given) the files' own. :func:`find_inputs` looks for each by
    that name beside the picture. ``regions``' files are inputs too (hashed alike), with the colours a region map
    names, and so is a starting image (``init``).
    """

    def describe(path: str | os.PathLike[str], role: str, name: str) -> dict[str, str]:
        p = Path(path)
        where = p.resolve()
        shown = where.relative_to(Path(base).resolve()) if base is not None else where
        return input_record(role, name, str(shown), file_sha256(p))

    read = [("content", content), *(("style", s) for s in styles), *(regions.inputs() if regions else [])]
    known = [*(names or ()), *(Path(path).name for _, path in read[len(names or ()) :])]
    recipe: dict[str, Any] = {
        **header(settings),
        "inputs": [describe(path, role, name) for (role, path), name in zip(read, known, strict=True)]
        + [describe(path, role, path.name) for role, path in settings.files()],
    }
    if regions and regions.colours:
        recipe["region_colours"] = list(regions.colours)
    if result is not None:
        recipe["run"] = {
            "status": result.status,
            "steps": result.steps,
            "seconds": round(result.elapsed, 2),
            "losses": {k: float(f"{v:.6g}") if math.isfinite(v) else None for k, v in result.losses.items()},  # JSON
        }
    return recipe


def save(
    image: Image.Image,
    path: str | os.PathLike[str],
    recipe: dict[str, Any],
    alpha: Image.Image | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a picture with ``recipe`` in its metadata (alpha kept for PNG/WebP)."""
    return save_image(
        image, path, tag=(RECIPE_KEY, json.dumps(recipe, sort_keys=True)), alpha=alpha, overwrite=overwrite
    )


def save_run(result: Result, output: Path, recipe: dict[str, Any], overwrite: bool = False) -> Path:
    """Write a run's picture and its recipe at ``output``, or beside it when the run stopped early and a picture
    is there (an unfinished run never replaces a finished one, ``overwrite`` or not); where it went."""
    target = output if result.status == "done" or not taken(output) else spare_path(output, "unfinished")
    return save_result(result, target, recipe, overwrite=overwrite and target == output)


def save_result(result: Result, path: str | os.PathLike[str], recipe: dict[str, Any], overwrite: bool = False) -> Path:
    """Write a run's picture (with the photo's alpha channel, if any) and its recipe. A picture that cannot be
    written there (a full disk, a file put in its place meanwhile) is kept elsewhere, and the error says where:
    a finished painting is never thrown away."""
    try:
        return save(result.image, path, recipe, alpha=result.alpha, overwrite=overwrite)
    except ImageError as exc:
        kept = _rescue(result, Path(path), recipe)
        if kept is None:
            raise
        if isinstance(exc, OutputExistsError):  # put there while it painted
            raise OutputExistsError(exc.path, f"{exc.why} (the painting is kept in {kept})") from None
        kind = DiskFull if isinstance(exc, DiskFull) else ImageError  # a batch stops on a full disk
        raise kind(f"{exc}; the painting is kept in {kept}") from None


def _rescue(result: Result, path: Path, recipe: dict[str, Any]) -> Path | None:
    """Keep a picture that could not be written at ``path``: beside it under a new name, else in the system's
    temporary folder. None if neither takes it."""
    for folder in (path.parent, Path(tempfile.gettempdir())):
        try:
            return save(result.image, spare_path(folder / f"{path.stem}.png", "unsaved"), recipe, alpha=result.alpha)
        except ImageError:
            continue  # this folder does not take it: the next one
    return None


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The recipe a brushwork picture carries in its metadata."""
    text = read_tag(path, RECIPE_KEY)
    missing = ImageError(
        f"{path} carries no brushwork recipe; only the pictures brushwork paints have one (not its sheets or the "
        "Mondrian it draws)"
    )
    if text is None:
        raise missing
    try:
        recipe = json.loads(text)
    except json.JSONDecodeError:
        raise _damaged(path) from None
    if not isinstance(recipe, dict) or "settings" not in recipe or not isinstance(recipe.get("inputs"), list):
        raise missing
    roles = [item.get("role") if isinstance(item, dict) else None for item in recipe["inputs"]]
    if not isinstance(recipe["settings"], dict) or not all(isinstance(role, str) for role in roles):
        raise _damaged(path)  # edited by hand, or written by something else: never a traceback further on
    return recipe


def _damaged(path: str | os.PathLike[str]) -> ImageError:
    return ImageError(f"the recipe in {path} is damaged; it cannot be read")


def region_files(recipe: dict[str, Any], paths: Sequence[Path]) -> RegionFiles:
    """The regions of a recipe's run, from its inputs found at ``paths`` (see :func:`find_inputs`)."""
    roles = [item["role"] for item in recipe["inputs"]]
    return RegionFiles.from_inputs(zip(roles, paths), tuple(map(str, recipe.get("region_colours") or [])))


def found_settings(recipe: dict[str, Any], paths: Sequence[Path], settings: Settings) -> Settings:
    """``settings`` with each file a setting names as found at ``paths`` (see :func:`find_inputs`): a rerun
    uses the file that was checked, wherever it is now."""
    named = {role for role, _ in settings.files()}
    found = {item["role"]: str(path) for path, item in zip(paths, recipe["inputs"]) if item["role"] in named}
    return settings.replace(**found)


def find_inputs(recipe: dict[str, Any], picture: str | os.PathLike[str], allow_changed: bool = False) -> list[Path]:
    """The recipe's input files, looked for at their recorded path, in the current folder, beside ``picture`` and
    among the bundled examples (a picture made from them in another copy of brushwork).

    A file counts only if its contents match the recorded hash; one that is there but changed is an
    :class:`InputChangedError`, unless ``allow_changed`` (then it is used as it is now).
    """
    paths = []
    for item in recipe["inputs"]:
        if not all(isinstance(item.get(key), str) for key in ("name", "path", "sha256")):
            raise _damaged(picture)
        candidates = [Path(item["path"]), Path(item["name"]), Path(picture).parent / item["name"]]
        present = list(dict.fromkeys(c for c in candidates if c.is_file()))
        bundled = [EXAMPLES_DIR / kind / item["name"] for kind in ("content", "style", "video")]
        matching = (c for c in [*present, *(b for b in bundled if b.is_file())] if file_sha256(c) == item["sha256"])
        found = next(matching, None)  # a bundled example counts only as itself, never as a changed stand-in
        if found is None and present:
            if not allow_changed:
                raise InputChangedError(_called(item["role"]), item["name"], present[0], recorded=item["path"])
            found = present[0]
        if found is None:
            raise ImageError(
                f"cannot find the {_called(item['role'])} {item['name']}; put it at {item['path']}, "
                f"in the current folder or beside {Path(picture).name}"
            )
        paths.append(found)
    return paths


def _called(role: str) -> str:
    """What an input of a recipe is called in what is said: ``the keep mask``, ``the style image``."""
    named = {"keep": "keep mask", "weights": "weights file", "init": "start picture"}
    return named.get(role, role if role in ("mask", "region map", "painting mask") else f"{role} image")
