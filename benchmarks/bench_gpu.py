"""Default runs on a GPU: wall time, steps and peak GPU memory at several sizes, with judge scores.

    python benchmarks/bench_gpu.py [--sizes 512,1024,2048] [--device cuda] [--out FILE]

Run by ``gpu_check.sh`` on a lent GPU machine. The model is loaded (and cuDNN warmed up on one
short run) before the timed runs, as the issue's targets ask ("model loaded"). Writes a markdown
section (the RESULTS.md ``bench_gpu`` section) to ``--out`` and prints it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from common import EXAMPLES, machine, paint
from judge import Judge
from PIL import Image

import brushwork
from brushwork.engine import encoder_for, pick_device

CONTENT, STYLE = EXAMPLES / "content/tubingen.jpg", EXAMPLES / "style/starry_night.jpg"
TARGETS = {512: 2.0, 2048: 30.0}  # issue 9: seconds on one H100, model loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024,2048")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    device = pick_device(args.device)
    encoder_for(brushwork.Settings(device=args.device), device)
    paint(CONTENT, STYLE, brushwork.Settings(size=128, steps=5, device=args.device))  # warm-up
    judge = Judge(Image.open(CONTENT), Image.open(STYLE), size=384)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        result = paint(CONTENT, STYLE, brushwork.Settings(size=size, device=args.device))
        if device.type == "cuda":
            torch.cuda.synchronize()
        wall = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
        s = judge.score(result.image)
        target = f"{'met' if wall <= TARGETS[size] else 'missed'} (< {TARGETS[size]:g} s)" if size in TARGETS else "-"
        rows.append(
            f"| {size} px | {result.status} | {result.steps} | {wall:.2f} s | {peak:.2f} GiB | "
            f"{s['content']:.3f} / {s['gram']:.3f} / {s['swd']:.3f} | {target} |"
        )
    text = f"""## GPU (`gpu_check.sh`, `bench_gpu.py`)

Command: `bash benchmarks/gpu_check.sh` on a lent GPU machine (default settings, Tübingen + The Starry Night).
Machine: {machine()}
Wall time of one default run, model loaded and warmed up; peak GPU memory as PyTorch allocated it; judge at 384 px
(content / gram / swd).

| size | status | steps | wall time | peak GPU memory | judge | target |
| --- | --- | --- | --- | --- | --- | --- |
""" + "\n".join(rows)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
