"""journey.funnel counts steps the way ordered funnels of product-analytics tools do (issue 22 item 4):
a step counts at its first occurrence at or after the previous step's counted time, a repeated step needs
a row of its own, a step nobody reached is 0 (with a note naming the table's events), and a customer's
segment is the first non-blank value on their step events. Hand-written timelines, counts by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import journey, present
from cxlib.notes import codes

AS_OF = "2026-06-30"


def _csv(tmp_path, rows, columns=("customer_id", "event_name", "event_time"), fname="events.csv"):
    path = tmp_path / fname
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def _funnel(path, steps, **kw):
    return journey.funnel(path, steps=steps, min_n=1, as_of=AS_OF, **kw)


def test_a_step_done_before_the_previous_one_counts_when_done_again_after_it(tmp_path):
    path = _csv(tmp_path, [
        # a: checkout before signing up, again 48 h after signing up -> reaches checkout (48 h)
        ("a", "checkout", "2026-01-01 00:00"), ("a", "signup", "2026-01-02 00:00"),
        ("a", "checkout", "2026-01-04 00:00"),
        # b: signup, checkout 12 h later, purchase a day after that
        ("b", "signup", "2026-01-01 00:00"), ("b", "checkout", "2026-01-01 12:00"),
        ("b", "purchase", "2026-01-02 12:00"),
        # e: checkout at exactly the signup time counts ('at or after'): 0 h
        ("e", "signup", "2026-01-05 10:00"), ("e", "checkout", "2026-01-05 10:00"),
        # c: checkout only, never signed up -> not in the funnel
        ("c", "checkout", "2026-01-01 00:00"),
        # d: signed up only
        ("d", "signup", "2026-01-03 00:00"),
    ])
    f = _funnel(path, ["signup", "checkout", "purchase"]).set_index("step")
    # signup: a, b, d, e = 4; checkout: a, b, e = 3; purchase: b = 1
    assert f["reached"].tolist() == [4, 3, 1]
    assert f["previous"].tolist() == [4, 4, 3]
    # hours signup -> checkout: a 48, b 12, e 0 -> median 12; checkout -> purchase: b 24
    assert f.loc["checkout", "median_hours_from_previous"] == pytest.approx(12)
    assert f.loc["purchase", "median_hours_from_previous"] == pytest.approx(24)
    assert f.loc["checkout", "conversion"] == pytest.approx(3 / 4)
    assert f.attrs["notes"] == []


def test_step_conversion_and_weakest_step_use_the_same_rule(tmp_path):
    path = _csv(tmp_path, [
        ("a", "checkout", "2026-01-01"), ("a", "signup", "2026-01-02"), ("a", "checkout", "2026-01-04"),
        ("b", "signup", "2026-01-01"), ("b", "checkout", "2026-01-02"), ("b", "purchase", "2026-01-03"),
    ])
    steps = ["signup", "checkout", "purchase"]
    conv = journey.step_conversion(path, steps=steps, min_n=1, as_of=AS_OF).set_index("step")
    # checkout: a and b of 2 signups; purchase: b of those 2
    assert (conv.loc["checkout", "entered"], conv.loc["checkout", "converted"]) == (2, 2)
    assert (conv.loc["purchase", "entered"], conv.loc["purchase", "converted"]) == (2, 1)
    w = journey.weakest_step(path, steps=steps, min_n=1, as_of=AS_OF).iloc[0]
    assert (w["step"], w["conversion"], w["next_step"]) == ("purchase", 0.5, "checkout")


def test_step_times_end_counts_at_its_first_occurrence_after_the_start(tmp_path):
    rows = []
    for i in range(3):  # first_value 5 h before signup and again 30 h after it: completes in 30 h
        rows += [(f"x{i}", "first_value", "2026-01-01 00:00"), (f"x{i}", "signup", "2026-01-01 05:00"),
                 (f"x{i}", "first_value", "2026-01-02 11:00")]
    rows += [("y", "first_value", "2026-01-01 00:00"), ("y", "signup", "2026-01-01 05:00")]  # only before
    got = journey.step_times(_csv(tmp_path, rows), min_n=1, as_of=AS_OF).iloc[0]
    assert (got["n_start"], got["n"]) == (4, 3)
    assert got["median"] == pytest.approx(30)


def test_a_repeated_step_needs_an_occurrence_of_its_own(tmp_path):
    path = _csv(tmp_path, [
        # a: one view -> view (1st) yes, view (2nd) no
        ("a", "signup", "2026-01-01"), ("a", "view", "2026-01-02"),
        # b: two views a day apart, then purchase -> all four steps, 24 h each
        ("b", "signup", "2026-01-01"), ("b", "view", "2026-01-02"), ("b", "view", "2026-01-03"),
        ("b", "purchase", "2026-01-04"),
        # c: two view rows at the signup time: two rows, so both view steps (0 h each)
        ("c", "signup", "2026-01-01"), ("c", "view", "2026-01-01"), ("c", "view", "2026-01-01"),
        # d: a view before signup does not count; one view after -> only the first view step
        ("d", "view", "2026-01-01"), ("d", "signup", "2026-01-02"), ("d", "view", "2026-01-03"),
    ])
    f = _funnel(path, ["signup", "view", "view", "purchase"])
    # signup a b c d = 4; view a b c d = 4; view again b c = 2; purchase b = 1
    assert f["reached"].tolist() == [4, 4, 2, 1]
    # view (1st) hours: a 24, b 24, c 0, d 24 -> median (of 4) 24; view (2nd): b 24, c 0 -> 12
    assert f["median_hours_from_previous"].tolist()[1:] == pytest.approx([24, 12, 24])


def test_a_step_named_again_later_in_the_funnel_is_not_the_row_counted_before(tmp_path):
    path = _csv(tmp_path, [
        # f: one page row and a signup at the same time -> page, signup, but no second page
        ("f", "page", "2026-01-01 09:00"), ("f", "signup", "2026-01-01 09:00"),
        # g: two page rows at that time -> the second one is the third step
        ("g", "page", "2026-01-01 09:00"), ("g", "page", "2026-01-01 09:00"), ("g", "signup", "2026-01-01 09:00"),
        # h: page, signup, page an hour later
        ("h", "page", "2026-01-01 09:00"), ("h", "signup", "2026-01-01 09:30"), ("h", "page", "2026-01-01 10:00"),
        # i: as h, a day later
        ("i", "page", "2026-01-02 09:00"), ("i", "signup", "2026-01-02 09:30"), ("i", "page", "2026-01-02 10:00"),
    ])
    f = _funnel(path, ["page", "signup", "page"])
    # page f g h i = 4; signup = 4; page again: g (its second row), h, i = 3 (not f: one row is one step)
    assert f["reached"].tolist() == [4, 4, 3]
    # hours to signup: f 0, g 0, h 0.5, i 0.5 -> 0.25; to the second page: g 0, h 0.5, i 0.5 -> 0.5
    assert f["median_hours_from_previous"].tolist()[1:] == pytest.approx([0.25, 0.5])


def _brute_funnel(ev: pd.DataFrame, steps):
    """Independent greedy per customer: step k takes the earliest unused row of its name at or after
    step k-1's time (ties: any unused row)."""
    reached = np.zeros(len(steps), int)
    hours = [[] for _ in steps]
    for _, g in ev.sort_values("event_time", kind="mergesort").groupby("customer_id"):
        rows = list(g.itertuples())
        used, prev = set(), None
        for k, s in enumerate(steps):
            cand = [r for r in rows if r.event_name == s and r.Index not in used
                    and (prev is None or r.event_time >= prev)]
            if not cand:
                break
            r = min(cand, key=lambda r: r.event_time)
            used.add(r.Index)
            reached[k] += 1
            if prev is not None:
                hours[k].append((r.event_time - prev).total_seconds() / 3600)
            prev = r.event_time
    return reached, [np.median(h) if h else np.nan for h in hours]


def test_funnel_matches_an_independent_greedy_on_random_timelines(tmp_path):
    rng = np.random.default_rng(7)
    n = 400
    ev = pd.DataFrame({"customer_id": rng.integers(0, 60, n).astype(str),
                       "event_name": rng.choice(["a", "b", "c", "x"], n),
                       # whole hours over 4 days: plenty of ties at the same time
                       "event_time": pd.Timestamp("2026-02-01") + pd.to_timedelta(rng.integers(0, 96, n), unit="h")})
    path = tmp_path / "ev.csv"
    ev.to_csv(path, index=False)
    for steps in (["a", "b", "c"], ["a", "b", "a", "c"], ["a", "a", "a"], ["b", "a", "b", "a"]):
        got = _funnel(path, steps)
        reached, med = _brute_funnel(ev, steps)
        assert got["reached"].tolist() == reached.tolist(), steps
        np.testing.assert_allclose(got["median_hours_from_previous"].to_numpy(float), med, err_msg=str(steps))


def test_a_step_nobody_reached_is_zero_and_a_missing_name_is_noted_with_the_names_there_are(tmp_path):
    path = _csv(tmp_path, [
        ("a", "signup", "2026-01-01"), ("a", "purchse", "2026-01-02"),  # a typo in the data
        ("b", "signup", "2026-01-01"), ("b", "refund", "2025-12-31"),  # refund only before signup
    ])
    f = _funnel(path, ["signup", "refund", "purchase"])
    # refund: present but before signup -> 0 (no note); purchase: not in the table -> 0 with a note
    assert f["reached"].tolist() == [2, 0, 0]
    assert f["conversion"].tolist()[:2] == [pytest.approx(1.0), 0.0]
    assert f.loc[2, "suppressed"] and np.isnan(f.loc[2, "conversion"])  # nobody entered purchase
    (n,) = f.attrs["notes"]
    assert n.code == "funnel_step_missing" and n["steps"] == ["purchase"]
    assert n["available"] == ["purchse", "refund", "signup"] and n["n_available"] == 3
    words = str(present.note_text(n))
    assert "purchase" in words and "purchse" in words
    # no step of the funnel at all: zeros, not an error
    none = _funnel(path, ["trial", "paid"])
    assert none["reached"].tolist() == [0, 0] and codes(none.attrs["notes"]) == ["funnel_step_missing"]
    assert none.attrs["notes"][0]["steps"] == ["trial", "paid"]


def test_a_segment_is_the_first_non_blank_value_on_the_customers_step_events(tmp_path):
    path = _csv(tmp_path, [
        # a: blank on signup, 'pro' on checkout -> pro
        ("a", "signup", "2026-01-01", ""), ("a", "checkout", "2026-01-02", "pro"),
        # b: spaces on signup, 'basic' on checkout, 'pro' later -> basic
        ("b", "signup", "2026-01-01", "  "), ("b", "checkout", "2026-01-02", "basic"),
        ("b", "checkout", "2026-01-03", "pro"),
        # c: a non-step event says 'pro' first; the step events say 'basic' -> basic
        ("c", "login", "2025-12-01", "pro"), ("c", "signup", "2026-01-01", "basic"),
        # d: the first non-blank value is on a checkout before signup (a step event) -> pro
        ("d", "checkout", "2025-12-30", "pro"), ("d", "signup", "2026-01-01", "basic"),
        # e: only blanks -> the blank segment
        ("e", "signup", "2026-01-01", ""),
    ], columns=("customer_id", "event_name", "event_time", "plan"))
    f = _funnel(path, ["signup", "checkout"], by="plan")
    got = {(("" if pd.isna(r.plan) else r.plan), r.step): r.reached for r in f.itertuples()}
    # pro: a, d; basic: b, c; blank: e. checkout after signup: a, b
    assert got == {("basic", "signup"): 2, ("basic", "checkout"): 1, ("pro", "signup"): 2,
                   ("pro", "checkout"): 1, ("", "signup"): 1, ("", "checkout"): 0}
