"""Fuzzing the studio's API: whatever arrives, the answer is never a 5xx and always matches the OpenAPI schema.

Schemathesis generates valid and invalid requests for every operation from the
app's own schema; Hypothesis mutates real PNG and JPEG bytes to probe the image
checks. The studio runs with tiny limits and a stand-in painter, so nothing the
fuzzer sends can start an expensive job.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from brushwork.engine.runner import Result
from brushwork.web.app import create_app
from brushwork.web.guard import TOKEN_HEADER
from brushwork.web.limits import Limits

pytestmark = pytest.mark.slow

with warnings.catch_warnings():  # Starlette now asks for httpx2; the project tests with httpx
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def still_life(content, styles, settings, callback=None, keep_memory=False, regions=None) -> Result:
    """A painter that paints nothing: the photo back, at once."""
    return Result(content.rgb, None, "done", 0, {}, 0.0)


DATA = tempfile.TemporaryDirectory(prefix="brushwork-fuzz-")
STUDIO = create_app(Path(DATA.name), Limits(max_size=32, max_steps=2, max_upload_bytes=200_000, max_pixels=250_000))
STUDIO.state.studio.jobs.runner = still_life
AS_THE_PAGE = {"host": "127.0.0.1", TOKEN_HEADER: STUDIO.state.studio.access.token}
"""What the studio's own page sends (the guard's refusals have tests of their own)."""
schema = schemathesis.openapi.from_asgi("/openapi.json", STUDIO, headers=AS_THE_PAGE)


@pytest.fixture(scope="module", autouse=True)
def studio():
    """The studio above, started and stopped like a server, its data folder removed afterwards."""
    with TestClient(STUDIO):
        yield STUDIO
    DATA.cleanup()


@schema.parametrize()
@FUZZ
def test_no_request_gets_a_server_error(case):
    case.call_and_validate(checks=CHECKS, headers=AS_THE_PAGE)


def picture_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.linear_gradient("L").resize((40, 30)).convert("RGB").save(buf, fmt)
    return buf.getvalue()


SEEDS = [picture_bytes("PNG"), picture_bytes("JPEG"), picture_bytes("GIF"), picture_bytes("WEBP")]


@st.composite
def damaged(draw) -> bytes:
    """A real picture with bytes flipped, cut short, or both."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


@given(content=damaged(), name=st.sampled_from(["photo.jpg", "x.png", "../../etc/passwd", "", "a\x00b.gif"]))
@FUZZ
def test_damaged_pictures_get_a_clear_4xx_or_paint(studio, content, name):
    with TestClient(studio, base_url="http://127.0.0.1", headers=AS_THE_PAGE) as client:
        answer = client.post(
            "/api/jobs",
            data={"size": "32", "steps": "1", "style_examples": ["wave"]},
            files=[("content", (name, content, "image/jpeg"))],
        )
    assert answer.status_code in (201, 413, 415, 422), answer.text
    assert isinstance(answer.json()["detail" if answer.status_code != 201 else "id"], str)
