"""The loss terms: each part of a level's loss is one class, whole or in tiles.

A term knows the setting that weighs it and the part of the loss it is reported under. It measures
its target once per level from the photo and the paintings (:meth:`Term.aim`) and gives its weighted
loss of a picture (:meth:`Term.loss`). A :class:`PixelTerm` reads the pixels: it is cheap, so it is
taken on the whole picture even when the picture is painted in tiles. A :class:`FeatureTerm` reads
the network's features at its ``layers``; in tiles (:class:`~brushwork.model.objective.TiledObjective`)
pass 1 adds each tile's statistics into the whole picture's (:meth:`FeatureTerm.add`), which give the
loss (:meth:`FeatureTerm.settle`), and pass 2 takes each tile's share of the gradient against them
(:meth:`FeatureTerm.tile_loss`). The objectives loop over the terms and know none by name.

:data:`TERMS` lists the terms of every run, built from its :class:`~brushwork.core.settings.Settings` by
:func:`build`: a new term is one class and one :func:`register` (see ``docs/ARCHITECTURE.md``).
A video adds :class:`Temporal` itself. The formulas are :mod:`brushwork.model.losses`'; the normalisation
(by size or by target) is the terms'.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, TypeVar

import torch
from torch import Tensor

from brushwork.core.layers import feature_size
from brushwork.core.settings import Settings
from brushwork.media.images import wide
from brushwork.media.masks import LevelRegions, layer_mask
from brushwork.model.losses import (
    Guide,
    content_loss,
    gram_matrix,
    guided_gram_sum,
    guided_grams,
    held_pixels_loss,
    sliced_wasserstein_loss,
    sliced_wasserstein_targets,
    style_loss,
    tv_loss,
)
from brushwork.planning.tiles import Tile, core_view, pick

__all__ = [
    "Sight",
    "Term",
    "PixelTerm",
    "FeatureTerm",
    "TERMS",
    "register",
    "build",
    "culprits",
    "Content",
    "KeptPixels",
    "Gram",
    "TotalVariation",
    "SlicedWasserstein",
    "Temporal",
    "SWD_POINTS",
]

KEEP_PIXELS = 0.01
"""The weight, per unit of content weight, of a kept region's pixels held to the photo's (``--keep``; mean squared
0-255 difference over the picture): the region keeps about 0.4x a style-0 run's content distance; twice as strong
keeps it a little closer and costs the rest of the picture a percent of its style (RESULTS.md, stop 36)."""
SWD_POINTS = 4096  # positions compared per layer and step: all of them in deep layers, a sample elsewhere
_SWD_DIRECTIONS = 32  # random projections per layer and step, drawn afresh each step (a sort costs as they grow)


class Sight(Protocol):
    """A photo or painting as a term measures its target: the picture, and its features tile by tile.

    Painted whole, a picture is one tile; in tiles, the network sees one tile at a time, so a target
    must be a sum or a set over the tiles' cores (as the picture's own statistics are in pass 1).
    """

    @property
    def picture(self) -> Tensor:
        """``(1, 3, H, W)``, 0-255."""
        ...

    def tiles(self, layers: Sequence[str]) -> Iterable[tuple[Tile, dict[str, Tensor]]]:
        """Each tile and its core's features at ``layers``, without gradients."""
        ...

    @property
    def regions(self) -> LevelRegions | None:
        """The photo's regions at the level's size (None for a photo painted all over); for a painting, its own
        mask as the one ``paint`` mask: the part of it to learn from (None: all of it)."""
        ...


class Term(ABC):
    """One weighted part of a level's loss."""

    part: ClassVar[str]
    """The part of the loss it is reported under (``content``, ``style``, ``tv``...); terms may share one."""
    setting: ClassVar[str]
    """The setting that weighs it: the one to lower when it overflows (``style_weight``)."""

    def __init__(self, settings: Settings):
        self.weight: float = getattr(settings, self.setting)

    def aim(self, photo: Sight, paintings: Sequence[tuple[Sight, float]]) -> None:  # noqa: B027 (a term may need no target)
        """Measure the target from the photo and the paintings (each with its blend weight, never 0)."""

    @abstractmethod
    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        """The weighted loss of the whole ``image`` (``feats``: its features), differentiable."""

    def applies_at(self, size: tuple[int, int]) -> bool:
        """Whether the term is part of a level of ``(width, height)``: every level's, unless it says otherwise."""
        return True


class PixelTerm(Term):
    """A term of the pixels alone: taken on the whole picture, tiled or not (``feats`` is empty)."""


class FeatureTerm(Term):
    """A term of the network's features at ``layers``, which can also be taken tile by tile."""

    layers: tuple[str, ...]

    @abstractmethod
    def begin(self, image: Tensor) -> None:
        """Start a tiled evaluation of ``image``: empty sums, and the step's random draws if any."""

    @abstractmethod
    def add(self, t: Tile, cores: Mapping[str, Tensor]) -> None:
        """Pass 1: add a tile's statistics (its core's ``cores`` features, no gradients) into the picture's."""

    @abstractmethod
    def settle(self) -> Tensor:
        """The weighted loss of the whole picture from the summed statistics; readies pass 2."""

    @abstractmethod
    def tile_loss(self, t: Tile, index: int, cores: Mapping[str, Tensor]) -> Tensor:
        """Pass 2: a function of tile ``index``'s cores whose gradient is the tile's share of the loss's."""


_Class = TypeVar("_Class", bound=type[Term])

TERMS: list[type[Term]] = []
"""The terms of every run, in the order they are added up."""


def register(term: _Class) -> _Class:
    """Add a term to every run (a class decorator; ``TERMS.remove`` takes it out again)."""
    TERMS.append(term)
    return term


def build(settings: Settings) -> list[Term]:
    """One of each registered term, weighed by ``settings`` (a weight of 0 turns a term off)."""
    return [term(settings) for term in TERMS]


def culprits(terms: Iterable[Term]) -> dict[str, str]:
    """Each reported part and the setting to lower when it overflows (the first term's, where terms share it)."""
    out: dict[str, str] = {}
    for term in terms:
        out.setdefault(term.part, term.setting)
    return out


Region = tuple["list[Tensor] | None", Sequence[tuple[Sight, float]]]
"""A region's mask at each of a term's layers (None: the whole picture) and the paintings that style it."""


def _regions(photo: Sight, paintings: Sequence[tuple[Sight, float]], layers: Sequence[str]) -> list[Region]:
    """Where each painting applies (Gatys et al. 2017): the whole picture for the paintings' blend, or one region
    per painting's mask, or one for the blend outside a kept region."""
    masks = photo.regions.paint if photo.regions is not None else None
    if masks is None:
        return [(None, paintings)]
    height, width = photo.picture.shape[-2:]
    at_layers = [[layer_mask(mask, feature_size(width, height, name)) for name in layers] for mask in masks]
    if len(masks) == len(paintings):
        return [(mask, [(painting, 1.0)]) for mask, (painting, _) in zip(at_layers, paintings)]
    return [(at_layers[0], paintings)]


def _source(painting: Sight, layers: Sequence[str]) -> list[Tensor] | None:
    """A painting's own mask at each of ``layers`` (None: all of the painting is learnt from)."""
    if painting.regions is None or painting.regions.paint is None:
        return None
    height, width = painting.picture.shape[-2:]
    return [layer_mask(painting.regions.paint[0], feature_size(width, height, name)) for name in layers]


def _share(mask: Tensor | None) -> float:
    """The part of the picture a region's mask covers at a layer (1 for the whole picture)."""
    return 1.0 if mask is None else float(mask.mean())


def _gram_norm(gram: Tensor, area: float) -> float:
    """What a Gram sum over ``area`` positions is divided by: ``C*H*W`` (the mask's weight for ``H*W`` with
    regions; never zero, so an empty region gives a finite loss)."""
    return gram.shape[-1] * max(area, 1e-12)


def _squared_norm(target: Tensor) -> float:
    """A target's squared Frobenius norm (never zero: a blank painting or photo still gives a finite loss)."""
    return max(float(wide(target).pow(2).sum()), 1e-12)


@register
class Content(FeatureTerm):
    """The photo's features at the content layers (Gatys et al.'s content loss), alike everywhere: a kept region
    is held by its pixels (:class:`KeptPixels`)."""

    part, setting = "content", "content_weight"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.layers, self.normalize = settings.content_layers, settings.normalize

    def aim(self, photo: Sight, paintings: Sequence[tuple[Sight, float]]) -> None:
        height, width = photo.picture.shape[-2:]
        self.targets: list[Tensor] = []
        for t, cores in photo.tiles(self.layers):
            if not self.targets:
                for name in self.layers:
                    w, h = feature_size(width, height, name)
                    self.targets.append(photo.picture.new_zeros((1, cores[name].shape[1], h, w)))
            for target, name in zip(self.targets, self.layers):
                core_view(target, t, name).copy_(cores[name])
        if self.normalize == "target":  # relative errors: over the target's squared norm
            self.weights = [1.0 / (len(self.layers) * _squared_norm(t)) for t in self.targets]
        else:  # per content element
            self.weights = [1.0 / (len(self.layers) * t.numel()) for t in self.targets]

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        error = image.new_zeros(())
        for name, target, w in zip(self.layers, self.targets, self.weights):
            error = error + content_loss(w, feats[name].float(), target)
        return self.weight * error

    def begin(self, image: Tensor) -> None:
        self.error = image.new_zeros(())

    def _tile_error(self, t: Tile, cores: Mapping[str, Tensor]) -> Tensor:
        error = self.targets[0].new_zeros(())
        for target, name, w in zip(self.targets, self.layers, self.weights):
            error = error + content_loss(w, cores[name].float(), core_view(target, t, name))
        return error

    def add(self, t: Tile, cores: Mapping[str, Tensor]) -> None:
        self.error += self._tile_error(t, cores)

    def settle(self) -> Tensor:
        return self.weight * self.error

    def tile_loss(self, t: Tile, index: int, cores: Mapping[str, Tensor]) -> Tensor:
        return self.weight * self._tile_error(t, cores)


@register
class KeptPixels(PixelTerm):
    """Inside a kept region (``--keep``), the photo's pixels themselves, weighed by the soft mask; no painting's
    style reaches there. Nothing without a kept region.

    Pixels, not features: a tenfold content term there held the region as well, but its stiffness cost the rest of
    the picture a few percent of both the photo and the style (``benchmarks/RESULTS.md``, stop 36), and features
    alone let the painting's colours in."""

    part, setting = "content", "content_weight"

    def aim(self, photo: Sight, paintings: Sequence[tuple[Sight, float]]) -> None:
        self.keep = photo.regions.keep if photo.regions is not None else None
        self.photo = photo.picture

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        if self.keep is None:  # still a function of the picture: the objective takes every term's gradient
            return image.sum() * 0.0
        return self.weight * KEEP_PIXELS * held_pixels_loss(image, self.photo, self.keep)


@register
class Gram(FeatureTerm):
    """The paintings' Gram matrices at the style layers, blended (Gatys et al.'s style loss).

    With regions, each region's Gram matrix is taken over its mask (guided, Gatys et al. 2017) and held to
    its own painting's, weighed by the share of the picture the region covers.
    """

    part, setting = "style", "style_weight"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.layers, self.normalize = settings.style_layers, settings.normalize
        self.layer_weights = settings.style_layer_weights or (1.0,) * len(self.layers)

    def aim(self, photo: Sight, paintings: Sequence[tuple[Sight, float]]) -> None:
        height, width = photo.picture.shape[-2:]
        self.masks: list[list[Tensor] | None] = []
        self.norms: list[list[float]] = []  # per region, per layer: what its Gram sum is divided by (fixed a level)
        self.targets: list[list[Tensor]] = []  # per region, per layer
        self.weights: list[list[float]] = []
        for masks, painted_by in _regions(photo, paintings, self.layers):
            grams: list[Tensor] = []
            for painting, blend in painted_by:
                layer_grams = [blend * g for g in self._grams(painting)]
                grams = layer_grams if not grams else [a + b for a, b in zip(grams, layer_grams)]
            shares = [_share(m) for m in masks] if masks is not None else [1.0] * len(self.layers)
            areas = [_area(width, height, n) for n in self.layers] if masks is None else [float(m.sum()) for m in masks]
            self.masks.append(masks)
            self.norms.append([_gram_norm(t, area) for t, area in zip(grams, areas)])
            self.targets.append(grams)
            self.weights.append([share * w for share, w in zip(shares, self._layer_weights(grams))])
        self.guides = (  # per layer, per region; none when one region covers the whole picture
            [[Guide.of(masks[i]) for masks in self.masks if masks] for i in range(len(self.layers))]
            if self.masks[0] is not None
            else []
        )

    def _layer_weights(self, targets: Sequence[Tensor]) -> list[float]:
        total = sum(self.layer_weights)
        if self.normalize == "target":  # relative errors: each layer over its target's squared norm
            return [w / total / _squared_norm(t) for w, t in zip(self.layer_weights, targets)]
        return [w / total / t.shape[-1] ** 2 for w, t in zip(self.layer_weights, targets)]  # per Gram entry

    def _grams(self, painting: Sight) -> list[Tensor]:
        """A painting's Gram matrix at each style layer: the sum of its tiles', over all its positions (or, with
        its own mask, guided by it: over the part it covers)."""
        height, width = painting.picture.shape[-2:]
        source = _source(painting, self.layers)
        sums: list[Tensor] = []
        for t, cores in painting.tiles(self.layers):
            features = [cores[name] for name in self.layers]
            if source is not None:
                features = [f * core_view(m, t, n).sqrt() for f, m, n in zip(features, source, self.layers)]
            parts = [gram_matrix(f, normalize=False) for f in features]
            sums = parts if not sums else [total.add_(part) for total, part in zip(sums, parts)]
        areas = [_area(width, height, n) for n in self.layers] if source is None else [float(m.sum()) for m in source]
        return [total / _gram_norm(total, area) for area, total in zip(areas, sums)]

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        total = image.new_zeros(())
        if not self.guides:  # the whole picture, one region
            return self.weight * (total + style_loss(feats, self.layers, self.targets[0], self.weights[0]))
        for i, name in enumerate(self.layers):  # every region's Gram sum at once, a layer at a time
            sums = guided_grams(feats[name], self.guides[i])
            for gram_sum, norms, targets, weights in zip(sums, self.norms, self.targets, self.weights):
                error = gram_sum / norms[i] - targets[i]
                total = total + weights[i] * error.pow(2).sum()
        return self.weight * total

    def _sum(self, features: Tensor, mask: Tensor | None) -> Tensor:
        return gram_matrix(features, normalize=False) if mask is None else guided_gram_sum(features, mask)

    def begin(self, image: Tensor) -> None:
        self.sums = [[image.new_zeros(t.shape) for t in targets] for targets in self.targets]

    def _core_masks(self, masks: list[Tensor] | None, t: Tile) -> list[Tensor | None]:
        return [None] * len(self.layers) if masks is None else [core_view(m, t, n) for m, n in zip(masks, self.layers)]

    def add(self, t: Tile, cores: Mapping[str, Tensor]) -> None:
        for sums, masks in zip(self.sums, self.masks):
            for total, name, mask in zip(sums, self.layers, self._core_masks(masks, t)):
                total.add_(self._sum(cores[name], mask))

    def settle(self) -> Tensor:
        style = self.sums[0][0].new_zeros(())
        self.slopes: list[list[Tensor]] = []
        for sums, norms, targets, weights in zip(self.sums, self.norms, self.targets, self.weights):
            errors = [total / norm - target for total, norm, target in zip(sums, norms, targets)]
            style = style + sum((w * e.pow(2).sum() for w, e in zip(weights, errors)), style.new_zeros(()))
            # d(loss)/d(a layer's Gram sum): pass 2 weighs each tile's own Gram sum by it
            self.slopes.append([2 * self.weight * w * e / n for w, e, n in zip(weights, errors, norms)])
        return self.weight * style

    def tile_loss(self, t: Tile, index: int, cores: Mapping[str, Tensor]) -> Tensor:
        total = self.slopes[0][0].new_zeros(())
        for slopes, masks in zip(self.slopes, self.masks):
            for slope, name, mask in zip(slopes, self.layers, self._core_masks(masks, t)):
                total = total + (slope * self._sum(cores[name], mask)).sum()
        return total


@register
class TotalVariation(PixelTerm):
    """Smoothness: squared differences of neighbouring pixels, per pixel value."""

    part, setting = "tv", "tv_weight"

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        return self.weight * tv_loss(image, 1.0 / image.numel())


@register
class SlicedWasserstein(FeatureTerm):
    """The paintings' feature distributions at the style layers (Heitz et al.): a second style term.

    Its points and directions are drawn at random from the run's seed: a sample of each painting's
    positions once per level, and fresh directions and positions of the picture each step. With regions,
    each region's positions are drawn by its mask (a soft edge's less often) and held to its own painting's
    points, weighed by the share of the picture the region covers.
    """

    part, setting = "style", "swd_weight"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.layers, self.seed = settings.style_layers, settings.seed
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.draws = self.generator
        """What each step's draws come from: on a GPU, a generator there, so that a step never waits for a copy."""

    def aim(self, photo: Sight, paintings: Sequence[tuple[Sight, float]]) -> None:
        device = photo.picture.device
        if device.type == "cuda" and self.draws.device != device:
            self.draws = torch.Generator(device=device).manual_seed(self.seed)
        self.covers: list[list[_Cover | None]] = []  # per region, per layer (None: every position)
        self.targets: list[list[Tensor]] = []  # per region, per layer
        self.shares: list[float] = []
        for masks, painted_by in _regions(photo, paintings, self.layers):
            self.covers.append([None] * len(self.layers) if masks is None else [_Cover.of(mask) for mask in masks])
            self.targets.append(self._points_of(painted_by))
            self.shares.append(_share(masks[0]) if masks is not None else 1.0)
        # a region's share of the points, as of the loss: regions cost about what the whole picture does
        self.counts = [max(SWD_POINTS // 16, round(SWD_POINTS * share)) for share in self.shares]

    def _points_of(self, paintings: Sequence[tuple[Sight, float]]) -> list[Tensor]:
        """A sample of the paintings' feature vectors at each layer (of the part a painting's own mask covers), the
        blend as a mixture: shares of the points."""
        samples: list[list[Tensor]] = [[] for _ in self.layers]
        for painting, blend in paintings:
            count = max(1, round(blend * SWD_POINTS))
            height, width = painting.picture.shape[-2:]
            source = _source(painting, self.layers)
            covers = [None] * len(self.layers) if source is None else [_Cover.of(m) for m in source]
            picks = [self._positions(width, height, n, count, c) for n, c in zip(self.layers, covers)]
            points: list[list[Tensor]] = [[] for _ in self.layers]
            for t, cores in painting.tiles(self.layers):
                for kept, name, positions in zip(points, self.layers, picks):
                    kept.append(pick(cores[name], t, name, positions).float())
            for kept, layer_points in zip(samples, points):
                kept.append(torch.cat(layer_points))
        return [torch.cat(kept) for kept in samples]

    def _positions(
        self,
        width: int,
        height: int,
        name: str,
        count: int,
        cover: _Cover | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``count`` positions of a layer's features at random, as (row, column) pairs (all, in order, when no more);
        with a region's ``cover``, of the positions it covers, drawn in proportion to its mask (a position may
        come twice). On ``generator``'s device (by default the CPU's)."""
        generator = generator or self.generator
        w, h = feature_size(width, height, name)
        if cover is not None:  # all the positions it covers when there are no more, else drawn by its weights
            if cover.covered <= count:
                flat = cover.every.to(generator.device)
            else:  # by inverse transform on the cumulative weights: far cheaper than drawing without replacement
                cumulative = cover.cumulative.to(generator.device)
                drawn = torch.rand(count, generator=generator, device=generator.device, dtype=cumulative.dtype)
                flat = torch.searchsorted(cumulative, drawn * cumulative[-1], right=True).clamp_(
                    max=len(cumulative) - 1
                )
        elif w * h <= count:
            flat = torch.arange(w * h, device=generator.device)
        else:
            flat = torch.randperm(w * h, generator=generator, device=generator.device)[:count]
        return torch.stack([flat // w, flat % w], dim=1)

    def _directions(self, target: Tensor) -> Tensor:
        directions = torch.randn(target.shape[1], _SWD_DIRECTIONS, generator=self.draws, device=self.draws.device)
        return (directions / directions.norm(dim=0, keepdim=True)).to(target.device)

    def _draw(self, width: int, height: int) -> list[tuple[list[Tensor], list[Tensor]]]:
        """A step's random draws, layer by layer: each region's positions, then each region's directions. The
        whole picture's loss and the tiled one draw these, in this order, so that they are the same loss."""
        drawn = []
        for i, name in enumerate(self.layers):
            covers = [cover[i] for cover in self.covers]
            picks = [self._positions(width, height, name, n, c, self.draws) for c, n in zip(covers, self.counts)]
            drawn.append((picks, [self._directions(targets[i]) for targets in self.targets]))
        return drawn

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        """On fresh random directions and positions each call, averaged over layers."""
        total = feats[self.layers[0]].new_zeros((), dtype=torch.float32)
        height, width = image.shape[-2:]
        regions = [total.new_zeros(()) for _ in self.targets]
        for i, (name, (picks, ways)) in enumerate(zip(self.layers, self._draw(width, height))):
            rows, cols = torch.cat(picks).to(feats[name].device).unbind(1)  # every region's points in one gather
            flat = rows * feats[name].shape[-1] + cols  # one index into the positions: the cheaper gradient
            # index_select, not [flat]: a position drawn twice gets its gradient summed in a fixed order on a CPU
            points = _points(feats[name]).index_select(0, flat).float().split([len(p) for p in picks])
            for r, (mine, targets, d) in enumerate(zip(points, self.targets, ways)):
                regions[r] = regions[r] + sliced_wasserstein_loss(mine, targets[i], d)
        for region, targets, share in zip(regions, self.targets, self.shares):
            total = total + share * region / len(targets)
        return self.weight * total

    def begin(self, image: Tensor) -> None:
        height, width = image.shape[-2:]
        drawn = self._draw(width, height)  # per layer; kept per region
        self.picks = [list(region) for region in zip(*(picks for picks, _ in drawn))]
        self.directions = [list(region) for region in zip(*(ways for _, ways in drawn))]
        self.projected: list[list[list[Tensor]]] = [[[] for _ in self.layers] for _ in self.targets]

    def add(self, t: Tile, cores: Mapping[str, Tensor]) -> None:
        for projected, picks, directions in zip(self.projected, self.picks, self.directions):
            for kept, name, positions, d in zip(projected, self.layers, picks, directions):
                kept.append(d.T @ pick(cores[name], t, name, positions).float().T)

    def settle(self) -> Tensor:
        swd = self.directions[0][0].new_zeros(())
        self.matches: list[list[Tensor]] = []
        self.scales: list[list[Tensor]] = []
        self.starts: list[list[list[int]]] = []
        for projected, targets, directions, share in zip(self.projected, self.targets, self.directions, self.shares):
            matches, scales, starts = [], [], []
            region = swd.new_zeros(())
            for kept, target, d in zip(projected, targets, directions):
                mine = torch.cat(kept, dim=1)
                matched, spread = sliced_wasserstein_targets(mine, target, d)
                region = region + (mine - matched).pow(2).mean() / spread
                matches.append(matched)  # where each picked point's projections should be, in tile order
                scales.append(self.weight * share / (mine.numel() * spread * len(projected)))
                starts.append([0, *itertools.accumulate(part.shape[1] for part in kept)])  # each tile's first
            swd = swd + share * region / max(1, len(projected))
            self.matches.append(matches)
            self.scales.append(scales)
            self.starts.append(starts)
        return self.weight * swd

    def tile_loss(self, t: Tile, index: int, cores: Mapping[str, Tensor]) -> Tensor:
        total = self.directions[0][0].new_zeros(())
        for picks, directions, matches, scales, starts in zip(
            self.picks, self.directions, self.matches, self.scales, self.starts
        ):
            for name, positions, d, matched, scale, first in zip(
                self.layers, picks, directions, matches, scales, starts
            ):
                mine = d.T @ pick(cores[name], t, name, positions).float().T
                total = total + scale * (mine - matched[:, first[index] : first[index + 1]]).pow(2).sum()
        return total


class Temporal(PixelTerm):
    """Hold a video frame to the previous painted frame, warped to it, where the flow is certain.

    Not registered: :mod:`brushwork.video.painting` adds it to the runs of a clip's later frames.
    """

    part, setting = "temporal", "temporal_weight"

    def __init__(self, previous: Tensor, certainty: Tensor, weight: float):
        self.previous = previous
        """``(1, 3, H, W)``, 0-255, at the size of the level it applies to."""
        self.certainty = certainty
        """``(1, 1, H, W)``, 0 or 1."""
        self.weight = weight

    def applies_at(self, size: tuple[int, int]) -> bool:
        """Only at the size of the frame it holds to: the last level's."""
        return tuple(self.previous.shape[-1:-3:-1]) == size

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        return self.weight * held_pixels_loss(image, self.previous, self.certainty)


def _area(width: int, height: int, name: str) -> int:
    """Positions in a layer's features of a ``width`` x ``height`` picture."""
    w, h = feature_size(width, height, name)
    return h * w


@dataclass(frozen=True)
class _Cover:
    """A region's mask at a layer, as the sliced-Wasserstein term draws positions from it: its weights, flattened
    and summed up to each position, how many positions it covers, and those positions (taken all when no more are
    wanted). Measured once a level, so that a step need not read the mask back."""

    cumulative: Tensor
    covered: int
    every: Tensor

    @classmethod
    def of(cls, mask: Tensor) -> _Cover:
        weights = mask.flatten().float()  # float32: an MPS device has no float64
        covered = int((weights > 0).sum())
        every = weights.nonzero().flatten() if covered else weights.argmax().reshape(1)
        return cls(weights.cumsum(0), covered, every)


def _points(features: Tensor) -> Tensor:
    """``(N, C, H, W)`` features as ``(N*H*W, C)`` feature vectors, one per position (a view when channels-last)."""
    return features.permute(0, 2, 3, 1).reshape(-1, features.shape[1])
