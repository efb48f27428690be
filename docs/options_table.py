"""The README's table of command-line options, made from the settings' specs (the one definition).

.venv/bin/python docs/options_table.py            # print it
.venv/bin/python docs/options_table.py --write    # put it into README.md (tests/test_readme.py checks it)
"""

from __future__ import annotations

import sys
from pathlib import Path

from brushwork.cli.kit import flag
from brushwork.core.settings import PRESET_HELP, SPECS, Settings

BEFORE = [
    (
        "`-o, --output`",
        "(required)",
        "output file: `.png`, `.jpg` or `.webp`; never overwritten unless `--overwrite`; not needed with `--plan`",
    ),
    (
        "`--preset`",
        "none",
        "; ".join(f"`{name}`: {text}" for name, text in PRESET_HELP.items())
        + ". Every option you type changes the preset's value",
    ),
]
AFTER = [
    ("`--plan`", "off", "print the run's plan (levels, whole or in tiles, memory and time on this machine) and stop"),
    ("`--overwrite`", "off", "allow replacing existing output files"),
    (
        "`-q, --quiet`",
        "off",
        "no plan, progress bar (step, losses, time left) or closing `wrote` line: only notes, warnings and errors",
    ),
    ("`--version`", "", "print brushwork's version and stop"),
]


def _default(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return "`" + ",".join(str(v) for v in value) + "`" if value else "none"
    if isinstance(value, str):
        return f"`{value}`"
    return f"{value:g}" if isinstance(value, float) else str(value)


def table() -> str:
    defaults = Settings()
    rows = [
        *BEFORE,
        *((f"`{flag(name)}`", _default(getattr(defaults, name)), spec.help) for name, spec in SPECS.items()),
        *AFTER,
    ]
    return "\n".join(
        ["| option | default | what it does |", "| --- | --- | --- |", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    )


README = Path(__file__).resolve().parents[1] / "README.md"


def write(readme: Path = README) -> None:
    """Replace the table in the README (from its header row to the first blank line) with :func:`table`."""
    text = readme.read_text(encoding="utf-8")
    start = text.index("| option | default | what it does |")
    end = text.index("\n\n", start)
    readme.write_text(text[:start] + table() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(table())
