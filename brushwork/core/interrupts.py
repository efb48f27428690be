"""Stops that must not cut short the keeping of what a run painted."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["deaf_to_stops"]

_STOPS = tuple(sig for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if sig is not None)


@contextmanager
def deaf_to_stops() -> Iterator[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP inside: the impatient second Ctrl-C that would otherwise lose the picture
    the first one stopped at, while it is written (well under a second). Only the main thread receives signals,
    so elsewhere (a studio job, a Ray worker's thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOPS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
