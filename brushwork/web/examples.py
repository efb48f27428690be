"""The bundled example photos, clips and paintings, as the studio offers them (see :mod:`brushwork.media.bundled`).

A bundled clip (``examples/video/``) is offered in the photo's place.

Requests name an example by role and name; the name is looked up in the folder
listing made at start-up, so it never becomes part of a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from brushwork.core.formats import CLIP_INPUT_SUFFIXES, OUTPUT_FORMATS
from brushwork.media.bundled import EXAMPLES_DIR, title

SUFFIXES = tuple(OUTPUT_FORMATS)
"""An example picture is one the page can show: a kind brushwork writes."""


@dataclass(frozen=True)
class Example:
    role: str
    name: str
    path: Path

    @property
    def clip(self) -> bool:
        return self.path.suffix.lower() in CLIP_INPUT_SUFFIXES

    @property
    def title(self) -> str:
        return title(self.name)


class Examples:
    """The examples found under one folder, by role and name."""

    def __init__(self, root: Path | None = EXAMPLES_DIR):
        self.items: dict[tuple[str, str], Example] = {}
        for role, folder_name, suffixes in (
            ("content", "content", SUFFIXES),
            ("content", "video", CLIP_INPUT_SUFFIXES),
            ("style", "style", SUFFIXES),
        ):
            folder = Path(root) / folder_name if root is not None else None
            if folder is None or not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() in suffixes and path.is_file():
                    self.items.setdefault((role, path.stem), Example(role, path.stem, path))

    def all(self) -> list[Example]:
        return list(self.items.values())

    def names(self, role: str) -> list[str]:
        return [e.name for e in self.items.values() if e.role == role]

    def get(self, role: str, name: str) -> Example | None:
        return self.items.get((role, name))
