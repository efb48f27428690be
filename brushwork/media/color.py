"""Colour preservation (Gatys et al., "Preserving Color in Neural Artistic Style Transfer", 2016).

Two ways to keep the photo's colours: transfer the style on luminance only and put
the photo's chroma back, or recolour the style image to the photo's colour
statistics before the transfer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from brushwork.media.images import wide

__all__ = ["luminance", "match_luminance", "with_chroma_of", "match_color_histogram", "recolor_to"]

# ITU-R BT.601 RGB -> YIQ; luminance Y and two chroma channels.
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def _yiq(image: Tensor) -> Tensor:
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YIQ.to(image), image)


def _rgb(yiq: Tensor) -> Tensor:
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB_TO_YIQ).to(yiq), yiq)


def luminance(image: Tensor) -> Tensor:
    """Grey version of an RGB ``(N, 3, H, W)`` image, as three equal channels."""
    return _yiq(image)[:, :1].expand_as(image).contiguous()


def match_luminance(style: Tensor, content: Tensor) -> Tensor:
    """Grey style image whose luminance mean and spread match the content's."""
    y_style, y_content = _yiq(style)[:, :1], _yiq(content)[:, :1]
    y = (y_style - y_style.mean()) / (y_style.std() + 1e-5) * y_content.std() + y_content.mean()
    return y.expand_as(style).contiguous()


def with_chroma_of(image: Tensor, colour_source: Tensor) -> Tensor:
    """``image``'s luminance combined with ``colour_source``'s chroma (same size)."""
    yiq = _yiq(colour_source)
    yiq[:, :1] = _yiq(image)[:, :1]
    return _rgb(yiq).clamp(0, 255)


EPS = 1e-5
"""Added to a covariance's diagonal and floor of its eigenvalues: a flat picture's colours still map."""


def _stats(image: Tensor, part: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Mean ``(3, 1)`` and covariance ``(3, 3)`` of an image's RGB values, in float64; with ``part`` (0-1, the
    image's size), of the pixels it covers, weighed by it."""
    flat = wide(image.reshape(3, -1))
    weights = torch.ones_like(flat[:1]) if part is None else wide(part.reshape(1, -1))
    weights = weights / weights.sum().clamp_min(1e-12)
    mean = (flat * weights).sum(1, keepdim=True)
    centred = flat - mean
    return mean, (centred * weights) @ centred.T + EPS * torch.eye(3, dtype=flat.dtype, device=flat.device)


def _sqrtm(m: Tensor, inverse: bool = False) -> Tensor:
    values, vectors = torch.linalg.eigh(m)
    values = values.clamp_min(EPS).rsqrt() if inverse else values.clamp_min(EPS).sqrt()
    return vectors @ torch.diag(values) @ vectors.T


def _recolor(image: Tensor, mean: Tensor, cov: Tensor) -> Tensor:
    """``image`` mapped linearly so that its RGB mean and covariance become ``mean`` and ``cov``."""
    own_mean, own_cov = _stats(image)
    transform = _sqrtm(cov) @ _sqrtm(own_cov, inverse=True)
    flat = transform @ (wide(image.reshape(3, -1)) - own_mean) + mean
    return flat.reshape(image.shape).to(image.device, image.dtype).clamp(0, 255)


def match_color_histogram(style: Tensor, content: Tensor) -> Tensor:
    """Recolour ``style`` so its RGB mean and covariance equal ``content``'s (a linear map)."""
    return _recolor(style, *_stats(content))


def recolor_to(
    image: Tensor,
    palettes: Sequence[Tensor],
    weights: Sequence[float],
    parts: Sequence[Tensor | None] = (),
) -> Tensor:
    """Recolour ``image`` to the colours of several pictures mixed by ``weights`` (their pooled mean and covariance),
    each of the part of it its mask in ``parts`` covers, if any.

    The start of a default run: the photo in the painting's palette, so the optimiser need not carry every
    colour across the picture itself (a dark, green storm is a long way from a blue sky).
    """
    own = [*parts, *[None] * (len(palettes) - len(parts))]
    stats = [_stats(p, part) for p, part in zip(palettes, own)]
    mean = torch.stack([w * m for w, (m, _) in zip(weights, stats)]).sum(0)
    second = torch.stack([w * (c + m @ m.T) for w, (m, c) in zip(weights, stats)]).sum(0)
    return _recolor(image, mean, second - mean @ mean.T)
