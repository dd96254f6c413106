"""A metric no unit of an arm measured (every value blank) is a row without an estimate, not a silent gap
(issue 21): n = 0 for that arm, the other arm's units and value, NaN estimates outside the correction
family, decision 'not measured', a ``metric_not_measured_in_arm`` note, and words on every page part.

Hand-written rows; the measured metric's numbers are checked against a brute-force Welch comparison.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib import experiments, present
from cxlib.notes import codes

ESTIMATES = ["abs_diff", "abs_ci_lower", "abs_ci_upper", "rel_lift", "rel_ci_lower", "rel_ci_upper", "p_value",
             "p_adjusted", "prob_better", "expected_loss"]


def _write(tmp_path, blank_in: str, n: int = 120, arms=("control", "treatment")):
    """``n`` units over ``arms`` (round robin); ``converted`` always measured, ``revenue`` blank for every
    unit of ``blank_in``; ``late`` blank in the first arm only for segment tests."""
    rows = []
    for i in range(n):
        arm = arms[i % len(arms)]
        rows.append({"unit_id": f"u{i}", "variant": arm, "converted": int(i % 3 == 0),
                     "revenue": None if arm == blank_in else float((i * 7) % 11),
                     "device": "mobile" if i % 4 < 2 else "desktop"})
    path = tmp_path / "exp.csv"
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False)
    return path, df


def _welch_p(a, b):
    return stats.ttest_ind(a, b, equal_var=False).pvalue


def test_a_variant_with_every_value_blank_is_a_row_with_n_zero_and_no_estimate(tmp_path):
    path, df = _write(tmp_path, blank_in="treatment")
    r = experiments.compare(path, control="control", metrics={"converted": "proportion", "revenue": "mean"})
    row = r.set_index("metric").loc["revenue"]
    assert row["variant"] == "treatment" and row["n_variant"] == 0
    assert row["n_control"] == (df["variant"] == "control").sum() == 60
    assert row["control_value"] == pytest.approx(df.loc[df["variant"] == "control", "revenue"].mean())
    assert all(pd.isna(row[c]) for c in ESTIMATES)
    assert row["decision"] == "not measured" and not row["significant"] and not row["guardrail_breach"]
    # the measured metric is alone in the correction family: Holm over one test leaves p as it is
    conv = r.set_index("metric").loc["converted"]
    a = df.loc[df["variant"] == "treatment", "converted"].to_numpy(float)
    b = df.loc[df["variant"] == "control", "converted"].to_numpy(float)
    assert conv["p_value"] == pytest.approx(_welch_p(a, b), rel=1e-9)
    assert conv["p_adjusted"] == pytest.approx(conv["p_value"], rel=1e-12)
    found = [n for n in r.attrs["notes"] if getattr(n, "code", None) == "metric_not_measured_in_arm"]
    assert len(found) == 1
    assert (found[0]["metric"], found[0]["variant"], found[0]["control"]) == ("revenue", "treatment", "control")


def test_a_control_with_every_value_blank_gives_each_variant_a_row_without_a_comparison(tmp_path):
    path, df = _write(tmp_path, blank_in="control", n=150, arms=("control", "b", "c"))
    r = experiments.compare(path, control="control", metrics={"converted": "proportion", "revenue": "mean"})
    rev = r[r["metric"] == "revenue"].set_index("variant")
    assert sorted(rev.index) == ["b", "c"]
    assert (rev["n_control"] == 0).all() and list(rev.loc[["b", "c"], "n_variant"]) == [50, 50]
    for v in ("b", "c"):
        assert rev.loc[v, "variant_value"] == pytest.approx(df.loc[df["variant"] == v, "revenue"].mean())
        assert all(pd.isna(rev.loc[v, c]) for c in ESTIMATES)
    assert set(rev["decision"]) == {"not measured"}
    notes = [n for n in r.attrs["notes"] if getattr(n, "code", None) == "metric_not_measured_in_arm"]
    assert [(n["metric"], n["variant"]) for n in notes] == [("revenue", "control")]


def test_one_of_three_arms_without_values_leaves_the_other_comparison_intact(tmp_path):
    path, df = _write(tmp_path, blank_in="c", n=150, arms=("control", "b", "c"))
    r = experiments.compare(path, control="control", metrics={"revenue": "mean"})
    rev = r.set_index("variant")
    assert rev.loc["c", "n_variant"] == 0 and rev.loc["c", "decision"] == "not measured"
    b = df.loc[df["variant"] == "b", "revenue"].to_numpy(float)
    c = df.loc[df["variant"] == "control", "revenue"].to_numpy(float)
    assert rev.loc["b", "abs_diff"] == pytest.approx(b.mean() - c.mean(), rel=1e-12)
    assert rev.loc["b", "p_value"] == pytest.approx(_welch_p(b, c), rel=1e-9)
    assert rev.loc["b", "p_adjusted"] == pytest.approx(rev.loc["b", "p_value"], rel=1e-12)  # family of one


def test_a_segment_whose_variant_has_no_values_gets_its_own_row(tmp_path):
    path, df = _write(tmp_path, blank_in="none")
    df.loc[(df["device"] == "mobile") & (df["variant"] == "treatment"), "revenue"] = None
    df.to_csv(path, index=False)
    r = experiments.compare(path, control="control", metrics={"converted": "proportion", "revenue": "mean"},
                            by="device")
    rev = r[r["metric"] == "revenue"].set_index("device")
    assert rev.loc["mobile", "n_variant"] == 0 and rev.loc["mobile", "decision"] == "not measured"
    assert rev.loc["desktop", "n_variant"] == 30 and pd.notna(rev.loc["desktop", "abs_diff"])
    notes = [n for n in r.attrs["notes"] if getattr(n, "code", None) == "metric_not_measured_in_arm"]
    assert [(n["metric"], n["variant"], n["segment"]) for n in notes] == [("revenue", "treatment",
                                                                           {"device": "mobile"})]
    words = str(present.note_text(notes[0]))
    assert "no units measured in Treatment" in words and "Mobile" in words
    # heterogeneity and the explorer read the measured segment only, without failing
    assert experiments.heterogeneity(r, metric="revenue").empty
    explored = experiments.segment_explorer(r)
    assert not explored.loc[(explored["metric"] == "revenue") & (explored["device"] == "mobile"), "discovery"].any()
    html = present.experiment_explorer_table(explored).as_raw_html()
    assert "No units measured in Treatment" in html and "nan" not in html.lower()


def _page_text(r, primary):
    check = r.attrs["srm"]
    parts = [present.experiment_answer(r, srm_result=check, primary=primary),
             present.experiment_figures(r, srm_result=check, primary=primary),
             present.experiment_summary(r, srm_result=check), present.experiment_overview(r),
             present.data_notes(r)]
    tables = [present.experiment_results_table(r, primary=primary).as_raw_html(),
              present.experiment_table(r).as_raw_html()]
    return [p.plain for p in parts], tables


@pytest.mark.parametrize("primary", ["revenue", "converted"])
def test_every_experiment_page_part_says_not_measured_in_words_never_nan(tmp_path, primary):
    path, _ = _write(tmp_path, blank_in="treatment")
    r = experiments.compare(path, control="control", metrics={"converted": "proportion", "revenue": "mean"})
    texts, tables = _page_text(r, primary)
    for t in texts + tables:
        assert "nan" not in t.lower().replace("nanos", "")
    # the key figures show the primary metric (and guardrails): they say it when revenue is the primary
    for t in texts[:1] + texts[2:] + tables + (texts[1:2] if primary == "revenue" else []):
        assert "no units measured in treatment" in t.lower(), t
    answer = texts[0]
    if primary == "revenue":
        assert "Treatment was not measured" in answer and "won" not in answer and "inconclusive" not in answer
    assert "Win" not in texts[2] and "Loss" not in texts[2]


def test_a_guardrail_not_measured_is_not_said_to_have_held(tmp_path):
    path, _ = _write(tmp_path, blank_in="treatment")
    r = experiments.compare(path, control="control",
                            metrics=[experiments.Metric("converted", "proportion"),
                                     experiments.Metric("revenue", "mean", guardrail=True)])
    answer = present.experiment_answer(r, srm_result=r.attrs["srm"], primary="converted").plain
    assert "No guardrail (Revenue) got worse" not in answer and "No guardrail broke" not in answer
    assert "not measured" in answer.lower()
    figs = present.experiment_figures(r, srm_result=r.attrs["srm"], primary="converted").plain
    assert "All held" not in figs and "Not all measured" in figs


def test_a_failed_allocation_check_still_says_not_measured_for_the_empty_arm(tmp_path):
    path, df = _write(tmp_path, blank_in="treatment", n=300)
    df = pd.concat([df, df[df["variant"] == "control"].assign(unit_id=lambda d: d["unit_id"] + "x")])
    df.to_csv(path, index=False)  # 300 control units against 150: a sample-ratio mismatch
    r = experiments.compare(path, control="control", metrics={"converted": "proportion", "revenue": "mean"})
    assert r.attrs["srm"].mismatch and set(r["decision"]) == {experiments.NOT_INTERPRETABLE}
    texts, tables = _page_text(r, "revenue")
    assert "no units measured in Treatment" in texts[0]
    assert all("nan" not in t.lower() for t in texts + tables)


def test_codes_of_a_fully_measured_comparison_have_no_such_note(tmp_path):
    path, _ = _write(tmp_path, blank_in="none")
    r = experiments.compare(path, control="control", metrics={"converted": "proportion", "revenue": "mean"})
    assert "metric_not_measured_in_arm" not in codes(r.attrs["notes"])
    assert (r["n_variant"] > 0).all() and "not measured" not in set(r["decision"])
