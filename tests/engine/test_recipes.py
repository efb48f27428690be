"""Finding a recipe's inputs again: by their recorded hash, wherever they are now."""

from __future__ import annotations

import pytest

from brushwork.core.errors import ImageError, InputChangedError
from brushwork.engine.recipes import find_inputs
from brushwork.media.bundled import example
from brushwork.media.files import file_sha256


def test_a_bundled_input_is_found_in_this_copy_of_brushwork_not_as_a_namesake_beside_the_picture(tmp_path):
    """A gallery picture made in another copy of brushwork records that copy's path; a resized photo of the same
    name beside the picture is not it."""
    photo = example("content", "tubingen")
    recorded = {"role": "content", "name": photo.name, "path": "/elsewhere/" + photo.name}
    recipe = {"inputs": [{**recorded, "sha256": file_sha256(photo)}]}
    picture = tmp_path / "tubingen_wave.png"
    (tmp_path / photo.name).write_bytes(b"another picture of the same name")
    assert find_inputs(recipe, picture) == [photo]
    recipe["inputs"][0].update(name="mine.jpg", path=str(tmp_path / "gone" / "mine.jpg"))
    (tmp_path / "mine.jpg").write_bytes(b"not the photo")
    said = r"mine.jpg found at .* is not the one the picture was made from; put the original at .*gone/mine.jpg"
    with pytest.raises(InputChangedError, match=said):
        find_inputs(recipe, picture)


def test_a_users_own_picture_named_like_a_bundled_one_is_never_stood_in_for_by_it(tmp_path):
    """The user's own wave.jpg, since deleted: the bundled Great Wave is not it, changed or otherwise."""
    recipe = {"inputs": [{"role": "style", "name": "wave.jpg", "path": str(tmp_path / "wave.jpg"), "sha256": "0" * 64}]}
    with pytest.raises(ImageError, match="cannot find the style image wave.jpg; put it at "):
        find_inputs(recipe, tmp_path / "picture.png", allow_changed=True)


@pytest.mark.parametrize(
    "recipe, shown",
    [
        ({"settings": {}, "inputs": [{"role": "content", "name": "x.jpg"}]}, 0),  # shown; no path or hash to rerun
        ({"settings": [], "inputs": []}, 2),
        ({"settings": {}, "inputs": ["x"]}, 2),
        ({"settings": {"size": "large"}, "inputs": []}, 0),  # shown; its settings refused by a rerun
        ({"settings": {"size": 64}, "inputs": [{"role": "content", "name": 3, "path": "x", "sha256": "0"}]}, 0),
    ],
)
def test_a_recipe_edited_into_another_shape_is_one_line_not_a_traceback(capsys, tmp_path, recipe, shown):
    from PIL import Image

    from brushwork.cli import main
    from brushwork.engine.recipes import save

    picture = save(Image.new("RGB", (8, 8)), tmp_path / "edited.png", recipe)
    assert main(["recipe", str(picture)]) == shown  # shown as it is, or refused as damaged
    capsys.readouterr()
    assert main(["recipe", str(picture), "--rerun", "-o", str(tmp_path / "again.png")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "damaged" in err or "size" in err, err
    assert not (tmp_path / "again.png").exists()
