"""``brushwork serve``: the studio, a local web page and JSON API over the same engine as the command line.

The port is bound here, before the app is built, so that a busy port is a one-line
error like every other mistake, and ``--port 0`` can report the port it got.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

import uvicorn

from ..allocator import share_main_heap
from ..cli import HelpFormatter
from .app import create_app
from .limits import Limits

__all__ = ["serve_command"]

EXIT_USAGE = 2
DEFAULT_DATA = Path("~/.brushwork/studio")


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line, like the rest of brushwork."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Server(uvicorn.Server):
    """On Ctrl-C, first end the open event streams, which would otherwise hold up the shutdown until their
    jobs finish; the app's shutdown then stops the painting job and saves its picture so far."""

    def handle_exit(self, sig, frame) -> None:  # type: ignore[no-untyped-def]
        self.config.app.state.stopping.set()
        super().handle_exit(sig, frame)


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value
    return parse


def _parser() -> _Parser:
    p = _Parser(prog="brushwork serve", formatter_class=HelpFormatter,
                description="Start the brushwork studio: a web page for painting photos in the style of paintings, "
                            "and the JSON API behind it (documented at /docs).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 shares the studio with your "
                   "network (it has no login)")
    p.add_argument("--port", type=_whole(0, 65535), default=8000, help="port to listen on (0: any free port)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, metavar="DIR",
                   help="folder for uploads and results; the gallery lives here and survives restarts")
    p.add_argument("--open", action="store_true", help="open the studio in a web browser")
    p.add_argument("--max-size", type=_whole(16, 8192), default=Limits.max_size, metavar="PX",
                   help="largest output size a job may ask for")
    p.add_argument("--max-steps", type=_whole(1, 100000), default=Limits.max_steps, metavar="N",
                   help="most steps a job may ask for")
    return p


def serve_command(argv: list[str]) -> int:
    """Run the studio until Ctrl-C; bad arguments, an unusable data folder or a busy port end in one line and exit 2."""
    parser = _parser()
    args = parser.parse_args(argv)
    share_main_heap()  # before uvicorn's and the painter's threads: the painter's big blocks stay reusable
    data = args.data.expanduser()
    try:
        data.mkdir(parents=True, exist_ok=True)
        (data / "jobs").mkdir(exist_ok=True)
    except OSError as exc:
        parser.exit(EXIT_USAGE, f"{parser.prog}: error: cannot use {data} as the data folder "
                                f"({exc.strerror or exc}); choose another with --data\n")
    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        sock = socket.create_server((args.host, args.port), family=family)
    except OSError as exc:
        parser.exit(EXIT_USAGE, f"{parser.prog}: error: cannot listen on {args.host}:{args.port} "
                                f"({exc.strerror or exc}); choose another --port or --host\n")
    app = create_app(data, max_size=args.max_size, max_steps=args.max_steps)
    host, port = sock.getsockname()[:2]
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    url = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"
    print(f"brushwork studio at {url} (results in {data}); Ctrl-C to stop", file=sys.stderr, flush=True)
    if args.open:
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled; the studio has stopped cleanly
        pass
    print("brushwork studio stopped", file=sys.stderr)
    return 0
