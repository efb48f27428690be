"""The warping error of Lai et al. (*Learning Blind Video Temporal Consistency*, ECCV 2018), on brushwork's flow.

For each pair of consecutive frames: the flow and its occlusion mask come from the *input* frames; the
next output frame is warped back onto the current one, and the masked mean squared difference (pixels
in 0-1) is the pair's error. The clip's error is the mean over pairs. On the input itself it measures
only the flow's own errors: the floor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from brushwork.media.flow import certainty, flow_between, warp


def warping_error(inputs: Sequence[Image.Image], outputs: Sequence[Image.Image], gap: int = 1) -> float:
    """Lai et al.'s error over the pairs of frames ``gap`` apart (1: consecutive, as in the paper; more: how well
    the painting holds over longer spans, through occlusions)."""
    errors = []
    for (a, b), (p, q) in zip(zip(inputs, inputs[gap:]), zip(outputs, outputs[gap:])):
        b, q = b.resize(a.size), q.resize(a.size)
        p = p.resize(a.size)
        forward = flow_between(a, b)  # where each pixel of frame t is in frame t+1
        backward = flow_between(b, a)
        mask = certainty(forward, backward)[..., None]
        now = np.asarray(p, dtype=np.float32) / 255
        after = warp(np.asarray(q, dtype=np.float32) / 255, forward)
        errors.append(float((mask * (now - after) ** 2).sum() / max(1.0, mask.sum() * 3)))
    return float(np.mean(errors))
