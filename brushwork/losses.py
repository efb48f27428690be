"""The loss functions of the seed report and of Gatys et al. (CVPR 2016).

Each function is written exactly as the report's formulas, with the report's
argument order, so a reader can put this file beside the report (and beside
``matlab/``) and check it term by term. Size normalisation of the weights is
the engine's job (see :mod:`brushwork.engine`), not these functions'.

Shapes: feature maps are ``(N, C, H, W)`` tensors; images are ``(N, 3, H, W)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

__all__ = ["gram_matrix", "content_loss", "style_loss", "tv_loss", "total_loss"]


def gram_matrix(features: Tensor, normalize: bool = True) -> Tensor:
    """Gram matrix ``G = F F^T`` of ``(N, C, H, W)`` features, one ``(C, C)`` per item.

    With ``normalize`` it is divided by ``C*H*W`` (the report's choice), which
    keeps its entries independent of the image size.
    """
    n, c, h, w = features.shape
    gram = _Gram.apply(features)
    if normalize:
        gram = gram / (c * h * w)
    return gram


def _rows(features: Tensor) -> tuple[Tensor, bool]:
    """``features`` as ``(N, C, H*W)`` or, for channels-last tensors, as ``(N, H*W, C)``: both copy-free."""
    n, c, h, w = features.shape
    if features.is_contiguous(memory_format=torch.channels_last) and not features.is_contiguous():
        return features.permute(0, 2, 3, 1).reshape(n, h * w, c), True
    return features.reshape(n, c, h * w), False


class _Gram(torch.autograd.Function):
    """``F F^T`` with a one-matmul backward, ``dF = (dG + dG^T) F``, in the features' own memory layout.

    Autograd's generic backward takes two matmuls and adds their results in clashing
    layouts; at 512 px that was a third of a step's time.
    """

    @staticmethod
    def forward(ctx, features: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(features)
        rows, channels_last = _rows(features)
        return torch.bmm(rows.transpose(1, 2), rows) if channels_last else torch.bmm(rows, rows.transpose(1, 2))

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (features,) = ctx.saved_tensors
        rows, channels_last = _rows(features)
        sym = grad + grad.transpose(1, 2)
        n, c, h, w = features.shape
        if channels_last:
            return torch.bmm(rows, sym).reshape(n, h, w, c).permute(0, 3, 1, 2)
        return torch.bmm(sym, rows).reshape(n, c, h, w)


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


def tv_loss(img: Tensor, tv_weight: float) -> Tensor:
    """Total variation: ``w_t *`` the sum of squared differences of vertical and horizontal neighbours."""
    down = img[:, :, 1:, :] - img[:, :, :-1, :]
    right = img[:, :, :, 1:] - img[:, :, :, :-1]
    return tv_weight * (torch.sum(down * down) + torch.sum(right * right))


def total_loss(
    content: Tensor, style: Tensor, tv: Tensor, alpha: float = 1.0, beta: float = 1.0, gamma: float = 1.0
) -> Tensor:
    """``alpha*content + beta*style + gamma*tv``, the objective minimised over the pixels."""
    return alpha * content + beta * style + gamma * tv
