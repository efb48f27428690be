"""Turning uploads and example choices into a job's input files, refusing anything that is not a usable image.

An upload is judged by its content, never its name or declared type: it is
written under a server-chosen name, its pixel count is read from the header
before anything is decoded, and then :func:`brushwork.media.images.load_image` must
decode it fully. The photo's place may hold a clip instead: an upload no picture
decoder reads is tried as a video (:func:`brushwork.media.clips.peek`: its first frame), within the
studio's clip limits. A picture's region masks pass the command line's checks
(:mod:`brushwork.media.masks`). Every refusal is an ``HTTPException`` with a one-line reason.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from fastapi import HTTPException, UploadFile
from PIL import Image

from brushwork.core.errors import ImageError
from brushwork.core.formats import CLIP_INPUT_SUFFIXES
from brushwork.core.settings import Settings, VideoSettings
from brushwork.media.clips import ClipInfo, peek, probe
from brushwork.media.images import Picture, load_image
from brushwork.media.masks import with_paintings_alpha
from brushwork.planning.levels import thin_photo_problem
from brushwork.web.examples import Example
from brushwork.web.limits import MB, Limits
from brushwork.web.store import region_files

CHUNK = 1 << 20
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif", "GIF": "gif", "BMP": "bmp"}


ROLE_WORDS = {"content": "photo", "style": "painting", "mask": "region mask", "keep": "keep mask"}
"""What the page calls each role of an upload, for what is said about it."""


def _called(role: str) -> str:
    return ROLE_WORDS.get(role, role)


def shown_name(filename: str | None, fallback: str) -> str:
    """The upload's file name for display only: last path part, printable, at most 80 characters."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable())[:80]
    return name if name.strip(".") else fallback  # "..": no file's name, in a bundle least of all


def store_upload(
    upload: UploadFile, folder: Path, stem: str, role: str, limits: Limits, clips: bool = False
) -> dict[str, str]:
    """Copy an upload into ``folder`` as ``stem.EXT`` after checking its size, pixels and content; with ``clips``,
    a video is taken too (its record says ``"kind": "clip"``)."""
    name = shown_name(upload.filename, role)
    raw = folder / f"{stem}.upload"
    largest = max(limits.max_upload_bytes, limits.max_clip_bytes) if clips else limits.max_upload_bytes
    size = 0
    with raw.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > largest:
                raise HTTPException(413, _too_large(role, name, limits, clips))
            out.write(chunk)
    if size == 0:
        raise HTTPException(422, f"{_called(role)} {name!r} is empty; choose a picture file")
    fmt = _check_pixels(raw, role, name, limits)
    suffix = PurePosixPath(name).suffix.lower()
    if fmt is None and clips:
        try:
            peek(raw, shown=repr(name))
        except ImageError as exc:
            if suffix in CLIP_INPUT_SUFFIXES or (upload.content_type or "").startswith("video/"):  # meant as a clip
                raise HTTPException(415, str(exc)) from None
        else:
            if size > limits.max_clip_bytes:
                raise HTTPException(413, _too_large(role, name, limits, clips))
            dest = raw.rename(folder / f"{stem}{suffix if suffix in CLIP_INPUT_SUFFIXES else '.mp4'}")
            return {"role": role, "name": name, "file": dest.name, "kind": "clip"}
    if size > limits.max_upload_bytes:
        raise HTTPException(413, _too_large(role, name, limits, False))
    return _accept(raw, fmt, folder, stem, role, name)


def _too_large(role: str, name: str, limits: Limits, clips: bool) -> str:
    if clips:
        return (
            f"{name!r} is larger than the studio takes ({limits.max_upload_bytes / MB:g} MB for a picture, "
            f"{limits.max_clip_bytes / MB:g} MB for a clip); send a smaller file"
        )
    return f"{_called(role)} {name!r} is larger than {limits.max_upload_bytes / MB:g} MB; send a smaller file"


def check_clip(path: Path, shown: str, settings: Settings, video: VideoSettings, limits: Limits) -> ClipInfo:
    """Refuse a clip whose frames are larger than a picture may be, whose painted part is longer than the
    studio paints, or that is too thin to paint, in one line."""
    clip = probe(path, shown=repr(shown))
    if clip.width * clip.height > limits.max_pixels:
        raise HTTPException(
            413,
            f"{shown!r} has frames of {clip.width}x{clip.height}, more than {limits.max_pixels / 1e6:g} "
            "megapixels; shrink it first",
        )
    end = min(video.until, clip.duration)
    if video.start >= clip.duration:
        raise HTTPException(422, f"Start is {video.start:g} s but {shown!r} lasts {clip.duration:.1f} s")
    if end - video.start > limits.max_clip_seconds + 1e-6:
        raise HTTPException(
            422,
            f"the studio paints at most {limits.max_clip_seconds:g} s of a clip and {shown!r} would be "
            f"{end - video.start:.1f} s: set Start and End to a shorter part, or use 'brushwork video'",
        )
    _refuse_thin(*clip.upright, limits.max_size, settings)
    return clip


def store_example(example: Example, folder: Path, stem: str) -> dict[str, str]:
    """Copy a bundled example into ``folder``, so that the job stands on its own."""
    dest = folder / f"{stem}{example.path.suffix.lower()}"
    shutil.copyfile(example.path, dest)
    record = {"role": example.role, "name": example.title, "file": dest.name, "source": example.path.name}
    return {**record, "kind": "clip"} if example.clip else record


def check_photo_shape(path: Path, largest: int, settings: Settings) -> None:
    """Refuse a photo too thin to paint at any size the studio allows, with advice that fits (crop it)."""
    with Image.open(path) as img:
        width, height = img.size
    _refuse_thin(width, height, largest, settings)


def _refuse_thin(width: int, height: int, largest: int, settings: Settings) -> None:
    """A 422 for a picture (or a clip's frames) too thin to paint at any size up to the studio's ``largest``."""
    problem = thin_photo_problem(width, height, largest, settings, largest_is="the largest this studio paints")
    if problem is not None:
        raise HTTPException(422, problem)


def check_regions(
    folder: Path,
    masks: list[dict[str, str]],
    photo: tuple[int, int],
    paintings: Sequence[Picture],
    blend: Sequence[float] | None = None,
) -> list[str]:
    """Refuse kept masks (``mask``, ``keep`` and ``painting mask`` input records) that the run could not use, as
    the command line does, naming each by its upload's name: one per painting, each its picture's shape, none
    empty, none overlapping, and no painting with nothing opaque to learn from. Gives what the artist should hear
    of (a mask resized to its picture, a blend that the masks leave unused)."""
    names = {folder / item["file"]: item["name"] for item in masks}
    try:
        sizes = [painting.rgb.size for painting in paintings]
        regions = region_files(masks, folder).load(photo, sizes, blend=blend, names=names)
        with_paintings_alpha(regions, paintings)
    except ImageError as exc:
        raise HTTPException(422, str(exc)) from None
    return list(regions.notes)


def _accept(raw: Path, fmt: str | None, folder: Path, stem: str, role: str, name: str) -> dict[str, str]:
    try:
        picture = load_image(raw, _called(role), shown=repr(name))
    except ImageError as exc:
        raise HTTPException(415, str(exc)) from None
    if role == "style" and picture.alpha is not None and picture.alpha.getextrema()[1] == 0:
        raise HTTPException(422, f"the painting {name!r} is transparent all over; there is nothing to learn from")
    dest = raw.rename(folder / f"{stem}.{EXTENSIONS.get(fmt or '', 'img')}")
    return {"role": role, "name": name, "file": dest.name}


def _check_pixels(path: Path, role: str, name: str, limits: Limits) -> str | None:
    """Refuse a picture with too many pixels from its header alone; return its format (``None``: unreadable)."""
    too_big = HTTPException(
        413, f"{_called(role)} {name!r} has more than {limits.max_pixels / 1e6:g} megapixels; shrink it first"
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
