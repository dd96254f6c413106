"""Time everywhere (issue 15 item 8) for the scorecard, support and journey analyses, and the analysis
date (``as_of``) of journey.step_times and support.repeat_contact_rate.

Every check rebuilds the buckets with plain pandas from the raw CSV rows: UTC instants converted with
``tz_convert`` to the reporting zone, weeks found by walking back to the wanted weekday.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import data, journey, present, scorecard, support
from cxlib.data import SAMPLE_AS_OF, CXDataError

NY, TOKYO = "America/New_York", "Asia/Tokyo"
DAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}


def _late(result):
    """The one ``rows_after_as_of`` note of a result (rows dated after the analysis date)."""
    (n,) = [n for n in result.attrs["notes"] if getattr(n, "code", None) == "rows_after_as_of"]
    return n


def local(s: pd.Series, tz: str | None) -> pd.Series:
    t = pd.to_datetime(s, format="%Y-%m-%d %H:%M:%S")
    return t if tz is None else t.dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)


def week_of(t: pd.Series, week_start: str) -> pd.Series:
    d = t.dt.normalize()
    back = [(day - DAYS[week_start]) % 7 for day in d.dt.day_of_week]  # days since the week's first day
    return d - pd.to_timedelta(back, unit="D")


def month_of(t: pd.Series) -> pd.Series:
    return t.dt.to_period("M").dt.start_time


@pytest.fixture(scope="module")
def tickets(sample_dir):
    return pd.read_csv(sample_dir / "tickets.csv", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def responses(sample_dir):
    return pd.read_csv(sample_dir / "responses.csv", keep_default_na=False, na_values=[""])


# ------------------------------------------------------------------------------------------ support

@pytest.mark.parametrize("tz,week_start", [(NY, "sunday"), (TOKYO, "wednesday"), (None, "monday")])
def test_durations_by_local_week_match_pandas(sample_dir, tickets, tz, week_start):
    got = support.durations(sample_dir / "tickets.csv", by="channel", period="week", tz=tz, week_start=week_start)
    tk = tickets[tickets.first_response_at.notna()].copy()
    created = pd.to_datetime(tk.created_at)
    tk["seconds"] = (pd.to_datetime(tk.first_response_at) - created).dt.total_seconds().astype(int)  # UTC: exact
    tk["period"] = week_of(local(tk.created_at, tz), week_start)
    exp = tk.groupby(["channel", "period", "seconds"]).size().rename("n").reset_index()
    assert set(got["period"].dt.day_of_week) == {DAYS[week_start]}
    pd.testing.assert_frame_equal(got.reset_index(drop=True), exp, check_dtype=False)


def test_response_times_and_attainment_by_local_week_match_pandas(sample_dir, tickets):
    kw = dict(period="week", tz=NY, week_start="sunday")
    rt = support.response_times(sample_dir / "tickets.csv", min_n=1, **kw).set_index(["channel", "period"])
    targets = {"email": 12.0, "chat": 0.1}
    att = support.target_attainment(sample_dir / "tickets.csv", targets=targets, **kw).set_index(["channel", "period"])
    tk = tickets[tickets.first_response_at.notna()].copy()
    tk["hours"] = (pd.to_datetime(tk.first_response_at) - pd.to_datetime(tk.created_at)).dt.total_seconds() / 3600
    tk["period"] = week_of(local(tk.created_at, NY), "sunday")
    for (ch, period), g in tk.groupby(["channel", "period"]):
        r = rt.loc[(ch, period)]
        assert r["n"] == len(g)
        assert r["p50"] == pytest.approx(np.quantile(g.hours, 0.5, method="inverted_cdf"))
        if ch in targets:
            a = att.loc[(ch, period)]
            assert (a["n"], a["met"]) == (len(g), (g.hours <= targets[ch]).sum())
    assert len(rt) == tk.groupby(["channel", "period"]).ngroups


@pytest.mark.parametrize("as_of", [None, "2026-09-30 12:00:00"])
def test_repeat_contact_rate_local_months_and_as_of_match_pandas(sample_dir, tickets, as_of):
    got = support.repeat_contact_rate(sample_dir / "tickets.csv", period="month", tz=TOKYO, as_of=as_of)
    cut = pd.Timestamp(as_of) if as_of else SAMPLE_AS_OF
    tk = tickets.assign(t=pd.to_datetime(tickets.created_at))
    tk = tk[tk.t <= cut].sort_values(["customer_id", "t"], kind="mergesort")
    tk["next"] = tk.groupby("customer_id").t.shift(-1)
    horizon = min(tk.t.max(), cut) - pd.Timedelta(days=7)
    tk = tk[tk.t <= horizon]
    tk["repeat"] = (tk.next - tk.t) <= pd.Timedelta(days=7)
    tk["period"] = month_of(local(tk.created_at, TOKYO))
    exp = tk.groupby(["channel", "period"]).agg(n=("repeat", "size"), repeats=("repeat", "sum")).reset_index()
    pd.testing.assert_frame_equal(got[["channel", "period", "n", "repeats"]], exp, check_dtype=False)
    assert got.attrs["as_of"] == cut
    if as_of:  # later tickets are left out and said so: their count and the analysis date
        late = _late(got)
        assert late["as_of"] == cut
        assert late["counts"] == {"created_at": int((pd.to_datetime(tickets.created_at) > cut).sum())}
        assert "after 30 Sep 2026 12:00" in present.note_text(late).plain


def test_repeat_contact_rate_ignores_a_repeat_after_as_of():
    tk = pd.DataFrame({"ticket_id": ["a", "b", "c"], "customer_id": ["x", "x", "y"], "channel": "email",
                       "created_at": pd.to_datetime(["2026-03-01 10:00", "2026-03-03 10:00", "2026-03-20 10:00"])})
    full = support.repeat_contact_rate(tk, by=None, as_of="2026-03-20 12:00").iloc[0]
    assert (full["n"], full["repeats"]) == (2, 1)     # a (repeated by b), b; c is too recent to judge
    # as of 03-02, b and c do not exist yet: a cannot be judged (no week of follow-up seen), nothing is
    cut = support.repeat_contact_rate(tk, by=None, as_of="2026-03-02 12:00")
    assert cut["n"].fillna(0).sum() == 0 and len(cut.attrs["notes"]) == 1
    assert _late(cut)["counts"] == {"created_at": 2}  # b and c, created after 03-02 12:00


def test_bad_week_start_and_tz_are_data_errors(sample_dir):
    with pytest.raises(CXDataError, match="week_start"):
        support.durations(sample_dir / "tickets.csv", period="week", week_start="sundy")
    with pytest.raises(CXDataError, match="time zone"):
        support.response_times(sample_dir / "tickets.csv", period="week", tz="Mars/Olympus")
    with pytest.raises(CXDataError, match="week_start"):
        journey.step_times(sample_dir / "events.csv", cohort="week", week_start="8")
    with pytest.raises(CXDataError, match="week_start"):
        scorecard.headline(sample_dir / "responses.csv", week_start="someday")


# ------------------------------------------------------------------------------------------ journey

def test_step_times_local_week_cohorts_match_pandas(sample_dir):
    got = journey.step_times(sample_dir / "events.csv", cohort="week", tz=NY, week_start="sunday", min_n=1)
    ev = pd.read_csv(sample_dir / "events.csv")
    ev = ev[ev.event_name == "signup"].copy()
    ev["t"] = local(ev.event_time, NY)
    first = ev.groupby("customer_id").t.min()
    exp = week_of(first, "sunday").value_counts().sort_index()
    assert got.set_index("cohort")["n_start"].to_dict() == exp.to_dict()


def test_step_times_leave_out_events_after_as_of(sample_dir):
    ev = pd.read_csv(sample_dir / "events.csv")
    ev["event_time"] = pd.to_datetime(ev.event_time)
    as_of = pd.Timestamp("2026-06-30 23:59:59")
    got = journey.step_times(ev, as_of=as_of, by="plan")
    # brute force on the rows up to as_of
    e = ev[ev.event_time <= as_of]
    s = e[e.event_name == "signup"].groupby("customer_id").event_time.min()
    f = e[e.event_name == "first_value"].groupby("customer_id").event_time.min().reindex(s.index)
    plan = e.groupby("customer_id").plan.first().reindex(s.index)
    for p, r in got.set_index("plan").iterrows():
        hours = ((f - s)[plan == p]).dt.total_seconds().dropna() / 3600
        hours = hours[hours >= 0]
        assert (r["n_start"], r["n"]) == ((plan == p).sum(), len(hours))
        assert r["median"] == pytest.approx(np.quantile(hours, 0.5, method="inverted_cdf"))
        eligible = s[plan == p] <= as_of - pd.Timedelta(days=30)
        assert r["within_30d_n"] == eligible.sum()
    assert got.attrs["as_of"] == as_of
    late = _late(got)
    assert late["as_of"] == as_of and late["counts"] == {"event_time": int((ev.event_time > as_of).sum())}
    assert "after 30 Jun 2026 23:59" in present.note_text(late).plain


def test_step_times_default_as_of_is_the_analysis_date(sample_dir, monkeypatch):
    ev = pd.read_csv(sample_dir / "events.csv")
    ev["event_time"] = pd.to_datetime(ev.event_time)
    extra = ev.iloc[[0]].assign(event_time=pd.Timestamp("2099-01-01"), event_name="first_value", customer_id="late")
    monkeypatch.setenv(data.RUN_DATE_ENV, "2026-11-23")
    a = journey.step_times(pd.concat([ev, extra], ignore_index=True))
    b = journey.step_times(ev)
    cols = ["n_start", "n", "median", "within_30d_n"]
    assert a[cols].equals(b[cols])
    late = _late(a)
    assert late["counts"] == {"event_time": 1} and "2099-01-01" in late["examples"]["event_time"]


# ------------------------------------------------------------------------------------------ scorecard

@pytest.mark.parametrize("week_start", list(DAYS))
def test_last_complete_week_every_week_start(week_start):
    for day in pd.date_range("2026-11-01", "2026-11-30"):
        got = scorecard.last_complete_week(day + pd.Timedelta(hours=23), week_start=week_start)
        # brute force: the latest week start s with s + 6 days <= day
        s = day
        while not (s.day_of_week == DAYS[week_start] and s + pd.Timedelta(days=6) <= day):
            s -= pd.Timedelta(days=1)
        assert got == s, (day, week_start)
    assert scorecard.last_complete_week("2026-11-22") == pd.Timestamp("2026-11-16")  # default: Monday weeks


def test_scorecard_weeks_in_local_time_match_pandas(sample_dir, responses, tickets):
    src = sample_dir / "responses.csv"
    kw = dict(tz=NY, week_start="sunday")
    r = responses.assign(local=local(responses.response_time, NY))
    r["week"] = week_of(r["local"], "sunday")
    as_of_local = SAMPLE_AS_OF.tz_localize("UTC").tz_convert(NY).tz_localize(None)   # Sunday 18:59 in New York
    w = pd.Timestamp("2026-11-15")                                                # so the last complete week
    assert scorecard.last_complete_week(min(r["local"].max(), as_of_local), week_start="sunday") == w

    head = scorecard.headline(src, csat=None, ces=None, min_n=1, **kw)
    assert head.attrs["week"] == w
    now, prev = r[r.week == w], r[r.week == w - pd.Timedelta(weeks=1)]
    row = head.set_index("comparison").loc["previous week"]
    assert (row["n"], row["baseline_n"]) == (len(now), len(prev))
    nps = 100 * ((now.nps >= 9).mean() - (now.nps <= 6).mean())
    assert row["value"] == pytest.approx(nps)

    seg = scorecard.segment_table(src, by="channel", min_n=1, **kw).set_index("value")
    assert seg["n"].to_dict() == now.groupby("channel").size().to_dict()

    trend = scorecard.weekly_trends(src, weeks=None, csat=None, ces=None, min_n=1, **kw)
    # the week still under way at the analysis date (New York's Sunday 22 Nov) is not observed yet: no row
    assert trend.set_index("period")["n"].to_dict() == r[r.week <= w].groupby("week").size().to_dict()

    loop = scorecard.close_the_loop(src, **kw)
    exp = now[(now.nps <= 6) & now.comment.notna() & (now.comment.str.strip() != "")]
    assert sorted(loop["respondent_id"]) == sorted(exp.respondent_id)

    wc = scorecard.what_changed(src, by="channel", bootstrap=0, **kw).set_index("part")
    before = r[(r.week >= w - pd.Timedelta(weeks=4)) & (r.week < w)]
    assert (wc.loc["total", "n_now"], wc.loc["total", "n_before"]) == (len(now), len(before))

    sc = scorecard.support_changes(sample_dir / "tickets.csv", min_n=1, **kw).set_index("channel")
    tk = tickets[tickets.first_response_at.notna()].assign(week=week_of(local(tickets.created_at, NY), "sunday"))
    assert sc["n"].to_dict() == tk[tk.week == w].groupby("channel").size().to_dict()
    assert sc.attrs["week"] == w


def test_scorecard_explicit_week_is_aligned_to_week_start(sample_dir):
    head = scorecard.headline(sample_dir / "responses.csv", week="2026-11-18", week_start="sunday")
    assert head.attrs["week"] == pd.Timestamp("2026-11-15")
    assert scorecard.headline(sample_dir / "responses.csv", week="2026-11-18").attrs["week"] == pd.Timestamp("2026-11-16")
