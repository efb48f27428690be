"""How strongly each painting is painted: by its features' energy, as neural-style's loss does.

Relative terms (``normalize="target"``) give every painting the same strength. Measured against
neural-style's pictures, that overshoots on quiet paintings and falls short on loud ones: its
absolute loss paints a bright, busy painting (The Starry Night) far more strongly than a dark,
smooth one (the Mona Lisa), whose photo it mostly keeps. The style weights are scaled by the
painting's energy, the sum over the style layers of its Gram matrices' mean squared entry (what
neural-style's style loss grows with), over that of a middling painting, to the power
``style_balance``: at 0.5 (a tenfold energy is 3.2 times the strength) each measured pair gets the
strength that its neural-style picture calls for (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import torch
from PIL import Image

from brushwork.core.layers import smallest_side
from brushwork.core.settings import DEFAULT_STYLE_LAYERS, Settings
from brushwork.media.images import resize_longest, to_tensor
from brushwork.model.losses import gram_matrix
from brushwork.model.network import VGG19

__all__ = ["ANALYSIS_SIZE", "MIDDLING_ENERGY", "painting_energy", "balanced"]

ANALYSIS_SIZE = 512
"""A painting's energy is measured at this longest side (neural-style's default size), whatever the run's."""
MIDDLING_ENERGY = 7e5
"""The energy the style weights are given for: the median of the nine paintings benchmarked (Shipwreck 3.5e5,
Mona Lisa 2.2e5, Woman with a Hat 7.0e5, The Starry Night 2.1e6)."""
LIMITS = (1 / 3, 3.0)
"""The scale of the style weights stays within these, for paintings far from every one measured."""


def painting_energy(encoder: VGG19, painting: Image.Image, device: torch.device) -> float:
    """Sum over the default style layers of the mean squared entry of the painting's Gram matrices
    (``G = F F^T / (C*H*W)``), at :data:`ANALYSIS_SIZE` (larger for a thin painting);
    remembered per painting and network."""
    width, height = painting.size
    thin = math.ceil(smallest_side(DEFAULT_STYLE_LAYERS) * max(width, height) / min(width, height))
    small = resize_longest(painting.convert("RGB"), max(ANALYSIS_SIZE, thin))  # relu5_1 needs a pixel
    key = (id(encoder), str(device), hashlib.sha1(small.tobytes()).hexdigest())
    if key not in _ENERGIES:
        with torch.no_grad():
            feats = encoder(to_tensor(small).to(device), DEFAULT_STYLE_LAYERS)
        _ENERGIES[key] = sum(float(gram_matrix(f.float()).pow(2).mean()) for f in feats.values())
    return _ENERGIES[key]


_ENERGIES: dict[tuple[int, str, str], float] = {}
"""Each painting's energy once per process (a video's frames, a studio's jobs and the tests reuse them)."""


def balanced(
    settings: Settings, paintings: Sequence[Image.Image], blend: Sequence[float], encoder: VGG19, device: torch.device
) -> Settings:
    """The settings with the style weights scaled for these paintings (each by its blend weight), or as they
    are where the terms are not relative or ``style_balance`` is 0."""
    if settings.style_balance == 0 or settings.normalize != "target":
        return settings
    energy = sum(b * painting_energy(encoder, p, device) for p, b in zip(paintings, blend))
    scale = min(max((energy / MIDDLING_ENERGY) ** settings.style_balance, LIMITS[0]), LIMITS[1])
    return settings.replace(
        style_weight=settings.style_weight * scale, swd_weight=settings.swd_weight * scale, style_balance=0.0
    )
