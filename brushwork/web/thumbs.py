"""Small JPEG versions of pictures for the page's thumbnails, made once per file version and kept in memory.

A clip's thumbnail is its first frame."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from PIL import Image

from brushwork.core.errors import ImageError
from brushwork.media.clips import frames
from brushwork.media.images import open_image

THUMB_SIZE = 480


def jpeg_bytes(img: Image.Image, quality: int = 88) -> bytes:
    """An image as JPEG bytes (any mode; an alpha channel is dropped)."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@functools.lru_cache(maxsize=256)
def _thumbnail(path: str, mtime_ns: int, longest: int) -> bytes:
    """A picture's thumbnail, remembered while its time (part of the cache's key, unused here) is the same."""
    try:
        img = open_image(path, "picture")
    except ImageError:  # a clip: its first frame
        first = next(iter(frames(path)), None)
        if first is None:
            raise ImageError(f"{Path(path).name} is neither a picture nor a clip with a frame") from None
        img = first.image
    img.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return jpeg_bytes(img, quality=85)


def thumbnail(path: Path, longest: int = THUMB_SIZE) -> bytes:
    """A JPEG at most ``longest`` pixels on its longest side; cached until the file changes. A file that is no
    longer a picture or a clip (damaged on disk) is an :class:`ImageError`."""
    return _thumbnail(str(path), path.stat().st_mtime_ns, longest)
