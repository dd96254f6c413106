"""Interactive latency on the bundled sample (data/sample/*.csv): cxlib vs a pandas recipe vs hand-written
DuckDB SQL, side by side in one process, medians of interleaved repeats, as ratios.

cxlib is timed *warm*: the first call in the process (which reads the CSV file once into the session's
DuckDB) is reported separately as "first call"; later calls reuse the table while the file is unchanged.
The pandas recipe reads the CSV on every call (that is what the recipe does); the SQL query runs on one
open DuckDB connection with ``read_csv`` in the query. Results are checked equal before timing.

Optionally (``--notebooks``) also ``cx run`` of the four notebooks on the sample against papermill's floor
(four trivial notebooks, two at a time), medians of interleaved runs.

Run: ``python -m benchmarks.bench_small [--repeat N] [--notebooks]`` (or ``python -m benchmarks.run small``).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.common import write_results

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
EVENTS, RESPONSES, EXPERIMENT = (str(SAMPLE / f) for f in ("events.csv", "responses.csv", "experiment.csv"))
SUBSCRIPTIONS = str(SAMPLE / "subscriptions.csv")
METRICS = {"converted": "proportion", "revenue": "mean", "csat": "mean", "nps": "nps"}


# ------------------------------------------------------------------------------------ retention table

def retention_cxlib():
    from cxlib import cohorts

    return cohorts.retention_table(EVENTS, grain="month", min_n=1)


def retention_pandas():
    ev = pd.read_csv(EVENTS, usecols=["customer_id", "event_time"])
    ts = pd.to_datetime(ev["event_time"], format="ISO8601")
    m = ts.dt.year * 12 + ts.dt.month
    first = m.groupby(ev["customer_id"]).transform("min")
    out = (pd.DataFrame({"customer_id": ev["customer_id"], "cohort": first, "period": m - first})
           .groupby(["cohort", "period"])["customer_id"].nunique().rename("active").reset_index())
    return out


RETENTION_SQL = """
WITH ev AS (SELECT customer_id, year(event_time) * 12 + month(event_time) AS m FROM read_csv('{path}')),
first AS (SELECT customer_id, min(m) AS c FROM ev GROUP BY customer_id)
SELECT c AS cohort, m - c AS period, count(DISTINCT ev.customer_id) AS active
FROM ev JOIN first USING (customer_id) GROUP BY 1, 2 ORDER BY 1, 2
"""


def retention_sql(con):
    return con.sql(RETENTION_SQL.format(path=EVENTS)).df()


def retention_check(a, b, c):
    assert int(a["active"].sum()) == int(b["active"].sum()) == int(c["active"].sum()), "retention differs"


# ------------------------------------------------------------------------------------ NPS by channel

def nps_cxlib():
    from cxlib import metrics

    return metrics.nps(RESPONSES, by="channel")


def nps_pandas():
    r = pd.read_csv(RESPONSES, usecols=["nps", "channel"]).dropna(subset=["nps"])
    r = r.assign(p=(r["nps"] >= 9).astype(int), d=(r["nps"] <= 6).astype(int))
    g = r.groupby("channel").agg(n=("nps", "size"), p=("p", "mean"), d=("d", "mean")).reset_index()
    g["nps"] = 100 * (g["p"] - g["d"])
    se = 100 * np.sqrt((g["p"] + g["d"] - (g["p"] - g["d"]) ** 2) / g["n"])
    g["ci_lower"], g["ci_upper"] = g["nps"] - 1.959964 * se, g["nps"] + 1.959964 * se
    return g


NPS_SQL = """
SELECT channel, count(*) AS n, 100 * (avg((nps >= 9)::int) - avg((nps <= 6)::int)) AS nps
FROM read_csv('{path}') WHERE nps IS NOT NULL GROUP BY 1 ORDER BY 1
"""


def nps_sql(con):
    return con.sql(NPS_SQL.format(path=RESPONSES)).df()


def nps_check(a, b, c):
    a, b, c = (x.sort_values("channel").reset_index(drop=True) for x in (a, b, c))
    assert np.allclose(a["nps"], b["nps"]) and np.allclose(a["nps"], c["nps"]), "NPS differs"


# ------------------------------------------------------------------------------------ experiment comparison

def compare_cxlib():
    from cxlib import experiments

    return experiments.compare(EXPERIMENT, control="control", metrics=METRICS)


def _welch(mt, vt, nt, mc, vc, nc):
    se2 = vt / nt + vc / nc
    dof = se2 ** 2 / ((vt / nt) ** 2 / (nt - 1) + (vc / nc) ** 2 / (nc - 1))
    return 2 * stats.t.sf(abs(mt - mc) / np.sqrt(se2), dof)


def compare_pandas():
    df = pd.read_csv(EXPERIMENT, usecols=["unit_id", "variant", *METRICS])
    assert df["unit_id"].is_unique
    df["nps"] = np.where(df["nps"].isna(), np.nan, np.select([df["nps"] >= 9, df["nps"] <= 6], [1.0, -1.0], 0.0))
    g = df.groupby("variant")[list(METRICS)].agg(["count", "mean", "var"])
    out = {}
    for v in g.index.drop("control"):
        for m in METRICS:
            t, c = g.loc[v, m], g.loc["control", m]
            out[(m, v)] = _welch(t["mean"], t["var"], t["count"], c["mean"], c["var"], c["count"])
    return out


COMPARE_SQL = """
SELECT variant, {aggs} FROM read_csv('{path}') GROUP BY variant
"""


def compare_sql(con):
    cols = {"converted": "converted", "revenue": "revenue", "csat": "csat",
            "nps": "CASE WHEN nps >= 9 THEN 1.0 WHEN nps <= 6 THEN -1.0 WHEN nps IS NOT NULL THEN 0.0 END"}
    aggs = ", ".join(f"count({e}) AS n_{m}, avg({e}) AS m_{m}, var_samp({e}) AS v_{m}" for m, e in cols.items())
    agg = con.sql(COMPARE_SQL.format(aggs=aggs, path=EXPERIMENT)).df().set_index("variant")
    out = {}
    c = agg.loc["control"]
    for v in agg.index.drop("control"):
        t = agg.loc[v]
        for m in cols:
            out[(m, v)] = _welch(t[f"m_{m}"], t[f"v_{m}"], t[f"n_{m}"], c[f"m_{m}"], c[f"v_{m}"], c[f"n_{m}"])
    return out


def compare_check(a, b, c):
    for r in a.itertuples():
        for other in (b, c):
            assert np.isclose(r.p_value, other[(r.metric, r.variant)], rtol=1e-6, atol=1e-12), "p-values differ"


# ------------------------------------------------------------------------------------ key drivers

DRIVERS = ["drv_ease_of_use", "drv_reliability", "drv_responsiveness", "drv_value_for_money", "drv_onboarding",
           "drv_features", "drv_trust"]


def drivers_cxlib():
    from cxlib import drivers

    return drivers.key_drivers(RESPONSES, bootstrap=0)


def _std_ols(x, y):
    """Standardised OLS betas and R² by least squares (the inputs of every importance method)."""
    xs = (x - x.mean(axis=0)) / x.std(axis=0)
    ys = (y - y.mean()) / y.std()
    beta, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(xs)), xs]), ys, rcond=None)
    fitted = np.column_stack([np.ones(len(xs)), xs]) @ beta
    return {"beta": beta[1:], "r2": 1 - ((ys - fitted) ** 2).sum() / (ys ** 2).sum(), "n": len(y)}


def drivers_pandas():
    r = pd.read_csv(RESPONSES, usecols=["nps", *DRIVERS]).dropna()
    x = r[DRIVERS].to_numpy(float)
    keep = x.max(axis=1) != x.min(axis=1)  # straight-liners left out, as key_drivers does by default
    return _std_ols(x[keep], r["nps"].to_numpy(float)[keep])


DRIVERS_SQL = """
SELECT nps, {cols} FROM read_csv('{path}')
WHERE nps IS NOT NULL AND {notnull} AND greatest({cols}) <> least({cols})
"""


def drivers_sql(con):
    cols = ", ".join(DRIVERS)
    x = con.sql(DRIVERS_SQL.format(path=RESPONSES, cols=cols,
                                   notnull=" AND ".join(f"{c} IS NOT NULL" for c in DRIVERS))).fetchnumpy()
    return _std_ols(np.column_stack([x[c].astype(float) for c in DRIVERS]), x["nps"].astype(float))


def drivers_check(a, b, c):
    beta = a.set_index("driver").loc[DRIVERS, "std_beta"].to_numpy()
    for other in (b, c):
        assert a.attrs["n_model"] == other["n"], "respondents differ"
        assert np.allclose(beta, other["beta"], rtol=1e-9, atol=1e-12), "standardised betas differ"
        assert np.isclose(a.attrs["r2"], other["r2"], rtol=1e-9), "R² differs"


# ------------------------------------------------------------------------------------ Kaplan-Meier

AS_OF = "2026-11-22"


def km_cxlib():
    from cxlib import survival

    return survival.kaplan_meier(SUBSCRIPTIONS, start="start_time", end="end_time", as_of=AS_OF)


def km_pandas():
    from statsmodels.duration.survfunc import SurvfuncRight

    s = pd.read_csv(SUBSCRIPTIONS, usecols=["start_time", "end_time"], parse_dates=["start_time", "end_time"])
    as_of = pd.Timestamp(AS_OF) + pd.Timedelta(days=1, seconds=-1)  # a date: the end of that day
    s = s[s["start_time"] <= as_of]
    churned = s["end_time"].notna() & (s["end_time"] <= as_of)
    # the still subscribed are censored at the table's last start or end on or before the analysis date
    cut = min(as_of, max(s["start_time"].max(), s.loc[churned, "end_time"].max()))
    days = (s["end_time"].where(churned, cut) - s["start_time"]).dt.total_seconds() / 86400
    months = np.floor(days + 0.5) / 30.4375  # whole days (halves away from zero, like SQL round), in months
    return SurvfuncRight(months.to_numpy(), churned.to_numpy(float))


KM_SQL = """
WITH s AS (SELECT *, end_time IS NOT NULL AND end_time <= TIMESTAMP '{as_of} 23:59:59' AS churned
           FROM read_csv('{path}') WHERE start_time <= TIMESTAMP '{as_of} 23:59:59'),
     e AS (SELECT greatest(max(start_time), max(CASE WHEN churned THEN end_time END)) AS last FROM s)
SELECT round((epoch(CASE WHEN churned THEN end_time ELSE e.last END) - epoch(start_time)) / 86400.0)
           ::BIGINT / 30.4375 AS time, churned::INT AS event, count(*) AS n
FROM s, e GROUP BY ALL
"""


def km_sql(con):
    from statsmodels.duration.survfunc import SurvfuncRight

    c = con.sql(KM_SQL.format(path=SUBSCRIPTIONS, as_of=AS_OF)).fetchnumpy()
    return SurvfuncRight(c["time"].astype(float), c["event"].astype(float), freq_weights=c["n"].astype(float))


def km_check(a, b, c):
    for other in (b, c):
        assert np.allclose(a["time"], other.surv_times, rtol=0, atol=1e-12), "event times differ"
        assert np.allclose(a["survival"], other.surv_prob, rtol=1e-12, atol=1e-12), "survival differs"
        assert np.array_equal(a["at_risk"], np.round(other.n_risk)), "risk sets differ"


# ------------------------------------------------------------------------------------ timing

WORKLOADS = {
    "`retention_table` on events.csv (monthly)": (retention_cxlib, retention_pandas, retention_sql, retention_check),
    "`metrics.nps(..., by='channel')` on responses.csv": (nps_cxlib, nps_pandas, nps_sql, nps_check),
    "`experiments.compare` on experiment.csv (4 metrics)": (compare_cxlib, compare_pandas, compare_sql,
                                                             compare_check),
    "`key_drivers` (no bootstrap) on responses.csv": (drivers_cxlib, drivers_pandas, drivers_sql, drivers_check),
    "`kaplan_meier` on subscriptions.csv": (km_cxlib, km_pandas, km_sql, km_check),
}


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _one_blas_thread():
    """numpy's BLAS on one thread while timing: on a shared 2-core machine a second BLAS thread only adds
    contention jitter to these small matrices (``lstsq`` in the recipe, correlations in cxlib), whichever
    side it hits. Not applied to ``cx run`` (its kernels are other processes)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def latency(repeat: int = 7) -> list[dict]:
    with _one_blas_thread():
        return _latency(repeat)


def _latency(repeat: int) -> list[dict]:
    con = duckdb.connect()
    rows = []
    for label, (cx, pdf, sql, check) in WORKLOADS.items():
        first = _time(cx)  # the first call in the process reads the file into the session
        check(cx(), pdf(), sql(con))
        times: dict[str, list[float]] = {"cxlib": [], "pandas": [], "sql": []}
        for _ in range(repeat):  # interleaved, so load on the machine hits every method alike
            times["cxlib"].append(_time(cx))
            times["pandas"].append(_time(pdf))
            times["sql"].append(_time(lambda: sql(con)))
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"workload": label, "first": first, **med})
    return rows


# ------------------------------------------------------------------------------------ notebooks

TRIVIAL = {"cells": [{"cell_type": "code", "execution_count": None, "id": "p", "metadata": {"tags": ["parameters"]},
                      "outputs": [], "source": "x = 1"},
                     {"cell_type": "code", "execution_count": None, "id": "c", "metadata": {}, "outputs": [],
                      "source": "print(x + 1)"}],
           "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                        "language_info": {"name": "python"}},
           "nbformat": 4, "nbformat_minor": 5}


def _papermill_floor(tmp: Path) -> float:
    import papermill as pm

    src = tmp / "trivial.ipynb"
    src.write_text(json.dumps(TRIVIAL))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda i: pm.execute_notebook(str(src), str(tmp / f"out{i}.ipynb"), progress_bar=False,
                                                    kernel_name="python3"), range(4)))
    return time.perf_counter() - t0


def _papermill_cli_floor(tmp: Path) -> float:
    """The same four trivial notebooks through the ``papermill`` command, two processes at a time: what a
    scheduler runs instead of ``cx run`` (each process starts Python and imports papermill, as cx does)."""
    src = tmp / "trivial.ipynb"
    src.write_text(json.dumps(TRIVIAL))
    exe = str(Path(sys.executable).with_name("papermill"))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        rcs = list(pool.map(lambda i: subprocess.call([exe, "--no-progress-bar", "-k", "python3", str(src),
                                                       str(tmp / f"cli{i}.ipynb")], stdout=subprocess.DEVNULL,
                                                      stderr=subprocess.DEVNULL), range(4)))
    took = time.perf_counter() - t0
    if any(rcs):
        raise RuntimeError(f"papermill failed: exit codes {rcs}")
    return took


def _cx_run(tmp: Path) -> float:
    cx = [str(Path(sys.executable).with_name("cx"))]
    t0 = time.perf_counter()
    rc = subprocess.call([*cx, "run", "--jobs", "2", "--reports-dir", str(tmp / "reports"),
                          "--logs-dir", str(tmp / "logs")], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    took = time.perf_counter() - t0
    if rc:
        raise RuntimeError(f"cx run failed (exit {rc}); see {tmp / 'logs'}")
    return took


def notebooks(repeat: int = 3) -> dict:
    cx_t, floor_t, cli_t = [], [], []
    for _ in range(repeat):  # interleaved
        with tempfile.TemporaryDirectory() as d:
            cx_t.append(_cx_run(Path(d)))
        with tempfile.TemporaryDirectory() as d:
            floor_t.append(_papermill_floor(Path(d)))
        with tempfile.TemporaryDirectory() as d:
            cli_t.append(_papermill_cli_floor(Path(d)))
    return {"cx": statistics.median(cx_t), "floor": statistics.median(floor_t), "cli": statistics.median(cli_t),
            "runs": (cx_t, floor_t, cli_t), "repeat": repeat}


# ------------------------------------------------------------------------------------ report

def main(repeat: int = 7, with_notebooks: bool = False) -> str:
    load0 = os.getloadavg()[0]
    rows = latency(repeat)
    lines = ["## Interactive latency on the bundled sample (warm calls)", "",
             f"{_dt.date.today():%Y-%m-%d}, Python {platform.python_version()}, {os.cpu_count()} cores; medians of "
             f"{repeat} interleaved runs in one process (`python -m benchmarks.bench_small`). cxlib is warm (the "
             "file was read into the session by the first call, shown separately); the pandas recipe reads the "
             "CSV every call; the SQL runs `read_csv` in the query on an open DuckDB connection; numpy's BLAS runs on "
             "one thread while timing (both sides).", "",
             "| workload | cxlib warm | cxlib first call | pandas recipe | DuckDB SQL | cxlib / pandas | cxlib / SQL |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['workload']} | {r['cxlib'] * 1000:.0f} ms | {r['first'] * 1000:.0f} ms | "
                     f"{r['pandas'] * 1000:.0f} ms | {r['sql'] * 1000:.0f} ms | {r['cxlib'] / r['pandas']:.1f}x | "
                     f"{r['cxlib'] / r['sql']:.1f}x |")
    if with_notebooks:
        nb = notebooks()
        runs = lambda v: ", ".join(f"{x:.1f}" for x in v)  # noqa: E731
        lines += ["", "| workload | seconds (median) | runs | `cx run` / this |", "|---|---|---|---|",
                  f"| `cx run`, the 4 notebooks on the sample (analyses, pages, index) | {nb['cx']:.1f} | "
                  f"{runs(nb['runs'][0])} | 1.0x |",
                  f"| papermill floor: 4 trivial notebooks with the `papermill` command, 2 processes at a time | "
                  f"{nb['cli']:.1f} | {runs(nb['runs'][2])} | {nb['cx'] / nb['cli']:.1f}x |",
                  f"| papermill floor, in-process: 4 trivial notebooks on 2 threads of one Python that has already "
                  f"imported papermill (only the kernels start) | {nb['floor']:.1f} | {runs(nb['runs'][1])} | "
                  f"{nb['cx'] / nb['floor']:.1f}x |"]
    lines += ["", f"Load average (1 min) at start / end: {load0:.1f} / {os.getloadavg()[0]:.1f} (2 cores, shared).",
              "", "cxlib also validates the input (ids, timestamps, ranges, duplicates), fills the full cohort grid, "
              "and gives intervals, lifts and adjusted p-values; the recipes give the counts and estimates. The "
              "`key_drivers` recipe is `read_csv` + `dropna` + `np.linalg.lstsq` on z-scores (standardised betas and "
              "R², checked equal to cxlib's); the `kaplan_meier` recipe is `read_csv(parse_dates)` + statsmodels "
              "`SurvfuncRight` (survival curve checked equal); their SQL columns fetch the rows / counts with "
              "DuckDB and finish with the same numpy / statsmodels step."]
    return "\n".join(lines)


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 7
    md = main(n, with_notebooks="--notebooks" in args)
    print(md)
    write_results("small", md)
