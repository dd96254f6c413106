"""An empty period is a finding on the page, not a failure of the run (issue 21, item 2).

Hand-written rows: the scorecard's latest complete week before the analysis date has no answers; each
result says so (n = 0, a note naming the last week with answers and its figures) and the page renders.
The audit of the other pages' empty cases is at the end (one test per case found).
"""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from cxlib import experiments, journey, metrics, plots, present, scorecard
from cxlib.data import CXDataError
from cxlib.notes import codes
from cxlib.paths import PROJECT_ROOT

AS_OF = "2026-12-06 23:59:59"           # a Sunday evening: the last complete week is 30 Nov - 6 Dec
EMPTY = pd.Timestamp("2026-11-30")      # ... and nobody answered in it
LAST = pd.Timestamp("2026-11-23")       # the last week with answers


def _responses(tmp_path, *, late=0):
    """Five weeks of answers (26 Oct - 29 Nov), none in the week of 30 Nov; ``late`` rows after AS_OF."""
    rng = np.random.default_rng(7)
    rows = []
    for w, week in enumerate(pd.date_range("2026-10-26", LAST, freq="7D")):
        for k in range(40):
            rows.append({"respondent_id": f"r{w}_{k}", "customer_id": f"c{k}",
                         "response_time": (week + pd.Timedelta(hours=int(rng.integers(0, 24 * 7)))).isoformat(sep=" "),
                         "nps": int(rng.integers(0, 11)), "csat": int(rng.integers(1, 6)),
                         "comment": "slow delivery" if k % 3 == 0 else "",
                         "channel": "email" if k % 2 else "chat",
                         "plan": "pro" if (k % 4 == 0 and w < 4) else "basic"})   # 'pro' vanishes in the last week
    for k in range(late):
        rows.append({"respondent_id": f"late{k}", "customer_id": "c1", "response_time": "2026-12-09 10:00:00",
                     "nps": 10, "csat": 5, "comment": "", "channel": "email", "plan": "basic"})
    df = pd.DataFrame(rows)
    path = tmp_path / "responses.csv"
    df.to_csv(path, index=False)
    df["response_time"] = pd.to_datetime(df["response_time"])
    return path, df


def _nps(s):
    return 100 * ((s >= 9).mean() - (s <= 6).mean())


def _plain(t) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", str(t), flags=re.S))))


def test_headline_on_a_week_without_answers_names_the_last_week_with_answers(tmp_path):
    path, df = _responses(tmp_path)
    head = scorecard.headline(path, csat="csat", ces=None, as_of=AS_OF)
    assert head.attrs["week"] == EMPTY                       # the last complete week before as_of, not the data's
    assert (head["n"] == 0).all() and head["value"].isna().all() and not head["beyond_noise"].any()
    found = {n["metric"]: n for n in head.attrs["notes"] if getattr(n, "code", None) == "no_answers_in_week"}
    last = df[(df.response_time >= LAST) & (df.response_time < EMPTY)]
    assert found["nps"]["week"] == EMPTY and found["nps"]["last_week"] == LAST
    assert found["nps"]["n"] == len(last) and found["nps"]["value"] == pytest.approx(_nps(last.nps))
    assert found["csat"]["value"] == pytest.approx((last.csat >= 4).mean())


def test_an_empty_week_is_said_in_words_on_tiles_answer_and_summary(tmp_path):
    path, df = _responses(tmp_path)
    head = scorecard.headline(path, csat=None, ces=None, as_of=AS_OF)
    last = df[(df.response_time >= LAST) & (df.response_time < EMPTY)]
    want = (f"No NPS answers in the week of 30 Nov 2026; the last week with answers was that of 23 Nov 2026: "
            f"NPS {present.points(_nps(last.nps))}")
    for out in (present.scorecard_figures(head, min_n=30), present.headline_answer(head),
                present.scorecard_summary(head[head["value"].notna()])):
        words = _plain(out)
        assert want in words and f"n = {len(last)}" in words
        assert not re.search(r"\bnan\b|NaN|None", words)


def test_a_week_with_no_answer_at_all_before_it_says_so(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame({"respondent_id": ["a"], "response_time": ["2026-12-09 10:00"], "nps": [9]}).to_csv(path, index=False)
    head = scorecard.headline(path, csat=None, ces=None, as_of=AS_OF)
    assert "nor in any week before it" in _plain(present.headline_answer(head))


def test_default_week_is_the_last_complete_week_before_as_of_and_a_later_week_is_an_error(tmp_path):
    path, _ = _responses(tmp_path)
    for as_of, week in (("2026-12-06", EMPTY), ("2026-12-05 23:00", LAST), ("2026-12-09", EMPTY)):
        assert scorecard.headline(path, csat=None, ces=None, as_of=as_of).attrs["week"] == week
        assert week == scorecard.last_complete_week(as_of)
    with pytest.raises(CXDataError, match="after the analysis date"):
        scorecard.headline(path, week="2026-12-01", csat=None, ces=None, as_of="2026-12-05")
    with pytest.raises(CXDataError, match="after the analysis date"):
        scorecard.segment_table(path, week="2026-12-07", by="channel", as_of=AS_OF)


def test_answers_after_as_of_are_left_out_with_one_note(tmp_path):
    path, df = _responses(tmp_path, late=3)
    head = scorecard.headline(path, week=LAST, csat="csat", ces=None, as_of=AS_OF)
    assert head.loc[head.metric == "nps", "n"].iloc[0] == ((df.response_time >= LAST) & (df.response_time < EMPTY)).sum()
    late = [n for n in head.attrs["notes"] if getattr(n, "code", None) == "rows_after_as_of"]
    assert len(late) == 1 and late[0]["counts"] == {"response_time": 3}
    assert late[0]["as_of"] == pd.Timestamp(AS_OF) and "3 rows" in present.note_text(late[0]).plain
    trend = scorecard.weekly_trends(path, csat=None, ces=None, weeks=None, min_n=1, as_of=AS_OF)
    assert trend["period"].max() == LAST and trend["n"].sum() == len(df) - 3


def test_segment_value_without_answers_this_week_is_a_row_with_no_answers(tmp_path):
    path, df = _responses(tmp_path)
    seg = scorecard.segment_table(path, week=LAST, by="plan", min_n=1, as_of=AS_OF).set_index("value")
    week = df[(df.response_time >= LAST) & (df.response_time < EMPTY)]
    assert seg.loc["basic", "n"] == len(week) and seg.loc["basic", "nps"] == pytest.approx(_nps(week.nps))
    assert seg.loc["pro", "n"] == 0 and bool(seg.loc["pro", "suppressed"]) and pd.isna(seg.loc["pro", "nps"])


def test_every_scorecard_section_on_an_empty_week_returns_rows_or_a_note_and_a_sentence(tmp_path):
    path, _ = _responses(tmp_path)
    seg = scorecard.segment_table(path, by=["channel", "plan"], as_of=AS_OF)
    assert seg.empty and "no_answers_in_week" in codes(seg.attrs["notes"])
    assert "No NPS answers in the week of 30 Nov 2026" in _plain(present.segment_answer(seg))
    assert str(present.segment_table(seg)) == ""
    wc = scorecard.what_changed(path, by="channel", bootstrap=20, as_of=AS_OF)
    assert wc.empty and "no_answers_in_week" in codes(wc.attrs["notes"])
    assert "No NPS answers in the week of 30 Nov 2026" in _plain(present.scorecard_what_changed_answer(wc))
    loop = scorecard.close_the_loop(path, as_of=AS_OF)
    assert loop.empty
    trend = scorecard.weekly_trends(path, csat=None, ces=None, weeks=None, as_of=AS_OF)
    axes = plots.weekly_trends(trend, highlight=EMPTY)
    assert "no answers to show this week" in axes[0].figure.cx_alt
    tickets = tmp_path / "tickets.csv"
    pd.DataFrame({"ticket_id": ["t1", "t2"], "channel": ["email", "chat"],
                  "created_at": ["2026-11-10 09:00", "2026-11-11 09:00"],
                  "first_response_at": ["2026-11-10 10:00", "2026-12-20 10:00"]}).to_csv(tickets, index=False)
    sc = scorecard.support_changes(tickets, min_n=1, as_of=AS_OF)
    assert list(sc.columns[:3]) == ["channel", "n", "prior_n"] and (sc["n"] == 0).all()
    assert "no_tickets_in_week" in codes(sc.attrs["notes"])
    assert "No tickets from the week of 30 Nov 2026" in _plain(present.support_answer(sc))
    # a reply after the analysis date had not happened yet: that ticket is still waiting, not answered
    sc = scorecard.support_changes(tickets, week="2026-11-09", min_n=1, as_of=AS_OF).set_index("channel")
    assert sc["n"].to_dict() == {"email": 1}


@pytest.mark.slow
def test_scorecard_notebook_renders_a_week_without_answers(tmp_path, monkeypatch):
    """The page's own code path (papermill) on responses whose latest complete week is empty: no
    exception, and the sentence on the page."""
    papermill = pytest.importorskip("papermill")
    path, _ = _responses(tmp_path)
    monkeypatch.setenv("CX_RUN_DATE", "2026-12-06")          # the report date: as_of is its end of day
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(PROJECT_ROOT / "notebooks" / "cx_scorecard.ipynb"), str(out),
                               parameters={"responses": str(path)}, cwd=str(PROJECT_ROOT), kernel_name="python3",
                               progress_bar=False)
    import nbformat

    nb = nbformat.read(str(out), as_version=4)
    shown = " ".join(_plain(o.get("data", {}).get("text/html", "")) for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "No NPS answers in the week of 30 Nov 2026; the last week with answers was that of 23 Nov 2026" in shown
    assert not re.search(r"\bnan\b|NaN", shown)


# ------------------------------------------------------------------------------------------ audit, other pages

def test_cohort_page_a_month_without_cancellations_is_zero_with_an_interval(tmp_path):
    rows = [{"customer_id": f"c{m}{k}", "start_time": f"2026-0{m}-05", "end_time": None}
            for m in range(1, 6) for k in range(20)]
    for j in range(1, 6):
        rows[j]["end_time"] = "2026-02-15"
    for j in range(6, 10):
        rows[j]["end_time"] = "2026-04-15"
    path = tmp_path / "subs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    r = metrics.churn_rate(path, start="start_time", end="end_time", as_of="2026-05-31 23:59:59").set_index("period")
    march = r.loc[pd.Timestamp("2026-03-01")]
    assert march["n"] == 35 and march["lost"] == 0                  # 40 started by March, 5 left in February
    assert march["estimate"] == 0 and march["ci_lower"] == 0
    assert march["ci_upper"] == pytest.approx(metrics.wilson_interval(0, 35)[1])


def test_experiment_page_a_variant_with_no_units_for_a_metric_is_reported_not_dropped(tmp_path):
    """A metric every treatment unit left blank must not vanish from the result in silence: a row with
    n_variant = 0 and no estimate, and a note naming the metric (tests/test_metric_not_measured_in_arm.py
    checks the rest)."""
    rows = [{"unit_id": f"u{i}", "variant": "control" if i % 2 else "treatment", "converted": int(i % 3 == 0),
             "revenue": None if i % 2 == 0 else float(i % 7)} for i in range(200)]
    path = tmp_path / "exp.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    r = experiments.compare(path, unit="unit_id", variant="variant", control="control",
                            metrics=["converted", "revenue"])
    row = r[r["metric"] == "revenue"]
    said = any("revenue" in str(getattr(n, "values", n)) for n in r.attrs.get("notes", []))
    assert said and (len(row) == 1 and row["n_variant"].iloc[0] == 0 and pd.isna(row["abs_diff"].iloc[0])
                    and row["n_control"].iloc[0] == 100)


def test_journey_a_stage_nobody_reached_is_zero_with_an_interval_and_a_note(tmp_path):
    ev = [{"customer_id": f"c{i}", "event_time": "2026-11-01 10:00", "event_name": "signup"} for i in range(60)]
    ev += [{"customer_id": f"c{i}", "event_time": "2026-11-02 10:00", "event_name": "onboarding_done"}
           for i in range(30)]
    path = tmp_path / "events.csv"
    pd.DataFrame(ev).to_csv(path, index=False)
    f = journey.funnel(path, steps=["signup", "onboarding_done", "purchase"], min_n=1).set_index("step")
    assert f.loc["purchase", "reached"] == 0 and f.loc["purchase", "conversion"] == 0
    assert f.loc["purchase", "ci_upper"] == pytest.approx(metrics.wilson_interval(0, 30)[1])
    assert "funnel_step_missing" in codes(f.attrs.get("notes"))
