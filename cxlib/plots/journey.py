"""The journey map's funnel plot (Spiegelhalter 2005): each stage's share against its target by the number
of customers judged, with the control limits that narrow as the number grows. Result tables in, ``ax=`` in,
Axes out; computes nothing (the limits come from :func:`cxlib.journey.funnel_curves`).
"""
from __future__ import annotations

import numpy as np

from cxlib.plots._common import finish, new_ax, title, xlabel, ylabel
from cxlib.plots.style import BAD, CATEGORICAL, GOOD, LINESTYLES, MARKERS

__all__ = ["journey_funnel"]


def journey_funnel(m, curves, *, ax=None):
    """Funnel plot of a :func:`cxlib.journey.journey_map` result ``m`` and its ``curves``.

    y: observed promise share minus target (percentage points); x: customers (tickets, answers) judged, on a
    log scale. Each distinct target has its own dashed lower limit. Stages beyond the limit are drawn as
    filled crosses and named with "missed", so the mark is not colour alone. Returns the Axes.
    """
    ax = new_ax(ax, 4.4)
    ok = m[m["promise_n"].fillna(0) > 0]
    for j, (target, c) in enumerate(curves.groupby("target", sort=True)):
        ls = LINESTYLES[(j + 1) % len(LINESTYLES)]
        ax.plot(c["n"], 100 * c["lower"], ls=ls, color=CATEGORICAL[j % len(CATEGORICAL)], lw=1.4,
                label=f"limit, target {target:.0%}")
    ax.axhline(0, color="#555555", lw=1)
    facts = []
    shapes = [m for m in MARKERS if m not in ("X", "x")]  # a cross means missed, for no other stage
    for i, (_, r) in enumerate(ok.iterrows()):
        y = 100 * (r["promise_share"] - r["target"])
        missed = r["target_status"] == "missed"
        ax.plot(r["promise_n"], y, marker="X" if missed else shapes[i % len(shapes)], ms=11 if missed else 8,
                color=BAD if missed else GOOD, mec="black", ls="none", zorder=3)
        word = {"missed": "missed", "met": "met", "too_close": "too close"}.get(r["target_status"], "")
        # the stage's number in the map (short labels do not collide on a phone); a missed stage is named
        name = f"{int(r['position'])}. {r['stage']} (missed)" if missed else f"{int(r['position'])}"
        ax.annotate(name, (r["promise_n"], y), xytext=(6, 4), textcoords="offset points", fontsize=10,
                    fontweight="bold" if missed else "normal")
        facts.append(f"{r['stage']}: {r['promise_share']:.0%} against {r['target']:.0%} over "
                     f"{int(r['promise_n']):,} ({word})")
    ax.set_xscale("log")
    if len(ok):
        lo = min(float(np.nanmin(100 * (ok["promise_share"] - ok["target"]))), float(100 * curves["lower"].min())
                 if len(curves) else 0)
        ax.set_ylim(lo - 3, max(5.0, float(np.nanmax(100 * (ok["promise_share"] - ok["target"]))) + 3))
    title(ax, "Each stage (numbered as in the map) against its target: below the dashed line is beyond noise")
    xlabel(ax, "Customers judged (tickets for support, answers for detractor targets), log scale")
    ylabel(ax, "Share minus target (points)")
    ax.legend(loc="upper right", fontsize=9, frameon=False)
    alt = ("Funnel plot of each journey stage's share getting its promise minus its target, by the number "
           "judged, with control limits narrowing as the number grows. " + "; ".join(facts) + ".")
    return finish(ax, alt)
