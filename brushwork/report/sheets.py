"""Labelled contact sheets: the report's figure of a picture at several step counts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

__all__ = ["contact_sheet"]

TALLEST = 1.5
"""A cell's picture is at most this many times as tall as the cell is wide: a thin strip is shrunk to fit, not
stretched into a sheet of white."""

LABEL_LINES = 3
"""A label takes at most this many lines under its picture; what does not fit ends in an ellipsis."""
_PARTS = re.compile(r"[^-_]+[-_]*|[-_]+")
"""A word's parts, each up to and with its ``-`` or ``_``, where a word too wide for a line is broken."""


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
    are never more columns than pictures. A label wider than its cell goes on to a second and a third line."""
    if not items:
        raise ValueError("a contact sheet needs at least one picture")
    columns = min(columns or len(items), len(items))
    cells = [_cell(img, cell_width) for _, img in items]
    gap, line_h = 8, max(18, cell_width // 12)
    font = _font(round(line_h * 0.7))
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    labels = [_wrapped(draw, label, font, cell_width) for label, _ in items]
    rows = range(0, len(cells), columns)
    heights = [max(c.height for c in cells[i : i + columns]) for i in rows]  # a wide row's labels sit under it
    under = [line_h * max(len(lines) for lines in labels[i : i + columns]) for i in rows]
    title_h = line_h + gap if title else 0
    size = (gap + columns * (cell_width + gap), title_h + gap + sum(h + u + gap for h, u in zip(heights, under)))
    sheet = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        title_font = _font(round(line_h * 0.8))
        draw.text((gap, gap), _fitted(draw, title, title_font, sheet.width - 2 * gap), fill="black", font=title_font)
    y = title_h + gap
    for first, height, label_h in zip(rows, heights, under):
        for c, (cell, lines) in enumerate(zip(cells[first : first + columns], labels[first : first + columns])):
            x = gap + c * (cell_width + gap)
            sheet.paste(cell, (x + (cell_width - cell.width) // 2, y + (height - cell.height) // 2))
            for n, line in enumerate(lines):
                width = draw.textlength(line, font=font)
                draw.text((x + (cell_width - width) / 2, y + height + 2 + n * line_h), line, fill="black", font=font)
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


def _wrapped(
    draw: ImageDraw.ImageDraw, label: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> list[str]:
    """The label in lines no wider than its cell, broken between words, or after a ``-`` or ``_`` (a file's name
    such as ``grace_hopper__woman-with-hat``; a small figure's cells are narrow)."""
    pieces = []  # words with their space; one too wide for a line alone, in parts up to each - or _
    for word in _writable(label, font).split():
        parts = [word] if draw.textlength(word, font=font) <= width else _PARTS.findall(word)
        pieces += [*parts[:-1], parts[-1] + " "]
    lines: list[str] = []
    for piece in pieces:
        joined = lines[-1] + piece if lines else piece
        if lines and draw.textlength(joined.rstrip(), font=font) <= width:
            lines[-1] = joined
        else:
            lines.append(piece)
    lines = [line.rstrip() for line in lines]
    if len(lines) > LABEL_LINES:
        lines[LABEL_LINES - 1 :] = ["".join(lines[LABEL_LINES - 1 :])]
    return [_fitted(draw, line, font, width) for line in lines] or [""]
