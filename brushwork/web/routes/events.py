"""Watching a job: Server-Sent Events, one whenever the job changes, until it is finished."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from brushwork.web.routes.answers import JobId, problems
from brushwork.web.schemas import JobOut
from brushwork.web.store import FINAL
from brushwork.web.studio import Studio

EVENT_POLL = 0.2
"""Seconds between looks at the job."""
HEARTBEAT = 15.0
"""Seconds of quiet after which a comment is sent, so that proxies keep the stream open."""
STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
        "description": "A `job` event with the JobOut JSON whenever the job changes; "
        "the stream ends once the job is finished.",
    }
}


def add_routes(router: APIRouter, studio: Studio) -> None:
    """Add ``/api/jobs/{job_id}/events``."""

    @router.get(
        "/api/jobs/{job_id}/events",
        response_class=StreamingResponse,
        summary="Watch a job (Server-Sent Events)",
        responses={**STREAM, **problems(404, 422)},
    )
    def job_events(job_id: JobId) -> StreamingResponse:
        studio.find(job_id)
        return StreamingResponse(
            _events(studio, job_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


async def _events(studio: Studio, job_id: str) -> AsyncIterator[str]:
    """The job's changes as events, a heartbeat when quiet; ``deleted`` if it goes. Ends once the job is finished
    or the studio stops."""
    seen, quiet = None, 0.0
    while True:
        try:
            job = studio.jobs.get(job_id)
        except KeyError:
            yield "event: deleted\ndata: {}\n\n"
            return
        out = studio.view(job)
        key = _change(out)
        if key != seen:
            seen, quiet = key, 0.0
            yield f"event: job\ndata: {out.model_dump_json()}\n\n"
        elif quiet >= HEARTBEAT:
            quiet = 0.0
            yield ": still painting\n\n"
        if job.state in FINAL or studio.stopping.is_set():
            return
        await asyncio.sleep(EVENT_POLL)
        quiet += EVENT_POLL


def _change(out: JobOut) -> tuple[object, ...]:
    """What a watcher is told about when it changes (the losses change with the step)."""
    return (out.state, out.step, out.frames_done, out.previews, out.position, out.cancel_requested)
