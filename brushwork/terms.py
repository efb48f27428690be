"""The loss terms: each part of a level's loss is one class, whole or in tiles.

A term knows the setting that weighs it and the part of the loss it is reported under. It measures
its target once per level from the photo and the paintings (:meth:`Term.aim`) and gives its weighted
loss of a picture (:meth:`Term.loss`). A :class:`PixelTerm` reads the pixels: it is cheap, so it is
taken on the whole picture even when the picture is painted in tiles. A :class:`FeatureTerm` reads
the network's features at its ``layers``; in tiles (:class:`~brushwork.objective.TiledObjective`)
pass 1 adds each tile's statistics into the whole picture's (:meth:`FeatureTerm.add`), which give the
loss (:meth:`FeatureTerm.settle`), and pass 2 takes each tile's share of the gradient against them
(:meth:`FeatureTerm.tile_loss`). The objectives loop over the terms and know none by name.

:data:`TERMS` lists the terms of every run, built from its :class:`~brushwork.settings.Settings` by
:func:`build`: a new term is one class and one :func:`register` (see ``docs/ARCHITECTURE.md``).
A video adds :class:`Temporal` itself. The formulas are :mod:`brushwork.losses`'; the normalisation
(by size or by target) is the terms'.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, Protocol, TypeVar

import torch
from torch import Tensor

from .layers import feature_size
from .losses import (
    content_loss,
    gram_matrix,
    sliced_wasserstein_loss,
    sliced_wasserstein_targets,
    style_loss,
    temporal_loss,
    tv_loss,
)
from .settings import Settings
from .tiles import Tile, core_view, pick

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
    "Gram",
    "TotalVariation",
    "SlicedWasserstein",
    "Temporal",
    "SWD_POINTS",
]

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


def _squared_norm(target: Tensor) -> float:
    """A target's squared Frobenius norm (never zero: a blank painting or photo still gives a finite loss)."""
    return max(float(target.double().pow(2).sum()), 1e-12)


@register
class Content(FeatureTerm):
    """The photo's features at the content layers (Gatys et al.'s content loss)."""

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
        pairs = zip(self.layers, self.targets, self.weights)
        error = sum((content_loss(w, feats[name].float(), target) for name, target, w in pairs), image.new_zeros(()))
        return self.weight * error

    def begin(self, image: Tensor) -> None:
        self.error = image.new_zeros(())

    def add(self, t: Tile, cores: Mapping[str, Tensor]) -> None:
        for target, name, w in zip(self.targets, self.layers, self.weights):
            self.error += content_loss(w, cores[name].float(), core_view(target, t, name))

    def settle(self) -> Tensor:
        return self.weight * self.error

    def tile_loss(self, t: Tile, index: int, cores: Mapping[str, Tensor]) -> Tensor:
        total = self.error.new_zeros(())
        for target, name, w in zip(self.targets, self.layers, self.weights):
            total = total + self.weight * content_loss(w, cores[name].float(), core_view(target, t, name))
        return total


@register
class Gram(FeatureTerm):
    """The paintings' Gram matrices at the style layers, blended (Gatys et al.'s style loss)."""

    part, setting = "style", "style_weight"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.layers, self.normalize = settings.style_layers, settings.normalize
        self.layer_weights = settings.style_layer_weights or (1.0,) * len(self.layers)

    def aim(self, photo: Sight, paintings: Sequence[tuple[Sight, float]]) -> None:
        grams: list[Tensor] = []
        for painting, blend in paintings:
            layer_grams = [blend * g for g in self._grams(painting)]
            grams = layer_grams if not grams else [a + b for a, b in zip(grams, layer_grams)]
        self.targets = grams
        total = sum(self.layer_weights)
        if self.normalize == "target":  # relative errors: each layer over its target's squared norm
            self.weights = [w / total / _squared_norm(t) for w, t in zip(self.layer_weights, self.targets)]
        else:  # per Gram entry
            self.weights = [w / total / t.shape[-1] ** 2 for w, t in zip(self.layer_weights, self.targets)]

    def _grams(self, painting: Sight) -> list[Tensor]:
        """A painting's Gram matrix at each style layer: the sum of its tiles', over all its positions."""
        height, width = painting.picture.shape[-2:]
        sums: list[Tensor] = []
        for _, cores in painting.tiles(self.layers):
            parts = [gram_matrix(cores[name], normalize=False) for name in self.layers]
            sums = parts if not sums else [total.add_(part) for total, part in zip(sums, parts)]
        return [total / (total.shape[-1] * _area(width, height, name)) for name, total in zip(self.layers, sums)]

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        return self.weight * style_loss(feats, self.layers, self.targets, self.weights)

    def begin(self, image: Tensor) -> None:
        height, width = image.shape[-2:]
        self.sums = [image.new_zeros(t.shape) for t in self.targets]
        self.norms = [t.shape[-1] * _area(width, height, name) for name, t in zip(self.layers, self.targets)]

    def add(self, t: Tile, cores: Mapping[str, Tensor]) -> None:
        for total, name in zip(self.sums, self.layers):
            total.add_(gram_matrix(cores[name], normalize=False))

    def settle(self) -> Tensor:
        errors = [total / norm - target for total, norm, target in zip(self.sums, self.norms, self.targets)]
        style = sum((w * e.pow(2).sum() for w, e in zip(self.weights, errors)), self.sums[0].new_zeros(()))
        # d(loss)/d(a layer's Gram sum): pass 2 weighs each tile's own Gram sum by it
        self.slopes = [2 * self.weight * w * e / n for w, e, n in zip(self.weights, errors, self.norms)]
        return self.weight * style

    def tile_loss(self, t: Tile, index: int, cores: Mapping[str, Tensor]) -> Tensor:
        total = self.slopes[0].new_zeros(())
        for slope, name in zip(self.slopes, self.layers):
            total = total + (slope * gram_matrix(cores[name], normalize=False)).sum()
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
    positions once per level, and fresh directions and positions of the picture each step.
    """

    part, setting = "style", "swd_weight"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.layers = settings.style_layers
        self.generator = torch.Generator().manual_seed(settings.seed)

    def aim(self, photo: Sight, paintings: Sequence[tuple[Sight, float]]) -> None:
        samples: list[list[Tensor]] = [[] for _ in self.layers]
        for painting, blend in paintings:  # the blend as a mixture: shares of the points
            count = max(1, round(blend * SWD_POINTS))
            height, width = painting.picture.shape[-2:]
            picks = [self._positions(width, height, name, count) for name in self.layers]
            points: list[list[Tensor]] = [[] for _ in self.layers]
            for t, cores in painting.tiles(self.layers):
                for kept, name, positions in zip(points, self.layers, picks):
                    kept.append(pick(cores[name], t, name, positions).float())
            for kept, layer_points in zip(samples, points):
                kept.append(torch.cat(layer_points))
        self.targets = [torch.cat(kept) for kept in samples]

    def _positions(self, width: int, height: int, name: str, count: int) -> Tensor:
        """``count`` positions of a layer's features at random, as (row, column) pairs (all, in order, when no more)."""
        w, h = feature_size(width, height, name)
        flat = torch.arange(w * h) if w * h <= count else torch.randperm(w * h, generator=self.generator)[:count]
        return torch.stack([flat // w, flat % w], dim=1)

    def _directions(self, target: Tensor) -> Tensor:
        directions = torch.randn(target.shape[1], _SWD_DIRECTIONS, generator=self.generator)
        return (directions / directions.norm(dim=0, keepdim=True)).to(target.device)

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        """On fresh random directions and positions each call, averaged over layers."""
        total = feats[self.layers[0]].new_zeros((), dtype=torch.float32)
        for name, target in zip(self.layers, self.targets):
            points = _sample(_points(feats[name]), SWD_POINTS, self.generator)
            total = total + sliced_wasserstein_loss(points, target, self._directions(target))
        return self.weight * (total / len(self.targets))

    def begin(self, image: Tensor) -> None:
        height, width = image.shape[-2:]
        self.picks = [self._positions(width, height, name, SWD_POINTS) for name in self.layers]
        self.directions = [self._directions(target) for target in self.targets]
        self.projected: list[list[Tensor]] = [[] for _ in self.layers]

    def add(self, t: Tile, cores: Mapping[str, Tensor]) -> None:
        for kept, name, positions, d in zip(self.projected, self.layers, self.picks, self.directions):
            kept.append(d.T @ pick(cores[name], t, name, positions).float().T)

    def settle(self) -> Tensor:
        swd = self.directions[0].new_zeros(())
        self.matches, self.scales, self.starts = [], [], []
        for kept, target, d in zip(self.projected, self.targets, self.directions):
            mine = torch.cat(kept, dim=1)
            matched, spread = sliced_wasserstein_targets(mine, target, d)
            swd = swd + (mine - matched).pow(2).mean() / spread
            self.matches.append(matched)  # where each picked point's projections should be, in tile order
            self.scales.append(self.weight / (mine.numel() * spread * len(self.projected)))
            self.starts.append([0, *itertools.accumulate(part.shape[1] for part in kept)])  # each tile's first
        return self.weight * (swd / max(1, len(self.projected)))

    def tile_loss(self, t: Tile, index: int, cores: Mapping[str, Tensor]) -> Tensor:
        total = self.directions[0].new_zeros(())
        for name, positions, d, matched, scale, first in zip(
            self.layers, self.picks, self.directions, self.matches, self.scales, self.starts
        ):
            mine = d.T @ pick(cores[name], t, name, positions).float().T
            total = total + scale * (mine - matched[:, first[index] : first[index + 1]]).pow(2).sum()
        return total


class Temporal(PixelTerm):
    """Hold a video frame to the previous painted frame, warped to it, where the flow is certain.

    Not registered: :mod:`brushwork.video` adds it to the runs of a clip's later frames.
    """

    part, setting = "temporal", "temporal_weight"

    def __init__(self, previous: Tensor, certainty: Tensor, weight: float):
        self.previous = previous
        """``(1, 3, H, W)``, 0-255, at the size of the level it applies to."""
        self.certainty = certainty
        """``(1, 1, H, W)``, 0 or 1."""
        self.weight = weight

    def loss(self, image: Tensor, feats: Mapping[str, Tensor]) -> Tensor:
        return self.weight * temporal_loss(image, self.previous, self.certainty)


def _area(width: int, height: int, name: str) -> int:
    """Positions in a layer's features of a ``width`` x ``height`` picture."""
    w, h = feature_size(width, height, name)
    return h * w


def _sample(points: Tensor, count: int, generator: torch.Generator) -> Tensor:
    """``count`` of the rows of ``points`` at random (all of them, in order, when there are no more)."""
    n = points.shape[0]
    if n <= count:
        return points.float()
    return points[torch.randperm(n, generator=generator)[:count].to(points.device)].float()


def _points(features: Tensor) -> Tensor:
    """``(N, C, H, W)`` features as ``(N*H*W, C)`` feature vectors, one per position (a view when channels-last)."""
    return features.permute(0, 2, 3, 1).reshape(-1, features.shape[1])
