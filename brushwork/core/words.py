"""Numbers and advice in the words every message uses, so that each front door says them alike."""

from __future__ import annotations

__all__ = ["count", "with_article", "duration", "time_left", "try_lower"]


def count(number: int, noun: str) -> str:
    """``1 painting``, ``2 paintings``, ``0 paintings``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def with_article(noun: str) -> str:
    """``a float64``, ``an int64``, ``an Image``, ``a uint8`` ("you-int"), ``an ndarray`` ("en-dee"): a noun with
    the article its sound takes."""
    word = noun.lower()
    vowel = (word[:1] in "aeiou" and not word.startswith(("uint", "uni", "use"))) or word.startswith("nd")
    return f"{'an' if vowel else 'a'} {noun}"


def duration(seconds: float) -> str:
    """Seconds in the words a plan uses: 0.4 s (never less than 0.1 s), 40 s, 12 min, 1.5 h."""
    if seconds < 0.95:  # a video's later frame at a small size: not "0 s"
        return f"{max(seconds, 0.1):.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def time_left(seconds: float) -> str:
    """A bar's time left: ``about 40 s left``, and ``almost done`` at the end (not ``about 0.1 s left``)."""
    return f"about {duration(seconds)} left" if seconds >= 0.5 else "almost done"


def try_lower(setting: str | None) -> str:
    """The advice after a run whose loss overflowed: the setting to lower, named as the front door names it (its
    option, its control), or nothing when none is to blame."""
    return f"; try a lower {setting}" if setting else ""
