"""Friction: on journeys with every stage on target a friction is flagged in at most 5% of runs; a real
shortfall is found; ranks carry bootstrap intervals; the top two are said to be tied when they are."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import journey
from cxlib.journey.friction import control_limit, friction

TARGETS = np.array([0.8, 0.8, 0.6, 0.9, 0.8, 0.7])
SIZES = np.array([600, 2300, 900, 6000, 300, 1200])


def _stages(shares, sizes, rng):
    k = rng.binomial(sizes, shares)
    return pd.DataFrame({"stage": [f"s{i}" for i in range(len(sizes))], "target": TARGETS[:len(sizes)],
                         "promise_n": sizes, "promise_k": k})


def _flag_rate(sizes, allowance, runs, seed):
    """Share of simulated on-target journeys with any stage below its control limit (vectorised: the rule
    friction() applies, with its z), checked against friction() itself on the first runs."""
    rng = np.random.default_rng(seed)
    k = rng.binomial(sizes, TARGETS[:len(sizes)], size=(runs, len(sizes)))
    first = friction(pd.DataFrame({"target": TARGETS[:len(sizes)], "promise_n": sizes, "promise_k": k[0]}),
                     allowance=allowance, n_boot=0)
    lim = control_limit(TARGETS[:len(sizes)], sizes, z=first.attrs["z"], allowance=allowance)
    flagged = (k / sizes < lim).any(axis=1)
    for r in range(100):  # the vectorised rule is friction()'s
        f = friction(pd.DataFrame({"target": TARGETS[:len(sizes)], "promise_n": sizes, "promise_k": k[r]}),
                     allowance=allowance, n_boot=0)
        assert bool((f["friction"] > 0).any()) == bool(flagged[r])
    return flagged.mean()


@pytest.mark.parametrize("allowance", [0.0, 0.02])
def test_on_target_journeys_flag_a_friction_in_at_most_5_percent_of_runs(allowance):
    assert _flag_rate(SIZES, allowance, 20_000, 1) <= 0.05


def test_small_stages_on_target_are_not_flagged_either():
    assert _flag_rate(np.array([40, 25, 60, 35, 80, 30]), 0.02, 20_000, 2) <= 0.05


def test_a_real_shortfall_is_found_and_sized_in_customers():
    rng = np.random.default_rng(3)
    shares = TARGETS.copy()
    shares[1] = 0.7  # ten points short over 2,300 customers: about 230 customers
    hits, sizes = 0, []
    for _ in range(200):
        f = friction(_stages(shares, SIZES, rng), n_boot=0)
        hits += bool(f.loc[1, "friction"] > 0)
        sizes.append(f.loc[1, "shortfall"])
    assert hits / 200 > 0.95
    assert np.mean(sizes) == pytest.approx(230, rel=0.1)


def test_limits_narrow_with_n_and_keep_the_allowance():
    small, large = control_limit(0.8, [100, 10_000], z=2.0, allowance=0.02)
    assert small < large < 0.8
    assert control_limit(0.8, 10 ** 9, z=2.0, allowance=0.02) == pytest.approx(0.8 - 0.04, abs=1e-4)


def test_ranks_with_intervals_and_the_top_two_tied():
    m = pd.DataFrame({"stage": ["a", "b", "c"], "target": [0.8, 0.8, 0.8], "promise_n": [5000, 5000, 5000],
                      "promise_k": [3500, 3505, 4000]})
    f = friction(m)
    assert list(f["rank"].iloc[:2]) == [1.0, 2.0] and np.isnan(f.loc[2, "rank"])
    assert f.loc[0, "rank_ci_lower"] == 1 and f.loc[0, "rank_ci_upper"] == 2
    assert f.attrs["top_two_apart"] is False
    m.loc[1, "promise_k"] = 3700  # 300 short against 500: told apart
    assert friction(m).attrs["top_two_apart"] is True


def test_end_to_end_on_target_journeys_rarely_flag(tmp_path):
    """Events simulated with every stage reached on target: the whole map, a few runs (slower)."""
    j = {"stages": [{"name": "A", "promise": "p", "events": ["a"]},
                    {"name": "B", "promise": "p", "events": ["b"], "target": {"share": 0.7, "within_days": 7}},
                    {"name": "C", "promise": "p", "events": ["c"], "target": {"max_share": 0.4, "within_days": 7}}]}
    flagged = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        n = 800
        t0 = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 60, n), unit="D")
        b = rng.random(n) < 0.7
        c = b & (rng.random(n) < 0.6)
        rows = [pd.DataFrame({"customer_id": np.arange(n), "event_name": "a", "event_time": t0})]
        tb = t0 + pd.to_timedelta(rng.uniform(0, 6.9, n), unit="D")
        rows.append(pd.DataFrame({"customer_id": np.arange(n)[b], "event_name": "b", "event_time": tb[b]}))
        tc = tb + pd.to_timedelta(rng.uniform(0, 6.9, n), unit="D")
        rows.append(pd.DataFrame({"customer_id": np.arange(n)[c], "event_name": "c", "event_time": tc[c]}))
        ev = pd.concat(rows, ignore_index=True)
        m = journey.journey_map(ev, journey=j, as_of="2026-04-01", n_boot=19)
        flagged += bool((m["friction"] > 0).any())
    assert flagged <= 1
