"""How a run is stopped: SIGTERM and SIGHUP as Ctrl-C, and none of them while what it painted is kept."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["deaf_to_stops", "stops_as_ctrl_c"]

_STOPS = tuple(sig for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if sig is not None)
_ASKED = _STOPS[1:]  # SIGTERM and SIGHUP: a service manager's stop, a closed terminal


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


@contextmanager
def stops_as_ctrl_c() -> Iterator[None]:
    """SIGTERM and SIGHUP stop what runs inside as Ctrl-C does (a ``KeyboardInterrupt``), so that a run killed by
    a service manager or a closed terminal keeps its picture so far, and the studio says it stopped; the handlers
    there were come back after. Nothing changes outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _as_ctrl_c) for sig in _ASKED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
