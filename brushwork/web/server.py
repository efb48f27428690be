"""Serving the studio: bind the port first (a busy port is a one-line error), then run uvicorn until stopped."""

from __future__ import annotations

import socket
import sys
import threading
import webbrowser
from pathlib import Path
from types import FrameType

import uvicorn

from ..allocator import share_main_heap
from ..errors import BrushworkError
from .app import create_app
from .limits import Limits

__all__ = ["ServerError", "serve"]


class ServerError(BrushworkError):
    """The studio cannot start; ``option`` names what to change (``data``, ``host`` or ``port``)."""

    def __init__(self, problem: str, option: str):
        super().__init__(problem)
        self.option = option


class _Server(uvicorn.Server):
    """On Ctrl-C, first end the open event streams, which would otherwise hold up the shutdown until their
    jobs finish; the app's shutdown then stops the painting job and saves its picture so far."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event):
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)


def serve(
    data: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    max_size: int = Limits.max_size,
    max_steps: int = Limits.max_steps,
    max_clip_seconds: float = Limits.max_clip_seconds,
) -> None:
    """Run the studio until Ctrl-C or SIGTERM; an unusable data folder or a busy port is a :class:`ServerError`."""
    share_main_heap()  # before uvicorn's and the painter's threads: the painter's big blocks stay reusable
    data = data.expanduser()
    try:
        data.mkdir(parents=True, exist_ok=True)
        (data / "jobs").mkdir(exist_ok=True)
    except OSError as exc:
        raise ServerError(f"cannot use {data} as the data folder ({exc.strerror or exc})", "data") from None
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ServerError(f"cannot listen on {host}:{port} ({exc.strerror or exc})", "port") from None
    app = create_app(data, max_size=max_size, max_steps=max_steps, max_clip_seconds=max_clip_seconds)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(bound_host, bound_host)
    url = f"http://{f'[{shown}]' if ':' in shown else shown}:{bound_port}/"
    print(f"brushwork studio at {url} (results in {data}); Ctrl-C to stop", file=sys.stderr, flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    server = _Server(config, app.state.stopping)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled; the studio has stopped cleanly
        pass
    print("brushwork studio stopped", file=sys.stderr)
