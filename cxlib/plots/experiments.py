"""Figures for experiment comparisons (result tables in, ``ax=`` in, Axes out).

Phone-sized by default, alt text in ``fig.cx_alt``; each decision is written next to its interval and has
its own marker, so nothing depends on telling colours apart.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cxlib.plots._common import (direct_labels, finish, human, new_ax, share_formatter, signed_pct, title, xlabel,
                                 ylabel)
from cxlib.plots.style import BAD, CATEGORICAL, GOOD, LINESTYLES, MARKERS, NEUTRAL

__all__ = ["lift_forest", "cumulative_lift"]

#: decision -> (colour, marker, filled, word written next to the interval)
_DECISIONS = {"win": (GOOD, "o", True, "win"), "loss": (BAD, "s", True, "loss"),
              "guardrail breached": (BAD, "X", True, "guardrail\nbreached"),
              "blocked by guardrail": (NEUTRAL, "o", True, "better, but\nguardrail broke"),
              "inconclusive": (NEUTRAL, "o", False, "no clear\neffect"),
              "not interpretable": (NEUTRAL, "D", False, "not\ninterpretable")}


def _fmt_abs(v):
    return "—" if pd.isna(v) else f"{v:+.3g}".replace("-", "−")


def lift_forest(result: pd.DataFrame, *, relative: bool = True, ax=None, labels: dict | None = None):
    """Forest plot of a :func:`cxlib.experiments.compare` result: one row per metric x variant, the lift
    with its 95% interval; the decision ("win", "loss", "guardrail breached", "no clear effect") is written
    at the right of each row and has its own marker (filled circle, square, cross, hollow circle)."""
    r = result.reset_index(drop=True)
    ax = new_ax(ax, 0.62 * len(r) + 2.0)
    x, lo, hi = (("rel_lift", "rel_ci_lower", "rel_ci_upper") if relative
                 else ("abs_diff", "abs_ci_lower", "abs_ci_upper"))
    y = np.arange(len(r))[::-1]
    fmt = signed_pct if relative else _fmt_abs
    for yi, (_, row) in zip(y, r.iterrows()):
        col, marker, filled, word = _DECISIONS.get(row["decision"], (NEUTRAL, "o", False, str(row["decision"])))
        ax.plot([row[lo], row[hi]], [yi, yi], color=col, lw=2.5, solid_capstyle="round")
        ax.plot(row[x], yi, marker, color=col, ms=9, mfc=col if filled else "white", mew=2)
        ax.annotate(f"{word}\n{fmt(row[x])}" if "\n" not in word else f"{word} {fmt(row[x])}", (1, yi), xycoords=("axes fraction", "data"), xytext=(8, 0),
                    textcoords="offset points", va="center", ha="left", color=col if col != NEUTRAL else "0.25",
                    fontweight="normal" if row["decision"] == "inconclusive" else "bold",
                    linespacing=1.0, annotation_clip=False)
    ax.axvline(0, color="0.3", lw=1)
    ax.set_ylim(-0.7, len(r) - 0.3)
    guard = r["guardrail"] if "guardrail" in r else pd.Series(False, index=r.index)
    names = [f"{human(m, labels)}{' (guardrail)' if g else ''}\n{human(v, labels)}"
             for m, v, g in zip(r["metric"], r["variant"], guard)]
    ax.set_yticks(y, names)
    ax.grid(False, axis="y")
    if relative:
        ax.xaxis.set_major_formatter(share_formatter(signed=True))
    ax.locator_params(axis="x", nbins=5)
    xlabel(ax, "Relative lift vs control (95% interval)" if relative else "Difference vs control (95% interval)")
    title(ax, "Effect of each variant vs control")
    control = result.attrs.get("control")
    alt = (f"Forest plot of the {'relative lift' if relative else 'difference'} of each variant vs "
           f"{'the control' if control is None else human(control, labels)} with 95% intervals: "
           + "; ".join(f"{human(row['metric'], labels)}, {human(row['variant'], labels)}: {fmt(row[x])} "
                       f"({fmt(row[lo])} to {fmt(row[hi])}), "
                       f"{_DECISIONS.get(row['decision'], (0, 0, 0, row['decision']))[3].replace(chr(10), ' ')}"
                       for _, row in r.iterrows()) + ".")
    return finish(ax, alt)


def cumulative_lift(table: pd.DataFrame, *, ax=None, labels: dict | None = None):
    """Relative lift over time (from :func:`cxlib.experiments.cumulative`), one line per variant with its
    95% interval band (own marker and line style, labelled at its end): how the estimate settled.

    When the table is sequential (``cumulative(..., sequential=True)``: ``cs_lower``, ``cs_upper``) the
    always-valid confidence sequence is drawn as dashed lines around each band: the interval that may be
    checked every day. It is a sequence for the absolute difference, shown here divided by the control
    level of each day (as the relative lift itself is)."""
    ax = new_ax(ax, 4.2)
    ends, facts = [], []
    seq = {"cs_lower", "cs_upper", "control_value"} <= set(table.columns) and table["cs_lower"].notna().any()
    for k, (name, g) in enumerate(table.groupby("variant", sort=True)):
        color, marker, ls = CATEGORICAL[k % 8], MARKERS[k % 8], LINESTYLES[k % 8]
        g = g.sort_values("period")
        lbl = human(name, labels)
        ax.plot(g["period"], g["rel_lift"], color=color, ls=ls, marker=marker, ms=4, lw=1.8, label=lbl)
        ax.fill_between(g["period"], g["rel_ci_lower"], g["rel_ci_upper"], color=color, alpha=0.12, lw=0)
        if seq:
            base = g["control_value"].where(g["control_value"] != 0)
            cs_lo, cs_hi = g["cs_lower"] / base, g["cs_upper"] / base
            ax.plot(g["period"], cs_lo, color=color, ls=(0, (4, 2)), lw=1.1)
            ax.plot(g["period"], cs_hi, color=color, ls=(0, (4, 2)), lw=1.1,
                    label="always-valid interval" if k == 0 else None)
        if len(g):
            last = g.iloc[-1]
            ends.append((last["period"], last["rel_lift"], lbl, color))
            fact = (f"{lbl} ends at {signed_pct(last['rel_lift'])} ({signed_pct(last['rel_ci_lower'])} to "
                    f"{signed_pct(last['rel_ci_upper'])}) after {len(g)} periods")
            if seq and pd.notna(last["control_value"]) and last["control_value"] != 0:
                fact += (f"; always-valid interval {signed_pct(last['cs_lower'] / last['control_value'])} to "
                         f"{signed_pct(last['cs_upper'] / last['control_value'])}")
            facts.append(fact)
    direct_labels(ax, ends)
    ax.axhline(0, color="0.3", lw=1)
    ax.yaxis.set_major_formatter(share_formatter(signed=True))
    ax.tick_params(axis="x", labelrotation=30)
    import matplotlib.dates as mdates

    if len(table) and pd.api.types.is_datetime64_any_dtype(table["period"]):
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))
    metric = human(table["metric"].iloc[0], labels) if len(table) else ""
    title(ax, f"Cumulative relative lift on {metric} (bands: 95% intervals, unadjusted"
              + ("; dashed: always-valid)" if seq else ")"))
    ax.set_xlabel("")
    ylabel(ax, "Relative lift vs control")
    ax.legend(title="Variant", loc="upper right")
    alt = (f"Cumulative relative lift on {metric} vs control as data came in: " + "; ".join(facts)
           + ". Shaded bands are unadjusted 95% intervals"
           + ("; dashed lines are always-valid intervals (confidence sequences), safe to check every day."
              if seq else "."))
    return finish(ax, alt)
