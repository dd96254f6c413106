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
  purchases in the next ``t`` units and the probability that a customer is still active.

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

__all__ = ["rfm", "fit_bgnbd", "bgnbd_log_likelihood", "expected_purchases", "probability_alive", "UNITS"]

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
        End of observation; default :func:`cxlib.data.default_as_of` (the report date, never the
        latest timestamp in the data). Events after it are left out.
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
        ``recency`` (first to last purchase day), ``T`` (first purchase day to the ``as_of`` day), in
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
    if event_name is not None:
        t = t.filter(t["event_name"] == event_name)
    as_of = cxdata.default_as_of(as_of, events)
    end_day = as_of.normalize()
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
    out.attrs.update(unit=unit, as_of=as_of)
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
    best = None
    for s in starts:
        res = optimize.minimize(nll, np.log(np.asarray(s, dtype=float)), method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    polish = optimize.minimize(nll, best.x, method="Nelder-Mead",
                               options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    if polish.fun <= best.fun:
        best = polish
    theta = best.x
    r, alpha, a, b = np.exp(theta)
    se = _standard_errors(nll, theta)
    return {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b),
            "log_likelihood": float(-best.fun), "n": int(w.sum()),
            "se": {k: float(v) for k, v in zip(("r", "alpha", "a", "b"), se)},
            "converged": bool(best.success or polish.success),
            "at_boundary": bool(np.any(np.abs(theta) > np.log(1e4)))}


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
