"""Figures for cohort retention, churn and lifetimes (result tables in, ``ax=`` in, Axes out)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__ = ["retention_heatmap", "retention_curves", "churn_trend", "survival_curves"]


def _ax(ax, size=(8, 4.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def retention_heatmap(table: pd.DataFrame, *, value: str = "retention", max_periods: int = 12,
                      ax=None):
    """Cohort x period heatmap of a :func:`cxlib.cohorts.retention_table` (one segment).

    Immature cells (period not ended) are hatched; suppressed cohorts are blank.
    """
    ax = _ax(ax, (9, 6))
    t = table[table["period"] <= max_periods].copy()
    t["cohort_label"] = pd.to_datetime(t["cohort"]).dt.strftime("%Y-%m-%d" if t.attrs.get("grain") in
                                                                  ("week", "day") else "%Y-%m")
    grid = t.pivot_table(index="cohort_label", columns="period", values=value, aggfunc="first", dropna=False)
    # immature cells are left blank (not 0%): they are still filling up
    mature = t[t["mature"]].pivot_table(index="cohort_label", columns="period", values=value, aggfunc="first",
                                        dropna=False).reindex_like(grid)
    sns.heatmap(mature, ax=ax, cmap="Blues", vmin=0, vmax=1 if value == "retention" else None,
                annot=len(grid.columns) <= 13, fmt=".0%", annot_kws={"fontsize": 7},
                cbar_kws={"label": value.replace("_", " ")})
    immature = t[~t["mature"]].pivot_table(index="cohort_label", columns="period", values="active",
                                           aggfunc="first").reindex_like(grid)
    for i, row in enumerate(grid.index):
        for j, col in enumerate(grid.columns):
            if pd.notna(immature.loc[row, col]):
                ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, hatch="///", edgecolor="0.5", lw=0))
    ax.set_xlabel(f"{table.attrs.get('grain', 'period')}s since first activity")
    ax.set_ylabel("cohort (first activity)")
    ax.set_title("Share of each cohort active again (hatched: period still open, not yet a rate)")
    return ax


def retention_curves(curve: pd.DataFrame, *, hue: str | None = None, ax=None, x: str = "period",
                     y: str = "retention"):
    """Pooled retention by period since acquisition with 95% interval bands, one line per ``hue``."""
    ax = _ax(ax)
    groups = [(None, curve)] if hue is None else list(curve.groupby(hue))
    palette = sns.color_palette("colorblind", len(groups))
    for color, (name, g) in zip(palette, groups):
        g = g[~g.get("suppressed", False)].sort_values(x)
        ax.plot(g[x], g[y], marker="o", ms=3, color=color, label=name if name is not None else "all")
        ax.fill_between(g[x], g["ci_lower"], g["ci_upper"], color=color, alpha=0.2, lw=0)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("periods since first activity")
    ax.set_ylabel("customers active")
    ax.set_title("Retention curve (bands: 95% intervals)")
    if hue is not None:
        ax.legend(title=hue)
    return ax


def churn_trend(churn: pd.DataFrame, *, hue: str | None = None, ax=None, y: str = "churn_rate"):
    """Churn rate per period with 95% interval error bars; incomplete periods drawn hollow."""
    ax = _ax(ax)
    groups = [(None, churn)] if hue is None else list(churn.groupby(hue))
    palette = sns.color_palette("colorblind", len(groups))
    for k, (color, (name, g)) in enumerate(zip(palette, groups)):
        g = g[~g["suppressed"]].sort_values("period")
        x = pd.to_datetime(g["period"]) + pd.to_timedelta(3 * k, unit="D")  # dodge overlapping bars
        err = np.clip(np.vstack([g[y] - g["ci_lower"], g["ci_upper"] - g[y]]).astype(float), 0, None)
        ax.errorbar(x, g[y], yerr=err, fmt="o-", ms=4, color=color, capsize=2, lw=1,
                    label=name if name is not None else "all")
        open_ = ~g["complete"]
        ax.plot(x[open_], g.loc[open_, y], "o", ms=8, mfc="white", color=color)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("period")
    ax.set_ylabel("customers lost in the period")
    ax.set_title("Churn rate per period (bars: 95% intervals; hollow: period not over)")
    if hue is not None:
        ax.legend(title=hue)
    return ax


def survival_curves(km: pd.DataFrame, *, hue: str | None = None, ax=None):
    """Kaplan-Meier step curves with 95% interval bands and the 50% line (median lifetime)."""
    ax = _ax(ax)
    groups = [(None, km)] if hue is None else list(km.groupby(hue))
    palette = sns.color_palette("colorblind", len(groups))
    for color, (name, g) in zip(palette, groups):
        g = g.sort_values("time")
        x = np.r_[0, g["time"]]
        ax.step(x, np.r_[1, g["survival"]], where="post", color=color, label=name if name is not None else "all")
        ax.fill_between(x, np.r_[1, g["ci_lower"]], np.r_[1, g["ci_upper"]], step="post", color=color,
                        alpha=0.2, lw=0)
    ax.axhline(0.5, color="0.4", ls=":", lw=1)
    # numbers at risk under the axis, at a few round times
    ticks = np.linspace(0, km["time"].max(), 6).round()
    rows = []
    for name, g in groups:
        g = g.sort_values("time")
        counts = []
        for tt in ticks:
            later = g[g["time"] >= tt]
            counts.append(int(later["at_risk"].iloc[0]) if len(later) else 0)
        rows.append((name if name is not None else "all", counts))
    text = "at risk  " + "   ".join(f"{lbl}: " + " / ".join(f"{c:,}" for c in cs) for lbl, cs in rows)
    ax.set_xticks(ticks)
    ax.text(0, -0.28, text + f"  (at {', '.join(f'{x:g}' for x in ticks)})", transform=ax.transAxes, fontsize=8,
            color="0.3")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel(f"{km.attrs.get('unit', 'month')}s since start")
    ax.set_ylabel("still subscribed")
    ax.set_title("Customer lifetime (Kaplan-Meier, bands: 95% intervals)")
    if hue is not None:
        ax.legend(title=hue)
    return ax
