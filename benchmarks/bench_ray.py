"""Batches on Ray: the per-item overhead over a local run, and throughput with 1 and 2 workers.

    .venv/bin/python benchmarks/bench_ray.py [--size 256] [--photos 2] [--styles 2]

Paints the same batch (the first ``--photos`` bundled photos with the first ``--styles`` paintings, at
``--size`` with the default settings) three times, each into a fresh folder: in this process with one
torch thread (the local run), then with ``--ray local`` on 1 and on 2 workers of one core (one torch thread)
each. The per-item overhead compares each item's seconds as the driver sees it (sent, painted, returned,
written) on 1 Ray worker with the local run's, leaving out each worker's first item (both warm up on it);
the fixed costs (starting Ray, starting the workers) are reported apart. Writes the RESULTS.md section.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from common import EXAMPLES, ROOT, cpu_flags, machine, write_section

from brushwork.batch.inputs import collect
from brushwork.batch.run import run_batch
from brushwork.cluster import RayExecutor, connect
from brushwork.core.settings import Settings

WORK = ROOT / "benchmarks/results/ray"


def batch(name: str, photos: list[Path], styles: list[Path], settings: Settings, execute=None):
    out = WORK / name
    shutil.rmtree(out, ignore_errors=True)
    began = time.perf_counter()
    summary = run_batch(collect(photos, styles, out), settings, out, execute=execute)
    assert summary.failed == 0 and summary.done == len(photos) * len(styles), summary.failures
    return summary, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--photos", type=int, default=2)
    parser.add_argument("--styles", type=int, default=2)
    args = parser.parse_args()
    photos = sorted((EXAMPLES / "content").glob("*.jpg"))[: args.photos]
    styles = sorted((EXAMPLES / "style").glob("*.jpg"))[: args.styles]
    settings = Settings(size=args.size)
    torch.set_num_threads(1)
    local, local_wall = batch("local", photos, styles, settings)

    began = time.perf_counter()
    ray = connect("local")
    ray_start = time.perf_counter() - began
    runs = {}
    for workers in (1, 2):
        summary, wall = batch(f"ray_{workers}", photos, styles, settings, RayExecutor(workers=workers, cpus=1))
        runs[workers] = (summary, wall)
    ray.shutdown()

    items = len(photos) * len(styles)
    steady_local = [r.seconds for r in local.records[1:]]
    steady_ray = [r.seconds for r in runs[1][0].records[1:]]
    raw = np.mean(steady_ray) / np.mean(steady_local) - 1
    # what is not painting: loading and writing (both), sending and returning (Ray); immune to the CPU's drift
    rest_local = np.mean([r.seconds - r.painting for r in local.records[1:]])
    rest_ray = np.mean([r.seconds - r.painting for r in runs[1][0].records[1:]])
    overhead = (rest_ray - rest_local) / np.mean(steady_local)
    pairs = (("local", local), ("ray", runs[1][0]))
    painting = {name: np.mean([r.painting for r in run.records[1:]]) for name, run in pairs}
    same = all(
        np.array_equal(np.asarray(_open(WORK / "local" / name)), np.asarray(_open(WORK / "ray_2" / name)))
        for name in (Path(r.output).name for r in local.records)
    )
    first_ray = runs[1][0].records[0].seconds
    rows = "\n".join(
        f"| Ray, {w} worker{'s' * (w > 1)} of 1 core | {wall:.0f} s | {items / wall * 60:.2f} |"
        for w, (_, wall) in runs.items()
    )
    text = f"""## Batches on Ray (`bench_ray.py`)

Command: `.venv/bin/python benchmarks/bench_ray.py --size {args.size} --photos {args.photos} --styles {args.styles}`
Machine: {machine()}; CPU flags: {cpu_flags()}; {os.cpu_count()} cores. Precision fp32 (this CPU has no bf16).
Batch: {items} items ({", ".join(p.stem for p in photos)} x {", ".join(s.stem for s in styles)}) at {args.size} px,
default settings, each run into a fresh folder; every run uses one torch thread per worker (the local run: one
thread in this process).

| run | wall | pictures a minute |
| --- | --- | --- |
| local, 1 thread | {local_wall:.0f} s | {items / local_wall * 60:.2f} |
{rows}

- Per-item overhead of Ray (1 worker) over the local run, items after each worker's first: {overhead:+.2%} of
  an item (target under 5%): the time an item spends outside the engine (loading and writing; on Ray also
  sending the inputs and returning the picture) is {rest_ray:.2f} s on Ray against {rest_local:.2f} s here. The
  items' whole times differ by {raw:+.1%} ({np.mean(steady_ray):.1f} s against {np.mean(steady_local):.1f} s), of
  which painting itself {painting["ray"] / painting["local"] - 1:+.1%} ({painting["ray"]:.1f} s against
  {painting["local"]:.1f} s): the same work in another process, minutes apart, on a machine whose speed drifts.
- Fixed costs: starting Ray {ray_start:.1f} s; a worker's first item {first_ray:.1f} s against the local run's first
  {local.records[0].seconds:.1f} s (the worker imports torch and loads the VGG19 once).
- Throughput: 2 workers paint {runs[1][1] / runs[2][1]:.2f}x as many pictures a minute as 1 on this 2-core machine.
- The pictures from 2 Ray workers are {"pixel-identical to" if same else "NOT identical to"} the local run's.
"""
    write_section("bench_ray", text)
    print(text)


def _open(path: Path):
    from PIL import Image

    return Image.open(path).convert("RGB")


if __name__ == "__main__":
    main()
