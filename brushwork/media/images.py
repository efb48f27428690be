"""Loading, validating, resizing and saving pictures, and moving them to and from tensors.

Every picture is read and written here (its file through :mod:`brushwork.media.files`), so that every front door
gets the same checks and the same one-line errors. Tensors are RGB, 0-255, ``(1, 3, H, W)``.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from brushwork.core.errors import ImageError, OutputExistsError, WrongKindError, first_line
from brushwork.core.formats import CLIP_INPUT_SUFFIXES, OUTPUT_FORMATS, OUTPUT_WORDS
from brushwork.media.files import regular_file, taken, written_atomically
from brushwork.planning.levels import fit_longest

__all__ = [
    "Picture",
    "colourless",
    "load_image",
    "picture_from_image",
    "open_image",
    "resize_longest",
    "to_tensor",
    "to_pil",
    "wide",
    "save_image",
    "read_tag",
    "rgb_and_alpha",
]

FRAMES_KEY = "brushwork frames"
"""Where :func:`open_image` notes in a picture's ``info`` how many frames its file held."""
_EXIF_DESCRIPTION = 0x010E  # ImageDescription: where JPEG and WebP keep the recipe


@dataclass
class Picture:
    """An input image, normalised to RGB, with its alpha channel (if any) kept aside."""

    rgb: Image.Image
    alpha: Image.Image | None = None
    name: str = ""
    frames: int = 1
    """How many frames the file held (an animated GIF's): only the first is the picture."""

    @functools.cached_property
    def colourless(self) -> bool:
        """Whether the picture has (almost) no colour (see :func:`colourless`)."""
        return colourless(self.rgb)

    @functools.cached_property
    def opaque_rgb(self) -> Image.Image:
        """The RGB with what is transparent, whose stored colours are arbitrary, filled with the mean colour of
        what is not: what a painting is learnt from, so that no feature near its transparent part sees them."""
        if self.alpha is None:
            return self.rgb
        alpha = np.asarray(self.alpha, dtype=np.float32)[..., None] / 255.0
        if alpha.min() == 1.0:
            return self.rgb
        rgb = np.asarray(self.rgb, dtype=np.float32)
        mean = (rgb * alpha).sum((0, 1)) / max(float(alpha.sum()), 1e-6)
        return Image.fromarray(np.clip(rgb * alpha + mean * (1 - alpha), 0, 255).round().astype(np.uint8), "RGB")


def colourless(rgb: Image.Image) -> bool:
    """Whether an RGB picture has (almost) no colour: its channels nowhere more than a few levels apart."""
    channels = np.asarray(rgb.resize((64, 64)), dtype=np.int16)
    return bool((channels.max(-1) - channels.min(-1)).mean() < 3)


def rgb_and_alpha(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Any mode as 8-bit RGB, and its alpha if any is not opaque: 16-bit and float greys scaled by their range, a
    palette's transparent entries and a grey's alpha read as alpha."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit (or 32-bit int) grey: scale to 8 bits by the type's range.
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        scale = 255.0 if arr.max() <= 1.0 else 1.0
        img = Image.fromarray(np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
        alpha = img.getchannel("A")
        return img.convert("RGB"), (alpha if alpha.getextrema() != (255, 255) else None)
    return img.convert("RGB"), None


def open_image(path: str | os.PathLike, role: str = "image", shown: str | None = None) -> Image.Image:
    """Open and fully decode an image file, turning every failure into one :class:`ImageError` line, which names
    the file as ``shown`` (by default its path: a server names an upload by the name its sender gave)."""
    p = regular_file(path, role, shown=shown)
    name = shown or p
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as img:
                img.load()
                animated = img.format in ("GIF", "PNG", "WEBP") and getattr(img, "is_animated", False)
                frames = img.n_frames if animated else 1  # not a camera's MPO, nor a TIFF's pages
                img = ImageOps.exif_transpose(img)
                img.load()
                img.info[FRAMES_KEY] = frames
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{role} {name} is too large to open safely (over {Image.MAX_IMAGE_PIXELS} pixels); shrink it first"
        ) from None
    except UnidentifiedImageError:
        if p.suffix.lower() in CLIP_INPUT_SUFFIXES and _holds_a_clip(p):  # a clip given where a picture goes
            problem = f"{role} {name} is a video clip, not a picture"
            if role in ("content", "photo"):  # the front door says what paints a clip
                raise WrongKindError(problem, clip=True) from None
            wanted = "give a picture" if role == "picture" else f"the {role} must be a picture"
            raise ImageError(f"{problem}; {wanted}") from None
        if p.stat().st_size == 0:
            raise ImageError(
                f"{role} {name} is an empty file, not an image; use a JPEG, PNG, WebP or TIFF file"
            ) from None
        raise ImageError(f"{role} {name} is not an image Pillow can read; use a JPEG, PNG, WebP or TIFF file") from None
    except PermissionError:
        raise ImageError(f"cannot read {role} {name}: permission denied; check the file's permissions") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(
            f"{role} {name} is damaged or truncated ({first_line(exc)}); re-export or re-download it"
        ) from None
    if img.width < 1 or img.height < 1:
        raise ImageError(f"{role} {name} has zero size ({img.width}x{img.height}); use a real picture")
    return img


_CONTAINERS = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide")
"""The boxes an MP4, MOV or M4V file starts with (after its first box's size)."""


def _holds_a_clip(path: Path) -> bool:
    """Whether a file starts as a clip's container does (MP4 and MOV, Matroska and WebM, AVI): one named as a clip
    but holding something else (a page saved under the wrong name) is not called a clip."""
    with open(path, "rb") as f:
        head = f.read(12)
    return head[4:8] in _CONTAINERS or head.startswith(b"\x1a\x45\xdf\xa3") or head[:4] + head[8:] == b"RIFFAVI "


def picture_from_image(img: Image.Image, name: str = "") -> Picture:
    """Normalise an in-memory image (any mode) to RGB plus optional alpha."""
    if img.width < 1 or img.height < 1:
        raise ImageError(f"image {name} has zero size; use a real picture")
    rgb, alpha = rgb_and_alpha(img)
    return Picture(rgb=rgb, alpha=alpha, name=name, frames=int(img.info.get(FRAMES_KEY, 1)))


def load_image(path: str | os.PathLike, role: str = "image", shown: str | None = None) -> Picture:
    """Load an image in any common mode (EXIF orientation honoured) as RGB plus optional alpha; errors name the
    file as ``shown`` (by default its path)."""
    return picture_from_image(open_image(path, role, shown), Path(path).name)


def resize_longest(img: Image.Image, size: int) -> Image.Image:
    """Resize so the longest side is ``size`` pixels, keeping the aspect ratio."""
    new = fit_longest(*img.size, size)
    return img if new == img.size else img.resize(new, Image.Resampling.LANCZOS)


def to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image to a float32 ``(1, 3, H, W)`` tensor in 0-255."""
    arr = np.asarray(img.convert("RGB"), dtype=np.float32)
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def wide(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` in float64, for sums that float32 would round; on the CPU where its device has no float64 (an
    Apple GPU's MPS)."""
    return tensor.to("cpu" if tensor.device.type == "mps" else tensor.device, torch.float64)


def to_pil(tensor: torch.Tensor) -> Image.Image:
    """A ``(1, 3, H, W)`` or ``(3, H, W)`` tensor in 0-255 to an RGB PIL image (rounded, clipped)."""
    t = tensor.detach().float().reshape(-1, *tensor.shape[-2:])[:3]
    arr = t.clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr, "RGB")


def save_image(
    img: Image.Image,
    path: str | os.PathLike,
    tag: tuple[str, str] | None = None,
    alpha: Image.Image | None = None,
    overwrite: bool = False,
) -> Path:
    """Write PNG/JPEG/WebP atomically; never clobber unless asked.

    ``tag`` is ``(key, text)`` kept in the file's metadata: a PNG text chunk named ``key``,
    or the EXIF image description of a JPEG or WebP (see :func:`read_tag`).
    """
    p = Path(path)
    fmt = OUTPUT_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ImageError(f"cannot write {p.name!r}: use a {OUTPUT_WORDS} file name")
    if taken(p) and not overwrite:
        raise OutputExistsError(p)
    out = img.convert("RGB")
    if alpha is not None and fmt != "JPEG":
        out = out.copy()
        out.putalpha(alpha.resize(out.size, Image.Resampling.LANCZOS))
    options: dict[str, Any] = {}
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        if tag is not None:
            info.add_itxt(*tag)
        options["pnginfo"] = info
    else:
        options["quality"] = 95
        if tag is not None:
            exif = Image.Exif()
            exif[_EXIF_DESCRIPTION] = tag[1]
            options["exif"] = exif.tobytes()
    with written_atomically(p, overwrite) as temporary, temporary.open("wb") as f:
        out.save(f, fmt, **options)
    return p


def read_tag(path: str | os.PathLike, key: str) -> str | None:
    """The text :func:`save_image` kept under ``key`` in a picture's metadata, if any."""
    img = open_image(path, "picture")
    text = img.info.get(key) or getattr(img, "text", {}).get(key)
    if text is None:
        text = img.getexif().get(_EXIF_DESCRIPTION)
    return text or None
