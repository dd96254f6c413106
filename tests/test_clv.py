"""BG/NBD and Gamma-Gamma (cxlib.clv): the published CDNOW fits, planted-parameter recovery on data
simulated from the BG/NBD process, the likelihoods against separately written (non-log) formulas, CLV
against simulated holdout revenue, and rfm against pandas.

The CDNOW summaries are the public files shipped in the ``lifetimes`` 0.11.3 wheel (MIT), copied to
tests/fixtures/cdnow/ (see its README): Fader, Hardie & Lee (2005) report r 0.243, alpha 4.414, a 0.793,
b 2.426, log-likelihood -9582.4 on the 2,357 customers (T in weeks); the lifetimes documentation reports
the Gamma-Gamma fit p 6.25, q 3.74, v 15.45 on the 946 repeat buyers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import beta as B
from scipy.special import gamma as G

from cxlib import clv
from cxlib.paths import PROJECT_ROOT
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
    # T runs to the day of the table's last event on or before as_of (12 Feb; d's purchase is after as_of),
    # not to as_of (issue 21: observation ends at the earlier of the two)
    assert s.loc["a", "T"] == pytest.approx(days("2026-01-01", "2026-02-12"))
    assert s.attrs["data_end"] == pd.Timestamp("2026-02-12 08:00")
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


CDNOW = PROJECT_ROOT / "tests" / "fixtures" / "cdnow"


def test_cdnow_bgnbd_reproduces_the_published_fit():
    d = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    assert len(d) == 2357
    fit = clv.fit_bgnbd(d["frequency"], d["recency"], d["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for k, v in published.items():
        assert round(fit[k], 3) == v, (k, fit[k])
    assert round(fit["log_likelihood"], 1) == -9582.4


def test_cdnow_gamma_gamma_reproduces_the_published_fit():
    d = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    fit = clv.fit_gamma_gamma(d["x"], d["zbar"])  # customers without repeat purchases are left out
    assert fit["n"] == int((d["x"] > 0).sum()) == 946
    assert round(fit["p"], 2) == 6.25 and round(fit["q"], 2) == 3.74 and round(fit["v"], 2) == 15.45
    # lifetimes' documented conditional expected average profit of the first customers
    got = clv.expected_spend(fit, d["x"].head(4), d["zbar"].head(4))
    assert got == pytest.approx([24.658616, 18.911480, 35.170981, 35.170981], abs=2e-3)


def test_gamma_gamma_log_likelihood_matches_the_plain_formula():
    # the density of the mean of x Gamma(p, nu) values integrated over nu ~ Gamma(q, v), written out
    p, q, v = 3.0, 4.0, 20.0
    x = np.array([1, 2, 4, 7])
    m = np.array([12.0, 30.0, 8.5, 22.0])
    dens = (G(p * x + q) / (G(p * x) * G(q)) * v ** q * m ** (p * x - 1) * x ** (p * x)
            / (v + m * x) ** (p * x + q))
    got = clv.gamma_gamma_log_likelihood({"p": p, "q": q, "v": v}, x, m)
    assert got == pytest.approx(np.log(dens).sum(), rel=1e-12)
    # and numerically: integrate the Gamma(p x, rate x nu) density of the mean over nu
    from scipy import integrate
    for xi, mi in zip(x, m):
        f = lambda nu: stats.gamma.pdf(mi, p * xi, scale=1 / (xi * nu)) * stats.gamma.pdf(nu, q, scale=1 / v)  # noqa: E731
        val = integrate.quad(f, 0, np.inf, limit=200)[0]
        assert np.log(val) == pytest.approx(clv.gamma_gamma_log_likelihood({"p": p, "q": q, "v": v}, [xi], [mi]),
                                            rel=1e-6)


def test_gamma_gamma_and_clv_on_simulated_customers():
    rng = np.random.default_rng(11)
    n, gg_true = 20_000, {"p": 4.0, "q": 3.5, "v": 60.0}
    x, tx, T, future = simulate(rng, n, **TRUE, holdout=26.0)
    nu = rng.gamma(gg_true["q"], 1 / gg_true["v"], n)  # per-customer rate of the spend distribution
    m = np.where(x > 0, rng.gamma(gg_true["p"] * np.maximum(x, 1), 1 / (np.maximum(x, 1) * nu)), np.nan)
    fit = clv.fit_gamma_gamma(x, m)
    for k, v in gg_true.items():
        assert abs(fit[k] - v) < 3.5 * fit["se"][k], (k, fit[k], fit["se"][k])
    assert fit["mean_spend"] == pytest.approx(gg_true["p"] * gg_true["v"] / (gg_true["q"] - 1), rel=0.05)
    # future revenue: each future purchase ~ Gamma(p, nu); sum over customers vs the model's expectation
    revenue = rng.gamma(gg_true["p"] * np.maximum(future, 1), 1 / nu) * (future > 0)
    pred = clv.expected_clv(TRUE, gg_true, x, tx, T, m, horizon=26.0, steps=13)
    assert pred.shape == (n,) and (pred >= 0).all()
    assert pred.sum() == pytest.approx(revenue.sum(), rel=0.08)
    # no discount: CLV = expected purchases x expected spend; a discount lowers it
    flat = clv.expected_purchases(TRUE, 26.0, x, tx, T) * clv.expected_spend(gg_true, x, m)
    assert pred == pytest.approx(flat, rel=1e-10)
    assert (clv.expected_clv(TRUE, gg_true, x, tx, T, m, horizon=26.0, discount_rate=0.01) <= pred + 1e-12).all()


def test_clv_table_from_events():
    rng = np.random.default_rng(2)
    rows = []
    for i in range(400):
        k = 1 + rng.poisson(3)
        days = np.sort(rng.choice(np.arange(0, 300), size=k, replace=False))
        rows += [(f"c{i}", pd.Timestamp("2026-01-01") + pd.Timedelta(days=int(d)), float(rng.gamma(3, 10)))
                 for d in days]
    ev = pd.DataFrame(rows, columns=["customer_id", "event_time", "revenue"])
    out = clv.clv_table(ev, as_of="2026-12-31", horizon=26)
    assert len(out) == 400 and {"p_alive", "expected_clv", "expected_spend"} <= set(out.columns)
    assert out["expected_clv"].notna().all() and (out["expected_clv"] >= 0).all()
    assert set(out.attrs["bgnbd"]) >= {"r", "alpha", "a", "b"} and set(out.attrs["gamma_gamma"]) >= {"p", "q", "v"}


def test_gamma_gamma_bad_input():
    with pytest.raises(CXDataError, match="monetary"):
        clv.fit_gamma_gamma([1, 2, 3], [10.0, -1.0, 5.0])
    with pytest.raises(CXDataError, match="at least 3"):
        clv.fit_gamma_gamma([0, 0, 1], [np.nan, np.nan, 5.0])
    with pytest.raises(CXDataError, match="same length"):
        clv.fit_gamma_gamma([1, 2], [1.0])


@pytest.mark.slow
def test_a_million_customers_fit_in_under_2_gb(tmp_path):
    """BG/NBD + Gamma-Gamma fits and CLV predictions for 1M simulated customers (weeks with two
    decimals, like the CDNOW summary) in a fresh process; its peak resident memory is read back."""
    import subprocess
    import sys

    script = tmp_path / "big.py"
    script.write_text(
        "import resource, sys, time, json\n"
        "import numpy as np\n"
        "sys.path.insert(0, %r)\n"
        "from test_clv import simulate, TRUE\n"
        "from cxlib import clv\n"
        "rng = np.random.default_rng(4)\n"
        "x, tx, T, _ = simulate(rng, 1_000_000, **TRUE)\n"
        "tx, T = np.round(tx, 2), np.round(T, 2)\n"
        "m = np.where(x > 0, np.round(rng.gamma(4.0, 15.0, x.size), 2), np.nan)\n"
        "t0 = time.time()\n"
        "bg = clv.fit_bgnbd(x, tx, T)\n"
        "gg = clv.fit_gamma_gamma(x, m)\n"
        "v = clv.expected_clv(bg, gg, x, tx, T, m, horizon=52.0)\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'rss_mb': rss, 'seconds': time.time() - t0, 'r': bg['r'], 'p': gg['p'], 'n': bg['n']}))\n"
        % str(PROJECT_ROOT / "tests"))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=1200, check=True)
    import json
    res = json.loads(out.stdout.strip().splitlines()[-1])
    print(res)
    assert res["n"] == 1_000_000
    assert res["rss_mb"] < 2048
    assert res["r"] == pytest.approx(TRUE["r"], rel=0.05)


def test_expected_spend_is_blank_not_negative_when_the_spend_mean_does_not_exist():
    # q <= 1: the Gamma-Gamma population mean p v / (q - 1) is infinite; E[Z | x = 0] does not exist
    got = clv.expected_spend({"p": 2.0, "q": 0.8, "v": 10.0}, [0, 1, 3], [np.nan, 50.0, 40.0])
    assert np.isnan(got[0])
    want = [2.0 * (10 + 1 * 50) / (2 * 1 + 0.8 - 1), 2.0 * (10 + 3 * 40) / (2 * 3 + 0.8 - 1)]
    np.testing.assert_allclose(got[1:], want, rtol=1e-12)
    assert (got[1:] > 0).all()
