"""Key-driver analysis: which parts of the experience move the recommend score, and where to act first.

Driver ratings are correlated (a happy customer rates everything higher), so plain regression weights
are unstable and can even flip sign. The default method, Johnson's *relative weights*, splits the model
R² into non-negative shares that respect that collinearity; exact *Shapley* (LMG) values do the same by
averaging each driver's R² gain over every order of entry (2^p models, fine up to ~15 drivers); 'ols'
gives Pratt's measure (standardized beta x correlation). Importance is a share of R² (sums to 1);
``raw_weight`` is in R² units (sums to R²). Intervals come from a seeded percentile bootstrap of the
respondents. With survey weights (``weights=``) every method runs on the weighted correlation matrix
and the bootstrap keeps each resampled respondent's weight; ``n_effective`` (Kish) is reported.

Missing ratings: the model uses respondents who rated every driver (listwise); each driver's ``mean``
and ``n`` use everyone who rated it. Straight-liners (the same score for every driver, a "halo") carry
no information about *which* driver matters and are left out by default (counted in ``attrs``).

Only the outcome and driver columns of complete answers come back from the engine (a bounded table for
survey data); everything after that is a correlation matrix. A repeated call on an unchanged file (read
once per session) reuses its checks and compiled queries: two queries run (means and counts per driver;
the complete answers, from which the halo counts are also taken). DataFrames are checked on every call.

Examples
--------
>>> from cxlib import drivers
>>> kd = drivers.key_drivers("data/sample/responses.csv", outcome="nps", drivers="drv_")  # doctest: +SKIP
>>> kd[["driver", "importance", "ci_lower", "ci_upper", "mean"]]  # doctest: +SKIP
"""
from __future__ import annotations

from itertools import combinations
from math import factorial

import ibis
import numpy as np
import pandas as pd

from cxlib import data as cxdata
from cxlib import segments
from cxlib.empty import nothing_before
from cxlib.notes import Note, note

__all__ = ["key_drivers", "relative_weights", "shapley_values", "pratt", "quadrant", "rating_scale", "METHODS"]

METHODS = ("relative_weights", "shapley", "ols")


def relative_weights(corr: np.ndarray) -> np.ndarray:
    """Johnson (2000) raw relative weights from a correlation matrix whose last row/column is the outcome."""
    rxx, rxy = corr[:-1, :-1], corr[:-1, -1]
    vals, vecs = np.linalg.eigh(rxx)
    vals = np.clip(vals, 0, None)
    lam = vecs @ np.diag(np.sqrt(vals)) @ vecs.T          # R^(1/2): correlations of X with orthogonal Z
    beta = np.linalg.solve(lam, rxy)                       # y regressed on Z
    return (lam ** 2) @ (beta ** 2)


def _r2(corr, subset):
    if not subset:
        return 0.0
    idx = list(subset)
    rxx = corr[np.ix_(idx, idx)]
    rxy = corr[idx, -1]
    return float(rxy @ np.linalg.solve(rxx, rxy))


def shapley_values(corr: np.ndarray) -> np.ndarray:
    """Exact Shapley decomposition of R² (LMG) over all subsets of the drivers."""
    p = corr.shape[0] - 1
    r2 = {(): 0.0}
    for k in range(1, p + 1):
        for s in combinations(range(p), k):
            r2[s] = _r2(corr, s)
    out = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            w = factorial(k) * factorial(p - k - 1) / factorial(p)
            for s in combinations(others, k):
                out[j] += w * (r2[tuple(sorted(s + (j,)))] - r2[s])
    return out


def pratt(corr: np.ndarray) -> np.ndarray:
    """Pratt's measure: standardized OLS beta x zero-order correlation (sums to R²; may be negative)."""
    rxx, rxy = corr[:-1, :-1], corr[:-1, -1]
    beta = np.linalg.solve(rxx, rxy)
    return beta * rxy


_FUNCS = {"relative_weights": relative_weights, "shapley": shapley_values, "ols": pratt}


def _corr(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Correlation matrix of the columns of ``x``; with survey weights ``w`` the weighted one
    (weighted means and covariances ``sum w (x - m)(y - m) / sum w``)."""
    if w is None:
        return np.corrcoef(x, rowvar=False)
    w = np.asarray(w, dtype=float)
    mu = w @ x / w.sum()
    d = x - mu
    cov = (d * w[:, None]).T @ d / w.sum()
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    return cov / np.outer(np.where(sd > 0, sd, 1), np.where(sd > 0, sd, 1))


def _wsd(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """(Weighted) population standard deviation of each column."""
    if w is None:
        return x.std(axis=0)
    w = np.asarray(w, dtype=float)
    mu = w @ x / w.sum()
    return np.sqrt(np.clip(w @ (x - mu) ** 2 / w.sum(), 0, None))


def key_drivers(responses, *, outcome: str = "nps", drivers="drv_", method: str = "relative_weights",
                by=None, bootstrap: int = 200, seed: int = 20261124, alpha: float = 0.05,
                exclude_straightliners: bool = True, min_n: int = 30, max_rows: int = 200_000,
                weights: str | None = None, name: str | None = None, as_of=None) -> pd.DataFrame:
    """Importance of each driver rating for the outcome, with bootstrap 95% intervals.

    Parameters
    ----------
    responses : DataFrame, path or Ibis table
        Survey answers: the outcome (e.g. the 0-10 recommend score) and one column per driver rating.
    outcome : str
        Outcome column.
    drivers : str or list of str
        Driver columns, or a prefix selecting them (default ``'drv_'``).
    method : {'relative_weights', 'shapley', 'ols'}
        See the module docstring.
    by : str, optional
        Segment column: one analysis per segment (segments under ``min_n`` complete answers suppressed).
    bootstrap : int
        Bootstrap resamples for the intervals (0 for none).
    seed : int
        Seed of the bootstrap (results reproduce).
    exclude_straightliners : bool
        Leave out respondents who gave every driver the same rating.
    max_rows : int
        Above this many complete answers (no ``by``), the correlation matrix is computed in the engine from
        sums and cross-products, and the bootstrap runs on a seeded random sample of ``max_rows`` rows
        whose spread is rescaled by sqrt(sample / n) (m-out-of-n bootstrap).
    weights : str, optional
        Column of survey weights (e.g. from :func:`cxlib.metrics.rake`), >= 0 on every row. The
        importances then describe the weighted population: every method runs on the *weighted*
        correlation matrix (weighted means and covariances ``sum w (x - m)(y - m) / sum w``, the
        correlations a weighted least squares fit uses, so ``r2`` is the WLS R²); each bootstrap resample
        draws respondents with equal probability and keeps their weights (the weighted statistic is
        recomputed on the resample), so the intervals include the extra variance that unequal weights
        cause. ``mean`` is the weighted average rating, ``n`` stays the raw count; a column
        ``n_effective`` (Kish ``(sum w)^2 / sum w^2`` of the model's respondents) is added, and
        ``attrs['n_effective']``.
    as_of : date-like, optional
        The analysis date (default :func:`cxlib.data.default_as_of`): answers dated after it (the
        contract's 'response_time', when the table has one) are left out and counted in one note
        (``attrs['notes']``; ``attrs['as_of']``).

    Returns
    -------
    pandas.DataFrame
        One row per (segment x) driver, by importance: ``driver``, ``importance`` (share of R²),
        ``raw_weight`` (R² units), ``std_beta``, ``ci_lower``, ``ci_upper`` (bootstrap percentile interval
        of ``importance``), ``rank``, ``mean`` (performance, all who rated it), ``n`` (who rated it),
        ``vif``. ``attrs``: ``r2``, ``n_model``, ``n_straightliners``, ``method``.

    Examples
    --------
    >>> key_drivers("data/sample/responses.csv", bootstrap=50).head(3)  # doctest: +SKIP
    """
    if method not in METHODS:
        raise cxdata.CXDataError(f"method must be one of {', '.join(METHODS)}, not {method!r}.")
    t0 = cxdata.as_table(responses, name=name)
    cols = _driver_columns(t0, drivers, name, analysis="key-driver analysis")
    cols = [c for c in cols if c != weights]
    by_cols = cxdata.as_list(by)
    as_of = cxdata.default_as_of(as_of, responses)
    plan = cxdata.memo_plan(("drivers.key_drivers", outcome, tuple(cols), tuple(by_cols), weights, name, as_of), t0,
                            lambda: _kd_plan(t0, outcome=outcome, cols=cols, by_cols=by_cols, weights=weights,
                                             name=name, as_of=as_of))
    t, label, complete, straight_e = plan["t"], plan["label"], plan["complete"], plan["straight"]
    by_cols = plan["by"]  # the segment columns as the table names them
    perf = cxdata.to_pandas(plan["head"], name=name)
    if perf.empty or not (perf[[f"n_{c}" for c in cols]] > 0).any(axis=None):
        _nothing(t0, as_of, name)  # no rows, or none on or before as_of: one error that says which
    scale = _scale(t, cols, plan["declared_scale"], name, expr=plan["scale"])
    if not by_cols:
        p0 = dict(zip(perf.columns, perf.to_numpy(object)[0]))
        empty = [c for c in cols if int(p0[f"n_{c}"]) == 0]
        if empty:
            raise cxdata.CXDataError(f"{label}: driver column(s) {', '.join(map(repr, empty))} have no ratings at all "
                                     "(every row blank or N/A); leave them out of drivers=.")
    big = None
    rows_expr = plan["rows"]
    # complete answers <= the fewest ratings of any driver: only when that could exceed max_rows are the
    # complete answers and straight-liners counted (to choose between pulling the rows and engine sums)
    if not by_cols and min(int(p0[f"n_{c}"]) for c in cols) > max_rows:
        counts = cxdata.to_pandas(complete.aggregate(n=complete.count(),
                                                     straight=straight_e.cast("int64").sum()), name=name).iloc[0]
        n_straight = int(counts["straight"] or 0) if exclude_straightliners else 0
        n_model = int(counts["n"]) - n_straight
        if n_model > max_rows:
            # Too many rows to pull: the correlation matrix from sums and cross-products in the engine,
            # the bootstrap on a seeded random sample of max_rows rows (rescaled below).
            model = complete.filter(~straight_e) if exclude_straightliners else complete
            v = [*cols, outcome]
            if weights is None:
                aggs = {"n": model.count(), **{f"s{i}": model[c].cast("float64").sum() for i, c in enumerate(v)},
                        **{f"p{i}_{j}": (model[a].cast("float64") * model[b].cast("float64")).sum()
                           for i, a in enumerate(v) for j, b in enumerate(v) if j >= i}}
            else:  # the same sums with each row counted w times: n -> sum w, then the weighted covariances
                mw = model[weights].cast("float64")
                aggs = {"n": mw.sum(), "w2": (mw * mw).sum(),
                        **{f"s{i}": (mw * model[c].cast("float64")).sum() for i, c in enumerate(v)},
                        **{f"p{i}_{j}": (mw * model[a].cast("float64") * model[b].cast("float64")).sum()
                           for i, a in enumerate(v) for j, b in enumerate(v) if j >= i}}
            mom = cxdata.to_pandas(model.aggregate(**aggs), name=name).iloc[0]
            k = len(v)
            n_m = float(mom["n"])
            mean = np.array([mom[f"s{i}"] for i in range(k)]) / n_m
            cov = np.empty((k, k))
            for i in range(k):
                for j in range(i, k):
                    cov[i, j] = cov[j, i] = (mom[f"p{i}_{j}"] - n_m * mean[i] * mean[j]) / (n_m - 1)
            sd = np.sqrt(np.clip(np.diag(cov), 0, None))
            big = {"n_model": n_model, "n_straight": n_straight, "sd": sd,
                   "corr": cov / np.outer(np.where(sd > 0, sd, 1), np.where(sd > 0, sd, 1)),
                   "n_effective": n_m ** 2 / float(mom["w2"]) if weights is not None and mom["w2"] else None}
            complete = model.sample(min(1.0, 1.2 * max_rows / n_model), seed=seed).limit(max_rows)
            rows_expr = complete.select(*by_cols, outcome, *cols, *plan["wsel"])
    wsel = plan["wsel"]
    rows = cxdata.to_pandas(rows_expr, name=name)
    # engines return rows in any order: sort, so the seeded bootstrap is the same on DuckDB and Postgres
    if by_cols:
        rows = rows.sort_values([*by_cols, outcome, *cols, *wsel], kind="mergesort", ignore_index=True)
        groups = [((k,) if not isinstance(k, tuple) else k, g) for k, g in rows.groupby(by_cols)]
        arrays = None
    else:
        # every column is a number (no blanks in complete answers): a stable lexicographic sort of the
        # matrix orders the rows as sorting the frame by those columns does
        want = [outcome, *cols, *wsel]
        arr = (rows if list(rows.columns) == want else rows[want]).to_numpy(float)
        arr = arr[np.lexsort(arr.T[::-1])] if len(arr) else arr
        arrays = {c: arr[:, i] for i, c in enumerate(want)}
        groups = [((), rows)]
    parts = []
    perf_cols = list(perf.columns)
    for key, g in groups:
        col_of = arrays.__getitem__ if arrays is not None else (lambda c, g=g: g[c].to_numpy(float))
        x = np.column_stack([col_of(c) for c in cols]) if arrays is not None else g[cols].to_numpy(float)
        straight = (x.max(axis=1) == x.min(axis=1)) if exclude_straightliners else np.zeros(len(x), bool)
        m = np.column_stack([x[~straight], col_of(outcome)[~straight]])
        wt = col_of(weights)[~straight] if weights is not None else None
        n_used = big["n_model"] if big else len(m)
        n_straight_all = big["n_straight"] if big else int(straight.sum())
        prow = perf if not by_cols else perf.loc[(perf[by_cols] == pd.Series(dict(zip(by_cols, key)))).all(axis=1)]
        pvals = dict(zip(perf_cols, prow.to_numpy(object)[0]))
        res = {**{c: [v] * len(cols) for c, v in zip(by_cols, key)}, "driver": cols,
               "mean": [float(pvals[f"m_{c}"]) for c in cols], "n": [int(pvals[f"n_{c}"]) for c in cols]}
        if n_used < max(min_n, len(cols) + 2) and not by_cols:
            raise cxdata.CXDataError(f"{label}: only {n_used} respondents rated every driver (after leaving out "
                                     f"{int(straight.sum())} straight-liners); {len(cols)} drivers need at least "
                                     f"{max(min_n, len(cols) + 2)}.")
        n_eff = None
        if weights is not None:
            n_eff = big["n_effective"] if big else (float(wt.sum() ** 2 / (wt ** 2).sum()) if (wt ** 2).sum() > 0
                                                   else 0.0)
            res["n_effective"] = n_eff
        if weights is not None and len(m) >= max(min_n, len(cols) + 2) and (n_eff or 0) < len(cols) + 2:
            raise cxdata.CXDataError(f"{label}: the survey weights in {weights!r} leave an effective sample of "
                                     f"{n_eff:.1f} respondents{_where(dict(zip(by_cols, key)))}; {len(cols)} drivers "
                                     "need more (are most weights 0?).")
        if len(m) < max(min_n, len(cols) + 2):
            res = pd.DataFrame(res)
            res[["importance", "raw_weight", "std_beta", "ci_lower", "ci_upper", "vif"]] = np.nan
            res["suppressed"] = True
            res.attrs.update(r2=np.nan, n_model=len(m), n_straightliners=int(straight.sum()))
            parts.append(res)
            continue
        sds = big["sd"] if big else _wsd(m, wt)
        flat = [c for c, sd in zip(cols, sds[:-1]) if sd == 0]
        if flat or sds[-1] == 0:
            what = f"driver(s) {', '.join(map(repr, flat))}" if flat else f"the outcome {outcome!r}"
            raise cxdata.CXDataError(f"{label}: {what} has the same value for every respondent in the model "
                                     f"{dict(zip(by_cols, key)) or ''}; a constant cannot explain anything: leave it out.")
        corr = big["corr"] if big else _corr(m, wt)
        raw = _FUNCS[method](corr)
        r2 = _r2(corr, tuple(range(len(cols))))
        rxx_inv = np.linalg.inv(corr[:-1, :-1])
        res["raw_weight"] = raw
        res["importance"] = raw / raw.sum()
        res["std_beta"] = rxx_inv @ corr[:-1, -1]
        res["vif"] = np.diag(rxx_inv)
        if bootstrap:
            rng = np.random.default_rng(seed)
            boots = np.empty((bootstrap, len(cols)))
            for b in range(bootstrap):
                idx = rng.integers(0, len(m), len(m))
                w = _FUNCS[method](_corr(m[idx], None if wt is None else wt[idx]))
                boots[b] = w / w.sum()
            lo_q = np.quantile(boots, alpha / 2, axis=0)
            hi_q = np.quantile(boots, 1 - alpha / 2, axis=0)
            if big:  # m-out-of-n bootstrap: rescale the spread from the sample size to the full size
                centre = _FUNCS[method](_corr(m, wt))
                centre = centre / centre.sum()
                shrink = np.sqrt(len(m) / n_used)
                imp = raw / raw.sum()
                lo_q, hi_q = imp + (lo_q - centre) * shrink, imp + (hi_q - centre) * shrink
            res["ci_lower"], res["ci_upper"] = lo_q, hi_q
        else:
            res["ci_lower"] = res["ci_upper"] = np.nan
        res["suppressed"] = False
        ranked = None if by_cols else _in_rank_order(res, weights=weights)
        res = ranked if ranked is not None else pd.DataFrame(res)
        res.attrs.update(r2=r2, n_model=n_used, n_straightliners=n_straight_all, bootstrap_rows=len(m),
                         n_effective=n_eff)
        parts.append(res)
    cols_out = _columns_out(by_cols, weights)
    if not by_cols and list(parts[0].columns) == cols_out:  # already ranked and ordered (_in_rank_order)
        out = parts[0]
    else:
        out = pd.concat(parts, ignore_index=True)
        out["rank"] = out.groupby(by_cols)["importance"].rank(ascending=False, method="first") if by_cols else \
            out["importance"].rank(ascending=False, method="first")
        out = out.sort_values([*by_cols, "importance"],
                              ascending=[True] * len(by_cols) + [False]).reset_index(drop=True)
        out = out[cols_out]
    spec_labels = plan["labels"]
    out.attrs["labels"] = {c: spec_labels[c] for c in cols if c in spec_labels}  # question texts, for display
    if weights is not None:
        out.attrs["weights"] = weights
        out.attrs["n_effective"] = (parts[0].attrs.get("n_effective") if len(parts) == 1 else
                                    {k: p.attrs.get("n_effective") for k, p in zip([g[0] for g in groups], parts)})
    out.attrs.update(method=method, outcome=outcome, bootstrap=bootstrap, scale=scale,
                     r2=parts[0].attrs["r2"] if len(parts) == 1 else {k: p.attrs["r2"] for k, p in zip([g[0] for g in groups], parts)},
                     n_model=parts[0].attrs["n_model"] if len(parts) == 1 else sum(p.attrs["n_model"] for p in parts),
                     n_straightliners=sum(p.attrs["n_straightliners"] for p in parts))
    halo = None if big else _halo_from_rows(rows, cols=cols, by_cols=by_cols, scale=scale,
                                            x=None if by_cols else [arrays[c] for c in cols])
    out.attrs["warnings"] = _driver_warnings(out, t, outcome=outcome, cols=cols, by_cols=by_cols, name=name,
                                             halo=halo, as_of=as_of)
    out.attrs.update(as_of=as_of, notes=list(plan["notes"]))
    return out


def _columns_out(by_cols, weights) -> list[str]:
    return [*by_cols, "driver", "importance", "raw_weight", "std_beta", "ci_lower", "ci_upper", "rank",
            "mean", "n", "vif", "suppressed"] + (["n_effective"] if weights is not None else [])


def _in_rank_order(res: dict, *, weights) -> pd.DataFrame | None:
    """One analysis' columns (``res``: lists, arrays and scalars) as the final table: by importance,
    highest first, with ``rank``; None when two importances tie or one is not a number (then the table
    is sorted by pandas, whose order among ties is its own)."""
    imp = np.asarray(res["importance"], dtype=float)
    if not np.isfinite(imp).all() or len(np.unique(imp)) < len(imp):
        return None
    order = np.argsort(-imp, kind="stable")
    rank = np.empty(len(imp))
    rank[order] = np.arange(1, len(imp) + 1, dtype=float)
    res = {**res, "rank": rank}

    def pick(v):
        if isinstance(v, list):
            return [v[i] for i in order]
        if isinstance(v, np.ndarray):
            return v[order]
        return v  # a scalar, the same on every row
    return pd.DataFrame({c: pick(res[c]) for c in _columns_out([], weights)})


def _kd_plan(t, *, outcome, cols, by_cols, weights, name, as_of) -> dict:
    """Checks and query expressions of :func:`key_drivers` (nothing is executed but the checks).

    ``head``: per driver the (weighted) mean and count and (unless the scale is declared) the drivers'
    min / max, in one aggregate;
    ``rows``: the outcome and driver columns of complete answers.
    """
    from cxlib import sources

    # segments named as the export shows them; trimmed, case variants merged (a note each)
    seg_notes: list = []
    t, by_cols = segments.prepare(t, by_cols, name=name, notes=seg_notes,
                                  need=[outcome, *cols, *([weights] if weights else [])])
    t, late = _upto(t, as_of, name)
    t = cxdata.clean_numeric(t, outcome, required=False, name=name)
    for c in cols:
        t = cxdata.clean_numeric(t, c, name=name)
    if weights is not None:
        if not isinstance(weights, str):
            raise cxdata.CXDataError("weights= names a column of survey weights (e.g. one made by metrics.rake).")
        t = cxdata.clean_numeric(t, weights, lo=0, required=True, name=name)
    meta = sources.metadata(t)
    declared = meta.get("driver_scale")
    wsel = [weights] if weights is not None and weights not in (outcome, *cols, *by_cols) else []
    # only the columns the aggregates read (a shorter query for the engine to plan; same numbers)
    narrow = t.select(*dict.fromkeys([*by_cols, outcome, *cols, *([weights] if weights else [])]))
    if weights is not None:
        wcol = narrow[weights].cast("float64")
        means = {f"m_{c}": ibis.ifelse(narrow[c].notnull(), wcol * narrow[c].cast("float64"), 0.0).sum()
                 / ibis.ifelse(narrow[c].notnull(), wcol, 0.0).sum().nullif(0.0) for c in cols}
    else:
        means = {f"m_{c}": narrow[c].mean() for c in cols}
    aggs = {**means, **{f"n_{c}": narrow[c].count() for c in cols}}
    head = narrow.group_by(by_cols).aggregate(**aggs) if by_cols else narrow.aggregate(**aggs)
    complete = t.filter([t[c].notnull() for c in [outcome, *cols]])
    return {"t": t, "label": cxdata.source_name(t, name), "head": head, "declared_scale": declared,
            "scale": None if declared else t.aggregate(lo=ibis.least(*[t[c].min() for c in cols]),
                                                       hi=ibis.greatest(*[t[c].max() for c in cols])),
            "complete": complete, "wsel": wsel, "rows": complete.select(*by_cols, outcome, *cols, *wsel),
            "straight": ibis.greatest(*[complete[c] for c in cols]) == ibis.least(*[complete[c] for c in cols]),
            "labels": meta.get("labels") or {}, "notes": ([late] if late else []) + seg_notes, "by": by_cols}


#: The answer time of the responses contract: answers after the analysis date are left out.
TIME = "response_time"


def _upto(t, as_of, name):
    """``t`` without answers dated after ``as_of`` (:data:`TIME`, when the table has it) and the note."""
    return cxdata.upto_as_of(t, TIME if TIME in t.columns else None, as_of, name=name)


def _nothing(t, as_of, name, notes: list | None = None) -> None:
    """A model (or count) with no answers: raise that the table ``t`` (as read, before the ``as_of`` cut)
    has no rows or, with ``notes`` None, that every answer is after ``as_of``; else add a note to ``notes``
    (:func:`cxlib.empty.nothing_before`). Only called on an empty result (it costs one query)."""
    nothing_before(t, TIME if TIME in t.columns else None, as_of, name=name, what="answers", notes=notes)


def _scale(t, cols, declared, name, expr=None) -> tuple[float, float]:
    """The drivers' rating scale: declared by the spec / layout, else the usual scale that holds every
    rating (1-5, 1-7, 0-10 / 1-10), so a 1-5 survey is never shown as "/10".

    The lowest and highest rating are read like a validation answer (:func:`cxlib.data._checked`): kept
    while the table is a session table (a file read once, unchanged), asked again for any other input.
    ``expr``: that query when already built (the same expression object on a repeated call)."""
    if declared:
        return float(declared[0]), float(declared[1])
    if expr is None:
        expr = t.aggregate(lo=ibis.least(*[t[c].min() for c in cols]), hi=ibis.greatest(*[t[c].max() for c in cols]))
    r = cxdata._checked(expr, name=name).iloc[0]
    lo, hi = float(r["lo"]), float(r["hi"])
    top = next((s for s in (5.0, 7.0, 10.0) if hi <= s), hi)
    return (0.0 if lo < 1 else 1.0), top


def quadrant(table: pd.DataFrame) -> pd.DataFrame:
    """Importance-performance quadrant of a :func:`key_drivers` result.

    Splits at the average importance (1 / number of drivers) and the average performance, and adds
    ``quadrant``: 'fix first' (important, rated low), 'keep up' (important, rated high), 'monitor'
    (less important, rated low), 'maintain' (less important, rated high).
    """
    out = table.copy()
    imp_cut = 1 / len(out)
    perf_cut = out["mean"].mean()
    hi_imp = out["importance"] >= imp_cut
    hi_perf = out["mean"] >= perf_cut
    out["quadrant"] = np.select([hi_imp & ~hi_perf, hi_imp & hi_perf, ~hi_imp & ~hi_perf],
                                ["fix first", "keep up", "monitor"], "maintain")
    out.attrs.update(table.attrs, importance_cut=imp_cut, performance_cut=perf_cut)
    return out


def rating_scale(result: pd.DataFrame | None = None, scale=None) -> tuple[float, float] | None:
    """The driver rating scale ``(low, high)``: ``scale`` when given (a spec's / layout's
    ``driver_scale``), else ``result.attrs['scale']`` (observed by :func:`key_drivers`), else read from the
    averages as a last resort (at most 5 -> 1–5, at most 7 -> 1–7, else 0–10 or 1–10).

    Examples
    --------
    >>> rating_scale(scale=[1, 5]), rating_scale(pd.DataFrame({"mean": [7.2, 6.1]}))
    ((1.0, 5.0), (1.0, 10.0))
    """
    if scale is None and result is not None:
        scale = result.attrs.get("scale")
        if isinstance(scale, dict):  # per-driver scales: one scale when they agree
            found = {tuple(v) for v in scale.values() if v is not None}
            scale = found.pop() if len(found) == 1 else None
    if scale is not None:
        lo, hi = scale
        return float(lo), float(hi)
    if result is None or "mean" not in result:
        return None
    v = pd.to_numeric(result["mean"], errors="coerce").dropna()
    if v.empty:
        return None
    hi = float(v.max())
    if hi <= 5:
        return 1.0, 5.0
    if hi <= 7:
        return 1.0, 7.0
    return (0.0 if float(v.min()) < 1 else 1.0), 10.0


# ------------------------------------------------------------------------------------------ warnings

#: A VIF above this gets a warning: the drivers overlap so much that their importances are shared.
VIF_WARN = 5.0
#: A respondent is a halo respondent when the spread (population SD) of their driver ratings is at most
#: this share of the rating scale's range (0.45 points on 1-10, 0.2 on 1-5): every straight-liner and
#: those who vary by a point on one driver.
HALO_SD_SHARE = 0.05
#: More halo respondents than this share of the complete answers gets a warning.
HALO_WARN_SHARE = 0.30


def _driver_columns(t, drivers, name=None, analysis: str = "this analysis") -> list[str]:
    """The driver columns of a table: the columns starting with a prefix (the spec's / layout's driver
    list when no column has it), or a list, or the keys of a {column: label} mapping; no duplicates, at
    least two."""
    from cxlib import sources

    declared = sources.metadata(t).get("drivers") or []
    if isinstance(drivers, str) and declared and not any(c.startswith(drivers) for c in t.columns):
        drivers = list(declared)
    if isinstance(drivers, str):
        cols = [c for c in t.columns if c.startswith(drivers)]
        if not cols:
            raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: no driver columns start with {drivers!r}; "
                                     f"columns: {', '.join(t.columns)}.")
    else:
        cols = list(drivers)
        twice = sorted({c for c in cols if cols.count(c) > 1})
        if twice:
            raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: driver column "
                                     f"{', '.join(repr(c) for c in twice)} is listed more than once.")
    if len(cols) < 2:
        raise cxdata.CXDataError(f"{analysis} needs at least two driver columns.")
    return cols


def halo_counts(responses, *, outcome: str = "nps", drivers="drv_", by=None, scale=None,
                name: str | None = None, as_of=None) -> pd.DataFrame:
    """Halo respondents among the complete answers (outcome and every driver rated), counted in the engine.

    A halo respondent's driver ratings barely vary: their population SD is at most ``HALO_SD_SHARE`` of
    the scale's range (straight-liners included). Returns per ``by`` group: ``n`` (complete answers),
    ``halo`` (count), ``straightliners`` (exactly one score for every driver), ``halo_share``. Answers
    after ``as_of`` (default :func:`cxlib.data.default_as_of`) are left out (``attrs['notes']``).
    """
    t = cxdata.as_table(responses, name=name)
    cols = _driver_columns(t, drivers, name)
    seg_notes: list = []
    t, by_cols = segments.prepare(t, by, name=name, notes=seg_notes, need=[outcome, *cols])
    as_of = cxdata.default_as_of(as_of, responses)
    read = t  # before the cut: an empty result says whether the table has no rows or only later ones
    t, late = _upto(t, as_of, name)
    t = cxdata.clean_numeric(t, outcome, required=False, name=name)
    for c in cols:
        t = cxdata.clean_numeric(t, c, name=name)
    if scale is None:
        scale = _scale(t, cols, None, name)
    thr = HALO_SD_SHARE * (float(scale[1]) - float(scale[0]))
    c = t.filter([t[col].notnull() for col in [outcome, *cols]])
    x = [c[col].cast("float64") for col in cols]
    k = float(len(cols))
    mean = sum(x[1:], x[0]) / k
    var = sum((v * v for v in x[1:]), x[0] * x[0]) / k - mean * mean
    straight = ibis.greatest(*x) == ibis.least(*x)
    halo = straight | (var <= thr * thr + 1e-9)
    aggs = dict(n=c.count(), halo=halo.cast("int64").sum(), straightliners=straight.cast("int64").sum())
    out = cxdata.to_pandas(c.group_by(by_cols).aggregate(**aggs) if by_cols else c.aggregate(**aggs), name=name)
    out[["halo", "straightliners"]] = out[["halo", "straightliners"]].fillna(0).astype(int)
    out["halo_share"] = out["halo"] / out["n"].where(out["n"] > 0)
    out = out.sort_values(by_cols).reset_index(drop=True) if by_cols else out
    notes = ([late] if late else []) + seg_notes
    if out.empty or not (out["n"] > 0).any():  # whole table: an error; per segment: a note
        _nothing(read, as_of, name, notes=notes if by_cols else None)
    out.attrs.update(as_of=as_of, notes=notes)
    return out


def _where(key: dict) -> str:
    """" (in plan basic)" for an error message about one segment; "" for the whole table."""
    return f" (in {', '.join(f'{k} {v}' for k, v in key.items())})" if key else ""


def _halo_from_rows(rows: pd.DataFrame, *, cols, by_cols, scale, x=None) -> pd.DataFrame | list | None:
    """:func:`halo_counts` computed from the complete answers already fetched (``rows``: every complete
    answer, one row each), with the same arithmetic as the engine query: the mean and mean square of the
    ratings summed left to right, ``var = mean square - mean^2``, halo when ``var <= thr^2 + 1e-9`` or every
    rating is the same. None (count in the engine instead) when a segment value is blank. ``x``: the
    driver columns as arrays when already at hand (no segments; any row order). Without segments, a list
    of one record (``n``, ``halo``, ``straightliners``, ``halo_share``) instead of a one-row table."""
    if by_cols and rows[by_cols].isna().any().any():
        return None
    thr = HALO_SD_SHARE * (float(scale[1]) - float(scale[0]))
    if x is None:
        xm = rows[cols].to_numpy(float)
        x = [xm[:, j] for j in range(len(cols))]
    k = float(len(cols))
    total, squares = x[0], x[0] * x[0]
    for v in x[1:]:
        total = total + v
        squares = squares + v * v
    mean = total / k
    var = squares / k - mean * mean
    xs = np.column_stack(x)
    straight = xs.max(axis=1) == xs.min(axis=1)
    halo = straight | (var <= thr * thr + 1e-9)
    if not by_cols:  # one record (what _driver_warnings reads of halo_counts' one row)
        n, h = len(halo), int(halo.sum())
        return [{"n": n, "halo": h, "straightliners": int(straight.sum()), "halo_share": h / n if n > 0 else np.nan}]
    flags = pd.DataFrame({"halo": halo.astype("int64"), "straightliners": straight.astype("int64")})
    flags = pd.concat([rows[by_cols].reset_index(drop=True), flags], axis=1)
    g = flags.groupby(by_cols, sort=True)
    out = pd.concat([g.size().rename("n"), g[["halo", "straightliners"]].sum()], axis=1).reset_index()
    out = out.astype({"n": "int64", "halo": "int64", "straightliners": "int64"})
    out["halo_share"] = out["halo"] / out["n"].where(out["n"] > 0)
    return out.sort_values(by_cols).reset_index(drop=True)


def _driver_warnings(out: pd.DataFrame, responses, *, outcome, cols, by_cols, name=None,
                     halo: pd.DataFrame | list | None = None, as_of=None) -> list[Note]:
    """Warnings for a :func:`key_drivers` result as note codes with values (the words are present's):
    ``drivers_overlap`` (drivers whose VIF is above :data:`VIF_WARN`: ``drivers``, ``vifs``,
    ``threshold``) and ``halo_answers_common`` (more than :data:`HALO_WARN_SHARE` halo answers: ``halo``,
    ``n``, ``share``, ``straightliners``); each with ``where`` (the segment, ``{column: value}``, or ``{}``)
    and ``labels`` (the source's display labels of the drivers it names). ``halo``: :func:`halo_counts`'
    table, or its records, when already known; else counted in the engine.

    Examples
    --------
    >>> [w.code for w in key_drivers(df, bootstrap=0).attrs["warnings"]]  # doctest: +SKIP
    ['drivers_overlap', 'halo_answers_common']
    """
    warnings = []
    spec_labels = out.attrs.get("labels") or {}
    groups = [({}, out)] if not by_cols else [
        (dict(zip(by_cols, k if isinstance(k, tuple) else (k,))), g) for k, g in out.groupby(by_cols)]
    for key, g in groups:
        if not (g["vif"].to_numpy() > VIF_WARN).any():
            continue
        high = g[g["vif"] > VIF_WARN].sort_values("vif", ascending=False)
        if len(high):
            names = [str(d) for d in high["driver"]]
            warnings.append(note("drivers_overlap", where=key, drivers=names,
                                 vifs=[float(v) for v in high["vif"]], threshold=VIF_WARN,
                                 labels={d: spec_labels[d] for d in names if d in spec_labels}))
    if halo is None:
        halo = halo_counts(responses, outcome=outcome, drivers=cols, by=by_cols or None,
                           scale=out.attrs.get("scale"), name=name, as_of=as_of)
    for r in (halo if isinstance(halo, list) else (r for _, r in halo.iterrows())):
        if r["n"] and r["halo_share"] > HALO_WARN_SHARE:
            warnings.append(note("halo_answers_common", where={b: r[b] for b in by_cols}, halo=int(r["halo"]),
                                 n=int(r["n"]), share=float(r["halo_share"]),
                                 straightliners=int(r["straightliners"])))
    return warnings


# ------------------------------------------------------------------------------------------ promoters / detractors

def promoter_detractor_models(responses, *, outcome: str = "nps", drivers="drv_", alpha: float = 0.05,
                              promoter_min: int = 9, detractor_max: int = 6,
                              name: str | None = None, as_of=None) -> pd.DataFrame:
    """What separates promoters, and detractors, from everyone else: two logistic regressions.

    Models (statsmodels ``Logit`` with an intercept, all drivers together, on the respondents who rated
    every driver and gave a score; straight-liners are kept, unlike in :func:`key_drivers`):
    'promoter' = score >= ``promoter_min`` (9-10) vs the rest, 'detractor' = score <= ``detractor_max``
    (0-6) vs the rest. The drivers enter on their raw rating scale (not standardised), so
    ``odds_ratio`` is the multiplicative change in the odds of being a promoter (detractor) per +1
    rating point on that driver, holding the other drivers fixed.

    Returns
    -------
    pandas.DataFrame
        One row per model x driver: ``model``, ``driver``, ``coef`` (log-odds per point), ``odds_ratio``,
        ``ci_lower``, ``ci_upper`` (Wald interval of the odds ratio), ``p_value``, ``beyond_noise``
        (p < alpha), ``n`` (respondents in the model), ``events`` (promoters / detractors among them).
        Answers after ``as_of`` (default :func:`cxlib.data.default_as_of`) are left out
        (``attrs['notes']``).
    """
    import statsmodels.api as sm
    from scipy import stats as _stats

    t = cxdata.as_table(responses, name=name)
    cols = _driver_columns(t, drivers, name)
    cxdata.require_columns(t, [outcome, *cols], name=name)
    as_of = cxdata.default_as_of(as_of, responses)
    read = t  # before the cut: an empty result says whether the table has no rows or only later ones
    t, late = _upto(t, as_of, name)
    t = cxdata.clean_numeric(t, outcome, lo=0, hi=10, integer=True, name=name)
    for c in cols:
        t = cxdata.clean_numeric(t, c, name=name)
    complete = t.filter([t[c].notnull() for c in [outcome, *cols]])
    rows = cxdata.to_pandas(complete.select(outcome, *cols), name=name)
    if rows.empty:
        _nothing(read, as_of, name)
    rows = rows.sort_values([outcome, *cols], kind="mergesort", ignore_index=True)
    label = cxdata.source_name(t, name)
    x = sm.add_constant(rows[cols].astype(float), has_constant="add")
    z = _stats.norm.ppf(1 - alpha / 2)
    parts = []
    for model, y in (("promoter", rows[outcome] >= promoter_min), ("detractor", rows[outcome] <= detractor_max)):
        y = y.astype(float)
        events = int(y.sum())
        if min(events, len(y) - events) < len(cols) + 1:
            raise cxdata.CXDataError(f"{label}: the {model} model needs more of both outcomes: {events} {model}s "
                                     f"and {len(y) - events} others among {len(y)} complete answers for "
                                     f"{len(cols)} drivers.")
        try:
            fit = sm.Logit(y, x).fit(disp=0, maxiter=200)
        except Exception as exc:  # perfect separation, singular matrix
            raise cxdata.CXDataError(f"{label}: the {model} model cannot be fitted ({exc}); a driver may "
                                     "separate the groups perfectly or duplicate another.") from exc
        b, se = fit.params[cols], fit.bse[cols]
        parts.append(pd.DataFrame({"model": model, "driver": cols, "coef": b.to_numpy(),
                                   "odds_ratio": np.exp(b.to_numpy()),
                                   "ci_lower": np.exp((b - z * se).to_numpy()),
                                   "ci_upper": np.exp((b + z * se).to_numpy()),
                                   "p_value": fit.pvalues[cols].to_numpy(), "n": len(y), "events": events}))
    out = pd.concat(parts, ignore_index=True)
    out["beyond_noise"] = out["p_value"] < alpha
    out.attrs.update(outcome=outcome, alpha=alpha, promoter_min=promoter_min, detractor_max=detractor_max,
                     standardised=False, as_of=as_of, notes=[late] if late else [])
    return out


# ------------------------------------------------------------------------------------------ top two

def top_two_difference(responses, *, outcome: str = "nps", drivers="drv_", method: str = "relative_weights",
                       bootstrap: int = 500, seed: int = 20261124, alpha: float = 0.05,
                       exclude_straightliners: bool = True, weights: str | None = None,
                       name: str | None = None, as_of=None) -> pd.DataFrame:
    """Is the top driver really more important than the second? Bootstrap of the difference in importance.

    The two drivers are the top two of :func:`key_drivers` (same method, same respondents: complete
    answers, straight-liners left out by default). Each bootstrap resample of the respondents recomputes
    both importances (shares of R²) and their difference ``first - second`` (the pair is fixed by the
    full-data ranking); the percentile interval of the difference and whether it excludes 0 are returned.

    Returns
    -------
    pandas.DataFrame
        One row: ``first``, ``second``, ``importance_first``, ``importance_second``, ``difference``,
        ``ci_lower``, ``ci_upper``, ``excludes_zero``, ``share_reversed`` (share of resamples in which
        the second came out ahead), ``n``, ``bootstrap``.

    With ``weights`` (a column of survey weights, as in :func:`key_drivers`) the importances come from the
    weighted correlation matrix and each resample keeps its respondents' weights. Answers after ``as_of``
    (default :func:`cxlib.data.default_as_of`) are left out (``attrs['notes']``).
    """
    if method not in METHODS:
        raise cxdata.CXDataError(f"method must be one of {', '.join(METHODS)}, not {method!r}.")
    t = cxdata.as_table(responses, name=name)
    cols = [c for c in _driver_columns(t, drivers, name) if c != weights]
    cxdata.require_columns(t, [outcome, *cols, *([weights] if weights else [])], name=name)
    as_of = cxdata.default_as_of(as_of, responses)
    read = t  # before the cut: an empty result says whether the table has no rows or only later ones
    t, late = _upto(t, as_of, name)
    t = cxdata.clean_numeric(t, outcome, required=False, name=name)
    for c in cols:
        t = cxdata.clean_numeric(t, c, name=name)
    wsel = []
    if weights is not None:
        t = cxdata.clean_numeric(t, weights, lo=0, required=True, name=name)
        wsel = [weights]
    complete = t.filter([t[c].notnull() for c in [outcome, *cols]])
    rows = cxdata.to_pandas(complete.select(outcome, *cols, *wsel), name=name)
    if rows.empty:
        _nothing(read, as_of, name)
    rows = rows.sort_values([outcome, *cols, *wsel], kind="mergesort", ignore_index=True)
    x = rows[cols].to_numpy(float)
    keep = ~(x.max(axis=1) == x.min(axis=1)) if exclude_straightliners else np.ones(len(x), bool)
    m = np.column_stack([x[keep], rows[outcome].to_numpy(float)[keep]])
    wt = rows[weights].to_numpy(float)[keep] if weights is not None else None
    if len(m) < max(30, len(cols) + 2):
        raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: only {len(m)} usable complete answers for "
                                 f"{len(cols)} drivers.")
    f = _FUNCS[method]
    w = f(_corr(m, wt))
    imp = w / w.sum()
    order = np.argsort(-imp, kind="mergesort")
    i, j = int(order[0]), int(order[1])
    lo = hi = share_rev = np.nan
    if bootstrap:
        rng = np.random.default_rng(seed)
        diffs = np.empty(bootstrap)
        for b in range(bootstrap):
            idx = rng.integers(0, len(m), len(m))
            wb = f(_corr(m[idx], None if wt is None else wt[idx]))
            diffs[b] = (wb[i] - wb[j]) / wb.sum()
        lo, hi = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
        share_rev = float((diffs < 0).mean())
    out = pd.DataFrame([{"first": cols[i], "second": cols[j], "importance_first": imp[i],
                         "importance_second": imp[j], "difference": imp[i] - imp[j], "ci_lower": lo, "ci_upper": hi,
                         "excludes_zero": bool(np.isfinite(lo) and (lo > 0 or hi < 0)),
                         "share_reversed": share_rev, "n": len(m), "bootstrap": bootstrap}])
    out.attrs.update(method=method, outcome=outcome, alpha=alpha, seed=seed, as_of=as_of,
                     notes=[late] if late else [])
    return out


__all__ += ["promoter_detractor_models", "top_two_difference", "halo_counts", "VIF_WARN", "HALO_SD_SHARE",
            "HALO_WARN_SHARE"]
