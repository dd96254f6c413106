"""With specs alone: a Shopify orders export and a journey file of first purchase -> second purchase, alone
and with a survey export (which has no touchpoint column: its stages say what they need)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cxlib import journey, present
from cxlib.pages import journey_map as page

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
SHOPIFY = {"path": str(EXPORTS / "shopify_orders.csv"), "layout": "shopify"}
SURVEY = {"path": str(EXPORTS / "qualtrics.csv"), "layout": "qualtrics"}
JOURNEY = """stages:
  - name: First purchase
    promise: The first order goes through.
    events: [purchase]
    touchpoint: purchase
    owner: Shop
  - name: Second purchase
    promise: A first-time buyer orders again within a week.
    events: [purchase]
    target: {share: 0.3, within_days: 7}
    owner: Retention
"""


@pytest.fixture()
def journey_file(tmp_path):
    p = tmp_path / "shop_journey.yaml"
    p.write_text(JOURNEY)
    return str(p)


def test_shopify_first_and_second_purchase(journey_file):
    m = journey.journey_map(SHOPIFY, journey=journey_file, as_of="2026-11-30")
    f = journey.funnel(SHOPIFY, steps=["purchase", "purchase"], as_of="2026-11-30", min_n=0)
    assert list(m["customers"].astype(int)) == list(f["reached"])
    second = m.set_index("stage").loc["Second purchase"]
    assert second["promise_n"] > 0 and second["target_status"] in ("met", "missed", "too_close")
    assert m.set_index("stage").loc["First purchase", "status"] == "needs_responses"


def test_shopify_with_a_survey_export(journey_file):
    r = page.build({"events": SHOPIFY, "responses": SURVEY, "tickets": None, "subscriptions": None,
                    "journey": journey_file, "as_of": "2026-11-30", "period": "month"})
    m = r.map.set_index("stage")
    assert m.loc["First purchase", "status"] == "needs_touchpoint"
    assert "journey_no_touchpoint" in [n.code for n in r.map.attrs["notes"]]
    assert "touchpoint" in str(present.journey_inputs(r))
    assert present.journey_map_table(r).as_raw_html()
