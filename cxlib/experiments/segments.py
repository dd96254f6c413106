"""Reading a by-segment comparison: :func:`heterogeneity` (does the effect differ between segments?
Cochran's Q, I², tau²) and :func:`segment_explorer` (every segment cell with Benjamini-Hochberg q-values
and empirical-Bayes shrunken estimates).

Examples
--------
>>> from cxlib.experiments import compare, heterogeneity
>>> heterogeneity(compare("data/sample/experiment.csv", control="control", by="device",
...                       metrics={"converted": "proportion"}))  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib.experiments.estimate import FAMILIES, _row_key, adjust_p

__all__ = ["heterogeneity", "segment_explorer"]


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


def heterogeneity_intervals(het: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """A :func:`heterogeneity` result with the pooled effect's normal interval (``pooled_ci_lower``,
    ``pooled_ci_upper``: ``pooled_effect ± z pooled_se``) and ``differs`` (Cochran's Q p-value below
    ``alpha``: evidence that the effect differs between segments).

    Examples
    --------
    >>> h = pd.DataFrame({"pooled_effect": [0.02], "pooled_se": [0.01], "p_value": [0.2]})
    >>> r = heterogeneity_intervals(h).iloc[0]
    >>> round(float(r["pooled_ci_lower"]), 4), bool(r["differs"])
    (0.0004, False)
    """
    z = stats.norm.ppf(1 - alpha / 2)
    out = het.copy()
    est, se = pd.to_numeric(out["pooled_effect"]), pd.to_numeric(out["pooled_se"])
    out["pooled_ci_lower"], out["pooled_ci_upper"] = est - z * se, est + z * se
    out["differs"] = pd.to_numeric(out["p_value"]) < alpha
    return out
