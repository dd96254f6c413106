"""Lift intervals and capping in cxlib.experiments: Fieller against the delta method, and winsorising mean
metrics in the engine."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib import experiments as ex
from cxlib import present
from cxlib.data import CXDataError

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
    assert any("99th percentile" in str(present.note_text(n)) for n in res.attrs["notes"])  # a note code
    with pytest.raises(CXDataError, match="cap must be"):
        ex.compare(units, control="control", metrics={"y": "mean"}, cap=99)
