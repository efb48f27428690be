"""The example photos and public-domain paintings that ship inside the package (see ``examples/SOURCES.md``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXAMPLES_DIR", "example"]

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
"""``content/`` holds the photos, ``style/`` the paintings."""


def example(role: str, name: str) -> Path:
    """The bundled picture ``examples/{role}/{name}.jpg``, e.g. ``example("style", "starry_night")``."""
    return EXAMPLES_DIR / role / f"{name}.jpg"
