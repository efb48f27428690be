"""The seed report's figures, remade with the library, each PNG carrying its recipe.

* ``progression``: the ``seed`` preset's picture (Tübingen after The Starry Night) at
  steps 25, 50, 100, 150 and 200 of one run, in a labelled strip;
* ``tv``: the same run with the total-variation loss on (the seed preset's ``tv_weight``
  unless ``--tv-weight`` is given) and off, side by side, with an enlarged crop
  (nearest-neighbour zoom) of the region where the two differ most in grain;
* ``styles``: one photo in three styles (The Starry Night, The Great Wave and a
  generated Mondrian) with the library's default settings, the style images as
  thumbnails;
* ``mondrian``: the generated Mondrian used as the third style.

Everything runs in this process through :func:`brushwork.engine.runner.run`; nothing is
shelled out. ``steps_scale`` shortens every run by the same factor (for previews
and tests); the step labels and the seed's learning-rate schedule are scaled with it.
``brushwork figures`` (:mod:`brushwork.cli.figures`) is the command-line door to :func:`make`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from brushwork.core.errors import BrushworkError, ImageError
from brushwork.core.settings import PRESETS, Settings, resolve
from brushwork.engine.recipes import build as recipe_for
from brushwork.engine.recipes import save as save_with_recipe
from brushwork.engine.runner import Progress, Result, run
from brushwork.media.bundled import example
from brushwork.media.files import check_output_path, taken
from brushwork.media.images import load_image, open_image
from brushwork.report import FIGURES, MONDRIAN_SIZE
from brushwork.report.mondrian import mondrian
from brushwork.report.sheets import contact_sheet

CONTENT = example("content", "tubingen")
STARRY_NIGHT = example("style", "starry_night")
GREAT_WAVE = example("style", "wave")
PROGRESSION_STEPS = (25, 50, 100, 150, 200)
SEED_TV_WEIGHT = float(PRESETS["seed"]["tv_weight"])
ZOOM = 4

__all__ = ["make", "FIGURES", "RunWatcher", "grainiest_box"]

RunWatcher = Callable[[str, Settings], Callable[[Progress], None]]
"""Given a run's label and settings, the progress callback to watch it with (e.g. a progress bar)."""


def _scaled(steps: int, scale: float) -> int:
    return max(1, round(steps * scale))


class _Maker:
    """Runs (cached per process call) and layouts of the figures."""

    def __init__(
        self,
        size: int,
        scale: float,
        device: str,
        mondrian_path: Path,
        mondrian_seed: int,
        watcher: RunWatcher | None,
        tv_weight: float | None = None,
    ):
        self.size, self.scale, self.device, self.watcher = size, scale, device, watcher
        self.tv_weight = SEED_TV_WEIGHT if tv_weight is None else tv_weight
        self.mondrian_path, self.mondrian_seed = mondrian_path, mondrian_seed
        self._seed_runs: dict[float, tuple[Any, Any, dict[int, Image.Image]]] = {}

    # -- runs ---------------------------------------------------------------------------------------
    def seed_settings(self, **changes: Any) -> Settings:
        steps = _scaled(PRESETS["seed"]["steps"], self.scale)
        schedule = tuple((min(steps, _scaled(at, self.scale)), lr) for at, lr in PRESETS["seed"]["lr_schedule"])
        return resolve(
            preset_name="seed", size=self.size, device=self.device, steps=steps, lr_schedule=schedule, **changes
        )

    def snapshot_steps(self) -> list[int]:
        return sorted({_scaled(s, self.scale) for s in PROGRESSION_STEPS})

    def _run(
        self, settings: Settings, content: Path, style: Path, label: str, grab: Sequence[int] = ()
    ) -> tuple[Result, dict[int, Image.Image]]:
        snaps: dict[int, Image.Image] = {}
        watch = self.watcher(label, settings) if self.watcher is not None else None

        def progress(p: Progress) -> None:
            if watch is not None:
                watch(p)
            if p.step in grab:
                snaps[p.step] = p.image()

        result = run(
            load_image(content, "content"), [load_image(style, "style")], settings, callback=progress, keep_memory=True
        )
        if result.status == "interrupted":  # a figure is its whole run's: Ctrl-C stops the figures, as any command
            raise KeyboardInterrupt(f"interrupted at step {result.steps} of the {label} run")
        if result.status != "done":
            raise BrushworkError(f"the {label} run ended early ({result.message or result.status}); nothing written")
        return result, snaps

    def seed_run(
        self, tv_weight: float | None = None, grab: Sequence[int] = ()
    ) -> tuple[Settings, Result, dict[int, Image.Image]]:
        """The seed preset on Tübingen + The Starry Night (the seed's TV weight unless given); each run once."""
        tv = SEED_TV_WEIGHT if tv_weight is None else tv_weight
        if tv not in self._seed_runs or not set(grab) <= set(self._seed_runs[tv][2]):
            settings = self.seed_settings(tv_weight=tv)
            result, snaps = self._run(settings, CONTENT, STARRY_NIGHT, f"seed, tv_weight {tv:g}", grab)
            self._seed_runs[tv] = (settings, result, snaps)
        return self._seed_runs[tv]

    def ensure_mondrian(self, overwrite: bool) -> Path:
        from brushwork import __version__

        recipe = {
            "brushwork": __version__,
            "figure": "mondrian",
            "generator": "brushwork.report.mondrian.mondrian",
            "width": MONDRIAN_SIZE,
            "height": MONDRIAN_SIZE,
            "seed": self.mondrian_seed,
        }
        picture = mondrian(MONDRIAN_SIZE, MONDRIAN_SIZE, self.mondrian_seed)
        path = self.mondrian_path
        if taken(path):
            try:
                with Image.open(path) as old:
                    same = old.convert("RGB").tobytes() == picture.tobytes()
            except OSError:
                same = False
            if same:
                return path  # the very picture is already there: keep it
            if not overwrite:
                raise ImageError(
                    f"{path} already exists and is another picture; move it, or allow overwriting and make the "
                    "mondrian figure too"
                )
        save_with_recipe(picture, path, recipe, overwrite=True)
        return path

    # -- figures ------------------------------------------------------------------------------------
    def progression(self) -> tuple[Image.Image, dict[str, Any]]:
        settings, result, snaps = self.seed_run(grab=self.snapshot_steps())
        steps = self.snapshot_steps()
        items = [(f"step {s}", snaps[s]) for s in steps]
        last = settings.lr_schedule[0][0] if settings.lr_schedule else settings.steps
        best = f"{_scaled(150, self.scale)}-{_scaled(200, self.scale)}"
        title = (
            f"Seed preset: Adam, lr 3.0 -> 0.1 at step {last}, {settings.steps} steps "
            f"(Tubingen + The Starry Night). The report found steps {best} best."
        )
        sheet = contact_sheet(
            items, columns=len(items), cell_width=result.image.width, title=title if result.image.width >= 200 else None
        )
        recipe = {
            **recipe_for(settings, CONTENT, [STARRY_NIGHT], result),
            "figure": "progression",
            "snapshot_steps": steps,
        }
        return sheet, recipe

    def tv(self) -> tuple[Image.Image, dict[str, Any]]:
        on_settings, on, _ = self.seed_run(self.tv_weight)
        off_settings, off, _ = self.seed_run(0.0)
        box = grainiest_box(on.image, off.image)
        w = on.image.width
        line = max(1, round(w / 160))
        items = [
            (f"TV on (tv_weight {on_settings.tv_weight:g})", _outline(on.image, box, line)),
            ("TV off (tv_weight 0)", _outline(off.image, box, line)),
            (f"TV on, boxed area x{ZOOM}", _zoom(on.image, box, w)),
            (f"TV off, boxed area x{ZOOM}", _zoom(off.image, box, w)),
        ]
        title = f"Total variation loss on vs off (seed preset, {on_settings.steps} steps)"
        sheet = contact_sheet(items, columns=2, cell_width=w, title=title if w >= 200 else None)
        recipe = {
            **recipe_for(on_settings, CONTENT, [STARRY_NIGHT], on),
            "figure": "tv",
            "crop_box": list(box),
            "zoom": ZOOM,
            "panels": [
                {"label": "TV on", **recipe_for(on_settings, CONTENT, [STARRY_NIGHT], on)},
                {"label": "TV off", **recipe_for(off_settings, CONTENT, [STARRY_NIGHT], off)},
            ],
        }
        return sheet, recipe

    def styles(self) -> tuple[Image.Image, dict[str, Any]]:
        settings = resolve(size=self.size, device=self.device, steps=_scaled(Settings().steps, self.scale))
        styles = [
            ("The Starry Night", STARRY_NIGHT, settings),
            ("The Great Wave", GREAT_WAVE, settings),
            ("Mondrian (generated)", self.mondrian_path, settings),
        ]
        photo = open_image(CONTENT, "content").convert("RGB")
        items: list[tuple[str, Image.Image]] = []
        panels = []
        for name, path, panel_settings in styles:
            result, _ = self._run(panel_settings, CONTENT, path, name)
            thumb = open_image(path, "style").convert("RGB")
            items.append((f"+ {name.split(' (')[0]}", _inset(result.image, thumb)))
            panels.append({"label": name, **recipe_for(panel_settings, CONTENT, [path], result)})
        w, h = items[0][1].size
        photo_cell = photo.resize((w, max(1, round(photo.height * w / photo.width))), Image.Resampling.LANCZOS)
        items.insert(0, ("photo: Tubingen", photo_cell))
        title = f"One photo, three styles (default settings: L-BFGS, up to {settings.steps} steps)"
        sheet = contact_sheet(items, columns=len(items), cell_width=w, title=title if w >= 200 else None)
        first = {k: v for k, v in panels[0].items() if k != "label"}
        recipe = {**first, "figure": "styles", "mondrian_seed": self.mondrian_seed, "panels": panels}
        return sheet, recipe


# -- picture helpers --------------------------------------------------------------------------------


def grainiest_box(smooth: Image.Image, grainy: Image.Image, zoom: int = ZOOM) -> tuple[int, int, int, int]:
    """The ``1/zoom``-sized box (x0, y0, x1, y1) where ``grainy`` has the most pixel-to-pixel noise beyond ``smooth``.

    Noise is the squared difference of neighbouring pixels (the TV loss's own measure), summed per box.
    """
    w, h = grainy.size
    bw, bh = max(1, w // zoom), max(1, h // zoom)

    def energy(img: Image.Image) -> np.ndarray:
        a = np.asarray(img.convert("RGB"), dtype=np.float64)
        e = np.zeros(a.shape[:2])
        e[:-1, :] += ((a[1:, :] - a[:-1, :]) ** 2).sum(-1)
        e[:, :-1] += ((a[:, 1:] - a[:, :-1]) ** 2).sum(-1)
        return e

    extra = energy(grainy) - energy(smooth)
    table = np.pad(extra.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = table[bh:, bw:] - table[:-bh, bw:] - table[bh:, :-bw] + table[:-bh, :-bw]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(x), int(y), int(x) + bw, int(y) + bh


def _outline(image: Image.Image, box: tuple[int, int, int, int], width: int) -> Image.Image:
    out = image.convert("RGB").copy()
    x0, y0, x1, y1 = box
    ImageDraw.Draw(out).rectangle((x0, y0, x1 - 1, y1 - 1), outline=(255, 40, 40), width=width)
    return out


def _zoom(image: Image.Image, box: tuple[int, int, int, int], width: int) -> Image.Image:
    """The box enlarged by nearest neighbour to ``width`` px wide, so single pixels stay visible."""
    crop = image.crop(box)
    return crop.resize((width, max(1, round(crop.height * width / crop.width))), Image.Resampling.NEAREST)


def _inset(picture: Image.Image, thumb: Image.Image, fraction: float = 0.3) -> Image.Image:
    """``picture`` with ``thumb`` (the style image) in its bottom-right corner, framed in white."""
    out = picture.convert("RGB").copy()
    tw = max(8, round(out.width * fraction))
    small = thumb.resize((tw, max(1, round(thumb.height * tw / thumb.width))), Image.Resampling.LANCZOS)
    border = max(1, out.width // 128)
    framed = Image.new("RGB", (small.width + 2 * border, small.height + 2 * border), "white")
    framed.paste(small, (border, border))
    margin = max(1, out.width // 64)
    out.paste(framed, (out.width - framed.width - margin, out.height - framed.height - margin))
    return out


# -- making them ------------------------------------------------------------------------------------


def make(
    wanted: Sequence[str],
    out: Path,
    *,
    size: int,
    steps_scale: float,
    device: str,
    mondrian_seed: int,
    tv_weight: float | None = None,
    overwrite: bool = False,
    watcher: RunWatcher | None = None,
    done: Callable[[Path, Image.Image | None, float], None] | None = None,
) -> dict[str, Path]:
    """Draw the ``wanted`` figures (names from :data:`FIGURES`) into the folder ``out``; returns their paths.

    Every output path is checked before any work. ``done(path, sheet, seconds)`` is called as each is written
    (``sheet`` is ``None`` for the Mondrian, which is drawn, not painted).
    """
    if out.exists() and not out.is_dir():
        raise ImageError(f"{out} is a file, not a folder; give a folder for the figures")
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(f"cannot create folder {out}: {exc.strerror or exc}; choose another folder") from None
    try:
        return _make(wanted, out, size, steps_scale, device, mondrian_seed, tv_weight, overwrite, watcher, done)
    except BaseException:
        if made and not any(out.iterdir()):  # a refusal (a device this machine lacks, say) leaves no empty folder
            out.rmdir()
        raise


def _make(
    wanted: Sequence[str],
    out: Path,
    size: int,
    steps_scale: float,
    device: str,
    mondrian_seed: int,
    tv_weight: float | None,
    overwrite: bool,
    watcher: RunWatcher | None,
    done: Callable[[Path, Image.Image | None, float], None] | None,
) -> dict[str, Path]:
    paths = {name: out / f"{name}.png" for name in wanted}
    for path in paths.values():  # refuse before any work, so a long run never ends in a failed save
        check_output_path(path, overwrite)
    maker = _Maker(size, steps_scale, device, out / "mondrian.png", mondrian_seed, watcher, tv_weight)
    if "styles" in wanted or "mondrian" in wanted:  # replaced only when asked for: else the styles' input alone
        maker.ensure_mondrian(overwrite and "mondrian" in wanted)
    for name in wanted:
        start = time.perf_counter()
        if name == "mondrian":
            if done is not None:
                done(paths[name], None, 0.0)
            continue
        sheet, recipe = getattr(maker, name)()
        save_with_recipe(sheet, paths[name], recipe, overwrite=overwrite)
        if done is not None:
            done(paths[name], sheet, time.perf_counter() - start)
    return paths
