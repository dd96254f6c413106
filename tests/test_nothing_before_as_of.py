"""Issue 21: a table with a header and no rows, or with every row after the analysis date.

A whole-table summary with nothing on or before ``as_of`` raises one CXDataError that says why and names
the first date; a result the page shows as a finding (a trend, a table per segment, the scorecard's
support section) is an empty frame with its usual columns and a ``nothing_before_as_of`` note. A file
with a header and no rows is one "the table is empty (no data rows)" error. Never a Python error.
Every table here is written by hand; the expected dates are read off the rows.
"""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import drivers, experiments, metrics, present, scorecard, support, themes
from cxlib.experiments import heavy_tails
from cxlib.data import CXDataError
from cxlib.notes import codes

EARLY = "2020-01-01"  # before every row below
LATER = "2026-03-01"  # after every row below

ANSWERS = [  # respondent, time, nps, csat, ces, speed, price, plan, channel, comment
    ("r1", "2025-09-03 10:00:00", 9, 5, 6, 8, 7, "basic", "email", "the reply was slow"),
    ("r2", "2025-09-05 12:30:00", 3, 2, 2, 3, 2, "pro", "chat", "too expensive for what it does"),
    ("r3", "2025-09-09 08:15:00", 10, 4, 7, 9, 6, "basic", "chat", "great app"),
    ("r4", "2025-09-12 17:45:00", 6, 3, 4, 5, 9, "pro", "email", "slow to load"),
    ("r5", "2025-09-18 09:00:00", 8, 4, 5, 7, 4, "basic", "email", "fine"),
]
FIRST_ANSWER = "3 Sep 2025"

TICKETS = [  # id, customer, channel, created, first response, resolved, reopened
    (1, "c1", "email", "2025-09-04 09:00:00", "2025-09-04 11:00:00", "2025-09-05 09:00:00", 0),
    (2, "c2", "chat", "2025-09-06 10:00:00", "2025-09-06 10:05:00", "2025-09-06 12:00:00", 1),
    (3, "c1", "email", "2025-09-08 14:00:00", "2025-09-08 20:00:00", "2025-09-09 10:00:00", 0),
]
FIRST_TICKET = "4 Sep 2025"

UNITS = [  # unit, arm, exposed, converted, revenue
    (1, "control", "2025-10-02 08:00:00", 1, 12.0), (2, "treatment", "2025-10-02 09:00:00", 0, 0.0),
    (3, "control", "2025-10-03 10:00:00", 0, 3.5), (4, "treatment", "2025-10-03 11:00:00", 1, 20.0),
    (5, "control", "2025-10-04 12:00:00", 1, 7.0), (6, "treatment", "2025-10-04 13:00:00", 1, 9.0),
]
FIRST_UNIT = "2 Oct 2025"


def _answers(tmp_path, rows=ANSWERS, file="responses.csv"):
    df = pd.DataFrame(rows, columns=["respondent_id", "response_time", "nps", "csat", "ces", "drv_speed",
                                     "drv_price", "plan", "channel", "comment"])
    path = tmp_path / file
    df.to_csv(path, index=False)
    return str(path)


def _tickets(tmp_path, rows=TICKETS, file="tickets.csv"):
    df = pd.DataFrame(rows, columns=["ticket_id", "customer_id", "channel", "created_at", "first_response_at",
                                     "resolved_at", "reopened"])
    path = tmp_path / file
    df.to_csv(path, index=False)
    return str(path)


def _units(tmp_path, rows=UNITS, file="experiment.csv"):
    df = pd.DataFrame(rows, columns=["unit_id", "variant", "exposure_time", "converted", "revenue"])
    path = tmp_path / file
    df.to_csv(path, index=False)
    return str(path)


def _says_nothing_before(exc, file, what, column, first):
    msg = str(exc.value)
    assert msg.startswith(f"{file}: no {what} on or before 1 Jan 2020 in '{column}'"), msg
    assert f"(the first is {first})" in msg and "choose a later as_of" in msg, msg
    assert "empty" not in msg  # not the message of a file without rows


def _nothing_note(result):
    found = [n for n in result.attrs["notes"] if getattr(n, "code", None) == "nothing_before_as_of"]
    assert len(found) == 1, result.attrs["notes"]
    return found[0]


# ------------------------------------------------------------------------------------------ surveys

@pytest.mark.parametrize("metric", [metrics.nps, metrics.csat, metrics.ces])
def test_overall_score_with_every_answer_after_as_of_is_one_error_naming_the_first_answer(tmp_path, metric):
    path = _answers(tmp_path)
    with pytest.raises(CXDataError) as exc:
        metric(path, as_of=EARLY)
    _says_nothing_before(exc, "responses.csv", "answers", "response_time", FIRST_ANSWER)


@pytest.mark.parametrize("call", [
    lambda p: metrics.nps(p, as_of=LATER),
    lambda p: metrics.csat(p, as_of=LATER),
    lambda p: metrics.nps(p, by="plan", as_of=LATER),
    lambda p: metrics.nps(p, period="week", as_of=LATER),
    lambda p: themes.theme_counts(p, as_of=LATER),
    lambda p: themes.theme_impact(p, as_of=LATER),
    lambda p: drivers.key_drivers(p, bootstrap=0, as_of=LATER),
    lambda p: drivers.top_two_difference(p, bootstrap=0, as_of=LATER),
], ids=["nps", "csat", "nps_by", "nps_period", "theme_counts", "theme_impact", "key_drivers", "top_two"])
def test_survey_with_a_header_and_no_rows_is_one_empty_table_error(tmp_path, call):
    path = _answers(tmp_path, rows=[], file="header_only.csv")
    with pytest.raises(CXDataError, match=r"^header_only\.csv: the table is empty \(no data rows\)\.$"):
        call(path)


@pytest.mark.parametrize("kw", [{"by": "plan"}, {"period": "week"}], ids=["by_segment", "trend"])
def test_nps_per_segment_or_period_with_every_answer_after_as_of_is_empty_with_a_note(tmp_path, kw):
    path = _answers(tmp_path)
    usual = metrics.nps(path, as_of=LATER, min_n=1, **kw)
    out = metrics.nps(path, as_of=EARLY, min_n=1, **kw)
    assert out.empty and list(out.columns) == list(usual.columns)
    n = _nothing_note(out)
    first = min(pd.Timestamp(r[1]) for r in ANSWERS)
    assert (n["table"], n["column"], n["what"]) == ("responses.csv", "response_time", "answers")
    assert n["first"] == first and n["as_of"] == pd.Timestamp("2020-01-01 23:59:59")
    words = str(present.note_text(n))
    assert "no answers on or before the analysis date (1 Jan 2020)" in words and FIRST_ANSWER in words


def test_overall_nps_of_blank_scores_on_or_before_as_of_is_a_row_with_no_answers(tmp_path):
    rows = [(r[0], r[1], None, *r[3:]) for r in ANSWERS]  # every score blank: unanswered, not an error
    out = metrics.nps(_answers(tmp_path, rows=rows), as_of=LATER)
    assert len(out) == 1 and out["n"].iloc[0] == 0 and bool(out["suppressed"].iloc[0])
    assert out[["promoters", "detractors"]].iloc[0].tolist() == [0, 0]


@pytest.mark.parametrize("call", [
    lambda p: metrics.compare_periods(p, as_of=EARLY),
    lambda p: metrics.weighted_nps(p, targets={"plan": {"basic": 0.5, "pro": 0.5}}, as_of=EARLY),
    lambda p: themes.theme_counts(p, as_of=EARLY),
    lambda p: themes.theme_impact(p, as_of=EARLY),
    lambda p: themes.trouble_word_counts(p, as_of=EARLY),
    lambda p: drivers.key_drivers(p, bootstrap=0, min_n=1, as_of=EARLY),
    lambda p: drivers.halo_counts(p, as_of=EARLY),
    lambda p: drivers.promoter_detractor_models(p, as_of=EARLY),
    lambda p: drivers.top_two_difference(p, bootstrap=0, as_of=EARLY),
], ids=["compare_periods", "weighted_nps", "theme_counts", "theme_impact", "trouble_words", "key_drivers",
        "halo_counts", "promoter_detractor", "top_two"])
def test_whole_table_survey_summaries_with_every_answer_after_as_of_say_so(tmp_path, call):
    with pytest.raises(CXDataError) as exc:
        call(_answers(tmp_path))
    _says_nothing_before(exc, "responses.csv", "answers", "response_time", FIRST_ANSWER)


def test_theme_trend_with_every_answer_after_as_of_is_empty_with_a_note(tmp_path):
    path = _answers(tmp_path)
    kw = dict(time="response_time", period="week")
    usual = themes.theme_counts(path, as_of=LATER, **kw)
    out = themes.theme_counts(path, as_of=EARLY, **kw)
    assert out.empty and list(out.columns) == list(usual.columns)
    assert _nothing_note(out)["first"] == min(pd.Timestamp(r[1]) for r in ANSWERS)
    assert "nothing_before_as_of" in codes(themes.tag_comments(path, as_of=EARLY).attrs["notes"])


# ------------------------------------------------------------------------------------------ tickets

def test_support_tables_with_every_ticket_after_as_of_are_empty_with_usual_columns_and_a_note(tmp_path):
    path = _tickets(tmp_path)
    for call in (lambda a: support.response_times(path, as_of=a, min_n=1),
                 lambda a: support.response_times(path, period="week", as_of=a, min_n=1),
                 lambda a: support.target_attainment(path, targets={"email": 4, "chat": 1}, period="week", as_of=a),
                 lambda a: support.repeat_contact_rate(path, within_days=1, as_of=a),
                 lambda a: support.reopen_rate(path, as_of=a)):
        usual, out = call(LATER), call(EARLY)
        assert not usual.empty and out.empty and list(out.columns) == list(usual.columns)
        n = _nothing_note(out)
        assert (n["column"], n["what"]) == ("created_at", "tickets")
        assert n["first"] == min(pd.Timestamp(r[3]) for r in TICKETS)
    # the scorecard's own cut of the same tickets is a finding too (its week has no tickets), not an empty file
    changes = scorecard.support_changes(path, week="2019-12-23", as_of=EARLY)
    assert changes.empty and "no_tickets_in_week" in codes(changes.attrs["notes"])


@pytest.mark.parametrize("call", [
    lambda p: support.response_times(p, by=None, as_of=EARLY),
    lambda p: support.repeat_contact_rate(p, by=None, as_of=EARLY),
    lambda p: support.reopen_rate(p, by=None, as_of=EARLY),
], ids=["response_times", "repeat_contact", "reopen"])
def test_whole_table_support_summaries_with_every_ticket_after_as_of_say_so(tmp_path, call):
    with pytest.raises(CXDataError) as exc:
        call(_tickets(tmp_path))
    _says_nothing_before(exc, "tickets.csv", "tickets", "created_at", FIRST_TICKET)


@pytest.mark.parametrize("kw", [{}, {"by": None}, {"period": "week"}], ids=["by_channel", "whole", "trend"])
def test_tickets_with_a_header_and_no_rows_are_one_empty_table_error(tmp_path, kw):
    path = _tickets(tmp_path, rows=[], file="no_tickets.csv")
    with pytest.raises(CXDataError, match=r"^no_tickets\.csv: the table is empty \(no data rows\)\.$"):
        support.response_times(path, as_of=LATER, **kw)


# ------------------------------------------------------------------------------------------ experiments

@pytest.mark.parametrize("call", [
    lambda p: experiments.compare(p, control="control", metrics={"converted": "proportion"}, as_of=EARLY),
    lambda p: experiments.cumulative(p, control="control", metric="revenue", as_of=EARLY),
    lambda p: heavy_tails.check(p, control="control", metrics={"revenue": "mean"}, as_of=EARLY),
], ids=["compare", "cumulative", "heavy_tails"])
def test_experiment_with_every_unit_exposed_after_as_of_says_so_not_that_the_file_is_empty(tmp_path, call):
    with pytest.raises(CXDataError) as exc:
        call(_units(tmp_path))
    _says_nothing_before(exc, "experiment.csv", "units exposed", "exposure_time", FIRST_UNIT)


def test_experiment_with_a_header_and_no_rows_is_the_empty_table_error_in_the_tail_check(tmp_path):
    path = _units(tmp_path, rows=[], file="no_units.csv")
    with pytest.raises(CXDataError, match=r"^no_units\.csv: the table is empty \(no data rows\)\.$"):
        heavy_tails.check(path, control="control", metrics={"revenue": "mean"}, as_of=LATER)
