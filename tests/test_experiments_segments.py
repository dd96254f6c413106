"""Segment explorer (Benjamini-Hochberg over segment cells, empirical-Bayes shrinkage) and gated decisions.

Checked against statsmodels (multipletests, combine_effects) and by seeded simulation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from cxlib import experiments as ex
from cxlib.data import CXDataError
from cxlib.experiments import Metric

Q = 0.05


@pytest.fixture(scope="module")
def units():
    rng = np.random.default_rng(41)
    n = 6000
    variant = rng.choice(["control", "b", "c"], size=n)
    seg = rng.choice(list("pqrstu"), size=n)
    y = rng.normal(10, 4, n) + np.where(variant == "b", 0.6, 0.0) + np.where((variant == "c") & (seg == "p"), 2.0, 0.0)
    score = np.clip(np.round(rng.normal(7, 2, n) + np.where(variant == "b", 0.3, 0.0)), 0, 10)
    return pd.DataFrame({"unit_id": np.arange(n), "variant": variant, "seg": seg, "y": y, "score": score,
                         "conv": (rng.random(n) < 0.2).astype(int)})


def _segment_sims(rng, sims, segs, n, effects):
    """One by-segment result per simulated experiment (each sim its own metric, so its own BH family):
    Welch differences of raw normal draws per segment, computed here with numpy (vectorised)."""
    c = rng.normal(0.0, 1.0, (sims, segs, n))
    t = rng.normal(0.0, 1.0, (sims, segs, n)) + np.asarray(effects, float)[None, :, None]
    diff = (t.mean(2) - c.mean(2)).ravel()
    se = np.sqrt((t.var(2, ddof=1) + c.var(2, ddof=1)) / n).ravel()
    # t reference (equal n, Welch's df is about 2n - 2): a normal one makes a 200-unit arm's p-values about
    # 10% too small in the far tail BH works in, and the FDR too high by that much
    df = 2 * n - 2
    z = stats.t.ppf(0.975, df)
    res = pd.DataFrame({"seg": np.tile(np.arange(segs), sims), "metric": np.repeat([f"m{i}" for i in range(sims)], segs),
                        "variant": "b", "abs_diff": diff, "abs_ci_lower": diff - z * se, "abs_ci_upper": diff + z * se,
                        "p_value": 2 * stats.t.sf(np.abs(diff / se), df), "se": se})
    res.attrs.update(by=["seg"], alpha=0.05)
    return res


def test_bh_keeps_fdr_over_50_null_segments_and_finds_a_planted_effect():
    rng = np.random.default_rng(2026)
    sims, segs, n = 1000, 50, 200
    # all null: FDR = P(any discovery); 4 x 1000 experiments so the estimate is within about +-0.7 points
    nulls = [ex.segment_explorer(_segment_sims(rng, sims, segs, n, np.zeros(segs)), q=Q, family="metric")
             for _ in range(4)]
    any_false = np.mean([e0.groupby("metric")["discovery"].any().mean() for e0 in nulls])
    naive = np.mean([(e0["p_value"] < Q).groupby(e0["metric"]).any().mean() for e0 in nulls])
    effects = np.zeros(segs)
    effects[7] = 0.45                                                  # z about 4.5 in one segment of 50
    e1 = ex.segment_explorer(_segment_sims(rng, sims, segs, n, effects), q=Q, family="metric")
    disc = e1.groupby("metric")["discovery"].sum()
    false = e1[e1["seg"] != 7].groupby("metric")["discovery"].sum()
    fdr = (false / disc.clip(lower=1)).mean()
    found = e1[e1["seg"] == 7]["discovery"].mean()
    print(f"BH over 50 segments: null FDR {any_false:.3f} (naive any p<0.05: {naive:.3f}); "
          f"with one planted effect FDR {fdr:.3f}, found in {found:.1%} of runs")
    assert any_false <= Q + 2 * np.sqrt(Q * (1 - Q) / (4 * sims)) and naive > 0.85
    assert fdr <= Q + 2 * np.sqrt(Q * (1 - Q) / sims)
    assert found >= 0.8


def test_bh_through_compare_summary_on_segment_summaries():
    """The same pipeline end to end from per-arm sums (fewer runs: compare_summary loops over cells)."""
    rng = np.random.default_rng(5)
    sims, segs, n = 20, 50, 100
    frames = []
    for arm in ("control", "b"):
        y = rng.normal(0.0, 1.0, (sims, segs, n))
        frames.append(pd.DataFrame({"seg": np.tile(np.arange(segs), sims), "variant": arm,
                                    "metric": np.repeat([f"m{i}" for i in range(sims)], segs), "kind": "mean",
                                    "n": n, "sum": y.sum(2).ravel(), "sum_squares": (y * y).sum(2).ravel()}))
    res = ex.compare_summary(pd.concat(frames, ignore_index=True), control="control", by="seg", correction="none")
    e = ex.segment_explorer(res)
    for _, g in e.groupby("metric"):
        np.testing.assert_allclose(g["q_value"], multipletests(g["p_value"], method="fdr_bh")[1], atol=1e-12)
    assert e["discovery"].sum() <= 3


def test_q_values_equal_statsmodels_per_family(units):
    res = ex.compare(units, control="control", metrics={"y": "mean", "score": "nps"}, by="seg")
    per = ex.segment_explorer(res, family="metric")
    every = ex.segment_explorer(res, family="all")
    for m in ("y", "score"):
        g = per[per["metric"] == m]
        np.testing.assert_allclose(g["q_value"], multipletests(g["p_value"], method="fdr_bh")[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(every["q_value"], multipletests(res["p_value"], method="fdr_bh")[1], rtol=0, atol=1e-12)
    assert (per["discovery"] == (per["q_value"] < 0.05)).all() and (per["family"] == "metric").all()
    # the planted segment effect (variant c in segment p) is found
    hit = per[(per["metric"] == "y") & (per["variant"] == "c") & (per["seg"] == "p")].iloc[0]
    assert hit["discovery"]
    pd.testing.assert_frame_equal(per[res.columns], res.reset_index(drop=True))  # original columns untouched


def test_shrunken_estimates_match_a_random_effects_meta_analysis(units):
    res = ex.compare(units, control="control", metrics={"y": "mean", "score": "nps"}, by="seg")
    e = ex.segment_explorer(res)
    z = stats.norm.ppf(0.975)
    for (m, v), g in e.groupby(["metric", "variant"]):
        # independent SEs: Welch on the raw rows of each segment
        se = []
        for s in g["seg"]:
            d = units[units["seg"] == s]
            if m == "y":
                a, b = d.loc[d.variant == v, "y"], d.loc[d.variant == "control", "y"]
            else:
                to = lambda x: 100 * np.select([x >= 9, x <= 6], [1.0, -1.0], 0.0)  # noqa: E731
                a, b = to(d.loc[d.variant == v, "score"]), to(d.loc[d.variant == "control", "score"])
            se.append(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
        se = np.array(se)
        np.testing.assert_allclose(g["se"], se, rtol=1e-9)
        y = g["abs_diff"].to_numpy()
        ce = combine_effects(y, se ** 2, method_re="dl")
        t2 = max(ce.tau2, 0.0)
        assert g["tau2"].iloc[0] == pytest.approx(t2, abs=1e-12)
        # statsmodels does not truncate a negative tau^2: then the random-effects mean is the fixed one
        mu, var_mu = (ce.mean_effect_re, ce.var_eff_w_re) if ce.tau2 > 0 else (ce.mean_effect_fe, ce.var_eff_w_fe)
        assert g["pooled_effect"].iloc[0] == pytest.approx(mu, rel=1e-9)
        k = len(g)
        b = (k - 3) / (k - 1) * se ** 2 / (se ** 2 + t2)           # Morris (1983)
        np.testing.assert_allclose(g["shrunk_diff"], b * mu + (1 - b) * y, rtol=1e-9)
        half = z * np.sqrt((1 - b) * se ** 2 + b ** 2 * var_mu + 2 / (k - 3) * b ** 2 * (y - mu) ** 2)
        np.testing.assert_allclose(g["shrunk_ci_upper"] - g["shrunk_diff"], half, rtol=1e-9)


@pytest.mark.parametrize("tau,segs", [(0.0, 12), (0.05, 12), (0.1, 6), (0.1, 30), (0.3, 12)])
def test_shrinkage_lowers_error_and_keeps_coverage_in_simulation(tau, segs):
    rng = np.random.default_rng(8)
    sims, n = 1000, 150
    truth = rng.normal(0.2, tau, (sims, segs))                      # segment effects differ by tau
    c = rng.normal(0.0, 1.0, (sims, segs, n))
    t = rng.normal(0.0, 1.0, (sims, segs, n)) + truth[:, :, None]
    t[:, 0] = t[:, 0] * 2                                           # one noisier segment
    diff = (t.mean(2) - c.mean(2)).ravel()
    se = np.sqrt((t.var(2, ddof=1) + c.var(2, ddof=1)) / n).ravel()
    res = pd.DataFrame({"seg": np.tile(np.arange(segs), sims), "metric": np.repeat(np.arange(sims), segs),
                        "variant": "b", "abs_diff": diff, "abs_ci_lower": diff - 1.96 * se,
                        "abs_ci_upper": diff + 1.96 * se, "p_value": 2 * stats.norm.sf(np.abs(diff / se)), "se": se})
    res.attrs["by"] = ["seg"]
    e = ex.segment_explorer(res)
    tr = (truth * np.where(np.arange(segs) == 0, 2.0, 1.0)).ravel()
    mse_raw, mse_eb = np.mean((e["abs_diff"] - tr) ** 2), np.mean((e["shrunk_diff"] - tr) ** 2)
    cover = ((e["shrunk_ci_lower"] <= tr) & (tr <= e["shrunk_ci_upper"])).mean()
    print(f"empirical Bayes tau={tau}, {segs} segments: MSE {mse_eb:.4f} vs raw {mse_raw:.4f}; coverage {cover:.3f}")
    assert mse_eb < mse_raw
    assert 0.93 <= cover


def test_segment_explorer_errors_and_sequential(units):
    with pytest.raises(CXDataError, match="by-segment"):
        ex.segment_explorer(ex.compare(units, control="control", metrics={"y": "mean"}))
    res = ex.compare(units, control="control", metrics={"y": "mean"}, by="seg", sequential=True)
    with pytest.raises(CXDataError, match="family"):
        ex.segment_explorer(res, family="segment")
    e = ex.segment_explorer(res)
    np.testing.assert_allclose(e["q_value"], multipletests(res["p_always_valid"], method="fdr_bh")[1], atol=1e-12)


# ------------------------------------------------------------------------------ gated decisions

def test_srm_gates_every_row_including_segments(units):
    skewed = pd.concat([units, units[units["variant"] == "b"].assign(unit_id=lambda d: d["unit_id"] + 10**6)])
    ms = [Metric("y"), Metric("score", "nps", guardrail=True)]
    for by in (None, "seg"):
        res = ex.compare(skewed, control="control", metrics=ms, by=by)
        assert (res["decision"] == ex.NOT_INTERPRETABLE).all()
        assert res.attrs["srm"].mismatch
    day = skewed.assign(exposure_time=pd.Timestamp("2026-10-01") + pd.to_timedelta(skewed["unit_id"] % 4, unit="D"))
    cum = ex.cumulative(day, control="control", metric=Metric("y"), sequential=True)
    assert (cum["decision"] == ex.NOT_INTERPRETABLE).all() and cum.attrs["srm"].mismatch
    ok = ex.compare(units, control="control", metrics=ms, by="seg")
    assert (ok["decision"] != ex.NOT_INTERPRETABLE).all()


def test_guardrail_breach_sets_the_decision_of_its_rows_in_segments(units):
    harmed = units.assign(score=np.where(units["variant"] == "c", np.maximum(units["score"] - 3, 0), units["score"]))
    res = ex.compare(harmed, control="control", metrics=[Metric("y"), Metric("score", "nps", guardrail=True)],
                     by="seg")
    g = res[(res["metric"] == "score") & (res["variant"] == "c")]
    # independently: every segment's NPS interval lies below zero (Welch on the +1/0/-1 scores)
    for _, r in g.iterrows():
        d = harmed[harmed["seg"] == r["seg"]]
        to = lambda x: 100 * np.select([x >= 9, x <= 6], [1.0, -1.0], 0.0)  # noqa: E731
        a, b = to(d.loc[d.variant == "c", "score"]), to(d.loc[d.variant == "control", "score"])
        hi = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95).high
        assert (hi < 0) == (r["decision"] == "guardrail breached") == r["guardrail_breach"]
    assert (g["decision"] == "guardrail breached").sum() >= 4
    assert not res[res["metric"] == "y"]["decision"].eq("guardrail breached").any()


@pytest.mark.slow
def test_srm_gates_every_published_table_of_the_page(tmp_path, sample_dir, project_root):
    """cx run on an experiment with a sample-ratio mismatch: no CSV the page publishes says win or loss."""
    import subprocess
    import sys

    raw = pd.read_csv(sample_dir / "experiment.csv")
    extra = raw[raw["variant"] == "new_checkout"].head(3000).assign(unit_id=lambda d: d["unit_id"] + "x")
    path = tmp_path / "skewed.csv"
    pd.concat([raw, extra]).to_csv(path, index=False)
    reports = tmp_path / "reports"
    run = subprocess.run([sys.executable, "-m", "cxlib.cli", "run", "experiment_comparison", "--date", "2026-11-25",
                          "--reports-dir", str(reports), "--logs-dir", str(tmp_path / "logs"),
                          "-p", f"experiment={path}"], cwd=project_root, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    tables = list(reports.rglob("tables/experiment_comparison/*.csv"))
    with_decision = [p for p in tables if "decision" in pd.read_csv(p, nrows=0).columns]
    names = {p.stem for p in with_decision}
    assert {"results", "results_by_segment", "segment_explorer", "quantiles"} <= names
    assert "cumulative" in names
    for p in with_decision:
        assert (pd.read_csv(p)["decision"] == ex.NOT_INTERPRETABLE).all(), p.stem
    page = next(reports.rglob("experiment_comparison.html")).read_text()
    assert "sample ratio mismatch" in page.lower()


def test_a_breached_guardrail_vetoes_the_variants_wins_on_other_metrics():
    rng = np.random.default_rng(7)
    n = 4000
    variant = np.repeat(["control", "b", "c"], n)
    # b: conversion clearly up, satisfaction clearly down (breach); c: conversion up, satisfaction unchanged
    conv = rng.random(3 * n) < np.select([variant == "control", variant == "b"], [0.20, 0.26], 0.26)
    csat = rng.normal(4.0, 0.8, 3 * n) - np.where(variant == "b", 0.3, 0.0)
    df = pd.DataFrame({"unit_id": np.arange(3 * n), "variant": variant, "conv": conv.astype(int), "csat": csat})
    out = ex.compare(df, control="control", metrics=[Metric("conv", "proportion"), Metric("csat", "mean", guardrail=True)])
    d = out.set_index(["variant", "metric"])["decision"]
    assert d[("b", "csat")] == "guardrail breached"
    assert d[("b", "conv")] == "blocked by guardrail"    # the win does not stand when the variant harms CSAT
    assert d[("c", "conv")] == "win" and d[("c", "csat")] == "inconclusive"
    assert bool(out.set_index(["variant", "metric"]).loc[("b", "conv"), "significant"])  # the estimate is kept
