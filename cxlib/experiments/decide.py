"""The decision of each comparison, defined once: significance in the metric's desired direction, the
guardrail veto (a breached guardrail vetoes the same variant's wins in the same segment) and the
allocation gate (a failed sample-ratio check makes every decision "not interpretable").

The codes are :mod:`cxlib.decisions`'; their words are the presentation layer's. Nothing outside this
module picks a decision.

Examples
--------
>>> srm({"control": 5000, "b": 5100}).mismatch
False
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib.decisions import (BLOCKED_BY_GUARDRAIL, GUARDRAIL_BREACHED, INCONCLUSIVE, LOSS, NOT_INTERPRETABLE,
                             NOT_MEASURED, WIN)
from cxlib.notes import note

__all__ = ["decide", "gate", "srm", "SRMResult", "NOT_INTERPRETABLE", "NOT_MEASURED"]

# the one check of arm spellings, shared with data.validate(kind='experiment') and `cx validate`
_check_arm_case = cxdata.check_variant_case


def decide(out: pd.DataFrame, *, by=(), alpha: float = 0.05, sequential: bool = False) -> pd.DataFrame:
    """Add ``significant``, ``decision``, ``guardrail_breach`` and ``non_inferior`` to comparison rows.

    ``decision`` is 'win' / 'loss' when ``p_adjusted < alpha`` (by the metric's ``direction``), else
    'inconclusive'. A guardrail is breached when its interval (the confidence sequence when
    ``sequential``) lies entirely beyond ``-margin`` on the bad side, before the multiple-comparison
    adjustment (harm is not excused by the size of the family): 'guardrail breached'; the same variant's
    wins on other metrics in the same segment (``by``) become 'blocked by guardrail' (a breach vetoes
    shipping). A row whose control or variant has no measured unit is 'not measured'. ``out`` is changed
    in place and returned.

    Examples
    --------
    >>> r = pd.DataFrame({"variant": ["b", "b"], "metric": ["conv", "csat"], "p_adjusted": [0.001, 0.002],
    ...                   "abs_diff": [0.02, -0.3], "abs_ci_lower": [0.01, -0.5], "abs_ci_upper": [0.03, -0.1],
    ...                   "direction": "increase", "margin": 0.0, "guardrail": [False, True],
    ...                   "n_control": 100, "n_variant": 100})
    >>> decide(r)["decision"].tolist()
    ['blocked by guardrail', 'guardrail breached']
    """
    by = list(by or [])
    out["significant"] = out["p_adjusted"] < alpha
    good = np.where(out["direction"] == "increase", out["abs_diff"] > 0, out["abs_diff"] < 0)
    out["decision"] = np.where(out["significant"], np.where(good, WIN, LOSS), INCONCLUSIVE)
    # a guardrail is breached when it is significantly worse before correction: harm is not excused
    # by the size of the family
    lo_col, hi_col = ("cs_lower", "cs_upper") if sequential else ("abs_ci_lower", "abs_ci_upper")
    m = out["margin"].abs()
    harm = np.where(out["direction"] == "increase", out[hi_col] < -m, out[lo_col] > m)
    out["guardrail_breach"] = out["guardrail"] & harm
    safe = np.where(out["direction"] == "increase", out[lo_col] > -m, out[hi_col] < m)
    out["non_inferior"] = out["guardrail"] & safe
    out.loc[out["guardrail_breach"], "decision"] = GUARDRAIL_BREACHED
    # a breach vetoes shipping the variant: its wins on other metrics (same segment) are not plain wins
    keys = [*by, "variant"]
    vetoed = out.groupby(keys, dropna=False, sort=False)["guardrail_breach"].transform("any").astype(bool)
    out.loc[vetoed & (out["decision"] == WIN), "decision"] = BLOCKED_BY_GUARDRAIL
    out.loc[out["n_control"].eq(0) | out["n_variant"].eq(0), "decision"] = NOT_MEASURED
    return out


def gate(result: pd.DataFrame, check: "SRMResult", *, with_note: bool = True) -> pd.DataFrame:
    """The allocation gate: after a failed sample-ratio check (``check.mismatch``) every ``decision`` is
    'not interpretable' (assignment or logging is broken: no comparison is a win or a loss) and, with
    ``with_note``, a ``sample_ratio_mismatch`` note (``p_value``, ``threshold``) joins
    ``attrs['notes']``. ``attrs['srm']`` holds the check either way. Changes ``result`` in place.

    Examples
    --------
    >>> r = pd.DataFrame({"decision": ["win"]})
    >>> gate(r, srm({"control": 5000, "b": 4000}))["decision"].tolist()
    ['not interpretable']
    """
    result.attrs["srm"] = check
    if check.mismatch:
        result["decision"] = NOT_INTERPRETABLE
        if with_note:
            result.attrs.setdefault("notes", []).append(
                note("sample_ratio_mismatch", p_value=float(check.p_value), threshold=float(check.threshold)))
    return result


@dataclass
class SRMResult:
    """Sample-ratio-mismatch check: chi-square ``statistic``, ``df``, ``p_value`` and a per-variant ``table``."""

    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame = field(repr=False)
    threshold: float = 0.001

    @property
    def mismatch(self) -> bool:
        """True when the allocation is off beyond chance (p below ``threshold``, 0.001 by convention)."""
        return bool(self.p_value < self.threshold)

    def __getitem__(self, key):
        return getattr(self, key)


def srm(counts, *, expected=None, variant: str = "variant", threshold: float = 0.001) -> SRMResult:
    """Sample ratio mismatch: are the unit counts per variant consistent with the planned allocation?

    Parameters
    ----------
    counts : mapping, DataFrame, path or Ibis table
        ``{variant: n}``, or unit rows (counted per ``variant`` in the engine).
    expected : mapping, optional
        Planned shares ``{variant: share}`` (default: equal).

    Returns
    -------
    SRMResult
        ``p_value`` of the chi-square goodness-of-fit test and ``table`` with ``variant``, ``n``,
        ``expected_share``, ``expected_n``, ``observed_share``.

    Examples
    --------
    >>> srm("data/sample/experiment.csv").p_value  # doctest: +SKIP
    """
    if not isinstance(counts, dict):
        t = cxdata.as_table(counts)
        cxdata.require_columns(t, [variant])
        arm = t[variant].cast("string").strip()  # the same trimmed arms as compare()
        t = t.filter(arm.notnull() & (arm != "")).mutate(_arm=arm)
        df = cxdata.to_pandas(t.group_by("_arm").aggregate(n=t.count()))
        counts = dict(zip(df["_arm"].astype(str), df["n"].astype(int)))
    names = sorted(counts)
    _check_arm_case(names, variant, "counts")
    n = np.array([counts[k] for k in names], dtype=float)
    if expected is None:
        share = np.full(len(names), 1 / len(names))
    else:
        missing = [k for k in names if k not in expected]
        if missing:
            raise cxdata.CXDataError(f"expected= has no share for variant(s) {', '.join(missing)}.")
        share = np.array([expected[k] for k in names], dtype=float)
        share = share / share.sum()
    exp_n = share * n.sum()
    stat, p = stats.chisquare(n, exp_n)
    table = pd.DataFrame({"variant": names, "n": n.astype(int), "expected_share": share,
                          "expected_n": exp_n, "observed_share": n / n.sum()})
    return SRMResult(float(stat), len(names) - 1, float(p), table, threshold)
