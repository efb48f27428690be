"""The allocator setting that keeps freed activation memory in the process during a run.

A block served from reused memory costs no page faults; one mapped afresh faults every page.
glibc may grow its heap a few times before a freed block fits the next request, so each test
counts how many of many allocations faulted rather than timing a single one.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from brushwork.engine import allocator
from brushwork.engine.allocator import keep_freed_memory

pytestmark = pytest.mark.skipif(allocator._LIBC is None, reason="needs glibc")

BIG = 64 * 2**20 // 4  # a 64 MB float32 tensor: above glibc's largest mmap threshold
MEDIUM = 16 * 2**20 // 4  # 16 MB: below it, so glibc's own tuning reuses such blocks
TRIES = 20
FEW = 8  # heap growth before reuse settles: measured at most 6 rounds (always the first ones)


def _faulting_allocations(elements: int = BIG, tries: int = TRIES) -> int:
    """How many of `tries` allocate-touch-free rounds faulted in over half their pages."""
    half = elements * 4 // resource.getpagesize() // 2
    faulted = 0
    for _ in range(tries):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        torch.ones(elements).sum()
        faulted += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before > half
    return faulted


def _faulting_allocations_in_a_fresh_process(script: str) -> int:
    """What ``script`` prints last; it runs beside this file, so it can import the helpers above."""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(__file__).parent, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_freed_blocks_are_reused_inside_and_returned_outside():
    """Run in a fresh process: a run an earlier test made in this one (the CLI's) may have ended glibc's defaults."""
    script = (
        (
            "from brushwork.engine.allocator import keep_freed_memory\n"
            "from test_allocator import _faulting_allocations\n"
            "before = _faulting_allocations()  # glibc default: fresh pages every time\n"
            "with keep_freed_memory():\n"
            "    inside = _faulting_allocations()\n"
            "after = _faulting_allocations()  # defaults restored\n"
            "print(int(before == after == TRIES and inside <= FEW))\n"
        )
        .replace("TRIES", str(TRIES))
        .replace("FEW", str(FEW))
    )
    assert _faulting_allocations_in_a_fresh_process(script) == 1


def test_nested_use_keeps_the_setting_until_the_outermost_exit():
    with keep_freed_memory():
        with keep_freed_memory():
            pass
        assert _faulting_allocations() <= FEW
    assert allocator._depth == 0


def test_medium_blocks_are_still_reused_after_a_run():
    """Any mallopt call ends glibc's own tuning; leaving its starting limits would map 16 MB blocks afresh.

    Run in a fresh process: what earlier tests left in this one's heap must not decide it.
    """
    script = (
        "import resource, torch\n"
        "from brushwork.engine.allocator import keep_freed_memory\n"
        "from test_allocator import MEDIUM, _faulting_allocations\n"
        "with keep_freed_memory():\n"
        "    torch.ones(MEDIUM).sum()\n"
        "print(_faulting_allocations(MEDIUM))\n"
    )
    assert _faulting_allocations_in_a_fresh_process(script) <= FEW


def test_a_worker_thread_sharing_the_main_heap_reuses_blocks_over_64_mb():
    """A thread's own heap maps such blocks afresh whatever mallopt says; the studio's painter shares the main one."""
    script = (
        "import threading, torch\n"
        "from brushwork.engine.allocator import keep_freed_memory, share_main_heap\n"
        "from test_allocator import BIG, _faulting_allocations\n"
        "share_main_heap()\n"
        "faulted = []\n"
        "def paint():\n"
        "    with keep_freed_memory():\n"
        "        faulted.append(_faulting_allocations(2 * BIG))\n"
        "thread = threading.Thread(target=paint)\n"
        "thread.start()\n"
        "thread.join()\n"
        "print(faulted[0])\n"
    )
    assert _faulting_allocations_in_a_fresh_process(script) <= FEW
