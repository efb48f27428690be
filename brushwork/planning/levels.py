"""The shape of a run, worked out before any work: level sizes, painting sizes, step budgets.

Plain Python on image sizes (no torch), so the studio can refuse an unusable photo at
upload and every front door can check a run before it starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from brushwork.core.errors import ImageError, SettingsError
from brushwork.core.layers import receptive_field, run_layers, smallest_side
from brushwork.core.settings import MAX_SIZE, Settings

__all__ = [
    "MIN_LEVEL_SIZE",
    "MIN_PICTURE_PIXELS",
    "fit_longest",
    "level_sizes",
    "longest_side_for",
    "check_sizes",
    "thin_photo_problem",
    "painting_longest",
    "painting_wanted",
    "level_budgets",
    "level_count",
    "level_style_layers",
    "PAINTING_ENLARGEMENT",
    "STEP_COST_EXPONENT",
    "Size",
    "step_cost",
]

MIN_LEVEL_SIZE = 64
"""No coarse level is smaller than this (longest side, px): below it VGG19 sees too little."""
AUTO_COARSEST = 128
"""With ``scales=0`` the coarsest level is the smallest halving of the size that is at least this (px)."""
STEP_COST_EXPONENT = 0.93
"""A step's cost grows as pixels to this power (measured: 0.94 for fp32 on an AVX2 CPU from 128 to 1024 px,
0.88 from 128 to 256 px and 1.0 from 512 to 1024 px; with bf16 on an AVX512-BF16 CPU 0.75-0.88 from 128 to
256 px and 1.0 from 512 to 1024 px: small pictures are overhead-bound). The plan stretches its one timed step
over the run's sizes with it; the progress bar, which times the run's own levels, holds the growth between them
at 1.0 or more on a CPU (:class:`~brushwork.planning.forecast.StepTimer`)."""

MIN_PICTURE_PIXELS = 16 * 16
"""A photo or a painting of fewer pixels holds too little to paint from (an icon, a wrong file): the deepest style
layer sees 16x16 px as one position."""
PAINTING_ENLARGEMENT = 2.0
"""A painting is enlarged at most this many times past its own pixels: further only blurs its strokes, so at
print sizes a small scan's strokes come out finer than the size asks (the plan says so)."""

Size = tuple[int, int]


def level_count(size: int, scales: int) -> int:
    """How many levels a run at ``size`` px has: ``scales``, or with 0 enough to start at about 128 px."""
    if scales > 0:
        return scales
    return 1 + max(0, math.floor(math.log2(size / AUTO_COARSEST))) if size >= AUTO_COARSEST else 1


def fit_longest(width: int, height: int, longest: int) -> Size:
    """(width, height) of a ``width`` x ``height`` picture resized to a longest side of ``longest``, its shape
    kept: what the engine resizes pictures to, so that a plan knows their sizes before any pixel is read."""
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def level_sizes(width: int, height: int, size: int, levels: int, min_side: int = 1) -> list[Size]:
    """(width, height) of each coarse-to-fine level: halving from ``size``.

    A coarse level is left out when its longest side is under 64 px or its shortest under ``min_side``.
    """
    out = []
    for i in reversed(range(levels)):
        longest = round(size / 2**i)
        wh = fit_longest(width, height, longest)
        if i == 0 or (longest >= MIN_LEVEL_SIZE and min(wh) >= min_side):
            out.append(wh)
    return out


def longest_side_for(width: int, height: int, min_side: int) -> int:
    """The longest side at which a ``width`` x ``height`` picture's shortest side is ``min_side``."""
    return math.ceil(min_side * max(width, height) / min(width, height))


def thin_photo_problem(width: int, height: int, largest: int, settings: Settings, largest_is: str = "") -> str | None:
    """Why a photo cannot be painted at any size up to ``largest`` px, or ``None`` when it can; ``largest_is``
    says whose limit ``largest`` is, when a front door's own (``"the largest this studio paints"``)."""
    min_side = smallest_side(run_layers(settings))
    if longest_side_for(width, height, min_side) <= largest:
        return None
    ratio = math.floor(largest / min_side)
    at = f"{largest} px ({largest_is})" if largest_is else f"{largest} px"
    return (
        f"the photo ({width}x{height}) is too thin: even at {at} its short side would be under the "
        f"{min_side} px the network needs; crop it to a shape no thinner than 1:{ratio}"
    )


def check_sizes(photo: Size, paintings: Sequence[tuple[str, Size]], settings: Settings) -> list[Size]:
    """The level sizes of a run, or a clear error when the photo or a painting is too thin for the network, or holds
    too few pixels to paint from."""
    min_side = smallest_side(run_layers(settings))
    sizes = level_sizes(*photo, settings.size, level_count(settings.size, settings.scales), min_side)
    if min(sizes[-1]) < min_side:
        problem = thin_photo_problem(*photo, MAX_SIZE, settings)
        if problem is not None:
            raise ImageError(problem)
        raise SettingsError(
            f"{settings.size} would make the photo's short side {min(sizes[-1])} px, under the "
            f"{min_side} px the network needs; use {longest_side_for(*photo, min_side)} or more",
            "size",
        )
    named = [(f"the painting {name}" if name else "a painting", size) for name, size in paintings]
    for which, (w, h) in named:
        if longest_side_for(w, h, smallest_side(settings.style_layers)) > MAX_SIZE:
            raise ImageError(
                f"{which} is too thin for the network even at {MAX_SIZE} px long; crop it to a less thin shape"
            )
    for which, (w, h) in [("the photo", photo), *named]:
        if w * h < MIN_PICTURE_PIXELS:
            raise ImageError(f"{which} is {w}x{h} px, too few pixels to paint from; give one of at least 16x16")
    return sizes[-settings.steps :]  # fewer steps than levels: the coarsest levels are left out


def painting_longest(painting: Size, level: Size, settings: Settings) -> int:
    """Longest side a painting is seen at for a level: ``style_scale`` times the level's, but never past
    :data:`PAINTING_ENLARGEMENT` times its own; enlarged anyway if too thin for the network."""
    capped = min(painting_wanted(level, settings), max(round(PAINTING_ENLARGEMENT * max(painting)), 16))
    return max(capped, longest_side_for(*painting, smallest_side(settings.style_layers)))


def painting_wanted(level: Size, settings: Settings) -> int:
    """Longest side ``style_scale`` asks a painting to be seen at for a level, before any cap."""
    return max(16, round(max(level) * settings.style_scale))


def step_cost(smaller: Size, larger: Size, exponent: float = STEP_COST_EXPONENT) -> float:
    """How many times a step at ``larger`` costs a step at ``smaller``: pixels to the power ``exponent``."""
    return float((larger[0] * larger[1] / (smaller[0] * smaller[1])) ** exponent)


def level_budgets(total: int, sizes: Sequence[Size], growth: float) -> list[int]:
    """Most steps each level may take: ``total`` split so that each level gets ``growth`` times the time of the
    level before.

    A coarse step is cheap, so coarse levels take many steps (where the colours and large shapes
    move) and the full size fewer (where the fine texture is added, the deepest style layers join
    and the photo's details are drawn back in). Every level gets at least one step (a run has no
    more levels than steps, see :func:`check_sizes`); the rounding goes to the coarsest. A level
    that converges early does not pass its steps on: a fine step costs more.
    """
    shares = [growth**i / step_cost(sizes[0], wh) for i, wh in enumerate(sizes)]
    later = [max(1, math.floor(total * share / sum(shares))) for share in shares[1:]]
    while sum(later) > total - 1:  # tiny totals: every level keeps one step
        later[later.index(max(later))] -= 1
    return [total - sum(later), *later]


def level_style_layers(settings: Settings, level: Size) -> Settings:
    """The settings a level is painted with: only the style layers whose reach fits the level.

    A position of relu5_1 sees 156 px, most of a 128 px level, and a good part of a 512 px one: its
    statistics then describe the painting's objects, and matching them paints those objects (the
    Mona Lisa's face, a boat) into the photo. A layer takes part only where its receptive field is
    at most ``layer_reach`` of the level's short side; the shallowest style layer of a weight above 0 always
    does, and each keeps its own weight. With the default 0.2, a 512 px picture takes relu1_1 and relu2_1 at
    128 px, relu3_1 from 256 px and relu4_1 at 512 px; relu5_1 joins at a short side of 780 px.
    """
    if settings.layer_reach <= 0:
        return settings
    reach = settings.layer_reach * min(level)
    weights = settings.style_layer_weights or (1.0,) * len(settings.style_layers)
    weighed = [(name, w) for name, w in zip(settings.style_layers, weights) if w > 0]  # weight 0: adds nothing
    kept = [(name, w) for name, w in weighed if receptive_field(name) <= reach]
    if not kept:
        kept = [min(weighed, key=lambda pair: receptive_field(pair[0]))]
    if len(kept) == len(settings.style_layers):
        return settings
    names, kept_weights = zip(*kept)
    return settings.replace(
        style_layers=names, style_layer_weights=kept_weights if settings.style_layer_weights else None
    )
