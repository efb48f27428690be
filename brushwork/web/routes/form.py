"""The job form that ``/api/jobs`` and ``/api/plan`` read: its fields, and a filled one turned into a planned job.

The fields are the pictures (uploads or bundled examples) and one per studio setting
(:func:`brushwork.web.forms.form_parameters`); FastAPI reads them from the endpoint's signature, which
:func:`reads_form` writes. A filled form is checked in two steps: :func:`read_form` before any file is kept,
then :func:`take` keeps the pictures (or clip) in the job's folder and plans the run, refusing one that
cannot fit.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

from fastapi import File, Form, HTTPException, UploadFile

from brushwork.core.settings import Settings, VideoSettings, blend_weights, resolve
from brushwork.engine.runner import measure_and_plan
from brushwork.media.clips import ClipInfo
from brushwork.media.images import load_image
from brushwork.video.painting import plan_clip
from brushwork.web.examples import Example, Examples
from brushwork.web.forms import STUDIO_VIDEO_SETTINGS, form_parameters
from brushwork.web.intake import check_clip, check_photo_shape, store_example, store_upload
from brushwork.web.studio import Studio

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
PICTURES = ("content", "styles", "content_example", "style_examples")
"""The form's picture fields; every other field is a setting."""


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


@dataclass(frozen=True)
class Taken:
    """A job's pictures kept in its folder, and its run planned."""

    video: dict[str, Any]
    """A clip's video settings; empty for a picture."""
    inputs: list[dict[str, str]]
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
    ]
    keyword = inspect.Parameter.KEYWORD_ONLY
    return [
        *(inspect.Parameter(name, keyword, default=None, annotation=kind) for name, kind in pictures),
        *form_parameters(studio.limits),
    ]


def read_form(studio: Studio, fields: dict[str, Any]) -> Order:
    """Check a filled form's settings and choice of pictures, before any file is kept."""
    options = dict(fields)
    content, styles, content_example, style_examples = (options.pop(name) for name in PICTURES)
    video = VideoSettings(**{name: options.pop(name) for name in STUDIO_VIDEO_SETTINGS})
    settings = resolve(**options)
    uploads = [s for s in styles or [] if s.filename or s.size]
    named = [n for n in style_examples or [] if n]
    count = len(uploads) + len(named)
    has_upload = content is not None and bool(content.filename or content.size)
    if has_upload == bool(content_example):
        raise HTTPException(422, "give one photograph: upload one or choose an example")
    if not 1 <= count <= studio.limits.max_styles:
        raise HTTPException(422, f"give between 1 and {studio.limits.max_styles} paintings, not {count}")
    blend_weights(settings, count)
    photo = _chosen(studio.examples, "content", content_example) if content_example else None
    paintings = [_chosen(studio.examples, "style", n) for n in named]
    return Order(settings, video, None if photo else content, photo, uploads, paintings)


def _chosen(examples: Examples, role: str, name: str) -> Example:
    """The example a form names, or a 422 listing those there are."""
    example = examples.get(role, name)
    if example is None:
        known = ", ".join(examples.names(role)) or "none in this installation"
        raise HTTPException(422, f"no {role} example called {name!r}; choose one of: {known}")
    return example


def take(studio: Studio, order: Order, folder: Path) -> Taken:
    """Keep an order's pictures in the job's ``folder`` and plan its run; a run that cannot fit is refused here."""
    photo, clip = _keep_photo(studio, order, folder)
    inputs = [photo, *_keep_paintings(studio, order, folder)]
    looks = [load_image(folder / item["file"], "style") for item in inputs[1:]]
    if clip is not None:
        plan = plan_clip(clip, looks, order.settings, order.video).describe()
    else:
        plan = measure_and_plan(load_image(folder / photo["file"], "content"), looks, order.settings).describe()
    return Taken(order.video.to_dict() if clip else {}, inputs, plan)


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
