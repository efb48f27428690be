"""Planning a job without starting it: what the form would paint, level by level, on this machine."""

from typing import Any

from fastapi import APIRouter

from brushwork.web.routes.answers import problems
from brushwork.web.routes.form import checks_form, read_form, reads_form, take
from brushwork.web.schemas import PlanOut
from brushwork.web.studio import Studio


def add_routes(router: APIRouter, studio: Studio) -> None:
    """Add ``POST /api/plan``."""

    @router.post(
        "/api/plan",
        response_model=PlanOut,
        summary="Plan a job without starting it: levels, whole or tiled, memory and time on this machine",
        responses=problems(400, 413, 415, 422),
        dependencies=[checks_form(studio)],
    )
    @reads_form(studio)
    def plan_job(**fields: Any) -> PlanOut:
        order = read_form(studio, fields)
        with studio.store.draft() as (job_id, folder):
            plan = take(studio, order, folder).plan
        studio.store.delete(job_id)  # the pictures were kept only to be planned
        return PlanOut(plan=plan)
