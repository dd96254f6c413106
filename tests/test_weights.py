"""Survey weights (weights=, metrics.rake) and the small-sample NPS interval (interval='auto').

Reference values are computed independently here with numpy on the raw rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import gammaln

from cxlib import metrics
from cxlib.data import CXDataError

Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def survey():
    rng = np.random.default_rng(11)
    n = 800
    plan = rng.choice(["basic", "pro"], n, p=[0.7, 0.3])
    channel = rng.choice(["email", "chat", "phone"], n, p=[0.5, 0.3, 0.2])
    df = pd.DataFrame({
        "nps": rng.integers(0, 11, n), "csat": rng.integers(1, 6, n), "ces": rng.integers(1, 8, n),
        "plan": plan, "channel": channel, "w": rng.gamma(2.0, 0.5, n),
    })
    df.loc[rng.choice(n, 40, replace=False), "nps"] = np.nan  # unanswered: not counted
    return df


def _kish(w):
    return w.sum() ** 2 / (w ** 2).sum()


# ------------------------------------------------------------------------------------------ weighted metrics

def test_weighted_nps_equals_direct_numpy(survey):
    r = metrics.nps(survey, weights="w", by="plan", min_n=1).set_index("plan")
    for plan, g in survey.dropna(subset=["nps"]).groupby("plan"):
        w, s = g["w"].to_numpy(), g["nps"].to_numpy()
        p, d = np.average(s >= 9, weights=w), np.average(s <= 6, weights=w)
        n_eff = _kish(w)
        se = 100 * np.sqrt((p + d - (p - d) ** 2) / n_eff)
        row = r.loc[plan]
        assert row["n"] == len(g)  # raw answers
        assert row["n_effective"] == pytest.approx(n_eff, rel=1e-10)
        assert row["nps"] == pytest.approx(100 * (p - d), rel=1e-10)
        assert row["se"] == pytest.approx(se, rel=1e-10)
        assert row["interval_method"] == "wald"  # n_effective >= 100
        assert row["ci_lower"] == pytest.approx(100 * (p - d) - Z * se, rel=1e-9)
        assert row["ci_upper"] == pytest.approx(100 * (p - d) + Z * se, rel=1e-9)


def test_unit_weights_reproduce_unweighted(survey):
    df = survey.assign(one=1.0)
    a = metrics.nps(df, by="channel", weights="one")
    b = metrics.nps(df, by="channel")
    for col in ("n", "nps", "se", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(a["n_effective"], a["n"])


def test_weighted_csat_equals_direct_numpy(survey):
    r = metrics.csat(survey, weights="w").iloc[0]
    w, sat = survey["w"].to_numpy(), survey["csat"].to_numpy() >= 4
    est, n_eff = np.average(sat, weights=w), _kish(w)
    # Wilson interval on the effective n, written out
    centre = (est + Z ** 2 / (2 * n_eff)) / (1 + Z ** 2 / n_eff)
    half = Z / (1 + Z ** 2 / n_eff) * np.sqrt(est * (1 - est) / n_eff + Z ** 2 / (4 * n_eff ** 2))
    assert r["csat"] == pytest.approx(est, rel=1e-12)
    assert r["n_effective"] == pytest.approx(n_eff, rel=1e-10)
    assert r["ci_lower"] == pytest.approx(centre - half, rel=1e-8)
    assert r["ci_upper"] == pytest.approx(centre + half, rel=1e-8)


def test_weighted_ces_equals_direct_numpy(survey):
    r = metrics.ces(survey, weights="w", by="channel").set_index("channel")
    for ch, g in survey.groupby("channel"):
        w, x = g["w"].to_numpy(), g["ces"].to_numpy(float)
        m = np.average(x, weights=w)
        n_eff = _kish(w)
        var = np.average((x - m) ** 2, weights=w) * n_eff / (n_eff - 1)
        se = np.sqrt(var / n_eff)
        tq = stats.t.ppf(0.975, n_eff - 1)
        row = r.loc[ch]
        assert row["ces"] == pytest.approx(m, rel=1e-12)
        assert row["se"] == pytest.approx(se, rel=1e-9)
        assert row["ci_lower"] == pytest.approx(m - tq * se, rel=1e-9)
        assert row["easy_share"] == pytest.approx(np.average(x >= 6, weights=w), rel=1e-12)


def test_weights_must_be_non_negative_numbers(survey):
    with pytest.raises(CXDataError, match="w"):
        metrics.nps(survey.assign(w=-survey["w"]), weights="w")
    with pytest.raises(CXDataError, match="missing|not found|column"):
        metrics.csat(survey, weights="no_such_column")


# ------------------------------------------------------------------------------------------ raking

TARGETS = {"plan": {"basic": 0.55, "pro": 0.45}, "channel": {"email": 0.3, "chat": 0.4, "phone": 0.3}}


def test_rake_reproduces_margins_and_aligns_to_rows(survey):
    df = survey.set_index(pd.Index(np.arange(len(survey))[::-1] * 3))  # a non-default index
    w = metrics.rake(df, targets=TARGETS)
    assert isinstance(w, pd.Series) and w.index.equals(df.index)
    assert w.sum() == pytest.approx(len(df)) and (w > 0).all()
    for col, shares in TARGETS.items():
        got = w.groupby(df[col]).sum() / w.sum()
        for cat, share in shares.items():
            assert got[cat] == pytest.approx(share, abs=1e-6)
    # weights depend only on the (plan, channel) cell
    assert (w.groupby([df["plan"], df["channel"]]).nunique() == 1).all()
    assert w.attrs["design_effect"] == pytest.approx(len(w) * (w ** 2).sum() / w.sum() ** 2)


def test_rake_with_base_weights_and_groups(survey):
    df = survey.assign(wave=np.arange(len(survey)) % 2)
    w = metrics.rake(df, targets=TARGETS, weight_column="w", by="wave")
    for wave, g in df.groupby("wave"):
        ww = w[g.index]
        assert ww.sum() == pytest.approx(g["w"].sum())
        for col, shares in TARGETS.items():
            got = ww.groupby(g[col]).sum() / ww.sum()
            for cat, share in shares.items():
                assert got[cat] == pytest.approx(share, abs=1e-6)
    # one variable: raking is post-stratification, w = base * target * total / cell total
    w1 = metrics.rake(df, targets={"plan": TARGETS["plan"]}, weight_column="w")
    cell = df.groupby("plan")["w"].transform("sum")
    expected = df["w"] * df["plan"].map(TARGETS["plan"]) * df["w"].sum() / cell
    np.testing.assert_allclose(w1.to_numpy(), expected.to_numpy(), rtol=1e-9)


def test_rake_bad_targets(survey):
    with pytest.raises(CXDataError, match="absent"):
        metrics.rake(survey, targets={"plan": {"basic": 0.5, "pro": 0.3, "enterprise": 0.2}})
    with pytest.raises(CXDataError, match="sum to 1"):
        metrics.rake(survey, targets={"plan": {"basic": 0.65, "pro": 0.25}})
    with pytest.raises(CXDataError, match="without a target"):
        metrics.rake(survey, targets={"channel": {"email": 0.5, "chat": 0.5}})
    with pytest.raises(CXDataError):
        metrics.rake(survey, targets={"region": {"eu": 1.0}})


def test_raked_nps_covers_population_value_under_nonresponse_bias():
    """Planted non-response bias: pro customers are happier and answer 4x as often (and chat users
    2x as often). The raked NPS interval (Kish effective n) must cover the population NPS in >= 93%
    of 300 surveys; the unweighted interval (describing respondents, not customers) must not."""
    rng = np.random.default_rng(2026)
    N, runs = 12_000, 300
    plan = rng.choice(["basic", "pro"], N, p=[0.7, 0.3])
    channel = rng.choice(["email", "chat"], N, p=[0.6, 0.4])
    pro, chat = plan == "pro", channel == "chat"
    # P(detractor), P(promoter) by plan and channel; the rest passive
    p_det = np.where(pro, 0.10, 0.40) + np.where(chat, -0.05, 0.05)
    p_pro = np.where(pro, 0.60, 0.25) + np.where(chat, 0.05, -0.05)
    u = rng.random(N)
    score = np.where(u < p_det, 3, np.where(u < p_det + p_pro, 10, 8))
    truth = 100 * ((score >= 9).mean() - (score <= 6).mean())
    targets = {"plan": {k: float(np.mean(plan == k)) for k in ("basic", "pro")},
               "channel": {k: float(np.mean(channel == k)) for k in ("email", "chat")}}
    rate = np.where(pro, 0.12, 0.03) * np.where(chat, 1.5, 0.75)  # multiplicative response propensity
    respond = rng.random((runs, N)) < rate  # runs x population
    run_idx, who = np.nonzero(respond)
    df = pd.DataFrame({"run": run_idx, "nps": score[who], "plan": plan[who], "channel": channel[who]})
    df["w"] = metrics.rake(df, targets=targets, by="run")
    raked = metrics.nps(df, by="run", weights="w")
    plain = metrics.nps(df, by="run")
    cover = lambda r: float(((r["ci_lower"] <= truth) & (truth <= r["ci_upper"])).mean())  # noqa: E731
    c_raked, c_plain = cover(raked), cover(plain)
    print(f"population NPS {truth:.1f}; coverage raked {c_raked:.3f}, unweighted {c_plain:.3f}; "
          f"mean raked {raked['nps'].mean():.1f}, mean unweighted {plain['nps'].mean():.1f}")
    assert len(raked) == runs
    assert c_raked >= 0.93
    assert c_plain < 0.5
    assert abs(raked["nps"].mean() - truth) < 1.0  # raking removes the bias


# ------------------------------------------------------------------------------------------ small-sample NPS

def _exact_coverage(n, p, d, interval):
    """Exact coverage of the 95% interval: sum of trinomial probabilities of the outcomes it covers."""
    P, D = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = P + D <= n
    P, D = P[keep], D[keep]
    logpmf = (gammaln(n + 1) - gammaln(P + 1) - gammaln(D + 1) - gammaln(n - P - D + 1)
              + P * np.log(p) + D * np.log(d) + (n - P - D) * np.log(1 - p - d))
    r = metrics.nps_from_counts(pd.DataFrame({"n": n, "promoters": P, "detractors": D}), interval=interval,
                                min_n=1)
    truth = 100 * (p - d)
    hit = ((r["ci_lower"] <= truth + 1e-9) & (truth - 1e-9 <= r["ci_upper"])).to_numpy()
    return float(np.exp(logpmf)[hit].sum())


SHARES = [(p, d) for p in (0.05, 0.2, 0.4, 0.6, 0.8, 0.9) for d in (0.02, 0.1, 0.3, 0.5) if p + d < 0.99]


def test_adjusted_wald_is_the_better_default_below_100():
    """Decides interval='auto': exact coverage over n = 10..500 and a grid of true (promoter,
    detractor) shares. Below 100 answers the adjusted Wald is closer to 95% (on average and in the
    worst case); from 100 on the Wald interval is within about a point of 95% too."""
    summary = {}
    for n in (10, 20, 30, 50, 75, 99, 100, 200, 500):
        for method in ("wald", "adjusted_wald"):
            cov = np.array([_exact_coverage(n, p, d, method) for p, d in SHARES])
            summary[n, method] = (cov.mean(), cov.min(), np.abs(cov - 0.95).mean())
    for (n, m), (mean, low, dev) in sorted(summary.items()):
        print(f"n={n:3d} {m:13s} mean {mean:.4f} min {low:.4f} mean |cov-0.95| {dev:.4f}")
    for n in (10, 20, 30, 50, 75, 99):
        w, a = summary[n, "wald"], summary[n, "adjusted_wald"]
        assert a[2] < w[2] and a[1] > w[1]
        assert 0.94 <= a[0] <= 0.96
    assert summary[10, "wald"][0] < 0.9  # the plain Wald interval fails small segments
    for n in (100, 200, 500):
        assert abs(summary[n, "wald"][0] - 0.95) < 0.01
        assert abs(summary[n, "adjusted_wald"][0] - 0.95) < 0.01


def test_auto_interval_default_and_method_column():
    counts = pd.DataFrame({"n": [10, 99, 100, 400], "promoters": [10, 60, 60, 240], "detractors": [0, 10, 10, 40]})
    r = metrics.nps_from_counts(counts, min_n=1)
    assert list(r["interval_method"]) == ["adjusted_wald", "adjusted_wald", "wald", "wald"]
    a = metrics.nps_from_counts(counts, min_n=1, interval="adjusted_wald")
    w = metrics.nps_from_counts(counts, min_n=1, interval="wald")
    np.testing.assert_allclose(r["ci_lower"][:2], a["ci_lower"][:2])
    np.testing.assert_allclose(r["ci_lower"][2:], w["ci_lower"][2:])
    # 10 of 10 promoters: no longer the degenerate [100, 100]
    top = r.iloc[0]
    assert top["nps"] == 100 and top["ci_upper"] == 100 and top["ci_lower"] < 80
    # Rocks 2016 by hand: add z^2/4 to promoters and detractors, z^2 to n
    n_adj = 10 + Z ** 2
    pa, da = (10 + Z ** 2 / 4) / n_adj, (Z ** 2 / 4) / n_adj
    assert top["ci_lower"] == pytest.approx(100 * (pa - da) - Z * 100 * np.sqrt((pa + da - (pa - da) ** 2) / n_adj))


def test_auto_interval_through_nps():
    df = pd.DataFrame({"nps": [10] * 10 + [9, 7, 3] * 40, "seg": ["small"] * 10 + ["big"] * 120})
    r = metrics.nps(df, by="seg", min_n=5).set_index("seg")
    assert r.loc["small", "interval_method"] == "adjusted_wald" and r.loc["small", "ci_lower"] < 100
    assert r.loc["big", "interval_method"] == "wald"
    with pytest.raises(CXDataError, match="interval"):
        metrics.nps(df, interval="exact")
