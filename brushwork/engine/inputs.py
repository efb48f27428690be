"""A run's inputs before the optimisation: the checks every front door makes first, the plan of what the run needs
here, and the pictures each level starts from (the photo and the paintings at its size, colour-handled, and the
first level's starting picture)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from PIL import Image

from brushwork.core.errors import ImageError, SettingsError
from brushwork.core.settings import INIT_WORDS, Settings, blend_weights
from brushwork.media import color
from brushwork.media.files import file_sha256
from brushwork.media.images import Picture, load_image, resize_longest, to_tensor
from brushwork.media.masks import ASPECT_SLACK, WHITE_MEANS, RegionFiles, Regions, load_regions, with_paintings_alpha
from brushwork.model.balance import balanced
from brushwork.model.device import emulated_bf16, encoder_for, measure, out_of_memory_worded, pick_device
from brushwork.model.network import VGG19, check_weights_file
from brushwork.planning.levels import check_sizes, painting_longest
from brushwork.planning.machine import Machine
from brushwork.planning.run_plan import RunPlan, plan_run

__all__ = [
    "Loaded",
    "load_inputs",
    "load_picture",
    "check_run",
    "measure_and_plan",
    "run_blend",
    "balance",
    "prepare_inputs",
    "initial_image",
]


@dataclass(frozen=True)
class Loaded:
    """A run's pictures read from their files, each checked: the photo, the paintings and the regions."""

    photo: Picture
    paintings: list[Picture]
    regions: Regions | None


def load_inputs(
    photo: Path,
    paintings: Sequence[Path],
    files: RegionFiles | None,
    settings: Settings,
    names: Sequence[str] | None = None,
) -> Loaded:
    """A picture's run's inputs from their files, what every front door reads first: each refused in one line
    before any work (with :func:`check_run`), and the regions' notes kept for the front door to say. ``names`` are
    what the user calls the photo and the paintings, where not the files' names (the studio's uploads)."""
    shown: Sequence[str | None] = names or [None] * (1 + len(paintings))
    content = load_picture(photo, "photo", shown[0])
    styles = [load_picture(path, "painting", name) for path, name in zip(paintings, shown[1:], strict=True)]
    check_run(settings, len(styles))
    _refuse_pictures_as_masks(photo, paintings, files)
    return Loaded(content, styles, load_regions(files, content.rgb.size, styles, blend=settings.style_blend))


def _refuse_pictures_as_masks(photo: Path, paintings: Sequence[Path], files: RegionFiles | None) -> None:
    """A mask that is the photo or a painting itself, given in the place of one drawn on it, is refused: read by its
    brightness, it would paint a ghost of the picture."""
    pictures = {file_sha256(path): role for role, path in [("photo", photo), *(("painting", p) for p in paintings)]}
    for role, path in files.inputs() if files else ():
        which = pictures.get(file_sha256(path, role))
        if which is not None:
            called = "keep mask" if role == "keep" else role
            drawn = f"white where it is {WHITE_MEANS[called]}, black elsewhere" if called in WHITE_MEANS else ""
            drawn = drawn or "each region in its colour"  # a region map
            raise ImageError(f"{called} {path} is the {which} itself, not a {called} drawn on it: paint one, {drawn}")


def load_picture(path: Path, role: str, name: str | None = None) -> Picture:
    """A picture read from ``path`` under the ``name`` the user knows it by, where not its file's (a server's upload):
    what is said of it names ``clear.png``, not ``style1.png``."""
    picture = load_image(path, role, shown=name)
    return picture if name is None else replace(picture, name=name)


def run_blend(settings: Settings, count: int, regions: Regions | None) -> tuple[float, ...]:
    """How much each painting counts: the settings' blend, or alike where each painting has its own region."""
    if regions is not None and regions.paint is not None:
        return (1.0 / count,) * count
    return tuple(blend_weights(settings, count))


def balance(
    settings: Settings,
    photo: Image.Image,
    styles: Sequence[Picture],
    regions: Regions | None,
    encoder: VGG19,
    device: torch.device,
) -> Settings:
    """The settings with the style weights scaled to this photo and these paintings (see
    :func:`~brushwork.model.balance.balanced`), of the parts of them the run learns from, blended as it blends
    them: a picture's run and a clip's first frame alike."""
    learnt = with_paintings_alpha(regions, styles)
    parts = learnt.sources if learnt is not None else ()
    blend = run_blend(settings, len(styles), learnt)
    return balanced(settings, photo, [p.opaque_rgb for p in styles], blend, encoder, device, parts)


def prepare_inputs(
    content: Picture, styles: Sequence[Picture], settings: Settings, wh: tuple[int, int], device: torch.device
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Content at the level size ``wh`` and paintings at ``style_scale`` times it, colour-handled."""
    c = to_tensor(content.rgb.resize(wh, Image.Resampling.LANCZOS)).to(device)
    out = []
    for style in styles:
        st = to_tensor(resize_longest(style.opaque_rgb, painting_longest(style.rgb.size, wh, settings))).to(device)
        if settings.preserve_color == "histogram":
            st = color.match_color_histogram(st, c)
        elif settings.preserve_color == "luminance":
            st = color.match_luminance(st, c)
        out.append(st)
    if settings.preserve_color == "luminance":
        c = color.luminance(c)
    return c, out


def initial_image(
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    blend: Sequence[float],
    settings: Settings,
    parts: Sequence[torch.Tensor | None] = (),
) -> torch.Tensor:
    """Where the first level starts: the photo, the photo in the paintings' colours (of the part of each that
    ``parts`` says the run learns from), seeded noise, or a file."""
    if settings.init == "content":
        return content.clone()
    if settings.init == "palette":
        return color.recolor_to(content, styles, blend, parts)
    if settings.init == "noise":
        gen = torch.Generator().manual_seed(settings.seed)
        return (torch.rand(content.shape, generator=gen) * 255).to(content.device)
    height, width = content.shape[-2:]
    start = load_image(settings.init, "init image").rgb.resize((width, height), Image.Resampling.LANCZOS)
    return to_tensor(start).to(content.device)


def measure_and_plan(
    content: Picture,
    styles: Sequence[Picture],
    settings: Settings,
    encoder: VGG19 | None = None,
    idle: Machine | None = None,
    notes: Sequence[str] = (),
) -> RunPlan:
    """What a run of these pictures and settings will need here, level by level (see
    :mod:`brushwork.planning.run_plan`).

    Loads the network and times one small step on this machine. A :class:`SettingsError` when even
    tiles cannot fit the free memory: it names the size that would. ``idle``: this machine as measured while
    nothing painted, whose memory the plan takes for now's (the studio paints one job at a time, so a job it
    plans while another paints will have the memory that one leaves when it ends). ``notes``: what was said of
    the run's other inputs (its masks), which the plan says last.
    """
    paintings = [(s.name, s.rgb.size) for s in styles]
    check_sizes(content.rgb.size, paintings, settings)  # a picture too thin or small: refused before the network loads
    device = pick_device(settings.device)
    with out_of_memory_worded():
        encoder = encoder or encoder_for(settings, device)
        machine = measure(settings, device, encoder)
        if idle is not None and idle.device == machine.device:
            machine = replace(machine, free=idle.free, in_use=idle.in_use)
        planned = plan_run(content.rgb.size, paintings, settings, machine)
    own = [*_start_notes(content.rgb.size, settings), *_input_notes(content, styles, settings)]
    if emulated_bf16(settings, device):
        own.append(
            "this CPU has no bf16 instructions (AVX512-BF16 or AMX): bf16 is emulated, often 10-20x slower than "
            "fp32, which precision auto takes here"
        )
    return replace(planned, notes=[*planned.notes, *own, *notes])


def check_run(settings: Settings, paintings: int) -> None:
    """Refuse before any work what a run would refuse only once the network is loaded (the studio's form checks
    only the blend: it takes no file paths; a recipe's rerun checks what it finds):
    no painting, a blend of the wrong length, weights or a start picture that cannot be read; a word that is not
    one of the starts (``Palette``, ``rainbow``) is said not to be one, rather than a missing file."""
    blend_weights(settings, paintings)
    if settings.weights is not None:
        check_weights_file(Path(settings.weights))
    if settings.init in INIT_WORDS:
        return
    start = Path(settings.init)
    if not start.exists() and settings.init.lower() in INIT_WORDS:
        raise SettingsError(f"takes {', '.join(INIT_WORDS)} in small letters, or a picture's path", "init")
    if not start.exists() and not start.suffix and start.name == settings.init:
        raise SettingsError(f"takes {', '.join(INIT_WORDS)} or a picture's path, not {settings.init!r}", "init")
    load_image(settings.init, "init image")


def _input_notes(content: Picture, styles: Sequence[Picture], settings: Settings) -> list[str]:
    """Notes on inputs used otherwise than the user may think: an animated picture's first frame alone; a painting
    without colours, which histogram matching cannot give the photo's."""
    notes = [
        f"{p.name} is animated ({p.frames} frames): only its first frame is used"
        for p in (content, *styles)
        if p.frames > 1
    ]
    if settings.preserve_color == "histogram":
        notes += [
            f"the painting {s.name} has no colours: matching its histogram to the photo's cannot give it the photo's "
            "colours; the luminance colour mode keeps them"
            for s in styles
            if s.colourless
        ]
    return notes


def _start_notes(photo: tuple[int, int], settings: Settings) -> list[str]:
    """A note when a start picture (``--init FILE``) is another shape than the photo: it is stretched to it."""
    if settings.init in INIT_WORDS:
        return []
    start = load_image(settings.init, "init image").rgb
    if abs(start.width / start.height / (photo[0] / photo[1]) - 1) <= ASPECT_SLACK:
        return []
    return [
        f"the start picture {Path(settings.init).name} ({start.width}x{start.height}) is another shape than the "
        f"photo ({photo[0]}x{photo[1]}): it is stretched to it"
    ]
