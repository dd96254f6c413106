"""The analysis date in cxlib.journey (issue 21): every journey analysis over dated rows takes ``as_of``,
leaves later rows out with one note, ends its windows / censors at the earlier of ``as_of`` and the
table's last record, and notes a table that ends more than a month before ``as_of``. Hand-written rows."""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import journey, present
from cxlib.notes import codes


def _csv(tmp_path, fname, rows, columns):
    path = tmp_path / fname
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


EV = ("customer_id", "event_name", "event_time")


def _late(notes):
    """The ``rows_after_as_of`` notes (rows dated after the analysis date) among ``notes``."""
    return [n for n in notes if getattr(n, "code", None) == "rows_after_as_of"]


def test_funnel_and_step_conversion_leave_events_after_the_analysis_date_out(tmp_path):
    path = _csv(tmp_path, "events.csv", [
        ("a", "signup", "2026-01-01"), ("a", "purchase", "2026-01-10"),
        ("b", "signup", "2026-01-01"), ("b", "purchase", "2026-03-01"),  # after as_of: not yet a purchase
        ("c", "signup", "2026-02-20"),                                   # after as_of: not in the funnel
    ], EV)
    f = journey.funnel(path, steps=["signup", "purchase"], min_n=1, as_of="2026-02-15").set_index("step")
    assert f["reached"].tolist() == [2, 1]                               # signup a b; purchase a
    (late,) = _late(f.attrs["notes"])
    assert late["counts"] == {"event_time": 2} and late["as_of"] == pd.Timestamp("2026-02-15 23:59:59")  # a date: the end of that day
    assert "2 rows with 'event_time' after 15 Feb 2026 23:59" in present.note_text(late).plain
    assert f.attrs["as_of"] == pd.Timestamp("2026-02-15 23:59:59")
    later = journey.funnel(path, steps=["signup", "purchase"], min_n=1, as_of="2026-03-31")
    assert later["reached"].tolist() == [3, 2] and later.attrs["notes"] == []
    conv = journey.step_conversion(path, steps=["signup", "purchase"], min_n=1, as_of="2026-02-15")
    assert (conv.loc[0, "entered"], conv.loc[0, "converted"]) == (2, 1) and len(_late(conv.attrs["notes"])) == 1
    w = journey.weakest_step(path, steps=["signup", "purchase"], min_n=1, as_of="2026-02-15")
    assert w.loc[0, "conversion"] == pytest.approx(0.5) and len(_late(w.attrs["notes"])) == 1


def test_step_time_windows_end_at_the_last_event_when_the_table_ends_before_the_analysis_date(tmp_path):
    # last event 2026-01-20; as_of 2026-06-30. A window of d days needs a signup by 2026-01-20 - d.
    path = _csv(tmp_path, "events.csv", [
        ("a", "signup", "2026-01-01"), ("a", "first_value", "2026-01-03"),  # 2 days: in the 7-day window
        ("b", "signup", "2026-01-10"), ("b", "first_value", "2026-01-20"),  # 10 days: not within 7
        ("c", "signup", "2026-01-15"),                                      # < 7 days before the end: left out
    ], EV)
    got = journey.step_times(path, within=[7], min_n=1, as_of="2026-06-30")
    r = got.iloc[0]
    assert got.attrs["as_of"] == pd.Timestamp("2026-01-20")
    # 7-day window: a (signup 01-01) and b (01-10) are at least 7 days before 01-20; c (01-15) is not
    assert (r["within_7d_n"], r["within_7d"]) == (2, pytest.approx(0.5))
    assert codes(got.attrs["notes"]) == ["data_ends_early"]
    n = got.attrs["notes"][0]
    assert (n["last"], n["as_of"]) == (pd.Timestamp("2026-01-20"), pd.Timestamp("2026-06-30 23:59:59"))
    # an analysis date inside the data: later rows left out (one note), no 'ends early'
    inside = journey.step_times(path, within=[7], min_n=1, as_of="2026-01-12")
    assert (inside.iloc[0]["n_start"], inside.iloc[0]["n"]) == (2, 1)
    assert codes(inside.attrs["notes"]) == ["rows_after_as_of"]
    assert _late(inside.attrs["notes"])[0]["counts"] == {"event_time": 2}  # b's first value (01-20), c's signup


def test_churn_by_touch_censors_at_the_subscriptions_last_record(tmp_path):
    subs = _csv(tmp_path, "subs.csv", [
        ("A", "2026-01-01", "2026-03-01"),  # ticket in its window, churns after the landmark
        ("B", "2026-01-01", None),          # ticket in its window, active
        ("C", "2026-01-01", None),          # no ticket, active
        ("E", "2026-01-02", "2026-01-20"),  # churns inside the window: not compared
        ("D", "2026-03-10", None),          # landmark 04-09 is after the last record (03-10): not observed
    ], ("customer_id", "start_time", "end_time"))
    tickets = _csv(tmp_path, "tickets.csv", [
        (1, "A", "2026-01-05", "2026-01-05 01:00", "email"), (2, "B", "2026-01-10", "2026-01-10 01:00", "email"),
        (3, "Z", "2026-01-01", "2026-01-01 01:00", "email"), (4, "Z", "2026-06-01", "2026-06-01 01:00", "email"),
        (5, "Z", "2026-12-01", "2026-12-01 01:00", "email"),  # after as_of: left out with a note
    ], ("ticket_id", "customer_id", "created_at", "first_response_at", "channel"))
    got = journey.churn_by_touch(subs, tickets=tickets, window=30, as_of="2026-09-30", min_n=1)
    r = got.set_index("touch").loc["support_contact"]
    # compared: A, B (with), C (without); D's landmark is after the observed end (03-10)
    assert (r["n_with"], r["n_without"], r["churned_with"], r["churned_without"]) == (2, 1, 1, 0)
    assert got.attrs["observed_end"] == pd.Timestamp("2026-03-10")
    assert got.attrs["as_of"] == pd.Timestamp("2026-09-30 23:59:59")
    assert sorted(codes(got.attrs["notes"])) == ["data_ends_early", "rows_after_as_of"]
    (late,) = _late(got.attrs["notes"])
    assert "tickets" in late["table"] and late["counts"] == {"created_at": 1}
    last = journey.last_touch_before_churn(subs, tickets=tickets, window=56, as_of="2026-09-30")
    # A churned 03-01 with its ticket (01-05) within the 56 days before (from 01-04); E churned 01-20 but
    # its window starts before the tickets do (01-01)
    assert last.attrs["churns"] == 1 and last.loc[0, "touch"] == "support_contact"
    assert sorted(codes(last.attrs["notes"])) == ["data_ends_early", "rows_after_as_of"]
    assert _late(last.attrs["notes"])[0]["counts"] == {"created_at": 1}  # the same ticket, left out
