"""Keep freed memory in the process while a run lasts (glibc only; elsewhere a no-op).

glibc hands every block over 32 MB straight back to the kernel when it is freed,
so each step of a 1024 px run re-faults (and zeroes) gigabytes of fresh pages for
its activations: a third of the step's time. Inside :func:`keep_freed_memory` big
blocks come from the heap and are reused; afterwards glibc's default limits are set
again (its dynamic raising of them stays off) and the spare memory goes back to the system.
Only glibc's main heap holds blocks this big, so the saving is for runs on the main
thread (the CLI, scripts); a worker thread's heap still maps large blocks afresh.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Iterator

__all__ = ["keep_freed_memory"]

# mallopt parameters (malloc.h) and glibc's defaults for them.
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
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
                _LIBC.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                _LIBC.malloc_trim(0)
