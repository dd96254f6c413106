"""Weighted key drivers (issue 15, item 1): ``drivers.key_drivers(..., weights=)`` against a direct
weighted computation on the raw rows (statsmodels WLS, Johnson's relative weights through an SVD of the
weighted, standardised data, written out here), frequency weights as duplicated rows, and a planted
non-response bias that the weights undo."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cxlib import drivers, metrics
from cxlib.data import CXDataError

DRV = [f"drv_{i}" for i in range(4)]


@pytest.fixture(scope="module")
def survey():
    rng = np.random.default_rng(21)
    n = 1200
    common = rng.normal(size=n)
    x = 0.5 * common[:, None] + rng.normal(size=(n, 4))
    y = x @ np.array([0.5, 0.3, 0.15, 0.05]) + 0.8 * rng.normal(size=n)
    df = pd.DataFrame(np.round(5.5 + 1.5 * x), columns=DRV).clip(1, 10)
    df["score"] = y
    df["w"] = rng.gamma(1.5, 1.0, n)
    df.loc[rng.random(n) < 0.08, "drv_2"] = np.nan
    df["seg"] = rng.choice(["a", "b"], n)
    return df


def _direct(df, w):
    """Johnson's relative weights of the weighted population, from the raw rows: standardise with the
    weighted means / SDs, scale rows by sqrt(w / sum w), SVD X = U S V', Z = U V' (the orthonormal
    columns closest to X), beta = Z'y, Lambda = V S V' (X on Z), raw_j = sum_k Lambda_jk^2 beta_k^2."""
    x, y = df[DRV].to_numpy(float), df["score"].to_numpy(float)
    p = w / w.sum()
    mx, my = p @ x, p @ y
    sx, sy = np.sqrt(p @ (x - mx) ** 2), np.sqrt(p @ (y - my) ** 2)
    xs = (x - mx) / sx * np.sqrt(p)[:, None]
    ys = (y - my) / sy * np.sqrt(p)
    u, s, vt = np.linalg.svd(xs, full_matrices=False)
    z = u @ vt
    beta = z.T @ ys
    lam = vt.T @ np.diag(s) @ vt
    return (lam ** 2) @ (beta ** 2)


def test_weighted_importance_equals_direct_weighted_computation(survey):
    got = drivers.key_drivers(survey, outcome="score", drivers=DRV, weights="w", bootstrap=0,
                              exclude_straightliners=False).set_index("driver").loc[DRV]
    complete = survey.dropna(subset=[*DRV, "score"])
    w = complete["w"].to_numpy()
    raw = _direct(complete, w)
    np.testing.assert_allclose(got["raw_weight"], raw, rtol=1e-9)
    np.testing.assert_allclose(got["importance"], raw / raw.sum(), rtol=1e-9)
    # R² and standardised betas of a weighted least squares fit on the raw rows
    fit = sm.WLS(complete["score"], sm.add_constant(complete[DRV]), weights=w).fit()
    assert raw.sum() == pytest.approx(fit.rsquared, rel=1e-9)
    p = w / w.sum()
    sd = lambda v: np.sqrt(p @ (v - p @ v) ** 2)  # noqa: E731
    std_beta = [fit.params[c] * sd(complete[c].to_numpy()) / sd(complete["score"].to_numpy()) for c in DRV]
    np.testing.assert_allclose(got["std_beta"], std_beta, rtol=1e-8)
    # n stays the raw count of ratings; the mean is the weighted average rating; Kish effective n
    for c in DRV:
        rated = survey[c].notna()
        assert got.loc[c, "n"] == rated.sum()
        assert got.loc[c, "mean"] == pytest.approx(np.average(survey.loc[rated, c], weights=survey.loc[rated, "w"]))
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    assert got.attrs["n_model"] == len(complete)
    assert got.attrs["n_effective"] == pytest.approx(n_eff, rel=1e-10)
    assert (got["n_effective"] == got.attrs["n_effective"]).all()
    assert got.attrs["weights"] == "w"


def test_integer_weights_are_duplicated_rows(survey):
    rng = np.random.default_rng(3)
    df = survey.assign(k=rng.integers(1, 4, len(survey)))
    got = drivers.key_drivers(df, outcome="score", drivers=DRV, weights="k", bootstrap=0, method="shapley")
    dup = df.loc[df.index.repeat(df["k"])].drop(columns="k")
    want = drivers.key_drivers(dup.reset_index(drop=True), outcome="score", drivers=DRV, bootstrap=0,
                               method="shapley")
    cols = ["importance", "raw_weight", "std_beta", "vif"]
    pd.testing.assert_frame_equal(got.set_index("driver").loc[DRV, cols], want.set_index("driver").loc[DRV, cols],
                                  rtol=1e-9)
    assert got.attrs["r2"] == pytest.approx(want.attrs["r2"], rel=1e-9)


def test_unit_weights_reproduce_unweighted_including_intervals(survey):
    a = drivers.key_drivers(survey.assign(one=1.0), outcome="score", drivers=DRV, weights="one", bootstrap=60)
    b = drivers.key_drivers(survey, outcome="score", drivers=DRV, bootstrap=60)
    for c in ("importance", "ci_lower", "ci_upper", "std_beta", "vif", "mean"):
        np.testing.assert_allclose(a[c], b[c], rtol=1e-9, atol=1e-12)
    assert a.attrs["n_effective"] == pytest.approx(a.attrs["n_model"])
    assert "n_effective" not in b.columns  # unweighted results keep their columns


def test_weighted_by_segment_and_engine_moments(survey):
    by = drivers.key_drivers(survey, outcome="score", drivers=DRV, weights="w", by="seg", bootstrap=0)
    complete = survey.dropna(subset=[*DRV, "score"])
    straight = complete[DRV].nunique(axis=1) == 1  # left out by default
    for seg, g in complete[~straight].groupby("seg"):
        raw = _direct(g, g["w"].to_numpy())
        got = by[by["seg"] == seg].set_index("driver").loc[DRV]
        np.testing.assert_allclose(got["raw_weight"], raw, rtol=1e-9)
    # above max_rows the weighted correlation comes from weighted sums in the engine
    small = drivers.key_drivers(survey, outcome="score", drivers=DRV, weights="w", bootstrap=20, max_rows=300)
    full = drivers.key_drivers(survey, outcome="score", drivers=DRV, weights="w", bootstrap=0)
    np.testing.assert_allclose(small.set_index("driver").loc[DRV, "importance"],
                               full.set_index("driver").loc[DRV, "importance"], rtol=1e-9)
    assert small.attrs["n_effective"] == pytest.approx(full.attrs["n_effective"], rel=1e-9)
    assert small["ci_lower"].notna().all()


def test_bad_weights(survey):
    with pytest.raises(CXDataError, match="w"):
        drivers.key_drivers(survey.assign(w=-survey["w"]), outcome="score", drivers=DRV, weights="w", bootstrap=0)
    with pytest.raises(CXDataError):
        drivers.key_drivers(survey, outcome="score", drivers=DRV, weights="nope", bootstrap=0)
    with pytest.raises(CXDataError, match="effective"):
        drivers.key_drivers(survey.assign(w=np.r_[1.0, np.zeros(len(survey) - 1)]), outcome="score",
                            drivers=DRV, weights="w", bootstrap=0)


@pytest.mark.slow
def test_weights_undo_a_planted_nonresponse_bias():
    """Two kinds of customer: for 'basic' customers speed (drv_0) drives the score, for 'pro' customers
    price (drv_1). 'pro' customers are 30% of the population but answer 5x as often. Over 30 surveys the
    raked respondents' weighted importances cover the population importances (all customers, unweighted)
    within their 95% bootstrap intervals most of the time; the unweighted intervals almost never do."""
    rng = np.random.default_rng(7)
    N, runs = 40_000, 30
    pro = rng.random(N) < 0.3
    x = rng.normal(size=(N, 4)) + 0.4 * rng.normal(size=N)[:, None]
    coef = np.where(pro[:, None], [0.15, 0.8, 0.2, 0.1], [0.8, 0.15, 0.2, 0.1])
    y = (x * coef).sum(axis=1) + 0.7 * rng.normal(size=N)
    pop = pd.DataFrame(x, columns=DRV).assign(score=y, plan=np.where(pro, "pro", "basic"))
    truth = drivers.key_drivers(pop, outcome="score", drivers=DRV, bootstrap=0).set_index("driver")["importance"]
    targets = {"plan": {"basic": float((~pro).mean()), "pro": float(pro.mean())}}
    hits = {"weighted": [], "unweighted": []}
    est = {"weighted": [], "unweighted": []}
    deff = []
    for r in range(runs):
        sample = pop[rng.random(N) < np.where(pro, 0.10, 0.02)].reset_index(drop=True)
        sample["w"] = metrics.rake(sample, targets=targets)
        for kind, kw in (("weighted", {"weights": "w"}), ("unweighted", {})):
            kd = drivers.key_drivers(sample, outcome="score", drivers=DRV, bootstrap=100, seed=r,
                                     **kw).set_index("driver")
            hits[kind] += [kd.loc[d, "ci_lower"] <= truth[d] <= kd.loc[d, "ci_upper"] for d in ("drv_0", "drv_1")]
            est[kind].append(kd.loc[DRV, "importance"].to_numpy())
            if kw:
                deff.append(kd.attrs["n_model"] / kd.attrs["n_effective"])
    cover = {k: float(np.mean(v)) for k, v in hits.items()}
    bias = {k: np.abs(np.mean(v, axis=0) - truth.loc[DRV].to_numpy()).max() for k, v in est.items()}
    print(f"truth {truth.loc[DRV].round(3).tolist()}; coverage {cover}; max |bias| {bias}; "
          f"design effect {np.mean(deff):.2f}")
    assert cover["weighted"] >= 0.85
    assert cover["unweighted"] <= 0.10
    assert bias["weighted"] < 0.03 < 0.2 < bias["unweighted"]
    assert np.mean(deff) > 1.2  # unequal weights cost precision: n_effective < n


def test_weighted_top_two_difference(survey):
    r = drivers.top_two_difference(survey, outcome="score", drivers=DRV, weights="w", bootstrap=100,
                                   exclude_straightliners=False).iloc[0]
    complete = survey.dropna(subset=[*DRV, "score"])
    raw = _direct(complete, complete["w"].to_numpy())
    imp = pd.Series(raw / raw.sum(), index=DRV).sort_values(ascending=False)
    assert (r["first"], r["second"]) == tuple(imp.index[:2])
    assert r["difference"] == pytest.approx(imp.iloc[0] - imp.iloc[1], rel=1e-9)
    assert r["ci_lower"] < r["difference"] < r["ci_upper"]
    one = drivers.top_two_difference(survey.assign(one=1.0), outcome="score", drivers=DRV, weights="one",
                                     bootstrap=50).iloc[0]
    plain = drivers.top_two_difference(survey, outcome="score", drivers=DRV, bootstrap=50).iloc[0]
    for c in ("difference", "ci_lower", "ci_upper", "share_reversed"):
        assert one[c] == pytest.approx(plain[c], rel=1e-9, abs=1e-12)
