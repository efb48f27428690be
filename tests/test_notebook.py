"""The walkthrough notebook: generated from its script, and it runs end to end (small)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK = NOTEBOOKS / "style_transfer_walkthrough.ipynb"


def _builder():
    spec = importlib.util.spec_from_file_location("build_walkthrough", NOTEBOOKS / "build_walkthrough.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_notebook_is_the_generated_one_without_outputs():
    committed = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(committed)
    assert committed == _builder().build(), "run: python notebooks/build_walkthrough.py"
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert NOTEBOOK.read_text(encoding="utf-8") == nbformat.writes(_builder().build()) + "\n"


def test_notebook_runs_end_to_end_at_a_small_size():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", []))
    assert "SIZE =" in nb.cells[params].source and "STEPS =" in nb.cells[params].source
    # As papermill does: a cell right after the parameters overrides them. One torch thread: on a busy
    # shared CPU two OpenMP threads were measured 10x slower than one at this size.
    override = "SIZE = 64\nSTEPS = 6\nimport torch\ntorch.set_num_threads(1)"
    nb.cells.insert(params + 1, nbformat.v4.new_code_cell(override))
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    text = []
    images = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error"
            if out.output_type == "stream":
                text.append(out.text)
            images += "image/png" in out.get("data", {})
    text = "".join(text)
    assert "relu5_1" in text and "(1, 512, 3, 4)" in text  # layer names and shapes at 64 px (a 64x48 photo)
    assert "Gram matrix of relu2_1: (1, 128, 128)  symmetric: True" in text
    match = re.search(r"initial total loss ([0-9.e+-]+) -> final total loss ([0-9.e+-]+)", text)
    assert match, text
    assert float(match.group(2)) < float(match.group(1))
    assert "brushwork.stylize(preset='seed', size=64)" in text
    assert images >= 6  # inputs, feature maps, Gram matrices, loss curve, schedule, final comparison
