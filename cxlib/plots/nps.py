"""Figures for NPS, key drivers and comment themes (result tables in, ``ax=`` in, Axes out)."""
from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from cxlib.plots.style import BAD, GOOD, NEUTRAL

__all__ = ["nps_bars", "nps_trend", "nps_composition", "driver_importance", "importance_performance", "theme_bars",
           "theme_impact_bars"]


def _ax(ax, size):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _label(s):
    return str(s).removeprefix("drv_").replace("_", " ")


def nps_bars(table: pd.DataFrame, *, x: str, y: str = "nps", ax=None, title: str | None = None):
    """Horizontal bars of a metric per segment with 95% interval whiskers and n; suppressed rows greyed."""
    t = table.reset_index(drop=True)
    ax = _ax(ax, (8, 0.5 * len(t) + 1.3))
    pos = np.arange(len(t))[::-1]
    ok = ~t.get("suppressed", pd.Series(False, index=t.index)).astype(bool)
    vals = t[y].where(ok, 0).to_numpy(float)
    ax.barh(pos, vals, color=np.where(ok, NEUTRAL, "0.85"))
    err = np.clip(np.vstack([t[y] - t["ci_lower"], t["ci_upper"] - t[y]]).astype(float), 0, None)
    ax.errorbar(t.loc[ok, y], pos[ok.to_numpy()], xerr=err[:, ok.to_numpy()], fmt="none", color="black", capsize=3)
    ax.set_yticks(pos, [f"{v} (n={n:,})" + ("" if o else " — too few") for v, n, o in zip(t[x], t["n"], ok)])
    ax.axvline(0, color="0.3", lw=1)
    ax.set_xlabel(f"{y.upper() if y in ('nps', 'csat', 'ces') else y} (95% interval)")
    ax.set_title(title or f"{y.upper()} by {x}")
    return ax


def nps_trend(table: pd.DataFrame, *, x: str = "period", y: str = "nps", ax=None, title: str | None = None):
    """A metric per period with its 95% interval band; suppressed periods left out."""
    ax = _ax(ax, (9, 4))
    t = table[~table.get("suppressed", False)].sort_values(x)
    ax.plot(t[x], t[y], marker="o", ms=3, color=NEUTRAL)
    ax.fill_between(t[x], t["ci_lower"], t["ci_upper"], color=NEUTRAL, alpha=0.2, lw=0)
    ax.set_ylabel(f"{y.upper()} (band: 95% interval)")
    ax.set_xlabel("")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_title(title or f"{y.upper()} per period")
    return ax


def driver_importance(table: pd.DataFrame, *, ax=None):
    """Driver importance (share of explained variation) with bootstrap 95% intervals."""
    t = table.sort_values("importance").reset_index(drop=True)
    ax = _ax(ax, (8, 0.45 * len(t) + 1.3))
    pos = np.arange(len(t))
    ax.barh(pos, t["importance"], color=NEUTRAL)
    ax.errorbar(t["importance"], pos, xerr=np.clip(np.vstack([t["importance"] - t["ci_lower"], t["ci_upper"] - t["importance"]]).astype(float), 0, None),
                fmt="none", color="black", capsize=3)
    ax.set_yticks(pos, [_label(d) for d in t["driver"]])
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("share of the explained variation in the score (95% bootstrap interval)")
    ax.set_title("What drives the recommend score")
    return ax


def importance_performance(table: pd.DataFrame, *, ax=None):
    """Importance-performance quadrant (from :func:`cxlib.drivers.quadrant`): act on the top left."""
    ax = _ax(ax, (8, 6))
    colors = table["quadrant"].map({"fix first": BAD, "keep up": GOOD}).fillna(NEUTRAL)
    ax.scatter(table["mean"], table["importance"], s=80, c=colors, zorder=3)
    for _, r in table.iterrows():
        ax.annotate(_label(r["driver"]), (r["mean"], r["importance"]), xytext=(6, 4), textcoords="offset points")
    ax.axhline(table.attrs.get("importance_cut", 1 / len(table)), color="0.5", ls=":")
    ax.axvline(table.attrs.get("performance_cut", table["mean"].mean()), color="0.5", ls=":")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("performance: average rating (1-10)")
    ax.set_ylabel("importance")
    ax.set_title("Importance vs performance (orange: fix first; green: keep up)")
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo - 0.1, hi + 0.5)
    return ax


def theme_bars(table: pd.DataFrame, *, x: str = "share", y: str = "label", hue: str | None = None, ax=None,
               title: str | None = None):
    """Share of comments per theme with 95% interval whiskers (seaborn bars; ``hue`` e.g. a period)."""
    t = table[~table.get("suppressed", False)].copy()
    ax = _ax(ax, (8, 0.4 * t[y].nunique() * (1 if hue is None else 1.6) + 1.3))
    sns.barplot(data=t, x=x, y=y, hue=hue, ax=ax, errorbar=None, color=None if hue else NEUTRAL)
    if hue is None:
        ax.errorbar(t[x], np.arange(len(t)), xerr=np.clip(np.vstack([t[x] - t["ci_lower"], t["ci_upper"] - t[x]]).astype(float), 0, None),
                    fmt="none", color="black", capsize=3)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("share of comments mentioning the theme" + (" (95% interval)" if hue is None else ""))
    ax.set_ylabel("")
    ax.set_title(title or "What customers write about")
    return ax


def nps_composition(table: pd.DataFrame, *, x: str, ax=None, title: str | None = None):
    """Stacked promoter / passive / detractor shares per segment (from :func:`cxlib.metrics.nps`)."""
    t = table[~table.get("suppressed", False)].reset_index(drop=True)
    ax = _ax(ax, (8, 0.5 * len(t) + 1.3))
    pos = np.arange(len(t))[::-1]
    left = np.zeros(len(t))
    for col, color, label in (("detractor_share", BAD, "detractors (0-6)"), ("passive_share", "0.75", "passives (7-8)"),
                              ("promoter_share", GOOD, "promoters (9-10)")):
        ax.barh(pos, t[col], left=left, color=color, label=label)
        left += t[col].to_numpy()
    ax.set_yticks(pos, [f"{v} (NPS {n:+.0f})" for v, n in zip(t[x], t["nps"])])
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlim(0, 1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3, frameon=False)
    ax.set_title(title or f"Promoters, passives and detractors by {x}")
    return ax


def theme_impact_bars(table: pd.DataFrame, *, ax=None):
    """NPS difference between commenters who mention each theme and those who don't, with 95% intervals."""
    t = table[~table["suppressed"]].sort_values("impact").reset_index(drop=True)
    ax = _ax(ax, (8, 0.45 * len(t) + 1.3))
    pos = np.arange(len(t))
    ax.barh(pos, t["impact"], color=np.where(t["impact"] < 0, BAD, GOOD))
    ax.errorbar(t["impact"], pos, xerr=np.clip(np.vstack([t["impact"] - t["ci_lower"], t["ci_upper"] - t["impact"]])
                                                .astype(float), 0, None), fmt="none", color="black", capsize=3)
    ax.set_yticks(pos, t["label"])
    ax.axvline(0, color="0.3", lw=1)
    ax.set_xlabel("NPS points: mentions the theme minus does not (95% interval)")
    ax.set_title("How each theme goes with the score")
    return ax
