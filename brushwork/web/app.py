"""The studio as an ASGI app: :func:`create_app` puts together one studio's state, the middleware that decides
who may talk to it and how much they may send, one-line error answers, and the routes of
:mod:`brushwork.web.routes`, one module per resource."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Receive, Scope, Send

from brushwork import __version__
from brushwork.core.errors import BrushworkError, SettingsError
from brushwork.web.examples import EXAMPLES_DIR, Examples
from brushwork.web.forms import in_page_words, settings_problem
from brushwork.web.guard import TOKEN_HEADER, Access, Guard
from brushwork.web.jobs import JobQueue
from brushwork.web.limits import BodyLimit, Limits
from brushwork.web.routes import events, examples, files, jobs, page, plan
from brushwork.web.routes.answers import problems
from brushwork.web.store import Store
from brushwork.web.studio import Studio

ROUTES = (page, examples, plan, jobs, events, files)
"""The route modules, one per resource, in the order of the API's schema."""


def create_app(
    data_dir: Path,
    limits: Limits | None = None,
    *,
    examples_dir: Path | None = EXAMPLES_DIR,
    preview_interval: float | None = None,
    access: Access | None = None,
) -> FastAPI:
    """A studio keeping its jobs under ``data_dir``; ``limits`` (default: :class:`Limits`'s) bound what any request
    may ask for, ``access`` who may ask (by default: a studio on loopback with a new token, see
    :mod:`brushwork.web.guard`). Its :class:`~brushwork.web.studio.Studio` is ``app.state.studio``."""
    limits, store = limits or Limits(), Store(Path(data_dir))
    queue = JobQueue(store, preview_interval=preview_interval, max_waiting=limits.max_waiting)
    studio = Studio(limits, access or Access.local(), store, queue, Examples(examples_dir))
    app = _app(studio)
    for module in ROUTES:
        module.add_routes(app.router, studio)
    return app


def _app(studio: Studio) -> FastAPI:
    """The app around a studio's routes: its documentation, the studio's state, its guards and error answers."""
    app = FastAPIOffline(
        title="brushwork studio",
        version=__version__,
        lifespan=_painting,
        redoc_url=None,
        description="Repaint photos in the style of paintings (Gatys et al.), one job at a time. "
        f"Changes (POST, DELETE) need the token 'brushwork serve' prints, in the {TOKEN_HEADER} header.",
        # documents the token (and lets /docs send it); the Guard middleware is what checks it
        dependencies=[Security(APIKeyHeader(name=TOKEN_HEADER, auto_error=False))],
        responses=problems(403),
    )
    app.state.studio = studio  # `serve` sets its `stopping` on Ctrl-C
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, limit=studio.limits.max_body_bytes)
    app.add_middleware(Guard, access=studio.access)  # outermost: a refused request's body is never read
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(BrushworkError)(_refused)
    app.exception_handler(OSError)(_cannot_keep)
    return app


@asynccontextmanager
async def _painting(app: FastAPI) -> AsyncIterator[None]:
    """The painter takes jobs while the app serves; at shutdown it stops the painting job, its picture so far kept."""
    queue: JobQueue = app.state.studio.jobs
    queue.open()
    yield
    await asyncio.to_thread(queue.close)


class HeadAsGet:
    """Routes a HEAD request as the GET of the same address, as HTTP has it (FastAPI's GET routes answer HEAD with
    405): ``curl -I`` and link checkers get the GET's status and headers, and the server drops the body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, send)


async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    """A form or path FastAPI cannot read: one line naming the page's controls."""
    return JSONResponse({"detail": in_page_words(exc.errors())}, status_code=422)


async def _refused(request: Request, exc: BrushworkError) -> JSONResponse:
    """Something brushwork refuses (settings, pictures, a run that cannot fit), in the page's words; a file of the
    studio's own that could not be written is the studio's trouble, not the request's."""
    if isinstance(exc.__cause__, OSError):
        return await _cannot_keep(request, exc.__cause__)
    detail = settings_problem(exc) if isinstance(exc, SettingsError) else str(exc)
    return JSONResponse({"detail": detail}, status_code=422)


async def _cannot_keep(_: Request, exc: OSError) -> JSONResponse:
    """The studio's own files could not be written or read (a full disk, a job deleted meanwhile): one line, as every
    error answer is, not a bare 500."""
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    advice = "; free some space and try again" if full else "; try again"
    detail = f"the studio could not keep its files ({exc.strerror or exc}){advice}"
    return JSONResponse({"detail": detail}, status_code=507 if full else 500)
