"""cxlib.present: formatting rules, escaping by construction, stakeholder tables and the summaries.

The checks are independent of the implementation: rendered HTML is searched for what must never reach a
page (NaN, True/False, scientific notation, snake_case headers, pandas' dataframe class, network
resources) and for injected payloads that must arrive as text, not markup.
"""
from __future__ import annotations

import html as htmllib
import ast
import inspect
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlib import (churn, cohorts, drivers, experiments, journey, metrics, present, scorecard, support, survival,
                   themes)
from cxlib.present import MISSING

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']
RAW = ["<script", "<img src=x", "<svg onload"]  # what must never appear unescaped
ESCAPED = ["&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "&lt;svg onload=alert(1)&gt;"]
FORBIDDEN_WORDS = ("NaN", "nan", "None", "True", "False", "NaT", "<NA>", "inf")


def html_of(obj) -> str:
    return obj.as_raw_html() if hasattr(obj, "as_raw_html") else obj._repr_html_()


def visible_text(h: str) -> str:
    """What a reader sees: no <style> blocks, no tags, entities decoded."""
    h = re.sub(r"<style\b.*?</style>", " ", h, flags=re.S | re.I)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", h))


def headers(h: str) -> list[str]:
    return [re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", "", c))).strip()
            for c in re.findall(r"<th\b[^>]*>(.*?)</th>", h, flags=re.S)]


def assert_clean(h: str):
    text = visible_text(h)
    for word in FORBIDDEN_WORDS:
        assert not re.search(rf"(?<![\w<]){re.escape(word)}(?!\w)", text), (word, text[:2000])
    assert not re.search(r"\d(?:\.\d+)?[eE][+\-]?\d", text), text[:2000]  # 1.45e-15, 2e+05
    assert 'class="dataframe"' not in h
    assert not re.search(r"https?://|@import|<link\b|<script\b|<[^>]*\b(src|href)\s*=", h, flags=re.I)
    for th in headers(h):
        assert not re.search(r"\b[a-z0-9]+_[a-z0-9_]+\b", th), f"snake_case header {th!r}"


def assert_escaped(h: str, payloads=PAYLOADS):
    low = h.lower()
    for raw in RAW:
        assert raw not in low, raw
    for p, esc in zip(PAYLOADS, ESCAPED):
        if p in payloads:
            assert esc in h, esc


# ---------------------------------------------------------------------------------------- formatting rules

NAN_LIKE = [None, float("nan"), np.nan, pd.NA, pd.NaT, float("inf"), -float("inf"), True, False, "abc"]


@pytest.mark.parametrize("fmt", [present.share, present.points, present.pp, present.lift, present.count,
                                 present.number, present.money, present.duration, present.p_value])
@pytest.mark.parametrize("value", NAN_LIKE)
def test_numeric_formatters_show_a_dash_for_missing_and_non_numbers(fmt, value):
    assert fmt(value) == MISSING


@pytest.mark.parametrize("fmt", [present.share, present.points, present.pp, present.lift, present.count,
                                 present.number, present.money, present.duration, present.p_value])
@pytest.mark.parametrize("value", [0, -0.0, 1e-300, 1.45e-15, -3.7e-9, 1e20, -2.5e15, 123456789.123, 0.5])
def test_numeric_formatters_never_write_scientific_notation(fmt, value):
    out = fmt(value)
    assert not re.search(r"\d[eE][+\-]?\d", out), out
    assert "nan" not in out.lower() and "inf" not in out.lower()
    assert not out.startswith("-0") and not out.startswith("−0.0 ")


def test_share():
    assert present.share(0.634) == "63%"
    assert present.share(0.634, digits=1) == "63.4%"
    assert present.share(0) == "0%" and present.share(1) == "100%"
    assert present.share(0.0004) == "< 1%" and present.share(0.9996) == "> 99%"
    assert present.share(-0.25) == "−25%"
    assert present.share(2.5) == "250%"
    assert present.share(1e20) == "10,000,000,000,000,000,000,000%"


def test_points_pp_lift():
    assert present.points(13.157) == "+13.2"
    assert present.points(-4) == "−4.0"
    assert present.points(0) == "0.0" and present.points(-0.01) == "0.0"
    assert present.pp(0.0165) == "+1.7 pp" and present.pp(-0.076) == "−7.6 pp"
    assert present.lift(0.1657) == "+16.6%" and present.lift(-0.05) == "−5.0%"


def test_count_and_number():
    assert present.count(1234) == "1,234"
    assert present.count(20000.0) == "20,000"
    assert present.count(np.int64(7)) == "7"
    assert present.count(-1500) == "−1,500"
    assert present.number(5.1486) == "5.15"
    assert present.number(1234.6) == "1,235"
    assert present.number(0.00327) == "0.0033"
    assert present.number(1.45e-15) == "< 0.001"
    assert present.number(-1.45e-15) == "> −0.001"
    assert present.number(0) == "0"
    assert present.number(2.0, digits=1) == "2.0"
    assert present.number(0.52, sign=True) == "+0.52"


def test_money():
    assert present.money(1234.5) == "$1,234"
    assert present.money(12.5) == "$12.50"
    assert present.money(-3.2) == "−$3.20"
    assert present.money(0) == "$0.00"
    assert present.money(99, "£") == "£99.00"
    assert present.money(1234, "kr") == "1,234 kr"


def test_duration_has_automatic_units():
    assert present.duration(0) == "0 min"
    assert present.duration(10 / 3600) == "10 s"
    assert present.duration(0.07) == "4.2 min"       # never "0.07 hour"
    assert present.duration(0.75) == "45 min"
    assert present.duration(6.07) == "6.1 h"
    assert present.duration(55) == "2.3 days"
    assert present.duration(24 * 400) == "400 days"
    assert present.duration(-2) == "−2.0 h"
    assert present.duration(90, unit="minute") == "1.5 h"
    assert present.duration(3, unit="days") == "3.0 days"
    assert present.duration(30, unit="second") == "30 s"
    with pytest.raises(ValueError):
        present.duration(1, unit="fortnight")


def test_p_value():
    assert present.p_value(1.45e-15) == "< 0.001"
    assert present.p_value(0.0) == "< 0.001"
    assert present.p_value(0.00099) == "< 0.001"
    assert present.p_value(0.0321) == "0.032"
    assert present.p_value(0.05) == "0.050"
    assert present.p_value(1.0) == "1.000"
    assert present.p_value(1.5) == MISSING and present.p_value(-0.1) == MISSING


def test_interval():
    assert present.interval(0.63, 0.57, 0.69, kind="share") == "63% (57–69%)"
    assert present.interval(13.16, 3.2, 23.11, kind="points") == "+13.2 (+3.2 to +23.1)"
    assert present.interval(-11.1, -25.1, 2.85, kind="points") == "−11.1 (−25.1 to +2.9)"
    assert present.interval(0.0165, 0.0104, 0.0226, kind="pp") == "+1.7 pp (+1.0 to +2.3)"
    assert present.interval(0.166, 0.0997, 0.232, kind="lift") == "+16.6% (+10.0% to +23.2%)"
    assert present.interval(5.1486, 5.1008, 5.1963, kind="number") == "5.15 (5.10–5.20)"
    assert present.interval(6.0, 5.8, 6.2, kind="duration") == "6.0 h (5.8–6.2 h)"
    assert present.interval(1.0, 0.9973, 1.0, kind="share") == "100% (100–100%)"
    assert present.interval(0.5, np.nan, 0.6, kind="share") == "50% (up to 60%)"
    assert present.interval(0.5, 0.4, None, kind="share") == "50% (from 40%)"
    assert present.interval(0.5, None, None, kind="share") == "50%"
    assert present.interval(np.nan, 0.4, 0.6, kind="share") == MISSING
    assert present.interval_range(0.63, 0.57, 0.69, kind="share") == "57–69%"


def test_date_and_yes_no():
    assert present.date("2026-11-16") == "16 Nov 2026"
    assert present.date(pd.Timestamp("2026-11-19 13:04:58")) == "19 Nov 2026 13:04"
    assert present.date("2026-11-01", grain="month") == "Nov 2026"
    assert present.date("2026-11-01", grain="quarter") == "2026 Q4"
    assert present.date(pd.NaT) == MISSING and present.date(None) == MISSING and present.date("no") == MISSING
    assert present.yes_no(True) == "Yes" and present.yes_no(np.False_) == "No"
    assert present.yes_no(None) == MISSING and present.yes_no(np.nan) == MISSING
    assert present.yes_no("False") == "No" and present.yes_no(1) == "Yes"


def test_label():
    assert present.label("in_app") == "In-app"
    assert present.label("one_click") == "One-click"
    assert present.label("clicks/sessions") == "Clicks per session"
    assert present.label("nps") == "NPS"
    assert present.label("nps_with") == "NPS with"
    assert present.label("value_for_money") == "Value for money"
    assert present.label("prior 4 weeks") == "Prior 4 weeks"
    assert "ci_lower" not in present.label("ci_lower") and "_" not in present.label("ci_lower")
    assert present.label("p_value") == "p-value"
    assert present.label("Q2_1") == "Q2_1"  # an export's own id stays as it is ...
    assert present.label("Q2_1", {"Q2_1": "Speed of reply"}) == "Speed of reply"  # ... unless labelled
    assert present.label("Pricing and value") == "Pricing and value"
    assert present.label(None) == MISSING and present.label(float("nan")) == MISSING
    assert present.label(True) == "Yes" and present.label(3.0) == "3"
    assert present.label(PAYLOADS[0]) == PAYLOADS[0]  # data stays data; escaping is the renderer's job


# ------------------------------------------------------------------------------------------ escaped text

def test_text_escapes_every_value_but_keeps_the_template():
    t = present.text("Plan <strong>{plan}</strong> has {n} {}", "**bold** [x](javascript:alert(1))",
                     plan=PAYLOADS[1], n=3)
    assert isinstance(t, present.Text) and isinstance(t, str)
    assert str(t).startswith("Plan <strong>&lt;img src=x onerror=alert(1)&gt;</strong>")
    assert "**bold** [x](javascript:alert(1))" in str(t)  # HTML, not Markdown: shown literally
    assert t._repr_html_() == str(t)
    assert t.plain == f"Plan {PAYLOADS[1]} has 3 **bold** [x](javascript:alert(1))"
    # nesting: Text inside Text is kept, plain strings are escaped
    outer = present.text("<p>{}</p>", t)
    assert "<strong>" in outer and "&lt;img" in outer
    # concatenating plain data to Text escapes it too
    assert "&lt;script&gt;" in str(t + PAYLOADS[0])


def test_paragraph_bullets_answer():
    p = present.paragraph("NPS {v}", v=PAYLOADS[0])
    assert str(p) == '<p class="cx-text">NPS &lt;script&gt;alert(1)&lt;/script&gt;</p>'
    b = present.bullets([PAYLOADS[1], present.text("<em>{}</em>", PAYLOADS[2]), 3, None])
    assert_escaped(str(b), PAYLOADS[1:])
    assert str(b).count("<li>") == 4 and "<em>" in b and "<li>—</li>" in b
    a = present.answer(["first", "second"], lead="Week of 16 Nov 2026:")
    assert str(a).startswith('<div class="cx-answer">') and a.plain.splitlines() == [
        "Week of 16 Nov 2026:", "- first", "- second"]


def test_key_figures_tiles_wrap_and_say_noise_in_words():
    fig = present.figure("nps", 13.16, 3.2, 23.1, kind="points", change=-13.34, change_lo=-24.4, change_hi=-2.28,
                         versus="the prior 4 weeks", beyond_noise=True, note="228 answers")
    assert (fig.label, fig.value, fig.interval) == ("NPS", "+13.2", "95% CI +3.2 to +23.1")
    assert fig.change == "▼ Down 13.3 points vs the prior 4 weeks (95% CI −24.4 to −2.3): beyond noise."
    calm = present.figure("csat", 0.63, 0.57, 0.69, kind="share", change=0.01, change_lo=-0.03, change_hi=0.05,
                          beyond_noise=False)
    assert calm.interval == "95% CI 57–69%"
    assert "Up 1.0 percentage points" in calm.change and "within noise" in calm.change
    h = str(present.key_figures([fig, calm, {"label": PAYLOADS[0], "value": PAYLOADS[1]}]))
    assert 'class="cx-tiles"' in h and h.count('class="cx-tile"') == 3
    assert re.search(r"\.cx-tiles\{[^}]*flex-wrap:wrap", h) and re.search(r"\.cx-tile\{[^}]*flex:1 1 \d+px", h)
    assert "beyond noise" in h and "within noise" in h
    assert_escaped(h, PAYLOADS[:2])
    assert_clean(h)
    assert present.change_sentence(0.0, kind="points", versus="last week") == "No change vs last week."
    assert present.change_sentence(None) == "No comparison with the previous period."


# --------------------------------------------------------------------------------------- the generic table

@pytest.fixture
def messy():
    return pd.DataFrame({
        "segment_value": ["in_app", "one_click", PAYLOADS[0], None],
        "n": [1200, 15, 400, 0],
        "retention": [0.634, 0.5, np.nan, np.inf],
        "ci_lower": [0.57, 0.2, np.nan, np.nan],
        "ci_upper": [0.69, 0.8, np.nan, np.nan],
        "nps_change": [13.16, -4.0, np.nan, 0.0],
        "p_value": [1.45e-15, 0.0321, np.nan, 1.0],
        "median_hours": [0.07, 6.07, 55.0, np.nan],
        "is_weakest": [True, False, True, False],
        "week": pd.to_datetime(["2026-11-16", None, "2026-11-02", "2026-11-09"]),
        "comment": [PAYLOADS[1], "**bold** [x](javascript:alert(1))", "nan", PAYLOADS[2]],
        "revenue": [1234.5, 2e-7, -3.2, 1e12],
        "suppressed": [False, True, False, False],
    })


def test_table_formats_every_cell_and_hides_the_index(messy):
    g = present.table(messy, columns={"segment_value": "label", "n": "count", "retention": "share",
                                      "nps_change": "points", "p_value": "p_value", "median_hours": "duration",
                                      "is_weakest": "yes_no", "week": "date", "comment": "text",
                                      "revenue": "money"},
                      intervals={"retention": ("ci_lower", "ci_upper")}, title="Retention <b>by</b> segment",
                      subtitle=PAYLOADS[2], notes=[PAYLOADS[0]])
    h = g.as_raw_html()
    assert_clean(h)
    assert_escaped(h)
    text = visible_text(h)
    assert "63% (57–69%)" in text and "+13.2" in text and "< 0.001" in text and "4.2 min" in text
    assert "In-app" in text and "One-click" in text and "Yes" in text and "16 Nov 2026" in text
    assert "Retention <b>by</b> segment" in text  # the title is text, not markup
    assert "**bold** [x](javascript:alert(1))" in text
    # suppressed row: estimate cells are dashes, the count stays
    row = re.findall(r"<tr>(.*?)</tr>", h[h.index("<tbody"):], flags=re.S)[1]
    cells = [visible_text(c).strip() for c in re.findall(r"<td\b[^>]*>(.*?)</td>", row, flags=re.S)]
    assert cells[0] == "One-click" and cells[1] == "15" and cells[2:5] == [MISSING] * 3
    assert "too few answers" in text and "95% confidence" in text
    assert headers(h)[:4] == ["Segment value", "Count", "Retention", "NPS change"]
    # internal column ids (data never becomes an id), no row stub / index
    assert re.search(r'id="cx-[0-9a-f]+-c0"', h) and 'class="gt_row gt_stub' not in h
    # fits a phone: full width, wrapping cells
    assert re.search(r"white-space:\s*normal", h) and re.search(r"\.gt_table\s*\{[^}]*width:\s*100%", h)


def test_table_infers_roles_and_never_shows_raw_values(messy):
    h = present.table(messy).as_raw_html()  # every column, roles from dtypes
    assert_clean(h)
    assert_escaped(h)


def test_table_is_stable_and_checks_its_columns(messy):
    a = present.table(messy, columns=["n", "comment"]).as_raw_html()
    assert a == present.table(messy, columns=["n", "comment"]).as_raw_html()  # notebooks reproduce byte for byte
    assert a != present.table(messy, columns=["n", "week"]).as_raw_html()
    with pytest.raises(ValueError, match="no column"):
        present.table(messy, columns=["nope"])


def test_table_escapes_payload_column_names(messy):
    df = messy.rename(columns={"segment_value": PAYLOADS[2], "comment": PAYLOADS[0]})
    h = present.table(df, columns={PAYLOADS[2]: "label", PAYLOADS[0]: "text", "n": "count"},
                      spanners={PAYLOADS[1]: ["n"]}).as_raw_html()
    assert_escaped(h)
    assert_clean(h)


def test_empty_table_renders():
    h = present.table(pd.DataFrame({"plan": pd.Series([], dtype=str), "n": pd.Series([], dtype=int)})).as_raw_html()
    assert "Plan" in h and "gt_table" in h


def test_retention_grid_blank_for_open_cells_dash_for_suppressed():
    rows = []
    for c, size in [("2026-01-01", 100), ("2026-02-01", 5), ("2026-03-01", 80)]:
        for p in range(4):
            mature = pd.Timestamp(c) + pd.DateOffset(months=p + 1) <= pd.Timestamp("2026-05-01")
            sup = size < 30
            rows.append({"cohort": pd.Timestamp(c), "period": p, "cohort_size": size, "active": size // 2,
                         "retention": np.nan if sup else 1.0 if p == 0 else 0.5 - 0.1 * p,
                         "ci_lower": np.nan, "ci_upper": np.nan, "mature": mature, "suppressed": sup})
    t = pd.DataFrame(rows)
    t.attrs["grain"] = "month"
    h = present.retention_table(t, periods=3).as_raw_html()
    assert_clean(h)
    body = h[h.index("<tbody"):]
    trs = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    grid = [[visible_text(c).strip() for c in re.findall(r"<td\b[^>]*>(.*?)</td>", tr, flags=re.S)] for tr in trs]
    assert grid[0] == ["Jan 2026", "100", "40%", "30%", "20%"]
    assert grid[1] == ["Feb 2026", "5", MISSING, MISSING, ""]
    assert grid[2] == ["Mar 2026", "80", "40%", "", ""]
    assert headers(h) == ["Cohort", "Customers", "Months since joining", "1", "2", "3"]
    assert "background-color" in body  # a colour scale, with the number printed in every cell


# ------------------------------------------------------------------- per-result helpers on the sample data

@pytest.fixture(scope="module")
def results():
    r, s = {}, SAMPLE
    responses, events, subs, tickets = (s / "responses.csv", s / "events.csv", s / "subscriptions.csv",
                                        s / "tickets.csv")
    r["nps"] = metrics.nps(responses, by="plan")
    r["nps_trend"] = metrics.nps(responses, time="response_time", period="month")
    r["csat"] = metrics.csat(responses, by="channel")
    r["ces"] = metrics.ces(responses, by="channel")
    r["retention"] = cohorts.retention_table(events, by="plan")
    r["curve"] = cohorts.retention_curve(r["retention"], by="plan")
    r["churn"] = metrics.churn_rate(subs, mrr="mrr", by="plan")
    km = survival.kaplan_meier(subs, start="start_time", end="end_time", by="plan")
    r["medians"] = km.attrs["medians"]
    r["logrank"] = survival.logrank(subs, start="start_time", end="end_time", by="plan")
    r["drivers"] = drivers.key_drivers(responses, outcome="nps", drivers="drv_", bootstrap=20, seed=1)
    r["themes"] = themes.theme_counts(responses)
    r["impact"] = themes.theme_impact(responses)
    head = scorecard.headline(responses)
    r["head"], week = head, head.attrs["week"]
    r["rising"] = themes.rising_themes(themes.theme_counts(responses, time="response_time", period="week"),
                                       period=week)
    metric_list = [experiments.Metric("converted", "proportion"), experiments.Metric("nps", "nps", guardrail=True),
                   experiments.Metric("csat", "mean", guardrail=True),
                   experiments.Metric("clicks", "ratio", denominator="sessions")]
    r["compare"] = experiments.compare(s / "experiment.csv", control="control", metrics=metric_list)
    r["srm"] = experiments.srm(s / "experiment.csv")
    r["segments"] = scorecard.segment_table(responses, week=week)
    r["support_changes"] = scorecard.support_changes(tickets, week=week)
    r["loop"] = scorecard.close_the_loop(responses, tickets=tickets, week=week, personal=["email", "name", "phone"])
    r["times"] = support.response_times(tickets, by="channel", unit="hour")
    r["attain"] = support.target_attainment(tickets, targets={"email": 12, "chat": 0.1, "phone": 0.05})
    r["stages"] = journey.stage_metrics(responses, stage="touchpoint")
    steps = ["signup", "onboarding_done", "first_value", "checkout_started", "purchase"]
    r["funnel"] = journey.funnel(events, steps=steps)
    r["funnel_by"] = journey.funnel(events, steps=steps, by="plan")
    return r


def _helpers(r):
    """(name, callable) for every per-result helper; each takes the (possibly altered) results."""
    return {
        "nps": lambda r: present.score_table(r["nps"]),
        "nps_trend": lambda r: present.score_table(r["nps_trend"]),
        "csat": lambda r: present.score_table(r["csat"]),
        "ces": lambda r: present.score_table(r["ces"]),
        "retention": lambda r: present.retention_table(r["retention"], by=r["retention"].columns[0]),
        "curve": lambda r: present.retention_curve_table(r["curve"]),
        "churn": lambda r: present.churn_table(r["churn"]),
        "medians": lambda r: present.lifetime_table(r["medians"]),
        "drivers": lambda r: present.drivers_table(drivers.quadrant(r["drivers"])),
        "themes": lambda r: present.themes_table(r["themes"]),
        "impact": lambda r: present.theme_impact_table(r["impact"]),
        "rising": lambda r: present.rising_themes_table(r["rising"]),
        "compare": lambda r: present.experiment_table(r["compare"]),
        "srm": lambda r: present.srm_table(r["srm"]),
        "head": lambda r: present.headline_table(r["head"]),
        "head_figures": lambda r: present.headline_figures(r["head"]),
        "segments": lambda r: present.segment_table(r["segments"]),
        "support_changes": lambda r: present.support_changes_table(r["support_changes"]),
        "loop": lambda r: present.close_the_loop_table(r["loop"]),
        "times": lambda r: present.response_times_table(r["times"]),
        "attain": lambda r: present.target_attainment_table(r["attain"]),
        "stages": lambda r: present.stage_table(r["stages"]),
        "funnel": lambda r: present.funnel_table(r["funnel"]),
        "funnel_by": lambda r: present.funnel_table(r["funnel_by"]),
    }


HELPERS = list(_helpers(None))


@pytest.mark.parametrize("name", HELPERS)
def test_result_helpers_render_clean_tables(results, name):
    h = html_of(_helpers(results)[name](results))
    assert_clean(h)


def test_result_helpers_read_like_the_brief(results):
    text = {k: visible_text(html_of(f(results))) for k, f in _helpers(results).items()}
    assert re.search(r"[+−]\d+\.\d \([+−]\d+\.\d to [+−]\d+\.\d\)", text["nps"])
    assert re.search(r"\d+% \(\d+–\d+%\)", text["csat"])
    assert "Clicks per session" in text["compare"] and "One-click" in text["compare"]
    assert "Guardrail breached" in text["compare"] and "Win" in text["compare"]
    assert "min" in text["times"] and " h " in text["times"] and "0.0" not in text["times"].split("Median")[1][:5]
    assert "Not reached" in text["medians"]
    assert "Fix first" in text["drivers"] and "Value for money" in text["drivers"]
    assert "Beyond noise" in text["head"] and "Within noise" in text["head"]
    assert "beyond noise" in text["head_figures"]
    assert "Onboarding done" in text["funnel"] and "Onboarding (weakest)" in text["stages"]


def _inject(df: pd.DataFrame, rename=None) -> pd.DataFrame:
    """Payloads in every string column (cycled over rows), optionally a column renamed to a payload."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_string_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            vals = out[c].astype(object)
            uniq = list(dict.fromkeys(vals.dropna()))
            mapping = {v: f"{PAYLOADS[i % 3]}{i // 3 or ''}" for i, v in enumerate(uniq)}
            out[c] = vals.map(mapping)
    if rename:
        out = out.rename(columns={rename: PAYLOADS[2]})
    out.attrs = dict(df.attrs)
    return out


KEEP_VALUES = {  # columns the analyses rely on for their meaning, not display
    "compare": {"kind", "decision"}, "head": {"comparison"}, "nps": {"metric"}, "nps_trend": {"metric"},
    "csat": {"metric"}, "ces": {"metric"}, "times": {"unit", "measure"}, "attain": {"unit", "measure"},
    "stages": {"metric"}, "themes": {"theme"}, "drivers": set(), "srm": set()}
RENAME_KEY = {"nps": "plan", "nps_trend": "period", "csat": "channel", "ces": "channel", "retention": "plan",
              "curve": "plan",
              "churn": "plan", "medians": "plan", "support_changes": "channel", "times": "channel",
              "attain": "channel", "stages": "touchpoint", "funnel_by": "plan"}


def _poisoned(results):
    bad = {}
    for k, v in results.items():
        if isinstance(v, pd.DataFrame):
            keep = KEEP_VALUES.get(k, set())
            poisoned = _inject(v.drop(columns=list(keep & set(v.columns))), rename=RENAME_KEY.get(k))
            for c in keep & set(v.columns):
                poisoned[c] = v[c].to_numpy()
            bad[k] = poisoned
        else:
            bad[k] = v
    bad["srm"] = experiments.SRMResult(results["srm"].statistic, results["srm"].df, results["srm"].p_value,
                                       _inject(results["srm"].table))
    bad["compare"].attrs["control"] = PAYLOADS[1]
    return bad


@pytest.mark.parametrize("name", HELPERS)
def test_payloads_in_values_and_column_names_never_become_markup(results, name):
    h = html_of(_helpers(results)[name](_poisoned(results)))
    assert_escaped(h, payloads=[])  # nothing raw
    assert any(esc in h for esc in ESCAPED), "the payload should be shown as text"
    assert_clean(h)


def test_payload_driver_names_and_labels_are_escaped(results):
    d = results["drivers"].copy()
    d["driver"] = [PAYLOADS[i % 3] + str(i) for i in range(len(d))]
    assert_escaped(html_of(present.drivers_table(d)))
    assert_escaped(html_of(present.drivers_table(results["drivers"], labels={"drv_trust": PAYLOADS[0]})),
                   PAYLOADS[:1])


# ------------------------------------------------------------------------------ the six summarize functions

def _summaries(r):
    by_ret, by_churn, by_med = r["retention"].columns[0], r["churn"].columns[0], r["medians"].columns[0]
    return {
        "cohorts": present.retention_summary(
            r["retention"], cohorts.retention_curve(r["retention"], min_n=r["retention"].attrs.get("min_n", 30)),
            by=by_ret, by_curve=cohorts.retention_curve(r["retention"], by=by_ret)),
        "churn": present.churn_summary(churn.recent_churn(r["churn"], by=by_churn), by=by_churn),
        "survival": present.lifetime_summary(r["medians"], by=by_med, test=r["logrank"]),
        "experiments": present.experiment_summary(r["compare"], srm_result=r["srm"]),
        "experiments_srm": present.experiment_summary(r["compare"], srm_result=experiments.srm({"a": 5000, "b": 4000})),
        "scorecard": present.scorecard_summary(r["head"], support_table=r["support_changes"], rising=r["rising"],
                                               stages=r["stages"]),
        "drivers": present.drivers_summary(drivers.quadrant(r["drivers"])),
    }


def test_summaries_are_escaped_html_with_real_numbers(results):
    s = _summaries(results)
    for name, t in s.items():
        assert isinstance(t, present.Text) and isinstance(t, str), name
        h = t._repr_html_()
        assert h.startswith('<div class="cx-answer">'), name
        assert_clean(h)
        assert "**" not in h and "\n- " not in h, name  # HTML, not Markdown
    assert "Plan <strong>Basic</strong>" in s["cohorts"] and "of customers are active again" in s["cohorts"]
    assert "cancel per month" in s["churn"] and "log-rank" in s["survival"]
    assert "p &lt; 0.001" in s["survival"]
    assert "<strong>Win</strong>" in s["experiments"] and "Clicks per session" in s["experiments"]
    assert s["experiments_srm"].plain.startswith("- Warning: sample ratio mismatch")
    assert "Win" not in s["experiments_srm"] and "not interpretable" in s["experiments_srm"]
    assert s["scorecard"].plain.startswith("Week of ") and "beyond noise" in s["scorecard"]
    assert "Value for money" in s["drivers"] and "Fix first" in s["drivers"]


def test_summaries_escape_injected_segments_variants_stages_channels_and_drivers(results):
    bad = _poisoned(results)
    d = results["drivers"].copy()
    d["driver"] = [PAYLOADS[i % 3] + str(i) for i in range(len(d))]
    d.attrs = dict(results["drivers"].attrs, outcome=PAYLOADS[0])
    bad["drivers"] = d
    for name, t in _summaries(bad).items():
        h = str(t)
        assert_escaped(h, payloads=[])
        assert any(esc in h for esc in ESCAPED), f"{name}: the payload should be shown as text"


# the summarize functions left the analyses (issue 23): their words are present's
@pytest.mark.parametrize("summary", [present.retention_summary, present.churn_summary, present.lifetime_summary,
                                     present.drivers_summary])
def test_cohort_summaries_build_no_fstring_markdown(summary):
    src = inspect.getsource(summary)
    assert not re.search(r"\bf[\"']", src), "f-string in a summary"
    # Markdown emphasis in a string literal (``{**a, **b}`` in code is not Markdown)
    literals = [n.value for n in ast.walk(ast.parse(textwrap.dedent(src)))
                if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not any("**" in t for t in literals) and ".join(lines)" not in src


# ------------------------------------------------------------------------- in a real browser, phone and desk

@pytest.mark.browser
def test_every_helper_fits_a_phone_and_no_payload_runs(results, chromium_paths, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    helpers = _helpers(results)
    parts = [f'<section id="{k}">{html_of(f(results))}</section>' for k, f in helpers.items()]
    parts += [f'<section id="poisoned-{k}">{html_of(f(_poisoned(results)))}</section>' for k, f in helpers.items()]
    parts += [f'<section id="summary-{k}">{t}</section>' for k, t in _summaries(results).items()]
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' "
                    "content='width=device-width,initial-scale=1'><script>window.__pwned = 0;"
                    "window.alert = function () { window.__pwned += 1; };</script></head>"
                    f"<body style='margin:8px;font-family:sans-serif'>{''.join(parts)}</body></html>",
                    encoding="utf-8")
    chrome, chromedriver = chromium_paths
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1300,900"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(chromedriver), options=opts)
    try:
        for width in (390, 1280):
            drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500})
            drv.get(page.as_uri())
            page_width = drv.execute_script("return document.documentElement.scrollWidth")
            assert page_width <= width, f"page scrolls sideways at {width} px"
            wide = drv.execute_script(
                "return Array.from(document.querySelectorAll('section')).filter(s => !s.id.startsWith('poisoned'))"
                ".flatMap(s => Array.from(s.querySelectorAll('table, .cx-tiles')).filter("
                "t => t.scrollWidth > t.parentElement.clientWidth + 1).map(t => s.id + ':' + t.scrollWidth))")
            assert wide == [], f"wider than the screen at {width} px: {wide}"
            assert drv.execute_script("return window.__pwned") == 0
            assert drv.execute_script("return document.querySelectorAll('body script, body img, body svg').length") == 0
            text = drv.execute_script("return document.body.innerText")
            assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text
    finally:
        drv.quit()
