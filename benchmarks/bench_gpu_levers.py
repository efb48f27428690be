"""Issue 22's levers on a GPU, side by side in one process: what each costs or saves at 512 and 1024 px.

    python benchmarks/bench_gpu_levers.py [--sizes 512,1024] [--repeats 5] [--device cuda] [--out FILE]

Each size is painted (model loaded, the shape warmed up once) ``--repeats`` times in each way:
- ``queued``: the default on a GPU (DeviceLBFGS, losses read every READ_EVERY steps, memory held to the plan);
- ``read every step``: torch's L-BFGS and a read of the losses every step (how brushwork ran before);
- ``no memory cap``: queued, with the caching allocator free to take the whole card.
Then, at the first size: host-device synchronisations per step (``torch.cuda.set_sync_debug_mode``), the
studio's previews (a picture every 0.2 s, as ``brushwork.web.jobs`` paces them on a GPU) against none, and a
``torch.profiler`` table of one run. Writes a markdown section to ``--out`` and prints it; runs on a CPU too
(``--device cpu``, to check the script), where the synchronisation count does not apply.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from common import EXAMPLES, machine
from judge import Judge
from PIL import Image

import brushwork
from brushwork.engine import runner as engine
from brushwork.model.device import encoder_for, pick_device
from brushwork.web.jobs import Pace, preview_interval

CONTENT, STYLE = EXAMPLES / "content/tubingen.jpg", EXAMPLES / "style/starry_night.jpg"


@contextlib.contextmanager
def uncapped(device: torch.device, planned: int) -> Iterator[bool]:
    yield False


def per_step_reads(device: torch.device) -> bool:
    return False


VARIANTS: dict[str, dict[str, object]] = {
    "queued": {},
    "read every step": {"stalls_on_reads": per_step_reads},
    "no memory cap": {"held_to_plan": uncapped},
}


@contextlib.contextmanager
def variant(changes: dict[str, object]) -> Iterator[None]:
    """The runner with some of its functions swapped, for the block."""
    kept = {name: getattr(engine, name) for name in changes}
    for name, value in changes.items():
        setattr(engine, name, value)
    try:
        yield
    finally:
        for name, value in kept.items():
            setattr(engine, name, value)


def timed(settings: brushwork.Settings, device: torch.device, callback: Callable | None = None) -> tuple[float, object]:
    """Wall seconds of one run (the device drained before and after), and its result."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    result = brushwork.transfer(CONTENT, STYLE, settings=settings, progress=callback)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


def reserved_gib(device: torch.device) -> float:
    return torch.cuda.max_memory_reserved() / 2**30 if device.type == "cuda" else float("nan")


def lever_rows(size: int, repeats: int, device: torch.device, judge: Judge, args: argparse.Namespace) -> list[str]:
    settings = brushwork.Settings(size=size, device=args.device)
    plan = brushwork.plan_for(CONTENT, STYLE, settings=settings).peak / 2**30
    rows = []
    for name, changes in VARIANTS.items():
        with variant(changes):
            timed(settings, device)  # cuDNN's search for this size's shapes, out of the timing
            walls, reserved, result = [], [], None
            for _ in range(repeats):
                wall, result = timed(settings, device)
                walls.append(wall)
                reserved.append(reserved_gib(device))
        s = judge.score(result.image)  # type: ignore[attr-defined]
        rows.append(
            f"| {size} px | {name} | {statistics.median(walls):.3f} s | {min(walls):.3f} s | "
            f"{max(reserved):.2f} GiB / {plan:.2f} GiB ({max(reserved) / plan:.2f}x) | "
            f"{s['content']:.3f} / {s['gram']:.3f} / {s['swd']:.3f} |"
        )
        print(rows[-1], flush=True)
    return rows


def syncs_per_step(size: int, device: torch.device, args: argparse.Namespace) -> str:
    """How many times a default run makes the host wait for the device, per step."""
    if device.type != "cuda":
        return "host-device synchronisations: not measured on a CPU"
    settings = brushwork.Settings(size=size, device=args.device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            _, result = timed(settings, device)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message).lower()]
    where: dict[str, int] = {}
    for w in syncs:
        key = f"{Path(w.filename).name}:{w.lineno}"
        where[key] = where.get(key, 0) + 1
    top = ", ".join(f"{k} x{n}" for k, n in sorted(where.items(), key=lambda kv: -kv[1])[:8])
    steps = result.steps  # type: ignore[attr-defined]
    return (
        f"host-device synchronisations at {size} px: {len(syncs)} in {steps} steps ({len(syncs) / steps:.2f} a "
        f"step); most at {top}"
    )


class Previews:
    """A progress callback that takes a preview as the studio does: off the device and encoded, at its pace."""

    def __init__(self, interval: float):
        self.pace, self.count = Pace(interval), 0

    def __call__(self, p: engine.Progress) -> None:
        if self.pace.due(p.step):
            p.image().save("/dev/null", "JPEG")
            self.count += 1


def previews(size: int, repeats: int, device: torch.device, args: argparse.Namespace) -> str:
    """The studio's previews (at its pace on this device) against a run without them."""
    settings = brushwork.Settings(size=size, device=args.device)
    interval = preview_interval(settings)
    plain, shown, counts = [], [], []
    for _ in range(repeats):
        plain.append(timed(settings, device)[0])
        show = Previews(interval)
        wall, _ = timed(settings, device, show)
        shown.append(wall)
        counts.append(show.count / wall)
    slower = statistics.median(shown) / statistics.median(plain) - 1
    return (
        f"studio previews at {size} px (one per {interval:g} s): {statistics.median(counts):.1f} a second; the run "
        f"{statistics.median(shown):.3f} s against {statistics.median(plain):.3f} s without ({slower:+.1%})"
    )


def profile(size: int, device: torch.device, args: argparse.Namespace) -> str:
    settings = brushwork.Settings(size=size, device=args.device)
    kinds = [torch.profiler.ProfilerActivity.CPU] + (
        [torch.profiler.ProfilerActivity.CUDA] if device.type == "cuda" else []
    )
    with torch.profiler.profile(activities=kinds) as prof:
        timed(settings, device)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=15, max_name_column_width=48)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    device = pick_device(args.device)
    encoder_for(brushwork.Settings(device=args.device), device)
    judge = Judge(Image.open(CONTENT), Image.open(STYLE), size=384)
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = [
        "## GPU levers (`bench_gpu_levers.py`)",
        "",
        f"Command: `python benchmarks/bench_gpu_levers.py --sizes {args.sizes} --repeats {args.repeats}` "
        f"(in `gpu_check.sh`). Machine: {machine()}.",
        "Default settings, Tübingen + The Starry Night, model loaded and each shape warmed up; wall time over "
        "the repeats, peak reserved memory against the plan's estimate, judge at 384 px (content / gram / swd).",
        "",
        "| size | way | median wall | best wall | peak reserved / plan | judge |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size in sizes:
        try:
            lines += lever_rows(size, args.repeats, device, judge, args)
        except Exception as exc:  # noqa: BLE001 - a failure is a result too
            lines.append(f"| {size} px | failed: {type(exc).__name__}: {str(exc)[:200]} | | | | |")
    lines.append("")
    for measure in (syncs_per_step, lambda s, d, a: previews(s, 3, d, a)):
        try:
            lines.append("- " + measure(sizes[0], device, args))
        except Exception as exc:  # noqa: BLE001
            lines.append(f"- failed: {type(exc).__name__}: {str(exc)[:200]}")
    try:
        lines += ["", f"Profile of one {sizes[0]} px run:", "", "```", profile(sizes[0], device, args), "```"]
    except Exception as exc:  # noqa: BLE001
        lines.append(f"- profile failed: {type(exc).__name__}: {str(exc)[:200]}")
    text = "\n".join(lines)
    if args.out:
        args.out.write_text(text + "\n")
    print(text, flush=True)


if __name__ == "__main__":
    main()
