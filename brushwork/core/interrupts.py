"""How a run is stopped: SIGTERM and SIGHUP as Ctrl-C, the first of them only, and none while what it painted is
kept."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import FrameType
from typing import Union

__all__ = ["deaf_to_stops", "stops_as_ctrl_c", "stopped_once"]

_STOPS = tuple(sig for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if sig is not None)

Handler = Union[Callable[[int, Union[FrameType, None]], None], signal.Handlers]


def deaf_to_stops() -> AbstractContextManager[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP inside: the impatient second Ctrl-C that would otherwise lose the picture
    the first one stopped at, while it is written (well under a second)."""
    return _handled(_STOPS, signal.SIG_IGN)


def stopped_once() -> AbstractContextManager[None]:
    """Inside (every command), the first Ctrl-C, SIGTERM or SIGHUP stops what runs as Ctrl-C does (a
    ``KeyboardInterrupt``: a run killed by a service manager or a closed terminal keeps its picture so far, and the
    studio says it stopped), and the rest are ignored until the block ends: a burst of Ctrl-C cannot cut short the
    run's handling of the first (its best picture taken), nor the save of that picture after it."""
    return _handled(_STOPS, _stop_once)


def stops_as_ctrl_c() -> AbstractContextManager[None]:
    """Inside, every Ctrl-C, SIGTERM and SIGHUP stops what runs as Ctrl-C does: a batch on Ray, whose second Ctrl-C
    stops waiting for the workers to hand back their pictures."""
    return _handled(_STOPS, _as_ctrl_c)


@contextmanager
def _handled(signals: tuple[int, ...], handler: Handler) -> Iterator[None]:
    """``signals`` handled by ``handler`` inside, and as they were after. Only the main thread receives signals,
    so elsewhere (a studio job, a Ray worker's thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)


def _as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_once(signum: int, frame: FrameType | None) -> None:
    for sig in _STOPS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt
