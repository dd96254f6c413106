"""cxlib.comparisons against hand computations: Newcombe from two Wilson intervals, statsmodels' z-test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from cxlib import cohorts, comparisons


def wilson(k, n, z=1.959963984540054):
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return c - h, c + h


@pytest.mark.parametrize("k1,n1,k0,n0", [(60, 100, 45, 100), (3, 40, 9, 35), (500, 800, 480, 820), (0, 30, 4, 30)])
def test_two_shares_is_newcombe_and_the_pooled_z_test(k1, n1, k0, n0):
    got = comparisons.two_shares(k1, n1, k0, n0)
    (l1, u1), (l0, u0) = wilson(k1, n1), wilson(k0, n0)
    p1, p0 = k1 / n1, k0 / n0
    lo = p1 - p0 - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    hi = p1 - p0 + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    assert got["difference"] == pytest.approx(p1 - p0)
    assert got["difference_ci_lower"] == pytest.approx(lo, abs=1e-9)
    assert got["difference_ci_upper"] == pytest.approx(hi, abs=1e-9)
    assert got["p_value"] == pytest.approx(proportions_ztest([k1, k0], [n1, n0])[1], abs=1e-12)
    assert got["beyond_noise"] == (lo > 0 or hi < 0)


def test_empty_side_is_no_comparison():
    got = comparisons.two_shares(3, 10, 0, 0)
    assert np.isnan(got["difference"]) and got["beyond_noise"] is False


def test_compare_newer_pools_the_latest_cohorts_against_the_earlier_ones():
    cohort = pd.date_range("2025-01-01", periods=10, freq="MS")
    t = pd.DataFrame({"cohort": cohort, "period": 1, "mature": True, "suppressed": False,
                      "cohort_size": np.arange(100, 110), "active": np.arange(40, 60, 2)})
    got = comparisons.compare_newer(t, ages=(1,), newer=3).iloc[0]
    new, old = t.tail(3), t.head(7)
    assert got["customers"] == new["cohort_size"].sum() and got["active"] == new["active"].sum()
    assert got["reference_customers"] == old["cohort_size"].sum()
    assert got["cohorts_from"] == cohort[7] and got["reference_to"] == cohort[6]
    assert got["difference"] == pytest.approx(new["active"].sum() / new["cohort_size"].sum()
                                              - old["active"].sum() / old["cohort_size"].sum())


def test_compare_windows_last_periods_against_the_ones_before():
    df = pd.DataFrame({"period": range(8), "lost": [5, 6, 4, 5, 9, 8, 10, 11], "n": [100] * 8})
    got = comparisons.compare_windows(df, count="lost", n="n", window=3)
    assert got["active"] == 29 and got["customers"] == 300 and got["periods"] == 3
    assert got["difference"] == pytest.approx(29 / 300 - 18 / 300)


def test_revenue_curve_is_a_ratio_of_sums(sample_dir):
    t = cohorts.retention_table(sample_dir / "events.csv", value="revenue")
    rc = cohorts.revenue_curve(t)
    ok = t[t["mature"] & ~t["suppressed"]]
    first = ok[ok["period"] == 0].set_index("cohort")["revenue"]
    k2 = ok[(ok["period"] == 2) & ok["cohort"].map(first).gt(0)]
    assert rc.set_index("period").loc[2, "revenue_retention"] == pytest.approx(
        k2["revenue"].sum() / k2["cohort"].map(first).sum())
