"""One studio's state, which every route reads: its limits, who may talk to it, its jobs, its examples, the
machine as measured while idle.

The routes are handed a :class:`Studio` when they are built (:func:`brushwork.web.app.create_app`), so
that two studios in one process (as the tests make) never share a queue, a folder or a token.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import HTTPException

from brushwork.planning.machine import Machine
from brushwork.web.examples import Examples
from brushwork.web.guard import Access
from brushwork.web.jobs import JobQueue
from brushwork.web.limits import Limits
from brushwork.web.schemas import JobOut, job_out
from brushwork.web.store import Job, Store

GONE = "no such job; it may have been deleted"


class IdleMachine:
    """This machine as last measured while no job painted. The studio paints one job at a time, so a job planned
    while another paints is planned against this memory, the memory it will have, not the little that the painting
    job leaves (which would tile it, or refuse it, for nothing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._machine: Machine | None = None

    def for_plan(self, jobs: JobQueue) -> Machine | None:
        """The machine a plan made now takes its memory from: None (measure it now) while no job paints."""
        with self._lock:
            return self._machine if jobs.painting else None

    def measured(self, machine: Machine, jobs: JobQueue) -> None:
        """Keep ``machine``, measured for a plan, if no job painted while it was measured."""
        if not jobs.painting:
            with self._lock:
                self._machine = machine


@dataclass(frozen=True)
class Studio:
    """A studio's parts; ``stopping`` is set on Ctrl-C, so that event streams end and shutdown need not wait."""

    limits: Limits
    access: Access
    store: Store
    jobs: JobQueue
    examples: Examples
    stopping: threading.Event = field(default_factory=threading.Event)
    idle: IdleMachine = field(default_factory=IdleMachine)

    def find(self, job_id: str) -> Job:
        """The job, or a 404 for an id the studio does not know (any more)."""
        try:
            return self.jobs.get(job_id)
        except KeyError:
            raise HTTPException(404, GONE) from None

    def view(self, job: Job) -> JobOut:
        """The job as the API shows it, with its place in the queue and which of its pictures exist."""
        has_result, has_poster = self.store.result(job.id) is not None, self.store.poster(job.id) is not None
        return job_out(job, self.jobs.position(job.id), has_result, has_poster)
