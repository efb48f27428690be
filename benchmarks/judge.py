"""A judge of stylised pictures that depends on no tool's settings.

Every picture is scored at one fixed evaluation size against the content photo
and the style painting with the same VGG19 features:
- content distance: relative conv4_2 feature error ``||F - P|| / ||P||``;
- Gram distance: mean over relu1_1..relu5_1 of ``||G - A||_F / ||A||_F``;
- sliced-Wasserstein distance of the same features (projected on fixed random
  directions, sorted, compared), relative to the spread of the style's projections.
Lower is better for all three.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from PIL import Image

from brushwork.media.images import resize_longest, to_tensor
from brushwork.model.losses import gram_matrix
from brushwork.model.network import load_vgg19

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "conv4_2"


class Distances(NamedTuple):
    """A picture's content distance, and its Gram and SWD distances at each style layer."""

    content: float
    gram: list[float]
    swd: list[float]


class Judge:
    def __init__(self, content: Image.Image, style: Image.Image, size: int = 512, projections: int = 64):
        self.size = size
        self.encoder = load_vgg19()
        content = resize_longest(content.convert("RGB"), size)
        self.shape = content.size
        with torch.no_grad():
            self.content = self._features(content)[CONTENT_LAYER]
            style_feats = self._features(resize_longest(style.convert("RGB"), size))
        gen = torch.Generator().manual_seed(0)
        self.directions = {}
        self.style_grams, self.style_sorted, self.style_spread = {}, {}, {}
        for layer in STYLE_LAYERS:
            f = style_feats[layer]
            c = f.shape[1]
            d = torch.randn(c, projections, generator=gen)
            self.directions[layer] = d / d.norm(dim=0, keepdim=True)
            self.style_grams[layer] = gram_matrix(f)
            proj = self._project(f, layer)
            self.style_sorted[layer] = proj.sort(dim=0).values
            self.style_spread[layer] = proj.std(dim=0).mean()

    def _features(self, image: Image.Image) -> dict[str, torch.Tensor]:
        return self.encoder(to_tensor(image), (CONTENT_LAYER, *STYLE_LAYERS))

    def _project(self, f: torch.Tensor, layer: str) -> torch.Tensor:
        points = f[0].reshape(f.shape[1], -1).T  # positions x channels
        return points @ self.directions[layer]

    @staticmethod
    def _quantiles(sorted_values: torch.Tensor, n: int) -> torch.Tensor:
        idx = torch.linspace(0, sorted_values.shape[0] - 1, n).round().long()
        return sorted_values[idx]

    @torch.no_grad()
    def layers(self, picture: Image.Image) -> Distances:
        """The content distance, and the Gram and SWD distances of each style layer (in :data:`STYLE_LAYERS` order)."""
        picture = picture.convert("RGB").resize(self.shape, Image.Resampling.LANCZOS)
        feats = self._features(picture)
        content = float((feats[CONTENT_LAYER] - self.content).norm() / self.content.norm())
        grams, swds = [], []
        for layer in STYLE_LAYERS:
            a = self.style_grams[layer]
            grams.append(float((gram_matrix(feats[layer]) - a).norm() / a.norm()))
            mine = self._project(feats[layer], layer).sort(dim=0).values
            n = min(mine.shape[0], self.style_sorted[layer].shape[0])
            diff = self._quantiles(mine, n) - self._quantiles(self.style_sorted[layer], n)
            swds.append(float(diff.pow(2).mean().sqrt() / self.style_spread[layer]))
        return Distances(content, grams, swds)

    def score(self, picture: Image.Image) -> dict[str, float]:
        """The content distance, and the Gram and SWD distances averaged over the style layers."""
        d = self.layers(picture)
        return {"content": d.content, "gram": sum(d.gram) / len(d.gram), "swd": sum(d.swd) / len(d.swd)}
