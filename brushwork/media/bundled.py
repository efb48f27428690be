"""The example photos and public-domain paintings that ship inside the package (see ``examples/SOURCES.md``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXAMPLES_DIR", "TITLES", "example", "title"]

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
"""``content/`` holds the photos, ``style/`` the paintings."""

TITLES = {
    "tubingen": "Tübingen",
    "chicago": "Chicago",
    "stata": "Stata Center",
    "fox": "Fox",
    "starry_night": "The Starry Night",
    "wave": "The Great Wave",
    "shipwreck": "The Shipwreck",
    "udnie": "Udnie",
    "woman-with-hat-matisse": "Woman with a Hat",
}
"""What each bundled picture is called where people read it (a file name cannot hold Tübingen's umlaut)."""


def example(role: str, name: str) -> Path:
    """The bundled picture ``examples/{role}/{name}.jpg``, e.g. ``example("style", "starry_night")``."""
    return EXAMPLES_DIR / role / f"{name}.jpg"


def title(name: str) -> str:
    """A bundled picture's title, or for another name, its words capitalised."""
    return TITLES.get(name) or name.replace("_", " ").replace("-", " ").title()
