"""Turning uploads and example choices into a job's input files, refusing anything that is not a usable image.

An upload is judged by its content, never its name or declared type: it is
written under a server-chosen name, its pixel count is read from the header
before anything is decoded, and then :func:`brushwork.images.load_image` must
decode it fully. Every refusal is an ``HTTPException`` with a one-line reason.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path, PurePosixPath

from fastapi import HTTPException, UploadFile
from PIL import Image

from ..errors import ImageError
from ..images import load_image
from ..plan import thin_photo_problem
from ..settings import Settings
from .examples import Example
from .limits import MB, Limits

CHUNK = 1 << 20
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif", "GIF": "gif", "BMP": "bmp"}


def shown_name(filename: str | None, fallback: str) -> str:
    """The upload's file name for display only: last path part, printable, at most 80 characters."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable())[:80]
    return name or fallback


def store_upload(upload: UploadFile, folder: Path, stem: str, role: str, limits: Limits) -> dict[str, str]:
    """Copy an upload into ``folder`` as ``stem.EXT`` after checking its size, pixels and content."""
    name = shown_name(upload.filename, role)
    raw = folder / f"{stem}.upload"
    size = 0
    with raw.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > limits.max_upload_bytes:
                raise HTTPException(
                    413,
                    f"{role} image {name!r} is larger than {limits.max_upload_bytes / MB:g} MB; send a smaller file",
                )
            out.write(chunk)
    if size == 0:
        raise HTTPException(422, f"{role} image {name!r} is empty; choose a picture file")
    return _accept(raw, folder, stem, role, name, limits)


def store_example(example: Example, folder: Path, stem: str) -> dict[str, str]:
    """Copy a bundled example into ``folder``, so that the job stands on its own."""
    dest = folder / f"{stem}{example.path.suffix.lower()}"
    shutil.copyfile(example.path, dest)
    return {"role": example.role, "name": example.title, "file": dest.name}


def check_photo_shape(path: Path, largest: int, settings: Settings) -> None:
    """Refuse a photo too thin to paint at any size the studio allows, with advice that fits (crop it)."""
    with Image.open(path) as img:
        width, height = img.size
    problem = thin_photo_problem(width, height, largest, settings)
    if problem is not None:
        raise HTTPException(422, problem.replace(" px its", " px (the largest this studio paints) its"))


def _accept(raw: Path, folder: Path, stem: str, role: str, name: str, limits: Limits) -> dict[str, str]:
    fmt = _check_pixels(raw, role, name, limits)
    try:
        load_image(raw, role)
    except ImageError as exc:
        raise HTTPException(415, str(exc).replace(str(raw), repr(name))) from None
    dest = raw.rename(folder / f"{stem}.{EXTENSIONS.get(fmt or '', 'img')}")
    return {"role": role, "name": name, "file": dest.name}


def _check_pixels(path: Path, role: str, name: str, limits: Limits) -> str | None:
    """Refuse a picture with too many pixels from its header alone; return its format (``None``: unreadable)."""
    too_big = HTTPException(
        413, f"{role} image {name!r} has more than {limits.max_pixels / 1e6:g} megapixels; shrink it first"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height, fmt = img.width, img.height, img.format
    except Image.DecompressionBombError:
        raise too_big from None
    except (OSError, SyntaxError, ValueError):  # load_image says what is wrong with it, in one line
        return None
    if width * height > limits.max_pixels:
        raise too_big
    return fmt
