"""How strongly each painting is painted: by its features' energy over the photo's, as neural-style's loss does.

Relative terms (``normalize="target"``) give every pair the same strength. Measured against
neural-style's pictures, that overshoots on quiet paintings and busy photos and falls short on loud
paintings: its absolute losses paint a bright, busy painting (The Starry Night) far more strongly
than a dark, smooth one (the Mona Lisa), and keep a busy photo (a portrait's fine detail) more
than a calm one. The style weights are scaled by the pair's balance, the painting's energy (the
sum over the style layers of its Gram matrices' mean squared entry, what neural-style's style loss
grows with) over the photo's (the mean squared content feature, what its content loss grows with),
against a middling pair's, to the power ``style_balance``: at 0.5 (a tenfold balance is 3.2 times
the strength) each measured pair gets the strength that its neural-style picture calls for
(``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from brushwork.core.layers import smallest_side
from brushwork.core.settings import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, MAX_WEIGHT, Settings
from brushwork.media.images import resize_longest, to_tensor
from brushwork.media.masks import layer_mask, resize_mask
from brushwork.model.losses import gram_matrix, guided_gram_sum
from brushwork.model.network import VGG19
from brushwork.model.terms import TERMS
from brushwork.planning.levels import longest_side_for

__all__ = ["ANALYSIS_SIZE", "MIDDLING_BALANCE", "painting_energy", "photo_energy", "balanced"]

ANALYSIS_SIZE = 512
"""A painting's energy is measured at this longest side (neural-style's default size), whatever the run's."""
CONTENT_LAYER = DEFAULT_CONTENT_LAYERS[0]
"""The layer whose features measure a photo's energy: the default content layer, whatever the run's (the balance
was measured there)."""
MIDDLING_BALANCE = 0.42
"""The balance the style weights are given for: the median of the nine paintings benchmarked (7e5: Shipwreck
3.5e5, Mona Lisa 2.2e5, Woman with a Hat 7.0e5, The Starry Night 2.1e6) over Tübingen's energy (1.67e6; Chicago
2.0e6, Stata 2.7e6, Grace Hopper's portrait 2.8e6)."""
LIMITS = (1 / 3, 3.0)
"""The scale of the style weights stays within these, for paintings far from every one measured."""


def painting_energy(
    encoder: VGG19, painting: Image.Image, device: torch.device, part: np.ndarray | None = None
) -> float:
    """Sum over the default style layers of the mean squared entry of the painting's Gram matrices
    (``G = F F^T / (C*H*W)``), at :data:`ANALYSIS_SIZE` (larger for a thin painting); with ``part`` (the
    painting's own mask, 0-1 at its size), of the part it covers, as the run learns from it: its Gram matrices
    guided by it. Remembered per painting, part and network."""
    thin = longest_side_for(*painting.size, smallest_side(DEFAULT_STYLE_LAYERS))
    small = resize_longest(painting.convert("RGB"), max(ANALYSIS_SIZE, thin))  # relu5_1 needs a pixel
    guide = None if part is None else resize_mask(part, small.size)
    return _mean_square(encoder, small, DEFAULT_STYLE_LAYERS, True, device, guide)


def photo_energy(encoder: VGG19, photo: Image.Image, device: torch.device) -> float:
    """Mean squared feature of the photo at :data:`CONTENT_LAYER`, at :data:`ANALYSIS_SIZE` (larger for a thin
    photo); remembered per photo and network."""
    thin = longest_side_for(*photo.size, smallest_side((CONTENT_LAYER,)))
    small = resize_longest(photo.convert("RGB"), max(ANALYSIS_SIZE, thin))
    return _mean_square(encoder, small, (CONTENT_LAYER,), False, device)


def _mean_square(
    encoder: VGG19,
    picture: Image.Image,
    layers: tuple[str, ...],
    of_gram: bool,
    device: torch.device,
    guide: np.ndarray | None = None,
) -> float:
    """Sum over ``layers`` of the mean squared feature (or Gram entry, guided by ``guide`` if given), measured
    once per process: a studio's jobs and the tests reuse it."""
    guided = "" if guide is None else hashlib.sha1(guide.tobytes()).hexdigest()
    key = (layers, of_gram, id(encoder), str(device), hashlib.sha1(picture.tobytes()).hexdigest(), guided)
    if key not in _ENERGIES:
        with torch.no_grad():
            feats = encoder(to_tensor(picture).to(device), layers).values()
            mask = None if guide is None else torch.from_numpy(guide)[None, None].to(device)
            _ENERGIES[key] = sum(float(_statistic(f.float(), of_gram, mask).pow(2).mean()) for f in feats)
    return _ENERGIES[key]


def _statistic(features: torch.Tensor, of_gram: bool, mask: torch.Tensor | None) -> torch.Tensor:
    """The features themselves, or their Gram matrix (over a mask's part, if one)."""
    if not of_gram:
        return features
    if mask is None:
        return gram_matrix(features)
    at_layer = layer_mask(mask, (features.shape[-1], features.shape[-2]))
    return guided_gram_sum(features, at_layer) / (features.shape[1] * at_layer.sum().clamp(min=1e-12))


_ENERGIES: dict[tuple[tuple[str, ...], bool, int, str, str, str], float] = {}


def balanced(
    settings: Settings,
    photo: Image.Image,
    paintings: Sequence[Image.Image],
    blend: Sequence[float],
    encoder: VGG19,
    device: torch.device,
    parts: Sequence[np.ndarray | None] = (),
) -> Settings:
    """The settings with the style terms' weights (every registered term whose part is ``style``) scaled for this
    photo and these paintings (each by its blend weight, and of the part its own mask in ``parts`` covers, if any),
    or as they are where the terms are not relative or ``style_balance`` is 0. A video is balanced once, on its
    first frame: one strength for the whole clip."""
    if settings.style_balance == 0 or settings.normalize != "target":
        return settings
    own = [*parts, *[None] * (len(paintings) - len(parts))]  # None: all of that painting
    energy = sum(b * painting_energy(encoder, p, device, part) for p, b, part in zip(paintings, blend, own))
    balance = energy / photo_energy(encoder, photo, device) / MIDDLING_BALANCE
    scale = min(max(balance**settings.style_balance, LIMITS[0]), LIMITS[1])
    style = {
        term.setting: min(getattr(settings, term.setting) * scale, MAX_WEIGHT) for term in TERMS if term.part == "style"
    }
    return settings.replace(**style, style_balance=0.0)
