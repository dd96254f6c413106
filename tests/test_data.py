"""cxlib.data: sources, column checks and validation rules, each fed a bad file."""
from __future__ import annotations

import hashlib

import duckdb
import ibis
import pandas as pd
import pytest

from cxlib import data
from cxlib.data import CXDataError


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


GOOD_RESPONSES = (
    "respondent_id,response_time,nps,csat,ces,drv_speed,drv_price,comment,email\n"
    "R1,2026-03-01 10:00:00,9,5,6,8,7,great,a@example.com\n"
    "R2,2026-03-02 11:00:00,3,2,2,N/A,4,slow,b@example.com\n"
    "R3,2026-03-03 12:00:00,7,4,5,,6,,c@example.com\n"
)


# ---------------------------------------------------------------------------------------- sources

def test_as_table_reads_csv_parquet_glob_duckdb_and_frame(tmp_path):
    p = write(tmp_path, "r.csv", GOOD_RESPONSES)
    assert data.to_pandas(data.as_table(p).count()) == 3
    df = pd.read_csv(p)
    pq = tmp_path / "r.parquet"
    df.to_parquet(pq)
    assert data.to_pandas(data.as_table(str(pq)).count()) == 3
    write(tmp_path, "part2.csv", GOOD_RESPONSES.replace("R1", "R9").replace("R2", "R8").replace("R3", "R7"))
    assert data.to_pandas(data.as_table(str(tmp_path / "*.csv")).count()) == 6
    db = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table answers as select * from df")
    con.close()
    assert data.to_pandas(data.as_table(f"{db}::answers").count()) == 3
    assert data.to_pandas(data.as_table(str(db), table="answers").count()) == 3
    assert data.to_pandas(data.as_table(f"duckdb://{db}", table="answers").count()) == 3
    t = data.as_table(df)
    assert set(t.columns) == set(df.columns)
    tbl = ibis.memtable(df)
    assert data.as_table(tbl) is tbl


def test_as_table_does_not_modify_inputs(tmp_path):
    p = write(tmp_path, "r.csv", GOOD_RESPONSES)
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    df = pd.read_csv(p)
    copy = df.copy()
    data.validate(p, kind="responses")
    data.validate(df, kind="responses")
    assert hashlib.sha256(p.read_bytes()).hexdigest() == before
    pd.testing.assert_frame_equal(df, copy)


def test_relative_paths_resolve_against_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t = data.as_table("data/sample/responses.csv")
    assert "nps" in t.columns


def test_missing_file_and_bad_type(tmp_path):
    with pytest.raises(CXDataError, match=r"nope\.csv: file not found"):
        data.as_table(tmp_path / "nope.csv")
    with pytest.raises(CXDataError, match="unsupported file type '.pdf'; expected .csv.*Excel .xlsx"):
        data.as_table(write(tmp_path, "x.pdf", "a"))
    # a plain .xlsx path is an Excel source (DESIGN "Sources"): a file that is no workbook says so
    with pytest.raises(CXDataError, match="x.xlsx: could not read the workbook"):
        data.as_table(write(tmp_path, "x.xlsx", "a"))
    with pytest.raises(CXDataError, match="expected a pandas DataFrame"):
        data.as_table(42)


def test_undecodable_text_is_one_clear_error(tmp_path):
    p = write(tmp_path, "events.csv", b"customer_id,event_time\nc1,2026-01-01\nc\xff\xfe2,2026-01-02\n", "wb")
    with pytest.raises(CXDataError) as err:
        data.validate(p, kind="events")
    msg = str(err.value)
    assert msg.startswith("events.csv: the file is not valid UTF-8")
    assert "line 3" in msg


# ---------------------------------------------------------------------------------- column checks

def test_missing_columns_named_with_available_and_role_hint(tmp_path):
    p = write(tmp_path, "events.csv", "user,ts\nu1,2026-01-01\n")
    with pytest.raises(CXDataError) as err:
        data.validate(p, kind="events")
    msg = str(err.value)
    assert "missing columns 'customer_id', 'event_time'" in msg
    assert "the table has: user, ts" in msg
    assert "customer='<column>'" in msg
    # the mapping fixes it
    v = data.validate(p, kind="events", customer="user", time="ts")
    assert v.n_rows == 1 and v.columns == {"customer": "user", "time": "ts"}


def test_out_of_range_scores_name_rows_and_values(tmp_path):
    rows = ["respondent_id,response_time,nps,csat,ces"]
    for i in range(1, 1001):
        nps = {17: 11, 208: -1, 991: 12}.get(i, 5)
        rows.append(f"R{i},2026-03-01,{nps},4,5")
    p = write(tmp_path, "responses.csv", "\n".join(rows) + "\n")
    with pytest.raises(CXDataError) as err:
        data.validate(p, kind="responses")
    assert str(err.value) == ("responses.csv: column 'nps' has 3 values outside 0..10 "
                              "(rows 17, 208, 991: 11, -1, 12).")
    assert err.value.column == "nps"


def test_csat_ces_scales_and_declared_scale(tmp_path):
    p = write(tmp_path, "responses.csv",
              "respondent_id,response_time,nps,csat,ces\nR1,2026-03-01,5,7,8\nR2,2026-03-01,5,4,3\n")
    with pytest.raises(CXDataError) as err:
        data.validate(p, kind="responses")
    assert "2 problems" in str(err.value)
    assert "column 'csat' has 1 value outside 1..5 (row 1: 7)" in str(err.value)
    assert "column 'ces' has 1 value outside 1..7 (row 1: 8)" in str(err.value)
    v = data.validate(p, kind="responses", scales={"csat": (1, 10), "ces": (1, 10)})
    assert v.n_rows == 2


def test_fractional_and_text_scores(tmp_path):
    p = write(tmp_path, "responses.csv",
              "respondent_id,response_time,nps\nR1,2026-03-01,5.5\nR2,2026-03-01,7\n")
    with pytest.raises(CXDataError, match=r"whole numbers, but 1 value is fractional \(row 1: 5.5\)"):
        data.validate(p, kind="responses")
    p = write(tmp_path, "responses.csv",
              "respondent_id,response_time,nps\nR1,2026-03-01,five\nR2,2026-03-01,7\n")
    with pytest.raises(CXDataError, match=r"should hold numbers, but 1 value is not a number \(row 1: 'five'\)"):
        data.validate(p, kind="responses")


def test_blank_and_na_ratings_are_counted_not_errors(tmp_path):
    p = write(tmp_path, "responses.csv", GOOD_RESPONSES)
    v = data.validate(p, kind="responses")
    assert v.missing == {"drv_speed": 2, "drv_price": 0}
    assert any("'drv_speed' is blank or N/A in 2 of 3 rows" in n for n in v.notes)
    assert any("personal-data column(s) email" in n for n in v.notes)
    out = data.to_pandas(v.table)
    assert out["drv_speed"].isna().sum() == 2
    assert out["nps"].tolist() == [9.0, 3.0, 7.0]


def test_all_na_driver_is_an_error(tmp_path):
    p = write(tmp_path, "responses.csv",
              "respondent_id,response_time,nps,drv_x\nR1,2026-03-01,5,N/A\nR2,2026-03-01,7,\n")
    with pytest.raises(CXDataError, match="driver column 'drv_x' has no answers at all"):
        data.validate(p, kind="responses")


def test_blank_score_is_an_unanswered_question_counted_not_an_error(tmp_path):
    p = write(tmp_path, "responses.csv", "respondent_id,response_time,nps\nR1,2026-03-01,\nR2,2026-03-01,7\n")
    v = data.validate(p, kind="responses")
    assert v.missing == {"nps": 1} and any("unanswered in 1 of 2 rows" in n for n in v.notes)


def test_all_blank_score_column_is_an_error(tmp_path):
    p = write(tmp_path, "responses.csv", "respondent_id,response_time,nps\nR1,2026-03-01,\nR2,2026-03-01,\n")
    with pytest.raises(CXDataError, match=r"column 'nps' \(the NPS score\) has no answers at all"):
        data.validate(p, kind="responses")


def test_empty_table(tmp_path):
    p = write(tmp_path, "tickets.csv", "ticket_id,customer_id,created_at\n")
    with pytest.raises(CXDataError, match=r"tickets.csv: the table is empty"):
        data.validate(p, kind="tickets")


def test_duplicate_ids(tmp_path):
    p = write(tmp_path, "tickets.csv", "ticket_id,customer_id,created_at\nT1,c,2026-01-01\nT2,c,2026-01-01\n"
                                       "T1,d,2026-01-02\n")
    with pytest.raises(CXDataError) as err:
        data.validate(p, kind="tickets")
    assert "column 'ticket_id' must be unique" in str(err.value)
    assert "'T1' x2" in str(err.value) and "rows 1, 3" in str(err.value)


def test_unparseable_and_mixed_timezone_timestamps(tmp_path):
    p = write(tmp_path, "events.csv", "customer_id,event_time\nc1,2026-01-01\nc2,yesterday\nc3,2026-13-45\n")
    with pytest.raises(CXDataError) as err:
        data.validate(p, kind="events")
    assert "column 'event_time' should hold timestamps" in str(err.value)
    assert "2 values could not be read (rows 2, 3: 'yesterday', '2026-13-45')" in str(err.value)
    p = write(tmp_path, "events.csv", "customer_id,event_time\nc1,2026-03-01 10:00:00\n"
                                      "c2,2026-03-01T11:00:00+01:00\nc3,2026-03-02 09:00:00\n")
    with pytest.raises(CXDataError) as err:
        data.validate(p, kind="events")
    assert "mixes time zones: 1 value carries a UTC offset (row 2" in str(err.value)


def test_offsets_are_converted_to_utc_and_tz_conversion(tmp_path):
    df = pd.DataFrame({"customer_id": ["a", "b"],
                       "event_time": ["2026-01-01T00:30:00+01:00", "2026-01-31T23:30:00-02:00"]})
    out = data.to_pandas(data.clean_timestamp(data.as_table(df), "event_time"))
    assert out.event_time.tolist() == [pd.Timestamp("2025-12-31 23:30"), pd.Timestamp("2026-02-01 01:30")]
    local = data.to_pandas(data.clean_timestamp(data.as_table(df), "event_time", tz="America/New_York"))
    # independent: pandas' own conversion of the same instants
    expect = pd.to_datetime(df.event_time, utc=True, format="ISO8601").dt.tz_convert("America/New_York")
    assert local.event_time.tolist() == [t.tz_localize(None) for t in expect]


def test_end_before_start_and_binary(tmp_path):
    p = write(tmp_path, "subscriptions.csv", "customer_id,start_time,end_time\nc1,2026-01-05,2026-01-01\n"
                                             "c2,2026-01-05,\n")
    with pytest.raises(CXDataError, match=r"column 'end_time' is before 'start_time' in 1 row \(row 1"):
        data.validate(p, kind="subscriptions")
    p = write(tmp_path, "tickets.csv", "ticket_id,customer_id,created_at,reopened\nT1,c,2026-01-01,yes\n"
                                       "T2,c,2026-01-01,maybe\n")
    with pytest.raises(CXDataError, match=r"column 'reopened' should be 0/1, but 1 value is not \(row 2: 'maybe'\)"):
        data.validate(p, kind="tickets")


def test_experiment_needs_two_variants(tmp_path):
    p = write(tmp_path, "experiment.csv", "unit_id,variant,converted\nU1,control,1\nU2,control,0\n")
    with pytest.raises(CXDataError, match="has 1 variant"):
        data.validate(p, kind="experiment", metrics=["converted"])


def test_unknown_kind_and_role():
    with pytest.raises(CXDataError, match="unknown table kind"):
        data.validate(pd.DataFrame({"a": [1]}), kind="orders")
    with pytest.raises(CXDataError, match="unknown column role"):
        data.validate(pd.DataFrame({"a": [1]}), kind="events", user="a")


def test_drop_personal_and_fingerprint(tmp_path):
    p = write(tmp_path, "r.csv", GOOD_RESPONSES)
    df = pd.read_csv(p)
    assert "email" not in data.drop_personal(df).columns and "email" in df.columns
    assert "email" not in data.drop_personal(data.as_table(df)).columns
    assert "comment" not in data.drop_personal(df, ["Comment"]).columns
    fp = data.fingerprint(p)
    assert fp == {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "rows": 3}


def test_error_is_a_value_error():
    assert issubclass(CXDataError, ValueError)


@pytest.mark.parametrize("kind", ["events", "subscriptions", "responses", "tickets", "experiment"])
def test_every_sample_file_validates(kind, sample_dir):
    path = sample_dir / f"{kind}.csv"
    if not path.exists():  # pragma: no cover - the generator writes them; test_sample checks that
        pytest.fail(f"sample file {path} missing: run `make sample`")
    v = data.validate(path, kind=kind)
    assert v.n_rows > 100
