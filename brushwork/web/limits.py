"""What one studio accepts: upload and picture sizes, and a cap on request bodies.

A studio may be reachable from a local network, so every request is bounded
before it is parsed: the body cap stops an endless upload long before the
per-image checks in :mod:`brushwork.web.intake` run.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brushwork.core.settings import MAX_SIZE

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-studio limits; tests make tiny ones so that no request can start an expensive job."""

    max_upload_bytes: int = 20 * MB
    """Largest accepted image file."""
    max_pixels: int = 40_000_000
    """Largest accepted image, in pixels (width x height), checked before it is decoded."""
    max_size: int = MAX_SIZE
    """Largest output size (longest side) a job may ask for; each job's plan refuses what this machine cannot fit."""
    max_steps: int = 2000
    """Most optimisation steps a job may ask for."""
    max_styles: int = 4
    """Most style paintings in one job."""
    max_clip_bytes: int = 100 * MB
    """Largest accepted video file."""
    max_clip_seconds: float = 10.0
    """Longest part of a clip one job may paint (a CPU paints a 512 px frame in tens of seconds)."""
    max_waiting: int = 20
    """Most jobs one client may have waiting, so that no one fills the queue (and the disk) for everyone."""

    @property
    def max_body_bytes(self) -> int:
        """A whole job request: every image (or a clip) at its limit, the regions' masks, a keep mask and the
        paintings' masks too, plus room for the form fields."""
        pictures = self.max_upload_bytes * (3 * self.max_styles + 1)
        return pictures + max(self.max_upload_bytes, self.max_clip_bytes) + MB


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes ends in 413, whether or not it declares its length."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request is larger than the studio accepts ({self.limit / MB:.0f} MB); send smaller images"
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await reply(send, 413, message)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:  # raised inside body parsing; FastAPI passes HTTPException through
                raise HTTPException(413, message)
            return msg

        await self.app(scope, counted, send)


async def reply(send: Send, status: int, detail: str, page: bool = False) -> None:
    """Answer an ASGI request with ``{"detail": ...}`` before any route sees it; a browser loading a ``page`` gets
    the detail as one, not as JSON to read."""
    if page:
        text = f"<!doctype html><meta charset=utf-8><title>brushwork studio</title><p>{html.escape(detail)}</p>"
        body, kind = text.encode(), b"text/html; charset=utf-8"
    else:
        body, kind = json.dumps({"detail": detail}).encode(), b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
