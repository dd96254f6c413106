"""Reports opened as a stakeholder would: every generated page in headless Chromium (runs in CI).

The pages are the committed notebooks run by `cx run` on the sample data (plus the fixture notebooks),
checked for a rendered title, figures that load, no script errors, and no code or stderr on the page.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cxlib.paths import NOTEBOOKS_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def driver(chromium_paths):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chrome, chromedriver = chromium_paths
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=420,900"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(chromedriver), options=opts)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    for folder in (FIXTURES, NOTEBOOKS_DIR):
        if not list(folder.glob("*.ipynb")):
            continue
        r = subprocess.run([sys.executable, "-m", "cxlib.cli", "run", "--notebooks-dir", str(folder),
                            "--reports-dir", str(out), "--date", "2026-11-23" if folder == FIXTURES else "2026-11-24",
                            "--jobs", "2"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1200)
        assert r.returncode in (0, 1), r.stderr
    return out


def pages(site):
    return sorted(p for p in site.glob("20*/*.html"))


def test_index_lists_every_page(site, driver):
    driver.get((site / "index.html").as_uri())
    assert driver.title == "CX reports"
    links = {a.get_attribute("href").rsplit("/", 2)[-2] + "/" + a.get_attribute("href").rsplit("/", 1)[-1]
             for a in driver.find_elements("css selector", "li > a:first-child")}
    assert links == {f"{p.parent.name}/{p.name}" for p in pages(site)}


def test_every_page_renders_title_figures_and_no_errors(site, driver):
    checked = 0
    for page in pages(site):
        driver.get(page.as_uri())
        h1 = driver.find_elements("css selector", "h1")
        assert h1 and h1[0].text.strip(), page
        assert driver.title and driver.title != "Notebook", page
        images = driver.find_elements("css selector", "img")
        if page.stem != "bad":
            assert images, f"{page} has no figure"
        for img in images:
            assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
            assert img.get_attribute("alt").startswith("Figure"), page
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, (page, severe)
        text = driver.find_element("css selector", "body").text
        assert "Traceback" not in text or page.stem == "bad"
        assert "import " not in text and "Warning" not in text, page
        # nothing wider than a phone screen except scrollable tables
        width, view = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= view, (page, width, view)
        checked += 1
    assert checked >= 2
