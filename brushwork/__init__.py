"""brushwork: repaint a photo in the style of a painting (Gatys et al., CVPR 2016).

The public API: :func:`stylize` (files or PIL images in, PIL image out),
:func:`transfer` (the full :class:`Result`), :func:`plan_for` (memory and time before a run),
:class:`Settings`, presets and :func:`resolve`.
Names load on first use, so the command line starts (and takes Ctrl-C) before torch is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_HOMES = {
    "stylize": "api",
    "transfer": "api",
    "plan_for": "api",
    "stylize_video": "api",
    "stylize_batch": "api",
    "VideoSettings": "core.settings",
    "RunPlan": "planning.run_plan",
    "DivergedError": "api",
    "Interrupted": "api",
    "Progress": "engine.runner",
    "Result": "engine.runner",
    "BrushworkError": "core.errors",
    "ImageError": "core.errors",
    "OutOfMemory": "core.errors",
    "SettingsError": "core.errors",
    "WeightsError": "core.errors",
    "Settings": "core.settings",
    "preset": "core.settings",
    "PRESETS": "core.settings",
    "resolve": "core.settings",
}

__all__ = [
    "stylize",
    "transfer",
    "plan_for",
    "stylize_video",
    "stylize_batch",
    "VideoSettings",
    "RunPlan",
    "DivergedError",
    "Interrupted",
    "Progress",
    "Result",
    "BrushworkError",
    "ImageError",
    "OutOfMemory",
    "SettingsError",
    "WeightsError",
    "Settings",
    "preset",
    "PRESETS",
    "resolve",
    "__version__",
]

if TYPE_CHECKING:
    from brushwork.api import DivergedError, Interrupted, plan_for, stylize, stylize_batch, stylize_video, transfer
    from brushwork.core.errors import BrushworkError, ImageError, OutOfMemory, SettingsError, WeightsError
    from brushwork.core.settings import PRESETS, Settings, VideoSettings, preset, resolve
    from brushwork.engine.runner import Progress, Result
    from brushwork.planning.run_plan import RunPlan


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    else:  # a layer package, as after an eager import: brushwork.model
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'brushwork' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, and the layer packages loaded so far: not this module's own imports."""
    loaded = (name for name, value in globals().items() if getattr(value, "__name__", "").startswith(f"{__name__}."))
    return sorted({*__all__, *loaded})
