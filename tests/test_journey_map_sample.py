"""The sample's planted effects are found by the journey map page; the page's words render and escape."""
from __future__ import annotations

import pytest

from cxlib import present
from cxlib.pages import journey_map as page


@pytest.fixture(scope="module")
def result():
    return page.build(page.PARAMETERS)


def _row(result, stage):
    return result.map.set_index("stage").loc[stage]


def test_onboarding_is_the_lowest_nps_touchpoint_beyond_noise(result):
    assert result.headline["lowest_nps"]["stage"] == "Onboarding"
    assert _row(result, "Onboarding")["nps_gap_ci_upper"] < 0


def test_the_weakest_step_by_conversion_is_purchase(result):
    assert result.headline["weakest_conversion"]["stage"] == "Purchase"
    conv = result.map.dropna(subset=["conversion"]).set_index("stage")["conversion"]
    others = conv.drop("Purchase")
    assert conv["Purchase"] < others.min()


def test_a_slow_first_reply_about_doubles_churn(result):
    s = _row(result, "Support")
    assert s["churn_touch"] == "slow_first_response"
    assert s["churn_hr_ci_lower"] > 1 and s["churn_hr_ci_lower"] <= 2 <= s["churn_hr_ci_upper"]


def test_the_promise_miss_found_is_support_first_replies(result):
    """With the default journey's targets (CX practice, not fitted), the one stage missing its promise
    beyond noise is support's first replies: the planted slow email replies."""
    assert list(result.friction["stage"]) == ["Support"]
    s = _row(result, "Support")
    assert s["target_status"] == "missed" and s["promise_ci_upper"] < s["target"]
    assert s["friction"] == pytest.approx(s["promise_n"] * (s["target"] - s["promise_share"]))


def test_stages_in_order_and_the_hash(result):
    assert result.stages == ["Sign-up", "Onboarding", "First value", "Checkout", "Purchase", "Support", "Renewal"]
    assert len(result.sha256) == 64 and result.sha256 in present.journey_footer(result)


def test_the_page_words(result):
    html = str(present.journey_answer(result))
    assert "Support" in html and "Onboarding" in html and "association" in html
    table = present.journey_map_table(result).as_raw_html()
    assert "✗ Missed" in table and "✓ Met" in table  # a mark in words and a symbol, not colour alone
    assert "Support" in present.friction_table(result).as_raw_html()
    sections = str(present.stage_sections(result))
    assert sections.count("<h3>") == 7
    frame = present.headline_frame(present.journey_answer(result), present.journey_figures(result))
    assert len(frame) >= 3


def test_missing_tables_say_what_they_need():
    r = page.build({**page.PARAMETERS, "tickets": None, "subscriptions": None, "responses": None})
    m = r.map.set_index("stage")
    assert m.loc["Support", "status"] == "needs_tickets"
    assert m.loc["Renewal", "status"] == "needs_responses"
    words = str(present.journey_inputs(r))
    assert "No a tickets table" not in words and "tickets" in words and "churn after a bad experience" in words
    assert "— Needs" in present.journey_map_table(r).as_raw_html()
