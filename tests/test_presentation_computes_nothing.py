"""The presentation layer (cxlib.present, cxlib.plots) reads columns and computes nothing (issue 23, item 3).

An AST check over every module of both packages: no numpy or pandas statistics (means, medians, quantiles,
spreads, histograms, logs, cumulative sums, rolling windows), no aggregation named by a statistic's
string, no sum that is divided into a rate, no statistics package. Choosing which row to name (idxmin,
idxmax, min, max, sort, head) and formatting are allowed. Then the figures that used to compute are
checked to draw what the analyses and pages put in their tables.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cxlib import plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*(ROOT / "cxlib" / "present").glob("*.py"), *(ROOT / "cxlib" / "plots").glob("*.py")])

#: numpy functions that compute a statistic (called or passed on, e.g. ``aggfunc=np.mean``)
NUMPY_STATS = {"mean", "nanmean", "median", "nanmedian", "average", "std", "nanstd", "var", "nanvar", "quantile",
               "nanquantile", "percentile", "nanpercentile", "histogram", "histogram2d", "histogramdd",
               "histogram_bin_edges", "bincount", "log", "log10", "log2", "log1p", "exp", "expm1", "sqrt",
               "cumsum", "nancumsum", "cumprod", "nancumprod", "corrcoef", "cov", "logspace", "geomspace"}
#: pandas (or numpy array) methods that compute a statistic
METHOD_STATS = {"mean", "median", "quantile", "std", "var", "sem", "skew", "kurt", "kurtosis", "mode", "describe",
                "cumsum", "cumprod", "pct_change", "ewm", "rolling", "expanding", "corr", "cov", "corrwith"}
#: aggregations named by string (``.agg("mean")``, ``pivot_table(aggfunc="median")``)
STRING_STATS = {"mean", "median", "std", "var", "sem", "quantile", "skew", "kurt", "cumsum", "cumprod", "prod"}
SUMS = {"sum", "nansum"}
PACKAGES = {"scipy", "statsmodels", "statistics", "sklearn", "lifelines"}


def _is_numpy(node) -> bool:
    return isinstance(node, ast.Name) and node.id in ("np", "numpy")


def _is_sum(node) -> bool:
    """``x.sum()``, ``np.sum(x)``, ``np.nansum(x)`` or ``sum(x)``."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return ((isinstance(f, ast.Attribute) and f.attr in SUMS)
            or (isinstance(f, ast.Name) and f.id == "sum"))


def violations(source: str, name: str = "<source>") -> list[str]:
    """Every statistic computed in ``source`` (a module's text), as ``name:line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and _is_numpy(node.value) and node.attr in NUMPY_STATS:
            found.append(f"{name}:{line}: np.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not _is_numpy(node.func.value):
            attr = node.func.attr
            if attr in METHOD_STATS:
                found.append(f"{name}:{line}: .{attr}()")
            if attr == "value_counts" and any(k.arg == "normalize" for k in node.keywords):
                found.append(f"{name}:{line}: .value_counts(normalize=...)")
            if attr in ("agg", "aggregate", "transform", "apply", "pivot_table", "resample"):
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    for c in ast.walk(arg):
                        if isinstance(c, ast.Constant) and c.value in STRING_STATS:
                            found.append(f"{name}:{line}: .{attr}({c.value!r})")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.FloorDiv)):
            if any(_is_sum(n) for side in (node.left, node.right) for n in ast.walk(side)):
                found.append(f"{name}:{line}: a sum divided into a rate")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for m in mods:
                if m.split(".")[0] in PACKAGES:
                    found.append(f"{name}:{line}: import {m}")
    return found


def test_presentation_modules_are_checked():
    names = {f"{p.parent.name}/{p.name}" for p in FILES}
    assert {"present/format.py", "present/cx_scorecard.py", "plots/scorecard.py", "plots/cohorts.py",
            "plots/nps.py", "plots/journey.py", "present/journey_map.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_presentation_module_computes_no_statistic(path):
    found = violations(path.read_text(encoding="utf-8"), f"{path.parent.name}/{path.name}")
    assert not found, ("present and plots read columns and compute nothing; move these to an analysis or "
                       "the page module:\n" + "\n".join(found))


# --- the check itself: what it catches and what it lets through --------------------------------------

CAUGHT = {  # each of these was in cxlib/plots before issue 23 moved it out (or is its close cousin)
    "histogram": 'dens, _ = np.histogram(g["hours"], bins=edges, weights=g["n"])',
    "log bins": 'edges = np.logspace(np.log10(lo), np.log10(hi), 41)',
    "median by cumulative share": 'c = cum["n"].cumsum() / cum["n"].sum()',
    "share of a total": 'dens = dens / max(dens.sum(), 1)',
    "mean over cohorts": 'parts.append(f"{fmt(c.mean())} on average")',
    "mean fallback": 'cut = table.attrs.get("performance_cut", table["mean"].mean())',
    "numpy median": "m = np.median(x)",
    "quantile": 'q = t["x"].quantile(0.9)',
    "spread": 'sd = t["x"].std()',
    "named aggregation": 'g = t.groupby("a").agg(avg=("x", "mean"))',
    "pivot mean": 't.pivot_table(index="a", values="x", aggfunc="mean")',
    "numpy aggregation": 't.groupby("a")["x"].agg(np.mean)',
    "rolling": 't["x"].rolling(3).sum()',
    "normalized counts": 't["x"].value_counts(normalize=True)',
    "rate from a builtin sum": "rate = sum(lost) / len(lost)",
    "scipy": "from scipy import stats",
    "statistics": "import statistics",
}

ALLOWED = {
    "row to name": 'lo, hi = t.loc[t[y].idxmin()], t.loc[t[y].idxmax()]',
    "range of shown values": 'span = t["mean"].max() - t["mean"].min()',
    "axis limit": 'ax.set_xlim(0, np.nanmax(right) * 1.25)',
    "first of a pivot": 't.pivot_table(index="a", columns="p", values="x", aggfunc="first")',
    "sorting and head": 'top = t.sort_values("x", ascending=False).head(3)',
    "counting rows": 'n = len(t); k = t["x"].nunique()',
    "a total to write": 'total = count(int(t["n"].sum()))',
    "formatting": 'f"{v:.0%}"; np.clip(np.vstack([v - lo, hi - v]), 0, None)',
    "digits of a number": "d = min(4, 1 - math.floor(math.log10(a)))",
}


@pytest.mark.parametrize("name", sorted(CAUGHT))
def test_the_check_catches_statistics(name):
    assert violations(textwrap.dedent(CAUGHT[name])), name


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_the_check_allows_selection_and_formatting(name):
    assert violations(textwrap.dedent(ALLOWED[name])) == [], name


# --- the figures that used to compute now draw what their table carries -------------------------------

def _quadrant_table(**attrs):
    t = pd.DataFrame(dict(driver=["speed", "price", "ease"], importance=[0.5, 0.3, 0.2], ci_lower=[0.4, 0.2, 0.1],
                          ci_upper=[0.6, 0.4, 0.3], mean=[3.0, 4.0, 4.6], n=300,
                          quadrant=["fix first", "keep up", "maintain"]))
    t.attrs.update(attrs)
    return t


def test_quadrant_splits_are_the_analysis_ones_not_recomputed():
    # the drivers' average rating is 3.87 and 1/3 of importance; the table says 3.5 and 0.25: those are drawn
    ax = plots.importance_performance(_quadrant_table(importance_cut=0.25, performance_cut=3.5))
    xs = {round(float(np.asarray(l.get_xdata())[0]), 6) for l in ax.lines if len(set(l.get_xdata())) == 1}
    ys = {round(float(np.asarray(l.get_ydata())[0]), 6) for l in ax.lines if len(set(l.get_ydata())) == 1}
    assert 3.5 in xs and 0.25 in ys
    assert "split at 3.5" in ax.figure.cx_alt and "split at 25%" in ax.figure.cx_alt


def test_quadrant_without_the_analysis_splits_is_refused():
    with pytest.raises(ValueError, match="quadrant"):
        plots.importance_performance(_quadrant_table())


def test_drivers_quadrant_always_sets_both_splits():
    from cxlib import drivers

    q = drivers.quadrant(_quadrant_table().drop(columns="quadrant"))
    assert q.attrs["importance_cut"] == pytest.approx(1 / 3)
    assert q.attrs["performance_cut"] == pytest.approx((3.0 + 4.0 + 4.6) / 3)


def _grid():
    rows = []
    for i, c in enumerate(pd.date_range("2026-01-01", periods=3, freq="MS")):
        for p, r in ((0, 1.0), (1, 0.5 + 0.1 * i), (2, 0.3 + 0.1 * i)):
            rows.append(dict(cohort=c, period=p, cohort_size=100, active=int(100 * r), retention=r, mature=True,
                             suppressed=False))
    t = pd.DataFrame(rows)
    t.attrs["grain"] = "month"
    return t


def test_heatmap_alt_text_reads_the_page_average():
    t = _grid()  # cells at age 2: 30%, 40%, 50%; the page's (here hand-set) average is 41%
    t.attrs["average_over_cohorts"] = {"retention": {1: 0.6, 2: 0.41}}
    alt = plots.retention_heatmap(t).figure.cx_alt
    assert "After 2 months: 41% on average over 3 cohorts." in alt


def test_heatmap_without_the_average_says_no_average():
    alt = plots.retention_heatmap(_grid()).figure.cx_alt
    assert "on average" not in alt and "After 1 month: from 50%" in alt


def _churn(attrs=None):
    rows = [dict(plan=plan, period=m, n=400, lost=20, churn_rate=r, ci_lower=r - 0.01, ci_upper=r + 0.01,
                 complete=True, suppressed=False)
            for plan, r in (("basic", 0.05), ("pro", 0.02))
            for m in pd.date_range("2026-01-01", periods=3, freq="MS")]
    t = pd.DataFrame(rows)
    t.attrs.update(attrs or {})
    return t


def test_churn_alt_text_reads_each_groups_average():
    t = _churn({"average_over_periods": {"churn_rate": {"basic": 0.061, "pro": 0.019}}})
    alt = plots.churn_trend(t, hue="plan").figure.cx_alt
    assert "average 6.1% over 3 periods" in alt and "average 1.9% over 3 periods" in alt
    assert "average" not in plots.churn_trend(_churn(), hue="plan").figure.cx_alt


def test_response_time_figure_draws_the_histogram_table():
    edges = np.array([0.01, 0.1, 1.0, 10.0])
    t = pd.DataFrame(dict(channel=["chat"] * 3 + ["email"] * 3, lower=np.r_[edges[:-1], edges[:-1]],
                          upper=np.r_[edges[1:], edges[1:]], n=[6, 3, 1, 0, 2, 8],
                          share=[0.6, 0.3, 0.1, 0.0, 0.2, 0.8], median=[0.05] * 3 + [3.0] * 3,
                          tickets=[10] * 3 + [10] * 3, unit="hour"))
    ax = plots.response_time_distribution(t)
    medians = sorted(float(np.asarray(l.get_xdata())[0]) for l in ax.lines)
    assert medians == [0.05, 3.0]
    assert "(10 tickets)" in ax.figure.cx_alt and "median 3" in ax.figure.cx_alt
