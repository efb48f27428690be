"""The words a plan uses for time."""

from __future__ import annotations

import pytest

from brushwork.core.words import duration, time_left


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1e-5, "0.1 s"), (0.45, "0.5 s"), (0.96, "1 s"), (40.2, "40 s"), (720, "12 min"), (5400, "1.5 h")],
)
def test_a_duration_is_never_zero_seconds_and_grows_into_minutes_and_hours(seconds, words):
    assert duration(seconds) == words


@pytest.mark.parametrize(
    ("seconds", "words"), [(0.0, "almost done"), (0.6, "about 0.6 s left"), (95, "about 2 min left")]
)
def test_a_bar_at_its_end_is_almost_done_not_a_tenth_of_a_second_from_it(seconds, words):
    assert time_left(seconds) == words


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


def test_a_small_run_times_a_step_at_its_own_size_and_the_plan_scales_from_there(encoder):
    import torch

    from brushwork.core.settings import Settings
    from brushwork.model.device import measure
    from brushwork.planning.machine import GB, Machine
    from brushwork.planning.run_plan import plan_run

    assert measure(Settings(size=96, precision="fp32"), torch.device("cpu"), encoder).calibrated == 96
    assert measure(Settings(size=32, precision="fp32"), torch.device("cpu"), encoder).calibrated == 64
    assert measure(Settings(size=512, precision="fp32"), torch.device("cpu"), encoder).calibrated == 256
    timed = Machine("cpu", "test CPU, fp32", 20 * GB, 0, 4, step_seconds=0.1, exponent=1.0, calibrated=64)
    level = plan_run((128, 128), [("painting", (128, 128))], Settings(size=128, scales=1), timed).levels[-1]
    assert level.step_seconds == pytest.approx(0.4)  # four times the pixels of the square timed


@pytest.mark.parametrize("has_bf16", [True, False])
def test_bf16_asked_for_on_a_cpu_without_its_instructions_is_noted_in_the_plan(monkeypatch, encoder, has_bf16):
    from PIL import Image

    from brushwork.core.settings import Settings
    from brushwork.engine.inputs import measure_and_plan
    from brushwork.media.images import picture_from_image
    from brushwork.model import device

    monkeypatch.setattr(device, "_cpu_has_bf16", lambda: has_bf16)
    picture = picture_from_image(Image.new("RGB", (48, 36), (90, 120, 150)))
    planned = measure_and_plan(picture, [picture], Settings(size=32, precision="bf16", device="cpu"), encoder)
    said = [note for note in planned.notes if "bf16 is emulated" in note]
    assert said == (
        []
        if has_bf16
        else [
            "this CPU has no bf16 instructions (AVX512-BF16 or AMX): bf16 is emulated, often 10-20x slower than fp32, "
            "which precision auto takes here"
        ]
    )


def test_a_noun_takes_the_article_its_sound_takes():
    from brushwork.core.words import with_article

    assert [with_article(n) for n in ("int64", "uint8", "float64", "ndarray", "Image")] == [
        "an int64",
        "a uint8",
        "a float64",
        "an ndarray",
        "an Image",
    ]


def test_a_painting_seen_larger_than_its_style_scale_asks_says_what_was_asked():
    from brushwork.core.settings import Settings
    from brushwork.planning.machine import GB, Machine
    from brushwork.planning.run_plan import plan_run

    machine = Machine("cpu", "test CPU, fp32", 20 * GB, 0, 4, 0.5, 1.0)
    planned = plan_run((128, 96), [("wave.jpg", (928, 514))], Settings(size=128, style_scale=0.01), machine)
    assert any("wave.jpg (928x514) is seen at 29 px, not 1: its short side must be 16 px" in n for n in planned.notes)
