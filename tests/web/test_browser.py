"""The studio end to end: ``brushwork serve`` in a subprocess, driven by headless Chromium as an artist would.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and Playwright for
Python; Playwright's own browsers are not used. Without Chromium the test is
skipped, unless ``CI`` is set: CI installs it, so there a missing browser fails.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
from PIL import Image
from sample_pictures import png_header_only

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
    """The real command on a free port, with limits that keep every job tiny; yields its URL (its token in it)."""
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
        match = re.search(r"at (http://\S+/\?token=\S+) ", line)
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
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
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
    alone = browser.new_page()  # the picture opened in a tab of its own: the browser's viewer shows it, unblocked
    alone.context.add_cookies(page.context.cookies())  # a tab of the same browser, which holds the studio's cookie
    alone.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    alone.goto(urljoin(studio, page.get_attribute("#picture", "src")))
    assert alone.evaluate("() => document.images.length === 1 && document.images[0].naturalWidth > 0")
    alone.close()

    assert page.is_hidden("#bundle")  # no masks: the photo and painting the user gave are all a rerun reads
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

    assert page.is_hidden("#bundle")  # no masks: the photo and painting the user gave are all a rerun reads
    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "fox__wave.mp4" and saved.read_bytes()[4:8] == b"ftyp"
    page.screenshot(path=tmp_path / "studio_clip.png", full_page=True)
    assert errors == []
    # opened alone in a tab of its own ("open video in new tab"), the clip plays: the browser's player may load it
    alone = browser.new_page()
    alone.context.add_cookies(page.context.cookies())  # a tab of the same browser, which holds the studio's cookie
    blocked: list[str] = []
    alone.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    alone.goto(urljoin(studio, page.get_attribute("#movie", "src")))
    alone.wait_for_function("() => document.querySelector('video') && document.querySelector('video').readyState > 0")
    assert blocked == []
    alone.close()


def test_the_token_in_the_address_leaves_the_address_bar_and_history(browser, studio):
    """The address 'brushwork serve' prints carries ?token=: the page drops it from the address once the cookie
    holds it, and a reload still opens; a browser without it (another user of the machine) sees nothing."""
    assert "?token=" in studio
    page = browser.new_page()
    page.goto(f"{studio}#top")
    page.wait_for_selector("#style-examples .thumb")
    assert "token" not in page.url and page.url.endswith("/#top")
    assert "token" not in page.evaluate("() => document.referrer + history.state")
    page.reload()
    page.wait_for_selector("#style-examples .thumb")
    page.close()
    stranger = browser.new_page()
    answer = stranger.goto(studio.split("?")[0])
    assert answer is not None and answer.status == 403 and "needs its token" in stranger.content()
    stranger.close()


def test_a_picture_this_browser_cannot_show_is_left_to_the_studio_or_refused_by_its_header(browser, studio, tmp_path):
    """What only the browser cannot decode is not called unreadable: a PPM goes to the studio's plan, which reads
    it; a PNG too large for the browser is refused for its pixels, which its header gives."""
    Image.open(EXAMPLES / "content" / "tubingen.jpg").resize((320, 240)).save(tmp_path / "scan.ppm")
    (tmp_path / "vast.png").write_bytes(png_header_only(30_000, 30_000))
    page = browser.new_page()
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    page.set_input_files("#content-file", str(tmp_path / "vast.png"))
    page.wait_for_selector(".toast.show")
    assert "vast.png has 900 megapixels; the studio takes up to 40: shrink it first." in page.text_content("#toast")
    page.set_input_files("#style-files", str(EXAMPLES / "style" / "wave.jpg"))
    page.set_input_files("#content-file", str(tmp_path / "scan.ppm"))
    page.wait_for_function("() => document.querySelector('#content-drop b').textContent === 'scan.ppm'")
    page.wait_for_function("() => /\\d+x\\d+ px/.test(document.querySelector('#plan').textContent)")
    assert "refused" not in (page.get_attribute("#plan", "class") or "")
    page.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_the_page_is_one_column_that_fits(browser, studio, tmp_path):
    """360-414 px wide: nothing sticks out, even a picture with a 600-character file name."""
    photo = {
        "name": "a_very_long_photo_name_" * 26 + ".jpg",
        "mimeType": "image/jpeg",  # longer than a disk allows
        "buffer": (EXAMPLES / "content" / "tubingen.jpg").read_bytes(),
    }
    page = browser.new_page(viewport={"width": 360, "height": 780}, has_touch=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    assert no_sideways_scroll(page)
    assert page.locator("#size").bounding_box()["height"] >= 40  # big enough for a finger
    frame, palette = page.locator(".frame").bounding_box(), page.locator(".palette").bounding_box()
    assert palette["y"] - (frame["y"] + frame["height"]) <= 30  # no empty rows under an empty easel
    fox = page.locator('#content-examples [data-example="fox"]')
    badge, name = fox.locator(".film").bounding_box(), fox.locator(".name").bounding_box()
    assert badge["y"] + badge["height"] <= name["y"] and badge["width"] < 60  # the CLIP badge leaves the name be
    assert page.locator("#qualities button.on").count() == 1  # the default number of steps is one of the choices
    page.set_input_files("#content-file", photo)
    page.click('#style-examples [data-example="wave"]')
    page.wait_for_selector("#regions-card:not([hidden])")
    frame, regions = page.locator(".frame").bounding_box(), page.locator("#regions-card").bounding_box()
    assert 0 <= regions["y"] - (frame["y"] + frame["height"]) <= 200  # the brush's tools under the photo and its title
    assert not page.locator("#regions-card .num").is_visible()  # no "iv." above "i. The photograph"
    assert page.locator("#title").bounding_box()["height"] < 70  # a long name takes two lines at most
    page.click('#sizes [data-value="64"]')
    page.click("#qualities button >> nth=0")
    page.click("#paint")
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    page.wait_for_selector(".work img")
    delete = page.locator(".work .del").first
    assert delete.evaluate("(b) => getComputedStyle(b).opacity") == "1" and delete.bounding_box()["width"] >= 40
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
    Image.new("L", (7000, 6000), 128).save(tmp_path / "huge.png")  # 42 megapixels: refused when picked, not at Paint
    page.set_input_files("#content-file", str(tmp_path / "huge.png"))
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('huge.png')")
    assert "huge.png has 42 megapixels; the studio takes up to 40: shrink it first." in page.text_content("#toast")
    assert page.text_content("#content-drop b") == "Drop a photo or a clip here"
    assert "and 40 megapixels" in page.text_content("#limits")

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

    # a painting picked among the examples after an upload: the paintings stay in the order the studio takes them
    # (uploads first), so the title, the blend and the masks name them alike
    page.click("#style-chips .chip button")  # the Wave off, then an example first and an upload after it
    page.click('#style-examples .thumb[data-example="starry_night"]')
    page.set_input_files("#style-files", str(EXAMPLES / "style" / "wave.jpg"))
    page.wait_for_function("() => document.querySelectorAll('#style-chips .chip').length === 2")
    assert page.locator("#style-chips .chip span").all_text_contents() == ["wave.jpg", "The Starry Night"]
    assert page.get_attribute('#style-examples .thumb[data-example="starry_night"]', "aria-pressed") == "true"
    # a new photo on the easel: the earlier job's plan and "Paint it again" go with it
    page.click('#content-examples .thumb[data-example="stata"]')
    page.wait_for_function("() => document.querySelector('#content-drop b').textContent === 'Stata Center'")
    assert page.is_hidden("#repaint") and page.is_hidden("#job-plan") and page.is_hidden("#reuse")
    # the collection answers the keyboard: Tab reaches a card, Enter opens its job
    page.focus(".work")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reuse:not([hidden])")


def test_the_collection_follows_every_job_and_a_deleted_one_leaves_the_easel(browser, studio):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    page.click('#content-examples .thumb[data-example="tubingen"]')
    page.click('#style-examples .thumb[data-example="wave"]')
    page.click('#sizes [data-value="64"]')
    # every control re-plans: "Finish" and the seed too
    page.click('#qualities button:has-text("Sketch")')
    page.wait_for_function(
        "() => [...document.querySelectorAll('#plan tr')].some((r) => r.cells[2].textContent === '13')", timeout=60_000
    )
    page.fill("#seed", "-5")
    page.dispatch_event("#seed", "change")
    page.wait_for_function("() => document.getElementById('plan').textContent.includes('Seed must be at least 0')")
    assert page.text_content("#paint-hint") == "the note below says what to change"
    page.fill("#seed", "7")
    page.dispatch_event("#seed", "change")
    page.wait_for_function("() => !document.getElementById('plan').classList.contains('refused')", timeout=60_000)
    page.click("#paint")
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    page.wait_for_selector(".work")
    # Reuse of a job of examples picks the examples again: clicking one takes it off, not adds it twice
    page.click("#reuse")
    page.wait_for_function("() => document.querySelector('#style-examples [data-example=wave]').ariaPressed === 'true'")
    assert page.locator("#style-chips .chip").count() == 1
    # a second job, and the first one looked at while it paints: the second still reaches the collection
    page.click('#qualities button:has-text("Finished")')
    page.click("#paint")
    page.wait_for_selector('#status[data-state="queued"], #status[data-state="running"]', timeout=60_000)
    page.click('#content-examples .thumb[data-example="chicago"]')  # a new photo: on the easel, to paint regions on
    page.wait_for_function("() => document.getElementById('veil').textContent === 'your photograph'")
    if page.is_visible("#queue"):  # still painting (a fast machine may have finished it): it comes back with a click
        page.click("#queue")
        page.wait_for_selector("#status:not(:empty)")
    page.click(".work")
    page.wait_for_function("() => document.querySelectorAll('.work').length === 2", timeout=180_000)
    page.wait_for_selector("#queue", state="hidden")
    # the job on the easel deleted: its picture and buttons go, the sketch comes back
    page.click('.work:has-text("13 steps")')
    page.wait_for_selector("#reuse:not([hidden])")
    page.click('.work:has-text("13 steps") .del')
    page.wait_for_function("() => document.querySelectorAll('.work').length === 1")
    assert page.is_hidden("#reuse") and page.is_hidden("#download") and page.text_content("#status") == ""
    assert page.text_content("#veil") == "your photograph"


def brush(page, box: dict[str, float], *points: tuple[float, float]) -> None:
    """Paint with the mouse through points given as fractions of the width and height of the canvas at ``box``."""
    spots = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*spots[0])
    page.mouse.down()
    for spot in spots[1:]:
        page.mouse.move(*spot, steps=8)
    page.mouse.up()


def test_an_artist_paints_regions_the_job_carries_and_reuse_brings_them_back(browser, studio, tmp_path):
    """Regions painted with the mouse over the photo: one painting's and a kept one, with the brush, the eraser
    and undo; the job carries them as masks the photo's size, and Reuse puts them back on the photo."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    assert page.is_hidden("#regions-card")  # nothing to paint on before a photo
    page.set_input_files("#content-file", str(EXAMPLES / "content" / "tubingen.jpg"))  # 1024x768
    page.set_input_files("#style-files", str(EXAMPLES / "style" / "wave.jpg"))
    page.wait_for_selector("#regions", state="visible")
    page.click('#sizes [data-value="64"]')
    page.click("#advanced summary")
    page.fill("#opt-steps", "3")
    assert page.text_content("#region-targets") == "waveKeep the photo"  # a region per painting, and one kept
    assert page.text_content("#region-targets .on") == "wave"  # the brush paints the first painting's at first
    assert page.text_content("#region-note").startswith("Nothing painted yet")
    page.click('#region-edges [data-value="hard"]')
    box = page.locator("#regions").bounding_box()

    def stroke(*points: tuple[float, float]) -> None:
        brush(page, box, *points)

    stroke((0.1, 0.2), (0.5, 0.2))  # the painting's region: a band across the top
    page.click('#region-targets [data-value="keep"]')
    stroke((0.6, 0.7), (0.9, 0.7))  # a kept band below
    stroke((0.45, 0.2))  # kept, over the painting's band: it is no longer the painting's there
    page.click('#region-tools [data-value="eraser"]')
    stroke((0.88, 0.7))  # the kept band's end rubbed out
    page.click('#region-tools [data-value="brush"]')
    stroke((0.2, 0.85), (0.4, 0.85))
    page.click("#region-undo")  # and a stroke taken back
    assert page.text_content("#region-note").startswith("Each painting paints its region")
    page.click("#paint")
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    assert page.is_hidden("#regions")  # the result is shown, not the regions

    def masks(job: dict) -> dict[str, np.ndarray]:
        folder = tmp_path / "data" / "jobs" / job["id"]
        return {name: np.asarray(Image.open(folder / f"{name}.png").convert("L")) for name in ("mask1", "keep")}

    jobs = page.evaluate("() => fetch('/api/jobs').then((r) => r.json())")
    assert [i["role"] for i in jobs[0]["inputs"]] == ["content", "style", "mask", "keep"]
    recipe = read_recipe(tmp_path / "data" / "jobs" / jobs[0]["id"] / "result.png")
    assert [i["role"] for i in recipe["inputs"]] == ["content", "style", "mask", "keep"]
    with page.expect_download() as bundled:  # the brushed masks exist nowhere else: offered with the picture
        page.click("#bundle")
    assert bundled.value.suggested_filename == "tubingen__wave.zip"
    with zipfile.ZipFile(bundled.value.path()) as unpacked:
        assert unpacked.namelist() == ["tubingen__wave.png", "tubingen.jpg", "wave.jpg", "region1.png", "keep.png"]
    drawn = masks(jobs[0])
    mask, keep = drawn["mask1"], drawn["keep"]
    assert mask.shape == keep.shape == (768, 1024)  # the photo's size

    def at(picture: np.ndarray, x: float, y: float) -> int:
        return int(picture[int(y * 768), int(x * 1024)])

    assert at(mask, 0.1, 0.2) == at(mask, 0.3, 0.2) == 255 and at(keep, 0.3, 0.2) == 0  # where the mouse went
    assert at(keep, 0.45, 0.2) == 255 and at(mask, 0.45, 0.2) == 0  # regions never overlap
    assert at(keep, 0.65, 0.7) == 255 and at(keep, 0.88, 0.7) == 0 and at(mask, 0.65, 0.7) == 0
    assert at(mask, 0.3, 0.85) == at(keep, 0.3, 0.85) == 0  # undone
    assert at(mask, 0.5, 0.5) == at(keep, 0.5, 0.5) == at(mask, 0.95, 0.95) == 0  # black elsewhere
    assert ((mask == 0) | (mask == 255)).mean() > 0.99 and (mask.astype(int) + keep).max() <= 255

    page.reload()  # a fresh page: nothing chosen
    page.wait_for_selector(".work img")
    page.click(".work")
    page.click("#reuse")
    page.wait_for_selector("#regions", state="visible")
    page.wait_for_function("() => !document.getElementById('region-clear').disabled")
    tint = """([x, y]) => [...document.getElementById('regions').getContext('2d')
        .getImageData(Math.floor(x * 1024), Math.floor(y * 768), 1, 1).data]"""

    def tinted(x: float, y: float, colour: tuple[int, int, int]) -> bool:
        """Whether the regions show ``colour`` there (as near as a canvas's premultiplied alpha keeps it)."""
        return max(abs(a - b) for a, b in zip(page.evaluate(tint, [x, y]), colour)) <= 2

    assert tinted(0.3, 0.2, (228, 87, 46)) and tinted(0.65, 0.7, (111, 207, 151))  # the painting's and the kept
    assert page.evaluate(tint, [0.5, 0.5])[3] == 0
    page.click("#paint")  # painted again, it carries the very same masks
    page.wait_for_function("() => document.querySelectorAll('.work').length === 2", timeout=180_000)
    again = page.evaluate("() => fetch('/api/jobs').then((r) => r.json())")[0]
    assert again["id"] != jobs[0]["id"]
    assert all(np.array_equal(masks(again)[name], drawn[name]) for name in drawn)
    page.set_input_files("#content-file", str(EXAMPLES / "content" / "chicago.jpg"))  # another photo: said, not silent
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('regions painted')")
    assert "The regions painted on the previous photo were cleared" in page.text_content("#toast")
    assert errors == []


def test_an_artist_paints_the_part_of_a_painting_to_learn_from_and_reuse_brings_it_back(browser, studio, tmp_path):
    """A part of one painting painted with the mouse on that painting: the job carries a mask per painting at
    each painting's size (the other painting whole), and Reuse puts the part back on its painting."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    page.set_input_files("#content-file", str(EXAMPLES / "content" / "tubingen.jpg"))
    page.set_input_files("#style-files", [str(EXAMPLES / "style" / n) for n in ("wave.jpg", "starry_night.jpg")])
    page.wait_for_selector("#regions", state="visible")
    page.click('#sizes [data-value="64"]')
    page.click("#advanced summary")
    page.fill("#opt-steps", "3")
    assert page.text_content("#region-boards") == "The photowavestarry_night"
    page.click('#region-boards [data-value="1"]')  # The Starry Night on the easel
    page.wait_for_function("() => document.getElementById('regions').width === 1024")  # its own size: 1024x640
    page.wait_for_function("() => document.getElementById('picture').naturalWidth === 1024")
    page.wait_for_function(  # the veil's words follow the picture's load, a moment later
        "() => document.getElementById('veil').textContent === 'starry_night.jpg: the part to learn from'"
    )
    assert page.text_content("#veil") == "starry_night.jpg: the part to learn from"
    assert page.is_hidden("#region-targets-field")  # one thing to paint on a painting: its part
    assert page.text_content("#region-note").startswith("Paint the part of starry_night.jpg")
    page.click('#region-edges [data-value="hard"]')
    box = page.locator("#regions").bounding_box()
    assert abs(box["width"] / box["height"] - 1024 / 640) < 0.02  # shown in the painting's shape

    def stroke(*points: tuple[float, float]) -> None:
        brush(page, box, *points)

    stroke((0.1, 0.2), (0.9, 0.2))  # its sky
    stroke((0.5, 0.8))
    page.click("#region-undo")  # a stroke taken back
    assert page.text_content("#region-note") == "starry_night.jpg's style is learnt from the part painted here."
    page.click('#region-boards [data-value="photo"]')
    page.wait_for_function("() => document.getElementById('regions').height === 768")  # the photo's 1024x768
    assert page.text_content("#veil") == "your photograph" and page.is_visible("#region-targets-field")
    assert page.text_content("#region-note").endswith("Learnt from part of: starry_night.jpg.")
    page.click("#paint")
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)

    job = page.evaluate("() => fetch('/api/jobs').then((r) => r.json())")[0]
    assert [i["role"] for i in job["inputs"]] == ["content", "style", "style", "painting mask", "painting mask"]
    folder = tmp_path / "data" / "jobs" / job["id"]
    whole, part = (np.asarray(Image.open(folder / f"part{i}.png").convert("L")) for i in (1, 2))
    assert whole.shape == (1, 1) and whole.min() == 255  # the Wave: all of it, one white pixel
    assert part.shape == (640, 1024)
    assert part[int(0.2 * 640), int(0.5 * 1024)] == 255 and part[int(0.8 * 640), int(0.5 * 1024)] == 0
    assert part[int(0.6 * 640), int(0.3 * 1024)] == 0 and ((part == 0) | (part == 255)).mean() > 0.99

    page.reload()
    page.wait_for_selector(".work img")
    page.click(".work")
    page.click("#reuse")
    page.wait_for_selector("#regions", state="visible")
    page.wait_for_function("() => document.getElementById('region-note').textContent.includes('Learnt from part of')")
    page.click('#region-boards [data-value="1"]')
    page.wait_for_function("() => document.getElementById('regions').width === 1024")
    tint = """([x, y]) => [...document.getElementById('regions').getContext('2d')
        .getImageData(Math.floor(x * 1024), Math.floor(y * 640), 1, 1).data]"""
    assert max(abs(a - b) for a, b in zip(page.evaluate(tint, [0.5, 0.2]), (79, 157, 222))) <= 2  # its colour
    assert page.evaluate(tint, [0.5, 0.8])[3] == 0
    page.click('#region-boards [data-value="0"]')  # the Wave came back whole: no part on it
    page.wait_for_function("() => document.getElementById('regions').width === 928")
    assert page.text_content("#region-note").startswith("Paint the part of wave.jpg")
    assert errors == []


def test_a_painting_the_browser_cannot_show_is_learnt_from_whole_beside_a_part_of_another(browser, studio, tmp_path):
    """A TIFF painting (the studio reads it, Chromium does not show it): no part can be painted on it, and a part
    of the other painting still goes with the job, the TIFF's mask one white pixel (all of it)."""
    tiff = tmp_path / "wave.tif"
    Image.open(EXAMPLES / "style" / "wave.jpg").save(tiff)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(studio)
    page.wait_for_selector("#style-examples .thumb")
    page.set_input_files("#content-file", str(EXAMPLES / "content" / "tubingen.jpg"))
    page.set_input_files("#style-files", [str(EXAMPLES / "style" / "starry_night.jpg"), str(tiff)])
    page.wait_for_selector("#regions", state="visible")
    page.click('#sizes [data-value="64"]')
    page.click("#advanced summary")
    page.fill("#opt-steps", "3")
    page.click('#region-boards [data-value="1"]')  # the TIFF
    page.wait_for_selector(".toast.show")
    assert "wave.tif cannot be shown here to paint on; it is learnt from whole." in page.text_content("#toast")
    assert page.get_attribute("#region-boards .on", "data-value") == "photo" and page.is_visible(
        "#region-targets-field"
    )
    page.click('#region-boards [data-value="0"]')
    page.wait_for_function("() => document.getElementById('regions').height === 640")  # The Starry Night, 1024x640
    page.click('#region-edges [data-value="hard"]')
    box = page.locator("#regions").bounding_box()
    page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + 0.2 * box["height"])  # a dot of its sky: too little
    page.click("#paint")
    page.wait_for_function(
        "() => document.getElementById('toast').textContent.includes('too little to learn its style from')"
    )
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])  # a stroke across its sky
    page.mouse.down()
    page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 0.2 * box["height"], steps=20)
    page.mouse.up()
    page.click("#paint")
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    job = page.evaluate("() => fetch('/api/jobs').then((r) => r.json())")[0]
    assert [i["role"] for i in job["inputs"]][3:] == ["painting mask", "painting mask"]
    folder = tmp_path / "data" / "jobs" / job["id"]
    part, whole = (np.asarray(Image.open(folder / f"part{i}.png").convert("L")) for i in (1, 2))
    assert part.shape == (640, 1024) and part[128, 512] == 255 and part[500, 512] == 0
    assert whole.shape == (1, 1) and whole.min() == 255
    assert errors == []


def test_another_site_cannot_show_the_studio_in_a_frame(browser, studio, tmp_path):
    """Clickjacking: a page elsewhere frames the studio to take a click; the browser leaves the frame empty."""
    import http.server
    import threading

    (tmp_path / "lure.html").write_text(f'<p>win a prize</p><iframe id="studio" src="{studio}"></iframe>')
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{site.server_address[1]}/lure.html")
        page.wait_for_timeout(1500)
        frame = page.frame_locator("#studio")
        assert frame.locator("#paint").count() == 0  # no studio button to click in it
        page.close()
        page = browser.new_page()  # the studio itself still opens
        page.goto(studio)
        assert page.locator("#paint").count() == 1
        page.close()
    finally:
        site.shutdown()


def test_a_page_the_studio_restarted_under_says_to_open_the_new_address(browser, tmp_path):
    """The page follows a job; the studio stops and starts again on the same port, with a new token: the page's
    stream is refused, and the page says why and what to do, rather than waiting on a studio that answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "brushwork", "serve", "--port", str(port), "--data", str(tmp_path / "data")]

    def started() -> tuple[subprocess.Popen, str]:
        proc = subprocess.Popen([*argv, "--max-size", "64"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        found = re.search(r"at (http://\S+) ", proc.stderr.readline())
        assert found, "the studio said nothing"
        return proc, found.group(1)

    first, address = started()
    page = browser.new_page()
    try:
        page.goto(address)
        page.wait_for_selector("#style-examples .thumb")
        page.evaluate("""() => {
            const form = new FormData();
            for (const [k, v] of [["size", "64"], ["steps", "400"], ["content_example", "tubingen"],
                                  ["style_examples", "wave"]]) form.append(k, v);
            return fetch("/api/jobs", {method: "POST", body: form, headers: {"X-Brushwork-Token": TOKEN}});
        }""")
        page.reload()
        page.wait_for_selector('#status[data-state="running"]', timeout=60_000)
        first.terminate()
        first.wait(60)
        second, _ = started()
        try:
            page.wait_for_function(
                "() => document.getElementById('toast').textContent.includes('from before it restarted')",
                timeout=60_000,
            )
            assert "open the address with ?token= that 'brushwork serve' printed" in page.text_content("#toast")
        finally:
            second.terminate()
            second.wait(60)
    finally:
        page.close()
        if first.poll() is None:
            first.kill()
