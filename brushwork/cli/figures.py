"""``brushwork figures [progression|tv|styles|mondrian|all]``: remake the seed report's figures."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from brushwork.cli.kit import EXIT_INTERRUPTED, Bar, Parser, add_overwrite, add_quiet, bounded, within
from brushwork.core.errors import ImageError, OutputExistsError
from brushwork.core.settings import PRESETS, SPECS, Settings
from brushwork.report import FIGURE_SIZE, FIGURES, MONDRIAN_SIZE

if TYPE_CHECKING:
    from PIL import Image

    from brushwork.engine.runner import Progress

__all__ = ["parser", "command"]


def parser() -> Parser:
    p = Parser(
        prog="brushwork figures",
        description="Remake the seed report's figures: the seed preset's progression over steps, "
        "TV loss on versus off, and one photo in three styles. Each painted figure carries its recipe "
        "(see 'brushwork recipe FIGURE.png'); the Mondrian is drawn by code, not painted, and carries no "
        "painting's recipe.",
    )
    p.add_argument(
        "figure",
        nargs="?",
        default="all",
        choices=(*FIGURES, "all"),
        help="which figure to make; none named: all of them (about 10 minutes on a 2-core CPU)",
    )
    p.add_argument(
        "--out",
        default="docs/figures",
        metavar="DIR",
        help="folder for the PNGs, relative to the current folder (created if missing)",
    )
    p.add_argument(
        "--size",
        type=within(SPECS["size"]),
        default=FIGURE_SIZE,
        metavar="PX",
        help=f"longest side of each painted picture (the generated Mondrian, a painting, is always {MONDRIAN_SIZE} px)",
    )
    p.add_argument(
        "--steps-scale",
        type=bounded(float, 0.001, 1.0),
        default=1.0,
        metavar="F",
        help="run every optimisation for this fraction of its steps (quick previews and tests)",
    )
    p.add_argument(
        "--mondrian-seed",
        type=bounded(int, 0, 2**31 - 1),
        default=0,
        metavar="N",
        help="seed of the generated Mondrian",
    )
    p.add_argument(
        "--tv-weight",
        type=bounded(float, 0.0, float(SPECS["tv_weight"].high or 0)),
        metavar="W",
        help="TV weight of the 'TV on' picture of the tv figure "
        f"(default: the seed preset's, {PRESETS['seed']['tv_weight']:g})",
    )
    p.add_argument("--device", choices=SPECS["device"].choices, default=Settings().device, help=SPECS["device"].help)
    add_overwrite(p, "replace existing figures")
    add_quiet(p, "no progress bars")
    return p


def command(argv: Sequence[str]) -> int:
    from brushwork.report import figures

    args = parser().parse_args(list(argv))
    wanted = list(FIGURES) if args.figure == "all" else [args.figure]

    def done(path: Path, sheet: Image.Image | None, seconds: float) -> None:
        if args.quiet:
            return
        if sheet is None:
            print(f"wrote {path} ({MONDRIAN_SIZE}x{MONDRIAN_SIZE}, seed {args.mondrian_seed})", file=sys.stderr)
        else:
            print(f"wrote {path} ({sheet.width}x{sheet.height}, {seconds:.1f} s)", file=sys.stderr)

    bar = Bar("", "step", leave=False)  # one at a time, for the figures' runs one after another

    def watch(label: str, settings: Settings) -> Callable[[Progress], None]:
        bar.close()
        bar.desc = label
        return lambda p: bar.show(p.step, settings.steps)

    with bar:
        try:
            figures.make(
                wanted,
                Path(args.out),
                size=args.size,
                steps_scale=args.steps_scale,
                device=args.device,
                mondrian_seed=args.mondrian_seed,
                tv_weight=args.tv_weight,
                overwrite=args.overwrite,
                watcher=None if args.quiet else watch,
                done=done,
            )
        except OutputExistsError as exc:  # figures have no names to choose: their folder is the choice
            raise ImageError(
                f"{exc.path} already exists{exc.why}; pass --out FOLDER for another, or --overwrite"
            ) from None
        except KeyboardInterrupt as exc:
            stopped = str(exc) or "interrupted"
            print(
                f"brushwork figures: {stopped}; its figure was not written (those written before it are kept)",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
    return 0
