"""Figures: phone-legible text, human labels, alt text, colour-blind-safe good/bad colours, show()."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from cxlib import plots, support  # noqa: E402
from cxlib.plots import style  # noqa: E402
from cxlib.plots._common import human, rating_scale  # noqa: E402

SNAKE = {"in_app", "one_click", "new_checkout", "drv_value_for_money", "value_for_money", "clicks/sessions",
         "onboarding_done", "first_value", "missing_features", "ease_of_use"}


@pytest.fixture(autouse=True)
def _style():
    plots.apply_style()
    yield
    plt.close("all")


# --- small hand-made result tables with the columns the analysis modules return -------------------------

def _months(n, start="2026-01-01"):
    return pd.date_range(start, periods=n, freq="MS")


def retention_table():
    rows = []
    for i, c in enumerate(_months(4, "2026-01-01")):
        for p in range(0, 4 - i):
            r = 1.0 if p == 0 else 0.6 - 0.1 * p
            rows.append(dict(cohort=c, period=p, period_start=c + pd.DateOffset(months=p), cohort_size=100,
                             active=int(100 * r), retention=r, ci_lower=r - 0.05, ci_upper=min(r + 0.05, 1),
                             mature=p < 3 - i, suppressed=False))
    t = pd.DataFrame(rows)
    t.attrs["grain"] = "month"
    return t


def retention_curve():
    rows = []
    for plan, base in (("basic", 0.5), ("pro_plus", 0.6)):
        for p in range(5):
            r = 1.0 if p == 0 else base - 0.05 * p
            rows.append(dict(plan=plan, period=p, cohorts=5, customers=500, active=int(500 * r), retention=r,
                             ci_lower=r - 0.04, ci_upper=min(r + 0.04, 1), suppressed=False))
    return pd.DataFrame(rows)


def churn_table():
    rows = []
    for plan in ("basic", "pro_plus"):
        for k, m in enumerate(_months(5, "2026-02-01")):
            r = 0.05 + 0.01 * k
            rows.append(dict(plan=plan, period=m, n=300, lost=int(300 * r), churn_rate=r, estimate=r, ci_lower=r - 0.02,
                             ci_upper=r + 0.02, complete=k < 4, suppressed=False, metric="churn_rate"))
    t = pd.DataFrame(rows)
    t.attrs["average_over_periods"] = {"churn_rate": {"basic": 0.065, "pro_plus": 0.065}}  # as the page sets it
    return t


def km_table():
    rows = []
    for plan, rate in (("basic", 0.06), ("pro_plus", 0.03)):
        for k, t in enumerate(np.arange(0.5, 20, 0.5)):
            s = float(np.exp(-rate * t))
            rows.append(dict(plan=plan, time=t, at_risk=1000 - 20 * k, events=3, survival=s, se=0.01,
                             ci_lower=s - 0.03, ci_upper=min(s + 0.03, 1)))
    t = pd.DataFrame(rows)
    t.attrs["unit"] = "month"
    return t


def nps_trend_table():
    m = _months(6)
    nps = [18.0, 20.5, 22.0, 19.0, 23.5, 24.0]
    return pd.DataFrame(dict(period=m, n=300, nps=nps, estimate=nps, ci_lower=[v - 8 for v in nps],
                             ci_upper=[v + 8 for v in nps], suppressed=False))


def nps_segments():
    return pd.DataFrame(dict(channel=["email", "in_app", "web_chat"], n=[900, 700, 40],
                             promoter_share=[0.43, 0.44, 0.40], passive_share=[0.37, 0.35, 0.40],
                             detractor_share=[0.20, 0.21, 0.20], nps=[23.0, 23.0, 20.0],
                             ci_lower=[20.0, 19.5, 5.0], ci_upper=[26.0, 26.5, 35.0],
                             suppressed=[False, False, True]))


def drivers_table(scale=None):
    t = pd.DataFrame(dict(driver=["drv_responsiveness", "drv_value_for_money", "drv_ease_of_use", "drv_trust"],
                          importance=[0.40, 0.30, 0.20, 0.10], ci_lower=[0.35, 0.25, 0.15, 0.07],
                          ci_upper=[0.45, 0.35, 0.25, 0.13], mean=[3.1, 3.6, 4.2, 4.4], n=500,
                          quadrant=["fix first", "keep up", "monitor", "maintain"]))
    t.attrs.update(importance_cut=0.25, performance_cut=3.8, outcome="nps", r2=0.56)
    if scale:
        t.attrs["scale"] = scale
    return t


def themes_table():
    return pd.DataFrame(dict(theme=["missing_features", "pricing", "bugs"],
                             label=["missing_features", "Pricing and value", "Bugs and reliability"],
                             share=[0.30, 0.20, 0.10], ci_lower=[0.26, 0.17, 0.08], ci_upper=[0.34, 0.23, 0.12],
                             suppressed=False))


def impact_table():
    return pd.DataFrame(dict(theme=["setup", "praise"], label=["Setup and onboarding", "Praise"], mentions=[300, 900],
                             impact=[-57.6, 40.2], ci_lower=[-64.5, 35.0], ci_upper=[-50.7, 45.0],
                             suppressed=False))


def experiment_result():
    rows = []
    for metric, g in (("clicks/sessions", False), ("converted", False), ("csat", True)):
        for variant, lift, decision in (("new_checkout", 0.08, "win"), ("one_click", -0.05, "loss")):
            if metric == "csat" and variant == "one_click":
                decision = "guardrail breached"
            if metric == "converted" and variant == "one_click":
                lift, decision = 0.004, "inconclusive"
            rows.append(dict(metric=metric, variant=variant, abs_diff=lift / 10, abs_ci_lower=lift / 10 - 0.01,
                             abs_ci_upper=lift / 10 + 0.01, rel_lift=lift, rel_ci_lower=lift - 0.03,
                             rel_ci_upper=lift + 0.03, decision=decision, guardrail=g,
                             guardrail_breach=decision == "guardrail breached"))
    r = pd.DataFrame(rows)
    r.attrs["control"] = "control"
    return r


def cumulative_table():
    rows = []
    for variant, lift in (("new_checkout", 0.16), ("one_click", -0.02)):
        for k, d in enumerate(pd.date_range("2026-10-01", periods=10, freq="D")):
            w = 0.4 / (k + 1) ** 0.5
            rows.append(dict(period=d, metric="converted", variant=variant, rel_lift=lift, rel_ci_lower=lift - w,
                             rel_ci_upper=lift + w))
    return pd.DataFrame(rows)


def trends_table():
    weeks = pd.date_range("2026-09-07", periods=8, freq="W-MON")
    rows = []
    for metric, base, w in (("nps", 20.0, 9.0), ("csat", 0.65, 0.05), ("ces", 5.1, 0.15), ("first_contact", 0.7, 0.05)):
        for k, wk in enumerate(weeks):
            v = base * (1 + 0.01 * k)
            rows.append(dict(metric=metric, period=wk, n=120, estimate=v, ci_lower=v - w, ci_upper=v + w,
                             suppressed=False))
    return pd.DataFrame(rows), weeks[-1]


def durations_table():
    rng = np.random.default_rng(1)
    rows = []
    for ch, scale in (("chat", 300), ("email", 20000), ("in_app", 900)):
        secs = np.unique(rng.lognormal(np.log(scale), 0.8, 200).round().astype(int))
        rows += [dict(channel=ch, seconds=int(s), n=1) for s in secs]
    return pd.DataFrame(rows)


def histogram_table():
    return support.response_time_histogram(durations_table(), by="channel")


def support_weekly():
    weeks = pd.date_range("2026-09-07", periods=8, freq="W-MON")
    rows = []
    for ch, h in (("chat", 0.07), ("email", 8.0), ("in_app", 0.5)):
        for k, wk in enumerate(weeks):
            rows.append(dict(channel=ch, period=wk, measure="first_response", unit="hour", n=60, p50=h,
                             p50_ci_lower=h * 0.8, p50_ci_upper=h * 1.25, p90=h * 3, p90_ci_lower=h * 2,
                             p90_ci_upper=h * 4, suppressed=k == 0))
    return pd.DataFrame(rows), weeks[-2]


def funnel_table():
    steps = ["signup", "onboarding_done", "first_value", "checkout_started", "purchase"]
    overall = [1.0, 0.76, 0.60, 0.40, 0.22]
    conv = [1.0] + [overall[i] / overall[i - 1] for i in range(1, 5)]
    return pd.DataFrame(dict(step=steps, position=range(1, 6), reached=[int(2350 * o) for o in overall],
                             conversion=conv, ci_lower=[c - 0.02 for c in conv], ci_upper=[min(c + 0.02, 1) for c in conv],
                             overall=overall, suppressed=False))


def _figure(out):
    if isinstance(out, np.ndarray):
        return out.ravel()[0].figure
    return out.figure


CASES = {
    "retention_heatmap": lambda: plots.retention_heatmap(retention_table(), max_periods=12),
    "retention_curves": lambda: plots.retention_curves(retention_curve(), hue="plan"),
    "churn_trend": lambda: plots.churn_trend(churn_table(), hue="plan"),
    "survival_curves": lambda: plots.survival_curves(km_table(), hue="plan"),
    "nps_trend": lambda: plots.nps_trend(nps_trend_table(), title="NPS per month"),
    "nps_composition": lambda: plots.nps_composition(nps_segments(), x="channel"),
    "nps_bars": lambda: plots.nps_bars(nps_segments(), x="channel"),
    "driver_importance": lambda: plots.driver_importance(drivers_table()),
    "importance_performance": lambda: plots.importance_performance(drivers_table()),
    "theme_bars": lambda: plots.theme_bars(themes_table()),
    "theme_impact_bars": lambda: plots.theme_impact_bars(impact_table()),
    "lift_forest": lambda: plots.lift_forest(experiment_result()),
    "cumulative_lift": lambda: plots.cumulative_lift(cumulative_table()),
    "weekly_trends": lambda: plots.weekly_trends(trends_table()[0], highlight=trends_table()[1]),
    "response_time_distribution": lambda: plots.response_time_distribution(histogram_table()),
    "support_trend": lambda: plots.support_trend(support_weekly()[0], highlight=support_weekly()[1]),
    "funnel_bars": lambda: plots.funnel_bars(funnel_table()),
}


def _texts(fig):
    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_is_phone_legible_human_and_described(name):
    fig = _figure(CASES[name]())
    width = fig.get_figwidth()
    assert width <= 6.4 + 1e-9, f"{name}: default width {width} in"
    texts = _texts(fig)
    assert texts
    for t in texts:
        px = t.get_fontsize() * 5 / width
        assert px >= 9, f"{name}: {t.get_text()!r} at {t.get_fontsize()} pt is {px:.1f} px on a phone"
    # no snake_case sample values or column names anywhere in the figure's text
    for t in texts:
        s = t.get_text()
        assert "_" not in s, f"{name}: snake_case text {s!r}"
        for raw in SNAKE:
            assert raw not in s, f"{name}: raw value {raw!r} in {s!r}"
    # the rendered figure stays inside its width (tight bbox adds at most a small margin)
    bbox = fig.get_tightbbox(fig.canvas.get_renderer())
    assert bbox.width <= width + 0.25, f"{name}: drawn {bbox.width:.2f} in wide in a {width} in figure"
    alt = getattr(fig, "cx_alt", "")
    assert isinstance(alt, str) and len(alt) > 20, f"{name}: no alt text"
    assert re.search(r"\d", alt), f"{name}: alt text has no number: {alt!r}"
    assert "_" not in alt, f"{name}: snake_case in alt text: {alt!r}"


def test_wide_caller_figure_text_is_raised_to_the_phone_minimum():
    fig, axes = plt.subplots(2, 1, figsize=(8, 6))
    for ax in axes:
        plots.nps_composition(nps_segments(), x="channel", ax=ax)
    for t in _texts(fig):
        assert t.get_fontsize() * 5 / 8 >= 9, t.get_text()
    assert "Email" in fig.cx_alt


def test_weekly_trends_panels_are_stacked_not_side_by_side():
    axes = plots.weekly_trends(*trends_table()[:1])
    xs = {round(a.get_position().x0, 3) for a in axes}
    assert len(axes) == 4 and len(xs) == 1


def test_meaning_is_not_carried_by_colour_alone():
    ax = plots.lift_forest(experiment_result())
    words = " ".join(t.get_text() for t in ax.texts)
    for w in ("win", "loss", "guardrail", "no clear"):
        assert w in words
    ax = plots.importance_performance(drivers_table())
    words = " ".join(t.get_text() for t in ax.texts)
    for q in ("Fix first", "Keep up", "Monitor", "Maintain"):
        assert q in words
    ax = plots.nps_composition(nps_segments(), x="channel")
    assert {"20%", "37%", "43%"} <= {t.get_text() for t in ax.texts}
    assert any(p.get_hatch() for p in ax.patches)  # detractors hatched
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("Detractors" in s for s in legend) and any("Promoters" in s for s in legend)


def test_driver_scale_comes_from_the_data_or_the_table():
    ax = plots.importance_performance(drivers_table())
    assert "1–5" in ax.get_xlabel() and "1-10" not in ax.get_xlabel() and "1–5" in ax.figure.cx_alt
    ax = plots.importance_performance(drivers_table(scale=(1, 7)))
    assert "1–7" in ax.get_xlabel()
    ax = plots.importance_performance(drivers_table(), scale=(0, 10))
    assert "0–10" in ax.get_xlabel()
    assert rating_scale(values=[6.2, 7.7]) == (1, 10)
    assert rating_scale(values=[0.8, 7.7]) == (0, 10)
    assert rating_scale(values=[4.1, 6.5]) == (1, 7)


def test_human_labels():
    assert human("in_app") == "In-app"
    assert human("drv_value_for_money") == "Value for money"
    assert human("clicks/sessions") == "Clicks per session"
    assert human("one_click") == "One-click"
    assert human("nps") == "NPS" and human("AMER") == "AMER" and human("Pricing and value") == "Pricing and value"
    assert human("in_app", {"in_app": "App"}) == "App"
    ax = plots.nps_bars(nps_segments(), x="channel", labels={"in_app": "Mobile app"})
    assert any("Mobile app" in t.get_text() for t in ax.get_yticklabels())


def _deuteranopia(rgb):
    """Machado et al. (2009) deuteranopia simulation (severity 1.0) on linear RGB."""
    m = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]])
    return _sim(rgb, m)


def _protanopia(rgb):
    m = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]])
    return _sim(rgb, m)


def _sim(rgb, m):
    c = np.array(rgb)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    out = np.clip(m @ lin, 0, 1)
    return np.where(out <= 0.0031308, out * 12.92, 1.055 * out ** (1 / 2.4) - 0.055)


@pytest.mark.parametrize("simulate", [_deuteranopia, _protanopia])
def test_good_and_bad_stay_apart_for_colour_blind_readers(simulate):
    good, bad = simulate(to_rgb(style.GOOD)), simulate(to_rgb(style.BAD))
    assert np.linalg.norm(good - bad) > 0.3  # clearly different after simulation (0-1 RGB units)
    # red-green blindness keeps the blue-yellow axis: one must read blue, the other yellow(ish)
    blue_yellow = [c[2] - (c[0] + c[1]) / 2 for c in (good, bad)]
    assert blue_yellow[0] > 0.2 and blue_yellow[1] < -0.2
    # the old green/orange pair collapses under the same simulation
    old = np.linalg.norm(simulate(to_rgb("#1b9e77")) - simulate(to_rgb("#d95f02")))
    assert np.linalg.norm(good - bad) > 1.5 * old


def test_palette_is_okabe_ito():
    assert style.GOOD.upper() == "#0072B2" and style.BAD.upper() == "#D55E00"
    assert {"#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442"} <= {c.upper() for c in style.CATEGORICAL}


def test_show_outside_ipython_returns_the_figure():
    ax = plots.nps_trend(nps_trend_table())
    assert plots.show(ax) is ax.figure


def test_show_displays_png_with_alt_text(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    import IPython.display

    shell = InteractiveShell.instance()
    try:
        shown = []
        monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.append((objs, kw)))
        ax = plots.nps_trend(nps_trend_table())
        fig = ax.figure
        assert plots.show(ax) is None
        (obj,), kw = shown[0]
        data, md = obj.data, kw["metadata"]
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert md["cx_alt"] == fig.cx_alt and md["image/png"]["alt"] == fig.cx_alt
        assert 600 <= obj.width <= 700  # natural width at 100 dpi of a 6.4 in figure
        assert not plt.fignum_exists(fig.number)  # closed: the inline backend will not show it again
        # an explicit alt wins; the real display machinery carries the metadata into the output
        monkeypatch.undo()
        published = []
        monkeypatch.setattr(shell.display_pub, "publish", lambda data, metadata=None, **kw: published.append(
            (data, metadata)))
        plots.show(plots.funnel_bars(funnel_table()), alt="Funnel: 22% of starters buy.")
        data, md = published[-1]
        assert "image/png" in data and md["cx_alt"] == "Funnel: 22% of starters buy."
    finally:
        InteractiveShell.clear_instance()
