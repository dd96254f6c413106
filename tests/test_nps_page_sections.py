"""The NPS drivers page's sections (cxlib.pages.nps_drivers): setup computes nothing, each section returns
what an independent pandas / numpy / statsmodels computation on a small hand-written responses table
gives, and each table is published once, under its name, when its section is first asked for."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.pages import nps_drivers as page

AS_OF = "2026-03-31"


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> tuple[str, pd.DataFrame]:
    """90 answers over three months: a recommend score driven mostly by ``drv_a``, two plans, three
    driver ratings (1-5) and five kinds of comment (one blank)."""
    rng = np.random.default_rng(7)
    n = 90
    a, b, c = (rng.integers(1, 6, n) for _ in range(3))
    score = np.clip(np.round(1.2 * a + 0.6 * b + 0.2 * c + rng.normal(0, 1.5, n) + 1), 0, 10).astype(int)
    month = np.array(["2026-01-15", "2026-02-15", "2026-03-15"])[np.arange(n) % 3]
    comments = np.array(["the app is slow", "great support team", "", "price is too high", "love it"])
    df = pd.DataFrame({
        "respondent_id": [f"r{i}" for i in range(n)],
        "response_time": pd.to_datetime(month) + pd.to_timedelta(np.arange(n), "h"),
        "nps": score, "plan": np.where(np.arange(n) % 4 == 0, "pro", "basic"),
        "drv_a": a, "drv_b": b, "drv_c": c, "comment": comments[np.arange(n) % 5]})
    path = tmp_path_factory.mktemp("nps_page") / "responses.csv"
    df.to_csv(path, index=False)
    return str(path), df


def params(path: str, **over) -> dict:
    base = {"responses": path, "score": "nps", "time": "response_time", "csat": None, "ces": None,
            "drivers": "drv_", "method": "relative_weights", "segments": ["plan"], "subscriptions": None,
            "weight_by": [], "weights": None, "period": "month", "comment": "comment", "taxonomy": None,
            "n_themes": 3, "bootstrap": 0, "seed": 1, "min_n": 5, "as_of": AS_OF}
    return {**base, **over}


def make(path: str, **over):
    published: list[str] = []
    s = page.setup(params(path, **over), publish=lambda table, name: published.append(name))
    return s, published


def nps(scores: pd.Series) -> float:
    """NPS by hand: % of 9-10 minus % of 0-6."""
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def test_setup_reads_the_columns_and_computes_no_section(answers):
    path, _ = answers
    s, published = make(path)
    assert published == [] and s.results == {}
    assert s.segments_used == ["plan"] and s.skipped == []
    assert s.driver_cols == ["drv_a", "drv_b", "drv_c"]
    assert s.comment == "comment" and s.has_time and s.other_scores == {}


def test_scores_are_promoters_minus_detractors(answers):
    path, df = answers
    s, published = make(path)
    got = page.scores(s)
    r = got.overall.iloc[0]
    assert r["nps"] == pytest.approx(nps(df["nps"]))
    assert r["n"] == len(df)
    assert r["promoter_share"] == pytest.approx((df["nps"] >= 9).mean())
    assert got.weighted is None and got.problem is None and got.others == {}
    # the score names the span of its trend, so the trend is computed with it (and published once)
    assert published == ["nps_overall", "nps_trend"]


def test_trend_is_nps_per_month_and_the_latest_change(answers):
    path, df = answers
    s, published = make(path)
    moving = page.trend(s)
    want = df.groupby(df["response_time"].dt.to_period("M").dt.start_time)["nps"].agg([nps, "size"])
    got = moving.trend.set_index("period")
    assert list(got.index) == list(want.index)
    assert got["nps"].tolist() == pytest.approx(want["nps"].tolist())
    assert got["n"].tolist() == want["size"].tolist()
    ch = moving.changes["nps"]
    assert ch["change"] == pytest.approx(want["nps"].iloc[-1] - want["nps"].iloc[-2])
    assert ch["period"] == want.index[-1] and ch["previous"] == want.index[-2]
    assert moving.shown is moving.trend
    assert published == ["nps_trend"]


def test_segments_are_each_value_against_the_rest(answers):
    path, df = answers
    s, published = make(path)
    seg = page.segments(s)
    g = seg.gaps.set_index("value")
    for value, rows in df.groupby("plan"):
        rest = df[df["plan"] != value]
        assert g.loc[value, "n"] == len(rows)
        assert g.loc[value, "nps"] == pytest.approx(nps(rows["nps"]))
        assert g.loc[value, "gap"] == pytest.approx(nps(rows["nps"]) - nps(rest["nps"]))
    assert set(seg.by_segment) == {"plan"}
    assert published == ["nps_by_segment"]


def test_no_usable_segment_gives_no_gaps_and_publishes_nothing(answers):
    path, _ = answers
    s, published = make(path, segments=[])
    seg = page.segments(s)
    assert seg.gaps is None and seg.by_segment == {} and seg.weakest_composition is None
    assert published == []


def relative_weights(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson's relative weights by hand: shares of R² through the orthogonal counterparts of X."""
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    yz = (y - y.mean()) / y.std(ddof=1)
    rxx = np.corrcoef(Z, rowvar=False)
    rxy = Z.T @ yz / (len(y) - 1)
    vals, vecs = np.linalg.eigh(rxx)
    lam = vecs @ np.diag(np.sqrt(vals)) @ vecs.T
    beta = np.linalg.solve(lam, rxy)
    raw = (lam ** 2) @ (beta ** 2)
    return raw / raw.sum()


def test_drivers_are_relative_weights_of_the_complete_non_straightlining_answers(answers):
    path, df = answers
    s, published = make(path)
    drv = page.drivers(s)
    cols = ["drv_a", "drv_b", "drv_c"]
    rows = df[df[cols].nunique(axis=1) > 1]  # straight-liners (same rating everywhere) are left out
    want = dict(zip(cols, relative_weights(rows[cols].to_numpy(float), rows["nps"].to_numpy(float))))
    got = drv.quad.set_index("driver")
    assert sorted(got.index) == cols
    for d in cols:
        assert got.loc[d, "importance"] == pytest.approx(want[d], rel=1e-6)
    assert drv.quad.iloc[0]["driver"] == "drv_a" and drv.scale == (1.0, 5.0) and drv.problem is None
    assert published == ["key_drivers"]


def test_odds_are_two_logistic_regressions(answers):
    sm = pytest.importorskip("statsmodels.api")
    path, df = answers
    s, published = make(path)
    got = page.odds(s)
    assert got.drivers_ran and got.problem is None
    cols = ["drv_a", "drv_b", "drv_c"]
    X = sm.add_constant(df[cols].astype(float))
    for model, outcome in (("promoter", df["nps"] >= 9), ("detractor", df["nps"] <= 6)):
        fit = sm.Logit(outcome.astype(float), X).fit(disp=0)
        t = got.table[got.table["model"] == model].set_index("driver")
        assert t.loc[cols, "coef"].tolist() == pytest.approx(fit.params[cols].tolist(), rel=1e-4)
    # the odds need the key drivers: they are computed (and published) first
    assert published == ["key_drivers", "driver_odds_ratios"]


def test_odds_and_top_two_wait_for_the_key_drivers(answers):
    path, _ = answers
    s, published = make(path, drivers="drv_a")  # one driver column: no key-driver analysis
    assert page.drivers(s).quad is None
    assert not page.odds(s).drivers_ran and not page.top_two(s).drivers_ran
    assert published == []


def test_comments_count_mentions_and_compare_commenters(answers):
    path, df = answers
    s, published = make(path)
    voice = page.comments(s)
    said = df[df["comment"].fillna("").str.strip() != ""]
    counts = voice.counts.set_index("theme")
    assert counts["comments"].max() == len(said)
    speed = said["comment"].str.contains("slow")
    assert counts.loc["speed", "mentions"] == speed.sum()
    assert counts.loc["pricing", "mentions"] == said["comment"].str.contains("price").sum()
    impact = voice.impact.set_index("theme")
    assert impact.loc["speed", "impact"] == pytest.approx(nps(said.loc[speed, "nps"]) - nps(said.loc[~speed, "nps"]))
    assert published == ["themes", "theme_impact", "trouble_words"]


def test_without_a_comment_column_there_are_no_themes(answers):
    path, _ = answers
    s, published = make(path, comment=None)
    assert page.comments(s).counts is None and page.proposed_themes(s).table is None
    assert published == []


def test_summary_reuses_the_sections_and_each_table_is_published_once(answers):
    path, _ = answers
    s, published = make(path)
    head = page.summary(s)
    assert head.scores is page.scores(s) and head.trend is page.trend(s) and head.segments is page.segments(s)
    assert head.drivers is page.drivers(s) and head.comments is page.comments(s)
    page.odds(s), page.top_two(s), page.proposed_themes(s), page.noted(s), page.summary(s)
    assert sorted(published) == sorted(["nps_overall", "nps_trend", "nps_by_segment", "key_drivers",
                                        "driver_odds_ratios", "top_two_difference", "themes", "theme_impact",
                                        "trouble_words", "proposed_themes"])
    assert page.noted(s)[:3] == [s.inputs, head.scores.overall, head.trend.trend]
