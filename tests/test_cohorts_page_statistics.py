"""The statistics the cohort page used to compute in its notebook, now in the analyses: pooled recent
churn (Wilson), MRR kept, LTV at the oldest age reached, and the latest cohorts' share against the
earlier ones'. Each is checked against a hand computation on hand-written data."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from cxlib import churn, cohorts, comparisons


def _wilson(k, n, z=1.959963984540054):
    p = k / n
    mid, half = (p + z * z / (2 * n)), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (mid - half) / (1 + z * z / n), (mid + half) / (1 + z * z / n)


def _churn_table():
    months = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"])
    rows = []
    for plan, lost, n in (("basic", [5, 6, 7, 9], [100, 95, 90, 80]), ("pro", [1, 2, 3, 4], [50, 50, 49, 47])):
        for m, l, k in zip(months, lost, n):
            rows.append({"plan": plan, "period": m, "lost": l, "n": k, "mrr_start": 10.0 * k, "mrr_lost": 10.0 * l,
                         "complete": m < pd.Timestamp("2026-04-01")})
    t = pd.DataFrame(rows)
    t.attrs["period"] = "month"
    return t


def test_recent_churn_pools_the_last_complete_periods_per_segment_with_a_wilson_interval():
    got = churn.recent_churn(_churn_table(), by="plan", last=2).set_index("plan")
    # April is not complete: February and March are the last two complete months
    assert got.loc["basic", "lost"] == 6 + 7 and got.loc["basic", "n"] == 95 + 90
    assert got.loc["pro", "lost"] == 2 + 3 and got.loc["pro", "n"] == 50 + 49
    lo, hi = _wilson(13, 185)
    assert got.loc["basic", "churn_rate"] == pytest.approx(13 / 185)
    assert got.loc["basic", "ci_lower"] == pytest.approx(lo) and got.loc["basic", "ci_upper"] == pytest.approx(hi)
    assert (got["periods"] == 2).all() and got.attrs["period"] == "month"


def test_recent_churn_without_segments_is_one_row_for_everyone():
    got = churn.recent_churn(_churn_table())
    assert len(got) == 1 and got["lost"].iloc[0] == 5 + 6 + 7 + 1 + 2 + 3 and got["periods"].iloc[0] == 3


def test_mrr_kept_is_one_minus_lost_over_start_of_the_last_complete_periods():
    got = churn.mrr_kept(_churn_table(), last=2)
    start, lost = 10.0 * (95 + 90 + 50 + 49), 10.0 * (6 + 7 + 2 + 3)
    assert got["periods"] == 2 and got["kept"] == pytest.approx(1 - lost / start)
    assert churn.mrr_kept(_churn_table().drop(columns=["mrr_start"])) is None


def test_ltv_at_age_pools_the_big_cohorts_at_the_oldest_age_reached():
    ltv = pd.DataFrame({"cohort": ["a", "a", "b", "b", "c"], "period": [3, 6, 3, 6, 6],
                        "cohort_size": [40, 40, 50, 50, 10], "cumulative_revenue": [100.0, 200.0, 150.0, 400.0, 99.0]})
    got = cohorts.ltv_at_age(ltv, min_n=30, ages=(12, 6, 3, 1))
    assert got == {"period": 6, "cohorts": 2, "ltv": pytest.approx((200 + 400) / (40 + 50))}
    assert cohorts.ltv_at_age(ltv, min_n=30, ages=(3, 1))["period"] == 3
    assert cohorts.ltv_at_age(ltv, min_n=100) is None


def test_compare_latest_pools_the_newest_cohorts_against_all_earlier_ones():
    t = pd.DataFrame({"cohort": list("abcdefgh"), "share": [0.5, 0.4, 0.5, 0.6, 0.7, 0.7, 0.8, 0.75],
                      "n": [100, 50, 80, 100, 100, 60, 40, 40]})
    got = comparisons.compare_latest(t, share="share", n="n", newer=3)
    k1, n1 = round(0.7 * 60 + 0.8 * 40 + 0.75 * 40), 140
    k0, n0 = round(50 + 20 + 40 + 60 + 70), 430
    assert got["cohorts"] == 3 and (got["from"], got["to"]) == ("f", "h")
    assert (got["reference_from"], got["reference_to"]) == ("a", "e")
    assert got["share"] == pytest.approx(k1 / n1) and got["reference_share"] == pytest.approx(k0 / n0)
    pooled = (k1 + k0) / (n1 + n0)
    z = (k1 / n1 - k0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    assert got["p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert got["difference"] == pytest.approx(k1 / n1 - k0 / n0)


def test_compare_latest_with_few_cohorts_takes_the_later_half_and_needs_two():
    t = pd.DataFrame({"cohort": [1, 2, 3], "share": [0.5, 0.6, 0.7], "n": [10, 10, 10]})
    assert comparisons.compare_latest(t, share="share", n="n", newer=6)["cohorts"] == 1
    assert comparisons.compare_latest(t.head(1), share="share", n="n") is None
