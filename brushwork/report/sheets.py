"""Labelled contact sheets: the report's figure of a picture at several step counts."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

__all__ = ["contact_sheet"]

TALLEST = 1.5
"""A cell's picture is at most this many times as tall as the cell is wide: a thin strip is shrunk to fit, not
stretched into a sheet of white."""


FONTS = ("DejaVuSans.ttf", "Arial.ttf", "Helvetica.ttc")
"""Fonts with accents and more, looked for among the system's; Pillow's own default has ASCII alone."""


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _writable(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> str:
    """The text as the font can draw it: with Pillow's ASCII default, accents are dropped (Durer, not D\u25a1rer)."""
    if isinstance(font, ImageFont.FreeTypeFont) and isinstance(font.path, str):
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def contact_sheet(
    items: Sequence[tuple[str, Image.Image]],
    columns: int | None = None,
    cell_width: int = 320,
    title: str | None = None,
) -> Image.Image:
    """Place pictures in a grid, each scaled to ``cell_width`` (a tall one to :data:`TALLEST` times it, centred),
    on white where it is transparent, and labelled underneath; each row is as tall as its tallest picture, and there
    are never more columns than pictures."""
    if not items:
        raise ValueError("a contact sheet needs at least one picture")
    columns = min(columns or len(items), len(items))
    cells = [_cell(img, cell_width) for _, img in items]
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    heights = [max(c.height for c in row) for row in rows]  # per row: a wide row's labels sit under its pictures
    gap, label_h = 8, max(18, cell_width // 12)
    title_h = label_h + gap if title else 0
    sheet = Image.new(
        "RGB", (gap + columns * (cell_width + gap), title_h + gap + sum(h + label_h + gap for h in heights)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    font = _font(round(label_h * 0.7))
    if title:
        title_font = _font(round(label_h * 0.8))
        draw.text((gap, gap), _fitted(draw, title, title_font, sheet.width - 2 * gap), fill="black", font=title_font)
    y = title_h + gap
    for r, (row, height) in enumerate(zip(rows, heights)):
        for c, cell in enumerate(row):
            label = items[r * columns + c][0]
            x = gap + c * (cell_width + gap)
            sheet.paste(cell, (x + (cell_width - cell.width) // 2, y + (height - cell.height) // 2))
            shown = _fitted(draw, label, font, cell_width)
            width = draw.textlength(shown, font=font)
            draw.text((x + (cell_width - width) / 2, y + height + 2), shown, fill="black", font=font)
        y += height + label_h + gap
    return sheet


def _cell(img: Image.Image, width: int) -> Image.Image:
    """A picture at ``width`` px wide (or :data:`TALLEST` times that high, if it is taller), on white."""
    scale = min(width / img.width, TALLEST * width / img.height)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    picture = img.convert("RGBA").resize(size, Image.Resampling.LANCZOS)
    return Image.alpha_composite(Image.new("RGBA", size, "white"), picture).convert("RGB")


def _fitted(
    draw: ImageDraw.ImageDraw, label: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> str:
    """The label, cut short with an ellipsis where it is wider than its cell (it would run into the next one)."""
    label, more = _writable(label, font), _writable("…", font)
    if draw.textlength(label, font=font) <= width:
        return label
    while label and draw.textlength(label + more, font=font) > width:
        label = label[:-1]
    return label.rstrip() + more
