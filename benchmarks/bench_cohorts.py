"""Cohort retention table: cxlib (Ibis on DuckDB) vs plain pandas vs hand-written DuckDB SQL.

Same input (the sample design scaled up, Parquet), same output (active customers per cohort month x
period), checked equal before timing. Run: ``python -m benchmarks.bench_cohorts``.
"""
from __future__ import annotations

import platform
import sys

import duckdb
import pandas as pd

from benchmarks.common import EVENTS_SCALES, best_of, sample_data, write_results
from cxlib import cohorts


def with_cxlib(path):
    rt = cohorts.retention_table(str(path), min_n=1)
    return rt[["cohort", "period", "active"]]


def with_pandas(path):
    ev = pd.read_parquet(path, columns=["customer_id", "event_time"])
    m = ev["event_time"].dt.year * 12 + ev["event_time"].dt.month
    ev = ev.assign(m=m)
    first = ev.groupby("customer_id")["m"].transform("min")
    ev = ev.assign(cohort=first, period=ev["m"] - first)
    out = ev.groupby(["cohort", "period"])["customer_id"].nunique().rename("active").reset_index()
    return out


SQL = """
WITH ev AS (SELECT customer_id, year(event_time) * 12 + month(event_time) AS m FROM read_parquet('{path}')),
first AS (SELECT customer_id, min(m) AS c FROM ev GROUP BY customer_id)
SELECT c AS cohort, m - c AS period, count(DISTINCT ev.customer_id) AS active
FROM ev JOIN first USING (customer_id) GROUP BY 1, 2 ORDER BY 1, 2
"""


def with_sql(path):
    with duckdb.connect() as con:
        return con.sql(SQL.format(path=path)).df()


def main(sizes=None) -> str:
    rows = []
    for label, scale in (sizes or EVENTS_SCALES).items():
        path = sample_data(scale, tables=("events",))["events"]
        n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
        a = with_cxlib(path)
        b = with_pandas(path)
        c = with_sql(path)
        assert int(a["active"].sum()) == int(b["active"].sum()) == int(c["active"].sum()), "results differ"
        for name, fn in (("cxlib.cohorts.retention_table", with_cxlib), ("pandas groupby", with_pandas),
                         ("hand-written DuckDB SQL", with_sql)):
            rows.append({"data": f"{label} ({n:,} rows)", "method": name, "seconds": best_of(lambda: fn(path), 2)})
    df = pd.DataFrame(rows)
    lines = ["## Cohort retention table (monthly cohorts x periods)", "",
             f"Python {platform.python_version()}, {platform.machine()}; best of 2 runs, reading Parquet included.", "",
             "| data | method | seconds |", "|---|---|---|"]
    lines += [f"| {r.data} | {r.method} | {r.seconds:.2f} |" for r in df.itertuples()]
    lines += ["", "cxlib adds the full grid (empty cells), maturity flags and Wilson intervals on top of the counts."]
    return "\n".join(lines)


if __name__ == "__main__":
    sizes = {k: v for k, v in EVENTS_SCALES.items() if not sys.argv[1:] or k.split()[0] in sys.argv[1:]}
    md = main(sizes)
    print(md)
    write_results("cohorts", md)
