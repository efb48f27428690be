"""The allocator setting that keeps freed activation memory in the process during a run."""

from __future__ import annotations

import resource

import pytest
import torch

from brushwork import allocator
from brushwork.allocator import keep_freed_memory

pytestmark = pytest.mark.skipif(allocator._LIBC is None, reason="needs glibc")

BIG = 64 * 2**20 // 4  # a 64 MB float32 tensor: above glibc's largest mmap threshold


def _page_faults_of_second_allocation() -> int:
    torch.ones(BIG).sum()  # allocate, touch and free once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(BIG).sum()
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
