"""Time default brushwork runs on the bundled Tübingen + Starry Night pair.

    .venv/bin/python benchmarks/bench_default.py [--sizes 512,1024]

Each size runs in its own process (so its peak RSS is its own); records seconds per
step, total wall time and the time ratio between sizes in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import EXAMPLES, ROOT, machine, paint, peak_rss_mb, write_section


def one_run(size: int) -> dict:
    import brushwork
    from brushwork.engine import encoder_for, pick_device

    settings = brushwork.Settings(size=size)
    start = time.perf_counter()
    encoder_for(settings, pick_device(settings.device))
    load = time.perf_counter() - start
    result = paint(EXAMPLES / "content/tubingen.jpg", EXAMPLES / "style/starry_night.jpg", settings)
    out = ROOT / f"benchmarks/results/default_{size}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    result.image.save(out)
    return {
        "size": size,
        "steps": result.steps,
        "run": result.elapsed,
        "load": load,
        "rss": peak_rss_mb(),
        "settings": f"{settings.optimizer}, {settings.scales} levels, tolerance {settings.tolerance}, "
        f"precision {settings.precision}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(one_run(args.worker)))
        return
    runs = []
    for size in (int(s) for s in args.sizes.split(",")):
        done = subprocess.run(
            [sys.executable, __file__, "--worker", str(size)], check=True, capture_output=True, text=True
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    rows = "\n".join(
        f"| {r['size']} px | {r['steps']} | {r['run'] / r['steps']:.3f} s | {r['run']:.1f} s | "
        f"{r['run'] / runs[0]['run']:.2f}x | {r['load']:.1f} s | {r['rss']:.0f} MB |"
        for r in runs
    )
    text = f"""## Default runs (`bench_default.py`)

Command: `.venv/bin/python benchmarks/bench_default.py --sizes {args.sizes}`
Machine: {machine()}
Settings: brushwork defaults ({runs[0]["settings"]}); Tübingen + The Starry Night.
Seconds per step is the mean over all levels (coarse steps are cheaper).

| size | steps (all levels) | seconds per step | run wall time | vs first size | model load | peak RSS |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

Pictures: `benchmarks/results/default_<size>.png`."""
    write_section("bench_default", text)
    print(text)


if __name__ == "__main__":
    main()
