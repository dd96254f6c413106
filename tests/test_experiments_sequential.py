"""Always-valid inference in cxlib.experiments: confidence sequences keep their error rate over many looks,
cover a planted lift at every look, drive the decision when asked, and the allocation gate still applies.

Simulations are seeded and vectorised (each well under 20 s on two shared cores)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib import experiments as ex
from experiment_units import row, se_of, simulated_units  # noqa: F401
from cxlib.experiments import Metric

ALPHA = 0.05


@pytest.fixture(scope="module")
def units():
    return simulated_units()



# ------------------------------------------------------------------------------ always-valid inference

def _arm_var(n, s, ss):
    """Variance of an arm mean from its sums (n - 1 sample variance / n), as compare_summary computes it."""
    m = s / n
    return np.maximum((ss - n * m * m) / (n - 1), 0.0) / n


def _looks(draw, sims, looks, batch, lift=0.0, seed=0):
    """Cumulative per-arm (n, sum, sum of squares) at each look: arrays (sims, looks)."""
    rng = np.random.default_rng(seed)
    out = []
    for shift in (0.0, lift):
        x = draw(rng, (sims, looks, batch)) + shift
        out.append((np.cumsum(np.full((sims, looks), float(batch)), 1), np.cumsum(x.sum(2), 1),
                    np.cumsum((x * x).sum(2), 1)))
    return out


DRAWS = {
    "proportion": lambda rng, size: (rng.random(size) < 0.1).astype(float),
    "mean": lambda rng, size: rng.gamma(2.0, 5.0, size),                  # skewed, like revenue
    "nps": lambda rng, size: rng.choice([1.0, 0.0, -1.0], size=size, p=[0.45, 0.30, 0.25]),
}


@pytest.mark.parametrize("kind", sorted(DRAWS))
def test_aa_with_20_looks_naive_inflates_confidence_sequence_does_not(kind):
    sims, looks, batch = 2000, 20, 100
    (nc, sc, qc), (nt, st, qt) = _looks(DRAWS[kind], sims, looks, batch, seed=sorted(DRAWS).index(kind))
    diff = st / nt - sc / nc
    se = np.sqrt(_arm_var(nt, st, qt) + _arm_var(nc, sc, qc))
    naive = (np.abs(diff / se) > stats.norm.ppf(1 - ALPHA / 2)).any(axis=1).mean()
    n_final = nt[:, -1:] + nc[:, -1:]
    lo, hi, p = ex.confidence_sequence(diff, se, nt + nc, alpha=ALPHA, n_opt=n_final)
    seq = ((lo > 0) | (hi < 0)).any(axis=1).mean()
    assert ((p < ALPHA) == ((lo > 0) | (hi < 0))).all()  # the always-valid p agrees with the sequence
    print(f"{kind}: naive any-look FPR {naive:.3f}, confidence sequence {seq:.3f}")
    assert naive > 0.12
    assert seq <= ALPHA + 0.01


def test_confidence_sequence_covers_a_planted_lift_at_every_look():
    sims, looks, batch, lift = 2000, 20, 100, 0.8
    (nc, sc, qc), (nt, st, qt) = _looks(DRAWS["mean"], sims, looks, batch, lift=lift, seed=5)
    diff = st / nt - sc / nc
    se = np.sqrt(_arm_var(nt, st, qt) + _arm_var(nc, sc, qc))
    lo, hi, _ = ex.confidence_sequence(diff, se, nt + nc, n_opt=nt[:, -1:] + nc[:, -1:])
    covered_always = ((lo <= lift) & (lift <= hi)).all(axis=1).mean()
    assert covered_always >= 0.95 - 0.01
    # and it finds the effect by the end in most runs (power is the price, not the loss, of validity)
    assert (lo[:, -1] > 0).mean() > 0.5


def test_compare_summary_sequential_columns_match_the_formula():
    s = pd.DataFrame({"variant": ["control", "b"], "metric": "m", "kind": "mean", "n": [1000, 1200],
                      "sum": [10_000.0, 12_360.0], "sum_squares": [109_000.0, 136_500.0]})
    fixed = ex.compare_summary(s, control="control")
    res = ex.compare_summary(s, control="control", sequential=True, n_opt=5000)
    r = res.iloc[0]
    se = se_of(res, "m", "b")
    a = 2200 * (-2 * np.log(ALPHA) + np.log(1 - 2 * np.log(ALPHA))) / 5000
    half = se * np.sqrt(2 * (a + 1) / a * np.log(np.sqrt(a + 1) / ALPHA))
    assert (r["cs_lower"], r["cs_upper"]) == pytest.approx((r["abs_diff"] - half, r["abs_diff"] + half), rel=1e-12)
    assert r["p_always_valid"] == pytest.approx(min(1, np.sqrt(1 + a) * np.exp(-a * (r["abs_diff"] / se) ** 2
                                                                            / (2 * (1 + a)))), rel=1e-12)
    assert r["cs_lower"] < r["abs_ci_lower"] and r["cs_upper"] > r["abs_ci_upper"]  # wider than fixed-n
    # every fixed-horizon column is unchanged by sequential=True except the decision inputs
    same = [c for c in fixed.columns if c not in ("p_adjusted", "significant", "decision")]
    pd.testing.assert_frame_equal(res[same], fixed[same])
    assert r["p_adjusted"] == r["p_always_valid"]


def test_sequential_decision_uses_the_sequence():
    # significant at a fixed horizon (p ~ 0.01) but not always-valid
    s = pd.DataFrame({"variant": ["control", "b"], "metric": "m", "kind": "mean", "n": [2000, 2000],
                      "sum": [20_000.0, 20_160.0], "sum_squares": [2000 * (100 + 1.0), 2000 * (10.08 ** 2 + 1.0)]})
    fixed = ex.compare_summary(s, control="control").iloc[0]
    seq = ex.compare_summary(s, control="control", sequential=True).iloc[0]
    assert fixed["decision"] == "win" and fixed["p_value"] < 0.05
    assert seq["decision"] == "inconclusive" and seq["p_always_valid"] > 0.05 and seq["cs_lower"] < 0
    guard = ex.compare_summary(s.assign(sum=[20_000.0, 19_840.0], sum_squares=[2000 * 101.0, 2000 * (9.92 ** 2 + 1)]),
                               control="control", sequential=True,
                               metrics=[Metric("m", guardrail=True)]).iloc[0]
    assert guard["abs_ci_upper"] < 0 and not guard["guardrail_breach"]  # harm must clear the sequence


def test_sequential_ratio_aa_through_compare_summary():
    """Ratio metrics (delta-method variance) end to end: 200 A/A experiments x 20 looks."""
    rng = np.random.default_rng(9)
    sims, looks, batch = 200, 20, 100
    frames = []
    for arm in ("control", "b"):
        d = 1.0 + rng.poisson(3, (sims, looks, batch))
        y = rng.poisson(0.4 * d).astype(float)
        cum = lambda a: np.cumsum(a.sum(2), 1).ravel()  # noqa: E731
        frames.append(pd.DataFrame({"sim": np.repeat(np.arange(sims), looks), "look": np.tile(np.arange(looks), sims),
                                    "variant": arm, "metric": "clicks/sessions", "kind": "ratio",
                                    "n": cum(np.ones_like(d)), "sum": cum(y), "sum_squares": cum(y * y),
                                    "den_sum": cum(d), "den_sum_squares": cum(d * d), "sum_products": cum(y * d)}))
    summary = pd.concat(frames, ignore_index=True)
    res = ex.compare_summary(summary, control="control", by=["sim", "look"], correction="none", sequential=True,
                             n_opt=2 * looks * batch)
    hit_naive = (res["p_value"] < ALPHA).groupby(res["sim"]).any().mean()
    hit_seq = (res["p_always_valid"] < ALPHA).groupby(res["sim"]).any().mean()
    print(f"ratio: naive any-look FPR {hit_naive:.3f}, confidence sequence {hit_seq:.3f}")
    assert hit_naive > 0.12 and hit_seq <= ALPHA + 0.03


def test_cumulative_sequential_adds_the_sequence_with_a_fixed_tuning(units):
    df = units.assign(exposure_time=pd.Timestamp("2026-10-01") + pd.to_timedelta(units["unit_id"] % 7, unit="D"))
    plain = ex.cumulative(df, control="control", metric=Metric("y"))
    seq = ex.cumulative(df, control="control", metric=Metric("y"), sequential=True)
    assert {"cs_lower", "cs_upper", "p_always_valid"} <= set(seq.columns)
    pd.testing.assert_series_equal(plain["abs_diff"], seq["abs_diff"])
    assert (seq["cs_lower"] <= seq["abs_ci_lower"]).all() and (seq["cs_upper"] >= seq["abs_ci_upper"]).all()
    # tuned for the final look: there, n = n_opt
    last = seq[seq["period"] == seq["period"].max()]
    r = last[last["variant"] == "b"].iloc[0]
    single = ex.compare(df, control="control", metrics={"y": "mean"}, sequential=True, correction="none")
    assert r["cs_lower"] == pytest.approx(row(single, "y", "b")["cs_lower"], rel=1e-9)


def test_compare_sequential_srm_still_gates(units):
    skewed = pd.concat([units, units[units["variant"] == "b"].assign(unit_id=lambda d: d["unit_id"] + 10**6)])
    res = ex.compare(skewed, control="control", metrics={"y": "mean"}, sequential=True)
    assert (res["decision"] == ex.NOT_INTERPRETABLE).all()
