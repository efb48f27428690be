"""How many steps a run will take and how long is left, from what the run has shown so far.

Levels stop early once converged, and a step of a finer level costs more than one of a
coarser level, so neither a plain step count nor tqdm's rate would be right. The engine
feeds a :class:`StepTimer` after every step and asks :func:`forecast` for the totals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from brushwork.core.settings import CONVERGENCE_WINDOW
from brushwork.planning.levels import STEP_COST_EXPONENT, step_cost

__all__ = ["StepTimer", "forecast", "LEVEL_SETUP"]

LEVEL_SETUP = 1.3
"""What a level costs besides its steps, in its own steps: the targets, the gradient scale and the score of
the last update (measured in fp32 on a CPU: 1.0 of a 512 px step, 1.4 of a 1024 px one)."""
LEVEL_END = 0.4
"""What is left of the current level after its last step: the score of the last update."""

Size = tuple[int, int]


def forecast(
    budgets: Sequence[int],
    tolerance: float,
    sizes: Sequence[Size],
    level: int,
    finished: Sequence[int],
    level_steps: int,
    seconds_per_step: float,
    exponent: float = STEP_COST_EXPONENT,
    overheads: Sequence[float] | None = None,
) -> tuple[int, float]:
    """Expected steps of the whole run and seconds left.

    Each level takes its budget (:func:`~brushwork.planning.levels.level_budgets`); with an early-stop
    ``tolerance`` a level is expected to use the same fraction of its budget as the level before
    it (the first, all of it), and never fewer steps than it has done plus a convergence window.
    A later level's step costs what a step costs now times :func:`~brushwork.planning.levels.step_cost`
    with ``exponent`` (measured by :class:`StepTimer` once two levels have run), times its
    ``overheads`` over the current level's (a level painted in tiles costs more a step than its
    pixels say: :attr:`brushwork.planning.run_plan.LevelPlan.overhead`). Exact in steps when ``tolerance`` is 0.
    """
    overheads = overheads or [1.0] * len(sizes)
    budget = budgets[level]
    fraction = finished[-1] / budgets[level - 1] if finished and level else 1.0
    if tolerance <= 0:
        current = budget
    else:
        current = max(level_steps, min(budget, max(level_steps + CONVERGENCE_WINDOW, round(fraction * budget))))
        fraction = current / budget
    spent, later_cost = sum(finished) + current, 0.0
    for index in range(level + 1, len(sizes)):
        steps = budgets[index] if tolerance <= 0 else max(1, min(budgets[index], round(fraction * budgets[index])))
        spent += steps
        cost = step_cost(sizes[level], sizes[index], exponent) * overheads[index] / overheads[level]
        later_cost += (steps + LEVEL_SETUP) * cost
    return spent, seconds_per_step * (current - level_steps + LEVEL_END + later_cost)


class StepTimer:
    """Seconds a step of the current level takes, and how step cost grows with size on this machine.

    A level's first ``warm_up`` steps may run in fp32 and cost several times a bf16 step, so
    they are left out; until a later step is timed, the previous level's rate times the
    expected cost ratio stands in. ``min_exponent`` bounds the measured growth from below: on a CPU
    a convolution's work grows with the pixels, and the slower growth measured between two small
    levels (0.75-0.88 from 128 to 256 px) is overhead that larger levels no longer hide (1.0 from 512
    to 1024 px, fp32 and bf16 alike: 0.75 s and 3.0 s a step in bf16). Before two levels are timed, the
    default growth (:data:`~brushwork.planning.levels.STEP_COST_EXPONENT`) stands. ``first_guess``, the
    plan's seconds a step of the first level, stands in for its rate until a step after the warm-up is
    timed: a bf16 run's first steps, in fp32, would otherwise promise ten times the time.
    """

    def __init__(self, warm_up: int, min_exponent: float = 0.5, first_guess: float = 0.0):
        self.warm_up, self.rate, self.min_exponent, self.first_guess = warm_up, 0.0, min_exponent, first_guess
        self.began, self.steps, self.guess, self.skip = 0.0, 0, 0.0, warm_up
        self.settled: float | None = None
        self.size: Size | None = None
        self.overhead = 1.0
        self.measured: list[tuple[Size, float]] = []  # (level size, its seconds per step), finished levels

    def start_level(self, now: float, size: Size, overhead: float = 1.0) -> None:
        """A new level of ``size`` starts at time ``now``; ``overhead``: its step's cost over its pixels' (tiles)."""
        if self.size is not None and self.rate > 0:
            self.measured.append((self.size, self.rate / self.overhead))  # as if whole: the growth is the pixels'
        if self.size is not None:
            self.guess = self.rate * step_cost(self.size, size, self.exponent()) * overhead / self.overhead
        else:
            self.guess = self.first_guess
        self.began, self.steps, self.size, self.overhead = now, 0, size, overhead
        # a level's first step also carries its gradient scale and first-touch page faults (at 1024 px it took
        # 2.5 times a later step), so once there is a guess it is left out of the rate too
        self.skip = max(self.warm_up, 1) if self.guess else self.warm_up
        self.settled = now if self.skip == 0 else None  # when the steps left out were over

    def step(self, now: float) -> float:
        """Record a finished step at time ``now``; returns the current seconds per step."""
        self.steps += 1
        if self.steps == self.skip:
            self.settled = now
        if self.settled is not None and self.steps > self.skip:
            self.rate = (now - self.settled) / (self.steps - self.skip)
        else:
            self.rate = self.guess or (now - self.began) / self.steps  # the first level knows nothing better
        return self.rate

    def exponent(self) -> float:
        """How step cost grows with pixels here: measured between the last two finished levels, else the default."""
        points = list(self.measured)
        if self.size is not None and self.steps >= self.skip + 3:  # the current level's rate has settled
            points.append((self.size, self.rate / self.overhead))
        if len(points) < 2:
            return STEP_COST_EXPONENT
        (small, small_rate), (large, large_rate) = points[-2:]
        pixels = large[0] * large[1] / (small[0] * small[1])
        if pixels <= 1 or small_rate <= 0:
            return STEP_COST_EXPONENT
        return min(1.3, max(self.min_exponent, math.log(large_rate / small_rate) / math.log(pixels)))
