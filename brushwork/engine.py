"""The optimisation loop: targets, coarse-to-fine levels, optimisers, schedules, safety.

The engine minimises ``alpha*content + beta*style + gamma*tv`` (see
:mod:`brushwork.losses`) over the pixels of an RGB 0-255 image. It never loses
work: it keeps the best image seen, stops cleanly on Ctrl-C, on a cancel from the
progress callback, or when the loss turns NaN, and reports which in the result.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from PIL import Image

from . import color
from .allocator import keep_freed_memory
from .errors import SettingsError
from .features import VGG19, layer_index, load_vgg19, smallest_side
from .images import Picture, load_image, resize_longest, to_pil, to_tensor
from .losses import content_loss, gram_matrix, style_loss, total_loss, tv_loss
from .settings import MAX_SIZE, Settings

__all__ = ["Progress", "Result", "run", "pick_device", "encoder_for", "level_sizes"]

MIN_LEVEL_SIZE = 64
_WINDOW = 10  # steps over which convergence is judged
_TYPICAL_LEVEL_STEPS = 85  # what a level took at the default tolerance in bench_default: the first forecast
_LBFGS_HISTORY = 20  # judged as good as 50 at 512 and 1024 px, with 2.5x less memory and time for the pairs


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
        """The current picture (computed on demand: costs a device-to-host copy)."""
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


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` takes CUDA, then Apple MPS, then the CPU; an unavailable choice is a clear error."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise SettingsError(f"device {name} is not available on this machine; use --device cpu or auto")
    return torch.device(name)


@functools.lru_cache(maxsize=2)
def _cached_encoder(weights: str | None, pooling: str, device: str, channels_last: bool) -> VGG19:
    encoder = load_vgg19(weights, pooling).to(device)
    return encoder.to(memory_format=torch.channels_last) if channels_last else encoder


def encoder_for(settings: Settings, device: torch.device) -> VGG19:
    """The VGG19 for these settings, loaded once per process and device."""
    return _cached_encoder(settings.weights, settings.pooling, str(device), use_bf16(settings, device))


def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def use_bf16(settings: Settings, device: torch.device) -> bool:
    """bf16 autocast where it is fast: CUDA with bf16 support, or CPUs with AVX512-BF16/AMX."""
    if settings.precision != "auto":
        return settings.precision == "bf16"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and _cpu_has_bf16()


def level_sizes(width: int, height: int, size: int, levels: int, min_side: int = 1) -> list[tuple[int, int]]:
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


def _longest_side_for(picture: Picture, min_side: int) -> int:
    """The longest side at which ``picture``'s shortest side is ``min_side``."""
    width, height = picture.rgb.size
    return math.ceil(min_side * max(width, height) / min(width, height))


def _checked_sizes(content: Picture, styles: Sequence[Picture], settings: Settings) -> list[tuple[int, int]]:
    """The level sizes, or a clear error when the photo or a painting is too thin for the network's poolings."""
    min_side = smallest_side((*settings.content_layers, *settings.style_layers))
    sizes = level_sizes(*content.rgb.size, settings.size, settings.scales, min_side)
    if min(sizes[-1]) < min_side:
        needed = _longest_side_for(content, min_side)
        fix = f"use size {needed} or more" if needed <= MAX_SIZE else "crop the photo to a less thin shape"
        raise SettingsError(f"at size {settings.size} the photo's short side would be {min(sizes[-1])} px, under "
                            f"the {min_side} px the network needs; {fix}")
    for style in styles:
        if _longest_side_for(style, smallest_side(settings.style_layers)) > MAX_SIZE:
            which = f"the painting {style.name}" if style.name else "a painting"
            raise SettingsError(f"{which} is too thin for the network even at {MAX_SIZE} px long; "
                                "crop it to a less thin shape")
    return sizes


class _Objective:
    """Targets of one level and the loss of a candidate image against them."""

    def __init__(self, encoder: VGG19, content: torch.Tensor, styles: Sequence[torch.Tensor],
                 blend: Sequence[float], settings: Settings, bf16: bool):
        self.encoder, self.settings, self.bf16 = encoder, settings, bf16
        s = settings
        self.layers = sorted(set(s.content_layers) | set(s.style_layers), key=layer_index)
        with torch.no_grad():
            feats = self.features(content)
            self.content_targets = [feats[name].float() for name in s.content_layers]
            grams: list[torch.Tensor] = []
            for style, weight in zip(styles, blend):
                style_feats = self.features(style, s.style_layers)
                layer_grams = [weight * gram_matrix(style_feats[name]) for name in s.style_layers]
                grams = layer_grams if not grams else [a + b for a, b in zip(grams, layer_grams)]
            self.style_targets = grams
        layer_weights = s.style_layer_weights or (1.0,) * len(s.style_layers)
        total = sum(layer_weights)
        # Size normalisation (see settings): per Gram entry and per content element.
        self.style_weights = [w / total / t.shape[-1] ** 2 for w, t in zip(layer_weights, self.style_targets)]
        self.content_weights = [1.0 / (len(s.content_layers) * t.numel()) for t in self.content_targets]

    def features(self, image: torch.Tensor, layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        layers = self.layers if layers is None else layers
        if self.bf16:  # bf16 convolutions run fastest on channels-last tensors
            with torch.autocast(image.device.type, dtype=torch.bfloat16):
                return self.encoder(image.contiguous(memory_format=torch.channels_last), layers)
        return self.encoder(image, layers)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        s = self.settings
        feats = self.features(image)  # style layers go to the Gram as they are: it works in float32 itself
        c = sum((content_loss(w, feats[name].float(), target) for name, target, w in
                 zip(s.content_layers, self.content_targets, self.content_weights)), image.new_zeros(()))
        st = style_loss(feats, s.style_layers, self.style_targets, self.style_weights)
        tv = tv_loss(image, 1.0 / image.numel()) if s.tv_weight > 0 else image.new_zeros(())
        loss = total_loss(c, st, tv, s.content_weight, s.style_weight, s.tv_weight)
        return loss, {"content": s.content_weight * c, "style": s.style_weight * st, "tv": s.tv_weight * tv}


def _prepare_inputs(content: Picture, styles: Sequence[Picture], settings: Settings,
                    wh: tuple[int, int], device: torch.device) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Content at the level size and styles at ``style_scale`` times it, colour-handled."""
    c = to_tensor(content.rgb.resize(wh, Image.LANCZOS)).to(device)
    style_size = max(16, round(max(wh) * settings.style_scale))
    min_side = smallest_side(settings.style_layers)
    out = []
    for style in styles:  # a thin painting is enlarged until its short side suits the network
        longest = max(style_size, _longest_side_for(style, min_side))
        st = to_tensor(resize_longest(style.rgb, longest)).to(device)
        if settings.preserve_color == "histogram":
            st = color.match_color_histogram(st, c)
        elif settings.preserve_color == "luminance":
            st = color.match_luminance(st, c)
        out.append(st)
    if settings.preserve_color == "luminance":
        c = color.luminance(c)
    return c, out


def _initial_image(content: torch.Tensor, settings: Settings) -> torch.Tensor:
    if settings.init == "content":
        return content.clone()
    if settings.init == "noise":
        gen = torch.Generator().manual_seed(settings.seed)
        return (torch.rand(content.shape, generator=gen) * 255).to(content.device)
    start = load_image(settings.init, "init image").rgb.resize(content.shape[-1:-3:-1], Image.LANCZOS)
    return to_tensor(start).to(content.device)


def run(content: Picture, styles: Sequence[Picture], settings: Settings, *,
        callback: Callable[[Progress], bool | None] | None = None, encoder: VGG19 | None = None) -> Result:
    """Stylise ``content`` after ``styles``; never raises for Ctrl-C, cancel or divergence (see ``status``)."""
    with keep_freed_memory():
        return _run(content, styles, settings, callback, encoder)


def _run(content: Picture, styles: Sequence[Picture], settings: Settings,
         callback: Callable[[Progress], bool | None] | None, encoder: VGG19 | None) -> Result:
    if not styles:
        raise SettingsError("give at least one style image")
    blend = settings.style_blend or (1.0,) * len(styles)
    if len(blend) != len(styles):
        raise SettingsError(f"give one blend weight per style image ({len(styles)}), not {len(blend)}")
    blend = [b / sum(blend) for b in blend]
    torch.manual_seed(settings.seed)
    device = pick_device(settings.device)
    sizes = _checked_sizes(content, styles, settings)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # a level runs one input shape hundreds of times
    encoder = encoder or encoder_for(settings, device)
    bf16 = use_bf16(settings, device)
    finished: list[int] = []  # steps each finished level took
    start = time.perf_counter()
    history: list[tuple[float, float]] = []
    status, message = "done", ""
    step = 0
    x: torch.Tensor | None = None
    best: torch.Tensor | None = None
    losses: dict[str, float] = {}
    warm_up = 2 if bf16 and settings.optimizer == "lbfgs" else 0  # first steps of a level run in fp32 (below)
    timer = _StepTimer(warm_up)
    for level, wh in enumerate(sizes):
        content_t, style_ts = _prepare_inputs(content, styles, settings, wh, device)
        objective = _Objective(encoder, content_t, style_ts, blend, settings, bf16)
        if x is None:
            x = _initial_image(content_t, settings)
        else:
            x = F.interpolate(best, size=(wh[1], wh[0]), mode="bicubic", align_corners=False).clamp(0, 255)
        x = x.detach().requires_grad_(True)
        best, best_loss = x.detach().clone(), torch.full((), math.inf, device=device)
        last: dict[str, torch.Tensor] = {}
        scale = _gradient_scale(objective, x) if settings.optimizer == "lbfgs" else 1.0  # Adam is scale-free

        def closure() -> torch.Tensor:
            nonlocal best, best_loss
            optimizer.zero_grad(set_to_none=True)
            loss, parts = objective(x)
            (loss * scale).backward()
            value = loss.detach()
            last.update({k: v.detach() for k, v in parts.items()}, total=value)
            with torch.no_grad():  # on the device: no wait for the GPU here
                better = torch.isfinite(value) & (value < best_loss)
                best_loss = torch.where(better, value, best_loss)
                best = torch.where(better, x.detach(), best)
            return loss * scale

        lr = settings.lr_at(step)
        if settings.optimizer == "lbfgs":
            optimizer = torch.optim.LBFGS([x], lr=lr, max_iter=1, history_size=_LBFGS_HISTORY,
                                          tolerance_grad=-1, tolerance_change=-1)
        else:
            optimizer = torch.optim.Adam([x], lr=lr)
        level_losses: list[float] = []
        timer.start_level(time.perf_counter() - start, _step_cost_ratio(sizes[level - 1], wh) if level else 1.0)
        try:
            for level_step in range(settings.steps):
                for group in optimizer.param_groups:
                    group["lr"] = settings.lr_at(step)
                # L-BFGS's first step is tiny; measured in bf16 its curvature is rounding noise and the
                # next step explodes, so the first curvature pair of each level is measured in fp32.
                objective.bf16 = bf16 and level_step >= warm_up
                optimizer.step(closure)
                if settings.optimizer == "adam":
                    with torch.no_grad():
                        x.clamp_(0, 255)
                step += 1
                losses = dict(zip(last, torch.stack(list(last.values())).tolist()))  # the step's one read
                elapsed = time.perf_counter() - start
                history.append((elapsed, losses["total"]))
                if not math.isfinite(losses["total"]):
                    status = "diverged"
                    message = (f"the loss became NaN at step {step}; kept the last good picture. "
                               "Try a lower --lr or --style-weight")
                    break
                level_losses.append(losses["total"])
                rate = timer.step(elapsed)
                if callback is not None:
                    snapshot = best if level == len(sizes) - 1 else None
                    total, eta = _forecast(settings, sizes, level, finished, len(level_losses), rate)
                    progress = Progress(step, total, level, len(sizes), wh, losses, elapsed, eta,
                                        functools.partial(_picture, snapshot if snapshot is not None else x,
                                                          settings, content, sizes[-1]))
                    if callback(progress) is False:
                        status, message = "cancelled", f"cancelled at step {step}"
                        break
                if _converged(level_losses, settings.tolerance):
                    break
        except KeyboardInterrupt:
            status, message = "interrupted", f"interrupted at step {step}; kept the best picture so far"
        if status != "done":
            break
        finished.append(len(level_losses))
    image = _picture(best, settings, content, sizes[-1])
    return Result(image=image, alpha=content.alpha, status=status, steps=step, losses=losses,
                  elapsed=time.perf_counter() - start, message=message, history=history)


def _gradient_scale(objective: _Objective, x: torch.Tensor) -> float:
    """Factor that gives the loss's gradient an RMS of one pixel unit at the start of a level.

    The optimum is unchanged, but L-BFGS takes a plain gradient step whenever it has no
    curvature yet (e.g. when bf16 hides its tiny first step); unscaled, that step is as
    large as the loss (1e8 and more) and the picture explodes.
    """
    loss, _ = objective(x)
    (grad,) = torch.autograd.grad(loss, x)
    rms = float(grad.float().pow(2).mean().sqrt())
    return 1.0 / rms if math.isfinite(rms) and rms > 0 else 1.0


def _forecast(settings: Settings, sizes: list[tuple[int, int]], level: int, finished: list[int],
              level_steps: int, seconds_per_step: float) -> tuple[int, float]:
    """Expected steps of the whole run and seconds left, from what the run has shown so far.

    A level is expected to take as many steps as the one before it (the first one
    ``_TYPICAL_LEVEL_STEPS``), never fewer than it has done plus a convergence window,
    never more than ``settings.steps``; a later level's step costs what a step costs now
    times :func:`_step_cost_ratio`. Exact in steps when ``tolerance`` is 0.
    """
    def expected(prior: int) -> int:
        return settings.steps if settings.tolerance <= 0 else min(settings.steps, prior)

    prior = finished[-1] if finished else _TYPICAL_LEVEL_STEPS
    current = max(level_steps, expected(max(level_steps + _WINDOW, prior)))
    later = [expected(current) * _step_cost_ratio(sizes[level], wh) for wh in sizes[level + 1:]]
    total = sum(finished) + current + expected(current) * len(later)
    return total, seconds_per_step * (current - level_steps + sum(later))


class _StepTimer:
    """Seconds a step of the current level takes, for the forecast.

    A level's first ``warm_up`` steps run in fp32 and cost several times a bf16 step, so they are
    left out; until a bf16 step is timed, the previous level's rate times the cost ratio stands in.
    """

    def __init__(self, warm_up: int):
        self.warm_up, self.rate = warm_up, 0.0

    def start_level(self, now: float, cost_ratio: float) -> None:
        """``cost_ratio``: what a step of this level costs over a step of the previous one."""
        self.began, self.steps, self.guess = now, 0, self.rate * cost_ratio
        self.settled = now if self.warm_up == 0 else None  # when the fp32 steps were over

    def step(self, now: float) -> float:
        self.steps += 1
        if self.steps == self.warm_up:
            self.settled = now
        if self.settled is not None and self.steps > self.warm_up:
            self.rate = (now - self.settled) / (self.steps - self.warm_up)
        else:
            self.rate = self.guess or (now - self.began) / self.steps  # the first level knows nothing better
        return self.rate


def _step_cost_ratio(smaller: tuple[int, int], larger: tuple[int, int]) -> float:
    """How much more a step costs at ``larger``: pixels to the power 0.8 (on this project's CPU, 4x the
    pixels cost 2.8x from 256 to 512 px and 3.4x from 512 to 1024 px; small images are overhead-bound)."""
    return (larger[0] * larger[1] / (smaller[0] * smaller[1])) ** 0.8


def _converged(losses: list[float], tolerance: float) -> bool:
    if tolerance <= 0 or len(losses) <= _WINDOW:
        return False
    old, new = losses[-_WINDOW - 1], losses[-1]
    return (old - new) < tolerance * abs(old)


def _picture(x: torch.Tensor, settings: Settings, content: Picture, final_wh: tuple[int, int]) -> Image.Image:
    """The optimised tensor as a picture at the final size, with the photo's colours if asked."""
    x = x.detach().float()
    if tuple(x.shape[-1:-3:-1]) != final_wh:
        x = F.interpolate(x, size=(final_wh[1], final_wh[0]), mode="bicubic", align_corners=False)
    x = x.clamp(0, 255)
    if settings.preserve_color == "luminance":
        photo = to_tensor(content.rgb.resize(final_wh, Image.LANCZOS)).to(x.device)
        x = color.with_chroma_of(x, photo)
    return to_pil(x)
