"""Journey and support analyses on other sources and engines: every column they read can be mapped by a
source spec (an export with its own headers gives the sample's numbers), and Spark local gives DuckDB's
numbers on the sample (including touches from events, tickets and responses, local-time periods and
``as_of``)."""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import journey, support

AS_OF = pd.Timestamp("2026-11-22 23:59:59")
# every column the journey functions read, under an export's own header
RENAMES = {
    "events": {"customer_id": "User ID", "event_time": "Occurred At", "event_name": "Action", "plan": "Tier"},
    "subscriptions": {"customer_id": "Account", "start_time": "Started", "end_time": "Cancelled"},
    "tickets": {"customer_id": "Requester ID", "created_at": "Opened", "first_response_at": "First Reply",
                "channel": "Via", "ticket_id": "Ticket #"},
    "responses": {"customer_id": "Account Ref", "response_time": "Submitted", "nps": "Recommend",
                  "respondent_id": "Response ID"},
}


@pytest.fixture(scope="module")
def specs(sample_dir, tmp_path_factory):
    """The sample re-exported with other headers (personal columns dropped), and specs mapping them back."""
    out = tmp_path_factory.mktemp("export")
    result = {}
    for kind, ren in RENAMES.items():
        df = pd.read_csv(sample_dir / f"{kind}.csv", dtype=str, keep_default_na=False)
        df = df.drop(columns=[c for c in ("email", "name", "phone") if c in df.columns]).rename(columns=ren)
        df.to_csv(out / f"{kind}_export.csv", index=False)
        result[kind] = {"path": str(out / f"{kind}_export.csv"), "columns": {k: v for k, v in ren.items()}}
    return result


def test_churn_by_touch_and_last_touch_through_source_specs(sample_dir, specs):
    plain = {k: sample_dir / f"{k}.csv" for k in ("events", "tickets", "responses")}
    kw = dict(window=30, as_of=AS_OF)
    a = journey.churn_by_touch(specs["subscriptions"], events=specs["events"], tickets=specs["tickets"],
                               responses=specs["responses"], **kw)
    b = journey.churn_by_touch(sample_dir / "subscriptions.csv", **plain, **kw)
    pd.testing.assert_frame_equal(a, b)
    a = journey.last_touch_before_churn(specs["subscriptions"], events=specs["events"], tickets=specs["tickets"],
                                        responses=specs["responses"], **kw)
    b = journey.last_touch_before_churn(sample_dir / "subscriptions.csv", **plain, **kw)
    pd.testing.assert_frame_equal(a, b)


def test_step_times_conversion_and_support_through_source_specs(sample_dir, specs):
    ev = sample_dir / "events.csv"
    kw = dict(as_of=AS_OF, cohort="week", tz="America/New_York", week_start="sunday")
    pd.testing.assert_frame_equal(journey.step_times(specs["events"], **kw), journey.step_times(ev, **kw))
    pd.testing.assert_frame_equal(journey.step_conversion(specs["events"]), journey.step_conversion(ev))
    pd.testing.assert_frame_equal(journey.weakest_step(specs["events"]), journey.weakest_step(ev))
    tk = sample_dir / "tickets.csv"
    skw = dict(period="week", tz="Asia/Tokyo", week_start="sunday")
    pd.testing.assert_frame_equal(support.response_times(specs["tickets"], **skw), support.response_times(tk, **skw))
    pd.testing.assert_frame_equal(support.repeat_contact_rate(specs["tickets"], as_of=AS_OF, **skw),
                                  support.repeat_contact_rate(tk, as_of=AS_OF, **skw), check_like=True)


# ------------------------------------------------------------------------------------------ Spark

@pytest.fixture(scope="module")
def on_spark(sample_dir, spark_backend):
    """The sample's tables loaded into Spark (timestamps typed) and the same frames for DuckDB."""
    frames, tables = {}, {}
    for kind, cols in (("events", ["event_time"]), ("subscriptions", ["start_time", "end_time"]),
                       ("tickets", ["created_at", "first_response_at", "resolved_at"]),
                       ("responses", ["response_time"])):
        df = pd.read_csv(sample_dir / f"{kind}.csv", keep_default_na=False, na_values=[""])
        df = df.drop(columns=[c for c in ("email", "name", "phone", "comment") if c in df.columns])
        for c in cols:
            df[c] = pd.to_datetime(df[c])
        frames[kind] = df
        tables[kind] = spark_backend.create_table(f"cx_journey_engines_{kind}", df, overwrite=True)
    return frames, tables


@pytest.mark.spark
def test_churn_by_touch_on_spark_matches_duckdb_on_the_sample(on_spark):
    frames, sp = on_spark
    kw = dict(window=30, as_of=AS_OF)
    pd.testing.assert_frame_equal(
        journey.churn_by_touch(sp["subscriptions"], events=sp["events"], tickets=sp["tickets"],
                               responses=sp["responses"], **kw),
        journey.churn_by_touch(frames["subscriptions"], events=frames["events"], tickets=frames["tickets"],
                               responses=frames["responses"], **kw), check_dtype=False)
    pd.testing.assert_frame_equal(
        journey.last_touch_before_churn(sp["subscriptions"], events=sp["events"], responses=sp["responses"], **kw),
        journey.last_touch_before_churn(frames["subscriptions"], events=frames["events"],
                                        responses=frames["responses"], **kw), check_dtype=False)


@pytest.mark.spark
def test_step_times_weakest_and_support_on_spark_match_duckdb(on_spark):
    frames, sp = on_spark
    kw = dict(by="plan", cohort="week", tz="America/New_York", week_start="sunday", as_of="2026-09-30 00:00:00")
    a, b = journey.step_times(sp["events"], **kw), journey.step_times(frames["events"], **kw)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    # the same later rows are left out and counted (example row numbers depend on the engine's order)
    assert [(n.code, n["counts"]) for n in a.attrs["notes"] + b.attrs["notes"]] == [("rows_after_as_of",
                                                                                     {"event_time": 3342})] * 2
    pd.testing.assert_frame_equal(journey.weakest_step(sp["events"], by="plan"),
                                  journey.weakest_step(frames["events"], by="plan"), check_dtype=False)
    skw = dict(period="week", tz="Asia/Tokyo", week_start="wednesday")
    pd.testing.assert_frame_equal(support.durations(sp["tickets"], by="channel", **skw),
                                  support.durations(frames["tickets"], by="channel", **skw), check_dtype=False)
    pd.testing.assert_frame_equal(support.repeat_contact_rate(sp["tickets"], as_of=AS_OF, **skw),
                                  support.repeat_contact_rate(frames["tickets"], as_of=AS_OF, **skw),
                                  check_dtype=False)
