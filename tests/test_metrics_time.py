"""Time everywhere (issue 15, item 8): ``tz=`` and ``week_start=`` on every time-bucketing function of
cxlib.metrics, checked against a pandas brute force on the raw rows (tz_convert, then the period's first
local day computed by hand)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import metrics
from cxlib.data import CXDataError

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@pytest.fixture(scope="module")
def answers():
    """1,500 answers at random instants from Feb to Nov 2026 (both DST switches), written with
    assorted UTC offsets as exact instants."""
    rng = np.random.default_rng(8)
    n = 1500
    start = pd.Timestamp("2026-02-01", tz="UTC").value // 10 ** 9
    end = pd.Timestamp("2026-11-30", tz="UTC").value // 10 ** 9
    secs = np.sort(rng.integers(start, end, n))
    # plant answers right around local midnights and the DST switches
    edges = ["2026-11-22 23:30", "2026-11-23 00:30", "2026-03-29 00:59", "2026-03-29 01:30", "2026-10-25 00:30",
             "2026-10-25 01:30", "2026-05-31 22:10", "2026-05-31 23:50", "2026-11-29 04:30", "2026-11-29 05:30"]
    secs[: len(edges)] = [pd.Timestamp(e, tz="UTC").value // 10 ** 9 for e in edges]
    instants = pd.to_datetime(secs, unit="s", utc=True)
    offsets = rng.choice(["+00:00", "+01:00", "-05:00", "+05:30"], n)
    text = [ts.tz_convert(_fixed(o)).isoformat() for ts, o in zip(instants, offsets)]
    return pd.DataFrame({"respondent_id": np.arange(n), "response_time": text, "instant": instants,
                         "nps": rng.integers(0, 11, n), "csat": rng.integers(1, 6, n), "ces": rng.integers(1, 8, n),
                         "plan": rng.choice(["basic", "pro"], n)})


def _fixed(offset: str):
    sign = 1 if offset[0] == "+" else -1
    h, m = int(offset[1:3]), int(offset[4:6])
    from datetime import timedelta, timezone

    return timezone(sign * timedelta(hours=h, minutes=m))


def _brute_period(instants: pd.Series, period: str, tz: str | None, week_start: str = "monday") -> pd.Series:
    """The first local day of each instant's period, by hand."""
    local = instants.dt.tz_convert(tz or "UTC").dt.tz_localize(None)
    day = local.dt.normalize()
    if period == "day":
        return day
    if period == "week":
        back = (day.dt.day_of_week - WEEKDAYS.index(week_start)) % 7
        return day - pd.to_timedelta(back, unit="D")
    if period == "month":
        return day - pd.to_timedelta(day.dt.day - 1, unit="D")
    raise AssertionError(period)


def _brute_nps(df, keys):
    g = df.assign(p=df["nps"] >= 9, d=df["nps"] <= 6).groupby(keys)
    out = g.agg(n=("nps", "size"), promoters=("p", "sum"), detractors=("d", "sum")).reset_index()
    out["nps"] = 100 * (out["promoters"] - out["detractors"]) / out["n"]
    return out


@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("week_start", ["monday", "sunday", "saturday"])
def test_nps_weeks_match_brute_force(answers, tz, week_start):
    got = metrics.nps(answers, period="week", tz=tz, week_start=week_start, min_n=1)
    want = _brute_nps(answers.assign(period=_brute_period(answers["instant"], "week", tz, week_start)), ["period"])
    assert list(got["period"]) == list(want["period"])
    assert (got["period"].dt.day_of_week == WEEKDAYS.index(week_start)).all()
    np.testing.assert_array_equal(got["n"], want["n"])
    np.testing.assert_array_equal(got["promoters"], want["promoters"])
    np.testing.assert_allclose(got["nps"], want["nps"], rtol=1e-12)


@pytest.mark.parametrize("period", ["day", "month"])
@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York"])
def test_csat_and_ces_periods_match_brute_force(answers, period, tz):
    keys = ["plan", "period"]
    df = answers.assign(period=_brute_period(answers["instant"], period, tz))
    c = metrics.csat(answers, period=period, by="plan", tz=tz, min_n=1)
    want = df.assign(sat=df["csat"] >= 4).groupby(keys).agg(n=("sat", "size"), satisfied=("sat", "sum")).reset_index()
    assert list(c["plan"]) == list(want["plan"]) and list(c["period"]) == list(want["period"])
    np.testing.assert_array_equal(c["n"], want["n"])
    np.testing.assert_array_equal(c["satisfied"], want["satisfied"])
    e = metrics.ces(answers, period=period, by="plan", tz=tz, min_n=1, week_start="sunday")  # ignored off weeks
    want = df.groupby(keys)["ces"].agg(["size", "mean"]).reset_index()
    assert list(e["period"]) == list(want["period"]) and list(e["plan"]) == list(want["plan"])
    np.testing.assert_allclose(e["ces"], want["mean"], rtol=1e-12)


def test_berlin_midnight_answer_is_in_another_week_than_in_utc():
    df = pd.DataFrame({"nps": [10, 2], "response_time": ["2026-11-23T00:30:00+01:00", "2026-11-20T12:00:00+01:00"]})
    utc = metrics.nps_counts(df, period="week")
    berlin = metrics.nps_counts(df, period="week", tz="Europe/Berlin")
    sunday = metrics.nps_counts(df, period="week", week_start="sunday")
    # 2026-11-23 00:30 in Berlin is Sunday 22 Nov 23:30 UTC: the week of 16 Nov in UTC (Monday weeks),
    # the week of 23 Nov in Berlin, and the week starting Sunday 22 Nov with Sunday weeks
    assert list(utc["period"]) == [pd.Timestamp("2026-11-16")]
    assert list(utc["n"]) == [2]
    assert list(berlin["period"]) == [pd.Timestamp("2026-11-16"), pd.Timestamp("2026-11-23")]
    assert list(berlin["promoters"]) == [0, 1]
    assert list(sunday["period"]) == [pd.Timestamp("2026-11-15"), pd.Timestamp("2026-11-22")]


def test_compare_periods_uses_tz_and_week_start(answers):
    for tz, ws in (("Europe/Berlin", "sunday"), ("America/New_York", "monday")):
        df = answers.assign(period=_brute_period(answers["instant"], "week", tz, ws))
        weeks = sorted(df["period"].unique())
        cur, before = weeks[-3], weeks[-7:-3]
        r = metrics.compare_periods(answers, current=cur, prior=4, tz=tz, week_start=ws).iloc[0]
        a, b = df[df["period"] == cur], df[df["period"].isin(before)]
        nps = lambda x: 100 * ((x["nps"] >= 9).mean() - (x["nps"] <= 6).mean())  # noqa: E731
        assert r["period"] == pd.Timestamp(cur) and r["baseline_start"] == pd.Timestamp(before[0])
        assert r["n_a"] == len(a) and r["n_b"] == len(b)
        assert r["diff"] == pytest.approx(nps(a) - nps(b), rel=1e-12)


def test_default_is_utc_monday_and_numbers_unchanged(answers):
    a = metrics.nps(answers, period="week", min_n=1)
    b = metrics.nps(answers, period="week", tz="UTC", week_start="Monday", min_n=1)
    pd.testing.assert_frame_equal(a, b)


def test_spec_tz_is_the_default_reporting_zone(tmp_path):
    """A source spec's tz: reads naive times as Berlin time and, by default, cuts the periods in Berlin."""
    p = tmp_path / "r.csv"
    pd.DataFrame({"respondent_id": [1, 2], "nps": [10, 3],
                  "response_time": ["2026-11-23 00:30:00", "2026-11-20 12:00:00"]}).to_csv(p, index=False)
    spec = {"path": str(p), "tz": "Europe/Berlin"}
    got = metrics.nps_counts(spec, period="week")
    assert list(got["period"]) == [pd.Timestamp("2026-11-16"), pd.Timestamp("2026-11-23")]
    utc = metrics.nps_counts(spec, period="week", tz="UTC")
    assert list(utc["period"]) == [pd.Timestamp("2026-11-16")]


def test_bad_tz_and_week_start():
    df = pd.DataFrame({"nps": [10], "response_time": ["2026-11-23T00:30:00+01:00"]})
    with pytest.raises(CXDataError, match="time zone"):
        metrics.nps(df, period="week", tz="Mars/Olympus")
    with pytest.raises(CXDataError, match="week_start"):
        metrics.csat(df.assign(csat=5), period="week", week_start="sun")
