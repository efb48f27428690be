"""VGG19's layer names and shapes, in plain Python (no torch), so settings can be checked instantly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from brushwork.core.errors import SettingsError

__all__ = [
    "LAYER_NAMES",
    "CONV_SHAPES",
    "layer_index",
    "unknown_layer",
    "smallest_side",
    "stride",
    "channels",
    "receptive_field",
    "halo",
    "feature_size",
    "run_layers",
]

# (in_channels, out_channels) of the 16 conv layers, block by block.
_BLOCKS = [
    [(3, 64), (64, 64)],
    [(64, 128), (128, 128)],
    [(128, 256)] + [(256, 256)] * 3,
    [(256, 512)] + [(512, 512)] * 3,
    [(512, 512)] * 4,
]

CONV_SHAPES: dict[str, tuple[int, int]] = {}
LAYER_NAMES: list[str] = []
for _b, _convs in enumerate(_BLOCKS, start=1):
    for _i, _shape in enumerate(_convs, start=1):
        CONV_SHAPES[f"conv{_b}_{_i}"] = _shape
        LAYER_NAMES += [f"conv{_b}_{_i}", f"relu{_b}_{_i}"]
    LAYER_NAMES.append(f"pool{_b}")


class Layered(Protocol):
    """What names a run's layers: a :class:`~brushwork.core.settings.Settings` (which this module must not import)."""

    @property
    def content_layers(self) -> tuple[str, ...]: ...

    @property
    def style_layers(self) -> tuple[str, ...]: ...


def run_layers(settings: Layered) -> tuple[str, ...]:
    """Every layer a run takes features from: its content layers, then its style layers."""
    return (*settings.content_layers, *settings.style_layers)


def unknown_layer(name: str) -> str:
    """What is wrong with a layer name not in :data:`LAYER_NAMES`, and what to write instead."""
    return f"unknown VGG19 layer {name!r}; use names like conv4_2, relu1_1, pool3"


def layer_index(name: str) -> int:
    """Position of a layer in :data:`LAYER_NAMES`; an unknown name is a :class:`SettingsError`."""
    try:
        return LAYER_NAMES.index(name)
    except ValueError:
        raise SettingsError(unknown_layer(name)) from None


def smallest_side(layers: Iterable[str]) -> int:
    """Shortest image side, in pixels, that leaves a pixel after every pooling up to the deepest layer."""
    deepest = max(layer_index(name) for name in layers)
    return 2 ** sum(name.startswith("pool") for name in LAYER_NAMES[: deepest + 1])


def stride(name: str) -> int:
    """Pixels per position of a layer's features: 2 to the number of poolings up to it (a pooling's own output
    is on the coarser grid)."""
    return 2 ** sum(n.startswith("pool") for n in LAYER_NAMES[: layer_index(name) + 1])


def channels(name: str) -> int:
    """Channels of a layer's features: its block's last convolution's, up to it."""
    convs = [n for n in LAYER_NAMES[: layer_index(name) + 1] if n.startswith("conv")]
    return CONV_SHAPES[convs[-1]][1]


def receptive_field(name: str) -> int:
    """Width in pixels of the patch of the picture that one position of a layer's features sees.

    3 px for relu1_1, 68 for relu4_1, 156 for relu5_1: a deep layer at a small picture sees most of
    it, which is how a painting's objects get painted in (see :func:`brushwork.planning.levels.level_style_layers`).
    """
    field, jump = 1, 1
    for n in LAYER_NAMES[: layer_index(name) + 1]:
        if n.startswith("conv"):
            field += 2 * jump
        elif n.startswith("pool"):
            field, jump = field + jump, jump * 2
    return field


def halo(layers: Iterable[str]) -> int:
    """Margin around a tile, in pixels, that makes its features at ``layers`` exactly the whole picture's.

    The deepest layer's receptive-field radius, rounded up to a multiple of its stride so that a
    tile's poolings line up with the whole picture's (80 px for relu5_1, checked in the tests).
    """
    deepest = max(layers, key=layer_index)
    radius, jump = receptive_field(deepest) // 2, stride(deepest)
    return -(-radius // jump) * jump


def feature_size(width: int, height: int, name: str) -> tuple[int, int]:
    """(width, height) of a layer's features for a ``width`` x ``height`` picture (poolings, its own too, round
    down)."""
    for n in LAYER_NAMES[: layer_index(name) + 1]:
        if n.startswith("pool"):
            width, height = width // 2, height // 2
    return width, height
