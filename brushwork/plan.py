"""The shape of a run, worked out before any work: level sizes, painting sizes, step budgets.

Plain Python on image sizes (no torch), so the studio can refuse an unusable photo at
upload and every front door can check a run before it starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .errors import ImageError, SettingsError
from .layers import smallest_side
from .settings import MAX_SIZE, Settings

__all__ = [
    "MIN_LEVEL_SIZE",
    "level_sizes",
    "longest_side_for",
    "check_sizes",
    "thin_photo_problem",
    "painting_longest",
    "level_budget",
]

MIN_LEVEL_SIZE = 64
"""No coarse level is smaller than this (longest side, px): below it VGG19 sees too little."""

Size = tuple[int, int]


def level_sizes(width: int, height: int, size: int, levels: int, min_side: int = 1) -> list[Size]:
    """(width, height) of each coarse-to-fine level: halving from ``size``.

    A coarse level is left out when its longest side is under 64 px or its shortest under ``min_side``.
    """
    out = []
    for i in reversed(range(levels)):
        longest = round(size / 2**i)
        scale = longest / max(width, height)
        wh = (max(1, round(width * scale)), max(1, round(height * scale)))
        if i == 0 or (longest >= MIN_LEVEL_SIZE and min(wh) >= min_side):
            out.append(wh)
    return out


def longest_side_for(width: int, height: int, min_side: int) -> int:
    """The longest side at which a ``width`` x ``height`` picture's shortest side is ``min_side``."""
    return math.ceil(min_side * max(width, height) / min(width, height))


def thin_photo_problem(width: int, height: int, largest: int, settings: Settings) -> str | None:
    """Why a photo cannot be painted at any size up to ``largest`` px, or ``None`` when it can."""
    min_side = smallest_side((*settings.content_layers, *settings.style_layers))
    if longest_side_for(width, height, min_side) <= largest:
        return None
    ratio = math.floor(largest / min_side)
    return (
        f"the photo ({width}x{height}) is too thin: even at {largest} px its short side would be under the "
        f"{min_side} px the network needs; crop it to a shape no thinner than 1:{ratio}"
    )


def check_sizes(photo: Size, paintings: Sequence[tuple[str, Size]], settings: Settings) -> list[Size]:
    """The level sizes of a run, or a clear error when the photo or a painting is too thin for the network."""
    min_side = smallest_side((*settings.content_layers, *settings.style_layers))
    sizes = level_sizes(*photo, settings.size, settings.scales, min_side)
    if min(sizes[-1]) < min_side:
        problem = thin_photo_problem(*photo, MAX_SIZE, settings)
        if problem is not None:
            raise ImageError(problem)
        raise SettingsError(
            f"{settings.size} would make the photo's short side {min(sizes[-1])} px, under the "
            f"{min_side} px the network needs; use {longest_side_for(*photo, min_side)} or more",
            "size",
        )
    sizes = sizes[-settings.steps :]  # fewer steps than levels: the coarsest levels are left out
    for name, (w, h) in paintings:
        if longest_side_for(w, h, smallest_side(settings.style_layers)) > MAX_SIZE:
            which = f"the painting {name}" if name else "a painting"
            raise ImageError(
                f"{which} is too thin for the network even at {MAX_SIZE} px long; crop it to a less thin shape"
            )
    return sizes


def painting_longest(painting: Size, level: Size, settings: Settings) -> int:
    """Longest side a painting is seen at for a level: ``style_scale`` times the level's, enlarged if too thin."""
    wanted = max(16, round(max(level) * settings.style_scale))
    return max(wanted, longest_side_for(*painting, smallest_side(settings.style_layers)))


def level_budget(total: int, done: int, levels_left: int) -> int:
    """Most steps the next level may take: an equal share of what is left of ``total``.

    A level that converges early leaves its unused steps to the levels after it. (A run has
    no more levels than steps, see :func:`check_sizes`, so every level gets at least one.)
    """
    return (total - done) // levels_left
