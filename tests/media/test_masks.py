"""Regions: a painting per masked part of the photo, a kept region, and every bad mask refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter

import brushwork
from brushwork import stylize, transfer
from brushwork.cli import main
from brushwork.core.errors import ImageError
from brushwork.core.settings import Settings
from brushwork.engine.recipes import read as read_recipe
from brushwork.media.images import load_image
from brushwork.media.masks import MAP_TOLERANCE, RegionFiles, Regions, masks_from_map
from brushwork.model.losses import gram_matrix

pytestmark = pytest.mark.slow

SIZE = (96, 72)  # the photo's size in these tests: masks are drawn at it
FAST = Settings(size=96, steps=40, scales=1, device="cpu", seed=0)


def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def halves(folder: Path, size: tuple[int, int] = SIZE) -> tuple[Path, Path]:
    """The top and bottom halves of a picture, as soft-edged masks."""
    width, height = size
    top = Image.new("L", size, 0)
    ImageDraw.Draw(top).rectangle([0, 0, width, height // 2], fill=255)
    top = top.filter(ImageFilter.GaussianBlur(2))
    bottom = Image.eval(top, lambda v: 255 - v)
    top.save(folder / "top.png")
    bottom.save(folder / "bottom.png")
    return folder / "top.png", folder / "bottom.png"


@pytest.fixture
def photo(tmp_path, tubingen) -> Path:
    path = tmp_path / "photo.png"
    Image.open(tubingen).convert("RGB").resize(SIZE, Image.Resampling.LANCZOS).save(path)
    return path


@pytest.fixture
def drawn(tmp_path) -> Path:
    """A folder of masks: halves, an empty one, one of another shape, a non-image, a one-colour map."""
    halves(tmp_path)
    Image.new("L", SIZE, 0).save(tmp_path / "black.png")
    Image.new("L", (SIZE[0] // 2, SIZE[1]), 255).save(tmp_path / "narrow.png")  # white: on the photo, shape counts
    (tmp_path / "words.png").write_text("not a picture")
    Image.new("RGB", SIZE, (0, 255, 0)).save(tmp_path / "map.png")
    Image.new("L", SIZE, 255).save(tmp_path / "white.png")
    return tmp_path


BAD = {  # case: (paintings, options, what the one line says); S and W stand for two paintings
    "more masks than paintings": ("S", ["--masks", "top.png,bottom.png"], "more masks than paintings"),
    "fewer masks than paintings": ("SW", ["--masks", "top.png"], "fewer masks than paintings"),
    "an empty mask": ("S", ["--masks", "black.png"], "is empty"),
    "another aspect": ("S", ["--masks", "narrow.png"], "not the photo's shape"),
    "a non-image": ("S", ["--masks", "words.png"], "not an image"),
    "overlapping masks": ("SW", ["--masks", "top.png,white.png"], "overlap"),
    "a mask given twice": ("SW", ["--masks", "top.png,top.png"], "given twice"),
    "a missing keep mask": ("S", ["--keep", "nowhere.png"], "not found"),
    "masks and a map": ("", ["--masks", "top.png", "--regions", "map.png", "--region", "#00ff00=S"], "not both"),
    "a colour the map lacks": ("", ["--regions", "map.png", "--region", "#0000ff=S"], "no pixel"),
    "a colour that is none": ("", ["--regions", "map.png", "--region", "bleu=S"], "not a colour"),
    "a region without its map": ("", ["--region", "#0000ff=S"], "go together"),
    "a colour given twice": ("", ["--regions", "map.png", "--region", "#00ff00=S", "--region", "#00FF00=S"], "twice"),
    "a trailing comma": ("S", ["--masks", "top.png,"], "empty mask name"),
    "an empty mask list": ("S", ["--masks", ""], "empty mask name"),
    "a keep mask over everything": ("S", ["--keep", "white.png"], "nothing is left"),
    "the photo as its mask": ("S", ["--masks", "PHOTO"], "is the photo itself, not a mask drawn on it: paint one, "),
    "the photo as the keep mask": ("S", ["--keep", "PHOTO"], "is the photo itself, not a keep mask drawn on it"),
    "the photo as the map": ("", ["--regions", "PHOTO", "--region", "#0000ff=S"], "paint one, each region in its"),
    "the painting as its own mask": ("S", ["--painting-masks", "S"], "is the painting itself, not a painting mask"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_mask_is_refused_in_one_line_and_nothing_is_written(
    capsys, monkeypatch, drawn, photo, starry_night, wave, case
):
    monkeypatch.chdir(drawn)
    letters, options, words = BAD[case]
    named = {"S": str(starry_night), "W": str(wave)}
    paintings = [named[letter] for letter in letters]
    given = {"PHOTO": str(photo), "S": str(starry_night)}  # a picture given where a mask of it goes
    options = [given.get(o, o.replace("=S", f"={starry_night}")) for o in options]
    rc, _, err = cli(capsys, photo, *paintings, *options, "-o", "out.png", "--size", "64", "--steps", "2", "-q")
    assert rc == 2, err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (drawn / "out.png").exists()


def test_a_mask_of_another_size_but_the_same_shape_is_resized_with_a_note(capsys, tmp_path, photo, starry_night):
    large = Image.new("L", (SIZE[0] * 2, SIZE[1] * 2), 255)
    large.save(tmp_path / "large.png")
    out = tmp_path / "out.png"
    rc, _, err = cli(
        capsys, photo, starry_night, "--masks", tmp_path / "large.png", "-o", out, "--size", "64", "--steps", "2", "-q"
    )
    assert rc == 0, err
    assert "mask large.png is 192x144: resized to the photo's 96x72" in err and out.exists()


def test_masks_given_once_per_painting_are_one_list_and_a_second_keep_is_refused(
    capsys, monkeypatch, drawn, photo, starry_night, wave
):
    monkeypatch.chdir(drawn)
    rc, _, err = cli(capsys, photo, starry_night, wave, "--masks", "top.png", "--masks", "bottom.png", "--plan")
    assert rc == 0, err
    rc, _, err = cli(capsys, photo, starry_night, "--keep", "top.png", "--keep", "bottom.png", "--plan")
    assert rc == 2 and "--keep takes one picture, given 2 times; draw all of it on one" in err


def test_a_mask_whose_name_has_a_comma_is_one_file(capsys, monkeypatch, drawn, photo, starry_night):
    monkeypatch.chdir(drawn)
    (drawn / "top.png").rename(drawn / "sky,2.png")
    rc, _, err = cli(
        capsys, photo, starry_night, "--masks", "sky,2.png", "-o", "out.png", "--size", "64", "--steps", "2", "-q"
    )
    assert rc == 0, err
    assert (drawn / "out.png").exists()


def test_a_style_blend_beside_a_mask_per_painting_is_said_to_be_unused(capsys, drawn, photo, starry_night, wave):
    run = [photo, starry_night, wave, "--style-blend", "0.7,0.3", "--size", "64", "--steps", "2", "-q"]
    rc, _, err = cli(capsys, *run, "--masks", f"{drawn / 'top.png'},{drawn / 'bottom.png'}", "-o", drawn / "a.png")
    assert rc == 0, err
    assert "note: the style blend does not apply with a mask per painting" in err
    rc, _, err = cli(capsys, *run, "--keep", drawn / "top.png", "-o", drawn / "b.png")  # the rest is blended
    assert rc == 0 and "style blend" not in err, err
    with pytest.warns(UserWarning, match="style blend does not apply") as said:
        stylize(
            photo,
            [starry_night, wave],
            masks=[drawn / "top.png", drawn / "bottom.png"],
            style_blend=(0.7, 0.3),
            settings=FAST.replace(steps=2),
        )
    assert said[0].filename == __file__  # the warning points at the caller's line, not inside brushwork


def gram_distance(encoder, picture: torch.Tensor, painting: torch.Tensor, layers=("relu2_1", "relu3_1")) -> float:
    """Relative Gram distance of a picture's style to a painting's, at two layers."""
    with torch.no_grad():
        mine, theirs = encoder(picture, layers), encoder(painting, layers)
    return sum(
        float((gram_matrix(mine[n]) - gram_matrix(theirs[n])).norm() / gram_matrix(theirs[n]).norm()) for n in layers
    ) / len(layers)


def tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32)).permute(2, 0, 1)[None]


def test_each_region_takes_its_own_paintings_style(encoder, tmp_path, photo, starry_night, wave):
    top, bottom = halves(tmp_path)
    painted = stylize(photo, [starry_night, wave], masks=[top, bottom], settings=FAST)
    picture = tensor(painted)
    h = picture.shape[-2]
    paintings = {
        name: tensor(load_image(path).rgb.resize((96, 72))) for name, path in (("s", starry_night), ("w", wave))
    }
    upper, lower = picture[..., : h // 2 - 4, :], picture[..., h // 2 + 4 :, :]
    assert gram_distance(encoder, upper, paintings["s"]) < gram_distance(encoder, upper, paintings["w"])
    assert gram_distance(encoder, lower, paintings["w"]) < gram_distance(encoder, lower, paintings["s"])


def test_a_kept_region_stays_the_photo(tmp_path, photo, starry_night):
    keep = Image.new("L", SIZE, 0)
    ImageDraw.Draw(keep).ellipse([24, 12, 72, 60], fill=255)
    keep_mask = np.asarray(keep.filter(ImageFilter.GaussianBlur(2)), dtype=np.float32) / 255
    plain = np.asarray(stylize(photo, starry_night, settings=FAST), dtype=np.float32)
    kept = np.asarray(stylize(photo, starry_night, settings=FAST, keep=keep_mask), dtype=np.float32)
    original = np.asarray(Image.open(photo).convert("RGB"), dtype=np.float32)
    inside = keep_mask > 0.99
    assert np.abs(kept - original)[inside].mean() < 0.35 * np.abs(plain - original)[inside].mean()
    assert np.abs(kept - plain)[keep_mask < 0.01].mean() < np.abs(kept - original)[keep_mask < 0.01].mean()


def test_masks_are_recipe_inputs_and_a_rerun_paints_the_same_picture(capsys, tmp_path, photo, starry_night, wave):
    top, bottom = halves(tmp_path)
    out, again = tmp_path / "out.png", tmp_path / "again.png"
    options = ["--size", "64", "--steps", "4", "--scales", "1", "-q"]
    rc, _, err = cli(capsys, photo, starry_night, wave, "--masks", f"{top},{bottom}", "-o", out, *options)
    assert rc == 0, err
    roles = [(item["role"], item["name"]) for item in read_recipe(out)["inputs"]]
    assert roles == [
        ("content", "photo.png"),
        ("style", starry_night.name),
        ("style", wave.name),
        ("mask", "top.png"),
        ("mask", "bottom.png"),
    ]
    rc, _, err = cli(capsys, "recipe", out, "--rerun", "-o", again, "-q")
    assert rc == 0, err
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))


def test_a_region_map_names_each_paintings_region(capsys, tmp_path, photo, starry_night, wave):
    regions = Image.new("RGB", SIZE, (0, 255, 0))
    ImageDraw.Draw(regions).rectangle([0, 0, SIZE[0], SIZE[1] // 2], fill=(0, 0, 255))
    regions.save(tmp_path / "map.jpg", quality=80)  # a JPEG's blurred colours still count
    out = tmp_path / "out.png"
    rc, _, err = cli(
        capsys,
        photo,
        "--regions",
        tmp_path / "map.jpg",
        "--region",
        f"#0000ff={starry_night}",
        "--region",
        f"00ff00={wave}",
        "-o",
        out,
        "--size",
        "64",
        "--steps",
        "2",
        "-q",
    )
    assert rc == 0, err
    assert read_recipe(out)["region_colours"] == ["#0000ff", "00ff00"]


def test_the_api_takes_masks_as_arrays_and_refuses_what_is_no_mask(photo, starry_night):
    top = np.zeros((SIZE[1], SIZE[0]), np.float32)
    top[: SIZE[1] // 2] = 1.0
    result = transfer(photo, starry_night, masks=[top], settings=FAST.replace(steps=2))
    assert result.status == "done"
    with pytest.raises(TypeError, match="mask 1"):
        transfer(photo, starry_night, masks=[3], settings=FAST.replace(steps=2))
    with pytest.raises(ImageError, match="more masks than paintings"):
        transfer(photo, starry_night, masks=[top, 1 - top], settings=FAST.replace(steps=2))


def test_one_mask_over_the_whole_photo_paints_the_unmasked_picture(photo, starry_night):
    """The guided statistics of a mask of ones are the plain ones: regions are the general case of a run."""
    settings = FAST.replace(size=64, steps=6)
    plain = np.asarray(stylize(photo, starry_night, settings=settings), dtype=np.float32)
    whole = np.asarray(stylize(photo, starry_night, settings=settings, masks=[np.ones(SIZE[::-1])]), dtype=np.float32)
    assert np.abs(plain - whole).mean() < 0.5


@pytest.fixture
def diptych(tmp_path, starry_night, wave) -> tuple[Path, Path, Path]:
    """One painting of two halves, The Starry Night left and The Great Wave right, and a mask of each half."""
    half = (64, 72)
    left, right = (load_image(p).rgb.resize(half, Image.Resampling.LANCZOS) for p in (starry_night, wave))
    both = Image.new("RGB", (128, 72))
    both.paste(left, (0, 0))
    both.paste(right, (64, 0))
    both.save(tmp_path / "diptych.png")
    for name, box in (("left", (0, 0, 63, 71)), ("right", (64, 0, 127, 71))):
        mask = Image.new("L", (128, 72), 0)
        ImageDraw.Draw(mask).rectangle(box, fill=255)
        mask.save(tmp_path / f"{name}.png")
    return tmp_path / "diptych.png", tmp_path / "left.png", tmp_path / "right.png"


def test_a_paintings_own_mask_picks_the_part_of_it_whose_style_is_learnt(encoder, photo, diptych, starry_night, wave):
    painting, left, right = diptych
    paintings = {name: tensor(load_image(p).rgb.resize(SIZE)) for name, p in (("s", starry_night), ("w", wave))}
    for mask, own, other in ((left, "s", "w"), (right, "w", "s")):
        picture = tensor(stylize(photo, painting, painting_masks=[mask], settings=FAST))
        assert gram_distance(encoder, picture, paintings[own]) < gram_distance(encoder, picture, paintings[other])


def test_painting_masks_are_recipe_inputs_and_a_rerun_paints_the_same_picture(capsys, tmp_path, photo, diptych):
    painting, left, _ = diptych
    out, again = tmp_path / "out.png", tmp_path / "again.png"
    options = ["--size", "64", "--steps", "4", "--scales", "1", "-q"]
    rc, _, err = cli(capsys, photo, painting, "--painting-masks", left, "-o", out, *options)
    assert rc == 0, err
    roles = [(item["role"], item["name"]) for item in read_recipe(out)["inputs"]]
    assert roles == [("content", "photo.png"), ("style", "diptych.png"), ("painting mask", "left.png")]
    rc, _, err = cli(capsys, "recipe", out, "--rerun", "-o", again, "-q")
    assert rc == 0, err
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))


BAD_PAINTING_MASKS = {  # case: (painting masks, what the one line says)
    "more painting masks than paintings": ("left.png,right.png", "more painting masks than paintings"),
    "a mask of the photo's shape": ("top.png", "not the painting's shape"),
    "an empty painting mask": ("black_painting.png", "is empty"),
    "a dab of the painting": ("dab_painting.png", "is 0.1% of it, too little to learn its style from"),
    "a non-image": ("words.png", "not an image"),
}


@pytest.mark.parametrize("case", BAD_PAINTING_MASKS)
def test_a_bad_painting_mask_is_refused_in_one_line_and_nothing_is_written(
    capsys, monkeypatch, drawn, diptych, photo, case
):
    monkeypatch.chdir(drawn)
    Image.new("L", (128, 72), 0).save(drawn / "black_painting.png")
    dab = Image.new("L", (128, 72), 0)
    dab.paste(255, (60, 30, 63, 33))  # a click of a small brush: its statistics would paint over the photo
    dab.save(drawn / "dab_painting.png")
    given, words = BAD_PAINTING_MASKS[case]
    rc, _, err = cli(capsys, photo, diptych[0], "--painting-masks", given, "-o", "out.png", "--steps", "2", "-q")
    assert rc == 2, err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (drawn / "out.png").exists()


def test_the_api_refuses_painting_masks_that_are_not_one_per_painting(photo, diptych):
    painting, left, right = diptych
    with pytest.raises(ImageError, match="more painting masks than paintings"):
        transfer(photo, painting, painting_masks=[left, right], settings=FAST.replace(steps=2))
    with pytest.raises(TypeError, match="painting_masks must be a list"):
        transfer(photo, painting, painting_masks=left, settings=FAST.replace(steps=2))


def test_a_painting_mask_all_white_is_all_of_the_painting_whatever_its_shape(tmp_path):
    """The studio sends a painting learnt from whole as one white pixel, without reading the painting; on the
    photo, a white mask's shape is checked like any mask's."""

    Image.new("L", (1, 1), 255).save(tmp_path / "whole.png")
    Image.new("L", (1, 2), 255).save(tmp_path / "tall.png")
    notes: list[str] = []
    assert _load(tmp_path / "whole.png", (128, 72), notes, "painting mask", "painting").min() == 1.0
    assert _load(tmp_path / "tall.png", (128, 72), notes, "painting mask", "painting").shape == (72, 128)
    assert notes == []
    with pytest.raises(ImageError, match="keep mask tall.png is 1x2, not the photo's shape"):
        _load(tmp_path / "tall.png", (128, 72), notes, "keep mask")
    Image.new("L", (1, 2), 128).save(tmp_path / "grey.png")  # not white: its shape counts on a painting too
    with pytest.raises(ImageError, match="painting mask grey.png is 1x2, not the painting's shape"):
        _load(tmp_path / "grey.png", (128, 72), notes, "painting mask", "painting")


def test_a_label_map_of_0_and_1_is_black_and_white_and_a_dim_mask_is_noted(tmp_path, photo, starry_night):
    """Segmentation tools write a region as 1 in 8 bits: read as it is, it would be painted at 1/255, not at all."""

    labels = np.zeros(SIZE[::-1], np.uint8)
    labels[:, : SIZE[0] // 2] = 1
    Image.fromarray(labels).save(tmp_path / "labels.png")
    notes: list[str] = []
    mask = _load(tmp_path / "labels.png", SIZE, notes)
    assert set(np.unique(mask)) == {0.0, 1.0} and mask[:, 0].min() == 1.0
    assert notes == ["mask labels.png holds only the values 0 and 1 (a label map): read as black and white"]
    Image.new("L", SIZE, 3).save(tmp_path / "dim.png")
    notes.clear()
    assert _load(tmp_path / "dim.png", SIZE, notes).max() == pytest.approx(3 / 255)
    assert notes == [
        "mask dim.png is at most 1% white: its part is painted that weakly; white (255) is a part painted in full"
    ]
    planned = brushwork.plan_for(photo, starry_night, size=32, masks=[labels])  # an array in the API too
    assert "mask 1 holds only the values 0 and 1" in planned.describe()


def test_a_mask_in_colour_is_read_by_its_brightness_with_a_note(tmp_path, tubingen):
    """A photo given for a mask, or regions told apart by colour: painted by brightness, which is said; a grey
    mask and one drawn in an alpha channel are not noted."""

    Image.open(tubingen).convert("RGB").resize(SIZE).save(tmp_path / "photo_as_mask.png")
    red = Image.new("RGB", SIZE, (255, 0, 0))
    red.save(tmp_path / "red.png")
    notes: list[str] = []
    _load(tmp_path / "photo_as_mask.png", SIZE, notes)
    assert notes == [
        "mask photo_as_mask.png is in colour: read by its brightness (white painted in full, black not at all); "
        "draw a mask in greys, or give regions of colours as a region map"
    ]
    assert _load(tmp_path / "red.png", SIZE, notes, "keep mask").max() == pytest.approx(76 / 255)
    assert notes[1].startswith("keep mask red.png is in colour: read by its brightness (white kept as the photo in")
    assert "at most 30% white" in notes[2]
    grey, drawn_in_alpha = Image.new("RGB", SIZE, (128, 128, 128)), red.copy()
    drawn_in_alpha.putalpha(200)
    grey.save(tmp_path / "grey.png")
    drawn_in_alpha.save(tmp_path / "alpha.png")
    later: list[str] = []
    _load(tmp_path / "grey.png", SIZE, later)
    _load(tmp_path / "alpha.png", SIZE, later)
    assert later == []


def test_hard_masks_drawn_at_another_size_stay_hard_and_fit_together(tmp_path):
    """A black-and-white mask resized stays black and white, so two halves drawn at different sizes still add up
    to 1 everywhere, not past it on a blurred seam; a region map's colours are not blended either."""
    from brushwork.media.masks import RegionFiles

    small = Image.new("L", (SIZE[0] // 4, SIZE[1] // 4), 0)
    small.paste(255, (0, 0, SIZE[0] // 8, SIZE[1] // 4))
    small.save(tmp_path / "left_small.png")
    right = Image.new("L", SIZE, 0)
    right.paste(255, (SIZE[0] // 2, 0, SIZE[0], SIZE[1]))
    right.save(tmp_path / "right.png")
    regions = RegionFiles((tmp_path / "left_small.png", tmp_path / "right.png")).load(SIZE, [(64, 64), (64, 64)])
    assert regions.paint is not None
    assert set(np.unique(regions.paint[0])) == {0.0, 1.0} and np.array_equal(sum(regions.paint), np.ones(SIZE[::-1]))
    assert regions.notes == ("mask left_small.png is 24x18: resized to the photo's 96x72",)

    colours = Image.new("RGB", (SIZE[0] // 4, SIZE[1] // 4), (0, 0, 255))
    colours.paste((0, 255, 0), (0, 0, SIZE[0] // 8, SIZE[1] // 4))
    colours.save(tmp_path / "map_small.png")
    mapped = RegionFiles(region_map=tmp_path / "map_small.png", colours=("#00ff00", "#0000ff")).load(
        SIZE, [(64, 64)] * 2
    )
    assert mapped.paint is not None and np.array_equal(sum(mapped.paint), np.ones(SIZE[::-1]))  # no pixel left out


@pytest.mark.parametrize(
    ("first", "second", "share"),
    [((579, 386), (885, 590), 0.59), ((919, 613), (794, 530), 0.40), ((507, 338), (240, 160), 0.41)],
)
def test_hard_masks_that_meet_at_their_own_sizes_meet_at_the_photos(tmp_path, first, second, share):
    """Halves drawn on different grids meet up to a pixel of either grid apart: at the photo's size they meet with
    no row of overlap (refused before) nor of gap (a seam of photo); a real overlap is still refused, a real gap
    kept."""
    photo = (1000, 667)

    def halves_at(top_size: tuple[int, int], bottom_size: tuple[int, int], top_share: float) -> Regions:
        top = Image.new("L", top_size, 0)
        top.paste(255, (0, 0, top_size[0], round(top_size[1] * top_share)))
        bottom = Image.new("L", bottom_size, 0)
        bottom.paste(255, (0, round(bottom_size[1] * share), *bottom_size))
        top.save(tmp_path / "top.png")
        bottom.save(tmp_path / "bottom.png")
        return RegionFiles((tmp_path / "top.png", tmp_path / "bottom.png")).load(photo, [(64, 64)] * 2)

    regions = halves_at(first, second, share)
    assert regions.paint is not None and np.array_equal(sum(regions.paint), np.ones(photo[::-1]))
    assert all(set(np.unique(mask)) == {0.0, 1.0} for mask in regions.paint)
    with pytest.raises(ImageError, match="overlap: they add up to more than 1"):
        halves_at(first, second, share + 0.05)
    gap = halves_at(first, second, share - 0.05)
    assert gap.paint is not None and abs(int((sum(gap.paint) == 0).sum()) - 0.05 * photo[0] * photo[1]) < 3 * photo[0]


def test_the_api_refuses_a_mask_given_twice_and_names_overlapping_files_as_the_command_line_does(
    drawn, tmp_path, photo, starry_night, wave
):
    top = drawn / "top.png"
    with pytest.raises(ImageError, match=r"^mask top.png is given twice; give each painting its own mask$"):
        brushwork.plan_for(photo, [starry_night, wave], size=64, masks=[top, str(top)])
    Image.open(top).save(tmp_path / "top_again.png")
    with pytest.raises(ImageError, match="^masks top.png, top_again.png overlap"):
        brushwork.plan_for(photo, [starry_night, wave], size=64, masks=[top, tmp_path / "top_again.png"])
    with pytest.raises(ImageError, match="^masks 1, 2 overlap"):  # given in memory: called by their places
        brushwork.plan_for(photo, [starry_night, wave], size=64, masks=[Image.open(top), Image.open(top)])


def test_one_mask_given_twice_is_refused_and_resizing_is_blamed_only_where_a_mask_was_resized(drawn, tmp_path):
    top = drawn / "top.png"
    with pytest.raises(ImageError, match=r"^mask top.png is given twice; give each painting its own mask$"):
        RegionFiles((top, top)).load(SIZE, [(64, 64)] * 2)
    Image.open(top).save(tmp_path / "top_again.png")
    with pytest.raises(ImageError, match="at most one painting in all$"):  # no word of resizing
        RegionFiles((top, tmp_path / "top_again.png")).load(SIZE, [(64, 64)] * 2)
    Image.open(top).resize((SIZE[0] * 2, SIZE[1] * 2)).save(tmp_path / "top_large.png")
    with pytest.raises(ImageError, match="as resizing moves their edges$"):
        RegionFiles((top, tmp_path / "top_large.png")).load(SIZE, [(64, 64)] * 2)


def test_a_region_under_one_percent_of_the_photo_is_painted_with_a_note():
    from brushwork.media.masks import regions_for

    dot, rest = np.zeros(SIZE[::-1], dtype=np.float32), np.ones(SIZE[::-1], dtype=np.float32)
    dot[10:14, 10:14] = 1  # 16 of 6912 px
    rest[10:14, 10:14] = 0
    regions = regions_for(SIZE, 2, [dot, rest], None, ["dot.png", "rest.png"])
    assert regions.paint is not None and regions.notes == (
        "mask dot.png covers 0.2% of the photo: a region this small takes little of its painting's style; paint a "
        "larger region, or the picture larger",
    )


def test_one_mask_over_the_whole_photo_is_the_run_without_masks():
    from brushwork.media.masks import regions_for

    whole = regions_for(SIZE, 1, [np.ones(SIZE[::-1], dtype=np.float32)], None, ["white.png"])
    assert whole.paint is None and whole.kept() is None


def test_masks_given_in_memory_are_read_as_the_api_says(photo, starry_night):
    """HxW or HxWx1 arrays, uint8 0-255, bool or floats 0-1; floats past 1 (0-255 floats), NaN or another type
    are refused with a line that says what to give; a resize is said as a warning."""
    from brushwork.api import _regions
    from brushwork.media.images import load_image as picture

    paintings = [picture(starry_night, "style")]
    left = np.zeros(SIZE[::-1], dtype=np.float32)
    left[:, : SIZE[0] // 2] = 1
    for given in (left, left[..., None], left > 0.5, (left * 255).astype(np.uint8)):
        regions = _regions(SIZE, paintings, [given], None)
        assert regions is not None and regions.paint is not None and np.array_equal(regions.paint[0], left)
    with pytest.raises(ImageError, match="mask 1 holds values outside 0-1"):
        _regions(SIZE, paintings, [left * 255], None)
    with pytest.raises(ImageError, match="keep mask holds values outside 0-1"):
        _regions(SIZE, paintings, None, np.full(SIZE[::-1], np.nan))
    with pytest.raises(TypeError, match="mask 1 must be a file path, a PIL image or a numpy array"):
        _regions(SIZE, paintings, [3], None)
    with pytest.raises(ImageError, match=r"^mask 1 is 40x40, not the photo's shape"):
        _regions(SIZE, paintings, [np.ones((40, 40), dtype=np.float32) * 0.5], None)
    with pytest.warns(UserWarning, match="mask 1 is 192x144: resized to the photo's 96x72"):
        _regions(SIZE, paintings, [np.kron(left, np.ones((2, 2), dtype=np.float32))], None)
    top, bottom = np.zeros((30, 40), dtype=bool), np.zeros((51, 68), dtype=bool)  # halves drawn on two grids
    top[:9], bottom[15:] = True, True
    with pytest.warns(UserWarning, match="resized"):
        regions = _regions(SIZE, paintings * 2, [top, bottom], None)
    assert regions is not None and regions.paint is not None
    assert np.array_equal(sum(regions.paint), np.ones(SIZE[::-1]))  # they meet, as they do at their sizes


def test_region_files_come_back_from_the_role_tagged_files_a_recipe_or_job_lists():
    every = RegionFiles(
        masks=(Path("sky.png"), Path("ground.png")),
        keep=Path("face.png"),
        painting_masks=(Path("part1.png"), Path("part2.png")),
    )
    mapped = RegionFiles(region_map=Path("map.png"), colours=("red", "blue"))
    for regions in (every, mapped, RegionFiles()):
        found = [("content", Path("photo.jpg")), *regions.inputs(), ("style", Path("starry.jpg"))]
        assert RegionFiles.from_inputs(found, regions.colours) == regions


def test_a_masks_grey_and_transparency_read_alike_whatever_its_file_stores(tmp_path):
    """A soft edge saved in 16 bits, and a palette picture's transparent entries (pngquant's RGBA masks), give the
    mask their 8-bit grey and RGBA alpha give, not one that covers everything."""

    ramp = np.tile(np.linspace(0, 1, SIZE[0])[None, :], (SIZE[1], 1))
    Image.fromarray((ramp * 255).round().astype(np.uint8), "L").save(tmp_path / "grey8.png")
    Image.fromarray((ramp * 65535).round().astype(np.uint16)).save(tmp_path / "grey16.png")
    eight, sixteen = (_load(tmp_path / name, SIZE, []) for name in ("grey8.png", "grey16.png"))
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I") and np.abs(sixteen - eight).max() <= 1 / 255

    top = np.zeros(SIZE[::-1], dtype=np.uint8)
    top[: SIZE[1] // 3] = 1  # entry 1: the region; entry 0: transparent, its colour white all the same
    palette = Image.fromarray(top, "P")
    palette.putpalette([255, 255, 255] * 2)
    palette.save(tmp_path / "top_palette.png", transparency=0)
    rgba = Image.new("RGBA", SIZE, (255, 255, 255, 0))
    rgba.paste((255, 255, 255, 255), (0, 0, SIZE[0], SIZE[1] // 3))
    rgba.save(tmp_path / "top_rgba.png")
    from_palette, from_alpha = (_load(tmp_path / n, SIZE, []) for n in ("top_palette.png", "top_rgba.png"))
    assert np.array_equal(from_palette, from_alpha) and from_alpha.mean() == pytest.approx(1 / 3, abs=0.02)


def test_a_region_map_in_a_colour_no_region_names_says_so(tmp_path):
    """What no region covers stays the photo, as documented; a large part of the map in another colour is said,
    since it is most often a region forgotten or a colour mistyped."""
    drawn = Image.new("RGB", SIZE, (0, 0, 255))
    drawn.paste((0, 255, 0), (0, SIZE[1] // 2, SIZE[0], SIZE[1]))
    drawn.paste((255, 0, 0), (0, SIZE[1] * 3 // 4, SIZE[0], SIZE[1]))  # the river: named by no --region
    drawn.save(tmp_path / "map.png")
    regions = RegionFiles(region_map=tmp_path / "map.png", colours=("#0000ff", "#00ff00")).load(SIZE, [(64, 64)] * 2)
    assert regions.notes == (
        "25% of region map map.png is colours no region names (mostly #ff0000): kept as the photo",
    )


BLUE, GREEN = (0, 0, 255), (0, 255, 0)


def two_halves(width: int = 160, height: int = 120) -> np.ndarray:
    drawn = np.zeros((height, width, 3), np.uint8)
    drawn[:, : width // 2], drawn[:, width // 2 :] = BLUE, GREEN
    return drawn


def unpainted(drawn: np.ndarray, path: Path, photo: tuple[int, int] = (160, 120), **saved) -> np.ndarray:
    """Where no region of the map ``drawn``, saved at ``path``, reaches."""
    Image.fromarray(drawn).save(path, **saved)
    return sum(masks_from_map(path, [BLUE, GREEN], photo, [])) == 0


def test_a_jpeg_region_maps_blurred_edge_between_two_regions_goes_to_the_nearer(tmp_path):
    """A JPEG (or a soft brush) mixes the colours along an edge: those pixels go to the nearer region, with no seam
    of photo left between two paintings, on a map of the photo's size or a smaller one enlarged."""
    drawn = two_halves()
    Image.fromarray(drawn).save(tmp_path / "map.jpg", quality=70)
    mixed = np.asarray(Image.open(tmp_path / "map.jpg"), np.int16)
    assert np.abs(mixed[0, 78:82] - drawn[0, 78:82]).max() > MAP_TOLERANCE  # the edge the test is about
    sky, ground = masks_from_map(tmp_path / "map.jpg", [BLUE, GREEN], (160, 120), [])
    assert ((sky + ground) == 1).all()
    assert sky[:, :78].all() and ground[:, 82:].all() and not sky[:, 82:].any() and not ground[:, :78].any()
    assert not unpainted(two_halves(40, 30), tmp_path / "small.jpg", quality=60).any()  # its edge enlarged 4x


def test_a_strip_or_part_in_a_colour_no_region_names_keeps_every_pixel_edges_included(tmp_path):
    """Not a mix of two regions' colours, so never given to one: a thin grey or black line between them, and a
    shaded part (no one colour of it is common) beside one."""
    for strip, width in (((128, 128, 128), 4), ((0, 0, 0), 6)):
        drawn = two_halves()
        drawn[:, 80 - width // 2 : 80 + width // 2] = strip
        assert unpainted(drawn, tmp_path / "strip.png")[:, 80 - width // 2 : 80 + width // 2].all(), strip
    drawn = two_halves()
    shade = np.linspace(40, 200, 160).astype(np.uint8)
    drawn[40:80] = np.stack([shade, shade // 2, shade // 3], axis=-1)  # kept as the photo
    left = unpainted(drawn, tmp_path / "shaded.jpg", quality=75)
    assert left[40:80].all() and not left[:39].any() and not left[81:].any()  # the part to its edges, no seam


def test_a_region_colour_is_taken_as_css_writes_it():
    from brushwork.media.masks import parse_colour

    for written in ("#0000ff", "0000ff", "#00f", "00F", "blue", "rgb(0, 0, 255)"):
        assert parse_colour(written) == (0, 0, 255), written
    with pytest.raises(ImageError, match="region colour 'bleu' is not a colour like #0000ff, #00f or blue"):
        parse_colour("bleu")


def _load(path, size, notes, role="mask", on="photo"):
    """A mask file read as a run reads it."""
    from brushwork.media.masks import mask_of, opened

    return mask_of(*opened(path, role), size, notes, role, on)
