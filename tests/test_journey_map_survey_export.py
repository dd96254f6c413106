"""With specs alone: the Shopify orders export (first purchase -> second purchase) together with a survey
export whose rows carry the customer (an e-mail hidden field) and the touchpoint (a "Which order ..."
question) through a spec's ``columns:`` mapping. The map shows the scores at the touchpoint stages, a stage
whose table is missing says what it needs, and no contact detail reaches the page."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlib import journey, present
from cxlib.pages import journey_map as page

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
SHOPIFY = {"path": str(EXPORTS / "shopify_orders.csv"), "layout": "shopify"}
AS_OF = "2025-03-31"
QUESTION = "Which order are you telling us about?"
JOURNEY = """stages:
  - name: First purchase
    promise: The first order is easy to place.
    events: [purchase]
    touchpoint: My first order
    target: {max_detractors: 0.4}
    owner: Shop
  - name: Second purchase
    promise: A first-time buyer orders again within a week.
    events: [purchase]
    touchpoint: A repeat order
    target: {share: 0.3, within_days: 7}
    owner: Retention
  - name: Support
    promise: Questions about an order get a first reply within the channel's target.
    ticket_channels: [email]
    target: {share: 0.9, first_response: true}
    owner: Support
"""
# hand-written answers: one per customer after the first order, four after a repeat order
FIRST = [10, 9, 9, 8, 7, 6, 3, 10, 9, 5]
REPEAT = [10, 4, 9, 2]


@pytest.fixture()
def files(tmp_path):
    """A Typeform-like responses CSV (Results -> Download -> CSV): the score, the "Which order" question, the
    reason, and an ``email`` hidden field holding the Shopify customers' e-mails; and the journey file."""
    shop = pd.read_csv(EXPORTS / "shopify_orders.csv", dtype=str)
    emails = list(shop.loc[shop["Email"].notna(), "Email"].drop_duplicates())
    assert len(emails) == len(FIRST)
    rows = [(f"tf{i:03d}a", s, "My first order", f"Slow checkout, write me at {e}", e, "2025-03-15 10:02:00")
            for i, (s, e) in enumerate(zip(FIRST, emails))]
    rows += [(f"tf{i:03d}b", s, "A repeat order", "Fine", e, "2025-03-20 16:45:00")
             for i, (s, e) in enumerate(zip(REPEAT, emails))]
    df = pd.DataFrame(rows, columns=["#", "How likely are you to recommend Acme to a friend or colleague?", QUESTION,
                                     "Why did you give that score?", "email", "Submit Date (UTC)"])
    df.insert(5, "Response Type", "completed")
    df.insert(6, "Start Date (UTC)", df["Submit Date (UTC)"])
    df.insert(7, "Stage Date (UTC)", df["Submit Date (UTC)"])
    df["Network ID"] = [f"n{i:04d}" for i in range(len(df))]
    df["Tags"] = ""
    survey = tmp_path / "typeform_orders.csv"
    df.to_csv(survey, index=False)
    jf = tmp_path / "shop_journey.yaml"
    jf.write_text(JOURNEY)
    spec = {"path": str(survey), "layout": "typeform", "columns": {"customer_id": "email", "touchpoint": QUESTION}}
    return spec, str(jf)


def _nps(scores):
    s = pd.Series(scores)
    return 100 * ((s >= 9).mean() - (s <= 6).mean())


def test_scores_at_the_touchpoint_stage_and_what_missing_tables_need(files):
    survey, jf = files
    published = {}
    s = page.setup({"events": SHOPIFY, "responses": survey, "tickets": None, "subscriptions": None, "journey": jf,
                    "as_of": AS_OF}, publish=lambda t, n: published.setdefault(n, t))
    st = page.journey_map(s)
    m = st.map.set_index("stage")
    f = journey.funnel(SHOPIFY, steps=["purchase", "purchase"], as_of=AS_OF, min_n=0)
    assert list(m["customers"].iloc[:2].astype(int)) == list(f["reached"])
    # 10 and 4 answers are below the page's min_n (30, as on every page): counted, their scores suppressed
    for stage, scores in (("First purchase", FIRST), ("Second purchase", REPEAT)):
        assert m.loc[stage, "answers"] == len(scores)
        assert pd.isna(m.loc[stage, "nps"])
        assert m.loc[stage, "status"] == "ok"
    assert pd.isna(m.loc["First purchase", "target_status"])  # a detractor target on 10 answers is not judged
    assert [n["stage"] for n in st.map.attrs["notes"] if n.code == "journey_few_answers"] == [
        "First purchase", "Second purchase"]
    # the same export with min_n=0: the numbers equal the hand computation
    m0 = journey.journey_map(SHOPIFY, responses=survey, journey=jf, as_of=AS_OF, min_n=0).set_index("stage")
    for stage, scores in (("First purchase", FIRST), ("Second purchase", REPEAT)):
        assert m0.loc[stage, "answers"] == len(scores)
        assert m0.loc[stage, "nps"] == pytest.approx(_nps(scores))
        assert m0.loc[stage, "status"] == "ok"
    first = m0.loc["First purchase"]
    detractors = sum(x <= 6 for x in FIRST)
    assert (first["promise_n"], first["promise_k"]) == (len(FIRST), len(FIRST) - detractors)
    assert first["target_status"] in ("met", "missed", "too_close")
    # the support stage has no tickets table: its row says so, and the page says what it needs
    assert m.loc["Support", "status"] == "needs_tickets" and pd.isna(m.loc["Support", "customers"])
    codes = [(n.code, dict(n.values).get("table")) for n in st.notes]
    assert ("journey_table_not_given", "tickets") in codes
    html = str(present.journey_map_table(st).as_raw_html())
    assert "Needs a tickets table" in html
    assert "tickets table" in str(present.journey_inputs(st))
    assert set(published) >= {"config_files", "journey_map"}
    assert list(published["config_files"]["name"]) == ["shop_journey.yaml"]


def test_contact_details_never_reach_the_page(files):
    survey, jf = files
    published = {}
    s = page.setup({"events": SHOPIFY, "responses": survey, "tickets": None, "subscriptions": None, "journey": jf,
                    "as_of": AS_OF}, publish=lambda t, n: published.setdefault(n, t))
    st, fr = page.journey_map(s), page.friction(s)
    shown = [present.journey_answer(st), present.journey_map_table(st).as_raw_html(), present.friction_answer(fr),
             present.friction_table(fr).as_raw_html(), present.stage_sections(st), present.journey_method(st),
             present.journey_inputs(st), present.journey_footer(st)]
    shown += [t.to_csv() for t in published.values()]
    assert not any("@example.com" in str(x) or "+1 555" in str(x) for x in shown)
    assert str(Path(jf).parent) not in str(present.journey_footer(st))  # the file's name, never its folder
    assert not any(str(Path(jf).parent) in t.to_csv() for t in published.values())


def test_response_rate_joins_the_survey_to_the_orders(files):
    survey, jf = files
    m = journey.journey_map(SHOPIFY, responses=survey, journey=jf, as_of=AS_OF).set_index("stage")
    assert m.loc["First purchase", "respondents"] == len(FIRST)
    # customers who bought, by hand from the raw export: an order's first row carries its e-mail; an order
    # without one is a guest of its own, who got no survey
    shop = pd.read_csv(EXPORTS / "shopify_orders.csv", dtype=str).drop_duplicates("Name")
    buyers = shop["Email"].fillna("guest:" + shop["Name"]).nunique()
    assert buyers == len(FIRST) + 1
    assert m.loc["First purchase", "response_rate"] == pytest.approx(len(FIRST) / buyers)
