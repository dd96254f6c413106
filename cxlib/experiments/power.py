"""How small an effect an experiment could see, and how long a bigger one takes: power in the units the
test had (the arithmetic is :mod:`cxlib.stats`'s ``sample_size`` and ``minimum_detectable_effect``).

Examples
--------
>>> days_needed(10_000, 4_000, 8)
12.0
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cxlib.stats import minimum_detectable_effect, sample_size

__all__ = ["days_needed", "power_table"]


def days_needed(n_needed_per_arm: float, n_per_arm_so_far: float, days_so_far: float) -> float:
    """More days the test must run at its current traffic to reach ``n_needed_per_arm`` (0 if reached)."""
    if n_per_arm_so_far <= 0 or days_so_far <= 0:
        return float("nan")
    rate = n_per_arm_so_far / days_so_far
    return max(0.0, float(np.ceil((n_needed_per_arm - n_per_arm_so_far) / rate)))


def power_table(result: pd.DataFrame, *, days=None, alpha: float = 0.05, lift_target: float = 0.10,
                power: float = 0.8) -> pd.DataFrame:
    """Sensitivity of a :func:`cxlib.experiments.compare` result for each proportion metric.

    Per metric (its first treatment row): the control rate ``baseline``, the ``units_per_arm`` it had
    (control's), the smallest relative lift it could detect (``minimum_detectable_lift``, two-sided at
    ``power``), the units per arm a ``lift_target`` lift needs and, when ``days`` of data are known, the
    days more that takes at the traffic seen (``more_days_needed``, 0 when already reached). Metrics whose
    control rate is 0 or 1 have no power to compute and are left out.

    Examples
    --------
    >>> r = pd.DataFrame({"metric": ["converted"], "kind": ["proportion"], "control_value": [0.10],
    ...                   "n_control": [5000]})
    >>> int(power_table(r)["units_per_arm_needed"].iloc[0])
    14745
    """
    rows = []
    for m, g in result[result["kind"] == "proportion"].groupby("metric", sort=False):
        base, n_arm = float(g["control_value"].iloc[0]), float(g["n_control"].iloc[0])
        if not 0 < base < 1:
            continue
        need = sample_size(base, lift_target, alpha=alpha, power=power)
        rows.append({"metric": m, "baseline": base, "units_per_arm": n_arm,
                     "minimum_detectable_lift": minimum_detectable_effect(n_arm, base, alpha=alpha, power=power),
                     "lift_target": lift_target, "units_per_arm_needed": need,
                     "more_days_needed": days_needed(need, n_arm, days) if days else float("nan")})
    return pd.DataFrame(rows, columns=["metric", "baseline", "units_per_arm", "minimum_detectable_lift",
                                       "lift_target", "units_per_arm_needed", "more_days_needed"])
