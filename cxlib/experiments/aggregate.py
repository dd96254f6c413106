"""Per-arm sufficient statistics of an experiment, computed in the engine (one scan for every metric).

:func:`summary_statistics` turns unit rows into one row per [segment x] variant x metric (``n``,
``sum``, ``sum_squares``, ratio and covariate cross-products, or a quantile with its standard error),
with the value checks, the row and no-arm counts and the unit check riding along in the same query:
the same code reads 30,000 units from a CSV or a billion from a warehouse table. Everything after it
(:mod:`cxlib.experiments.estimate`) works on these few numbers.

Examples
--------
>>> from cxlib.experiments.aggregate import summary_statistics
>>> summary_statistics("data/sample/experiment.csv", metrics={"converted": "proportion"})  # doctest: +SKIP
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib import segments
from cxlib.empty import nothing_before
from cxlib.experiments.metric import _normalize
from cxlib.notes import note

__all__ = ["summary_statistics"]


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
    out.attrs["notes"] = [note("units_without_variant", count=n_no_arm)] if n_no_arm else []
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
