"""The studio end to end: ``brushwork serve`` in a subprocess, driven by headless Chromium as an artist would.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and Playwright for
Python; Playwright's own browsers are not used. Without Chromium the test is
skipped, unless ``CI`` is set: CI installs it, so there a missing browser fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brushwork.engine.recipes import find_inputs
from brushwork.engine.recipes import read as read_recipe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
EXAMPLES = ROOT / "brushwork" / "examples"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install it (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def studio(tmp_path):
    """The real command on a free port, with limits that keep every job tiny; yields its URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "brushwork",
            "serve",
            "--port",
            "0",
            "--data",
            str(tmp_path / "data"),
            "--max-size",
            "64",
            "--max-steps",
            "40",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        match = re.search(r"at (http://\S+/) ", line)
        assert match, f"brushwork serve said {line!r}"
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_an_artist_uploads_paints_watches_and_downloads(browser, studio, tmp_path):
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    # the studio takes changes only with its token: the page has it, a request without it is refused
    bare = (
        "() => fetch('/api/jobs', {method: 'POST', body: new FormData()}).then(async (r) => [r.status, await r.json()])"
    )
    status, answer = page.evaluate(bare)
    assert status == 403 and "token" in answer["detail"]
    posts: list[dict[str, str]] = []
    page.on("request", lambda r: posts.append(r.headers) if r.method == "POST" and "/api/jobs" in r.url else None)
    page.evaluate("""() => {  /* remember every picture the easel shows */
        window.shown = [];
        new MutationObserver(() => window.shown.push(document.getElementById('picture').src))
            .observe(document.getElementById('picture'), {attributes: true, attributeFilter: ['src']});
    }""")

    page.set_input_files("#content-file", str(EXAMPLES / "content" / "tubingen.jpg"))
    page.set_input_files("#style-files", str(EXAMPLES / "style" / "starry_night.jpg"))
    assert page.text_content("#content-drop b") == "tubingen.jpg"
    assert page.text_content("#style-chips .chip span") == "starry_night.jpg"
    assert page.get_attribute("#size", "min") == "16"  # any size the studio takes, not only the buttons'
    page.fill("#size", "24")
    page.dispatch_event("#size", "change")
    assert page.locator("#sizes button.on").count() == 0
    page.click('#sizes [data-value="64"]')
    assert page.input_value("#size") == "64"
    page.click("#advanced summary")
    start_from, steps = page.locator("#opt-init").bounding_box(), page.locator("#opt-steps").bounding_box()
    assert start_from["width"] > 1.5 * steps["width"]  # its long choices get a whole row, not half of one
    page.fill("#opt-steps", "10")
    page.dispatch_event("#opt-steps", "change")
    # before painting, the brush shows what the run needs on this machine, its table within the column
    page.wait_for_function(
        """() => document.getElementById('plan').textContent.startsWith('plan: 64x48 px')
            && [...document.querySelectorAll('#plan tr')].some((r) =>
                [...r.cells].slice(0, 4).map((c) => c.textContent).join(' ') === '1 64x48 10 whole')""",
        timeout=60_000,
    )
    plan = page.locator("#plan")
    assert plan.evaluate("(e) => e.scrollWidth <= e.clientWidth")
    page.click("#paint")

    page.wait_for_selector('#status[data-state="running"]', timeout=60_000)
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    page.wait_for_function("() => document.getElementById('picture').src.includes('/result')", timeout=10_000)
    shown = page.evaluate("window.shown")
    assert any("/preview?n=" in src for src in shown), shown  # it painted before our eyes
    assert page.text_content("#steps-done") == "10 / 10 steps"
    assert page.text_content("#job-plan-text").startswith("plan: 64x48 px")  # and each job keeps its plan
    assert posts and all(h.get("x-brushwork-token") for h in posts)
    assert page.locator("#plot-line").get_attribute("d").count("L") >= 5
    page.wait_for_selector(".work img")
    assert "Tubingen, after Starry Night" in page.text_content(".work .cap")

    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "tubingen__starry_night.png" and saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    recipe = read_recipe(saved)
    assert recipe["settings"]["size"] == 64 and recipe["settings"]["steps"] == 10
    assert [i["name"] for i in recipe["inputs"]] == ["tubingen.jpg", "starry_night.jpg"]  # as uploaded
    for name in ("content/tubingen.jpg", "style/starry_night.jpg"):  # beside the download, a rerun finds them
        shutil.copyfile(EXAMPLES / name, tmp_path / Path(name).name)
    assert [p.name for p in find_inputs(recipe, saved)] == ["tubingen.jpg", "starry_night.jpg"]

    page.click("#advanced summary")  # fold the advanced settings away again for the picture
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.move(0, 0)
    time.sleep(0.3)
    page.screenshot(path=tmp_path / "studio.png", full_page=True)
    if os.environ.get("BRUSHWORK_UPDATE_SCREENSHOT"):  # `make screenshots` refreshes the README's picture
        shutil.copyfile(tmp_path / "studio.png", ROOT / "docs" / "studio.png")
    assert errors == []


@pytest.mark.video
def test_a_clip_is_painted_frame_by_frame_and_downloaded_as_a_video(browser, studio, tmp_path):
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    assert "clips up to 10 s" in page.text_content("#limits")  # the limits are shown before anything is chosen
    assert page.is_hidden("#clip-fields")

    page.set_input_files("#content-file", str(EXAMPLES / "video" / "fox.mp4"))
    page.wait_for_selector("#clip-fields", state="visible")  # a clip's own settings appear with it
    assert page.text_content("#content-drop b") == "fox.mp4"
    page.click('#style-examples [data-example="wave"]')
    page.click('#sizes [data-value="64"]')
    page.fill("#opt-end", "0.1")
    page.fill("#opt-later_steps", "2")
    page.click("#advanced summary")
    page.fill("#opt-steps", "6")
    page.dispatch_event("#opt-end", "change")
    page.wait_for_function(
        "() => /then 2 later frames of 2 steps/.test(document.getElementById('plan').textContent)", timeout=60_000
    )
    page.click("#paint")

    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    page.wait_for_selector("#movie", state="visible")
    assert "/result" in page.get_attribute("#movie", "src")
    assert page.text_content("#steps-done") == "3 / 3 frames"
    assert page.text_content("#plot-what") == "loss, frame by frame"  # every frame's steps: 6 + 2 + 2
    assert page.locator("#plot-line").get_attribute("d").count("L") >= 8
    assert page.text_content("#download") == "↓ Download MP4"
    page.wait_for_selector(".work .clipmark")  # the gallery marks it as a clip, its first frame as the picture

    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "fox__wave.mp4" and saved.read_bytes()[4:8] == b"ftyp"
    page.screenshot(path=tmp_path / "studio_clip.png", full_page=True)
    assert errors == []


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_the_page_is_one_column_that_fits(browser, studio, tmp_path):
    """360-414 px wide: nothing sticks out, even a picture with a 600-character file name."""
    photo = {
        "name": "a_very_long_photo_name_" * 26 + ".jpg",
        "mimeType": "image/jpeg",  # longer than a disk allows
        "buffer": (EXAMPLES / "content" / "tubingen.jpg").read_bytes(),
    }
    page = browser.new_page(viewport={"width": 360, "height": 780})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    assert no_sideways_scroll(page)
    frame, palette = page.locator(".frame").bounding_box(), page.locator(".palette").bounding_box()
    assert palette["y"] - (frame["y"] + frame["height"]) <= 30  # no empty rows under an empty easel
    fox = page.locator('#content-examples [data-example="fox"]')
    badge, name = fox.locator(".film").bounding_box(), fox.locator(".name").bounding_box()
    assert badge["y"] + badge["height"] <= name["y"] and badge["width"] < 60  # the CLIP badge leaves the name be
    assert page.locator("#qualities button.on").count() == 1  # the default number of steps is one of the choices
    page.set_input_files("#content-file", photo)
    page.click('#style-examples [data-example="wave"]')
    page.click('#sizes [data-value="64"]')
    page.click("#qualities button >> nth=0")
    page.click("#paint")
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    page.wait_for_selector(".work img")
    for width in (360, 390, 414):
        page.set_viewport_size({"width": width, "height": 780})
        time.sleep(0.2)
        assert no_sideways_scroll(page), width
        palette, easel = page.locator(".palette").bounding_box(), page.locator(".easel").bounding_box()
        assert palette["width"] <= width and easel["width"] <= width
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=tmp_path / "studio_phone.png", full_page=False)
    if os.environ.get("BRUSHWORK_UPDATE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "studio_phone.png", ROOT / "docs" / "studio_phone.png")
    assert errors == []


def test_a_non_image_is_refused_at_once_and_reuse_brings_the_pictures_back(browser, studio, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    (tmp_path / "notes.jpg").write_text("not a picture")
    page.set_input_files("#content-file", str(tmp_path / "notes.jpg"))
    page.wait_for_selector(".toast.show")
    assert "notes.jpg is not a picture" in page.text_content("#toast")
    assert page.text_content("#content-drop b") == "Drop a photo or a clip here"  # nothing taken, no broken thumbnail

    page.set_input_files("#content-file", str(EXAMPLES / "content" / "chicago.jpg"))
    page.set_input_files("#style-files", str(EXAMPLES / "style" / "wave.jpg"))
    page.click('#sizes [data-value="64"]')
    page.click("#advanced summary")
    page.fill("#opt-steps", "3")
    page.fill("#opt-style_weight", "1234")
    page.click("#paint")
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    page.reload()  # a fresh page: nothing chosen
    page.wait_for_selector(".work img")
    page.click(".work")
    page.wait_for_selector("#reuse:not([hidden])")
    page.click("#reuse")
    page.wait_for_function("() => document.querySelector('#content-drop b').textContent === 'chicago.jpg'")
    assert page.text_content("#style-chips .chip span") == "wave.jpg"
    assert page.input_value("#opt-style_weight") == "1234" and page.input_value("#opt-steps") == "3"
    assert not page.is_disabled("#paint")
