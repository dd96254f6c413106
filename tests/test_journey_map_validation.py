"""The journey file: one clear error per mistake (naming the file and the stage); what is not a mistake."""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import journey
from cxlib.data import CXDataError
from cxlib.journey.spec import load_journey


def _file(tmp_path, text: str):
    p = tmp_path / "my_journey.yaml"
    p.write_text(text)
    return p


GOOD = """stages:
  - name: Sign-up
    promise: Quick.
    events: [signup]
  - name: Buy
    promise: Buys soon.
    events: [buy]
    target: {share: 0.5, within_days: 14}
    owner: Growth
"""


def test_the_default_journey_loads_and_has_a_hash():
    j = load_journey()
    assert [s["name"] for s in j["stages"]][:2] == ["Sign-up", "Onboarding"]
    assert len(j["sha256"]) == 64


def test_a_good_file(tmp_path):
    j = load_journey(_file(tmp_path, GOOD))
    assert j["stages"][1]["target"] == {"kind": "reach", "share": 0.5, "given": "share", "value": 0.5,
                                        "within_days": 14.0}
    assert j["stages"][1]["bad"] == "missed_promise"


@pytest.mark.parametrize("text, words", [
    ("stages:\n  - name: A\n    promise: p\n    owner: x\n", "stage 'A': has nothing to recognise it by"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n    colour: red\n", "stage 'A': unknown key 'colour'"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n  - name: B\n    promise: p\n    events: [b]\n"
     "    target: 80%\n", "stage 'B': target must be a mapping"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n  - name: B\n    promise: p\n    events: [b]\n"
     "    target: {share: 80}\n", "stage 'B': target share must be a share between 0 and 1"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n  - name: B\n    promise: p\n    events: [b]\n"
     "    target: {share: 0.8, max_share: 0.2}\n", "stage 'B': a target needs exactly one of"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n  - name: B\n    promise: p\n    events: [b]\n"
     "    target: {share: 0.8, within: 7}\n", "stage 'B': unknown target key 'within'"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n  - name: B\n    promise: p\n    events: [b]\n"
     "    target: {share: 0.8, within_days: -1}\n", "stage 'B': target within_days must be a positive"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n    target: {share: 0.8}\n",
     "stage 'A': the first event stage has no previous stage"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n    target: {max_detractors: 0.2}\n",
     "stage 'A': a max_detractors target needs the stage's touchpoint"),
    ("stages:\n  - name: S\n    promise: p\n    touchpoint: support\n    target: {share: 0.9, first_response: true}\n",
     "stage 'S': a first_response target needs the stage's ticket_channels"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n    bad: rude\n", "stage 'A': bad must be one of"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n    bad: missed_promise\n",
     "stage 'A': bad: missed_promise needs a target"),
    ("stages:\n  - name: A\n    events: [a]\n", "stage 'A': needs its promise"),
    ("stages:\n  - promise: p\n    events: [a]\n", "stage 1: needs a name"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\n  - name: A\n    promise: p\n    events: [b]\n",
     "stage 'A': the name is used twice"),
    ("steps: []\n", "needs a list of stages"),
    ("stages:\n  - name: A\n    promise: p\n    events: [a]\nversion: 2\n", "unknown key 'version'"),
])
def test_one_clear_error_per_mistake(tmp_path, text, words):
    with pytest.raises(CXDataError) as exc:
        load_journey(_file(tmp_path, text))
    msg = str(exc.value)
    assert "my_journey.yaml" in msg and words in msg


def test_an_unknown_event_name_is_not_an_error(tmp_path):
    ev = pd.DataFrame({"customer_id": ["a", "a", "b"], "event_name": ["signup", "buy", "signup"],
                       "event_time": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"])})
    text = GOOD.replace("events: [buy]", "events: [bought]")
    m = journey.journey_map(ev, journey=_file(tmp_path, text), as_of="2026-02-01")
    row = m.set_index("stage").loc["Buy"]
    assert row["status"] == "not_found" and row["customers"] == 0
    codes = {n.code: n for n in m.attrs["notes"]}
    assert "buy" in codes["funnel_step_missing"]["available"]  # the names the table has: the typo shows
    assert codes["journey_stage_not_found"]["stage"] == "Buy"


def test_a_stage_whose_table_is_not_given_says_what_it_needs():
    ev = pd.DataFrame({"customer_id": ["a", "a"], "event_name": ["signup", "onboarding_done"],
                       "event_time": pd.to_datetime(["2026-01-01", "2026-01-02"])})
    m = journey.journey_map(ev, as_of="2026-02-01").set_index("stage")
    assert m.loc["Support", "status"] == "needs_tickets"
    assert m.loc["Renewal", "status"] == "needs_responses"
    assert m.loc["Sign-up", "needs"] == "responses"  # counted from events; its touchpoint needs answers


def test_no_table_at_all_is_an_error():
    with pytest.raises(CXDataError, match="at least one of events"):
        journey.journey_map()
