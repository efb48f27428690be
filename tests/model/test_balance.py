"""The style weights follow the painting's energy: loud paintings strongly, quiet ones lightly."""

import pytest
import torch
from conftest import EXAMPLES
from PIL import Image

from brushwork.core.settings import Settings, preset
from brushwork.model.balance import MIDDLING_ENERGY, balanced, painting_energy

CPU = torch.device("cpu")


def paintings() -> dict[str, Image.Image]:
    return {name: Image.open(EXAMPLES / "style" / f"{name}.jpg") for name in ("starry_night", "shipwreck")}


def test_a_loud_painting_is_painted_more_strongly_than_a_dark_quiet_one(encoder):
    loud, quiet = (painting_energy(encoder, p, CPU) for p in paintings().values())
    assert loud > 4 * quiet  # The Starry Night against The Shipwreck: 2.1e6 against 3.5e5
    settings = Settings()
    strong = balanced(settings, [paintings()["starry_night"]], (1.0,), encoder, CPU)
    light = balanced(settings, [paintings()["shipwreck"]], (1.0,), encoder, CPU)
    assert strong.style_weight == pytest.approx(settings.style_weight * (loud / MIDDLING_ENERGY) ** 0.5)
    assert strong.swd_weight / settings.swd_weight == pytest.approx(strong.style_weight / settings.style_weight)
    assert light.style_weight < settings.style_weight < strong.style_weight
    assert strong.style_balance == 0  # applied once
    mixed = balanced(settings, list(paintings().values()), (0.5, 0.5), encoder, CPU)
    assert light.style_weight < mixed.style_weight < strong.style_weight


def test_the_balance_leaves_absolute_terms_presets_and_its_own_zero_alone(encoder):
    starry = [paintings()["starry_night"]]
    for settings in (Settings(style_balance=0), Settings(normalize="size"), preset("seed"), preset("paper")):
        assert balanced(settings, starry, (1.0,), encoder, CPU) == settings
