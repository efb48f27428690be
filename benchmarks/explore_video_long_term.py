"""Exploration for issue 12: does Ruder et al.'s long-term temporal term help?

    .venv/bin/python benchmarks/explore_video_long_term.py [--seconds 2] [--size 256]

Paints the first seconds of the bundled fox after The Starry Night with each frame held to the frames 1, 10, 20
and 40 back (each pixel to the nearest where its flow is certain) instead of only to the one before, and compares
it with bench_video's two runs (run that first: its frames are reused): the warping error between consecutive
frames and between frames 10 apart, and the mean per-frame judge scores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_video import CLIP, WORK
from common import EXAMPLES
from judge import Judge
from PIL import Image
from warping import warping_error

import brushwork.video.carry
from brushwork.core.settings import Settings, VideoSettings
from brushwork.media.clips import frames, probe
from brushwork.media.images import load_image
from brushwork.video.painting import paint_clip
from brushwork.video.timeline import frame_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    clip, settings = probe(CLIP), Settings(size=args.size)
    style = load_image(EXAMPLES / "style/starry_night.jpg", "style")
    size = frame_size(clip, settings)
    inputs = [f.image.resize(size, Image.Resampling.LANCZOS) for f in frames(CLIP, 0, args.seconds)]
    brushwork.video.carry.HELD_TO = (1, 10, 20, 40)
    began = time.perf_counter()
    paint_clip(clip, [style], settings, VideoSettings(end=args.seconds), WORK / "long_term.mp4", keep_memory=True)
    print(f"long-term run: {time.perf_counter() - began:.0f} s")
    judge = Judge(inputs[0], style.rgb, size=args.size)
    for name in ("per_frame", "brushwork", "long_term"):
        painted = [Image.open(p).convert("RGB") for p in sorted((WORK / f"{name}.mp4.frames").glob("frame_*.png"))]
        painted = painted[: len(inputs)]
        judged = [judge.score(p) for p in painted]
        gram, swd = (float(np.mean([j[k] for j in judged])) for k in ("gram", "swd"))
        short, long = warping_error(inputs, painted), warping_error(inputs, painted, gap=10)
        print(f"{name:10s} warping error 1 apart {short:.2e}, 10 apart {long:.2e}; judge {gram:.3f} / {swd:.3f}")


if __name__ == "__main__":
    main()
