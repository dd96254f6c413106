"""Lift intervals and capping in cxlib.experiments: Fieller against the delta method, and winsorising mean
metrics in the engine."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib import experiments as ex
from experiment_units import row, se_of, simulated_units  # noqa: F401
from cxlib import present
from cxlib.data import CXDataError

ALPHA = 0.05


@pytest.fixture(scope="module")
def units():
    return simulated_units()



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
