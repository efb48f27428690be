"""``brushwork batch PHOTOS... --styles PAINTINGS... -o OUTDIR``: paint every photo with every painting, resumably."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from brushwork.cli.kit import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    Bar,
    Parser,
    add_output,
    add_preset,
    add_quiet,
    add_ray_options,
    add_settings,
    add_version,
    advice,
    given_settings,
    ray_executor,
    ray_session,
)
from brushwork.core.interrupts import stops_as_ctrl_c
from brushwork.core.settings import resolve
from brushwork.core.words import count, duration, time_left

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
    add_output(
        p,
        "the folder for the pictures and the log",
        required=True,
        metavar="OUTDIR",
        overwrite="replace pictures an earlier batch painted from other inputs or settings (else the batch refuses)",
    )
    p.add_argument(
        "--manifest",
        metavar="FILE",
        help="paint the pairs a file lists instead: CSV with columns photo,style[,output,masks,keep,painting_masks] "
        '(one painting a row), or JSON, a list of {"photo": ..., "styles": [...], "output": ..., "masks": [...], '
        '"keep": ..., "painting_masks": [...]} (a mask per painting); paths relative to the file, outputs named in '
        "OUTDIR",
    )
    add_preset(p)
    add_ray_options(p)
    add_settings(p, skip=("save_every",))  # a batch keeps no snapshots
    add_quiet(p, "no progress bars")
    add_version(p)
    return p


def command(argv: Sequence[str]) -> int:
    from brushwork.batch.inputs import collect
    from brushwork.batch.run import LocalExecutor, run_batch

    p = parser()
    args = p.parse_args(argv)
    if args.manifest is None and not args.photos and len(args.styles or ()) > 1:
        p.error(
            f"no PHOTOS: --styles takes every name after it ({' '.join(args.styles)}); give the photos before "
            "--styles: brushwork batch PHOTOS... --styles PAINTINGS... -o OUTDIR"
        )
    if args.manifest is None and (not args.photos or not args.styles):
        p.error("give PHOTOS and --styles PAINTINGS, or --manifest FILE")
    if args.manifest is not None and (args.photos or args.styles):
        p.error("give PHOTOS and --styles PAINTINGS, or --manifest FILE, not both")
    cluster = ray_session(p, args)
    settings = resolve(preset_name=args.preset, **given_settings(args))
    outdir = Path(args.output)
    items = collect(
        args.photos,
        args.styles or [],
        outdir,
        args.manifest,
        note=lambda note: print(f"brushwork batch: note: {note}", file=sys.stderr),
    )
    pictures = Bar("batch", "picture", quiet=args.quiet)
    steps = Bar("picture", "step", quiet=args.quiet, row=1, leave=False)  # the picture being painted, under

    def on_item(b: BatchProgress) -> None:
        steps.close()
        if b.record is not None:  # its notes said even with -q, as a picture's are
            for note in b.record.notes:
                Bar.say(f"brushwork batch: note: {_names(b.record)}: {note}")
        eta = f", {time_left(b.eta)}" if b.eta is not None and b.left else ""
        pictures.show(b.skipped + b.done + b.failed, b.total, f"{b.done} done, {b.failed} failed, {b.left} left{eta}")

    def on_step(s: Progress) -> None:
        steps.show(s.step, s.total, time_left(s.eta))

    executor = ray_executor(args)
    if executor is not None:
        executor.on_stop = lambda n, wait: Bar.say(
            f"stopping: waiting up to {wait:.0f} s for the {count(n, 'picture')} being painted, as far as they got "
            "(Ctrl-C again to drop them)"
        )
    if executor is not None and not args.quiet:
        executor.on_start = lambda pool: Bar.say(f"on Ray: {pool.describe()} started")
    stops = nullcontext() if executor is None else stops_as_ctrl_c()  # on Ray a second Ctrl-C drops the pictures
    with cluster:  # Ray stops after the report: an interrupted batch says so before Ray's own shutdown
        with pictures, steps, stops:
            summary = run_batch(
                items,
                settings,
                outdir,
                execute=executor or LocalExecutor(steps=None if args.quiet else on_step, keep_memory=True),
                callback=on_item,
                overwrite=args.overwrite,
            )
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
            "written are kept, and the same command goes on from there once it can write there",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if summary.status == "interrupted":
        kept = [r.kept for r in summary.records if r.kept]
        so_far = f"; the pictures so far are {', '.join(kept)}" if len(kept) > 1 else ""
        so_far = f"; the picture so far is {kept[0]}" if len(kept) == 1 else so_far
        print(
            f"brushwork batch: interrupted; {', '.join(parts)}, {summary.left} left{so_far}; "
            "the same command paints what is left (nothing was half-written)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"brushwork batch: {', '.join(parts)} in {duration(summary.elapsed)}", file=sys.stderr)
    return EXIT_FAILED if summary.failed else 0


def _names(record: Record) -> str:
    """The item as a user tells it apart: its photo, paintings and the picture it was to be."""
    paintings = " + ".join(Path(s).name for s in record.styles)
    return f"{Path(record.photo).name} with {paintings} -> {Path(record.output).name}"


def _reason(record: Record) -> str:
    return record.error + advice(record.culprit)
