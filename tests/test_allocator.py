"""The allocator setting that keeps freed activation memory in the process during a run."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest
import torch

from brushwork import allocator
from brushwork.allocator import keep_freed_memory

pytestmark = pytest.mark.skipif(allocator._LIBC is None, reason="needs glibc")

BIG = 64 * 2**20 // 4  # a 64 MB float32 tensor: above glibc's largest mmap threshold
MEDIUM = 16 * 2**20 // 4  # 16 MB: below it, so glibc's own tuning reuses such blocks


def _page_faults_of_second_allocation(elements: int = BIG) -> int:
    torch.ones(elements).sum()  # allocate, touch and free once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(elements).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_freed_blocks_are_reused_inside_and_returned_outside():
    outside = _page_faults_of_second_allocation()  # glibc default: fresh pages every time
    with keep_freed_memory():
        inside = _page_faults_of_second_allocation()
    assert outside > 0 and inside * 5 < outside
    assert _page_faults_of_second_allocation() * 5 > outside  # defaults restored


def test_nested_use_keeps_the_setting_until_the_outermost_exit():
    outside = _page_faults_of_second_allocation()
    with keep_freed_memory():
        with keep_freed_memory():
            pass
        assert _page_faults_of_second_allocation() * 5 < outside
    assert allocator._depth == 0


def test_medium_blocks_are_still_reused_after_a_run():
    """Any mallopt call ends glibc's own tuning; leaving its starting limits would map 16 MB blocks afresh.

    Run in a fresh process: what earlier tests left in this one's heap must not decide it.
    """
    script = (
        "import resource, torch\n"
        "from brushwork.allocator import keep_freed_memory\n"
        f"n = {MEDIUM}\n"
        "with keep_freed_memory():\n"
        "    torch.ones(n).sum()\n"
        "torch.ones(n).sum()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "torch.ones(n).sum()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    pages = MEDIUM * 4 // resource.getpagesize()
    assert int(done.stdout.strip().splitlines()[-1]) < pages // 10
