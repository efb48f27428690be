"""The kinds of file brushwork reads and writes, by suffix, in plain Python (no torch), so that every
layer, the command line's help included, names the same ones."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "IMAGE_SUFFIXES",
    "OUTPUT_FORMATS",
    "OUTPUT_WORDS",
    "CLIP_INPUT_SUFFIXES",
    "CLIP_OUTPUT_SUFFIXES",
    "in_words",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")
"""Pictures a folder or a glob contributes to a batch (a file named on its own is taken whatever its name)."""

OUTPUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
"""Pictures brushwork writes, with Pillow's format for each; every browser shows them."""

CLIP_INPUT_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")
"""Video clips by their usual names (PyAV reads others too)."""

CLIP_OUTPUT_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v")
"""Containers a painted clip is written in (H.264 video, the audio copied as it is)."""


def in_words(suffixes: Iterable[str]) -> str:
    """Suffixes as a sentence lists them: ``.mp4, .mov, .mkv or .m4v``."""
    *rest, last = suffixes
    return f"{', '.join(rest)} or {last}" if rest else last


OUTPUT_WORDS = in_words(suffix for suffix in OUTPUT_FORMATS if suffix != ".jpeg")  # .jpg's other spelling goes unsaid
"""The pictures brushwork writes, in words: ``.png, .jpg or .webp``."""
