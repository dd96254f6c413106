"""Experiment comparisons: per-arm sufficient statistics in the engine, tests on the aggregates.

``compare`` = one engine aggregation per metric to a *summary* table (one row per variant x metric:
``n``, ``sum``, ``sum_squares``; ratios add ``den_sum``, ``den_sum_squares``, ``sum_products``; CUPED
adds ``pre_sum``, ``pre_sum_squares``, ``pre_sum_products``) followed by ``compare_summary`` on it, as
experiment platforms do (GrowthBook's gbstats, Eppo): the same code compares 30,000 units from a CSV or
a billion from a warehouse table.

Methods
-------
- Means and proportions: difference of arm means with the Welch (unequal-variance) t interval and test.
  A proportion is the mean of a 0/1 column (so this is the unpooled two-proportion test).
- NPS: each answer is scored +1 promoter (9-10), 0 passive, -1 detractor; NPS = 100 x the mean, whose
  variance is the trinomial ``p + d - (p - d)^2``; then as for means. Units without an answer are left
  out (n = answered).
- Ratio metrics (e.g. clicks / sessions, per-unit numerator and denominator): ratio of sums per arm with
  the delta-method variance (units are the randomization unit, so clustered rows are handled).
- Relative lift (variant / control - 1) with a delta-method interval.
- CUPED: y - theta (x - mean x) with theta = pooled cov(y, x) / var(x) from the pre-period covariate;
  ``variance_reduction`` reports how much variance it removed.
- Multiple comparisons: ``p_adjusted`` over the whole family of metrics x treatment variants
  (statsmodels ``multipletests``, Holm by default).
- ``prob_better``: posterior probability that the variant beats control in the metric's desired direction
  (flat prior, normal approximation of the difference).
- SRM: chi-square goodness of fit of unit counts against the planned allocation.
- Power: statsmodels ``NormalIndPower`` (sample size per arm, minimum detectable effect).

Examples
--------
>>> from cxlib import experiments
>>> res = experiments.compare("data/sample/experiment.csv", control="control",
...                           metrics={"converted": "proportion", "revenue": "mean"})  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from cxlib import data as cxdata

__all__ = ["Metric", "summary_statistics", "compare", "compare_summary", "cumulative", "srm", "SRMResult",
           "sample_size", "nps_sd", "minimum_detectable_effect", "days_needed", "summarize", "KINDS"]

KINDS = ("proportion", "mean", "nps", "ratio")
CORRECTIONS = ("holm", "bonferroni", "fdr_bh", "none")


@dataclass(frozen=True)
class Metric:
    """One metric of an experiment.

    Parameters
    ----------
    column : str
        The metric column (for ratios the numerator).
    kind : {'proportion', 'mean', 'nps', 'ratio'}
    denominator : str, optional
        Denominator column of a ratio metric (required for ``kind='ratio'``).
    covariate : str, optional
        Pre-period covariate for CUPED variance reduction (means and proportions).
    guardrail : bool
        A metric that must not get worse (its harm is flagged, it is not a success metric).
    direction : {'increase', 'decrease'}
        Which way is better.
    margin : float
        Non-inferiority margin of a guardrail, in the metric's units (NPS points for 'nps'): a breach is
        harm significantly beyond it; ``non_inferior`` says the interval rules out harm larger than it.
    label : str, optional
        Name in results (default: the column, or ``numerator/denominator``).
    """

    column: str
    kind: str = "mean"
    denominator: str | None = None
    covariate: str | None = None
    guardrail: bool = False
    direction: str = "increase"
    label: str | None = None
    margin: float = 0.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise cxdata.CXDataError(f"metric {self.column!r}: kind must be one of {', '.join(KINDS)}, "
                                     f"not {self.kind!r}.")
        if self.kind == "ratio" and not self.denominator:
            raise cxdata.CXDataError(f"ratio metric {self.column!r} needs denominator= (e.g. sessions).")
        if self.direction not in ("increase", "decrease"):
            raise cxdata.CXDataError(f"metric {self.column!r}: direction must be 'increase' or 'decrease'.")

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return f"{self.column}/{self.denominator}" if self.kind == "ratio" else self.column


def _normalize(metrics, covariates=None) -> list[Metric]:
    if isinstance(metrics, Metric):
        metrics = [metrics]
    if isinstance(metrics, dict):
        metrics = [Metric(col, kind) for col, kind in metrics.items()]
    out = []
    cov = covariates or {}
    for m in metrics:
        if isinstance(m, str):
            m = Metric(m)
        if isinstance(cov, str) and m.kind in ("mean", "proportion") and m.covariate is None:
            m = Metric(**{**m.__dict__, "covariate": cov})
        elif isinstance(cov, dict) and m.column in cov and m.covariate is None:
            m = Metric(**{**m.__dict__, "covariate": cov[m.column]})
        if m.covariate and m.kind not in ("mean", "proportion"):
            raise cxdata.CXDataError(f"metric {m.name!r}: CUPED covariates apply to means and proportions.")
        out.append(m)
    if not out:
        raise cxdata.CXDataError("no metrics given: metrics={'converted': 'proportion', ...}")
    return out


# ------------------------------------------------------------------------------------------ statistics

def _fused_parts(t, ms, by, variant, name):
    """The per-metric aggregates of :func:`summary_statistics` in one engine query (one scan for every
    metric), or None when the metrics' columns are cleaned in different ways (then one query per metric).

    Columns are cleaned in metric order with the same checks and messages; a failed check, or a metric
    without values, returns None so the per-metric path raises the first problem exactly as it always has.
    """
    cleaning: dict[str, tuple] = {}
    for m in ms:
        sig = {"proportion": ("binary",), "nps": ("numeric", 0, 10, True)}.get(m.kind, ("numeric", None, None, False))
        wanted = [(m.column, sig)] + ([(m.denominator, ("numeric", 0, None, False))] if m.kind == "ratio" else [])
        wanted += [(m.covariate, ("numeric", None, None, False))] if m.covariate else []
        for col, sg in wanted:
            if cleaning.setdefault(col, sg) != sg or col in (*by, variant):
                return None
    tc = t
    try:
        done = set()
        for m in ms:
            for col in [m.column] + ([m.denominator] if m.kind == "ratio" else []) + ([m.covariate] if m.covariate else []):
                if col in done:
                    continue
                done.add(col)
                sg = cleaning[col]
                if sg[0] == "binary":
                    tc = cxdata.clean_binary(tc, col, name=name)
                else:
                    tc = cxdata.clean_numeric(tc, col, lo=sg[1], hi=sg[2], integer=sg[3], name=name)
    except cxdata.CXDataError:
        return None
    aggs = {}
    for i, m in enumerate(ms):
        if m.kind == "nps":
            s = tc[m.column]
            y = (s >= 9).ifelse(1.0, (s <= 6).ifelse(-1.0, 0.0))
            y = s.isnull().ifelse(None, y).cast("float64")
        else:
            y = tc[m.column].cast("float64")
        keep = y.notnull()
        if m.kind == "ratio":
            d = tc[m.denominator].cast("float64")
            keep = y.notnull() & d.notnull()
        if m.covariate:
            x = tc[m.covariate].cast("float64")
            keep = keep & x.notnull()
        aggs.update({f"n__{i}": tc.count(where=keep), f"sum__{i}": y.sum(where=keep),
                     f"sum_squares__{i}": (y * y).sum(where=keep)})
        if m.kind == "ratio":
            aggs.update({f"den_sum__{i}": d.sum(where=keep), f"den_sum_squares__{i}": (d * d).sum(where=keep),
                         f"sum_products__{i}": (y * d).sum(where=keep)})
        if m.covariate:
            aggs.update({f"pre_sum__{i}": x.sum(where=keep), f"pre_sum_squares__{i}": (x * x).sum(where=keep),
                         f"pre_sum_products__{i}": (y * x).sum(where=keep)})
    allp = cxdata.to_pandas(tc.group_by([*by, variant]).aggregate(**aggs), name=name)
    parts = []
    for i, m in enumerate(ms):
        mine = [c for c in allp.columns if c.endswith(f"__{i}")]
        part = allp[[*by, variant, *mine]].rename(columns={c: c[: -len(f"__{i}")] for c in mine})
        part = part[part["n"] > 0].reset_index(drop=True)
        if part.empty:
            return None
        part = part.rename(columns={variant: "variant"})
        part.insert(len(by) + 1, "metric", m.name)
        part.insert(len(by) + 2, "kind", m.kind)
        parts.append(part)
    return parts


def summary_statistics(data, *, unit: str = "unit_id", variant: str = "variant", metrics, covariates=None,
                       by=None, check_units: bool = True, name: str | None = None) -> pd.DataFrame:
    """Per-variant (and segment) sufficient statistics of each metric, computed in the engine.

    Returns one row per [segment x] variant x metric with ``metric``, ``kind``, ``n``, ``sum``,
    ``sum_squares`` and, where they apply, ``den_sum``, ``den_sum_squares``, ``sum_products`` (ratios)
    and ``pre_sum``, ``pre_sum_squares``, ``pre_sum_products`` (CUPED). NPS rows hold the +1/0/-1 scores.
    Units with a blank metric are not counted for it. ``check_units`` verifies that no unit appears
    twice (a unit in two variants breaks randomization); on tens of millions of rows it is most of the
    run time, so a warehouse table already keyed by unit may skip it.
    """
    ms = _normalize(metrics, covariates)
    by = cxdata.as_list(by)
    t = cxdata.as_table(data, name=name)
    cols = {unit, variant, *by}
    for m in ms:
        cols |= {m.column} | ({m.denominator} if m.denominator else set()) | ({m.covariate} if m.covariate else set())
    cxdata.require_columns(t, sorted(cols), name=name)
    # one pass for the row count, the unit-uniqueness check and the units without an arm; the checks'
    # own queries (with their messages and example rows) run only when something is wrong
    raw = t
    # "control " and "control" are one arm: compare trimmed names; units without a variant are counted
    t = t.mutate(**{variant: t[variant].cast("string").strip()})
    no_arm = t[variant].isnull() | (t[variant] == "")
    facts = dict(n=t.count(), no_arm=no_arm.cast("int64").sum())
    if check_units:
        facts.update(ids=t[unit].count(), distinct=t[unit].nunique())
    try:
        got = cxdata.to_pandas(t.aggregate(**facts), name=name).iloc[0]
    except cxdata.CXDataError:  # an engine error: raise it as the separate checks always have
        cxdata.check_not_empty(raw, name=name)
        if check_units:
            cxdata.check_unique(raw, unit, name=name)
        got = {"n": 1, "no_arm": cxdata.to_pandas(no_arm.cast("int64").sum(), name=name), "ids": 0, "distinct": 0}
        check_units = False
    n_rows = int(got["n"])
    if n_rows == 0:
        cxdata.check_not_empty(raw, name=name)
    if check_units:
        n_ids, n_distinct = int(got["ids"]), int(got["distinct"] or 0)
        if n_ids != n_distinct or n_rows - n_ids > 1:  # a repeated id, or more than one blank id
            cxdata.check_unique(raw, unit, name=name)
    n_no_arm = int(got["no_arm"] if pd.notna(got["no_arm"]) else 0)
    t = t.filter(~no_arm)
    parts = _fused_parts(t, ms, by, variant, name)
    for m in (ms if parts is None else []):
        parts = parts or []
        tm = t
        if m.kind == "proportion":
            tm = cxdata.clean_binary(tm, m.column, name=name)
            y = tm[m.column].cast("float64")
        elif m.kind == "nps":
            tm = cxdata.clean_numeric(tm, m.column, lo=0, hi=10, integer=True, name=name)
            s = tm[m.column]
            y = (s >= 9).ifelse(1.0, (s <= 6).ifelse(-1.0, 0.0))
            y = s.isnull().ifelse(None, y).cast("float64")
        else:
            tm = cxdata.clean_numeric(tm, m.column, name=name)
            y = tm[m.column].cast("float64")
        tm = tm.mutate(_y=y)
        keep = tm["_y"].notnull()
        aggs = {}
        if m.kind == "ratio":
            tm = cxdata.clean_numeric(tm, m.denominator, lo=0, name=name)
            tm = tm.mutate(_d=tm[m.denominator].cast("float64"))
            keep = tm["_y"].notnull() & tm["_d"].notnull()
        if m.covariate:
            tm = cxdata.clean_numeric(tm, m.covariate, name=name)
            tm = tm.mutate(_x=tm[m.covariate].cast("float64"))
            keep = keep & tm["_x"].notnull()
        tm = tm.filter(keep)
        aggs.update(n=tm.count(), sum=tm["_y"].sum(), sum_squares=(tm["_y"] * tm["_y"]).sum())
        if m.kind == "ratio":
            aggs.update(den_sum=tm["_d"].sum(), den_sum_squares=(tm["_d"] * tm["_d"]).sum(),
                        sum_products=(tm["_y"] * tm["_d"]).sum())
        if m.covariate:
            aggs.update(pre_sum=tm["_x"].sum(), pre_sum_squares=(tm["_x"] * tm["_x"]).sum(),
                        pre_sum_products=(tm["_y"] * tm["_x"]).sum())
        part = cxdata.to_pandas(tm.group_by([*by, variant]).aggregate(**aggs), name=name)
        if part.empty or int(part["n"].sum()) == 0:
            label = cxdata.source_name(t, name)
            raise cxdata.CXDataError(f"{label}: metric column '{m.column}' has no values in any unit (every "
                                     "row is blank).", source=label, column=m.column)
        part = part.rename(columns={variant: "variant"})
        part.insert(len(by) + 1, "metric", m.name)
        part.insert(len(by) + 2, "kind", m.kind)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["n"] = out["n"].astype("int64")
    out = out.sort_values([*by, "metric", "variant"], kind="mergesort").reset_index(drop=True)
    out.attrs["units_without_variant"] = n_no_arm
    out.attrs["notes"] = ([f"{n_no_arm:,} unit{'s have' if n_no_arm > 1 else ' has'} no variant and "
                           f"{'are' if n_no_arm > 1 else 'is'} left out of every comparison."] if n_no_arm else [])
    return out


def _arm(row, kind, theta=None, pre_mean=None):
    """Mean (or ratio) of one arm and the variance of that estimate."""
    n = float(row["n"])
    m = row["sum"] / n
    var = max((row["sum_squares"] - n * m * m) / (n - 1), 0.0) if n > 1 else np.nan
    if kind == "ratio":
        d_mean = row["den_sum"] / n
        r = row["sum"] / row["den_sum"]
        var_d = (row["den_sum_squares"] - n * d_mean ** 2) / (n - 1)
        cov = (row["sum_products"] - n * m * d_mean) / (n - 1)
        v = (var - 2 * r * cov + r * r * var_d) / (d_mean ** 2 * n)
        return r, max(v, 0.0), var
    if theta is not None:
        x_mean = row["pre_sum"] / n
        var_x = (row["pre_sum_squares"] - n * x_mean ** 2) / (n - 1)
        cov = (row["pre_sum_products"] - n * m * x_mean) / (n - 1)
        adj_var = max(var - 2 * theta * cov + theta ** 2 * var_x, 0.0)
        return m - theta * (x_mean - pre_mean), adj_var / n, var
    return m, var / n, var


def compare_summary(summary: pd.DataFrame, *, control: str, metrics=None, alpha: float = 0.05,
                    correction: str = "holm", by=None) -> pd.DataFrame:
    """Compare every treatment variant with ``control`` from per-variant sufficient statistics.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per [segment x] variant x metric: ``variant``, ``metric``, ``n``, ``sum``,
        ``sum_squares`` (+ ratio and CUPED columns, see the module docstring) and ``kind`` (or give
        ``metrics``).
    control : str
        The control variant.
    metrics : mapping or list of Metric, optional
        Kinds, guardrails and directions (default: ``kind`` column, all 'increase', no guardrails).
    correction : {'holm', 'bonferroni', 'fdr_bh', 'none'}
        Multiple-comparison adjustment over all metrics x variants (x segments).

    Returns
    -------
    pandas.DataFrame
        One row per metric x treatment variant: ``metric``, ``kind``, ``variant``, ``n_control``,
        ``n_variant``, ``control_value``, ``variant_value`` (NPS in points), ``abs_diff``,
        ``abs_ci_lower``, ``abs_ci_upper``, ``rel_lift``, ``rel_ci_lower``, ``rel_ci_upper``,
        ``p_value``, ``p_adjusted``, ``significant``, ``prob_better`` and ``expected_loss`` (Bayesian reading,
        flat prior, normal approximation: chance the variant is better, and the expected shortfall in
        the metric's units if it is shipped and is in fact worse), ``direction``, ``guardrail``,
        ``guardrail_breach``, ``decision`` ('win' | 'loss' | 'inconclusive' | 'guardrail breached'), ``cuped``,
        ``variance_reduction``.
    """
    if correction not in CORRECTIONS:
        raise cxdata.CXDataError(f"correction must be one of {', '.join(CORRECTIONS)}, not {correction!r}.")
    by = cxdata.as_list(by)
    s = summary.copy()
    info: dict[str, Metric] = {}
    if metrics is not None:
        info = {m.name: m for m in _normalize(metrics)}
    if "kind" not in s:
        if not info:
            raise cxdata.CXDataError("the summary has no 'kind' column: pass metrics= with the kinds.")
        s["kind"] = s["metric"].map(lambda name: info[name].kind)
    variants = set(s["variant"].astype(str))
    if control not in variants:
        raise cxdata.CXDataError(f"control variant {control!r} not found; variants: {', '.join(sorted(variants))}.")
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    groups = s.groupby([*by, "metric"], sort=False) if by else s.groupby("metric", sort=False)
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        metric_name = key[-1]
        kind = g["kind"].iloc[0]
        meta = info.get(metric_name, Metric(metric_name if kind != "ratio" else metric_name.split("/")[0],
                                            kind, denominator="_" if kind == "ratio" else None))
        scale = 100.0 if kind == "nps" else 1.0
        cuped = "pre_sum" in g and g["pre_sum"].notna().all()
        theta = pre_mean = None
        reduction = np.nan
        if cuped:
            n_all = g["n"].sum()
            my = g["sum"].sum() / n_all
            pre_mean = g["pre_sum"].sum() / n_all
            cov = (g["pre_sum_products"].sum() - n_all * my * pre_mean) / (n_all - 1)
            var_x = (g["pre_sum_squares"].sum() - n_all * pre_mean ** 2) / (n_all - 1)
            var_y = (g["sum_squares"].sum() - n_all * my ** 2) / (n_all - 1)
            theta = cov / var_x if var_x > 0 else 0.0
            reduction = (cov * cov / (var_x * var_y)) if var_x > 0 and var_y > 0 else 0.0
        ctrl = g[g["variant"].astype(str) == control]
        if ctrl.empty:
            continue
        c = ctrl.iloc[0]
        mc, vc, _ = _arm(c, kind, theta, pre_mean)
        for _, r in g[g["variant"].astype(str) != control].iterrows():
            mt, vt, _ = _arm(r, kind, theta, pre_mean)
            diff = mt - mc
            se = np.sqrt(vt + vc)
            if kind == "ratio":
                dof = np.inf
            else:
                dof = (vt + vc) ** 2 / ((vt ** 2 / (r["n"] - 1)) + (vc ** 2 / (c["n"] - 1))) if (vt + vc) > 0 else np.inf
            tq = stats.t.ppf(1 - alpha / 2, dof) if np.isfinite(dof) else z
            p = 2 * stats.t.sf(abs(diff / se), dof) if se > 0 else np.nan
            lift = mt / mc - 1 if mc != 0 else np.nan
            se_lift = np.sqrt(vt / mc ** 2 + mt ** 2 * vc / mc ** 4) if mc != 0 else np.nan
            sign = 1 if meta.direction == "increase" else -1
            prob_better = stats.norm.cdf(sign * diff / se) if se > 0 else np.nan
            # expected loss of shipping the variant (in the metric's units): E[max(0, -sign * D)], D ~ N(diff, se²)
            dd = sign * diff
            exp_loss = (se * stats.norm.pdf(dd / se) - dd * stats.norm.cdf(-dd / se)) if se > 0 else np.nan
            rows.append({**dict(zip(by, key[:-1])), "metric": metric_name, "kind": kind, "variant": r["variant"],
                         "n_control": int(c["n"]), "n_variant": int(r["n"]),
                         "control_value": scale * mc, "variant_value": scale * mt, "abs_diff": scale * diff,
                         "abs_ci_lower": scale * (diff - tq * se), "abs_ci_upper": scale * (diff + tq * se),
                         "rel_lift": lift, "rel_ci_lower": lift - z * se_lift, "rel_ci_upper": lift + z * se_lift,
                         "p_value": p, "prob_better": prob_better, "expected_loss": scale * exp_loss,
                         "direction": meta.direction, "margin": meta.margin,
                         "guardrail": meta.guardrail, "cuped": bool(cuped), "variance_reduction": reduction})
    out = pd.DataFrame(rows)
    if out.empty:
        raise cxdata.CXDataError(f"no treatment variant to compare with {control!r}.")
    ok = out["p_value"].notna()
    out["p_adjusted"] = out["p_value"]
    if correction != "none" and ok.sum() > 1:
        out.loc[ok, "p_adjusted"] = adjust_p(out.loc[ok, "p_value"].to_numpy(float), correction)
    out["significant"] = out["p_adjusted"] < alpha
    good = np.where(out["direction"] == "increase", out["abs_diff"] > 0, out["abs_diff"] < 0)
    out["decision"] = np.where(out["significant"], np.where(good, "win", "loss"), "inconclusive")
    # a guardrail is breached when it is significantly worse before correction: harm is not excused
    # by the size of the family
    m = out["margin"].abs()
    harm = np.where(out["direction"] == "increase", out["abs_ci_upper"] < -m, out["abs_ci_lower"] > m)
    out["guardrail_breach"] = out["guardrail"] & harm
    safe = np.where(out["direction"] == "increase", out["abs_ci_lower"] > -m, out["abs_ci_upper"] < m)
    out["non_inferior"] = out["guardrail"] & safe
    out.loc[out["guardrail_breach"], "decision"] = "guardrail breached"
    cols = [*by, "metric", "kind", "variant", "n_control", "n_variant", "control_value", "variant_value",
            "abs_diff", "abs_ci_lower", "abs_ci_upper", "rel_lift", "rel_ci_lower", "rel_ci_upper", "p_value",
            "p_adjusted", "significant", "prob_better", "expected_loss", "direction", "guardrail", "margin",
            "guardrail_breach", "non_inferior", "decision",
            "cuped", "variance_reduction"]
    out = out[cols]
    out.attrs.update(alpha=alpha, correction=correction, control=control)
    return out


def compare(data, *, unit: str = "unit_id", variant: str = "variant", control: str, metrics,
            alpha: float = 0.05, correction: str = "holm", covariates=None, by=None, check_units: bool = True,
            expected=None, srm_threshold: float = 0.001, name: str | None = None) -> pd.DataFrame:
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
        ``{column: kind}`` with kinds 'proportion', 'mean', 'nps', 'ratio', or :class:`Metric` objects
        (ratios, CUPED covariates, guardrails, direction).
    alpha : float
        1 - confidence level; also the significance threshold.
    correction : {'holm', 'bonferroni', 'fdr_bh', 'none'}
    covariates : str or mapping, optional
        CUPED covariate for every mean/proportion metric (str) or per metric ``{column: covariate}``.
    by : str or list of str, optional
        Segment columns: one comparison per segment (every segment joins the correction family).
    expected, srm_threshold : optional
        Planned allocation ``{variant: share}`` (default equal) and the p-value below which the
        sample-ratio check fails: then every ``decision`` is ``'not interpretable'`` (``attrs['srm']``
        holds the check).

    Returns
    -------
    pandas.DataFrame
        See :func:`compare_summary`. Methods: Welch t, delta-method lift and ratios, trinomial NPS,
        CUPED, Holm.

    Examples
    --------
    >>> compare("data/sample/experiment.csv", control="control",
    ...         metrics={"converted": "proportion", "nps": "nps"})  # doctest: +SKIP
    """
    ms = _normalize(metrics, covariates)
    summary = summary_statistics(data, unit=unit, variant=variant, metrics=ms, by=by, check_units=check_units,
                                 name=name)
    out = compare_summary(summary, control=str(control).strip(), metrics=ms, alpha=alpha, correction=correction,
                          by=by)
    out.attrs["notes"] = list(summary.attrs.get("notes", []))
    out.attrs["units_without_variant"] = summary.attrs.get("units_without_variant", 0)
    # a sample-ratio mismatch means assignment or logging is broken: no comparison is a win or a loss
    check = srm(data, variant=variant, expected=expected, threshold=srm_threshold)
    out.attrs["srm"] = check
    if check.p_value < srm_threshold:
        out["decision"] = NOT_INTERPRETABLE
        out.attrs["notes"].append(f"Sample ratio mismatch (chi-square p = {check.p_value:.2g}): the arms did not "
                                  "get their planned shares of units, so no result is interpretable.")
    return out


def adjust_p(p, method: str = "holm") -> np.ndarray:
    """Adjusted p-values for a family of tests: Holm (step-down), Bonferroni or Benjamini-Hochberg
    (``'fdr_bh'``); the same numbers as statsmodels ``multipletests``, without its ``gc.collect()``
    (0.2 s a call, most of a small comparison's time)."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    if method == "holm":
        adj = np.minimum(np.maximum.accumulate(ranked * (m - np.arange(m))), 1.0)
    elif method == "fdr_bh":
        adj = np.minimum(np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1], 1.0)
    else:
        raise cxdata.CXDataError(f"correction must be one of holm, bonferroni, fdr_bh, none; not {method!r}.")
    out = np.empty(m)
    out[order] = adj
    return out


#: The decision of every comparison of an experiment whose allocation check failed.
NOT_INTERPRETABLE = "not interpretable"


def cumulative(data, *, time: str = "exposure_time", unit: str = "unit_id", variant: str = "variant",
               control: str, metric, period: str = "day", alpha: float = 0.05, name: str | None = None) -> pd.DataFrame:
    """The comparison of one metric as it would have looked at the end of each day (cumulative data).

    One engine aggregation per (period, variant); cumulative sums in pandas; :func:`compare_summary` per
    period (no multiple-comparison adjustment: this shows how the estimate settled, not a decision rule —
    peeking at a fixed-horizon test inflates false positives). Returns ``period`` plus the
    :func:`compare_summary` columns.
    """
    m = _normalize([metric] if isinstance(metric, Metric) else {metric: "mean"} if isinstance(metric, str) else metric)[0]
    t = cxdata.as_table(data, name=name)
    cxdata.require_columns(t, [time, variant], name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    t = t.mutate(_p=cxdata.period_start(t[time], period).cast("date"))
    parts = []
    summ = summary_statistics(t, unit=unit, variant=variant, metrics=[m], by="_p", name=name)
    summ = summ.sort_values(["variant", "_p"])
    num = [c for c in summ.columns if c in ("n", "sum", "sum_squares", "den_sum", "den_sum_squares", "sum_products",
                                            "pre_sum", "pre_sum_squares", "pre_sum_products")]
    summ[num] = summ.groupby("variant")[num].cumsum()
    for p, g in summ.groupby("_p"):
        if g["variant"].nunique() < 2 or (g["n"] < 2).any():
            continue
        r = compare_summary(g.drop(columns="_p"), control=control, metrics=[m], alpha=alpha, correction="none")
        parts.append(r.assign(period=pd.Timestamp(p)))
    out = pd.concat(parts, ignore_index=True)
    return out[["period", *[c for c in out.columns if c != "period"]]]


def days_needed(n_needed_per_arm: float, n_per_arm_so_far: float, days_so_far: float) -> float:
    """More days the test must run at its current traffic to reach ``n_needed_per_arm`` (0 if reached)."""
    if n_per_arm_so_far <= 0 or days_so_far <= 0:
        return float("nan")
    rate = n_per_arm_so_far / days_so_far
    return max(0.0, float(np.ceil((n_needed_per_arm - n_per_arm_so_far) / rate)))


# ------------------------------------------------------------------------------------------ SRM

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


# ------------------------------------------------------------------------------------------ power

def sample_size(baseline: float, mde: float, *, kind: str = "proportion", sd: float | None = None,
                relative: bool = True, alpha: float = 0.05, power: float = 0.8) -> int:
    """Units per arm to detect ``mde`` (relative to ``baseline`` unless ``relative=False``), two-sided.

    Proportions use Cohen's h (arcsine) effect size; means and NPS need ``sd`` (for NPS in points, e.g.
    :func:`nps_sd` of the baseline promoter and detractor shares; NPS effects are usually given with
    ``relative=False``, in points). statsmodels ``NormalIndPower``.

    Examples
    --------
    >>> sample_size(0.10, 0.15)                                  # conversion 10% -> 11.5%
    6687
    >>> sample_size(20, 5, kind="nps", sd=nps_sd(0.45, 0.25), relative=False)  # NPS 20 -> 25 points
    4145
    """
    target = baseline * (1 + mde) if relative else baseline + mde
    if kind == "proportion":
        es = abs(proportion_effectsize(target, baseline))
    else:
        if not sd:
            raise ValueError("means need sd= (the metric's standard deviation per unit)")
        es = abs(target - baseline) / sd
    return int(np.ceil(NormalIndPower().solve_power(effect_size=es, alpha=alpha, power=power, ratio=1.0)))


def nps_sd(promoters: float, detractors: float) -> float:
    """Standard deviation of one answer's NPS contribution, in points: 100 sqrt(p + d - (p - d)^2)."""
    return float(100 * np.sqrt(promoters + detractors - (promoters - detractors) ** 2))


def minimum_detectable_effect(n_per_arm: float, baseline: float, *, kind: str = "proportion",
                              sd: float | None = None, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest relative effect detectable with ``n_per_arm`` units per arm (two-sided, ``power``)."""
    es = NormalIndPower().solve_power(nobs1=n_per_arm, alpha=alpha, power=power, ratio=1.0)
    if kind == "proportion":
        target = np.sin(np.arcsin(np.sqrt(baseline)) + es / 2) ** 2
        return float(target / baseline - 1)
    if not sd:
        raise ValueError("means need sd= (the metric's standard deviation per unit)")
    return float(es * sd / baseline)


# ------------------------------------------------------------------------------------------ summary

def _fmt_value(kind, v):
    if kind == "proportion":
        return f"{v:.2%}"
    if kind == "nps":
        return f"{v:+.1f}"
    return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"


def _fmt_diff(kind, d):
    if kind == "proportion":
        return f"{100 * d:+.2f} pp"
    if kind == "nps":
        return f"{d:+.1f} points"
    return f"{d:+,.3g}"


def summarize(result: pd.DataFrame, *, srm_result: SRMResult | None = None) -> str:
    """Plain-language summary of a :func:`compare` result (and the SRM check): guardrail breaches
    first, then wins, losses and inconclusive results.

    A failed SRM check is stated first and suppresses win / loss language: the numbers are shown as
    unreliable measurements only. Returns :class:`cxlib.present.Text`: safe HTML in which every data
    value (variant and metric names) is escaped (wording in :func:`cxlib.present.experiment_summary`).
    """
    from cxlib import present  # present sits above the analyses; imported here to keep imports one-way

    return present.experiment_summary(result, srm_result=srm_result)
