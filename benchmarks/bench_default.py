"""Time one default brushwork run at 512 px on the bundled Tübingen + Starry Night pair.

    .venv/bin/python benchmarks/bench_default.py [--size 512]

Records seconds per step and total wall time in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import time

from common import EXAMPLES, ROOT, machine, peak_rss_mb, write_section

import brushwork
from brushwork.engine import encoder_for, pick_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    settings = brushwork.Settings(size=args.size)
    t0 = time.perf_counter()
    encoder_for(settings, pick_device(settings.device))
    load = time.perf_counter() - t0
    result = brushwork.transfer(EXAMPLES / "content/tubingen.jpg", EXAMPLES / "style/starry_night.jpg",
                                settings=settings)
    out = ROOT / "benchmarks/results/default_512.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    result.image.save(out)
    per_step = result.elapsed / result.steps
    text = f"""## Default run (`bench_default.py`)

Command: `.venv/bin/python benchmarks/bench_default.py --size {args.size}`
Machine: {machine()}

| size | steps (all levels) | seconds per step (mean) | run wall time | model load | peak RSS |
| --- | --- | --- | --- | --- | --- |
| {args.size} px | {result.steps} | {per_step:.3f} s | {result.elapsed:.1f} s | {load:.1f} s | {peak_rss_mb():.0f} MB |

Settings: brushwork defaults ({settings.optimizer}, {settings.scales} levels, precision {settings.precision}).
Picture: `benchmarks/results/default_512.png`."""
    write_section("bench_default", text)
    print(text)


if __name__ == "__main__":
    main()
