"""Figures for the weekly scorecard (result tables in, ``ax=``/``axes=`` in, Axes out).

Phone-sized by default (6.4 in wide, panels stacked vertically), alt text in ``fig.cx_alt``; channels
differ by marker and line style and are labelled directly; "this week" is marked with a shape and words.
"""
from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cxlib.plots._common import (direct_labels, finish, hours_formatter, human, new_ax, pct, points,
                                 scale_text, share_formatter, title, wrap, xlabel, ylabel)
from cxlib.plots.style import BAD, CATEGORICAL, GOOD, LINESTYLES, MARKERS, WIDTH
from cxlib.present.format import duration

__all__ = ["weekly_trends", "response_time_distribution", "funnel_bars", "support_trend"]


def _metric_label(name, trends, labels):
    if labels and name in labels:
        return str(labels[name])
    if name == "nps":
        return "NPS (points)"
    if name == "csat":
        return "CSAT (share satisfied)"
    if name == "ces":
        scale = trends.attrs.get("scale")
        if isinstance(scale, dict):
            scale = scale.get("ces")
        return f"CES (average, {scale_text(scale)})" if scale is not None else "CES (average effort score)"
    return human(name, labels)


def _fmt(name):
    return {"nps": points, "csat": pct}.get(name, lambda v: "—" if pd.isna(v) else f"{v:.2f}")


def weekly_trends(trends: pd.DataFrame, *, metric: str = "metric", x: str = "period", y: str = "estimate",
                  highlight=None, axes=None, labels: dict | None = None):
    """Small multiples stacked vertically: one panel per metric (long table from ``cxlib.metrics``),
    interval bands, the highlighted week marked with a hollow diamond and its value written. Returns the
    array of Axes."""
    names = list(dict.fromkeys(trends[metric]))
    if axes is None:
        _, axes = plt.subplots(len(names), 1, figsize=(WIDTH, 2.3 * len(names) + 0.9), squeeze=False,
                               sharex=True, layout="constrained")
        axes = axes[:, 0]
    axes = np.asarray(axes).ravel()
    hl = pd.Timestamp(highlight) if highlight is not None else None
    facts = []
    sup = trends["suppressed"].astype(bool) if "suppressed" in trends else pd.Series(False, index=trends.index)
    for ax, name in zip(axes, names):
        t = trends[(trends[metric] == name) & ~sup].sort_values(x)
        ax.plot(t[x], t[y], marker="o", ms=4, color=GOOD)
        ax.fill_between(t[x], t["ci_lower"], t["ci_upper"], color=GOOD, alpha=0.15, lw=0)
        f = _fmt(name)
        label = _metric_label(name, trends, labels)
        fact = f"{label}: {len(t)} weeks"
        if len(t):
            fact += f", from {f(t[y].iloc[0])} to {f(t[y].iloc[-1])}"
        if hl is not None:
            h = t[t[x] == hl]
            if len(h):
                ax.plot(h[x], h[y], "D", mfc="none", mec=BAD, mew=2.2, ms=12, zorder=3)
                ax.annotate(f"this week {f(h[y].iloc[0])}", (h[x].iloc[0], h[y].iloc[0]), xytext=(-8, 10),
                            textcoords="offset points", ha="right", color=BAD, fontweight="bold")
                fact += (f"; this week {f(h[y].iloc[0])} ({f(h['ci_lower'].iloc[0])} to "
                         f"{f(h['ci_upper'].iloc[0])})")
            else:  # an empty (or too thin) week is news: the alt text says so rather than skipping it
                fact += "; no answers to show this week"
        facts.append(fact)
        ax.set_title(label, loc="left")
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
        if name == "csat":
            ax.yaxis.set_major_formatter(share_formatter())
        ax.locator_params(axis="y", nbins=4)
    fig = axes[0].figure
    fig.suptitle(wrap("Weekly trend (bands: 95% intervals; diamond: this week)", fig, 13))
    alt = ("Weekly trends with 95% interval bands, one panel per metric"
           + (f", week of {hl:%-d %b %Y} marked" if hl is not None else "") + ". " + "; ".join(facts) + ".")
    for ax in axes:
        ax.cx_alt = alt
    finish(axes[0], alt)
    return axes


def _duration_axis(ax, axis="x"):
    getattr(ax, f"set_{axis}scale")("log")
    ticks = [1 / 60, 5 / 60, 0.25, 1, 4, 12, 24, 72, 168, 720]
    lo, hi = getattr(ax, f"get_{axis}lim")()
    ticks = [t for t in ticks if lo <= t <= hi]
    if len(ticks) > 5:
        ticks = ticks[::2]
    if len(ticks) >= 2:
        getattr(ax, f"set_{axis}ticks")(ticks)
    getattr(ax, f"{axis}axis").set_major_formatter(hours_formatter())
    getattr(ax, f"{axis}axis").set_minor_formatter(plt.NullFormatter())


def response_time_distribution(table: pd.DataFrame, *, hue: str = "channel", ax=None,
                               labels: dict | None = None):
    """Distribution of response times per channel (bins from :func:`cxlib.support.response_time_histogram`,
    in hours), log-scaled time axis; one line style per channel, the median of each written on the plot."""
    ax = new_ax(ax, 4.4)
    facts, top = [], 0.0
    for k, (name, g) in enumerate(table.groupby(hue, sort=True)):
        color, ls = CATEGORICAL[k % 8], LINESTYLES[k % 8]
        g = g.sort_values("lower")
        share = g["share"].to_numpy(float)
        lbl = human(name, labels)
        ax.stairs(share, np.r_[g["lower"].to_numpy(float), g["upper"].to_numpy(float)[-1:]], color=color, ls=ls,
                  lw=2, label=lbl)
        top = max(top, share.max())
        med = g["median"].iloc[0]
        ax.axvline(med, color=color, ls=ls, lw=1)
        facts.append((lbl, med, int(g["tickets"].iloc[0]), color))
    for i, (lbl, med, n, color) in enumerate(facts):
        ax.annotate(f"{lbl} median {duration(med)}", (med, top * (1.12 - 0.13 * i)), xytext=(4, 0),
                    textcoords="offset points", color=color, va="center", fontweight="bold")
    ax.set_ylim(0, top * 1.2 if top else 1)
    _duration_axis(ax)
    ax.yaxis.set_major_formatter(share_formatter())
    xlabel(ax, "Time to first response (log scale)")
    ylabel(ax, "Share of the channel's tickets")
    ax.legend(title=human(hue, labels), loc="upper left")
    title(ax, "How long customers wait for a first answer")
    alt = ("Distribution of time to first response per " + human(hue, labels).lower() + " on a log scale: "
           + "; ".join(f"{lbl} median {duration(med)} ({n:,} tickets)" for lbl, med, n, _ in facts) + ".")
    return finish(ax, alt)


def funnel_bars(table: pd.DataFrame, *, ax=None, labels: dict | None = None):
    """Journey funnel: share of starters reaching each step (written on the bar), step conversion with its
    95% interval under each step name."""
    t = table.sort_values("position").reset_index(drop=True)
    ax = new_ax(ax, 0.75 * len(t) + 1.6)
    pos = np.arange(len(t))[::-1]
    ax.barh(pos, t["overall"], color=GOOD)
    names = []
    for p, (_, r) in zip(pos, t.iterrows()):
        ax.annotate(pct(r["overall"]), (r["overall"], p), xytext=(4, 0), textcoords="offset points", va="center")
        step = human(r["step"], labels)
        if r["position"] > 1 and pd.notna(r["conversion"]):
            step += f"\n{pct(r['conversion'])} of previous ({pct(r['ci_lower'])}–{pct(r['ci_upper'])})"
        names.append(step)
    ax.set_yticks(pos, names)
    ax.set_xlim(0, 1.15)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
    ax.xaxis.set_major_formatter(share_formatter())
    ax.grid(False, axis="y")
    xlabel(ax, "Share of customers who started the journey")
    title(ax, "Journey funnel (step conversion with 95% interval)")
    start = t["reached"].iloc[0] if "reached" in t and len(t) else None
    alt = ("Journey funnel" + (f" from {int(start):,} starters" if start is not None else "") + ": "
           + "; ".join(f"{human(r['step'], labels)} {pct(r['overall'])} of starters"
                       + (f" ({pct(r['conversion'])} of the previous step)" if r["position"] > 1
                          and pd.notna(r["conversion"]) else "")
                       for _, r in t.iterrows()) + ".")
    return finish(ax, alt)


def support_trend(table: pd.DataFrame, *, hue: str = "channel", q: str = "p50", highlight=None, ax=None,
                  labels: dict | None = None):
    """Weekly median (or ``q``) response time per channel with its 95% interval band, log-scaled time
    (from :func:`cxlib.support.response_times` with ``period='week'``); channels by marker, line style and
    an end label; this week marked with a dotted line and the words "this week"."""
    ax = new_ax(ax, 4.4)
    ends, facts = [], []
    unit = str(table["unit"].iloc[0]) if "unit" in table and len(table) else "hour"
    factor = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1, "day": 24, "week": 168}.get(unit.rstrip("s"), 1)
    table = table.assign(**{c: table[c] * factor for c in (q, f"{q}_ci_lower", f"{q}_ci_upper")})
    for k, (name, g) in enumerate(table.groupby(hue, sort=True)):
        color, marker, ls = CATEGORICAL[k % 8], MARKERS[k % 8], LINESTYLES[k % 8]
        g = g[~g["suppressed"].astype(bool)].sort_values("period")
        lbl = human(name, labels)
        ax.plot(g["period"], g[q], color=color, ls=ls, label=lbl, marker=marker, ms=4, lw=1.6)
        ax.fill_between(g["period"], g[f"{q}_ci_lower"], g[f"{q}_ci_upper"], color=color, alpha=0.15, lw=0)
        if len(g):
            ends.append((g["period"].iloc[-1], g[q].iloc[-1], lbl, color))
            fact = f"{lbl} {duration(g[q].iloc[-1])} in the last week shown"
            if highlight is not None:
                h = g[g["period"] == pd.Timestamp(highlight)]
                if len(h):
                    fact = f"{lbl} {duration(h[q].iloc[0])} this week"
            facts.append(fact + f" (range {duration(g[q].min())} to {duration(g[q].max())})")
    _duration_axis(ax, "y")
    direct_labels(ax, ends)
    if highlight is not None:
        ax.axvline(pd.Timestamp(highlight), color=BAD, ls=":", lw=1.5)
        ax.annotate("this week", (pd.Timestamp(highlight), 1), xycoords=("data", "axes fraction"),
                    xytext=(-4, -4), textcoords="offset points", ha="right", va="top", color=BAD, fontweight="bold")
    what = "Median" if q == "p50" else ("90th percentile" if q == "p90" else human(q, labels))
    ylabel(ax, f"{what} first response (log scale)")
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
    ax.set_xlabel("")
    title(ax, f"Weekly first-response time by {human(hue, labels).lower()} (bands: 95% intervals)")
    ax.legend(title=human(hue, labels), loc="upper left")
    alt = (f"Weekly {what.lower()} time to first response per {human(hue, labels).lower()}, log scale, with 95% "
           f"interval bands: " + "; ".join(facts) + ".")
    return finish(ax, alt)
