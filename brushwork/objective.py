"""The loss of one level: its targets, and the loss and gradient of a candidate picture against them.

:class:`Objective` runs the whole picture through the network at once. :class:`TiledObjective`
gives the same loss and gradient for a picture too large for that: it runs the picture in tiles
(:mod:`brushwork.tiles`) twice a step. The first pass, without gradients, sums the style
statistics of all tiles (Gram matrices and the sliced-Wasserstein term's projected points are sums
and sets over positions) and the content error; the second takes each tile's gradient against
those whole-picture statistics and adds it into the picture's gradient. The optimiser sees one
picture and one loss; only memory is bounded by the tile.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from .features import VGG19
from .layers import feature_size, halo, layer_index, stride
from .losses import (
    content_loss,
    gram_matrix,
    sliced_wasserstein_loss,
    sliced_wasserstein_targets,
    style_loss,
    temporal_loss,
    total_loss,
    tv_loss,
)
from .settings import Settings
from .tiles import Tile, tile_grid

__all__ = ["Objective", "TiledObjective", "Temporal", "SWD_POINTS"]

SWD_POINTS = 4096  # positions compared per layer and step: all of them in deep layers, a sample elsewhere
_SWD_DIRECTIONS = 32  # random projections per layer and step, drawn afresh each step (a sort costs as they grow)

Parts = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Temporal:
    """Hold a video frame to the previous painted frame, warped to it, where the flow is certain."""

    previous: torch.Tensor
    """``(1, 3, H, W)``, 0-255, at the size of the level it applies to."""
    certainty: torch.Tensor
    """``(1, 1, H, W)``, 0 or 1."""
    weight: float

    def loss(self, image: torch.Tensor) -> torch.Tensor:
        return self.weight * temporal_loss(image, self.previous, self.certainty)


class Objective:
    """Targets of one level and the loss of a candidate image against them.

    :meth:`evaluate` gives ``(total loss, {"content", "style", "tv"} weighted terms)`` and, when asked,
    leaves the loss's gradient in the image's ``.grad``. ``bf16`` may be switched per step (the
    engine measures a level's first steps in fp32).
    """

    def __init__(
        self,
        encoder: VGG19,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        blend: Sequence[float],
        settings: Settings,
        bf16: bool,
    ):
        self.encoder, self.settings, self.bf16 = encoder, settings, bf16
        self.temporal: Temporal | None = None
        """Set for a video frame after the first (see :mod:`brushwork.video`)."""
        self.channels_last = bf16 or content.device.type == "cpu"
        s = settings
        self.layers = sorted(set(s.content_layers) | set(s.style_layers), key=layer_index)
        self.generator = torch.Generator().manual_seed(s.seed)  # the sliced-Wasserstein term's random draws
        with torch.no_grad():
            self.content_targets = self._content_features(content)
            grams: list[torch.Tensor] = []
            samples: list[list[torch.Tensor]] = [[] for _ in s.style_layers]
            for style, weight in zip(styles, blend):
                if weight == 0:  # a painting blended out leaves no trace, not even a sampled point
                    continue
                count = max(1, round(weight * SWD_POINTS)) if s.swd_weight > 0 else 0
                layer_grams, points = self._style_statistics(style, count)
                layer_grams = [weight * g for g in layer_grams]
                grams = layer_grams if not grams else [a + b for a, b in zip(grams, layer_grams)]
                for kept, layer_points in zip(samples, points):  # the blend as a mixture: shares of the points
                    kept.append(layer_points)
            self.style_targets = grams
            self.style_points = [torch.cat(kept) for kept in samples] if s.swd_weight > 0 else []
        layer_weights = s.style_layer_weights or (1.0,) * len(s.style_layers)
        total = sum(layer_weights)
        if s.normalize == "target":  # relative errors: each term over its target's squared norm
            self.style_weights = [w / total / _squared_norm(t) for w, t in zip(layer_weights, self.style_targets)]
            self.content_weights = [1.0 / (len(s.content_layers) * _squared_norm(t)) for t in self.content_targets]
        else:  # per Gram entry and per content element
            self.style_weights = [w / total / t.shape[-1] ** 2 for w, t in zip(layer_weights, self.style_targets)]
            self.content_weights = [1.0 / (len(s.content_layers) * t.numel()) for t in self.content_targets]

    def _content_features(self, content: torch.Tensor) -> list[torch.Tensor]:
        feats = self.features(content, self.settings.content_layers)
        return [feats[name].float() for name in self.settings.content_layers]

    def _style_statistics(self, style: torch.Tensor, count: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """A painting's Gram matrix at each style layer, and ``count`` of its feature vectors there."""
        feats = self.features(style, self.settings.style_layers)
        grams = [gram_matrix(feats[name]) for name in self.settings.style_layers]
        points = [self._sample(_points(feats[name]), count) for name in self.settings.style_layers] if count else []
        return grams, points

    def _sample(self, points: torch.Tensor, count: int) -> torch.Tensor:
        """``count`` of the rows of ``points`` at random (all of them, in order, when there are no more)."""
        n = points.shape[0]
        if n <= count:
            return points.float()
        return points[torch.randperm(n, generator=self.generator)[:count].to(points.device)].float()

    def _directions(self, target: torch.Tensor) -> torch.Tensor:
        directions = torch.randn(target.shape[1], _SWD_DIRECTIONS, generator=self.generator)
        return (directions / directions.norm(dim=0, keepdim=True)).to(target.device)

    def _swd(self, feats: dict[str, torch.Tensor]) -> torch.Tensor:
        """The sliced-Wasserstein term, on fresh random directions and positions each call, averaged over layers."""
        total = feats[self.settings.style_layers[0]].new_zeros((), dtype=torch.float32)
        for name, target in zip(self.settings.style_layers, self.style_points):
            points = self._sample(_points(feats[name]), SWD_POINTS)
            total = total + sliced_wasserstein_loss(points, target, self._directions(target))
        return total / len(self.style_points)

    def features(self, image: torch.Tensor, layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """The encoder's features of ``image`` at ``layers`` (default: every layer the loss uses)."""
        layers = self.layers if layers is None else layers
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        if self.bf16:
            with torch.autocast(image.device.type, dtype=torch.bfloat16):
                return self.encoder(image, layers)
        return self.encoder(image, layers)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, Parts]:
        """The loss of the whole ``image`` and its weighted terms, differentiable."""
        s = self.settings
        feats = self.features(image)  # style layers go to the Gram as they are: it works in float32 itself
        c = sum(
            (
                content_loss(w, feats[name].float(), target)
                for name, target, w in zip(s.content_layers, self.content_targets, self.content_weights)
            ),
            image.new_zeros(()),
        )
        st = style_loss(feats, s.style_layers, self.style_targets, self.style_weights)
        tv = tv_loss(image, 1.0 / image.numel()) if s.tv_weight > 0 else image.new_zeros(())
        loss = total_loss(c, st, tv, s.content_weight, s.style_weight, s.tv_weight)
        style = s.style_weight * st
        if s.swd_weight > 0:  # a second style term: the painting's feature distributions, not only their Grams
            swd = s.swd_weight * self._swd(feats)
            loss, style = loss + swd, style + swd
        parts = {"content": s.content_weight * c, "style": style, "tv": s.tv_weight * tv}
        if self.temporal is not None:
            parts["temporal"] = self.temporal.loss(image)
            loss = loss + parts["temporal"]
        return loss, parts

    def evaluate(self, image: torch.Tensor, grad: bool) -> tuple[torch.Tensor, Parts]:
        """The loss and its terms (detached); with ``grad``, the loss's gradient is left in ``image.grad``."""
        if not grad:
            with torch.no_grad():
                return self(image)
        loss, parts = self(image)
        loss.backward()
        return loss.detach(), {k: v.detach() for k, v in parts.items()}


class TiledObjective(Objective):
    """:class:`Objective`'s loss and gradient, computed tile by tile: memory bounded by ``tile`` px cores.

    The targets are measured in tiles too (a print-size painting or photo may not fit whole).
    Pictures are ``(1, 3, H, W)``.
    """

    def __init__(
        self,
        encoder: VGG19,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        blend: Sequence[float],
        settings: Settings,
        bf16: bool,
        tile: int,
    ):
        self.tile = tile
        self.halo = halo((*settings.content_layers, *settings.style_layers))
        self.align = max(stride(name) for name in (*settings.content_layers, *settings.style_layers))
        super().__init__(encoder, content, styles, blend, settings, bf16)
        self.grid = self._grid(content)

    def _grid(self, image: torch.Tensor) -> list[Tile]:
        height, width = image.shape[-2:]
        return tile_grid(width, height, self.tile, self.halo, self.align)

    def _tiles(
        self, image: torch.Tensor, layers: Sequence[str], grid: list[Tile] | None = None
    ) -> Iterator[tuple[Tile, dict[str, torch.Tensor]]]:
        """Each tile and the features of its core at ``layers``, computed without gradients."""
        for t in grid or self._grid(image):
            with torch.no_grad():
                feats = self.features(_crop(image, t), layers)
            yield t, {name: _core(feats[name], t, name) for name in layers}

    def _content_features(self, content: torch.Tensor) -> list[torch.Tensor]:
        height, width = content.shape[-2:]
        out: list[torch.Tensor] = []
        for t, cores in self._tiles(content, self.settings.content_layers):
            if not out:
                for name in self.settings.content_layers:
                    w, h = feature_size(width, height, name)
                    out.append(content.new_zeros((1, cores[name].shape[1], h, w)))
            for target, name in zip(out, self.settings.content_layers):
                _core_view(target, t, name).copy_(cores[name])
        return out

    def _style_statistics(self, style: torch.Tensor, count: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        layers = self.settings.style_layers
        height, width = style.shape[-2:]
        sums: list[torch.Tensor] = []
        picks = [self._positions(width, height, name, count) for name in layers] if count else []
        points: list[list[torch.Tensor]] = [[] for _ in picks]
        for t, cores in self._tiles(style, layers):
            parts = [gram_matrix(cores[name], normalize=False) for name in layers]
            sums = parts if not sums else [total.add_(part) for total, part in zip(sums, parts)]
            for kept, name, pick in zip(points, layers, picks):
                kept.append(_pick(cores[name], t, name, pick).float())
        grams = []
        for name, total in zip(layers, sums):
            w, h = feature_size(width, height, name)
            grams.append(total / (total.shape[-1] * h * w))
        return grams, [torch.cat(kept) for kept in points]

    def _positions(self, width: int, height: int, name: str, count: int) -> torch.Tensor:
        """``count`` positions of a layer's features at random, as (row, column) pairs (all when no more)."""
        w, h = feature_size(width, height, name)
        flat = torch.arange(w * h) if w * h <= count else torch.randperm(w * h, generator=self.generator)[:count]
        return torch.stack([flat // w, flat % w], dim=1)

    def evaluate(self, image: torch.Tensor, grad: bool) -> tuple[torch.Tensor, Parts]:
        s = self.settings
        height, width = image.shape[-2:]
        picks = [self._positions(width, height, n, SWD_POINTS) for n in s.style_layers] if s.swd_weight > 0 else []
        stats = self._whole_picture(image, picks, [self._directions(target) for target in self.style_points])
        x = image.detach().requires_grad_(grad)
        with torch.set_grad_enabled(grad):  # pixel terms are cheap on the whole picture at once
            tv = s.tv_weight * tv_loss(x, 1.0 / x.numel()) if s.tv_weight > 0 else None
            temporal = self.temporal.loss(x) if self.temporal is not None else None
        parts = {
            "content": s.content_weight * stats.content,
            "style": s.style_weight * stats.style + s.swd_weight * stats.swd,
            "tv": tv.detach() if tv is not None else x.new_zeros(()),
        }
        if temporal is not None:
            parts["temporal"] = temporal.detach()
        if grad:
            x.grad = torch.zeros_like(x)
            for term in (tv, temporal):
                if term is not None:
                    term.backward()
            for index, t in enumerate(self.grid):
                self._tile_gradient(x, t, index, stats)
            image.grad = x.grad
        return sum(parts.values(), x.new_zeros(())), parts

    def _whole_picture(self, image: torch.Tensor, picks: list[torch.Tensor], directions: list[torch.Tensor]) -> _Pass1:
        """Pass 1: the whole picture's style statistics and content error, tile by tile, without gradients."""
        s = self.settings
        height, width = image.shape[-2:]
        sums = [image.new_zeros(t.shape) for t in self.style_targets]
        content = image.new_zeros(())
        projected: list[list[torch.Tensor]] = [[] for _ in picks]
        for t, cores in self._tiles(image, self.layers, self.grid):
            for total, name in zip(sums, s.style_layers):
                total.add_(gram_matrix(cores[name], normalize=False))
            for target, name, w in zip(self.content_targets, s.content_layers, self.content_weights):
                content += content_loss(w, cores[name].float(), _core_view(target, t, name))
            for kept, name, pick, d in zip(projected, s.style_layers, picks, directions):
                kept.append(d.T @ _pick(cores[name], t, name, pick).float().T)
        norms = [
            total.shape[-1] * w * h
            for total, (w, h) in zip(sums, (feature_size(width, height, n) for n in s.style_layers))
        ]
        errors = [total / norm - target for total, norm, target in zip(sums, norms, self.style_targets)]
        style = sum((w * e.pow(2).sum() for w, e in zip(self.style_weights, errors)), image.new_zeros(()))
        # d(loss)/d(a layer's Gram sum): pass 2 weighs each tile's own Gram sum by it
        slopes = [2 * s.style_weight * w * e / n for w, e, n in zip(self.style_weights, errors, norms)]
        swd, matches, scales, starts = image.new_zeros(()), [], [], []
        for kept, target, d in zip(projected, self.style_points, directions):
            mine = torch.cat(kept, dim=1)
            matched, spread = sliced_wasserstein_targets(mine, target, d)
            swd = swd + (mine - matched).pow(2).mean() / spread
            matches.append(matched)
            scales.append(s.swd_weight / (mine.numel() * spread * len(projected)))
            starts.append([0, *itertools.accumulate(part.shape[1] for part in kept)])
        return _Pass1(content, style, swd / max(1, len(projected)), slopes, picks, directions, matches, scales, starts)

    def _tile_gradient(self, x: torch.Tensor, t: Tile, index: int, stats: _Pass1) -> None:
        """Pass 2 for one tile: its share of the loss's gradient, added into ``x.grad``."""
        s = self.settings
        assert x.grad is not None
        piece = _crop(x.detach(), t).clone().requires_grad_(True)
        feats = self.features(piece)
        cores = {name: _core(feats[name], t, name) for name in self.layers}
        surrogate = piece.new_zeros(())
        for slope, name in zip(stats.slopes, s.style_layers):
            surrogate = surrogate + (slope * gram_matrix(cores[name], normalize=False)).sum()
        for target, name, w in zip(self.content_targets, s.content_layers, self.content_weights):
            surrogate = surrogate + s.content_weight * content_loss(w, cores[name].float(), _core_view(target, t, name))
        for name, pick, d, matched, scale, first in zip(
            s.style_layers, stats.picks, stats.directions, stats.matches, stats.scales, stats.starts
        ):
            mine = d.T @ _pick(cores[name], t, name, pick).float().T
            surrogate = surrogate + scale * (mine - matched[:, first[index] : first[index + 1]]).pow(2).sum()
        surrogate.backward()
        assert piece.grad is not None
        left, top, right, bottom = t.crop
        x.grad[:, :, top:bottom, left:right] += piece.grad


@dataclass
class _Pass1:
    """What pass 1 learnt of the whole picture, and what pass 2 takes each tile's gradient against."""

    content: torch.Tensor
    style: torch.Tensor
    swd: torch.Tensor
    slopes: list[torch.Tensor]
    """d(loss)/d(Gram sum), per style layer."""
    picks: list[torch.Tensor]
    """The sliced-Wasserstein term's positions, per style layer (the picture's rows and columns)."""
    directions: list[torch.Tensor]
    matches: list[torch.Tensor]
    """Where each picked point's projections should be, per style layer, in the order of the tiles."""
    scales: list[torch.Tensor]
    """The sliced-Wasserstein term's factor per squared difference, per style layer."""
    starts: list[list[int]]
    """Where each tile's points start in ``matches``, per style layer."""


def _crop(image: torch.Tensor, t: Tile) -> torch.Tensor:
    left, top, right, bottom = t.crop
    return image[:, :, top:bottom, left:right]


def _core_rows(t: Tile, name: str, origin: bool) -> tuple[slice, slice]:
    """The core's rows and columns in a layer's features: of the tile's own (``origin``) or of the picture's.

    A core ends on a multiple of the stride, except at the picture's edge (where it ends with its
    crop, as the halo stops there): there it ends where the features end.
    """
    s = stride(name)
    left, top, right, bottom = t.core
    ox, oy = (t.crop[0], t.crop[1]) if origin else (0, 0)
    last_x = None if right == t.crop[2] else (right - ox) // s
    last_y = None if bottom == t.crop[3] else (bottom - oy) // s
    return slice((top - oy) // s, last_y), slice((left - ox) // s, last_x)


def _core(features: torch.Tensor, t: Tile, name: str) -> torch.Tensor:
    """A tile's features at its core (of the tile's own features)."""
    rows, cols = _core_rows(t, name, origin=True)
    return features[:, :, rows, cols]


def _core_view(whole: torch.Tensor, t: Tile, name: str) -> torch.Tensor:
    """A tile's core in a whole picture's features (a view)."""
    rows, cols = _core_rows(t, name, origin=False)
    return whole[:, :, rows, cols]


def _pick(core: torch.Tensor, t: Tile, name: str, positions: torch.Tensor) -> torch.Tensor:
    """The feature vectors at those of ``positions`` (the picture's rows, columns) that lie in the tile's core."""
    rows, cols = _core_rows(t, name, origin=False)
    top, left = rows.start, cols.start
    bottom, right = top + core.shape[2], left + core.shape[3]
    r, c = positions[:, 0], positions[:, 1]
    inside = (r >= top) & (r < bottom) & (c >= left) & (c < right)
    r, c = (r[inside] - top).to(core.device), (c[inside] - left).to(core.device)
    return core[0, :, r, c].T


def _points(features: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` features as ``(N*H*W, C)`` feature vectors, one per position (a view when channels-last)."""
    return features.permute(0, 2, 3, 1).reshape(-1, features.shape[1])


def _squared_norm(target: torch.Tensor) -> float:
    """A target's squared Frobenius norm (never zero: a blank painting or photo still gives a finite loss)."""
    return max(float(target.double().pow(2).sum()), 1e-12)
