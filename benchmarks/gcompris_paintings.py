"""Public-domain paintings for subject checks, put back together from Debian's ``gcompris-qt-data``.

    .venv/bin/python benchmarks/gcompris_paintings.py OUTDIR [--deb gcompris-qt-data_3.1-2_all.deb]

GCompris's "paintings" activity ships 22 paintings (portraits, figures, an animal, landscapes) as puzzle
pieces in a Qt resource file, ``rcc/paintings.rcc``, each board's QML giving where each piece's centre
goes. This reads that file (Qt's ``rcc`` format: a tree of names and zlib-compressed data), lays the pieces
out and writes each painting as ``OUTDIR/boardN.jpg``, printing its title. Without ``--deb`` the package is
fetched with ``apt-get download`` (Debian's mirror is reachable where PyPI is). ``benchmarks/images/style``
holds four of them; the rest are for checks such as stop 35's in ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

from PIL import Image

RESOURCE = "gcompris/src/activities/paintings/resource"


def read_rcc(data: bytes) -> dict[str, bytes]:
    """Every file in a Qt resource file, by path (``rcc`` format versions 1-3; entries stored or zlib-compressed,
    as GCompris's are: a zstd-compressed one is refused)."""
    if data[:4] != b"qres":
        raise SystemExit("not a Qt resource file")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node = 14 if version == 1 else 22  # version 2 on adds each file's modification time
    files: dict[str, bytes] = {}

    def name_at(offset: int) -> str:
        (length,) = struct.unpack(">H", data[names + offset : names + offset + 2])
        start = names + offset + 6  # after the length and the name's hash
        return data[start : start + 2 * length].decode("utf-16-be")

    def walk(index: int, path: str) -> None:
        at = tree + index * node
        name_offset, flags = struct.unpack(">IH", data[at : at + 6])
        here = f"{path}/{name_at(name_offset)}" if index else ""
        if flags & 2:  # a directory: its children are numbered consecutively
            count, first = struct.unpack(">II", data[at + 6 : at + 14])
            for child in range(first, first + count):
                walk(child, here)
            return
        if flags & 4:
            raise SystemExit(f"{here} is zstd-compressed; this reader takes stored and zlib entries")
        (offset,) = struct.unpack(">I", data[at + 10 : at + 14])
        (size,) = struct.unpack(">I", data[payload + offset : payload + offset + 4])
        blob = data[payload + offset + 4 : payload + offset + 4 + size]
        files[here.lstrip("/")] = zlib.decompress(blob[4:]) if flags & 1 else blob

    walk(0, "")
    return files


def assemble(board: str, files: dict[str, bytes]) -> tuple[str, Image.Image]:
    """A board's title and its painting, each piece centred where the board's QML puts it."""
    title = re.search(r'qsTr\("([^"]*)"\)', board).group(1)  # type: ignore[union-attr]
    listing = board[board.index("[") : board.rindex("]") + 1]  # GCompris writes its lists as JSON with quoted keys
    items = json.loads(re.sub(r",\s*([\]}])", r"\1", listing))  # QML allows trailing commas, JSON does not
    width, height = items[0]["width"], items[0]["height"]
    canvas = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    for item in items[1:]:
        with Image.open(io.BytesIO(files[f"{RESOURCE}/{item['pixmapfile']}"])) as opened:
            piece = opened.convert("RGBA")
        x, y = float(item["x"]) * width, float(item["y"]) * height
        canvas.alpha_composite(piece, (round(x - piece.width / 2), round(y - piece.height / 2)))
    return title, canvas.crop(canvas.getbbox()).convert("RGB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for boardN.jpg")
    parser.add_argument("--deb", type=Path, help="the gcompris-qt-data .deb (default: apt-get download it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        deb = args.deb
        if deb is None:
            subprocess.run(["apt-get", "download", "gcompris-qt-data"], cwd=work, check=True)
            deb = next(Path(work).glob("gcompris-qt-data_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), f"{work}/root"], check=True)
        files = read_rcc((Path(work) / "root/usr/share/gcompris-qt/rcc/paintings.rcc").read_bytes())
    args.out.mkdir(parents=True, exist_ok=True)
    boards = sorted(p for p in files if re.fullmatch(rf"{RESOURCE}/board/board\d+_0\.qml", p))
    for path in boards:
        title, painting = assemble(files[path].decode(), files)
        name = Path(path).stem.removesuffix("_0")
        painting.save(args.out / f"{name}.jpg", quality=92)
        print(f"{name}.jpg  {painting.width}x{painting.height}  {title}")


if __name__ == "__main__":
    main()
