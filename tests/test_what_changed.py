"""scorecard.what_changed: exact shift-share split, planted mix / within shifts, bootstrap coverage."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import scorecard
from cxlib.data import CXDataError
from cxlib.scorecard import _shift_share

WEEK = pd.Timestamp("2026-06-01")  # a Monday
NPS_VALUES = np.array([100.0, 0.0, -100.0])


def _parts(r):
    return r.set_index("part").loc[["total", "mix", "within"], "estimate"].to_numpy()


def _check_exact(r):
    total, mix, within = _parts(r)
    seg = r[r.part == "segment"]
    assert abs(mix + within - total) < 1e-12
    assert abs(seg["estimate"].sum() - total) < 1e-12
    assert abs(seg["mix_contribution"].sum() - mix) < 1e-12
    assert abs(seg["within_contribution"].sum() - within) < 1e-12
    assert abs(total - (r.attrs["value_now"] - r.attrs["value_before"])) < 1e-12


def _responses(rng, n_before, n_now, shares_before, shares_now, probs_before, probs_now, prior_weeks=4):
    """Sampled answers: segment s with NPS category probabilities (promoter, passive, detractor)."""
    frames = []
    for n, shares, probs, now in ((n_before, shares_before, probs_before, False), (n_now, shares_now, probs_now, True)):
        segs = list(shares)
        seg = rng.choice(segs, size=n, p=[shares[s] for s in segs])
        cat = np.empty(n, int)
        for s in segs:
            k = seg == s
            cat[k] = rng.choice(3, size=k.sum(), p=probs[s])
        score = np.choose(cat, [10, 7, 3])
        start = WEEK if now else WEEK - pd.Timedelta(weeks=prior_weeks)
        span = 7 if now else 7 * prior_weeks
        t = start + pd.to_timedelta(rng.integers(0, span * 86400, n), unit="s")
        frames.append(pd.DataFrame({"response_time": t, "nps": score, "segment": seg}))
    return pd.concat(frames, ignore_index=True)


def _true(shares_before, shares_now, probs_before, probs_now):
    segs = sorted(set(shares_before) | set(shares_now))
    n0 = np.array([shares_before.get(s, 0) * np.array(probs_before.get(s, [1, 0, 0])) for s in segs])
    n1 = np.array([shares_now.get(s, 0) * np.array(probs_now.get(s, [1, 0, 0])) for s in segs])
    total, mix, within, _, _ = _shift_share(n0, n1, NPS_VALUES)
    return total, mix, within


# ------------------------------------------------------------------------------------------ exactness

@pytest.mark.parametrize("metric,by", [("nps", "touchpoint"), ("nps", ["channel", "plan"]), ("csat", "region")])
def test_parts_sum_exactly_on_the_sample(sample_dir, metric, by):
    r = scorecard.what_changed(sample_dir / "responses.csv", by=by, metric=metric, bootstrap=50)
    _check_exact(r)
    assert list(r["part"][:3]) == ["total", "mix", "within"]
    seg = r[r.part == "segment"]
    assert seg["share_before"].sum() == pytest.approx(1) and seg["share_now"].sum() == pytest.approx(1)
    assert (seg["estimate"].abs().diff().dropna() <= 0).all()  # largest contribution first


def test_total_is_the_headline_change_against_the_prior_weeks(sample_dir):
    head = scorecard.headline(sample_dir / "responses.csv", csat=None, ces=None).set_index("comparison")
    r = scorecard.what_changed(sample_dir / "responses.csv", by="channel", bootstrap=0)
    assert _parts(r)[0] == pytest.approx(head.loc["prior 4 weeks", "change"], abs=1e-9)
    assert r.attrs["week"] == head.attrs["week"]
    assert r["ci_lower"].isna().all() and not r["beyond_noise"].any()


def test_parts_sum_exactly_on_random_data():
    rng = np.random.default_rng(3)
    for _ in range(200):  # counts with empty cells and segments missing from one period
        s, c = rng.integers(1, 8), rng.integers(2, 4)
        n0 = rng.integers(0, 50, (s, c)) * (rng.random((s, 1)) < 0.8)
        n1 = rng.integers(0, 50, (s, c)) * (rng.random((s, 1)) < 0.8)
        n0[0, 0] += 1
        n1[-1, -1] += 1
        values = rng.normal(size=c) * 100
        total, mix, within, mix_s, within_s = _shift_share(n0, n1, values)
        direct = n1.sum(0) @ values / n1.sum() - n0.sum(0) @ values / n0.sum()
        assert abs(total - direct) < 1e-12
        assert abs(mix + within - total) < 1e-12
        assert abs(mix_s.sum() + within_s.sum() - total) < 1e-12
    for seed in range(3):  # and through the engine
        rng = np.random.default_rng(seed)
        shares = dict(zip("abcd", rng.dirichlet(np.ones(4))))
        shares2 = dict(zip("abce", rng.dirichlet(np.ones(4))))  # d disappears, e appears
        probs = {s: rng.dirichlet(np.ones(3)) for s in "abcde"}
        probs2 = {s: rng.dirichlet(np.ones(3)) for s in "abcde"}
        df = _responses(rng, 700, 300, shares, shares2, probs, probs2)
        r = scorecard.what_changed(df, by="segment", week=WEEK, bootstrap=20)
        _check_exact(r)
        seg = r[r.part == "segment"].set_index("segment")
        assert seg.loc["e", "within_contribution"] == 0 and seg.loc["d", "within_contribution"] == 0


# ------------------------------------------------------------------------------------------ planted shifts

def test_planted_mix_shift_is_attributed_to_mix():
    rng = np.random.default_rng(11)
    probs = {"a": [0.70, 0.20, 0.10], "b": [0.20, 0.40, 0.40]}          # NPS +60 and -20 in both periods
    df = _responses(rng, 4000, 2000, {"a": 0.8, "b": 0.2}, {"a": 0.4, "b": 0.6}, probs, probs)
    r = scorecard.what_changed(df, by="segment", week=WEEK, bootstrap=300)
    total, mix, within = _parts(r)
    assert total < -25                      # true change: 12 - 44 = -32 points
    assert mix / total >= 0.9
    parts = r.set_index("part")
    assert parts.loc["mix", "beyond_noise"] and not parts.loc["within", "beyond_noise"]


def test_planted_within_change_is_attributed_to_within():
    rng = np.random.default_rng(12)
    before = {"a": [0.70, 0.20, 0.10], "b": [0.50, 0.30, 0.20]}
    now = {"a": [0.40, 0.20, 0.40], "b": [0.50, 0.30, 0.20]}           # a drops from +60 to 0
    df = _responses(rng, 4000, 2000, {"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}, before, now)
    r = scorecard.what_changed(df, by="segment", week=WEEK, bootstrap=300)
    total, mix, within = _parts(r)
    assert total < -20
    assert within / total >= 0.9
    seg = r[r.part == "segment"]
    assert seg.iloc[0]["segment"] == "a" and seg.iloc[0]["beyond_noise"]   # named as the mover
    parts = r.set_index("part")
    assert parts.loc["within", "beyond_noise"] and not parts.loc["mix", "beyond_noise"]


def test_bootstrap_intervals_cover_the_true_parts():
    shares0, shares1 = {"a": 0.5, "b": 0.3, "c": 0.2}, {"a": 0.35, "b": 0.35, "c": 0.3}
    probs0 = {"a": [0.6, 0.3, 0.1], "b": [0.4, 0.3, 0.3], "c": [0.2, 0.3, 0.5]}
    probs1 = {"a": [0.5, 0.3, 0.2], "b": [0.4, 0.3, 0.3], "c": [0.3, 0.3, 0.4]}
    truth = _true(shares0, shares1, probs0, probs1)
    reps, hits = 60, np.zeros(3)
    for i in range(reps):
        rng = np.random.default_rng(1000 + i)
        df = _responses(rng, 800, 250, shares0, shares1, probs0, probs1)
        r = scorecard.what_changed(df, by="segment", week=WEEK, bootstrap=300, seed=i).set_index("part")
        for k, part in enumerate(("total", "mix", "within")):
            hits[k] += r.loc[part, "ci_lower"] <= truth[k] <= r.loc[part, "ci_upper"]
    coverage = hits / reps
    assert (coverage >= 0.85).all(), coverage


# ------------------------------------------------------------------------------------------ plumbing

def test_seeded_and_errors(sample_dir):
    a = scorecard.what_changed(sample_dir / "responses.csv", by="plan", bootstrap=100, seed=5)
    b = scorecard.what_changed(sample_dir / "responses.csv", by="plan", bootstrap=100, seed=5)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(CXDataError, match="metric"):
        scorecard.what_changed(sample_dir / "responses.csv", by="plan", metric="ces")
    with pytest.raises(CXDataError, match="after the analysis date"):  # a week not yet over is an error
        scorecard.what_changed(sample_dir / "responses.csv", by="plan", week="2030-01-07")
    with pytest.raises(CXDataError, match="personal"):
        scorecard.what_changed(sample_dir / "responses.csv", by="email")
