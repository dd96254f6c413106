"""retention_table's one-pass DuckDB path (per-customer activity bitmask, cohorts._fast_cells) equals the
general path exactly, and both equal a brute-force pandas count on the raw rows.

The general path is forced by setting ``cohorts._FAST_MAX_SPAN = 0``; a spy on ``_fast_cells`` checks
which path a call took.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import cohorts

FREQ = {"hour": "h", "day": "D", "month": "M", "quarter": "Q", "year": "Y"}


def make_events(seed: int, *, n_customers: int = 250, start: str = "2024-01-01", days: int = 700,
                mean_gap_days: float = 60.0, aware: bool = True, string_ids: bool = False) -> pd.DataFrame:
    """Random events: each customer starts at a uniform time in the window and comes back after
    exponential gaps (some only once); per-event segments with blanks (a customer's segment is the one
    of their first event); a few blank customer ids; times with microseconds, unique per customer."""
    rng = np.random.default_rng(seed)
    k = rng.geometric(0.3, n_customers)  # events per customer (1 with probability 0.3)
    cust = np.repeat(np.arange(n_customers), k)
    first = rng.integers(0, days * 86400 * 10**6, n_customers)
    gaps = rng.exponential(mean_gap_days * 86400 * 10**6, len(cust)).astype("int64")
    pos = np.arange(len(cust)) - np.repeat(np.cumsum(k) - k, k)
    gaps[pos == 0] = 0
    off = first[cust] + np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[np.cumsum(k) - k], k)
    inside = off < days * 86400 * 10**6  # events after the window are dropped (first events are inside)
    cust, off = cust[inside], off[inside]
    ts = pd.Timestamp(start) + pd.to_timedelta(off, unit="us")
    ids = pd.Series([f"c{c}" for c in cust]) if string_ids else pd.Series(cust + 1, dtype="Int64")
    blank_ids = rng.random(len(cust)) < 0.01
    ids[blank_ids] = None
    ev = pd.DataFrame({"customer_id": ids,
                       "event_time": ts.tz_localize("UTC") if aware else ts,
                       "seg": rng.choice(np.array(["a", "b", "c", None], dtype=object), len(cust),
                                         p=[0.4, 0.3, 0.2, 0.1]),
                       "plan": rng.choice(np.array(["x", "y"], dtype=object), len(cust))})
    ev = ev.drop_duplicates(["customer_id", "event_time"])
    return ev.sample(frac=1, random_state=seed).reset_index(drop=True)  # row order must not matter


def _local(ev: pd.DataFrame, tz: str | None) -> pd.Series:
    t = ev["event_time"]
    if t.dt.tz is None:
        t = t.dt.tz_localize("UTC")
    return t.dt.tz_convert(tz or "UTC").dt.tz_localize(None)


def _bucket(local: pd.Series, grain: str, week_start: str) -> pd.Series:
    if grain == "week":
        return local.dt.to_period("W-SUN" if week_start == "monday" else "W-SAT")
    return local.dt.to_period(FREQ[grain])


def brute_force(ev, *, grain, as_of, tz=None, by=(), week_start="monday"):
    """{(segments..., cohort start): (size, {period: active})} by loops over customers."""
    local = _local(ev, tz)
    keep = (local <= as_of) & ev["customer_id"].notna()
    ev, local = ev[keep], local[keep]
    per = _bucket(local, grain, week_start)
    out = {}
    for _, idx in ev.groupby("customer_id").groups.items():
        ps = per.loc[idx]
        first_row = local.loc[idx].idxmin()
        c0 = ps.min()
        key = (*[ev.at[first_row, s] for s in by], c0.start_time)
        size, act = out.get(key, (0, {}))
        for k in {(p - c0).n for p in ps}:
            act[k] = act.get(k, 0) + 1
        out[key] = (size + 1, act)
    return out


def _norm(v):
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def assert_matches_brute_force(rt, ev, *, grain, as_of, tz=None, by=(), week_start="monday"):
    exp = brute_force(ev, grain=grain, as_of=as_of, tz=tz, by=by, week_start=week_start)
    got = {}
    for row in rt.itertuples(index=False):
        key = (*[_norm(getattr(row, s)) for s in by], pd.Timestamp(row.cohort))
        size, act = got.get(key, (row.cohort_size, {}))
        assert size == row.cohort_size
        if row.active:
            act[row.period] = row.active
        got[key] = (size, act)
    exp = {tuple(_norm(v) for v in k): v for k, v in exp.items()}
    assert set(got) == set(exp)
    for key, (size, act) in exp.items():
        periods = set(rt["period"])
        assert got[key][0] == size, key
        assert got[key][1] == {k: v for k, v in act.items() if k in periods}, key


@pytest.fixture(autouse=True)
def small_tables_too(monkeypatch):
    """The one-pass path is taken from _FAST_MIN_ROWS rows on; these tests run it on small tables."""
    monkeypatch.setattr(cohorts, "_FAST_MIN_ROWS", 0)


@pytest.fixture
def spy(monkeypatch):
    """Records whether each call's _fast_cells produced the counts (True) or declined (False)."""
    calls = []
    real = cohorts._fast_cells

    def wrapped(*a, **kw):
        out = real(*a, **kw)
        calls.append(out is not None)
        return out
    monkeypatch.setattr(cohorts, "_fast_cells", wrapped)
    return calls


def both(ev, monkeypatch, spy, *, fast: bool = True, **kw):
    """(default path, general path) tables of the same call, asserting which path the default took."""
    got = cohorts.retention_table(ev, **kw)
    assert spy == [fast], f"expected the {'one-pass' if fast else 'general'} path"
    with monkeypatch.context() as m:
        m.setattr(cohorts, "_FAST_MAX_SPAN", 0)
        old = cohorts.retention_table(ev, **kw)
    assert spy == [fast, False]
    spy.clear()
    return got, old


def assert_same(got, old):
    pd.testing.assert_frame_equal(got, old, check_exact=True)
    assert list(got.dtypes) == list(old.dtypes)
    assert got.attrs == old.attrs
    assert np.issubdtype(got["active"].dtype, np.integer) and np.issubdtype(got["cohort_size"].dtype, np.integer)


CASES = [  # (seed, options, events options)
    (1, dict(grain="month"), {}),
    (2, dict(grain="month", by="seg"), {}),
    (3, dict(grain="month", by=["seg", "plan"], tz="Europe/Berlin"), {}),
    (4, dict(grain="week"), {}),  # ~100 weeks: two 64-bit words
    (5, dict(grain="week", week_start="sunday", by="seg", tz="Europe/Berlin"), {}),
    (6, dict(grain="quarter", by="plan"), {}),
    (7, dict(grain="year", by="seg"), dict(days=1500)),
    (8, dict(grain="day", tz="America/New_York"), dict(days=150, mean_gap_days=20)),  # 3 words
    (9, dict(grain="month", periods=5, by="seg"), {}),
    (10, dict(grain="month", min_n=15, by="seg"), dict(n_customers=400)),
    (11, dict(grain="week", tz="Europe/Berlin"), dict(aware=False, string_ids=True)),
    (12, dict(grain="month", tz="Asia/Kolkata", by="plan"), dict(string_ids=True)),
    (13, dict(grain="week", periods=20, min_n=3), dict(days=420)),
    (14, dict(grain="day", by="seg"), dict(days=60, mean_gap_days=5, n_customers=150)),
    # hours in Berlin across the fall-back night (the repeated hour holds both instants), 2-4 words
    (15, dict(grain="hour", tz="Europe/Berlin", by="seg"), dict(start="2025-10-21", days=9, mean_gap_days=1)),
    (16, dict(grain="hour", tz="Europe/Berlin", periods=200), dict(start="2025-03-25", days=7, mean_gap_days=0.5)),
]


@pytest.mark.parametrize("seed,opts,evopts", CASES, ids=[f"seed{c[0]}-{c[1]['grain']}" for c in CASES])
def test_fast_path_equals_general_path_and_brute_force(seed, opts, evopts, monkeypatch, spy):
    ev = make_events(seed, **evopts)
    local = _local(ev, opts.get("tz"))
    # as_of cuts the last tenth of the data (rows after it are left out, with a note) on even seeds
    cut = local.max() - (local.max() - local.min()) / 10
    as_of = cut if seed % 2 == 0 else local.max().ceil("D")
    kw = {"min_n": 1, "as_of": as_of, **opts}
    got, old = both(ev, monkeypatch, spy, **kw)
    assert_same(got, old)
    if seed % 2 == 0:
        late = got.attrs["notes"][0]
        assert late.code == "rows_after_as_of" and late["as_of"] == pd.Timestamp(as_of)
        assert late["counts"] == {"event_time": int((local > as_of).sum())}
    by = cohorts.cxdata.as_list(opts.get("by"))
    assert_matches_brute_force(got, ev, grain=opts["grain"], as_of=as_of, tz=opts.get("tz"), by=by,
                               week_start=opts.get("week_start", "monday"))


@pytest.mark.parametrize("span", [1, 2, 63, 64, 65, 128, 129, 256])
def test_spans_on_word_boundaries(span, monkeypatch, spy):
    """Daily data spanning exactly ``span`` days (one customer on the first and on the last day)."""
    ev = make_events(100 + span, n_customers=60, days=span, mean_gap_days=span / 4)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    edge = pd.DataFrame({"customer_id": pd.array([9999, 9999, 9998], dtype="Int64"),
                         "event_time": [t0, t0 + pd.Timedelta(days=span - 1, hours=23), t0 + pd.Timedelta(hours=5)],
                         "seg": ["a", "b", None], "plan": ["x", "x", "y"]})
    ev = pd.concat([ev, edge], ignore_index=True)
    as_of = t0.tz_localize(None) + pd.Timedelta(days=span) - pd.Timedelta(seconds=1)
    ev = ev[ev["event_time"].dt.tz_localize(None) <= as_of]
    got, old = both(ev, monkeypatch, spy, grain="day", by="seg", as_of=as_of, min_n=1)
    assert_same(got, old)
    assert got["period"].max() == span - 1
    assert_matches_brute_force(got, ev, grain="day", as_of=as_of, by=["seg"])


def test_span_beyond_the_limit_takes_the_general_path(monkeypatch, spy):
    span = cohorts._FAST_MAX_SPAN + 1
    ev = make_events(7, n_customers=80, days=span - 1, mean_gap_days=60)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    edge = pd.DataFrame({"customer_id": pd.array([9999, 9999], dtype="Int64"),
                         "event_time": [t0, t0 + pd.Timedelta(days=span - 1)], "seg": ["a", "a"],
                         "plan": ["x", "x"]})
    ev = pd.concat([ev, edge], ignore_index=True)
    as_of = pd.Timestamp("2024-01-01") + pd.Timedelta(days=span)
    got = cohorts.retention_table(ev, grain="day", as_of=as_of, min_n=1)
    assert spy == [False]
    assert_matches_brute_force(got, ev, grain="day", as_of=as_of)


def test_other_options_take_the_general_path(monkeypatch, spy):
    ev = make_events(3, n_customers=50)
    ev["revenue"] = 1.0
    ev["signed_up"] = ev.groupby("customer_id")["event_time"].transform("min")
    for kw in (dict(definition="on_or_after"), dict(value="revenue"), dict(signup="signed_up")):
        cohorts.retention_table(ev, as_of="2026-01-01", min_n=1, **kw)
    assert spy == []  # not even tried


def test_single_event_customers_and_parquet_source(tmp_path, monkeypatch, spy):
    """Every customer with one event (all later periods empty), read from a tz-aware Parquet file."""
    ev = make_events(21, n_customers=300)
    ev = ev.dropna(subset=["customer_id"]).drop_duplicates("customer_id")
    path = tmp_path / "events.parquet"
    ev.to_parquet(path)
    got, old = both(str(path), monkeypatch, spy, grain="month", by="seg", as_of="2026-01-31", min_n=5)
    assert_same(got, old)
    assert (got.loc[got["period"] > 0, "active"] == 0).all()
    assert_matches_brute_force(got, ev, grain="month", as_of=pd.Timestamp("2026-01-31"), by=["seg"])


def test_small_tables_take_the_general_path(monkeypatch, spy):
    monkeypatch.setattr(cohorts, "_FAST_MIN_ROWS", 200_000)
    cohorts.retention_table(make_events(2, n_customers=50), as_of="2026-01-01", min_n=1)
    assert spy == []


def test_no_events_before_as_of_same_error(monkeypatch, spy):
    ev = make_events(5, n_customers=20, start="2025-01-01")
    with pytest.raises(cohorts.cxdata.CXDataError, match="no events on or before") as fast:
        cohorts.retention_table(ev, as_of="2020-01-01")
    monkeypatch.setattr(cohorts, "_FAST_MAX_SPAN", 0)
    with pytest.raises(cohorts.cxdata.CXDataError, match="no events on or before") as old:
        cohorts.retention_table(ev, as_of="2020-01-01")
    assert str(fast.value) == str(old.value)
