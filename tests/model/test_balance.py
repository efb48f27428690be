"""The style weights follow the painting's energy over the photo's: loud paintings strongly, quiet ones lightly,
busy photos kept more."""

import numpy as np
import pytest
import torch
from conftest import EXAMPLES
from PIL import Image

from brushwork.core.settings import Settings, preset
from brushwork.model.balance import MIDDLING_BALANCE, balanced, painting_energy, photo_energy

CPU = torch.device("cpu")


def photo(name: str = "tubingen") -> Image.Image:
    return Image.open(EXAMPLES / "content" / f"{name}.jpg")


def paintings() -> dict[str, Image.Image]:
    return {name: Image.open(EXAMPLES / "style" / f"{name}.jpg") for name in ("starry_night", "shipwreck")}


def test_a_loud_painting_is_painted_more_strongly_than_a_dark_quiet_one(encoder):
    loud, quiet = (painting_energy(encoder, p, CPU) for p in paintings().values())
    assert loud > 4 * quiet  # The Starry Night against The Shipwreck: 2.1e6 against 3.5e5
    settings = Settings()
    strong = balanced(settings, photo(), [paintings()["starry_night"]], (1.0,), encoder, CPU)
    light = balanced(settings, photo(), [paintings()["shipwreck"]], (1.0,), encoder, CPU)
    balance = loud / photo_energy(encoder, photo(), CPU) / MIDDLING_BALANCE
    assert strong.style_weight == pytest.approx(settings.style_weight * balance**0.5)
    assert strong.swd_weight / settings.swd_weight == pytest.approx(strong.style_weight / settings.style_weight)
    assert light.style_weight < settings.style_weight < strong.style_weight
    assert strong.style_balance == 0  # applied once
    mixed = balanced(settings, photo(), list(paintings().values()), (0.5, 0.5), encoder, CPU)
    assert light.style_weight < mixed.style_weight < strong.style_weight


def test_a_busy_photo_is_kept_more_than_a_calm_one(encoder):
    """Stata's energy is 1.6 times Tübingen's (2.7e6 against 1.67e6): the same painting paints it more lightly,
    as neural-style's absolute content loss does."""
    busy, calm = photo_energy(encoder, photo("stata"), CPU), photo_energy(encoder, photo(), CPU)
    assert busy > 1.3 * calm
    starry = [paintings()["starry_night"]]
    lighter = balanced(Settings(), photo("stata"), starry, (1.0,), encoder, CPU)
    stronger = balanced(Settings(), photo(), starry, (1.0,), encoder, CPU)
    assert lighter.style_weight / stronger.style_weight == pytest.approx((calm / busy) ** 0.5)


def test_the_balance_leaves_absolute_terms_presets_and_its_own_zero_alone(encoder):
    starry = [paintings()["starry_night"]]
    for settings in (Settings(style_balance=0), Settings(normalize="size"), preset("seed"), preset("paper")):
        assert balanced(settings, photo(), starry, (1.0,), encoder, CPU) == settings


def test_a_paintings_own_mask_measures_the_energy_of_the_part_learnt_from(encoder):
    """A diptych of a blank grey half and The Starry Night: its own mask on the grey half makes it a quiet
    painting, on The Starry Night a loud one; a mask of ones is no mask."""
    starry = paintings()["starry_night"].convert("RGB").resize((256, 160))
    diptych = Image.new("RGB", (512, 160), (128, 128, 128))
    diptych.paste(starry, (256, 0))
    left, right = np.zeros((160, 512), np.float32), np.zeros((160, 512), np.float32)
    left[:, :256], right[:, 256:] = 1.0, 1.0
    grey, loud, whole = (painting_energy(encoder, diptych, CPU, part) for part in (left, right, None))
    assert grey < whole < loud and loud > 10 * grey
    assert painting_energy(encoder, diptych, CPU, np.ones((160, 512), np.float32)) == pytest.approx(whole, rel=1e-4)
    settings = Settings()
    quiet = balanced(settings, photo(), [diptych], (1.0,), encoder, CPU, [left])
    strong = balanced(settings, photo(), [diptych], (1.0,), encoder, CPU, [right])
    assert quiet.style_weight < balanced(settings, photo(), [diptych], (1.0,), encoder, CPU).style_weight
    assert strong.style_weight == pytest.approx(
        settings.style_weight * min(3.0, (loud / photo_energy(encoder, photo(), CPU) / MIDDLING_BALANCE) ** 0.5)
    )
