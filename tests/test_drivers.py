"""cxlib.drivers against brute force, statsmodels on raw rows, and planted truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cxlib import drivers
from cxlib.data import CXDataError

WEIGHTS = np.array([0.45, 0.30, 0.15, 0.10, 0.0])


@pytest.fixture(scope="module")
def survey():
    rng = np.random.default_rng(8)
    n = 3000
    common = rng.normal(size=n)
    x = 0.6 * common[:, None] + 0.8 * rng.normal(size=(n, len(WEIGHTS)))
    y = x @ WEIGHTS + 0.7 * rng.normal(size=n)
    df = pd.DataFrame(x, columns=[f"drv_{i}" for i in range(len(WEIGHTS))])
    df["score"] = y
    df.loc[rng.random(n) < 0.1, "drv_3"] = np.nan
    return df


def test_r2_and_raw_weights_sum_match_ols(survey):
    got = drivers.key_drivers(survey, outcome="score", bootstrap=0, exclude_straightliners=False)
    complete = survey.dropna()
    fit = sm.OLS(complete["score"], sm.add_constant(complete.filter(like="drv_"))).fit()
    assert got.attrs["r2"] == pytest.approx(fit.rsquared, rel=1e-9)
    assert got["raw_weight"].sum() == pytest.approx(fit.rsquared, rel=1e-9)
    assert got["importance"].sum() == pytest.approx(1.0)
    z = (complete - complete.mean()) / complete.std()
    beta = sm.OLS(z["score"], z.filter(like="drv_")).fit().params
    assert np.allclose(got.set_index("driver").loc[beta.index, "std_beta"], beta, rtol=1e-6)
    assert got.attrs["n_model"] == len(complete)


def test_relative_weights_agree_with_brute_force_shapley(survey):
    rw = drivers.key_drivers(survey, outcome="score", bootstrap=0).set_index("driver")["importance"]
    sh = drivers.key_drivers(survey, outcome="score", bootstrap=0, method="shapley").set_index("driver")["importance"]
    # Shapley by brute force over permutations on the same correlation matrix
    from itertools import permutations

    m = survey.dropna()[[*rw.index.sort_values(), "score"]].to_numpy()
    corr = np.corrcoef(m, rowvar=False)
    p = corr.shape[0] - 1

    def r2(s):
        if not s:
            return 0.0
        s = list(s)
        return corr[s, -1] @ np.linalg.solve(corr[np.ix_(s, s)], corr[s, -1])
    brute = np.zeros(p)
    perms = list(permutations(range(p)))
    for order in perms:
        seen = []
        for j in order:
            brute[j] += r2(seen + [j]) - r2(seen)
            seen.append(j)
    brute /= len(perms)
    brute /= brute.sum()
    names = sorted(rw.index)
    assert np.allclose(sh.loc[names], brute, atol=1e-9)
    assert np.allclose(rw.loc[names], brute, atol=0.03)


def test_planted_ranking_recovered_with_intervals(survey):
    got = drivers.key_drivers(survey, outcome="score", bootstrap=100)
    assert list(got["driver"][:4]) == ["drv_0", "drv_1", "drv_2", "drv_3"]
    assert (got["ci_lower"] <= got["importance"]).all() and (got["importance"] <= got["ci_upper"]).all()
    again = drivers.key_drivers(survey, outcome="score", bootstrap=100)
    assert np.allclose(got["ci_lower"], again["ci_lower"])           # seeded
    assert got["vif"].between(1, 3).all()


def test_straightliners_excluded_and_counted():
    df = pd.DataFrame({"drv_a": [5, 5, 7, 3, 8] * 10, "drv_b": [5, 6, 7, 2, 9] * 10, "nps": [5, 6, 8, 2, 10] * 10})
    got = drivers.key_drivers(df, bootstrap=0, min_n=5)
    assert got.attrs["n_straightliners"] == 20 and got.attrs["n_model"] == 30


def test_quadrant_labels():
    t = pd.DataFrame({"driver": ["a", "b", "c", "d"], "importance": [0.4, 0.3, 0.2, 0.1], "mean": [5, 8, 4, 9]})
    q = drivers.quadrant(t).set_index("driver")["quadrant"]
    assert q.to_dict() == {"a": "fix first", "b": "keep up", "c": "monitor", "d": "maintain"}


def test_edge_cases_give_clear_errors(survey):
    df = survey.copy()
    df["drv_9"] = np.nan
    with pytest.raises(CXDataError, match="'drv_9' have no ratings at all"):
        drivers.key_drivers(df, outcome="score")
    df = survey.assign(drv_9=5.0)
    with pytest.raises(CXDataError, match="'drv_9'.* same value for every respondent"):
        drivers.key_drivers(df, outcome="score", bootstrap=0)
    with pytest.raises(CXDataError, match="only 4 respondents rated every driver"):
        drivers.key_drivers(survey.dropna().head(4), outcome="score", bootstrap=0, exclude_straightliners=False)


def test_errors():
    with pytest.raises(CXDataError, match="no driver columns start with 'x_'"):
        drivers.key_drivers(pd.DataFrame({"nps": [1]}), drivers="x_")
    with pytest.raises(CXDataError, match="method must be one of"):
        drivers.key_drivers(pd.DataFrame({"nps": [1], "drv_a": [1], "drv_b": [2]}), method="magic")


def test_sample_planted_driver_ranking_and_fix_first(sample_dir):
    got = drivers.key_drivers(sample_dir / "responses.csv", bootstrap=50)
    truth = ["drv_responsiveness", "drv_reliability", "drv_value_for_money", "drv_ease_of_use"]
    assert list(got["driver"][:3]) == truth[:3]
    q = drivers.quadrant(got).set_index("driver")
    assert q.loc["drv_responsiveness", "quadrant"] == "fix first"
    assert q["mean"].idxmin() == "drv_responsiveness"
    assert got.attrs["n_straightliners"] > 100                       # the ~3% halo respondents


def test_engine_path_for_large_data_matches_in_memory(survey):
    small = drivers.key_drivers(survey, outcome="score", bootstrap=100)
    big = drivers.key_drivers(survey, outcome="score", bootstrap=100, max_rows=1000)
    assert big.attrs["n_model"] == small.attrs["n_model"] and big.attrs["bootstrap_rows"] <= 1000
    pd.testing.assert_series_equal(big.set_index("driver")["importance"], small.set_index("driver")["importance"],
                                   rtol=1e-9)
    width_small = (small["ci_upper"] - small["ci_lower"]).to_numpy()
    width_big = (big.set_index("driver").loc[small["driver"], "ci_upper"]
                 - big.set_index("driver").loc[small["driver"], "ci_lower"]).to_numpy()
    assert np.allclose(width_big, width_small, rtol=0.5)      # rescaled to the full n, not the sample's
