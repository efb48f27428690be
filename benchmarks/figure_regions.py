"""The README's regions figure from ``bench_regions.py``'s pictures: the photo, its sky mask, the two-painting
picture and a 100% crop across the soft edge.

    .venv/bin/python benchmarks/figure_regions.py [--photo tubingen]
"""

from __future__ import annotations

import argparse

from bench_regions import OUT, masks
from common import EXAMPLES, ROOT
from PIL import Image

from brushwork.report.sheets import contact_sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="tubingen")
    args = parser.parse_args()

    painted = Image.open(OUT / f"{args.photo}_two.png").convert("RGB")
    photo = Image.open(EXAMPLES / "content" / f"{args.photo}.jpg").convert("RGB").resize(painted.size)
    sky, _, _ = masks(photo.size)
    edge = round(0.45 * painted.height)
    crop = painted.crop((painted.width // 2 - 96, edge - 64, painted.width // 2 + 96, edge + 64))
    items = [
        ("the photo", photo),
        ("the sky mask (white)", sky.convert("RGB")),
        ("sky: Starry Night, rest: Wave", painted),
        ("the soft edge, enlarged", crop.resize((crop.width * 2, crop.height * 2), Image.Resampling.NEAREST)),
    ]
    sheet = contact_sheet(items, columns=4, cell_width=320)
    out = ROOT / "docs" / "figures" / "regions.jpg"
    sheet.save(out, quality=88)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
