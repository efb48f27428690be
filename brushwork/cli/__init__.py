"""The command line: ``brushwork CONTENT STYLE [STYLE...] -o OUT`` and its subcommands.

One module per subcommand, each named in :data:`COMMANDS` (the one list: ``brushwork --help`` shows it),
plus :mod:`~brushwork.cli.paint` for a picture, all built with the shared :mod:`~brushwork.cli.kit`.
Every user mistake ends in one line on stderr and exit status 2; Ctrl-C, SIGTERM and SIGHUP write the
best picture so far and exit 130; a diverged run writes its last good picture and exits 1.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Sequence

__all__ = ["main", "COMMANDS"]

COMMANDS = {
    "video": "paint a video clip, its frames held together along the optical flow",
    "batch": "paint every photo with every painting into a folder, resumably (on Ray too)",
    "recipe": "print a picture's recipe, or repeat its run",
    "sheet": "lay out pictures side by side, labelled",
    "figures": "remake the seed report's figures",
    "serve": "start the studio, a web page to paint pictures and clips in",
}
"""Subcommands by their first word, with what each does (``brushwork --help`` lists them); anything else is a
picture to paint (:mod:`brushwork.cli.paint`)."""


def _misspelt_command(word: str) -> str | None:
    """The command ``word`` is a slip of (``vidoe``: ``video``); None for what reads as a file's name or path."""
    import difflib

    if os.path.exists(word) or any(mark in word for mark in "-./" + os.sep):
        return None
    return next(iter(difflib.get_close_matches(word.lower(), COMMANDS, n=1, cutoff=0.75)), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``brushwork`` console script."""
    from brushwork.cli.kit import EXIT_INTERRUPTED, EXIT_USAGE
    from brushwork.core.interrupts import stopped_once

    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["help"]:  # as git and pip take it: the help of the command named after it, or brushwork's
        given = [*given[1:2], "--help"] if given[1:2] and given[1] in COMMANDS else ["--help"]
    name = given[0] if given and given[0] in COMMANDS else "paint"
    args = given[1:] if name != "paint" else given
    meant = _misspelt_command(given[0]) if name == "paint" and given else None
    if meant:
        print(f"brushwork: error: no command or file {given[0]!r}; did you mean 'brushwork {meant}'?", file=sys.stderr)
        return EXIT_USAGE
    with stopped_once():  # (the studio's server takes them over while it runs, and hands them back after)
        status = _status_of(name, args)
    if status == EXIT_INTERRUPTED and argv is None:  # the program is ending: a further Ctrl-C would only kill
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Python's own exit (status -2)
    return status


def _status_of(name: str, args: list[str]) -> int:
    """Run the command ``name`` and say how it ended, as an exit status, in one line on stderr for every way
    other than its own."""
    from brushwork.cli.kit import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, describe
    from brushwork.core.errors import OUT_OF_MEMORY, BrushworkError, DiskFull

    prog = "brushwork" if name == "paint" else f"brushwork {name}"
    try:
        command = importlib.import_module(f".{name}", __name__).command
        return int(command(args))
    except BrushworkError as exc:  # refused before any work, but for a disk that filled while it worked
        print(f"{prog}: error: {describe(exc)}", file=sys.stderr)
        return EXIT_FAILED if isinstance(exc, DiskFull) else EXIT_USAGE
    except KeyboardInterrupt:
        print("brushwork: interrupted before painting started; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print(f"brushwork: error: {OUT_OF_MEMORY}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `brushwork recipe X | head`: the reader has gone, so stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
