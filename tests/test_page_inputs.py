"""A page runs on only its data: demo tables never mix into a user's report, and defaults that name the
sample's columns are skipped on a user's table (a given parameter naming a missing column is an error)."""
from __future__ import annotations

import json

import pytest

from cxlib import data as cxdata
from cxlib import pages, present, reports
from cxlib.notes import codes
from cxlib.paths import NOTEBOOKS_DIR, sample_path

EXPERIMENT_DEFAULTS = {p.name: p.default
                       for p in reports.notebook_parameters(NOTEBOOKS_DIR / "experiment_comparison.ipynb")}


@pytest.fixture
def game(tmp_path):
    """A user's experiment export: no clicks, sessions, pre_revenue, device or exposure_time columns."""
    path = tmp_path / "game.csv"
    path.write_text("unit_id,variant,rounds,retained\n"
                    "p1,A,12,1\np2,B,7,0\np3,A,3,1\np4,B,49854,1\np5,A,9,0\np6,B,11,1\n")
    return str(path)


def test_sample_column_defaults_are_skipped_on_a_users_table(game):
    values = {**EXPERIMENT_DEFAULTS, "experiment": game, "metrics": {"rounds": "mean", "retained": "proportion"}}
    got = pages.resolve("experiment_comparison", values, given={"experiment", "metrics"})
    v = got.values
    assert v["ratios"] == {} and v["covariates"] == {} and v["quantiles"] == {}
    assert v["segment"] == "" and v["time"] == "" and v["guardrails"] == []
    (only,) = [n for n in got.notes if n.code == "sample_default_skipped"]  # one sentence for the table
    assert set(only["parameters"]) == {"ratios", "covariates", "quantiles", "segment", "time", "guardrails"}
    assert dict(zip(only["parameters"], only["columns"]))["ratios"] == ["clicks", "sessions"]
    words = str(present.data_notes(got))
    assert "segment (device)" in words and "ratios (clicks, sessions)" in words


def test_the_same_defaults_apply_on_the_sample():
    values = {**EXPERIMENT_DEFAULTS, "experiment": str(sample_path("experiment"))}
    got = pages.resolve("experiment_comparison", values, given=set())
    assert got.notes == [] and got.values["segment"] == "device" and got.values["ratios"] == {"clicks": "sessions"}
    assert got.demo


def test_a_given_parameter_naming_a_missing_column_is_an_error(game):
    values = {**EXPERIMENT_DEFAULTS, "experiment": game, "metrics": {"rounds": "mean"}, "segment": "device"}
    with pytest.raises(cxdata.CXDataError, match=r"'segment' names column 'device'.*rounds"):
        pages.resolve("experiment_comparison", values, given={"experiment", "metrics", "segment"})


def test_columns_the_users_table_has_are_kept_and_only_the_missing_part_skipped(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("respondent_id,response_time,nps,plan,comment\n1,2026-11-02 10:00,9,pro,fine\n")
    got = pages.resolve("nps_drivers", {"responses": str(path), "segments": ["channel", "plan", "region"],
                                        "csat": "csat", "comment": "comment", "weight_by": ["plan", "region"],
                                        "subscriptions": str(sample_path("subscriptions"))}, given=set())
    assert got.values["segments"] == ["plan"] and got.values["weight_by"] == ["plan"]
    assert got.values["csat"] is None and got.values["comment"] == "comment"


def test_demo_tables_beside_a_users_table_are_left_out(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("respondent_id,response_time,nps\n1,2026-11-02 10:00,9\n")
    values = {"responses": str(path), "tickets": str(sample_path("tickets")), "events": str(sample_path("events")),
              "subscriptions": None, "segments": [], "stage": "touchpoint"}
    got = pages.resolve("cx_scorecard", values, given={"responses"})
    assert got.values["tickets"] is None and got.values["events"] is None
    assert sorted(n["table"] for n in got.notes if n.code == "demo_table_left_out") == ["events", "tickets"]
    assert not got.demo
    # ... unless the user asked for them by name: then it is their decision, not a silent default
    kept = pages.resolve("cx_scorecard", values, given={"responses", "tickets"})
    assert kept.values["tickets"] == str(sample_path("tickets")) and kept.values["events"] is None


def test_interactive_use_counts_nothing_as_given(game, monkeypatch):
    monkeypatch.delenv(pages.GIVEN_ENV, raising=False)
    values = {**EXPERIMENT_DEFAULTS, "experiment": game, "metrics": {"rounds": "mean"}}
    assert "sample_default_skipped" in codes(pages.resolve("experiment_comparison", values).notes)
    monkeypatch.setenv(pages.GIVEN_ENV, json.dumps(["segment"]))
    with pytest.raises(cxdata.CXDataError):
        pages.resolve("experiment_comparison", values)


def test_a_week_that_has_not_ended_by_the_analysis_date_is_an_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("respondent_id,response_time,nps\n1,2026-11-02 10:00,9\n")
    base = {"responses": str(path), "segments": [], "stage": "touchpoint"}
    with pytest.raises(cxdata.CXDataError, match="after the analysis date 2026-11-04"):
        pages.resolve("cx_scorecard", {**base, "week": "2026-11-02", "as_of": "2026-11-04"}, given=set())
    ok = pages.resolve("cx_scorecard", {**base, "week": "2026-10-26", "as_of": "2026-11-04"}, given=set())
    assert codes(ok.notes) == ["sample_default_skipped"]  # only the stage default: the week is fine


def test_every_page_lists_only_parameters_its_notebook_declares():
    for slug, page in pages.PAGES.items():
        declared = {p.name for p in reports.notebook_parameters(NOTEBOOKS_DIR / f"{slug}.ipynb")}
        assert set(page.tables) <= declared and set(page.columns) <= declared, slug


def test_given_parameters_come_from_the_command_line_and_the_parameters_file():
    nb = NOTEBOOKS_DIR / "experiment_comparison.ipynb"
    got = reports.given_parameters(nb, file_params={"segment": "os", "nps_drivers": {"min_n": 5},
                                                    "experiment_comparison": {"alpha": 0.1}},
                                   overrides={"experiment": "x.csv"})
    assert got == {"segment", "alpha", "experiment"}


def test_a_segment_parameter_may_name_the_column_by_its_export_header(tmp_path):
    """SurveyMonkey's two header rows: the matrix row's column is found by "Question - Row" text."""
    path = tmp_path / "sm.csv"
    path.write_text(
        "Respondent ID,Start Date,How likely is it that you would recommend Acme to a friend or colleague?,"
        "Which region are you in?\n"
        ",,Response,Response\n"
        "101,11/02/2026 10:00:00 AM,9,EMEA\n102,11/03/2026 11:00:00 AM,6,AMER\n")
    got = pages.resolve("nps_drivers", {"responses": {"path": str(path), "layout": "surveymonkey"},
                                        "segments": ["Which region are you in?"]},
                        given={"responses", "segments"})
    (col,) = got.values["segments"]
    assert col != "Which region are you in?" and col in cxdata.as_table(
        {"path": str(path), "layout": "surveymonkey"}).columns
