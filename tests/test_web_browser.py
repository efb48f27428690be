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

from brushwork.images import read_recipe

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SERVE = "import sys; from brushwork.web import serve_command; sys.exit(serve_command(sys.argv[1:]))"


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
    proc = subprocess.Popen([sys.executable, "-c", SERVE, "--port", "0", "--data", str(tmp_path / "data"),
                             "--max-size", "64", "--max-steps", "40"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
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
    page.evaluate("""() => {  /* remember every picture the easel shows */
        window.shown = [];
        new MutationObserver(() => window.shown.push(document.getElementById('picture').src))
            .observe(document.getElementById('picture'), {attributes: true, attributeFilter: ['src']});
    }""")

    page.set_input_files("#content-file", str(ROOT / "examples" / "content" / "tubingen.jpg"))
    page.set_input_files("#style-files", str(ROOT / "examples" / "style" / "starry_night.jpg"))
    assert page.text_content("#content-drop b") == "tubingen.jpg"
    assert page.text_content("#style-chips .chip span") == "starry_night.jpg"
    page.click('#sizes [data-value="64"]')
    page.click("#advanced summary")
    page.fill("#steps", "10")
    page.click("#paint")

    page.wait_for_selector('#status[data-state="running"]', timeout=60_000)
    page.wait_for_selector('#status[data-state="done"]', timeout=180_000)
    page.wait_for_function("() => document.getElementById('picture').src.includes('/result')", timeout=10_000)
    shown = page.evaluate("window.shown")
    assert any("/preview?n=" in src for src in shown), shown  # it painted before our eyes
    assert page.text_content("#steps-done") == "10 / 10 steps"
    assert page.locator("#plot-line").get_attribute("d").count("L") >= 5
    page.wait_for_selector(".work img")
    assert "Tubingen, after Starry Night" in page.text_content(".work .cap")

    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".png" and saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    recipe = read_recipe(saved)
    assert recipe["settings"]["size"] == 64 and recipe["settings"]["steps"] == 10
    assert [i["name"] for i in recipe["inputs"]] == ["content.jpg", "style1.jpg"]

    page.click("#advanced summary")  # fold the advanced settings away again for the picture
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.move(0, 0)
    time.sleep(0.3)
    page.screenshot(path=tmp_path / "studio.png", full_page=True)
    if os.environ.get("BRUSHWORK_UPDATE_SCREENSHOT"):  # refresh the README's picture on request only
        shutil.copyfile(tmp_path / "studio.png", ROOT / "docs" / "studio.png")
    assert errors == []
