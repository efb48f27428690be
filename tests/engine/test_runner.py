"""The optimisation loop end to end, on the real VGG19 at 64 px and few steps."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from brushwork.core.errors import ImageError, SettingsError
from brushwork.core.settings import PRESETS, Settings, preset
from brushwork.engine import runner as engine
from brushwork.engine.inputs import prepare_inputs
from brushwork.media import color
from brushwork.media.images import Picture, resize_longest, to_pil, to_tensor
from brushwork.model.losses import gram_matrix
from brushwork.model.objective import Objective
from brushwork.planning import forecast
from brushwork.planning import levels as plan

pytestmark = pytest.mark.slow

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
SIZE = 64
WH = (64, 48)  # tubingen is 4:3


def small(**changes) -> Settings:
    """64 px runs of the engine's machinery, with every style layer at every level (at 64 px the default
    ``layer_reach`` leaves relu1_1 alone: a thumbnail takes the painting's colours, not its strokes)."""
    return Settings(size=SIZE, device="cpu", **{"layer_reach": 0.0, **changes})


def style_distance(encoder, image: Image.Image, style: Image.Image) -> float:
    """Mean relative Gram distance over the style layers (as the benchmarks' judge measures it), in fp32."""
    with torch.no_grad():
        f = encoder(to_tensor(image), STYLE_LAYERS)
        s = encoder(to_tensor(resize_longest(style, max(image.size))), STYLE_LAYERS)
    return sum(
        float((gram_matrix(f[k]) - gram_matrix(s[k])).norm() / gram_matrix(s[k]).norm()) for k in STYLE_LAYERS
    ) / len(STYLE_LAYERS)


def content_error(encoder, image: Image.Image, photo: Image.Image) -> float:
    """Relative error of conv4_2 features against the photo's."""
    with torch.no_grad():
        a = encoder(to_tensor(image), ["conv4_2"])["conv4_2"]
        b = encoder(to_tensor(photo.resize(image.size, Image.Resampling.LANCZOS)), ["conv4_2"])["conv4_2"]
    return float((a - b).norm() / b.norm())


def correlation(a: Image.Image, b: Image.Image) -> float:
    x = np.asarray(a.convert("RGB"), np.float64).ravel()
    y = np.asarray(b.convert("RGB").resize(a.size, Image.Resampling.LANCZOS), np.float64).ravel()
    return float(np.corrcoef(x, y)[0, 1])


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b))


@pytest.fixture(scope="module")
def lbfgs_run(pictures):
    """The paper's optimiser, 24 steps at 64 px: the run most checks below look at."""
    seen = []

    def callback(p: engine.Progress) -> None:
        seen.append((p.step, p.total, p.level, p.levels, p.size, dict(p.losses), p.elapsed, p.eta))

    result = engine.run(
        pictures["tubingen"], [pictures["starry_night"]], small(steps=24, optimizer="lbfgs"), callback=callback
    )
    return result, seen


def test_run_brings_the_style_twice_as_close(lbfgs_run, encoder, pictures):
    result, _ = lbfgs_run
    assert result.status == "done" and result.steps == 24 and result.message == ""
    assert result.image.size == WH and result.image.mode == "RGB"
    photo, painting = pictures["tubingen"].rgb, pictures["starry_night"].rgb
    before = style_distance(encoder, photo.resize(WH, Image.Resampling.LANCZOS), painting)
    after = style_distance(encoder, result.image, painting)
    assert after * 2 < before, (before, after)


def test_run_keeps_the_content(lbfgs_run, encoder, pictures):
    result, _ = lbfgs_run
    photo, painting = pictures["tubingen"].rgb, pictures["starry_night"].rgb
    painting_alike = correlation(painting.resize(WH, Image.Resampling.LANCZOS), photo)
    assert correlation(result.image, photo) > max(0.6, painting_alike + 0.25)
    # the content features stay bounded: closer to the photo's than the painting's or noise's are
    noise = to_pil(torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(0)) * 255)
    err = content_error(encoder, result.image, photo)
    assert err < 1.5
    assert err < content_error(encoder, painting.resize(WH, Image.Resampling.LANCZOS), photo)
    assert err < content_error(encoder, noise, photo)


def test_run_reports_losses_history_and_progress(lbfgs_run):
    result, seen = lbfgs_run
    assert set(result.losses) == {"content", "style", "tv", "total"}
    assert result.losses["total"] == pytest.approx(sum(result.losses[k] for k in ("content", "style", "tv")), rel=1e-4)
    assert len(result.history) == 24
    times, totals = zip(*result.history)
    assert list(times) == sorted(times) and all(math.isfinite(t) for t in totals)
    assert totals[-1] < totals[0] / 2
    assert [s[0] for s in seen] == list(range(1, 25))
    assert all(total == 24 and level == 0 and levels == 1 and size == WH for _, total, level, levels, size, *_ in seen)
    assert seen[-1][5] == result.losses
    assert seen[-1][7] < seen[0][7] / 20  # after the last step only its score is left


def test_adam_lowers_the_loss(pictures, encoder):
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], small(steps=6, optimizer="adam", lr=5.0))
    assert result.status == "done" and result.steps == 6 and result.image.size == WH
    totals = [t for _, t in result.history]
    assert totals[-1] < 0.7 * totals[0]
    painting = pictures["starry_night"].rgb
    before = style_distance(encoder, pictures["tubingen"].rgb.resize(WH, Image.Resampling.LANCZOS), painting)
    assert style_distance(encoder, result.image, painting) < before


def test_seeded_noise_runs_are_reproducible(pictures):
    settings = small(steps=2, optimizer="adam", init="noise", seed=1234)
    a = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings)
    b = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings)
    c = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings.replace(seed=99))
    assert a.image.tobytes() == b.image.tobytes()
    assert [t for _, t in a.history] == [t for _, t in b.history]
    assert a.losses == b.losses
    assert not same_pixels(a.image, c.image)


def test_seed_preset_schedule():
    s = preset("seed")
    assert s.optimizer == "adam" and s.steps == 200 and s.scales == 1 and s.tv_weight > 0
    assert s.lr_at(0) == 3.0 and s.lr_at(179) == 3.0
    assert s.lr_at(180) == 0.1 and s.lr_at(199) == 0.1
    assert preset("seed", size=64).size == 64 and preset("seed", size=64).lr_at(180) == 0.1
    assert PRESETS["paper"]["pooling"] == "avg" and preset("paper").optimizer == "lbfgs"
    with pytest.raises(SettingsError):
        preset("nonsense")


def test_engine_follows_the_lr_schedule(pictures, monkeypatch):
    lrs: list[float] = []

    class RecordingAdam(torch.optim.Adam):
        def step(self, closure=None):
            lrs.append(self.param_groups[0]["lr"])
            return super().step(closure)

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    settings = preset("seed", size=SIZE, device="cpu", steps=4, lr_schedule=((2, 0.1),))
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings)
    assert result.status == "done"
    assert lrs == [3.0, 3.0, 0.1, 0.1] == [settings.lr_at(i) for i in range(4)]


def test_style_blend(pictures):
    tub, starry, wave = pictures["tubingen"], pictures["starry_night"], pictures["wave"]
    settings = small(steps=2, optimizer="adam")
    only_starry = engine.run(tub, [starry], settings)
    blend_all_starry = engine.run(tub, [starry, wave], settings.replace(style_blend=(1.0, 0.0)))
    assert same_pixels(only_starry.image, blend_all_starry.image)  # a zero weight removes a style exactly
    half = engine.run(tub, [starry, wave], settings.replace(style_blend=(2.0, 2.0)))
    assert half.status == "done"
    assert not same_pixels(half.image, only_starry.image)
    with pytest.raises(SettingsError, match="blend"):
        engine.run(tub, [starry, wave], settings.replace(style_blend=(1.0, 1.0, 1.0)))
    with pytest.raises(SettingsError):
        engine.run(tub, [], settings)


def _chroma(image: Image.Image) -> torch.Tensor:
    return color._yiq(to_tensor(image))[:, 1:]


def test_preserve_color_luminance_keeps_the_photos_chroma(pictures):
    photo = pictures["tubingen"].rgb
    result = engine.run(
        pictures["tubingen"], [pictures["starry_night"]], small(steps=20, optimizer="lbfgs", preserve_color="luminance")
    )
    assert result.status == "done"
    target = photo.resize(WH, Image.Resampling.LANCZOS)
    chroma_error = (_chroma(result.image) - _chroma(target)).abs()
    assert chroma_error.mean() < 1.5 and torch.quantile(chroma_error.flatten(), 0.95) < 4
    # while the brightness did change
    luma = lambda im: color._yiq(to_tensor(im))[:, :1]  # noqa: E731
    assert (luma(result.image) - luma(target)).abs().mean() > 2
    # the painting's own chroma (strong blue and yellow) is not what came out
    painting_chroma = _chroma(pictures["starry_night"].rgb.resize(WH, Image.Resampling.LANCZOS))
    assert (_chroma(result.image) - painting_chroma).abs().mean() > 3 * chroma_error.mean()


def test_preserve_color_histogram(pictures):
    content = to_tensor(pictures["tubingen"].rgb.resize(WH, Image.Resampling.LANCZOS))
    style = to_tensor(resize_longest(pictures["starry_night"].rgb, 64))
    matched = color.match_color_histogram(style, content)

    def stats(x):
        flat = x.reshape(3, -1).double()
        return flat.mean(1), torch.cov(flat, correction=0)

    (mc, cc), (mm, cm), (ms, cs) = stats(content), stats(matched), stats(style)
    assert (mm - mc).abs().max() < 3 < (ms - mc).abs().max()
    assert (cm - cc).abs().max() < 0.1 * cc.abs().max() < (cs - cc).abs().max()
    result = engine.run(
        pictures["tubingen"], [pictures["starry_night"]], small(steps=3, optimizer="lbfgs", preserve_color="histogram")
    )
    assert result.status == "done" and result.image.size == WH


def close_pixels(a: Image.Image, b: Image.Image, tolerance: int = 1) -> bool:
    return a.size == b.size and np.abs(np.asarray(a).astype(int) - np.asarray(b).astype(int)).max() <= tolerance


# One Adam step of lr 1e-3 moves no pixel by more than a rounding step: the result shows the start.
ONE_TINY_STEP = dict(steps=1, optimizer="adam", lr=1e-3)


def test_init_from_noise(pictures):
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], small(init="noise", seed=5, **ONE_TINY_STEP))
    expected = to_pil(torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(5)) * 255)
    assert close_pixels(result.image, expected)
    assert correlation(result.image, pictures["tubingen"].rgb) < 0.2


def test_init_from_image_path(pictures, tmp_path):
    start = Image.new("RGB", (32, 24), (10, 200, 30))
    start.save(tmp_path / "start.png")
    result = engine.run(
        pictures["tubingen"], [pictures["starry_night"]], small(init=str(tmp_path / "start.png"), **ONE_TINY_STEP)
    )
    assert result.image.size == WH
    assert np.abs(np.asarray(result.image).astype(int) - (10, 200, 30)).max() <= 1


def test_init_from_content(pictures):
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], small(init="content", **ONE_TINY_STEP))
    assert close_pixels(result.image, pictures["tubingen"].rgb.resize(WH, Image.Resampling.LANCZOS))


def test_style_scale_changes_the_result(pictures):
    content, style = pictures["tubingen"], pictures["starry_night"]
    settings = small(steps=2, optimizer="adam")
    _, styles = prepare_inputs(content, [style], settings.replace(style_scale=0.5), WH, torch.device("cpu"))
    assert max(styles[0].shape[-2:]) == 32
    _, styles = prepare_inputs(content, [style], settings.replace(style_scale=2.0), WH, torch.device("cpu"))
    assert max(styles[0].shape[-2:]) == 128
    a = engine.run(content, [style], settings)
    b = engine.run(content, [style], settings.replace(style_scale=0.5))
    assert a.status == b.status == "done"
    assert not same_pixels(a.image, b.image)


def test_callback_returning_false_cancels(pictures):
    steps = []

    def callback(p):
        steps.append(p.step)
        return p.step < 3

    result = engine.run(
        pictures["tubingen"], [pictures["starry_night"]], small(steps=10, optimizer="adam"), callback=callback
    )
    assert result.status == "cancelled" and "cancel" in result.message
    assert steps == [1, 2, 3] and result.steps == 3
    assert isinstance(result.image, Image.Image) and result.image.size == WH


def test_keyboard_interrupt_from_callback_keeps_the_best_picture(pictures):
    snapshots = {}

    def callback(p):
        snapshots[p.step] = p.image()
        if p.step == 3:
            raise KeyboardInterrupt

    result = engine.run(
        pictures["tubingen"], [pictures["starry_night"]], small(steps=10, optimizer="lbfgs"), callback=callback
    )
    assert result.status == "interrupted" and "interrupted" in result.message
    assert result.steps == 3
    assert same_pixels(result.image, snapshots[3])
    assert not same_pixels(result.image, pictures["tubingen"].rgb.resize(WH, Image.Resampling.LANCZOS))


def test_ctrl_c_between_two_levels_keeps_the_first_levels_picture(pictures, monkeypatch):
    """Setting a level up (its inputs, the paintings' targets) takes a step's time or more: Ctrl-C may land there."""
    real, calls, steps = engine.prepare_inputs, [], []

    def pressed_at_the_second_level(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "prepare_inputs", pressed_at_the_second_level)
    result = engine.run(
        pictures["tubingen"],
        [pictures["starry_night"]],
        small(steps=4, scales=2).replace(size=128),
        callback=steps.append,
    )
    assert result.status == "interrupted" and result.message == f"interrupted at step {result.steps}; {engine.KEPT}"
    assert result.steps == len(steps) > 0 and {p.level for p in steps} == {0}  # the first level, painted whole
    assert result.image.size == (128, 96) and not same_pixels(
        result.image, pictures["tubingen"].rgb.resize((128, 96), Image.Resampling.LANCZOS)
    )


def test_a_run_leaves_the_calling_programs_random_numbers_and_cudnn_choice_alone(pictures):
    """brushwork draws from its own generators: a script's torch.rand after a run goes on where it was."""
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    torch.backends.cudnn.benchmark = False
    engine.run(pictures["tubingen"], [pictures["starry_night"]], small(steps=1))
    assert torch.equal(torch.rand(3), expected) and torch.backends.cudnn.benchmark is False


def test_the_step_timing_is_measured_once_and_keeps_no_network_alive():
    import gc
    import weakref

    from brushwork.model import device as devices

    settings, cpu = Settings(size=64, device="cpu", pooling="avg"), torch.device("cpu")
    encoder = devices.encoder_for(settings, cpu)
    first = devices.measure(settings, cpu, encoder).step_seconds
    assert devices.measure(settings, cpu, encoder).step_seconds == first  # timed once
    gone = weakref.ref(encoder)
    del encoder
    devices._cached_encoder.cache_clear()
    gc.collect()
    assert gone() is None


def test_divergent_run_keeps_the_last_good_picture(pictures):
    """L-BFGS with a learning rate of 255 (the most there is) from step 3 on overflows the loss deterministically."""
    snapshots = {}

    def callback(p):
        assert math.isfinite(p.losses["total"])
        snapshots[p.step] = p.image()

    settings = small(steps=10, optimizer="lbfgs", lr_schedule=((3, 255.0),))
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings, callback=callback)
    assert result.status == "diverged" and "NaN" in result.message
    assert 3 < result.steps < 10
    assert not math.isfinite(result.losses["total"])
    assert not math.isfinite(result.history[-1][1])
    last_good = snapshots[max(snapshots)]
    assert same_pixels(result.image, last_good)
    arr = np.asarray(result.image).astype(float)
    assert arr.std() > 20  # a real picture, not a blank NaN-turned-black frame
    assert correlation(result.image, pictures["tubingen"].rgb) > 0.8


def test_level_sizes():
    assert plan.level_sizes(1024, 768, 64, 1) == [(64, 48)]
    assert plan.level_sizes(1024, 768, 256, 3) == [(64, 48), (128, 96), (256, 192)]
    assert plan.level_sizes(1024, 768, 128, 3) == [(64, 48), (128, 96)]  # none below 64 px
    assert plan.level_sizes(1000, 100, 320, 3, min_side=16) == [(160, 16), (320, 32)]  # none too thin


@pytest.mark.parametrize(
    ("wh", "size", "fix"), [((128, 96), 16, "use 22 or more"), ((2000, 40), 512, "use 800 or more")]
)
def test_a_photo_too_thin_at_this_size_is_refused_before_any_work(wh, size, fix):
    photo = Picture(Image.new("RGB", wh, (90, 120, 200)), None, "thin.png")
    with pytest.raises(SettingsError, match=f"under the 16 px the network needs; {fix}") as info:
        engine.run(photo, [photo], Settings(size=size, device="cpu"), encoder=object())  # never reaches the network
    assert info.value.field == "size"


@pytest.mark.parametrize(
    ("photo_wh", "painting_wh", "which"),
    [((1, 1), (64, 64), "the photo is 1x1 px"), ((64, 48), (2, 2), "the painting icon.png is 2x2 px")],
)
def test_a_picture_too_small_to_paint_from_is_refused_before_any_work(photo_wh, painting_wh, which):
    photo = Picture(Image.new("RGB", photo_wh, (90, 120, 200)), None, "photo.png")
    painting = Picture(Image.new("RGB", painting_wh, (200, 0, 0)), None, "icon.png")
    with pytest.raises(ImageError, match=f"^{which}, too few pixels to paint from; give one of at least 16x16$"):
        engine.run(photo, [painting], Settings(size=96, device="cpu"), encoder=object())  # never reaches the network


def test_a_photo_too_thin_at_any_size_is_refused_with_advice_to_crop():
    photo = Picture(Image.new("RGB", (8000, 10), (90, 120, 200)), None, "thin.png")
    with pytest.raises(ImageError, match="too thin.*crop it"):
        engine.run(photo, [photo], Settings(size=4096, device="cpu"), encoder=object())


def test_a_painting_too_thin_even_at_the_largest_size_is_refused():
    photo = Picture(Image.new("RGB", (64, 48)), None, "photo.png")
    thread = Picture(Image.new("RGB", (9000, 10)), None, "thread.png")
    with pytest.raises(ImageError, match="the painting thread.png is too thin for the network"):
        engine.run(photo, [thread], Settings(size=64, device="cpu"), encoder=object())


def test_a_thin_painting_is_sized_for_the_style_layers_it_feeds(pictures, encoder):
    """Only the style layers see the painting; the photo and the picture need every layer's poolings."""
    strip = Picture(pictures["starry_night"].rgb.resize((128, 2), Image.Resampling.LANCZOS), None, "strip.png")
    settings = Settings(size=64, steps=2, style_layers=("relu1_1",), device="cpu")
    assert engine.run(pictures["tubingen"], [strip], settings, encoder=encoder).status == "done"


def test_a_thin_painting_is_enlarged_until_the_network_can_read_it(pictures, encoder):
    strip = Picture(pictures["starry_night"].rgb.resize((128, 4), Image.Resampling.LANCZOS), None, "strip.png")
    result = engine.run(
        pictures["tubingen"], [strip], Settings(size=22, steps=3, scales=2, device="cpu"), encoder=encoder
    )
    assert result.image.size == (22, 16) and result.status == "done"


def test_two_scale_run_shares_the_steps_between_its_levels(pictures):
    seen = []
    result = engine.run(
        pictures["tubingen"],
        [pictures["starry_night"]],
        Settings(size=128, scales=2, steps=5, optimizer="adam", device="cpu", tolerance=0),
        callback=lambda p: seen.append((p.step, p.total, p.level, p.size)),
    )
    assert result.status == "done" and result.image.size == (128, 96) and result.steps == 5
    # "steps" is the whole run's: a coarse step is cheap, so the coarse level takes more of them
    assert plan.level_budgets(5, [(64, 48), (128, 96)], Settings().level_growth) == [3, 2]
    assert seen == [
        (1, 5, 0, (64, 48)),
        (2, 5, 0, (64, 48)),
        (3, 5, 0, (64, 48)),
        (4, 5, 1, (128, 96)),
        (5, 5, 1, (128, 96)),
    ]


def test_deep_style_layers_join_only_the_levels_where_they_see_a_small_part_of_the_picture():
    """relu5_1 sees 156 px: at 512 px it would paint a portrait's face whole, so it waits for larger pictures."""
    settings = Settings(style_layer_weights=(1, 2, 3, 4, 5))
    sizes = [(128, 96), (256, 192), (512, 384), (1024, 1024)]
    layers = [plan.level_style_layers(settings, wh) for wh in sizes]
    assert [s.style_layers for s in layers] == [STYLE_LAYERS[:2], STYLE_LAYERS[:3], STYLE_LAYERS[:4], STYLE_LAYERS]
    assert [s.style_layer_weights for s in layers] == [(1, 2), (1, 2, 3), (1, 2, 3, 4), (1, 2, 3, 4, 5)]  # their own
    assert plan.level_style_layers(Settings(), (16, 12)).style_layers == ("relu1_1",)  # always a style layer
    assert plan.level_style_layers(Settings(layer_reach=0), (16, 12)).style_layers == STYLE_LAYERS  # the rule off
    assert all(preset(name).layer_reach == 0 for name in PRESETS)  # the report's terms at every level
    deep_only = plan.level_style_layers(Settings(style_layer_weights=(0, 0, 1, 1, 1)), (128, 96))
    assert (deep_only.style_layers, deep_only.style_layer_weights) == (("relu3_1",), (1,))  # not two of weight 0


def test_a_style_only_run_is_timed_and_planned(pictures):
    """No content layer and a content weight of 0: valid, and the step timing must not refuse it."""
    settings = small(steps=1, content_layers=(), content_weight=0.0)
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings)
    assert result.status == "done" and result.losses["content"] == 0


def test_each_level_is_painted_with_the_style_layers_that_fit_it(pictures, monkeypatch):
    seen = []

    class Spy(engine.Objective):
        def __init__(self, *args, **kwargs):
            seen.append(args[4].style_layers)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(engine, "Objective", Spy)
    engine.run(pictures["tubingen"], [pictures["starry_night"]], Settings(size=256, steps=3, device="cpu"))
    assert seen == [STYLE_LAYERS[:2], STYLE_LAYERS[:3]]  # 128x96, then 256x192


@pytest.mark.parametrize("growth", [1.4, 3.0])
def test_level_budgets_give_each_finer_level_growth_times_the_time_of_the_one_before(growth):
    sizes = plan.level_sizes(1024, 768, 512, plan.level_count(512, 0))
    assert sizes == [(128, 96), (256, 192), (512, 384)]
    budgets = plan.level_budgets(120, sizes, growth)
    assert sum(budgets) == 120 and budgets[0] > budgets[1] > budgets[2] >= 10
    times = [steps * plan.step_cost(sizes[0], wh) for steps, wh in zip(budgets, sizes)]
    for coarse, fine in zip(times, times[1:]):
        assert fine / coarse == pytest.approx(growth, rel=0.15)
    assert plan.level_budgets(3, sizes, growth) == [1, 1, 1] and plan.level_budgets(1, sizes[-1:], growth) == [1]
    assert plan.level_count(1024, 0) == 4 and plan.level_count(100, 0) == 1 and plan.level_count(512, 2) == 2


def test_fewer_steps_than_levels_leaves_out_the_coarsest(pictures):
    sizes = []
    result = engine.run(
        pictures["tubingen"],
        [pictures["starry_night"]],
        Settings(size=128, scales=2, steps=1, optimizer="adam", device="cpu"),
        callback=lambda p: sizes.append(p.size),
    )
    assert result.steps == 1 and sizes == [(128, 96)]


def test_the_last_update_of_a_level_is_scored(pictures):
    """Each step scores the picture before its update; the update of the level's last step is scored too."""
    photo = pictures["tubingen"].rgb.resize(WH, Image.Resampling.LANCZOS)
    one_adam_step = engine.run(
        pictures["tubingen"], [pictures["starry_night"]], small(steps=1, optimizer="adam", lr=20)
    )
    assert one_adam_step.steps == 1 and not close_pixels(one_adam_step.image, photo)  # the one update is kept
    seen = {}
    result = engine.run(
        pictures["tubingen"],
        [pictures["starry_night"]],
        small(steps=6, optimizer="lbfgs", swd_weight=0),  # a loss without random draws, so the order is sure
        callback=lambda p: seen.update({p.step: p.image()}),
    )
    # the best picture scored by step 6 came before its update; the update itself scored better and is kept
    assert result.steps == 6 and not same_pixels(result.image, seen[6])


def test_a_term_that_overflows_is_named(pictures, monkeypatch):
    """A term that blows up alone (here by a weight the settings' checks would refuse) names its own setting."""
    from brushwork.core import settings as settings_module

    unchecked = replace(settings_module.SPECS["tv_weight"], high=None)
    monkeypatch.setitem(settings_module.SPECS, "tv_weight", unchecked)
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], small(steps=3, tv_weight=1e300))
    assert result.status == "diverged" and "the tv term overflowed" in result.message
    assert result.culprit == "tv_weight"


def test_a_raised_learning_rate_is_named_whichever_term_overflows_first(pictures):
    """The style term may be the first to overflow, but what the user changed, and should lower, is --lr."""
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], small(steps=10, lr=255))
    assert result.status == "diverged" and "the optimiser's step overshot" in result.message
    assert result.culprit == "lr"


def test_terms_that_overflow_together_name_the_weight_raised_furthest(pictures):
    """Several terms breaking at once under the default learning rate: the weight raised far past its default is
    what to lower, not --lr."""
    raised = small(steps=10, style_weight=1e20, swd_weight=1e20, tv_weight=1e20, lr=1e-6)
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], raised)
    assert result.status == "diverged" and "terms overflowed" in result.message
    assert result.culprit == "tv_weight"  # 3e24 times its default, the style weights 4e18 and 9e18 times


def test_forecast_is_exact_without_early_stopping():
    sizes = [(64, 48), (128, 96)]
    total, eta = forecast.forecast(
        [60, 40], 0, sizes, level=0, finished=[], level_steps=10, seconds_per_step=0.5, exponent=0.8
    )
    assert total == 100
    # 4x the pixels: a step costs 4^0.8 times as much; each level also sets up and scores its last update
    setup, end = forecast.LEVEL_SETUP, forecast.LEVEL_END
    assert eta == pytest.approx(0.5 * (50 + end + (40 + setup) * 4**0.8))


def test_step_timer_leaves_out_a_levels_fp32_first_steps_and_measures_how_cost_grows():
    timer = forecast.StepTimer(warm_up=2)
    timer.start_level(0.0, (64, 48))
    assert [timer.step(t) for t in (1.0, 2.0)] == [1.0, 1.0]  # nothing better known yet: the plain mean
    assert timer.step(2.1) == pytest.approx(0.1) and timer.step(2.3) == pytest.approx(0.15)
    timer.start_level(3.0, (128, 96))  # 4x the pixels: guessed from the default exponent until timed
    guess = 0.15 * 4**plan.STEP_COST_EXPONENT
    assert timer.step(4.0) == pytest.approx(guess) and timer.step(5.0) == pytest.approx(guess)
    assert timer.step(5.6) == pytest.approx(0.6)
    for t in (6.2, 6.8):
        timer.step(t)
    assert timer.exponent() == pytest.approx(1.0)  # 0.15 s at 64x48 against 0.6 s at 4x the pixels
    adam = forecast.StepTimer(warm_up=0)
    adam.start_level(1.0, (64, 48))
    assert adam.step(1.5) == pytest.approx(0.5)
    planned = forecast.StepTimer(warm_up=2, first_guess=0.2)  # the plan's step stands in for the slow first ones
    planned.start_level(0.0, (64, 48))
    assert [planned.step(t) for t in (1.0, 2.0)] == [0.2, 0.2] and planned.step(2.1) == pytest.approx(0.1)


def test_in_fp32_on_a_cpu_measured_step_cost_grows_at_least_with_the_pixels():
    """In fp32 on a CPU small levels are overhead-bound; their slower growth is not extrapolated."""
    for floor, expected in ((0.5, 0.5), (1.0, 1.0)):
        timer = forecast.StepTimer(warm_up=0, min_exponent=floor)
        assert timer.exponent() == plan.STEP_COST_EXPONENT  # nothing measured yet
        timer.start_level(0.0, (64, 48))
        timer.step(0.1)
        timer.start_level(1.0, (128, 96))  # 4x the pixels at 2x the cost: measured growth 0.5
        for t in (1.2, 1.4, 1.6, 1.8):
            timer.step(t)
        assert timer.exponent() == pytest.approx(expected)


def test_a_levels_first_step_carries_its_setup_and_is_left_out_of_the_rate():
    timer = forecast.StepTimer(warm_up=0, min_exponent=1.0)
    timer.start_level(0.0, (64, 48))
    assert timer.step(0.5) == pytest.approx(0.5)  # the first level has nothing better
    timer.start_level(1.0, (128, 96))
    assert timer.step(3.0) == pytest.approx(0.5 * 4**plan.STEP_COST_EXPONENT)  # 2 s with its setup: the guess
    assert timer.step(4.5) == pytest.approx(1.5)  # then the steps themselves


def test_forecast_learns_from_the_finished_level():
    sizes = [(64, 48), (128, 96)]
    total, _ = forecast.forecast([200, 100], 0.02, sizes, level=0, finished=[], level_steps=1, seconds_per_step=1.0)
    assert total == 300  # before anything is known: every level takes its budget
    total, eta = forecast.forecast(
        [200, 100], 0.02, sizes, level=1, finished=[100], level_steps=5, seconds_per_step=2.0
    )
    end = forecast.LEVEL_END
    assert (total, eta) == (150, pytest.approx(2.0 * (45 + end)))  # the first level stopped halfway: so will this
    total, eta = forecast.forecast(
        [200, 100], 0.02, sizes, level=1, finished=[100], level_steps=60, seconds_per_step=2.0
    )
    assert total == 100 + 70 and eta == pytest.approx(2.0 * (10 + end))  # running long: one more window at least
    total, eta = forecast.forecast(
        [200, 100], 0.02, sizes, level=1, finished=[100], level_steps=100, seconds_per_step=2.0
    )
    assert (total, eta) == (200, pytest.approx(2.0 * end))  # the level's budget ends it


# -- the default's terms: relative errors, the painting's palette, the distribution term -------------


def test_normalized_terms_are_relative_errors(pictures, encoder):
    """With normalize="target" the style term is the mean squared relative Gram error over the layers, so one
    style weight means the same for a dark painting and a bright one; the content term a relative error too."""
    settings = small(style_weight=1.0, content_weight=1.0, tv_weight=0.0, swd_weight=0.0)
    content_t, styles = prepare_inputs(
        pictures["tubingen"], [pictures["starry_night"]], settings, WH, torch.device("cpu")
    )
    objective = Objective(encoder, content_t, styles, [1.0], settings, bf16=False)
    noise = torch.rand(content_t.shape, generator=torch.Generator().manual_seed(0)) * 255
    _, parts = objective(noise)
    with torch.no_grad():
        mine = encoder(noise, ["conv4_2", *STYLE_LAYERS])
        theirs = encoder(styles[0], STYLE_LAYERS)
        photo = encoder(content_t, ["conv4_2"])["conv4_2"]
    relative = [
        float((gram_matrix(mine[k]) - gram_matrix(theirs[k])).norm() / gram_matrix(theirs[k]).norm())
        for k in STYLE_LAYERS
    ]
    assert float(parts["style"]) == pytest.approx(sum(r**2 for r in relative) / len(relative), rel=1e-4)
    assert float(parts["content"]) == pytest.approx(
        float(((mine["conv4_2"] - photo).norm() / photo.norm()) ** 2), rel=1e-4
    )


def test_palette_start_is_the_photo_in_the_paintings_colours(pictures):
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], small(init="palette", **ONE_TINY_STEP))
    photo = to_tensor(pictures["tubingen"].rgb.resize(WH, Image.Resampling.LANCZOS))
    painting = to_tensor(resize_longest(pictures["starry_night"].rgb, 64))
    start = to_tensor(result.image)
    assert (start.mean((2, 3)) - painting.mean((2, 3))).abs().max() < 3  # the painting's mean colour
    assert (photo.mean((2, 3)) - painting.mean((2, 3))).abs().max() > 10  # which the photo does not have
    assert correlation(result.image, pictures["tubingen"].rgb) > 0.5  # and still the photo's picture


def test_recolor_to_a_blend_takes_the_mixed_colour_statistics():
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(1, 3, 20, 20, generator=gen) * 20 + 80  # two palettes far apart: a clear mixture
    b = torch.rand(1, 3, 20, 20, generator=gen) * 20 + 150
    photo = torch.rand(1, 3, 30, 30, generator=gen) * 50 + 100
    mixed = color.recolor_to(photo, [a, b], [0.5, 0.5])
    both = torch.cat([a.reshape(3, -1), b.reshape(3, -1)], 1)
    assert torch.allclose(mixed.reshape(3, -1).double().mean(1), both.double().mean(1), atol=0.5)
    assert torch.allclose(
        torch.cov(mixed.reshape(3, -1).double(), correction=0),
        torch.cov(both.double(), correction=0),
        rtol=0.05,
        atol=5,
    )


def test_the_distribution_term_runs_repeatably_and_counts_as_style(pictures):
    settings = small(steps=3, swd_weight=10.0, seed=7)
    a = engine.run(
        pictures["tubingen"], [pictures["starry_night"], pictures["wave"]], settings.replace(style_blend=(2.0, 1.0))
    )
    b = engine.run(
        pictures["tubingen"], [pictures["starry_night"], pictures["wave"]], settings.replace(style_blend=(2.0, 1.0))
    )
    assert a.status == "done" and same_pixels(a.image, b.image)
    without = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings.replace(swd_weight=0.0))
    with_term = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings)
    assert with_term.history[0][1] > without.history[0][1]  # the same start scores the extra term


def test_the_seed_and_paper_presets_keep_the_reports_terms():
    """Later defaults (relative terms, the palette start, the distribution term) leave the presets alone."""
    for name in ("seed", "paper"):
        s = preset(name)
        assert (s.normalize, s.content_weight, s.style_weight, s.tv_weight, s.swd_weight, s.init, s.scales) == (
            "size",
            1.0,
            300.0,
            150.0,
            0.0,
            "content",
            1,
        )


def test_recolor_to_a_part_takes_the_colours_of_what_it_covers():
    gen = torch.Generator().manual_seed(0)
    painting = torch.cat([torch.full((1, 3, 10, 10), 250.0), torch.rand(1, 3, 10, 10, generator=gen) * 40 + 60], -1)
    part = torch.cat([torch.zeros(1, 1, 10, 10), torch.ones(1, 1, 10, 10)], -1)  # its right half only
    photo = torch.rand(1, 3, 30, 30, generator=gen) * 50 + 100
    recoloured = color.recolor_to(photo, [painting], [1.0], [part])
    right = painting[..., 10:].reshape(3, -1).double()
    assert torch.allclose(recoloured.reshape(3, -1).double().mean(1), right.mean(1), atol=0.5)


def test_a_paintings_transparent_part_is_not_learnt_from(pictures):
    """The colours stored under a painting's transparency (here magenta) are arbitrary: none reach the picture."""
    wave = np.asarray(pictures["wave"].rgb).copy()
    wave[:, : wave.shape[1] // 2] = (255, 0, 255)
    alpha = np.full(wave.shape[:2], 255, dtype=np.uint8)
    alpha[:, : wave.shape[1] // 2] = 0
    painting = Picture(Image.fromarray(wave), Image.fromarray(alpha, "L"), "half.png")
    filled = np.asarray(painting.opaque_rgb).astype(float)[:, : wave.shape[1] // 2]
    assert (filled == filled[0, 0]).all()  # one colour: the mean of what is opaque
    assert np.abs(filled[0, 0] - wave[:, wave.shape[1] // 2 :].mean((0, 1))).max() <= 1
    result = engine.run(pictures["tubingen"], [painting], small(steps=12, seed=1))
    pixels = np.asarray(result.image).astype(int)
    magenta = (pixels[..., 0] > 180) & (pixels[..., 2] > 180) & (pixels[..., 1] < 100)
    assert magenta.mean() < 0.01
    blank = Picture(Image.fromarray(wave), Image.new("L", pictures["wave"].rgb.size, 0), "blank.png")
    with pytest.raises(ImageError, match="the painting blank.png: it is transparent all over"):
        engine.run(pictures["tubingen"], [blank], small(steps=2))
    from brushwork.media.masks import Regions, with_paintings_alpha

    left = np.zeros(wave.shape[:2], dtype=np.float32)
    left[:, : wave.shape[1] // 2] = 1.0  # a mask of the painting's transparent half alone
    with pytest.raises(ImageError, match="the painting half.png: its mask covers only its transparent part"):
        with_paintings_alpha(Regions(None, None, sources=(left,)), [painting])
    both = with_paintings_alpha(Regions(None, None, sources=(1.0 - left * 0.5,)), [painting])
    assert both is not None and both.sources[0] is not None
    assert both.sources[0][:, 0].max() == 0.0 and both.sources[0][:, -1].min() == 1.0  # the mask within the alpha
