"""The journey map on Spark local gives DuckDB's numbers: reach, conversion, Kaplan–Meier medians, promises
(reach, first reply, detractors), scores at the touchpoints, themes, churn after a bad experience and the
changes from the previous period, on the same small hand-made tables. One Spark session, one map each."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import journey

AS_OF = pd.Timestamp("2026-03-31 23:59:59")
JOURNEY = {"stages": [
    {"name": "Sign-up", "promise": "Quick sign-up.", "events": ["signup"], "touchpoint": "discovery",
     "target": {"max_detractors": 0.3}, "owner": "Marketing"},
    {"name": "Set-up", "promise": "Set up within a week.", "events": ["setup", "setup_done"],
     "touchpoint": "onboarding", "target": {"share": 0.7, "within_days": 7}, "owner": "Onboarding"},
    {"name": "Buy", "promise": "A purchase within 30 days.", "events": ["buy"],
     "target": {"max_share": 0.5}, "owner": "Growth"},
    {"name": "Support", "promise": "Fast first replies.", "ticket_channels": ["email", "chat"],
     "touchpoint": "support", "target": {"share": 0.9, "first_response": True}, "owner": "Support"},
    {"name": "Renewal", "promise": "Worth the price.", "touchpoint": "renewal", "target": {"max_detractors": 0.2},
     "owner": "Success"},
]}
TARGETS = {"email": 12.0, "chat": 0.1}


def _tables():
    """Events, responses, tickets and subscriptions of 300 customers over four months."""
    rng = np.random.default_rng(11)
    n = 300
    ids = [f"C{i:04d}" for i in range(n)]
    start = pd.Timestamp("2025-11-15") + pd.to_timedelta(rng.uniform(0, 130, n), unit="D")
    rows = []
    for c, t0 in zip(ids, start):
        rows.append((c, t0, "signup"))
        if rng.random() < 0.75:
            t1 = t0 + pd.Timedelta(days=float(rng.exponential(4)))
            rows.append((c, t1, "setup" if rng.random() < 0.5 else "setup_done"))
            if rng.random() < 0.55:
                rows.append((c, t1 + pd.Timedelta(days=float(rng.exponential(6))), "buy"))
    ev = pd.DataFrame(rows, columns=["customer_id", "event_time", "event_name"])
    ev["event_time"] = ev["event_time"].dt.floor("s")
    m = 700
    resp = pd.DataFrame({
        "respondent_id": [f"R{i}" for i in range(m)], "customer_id": rng.choice(ids, m),
        "response_time": (pd.Timestamp("2026-01-02") + pd.to_timedelta(rng.uniform(0, 88, m), unit="D")).floor("s"),
        "touchpoint": rng.choice(["discovery", "onboarding", "support", "renewal"], m),
        "nps": rng.integers(0, 11, m).astype(float), "csat": rng.integers(1, 6, m).astype(float),
        "ces": rng.integers(1, 8, m).astype(float),
        # blank comments as an export has them ("", not None: a None of a pandas object column does not
        # reach Spark as null)
        "comment": rng.choice(["too expensive", "setup was hard", "great support", ""], m)})
    k = 400
    created = (pd.Timestamp("2026-01-02") + pd.to_timedelta(rng.uniform(0, 88, k), unit="D")).floor("s")
    tk = pd.DataFrame({"ticket_id": np.arange(k), "customer_id": rng.choice(ids, k), "created_at": created,
                       "first_response_at": (created + pd.to_timedelta(rng.exponential(6, k), unit="h")).floor("s"),
                       "channel": rng.choice(["email", "chat", "phone"], k)})
    tk.loc[tk.index[:15], "first_response_at"] = pd.NaT
    ends = pd.Series(start + pd.to_timedelta(rng.exponential(120, n), unit="D")).dt.floor("s")
    subs = pd.DataFrame({"customer_id": ids, "start_time": pd.Series(start).dt.floor("s"),
                         "end_time": ends.where(ends <= AS_OF)})
    return {"events": ev, "responses": resp, "tickets": tk, "subscriptions": subs}


def _map(t):
    return journey.journey_map(t["events"], responses=t["responses"], tickets=t["tickets"],
                               subscriptions=t["subscriptions"], journey=JOURNEY, as_of=AS_OF, targets=TARGETS,
                               n_boot=200)


@pytest.mark.slow
@pytest.mark.spark
def test_journey_map_on_spark_matches_duckdb(spark_backend):
    frames = _tables()
    sp = {k: spark_backend.create_table(f"cx_journey_map_{k}", v, overwrite=True) for k, v in frames.items()}
    a, b = _map(sp), _map(frames)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9)
    # the comparison covers every kind of number the map has
    for col in ("conversion", "median_days", "promise_share", "nps", "csat", "ces", "nps_gap", "response_rate",
                "churn_hr", "promise_change", "nps_change", "csat_change", "ces_change", "conversion_change"):
        assert b[col].notna().any(), col
    assert [n.code for n in a.attrs["notes"]] == [n.code for n in b.attrs["notes"]]
