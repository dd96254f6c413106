"""Reading what real exports hold, given as a plain path (issue 22; DESIGN.md "Sources").

A plain path means ``{path: ...}``: spreadsheet blank rows are skipped and counted whatever the separator,
an Excel workbook is read as its spec reads it, a known export layout is applied from its header rows, a
blank cell is shown as blank, ``cx validate`` runs the arm-spelling check ``compare`` runs and never
prints a traceback, and segment spellings have one home (:mod:`cxlib.segments`). Hand-written files;
expected numbers come from plain Python on the rows written.
"""
from __future__ import annotations

import ast
import gzip
import importlib.util
import inspect
from pathlib import Path

import pandas as pd
import pytest

from cxlib import cli, data, experiments, metrics, segments, sources
from cxlib.data import CXDataError
from cxlib.notes import codes

HEADER = ["respondent_id", "response_time", "nps", "segment"]
ROWS = [["r1", "2026-06-01 10:00:00", "10", "Retail"], ["r2", "2026-06-02 10:00:00", "0", "SMB"],
        ["r3", "2026-06-03 10:00:00", "7", "Retail"], ["r4", "2026-06-04 10:00:00", "9", "SMB"],
        ["r5", "2026-06-05 10:00:00", "", "SMB"], ["r6", "2026-06-06 10:00:00", "9", "Retail"]]


def _nps(scores) -> float:
    s = [int(x) for x in scores if x != ""]
    return 100 * (sum(x >= 9 for x in s) - sum(x <= 6 for x in s)) / len(s)


def _text(sep: str, rows, blank_at) -> str:
    """The rows as text, with a spreadsheet's all-blank line (only separators) after each index in
    ``blank_at``; lines end in CRLF as Excel writes them."""
    lines = [sep.join(HEADER)]
    for i, r in enumerate(rows):
        lines.append(sep.join(r))
        lines += [sep * (len(HEADER) - 1)] * blank_at.count(i)
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("name,sep", [("r.tsv", "\t"), ("r.csv", ","), ("r.csv", ";"), ("r.csv", "|"),
                                      ("r.txt", "\t"), ("r.tsv.gz", "\t"), ("r.csv.gz", ",")])
@pytest.mark.parametrize("blank_at", [[5, 5, 5], [1, 3]], ids=["at the end", "between records"])
def test_blank_rows_are_skipped_and_counted_on_every_plain_path(tmp_path, name, sep, blank_at):
    text = _text(sep, ROWS, blank_at)
    p = tmp_path / name
    p.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    v = data.validate(str(p), kind="responses")
    assert v.n_rows == len(ROWS)
    assert any(f"{len(blank_at)} blank rows" in n for n in v.notes)
    t = data.as_table(str(p))
    assert [(n.code, n["count"]) for n in sources.metadata(t)["notes"]] == [("blank_rows_skipped", len(blank_at))]
    got = metrics.nps(str(p), by="segment", min_n=1).set_index("segment")
    for seg in ("Retail", "SMB"):
        rows = [r for r in ROWS if r[3] == seg]
        assert got.loc[seg, "n"] == sum(r[2] != "" for r in rows)
        assert got.loc[seg, "nps"] == pytest.approx(_nps([r[2] for r in rows]))


def test_a_blank_cell_in_an_example_is_shown_as_blank_never_nat(tmp_path):
    p = tmp_path / "ev.tsv"
    p.write_text("user_id\tts\taction\nu1\t2026-06-01 10:00:00\tsignup\nu2\t\tsignup\nu3\t\tlogin\n")
    with pytest.raises(CXDataError) as err:
        data.validate(str(p), kind="events", customer="user_id", time="ts")
    msg = str(err.value)
    assert "rows 2, 3: blank, blank" in msg
    assert not any(word in msg for word in ("NaT", "NaN", "None", "<NA>"))


def test_repeated_blank_ids_are_one_data_error_not_an_engine_error(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("respondent_id,response_time,nps\nr1,2026-06-01,9\n,2026-06-02,7\n,2026-06-03,3\n")
    with pytest.raises(CXDataError) as err:
        data.validate(str(p), kind="responses")
    msg = str(err.value)
    assert "is an id and must not be blank" in msg and "blank x2" in msg and "at rows 2, 3" in msg
    assert "nan" not in msg.lower().replace("not a valid", "")


def test_cx_validate_prints_one_line_and_exits_2_on_an_engine_error(tmp_path, monkeypatch, capsys):
    import ibis.common.exceptions as ibis_exc

    p = tmp_path / "r.csv"
    p.write_text("respondent_id,response_time,nps\nr1,2026-06-01,9\n")

    def boom(*a, **k):
        raise ibis_exc.IbisTypeError("Arguments respondent_id:string and Literal(nan):float64 are not comparable")
    monkeypatch.setattr(data, "validate", boom)
    assert cli.main(["validate", str(p), "--kind", "responses"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cx validate: ") and "Traceback" not in err


# ---------------------------------------------------------------------------------------------- Excel

def _xlsx(path: Path, rows: list[list]) -> None:
    """A minimal workbook by the export fixtures' writer, '' kept as an empty text cell."""
    maker = Path(__file__).parent / "fixtures" / "make_exports.py"
    spec = importlib.util.spec_from_file_location("make_exports", maker)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.write_xlsx(path, rows, keep_empty=True)


def test_a_plain_xlsx_path_is_read_as_its_spec(tmp_path):
    rows = [["respondent_id", "response_time", "nps", "csat", "plan"],
            [1, "2026-06-01 09:00:00", "10 - Extremely likely", "Very satisfied", "Pro"],
            [2, "2026-06-02 09:00:00", 6, "Satisfied", "Pro"],
            [3, "2026-06-03 09:00:00", "N/A", "Dissatisfied", "Pro"],
            [4, "2026-06-04 09:00:00", 9, None, "Free"],
            [5, "2026-06-05 09:00:00", 2, "Very dissatisfied", "Free"],
            ["", "", "", "", ""], ["", "", "", "", ""]]
    p = tmp_path / "survey.xlsx"
    _xlsx(p, rows)
    plain = metrics.nps(str(p), by="plan", min_n=1)
    spec = metrics.nps({"path": str(p)}, by="plan", min_n=1)
    pd.testing.assert_frame_equal(plain, spec)
    assert plain.attrs.get("notes") == spec.attrs.get("notes")
    scores = {"Pro": [10, 6], "Free": [9, 2]}  # 'N/A' is unanswered; the label's number is the score
    got = plain.set_index("plan")
    for plan, s in scores.items():
        assert got.loc[plan, "n"] == len(s)
        assert got.loc[plan, "nps"] == pytest.approx(_nps(s))
    v = data.validate(str(p), kind="responses")
    assert v.n_rows == 5 and any("2 blank rows" in n for n in v.notes)
    csat = metrics.csat(str(p), min_n=1)
    assert csat["n"].iloc[0] == 4 and csat["estimate"].iloc[0] == pytest.approx(2 / 4)  # top-2-box: 5, 4 of 5,4,2,1


def test_the_unsupported_type_message_lists_what_is_accepted(tmp_path):
    p = tmp_path / "notes.pdf"
    p.write_text("x")
    with pytest.raises(CXDataError) as err:
        data.as_table(str(p))
    msg = str(err.value)
    for kind in (".csv", ".tsv", ".gz", ".xlsx", ".jsonl", ".parquet", ".duckdb"):
        assert kind in msg


def test_a_plain_json_lines_path_is_read(tmp_path):
    p = tmp_path / "r.jsonl"
    p.write_text("".join(f'{{"respondent_id": "{r[0]}", "response_time": "{r[1]}", "nps": {r[2] or "null"}}}\n'
                         for r in ROWS))
    got = metrics.nps(str(p), min_n=1)
    assert got["n"].iloc[0] == 5 and got["nps"].iloc[0] == pytest.approx(_nps([r[2] for r in ROWS]))


# ------------------------------------------------------------------------------ known export layouts

Q = "How likely is it that you would recommend Acme to a friend or colleague?"
SM = [["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", Q,
       "Overall how satisfied are you with Acme?", "Which plan are you on?"],
      ["", "", "", "", "", "", "Response", "Response", "Response"],
      ["1001", "77", "03/02/2026 09:15:02 AM", "03/02/2026 09:17:40 AM", "10.0.0.1", "a@x.com",
       "10 - Extremely likely", "Very satisfied", "Pro"],
      ["1002", "77", "03/03/2026 01:05:11 PM", "03/03/2026 01:09:00 PM", "10.0.0.2", "b@x.com", "7", "Satisfied",
       "Pro"],
      ["1003", "77", "03/04/2026 11:00:00 PM", "03/05/2026 12:01:30 AM", "10.0.0.3", "c@x.com",
       "0 - Not at all likely", "Very dissatisfied", "Free"],
      ["1004", "77", "03/05/2026 08:00:00 AM", "03/05/2026 08:03:00 AM", "10.0.0.4", "d@x.com", "9", "Satisfied",
       "Free"],
      ["1005", "77", "03/06/2026 08:00:00 AM", "03/06/2026 08:03:00 AM", "10.0.0.5", "e@x.com", "", "Satisfied",
       "Free"]]


def _csv(rows) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["sm.csv", "sm.csv.gz", "sm.xlsx"])
def test_a_known_export_given_as_a_plain_path_is_read_with_its_layout(tmp_path, name):
    p = tmp_path / name
    if name.endswith(".xlsx"):
        _xlsx(p, SM)
    else:
        p.write_bytes(gzip.compress(_csv(SM).encode()) if name.endswith(".gz") else _csv(SM).encode())
    t = data.as_table(str(p))
    assert sources.metadata(t)["layout"] == "surveymonkey"
    assert "Email Address" not in t.columns and not any(c.startswith("column") for c in t.columns)
    got = metrics.nps(str(p), min_n=1)
    scores = [r[6].split(" ")[0] for r in SM[2:]]
    assert got["n"].iloc[0] == 4 and got["nps"].iloc[0] == pytest.approx(_nps(scores))
    pd.testing.assert_frame_equal(got, metrics.nps({"path": str(p)}, min_n=1))
    by = metrics.nps(str(p), by="Which plan are you on?", min_n=1).set_index("which_plan_are_you_on")
    assert by.loc["Pro", "nps"] == pytest.approx(_nps(["10", "7"]))
    assert data.validate(str(p), kind="responses").n_rows == 5
    assert cli.main(["validate", str(p), "--kind", "responses"]) == 0


def test_layout_detection_reads_only_the_first_lines(tmp_path, monkeypatch):
    """A big plain export stays on the engine's reader, and finding that out reads only its head."""
    p = tmp_path / "big.csv.gz"
    line = "r{},2026-06-01 10:00:00,{},Retail\n"
    p.write_bytes(gzip.compress(("respondent_id,response_time,nps,segment\n" +
                                 "".join(line.format(i, i % 11) for i in range(200_000))).encode()))
    read = []
    real = gzip.open

    class Counting:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            out = self.fh.read(n)
            read.append(len(out))
            return out

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.fh.close()

    monkeypatch.setattr(gzip, "open", lambda *a, **k: Counting(real(*a, **k)))
    assert sources.plain_spec(str(p)) is None and sources.detect_layout(str(p)) is None
    assert 0 < sum(read) < 1_000_000  # of 7 MB
    monkeypatch.undo()
    assert data._source_of(data.as_table(str(p))).kind == "csv"  # the engine's fast reader


# ------------------------------------------------------------------------------ one check, one home

def test_cx_validate_runs_the_arm_spelling_check_compare_runs(tmp_path, capsys):
    p = tmp_path / "exp.csv"
    p.write_text("unit_id,variant,converted\nu1,Control,1\nu2,control,0\nu3,Treatment,1\nu4,Treatment,0\n"
                 "u5,Control,0\nu6,treatment ,1\n")
    with pytest.raises(CXDataError) as by_compare:
        experiments.compare(str(p), control="Control", metrics=["converted"])
    with pytest.raises(CXDataError) as by_validate:
        data.validate(str(p), kind="experiment")
    assert str(by_validate.value) == str(by_compare.value)
    assert "'Control' and 'control'" in str(by_validate.value)
    assert cli.main(["validate", str(p), "--kind", "experiment"]) == 2
    err = capsys.readouterr().err
    assert "'Control' and 'control'" in err and "Traceback" not in err
    ok = tmp_path / "ok.csv"  # 'treatment ' is 'Treatment' trimmed, as compare reads it: valid
    ok.write_text("unit_id,variant,converted\nu1,Control,1\nu2,Treatment,0\nu3,Treatment ,1\n")
    assert cli.main(["validate", str(ok), "--kind", "experiment"]) == 0


def test_segment_spellings_have_one_home(tmp_path):
    p = tmp_path / "seg.csv"
    p.write_text("respondent_id,nps,region,email\na,9,EMEA ,a@x.com\nb,3,emea,b@x.com\nc,10,EMEA,c@x.com\n")
    t = data.as_table(str(p))
    # the contract's check refuses personal columns and leaves values as they are
    assert data.check_segments(t, "region").execute()["region"].tolist() == ["EMEA ", "emea", "EMEA"]
    with pytest.raises(CXDataError, match="'email' is personal data"):
        data.check_segments(t, "email")
    with pytest.raises(CXDataError, match="'email' is personal data"):
        segments.prepare(t, "email")
    notes: list = []
    merged, by = segments.prepare(t, "region", notes=notes)
    assert by == ["region"] and sorted(merged.execute()["region"]) == ["EMEA"] * 3
    assert codes(notes) == ["segment_case_merged"]
    # data sits below segments: no module of the data package imports it, not even inside a function
    # (names imported from a module count as modules too: `from cxlib import segments`)
    for path in sorted(Path(data.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                     for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(m == "cxlib.segments" or m.startswith("cxlib.segments.") for m in imported), path.name
    assert ".lower()" not in inspect.getsource(data.check_segments)
