"""`brushwork figures` (the seed report's figures) and the generated Mondrian."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from brushwork.cli import main
from brushwork.cli.figures import parser as build_parser
from brushwork.core.settings import PRESETS, Settings
from brushwork.engine.recipes import read as read_recipe
from brushwork.engine.runner import Result
from brushwork.report.figures import grainiest_box
from brushwork.report.mondrian import PALETTE, mondrian

pytestmark = pytest.mark.slow


def figures_command(argv: list[str]) -> int:
    return main(["figures", *argv])


SIZE = 64
SCALE = "0.03"  # seed preset: 6 steps, snapshots at 1, 2, 3, 4, 6; default settings: 9 L-BFGS steps


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    rc = figures_command(["all", "--out", str(out), "--size", str(SIZE), "--steps-scale", SCALE, "--quiet"])
    assert rc == 0
    return out


def _png(path):
    with Image.open(path) as img:
        assert img.format == "PNG"
        img.load()
        return img.convert("RGB")


def test_all_figures_are_written_with_recipes(made):
    assert sorted(p.name for p in made.iterdir()) == ["mondrian.png", "progression.png", "styles.png", "tv.png"]
    for name in ("progression", "tv", "styles"):
        recipe = read_recipe(made / f"{name}.png")
        assert recipe["figure"] == name
        assert recipe["settings"]["size"] == SIZE
        assert recipe["run"]["status"] == "done"
        assert [i["role"] for i in recipe["inputs"]] == ["content", "style"]
        assert recipe["inputs"][0]["name"] == "tubingen.jpg"


def test_progression_is_one_seed_run_in_a_strip(made):
    sheet = _png(made / "progression.png")
    recipe = read_recipe(made / "progression.png")
    s = recipe["settings"]
    assert (s["optimizer"], s["lr"], s["steps"], s["lr_schedule"]) == ("adam", 3.0, 6, [[5, 0.1]])
    assert recipe["snapshot_steps"] == [1, 2, 3, 4, 6]
    assert recipe["run"]["steps"] == 6
    assert sheet.width > 4 * sheet.height  # five pictures in one row
    # Five different snapshots: the picture changes between steps.
    a = np.asarray(sheet, dtype=np.float32)
    cells = [a[8 : 8 + 48, 8 + i * (SIZE + 8) : 8 + i * (SIZE + 8) + SIZE] for i in range(5)]
    assert all(np.abs(cells[i] - cells[i + 1]).mean() > 0.5 for i in range(4))


def test_tv_figure_compares_two_runs_with_a_zoom(made):
    sheet = _png(made / "tv.png")
    recipe = read_recipe(made / "tv.png")
    assert [p["label"] for p in recipe["panels"]] == ["TV on", "TV off"]
    assert recipe["panels"][0]["settings"]["tv_weight"] == PRESETS["seed"]["tv_weight"] > 0  # the report's TV
    assert recipe["panels"][1]["settings"]["tv_weight"] == 0
    assert recipe["settings"] == recipe["panels"][0]["settings"]
    picture_h = SIZE * 3 // 4  # Tübingen is 4:3
    assert sheet.width == 8 + 2 * (SIZE + 8) and sheet.height > 2 * (
        picture_h + 18
    )  # 2 x 2: the pictures over their crops
    x0, y0, x1, y1 = recipe["crop_box"]
    assert (x1 - x0) * recipe["zoom"] <= SIZE and x0 >= 0 and y0 >= 0


def test_styles_figure_has_three_styles_with_default_settings(made):
    sheet = _png(made / "styles.png")
    recipe = read_recipe(made / "styles.png")
    assert [p["label"] for p in recipe["panels"]] == ["The Starry Night", "The Great Wave", "Mondrian (generated)"]
    assert [p["inputs"][1]["name"] for p in recipe["panels"]] == ["starry_night.jpg", "wave.jpg", "mondrian.png"]
    figure_settings = {**Settings().to_dict(), "size": SIZE, "steps": max(1, round(Settings().steps * float(SCALE)))}
    assert [p["settings"] for p in recipe["panels"]] == [
        figure_settings,
        figure_settings,
        figure_settings,
    ]
    assert sheet.width == 8 + 4 * (SIZE + 8) and sheet.height < 2 * SIZE  # photo + three results in one row
    assert _png(made / "mondrian.png").tobytes() == mondrian(512, 512, 0).tobytes()


def test_existing_figures_are_refused_before_any_work(made, capsys):
    rc = figures_command(["progression", "--out", str(made), "--size", str(SIZE)])
    err = capsys.readouterr().err
    assert (
        rc == 2
        and err.startswith("brushwork figures: error:")
        and "pass --out FOLDER for another, or --overwrite" in err
    )
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "argv", [["nonsense"], ["--size", "8"], ["--size", "big"], ["--steps-scale", "0"], ["--tv-weight", "-1"]]
)
def test_bad_arguments_are_one_line_errors(argv, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        figures_command([*argv, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("brushwork figures: error:") and err.count("\n") == 1


def test_tv_weight_option():
    assert build_parser().parse_args([]).tv_weight is None  # the library's default
    assert build_parser().parse_args(["tv", "--tv-weight", "1000"]).tv_weight == 1000


def test_out_must_be_a_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert figures_command(["mondrian", "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_the_styles_figure_never_replaces_a_mondrian_png_that_is_not_asked_for(tmp_path, capsys):
    """Its Mondrian is an input there: a picture of that name is the user's, --overwrite or not."""
    mine = tmp_path / "mondrian.png"
    Image.new("RGB", (32, 32), "red").save(mine)
    before = mine.read_bytes()
    assert figures_command(["styles", "--out", str(tmp_path), "--overwrite", "--size", "32", "-q"]) == 2
    err = capsys.readouterr().err
    assert "is another picture; move it, or allow overwriting and make the mondrian figure too" in err
    assert mine.read_bytes() == before and not (tmp_path / "styles.png").exists()
    assert figures_command(["mondrian", "--out", str(tmp_path), "--overwrite", "-q"]) == 0  # asked for: replaced
    assert _png(mine).tobytes() == mondrian(512, 512, 0).tobytes()


def test_a_refused_device_leaves_no_empty_folder(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has the device the test asks for")
    assert main(["figures", "tv", "--device", "cuda", "--out", str(tmp_path / "figs")]) == 2
    assert "--device cuda is not available" in capsys.readouterr().err and not (tmp_path / "figs").exists()


def test_ctrl_c_in_a_figures_run_stops_the_figures_with_exit_130_and_writes_none(tmp_path, capsys, monkeypatch):
    from brushwork.report import figures

    def interrupted(content, styles, settings, callback=None, keep_memory=False):
        callback_image = content.rgb.resize((8, 6))
        return Result(callback_image, None, "interrupted", 25, {}, 0.1, "interrupted at step 25; kept the best")

    monkeypatch.setattr(figures, "run", interrupted)
    rc = figures_command(["tv", "--out", str(tmp_path / "figs"), "--size", str(SIZE), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 130 and err == (
        "brushwork figures: interrupted at step 25 of the seed, tv_weight 150 run; its figure was not written "
        "(those written before it are kept)\n"
    )
    assert not (tmp_path / "figs" / "tv.png").exists()


def test_grainiest_box_finds_the_noise():
    rng = np.random.default_rng(0)
    smooth = np.full((80, 120, 3), 128, np.uint8)
    grainy = smooth.copy()
    grainy[50:70, 80:110] = rng.integers(0, 255, (20, 30, 3))
    x0, y0, x1, y1 = grainiest_box(Image.fromarray(smooth), Image.fromarray(grainy), zoom=4)
    assert (x1 - x0, y1 - y0) == (30, 20)
    assert abs(x0 - 80) <= 3 and abs(y0 - 50) <= 3


# -- the Mondrian ----------------------------------------------------------------------------------


def test_mondrian_is_deterministic_per_seed():
    assert mondrian(256, 192, seed=3).tobytes() == mondrian(256, 192, seed=3).tobytes()
    assert mondrian(256, 192, seed=3).tobytes() != mondrian(256, 192, seed=4).tobytes()
    assert mondrian(300, 200).size == (300, 200)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", [(512, 512), (320, 200), (64, 64)])
def test_mondrian_uses_only_mondrian_colours(seed, size):
    a = np.asarray(mondrian(*size, seed=seed)).reshape(-1, 3).astype(int)
    palette = np.array(list(PALETTE.values()))
    distance = np.abs(a[:, None, :] - palette[None, :, :]).sum(-1).min(1)
    assert distance.max() == 0  # no anti-aliased in-between colours
    colours = {name for name, rgb in PALETTE.items() if (a == rgb).all(1).any()}
    assert {"black", "red", "yellow", "blue"} <= colours
    assert colours & {"white", "off-white"}
    # A good part of the canvas is light, as in the paintings.
    light = sum(((a == PALETTE[n]).all(1)).sum() for n in ("white", "off-white", "grey"))
    assert light > 0.25 * len(a)


@pytest.mark.parametrize("seed", range(6))
def test_mondrian_has_straight_full_length_lines(seed):
    a = np.asarray(mondrian(400, 300, seed=seed)).astype(int)
    black = (a == PALETTE["black"]).all(-1)
    full_rows, full_cols = black.all(1), black.all(0)
    assert full_rows.any() or full_cols.any()  # the first cut crosses the whole canvas
    # Lines are thick bands: every full-length black row/column has a neighbour that is one too.
    for full in (full_rows, full_cols):
        idx = np.flatnonzero(full)
        assert all((i - 1 in idx) or (i + 1 in idx) for i in idx)
    # Thick lines: a few percent of the canvas is black (and not much more).
    assert 0.03 * black.size < black.sum() < 0.3 * black.size


def test_mondrian_rejects_tiny_sizes():
    with pytest.raises(ValueError):
        mondrian(8, 8)
