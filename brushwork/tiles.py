"""Tiles of a picture too large to paint whole: where each one's pixels and core lie (plain Python).

A tile is a *core* (the positions whose features it contributes) inside a *crop* (the pixels the
network sees): the core widened by the halo of :func:`brushwork.layers.halo` on every side that is
not the picture's edge. With that halo a tile's features at its core are exactly the whole
picture's, so the sum of the tiles' statistics is the whole picture's and no seam can form. Cores
start at multiples of the deepest layer's stride, so every tile's poolings line up with the
picture's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Box", "Tile", "tile_grid"]

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels, right and bottom exclusive."""


@dataclass(frozen=True)
class Tile:
    crop: Box
    """The pixels the network sees."""
    core: Box
    """The part whose features (and gradient contributions) this tile gives."""


def _cuts(length: int, tile: int, align: int) -> list[int]:
    """Core boundaries along one side: on multiples of ``align``, as even as they go, none longer than ``tile``."""
    units, per_tile = math.ceil(length / align), tile // align
    count = math.ceil(units / per_tile)
    return [0, *(math.ceil(i * units / count) * align for i in range(1, count)), length]


def tile_grid(width: int, height: int, tile: int, halo: int, align: int) -> list[Tile]:
    """The tiles covering a ``width`` x ``height`` picture, row by row: cores at most ``tile`` px a side.

    ``tile`` must be at least ``align``; ``halo`` a multiple of ``align``.
    """
    if tile < align or halo % align:
        raise ValueError(f"tile ({tile}) must be at least {align} and halo ({halo}) a multiple of it")
    xs, ys = _cuts(width, tile, align), _cuts(height, tile, align)
    tiles = []
    for top, bottom in zip(ys, ys[1:]):
        for left, right in zip(xs, xs[1:]):
            crop = (max(0, left - halo), max(0, top - halo), min(width, right + halo), min(height, bottom + halo))
            tiles.append(Tile(crop, (left, top, right, bottom)))
    return tiles
