"""Shared bits of the benchmark scripts: machine description and RESULTS.md sections."""

from __future__ import annotations

import platform
import re
import resource
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "brushwork" / "examples"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    """One line naming the processor, cores, accelerator and versions."""
    from brushwork.model.device import cpu_info

    cpu = cpu_info()[0] or platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {torch.get_num_threads()} torch threads, {gpu}; Python {sys.version.split()[0]}, "
        f"torch {torch.__version__}"
    )


def cpu_flags() -> str:
    """The instruction sets that decide how fast VGG19 runs on a CPU, as yes/no."""
    from brushwork.model.device import cpu_info

    flags = cpu_info()[1]
    if not flags:
        return "unknown (no /proc/cpuinfo)"
    named = {"AVX2": "avx2", "AVX512": "avx512f", "AVX512-BF16": "avx512_bf16", "AMX": "amx_bf16"}
    return ", ".join(f"{name} {'yes' if flag in flags else 'no'}" for name, flag in named.items())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_section(name: str, text: str) -> None:
    """Replace (or append) the section of RESULTS.md between this script's markers."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.strip()}\n{end}"
    current = (
        RESULTS.read_text()
        if RESULTS.exists()
        else "# Benchmark results\n\nEach section is written by the script it names; rerun the command to refresh it.\n"
    )
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    updated = (
        pattern.sub(lambda _: block, current) if pattern.search(current) else current.rstrip() + "\n\n" + block + "\n"
    )
    RESULTS.write_text(updated)


def paint(content, style, settings, callback=None):
    """One run the way the command line makes it (freed memory kept for the run): the engine's :class:`Result`."""
    from brushwork.engine.runner import run
    from brushwork.media.images import load_image

    return run(
        load_image(content, "content"), [load_image(style, "style")], settings, callback=callback, keep_memory=True
    )
