"""The Python API: ``brushwork.stylize`` and ``brushwork.transfer``."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import brushwork
from brushwork import DivergedError, ImageError, Progress, Result, Settings, SettingsError


def test_stylize_files_returns_a_picture_of_the_right_size(tubingen, starry_night):
    out = brushwork.stylize(tubingen, starry_night, size=64, steps=2)
    assert isinstance(out, Image.Image)
    assert out.mode == "RGB" and out.size == (64, 48)  # tubingen is 1024x768
    assert np.asarray(out).std() > 10


def test_stylize_accepts_pil_images_and_several_styles(pictures):
    content = pictures["tubingen"].rgb.rotate(90, expand=True)  # portrait: 96x128
    out = brushwork.stylize(
        content,
        [pictures["starry_night"].rgb, pictures["wave"].rgb.convert("L")],
        size=64,
        steps=2,
        style_blend=(3.0, 1.0),
    )
    assert isinstance(out, Image.Image) and out.size == (48, 64)


def test_settings_dataclass_and_progress_callback(tubingen, starry_night):
    seen: list[Progress] = []
    settings = Settings(size=48, steps=3, optimizer="adam", seed=3)
    out = brushwork.stylize(tubingen, starry_night, settings=settings, progress=seen.append)
    assert out.size == (48, 36)
    assert [p.step for p in seen] == [1, 2, 3]
    assert all(p.total == 3 and p.size == (48, 36) and p.elapsed >= 0 for p in seen)
    assert set(seen[-1].losses) == {"content", "style", "tv", "total"}
    assert seen[-1].image().size == (48, 36)
    # keyword options override the settings object, which stays untouched
    smaller = brushwork.stylize(tubingen, starry_night, settings=settings, size=32, steps=1)
    assert smaller.size == (32, 24) and settings.size == 48


def test_progress_returning_false_stops_early(tubingen, starry_night):
    calls = []

    def stop_at_two(p: Progress) -> bool:
        calls.append(p.step)
        return p.step < 2

    out = brushwork.stylize(tubingen, starry_night, size=32, steps=50, progress=stop_at_two)
    assert calls == [1, 2] and out.size == (32, 24)


def test_transfer_returns_the_full_result(tubingen, starry_night):
    result = brushwork.transfer(tubingen, starry_night, preset="seed", size=32, steps=2)
    assert isinstance(result, Result)
    assert result.status == "done" and result.steps == 2 and result.alpha is None
    assert result.image.size == (32, 24) and len(result.history) == 2


def test_unknown_option_is_a_settings_error(tubingen, starry_night):
    with pytest.raises(SettingsError, match="colour is not a setting") as info:
        brushwork.stylize(tubingen, starry_night, size=32, steps=1, colour="blue")
    assert info.value.field == "colour"
    with pytest.raises(SettingsError, match="brush is not a setting"):
        brushwork.stylize(tubingen, starry_night, settings=Settings(size=32, steps=1), brush="big")
    with pytest.raises(SettingsError, match="colour is not a setting"):
        brushwork.stylize(tubingen, starry_night, preset="seed", colour="blue")
    with pytest.raises(SettingsError, match="sizee is not a setting") as info:
        Settings(sizee=96)
    assert info.value.field == "sizee"


def test_a_preset_and_settings_together_are_refused(tubingen, starry_night):
    """One of them would be silently lost; the error says how to change a preset instead."""
    with pytest.raises(SettingsError, match="preset cannot be combined with settings=.*preset='seed', size=256"):
        brushwork.transfer(tubingen, starry_night, settings=Settings(size=32, steps=1), preset="seed")


def test_a_preset_is_the_base_and_keywords_change_it(tubingen, starry_night):
    result = brushwork.transfer(tubingen, starry_night, preset="seed", size=32, steps=2)
    assert result.status == "done" and result.steps == 2  # the preset's Adam, 2 of its steps
    assert brushwork.resolve(preset_name="seed", size=32).optimizer == "adam"
    assert brushwork.resolve(preset_name="seed", size=32).lr_at(180) == 0.1


def test_lists_are_accepted_where_tuples_are_kept():
    s = Settings(style_layers=["relu1_1", "relu2_1"], lr_schedule=[[10, 0.5]], style_blend=[1, 2])
    assert s.style_layers == ("relu1_1", "relu2_1") and s.lr_schedule == ((10, 0.5),) and s.style_blend == (1, 2)
    assert hash(s) == hash(Settings.from_dict(s.to_dict()))


@pytest.mark.parametrize(
    "options",
    [
        dict(size=-1),
        dict(steps=0),
        dict(style_weight=float("nan")),
        dict(optimizer="sgd"),
        dict(style_layers=("relu9_1",)),
        dict(init="sideways"),
        dict(preserve_color="sepia"),
    ],
)
def test_bad_option_values_are_settings_errors(tubingen, starry_night, options):
    with pytest.raises((SettingsError, ImageError)) as info:
        brushwork.stylize(tubingen, starry_night, **{"size": 32, "steps": 1, **options})
    assert "\n" not in str(info.value)


def test_settings_validation_and_round_trip():
    with pytest.raises(SettingsError):
        Settings(size=8)
    with pytest.raises(SettingsError):
        Settings(style_layer_weights=(1.0, 2.0))  # five style layers by default
    s = Settings(size=96, lr_schedule=((10, 0.5),), style_blend=(1.0, 2.0), seed=11)
    assert Settings.from_dict(s.to_dict()) == s
    with pytest.raises(SettingsError, match="unknown settings"):
        Settings.from_dict({**s.to_dict(), "future_knob": 1})
    assert Settings().learning_rate == 1.0 and Settings(optimizer="adam").learning_rate == 2.0


def test_a_recipe_older_than_a_setting_reruns_as_it_was_painted():
    """brushwork 0.2's recipes name no layer_reach (every style layer at every level then), no level_growth
    (each level 1.4 times the time of the one before) and no style_balance (one strength for every painting)."""
    new = {"layer_reach", "level_growth", "style_balance"}
    old = {k: v for k, v in Settings(style_weight=6.0, swd_weight=6.0).to_dict().items() if k not in new}
    assert Settings.from_dict(old).layer_reach == 0.0 and Settings.from_dict(old).level_growth == 1.4
    assert Settings.from_dict(old).style_balance == 0.0
    assert Settings.from_dict(Settings().to_dict()) == Settings()


def test_unknown_preset_and_missing_image(tubingen, starry_night, tmp_path):
    with pytest.raises(SettingsError, match="^preset must be one of seed, paper, not 'fastest'$"):
        brushwork.stylize(tubingen, starry_night, preset="fastest", size=32, steps=1)
    with pytest.raises(ImageError, match="not found"):
        brushwork.stylize(tmp_path / "nope.jpg", starry_night, size=32, steps=1)


def test_diverged_error_carries_the_last_good_picture(tubingen, starry_night):
    with pytest.raises(DivergedError) as info:
        brushwork.stylize(tubingen, starry_night, size=32, steps=10, optimizer="lbfgs", lr=255)
    result = info.value.result
    assert result.status == "diverged" and "NaN" in str(info.value)
    assert result.culprit == "lr" and str(info.value).endswith("try a lower lr")
    assert result.image.size == (32, 24) and np.asarray(result.image).std() > 20
    assert isinstance(info.value, brushwork.BrushworkError)


def test_numpy_arrays_are_pictures(tubingen, starry_night):
    photo = np.asarray(Image.open(tubingen).convert("RGB").resize((64, 48)))
    painting = np.asarray(Image.open(starry_night).convert("RGB").resize((64, 64)))
    assert photo.shape == (48, 64, 3) and photo.dtype == np.uint8
    from_arrays = brushwork.stylize(photo, painting, size=32, steps=2, seed=3)
    from_images = brushwork.stylize(Image.fromarray(photo), [Image.fromarray(painting)], size=32, steps=2, seed=3)
    assert np.array_equal(np.asarray(from_arrays), np.asarray(from_images))
    assert brushwork.transfer(photo, [painting, painting], size=32, steps=1).image.size == (32, 24)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda p, s: brushwork.stylize(None, s), "content must be a file path, a PIL image or an HxWx3 uint8"),
        (
            lambda p, s: brushwork.stylize(p, 7),
            "style must be a file path, a PIL image or an HxWx3 uint8 numpy array, ",
        ),
        (lambda p, s: brushwork.transfer(p, [s, None]), "style must be .* not NoneType"),
        (lambda p, s: brushwork.stylize(np.zeros((8, 8, 3)), s), "content must be .* not a float64 array of .8, 8, 3."),
        (
            lambda p, s: brushwork.stylize(np.zeros((3, 8, 8), np.uint8), s),
            "content must be .* not a uint8 array of .3, 8, 8.",
        ),
        (lambda p, s: brushwork.stylize(np.zeros((8, 8, 3), np.int64), s), "content must be .* not an int64 array"),
        (
            lambda p, s: brushwork.stylize(p, s, settings={"size": 32}),
            "settings must be a brushwork.Settings or None, ",
        ),
        (lambda p, s: brushwork.plan_for(p, s, settings=64), "settings must be a brushwork.Settings or None, not int"),
        (lambda p, s: brushwork.stylize(p, s, settings=np.zeros(3)), "settings must be .* not ndarray"),
        (lambda p, s: brushwork.stylize(p, s, preset=["seed"]), "preset must be the name of a preset"),
        (lambda p, s: brushwork.stylize_video(None, s, "out.mp4"), "clip must be a file path"),
        (lambda p, s: brushwork.stylize_video(p, s, "o.mp4", video={"end": 1}), "video must be a brushwork.VideoSett"),
        (lambda p, s: brushwork.stylize_batch(None, s, "out"), "photos must be a path .* or a list of them, not None"),
        (lambda p, s: brushwork.stylize_batch(p, [s, 3], "out"), "styles must be a file path .* not int"),
        (lambda p, s: brushwork.stylize_batch(p, s, None), "outdir must be a file path .* not NoneType"),
    ],
)
def test_wrong_types_name_the_parameter_and_what_it_takes(tubingen, starry_night, call, words):
    with pytest.raises(TypeError, match=words):
        call(tubingen, starry_night)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda p, s, t: brushwork.stylize(p, []), SettingsError, "give at least one painting"),
        (lambda p, s, t: brushwork.stylize(p, s, init=str(t / "gone.png")), ImageError, "init image .* not found"),
        (lambda p, s, t: brushwork.stylize(p, s, progress=5), TypeError, "progress must be a function"),
        (
            lambda p, s, t: brushwork.stylize(p, s, init=Image.new("RGB", (8, 8))),
            SettingsError,
            "^init must be one of content, palette, noise, or a file's path, not an Image$",
        ),
        (lambda p, s, t: brushwork.stylize(p, s, sise=64), SettingsError, "^sise is not a setting; did you mean size?"),
        (
            lambda p, s, t: brushwork.stylize(p, s, regions="map.png"),
            TypeError,
            "^regions= is not a keyword: give masks",
        ),
        (lambda p, s, t: brushwork.stylize_video(p, s, t / "o.mp4", region="m.png"), TypeError, "give masks=\\[...\\]"),
        (lambda p, s, t: brushwork.stylize(p, s, save_every=2), SettingsError, "save_every is the command line's"),
        (lambda p, s, t: brushwork.stylize_video(p, s, t / "o.mp4", ends=0.05), SettingsError, "and for a clip: start"),
        (lambda p, s, t: brushwork.stylize_video(p, s, t / "o.mp4", workers=2), ValueError, "give ray='local' too"),
        (
            lambda p, s, t: brushwork.stylize_batch(p, s, t / "out", worker_cpus=0),
            SettingsError,
            "worker_cpus must be at",
        ),
        (lambda p, s, t: brushwork.stylize_batch(p, s, t / "out", progress=5), TypeError, "progress must be"),
    ],
)
def test_what_a_run_would_refuse_is_refused_before_any_work(tubingen, starry_night, tmp_path, call, error, words):
    """Each in well under the seconds loading the network and measuring this machine take."""
    began = time.perf_counter()
    with pytest.raises(error, match=words):
        call(tubingen, starry_night, tmp_path)
    assert time.perf_counter() - began < 2.0
    assert not (tmp_path / "out").exists()


def test_a_closed_pil_image_is_one_line_naming_the_parameter(tubingen, starry_night):
    closed = Image.open(tubingen)
    closed.close()
    with pytest.raises(ImageError, match="^content is a closed PIL image; open it again, or give its path$"):
        brushwork.plan_for(closed, starry_night)


def test_a_plan_refuses_a_painting_with_nothing_opaque_to_learn_from_as_the_run_would(tubingen):
    see_through = Image.new("RGBA", (32, 32), (200, 200, 200, 255))
    see_through.paste((200, 200, 200, 0), (0, 0, 16, 32))  # its left half transparent
    part = Image.new("L", (32, 32), 0)
    part.paste(255, (0, 0, 16, 32))  # and its mask: that half only
    for call in (brushwork.plan_for, lambda *a, **k: brushwork.transfer(*a, steps=1, **k)):
        with pytest.raises(ImageError, match="its mask covers only its transparent part"):
            call(tubingen, see_through, size=32, painting_masks=[part])


def test_an_existing_output_names_the_argument_that_allows_replacing_it(tubingen, starry_night, tmp_path):
    (tmp_path / "o.mp4").write_bytes(b"mine")
    with pytest.raises(ImageError, match="o.mp4 already exists; choose another name or pass overwrite=True"):
        brushwork.stylize_video(tubingen, starry_night, tmp_path / "o.mp4")
    assert (tmp_path / "o.mp4").read_bytes() == b"mine"


@pytest.mark.video
def test_a_clip_as_the_photo_or_a_picture_as_the_clip_names_the_function_that_paints_it(
    tubingen, starry_night, tmp_path
):
    fox = Path(__file__).parents[1] / "brushwork/examples/video/fox.mp4"
    with pytest.raises(
        ImageError, match=r"is a video clip, not a picture; paint a clip with brushwork.stylize_video\(\)$"
    ):
        brushwork.stylize(fox, starry_night)
    with pytest.raises(ImageError, match=r"is a still picture, not a video; paint it with brushwork.stylize\(\)$"):
        brushwork.stylize_video(tubingen, starry_night, tmp_path / "o.mp4")


def test_a_plan_checks_the_regions_and_notes_what_was_done_to_them(tubingen, starry_night):
    half = Image.new("L", (64, 48), 0)
    half.paste(255, (0, 0, 64, 24))
    plan = brushwork.plan_for(tubingen, starry_night, size=64, keep=half)
    assert "keep mask is 64x48: resized to the photo's 1024x768" in plan.describe()
    with pytest.raises(ImageError, match="empty"):
        brushwork.plan_for(tubingen, starry_night, size=64, keep=Image.new("L", (64, 48), 0))


def test_overwrite_is_a_yes_or_a_no_and_files_that_settings_name_may_be_paths(tmp_path, tubingen, starry_night):
    with pytest.raises(TypeError, match="overwrite must be True or False, not 'no'"):
        brushwork.stylize_batch([tubingen], [starry_night], tmp_path / "out", size=32, steps=1, overwrite="no")
    assert not (tmp_path / "out").exists()
    settings = brushwork.resolve(init=Path(tubingen), weights=None)
    assert settings.init == str(tubingen)
    home = Path.home()  # `--weights=~/vgg19.pth`: the shell leaves the ~ after an =, the setting takes it as home
    assert brushwork.resolve(weights="~/vgg19.pth", init="~/start.png").files() == [
        ("init", home / "start.png"),
        ("weights", home / "vgg19.pth"),
    ]
    with pytest.raises(
        brushwork.SettingsError, match="init takes content, palette, noise or a picture's path, not 'rainbow'"
    ):
        brushwork.plan_for(tubingen, starry_night, size=32, init="rainbow")


def test_ctrl_c_in_stylize_keeps_the_picture_so_far_beside_the_output_and_stops_the_script(
    tmp_path, tubingen, starry_night
):
    out = tmp_path / "out.png"
    brushwork.stylize(tubingen, starry_night, size=32, steps=2, output=out)
    before = out.read_bytes()

    def ctrl_c(progress):
        if progress.step == 2:
            raise KeyboardInterrupt

    with pytest.warns(
        UserWarning, match=r"interrupted at step 2: the picture so far is .*out.unfinished-1.png; .*kept"
    ):
        with pytest.raises(KeyboardInterrupt) as stopped:  # a script's loop over pictures stops, as on any Ctrl-C
            brushwork.stylize(tubingen, starry_night, size=32, steps=9, output=out, overwrite=True, progress=ctrl_c)
    assert isinstance(stopped.value, brushwork.Interrupted) and stopped.value.result.image.size == (32, 24)
    carried = pickle.loads(pickle.dumps(stopped.value))  # from a process pool's worker, as raised
    assert isinstance(carried, KeyboardInterrupt) and carried.result.steps == stopped.value.result.steps
    assert out.read_bytes() == before
    assert brushwork.engine.recipes.read(tmp_path / "out.unfinished-1.png")["run"]["status"] == "interrupted"
    with pytest.warns(UserWarning, match=r"cancelled at step 1: the picture so far is .*out.unfinished-2.png"):
        brushwork.stylize(
            tubingen, starry_night, size=32, steps=9, output=out, overwrite=True, progress=lambda p: False
        )


def test_stylize_writes_the_picture_with_its_recipe_and_replaces_nothing_unasked(tmp_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    picture = brushwork.stylize(tubingen, starry_night, size=32, steps=2, output=out)
    recipe = brushwork.engine.recipes.read(out)
    assert recipe["settings"]["size"] == 32 and recipe["run"]["status"] == "done"
    assert [i["role"] for i in recipe["inputs"]] == ["content", "style"]
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), np.asarray(picture))
    before = out.read_bytes()
    with pytest.raises(ImageError, match="already exists"):
        brushwork.stylize(tubingen, starry_night, size=32, steps=2, output=out)
    assert out.read_bytes() == before
    brushwork.stylize(tubingen, starry_night, size=32, steps=3, output=out, overwrite=True)
    assert brushwork.engine.recipes.read(out)["run"]["steps"] == 3
    with pytest.raises(ImageError, match="output= writes the recipe, which hashes the photo"):
        brushwork.stylize(Image.open(tubingen), starry_night, size=32, steps=2, output=tmp_path / "mem.png")
    assert not (tmp_path / "mem.png").exists()


def test_the_package_lists_its_public_names_not_its_own_imports():
    """``dir(brushwork)`` (what a user's completion shows) holds the API, not ``Any`` or ``importlib``."""
    assert set(brushwork.__all__) <= set(dir(brushwork))
    assert not {"Any", "TYPE_CHECKING", "annotations", "importlib"} & set(dir(brushwork))
