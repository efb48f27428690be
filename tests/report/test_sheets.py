"""Contact sheets: pictures in a grid, each labelled underneath within its own cell."""

from __future__ import annotations

import numpy as np
from PIL import Image

from brushwork.report.sheets import contact_sheet


def test_a_label_wider_than_its_cell_is_cut_short_not_run_into_the_next():
    grey = Image.new("RGB", (96, 72), (128, 128, 128))
    sheet = contact_sheet([("an extremely long label that goes on and on and on", grey), ("b", grey)], cell_width=96)
    text = np.asarray(sheet.convert("L"))[72 + 8 + 2 :, :]  # the label row, under the pictures
    gap = text[:, 8 + 96 : 8 + 96 + 8]  # the white between the two cells
    assert gap.min() == 255, "the first label reaches into the second cell"
    assert text[:, 8 : 8 + 96].min() < 128  # and something of it is written
