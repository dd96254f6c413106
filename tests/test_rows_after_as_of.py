"""Rows after the analysis date are one ``rows_after_as_of`` note with values (issue 21): the table, the
analysis date, the count per column, example rows and which columns are ends; the words live in
present.NOTE_TEXT and fit every table kind ("still active or open" only for an end column).

Hand-written rows; counts checked against pandas on the same rows.
"""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import data, metrics, present, support, survival
from cxlib.notes import Note, codes

AS_OF = pd.Timestamp("2026-11-30 00:00")


def _late(result):
    (n,) = [n for n in result.attrs["notes"] if getattr(n, "code", None) == "rows_after_as_of"]
    return n


def _words(n) -> str:
    return present.note_text(n).plain


@pytest.fixture
def subs(tmp_path):
    df = pd.DataFrame({"customer_id": [f"c{i}" for i in range(8)],
                       "start_time": ["2026-01-05", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01",
                                      "2026-12-02", "2099-01-01", "2026-06-01"],
                       "end_time": ["2026-03-01", None, "2026-12-15", "2099-05-01", None, None, "2099-06-01",
                                    "2026-11-30 10:00"]})
    path = tmp_path / "subscriptions.csv"
    df.to_csv(path, index=False)
    return path, df


def test_the_note_holds_the_count_per_column_examples_the_date_and_the_end_columns(subs):
    path, df = subs
    t = data.clean_timestamp(data.clean_timestamp(data.as_table(path), "start_time"), "end_time", required=False)
    n = data.after_as_of(t, ["start_time", "end_time"], AS_OF)
    assert isinstance(n, Note) and n.code == "rows_after_as_of"
    want = {c: int((pd.to_datetime(df[c], format="ISO8601") > AS_OF).sum()) for c in ("start_time", "end_time")}
    assert n["counts"] == want == {"start_time": 2, "end_time": 4}
    assert n["as_of"] == AS_OF and n["table"] == "subscriptions.csv"
    assert n["ends"] == ["end_time"]                       # default: the columns after the row's own time
    assert n["examples"]["start_time"] == "rows 6, 7: 2026-12-02 00:00:00, 2099-01-01 00:00:00"
    assert n["examples"]["end_time"].startswith("rows 3, 4, 7: 2026-12-15 00:00:00, 2099-05-01")
    # explicit ends, and nothing late: None
    assert data.after_as_of(t, ["start_time", "end_time"], AS_OF, ends=[])["ends"] == []
    assert data.after_as_of(t, ["start_time", "end_time"], pd.Timestamp("2100-01-01")) is None
    assert data.after_as_of(t, ["no_such_column"], AS_OF) is None


def test_words_of_a_subscription_table_say_a_later_end_is_still_active(subs):
    path, _ = subs
    km = survival.kaplan_meier(path, start="start_time", end="end_time", as_of=AS_OF)
    n = _late(km)
    assert n["counts"] == {"start_time": 2, "end_time": 4} and n["ends"] == ["end_time"]
    words = _words(n)
    assert words == ("subscriptions.csv: 2 rows with 'start_time' after 30 Nov 2026 00:00 (rows 6, 7: 2026-12-02 "
                     "00:00:00, 2099-01-01 00:00:00); 4 rows with 'end_time' after 30 Nov 2026 00:00 (rows 3, 4, 7: "
                     "2026-12-15 00:00:00, 2099-05-01 00:00:00, 2099-06-01 00:00:00). The analysis date is 30 Nov "
                     "2026: rows dated later are left out; a later 'end_time' has not happened by then, so the "
                     "record counts as still active or open.")


def test_words_of_survey_answers_never_speak_of_ends_or_active_records(tmp_path):
    df = pd.DataFrame({"respondent_id": range(6), "nps": [10, 9, 3, 7, 10, 0],
                       "response_time": ["2026-11-01", "2026-11-10", "2026-11-29 23:00", "2026-11-30 08:00",
                                         "2026-12-01", "2099-01-01"]})
    path = tmp_path / "responses.csv"
    df.to_csv(path, index=False)
    r = metrics.nps(path, as_of=AS_OF)
    n = _late(r)
    assert n["counts"] == {"response_time": 3} and n["ends"] == []
    words = _words(n)
    assert "3 rows with 'response_time' after 30 Nov 2026 00:00" in words and "2099-01-01" in words
    assert words.endswith("The analysis date is 30 Nov 2026: rows dated later are left out.")
    assert "active" not in words and "end" not in words.replace("after", "")
    assert int(r["n"].iloc[0]) == 3                        # the three answers up to the analysis date


def test_words_of_tickets_say_a_later_reply_has_not_happened_yet(tmp_path):
    df = pd.DataFrame({"ticket_id": range(5), "customer_id": ["a", "b", "c", "d", "e"], "channel": "email",
                       "created_at": ["2026-11-01 09:00", "2026-11-02 09:00", "2026-11-29 09:00", "2026-12-01 09:00",
                                      "2026-11-03 09:00"],
                       "first_response_at": ["2026-11-01 10:00", "2026-11-02 11:00", "2026-12-01 09:00",
                                             "2026-12-01 10:00", "2026-11-03 12:00"]})
    path = tmp_path / "tickets.csv"
    df.to_csv(path, index=False)
    d = support.durations(path, as_of=AS_OF)
    n = _late(d)
    assert n["counts"] == {"created_at": 1, "first_response_at": 2} and n["ends"] == ["first_response_at"]
    words = _words(n)
    assert "1 row with 'created_at' after 30 Nov 2026 00:00 (row 4: 2026-12-01 09:00:00)" in words
    assert "a later 'first_response_at' has not happened by then" in words and "rows dated later are left out" in words
    assert int(d["n"].sum()) == 3                          # answered by the analysis date


def test_page_notes_render_the_note_escaped_and_once(tmp_path):
    df = pd.DataFrame({"respondent_id": range(3), "nps": [10, 9, 3],
                       "response_time": ["2026-11-01", "2026-11-10", "2026-12-01"]})
    path = tmp_path / "a<b>.csv"
    df.to_csv(path, index=False)
    r = metrics.nps(path, as_of=AS_OF, name="a<b>.csv")
    html = str(present.data_notes(r, r))
    assert html.count("rows_after_as_of") == 0 and html.count("1 row with") == 1
    assert "a&lt;b&gt;.csv" in html and "<b>" not in html.replace("<strong>", "")
    assert codes(r.attrs["notes"]) == ["rows_after_as_of"]
