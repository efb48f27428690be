"""``brushwork CONTENT STYLE [STYLE...] -o OUT``: paint a picture, with a progress bar and its recipe inside."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from brushwork import __version__
from brushwork.cli.kit import EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_USAGE, Parser, add_settings, flag, given_settings
from brushwork.core.formats import OUTPUT_WORDS
from brushwork.core.settings import INIT_WORDS, PRESET_HELP, PRESETS, resolve

if TYPE_CHECKING:
    from brushwork.core.settings import Settings
    from brushwork.engine.runner import Progress
    from brushwork.media.images import Picture

__all__ = ["parser", "commands", "command", "paint_and_save"]


def parser() -> Parser:
    p = Parser(
        prog="brushwork",
        description="Repaint a photo in the style of one or more paintings "
        "(neural style transfer, Gatys et al. 2016). To paint a video clip, or many photos at once, see "
        "'brushwork video' and 'brushwork batch' below.",
        epilog=commands(),
    )
    p.add_argument("content", help="the photo to repaint")
    p.add_argument("styles", nargs="+", metavar="style", help="one or more paintings whose style to use")
    p.add_argument("-o", "--output", help=f"output picture ({OUTPUT_WORDS}); required unless --plan")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items())
        + ". Options you type change the preset's values",
    )
    add_settings(p)
    p.add_argument(
        "--plan",
        action="store_true",
        help="print the run's plan (levels, whole or tiled, memory and time on this machine) and stop",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--version", action="version", version=f"brushwork {__version__}")
    return p


def commands() -> str:
    """The other commands, one a line, for the help and for ``brushwork`` typed alone (as git lists its own)."""
    from brushwork.cli import COMMANDS

    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {text}" for name, text in COMMANDS.items()]
    return "other commands ('brushwork COMMAND --help' tells more):\n" + "\n".join(lines)


def command(argv: Sequence[str]) -> int:
    from brushwork.core.errors import ImageError
    from brushwork.core.settings import blend_weights
    from brushwork.media.images import check_output_path, load_image

    p = parser()
    if not argv:
        p.exit(EXIT_USAGE, f"{p.format_usage()}\n{commands()}\n")
    args = p.parse_args(argv)
    if not args.plan and not args.output:
        p.error("the following arguments are required: -o/--output")
    settings = resolve(preset_name=args.preset, **given_settings(args))
    output = None if args.plan else check_output_path(args.output, args.overwrite, (args.content, *args.styles))
    content = load_image(args.content, "content")
    styles = [load_image(path, "style") for path in args.styles]
    blend_weights(settings, len(styles))
    if settings.init not in INIT_WORDS:
        load_image(settings.init, "init image")
    if output is None:
        from brushwork.engine.runner import measure_and_plan

        print(measure_and_plan(content, styles, settings).describe())
        return 0
    snap_dir, sheet_path = snapshot_paths(output)
    if settings.save_every:
        if sheet_path.exists() and not args.overwrite:
            raise ImageError(f"{sheet_path} already exists; choose another output name or pass --overwrite")
        earlier = sorted(snap_dir.glob("step_*.png"))
        if earlier and not args.overwrite:
            raise ImageError(f"{snap_dir} already holds snapshots; choose another output name or pass --overwrite")
        for path in earlier:  # --overwrite: a longer earlier run's snapshots must not mix with this run's
            path.unlink()
        try:
            snap_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise ImageError(
                f"cannot make the snapshot folder {snap_dir} ({exc.strerror or exc}); choose another output name"
            ) from None
    return paint_and_save(
        settings, content, styles, (args.content, *args.styles), output, overwrite=args.overwrite, quiet=args.quiet
    )


def snapshot_paths(output: Path) -> tuple[Path, Path]:
    """Where ``--save-every`` puts its snapshots and the progression sheet."""
    return output.with_name(output.stem + "_steps"), output.with_name(output.stem + "_progression.png")


def paint_and_save(
    settings: Settings,
    content: Picture,
    styles: list[Picture],
    paths: Sequence[str | Path],
    output: Path,
    *,
    overwrite: bool,
    quiet: bool,
) -> int:
    """Run with a progress bar, write the picture (also when stopped early) and say how it ended."""
    from tqdm import tqdm

    from brushwork.engine import recipes
    from brushwork.engine.runner import measure_and_plan, run
    from brushwork.report.sheets import contact_sheet

    planned = measure_and_plan(content, styles, settings)  # refuses a run that cannot fit before any work
    if not quiet:
        print(planned.describe(), file=sys.stderr)

    recipe = recipes.build(settings, paths[0], paths[1:])
    snap_dir, sheet_path = snapshot_paths(output)
    snapshots: list[tuple[str, Path]] = []
    bar = None

    def progress(p: Progress) -> None:
        nonlocal bar
        if bar is None and not quiet:  # made at the first step: a setup error (weights, device) stays one line
            # the engine's forecast of time left knows that finer levels cost more per step; tqdm's would not
            bar = tqdm(
                total=p.total,
                unit="step",
                dynamic_ncols=True,
                desc="painting",
                file=sys.stderr,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}{postfix}]",
            )
        if bar is not None:
            bar.total = p.total
            bar.set_postfix_str(
                f"about {p.eta:.0f} s left, level {p.level + 1}/{p.levels} {p.size[0]}x{p.size[1]} "
                + " ".join(f"{part} {value:.3g}" for part, value in p.losses.items() if part != "total"),
                refresh=False,
            )
            bar.update(p.step - bar.n)
        if settings.save_every and p.step % settings.save_every == 0:
            path = snap_dir / f"step_{p.step:05d}.png"
            recipes.save(p.image(), path, {**recipe, "snapshot_step": p.step}, overwrite=True)
            snapshots.append((f"step {p.step}", path))

    try:
        result = run(content, styles, settings, callback=progress, keep_memory=True, planned=planned)
        if bar is not None and result.status == "done":
            bar.total = bar.n  # the forecast is settled: the bar ends full
            bar.set_postfix_str("done", refresh=False)
            bar.refresh()
    finally:
        if bar is not None:
            bar.close()
    recipes.save_result(result, output, recipes.build(settings, paths[0], paths[1:], result), overwrite=overwrite)
    if snapshots:
        from PIL import Image

        items = [(label, Image.open(path)) for label, path in snapshots]
        sheet = contact_sheet(items, columns=min(len(items), 5), cell_width=min(320, result.image.width))
        recipes.save(sheet, sheet_path, recipe, overwrite=True)
    if not quiet:
        print(
            f"wrote {output} ({result.image.width}x{result.image.height}, {result.steps} steps, "
            f"{result.elapsed:.1f} s)" + (f"; progression sheet {sheet_path}" if snapshots else ""),
            file=sys.stderr,
        )
    if result.status == "interrupted":
        print(f"brushwork: {result.message}; wrote {output}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.status == "diverged":
        advice = f"; try a lower {flag(result.culprit)}" if result.culprit else ""
        print(f"brushwork: {result.message}{advice}; wrote {output}", file=sys.stderr)
        return EXIT_DIVERGED
    return 0
