"""The comparisons a page asks for: :func:`compare` (aggregate in the engine, estimate, decide, gate on
the allocation check) and :func:`cumulative` (the same comparison at the end of each day).

Examples
--------
>>> from cxlib.experiments import compare
>>> compare("data/sample/experiment.csv", control="control",
...         metrics={"converted": "proportion"})  # doctest: +SKIP
"""
from __future__ import annotations

import pandas as pd

from cxlib import data as cxdata
from cxlib.experiments.aggregate import _exposed_by, _summary_or_why
from cxlib.experiments.decide import gate, srm
from cxlib.experiments.estimate import compare_summary
from cxlib.experiments.metric import Metric, _normalize
from cxlib.notes import note

__all__ = ["compare", "cumulative"]


def compare(data, *, unit: str = "unit_id", variant: str = "variant", control: str, metrics,
            alpha: float = 0.05, correction: str = "holm", covariates=None, by=None, check_units: bool = True,
            expected=None, srm_threshold: float = 0.001, sequential: bool = False, n_opt=None,
            adjustment: str = "cuped", lift_ci: str = "delta", cap: float | None = None,
            correction_family: str = "all", name: str | None = None, time: str | None = None,
            as_of=None) -> pd.DataFrame:
    """Compare each treatment variant with control on every metric, with intervals and adjusted p-values.

    Parameters
    ----------
    data : DataFrame, path or Ibis table
        One row per randomized unit.
    unit, variant : str
        Unit id (must be unique) and arm columns.
    control : str
        The control arm.
    metrics : mapping or list of Metric
        ``{column: kind}`` with kinds 'proportion', 'mean', 'nps', 'ratio', 'median' / 'p90' (quantile
        metrics), or :class:`Metric` objects (ratios, CUPED covariates, guardrails, direction).
    alpha : float
        1 - confidence level; also the significance threshold.
    correction : {'holm', 'bonferroni', 'fdr_bh', 'none'}
    covariates : str, list or mapping, optional
        Covariate(s) for every mean/proportion metric (a column or a list of columns), or per metric
        ``{metric: column or [columns]}`` for any kind (proportion, mean, NPS, ratio; keyed by the metric's
        column or name). Adjustment from per-arm cross-products computed in the engine; see ``adjustment``.
    by : str or list of str, optional
        Segment columns: one comparison per segment (every segment joins the correction family unless
        ``correction_family='metric'``); :func:`heterogeneity` tests whether the effect differs. Read as
        every analysis reads segments (:mod:`cxlib.segments`): a column may be named by the export's
        header text; 'EMEA', 'EMEA ' and 'emea' are one segment, shown as its most frequent spelling, with
        a ``segment_case_merged`` note in ``attrs['notes']``; personal-data columns are refused.
    expected, srm_threshold : optional
        Planned allocation ``{variant: share}`` (default equal) and the p-value below which the
        sample-ratio check fails: then every ``decision`` is ``'not interpretable'`` (``attrs['srm']``
        holds the check).
    sequential, n_opt : optional
        Always-valid inference for continuous monitoring: ``cs_lower``, ``cs_upper`` (a confidence
        sequence for ``abs_diff``) and ``p_always_valid``, which then drive ``decision``; ``n_opt`` is the
        planned total units per comparison where the sequence is tightest (see :func:`confidence_sequence`).
    adjustment : {'cuped', 'lin'}
        Pooled-slope CUPED with a covariate vector, or Lin's (2013) arm-specific slopes (= OLS with
        treatment x centred-covariate interactions). See :func:`compare_summary`.
    lift_ci : {'delta', 'fieller'}
        Interval of the relative lift.
    cap : float, optional
        Winsorise 'mean' metrics at this quantile (e.g. 0.99) of all units, computed in the engine; the
        thresholds are in the ``cap_value`` column and in ``attrs['notes']``. Their covariates are capped
        by the same rule (``attrs['covariate_caps']``).
    correction_family : {'all', 'metric'}
        Multiple-comparison family: everything, or each metric on its own.
    time, as_of : optional
        Exposure time column (default the contract's 'exposure_time' when the table has one; none: no
        unit is left out) and the analysis date (default :func:`cxlib.data.default_as_of`): units first
        exposed after it are left out of every comparison and the allocation check, counted in one note
        (``attrs['notes']``; ``attrs['as_of']``).

    Returns
    -------
    pandas.DataFrame
        See :func:`compare_summary`. Methods: Welch t, delta-method lift and ratios, trinomial NPS,
        CUPED / Lin regression adjustment, normal-mixture confidence sequences, Holm.

    Examples
    --------
    >>> compare("data/sample/experiment.csv", control="control",
    ...         metrics={"converted": "proportion", "nps": "nps"})  # doctest: +SKIP
    >>> compare("data/sample/experiment.csv", control="control", sequential=True,
    ...         metrics=[Metric("revenue", covariate=["pre_revenue", "tenure_days"])])  # doctest: +SKIP
    """
    ms = _normalize(metrics, covariates)
    source, (data, as_of, late) = data, _exposed_by(data, time, as_of, name)
    summary = _summary_or_why(data, source, time, as_of, late, unit=unit, variant=variant, metrics=ms, by=by,
                              check_units=check_units, cap=cap, name=name)
    out = compare_summary(summary, control=str(control).strip(), metrics=ms, alpha=alpha, correction=correction,
                          by=summary.attrs["by"], sequential=sequential, n_opt=n_opt, adjustment=adjustment,
                          lift_ci=lift_ci,
                          correction_family=correction_family, arms=list(summary.attrs.get("arm_counts") or []))
    out.attrs["notes"] = (([late] if late else []) + list(summary.attrs.get("notes", []))
                          + list(out.attrs.get("notes", [])))
    out.attrs["as_of"] = as_of
    if cap is not None:
        caps = summary.attrs.get("caps", {})
        out["cap_value"] = out["metric"].map(caps).astype(float)
        out.attrs["covariate_caps"] = summary.attrs.get("covariate_caps", {})
        for metric_name, value in caps.items():
            out.attrs["notes"].append(note("metric_capped", metric=metric_name, percentile=100 * float(cap),
                                           cap_value=float(value)))
    out.attrs["units_without_variant"] = summary.attrs.get("units_without_variant", 0)
    # a sample-ratio mismatch means assignment or logging is broken: no comparison is a win or a loss
    counts = summary.attrs.get("arm_counts")  # units per arm from the aggregate query (no second scan)
    check = srm(data if counts is None else counts, variant=variant, expected=expected, threshold=srm_threshold)
    return gate(out, check)


def cumulative(data, *, time: str = "exposure_time", unit: str = "unit_id", variant: str = "variant",
               control: str, metric, period: str = "day", alpha: float = 0.05, sequential: bool = False,
               n_opt=None, adjustment: str = "cuped", expected=None, srm_threshold: float = 0.001,
               name: str | None = None, as_of=None) -> pd.DataFrame:
    """The comparison of one metric as it would have looked at the end of each day (cumulative data).

    Units exposed after ``as_of`` (default :func:`cxlib.data.default_as_of`) are left out, counted in one
    note (``attrs['notes']``; ``attrs['as_of']``): no period after it is a row.

    One engine aggregation per (period, variant); cumulative sums in pandas; :func:`compare_summary` per
    period (no multiple-comparison adjustment: this shows how the estimate settled, not a decision rule —
    peeking at a fixed-horizon test inflates false positives). Returns ``period`` plus the
    :func:`compare_summary` columns.

    With ``sequential=True`` every period also has ``cs_lower``, ``cs_upper`` and ``p_always_valid``: a
    confidence sequence (:func:`confidence_sequence`) that holds at every period simultaneously, so it can
    be watched daily and stopped on. Its tuning constant is fixed across periods at ``n_opt`` (default:
    each comparison's final total units, i.e. tightest at the last look), as validity requires.

    The allocation check of :func:`compare` (on all units, ``expected`` / ``srm_threshold``) gates every
    period's ``decision`` the same way: "not interpretable" after a mismatch (``attrs['srm']``).

    Examples
    --------
    >>> cumulative("data/sample/experiment.csv", control="control", sequential=True,
    ...            metric=Metric("converted", "proportion"))  # doctest: +SKIP
    """
    m = _normalize([metric] if isinstance(metric, Metric) else {metric: "mean"} if isinstance(metric, str) else metric)[0]
    if m.kind == "quantile":
        raise cxdata.CXDataError(f"metric {m.name!r}: cumulative() adds up per-day sums, which a quantile does not "
                                 "have; compare() the data up to each day instead.")
    t = cxdata.as_table(data, name=name)
    cxdata.require_columns(t, [time, variant], name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    as_of = cxdata.default_as_of(as_of, data)
    t, late = cxdata.upto_as_of(t, time, as_of, required=True, name=name)
    t = t.mutate(_p=cxdata.period_start(t[time], period).cast("date"))
    parts = []
    summ = _summary_or_why(t, data, time, as_of, late, unit=unit, variant=variant, metrics=[m], by="_p", name=name)
    counts = summ.attrs.get("arm_counts")
    summ = summ.sort_values(["variant", "_p"])
    num = [c for c in summ.columns if c not in ("_p", "variant", "metric", "kind")]
    summ[num] = summ.groupby("variant")[num].cumsum()
    if sequential and n_opt is None:
        final = summ.groupby("variant")["n"].max()
        if control in final.index:
            n_opt = {v: float(final[v] + final[control]) for v in final.index if v != control}
    for p, g in summ.groupby("_p"):
        if g["variant"].nunique() < 2 or (g["n"] < 2).any():
            continue
        r = compare_summary(g.drop(columns="_p"), control=control, metrics=[m], alpha=alpha, correction="none",
                            sequential=sequential, n_opt=n_opt, adjustment=adjustment)
        parts.append(r.assign(period=pd.Timestamp(p)))
    if not parts:  # e.g. an early as_of leaves one arm, or one unit an arm: nothing to compare at any period
        label = cxdata.source_name(t, name)
        raise cxdata.CXDataError(f"{label}: no {period} up to {as_of:%Y-%m-%d} has two arms with at least 2 units "
                                 f"each in '{m.column}' (arms: {', '.join(map(str, sorted(summ['variant'].unique()))) or 'none'}); "
                                 "choose a later as_of.", source=label, column=m.column)
    out = pd.concat(parts, ignore_index=True)
    out = out[["period", *[c for c in out.columns if c != "period"]]]
    check = srm(t if counts is None else counts, variant=variant, expected=expected, threshold=srm_threshold)
    out.attrs.update(control=control, as_of=as_of, notes=[late] if late else [])
    # the same allocation gate as compare(); its note is compare()'s (a page shows it once)
    return gate(out, check, with_note=False)


def settled(over_time: pd.DataFrame, *, window_days: int = 7) -> pd.DataFrame:
    """How a :func:`cumulative` comparison ended, per variant: its last period's row (``period``,
    ``kind``, ``direction``, ``rel_lift`` and interval, ``abs_diff``, and with ``sequential=True``
    ``cs_lower`` / ``cs_upper``), ``n_periods`` (periods with a comparison), ``n_days`` (periods in the
    whole result), ``window_side`` (+1 / -1 when the relative interval stayed above / below zero in every
    period of the last ``window_days`` days, else 0) and, with a confidence sequence, ``cs_side`` (+1 /
    -1 when it excludes zero on the last period, else 0), ``cs_since`` (the first period of the last
    unbroken run on that side) and ``cs_day`` (its number, 1 = the first period).
    ``attrs['last_period']``: the last period of the result.

    Examples
    --------
    >>> settled(cumulative("data/sample/experiment.csv", control="control", sequential=True,
    ...                    metric=Metric("converted", "proportion")))  # doctest: +SKIP
    """
    cols = ["variant", "period", "kind", "direction", "rel_lift", "rel_ci_lower", "rel_ci_upper", "abs_diff",
            "n_periods", "n_days", "window_side"]
    seq = "cs_lower" in over_time
    if seq:
        cols += ["cs_lower", "cs_upper", "cs_side", "cs_since", "cs_day"]
    rows = []
    last = over_time["period"].max() if len(over_time) else None
    n_days = int(over_time["period"].nunique()) if len(over_time) else 0
    for v, g in over_time.groupby("variant", sort=False):
        g = g.sort_values("period").reset_index(drop=True)
        r = g.iloc[-1]
        tail = g[g["period"] > last - pd.Timedelta(days=window_days)]
        row = {c: r.get(c) for c in ("period", "kind", "rel_lift", "rel_ci_lower", "rel_ci_upper", "abs_diff")}
        row.update(variant=v, direction=r.get("direction", "increase"), n_periods=len(g), n_days=n_days,
                   window_side=1 if (tail["rel_ci_lower"] > 0).all() else -1 if (tail["rel_ci_upper"] < 0).all() else 0)
        if seq:
            side = [1 if lo > 0 else -1 if hi < 0 else 0 for lo, hi in zip(g["cs_lower"], g["cs_upper"])]
            k = len(g) - 1
            while side[-1] != 0 and k > 0 and side[k - 1] == side[-1]:
                k -= 1
            row.update(cs_lower=r["cs_lower"], cs_upper=r["cs_upper"], cs_side=side[-1],
                       cs_since=g.loc[k, "period"] if side[-1] else pd.NaT, cs_day=k + 1 if side[-1] else None)
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["last_period"] = last
    return out
