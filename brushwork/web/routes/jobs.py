"""Jobs: start one (from the form, or again from another's pictures), list them, read one, cancel, delete."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from brushwork.core.settings import Settings, VideoSettings
from brushwork.web.forms import label, studio_highs
from brushwork.web.intake import check_clip
from brushwork.web.jobs import Conflict, Full
from brushwork.web.routes.answers import JobId, problems
from brushwork.web.routes.form import checks_form, read_form, reads_form, take
from brushwork.web.schemas import JobOut
from brushwork.web.store import Job
from brushwork.web.studio import GONE, Studio


def add_routes(router: APIRouter, studio: Studio) -> None:
    """Add ``/api/jobs`` and ``/api/jobs/{job_id}``, with ``/repaint`` and ``/cancel``."""

    @router.post(
        "/api/jobs",
        response_model=JobOut,
        status_code=201,
        summary="Start a job",
        responses=problems(400, 409, 413, 415, 422, 429),
        dependencies=[checks_form(studio)],
    )
    @reads_form(studio)
    def create_job(request: Request, **fields: Any) -> JobOut:
        order = read_form(studio, fields)
        with studio.store.draft() as (job_id, folder):
            taken = take(studio, order, folder)
            settings = order.settings.to_dict()
            job = Job(job_id, settings, taken.inputs, plan=taken.plan, video=taken.video, client=_client(request))
            return _queue(studio, job)

    @router.post(
        "/api/jobs/{job_id}/repaint",
        response_model=JobOut,
        status_code=201,
        summary="Paint a job again: a new job with the same pictures and settings",
        responses=problems(404, 409, 422, 429),
    )
    def repaint_job(job_id: JobId, request: Request) -> JobOut:
        old = studio.find(job_id)
        settings = _within_limits(studio, old)
        with studio.store.draft() as (new_id, folder):
            inputs = studio.store.copy_inputs(old, folder)
            if old.video:  # its part of the clip too
                check_clip(
                    folder / inputs[0]["file"], inputs[0]["name"], settings, VideoSettings(**old.video), studio.limits
                )
            again = Job(new_id, old.settings, inputs, plan=old.plan, video=old.video, client=_client(request))
            return _queue(studio, again)

    @router.get("/api/jobs", response_model=list[JobOut], summary="All jobs, newest first (the gallery)")
    def list_jobs() -> list[JobOut]:
        return [studio.view(job) for job in studio.jobs.all()]

    @router.get("/api/jobs/{job_id}", response_model=JobOut, summary="A job's state", responses=problems(404, 422))
    def read_job(job_id: JobId) -> JobOut:
        return studio.view(studio.find(job_id))

    @router.post(
        "/api/jobs/{job_id}/cancel",
        response_model=JobOut,
        summary="Stop a job, keeping its picture so far",
        responses=problems(404, 409, 422),
    )
    def cancel_job(job_id: JobId) -> JobOut:
        studio.find(job_id)
        with _refusals():
            return studio.view(studio.jobs.cancel(job_id))

    @router.delete(
        "/api/jobs/{job_id}",
        status_code=204,
        response_class=Response,
        summary="Delete a job and its files",
        responses=problems(404, 409, 422),
    )
    def delete_job(job_id: JobId) -> Response:
        studio.find(job_id)
        with _refusals():
            studio.jobs.delete(job_id)
        return Response(status_code=204)


def _queue(studio: Studio, job: Job) -> JobOut:
    """Queue a job whose folder is ready: a full queue is a 429, one that takes nothing (shutting down) a 409."""
    try:
        queued = studio.jobs.submit(job)
    except Full as exc:
        raise HTTPException(429, str(exc)) from None
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    return studio.view(queued)


@contextmanager
def _refusals() -> Iterator[None]:
    """A change the job's state forbids is a 409; a job deleted meanwhile, a 404."""
    try:
        yield
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    except KeyError:
        raise HTTPException(404, GONE) from None


def _client(request: Request) -> str:
    """Whom a job is queued for: the asking machine's address."""
    return request.client.host if request.client else ""


def _within_limits(studio: Studio, job: Job) -> Settings:
    """The job's settings; refused if they ask for more than the studio allows now (it may have been started again
    with lower limits since the job was made)."""
    settings = Settings.from_dict(job.settings)
    highs = studio_highs(studio.limits).items()
    over = [f"{label(n)} {getattr(settings, n)} (at most {high})" for n, high in highs if getattr(settings, n) > high]
    if over:
        raise HTTPException(
            422, f"this job asks for more than the studio now allows: {', '.join(over)}; make a new one"
        )
    return settings
