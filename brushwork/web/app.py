"""The studio's routes: the page, the bundled examples, and jobs (create, watch, fetch, cancel, delete).

A job paints a picture, or a short clip given in the photo's place (within the studio's clip limits):
its frames show as previews as they finish, and its result is an MP4.

Every error answer is ``{"detail": "one line"}`` with a 4xx status, whatever went
wrong: a malformed form, a bad id, an upload that is no image, settings that
brushwork refuses. Routes are built inside :func:`create_app` so that each
studio's limits appear in its own OpenAPI schema (which is also why this module
does without ``from __future__ import annotations``: FastAPI must evaluate them).
"""

import asyncio
import html
import inspect
import mimetypes
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, Security, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import APIKeyHeader
from fastapi_offline import FastAPIOffline

from brushwork import __version__
from brushwork.core.errors import BrushworkError, SettingsError
from brushwork.core.settings import Settings, VideoSettings, blend_weights, resolve
from brushwork.engine.runner import measure_and_plan, pick_device
from brushwork.media.images import load_image
from brushwork.video.painting import plan_clip
from brushwork.web.examples import EXAMPLES_DIR, Example, Examples
from brushwork.web.forms import STUDIO_VIDEO_SETTINGS, form_parameters, in_page_words, page_options, settings_problem
from brushwork.web.guard import TOKEN_HEADER, Access, Guard
from brushwork.web.intake import check_clip, check_photo_shape, store_example, store_upload
from brushwork.web.jobs import Conflict, Full, JobQueue
from brushwork.web.limits import BodyLimit, Limits
from brushwork.web.schemas import ConfigOut, ExampleOut, JobOut, PlanOut, Problem, example_out, job_out
from brushwork.web.store import FINAL, JOB_ID_PATTERN, Job, Store
from brushwork.web.thumbs import thumbnail

PAGE = Path(__file__).parent / "static" / "index.html"
TOKEN_SLOT = '<meta name="brushwork-token" content="">'
"""Where the page is handed the studio's token, which it sends with every change."""
EVENT_POLL = 0.2
HEARTBEAT = 15.0

JobId = Annotated[str, PathParam(pattern=JOB_ID_PATTERN, description="A job id as the studio made it (32 hex digits).")]
Thumb = Annotated[bool, Query(description="A small JPEG instead of the full picture.")]


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Problem} for code in codes}


def _image_answer(*types: str, description: str = "The picture.") -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types},
            "description": description,
        }
    }


def create_app(
    data_dir: Path,
    max_upload_bytes: int = Limits.max_upload_bytes,
    max_pixels: int = Limits.max_pixels,
    max_size: int = Limits.max_size,
    max_steps: int = Limits.max_steps,
    max_clip_bytes: int = Limits.max_clip_bytes,
    max_clip_seconds: float = Limits.max_clip_seconds,
    max_waiting: int = Limits.max_waiting,
    examples_dir: Path | None = EXAMPLES_DIR,
    preview_interval: float = 1.0,
    access: Access | None = None,
) -> FastAPI:
    """A studio keeping its jobs under ``data_dir``; the limits bound what any request may ask for, ``access``
    who may ask (by default: a studio on loopback with a new token, see :mod:`brushwork.web.guard`)."""
    limits = Limits(
        max_upload_bytes=max_upload_bytes,
        max_pixels=max_pixels,
        max_size=max_size,
        max_steps=max_steps,
        max_clip_bytes=max_clip_bytes,
        max_clip_seconds=max_clip_seconds,
        max_waiting=max_waiting,
    )
    access = access or Access.local()
    store = Store(Path(data_dir))
    jobs = JobQueue(store, preview_interval=preview_interval, max_waiting=limits.max_waiting)
    examples = Examples(examples_dir)
    defaults = Settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        jobs.open()
        yield
        await asyncio.to_thread(jobs.close)

    app = FastAPIOffline(
        title="brushwork studio",
        version=__version__,
        lifespan=lifespan,
        redoc_url=None,
        description="Repaint photos in the style of paintings (Gatys et al.), one job at a time. "
        f"Changes (POST, DELETE) need the token 'brushwork serve' prints, in the {TOKEN_HEADER} header.",
        # documents the token (and lets /docs send it); the Guard middleware is what checks it
        dependencies=[Security(APIKeyHeader(name=TOKEN_HEADER, auto_error=False))],
        responses=_problems(403),
    )
    app.state.jobs, app.state.limits, app.state.store, app.state.access = jobs, limits, store, access
    app.state.stopping = threading.Event()  # set on Ctrl-C: event streams end so shutdown need not wait
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes)
    app.add_middleware(Guard, access=access)  # outermost: a refused request's body is never read

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": in_page_words(exc.errors())}, status_code=422)

    @app.exception_handler(BrushworkError)
    async def refused(_: Request, exc: BrushworkError) -> JSONResponse:
        detail = settings_problem(exc) if isinstance(exc, SettingsError) else str(exc)
        return JSONResponse({"detail": detail}, status_code=422)

    def find(job_id: str) -> Job:
        try:
            return jobs.get(job_id)
        except KeyError:
            raise HTTPException(404, "no such job; it may have been deleted") from None

    def view(job: Job) -> JobOut:
        return job_out(job, jobs.position(job.id), store.result(job.id) is not None, store.poster(job.id) is not None)

    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        filled = TOKEN_SLOT.replace('content=""', f'content="{html.escape(access.token)}"')
        return HTMLResponse(PAGE.read_text(encoding="utf-8").replace(TOKEN_SLOT, filled, 1))

    @app.get("/api/config", response_model=ConfigOut, summary="Limits and default settings")
    def config() -> ConfigOut:
        return ConfigOut(
            version=__version__,
            device=pick_device("auto").type,
            max_size=limits.max_size,
            max_steps=limits.max_steps,
            max_styles=limits.max_styles,
            max_upload_bytes=limits.max_upload_bytes,
            max_pixels=limits.max_pixels,
            max_clip_bytes=limits.max_clip_bytes,
            max_clip_seconds=limits.max_clip_seconds,
            defaults=defaults.to_dict(),
            options=page_options(limits),
        )

    @app.get("/api/examples", response_model=list[ExampleOut], summary="Bundled example photos and paintings")
    def list_examples() -> list[ExampleOut]:
        return [example_out(e) for e in examples.all()]

    @app.get(
        "/api/examples/{role}/{name}",
        response_class=Response,
        summary="An example picture",
        responses={**_image_answer("image/jpeg", "image/png", "image/webp"), **_problems(404, 422)},
    )
    def example_image(
        role: Literal["content", "style"],
        name: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
        thumb: Thumb = False,
    ) -> Response:
        example = examples.get(role, name)
        if example is None:
            raise HTTPException(404, f"no {role} example called {name!r}")
        if thumb:
            return Response(thumbnail(example.path), media_type="image/jpeg")
        return FileResponse(example.path, media_type=_media_type(example.path))

    def intake(
        content: UploadFile | None,
        styles: list[UploadFile] | None,
        content_example: str | None,
        style_examples: list[str] | None,
        options: dict[str, Any],
    ) -> tuple[str, Settings, dict[str, Any], list[dict[str, str]], str]:
        """Check a job's form, keep its pictures (or clip) in a new job folder and plan the run; the folder goes on
        failure. Gives the job's id, settings, video settings (empty for a picture), inputs and plan."""
        video = VideoSettings(**{name: options.pop(name) for name in STUDIO_VIDEO_SETTINGS})
        settings = resolve(**options)
        uploads = [s for s in styles or [] if s.filename or s.size]
        named = [n for n in style_examples or [] if n]
        count = len(uploads) + len(named)
        has_upload = content is not None and bool(content.filename or content.size)
        if has_upload == bool(content_example):
            raise HTTPException(422, "give one photograph: upload one or choose an example")
        if not 1 <= count <= limits.max_styles:
            raise HTTPException(422, f"give between 1 and {limits.max_styles} paintings, not {count}")
        blend_weights(settings, count)
        photo = _example(examples, "content", content_example) if content_example else None
        paintings = [_example(examples, "style", n) for n in named]
        job_id, folder = store.new_folder()
        try:
            inputs = [
                store_example(photo, folder, "content")
                if photo
                else store_upload(cast(UploadFile, content), folder, "content", "content", limits, clips=True)
            ]
            first = folder / inputs[0]["file"]
            clip = check_clip(first, inputs[0]["name"], settings, video, limits) if inputs[0].get("kind") else None
            if clip is None:
                check_photo_shape(first, limits.max_size, settings)
            inputs += [store_upload(u, folder, f"style{i}", "style", limits) for i, u in enumerate(uploads, 1)]
            inputs += [store_example(e, folder, f"style{i}") for i, e in enumerate(paintings, len(uploads) + 1)]
            looks = [load_image(folder / item["file"], "style") for item in inputs[1:]]
            # a run that cannot fit is refused here
            if clip is not None:
                text = plan_clip(clip, looks, settings, video).describe()
            else:
                text = measure_and_plan(load_image(first, "content"), looks, settings).describe()
        except BaseException:
            store.delete(job_id)
            raise
        return job_id, settings, video.to_dict() if clip else {}, inputs, text

    def create_job(
        request: Request,
        content: UploadFile | None = None,
        styles: list[UploadFile] | None = None,
        content_example: str | None = None,
        style_examples: list[str] | None = None,
        **options: Any,
    ) -> JobOut:
        job_id, settings, video, inputs, text = intake(content, styles, content_example, style_examples, options)
        job = Job(
            id=job_id, settings=settings.to_dict(), inputs=inputs, plan=text, video=video, client=_client(request)
        )
        try:
            job = jobs.submit(job)
        except (Conflict, Full) as exc:
            store.delete(job_id)
            raise _refusal(exc) from None
        except BaseException:
            store.delete(job_id)
            raise
        return view(job)

    def plan_job(
        content: UploadFile | None = None,
        styles: list[UploadFile] | None = None,
        content_example: str | None = None,
        style_examples: list[str] | None = None,
        **options: Any,
    ) -> PlanOut:
        job_id, _, _, _, text = intake(content, styles, content_example, style_examples, options)
        store.delete(job_id)
        return PlanOut(plan=text)

    form = inspect.Signature(
        [
            inspect.Parameter(
                "content",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    UploadFile | None, File(description="The photo to repaint, or a short video clip.")
                ],
            ),
            inspect.Parameter(
                "styles",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[list[UploadFile] | None, File(description="One or more paintings.")],
            ),
            inspect.Parameter(
                "content_example",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    str | None,
                    Form(
                        description="A bundled photo instead of an upload (see /api/examples).",
                        examples=examples.names("content")[:1],
                    ),
                ],
            ),
            inspect.Parameter(
                "style_examples",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    list[str] | None,
                    Form(description="Bundled paintings instead of uploads.", examples=[examples.names("style")[:1]]),
                ],
            ),
            *form_parameters(limits),
        ],
        return_annotation=JobOut,
    )
    asker = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
    signature = form.replace(parameters=[asker, *form.parameters.values()])
    setattr(create_job, "__signature__", signature)  # noqa: B010 - FastAPI reads the form from the signature
    setattr(plan_job, "__signature__", form.replace(return_annotation=PlanOut))  # noqa: B010
    app.post(
        "/api/plan",
        response_model=PlanOut,
        summary="Plan a job without starting it: levels, whole or tiled, memory and time on this machine",
        responses=_problems(400, 413, 415, 422),
    )(plan_job)
    app.post(
        "/api/jobs",
        response_model=JobOut,
        status_code=201,
        summary="Start a job",
        responses=_problems(400, 409, 413, 415, 422, 429),
    )(create_job)

    @app.post(
        "/api/jobs/{job_id}/repaint",
        response_model=JobOut,
        status_code=201,
        summary="Paint a job again: a new job with the same pictures and settings",
        responses=_problems(404, 409, 422, 429),
    )
    def repaint_job(job_id: JobId, request: Request) -> JobOut:
        old = find(job_id)
        new_id, folder = store.new_folder()
        try:
            inputs = store.copy_inputs(old, folder)
            again = Job(new_id, old.settings, inputs, plan=old.plan, video=old.video, client=_client(request))
            job = jobs.submit(again)
        except (Conflict, Full) as exc:
            store.delete(new_id)
            raise _refusal(exc) from None
        except BaseException:
            store.delete(new_id)
            raise
        return view(job)

    @app.get("/api/jobs", response_model=list[JobOut], summary="All jobs, newest first (the gallery)")
    def list_jobs() -> list[JobOut]:
        return [view(job) for job in jobs.all()]

    @app.get("/api/jobs/{job_id}", response_model=JobOut, summary="A job's state", responses=_problems(404, 422))
    def read_job(job_id: JobId) -> JobOut:
        return view(find(job_id))

    @app.get(
        "/api/jobs/{job_id}/events",
        response_class=StreamingResponse,
        summary="Watch a job (Server-Sent Events)",
        responses={
            200: {
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "description": "A `job` event with the JobOut JSON whenever the job changes; "
                "the stream ends once the job is finished.",
            },
            **_problems(404, 422),
        },
    )
    def job_events(job_id: JobId) -> StreamingResponse:
        find(job_id)

        async def stream() -> AsyncIterator[str]:
            seen, quiet = None, 0.0
            while True:
                try:
                    job = jobs.get(job_id)
                except KeyError:
                    yield "event: deleted\ndata: {}\n\n"
                    return
                out = view(job)
                key = (out.state, out.step, out.frames_done, out.previews, out.position, out.cancel_requested)
                if key != seen:
                    seen, quiet = key, 0.0
                    yield f"event: job\ndata: {out.model_dump_json()}\n\n"
                elif quiet >= HEARTBEAT:
                    quiet = 0.0
                    yield ": still painting\n\n"
                if job.state in FINAL or app.state.stopping.is_set():
                    return
                await asyncio.sleep(EVENT_POLL)
                quiet += EVENT_POLL

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    @app.get(
        "/api/jobs/{job_id}/preview",
        response_class=Response,
        summary="The latest picture of a job",
        responses={
            **_image_answer(
                "image/jpeg", "image/png", description="JPEG while painting, the PNG result once finished."
            ),
            **_problems(404, 422),
        },
    )
    def job_preview(job_id: JobId) -> Response:
        find(job_id)
        picture = jobs.preview(job_id)
        if picture is not None:
            return Response(picture, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
        poster = store.poster(job_id)
        if poster is None:
            raise HTTPException(404, "no picture yet; the job has not painted a step")
        return FileResponse(poster, media_type="image/png")

    @app.get(
        "/api/jobs/{job_id}/result",
        response_class=Response,
        summary="The finished picture (PNG with recipe) or clip (MP4)",
        responses={
            **_image_answer(
                "image/png",
                "video/mp4",
                "image/jpeg",
                description="PNG with the recipe in its metadata, or a clip's MP4; a JPEG when thumb=true "
                "(a clip's first painted frame, there as soon as it is painted).",
            ),
            **_problems(404, 422),
        },
    )
    def job_result(
        job_id: JobId,
        thumb: Thumb = False,
        download: Annotated[bool, Query(description="Ask the browser to save it.")] = False,
    ) -> Response:
        job = find(job_id)
        result = store.poster(job_id) if thumb else store.result(job_id)
        if result is None:
            raise HTTPException(404, "this job has no picture yet")
        if thumb:
            return Response(thumbnail(result), media_type="image/jpeg")
        return FileResponse(
            result,
            media_type=_media_type(result),
            filename=_download_name(job, result.suffix) if download else None,
        )

    @app.get(
        "/api/jobs/{job_id}/inputs/{index}",
        response_class=Response,
        summary="A job's input picture",
        responses={
            **_image_answer(
                "image/jpeg",
                "image/png",
                "image/webp",
                "image/tiff",
                "image/gif",
                "image/bmp",
                "video/mp4",
                "application/octet-stream",
                description="0 is the photo (or clip), 1... the paintings.",
            ),
            **_problems(404, 422),
        },
    )
    def job_input(
        job_id: JobId, index: Annotated[int, PathParam(ge=0, le=limits.max_styles)], thumb: Thumb = False
    ) -> Response:
        path = store.input_file(find(job_id), index)
        if path is None:
            raise HTTPException(404, f"this job has no input {index}")
        if thumb:
            return Response(thumbnail(path), media_type="image/jpeg")
        return FileResponse(path, media_type=_media_type(path))

    @app.post(
        "/api/jobs/{job_id}/cancel",
        response_model=JobOut,
        summary="Stop a job, keeping its picture so far",
        responses=_problems(404, 409, 422),
    )
    def cancel_job(job_id: JobId) -> JobOut:
        find(job_id)
        try:
            return view(jobs.cancel(job_id))
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None
        except KeyError:
            raise HTTPException(404, "no such job; it may have been deleted") from None

    @app.delete(
        "/api/jobs/{job_id}",
        status_code=204,
        response_class=Response,
        summary="Delete a job and its files",
        responses=_problems(404, 409, 422),
    )
    def delete_job(job_id: JobId) -> Response:
        find(job_id)
        try:
            jobs.delete(job_id)
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None
        except KeyError:
            raise HTTPException(404, "no such job; it may have been deleted") from None
        return Response(status_code=204)

    return app


def _example(examples: Examples, role: str, name: str) -> Example:
    example = examples.get(role, name)
    if example is None:
        known = ", ".join(examples.names(role)) or "none in this installation"
        raise HTTPException(422, f"no {role} example called {name!r}; choose one of: {known}")
    return example


def _download_name(job: Job, suffix: str) -> str:
    """``photo__painting.png`` from the inputs' own names, as a batch names its pictures: saved beside those
    files, ``brushwork recipe --rerun`` finds them by the names its recipe gives."""
    photo, *paintings = (Path(name).stem or "picture" for name in job.sources)
    return f"{photo}__{'+'.join(paintings)}{suffix}"


def _client(request: Request) -> str:
    """Whom a job is queued for: the asking machine's address."""
    return request.client.host if request.client else ""


def _refusal(exc: Conflict | Full) -> HTTPException:
    return HTTPException(429 if isinstance(exc, Full) else 409, str(exc))


def _media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
