"""Figures for cohort retention, churn and lifetimes (result tables in, ``ax=`` in, Axes out).

Every figure is phone-sized by default (6.4 in wide, 12 pt text), carries alt text in ``fig.cx_alt`` and
tells groups apart by marker, line style and a direct label as well as by colour.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from cxlib.plots._common import direct_labels, finish, human, new_ax, pct, share_formatter, title, xlabel, ylabel
from cxlib.plots.style import CATEGORICAL, LINESTYLES, MARKERS

__all__ = ["retention_heatmap", "retention_curves", "churn_trend", "survival_curves"]


def _groups(table, hue):
    return [(None, table)] if hue is None else list(table.groupby(hue, sort=True))


def _cohort_label(s: pd.Series, grain) -> pd.Series:
    d = pd.to_datetime(s)
    if grain in ("week", "day"):
        return d.dt.strftime("%Y-%m-%d")
    if grain == "quarter":
        return d.dt.year.astype(str) + " Q" + d.dt.quarter.astype(str)
    return d.dt.strftime("%b %Y")


def _style(k):
    return CATEGORICAL[k % len(CATEGORICAL)], MARKERS[k % len(MARKERS)], LINESTYLES[k % len(LINESTYLES)]


def retention_heatmap(table: pd.DataFrame, *, value: str = "retention", max_periods: int = 12, ax=None,
                      labels: dict | None = None):
    """Cohort x period heatmap of a :func:`cxlib.cohorts.retention_table` (one segment).

    Each mature cell is written as a percentage; immature cells (period not ended) are hatched and left
    blank; suppressed cohorts are blank. The alt text names the last age's average over cohorts when the
    table carries it (``attrs['average_over_cohorts'][value][period]``, set by
    :func:`cxlib.pages.cohort_retention.retention`).
    """
    grain = table.attrs.get("grain", "period")
    t = table[table["period"] <= max_periods].copy()
    t["cohort_label"] = _cohort_label(t["cohort"], grain)
    order = list(dict.fromkeys(t.sort_values("cohort")["cohort_label"]))
    ax = new_ax(ax, 0.3 * len(order) + 1.9)
    grid = t.pivot_table(index="cohort_label", columns="period", values=value, aggfunc="first",
                         dropna=False).reindex(order)
    # immature cells are left blank (not 0%): they are still filling up
    ok = t["mature"].astype(bool) & ~t.get("suppressed", pd.Series(False, index=t.index)).astype(bool)
    mature = t[ok].pivot_table(index="cohort_label", columns="period", values=value, aggfunc="first",
                               dropna=False).reindex_like(grid)
    annotate = len(grid.columns) <= 13
    pct_scale = value in ("retention", "revenue_retention")
    shown = mature * 100 if pct_scale else mature
    sns.heatmap(shown, ax=ax, cmap="Blues", vmin=0, vmax=100 if value == "retention" else None,
                annot=annotate, fmt=".0f", annot_kws={"fontsize": 12}, cbar=not annotate,
                cbar_kws=None if annotate else {"label": human(value, labels) + (" (%)" if pct_scale else "")},
                linewidths=0.5, linecolor="white")
    immature = t[~t["mature"].astype(bool)].pivot_table(index="cohort_label", columns="period", values="active",
                                                        aggfunc="first").reindex_like(grid)
    for i, row in enumerate(grid.index):
        for j, col in enumerate(grid.columns):
            if pd.notna(immature.loc[row, col]):
                ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, hatch="///", edgecolor="0.55", lw=0))
    ax.grid(False)
    unit = grain if grain in ("day", "week", "month", "quarter") else "period"
    xlabel(ax, f"{unit.capitalize()}s since first activity")
    ax.set_ylabel("Cohort (first activity)")
    ax.tick_params(axis="x", labelrotation=0)
    ax.tick_params(axis="y", labelrotation=0)
    what = "% of each cohort active again" if pct_scale else human(value, labels) + " per cohort"
    title(ax, f"{what} (hatched: {unit} still open)")
    # alt text: range of the first-period value over mature cohorts, and the last column with data
    col1 = 1 if 1 in mature.columns else (mature.columns[0] if len(mature.columns) else None)
    fmt = (lambda v: f"{v:.0%}") if pct_scale else (lambda v: f"{v:,.2f}")
    parts = [f"Heatmap of {what.lower()} for {len(order)} {unit}ly cohorts"
             + (f" from {order[0]} to {order[-1]}" if order else "")
             + f", up to {max_periods} {unit}s after first activity."]
    if col1 is not None and mature[col1].notna().any():
        c = mature[col1].dropna()
        parts.append(f"After {col1} {unit}{'s' if col1 != 1 else ''}: from {fmt(c.min())} ({c.idxmin()}) "
                     f"to {fmt(c.max())} ({c.idxmax()}).")
    average = table.attrs.get("average_over_cohorts", {}).get(value, {})  # computed by the page, read here
    if len(mature.columns) and mature.iloc[:, -1].notna().any() and mature.columns[-1] in average:
        last = mature.columns[-1]
        c = mature[last].dropna()
        parts.append(f"After {last} {unit}s: {fmt(average[last])} on average over {len(c)} cohorts.")
    parts.append("Hatched cells are periods that are still open; blank cells are suppressed or not reached.")
    return finish(ax, " ".join(parts))


def retention_curves(curve: pd.DataFrame, *, hue: str | None = None, ax=None, x: str = "period",
                     y: str = "retention", labels: dict | None = None):
    """Pooled retention by period since acquisition with 95% interval bands, one line per ``hue``
    (each with its own marker and line style, labelled at its end)."""
    ax = new_ax(ax, 4.2)
    groups = _groups(curve, hue)
    ends, facts = [], []
    for k, (name, g) in enumerate(groups):
        color, marker, ls = _style(k)
        sup = g["suppressed"].astype(bool) if "suppressed" in g else pd.Series(False, index=g.index)
        g = g[~sup].sort_values(x)
        lbl = human(name, labels) if name is not None else "All customers"
        ax.plot(g[x], g[y], marker=marker, ms=5, color=color, ls=ls, lw=1.8, label=lbl)
        ax.fill_between(g[x], g["ci_lower"], g["ci_upper"], color=color, alpha=0.15, lw=0)
        if len(g):
            ends.append((g[x].iloc[-1], g[y].iloc[-1], lbl, color))
            first = g[g[x] == 1]
            bits = [f"{pct(first[y].iloc[0])} after 1 period" if len(first) else None,
                    f"{pct(g[y].iloc[-1])} after {g[x].iloc[-1]:g}"]
            facts.append(f"{lbl}: " + ", ".join(b for b in bits if b))
    if hue is not None:
        direct_labels(ax, ends)
        ax.legend(title=human(hue, labels), loc="upper right")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(share_formatter())
    xlabel(ax, "Periods since first activity")
    ylabel(ax, "Customers active")
    title(ax, "Retention curve (bands: 95% intervals)")
    alt = ("Retention curve: share of customers active by period since first activity"
           + (f", by {human(hue, labels).lower()}" if hue else "") + ". " + "; ".join(facts)
           + ". Shaded bands are 95% intervals.")
    return finish(ax, alt)


def churn_trend(churn: pd.DataFrame, *, hue: str | None = None, ax=None, y: str = "churn_rate",
                labels: dict | None = None):
    """Churn rate per period with 95% interval error bars; incomplete periods drawn hollow (and said so in
    the title); one marker shape per ``hue`` group. The alt text names each group's average over its
    complete periods when the table carries it (``attrs['average_over_periods'][y][group]``, group None
    without ``hue``; set by :func:`cxlib.pages.cohort_retention.churn`)."""
    ax = new_ax(ax, 4.2)
    groups = _groups(churn, hue)
    average = churn.attrs.get("average_over_periods", {}).get(y, {})  # per group, computed by the page
    facts = []
    for k, (name, g) in enumerate(groups):
        color, marker, ls = _style(k)
        g = g[~g["suppressed"].astype(bool)].sort_values("period")
        x = pd.to_datetime(g["period"]) + pd.to_timedelta(3 * k, unit="D")  # dodge overlapping bars
        err = np.clip(np.vstack([g[y] - g["ci_lower"], g["ci_upper"] - g[y]]).astype(float), 0, None)
        lbl = human(name, labels) if name is not None else "All customers"
        ax.errorbar(x, g[y], yerr=err, fmt=marker, ls=ls, ms=5, color=color, capsize=2, lw=1.2, label=lbl)
        open_ = ~g["complete"].astype(bool)
        ax.plot(x[open_], g.loc[open_, y], marker, ms=10, mfc="white", color=color)
        done = g[g["complete"].astype(bool)]
        if len(done):
            r = done.iloc[-1]
            fact = (f"{lbl}: {pct(r[y], 1)} in {pd.Timestamp(r['period']):%b %Y} "
                    f"(95% interval {pct(r['ci_lower'], 1)} to {pct(r['ci_upper'], 1)})")
            if name in average:
                fact += f", average {pct(average[name], 1)} over {len(done)} periods"
            facts.append(fact)
    ax.yaxis.set_major_formatter(share_formatter())
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel("")
    ylabel(ax, "Customers lost in the period")
    title(ax, "Churn rate per period (bars: 95% intervals; hollow: period not complete)")
    if hue is not None:
        ax.legend(title=human(hue, labels))
    alt = ("Monthly churn rate" + (f" by {human(hue, labels).lower()}" if hue else "") + ". Latest complete period: "
           + "; ".join(facts) + ". Error bars are 95% intervals; hollow points are periods not complete (not over "
           "yet, or past the end of the data).")
    return finish(ax, alt)


def survival_curves(km: pd.DataFrame, *, hue: str | None = None, ax=None, labels: dict | None = None):
    """Kaplan-Meier step curves with 95% interval bands and the 50% line (median lifetime); numbers at risk
    written under the plot; each group with its own line style and an end label."""
    ax = new_ax(ax, 4.8)
    groups = _groups(km, hue)
    unit = km.attrs.get("unit", "month")
    ends, facts = [], []
    for k, (name, g) in enumerate(groups):
        color, _, ls = _style(k)
        g = g.sort_values("time")
        x = np.r_[0, g["time"]]
        lbl = human(name, labels) if name is not None else "All customers"
        ax.step(x, np.r_[1, g["survival"]], where="post", color=color, ls=ls, lw=1.8, label=lbl)
        ax.fill_between(x, np.r_[1, g["ci_lower"]], np.r_[1, g["ci_upper"]], step="post", color=color,
                        alpha=0.15, lw=0)
        if len(g):
            ends.append((g["time"].iloc[-1], g["survival"].iloc[-1], lbl, color))
            below = g[g["survival"] <= 0.5]
            med = (f"median lifetime {below['time'].iloc[0]:.1f} {unit}s" if len(below)
                   else "median not reached")
            facts.append(f"{lbl}: {pct(g['survival'].iloc[-1])} still subscribed after "
                         f"{g['time'].iloc[-1]:.0f} {unit}s, {med}")
    ax.axhline(0.5, color="0.4", ls=":", lw=1)
    if hue is not None:
        direct_labels(ax, ends)
    # numbers at risk under the axis, at a few round times
    from matplotlib.ticker import MaxNLocator

    tmax = float(km["time"].max()) if len(km) else 1.0
    ticks = [t for t in MaxNLocator(nbins=5, steps=[1, 2, 3, 5, 6, 10]).tick_values(0, tmax) if 0 <= t <= tmax]
    lines = [f"At risk at {', '.join(f'{t:g}' for t in ticks)} {unit}s:"]
    for name, g in groups:
        g = g.sort_values("time")
        counts = []
        for tt in ticks:
            later = g[g["time"] >= tt]
            counts.append(f"{int(later['at_risk'].iloc[0]):,}" if len(later) else "0")
        lines.append(f"{human(name, labels) if name is not None else 'All'}: " + " · ".join(counts))
    ax.set_xticks(ticks)
    ax.annotate("\n".join(lines), (0, 0), xycoords="axes fraction", xytext=(0, -44), textcoords="offset points",
                va="top", ha="left", color="0.25")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(share_formatter())
    xlabel(ax, f"{unit.capitalize()}s since start")
    ylabel(ax, "Still subscribed")
    title(ax, "Customer lifetime (Kaplan-Meier; bands: 95% intervals; dotted: 50%)")
    if hue is not None:
        ax.legend(title=human(hue, labels), loc="lower left")
    alt = ("Kaplan-Meier curves of the share of customers still subscribed by " + unit + "s since start"
           + (f", by {human(hue, labels).lower()}" if hue else "") + ". " + "; ".join(facts)
           + ". Shaded bands are 95% intervals.")
    return finish(ax, alt)
