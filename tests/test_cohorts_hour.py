"""retention_table(grain='hour', tz=...) against a brute-force pandas computation on raw rows."""
import numpy as np
import pandas as pd
import pytest

from cxlib import cohorts
from cxlib.data import CXDataError

TZ = "Europe/Berlin"


def _events(seed=7, n_customers=400):
    """Events around Berlin's fall-back night (2025-10-26 03:00 CEST -> 02:00 CET) and some days after."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-10-25 18:00", tz="UTC")
    rows = []
    for c in range(n_customers):
        first = start + pd.Timedelta(seconds=int(rng.integers(0, 20 * 3600)))
        k = int(rng.integers(1, 8))
        gaps = rng.exponential(10 * 3600, k).astype(int)
        for g in np.concatenate([[0], np.cumsum(gaps)]):
            rows.append((f"C{c:04d}", first + pd.Timedelta(seconds=int(g))))
    return pd.DataFrame(rows, columns=["customer_id", "event_time"])


def _wilson(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _brute(ev, as_of, periods):
    local = ev["event_time"].dt.tz_convert(TZ).dt.tz_localize(None)
    ev = ev.assign(h=local.dt.floor("h"))
    ev = ev[local <= as_of]
    cohort = ev.groupby("customer_id")["h"].min()
    sizes = cohort.value_counts()
    active = {}
    for cust, grp in ev.groupby("customer_id"):
        c0 = cohort[cust]
        for h in set(grp["h"]):
            k = int((h - c0) / pd.Timedelta(hours=1))
            active[(c0, k)] = active.get((c0, k), 0) + 1
    rows = []
    for c0, size in sizes.items():
        for k in range(periods + 1):
            start = c0 + pd.Timedelta(hours=k)
            if start > as_of:
                break
            rows.append((c0, k, start, int(size), active.get((c0, k), 0), start + pd.Timedelta(hours=1) <= as_of))
    out = pd.DataFrame(rows, columns=["cohort", "period", "period_start", "cohort_size", "active", "mature"])
    return out.sort_values(["cohort", "period"]).reset_index(drop=True)


def test_hour_grain_in_a_time_zone_matches_brute_force():
    ev = _events()
    as_of = pd.Timestamp("2025-10-28 06:30")  # local time in TZ
    got = cohorts.retention_table(ev, grain="hour", tz=TZ, as_of=as_of, periods=30, min_n=5)
    exp = _brute(ev, as_of, 30)
    assert len(got) == len(exp)
    for col in ("period", "cohort_size", "active", "mature"):
        assert got[col].tolist() == exp[col].tolist(), col
    assert (pd.to_datetime(got["cohort"]) == exp["cohort"]).all()
    assert (pd.to_datetime(got["period_start"]) == exp["period_start"]).all()
    # the repeated hour (02:00-03:00 local, twice) is one cohort hour holding both instants
    assert (exp["cohort"] == pd.Timestamp("2025-10-26 02:00")).any()
    ok = ~got["suppressed"]
    lo, hi = _wilson(exp["active"][ok].to_numpy(float), exp["cohort_size"][ok].to_numpy(float))
    np.testing.assert_allclose(got.loc[ok, "retention"], (exp["active"] / exp["cohort_size"])[ok], rtol=1e-12)
    np.testing.assert_allclose(got.loc[ok, "ci_lower"], lo, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.loc[ok, "ci_upper"], hi, rtol=1e-9, atol=1e-12)
    assert got.loc[~ok, "retention"].isna().all()
    assert (got["suppressed"] == (exp["cohort_size"] < 5)).all()


def test_hour_grain_utc_default_periods_is_a_week():
    ev = _events(seed=3, n_customers=60)
    # one late customer keeps the table going past every cohort's first week (issue 21: the grid stops at
    # the table's last event, so without it no cohort would reach period 168)
    ev = pd.concat([ev, pd.DataFrame({"customer_id": ["LATE"], "event_time": [pd.Timestamp("2025-11-10", tz="UTC")]})],
                   ignore_index=True)
    as_of = pd.Timestamp("2025-11-20")
    got = cohorts.retention_table(ev, grain="hour", as_of=as_of, min_n=1)
    assert got["period"].max() == cohorts.HOUR_PERIODS
    assert (pd.to_datetime(got["period_start"]) <= pd.Timestamp("2025-11-10")).all()
    exp_utc = ev.assign(event_time=ev["event_time"].dt.tz_convert("UTC"))
    local = exp_utc["event_time"].dt.tz_localize(None).dt.floor("h")
    first = local.groupby(ev["customer_id"]).transform("min")
    period = ((local - first) / pd.Timedelta(hours=1)).astype(int)
    cells = pd.DataFrame({"c": ev["customer_id"], "cohort": first, "period": period}).drop_duplicates()
    n = cells[cells["period"] <= cohorts.HOUR_PERIODS].groupby(["cohort", "period"]).size()
    merged = got.set_index([pd.to_datetime(got["cohort"]), "period"])["active"]
    assert (merged.reindex(n.index) == n).all()
    assert merged.drop(n.index).eq(0).all()


def test_unknown_grain_names_hour():
    with pytest.raises(CXDataError, match="hour"):
        cohorts.retention_table(_events(n_customers=5), grain="minute")
