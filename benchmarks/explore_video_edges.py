"""Exploration for issue 21: the streaks where new content enters a clip's frame (the fox's left edge).

    .venv/bin/python benchmarks/explore_video_edges.py [--size 128] [--end 0.4] [--alone] [--out /tmp/edges]

Paints the first ``--end`` seconds of the bundled fox after The Starry Night with the video defaults (the
camera pans: new content comes in at the left edge), and with ``--alone`` its last frame alone, as a first
frame is painted. Streak measure: the mean squared luminance gradient along the rows in a band at the left
edge (a thirty-second of the width: 4 px of 128) over that in the columns from two to six bands in (a streak
is flat along its row; the photo's own figure is the reference). Printed for every painted frame, beside the
photo's; writes the photo, the last painted frame (and the one painted alone) side by side as
``edges_<size>.png`` in ``--out``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import EXAMPLES
from PIL import Image

from brushwork.core.settings import Settings, VideoSettings
from brushwork.engine import runner as engine
from brushwork.media.clips import frames, probe
from brushwork.media.images import Picture, load_image
from brushwork.video.painting import paint_clip
from brushwork.video.timeline import frame_size

CLIP, STYLE = EXAMPLES / "video/fox.mp4", EXAMPLES / "style/starry_night.jpg"


def streaks(image: Image.Image, band: int) -> float:
    """Gradient energy along the rows in the ``band`` columns at the left edge, over that further in."""
    grey = np.asarray(image.convert("L"), dtype=np.float64)
    along = np.diff(grey, axis=1) ** 2
    return float(along[:, : band - 1].mean() / along[:, 2 * band : 6 * band].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--end", type=float, default=0.4)
    parser.add_argument("--alone", action="store_true", help="also paint the last frame alone")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "edges")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clip, styles = probe(CLIP), [load_image(STYLE, "style")]
    settings, video = Settings(size=args.size), VideoSettings(end=args.end)
    began = time.perf_counter()
    photos = [f.image.resize(frame_size(clip, settings), Image.Resampling.LANCZOS) for f in frames(CLIP, 0, args.end)]
    band = args.size // 32
    with tempfile.TemporaryDirectory() as folder:
        result = paint_clip(clip, styles, settings, video, Path(folder) / "fox.mp4", assemble_clip=False)
        painted = [Image.open(path).convert("RGB") for _, path in result.pictures]
    print(f"{result.done} frames in {time.perf_counter() - began:.0f} s")
    for index, (photo, picture) in enumerate(zip(photos, painted)):
        print(f"frame {index:3d}: streak measure {streaks(picture, band):.2f}, the photo's {streaks(photo, band):.2f}")
    shown = [photos[-1], painted[-1]]
    if args.alone:
        alone = engine.run(Picture(photos[-1], None, "last frame"), styles, settings.replace(size=max(photos[-1].size)))
        print(f"the last frame alone: streak measure {streaks(alone.image, band):.2f}")
        shown.append(alone.image)
    sheet = Image.new("RGB", (len(shown) * photos[-1].width, photos[-1].height))
    for i, picture in enumerate(shown):
        sheet.paste(picture, (i * picture.width, 0))
    sheet.save(args.out / f"edges_{args.size}.png")


if __name__ == "__main__":
    main()
