"""BG/NBD (cxlib.clv): planted-parameter recovery on data simulated from the BG/NBD process, the
likelihood against a separately written (non-log) formula, and rfm against pandas.

The published CDNOW fit (Fader, Hardie & Lee 2005: r 0.243, alpha 4.414, a 0.793, b 2.426,
LL -9582.4) is not checked: the CDNOW summary cannot be obtained offline here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import beta as B
from scipy.special import gamma as G

from cxlib import clv
from cxlib.data import CXDataError

TRUE = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 2.5}


def simulate(rng, n, r, alpha, a, b, t_lo=30.0, t_hi=52.0, holdout=0.0):
    """The BG/NBD story, vectorised: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); Poisson purchases
    while active; after each repeat purchase the customer drops out with probability p (so the number
    of repeat purchases before dropping out is Geometric(p) on 1, 2, ...). Given N Poisson arrivals in
    (0, T], the x-th is the x-th order statistic of N uniforms: T * Beta(x, N - x + 1)."""
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    k = rng.geometric(p)
    T = rng.uniform(t_lo, t_hi, n)
    N = rng.poisson(lam * T)
    x = np.minimum(k, N)
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(N - x + 1, 1)), 0.0)
    future = np.where(k > N, np.minimum(k - N, rng.poisson(lam * holdout)), 0)
    return x, tx, T, future


@pytest.fixture(scope="module")
def sample():
    return simulate(np.random.default_rng(0), 5000, **TRUE, holdout=26.0)


@pytest.fixture(scope="module")
def fit(sample):
    x, tx, T, _ = sample
    return clv.fit_bgnbd(x, tx, T)


def test_recovers_planted_parameters(sample, fit):
    x, tx, T, _ = sample
    print({k: round(fit[k], 3) for k in ("r", "alpha", "a", "b", "log_likelihood")}, fit["se"])
    assert set(fit) >= {"r", "alpha", "a", "b", "log_likelihood"}
    for k, v in TRUE.items():
        assert fit[k] == pytest.approx(v, rel=0.25), k
        assert abs(fit[k] - v) < 3.5 * fit["se"][k], k  # within its own standard error
    # likelihood-ratio check: the planted parameters are inside the 99.9% confidence region
    lr = 2 * (fit["log_likelihood"] - clv.bgnbd_log_likelihood(TRUE, x, tx, T))
    assert 0 <= lr < stats.chi2.ppf(0.999, 4)


def test_optimum_beats_perturbed_parameters(sample, fit):
    x, tx, T, _ = sample
    best = fit["log_likelihood"]
    assert best == pytest.approx(clv.bgnbd_log_likelihood(fit, x, tx, T), abs=1e-6)
    for k in ("r", "alpha", "a", "b"):
        for f in (0.97, 1.03):
            p = {**fit, k: fit[k] * f}
            assert clv.bgnbd_log_likelihood(p, x, tx, T) < best


def test_log_likelihood_matches_the_plain_formula():
    # FHL 2005 eq. 6 written directly with gamma and beta functions (small counts: no overflow)
    r, alpha, a, b = 0.8, 3.0, 1.2, 2.0
    x = np.array([0, 1, 2, 5, 3])
    tx = np.array([0.0, 4.0, 10.0, 20.5, 7.0])
    T = np.array([12.0, 30.0, 25.0, 30.0, 40.0])
    common = G(r + x) * alpha ** r / G(r)
    lik = (B(a, b + x) / B(a, b) * common / (alpha + T) ** (r + x)
           + (x > 0) * B(a + 1, b + np.maximum(x, 1) - 1) / B(a, b) * common / (alpha + tx) ** (r + x))
    got = clv.bgnbd_log_likelihood({"r": r, "alpha": alpha, "a": a, "b": b}, x, tx, T)
    assert got == pytest.approx(np.log(lik).sum(), rel=1e-12)


def test_expected_purchases_match_the_holdout(sample, fit):
    # E[ E[Y(t) | history] ] = E[Y(t)]: summed over 5,000 customers, prediction ~ what they then buy
    x, tx, T, future = sample
    pred = clv.expected_purchases(TRUE, 26, x, tx, T)
    assert pred.shape == x.shape and (pred >= 0).all()
    assert pred.sum() == pytest.approx(future.sum(), rel=0.06)
    assert clv.expected_purchases(fit, 26, x, tx, T).sum() == pytest.approx(future.sum(), rel=0.08)
    # more past purchases at the same recency and age -> more expected
    e = clv.expected_purchases(TRUE, 10, [1, 5, 10], [20, 20, 20], [30, 30, 30])
    assert np.all(np.diff(e) > 0)
    alive = clv.probability_alive(TRUE, [0, 3, 3], [0, 29, 5], [30, 30, 30])
    assert alive[0] == 1 and alive[1] > alive[2]


def test_rfm_from_events_matches_pandas():
    ev = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "c", "c", "d"],
        "event_time": pd.to_datetime(["2026-01-01 09:00", "2026-01-01 17:00", "2026-01-15 10:00",
                                      "2026-02-12 08:00", "2026-01-20 12:00", "2026-01-05 00:00",
                                      "2026-01-06 23:59", "2026-03-20 10:00"]),
        "event_name": ["purchase", "purchase", "purchase", "purchase", "purchase", "purchase", "login",
                       "purchase"],
        "revenue": [10.0, 5.0, 20.0, 30.0, 7.0, 3.0, 0.0, 9.0],
    })
    as_of = pd.Timestamp("2026-03-01")
    s = clv.rfm(ev, as_of=as_of, unit="week", event_name="purchase", value="revenue").set_index("customer_id")
    assert list(s.index) == ["a", "b", "c"]  # d bought after as_of
    days = lambda a, b: (pd.Timestamp(b) - pd.Timestamp(a)).days / 7  # noqa: E731
    assert s.loc["a", "frequency"] == 2  # two purchases on Jan 1 count as one day
    assert s.loc["a", "recency"] == pytest.approx(days("2026-01-01", "2026-02-12"))
    assert s.loc["a", "T"] == pytest.approx(days("2026-01-01", "2026-03-01"))
    assert s.loc["a", "monetary"] == pytest.approx(25.0)  # (20 + 30) / 2, first day excluded
    assert s.loc["c", "frequency"] == 0 and s.loc["c", "recency"] == 0  # the login is not a purchase
    assert np.isnan(s.loc["b", "monetary"])
    params = clv.fit_bgnbd(*simulate(np.random.default_rng(1), 500, **TRUE)[:3])
    assert np.isfinite(clv.expected_purchases(params, 4, s["frequency"], s["recency"], s["T"])).all()


def test_bad_input():
    with pytest.raises(CXDataError):
        clv.fit_bgnbd([1, 2], [5, 40], [30, 30])  # recency > T
    with pytest.raises(CXDataError):
        clv.fit_bgnbd([0, 1.5], [0, 3], [30, 30])
    with pytest.raises(CXDataError):
        clv.fit_bgnbd([0, 1], [2, 3], [30, 30])  # recency without repeat purchases
