"""The friction list: customers who missed a stage's promise beyond what its target allows.

A stage's **shortfall** is ``n x (target - observed share)`` customers (``n``: the stage's customers whose
promise could be judged), so every stage is in one unit. It counts as **friction** only when the observed
share is below the stage's lower control limit, a funnel-plot limit that narrows with ``n``
(Spiegelhalter 2005, "Funnel plots for comparing institutional performance", Stat Med 24:1185):

    limit = target - z * sqrt(target (1 - target) / n + allowance^2)

``allowance`` is the additive overdispersion allowance of Spiegelhalter's random-effects funnel (share
points a stage may wander around its target from period to period without being off target; default
0.02): with it a very large stage is not flagged for a shortfall nobody would act on. ``z`` is one-sided
and family-wise over the K stages judged (Bonferroni, ``z = Phi^-1(1 - alpha / K)``), so on a journey
where every stage is on target a friction is flagged in at most ``alpha`` of runs.

Stages with friction are ranked by it (1 = most customers short). Each rank carries a 95% parametric
bootstrap interval (the stages' promise counts redrawn from their binomials, shortfalls re-ranked), and
``attrs['top_two_apart']`` says whether the first stage's shortfall exceeds the second's in at least 95%
of the draws.

Examples
--------
>>> import pandas as pd
>>> from cxlib.journey.friction import friction
>>> m = pd.DataFrame({"stage": ["a", "b"], "target": [0.8, 0.6], "promise_n": [500, 400],
...                   "promise_k": [350, 250]})
>>> friction(m)[["stage", "shortfall", "friction", "target_status"]]  # doctest: +NORMALIZE_WHITESPACE
  stage  shortfall  friction target_status
0     a       50.0      50.0        missed
1     b        -10.0       0.0           met
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["ALLOWANCE", "control_limit", "friction", "funnel_curves"]

#: Default overdispersion allowance (share points) of the control limits.
ALLOWANCE = 0.02


def _z(alpha: float, k: int) -> float:
    return float(stats.norm.ppf(1 - alpha / max(int(k), 1)))


def control_limit(target, n, *, z: float, allowance: float = ALLOWANCE):
    """Lower control limit of a share with ``target`` over ``n`` customers (vectorised; NaN where n = 0)."""
    target = np.asarray(target, float)
    n = np.asarray(n, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(target * (1 - target) / np.where(n > 0, n, np.nan) + allowance ** 2)
    return target - z * se


def friction(m: pd.DataFrame, *, allowance: float = ALLOWANCE, alpha: float = 0.05, n_boot: int = 999,
             seed: int = 0) -> pd.DataFrame:
    """``m`` (rows with ``target``, ``promise_n``, ``promise_k``) with the friction columns added.

    Adds ``shortfall`` (n x (target - share), may be negative), ``control_limit``, ``target_status``
    (``met``: share at or above target; ``missed``: below the control limit; ``too_close``: below target,
    within the limit; None without a target or customers), ``friction`` (the shortfall when missed, else
    0), ``rank`` (stages with friction, 1 = most), ``rank_ci_lower``, ``rank_ci_upper``. ``attrs``:
    ``z``, ``judged`` (K), ``allowance``, ``top_two_apart`` (None with fewer than two frictions),
    ``top_two_share`` (share of draws in which the first exceeds the second).
    """
    out = m.copy()
    n = out["promise_n"].astype(float)
    k = out["promise_k"].astype(float)
    t = out["target"].astype(float)
    judged = t.notna() & (n > 0)
    z = _z(alpha, int(judged.sum()))
    share = k / n.where(n > 0)
    out["shortfall"] = np.where(judged, n * (t - share), np.nan)
    out["control_limit"] = np.where(judged, control_limit(t, n, z=z, allowance=allowance), np.nan)
    missed = judged & (share < out["control_limit"])
    out["target_status"] = np.where(~judged, None, np.where(share >= t, "met", np.where(missed, "missed",
                                                                                        "too_close")))
    out["friction"] = np.where(judged, np.where(missed, out["shortfall"], 0.0), np.nan)
    out["rank"] = np.nan
    out["rank_ci_lower"] = np.nan
    out["rank_ci_upper"] = np.nan
    top_apart, top_share = None, np.nan
    idx = out.index[judged]
    if len(idx):
        order = out.loc[idx].sort_values(["friction", "shortfall"], ascending=False, kind="mergesort").index
        fric = [i for i in order if out.loc[i, "friction"] > 0]
        out.loc[fric, "rank"] = np.arange(1, len(fric) + 1, dtype=float)
        if n_boot > 0:  # n_boot=0: no rank intervals (simulations of the limits alone)
            # parametric bootstrap: promise counts redrawn from their binomials, shortfalls re-ranked
            rng = np.random.default_rng(seed)
            nn, pp, tt = n[idx].to_numpy(), share[idx].to_numpy(), t[idx].to_numpy()
            draws = rng.binomial(nn.astype(int), pp, size=(n_boot, len(idx)))
            sf = nn * tt - draws  # shortfall in customers, redrawn
            ranks = stats.rankdata(-sf, method="min", axis=1)
            where = {i: j for j, i in enumerate(idx)}
            for i in fric:
                out.loc[i, ["rank_ci_lower", "rank_ci_upper"]] = np.percentile(ranks[:, where[i]], [2.5, 97.5])
            if len(fric) >= 2:
                a, b = where[fric[0]], where[fric[1]]
                top_share = float(np.mean(sf[:, a] > sf[:, b]))
                top_apart = bool(top_share >= 0.95)
    out.attrs.update(z=z, judged=int(judged.sum()), allowance=allowance, alpha=alpha, top_two_apart=top_apart,
                     top_two_share=top_share)
    return out


def funnel_curves(m: pd.DataFrame, *, points: int = 60) -> pd.DataFrame:
    """The funnel plot's limit lines for each distinct target of ``m`` (a :func:`friction` result):
    ``target``, ``n``, ``lower`` and ``upper`` (control limits minus the target, share points)."""
    z, allowance = m.attrs.get("z", 1.96), m.attrs.get("allowance", ALLOWANCE)
    n = m["promise_n"].astype(float)
    ok = m["target"].notna() & (n > 0)
    if not ok.any():
        return pd.DataFrame(columns=["target", "n", "lower", "upper"])
    grid = np.unique(np.geomspace(max(5.0, n[ok].min() / 2), n[ok].max() * 2, points).round())
    rows = []
    for target in sorted(m.loc[ok, "target"].unique()):
        lo = control_limit(target, grid, z=z, allowance=allowance) - target
        rows.append(pd.DataFrame({"target": target, "n": grid, "lower": lo, "upper": -lo}))
    return pd.concat(rows, ignore_index=True)
