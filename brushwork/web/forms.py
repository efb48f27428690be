"""The studio's settings form, built from the settings' specs: form fields, page controls, error words.

Every setting the studio offers (``Spec.studio``) becomes a form field with the spec's type,
bounds and choices; ``/api/config`` hands the same specs to the page, which builds its
controls from them; and a refusal names the setting by the label the page shows.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Literal, Optional

from fastapi import Form

from brushwork.core.errors import SettingsError
from brushwork.core.settings import SPECS, VIDEO_SPECS, Settings, Spec, VideoSettings
from brushwork.web.limits import Limits

__all__ = [
    "STUDIO_SETTINGS",
    "STUDIO_VIDEO_SETTINGS",
    "form_parameters",
    "page_options",
    "label",
    "in_page_words",
    "settings_problem",
    "studio_highs",
]

STUDIO_SETTINGS = tuple(name for name, spec in SPECS.items() if spec.studio)
"""The settings a studio job may set, in the order of :class:`~brushwork.core.settings.Settings`."""
STUDIO_VIDEO_SETTINGS = tuple(name for name, spec in VIDEO_SPECS.items() if spec.studio)
"""What a clip's job may set besides (:class:`~brushwork.core.settings.VideoSettings`)."""


def studio_highs(limits: Limits) -> dict[str, int]:
    """The settings the studio holds lower than brushwork does, and how high it lets them go."""
    return {"size": limits.max_size, "steps": limits.max_steps}


def _limited(name: str, spec: Spec, limits: Limits) -> Spec:
    """The spec with the studio's own, tighter limits on size and steps."""
    high = studio_highs(limits).get(name)
    if high is None:
        return spec
    return Spec(**{**spec.__dict__, "high": min(high, spec.high or high)})


def _annotation(spec: Spec) -> Any:
    bounds: dict[str, Any] = {}
    if spec.low is not None:
        bounds["gt" if spec.above else "ge"] = spec.low
    if spec.high is not None:
        bounds["le"] = spec.high
    description = f"{spec.label}: {spec.help}."
    if spec.kind == "int":
        kind_int: Any = Optional[int] if spec.optional else int
        return Annotated[kind_int, Form(description=description, **bounds)]
    if spec.kind == "float":
        kind: Any = Optional[float] if spec.optional else float
        return Annotated[kind, Form(description=description, allow_inf_nan=False, **bounds)]
    if spec.kind == "floats":
        return Annotated[Optional[list[float]], Form(description=description + " One value per painting, in order.")]
    if spec.kind == "choice" or (spec.kind == "text" and spec.choices):
        # a start picture by name only: a path on the server's disk is not the studio's to give
        return Annotated[Literal[spec.choices], Form(description=description)]
    raise TypeError(f"the studio has no form field for a {spec.kind} setting: give its Spec studio=False")


def _studio_specs(limits: Limits) -> list[tuple[str, Spec, Any]]:
    """(name, spec within the studio's limits, default) of every setting a job may set, a clip's last."""
    pictures, clips = Settings(), VideoSettings()
    return [(n, _limited(n, SPECS[n], limits), getattr(pictures, n)) for n in STUDIO_SETTINGS] + [
        (n, VIDEO_SPECS[n], getattr(clips, n)) for n in STUDIO_VIDEO_SETTINGS
    ]


def form_parameters(limits: Limits) -> list[inspect.Parameter]:
    """One keyword parameter per studio setting, typed and bounded for FastAPI, defaulting to the settings'."""
    params = []
    for name, spec, default in _studio_specs(limits):
        if spec.high is not None and isinstance(default, (int, float)):
            default = min(default, type(default)(spec.high))
        params.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=_annotation(spec))
        )
    return params


def page_options(limits: Limits) -> list[dict[str, Any]]:
    """What the page builds its controls from: each studio setting's kind, words, group (``video``: a clip's
    only), default, bounds and choices."""
    out = []
    for name, spec, default in _studio_specs(limits):
        out.append(
            {
                "name": name,
                "kind": spec.kind,
                "label": spec.label,
                "help": spec.help,
                "group": spec.group,
                "default": default,
                "low": spec.low,
                "high": spec.high,
                "above": spec.above,
                "optional": spec.optional,
                "choices": [{"value": v, "label": w} for v, w in zip(spec.choices, spec.choice_labels or spec.choices)],
            }
        )
    return out


def label(field: str) -> str:
    """The page's name for a form field."""
    spec = SPECS.get(field) or VIDEO_SPECS.get(field)
    if spec is not None:
        return spec.label
    return {
        "content": "The photograph",
        "styles": "The paintings",
        "content_example": "The photograph",
        "style_examples": "The paintings",
        "masks": "The regions' masks",
        "keep": "The keep mask",
        "painting_masks": "The paintings' masks",
    }.get(field, field.replace("_", " ").capitalize())


def settings_problem(error: SettingsError) -> str:
    """A settings refusal in the page's words: ``Style weight must be at least 0, not -1``."""
    return f"{label(error.field)} {error.problem}" if error.field else error.problem


def in_page_words(errors: Any) -> str:
    """FastAPI's validation errors as one line the page can show, naming controls by their labels."""
    parts = []
    for error in list(errors)[:3]:
        where = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        field = where[0] if where else ""
        spec = SPECS.get(field) or VIDEO_SPECS.get(field)
        kind = str(error.get("type", ""))
        if "Expected UploadFile" in str(error.get("msg", "")):
            text = f"{label(field)}: send a picture file here, not text"
        elif spec is not None and spec.choices:
            named = zip(
                spec.choices, spec.choice_labels or spec.choices
            )  # the values the API takes, as the page says them
            text = f"{spec.label} must be one of {', '.join(v if v == w else f'{v} ({w})' for v, w in named)}"
        elif spec is not None and spec.kind == "floats":
            text = f"{spec.label} must be numbers, one per painting, e.g. 2,1"
        elif spec is not None and kind in ("int_parsing", "int_from_float", "float_parsing", "finite_number"):
            text = f"{spec.label} must be a {'whole ' if spec.kind == 'int' else ''}number"
        elif spec is not None and kind.startswith(("greater", "less")):
            ctx = error.get("ctx", {})
            bound = next(iter(ctx.values()), None) if ctx else None
            text = (
                f"{spec.label} must be {_bound_words(kind)} {bound}" if bound is not None else f"{spec.label} is wrong"
            )
        elif field:
            text = f"{label(field)}: {str(error.get('msg', 'is not valid')).rstrip('.').lower()}"
        else:
            text = str(error.get("msg", "the request is malformed"))
        if text not in parts:  # one bad value of several (a blend's "a,b") is said once
            parts.append(text)
    return "; ".join(parts) or "the request is malformed"


def _bound_words(kind: str) -> str:
    return {
        "greater_than": "above",
        "greater_than_equal": "at least",
        "less_than": "below",
        "less_than_equal": "at most",
    }.get(kind, "within")
