"""brushwork: repaint a photo in the style of a painting (Gatys et al., CVPR 2016).

The public API: :func:`stylize` (files or PIL images in, PIL image out),
:func:`transfer` (the full :class:`Result`), :class:`Settings` and presets.
"""

__version__ = "0.1.0"

from .api import DivergedError, stylize, transfer  # noqa: E402
from .engine import Progress, Result  # noqa: E402
from .errors import BrushworkError, ImageError, SettingsError, WeightsError  # noqa: E402
from .settings import PRESETS, Settings, preset  # noqa: E402

__all__ = ["stylize", "transfer", "Settings", "preset", "PRESETS", "Progress", "Result", "DivergedError",
           "BrushworkError", "ImageError", "SettingsError", "WeightsError", "__version__"]
