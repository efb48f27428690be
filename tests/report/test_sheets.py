"""Contact sheets: pictures in a grid, each labelled underneath within its own cell."""

from __future__ import annotations

import numpy as np
from PIL import Image

from brushwork.report.sheets import contact_sheet


def test_a_label_longer_than_three_lines_is_cut_short_not_run_into_the_next_cell():
    grey = Image.new("RGB", (96, 72), (128, 128, 128))
    sheet = contact_sheet([("an extremely long label that goes on and on and on", grey), ("b", grey)], cell_width=96)
    text = np.asarray(sheet.convert("L"))[72 + 8 + 2 :, :]  # the label row, under the pictures
    gap = text[:, 8 + 96 : 8 + 96 + 8]  # the white between the two cells
    assert gap.min() == 255, "the first label reaches into the second cell"
    assert text[:, 8 : 8 + 96].min() < 128  # and something of it is written


def test_a_label_wider_than_its_cell_goes_on_to_more_lines_under_it_and_its_row_grows_to_hold_them():
    grey = Image.new("RGB", (96, 72), (128, 128, 128))
    one = contact_sheet([("short", grey), ("b", grey)], cell_width=96)
    two = contact_sheet([("TV on (weight 150)", grey), ("b", grey)], cell_width=96)  # "TV on (weight" / "150)"
    line_h = 18
    assert two.height == one.height + line_h
    text = np.asarray(two.convert("L"))[72 + 8 + 2 :, 8 : 8 + 96]
    assert text[:line_h].min() < 128 and text[line_h : 2 * line_h].min() < 128  # both lines written


def test_a_file_name_label_too_wide_for_a_line_breaks_after_its_dashes_and_underscores():
    from PIL import ImageDraw

    from brushwork.report.sheets import _font, _wrapped

    draw, font = ImageDraw.Draw(Image.new("RGB", (1, 1))), _font(13)
    lines = _wrapped(draw, "grace_hopper__woman-with-hat", font, 120)
    assert len(lines) > 1 and "".join(lines) == "grace_hopper__woman-with-hat"  # all of it, in parts
    assert all(draw.textlength(line, font=font) <= 120 for line in lines)
    assert all(line.endswith(("_", "-")) for line in lines[:-1])
    assert _wrapped(draw, "TV on (tv_weight 150)", font, 96) == ["TV on", "(tv_weight", "150)"]  # spaces first


def test_a_thin_strip_is_shrunk_to_fit_and_transparency_is_white():
    strip = Image.new("RGB", (30, 900), (0, 0, 0))
    hidden = Image.new("RGBA", (96, 72), (255, 0, 255, 0))  # magenta stored under full transparency
    sheet = contact_sheet([("strip", strip), ("clear", hidden)], cell_width=96)
    assert sheet.height < 96 * 1.5 + 80  # not 96 * 30 px of white
    cells = np.asarray(sheet)
    strip_cell = cells[8 : 8 + 144, 8 : 8 + 96]
    assert strip_cell[:, 48].max() == 0 and strip_cell[:, 0].min() == 255  # centred, white around it
    clear = cells[8 : 8 + 72, 8 + 96 + 8 : 8 + 2 * 96 + 8]
    assert clear.min() == 255  # white, not the magenta under the transparency


def test_a_long_title_is_cut_short_within_the_sheet():
    grey = Image.new("RGB", (96, 72), (128, 128, 128))
    sheet = contact_sheet([("a", grey)], cell_width=96, title="a title much longer than one small sheet is wide " * 3)
    title = np.asarray(sheet.convert("L"))[:20]
    assert title[:, -8:].min() == 255  # the margin at the right stays white


def test_each_row_is_as_tall_as_its_own_pictures_with_labels_right_under_them():
    wide, tall = Image.new("RGB", (96, 48), (128, 128, 128)), Image.new("RGB", (96, 144), (0, 0, 0))
    sheet = contact_sheet([("w1", wide), ("w2", wide), ("t", tall)], columns=2, cell_width=96)
    label_h, gap = 18, 8
    assert sheet.height == gap + (48 + label_h + gap) + (144 + label_h + gap)
    grey = np.asarray(sheet.convert("L"))
    assert grey[gap + 48 : gap + 48 + label_h, gap : gap + 96].min() < 128  # "w1" written under its picture
    second = gap + 48 + label_h + gap
    assert grey[second : second + 144, gap + 48].max() == 0  # the tall picture starts the second row


def test_a_label_with_accents_is_drawn_with_them_or_without_them_never_as_boxes(monkeypatch):
    from brushwork.report import sheets

    grey = Image.new("RGB", (96, 72), (128, 128, 128))
    if isinstance(getattr(sheets._font(12), "path", None), str):  # the system has one of the fonts
        accented = np.asarray(contact_sheet([("Dürer", grey)], cell_width=96).convert("L"))
        plain = np.asarray(contact_sheet([("Durer", grey)], cell_width=96).convert("L"))
        assert (accented != plain).any()  # the umlaut is drawn
    monkeypatch.setattr(sheets, "FONTS", ())  # where the system has none of them: Pillow's ASCII default
    accented = np.asarray(contact_sheet([("Dürer…", grey)], cell_width=96).convert("L"))
    assert (accented == np.asarray(contact_sheet([("Durer...", grey)], cell_width=96).convert("L"))).all()


def test_more_columns_than_pictures_leave_no_empty_columns():
    pictures = [("a", Image.new("RGB", (64, 48), "red")), ("b", Image.new("RGB", (64, 48), "blue"))]
    assert contact_sheet(pictures, columns=5, cell_width=64).size == contact_sheet(pictures, cell_width=64).size
