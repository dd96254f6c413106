"""survival.rmst and survival.cox against independent computations.

The RMST reference is written out here on the raw rows (loops over the Kaplan-Meier steps, the
standard Greenwood-type variance); lifelines' RMST variance is known to be wrong (lifelines #1682) and
is not used. The Cox reference is statsmodels PHReg on the raw rows with hand-made dummies.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg

from cxlib import present
from cxlib import survival
from cxlib.data import CXDataError


def brute_rmst(time, event, tau):
    """Area under the KM step function up to tau and Var = sum_j A_j^2 d_j / (n_j (n_j - d_j))."""
    time, event = np.asarray(time, float), np.asarray(event, int)
    steps = []  # (t_j, d_j, n_j)
    for t in sorted(set(time[event == 1])):
        if t > tau:
            break
        n_j = int(np.sum(time >= t))
        d_j = int(np.sum((time == t) & (event == 1)))
        steps.append((t, d_j, n_j))
    surv, s = [], 1.0
    for _, d_j, n_j in steps:
        s *= 1 - d_j / n_j
        surv.append(s)

    def area(a, b):  # integral of the KM step function over [a, b]
        total, level, last = 0.0, 1.0, a
        for (t, _, _), s_after in zip(steps, surv):
            if t <= a:
                level = s_after
                continue
            if t >= b:
                break
            total += level * (t - last)
            last, level = t, s_after
        return total + level * (b - last)

    est = area(0.0, tau)
    var = 0.0
    for t, d_j, n_j in steps:
        if n_j > d_j:
            var += area(t, tau) ** 2 * d_j / (n_j * (n_j - d_j))
    return est, np.sqrt(var)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(5)
    n = 60
    g = rng.choice(["a", "b"], n)
    life = rng.exponential(np.where(g == "a", 6.0, 10.0))
    cens = rng.uniform(2, 20, n)
    dur = np.round(np.minimum(life, cens))  # whole months: ties, and a censored row at an event time
    return pd.DataFrame({"d": dur, "e": (life <= cens).astype(int), "g": g})


@pytest.mark.parametrize("tau", [3.0, 7.5, 12.0])
def test_rmst_matches_brute_force(small, tau):
    r = survival.rmst(small, duration="d", event="e", horizon=tau, by="g")
    est = r[r["kind"] == "rmst"].set_index("g")
    ref = {}
    for key, grp in small.groupby("g"):
        ref[key] = brute_rmst(grp["d"], grp["e"], tau)
        assert est.loc[key, "rmst"] == pytest.approx(ref[key][0], rel=1e-12)
        assert est.loc[key, "se"] == pytest.approx(ref[key][1], rel=1e-10)
        assert est.loc[key, "ci_lower"] == pytest.approx(ref[key][0] - 1.959964 * ref[key][1], rel=1e-5)
        assert est.loc[key, "n"] == len(grp)
    diff = r[r["kind"] == "difference"].iloc[0]
    assert diff["g"] == "b" and diff["reference"] == "a"
    assert diff["rmst"] == pytest.approx(ref["b"][0] - ref["a"][0], rel=1e-10)
    assert diff["se"] == pytest.approx(np.hypot(ref["a"][1], ref["b"][1]), rel=1e-10)
    p = 2 * stats.norm.sf(abs(diff["rmst"]) / diff["se"])
    assert diff["p_value"] == pytest.approx(p)


def test_rmst_overall_and_reference(small):
    r = survival.rmst(small, duration="d", event="e", horizon=10)
    assert len(r) == 1 and r.loc[0, "rmst"] == pytest.approx(brute_rmst(small["d"], small["e"], 10)[0])
    r2 = survival.rmst(small, duration="d", event="e", horizon=10, by="g", reference="b")
    assert r2.loc[r2["kind"] == "difference", "reference"].tolist() == ["b"]


def test_rmst_horizon_beyond_follow_up_is_an_error(small):
    with pytest.raises(CXDataError, match="horizon"):
        survival.rmst(small, duration="d", event="e", horizon=100, by="g")
    with pytest.raises(CXDataError, match="horizon"):
        survival.rmst(small, duration="d", event="e", horizon=-1)


def test_rmst_from_timestamps_matches_durations():
    start = pd.Timestamp("2025-01-01")
    days = np.array([10, 40, 75, 120, 200, 300, 31, 64])
    ended = np.array([1, 1, 0, 1, 0, 1, 1, 0], bool)
    df = pd.DataFrame({"customer_id": range(8), "start_time": start,
                       "end_time": [start + pd.Timedelta(days=int(d)) if e else pd.NaT for d, e in zip(days, ended)]})
    as_of = start + pd.Timedelta(days=400)
    r = survival.rmst(df, start="start_time", end="end_time", as_of=as_of, horizon=150, unit="day")
    dur = np.where(ended, days, 400)
    assert r.loc[0, "rmst"] == pytest.approx(brute_rmst(dur, ended.astype(int), 150)[0])


def test_rmst_exponential_truth_and_coverage_by_simulation():
    """Exponential lifetimes (mean 10) with uniform censoring: RMST(12) = 10 (1 - exp(-1.2)).
    200 replicate samples in one call (by='rep'); the 95% interval should cover in about 95%."""
    rng = np.random.default_rng(7)
    reps, n, mean, tau = 200, 300, 10.0, 12.0
    truth = mean * (1 - np.exp(-tau / mean))
    life = rng.exponential(mean, (reps, n))
    cens = rng.uniform(5, 40, (reps, n))
    cens[:, 0] = 40  # every replicate followed beyond the horizon
    df = pd.DataFrame({"rep": np.repeat(np.arange(reps), n), "d": np.minimum(life, cens).ravel(),
                       "e": (life <= cens).astype(int).ravel()})
    r = survival.rmst(df, duration="d", event="e", horizon=tau, by="rep")
    est = r[r["kind"] == "rmst"]
    cover = float(((est["ci_lower"] <= truth) & (truth <= est["ci_upper"])).mean())
    print(f"RMST truth {truth:.3f}, mean estimate {est['rmst'].mean():.3f}, coverage {cover:.3f}, "
          f"sd of estimates {est['rmst'].std():.3f} vs mean se {est['se'].mean():.3f}")
    assert abs(est["rmst"].mean() - truth) < 0.05
    assert 0.92 <= cover <= 0.98
    assert est["se"].mean() == pytest.approx(est["rmst"].std(), rel=0.15)


# ------------------------------------------------------------------------------------------ Cox

@pytest.fixture(scope="module")
def lives():
    rng = np.random.default_rng(1)
    n = 4000
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["eu", "us"], n)
    age = rng.normal(0, 1, n)
    log_hr = np.log(0.5) * (plan == "pro") + np.log(1.5) * (plan == "team") + np.log(2.0) * (region == "us") \
        + 0.2 * age
    life = rng.exponential(12.0 * np.exp(-log_hr))
    cens = rng.uniform(1, 36, n)
    return pd.DataFrame({"d": np.round(np.minimum(life, cens), 1), "e": (life <= cens).astype(int),
                         "plan": plan, "region": region, "age": np.round(age, 2)})


def test_cox_matches_statsmodels_on_raw_rows(lives):
    r = survival.cox(lives, duration="d", event="e", covariates={"plan": "basic", "region": None, "age": None})
    assert r["term"].tolist() == ["plan=pro", "plan=team", "region=us", "age"]
    assert r["reference"].tolist()[:3] == ["plan=basic", "plan=basic", "region=eu"]
    X = np.column_stack([(lives["plan"] == "pro"), (lives["plan"] == "team"), (lives["region"] == "us"),
                         lives["age"]]).astype(float)
    ref = PHReg(lives["d"].to_numpy(), X, status=lives["e"].to_numpy(), ties="efron").fit()
    np.testing.assert_allclose(r["coef"], ref.params, rtol=1e-6)
    np.testing.assert_allclose(r["se"], ref.bse, rtol=1e-6)
    np.testing.assert_allclose(r["p_value"], ref.pvalues, rtol=1e-5)
    np.testing.assert_allclose(r["hazard_ratio"], np.exp(ref.params), rtol=1e-6)
    lo, hi = np.exp(ref.conf_int()).T
    np.testing.assert_allclose(r["ci_lower"], lo, rtol=1e-6)
    np.testing.assert_allclose(r["ci_upper"], hi, rtol=1e-6)
    assert (r["n"] == len(lives)).all() and (r["events"] == lives["e"].sum()).all()


def test_cox_recovers_planted_hazard_ratios(lives):
    r = survival.cox(lives, duration="d", event="e", covariates=["plan", "region", "age"]).set_index("term")
    planted = {"plan=pro": 0.5, "plan=team": 1.5, "region=us": 2.0, "age": np.exp(0.2)}
    for term, hr in planted.items():
        row = r.loc[term]
        assert row["ci_lower"] <= hr <= row["ci_upper"], term
        assert row["hazard_ratio"] == pytest.approx(hr, rel=0.12), term
    assert (r["ph_p_value"] > 0.001).all()  # proportional hazards hold by construction


def test_cox_flags_non_proportional_hazards():
    rng = np.random.default_rng(10)
    n = 3000
    g = rng.choice(["a", "b"], n)
    # 'b' churns early (Weibull shape 0.5) vs 'a' constant hazard: hazard ratio changes with time
    life = np.where(g == "b", 8 * rng.weibull(0.5, n), rng.exponential(8, n))
    cens = rng.uniform(1, 30, n)
    df = pd.DataFrame({"d": np.minimum(life, cens), "e": (life <= cens).astype(int), "g": g})
    r = survival.cox(df, duration="d", event="e", covariates="g")
    assert r.loc[0, "ph_p_value"] < 0.001


def test_cox_bad_input(lives):
    with pytest.raises(CXDataError, match="reference"):
        survival.cox(lives, duration="d", event="e", covariates={"plan": "gold"})
    with pytest.raises(CXDataError, match="one value"):
        survival.cox(lives.assign(k="x"), duration="d", event="e", covariates="k")


def test_churn_effects_guards_what_a_page_cannot_show(small):
    # plain case: the same numbers as rmst and cox
    got = survival.churn_effects(small, duration="d", event="e", by="g", covariates=["g"], horizon=6)
    ref = survival.rmst(small, duration="d", event="e", horizon=6, by="g")
    pd.testing.assert_frame_equal(got["rmst"], ref)
    assert got["cox"]["hazard_ratio"].iloc[0] == pytest.approx(
        survival.cox(small, duration="d", event="e", covariates="g")["hazard_ratio"].iloc[0])
    assert got["notes"] == [] and got["horizon"] == 6
    # a horizon beyond the follow-up is shortened to the whole months every segment reaches, and said
    far = survival.churn_effects(small, duration="d", event="e", by="g", covariates=["g"], horizon=500)
    reach = small.groupby("g")["d"].max().min()
    assert far["horizon"] == np.floor(reach) and "instead" in str(present.note_text(far["notes"][0]))
    assert far["rmst"]["horizon"].iloc[0] == np.floor(reach)
    # a covariate with one value is left out; no cancellations at all: nothing, with a reason
    one = small.assign(k="same")
    res = survival.churn_effects(one, duration="d", event="e", covariates=["g", "k"], horizon=6)
    assert list(res["cox"]["term"]) == ["g=b"]
    assert any("k: one value only" in str(present.note_text(n)) for n in res["notes"])
    none = survival.churn_effects(small.assign(e=0), duration="d", event="e", by="g", covariates=["g"], horizon=6)
    assert none["rmst"] is None and none["cox"] is None and "No customer has cancelled" in str(present.note_text(none["notes"][0]))
