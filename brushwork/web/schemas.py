"""The JSON the API speaks, as pydantic models, so that the OpenAPI schema documents every answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from brushwork.web.examples import Example
from brushwork.web.store import Job

State = Literal["queued", "running", "done", "cancelled", "failed"]
Role = Literal["content", "style"]
InputRole = Literal["content", "style", "mask", "keep", "painting mask"]


class Problem(BaseModel):
    """Every error answer: one line saying what went wrong and what to do."""

    detail: str


class ExampleOut(BaseModel):
    role: Literal["content", "style"]
    name: str = Field(description="Pass this as content_example or style_examples when creating a job.")
    title: str
    clip: bool = Field(description="A video clip, offered in the photo's place.")
    image_url: str
    thumbnail_url: str


class InputOut(BaseModel):
    role: InputRole = Field(
        description="The photo (or clip), a painting, or a region's mask: one per painting, in the paintings' "
        "order, what is kept as the photo, and the part of each painting to learn from."
    )
    name: str
    clip: bool
    image_url: str
    thumbnail_url: str
    example: str | None = Field(
        None, description="The bundled example it is, if one (as content_example or style_examples take it)."
    )


class JobOut(BaseModel):
    id: str
    kind: Literal["picture", "clip"]
    state: State
    position: int | None = Field(description="0 while painting, 1 for next in line, ...; null once finished.")
    created: float = Field(description="Unix time.")
    started: float | None
    finished: float | None
    step: int
    total: int = Field(description="Expected steps of the run: a forecast that firms up as it goes.")
    eta: float | None = Field(description="Seconds left, estimated.")
    elapsed: float
    losses: dict[str, float] = Field(description="Latest loss by part (content, style, tv, temporal...) and total.")
    history: list[float | None] = Field(description="Total loss after each step (a clip's: each frame's in turn).")
    error: str | None = Field(description="Why a failed job failed, in one line.")
    message: str
    cancel_requested: bool
    previews: int = Field(description="Preview counter: refetch preview_url when it changes.")
    frames_done: int = Field(description="A clip's frames painted so far (0 for a picture).")
    frames_total: int = Field(description="A clip's frames to paint (0 for a picture).")
    settings: dict[str, Any]
    video: dict[str, Any] = Field(description="A clip's video settings (empty for a picture).")
    plan: str = Field(
        description="What the run needs here, made when the job was accepted: levels, whole or "
        "in tiles, memory and time."
    )
    inputs: list[InputOut]
    preview_url: str
    result_url: str | None = Field(description="The PNG picture, or a clip's MP4.")
    download_url: str | None
    bundle_url: str | None = Field(
        description="A ZIP of the result and every file its recipe reads (the brushed masks too), named as the "
        "recipe names them, so that `brushwork recipe --rerun` paints it again where it is unpacked."
    )
    thumbnail_url: str | None


class PlanOut(BaseModel):
    """A run's plan before it starts."""

    plan: str = Field(description="Levels, whole or in tiles, estimated peak memory and time, and notes; for people.")


class ConfigOut(BaseModel):
    """Limits and defaults the page builds its controls from."""

    version: str
    device: str
    max_size: int
    max_steps: int
    max_styles: int
    max_upload_bytes: int
    max_pixels: int
    max_clip_bytes: int
    max_clip_seconds: float
    defaults: dict[str, Any]
    options: list[dict[str, Any]] = Field(
        description="Each setting a job may set: kind, label, help, default, "
        "bounds and choices, as the form checks them."
    )


def example_out(example: Example) -> ExampleOut:
    base = f"/api/examples/{example.role}/{example.name}"
    return ExampleOut(
        role=cast(Role, example.role),
        name=example.name,
        title=example.title,
        clip=example.clip,
        image_url=base,
        thumbnail_url=f"{base}?thumb=true",
    )


def job_out(job: Job, position: int | None, has_result: bool, has_poster: bool) -> JobOut:
    base = f"/api/jobs/{job.id}"
    inputs = [
        InputOut(
            role=cast(InputRole, item["role"]),
            name=item["name"],
            clip=item.get("kind") == "clip",
            image_url=f"{base}/inputs/{i}",
            thumbnail_url=f"{base}/inputs/{i}?thumb=true",
            example=Path(item["source"]).stem if "source" in item else None,
        )
        for i, item in enumerate(job.inputs)
    ]
    return JobOut(
        id=job.id,
        kind=cast(Literal["picture", "clip"], job.kind),
        state=cast(State, job.state),
        position=position,
        created=job.created,
        started=job.started,
        finished=job.finished,
        step=job.step,
        total=job.total,
        eta=job.eta,
        elapsed=job.elapsed,
        losses=job.losses,
        history=job.history,
        error=job.error,
        message=job.message,
        cancel_requested=job.cancel_requested,
        previews=job.previews,
        frames_done=job.frames_done,
        frames_total=job.frames_total,
        settings=job.settings,
        video=job.video,
        plan=job.plan,
        inputs=inputs,
        preview_url=f"{base}/preview",
        result_url=f"{base}/result" if has_result else None,
        download_url=f"{base}/result?download=true" if has_result else None,
        bundle_url=f"{base}/bundle" if has_result else None,
        thumbnail_url=f"{base}/result?thumb=true" if has_poster else None,
    )
