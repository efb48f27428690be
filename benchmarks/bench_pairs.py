"""The default run on every photo x painting, bundled and kept for benchmarks, judged, with a contact sheet.

    .venv/bin/python benchmarks/bench_pairs.py [--size 512] [--judge-size 384] [--precision auto]

Tuning on two paintings proves little; this sweep paints each photo in each painting (the bundled
examples and the portraits and figures in ``benchmarks/images/``) with brushwork's defaults, scores
every picture with ``judge.Judge`` (and, where neural-style's picture of the pair exists, gives the
ratios to it, as ``bench_peers.py`` does), and writes the pictures as one sheet,
``benchmarks/pairs.jpg``, beside a table in RESULTS.md, to be looked at: a painting's face, figure
or boat in the photo is what the scores cannot see. All runs share one process (the model loads
once); each pair's wall time is its own.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench_peers import TARGET_STYLE, reference_for
from common import ROOT, cpu_flags, machine, paint, write_section
from explore_subject import IMAGES, find
from judge import Judge
from PIL import Image

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--judge-size", type=int, default=384)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--references", type=Path, default=ROOT.parent / "shared" / "reference")
    args = parser.parse_args()

    import brushwork
    from brushwork.report.sheets import contact_sheet

    photos = [p.stem for folder in IMAGES for p in sorted((folder / "content").glob("*.jpg"))]
    paintings = [p.stem for folder in IMAGES for p in sorted((folder / "style").glob("*.jpg"))]
    settings = brushwork.Settings(size=args.size, precision=args.precision)
    out = HERE / "results" / "pairs"
    out.mkdir(parents=True, exist_ok=True)
    rows, cells = [], []
    for photo in photos:
        for painting in paintings:
            pair = f"{photo}+{painting}"
            content, style = find("content", photo), find("style", painting)
            start = time.perf_counter()
            result = paint(content, style, settings)
            seconds = time.perf_counter() - start
            result.image.save(out / f"{pair}.png")
            judge = Judge(Image.open(content), Image.open(style), size=args.judge_size)
            s = judge.score(result.image)
            versus = "-"
            reference = reference_for(pair, args.references)
            if reference:
                r = judge.score(Image.open(reference[0]))
                ok = s["content"] <= r["content"] and s["gram"] <= TARGET_STYLE * r["gram"]
                ok = ok and s["swd"] <= TARGET_STYLE * r["swd"]
                versus = (
                    f"{'yes' if ok else 'no'} ({s['content'] / r['content']:.2f} / {s['gram'] / r['gram']:.2f} / "
                    f"{s['swd'] / r['swd']:.2f}; {reference[1]})"
                )
            rows.append(
                f"| {pair} | {seconds:.1f} s | {s['content']:.3f} | {s['gram']:.3f} | {s['swd']:.3f} | {versus} |"
            )
            print(rows[-1], flush=True)
            thumb = result.image.copy()
            thumb.thumbnail((320, 320))
            cells.append((pair, thumb))
    sheet = contact_sheet(cells, columns=len(paintings), cell_width=240, title="brushwork defaults, every pair")
    sheet.convert("RGB").save(HERE / "pairs.jpg", quality=88)
    text = f"""## Every pair, portraits and figures included (`bench_pairs.py`)

Command: `.venv/bin/python benchmarks/bench_pairs.py --size {args.size} --judge-size {args.judge_size} \
--precision {args.precision}`
Machine: {machine()}; CPU flags: {cpu_flags()}.
brushwork's defaults on each photo in each painting (bundled, and in `benchmarks/images/`), judged as in
`bench_peers.py` (evaluation at {args.judge_size} px, lower is better).
"vs neural-style" (where its picture of the pair exists): meets issue
9's target (content no worse, Gram and SWD at most {TARGET_STYLE}x), then the ratios content / gram / swd.

| pair | wall time | content | gram | swd | vs neural-style |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

Sheet: `benchmarks/pairs.jpg`; pictures: `benchmarks/results/pairs/`."""
    write_section("bench_pairs", text)
    print(text)


if __name__ == "__main__":
    main()
