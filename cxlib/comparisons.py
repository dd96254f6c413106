"""Is one group's rate different from another's? Pooled two-proportion comparisons on result tables.

Used by the pages to answer their comparison questions with a test: newer cohorts against earlier ones
at the same age, each segment against the largest, the last complete periods against the ones before.
Every difference of two shares has a Newcombe (hybrid Wilson) 95% interval — "beyond noise" when it
excludes zero — and the pooled two-proportion z-test p-value.

Example
-------
>>> from cxlib import cohorts, comparisons
>>> t = cohorts.retention_table("data/sample/events.csv")
>>> comparisons.compare_newer(t, ages=(1,))[["period", "retention", "reference_retention"]]  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cxlib.stats import two_shares, wilson

__all__ = ["two_shares", "compare_newer", "compare_segments", "compare_windows", "compare_latest"]


def _side(k, n, prefix: str = "") -> dict:
    lo, hi = (float(x[0]) for x in wilson([k], [n])) if n else (np.nan, np.nan)
    return {f"{prefix}customers": int(n), f"{prefix}active": int(k), f"{prefix}retention": k / n if n else np.nan,
            f"{prefix}ci_lower": lo, f"{prefix}ci_upper": hi}


def compare_newer(table: pd.DataFrame, *, ages=(1, 3), newer: int = 6) -> pd.DataFrame:
    """Newer cohorts against earlier ones at the same age, from a :func:`cxlib.cohorts.retention_table`.

    At each age k, the latest ``newer`` cohorts that completed k (when there are no more than ``newer``
    of them, the later half) are pooled and compared with all earlier cohorts at k. Mature,
    unsuppressed cells only. One row per age: ``period``, ``cohorts_from``/``cohorts_to``, the pooled
    ``customers``, ``active``, ``retention`` with its Wilson interval (and the same with ``reference_``),
    and :func:`two_shares` of the two.
    """
    rows = []
    for k in ages:
        c = table[(table["period"] == k) & table["mature"] & ~table["suppressed"]].sort_values("cohort")
        if len(c) < 2:
            continue
        m = min(newer, len(c) // 2) if len(c) <= newer else newer
        new, old = c.tail(m), c.iloc[:-m]
        k1, n1, k0, n0 = new["active"].sum(), new["cohort_size"].sum(), old["active"].sum(), old["cohort_size"].sum()
        rows.append({"period": k, "group": "newer", "reference": "earlier", "cohorts": len(new),
                     "cohorts_from": new["cohort"].min(), "cohorts_to": new["cohort"].max(),
                     "reference_cohorts": len(old), "reference_from": old["cohort"].min(),
                     "reference_to": old["cohort"].max(), **_side(k1, n1), **_side(k0, n0, "reference_"),
                     **two_shares(k1, n1, k0, n0)})
    return pd.DataFrame(rows)


def compare_segments(curve: pd.DataFrame, by: str, *, ages=(1, 3)) -> pd.DataFrame:
    """Each segment against the largest one, pooled retention at each age, from a
    :func:`cxlib.cohorts.retention_curve` by segment (unsuppressed rows)."""
    ok = curve[~curve["suppressed"]]
    sizes = ok[ok["period"] == 0].set_index(by)["customers"]
    if len(sizes) < 2:
        return pd.DataFrame()
    ref = sizes.idxmax()
    rows = []
    for k in ages:
        at = ok[ok["period"] == k].set_index(by)
        if ref not in at.index:
            continue
        for g in [s for s in sizes.index if s != ref and s in at.index]:
            a, b = at.loc[g], at.loc[ref]
            rows.append({"period": k, "group": g, "reference": ref, **_side(a["active"], a["customers"]),
                         **_side(b["active"], b["customers"], "reference_"),
                         **two_shares(a["active"], a["customers"], b["active"], b["customers"])})
    return pd.DataFrame(rows)


def compare_windows(df: pd.DataFrame, *, count: str, n: str, window: int = 3) -> dict | None:
    """Pooled rate of the last ``window`` periods against the ``window`` before (e.g. churn: ``lost`` of
    ``n`` at risk), from a table with a ``period`` column; None with fewer than two periods."""
    g = df.groupby("period")[[count, n]].sum().sort_index()
    if len(g) < 2:
        return None
    w = min(window, len(g) // 2)
    last, before = g.tail(w), g.iloc[-2 * w:-w]
    k1, n1, k0, n0 = last[count].sum(), last[n].sum(), before[count].sum(), before[n].sum()
    return {"from": last.index.min(), "to": last.index.max(), "periods": w, **_side(k1, n1),
            **two_shares(k1, n1, k0, n0)}


def compare_latest(df: pd.DataFrame, *, share: str, n: str, cohort: str = "cohort", newer: int = 6) -> dict | None:
    """The latest ``newer`` cohorts' pooled share against all earlier cohorts' (when there are no more
    than ``newer`` rows, the later half against the earlier half), from a table with one row per cohort
    (in order) holding a ``share`` of ``n`` (e.g. reached first value within 7 days).

    Pooled counts are ``round(share * n)`` summed over the cohorts. Returns :func:`two_shares` of the two
    with ``cohorts`` (how many are newer), ``share``, ``reference_share``, ``from``, ``to``,
    ``reference_from``, ``reference_to``; None with fewer than two cohorts.

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": [1, 2, 3, 4], "s": [0.5, 0.5, 0.6, 0.7], "n": [100] * 4})
    >>> r = compare_latest(t, share="s", n="n", newer=6)
    >>> r["cohorts"], round(r["share"], 2), round(r["reference_share"], 2)
    (2, 0.65, 0.5)
    """
    if len(df) < 2:
        return None
    m = newer if len(df) > newer else len(df) // 2
    new, old = df.tail(m), df.iloc[:-m]
    k1, n1 = round((new[share] * new[n]).sum()), int(new[n].sum())
    k0, n0 = round((old[share] * old[n]).sum()), int(old[n].sum())
    return {**two_shares(k1, n1, k0, n0), "cohorts": m, "share": k1 / n1, "reference_share": k0 / n0,
            "from": new[cohort].iloc[0], "to": new[cohort].iloc[-1],
            "reference_from": old[cohort].iloc[0], "reference_to": old[cohort].iloc[-1]}
