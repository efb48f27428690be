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


def test_the_plan_counts_the_photos_features_at_the_runs_own_content_layers():
    from brushwork.core.settings import Settings
    from brushwork.planning.machine import GB, Machine
    from brushwork.planning.run_plan import plan_run

    machine = Machine("cpu", "test CPU, fp32", 20 * GB, 0, 4, 0.5, 1.0)
    shallow, deep = (
        plan_run((1024, 768), [("painting", (512, 512))], Settings(size=1024, scales=1, content_layers=layers), machine)
        for layers in (("conv1_1",), ("conv4_2",))
    )
    # conv1_1 keeps 64 channels at every pixel (256 bytes), conv4_2 512 channels at one in 64 (32 bytes)
    assert shallow.levels[-1].memory - deep.levels[-1].memory == (256 - 32) * 1024 * 768
