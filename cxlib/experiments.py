"""Experiment comparisons: per-arm sufficient statistics in the engine, tests on the aggregates.

``compare`` = one engine aggregation for all metrics (their value checks, the row, no-arm and per-arm
unit counts ride along in the same scan; with the unit check, one count of distinct unit ids beside it:
two queries on a clean table, the checks' own queries only when one fails) to a *summary* table (one row per variant x metric:
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
- Regression adjustment (``covariates=``, any metric kind, one or many covariates, from per-arm
  cross-products computed in the engine): CUPED y - theta'(x - mean x) with the pooled slope vector
  theta = Sxx^-1 Sxy (one covariate: cov(y, x) / var(x), the historical numbers), or
  ``adjustment='lin'`` (Lin 2013: arm-specific slopes, = OLS with treatment x centred covariates).
  NPS adjusts the +1/0/-1 scores; ratios adjust numerator and denominator means, then the delta method.
  ``variance_reduction`` reports how much variance it removed; ``raw_*`` columns show the unadjusted
  comparison beside it.
- Always-valid inference (``sequential=True``): normal-mixture asymptotic confidence sequences
  (Waudby-Smith et al. 2023) and always-valid p-values, see :func:`confidence_sequence`.
- Segments: :func:`heterogeneity` (Cochran's Q, I², tau²) per metric x variant across segment
  estimates; ``correction_family='metric'`` adjusts within each metric instead of over everything;
  :func:`segment_explorer` adds Benjamini-Hochberg q-values over every segment cell (a family per metric
  or over everything) and empirical-Bayes shrunken estimates (normal-normal, method-of-moments tau²,
  Morris intervals) beside the raw ones.
- Quantile metrics (``kind='quantile'``, or ``'median'`` / ``'p90'``): each arm's quantile from order
  statistics computed in the engine (a window per arm; only a few rows come back), a distribution-free
  standard error from the order-statistic interval with exact binomial coverage, and a normal interval
  for the difference between arms (Price & Bonett 2002).
- Decisions are gated: a failed allocation check makes every row's ``decision`` "not interpretable"
  (segment rows too); a breached guardrail makes its rows "guardrail breached" and turns the same
  variant's wins on other metrics (same segment) into "blocked by guardrail": a breach vetoes shipping.
- ``lift_ci='fieller'``: Fieller's interval for the relative lift; ``cap=0.99``: winsorise mean metrics
  at an engine-computed quantile.
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

import re
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib import segments
from cxlib.empty import nothing_before
from cxlib.notes import note
from cxlib.stats import minimum_detectable_effect, nps_sd, sample_size  # noqa: F401 (public here too)

__all__ = ["Metric", "summary_statistics", "compare", "compare_summary", "cumulative", "srm", "SRMResult",
           "confidence_sequence", "heterogeneity", "segment_explorer",
           "sample_size", "nps_sd", "minimum_detectable_effect", "days_needed", "summarize", "KINDS"]

KINDS = ("proportion", "mean", "nps", "ratio", "quantile")
CORRECTIONS = ("holm", "bonferroni", "fdr_bh", "none")


@dataclass(frozen=True)
class Metric:
    """One metric of an experiment.

    Parameters
    ----------
    column : str
        The metric column (for ratios the numerator).
    kind : {'proportion', 'mean', 'nps', 'ratio', 'quantile'}
        'quantile' compares a quantile of the metric between arms (``quantile=0.5`` the median, 0.9 the
        p90: e.g. support response times); ``'median'`` and ``'p90'`` (any ``'pNN'``) are short for it.
    denominator : str, optional
        Denominator column of a ratio metric (required for ``kind='ratio'``).
    covariate : str or list of str, optional
        Pre-period covariate(s) for regression adjustment (CUPED with a covariate vector, or Lin's
        estimator): any metric kind, including NPS (the +1/0/-1 scores are adjusted) and ratios (numerator
        and denominator are adjusted, then the delta method).
    guardrail : bool
        A metric that must not get worse (its harm is flagged, it is not a success metric).
    direction : {'increase', 'decrease'}
        Which way is better.
    margin : float
        Non-inferiority margin of a guardrail, in the metric's units (NPS points for 'nps'): a breach is
        harm significantly beyond it; ``non_inferior`` says the interval rules out harm larger than it.
    label : str, optional
        Name in results (default: the column, ``numerator/denominator``, or ``column median`` /
        ``column p90`` for quantiles).
    quantile : float, optional
        The quantile of a 'quantile' metric (default 0.5).
    """

    column: str
    kind: str = "mean"
    denominator: str | None = None
    covariate: str | tuple | None = None
    guardrail: bool = False
    direction: str = "increase"
    label: str | None = None
    margin: float = 0.0
    quantile: float | None = None

    def __post_init__(self):
        kind = str(self.kind).lower()
        if kind == "median" or re.fullmatch(r"p\d+(\.\d+)?", kind):
            q = 0.5 if kind == "median" else float(kind[1:]) / 100
            object.__setattr__(self, "kind", "quantile")
            object.__setattr__(self, "quantile", q if self.quantile is None else self.quantile)
        if self.kind == "quantile":
            q = 0.5 if self.quantile is None else self.quantile
            if not 0 < float(q) < 1:
                raise cxdata.CXDataError(f"metric {self.column!r}: quantile must be between 0 and 1 (0.5 the "
                                         f"median, 0.9 the p90), not {q!r}.")
            object.__setattr__(self, "quantile", float(q))
        if isinstance(self.covariate, (list, tuple)):
            cov = tuple(dict.fromkeys(str(c) for c in self.covariate))
            # one covariate is stored as a plain name: the same summary columns and numbers as always
            object.__setattr__(self, "covariate", cov[0] if len(cov) == 1 else (cov or None))
        if self.kind not in KINDS:
            raise cxdata.CXDataError(f"metric {self.column!r}: kind must be one of {', '.join(KINDS)}, "
                                     f"not {self.kind!r}.")
        if self.kind == "ratio" and not self.denominator:
            raise cxdata.CXDataError(f"ratio metric {self.column!r} needs denominator= (e.g. sessions).")
        if self.direction not in ("increase", "decrease"):
            raise cxdata.CXDataError(f"metric {self.column!r}: direction must be 'increase' or 'decrease'.")
        if self.kind == "quantile" and self.covariate:
            raise cxdata.CXDataError(f"metric {self.column!r}: quantile metrics take no covariates (regression "
                                     "adjustment is for means, proportions, NPS and ratios).")

    @property
    def covariates(self) -> tuple:
        """The covariate columns as a tuple (empty without adjustment)."""
        if not self.covariate:
            return ()
        return (self.covariate,) if isinstance(self.covariate, str) else tuple(self.covariate)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if self.kind == "quantile":
            return f"{self.column} {'median' if self.quantile == 0.5 else f'p{100 * self.quantile:g}'}"
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
        if isinstance(cov, (str, list, tuple)) and m.kind in ("mean", "proportion") and m.covariate is None:
            m = Metric(**{**m.__dict__, "covariate": cov})
        elif isinstance(cov, dict) and m.covariate is None and m.kind != "quantile" and (m.name in cov or m.column in cov):
            m = Metric(**{**m.__dict__, "covariate": cov[m.name] if m.name in cov else cov[m.column]})
        for x in m.covariates:
            if x in (m.column, m.denominator):
                raise cxdata.CXDataError(f"metric {m.name!r}: the covariate {x!r} is the metric itself; use a "
                                         "pre-period column.")
        out.append(m)
    if not out:
        raise cxdata.CXDataError("no metrics given: metrics={'converted': 'proportion', ...}")
    return out


# ------------------------------------------------------------------------------------------ statistics

def _cov_names(k: int):
    """Summary column names of ``k`` covariates: sums, y-products, denominator-products, cross-products.

    One covariate keeps the historical CUPED names (``pre_sum``, ``pre_sum_squares``,
    ``pre_sum_products``; ratios add ``pre_den_products``); more use ``x{j}_sum``, ``x{j}_y_products``,
    ``x{j}_den_products`` and ``x{j}_x{l}_products`` (j <= l).
    """
    if k == 1:
        return ["pre_sum"], ["pre_sum_products"], ["pre_den_products"], {(0, 0): "pre_sum_squares"}
    return ([f"x{j}_sum" for j in range(k)], [f"x{j}_y_products" for j in range(k)],
            [f"x{j}_den_products" for j in range(k)],
            {(j, m): f"x{j}_x{m}_products" for j in range(k) for m in range(j, k)})


def _cov_aggs(xs, y, d, keep=None, suffix=""):
    """Engine aggregates of covariates ``xs``: sums, cross-products with each other, with y and with d."""
    sums, yp, dp, cross = _cov_names(len(xs))
    out = {}
    out.update({sums[j] + suffix: x.sum(where=keep) for j, x in enumerate(xs)})
    out.update({nm + suffix: (xs[j] * xs[m]).sum(where=keep) for (j, m), nm in cross.items()})
    out.update({yp[j] + suffix: (y * x).sum(where=keep) for j, x in enumerate(xs)})
    if d is not None:
        out.update({dp[j] + suffix: (d * x).sum(where=keep) for j, x in enumerate(xs)})
    return out


def _capped(y, col, caps):
    return y.clip(upper=caps[col]) if caps and col in caps else y


def _fused_cleaning(ms, by, variant):
    """Column -> cleaning signature of every metric, denominator and covariate column, or None when a
    column is cleaned in two ways (or is a segment / the variant): then one query per metric."""
    cleaning: dict[str, tuple] = {}
    for m in ms:
        sig = {"proportion": ("binary",), "nps": ("numeric", 0, 10, True)}.get(m.kind, ("numeric", None, None, False))
        wanted = [(m.column, sig)] + ([(m.denominator, ("numeric", 0, None, False))] if m.kind == "ratio" else [])
        wanted += [(x, ("numeric", None, None, False)) for x in m.covariates]
        for col, sg in wanted:
            if cleaning.setdefault(col, sg) != sg or col in (*by, variant):
                return None
    return cleaning


def _clean_plan(t, cleaning):
    """The cleaned columns and the "bad value" conditions of :func:`cxdata.clean_numeric` /
    :func:`cxdata.clean_binary` as expressions, so the checks run inside another query (one scan) instead
    of one query each. Returns ``(cleaned, bad)`` ({column: expression}, {check name: boolean expression})
    or None for a column type those functions would reject (then they run and raise as always). The
    conditions are the functions' own; when one holds for any row the caller runs the functions, which
    raise with their messages and example rows.
    """
    missing = cxdata._is_missing_text
    cleaned, bad = {}, {}
    for i, (col, sg) in enumerate(cleaning.items()):
        c = t[col]
        ct = c.type()
        if sg[0] == "binary":
            if ct.is_boolean():
                cleaned[col] = c.cast("int64")
                continue
            if ct.is_string():
                norm = c.strip().lower()
                mapped = norm.cases(("1", 1), ("true", 1), ("yes", 1), ("y", 1), ("t", 1),
                                    ("0", 0), ("false", 0), ("no", 0), ("n", 0), ("f", 0),
                                    ("1.0", 1), ("0.0", 0), else_=ibis.null("int64"))
                bad[f"c{i}_binary"] = ~missing(c) & mapped.isnull()
                cleaned[col] = mapped
                continue
            if not ct.is_numeric():
                return None
            x = c.cast("float64")
            bad[f"c{i}_binary"] = x.notnull() & ~x.isin([0.0, 1.0])
            cleaned[col] = x.cast("int64")
            continue
        if ct.is_boolean() or ct.is_numeric():
            x = c.cast("float64")
        elif ct.is_string():
            bad[f"c{i}_number"] = ~missing(c) & c.strip().try_cast("float64").isnull()
            x = ibis.ifelse(missing(c), ibis.null("float64"), c.strip().try_cast("float64"))
        else:
            return None
        lo, hi, integer = sg[1], sg[2], sg[3]
        if lo is not None or hi is not None:
            lo_v = float("-inf") if lo is None else lo
            hi_v = float("inf") if hi is None else hi
            bad[f"c{i}_range"] = x.notnull() & ((x < lo_v) | (x > hi_v))
        if integer:
            bad[f"c{i}_integer"] = x.notnull() & (x != x.floor())
        cleaned[col] = x
    return cleaned, bad


def _fused_parts(t, ms, by, variant, name, caps=None, cleaned=None, never_null=frozenset(), unfiltered=None,
                 checks=None, totals=None, nullify=False, seg_rows=None):
    """The per-metric aggregates of :func:`summary_statistics` in one engine query (one scan for every
    metric), or None when the metrics' columns are cleaned in different ways (then one query per metric).

    Columns are cleaned in metric order with the same checks and messages; a failed check, or a metric
    without values, returns None so the per-metric path raises the first problem exactly as it always has.
    ``cleaned`` (from :func:`_clean_plan`, its checks already passed) skips the checks' own queries;
    ``never_null`` names columns known to have no blank among the units with an arm. With ``cleaned``,
    ``unfiltered`` (the table before units without an arm were filtered out) is aggregated instead and
    the no-arm groups are dropped afterwards: the same sums without a row filter in the query (a filter
    on the trimmed arm name made DuckDB's scan several times slower).
    Also returns the unit count per arm (all rows, before blanks are left out), for the SRM check.

    ``checks`` ({name: boolean expression over the table ``cleaned`` was planned on}) are counted in the
    same query, per group, and their totals over every group (units without an arm included) are put
    in the dict ``totals`` with ``rows`` (all rows) and ``no_arm`` (rows without an arm); ``totals`` is
    filled before None is returned for a metric without values, so the caller can tell why.
    ``nullify`` (for blanks not known in advance) leaves blanks out without filtered aggregates: the
    metric's columns are made blank together where one is, and ``n`` counts the values.
    ``seg_rows`` (a dict), when every row is aggregated (``unfiltered`` with ``cleaned``), receives
    ``rows``: the rows per segment x arm group, from which the segments' spellings are counted
    (:func:`cxlib.segments.case_merges`) without a query of their own.
    """
    cleaning = _fused_cleaning(ms, by, variant)
    if cleaning is None:
        return None
    drop_no_arm = cleaned is not None and unfiltered is not None
    checks = checks or {}
    if cleaned is not None:
        # the check flags are computed in the same projection as the cleaned values (both from the raw ones)
        tc = (unfiltered if drop_no_arm else t).mutate(**cleaned, **{f"_c_{k}": v for k, v in checks.items()})
    else:
        tc = t
        try:
            for col, sg in cleaning.items():
                if sg[0] == "binary":
                    tc = cxdata.clean_binary(tc, col, name=name)
                else:
                    tc = cxdata.clean_numeric(tc, col, lo=sg[1], hi=sg[2], integer=sg[3], name=name)
        except cxdata.CXDataError:
            return None
    # every metric's value (NPS score, cap), denominator, covariates and "counted" flag are projected
    # once, then summed: an engine evaluates an expression repeated inside several aggregates again for
    # each (5x slower on DuckDB); the numbers are the same
    proj, plan = {}, []
    for i, m in enumerate(ms):
        if m.kind == "nps":
            sc = tc[m.column]
            y = (sc >= 9).ifelse(1.0, (sc <= 6).ifelse(-1.0, 0.0))
            y = sc.isnull().ifelse(None, y).cast("float64")
        else:
            y = _capped(tc[m.column].cast("float64"), m.column, caps if m.kind == "mean" else None)
        d = tc[m.denominator].cast("float64") if m.kind == "ratio" else None
        # a capped mean metric's covariates are capped by the same rule (each at its own pooled quantile)
        xs = [_capped(tc[x].cast("float64"), x, caps if m.kind == "mean" else None) for x in m.covariates]
        # units with a blank metric, denominator or covariate are left out; columns known to have no
        # blanks need no filter (plain sums scan faster than filtered ones; the numbers are the same)
        cols = [(m.column, y), *([(m.denominator, d)] if d is not None else []), *zip(m.covariates, xs)]
        keep = None
        for col, e in cols:
            if col not in never_null:
                keep = e.notnull() if keep is None else keep & e.notnull()
        mode = None if keep is None else "filter"
        if keep is not None and nullify:
            # blanks left out without filters: every column of the metric is blank where one of them is
            # (a sum skips blanks, so the sums are those of the kept units); n counts the values left
            if d is not None or xs:
                y = keep.ifelse(y, ibis.null("float64"))
                d = None if d is None else keep.ifelse(d, ibis.null("float64"))
                xs = [keep.ifelse(x, ibis.null("float64")) for x in xs]
            mode = "count"
        proj[f"_y{i}"] = y
        if d is not None:
            proj[f"_d{i}"] = d
        proj.update({f"_x{i}_{j}": x for j, x in enumerate(xs)})
        if mode == "filter":
            proj[f"_k{i}"] = keep
        plan.append((d is not None, len(xs), mode))
    proj.update({f"_c_{k}": tc[f"_c_{k}"] for k in checks})
    tp = tc.select(*by, variant, **proj)
    aggs = {"rows__": tp.count()}
    aggs.update({f"check_{k}__": tp[f"_c_{k}"].cast("int64").sum() for k in checks})
    for i, (m, (has_d, k, mode)) in enumerate(zip(ms, plan)):
        y, keep = tp[f"_y{i}"], (tp[f"_k{i}"] if mode == "filter" else None)
        d = tp[f"_d{i}"] if has_d else None
        xs = [tp[f"_x{i}_{j}"] for j in range(k)]
        aggs.update({f"n__{i}": y.count() if mode == "count" else tp.count(where=keep), f"sum__{i}": y.sum(where=keep),
                     f"sum_squares__{i}": (y * y).sum(where=keep)})
        if m.kind == "ratio":
            aggs.update({f"den_sum__{i}": d.sum(where=keep), f"den_sum_squares__{i}": (d * d).sum(where=keep),
                         f"sum_products__{i}": (y * d).sum(where=keep)})
        if xs:
            aggs.update(_cov_aggs(xs, y, d, keep, suffix=f"__{i}"))
    allp = cxdata.to_pandas(tp.group_by([*by, variant]).aggregate(**aggs), name=name)
    if totals is not None:
        arm = allp[variant]
        without = arm.isna() | (arm.astype("string") == "")
        totals.update(rows=int(allp["rows__"].sum()), no_arm=int(allp.loc[without, "rows__"].sum()),
                      **{k: int(pd.to_numeric(allp[f"check_{k}__"]).fillna(0).sum()) for k in checks})
        allp = allp.drop(columns=[f"check_{k}__" for k in checks])
    if seg_rows is not None and drop_no_arm:
        seg_rows["rows"] = allp[[*by, "rows__"]]
    if drop_no_arm:
        arm = allp[variant]
        allp = allp[arm.notna() & (arm.astype("string") != "")].reset_index(drop=True)
    parts = []
    for i, m in enumerate(ms):
        mine = [c for c in allp.columns if "__" in c and c.rsplit("__", 1)[1] == str(i)]
        part = allp[[*by, variant, *mine]].rename(columns={c: c[: -len(f"__{i}")] for c in mine})
        part = part[part["n"] > 0].reset_index(drop=True)
        if part.empty:
            return None
        part = part.rename(columns={variant: "variant"})
        part.insert(len(by) + 1, "metric", m.name)
        part.insert(len(by) + 2, "kind", m.kind)
        parts.append(part)
    arms = allp.groupby(variant, sort=True)["rows__"].sum()
    return parts, {str(k): int(v) for k, v in arms.items()}


@ibis.udf.scalar.builtin(name="hash")
def _hash64(value) -> ibis.expr.datatypes.uint64:
    """DuckDB's 64-bit ``hash`` of any value (a builtin, defined once: Ibis's own ``.hash()`` compiles to a
    slow cast through BIT)."""


def _distinct_units(t, unit):
    """Count of distinct unit ids, as an engine expression. On DuckDB the distinct 64-bit hashes of the
    non-blank ids (a hash aggregation over 8-byte numbers instead of the id strings): equal to the count
    of ids exactly when no id repeats, barring a hash collision (probability ~ n^2 / 2^65, about 3e-6 at
    10M ids) which only makes the caller run the exact check (:func:`cxdata.check_unique`). Other
    engines (Spark's ``hash`` is 32-bit) count the ids themselves."""
    col = t[unit]
    try:
        engine = getattr(col._find_backend(use_default=True), "name", "")
    except Exception:  # pragma: no cover - an unbound expression: the exact count
        engine = ""
    return _hash64(col).nunique(where=col.notnull()) if engine == "duckdb" else col.nunique()


def _one_pass(t, sms, by, variant, unit, plan, check_units, name, seg_rows=None):
    """The optimistic path of :func:`summary_statistics`: one grouped query over every row (the value
    checks, row and no-arm counts summed over its groups, every metric's sufficient statistics with blanks
    left out) and, with ``check_units``, one count of distinct unit ids. Returns ``((parts, arm counts),
    units without an arm)``, or None when any check fails, a metric has no values or the engine errors:
    then the checked path runs (and raises with the checks' own messages and example rows)."""
    cleaned, bad = plan
    totals: dict = {}
    try:
        fused = _fused_parts(t, sms, by, variant, name, cleaned=cleaned, unfiltered=t, checks=bad,
                             totals=totals, nullify=True, seg_rows=seg_rows)
    except cxdata.CXDataError:
        return None
    if fused is None or not totals.get("rows") or any(totals[k] for k in bad):
        return None
    if check_units:
        try:
            # a check answer: kept while the file is unchanged (a second comparison on it skips the count)
            got = cxdata._checked(t.aggregate(ids=t[unit].count(), distinct=_distinct_units(t, unit)),
                                  name=name).iloc[0]
        except cxdata.CXDataError:
            return None
        n_ids = int(got["ids"])
        if n_ids != int(got["distinct"] or 0) or totals["rows"] - n_ids > 1:
            return None
    return fused, totals["no_arm"]


# the one check of arm spellings, shared with data.validate(kind='experiment') and `cx validate`
_check_arm_case = cxdata.check_variant_case


def summary_statistics(data, *, unit: str = "unit_id", variant: str = "variant", metrics, covariates=None,
                       by=None, check_units: bool = True, cap: float | None = None,
                       name: str | None = None) -> pd.DataFrame:
    """Per-variant (and segment) sufficient statistics of each metric, computed in the engine.

    Returns one row per [segment x] variant x metric with ``metric``, ``kind``, ``n``, ``sum``,
    ``sum_squares`` and, where they apply, ``den_sum``, ``den_sum_squares``, ``sum_products`` (ratios)
    and the covariate cross-products of regression adjustment: one covariate ``pre_sum``,
    ``pre_sum_squares``, ``pre_sum_products`` (+ ``pre_den_products`` = sum of denominator x covariate
    for ratios); K > 1 covariates ``x{j}_sum``, ``x{j}_x{l}_products`` (l >= j), ``x{j}_y_products``
    (+ ``x{j}_den_products``), in the order of the metric's covariates (``attrs['covariates']``). Sizes
    are independent of the row count (K(K+3)/2 + K numbers per arm). NPS rows hold the +1/0/-1 scores.
    'quantile' rows hold ``quantile`` (q), ``quantile_value`` and ``quantile_se`` instead of sums (see
    :func:`_quantile_parts`). ``attrs['arm_counts']`` holds the rows per arm when they came with the
    aggregate (used by :func:`compare` for the allocation check).
    Units with a blank metric (or a blank covariate of it) are not counted for it. ``check_units``
    verifies that no unit appears twice (a unit in two variants breaks randomization; on DuckDB by
    counting distinct 64-bit hashes of the ids, with the exact check naming the duplicates only when that
    count differs from the count of ids); on tens of millions of rows it is most of the run time, so a
    warehouse table already keyed by unit may skip it.
    ``cap`` (e.g. 0.99) winsorises 'mean' metrics at that quantile of the pooled units (DuckDB
    ``quantile_cont``, computed in the engine; values above it are set to it); the thresholds are in
    ``attrs['caps']``. Their covariates are capped by the same rule, each at its own quantile
    (``attrs['covariate_caps']``: {metric: {covariate: threshold}}).
    Segments (``by``) are read by the rule of every analysis (:mod:`cxlib.segments`): named as the
    export's headers show them, personal columns refused, text values trimmed and spellings that differ
    only by case counted as the most frequent one (a ``segment_case_merged`` note each in
    ``attrs['notes']``; ``attrs['by']``: the table's segment columns). The rows per spelling come from
    the aggregate itself, so the rule costs no query of its own on the one-pass path.
    """
    ms = _normalize(metrics, covariates)
    t = cxdata.as_table(data, name=name)
    cols = {unit, variant}
    for m in ms:
        cols |= {m.column} | ({m.denominator} if m.denominator else set()) | set(m.covariates)
    raw = t
    t, by, text_by = segments.read(t, by, name=name, need=sorted(cols))
    # "control " and "control" are one arm: compare trimmed names; units without a variant are counted
    t = t.mutate(**{variant: t[variant].cast("string").strip()})
    no_arm = t[variant].isnull() | (t[variant] == "")
    cleaning = _fused_cleaning(ms, by, variant)
    plan = _clean_plan(t, cleaning) if cleaning is not None else None
    qms = [m for m in ms if m.kind == "quantile"]
    sms = [m for m in ms if m.kind != "quantile"]  # metrics with sufficient statistics
    whole, seg_rows = t, ({} if text_by else None)  # every row (the segments' spellings are counted on it)
    # optimistic: one scan gives the value checks, the row and no-arm counts and every sufficient
    # statistic (+ one count of distinct unit ids); when anything is off the checked path below runs
    # and raises exactly as it always has
    fast = (_one_pass(t, sms, by, variant, unit, plan, check_units, name, seg_rows=seg_rows)
            if plan is not None and sms and cap is None else None)
    if fast is not None:
        fused, n_no_arm = fast
        checked, caps = True, {}
        t = t.filter(~no_arm)
    else:
        # one pass for the row count, the unit-uniqueness check and the units without an arm; the checks'
        # own queries (with their messages and example rows) run only when something is wrong
        facts = dict(n=t.count(), no_arm=no_arm.cast("int64").sum())
        if check_units:
            facts.update(ids=t[unit].count(), distinct=_distinct_units(t, unit))
        # the value checks of the metric columns ride along in the same query (their own queries, with
        # messages and example rows, run only when one fails; a bad value in a row without an arm, which
        # those checks skip, only sends the call down the checked path)
        if plan is not None:  # over every row (a superset of the units with an arm: no filter to evaluate)
            facts.update({f"bad_{k}": v.cast("int64").sum() for k, v in plan[1].items()})
            facts.update({f"blank_{j}": e.isnull().cast("int64").sum() for j, e in enumerate(plan[0].values())})
        try:
            got = cxdata.to_pandas(t.aggregate(**facts), name=name).iloc[0]
        except cxdata.CXDataError:  # an engine error: raise it as the separate checks always have
            cxdata.check_not_empty(raw, name=name)
            if check_units:
                cxdata.check_unique(raw, unit, name=name)
            got = {"n": 1, "no_arm": cxdata.to_pandas(no_arm.cast("int64").sum(), name=name), "ids": 0, "distinct": 0}
            check_units = False
            plan = None
        checked = plan is not None and all(int(got[f"bad_{k}"] or 0) == 0 for k in plan[1])
        never_null = frozenset(col for j, col in enumerate(plan[0]) if int(got[f"blank_{j}"] or 0) == 0) \
            if checked else frozenset()
        n_rows = int(got["n"])
        if n_rows == 0:
            cxdata.check_not_empty(raw, name=name)
        if check_units:
            n_ids, n_distinct = int(got["ids"]), int(got["distinct"] or 0)
            # a repeated id, more than one blank id, or (distinct hashes) a collision: the exact check
            if n_ids != n_distinct or n_rows - n_ids > 1:
                cxdata.check_unique(raw, unit, name=name)
        n_no_arm = int(got["no_arm"] if pd.notna(got["no_arm"]) else 0)
        unfiltered = t
        t = t.filter(~no_arm)
        caps = _cap_thresholds(t, ms, cap, name) if cap is not None else {}
        if seg_rows:  # counts of a one-pass attempt that did not finish are not used
            seg_rows.clear()
        fused = (_fused_parts(t, sms, by, variant, name, caps, cleaned=plan[0] if checked else None,
                              never_null=never_null, unfiltered=unfiltered, nullify=True, seg_rows=seg_rows)
                 if sms else None)
    parts, arm_counts = fused if fused is not None else (None, None)
    seg_notes: list = []
    if text_by:
        # case variants of a segment value are one segment: the rows per spelling come from the aggregate
        # when it covered every row (no query), else from the segments' own (cached) query
        label = cxdata.source_name(raw, name)
        rows = (seg_rows or {}).get("rows") if parts is not None else None
        swaps = {c: segments.case_merges(rows[[c, "rows__"]].set_axis(["v", "n"], axis=1) if rows is not None
                                         else segments.spellings(whole, c, name=label), c, label=label,
                                         notes=seg_notes) for c in text_by}
        swaps = {c: sw for c, sw in swaps.items() if sw}
        if swaps:
            t = t.mutate(**{c: t[c].substitute(sw) for c, sw in swaps.items()})
            if parts is not None:  # sums and counts: the merged segment's are the sums of its spellings'
                parts = [segments.merge_sums(p, swaps, [*by, "variant", "metric", "kind"]) for p in parts]
    for m in (sms if parts is None else []):
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
            y = _capped(tm[m.column].cast("float64"), m.column, caps if m.kind == "mean" else None)
        tm = tm.mutate(_y=y)
        keep = tm["_y"].notnull()
        aggs = {}
        if m.kind == "ratio":
            tm = cxdata.clean_numeric(tm, m.denominator, lo=0, name=name)
            tm = tm.mutate(_d=tm[m.denominator].cast("float64"))
            keep = tm["_y"].notnull() & tm["_d"].notnull()
        for j, x in enumerate(m.covariates):
            tm = cxdata.clean_numeric(tm, x, name=name)
            tm = tm.mutate(**{f"_x{j}": _capped(tm[x].cast("float64"), x, caps if m.kind == "mean" else None)})
            keep = keep & tm[f"_x{j}"].notnull()
        tm = tm.filter(keep)
        aggs.update(n=tm.count(), sum=tm["_y"].sum(), sum_squares=(tm["_y"] * tm["_y"]).sum())
        if m.kind == "ratio":
            aggs.update(den_sum=tm["_d"].sum(), den_sum_squares=(tm["_d"] * tm["_d"]).sum(),
                        sum_products=(tm["_y"] * tm["_d"]).sum())
        if m.covariates:
            aggs.update(_cov_aggs([tm[f"_x{j}"] for j in range(len(m.covariates))], tm["_y"],
                                  tm["_d"] if m.kind == "ratio" else None))
        part = cxdata.to_pandas(tm.group_by([*by, variant]).aggregate(**aggs), name=name)
        if part.empty or int(part["n"].sum()) == 0:
            label = cxdata.source_name(t, name)
            raise cxdata.CXDataError(f"{label}: metric column '{m.column}' has no values in any unit (every "
                                     "row is blank).", source=label, column=m.column)
        part = part.rename(columns={variant: "variant"})
        part.insert(len(by) + 1, "metric", m.name)
        part.insert(len(by) + 2, "kind", m.kind)
        parts.append(part)
    if qms:
        parts = (parts or []) + _quantile_parts(t, qms, by, variant, name, cleaned=plan[0] if checked else None)
    out = pd.concat(parts, ignore_index=True)
    out["n"] = out["n"].astype("int64")
    out = out.sort_values([*by, "metric", "variant"], kind="mergesort").reset_index(drop=True)
    _check_arm_case(out["variant"], variant, name or cxdata.source_name(raw))
    out.attrs["units_without_variant"] = n_no_arm
    if arm_counts is not None:
        out.attrs["arm_counts"] = arm_counts
    if any(m.covariates for m in ms):
        out.attrs["covariates"] = {m.name: list(m.covariates) for m in ms if m.covariates}
    if caps:
        out.attrs["caps"] = {m.name: caps[m.column] for m in ms if m.kind == "mean" and m.column in caps}
        covariate_caps = {m.name: {x: caps[x] for x in m.covariates if x in caps} for m in ms if m.kind == "mean"}
        out.attrs["covariate_caps"] = {k: v for k, v in covariate_caps.items() if v}
    out.attrs["notes"] = ([f"{n_no_arm:,} unit{'s have' if n_no_arm > 1 else ' has'} no variant and "
                           f"{'are' if n_no_arm > 1 else 'is'} left out of every comparison."] if n_no_arm else [])
    out.attrs["notes"] += seg_notes
    out.attrs["by"] = list(by)
    return out


#: Confidence of the per-arm order-statistic interval behind a quantile's standard error.
_QUANTILE_LEVEL = 0.95


def _quantile_parts(t, qms, by, variant, name, cleaned=None):
    """Per-arm quantile and its distribution-free standard error for 'quantile' metrics (one engine query).

    In the engine, for each [segment x] arm: the values in order (``row_number`` over a window), their
    count n, and only the few order statistics needed come back: Y_(f), Y_(c) with f = floor(h),
    c = ceil(h), h = (n - 1) q + 1 (the linear interpolation of numpy's default and DuckDB's
    ``quantile_cont``), and Y_(l), Y_(u) with l = max(1, floor(n q - z sqrt(n q (1 - q)))),
    u = min(n, ceil(n q + z sqrt(n q (1 - q))) + 1), z the 95% normal quantile. [Y_(l), Y_(u)] is a
    distribution-free interval for the arm's q-quantile with exact coverage P(l <= B <= u - 1),
    B ~ Binomial(n, q); its width gives the standard error (Y_(u) - Y_(l)) / (2 z*) with z* the normal
    quantile of that exact coverage (McKean & Schrader 1984; Price & Bonett 2002 for differences of
    medians). Returns summary rows with ``n``, ``quantile_value``, ``quantile_se``.
    """
    z = stats.norm.ppf(0.5 + _QUANTILE_LEVEL / 2)
    grp = [*by, variant]
    pieces = []
    for i, m in enumerate(qms):
        if cleaned is not None and m.column in cleaned:
            tm = t.mutate(_qy=cleaned[m.column])
        else:
            tm = cxdata.clean_numeric(t, m.column, name=name)
            tm = tm.mutate(_qy=tm[m.column].cast("float64"))
        tm = tm.filter(tm["_qy"].notnull())
        tm = tm.mutate(_r=ibis.row_number().over(ibis.window(group_by=grp, order_by=tm["_qy"])) + 1,
                       _n=tm["_qy"].count().over(ibis.window(group_by=grp)))
        q = float(m.quantile)
        nf = tm["_n"].cast("float64")
        h = (nf - 1) * q + 1
        half = z * (nf * q * (1 - q)).sqrt()
        lo = (nf * q - half).floor().cast("int64")
        hi = ((nf * q + half).ceil() + 1).cast("int64")
        tm = tm.mutate(_f=h.floor().cast("int64"), _c=h.ceil().cast("int64"),
                       _l=ibis.greatest(lo, 1), _u=ibis.least(hi, tm["_n"]))
        tm = tm.filter((tm["_r"] == tm["_f"]) | (tm["_r"] == tm["_c"]) | (tm["_r"] == tm["_l"]) | (tm["_r"] == tm["_u"]))
        pieces.append(tm.select(*grp, _i=ibis.literal(i, "int64"), _r=tm["_r"].cast("int64"),
                                _n=tm["_n"].cast("int64"), _qy=tm["_qy"], _f=tm["_f"], _c=tm["_c"],
                                _l=tm["_l"], _u=tm["_u"]))
    allq = pieces[0] if len(pieces) == 1 else ibis.union(*pieces)
    got = cxdata.to_pandas(allq, name=name)
    parts = []
    for i, m in enumerate(qms):
        mine = got[got["_i"] == i]
        if mine.empty:
            label = cxdata.source_name(t, name)
            raise cxdata.CXDataError(f"{label}: metric column '{m.column}' has no values in any unit (every "
                                     "row is blank).", source=label, column=m.column)
        rows = []
        for key, g in mine.groupby(grp, sort=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            val = dict(zip(g["_r"].astype(int), g["_qy"].astype(float)))
            r0 = g.iloc[0]
            n, f, c, lo_r, hi_r = (int(r0[k]) for k in ("_n", "_f", "_c", "_l", "_u"))
            h = (n - 1) * m.quantile + 1
            est = val[f] + (h - f) * (val[c] - val[f])
            cover = stats.binom.cdf(hi_r - 1, n, m.quantile) - stats.binom.cdf(lo_r - 1, n, m.quantile)
            zs = stats.norm.ppf(0.5 + cover / 2) if cover > 0 else np.nan
            if val[hi_r] == val[lo_r]:  # ties at the quantile: no width to turn into a standard error
                label = cxdata.source_name(t, name)
                arm = dict(zip(grp, key))[variant]
                raise cxdata.CXDataError(
                    f"{label}: the {m.name.split(' ')[-1]} of '{m.column}' in arm '{arm}' sits on a run of tied "
                    f"values (its 95% interval is {val[lo_r]:g} to {val[hi_r]:g}, n = {n:,}): a quantile of a "
                    "rating scale or a small count cannot show a difference. Compare the mean (kind 'mean') or "
                    "a share (kind 'proportion') instead.", source=label, column=m.column)
            se = (val[hi_r] - val[lo_r]) / (2 * zs) if zs > 0 else np.nan
            rows.append({**dict(zip(grp, key)), "n": n, "quantile_value": float(est), "quantile_se": float(se)})
        part = pd.DataFrame(rows).rename(columns={variant: "variant"})
        part.insert(len(by) + 1, "metric", m.name)
        part.insert(len(by) + 2, "kind", m.kind)
        part["quantile"] = m.quantile
        parts.append(part)
    return parts


def _cap_thresholds(t, ms, cap, name):
    """The ``cap`` quantile of every 'mean' metric column and its covariates over all units with an arm
    (one engine query)."""
    if not 0 < float(cap) < 1:
        raise cxdata.CXDataError(f"cap must be a quantile between 0 and 1 (e.g. 0.99), not {cap!r}.")
    # the covariates of a mean metric are capped by the same rule, at their own quantile
    cols = list(dict.fromkeys(c for m in ms if m.kind == "mean" for c in (m.column, *m.covariates)))
    if not cols:
        return {}
    tc = t
    for col in cols:
        tc = cxdata.clean_numeric(tc, col, name=name)
    got = cxdata.to_pandas(tc.aggregate(**{f"q{i}": tc[c].cast("float64").quantile(float(cap))
                                           for i, c in enumerate(cols)}), name=name).iloc[0]
    return {c: float(got[f"q{i}"]) for i, c in enumerate(cols) if pd.notna(got[f"q{i}"])}


def _arm(row, kind, theta=None, pre_mean=None):
    """Mean (or ratio, or quantile) of one arm and the variance of that estimate."""
    if kind == "quantile":
        return float(row["quantile_value"]), float(row["quantile_se"]) ** 2, np.nan
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


def _group_k(g) -> int:
    """How many covariates a metric's summary rows carry (0: no adjustment)."""
    if "x0_sum" in g and g["x0_sum"].notna().all():
        k = 0
        while f"x{k}_sum" in g and g[f"x{k}_sum"].notna().all():
            k += 1
        return k
    return 1 if "pre_sum" in g and g["pre_sum"].notna().all() else 0


def _moments(row, k: int, ratio: bool) -> dict:
    """Per-arm sums of a summary row as arrays: n, y (sum, squares), d, x vector, cross-products."""
    sums, yp, dp, cross = _cov_names(k)
    sxx = np.empty((k, k))
    for (j, m), nm in cross.items():
        sxx[j, m] = sxx[m, j] = float(row[nm])
    mo = {"n": float(row["n"]), "sy": float(row["sum"]), "syy": float(row["sum_squares"]),
          "sx": np.array([float(row[c]) for c in sums]), "sxx": sxx,
          "sxy": np.array([float(row[c]) for c in yp])}
    if ratio:
        if dp[0] not in row or pd.isna(row[dp[0]]):
            raise cxdata.CXDataError("ratio metrics with covariates need the denominator x covariate products "
                                     f"({', '.join(dp)}) in the summary.")
        mo.update(sd=float(row["den_sum"]), sdd=float(row["den_sum_squares"]), syd=float(row["sum_products"]),
                  sxd=np.array([float(row[c]) for c in dp]))
    return mo


def _cov(n, sa, sb, ma, mb):
    """Sample covariance (n - 1) from sums: (sum ab - n ma mb) / (n - 1) (arrays broadcast)."""
    return (sa - n * np.multiply.outer(ma, mb)) / (n - 1) if np.ndim(ma) and np.ndim(mb) else (sa - n * ma * mb) / (n - 1)


def _solve(a, b):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:  # collinear covariates: the minimum-norm solution
        return np.linalg.lstsq(a, b, rcond=None)[0]


def _adjusted_arm(mo, kind, theta_y, theta_d, x_mean, lin: bool):
    """Regression-adjusted mean (or ratio) of one arm and the variance of that estimate.

    CUPED (``lin=False``): pooled slopes ``theta``; estimate ybar - theta'(xbar - x_mean), variance
    var(y - theta'x) / n. Lin (``lin=True``): the arm's own OLS slopes; the variance is the classical
    OLS variance of the arm's intercept with covariates centred at ``x_mean``:
    SSR / (n - K - 1) * (1/n + d' S^-1 d), d = xbar - x_mean, S the arm's centred cross-products.
    Ratios adjust numerator and denominator means and linearise: var(u - theta_u'x) / (n dbar*^2) with
    u = y - R d, theta_u = theta_y - R theta_d.
    """
    n, k = mo["n"], len(mo["sx"])
    yb, xb = mo["sy"] / n, mo["sx"] / n
    var_y = max((mo["syy"] - n * yb * yb) / (n - 1), 0.0)
    cxx = (mo["sxx"] - n * np.outer(xb, xb)) / (n - 1)
    cxy = (mo["sxy"] - n * xb * yb) / (n - 1)
    dev = xb - x_mean
    if lin:
        theta_y = _solve(cxx, cxy)
    if kind == "ratio":
        db = mo["sd"] / n
        var_d = (mo["sdd"] - n * db * db) / (n - 1)
        cov_yd = (mo["syd"] - n * yb * db) / (n - 1)
        cxd = (mo["sxd"] - n * xb * db) / (n - 1)
        if lin:
            theta_d = _solve(cxx, cxd)
        y_adj, d_adj = yb - theta_y @ dev, db - theta_d @ dev
        est = y_adj / d_adj
        var_u = var_y - 2 * est * cov_yd + est * est * var_d
        cxu = cxy - est * cxd
        th = theta_y - est * theta_d
        s2 = var_u - 2 * th @ cxu + th @ cxx @ th
        scale = d_adj ** 2
    else:
        est = yb - theta_y @ dev
        s2 = var_y - 2 * theta_y @ cxy + theta_y @ cxx @ theta_y
        scale = 1.0
    s2 = max(float(s2), 0.0)
    if lin:
        v = s2 * (n - 1) / (n - k - 1) * (1 / n + dev @ _solve(cxx, dev) / (n - 1)) if n > k + 1 else np.nan
    else:
        v = s2 / n
    return float(est), float(v) / scale


def _welch(mt, vt, nt, mc, vc, nc, kind, alpha, z):
    """Difference, its SE, the interval quantile and the p-value (Welch t; normal for ratios)."""
    diff = mt - mc
    se = np.sqrt(vt + vc)
    if kind in ("ratio", "quantile"):
        dof = np.inf
    else:
        dof = (vt + vc) ** 2 / ((vt ** 2 / (nt - 1)) + (vc ** 2 / (nc - 1))) if (vt + vc) > 0 else np.inf
    tq = stats.t.ppf(1 - alpha / 2, dof) if np.isfinite(dof) else z
    p = 2 * stats.t.sf(abs(diff / se), dof) if se > 0 else np.nan
    return diff, se, tq, p


def confidence_sequence(estimate, se, n, *, alpha: float = 0.05, n_opt=None):
    """Asymptotic confidence sequence and always-valid p-value for an estimate from ``n`` observations.

    The normal-mixture boundary (Robbins 1970; Howard et al. 2021, eq. (14)) in the asymptotic form of
    Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2023), "Time-uniform central limit theory and
    asymptotic confidence sequences", Thm 2.2. With ``sigma^2 = n se^2`` the per-observation variance of
    the estimate (for a difference of two arm means, ``se^2 = v_t + v_c`` and ``n = n_t + n_c``):

        estimate ± se * sqrt( 2 (n rho^2 + 1) / (n rho^2) * log( sqrt(n rho^2 + 1) / alpha ) )

    This is Ville's inequality applied to the Gaussian mixture (mixing N(0, rho^2) over lambda) of
    exp(lambda S_n / sigma - lambda^2 n / 2): the mixture is sqrt(1 + n rho^2)^-1 exp(rho^2 (S_n/sigma)^2 /
    (2 (1 + n rho^2))) and crosses 1/alpha with probability at most alpha over all n. The tuning constant

        rho^2 = (-2 log alpha + log(1 - 2 log alpha)) / n_opt

    makes the sequence tightest at ``n = n_opt`` (minimising (1 + 1/a)(log(1 + a) - 2 log alpha) over
    a = n rho^2 gives a = log(1 + a) - 2 log alpha; one fixed-point step from a = -2 log alpha is the
    closed form above). ``n_opt`` must be fixed before the looks (the planned total sample size); the
    default, the current ``n``, is right for a single look. The always-valid p-value is the inverse of
    the mixture martingale at the same rho, ``min(1, sqrt(1 + a) exp(-a z^2 / (2 (1 + a))))`` with
    ``z = estimate / se``: below ``alpha`` exactly when the sequence excludes 0.

    Parameters
    ----------
    estimate, se, n : float or array
        Estimates, their standard errors and the number of observations behind each.
    alpha : float
        Error probability over all looks together.
    n_opt : float or array, optional
        Sample size at which the sequence is tightest (default ``n``).

    Returns
    -------
    (lower, upper, p_always_valid) : arrays

    Examples
    --------
    >>> lo, hi, p = confidence_sequence(0.02, 0.008, 10_000, n_opt=10_000)
    >>> round(float(lo), 4), round(float(hi), 4), round(float(p), 3)
    (-0.0043, 0.0443, 0.186)
    """
    est, se, n = (np.asarray(a, dtype=float) for a in (estimate, se, n))
    n_opt = n if n_opt is None else np.asarray(n_opt, dtype=float)
    big_l = -2 * np.log(alpha)
    a = n * (big_l + np.log1p(big_l)) / n_opt
    with np.errstate(divide="ignore", invalid="ignore"):
        half = se * np.sqrt(2 * (a + 1) / a * np.log(np.sqrt(a + 1) / alpha))
        zz = est / se
        p = np.minimum(1.0, np.sqrt(1 + a) * np.exp(-a * zz * zz / (2 * (1 + a))))
    return est - half, est + half, p


def _fieller(mt, vt, mc, vc, z):
    """Fieller interval for mt / mc - 1 (independent arms); NaN when it is unbounded (mc not clearly
    away from zero: mc^2 <= z^2 vc)."""
    qa = mc * mc - z * z * vc
    qb = -2 * mt * mc
    qc = mt * mt - z * z * vt
    disc = qb * qb - 4 * qa * qc
    if not qa > 0 or disc < 0:
        return np.nan, np.nan
    r = np.sqrt(disc)
    return (-qb - r) / (2 * qa) - 1, (-qb + r) / (2 * qa) - 1


def _plain_value(row, kind) -> float:
    """An arm's unadjusted mean (ratio, quantile) from its summary row; NaN without units."""
    if not float(row["n"]) > 0:
        return np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(_arm(row, kind)[0])


def _not_measured_row(*, seg, metric, kind, meta, cuped, k, sequential, variant, n_control, n_variant,
                      control_value=np.nan, variant_value=np.nan) -> dict:
    """The row of a comparison in which an arm has no measured unit: the units and the measured arm's
    value, no estimate (every difference, interval and p-value NaN)."""
    nan = np.nan
    row = {**seg, "metric": metric, "kind": kind, "variant": variant, "n_control": int(n_control),
           "n_variant": int(n_variant), "control_value": control_value, "variant_value": variant_value,
           "abs_diff": nan, "abs_ci_lower": nan, "abs_ci_upper": nan, "rel_lift": nan, "rel_ci_lower": nan,
           "rel_ci_upper": nan, "p_value": nan, "prob_better": nan, "expected_loss": nan,
           "direction": meta.direction, "margin": meta.margin, "guardrail": meta.guardrail, "cuped": bool(cuped),
           "variance_reduction": nan}
    if cuped:
        row.update(raw_abs_diff=nan, raw_ci_lower=nan, raw_ci_upper=nan, raw_p_value=nan, n_covariates=k)
    if sequential:
        row.update(cs_lower=nan, cs_upper=nan, p_always_valid=nan)
    return row


FAMILIES = ("all", "metric")
ADJUSTMENTS = ("cuped", "lin")
LIFT_CIS = ("delta", "fieller")


def _row_key(values) -> str:
    return "\x1f".join(str(v) for v in values)


def compare_summary(summary: pd.DataFrame, *, control: str, metrics=None, alpha: float = 0.05,
                    correction: str = "holm", by=None, sequential: bool = False, n_opt=None,
                    adjustment: str = "cuped", lift_ci: str = "delta", correction_family: str = "all",
                    arms=None) -> pd.DataFrame:
    """Compare every treatment variant with ``control`` from per-variant sufficient statistics.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per [segment x] variant x metric: ``variant``, ``metric``, ``n``, ``sum``,
        ``sum_squares`` (+ ratio and covariate columns, see :func:`summary_statistics`) and ``kind``
        (or give ``metrics``).
    control : str
        The control variant.
    metrics : mapping or list of Metric, optional
        Kinds, guardrails and directions (default: ``kind`` column, all 'increase', no guardrails).
    correction : {'holm', 'bonferroni', 'fdr_bh', 'none'}
        Multiple-comparison adjustment over the family (see ``correction_family``).
    by : str or list of str, optional
        Segment columns of the summary.
    sequential : bool
        Add an always-valid confidence sequence for the absolute difference (``cs_lower``,
        ``cs_upper``, same units as ``abs_diff``) and ``p_always_valid`` (see
        :func:`confidence_sequence`), valid however often the results are looked at; then
        ``p_adjusted``, ``significant``, ``decision`` and the guardrail columns use them instead of the
        fixed-horizon test.
    n_opt : int or mapping, optional
        Planned total units (control + variant) at which the sequence is tightest: one number, or
        ``{variant: n}``. Default: the current total, right for one look; fix it in advance when
        monitoring (``cumulative(sequential=True)`` uses the final total).
    adjustment : {'cuped', 'lin'}
        How covariates adjust (when the summary has covariate columns). 'cuped': one pooled slope
        vector ``theta = Sxx^-1 Sxy`` from the cross-products of all arms together (centred at the pooled
        covariate means); with one covariate exactly the historical CUPED numbers. 'lin': Lin (2013),
        each arm its own slopes (y ~ arm x centred covariates); the point estimate equals statsmodels OLS
        with treatment x centred-covariate interactions and the standard error equals its classical
        (non-robust) OLS standard error fitted per arm (the interacted model with an arm-specific residual
        variance; asymptotically the HC standard error Lin recommends).
    lift_ci : {'delta', 'fieller'}
        Interval of the relative lift: delta method (default) or Fieller's exact interval for a ratio of
        independent normal means (NaN bounds when the control mean is not clearly away from zero).
    correction_family : {'all', 'metric'}
        Adjust over everything (metrics x variants x segments) or separately within each metric.
    arms : list of str, optional
        Every arm of the experiment (:func:`compare` passes the arms with units). An arm without a row
        for a metric (no measured unit: every value blank) gets a 'not measured' row (below). Default:
        the arms in the summary; with ``by``, each segment's arms are those in its rows.

    Returns
    -------
    pandas.DataFrame
        One row per metric x treatment variant: ``metric``, ``kind``, ``variant``, ``n_control``,
        ``n_variant``, ``control_value``, ``variant_value`` (NPS in points), ``abs_diff``,
        ``abs_ci_lower``, ``abs_ci_upper``, ``rel_lift``, ``rel_ci_lower``, ``rel_ci_upper``,
        ``p_value``, ``p_adjusted``, ``significant``, ``prob_better`` and ``expected_loss`` (Bayesian reading,
        flat prior, normal approximation: chance the variant is better, and the expected shortfall in
        the metric's units if it is shipped and is in fact worse), ``direction``, ``guardrail``,
        ``guardrail_breach``, ``decision`` ('win' | 'loss' | 'inconclusive' | 'guardrail breached' | 'blocked by guardrail': a
        win of a variant that broke a guardrail in the same segment | 'not measured': the control or the
        variant has no measured unit for the metric, so ``n_control`` or ``n_variant`` is 0, the other
        arm's value is shown and every estimate, interval and p-value is NaN, outside the correction
        family; ``attrs['notes']`` holds a ``metric_not_measured_in_arm`` Note with ``metric``,
        ``variant`` (the arm without units), ``control`` and ``segment`` ({column: value}, or None)),
        ``cuped``,
        ``variance_reduction``. With covariates: ``raw_abs_diff``, ``raw_ci_lower``, ``raw_ci_upper``,
        ``raw_p_value`` (the unadjusted comparison beside the adjusted one) and ``n_covariates``. With
        ``sequential=True``: ``cs_lower``, ``cs_upper``, ``p_always_valid``. ``attrs['se']`` holds the
        standard error of each row's ``abs_diff`` (in the metric's units) and ``attrs['se_keys']`` the
        row's segments, metric and variant joined by ``"\\x1f"`` (used by :func:`heterogeneity`).

    Examples
    --------
    >>> s = pd.DataFrame({"variant": ["control", "b"], "metric": "m", "kind": "mean", "n": [1000, 1000],
    ...                   "sum": [10_000.0, 10_300.0], "sum_squares": [109_000.0, 115_090.0]})
    >>> r = compare_summary(s, control="control", sequential=True).iloc[0]
    >>> bool(r["cs_lower"] < r["abs_ci_lower"] < r["abs_diff"])
    True
    """
    if correction not in CORRECTIONS:
        raise cxdata.CXDataError(f"correction must be one of {', '.join(CORRECTIONS)}, not {correction!r}.")
    for arg, val, allowed in (("adjustment", adjustment, ADJUSTMENTS), ("lift_ci", lift_ci, LIFT_CIS),
                              ("correction_family", correction_family, FAMILIES)):
        if val not in allowed:
            raise cxdata.CXDataError(f"{arg} must be one of {', '.join(allowed)}, not {val!r}.")
    by = cxdata.as_list(by)
    s = summary.copy()
    s.attrs = {}  # pandas deep-copies attrs on every operation; none are needed below
    info: dict[str, Metric] = {}
    if metrics is not None:
        info = {m.name: m for m in _normalize(metrics)}
    if "kind" not in s:
        if not info:
            raise cxdata.CXDataError("the summary has no 'kind' column: pass metrics= with the kinds.")
        s["kind"] = s["metric"].map(lambda name: info[name].kind)
    variants = set(s["variant"].astype(str))
    arms = [str(a) for a in cxdata.as_list(arms)] if arms is not None else []
    if control not in variants | set(arms):
        raise cxdata.CXDataError(f"control variant {control!r} not found; variants: {', '.join(sorted(variants))}.")
    z = stats.norm.ppf(1 - alpha / 2)
    rows, notes = [], []
    ses = {}
    any_adjusted = False
    # the arms each metric is compared across: every arm (of the segment, with by); one without a row for
    # a metric had no measured unit and gets a row without an estimate, never silently dropped
    if by:
        seg_arms = {(k if isinstance(k, tuple) else (k,)): list(dict.fromkeys(v.astype(str)))
                    for k, v in s.groupby(by, sort=False)["variant"]}
    else:
        seg_arms = {(): list(dict.fromkeys([*s["variant"].astype(str), *arms]))}
    groups = s.groupby([*by, "metric"], sort=False) if by else s.groupby("metric", sort=False)
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        metric_name = key[-1]
        kind = g["kind"].iloc[0]
        meta = info.get(metric_name, Metric(metric_name if kind != "ratio" else metric_name.split("/")[0],
                                            kind, denominator="_" if kind == "ratio" else None))
        scale = 100.0 if kind == "nps" else 1.0
        k = _group_k(g)
        cuped = k > 0
        any_adjusted = any_adjusted or cuped
        # one covariate, CUPED, not a ratio: the historical scalar arithmetic (bit-identical numbers)
        classic = k == 1 and adjustment == "cuped" and kind != "ratio"
        theta = pre_mean = None
        reduction = np.nan
        if classic:
            n_all = g["n"].sum()
            my = g["sum"].sum() / n_all
            pre_mean = g["pre_sum"].sum() / n_all
            cov = (g["pre_sum_products"].sum() - n_all * my * pre_mean) / (n_all - 1)
            var_x = (g["pre_sum_squares"].sum() - n_all * pre_mean ** 2) / (n_all - 1)
            var_y = (g["sum_squares"].sum() - n_all * my ** 2) / (n_all - 1)
            theta = cov / var_x if var_x > 0 else 0.0
            reduction = (cov * cov / (var_x * var_y)) if var_x > 0 and var_y > 0 else 0.0
        elif cuped:
            mos = {i: _moments(r, k, kind == "ratio") for i, r in g.iterrows()}
            tot = {f: sum(mo[f] for mo in mos.values()) for f in next(iter(mos.values()))}
            n_all = tot["n"]
            x_mean, my = tot["sx"] / n_all, tot["sy"] / n_all
            cxx = (tot["sxx"] - n_all * np.outer(x_mean, x_mean)) / (n_all - 1)
            cxy = (tot["sxy"] - n_all * x_mean * my) / (n_all - 1)
            th_y = _solve(cxx, cxy)
            th_d = None
            if kind == "ratio":
                md = tot["sd"] / n_all
                th_d = _solve(cxx, (tot["sxd"] - n_all * x_mean * md) / (n_all - 1))
            elif adjustment == "cuped":
                var_y = (tot["syy"] - n_all * my ** 2) / (n_all - 1)
                reduction = float(cxy @ th_y / var_y) if var_y > 0 else 0.0
        seg = dict(zip(by, key[:-1]))
        here = set(g["variant"].astype(str))
        missing = [v for v in seg_arms.get(tuple(key[:-1]), []) if v not in here]
        blank = dict(seg=seg, metric=metric_name, kind=kind, meta=meta, cuped=cuped, k=k, sequential=sequential)
        notes += [note("metric_not_measured_in_arm", metric=metric_name, variant=v, control=control,
                       segment=seg or None) for v in missing]
        ctrl = g[g["variant"].astype(str) == control]
        if ctrl.empty:  # no control unit measured: each variant's own value, no comparison
            rows += [_not_measured_row(**blank, variant=r["variant"], n_control=0, n_variant=int(r["n"]),
                                       variant_value=scale * _plain_value(r, kind)) for _, r in g.iterrows()]
            rows += [_not_measured_row(**blank, variant=v, n_control=0, n_variant=0) for v in missing if v != control]
            continue
        c = ctrl.iloc[0]
        if cuped and not classic:
            mc, vc = _adjusted_arm(mos[ctrl.index[0]], kind, th_y, th_d, x_mean, adjustment == "lin")
        else:
            mc, vc, _ = _arm(c, kind, theta, pre_mean)
        if cuped:
            mc_raw, vc_raw, _ = _arm(c, kind)
        for idx, r in g[g["variant"].astype(str) != control].iterrows():
            if cuped and not classic:
                mt, vt = _adjusted_arm(mos[idx], kind, th_y, th_d, x_mean, adjustment == "lin")
            else:
                mt, vt, _ = _arm(r, kind, theta, pre_mean)
            diff, se, tq, p = _welch(mt, vt, r["n"], mc, vc, c["n"], kind, alpha, z)
            lift = mt / mc - 1 if mc != 0 else np.nan
            se_lift = np.sqrt(vt / mc ** 2 + mt ** 2 * vc / mc ** 4) if mc != 0 else np.nan
            sign = 1 if meta.direction == "increase" else -1
            prob_better = stats.norm.cdf(sign * diff / se) if se > 0 else np.nan
            # expected loss of shipping the variant (in the metric's units): E[max(0, -sign * D)], D ~ N(diff, se²)
            dd = sign * diff
            exp_loss = (se * stats.norm.pdf(dd / se) - dd * stats.norm.cdf(-dd / se)) if se > 0 else np.nan
            rel_lo, rel_hi = lift - z * se_lift, lift + z * se_lift
            if lift_ci == "fieller":
                rel_lo, rel_hi = _fieller(mt, vt, mc, vc, z)
            red = reduction
            extra = {}
            if cuped:
                mt_raw, vt_raw, _ = _arm(r, kind)
                rd, rse, rtq, rp = _welch(mt_raw, vt_raw, r["n"], mc_raw, vc_raw, c["n"], kind, alpha, z)
                extra = {"raw_abs_diff": scale * rd, "raw_ci_lower": scale * (rd - rtq * rse),
                         "raw_ci_upper": scale * (rd + rtq * rse), "raw_p_value": rp, "n_covariates": k}
                if not classic and (kind == "ratio" or adjustment == "lin"):
                    red = 1 - (vt + vc) / (vt_raw + vc_raw) if vt_raw + vc_raw > 0 else np.nan
            if sequential:
                if isinstance(n_opt, dict):
                    plan = n_opt.get(r["variant"], n_opt.get(str(r["variant"])))
                else:
                    plan = n_opt
                lo, hi, pav = confidence_sequence(diff, se, float(r["n"] + c["n"]), alpha=alpha, n_opt=plan)
                extra.update(cs_lower=scale * float(lo), cs_upper=scale * float(hi), p_always_valid=float(pav))
            seg = dict(zip(by, key[:-1]))
            ses[_row_key([*key[:-1], metric_name, r["variant"]])] = scale * float(se)
            rows.append({**seg, "metric": metric_name, "kind": kind, "variant": r["variant"],
                         "n_control": int(c["n"]), "n_variant": int(r["n"]),
                         "control_value": scale * mc, "variant_value": scale * mt, "abs_diff": scale * diff,
                         "abs_ci_lower": scale * (diff - tq * se), "abs_ci_upper": scale * (diff + tq * se),
                         "rel_lift": lift, "rel_ci_lower": rel_lo, "rel_ci_upper": rel_hi,
                         "p_value": p, "prob_better": prob_better, "expected_loss": scale * exp_loss,
                         "direction": meta.direction, "margin": meta.margin,
                         "guardrail": meta.guardrail, "cuped": bool(cuped), "variance_reduction": red, **extra})
        rows += [_not_measured_row(**blank, variant=v, n_control=int(c["n"]), n_variant=0, control_value=scale * mc)
                 for v in missing]
    out = pd.DataFrame(rows)
    if out.empty:
        raise cxdata.CXDataError(f"no treatment variant to compare with {control!r}.")
    p_col = "p_always_valid" if sequential else "p_value"
    ok = out[p_col].notna()
    out["p_adjusted"] = out[p_col]
    if correction != "none":
        fams = [ok] if correction_family == "all" else [ok & (out["metric"] == m) for m in out["metric"].unique()]
        for fam in fams:
            if fam.sum() > 1:
                out.loc[fam, "p_adjusted"] = adjust_p(out.loc[fam, p_col].to_numpy(float), correction)
    out["significant"] = out["p_adjusted"] < alpha
    good = np.where(out["direction"] == "increase", out["abs_diff"] > 0, out["abs_diff"] < 0)
    out["decision"] = np.where(out["significant"], np.where(good, "win", "loss"), "inconclusive")
    # a guardrail is breached when it is significantly worse before correction: harm is not excused
    # by the size of the family
    lo_col, hi_col = ("cs_lower", "cs_upper") if sequential else ("abs_ci_lower", "abs_ci_upper")
    m = out["margin"].abs()
    harm = np.where(out["direction"] == "increase", out[hi_col] < -m, out[lo_col] > m)
    out["guardrail_breach"] = out["guardrail"] & harm
    safe = np.where(out["direction"] == "increase", out[lo_col] > -m, out[hi_col] < m)
    out["non_inferior"] = out["guardrail"] & safe
    out.loc[out["guardrail_breach"], "decision"] = "guardrail breached"
    # a breach vetoes shipping the variant: its wins on other metrics (same segment) are not plain wins
    keys = [*by, "variant"]
    vetoed = out.groupby(keys, dropna=False, sort=False)["guardrail_breach"].transform("any").astype(bool)
    out.loc[vetoed & (out["decision"] == "win"), "decision"] = "blocked by guardrail"
    out.loc[out["n_control"].eq(0) | out["n_variant"].eq(0), "decision"] = NOT_MEASURED
    cols = [*by, "metric", "kind", "variant", "n_control", "n_variant", "control_value", "variant_value",
            "abs_diff", "abs_ci_lower", "abs_ci_upper", "rel_lift", "rel_ci_lower", "rel_ci_upper", "p_value",
            "p_adjusted", "significant", "prob_better", "expected_loss", "direction", "guardrail", "margin",
            "guardrail_breach", "non_inferior", "decision",
            "cuped", "variance_reduction"]
    if any_adjusted:
        cols += ["raw_abs_diff", "raw_ci_lower", "raw_ci_upper", "raw_p_value", "n_covariates"]
    if sequential:
        cols += ["cs_lower", "cs_upper", "p_always_valid"]
    out = out.reindex(columns=cols)
    out.attrs.update(alpha=alpha, correction=correction, control=control, notes=notes)
    # standard errors for heterogeneity(): flat tuples (cheap for pandas to copy and compare with attrs)
    out.attrs["se"] = tuple(ses.values())
    out.attrs["se_keys"] = tuple(ses)
    out.attrs["by"] = list(by)
    if sequential or adjustment != "cuped" or lift_ci != "delta" or correction_family != "all":
        out.attrs.update(sequential=sequential, adjustment=adjustment, lift_ci=lift_ci,
                         correction_family=correction_family)
    return out


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
            out.attrs["notes"].append(f"{metric_name} is capped at its {100 * float(cap):g}th percentile "
                                      f"({value:,.4g}): larger values count as {value:,.4g}.")
    out.attrs["units_without_variant"] = summary.attrs.get("units_without_variant", 0)
    # a sample-ratio mismatch means assignment or logging is broken: no comparison is a win or a loss
    counts = summary.attrs.get("arm_counts")  # units per arm from the aggregate query (no second scan)
    check = srm(data if counts is None else counts, variant=variant, expected=expected, threshold=srm_threshold)
    out.attrs["srm"] = check
    if check.p_value < srm_threshold:
        out["decision"] = NOT_INTERPRETABLE
        out.attrs["notes"].append(f"Sample ratio mismatch (chi-square p = {check.p_value:.2g}): the arms did not "
                                  "get their planned shares of units, so no result is interpretable.")
    return out


def _exposed_by(data, time, as_of, name):
    """The units exposed on or before the analysis date: (table, as_of, note on later units or None).

    ``time`` None: the contract's 'exposure_time' when the table has one, else nothing is left out (and
    ``as_of`` is None). A table without later units is returned as it was read (its queries unchanged)."""
    t = cxdata.as_table(data, name=name)
    column = time if time is not None else ("exposure_time" if "exposure_time" in t.columns else None)
    if column is None:
        return data, None, None
    cxdata.require_columns(t, [column], name=name)
    as_of = cxdata.default_as_of(as_of, data)
    t, late = cxdata.upto_as_of(t, column, as_of, name=name)
    return t, as_of, late


def _summary_or_why(data, source, time, as_of, late, *, name=None, **options) -> pd.DataFrame:
    """:func:`summary_statistics` of ``data``; when it finds nothing and later units were left out of
    ``source`` (``late``), the error says so instead (raised outside the handler: no chained traceback)."""
    try:
        return summary_statistics(data, name=name, **options)
    except cxdata.CXDataError as exc:
        failed = exc
    if late is not None:
        _nothing_exposed(source, time, as_of, name)
    raise failed


def _nothing_exposed(data, time, as_of, name) -> None:
    """Raise why a comparison has no units, when the reason is the data's: the table has no rows, or every
    unit was exposed after ``as_of`` (``time``, default 'exposure_time'); else return. One query, spent
    only on a comparison that failed (:func:`cxlib.empty.nothing_before`)."""
    t = cxdata.as_table(data, name=name)
    column = time if time is not None else ("exposure_time" if "exposure_time" in t.columns else None)
    nothing_before(t, column, cxdata.default_as_of(as_of, data), name=name, what="units exposed")


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


def _row_se(result: pd.DataFrame, df: pd.DataFrame, by) -> np.ndarray:
    """Standard error of each row's ``abs_diff``: the ``se`` column, else ``attrs['se']``, else from the
    interval with the normal quantile."""
    if "se" in df:
        return df["se"].to_numpy(float)
    stored = result.attrs.get("se")
    ses = dict(zip(result.attrs.get("se_keys", []), stored)) if stored is not None else {}
    key_cols = [df[c].to_numpy() for c in [*by, "metric", "variant"]]
    se = np.array([ses.get(_row_key(k), np.nan) for k in zip(*key_cols)], dtype=float)
    if np.isnan(se).any():  # no stored SEs: from the interval
        z = stats.norm.ppf(1 - result.attrs.get("alpha", 0.05) / 2)
        se = np.where(np.isnan(se), (df["abs_ci_upper"] - df["abs_ci_lower"]).to_numpy(float) / (2 * z), se)
    return se


def heterogeneity(result: pd.DataFrame, *, metric=None, segments=None) -> pd.DataFrame:
    """Does the treatment effect differ between segments? Cochran's Q per metric x variant.

    For each metric x treatment variant of a by-segment :func:`compare` (or :func:`compare_summary`)
    result, the segment estimates ``abs_diff`` (theta_i) with their standard errors s_i are combined with
    inverse-variance weights w_i = 1 / s_i^2: pooled effect theta = sum w theta / sum w (SE
    1 / sqrt(sum w)), ``q = sum w_i (theta_i - theta)^2``, which is chi-square with k - 1 degrees of
    freedom when the effect is the same in all k segments (an interaction test of treatment x segment
    from the segment summaries), ``i2 = max(0, (Q - df) / Q)`` (Higgins & Thompson 2002: share of the
    spread beyond chance) and the DerSimonian-Laird between-segment variance
    ``tau2 = max(0, (Q - df) / (sum w - sum w^2 / sum w))``. One test per metric x variant, so reading
    many segment cells does not multiply false alarms: check this before believing a segment story.

    Parameters
    ----------
    result : pandas.DataFrame
        A result with segment columns (``compare(..., by=...)``); the standard errors come from its
        ``se`` column if any, else ``attrs['se']``, else from the interval with the normal quantile.
    metric : str or list of str, optional
        Only these metrics.
    segments : str or list of str, optional
        The segment columns to test across (default: all of ``attrs['by']``, or the columns before
        ``metric``); other segment columns become separate tests (e.g. a test per country across plans).

    Returns
    -------
    pandas.DataFrame
        One row per [other segment columns x] metric x variant: ``segment`` (the column names joined with
        ", "), ``n_segments``, ``pooled_effect``, ``pooled_se``, ``q``, ``df``, ``p_value``, ``i2``,
        ``tau2``.

    Examples
    --------
    >>> res = compare("data/sample/experiment.csv", control="control", by="device",
    ...               metrics={"converted": "proportion"})  # doctest: +SKIP
    >>> heterogeneity(res)  # doctest: +SKIP
    """
    cols = list(result.columns)
    by = list(result.attrs.get("by") or cols[: cols.index("metric")] if "metric" in cols else [])
    segments = cxdata.as_list(segments) or by
    if not segments:
        raise cxdata.CXDataError("heterogeneity needs a by-segment result: compare(..., by='segment').")
    missing = [c for c in segments if c not in cols]
    if missing:
        raise cxdata.CXDataError(f"segment column(s) {', '.join(missing)} not in the result.")
    groups = [c for c in by if c not in segments]
    df = result if metric is None else result[result["metric"].isin(cxdata.as_list(metric))]
    se = _row_se(result, df, by)
    keys = [*groups, "metric", "variant"]
    d = df[keys].copy()
    w = 1 / se ** 2
    est = df["abs_diff"].to_numpy(float)
    good = np.isfinite(w) & np.isfinite(est)
    d = d.assign(w=w, wy=w * est, wyy=w * est * est, ww=w * w)[good]
    agg = d.groupby(keys, sort=False, dropna=False).agg(n_segments=("w", "size"), sw=("w", "sum"), swy=("wy", "sum"),
                                                        swyy=("wyy", "sum"), sww=("ww", "sum")).reset_index()
    agg = agg[agg["n_segments"] >= 2]
    q = np.maximum(agg["swyy"] - agg["swy"] ** 2 / agg["sw"], 0.0)
    dfree = agg["n_segments"] - 1
    out = agg[keys].copy()
    out.insert(len(keys), "segment", ", ".join(segments))
    out["n_segments"] = agg["n_segments"].astype(int)
    out["pooled_effect"] = agg["swy"] / agg["sw"]
    out["pooled_se"] = 1 / np.sqrt(agg["sw"])
    out["q"] = q
    out["df"] = dfree.astype(int)
    out["p_value"] = stats.chi2.sf(q, dfree)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["i2"] = np.where(q > 0, np.maximum(0.0, (q - dfree) / q), 0.0)
    out["tau2"] = np.maximum(0.0, (q - dfree) / (agg["sw"] - agg["sww"] / agg["sw"]))
    return out.reset_index(drop=True)


def segment_explorer(result: pd.DataFrame, *, q: float = 0.05, family: str = "metric") -> pd.DataFrame:
    """Every segment cell of a by-segment comparison with false-discovery control and shrunken estimates.

    Reading dozens of segment cells one by one finds "effects" by chance. This adds to each row of a
    :func:`compare` / :func:`compare_summary` result made with ``by=``:

    - **Benjamini-Hochberg** (1995) q-values over a family of cells: ``family='metric'`` (every segment
      cell and variant of one metric together, a family per metric) or ``family='all'`` (every cell of
      every metric in one family). ``discovery`` is ``q_value < q``: among the cells called discoveries,
      the expected share of false ones is at most ``q`` (for independent or positively dependent tests).
      The p-values are the always-valid ones when the result is sequential.
    - **Empirical-Bayes shrinkage** (normal-normal model, per metric x variant across its k segment
      cells): the true segment effects theta_i ~ N(mu, tau^2) and the estimates y_i ~ N(theta_i, s_i^2)
      with ``s_i`` the cell's standard error. ``tau2`` is the method-of-moments (DerSimonian-Laird)
      estimate ``max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))``, w = 1 / s^2 (the ``tau2`` of
      :func:`heterogeneity`); ``pooled_effect`` mu is the weighted mean with weights 1 / (s_i^2 + tau^2).
      Each cell is pulled towards mu by ``shrinkage`` B_i = (k - 3) / (k - 1) * s_i^2 / (s_i^2 + tau^2):
      ``shrunk_diff = B_i mu + (1 - B_i) y_i``, with variance ``(1 - B_i) s_i^2 + B_i^2 / sum 1 / (s^2 +
      tau^2) + 2 / (k - 3) B_i^2 (y_i - mu)^2`` and a normal 95% interval: Morris (1983, JASA 78, 47-55),
      whose (k - 3) / (k - 1) factor and last term account for tau^2 being estimated (without them the
      intervals cover about 85% when segment effects differ a little; with them 94-99% in the tests'
      simulations). Small, noisy cells move most; with tau^2 = 0 (no detectable differences) cells move
      most of the way to the pooled effect. A metric x variant with fewer than 4 cells is left unshrunk
      (``shrinkage`` blank, ``shrunk_*`` = raw): too few to estimate the spread between segments.

    Parameters
    ----------
    result : pandas.DataFrame
        A result with segment columns (``compare(..., by=...)``).
    q : float
        The false-discovery rate to control.
    family : {'metric', 'all'}
        The Benjamini-Hochberg family: each metric on its own, or all cells of all metrics together.

    Returns
    -------
    pandas.DataFrame
        The result's rows and columns plus ``se``, ``q_value``, ``discovery``, ``pooled_effect``,
        ``tau2``, ``shrinkage``, ``shrunk_diff``, ``shrunk_ci_lower``, ``shrunk_ci_upper`` (in the units
        of ``abs_diff``: NPS points, proportions as fractions) and ``family``.

    Examples
    --------
    >>> res = compare("data/sample/experiment.csv", control="control", by="device",
    ...               metrics={"converted": "proportion"})  # doctest: +SKIP
    >>> segment_explorer(res, family="metric")[["device", "abs_diff", "q_value", "shrunk_diff"]]  # doctest: +SKIP
    """
    if family not in FAMILIES:
        raise cxdata.CXDataError(f"family must be one of {', '.join(FAMILIES)}, not {family!r}.")
    if not 0 < float(q) < 1:
        raise cxdata.CXDataError(f"q must be a false-discovery rate between 0 and 1 (e.g. 0.05), not {q!r}.")
    cols = list(result.columns)
    by = list(result.attrs.get("by") or (cols[: cols.index("metric")] if "metric" in cols else []))
    if not by:
        raise cxdata.CXDataError("segment_explorer needs a by-segment result: compare(..., by='segment').")
    out = result.reset_index(drop=True).copy()
    out.attrs = dict(result.attrs)
    se = _row_se(result, out, by)
    out["se"] = se
    p_col = "p_always_valid" if "p_always_valid" in out and result.attrs.get("sequential") else "p_value"
    p = out[p_col].to_numpy(float)
    qv = np.full(len(out), np.nan)
    fams = [np.ones(len(out), bool)] if family == "all" else [(out["metric"] == m).to_numpy()
                                                              for m in out["metric"].unique()]
    for fam in fams:
        ok = fam & np.isfinite(p)
        if ok.any():
            qv[ok] = adjust_p(p[ok], "fdr_bh")
    out["q_value"] = qv
    out["discovery"] = out["q_value"] < q
    z = stats.norm.ppf(1 - result.attrs.get("alpha", 0.05) / 2)
    est = out["abs_diff"].to_numpy(float)
    pooled, tau2, shrink = (np.full(len(out), np.nan) for _ in range(3))
    sd, slo, shi = est.copy(), out["abs_ci_lower"].to_numpy(float).copy(), out["abs_ci_upper"].to_numpy(float).copy()
    for _, idx in out.groupby(["metric", "variant"], sort=False).indices.items():
        good = idx[np.isfinite(est[idx]) & np.isfinite(se[idx]) & (se[idx] > 0)]
        if len(good) < 2:
            continue
        y, s2 = est[good], se[good] ** 2
        w = 1 / s2
        q_stat = max(float(w @ (y * y) - (w @ y) ** 2 / w.sum()), 0.0)
        t2 = max(0.0, (q_stat - (len(good) - 1)) / (w.sum() - (w @ w) / w.sum()))
        k = len(good)
        if k < 4:  # too few cells to estimate the spread between them: left as they are
            continue
        ws = 1 / (s2 + t2)
        mu = float(ws @ y / ws.sum())
        b = (k - 3) / (k - 1) * s2 / (s2 + t2)
        var = (1 - b) * s2 + b * b / ws.sum() + 2 / (k - 3) * b * b * (y - mu) ** 2
        pooled[good], tau2[good], shrink[good] = mu, t2, b
        sd[good] = b * mu + (1 - b) * y
        slo[good], shi[good] = sd[good] - z * np.sqrt(var), sd[good] + z * np.sqrt(var)
    out["pooled_effect"], out["tau2"], out["shrinkage"] = pooled, tau2, shrink
    out["shrunk_diff"], out["shrunk_ci_lower"], out["shrunk_ci_upper"] = sd, slo, shi
    out["family"] = family
    out.attrs.update(fdr_q=q, fdr_family=family)
    return out


#: The decision of every comparison of an experiment whose allocation check failed.
NOT_INTERPRETABLE = "not interpretable"
#: The decision of a comparison in which the control or the variant has no measured unit for the metric.
NOT_MEASURED = "not measured"


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
    out.attrs.update(srm=check, control=control, as_of=as_of, notes=[late] if late else [])
    if check.p_value < srm_threshold:
        out["decision"] = NOT_INTERPRETABLE
    return out


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


# ------------------------------------------------------------------------------------------ power

# sample_size, nps_sd and minimum_detectable_effect live in cxlib.stats (imported above).


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
