"""The Python API: one call from file names (or PIL images) to a stylised picture.

    import brushwork
    picture = brushwork.stylize("photo.jpg", "starry_night.jpg", size=384, output="out.png")  # with its recipe

Settings come from ``settings=`` or a named ``preset=`` (not both: one would be lost),
with keyword options (any :class:`~brushwork.core.settings.Settings` field) applied over them.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, Union

import numpy as np
from PIL import Image

from brushwork.batch.inputs import collect
from brushwork.batch.run import BatchProgress, Summary, run_batch
from brushwork.core.errors import BrushworkError, ImageError, OutputExistsError, SettingsError, WrongKindError
from brushwork.core.settings import (
    RAY_RETRIES,
    RAY_SPECS,
    RAY_WORKER_CPUS,
    SPECS,
    VIDEO_SPECS,
    RayOptions,
    Settings,
    VideoSettings,
    not_a_setting,
    resolve,
)
from brushwork.core.words import try_lower, with_article
from brushwork.engine import recipes
from brushwork.engine.inputs import check_run, measure_and_plan
from brushwork.engine.runner import Callback, Result, run
from brushwork.media.files import check_output_path
from brushwork.media.images import Picture, load_image, picture_from_image
from brushwork.media.masks import (
    RegionFiles,
    Regions,
    check_painting_masks,
    masks_of,
    opened,
    refuse_twice,
    regions_with,
    with_paintings_alpha,
)
from brushwork.planning.run_plan import RunPlan

if TYPE_CHECKING:
    from brushwork.video.painting import FrameProgress, VideoResult

__all__ = [
    "stylize",
    "transfer",
    "plan_for",
    "stylize_video",
    "stylize_batch",
    "DivergedError",
    "Interrupted",
    "ImageInput",
]

ImageInput = Union[str, os.PathLike, Image.Image, np.ndarray]
_PACKAGE = os.path.dirname(__file__) + os.sep
"""Where brushwork's own code is: a warning is said at the first line outside it (the user's)."""
_ACCEPTED = "a file path, a PIL image or an HxWx3 uint8 numpy array"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`stylize`: a ``KeyboardInterrupt``, so a script stops as on any Ctrl-C, that carries the
    run so far (``result.image``, the best picture)."""

    def __init__(self, result: Result):
        super().__init__(result.message)
        self.result = result

    def __reduce__(self) -> tuple[type, tuple[Result]]:  # pickled with its run (a process pool, a Ray task)
        return type(self), (self.result,)


class DivergedError(BrushworkError):
    """The loss became NaN; ``result.image`` holds the last good picture, ``result.culprit`` the setting to lower."""

    def __init__(self, result: Result):
        advice = try_lower(result.culprit)
        super().__init__(result.message + advice)
        self.result = result

    def __reduce__(self) -> tuple[type, tuple[Result]]:
        return type(self), (self.result,)


def _picture(source: ImageInput, role: str) -> Picture:
    """A picture from any :data:`ImageInput`; anything else is a TypeError naming the parameter (``role``)."""
    if isinstance(source, Image.Image):
        try:
            source.load()  # a closed image raises here, not from deep inside the run
        except ValueError:
            raise ImageError(f"{role} is a closed PIL image; open it again, or give its path") from None
        except OSError as exc:  # a file Pillow opened lazily, cut short
            raise ImageError(f"{role} image cannot be read ({exc}); give a whole picture") from None
        return picture_from_image(source, f"<{role} image>")
    if isinstance(source, np.ndarray):
        grey_or_colour = source.ndim == 2 or (source.ndim == 3 and source.shape[2] in (3, 4))
        if source.dtype != np.uint8 or not grey_or_colour:
            given = f"{with_article(str(source.dtype))} array of {source.shape}"
            raise TypeError(f"{role} must be {_ACCEPTED} (or HxW, HxWx4), not {given}")
        return picture_from_image(Image.fromarray(source), f"<{role} array>")
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"{role} must be {_ACCEPTED}, not {type(source).__name__}")
    try:
        return load_image(source, role)
    except WrongKindError as exc:
        raise WrongKindError(f"{exc}; paint a clip with brushwork.stylize_video()", exc.clip) from None


def _styles(style: ImageInput | Sequence[ImageInput]) -> list[Picture]:
    return [_picture(s, "style") for s in _paintings_given(style)]


def _paintings_given(style: ImageInput | Sequence[ImageInput]) -> list[ImageInput]:
    """One painting or several, as a list; anything else is a TypeError."""
    if isinstance(style, (str, os.PathLike, Image.Image, np.ndarray)):
        return [style]
    if not isinstance(style, (list, tuple)):
        raise TypeError(f"style must be {_ACCEPTED}, or a list of them, not {type(style).__name__}")
    return list(style)


def _mask_images(masks: Sequence[ImageInput], role: str) -> list[tuple[Image.Image, str]]:
    """Masks as :func:`_mask_image` reads them, one given in memory called by its place in the list."""
    images = [_mask_image(m, f"{role} {i + 1}") for i, m in enumerate(masks)]
    return [(image, name or str(i + 1)) for i, (image, name) in enumerate(images)]


def _mask_image(source: ImageInput, role: str) -> tuple[Image.Image, str]:
    """A mask from a file, a PIL image or a numpy array (HxW or HxWx1: uint8 0-255, bool, or floats 0-1), and its
    name in what is said (a file's name; none for one given in memory)."""
    if isinstance(source, np.ndarray):
        source = _mask_array(source, role)
    if isinstance(source, Image.Image):
        return source, ""
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"{role} must be a file path, a PIL image or a numpy array (HxW), not {type(source).__name__}")
    return opened(source, role)


def _mask_array(source: np.ndarray, role: str) -> Image.Image:
    """A mask array as a greyscale picture: uint8 as it is, bool as black and white, other numbers read as 0-1
    (refused outside it, so that 0-255 floats are not cut to white without a word)."""
    grey = source[..., 0] if source.ndim == 3 and source.shape[2] == 1 else source
    if grey.ndim == 3 and grey.shape[2] in (3, 4) and grey.dtype == np.uint8:
        return _picture(grey, role).rgb
    if grey.ndim != 2 or not (np.issubdtype(grey.dtype, np.number) or grey.dtype == np.bool_):
        given = f"{with_article(str(grey.dtype))} array of {source.shape}"
        raise TypeError(f"{role} must be an HxW array (or HxWx1, or uint8 HxWx3), not {given}")
    if grey.dtype == np.uint8:
        return Image.fromarray(grey, "L")
    values = grey.astype(np.float32)
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise ImageError(f"{role} holds values outside 0-1 (or NaN); give floats from 0 to 1, or uint8 from 0 to 255")
    return Image.fromarray((values * 255).round().astype(np.uint8), "L")


def _regions(
    size: tuple[int, int],
    paintings: Sequence[Picture],
    masks: Sequence[ImageInput] | None,
    keep: ImageInput | None,
    painting_masks: Sequence[ImageInput] | None = None,
    blend: Sequence[float] | None = None,
    warn: bool = True,
    on: str = "photo",
) -> Regions | None:
    """The checked regions of a run on a picture of ``(width, height)`` (see :mod:`brushwork.media.masks`), or
    None for none, a painting with nothing opaque to learn from refused as the run would. What was done to a mask
    (a resize) is said as a warning."""
    if masks is None and keep is None and painting_masks is None:
        with_paintings_alpha(None, paintings)
        return None
    for name, given in (("masks", masks), ("painting_masks", painting_masks)):
        if given is not None and not isinstance(given, (list, tuple)):
            raise TypeError(f"{name} must be a list (one mask per painting), not {type(given).__name__}")
    refuse_twice([Path(m) for m in masks or [] if isinstance(m, (str, os.PathLike))])
    notes: list[str] = []
    arrays, names = None, []
    if masks is not None:
        images = _mask_images(masks, "mask")
        arrays, names = masks_of(images, size, notes, on=on), [name for _, name in images]
    if painting_masks:  # before reading any of them
        check_painting_masks(len(painting_masks), len(paintings))
    own = _mask_images(painting_masks or [], "painting mask")
    kept = None if keep is None else _mask_image(keep, "keep mask")
    regions = regions_with(size, [p.rgb.size for p in paintings], arrays, names, kept, own, notes, on, blend)
    with_paintings_alpha(regions, paintings)  # only to refuse now: the run takes the paintings' alpha itself
    for note in regions.notes if warn else ():
        _warn(note)
    return regions


def _as_files(
    why: str,
    pictures: Sequence[ImageInput],
    masks: Sequence[ImageInput] | None,
    keep: ImageInput | None,
    painting_masks: Sequence[ImageInput] | None,
) -> tuple[list[Path], RegionFiles]:
    """The ``pictures`` (a photo, paintings) and the masks as files, refused in one line saying ``why`` they must
    be files where one is a picture in memory: a recipe hashes them, a Ray worker on another machine reads them."""
    given = [*pictures, *(masks or []), *([keep] if keep is not None else []), *(painting_masks or [])]
    if not all(isinstance(g, (str, os.PathLike)) for g in given):
        raise ImageError(f"{why}: give their paths, not pictures in memory")
    paths = iter(Path(g) for g in given)  # type: ignore[arg-type]  # all paths, as checked
    files = [next(paths) for _ in pictures]
    painted = tuple(next(paths) for _ in masks or [])
    kept = next(paths) if keep is not None else None
    return files, RegionFiles(painted, keep=kept, painting_masks=tuple(paths))


_REGION_MAP_WORDS = ("regions", "region", "region_map")
"""The command line's region map, which Python takes as masks, each from the map's colour."""


def _resolved(settings: Settings | None, preset: str | None, options: dict[str, Any]) -> Settings:
    """The run's settings (see :func:`~brushwork.core.settings.resolve`); a region map asked for as the command line
    takes it is told how Python takes it."""
    for name in _REGION_MAP_WORDS:
        if name in options:
            raise TypeError(
                f"{name}= is not a keyword: give masks=[...], one per painting (white where it paints), e.g. from a "
                "colour-coded map: brushwork.media.masks.masks_from_map(path, [(0, 0, 255), ...], photo_size, [])"
            )
    return resolve(settings, preset, **options)


def _path(value: object, name: str) -> Path:
    """``value`` as a path; anything else is a TypeError naming the parameter."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), not {type(value).__name__}")
    return Path(value)


def plan_for(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    *,
    settings: Settings | None = None,
    preset: str | None = None,
    masks: Sequence[ImageInput] | None = None,
    keep: ImageInput | None = None,
    painting_masks: Sequence[ImageInput] | None = None,
    **options: Any,
) -> RunPlan:
    """The plan of a run, without running it: levels, whole or tiled, estimated memory and time here.

    ``print(brushwork.plan_for("photo.jpg", "painting.jpg", size=4096).describe())``. Raises
    :class:`~brushwork.core.errors.SettingsError` when the run cannot fit this machine's free memory. The
    regions (as :func:`transfer`'s) are checked as a run would check them; what was done to them is in the notes.
    """
    chosen = _resolved(settings, preset, options)
    photo, paintings = _picture(content, "content"), _styles(style)
    _check_run(chosen, paintings, None)
    regions = _regions(photo.rgb.size, paintings, masks, keep, painting_masks, chosen.style_blend, warn=False)
    return measure_and_plan(photo, paintings, chosen, notes=regions.notes if regions is not None else ())


def _check_run(settings: Settings, paintings: Sequence[Picture], progress: object) -> None:
    """Refuse before any work what a run would refuse only once the network is loaded: no painting, a blend of
    the wrong length, a start picture that is missing, a progress that cannot be called, or ``save_every`` (the
    command line's snapshots: in Python, ``progress`` sees every step's picture)."""
    check_run(settings, len(paintings))
    _check_progress(progress)
    if settings.save_every:
        raise SettingsError(
            "is the command line's --save-every; in Python, progress= sees each step's picture", "save_every"
        )


def transfer(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    *,
    settings: Settings | None = None,
    preset: str | None = None,
    progress: Callback | None = None,
    masks: Sequence[ImageInput] | None = None,
    keep: ImageInput | None = None,
    painting_masks: Sequence[ImageInput] | None = None,
    **options: Any,
) -> Result:
    """Run style transfer and return the full :class:`~brushwork.engine.runner.Result` (status, losses, history).

    ``masks`` (one per painting: white where it applies) and ``keep`` (a region kept as the photo) are as
    the command line's ``--masks`` and ``--keep``: files, PIL images or arrays the photo's shape.
    ``painting_masks`` (one per painting, its shape) pick the part of each painting to learn from, as
    ``--painting-masks``.
    """
    chosen = _resolved(settings, preset, options)
    photo, paintings = _picture(content, "content"), _styles(style)
    _check_run(chosen, paintings, progress)
    regions = _regions(photo.rgb.size, paintings, masks, keep, painting_masks, chosen.style_blend)
    return run(photo, paintings, chosen, callback=progress, regions=regions)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _replacing_said(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """A function whose output exists says, in Python's words, how to replace it."""

    @functools.wraps(function)
    def said(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except OutputExistsError as exc:
            exc.args = (f"{exc} or pass overwrite=True",)
            raise

    return said


@_replacing_said
def stylize(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    *,
    settings: Settings | None = None,
    preset: str | None = None,
    progress: Callback | None = None,
    masks: Sequence[ImageInput] | None = None,
    keep: ImageInput | None = None,
    painting_masks: Sequence[ImageInput] | None = None,
    output: str | os.PathLike | None = None,
    overwrite: bool = False,
    **options: Any,
) -> Image.Image:
    """Repaint ``content`` in the style of ``style`` (one image or several) and return the picture.

    ``options`` are :class:`~brushwork.core.settings.Settings` fields (``size=``, ``style_weight=`` ...).
    ``progress`` is called after every step; returning ``False`` stops early with the picture so far.
    ``masks``, ``keep`` and ``painting_masks`` paint a painting per region (see :func:`transfer`).
    ``output`` also writes the picture there with its recipe, as the command line does (the inputs must then
    be files, whose hashes the recipe holds; an existing file is replaced only with ``overwrite``, and a
    run stopped early goes beside it, with a warning that says where). Raises :class:`DivergedError` if the loss
    turns NaN (after writing the last good picture to ``output``), and :class:`Interrupted`, a ``KeyboardInterrupt``
    that carries the run so far, on Ctrl-C (once the picture so far is written; :func:`transfer` returns the run
    instead, its status ``interrupted``).
    """
    if output is not None:
        _check_overwrite(overwrite)
        why = "output= writes the recipe, which hashes the photo, the paintings and the masks"
        (photo_file, *painting_files), region_files = _as_files(
            why, [content, *_paintings_given(style)], masks, keep, painting_masks
        )
        chosen = _resolved(settings, preset, options)
        files = recipes.input_files(chosen, photo_file, painting_files, region_files)
        target = check_output_path(output, overwrite, files)
    result = transfer(
        content,
        style,
        settings=settings,
        preset=preset,
        progress=progress,
        masks=masks,
        keep=keep,
        painting_masks=painting_masks,
        **options,
    )
    if output is not None:
        recipe = recipes.build(chosen, photo_file, painting_files, result, regions=region_files)
        written = recipes.save_run(result, target, recipe, overwrite)
        if written != target:
            _warn(
                f"{result.status} at step {result.steps}: the picture so far is {written}; {target} was kept as it was"
            )
    if result.status == "interrupted":  # a script's loop stops, as on any Ctrl-C
        raise Interrupted(result)
    if result.status == "diverged":
        raise DivergedError(result)
    image = result.image
    if result.alpha is not None:
        image = image.copy()
        image.putalpha(result.alpha.resize(image.size, Image.Resampling.LANCZOS))
    return image


@_replacing_said
def stylize_video(
    clip: str | os.PathLike,
    style: ImageInput | Sequence[ImageInput],
    output: str | os.PathLike,
    *,
    settings: Settings | None = None,
    preset: str | None = None,
    video: VideoSettings | None = None,
    progress: Callable[[FrameProgress], bool | None] | None = None,
    overwrite: bool = False,
    ray: str | None = None,
    workers: int | None = None,
    worker_cpus: int = RAY_WORKER_CPUS,
    retries: int = RAY_RETRIES,
    segment_frames: int | None = None,
    masks: Sequence[ImageInput] | None = None,
    keep: ImageInput | None = None,
    painting_masks: Sequence[ImageInput] | None = None,
    **options: Any,
) -> VideoResult:
    """Paint a clip into ``output`` (an ``.mp4``, ``.mov``, ``.mkv`` or ``.m4v``), its sound copied unchanged.

    ``options`` are :class:`~brushwork.core.settings.Settings` fields and
    :class:`~brushwork.core.settings.VideoSettings`
    fields (``start=``, ``end=``, ``temporal_weight=``, ``later_steps=``). Finished frames are kept in
    ``OUTPUT.frames/``; after an interruption (``result.status``) the same call goes on from them. A frame
    whose loss turns NaN ends the clip with status ``diverged``, its ``message`` and ``culprit`` (the setting to lower).
    ``progress`` is called after each frame (with ``ray``, each segment); returning ``False`` stops.
    ``ray`` (``"local"``, ``"auto"`` or ``"HOST:PORT"``) paints segments of ``segment_frames`` frames (default:
    shared out evenly) in parallel on Ray workers (see :mod:`brushwork.cluster`; ``workers``, ``worker_cpus`` and
    ``retries`` as :class:`~brushwork.core.settings.RayOptions` says); ``style`` must then be files.
    ``masks`` and ``keep`` (as :func:`transfer`'s, drawn on the clip as a player shows it) hold for every frame,
    and ``painting_masks`` as :func:`transfer`'s; on Ray they too must be files.
    """
    from brushwork.core.formats import CLIP_OUTPUT_SUFFIXES
    from brushwork.media.clips import probe  # PyAV and OpenCV load only for clips
    from brushwork.video.painting import paint_clip

    # 1. The settings, the Ray options and the output, before the clip is read.
    chosen, motion = _clip_settings(settings, preset, video, options)
    spread = _ray_options(ray, workers, worker_cpus, retries, segment_frames)
    _check_overwrite(overwrite)
    path = check_output_path(_path(output, "output"), overwrite, (_path(clip, "clip"),), suffixes=CLIP_OUTPUT_SUFFIXES)
    # 2. The clip, the paintings and the regions.
    try:
        info = probe(_path(clip, "clip"))
    except WrongKindError as exc:
        raise WrongKindError(f"{exc}; paint it with brushwork.stylize()", exc.clip) from None
    styles = _styles(style)
    _check_run(chosen, styles, progress)
    if info.damage:
        _warn(info.warning())
    regions = _regions(info.upright, styles, masks, keep, painting_masks, chosen.style_blend, on="frame")
    # 3. Painted here, or in segments on Ray.
    if ray is None:
        return paint_clip(info, styles, chosen, motion, path, callback=progress, overwrite=overwrite, regions=regions)
    from brushwork.cluster import paint_clip_on_ray

    files = _as_files(
        "on Ray the paintings and masks travel as files", _paintings_given(style), masks, keep, painting_masks
    )
    return paint_clip_on_ray(
        info, styles, chosen, motion, path, files, ray, spread, regions=regions, callback=progress, overwrite=overwrite
    )


def _clip_settings(
    settings: Settings | None, preset: str | None, video: VideoSettings | None, options: dict[str, Any]
) -> tuple[Settings, VideoSettings]:
    """A clip's :class:`Settings` and :class:`VideoSettings` from the keywords (either kind), over ``settings`` or
    ``preset`` and ``video``; a name of neither kind, and ``save_every``, are refused."""
    known = [name for name in (*SPECS, *VIDEO_SPECS) if name != "save_every"]
    unknown = [
        name for name in options if name not in known and name not in _REGION_MAP_WORDS
    ]  # a region map: said below
    if unknown:
        listed = f"the settings are: {', '.join(n for n in SPECS if n != 'save_every')}; and for a clip: "
        raise not_a_setting(unknown[0], known, listed + ", ".join(VIDEO_SPECS))
    picture = {k: v for k, v in options.items() if k not in VIDEO_SPECS}
    chosen = _resolved(settings, preset, picture)
    if video is not None and not isinstance(video, VideoSettings):
        raise TypeError(f"video must be a brushwork.VideoSettings or None, not {type(video).__name__}")
    if chosen.save_every:
        raise SettingsError(
            "does not apply to a clip: its frames are kept as they finish, in OUTPUT.frames/", "save_every"
        )
    motion = replace(video or VideoSettings(), **{k: v for k, v in options.items() if k in VIDEO_SPECS})
    return chosen, motion


def _warn(message: str) -> None:
    """Warn at the line that called the API (the user's), however deep inside brushwork it is said."""
    level, frame = 2, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, stacklevel=level)


def _check_overwrite(overwrite: object) -> None:
    """``overwrite`` replaces work: only ``True`` may (a string such as ``"no"`` is not a yes)."""
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False, not {overwrite!r}")


def _check_progress(progress: object) -> None:
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a function (or None), not {type(progress).__name__}")


def _ray_options(
    ray: str | None, workers: int | None, worker_cpus: int, retries: int, segment_frames: int | None = None
) -> RayOptions:
    """The Ray options, checked against their specs (a :class:`SettingsError` naming the one out of bounds); refused
    without Ray, where they would do nothing."""
    options, default = RayOptions(workers, worker_cpus, retries, segment_frames), RayOptions()
    given = [name for name in RAY_SPECS if getattr(options, name) != getattr(default, name)]
    if ray is None and given:
        raise ValueError(
            f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} for painting on Ray: give ray='local' too"
        )
    return options


@_replacing_said
def stylize_batch(
    photos: str | os.PathLike | Sequence[str | os.PathLike],
    styles: str | os.PathLike | Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    manifest: str | os.PathLike | None = None,
    settings: Settings | None = None,
    preset: str | None = None,
    progress: Callable[[BatchProgress], bool | None] | None = None,
    ray: str | None = None,
    workers: int | None = None,
    worker_cpus: int = RAY_WORKER_CPUS,
    retries: int = RAY_RETRIES,
    overwrite: bool = False,
    **options: Any,
) -> Summary:
    """Paint every photo with every painting (or the pairs ``manifest`` lists) into ``outdir``, resumably.

    ``photos`` and ``styles`` are files, folders or globs (give ``()`` for both with a manifest). Each picture
    is ``OUTDIR/{photo}__{painting}.png`` with its recipe; ``OUTDIR/batch.jsonl`` logs every item, and the
    same call again skips the items painted from the same inputs and settings. A bad input fails its item
    alone (``summary.failures``); ``progress`` is called before the first item and after each, and returning
    ``False`` stops (before any item, when it is the first call). A picture
    an earlier batch painted from other inputs or settings is replaced only with ``overwrite``.
    ``ray`` (``"local"``, ``"auto"`` or ``"HOST:PORT"``) paints on Ray workers instead (see
    :mod:`brushwork.cluster`): ``workers`` of them (default: one per GPU, else one per ``worker_cpus`` cores), an
    item whose worker dies going to a fresh one up to ``retries`` times.
    """

    def paths_of(given: str | os.PathLike | Sequence[str | os.PathLike], name: str) -> list[str | os.PathLike]:
        if isinstance(given, (str, os.PathLike)):
            return [given]
        if not isinstance(given, (list, tuple)):
            kind = type(given).__name__
            raise TypeError(f"{name} must be a path (file, folder or glob) or a list of them, not {kind}")
        return [_path(path, name) for path in given]

    chosen = _resolved(settings, preset, options)
    spread = _ray_options(ray, workers, worker_cpus, retries)
    _check_progress(progress)
    _check_overwrite(overwrite)
    place = None if manifest is None else _path(manifest, "manifest")
    try:
        items = collect(paths_of(photos, "photos"), paths_of(styles, "styles"), _path(outdir, "outdir"), place, _warn)
    except WrongKindError as exc:
        raise WrongKindError(f"{exc}; paint a clip with brushwork.stylize_video()", exc.clip) from None
    execute = None
    if ray is not None:
        from brushwork.cluster import RayExecutor

        execute = RayExecutor(ray, spread)
    summary = run_batch(items, chosen, outdir, execute=execute, callback=progress, overwrite=overwrite)
    for record in summary.records:
        for note in record.notes:
            _warn(f"{Path(record.output).name}: {note}")
    return summary
