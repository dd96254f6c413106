"""Heavy tails in experiment means: when does a handful of extreme units decide a comparison?

Real experiment data has units at 1,000x the median (a game with one player at 49,854 rounds). One such
unit moves its arm's mean by more than the noise the t interval allows for, and the comparison then says
more about that unit than about the change tested. The rule here decides, per 'mean' metric, whether
winsorising ("capping": values above a threshold count as the threshold) should be shown beside the raw
comparison:

    **The rule.** Cap the metric at the 99.9th percentile of all units with an arm (pooled over arms, as
    :func:`cxlib.experiments.compare` with ``cap=`` does). The metric has a *heavy tail* when at least one
    unit is capped and, in some arm, capping moves the arm's mean by more than half its standard error:
    ``|mean - capped mean| > 0.5 * se``, with ``se = sd / sqrt(n)`` of the raw values.

Half a standard error is where a single value starts to move a 95% interval by a visible fraction of its
half-width (1.96 se); below it, capping changes nothing a reader could see. The covariate of a capped
metric (CUPED) is capped by the same rule, each at its own percentile, so the adjustment does not bring
back the extreme values through the regression.

The cap parameter of the experiment page:

- ``'auto'`` (default): the rule; only metrics with a heavy tail get a capped comparison.
- ``'none'``: off; nothing is capped and nothing is computed.
- a quantile such as ``0.99``: always cap there: every mean metric with a unit above it, whatever the
  shift (which is still reported).

Numbers only: everything comes from two engine queries (the pooled quantiles of the metric and covariate
columns; per-arm n, sum, sum of squares, capped sum, capped sum of squares and the count of capped units),
and the notes are codes with values (``heavy_tail``, ``capped_covariate``).

Examples
--------
>>> from cxlib.experiments import heavy_tails
>>> tails = heavy_tails.check("data/sample/experiment.csv", control="control",
...                           metrics={"revenue": "mean"})  # doctest: +SKIP
>>> heavy_tails.cap_for(tails)  # doctest: +SKIP
0.999
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cxlib import data as cxdata
from cxlib.experiments.aggregate import _exposed_by, _nothing_exposed
from cxlib.experiments.comparison import compare
from cxlib.experiments.metric import _normalize
from cxlib.notes import note

__all__ = ["check", "cap_for", "capped_metrics", "compare_capped", "parse_cap", "RULE_QUANTILE", "RULE_SHIFT"]

#: The rule's percentile (as a quantile) and the shift of an arm's mean, in standard errors, that fires it.
RULE_QUANTILE = 0.999
RULE_SHIFT = 0.5

COLUMNS = ["metric", "variant", "n", "mean", "se", "capped_mean", "cap_value", "n_capped", "shift_in_se",
           "heavy", "cap_applied"]
_OFF = {"none", "off", "no", "false", ""}


def parse_cap(cap="auto", quantile: float = RULE_QUANTILE) -> tuple[str, float | None]:
    """The cap parameter as ``(mode, quantile)``: ``('auto', 0.999)``, ``('none', None)`` or ``('fixed', q)``.

    ``cap`` is ``'auto'``, ``'none'`` (also None, False, 'off') or a quantile between 0 and 1 (a number
    or its text, e.g. ``'0.99'``); anything else raises :class:`cxlib.data.CXDataError`.
    """
    if cap is None or cap is False or (isinstance(cap, str) and cap.strip().lower() in _OFF):
        return "none", None
    if isinstance(cap, str) and cap.strip().lower() == "auto":
        q = float(quantile)
        if not 0 < q < 1:
            raise cxdata.CXDataError(f"quantile must be between 0 and 1 (0.999 the 99.9th percentile), "
                                     f"not {quantile!r}.")
        return "auto", q
    try:
        q = float(cap)
    except (TypeError, ValueError):
        q = np.nan
    if isinstance(cap, bool) or not 0 < q < 1:
        raise cxdata.CXDataError(f"cap must be 'auto' (cap a mean metric when its 99.9th percentile moves an arm's "
                                 f"mean by more than half a standard error), 'none', or a quantile between 0 and "
                                 f"1 such as 0.99; got {cap!r}.")
    return "fixed", q


def _empty(mode, q) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="bool" if c in ("heavy", "cap_applied") else
                                     "object" if c in ("metric", "variant") else "float64") for c in COLUMNS})
    out.attrs.update(notes=[], mode=mode, quantile=q, cap=None, covariate_caps={}, as_of=None)
    return out


def check(data, *, unit: str = "unit_id", variant: str = "variant", control: str, metrics, covariates=None,
          cap="auto", quantile: float = RULE_QUANTILE, name: str | None = None, time: str | None = None,
          as_of=None) -> pd.DataFrame:
    """Does capping each 'mean' metric at a high percentile move an arm's mean by more than half its
    standard error?

    Parameters
    ----------
    data : DataFrame, path, source spec or Ibis table
        One row per randomized unit (as for :func:`cxlib.experiments.compare`).
    unit, variant, control : str
        Unit id and arm columns and the control arm (arm names are trimmed, as compare does).
    metrics : mapping or list of Metric
        As for compare; only 'mean' metrics are checked (proportions, NPS and ratios are bounded or not
        capped by compare).
    covariates : str, list or mapping, optional
        As for compare. A metric's units are those compare uses (metric and covariates not blank); its
        covariates are capped by the same rule and their thresholds reported.
    cap : {'auto', 'none'} or float
        The page parameter: 'auto' applies the rule at ``quantile``; a quantile (e.g. 0.99) caps every
        mean metric with a unit above it there; 'none' switches capping off (an empty result, no query).
    quantile : float
        The rule's percentile as a quantile (default 0.999).
    time, as_of : optional
        As for compare: the exposure time column (default the contract's 'exposure_time' when the table
        has one; none: no unit is left out) and the analysis date (default
        :func:`cxlib.data.default_as_of`). Units exposed after it are left out (the same helper as
        compare, so the table counts the units the comparison counts), counted in one note.

    Returns
    -------
    pandas.DataFrame
        One row per mean metric x arm (control first): ``metric``, ``variant``, ``n``, ``mean``, ``se``
        (of the arm mean), ``capped_mean``, ``cap_value`` (the pooled threshold), ``n_capped`` (units
        of the arm above it), ``shift_in_se`` = (mean - capped mean) / se, ``heavy`` (the metric meets
        the rule: a unit capped and a shift above 0.5 in some arm), ``cap_applied`` (the capped
        comparison covers the metric: heavy under 'auto'; under a fixed quantile, any unit above it).
        ``attrs``: ``mode``, ``quantile``, ``cap`` (the quantile to pass to compare, or None), ``as_of``
        (None without an exposure time column, or with capping off),
        ``covariate_caps`` ({metric: {covariate: threshold}}) and ``notes`` (a ``heavy_tail`` Note per
        heavy metric with ``metric``, ``cap_value``, ``quantile``, ``percentile``, ``arms`` (those
        moved beyond the rule), ``arm`` and ``max_shift`` (the largest move); a ``capped_covariate``
        Note per covariate of a capped metric; first, the note on units exposed after ``as_of``, if any).

    Examples
    --------
    >>> check(df, control="control", metrics={"rounds": "mean"})  # doctest: +SKIP
    """
    mode, q = parse_cap(cap, quantile)
    ms = [m for m in _normalize(metrics, covariates) if m.kind == "mean"]
    if mode == "none" or not ms:
        return _empty(mode, q)
    control = str(control).strip()
    # the units compare counts: those exposed by the analysis date (its own helper, so the two agree)
    source, (data, as_of, late) = data, _exposed_by(data, time, as_of, name)
    t = cxdata.as_table(data, name=name)
    cols = list(dict.fromkeys(c for m in ms for c in (m.column, *m.covariates)))
    cxdata.require_columns(t, [unit, variant, *cols], name=name)
    t = t.mutate(**{variant: t[variant].cast("string").strip()})
    t = t.filter(t[variant].notnull() & (t[variant] != ""))  # units without an arm are in no comparison
    for c in cols:
        t = cxdata.clean_numeric(t, c, name=name)
    # query 1: the pooled threshold of every column (compare's own rule: its quantile over units with an arm)
    got = cxdata.to_pandas(t.aggregate(**{f"q{i}": t[c].cast("float64").quantile(q) for i, c in enumerate(cols)}),
                           name=name).iloc[0]
    caps = {c: float(got[f"q{i}"]) for i, c in enumerate(cols) if pd.notna(got[f"q{i}"])}
    label = cxdata.source_name(t, name)
    for m in ms:
        if m.column not in caps:
            _nothing_exposed(source, time, as_of, name)  # no rows, or all exposed after as_of
            raise cxdata.CXDataError(f"{label}: metric column '{m.column}' has no values in any unit (every "
                                     "row is blank).", source=label, column=m.column)
    # query 2: per arm, raw and capped sufficient statistics over the units compare uses for each metric
    aggs = {}
    for i, m in enumerate(ms):
        y = t[m.column].cast("float64")
        keep = y.notnull()
        for x in m.covariates:
            keep = keep & t[x].notnull()
        c = y.clip(upper=caps[m.column])
        aggs.update({f"n{i}": t.count(where=keep), f"s{i}": y.sum(where=keep), f"ss{i}": (y * y).sum(where=keep),
                     f"cs{i}": c.sum(where=keep), f"css{i}": (c * c).sum(where=keep),
                     f"k{i}": (y > caps[m.column]).cast("int64").sum(where=keep)})
    arms = cxdata.to_pandas(t.group_by(variant).aggregate(**aggs), name=name)
    names = [str(v) for v in arms[variant]]
    if control not in names:
        raise cxdata.CXDataError(f"{label}: control arm '{control}' is not among the arms of column '{variant}' "
                                 f"({', '.join(sorted(names)[:10])}).", source=label, column=variant)
    arms = arms.assign(_o=[(v != control, v) for v in names]).sort_values("_o").reset_index(drop=True)
    rows, notes, cov_caps = [], ([late] if late else []), {}
    for i, m in enumerate(ms):
        n = pd.to_numeric(arms[f"n{i}"]).fillna(0).to_numpy(float)
        s, ss, cs, css = (pd.to_numeric(arms[f"{k}{i}"]).fillna(0).to_numpy(float) for k in ("s", "ss", "cs", "css"))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean, cmean = s / n, cs / n
            var = np.where(n > 1, np.maximum(ss - n * mean ** 2, 0.0) / (n - 1), np.nan)
            se = np.sqrt(var / n)
            shift = np.where(se > 0, (mean - cmean) / se, np.nan)
        k = pd.to_numeric(arms[f"k{i}"]).fillna(0).to_numpy(int)
        moved = np.nan_to_num(np.abs(shift)) > RULE_SHIFT
        heavy = bool(k.sum() >= 1 and moved.any())
        applied = heavy if mode == "auto" else bool(k.sum() >= 1)  # a fixed cap: wherever it caps a unit
        for j, arm in enumerate(arms[variant]):
            rows.append({"metric": m.name, "variant": str(arm), "n": int(n[j]), "mean": mean[j], "se": se[j],
                         "capped_mean": cmean[j], "cap_value": caps[m.column], "n_capped": int(k[j]),
                         "shift_in_se": shift[j], "heavy": heavy, "cap_applied": applied})
        if heavy:
            top = int(np.nanargmax(np.abs(np.where(np.isnan(shift), -1.0, shift))))
            notes.append(note("heavy_tail", metric=m.name, cap_value=caps[m.column], quantile=q,
                              percentile=100 * q, arms=[str(a) for a, hit in zip(arms[variant], moved) if hit],
                              arm=str(arms[variant].iloc[top]), max_shift=float(shift[top])))
        if applied and m.covariates:
            cov_caps[m.name] = {x: caps[x] for x in m.covariates if x in caps}
            notes += [note("capped_covariate", metric=m.name, covariate=x, cap_value=v, quantile=q,
                           percentile=100 * q) for x, v in cov_caps[m.name].items()]
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["n_capped"] = out["n_capped"].astype("int64")
    out.attrs.update(notes=notes, mode=mode, quantile=q, covariate_caps=cov_caps, as_of=as_of,
                     cap=q if out["cap_applied"].any() else None)
    return out


def cap_for(check_result: pd.DataFrame) -> float | None:
    """The ``cap`` to pass to :func:`cxlib.experiments.compare`: the rule's quantile when a metric has a
    heavy tail ('auto'), the fixed quantile, or None (nothing to cap, or capping off)."""
    return check_result.attrs.get("cap")


def capped_metrics(check_result: pd.DataFrame, metrics, covariates=None) -> list:
    """The metrics (as :class:`cxlib.experiments.Metric`, covariates kept) whose capped comparison is
    shown: the heavy ones under 'auto', every one with a unit above a fixed quantile, none when off."""
    applied = set(check_result.loc[check_result["cap_applied"].astype(bool), "metric"])
    return [m for m in _normalize(metrics, covariates) if m.kind == "mean" and m.name in applied]


def compare_capped(data, check_result: pd.DataFrame, *, metrics, covariates=None, **options) -> pd.DataFrame | None:
    """:func:`cxlib.experiments.compare` of the :func:`capped_metrics` capped at :func:`cap_for` (their
    covariates capped by the same rule), or None when nothing is capped. ``options`` are compare's
    (unit, variant, control, alpha, correction, expected ...)."""
    cap = cap_for(check_result)
    chosen = capped_metrics(check_result, metrics, covariates)
    if cap is None or not chosen:
        return None
    return compare(data, metrics=chosen, cap=cap, **options)
