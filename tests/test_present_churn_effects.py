"""Cohort page pieces for RMST, Cox, net revenue retention and the who-to-save list: numbers as the
analyses computed them, segment values escaped, no NaN / True / False / snake_case on the page."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cxlib import at_risk, present, revenue, survival

HOSTILE = "<b>pro</b> & <script>x</script>"


@pytest.fixture(scope="module")
def subs():
    rng = np.random.default_rng(8)
    n = 400
    plan = np.where(rng.random(n) < 0.4, HOSTILE, "basic")
    region = rng.choice(["AMER", "EMEA"], n)
    life = rng.exponential(np.where(plan == "basic", 10.0, 25.0))
    cens = rng.uniform(6, 30, n)
    return pd.DataFrame({"d": np.round(np.minimum(life, cens), 1), "e": (life <= cens).astype(int), "plan": plan,
                         "region": region})


def clean(html: str) -> None:
    assert "<script>" not in html and "<b>pro</b>" not in html
    for bad in ("nan", "NaN", "True", "False", "None", "_retention", "hazard_ratio"):
        assert not re.search(rf"\b{bad}\b", re.sub(r"<[^>]+>", " ", html)), bad


def test_rmst_words_and_table(subs):
    rm = survival.rmst(subs, duration="d", event="e", horizon=6, by="plan")
    said = str(present.cohort_rmst_answer(rm, by="plan"))
    clean(said)
    assert "&lt;b&gt;pro&lt;/b&gt;" in said or "&lt;B&gt;pro" in said
    d = rm[rm["kind"] == "difference"].iloc[0]
    assert present.number(abs(d["rmst"]), 1) in said
    assert ("longer" if d["rmst"] > 0 else "shorter") in said and "beyond noise" in said
    html = present.cohort_rmst_table(rm, by="plan").as_raw_html()
    clean(html)
    assert "Months subscribed of the first 6" in html and "reference" in html


def test_cox_words_and_table(subs):
    cx = survival.cox(subs, duration="d", event="e", covariates=["plan", "region"])
    said = str(present.cohort_cox_answer(cx))
    clean(said)
    hr = cx.set_index("term")
    plan_term = [t for t in hr.index if t.startswith("plan=")][0]
    assert f"{present.number(hr.loc[plan_term, 'hazard_ratio'], 2)}×" in said
    html = present.cohort_cox_table(cx).as_raw_html()
    clean(html)
    assert "Same ratio at every age?" in html and "Association, not cause" in html
    # a failed proportional-hazards check is said in words
    bad = cx.assign(ph_p_value=[0.001] + [0.5] * (len(cx) - 1))
    assert "Caution" in str(present.cohort_cox_answer(bad))


def test_nrr_words_and_table():
    rows = []
    rng = np.random.default_rng(1)
    for i in range(120):
        v = 50.0
        for m in range(1, 8):
            if rng.random() < 0.05:
                break
            v = v + (10 if rng.random() < 0.1 else 0)
            rows.append((f"c{i}", f"2026-0{m}-01", v))
    hist = pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])
    nrr = revenue.net_revenue_retention(hist, as_of="2026-07-15")
    said = str(present.cohort_nrr_answer(nrr, currency="€"))
    clean(said)
    last = nrr[nrr["complete"]].iloc[-1]
    assert present.share(last["net_retention"], 1) in said and "net revenue retention" in said
    html = present.cohort_nrr_table(nrr, currency="€").as_raw_html()
    clean(html)
    assert "Net retention" in html and "€" in html


def test_save_list_words_and_table():
    subs = pd.DataFrame({"customer_id": ["ann@example.com", "b", "c"], "start_time": ["2025-01-01"] * 3,
                         "end_time": [None, None, "2026-09-01"], "mrr": [50.0, 20.0, 10.0],
                         "plan": [HOSTILE, "basic", "basic"]})
    resp = pd.DataFrame({"customer_id": ["ann@example.com", "b"], "response_time": ["2026-06-01", "2026-06-02"],
                         "nps": [2, 9]})
    w = at_risk.who_to_save(subs, responses=resp, keep="plan", as_of="2026-06-30", currency="$")
    said = str(present.cohort_save_answer(w))
    html = present.cohort_save_table(w).as_raw_html()
    method = str(present.cohort_save_method(w))
    for h in (said, html, method):
        clean(h)
        assert "ann@example.com" not in h
    assert "Scored 2/10" in html and "$600" in html  # 12 x $50
    assert "Without support tickets, activity events, an MRR history" in method
