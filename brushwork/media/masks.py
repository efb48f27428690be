"""Regions of the photo: where each painting applies, and what is kept as it is (Gatys et al. 2017).

A mask is a greyscale picture the photo's shape: white where its painting applies, black where it
does not, grey on a soft edge. One mask per painting, or one colour-coded map whose colours name the
paintings; a ``keep`` mask holds a region (a face, a logo) close to the photo. Where no painting's
mask covers a pixel, the photo is kept there too: painting a region means painting only it. A
painting may have a mask of its own, drawn on the painting: the part of it whose style is learnt
(its sky only, say), the rest of it unseen.
Masks are checked here, before any work, so a bad one is refused in one line.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageColor

from brushwork.core.errors import ImageError
from brushwork.core.words import count
from brushwork.media.images import Picture, colourless, open_image, rgb_and_alpha

__all__ = [
    "Regions",
    "LevelRegions",
    "RegionFiles",
    "mask_of",
    "masks_of",
    "opened",
    "masks_from_map",
    "parse_colour",
    "regions_for",
    "regions_with",
    "refuse_twice",
    "load_regions",
    "layer_mask",
    "resize_mask",
    "check_painting_masks",
    "ASPECT_SLACK",
    "WHITE_MEANS",
    "with_paintings_alpha",
]

ASPECT_SLACK = 0.01
"""A mask whose aspect differs from the photo's by more than this share is refused rather than stretched."""
OVERLAP_SLACK = 2 / 255
"""How far masks may add up past 1 (rounding on soft edges) before they are refused as overlapping."""
MAP_TOLERANCE = 24
"""How far (per channel, 0-255) a region map's pixel may be from a named colour and still be that region:
a map saved as JPEG blurs its colours a little."""
MIX_TOLERANCE = 2 * MAP_TOLERANCE
"""How far (per channel) a region map's edge pixel may be from the line between two regions' colours and still be
their mix: a JPEG's colours, subsampled, blend less evenly than light does."""
EDGE_REACH = 4
"""How far (in the map's own pixels) a region map's edge may blur its colours: half a JPEG block."""
UNNAMED_NOTED = 0.01
"""A share of a region map in colours no region names that is worth a note (less is a stray stroke's edge)."""
BLEND_UNUSED = "the style blend does not apply with a mask per painting: each painting paints only its own region"


@dataclass(frozen=True)
class Regions:
    """Masks at the photo's size, 0-1: one per painting (None: the paintings blended over the whole
    picture), and what is kept (None: nothing); and each painting's own mask at its size (None: all of it)."""

    paint: tuple[np.ndarray, ...] | None
    keep: np.ndarray | None
    notes: tuple[str, ...] = ()
    """What was done to the masks that the user should hear of (a resize)."""
    sources: tuple[np.ndarray | None, ...] = ()
    """Per painting, the part of it to learn its style from (empty, or None for one: all of it)."""

    def kept(self) -> np.ndarray | None:
        """Where the photo is kept: the keep mask, and wherever no painting's mask reaches (None: nowhere)."""
        uncovered = None if self.paint is None else np.clip(1.0 - sum(self.paint), 0.0, 1.0)
        if uncovered is not None and uncovered.max() < 1 / 255:  # the paintings' masks cover the whole photo
            uncovered = None
        if uncovered is None or self.keep is None:
            return uncovered if self.keep is None else self.keep
        return np.maximum(self.keep, uncovered)

    def at(
        self, size: tuple[int, int], device: torch.device, paintings: Sequence[tuple[int, int]] = ()
    ) -> LevelRegions:
        """The masks at a level's ``(width, height)``, as ``(1, 1, H, W)`` tensors (what is kept takes no style),
        and the paintings' own at the paintings' sizes there."""
        kept = self.kept()
        keep = None if kept is None else _tensor(kept, size, device)
        sources = tuple(
            None if mask is None else _tensor(mask, wh, device) for mask, wh in zip(self.sources, paintings)
        )
        if self.paint is not None:
            free = 1.0 if self.keep is None else 1.0 - _tensor(self.keep, size, device)
            return LevelRegions(tuple(_tensor(mask, size, device) * free for mask in self.paint), keep, sources)
        return LevelRegions(None if keep is None else (1.0 - keep,), keep, sources)


@dataclass(frozen=True)
class LevelRegions:
    """:class:`Regions` at one level's size, ``(1, 1, H, W)``: ``paint`` one mask per painting, or one for the
    paintings' blend (when only ``keep`` is given), or None (the blend everywhere); ``sources`` the paintings'
    own masks at their sizes (empty, or None for one: all of it)."""

    paint: tuple[torch.Tensor, ...] | None
    keep: torch.Tensor | None
    sources: tuple[torch.Tensor | None, ...] = ()

    def source(self, index: int) -> torch.Tensor | None:
        """The ``index``-th painting's own mask (None: all of it)."""
        return self.sources[index] if index < len(self.sources) else None


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A 0-1 mask at ``size`` (width, height), resized as an 8-bit picture (bilinear): soft edges stay soft."""
    picture = Image.fromarray((np.clip(mask, 0, 1) * 255).round().astype(np.uint8), "L")
    return np.asarray(picture.resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255.0


def _tensor(mask: np.ndarray, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    return torch.from_numpy(resize_mask(mask, size))[None, None].to(device)


def _label(role: str, name: str) -> str:
    """``keep mask face.png``; the role alone for a mask with no file name (one given in memory)."""
    return f"{role} {name}" if name else role


def _fitted(
    image: Image.Image, name: str, photo: tuple[int, int], notes: list[str], role: str = "mask", on: str = "photo"
) -> Image.Image:
    """``image`` (a ``role``: mask, keep mask, region map...) at the size of the picture it is drawn ``on`` (the
    photo, or a painting of that size): resized (with a note) when only its size differs, refused when its shape
    does. A map's colours are not blended; a black-and-white mask's blurred edge is hardened by the caller."""
    if image.size == photo:
        return image
    aspect, wanted = image.width / image.height, photo[0] / photo[1]
    if abs(aspect / wanted - 1) > ASPECT_SLACK:
        raise ImageError(
            f"{_label(role, name)} is {image.width}x{image.height}, not the {on}'s shape ({photo[0]}x{photo[1]}); "
            f"draw it on the {on} itself, or crop it to the {on}'s shape"
        )
    notes.append(f"{_label(role, name)} is {image.width}x{image.height}: {RESIZED} {on}'s {photo[0]}x{photo[1]}")
    return image.resize(photo, Image.Resampling.NEAREST if role == "region map" else Image.Resampling.BILINEAR)


RESIZED = "resized to the"
"""What the note on a resized mask says, and how a refusal tells that one was resized."""


def _resized(notes: Sequence[str]) -> bool:
    return any(f": {RESIZED} " in note for note in notes)


def _black_and_white(image: Image.Image) -> bool:
    """Whether a greyscale picture holds black and white alone: a mask with hard edges, which keeps them resized."""
    return image.mode == "L" and set(image.histogram()[1:255]) == {0}


def opened(path: str | os.PathLike, role: str = "mask", name: str | None = None) -> tuple[Image.Image, str]:
    """A mask file's image and what it is called (``name``, an upload's own; by default its file name)."""
    return open_image(path, role, shown=None if name is None else repr(name)), name or Path(path).name


def mask_of(
    image: Image.Image, name: str, photo: tuple[int, int], notes: list[str], role: str = "mask", on: str = "photo"
) -> np.ndarray:
    """An image as a mask: 0-1 floats at the ``(width, height)`` of the picture it is drawn ``on``, its grey
    level (or its alpha, if it has one); an empty one is refused. On a painting, one all white is all of it, whatever
    its shape (the studio sends a painting learnt from whole so, without reading the painting); on the photo, its
    shape is checked like any mask's. One of black and white alone stays so resized."""
    return masks_of([(image, name)], photo, notes, role, on)[0]


def masks_of(
    images: Sequence[tuple[Image.Image, str]],
    photo: tuple[int, int],
    notes: list[str],
    role: str = "mask",
    on: str = "photo",
) -> list[np.ndarray]:
    """Images, with their names, as masks (see :func:`mask_of`), their black-and-white ones hardened together: a
    pixel where their resized edges blur goes to the one that covers most of it (to none where they cover under
    half of it in all). Masks that meet at their own sizes so meet at the photo's, with no pixel row of overlap
    or of gap between them, though each was drawn at another size."""
    drawn = [_drawn(image, name, photo, notes, role, on) for image, name in images]
    hard = [index for index, (_, black_and_white) in enumerate(drawn) if black_and_white]
    masks = [mask for mask, _ in drawn]
    if hard:
        for index, mask in zip(hard, _hardened([masks[i] for i in hard])):
            masks[index] = mask
    for mask, (_, name) in zip(masks, images):
        if mask.max() < 1 / 255:
            raise ImageError(f"{_label(role, name)} is empty (all black); paint the region it covers white")
    return masks


def _drawn(
    image: Image.Image, name: str, photo: tuple[int, int], notes: list[str], role: str, on: str
) -> tuple[np.ndarray, bool]:
    """An image's grey level (or alpha) as 0-1 floats at ``photo``'s size, and whether it is black and white alone
    (its resized edge then still blurred)."""
    rgb, alpha = rgb_and_alpha(image)  # a 16-bit grey's soft edge kept, a palette's transparency as alpha
    grey = alpha if alpha is not None else rgb.convert("L")
    if on == "painting" and grey.getextrema() == (255, 255):
        return np.ones(photo[::-1], dtype=np.float32), False
    if alpha is None and not colourless(rgb):  # a photo given for a mask, or regions told apart by colour
        white = WHITE_MEANS.get(role, WHITE_MEANS["mask"])
        notes.append(
            f"{_label(role, name)} is in colour: read by its brightness (white {white} in full, black not at all); "
            "draw a mask in greys, or give regions of colours as a region map"
        )
    grey = _label_map_stretched(grey.convert("L"), _label(role, name), notes)
    mask = np.asarray(_fitted(grey, name, photo, notes, role, on), dtype=np.float32) / 255.0
    if 1 / 255 <= mask.max() < DIM:
        notes.append(
            f"{_label(role, name)} is at most {mask.max():.0%} white: its part is painted that weakly; white (255) "
            "is a part painted in full"
        )
    return mask, _black_and_white(grey)


def _hardened(blurred: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Black-and-white masks whose resized edges blur, black and white again, together: white where one is
    white all through; elsewhere, the one that covers most of a pixel takes it, if they cover half of it in all
    or if it is on a seam (a blurred pixel that two masks reach, within a pixel: drawn on different grids, masks
    that meet are up to a pixel of either grid apart). Where two are white all through they stay so (and are
    refused as overlapping)."""
    stacked = np.stack(blurred)
    whole = stacked >= 1 - 0.5 / 255
    near = F.max_pool2d(torch.from_numpy(stacked)[None], 3, stride=1, padding=1)[0].numpy() > 0
    seam = ((stacked > 0) & ~whole).any(axis=0) & (near.sum(axis=0) >= 2)
    claimed = ((stacked.sum(axis=0) >= 0.5) | seam) & ~whole.any(axis=0)
    most = stacked.argmax(axis=0) == np.arange(len(blurred))[:, None, None]
    return list((whole | (most & claimed)).astype(np.float32))


WHITE_MEANS = {"mask": "painted", "keep mask": "kept as the photo", "painting mask": "learnt from"}
"""What a mask's white does, by the mask's role."""
DIM = 0.5
"""A mask whose whitest pixel is under this is noted: painted that weakly, which is seldom what was meant."""


def _label_map_stretched(grey: Image.Image, label: str, notes: list[str]) -> Image.Image:
    """A mask of the values 0 and 1 alone, as segmentation tools write a label map, as black and white (read as
    it is, it would be painted at 1/255: not at all)."""
    counts = grey.histogram()
    if counts[1] and not any(counts[2:]):
        notes.append(f"{label} holds only the values 0 and 1 (a label map): read as black and white")
        return grey.point(lambda v: 255 * v)
    return grey


def _settle_edges(labels: np.ndarray, pixels: np.ndarray, colours: Sequence[tuple[int, int, int]], reach: int) -> None:
    """Give a region to the pixels of an edge between two regions where a JPEG or a soft brush mixed their colours:
    a pixel of no named colour, within ``reach`` pixels of both regions, whose colour lies between theirs (within
    :data:`MIX_TOLERANCE` of the line that joins them) goes to the nearer of the two. A strip or a part drawn in a
    colour no region names is no such mix, and keeps every pixel. ``labels`` (each pixel's region, -1 for none) is
    changed in place."""
    rows, columns = np.nonzero(labels < 0)
    if not len(rows) or len(colours) < 2:
        return
    near = np.stack([_near(labels == index, rows, columns, reach) for index in range(len(colours))])
    mixed = pixels[rows, columns].astype(np.float32)
    best = np.full(len(rows), MIX_TOLERANCE + 0.5, np.float32)  # the distance of a mix from its line, at most this
    chosen = np.full(len(rows), -1)
    for first, second in itertools.combinations(range(len(colours)), 2):
        start, span = np.array(colours[first], np.float32), np.subtract(colours[second], colours[first])
        share = np.clip((mixed - start) @ span / float(span @ span), 0.0, 1.0)
        off = np.abs(mixed - (start + share[:, None] * span)).max(axis=-1)
        closer = near[first] & near[second] & (off < best)
        best[closer] = off[closer]
        chosen[closer] = np.where(share[closer] < 0.5, first, second)
    settled = chosen >= 0
    labels[rows[settled], columns[settled]] = chosen[settled]


def _near(mask: np.ndarray, rows: np.ndarray, columns: np.ndarray, reach: int) -> np.ndarray:
    """Whether ``mask`` holds a pixel within ``reach`` pixels (a square's) of each of the pixels at ``rows`` and
    ``columns``: its count there, from the mask's summed-area table."""
    table = np.pad(mask.astype(np.int32).cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    height, width = mask.shape
    top, bottom = np.maximum(rows - reach, 0), np.minimum(rows + reach + 1, height)
    left, right = np.maximum(columns - reach, 0), np.minimum(columns + reach + 1, width)
    return (table[bottom, right] - table[top, right] - table[bottom, left] + table[top, left]) > 0


def parse_colour(text: str) -> tuple[int, int, int]:
    """A colour as CSS writes it (``#0000ff``, ``#00f``, ``blue``, ``rgb(0,0,255)``; the ``#`` may be left out of
    hex digits) as an RGB triple; anything else is an :class:`ImageError` line."""
    given = text.strip()
    hexadecimal = len(given) in (3, 6) and all(c in "0123456789abcdefABCDEF" for c in given)
    try:
        red, green, blue = ImageColor.getrgb(f"#{given}" if hexadecimal else given)[:3]
    except ValueError:
        raise ImageError(f"region colour {text!r} is not a colour like #0000ff, #00f or blue") from None
    return red, green, blue


def masks_from_map(
    path: str | os.PathLike,
    colours: Sequence[tuple[int, int, int]],
    photo: tuple[int, int],
    notes: list[str],
    on: str = "photo",
) -> list[np.ndarray]:
    """One mask per colour from a colour-coded map (hard edges: a pixel is the region of the colour it is nearest,
    within :data:`MAP_TOLERANCE`, or, on an edge between two regions that a JPEG or a soft brush blurred, of the
    nearer of them; other pixels are no region's; a map of another size is resized without blending its colours)."""
    name = Path(path).name
    twice = next((c for c in colours if list(colours).count(c) > 1), None)
    if twice is not None:
        raise ImageError(f"region colour #{bytes(twice).hex()} is given twice; give each painting its own colour")
    drawn = open_image(path, "region map").convert("RGB")
    reach = math.ceil(EDGE_REACH * max(photo[0] / drawn.width, 1.0))  # a map enlarged to the photo: its edges too
    rgb = _fitted(drawn, name, photo, notes, "region map", on)
    pixels = np.asarray(rgb, dtype=np.int16)
    distances = np.stack([np.abs(pixels - np.array(c, dtype=np.int16)).max(axis=-1) for c in colours])
    labels = np.where(distances.min(axis=0) <= MAP_TOLERANCE, distances.argmin(axis=0), -1)
    _settle_edges(labels, pixels, colours, reach)
    masks = []
    for index, colour in enumerate(colours):
        mask = (labels == index).astype(np.float32)
        if not mask.any():
            raise ImageError(f"region map {name} has no pixel of colour #{bytes(colour).hex()}; check the colours")
        masks.append(mask)
    unnamed = pixels[sum(masks) == 0]
    if len(unnamed) >= UNNAMED_NOTED * labels.size:  # a forgotten region, or a colour mistyped
        packed = (unnamed[:, 0].astype(np.int32) << 16) | (unnamed[:, 1].astype(np.int32) << 8) | unnamed[:, 2]
        values, counts = np.unique(packed, return_counts=True)
        common = int(values[counts.argmax()])
        notes.append(
            f"{len(unnamed) / labels.size:.0%} of region map {name} is colours no region names (mostly "
            f"#{common:06x}): kept as the photo"
        )
    return masks


def regions_for(
    photo: tuple[int, int],
    paintings: int,
    masks: Sequence[np.ndarray] | None,
    keep: np.ndarray | None,
    names: Sequence[str],
    notes: Sequence[str] = (),
    sources: Sequence[np.ndarray | None] = (),
    blend: Sequence[float] | None = None,
) -> Regions:
    """Check masks against the paintings and each other: one mask per painting, and no pixel where they add up
    to more than 1; the paintings' own masks (``sources``), one per painting if any. ``names`` are the masks'
    names, for the errors; a ``blend`` given beside a mask per painting is noted as unused."""
    if masks is not None:
        if len(masks) != paintings:
            more = "more masks than paintings" if len(masks) > paintings else "fewer masks than paintings"
            raise ImageError(
                f"{more} ({count(len(masks), 'mask')}, {count(paintings, 'painting')}); give one mask per painting"
            )
        total = sum(masks)
        over = total > 1 + OVERLAP_SLACK
        if isinstance(over, np.ndarray) and over.any():
            raise ImageError(
                f"masks {', '.join(names)} overlap: they add up to more than 1 at {int(over.sum())} pixels; "
                "each pixel may belong to at most one painting in all"
                + ("; draw the masks at the photo's size, as resizing moves their edges" if _resized(notes) else "")
            )
    if sources:
        check_painting_masks(len(sources), paintings)
    notes = [*notes, *_small_regions(masks or [], names)]
    if masks is not None and len(masks) == 1 and masks[0].min() > 1 - 1 / 255:
        masks = None  # one painting over all of the photo: the run without masks
    painted = sum(masks) if masks is not None else np.ones((photo[1], photo[0]), dtype=np.float32)
    if keep is not None and (painted * (1 - keep)).max() < 1 / 255:
        raise ImageError("the keep mask covers all that the paintings would paint: nothing is left; keep less")
    assert all(m.shape == (photo[1], photo[0]) for m in [*(masks or []), *([keep] if keep is not None else [])])
    if masks is not None and blend is not None and paintings > 1:
        notes = [*notes, BLEND_UNUSED]
    return Regions(tuple(masks) if masks is not None else None, keep, tuple(notes), tuple(sources))


def _small_regions(masks: Sequence[np.ndarray], names: Sequence[str]) -> list[str]:
    """A note for each region under :data:`SMALLEST_PART` of the photo: painted, but its painting's statistics
    come from a few features of the deep layers there, so little of its style shows."""
    return [
        f"mask {name} covers {mask.mean():.1%} of the photo: a region this small takes little of its painting's "
        "style; paint a larger region, or the picture larger"
        for mask, name in zip(masks, names)
        if 0 < mask.mean() < SMALLEST_PART
    ]


def with_paintings_alpha(regions: Regions | None, paintings: Sequence[Picture]) -> Regions | None:
    """A painting's transparent part is none of the painting (the colours stored under it are arbitrary): its alpha
    is the part of it to learn from, within its own mask if it has one."""
    alphas = [None if p.alpha is None else np.asarray(p.alpha, dtype=np.float32) / 255.0 for p in paintings]
    alphas = [None if a is None or a.min() == 1.0 else a for a in alphas]
    own = (regions.sources if regions is not None else ()) or (None,) * len(paintings)
    parts = tuple(a if mask is None else mask if a is None else mask * a for mask, a in zip(own, alphas))
    for painting, part, mask in zip(paintings, parts, own):
        _check_part(painting.name, part, mask is not None)
    if not any(a is not None for a in alphas):
        return regions
    return replace(regions if regions is not None else Regions(None, None), sources=parts)


SMALLEST_PART = 0.01
"""The least share of a painting its style is learnt from: a dab of it (a 40 px disc of a 1024 px painting, 0.2%)
holds a stroke or two, whose statistics, matched everywhere, paint over the whole photo."""


def _check_part(name: str, part: np.ndarray | None, masked: bool) -> None:
    """Refuse a part of a painting (its mask, its opaque pixels) with nothing, or too little, to learn from."""
    if part is None:
        return
    if part.max() < 1 / 255:
        where = "its mask covers only its transparent part" if masked else "it is transparent all over"
        raise ImageError(f"the painting {name}: {where}; there is nothing to learn from")
    if part.mean() < SMALLEST_PART:
        what = "the part of it to learn from" if masked else "what of it is not transparent"
        raise ImageError(
            f"the painting {name}: {what} is {part.mean():.1%} of it, too little to learn its style from (its "
            f"statistics would paint over the whole photo); give at least {SMALLEST_PART:.0%} of it"
        )


def load_regions(
    files: RegionFiles | None,
    photo: tuple[int, int],
    paintings: Sequence[Picture],
    on: str = "photo",
    blend: Sequence[float] | None = None,
) -> Regions | None:
    """A run's checked masks from its region files (None without any), for a photo (or a clip's frame, ``on``) of
    ``(width, height)`` px and those paintings (see :meth:`RegionFiles.load`); a painting with nothing opaque to
    learn from is refused here too, before any plan or work."""
    masks = files.load(photo, [p.rgb.size for p in paintings], on, blend) if files else None
    with_paintings_alpha(masks, paintings)
    return masks


def check_painting_masks(masks: int, paintings: int) -> None:
    """Refuse painting masks that are not one per painting."""
    if masks != paintings:
        more = "more" if masks > paintings else "fewer"
        raise ImageError(
            f"{more} painting masks than paintings "
            f"({count(masks, 'painting mask')}, {count(paintings, 'painting')}); "
            "give one painting mask per painting, in the paintings' order"
        )


def refuse_twice(masks: Sequence[Path], called: Mapping[Path, str] | None = None) -> None:
    """Refuse a mask file given for two paintings (their regions would overlap all over), by what it is called."""
    twice = next((path for path in masks if masks.count(path) > 1), None)
    if twice is not None:
        name = (called or {}).get(twice, twice.name)
        raise ImageError(f"mask {name} is given twice; give each painting its own mask")


def regions_with(
    photo: tuple[int, int],
    paintings: Sequence[tuple[int, int]],
    masks: Sequence[np.ndarray] | None,
    names: Sequence[str],
    keep: tuple[Image.Image, str] | None,
    painting_masks: Sequence[tuple[Image.Image, str]],
    notes: list[str],
    on: str = "photo",
    blend: Sequence[float] | None = None,
) -> Regions:
    """The checked :class:`Regions` of a photo of ``(width, height)`` px and paintings of those sizes, from its
    masks read (called ``names``), its keep mask and paintings' own masks as opened (each a picture and what it is
    called): what files and pictures in memory both come to."""
    kept = None if keep is None else mask_of(*keep, photo, notes, "keep mask", on)
    if painting_masks:
        check_painting_masks(len(painting_masks), len(paintings))
    sources = [
        mask_of(image, name, size, notes, "painting mask", "painting")
        for (image, name), size in zip(painting_masks, paintings)
    ]
    return regions_for(photo, len(paintings), masks, kept, names, notes, sources, blend)


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
    painting_masks: tuple[Path, ...] = ()
    """One per painting, drawn on it: the part of it to learn from."""

    def __bool__(self) -> bool:
        return bool(self.masks or self.region_map or self.keep or self.painting_masks)

    def inputs(self) -> list[tuple[str, Path]]:
        """(role, file) of each file, in the order a recipe lists them."""
        found = [("mask", path) for path in self.masks]
        found += [("region map", self.region_map)] if self.region_map is not None else []
        found += [("keep", self.keep)] if self.keep is not None else []
        return found + [("painting mask", path) for path in self.painting_masks]

    @classmethod
    def from_inputs(cls, found: Iterable[tuple[str, Path]], colours: Sequence[str] = ()) -> RegionFiles:
        """The regions among (role, file) pairs, as :meth:`inputs` lists them (other roles are left out)."""
        by_role: dict[str, list[Path]] = {}
        for role, path in found:
            by_role.setdefault(role, []).append(path)
        region_map, keep = by_role.get("region map", []), by_role.get("keep", [])
        return cls(
            tuple(by_role.get("mask", [])),
            region_map[0] if region_map else None,
            tuple(colours),
            keep[0] if keep else None,
            tuple(by_role.get("painting mask", [])),
        )

    def moved(self, paths: Sequence[Path]) -> RegionFiles:
        """The same regions read from other files: ``paths`` in the order of :meth:`inputs` (copies on a worker)."""
        given = iter(paths)
        masks = tuple(next(given) for _ in self.masks)
        region_map = next(given) if self.region_map is not None else None
        keep = next(given) if self.keep is not None else None
        return RegionFiles(masks, region_map, self.colours, keep, tuple(next(given) for _ in self.painting_masks))

    def load(
        self,
        photo: tuple[int, int],
        paintings: Sequence[tuple[int, int]],
        on: str = "photo",
        blend: Sequence[float] | None = None,
        names: Mapping[Path, str] | None = None,
    ) -> Regions:
        """The checked :class:`Regions` for a photo of ``(width, height)`` px and paintings of those sizes; ``on``
        names the picture the masks are drawn on in what is said (a clip's ``frame``); ``blend``, the run's style
        blend, is noted as unused beside a mask per painting; ``names``, what a file is called in what is said (the
        studio's uploads: the names their senders gave)."""
        notes: list[str] = []
        masks: list[np.ndarray] | None = None
        called = dict(names or {})
        shown = [called.get(path, path.name) for path in self.masks]
        if self.masks and self.region_map is not None:
            raise ImageError("give masks or a region map, not both")
        refuse_twice(self.masks, called)
        if self.masks:
            masks = masks_of([opened(path, name=called.get(path)) for path in self.masks], photo, notes, on=on)
        elif self.region_map is not None:
            masks = masks_from_map(self.region_map, [parse_colour(c) for c in self.colours], photo, notes, on)
            shown = [f"{self.region_map.name} {colour}" for colour in self.colours]
        if self.painting_masks:  # before reading any of them
            check_painting_masks(len(self.painting_masks), len(paintings))
        keep = None if self.keep is None else opened(self.keep, "keep mask", called.get(self.keep))
        own = [opened(path, "painting mask", called.get(path)) for path in self.painting_masks]
        return regions_with(photo, paintings, masks, shown, keep, own, notes, on, blend)
