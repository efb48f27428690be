"""The words a plan uses for time."""

from __future__ import annotations

import pytest

from brushwork.core.words import duration


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1e-5, "0.1 s"), (0.45, "0.5 s"), (0.96, "1 s"), (40.2, "40 s"), (720, "12 min"), (5400, "1.5 h")],
)
def test_a_duration_is_never_zero_seconds_and_grows_into_minutes_and_hours(seconds, words):
    assert duration(seconds) == words
