"""What a run will need before it starts: memory and time per level, whole or in tiles (plain Python).

:func:`plan_run` takes the run's shape (:mod:`brushwork.planning.levels`) and a :class:`Machine` (measured by
:mod:`brushwork.model.device`) and decides, level by level, whether the picture is painted whole or in
tiles (:mod:`brushwork.planning.tiles`), and how large the tiles are: whole while it fits, else the largest
tiles that fit. The memory model's constants are measured (``benchmarks/bench_tiles.py``, ``bench_gpu.py``); so is the
step time, on the machine itself, at plan time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from brushwork.core.errors import ImageError, SettingsError
from brushwork.core.layers import channels, halo, run_layers, smallest_side, stride
from brushwork.core.settings import Settings
from brushwork.core.words import count, duration
from brushwork.planning.forecast import LEVEL_SETUP
from brushwork.planning.levels import (
    PAINTING_ENLARGEMENT,
    Size,
    check_sizes,
    fit_longest,
    level_budgets,
    painting_longest,
    painting_wanted,
)
from brushwork.planning.machine import GB, Machine
from brushwork.planning.tiles import core_side, layer_grid

__all__ = ["LevelPlan", "RunPlan", "plan_run", "TILE_SIZES", "LBFGS_HISTORY"]

TILE_SIZES = (2048, 1536, 1024, 768, 512, 384, 256)
"""Tile sizes the plan tries, largest first (fewer tiles: less margin to compute twice)."""
USABLE = 0.85
"""Share of the free memory a plan may fill (the rest is for the system and the allocator's slack)."""
PHOTO_ENLARGEMENT_NOTED = 1.1
"""A photo enlarged this many times or more gets a note in the plan (less is rounding, not news)."""

# Memory model, in bytes per pixel (measured: benchmarks/bench_tiles.py on a CPU in fp32, bench_gpu.py in bf16).
ACTIVATION = {4: 3400.0, 2: 2400.0}
"""A step's network activations, per pixel the network sees, by element size (fp32: 4, bf16: 2; bf16 keeps
some float32 tensors, so it is not half)."""
PAINTING = {4: 1200.0, 2: 850.0}
"""Measuring a painting's statistics (no gradients kept), per pixel, by element size."""
PICTURE = 12 * 8
"""The picture and its kin (gradient, best, start, content, optimiser state), per pixel, besides the history."""
HISTORY = 12 * 2
"""One L-BFGS curvature pair, per pixel (it keeps one per step, up to :data:`LBFGS_HISTORY`)."""
LBFGS_HISTORY = 20
"""Curvature pairs L-BFGS keeps: judged as good as 50 at 512 and 1024 px, with 2.5x less memory and time for the
pairs."""
FORWARD_SHARE = 0.4
"""A forward pass without gradients, as a share of a step (measured): a tiled step runs one more."""


@dataclass(frozen=True)
class LevelPlan:
    size: Size
    steps: int
    tile: int | None
    """Core size of the tiles, or ``None`` for the whole picture at once."""
    tiles: int
    painting: Size
    """The size the (largest) painting is seen at."""
    memory: int
    """Estimated peak bytes of the process while this level runs."""
    seconds: float
    overhead: float = 1.0
    """A step's cost over a whole-picture step's at this size (tiles: their margins and the first pass)."""

    @property
    def step_seconds(self) -> float:
        """The seconds of one of its steps."""
        return self.seconds / (self.steps + LEVEL_SETUP)


@dataclass(frozen=True)
class RunPlan:
    levels: list[LevelPlan]
    machine: Machine
    halo: int
    notes: list[str] = field(default_factory=list)

    @property
    def peak(self) -> int:
        return max(level.memory for level in self.levels)

    @property
    def seconds(self) -> float:
        return sum(level.seconds for level in self.levels)

    def describe(self) -> str:
        """The plan as a few lines for people (the command line's ``--plan``, a run's start, the studio)."""
        m = self.machine
        lines = [
            f"plan: {_wh(self.levels[-1].size)} px in {count(len(self.levels), 'level')} on {m.name}",
            "  level  size        steps  how                                  memory    time",
        ]
        for i, level in enumerate(self.levels, 1):
            how = "whole" if level.tile is None else f"{level.tiles} tiles of {level.tile} px (+{self.halo} px margin)"
            lines.append(
                f"  {i:<6} {_wh(level.size):<11} {level.steps:<6} {how:<36} {_gb(level.memory):>7}  "
                f"{duration(level.seconds):>6}"
            )
        lines.append(
            f"  peak memory about {_gb(self.peak)} of {_gb(m.free + m.in_use)} available; "
            f"time about {duration(self.seconds)}"
        )
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _wh(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


def _gb(amount: float) -> str:
    return f"{amount / GB:.1f} GB"


def _content_bytes(layers: Sequence[str]) -> float:
    """The photo's features at the content layers, kept in float32 through the level, per pixel."""
    return sum(4 * channels(n) / stride(n) ** 2 for n in layers)


def _step_seconds(pixels: float, machine: Machine) -> float:
    return machine.step_seconds * (pixels / machine.calibrated**2) ** machine.exponent


def _level(
    size: Size,
    steps: int,
    painting: Size,
    tile: int | None,
    settings: Settings,
    machine: Machine,
) -> LevelPlan:
    """Memory and time of one level, whole (``tile=None``) or in tiles."""
    layers = run_layers(settings)
    pixels = size[0] * size[1]
    grid = layer_grid(*size, tile, layers) if tile else []
    crops = [(t.crop[2] - t.crop[0]) * (t.crop[3] - t.crop[1]) for t in grid] or [pixels]
    seen = max(crops)  # the network sees one tile (or the picture) at a time
    painting_seen = painting[0] * painting[1]
    if tile:  # a painting larger than a tile is measured in tiles too
        painting_crops = [
            (t.crop[2] - t.crop[0]) * (t.crop[3] - t.crop[1]) for t in layer_grid(*painting, tile, layers)
        ]
        painting_seen = max(painting_crops)
    network = max(ACTIVATION[machine.element] * seen, PAINTING[machine.element] * painting_seen)
    kept = pixels * (PICTURE + _content_bytes(settings.content_layers) + HISTORY * min(steps, LBFGS_HISTORY))
    memory = int(machine.in_use + network + kept)
    whole = _step_seconds(pixels, machine)
    step = sum(_step_seconds(c, machine) for c in crops) * (1 + FORWARD_SHARE) if tile else whole
    cores = core_side(tile, layers) if tile else None
    return LevelPlan(size, steps, cores, len(grid), painting, memory, (steps + LEVEL_SETUP) * step, step / whole)


SLOW_TILES = 3.0
"""A tiled level this many times slower than whole is noted: tiles given so small that their margins dominate."""


def plan_run(photo: Size, paintings: Sequence[tuple[str, Size]], settings: Settings, machine: Machine) -> RunPlan:
    """The plan of a run: each level whole or tiled, its memory and time; a :class:`SettingsError` when even
    the smallest tiles cannot fit the free memory (it says what size would)."""
    levels, unfit = _levels(photo, paintings, settings, machine)
    if unfit is not None:
        raise SettingsError(_too_large(unfit, photo, paintings, settings, machine), _culprit(settings))
    final = levels[-1].size
    notes = [*_enlargements(paintings, final, settings), *_unreached_rates(settings)]
    slowest = max((level.overhead for level in levels if level.tile), default=1.0)
    if settings.tile_size and slowest >= SLOW_TILES:  # the user's tiles: the plan's own are never so small
        notes.append(
            f"tiles of {settings.tile_size} px paint their margins ({halo(run_layers(settings))} px a side) over "
            f"and over: a tiled level takes about {slowest:.0f}x as long as painted whole; larger tiles cost less"
        )
    if settings.save_every > settings.steps:
        notes.append(
            f"a snapshot every {settings.save_every} steps is more than the run's {settings.steps}: none is taken"
        )
    if max(final) >= PHOTO_ENLARGEMENT_NOTED * max(photo):
        notes.append(
            f"the photo ({_wh(photo)}) is enlarged {max(final) / max(photo):.1f}x to {_wh(final)} px: the "
            "strokes are painted at that size, but the photo's details are only as sharp as its own pixels"
        )
    return RunPlan(levels, machine, halo(run_layers(settings)), notes)


def _levels(
    photo: Size, paintings: Sequence[tuple[str, Size]], settings: Settings, machine: Machine
) -> tuple[list[LevelPlan], LevelPlan | None]:
    """Each level, whole while it fits the free memory and in ever smaller tiles after; and the first level that
    fits in none of the ways it may be painted (its smallest way), or None."""
    sizes = check_sizes(photo, paintings, settings)
    budgets = level_budgets(settings.steps, sizes, settings.level_growth)
    margin = halo(run_layers(settings))
    room = _room(machine)
    levels: list[LevelPlan] = []
    for size, steps in zip(sizes, budgets):
        painting = _largest_painting(paintings, size, settings)
        options: list[int | None]
        if settings.tile_size and max(size) > settings.tile_size:
            options = [settings.tile_size]
        elif settings.tile_size:
            options = [None]
        else:
            options = [None, *(t for t in TILE_SIZES if t < max(size) and t >= margin)]
        ways = (_level(size, steps, painting, tile, settings, machine) for tile in options)
        choice = None
        for choice in ways:  # the first that fits: whole, then ever smaller tiles
            if choice.memory <= room:
                break
        assert choice is not None  # there is always the whole level
        if choice.memory > room:
            return levels, choice
        levels.append(choice)
    return levels, None


def _room(machine: Machine) -> float:
    """The memory a plan may fill: what the process holds, and most of what is free."""
    return machine.in_use + USABLE * machine.free


def _culprit(settings: Settings) -> str:
    return "tile_size" if settings.tile_size else "size"


def _too_large(
    level: LevelPlan,
    photo: Size,
    paintings: Sequence[tuple[str, Size]],
    settings: Settings,
    machine: Machine,
) -> str:
    """Why a run cannot fit, and the largest size that would (the problem of the setting to change)."""
    where = f"at {_wh(level.size)} px" + (f" in {level.tile} px tiles" if level.tile else "")
    free = f"the {_gb(_room(machine))} that {machine.device} memory has free for it"
    if settings.tile_size:
        return (
            f"{settings.tile_size} needs {_gb(level.memory)} {where}, more than {free}; "
            "use a smaller tile size, or 0 for automatic"
        )
    fits, low, high = 0, 16, settings.size - 1
    while low <= high:  # the largest size whose plan fits: plans grow with the size
        middle = (low + high) // 2
        try:
            fitting = _levels(photo, paintings, settings.replace(size=middle), machine)[1] is None
        except (SettingsError, ImageError):
            fitting = False
        fits, low, high = (middle, middle + 1, high) if fitting else (fits, low, middle - 1)
    advice = f"use {fits} or less, or free some memory" if fits else "free some memory"
    tiled = " even in tiles" if level.tile else ""
    return f"{settings.size} needs {_gb(level.memory)} {where}{tiled}, more than {free}; {advice}"


def _largest_painting(paintings: Sequence[tuple[str, Size]], level: Size, settings: Settings) -> Size:
    """The size of the largest painting as seen at this level (it sets the painting's memory)."""
    seen = [_painting_size(wh, level, settings) for _, wh in paintings]
    return max(seen, key=lambda wh: wh[0] * wh[1], default=(1, 1))


def _painting_size(painting: Size, level: Size, settings: Settings) -> Size:
    return fit_longest(*painting, painting_longest(painting, level, settings))


def _unreached_rates(settings: Settings) -> list[str]:
    """A note for each learning-rate change the run ends before (``--preset seed``'s 180:0.1 in a shorter run)."""
    late = [f"{start}:{rate:g}" for start, rate in sorted(settings.lr_schedule) if start >= settings.steps]
    if not late:
        return []
    return [
        f"the learning-rate schedule's {', '.join(late)} starts after the run's {settings.steps} steps, so it never "
        "applies: move it earlier or paint more steps"
    ]


def _enlargements(paintings: Sequence[tuple[str, Size]], final: Size, settings: Settings) -> list[str]:
    """A note for each painting enlarged past its own pixels at the final level (capped, see
    :data:`PAINTING_ENLARGEMENT`): its strokes will be softer, or finer than the size asks."""
    notes = []
    for name, wh in paintings:
        wanted, shown = painting_wanted(final, settings), painting_longest(wh, final, settings)
        asked = round(max(final) * settings.style_scale)  # before the least size a painting is seen at
        label = f"the painting {name}" if name else "a painting"
        if wanted > shown:
            notes.append(
                f"{label} ({_wh(wh)}) is seen at {shown} px, not {wanted}: enlarging it past "
                f"{PAINTING_ENLARGEMENT:g}x its own pixels would only blur it, so its strokes come out finer than "
                "at smaller sizes; a larger scan keeps them in scale"
            )
        elif shown > wanted:
            notes.append(
                f"{label} ({_wh(wh)}) is seen at {shown} px, not {asked}: its short side must be "
                f"{smallest_side(settings.style_layers)} px for the network, so its strokes come out larger"
            )
        elif shown > max(wh):
            notes.append(
                f"{label} ({_wh(wh)}) is enlarged {shown / max(wh):.1f}x to {shown} px to keep its strokes in "
                "scale with the picture; its strokes will be softer (a larger scan gives sharper ones)"
            )
    return notes
