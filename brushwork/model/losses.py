"""The loss functions: the seed report's and Gatys et al.'s (CVPR 2016), with the sliced-Wasserstein distance
of Heitz et al. (CVPR 2021) and the temporal loss of Ruder et al. (2016).

The report's are written exactly as its formulas, with its argument order, so a reader can put
this file beside the report (and beside ``matlab/``) and check it term by term. Normalising the
weights (by size or by target) is the loss terms' job (:mod:`brushwork.model.terms`), not these
functions'; :mod:`brushwork.model.objective` adds the terms up.

Shapes: feature maps are ``(N, C, H, W)`` tensors; images are ``(N, 3, H, W)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "gram_matrix",
    "content_loss",
    "style_loss",
    "guided_gram_sum",
    "guided_grams",
    "Guide",
    "sliced_wasserstein_loss",
    "sliced_wasserstein_targets",
    "tv_loss",
    "held_pixels_loss",
    "seed_total_loss",
]


def gram_matrix(features: Tensor, normalize: bool = True) -> Tensor:
    """Gram matrix ``G = F F^T`` of ``(N, C, H, W)`` features, one ``(C, C)`` per item.

    With ``normalize`` it is divided by ``C*H*W`` (the report's choice), which
    keeps its entries independent of the image size. It is float32 (or float64) even
    for bfloat16/float16 features.
    """
    n, c, h, w = features.shape
    gram = _Gram.apply(features)
    if normalize:
        gram = gram / (c * h * w)
    return gram


def _rows(features: Tensor) -> tuple[Tensor, int]:
    """Copy-free 3-D view of ``features`` and its positions axis.

    ``(N, H*W, C)`` for channels-last features, else ``(N, C, H*W)``.
    """
    n, c, h, w = features.shape
    if features.is_contiguous(memory_format=torch.channels_last) and not features.is_contiguous():
        return features.permute(0, 2, 3, 1).reshape(n, h * w, c), 1
    return features.reshape(n, c, h * w), 2


def _chunk(features: Tensor) -> int:
    """Positions per chunk when low-precision features are taken to float32 piece by piece.

    About 1 MB of float32 on a CPU (it stays in cache); large on a GPU, where launches cost more.
    """
    elements = 2**18 if features.device.type == "cpu" else 2**26
    return max(1, elements // features.shape[1])


class _Gram(torch.autograd.Function):
    """``F F^T`` in float32 with a one-matmul backward, ``dF = (dG + dG^T) F``, in the features' own layout.

    Autograd's generic backward takes two matmuls and adds their results in clashing
    layouts; at 512 px that was a third of a step's time. bf16 features are taken to
    float32 a chunk at a time, so on a CPU no float32 copy of a whole feature map is made.
    Autocast is off inside, so the Gram stays float32 even when called under autocast.
    """

    @staticmethod
    def forward(ctx: Any, features: Tensor) -> Tensor:
        ctx.save_for_backward(features)
        with torch.autocast(features.device.type, enabled=False):
            return _Gram._product(features)

    @staticmethod
    def _product(features: Tensor) -> Tensor:
        rows, axis = _rows(features)
        wide = features.dtype in (torch.float32, torch.float64)
        chunks = (rows,) if wide else rows.split(_chunk(features), dim=axis)
        gram: Tensor | None = None
        for chunk in chunks:
            chunk = chunk if wide else chunk.float()
            part = torch.bmm(chunk.transpose(1, 2), chunk) if axis == 1 else torch.bmm(chunk, chunk.transpose(1, 2))
            gram = part if gram is None else gram.add_(part)
        assert gram is not None  # there is always a chunk
        return gram

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (features,) = ctx.saved_tensors
        with torch.autocast(features.device.type, enabled=False):
            return _Gram._gradient(features, grad)

    @staticmethod
    def _gradient(features: Tensor, grad: Tensor) -> Tensor:
        rows, axis = _rows(features)
        sym = grad + grad.transpose(1, 2)
        n, c, h, w = features.shape
        if features.dtype in (torch.float32, torch.float64):
            out = torch.bmm(rows, sym) if axis == 1 else torch.bmm(sym, rows)
        else:
            out = torch.empty_like(rows)
            size = _chunk(features)
            for start in range(0, rows.shape[axis], size):
                piece = slice(start, start + size)
                if axis == 1:
                    out[:, piece] = torch.bmm(rows[:, piece].float(), sym)
                else:
                    out[:, :, piece] = torch.bmm(sym, rows[:, :, piece].float())
        return out.reshape(n, h, w, c).permute(0, 3, 1, 2) if axis == 1 else out.reshape(n, c, h, w)


def content_loss(content_weight: float, content_current: Tensor, content_original: Tensor) -> Tensor:
    """``w_c * sum((F - P)^2)``: squared distance between generated and content features."""
    diff = content_current - content_original
    return content_weight * torch.sum(diff * diff)


def style_loss(
    feats: Mapping[str, Tensor],
    style_layers: Sequence[str],
    style_targets: Sequence[Tensor],
    style_weights: Sequence[float],
) -> Tensor:
    """``sum_l w_l * sum((G_l - A_l)^2)`` over the style layers.

    ``feats`` maps layer names to the generated image's features,
    ``style_targets[i]`` is the target Gram matrix ``A`` of ``style_layers[i]``.
    """
    if not (len(style_layers) == len(style_targets) == len(style_weights)):
        raise ValueError("style_layers, style_targets and style_weights must have the same length")
    loss = feats[style_layers[0]].new_zeros(())
    for layer, target, weight in zip(style_layers, style_targets, style_weights):
        diff = gram_matrix(feats[layer]) - target
        loss = loss + weight * torch.sum(diff * diff)
    return loss


def guided_gram_sum(features: Tensor, mask: Tensor) -> Tensor:
    """``sum_p m_p f_p f_p^T``: the Gram sum of ``(1, C, H, W)`` features over a ``(1, 1, H, W)`` mask (Gatys et
    al. 2017's guided Gram matrix, before dividing by ``C * sum(m)``); soft masks weigh positions partly."""
    return gram_matrix(features * mask.sqrt(), normalize=False)


@dataclass(frozen=True)
class Guide:
    """A region's mask at a layer, as :func:`guided_grams` reads it: the rows and columns it reaches (None: none),
    its weights there and their square root. Made once per level (:meth:`of`)."""

    box: tuple[slice, slice] | None
    weight: Tensor
    root: Tensor

    @classmethod
    def of(cls, mask: Tensor) -> Guide:
        """The guide of a ``(1, 1, H, W)`` mask."""
        reached = mask[0, 0] > 0
        rows, cols = reached.any(dim=1).nonzero().flatten(), reached.any(dim=0).nonzero().flatten()
        if len(rows) == 0:
            return cls(None, mask, mask)
        box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
        weight = mask[:, :, box[0], box[1]]
        return cls(box, weight, weight.sqrt())


def guided_grams(features: Tensor, guides: Sequence[Guide]) -> Tensor:
    """:func:`guided_gram_sum` of ``(1, C, H, W)`` features for several regions at once, ``(R, C, C)``: each over
    its mask's rows and columns only, and one gradient for all (regions that split a picture cost about one Gram
    matrix, not one each)."""
    return _GuidedGrams.apply(features, tuple(guides))


class _GuidedGrams(torch.autograd.Function):
    """Forward: each region's Gram sum of its box's features times the root of its mask. Backward: one gradient
    buffer in the features' dtype and layout, each region adding ``m * (dG + dG^T) F`` over its box, from the
    features as they are (a weighed float32 copy, a float32 buffer and a clash of layouts made it 3-4 times a plain
    Gram's backward). Both sum in float32 (:class:`_Gram`)."""

    @staticmethod
    def forward(ctx: Any, features: Tensor, guides: tuple[Guide, ...]) -> Tensor:
        ctx.save_for_backward(features)
        ctx.guides = guides
        c = features.shape[1]
        with torch.autocast(features.device.type, enabled=False):
            grams = [
                _Gram._product(features[:, :, g.box[0], g.box[1]] * g.root.to(features.dtype))
                if g.box is not None
                else features.new_zeros((1, c, c), dtype=torch.promote_types(features.dtype, torch.float32))
                for g in guides
            ]
        return torch.cat(grams)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (features,) = ctx.saved_tensors
        out = torch.zeros_like(features)  # in the features' dtype, as a plain Gram's gradient is
        with torch.autocast(features.device.type, enabled=False):
            for index, g in enumerate(ctx.guides):
                if g.box is not None:
                    part = _Gram._gradient(_boxed(features, g.box), grad[index : index + 1])
                    out[:, :, g.box[0], g.box[1]].addcmul_(part, g.weight.to(out.dtype))
        return out, None


def _boxed(features: Tensor, box: tuple[slice, slice]) -> Tensor:
    """The features inside ``box``, copied into their own layout (a channels-last crop is neither layout)."""
    channels_last = features.is_contiguous(memory_format=torch.channels_last) and not features.is_contiguous()
    crop = features[:, :, box[0], box[1]]
    return crop.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def sliced_wasserstein_loss(points: Tensor, target: Tensor, directions: Tensor) -> Tensor:
    """Squared sliced-Wasserstein distance between two point clouds, relative to the target's spread.

    ``points`` ``(N, C)`` and ``target`` ``(M, C)`` are feature vectors (one per image position),
    ``directions`` ``(C, K)`` unit vectors. Both clouds are projected on each direction and sorted;
    the loss is the mean squared difference of matching quantiles over the mean variance of the
    target's projections (Heitz et al., *A Sliced Wasserstein Loss for Neural Texture Synthesis*,
    CVPR 2021). Unlike a Gram matrix it compares whole distributions, not just second moments.
    """
    mine = directions.T @ points.float().T  # (K, N): one row per direction
    matched, spread = sliced_wasserstein_targets(mine.detach(), target, directions)
    return (mine - matched).pow(2).mean() / spread


def sliced_wasserstein_targets(projections: Tensor, target: Tensor, directions: Tensor) -> tuple[Tensor, Tensor]:
    """Where each projected point should be: the target's projection at the point's quantile, and the spread.

    ``projections`` ``(K, N)`` are the points projected on ``directions`` ``(C, K)``. Returns ``(K, N)``
    matched values and the mean variance of the target's projections; the loss of
    :func:`sliced_wasserstein_loss` is ``mean((projections - matched)**2) / spread``. Split out so that a
    picture painted in tiles can match the projections of all its tiles at once.
    """
    with torch.no_grad():
        theirs = _sorted_rows(directions.T @ target.float().T)
        spread = theirs.var(dim=1, correction=0).mean().clamp_min(1e-12)  # of all its points: a picture may have one
        n, m = projections.shape[1], theirs.shape[1]
        if m != n:  # compare at the same quantiles: each of mine at the middle of its share of theirs
            index = ((torch.arange(n, device=theirs.device) + 0.5) * (m / n)).long().clamp_max(m - 1)
            theirs = theirs[:, index]
        order = _row_order(projections)
        return torch.empty_like(theirs).scatter_(1, order.to(theirs.device), theirs), spread


def _row_order(values: Tensor) -> Tensor:
    """Indices that sort each row. On a CPU numpy's sort is several times faster than torch's."""
    if values.device.type != "cpu":
        return values.argsort(dim=1)
    return torch.from_numpy(np.argsort(values.contiguous().numpy(), axis=1))


def _sorted_rows(values: Tensor) -> Tensor:
    """Each row sorted (on a CPU by numpy, about ten times faster than torch there)."""
    if values.device.type != "cpu":
        return values.sort(dim=1).values
    return torch.from_numpy(np.sort(values.contiguous().numpy(), axis=1))


def tv_loss(img: Tensor, tv_weight: float) -> Tensor:
    """Total variation: ``w_t *`` the sum of squared differences of vertical and horizontal neighbours."""
    down = img[:, :, 1:, :] - img[:, :, :-1, :]
    right = img[:, :, :, 1:] - img[:, :, :, :-1]
    return tv_weight * (torch.sum(down * down) + torch.sum(right * right))


def held_pixels_loss(img: Tensor, target: Tensor, where: Tensor) -> Tensor:
    """Pixels held to a target's: the squared differences weighed by ``where`` (``(N, 1, H, W)``, 0-1), over
    the picture's size. Ruder et al.'s temporal term (the target: the previous painted frame warped to this one;
    ``where``: the flow is certain), and a kept region held to the photo."""
    diff = img - target
    return torch.sum(where * diff * diff) / img.numel()


def seed_total_loss(
    content: Tensor, style: Tensor, tv: Tensor, alpha: float = 1.0, beta: float = 1.0, gamma: float = 1.0
) -> Tensor:
    """``alpha*content + beta*style + gamma*tv``, the objective minimised over the pixels."""
    return alpha * content + beta * style + gamma * tv
