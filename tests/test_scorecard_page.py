"""The scorecard page's module (cxlib.pages.cx_scorecard): which inputs it uses, what each section
computes and publishes, and the layering around it (the analysis writes no words, present computes nothing)."""
from __future__ import annotations

import ast
import inspect
import re

import pandas as pd
import pytest

from cxlib import present, scorecard, support
from cxlib.pages import cx_scorecard as page
from cxlib.paths import PROJECT_ROOT

AS_OF = "2026-11-23"          # a Monday: the last complete week is that of 16 Nov 2026
WEEK = pd.Timestamp("2026-11-16")


def _responses(tmp_path, *, comments=True):
    """40 answers in the week of 16 Nov and 40 in the week before, by channel; scores written out by hand."""
    rows = []
    now = [10] * 16 + [8] * 12 + [3] * 12          # 16 promoters, 12 detractors of 40: NPS +10
    before = [9] * 20 + [7] * 10 + [5] * 10        # 20 promoters, 10 detractors of 40: NPS +25
    for i, s in enumerate(now):
        rows.append({"respondent_id": f"n{i}", "response_time": f"2026-11-{17 + i % 5} 10:00", "nps": s,
                     "channel": "email" if i % 2 else "chat",
                     "comment": ("too expensive for what it does" if i >= 30 else "") if comments else None})
    for i, s in enumerate(before):
        rows.append({"respondent_id": f"b{i}", "response_time": f"2026-11-{10 + i % 5} 10:00", "nps": s,
                     "channel": "email" if i % 2 else "chat",
                     "comment": "fine" if comments else None})
    df = pd.DataFrame(rows)
    if not comments:
        df = df.drop(columns="comment")
    path = tmp_path / "answers.csv"
    df.to_csv(path, index=False)
    return path


def _setup(path, **params):
    published = {}

    def publish(table, name):
        assert name not in published, f"{name} published twice"
        published[name] = table
        return table

    s = page.setup({"responses": str(path), "tickets": None, "events": None, "subscriptions": None,
                    "as_of": AS_OF, "segments": ["channel"], "min_n": 5, **params}, publish=publish)
    return s, published


def test_scores_are_the_headline_of_the_week_and_published_once(tmp_path):
    s, published = _setup(_responses(tmp_path))
    sc = page.scores(s)
    assert page.scores(s) is sc                                   # computed once per setup
    assert sc.week == WEEK and sc.week_end == pd.Timestamp("2026-11-22")
    nps = sc.head[(sc.head["metric"] == "nps") & (sc.head["comparison"] == "previous week")].iloc[0]
    assert nps["value"] == pytest.approx(100 * (16 - 12) / 40)
    assert nps["change"] == pytest.approx(100 * (16 - 12) / 40 - 100 * (20 - 10) / 40)
    assert sc.has_values and sc.drawable
    assert set(published) == {"headline", "weekly_trends"}
    assert list(sc.head.attrs["scores"]) == ["nps"]              # no csat / ces column: not measured


def test_optional_inputs_absent_are_sections_that_say_how_to_add_them(tmp_path):
    s, published = _setup(_responses(tmp_path, comments=False))
    care, trip, voice = page.support(s), page.journey(s), page.voice(s)
    assert not care.given and care.changes is None and not care.tested
    assert trip.funnel is None and trip.touches is None and trip.stages is None
    assert not voice.given and voice.loop is None
    for words in (present.scorecard_support_answer(care), present.scorecard_funnel_answer(trip),
                  present.scorecard_touches_answer(trip), present.scorecard_stages_answer(trip),
                  present.scorecard_themes_answer(voice), present.scorecard_loop_answer(voice)):
        assert words.plain.startswith("Not shown:")
    assert set(published) == {"headline", "weekly_trends"}
    summary = page.summary(s)
    assert summary.support is None and summary.rising is None and summary.stages is None


def test_what_moved_splits_by_the_first_segment_without_a_stage_column(tmp_path):
    s, published = _setup(_responses(tmp_path), prior_weeks=1)
    moved = page.what_moved(s)
    assert moved.status == "ok" and moved.by == "channel" and "what_changed" in published
    total = moved.result.set_index("part").loc["total", "estimate"]
    assert total == pytest.approx(10.0 - 25.0)                   # NPS +10 this week, +25 the week before


def test_what_moved_without_any_segment_column_says_so(tmp_path):
    s, published = _setup(_responses(tmp_path), segments=[])
    moved = page.what_moved(s)
    assert moved.status == "no_segment" and moved.result is None and "what_changed" not in published
    assert present.scorecard_moved_answer(moved).plain.startswith("Not shown:")


def test_top_themes_are_shares_of_the_weeks_comments(tmp_path):
    s, published = _setup(_responses(tmp_path))
    voice = page.voice(s)
    assert voice.given and voice.comments == 10                  # blank comments are not comments
    top = voice.top.set_index("label")
    price = top.index[0]
    assert top.loc[price, "mentions"] == 10 and top.loc[price, "mention_share"] == pytest.approx(1.0)
    words = present.scorecard_themes_answer(voice).plain
    assert "this week's 10 comments" in words and "100% (10 of 10)" in words
    assert {"weekly_themes", "close_the_loop", "rising_themes"} <= set(published)
    assert len(voice.loop) == 10                                 # the detractors (score 3) who commented


def test_segments_skipped_are_named(tmp_path):
    path = _responses(tmp_path)
    pd.read_csv(path).assign(email="someone@example.com").to_csv(path, index=False)
    s, _ = _setup(path, segments=["channel", "email"])
    seg = page.segments(s)
    assert seg.table is not None and set(seg.table["segment"]) == {"channel"}
    assert "email" in s.personal and seg.skipped == ["email"]
    assert "skipped: Email" in present.scorecard_skipped(seg).plain


def test_the_analysis_no_longer_writes_the_summary():
    assert not hasattr(scorecard, "summarize")
    for name in ("_duration", "_pct_points", "_value"):          # word helpers left the analysis
        assert not hasattr(scorecard, name)
    # the assertion once made on scorecard.summarize, now on the words' home: escaped HTML, no Markdown
    src = inspect.getsource(present.scorecard_summary)
    assert not re.search(r"\bf[\"']", src), "f-string in scorecard_summary"
    strings = [n.value for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not any("**" in v for v in strings) and ".join(lines)" not in src


def _imports(path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


ANALYSES = ("metrics", "cohorts", "churn", "survival", "drivers", "themes", "journey", "support", "revenue", "clv",
            "at_risk", "comparisons", "scorecard", "experiments", "segments", "periods", "empty", "heavy_tails")


@pytest.mark.parametrize("rel", ["cxlib/present/cx_scorecard.py", "cxlib/plots/scorecard.py"])
def test_the_page_words_and_figures_import_no_analysis_nor_scipy(rel):
    found = _imports(PROJECT_ROOT / rel)
    bad = {m for m in found if m.split(".")[0] in ("scipy", "statsmodels")
           or any(m == f"cxlib.{a}" or m.startswith(f"cxlib.{a}.") for a in ANALYSES)}
    assert not bad, bad


@pytest.mark.parametrize("rel", ["cxlib/scorecard.py", "cxlib/support.py", "cxlib/pages/cx_scorecard.py"])
def test_the_analyses_and_the_page_do_not_import_present(rel):
    found = _imports(PROJECT_ROOT / rel)
    assert not {m for m in found if m.startswith(("cxlib.present", "cxlib.plots", "cxlib.reports"))
                or m in ("cxlib.present", "cxlib.plots", "cxlib.reports")}


def test_one_duration_formatter_writes_a_setting_in_its_own_unit():
    assert present.duration(7, unit="day", as_given=True) == "7 days"
    assert present.duration(1, unit="days", as_given=True) == "1 day"
    assert present.duration(7, unit="day") == "7.0 days"          # the default is unchanged
    words = str(present.support_quality_table(
        pd.DataFrame({"channel": ["chat"], "unit": ["hour"], "n": [40], "p50": [2.0], "p50_ci_lower": [1.5],
                      "p50_ci_upper": [2.5]}), within_days=7,
        repeats=pd.DataFrame({"channel": ["chat"], "repeat_rate": [0.2], "ci_lower": [0.1], "ci_upper": [0.3]})
    ).as_raw_html())
    assert "Repeat within 7 days" in words
