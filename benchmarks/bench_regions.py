"""Regions, measured: leakage between two paintings' regions, a kept region, the seam, and the cost.

    .venv/bin/python benchmarks/bench_regions.py [--size 512] [--judge-size 384] [--photos tubingen,chicago,stata]

For each photo, its top part (the sky) is painted as The Starry Night and its bottom part as The Great
Wave (soft masks, a 32 px edge at 512 px), beside an unmasked run of the same two paintings blended:
- leakage: each region's judge distances (Gram, SWD) to the other painting over those to its own
  (cropped away from the edge); the target is at least 2;
- keep: a kept ellipse in the middle of the photo: the judge's content distance inside it against a run at
  style weight 0, and the rest's distances (style and content) against an unmasked run's: the rest is the
  bands of the picture beyond a margin around the kept region (above it, left and right of it), each judged
  on its own (at up to ``--judge-size``), averaged over bands and over ``--keep-seeds`` runs of each (the seed
  draws the SWD's points; the kept region's content is averaged over them too); no seam pasted into either
  picture;
- cost: seconds of the two-region run over the unmasked run, side by side in this process (the fastest of
  ``--repeats`` runs of each, taken in turn).
Pictures go to ``benchmarks/results/regions/``; the table to RESULTS.md (section ``bench_regions``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from common import EXAMPLES, machine, write_section
from judge import Judge
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "regions"
SKY = 0.45
"""The share of the photo's height the top region takes."""
MARGIN = 0.05
"""How far the rest's bands stay from the kept region's bounding box: a share of the picture's long side."""


def masks(size: tuple[int, int]) -> tuple[Image.Image, Image.Image, Image.Image]:
    """Soft top and bottom masks and a kept ellipse, at the photo's size."""
    width, height = size
    edge = max(2, round(16 * max(size) / 512))
    top = Image.new("L", size, 0)
    ImageDraw.Draw(top).rectangle([0, 0, width, int(height * SKY)], fill=255)
    top = top.filter(ImageFilter.GaussianBlur(edge))
    keep = Image.new("L", size, 0)
    ImageDraw.Draw(keep).ellipse([width * 0.38, height * 0.5, width * 0.62, height * 0.9], fill=255)
    return top, Image.eval(top, lambda v: 255 - v), keep.filter(ImageFilter.GaussianBlur(edge))


def crop(picture: Image.Image, box: tuple[float, float]) -> Image.Image:
    """The rows between two shares of the height."""
    return picture.crop((0, round(box[0] * picture.height), picture.width, round(box[1] * picture.height)))


def scores(picture: Image.Image, photo: Image.Image, painting: Image.Image, size: int) -> dict[str, float]:
    return Judge(photo, painting, size=size).score(picture)


def inside(picture: Image.Image, photo: Image.Image, keep: Image.Image, size: int) -> float:
    """The judge's content distance of the kept region: its bounding box, with the photo outside the (soft) mask
    so that only what lies inside it counts."""
    box = keep.getbbox()
    assert box is not None
    only = Image.composite(picture, photo, keep).crop(box)
    return Judge(photo.crop(box), photo.crop(box), size=size // 2).score(only)["content"]


def bands(keep: Image.Image) -> list[tuple[int, int, int, int]]:
    """The boxes of the picture beyond :data:`MARGIN` around the kept region, apart: above and below it across the
    whole width, left and right of it between those; the ones at least a tenth of the picture's width and height
    and 32 px on a side (for the bench's ellipse: above, left and right)."""
    width, height = keep.size
    box = keep.getbbox()
    assert box is not None
    margin = round(MARGIN * max(width, height))
    left, right = box[0] - margin, box[2] + margin
    top, bottom = max(0, box[1] - margin), min(height, box[3] + margin)
    boxes = [(0, 0, width, top), (0, bottom, width, height), (0, top, left, bottom), (right, top, width, bottom)]
    kept = [b for b in boxes if b[2] - b[0] >= max(32, width / 10) and b[3] - b[1] >= max(32, height / 10)]
    if not kept:
        raise ValueError(f"no part of the picture lies beyond {MARGIN:.0%} around the kept region {box}")
    return kept


def rest(
    groups: list[list[Image.Image]], photo: Image.Image, painting: Image.Image, keep: Image.Image, size: int
) -> list[dict[str, float]]:
    """The judge's distances of the rest (:func:`bands`, each judged alone at up to ``size``) of each group of
    pictures, averaged over the bands and the group's pictures."""
    judges = [(b, Judge(photo.crop(b), painting, size=min(size, max(b[2] - b[0], b[3] - b[1])))) for b in bands(keep)]
    scored = [[judge.score(picture.crop(b)) for picture in pictures for b, judge in judges] for pictures in groups]
    return [{key: float(np.mean([s[key] for s in group])) for key in ("content", "gram", "swd")} for group in scored]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--judge-size", type=int, default=384)
    parser.add_argument("--photos", default="tubingen,chicago,stata")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each for the cost, the fastest counts")
    parser.add_argument("--keep-seeds", type=int, default=3, help="runs of the kept and unmasked pictures, averaged")
    args = parser.parse_args()
    if args.keep_seeds < 1:
        parser.error("--keep-seeds must be at least 1")

    import brushwork

    OUT.mkdir(parents=True, exist_ok=True)
    starry, wave = EXAMPLES / "style" / "starry_night.jpg", EXAMPLES / "style" / "wave.jpg"
    paintings = {"starry": Image.open(starry).convert("RGB"), "wave": Image.open(wave).convert("RGB")}
    rows, keep_rows, seconds = [], [], []
    for name in args.photos.split(","):
        path = EXAMPLES / "content" / f"{name}.jpg"
        photo = Image.open(path).convert("RGB")
        top, bottom, keep = masks(photo.size)
        settings = brushwork.Settings(size=args.size)

        plain_seconds, two_seconds = float("inf"), float("inf")
        for _ in range(args.repeats):
            began = time.perf_counter()
            plain = brushwork.stylize(path, [starry, wave], settings=settings)
            plain_seconds = min(plain_seconds, time.perf_counter() - began)
            began = time.perf_counter()
            two = brushwork.stylize(path, [starry, wave], settings=settings, masks=[top, bottom])
            two_seconds = min(two_seconds, time.perf_counter() - began)
        seconds.append((name, plain_seconds, two_seconds))
        two.save(OUT / f"{name}_two.png")
        plain.save(OUT / f"{name}_plain.png")

        small = photo.resize(two.size, Image.Resampling.LANCZOS)
        for region, box, own, other in (
            ("sky", (0.0, SKY - 0.1), "starry", "wave"),
            ("ground", (SKY + 0.1, 1.0), "wave", "starry"),
        ):
            part, content = crop(two, box), crop(small, box)
            mine = scores(part, content, paintings[own], args.judge_size)
            theirs = scores(part, content, paintings[other], args.judge_size)
            rows.append((name, region, mine, theirs))

        seeds = [settings.replace(seed=seed) for seed in range(args.keep_seeds)]
        kept = [brushwork.stylize(path, starry, settings=s, keep=keep) for s in seeds]
        alone = [brushwork.stylize(path, starry, settings=s) for s in seeds]
        still = brushwork.stylize(path, starry, settings=settings.replace(style_weight=0.0, swd_weight=0.0))
        kept[0].save(OUT / f"{name}_keep.png")
        alone[0].save(OUT / f"{name}_alone.png")
        keep_small = keep.resize(kept[0].size)
        keep_rows.append(
            (
                name,
                float(np.mean([inside(k, small, keep_small, args.judge_size) for k in kept])),
                inside(still, small, keep_small, args.judge_size),
                *rest([kept, alone], small, paintings["starry"], keep_small, args.judge_size),
            )
        )
        np.save(OUT / f"{name}_keep_mask.npy", np.asarray(keep_small))

    lines = [
        "Two paintings on two halves (sky: The Starry Night, ground: The Great Wave), soft masks; each region's judge",
        "distances to the other painting over those to its own (target: at least 2).",
        "",
        "| photo | region | gram own / other | ratio | swd own / other | ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, region, mine, theirs in rows:
        lines.append(
            f"| {name} | {region} | {mine['gram']:.3f} / {theirs['gram']:.3f} | {theirs['gram'] / mine['gram']:.2f} "
            f"| {mine['swd']:.3f} / {theirs['swd']:.3f} | {theirs['swd'] / mine['swd']:.2f} |"
        )
    lines += [
        "",
        "Keep (The Starry Night, a kept ellipse): content distance inside it against a style-weight-0 run (target at",
        "most 1.2x), and the rest's distances against an unmasked run's (style: target within 5%): the rest is the",
        f"bands beyond {MARGIN:.0%} of the long side around the kept region, each judged alone, averaged over them and",
        f"over {args.keep_seeds} seeds of each run (the inside too). The rest's content: did keeping cost the photo?",
        "",
        "| photo | content inside: kept / style 0 | ratio | rest gram: kept / unmasked | rest swd: kept / unmasked "
        "| rest content: kept / unmasked |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, kept_content, still_content, mine, theirs in keep_rows:
        lines.append(
            f"| {name} | {kept_content:.3f} / {still_content:.3f} | {kept_content / still_content:.2f} "
            + "".join(
                f"| {mine[key]:.3f} / {theirs[key]:.3f}: {mine[key] / theirs[key]:.2f} "
                for key in ("gram", "swd", "content")
            )
            + "|"
        )
    lines += ["", "| photo | unmasked s | two regions s | ratio |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} |" for name, a, b in seconds]
    lines += [
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/bench_regions.py --size {args.size} "
        f"--repeats {args.repeats} --keep-seeds {args.keep_seeds}`.",
    ]
    write_section("bench_regions", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
