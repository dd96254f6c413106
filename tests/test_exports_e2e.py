"""Every known export layout through `cx run` with only a spec (no hand editing), as a user would:
the pages are produced and the published numbers equal an independent pandas computation on the file."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxlib.paths import PROJECT_ROOT

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def run(tmp_path, name, params):
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(params))
    out = tmp_path / name
    r = subprocess.run([sys.executable, "-m", "cxlib.cli", "run", *params.keys(), "--params", str(p), "--reports-dir",
                        str(out), "--date", "2026-11-23"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=1200, cwd=PROJECT_ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return out / "2026-11-23"


def spec(name, layout, **extra):
    return {"path": str(EXPORTS / name), "layout": layout, **extra}


@pytest.mark.slow
def test_survey_ticket_and_commerce_layouts_run_end_to_end(tmp_path):
    day = run(tmp_path, "a", {
        "nps_drivers": {"responses": spec("typeform.csv", "typeform"), "bootstrap": 20, "min_n": 5},
        "cx_scorecard": {"responses": spec("surveymonkey.xlsx", "surveymonkey", sheet="Sheet"),
                         "tickets": spec("freshdesk.csv", "freshdesk"), "events": None, "min_n": 5},
        "cohort_retention": {"events": spec("shopify_orders.csv", "shopify"),
                             "subscriptions": spec("stripe_subscriptions.csv", "stripe"), "segment": None,
                             "min_n": 3},
    })
    for page in ("nps_drivers", "cx_scorecard", "cohort_retention"):
        html = (day / f"{page}.html").read_text()
        assert "Demo data" not in html and "Traceback" not in html and "@example" not in html
    # Typeform NPS on the page's CSV equals % 9-10 minus % 0-6 of the answered scores in the raw file
    raw = pd.read_csv(EXPORTS / "typeform.csv", dtype=str)
    score_col = next(c for c in raw.columns if "recommend" in c.lower())
    s = pd.to_numeric(raw[score_col], errors="coerce").dropna()
    expected = 100 * ((s >= 9).mean() - (s <= 6).mean())
    got = pd.read_csv(day / "tables" / "nps_drivers" / "nps_overall.csv")["nps"].iloc[0]
    assert got == pytest.approx(expected, abs=1e-9)


@pytest.mark.slow
def test_intercom_zendesk_and_european_layouts_run_end_to_end(tmp_path):
    euro = {"path": str(EXPORTS / "european.csv"), "sep": ";", "decimal": ",", "thousands": ".",
            "encoding": "latin-1", "date_format": "%d.%m.%Y", "currency": ["Umsatz"],
            "columns": {"respondent_id": "Antwort-ID", "response_time": "Datum", "nps": "Empfehlung",
                        "comment": "Kommentar"}, "drivers": {"Bewertung Service": "Service"}}
    day = run(tmp_path, "b", {
        "nps_drivers": {"responses": euro, "bootstrap": 20, "min_n": 5},
        "cx_scorecard": {"responses": spec("qualtrics.csv", "qualtrics"), "tickets": spec("intercom.csv", "intercom"),
                         "events": None, "min_n": 5},
    })
    for page in ("nps_drivers", "cx_scorecard"):
        html = (day / f"{page}.html").read_text()
        assert "Demo data" not in html and "Traceback" not in html
    raw = pd.read_csv(EXPORTS / "european.csv", sep=";", encoding="latin-1", dtype=str)
    s = pd.to_numeric(raw["Empfehlung"].str.replace(",", "."), errors="coerce").dropna()
    got = pd.read_csv(day / "tables" / "nps_drivers" / "nps_overall.csv")["nps"].iloc[0]
    assert got == pytest.approx(100 * ((s >= 9).mean() - (s <= 6).mean()), abs=1e-9)
