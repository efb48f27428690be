"""The Python API: one call from file names (or PIL images) to a stylised picture.

    import brushwork
    picture = brushwork.stylize("photo.jpg", "starry_night.jpg", size=384)
    picture.save("out.png")

Settings come from ``settings=`` or a named ``preset=`` (not both: one would be lost),
with keyword options (any :class:`~brushwork.settings.Settings` field) applied over them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Union

from PIL import Image

from .budget import RunPlan
from .engine import Callback, Result, plan, run
from .errors import BrushworkError
from .images import Picture, load_image, picture_from_image
from .settings import Settings, resolve

__all__ = ["stylize", "transfer", "plan_for", "DivergedError", "ImageInput"]

ImageInput = Union[str, os.PathLike, Image.Image]


class DivergedError(BrushworkError):
    """The loss became NaN; ``result.image`` holds the last good picture, ``result.culprit`` the setting to lower."""

    def __init__(self, result: Result):
        advice = f"; try a lower {result.culprit}" if result.culprit else ""
        super().__init__(result.message + advice)
        self.result = result


def _picture(source: ImageInput, role: str) -> Picture:
    if isinstance(source, Image.Image):
        return picture_from_image(source, f"<{role} image>")
    return load_image(source, role)


def _styles(style: ImageInput | Sequence[ImageInput]) -> list[Picture]:
    styles = [style] if isinstance(style, (str, os.PathLike, Image.Image)) else list(style)
    return [_picture(s, "style") for s in styles]


def plan_for(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    *,
    settings: Settings | None = None,
    preset: str | None = None,
    **options: Any,
) -> RunPlan:
    """The plan of a run, without running it: levels, whole or tiled, estimated memory and time here.

    ``print(brushwork.plan_for("photo.jpg", "painting.jpg", size=4096).describe())``. Raises
    :class:`~brushwork.errors.SettingsError` when the run cannot fit this machine's free memory.
    """
    return plan(_picture(content, "content"), _styles(style), resolve(settings, preset, **options))


def transfer(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    *,
    settings: Settings | None = None,
    preset: str | None = None,
    progress: Callback | None = None,
    **options: Any,
) -> Result:
    """Run style transfer and return the full :class:`~brushwork.engine.Result` (status, losses, history)."""
    chosen = resolve(settings, preset, **options)
    return run(_picture(content, "content"), _styles(style), chosen, callback=progress)


def stylize(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    *,
    settings: Settings | None = None,
    preset: str | None = None,
    progress: Callback | None = None,
    **options: Any,
) -> Image.Image:
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
        image.putalpha(result.alpha.resize(image.size, Image.Resampling.LANCZOS))
    return image
