"""Acceptance of the journey map on an analyst's own export and journey file (not the sample's): other event
names, UTC offsets, a skipped stage, repeated events, rows after the analysis date, a future-dated typo; one
clear error per mistake in the journey file (also before `cx run` starts); stages the data cannot fill say
why; small touchpoints are suppressed; customer text is masked and escaped. Hand-written data, expectations
counted by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import journey
from cxlib.data import CXDataError

JOURNEY = """\
stages:
  - name: Sign up
    promise: Signing up takes a minute.
    events: [Signed Up]
    owner: Growth
  - name: Onboarding
    promise: The account is ready within 5 days of signing up.
    events: [Completed Onboarding]
    target: {share: 0.8, within_days: 5}
    owner: Onboarding team
  - name: Checkout
    promise: Checkout is clear and safe.
    events: [Checkout Started]
    touchpoint: checkout
    target: {max_detractors: 0.2}
    owner: Payments
  - name: Order
    promise: A started checkout becomes an order.
    events: [Order Completed]
    target: {max_share: 0.4, within_days: 14}
    owner: Payments
  - name: Review
    promise: Customers review their order.
    events: [Review Written]
    owner: Community
  - name: Delivery
    promise: The parcel arrives as promised.
    touchpoint: delivery
    target: {max_detractors: 0.2}
    owner: Logistics
  - name: Loyalty
    promise: Loyal customers feel valued.
    touchpoint: loyalty
    owner: CRM
"""

# a: on time all the way; b: signs up twice, onboards late (13 days), checkout without order;
# c: skips onboarding (its checkout does not count); d: onboards twice, orders only after the analysis date;
# e: a future-dated typo; f: "onboarded" before signing up (does not count); g: signs up late, browses
EVENTS = [
    ("a", "2026-03-01T10:00:00+02:00", "Signed Up"),
    ("a", "2026-03-03T09:00:00-05:00", "Completed Onboarding"),
    ("a", "2026-03-10T12:00:00+00:00", "Checkout Started"),
    ("a", "2026-03-11T12:00:00+00:00", "Order Completed"),
    ("b", "2026-03-02T10:00:00+00:00", "Signed Up"),
    ("b", "2026-03-02T12:00:00+00:00", "Signed Up"),
    ("b", "2026-03-15T10:00:00+00:00", "Completed Onboarding"),
    ("b", "2026-03-20T10:00:00+00:00", "Checkout Started"),
    ("c", "2026-03-03T10:00:00+05:30", "Signed Up"),
    ("c", "2026-03-04T10:00:00+05:30", "Checkout Started"),
    ("d", "2026-03-04T10:00:00+00:00", "Signed Up"),
    ("d", "2026-03-05T10:00:00+00:00", "Completed Onboarding"),
    ("d", "2026-03-06T10:00:00+00:00", "Completed Onboarding"),
    ("d", "2026-05-01T10:00:00+00:00", "Order Completed"),
    ("e", "2099-01-01T10:00:00+00:00", "Signed Up"),
    ("f", "2026-03-01T10:00:00+00:00", "Completed Onboarding"),
    ("f", "2026-03-05T10:00:00+00:00", "Signed Up"),
    ("g", "2026-04-20T10:00:00-07:00", "Signed Up"),
    ("g", "2026-04-28T10:00:00-07:00", "Browsed"),
]


def _events() -> pd.DataFrame:
    return pd.DataFrame(EVENTS, columns=["customer_id", "event_time", "event_name"])


def _responses() -> pd.DataFrame:
    rows = []
    for i in range(40):  # checkout: 40 answers, 10 detractors
        score = 3 if i < 10 else 9
        comment = ("The payment page crashed, call me on +44 20 7946 0958 or jane.doe@corp.example.com "
                   "<script>alert(1)</script>") if i < 10 else ""
        rows.append({"customer_id": f"x{i}", "response_time": f"2026-03-{1 + i % 28:02d} 10:00:00",
                     "nps": score, "touchpoint": "checkout", "comment": comment})
    for i in range(3):  # delivery: 3 answers, fewer than min_n
        rows.append({"customer_id": f"y{i}", "response_time": "2026-03-10 10:00:00", "nps": 2,
                     "touchpoint": "delivery", "comment": "Parcel lost"})
    return pd.DataFrame(rows)


def _file(tmp_path, text, name="shop_journey.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.fixture()
def shop(tmp_path):
    return journey.journey_map(_events(), responses=_responses(), journey=_file(tmp_path, JOURNEY),
                               as_of="2026-04-30", n_boot=99)


def test_counts_follow_the_funnel_rule_across_utc_offsets(shop):
    m = shop.set_index("stage")
    # e (2099) and d's May order are after the analysis date; f's early onboarding and c's checkout do not count
    assert m.loc["Sign up", "customers"] == 6  # a b c d f g (b's second sign-up counts once)
    assert m.loc["Onboarding", "customers"] == 3  # a b d
    assert m.loc["Onboarding", "conversion"] == pytest.approx(3 / 6)
    # within 5 days: a (2.25 days across +02:00/-05:00) and d (1 day); b took 13 days
    assert (m.loc["Onboarding", "promise_n"], m.loc["Onboarding", "promise_k"]) == (6, 2)
    assert m.loc["Checkout", "customers"] == 2  # a b; c skipped onboarding
    assert m.loc["Order", "customers"] == 1  # a; d's order is after the analysis date
    assert (m.loc["Order", "promise_n"], m.loc["Order", "promise_k"]) == (2, 1)
    codes = [n.code for n in shop.attrs["notes"]]
    assert "rows_after_as_of" in codes


def test_a_stage_the_events_lack_says_so_lists_the_names_and_is_not_the_weakest_step(shop):
    from cxlib.pages.journey_map import headline_picks

    row = shop.set_index("stage").loc["Review"]
    assert row["status"] == "not_found" and row["customers"] == 0
    assert "Signed Up" in row["events_in_table"] and "Order Completed" in row["events_in_table"]
    assert pd.isna(row["conversion_change"])  # 0 of n against 0 of n is no change worth a line
    note = next(n for n in shop.attrs["notes"] if n.code == "journey_stage_not_found")
    assert "Checkout Started" in note["available"]
    assert headline_picks(shop)["weakest_conversion"]["stage"] != "Review"


def test_a_touchpoint_below_min_n_shows_its_count_only(shop):
    row = shop.set_index("stage").loc["Delivery"]
    assert row["answers"] == 3
    assert pd.isna(row["nps"]) and pd.isna(row["promise_share"]) and pd.isna(row["nps_gap"])
    assert pd.isna(row["target_status"]) and not row["friction"] > 0
    note = next(n for n in shop.attrs["notes"] if n.code == "journey_few_answers")
    assert (note["stage"], note["answers"], note["min_n"]) == ("Delivery", 3, 30)
    # at and above min_n the score is shown: checkout's 40 answers, 10 detractors
    ck = shop.set_index("stage").loc["Checkout"]
    assert ck["nps"] == pytest.approx(100 * (30 - 10) / 40)
    assert (ck["promise_n"], ck["promise_k"]) == (40, 30)


def test_a_touchpoint_nobody_answered_says_so_and_lists_the_touchpoints(shop):
    note = next(n for n in shop.attrs["notes"] if n.code == "journey_touchpoint_not_found")
    assert note["stage"] == "Loyalty" and note["available"] == ["checkout", "delivery"]


def test_quotes_without_respondent_ids_are_masked(shop):
    q = shop.set_index("stage").loc["Checkout", "quote"]
    assert isinstance(q, str) and "[phone]" in q and "[email]" in q
    assert "7946" not in q and "jane.doe" not in q


def test_the_page_words_escape_and_explain(shop):
    from types import SimpleNamespace

    from cxlib.pages.journey_map import headline_picks
    from cxlib.present import journey_map as words

    fr = shop[shop["friction"] > 0].sort_values("rank")
    page = SimpleNamespace(map=shop, friction=fr, headline=headline_picks(shop), notes=[], as_of=shop.attrs["as_of"])
    html = str(words.stage_sections(page)) + words.journey_map_table(page).as_raw_html()
    html += str(words.journey_inputs(page))
    if len(fr):
        html += words.friction_table(page).as_raw_html()
    assert "<script>" not in html
    assert "Too few answers to judge" in html and "too few to show scores" in html
    assert "No answers at its touchpoint" in html
    assert "event names include Browsed, Checkout Started" in html
    for bad in ("NaN", "None", "nan%", "True", "False", "Traceback"):
        assert bad not in html.replace("NoneType", ""), bad


BAD = {
    "unknown key": (JOURNEY.replace("    owner: Growth\n", "    owner: Growth\n    colour: red\n"),
                    ["Sign up", "unknown key 'colour'"]),
    "typo in a target": (JOURNEY.replace("{share: 0.8, within_days: 5}", "{shares: 0.8, within_days: 5}"),
                         ["Onboarding", "unknown target key 'shares'", "share"]),
    "80 instead of 0.8": (JOURNEY.replace("{share: 0.8, within_days: 5}", "{share: 80, within_days: 5}"),
                          ["Onboarding", "between 0 and 1", "0.8 for 80%"]),
    "nothing to recognise": (JOURNEY.replace("    events: [Review Written]\n", ""),
                             ["Review", "nothing to recognise it by", "events, a touchpoint or ticket_channels"]),
    "duplicated names": (JOURNEY.replace("name: Review", "name: Checkout"), ["Checkout", "used twice"]),
    "empty": ("", ["is empty", "stages:"]),
    "not YAML": ("stages:\n  - name: [unclosed\n\tpromise: x\n", ["not valid YAML", "line 3"]),
    "a list": ("- name: Sign up\n  promise: p\n  events: [Signed Up]\n", ["holds a list", "stages:"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_journey_file_mistake_is_one_clear_cxlib_error(tmp_path, case):
    text, expected = BAD[case]
    with pytest.raises(CXDataError) as err:
        journey.load_journey(_file(tmp_path, text))
    msg = str(err.value)
    assert "shop_journey.yaml" in msg and str(tmp_path) not in msg
    for part in expected:
        assert part in msg, (case, msg)
    assert len(msg.splitlines()) == 1 and "Traceback" not in msg
    # no YAML or Python error chained under it: one message, no traceback of the parser
    assert err.value.__cause__ is None and (err.value.__context__ is None or err.value.__suppress_context__)


def test_cx_preflight_stops_a_bad_journey_file_before_anything_runs(tmp_path):
    from cxlib.pages.journey_map import PARAMETERS
    from cxlib.reports import preflight

    params = {**PARAMETERS, "journey": _file(tmp_path, BAD["80 instead of 0.8"][0])}
    problems = preflight({"journey_map": params}, {"journey_map": {"journey"}})
    assert len(problems) == 1
    assert problems[0].startswith("journey_map: parameter 'journey': journey file shop_journey.yaml")
    assert str(tmp_path) not in problems[0]
    good = {**PARAMETERS, "journey": _file(tmp_path, JOURNEY, "ok.yaml")}
    assert not [p for p in preflight({"journey_map": good}, {"journey_map": {"journey"}}) if "journey" in p]
