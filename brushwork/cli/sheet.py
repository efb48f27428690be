"""``brushwork sheet PICTURES... -o OUT``: lay out pictures side by side, labelled."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from brushwork.cli.kit import Parser, add_output, number
from brushwork.core.formats import OUTPUT_WORDS
from brushwork.core.words import count

__all__ = ["parser", "command"]


def parser() -> Parser:
    p = Parser(prog="brushwork sheet", description="Lay out snapshots side by side, labelled (a progression sheet).")
    p.add_argument("pictures", nargs="+", help="the pictures, in order")
    add_output(p, f"the sheet to write ({OUTPUT_WORDS})", required=True, overwrite="replace an existing output file")
    p.add_argument(
        "--labels",
        type=lambda t: [s.strip() for s in t.split(",")],
        help="comma-separated labels (default: file names)",
    )
    p.add_argument("--columns", type=number(int), help="pictures per row (default: all in one row)")
    p.add_argument("--title", help="a line of text above the pictures")
    return p


def command(argv: Sequence[str]) -> int:
    from brushwork.media.files import check_output_path
    from brushwork.media.images import open_image, save_image
    from brushwork.report.sheets import contact_sheet

    p = parser()
    args = p.parse_args(argv)
    labels = args.labels or [Path(x).stem for x in args.pictures]
    if len(labels) != len(args.pictures):
        p.error(f"give one label per picture ({len(args.pictures)}), not {len(labels)}")
    if args.columns is not None and args.columns < 1:
        p.error("--columns must be at least 1")
    output = check_output_path(args.output, args.overwrite, tuple(args.pictures))
    items = [(label, open_image(path, "picture")) for label, path in zip(labels, args.pictures)]
    sheet = contact_sheet(items, columns=args.columns, title=args.title)
    save_image(sheet, output, overwrite=args.overwrite)
    pictures = count(len(items), "picture")
    print(f"wrote {output} ({sheet.width}x{sheet.height}, {pictures})", file=sys.stderr)
    return 0
