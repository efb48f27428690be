"""Which rule keeps a painting's objects out of the photo: candidate settings on chosen pairs, judged.

    .venv/bin/python benchmarks/explore_subject.py --pairs chicago+woman-with-hat-matisse,tubingen+mona_lisa \
        --config default='{}' --config reach0.5='{"layer_reach": 0.5}' [--size 512] [--judge-size 384]

Each config is a name and the settings it changes (JSON). Every pair is painted with every config in one
process; the pictures go to
``benchmarks/results/subject/CONFIG/PAIR.png`` to be looked at (a painting's face or boat in the photo is
what the scores cannot see), the scores to ``benchmarks/results/subject/scores.tsv``, one line a picture,
with the ratios to neural-style's picture where one exists. Photos and paintings are looked up in the
bundled examples, then in ``benchmarks/images/`` (the portraits and figures kept for benchmarks only).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench_peers import reference_for
from common import EXAMPLES, ROOT, paint
from judge import Judge
from PIL import Image

HERE = Path(__file__).resolve().parent
IMAGES = (EXAMPLES, HERE / "images")


def find(kind: str, stem: str) -> Path:
    """A photo (``content``) or painting (``style``) by name, bundled or kept for benchmarks."""
    for folder in IMAGES:
        path = folder / kind / f"{stem}.jpg"
        if path.is_file():
            return path
    raise SystemExit(f"no {kind} picture named {stem} in {', '.join(str(f / kind) for f in IMAGES)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", required=True, help="PHOTO+PAINTING,... (names without .jpg)")
    parser.add_argument("--config", action="append", required=True, help="NAME=JSON settings")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--judge-size", type=int, default=384)
    parser.add_argument("--references", type=Path, default=ROOT.parent / "shared" / "reference")
    args = parser.parse_args()

    import brushwork

    out = HERE / "results" / "subject"
    scores = out / "scores.tsv"
    out.mkdir(parents=True, exist_ok=True)
    if not scores.exists():
        scores.write_text("config\tpair\tseconds\tcontent\tgram\tswd\tvs_reference\n")
    for pair in args.pairs.split(","):
        photo, painting = pair.split("+")
        content, style = find("content", photo), find("style", painting)
        judge = Judge(Image.open(content), Image.open(style), size=args.judge_size)
        reference = reference_for(pair, args.references)
        ref = judge.score(Image.open(reference[0])) if reference else None
        for config in args.config:
            name, text = config.split("=", 1)
            changes = json.loads(text)
            settings = brushwork.Settings(size=args.size).replace(**changes)
            start = time.perf_counter()
            result = paint(content, style, settings)
            seconds = time.perf_counter() - start
            (out / name).mkdir(exist_ok=True)
            result.image.save(out / name / f"{pair}.png")
            s = judge.score(result.image)
            versus = (
                f"{s['content'] / ref['content']:.2f}/{s['gram'] / ref['gram']:.2f}/{s['swd'] / ref['swd']:.2f}"
                if ref
                else "-"
            )
            line = f"{name}\t{pair}\t{seconds:.1f}\t{s['content']:.3f}\t{s['gram']:.3f}\t{s['swd']:.3f}\t{versus}"
            with scores.open("a") as f:
                f.write(line + "\n")
            print(line, flush=True)


if __name__ == "__main__":
    main()
