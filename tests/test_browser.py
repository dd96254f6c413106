"""Reports opened as a stakeholder would: every generated page in headless Chromium (runs in CI).

Three sites are built with `cx run`: the committed notebooks on the sample data, the same notebooks on
non-sample sources given only as specs (Qualtrics, Zendesk, Shopify), and the notebooks on copies of the
sample whose text values and extra column names carry script payloads. Every page is opened at 1280 px
and 390 px: a title, figures with alt text, no script errors, no code, nothing wider than the screen,
no pandas table, no NaN / None / True / False / NaT cell, no snake_case header, no scientific notation,
and no payload ever runs.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxlib.paths import NOTEBOOKS_DIR, PROJECT_ROOT, SAMPLE_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
EXPORTS = Path(__file__).parent / "fixtures" / "exports"
pytestmark = pytest.mark.browser

#: Each payload sets window.__cx_pwned when it runs.
PAYLOADS = ['<img src=x onerror="window.__cx_pwned=1">', "<script>window.__cx_pwned=1</script>",
            '"><svg onload="window.__cx_pwned=1">']
WIDTHS = (1280, 390)


def cx_run(*args, ok=(0,)):
    r = subprocess.run([sys.executable, "-m", "cxlib.cli", "run", *args], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=1800, cwd=PROJECT_ROOT)
    assert r.returncode in ok, r.stderr[-4000:]
    return r


@pytest.fixture(scope="module")
def driver(chromium_paths):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chrome, chromedriver = chromium_paths
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--hide-scrollbars", "--window-size=1280,900"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(chromedriver), options=opts)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The four notebooks on the sample, plus the fixture notebooks (one of them failing)."""
    out = tmp_path_factory.mktemp("site")
    cx_run("--notebooks-dir", str(FIXTURES), "--reports-dir", str(out), "--date", "2026-11-23", "good", "bad",
           ok=(1,))
    cx_run("--notebooks-dir", str(NOTEBOOKS_DIR), "--reports-dir", str(out), "--date", "2026-11-24")
    return out


@pytest.fixture(scope="module")
def own_data_site(tmp_path_factory):
    """The notebooks on real-looking exports, given only as specs (no hand editing)."""
    out = tmp_path_factory.mktemp("own")
    params = tmp_path_factory.mktemp("params") / "own.yaml"
    params.write_text(yaml.safe_dump({
        "nps_drivers": {"responses": {"path": str(EXPORTS / "qualtrics.csv"), "layout": "qualtrics"},
                        "bootstrap": 20},
        "cx_scorecard": {"responses": {"path": str(EXPORTS / "qualtrics.csv"), "layout": "qualtrics"},
                         "tickets": {"path": str(EXPORTS / "zendesk.csv"), "layout": "zendesk"}, "events": None},
        "cohort_retention": {"events": {"path": str(EXPORTS / "shopify_orders.csv"), "layout": "shopify"},
                             "subscriptions": None, "segment": None},
        # a journey written for what the orders export holds; no survey: its stage says what it needs
        "journey_map": {"events": {"path": str(EXPORTS / "shopify_orders.csv"), "layout": "shopify"},
                        "tickets": {"path": str(EXPORTS / "zendesk.csv"), "layout": "zendesk"},
                        "responses": None, "subscriptions": None, "journey": str(EXPORTS / "shop_journey.yaml")},
    }))
    cx_run("nps_drivers", "cx_scorecard", "cohort_retention", "journey_map", "--params", str(params),
           "--reports-dir", str(out), "--date", "2026-11-23")
    return out


def _poison(value, k):
    return f"{value}{PAYLOADS[k % len(PAYLOADS)]}" if isinstance(value, str) and value else value


@pytest.fixture(scope="module")
def poisoned_site(tmp_path_factory):
    """Copies of the sample where every text value of the segment, variant, stage, channel and comment
    columns ends in a script payload, and an extra column's *name* is a payload used as a segment."""
    src = tmp_path_factory.mktemp("poisoned-data")
    evil_col = PAYLOADS[0]
    for kind in ("responses", "events", "subscriptions", "tickets", "experiment"):
        df = pd.read_csv(SAMPLE_DIR / f"{kind}.csv", dtype=str, keep_default_na=False)
        for col in ("channel", "plan", "region", "touchpoint", "comment", "device", "variant", "event_name"):
            if col in df.columns and not (kind == "events" and col == "event_name"):
                codes = {v: _poison(v, i) for i, v in enumerate(sorted(set(df[col])))}
                df[col] = df[col].map(codes)
        df[evil_col] = df.get("plan", pd.Series(["x"] * len(df)))
        df.to_csv(src / f"{kind}.csv", index=False)
    control = _poison("control", sorted(set(pd.read_csv(SAMPLE_DIR / "experiment.csv")["variant"])).index("control"))
    params = src / "params.yaml"
    params.write_text(yaml.safe_dump({
        **{k: str(src / f"{k}.csv") for k in ("responses", "events", "subscriptions", "tickets", "experiment")},
        "nps_drivers": {"segments": ["channel", evil_col], "bootstrap": 20},
        "cx_scorecard": {"segments": ["channel", evil_col]},
        "cohort_retention": {"segment": evil_col},
        "experiment_comparison": {"control": control, "segment": "device"},
    }))
    out = tmp_path_factory.mktemp("poisoned")
    cx_run("--params", str(params), "--reports-dir", str(out), "--date", "2026-11-23", ok=(0, 1))
    return out


def pages(site):
    return sorted(p for p in site.glob("20*/*.html"))


def _check_page(driver, page, width):
    driver.set_window_size(width, 1000)
    driver.get(page.as_uri())
    where = f"{page.parent.name}/{page.name} at {width} px"
    assert driver.execute_script("return window.__cx_pwned === undefined"), f"a payload ran on {where}"
    h1 = driver.find_elements("css selector", "h1")
    assert h1 and h1[0].text.strip(), where
    assert driver.title and driver.title != "Notebook", where
    for img in driver.find_elements("css selector", "img"):
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0, where
        assert (img.get_attribute("alt") or "").strip(), f"figure without alt text on {where}"
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, (where, severe)
    body = driver.find_element("css selector", "body").text
    for bad in ("Traceback", "site-packages", "import ", "Warning:", "/home/", "/work/", "/tmp/"):
        assert bad not in body, f"{bad!r} on {where}"
    assert not re.search(r"\b\d(?:\.\d+)?e[-+]\d+\b", body), f"scientific notation on {where}"
    assert not driver.find_elements("css selector", "table.dataframe"), f"a raw pandas table on {where}"
    cells = [c.text.strip() for c in driver.find_elements("css selector", "td, th")]
    assert not {"NaN", "nan", "None", "True", "False", "NaT", "<NA>"} & set(cells), where
    headers = [h.text.strip() for h in driver.find_elements("css selector", "th")]
    snake = [h for h in headers if re.search(r"\b[a-z]+_[a-z0-9_]+\b", h)]
    assert not snake, f"snake_case headers {snake} on {where}"
    width_px, view = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width_px <= view, f"{where} is {width_px} px wide in a {view} px window"


def test_index_lists_every_page(site, driver):
    driver.get((site / "index.html").as_uri())
    assert driver.title == "CX reports"
    links = {a.get_attribute("href").rsplit("/", 2)[-2] + "/" + a.get_attribute("href").rsplit("/", 1)[-1]
             for a in driver.find_elements("css selector", "li > a:first-child")}
    assert links == {f"{p.parent.name}/{p.name}" for p in pages(site)}
    assert "Demo data" in driver.find_element("css selector", "body").text


@pytest.mark.parametrize("width", WIDTHS)
def test_every_sample_page_reads_like_a_product(site, driver, width):
    checked = 0
    for page in pages(site):
        if page.stem == "good":  # the pipeline fixture shows a raw table on purpose; its failure page is checked
            continue
        _check_page(driver, page, width)
        if page.stem in ("cohort_retention", "nps_drivers", "experiment_comparison", "cx_scorecard", "journey_map"):
            assert driver.find_elements("css selector", "img"), f"{page} has no figure"
            assert "Demo data" in driver.find_element("css selector", "body").text
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_from_the_users_own_exports(own_data_site, driver, width):
    found = pages(own_data_site)
    assert len(found) == 4
    for page in found:
        _check_page(driver, page, width)
        assert "Demo data" not in driver.find_element("css selector", "body").text, page


@pytest.mark.parametrize("width", WIDTHS)
def test_no_payload_in_any_value_or_column_name_runs(poisoned_site, driver, width):
    found = pages(poisoned_site)
    assert len(found) == 5  # every notebook, the journey map included
    shown = 0
    for page in found:
        _check_page(driver, page, width)
        shown += "onerror=" in driver.find_element("css selector", "body").text
    assert shown >= 2, "the payloads should be visible as text on the pages that show segment values"
