"""Spreadsheet quirks read the way an analyst would (issue 22, items 2 and 3).

Each file is hand-written here; expected values are computed by hand or in plain pandas on the rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import data, experiments, metrics, segments, sources
from cxlib.data import CXDataError
from cxlib.notes import codes

LABELS = ("respondent_id,response_time,nps,csat\n"
          "r1,2025-01-01,10 - Extremely likely,Very satisfied\n"
          "r2,2025-01-02,0 - Not at all likely,Dissatisfied\n"
          "r3,2025-01-03,7,Neither satisfied nor dissatisfied\n")


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


@pytest.mark.parametrize("form", ["plain", "columns_only", "reader_option"])
def test_survey_labels_read_as_numbers_on_every_read_path(tmp_path, form):
    p = _write(tmp_path, "labels.csv", LABELS)
    source = {"plain": p, "columns_only": {"path": p, "columns": {"nps": "nps"}},
              "reader_option": {"path": p, "sep": ","}}[form]
    got = data.validate(source, kind="responses").table.execute().sort_values("respondent_id")
    assert got["nps"].tolist() == [10, 0, 7]
    assert got["csat"].tolist() == [5, 2, 3]
    # an analysis on the plain path reads them too: NPS of 10, 0, 7 = 1/3 - 1/3
    assert metrics.nps(source if form != "reader_option" else p, min_n=1)["nps"].iloc[0] == pytest.approx(0.0)


def test_unknown_labels_still_fail_naming_column_and_rows(tmp_path):
    p = _write(tmp_path, "bad.csv", "respondent_id,response_time,nps\nr1,2025-01-01,9\nr2,2025-01-02,maybe\n")
    with pytest.raises(CXDataError, match=r"'nps'.*row 2: 'maybe'"):
        data.validate(p, kind="responses")


def test_date_in_two_formats_gets_rows_and_the_fixing_option_not_engine_text(tmp_path):
    p = _write(tmp_path, "dates.csv", "respondent_id,response_time,nps\nr1,2025-10-03,9\nr2,03.10.2025,7\n"
                                      "r3,2025-10-05,8\n")
    with pytest.raises(CXDataError) as exc:
        data.validate(p, kind="responses")
    msg = str(exc.value)
    assert "03.10.2025" in msg and "date_format: '%d.%m.%Y'" in msg
    assert "CSV Error" not in msg and "Could not convert" not in msg
    # the option named reads the file
    t = sources.read({"path": p, "date_format": "%d.%m.%Y"}, kind="responses")
    assert t.execute().sort_values("respondent_id")["response_time"].dt.day.tolist() == [3, 3, 5]


def test_segment_values_trimmed_and_case_merged_with_a_note(tmp_path):
    rows = [("a", 9, "EMEA"), ("b", 10, "EMEA "), ("c", 3, "emea"), ("d", 7, " AMER"), ("e", 1, "AMER"),
            ("f", 9, "EMEA"), ("g", 9, "Amer")]
    p = _write(tmp_path, "seg.csv", "respondent_id,nps,region\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    got = metrics.nps(p, by="region", min_n=1).set_index("region")
    raw = pd.DataFrame(rows, columns=["id", "nps", "region"])
    raw["region"] = raw["region"].str.strip().str.upper()
    assert sorted(got.index) == ["AMER", "EMEA"]  # EMEA is the most frequent spelling of emea
    for region, g in raw.groupby("region"):
        assert got.loc[region, "n"] == len(g)
        assert got.loc[region, "nps"] == pytest.approx(100 * ((g.nps >= 9).mean() - (g.nps <= 6).mean()))
    notes: list = []
    t, by = segments.prepare(data.as_table(p), "region", notes=notes)  # the one home of the rule
    assert by == ["region"]
    assert codes(notes) == ["segment_case_merged", "segment_case_merged"]
    merged = {n["value"]: n["variants"] for n in notes}
    assert merged == {"AMER": ["AMER", "Amer"], "EMEA": ["EMEA", "emea"]}
    assert sorted(t.execute()["region"].unique()) == ["AMER", "EMEA"]


def test_variant_names_differing_only_by_case_are_an_error_naming_both():
    df = pd.DataFrame({"unit_id": range(8), "variant": ["Control", "control", "treatment", "treatment"] * 2,
                       "m": np.arange(8.0)})
    with pytest.raises(CXDataError, match=r"'Control' and 'control'"):
        experiments.compare(df, control="Control", metrics={"m": "mean"})


@pytest.mark.parametrize("spec", [False, True])
def test_headers_differing_only_by_case_are_an_error_naming_both(tmp_path, spec):
    p = _write(tmp_path, "case.csv", "respondent_id,response_time,NPS,nps\nr1,2025-10-03,9,8\n")
    with pytest.raises(CXDataError, match=r"'NPS' and 'nps'"):
        data.validate({"path": p, "sep": ","} if spec else p, kind="responses")
    with pytest.raises(CXDataError, match=r"'NPS' and 'nps'"):
        data.as_table(pd.DataFrame({"NPS": [1], "nps": [2]}))


@pytest.mark.parametrize("form", ["plain", "spec"])
def test_blank_rows_at_the_end_are_skipped_and_counted(tmp_path, form):
    p = _write(tmp_path, "blank.csv", "respondent_id,response_time,nps\nr1,2025-10-03,9\nr2,2025-10-04,7\n"
                                      ",,\n,,\n,,\n")
    source = p if form == "plain" else {"path": p, "sep": ","}
    v = data.validate(source, kind="responses")
    assert v.n_rows == 2
    assert any("3 blank rows" in n for n in v.notes)
    notes = sources.metadata(sources.read(source)).get("notes")
    assert [n["count"] for n in notes if getattr(n, "code", "") == "blank_rows_skipped"] == [3]


def test_excel_style_object_column_with_na_strings_reads_as_numbers():
    frame = pd.DataFrame({"respondent_id": ["a", "b", "c", "d"],
                          "response_time": pd.to_datetime(["2025-01-01"] * 4),
                          "nps": pd.Series([9, "N/A", 3, 10], dtype=object),
                          "drv_speed": pd.Series([4.5, "n/a", "", 2], dtype=object)})
    before = frame.copy()
    got = data.validate(frame, kind="responses").table.execute()
    assert got["nps"].tolist()[0] == 9 and pd.isna(got["nps"].iloc[1]) and got["nps"].iloc[3] == 10
    assert got["drv_speed"].isna().tolist() == [False, True, True, False]
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not changed


def test_excel_style_object_column_with_other_text_names_column_and_rows():
    frame = pd.DataFrame({"respondent_id": ["a", "b", "c"], "response_time": pd.to_datetime(["2025-01-01"] * 3),
                          "nps": [9, 8, 7], "drv_speed": pd.Series([4, "N/A", "fast"], dtype=object)})
    with pytest.raises(CXDataError, match=r"column 'drv_speed' should hold numbers.*row 3: 'fast'"):
        data.validate(frame, kind="responses")
