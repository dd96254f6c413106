"""The cohort page module decides which optional inputs are usable (note codes, no words) and computes
every section once; present says the codes in words."""
from __future__ import annotations

import pandas as pd

from cxlib import present
from cxlib.notes import codes
from cxlib.pages import cohort_retention as page
from cxlib.pages.inputs import Inputs
from cxlib.paths import SAMPLE_DIR


def _events(tmp_path, **extra):
    ev = pd.read_csv(SAMPLE_DIR / "events.csv").head(4000)
    ev = ev.drop(columns=[c for c in ("plan", "revenue") if c in ev.columns]).assign(**extra)
    p = tmp_path / "events.csv"
    ev.to_csv(p, index=False)
    return str(p)


def test_setup_notes_optional_columns_the_data_lack_as_codes(tmp_path, monkeypatch):
    # pages.resolve already skips a sample default on a user's table; what it lets through is checked again
    monkeypatch.setattr(page, "resolve", lambda name, values: Inputs(values={}))
    s = page.setup({"events": _events(tmp_path), "segment": "plan", "value": "revenue", "subscriptions": None},
                   publish=None)
    assert s.segment is None and s.value is None
    assert {"segment_not_in_events", "value_not_in_events"} <= set(codes(s.notes))
    words = str(present.cohort_source_notes(s))
    assert "The events have no column &#39;plan&#39;" in words or "The events have no column 'plan'" in words
    assert "revenue retention, repeat business and LTV are left out" in words


def test_sections_are_computed_and_published_once(tmp_path):
    seen = []
    s = page.setup({"events": _events(tmp_path), "subscriptions": None, "min_n": 5},
                   publish=lambda t, name: seen.append(name))
    first = page.retention(s)
    assert page.retention(s) is first and seen.count("retention_table") == 1
    ov = page.overview(s)
    assert ov.retention is first and not ov.has_subscriptions and page.churn(s).table is None
    assert "churn_rate" not in seen and "retention_curve" in seen
    words = [str(x) for x in present.cohort_churn_parts(page.churn(s))[0]]
    assert "a subscriptions table with start and end dates" in words[0]
