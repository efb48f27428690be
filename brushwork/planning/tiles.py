"""Tiles of a picture too large to paint whole: where each one's pixels and core lie (plain Python).

A tile is a *core* (the positions whose features it contributes) inside a *crop* (the pixels the
network sees): the core widened by the halo of :func:`brushwork.core.layers.halo` on every side that is
not the picture's edge. With that halo a tile's features at its core are exactly the whole
picture's, so the sum of the tiles' statistics is the whole picture's and no seam can form. Cores
start at multiples of the deepest layer's stride, so every tile's poolings line up with the
picture's.

:func:`crop`, :func:`core`, :func:`core_view` and :func:`pick` find a tile in a picture and in a
layer's features; they index the tensors they are given and never import torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brushwork.core.layers import halo, stride

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["Box", "Tile", "tile_grid", "layer_grid", "core_side", "whole_tile", "crop", "core", "core_view", "pick"]

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


def layer_grid(width: int, height: int, tile: int, layers: Sequence[str]) -> list[Tile]:
    """The tiles whose cores' features at ``layers`` are exactly the whole picture's: the deepest layer's margin,
    on its stride's grid (what a plan counts and an objective paints)."""
    return tile_grid(width, height, tile, halo(layers), max(stride(name) for name in layers))


def core_side(tile: int, layers: Sequence[str]) -> int:
    """The longest core side tiles of ``tile`` px get (see :func:`layer_grid`): cut down to the deepest layer's
    stride, so a plan says the tiles a run paints (520 px asked: 512)."""
    align = max(stride(name) for name in layers)
    return tile // align * align


def whole_tile(width: int, height: int) -> Tile:
    """The one tile of a picture painted whole: its core and its crop are the picture."""
    return Tile((0, 0, width, height), (0, 0, width, height))


def crop(image: Tensor, t: Tile) -> Tensor:
    """A tile's crop of a ``(N, C, H, W)`` picture (a view)."""
    left, top, right, bottom = t.crop
    return image[:, :, top:bottom, left:right]


def _core_rows(t: Tile, name: str, origin: bool) -> tuple[slice, slice]:
    """The core's rows and columns in a layer's features: of the tile's own (``origin``) or of the picture's.

    A core ends on a multiple of the stride, except at the picture's edge (where it ends with its
    crop, as the halo stops there): there it ends where the features end.
    """
    s = stride(name)
    left, top, right, bottom = t.core
    ox, oy = (t.crop[0], t.crop[1]) if origin else (0, 0)
    last_x = None if right == t.crop[2] else (right - ox) // s
    last_y = None if bottom == t.crop[3] else (bottom - oy) // s
    return slice((top - oy) // s, last_y), slice((left - ox) // s, last_x)


def core(features: Tensor, t: Tile, name: str) -> Tensor:
    """A tile's features at its core (of the tile's own features)."""
    rows, cols = _core_rows(t, name, origin=True)
    return features[:, :, rows, cols]


def core_view(features: Tensor, t: Tile, name: str) -> Tensor:
    """A tile's core in a whole picture's features (a view)."""
    rows, cols = _core_rows(t, name, origin=False)
    return features[:, :, rows, cols]


def pick(features: Tensor, t: Tile, name: str, positions: Tensor) -> Tensor:
    """The feature vectors, ``(K, C)``, at those of ``positions`` (the picture's rows, columns) in the tile's core.

    ``features`` are the tile's core (:func:`core`).
    """
    rows, cols = _core_rows(t, name, origin=False)
    top, left = rows.start, cols.start
    bottom, right = top + features.shape[2], left + features.shape[3]
    r, c = positions[:, 0], positions[:, 1]
    inside = (r >= top) & (r < bottom) & (c >= left) & (c < right)
    r, c = (r[inside] - top).to(features.device), (c[inside] - left).to(features.device)
    # index_select, not [r, c]: a position drawn twice (a region's) gets its gradient summed in a fixed order on a CPU
    return features[0].flatten(1).index_select(1, r * features.shape[3] + c).T
