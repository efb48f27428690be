"""Keep freed memory in the process while a run lasts (glibc only; elsewhere a no-op).

glibc hands every block over 32 MB straight back to the kernel when it is freed,
so each step of a 1024 px run re-faults (and zeroes) gigabytes of fresh pages for
its activations: a third of the step's time. Inside :func:`keep_freed_memory` big
blocks come from the heap and are reused. Afterwards the spare memory goes back to the
system and the limits are set where glibc's own tuning ends up (any mallopt call stops
that tuning for good, so its starting values would leave the process slower than before).
A worker thread's own heap holds blocks up to 64 MB only, so there the biggest activations
(over 64 MB from about 1024 px) would still be mapped afresh; a server that paints on a
worker thread calls :func:`share_main_heap` first to give that thread the whole saving too.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Iterator

__all__ = ["keep_freed_memory", "share_main_heap"]

# mallopt parameters (malloc.h); after a run, glibc's default count of mapped blocks and
# the limits its dynamic tuning reaches on 64-bit (mmap threshold 32 MB, trim twice that).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -3, -4, -8
_AFTER_MMAP_THRESHOLD, _AFTER_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 32 * 2**20, 64 * 2**20, 65536
_NEVER_TRIM = 2**31 - 1


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - present only in glibc, not musl
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except (OSError, AttributeError):
        return None


_LIBC = _glibc()
_lock = threading.Lock()
_depth = 0


def share_main_heap() -> None:
    """Have threads that have not allocated yet use the main heap, so :func:`keep_freed_memory` covers them.

    A thread's own heap maps blocks over 64 MB afresh whatever mallopt says. Call before starting
    threads (a thread keeps the heap it first used); it lasts for the process, and its threads then
    share one heap lock, which costs little where one thread does the heavy work. glibc only; else a no-op.
    """
    if _LIBC is not None:
        _LIBC.mallopt(_M_ARENA_MAX, 1)


@contextlib.contextmanager
def keep_freed_memory() -> Iterator[None]:
    """Serve large allocations from the reusable heap for the duration of the block (re-entrant)."""
    global _depth
    if _LIBC is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _LIBC.mallopt(_M_MMAP_MAX, 0)
            _LIBC.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _LIBC.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                _LIBC.mallopt(_M_MMAP_THRESHOLD, _AFTER_MMAP_THRESHOLD)
                _LIBC.mallopt(_M_TRIM_THRESHOLD, _AFTER_TRIM_THRESHOLD)
                _LIBC.malloc_trim(0)
