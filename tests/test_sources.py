"""cxlib.sources: specs, reader options, known export layouts and personal-data rules.

Every layout's numbers are checked against an independent plain-pandas computation on the raw file.
"""
from __future__ import annotations

import gzip
import re
import hashlib
import importlib.util
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from cxlib import data, metrics, sources
from cxlib.data import CXDataError
from cxlib.sources.personal import (is_personal, looks_like_contact, personal_columns, pseudonymize,
                                    session_salt)

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def nps_of(scores) -> float:
    s = pd.Series(scores, dtype="float64").dropna()
    return 100 * ((s >= 9).mean() - (s <= 6).mean())


def df_of(t: ibis.Table) -> pd.DataFrame:
    return t.execute()


def read(name: str, **spec):
    return sources.read({"path": str(EXPORTS / name), **spec})


# --------------------------------------------------------------------------------------------------
# detection and the fixtures themselves

@pytest.mark.parametrize("name, layout", [
    ("qualtrics.csv", "qualtrics"), ("surveymonkey.csv", "surveymonkey"), ("surveymonkey.xlsx", "surveymonkey"),
    ("typeform.csv", "typeform"), ("zendesk.csv", "zendesk"), ("freshdesk.csv", "freshdesk"),
    ("intercom.csv", "intercom"), ("shopify_orders.csv", "shopify"), ("stripe_subscriptions.csv", "stripe"),
    ("european.csv", None), ("european_bom.csv", None),
])
def test_detect_layout(name, layout):
    assert sources.detect_layout(EXPORTS / name) == layout


def test_detect_layout_plain_sample_is_none():
    assert sources.detect_layout("data/sample/responses.csv") is None


def test_fixture_generator_reproduces_committed_files(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_exports", EXPORTS.parent / "make_exports.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "OUT", tmp_path)
    mod.main()
    for f in sorted(tmp_path.iterdir()):
        assert f.read_bytes() == (EXPORTS / f.name).read_bytes(), f.name


def test_inputs_are_never_modified():
    before = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
              for p in EXPORTS.iterdir()}
    for name in ("qualtrics.csv", "surveymonkey.xlsx", "typeform.csv", "zendesk.csv", "freshdesk.csv",
                 "intercom.csv", "shopify_orders.csv", "stripe_subscriptions.csv"):
        df_of(read(name))
    df_of(read("european.csv", sep=";", decimal=",", encoding="latin-1", date_format="%d.%m.%Y"))
    after = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
             for p in EXPORTS.iterdir()}
    assert after == before


# --------------------------------------------------------------------------------------------------
# survey layouts

def _qualtrics_raw() -> pd.DataFrame:
    raw = pd.read_csv(EXPORTS / "qualtrics.csv", skiprows=[1, 2], encoding="utf-8-sig")
    raw = raw[raw["Status"] != "Survey Preview"]
    return raw[(raw["Finished"].astype(str) == "True") | raw["Q1"].notna()]


def test_qualtrics_maps_onto_contract_and_matches_pandas():
    t = read("qualtrics.csv")
    raw = _qualtrics_raw()
    got = df_of(t)
    meta = sources.metadata(t)
    assert meta["layout"] == "qualtrics" and meta["kind"] == "responses"
    assert {"respondent_id", "response_time", "nps", "comment"} <= set(t.columns)
    assert len(got) == len(raw)
    assert sorted(got.respondent_id) == sorted(raw.ResponseId)
    assert nps_of(got.nps) == pytest.approx(nps_of(raw.Q1))
    assert metrics.nps(t)["nps"].iloc[0] == pytest.approx(nps_of(raw.Q1))
    assert meta["drivers"] == ["Q2_1", "Q2_2", "Q2_3", "Q2_4"]
    for c in meta["drivers"]:
        assert got[c].mean() == pytest.approx(raw[c].mean())
    assert meta["labels"]["Q2_1"] == "Speed of reply"
    assert meta["driver_scale"] == [1.0, 5.0] and meta["driver_scale_source"] == "data"
    assert "partial" in " ".join(meta["notes"])
    # the ImportId row says America/Denver: 08:37:58 MST is 15:37:58 UTC
    first = raw.iloc[0]
    row = got.set_index("respondent_id").loc[first.ResponseId]
    assert row.response_time == pd.Timestamp(first.RecordedDate) + pd.Timedelta(hours=7)
    for col in ("RecipientEmail", "IPAddress", "LocationLatitude", "LocationLongitude", "RecipientFirstName"):
        assert col not in t.columns
    v = data.validate(t, kind="responses", drivers=meta["drivers"])
    assert v.n_rows == len(raw)


def test_qualtrics_user_mapping_overrides_layout():
    t = read("qualtrics.csv", columns={"nps": "Q1", "segment_plan": "plan"}, drivers="Q2_",
             labels={"Q2_1": "Reply speed"})
    meta = sources.metadata(t)
    assert "segment_plan" in t.columns and "plan" not in t.columns
    assert meta["labels"]["Q2_1"] == "Reply speed"
    assert meta["drivers"] == ["Q2_1", "Q2_2", "Q2_3", "Q2_4"]


@pytest.mark.parametrize("name", ["surveymonkey.csv", "surveymonkey.xlsx"])
def test_surveymonkey_two_header_rows_and_matrix(name):
    t = read(name)
    got = df_of(t)
    meta = sources.metadata(t)
    raw = pd.read_csv(EXPORTS / "surveymonkey.csv", skiprows=[1])
    q_nps = [c for c in raw.columns if "recommend" in c][0]
    assert len(got) == len(raw)
    assert nps_of(got.nps) == pytest.approx(nps_of(raw[q_nps]))
    assert int(got.nps.isna().sum()) == int(raw[q_nps].isna().sum())  # blank score kept, not counted
    speed = "how_satisfied_are_you_with_acme_in_each_speed_of_reply"
    assert speed in meta["drivers"] and len(meta["drivers"]) == 4
    assert meta["labels"][speed] == "Speed of reply"
    scale = {"Very dissatisfied": 1, "Dissatisfied": 2, "Neither satisfied nor dissatisfied": 3, "Satisfied": 4,
             "Very satisfied": 5}
    matrix_col = raw.columns.get_loc([c for c in raw.columns if c.startswith("How satisfied")][0])
    assert got[speed].mean() == pytest.approx(raw.iloc[:, matrix_col].map(scale).mean())
    assert got.response_time.iloc[0] == pd.to_datetime(raw["End Date"].iloc[0], format="%m/%d/%Y %I:%M:%S %p")
    assert not {"email_address", "first_name", "last_name", "ip_address"} & set(t.columns)


def test_surveymonkey_csv_and_xlsx_agree():
    a = df_of(read("surveymonkey.csv")).sort_values("respondent_id").reset_index(drop=True)
    b = df_of(read("surveymonkey.xlsx")).sort_values("respondent_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_typeform_partial_responses():
    t = read("typeform.csv")
    got = df_of(t)
    raw = pd.read_csv(EXPORTS / "typeform.csv")
    q = [c for c in raw.columns if "recommend" in c][0]
    keep = raw[(raw["Response Type"] != "partial") | raw[q].notna()]
    assert len(got) == len(keep)
    assert nps_of(got.nps) == pytest.approx(nps_of(keep[q]))
    # a kept partial response is timed by its stage date
    part = keep[keep["Response Type"] == "partial"].iloc[0]
    row = got.set_index("respondent_id").loc[part["#"]]
    assert row.response_time == pd.Timestamp(part["Stage Date (UTC)"])
    assert "what_s_your_email" not in t.columns and "Network ID" not in t.columns
    assert len(sources.metadata(t)["drivers"]) == 2


# --------------------------------------------------------------------------------------------------
# reader options

EURO = dict(sep=";", decimal=",", thousands=".", encoding="latin-1", date_format="%d.%m.%Y", currency=["Umsatz"],
            columns={"respondent_id": "Antwort-ID", "response_time": "Datum", "nps": "Empfehlung",
                     "comment": "Kommentar"},
            drivers={"Bewertung Service": "Service"})


def test_european_file_with_reader_options():
    t = read("european.csv", **EURO)
    got = df_of(t)
    raw = pd.read_csv(EXPORTS / "european.csv", sep=";", decimal=",", thousands=".", encoding="latin-1",
                      dtype={"Datum": str})
    assert nps_of(got.nps) == pytest.approx(nps_of(raw.Empfehlung))
    assert got["Bewertung Service"].sum() == pytest.approx(raw["Bewertung Service"].sum())
    assert got["Umsatz"].sum() == pytest.approx(raw["Umsatz"].sum())
    assert list(got.response_time[:2]) == list(pd.to_datetime(raw.Datum[:2], format="%d.%m.%Y"))
    assert "Grüße aus Köln" in set(raw.Kommentar.dropna()) and "Grüße aus Köln" in set(got.comment.dropna())
    meta = sources.metadata(t)
    assert meta["labels"]["Bewertung Service"] == "Service" and meta["kind"] == "responses"


def test_bom_utf8_equals_latin1():
    a = df_of(read("european.csv", **EURO))
    b = df_of(read("european_bom.csv", **{**EURO, "encoding": "utf-8"}))
    pd.testing.assert_frame_equal(a, b)


def test_tz_reads_naive_times_in_the_reporting_zone():
    t = read("european.csv", **EURO, tz="Europe/Berlin")
    assert df_of(t).response_time.iloc[0] == pd.Timestamp("2025-03-02 23:00:00")
    assert sources.metadata(t)["tz"] == "Europe/Berlin"


@pytest.mark.parametrize("drop, needle", [
    ("date_format", "date_format: '%d.%m.%Y'"),
    ("decimal", "decimal: ','"),
    ("encoding", "encoding: 'latin-1'"),
])
def test_errors_name_file_column_rows_and_the_fixing_option(drop, needle):
    spec = {k: v for k, v in EURO.items() if k not in (drop, "currency", "thousands")}
    with pytest.raises(CXDataError) as exc:
        df_of(read("european.csv", **spec))
    msg = str(exc.value)
    assert msg.startswith("european.csv: ") and needle in msg
    if drop != "encoding":
        assert re.search(r"lines? 2\b", msg)  # the first data row, counted as a line of the file
        assert ("'Datum'" in msg) if drop == "date_format" else ("'Bewertung Service'" in msg)


def test_money_without_currency_option_names_it(tmp_path):
    p = tmp_path / "orders.csv"
    p.write_text("customer_id,event_time,revenue\nc1,2025-03-01,\"$1,234.50\"\n", encoding="utf-8")
    with pytest.raises(CXDataError, match=r"currency: \['revenue'\]"):
        sources.read({"path": str(p), "sep": ","}, kind="events")
    t = sources.read({"path": str(p), "currency": ["revenue"]}, kind="events")
    assert df_of(t).revenue.iloc[0] == pytest.approx(1234.5)


def test_skip_rows_sheet_and_file_types(tmp_path):
    frame = pd.DataFrame({"Ticket": ["T1", "T2"], "Who": ["c1", "c2"], "Opened": ["2025-03-01 10:00", "2025-03-02"]})
    cols = {"ticket_id": "Ticket", "customer_id": "Who", "created_at": "Opened"}
    (tmp_path / "pre.csv").write_text("Report: tickets\nGenerated 2025-03-03\n" + frame.to_csv(index=False))
    (tmp_path / "t.tsv").write_text(frame.to_csv(index=False, sep="\t"))
    with gzip.open(tmp_path / "t.csv.gz", "wt") as fh:
        fh.write(frame.to_csv(index=False))
    frame.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "t.parquet")
    for name, extra in [("pre.csv", {"skip_rows": 2}), ("t.tsv", {}), ("t.csv.gz", {}), ("t.jsonl", {}),
                        ("t.parquet", {})]:
        t = sources.read({"path": str(tmp_path / name), "columns": cols, **extra}, kind="tickets")
        got = df_of(data.validate(t, kind="tickets").table)  # the engine path leaves typing to validate
        assert list(got.ticket_id) == ["T1", "T2"], name
        assert got.created_at.iloc[0] == pd.Timestamp("2025-03-01 10:00"), name
    got = df_of(sources.read({"path": str(EXPORTS / "surveymonkey.xlsx"), "sheet": "Sheet"}))
    assert len(got) == 30
    with pytest.raises(CXDataError, match="sheet"):
        sources.read({"path": str(EXPORTS / "surveymonkey.xlsx"), "sheet": "Nope"})


# --------------------------------------------------------------------------------------------------
# ticket layouts

def test_zendesk_first_reply_minutes_and_offsets():
    t = read("zendesk.csv")
    got = df_of(t)
    raw = pd.read_csv(EXPORTS / "zendesk.csv")
    assert len(got) == len(raw)
    mins = (got.first_response_at - got.created_at).dt.total_seconds() / 60
    assert mins.median() == pytest.approx(raw["First reply time in minutes"].median())
    assert int(mins.notna().sum()) == int(raw["First reply time in minutes"].notna().sum())
    # '2025-03-03 08:xx:xx -0500' is 13:xx UTC
    created = pd.to_datetime(raw["Created at"], format="%Y-%m-%d %H:%M:%S %z", utc=True).dt.tz_localize(None)
    assert list(got.sort_values("ticket_id").created_at) == list(created.sort_index())
    assert got.reopened.sum() == (raw.Reopens > 0).sum()
    assert set(got.channel) == {"email", "web", "chat", "phone"}
    assert got.resolved_at.notna().sum() == raw["Solved at"].notna().sum()
    assert not {"Requester", "Requester email", "Assignee", "Submitter"} & set(t.columns)
    assert got.customer_id.iloc[0] == str(raw["Requester id"].iloc[0])  # ids are text, never INT64
    data.validate(t, kind="tickets")


def test_freshdesk_tickets():
    t = read("freshdesk.csv")
    got = df_of(t).sort_values("ticket_id")
    raw = pd.read_csv(EXPORTS / "freshdesk.csv")
    first = pd.to_datetime(raw["Initial response time"]) - pd.to_datetime(raw["Created time"])
    assert (got.first_response_at - got.created_at).median() == first.median()
    assert got.resolved_at.notna().sum() == raw["Resolved time"].notna().sum()
    assert set(got.channel) == {"email", "web", "phone", "chat"}
    assert not {"Email", "Full name", "Agent"} & set(t.columns)


def test_intercom_seconds_to_first_response():
    t = read("intercom.csv")
    got = df_of(t)
    raw = pd.read_csv(EXPORTS / "intercom.csv")
    secs = (got.first_response_at - got.created_at).dt.total_seconds()
    assert secs.median() == pytest.approx(raw["Time to first response (seconds)"].median())
    assert got.reopened.sum() == (raw.Reopens > 0).sum()
    assert not {"User email", "User name"} & set(t.columns)


# --------------------------------------------------------------------------------------------------
# commerce layouts

def test_shopify_line_items_collapse_to_orders_per_customer():
    t = read("shopify_orders.csv")
    got = df_of(t)
    raw = pd.read_csv(EXPORTS / "shopify_orders.csv")
    orders = raw.groupby("Name", sort=False).head(1).copy()
    orders["total"] = orders["Total"].str.replace(r"[$,]", "", regex=True).astype(float)
    orders["who"] = orders["Email"].fillna("guest:" + orders["Name"])
    expect = orders.groupby("who").agg(n=("Name", "size"), revenue=("total", "sum"))
    expect.index = pseudonymize(list(expect.index), session_salt())  # the whole id column is hashed
    have = got.groupby("customer_id").agg(n=("order_name", "size"), revenue=("revenue", "sum"))
    pd.testing.assert_frame_equal(have.sort_index(), expect.sort_index(), check_dtype=False, check_names=False)
    assert len(got) == raw["Name"].nunique() and set(got.event_name) == {"purchase"}
    assert got["items"].sum() == raw["Lineitem quantity"].sum()
    assert got.cancelled.sum() == raw["Cancelled at"].notna().sum()
    # no email address, name, street or phone survives anywhere in the table
    text = got.select_dtypes(exclude=["number", "datetime"]).astype(str)
    assert not text.apply(lambda s: s.str.contains("@|Main St|555 ", regex=True)).any().any()
    assert sources.metadata(t)["pseudonymized"] == ["customer_id"]
    data.validate(t, kind="events")


def test_stripe_subscriptions_one_row_per_customer():
    t = read("stripe_subscriptions.csv")
    got = df_of(t).set_index("customer_id")
    raw = pd.read_csv(EXPORTS / "stripe_subscriptions.csv")
    raw = raw[raw.Status != "incomplete_expired"]
    assert len(got) == raw["Customer ID"].nunique()
    live = raw.groupby("Customer ID")["Ended At (UTC)"].apply(lambda s: s.isna().any())
    assert got.end_time.isna().sum() == live.sum()
    annual = raw[raw.Interval == "year"].iloc[0]["Customer ID"]
    assert got.loc[annual, "mrr"] == pytest.approx(round(790 / 12, 2))
    upgraded = raw["Customer ID"][raw["Customer ID"].duplicated()].iloc[0]
    subs = raw[raw["Customer ID"] == upgraded]
    assert got.loc[upgraded, "start_time"] == pd.Timestamp(subs["Start Date (UTC)"].min())
    assert pd.isna(got.loc[upgraded, "end_time"]) and got.loc[upgraded, "mrr"] == pytest.approx(158.0)
    assert not {"Customer Email", "Customer Description"} & set(t.columns)
    data.validate(t, kind="subscriptions")


# --------------------------------------------------------------------------------------------------
# specs

def test_spec_from_yaml_and_is_spec():
    assert sources.spec_from("{path: q3.csv, layout: qualtrics}") == {"path": "q3.csv", "layout": "qualtrics"}
    assert sources.is_spec({"path": "x.csv"}) and sources.is_spec("{path: x.csv}")
    assert not sources.is_spec("x.csv") and not sources.is_spec(pd.DataFrame())
    t = sources.read(f"{{path: {EXPORTS / 'zendesk.csv'}, layout: zendesk}}")
    assert "first_response_at" in t.columns


def test_unknown_spec_key_names_it_and_the_allowed_ones():
    with pytest.raises(CXDataError) as exc:
        sources.read({"path": "x.csv", "delimiter": ";"})
    assert "'delimiter'" in str(exc.value) and "sep" in str(exc.value) and "columns" in str(exc.value)
    with pytest.raises(CXDataError, match="unknown layout"):
        read("zendesk.csv", layout="hubspot")
    with pytest.raises(CXDataError, match="path"):
        sources.read({"layout": "zendesk"})


def test_plain_sources_delegate_to_as_table():
    t = sources.read("data/sample/responses.csv")
    assert "respondent_id" in t.columns
    frame = pd.DataFrame({"a": [1]})
    assert sources.read(frame).execute().a.iloc[0] == 1
    assert sources.metadata(t)["layout"] is None


@pytest.mark.parametrize("options", [{}, {"sep": ","}])  # engine path and text path
def test_mapping_drops_a_case_colliding_original(tmp_path, options):
    p = tmp_path / "subs.csv"
    p.write_text("Customer,Start,Plan,Region\nc1,2025-01-01,basic,EMEA\nc2,2025-02-01,pro,AMER\n")
    t = sources.read({"path": str(p), "columns": {"customer_id": "Customer", "start_time": "Start",
                                                  "plan": "Plan"}, **options}, kind="subscriptions")
    assert sorted(t.columns) == ["Region", "customer_id", "plan", "start_time"]
    assert list(df_of(t).plan) == ["basic", "pro"]
    data.validate(t, kind="subscriptions")


def test_mapping_to_a_missing_column_lists_the_columns(tmp_path):
    with pytest.raises(CXDataError, match=r"no column 'Score'.*Empfehlung"):
        read("european.csv", **{**EURO, "columns": {"nps": "Score"}})


def test_engine_path_for_large_plain_files_and_hashing_ids(tmp_path):
    p = tmp_path / "events.csv"
    p.write_text("user,ts,amount\nann@example.com,2025-01-01,5\nbob@example.com,2025-01-02,7\n")
    t = sources.read({"path": str(p), "columns": {"customer_id": "user", "event_time": "ts", "revenue": "amount"}},
                     kind="events")
    got = df_of(t)
    assert list(got.customer_id) == pseudonymize(["ann@example.com", "bob@example.com"], session_salt())
    data.validate(t, kind="events")


def test_drivers_forms(tmp_path):
    base = {"columns": {"respondent_id": "ResponseId"}}
    t = read("qualtrics.csv", drivers=["Q2_2", "Q2_1"], driver_scale=[1, 5], **base)
    m = sources.metadata(t)
    assert m["drivers"] == ["Q2_2", "Q2_1"] and m["driver_scale_source"] == "declared"
    with pytest.raises(CXDataError, match="Q9_9"):
        read("qualtrics.csv", drivers=["Q9_9"])
    with pytest.raises(CXDataError, match="matches no column"):
        read("qualtrics.csv", drivers="drv_")


# --------------------------------------------------------------------------------------------------
# personal data

@pytest.mark.parametrize("column, personal", [
    ("E-mail", True), ("e_mail", True), ("customer_email", True), ("Phone Number", True), ("Customer Name", True),
    ("RecipientEmail", True), ("IPAddress", True), ("LocationLatitude", True), ("Billing Name", True),
    ("name", True), ("First Name", True), ("Billing Address1", True), ("Shipping Zip", True), ("mobile", True),
    ("EmailAddress", True), ("Email Opt-in", True), ("Requester email", True),
    ("Plan Name", False), ("Product name", False), ("plan", False), ("region", False), ("shipping", False),
    ("respondent_id", False), ("Zip_code_region_bucket", True), ("tip", False), ("ship_date", False),
])
def test_is_personal(column, personal):
    assert is_personal(column) is personal


def test_personal_columns_with_layout_and_extra():
    cols = ["ResponseId", "Q1", "Requester", "Status", "Notes"]
    assert personal_columns(cols, extra=["notes"]) == ["Notes"]
    assert personal_columns(cols, layout="zendesk") == ["Requester"]


def test_looks_like_contact_and_pseudonymize():
    assert looks_like_contact(["a@example.com", "b@example.org", ""])
    assert looks_like_contact(["+1 555 010 0199", "(555) 010-0100"])
    assert not looks_like_contact(["C0001554", "C0001555"])
    assert not looks_like_contact(["36172840554", "2025-03-04 10:15:00"])
    a = pseudonymize(pd.Series(["a@example.com", None, "a@example.com"]), "salt")
    assert a.iloc[0] == a.iloc[2] and a.iloc[0].startswith("id-") and len(a.iloc[0]) == 13 and pd.isna(a.iloc[1])
    assert pseudonymize(["a@example.com"], "salt") != pseudonymize(["a@example.com"], "pepper")


def test_extra_personal_columns_are_dropped():
    t = read("qualtrics.csv", personal=["ExternalReference"])
    assert "ExternalReference" not in t.columns
    assert "ExternalReference" in sources.metadata(t)["personal"]


def test_no_personal_value_reaches_any_layout_table():
    for name in ("qualtrics.csv", "surveymonkey.csv", "typeform.csv", "zendesk.csv", "freshdesk.csv",
                 "intercom.csv", "shopify_orders.csv", "stripe_subscriptions.csv"):
        got = df_of(read(name))
        text = got.select_dtypes(exclude=["number", "datetime"]).astype(str)
        assert not text.apply(lambda s: s.str.contains("@example.com", regex=False)).any().any(), name
        assert not any(is_personal(c) for c in got.columns), (name, [c for c in got.columns if is_personal(c)])
    _ = np
