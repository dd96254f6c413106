"""Experiment comparison: cxlib.experiments.compare (sufficient statistics in the engine) vs pandas on raw
rows with scipy's Welch test vs a hand-written DuckDB SQL aggregation followed by the same statistics."""
from __future__ import annotations

import platform
import sys

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.common import best_of, sample_data, write_results
from cxlib import experiments

SIZES = {"1.2M units": 20, "12M units": 200}
METRICS = {"converted": "proportion", "revenue": "mean"}


def with_cxlib(path):
    return experiments.compare(str(path), control="control", metrics=METRICS)


def with_cxlib_unchecked(path):
    return experiments.compare(str(path), control="control", metrics=METRICS, check_units=False)


def with_pandas(path):
    df = pd.read_parquet(path, columns=["variant", *METRICS])
    out = {}
    ctrl = df[df["variant"] == "control"]
    for v, g in df[df["variant"] != "control"].groupby("variant"):
        for m in METRICS:
            out[(m, v)] = stats.ttest_ind(g[m], ctrl[m], equal_var=False).pvalue
    return out


SQL = """
SELECT variant, count(*) AS n, sum(converted) AS s1, sum(converted * converted) AS q1,
       sum(revenue) AS s2, sum(revenue * revenue) AS q2
FROM read_parquet('{path}') GROUP BY variant
"""


def with_sql(path):
    with duckdb.connect() as con:
        agg = con.sql(SQL.format(path=path)).df().set_index("variant")
    out = {}
    c = agg.loc["control"]
    for v in agg.index.drop("control"):
        t = agg.loc[v]
        for m, (s, q) in {"converted": ("s1", "q1"), "revenue": ("s2", "q2")}.items():
            mt, mc = t[s] / t["n"], c[s] / c["n"]
            vt = (t[q] - t["n"] * mt ** 2) / (t["n"] - 1) / t["n"]
            vc = (c[q] - c["n"] * mc ** 2) / (c["n"] - 1) / c["n"]
            out[(m, v)] = 2 * stats.norm.sf(abs(mt - mc) / np.sqrt(vt + vc))
    return out


def main(sizes) -> str:
    rows = []
    for label, scale in sizes.items():
        path = sample_data(scale, tables=("experiment",))["experiment"]
        n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
        a, b = with_cxlib(path), with_pandas(path)
        for r in a.itertuples():
            assert np.isclose(r.p_value, b[(r.metric, r.variant)], rtol=1e-3, atol=1e-12), "results differ"
        for name, fn in (("cxlib.experiments.compare", with_cxlib),
                         ("cxlib, check_units=False", with_cxlib_unchecked), ("pandas + scipy on raw rows", with_pandas),
                         ("hand-written DuckDB SQL + statistics", with_sql)):
            rows.append({"data": f"{label} ({n:,} rows)", "method": name, "seconds": best_of(lambda: fn(path), 2)})
    lines = ["## Experiment comparison (2 metrics x 2 treatments)", "",
             f"Python {platform.python_version()}; best of 2 runs, reading Parquet included.", "",
             "| data | method | seconds |", "|---|---|---|"]
    lines += [f"| {r['data']} | {r['method']} | {r['seconds']:.2f} |" for r in rows]
    lines += ["", "cxlib also gives intervals, relative lifts, Holm-adjusted p-values and guardrail flags. Most of its",
              "time at 12M rows is the check that no unit appears twice (a hash aggregation over every unit id),",
              "which the alternatives skip; `check_units=False` shows the comparison alone."]
    return "\n".join(lines)


if __name__ == "__main__":
    sizes = {k: v for k, v in SIZES.items() if not sys.argv[1:] or k.split()[0] in sys.argv[1:]}
    md = main(sizes)
    print(md)
    write_results("experiments", md)
