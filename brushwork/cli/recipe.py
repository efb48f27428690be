"""``brushwork recipe PICTURE [--rerun -o OUT]``: print a picture's recipe, or repeat its run."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from brushwork.cli.kit import Parser, add_output, add_quiet
from brushwork.core.errors import ImageError, SettingsError
from brushwork.core.formats import CLIP_INPUT_SUFFIXES
from brushwork.core.settings import Settings

__all__ = ["parser", "command"]


def parser() -> Parser:
    p = Parser(
        prog="brushwork recipe",
        description="Print the recipe stored in a brushwork picture, or repeat the run with --rerun.",
        unknown_hint="recipe prints a recipe or, with --rerun, repeats its run exactly: it takes no painting "
        "options; to change one, paint the recipe's inputs with brushwork",
    )
    p.add_argument("picture", help="a picture brushwork wrote (PNG, JPEG or WebP)")
    p.add_argument("--rerun", action="store_true", help="repeat the run from the recipe (needs -o)")
    add_output(p, "where the rerun writes its picture", overwrite="replace an existing output file")
    p.add_argument(
        "--allow-changed",
        action="store_true",
        help="rerun even if an input changed since the picture was made (the result will differ)",
    )
    add_quiet(p)
    return p


def command(argv: Sequence[str]) -> int:
    from brushwork.engine import recipes

    p = parser()
    args = p.parse_args(argv)
    given = [
        flag
        for flag, on in (("-o", args.output), ("--overwrite", args.overwrite), ("--allow-changed", args.allow_changed))
        if on
    ]
    if given and not args.rerun:
        p.error(f"{' and '.join(given)} go{'es' * (len(given) == 1)} with --rerun, which repeats the run")
    if Path(args.picture).suffix.lower() in CLIP_INPUT_SUFFIXES:
        raise ImageError(_clip_has_none(Path(args.picture)))
    recipe = recipes.read(args.picture)
    if not args.rerun:
        _show(recipe)
        return 0
    if not args.output:
        p.error("--rerun needs -o OUTPUT")
    _refuse_unrepeatable(recipe, args.picture)
    return _rerun(recipe, args)


def _show(recipe: dict[str, Any]) -> None:
    """The recipe as JSON on stdout."""
    text = json.dumps(recipe, indent=2, sort_keys=True, ensure_ascii=False)
    try:
        sys.stdout.write(text + "\n")
    except UnicodeEncodeError:  # a terminal that cannot show a name as written: escaped, as JSON allows
        sys.stdout.write(json.dumps(recipe, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def _refuse_unrepeatable(recipe: dict[str, Any], picture: str) -> None:
    """A figure's recipe (several runs, or the generated Mondrian) and a clip frame's are not one run to repeat."""
    if "figure" in recipe:
        figure = recipe["figure"]
        raise ImageError(
            f"{picture} is the seed report's {figure} figure; make it again with 'brushwork figures {figure}'"
        )
    if "frame" in recipe:  # its clip and settings are in it, but a frame is painted as part of the clip
        clip = next((item["name"] for item in recipe.get("inputs", []) if item.get("role") == "clip"), "the clip")
        raise ImageError(
            f"{picture} is frame {recipe['frame']} of a painted clip; paint {clip} again with 'brushwork video' "
            "and the settings this recipe shows"
        )


def _clip_has_none(clip: Path) -> str:
    """Where a clip's recipes are: in each frame brushwork painted, kept in the folder beside the clip (named as
    the clip's path is given), if it is there."""
    from brushwork.video.work_folder import work_folder

    frames = work_folder(clip)
    if frames.is_dir():
        return (
            f"a painted clip keeps no recipe itself: each of its frames has one, in {frames}/ "
            f"(brushwork recipe {frames}/frame_NNNNNN.png)"
        )
    return (
        f"a clip keeps no recipe itself: each frame brushwork paints has one, in a folder beside the clip it "
        f"writes ({frames.name}/ here), and there is none beside {clip}"
    )


def _on_a_device_here(settings: Settings, picture: str) -> Settings:
    """The settings, on this machine's own device where the one the picture was painted on is not here (a GPU's
    picture rerun on a laptop), said in a note: the rerun's pixels may then differ a little."""
    from brushwork.model.device import pick_device  # torch: only for a rerun

    try:
        pick_device(settings.device)
    except SettingsError:
        here = pick_device("auto").type
        print(
            f"brushwork: note: {picture} was painted on {settings.device}, which this machine lacks; this rerun "
            f"paints on {here}, so its pixels may differ a little",
            file=sys.stderr,
        )
        return settings.replace(device="auto")
    return settings


def _rerun(recipe: dict[str, Any], args: argparse.Namespace) -> int:
    """Paint the recipe's run again from its inputs (found and checked) into ``args.output``."""
    from brushwork.cli.paint import check_snapshot_place, paint_and_save
    from brushwork.engine import recipes
    from brushwork.engine.inputs import load_inputs
    from brushwork.media.files import check_output_path, file_sha256

    settings = Settings.from_dict(recipe["settings"])
    run: dict[str, Any] = recipe["run"] if isinstance(recipe.get("run"), dict) else {}
    if run.get("status") in ("interrupted", "diverged"):  # the rerun does not stop where that run did
        print(
            f"brushwork: note: {args.picture} was {run['status']} at step {run.get('steps')}; "
            f"this rerun paints all {settings.steps} steps",
            file=sys.stderr,
        )
    paths = recipes.find_inputs(recipe, args.picture, allow_changed=args.allow_changed)
    for item, path in zip(recipe["inputs"], paths):  # found elsewhere: say which file the rerun reads
        same = file_sha256(path) == item["sha256"]
        served = not Path(item["path"]).is_absolute()  # a studio's, in its folder: found by its name, as expected
        if path.resolve() != Path(item["path"]).resolve() and not (served and same):
            how = "the same bytes" if same else "changed, as --allow-changed lets it be"
            print(f"brushwork: note: {item['name']} is not at {item['path']}; using {path} ({how})", file=sys.stderr)
    settings = recipes.found_settings(recipe, paths, settings)  # a start picture, weights: as found and checked
    settings = _on_a_device_here(settings, args.picture)
    read = (args.picture, *paths)  # what the rerun's picture and snapshots may not replace
    output = check_output_path(args.output, args.overwrite, read)
    if settings.save_every:  # its snapshots and progression sheet too, beside the new picture
        check_snapshot_place(output, args.overwrite, read)
    roles = [item["role"] for item in recipe["inputs"]]
    style_paths = [path for path, role in zip(paths, roles) if role == "style"]
    regions = recipes.region_files(recipe, paths)
    loaded = load_inputs(paths[0], style_paths, regions, settings)
    return paint_and_save(
        settings,
        loaded.photo,
        loaded.paintings,
        (paths[0], *style_paths),
        output,
        overwrite=args.overwrite,
        quiet=args.quiet,
        regions=(regions, loaded.regions),
    )
