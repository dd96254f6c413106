"""Labels a survey tool exports for a rating scale, and what is not one (issue 22).

A label is a scale's number, a separator and words ("10 - Extremely likely", "1 = Not at all") or an
answer word of one ordered list ("Very satisfied"); a range ("10-50", "1-9"), a date, a phone number or
"5-star" is not. A column is read as ratings only when every value is a number or a label of one scale
inside that scale; otherwise it stays text, untouched, and a layout never guesses it as a driver.
Fixtures are hand-written in each tool's real header layout; expected values are written by hand.
"""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import data, metrics, sources
from cxlib.data import CXDataError


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def _rows(t):
    return t.execute().sort_values("respondent_id").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Typeform: one header row, question texts as column names

TYPEFORM_MIN = ("#,How likely are you to recommend us?,Rate this,Rate this,company_size,Submit Date (UTC),Network ID\n"
                "t1,9,4,5,10-50,2026-04-01 10:03:00,n1\n"
                "t2,3,2,3,1-9,2026-04-02 10:04:00,n2\n"
                "t3,10,5,4,10-50,2026-04-04 10:02:00,n3\n")


def test_typeform_range_column_stays_text_and_repeated_question_is_a_driver(tmp_path):
    p = _write(tmp_path, "tf_min.csv", TYPEFORM_MIN)
    t = sources.read({"path": p}, kind="responses")
    meta = sources.metadata(t)
    assert meta["drivers"] == ["rate_this", "rate_this_2"]
    assert meta["labels"]["rate_this_2"] == "Rate this"
    got = _rows(t)
    assert got["company_size"].tolist() == ["10-50", "1-9", "10-50"]
    assert got["rate_this"].tolist() == [4, 2, 5] and got["rate_this_2"].tolist() == [5, 3, 4]
    # NPS by the range, by hand: 1-9 -> one detractor (-100); 10-50 -> two promoters (+100)
    res = metrics.nps({"path": p}, by="company_size", min_n=1).set_index("company_size")
    assert sorted(res.index) == ["1-9", "10-50"]
    assert res.loc["1-9", "nps"] == pytest.approx(-100.0) and res.loc["1-9", "n"] == 1
    assert res.loc["10-50", "nps"] == pytest.approx(100.0) and res.loc["10-50", "n"] == 2


TYPEFORM_NOT_RATINGS = (
    "#,How likely are you to recommend us?,Speed,Quality,Hotel class,Signed up on,Phone,Seats,Would you buy again?,"
    "Response Type,Start Date (UTC),Stage Date (UTC),Submit Date (UTC),Network ID,Tags\n"
    "t1,9,4,5,5-star,2026-04-01,555-1234,12,1,completed,2026-04-01 10:00:00,2026-04-01 10:03:00,2026-04-01 10:03:00,n1,\n"
    "t2,3,2,3,4-star,2026-03-02,555-9876,40,0,completed,2026-04-02 10:00:00,2026-04-02 10:04:00,2026-04-02 10:04:00,n2,\n"
    "t3,10,5,4,3-star,2026-02-04,555-0000,3,1,completed,2026-04-04 10:00:00,2026-04-04 10:02:00,2026-04-04 10:02:00,n3,\n")


def test_typeform_drivers_are_rating_columns_only(tmp_path):
    # "5-star", dates, phone numbers, counts beyond 0-10 and yes/no (1/0) are not ratings
    p = _write(tmp_path, "tf.csv", TYPEFORM_NOT_RATINGS)
    t = sources.read({"path": p}, kind="responses")
    assert sources.metadata(t)["drivers"] == ["speed", "quality"]
    got = _rows(t)
    assert got["hotel_class"].tolist() == ["5-star", "4-star", "3-star"]
    assert got["speed"].tolist() == [4, 2, 5] and got["nps"].tolist() == [9, 3, 10]


# --------------------------------------------------------------------------------------------------
# Qualtrics: three header rows (ids, question texts, ImportId JSON), choice text values

def _qualtrics(rows):
    ids = ["StartDate", "EndDate", "Status", "Finished", "RecordedDate", "ResponseId",
           "Q1", "Q2_1", "Q2_2", "Q3_1", "Q3_2", "Q3_3", "Q4"]
    texts = ["Start Date", "End Date", "Response Type", "Finished", "Recorded Date", "Response ID",
             "How likely are you to recommend Acme to a friend or colleague?",
             "How many people work in each team? - Sales", "How many people work in each team? - Support",
             "How satisfied are you with each? - Speed", "How satisfied are you with each? - Price",
             "How satisfied are you with each? - Other (please specify)", "How many employees does your company have?"]
    imports = ['"{""ImportId"":""startDate"",""timeZone"":""UTC""}"', '"{""ImportId"":""endDate"",""timeZone"":""UTC""}"',
               '"{""ImportId"":""status""}"', '"{""ImportId"":""finished""}"',
               '"{""ImportId"":""recordedDate"",""timeZone"":""UTC""}"', '"{""ImportId"":""_recordId""}"',
               '"{""ImportId"":""QID1""}"', '"{""ImportId"":""QID2_1""}"', '"{""ImportId"":""QID2_2""}"',
               '"{""ImportId"":""QID3_1""}"', '"{""ImportId"":""QID3_2""}"', '"{""ImportId"":""QID3_3_TEXT""}"',
               '"{""ImportId"":""QID4""}"']
    head = [",".join(ids), ",".join(texts), ",".join(imports)]
    return "\n".join(head + [",".join(r) for r in rows]) + "\n"


QUALTRICS_ROWS = [
    ["2026-04-01 10:00:00", "2026-04-01 10:05:00", "IP Address", "True", "2026-04-01 10:05:00", "R_1",
     "10 - Extremely likely", "10-50", "1-9", "5 - Very satisfied", "4", "Nothing", "10-50"],
    ["2026-04-02 10:00:00", "2026-04-02 10:05:00", "IP Address", "True", "2026-04-02 10:05:00", "R_2",
     "0 - Not at all likely", "1-9", "10-50", "1 - Very dissatisfied", "2", "", "1-9"],
    ["2026-04-03 10:00:00", "2026-04-03 10:05:00", "IP Address", "True", "2026-04-03 10:05:00", "R_3",
     "8", "51-200", "10-50", "3", "5 - Very satisfied", "Support", "51-200"],
]


def test_qualtrics_choice_text_labels_are_numbers_and_ranges_stay_text(tmp_path):
    p = _write(tmp_path, "q.csv", _qualtrics(QUALTRICS_ROWS))
    t = sources.read({"path": p}, kind="responses")
    meta = sources.metadata(t)
    assert meta["layout"] == "qualtrics"
    # the range matrix (Q2) is text; the rating matrix's rating rows are the drivers, its text row is not
    assert meta["drivers"] == ["Q3_1", "Q3_2"]
    got = _rows(t)
    assert got["nps"].tolist() == [10, 0, 8]
    assert got["Q3_1"].tolist() == [5, 1, 3] and got["Q3_2"].tolist() == [4, 2, 5]
    assert got["Q2_1"].tolist() == ["10-50", "1-9", "51-200"]
    assert got["Q4"].tolist() == ["10-50", "1-9", "51-200"]


def test_a_score_mapped_to_a_range_column_is_an_error_not_its_first_number(tmp_path):
    p = _write(tmp_path, "q.csv", _qualtrics(QUALTRICS_ROWS))
    with pytest.raises(CXDataError, match=r"Q4.*10-50"):
        sources.read({"path": p, "columns": {"nps": "Q4"}}, kind="responses").execute()


# --------------------------------------------------------------------------------------------------
# SurveyMonkey: two header rows (question over its first column, sub-labels below)

SM_HEAD = ("Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,"
           "How likely is it that you would recommend Acme to a friend or colleague?,"
           "How many staff are in each office?,,"
           "How satisfied are you with Acme in each of these areas?,,,"
           "How many employees does your company have?\n"
           ",,,,,,,,,Response,Berlin,Paris,Speed of reply,Reliability,Value for money,Response\n")
SM_ROWS = [
    "101,9001,04/01/2026 09:00:00 AM,04/01/2026 09:05:00 AM,198.51.100.1,a@example.com,A,B,,10,10-50,1-9,"
    "Very satisfied,Neutral,Satisfied,10-50",
    "102,9001,04/02/2026 09:00:00 AM,04/02/2026 09:05:00 AM,198.51.100.2,c@example.com,C,D,,6,1-9,10-50,"
    "Dissatisfied,Very dissatisfied,Neutral,1-9",
    "103,9001,04/03/2026 09:00:00 AM,04/03/2026 09:05:00 AM,198.51.100.3,e@example.com,E,F,,9,51-200,10-50,"
    "Neutral,Satisfied,Very satisfied,51-200",
]


def test_surveymonkey_likert_words_are_drivers_and_range_matrix_is_text(tmp_path):
    p = _write(tmp_path, "sm.csv", SM_HEAD + "\n".join(SM_ROWS) + "\n")
    t = sources.read({"path": p}, kind="responses")
    meta = sources.metadata(t)
    assert meta["layout"] == "surveymonkey"
    q = "how_satisfied_are_you_with_acme_in_each"
    assert meta["drivers"] == [f"{q}_speed_of_reply", f"{q}_reliability", f"{q}_value_for_money"]
    got = _rows(t)
    # by hand: Very dissatisfied 1, Dissatisfied 2, Neutral 3, Satisfied 4, Very satisfied 5
    assert got[f"{q}_speed_of_reply"].tolist() == [5, 2, 3]
    assert got[f"{q}_reliability"].tolist() == [3, 1, 4]
    assert got[f"{q}_value_for_money"].tolist() == [4, 3, 5]
    assert got["how_many_staff_are_in_each_office_berlin"].tolist() == ["10-50", "1-9", "51-200"]
    assert got["how_many_employees_does_your_company_have"].tolist() == ["10-50", "1-9", "51-200"]


def test_surveymonkey_matrix_mixing_two_scales_is_not_a_driver(tmp_path):
    # "Very satisfied" (1-5 words) beside "Excellent" (another list) and a 0-10 number: no one scale
    rows = [r.replace("Very satisfied,Neutral,Satisfied", "Very satisfied,Excellent,9") for r in SM_ROWS]
    rows = [r.replace("Dissatisfied,Very dissatisfied,Neutral", "Dissatisfied,Good,10") for r in rows]
    rows = [r.replace("Neutral,Satisfied,Very satisfied", "Neutral,Satisfied,Very satisfied") for r in rows]
    p = _write(tmp_path, "sm.csv", SM_HEAD + "\n".join(rows) + "\n")
    t = sources.read({"path": p}, kind="responses")
    assert sources.metadata(t)["drivers"] == []
    got = _rows(t)
    q = "how_satisfied_are_you_with_acme_in_each"
    assert got[f"{q}_reliability"].tolist() == ["Excellent", "Good", "Satisfied"]


# ------------------------------------------------------------------------------------------------
# a score column given explicitly: labels of one scale read as their numbers, anything else is one
# error naming the column; the same rule on the layout path (cxlib.sources.parse) and on the plain path
# (cxlib.data.clean_numeric(ratings=True), which must call parse.LABEL_PATTERN / parse.likert_scale)

def _read_scores(tmp_path, values, form, role="nps"):
    if form == "typeform":
        body = "".join(f"t{i},{v},2026-04-0{i + 1} 10:00:00,n{i}\n" for i, v in enumerate(values))
        p = _write(tmp_path, "tf.csv", "#,Score question,Submit Date (UTC),Network ID\n" + body)
        return _rows(sources.read({"path": p, "columns": {role: "Score question"}}, kind="responses"))[role]
    nps = "" if role == "nps" else "8,"  # the plain path needs a score beside a csat column
    body = "".join(f"r{i},2026-04-0{i + 1},{nps}{v}\n" for i, v in enumerate(values))
    p = _write(tmp_path, "plain.csv", f"respondent_id,response_time,{'' if role == 'nps' else 'nps,'}{role}\n" + body)
    got = data.validate(p, kind="responses").table.execute().sort_values("respondent_id")
    return got[role].reset_index(drop=True)


@pytest.mark.parametrize("form", ["typeform", "plain"])
@pytest.mark.parametrize("values, expected", [
    (["10 - Extremely likely", "0 - Not at all likely", "7", ""], [10, 0, 7, None]),
    (["1 = Not at all", "10 = Extremely", "5", "6"], [1, 10, 5, 6]),
    (["10: Extremely likely", "3", "9) Very likely", "0 \u2013 Not at all likely"], [10, 3, 9, 0]),
])
def test_score_labels_of_a_0_10_scale_read_as_their_numbers(tmp_path, values, expected, form):
    got = _read_scores(tmp_path, values, form)
    assert [None if pd.isna(v) else v for v in got] == expected


NOT_ONE_SCALE = [
    ["10 - Extremely likely", "Very satisfied", "5"],   # a 0-10 label beside a 1-5 word
    ["Very satisfied", "9", "Satisfied"],               # 9 is outside the words' 1-5 scale
    ["10-50", "1-9", "10-50"],                          # ranges
    ["5-star", "4-star", "3-star"],                     # a compound word, not a label
    ["2026-04-01", "2026-04-02", "2026-04-03"],         # dates
    ["555-1234", "555-9876", "555-0000"],               # phone numbers
]


@pytest.mark.parametrize("values", NOT_ONE_SCALE + [["15 - Extremely likely", "3", "4"]])
def test_score_column_that_is_not_one_scale_is_an_error_naming_it(tmp_path, values):
    with pytest.raises(CXDataError, match=r"column 'score_question'"):
        _read_scores(tmp_path, values, "typeform")


@pytest.mark.parametrize("values", list(NOT_ONE_SCALE[:4]) +
                         [NOT_ONE_SCALE[4], NOT_ONE_SCALE[5], ["15 - Extremely likely", "3", "4"]])
def test_plain_score_column_that_is_not_one_scale_is_an_error_naming_it(tmp_path, values):
    with pytest.raises(CXDataError, match=r"nps"):
        _read_scores(tmp_path, values, "plain")


@pytest.mark.parametrize("form", ["typeform", "plain"])
def test_csat_labels_of_a_1_5_scale_read_as_their_numbers(tmp_path, form):
    # number labels, a bare number and answer words ("Neutral": the middle point), all of one 1-5 scale
    values = ["1 - Very dissatisfied", "5 - Very satisfied", "3", "Neutral", "Somewhat satisfied"]
    assert _read_scores(tmp_path, values, form, role="csat").tolist() == [1, 5, 3, 3, 4]
