"""What the routes share: how they document their answers, the parameters job routes take, and a stored
picture (or clip) sent whole or as a thumbnail."""

import mimetypes
from pathlib import Path
from typing import Annotated, Any

from fastapi import HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from brushwork.core.errors import ImageError
from brushwork.web.schemas import Problem
from brushwork.web.store import JOB_ID_PATTERN
from brushwork.web.thumbs import thumbnail

JobId = Annotated[str, PathParam(pattern=JOB_ID_PATTERN, description="A job id as the studio made it (32 hex digits).")]
Thumb = Annotated[bool, Query(description="A small JPEG instead of the full picture.")]


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route may give, each a :class:`~brushwork.web.schemas.Problem`."""
    return {code: {"model": Problem} for code in codes}


def file_answer(*types: str, description: str = "The picture.") -> dict[int | str, dict[str, Any]]:
    """A route's 200 answer: a file (a picture, a clip, a ZIP) of one of ``types``, not JSON."""
    return {
        200: {
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types},
            "description": description,
        }
    }


def stored_file(path: Path, thumb: bool = False, filename: str | None = None) -> Response:
    """``path`` as it is, or with ``thumb`` a small JPEG of it; ``filename`` asks the browser to save it so."""
    if thumb:
        try:
            return Response(thumbnail(path), media_type="image/jpeg")
        except ImageError as exc:
            raise HTTPException(404, f"this picture cannot be shown: {exc}") from None
    return FileResponse(path, media_type=_media_type(path), filename=filename)


def _media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
