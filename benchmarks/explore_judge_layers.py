"""Where a picture loses to neural-style's: the judge's Gram and SWD distances layer by layer.

    .venv/bin/python benchmarks/explore_judge_layers.py [--pictures benchmarks/results/subject/default] \
        [--pairs tubingen+starry_night,tubingen+shipwreck] [--judge-size 384]

For each pair, neural-style's picture (``bench_peers.reference_for``) and brushwork's
``PICTURES/PAIR.png`` (as ``explore_subject.py`` writes them) are scored at the judge's size; one
table a pair gives each style layer's Gram and SWD distance, and brushwork's over neural-style's.
The judge's Gram and SWD distances are the means of these columns.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_peers import reference_for
from common import ROOT
from explore_subject import find
from judge import STYLE_LAYERS, Judge
from PIL import Image

HERE = Path(__file__).resolve().parent


def table(pair: str, pictures: Path, references: Path, size: int) -> str:
    """The per-layer distances of neural-style's picture and brushwork's for ``pair``, as text."""
    photo, painting = pair.split("+")
    judge = Judge(Image.open(find("content", photo)), Image.open(find("style", painting)), size=size)
    reference = reference_for(pair, references)
    if reference is None:
        raise SystemExit(f"no neural-style picture of {pair}")
    theirs = judge.layers(Image.open(reference[0]))
    ours = judge.layers(Image.open(pictures / f"{pair}.png"))
    lines = [f"{pair} ({reference[1]} reference; brushwork's from {pictures.name})"]
    lines.append(f"{'layer':<8} {'gram ns':>8} {'gram bw':>8} {'ratio':>6} {'swd ns':>8} {'swd bw':>8} {'ratio':>6}")
    columns = (theirs.gram, ours.gram, theirs.swd, ours.swd)
    means = tuple(sum(column) / len(column) for column in columns)
    for name, (g_ns, g_bw, s_ns, s_bw) in [*zip(STYLE_LAYERS, zip(*columns)), ("mean", means)]:
        lines.append(f"{name:<8} {g_ns:8.3f} {g_bw:8.3f} {g_bw / g_ns:6.2f} {s_ns:8.3f} {s_bw:8.3f} {s_bw / s_ns:6.2f}")
    lines.append(f"content  {theirs.content:8.3f} {ours.content:8.3f} {ours.content / theirs.content:6.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=Path, default=HERE / "results" / "subject" / "default")
    parser.add_argument("--pairs", default="tubingen+starry_night,tubingen+shipwreck")
    parser.add_argument("--judge-size", type=int, default=384)
    parser.add_argument("--references", type=Path, default=ROOT.parent / "shared" / "reference")
    args = parser.parse_args()
    for pair in args.pairs.split(","):
        print(table(pair, args.pictures, args.references, args.judge_size), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
