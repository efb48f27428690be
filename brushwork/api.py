"""The Python API: one call from file names (or PIL images) to a stylised picture.

>>> import brushwork
>>> picture = brushwork.stylize("photo.jpg", "starry_night.jpg", size=384)
>>> picture.save("out.png")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Union

from PIL import Image

from . import __version__
from .engine import Progress, Result, run
from .errors import BrushworkError, SettingsError
from .images import Picture, file_sha256, load_image, picture_from_image, save_image
from .settings import Settings, preset

__all__ = ["stylize", "transfer", "make_settings", "recipe_for", "save_result", "DivergedError", "ImageInput"]

ImageInput = Union[str, os.PathLike, Image.Image]


class DivergedError(BrushworkError):
    """The loss became NaN; ``result.image`` holds the last good picture."""

    def __init__(self, result: Result):
        super().__init__(result.message)
        self.result = result


def _picture(source: ImageInput, role: str) -> Picture:
    if isinstance(source, Image.Image):
        return picture_from_image(source, f"<{role} image>")
    return load_image(source, role)


def make_settings(settings: Settings | None = None, preset_name: str | None = None, **options: Any) -> Settings:
    """Settings from a base (or a named preset) with keyword overrides; unknown names are an error."""
    try:
        if preset_name is not None:
            base = preset(preset_name, **(settings.to_dict() if settings else {}))
            return base.replace(**options) if options else base
        return (settings or Settings()).replace(**options) if options else (settings or Settings())
    except TypeError as exc:
        raise SettingsError(f"unknown option: {exc}") from None


def transfer(content: ImageInput, style: ImageInput | Sequence[ImageInput], *,
             settings: Settings | None = None, preset: str | None = None,
             progress: Callable[[Progress], bool | None] | None = None, **options: Any) -> Result:
    """Run style transfer and return the full :class:`~brushwork.engine.Result` (status, losses, history)."""
    styles = [style] if isinstance(style, (str, os.PathLike, Image.Image)) else list(style)
    chosen = make_settings(settings, preset, **options)
    return run(_picture(content, "content"), [_picture(s, "style") for s in styles], chosen, callback=progress)


def stylize(content: ImageInput, style: ImageInput | Sequence[ImageInput], *,
            settings: Settings | None = None, preset: str | None = None,
            progress: Callable[[Progress], bool | None] | None = None, **options: Any) -> Image.Image:
    """Repaint ``content`` in the style of ``style`` (one image or several) and return the picture.

    ``options`` are :class:`~brushwork.settings.Settings` fields (``size=``, ``style_weight=`` ...).
    ``progress`` is called after every step; returning ``False`` stops early with the picture so far.
    Raises :class:`DivergedError` if the loss turns NaN.
    """
    result = transfer(content, style, settings=settings, preset=preset, progress=progress, **options)
    if result.status == "diverged":
        raise DivergedError(result)
    image = result.image
    if result.alpha is not None:
        image = image.copy()
        image.putalpha(result.alpha.resize(image.size, Image.LANCZOS))
    return image


def recipe_for(settings: Settings, content: str | os.PathLike, styles: Sequence[str | os.PathLike],
               result: Result | None = None, base: str | os.PathLike | None = None) -> dict[str, Any]:
    """Everything needed to repeat a run: settings, seed, version, inputs with their hashes.

    Input paths are absolute, or relative to ``base`` when given (a server's pictures then do not
    reveal where it keeps its files); every input must then lie in ``base``.
    """
    def describe(path: str | os.PathLike, role: str) -> dict[str, str]:
        p = Path(path)
        where = p.resolve()
        shown = where.relative_to(Path(base).resolve()) if base is not None else where
        return {"role": role, "name": p.name, "path": str(shown), "sha256": file_sha256(p)}

    recipe: dict[str, Any] = {
        "brushwork": __version__,
        "settings": settings.to_dict(),
        "seed": settings.seed,
        "inputs": [describe(content, "content")] + [describe(s, "style") for s in styles],
    }
    if result is not None:
        recipe["run"] = {"status": result.status, "steps": result.steps, "seconds": round(result.elapsed, 2),
                         "losses": {k: float(f"{v:.6g}") for k, v in result.losses.items()}}
    return recipe


def save_result(result: Result, path: str | os.PathLike, recipe: dict[str, Any], overwrite: bool = False) -> Path:
    """Write a result with its recipe in the file's metadata (alpha kept for PNG/WebP)."""
    return save_image(result.image, path, recipe=recipe, alpha=result.alpha, overwrite=overwrite)
