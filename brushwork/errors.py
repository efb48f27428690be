"""Errors a user can fix, each carrying a one-line message that says what to do."""


class BrushworkError(Exception):
    """Base class: the front doors print ``str(error)`` and exit with status 2."""


class ImageError(BrushworkError):
    """An input image is missing, unreadable or unsuitable, or an output cannot be written."""


class WeightsError(BrushworkError):
    """The VGG19 weights are missing, corrupt or do not match the architecture."""


class SettingsError(BrushworkError):
    """A setting is out of range or inconsistent."""
