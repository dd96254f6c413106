"""Customer lifetime value for transactional businesses: the BG/NBD model of repeat purchases.

The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way") describes each
customer by a purchase rate ``lambda ~ Gamma(r, alpha)`` (purchases per time unit while active) and a
drop-out probability ``p ~ Beta(a, b)`` applied after every repeat purchase. Its sufficient statistics
per customer are ``frequency`` (number of repeat purchases: purchase days after the first), ``recency``
(time from the first to the last purchase) and ``T`` (time from the first purchase to the end of
observation), all in one time unit.

- :func:`rfm` reduces an events table to those statistics in the engine (one row per customer out);
- :func:`fit_bgnbd` estimates ``r, alpha, a, b`` by maximum likelihood (scipy.optimize on the
  log-parameters; the log-likelihood is written with ``gammaln`` / ``betaln``); customers with the same
  (frequency, recency, T) are collapsed first, so a million customers cost little memory;
- :func:`expected_purchases` and :func:`probability_alive` are the model's conditional expectation of
  purchases in the next ``t`` units and the probability that a customer is still active;
- :func:`fit_gamma_gamma` fits the Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005,
  "RFM and CLV"), :func:`expected_spend` gives each customer's expected spend per future purchase and
  :func:`expected_clv` combines both models into expected (discounted) revenue over a horizon;
  :func:`clv_table` does all of it from an events table.

Examples
--------
>>> from cxlib import clv
>>> s = clv.rfm("data/sample/events.csv", event_name="purchase")  # doctest: +SKIP
>>> params = clv.fit_bgnbd(s["frequency"], s["recency"], s["T"])  # doctest: +SKIP
>>> s["next_26_weeks"] = clv.expected_purchases(params, 26, s["frequency"], s["recency"], s["T"])  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import betaln, gammaln, hyp2f1

from cxlib import data as cxdata

__all__ = ["rfm", "fit_bgnbd", "bgnbd_log_likelihood", "expected_purchases", "probability_alive", "UNITS",
           "fit_gamma_gamma", "gamma_gamma_log_likelihood", "expected_spend", "expected_clv", "clv_table"]

#: Time units of :func:`rfm`, in days.
UNITS = {"day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}


# ------------------------------------------------------------------------------------------ RFM

def rfm(events, *, customer: str = "customer_id", time: str = "event_time", as_of=None, unit: str = "week",
        event_name: str | None = None, value: str | None = None, name: str | None = None) -> pd.DataFrame:
    """Frequency, recency and age (T) per customer, computed in the engine.

    Parameters
    ----------
    events : DataFrame, path, Ibis table or source spec
        One row per transaction (or per event, with ``event_name`` to pick the purchases).
    customer, time : str
        Customer id and timestamp columns.
    as_of : date, optional
        The analysis date; default :func:`cxlib.data.default_as_of` (the report date, never the
        latest timestamp in the data). Events after it are left out. Observation ends at the earlier of
        ``as_of`` and the table's last event on or before it (any event, purchase or not;
        ``.attrs['data_end']``): ``T`` runs to that day, so a log that ends in 1998 does not age its
        customers to today.
    unit : {'day', 'week', 'month', 'year'}
        Time unit of ``recency`` and ``T`` (and so of the fitted ``alpha``).
    event_name : str, optional
        Keep only rows whose ``event_name`` column equals this (e.g. ``'purchase'``).
    value : str, optional
        Money column: adds ``monetary``, the mean value of the repeat purchase days (the first purchase
        excluded, as the Gamma-Gamma model expects; NaN with no repeat purchase).

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer`` column, ``frequency`` (purchase days after the first),
        ``recency`` (first to last purchase day), ``T`` (first purchase day to the observed end's day), in
        ``unit`` (+ ``monetary``). Several purchases on one day count once (as in Fader-Hardie's CDNOW
        summary and the ``lifetimes`` package).
    """
    if unit not in UNITS:
        raise cxdata.CXDataError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}.")
    t = cxdata.as_table(events, name=name)
    need = [customer, time] + (["event_name"] if event_name is not None else []) + ([value] if value else [])
    cxdata.require_columns(t, need, name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    if value:
        t = cxdata.clean_numeric(t, value, lo=0, name=name)
    as_of = cxdata.default_as_of(as_of, events)
    late = cxdata.after_as_of(t, [time], as_of, name=name)
    data_end = cxdata.last_record(t, [time], as_of, name=name)  # every event: the table observes up to it
    end_day = cxdata.observed_end(as_of, data_end).normalize()
    if event_name is not None:
        t = t.filter(t["event_name"] == event_name)
    t = t.filter(t[time] <= as_of.to_pydatetime())
    t = t.filter(t[customer].notnull())
    day = (t[time].epoch_seconds() / 86400.0).floor()
    t = t.mutate(_day=day, _v=(t[value].fill_null(0.0) if value else 0.0))
    per_day = t.group_by([customer, "_day"]).aggregate(_dv=t["_v"].sum())
    agg = dict(_first=per_day["_day"].min(), _last=per_day["_day"].max(), _days=per_day.count())
    if value:
        agg.update(_total=per_day["_dv"].sum(), _first_v=per_day["_dv"].argmin(per_day["_day"]))
    df = cxdata.to_pandas(per_day.group_by(customer).aggregate(**agg), name=name)
    if df.empty:
        raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: no transactions on or before {as_of.date()}.")
    end = (end_day - pd.Timestamp("1970-01-01", tz=end_day.tz)).days
    u = UNITS[unit]
    out = pd.DataFrame({customer: df[customer],
                        "frequency": (df["_days"] - 1).astype("int64"),
                        "recency": (df["_last"] - df["_first"]).astype(float) / u,
                        "T": (end - df["_first"]).astype(float) / u})
    if value:
        reps = df["_days"] - 1
        out["monetary"] = ((df["_total"] - df["_first_v"]) / reps.where(reps > 0)).astype(float)
    out = out.sort_values(customer).reset_index(drop=True)
    early = cxdata.ends_early(t, data_end, as_of, unit, name=name)
    out.attrs.update(unit=unit, as_of=as_of, data_end=data_end, notes=[n for n in (late, early) if n])
    return out


# ------------------------------------------------------------------------------------------ BG/NBD

def _check(frequency, recency, T):
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(recency, dtype=float)
    T = np.asarray(T, dtype=float)
    x, tx, T = np.broadcast_arrays(x, tx, T)
    if x.size == 0:
        raise cxdata.CXDataError("no customers to fit.")
    bad = ~(np.isfinite(x) & np.isfinite(tx) & np.isfinite(T))
    if bad.any():
        raise cxdata.CXDataError(f"frequency, recency and T must be numbers ({int(bad.sum())} are blank or not finite).")
    if (x < 0).any() or (x != np.floor(x)).any():
        raise cxdata.CXDataError("frequency must be whole numbers >= 0 (repeat purchases).")
    if (tx < 0).any() or (tx > T * (1 + 1e-12)).any():
        raise cxdata.CXDataError("need 0 <= recency <= T for every customer.")
    if ((x == 0) & (tx != 0)).any():
        raise cxdata.CXDataError("recency must be 0 for customers without repeat purchases (frequency 0).")
    return x, tx, T


def _loglik_rows(r, alpha, a, b, x, tx, T):
    """Per-row BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6), in logs."""
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a3 = np.where(x > 0, betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b)
                      - (r + x) * np.log(alpha + tx), -np.inf)
    return a1 + np.logaddexp(a2, a3)


def bgnbd_log_likelihood(params, frequency, recency, T) -> float:
    """Total BG/NBD log-likelihood of ``params`` (mapping with ``r``, ``alpha``, ``a``, ``b``)."""
    x, tx, T = _check(frequency, recency, T)
    return float(_loglik_rows(params["r"], params["alpha"], params["a"], params["b"], x, tx, T).sum())


def fit_bgnbd(frequency, recency, T, *, starts=None) -> dict:
    """Fit the BG/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency, recency, T : array-like
        Per customer: repeat purchases, time of the last purchase and age, from the first purchase
        (e.g. the columns of :func:`rfm`), in one time unit.
    starts : list of 4-tuples, optional
        Starting values ``(r, alpha, a, b)``; by default a few spread-out starts, best optimum kept.

    Returns
    -------
    dict
        ``r``, ``alpha`` (purchase rate ~ Gamma(shape r, rate alpha), in purchases per unit), ``a``,
        ``b`` (drop-out probability ~ Beta(a, b)), ``log_likelihood`` (at the optimum), ``n``
        (customers), ``se`` (standard errors of the four parameters from the inverse Hessian on the log
        scale, delta method), ``converged``, ``at_boundary`` (a parameter ran beyond 1e4 or below 1e-4:
        the data push the model to a limit, e.g. a and b huge when almost nobody drops out, and the
        individual parameters mean little though predictions remain usable).

    Notes
    -----
    The log-likelihood of a customer is (Fader, Hardie & Lee 2005)
    ``log[B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x)) + 1{x>0} B(a+1, b+x-1)/B(a, b) *
    G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))]``, evaluated with ``gammaln`` / ``betaln`` and
    ``logaddexp``. It is maximised over the log-parameters (so they stay positive) with L-BFGS-B from
    several starts, then polished with Nelder-Mead. Customers with identical (x, t_x, T) are collapsed
    into one weighted row.
    """
    x, tx, T = _check(frequency, recency, T)
    rows, counts = np.unique(np.column_stack([x.ravel(), tx.ravel(), T.ravel()]), axis=0, return_counts=True)
    ux, utx, uT = rows.T
    w = counts.astype(float)

    def nll(theta):
        r, alpha, a, b = np.exp(np.clip(theta, -20, 20))
        ll = _loglik_rows(r, alpha, a, b, ux, utx, uT)
        v = -(w * ll).sum()
        return v if np.isfinite(v) else 1e300

    mean_t = float(np.average(uT, weights=w))
    starts = starts or [(1.0, mean_t / 4, 1.0, 1.0), (0.5, mean_t, 0.5, 2.0), (2.0, mean_t / 10, 2.0, 5.0)]
    best, converged = _minimize_from(nll, starts, maxiter=4000)
    theta = best.x
    r, alpha, a, b = np.exp(theta)
    se = _standard_errors(nll, theta)
    return {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b),
            "log_likelihood": float(-best.fun), "n": int(w.sum()),
            "se": {k: float(v) for k, v in zip(("r", "alpha", "a", "b"), se)},
            "converged": converged,
            "at_boundary": bool(np.any(np.abs(theta) > np.log(1e4)))}


def _minimize_from(nll, starts, *, maxiter: int):
    """Best L-BFGS-B fit of ``nll`` (on log parameters) over several starting points, polished by
    Nelder-Mead (the likelihood surfaces are flat along ridges, where L-BFGS-B stops early).
    Returns the better of the two results and whether either optimiser reported convergence."""
    best = None
    for s in starts:
        res = optimize.minimize(nll, np.log(np.asarray(s, dtype=float)), method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    polish = optimize.minimize(nll, best.x, method="Nelder-Mead",
                               options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": maxiter})
    converged = bool(best.success or polish.success)
    return (polish if polish.fun <= best.fun else best), converged


def _standard_errors(nll, theta, h=1e-4):
    """Delta-method standard errors of exp(theta) from a central-difference Hessian of ``nll``."""
    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
            H[i, j] = H[j, i] = (nll(theta + e_i + e_j) - nll(theta + e_i - e_j) - nll(theta - e_i + e_j)
                                 + nll(theta - e_i - e_j)) / (4 * h * h)
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    return np.exp(theta) * np.sqrt(np.maximum(np.diag(cov), 0))


def _params(params):
    return float(params["r"]), float(params["alpha"]), float(params["a"]), float(params["b"])


def expected_purchases(params, t, frequency, recency, T) -> np.ndarray:
    """Expected number of purchases in the next ``t`` time units given each customer's history.

    Fader, Hardie & Lee (2005) eq. 10:
    ``E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
    (defined for a != 1). Vectorised over customers (and ``t``).
    """
    r, alpha, a, b = _params(params)
    x, tx, T = _check(frequency, recency, T)
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return head * body / _alive_denominator(r, alpha, a, b, x, tx, T)


def _alive_denominator(r, alpha, a, b, x, tx, T):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return 1 + np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ratio, 0.0)


def probability_alive(params, frequency, recency, T) -> np.ndarray:
    """Probability that each customer is still active at T (Fader, Hardie & Lee 2005 eq. 12)."""
    r, alpha, a, b = _params(params)
    x, tx, T = _check(frequency, recency, T)
    return 1 / _alive_denominator(r, alpha, a, b, x, tx, T)


# ------------------------------------------------------------------------------------------ Gamma-Gamma

def _check_gg(frequency, monetary, least: int = 1):
    x = np.asarray(frequency, dtype=float).ravel()
    m = np.asarray(monetary, dtype=float).ravel()
    if x.shape != m.shape:
        raise cxdata.CXDataError(f"frequency and monetary must have the same length ({x.size} vs {m.size}).")
    keep = np.isfinite(x) & np.isfinite(m) & (x > 0)
    if (m[keep] <= 0).any():
        raise cxdata.CXDataError("monetary (mean spend of the repeat purchases) must be > 0 for customers with "
                                 f"repeat purchases ({int((m[keep] <= 0).sum())} are not).")
    if (x[np.isfinite(x)] < 0).any():
        raise cxdata.CXDataError("frequency must be >= 0 (repeat purchases).")
    if keep.sum() < least:
        raise cxdata.CXDataError(f"the Gamma-Gamma model needs at least {least} customer(s) with repeat "
                                 f"purchases (got {int(keep.sum())}).")
    return x[keep], m[keep]


def _gg_rows(p, q, v, x, m):
    """Per-customer Gamma-Gamma log-likelihood of the mean spend m over x purchases (FHL 2005b eq. 4)."""
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v) + (p * x - 1) * np.log(m)
            + p * x * np.log(x) - (p * x + q) * np.log(x * m + v))


def gamma_gamma_log_likelihood(params, frequency, monetary) -> float:
    """Total Gamma-Gamma log-likelihood of ``params`` (``p``, ``q``, ``v``) over customers with x > 0."""
    x, m = _check_gg(frequency, monetary)
    return float(_gg_rows(params["p"], params["q"], params["v"], x, m).sum())


def fit_gamma_gamma(frequency, monetary, *, starts=None) -> dict:
    """Fit the Gamma-Gamma model of spend per purchase by maximum likelihood.

    Each customer's purchases have values ``z ~ Gamma(p, nu)`` around their own mean ``p / nu``, with
    ``nu ~ Gamma(q, v)`` across customers; the observed mean ``monetary`` of ``frequency`` repeat
    purchases is the sufficient statistic. Customers without repeat purchases (or a blank monetary) are
    left out, as the model assumes; spend is assumed independent of purchase frequency (check it: the
    correlation of ``frequency`` and ``monetary`` should be small).

    Parameters
    ----------
    frequency : array-like
        Repeat purchases per customer (``x``).
    monetary : array-like
        Mean value of those repeat purchases (``m_x``), > 0.
    starts : list of 3-tuples, optional
        Starting values ``(p, q, v)``.

    Returns
    -------
    dict
        ``p``, ``q``, ``v``, ``log_likelihood``, ``n`` (customers used), ``se`` (delta-method standard
        errors from the inverse Hessian on the log scale), ``converged``, ``mean_spend`` (the population
        mean spend per purchase, ``p v / (q - 1)``; NaN when q <= 1), ``corr_frequency_monetary``.

    Notes
    -----
    Log-likelihood (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves", eq. 4):
    ``log G(px+q) - log G(px) - log G(q) + q log v + (px-1) log m + px log x - (px+q) log(xm+v)``,
    maximised over log-parameters (L-BFGS-B from a few starts, Nelder-Mead polish); identical (x, m)
    rows are collapsed into one weighted row. On the CDNOW summary it gives p 6.25, q 3.74, v 15.45,
    the values of the ``lifetimes`` package documentation.

    Examples
    --------
    >>> gg = fit_gamma_gamma([1, 3, 2, 5], [20.0, 35.5, 12.0, 41.0])  # doctest: +SKIP
    >>> expected_spend(gg, [0, 4], [np.nan, 30.0])  # doctest: +SKIP
    """
    x, m = _check_gg(frequency, monetary, least=3)
    rows, counts = np.unique(np.column_stack([x, m]), axis=0, return_counts=True)
    ux, um = rows.T
    w = counts.astype(float)

    def nll(theta):
        p, q, v = np.exp(np.clip(theta, -20, 20))
        val = -(w * _gg_rows(p, q, v, ux, um)).sum()
        return val if np.isfinite(val) else 1e300

    mean_m = float(np.average(um, weights=w))
    starts = starts or [(1.0, 1.0, 1.0), (2.0, 3.0, mean_m), (5.0, 5.0, mean_m / 2)]
    best, converged = _minimize_from(nll, starts, maxiter=3000)
    p, q, v = np.exp(best.x)
    se = _standard_errors(nll, best.x)
    return {"p": float(p), "q": float(q), "v": float(v), "log_likelihood": float(-best.fun), "n": int(w.sum()),
            "se": {k: float(s) for k, s in zip(("p", "q", "v"), se)},
            "converged": converged,
            "mean_spend": float(p * v / (q - 1)) if q > 1 else float("nan"),
            "corr_frequency_monetary": float(np.corrcoef(x, m)[0, 1]) if len(x) > 2 else float("nan")}


def expected_spend(params, frequency, monetary) -> np.ndarray:
    """Expected value of each customer's future purchases under the Gamma-Gamma model.

    ``E[Z | x, m] = p (v + x m) / (p x + q - 1)``: a weighted average of the population mean
    ``p v / (q - 1)`` and the customer's own mean ``m`` (more purchases, more weight on ``m``). A
    customer without repeat purchases (x = 0 or ``monetary`` blank) gets the population mean.

    With ``q <= 1`` the fitted spend distribution has no finite mean (very heavy tail): where
    ``p x + q - 1 <= 0`` (always for x = 0) the expectation does not exist and is NaN, never negative.
    """
    p, q, v = float(params["p"]), float(params["q"]), float(params["v"])
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    own = (x > 0) & np.isfinite(m)
    x0, m0 = np.where(own, x, 0.0), np.where(own, m, 0.0)
    den = p * x0 + q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, p * (v + x0 * m0) / np.where(den > 0, den, 1.0), np.nan)


def expected_clv(bgnbd, gamma_gamma, frequency, recency, T, monetary, *, horizon: float, steps: int = 12,
                 discount_rate: float = 0.0) -> np.ndarray:
    """Expected revenue of each customer over the next ``horizon`` time units (BG/NBD x Gamma-Gamma).

    The horizon is cut into ``steps`` equal steps; the expected purchases of step k (the difference of
    :func:`expected_purchases` at its end and start) times :func:`expected_spend`, discounted by
    ``(1 + discount_rate) ** k`` (``discount_rate`` per step), are summed -- the construction of Fader,
    Hardie & Lee (2005) and the ``lifetimes`` package. Revenue, not margin: multiply by your margin.
    """
    if not np.isfinite(horizon) or horizon <= 0 or int(steps) < 1:
        raise cxdata.CXDataError("horizon must be > 0 and steps a whole number >= 1.")
    spend = expected_spend(gamma_gamma, frequency, monetary)
    total, before = 0.0, 0.0
    for k in range(1, int(steps) + 1):
        upto = expected_purchases(bgnbd, horizon * k / int(steps), frequency, recency, T)
        total = total + (upto - before) * spend / (1 + discount_rate) ** k
        before = upto
    return np.asarray(total, dtype=float)


def clv_table(events, *, customer: str = "customer_id", time: str = "event_time", value: str = "revenue",
              event_name: str | None = None, as_of=None, unit: str = "week", horizon: float = 52.0,
              steps: int = 12, discount_rate: float = 0.0, name: str | None = None) -> pd.DataFrame:
    """Per customer: RFM statistics, probability still active, expected purchases, spend and CLV.

    Fits :func:`fit_bgnbd` and :func:`fit_gamma_gamma` on :func:`rfm` of ``events`` and predicts over
    ``horizon`` (in ``unit``). The fits are in ``.attrs['bgnbd']`` and ``.attrs['gamma_gamma']``.

    Returns
    -------
    pandas.DataFrame
        ``customer`` column, ``frequency``, ``recency``, ``T``, ``monetary``, ``p_alive``,
        ``expected_purchases``, ``expected_spend``, ``expected_clv`` (revenue over the horizon).

    Examples
    --------
    >>> clv_table("data/sample/events.csv", event_name="purchase", horizon=52)  # doctest: +SKIP
    """
    s = rfm(events, customer=customer, time=time, as_of=as_of, unit=unit, event_name=event_name, value=value,
            name=name)
    bg = fit_bgnbd(s["frequency"], s["recency"], s["T"])
    gg = fit_gamma_gamma(s["frequency"], s["monetary"])
    s["p_alive"] = probability_alive(bg, s["frequency"], s["recency"], s["T"])
    s["expected_purchases"] = expected_purchases(bg, horizon, s["frequency"], s["recency"], s["T"])
    s["expected_spend"] = expected_spend(gg, s["frequency"], s["monetary"])
    s["expected_clv"] = expected_clv(bg, gg, s["frequency"], s["recency"], s["T"], s["monetary"], horizon=horizon,
                                     steps=steps, discount_rate=discount_rate)
    s.attrs.update(bgnbd=bg, gamma_gamma=gg, horizon=horizon, unit=unit)
    s.attrs["notes"] = list(s.attrs.get("notes", []))
    if not gg["q"] > 1:
        s.attrs["notes"] += [f"The spend model found a distribution of order values with no finite average "
                            f"(q = {gg['q']:.2f}, at most 1: a few very large orders dominate), so expected "
                            "spend and CLV are blank for customers without enough repeat purchases to rely on "
                            "their own average."]
    return s
