"""The README's Python examples run as written (shrunk to a small size), on the bundled pictures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


@pytest.fixture
def in_a_folder_with_pictures(tmp_path, monkeypatch, tubingen, starry_night, wave):
    """The file names the README uses, as small copies of the bundled pictures."""
    for name, source in (("photo.jpg", tubingen), ("starry_night.jpg", starry_night), ("wave.jpg", wave)):
        with Image.open(source) as img:
            img.convert("RGB").resize((96, 72)).save(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readme_has_python_examples():
    assert BLOCKS and any("brushwork.stylize" in block for block in BLOCKS)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_a_readme_example_runs_as_written(in_a_folder_with_pictures, index):
    code = re.sub(r"size=\d+", "size=32", BLOCKS[index])  # the same calls, at a test's size
    exec(compile(code, f"README.md python block {index + 1}", "exec"), {"__name__": "readme"})


def test_the_readmes_option_table_is_the_settings_definition():
    """The table is made from the settings' specs (docs/options_table.py), so it cannot drift from them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("options_table", ROOT / "docs" / "options_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.table() in (ROOT / "README.md").read_text(encoding="utf-8"), "run: python docs/options_table.py"
