"""The words of the pages where data is thin or unusual.

Scorecard: a score the survey has no column for is "not measured" (say how to add it), even in a week
without answers; a week without answers is said once in "About the data" however many results note it.
Qualtrics: rows a layout dropped on reading (unfinished responses) do not shift the row numbers notes
give; example times are shown as the export has them (its own zone, named); counts agree with nouns.
Hand-written rows throughout.
"""
from __future__ import annotations

import csv
import html
import re

import pandas as pd
import pytest

from cxlib import metrics, present, scorecard, sources
from cxlib.data import CXDataError

AS_OF = "2026-12-06 23:59:59"           # the last complete week is 30 Nov - 6 Dec ...
EMPTY = "30 Nov 2026"                   # ... and nobody answered in it
LAST = pd.Timestamp("2026-11-23")       # the last week with answers


def _plain(t) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", str(t),
                                                                            flags=re.S))))


def _survey(tmp_path):
    """Four weeks of NPS and CSAT answers (no CES column), none in the week of 30 Nov."""
    rows = []
    for w, week in enumerate(pd.date_range("2026-11-02", LAST, freq="7D")):
        for k in range(36):
            rows.append({"respondent_id": f"r{w}_{k}", "response_time": str(week + pd.Timedelta(hours=3 + 4 * k)),
                         "nps": (k * 7 + w) % 11, "csat": 1 + (k + w) % 5, "channel": "chat" if k % 2 else "email"})
    df = pd.DataFrame(rows)
    path = tmp_path / "survey.csv"
    df.to_csv(path, index=False)
    return path, df


def test_scorecard_tile_for_a_score_without_a_column_says_the_column_is_missing_even_in_an_empty_week(tmp_path):
    path, _ = _survey(tmp_path)
    head = scorecard.headline(path, csat="csat", ces=None, as_of=AS_OF)
    tiles = _plain(present.scorecard_figures(head, min_n=30))
    ces = tiles[tiles.index("CES"):]
    assert "Not measured" in ces and "no CES column" in ces and "add a ces column" in ces
    assert "No CES answers" not in tiles                     # CES was never collected: not an empty week
    # the scores the survey has still say their week is empty
    assert f"No NPS answers in the week of {EMPTY}" in tiles
    assert f"No CSAT answers in the week of {EMPTY}" in tiles
    assert head.attrs["scores"] == ["nps", "csat"]


def test_a_week_without_answers_is_said_once_in_about_the_data(tmp_path):
    path, df = _survey(tmp_path)
    head = scorecard.headline(path, csat="csat", ces=None, as_of=AS_OF)
    trends = scorecard.weekly_trends(path, csat="csat", ces=None, as_of=AS_OF)
    seg = scorecard.segment_table(path, week="2026-11-30", by=["channel"], as_of=AS_OF)
    about = _plain(present.data_notes(head, trends, seg))
    assert about.count(f"No NPS answers in the week of {EMPTY}") == 1
    assert about.count(f"No CSAT answers in the week of {EMPTY}") == 1
    # the one sentence kept is the full one: the last week with answers and its NPS (pandas by hand)
    last = df[pd.to_datetime(df["response_time"]) >= LAST]["nps"]
    nps = 100 * ((last >= 9).mean() - (last <= 6).mean())
    assert f"the last week with answers was that of 23 Nov 2026: NPS {nps:+.1f}".replace("-", "−") in about
    assert f"n = {len(last)}" in about
    # the segment section itself says the week and no more (the figure is in the headline above it)
    assert _plain(present.segment_answer(seg)).strip() == f"No NPS answers in the week of {EMPTY}."


def test_the_last_week_figure_names_the_level_of_its_interval(tmp_path):
    path, _ = _survey(tmp_path)
    head = scorecard.headline(path, csat=None, ces=None, as_of=AS_OF, alpha=0.10)
    words = _plain(present.data_notes(head))
    assert "(90% CI" in words and "95% CI" not in words


# ------------------------------------------------------------------------------------------ Qualtrics

_H1 = ["StartDate", "EndDate", "Status", "Progress", "Finished", "RecordedDate", "ResponseId", "Q1", "Q2"]
_H2 = ["Start Date", "End Date", "Response Type", "Progress", "Finished", "Recorded Date", "Response ID",
       "How likely are you to recommend us?", "Why?"]
_H3 = ['{"ImportId":"startDate","timeZone":"America/New_York"}', '{"ImportId":"endDate","timeZone":"America/New_York"}',
       '{"ImportId":"status"}', '{"ImportId":"progress"}', '{"ImportId":"finished"}',
       '{"ImportId":"recordedDate","timeZone":"America/New_York"}', '{"ImportId":"_recordId"}',
       '{"ImportId":"QID1"}', '{"ImportId":"QID2_TEXT"}']


def _qualtrics(tmp_path, rows):
    path = tmp_path / "export.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerows([_H1, _H2, _H3])
        for i, (when, finished, score) in enumerate(rows):
            w.writerow([when, when, "IP Address", "100" if finished else "40", "True" if finished else "False", when,
                        f"R_{i}", score, "ok"])
    return path


def _rows(partials: int = 1):
    """Data rows 1-3 finished; then ``partials`` unfinished rows without a score; then a row dated 2099
    (data row 4 + partials, file line 7 + partials) and one more finished row."""
    rows = [("2026-11-02 09:00:00", True, "9"), ("2026-11-03 09:00:00", True, "3"), ("2026-11-04 09:00:00", True, "10")]
    rows += [("2026-11-05 09:00:00", False, "")] * partials
    rows += [("2099-02-12 10:04:00", True, "0"), ("2026-11-06 09:00:00", False, "7")]
    return rows


def test_rows_after_the_analysis_date_are_numbered_as_in_the_file_after_partial_responses_are_dropped(tmp_path):
    path = _qualtrics(tmp_path, _rows(partials=2))
    t = sources.read({"path": str(path)}, kind="responses")
    assert metrics.nps(t).shape[0] == 1                        # the read works as before
    words = _plain(present.data_notes(metrics.nps(t, as_of="2026-12-01")))
    # the late response is the 6th data row of the file (two unfinished rows before it were dropped)
    assert "(row 6:" in words and "row 4" not in words
    # shown as the export has it (New York time), with the zone said, not as the UTC clock it is kept on
    assert "2099-02-12 10:04:00 America/New_York" in words and "15:04" not in words
    # on the reporting clock of the export's own zone the time is as the file has it, no zone needed
    local = _plain(present.data_notes(metrics.nps(t, as_of="2026-12-01", period="week", tz="America/New_York")))
    assert "(row 6: 2099-02-12 10:04:00)" in local
    # a table filtered after reading no longer has the rows read: numbered as the table given, not guessed
    kept = t.filter(t["nps"] != 3)
    assert "(row 3:" in _plain(present.data_notes(metrics.nps(kept, as_of="2026-12-01")))


def test_a_bad_value_after_dropped_rows_is_named_by_its_row_in_the_file(tmp_path):
    rows = _rows(partials=1)
    rows[-1] = ("2026-11-06 09:00:00", True, "11")             # data row 6: a score outside 0..10
    path = _qualtrics(tmp_path, rows)
    t = sources.read({"path": str(path), "columns": {"nps": "Q1"}}, kind="responses")
    with pytest.raises(CXDataError, match=r"outside 0\.\.10 \(row 6: 11\)"):
        metrics.nps(t)


@pytest.mark.parametrize("partials, dropped", [(1, "1 partial response without a score dropped"),
                                               (2, "2 partial responses without a score dropped")])
def test_qualtrics_partial_response_counts_agree_with_their_nouns(tmp_path, partials, dropped):
    path = _qualtrics(tmp_path, _rows(partials=partials))
    said = " ".join(map(str, sources.metadata(sources.read({"path": str(path)}, kind="responses"))["notes"]))
    assert dropped in said
    assert "1 partial response with a score kept" in said     # the last row: unfinished, with a score
    assert "1 partial responses" not in said


def test_typeform_partial_response_count_agrees_with_its_noun(tmp_path):
    """One unfinished Typeform answer without a score: '1 partial response', never '1 partial responses'."""
    from cxlib import sources

    p = tmp_path / "tf.csv"
    p.write_text("#,How likely are you to recommend us?,Start Date (UTC),Submit Date (UTC),Network ID\n"
                 "a1,9,2026-04-01 10:00:00,2026-04-01 10:03:00,n1\n"
                 "a2,,2026-04-02 10:00:00,,n2\n"
                 "a3,7,2026-04-03 10:00:00,2026-04-03 10:02:00,n3\n")
    notes = " ".join(map(str, sources.metadata(sources.read({"path": str(p), "layout": "typeform"},
                                                            kind="responses"))["notes"]))
    assert "1 partial response without a score dropped" in notes
