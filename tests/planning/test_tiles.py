"""Print sizes: tiles whose features are exactly the whole picture's, a tiled loss equal to the whole one,
and the plan that decides whole or tiled (and refuses what cannot fit) before any work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from brushwork.core.errors import SettingsError
from brushwork.core.layers import feature_size, halo, stride
from brushwork.core.settings import Settings, resolve
from brushwork.engine import runner as engine
from brushwork.media.masks import LevelRegions
from brushwork.model import terms
from brushwork.model.objective import Objective, TiledObjective
from brushwork.model.terms import Temporal, Term
from brushwork.planning.machine import GB, Machine
from brushwork.planning.run_plan import plan_run
from brushwork.planning.tiles import core, core_view, tile_grid

pytestmark = pytest.mark.slow

LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "conv4_2")
GEN = torch.Generator().manual_seed(0)


def noise(width: int, height: int) -> torch.Tensor:
    return torch.rand(1, 3, height, width, generator=GEN) * 255


def machine(free_gb: float = 20.0) -> Machine:
    return Machine("cpu", "test CPU, fp32", int(free_gb * GB), int(0.4 * GB), 4, 0.5, 1.0)


@pytest.mark.parametrize(
    ("width", "height", "tile"), [(1024, 768, 512), (4096, 3072, 1536), (300, 170, 96), (17, 33, 16)]
)
def test_tile_cores_cover_the_picture_once_and_crops_add_the_margin(width, height, tile):
    margin, align = 80, 16
    tiles = tile_grid(width, height, tile, margin, align)
    covered = torch.zeros(height, width, dtype=torch.int32)
    for t in tiles:
        left, top, right, bottom = t.core
        assert 0 < right - left <= tile and 0 < bottom - top <= tile
        assert left % align == 0 and top % align == 0  # poolings line up with the picture's
        covered[top:bottom, left:right] += 1
        assert t.crop == (
            max(0, left - margin),
            max(0, top - margin),
            min(width, right + margin),
            min(height, bottom + margin),
        )
    assert bool((covered == 1).all())


def test_the_margin_is_the_deepest_layers_reach_rounded_to_its_stride():
    assert halo(LAYERS) == 80 and stride("relu5_1") == 16
    assert halo(("relu1_1",)) == 1 and halo(("relu3_1",)) == 12


def test_a_tiles_features_at_its_core_are_the_whole_pictures(encoder):
    picture = noise(272, 200)
    with torch.no_grad():
        whole = encoder(picture, LAYERS)
        for t in tile_grid(272, 200, 96, halo(LAYERS), 16):
            left, top, right, bottom = t.crop
            mine = encoder(picture[:, :, top:bottom, left:right], LAYERS)
            for name in LAYERS:
                ours, theirs = core(mine[name], t, name), core_view(whole[name], t, name)
                assert ours.shape == theirs.shape
                assert float((ours - theirs).abs().max()) <= 1e-4 * float(theirs.abs().max())


def alone(term: type[Term]) -> Settings:
    """Settings with ``term`` the only registered term on."""
    return Settings().replace(**{other.setting: 0.0 for other in terms.TERMS if other.setting != term.setting})


def held(width: int, height: int) -> Temporal:
    """A video frame's temporal term: held to a previous frame where a random half of the flow is certain."""
    return Temporal(noise(width, height), (torch.rand(1, 1, height, width, generator=GEN) > 0.5).float(), 0.02)


def regions(width: int, height: int) -> LevelRegions:
    """Two paintings' soft-edged halves of a picture, and a kept blob in the middle."""
    x = torch.linspace(-1, 1, width).expand(1, 1, height, width)
    y = torch.linspace(-1, 1, height)[:, None].expand(1, 1, height, width)
    left = (0.5 - 4 * x).clamp(0, 1)
    keep = ((0.3 - (x * x + y * y).sqrt()) * 8).clamp(0, 1)
    return LevelRegions((left * (1 - keep), (1 - left) * (1 - keep)), keep)


def assert_tiled_is_whole(
    encoder, settings: Settings, extra: list[Term], masks: LevelRegions | None = None
) -> dict[str, torch.Tensor]:
    """The tiled loss, its parts and its gradient are the whole picture's; the parts."""
    content, start = noise(240, 176), noise(240, 176)
    paintings = [noise(200, 160)] if masks is None else [noise(200, 160), noise(160, 200)]
    blend = [1.0 / len(paintings)] * len(paintings)
    whole = Objective(encoder, content, paintings, blend, settings, bf16=False, extra=extra, regions=masks)
    tiled = TiledObjective(
        encoder, content, paintings, blend, settings, bf16=False, tile=96, extra=extra, regions=masks
    )
    assert len(tiled.grid) == (6 if tiled.layers else 0)
    a, b = start.clone().requires_grad_(True), start.clone().requires_grad_(True)
    loss_a, parts_a = whole.evaluate(a, grad=True)
    loss_b, parts_b = tiled.evaluate(b, grad=True)
    assert float(loss_b) == pytest.approx(float(loss_a), rel=1e-4)
    assert parts_a.keys() == parts_b.keys()
    for name in parts_a:
        assert float(parts_b[name]) == pytest.approx(float(parts_a[name]), rel=1e-4, abs=1e-9)
    assert a.grad is not None and b.grad is not None
    # the same gradient as a whole: float sums in another order may swap a pair of nearly tied sliced-Wasserstein
    # points, which moves those two positions' gradients alone (seen at 2e-3 of the largest, once tests ran before)
    assert float((a.grad - b.grad).norm()) <= 1e-4 * float(a.grad.norm())
    assert float((a.grad - b.grad).abs().max()) <= 1e-2 * float(a.grad.abs().max())
    return parts_a


@pytest.mark.parametrize("term", terms.TERMS, ids=lambda term: term.__name__)
def test_each_terms_tiled_loss_and_gradient_are_the_whole_pictures(encoder, term):
    """The sliced-Wasserstein term draws its positions and directions alike, in the same order, whole or tiled."""
    parts = assert_tiled_is_whole(encoder, alone(term), [])
    assert float(parts[term.part]) > 0 and sum(float(value) > 0 for value in parts.values()) == 1


@pytest.mark.parametrize("term", terms.TERMS, ids=lambda term: term.__name__)
def test_each_terms_tiled_loss_and_gradient_are_the_whole_pictures_in_regions(encoder, term):
    parts = assert_tiled_is_whole(encoder, alone(term), [], regions(240, 176))
    assert float(parts[term.part]) > 0


def test_pooling_layers_are_on_their_own_coarser_grid_and_tile_as_the_whole_picture(encoder, monkeypatch):
    """A pooling's output has half its input's positions: the features' size, the Gram's positions and the tiles'
    cores all count its own pooling."""
    with torch.no_grad():
        features = encoder(noise(250, 181), ("pool1", "pool4"))
    assert features["pool1"].shape[-2:] == (90, 125) and feature_size(250, 181, "pool1") == (125, 90)
    assert features["pool4"].shape[-2:] == (11, 15) and feature_size(250, 181, "pool4") == (15, 11)
    assert stride("pool4") == 16 and halo(("pool2",)) == 8
    monkeypatch.setattr(terms, "SWD_POINTS", 10**6)
    pooled = Settings(content_layers=("pool4",), style_layers=("relu1_1", "pool2", "pool3"))
    parts = assert_tiled_is_whole(encoder, pooled, [])
    assert float(parts["content"]) > 0 and float(parts["style"]) > 0


def test_a_run_in_regions_repeats_its_gradient_exactly(encoder, monkeypatch):
    """A region's sliced-Wasserstein positions are drawn with replacement; a position drawn twice must get its
    gradient summed in the same order every time, or the same seed would not repeat a picture."""
    monkeypatch.setattr(terms, "SWD_POINTS", 30_000)  # most of a region's first-layer positions, many twice
    content, start, paintings = noise(240, 176), noise(240, 176), [noise(200, 160), noise(160, 200)]
    settings, masks = alone(terms.SlicedWasserstein), regions(240, 176)

    def gradient() -> torch.Tensor:
        objective = Objective(encoder, content, paintings, [0.5, 0.5], settings, bf16=False, regions=masks)
        x = start.clone().requires_grad_(True)
        objective.evaluate(x, grad=True)
        assert x.grad is not None
        return x.grad

    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the tests' one thread would sum in order whatever the code did
    try:
        assert torch.equal(gradient(), gradient())
    finally:
        torch.set_num_threads(threads)


def test_all_terms_together_and_a_video_frames_tiled_are_whole(encoder, monkeypatch):
    monkeypatch.setattr(terms, "SWD_POINTS", 10**6)
    parts = assert_tiled_is_whole(encoder, Settings(), [held(240, 176)])
    assert all(float(value) > 0 for value in parts.values()) and "temporal" in parts


def test_a_tiled_run_paints_the_whole_runs_picture(pictures, monkeypatch):
    monkeypatch.setattr(terms, "SWD_POINTS", 10**6)
    settings = Settings(size=160, scales=1, steps=3, device="cpu")
    whole = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings)
    tiled = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings.replace(tile_size=96))
    a, b = (torch.from_numpy(np.asarray(r.image, dtype=np.float32)) for r in (whole, tiled))
    assert whole.status == tiled.status == "done"
    assert float((a - b).abs().mean()) < 0.5  # the same picture, up to the order of float sums


def test_the_plan_paints_whole_while_it_fits_and_in_tiles_after():
    photo, paintings = (1024, 768), [("starry.jpg", (1024, 640))]
    roomy = plan_run(photo, paintings, Settings(size=4096), machine(200))
    assert all(level.tile is None for level in roomy.levels)
    tight = plan_run(photo, paintings, Settings(size=4096), machine(8))
    assert [level.tile is None for level in tight.levels] == [True] * 4 + [False] * 2
    assert tight.peak <= 0.4 * GB + 0.85 * 8 * GB
    assert tight.levels[-1].tiles > 1 and "tiles of" in tight.describe()


def test_a_tile_size_tiles_only_the_levels_larger_than_it():
    plan = plan_run((1024, 768), [("p", (1024, 640))], Settings(size=1024, tile_size=256), machine())
    assert [level.tile for level in plan.levels] == [None, None, 256, 256]
    assert plan.levels[-1].tiles == 12


def test_the_plan_says_the_tiles_a_run_paints_and_notes_tiles_so_small_their_margins_dominate():
    odd = plan_run((1040, 780), [("p", (1024, 640))], Settings(size=1040, scales=1, tile_size=520), machine())
    assert odd.levels[-1].tile == 512 and odd.levels[-1].tiles == 6  # cores cut to the deepest stride
    assert "6 tiles of 512 px" in odd.describe() and not any("margins" in note for note in odd.notes)
    tiny = plan_run((300, 225), [("p", (1024, 640))], Settings(size=300, tile_size=100), machine())
    assert tiny.levels[-1].overhead >= 3 and any(
        note.startswith("tiles of 100 px paint their margins (80 px a side) over and over") for note in tiny.notes
    )


def test_a_run_that_cannot_fit_even_in_tiles_is_refused_with_the_size_that_fits():
    with pytest.raises(SettingsError, match=r"8192 needs .* even in tiles, more than .*; use \d+ or less") as info:
        plan_run((1024, 768), [("p", (1024, 640))], Settings(size=8192), machine(0.5))
    assert info.value.field == "size"
    with pytest.raises(SettingsError, match="use a smaller tile size") as info:
        plan_run((1024, 768), [("p", (1024, 640))], Settings(size=4096, tile_size=4096), machine(2))
    assert info.value.field == "tile_size"


def test_a_level_too_small_to_tile_is_refused_without_saying_tiles_were_tried(monkeypatch):
    from brushwork.planning import run_plan as planning

    calls = []
    real = planning._levels
    monkeypatch.setattr(planning, "_levels", lambda *args: calls.append(args) or real(*args))
    with pytest.raises(SettingsError) as info:
        plan_run((1024, 768), [("p", (1024, 640))], Settings(size=8192), machine(0.0))
    assert "at 128x96 px, more than" in str(info.value) and "tiles" not in str(info.value)
    assert len(calls) < 20  # one search for the size that fits, not one inside each of its probes


def test_a_tile_smaller_than_its_margin_is_refused():
    with pytest.raises(SettingsError, match="smaller than the 80 px margin") as info:
        Settings(tile_size=64)
    assert info.value.field == "tile_size"
    Settings(tile_size=64, style_layers=("relu1_1", "relu2_1"), content_layers=("relu2_1",))  # a shallow net's is less


def test_a_painting_is_never_enlarged_past_twice_its_pixels_and_the_plan_says_so():
    small = [("little.jpg", (500, 400))]
    plan = plan_run((1024, 768), small, Settings(size=4096), machine(200))
    assert plan.levels[-1].painting == (1000, 800)
    assert any("little.jpg (500x400) is seen at 1000 px, not 4096" in note for note in plan.notes)
    plan = plan_run((1024, 768), small, Settings(size=800), machine(200))
    assert plan.levels[-1].painting == (800, 640) and "enlarged 1.6x" in plan.notes[0]
    assert not plan_run((1024, 768), small, Settings(size=400), machine(200)).notes


def test_a_photo_enlarged_is_noted_in_the_plan():
    painting = [("big.jpg", (8192, 6144))]
    plan = plan_run((1024, 768), painting, Settings(size=8192, tile_size=2048), machine(200))
    assert "the photo (1024x768) is enlarged 8.0x to 8192x6144 px" in plan.describe()
    assert not any("photo" in note for note in plan_run((1024, 768), painting, Settings(size=1100), machine(200)).notes)


def test_the_time_left_counts_a_tiled_levels_dearer_steps():
    from brushwork.planning.forecast import LEVEL_END, LEVEL_SETUP, StepTimer, forecast
    from brushwork.planning.levels import STEP_COST_EXPONENT

    sizes, budgets = [(100, 100), (200, 200)], [10, 10]
    _, whole = forecast(budgets, 0, sizes, 0, [], 5, 1.0, 1.0)
    _, tiled = forecast(budgets, 0, sizes, 0, [], 5, 1.0, 1.0, [1.0, 1.8])
    later = (10 + LEVEL_SETUP) * 4
    assert whole == pytest.approx(5 + LEVEL_END + later) and tiled == pytest.approx(5 + LEVEL_END + 1.8 * later)
    timer = StepTimer(0, min_exponent=1.0)  # a tiled level's steps do not read as faster growth with size
    timer.start_level(0.0, (100, 100))
    for step in range(1, 6):
        timer.step(step * 1.0)
    timer.start_level(10.0, (200, 200), overhead=1.8)
    assert timer.guess == pytest.approx(4**STEP_COST_EXPONENT * 1.8)  # the default growth, before two levels
    for step in range(1, 6):
        timer.step(10.0 + step * 7.2)
    assert timer.exponent() == pytest.approx(1.0)


def test_a_learning_rate_change_after_the_last_step_is_noted_in_the_plan():
    seed = resolve(preset_name="seed")
    short = plan_run((256, 192), [("p", (256, 160))], seed.replace(size=128, steps=20), machine(200))
    assert "the learning-rate schedule's 180:0.1 starts after the run's 20 steps" in short.describe()
    assert not plan_run((256, 192), [("p", (256, 160))], seed.replace(size=128), machine(200)).notes
