"""Regression adjustment in cxlib.experiments: CUPED with many covariates and Lin's estimator against OLS,
the one-covariate numbers unchanged, ratios and NPS adjusted, intervals that cover.

Simulations are seeded and vectorised (each well under 20 s on two shared cores)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cxlib import experiments as ex
from experiment_units import row, se_of, simulated_units  # noqa: F401
from cxlib.data import CXDataError
from cxlib.experiments import Metric

ALPHA = 0.05


@pytest.fixture(scope="module")
def units():
    return simulated_units()



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
        m1, v1, _ = ex.estimate._arm(r, "mean", theta, xm)
        m2, v2 = ex.estimate._adjusted_arm(ex.estimate._moments(r, 1, False), "mean", np.array([theta]), None, np.array([xm]), False)
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
