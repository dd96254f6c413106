"""Each table's own end under one analysis date (DESIGN.md, "The analysis date"):

- an MRR history's rows after the analysis date are counted in one note, and it ends early only when the
  month after its last month has passed too;
- who_to_save measures every "time since" sign to the end of the table it comes from (a 1998 log read in
  2026 flags nobody as "inactive for 10,000 days"), as the CLV model's T does;
- NPS / CSAT / CES and theme trends say which periods are complete (ended by the earlier of the analysis
  date and the table's last answer), numbers unchanged;
- the words for an incomplete period: "in progress" only when it holds the analysis date, else the last
  period of data, not complete.

Every expectation is computed here in pandas from hand-written rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import at_risk, clv, metrics, present, revenue, themes
from cxlib.pages import nps_drivers as nps_page
from cxlib.notes import codes


def _write(df: pd.DataFrame, path) -> str:
    df.to_csv(path, index=False)
    return str(path)


def _notes(result, code):
    return [n for n in result.attrs.get("notes", []) if getattr(n, "code", None) == code]


# ------------------------------------------------------------------------------------------ MRR history

def _mrr_rows(last_month: str, n_customers: int = 40):
    months = pd.date_range("2025-01-01", last_month, freq="MS")
    rows = [(f"C{c}", m.strftime("%Y-%m-%d"), float(10 + c % 7 + (i if c % 3 == 0 else 0)))
            for c in range(n_customers) for i, m in enumerate(months) if (c + i) % 9]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


def _nrr_by_hand(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Net retention per month: the start customers' MRR this month over their MRR the month before."""
    d = df.assign(month=pd.to_datetime(df["month"]))
    d = d[d["month"] <= as_of]
    wide = d.pivot_table(index="customer_id", columns="month", values="mrr", aggfunc="sum").fillna(0.0)
    cols = sorted(wide.columns)
    out = {}
    for prev, cur in zip(cols, cols[1:]):
        start = wide[prev] > 0
        out[cur] = wide.loc[start, cur].sum() / wide.loc[start, prev].sum()
    return pd.Series(out)


def test_mrr_rows_after_the_analysis_date_are_left_out_and_counted_in_one_note(tmp_path):
    df = _mrr_rows("2026-02-01")
    late = pd.DataFrame({"customer_id": ["C1", "C2"], "month": ["2099-01-01", "2031-05-01"], "mrr": [29.0, 5000.0]})
    path = _write(pd.concat([df, late], ignore_index=True), tmp_path / "mrr.csv")
    as_of = pd.Timestamp("2026-03-03")
    nrr = revenue.net_revenue_retention(path, as_of=as_of, min_n=1)
    (n,) = _notes(nrr, "rows_after_as_of")
    assert n["counts"] == {"month": 2} and n["as_of"] == as_of
    assert nrr["period"].max() == pd.Timestamp("2026-02-01")
    want = _nrr_by_hand(df, as_of)
    got = nrr.set_index("period")["net_retention"]
    np.testing.assert_allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("last_month, early", [("2026-02-01", False),   # February's row covers February
                                               ("2026-01-01", True),    # January ended a month and more ago
                                               ("2025-10-01", True)])
def test_mrr_history_ends_early_only_when_the_month_after_its_last_month_has_passed(tmp_path, last_month, early):
    path = _write(_mrr_rows(last_month), tmp_path / "mrr.csv")
    as_of = pd.Timestamp("2026-03-03")
    nrr = revenue.net_revenue_retention(path, as_of=as_of, min_n=1)
    month_end = pd.Timestamp(last_month) + pd.DateOffset(months=1)  # the last row covers its whole month
    assert early == (month_end + pd.DateOffset(months=1) < as_of)
    notes = _notes(nrr, "data_ends_early")
    assert len(notes) == int(early) and nrr.attrs["data_end"] == pd.Timestamp(last_month)
    if early:
        assert notes[0]["last"] == pd.Timestamp(last_month) and notes[0]["as_of"] == as_of
    assert "rows_after_as_of" not in codes(nrr.attrs["notes"])


# ------------------------------------------------------------------------------------------ who to save

OLD_AS_OF = pd.Timestamp("2026-03-03 23:59:59")


def _old_tables():
    """A business whose exports stop in mid-1998, analysed in 2026."""
    subs = pd.DataFrame({"customer_id": list("abcdef"),
                         "start_time": pd.to_datetime(["1997-01-05"] * 5 + ["1998-06-20"]),
                         "end_time": pd.NaT, "mrr": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]})
    events = pd.DataFrame({"customer_id": list("aabcd") + [None],
                           "event_time": pd.to_datetime(["1998-01-02", "1998-06-29", "1998-05-01", "1998-06-01",
                                                         "1998-03-10", "1998-06-30 18:00"], format="ISO8601")})
    tickets = pd.DataFrame({"customer_id": ["b", "c", "c", "d"],
                            "created_at": pd.to_datetime(["1998-06-01", "1998-06-10", "1998-06-12", "1998-04-01"]),
                            "resolved_at": pd.to_datetime([None, "1998-06-11", "1998-06-13", "1998-06-15"])})
    responses = pd.DataFrame({"customer_id": ["a", "b", "c", "e"],
                              "response_time": pd.to_datetime(["1998-06-01", "1998-02-01", "1998-05-20",
                                                               "1998-06-25"]),
                              "nps": [3, 2, 9, 5]})
    return subs, events, tickets, responses


def test_every_time_since_sign_runs_to_the_end_of_its_own_table():
    subs, events, tickets, responses = _old_tables()
    got = at_risk.who_to_save(subs, events=events, tickets=tickets, responses=responses, as_of=OLD_AS_OF,
                              pseudonymize=False, inactive_days=45, survey_days=90, ticket_days=30,
                              min_tickets=2, open_days=7).set_index("customer")
    e_end = events["event_time"].max()                                   # any event, customer or not
    k_end = pd.concat([tickets["created_at"], tickets["resolved_at"]]).max()
    r_end = responses["response_time"].max()
    want = {}
    for _, s in subs.iterrows():
        c = s["customer_id"]
        seen = events.loc[events["customer_id"] == c, "event_time"]
        since = seen.max() if len(seen) else s["start_time"]
        idle = np.floor((e_end - since).total_seconds() / 86400)
        idle = idle if idle >= 0 else np.nan                              # started after the log ends
        k = tickets[tickets["customer_id"] == c]
        recent = int((k["created_at"] > k_end - pd.Timedelta(days=30)).sum())
        still = k[k["resolved_at"].isna()]
        open_days = ((k_end - still["created_at"]).dt.total_seconds() / 86400).max() if len(still) else np.nan
        r = responses[(responses["customer_id"] == c) & (responses["response_time"] > r_end - pd.Timedelta(days=90))]
        last_nps = r.sort_values("response_time")["nps"].iloc[-1] if len(r) else np.nan
        sig = {"inactive": int(idle >= 45), "support": int(recent >= 2 or open_days >= 7),
               "detractor": int(last_nps <= 6)}
        want[c] = {**sig, "days_inactive": idle, "open_ticket_days": open_days}
    listed = {c for c, v in want.items() if v["inactive"] + v["support"] + v["detractor"]}
    assert set(got.index) == listed and listed != set(subs["customer_id"])
    for c in listed:
        for col in ("inactive", "support", "detractor", "days_inactive", "open_ticket_days"):
            w, g = want[c][col], got.loc[c, col]
            if isinstance(w, float) and np.isnan(w):
                assert np.isnan(g), (c, col)
            else:
                assert g == pytest.approx(w), (c, col)
    assert not pd.Series(present.at_risk_reasons(got)).str.contains(r"\d{4,} days").any()  # nobody idle for 10,000 days
    ends = got.attrs["ends"]
    assert ends["events"] == e_end and ends["tickets"] == k_end and ends["responses"] == r_end
    assert {"data_ends_early"} <= set(codes(got.attrs["notes"]))
    words = str(present.cohort_save_method(got))
    assert "not to 3 Mar 2026: survey answers to 25 Jun 1998; support tickets to 15 Jun 1998; activity events to " \
           "30 Jun 1998." in words


def test_inactivity_and_the_clv_age_share_the_logs_end():
    rng = np.random.default_rng(7)
    rows = []
    for i in range(120):
        days = np.sort(rng.choice(np.arange(0, 365), size=1 + rng.poisson(2), replace=False))
        rows += [(f"b{i}", pd.Timestamp("1997-07-01") + pd.Timedelta(days=int(d)), float(rng.gamma(2, 20)))
                 for d in days]
    ev = pd.DataFrame(rows, columns=["customer_id", "event_time", "revenue"])
    table = clv.rfm(ev, value="revenue", as_of=OLD_AS_OF, unit="day")
    log_end = ev["event_time"].max()
    assert table.attrs["data_end"] == log_end
    first = ev.groupby("customer_id")["event_time"].min().dt.normalize()
    np.testing.assert_allclose(table.set_index("customer_id")["T"].loc[first.index],
                               (log_end.normalize() - first).dt.days.to_numpy(float))
    fake = pd.DataFrame({"customer_id": first.index, "expected_clv": 1.0, "p_alive": 0.9})
    got = at_risk.who_to_save(None, clv=fake, events=ev, as_of=OLD_AS_OF, pseudonymize=False, inactive_days=90)
    last = ev.groupby("customer_id")["event_time"].max()
    idle = np.floor((log_end - last).dt.total_seconds() / 86400)
    assert got.attrs["ends"]["events"] == log_end
    assert set(got["customer"]) == set(idle.index[idle >= 90]) and 0 < len(got) < len(first)
    np.testing.assert_allclose(got.set_index("customer")["days_inactive"], idle.loc[got["customer"]].to_numpy())


# ------------------------------------------------------------------------------------------ trends

def _responses(last: str):
    """Answers every 6 hours from 1 Jan 2026 to ``last``, with NPS, CSAT, CES and a comment; the final
    answer has no NPS (it still sets the table's last record)."""
    times = pd.date_range("2026-01-01", last, freq="6h")
    i = np.arange(len(times))
    df = pd.DataFrame({"respondent_id": [f"r{k}" for k in i], "response_time": times,
                       "nps": (i * 7) % 11, "csat": 1 + (i % 5), "ces": 1 + (i * 3) % 7,
                       "comment": np.where(i % 3 == 0, "the price is too high", "slow support reply")})
    df["nps"] = df["nps"].astype("Int64")
    df.loc[df.index[-1], "nps"] = pd.NA
    return df


def _complete_by_hand(starts, period, as_of, last):
    step = {"month": pd.DateOffset(months=1), "week": pd.DateOffset(weeks=1)}[period]
    end = min(pd.Timestamp(as_of), pd.Timestamp(last))
    return [pd.Timestamp(s) + step <= end for s in starts]


@pytest.mark.parametrize("as_of, last", [("2026-06-30", "2026-02-10 18:00"),    # data end mid-February
                                         ("2026-02-20", "2026-02-19 12:00"),    # February in progress
                                         ("2026-03-01", "2026-02-28 18:00")])   # the month is not over at 18:00
@pytest.mark.parametrize("period", ["month", "week"])
def test_score_trends_say_which_periods_are_complete(tmp_path, as_of, last, period):
    df = _responses(last)
    path = _write(df, tmp_path / "answers.csv")
    last_ts = df["response_time"].max()
    for fn, col in ((metrics.nps, "nps"), (metrics.csat, "csat"), (metrics.ces, "ces")):
        got = fn(path, score=col, time="response_time", period=period, as_of=as_of, min_n=1)
        assert got["complete"].dtype == bool
        assert got["complete"].tolist() == _complete_by_hand(got["period"], period, as_of, last_ts)
        assert got.attrs["data_end"] == last_ts
        # the numbers are those of each period's answers
        per = df.dropna(subset=[col]).assign(p=lambda d: d["response_time"].dt.to_period(
            "M" if period == "month" else "W-SUN").dt.start_time)
        n = per.groupby("p")[col].count()
        assert got.set_index("period")["n"].to_dict() == n.to_dict()
        if col == "nps":
            s = per.assign(v=np.select([per[col] >= 9, per[col] <= 6], [100.0, -100.0], 0.0)).groupby("p")["v"].mean()
            np.testing.assert_allclose(got.set_index("period").loc[s.index, "nps"], s.to_numpy())
    th = themes.theme_counts(path, time="response_time", period=period, as_of=as_of, min_n=1)
    starts = th["period"].drop_duplicates()
    assert (th.drop_duplicates("period")["complete"].tolist()
            == _complete_by_hand(starts, period, as_of, last_ts))
    mentions = th[th["theme"] == th["theme"].iloc[0]]
    assert th.attrs["data_end"] == last_ts and len(mentions) == len(starts)


# ------------------------------------------------------------------------------------------ words

def _subs(last_start: str, n: int = 300):
    rng = np.random.default_rng(3)
    span = (pd.Timestamp(last_start) - pd.Timestamp("2018-01-01")).days
    starts = pd.to_datetime("2018-01-01") + pd.to_timedelta(rng.integers(0, span, n), "D")
    life = pd.to_timedelta(rng.integers(20, 400, n), "D")
    ends = (starts + life).where(rng.random(n) < 0.6)
    ends = ends.where(ends <= pd.Timestamp(last_start))
    return pd.DataFrame({"customer_id": [f"s{i}" for i in range(n)], "start_time": starts, "end_time": ends})


def test_churn_words_say_in_progress_only_for_the_period_holding_the_analysis_date(tmp_path):
    path = _write(_subs("2019-03-20"), tmp_path / "subs.csv")
    old = metrics.churn_rate(path, as_of="2026-03-03")
    last = old.loc[~old["complete"], "period"].max()
    assert last == pd.Timestamp("2019-03-01")
    words = str(present.churn_method(old))
    assert "in progress" not in words and "not over" not in words
    assert "Mar 2019, the last month of data (hollow point), is not complete" in words
    assert old.attrs["data_end"].strftime("%-d %b %Y") in words
    now = metrics.churn_rate(path, as_of="2019-03-25")
    assert "The month in progress (hollow point) is not over." in str(present.churn_method(now))
    for w in (words, str(present.churn_method(now))):
        assert "True" not in w and "False" not in w


def test_latest_score_words_follow_the_trends_complete_column(tmp_path):
    path = _write(_responses("2026-02-10 18:00"), tmp_path / "answers.csv")
    overall = metrics.nps(path, as_of="2026-06-30", min_n=1)
    old = metrics.nps(path, time="response_time", period="month", as_of="2026-06-30", min_n=1)
    f = present.nps_score_figure(overall, nps_page.latest_change(old, grain="month", as_of="2026-06-30"), grain="month")
    assert f.change.startswith("Feb 2026 (the last month of data, not complete):") and "so far" not in f.change
    now = metrics.nps(path, time="response_time", period="month", as_of="2026-02-11", min_n=1)
    f = present.nps_score_figure(overall, nps_page.latest_change(now, grain="month", as_of="2026-02-11"), grain="month")
    assert f.change.startswith("Feb 2026 so far:")
    # the analysis date from the trend itself when the page gives none
    assert nps_page.latest_change(old, grain="month")["in_progress"] is False
    # a complete month by the calendar, but the answers end 10 days into it: not complete
    done = metrics.nps(path, time="response_time", period="month", as_of="2026-06-30", min_n=1)
    assert nps_page.latest_change(done, grain="month", as_of="2026-06-30")["complete"] is False


def test_cohort_cells_cut_by_the_datas_end_are_not_called_open(tmp_path):
    from cxlib import cohorts

    rng = np.random.default_rng(5)
    ev = pd.DataFrame({"customer_id": [f"u{i % 150}" for i in range(900)],
                       "event_time": pd.Timestamp("1997-01-01") + pd.to_timedelta(rng.integers(0, 540, 900), "D")})
    path = _write(ev, tmp_path / "events.csv")
    old = cohorts.retention_table(path, as_of="2026-03-03", min_n=1)
    words = str(present.retention_summary(old))
    assert "still open" not in words and "has not ended" not in words
    assert f"the data end on {ev['event_time'].max():%-d %b %Y}" in words
    fresh = cohorts.retention_table(path, as_of=ev["event_time"].max() + pd.Timedelta(days=1), min_n=1)
    assert "still open (their month has not ended)" in str(present.retention_summary(fresh))
