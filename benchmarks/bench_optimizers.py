"""Which optimiser (and precision) reaches a good picture first, all else the coarse-to-fine defaults.

    .venv/bin/python benchmarks/bench_optimizers.py [--size 384]

Scores each result with ``judge.Judge`` and records wall time in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse

from common import EXAMPLES, ROOT, machine, paint, write_section
from judge import Judge
from PIL import Image

import brushwork
from brushwork.engine import runner as engine

DEFAULT_HISTORY = engine._LBFGS_HISTORY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=384)
    args = parser.parse_args()
    content, style = EXAMPLES / "content/tubingen.jpg", EXAMPLES / "style/starry_night.jpg"
    judge = Judge(Image.open(content), Image.open(style), size=args.size)
    rows = []
    runs = (
        ("lbfgs (default, precision auto)", {}),
        ("lbfgs, fp32", {"precision": "fp32"}),
        ("lbfgs, history 50 (default 20)", {"history": 50}),
        ("adam", {"optimizer": "adam"}),
        ("adam, seed preset", {"preset": "seed"}),
    )
    for i, (name, options) in enumerate(runs):
        options = dict(options)
        engine._LBFGS_HISTORY = options.pop("history", DEFAULT_HISTORY)
        result = paint(
            content, style, brushwork.resolve(preset_name=options.pop("preset", None), size=args.size, **options)
        )
        result.image.save(ROOT / f"benchmarks/results/optimizer_{i}_{args.size}.png")
        score = judge.score(result.image)
        rows.append(
            f"| {name} | {result.steps} | {result.elapsed:.1f} s | {score['content']:.3f} | "
            f"{score['gram']:.3f} | {score['swd']:.3f} |"
        )
    text = f"""## Optimisers and precision (`bench_optimizers.py`)

Command: `.venv/bin/python benchmarks/bench_optimizers.py --size {args.size}`
Machine: {machine()}. Judge as in `bench_peers.py` (lower is better).

Pictures: `benchmarks/results/optimizer_<row>_<size>.png` (row 0 = first line).

| run | steps | wall time | content | gram | swd |
| --- | --- | --- | --- | --- | --- |
""" + "\n".join(rows)
    write_section("bench_optimizers", text)
    print(text)


if __name__ == "__main__":
    main()
