"""The customer journey: funnel conversion over configured steps, and survey metrics per journey stage.

Funnel: for each customer the engine finds the first time of each step; a customer *reaches* step k
when they reached step k-1 and did step k at or after it. Step conversion = reached k / reached k-1
(Wilson 95% interval), drop-off = 1 - conversion (e.g. checkout abandonment), and the median time from
the previous step among those who converted (e.g. time to first value). Only counts and medians come back
from the engine.

Examples
--------
>>> from cxlib import journey
>>> journey.funnel("data/sample/events.csv",
...                steps=["signup", "onboarding_done", "first_value", "checkout_started", "purchase"])  # doctest: +SKIP
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from cxlib import data as cxdata
from cxlib import metrics
from cxlib.cohorts import _wilson

__all__ = ["funnel", "stage_metrics", "DEFAULT_STEPS"]

DEFAULT_STEPS = ("signup", "onboarding_done", "first_value", "checkout_started", "purchase")


def funnel(events, *, steps=DEFAULT_STEPS, customer: str = "customer_id", event: str = "event_name",
           time: str = "event_time", by=None, alpha: float = 0.05, min_n: int = 30,
           name: str | None = None) -> pd.DataFrame:
    """Step-by-step conversion through ``steps`` (in order), per segment, with 95% intervals.

    Returns one row per (segment x) step: ``step``, ``position``, ``reached``, ``previous`` (reached the
    step before), ``conversion`` (step conversion), ``ci_lower``, ``ci_upper``, ``drop_off``,
    ``overall`` (reached / reached the first step), ``median_hours_from_previous``, ``suppressed``.
    """
    steps = list(steps)
    if len(steps) < 2:
        raise cxdata.CXDataError("a funnel needs at least two steps.")
    by = cxdata.as_list(by)
    t = cxdata.as_table(events, name=name)
    cxdata.require_columns(t, [customer, event, time, *by], name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    present = set(cxdata.to_pandas(t.select(event).distinct(), name=name)[event].dropna().astype(str))
    missing = [s for s in steps if s not in present]
    if missing:
        raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: column '{event}' has no step(s) "
                                 f"{', '.join(map(repr, missing))}; it has {', '.join(sorted(present)[:12])}.")
    t = t.filter(t[event].isin(steps))
    firsts = t.group_by(customer).aggregate(
        **{f"_t{i}": (t[event] == s).ifelse(t[time], ibis.null()).min() for i, s in enumerate(steps)},
        **{f"_seg_{b}": t[b].argmin(t[time]) for b in by})
    reached = [firsts["_t0"].notnull()]
    for i in range(1, len(steps)):
        reached.append(reached[-1] & firsts[f"_t{i}"].notnull() & (firsts[f"_t{i}"] >= firsts[f"_t{i - 1}"]))
    f = firsts.mutate(**{f"_r{i}": r.cast("int64") for i, r in enumerate(reached)},
                      **{f"_h{i}": reached[i].ifelse((firsts[f"_t{i}"].epoch_seconds()
                                                      - firsts[f"_t{i - 1}"].epoch_seconds()) / 3600.0, ibis.null())
                         for i in range(1, len(steps))})
    keys = [f"_seg_{b}" for b in by]
    aggs = {**{f"r{i}": f[f"_r{i}"].sum() for i in range(len(steps))},
            **{f"h{i}": f[f"_h{i}"].median() for i in range(1, len(steps))}}
    wide = cxdata.to_pandas(f.group_by(keys).aggregate(**aggs) if keys else f.aggregate(**aggs), name=name)
    rows = []
    for _, w in wide.iterrows():
        seg = {b: w[f"_seg_{b}"] for b in by}
        first = int(w["r0"])
        for i, s in enumerate(steps):
            r = int(w[f"r{i}"])
            prev = int(w[f"r{i - 1}"]) if i else r
            rows.append({**seg, "step": s, "position": i + 1, "reached": r, "previous": prev,
                         "median_hours_from_previous": float(w[f"h{i}"]) if i else np.nan, "first": first})
    out = pd.DataFrame(rows)
    out["conversion"] = out["reached"] / out["previous"].where(out["previous"] > 0)
    out["ci_lower"], out["ci_upper"] = _wilson(out["reached"], out["previous"], alpha)
    out["drop_off"] = 1 - out["conversion"]
    out["overall"] = out["reached"] / out["first"].where(out["first"] > 0)
    out["suppressed"] = out["previous"] < min_n
    out.loc[out["suppressed"], ["conversion", "ci_lower", "ci_upper", "drop_off"]] = np.nan
    cols = [*by, "step", "position", "reached", "previous", "conversion", "ci_lower", "ci_upper", "drop_off",
            "overall", "median_hours_from_previous", "suppressed"]
    return out[cols].sort_values([*by, "position"]).reset_index(drop=True)


def stage_metrics(responses, *, stage: str = "touchpoint", score: str = "nps", min_n: int = 30,
                  name: str | None = None) -> pd.DataFrame:
    """NPS per journey stage (touchpoint) with intervals, flagging the weakest stage (``weakest``)."""
    out = metrics.nps(responses, score=score, by=stage, min_n=min_n, name=name)
    ok = ~out["suppressed"]
    out["weakest"] = False
    if ok.any():
        out.loc[out.loc[ok, "nps"].idxmin(), "weakest"] = True
    return out
