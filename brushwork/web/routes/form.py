"""The job form that ``/api/jobs`` and ``/api/plan`` read: its fields, and a filled one turned into a planned job.

The fields are the pictures (uploads or bundled examples), a photo's optional region masks (one per painting,
and a keep mask), the paintings' optional masks of the part to learn from (see :mod:`brushwork.media.masks`),
and one per studio setting
(:func:`brushwork.web.forms.form_parameters`); FastAPI reads them from the endpoint's signature, which
:func:`reads_form` writes. A filled form is checked in two steps: :func:`read_form` before any file is kept,
then :func:`take` keeps the pictures (or clip) and masks in the job's folder, checks the masks and plans the
run, refusing one that cannot fit.
"""

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, File, Form, HTTPException, Request, UploadFile

from brushwork.core.settings import Settings, VideoSettings, blend_weights, resolve
from brushwork.engine.inputs import load_picture, measure_and_plan
from brushwork.media.clips import ClipInfo
from brushwork.video.painting import plan_clip
from brushwork.web.examples import Example, Examples
from brushwork.web.forms import STUDIO_VIDEO_SETTINGS, form_parameters
from brushwork.web.intake import (
    check_clip,
    check_photo_shape,
    check_regions,
    store_example,
    store_upload,
)
from brushwork.web.studio import Studio

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
PICTURES = ("content", "styles", "content_example", "style_examples", "masks", "keep", "painting_masks")
"""The form's picture (and mask) fields; every other field is a setting."""
CLIP_REGIONS = "regions are painted on a photo, not a clip: leave the masks out, or paint a frame of it as a photo"


@dataclass(frozen=True)
class Order:
    """A filled form, checked before any file is kept: its settings, and its pictures by upload or example."""

    settings: Settings
    video: VideoSettings
    content: UploadFile | None
    """The uploaded photo or clip, unless ``photo`` names an example."""
    photo: Example | None
    uploads: list[UploadFile]
    paintings: list[Example]
    masks: list[UploadFile]
    """One per painting (uploads first, then examples), or none."""
    keep: UploadFile | None
    painting_masks: list[UploadFile]
    """One per painting (in the same order as ``masks``), or none."""


@dataclass(frozen=True)
class Taken:
    """A job's pictures kept in its folder, and its run planned."""

    video: dict[str, Any]
    """A clip's video settings; empty for a picture."""
    inputs: list[dict[str, str]]
    """The photo's and paintings' records, then the masks' (see :attr:`brushwork.web.store.Job.inputs`)."""
    plan: str


def reads_form(studio: Studio) -> Callable[[Endpoint], Endpoint]:
    """Decorate an endpoint taking ``**fields`` so that FastAPI reads the job form into them, within this studio's
    limits; its other parameters and its return annotation stay."""
    fields = _fields(studio)

    def attach(endpoint: Endpoint) -> Endpoint:
        own = inspect.signature(endpoint)
        kept = [p for p in own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        setattr(endpoint, "__signature__", own.replace(parameters=[*kept, *fields]))  # noqa: B010
        return endpoint

    return attach


def _fields(studio: Studio) -> list[inspect.Parameter]:
    """The form's fields as keyword parameters: the pictures, then the settings."""
    names = studio.examples.names
    pictures: list[tuple[str, Any]] = [
        ("content", Annotated[UploadFile | None, File(description="The photo to repaint, or a short video clip.")]),
        ("styles", Annotated[list[UploadFile] | None, File(description="One or more paintings.")]),
        (
            "content_example",
            Annotated[
                str | None,
                Form(
                    description="A bundled photo instead of an upload (see /api/examples).",
                    examples=names("content")[:1],
                ),
            ],
        ),
        (
            "style_examples",
            Annotated[
                list[str] | None,
                Form(description="Bundled paintings instead of uploads.", examples=[names("style")[:1]]),
            ],
        ),
        (
            "masks",
            Annotated[
                list[UploadFile] | None,
                File(
                    description="A photo's regions: one mask per painting (uploads first, then examples), the "
                    "photo's shape, white where that painting applies; where no mask reaches, the photo is kept."
                ),
            ],
        ),
        (
            "keep",
            Annotated[UploadFile | None, File(description="A mask of what stays close to the photo (a face).")],
        ),
        (
            "painting_masks",
            Annotated[
                list[UploadFile] | None,
                File(
                    description="The part of each painting to learn from: one mask per painting (in the order of "
                    "`masks`), that painting's shape, white where it is learnt from (all white: all of it)."
                ),
            ],
        ),
    ]
    keyword = inspect.Parameter.KEYWORD_ONLY
    return [
        *(inspect.Parameter(name, keyword, default=None, annotation=kind) for name, kind in pictures),
        *form_parameters(studio.limits),
    ]


def checks_form(studio: Studio) -> Any:
    """A dependency of the routes that read the job form: a body that is no form (JSON) is refused saying so, and a
    field the form has not (a typo, ``preset``) is refused naming it, not painted at its default."""
    known = [*PICTURES, *(p.name for p in form_parameters(studio.limits))]

    async def check(request: Request) -> None:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()  # media types ignore case
        if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
            raise HTTPException(
                415, f"send the job as a form (multipart/form-data), not {kind or 'an empty body'}: see /docs"
            )
        unknown = sorted(set((await request.form()).keys()) - set(known))
        if unknown:
            near = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; the fields are: {', '.join(known)}"
            raise HTTPException(422, f"the form has no field {unknown[0]!r}{hint}")

    return Depends(check)


def read_form(studio: Studio, fields: dict[str, Any]) -> Order:
    """Check a filled form's settings and choice of pictures, before any file is kept."""
    options = dict(fields)
    content, styles, content_example, style_examples, masks, keep, parts = (options.pop(name) for name in PICTURES)
    video = VideoSettings(**{name: options.pop(name) for name in STUDIO_VIDEO_SETTINGS})
    settings = resolve(**options)
    uploads = [s for s in styles or [] if _given(s)]
    named = [n for n in style_examples or [] if n]
    count = len(uploads) + len(named)
    has_upload = _given(content) is not None
    if has_upload == bool(content_example):
        raise HTTPException(422, "give one photograph: upload one or choose an example")
    if not 1 <= count <= studio.limits.max_styles:
        raise HTTPException(422, f"give between 1 and {studio.limits.max_styles} paintings, not {count}")
    blend_weights(settings, count)
    photo = _chosen(studio.examples, "content", content_example) if content_example else None
    paintings = [_chosen(studio.examples, "style", n) for n in named]
    masks = [m for m in masks or [] if _given(m)]
    parts = [m for m in parts or [] if _given(m)]
    return Order(settings, video, None if photo else content, photo, uploads, paintings, masks, _given(keep), parts)


def _given(upload: UploadFile | None) -> UploadFile | None:
    """The upload, unless the field was sent empty (a browser sends a file input with nothing chosen so)."""
    return upload if upload is not None and (upload.filename or upload.size) else None


def _chosen(examples: Examples, role: str, name: str) -> Example:
    """The example a form names, or a 422 listing those there are."""
    example = examples.get(role, name)
    if example is None:
        known = ", ".join(examples.names(role)) or "none in this installation"
        raise HTTPException(422, f"no {role} example called {name!r}; choose one of: {known}")
    return example


def take(studio: Studio, order: Order, folder: Path) -> Taken:
    """Keep an order's pictures and masks in the job's ``folder``, check the masks and plan its run (for the
    memory it will have once the job painting now, if any, has ended); a run that cannot fit is refused here."""
    photo, clip = _keep_photo(studio, order, folder)
    if clip is not None and (order.masks or order.keep or order.painting_masks):
        raise HTTPException(422, CLIP_REGIONS)
    paintings = _keep_paintings(studio, order, folder)
    masks = _keep_masks(studio, order, folder)
    looks = [load_picture(folder / item["file"], "painting", item["name"]) for item in paintings]
    idle = studio.idle.for_plan(studio.jobs)
    if clip is not None:
        clip_plan = plan_clip(clip, looks, order.settings, order.video, idle=idle)
        machine, plan = clip_plan.first.machine, clip_plan.describe()
        plan += f"\n  note: {clip.warning(photo['name'])}" if clip.damage else ""  # a cut-off upload: what it holds
    else:
        content = load_picture(folder / photo["file"], "photo", photo["name"])
        notes = check_regions(folder, masks, content.rgb.size, looks, order.settings.style_blend)
        planned = measure_and_plan(content, looks, order.settings, idle=idle, notes=notes)
        machine, plan = planned.machine, planned.describe()
    if idle is None:
        studio.idle.measured(machine, studio.jobs)
    return Taken(order.video.to_dict() if clip else {}, [photo, *paintings, *masks], plan)


def _keep_photo(studio: Studio, order: Order, folder: Path) -> tuple[dict[str, str], ClipInfo | None]:
    """Keep the photo (or clip) and check that it can be painted; gives its input record, and the clip if one."""
    limits = studio.limits
    if order.photo:
        item = store_example(order.photo, folder, "content")
    else:
        item = store_upload(cast(UploadFile, order.content), folder, "content", "content", limits, clips=True)
    first = folder / item["file"]
    if item.get("kind"):
        return item, check_clip(first, item["name"], order.settings, order.video, limits)
    check_photo_shape(first, limits.max_size, order.settings)
    return item, None


def _keep_paintings(studio: Studio, order: Order, folder: Path) -> list[dict[str, str]]:
    """Keep the paintings, uploads first, numbered from 1 (``style1``, ``style2``...)."""
    uploads = [store_upload(u, folder, f"style{i}", "style", studio.limits) for i, u in enumerate(order.uploads, 1)]
    chosen = [store_example(e, folder, f"style{i}") for i, e in enumerate(order.paintings, len(uploads) + 1)]
    return uploads + chosen


def _keep_masks(studio: Studio, order: Order, folder: Path) -> list[dict[str, str]]:
    """Keep the masks as pictures (``mask1``, ``mask2``... in the paintings' order, then ``keep``, then the
    paintings' ``part1``, ``part2``...); what they hold is checked once the pictures' sizes are known
    (:func:`brushwork.web.intake.check_regions`)."""
    limits = studio.limits
    kept = [store_upload(m, folder, f"mask{i}", "mask", limits) for i, m in enumerate(order.masks, 1)]
    kept += [store_upload(order.keep, folder, "keep", "keep", limits)] if order.keep else []
    parts = enumerate(order.painting_masks, 1)
    return kept + [store_upload(m, folder, f"part{i}", "painting mask", limits) for i, m in parts]
