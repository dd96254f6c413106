"""Every known export layout through `cx run` with only a spec (no hand editing), as a user would:
the pages are produced and the published numbers equal an independent pandas computation on the file.

The runs are the golden runs on the export fixtures (tests/golden/runs.py: Typeform, SurveyMonkey xlsx,
Freshdesk, Shopify and Stripe; the European CSV, Qualtrics and Intercom), made once per session."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


@pytest.mark.slow
def test_survey_ticket_and_commerce_layouts_run_end_to_end(golden_run):
    day = golden_run("exports_a").parent
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
def test_intercom_zendesk_and_european_layouts_run_end_to_end(golden_run):
    day = golden_run("exports_b").parent
    for page in ("nps_drivers", "cx_scorecard"):
        html = (day / f"{page}.html").read_text()
        assert "Demo data" not in html and "Traceback" not in html
    raw = pd.read_csv(EXPORTS / "european.csv", sep=";", encoding="latin-1", dtype=str)
    s = pd.to_numeric(raw["Empfehlung"].str.replace(",", "."), errors="coerce").dropna()
    got = pd.read_csv(day / "tables" / "nps_drivers" / "nps_overall.csv")["nps"].iloc[0]
    assert got == pytest.approx(100 * ((s >= 9).mean() - (s <= 6).mean()), abs=1e-9)
