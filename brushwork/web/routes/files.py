"""A job's pictures: its latest preview while painting, its result (or a clip's), and its inputs."""

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from brushwork.batch.inputs import picture_name
from brushwork.web.routes.answers import JobId, Thumb, file_answer, problems, stored_file
from brushwork.web.store import Job
from brushwork.web.studio import Studio

PREVIEW = file_answer("image/jpeg", "image/png", description="JPEG while painting, the PNG result once finished.")
RESULT = file_answer(
    "image/png",
    "video/mp4",
    "image/jpeg",
    description="PNG with the recipe in its metadata, or a clip's MP4; a JPEG when thumb=true "
    "(a clip's first painted frame, there as soon as it is painted).",
)
INPUT = file_answer(
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/tiff",
    "image/gif",
    "image/bmp",
    "video/mp4",
    "application/octet-stream",
    description="0 is the photo (or clip), 1... the paintings, then a picture's masks (see the job's inputs).",
)
BUNDLE = file_answer(
    "application/zip",
    description="A ZIP of the finished picture (or clip) and every file its recipe reads, named as the recipe names "
    "them: unpacked, `brushwork recipe PICTURE --rerun` paints it again.",
)
"""What each route answers with, for the API's schema."""


def add_routes(router: APIRouter, studio: Studio) -> None:
    """Add ``/api/jobs/{job_id}/preview``, ``/result``, ``/bundle`` and ``/inputs/{index}``."""
    store = studio.store

    @router.get(
        "/api/jobs/{job_id}/preview",
        response_class=Response,
        summary="The latest picture of a job",
        responses={**PREVIEW, **problems(404, 422)},
    )
    def job_preview(job_id: JobId) -> Response:
        studio.find(job_id)
        picture = studio.jobs.preview(job_id)
        if picture is not None:
            return Response(picture, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
        poster = store.poster(job_id)
        if poster is None:
            raise HTTPException(404, "no picture yet; the job has not painted a step")
        return FileResponse(poster, media_type="image/png")

    @router.get(
        "/api/jobs/{job_id}/result",
        response_class=Response,
        summary="The finished picture (PNG with recipe) or clip (MP4)",
        responses={**RESULT, **problems(404, 422)},
    )
    def job_result(
        job_id: JobId,
        thumb: Thumb = False,
        download: Annotated[bool, Query(description="Ask the browser to save it.")] = False,
    ) -> Response:
        job = studio.find(job_id)
        result = store.poster(job_id) if thumb else store.result(job_id)
        if result is None:
            raise HTTPException(404, "this job has no picture yet")
        return stored_file(result, thumb, _download_name(job, result.suffix) if download else None)

    @router.get(
        "/api/jobs/{job_id}/bundle",
        response_class=Response,
        summary="The finished picture with everything its rerun reads, in a ZIP",
        responses={**BUNDLE, **problems(404, 422)},
    )
    def job_bundle(job_id: JobId) -> Response:
        job = studio.find(job_id)
        result = store.result(job_id)
        if result is None:
            raise HTTPException(404, "this job has no picture yet")
        files = []
        for index, name in enumerate(job.names):
            path = store.input_file(job, index)
            if path is None:
                raise HTTPException(404, "this job's inputs are gone from the studio's folder")
            files.append((name, path))
        painted = _download_name(job, result.suffix)
        if painted.lower() in {name.lower() for name in job.names}:  # an input of that name: the rerun reads it
            painted = f"{Path(painted).stem} (painted){result.suffix}"
        bundle = _zipped([(painted, result), *files])
        return FileResponse(
            bundle,
            media_type="application/zip",
            filename=_download_name(job, ".zip"),
            background=BackgroundTask(bundle.unlink),
        )

    @router.get(
        "/api/jobs/{job_id}/inputs/{index}",
        response_class=Response,
        summary="A job's input picture",
        responses={**INPUT, **problems(404, 422)},
    )
    def job_input(
        job_id: JobId, index: Annotated[int, PathParam(ge=0, le=3 * studio.limits.max_styles + 1)], thumb: Thumb = False
    ) -> Response:
        path = store.input_file(studio.find(job_id), index)
        if path is None:
            raise HTTPException(404, f"this job has no input {index}")
        return stored_file(path, thumb)


def _download_name(job: Job, suffix: str) -> str:
    """``photo__painting.png`` from the inputs' own names, as a batch names its pictures: saved beside those
    files, ``brushwork recipe --rerun`` finds them by the names its recipe gives."""
    photo, *paintings = (Path(name).stem or "picture" for name in job.sources)
    return picture_name(photo, paintings) + suffix


def _zipped(files: list[tuple[str, Path]]) -> Path:
    """A ZIP of ``files`` under their names, in a temporary file (a clip and its paintings are large): pictures are
    compressed already, so they are stored as they are."""
    handle, name = tempfile.mkstemp(prefix="brushwork-bundle-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as out, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as bundle:
            for arcname, path in files:
                bundle.write(path, arcname)
    except BaseException:  # a full disk, say (answered 507): no half a bundle left behind
        os.unlink(name)
        raise
    return Path(name)
