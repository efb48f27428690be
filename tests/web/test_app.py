"""The studio's JSON API (``brushwork serve``), endpoint by endpoint and error by error.

Real paintings are tiny (64 px, 2 steps on the real VGG19); tests about the queue
swap in a stand-in painter that paints nothing, so they run in milliseconds and
their timing is under the test's control.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlencode

import pytest
import torch
from PIL import Image

from brushwork.cli.serve import command as serve_command
from brushwork.core.errors import OutOfMemory, SettingsError
from brushwork.core.settings import Settings
from brushwork.engine import inputs
from brushwork.engine.recipes import find_inputs
from brushwork.engine.recipes import read as read_recipe
from brushwork.engine.runner import Progress, Result
from brushwork.media.bundled import EXAMPLES_DIR
from brushwork.web import jobs as job_queue
from brushwork.web.app import create_app
from brushwork.web.guard import TOKEN_HEADER, Access
from brushwork.web.jobs import STOPPED, UNEXPECTED, Pace, preview_interval
from brushwork.web.limits import Limits

with warnings.catch_warnings():  # Starlette now asks for httpx2; the project tests with httpx
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

FINAL = ("done", "cancelled", "failed")
TINY = {"size": "64", "steps": "2"}
EXAMPLES = {"content_example": "tubingen", "style_examples": ["wave"]}
MULTIPART = {"content-type": "multipart/form-data; boundary=x"}
OOM = "out of memory; try a smaller size or a single scale"


def png(width: int = 48, height: int = 36, color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (width, height), color)
    img.putpixel((1, 1), (0, 0, 0))
    img.save(buf, "PNG")
    return buf.getvalue()


def uploads(content: bytes | None = None, *styles: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    files = [("content", ("photo.png", content if content is not None else png(), "image/png"))]
    styles = styles or (png(color=(20, 60, 200)),)
    return files + [("styles", (f"painting{i}.png", s, "image/png")) for i, s in enumerate(styles)]


def studio_client(app, **kwargs) -> TestClient:
    """A client as the studio's own page is: at 127.0.0.1, sending the token."""
    return TestClient(app, base_url="http://127.0.0.1", headers={TOKEN_HEADER: app.state.studio.access.token}, **kwargs)


def wait_for(client: TestClient, job_id: str, states: tuple[str, ...] = FINAL, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, f"job stuck in {job['state']}"
        time.sleep(0.02)


class Painter:
    """A stand-in for ``engine.run``: reports a step every 10 ms until ``release`` is set or its steps are done."""

    def __init__(self, fail: BaseException | None = None, status: str = "done", loss: float = 3.0):
        self.release, self.started = threading.Event(), threading.Event()
        self.fail, self.status, self.loss = fail, status, loss
        self.calls = 0
        self.regions, self.names = None, []
        """The regions and the pictures' names of the last painting it was asked for."""

    def __call__(self, content, styles, settings, callback=None, keep_memory=False, regions=None) -> Result:
        self.calls += 1
        self.regions, self.names = regions, [content.name, *(s.name for s in styles)]
        if self.fail is not None:
            raise self.fail
        img = content.rgb.resize((16, 12))
        losses = {"content": 1.0, "style": 2.0, "tv": 0.0, "total": self.loss}
        step = 0
        while True:
            step += 1
            self.started.set()
            progress = Progress(step, settings.steps, 0, 1, img.size, losses, 0.01 * step, 1.0, lambda: img)
            if callback(progress) is False:
                return Result(img, None, "cancelled", step, losses, 0.1, f"cancelled at step {step}")
            if self.release.wait(0.01) or step >= settings.steps:
                message = "the loss became NaN" if self.status == "diverged" else ""
                return Result(img, None, self.status, step, losses, 0.1, message)


@pytest.fixture
def make_client(tmp_path):
    """A studio on a fresh data folder, with tiny limits; ``painter`` replaces the engine."""
    clients = []

    def make(
        painter: Painter | None = None,
        data: Path | None = None,
        examples_dir: Path = EXAMPLES_DIR,
        access: Access | None = None,
        **limits,
    ) -> TestClient:
        tiny = Limits(**(dict(max_size=64, max_steps=400) | limits))
        app = create_app(
            data or tmp_path / "studio", tiny, examples_dir=examples_dir, preview_interval=0.0, access=access
        )
        if painter is not None:
            app.state.studio.jobs.runner = painter
        client = studio_client(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def painted(tmp_path_factory):
    """One real painting from two uploads, finished; the data folder is kept for the restart test."""
    data = tmp_path_factory.mktemp("painted")
    with studio_client(create_app(data, Limits(max_size=64, max_steps=4), preview_interval=0.0)) as client:
        created = client.post("/api/jobs", data=TINY, files=uploads())
        assert created.status_code == 201, created.text
        job = wait_for(client, created.json()["id"])
    return data, job


# --- the page, config and examples -----------------------------------------------------------------


def test_page_is_served(make_client):
    page = make_client().get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "brushwork" in page.text and "/api/jobs" in page.text


def test_config_reports_limits_and_defaults(make_client):
    config = make_client(max_upload_bytes=1234, max_pixels=5678).get("/api/config").json()
    assert config["max_size"] == 64 and config["max_steps"] == 400
    assert config["max_upload_bytes"] == 1234 and config["max_pixels"] == 5678
    assert config["defaults"]["style_weight"] == Settings().style_weight and config["device"] in ("cpu", "cuda", "mps")


def test_examples_are_listed_with_thumbnails(make_client):
    client = make_client()
    examples = client.get("/api/examples").json()
    names = {(e["role"], e["name"]) for e in examples}
    assert {
        ("content", "tubingen"),
        ("content", "chicago"),
        ("content", "stata"),
        ("style", "starry_night"),
        ("style", "wave"),
        ("style", "shipwreck"),
    } <= names
    wave = next(e for e in examples if e["name"] == "wave")
    full, thumb = client.get(wave["image_url"]), client.get(wave["thumbnail_url"])
    assert full.headers["content-type"] == "image/jpeg" and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 480 < max(Image.open(io.BytesIO(full.content)).size)


@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/examples/style/mona_lisa", 404),
        ("/api/examples/style/..%2F..%2Fpyproject", 404),
        ("/api/examples/style/wave.jpg", 422),
        ("/api/examples/sculpture/wave", 422),
    ],
)
def test_unknown_or_hostile_example_names_are_refused(make_client, path, status):
    answer = make_client().get(path)
    assert answer.status_code == status and isinstance(answer.json()["detail"], str)


def test_missing_examples_folder_means_no_examples(make_client, tmp_path):
    client = make_client(examples_dir=tmp_path / "nowhere")
    assert client.get("/api/examples").json() == []
    answer = client.post("/api/jobs", data={**TINY, **EXAMPLES})
    assert answer.status_code == 422 and "none in this installation" in answer.json()["detail"]


# --- a real painting -------------------------------------------------------------------------------


def test_a_painting_from_uploads_runs_to_the_end(painted):
    data, job = painted
    assert job["state"] == "done" and job["step"] == job["total"] == 2 and job["position"] is None, job
    assert job["settings"]["size"] == 64 and len(job["history"]) == 2 and job["losses"]["total"] > 0
    assert [(i["role"], i["name"]) for i in job["inputs"]] == [("content", "photo.png"), ("style", "painting0.png")]
    folder = data / "jobs" / job["id"]
    assert {p.name for p in folder.iterdir()} >= {"job.json", "result.png", "content.png", "style1.png"}


def test_result_preview_and_inputs_are_served(painted):
    data, job = painted
    with studio_client(create_app(data, Limits(max_size=64))) as client:
        result = client.get(job["download_url"])
        assert result.status_code == 200 and result.headers["content-type"] == "image/png"
        assert result.headers["content-disposition"] == 'attachment; filename="photo__painting0.png"'
        path = data / "out.png"
        path.write_bytes(result.content)
        recipe = read_recipe(path)
        assert recipe["settings"]["size"] == 64 and recipe["run"]["status"] == "done"
        assert [(i["role"], i["name"]) for i in recipe["inputs"]] == [
            ("content", "photo.png"),
            ("style", "painting0.png"),
        ]
        assert all(str(data) not in i["path"] and "/" not in i["path"] for i in recipe["inputs"])  # no server paths
        assert Image.open(io.BytesIO(client.get(job["result_url"]).content)).size == (64, 48)
        assert client.get(job["thumbnail_url"]).headers["content-type"] == "image/jpeg"
        assert client.get(job["preview_url"]).headers["content-type"] == "image/png"  # finished: the result
        assert client.get(job["inputs"][0]["image_url"]).content == png()
        assert client.get(job["inputs"][1]["thumbnail_url"]).status_code == 200
        assert client.get(f"/api/jobs/{job['id']}/inputs/2").status_code == 404
        assert client.get(f"/api/jobs/{job['id']}/inputs/99").status_code == 422


def test_head_answers_as_get_does_and_is_guarded_alike(painted):
    data, job = painted
    app = create_app(data, Limits(max_size=64))
    with studio_client(app) as client:  # HEAD reads as GET does, and changes nothing
        for url in ("/", "/api/config", job["download_url"], job["result_url"], f"/api/jobs/{job['id']}/events"):
            head, get = client.head(url), client.get(url)
            assert head.status_code == get.status_code == 200, url
            assert head.headers["content-type"] == get.headers["content-type"], url
        result = client.get(job["download_url"]).content
        assert client.head(job["download_url"]).headers["content-length"] == str(len(result))
        assert client.head("/nothere").status_code == client.get("/nothere").status_code == 404
    with TestClient(app, base_url="http://evil.example") as stranger:
        assert stranger.head("/").status_code == 403
    with TestClient(app, base_url="http://127.0.0.1") as tokenless:
        assert tokenless.head("/").status_code == 403


def test_a_painting_from_examples_streams_its_progress(make_client):
    client = make_client()
    created = client.post("/api/jobs", data={**TINY, **EXAMPLES})
    assert created.status_code == 201 and created.json()["state"] in ("queued", "running")
    events = []
    with client.stream("GET", f"/api/jobs/{created.json()['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["state"] == "done" and events[-1]["result_url"]
    assert [e["step"] for e in events] == sorted(e["step"] for e in events)
    assert [i["name"] for i in events[-1]["inputs"]] == ["Tübingen", "The Great Wave"]


def test_cancelling_a_painting_keeps_the_picture_so_far(make_client, tmp_path):
    client = make_client()
    job_id = client.post("/api/jobs", data={**EXAMPLES, "size": "64", "steps": "400"}).json()["id"]
    wait_running = time.monotonic() + 60
    while client.get(f"/api/jobs/{job_id}").json()["step"] < 1:
        assert time.monotonic() < wait_running
        time.sleep(0.02)
    assert client.get(f"/api/jobs/{job_id}/preview").headers["content-type"] == "image/jpeg"
    cancelled = client.post(f"/api/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["cancel_requested"]
    job = wait_for(client, job_id)
    assert job["state"] == "cancelled" and 1 <= job["step"] < 400 and job["result_url"], job
    (tmp_path / "kept.png").write_bytes(client.get(job["result_url"]).content)
    assert read_recipe(tmp_path / "kept.png")["run"]["status"] == "cancelled"


# --- the queue -------------------------------------------------------------------------------------


def test_jobs_wait_their_turn_and_a_waiting_job_can_be_cancelled(make_client):
    painter = Painter()
    client = make_client(painter)
    first, second, third = (
        client.post("/api/jobs", data={**TINY, **EXAMPLES, "steps": "400"}).json() for _ in range(3)
    )
    assert painter.started.wait(10)
    assert [client.get(f"/api/jobs/{j['id']}").json()["position"] for j in (first, second, third)] == [0, 1, 2]
    skipped = client.post(f"/api/jobs/{second['id']}/cancel").json()
    assert skipped["state"] == "cancelled" and skipped["message"] == "cancelled before it started"
    assert client.get(f"/api/jobs/{third['id']}").json()["position"] == 1
    assert client.delete(f"/api/jobs/{first['id']}").status_code == 409  # painting: cancel first
    painter.release.set()
    assert wait_for(client, first["id"])["state"] == "done"
    assert wait_for(client, third["id"])["state"] == "done"
    assert painter.calls == 2
    again = client.post(f"/api/jobs/{first['id']}/cancel")
    assert again.status_code == 409 and "already done" in again.json()["detail"]


def test_a_waiting_job_can_be_deleted(make_client):
    painter = Painter()
    client = make_client(painter)
    first, second = (client.post("/api/jobs", data={**TINY, **EXAMPLES, "steps": "400"}).json() for _ in range(2))
    assert client.delete(f"/api/jobs/{second['id']}").status_code == 204
    painter.release.set()
    assert wait_for(client, first["id"])["state"] == "done"
    assert painter.calls == 1 and client.get(f"/api/jobs/{second['id']}").status_code == 404


@pytest.mark.parametrize(
    "fail, reason",
    [
        (RuntimeError("boom"), "painting failed (RuntimeError: boom)"),
        (OutOfMemory(), OOM),
        (MemoryError(), OOM),
        (
            SettingsError("needs one weight per painting (1), not 2", "style_blend"),
            "Blend of paintings needs one weight per painting (1), not 2",
        ),
    ],
)
def test_a_failed_job_says_why_and_the_queue_moves_on(make_client, fail, reason):
    painter = Painter(fail=fail)
    client = make_client(painter)
    failing = client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()
    job = wait_for(client, failing["id"])
    assert job["state"] == "failed" and job["error"] == reason and job["result_url"] is None
    painter.fail = None
    assert wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])["state"] == "done"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the bug's traceback, logged
def test_an_unforeseen_error_fails_its_job_and_a_new_worker_takes_the_queue(make_client):
    painter = Painter(fail=TypeError("a bug"))
    client = make_client(painter)
    job = wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])
    assert job["state"] == "failed" and job["error"] == UNEXPECTED
    painter.fail = None
    assert wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])["state"] == "done"


def test_a_diverged_job_fails_but_keeps_its_last_good_picture(make_client):
    client = make_client(Painter(status="diverged", loss=float("nan")))
    job = wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])
    assert job["state"] == "failed" and "NaN" in job["error"] and job["result_url"]
    assert job["history"] == [None, None] and job["losses"] == {"content": 1.0, "style": 2.0, "tv": 0.0}


def test_a_job_whose_files_vanished_fails_cleanly_and_the_worker_lives_on(make_client, tmp_path):
    painter = Painter()
    client = make_client(painter)
    blocker = client.post("/api/jobs", data={**TINY, **EXAMPLES, "steps": "400"}).json()
    no_photo, no_folder = (client.post("/api/jobs", data={**TINY, **EXAMPLES}).json() for _ in range(2))
    jobs = tmp_path / "studio" / "jobs"
    (jobs / no_photo["id"] / "content.jpg").unlink()
    shutil.rmtree(jobs / no_folder["id"])
    painter.release.set()
    wait_for(client, blocker["id"])
    assert "photo file not found" in wait_for(client, no_photo["id"])["error"]
    assert wait_for(client, no_folder["id"])["state"] == "failed"
    assert wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])["state"] == "done"


# --- the gallery -----------------------------------------------------------------------------------


def test_the_gallery_survives_a_restart(painted, tmp_path):
    data, job = painted
    with studio_client(create_app(data)) as client:
        listed = client.get("/api/jobs").json()
        assert [j["id"] for j in listed] == [job["id"]] and listed[0]["state"] == "done"
        assert client.get(listed[0]["result_url"]).status_code == 200


def test_after_a_crash_the_painting_job_is_failed_and_waiting_ones_run(make_client, tmp_path):
    painter = Painter()
    client = make_client(painter, data=tmp_path / "d")
    running = client.post("/api/jobs", data={**TINY, **EXAMPLES, "steps": "400"}).json()
    waiting = client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()
    assert painter.started.wait(10)
    record = tmp_path / "d" / "jobs" / running["id"] / "job.json"
    state = json.loads(record.read_text())
    client.app.state.studio.jobs._closed = True  # a crash: nothing is finished or saved any more
    client.app.state.studio.jobs.store.save = lambda job: None
    painter.release.set()
    record.write_text(json.dumps(state))
    (tmp_path / "d" / "jobs" / "not-a-job").mkdir()
    (tmp_path / "d" / "jobs" / ("0" * 32)).mkdir()  # no job.json: skipped
    restarted = make_client(Painter(), data=tmp_path / "d")
    jobs = {j["id"]: j for j in restarted.get("/api/jobs").json()}
    assert set(jobs) == {running["id"], waiting["id"]}
    assert jobs[running["id"]]["state"] == "failed" and jobs[running["id"]]["error"] == STOPPED
    assert wait_for(restarted, waiting["id"])["state"] == "done"  # it waited, so it runs after the restart
    again = restarted.post(f"/api/jobs/{running['id']}/repaint")  # one click paints the stopped one again
    assert again.status_code == 201 and again.json()["settings"] == jobs[running["id"]]["settings"]
    assert wait_for(restarted, again.json()["id"])["state"] == "done"
    stricter = make_client(Painter(), data=tmp_path / "d", max_size=48, max_steps=100)  # started again, lower limits
    refused = stricter.post(f"/api/jobs/{running['id']}/repaint")
    assert refused.status_code == 422 and refused.json()["detail"] == (
        "this job asks for more than the studio now allows: Size 64 (at most 48), Steps 400 (at most 100); "
        "make a new one"
    )


def test_after_a_clean_stop_waiting_jobs_run_and_the_stopped_one_keeps_its_picture(tmp_path):
    painter = Painter()
    client = studio_client(create_app(tmp_path / "d", Limits(max_size=64, max_steps=400), preview_interval=0.0))
    client.__enter__()
    client.app.state.studio.jobs.runner = painter
    running = client.post("/api/jobs", data={**TINY, **EXAMPLES, "steps": "400"}).json()
    waiting = [client.post("/api/jobs", data={**TINY, **EXAMPLES}).json() for _ in range(2)]
    assert painter.started.wait(10)
    client.__exit__(None, None, None)  # SIGTERM: the studio shuts down cleanly
    with studio_client(create_app(tmp_path / "d", Limits(max_size=64, max_steps=400), preview_interval=0.0)) as again:
        again.app.state.studio.jobs.runner = Painter()
        stopped = again.get(f"/api/jobs/{running['id']}").json()
        assert stopped["state"] == "cancelled" and "the studio stopped at step" in stopped["message"]
        assert stopped["result_url"]  # the picture so far is kept
        assert [wait_for(again, j["id"])["state"] for j in waiting] == ["done", "done"]


def test_deleting_a_job_removes_its_folder(make_client, tmp_path):
    client = make_client(Painter())
    job = wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])
    folder = tmp_path / "studio" / "jobs" / job["id"]
    assert folder.is_dir()
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert not folder.exists() and client.get("/api/jobs").json() == []
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 404


# --- refusals --------------------------------------------------------------------------------------


def test_an_oversized_upload_is_refused(make_client):
    client = make_client(max_upload_bytes=2000)
    big = png(200, 200)
    big = big + b"\0" * (3000 - len(big)) if len(big) < 3000 else big
    answer = client.post("/api/jobs", data=TINY, files=uploads(big))
    assert answer.status_code == 413 and "larger than" in answer.json()["detail"]
    assert not any((client.app.state.studio.store.root).iterdir())  # nothing left behind


def test_a_full_disk_is_one_line_and_leaves_nothing_behind(make_client, monkeypatch):
    from brushwork.media.files import written_atomically
    from brushwork.web import store
    from brushwork.web.routes import form

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    client = make_client()
    monkeypatch.setattr(form, "store_upload", full_disk)
    answer = client.post("/api/jobs", data=TINY, files=uploads())
    assert answer.status_code == 507 and answer.headers["content-type"] == "application/json"
    assert (
        answer.json()["detail"]
        == "the studio could not keep its files (No space left on device); free some space and try again"
    )
    assert not any((client.app.state.studio.store.root).iterdir())
    monkeypatch.undo()

    def record_on_a_full_disk(path, data):  # the job's record, written atomically, as the store writes it
        with written_atomically(path):
            full_disk()

    monkeypatch.setattr(store, "write_atomically", record_on_a_full_disk)
    answer = client.post("/api/jobs", data={**TINY, **EXAMPLES})
    assert answer.status_code == 507 and "free some space" in answer.json()["detail"]
    assert not any((client.app.state.studio.store.root).iterdir())


def test_an_oversized_request_body_is_refused_before_parsing(make_client):
    client = make_client(max_upload_bytes=1000)
    limit = client.app.state.studio.limits.max_body_bytes  # every image at its limit, plus 1 MB of form fields
    answer = client.post("/api/jobs", content=b"x" * (limit + 1), headers=MULTIPART)
    assert answer.status_code == 413 and "larger than the studio accepts" in answer.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(limit // 100_000 + 2):
            yield b"x" * 100_000

    answer = client.post("/api/jobs", content=chunks(), headers=MULTIPART)
    assert answer.status_code == 413


def test_a_painting_transparent_all_over_is_refused_by_its_own_name(make_client):
    buf = io.BytesIO()
    Image.new("RGBA", (48, 36), (200, 0, 0, 0)).save(buf, "PNG")
    answer = make_client().post("/api/jobs", data=TINY, files=uploads(png(), buf.getvalue()))
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("the painting 'painting0.png' is transparent all over")


def test_a_picture_with_too_many_pixels_is_refused(make_client):
    answer = make_client(max_pixels=1000).post("/api/jobs", data=TINY, files=uploads(png(40, 40)))
    assert answer.status_code == 413 and "photo 'photo.png' has more than 0.001 megapixels" in answer.json()["detail"]


def test_a_picture_that_claims_huge_dimensions_is_refused_before_decoding(make_client):
    header = bytearray(png(2, 2))  # IHDR: width and height at bytes 16-24, CRC after them
    header[16:24] = struct.pack(">II", 100_000, 100_000)
    header[29:33] = struct.pack(">I", zlib.crc32(bytes(header[12:29])))
    answer = make_client().post("/api/jobs", data=TINY, files=uploads(bytes(header)))
    assert answer.status_code == 413 and "megapixels" in answer.json()["detail"]


def test_a_text_field_where_a_file_belongs_is_refused(make_client):
    answer = make_client().post("/api/jobs", data={**TINY, "content": "photo.jpg", "style_examples": ["wave"]})
    assert answer.status_code == 422
    assert answer.json()["detail"] == "The photograph: send a picture file here, not text"


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"GIF89a but not really", "is not an image"),
        (b"<?php echo 'hello'; ?>", "is not an image"),
        (png()[:60], "damaged or truncated"),
    ],
)
def test_an_upload_that_is_no_image_is_refused_whatever_its_name(make_client, content, needle):
    answer = make_client().post(
        "/api/jobs",
        data=TINY,
        files=[("content", ("holiday.jpg", content, "image/jpeg")), ("styles", ("s.png", png(), "image/png"))],
    )
    assert answer.status_code == 415, answer.text
    detail = answer.json()["detail"]
    assert needle in detail and "'holiday.jpg'" in detail and "/" not in detail.split("'holiday.jpg'")[0]


def test_a_drawing_given_as_the_photo_is_refused_in_one_line(make_client):
    """An SVG is no picture brushwork reads, and ffmpeg finds it but cannot decode it: a 415, not a crash."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="9" height="9"/></svg>'
    client = make_client()
    for styles in ({"files": [("styles", ("s.png", png()))]}, {"data": {"style_examples": "wave"}}):
        form = {**TINY, **styles.get("data", {})}
        answer = client.post("/api/plan", data=form, files=[("content", ("x.svg", svg)), *styles.get("files", [])])
        assert answer.status_code == 415 and "'x.svg'" in answer.json()["detail"], answer.text
    assert not any(client.app.state.studio.store.root.iterdir())


def test_an_empty_upload_is_refused(make_client):
    answer = make_client().post("/api/jobs", data=TINY, files=uploads(b""))
    assert answer.status_code == 422 and "empty" in answer.json()["detail"]


@pytest.mark.parametrize(
    "fields, needle",
    [
        ({"size": "65"}, "Size must be at most 64"),
        ({"size": "big"}, "Size must be a whole number"),
        ({"steps": "0"}, "Steps must be at least 1"),
        ({"steps": "401"}, "Steps must be at most 400"),
        ({"style_weight": "nan"}, "Style weight must be a number"),
        ({"style_weight": "-1"}, "Style weight must be at least 0"),
        (
            {"preserve_color": "sepia"},
            "Colours must be one of none (Painting's), luminance (Photo's light), histogram (Photo's palette)",
        ),
        ({"optimizer": "sgd"}, "Optimiser must be one of lbfgs (L-BFGS), adam (Adam)"),
        ({"seed": "-1"}, "Seed must be at least 0"),
        ({"seed": str(2**63)}, "Seed must be at most"),
        (
            {"init": "/etc/passwd"},
            "Start from must be one of content (the photo), palette (the photo in the painting's colours), noise",
        ),
        ({"style_blend": "0"}, "Blend of paintings must not all be zero"),  # passes the form, refused by brushwork
        ({"style_blend": "inf"}, "Blend of paintings must be a finite number"),
        ({"style_blend": "x"}, "Blend of paintings must be numbers, one per painting, e.g. 2,1"),
        ({"style_blend": ["1", "2"]}, "Blend of paintings needs one weight per painting (1), not 2"),
    ],
)
def test_bad_settings_are_refused_in_one_line(make_client, fields, needle):
    answer = make_client(Painter()).post("/api/jobs", data={**EXAMPLES, **TINY, **fields})
    assert answer.status_code == 422, answer.text
    assert needle in answer.json()["detail"] and "\n" not in answer.json()["detail"]


def test_a_blend_of_two_bad_values_is_refused_in_one_sentence(make_client):
    answer = make_client(Painter()).post("/api/jobs", data={**EXAMPLES, **TINY, "style_blend": ["a", "b"]})
    assert answer.json()["detail"] == "Blend of paintings must be numbers, one per painting, e.g. 2,1"


@pytest.mark.parametrize(
    "fields, files, needle",
    [
        ({"style_examples": ["wave"]}, None, "give one photograph"),
        ({"content_example": "tubingen"}, None, "give between 1 and 4 paintings, not 0"),
        (
            {"content_example": "tubingen", "style_examples": ["wave"]},
            [("content", ("p.png", png(), "image/png"))],
            "give one photograph",
        ),
        ({"content_example": "tubingen", "style_examples": ["wave"] * 5}, None, "not 5"),
        (
            {"content_example": "paris", "style_examples": ["wave"]},
            None,
            "no content example called 'paris'; choose one of: chicago, stata, tubingen",
        ),
        ({"content_example": "../../etc/passwd", "style_examples": ["wave"]}, None, "no content example"),
    ],
)
def test_missing_or_unknown_inputs_are_refused(make_client, fields, files, needle):
    answer = make_client(Painter()).post("/api/jobs", data={**TINY, **fields}, files=files)
    assert answer.status_code == 422 and needle in answer.json()["detail"]


def test_malformed_requests_get_4xx(make_client):
    client = make_client(Painter())
    assert client.post("/api/jobs", json={"size": 64}).status_code == 415
    broken = client.post("/api/jobs", content=b"--x\r\nnonsense", headers=MULTIPART)
    assert 400 <= broken.status_code < 500
    no_boundary = {"content-type": "multipart/form-data"}
    assert client.post("/api/jobs", content=b"--x\r\n", headers=no_boundary).status_code < 500
    assert client.put("/api/jobs").status_code == 405


BAD_IDS = ["..%2F..%2Fetc", "..", "abc", "0" * 31, "0" * 33, "G" * 32, "%00" * 32, "0" * 31 + "%2F"]
ROUTES = [
    ("get", ""),
    ("get", "/events"),
    ("get", "/preview"),
    ("get", "/result"),
    ("get", "/bundle"),
    ("get", "/inputs/0"),
    ("post", "/cancel"),
    ("delete", ""),
]


@pytest.mark.parametrize("method, suffix", ROUTES)
def test_bad_job_ids_never_reach_the_file_system(make_client, method, suffix):
    client = make_client(Painter())
    for bad in BAD_IDS:
        answer = getattr(client, method)(f"/api/jobs/{bad}{suffix}")
        assert answer.status_code in (404, 405, 422), (bad, answer.status_code)
    answer = getattr(client, method)(f"/api/jobs/{'0' * 32}{suffix}")
    assert answer.status_code == 404 and answer.json()["detail"] == "no such job; it may have been deleted"


def test_a_paintings_first_step_is_always_previewed_then_at_most_once_an_interval():
    slow, eager = Pace(3600.0), Pace(0.0)
    assert [slow.due(step) for step in (1, 2, 3)] == [True, False, False]
    assert all(eager.due(step) for step in (1, 2, 3))


def test_previews_come_five_a_second_on_a_gpu_and_once_a_second_on_a_cpu(monkeypatch):
    assert preview_interval(Settings(device="cpu")) == 1.0
    monkeypatch.setattr(job_queue, "pick_device", lambda name: torch.device("cuda"))
    assert preview_interval(Settings(device="auto")) == 0.2


def test_a_finished_job_without_a_picture_has_no_preview(make_client):
    client = make_client(Painter(fail=RuntimeError("x")))
    job = wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])
    assert client.get(job["preview_url"]).status_code == 404
    assert client.get(f"/api/jobs/{job['id']}/result").status_code == 404


# --- brushwork serve -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--port", "abc"], "argument --port: 'abc' is not a whole number"),
        (["--port", "70000"], "argument --port: 70000 is not between 0 and 65535"),
        (["--max-size", "8"], "argument --max-size: 8 is not between 16 and 8192"),
        (["--colour"], "unrecognized option --colour"),
    ],
)
def test_serve_refuses_bad_arguments_in_one_line(argv, needle, capsys):
    with pytest.raises(SystemExit) as stop:
        serve_command(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("brushwork serve: error: ") and needle in err
    assert err.count("\n") == 1


def test_serve_refuses_an_unusable_data_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as stop:
        serve_command(["--data", str(tmp_path / "file"), "--port", "0"])
    assert stop.value.code == 2 and "file is a file, not a folder; choose another --data" in capsys.readouterr().err


def test_serve_refuses_a_data_folder_another_studio_uses(tmp_path, capsys, monkeypatch):
    """A second studio would take the first's painting job for one stopped; a restart's waits for the first."""
    from brushwork.web import server

    held = server.claim_data(tmp_path)
    monkeypatch.setattr(server, "DATA_WAIT", 0.3)
    with pytest.raises(SystemExit) as stop:
        serve_command(["--data", str(tmp_path), "--port", "0"])
    err = capsys.readouterr().err
    assert (
        stop.value.code == 2
        and f"another brushwork studio is using {tmp_path} until it stops; choose another --data" in err
        and err.count("\n") == 1
    )
    server._mark(held, "http://127.0.0.1:8123/")  # as a studio does once it listens: where it is, no token
    with pytest.raises(SystemExit):
        serve_command(["--data", str(tmp_path), "--port", "0"])
    assert f"another brushwork studio (at http://127.0.0.1:8123/) is using {tmp_path}" in capsys.readouterr().err
    threading.Timer(0.3, held.close).start()  # the first studio stops: the second, waiting, takes the folder
    server.claim_data(tmp_path, wait=5).close()


def test_serve_refuses_a_busy_port(tmp_path, capsys):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as stop:
            serve_command(["--data", str(tmp_path), "--port", str(port)])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"cannot listen on 127.0.0.1:{port}" in err and err.count("\n") == 1
    assert "choose another --port" in err
    from brushwork.web import server

    server.claim_data(tmp_path, wait=0).close()  # the refused studio let go of its data folder


@pytest.mark.parametrize("host", ["no-such-host.invalid", "192.0.2.1", "::ffff:127.0.0.1"])  # no name, not ours, no v6
def test_serve_blames_the_host_it_cannot_listen_on_not_the_port(tmp_path, capsys, host):
    with pytest.raises(SystemExit) as stop:
        serve_command(["--data", str(tmp_path), "--host", host, "--port", "0"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"cannot listen on {host}:0" in err and err.count("\n") == 1
    assert err.rstrip().endswith("choose another --host"), err


# --- one definition of each setting ----------------------------------------------------------------


@pytest.mark.slow
def test_the_form_accepts_what_the_command_line_accepts(make_client):
    """Bounds come from the settings' specs: style weight 0 and 64-bit seeds are fine everywhere."""
    client = make_client(Painter())
    answer = client.post("/api/jobs", data={**TINY, **EXAMPLES, "style_weight": "0", "seed": str(2**40)})
    assert answer.status_code == 201, answer.text
    assert answer.json()["settings"]["style_weight"] == 0 and answer.json()["settings"]["seed"] == 2**40


def test_config_describes_every_studio_setting_from_its_spec(make_client):
    from brushwork.core.settings import SPECS, VIDEO_SPECS

    options = {o["name"]: o for o in make_client(Painter()).get("/api/config").json()["options"]}
    offered = [name for name, spec in SPECS.items() if spec.studio]
    clips = [name for name, spec in VIDEO_SPECS.items() if spec.studio]
    assert list(options) == offered + clips and "weights" not in options and "device" not in options
    assert {options[name]["group"] for name in clips} == {"video"}
    assert options["size"]["high"] == 64  # the studio's own limit, tighter than the spec's
    assert [c["value"] for c in options["pooling"]["choices"]] == list(SPECS["pooling"].choices)
    assert options["style_weight"]["low"] == 0 and options["style_weight"]["default"] == Settings().style_weight


def test_a_photo_too_thin_for_the_studio_is_refused_at_upload(make_client):
    client = make_client(Painter(), max_size=2048)
    answer = client.post(
        "/api/jobs",
        data={"size": "512", "steps": "2", "style_examples": ["wave"]},
        files=[("content", ("thin.png", png(8, 2000), "image/png"))],
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "too thin" in detail and "crop it" in detail and "2048 px" in detail and "size 4000" not in detail


def test_a_thin_photo_is_refused_at_the_studios_own_largest_size(make_client):
    client = make_client(Painter(), max_size=2048)
    answer = client.post(
        "/api/jobs",
        data={"size": "512", "steps": "2", "style_examples": ["wave"]},
        files=[("content", ("thin.png", png(8, 2000), "image/png"))],
    )
    words = "the photo (8x2000) is too thin: even at 2048 px (the largest this studio paints) its short side"
    assert answer.status_code == 422 and words in answer.json()["detail"]


def test_the_api_docs_page_needs_no_network(make_client):
    client = make_client(Painter())
    page = client.get("/docs").text
    assert "cdn" not in page.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        src = next(part.split('"')[0] for part in page.split('="')[1:] if part.split('"')[0].endswith(asset))
        assert src.startswith("/") and client.get(src).status_code == 200


# --- the plan: before painting, with every job, and a run that cannot fit refused ------------------------


def test_a_plan_is_made_without_a_job(make_client):
    client = make_client(Painter(), max_size=4096)
    answer = client.post("/api/plan", data={**EXAMPLES, "size": "4096", "tile_size": "1024"})
    assert answer.status_code == 200, answer.text
    text = answer.json()["plan"]
    assert "4096x3072 px in 6 levels" in text and "tiles of 1024 px" in text and "peak memory" in text
    assert client.get("/api/jobs").json() == []
    assert not [p for p in (client.app.state.studio.store.root).iterdir() if p.is_dir()]


def test_a_plan_names_the_pictures_as_the_user_gave_them(make_client):
    """Not as the job keeps them (style1.png): a note on a tiny upload names the upload."""
    client = make_client(Painter())

    def plan_with(width: int, height: int, name: str):
        tiny = io.BytesIO()
        Image.new("RGB", (width, height), (90, 30, 160)).save(tiny, "PNG")
        return client.post(
            "/api/plan", data={"size": "64"}, files=[*uploads()[:1], ("styles", (name, tiny.getvalue(), "image/png"))]
        )

    answer = plan_with(16, 16, "tiny16.png")
    assert answer.status_code == 200, answer.text
    assert "the painting tiny16.png (16x16)" in answer.json()["plan"] and "style1" not in answer.json()["plan"]
    refused = plan_with(1, 1, "icon.png")
    assert refused.status_code == 422 and refused.json()["detail"].startswith("the painting icon.png is 1x1 px")


def test_every_job_carries_its_plan(make_client):
    client = make_client(Painter())
    job = client.post("/api/jobs", data={**EXAMPLES, **TINY}).json()
    assert job["plan"].startswith("plan: 64x48 px")
    assert wait_for(client, job["id"])["plan"] == job["plan"]


def test_a_job_that_cannot_fit_is_refused_in_one_line(make_client, monkeypatch):
    from brushwork.planning.machine import GB, Machine

    tiny = Machine("cpu", "a small machine", int(0.5 * GB), int(0.4 * GB), 4, 0.5, 1.0)
    monkeypatch.setattr(inputs, "measure", lambda *args: tiny)
    painter = Painter()
    client = make_client(painter, max_size=8192)
    for route in ("/api/plan", "/api/jobs"):
        answer = client.post(route, data={**EXAMPLES, "size": "8192"})
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert "8192 needs" in detail and "even in tiles" in detail and "\n" not in detail
    assert painter.calls == 0 and client.get("/api/jobs").json() == []


def test_a_job_planned_while_another_paints_is_planned_for_the_memory_it_will_have(make_client, monkeypatch):
    """Jobs paint one at a time: the memory a painting job holds is free again when the next one starts."""
    from dataclasses import replace

    from brushwork.planning.machine import GB, Machine

    idle = Machine("cpu", "a machine", 16 * GB, int(0.4 * GB), 4, 0.5, 1.0)
    measured = [idle]
    monkeypatch.setattr(inputs, "measure", lambda *args: measured[0])
    painter = Painter()
    client = make_client(painter, max_size=8192)
    large = {**EXAMPLES, "size": "4096"}
    answer = client.post("/api/plan", data=large)
    assert answer.status_code == 200, answer.text
    planned_idle = answer.json()["plan"]
    first = client.post("/api/jobs", data={**EXAMPLES, "size": "64", "steps": "400"}).json()
    assert painter.started.wait(30)
    measured[0] = replace(idle, free=int(0.3 * GB), in_use=int(16.1 * GB))  # what the painting job leaves
    answer = client.post("/api/plan", data=large)
    assert answer.status_code == 200 and answer.json()["plan"] == planned_idle  # not refused, not tiled more
    painter.release.set()
    assert wait_for(client, first["id"])["state"] == "done"
    answer = client.post("/api/plan", data=large)  # idle again: measured now, and now the memory is short
    assert answer.status_code == 422 and "even in tiles" in answer.json()["detail"]


# --- regions: a mask per painting and a keep mask, checked as the command line checks them ------------------


def mask(box: tuple[int, int, int, int] | None = None, size: tuple[int, int] = (48, 36), fmt: str = "PNG") -> bytes:
    """A mask of ``png()``'s shape, 48x36: white inside ``box`` (left, top, right, bottom), black elsewhere."""
    picture = Image.new("L", size, 0)
    if box is not None:
        picture.paste(255, box)
    buf = io.BytesIO()
    picture.save(buf, fmt)
    return buf.getvalue()


LEFT, RIGHT, CORNER = (0, 0, 24, 36), (24, 0, 48, 36), (40, 0, 48, 8)
"""Two regions that share the photo, and a corner kept."""


def regions(*masks: bytes, keep: bytes | None = None) -> list[tuple[str, tuple[str, bytes, str]]]:
    files = [("masks", (f"region{i}.png", m, "image/png")) for i, m in enumerate(masks, 1)]
    return files + ([("keep", ("face.png", keep, "image/png"))] if keep is not None else [])


def test_masks_are_kept_passed_to_the_run_and_listed_in_the_recipe(make_client, tmp_path):
    painter = Painter()
    client = make_client(painter)
    files = uploads(png(), png(color=(20, 60, 200)), png(color=(200, 200, 20)))
    created = client.post("/api/jobs", data=TINY, files=files + regions(mask(LEFT), mask(RIGHT), keep=mask(CORNER)))
    assert created.status_code == 201, created.text
    job = wait_for(client, created.json()["id"])
    assert job["state"] == "done", job
    assert [(i["role"], i["name"]) for i in job["inputs"]] == [
        ("content", "photo.png"),
        ("style", "painting0.png"),
        ("style", "painting1.png"),
        ("mask", "region1.png"),
        ("mask", "region2.png"),
        ("keep", "face.png"),
    ]
    assert client.get(job["inputs"][3]["image_url"]).content == mask(LEFT)  # what "Reuse" brings back
    left, right = painter.regions.paint
    assert left[:, :24].min() == 1 and left[:, 24:].max() == 0 and right[:, 24:].min() == 1 and right[:, :24].max() == 0
    assert painter.regions.keep[:8, 40:].min() == 1 and painter.regions.keep.sum() == 8 * 8
    saved = tmp_path / "picture.png"
    saved.write_bytes(client.get(job["result_url"]).content)
    recipe = read_recipe(saved)
    assert [(i["role"], i["name"]) for i in recipe["inputs"]][3:] == [  # as uploaded, as the job lists them
        ("mask", "region1.png"),
        ("mask", "region2.png"),
        ("keep", "face.png"),
    ]
    assert all(len(i["sha256"]) == 64 for i in recipe["inputs"])
    named = client.get(job["download_url"]).headers["content-disposition"]
    assert named.endswith("''photo__painting0%2Bpainting1.png")  # after the pictures, not the masks

    bundle = client.get(job["bundle_url"])  # what a rerun reads, beside the picture: brushed masks exist nowhere else
    assert bundle.headers["content-disposition"].endswith("''photo__painting0%2Bpainting1.zip")
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as unpacked:
        assert unpacked.namelist() == [
            "photo__painting0+painting1.png",
            "photo.png",
            "painting0.png",
            "painting1.png",
            "region1.png",
            "region2.png",
            "face.png",
        ]
        assert unpacked.read("region1.png") == mask(LEFT)
        unpacked.extractall(tmp_path / "unpacked")
    picture = tmp_path / "unpacked" / "photo__painting0+painting1.png"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    argv = ["recipe", str(picture), "--rerun", "-o", "again.png", "-q"]
    rerun = subprocess.run([sys.executable, "-m", "brushwork", *argv], cwd=elsewhere, capture_output=True, text=True)
    assert rerun.returncode == 0 and rerun.stderr == ""  # each found by its name beside the picture, as expected
    assert Image.open(elsewhere / "again.png").size == (64, 48)  # painted at the recipe's size

    again = client.post(f"/api/jobs/{job['id']}/repaint")  # painted again, with its regions
    assert again.status_code == 201 and [i["role"] for i in again.json()["inputs"]][3:] == ["mask", "mask", "keep"]
    wait_for(client, again.json()["id"])
    assert painter.calls == 2 and painter.regions.paint[0][:, :24].min() == 1

    plain = client.post("/api/jobs", data={**TINY, **EXAMPLES})  # without masks, a job is as it always was
    assert [i["role"] for i in wait_for(client, plain.json()["id"])["inputs"]] == ["content", "style"]
    assert painter.regions is None


def test_inputs_of_one_name_are_told_apart_in_the_recipe_and_the_bundle(make_client, tmp_path):
    """Two uploads called image.png (another folder each): the recipe and the bundle name the second image (2).png,
    so that a rerun of the unpacked bundle finds each; a job with no picture yet has no bundle."""
    painter = Painter()
    client = make_client(painter)
    same = [
        ("content", ("image.png", png(), "image/png")),
        ("styles", ("IMAGE.png", png(color=(20, 60, 200)), "image/png")),
    ]
    job = client.post("/api/jobs", data={**TINY, "steps": "400"}, files=same).json()  # painting till released
    assert job["bundle_url"] is None, job
    assert client.get(f"/api/jobs/{job['id']}/bundle").status_code == 404
    painter.release.set()
    job = wait_for(client, job["id"])
    with zipfile.ZipFile(io.BytesIO(client.get(job["bundle_url"]).content)) as unpacked:
        assert unpacked.namelist() == ["image__IMAGE.png", "image.png", "IMAGE (2).png"]
        unpacked.extractall(tmp_path)
    recipe = read_recipe(tmp_path / "image__IMAGE.png")
    assert [i["name"] for i in recipe["inputs"]] == ["image.png", "IMAGE (2).png"]
    assert [p.name for p in find_inputs(recipe, tmp_path / "image__IMAGE.png")] == ["image.png", "IMAGE (2).png"]


def test_a_bundle_never_names_a_file_outside_its_folder_and_a_full_disk_leaves_no_half_bundle(
    make_client, tmp_path, monkeypatch
):
    """A job.json whose names climb out (written by hand, or before names were cleaned) is bundled under its
    files' own names; a disk that fills while the ZIP is written is a 507 and leaves no temporary file."""
    import tempfile

    from brushwork.web.routes import files as file_routes

    client = make_client(Painter(), data=tmp_path / "studio")
    job = wait_for(client, client.post("/api/jobs", data=TINY, files=uploads()).json()["id"])
    record = tmp_path / "studio" / "jobs" / job["id"] / "job.json"
    saved = json.loads(record.read_text())
    saved["inputs"][0]["name"], saved["inputs"][1]["name"] = "../../evil.png", ".."
    record.write_text(json.dumps(saved))
    client = make_client(Painter(), data=tmp_path / "studio")  # the studio started again, reading the record
    with zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{job['id']}/bundle").content)) as unpacked:
        names = unpacked.namelist()
    assert names[1] == "evil.png" and names[2] == "style1.png", names

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    before = set(Path(tempfile.gettempdir()).glob("brushwork-bundle-*"))
    monkeypatch.setattr(file_routes.zipfile.ZipFile, "write", full)
    answer = client.get(f"/api/jobs/{job['id']}/bundle")
    assert answer.status_code == 507 and "free some space" in answer.json()["detail"]
    assert set(Path(tempfile.gettempdir()).glob("brushwork-bundle-*")) == before


def test_a_keep_mask_alone_keeps_its_region_and_a_resized_mask_is_noted(make_client):
    painter = Painter()
    client = make_client(painter)
    created = client.post("/api/jobs", data=TINY, files=uploads() + regions(keep=mask((0, 0, 48, 18), (96, 72))))
    assert created.status_code == 201, created.text
    assert "note: keep mask face.png is 96x72: resized to the photo's 48x36" in created.json()["plan"]
    wait_for(client, created.json()["id"])
    assert painter.regions.paint is None and painter.regions.keep.shape == (36, 48)


def test_a_blend_beside_a_mask_per_painting_is_noted_in_the_plan(make_client):
    client = make_client(Painter())
    files = uploads(png(), png(color=(20, 60, 200)), png(color=(200, 200, 20))) + regions(mask(LEFT), mask(RIGHT))
    created = client.post("/api/jobs", data={**TINY, "style_blend": ["0.7", "0.3"]}, files=files)
    assert created.status_code == 201, created.text
    assert "note: the style blend does not apply with a mask per painting" in created.json()["plan"]
    wait_for(client, created.json()["id"])


@pytest.mark.parametrize(
    "masks, keep, status, words",
    [
        ([mask((0, 0, 12, 36), (24, 36))], None, 422, "mask region1.png is 24x36, not the photo's shape (48x36)"),
        ([mask()], None, 422, "mask region1.png is empty (all black)"),
        ([], mask(), 422, "keep mask face.png is empty (all black)"),
        ([b""], None, 422, "region mask 'region1.png' is empty; choose a picture file"),
        ([mask(LEFT), mask(RIGHT)], None, 422, "more masks than paintings (2 masks, 1 painting)"),
        ([b"GIF89a but not really"], None, 415, "'region1.png' is not an image"),
        ([mask(LEFT, fmt="JPEG")[:200]], None, 415, "damaged or truncated"),
    ],
)
def test_a_bad_mask_is_refused_in_one_line_and_nothing_is_kept(make_client, masks, keep, status, words):
    painter = Painter()
    client = make_client(painter)
    for route in ("/api/plan", "/api/jobs"):
        answer = client.post(route, data=TINY, files=uploads() + regions(*masks, keep=keep))
        assert answer.status_code == status, answer.text
        assert words in answer.json()["detail"] and "\n" not in answer.json()["detail"]
    assert painter.calls == 0 and client.get("/api/jobs").json() == []
    assert not any(client.app.state.studio.store.root.iterdir())


def test_overlapping_masks_and_masks_on_a_clip_are_refused(make_client):
    client = make_client(Painter())
    files = uploads(png(), png(), png()) + regions(mask(LEFT), mask((0, 0, 30, 36)))
    answer = client.post("/api/jobs", data=TINY, files=files)
    assert answer.status_code == 422 and "overlap: they add up to more than 1 at 864 pixels" in answer.json()["detail"]
    answer = client.post("/api/jobs", data=CLIP, files=clip_upload() + regions(mask(LEFT)))
    assert answer.status_code == 422 and "not a clip" in answer.json()["detail"]
    assert not any(client.app.state.studio.store.root.iterdir())


def parts(*masks: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The paintings' own masks: the part of each to learn from."""
    return [("painting_masks", (f"part{i}.png", m, "image/png")) for i, m in enumerate(masks, 1)]


def test_a_paintings_own_mask_is_kept_passed_to_the_run_and_repainted_with(make_client, tmp_path):
    painter = Painter()
    client = make_client(painter)
    files = uploads(png(), png(color=(20, 60, 200)), png(64, 48, color=(200, 200, 20)))
    whole, top = mask((0, 0, 48, 36)), mask((0, 0, 64, 24), (64, 48))  # all of the first, the second's top half
    created = client.post("/api/jobs", data=TINY, files=files + regions(mask(LEFT), mask(RIGHT)) + parts(whole, top))
    assert created.status_code == 201, created.text
    job = wait_for(client, created.json()["id"])
    assert job["state"] == "done", job
    assert [i["role"] for i in job["inputs"]][3:] == ["mask", "mask", "painting mask", "painting mask"]
    assert client.get(job["inputs"][6]["image_url"]).content == top  # what "Reuse" brings back
    assert painter.names == ["photo.png", "painting0.png", "painting1.png"]  # as uploaded, not style1.png
    first, second = painter.regions.sources
    assert first.shape == (36, 48) and first.min() == 1
    assert second.shape == (48, 64) and second[:24].min() == 1 and second[24:].max() == 0
    saved = tmp_path / "picture.png"
    saved.write_bytes(client.get(job["result_url"]).content)
    assert [i["role"] for i in read_recipe(saved)["inputs"]][5:] == ["painting mask", "painting mask"]
    again = client.post(f"/api/jobs/{job['id']}/repaint")
    wait_for(client, again.json()["id"])
    assert painter.calls == 2 and painter.regions.sources[1][24:].max() == 0


@pytest.mark.parametrize(
    "masks, words",
    [
        ([mask(LEFT), mask(LEFT)], "more painting masks than paintings (2 painting masks, 1 painting)"),
        ([mask()], "painting mask part1.png is empty (all black)"),
        ([mask((0, 0, 12, 36), (24, 36))], "painting mask part1.png is 24x36, not the painting's shape (48x36)"),
    ],
)
def test_a_bad_painting_mask_is_refused_in_one_line_and_nothing_is_kept(make_client, masks, words):
    painter = Painter()
    client = make_client(painter)
    for route in ("/api/plan", "/api/jobs"):
        answer = client.post(route, data=TINY, files=uploads() + parts(*masks))
        assert answer.status_code == 422, answer.text
        assert words in answer.json()["detail"] and "\n" not in answer.json()["detail"]
    answer = client.post("/api/jobs", data=CLIP, files=clip_upload() + parts(mask(LEFT)))
    assert answer.status_code == 422 and "not a clip" in answer.json()["detail"]
    assert painter.calls == 0 and not any(client.app.state.studio.store.root.iterdir())


def test_a_painting_whose_mask_covers_only_its_transparent_part_is_refused_before_the_job(make_client):
    painter = Painter()
    client = make_client(painter)
    see_through = Image.new("RGBA", (48, 36), (200, 200, 20, 255))
    see_through.paste((200, 200, 20, 0), (0, 0, 24, 36))  # its left half transparent
    buf = io.BytesIO()
    see_through.save(buf, "PNG")
    for route in ("/api/plan", "/api/jobs"):
        answer = client.post(route, data=TINY, files=uploads(png(), buf.getvalue()) + parts(mask((0, 0, 24, 36))))
        assert answer.status_code == 422 and "its mask covers only its transparent part" in answer.text, route
    assert painter.calls == 0


# --- clips -----------------------------------------------------------------------------------------

FOX = Path(__file__).resolve().parents[2] / "brushwork" / "examples" / "video" / "fox.mp4"
CLIP = {"size": "64", "steps": "4", "end": "0.1", "later_steps": "2", "style_examples": ["wave"]}


def clip_upload(data: bytes | None = None, name: str = "my fox.mp4") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("content", (name, FOX.read_bytes() if data is None else data, "video/mp4"))]


@pytest.mark.video
def test_a_clip_is_painted_in_the_photos_place_and_comes_back_as_a_video(make_client):
    from brushwork.media.clips import probe

    client = make_client()
    config = client.get("/api/config").json()
    assert config["max_clip_seconds"] == 10 and config["max_clip_bytes"] >= 50 * 2**20  # limits the page shows
    assert {"fox": True, "tubingen": False}.items() <= {
        e["name"]: e["clip"] for e in client.get("/api/examples").json() if e["role"] == "content"
    }.items()
    planned = client.post("/api/plan", data=CLIP, files=clip_upload())
    assert planned.status_code == 200 and "then 2 later frames of 2 steps at 64x" in planned.json()["plan"]

    created = client.post("/api/jobs", data=CLIP, files=clip_upload())
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "clip" and created.json()["inputs"][0]["clip"] is True
    job = wait_for(client, created.json()["id"])
    assert job["state"] == "done", job
    assert (job["frames_done"], job["frames_total"]) == (3, 3) and job["video"]["later_steps"] == 2
    assert job["previews"] >= 3  # the first frame emerging, then each finished frame
    assert len(job["history"]) == 4 + 2 * 2 and job["losses"]["total"] > 0  # every frame's steps: the loss chart
    movie = client.get(job["download_url"])
    assert movie.headers["content-type"] == "video/mp4" and ".mp4" in movie.headers["content-disposition"]
    saved = client.app.state.studio.store.result(job["id"])
    info = probe(saved)
    assert info.frames == 3 and max(info.width, info.height) == 64 and info.audio == probe(FOX).audio
    for url in (job["thumbnail_url"], job["preview_url"], job["inputs"][0]["thumbnail_url"]):
        answer = client.get(url)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/"), url
    assert client.get(job["inputs"][0]["image_url"]).headers["content-type"] == "video/mp4"

    again = client.post(f"/api/jobs/{job['id']}/repaint")  # the same clip and settings, again
    assert again.status_code == 201 and again.json()["kind"] == "clip" and again.json()["video"] == job["video"]
    client.post(f"/api/jobs/{again.json()['id']}/cancel")


@pytest.mark.video
def test_a_cut_off_clip_is_planned_with_the_warning_the_command_line_gives(make_client, tmp_path):
    from sample_clips import make_clip

    client = make_client()
    whole = make_clip(tmp_path / "whole.mkv", size=(32, 24), times=tuple(i / 4 for i in range(12)), sound=False)
    data = whole.read_bytes()
    planned = client.post("/api/plan", data=CLIP, files=clip_upload(data[: len(data) * 4 // 5], "cut.mkv"))
    assert planned.status_code == 200, planned.text
    assert "note: cut.mkv looks damaged: only " in planned.json()["plan"]
    whole_plan = client.post("/api/plan", data=CLIP, files=clip_upload(data, "whole.mkv"))
    assert whole_plan.status_code == 200 and "damaged" not in whole_plan.json()["plan"]


@pytest.mark.video
def test_a_stopped_clip_keeps_the_frames_it_painted_as_a_video(make_client):
    from brushwork.media.clips import probe

    client = make_client()
    data = {**CLIP, "end": "0.5", "later_steps": "30", "content_example": "fox"}
    job_id = client.post("/api/jobs", data=data).json()["id"]
    deadline = time.monotonic() + 120
    while client.get(f"/api/jobs/{job_id}").json()["frames_done"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    client.post(f"/api/jobs/{job_id}/cancel")
    job = wait_for(client, job_id)
    assert job["state"] == "cancelled" and "frames painted are kept" in job["message"]
    assert 2 <= job["frames_done"] < job["frames_total"] == 15
    assert probe(client.app.state.studio.store.result(job_id)).frames == job["frames_done"]


@pytest.mark.video
def test_a_clip_whose_loss_turns_nan_fails_naming_the_control_to_lower(make_client):
    client = make_client()
    data = {**CLIP, "size": "32", "steps": "10", "optimizer": "lbfgs", "lr": "255", "content_example": "fox"}
    job = wait_for(client, client.post("/api/jobs", data=data).json()["id"])
    assert job["state"] == "failed", job  # not "cancelled": painting it again would fail again
    assert (
        job["error"].startswith("frame 0: the loss became NaN or infinite")
        and "try a lower learning rate" in job["error"]
    )


@pytest.mark.video
@pytest.mark.parametrize(
    ("form", "upload", "status", "words"),
    [
        ({"end": None}, None, 422, "at most 1 s of a clip"),
        ({"start": "5", "end": None}, None, 422, "lasts 2.0 s"),
        ({"start": "0.5", "end": "0.2"}, None, 422, "End must be after the start"),
        ({}, b"\0\0\0 ftypisom" + b"x" * 500, 415, "cannot read 'my fox.mp4' as a video"),
        ({"temporal_weight": "-1"}, None, 422, "Steadiness must be at least 0"),
    ],
)
def test_a_clip_the_studio_cannot_paint_is_refused_with_one_line(make_client, form, upload, status, words):
    client = make_client(Painter(), max_clip_seconds=1.0)
    data = {k: v for k, v in {**CLIP, **form}.items() if v is not None}
    answer = client.post("/api/jobs", data=data, files=clip_upload(upload))
    assert answer.status_code == status and words in answer.json()["detail"], answer.json()
    assert not any(client.app.state.studio.store.root.iterdir())  # nothing left behind


@pytest.mark.video
def test_a_clip_larger_than_the_studio_takes_is_refused(make_client):
    client = make_client(Painter(), max_clip_bytes=100_000)
    answer = client.post("/api/jobs", data=CLIP, files=clip_upload())
    assert answer.status_code == 413 and "MB for a clip" in answer.json()["detail"]


# --- who may talk to the studio --------------------------------------------------------------------

ATTACK = {"content_example": "stata", "style_examples": "starry_night", "size": "32"}
"""What an auto-submitting form on any web page can send: form-encoded, no token."""
ELSEWHERE = {"origin": "http://evil.example", "sec-fetch-site": "cross-site"}


def stranger(client: TestClient, base_url: str = "http://127.0.0.1") -> TestClient:
    """Another client of the same running studio, without the token its page carries."""
    return TestClient(client.app, base_url=base_url)


def refused(answer, words: str) -> bool:
    detail = answer.json()["detail"]
    return answer.status_code == 403 and words in detail and "\n" not in detail


def test_another_web_site_cannot_start_cancel_or_delete_jobs(make_client):
    painter = Painter()
    client = make_client(painter)
    other = stranger(client)
    assert refused(other.post("/api/jobs", data=ATTACK, headers=ELSEWHERE), "only from its own page")
    assert refused(other.post("/api/jobs", data=ATTACK, headers={"sec-fetch-site": "same-site"}), "its own page")
    assert refused(other.post("/api/plan", data=ATTACK, headers={"origin": "null"}), "its own page")
    assert refused(other.post("/api/jobs", data=ATTACK), f"token in the {TOKEN_HEADER} header")  # curl, no token
    assert refused(client.post("/api/jobs", data=ATTACK, headers=ELSEWHERE), "its own page")  # token or not
    assert client.get("/api/jobs").json() == []

    job = client.post("/api/jobs", data={**TINY, **EXAMPLES, "steps": "400"}).json()
    assert painter.started.wait(10)
    for route in (f"/api/jobs/{job['id']}/cancel", f"/api/jobs/{job['id']}/repaint"):
        assert refused(other.post(route, headers=ELSEWHERE), "its own page")
    assert refused(other.delete(f"/api/jobs/{job['id']}", headers=ELSEWHERE), "its own page")
    assert [(j["state"], j["cancel_requested"]) for j in client.get("/api/jobs").json()] == [("running", False)]
    painter.release.set()


def test_the_page_carries_the_token_its_own_requests_need(make_client):
    client = make_client(Painter())
    visitor = stranger(client)
    page = visitor.get(f"/?token={client.app.state.studio.access.token}").text  # as 'brushwork serve' printed it
    token = re.search(r'<meta name="brushwork-token" content="([^"]+)">', page).group(1)
    assert (
        token == client.app.state.studio.access.token and f'"{TOKEN_HEADER}": TOKEN' in page
    )  # and its script sends it
    own = {"origin": "http://127.0.0.1", "sec-fetch-site": "same-origin", TOKEN_HEADER: token}
    created = visitor.post("/api/jobs", data={**TINY, **EXAMPLES}, headers=own)
    assert created.status_code == 201, created.text
    assert visitor.post(f"/api/jobs/{created.json()['id']}/cancel", headers=own).status_code in (200, 409)
    stale = {**own, TOKEN_HEADER: "of-a-studio-since-restarted"}  # a page opened before the studio restarted
    assert refused(visitor.post("/api/jobs", data=TINY, headers=stale), "which has restarted since: open the address")


def test_no_other_site_may_show_the_studio_in_a_frame(make_client):
    """Clickjacking: a frame of the page holds its token, so a hidden click there would start or delete jobs."""
    client = make_client(Painter())
    for answer in (
        client.get("/"),
        client.get("/api/jobs"),
        client.get("/docs"),
        stranger(client).post("/api/jobs", data=ATTACK, headers=ELSEWHERE),  # refused answers too
    ):
        assert answer.headers["x-frame-options"] == "DENY", answer.request.url
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_a_websocket_is_refused_before_any_route(make_client):
    from starlette.websockets import WebSocketDisconnect

    client = make_client()
    with pytest.raises(WebSocketDisconnect) as refused_socket:
        with client.websocket_connect("/api/jobs", headers={"origin": "http://evil.example"}):
            pass
    assert refused_socket.value.code == 1008


def test_a_damaged_picture_in_the_data_folder_is_a_404_not_a_crash(make_client, tmp_path):
    client = make_client(Painter(), data=tmp_path / "studio")
    job = wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])
    (tmp_path / "studio" / "jobs" / job["id"] / "result.png").write_bytes(b"\x89PNG damaged")
    answer = client.get(f"/api/jobs/{job['id']}/result?thumb=true")
    assert answer.status_code == 404 and "cannot be shown" in answer.json()["detail"], answer.text


def test_a_link_in_the_data_folder_is_never_followed_and_the_folder_is_the_owners_alone(make_client, tmp_path):
    """Whoever can write into a shared or synced data folder must not make the studio serve the user's files."""
    secret = tmp_path / "secret.txt"
    secret.write_text("the user's private file")
    client = make_client(Painter(), data=tmp_path / "studio")
    job = wait_for(client, client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()["id"])
    assert job["state"] == "done" and client.get(f"/api/jobs/{job['id']}/result").status_code == 200
    folder = tmp_path / "studio" / "jobs" / job["id"]
    for name in ("result.png", next(p.name for p in folder.iterdir() if p.name.startswith("content"))):
        (folder / name).unlink()
        (folder / name).symlink_to(secret)
    for path in ("result", "result?thumb=true", "inputs/0", "bundle"):
        answer = client.get(f"/api/jobs/{job['id']}/{path}")
        assert answer.status_code == 404 and b"private" not in answer.content, path
    assert (tmp_path / "studio").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "studio" / "jobs").stat().st_mode & 0o777 == 0o700
    assert folder.stat().st_mode & 0o777 == 0o700


def test_the_server_makes_its_data_folder_its_owners_alone(tmp_path):
    from brushwork.web.store import make_data_folder

    jobs = make_data_folder(tmp_path / "new" / "data")
    assert jobs.parent.stat().st_mode & 0o777 == 0o700 and jobs.stat().st_mode & 0o777 == 0o700


def test_every_answer_is_taken_as_its_type_and_only_the_pages_own_script_runs(make_client):
    """Defence in depth: no answer is sniffed into another type, embedded by another site, or runs a script but
    the page's own (a file name shown on it, a picture opened alone)."""
    client = make_client(Painter())
    job = client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()
    page, picture, listing = client.get("/"), client.get(f"/api/jobs/{job['id']}/inputs/0"), client.get("/api/jobs")
    for answer in (page, picture, listing, client.get("/docs")):
        assert answer.headers["x-content-type-options"] == "nosniff", answer.request.url
        assert answer.headers["cross-origin-resource-policy"] == "same-origin"
    policy = page.headers["content-security-policy"]
    assert "script-src 'sha256-" in policy and "unsafe-inline'; img-src" in policy and "default-src 'self'" in policy
    assert "'unsafe-eval'" not in policy and "script-src 'self'" not in policy
    for answer in (picture, listing):
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:18942",
        "evil.example",
        "192.168.1.5:8000",
        "127.0.0.1.evil.example",
        "localhost:8000@evil.example",  # no browser sends these: they are refused all the same
        "127.0.0.1/evil",
        "",
    ],
)
def test_a_studio_on_loopback_answers_no_other_host_name(make_client, host):
    """DNS rebinding: another site's name pointed at 127.0.0.1 reaches the studio, but gets nothing."""
    client = make_client(Painter())
    job = client.post("/api/jobs", data={**TINY, **EXAMPLES}).json()
    for path in ("/", "/api/jobs", f"/api/jobs/{job['id']}/inputs/0", "/docs", "/nowhere"):
        assert refused(client.get(path, headers={"host": host}), "answers only at 127.0.0.1, localhost or [::1]")


def test_a_studio_on_loopback_answers_the_loopback_names_and_its_own(make_client, tmp_path):
    client = make_client(access=Access.local(name="studio.lan"))
    for host in ("127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "studio.lan:8000"):
        assert client.get("/api/jobs", headers={"host": host}).status_code == 200, host


def test_a_studio_on_loopback_answers_at_its_own_port_only(make_client):
    """Another server on this machine (a proxy on another port) is another origin: it gets nothing."""
    client = make_client(Painter(), access=Access.local(port=8765))
    assert client.get("/api/jobs", headers={"host": "127.0.0.1:8765"}).status_code == 200
    for host in ("localhost:1", "127.0.0.1:9999", "[::1]:8000", "localhost"):
        assert refused(client.get("/api/jobs", headers={"host": host}), "port 8765"), host


@pytest.mark.parametrize(
    ("access", "address"),
    [
        (Access.local("s3cret-token"), "http://127.0.0.1:8000"),  # another user of the machine sees nothing
        (Access.shared("s3cret-token"), "http://192.168.1.5:8000"),
    ],
)
def test_a_studio_needs_its_token_for_everything(make_client, access, address):
    client = make_client(Painter(), access=access)
    visitor = stranger(client, address)
    for path in ("/", "/api/jobs", "/api/config", "/docs"):
        assert refused(visitor.get(path), "needs its token")
    page = visitor.get("/?token=s3cret-token")  # the address 'brushwork serve' printed
    assert page.status_code == 200 and 'content="s3cret-token"' in page.text
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("brushwork-token-8000=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert visitor.get("/api/jobs").status_code == 200  # the cookie carries it from now on
    restarted = stranger(client, address)  # a browser holding the token of this studio before it restarted
    restarted.cookies.set("brushwork-token-8000", "old")
    assert refused(restarted.get("/"), "not this studio's (mistyped, or from before it restarted)")
    in_a_browser = stranger(client, address).get("/", headers={"accept": "text/html,application/xhtml+xml"})
    assert in_a_browser.status_code == 403 and in_a_browser.headers["content-type"].startswith("text/html")
    assert "<p>this studio needs its token: open the address with ?token= that &#x27;brushwork serve&#x27; printed" in (
        in_a_browser.text
    )
    own = {"origin": address, "sec-fetch-site": "same-origin"}
    assert refused(visitor.post("/api/jobs", data={**TINY, **EXAMPLES}, headers=own), "token")  # changes: the header
    created = visitor.post("/api/jobs", data={**TINY, **EXAMPLES}, headers={**own, TOKEN_HEADER: "s3cret-token"})
    assert created.status_code == 201, created.text


def test_one_machine_may_keep_only_so_many_jobs_waiting(make_client):
    painter = Painter()
    client = make_client(painter, max_waiting=2)
    first = client.post("/api/jobs", data={**TINY, **EXAMPLES, "steps": "400"}).json()
    assert painter.started.wait(10)  # painting: no longer waiting
    assert [client.post("/api/jobs", data={**TINY, **EXAMPLES}).status_code for _ in range(2)] == [201, 201]
    for answer in (
        client.post("/api/jobs", data={**TINY, **EXAMPLES}),
        client.post(f"/api/jobs/{first['id']}/repaint"),
    ):
        detail = answer.json()["detail"]
        assert answer.status_code == 429 and "2 jobs waiting" in detail and "\n" not in detail, answer.text
    assert len(client.get("/api/jobs").json()) == 3 and len(list(client.app.state.studio.store.root.iterdir())) == 3
    painter.release.set()


@pytest.mark.video
def test_a_clip_with_frames_larger_than_a_picture_may_be_is_refused(make_client):
    client = make_client(Painter(), max_pixels=10_000)
    for files, data in ((clip_upload(), CLIP), ([], {**CLIP, "content_example": "fox"})):
        answer = client.post("/api/jobs", data=data, files=files)
        detail = answer.json()["detail"]
        assert answer.status_code == 413 and "more than 0.01 megapixels" in detail and "\n" not in detail, detail
    assert not any(client.app.state.studio.store.root.iterdir())


def _ipv6() -> bool:
    try:
        socket.create_server(("::", 0), family=socket.AF_INET6).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    "host", ["0.0.0.0", pytest.param("::", marks=pytest.mark.skipif(not _ipv6(), reason="no IPv6"))]
)
def test_serve_on_a_network_address_warns_and_prints_the_address_with_its_token(tmp_path, host):
    """Every address: each it is reached at is said, with the token; ``::`` takes IPv4 too (where the system can),
    and says its IPv4 addresses first."""
    argv = ["serve", "--host", host, "--port", "0", "--data", str(tmp_path), "--token", "s3cret-token"]
    proc = subprocess.Popen([sys.executable, "-m", "brushwork", *argv], stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stderr.readline()]
        while "warning" not in lines[-1] and lines[-1]:
            lines.append(proc.stderr.readline())
        said = "".join(lines)
        url = re.search(r"at (http://(\S+):\d+/\?token=s3cret-token) ", lines[0])
        assert url and not url.group(2).startswith(("0.0.0.0", "[::]")), said
        assert not url.group(2).startswith("[") or not socket.has_dualstack_ipv6(), said  # IPv4 first
        assert "warning: the studio has no login" in said, said
        port = url.group(1).split(":")[2].split("/")[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/config?token=s3cret-token") as answer:
            assert answer.status == 200
        with pytest.raises(urllib.error.HTTPError) as no_token:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/config")
        assert no_token.value.code == 403
    finally:
        proc.terminate()
        proc.wait(30)


def test_sigterm_stops_the_studio_as_ctrl_c_does(tmp_path):
    """A service manager's stop: exit 0 and the same last line, not a bare 143."""
    import signal

    argv = ["serve", "--port", "0", "--data", str(tmp_path)]
    proc = subprocess.Popen([sys.executable, "-m", "brushwork", *argv], stderr=subprocess.PIPE, text=True)
    said = proc.stderr.readline()
    assert "Ctrl-C to stop" in said, said
    assert proc.stderr.readline() == "only this computer can reach it (it listens on 127.0.0.1 alone)\n"
    port = re.search(r":(\d+)/", said).group(1)
    for _ in range(100):  # serving: the signal reaches uvicorn's own handler
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/api/config"):
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0 and rest.strip().splitlines()[-1] == "brushwork studio stopped", rest


def test_a_studio_stopped_while_painting_says_which_picture_it_stopped_and_kept(tmp_path):
    import signal

    import httpx

    argv = ["serve", "--port", "0", "--data", str(tmp_path)]
    proc = subprocess.Popen([sys.executable, "-m", "brushwork", *argv], stderr=subprocess.PIPE, text=True)
    try:
        url = re.search(r"at (http://\S+/)\?token=(\S+) ", proc.stderr.readline())
        base, headers = url.group(1), {"X-Brushwork-Token": url.group(2)}
        form = {"content_example": "tubingen", "style_examples": ["wave"], "size": "64", "steps": "2000"}
        job = httpx.post(f"{base}api/jobs", data=form, headers=headers, timeout=60).json()
        assert "id" in job, job
        for _ in range(600):
            if httpx.get(f"{base}api/jobs/{job['id']}", headers=headers).json()["step"] > 0:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=60)
    finally:
        proc.kill()
    last = rest.strip().splitlines()[-1]
    assert proc.returncode == 0 and re.fullmatch(
        r"brushwork studio stopped; tubingen.jpg with wave.jpg: the studio stopped at step \d+, the picture so far "
        r"kept; the page paints it again",
        last,
    ), rest


def test_a_form_field_the_studio_has_not_is_refused_naming_it_not_painted_at_the_defaults(make_client):
    client = make_client(Painter())
    for field, words in (("sise", "no field 'sise'; did you mean 'size'?"), ("preset", "no field 'preset'")):
        for path in ("/api/jobs", "/api/plan"):
            answer = client.post(path, data={**TINY, **EXAMPLES, field: "64"})
            assert answer.status_code == 422 and words in answer.json()["detail"], (path, answer.text)
    assert client.get("/api/jobs").json() == []  # nothing was painted


def test_a_job_sent_as_json_is_told_to_come_as_a_form(make_client):
    client = make_client(Painter())
    answer = client.post("/api/jobs", json={**TINY, **EXAMPLES})
    assert (
        answer.status_code == 415
        and "send the job as a form (multipart/form-data), not application/json" in answer.text
    )
    shouted = {"content-type": "Application/X-WWW-Form-Urlencoded"}  # media types ignore case
    read = client.post("/api/plan", content=urlencode({**TINY, "content_example": "tubingen"}), headers=shouted)
    assert read.status_code == 422 and "paintings" in read.json()["detail"]  # the form was read: it lacks a painting


def test_a_stop_while_the_studio_is_starting_ends_it_with_status_0(monkeypatch, capsys, tmp_path):
    """A service manager's stop before the server runs (while it loads): the same status as a stop once it runs,
    and no word of painting."""
    from brushwork.cli import main
    from brushwork.web import server

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(server, "serve", stopped)
    assert main(["serve", "--port", "0", "--data", str(tmp_path)]) == 0
    assert capsys.readouterr().err == "brushwork studio stopped before it started\n"
