"""Small clips made for the tests: a photo panning sideways, with the quirks real clips have."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
STYLE = ROOT / "brushwork/examples/style/wave.jpg"
PHOTO = ROOT / "brushwork/examples/content/tubingen.jpg"
TIMES = (0.0, 0.04, 0.1, 0.13, 0.2)  # a variable frame rate


def make_clip(
    path: Path,
    size=(67, 49),
    times=TIMES,
    rotation=90,
    sound=True,
    aspect=Fraction(4, 3),
    cut: int | None = None,
    tracks: int = 1,
) -> Path:
    """A small clip of a photo panning sideways: odd size, uneven frame times, a rotation, sound (in ``tracks``
    audio tracks, each its own tone); from frame ``cut`` on, another shot (the painting, upside down)."""
    photo = Image.open(PHOTO).convert("RGB").resize((size[0] * 2, size[1]))
    other = Image.open(STYLE).convert("RGB").rotate(180).resize((size[0] * 2, size[1]))
    base = Fraction(1, 1000)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv444p"  # odd sides need 4:4:4
        stream.time_base = base
        stream.codec_context.time_base = base
        stream.codec_context.sample_aspect_ratio = aspect
        if rotation:
            stream.set_display_rotation(rotation)
        audio = [out.add_stream("aac", rate=16000) for _ in range(tracks if sound else 0)]
        for i, t in enumerate(times):
            shot = other if cut is not None and i >= cut else photo
            shifted = shot.crop((3 * i, 0, 3 * i + size[0], size[1]))
            frame = av.VideoFrame.from_image(shifted)
            frame.pts, frame.time_base = round(Fraction(t).limit_denominator(1000) / base), base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        for n, track in enumerate(audio):
            samples = int(16000 * (times[-1] + 0.05))
            tone = (0.2 * np.sin(np.arange(samples) * 2 * math.pi * 440 * (n + 1) / 16000)).astype(np.float32)[None]
            frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, 0
            for packet in [*track.encode(frame), *track.encode()]:
                out.mux(packet)
    return path


def style():
    from brushwork.media.images import load_image

    return [load_image(STYLE, "style")]
