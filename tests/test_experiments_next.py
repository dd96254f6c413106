"""Issue 14 statistics in cxlib.experiments: confidence sequences, many covariates (CUPED / Lin), segment
heterogeneity, per-metric correction families, Fieller lift intervals, capping.

Simulations are seeded and vectorised (each well under 20 s on two shared cores)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from cxlib import experiments as ex
from cxlib.data import CXDataError
from cxlib.experiments import Metric

ALPHA = 0.05


@pytest.fixture(scope="module")
def units():
    rng = np.random.default_rng(21)
    n = 5000
    variant = rng.choice(["control", "b", "c"], size=n)
    pre = rng.gamma(2.0, 10.0, n)
    pre2 = rng.normal(0, 1, n)
    tenure = rng.integers(0, 48, n).astype(float)
    y = 0.8 * pre + 3 * pre2 + 0.05 * tenure + rng.normal(0, 8, n) + np.where(variant == "b", 1.5, 0.0)
    y += np.where(variant == "c", 0.2 * pre2, 0.0)  # a treatment x covariate interaction (Lin's case)
    latent = 6 + 0.03 * pre + 0.8 * pre2 + rng.normal(0, 2, n) + np.where(variant == "b", 0.4, 0.0)
    score = np.clip(np.round(latent), 0, 10)
    sessions = 1 + rng.poisson(3, n)
    clicks = rng.poisson(sessions * (0.5 + 0.01 * pre) * np.where(variant == "c", 1.1, 1.0))
    return pd.DataFrame({"unit_id": np.arange(n), "variant": variant, "y": y, "pre": pre, "pre2": pre2,
                         "tenure": tenure, "score": score, "clicks": clicks, "sessions": sessions,
                         "seg": rng.choice(["x", "z", "w"], size=n)})


def row(res, metric, variant):
    return res[(res["metric"] == metric) & (res["variant"] == variant)].iloc[0]


def se_of(res, metric, variant, *seg):
    return dict(zip(res.attrs["se_keys"], res.attrs["se"]))["\x1f".join(str(v) for v in (*seg, metric, variant))]


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


# ------------------------------------------------------------------------------ regression adjustment

def _interacted_ols(d, ycol, covs, cov_type="nonrobust"):
    """y ~ C(variant) * centred covariates on raw rows (Lin 2013), control as reference."""
    xc = d[covs] - d[covs].mean()
    X = pd.DataFrame({"const": 1.0}, index=d.index)
    for v in sorted(set(d["variant"]) - {"control"}):
        X[v] = (d["variant"] == v).astype(float)
    for c in covs:
        X[c] = xc[c]
        for v in sorted(set(d["variant"]) - {"control"}):
            X[f"{v}:{c}"] = X[v] * xc[c]
    return sm.OLS(d[ycol], X).fit(cov_type=cov_type)


def _per_arm_ols_se(d, ycol, covs, variant):
    xc = d[covs] - d[covs].mean()
    out = 0.0
    for arm in ("control", variant):
        m = d["variant"] == arm
        out += sm.OLS(d.loc[m, ycol], sm.add_constant(xc[m])).fit().bse["const"] ** 2
    return np.sqrt(out)


@pytest.mark.parametrize("covs", [["pre"], ["pre", "pre2", "tenure"]])
def test_lin_equals_ols_with_interactions(units, covs):
    res = ex.compare(units, control="control", metrics=[Metric("y", covariate=covs)], adjustment="lin",
                     correction="none")
    fit = _interacted_ols(units, "y", covs)
    hc2 = _interacted_ols(units, "y", covs, "HC2")
    for v in ("b", "c"):
        r = row(res, "y", v)
        assert r["abs_diff"] == pytest.approx(fit.params[v], abs=1e-8)
        assert se_of(res, "y", v) == pytest.approx(_per_arm_ols_se(units, "y", covs, v), abs=1e-6)
        assert se_of(res, "y", v) == pytest.approx(hc2.bse[v], rel=0.02)  # Lin's robust SE, asymptotically
        assert r["raw_abs_diff"] == pytest.approx(units.loc[units.variant == v, "y"].mean()
                                                  - units.loc[units.variant == "control", "y"].mean())


def test_lin_for_nps_equals_ols_on_the_scores(units):
    d = units.dropna(subset=["score"]).assign(nps=lambda f: 100 * np.select([f.score >= 9, f.score <= 6], [1, -1], 0))
    res = ex.compare(units, control="control", metrics=[Metric("score", "nps")],
                     covariates={"score": ["pre", "pre2"]}, adjustment="lin", correction="none")
    fit = _interacted_ols(d, "nps", ["pre", "pre2"])
    r = row(res, "score", "b")
    assert r["abs_diff"] == pytest.approx(fit.params["b"], abs=1e-8)
    assert se_of(res, "score", "b") == pytest.approx(_per_arm_ols_se(d, "nps", ["pre", "pre2"], "b"), abs=1e-6)
    assert r["cuped"] and r["n_covariates"] == 2 and 0 < r["variance_reduction"] < 1


def test_cuped_vector_by_hand_and_one_covariate_unchanged(units):
    covs = ["pre", "pre2", "tenure"]
    res = ex.compare(units, control="control", metrics={"y": "mean"}, covariates={"y": covs}, correction="none")
    X = units[covs].to_numpy()
    xm = X.mean(0)
    theta = np.linalg.solve(np.cov(X.T), np.cov(X.T, units["y"])[:-1, -1])  # pooled Sxx^-1 Sxy
    adj = units["y"] - (X - xm) @ theta
    for v in ("b", "c"):
        a, c = adj[units.variant == v], adj[units.variant == "control"]
        r = row(res, "y", v)
        assert r["abs_diff"] == pytest.approx(a.mean() - c.mean(), abs=1e-9)
        assert se_of(res, "y", v) == pytest.approx(np.sqrt(a.var() / len(a) + c.var() / len(c)), rel=1e-9)
        # CUPED's pooled slope is within sampling noise of the OLS (common-slope ANCOVA) estimate
        Xo = sm.add_constant(pd.DataFrame({"t": (units.variant == v).astype(float),
                                           **{k: units[k] - units[k].mean() for k in covs}}))
        m = units.variant.isin(["control", v])
        assert r["abs_diff"] == pytest.approx(sm.OLS(units.y[m], Xo[m]).fit().params["t"], abs=0.05)
    r2 = np.cov(X.T, units["y"])[:-1, -1] @ theta / units["y"].var()
    assert row(res, "y", "b")["variance_reduction"] == pytest.approx(r2, rel=1e-9)
    # one covariate given as a list is the historical CUPED, number for number
    old = ex.compare(units, control="control", metrics={"y": "mean"}, covariates="pre")
    new = ex.compare(units, control="control", metrics=[Metric("y", covariate=["pre"])])
    pd.testing.assert_frame_equal(old, new)
    base = ["metric", "variant", "abs_diff", "abs_ci_lower", "abs_ci_upper", "p_value", "variance_reduction"]
    plain_cols = list(ex.compare(units, control="control", metrics={"y": "mean"}).columns)
    assert list(old.columns[:len(plain_cols)]) == plain_cols  # adjusted results only add columns at the end
    assert old[base].notna().all().all()


def test_general_adjustment_path_reduces_to_the_classic_one(units):
    """The matrix code with K = 1 gives the scalar CUPED arithmetic (to rounding)."""
    s = ex.summary_statistics(units, metrics=[Metric("y", covariate="pre")])
    g = s.copy()
    tot = g[["n", "sum", "pre_sum", "pre_sum_products", "pre_sum_squares"]].sum()
    n = tot["n"]
    my, xm = tot["sum"] / n, tot["pre_sum"] / n
    theta = ((tot["pre_sum_products"] - n * my * xm) / (n - 1)) / ((tot["pre_sum_squares"] - n * xm * xm) / (n - 1))
    for _, r in g.iterrows():
        m1, v1, _ = ex._arm(r, "mean", theta, xm)
        m2, v2 = ex._adjusted_arm(ex._moments(r, 1, False), "mean", np.array([theta]), None, np.array([xm]), False)
        assert (m2, v2) == pytest.approx((m1, v1), rel=1e-12)


def test_ratio_with_covariates_is_delta_method_on_adjusted_components(units):
    m = Metric("clicks", "ratio", denominator="sessions", covariate=["pre", "pre2"])
    res = ex.compare(units, control="control", metrics=[m], correction="none")
    d = units
    X = d[["pre", "pre2"]].to_numpy()
    xm = X.mean(0)
    S = np.cov(X.T)
    th_y = np.linalg.solve(S, np.cov(X.T, d.clicks)[:-1, -1])
    th_d = np.linalg.solve(S, np.cov(X.T, d.sessions)[:-1, -1])
    def arm(v):
        g = d[d.variant == v]
        xg = g[["pre", "pre2"]].to_numpy()
        ya, da = g.clicks.mean() - (xg.mean(0) - xm) @ th_y, g.sessions.mean() - (xg.mean(0) - xm) @ th_d
        R = ya / da
        u = g.clicks - R * g.sessions - xg @ (th_y - R * th_d)   # linearised, adjusted
        return R, u.var() / len(g) / da ** 2
    (rc, vc), (rt, vt) = arm("control"), arm("c")
    r = row(res, "clicks/sessions", "c")
    assert r["abs_diff"] == pytest.approx(rt - rc, rel=1e-9)
    assert se_of(res, "clicks/sessions", "c") == pytest.approx(np.sqrt(vt + vc), rel=1e-9)
    assert r["variance_reduction"] > 0.05 and r["raw_abs_diff"] != r["abs_diff"]
    assert r["abs_ci_upper"] - r["abs_ci_lower"] < r["raw_ci_upper"] - r["raw_ci_lower"]


@pytest.mark.parametrize("adjustment", ["cuped", "lin"])
def test_adjusted_intervals_cover_at_95_percent(adjustment):
    """1,500 experiments (mean metric, two covariates, planted lift 0.5): coverage 95% +- 1.5 points."""
    rng = np.random.default_rng(17 if adjustment == "cuped" else 18)
    sims, n, lift = 1500, 300, 0.5
    frames = []
    for arm, shift in (("control", 0.0), ("b", lift)):
        X = np.stack([rng.gamma(2.0, 2.0, (sims, n)), rng.normal(0, 1, (sims, n))], axis=2)
        y = 1.0 * X[..., 0] + 2 * X[..., 1] + rng.normal(0, 2, (sims, n)) + shift
        f = {"sim": np.arange(sims), "variant": arm, "metric": "y", "kind": "mean", "n": n,
             "sum": y.sum(1), "sum_squares": (y * y).sum(1)}
        for j in range(2):
            f[f"x{j}_sum"] = X[..., j].sum(1)
            f[f"x{j}_y_products"] = (X[..., j] * y).sum(1)
            for k in range(j, 2):
                f[f"x{j}_x{k}_products"] = (X[..., j] * X[..., k]).sum(1)
        frames.append(pd.DataFrame(f))
    res = ex.compare_summary(pd.concat(frames, ignore_index=True), control="control", by="sim",
                             correction="none", adjustment=adjustment)
    cover = ((res["abs_ci_lower"] <= lift) & (lift <= res["abs_ci_upper"])).mean()
    raw_cover = ((res["raw_ci_lower"] <= lift) & (lift <= res["raw_ci_upper"])).mean()
    print(f"{adjustment}: coverage {cover:.3f} (raw {raw_cover:.3f}), mean variance reduction "
          f"{res['variance_reduction'].mean():.2f}")
    assert abs(cover - 0.95) <= 0.015
    assert res["variance_reduction"].mean() > 0.5


def test_covariates_mapping_by_metric_name_and_errors(units):
    res = ex.compare(units, control="control", metrics=[Metric("clicks", "ratio", denominator="sessions")],
                     covariates={"clicks/sessions": "pre"})
    assert res["cuped"].all() and (res["n_covariates"] == 1).all()
    with pytest.raises(CXDataError, match="is the metric itself"):
        ex.compare(units, control="control", metrics=[Metric("y", covariate=["pre", "y"])])
    with pytest.raises(CXDataError, match="adjustment must be one of"):
        ex.compare(units, control="control", metrics={"y": "mean"}, adjustment="ols")


# ------------------------------------------------------------------------------ segments

def _segment_summary(rng, sims, segs, n, effects):
    frames = []
    for arm in ("control", "b"):
        for j in range(segs):
            shift = effects[j] if arm == "b" else 0.0
            y = rng.normal(10 + j, 3, (sims, n)) + shift
            frames.append(pd.DataFrame({"sim": np.arange(sims), "seg": f"s{j}", "variant": arm, "metric": "m",
                                        "kind": "mean", "n": n, "sum": y.sum(1), "sum_squares": (y * y).sum(1)}))
    return pd.concat(frames, ignore_index=True)


def test_heterogeneity_false_positive_rate_and_power():
    rng = np.random.default_rng(31)
    sims, segs, n = 600, 4, 200
    null = ex.compare_summary(_segment_summary(rng, sims, segs, n, [0.5] * segs), control="control",
                              by=["sim", "seg"], correction="none")
    h0 = ex.heterogeneity(null, segments="seg")
    assert len(h0) == sims and (h0["df"] == segs - 1).all()
    fpr = (h0["p_value"] < ALPHA).mean()
    alt = ex.compare_summary(_segment_summary(rng, sims, segs, n, [0.0, 0.0, 0.0, 1.5]), control="control",
                             by=["sim", "seg"], correction="none")
    power = (ex.heterogeneity(alt, segments="seg")["p_value"] < ALPHA).mean()
    # reading segment cells one by one: the same true effect everywhere, yet segments "disagree"
    sig = (null["p_value"] < ALPHA).groupby(null["sim"])
    mixed = (sig.any() & ~sig.all()).mean()
    print(f"heterogeneity: Q false-positive rate {fpr:.3f}, power {power:.3f}; "
          f"runs where segments look different by significance alone {mixed:.3f}")
    assert mixed > 0.5
    assert abs(fpr - ALPHA) <= 0.02
    assert power >= 0.8


def test_heterogeneity_matches_statsmodels_meta_analysis(units):
    res = ex.compare(units, control="control", metrics={"y": "mean", "score": "nps"}, by="seg")
    h = ex.heterogeneity(res)
    assert set(h["metric"]) == {"y", "score"} and (h["segment"] == "seg").all()
    one = ex.heterogeneity(res, metric="y")
    assert set(one["metric"]) == {"y"}
    for _, r in h.iterrows():
        g = res[(res["metric"] == r["metric"]) & (res["variant"] == r["variant"])]
        se = np.array([se_of(res, r["metric"], r["variant"], s) for s in g["seg"]])
        ce = combine_effects(g["abs_diff"].to_numpy(), se ** 2, method_re="dl")
        assert r["q"] == pytest.approx(ce.q, rel=1e-9)
        assert r["p_value"] == pytest.approx(stats.chi2.sf(ce.q, len(g) - 1), rel=1e-9)
        assert r["i2"] == pytest.approx(max(ce.i2, 0.0), abs=1e-12)
        assert r["tau2"] == pytest.approx(max(ce.tau2, 0.0), abs=1e-12)
        assert r["pooled_effect"] == pytest.approx(ce.mean_effect_fe, rel=1e-9)
    with pytest.raises(CXDataError, match="by-segment"):
        ex.heterogeneity(ex.compare(units, control="control", metrics={"y": "mean"}))


def test_correction_family_per_metric(units):
    ms = {"y": "mean", "score": "nps"}
    every = ex.compare(units, control="control", metrics=ms, by="seg")
    per = ex.compare(units, control="control", metrics=ms, by="seg", correction_family="metric")
    pd.testing.assert_series_equal(every["p_value"], per["p_value"])
    for m in ms:
        g = per[per["metric"] == m]
        np.testing.assert_allclose(g["p_adjusted"], ex.adjust_p(g["p_value"].to_numpy(), "holm"))
    assert (per["p_adjusted"] <= every["p_adjusted"] + 1e-15).all()
    bh = ex.compare(units, control="control", metrics=ms, by="seg", correction="fdr_bh", correction_family="metric")
    g = bh[bh["metric"] == "y"]
    np.testing.assert_allclose(g["p_adjusted"], ex.adjust_p(g["p_value"].to_numpy(), "fdr_bh"))


# ------------------------------------------------------------------------------ lift intervals and capping

def test_fieller_agrees_with_delta_far_from_zero_and_is_unbounded_near_it():
    s = pd.DataFrame({"variant": ["control", "b"], "metric": "m", "kind": "mean", "n": [5000, 5000],
                      "sum": [50_000.0, 51_000.0], "sum_squares": [5000 * (100 + 9.0), 5000 * (10.2 ** 2 + 9.0)]})
    d = ex.compare_summary(s, control="control").iloc[0]
    f = ex.compare_summary(s, control="control", lift_ci="fieller").iloc[0]
    assert (f["rel_ci_lower"], f["rel_ci_upper"]) == pytest.approx((d["rel_ci_lower"], d["rel_ci_upper"]), abs=2e-4)
    z = stats.norm.ppf(0.975)
    mt, mc = 10.2, 10.0
    vt = vc = 9.0 * 5000 / 4999 / 5000
    for bound in (f["rel_ci_lower"], f["rel_ci_upper"]):  # the Fieller bounds solve (mt - r mc)^2 = z^2 (vt + r^2 vc)
        r = 1 + bound
        assert (mt - r * mc) ** 2 == pytest.approx(z * z * (vt + r * r * vc), rel=1e-6)
    near0 = s.assign(sum=[50.0, 1000.0])
    g = ex.compare_summary(near0, control="control", lift_ci="fieller").iloc[0]
    assert np.isnan(g["rel_ci_lower"]) and np.isnan(g["rel_ci_upper"])


def test_cap_winsorises_in_the_engine(units):
    heavy = units.assign(y=units["y"] + np.where(units["unit_id"] % 97 == 0, 5000.0, 0.0))
    res = ex.compare(heavy, control="control", metrics={"y": "mean", "score": "nps"}, cap=0.99, correction="none")
    q = np.quantile(heavy["y"], 0.99)   # numpy's default 'linear' = DuckDB quantile_cont
    capped = heavy["y"].clip(upper=q)
    a, b = capped[heavy.variant == "b"], capped[heavy.variant == "control"]
    r = row(res, "y", "b")
    assert r["abs_diff"] == pytest.approx(a.mean() - b.mean(), rel=1e-9)
    assert r["p_value"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-6)
    assert r["cap_value"] == pytest.approx(q, rel=1e-9) and np.isnan(row(res, "score", "b")["cap_value"])
    assert any("99th percentile" in n for n in res.attrs["notes"])
    with pytest.raises(CXDataError, match="cap must be"):
        ex.compare(units, control="control", metrics={"y": "mean"}, cap=99)
