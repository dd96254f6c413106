"""at_risk.who_to_save against signals computed directly in pandas on raw rows (toy tables with every
sign, and the bundled sample), pseudonymous ids, the order, and bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import at_risk, present
from cxlib.data import CXDataError
from cxlib.paths import SAMPLE_DIR
from cxlib.sources.personal import pseudonymize

AS_OF = pd.Timestamp("2026-06-30 23:59:59")


def toy():
    subs = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e", "f", "g"],
        "start_time": pd.to_datetime(["2025-01-01", "2025-06-01", "2026-01-10", "2026-02-01", "2025-03-01",
                                      "2025-01-01", "2026-07-05"]),
        "end_time": pd.to_datetime([None, "2026-07-20", None, None, "2026-05-01", None, None]),
        "mrr": [29.0, 79.0, 79.0, 29.0, 79.0, 158.0, 29.0],
        "plan": ["basic", "pro", "pro", "basic", "pro", "pro", "basic"],
    })  # e ended before as_of, g starts after: neither is listed
    responses = pd.DataFrame({
        "customer_id": ["a", "a", "c", "d", "f"],
        "response_time": pd.to_datetime(["2026-05-01", "2026-06-20", "2026-06-01", "2026-01-05", "2026-06-10"]),
        "nps": [9, 3, 10, 2, 6],  # a's latest is 3; d's 2 is older than 90 days
    })
    tickets = pd.DataFrame({
        "customer_id": ["c", "c", "d", "f"],
        "created_at": pd.to_datetime(["2026-06-10", "2026-06-25", "2026-06-01", "2026-06-28"]),
        "resolved_at": pd.to_datetime(["2026-06-11", "2026-06-26", None, "2026-06-29"]),
    })
    events = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "f"],
        "event_time": pd.to_datetime(["2026-06-29", "2026-06-29", "2026-04-01", "2026-06-20", "2026-06-30"]),
    })
    history = pd.DataFrame({
        "customer_id": ["a", "a", "f", "f", "f", "c"],
        "month": ["2026-03-01", "2026-06-01", "2026-03-01", "2026-05-01", "2026-06-01", "2026-06-01"],
        "mrr": [29, 29, 237, 158, 158, 79],
    })
    return subs, responses, tickets, events, history


def brute(subs, responses, tickets, events, history):
    """Signals per subscribed customer, written directly. Every "time since" is measured to the end of
    the table it comes from: the earlier of AS_OF and that table's last record on or before AS_OF."""
    def end(*cols):
        vals = pd.concat([c[c <= AS_OF] for c in cols])
        return min(AS_OF, vals.max()) if len(vals) else AS_OF

    r_end, e_end = end(responses["response_time"]), end(events["event_time"])
    k_end = end(tickets["created_at"], tickets["resolved_at"])
    h_end = end(pd.to_datetime(history["month"]))
    now_m = h_end.to_period("M").start_time
    before_m = (h_end.to_period("M") - 3).start_time
    out = {}
    for _, s in subs.iterrows():
        if s["start_time"] > AS_OF or (pd.notna(s["end_time"]) and s["end_time"] <= AS_OF):
            continue
        c = s["customer_id"]
        r = responses[(responses["customer_id"] == c) & (responses["response_time"] <= AS_OF)
                      & (responses["response_time"] > r_end - pd.Timedelta(days=90))]
        last = r.sort_values("response_time")["nps"].iloc[-1] if len(r) else np.nan
        k = tickets[(tickets["customer_id"] == c) & (tickets["created_at"] <= AS_OF)]
        recent = int((k["created_at"] > k_end - pd.Timedelta(days=30)).sum())
        open_k = k[k["resolved_at"].isna() | (k["resolved_at"] > AS_OF)]
        open_days = ((k_end - open_k["created_at"]).dt.total_seconds() / 86400).max() if len(open_k) else np.nan
        e = events[(events["customer_id"] == c) & (events["event_time"] <= AS_OF)]
        last_seen = e["event_time"].max() if len(e) else s["start_time"]
        idle = np.floor((e_end - last_seen).total_seconds() / 86400)
        h = history[history["customer_id"] == c]
        months = pd.to_datetime(h["month"])
        now = h.loc[months == now_m, "mrr"].sum()
        before = h.loc[months == before_m, "mrr"].sum()
        mrr = now if now > 0 else s["mrr"]
        sig = {"cancel_pending": int(pd.notna(s["end_time"])), "detractor": int(last <= 6),
               "support": int(recent >= 2 or (open_days >= 7)), "inactive": int(idle >= 30),
               "contraction": int(before > 0 and mrr < before), "lapsing": 0}
        out[c] = {**sig, "signals": sum(sig.values()), "mrr": mrr, "value_at_risk": 12 * mrr,
                  "ltv_to_date": float(h["mrr"].sum()) if len(h) else np.nan, "days_inactive": idle}
    return out


def test_toy_signals_match_pandas():
    subs, responses, tickets, events, history = toy()
    got = at_risk.who_to_save(subs, responses=responses, tickets=tickets, events=events, mrr_history=history,
                              keep="plan", as_of=AS_OF, salt="s", inactive_days=30)
    ref = brute(*toy())
    flagged = {c: v for c, v in ref.items() if v["signals"] > 0}
    back = {pseudonymize([c], "s")[0]: c for c in ref}
    assert set(got["customer"]) == {pseudonymize([c], "s")[0] for c in flagged}
    assert got.attrs["subscribed"] == len(ref) == 5 and got.attrs["listed"] == len(flagged)
    for _, r in got.iterrows():
        want = ref[back[r["customer"]]]
        for col in ("signals", "mrr", "value_at_risk", "days_inactive", *at_risk.SIGNALS):
            assert r[col] == pytest.approx(want[col]), (back[r["customer"]], col)
        if np.isnan(want["ltv_to_date"]):
            assert np.isnan(r["ltv_to_date"])
        else:
            assert r["ltv_to_date"] == want["ltv_to_date"]
    # every sign is present somewhere, with its evidence in the words
    by_id = got.set_index(got["customer"].map(back))
    # the analysis gives codes; the page says them in words (present.at_risk_reasons)
    assert set(";".join(got["reason"]).split(";")) <= set(at_risk.REASONS)
    words = pd.Series(present.at_risk_reasons(got), index=by_id.index)
    assert "cancel_pending" in by_id.loc["b", "reason"] and "detractor" in by_id.loc["a", "reason"]
    assert "leaves on 20 Jul 2026" in words["b"]
    assert "scored 3/10" in words["a"].lower()
    assert "2 support tickets in the last 30 days" in words["c"]
    assert "no activity for 90 days" in words["c"].lower()
    # d's ticket (1 Jun) is still open when the tickets end (f's resolution, 29 Jun): open 28 days as far
    # as the export saw, not 29 (AS_OF is a day after the tickets' last record)
    assert "open for 28 days" in words["d"]
    assert "down from 237 to 158" in words["f"]
    assert by_id.loc["f", "detractor"] == 1  # 6 is a detractor
    # order: value at risk, then more signs first; ranks 1..n
    assert list(got["rank"]) == list(range(1, len(got) + 1))
    key = list(zip(-got["value_at_risk"], -got["signals"]))
    assert key == sorted(key)
    assert not got["customer"].isin(subs["customer_id"]).any()  # no raw id leaves


def test_top_and_optional_inputs():
    subs, responses, *_ = toy()
    only = at_risk.who_to_save(subs, responses=responses, as_of=AS_OF, salt="s")
    assert ((only["detractor"] + only["cancel_pending"]) >= 1).all() and len(only) == 3  # a and f detractors, b pending
    assert only["inactive"].sum() == 0 and only["support"].sum() == 0 and only["ltv_to_date"].isna().all()
    assert len(at_risk.who_to_save(subs, responses=responses, as_of=AS_OF, top=1)) == 1


def test_sample_matches_pandas():
    S = SAMPLE_DIR
    got = at_risk.who_to_save(S / "subscriptions.csv", responses=S / "responses.csv", tickets=S / "tickets.csv",
                              events=S / "events.csv", pseudonymize=False, inactive_days=45)
    as_of = got.attrs["as_of"]
    subs = pd.read_csv(S / "subscriptions.csv", parse_dates=["start_time", "end_time"])
    active = subs[(subs["start_time"] <= as_of) & (subs["end_time"].isna() | (subs["end_time"] > as_of))]
    r = pd.read_csv(S / "responses.csv", usecols=["customer_id", "response_time", "nps"], parse_dates=["response_time"])
    r = r[r["nps"].notna() & (r["response_time"] <= as_of) & (r["response_time"] > as_of - pd.Timedelta(days=90))]
    last = r.sort_values("response_time").groupby("customer_id")["nps"].last()
    det = set(last[last <= 6].index) & set(active["customer_id"])
    assert set(got.loc[got["detractor"] == 1, "customer"]) == det
    ev = pd.read_csv(S / "events.csv", usecols=["customer_id", "event_time"], parse_dates=["event_time"])
    seen = ev[ev["event_time"] <= as_of].groupby("customer_id")["event_time"].max()
    since = active.set_index("customer_id")["start_time"].combine(seen.reindex(active["customer_id"]).set_axis(
        active.set_index("customer_id").index), lambda a, b: b if pd.notna(b) else a)
    ev_end = min(as_of, ev.loc[ev["event_time"] <= as_of, "event_time"].max())  # inactivity runs to the log's end
    idle = set(since[(ev_end - since).dt.total_seconds() / 86400 >= 45].index)
    assert set(got.loc[got["inactive"] == 1, "customer"]) == idle
    assert got.attrs["subscribed"] == len(active)
    assert got["value_at_risk"].is_monotonic_decreasing


def test_bad_input():
    subs, responses, *_ = toy()
    with pytest.raises(CXDataError, match="nps"):
        at_risk.who_to_save(subs, responses=responses.drop(columns="nps"), as_of=AS_OF)
    with pytest.raises(CXDataError):
        at_risk.who_to_save(subs.assign(email="x@example.com"), keep="email", as_of=AS_OF)


def test_transactional_list_from_a_clv_table():
    from cxlib import clv

    rng = np.random.default_rng(4)
    rows = []
    for i in range(300):
        k = 1 + rng.poisson(2)
        days = np.sort(rng.choice(np.arange(0, 200 if i % 3 else 60), size=k, replace=False))  # a third stop early
        rows += [(f"c{i}", pd.Timestamp("2025-06-01") + pd.Timedelta(days=int(d)), float(rng.gamma(3, 10)))
                 for d in days]
    ev = pd.DataFrame(rows, columns=["customer_id", "event_time", "revenue"])
    table = clv.clv_table(ev, as_of=AS_OF, horizon=26)
    got = at_risk.who_to_save(None, clv=table, events=ev, as_of=AS_OF, pseudonymize=False, inactive_days=120)
    t = table.set_index("customer_id")
    lapsing = set(t.index[t["p_alive"] < 0.5])
    # the log ends in Dec 2025, half a year before AS_OF: inactivity runs to the log's last event (as the
    # BG/NBD's T does), else every buyer would be "inactive" for the months the log does not cover
    log_end = ev["event_time"].max()
    assert log_end < AS_OF - pd.Timedelta(days=120)
    idle = set(ev.groupby("customer_id")["event_time"].max().loc[lambda s: (log_end - s).dt.days >= 120].index)
    assert set(got["customer"]) == lapsing | idle and len(lapsing) > 0 and 0 < len(idle) < len(table)
    assert set(got.loc[got["lapsing"] == 1, "customer"]) == lapsing
    assert got["value_at_risk"].to_numpy() == pytest.approx(t.loc[got["customer"], "expected_clv"].to_numpy())
    assert got["value_at_risk"].is_monotonic_decreasing and got.attrs["value"] == "expected_clv"
    assert got.loc[got["lapsing"] == 1, "reason"].str.contains("lapsing").all()
    said = pd.Series(present.at_risk_reasons(got), index=got.index)
    assert said[got["lapsing"] == 1].str.contains("chance still active").all()
    html = present_html(got)
    assert "Expected revenue (CLV)" in html and "a month)" not in html
    with pytest.raises(CXDataError, match="subscriptions"):
        at_risk.who_to_save(None)


def present_html(w):
    from cxlib import present

    return present.cohort_save_table(w).as_raw_html()


def test_a_customer_with_two_live_subscriptions_is_one_row_with_their_mrr_added():
    s = pd.DataFrame({"customer_id": ["A", "A", "B"],
                      "start_time": pd.to_datetime(["2026-01-01", "2026-03-01", "2026-01-01"]),
                      "end_time": pd.to_datetime([None, "2026-07-31", None]), "mrr": [100.0, 50.0, 40.0]})
    e = pd.DataFrame({"customer_id": ["B"], "event_time": pd.to_datetime(["2026-06-14"])})
    o = at_risk.who_to_save(s, events=e, as_of="2026-06-15", pseudonymize=False)
    assert o.attrs["subscribed"] == 2
    a = o[o["customer"] == "A"]
    assert len(a) == 1
    assert a["mrr"].iloc[0] == 150.0 and a["value_at_risk"].iloc[0] == 12 * 150.0
    assert a["cancel_pending"].iloc[0] == 1          # a cancellation is booked on one of the two
    h = pd.DataFrame({"customer_id": ["A", "A"], "month": pd.to_datetime(["2026-03-01", "2026-06-01"]),
                      "mrr": [150.0, 120.0]})
    o = at_risk.who_to_save(s, mrr_history=h, events=e, as_of="2026-06-15", pseudonymize=False)
    a = o[o["customer"] == "A"]
    assert len(a) == 1 and a["value_at_risk"].iloc[0] == 12 * 120.0 and a["contraction"].iloc[0] == 1
