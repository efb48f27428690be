"""The loss of one level: its terms' targets, and the loss and gradient of a candidate picture against them.

:class:`Objective` runs the whole picture through the network at once. :class:`TiledObjective`
gives the same loss and gradient for a picture too large for that: it runs the picture in tiles
(:mod:`brushwork.planning.tiles`) twice a step. The first pass, without gradients, sums each term's statistics
over all tiles (a Gram matrix is a sum over positions, the sliced-Wasserstein term's projected points
a set of them); the second takes each tile's gradient against those whole-picture statistics and adds
it into the picture's gradient. The optimiser sees one picture and one loss; only memory is bounded by
the tile. Both loop over the level's terms (:mod:`brushwork.model.terms`) and know none by name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence

import torch

from brushwork.core.layers import layer_index
from brushwork.core.settings import Settings
from brushwork.media.masks import LevelRegions
from brushwork.model.network import VGG19, channels_last
from brushwork.model.terms import FeatureTerm, Term, build
from brushwork.planning.tiles import Tile, core, crop, layer_grid, whole_tile

__all__ = ["Objective", "TiledObjective"]

Parts = dict[str, torch.Tensor]
_Tiles = Iterator[tuple[Tile, dict[str, torch.Tensor]]]


class Objective:
    """Targets of one level and the loss of a candidate image against them.

    The terms are the registered ones (:data:`brushwork.model.terms.TERMS`), weighed by ``settings``, and
    ``extra`` ones (a video frame's :class:`~brushwork.model.terms.Temporal`); a term of weight 0 is off.
    :meth:`evaluate` gives ``(total loss, {part: weighted loss})`` (``content``, ``style``, ``tv``...)
    and, when asked, leaves the loss's gradient in the image's ``.grad``. ``bf16`` may be switched per
    step (the engine measures a level's first steps in fp32).
    """

    keeps_features = True
    """Whether a photo's or painting's features may be kept while the terms aim (a whole picture's fit)."""

    def __init__(
        self,
        encoder: VGG19,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        blend: Sequence[float],
        settings: Settings,
        bf16: bool,
        extra: Sequence[Term] = (),
        regions: LevelRegions | None = None,
    ):
        self.encoder, self.bf16 = encoder, bf16
        self.channels_last = channels_last(bf16, content.device)
        self.terms = [*build(settings), *extra]
        self.active = [term for term in self.terms if term.weight != 0]
        self.features_of = [term for term in self.active if isinstance(term, FeatureTerm)]
        self.pixels_of = [term for term in self.active if not isinstance(term, FeatureTerm)]
        self.layers = sorted({name for term in self.features_of for name in term.layers}, key=layer_index)
        photo = self._sight(content, regions)
        # a painting blended out leaves no trace, not even a sampled point
        sources = [None if regions is None else regions.source(i) for i in range(len(styles))]
        paintings = [
            (self._sight(style, None if source is None else LevelRegions((source,), None)), weight)
            for style, weight, source in zip(styles, blend, sources)
            if weight != 0
        ]
        with torch.no_grad():
            for term in self.active:
                term.aim(photo, paintings)

    def _sight(self, picture: torch.Tensor, regions: LevelRegions | None = None) -> _Sight:
        return _Sight(picture, functools.partial(self._tiles, picture), self.keeps_features, regions)

    def _grid(self, image: torch.Tensor) -> list[Tile]:
        """The tiles the network sees ``image`` in: the whole of it at once."""
        height, width = image.shape[-2:]
        return [whole_tile(width, height)]

    def _tiles(self, image: torch.Tensor, layers: Sequence[str], grid: list[Tile] | None = None) -> _Tiles:
        """Each tile and the features of its core at ``layers``, computed without gradients."""
        for t in grid or self._grid(image):
            with torch.no_grad():
                feats = self.features(crop(image, t), layers)
            yield t, {name: core(feats[name], t, name) for name in layers}

    def features(self, image: torch.Tensor, layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """The encoder's features of ``image`` at ``layers`` (default: every layer the loss uses)."""
        layers = self.layers if layers is None else layers
        if not layers:
            return {}
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        if self.bf16:
            with torch.autocast(image.device.type, dtype=torch.bfloat16):
                return self.encoder(image, layers)
        return self.encoder(image, layers)

    def _add_up(self, image: torch.Tensor, values: Iterable[tuple[Term, torch.Tensor]]) -> tuple[torch.Tensor, Parts]:
        """The loss (the active terms' ``values`` added in their order) and each part's share of it.

        Every term reports its part, a term that is off at zero.
        """
        loss, parts = image.new_zeros(()), {term.part: image.new_zeros(()) for term in self.terms}
        for term, value in values:
            loss, parts[term.part] = loss + value, parts[term.part] + value
        return loss, parts

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, Parts]:
        """The loss of the whole ``image`` and its weighted parts, differentiable."""
        feats = self.features(image)  # style layers go to the Gram as they are: it works in float32 itself
        return self._add_up(image, ((term, term.loss(image, feats)) for term in self.active))

    def evaluate(self, image: torch.Tensor, grad: bool) -> tuple[torch.Tensor, Parts]:
        """The loss and its parts (detached); with ``grad``, the loss's gradient is left in ``image.grad``."""
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

    keeps_features = False

    def __init__(
        self,
        encoder: VGG19,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        blend: Sequence[float],
        settings: Settings,
        bf16: bool,
        tile: int,
        extra: Sequence[Term] = (),
        regions: LevelRegions | None = None,
    ):
        self.tile = tile
        super().__init__(encoder, content, styles, blend, settings, bf16, extra, regions)
        self.grid = self._grid(content)

    def _grid(self, image: torch.Tensor) -> list[Tile]:
        """The tiles of ``image``: none when no term reads features (pixel terms take the whole picture)."""
        if not self.layers:
            return []
        height, width = image.shape[-2:]
        return layer_grid(width, height, self.tile, self.layers)

    def evaluate(self, image: torch.Tensor, grad: bool) -> tuple[torch.Tensor, Parts]:
        x = image.detach().requires_grad_(grad)
        for feature_term in self.features_of:
            feature_term.begin(x)
        for t, cores in self._tiles(x, self.layers, self.grid):  # pass 1: the whole picture's statistics
            for feature_term in self.features_of:
                feature_term.add(t, cores)
        with torch.set_grad_enabled(grad):  # pixel terms are cheap on the whole picture at once
            pixels = [term.loss(x, {}) for term in self.pixels_of]
        values: dict[Term, torch.Tensor] = {term: term.settle() for term in self.features_of}
        values.update((term, value.detach()) for term, value in zip(self.pixels_of, pixels))
        loss, parts = self._add_up(x, ((term, values[term]) for term in self.active))
        if grad:
            x.grad = torch.zeros_like(x)
            for value in pixels:
                value.backward()
            for index, t in enumerate(self.grid):
                self._tile_gradient(x, t, index)
            image.grad = x.grad
        return loss, parts

    def _tile_gradient(self, x: torch.Tensor, t: Tile, index: int) -> None:
        """Pass 2 for one tile: its share of the loss's gradient, added into ``x.grad``."""
        assert x.grad is not None
        piece = crop(x.detach(), t).clone().requires_grad_(True)
        feats = self.features(piece)
        cores = {name: core(feats[name], t, name) for name in self.layers}
        surrogate = piece.new_zeros(())
        for term in self.features_of:
            surrogate = surrogate + term.tile_loss(t, index, cores)
        surrogate.backward()
        assert piece.grad is not None
        left, top, right, bottom = t.crop
        x.grad[:, :, top:bottom, left:right] += piece.grad


class _Sight:
    """A photo or painting as the terms measure it (:class:`brushwork.model.terms.Sight`), in the objective's tiles.

    With ``keep`` (a whole picture's features fit) they are kept per set of layers while the terms
    aim, so terms that read the same layers (the Gram and sliced-Wasserstein terms) run the network once.
    """

    def __init__(
        self,
        picture: torch.Tensor,
        measure: Callable[[Sequence[str]], _Tiles],
        keep: bool,
        regions: LevelRegions | None = None,
    ):
        self._picture, self.measure, self.keep, self._regions = picture, measure, keep, regions
        self.kept: dict[tuple[str, ...], list[tuple[Tile, dict[str, torch.Tensor]]]] = {}

    @property
    def picture(self) -> torch.Tensor:
        return self._picture

    @property
    def regions(self) -> LevelRegions | None:
        return self._regions

    def tiles(self, layers: Sequence[str]) -> Iterable[tuple[Tile, dict[str, torch.Tensor]]]:
        if not self.keep:
            return self.measure(layers)
        key = tuple(layers)
        if key not in self.kept:
            self.kept[key] = list(self.measure(layers))
        return self.kept[key]
