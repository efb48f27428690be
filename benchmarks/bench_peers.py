"""brushwork's default against pastiche's default L-BFGS, side by side in one invocation.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/bench_peers.py [--size 512] [--pastiche-steps 100,200,300]

Each tool runs in its own subprocess (so peak RSS is its own) on the same pairs at
the same size; every output is scored by ``judge.Judge`` at one evaluation size.
Writes pictures to benchmarks/results/, the table to benchmarks/RESULTS.md and a
quality-vs-time plot to benchmarks/quality_vs_time.png.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import EXAMPLES, machine, paint, write_section

HERE = Path(__file__).resolve().parent
PAIRS = {
    "tubingen+starry_night": ("content/tubingen.jpg", "style/starry_night.jpg"),
    "chicago+wave": ("content/chicago.jpg", "style/wave.jpg"),
}


def worker_brushwork(content: str, style: str, size: int, out: Path, curve_every: int) -> dict:
    import brushwork
    from brushwork.engine import encoder_for, pick_device

    settings = brushwork.Settings(size=size)
    start = time.perf_counter()
    encoder_for(settings, pick_device(settings.device))
    curve = []

    def grab(p):
        if curve_every and p.step % curve_every == 0:
            curve.append((time.perf_counter() - start, p.step, p.image()))

    result = paint(content, style, settings, grab if curve_every else None)
    total = time.perf_counter() - start
    result.image.save(out / "brushwork.png")
    points = []
    for i, (t, step, img) in enumerate(curve):
        img.save(out / f"curve_brushwork_{i:03d}.png")
        points.append({"seconds": t, "step": step, "path": str(out / f"curve_brushwork_{i:03d}.png")})
    return {
        "seconds": total,
        "steps": result.steps,
        "curve": points,
        "settings": f"{settings.optimizer}, {settings.scales} levels, precision {settings.precision}",
    }


def worker_pastiche(content: str, style: str, size: int, out: Path, checkpoints: list[int], curve_every: int) -> dict:
    from pastiche.pastiche import PasticheArtist, save_image

    start = time.perf_counter()
    artist = PasticheArtist(content, [style], size=size, device="cpu")
    marks, snaps = {}, []
    for step in range(1, max(checkpoints) + 1):
        artist.draw()
        now = time.perf_counter() - start
        if step in checkpoints:
            marks[step] = now
            save_image(artist.pastiche, out / f"pastiche_{step}.png")
        if curve_every and step % curve_every == 0:
            snaps.append((now, step, artist.pastiche.detach().clone()))
    points = []
    for i, (t, step, tensor) in enumerate(snaps):
        path = out / f"curve_pastiche_{i:03d}.png"
        save_image(tensor, path)
        points.append({"seconds": t, "step": step, "path": str(path)})
    return {"checkpoints": {str(k): v for k, v in marks.items()}, "curve": points}


def run_worker(tool: str, pair: str, args: argparse.Namespace, out: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        tool,
        "--pair",
        pair,
        "--size",
        str(args.size),
        "--pastiche-steps",
        args.pastiche_steps,
        "--curve-every",
        str(args.curve_every),
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True)
    return json.loads((out / f"{tool}.json").read_text())


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(curves), 2, figsize=(11, 4 * len(curves)), squeeze=False)
    for row, (pair, tools) in enumerate(curves.items()):
        for col, metric in enumerate(("gram", "content")):
            ax = axes[row][col]
            for tool, points in tools.items():
                ax.plot([p["seconds"] for p in points], [p["score"][metric] for p in points], marker=".", label=tool)
            ax.set_xlabel("wall time (s)")
            ax.set_ylabel("style Gram distance" if metric == "gram" else "content distance")
            ax.set_yscale("log" if metric == "gram" else "linear")
            ax.set_title(f"{pair}: {'style' if metric == 'gram' else 'content'} (lower is better)")
            ax.grid(alpha=0.3)
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--pastiche-steps", default="100,200,300")
    parser.add_argument("--pairs", default=",".join(PAIRS))
    parser.add_argument("--curve-every", type=int, default=10)
    parser.add_argument("--worker", choices=("brushwork", "pastiche"))
    parser.add_argument("--pair")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    checkpoints = [int(s) for s in args.pastiche_steps.split(",")]

    if args.worker:
        from common import peak_rss_mb

        content, style = (str(EXAMPLES / p) for p in PAIRS[args.pair])
        if args.worker == "brushwork":
            data = worker_brushwork(content, style, args.size, args.out, args.curve_every)
        else:
            data = worker_pastiche(content, style, args.size, args.out, checkpoints, args.curve_every * 3)
        data["peak_rss_mb"] = peak_rss_mb()
        (args.out / f"{args.worker}.json").write_text(json.dumps(data))
        return

    from judge import Judge
    from PIL import Image

    rows, curves, ratios = [], {}, []
    for pair in args.pairs.split(","):
        out = HERE / "results" / pair
        out.mkdir(parents=True, exist_ok=True)
        content, style = (EXAMPLES / p for p in PAIRS[pair])
        bw = run_worker("brushwork", pair, args, out)
        pa = run_worker("pastiche", pair, args, out)
        judge = Judge(Image.open(content), Image.open(style), size=args.size)

        def score(path, judge=judge):
            return judge.score(Image.open(path))

        s = score(out / "brushwork.png")
        rows.append((pair, f"brushwork default ({bw['settings']})", bw["steps"], bw["seconds"], bw["peak_rss_mb"], s))
        for step in checkpoints:
            t = pa["checkpoints"][str(step)]
            rows.append(
                (pair, f"pastiche L-BFGS {step} steps", step, t, pa["peak_rss_mb"], score(out / f"pastiche_{step}.png"))
            )
        ratios.append((pair, pa["checkpoints"][str(max(checkpoints))] / bw["seconds"]))
        curves[pair] = {
            tool: [dict(p, score=score(p["path"])) for p in data["curve"]]
            for tool, data in (("brushwork", bw), ("pastiche", pa))
        }
        for tool, data in (("brushwork", bw), ("pastiche", pa)):  # the curve's pictures go; their scores stay
            data["curve"] = [{k: v for k, v in p.items() if k != "path"} for p in curves[pair][tool]]
            (out / f"{tool}.json").write_text(json.dumps(data))
        for path in out.glob("curve_*.png"):
            path.unlink()
    plot(curves, HERE / "quality_vs_time.png")
    table = "\n".join(
        f"| {pair} | {name} | {steps} | {sec:.1f} s | {rss:.0f} MB | {sc['content']:.3f} | "
        f"{sc['gram']:.3f} | {sc['swd']:.3f} |"
        for pair, name, steps, sec, rss, sc in rows
    )
    ratio_text = "; ".join(
        f"{pair}: pastiche {max(checkpoints)} steps took {r:.1f}x brushwork's time" for pair, r in ratios
    )
    text = f"""## brushwork vs pastiche (`bench_peers.py`)

Command: `.venv/bin/python benchmarks/bench_peers.py --size {args.size} --pastiche-steps {args.pastiche_steps}`
Machine: {machine()}; pastiche 1.6.0 (same VGG19 weights), its default L-BFGS on the CPU.
Judge (`benchmarks/judge.py`, evaluation at {args.size} px, lower is better): content = relative conv4_2 error,
gram = mean relative Gram distance over relu1_1..relu5_1, swd = sliced-Wasserstein distance of those features.
Wall time includes loading the model and computing targets, each tool in its own process.

| pair | run | steps | wall time | peak RSS | content | gram | swd |
| --- | --- | --- | --- | --- | --- | --- | --- |
{table}

Speed-up: {ratio_text}.
Plot: `benchmarks/quality_vs_time.png`. Pictures: `benchmarks/results/<pair>/`."""
    write_section("bench_peers", text)
    print(text)


if __name__ == "__main__":
    main()
