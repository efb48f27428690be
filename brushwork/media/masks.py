"""Regions of the photo: where each painting applies, and what is kept as it is (Gatys et al. 2017).

A mask is a greyscale picture the photo's shape: white where its painting applies, black where it
does not, grey on a soft edge. One mask per painting, or one colour-coded map whose colours name the
paintings; a ``keep`` mask holds a region (a face, a logo) close to the photo. Where no painting's
mask covers a pixel, the photo is kept there too: painting a region means painting only it.
Masks are checked here, before any work, so a bad one is refused in one line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from brushwork.core.errors import ImageError
from brushwork.media.images import open_image

__all__ = [
    "Regions",
    "LevelRegions",
    "RegionFiles",
    "load_mask",
    "mask_of",
    "masks_from_map",
    "parse_colour",
    "regions_for",
    "layer_mask",
]

ASPECT_SLACK = 0.01
"""A mask whose aspect differs from the photo's by more than this share is refused rather than stretched."""
OVERLAP_SLACK = 2 / 255
"""How far masks may add up past 1 (rounding on soft edges) before they are refused as overlapping."""
MAP_TOLERANCE = 24
"""How far (per channel, 0-255) a region map's pixel may be from a named colour and still be that region:
a map saved as JPEG blurs its colours a little."""


@dataclass(frozen=True)
class Regions:
    """Masks at the photo's size, 0-1: one per painting (None: the paintings blended over the whole
    picture), and what is kept (None: nothing)."""

    paint: tuple[np.ndarray, ...] | None
    keep: np.ndarray | None
    notes: tuple[str, ...] = ()
    """What was done to the masks that the user should hear of (a resize)."""

    def kept(self) -> np.ndarray | None:
        """Where the photo is kept: the keep mask, and wherever no painting's mask reaches (None: nowhere)."""
        uncovered = None if self.paint is None else np.clip(1.0 - sum(self.paint), 0.0, 1.0)
        if uncovered is not None and uncovered.max() < 1 / 255:  # the paintings' masks cover the whole photo
            uncovered = None
        if uncovered is None or self.keep is None:
            return uncovered if self.keep is None else self.keep
        return np.maximum(self.keep, uncovered)

    def at(self, size: tuple[int, int], device: torch.device) -> LevelRegions:
        """The masks at a level's ``(width, height)``, as ``(1, 1, H, W)`` tensors; what is kept takes no style."""
        kept = self.kept()
        keep = None if kept is None else _tensor(kept, size, device)
        if self.paint is not None:
            free = 1.0 if self.keep is None else 1.0 - _tensor(self.keep, size, device)
            return LevelRegions(tuple(_tensor(mask, size, device) * free for mask in self.paint), keep)
        return LevelRegions(None if keep is None else (1.0 - keep,), keep)


@dataclass(frozen=True)
class LevelRegions:
    """:class:`Regions` at one level's size, ``(1, 1, H, W)``: ``paint`` one mask per painting, or one for the
    paintings' blend (when only ``keep`` is given), or None (the blend everywhere)."""

    paint: tuple[torch.Tensor, ...] | None
    keep: torch.Tensor | None


def _tensor(mask: np.ndarray, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    picture = Image.fromarray((mask * 255).round().astype(np.uint8), "L").resize(size, Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255.0)[None, None].to(device)


def _fitted(image: Image.Image, name: str, photo: tuple[int, int], notes: list[str]) -> Image.Image:
    """``image`` at the photo's size: resized (with a note) when only its size differs, refused when its shape does."""
    if image.size == photo:
        return image
    aspect, wanted = image.width / image.height, photo[0] / photo[1]
    if abs(aspect / wanted - 1) > ASPECT_SLACK:
        raise ImageError(
            f"mask {name} is {image.width}x{image.height}, not the photo's shape ({photo[0]}x{photo[1]}); "
            "draw it on the photo itself, or crop it to the photo's shape"
        )
    notes.append(f"mask {name} is {image.width}x{image.height}: resized to the photo's {photo[0]}x{photo[1]}")
    return image.resize(photo, Image.Resampling.BILINEAR)


def load_mask(path: str | os.PathLike, photo: tuple[int, int], notes: list[str], role: str = "mask") -> np.ndarray:
    """A mask file as 0-1 floats at the photo's ``(width, height)``: its grey level (or its alpha, if it has one)."""
    return mask_of(open_image(path, role), Path(path).name, photo, notes, role)


def mask_of(image: Image.Image, name: str, photo: tuple[int, int], notes: list[str], role: str = "mask") -> np.ndarray:
    """An image as a mask (see :func:`load_mask`); an empty one is refused."""
    has_alpha = image.mode in ("RGBA", "LA") and image.getextrema()[-1] != (255, 255)
    grey = image.getchannel("A") if has_alpha else image
    mask = np.asarray(_fitted(grey.convert("L"), name, photo, notes), dtype=np.float32) / 255.0
    if mask.max() < 1 / 255:
        raise ImageError(f"{role} {name} is empty (all black); paint the region it covers white")
    return mask


def parse_colour(text: str) -> tuple[int, int, int]:
    """``#rrggbb`` (or ``rrggbb``) as an RGB triple; anything else is an :class:`ImageError` line."""
    digits = text.strip().removeprefix("#")
    if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ImageError(f"region colour {text!r} is not a colour like #0000ff")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def masks_from_map(
    path: str | os.PathLike, colours: Sequence[tuple[int, int, int]], photo: tuple[int, int], notes: list[str]
) -> list[np.ndarray]:
    """One mask per colour from a colour-coded map (hard edges: a pixel is the region of the colour it is nearest,
    within :data:`MAP_TOLERANCE`; other pixels are no region's)."""
    name = Path(path).name
    rgb = _fitted(open_image(path, "region map").convert("RGB"), name, photo, notes)
    pixels = np.asarray(rgb, dtype=np.int16)
    distances = np.stack([np.abs(pixels - np.array(c, dtype=np.int16)).max(axis=-1) for c in colours])
    nearest = distances.argmin(axis=0)
    masks = []
    for index, colour in enumerate(colours):
        mask = ((nearest == index) & (distances[index] <= MAP_TOLERANCE)).astype(np.float32)
        if not mask.any():
            raise ImageError(f"region map {name} has no pixel of colour #{bytes(colour).hex()}; check the colours")
        masks.append(mask)
    return masks


def regions_for(
    photo: tuple[int, int],
    paintings: int,
    masks: Sequence[np.ndarray] | None,
    keep: np.ndarray | None,
    names: Sequence[str],
    notes: Sequence[str] = (),
) -> Regions:
    """Check masks against the paintings and each other: one mask per painting, and no pixel where they add up
    to more than 1. ``names`` are the masks' names, for the errors."""
    if masks is not None:
        if len(masks) != paintings:
            more = "more masks than paintings" if len(masks) > paintings else "fewer masks than paintings"
            raise ImageError(f"{more} ({len(masks)} masks, {paintings} paintings); give one mask per painting")
        total = sum(masks)
        over = total > 1 + OVERLAP_SLACK
        if isinstance(over, np.ndarray) and over.any():
            raise ImageError(
                f"masks {', '.join(names)} overlap: they add up to more than 1 at {int(over.sum())} pixels; "
                "each pixel may belong to at most one painting in all"
            )
    assert all(m.shape == (photo[1], photo[0]) for m in [*(masks or []), *([keep] if keep is not None else [])])
    return Regions(tuple(masks) if masks is not None else None, keep, tuple(notes))


def layer_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A ``(1, 1, H, W)`` mask averaged down to a layer's features' ``(width, height)``."""
    return F.adaptive_avg_pool2d(mask, (size[1], size[0]))


@dataclass(frozen=True)
class RegionFiles:
    """The files a run's regions come from, as given: a mask per painting or a colour-coded map with a colour per
    painting, and a keep mask. What recipes record and reruns read back."""

    masks: tuple[Path, ...] = ()
    region_map: Path | None = None
    colours: tuple[str, ...] = ()
    keep: Path | None = None

    def __bool__(self) -> bool:
        return bool(self.masks or self.region_map or self.keep)

    def inputs(self) -> list[tuple[str, Path]]:
        """(role, file) of each file, in the order a recipe lists them."""
        found = [("mask", path) for path in self.masks]
        found += [("region map", self.region_map)] if self.region_map is not None else []
        return found + ([("keep", self.keep)] if self.keep is not None else [])

    def moved(self, paths: Sequence[Path]) -> RegionFiles:
        """The same regions read from other files: ``paths`` in the order of :meth:`inputs` (copies on a worker)."""
        given = iter(paths)
        masks = tuple(next(given) for _ in self.masks)
        region_map = next(given) if self.region_map is not None else None
        return RegionFiles(masks, region_map, self.colours, next(given) if self.keep is not None else None)

    def load(self, photo: tuple[int, int], paintings: int) -> Regions:
        """The checked :class:`Regions` for a photo of ``(width, height)`` px and ``paintings`` paintings."""
        notes: list[str] = []
        masks: list[np.ndarray] | None = None
        names = [path.name for path in self.masks]
        if self.masks and self.region_map is not None:
            raise ImageError("give masks or a region map, not both")
        if self.masks:
            masks = [load_mask(path, photo, notes) for path in self.masks]
        elif self.region_map is not None:
            masks = masks_from_map(self.region_map, [parse_colour(c) for c in self.colours], photo, notes)
            names = [f"{self.region_map.name} {colour}" for colour in self.colours]
        keep = load_mask(self.keep, photo, notes, "keep mask") if self.keep is not None else None
        return regions_for(photo, paintings, masks, keep, names, notes)
