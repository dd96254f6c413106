"""Figures for experiment comparisons (result tables in, ``ax=`` in, Axes out)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cxlib.plots.style import BAD, GOOD, NEUTRAL

__all__ = ["lift_forest", "cumulative_lift"]


def lift_forest(result: pd.DataFrame, *, relative: bool = True, ax=None):
    """Forest plot of a :func:`cxlib.experiments.compare` result: one row per metric x variant, the
    lift with its 95% interval, coloured by decision; guardrail breaches marked with a cross."""
    r = result.reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * len(r) + 1.4))
    x, lo, hi = (("rel_lift", "rel_ci_lower", "rel_ci_upper") if relative
                 else ("abs_diff", "abs_ci_lower", "abs_ci_upper"))
    colors = r["decision"].map({"win": GOOD, "loss": BAD, "guardrail breached": BAD}).fillna(NEUTRAL)
    y = np.arange(len(r))[::-1]
    for yi, (_, row), col in zip(y, r.iterrows(), colors):
        ax.plot([row[lo], row[hi]], [yi, yi], color=col, lw=2.5, solid_capstyle="round")
        ax.plot(row[x], yi, "o", color=col, ms=7)
        if row.get("guardrail_breach", False):
            ax.plot(row[x], yi, "x", color="black", ms=10, mew=2)
    ax.axvline(0, color="0.3", lw=1)
    labels = [f"{m}{' (guardrail)' if g else ''} — {v}" for m, v, g in zip(r["metric"], r["variant"], r["guardrail"])]
    ax.set_yticks(y, labels)
    if relative:
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:+.0%}"))
    ax.set_xlabel("relative lift vs control (95% interval)" if relative else "difference vs control (95% interval)")
    ax.set_title("Effect of each variant (green: win, orange: loss, purple: inconclusive; × guardrail breach)",
                 fontsize=10)
    return ax


def cumulative_lift(table: pd.DataFrame, *, ax=None):
    """Relative lift over time (from :func:`cxlib.experiments.cumulative`), one line per variant with its
    95% interval band: how the estimate settled as data came in."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    palette = [GOOD, BAD, NEUTRAL, "0.4"]
    for color, (name, g) in zip(palette, table.groupby("variant")):
        g = g.sort_values("period")
        ax.plot(g["period"], g["rel_lift"], color=color, label=name)
        ax.fill_between(g["period"], g["rel_ci_lower"], g["rel_ci_upper"], color=color, alpha=0.15, lw=0)
    ax.axhline(0, color="0.3", lw=1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:+.0%}"))
    ax.tick_params(axis="x", labelrotation=30)
    metric = table["metric"].iloc[0] if len(table) else ""
    ax.set_title(f"Cumulative relative lift on {metric} (bands: 95% intervals, unadjusted)")
    ax.set_ylabel("relative lift vs control")
    ax.legend(title="variant")
    return ax
