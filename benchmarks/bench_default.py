"""Time default brushwork runs on the bundled Tübingen + Starry Night pair, and check the forecast of time left.

    .venv/bin/python benchmarks/bench_default.py [--sizes 512,1024] [--precisions auto,fp32]

Each run is in its own process (so its peak RSS is its own); records steps, wall time, the
time ratio between sizes per precision, and how far the progress bar's "time left" strayed
from the truth from the second level on, in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import EXAMPLES, ROOT, cpu_flags, machine, paint, peak_rss_mb, write_section

HEADER = (
    "| size | --precision (computed in) | steps (all levels) | run wall time | vs first size | model load "
    "| peak RSS | time left: worst error |"
)
LAST_SECONDS = 5.0  # the forecast's error is judged while at least this much is left (relative errors of tiny
# remainders say nothing)


def one_run(size: int, precision: str) -> dict:
    import brushwork
    from brushwork.model.device import encoder_for, pick_device, use_bf16

    settings = brushwork.Settings(size=size, precision=precision)
    start = time.perf_counter()
    device = pick_device(settings.device)
    encoder_for(settings, device)
    load = time.perf_counter() - start
    reports: list[tuple[int, float, float]] = []  # (level, seconds since the run began, forecast seconds left)
    result = paint(
        EXAMPLES / "content/tubingen.jpg",
        EXAMPLES / "style/starry_night.jpg",
        settings,
        lambda p: reports.append((p.level, p.elapsed, p.eta)),
    )
    out = ROOT / f"benchmarks/results/default_{size}_{precision}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    result.image.save(out)
    end = result.elapsed
    errors = [abs(eta - (end - t)) / (end - t) for level, t, eta in reports if level >= 1 and end - t >= LAST_SECONDS]
    return {
        "size": size,
        "precision": precision,
        "computed": "bf16" if use_bf16(settings, device) else "fp32",
        "steps": result.steps,
        "run": result.elapsed,
        "load": load,
        "rss": peak_rss_mb(),
        "forecast_error": max(errors) if errors else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--precisions", default="auto,fp32")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(one_run(int(args.worker[0]), args.worker[1])))
        return
    runs = []
    for precision in args.precisions.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            done = subprocess.run(
                [sys.executable, __file__, "--worker", str(size), precision], check=True, capture_output=True, text=True
            )
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first = {r["precision"]: r for r in reversed(runs)}  # each precision's first size
    rows = "\n".join(
        f"| {r['size']} px | {r['precision']} ({r['computed']}) | {r['steps']} | {r['run']:.1f} s | "
        f"{r['run'] / first[r['precision']]['run']:.2f}x | {r['load']:.1f} s | {r['rss']:.0f} MB | "
        + (f"{100 * r['forecast_error']:.0f}% |" if r["forecast_error"] is not None else "- |")
        for r in runs
    )
    text = f"""## Default runs (`bench_default.py`)

Command: `.venv/bin/python benchmarks/bench_default.py --sizes {args.sizes} --precisions {args.precisions}`
Machine: {machine()}; CPU flags: {cpu_flags()}.
Settings: brushwork's defaults; Tübingen + The Starry Night. "Time left" is the largest error of the progress
bar's forecast of the time left, relative to the true time left, over every step from the second level on
while at least {LAST_SECONDS:g} s were left.

{HEADER}
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}

Pictures: `benchmarks/results/default_<size>_<precision>.png`."""
    write_section("bench_default", text)
    print(text)


if __name__ == "__main__":
    main()
