"""Cost of one optimisation step's loss and gradient, with each of the engine's speed-ups undone in turn.

    .venv/bin/python benchmarks/bench_step.py [--sizes 512,1024] [--repeats 5] [--precisions fp32,bf16]

Variants, each in a fresh process, interleaved, on the Tübingen + Starry Night targets with the
default loss. fp32 (what every CPU without bf16 units runs, and ``--precision fp32`` anywhere):
- ``fp32``: plain autograd Gram, glibc's default allocator behaviour;
- ``fp32 + own Gram``: brushwork's Gram (one-matmul backward in the features' layout);
- ``fp32 + own Gram + kept memory``: adds ``keep_freed_memory``;
- ``fp32 + own Gram + kept memory, channels-last`` (what the engine runs in fp32 on a CPU): the bf16
  path's layout, which also hands the sliced-Wasserstein term its points without a transpose.
bf16 (what ``auto`` picks on CUDA and on CPUs with AVX512-BF16 or AMX):
- ``bf16``: bf16 autocast with channels-last, plain autograd Gram of float32 copies of the features;
- ``bf16 + own Gram``: adds brushwork's Gram (bf16 taken to float32 a chunk at a time);
- ``bf16 + own Gram + kept memory`` (what the engine runs in bf16);
- the same on a worker thread, as the studio paints: first with the thread's own heap, then
  with ``share_main_heap`` (what the studio does).
Records the median seconds per loss-and-gradient evaluation in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import torch
from common import EXAMPLES, cpu_flags, machine, write_section

import brushwork
from brushwork.engine.allocator import keep_freed_memory, share_main_heap
from brushwork.engine.inputs import prepare_inputs
from brushwork.media.images import load_image
from brushwork.model import losses
from brushwork.model.device import encoder_for, pick_device
from brushwork.model.objective import Objective
from brushwork.planning.levels import level_sizes

# name, bf16, own Gram, kept memory, thread, channels-last (fp32 only; bf16 always runs channels-last)
VARIANTS = (
    ("fp32", False, False, False, "main", False),
    ("fp32 + own Gram", False, True, False, "main", False),
    ("fp32 + own Gram + kept memory", False, True, True, "main", False),
    ("fp32 + own Gram + kept memory, channels-last", False, True, True, "main", True),
    ("bf16", True, False, False, "main", False),
    ("bf16 + own Gram", True, True, False, "main", False),
    ("bf16 + own Gram + kept memory", True, True, True, "main", False),
    ("the same on a worker thread", True, True, True, "thread", False),
    ("the same on a worker thread sharing the main heap", True, True, True, "shared", False),
)


def _autograd_gram(features: torch.Tensor) -> torch.Tensor:
    """What the Gram costs as a float32 copy and autograd's backward (two matmuls, a layout-clashing add)."""
    n, c, h, w = features.shape
    flat = features.float().reshape(n, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2))


def time_variant(
    size: int, bf16: bool, own_backward: bool, kept: bool, thread: str, channels_last: bool, repeats: int
) -> float:
    if thread != "main":
        if thread == "shared":
            share_main_heap()
        with ThreadPoolExecutor(max_workers=1) as pool:  # its thread starts here; errors come back with result()
            return pool.submit(time_variant, size, bf16, own_backward, kept, "main", channels_last, repeats).result()
    settings = brushwork.Settings(size=size, precision="bf16" if bf16 else "fp32")
    device = pick_device("auto")
    content = load_image(EXAMPLES / "content/tubingen.jpg", "content")
    style = load_image(EXAMPLES / "style/starry_night.jpg", "style")
    wh = level_sizes(*content.rgb.size, size, 1)[-1]
    content_t, styles = prepare_inputs(content, [style], settings, wh, device)
    original = losses._Gram.apply
    if not own_backward:
        losses._Gram.apply = _autograd_gram
    try:
        with keep_freed_memory() if kept else contextlib.nullcontext():
            layout = torch.channels_last if channels_last or bf16 else torch.contiguous_format
            encoder = encoder_for(settings, device).to(memory_format=layout)  # type: ignore[call-overload]
            content_t = content_t.contiguous(memory_format=layout)
            objective = Objective(encoder, content_t, styles, [1.0], settings, bf16)
            objective.channels_last = layout is torch.channels_last
            x = content_t.clone().requires_grad_(True)
            times = []
            for i in range(repeats + 2):  # two warm-up evaluations
                start = time.perf_counter()
                loss, _ = objective(x)
                (grad,) = torch.autograd.grad(loss, x)
                float(grad.sum())
                if i >= 2:
                    times.append(time.perf_counter() - start)
    finally:
        losses._Gram.apply = original
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--precisions", default="fp32,bf16", help="which variants to time (bf16 on a CPU without bf16 units is slow)"
    )
    parser.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        size, variant = args.worker
        print(time_variant(size, *VARIANTS[variant][1:], args.repeats))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    wanted = set(args.precisions.split(","))
    chosen = [(i, name) for i, (name, bf16, *_) in enumerate(VARIANTS) if ("bf16" if bf16 else "fp32") in wanted]
    rows = []
    for size in sizes:
        results: dict[str, list[float]] = {name: [] for _, name in chosen}
        for _ in range(2):  # interleave the variants so machine noise hits them alike
            for i, name in chosen:
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", str(size), str(i), "--repeats", str(args.repeats)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results[name].append(float(done.stdout.strip().splitlines()[-1]))
        base = min(results["fp32"])
        for _, name in chosen:
            best = min(results[name])
            rows.append(f"| {size} px | {name} | {best:.3f} s | {base / best:.2f}x |")
    text = f"""## Cost of one step (`bench_step.py`)

Command: `.venv/bin/python benchmarks/bench_step.py --sizes {args.sizes} --repeats {args.repeats} \
--precisions {args.precisions}`
Machine: {machine()}; CPU flags: {cpu_flags()}.
One evaluation of the default loss and its gradient with respect to the pixels (what L-BFGS asks for
each step), median of {args.repeats} after two warm-ups, best of two interleaved rounds, each in its own
process. Within each precision each row adds one of the engine's speed-ups to the row above; the engine runs
the last fp32 row (channels-last) on a CPU and "bf16 + own Gram + kept memory" in bf16. Speed-ups are against
the plain fp32 row.

| size | variant | seconds | speed-up vs fp32 |
| --- | --- | --- | --- |
""" + "\n".join(rows)
    write_section("bench_step", text)
    print(text)


if __name__ == "__main__":
    main()
