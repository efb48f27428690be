"""Print sizes: tiled against whole runs, seams, peak memory against the plan's estimate, and a 4096 px run.

    .venv/bin/python benchmarks/bench_tiles.py [--runs 1024,1024:512,512,2048,2048:512,4096] [--precision auto]

Each run (``SIZE`` or ``SIZE:TILE`` for ``--tile-size TILE``) is a default run of Tübingen + The Starry Night in
its own process, so its peak RSS is its own; the plan is made in that process before the run, as the command
line makes it. Records in benchmarks/RESULTS.md: wall time, steps, peak RSS against the plan's estimate, judge
scores (tiled against whole at the same size), the seam measure, and docs/tile_corner.png (a tile corner at
100%, whole beside tiled).

Seam measure: the mean gradient magnitude (of the luminance, between neighbouring pixels) across the final
level's tile borders, over the mean across the rows and columns within 16 px of them (the same part of the
picture); 1.0 is no seam at all. The whole picture's measure at the same rows and columns is the control: what
the picture's own content gives there.

``--runs-log FILE`` scores the runs a previous invocation printed (one JSON line each) instead of painting.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import EXAMPLES, ROOT, cpu_flags, machine, peak_rss_mb, write_section
from judge import Judge
from PIL import Image

CONTENT, STYLE = EXAMPLES / "content/tubingen.jpg", EXAMPLES / "style/starry_night.jpg"
PICTURES = ROOT / "benchmarks/results/tiles"


def name_of(size: int, tile: int) -> str:
    return f"{size}" + (f"_tiles{tile}" if tile else "")


def one_run(size: int, tile: int, precision: str) -> dict:
    import brushwork
    from brushwork.engine import inputs
    from brushwork.engine import runner as engine
    from brushwork.media.images import load_image

    settings = brushwork.Settings(size=size, tile_size=tile, precision=precision)
    content, style = load_image(CONTENT, "content"), load_image(STYLE, "style")
    begin = time.perf_counter()
    planned = inputs.measure_and_plan(content, [style], settings)
    plan_seconds = time.perf_counter() - begin
    result = engine.run(content, [style], settings, keep_memory=True, planned=planned)
    PICTURES.mkdir(parents=True, exist_ok=True)
    result.image.save(PICTURES / f"{name_of(size, tile)}.png")
    last = planned.levels[-1]
    cuts = []
    if last.tile:
        from brushwork.core.layers import halo, run_layers, stride
        from brushwork.planning.tiles import tile_grid

        layers = run_layers(settings)
        grid = tile_grid(*last.size, last.tile, halo(layers), max(stride(n) for n in layers))
        cuts = [sorted({t.core[0] for t in grid} - {0}), sorted({t.core[1] for t in grid} - {0})]
    return {
        "size": size,
        "tile": tile,
        "wh": list(last.size),
        "how": ", ".join(f"{lv.size[0]}: {lv.tiles} tiles of {lv.tile}" for lv in planned.levels if lv.tile) or "whole",
        "steps": result.steps,
        "status": result.status,
        "wall": result.elapsed,
        "plan_seconds": plan_seconds,
        "estimate_seconds": planned.seconds,
        "rss": peak_rss_mb(),
        "estimate": planned.peak / 2**20,
        "cuts": cuts,
        "plan": planned.describe(),
    }


def keep(image: Image.Image, name: str) -> None:
    """What the repository keeps of a picture: a JPEG at most 2048 px long, and a 512 px crop at 100% of larger ones."""
    small = image.copy()
    small.thumbnail((2048, 2048), Image.Resampling.LANCZOS)
    small.save(PICTURES / f"{name}.jpg", quality=90)
    if max(image.size) > 2048:
        w, h = image.size
        image.crop((w // 2 - 256, h // 2 - 256, w // 2 + 256, h // 2 + 256)).save(PICTURES / f"{name}_crop.png")


BAND = 16


def seam_ratio(image: Image.Image, cuts: list[list[int]]) -> float:
    """Mean |gradient| across the tile borders over that across the lines within :data:`BAND` px of them."""
    lum = np.asarray(image.convert("L"), dtype=np.float64)
    across_x = np.abs(np.diff(lum, axis=1))  # column j: between pixel j and j+1
    across_y = np.abs(np.diff(lum, axis=0))
    border, near = [], []
    for x in cuts[0]:
        border.append(across_x[:, x - 1])
        near += [across_x[:, x - 1 + d] for d in range(-BAND, BAND + 1) if d]
    for y in cuts[1]:
        border.append(across_y[y - 1, :])
        near += [across_y[y - 1 + d, :] for d in range(-BAND, BAND + 1) if d]
    return float(np.concatenate(border).mean() / np.concatenate(near).mean())


def _largest_difference(a: Image.Image, b: Image.Image) -> int:
    return int(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max())


def corner_crop(whole: Image.Image, tiled: Image.Image, cuts: list[list[int]], path: Path) -> None:
    """A 256 px square around a tile corner at 100%, whole beside tiled, with the corner marked on neither."""
    x, y = cuts[0][0], cuts[1][0]
    box = (x - 128, y - 128, x + 128, y + 128)
    sheet = Image.new("RGB", (256 * 2 + 8, 256), "white")
    sheet.paste(whole.crop(box), (0, 0))
    sheet.paste(tiled.crop(box), (264, 0))
    sheet.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="1024,1024:512,512,2048,2048:512,4096")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--runs-log", type=Path, help="score the runs printed by an earlier invocation")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        size, tile, precision = args.worker
        print(json.dumps(one_run(int(size), int(tile), precision)))
        return
    runs = []
    if args.runs_log:
        lines = args.runs_log.read_text().splitlines()
        runs = [json.loads(line) for line in lines if line.startswith("{")]
    for item in args.runs.split(",") if not args.runs_log else []:
        size, _, tile = item.partition(":")
        done = subprocess.run(
            [sys.executable, __file__, "--worker", size, tile or "0", args.precision],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            runs.append({"size": int(size), "tile": int(tile or 0), "failed": done.stderr.strip().splitlines()[-1]})
        else:
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), flush=True)
    judge = Judge(Image.open(CONTENT), Image.open(STYLE), size=384)
    rows, pictures = [], {}
    for r in runs:
        if "failed" in r:
            rows.append(f"| {name_of(r['size'], r['tile'])} | failed: {r['failed']} |")
            continue
        image = Image.open(PICTURES / f"{name_of(r['size'], r['tile'])}.png").convert("RGB")
        pictures[(r["size"], r["tile"])] = (image, r)
        keep(image, name_of(r["size"], r["tile"]))
        s = judge.score(image)
        r["scores"] = s
        seam = f"{seam_ratio(image, r['cuts']):.3f}" if r["cuts"] else "-"
        rows.append(
            f"| {r['wh'][0]}x{r['wh'][1]} | {r['how']} | {r['steps']} | {r['wall']:.0f} s | "
            f"{r['estimate_seconds']:.0f} s | {r['rss'] / 1024:.2f} GB | {r['estimate'] / 1024:.2f} GB "
            f"({r['estimate'] / r['rss'] - 1:+.0%}) | {s['content']:.3f} / {s['gram']:.3f} / {s['swd']:.3f} | {seam} |"
        )
    notes = []
    for (size, tile), (image, r) in pictures.items():
        if not tile or (size, 0) not in pictures:
            continue
        whole, w = pictures[(size, 0)]
        diffs = {k: r["scores"][k] / w["scores"][k] - 1 for k in ("content", "gram", "swd")}
        control = seam_ratio(whole, r["cuts"])
        notes.append(
            f"- {size} px, tiles of {tile} px against whole: judge content {diffs['content']:+.1%}, "
            f"gram {diffs['gram']:+.1%}, swd {diffs['swd']:+.1%}; seam measure {seam_ratio(image, r['cuts']):.3f} "
            f"(the whole picture at the same rows and columns: {control:.3f}); largest pixel difference from the "
            f"whole picture {_largest_difference(image, whole)} of 255."
        )
        if size == 1024:
            corner_crop(whole, image, r["cuts"], ROOT / "docs/tile_corner.png")
    rescored = " (its printed runs scored again with `--runs-log`)" if args.runs_log else ""
    text = f"""## Print sizes: tiles, seams and the plan (`bench_tiles.py`)

Command: `.venv/bin/python benchmarks/bench_tiles.py --runs {args.runs} --precision {args.precision}`{rescored}
Machine: {machine()}; CPU flags: {cpu_flags()}.
Default settings, Tübingen + The Starry Night, each run in its own process (the plan made first, as the command
line does). "Plan" columns are the plan's estimates, made before the run; memory is the peak RSS of the process.
Judge at 384 px (content / gram / swd). Seam: mean gradient magnitude across the final level's tile borders over
that across the lines within {BAND} px of them (1.0: no trace of the borders); the whole run's at the same lines
is the control.

| size | tiled levels | steps | wall time | plan: time | peak RSS | plan: memory | judge | seam |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

{chr(10).join(notes)}

Pictures: `benchmarks/results/tiles/<size>[_tiles<tile>].jpg` (at most 2048 px long; the full-size PNGs are
not kept), and `_crop.png`, 512 px at 100%, of larger ones; a tile corner at 100% (whole | tiled):
`docs/tile_corner.png`."""
    write_section("bench_tiles", text)
    print(text)


if __name__ == "__main__":
    main()
