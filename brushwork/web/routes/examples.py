"""The bundled example photos, clips and paintings: their list, and each one's picture."""

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import Response

from brushwork.web.routes.answers import Thumb, file_answer, problems, stored_file
from brushwork.web.schemas import ExampleOut, example_out
from brushwork.web.studio import Studio


def add_routes(router: APIRouter, studio: Studio) -> None:
    """Add ``/api/examples`` and ``/api/examples/{role}/{name}``."""
    examples = studio.examples

    @router.get("/api/examples", response_model=list[ExampleOut], summary="Bundled example photos and paintings")
    def list_examples() -> list[ExampleOut]:
        return [example_out(e) for e in examples.all()]

    @router.get(
        "/api/examples/{role}/{name}",
        response_class=Response,
        summary="An example picture",
        responses={**file_answer("image/jpeg", "image/png", "image/webp"), **problems(404, 422)},
    )
    def example_image(
        role: Literal["content", "style"],
        name: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
        thumb: Thumb = False,
    ) -> Response:
        example = examples.get(role, name)
        if example is None:
            raise HTTPException(404, f"no {role} example called {name!r}")
        return stored_file(example.path, thumb)
