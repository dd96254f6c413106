"""Weekly NPS by segment: cxlib.metrics.nps vs plain pandas vs hand-written DuckDB SQL."""
from __future__ import annotations

import platform
import sys

import duckdb
import numpy as np
import pandas as pd

from benchmarks.common import best_of, sample_data, write_results
from cxlib import metrics

SIZES = {"1M answers": 170, "10M answers": 1700}


def with_cxlib(path):
    return metrics.nps(str(path), by="channel", time="response_time", period="week")


def with_pandas(path):
    r = pd.read_parquet(path, columns=["nps", "channel", "response_time"])
    r = r.assign(period=r["response_time"].dt.to_period("W-SUN").dt.start_time,
                 p=(r["nps"] >= 9).astype(int), d=(r["nps"] <= 6).astype(int))
    g = r.groupby(["channel", "period"]).agg(n=("nps", "size"), p=("p", "mean"), d=("d", "mean")).reset_index()
    g["nps"] = 100 * (g["p"] - g["d"])
    g["se"] = 100 * np.sqrt((g["p"] + g["d"] - (g["p"] - g["d"]) ** 2) / g["n"])
    return g


SQL = """
SELECT channel, date_trunc('week', response_time) AS period, count(*) AS n,
       100 * (avg((nps >= 9)::int) - avg((nps <= 6)::int)) AS nps
FROM read_parquet('{path}') WHERE nps IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
"""


def with_sql(path):
    with duckdb.connect() as con:
        return con.sql(SQL.format(path=path)).df()


def main(sizes) -> str:
    rows = []
    for label, scale in sizes.items():
        path = sample_data(scale, tables=("responses",))["responses"]
        n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
        a, b, c = with_cxlib(path), with_pandas(path), with_sql(path)
        assert np.allclose(a.sort_values(["channel", "period"])["nps"].to_numpy(),
                           b.sort_values(["channel", "period"])["nps"].to_numpy()), "results differ"
        assert len(a) == len(c)
        for name, fn in (("cxlib.metrics.nps", with_cxlib), ("pandas groupby", with_pandas),
                         ("hand-written DuckDB SQL", with_sql)):
            rows.append({"data": f"{label} ({n:,} rows)", "method": name, "seconds": best_of(lambda: fn(path), 2)})
    lines = ["## Weekly NPS by channel with intervals", "",
             f"Python {platform.python_version()}; best of 2 runs, reading Parquet included.", "",
             "| data | method | seconds |", "|---|---|---|"]
    lines += [f"| {r['data']} | {r['method']} | {r['seconds']:.2f} |" for r in rows]
    lines += ["", "The SQL query gives the point estimate only; cxlib and the pandas recipe also give the interval."]
    return "\n".join(lines)


if __name__ == "__main__":
    sizes = {k: v for k, v in SIZES.items() if not sys.argv[1:] or k.split()[0] in sys.argv[1:]}
    md = main(sizes)
    print(md)
    write_results("nps", md)
