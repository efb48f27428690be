"""Does torch.compile pay on this machine? One step's loss and gradient, eager against compiled.

    .venv/bin/python benchmarks/bench_compile.py [--size 512] [--repeats 5]

Each mode runs in a fresh process, on the engine's own objective (bf16 where the engine uses it,
brushwork's Gram, kept memory), with the VGG19 encoder compiled by ``torch.compile`` (inductor) in
the compiled mode. Records the first evaluation (which includes compiling) and the median of the rest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from common import EXAMPLES, machine, write_section

import brushwork
from brushwork.engine.allocator import keep_freed_memory
from brushwork.engine.inputs import prepare_inputs
from brushwork.media.images import load_image
from brushwork.model.device import encoder_for, pick_device, use_bf16
from brushwork.model.objective import Objective
from brushwork.planning.levels import level_sizes

MODES = ("eager", "torch.compile")


def time_mode(size: int, compiled: bool, repeats: int) -> tuple[float, float]:
    settings = brushwork.Settings(size=size)
    device = pick_device("auto")
    content = load_image(EXAMPLES / "content/tubingen.jpg", "content")
    style = load_image(EXAMPLES / "style/starry_night.jpg", "style")
    wh = level_sizes(*content.rgb.size, size, 1)[-1]
    content_t, styles = prepare_inputs(content, [style], settings, wh, device)
    with keep_freed_memory():
        encoder = encoder_for(settings, device)
        objective = Objective(encoder, content_t, styles, [1.0], settings, use_bf16(settings, device))
        if compiled:
            objective.encoder = torch.compile(encoder)
        x = content_t.clone().requires_grad_(True)
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            loss, _ = objective(x)
            (grad,) = torch.autograd.grad(loss, x)
            float(grad.sum())
            times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(*time_mode(args.size, args.worker == 1, args.repeats))
        return
    rows = []
    for i, name in enumerate(MODES):
        with tempfile.TemporaryDirectory() as cache:  # an empty compile cache: what a user's first run meets
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    str(i),
                    "--size",
                    str(args.size),
                    "--repeats",
                    str(args.repeats),
                ],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache},
            )
        first, median = map(float, done.stdout.split()[-2:])
        rows.append(f"| {name} | {first:.1f} s | {median:.3f} s |")
    text = f"""## torch.compile (`bench_compile.py`)

Command: `.venv/bin/python benchmarks/bench_compile.py --size {args.size} --repeats {args.repeats}`
Machine: {machine()}
One evaluation of the engine's loss and gradient at {args.size} px, each mode in its own process:
the first evaluation (compiling included, from an empty compile cache) and the median of the next
{args.repeats}.

| mode | first evaluation | later evaluations |
| --- | --- | --- |
""" + "\n".join(rows)
    write_section("bench_compile", text)
    print(text)


if __name__ == "__main__":
    main()
