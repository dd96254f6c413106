"""The session caches of cxlib.data (read once, checks once, compiled SQL reused) never change an answer:
a changed file is read and checked again, a failing check still fails on every call, and the fast
UTC conversion on DuckDB equals the plain cast."""
import os

import duckdb
import pandas as pd
import pytest

from cxlib import cohorts, data, metrics
from cxlib.data import CXDataError


def _write(path, rows):
    pd.DataFrame(rows, columns=["respondent_id", "nps", "channel"]).to_csv(path, index=False)


def _bump(path):
    st = os.stat(path)  # make sure the modification time moves even on coarse file systems
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_changed_file_is_checked_again(tmp_path):
    p = tmp_path / "r.csv"
    _write(p, [(f"R{i}", i % 11, "web" if i % 2 else "email") for i in range(200)])
    a = metrics.nps(str(p), by="channel")
    b = metrics.nps(str(p), by="channel")  # warm: same answer
    pd.testing.assert_frame_equal(a, b)
    _write(p, [(f"R{i}", 11 if i == 5 else i % 11, "web") for i in range(200)])
    _bump(p)
    with pytest.raises(CXDataError, match="outside 0..10"):
        metrics.nps(str(p), by="channel")
    with pytest.raises(CXDataError, match="outside 0..10"):  # a failed check is not remembered as passed
        metrics.nps(str(p), by="channel")
    _write(p, [(f"R{i}", 10, "web") for i in range(50)])
    _bump(p)
    out = metrics.nps(str(p))
    assert int(out["n"].iloc[0]) == 50 and out["nps"].iloc[0] == 100


def test_duplicate_ids_fail_on_every_call(tmp_path):
    p = tmp_path / "d.csv"
    _write(p, [("R1", 9, "web"), ("R1", 3, "web"), ("R2", 7, "web")])
    for _ in range(2):
        with pytest.raises(CXDataError, match="must be unique"):
            metrics.nps(str(p))


def test_warm_call_runs_one_query(tmp_path, monkeypatch):
    p = tmp_path / "r.csv"
    _write(p, [(f"R{i}", i % 11, "web") for i in range(100)])
    metrics.nps(str(p), by="channel")
    calls = []
    real = data._execute
    monkeypatch.setattr("cxlib.engine._execute", lambda e: calls.append(e) or real(e))  # where to_pandas runs it
    metrics.nps(str(p), by="channel")
    assert len(calls) == 1  # the aggregate; the checks were answered from the session cache


def test_dataframe_sources_are_checked_every_call():
    df = pd.DataFrame({"respondent_id": ["a", "b"], "nps": [9, 3]})
    assert metrics.nps(df, min_n=1)["n"].iloc[0] == 2
    df.loc[1, "nps"] = 12  # the same object, changed in place: checked again
    with pytest.raises(CXDataError, match="outside 0..10"):
        metrics.nps(df, min_n=1)


def test_fast_utc_conversion_equals_the_cast(tmp_path):
    p = tmp_path / "e.csv"
    times = ["2026-03-29 00:30:00+00:00", "2026-03-29 03:30:00+02:00", "2025-10-26 02:30:00+01:00",
             "2025-10-26 02:30:00+02:00", "2025-12-31 23:59:59.999999-05:00", "2026-01-01 00:00:00Z"]
    pd.DataFrame({"customer_id": [f"C{i % 3}" for i in range(len(times))], "event_time": times}).to_csv(p, index=False)
    t = data.clean_timestamp(data.as_table(str(p)), "event_time")
    got = data.to_pandas(t.select("event_time"))["event_time"].tolist()
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    exp = [r[0] for r in con.execute(f"SELECT CAST(CAST(event_time AS TIMESTAMPTZ) AS TIMESTAMP) FROM "
                                     f"read_csv('{p}', all_varchar=true)").fetchall()]
    assert [pd.Timestamp(x) for x in got] == [pd.Timestamp(x) for x in exp]
    # tz-aware Parquet: the same instants
    pq = tmp_path / "e.parquet"
    pd.DataFrame({"customer_id": ["C0"] * len(times),
                  "event_time": pd.to_datetime(times, format="ISO8601", utc=True)}).to_parquet(pq)
    t2 = data.clean_timestamp(data.as_table(str(pq)), "event_time")
    got2 = data.to_pandas(t2.select("event_time"))["event_time"].tolist()
    assert [pd.Timestamp(x) for x in got2] == [pd.Timestamp(x) for x in exp]


def test_parquet_with_aware_timestamps_matches_sql(tmp_path):
    """Monthly cohorts from tz-aware Parquet equal a hand-written DuckDB query's counts."""
    import numpy as np

    rng = np.random.default_rng(1)
    n = 5000
    t0 = pd.Timestamp("2025-01-01", tz="UTC").value // 1000
    df = pd.DataFrame({"customer_id": rng.integers(0, 400, n),
                       "event_time": pd.to_datetime(t0 + rng.integers(0, 300 * 86400 * 10**6, n), unit="us", utc=True)})
    p = tmp_path / "ev.parquet"
    df.to_parquet(p)
    rt = cohorts.retention_table(str(p), as_of="2026-01-01", min_n=1)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    exp = con.execute(f"""WITH ev AS (SELECT customer_id, year(event_time)*12+month(event_time) m FROM read_parquet('{p}')),
        f AS (SELECT customer_id, min(m) c FROM ev GROUP BY 1)
        SELECT c, m - c AS k, count(DISTINCT customer_id) FROM ev JOIN f USING (customer_id) GROUP BY 1, 2""").fetchall()
    got = {(c.year * 12 + c.month, int(k)): int(a) for c, k, a in zip(pd.to_datetime(rt["cohort"]), rt["period"], rt["active"]) if a}
    assert got == {(int(c), int(k)): int(a) for c, k, a in exp}
