"""cxlib.themes: keyword tagging against hand labels, counts, trouble words, escaping, rising themes and
theme impact on the sample's planted truth."""
from __future__ import annotations

import pandas as pd
import pytest

from cxlib import themes
from cxlib.data import CXDataError

COMMENTS = pd.DataFrame({
    "respondent_id": ["a", "b", "c", "d", "e", "f"],
    "nps": [2, 3, 10, 9, 6, 10],
    "comment": ["Too expensive, and the setup was confusing", "The PRICE went up", "Love it",
                None, "<script>alert(1)</script> it crashed", "great"],
    "email": ["a@x.com"] * 6,
})


def test_tagging_matches_hand_labels():
    tagged = themes.tag_comments(COMMENTS, keep=("nps",))
    got = tagged.groupby("respondent_id")["theme"].apply(set).to_dict()
    assert got == {"a": {"pricing", "setup"}, "b": {"pricing"}, "c": {"praise"}, "e": {"bugs"}, "f": {"praise"}}
    assert "email" not in tagged.columns
    with pytest.raises(CXDataError, match="personal-data"):
        themes.tag_comments(COMMENTS, keep=("email",))


def test_theme_counts_and_trouble_words():
    counts = themes.theme_counts(COMMENTS, min_n=1).set_index("theme")
    assert counts.loc["pricing", "comments"] == 5 and counts.loc["pricing", "mentions"] == 2
    words = themes.trouble_word_counts(COMMENTS).set_index("word")
    assert words.loc["confusing", "mentions"] == 1


def test_escape_text_makes_markup_inert():
    s = themes.escape_text("<script>alert('x')</script> **bold** & more")
    assert "<script>" not in s and "&lt;script&gt;" in s and "\\*\\*bold" in s and "&amp;" in s


def test_sample_pricing_theme_rises_in_planted_week_only(sample_dir):
    weekly = themes.theme_counts(sample_dir / "responses.csv", time="response_time", period="week")
    planted = themes.rising_themes(weekly, period="2026-11-16").set_index("theme")
    assert planted.loc["pricing", "rising"] and planted.loc["pricing", "ratio"] > 2.5
    flat = themes.rising_themes(weekly, period="2026-11-09")
    assert not flat["rising"].any()


def test_sample_theme_impact(sample_dir):
    impact = themes.theme_impact(sample_dir / "responses.csv").set_index("theme")
    assert impact.loc["praise", "impact"] > 50 and impact.loc["pricing", "ci_upper"] < 0
