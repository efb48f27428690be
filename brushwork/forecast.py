"""How many steps a run will take and how long is left, from what the run has shown so far.

Levels stop early once converged, and a step of a finer level costs more than one of a
coarser level, so neither a plain step count nor tqdm's rate would be right. The engine
feeds a :class:`StepTimer` after every step and asks :func:`forecast` for the totals.
"""

from __future__ import annotations

from collections.abc import Sequence

from .plan import level_budget

__all__ = ["CONVERGENCE_WINDOW", "TYPICAL_LEVEL_STEPS", "StepTimer", "forecast", "step_cost_ratio"]

CONVERGENCE_WINDOW = 10
"""Steps over which a level's convergence is judged (see ``Settings.tolerance``)."""
TYPICAL_LEVEL_STEPS = 85
"""What a level took at the default tolerance in ``bench_default``: the first forecast."""

Size = tuple[int, int]


def step_cost_ratio(smaller: Size, larger: Size) -> float:
    """How much more a step costs at ``larger``: pixels to the power 0.8 (on this project's CPU, 4x the
    pixels cost 2.8x from 256 to 512 px and 3.4x from 512 to 1024 px; small images are overhead-bound)."""
    return (larger[0] * larger[1] / (smaller[0] * smaller[1])) ** 0.8


def forecast(
    total_steps: int,
    tolerance: float,
    sizes: Sequence[Size],
    level: int,
    finished: Sequence[int],
    level_steps: int,
    seconds_per_step: float,
) -> tuple[int, float]:
    """Expected steps of the whole run and seconds left.

    A level is expected to take as many steps as the one before it (the first one
    :data:`TYPICAL_LEVEL_STEPS`), never fewer than it has done plus a convergence window, never
    more than its budget (:func:`~brushwork.plan.level_budget`); a later level's step costs what a
    step costs now times :func:`step_cost_ratio`. Exact in steps when ``tolerance`` is 0.
    """
    done = sum(finished)
    budget = level_budget(total_steps, done, len(sizes) - level)
    prior = finished[-1] if finished else TYPICAL_LEVEL_STEPS
    current = budget if tolerance <= 0 else max(level_steps, min(budget, max(level_steps + CONVERGENCE_WINDOW, prior)))
    spent, guess, later_cost = done + current, current, 0.0
    for index in range(level + 1, len(sizes)):
        budget = level_budget(total_steps, spent, len(sizes) - index)
        guess = budget if tolerance <= 0 else min(budget, guess)
        spent += guess
        later_cost += guess * step_cost_ratio(sizes[level], sizes[index])
    return spent, seconds_per_step * (current - level_steps + later_cost)


class StepTimer:
    """Seconds a step of the current level takes, for the forecast.

    A level's first ``warm_up`` steps may run in fp32 and cost several times a bf16 step, so
    they are left out; until a later step is timed, the previous level's rate times the cost
    ratio stands in.
    """

    def __init__(self, warm_up: int):
        self.warm_up, self.rate = warm_up, 0.0
        self.began, self.steps, self.guess = 0.0, 0, 0.0
        self.settled: float | None = None

    def start_level(self, now: float, cost_ratio: float) -> None:
        """``cost_ratio``: what a step of this level costs over a step of the previous one."""
        self.began, self.steps, self.guess = now, 0, self.rate * cost_ratio
        self.settled = now if self.warm_up == 0 else None  # when the fp32 steps were over

    def step(self, now: float) -> float:
        """Record a finished step at time ``now``; returns the current seconds per step."""
        self.steps += 1
        if self.steps == self.warm_up:
            self.settled = now
        if self.settled is not None and self.steps > self.warm_up:
            self.rate = (now - self.settled) / (self.steps - self.warm_up)
        else:
            self.rate = self.guess or (now - self.began) / self.steps  # the first level knows nothing better
        return self.rate
