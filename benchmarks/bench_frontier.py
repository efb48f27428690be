"""Content against style distance at several style strengths, beside neural-style's pictures: the Pareto plot.

    .venv/bin/python benchmarks/bench_frontier.py [--strengths 0.5,0.75,1,1.5] [--size 512] [--judge-size 384]

One default setting is one point; a frontier is what a tool gives as its strength moves. For each pair
neural-style published (or ``neural_style_reference.py`` emulated) a picture of, brushwork paints the
photo at each style strength (the default's ``style_weight`` and ``swd_weight`` both times the strength,
still balanced per pair: 1 is the default), and ``judge.Judge`` scores every picture. brushwork's curve
should pass below and left of the reference: less content lost for the same style distance. Where
neural-style's documented defaults were emulated too, that picture is a second point (it holds the photo
more and the painting less than the code that made the published pictures). Writes
``benchmarks/frontier.png`` and a table in RESULTS.md, of every pair in ``results/frontier/points.json``:
``--pairs`` repaints those pairs and keeps the others' last points.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench_peers import PUBLISHED, emulation_path, reference_for
from common import ROOT, machine, paint, write_section
from explore_subject import find
from judge import Judge
from PIL import Image

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strengths", default="0.5,0.75,1,1.5", help="multiples of the default strength")
    parser.add_argument(
        "--pairs",
        default=",".join(referenced()),
        help="the pairs to paint (default: every referenced pair); the others keep their last run's points",
    )
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--judge-size", type=int, default=384)
    parser.add_argument("--references", type=Path, default=ROOT.parent / "shared" / "reference")
    args = parser.parse_args()

    out = HERE / "results" / "frontier"
    out.mkdir(parents=True, exist_ok=True)
    store = out / "points.json"
    points: dict[str, dict] = json.loads(store.read_text()) if store.is_file() else {}
    strengths = [float(s) for s in args.strengths.split(",")]
    for pair in args.pairs.split(","):
        points[pair] = frontier(pair, strengths, args, out)
        store.write_text(json.dumps(points, indent=1))
    order = [pair for pair in referenced() if pair in points]
    points = {pair: points[pair] for pair in order + sorted(set(points) - set(order))}
    plot(points, HERE / "frontier.png")
    rows = [row for pair in points.values() for row in pair["rows"]]
    text = f"""## Content against style at several strengths (`bench_frontier.py`)

Command: `.venv/bin/python benchmarks/bench_frontier.py --strengths {args.strengths} --size {args.size} \
--judge-size {args.judge_size}`
Machine: {machine()}.
brushwork at each style strength (the default's `--style-weight` and `--swd-weight` times it, balanced per pair as
the default is; 1 is the default) beside
neural-style's picture of the pair (published, or emulated by the code that published the others) and what its
documented defaults paint (emulated, where that was run), judged at {args.judge_size} px (lower is better). Plot:
`benchmarks/frontier.png`.

| pair | picture | content | gram | swd |
| --- | --- | --- | --- | --- |
{chr(10).join(rows)}"""
    write_section("bench_frontier", text)
    print(text)


def frontier(pair: str, strengths: list[float], args: argparse.Namespace, out: Path) -> dict:
    """One pair's pictures at each strength and neural-style's, scored: their table rows and plot points."""
    import brushwork

    photo, painting = pair.split("+")
    content, style = find("content", photo), find("style", painting)
    judge = Judge(Image.open(content), Image.open(style), size=args.judge_size)
    mine: dict = {"brushwork": [], "reference": [], "rows": []}
    for strength in strengths:
        base = brushwork.Settings(size=args.size)
        settings = base.replace(style_weight=base.style_weight * strength, swd_weight=base.swd_weight * strength)
        picture = paint(content, style, settings).image
        picture.save(out / f"{pair}_{strength:g}.png")
        s = judge.score(picture)
        mine["brushwork"].append((strength, s))
        mine["rows"].append(f"| {pair} | brushwork, strength {strength:g} | {_scores(s)} |")
        print(mine["rows"][-1], flush=True)
    references = []
    reference = reference_for(pair, args.references)
    if reference:
        references.append((False, f"neural-style ({reference[1]})", reference[0]))
    documented = emulation_path(pair, "defaults")
    if documented.is_file():  # what neural-style's documented defaults paint, beside its reference
        references.append((True, "neural-style's documented defaults (emulated)", documented))
    for index, (is_documented, name, path) in enumerate(references):
        r = judge.score(Image.open(path))
        mine["reference"].append((is_documented, r))
        mine["rows"].insert(index, f"| {pair} | {name} | {_scores(r)} |")
    return mine


def referenced() -> list[str]:
    """Every pair with a neural-style picture: the published ones, then the emulated ones."""
    emulated = sorted(p.stem for p in (HERE / "references").glob("*+*.png"))
    return [*PUBLISHED, *(pair for pair in emulated if pair not in PUBLISHED)]


def _scores(s: dict[str, float]) -> str:
    return f"{s['content']:.3f} | {s['gram']:.3f} | {s['swd']:.3f}"


def plot(points: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(points), 2, figsize=(10, 3.8 * len(points)), squeeze=False)
    for row, (pair, tools) in enumerate(points.items()):
        for col, metric in enumerate(("gram", "swd")):
            ax = axes[row][col]
            curve = tools["brushwork"]
            ax.plot([s[metric] for _, s in curve], [s["content"] for _, s in curve], "o-", label="brushwork")
            for strength, s in curve:
                ax.annotate(f"{strength:g}", (s[metric], s["content"]), textcoords="offset points", xytext=(4, 4))
            for documented, s in tools["reference"]:
                marker, label = ("m^", "neural-style, documented defaults") if documented else ("r*", "neural-style")
                ax.plot([s[metric]], [s["content"]], marker, markersize=14, label=label)
            ax.set_xlabel(f"{metric} distance to the painting")
            ax.set_ylabel("content distance to the photo")
            ax.set_title(pair)
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
