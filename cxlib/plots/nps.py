"""Figures for NPS, key drivers and comment themes (result tables in, ``ax=`` in, Axes out).

Phone-sized by default (6.4 in wide, 12 pt text), alt text in ``fig.cx_alt``, values written on the bars,
good / bad told apart by hatching, markers and words as well as colour.
"""
from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import seaborn as sns

from cxlib.plots._common import (finish, human, new_ax, pct, points, rating_scale, scale_text, share_formatter,
                                 title, xlabel, ylabel)
from cxlib.plots.style import BAD, CATEGORICAL, GOOD, LIGHT, NEUTRAL

__all__ = ["nps_bars", "nps_trend", "nps_composition", "driver_importance", "importance_performance", "theme_bars",
           "theme_impact_bars"]

_METRICS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


def _metric(y, labels=None):
    return (labels or {}).get(y) or _METRICS.get(y) or human(y)


def _not_suppressed(t):
    return ~t["suppressed"].astype(bool) if "suppressed" in t else pd.Series(True, index=t.index)


def _whiskers(v, lo, hi):
    return np.clip(np.vstack([v - lo, hi - v]).astype(float), 0, None)


def _fmt(y):
    return points if y == "nps" else (lambda v: pct(v) if y in ("csat", "share") else f"{v:.2f}")


def nps_bars(table: pd.DataFrame, *, x: str, y: str = "nps", ax=None, title: str | None = None,
             labels: dict | None = None):
    """Horizontal bars of a metric per segment with 95% interval whiskers and n; suppressed rows greyed
    and marked "too few answers"."""
    t = table.reset_index(drop=True)
    ax = new_ax(ax, 0.55 * len(t) + 1.8)
    pos = np.arange(len(t))[::-1]
    ok = _not_suppressed(t).to_numpy()
    vals = t[y].where(ok, 0).to_numpy(float)
    ax.barh(pos, vals, color=np.where(ok, NEUTRAL, LIGHT))
    err = _whiskers(t[y], t["ci_lower"], t["ci_upper"])
    ax.errorbar(t.loc[ok, y], pos[ok], xerr=err[:, ok], fmt="none", color="black", capsize=3)
    ax.set_yticks(pos, [f"{human(v, labels)} (n={n:,})" + ("" if o else "\ntoo few answers")
                        for v, n, o in zip(t[x], t["n"], ok)])
    ax.axvline(0, color="0.3", lw=1)
    name = _metric(y, labels)
    xlabel(ax, f"{name} (95% interval)")
    _title(ax, title or f"{name} by {human(x, labels).lower()}")
    f = _fmt(y)
    alt = (f"{name} by {human(x, labels).lower()}: "
           + "; ".join(f"{human(v, labels)} {f(e)} (95% interval {f(lo)} to {f(hi)}, n={n:,})" if o
                       else f"{human(v, labels)} suppressed (too few answers)"
                       for v, e, lo, hi, n, o in zip(t[x], t[y], t["ci_lower"], t["ci_upper"], t["n"], ok)) + ".")
    return finish(ax, alt)


def _title(ax, text):
    title(ax, text)


def nps_trend(table: pd.DataFrame, *, x: str = "period", y: str = "nps", ax=None, title: str | None = None,
              labels: dict | None = None):
    """A metric per period with its 95% interval band; suppressed periods left out (None: nothing to draw,
    returns None)."""
    if table is None:
        return None
    ax = new_ax(ax, 4.0)
    t = table[_not_suppressed(table)].sort_values(x)
    ax.plot(t[x], t[y], marker="o", ms=5, color=GOOD)
    ax.fill_between(t[x], t["ci_lower"], t["ci_upper"], color=GOOD, alpha=0.15, lw=0)
    name = _metric(y, labels)
    ylabel(ax, f"{name} (band: 95% interval)")
    ax.set_xlabel("")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.tick_params(axis="x", labelrotation=30)
    _title(ax, title or f"{name} per period")
    f = _fmt(y)
    if len(t):
        first, last = t.iloc[0], t.iloc[-1]
        lo, hi = t.loc[t[y].idxmin()], t.loc[t[y].idxmax()]
        d = lambda r: pd.Timestamp(r[x]).strftime("%b %Y")  # noqa: E731
        alt = (f"{title or name + ' per period'}, {d(first)} to {d(last)} ({len(t)} periods): from {f(first[y])} "
               f"to {f(last[y])} (95% interval {f(last['ci_lower'])} to {f(last['ci_upper'])}); lowest {f(lo[y])} "
               f"in {d(lo)}, highest {f(hi[y])} in {d(hi)}. 95% interval bands shaded.")
    else:
        alt = f"{name} per period: no period has enough answers to show."
    return finish(ax, alt)


def driver_importance(table: pd.DataFrame, *, ax=None, labels: dict | None = None):
    """Driver importance (share of explained variation) with bootstrap 95% intervals, value on each bar."""
    t = table.sort_values("importance").reset_index(drop=True)
    ax = new_ax(ax, 0.5 * len(t) + 1.9)
    pos = np.arange(len(t))
    ax.barh(pos, t["importance"], color=GOOD)
    err = _whiskers(t["importance"], t["ci_lower"], t["ci_upper"])
    ax.errorbar(t["importance"], pos, xerr=err, fmt="none", color="black", capsize=3)
    right = np.fmax(t["ci_upper"].to_numpy(float), t["importance"].to_numpy(float))
    for p, v, r in zip(pos, t["importance"], right):
        ax.annotate(pct(v), (r, p), xytext=(4, 0), textcoords="offset points", va="center")
    ax.set_xlim(0, np.nanmax(right) * 1.25 if len(t) else 1)
    names = [human(d, labels) for d in t["driver"]]
    ax.set_yticks(pos, names)
    ax.xaxis.set_major_formatter(share_formatter())
    xlabel(ax, "Share of the explained variation in the score (95% bootstrap interval)")
    outcome = _metric(table.attrs.get("outcome", "nps"), labels)
    _title(ax, f"What drives {outcome}")
    top = t.iloc[::-1]
    alt = (f"Key drivers of {outcome}, share of explained variation: "
           + "; ".join(f"{human(d, labels)} {pct(v)} ({pct(lo)} to {pct(hi)})"
                       for d, v, lo, hi in zip(top["driver"], top["importance"], top["ci_lower"], top["ci_upper"]))
           + (f". The model explains {pct(table.attrs['r2'])} of the variation." if "r2" in table.attrs else "."))
    return finish(ax, alt)


_QUADRANTS = {  # name: (colour, marker, where the name is written: x side, y side)
    "fix first": (BAD, "D", 0, 1), "keep up": (GOOD, "o", 1, 1), "monitor": (NEUTRAL, "s", 0, 0),
    "maintain": (NEUTRAL, "^", 1, 0)}


def importance_performance(table: pd.DataFrame, *, ax=None, scale=None, labels: dict | None = None):
    """Importance-performance quadrant (from :func:`cxlib.drivers.quadrant`, whose ``importance_cut`` and
    ``performance_cut`` attrs are the dotted splits): act on the top left.

    The quadrant names are written in the plot and each quadrant has its own marker; the performance axis
    is on the ratings' own scale (``scale=(lo, hi)``, else ``table.attrs['scale']``, else inferred from the
    averages: 1-5, 1-7 or 0/1-10). None: nothing to draw (returns None).
    """
    if table is None:
        return None
    # the splits are drivers.quadrant's (which always sets both): the figure draws them, never re-derives them
    if not {"importance_cut", "performance_cut"} <= set(table.attrs):
        raise ValueError("importance_performance draws a cxlib.drivers.quadrant result (its attrs hold the splits).")
    imp_cut, perf_cut = table.attrs["importance_cut"], table.attrs["performance_cut"]
    ax = new_ax(ax, 5.6)
    lo_s, hi_s = rating_scale(table, scale)
    quad = table["quadrant"] if "quadrant" in table else pd.Series("", index=table.index)
    for q, g in table.groupby(quad, sort=False):
        color, marker, *_ = _QUADRANTS.get(q, (NEUTRAL, "o", 0, 0))
        ax.scatter(g["mean"], g["importance"], s=70, c=color, marker=marker, zorder=3, edgecolors="white",
                   linewidths=0.8)
    ax.axhline(imp_cut, color="0.5", ls=":")
    ax.axvline(perf_cut, color="0.5", ls=":")
    # axis limits with room for labels, then the labels (nudged apart) and the quadrant names
    xmin, xmax = table["mean"].min(), table["mean"].max()
    span = max(xmax - xmin, (hi_s - lo_s) * 0.05)
    ax.set_xlim(xmin - 0.2 * span, xmax + 0.2 * span)
    ymax = table["importance"].max()
    ax.set_ylim(0, ymax * 1.25)
    _label_points(ax, table["mean"].to_numpy(float), table["importance"].to_numpy(float),
                  [human(d, labels) for d in table["driver"]])
    for q, (color, _, sx, sy) in _QUADRANTS.items():
        ax.text(0.01 if sx == 0 else 0.99, 0.99 if sy == 1 else 0.01, q.capitalize(), transform=ax.transAxes,
                ha="left" if sx == 0 else "right", va="top" if sy == 1 else "bottom", color=color,
                fontweight="bold", alpha=0.9)
    ax.yaxis.set_major_formatter(share_formatter())
    xlabel(ax, f"Performance: average rating (scale {scale_text((lo_s, hi_s))})")
    ylabel(ax, "Importance")
    _title(ax, "Importance vs performance: fix first what is important and rated low")
    order = table.sort_values("importance", ascending=False)
    by_q = {q: [human(d, labels) for d in g["driver"]] for q, g in order.groupby(quad, sort=False)}
    alt = (f"Importance-performance chart of {len(table)} drivers; performance is the average rating on a "
           f"{scale_text((lo_s, hi_s))} scale (split at {perf_cut:.1f}), importance the share of explained "
           f"variation (split at {pct(imp_cut)}). "
           + " ".join(f"{q.capitalize()}: " + ", ".join(
               f"{human(r['driver'], labels)} ({r['mean']:.1f}, {pct(r['importance'])})"
               for _, r in order[quad.loc[order.index] == q].iterrows()) + "."
               for q in _QUADRANTS if q in by_q))
    return finish(ax, alt)


def _label_points(ax, xs, ys, texts):
    """Annotate points to their right, nudging labels vertically so they do not overlap."""
    fig = ax.figure
    from cxlib.plots.style import FONT, min_font

    size = max(FONT, min_font(fig.get_figwidth()))
    h = size * 1.3 * fig.dpi / 72
    w_char = size * 0.6 * fig.dpi / 72
    disp = ax.transData.transform(np.c_[xs, ys])
    mid = ax.transAxes.transform((0.5, 0.5))[0]
    boxes = []
    for k in np.argsort(-disp[:, 1]):
        x0, y0 = disp[k]
        width = w_char * len(texts[k]) + 8
        left = x0 > mid  # labels of points in the right half go to their left
        bx = x0 - width if left else x0
        y = y0
        for _ in range(50):
            clash = [b for b in boxes if abs(b[1] - y) < h and not (bx + width < b[0] or b[0] + b[2] < bx)]
            if not clash:
                break
            y = min(b[1] for b in clash) - h
        boxes.append((bx, y, width))
        ax.annotate(texts[k], (xs[k], ys[k]), xytext=(-7 if left else 7, (y - y0) * 72 / fig.dpi),
                    textcoords="offset points", va="center", ha="right" if left else "left", fontsize=size,
                    arrowprops=dict(arrowstyle="-", color="0.6", lw=0.6) if abs(y - y0) > h / 2 else None)


def theme_bars(table: pd.DataFrame, *, x: str = "share", y: str = "label", hue: str | None = None, ax=None,
               title: str | None = None, labels: dict | None = None):
    """Share of comments per theme with 95% interval whiskers (``hue`` e.g. a period: hatched per level);
    None: nothing to draw (returns None)."""
    if table is None:
        return None
    t = table[_not_suppressed(table)].copy()
    t[y] = [human(v, labels) for v in t[y]]
    ax = new_ax(ax, 0.45 * max(t[y].nunique(), 1) * (1 if hue is None else 1.6) + 1.9)
    if t.empty:
        ax.text(0.5, 0.5, "No theme has enough comments to show", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        _title(ax, title or "What customers write about")
        return finish(ax, (title or "What customers write about") + ": no theme has enough comments "
                      f"(0 of {len(table)} rows shown).")
    if hue is None:
        t = t.reset_index(drop=True)
        pos = np.arange(len(t))
        ax.barh(pos, t[x], color=GOOD)
        ax.errorbar(t[x], pos, xerr=_whiskers(t[x], t["ci_lower"], t["ci_upper"]), fmt="none", color="black",
                    capsize=3)
        right = np.fmax(t["ci_upper"].to_numpy(float), t[x].to_numpy(float))
        for p, v, r in zip(pos, t[x], right):
            ax.annotate(pct(v), (r, p), xytext=(4, 0), textcoords="offset points", va="center")
        ax.set_yticks(pos, t[y])
        ax.invert_yaxis()
        ax.set_xlim(0, np.nanmax(right) * 1.25)
    else:
        t[hue] = [human(v, labels) if not isinstance(v, pd.Timestamp) else v.strftime("%-d %b %Y") for v in t[hue]]
        levels = list(dict.fromkeys(t[hue]))
        sns.barplot(data=t, x=x, y=y, hue=hue, ax=ax, errorbar=None, palette=CATEGORICAL[:len(levels)],
                    hue_order=levels)
        hatches = ["", "//", "..", "xx", "\\\\", "--", "++", "oo"]
        for k, cont in enumerate(ax.containers):
            for bar in cont:
                bar.set_hatch(hatches[k % len(hatches)])
                bar.set_edgecolor("white")
        ax.legend(title=human(hue, labels))
    ax.xaxis.set_major_formatter(share_formatter())
    xlabel(ax, "Share of comments mentioning the theme" + (" (95% interval)" if hue is None else ""))
    ax.set_ylabel("")
    _title(ax, title or "What customers write about")
    top = t.sort_values(x, ascending=False)
    alt = ((title or "What customers write about") + ": share of comments mentioning each theme. "
           + "; ".join(f"{lbl}{' (' + str(h) + ')' if hue else ''} {pct(v)}"
                       for lbl, v, h in zip(top[y], top[x], top[hue] if hue else [None] * len(top))) + ".")
    return finish(ax, alt)


def nps_composition(table: pd.DataFrame, *, x: str | None = None, ax=None, title: str | None = None,
                    labels: dict | None = None):
    """Stacked detractor / passive / promoter shares per segment (from :func:`cxlib.metrics.nps`), each
    part labelled with its percentage; detractors hatched. ``x``: the segment column (default: the
    result's own ``attrs['by']``). None: nothing to draw (returns None)."""
    if table is None:
        return None
    x = x or (table.attrs.get("by") or [None])[0]
    t = table[_not_suppressed(table)].reset_index(drop=True)
    ax = new_ax(ax, 0.6 * len(t) + 2.1)
    pos = np.arange(len(t))[::-1]
    left = np.zeros(len(t))
    parts = (("detractor_share", BAD, "///", "Detractors (0–6)", "white"),
             ("passive_share", LIGHT, "", "Passives (7–8)", "black"),
             ("promoter_share", GOOD, "", "Promoters (9–10)", "white"))
    for col, color, hatch, label, ink in parts:
        vals = t[col].to_numpy(float)
        ax.barh(pos, vals, left=left, color=color, hatch=hatch, edgecolor="white", lw=0.8, label=label)
        for p, l, v in zip(pos, left, vals):
            if v >= 0.07:
                ax.text(l + v / 2, p, f"{v:.0%}", ha="center", va="center", color=ink, fontweight="bold",
                        bbox=dict(boxstyle="round,pad=0.1", fc=color, ec="none") if hatch else None)
        left += vals
    ax.set_yticks(pos, [f"{human(v, labels)}\nNPS {points(n)}" for v, n in zip(t[x], t["nps"])])
    ax.xaxis.set_major_formatter(share_formatter())
    ax.set_xlim(0, 1)
    ax.grid(False, axis="y")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    seg = human(x, labels).lower()
    _title(ax, title or f"Promoters, passives and detractors by {seg}")
    alt = ((title or f"Promoters, passives and detractors by {seg}") + ": "
           + "; ".join(f"{human(v, labels)}: {pct(d)} detractors, {pct(p)} passives, {pct(pr)} promoters "
                       f"(NPS {points(n)})"
                       for v, d, p, pr, n in zip(t[x], t["detractor_share"], t["passive_share"],
                                                 t["promoter_share"], t["nps"])) + ".")
    return finish(ax, alt)


def theme_impact_bars(table: pd.DataFrame, *, ax=None, labels: dict | None = None):
    """NPS difference between commenters who mention each theme and those who don't, with 95% intervals;
    negative bars hatched, every bar labelled with its value."""
    t = table[_not_suppressed(table)].sort_values("impact").reset_index(drop=True)
    ax = new_ax(ax, 0.5 * len(t) + 1.9)
    pos = np.arange(len(t))
    neg = (t["impact"] < 0).to_numpy()
    ax.barh(pos, t["impact"], color=np.where(neg, BAD, GOOD), hatch=None)
    for bar, n in zip(ax.patches, neg):
        if n:
            bar.set_hatch("///")
            bar.set_edgecolor("white")
    ax.errorbar(t["impact"], pos, xerr=_whiskers(t["impact"], t["ci_lower"], t["ci_upper"]), fmt="none",
                color="black", capsize=3)
    for p, v, lo, hi in zip(pos, t["impact"], t["ci_lower"], t["ci_upper"]):
        end, off, ha = (lo, -4, "right") if v < 0 else (hi, 4, "left")
        ax.annotate(points(v), (end if pd.notna(end) else v, p), xytext=(off, 0), textcoords="offset points",
                    va="center", ha=ha)
    lo_all = np.nanmin(np.r_[t["ci_lower"].to_numpy(float), 0])
    hi_all = np.nanmax(np.r_[t["ci_upper"].to_numpy(float), 0])
    span = hi_all - lo_all or 1
    ax.set_xlim(lo_all - 0.22 * span if lo_all < 0 else 0, hi_all + 0.22 * span if hi_all > 0 else 0)
    ax.set_yticks(pos, [human(v, labels) for v in t["label"]])
    ax.axvline(0, color="0.3", lw=1)
    xlabel(ax, "NPS points: mentions the theme minus does not (95% interval)")
    _title(ax, "How each theme goes with the score (hatched: lower NPS)")
    alt = ("NPS of commenters who mention each theme minus those who do not: "
           + "; ".join(f"{human(lbl, labels)} {points(v)} points ({points(lo)} to {points(hi)})"
                       for lbl, v, lo, hi in zip(t["label"], t["impact"], t["ci_lower"], t["ci_upper"])) + ".")
    return finish(ax, alt)
