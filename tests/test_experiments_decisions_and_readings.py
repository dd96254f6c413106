"""One definition of each decision (cxlib.experiments.decide) and the readings the page shows, computed in
the analysis (settled, power_table, heterogeneity_intervals, cuped_gain), on hand-written rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import decisions, experiments, present
from cxlib.notes import note


def _rows(**over):
    base = {"variant": ["b", "b", "c"], "metric": ["conv", "csat", "conv"], "p_adjusted": [0.001, 0.2, 0.3],
            "abs_diff": [0.02, -0.3, 0.01], "abs_ci_lower": [0.01, -0.5, -0.01], "abs_ci_upper": [0.03, -0.1, 0.03],
            "direction": "increase", "margin": 0.0, "guardrail": [False, True, False],
            "n_control": [100, 100, 100], "n_variant": [100, 100, 100]}
    return pd.DataFrame({**base, **over})


def test_a_breached_guardrail_vetoes_the_same_variants_win():
    got = experiments.decide(_rows())["decision"].tolist()
    assert got == [decisions.BLOCKED_BY_GUARDRAIL, decisions.GUARDRAIL_BREACHED, decisions.INCONCLUSIVE]


def test_an_arm_without_units_is_not_measured():
    got = experiments.decide(_rows(n_variant=[100, 100, 0]))["decision"].tolist()
    assert got[2] == decisions.NOT_MEASURED


def test_a_failed_allocation_check_gates_every_decision_with_a_note_code():
    r = experiments.gate(experiments.decide(_rows()), experiments.srm({"control": 5000, "b": 4000}))
    assert set(r["decision"]) == {decisions.NOT_INTERPRETABLE}
    (n,) = r.attrs["notes"]
    assert n.code == "sample_ratio_mismatch" and n["p_value"] < 0.001
    assert str(present.note_text(n)).startswith("Sample ratio mismatch (chi-square p = ")
    fine = experiments.gate(experiments.decide(_rows()), experiments.srm({"control": 5000, "b": 5010}))
    assert decisions.BLOCKED_BY_GUARDRAIL in set(fine["decision"]) and "notes" not in fine.attrs


def test_present_and_experiments_share_the_codes():
    assert experiments.NOT_INTERPRETABLE is decisions.NOT_INTERPRETABLE
    assert present.NOT_MEASURED is decisions.NOT_MEASURED


def test_note_words_for_units_without_variant_and_capping():
    assert str(present.note_text(note("units_without_variant", count=1))) == (
        "1 unit has no variant and is left out of every comparison.")
    assert str(present.note_text(note("metric_capped", metric="rev", percentile=99.0, cap_value=1234.5))) == (
        "rev is capped at its 99th percentile (1,234): larger values count as 1,234.")


def test_settled_reads_the_last_week_and_the_sequence_run():
    days = pd.date_range("2026-10-01", periods=10, freq="D")
    lo = np.array([-0.1, -0.1, 0.01, 0.02, -0.01, 0.01, 0.02, 0.03, 0.03, 0.04])
    t = pd.DataFrame({"period": days, "variant": "b", "kind": "proportion", "direction": "increase",
                      "rel_lift": 0.1, "rel_ci_lower": lo, "rel_ci_upper": lo + 0.2, "abs_diff": 0.01,
                      "cs_lower": lo, "cs_upper": lo + 0.2})
    r = experiments.settled(t).iloc[0]
    # the last 7 days (4 Oct to 10 Oct) include -0.01 on 5 Oct: not settled above zero
    assert r["window_side"] == 0 and r["n_periods"] == 10 and r["n_days"] == 10
    # the sequence excludes zero from 6 Oct (day 6) to the end, after a break on 5 Oct
    assert r["cs_side"] == 1 and r["cs_since"] == pd.Timestamp("2026-10-06") and r["cs_day"] == 6


def test_power_table_uses_the_foundations_arithmetic():
    r = pd.DataFrame({"metric": ["conv", "rev"], "kind": ["proportion", "mean"], "control_value": [0.10, 5.0],
                      "n_control": [5000, 5000]})
    got = experiments.power_table(r, days=10)
    assert got["metric"].tolist() == ["conv"]
    need = experiments.sample_size(0.10, 0.10)
    assert got["units_per_arm_needed"].iloc[0] == need
    assert got["more_days_needed"].iloc[0] == np.ceil((need - 5000) / 500)


def test_heterogeneity_intervals_are_normal_intervals_of_the_pooled_effect():
    h = pd.DataFrame({"pooled_effect": [0.02, 1.0], "pooled_se": [0.01, 0.5], "p_value": [0.2, 0.01]})
    got = experiments.heterogeneity_intervals(h, alpha=0.10)
    assert got["pooled_ci_lower"].tolist() == pytest.approx([0.02 - 1.6448536 * 0.01, 1.0 - 1.6448536 * 0.5])
    assert got["differs"].tolist() == [False, True]


def test_cuped_gain_per_metric():
    c = pd.DataFrame({"metric": ["m", "m"], "interval_width_ratio": [0.5, 0.7], "variance_reduction": [0.6, 0.6]})
    g = experiments.cuped_gain(c).iloc[0]
    assert g["narrower_low"] == pytest.approx(0.3) and g["narrower_high"] == pytest.approx(0.5)
    assert g["units_worth"] == pytest.approx(1 / 0.36 - 1)
