"""cxlib.experiments against scipy / statsmodels on raw rows, simulations, and the sample's planted truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from cxlib import experiments as ex
from cxlib import present
from cxlib.data import CXDataError
from cxlib.experiments import Metric


@pytest.fixture(scope="module")
def units():
    rng = np.random.default_rng(11)
    n = 6000
    variant = rng.choice(["control", "b", "c"], size=n)
    pre = rng.gamma(2.0, 10.0, n)
    y = 0.8 * pre + rng.normal(0, 8, n) + np.where(variant == "b", 1.5, 0.0)
    conv = (rng.random(n) < np.where(variant == "b", 0.12, 0.10)).astype(int)
    score = rng.integers(0, 11, n).astype(float)
    score[rng.random(n) < 0.5] = np.nan
    sessions = 1 + rng.poisson(3, n)
    clicks = rng.poisson(sessions * np.where(variant == "c", 0.9, 0.8))
    return pd.DataFrame({"unit_id": np.arange(n), "variant": variant, "y": y, "pre": pre, "conv": conv,
                         "score": score, "clicks": clicks, "sessions": sessions,
                         "seg": rng.choice(["x", "z"], size=n)})


def row(res, metric, variant):
    return res[(res["metric"] == metric) & (res["variant"] == variant)].iloc[0]


def test_mean_matches_scipy_welch(units):
    res = ex.compare(units, control="control", metrics={"y": "mean"}, correction="none")
    a = units.loc[units.variant == "b", "y"]
    b = units.loc[units.variant == "control", "y"]
    t = stats.ttest_ind(a, b, equal_var=False)
    r = row(res, "y", "b")
    assert r["abs_diff"] == pytest.approx(a.mean() - b.mean())
    assert r["p_value"] == pytest.approx(t.pvalue, rel=1e-6)
    lo, hi = t.confidence_interval(0.95)
    assert (r["abs_ci_lower"], r["abs_ci_upper"]) == pytest.approx((lo, hi), rel=1e-6)


def test_proportion_matches_unpooled_two_sample_test(units):
    res = ex.compare(units, control="control", metrics={"conv": "proportion"}, correction="none")
    a = units.loc[units.variant == "b", "conv"]
    b = units.loc[units.variant == "control", "conv"]
    r = row(res, "conv", "b")
    assert (r["control_value"], r["variant_value"]) == pytest.approx((b.mean(), a.mean()))
    assert r["p_value"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-6)


def test_nps_difference_in_points_with_trinomial_variance(units):
    res = ex.compare(units, control="control", metrics={"score": "nps"}, correction="none")
    r = row(res, "score", "c")

    def nps_var(s):
        s = s.dropna()
        p, d = (s >= 9).mean(), (s <= 6).mean()
        return 100 * (p - d), 1e4 * (p + d - (p - d) ** 2) / len(s), len(s)
    (nc, vc, n_c), (nv, vv, n_v) = nps_var(units.loc[units.variant == "control", "score"]), \
        nps_var(units.loc[units.variant == "c", "score"])
    assert (r["n_control"], r["n_variant"]) == (n_c, n_v)
    assert r["abs_diff"] == pytest.approx(nv - nc)
    half = (r["abs_ci_upper"] - r["abs_ci_lower"]) / 2
    assert half == pytest.approx(1.96 * np.sqrt(vc * n_c / (n_c - 1) + vv * n_v / (n_v - 1)), rel=0.01)


def test_ratio_delta_method_matches_bootstrap(units):
    res = ex.compare(units, control="control", metrics=[Metric("clicks", "ratio", denominator="sessions")])
    r = row(res, "clicks/sessions", "c")
    g = units[units.variant == "c"]
    assert r["variant_value"] == pytest.approx(g.clicks.sum() / g.sessions.sum())
    rng = np.random.default_rng(0)
    boots = []
    idx = np.arange(len(g))
    for _ in range(400):
        s = g.iloc[rng.choice(idx, len(idx))]
        boots.append(s.clicks.sum() / s.sessions.sum())
    se_delta = (r["abs_ci_upper"] - r["abs_ci_lower"]) / (2 * 1.96)
    # the ratio's own SE is part of the difference's SE; compare the variant arm's SE via the formula
    n = len(g)
    ybar, dbar = g.clicks.mean(), g.sessions.mean()
    R = ybar / dbar
    v = (g.clicks.var() - 2 * R * np.cov(g.clicks, g.sessions)[0, 1] + R ** 2 * g.sessions.var()) / (dbar ** 2 * n)
    assert np.sqrt(v) == pytest.approx(np.std(boots), rel=0.15)
    assert se_delta > np.sqrt(v)


def test_relative_lift_interval_covers_truth_in_simulation():
    rng = np.random.default_rng(4)
    hits = 0
    for _ in range(300):
        n = 2000
        c = rng.normal(10, 3, n)
        b = rng.normal(11, 3, n)
        summary = pd.DataFrame({"variant": ["control", "b"], "metric": "m", "kind": "mean", "n": [n, n],
                                "sum": [c.sum(), b.sum()], "sum_squares": [(c ** 2).sum(), (b ** 2).sum()]})
        r = ex.compare_summary(summary, control="control").iloc[0]
        hits += r["rel_ci_lower"] <= 0.1 <= r["rel_ci_upper"]
    assert 0.92 <= hits / 300 <= 0.98


def test_cuped_matches_ols_with_covariate(units):
    res = ex.compare(units, control="control", metrics={"y": "mean"}, covariates="pre", correction="none")
    r = row(res, "y", "b")
    d = units[units.variant.isin(["control", "b"])]
    X = sm.add_constant(pd.DataFrame({"b": (d.variant == "b").astype(float), "pre": d.pre - units.pre.mean()}))
    fit = sm.OLS(d.y, X).fit()
    assert r["abs_diff"] == pytest.approx(fit.params["b"], abs=0.05)
    plain = row(ex.compare(units, control="control", metrics={"y": "mean"}), "y", "b")
    assert (r["abs_ci_upper"] - r["abs_ci_lower"]) < 0.8 * (plain["abs_ci_upper"] - plain["abs_ci_lower"])
    rho2 = np.corrcoef(units.y, units.pre)[0, 1] ** 2
    assert r["variance_reduction"] == pytest.approx(rho2, abs=0.02)


def test_holm_over_the_whole_family(units):
    res = ex.compare(units, control="control", metrics={"y": "mean", "conv": "proportion"})
    assert len(res) == 4
    expected = multipletests(res["p_value"], method="holm")[1]
    assert np.allclose(res["p_adjusted"], expected)


def test_raw_rows_equal_hand_aggregated_summary(units):
    ms = {"y": "mean", "conv": "proportion"}
    direct = ex.compare(units, control="control", metrics=ms)
    rows = []
    for (v), g in units.groupby("variant"):
        for col, kind in ms.items():
            rows.append({"variant": v, "metric": col, "kind": kind, "n": len(g), "sum": g[col].sum(),
                         "sum_squares": (g[col] ** 2).sum()})
    via = ex.compare_summary(pd.DataFrame(rows), control="control")
    key = ["metric", "variant"]
    pd.testing.assert_frame_equal(direct.sort_values(key).reset_index(drop=True),
                                  via.sort_values(key).reset_index(drop=True), check_dtype=False)


def test_srm_matches_scipy_chisquare():
    res = ex.srm({"control": 5000, "b": 5200, "c": 4700})
    assert res.p_value == pytest.approx(stats.chisquare([5200, 4700, 5000]).pvalue)
    assert res["p_value"] == res.p_value and res.mismatch
    uneven = ex.srm({"control": 9000, "b": 1000}, expected={"control": 0.9, "b": 0.1})
    assert uneven.p_value == pytest.approx(1.0) and not uneven.mismatch


def test_power_round_trip():
    n = ex.sample_size(0.10, 0.15)
    assert ex.minimum_detectable_effect(n, 0.10) == pytest.approx(0.15, rel=0.02)
    # sanity: the textbook ~6,700 per arm for 10% -> 11.5% at 80% power
    assert 6000 < n < 7500


def test_bad_input_errors(units):
    with pytest.raises(CXDataError, match="control variant 'ctrl' not found"):
        ex.compare(units, control="ctrl", metrics={"y": "mean"})
    with pytest.raises(CXDataError, match="kind must be one of"):
        ex.compare(units, control="control", metrics={"y": "mode"})  # "median" is a quantile metric now
    with pytest.raises(CXDataError, match="needs denominator"):
        Metric("clicks", "ratio")
    dup = pd.concat([units.head(3), units.head(1)])
    with pytest.raises(CXDataError, match="unit_id"):
        ex.compare(dup, control="control", metrics={"y": "mean"})


def test_sample_planted_effects(sample_dir):
    ms = [Metric("converted", "proportion"), Metric("revenue", "mean", covariate="pre_revenue"),
          Metric("csat", "mean", guardrail=True), Metric("nps", "nps", guardrail=True),
          Metric("clicks", "ratio", denominator="sessions")]
    res = ex.compare(sample_dir / "experiment.csv", control="control", metrics=ms, alpha=0.01)
    r = lambda m, v: row(res, m, v)  # noqa: E731
    conv = r("converted", "new_checkout")
    assert conv["decision"] == "win" and conv["rel_ci_lower"] < 0.15 < conv["rel_ci_upper"]
    assert r("converted", "one_click")["decision"] == "inconclusive"
    csat = r("csat", "one_click")
    assert csat["guardrail_breach"] and csat["decision"] == "guardrail breached"
    assert csat["abs_ci_lower"] < -0.15 < csat["abs_ci_upper"]
    nps = r("nps", "new_checkout")
    assert nps["decision"] == "win" and nps["abs_ci_lower"] < 5 < nps["abs_ci_upper"]
    ratio = r("clicks/sessions", "one_click")
    assert ratio["rel_ci_lower"] < 0.08 < ratio["rel_ci_upper"]
    assert r("revenue", "new_checkout")["variance_reduction"] > 0.30
    assert not ex.srm(sample_dir / "experiment.csv").mismatch


@pytest.mark.spark
def test_same_comparison_on_spark(units, spark_backend):
    t = spark_backend.create_table("cx_test_units", units, overwrite=True)
    ms = [Metric("conv", "proportion"), Metric("clicks", "ratio", denominator="sessions"), Metric("score", "nps"),
          Metric("y", "mean", covariate="pre")]
    a = ex.compare(t, control="control", metrics=ms)
    b = ex.compare(units, control="control", metrics=ms)
    key = ["metric", "variant"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True),
                                  check_dtype=False, rtol=1e-9)


def test_srm_failure_suppresses_win_loss_language(units):
    res = ex.compare(units, control="control", metrics={"y": "mean"})
    text = present.experiment_summary(res, srm_result=ex.srm({"control": 5000, "b": 4000, "c": 5000}))
    assert text.plain.startswith("- Warning: sample ratio mismatch")
    assert "<strong>Win</strong>" not in text and "not interpretable" in text
    assert "<strong>Win</strong>" in present.experiment_summary(res, srm_result=ex.srm({"control": 5000, "b": 5000, "c": 5000}))


def test_cumulative_last_period_equals_full_comparison(units):
    df = units.assign(exposure_time=pd.Timestamp("2026-10-01") + pd.to_timedelta(units["unit_id"] % 5, unit="D"))
    cum = ex.cumulative(df, control="control", metric=Metric("conv", "proportion"))
    assert cum["period"].nunique() == 5
    full = ex.compare(df, control="control", metrics={"conv": "proportion"}, correction="none")
    last = cum[cum["period"] == cum["period"].max()].reset_index(drop=True)
    assert np.allclose(last["abs_diff"], full["abs_diff"]) and np.allclose(last["p_value"], full["p_value"])
    # the first day uses only that day's units
    day1 = df[df["exposure_time"] == "2026-10-01"]
    assert cum[cum["period"] == cum["period"].min()]["n_variant"].sum() == (day1["variant"] != "control").sum()


def test_expected_loss_matches_simulation():
    rng = np.random.default_rng(1)
    summary = pd.DataFrame({"variant": ["control", "b"], "metric": "m", "kind": "mean", "n": [400, 400],
                            "sum": [400 * 10.0, 400 * 10.1], "sum_squares": [400 * (100 + 4), 400 * (10.1 ** 2 + 4)]})
    r = ex.compare_summary(summary, control="control").iloc[0]
    se = (r["abs_ci_upper"] - r["abs_diff"]) / stats.t.ppf(0.975, 798)
    draws = rng.normal(r["abs_diff"], se, 200_000)
    assert r["expected_loss"] == pytest.approx(np.maximum(0, -draws).mean(), rel=0.03)
    assert r["prob_better"] == pytest.approx((draws > 0).mean(), abs=0.01)


def test_days_needed():
    assert ex.days_needed(1000, 500, 10) == 10
    assert ex.days_needed(400, 500, 10) == 0


def test_guardrail_margin_and_non_inferiority():
    summary = pd.DataFrame({"variant": ["control", "b"], "metric": "csat", "kind": "mean", "n": [4000, 4000],
                            "sum": [4000 * 4.0, 4000 * 3.95], "sum_squares": [4000 * (16 + 1), 4000 * (3.95 ** 2 + 1)]})
    strict = ex.compare_summary(summary, control="control", metrics=[Metric("csat", guardrail=True)]).iloc[0]
    loose = ex.compare_summary(summary, control="control",
                               metrics=[Metric("csat", guardrail=True, margin=0.2)]).iloc[0]
    assert strict["guardrail_breach"] and not strict["non_inferior"]     # CI about -0.094 to -0.006
    assert not loose["guardrail_breach"] and loose["non_inferior"]       # harm beyond 0.2 ruled out


def test_nps_sample_size_gives_about_80_percent_power_in_simulation():
    n = ex.sample_size(20, 5, kind="nps", sd=ex.nps_sd(0.45, 0.25), relative=False)
    rng = np.random.default_rng(3)
    a = rng.multinomial(n, [0.45, 0.30, 0.25], size=1000)      # promoters, passives, detractors
    b = rng.multinomial(n, [0.48, 0.29, 0.23], size=1000)      # NPS 25
    def nps_var(c):
        p, d = c[:, 0] / n, c[:, 2] / n
        return 100 * (p - d), 1e4 * (p + d - (p - d) ** 2) / n
    (na, va), (nb, vb) = nps_var(a), nps_var(b)
    power = np.mean(np.abs(nb - na) / np.sqrt(va + vb) > 1.96)
    assert 0.74 < power < 0.86


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh"])
def test_adjusted_p_values_equal_statsmodels(method):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(7)
    for m in (2, 3, 10, 40):
        p = np.concatenate([rng.uniform(0, 0.05, m // 2), rng.uniform(0, 1, m - m // 2)])
        p[0] = p[1]  # ties
        np.testing.assert_allclose(ex.adjust_p(p, method), multipletests(p, method=method)[1],
                                   rtol=0, atol=1e-12)
