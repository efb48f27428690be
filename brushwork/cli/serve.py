"""``brushwork serve``: start the studio (see :mod:`brushwork.web`)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from brushwork.cli.kit import EXIT_USAGE, Parser, bounded, within
from brushwork.core.settings import SPECS

__all__ = ["parser", "command", "DEFAULT_DATA"]

DEFAULT_DATA = Path("~/.brushwork/studio")


def _token(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._~-]{8,}", text):
        raise argparse.ArgumentTypeError("must be at least 8 letters, digits or ._~- (it goes in an address)")
    return text


def parser() -> Parser:
    from brushwork.web.limits import Limits

    p = Parser(
        prog="brushwork serve",
        description="Start the brushwork studio: a web page for painting photos in the style of paintings, "
        "and the JSON API behind it (documented at /docs).",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; 0.0.0.0 (or ::, IPv6 and IPv4) shares the studio with your network, where only "
        "those with its token (printed in its address) may use it",
    )
    p.add_argument(
        "--token",
        type=_token,
        help="the studio's token instead of a new random one each start: the page sends it with each change, "
        "and a studio shared on a network asks every visitor for it",
    )
    p.add_argument("--port", type=bounded(int, 0, 65535), default=8000, help="port to listen on (0: any free port)")
    p.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        metavar="DIR",
        help="folder for uploads and results; the gallery lives here and survives restarts",
    )
    p.add_argument("--open", action="store_true", help="open the studio in a web browser")
    size, steps = SPECS["size"], SPECS["steps"]
    p.add_argument(
        "--max-size",
        type=within(size),
        default=Limits.max_size,
        metavar="PX",
        help="largest output size a job may ask for",
    )
    p.add_argument(
        "--max-steps",
        type=within(steps),
        default=Limits.max_steps,
        metavar="N",
        help="most steps a job may ask for",
    )
    p.add_argument(
        "--max-clip-seconds",
        type=bounded(float, 0.1, 3600.0),
        default=Limits.max_clip_seconds,
        metavar="S",
        help="longest part of a video clip a job may paint",
    )
    return p


def command(argv: Sequence[str]) -> int:
    """Serve until stopped: Ctrl-C or SIGTERM ends the studio with status 0, also while it is still starting."""
    p = parser()
    args = p.parse_args(list(argv))
    try:
        from brushwork.web.limits import Limits
        from brushwork.web.server import ServerError, serve

        limits = Limits(max_size=args.max_size, max_steps=args.max_steps, max_clip_seconds=args.max_clip_seconds)
        serve(args.data, args.host, args.port, args.open, limits, args.token)
    except KeyboardInterrupt:  # while loading (a service manager's stop at once): nothing to stop yet
        print("brushwork studio stopped before it started", file=sys.stderr)
    except ServerError as exc:  # (checked after: a stop while importing leaves it unnamed)
        p.exit(EXIT_USAGE, f"{p.prog}: error: {exc}; choose another --{exc.option}\n")
    return 0
