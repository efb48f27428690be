"""A clip's later frame starts from the frame before, carried along the optical flow (Ruder et al. 2016): the
carried picture, the temporal term that holds the frame to it where the flow is certain, and what came into view
since, which starts as a first frame would."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageFilter

from brushwork.core.settings import Settings
from brushwork.engine.inputs import initial_image, prepare_inputs, run_blend
from brushwork.media.flow import certainty, flow_between, inside, warp
from brushwork.media.images import Picture, to_pil, to_tensor
from brushwork.media.masks import Regions
from brushwork.model.network import VGG19
from brushwork.model.terms import Temporal

__all__ = ["CARRY_SAMPLING", "HELD_TO", "carried", "own_start", "filled"]

CARRY_SAMPLING = "cubic"  # bilinear carrying blurs the strokes a little more at every frame
HELD_TO = (1,)
"""How many frames back a frame is held to (Ruder et al.'s long-term term: a pixel uncertain in the frame before
is held to the nearest earlier one where it is certain)."""


def carried(
    history: Sequence[tuple[Image.Image, Image.Image]], photo: Image.Image, weight: float, encoder: VGG19
) -> tuple[Image.Image, Temporal, np.ndarray]:
    """The previous painted frame carried along the flow to this frame, the term holding this one to the
    frames :data:`HELD_TO` back (each pixel to the nearest of them where its flow is certain), and where the
    carried frame has no source: what came into view since the frame before."""
    device = encoder.mean.device
    target = np.zeros((photo.height, photo.width, 3), np.float32)
    sure = np.zeros((photo.height, photo.width), np.float32)
    start, uncovered = None, np.zeros((photo.height, photo.width), bool)
    for back in HELD_TO:
        if back > len(history):
            break
        before, painted = history[back - 1]
        backward = flow_between(photo, before)  # where each pixel of this frame was in that one
        warped = warp(np.asarray(painted, dtype=np.float32), backward, CARRY_SAMPLING)
        if start is None:
            start = Image.fromarray(np.clip(warped, 0, 255).round().astype(np.uint8))
            uncovered = ~inside(backward)
        new = certainty(backward, flow_between(before, photo)) * (1 - sure)
        target += new[..., None] * warped
        sure += new
    assert start is not None, "a frame is carried only when there is one before it"
    held = Image.fromarray(np.clip(target, 0, 255).round().astype(np.uint8))
    mask = torch.from_numpy(sure)[None, None].to(device)
    return start, Temporal(to_tensor(held).to(device), mask, weight), uncovered


def own_start(
    picture: Picture, styles: Sequence[Picture], settings: Settings, regions: Regions | None, device: torch.device
) -> Image.Image:
    """Where the frame would start if it were the first (by default the photo in the paintings' colours, blended
    as the run blends them; what is kept, the run itself starts as the photo)."""
    content, paintings = prepare_inputs(picture, styles, settings, picture.rgb.size, device)
    painted = [(p.shape[-1], p.shape[-2]) for p in paintings]
    parts = regions.at(picture.rgb.size, device, painted).sources if regions is not None else ()
    return to_pil(initial_image(content, paintings, run_blend(settings, len(styles), regions), settings, parts))


def filled(carried: Image.Image, uncovered: np.ndarray, own: Image.Image) -> Image.Image:
    """The carried frame with what it has no source for taken from the frame's own start: warping would only
    stretch the edge pixels into streaks, which later frames then carry on and hold to. The seam is widened by
    the cubic sampling's reach and feathered."""
    mask = Image.fromarray(uncovered.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(5))
    return Image.composite(own, carried, mask.filter(ImageFilter.GaussianBlur(1.5)))
