"""``brushwork batch PHOTOS... --styles PAINTINGS... -o OUTDIR``: paint every photo with every painting, resumably."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brushwork import __version__
from brushwork.cli.kit import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    Parser,
    add_ray_options,
    add_settings,
    flag,
    given_settings,
    ray_executor,
    ray_session,
)
from brushwork.core.settings import PRESET_HELP, PRESETS, resolve
from brushwork.planning.run_plan import duration

if TYPE_CHECKING:
    from brushwork.batch.log import Record
    from brushwork.batch.run import BatchProgress, Summary
    from brushwork.engine.runner import Progress

__all__ = ["parser", "command"]


def parser() -> Parser:
    p = Parser(
        prog="brushwork batch",
        description="Paint every photo with every painting (or the pairs a manifest lists) into OUTDIR, each "
        "picture named PHOTO__PAINTING.png and carrying its recipe. OUTDIR/batch.jsonl logs every item; the same "
        "command again skips the pictures already painted from the same inputs and settings. Exit status 0 when "
        "every item succeeded, 1 when some failed (their reasons are printed and logged) or the batch stopped on "
        "a full disk, 2 for a usage error found before any work, 130 on Ctrl-C.",
    )
    p.add_argument("photos", nargs="*", metavar="PHOTOS", help="photos: files, folders (their pictures) or globs")
    p.add_argument("--styles", nargs="+", metavar="PAINTINGS", help="paintings: files, folders or globs")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="the folder for the pictures and the log")
    p.add_argument(
        "--manifest",
        metavar="FILE",
        help="paint the pairs a file lists instead: CSV with columns photo,style[,output], or JSON, a list of "
        '{"photo": ..., "styles": [...], "output": ...}; paths relative to the file, outputs named in OUTDIR',
    )
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items())
        + ". Options you type change the preset's values",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace pictures an earlier batch painted from other inputs or settings (else the batch refuses)",
    )
    add_ray_options(p)
    add_settings(p, skip=("save_every",))  # a batch keeps no snapshots
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("--version", action="version", version=f"brushwork {__version__}")
    return p


def command(argv: Sequence[str]) -> int:
    from tqdm import tqdm

    from brushwork.batch.inputs import collect
    from brushwork.batch.run import LocalExecutor, run_batch

    p = parser()
    args = p.parse_args(argv)
    if args.manifest is None and (not args.photos or not args.styles):
        p.error("give PHOTOS and --styles PAINTINGS, or --manifest FILE")
    if args.manifest is not None and (args.photos or args.styles):
        p.error("give PHOTOS and --styles PAINTINGS, or --manifest FILE, not both")
    cluster = ray_session(p, args)
    settings = resolve(preset_name=args.preset, **given_settings(args))
    outdir = Path(args.output)
    items = collect(args.photos, args.styles or [], outdir, args.manifest)
    bars: dict[str, Any] = {}

    def on_item(b: BatchProgress) -> None:
        if args.quiet:
            return
        if "items" not in bars:
            bars["items"] = tqdm(
                total=b.total,
                initial=b.skipped,
                unit="picture",
                desc="batch",
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format="{desc}: {n_fmt}/{total_fmt} pictures|{bar}| [{elapsed}{postfix}]",
            )
        if "steps" in bars:
            bars.pop("steps").close()
        eta = f", about {duration(b.eta)} left" if b.eta is not None and b.left else ""
        bars["items"].set_postfix_str(f"{b.done} done, {b.failed} failed, {b.left} left{eta}", refresh=False)
        bars["items"].update(b.skipped + b.done + b.failed - bars["items"].n)

    def on_step(s: Progress) -> None:
        if "steps" not in bars:
            bars["steps"] = tqdm(
                total=s.total,
                unit="step",
                desc="picture",
                position=1,
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps{postfix}",
            )
        bars["steps"].total = s.total
        bars["steps"].set_postfix_str(f"about {s.eta:.0f} s left", refresh=False)
        bars["steps"].update(s.step - bars["steps"].n)

    executor = ray_executor(args)
    if executor is not None and not args.quiet:
        executor.on_start = lambda pool: tqdm.write(f"on Ray: {pool.describe()} started", file=sys.stderr)
    try:
        with cluster:
            summary = run_batch(
                items,
                settings,
                outdir,
                execute=executor or LocalExecutor(steps=None if args.quiet else on_step, keep_memory=True),
                callback=on_item,
                overwrite=args.overwrite,
            )
    finally:
        for bar in bars.values():
            bar.close()
    return _report(summary)


def _report(summary: Summary) -> int:
    """Each failure's reason, then one summary line; the exit status says whether every item succeeded."""
    for record in summary.failures:
        print(f"failed: {_names(record)}: {_reason(record)}", file=sys.stderr)
    parts = [f"{summary.done} done"]
    if summary.failed:
        parts.append(f"{summary.failed} failed (see {summary.log})")
    if summary.skipped:
        parts.append(f"{summary.skipped} skipped as already painted")
    if summary.error:
        print(
            f"brushwork batch: error: {summary.error}; stopped: {', '.join(parts)}, {summary.left} left; the pictures "
            "written are kept, and the same command goes on from there once the log can be written",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if summary.status == "interrupted":
        print(
            f"brushwork batch: interrupted; {', '.join(parts)}, {summary.left} left; "
            "the same command goes on from there (nothing was half-written)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"brushwork batch: {', '.join(parts)} in {duration(summary.elapsed)}", file=sys.stderr)
    return EXIT_FAILED if summary.failed else 0


def _names(record: Record) -> str:
    return f"{Path(record.photo).name} with {' + '.join(Path(s).name for s in record.styles)}"


def _reason(record: Record) -> str:
    return record.error + (f"; try a lower {flag(record.culprit)}" if record.culprit else "")
