"""The parser kit every subcommand shares: one-line errors, options built from the settings' specs.

Settings options are built from :data:`brushwork.core.settings.SPECS` and default to
"not given" (``argparse.SUPPRESS``), so a command knows exactly which options the user
typed: a preset then keeps every value the user did not type, and never drops one they did.
Abbreviated options are refused (``--style-w`` is not ``--style-weight``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, NoReturn

from brushwork.core.errors import BrushworkError, InputChangedError, OutputExistsError, SettingsError
from brushwork.core.settings import SPECS, VIDEO_SPECS, Settings, Spec

__all__ = [
    "EXIT_USAGE",
    "EXIT_DIVERGED",
    "EXIT_INTERRUPTED",
    "EXIT_FAILED",
    "Parser",
    "HelpFormatter",
    "add_settings",
    "given_settings",
    "flag",
    "describe",
    "number",
    "bounded",
]

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 1, 130
EXIT_FAILED = 1
"""A run that went wrong on the way (some items failed, a full disk), not a usage error."""
RAY_ONLY = ("workers", "worker_cpus", "retries", "segment_frames")
"""Options that only mean something with ``--ray``."""
_OWN = ("preset", "ray", *RAY_ONLY)
"""The kit's options besides the settings; an error below names them as it names a setting (``ray``)."""


def flag(field: str) -> str:
    """The command-line option of a setting (``style_weight`` -> ``--style-weight``), or of the kit's own options."""
    known = field in SPECS or field in VIDEO_SPECS or field in _OWN
    return "--" + field.replace("_", "-") if known else field


def describe(error: BrushworkError) -> str:
    """An error in the command line's words: settings named by their options, with the option that helps."""
    if isinstance(error, SettingsError) and error.field:
        return f"{flag(error.field)} {error.problem}"
    if isinstance(error, OutputExistsError):
        return f"{error.path} already exists{error.why}; choose another name or pass --overwrite"
    if isinstance(error, InputChangedError):
        return f"{error}, or pass --allow-changed to rerun with it as it is now"
    return str(error)


class Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line, and takes no abbreviated options."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(allow_abbrev=False, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default where it has a real one, a list the way it is typed (comma-separated); keeps
    the indented lines of a description or epilog as they are (a list of commands)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        fill = super()._fill_text
        return "\n\n".join(part if "\n  " in part else fill(part, width, indent) for part in text.split("\n\n"))

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = getattr(action, "shown_default", action.default)
        if (
            default is None
            or default is False
            or default == ()
            or default == argparse.SUPPRESS
            or action.required
            or "default:" in text
            or not action.option_strings
        ):
            return text
        shown = _typed(default).replace("%", "%%")
        return f"{text} (default: {shown})" if text else f"default: {shown}"


def _typed(value: Any) -> str:
    """A value as it is typed on the command line."""
    if isinstance(value, tuple):
        return ",".join(":".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def number(kind: type) -> Callable[[str], Any]:
    """An argparse type: a whole or real number, finite."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        return value

    parse.__name__ = kind.__name__
    return parse


def bounded(kind: type, low: float, high: float) -> Callable[[str], Any]:
    """An argparse type: a number between ``low`` and ``high``."""
    parse_number = number(kind)

    def parse(text: str) -> Any:
        value = parse_number(text)
        if not low <= value <= high:
            ends = (f"{int(low)}", f"{int(high)}") if kind is int else (f"{low:g}", f"{high:g}")
            raise argparse.ArgumentTypeError(f"{text} is not between {ends[0]} and {ends[1]}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _items(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _floats(text: str) -> tuple[float, ...]:
    return tuple(number(float)(part) for part in _items(text))


def _schedule(text: str) -> tuple[tuple[int, float], ...]:
    """``180:0.1,300:0.01`` -> ((180, 0.1), (300, 0.01))."""
    out = []
    for part in _items(text):
        step, sep, rate = part.partition(":")
        if not sep:
            raise argparse.ArgumentTypeError(f"{part!r} is not STEP:RATE (e.g. 180:0.1)")
        out.append((number(int)(step), number(float)(rate)))
    return tuple(out)


_TYPES: dict[str, Callable[[str], Any]] = {
    "int": number(int),
    "float": number(float),
    "layers": _items,
    "floats": _floats,
    "schedule": _schedule,
    "text": str,
}


def add_settings(
    parser: argparse.ArgumentParser,
    skip: Iterable[str] = (),
    specs: dict[str, Spec] = SPECS,
    defaults: Any = None,
) -> None:
    """Add one option per setting (but ``skip``), grouped as the specs group them; none has a parsed default.

    ``specs`` and ``defaults`` default to a picture's :class:`Settings`; a clip adds its ``VideoSettings``.
    """
    groups: dict[str, argparse._ArgumentGroup] = {}
    defaults = defaults if defaults is not None else Settings()
    for name, spec in specs.items():
        if name in skip:
            continue
        group = groups.get(spec.group) or groups.setdefault(spec.group, parser.add_argument_group(spec.group))
        action = group.add_argument(flag(name), dest=name, default=argparse.SUPPRESS, help=spec.help, **_argument(spec))
        action.shown_default = getattr(defaults, name)  # type: ignore[attr-defined]


def _argument(spec: Spec) -> dict[str, Any]:
    if spec.kind == "choice":
        return {"choices": spec.choices}
    return {"type": _TYPES[spec.kind], "metavar": spec.metavar}


def given_settings(args: argparse.Namespace, specs: dict[str, Spec] = SPECS) -> dict[str, Any]:
    """The settings the user typed (options they did not type are absent)."""
    return {name: value for name, value in vars(args).items() if name in specs}


WORKER_CPUS, RETRIES = 1, 2
"""Defaults of --worker-cpus and --retries (left None when not typed, so that without --ray they can be refused)."""


def add_ray_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """``--ray`` and how many workers, for the commands that can spread their work over a Ray cluster."""
    group = p.add_argument_group("Ray cluster (pip install 'brushwork[ray]')")
    group.add_argument(
        "--ray",
        metavar="WHERE",
        help="paint on Ray workers: local (start Ray on this machine), auto (the cluster this machine is in) "
        "or HOST:PORT of a cluster's head",
    )
    group.add_argument(
        "--workers",
        type=bounded(int, 1, 100000),
        metavar="N",
        help="Ray workers to start (default: one per GPU, else one per --worker-cpus cores)",
    )
    group.add_argument(
        "--worker-cpus",
        type=bounded(int, 1, 1024),
        metavar="N",
        help=f"cores (and torch threads) of each CPU worker (default: {WORKER_CPUS})",
    )
    group.add_argument(
        "--retries",
        type=bounded(int, 0, 100),
        metavar="N",
        help=f"times an item goes to a fresh worker when the one painting it dies (default: {RETRIES})",
    )
    return group


def ray_session(p: argparse.ArgumentParser, args: argparse.Namespace) -> AbstractContextManager[Any]:
    """With ``--ray``: connected to the cluster (one out of reach is refused before any work) until the block ends,
    then a Ray started here is stopped, deaf to Ctrl-C. Without it, nothing; and the Ray-only options are refused."""
    if not args.ray:
        given = [name for name in RAY_ONLY if getattr(args, name, None) is not None]
        if given:
            p.error(f"{', '.join(map(flag, given))} only apply with --ray")
        return nullcontext()
    from brushwork.cluster import session

    return session(args.ray)


def ray_executor(args: argparse.Namespace) -> Any:
    """The :class:`brushwork.cluster.RayExecutor` the options ask for, or None without ``--ray``."""
    if not args.ray:
        return None
    from brushwork.cluster import RayExecutor

    return RayExecutor(args.ray, args.workers, *ray_worker_options(args))


def ray_worker_options(args: argparse.Namespace) -> tuple[int, int]:
    """(cores of each worker, retries) as typed, else their defaults."""
    cpus = WORKER_CPUS if args.worker_cpus is None else args.worker_cpus
    return cpus, RETRIES if args.retries is None else args.retries
