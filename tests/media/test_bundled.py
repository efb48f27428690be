"""The bundled examples: each has the title people read it by."""

from brushwork.media.bundled import EXAMPLES_DIR, TITLES, title


def test_every_bundled_picture_and_clip_has_a_title_and_only_those_do():
    stems = {path.stem for path in EXAMPLES_DIR.glob("*/*") if path.suffix in {".jpg", ".mp4"}}
    assert stems == set(TITLES)
    assert title("tubingen") == "Tübingen"  # the umlaut a file name leaves out


def test_a_name_not_bundled_is_titled_by_its_words():
    assert title("my_garden-at-dusk") == "My Garden At Dusk"
