"""Region maps as users save them: the pixels no region reaches (left as the photo) and the seconds to read the map,
for this brushwork's ``masks_from_map`` and, side by side, another version's.

    git show a073e9c:brushwork/media/masks.py > /tmp/masks_before.py
    .venv/bin/python benchmarks/bench_region_maps.py --before /tmp/masks_before.py

A map's seam between two regions should leave no pixel unpainted; a strip or a band drawn in a colour no region
names should keep its pixels. Seconds are the best of three.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image

from brushwork.media import masks

BLUE, GREEN, RED = (0, 0, 255), (0, 255, 0), (255, 0, 0)
Colour = tuple[int, int, int]


def halves(width: int, height: int) -> np.ndarray:
    drawn = np.zeros((height, width, 3), np.uint8)
    drawn[:, : width // 2], drawn[:, width // 2 :] = BLUE, GREEN
    return drawn


def with_band(drawn: np.ndarray) -> np.ndarray:
    drawn[300:460] = (0, 0, 0)
    return drawn


def with_strip(drawn: np.ndarray) -> np.ndarray:
    drawn[:, 510:514] = (128, 128, 128)
    return drawn


def three(width: int, height: int) -> np.ndarray:
    drawn = halves(width, height)
    drawn[height // 3 : 2 * height // 3] = RED
    return drawn


MAPS: list[tuple[str, Callable[[], np.ndarray], dict, list[Colour], tuple[int, int]]] = [
    ("two halves, JPEG q80, 1024x768", lambda: halves(1024, 768), {"quality": 80}, [BLUE, GREEN], (1024, 768)),
    ("a black band kept, JPEG q70", lambda: with_band(halves(1024, 768)), {"quality": 70}, [BLUE, GREEN], (1024, 768)),
    ("a 4 px grey strip kept, PNG", lambda: with_strip(halves(1024, 768)), {}, [BLUE, GREEN], (1024, 768)),
    ("drawn at 128x96, JPEG q60, enlarged", lambda: halves(128, 96), {"quality": 60}, [BLUE, GREEN], (1024, 768)),
    (
        "three regions, 4000x3000, JPEG q75",
        lambda: three(4000, 3000),
        {"quality": 75},
        [BLUE, GREEN, RED],
        (4000, 3000),
    ),
]
"""What each map is, how it is drawn and saved (JPEG when it has a quality), its colours and the photo's size."""


def loaded(path: Path) -> ModuleType:
    """Another version of ``brushwork/media/masks.py``, beside this one."""
    spec = importlib.util.spec_from_file_location("masks_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def measured(module: ModuleType, path: Path, colours: list[Colour], photo: tuple[int, int]) -> tuple[int, float]:
    """The pixels no region reaches, and the best of three readings' seconds."""
    best, unpainted = float("inf"), 0
    for _ in range(3):
        began = time.perf_counter()
        found = module.masks_from_map(path, colours, photo, [])
        best = min(best, time.perf_counter() - began)
        unpainted = int((sum(found) == 0).sum())
    return unpainted, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="another version of brushwork/media/masks.py")
    args = parser.parse_args()
    versions = (loaded(args.before), masks)
    print("| map | unpainted pixels before | after | seconds before | after |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for name, draw, saved, colours, photo in MAPS:
            path = Path(folder) / ("map.jpg" if saved else "map.png")
            Image.fromarray(draw()).save(path, **saved)
            (old, old_s), (new, new_s) = (measured(v, path, colours, photo) for v in versions)
            print(f"| {name} | {old} | {new} | {old_s:.2f} | {new_s:.2f} |")


if __name__ == "__main__":
    main()
