"""A seeded Mondrian-style composition, for a style image that ships with the code.

The seed report transfers the style of Mondrian's *Composition with Red, Yellow
and Blue*. That painting is not in ``examples/``, so :func:`mondrian` draws a
picture in its manner: an off-white canvas cut by thick straight black lines
(recursive splits of rectangles, each line running the full length of the
rectangle it splits) with a few blocks filled in primary red, yellow and blue,
and now and then one in black or grey. The same seed always gives the same
picture, and only the colours of :data:`PALETTE` are used (no anti-aliasing).
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

__all__ = ["mondrian", "PALETTE"]

PALETTE: dict[str, tuple[int, int, int]] = {
    "white": (244, 242, 234),
    "off-white": (232, 229, 216),
    "black": (22, 22, 24),
    "grey": (196, 196, 192),
    "red": (206, 28, 26),
    "yellow": (248, 204, 18),
    "blue": (28, 64, 150),
}

_Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)


def _split(
    box: _Box,
    depth: int,
    rng: random.Random,
    line: int,
    min_side: int,
    grid: int,
    leaves: list[_Box],
    lines: list[_Box],
) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    # Always cut the canvas a few times; deeper down, cut less often, so some blocks stay large.
    if depth >= 2 and rng.random() > 0.78 ** (depth - 1):
        leaves.append(box)
        return
    vertical = w > h if abs(w - h) > 0.25 * max(w, h) else rng.random() < 0.5
    lo, hi = (x0, x1) if vertical else (y0, y1)
    # Cut on a coarse grid so lines in different blocks line up, as in the paintings.
    cuts = [c for c in range(0, hi + grid, grid) if c - lo >= min_side + line and hi - c >= min_side + line]
    if not cuts:
        vertical = not vertical
        lo, hi = (x0, x1) if vertical else (y0, y1)
        cuts = [c for c in range(0, hi + grid, grid) if c - lo >= min_side + line and hi - c >= min_side + line]
    if not cuts:
        leaves.append(box)
        return
    cut = rng.choice(cuts)
    a, b = cut - line // 2, cut - line // 2 + line
    if vertical:
        lines.append((a, y0, b, y1))
        halves = [(x0, y0, a, y1), (b, y0, x1, y1)]
    else:
        lines.append((x0, a, x1, b))
        halves = [(x0, y0, x1, a), (x0, b, x1, y1)]
    for half in halves:
        _split(half, depth + 1, rng, line, min_side, grid, leaves, lines)


def mondrian(width: int = 512, height: int = 512, seed: int = 0) -> Image.Image:
    """A ``width`` x ``height`` RGB picture in the manner of Mondrian's red-yellow-blue compositions."""
    if not (isinstance(width, int) and isinstance(height, int)) or width < 16 or height < 16:
        raise ValueError(f"mondrian needs whole-number sizes of at least 16 px, not {width}x{height}")
    rng = random.Random(seed)
    short = min(width, height)
    line = max(2, round(short / 32))
    grid = max(1, round(short / 16))
    min_side = max(3, round(short / 9))
    leaves: list[_Box] = []
    lines: list[_Box] = []
    _split((0, 0, width, height), 0, rng, line, min_side, grid, leaves, lines)

    colours = {leaf: rng.choice(("white", "white", "white", "off-white")) for leaf in leaves}
    by_area = sorted(leaves, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    # One large block in red (the signature of the 1930 composition), smaller ones in blue and yellow.
    big = by_area[: max(1, len(by_area) // 3)]
    colours[rng.choice(big)] = "red"
    rest = [b for b in by_area if colours[b] != "red"]
    small_first = sorted(rest, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    pool = small_first[: max(2, (2 * len(small_first)) // 3)]
    for name in ("blue", "yellow"):
        free = [b for b in pool if colours[b] not in ("red", "blue", "yellow")]
        if free:
            colours[rng.choice(free)] = name
    extras = [b for b in small_first if colours[b] in ("white", "off-white")]
    if extras and rng.random() < 0.6:
        colours[rng.choice(extras[: max(1, len(extras) // 2)])] = rng.choice(("yellow", "blue", "black", "grey"))

    image = Image.new("RGB", (width, height), PALETTE["black"])
    draw = ImageDraw.Draw(image)
    for (x0, y0, x1, y1), name in colours.items():
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=PALETTE[name])
    return image
