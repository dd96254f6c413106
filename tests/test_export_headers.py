"""A spec may name a column by the header text a user sees in the export (issue 22, item 1).

Fixtures are hand-written in the tools' real header layouts (SurveyMonkey's two header rows, Typeform's
question-text header, Qualtrics' three rows); expected values come from the raw rows written here.
"""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import sources
from cxlib.data import CXDataError

Q_NPS = "How likely is it that you would recommend Acme Cloud to a friend or colleague?"
Q_MATRIX = "How satisfied are you with each of the following?"

SURVEYMONKEY = (
    f'Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,'
    f'"{Q_NPS}","{Q_MATRIX}",,,Which plan are you on?,Which region are you in?\n'
    ',,,,,,,,,Response,Speed of reply,Reliability,Price,Response,Response\n'
    '1001,55,03/03/2025 09:19:00 AM,03/03/2025 09:21:02 AM,198.51.100.1,a@example.com,A,B,,10,4,5,2,Pro,EMEA\n'
    '1002,55,03/04/2025 09:19:00 AM,03/04/2025 09:21:02 AM,198.51.100.2,b@example.com,C,D,,3,2,1,4,Basic,AMER\n'
    '1003,55,03/05/2025 09:19:00 AM,03/05/2025 09:21:02 AM,198.51.100.3,c@example.com,E,F,,8,3,3,3,Pro,EMEA\n'
)

TYPEFORM = (
    "#,How likely are you to recommend Acme Cloud to a friend or colleague?,How would you rate our speed?,How would you rate our price?,"
    "Why did you give that score?,Response Type,Start Date (UTC),Stage Date (UTC),Submit Date (UTC),Network ID,Tags\n"
    "t1,9,4,2,Great,completed,2025-03-03 12:44:09,2025-03-03 12:46:40,2025-03-03 12:46:40,n1,\n"
    "t2,2,1,5,Slow,completed,2025-03-04 12:44:09,2025-03-04 12:46:40,2025-03-04 12:46:40,n2,\n"
)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_surveymonkey_columns_may_name_the_question_text(tmp_path):
    p = _write(tmp_path, "sm.csv", SURVEYMONKEY)
    t = sources.read({"path": p, "columns": {"nps": Q_NPS}}, kind="responses")
    assert t.execute().sort_values("respondent_id")["nps"].tolist() == [10, 3, 8]


def test_typeform_columns_may_name_the_question_text(tmp_path):
    p = _write(tmp_path, "tf.csv", TYPEFORM)
    t = sources.read({"path": p, "columns": {"nps": "How likely are you to recommend Acme Cloud to a friend or colleague?",
                                             "comment": "Why did you give that score?"}}, kind="responses")
    got = t.execute().sort_values("respondent_id")
    assert got["nps"].tolist() == [9, 2] and got["comment"].tolist() == ["Great", "Slow"]


def test_matrix_row_by_question_and_sub_label_and_drivers_by_question(tmp_path):
    p = _write(tmp_path, "sm.csv", SURVEYMONKEY)
    t = sources.read({"path": p, "columns": {"nps": Q_NPS},
                      "drivers": [Q_MATRIX], "labels": {f"{Q_MATRIX} - Price": "Price (stated)"}})
    meta = sources.metadata(t)
    assert len(meta["drivers"]) == 3  # the matrix question's text expands to all its rows
    got = t.execute().sort_values("respondent_id")
    price = next(c for c in meta["drivers"] if c.endswith("price"))
    assert got[price].tolist() == [2, 4, 3]
    assert meta["labels"][price] == "Price (stated)"
    # one row of the matrix by "Question - Row", as the layout's label shows it
    t2 = sources.read({"path": p, "drivers": [f"{Q_MATRIX} - Speed of reply"]})
    assert len(sources.metadata(t2)["drivers"]) == 1


def test_one_column_slot_naming_two_columns_is_an_error_listing_both(tmp_path):
    p = _write(tmp_path, "sm.csv", SURVEYMONKEY)
    with pytest.raises(CXDataError, match=r"matches 3 columns.*speed_of_reply.*reliability"):
        sources.read({"path": p, "columns": {"csat": Q_MATRIX}})


def test_mapping_a_contract_column_to_the_layouts_column_is_a_no_op(tmp_path):
    p = _write(tmp_path, "sm.csv", SURVEYMONKEY)
    plain = sources.read({"path": p}).execute()
    for columns in ({"respondent_id": "Respondent ID", "response_time": "End Date"}, {"nps": "nps"}):
        got = sources.read({"path": p, "columns": columns}).execute()
        pd.testing.assert_frame_equal(got.sort_index(axis=1), plain.sort_index(axis=1))


def test_personal_and_segment_by_header_text(tmp_path):
    p = _write(tmp_path, "sm.csv", SURVEYMONKEY)
    t = sources.read({"path": p, "personal": ["Which region are you in?"]})
    assert not any("region" in c for c in t.columns)


def test_currency_by_header_text(tmp_path):
    p = _write(tmp_path, "orders.csv", "Order,Order Total (USD),Date\no1,\"$1,234.50\",2025-01-01\n"
                                       "o2,$7.25,2025-01-02\n")
    t = sources.read({"path": p, "currency": ["order total usd"], "sep": ","})
    assert t.execute()["Order Total (USD)"].tolist() == [1234.5, 7.25]


def test_exact_name_wins_over_a_header_text(tmp_path):
    # a column literally called like another column's question text is taken as named
    p = _write(tmp_path, "tf.csv", TYPEFORM)
    t = sources.read({"path": p, "columns": {"nps": "How likely are you to recommend Acme Cloud to a friend or colleague?"},
                      "drivers": ["how_would_you_rate_our_speed"]})
    assert sources.metadata(t)["drivers"] == ["how_would_you_rate_our_speed"]
