"""cxlib.metrics against independent computations on raw rows (numpy, scipy, statsmodels, simulation)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from cxlib import metrics
from cxlib.data import CXDataError


@pytest.fixture(scope="module")
def raw():
    rng = np.random.default_rng(1)
    n = 3000
    return pd.DataFrame({
        "id": np.arange(n),
        "when": pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.integers(0, 28 * 86400, n), unit="s"),
        "nps": rng.choice(np.arange(11), size=n),
        "csat": rng.integers(1, 6, n),
        "ces": rng.integers(1, 8, n).astype(float),
        "seg": rng.choice(["a", "b", "tiny"], size=n, p=[0.6, 0.39, 0.01]),
    })


def test_nps_matches_explicit_trinomial_formula(raw):
    r = metrics.nps(raw).iloc[0]
    s = raw["nps"].to_numpy()
    p, d = (s >= 9).mean(), (s <= 6).mean()
    se = 100 * np.sqrt((p + d - (p - d) ** 2) / len(s))
    assert r["n"] == len(s)
    assert r["nps"] == pytest.approx(100 * (p - d))
    assert r["ci_lower"] == pytest.approx(100 * (p - d) - 1.959964 * se, abs=1e-4)
    assert r["ci_upper"] == pytest.approx(100 * (p - d) + 1.959964 * se, abs=1e-4)


def test_nps_variance_matches_simulation():
    # The trinomial SE must match the spread of NPS over repeated samples.
    rng = np.random.default_rng(2)
    probs = [0.25, 0.30, 0.45]  # detractor, passive, promoter
    sims = rng.multinomial(400, probs, size=4000)
    nps_sim = 100 * (sims[:, 2] - sims[:, 0]) / 400
    counts = pd.DataFrame({"n": [400], "detractors": [100], "promoters": [180]})
    se = metrics.nps_from_counts(counts)["se"].iloc[0]
    assert se == pytest.approx(nps_sim.std(), rel=0.05)


def test_nps_by_segment_and_week_match_pandas(raw):
    got = metrics.nps(raw, by="seg", time="when", period="week", min_n=1)
    df = raw.assign(period=raw["when"].dt.to_period("W-SUN").dt.start_time)
    exp = df.groupby(["seg", "period"])["nps"].apply(lambda s: 100 * ((s >= 9).mean() - (s <= 6).mean()))
    got = got.set_index(["seg", "period"])["nps"]
    assert len(got) == len(exp) == 12
    for key, val in exp.items():
        assert got[key] == pytest.approx(val)
    # weeks start on Monday
    assert set(got.index.get_level_values("period").day_of_week) == {0}


def test_small_segments_suppressed_not_dropped(raw):
    got = metrics.nps(raw, by="seg").set_index("seg")
    assert got.loc["tiny", "suppressed"] and np.isnan(got.loc["tiny", "nps"])
    assert got.loc["tiny", "n"] == (raw["seg"] == "tiny").sum() < 30
    assert not got.loc["a", "suppressed"]


def test_csat_wilson_matches_statsmodels(raw):
    got = metrics.csat(raw, by="seg", min_n=1).set_index("seg")
    for seg, g in raw.groupby("seg"):
        k, n = (g["csat"] >= 4).sum(), len(g)
        lo, hi = proportion_confint(k, n, method="wilson")
        assert got.loc[seg, "csat"] == pytest.approx(k / n)
        assert (got.loc[seg, "ci_lower"], got.loc[seg, "ci_upper"]) == pytest.approx((lo, hi))


def test_csat_declared_scale_top_two_box():
    df = pd.DataFrame({"sat": [1, 2, 6, 7, 7, 3, 5]})
    got = metrics.csat(df, score="sat", scale=(1, 7), min_n=1).iloc[0]
    assert got["csat"] == pytest.approx(3 / 7)


def test_ces_t_interval_matches_scipy(raw):
    got = metrics.ces(raw).iloc[0]
    x = raw["ces"].to_numpy()
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert got["ces"] == pytest.approx(x.mean())
    assert (got["ci_lower"], got["ci_upper"]) == pytest.approx((lo, hi))


def test_blank_scores_are_not_answers():
    df = pd.DataFrame({"nps": [10, None, 0, 9, None]})
    got = metrics.nps(df, min_n=1).iloc[0]
    assert got["n"] == 3 and got["nps"] == pytest.approx(100 * (2 - 1) / 3)


def test_out_of_range_score_is_a_clear_error():
    with pytest.raises(CXDataError, match=r"'nps' has 1 value outside 0..10"):
        metrics.nps(pd.DataFrame({"nps": [3, 11, 9]}))
    with pytest.raises(CXDataError, match="period= needs the time column"):
        metrics.nps(pd.DataFrame({"nps": [3]}), period="week")


def test_nps_change_matches_two_sample_formula():
    cur = {"n": 200, "promoters": 70, "detractors": 60}
    base = {"n": 800, "promoters": 360, "detractors": 160}
    got = metrics.nps_change(cur, base)
    a, b = 100 * (70 - 60) / 200, 100 * (360 - 160) / 800
    va = 1e4 * (0.35 + 0.30 - 0.05 ** 2) / 200
    vb = 1e4 * (0.45 + 0.20 - 0.25 ** 2) / 800
    assert got["change"] == pytest.approx(a - b)
    assert got["p_value"] == pytest.approx(2 * stats.norm.sf(abs(a - b) / np.sqrt(va + vb)))
    assert got["beyond_noise"]


# ------------------------------------------------------------------------------------------ planted truth

def test_sample_onboarding_is_weakest_touchpoint_by_about_15_points(sample_dir):
    got = metrics.nps(sample_dir / "responses.csv", by="touchpoint").set_index("touchpoint")
    assert got["nps"].idxmin() == "onboarding"
    others = metrics.nps(pd.read_csv(sample_dir / "responses.csv").query("touchpoint != 'onboarding'"))
    gap = others["nps"].iloc[0] - got.loc["onboarding", "nps"]
    assert 8 < gap < 22


def test_sample_planted_week_drop_is_beyond_noise_and_prior_week_is_not(sample_dir):
    weekly = metrics.nps_counts(sample_dir / "responses.csv", time="response_time", period="week")
    weekly = weekly.set_index("period")

    def change(week):
        w = pd.Timestamp(week)
        prior = weekly.loc[w - pd.Timedelta(weeks=4): w - pd.Timedelta(weeks=1)].sum()
        return metrics.nps_change(weekly.loc[w], prior)

    planted = change("2026-11-16")
    assert planted["beyond_noise"] and -25 < planted["change"] < -8
    assert not change("2026-11-09")["beyond_noise"]


def test_adjusted_wald_covers_better_than_wald_at_small_n():
    # Coverage of the 95% interval over simulated samples of n=40 from a known trinomial.
    rng = np.random.default_rng(3)
    probs = np.array([0.10, 0.25, 0.65])  # detractor, passive, promoter: true NPS 55
    sims = rng.multinomial(40, probs, size=4000)
    counts = pd.DataFrame({"n": 40, "detractors": sims[:, 0], "promoters": sims[:, 2]})
    truth = 100 * (probs[2] - probs[0])
    cover = {}
    for method in ("wald", "adjusted_wald"):
        r = metrics.nps_from_counts(counts, interval=method, min_n=1)
        cover[method] = ((r["ci_lower"] <= truth) & (truth <= r["ci_upper"])).mean()
    assert 0.93 <= cover["adjusted_wald"] <= 0.975
    assert cover["adjusted_wald"] >= cover["wald"]


def test_nps_diff_false_alarm_rate_by_simulation():
    # Two groups from the same distribution: 'beyond noise' should fire in about 5% of draws.
    rng = np.random.default_rng(4)
    probs = [0.3, 0.3, 0.4]
    a = rng.multinomial(300, probs, size=1500)
    b = rng.multinomial(900, probs, size=1500)
    alarms = [metrics.nps_diff({"n": 300, "detractors": x[0], "promoters": x[2]},
                               {"n": 900, "detractors": y[0], "promoters": y[2]})["beyond_noise"].iloc[0]
              for x, y in zip(a, b)]
    assert 0.03 <= np.mean(alarms) <= 0.07


def test_nps_diff_sums_a_counts_table_and_matches_raw_rows(raw):
    weekly = metrics.nps_counts(raw, time="when", period="week")
    got = metrics.nps_diff(weekly.iloc[[-1]], weekly.iloc[:-1]).iloc[0]
    last = raw["when"] >= weekly["period"].iloc[-1]
    a, b = raw.loc[last, "nps"], raw.loc[~last, "nps"]
    nps_of = lambda s: 100 * ((s >= 9).mean() - (s <= 6).mean())  # noqa: E731
    assert got["n_a"] == len(a) and got["n_b"] == len(b)
    assert got["diff"] == pytest.approx(nps_of(a) - nps_of(b))
    # the SE of the difference: sum of the two trinomial variances from raw rows
    var = lambda s: 1e4 * ((s >= 9).astype(float) - (s <= 6).astype(float)).var(ddof=0) / len(s)  # noqa: E731
    assert got["se"] == pytest.approx(np.sqrt(var(a) + var(b)))


def test_ces_easy_share_matches_statsmodels(raw):
    got = metrics.ces(raw, by="seg", min_n=1).set_index("seg")
    for seg, g in raw.groupby("seg"):
        k, n = (g["ces"] >= 6).sum(), len(g)
        assert got.loc[seg, "easy_share"] == pytest.approx(k / n)
        assert (got.loc[seg, "easy_ci_lower"], got.loc[seg, "easy_ci_upper"]) == pytest.approx(
            proportion_confint(k, n, method="wilson"))
    rev = metrics.ces(raw, higher_is_easier=False).iloc[0]
    assert rev["easy_share"] == pytest.approx((raw["ces"] <= 2).mean())


def test_suppressed_rows_have_no_estimate_in_any_metric(raw):
    for fn in (metrics.nps, metrics.csat, metrics.ces):
        got = fn(raw, by="seg").set_index("seg").loc["tiny"]
        assert got["suppressed"] and np.isnan(got["estimate"]) and np.isnan(got["ci_lower"]) and got["n"] > 0


def test_sample_compare_periods_flags_planted_week_only(sample_dir):
    planted = metrics.compare_periods(sample_dir / "responses.csv", current="2026-11-16").iloc[0]
    assert planted["beyond_noise"] and -25 < planted["diff"] < -8
    assert planted["baseline_start"] == pd.Timestamp("2026-10-19")
    flat = metrics.compare_periods(sample_dir / "responses.csv", current="2026-11-09").iloc[0]
    assert not flat["beyond_noise"]
    with pytest.raises(CXDataError, match="no answers in the week starting 2030-01-07"):
        metrics.compare_periods(sample_dir / "responses.csv", current="2030-01-07")
