"""``brushwork CONTENT STYLE [STYLE...] -o OUT``: paint a picture, with a progress bar and its recipe inside."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brushwork.cli.kit import (
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Bar,
    Parser,
    add_output,
    add_plan,
    add_preset,
    add_quiet,
    add_regions,
    add_settings,
    add_version,
    advice,
    given_settings,
    region_files,
    require_output,
)
from brushwork.core.formats import OUTPUT_WORDS
from brushwork.core.settings import resolve
from brushwork.core.words import count, time_left

if TYPE_CHECKING:
    from PIL import Image

    from brushwork.core.settings import Settings
    from brushwork.engine.runner import Progress, Result
    from brushwork.media.images import Picture
    from brushwork.media.masks import RegionFiles, Regions

__all__ = ["parser", "commands", "command", "paint_and_save", "check_snapshot_place"]


def parser() -> Parser:
    p = Parser(
        prog="brushwork",
        description="Repaint a photo in the style of one or more paintings "
        "(neural style transfer, Gatys et al. 2016). To paint a video clip, or many photos at once, see "
        "'brushwork video' and 'brushwork batch' below.",
        epilog=commands(),
    )
    p.add_argument("content", help="the photo to repaint")
    p.add_argument("styles", nargs="*", metavar="style", help="one or more paintings whose style to use (or --region)")
    add_output(p, f"output picture ({OUTPUT_WORDS}); required unless --plan", overwrite="replace existing output files")
    add_preset(p)
    add_regions(p)
    add_settings(p)
    add_plan(p, "print the run's plan (levels, whole or tiled, memory and time on this machine) and stop")
    add_quiet(p, 'no plan, progress bar or closing "wrote" line: only notes, warnings and errors')
    add_version(p)
    return p


def commands() -> str:
    """The other commands, one a line, for the help and for ``brushwork`` typed alone (as git lists its own)."""
    from brushwork.cli import COMMANDS

    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {text}" for name, text in COMMANDS.items()]
    return "other commands ('brushwork COMMAND --help' tells more):\n" + "\n".join(lines)


def command(argv: Sequence[str]) -> int:
    from brushwork.media.files import check_output_path

    p = parser()
    if not argv:
        p.exit(EXIT_USAGE, f"{p.format_usage()}\n{commands()}\n")
    args = p.parse_intermixed_args(argv)
    from brushwork.engine import recipes
    from brushwork.engine.inputs import load_inputs, measure_and_plan  # torch: only once the arguments parse

    require_output(p, args)
    style_paths, regions = region_files(p, args)
    settings = resolve(preset_name=args.preset, **given_settings(args))
    inputs = recipes.input_files(settings, args.content, style_paths, regions)
    output = None if args.plan else check_output_path(args.output, args.overwrite, inputs)
    loaded = load_inputs(Path(args.content), list(map(Path, style_paths)), regions, settings)  # now, before any work
    content, styles, masks = loaded.photo, loaded.paintings, loaded.regions
    if output is None:
        print(measure_and_plan(content, styles, settings, notes=masks.notes if masks is not None else ()).describe())
        return 0
    if settings.save_every:
        check_snapshot_place(output, args.overwrite, inputs)
    paths = (args.content, *style_paths)
    return paint_and_save(
        settings, content, styles, paths, output, overwrite=args.overwrite, quiet=args.quiet, regions=(regions, masks)
    )


def _loaded(path: Path) -> Image.Image:
    """A picture read whole and its file closed: a progression of a thousand snapshots opens one at a time."""
    from PIL import Image

    with Image.open(path) as picture:
        picture.load()
        return picture.copy()


def snapshot_paths(output: Path) -> tuple[Path, Path]:
    """Where ``--save-every`` puts its snapshots and the progression sheet."""
    return output.with_name(output.stem + "_steps"), output.with_name(output.stem + "_progression.png")


def check_snapshot_place(output: Path, overwrite: bool, inputs: Sequence[str | os.PathLike[str]]) -> None:
    """Refuse, before any work, an earlier run's snapshots or sheet (without ``--overwrite``), a file where the
    snapshot folder goes, and an input where a snapshot or the sheet goes (``--overwrite`` or not)."""
    from brushwork.core.errors import ImageError
    from brushwork.media.files import taken

    folder, sheet = snapshot_paths(output)
    for given in map(Path, inputs):
        if given.exists() and (given.resolve() == sheet.resolve() or given.resolve().parent == folder.resolve()):
            raise ImageError(
                f"{given} is one of the inputs and lies where --save-every puts its pictures; choose another output "
                "name"
            )
    if taken(sheet) and not overwrite:
        raise ImageError(f"{sheet} already exists; choose another output name or pass --overwrite")
    if folder.exists() and not folder.is_dir():
        raise ImageError(f"{folder} is a file where --save-every puts its snapshots; choose another output name")
    if any(folder.glob("step_*.png")) and not overwrite:
        raise ImageError(f"{folder} already holds snapshots; choose another output name or pass --overwrite")


def paint_and_save(
    settings: Settings,
    content: Picture,
    styles: list[Picture],
    paths: Sequence[str | Path],
    output: Path,
    *,
    overwrite: bool,
    quiet: bool,
    regions: tuple[RegionFiles | None, Regions | None] = (None, None),
) -> int:
    """Run with a progress bar, write the picture (also when stopped early) and say how it ended; ``regions``: the
    region files (for the recipe) and their masks (:func:`~brushwork.media.masks.load_regions`)."""
    from brushwork.core.interrupts import deaf_to_stops
    from brushwork.engine import recipes
    from brushwork.engine.inputs import measure_and_plan
    from brushwork.engine.runner import run

    files, masks = regions
    for note in masks.notes if masks is not None else ():  # said even with -q, and first: the user's file was not
        print(f"brushwork: note: {note}", file=sys.stderr)  # used as is, which may be a reason to stop the run now
    planned = measure_and_plan(content, styles, settings)  # refuses a run that cannot fit before any work
    if not quiet:
        print(planned.describe(), file=sys.stderr)
    if content.alpha is not None and output.suffix.lower() in (".jpg", ".jpeg"):
        print("brushwork: note: a JPEG has no transparency; the photo's is kept in a .png or .webp", file=sys.stderr)
    snapshots = _Snapshots(settings.save_every, output, recipes.build(settings, paths[0], paths[1:], regions=files))
    bar = Bar("painting", "step", quiet=quiet)

    def progress(p: Progress) -> None:
        bar.show(p.step, p.total, _step_words(p))
        snapshots.take(p)

    with bar:  # (a burst of Ctrl-C stops it once: see brushwork.cli.main)
        result = run(content, styles, settings, callback=progress, keep_memory=True, planned=planned, regions=masks)
        if result.status == "done":
            bar.finish()
    with deaf_to_stops():  # a Ctrl-C while a finished run's picture is written does not lose it
        final = recipes.build(settings, paths[0], paths[1:], result, regions=files)
        target = recipes.save_run(result, output, final, overwrite)  # stopped early: beside a picture there
        sheet = snapshots.sheet(result.image.width, target)
    return _report(result, target, sheet, quiet, kept=output if target != output else None)


def _step_words(p: Progress) -> str:
    """The bar's postfix: the time left, the level and its size, and each part of the loss."""
    parts = " ".join(f"{part} {value:.3g}" for part, value in p.losses.items() if part != "total")
    return f"{time_left(p.eta)}, level {p.level + 1}/{p.levels} {p.size[0]}x{p.size[1]} {parts}"


class _Snapshots:
    """``--save-every``: the picture every ``every`` steps, each with its recipe, then a sheet of them all.

    The snapshots are taken into a folder of their own beside the output and put where they belong only once the
    run has ended: beside the picture it wrote, whose name depends on how it ended (an interrupted run does not
    replace the finished picture, nor the snapshots beside it)."""

    def __init__(self, every: int, output: Path, recipe: dict[str, Any]):
        self.every, self.output, self.recipe = every, output, recipe
        self.folder: Path | None = None  # made at the first snapshot
        self.taken: list[tuple[str, Path]] = []

    def take(self, p: Progress) -> None:
        """Keep the picture at this step, if it is one to keep; a snapshot that cannot be written (a full disk)
        ends the snapshots, not the run: its picture matters more."""
        if not self.every or p.step % self.every:
            return
        from brushwork.core.errors import ImageError
        from brushwork.engine import recipes

        try:
            if self.folder is None:
                self.folder = Path(
                    tempfile.mkdtemp(prefix=f"{snapshot_paths(self.output)[0].name}.partial-", dir=self.output.parent)
                )
            path = self.folder / f"step_{p.step:05d}.png"
            recipes.save(p.image(), path, {**self.recipe, "snapshot_step": p.step}, overwrite=True)
        except (ImageError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            Bar.say(f"brushwork: note: no more snapshots ({reason}); the run goes on")
            self.every = 0
            return
        self.taken.append((f"step {p.step}", path))

    def sheet(self, width: int, picture: Path) -> Path | None:
        """Put the snapshots beside ``picture`` (where the run's picture went), replacing those of an earlier run
        there, and make their progression sheet, its cells no wider than the picture; None without any, or when
        the disk does not take the sheet (the picture is written: that is said, not failed)."""
        if not self.taken:
            return None

        from brushwork.core.errors import ImageError
        from brushwork.engine import recipes
        from brushwork.report.sheets import contact_sheet

        self._move_beside(picture)
        items = [(label, _loaded(path)) for label, path in self.taken]
        sheet = contact_sheet(items, columns=5, cell_width=min(320, width))
        path = snapshot_paths(picture)[1]
        try:
            return recipes.save(sheet, path, self.recipe, overwrite=True)
        except ImageError as exc:
            Bar.say(f"brushwork: note: no progression sheet ({exc})")
            return None

    def _move_beside(self, picture: Path) -> None:
        """The snapshots into ``picture``'s snapshot folder; an earlier run's there are removed only when this
        run's picture replaced that run's (a picture of another name keeps what lies beside it)."""
        assert self.folder is not None
        folder = snapshot_paths(picture)[0]
        earlier = sorted(folder.glob("step_*.png"))
        if earlier and picture != self.output:
            return  # someone else's snapshots: these stay in their own folder
        for path in earlier:
            path.unlink()
        folder.mkdir(exist_ok=True)
        self.taken = [(label, path.replace(folder / path.name)) for label, path in self.taken]
        with contextlib.suppress(OSError):
            self.folder.rmdir()


def _report(result: Result, output: Path, sheet: Path | None, quiet: bool, kept: Path | None = None) -> int:
    """What was written, as one line: the picture, or how a run that did not finish ended and what it kept (and
    the picture it did not replace, ``kept``)."""
    if not quiet and result.status == "done":
        print(
            f"wrote {output} ({result.image.width}x{result.image.height}, {count(result.steps, 'step')}, "
            f"{result.elapsed:.1f} s)" + (f"; progression sheet {sheet}" if sheet else ""),
            file=sys.stderr,
        )
    written = f"wrote {output}" + (f" and the progression sheet {sheet}" if sheet else "")
    written += f" ({kept} kept as it was)" if kept else ""
    if result.status == "interrupted":
        print(f"brushwork: {result.message}; {written}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.status == "diverged":
        lower = advice(result.culprit)
        print(f"brushwork: {result.message}{lower}; {written}", file=sys.stderr)
        return EXIT_DIVERGED
    return 0
