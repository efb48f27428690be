"""Image loading (modes, formats, EXIF), saving with recipes, and alpha through the whole pipeline."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import brushwork
from brushwork.core.errors import ImageError, OutputExistsError
from brushwork.engine import recipes
from brushwork.engine.recipes import RECIPE_KEY
from brushwork.media.files import write_atomically, written_atomically
from brushwork.media.images import load_image, picture_from_image, resize_longest, save_image, to_pil, to_tensor

RECIPE = {
    "settings": {"size": 64, "style_weight": 1e4},
    "seed": 7,
    "brushwork": brushwork.__version__,
    "inputs": [{"role": "content", "name": "a.jpg", "sha256": "0" * 64}],
}


def _quadrants(w: int = 64, h: int = 48) -> Image.Image:
    """Four flat colours: red, green / blue, white."""
    arr = np.zeros((h, w, 3), np.uint8)
    arr[: h // 2, : w // 2] = (255, 0, 0)
    arr[: h // 2, w // 2 :] = (0, 255, 0)
    arr[h // 2 :, : w // 2] = (0, 0, 255)
    arr[h // 2 :, w // 2 :] = (255, 255, 255)
    return Image.fromarray(arr, "RGB")


def _rgba(w: int = 64, h: int = 48) -> Image.Image:
    img = _quadrants(w, h).convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, w).round().astype(np.uint8), (h, 1))
    img.putalpha(Image.fromarray(alpha, "L"))
    return img


def test_exif_orientation_is_honoured(tmp_path):
    stored = Image.new("RGB", (80, 40), (255, 0, 0))
    stored.paste((0, 0, 255), (40, 0, 80, 40))  # left half red, right half blue, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    stored.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    assert Image.open(path).size == (80, 40)

    pic = load_image(path)
    assert pic.rgb.size == (40, 80) and pic.rgb.mode == "RGB"
    # turned clockwise, the stored left half (red) is on top, the right half (blue) at the bottom
    top, bottom = pic.rgb.getpixel((20, 10)), pic.rgb.getpixel((20, 70))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_grayscale_loads_as_rgb(tmp_path):
    grey = Image.fromarray(np.tile(np.arange(64, dtype=np.uint8) * 4, (32, 1)), "L")
    grey.save(tmp_path / "grey.png")
    pic = load_image(tmp_path / "grey.png")
    arr = np.asarray(pic.rgb)
    assert pic.rgb.mode == "RGB" and pic.alpha is None and pic.rgb.size == (64, 32)
    assert (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all()
    assert (arr[..., 0] == np.asarray(grey)).all()


def test_palette_without_transparency_loads_as_rgb(tmp_path):
    quadrants = _quadrants()
    quadrants.convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(tmp_path / "pal.png")
    assert Image.open(tmp_path / "pal.png").mode == "P"
    pic = load_image(tmp_path / "pal.png")
    assert pic.rgb.mode == "RGB" and pic.alpha is None
    assert np.array_equal(np.asarray(pic.rgb), np.asarray(quadrants))


def test_palette_with_transparency_keeps_alpha(tmp_path):
    pal = _quadrants().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    transparent = pal.getpixel((0, 0))  # the red quadrant's palette index
    pal.save(tmp_path / "pal_t.png", transparency=transparent)
    reopened = Image.open(tmp_path / "pal_t.png")
    assert reopened.mode == "P" and "transparency" in reopened.info
    pic = load_image(tmp_path / "pal_t.png")
    assert pic.rgb.mode == "RGB" and pic.alpha is not None
    alpha = np.asarray(pic.alpha)
    assert (alpha[:24, :32] == 0).all() and (alpha[:, 32:] == 255).all() and (alpha[24:] == 255).all()
    assert pic.rgb.getpixel((40, 40)) == (255, 255, 255)


def test_rgba_keeps_alpha_and_opaque_alpha_is_dropped(tmp_path):
    _rgba().save(tmp_path / "a.png")
    pic = load_image(tmp_path / "a.png")
    assert pic.rgb.mode == "RGB" and pic.alpha is not None and pic.alpha.mode == "L"
    assert np.array_equal(np.asarray(pic.alpha), np.asarray(_rgba().getchannel("A")))
    assert pic.rgb.getpixel((0, 0)) == (255, 0, 0)
    opaque = _quadrants().convert("RGBA")
    assert picture_from_image(opaque).alpha is None  # an all-opaque alpha carries nothing


def test_grey_with_alpha_keeps_alpha():
    la = Image.merge("LA", (Image.new("L", (8, 8), 100), Image.new("L", (8, 8), 30)))
    pic = picture_from_image(la)
    assert pic.rgb.getpixel((3, 3)) == (100, 100, 100)
    assert pic.alpha.getpixel((3, 3)) == 30


def test_cmyk_jpeg_loads_as_rgb(tmp_path):
    cmyk = Image.new("CMYK", (32, 32), (255, 0, 0, 0))  # pure cyan ink
    cmyk.paste((0, 0, 0, 255), (16, 0, 32, 32))  # pure black ink on the right
    cmyk.save(tmp_path / "cmyk.jpg", "JPEG", quality=95)
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"
    pic = load_image(tmp_path / "cmyk.jpg")
    assert pic.rgb.mode == "RGB"
    r, g, b = pic.rgb.getpixel((4, 16))
    assert r < 40 and g > 215 and b > 215  # cyan
    assert max(pic.rgb.getpixel((28, 16))) < 40  # black


def test_16_bit_png_loads_as_rgb_scaled_to_8_bits(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).round().astype(np.uint16), (16, 1))
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    pic = load_image(tmp_path / "deep.png")
    arr = np.asarray(pic.rgb).astype(int)
    assert pic.rgb.mode == "RGB"
    assert np.abs(arr[..., 0] - ramp / 257.0).max() <= 1  # 16-bit full range -> 8-bit full range
    assert arr[0, 0, 0] == 0 and arr[0, -1, 0] == 255
    # a dark 16-bit picture stays dark (values are 16-bit, not 8-bit)
    Image.fromarray(np.full((8, 8), 200, np.uint16)).save(tmp_path / "dark.png")
    assert np.asarray(load_image(tmp_path / "dark.png").rgb).max() <= 1


def test_float_image_loads_as_rgb():
    arr = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (4, 1))
    pic = picture_from_image(Image.fromarray(arr, "F"))
    assert pic.rgb.mode == "RGB"
    assert pic.rgb.getpixel((0, 0)) == (0, 0, 0) and pic.rgb.getpixel((15, 0)) == (255, 255, 255)


@pytest.mark.parametrize(
    "fmt,suffix,lossless",
    [("JPEG", ".jpg", False), ("PNG", ".png", True), ("WEBP", ".webp", False), ("TIFF", ".tif", True)],
)
def test_input_formats(tmp_path, fmt, suffix, lossless):
    original = _quadrants()
    path = tmp_path / f"in{suffix}"
    original.save(path, fmt, **({} if lossless else {"quality": 95}))
    pic = load_image(path, "content")
    assert pic.rgb.size == (64, 48) and pic.rgb.mode == "RGB" and pic.name == path.name
    diff = np.abs(np.asarray(pic.rgb).astype(int) - np.asarray(original).astype(int))
    assert diff.max() == 0 if lossless else diff.mean() < 6


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".webp"])
def test_outputs_carry_a_readable_recipe(tmp_path, suffix):
    path = recipes.save(_quadrants(), tmp_path / f"out{suffix}", RECIPE)
    assert path == tmp_path / f"out{suffix}"
    assert recipes.read(path) == json.loads(json.dumps(RECIPE))
    back = load_image(path)
    assert back.rgb.size == (64, 48)
    assert np.abs(np.asarray(back.rgb).astype(int) - np.asarray(_quadrants()).astype(int)).mean() < 6
    assert not list(tmp_path.glob(".brushwork-*"))  # no temporary file left behind


def test_png_recipe_is_an_itxt_chunk(tmp_path):
    path = recipes.save(_quadrants(), tmp_path / "out.png", RECIPE)
    assert json.loads(Image.open(path).text[RECIPE_KEY]) == RECIPE


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_save_image_keeps_alpha(tmp_path, suffix):
    img = _rgba()
    path = recipes.save(img.convert("RGB"), tmp_path / f"a{suffix}", RECIPE, alpha=img.getchannel("A"))
    back = Image.open(path)
    assert back.mode == "RGBA"
    tolerance = 0 if suffix == ".png" else 3
    assert (
        np.abs(np.asarray(back.getchannel("A")).astype(int) - np.asarray(img.getchannel("A")).astype(int)).max()
        <= tolerance
    )
    assert recipes.read(path)["seed"] == 7


def test_jpeg_output_drops_alpha(tmp_path):
    img = _rgba()
    path = save_image(img.convert("RGB"), tmp_path / "a.jpg", alpha=img.getchannel("A"))
    assert Image.open(path).mode == "RGB"


def test_the_command_line_says_a_jpeg_drops_the_photos_transparency(tmp_path, capsys):
    from brushwork.cli import main

    _rgba().save(tmp_path / "rgba.png")
    _quadrants(32, 32).save(tmp_path / "painting.png")
    args = [str(tmp_path / "rgba.png"), str(tmp_path / "painting.png"), "--size", "32", "--steps", "1", "-q"]
    assert main([*args, "-o", str(tmp_path / "out.jpg")]) == 0
    assert "a JPEG has no transparency" in capsys.readouterr().err
    assert main([*args, "-o", str(tmp_path / "out.png")]) == 0
    assert "transparency" not in capsys.readouterr().err


def test_alpha_survives_stylize_and_png(tmp_path):
    img = _rgba()
    out = brushwork.stylize(img, _quadrants(32, 32), size=64, steps=1, device="cpu")
    assert out.mode == "RGBA" and out.size == (64, 48)
    assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(img.getchannel("A")))
    img.save(tmp_path / "rgba_in.png")
    result = brushwork.transfer(tmp_path / "rgba_in.png", _quadrants(32, 32), size=64, steps=1, device="cpu")
    assert result.alpha is not None
    path = recipes.save_result(result, tmp_path / "rgba_out.png", {"settings": {}})
    back = Image.open(path)
    assert back.mode == "RGBA"
    assert np.array_equal(np.asarray(back.getchannel("A")), np.asarray(img.getchannel("A")))


def test_save_image_never_overwrites_unless_asked(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"precious")
    with pytest.raises(ImageError, match="already exists"):
        save_image(_quadrants(), path)
    assert path.read_bytes() == b"precious"
    save_image(_quadrants(), path, overwrite=True)
    assert Image.open(path).size == (64, 48)


def test_a_link_at_the_output_is_the_users_though_its_target_is_missing(tmp_path):
    """A link counts as there, whatever it points at: neither the checks before a run nor the save replace it, and
    a picture kept beside it takes the next free name."""
    from brushwork.media.files import check_output_path, spare_path

    link = tmp_path / "out.png"
    link.symlink_to(tmp_path / "gone" / "x.png")
    with pytest.raises(ImageError, match="already exists"):
        check_output_path(link)
    with pytest.raises(ImageError, match="already exists"):
        save_image(_quadrants(), link)
    assert link.is_symlink() and str(link.readlink()).endswith("x.png")
    (tmp_path / "out.unfinished-1.png").symlink_to(tmp_path / "gone" / "y.png")
    assert spare_path(link, "unfinished").name == "out.unfinished-2.png"


def test_save_image_rejects_unknown_format_and_missing_folder(tmp_path):
    with pytest.raises(ImageError, match=".png"):
        save_image(_quadrants(), tmp_path / "out.bmp")
    with pytest.raises(ImageError):
        save_image(_quadrants(), tmp_path / "missing" / "out.png")


def test_read_recipe_errors(tmp_path):
    _quadrants().save(tmp_path / "plain.png")
    with pytest.raises(ImageError, match="no brushwork recipe"):
        recipes.read(tmp_path / "plain.png")
    recipes.save(_quadrants(), tmp_path / "other.png", {"something": "else"})
    with pytest.raises(ImageError, match="no brushwork recipe"):
        recipes.read(tmp_path / "other.png")


def test_zero_size_in_memory_image():
    with pytest.raises(ImageError, match="zero size"):
        picture_from_image(Image.new("RGB", (0, 5)))


def test_resize_longest_and_tensor_round_trip():
    img = _quadrants(64, 48)
    small = resize_longest(img, 32)
    assert small.size == (32, 24)
    assert resize_longest(img, 64) is img
    t = to_tensor(img)
    assert t.shape == (1, 3, 48, 64) and t.dtype.is_floating_point and t.max() == 255
    assert np.array_equal(np.asarray(to_pil(t)), np.asarray(img))
    assert to_pil(t * 2 - 100).getpixel((0, 0)) == (255, 0, 0)  # clipped to 0-255


def test_only_regular_files_are_read(tmp_path):
    """A device or a pipe would be read for ever (or block); a name the system cannot take would raise deep down."""
    import os

    from brushwork.media.files import file_sha256

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for path, words in [
        ("/dev/zero", "is not a regular file"),
        (fifo, "is not a regular file"),
        (tmp_path, "is a folder"),
        (tmp_path / "nowhere.png", "not found"),
        (tmp_path / ("x" * 300 + ".png"), "File name too long"),
        (str(tmp_path / "a\0.png"), "null byte"),
    ]:
        for read in (load_image, file_sha256):
            with pytest.raises(ImageError, match=words) as caught:
                read(path, "photo")
            assert "\n" not in str(caught.value)


def test_temporary_files_a_killed_process_left_are_removed_later(tmp_path):
    """SIGKILL mid-write leaves a hidden ``.brushwork-*`` file; a later write in that folder removes it once it is
    old enough to be abandoned, and nothing else."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from brushwork.media import files

    stuck = (
        "import sys, time; from PIL import Image; from brushwork.media.images import save_image\n"
        "def hang(*args, **kwargs): print('saving', flush=True); time.sleep(600)\n"
        "Image.Image.save = hang\n"
        f"save_image(Image.new('RGB', (8, 8)), {str(tmp_path / 'killed.png')!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", stuck], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "saving\n"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    [left] = tmp_path.glob(".brushwork-*.png")
    assert left.stat().st_size == 0
    hour_ago = time.time() - files.STALE_AFTER - 60
    os.utime(left, (hour_ago, hour_ago))
    fresh = tmp_path / ".brushwork-abcd1234.png"  # another process may be writing it right now
    other = tmp_path / ".brushwork-notes.txt.bak"  # not a name save_image makes
    for path in (fresh, other):
        path.write_bytes(b"")
    os.utime(other, (hour_ago, hour_ago))
    save_image(Image.new("RGB", (8, 8)), tmp_path / "next.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, other.name, "next.png"])


def test_only_an_animation_counts_its_frames_not_a_cameras_second_picture(tmp_path):
    """A phone's MPO JPEG holds a second picture (a depth or gain map): no animation, no note."""
    frames = [Image.new("RGB", (32, 24), colour) for colour in ((200, 0, 0), (0, 200, 0))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "two.mpo", "MPO", save_all=True, append_images=frames[1:])
    assert load_image(tmp_path / "anim.gif").frames == 2
    assert Image.open(tmp_path / "two.mpo").n_frames == 2 and load_image(tmp_path / "two.mpo").frames == 1


def test_a_file_written_atomically_is_whole_or_absent_and_a_failure_is_one_error(tmp_path, monkeypatch):
    target = tmp_path / "record.json"
    target.write_text("old")
    assert write_atomically(target, b"new").read_bytes() == b"new"

    def full_disk(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(ImageError, match=r"^cannot write .*record.json: No space left on device; free some space"):
        write_atomically(target, b"newer")
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]


def test_a_file_put_at_the_target_while_it_was_written_is_kept_unless_overwriting(tmp_path):
    target = tmp_path / "clip.mp4"
    with pytest.raises(OutputExistsError), written_atomically(target, overwrite=False) as partial:
        partial.write_bytes(b"painted")
        target.write_bytes(b"the user's")  # appeared during a long run
    assert target.read_bytes() == b"the user's" and sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    with written_atomically(target) as partial:
        partial.write_bytes(b"painted")
    assert target.read_bytes() == b"painted"


def test_a_file_that_cannot_be_read_for_its_hash_is_one_error_naming_it(tmp_path, monkeypatch):
    from brushwork.media import files

    locked = tmp_path / "locked.jpg"
    locked.write_bytes(b"pixels")

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files, "open", refused, raising=False)
    with pytest.raises(ImageError, match=r"^cannot read photo .*locked.jpg: permission denied; check the file's"):
        files.file_sha256(locked, "photo")
