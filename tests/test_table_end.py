"""Each table's own end (issue 21): a period is observed only when it ended before the analysis date *and*
before the table's last record (counted after rows later than as_of are left out). Periods starting after
the last record are not rows (blank, never 0%); customers still active are censored at the earlier of the
two; a table ending more than one period before as_of gets one ``data_ends_early`` note with both dates.

Every check is against an independent computation (pandas / numpy / statsmodels) on hand-written rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from cxlib import clv, cohorts, metrics, present, revenue, survival
from cxlib import data as cxdata
from cxlib.notes import Note

LAST = pd.Timestamp("1998-06-30 12:00:00")  # the transaction log's last record


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """No report date from the environment: without as_of the analysis date is today."""
    monkeypatch.delenv(cxdata.RUN_DATE_ENV, raising=False)


def _today_end() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").tz_localize(None).normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)


def _log(seed=1, n=60) -> pd.DataFrame:
    """Orders of ``n`` customers between January and June 1998; the last one on LAST."""
    rng = np.random.default_rng(seed)
    rows = []
    lo, span = pd.Timestamp("1998-01-01"), int((LAST - pd.Timestamp("1998-01-01")).total_seconds())
    for c in range(n):
        first = int(rng.integers(0, span // 2))
        times = first + np.concatenate([[0], rng.integers(0, span - first, rng.integers(0, 6))])
        for s in times:
            rows.append((f"C{c:03d}", lo + pd.Timedelta(seconds=int(s)), float(rng.integers(5, 50))))
    rows.append(("C999", LAST, 12.0))
    return pd.DataFrame(rows, columns=["customer_id", "event_time", "revenue"]).sort_values("event_time")


def _write(df: pd.DataFrame, path) -> str:
    df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return str(path)


def _month(ts: pd.Series) -> pd.Series:
    return ts.dt.year * 12 + ts.dt.month - 1


def _brute_cells(ev: pd.DataFrame, last: pd.Timestamp) -> pd.DataFrame:
    """Cohort (month of the first order) x months since, up to the month of ``last``: size and active."""
    ev = ev.assign(m=_month(ev["event_time"]))
    c0 = ev.groupby("customer_id")["m"].min()
    ev = ev.assign(c0=ev["customer_id"].map(c0))
    size = ev.drop_duplicates("customer_id").groupby("c0").size()
    active = ev.drop_duplicates(["customer_id", "m"]).groupby(["c0", "m"]).size()
    end_m = last.year * 12 + last.month - 1
    rows = [(c, m - c, int(size[c]), int(active.get((c, m), 0)))
            for c in size.index for m in range(c, end_m + 1)]
    return pd.DataFrame(rows, columns=["c0", "period", "cohort_size", "active"])


def _notes(result, code="data_ends_early"):
    return [n for n in result.attrs.get("notes", []) if isinstance(n, Note) and n.code == code]


# ------------------------------------------------------------------------------------------ cohorts

def test_retention_grid_stops_at_the_logs_last_record_without_as_of(tmp_path):
    ev = _log()
    path = _write(ev, tmp_path / "orders.csv")
    rt = cohorts.retention_table(path, grain="month", min_n=1)
    today = _today_end()
    assert rt.attrs["as_of"] == today and rt.attrs["data_end"] == LAST
    start = pd.to_datetime(rt["period_start"])
    assert start.max() == pd.Timestamp("1998-06-01")  # no row after June 1998 (blank, never 0%)
    assert not rt.loc[start == pd.Timestamp("1998-06-01"), "mature"].any()  # June has not ended in the log
    assert rt.loc[start < pd.Timestamp("1998-06-01"), "mature"].all()
    # the cells are exactly the brute-force grid, and every mature cell's retention is the brute count
    exp = _brute_cells(ev, LAST)
    got = rt.assign(c0=_month(pd.to_datetime(rt["cohort"])))
    merged = got.merge(exp, on=["c0", "period"], how="outer", suffixes=("", "_exp"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["cohort_size"] == merged["cohort_size_exp"]).all()
    assert (merged["active"] == merged["active_exp"]).all()
    m = merged[merged["mature"]]
    np.testing.assert_allclose(m["retention"], m["active_exp"] / m["cohort_size_exp"], rtol=1e-12)
    # one note with both dates, and words for it on a page
    (n,) = _notes(rt)
    assert n["last"] == LAST and n["as_of"] == today and n["period"] == "month" and n["table"] == "orders.csv"
    words = str(present.data_notes(rt))
    assert "30 Jun 1998" in words


def test_on_or_after_and_weekly_grids_stop_at_the_last_record_too(tmp_path):
    ev = _log(seed=2)
    path = _write(ev, tmp_path / "orders.csv")
    for grain, definition in (("week", "return_on"), ("month", "on_or_after"), ("quarter", "return_on")):
        rt = cohorts.retention_table(path, grain=grain, definition=definition, min_n=1)
        start = pd.to_datetime(rt["period_start"])
        assert (start <= LAST).all(), grain
        ends = cohorts._offset(start.reset_index(drop=True), 1, grain)
        assert (rt["mature"].to_numpy() == (ends <= LAST).to_numpy()).all(), grain
        assert len(_notes(rt)) == 1


def test_a_row_dated_2099_does_not_set_the_last_record(tmp_path):
    ev = pd.concat([_log(seed=3), pd.DataFrame({"customer_id": ["C000"], "event_time": [pd.Timestamp("2099-01-01")],
                                                "revenue": [1.0]})], ignore_index=True)
    path = _write(ev, tmp_path / "orders.csv")
    as_of = pd.Timestamp("2001-01-01")
    rt = cohorts.retention_table(path, grain="month", as_of=as_of, min_n=1)
    assert rt.attrs["data_end"] == LAST and rt.attrs["as_of"] == as_of
    assert pd.to_datetime(rt["period_start"]).max() == pd.Timestamp("1998-06-01")
    notes = rt.attrs["notes"]
    (late,) = [x for x in notes if getattr(x, "code", None) == "rows_after_as_of"]  # the late row, counted
    assert late["counts"] == {"event_time": 1} and late["as_of"] == as_of
    assert "after 1 Jan 2001 00:00" in present.note_text(late).plain
    (n,) = _notes(rt)
    assert n["last"] == LAST and n["as_of"] == as_of


def test_no_note_when_the_table_ends_within_one_period_of_as_of(tmp_path):
    path = _write(_log(seed=4), tmp_path / "orders.csv")
    rt = cohorts.retention_table(path, grain="month", as_of="1998-07-15", min_n=1)
    assert not _notes(rt) and rt.attrs["data_end"] == LAST
    assert not rt.loc[pd.to_datetime(rt["period_start"]) == pd.Timestamp("1998-06-01"), "mature"].any()


def test_ltv_to_date_sums_only_months_the_log_has_completed(tmp_path):
    ev = _log(seed=5)
    path = _write(ev, tmp_path / "orders.csv")
    ltv = cohorts.ltv_to_date(cohorts.retention_table(path, grain="month", value="revenue", min_n=1))
    month = _month(pd.to_datetime(ltv["cohort"])) + ltv["period"]
    assert month.max() == 1998 * 12 + 4  # May 1998: June is not complete in the log
    # brute force: revenue of each cohort's customers up to each completed month / cohort size
    e = ev.assign(m=_month(ev["event_time"]))
    e = e.assign(c0=e["customer_id"].map(e.groupby("customer_id")["m"].min()))
    for (c, k), row in ltv.set_index([_month(pd.to_datetime(ltv["cohort"])), "period"]).iterrows():
        sub = e[e["c0"] == c]
        want = sub.loc[sub["m"] <= c + k, "revenue"].sum() / sub["customer_id"].nunique()
        assert row["ltv_to_date"] == pytest.approx(want)
    assert ltv.attrs["data_end"] == LAST


def test_repeat_business_marks_the_logs_last_period_incomplete(tmp_path):
    ev = _log(seed=6)
    path = _write(ev, tmp_path / "orders.csv")
    rb = cohorts.repeat_business(path, event=None, period="month", min_n=1)
    assert rb["period"].max() == pd.Timestamp("1998-06-01")
    assert rb["complete"].tolist() == (rb["period"] < pd.Timestamp("1998-06-01")).tolist()
    assert rb.attrs["data_end"] == LAST and len(_notes(rb)) == 1
    # brute force: buyers per month and those with an order before that order
    e = ev.sort_values("event_time").assign(m=lambda d: d["event_time"].dt.to_period("M").dt.to_timestamp())
    e["repeat"] = e.groupby("customer_id").cumcount() > 0
    buyers = e.groupby("m")["customer_id"].nunique()
    rep = e[e["repeat"]].groupby("m")["customer_id"].nunique().reindex(buyers.index, fill_value=0)
    assert rb.set_index("period")["buyers"].tolist() == buyers.tolist()
    assert rb.set_index("period")["repeat_buyers"].tolist() == rep.tolist()


def test_rfm_age_runs_to_the_logs_last_day(tmp_path):
    ev = _log(seed=7)
    path = _write(ev, tmp_path / "orders.csv")
    s = clv.rfm(path, unit="day").set_index("customer_id")
    first_day = ev.groupby("customer_id")["event_time"].min().dt.normalize()
    want = (LAST.normalize() - first_day).dt.days.astype(float)
    np.testing.assert_allclose(s["T"], want.loc[s.index], rtol=0, atol=1e-12)
    assert s.attrs["data_end"] == LAST and len(_notes(s)) == 1


# ------------------------------------------------------------------------------------------ churn

def _subs() -> pd.DataFrame:
    """Lifetimes of 1997-1998; the last record is an end on 1998-05-20 10:00."""
    rng = np.random.default_rng(11)
    n = 80
    start = pd.Timestamp("1997-01-01") + pd.to_timedelta(rng.integers(0, 400 * 86400, n), unit="s")
    end = start + pd.to_timedelta(rng.integers(5 * 86400, 300 * 86400, n), unit="s")
    end = pd.Series(end).where((rng.random(n) < 0.6) & (end < pd.Timestamp("1998-05-20")))
    df = pd.DataFrame({"customer_id": [f"S{i:03d}" for i in range(n)], "start_time": start, "end_time": end,
                       "plan": np.where(rng.random(n) < 0.5, "basic", "pro")})
    df.loc[n] = ["S999", pd.Timestamp("1998-01-05"), pd.Timestamp("1998-05-20 10:00"), "pro"]
    return df


SUBS_LAST = pd.Timestamp("1998-05-20 10:00")


def test_churn_periods_stop_at_the_subscriptions_last_record(tmp_path):
    df = _subs()
    path = _write(df, tmp_path / "subs.csv")
    for fn in (metrics.churn_rate, metrics.retention_rate):
        out = fn(path, period="month", min_n=1)
        assert out["period"].max() == pd.Timestamp("1998-05-01"), fn.__name__  # nothing after May 1998
        assert out["complete"].tolist() == (out["period"] < pd.Timestamp("1998-05-01")).tolist()
        assert out.attrs["data_end"] == SUBS_LAST and len(_notes(out)) == 1
    ch = metrics.churn_rate(path, period="month", min_n=1)
    for _, row in ch.iterrows():  # brute force: at risk at the month's start, lost during it
        p0, p1 = row["period"], row["period"] + pd.DateOffset(months=1)
        risk = (df["start_time"] < p0) & (df["end_time"].isna() | (df["end_time"] >= p0))
        lost = risk & (df["end_time"] >= p0) & (df["end_time"] < p1)
        assert (row["n"], row["lost"]) == (int(risk.sum()), int(lost.sum()))


def test_a_cancellation_dated_2099_does_not_stretch_churn(tmp_path):
    df = _subs()
    df.loc[len(df)] = ["S998", pd.Timestamp("1998-02-01"), pd.Timestamp("2099-01-01"), "basic"]
    path = _write(df, tmp_path / "subs.csv")
    ch = metrics.churn_rate(path, period="month", as_of="2005-01-01", min_n=1)
    assert ch.attrs["data_end"] == SUBS_LAST
    assert ch["period"].max() == pd.Timestamp("1998-05-01")


# ------------------------------------------------------------------------------------------ survival

def test_kaplan_meier_censors_the_still_active_at_the_last_record():
    # hand computation: 5 lifetimes from 1 Jan 1998; ends after 10, 30 and 60 days; two still active; the
    # last record is the end on 2 Mar (day 60), so those two are censored at 60 days, not at today
    df = pd.DataFrame({"start_time": ["1998-01-01"] * 5,
                       "end_time": ["1998-01-11", "1998-01-31", None, None, "1998-03-02"]})
    km = survival.kaplan_meier(df, start="start_time", end="end_time", unit="day", min_n=1)
    assert km["time"].tolist() == [10.0, 30.0, 60.0]
    assert km["at_risk"].tolist() == [5, 4, 3]
    np.testing.assert_allclose(km["survival"], [0.8, 0.6, 0.6 * 2 / 3], rtol=1e-12)
    assert km.attrs["data_end"] == pd.Timestamp("1998-03-02")
    (n,) = _notes(km)
    assert n["last"] == pd.Timestamp("1998-03-02") and n["as_of"] == _today_end()
    # followed up to day 60 only: a 100-day restricted mean is not known
    with pytest.raises(cxdata.CXDataError, match="beyond the follow-up"):
        survival.rmst(df, start="start_time", end="end_time", unit="day", horizon=100)
    r = survival.rmst(df, start="start_time", end="end_time", unit="day", horizon=60)
    assert r["rmst"].iloc[0] == pytest.approx(10 * 1 + 20 * 0.8 + 30 * 0.6)


def test_kaplan_meier_by_segment_matches_statsmodels_on_hand_durations(tmp_path):
    df = _subs()
    df.loc[len(df)] = ["S998", pd.Timestamp("1998-02-01"), pd.Timestamp("2099-01-01"), "basic"]  # active then
    path = _write(df, tmp_path / "subs.csv")
    as_of = pd.Timestamp("2010-06-30")
    km = survival.kaplan_meier(path, start="start_time", end="end_time", as_of=as_of, by="plan", min_n=1)
    churned = df["end_time"].notna() & (df["end_time"] <= as_of)
    stop = df["end_time"].where(churned, SUBS_LAST)  # the whole table's last record, for every segment
    days = np.floor((stop - df["start_time"]).dt.total_seconds() / 86400 + 0.5) / 30.4375
    for plan, g in df.groupby("plan"):
        ref = SurvfuncRight(days[g.index].to_numpy(), churned[g.index].to_numpy(float))
        part = km[km["plan"] == plan]
        np.testing.assert_allclose(part["time"], ref.surv_times, rtol=0, atol=1e-12)
        np.testing.assert_allclose(part["survival"], ref.surv_prob, rtol=1e-12)
    assert km.attrs["data_end"] == SUBS_LAST and km.attrs["as_of"] == as_of
    cx = survival.cox(path, start="start_time", end="end_time", as_of=as_of, covariates="plan")
    assert cx.attrs["data_end"] == SUBS_LAST


# ------------------------------------------------------------------------------------------ revenue

def test_revenue_retention_notes_a_history_that_ends_early(tmp_path):
    rows = [(f"M{c}", f"1998-{m:02d}-01", 10.0 + c) for c in range(40) for m in range(1, 7) if (c + m) % 7]
    path = _write(pd.DataFrame(rows, columns=["customer_id", "month", "mrr"]), tmp_path / "mrr.csv")
    nrr = revenue.net_revenue_retention(path, min_n=1)
    assert nrr["period"].max() == pd.Timestamp("1998-06-01")
    assert nrr.attrs["data_end"] == pd.Timestamp("1998-06-01")
    (n,) = _notes(nrr)
    assert n["last"] == pd.Timestamp("1998-06-01") and n["as_of"] == _today_end()
