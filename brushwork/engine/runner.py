"""The optimisation loop: targets, coarse-to-fine levels, optimisers, schedules, safety.

The engine minimises the sum of the loss terms over the pixels of an RGB 0-255 image: every term
:mod:`brushwork.model.terms` registers (:data:`~brushwork.model.terms.TERMS`) and, for a video's later frames,
the temporal term; a level's :mod:`~brushwork.model.objective` adds them up. It never loses
work: it keeps the best image seen, stops cleanly on Ctrl-C, on a cancel from the
progress callback, or when the loss turns NaN, and reports which in the result.

:func:`run` reads top-down: it checks the run's shape (:mod:`brushwork.planning.levels`), then
paints one level after another with :meth:`_Run._paint_level`, each starting from the
previous level's best picture.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import torch
import torch.nn.functional as F
from PIL import Image

from brushwork.core.settings import CONVERGENCE_WINDOW, Settings
from brushwork.engine.allocator import keep_freed_memory
from brushwork.engine.inputs import balance, initial_image, measure_and_plan, prepare_inputs, run_blend
from brushwork.engine.lbfgs import DeviceLBFGS
from brushwork.media import color
from brushwork.media.images import Picture, to_pil, to_tensor
from brushwork.media.masks import LevelRegions, Regions, with_paintings_alpha
from brushwork.model.device import (
    benchmarked,
    encoder_for,
    held_to_plan,
    out_of_memory_worded,
    pick_device,
    use_bf16,
)
from brushwork.model.network import VGG19
from brushwork.model.objective import Objective, TiledObjective
from brushwork.model.terms import Term, culprits
from brushwork.planning.forecast import StepTimer, forecast
from brushwork.planning.levels import Size, level_style_layers
from brushwork.planning.run_plan import LBFGS_HISTORY, RunPlan

__all__ = ["Progress", "Result", "run", "Callback"]

READ_EVERY = 8
"""On a GPU, the losses are read back every this many steps (for the bar, the history and the stopping tests):
each read makes the host wait for the device, which costs more than a step's arithmetic at 512 px."""

KEPT = "kept the best picture so far"
"""How an interrupted run's message ends."""

Callback = Callable[["Progress"], "bool | None"]


@dataclass
class Progress:
    """What the progress callback sees after each step. Return ``False`` from the callback to stop."""

    step: int
    """Steps done so far over all levels."""
    total: int
    """Expected steps of the whole run: a forecast that firms up as levels converge (exact at tolerance 0)."""
    level: int
    levels: int
    size: tuple[int, int]
    """(width, height) of the current level."""
    losses: dict[str, float]
    elapsed: float
    eta: float
    """Forecast seconds left (see :attr:`total`)."""
    _image: Callable[[], Image.Image] = field(repr=False)

    def image(self) -> Image.Image:
        """The picture Ctrl-C would keep now (computed on demand: costs a device-to-host copy): at the last level
        the best one scored, and a step scores the picture it starts from, so step N's is the best from before
        N's update; at a coarser level, the picture as it is (it is still moving)."""
        return self._image()


@dataclass
class Result:
    """Outcome of a run: the best picture and how the run ended."""

    image: Image.Image
    alpha: Image.Image | None
    status: str
    """``done``, ``interrupted`` (Ctrl-C), ``cancelled`` (callback) or ``diverged`` (NaN loss)."""
    steps: int
    losses: dict[str, float]
    elapsed: float
    message: str = ""
    history: list[tuple[float, float]] = field(default_factory=list)
    """(seconds, total loss) after each step, for loss-vs-time plots."""
    culprit: str | None = None
    """For a diverged run, the setting to lower: the weight of the term that overflowed (``style_weight``...) or
    ``lr``."""
    notes: list[str] = field(default_factory=list)
    """What was done to the run's masks (one resized, a blend unused: ``Regions.notes``), for a caller that did not
    say it before the run (a batch's item, painted on a worker)."""

    @property
    def cause(self) -> str:
        """Why a diverged run ended, without what the engine kept (a caller that writes nothing says so itself)."""
        return self.message.removesuffix(_KEPT_LAST_GOOD)


_KEPT_LAST_GOOD = "; kept the last good picture"


def run(
    content: Picture,
    styles: Sequence[Picture],
    settings: Settings,
    *,
    callback: Callback | None = None,
    encoder: VGG19 | None = None,
    keep_memory: bool = False,
    planned: RunPlan | None = None,
    start: Image.Image | None = None,
    extra: Sequence[Term] = (),
    regions: Regions | None = None,
) -> Result:
    """Stylise ``content`` after ``styles``; never raises for cancel, divergence or Ctrl-C once a step is painted
    (see ``status``), and running out of memory, on a CPU or a GPU, is an :class:`~brushwork.core.errors.OutOfMemory`.

    ``planned`` is the run's :func:`measure_and_plan` when the caller has made it (to show it); else it is made here.
    ``start`` replaces the first level's starting picture, and ``extra`` terms join the registered ones at the
    levels they apply at (:meth:`~brushwork.model.terms.Term.applies_at`: a video's later frames' temporal term, at
    the level of its size, :mod:`brushwork.video.painting`). ``regions`` says where each painting applies
    and what is kept as the photo (:mod:`brushwork.media.masks`).
    ``keep_memory`` keeps freed memory in the process for the run (see :mod:`brushwork.engine.allocator`):
    faster on glibc, but it changes the process's allocator settings while the run lasts, so only a
    program that owns its process (the command line, the studio) should ask for it.
    """
    planned = planned or measure_and_plan(content, styles, settings, encoder)
    device = pick_device(settings.device)
    with out_of_memory_worded(), benchmarked(device), keep_freed_memory() if keep_memory else contextlib.nullcontext():
        try:
            with held_to_plan(device, planned.peak) as held:
                return _Run(content, styles, settings, callback, encoder, planned, start, extra, regions).paint()
        except torch.OutOfMemoryError:
            if not held:
                raise
            warnings.warn(
                "the run needed more GPU memory than its plan said; painting again without the cap", stacklevel=2
            )
            torch.cuda.empty_cache()
            return _Run(content, styles, settings, callback, encoder, planned, start, extra, regions).paint()


@dataclass
class _Level:
    """What painting one level gave: its best picture, its step count and how it ended."""

    best: torch.Tensor
    steps: int
    status: str = "done"
    message: str = ""
    culprit: str | None = None


class _Best:
    """A level's best picture so far and its loss, kept on the device: no wait for the GPU at each step."""

    def __init__(self, x: torch.Tensor):
        self.picture = x.detach().clone()
        self.loss = torch.full((), math.inf, device=x.device)

    def keep_if_better(self, x: torch.Tensor, loss: torch.Tensor) -> None:
        with torch.no_grad():
            better = torch.isfinite(loss) & (loss < self.loss)
            self.loss = torch.where(better, loss, self.loss)
            self.picture = torch.where(better, x.detach(), self.picture)


class _Run:
    """One run's state across its levels: the step count, the clock, the history and the forecast."""

    def __init__(
        self,
        content: Picture,
        styles: Sequence[Picture],
        settings: Settings,
        callback: Callback | None,
        encoder: VGG19 | None,
        planned: RunPlan,
        start: Image.Image | None = None,
        extra: Sequence[Term] = (),
        regions: Regions | None = None,
    ):
        self.content, self.styles, self.settings, self.callback = content, styles, settings, callback
        self.device = pick_device(settings.device)
        self.encoder = encoder or encoder_for(settings, self.device)
        self.settings = balance(settings, content.rgb, styles, regions, self.encoder, self.device)
        regions = with_paintings_alpha(regions, styles)
        self.start_picture, self.extra, self.regions = start, extra, regions
        self.blend = run_blend(settings, len(styles), regions)
        self.sizes = [level.size for level in planned.levels]
        self.budgets = [level.steps for level in planned.levels]
        self.tiles = [level.tile for level in planned.levels]
        self.overheads = [level.overhead for level in planned.levels]
        self.queued = stalls_on_reads(self.device)
        """Whether steps only queue work on the device, their losses read every :data:`READ_EVERY` steps."""
        self.bf16 = use_bf16(settings, self.device)
        # L-BFGS's first step is tiny; measured in bf16 its curvature is rounding noise and the next
        # step explodes, so the first curvature pair of each level is measured in fp32.
        self.warm_up = 2 if self.bf16 and settings.optimizer == "lbfgs" else 0
        self.timer = StepTimer(
            self.warm_up,
            min_exponent=1.0 if self.device.type == "cpu" else 0.5,
            first_guess=planned.levels[0].step_seconds,
        )
        self.start = time.perf_counter()
        self.step, self.finished = 0, cast(list[int], [])
        self.history: list[tuple[float, float]] = []
        self.losses: dict[str, float] = {}

    def paint(self) -> Result:
        best: torch.Tensor | None = None
        outcome = None
        for level, wh in enumerate(self.sizes):
            try:
                objective, start = self._set_up(level, wh, best)
            except KeyboardInterrupt:  # between two levels: the last level's picture is kept
                if best is None:
                    raise  # nothing painted yet
                outcome = _Level(best, 0, "interrupted", f"interrupted at step {self.step}; {KEPT}")
                break
            self.timer.start_level(time.perf_counter() - self.start, wh, self.overheads[level])
            outcome = self._paint_level(level, objective, start, self.budgets[level])
            best = outcome.best
            if outcome.status != "done":
                break
            self.finished.append(outcome.steps)
        assert best is not None and outcome is not None  # there is always a level
        return Result(
            image=self._picture(best),
            alpha=self.content.alpha,
            status=outcome.status,
            steps=self.step,
            losses=self.losses,
            elapsed=time.perf_counter() - self.start,
            message=outcome.message,
            history=self.history,
            culprit=outcome.culprit,
            notes=list(self.regions.notes) if self.regions is not None else [],
        )

    def _set_up(self, level: int, wh: Size, best: torch.Tensor | None) -> tuple[Objective, torch.Tensor]:
        """A level's objective, and where it starts: the first level as the settings say, a later one from the
        last level's best picture, enlarged."""
        content_t, style_ts = prepare_inputs(self.content, self.styles, self.settings, wh, self.device)
        painted = [(st.shape[-1], st.shape[-2]) for st in style_ts]
        regions = self.regions.at(wh, self.device, painted) if self.regions is not None else None
        if best is None:
            start = self._start(content_t, style_ts, regions)
        else:
            start = F.interpolate(best, size=(wh[1], wh[0]), mode="bicubic", align_corners=False).clamp(0, 255)
        return self._objective(level, content_t, style_ts, regions), start

    def _start(
        self, content_t: torch.Tensor, style_ts: list[torch.Tensor], regions: LevelRegions | None
    ) -> torch.Tensor:
        """Where the first level starts: a given start picture (a clip's carried frame), or the settings' ``init``;
        what is kept starts as the photo, from a given start too (a clip's later frames would drift there)."""
        if self.start_picture is not None:
            height, width = content_t.shape[-2:]
            start = to_tensor(self.start_picture.convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
            start = start.to(self.device)
        else:
            parts = regions.sources if regions is not None else ()
            start = initial_image(content_t, style_ts, self.blend, self.settings, parts)
        if regions is not None and regions.keep is not None:
            start = regions.keep * content_t + (1 - regions.keep) * start
        return start

    def _objective(
        self, level: int, content_t: torch.Tensor, style_ts: list[torch.Tensor], regions: LevelRegions | None
    ) -> Objective:
        """A level's loss, whole or in the tiles its plan names, with the extra terms that apply at its size."""
        wh = (content_t.shape[-1], content_t.shape[-2])
        tile, weighed = self.tiles[level], level_style_layers(self.settings, wh)
        extra = [term for term in self.extra if term.applies_at(wh)]
        if tile:
            return TiledObjective(
                self.encoder, content_t, style_ts, self.blend, weighed, self.bf16, tile, extra, regions
            )
        return Objective(self.encoder, content_t, style_ts, self.blend, weighed, self.bf16, extra, regions)

    def _paint_level(self, level: int, objective: Objective, start: torch.Tensor, budget: int) -> _Level:
        """Optimise one level from ``start`` for at most ``budget`` steps; its best picture is kept."""
        s = self.settings
        x = start.detach().requires_grad_(True)
        best = _Best(x)
        last: dict[str, torch.Tensor] = {}
        scale: float | None = None if s.optimizer == "lbfgs" else 1.0  # L-BFGS's is set at the first step

        def closure() -> torch.Tensor:
            nonlocal scale
            optimizer.zero_grad(set_to_none=True)
            loss, parts = objective.evaluate(x, grad=True)
            assert x.grad is not None
            if scale is None:
                scale = _gradient_scale(x.grad)
            if scale != 1.0:
                x.grad.mul_(scale)
            last.update(parts, total=loss)
            best.keep_if_better(x, loss)
            return loss * scale

        optimizer = self._optimizer(x, budget)
        level_losses: list[float] = []
        unread: list[dict[str, torch.Tensor]] = []  # steps whose losses are still on the device
        every = READ_EVERY if self.queued else 1
        try:
            for level_step in range(budget):
                for group in optimizer.param_groups:
                    group["lr"] = s.lr_at(self.step)
                objective.bf16 = self.bf16 and level_step >= self.warm_up
                optimizer.step(closure)
                if s.optimizer == "adam":
                    with torch.no_grad():
                        x.clamp_(0, 255)
                self.step += 1
                unread.append(dict(last))
                elapsed = time.perf_counter() - self.start
                if len(unread) == every or level_step == budget - 1 or not self.losses:  # the bar has some at once
                    if not self._read(unread, elapsed, level_losses):
                        return self._diverged(best.picture, culprits(objective.terms))
                    unread = []
                    if _converged(level_losses, s.tolerance):
                        break
                if self.callback is not None and not self._report(level, level_step + 1, elapsed, x, best.picture):
                    return _Level(best.picture, level_step + 1, "cancelled", f"cancelled at step {self.step}")
            with torch.no_grad():  # each step scored the picture before its update: score the last update too
                objective.bf16 = self.bf16
                best.keep_if_better(x, objective.evaluate(x, grad=False)[0])
        except KeyboardInterrupt:
            return _Level(
                best.picture,
                len(level_losses),
                "interrupted",
                f"interrupted at step {self.step}; {KEPT}",
            )
        return _Level(best.picture, len(level_losses))

    def _optimizer(self, x: torch.Tensor, budget: int) -> DeviceLBFGS | torch.optim.LBFGS | torch.optim.Adam:
        """The level's optimiser over the picture ``x``: L-BFGS (kept on the device when queued), or Adam."""
        s = self.settings
        if s.optimizer == "lbfgs" and self.queued:
            return DeviceLBFGS([x], lr=s.lr_at(self.step), history_size=min(LBFGS_HISTORY, budget))
        if s.optimizer == "lbfgs":
            return torch.optim.LBFGS(
                [x],
                lr=s.lr_at(self.step),
                max_iter=1,
                history_size=LBFGS_HISTORY,
                tolerance_grad=-1,
                tolerance_change=-1,
            )
        return torch.optim.Adam([x], lr=s.lr_at(self.step))

    def _read(self, steps: list[dict[str, torch.Tensor]], elapsed: float, level_losses: list[float]) -> bool:
        """Read the losses of ``steps`` back at once (one wait for the device) into the history; ``False`` at the
        first that is not finite."""
        rows = torch.stack([torch.stack(list(parts.values())) for parts in steps]).tolist()
        for row in rows:
            self.losses = dict(zip(steps[0], row))
            self.history.append((elapsed, self.losses["total"]))
            if not math.isfinite(self.losses["total"]):
                return False
            level_losses.append(self.losses["total"])
        return True

    def _raised_weight(self, names: Sequence[str]) -> str | None:
        """Of these weight settings, the one raised furthest past its default, if it is at least tenfold (a
        painting's balance alone moves a style weight at most threefold); None for the report's presets, whose
        weights are on another scale."""
        default = Settings()
        if self.settings.normalize != default.normalize:
            return None
        ratios = {
            name: getattr(self.settings, name) / getattr(default, name)
            for name in names
            if getattr(default, name, 0) > 0  # a clip's temporal weight is a VideoSettings one
        }
        name = max(ratios, key=ratios.__getitem__, default=None)
        return name if name is not None and ratios[name] >= 10 else None

    def _diverged(self, best: torch.Tensor, weights: dict[str, str]) -> _Level:
        """A NaN loss: keep the last good picture and name the part that blew up, and the setting (of ``weights``,
        by part) to lower."""
        broken = [part for part in weights if not math.isfinite(self.losses.get(part, math.nan))]
        # a raised learning rate breaks whichever term grows fastest first: it, not that term's weight, is to blame
        raised = self.settings.lr is not None and self.settings.lr > self.settings.replace(lr=None).learning_rate
        weight = None if raised else self._raised_weight([weights[part] for part in broken])
        if len(broken) == 1 and not raised:  # one weight too large for the rest to matter
            what, culprit = f"the {broken[0]} term overflowed", weights[broken[0]]
        elif weight is not None:  # several terms at once, one of them weighted far past its default
            what, culprit = f"the {' and '.join(broken)} terms overflowed", weight
        else:  # the picture itself blew up: every term it feeds breaks at once
            what, culprit = "the optimiser's step overshot", "lr"
        return _Level(
            best,
            0,
            "diverged",
            f"the loss became NaN or infinite at step {self.step} ({what}){_KEPT_LAST_GOOD}",
            culprit,
        )

    def _report(self, level: int, level_steps: int, elapsed: float, x: torch.Tensor, best: torch.Tensor) -> bool:
        """Tell the callback about the step; ``False`` when it asks to stop."""
        assert self.callback is not None
        s = self.settings
        rate = self.timer.step(elapsed)
        total, eta = forecast(
            self.budgets,
            s.tolerance,
            self.sizes,
            level,
            self.finished,
            level_steps,
            rate,
            self.timer.exponent(),
            self.overheads,
        )
        shown = best if level == len(self.sizes) - 1 else x  # a coarse level's picture is still moving
        progress = Progress(
            self.step,
            total,
            level,
            len(self.sizes),
            self.sizes[level],
            self.losses,
            elapsed,
            eta,
            functools.partial(self._picture, shown),
        )
        return self.callback(progress) is not False

    def _picture(self, x: torch.Tensor) -> Image.Image:
        """The optimised tensor as a picture at the final size, with the photo's colours if asked."""
        final_wh = self.sizes[-1]
        x = x.detach().float()
        if tuple(x.shape[-1:-3:-1]) != final_wh:
            x = F.interpolate(x, size=(final_wh[1], final_wh[0]), mode="bicubic", align_corners=False)
        x = x.clamp(0, 255)
        if self.settings.preserve_color == "luminance":
            photo = to_tensor(self.content.rgb.resize(final_wh, Image.Resampling.LANCZOS)).to(x.device)
            x = color.with_chroma_of(x, photo)
        return to_pil(x)


def stalls_on_reads(device: torch.device) -> bool:
    """Whether reading a tensor back makes the host wait for ``device`` (a GPU): then a step only queues work
    (:class:`~brushwork.engine.lbfgs.DeviceLBFGS`, losses read every :data:`READ_EVERY` steps)."""
    return device.type == "cuda"


def _gradient_scale(grad: torch.Tensor) -> float:
    """Factor that gives the loss's gradient an RMS of one pixel unit at the start of a level.

    The optimum is unchanged, but L-BFGS takes a plain gradient step whenever it has no
    curvature yet (e.g. when bf16 hides its tiny first step); unscaled, that step is as
    large as the loss (1e8 and more) and the picture explodes. Taken from the level's first
    gradient, so it costs no extra pass through the network.
    """
    rms = float(grad.float().pow(2).mean().sqrt())
    return 1.0 / rms if math.isfinite(rms) and rms > 0 else 1.0


def _converged(losses: list[float], tolerance: float) -> bool:
    if tolerance <= 0 or len(losses) <= CONVERGENCE_WINDOW:
        return False
    old, new = losses[-CONVERGENCE_WINDOW - 1], losses[-1]
    return (old - new) < tolerance * abs(old)
