"""Tests and intervals on per-arm sufficient statistics: Welch, delta-method lifts and ratios, NPS
scores, CUPED / Lin regression adjustment, Fieller, quantile differences, confidence sequences and the
multiple-comparison adjustment; :func:`compare_summary` puts them together, one row per comparison,
and hands the rows to :func:`cxlib.experiments.decide.decide` for the decision.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"variant": ["control", "b"], "metric": "m", "kind": "mean", "n": [1000, 1000],
...                   "sum": [10_000.0, 10_300.0], "sum_squares": [109_000.0, 115_090.0]})
>>> round(float(compare_summary(s, control="control")["abs_diff"].iloc[0]), 2)
0.3
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib.experiments.aggregate import _cov_names
from cxlib.experiments.decide import decide
from cxlib.experiments.metric import CORRECTIONS, Metric, _normalize
from cxlib.notes import note

__all__ = ["compare_summary", "confidence_sequence", "adjust_p", "FAMILIES", "ADJUSTMENTS", "LIFT_CIS"]


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
    # the decision (significance, guardrail veto, not measured) has one definition: decide()
    out = decide(out, by=by, alpha=alpha, sequential=sequential)
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


def cuped_comparison(adjusted: pd.DataFrame, plain: pd.DataFrame) -> pd.DataFrame:
    """CUPED-adjusted and plain comparisons side by side: ``abs_diff`` / ``abs_ci_lower`` /
    ``abs_ci_upper`` with suffixes ``_cuped`` and ``_plain``, ``kind``, ``variance_reduction`` and
    ``interval_width_ratio`` (interval width with / without the covariate), per metric and variant.

    ``adjusted``: the CUPED rows of a :func:`cxlib.experiments.compare` result; ``plain``: the same
    comparison without covariates.

    Examples
    --------
    >>> a = pd.DataFrame({"metric": ["m"], "variant": ["b"], "abs_diff": [1.0], "abs_ci_lower": [0.5],
    ...                   "abs_ci_upper": [1.5], "kind": ["mean"], "variance_reduction": [0.75]})
    >>> p = a.assign(abs_ci_lower=[0.0], abs_ci_upper=[2.0])
    >>> float(cuped_comparison(a, p)["interval_width_ratio"].iloc[0])
    0.5
    """
    keep = ["metric", "variant", "abs_diff", "abs_ci_lower", "abs_ci_upper"]
    t = adjusted[[*keep, "kind", "variance_reduction"]].merge(plain[keep], on=["metric", "variant"],
                                                              suffixes=("_cuped", "_plain"))
    t["interval_width_ratio"] = ((t["abs_ci_upper_cuped"] - t["abs_ci_lower_cuped"])
                                 / (t["abs_ci_upper_plain"] - t["abs_ci_lower_plain"]))
    return t


def cuped_gain(comparison: pd.DataFrame) -> pd.DataFrame:
    """What CUPED bought per metric, from :func:`cuped_comparison`: ``variance_reduction``, the range of
    how much narrower the intervals are over the variants (``narrower_low``, ``narrower_high``: 1 - width
    ratio) and ``units_worth``, the extra share of units the same narrowing would take without the
    covariate (1 / mean width ratio² - 1).

    Examples
    --------
    >>> c = pd.DataFrame({"metric": ["m"], "interval_width_ratio": [0.5], "variance_reduction": [0.75]})
    >>> cuped_gain(c)[["narrower_low", "units_worth"]].iloc[0].tolist()
    [0.5, 3.0]
    """
    rows = []
    for m, g in comparison.groupby("metric", sort=False):
        w = g["interval_width_ratio"].astype(float)
        rows.append({"metric": m, "variance_reduction": g["variance_reduction"].iloc[0],
                     "narrower_low": 1 - w.max(), "narrower_high": 1 - w.min(),
                     "units_worth": 1 / float(w.mean()) ** 2 - 1})
    return pd.DataFrame(rows, columns=["metric", "variance_reduction", "narrower_low", "narrower_high",
                                       "units_worth"])
