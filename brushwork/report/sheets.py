"""Labelled contact sheets: the report's figure of a picture at several step counts."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

__all__ = ["contact_sheet"]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def contact_sheet(
    items: Sequence[tuple[str, Image.Image]],
    columns: int | None = None,
    cell_width: int = 320,
    title: str | None = None,
) -> Image.Image:
    """Place pictures in a grid, each scaled to ``cell_width`` and labelled underneath."""
    if not items:
        raise ValueError("a contact sheet needs at least one picture")
    columns = columns or len(items)
    rows = -(-len(items) // columns)
    cells = [
        img.convert("RGB").resize(
            (cell_width, max(1, round(img.height * cell_width / img.width))), Image.Resampling.LANCZOS
        )
        for _, img in items
    ]
    cell_height = max(c.height for c in cells)
    gap, label_h = 8, max(18, cell_width // 12)
    title_h = label_h + gap if title else 0
    sheet = Image.new(
        "RGB", (gap + columns * (cell_width + gap), title_h + gap + rows * (cell_height + label_h + gap)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    font = _font(round(label_h * 0.7))
    if title:
        draw.text((gap, gap), title, fill="black", font=_font(round(label_h * 0.8)))
    for i, ((label, _), cell) in enumerate(zip(items, cells)):
        x = gap + (i % columns) * (cell_width + gap)
        y = title_h + gap + (i // columns) * (cell_height + label_h + gap)
        sheet.paste(cell, (x, y))
        shown = _fitted(draw, label, font, cell_width)
        width = draw.textlength(shown, font=font)
        draw.text((x + (cell_width - width) / 2, y + cell_height + 2), shown, fill="black", font=font)
    return sheet


def _fitted(
    draw: ImageDraw.ImageDraw, label: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> str:
    """The label, cut short with an ellipsis where it is wider than its cell (it would run into the next one)."""
    if draw.textlength(label, font=font) <= width:
        return label
    while label and draw.textlength(label + "…", font=font) > width:
        label = label[:-1]
    return label.rstrip() + "…"
