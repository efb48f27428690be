"""Errors a user can fix, each carrying a one-line message that says what to do.

Below the front doors errors name *settings* (``style_weight``), never command-line
flags or form fields: :class:`SettingsError` carries the field it is about, and each
front door words it in its own language (``--style-weight`` on the command line, the
control's label in the studio).
"""

from __future__ import annotations

__all__ = [
    "BrushworkError",
    "DiskFull",
    "ImageError",
    "InputChangedError",
    "OutOfMemory",
    "OutputExistsError",
    "SettingsError",
    "WeightsError",
    "WrongKindError",
    "OUT_OF_MEMORY",
    "first_line",
]

OUT_OF_MEMORY = "out of memory; try a smaller size or a single scale"
"""What every front door says of a run that ran out of memory (Python's ``MemoryError``, or the GPU's)."""


def first_line(exc: BaseException, limit: int | None = None) -> str:
    """What an error from elsewhere (a library, a worker) says, in one line of at most ``limit`` characters: its
    first line, or its type's name when it says nothing."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


class BrushworkError(Exception):
    """Base class: the front doors print ``str(error)`` and exit with status 2."""


class OutOfMemory(BrushworkError):
    """A run ran out of memory (Python's ``MemoryError``, or a GPU's); the engine raises it for either. It travels
    back from a Ray worker as it is (it pickles)."""

    def __init__(self, message: str = OUT_OF_MEMORY):
        super().__init__(message)


class ImageError(BrushworkError):
    """An input image is missing, unreadable or unsuitable, or an output cannot be written."""


class DiskFull(ImageError):
    """A file could not be written for want of space (or quota): every file after it would fail too, so a batch
    stops rather than paint pictures it cannot keep."""


class OutputExistsError(ImageError):
    """An output file exists and replacing it was not allowed; each front door says how to allow it."""

    def __init__(self, path: object, why: str = ""):
        super().__init__(f"{path} already exists{why}; choose another name")
        self.path, self.why = path, why


class WrongKindError(ImageError):
    """A clip given as the photo, or a picture as the clip: each front door says what paints it instead."""

    def __init__(self, problem: str, clip: bool):
        super().__init__(problem)
        self.clip = clip
        """True: the file is a clip (given where a picture goes); False: a picture (given where a clip goes)."""


class InputChangedError(ImageError):
    """An input of a recipe is where it was, but its contents changed since the picture was made."""

    def __init__(self, what: str, name: str, path: object, recorded: object = None):
        """``what`` the input is to the run (``content image``, ``keep mask``), ``recorded`` where it was."""
        if recorded is None or str(recorded) == str(path):
            said = f"the {what} {name} at {path} has changed since the picture was made; put back the original"
        else:  # only a namesake was found: the original may be elsewhere
            said = f"the {what} {name} found at {path} is not the one the picture was made from; "
            said += f"put the original at {recorded}"
        super().__init__(f"{said} to repeat the run exactly")
        self.what, self.name, self.path = what, name, path


class WeightsError(BrushworkError):
    """The VGG19 weights are missing, corrupt or do not match the architecture."""


class SettingsError(BrushworkError):
    """A setting is out of range or inconsistent.

    ``field`` names the setting (a :class:`~brushwork.core.settings.Settings` field, or ``None``
    when no single one is to blame) and ``problem`` says what is wrong with it, so that
    ``str(error)`` reads ``"lr must be above 0, not -1"``.
    """

    def __init__(self, problem: str, field: str | None = None):
        super().__init__(f"{field} {problem}" if field else problem)
        self.problem, self.field = problem, field
