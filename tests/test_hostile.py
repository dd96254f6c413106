"""The hostile-input corpus (tests/fixtures/hostile/, made by make_hostile.py): each realistic mistake
gets one clear cxlib error naming file, column and rows, or an honest result with a note; never a
silently wrong number. Expected values come from plain pandas on the raw files."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlib import cohorts, data, experiments, metrics, present, support, survival
from cxlib.data import CXDataError

H = Path(__file__).parent / "fixtures" / "hostile"


def _late(result):
    """The one ``rows_after_as_of`` note of a result (rows dated after the analysis date)."""
    (n,) = [n for n in result.attrs["notes"] if getattr(n, "code", None) == "rows_after_as_of"]
    return n


@pytest.fixture(autouse=True)
def report_date(monkeypatch):
    """As in a `cx run --date 2026-11-23`: the analysis date is the report date."""
    monkeypatch.setenv(data.RUN_DATE_ENV, "2026-11-23")


def test_one_cancellation_in_2099_does_not_stretch_lifetimes(sample_dir):
    kw = dict(start="start_time", end="end_time")
    clean = survival.kaplan_meier(sample_dir / "subscriptions.csv", **kw).attrs["medians"]["median"].iloc[0]
    km = survival.kaplan_meier(str(H / "subscriptions_end_2099.csv"), **kw)
    assert abs(km.attrs["medians"]["median"].iloc[0] - clean) < 0.5      # not 888 months
    assert km["time"].max() < 24                                          # follow-up ends at the report date
    late = _late(km)
    assert late["as_of"].date() == pd.Timestamp("2026-11-23").date() and "2099-01-01" in late["examples"]["end_time"]
    words = present.note_text(late).plain
    assert "2099-01-01" in words and "after 23 Nov 2026" in words


def test_one_event_in_2099_does_not_grow_the_table_to_900_periods():
    t = cohorts.retention_table(str(H / "events_2099.csv"))
    raw = pd.read_csv(H / "events_2099.csv", parse_dates=["event_time"])
    first = raw.groupby("customer_id")["event_time"].min().min()
    months = (2026 - first.year) * 12 + 11 - first.month + 1
    assert t["period"].max() <= months
    assert t["cohort"].max() <= pd.Timestamp("2026-11-01")
    late = _late(t)
    assert "2099-06-01" in late["examples"]["event_time"] and "2099-06-01" in present.note_text(late).plain


def test_duplicated_subscriptions_are_an_error_not_counted_twice():
    for call in (lambda p: metrics.churn_rate(p, period="month"),
                 lambda p: survival.kaplan_meier(p, start="start_time", end="end_time"),
                 lambda p: data.validate(p, kind="subscriptions")):
        with pytest.raises(CXDataError, match=r"column 'customer_id' must be unique, but 300 values appear"):
            call(str(H / "subscriptions_duplicated.csv"))


@pytest.mark.parametrize("call", [
    lambda p: metrics.churn_rate(p, period="month"),
    lambda p: survival.kaplan_meier(p, start="start_time", end="end_time"),
    lambda p: data.validate(p, kind="subscriptions"),
])
def test_end_before_start_names_the_rows(call):
    with pytest.raises(CXDataError, match=r"column 'end_time' is before 'start_time' in 2 rows \(rows 6, 10:"):
        call(str(H / "subscriptions_end_before_start.csv"))


def test_reply_before_ticket_was_opened_names_the_row():
    p = str(H / "tickets_reply_before_created.csv")
    for call in (lambda: support.response_times(p, measure="first_response"),
                 lambda: data.validate(p, kind="tickets")):
        with pytest.raises(CXDataError, match=r"'first_response_at' is before 'created_at' in 1 row \(row 4:"):
            call()


def test_variant_names_are_trimmed_and_units_without_variant_are_reported():
    p = str(H / "experiment_variant_spaces.csv")
    raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    res = experiments.compare(p, control="control", metrics={"converted": "proportion"})
    assert sorted(res["variant"]) == ["new_checkout", "one_click"]           # "control " is control
    n_control = int((raw["variant"].str.strip() == "control").sum())
    assert int(res["n_control"].iloc[0]) == n_control
    assert res.attrs["units_without_variant"] == 20
    assert "20 units have no variant" in str(present.note_text(res.attrs["notes"][0]))  # a note code; words in present
    check = experiments.srm(p)
    assert sorted(check.table["variant"]) == ["control", "new_checkout", "one_click"]
    v = data.validate(p, kind="experiment")
    assert any("20 units have no variant" in n for n in v.notes)


def test_metric_column_entirely_blank_is_an_error():
    p = str(H / "experiment_blank_metric.csv")
    with pytest.raises(CXDataError, match=r"metric column 'csat' has no values in any unit"):
        experiments.compare(p, control="control", metrics={"converted": "proportion", "csat": "mean"})
    with pytest.raises(CXDataError, match=r"metric column 'csat' is blank in every one of the 2,000 rows"):
        data.validate(p, kind="experiment", metrics=["csat"])


@pytest.mark.parametrize("name,pattern", [
    ("responses_header_only.csv", r"responses_header_only.csv: the table is empty \(no data rows\)"),
    ("responses_blank_nps.csv", r"column 'nps' \(the NPS score\) has no answers at all"),
    ("responses_duplicate_header.csv", r"the header names column 'nps' twice \(columns 4 and 5\)"),
    ("responses_ragged.csv", r"line 51 has \d+ fields but the header has 21"),
])
def test_broken_files_get_one_clear_error(name, pattern):
    with pytest.raises(CXDataError, match=pattern) as err:
        data.validate(str(H / name), kind="responses")
    assert "Traceback" not in str(err.value) and "LINE 1" not in str(err.value)


def test_undetectable_separator_says_so_or_reads_correctly():
    p = str(H / "responses_pipes.csv")
    try:
        v = data.validate(p, kind="responses")
    except CXDataError as exc:
        assert "separator" in str(exc) and "missing column" not in str(exc)
    else:  # the engine found ' | ': then the numbers must be right
        raw = pd.read_csv(p, sep=r"\s*\|\s*", engine="python", dtype=str)
        assert v.n_rows == len(raw)


def test_duplicated_driver_column_is_an_error_not_a_singular_matrix(sample_dir):
    from cxlib import drivers

    with pytest.raises(CXDataError, match="listed more than once"):
        drivers.key_drivers(sample_dir / "responses.csv", drivers=["drv_trust", "drv_trust", "drv_features"],
                            bootstrap=0)
    with pytest.raises(CXDataError, match="listed more than once"):
        data.validate(sample_dir / "responses.csv", kind="responses", drivers=["drv_trust", "drv_trust"])


def test_duplicate_respondents_are_an_error_in_the_analyses(tmp_path, sample_dir):
    raw = pd.read_csv(sample_dir / "responses.csv", dtype=str, keep_default_na=False).head(100)
    p = tmp_path / "responses.csv"
    pd.concat([raw, raw.iloc[[3]]]).to_csv(p, index=False)
    with pytest.raises(CXDataError, match="'respondent_id' must be unique"):
        metrics.nps(str(p))


def test_personal_columns_are_refused_as_segments(sample_dir):
    for col in ("email", "name", "phone"):
        with pytest.raises(CXDataError, match=f"'{col}' is personal data and cannot be used as a segment"):
            metrics.nps(sample_dir / "responses.csv", by=col)


def test_inputs_are_never_modified():
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in H.glob("*.csv")}
    for p in H.glob("responses_*.csv"):
        try:
            data.validate(str(p), kind="responses")
        except CXDataError:
            pass
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in H.glob("*.csv")}
    assert before == after


def test_sample_ratio_mismatch_makes_every_decision_not_interpretable(tmp_path, sample_dir):
    raw = pd.read_csv(sample_dir / "experiment.csv", dtype=str, keep_default_na=False)
    drop = raw.index[raw["variant"] == "one_click"][: int(0.08 * (raw["variant"] == "one_click").sum())]
    p = tmp_path / "experiment.csv"
    raw.drop(index=drop).to_csv(p, index=False)
    res = experiments.compare(str(p), control="control", metrics={"converted": "proportion"})
    assert res.attrs["srm"].p_value < 0.001
    assert set(res["decision"]) == {"not interpretable"}
    assert any("Sample ratio mismatch" in str(present.note_text(n)) for n in res.attrs["notes"])
    fine = experiments.compare(str(sample_dir / "experiment.csv"), control="control",
                               metrics={"converted": "proportion"})
    assert "win" in set(fine["decision"])


def test_medians_of_small_segments_are_suppressed_not_shown(tmp_path, sample_dir):
    from cxlib import present

    raw = pd.read_csv(sample_dir / "subscriptions.csv", dtype=str, keep_default_na=False).head(400)
    raw.loc[:5, "plan"] = "enterprise"                    # a segment of six customers
    p = tmp_path / "subscriptions.csv"
    raw.to_csv(p, index=False)
    med = survival.kaplan_meier(str(p), start="start_time", end="end_time", by="plan").attrs["medians"]
    small = med.set_index("plan").loc["enterprise"]
    assert bool(small["suppressed"]) and pd.isna(small["median"]) and small["n"] == 6
    assert not med.set_index("plan").loc["basic", "suppressed"]
    html = str(present.lifetime_summary(med, by="plan"))
    assert "too few customers" in html
