"""Figures for the weekly scorecard (result tables in, ``ax=``/``axes=`` in, Axes out)."""
from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from cxlib.plots.style import BAD, NEUTRAL

__all__ = ["weekly_trends", "response_time_distribution", "funnel_bars", "support_trend"]


def weekly_trends(trends: pd.DataFrame, *, metric: str = "metric", x: str = "period", y: str = "estimate",
                  highlight=None, axes=None):
    """Small multiples: one panel per metric (long table from ``cxlib.metrics``), interval bands, the
    highlighted week marked. Returns the array of Axes."""
    names = list(dict.fromkeys(trends[metric]))
    if axes is None:
        _, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
        axes = axes[0]
    labels = {"nps": "NPS (points)", "csat": "CSAT (satisfied share)", "ces": "CES (mean, 1-7)"}
    for ax, name in zip(axes, names):
        t = trends[(trends[metric] == name) & ~trends.get("suppressed", False)].sort_values(x)
        ax.plot(t[x], t[y], marker="o", ms=3, color=NEUTRAL)
        ax.fill_between(t[x], t["ci_lower"], t["ci_upper"], color=NEUTRAL, alpha=0.2, lw=0)
        if highlight is not None:
            h = t[t[x] == pd.Timestamp(highlight)]
            ax.plot(h[x], h[y], "o", color=BAD, ms=8, zorder=3)
        ax.set_title(labels.get(name, name))
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
        if name == "csat":
            ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    axes[0].figure.suptitle("Weekly trend (bands: 95% intervals; orange: this week)", y=1.03, fontsize=11)
    return axes


def response_time_distribution(durations: pd.DataFrame, *, hue: str = "channel", ax=None):
    """Distribution of response times per channel (counts table from :func:`cxlib.support.durations`),
    log-scaled hours; the median of each channel marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    d = durations.assign(hours=np.maximum(durations["seconds"], 1) / 3600)
    sns.histplot(data=d, x="hours", weights="n", hue=hue, log_scale=True, element="step", stat="density",
                 common_norm=False, ax=ax, bins=40)
    ax.set_xlabel("hours to first response (log scale)")
    ax.set_ylabel("share of tickets (density)")
    ax.set_title("How long customers wait for a first answer, by channel")
    return ax


def funnel_bars(table: pd.DataFrame, *, ax=None):
    """Journey funnel: share of starters reaching each step, step conversion (with 95% CI) annotated."""
    t = table.sort_values("position").reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.6 * len(t) + 1.2))
    pos = np.arange(len(t))[::-1]
    ax.barh(pos, t["overall"], color=NEUTRAL)
    for p, (_, r) in zip(pos, t.iterrows()):
        if r["position"] > 1 and pd.notna(r["conversion"]):
            ax.text(r["overall"] + 0.01, p, f"{r['conversion']:.0%} of previous step "
                    f"({r['ci_lower']:.0%}–{r['ci_upper']:.0%})", va="center", fontsize=9)
    ax.set_yticks(pos, [s.replace("_", " ") for s in t["step"]])
    ax.set_xlim(0, 1.35)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("share of customers who started the journey")
    ax.set_title("Journey funnel (step conversion with 95% interval)")
    return ax


def support_trend(table: pd.DataFrame, *, hue: str = "channel", q: str = "p50", highlight=None, ax=None):
    """Weekly median (or ``q``) response time per channel with its 95% interval band, log-scaled hours
    (from :func:`cxlib.support.response_times` with ``period='week'``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    palette = sns.color_palette("colorblind", table[hue].nunique())
    for color, (name, g) in zip(palette, table.groupby(hue)):
        g = g[~g["suppressed"]].sort_values("period")
        ax.plot(g["period"], g[q], color=color, label=name, marker="o", ms=2)
        ax.fill_between(g["period"], g[f"{q}_ci_lower"], g[f"{q}_ci_upper"], color=color, alpha=0.2, lw=0)
    if highlight is not None:
        ax.axvline(pd.Timestamp(highlight), color=BAD, ls=":", lw=1)
    ax.set_yscale("log")
    unit = table["unit"].iloc[0] if "unit" in table and len(table) else "hour"
    ax.set_ylabel(f"{'median' if q == 'p50' else q} first response ({unit}s, log scale)")
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.set_title("Weekly first-response time by channel (bands: 95% intervals; dotted: this week)")
    ax.legend(title=hue)
    return ax
