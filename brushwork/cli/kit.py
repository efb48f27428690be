"""The parser kit every subcommand shares: one-line errors, options built from the settings' specs, the
options several commands declare alike, and the progress bar.

Settings options are built from :data:`brushwork.core.settings.SPECS` and default to
"not given" (``argparse.SUPPRESS``), so a command knows exactly which options the user
typed: a preset then keeps every value the user did not type, and never drops one they did.
Abbreviated options are refused (``--style-w`` is not ``--style-weight``).
"""

from __future__ import annotations

import argparse
import difflib
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from brushwork import __version__
from brushwork.core.errors import BrushworkError, InputChangedError, OutputExistsError, SettingsError, WrongKindError
from brushwork.core.settings import (
    PRESET_HELP,
    PRESETS,
    RAY_SPECS,
    SPECS,
    VIDEO_SPECS,
    RayOptions,
    Settings,
    Spec,
)
from brushwork.core.words import try_lower

if TYPE_CHECKING:
    from brushwork.media.masks import RegionFiles

__all__ = [
    "EXIT_USAGE",
    "EXIT_DIVERGED",
    "EXIT_INTERRUPTED",
    "EXIT_FAILED",
    "Parser",
    "HelpFormatter",
    "add_settings",
    "within",
    "advice",
    "given_settings",
    "add_preset",
    "add_output",
    "add_overwrite",
    "add_plan",
    "require_output",
    "add_quiet",
    "add_version",
    "add_ray_options",
    "ray_session",
    "ray_executor",
    "ray_options",
    "Bar",
    "flag",
    "describe",
    "number",
    "bounded",
    "add_regions",
    "region_files",
]

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 1, 130
EXIT_FAILED = 1
"""A run that went wrong on the way (some items failed, a full disk), not a usage error."""
_OWN = ("preset", "ray", *RAY_SPECS)
"""The kit's options besides the settings; an error below names them as it names a setting (``ray``)."""


def flag(field: str) -> str:
    """The command-line option of a setting (``style_weight`` -> ``--style-weight``), or of the kit's own options."""
    known = field in SPECS or field in VIDEO_SPECS or field in _OWN
    return "--" + field.replace("_", "-") if known else field


def advice(culprit: str | None) -> str:
    """After a run whose loss overflowed: the option to lower (see :func:`~brushwork.core.words.try_lower`)."""
    return try_lower(culprit and flag(culprit))


def describe(error: BrushworkError) -> str:
    """An error in the command line's words: settings named by their options, with the option that helps."""
    if isinstance(error, SettingsError) and error.field:
        return f"{flag(error.field)} {error.problem}"
    if isinstance(error, OutputExistsError):
        return f"{error.path} already exists{error.why}; choose another name or pass --overwrite"
    if isinstance(error, WrongKindError):
        return f"{error}; " + (
            "paint a clip with 'brushwork video'" if error.clip else "paint it with 'brushwork' instead"
        )
    if isinstance(error, InputChangedError):
        return f"{error}, or pass --allow-changed to rerun with it as it is now"
    return str(error)


def _nearest(name: str, options: list[str]) -> str | None:
    """The option meant by an unknown one: one it begins with (``--init-image``, ``--out-dir``), those that begin
    with it, else one spelt nearly alike; None rather than a far-fetched guess."""
    within = [o for o in options if name.startswith(o)]  # --init-image: --init
    if within:
        return max(within, key=len)
    completions = [o for o in options if o.startswith(name)]  # --tile: --tile-size; --style: each --style-...
    if completions:
        return completions[0] if len(completions) == 1 else f"one of {', '.join(completions)}"
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.7)
    return close[0] if close else None


class Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line, and takes no abbreviated options."""

    def __init__(self, unknown_hint: str = "", **kwargs: Any):
        """``unknown_hint`` is said of an unknown option that is like none of the command's own."""
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(allow_abbrev=False, **kwargs)
        self.unknown_hint = unknown_hint

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse's, but an option it does not know is named first: argparse would take its value for the
        positional argument and blame that (``figures --out-dir x`` was "invalid choice: 'x'")."""
        given = list(sys.argv[1:] if args is None else args)
        for token in given[: given.index("--") if "--" in given else len(given)]:
            name = token.split("=", 1)[0]
            if name.startswith("--") and " " not in name and name not in self._option_string_actions:
                close = _nearest(name, [o for o in self._option_string_actions if o.startswith("--")])
                hint = f"did you mean {close}?" if close else self.unknown_hint
                self.error(f"unrecognized option {name}" + (f"; {hint}" if hint else ""))
        return super().parse_known_args(given, namespace)

    def error(self, message: str) -> NoReturn:
        if message.endswith("expected one argument"):  # argparse takes a value such as -1,2 for an option
            message += " (a value that starts with '-' goes as --option=VALUE)"
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
            or default in ((), [])
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


def within(spec: Spec) -> Callable[[str], int]:
    """An argparse type: a whole number within an int setting's bounds (another command's option that takes the
    setting's values: the studio's largest size and steps, the figures' size)."""
    return bounded(int, int(spec.low or 1), int(spec.high or 1))


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
    """``a,b,c`` as its items; nothing at all is none, but an empty item (``1,,2``, ``1,``) is a typo, refused."""
    if not text.strip():
        return ()
    parts = tuple(part.strip() for part in text.split(","))
    if not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty item; separate the values by single commas")
    return parts


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
        _add_spec(group, name, spec, argparse.SUPPRESS, getattr(defaults, name))


def _add_spec(group: argparse._ArgumentGroup, name: str, spec: Spec, default: Any, shown: Any) -> None:
    """The option of one setting, typed and bounded by its spec; ``--help`` shows ``shown`` as its default (the
    parsed ``default`` is a marker that it was not typed)."""
    typed = {"choices": spec.choices} if spec.kind == "choice" else {"type": _TYPES[spec.kind], "metavar": spec.metavar}
    action = group.add_argument(flag(name), dest=name, default=default, help=spec.help, **typed)
    action.shown_default = shown  # type: ignore[attr-defined]


def given_settings(args: argparse.Namespace, specs: dict[str, Spec] = SPECS) -> dict[str, Any]:
    """The settings the user typed (options they did not type are absent)."""
    return {name: value for name, value in vars(args).items() if name in specs}


def add_preset(p: argparse.ArgumentParser) -> None:
    """``--preset``: a named set of settings, which the options typed change."""
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items())
        + ". Options you type change the preset's values",
    )


def add_output(
    p: argparse.ArgumentParser, what: str, *, overwrite: str, required: bool = False, metavar: str | None = None
) -> None:
    """``-o/--output`` (``what`` it is) and ``--overwrite`` (``overwrite``: what replacing means here)."""
    p.add_argument("-o", "--output", required=required, metavar=metavar, help=what)
    add_overwrite(p, overwrite)


def add_overwrite(p: argparse.ArgumentParser, what: str = "replace an existing output file") -> None:
    """``--overwrite``: an existing output is never replaced without it."""
    p.add_argument("--overwrite", action="store_true", help=what)


def add_plan(p: argparse.ArgumentParser, what: str) -> None:
    """``--plan``: print the plan (``what`` it holds) and stop; ``-o`` is then not needed (:func:`require_output`)."""
    p.add_argument("--plan", action="store_true", help=what)


def require_output(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a command with neither ``-o`` nor ``--plan``, as argparse refuses a missing required option."""
    if not args.plan and not args.output:
        p.error("the following arguments are required: -o/--output")


def add_quiet(p: argparse.ArgumentParser, what: str = "no progress bar") -> None:
    """``-q/--quiet``: ``what`` is left unsaid."""
    p.add_argument("-q", "--quiet", action="store_true", help=what)


def add_version(p: argparse.ArgumentParser) -> None:
    """``--version``: which brushwork answers."""
    p.add_argument("--version", action="version", version=f"brushwork {__version__}")


def add_ray_options(p: argparse.ArgumentParser, clip: bool = False) -> None:
    """``--ray`` and the :class:`RayOptions` (a clip's segments' length only for a ``clip``), for the commands that
    can spread their work over a Ray cluster."""
    group = p.add_argument_group(RAY_SPECS["workers"].group)
    group.add_argument(
        "--ray",
        metavar="WHERE",
        help="paint on Ray workers: local (start Ray on this machine), auto (the cluster this machine is in) "
        "or HOST:PORT of a cluster's head",
    )
    defaults = RayOptions()
    for name, spec in RAY_SPECS.items():
        if name != "segment_frames" or clip:
            _add_spec(group, name, spec, None, getattr(defaults, name))


def ray_session(p: argparse.ArgumentParser, args: argparse.Namespace) -> AbstractContextManager[Any]:
    """With ``--ray``: connected to the cluster (one out of reach is refused before any work) until the block ends,
    then a Ray started here is stopped, deaf to Ctrl-C. Without it, nothing; and the Ray-only options are refused."""
    if not args.ray:
        given = [name for name in RAY_SPECS if getattr(args, name, None) is not None]
        if given:
            p.error(f"{', '.join(map(flag, given))} only appl{'y' if len(given) > 1 else 'ies'} with --ray")
        return nullcontext()
    ray_options(args)  # out of bounds: refused before Ray starts
    from brushwork.cluster import session

    return session(args.ray)


def ray_executor(args: argparse.Namespace) -> Any:
    """The :class:`brushwork.cluster.RayExecutor` the options ask for, or None without ``--ray``."""
    if not args.ray:
        return None
    from brushwork.cluster import RayExecutor

    return RayExecutor(args.ray, ray_options(args))


def ray_options(args: argparse.Namespace) -> RayOptions:
    """The :class:`RayOptions` as typed, the rest at their defaults."""
    return RayOptions(**{name: getattr(args, name) for name in RAY_SPECS if getattr(args, name, None) is not None})


LOGGED_EVERY = 10.0
"""Seconds between a progress bar's lines where stderr is not a terminal."""


class Bar:
    """A progress bar on stderr, counting ``unit``s (steps, frames, pictures).

    Made at the first :meth:`show`, so that an error while setting up (the weights, the device) stays one
    line, and never when ``quiet``; closed when its ``with`` block ends. The time left goes in its postfix as
    the engine forecasts it: finer levels cost more per step, which tqdm's own rate would not know. ``row`` 1
    and ``leave=False`` make a bar under another that goes once its work is done. Into a file or a pipe (a log,
    CI) it is drawn every :data:`LOGGED_EVERY` seconds, not ten times a second.
    """

    def __init__(self, desc: str, unit: str, *, quiet: bool = False, row: int = 0, leave: bool = True):
        self.desc, self.unit, self.quiet, self.row, self.leave = desc, unit, quiet, row, leave
        self.bar: Any = None

    def show(self, count: int, total: int, postfix: str = "", *, refresh: bool = False) -> None:
        """``count`` of ``total`` done, ``postfix`` after the time taken (drawn at once when ``refresh``)."""
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                unit=self.unit,
                desc=self.desc,
                position=self.row,
                leave=self.leave,
                file=sys.stderr,
                dynamic_ncols=True,
                mininterval=0.1 if sys.stderr.isatty() else LOGGED_EVERY,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                + self.unit
                + "s [{elapsed}{postfix}]",
            )
        self.bar.total = total
        self.bar.set_postfix_str(postfix, refresh=refresh)
        self.bar.update(count - self.bar.n)

    def finish(self) -> None:
        """The forecast is settled: the bar ends full, saying so."""
        if self.bar is not None:
            self.bar.total = self.bar.n
            self.bar.set_postfix_str("done", refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        """Take the bar off; a later :meth:`show` starts a new one."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @staticmethod
    def say(line: str) -> None:
        """A line on stderr above the bars, which are drawn again below it."""
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)


def add_regions(p: Parser, where: str = "") -> None:
    """Where each painting applies, and what is kept as the photo (see brushwork.media.masks); ``where`` says
    more of the masks, for this command."""
    group = p.add_argument_group(
        "regions",
        "a painting per part of the photo: white where it applies, black where not, grey on a soft edge; "
        f"where no mask reaches, the photo is kept{'; ' + where if where else ''}",
    )
    group.add_argument(
        "--masks",
        action="append",
        metavar="MASK,...",
        help="one mask picture per painting, in the paintings' order (or --masks once per painting)",
    )
    group.add_argument(
        "--regions", action="append", metavar="MAP", help="one colour-coded map of the regions (with --region)"
    )
    group.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="COLOUR=PAINTING",
        help="a region map's colour (as CSS writes it: #0000ff, #00f, blue) and its painting, "
        'e.g. "#0000ff=starry.jpg"; once per painting',
    )
    group.add_argument(
        "--keep", action="append", metavar="MASK", help="a region kept close to the photo (a face, a logo): no style"
    )
    group.add_argument(
        "--painting-masks",
        action="append",
        metavar="MASK,...",
        help="one mask per painting, drawn on the painting: the part of it whose style is learnt (its sky, say)",
    )


def region_files(p: Parser, args: argparse.Namespace) -> tuple[list[str], RegionFiles]:
    """The paintings and the regions the options give: the positional paintings, or those --region names."""
    from brushwork.media.masks import RegionFiles

    if args.region and args.styles:
        p.error("give the paintings either after the photo or in --region COLOUR=PAINTING, not both")
    if bool(args.region) != bool(args.regions):
        p.error("--regions MAP and --region COLOUR=PAINTING go together")
    pairs = [text.partition("=") for text in args.region]
    if any(not sep or not colour or not painting for colour, sep, painting in pairs):
        p.error('--region takes COLOUR=PAINTING, e.g. "#0000ff=starry.jpg"')
    styles = [painting for _, _, painting in pairs] or list(args.styles)
    if not styles:
        p.error("the following arguments are required: style")
    regions = RegionFiles(
        _mask_list(p, args.masks, "--masks"),
        _one_mask(p, args.regions, "--regions"),
        tuple(colour for colour, _, _ in pairs),
        _one_mask(p, args.keep, "--keep"),
        _mask_list(p, args.painting_masks, "--painting-masks"),
    )
    return styles, regions


def _mask_list(p: Parser, given: list[str] | None, option: str) -> tuple[Path, ...]:
    """The masks of each time the option is given, in order: ``A.png,B.png`` as paths (one file whose own name
    has a comma, ``sky,2.png``, where the parts are no files); an empty name (``--masks ""``, a trailing comma) is
    refused."""
    return tuple(path for text in given or () for path in _mask_names(p, text, option))


def _mask_names(p: Parser, text: str, option: str) -> tuple[Path, ...]:
    names = [name.strip() for name in text.split(",")]
    if len(names) > 1 and Path(text).is_file() and not all(Path(name).is_file() for name in names):
        return (Path(text),)
    if not all(names):
        p.error(f"{option} has an empty mask name in {text!r}; give one file per painting, separated by commas")
    return tuple(Path(name) for name in names)


def _one_mask(p: Parser, given: list[str] | None, option: str) -> Path | None:
    """The one file the option takes; given twice, refused (the first would be dropped without a word)."""
    if not given:
        return None
    if len(given) > 1:
        p.error(f"{option} takes one picture, given {len(given)} times; draw all of it on one")
    text = given[0]
    if not text.strip():
        p.error(f"{option} needs a file name")
    return Path(text)
