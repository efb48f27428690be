"""Optical flow between video frames, warping by it, and where it can be trusted (OpenCV's DIS flow).

Following Ruder et al. (*Artistic style transfer for videos*, GCPR 2016): a frame is painted
starting from the previous painted frame warped along the flow, and held to it where the flow is
certain. Certainty is 0 where the forward and backward flows disagree (the point was occluded or
newly uncovered) and at motion boundaries, 1 elsewhere.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

__all__ = ["flow_between", "warp", "certainty", "inside"]


def _grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.uint8)


def flow_between(source: Image.Image, target: Image.Image) -> np.ndarray:
    """Dense flow ``(H, W, 2)`` from ``source`` to ``target``: the pixel at ``x`` in ``source`` is at
    ``x + flow[x]`` in ``target`` (DIS, medium preset: fast on a CPU)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    return dis.calc(_grey(source), _grey(target), None)


_SAMPLING = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}


def warp(image: np.ndarray, flow: np.ndarray, sampling: str = "linear") -> np.ndarray:
    """``image`` (``(H, W)`` or ``(H, W, C)``) sampled at ``x + flow[x]``: with the flow from frame t to frame
    t-1, it brings frame t-1's picture to where things are in frame t.

    ``sampling="cubic"`` for a painted frame carried from frame to frame: linear sampling blurs a little at
    each step, and over a clip the strokes fade (measured in benchmarks/explore_video_warp.py)."""
    height, width = flow.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(width), np.arange(height)), axis=-1).astype(np.float32)
    where = grid + flow
    return cv2.remap(image, where[..., 0], where[..., 1], _SAMPLING[sampling], borderMode=cv2.BORDER_REPLICATE)


def certainty(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where the flow ``backward`` (frame t to t-1) can be trusted, as ``(H, W)`` float32 0 or 1.

    ``forward`` is the flow from t-1 to t. A point followed back and forth must come home
    (Ruder et al.'s thresholds); motion boundaries, where the flow's gradient is large, are
    uncertain too, as is a point whose flow leaves the frame.
    """
    there = warp(forward, backward)  # the forward flow at where each point of frame t was in frame t-1
    mismatch = np.sum((backward + there) ** 2, axis=-1)
    consistent = mismatch <= 0.01 * (np.sum(backward**2, axis=-1) + np.sum(there**2, axis=-1)) + 0.5
    du = np.gradient(backward[..., 0])
    dv = np.gradient(backward[..., 1])
    edge = (du[0] ** 2 + du[1] ** 2 + dv[0] ** 2 + dv[1] ** 2) > 0.01 * np.sum(backward**2, axis=-1) + 0.002
    return (consistent & ~edge & inside(backward)).astype(np.float32)


def inside(flow: np.ndarray) -> np.ndarray:
    """Where ``flow`` leads to a point inside the frame, as ``(H, W)`` bool: elsewhere, warping by it can only
    stretch the frame's edge pixels (what came into view has no source)."""
    height, width = flow.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    return (
        (xs + flow[..., 0] >= 0)
        & (xs + flow[..., 0] <= width - 1)
        & (ys + flow[..., 1] >= 0)
        & (ys + flow[..., 1] <= height - 1)
    )
