"""Weighted NPS for the NPS page (metrics.population_shares, metrics.weighted_nps) and the page's
sentences and tables for weighting and proposed themes (escaped, intervals, no raw values)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib import metrics, present, themes
from cxlib.data import CXDataError

Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(5)
    n_cust = 4000
    customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n_cust)],
                              "plan": rng.choice(["basic", "pro"], n_cust, p=[0.7, 0.3])})
    # a few customers changed plan: two subscription rows
    extra = customers.sample(200, random_state=1).assign(plan="pro")
    subs = pd.concat([customers, extra], ignore_index=True)
    # pro customers answer 4x as often and are happier
    pro = customers["plan"].eq("pro").to_numpy()
    answer = rng.random(n_cust) < np.where(pro, 0.4, 0.1)
    resp = customers[answer].reset_index(drop=True)
    p = resp["plan"].eq("pro").to_numpy()
    u = rng.random(len(resp))
    resp["nps"] = np.where(u < np.where(p, 0.1, 0.4), 3, np.where(u < np.where(p, 0.7, 0.6), 10, 8)).astype(float)
    resp.loc[rng.choice(len(resp), 25, replace=False), "nps"] = np.nan  # unanswered
    resp["respondent_id"] = np.arange(len(resp))
    return subs, resp


def test_population_shares_counts_distinct_customers(tables):
    subs, _ = tables
    got = metrics.population_shares(subs, columns=["plan"])
    k = subs.drop_duplicates(["customer_id", "plan"]).groupby("plan")["customer_id"].nunique()
    want = (k / k.sum()).to_dict()
    assert got["plan"] == pytest.approx(want)
    rows = metrics.population_shares(subs, columns="plan", customer=None)["plan"]
    assert rows == pytest.approx((subs["plan"].value_counts() / len(subs)).to_dict())


def test_weighted_nps_is_post_stratified_nps(tables):
    """One weighting column: raking is post-stratification, w = target share / respondents' share."""
    subs, resp = tables
    r = metrics.weighted_nps(resp, population=subs, columns=["plan", "region"]).set_index("weighting")
    assert r.attrs["skipped"] == ["region"] and r.attrs["columns"] == ["plan"]
    target = metrics.population_shares(subs, columns=["plan"])["plan"]
    a = resp.dropna(subset=["nps"])
    w = a["plan"].map(target) / a["plan"].map(a["plan"].value_counts(normalize=True))
    s = a["nps"].to_numpy()
    pr, de = np.average(s >= 9, weights=w), np.average(s <= 6, weights=w)
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    se = 100 * np.sqrt((pr + de - (pr - de) ** 2) / n_eff)
    c = r.loc["customers"]
    assert c["nps"] == pytest.approx(100 * (pr - de), rel=1e-9)
    assert c["n_effective"] == pytest.approx(n_eff, rel=1e-9)
    assert c["ci_lower"] == pytest.approx(100 * (pr - de) - Z * se, rel=1e-9)
    assert c["design_effect"] == pytest.approx(len(a) / n_eff, rel=1e-9)
    raw = r.loc["respondents"]
    assert raw["n"] == len(a) and raw["design_effect"] == 1
    assert raw["nps"] == pytest.approx(100 * ((s >= 9).mean() - (s <= 6).mean()))
    # the planted bias: respondents over-represent the happier pro plan
    assert raw["nps"] > c["ci_upper"]


def test_weighted_nps_with_a_weight_column_and_targets(tables):
    _, resp = tables
    df = resp.assign(w=np.where(resp["plan"] == "pro", 0.5, 2.0))
    r = metrics.weighted_nps(df, weights="w").set_index("weighting")
    direct = metrics.nps(df, weights="w").iloc[0]
    assert r.loc["customers", "nps"] == pytest.approx(direct["nps"])
    assert r.attrs["weights"] == "w"
    t = metrics.weighted_nps(resp, targets={"plan": {"basic": 0.7, "pro": 0.3}})
    assert t.attrs["columns"] == ["plan"]
    with pytest.raises(CXDataError, match="weights=|targets="):
        metrics.weighted_nps(resp)
    with pytest.raises(CXDataError, match="columns"):
        metrics.weighted_nps(resp, population=pd.DataFrame({"customer_id": ["a"], "tier": ["x"]}), columns=["tier"])
    with pytest.raises(CXDataError, match="absent|without a target"):
        metrics.weighted_nps(resp, population=pd.DataFrame({"customer_id": ["a", "b"], "plan": ["basic", "gold"]}),
                             columns=["plan"])


def test_blank_weighting_category_is_left_out_and_said(tables):
    subs, resp = tables
    df = resp.astype({"plan": object})
    df.loc[:9, "plan"] = None
    r = metrics.weighted_nps(df, population=subs, columns=["plan"])
    answered_blank = int(df.loc[:9, "nps"].notna().sum())
    assert r.attrs["left_out"] == answered_blank
    assert r.set_index("weighting").loc["customers", "n"] == df["nps"].notna().sum() - answered_blank
    items = " ".join(str(t) for t in present.nps_weighting_items(r))
    assert f"{answered_blank} answers with a blank" in items


def test_weighting_sentences_escape_and_carry_intervals(tables):
    subs, resp = tables
    evil = "<b>plan</b>"
    r = metrics.weighted_nps(resp.rename(columns={"plan": evil}), population=subs.rename(columns={"plan": evil}),
                             columns=[evil])
    html = " ".join(str(t) for t in present.nps_weighting_items(r))
    assert "<b>plan</b>" not in html and "&lt;b&gt;plan&lt;/b&gt;" in html
    assert "95% CI" in html and "design effect" in html and "Caveat" in html
    assert "more than the margin of error" in html  # the planted bias is beyond the interval
    tab = present.nps_weighting_table(r).as_raw_html()
    for bad in ("nan", "NaN", "True", "False", "n_effective"):
        assert bad not in tab
    assert "Effective answers" in tab


def test_proposed_theme_sentences_table_and_quotes_escape_comments():
    rng = np.random.default_rng(1)
    texts = ["<script>alert(1)</script> the export to excel is broken", "export to excel fails <b>again</b>",
             "excel export never ends", "cannot export to excel"]
    other = ["dark theme please", "we want a dark theme", "dark theme for the night", "any dark theme planned"]
    df = pd.DataFrame({"comment": list(rng.choice(texts, 60)) + list(rng.choice(other, 60)),
                       "nps": list(rng.integers(0, 7, 60)) + list(rng.integers(8, 11, 60))})
    df["respondent_id"] = [f"<i>{i}</i>" for i in range(len(df))]
    p = themes.propose_themes(df, taxonomy={"themes": {"x": {"patterns": ["zzzz"]}}}, n_themes=2, min_size=10)
    assert len(p) == 2
    items = " ".join(str(t) for t in present.nps_proposed_items(p))
    assert "95% CI" in items and "proposals" in items
    tab = present.nps_proposed_table(p).as_raw_html()
    for bad in ("nan", "NaN", "True", "False", "top_terms"):
        assert bad not in tab
    q = str(present.nps_proposed_quotes(p))
    assert "<script>" not in q and "<b>again" not in q and "<i>" not in q
    assert "&lt;script&gt;" in q or "&lt;b&gt;" in q
    # nothing to propose: one plain sentence
    none = themes.propose_themes(df, taxonomy={"themes": {"x": {"patterns": ["excel", "dark"]}}})
    assert "nothing new to propose" in str(present.nps_proposed_items(none)[0])
    assert present.nps_proposed_quotes(none) is None
