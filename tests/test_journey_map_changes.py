"""The journey map's change from the previous period, for every per-stage metric that has one (conversion,
promise share, NPS, CSAT, CES at the touchpoint): each equals an independent pandas/scipy computation on the
latest complete month against the one before, and "beyond noise" follows Benjamini–Hochberg over all stages
and metrics together (statsmodels ``multipletests`` on the same p-values)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from cxlib import journey

AS_OF = pd.Timestamp("2026-04-30 23:59:59")
JOURNEY = {"stages": [
    {"name": "Sign-up", "promise": "Quick sign-up.", "events": ["signup"], "touchpoint": "discovery",
     "target": {"max_detractors": 0.3}, "owner": "Marketing"},
    {"name": "Set-up", "promise": "Set up within a week.", "events": ["setup"], "touchpoint": "onboarding",
     "target": {"share": 0.7, "within_days": 7}, "owner": "Onboarding"},
    {"name": "Buy", "promise": "A purchase within 30 days.", "events": ["buy"], "target": {"max_share": 0.5},
     "owner": "Growth"},
    {"name": "Support", "promise": "Fast first replies.", "ticket_channels": ["email", "chat"],
     "touchpoint": "support", "target": {"share": 0.9, "first_response": True}, "owner": "Support"},
]}
TARGETS = {"email": 12.0, "chat": 0.1}
METRICS = ("conversion", "promise", "nps", "csat", "ces")
MONTH = pd.DateOffset(months=1)


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(24)
    n = 900
    ids = [f"C{i:04d}" for i in range(n)]
    t0 = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 118, n), unit="D")
    rows = []
    for c, t in zip(ids, t0):
        rows.append((c, t, "signup"))
        if rng.random() < 0.8:
            t1 = t + pd.Timedelta(days=float(rng.exponential(5)))
            rows.append((c, t1, "setup"))
            if rng.random() < 0.5:
                rows.append((c, t1 + pd.Timedelta(days=float(rng.exponential(8))), "buy"))
    ev = pd.DataFrame(rows, columns=["customer_id", "event_time", "event_name"])
    m = 1600
    when = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 119.9, m), unit="D")
    tp = rng.choice(["discovery", "onboarding", "support"], m)
    nps = rng.integers(0, 11, m)
    # planted: onboarding answers in March are mostly detractors (NPS falls beyond noise)
    march = (when >= pd.Timestamp("2026-03-01")) & (when < pd.Timestamp("2026-04-01")) & (tp == "onboarding")
    nps = np.where(march, rng.integers(0, 8, m), nps)
    resp = pd.DataFrame({"respondent_id": np.arange(m), "customer_id": rng.choice(ids, m), "response_time": when,
                         "touchpoint": tp, "nps": nps, "csat": rng.integers(1, 6, m),
                         "ces": rng.integers(1, 8, m)})
    k = 700
    created = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 119.9, k), unit="D")
    tk = pd.DataFrame({"ticket_id": np.arange(k), "customer_id": rng.choice(ids, k), "created_at": created,
                       "first_response_at": created + pd.to_timedelta(rng.exponential(5, k), unit="h"),
                       "channel": rng.choice(["email", "chat"], k)})
    return ev, resp, tk


@pytest.fixture(scope="module")
def result(tables):
    ev, resp, tk = tables
    return journey.journey_map(ev, responses=resp, tickets=tk, journey=JOURNEY, as_of=AS_OF, targets=TARGETS,
                               n_boot=0)


def _months(when: pd.Series, lag_days: float, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The latest month ended ``lag_days`` before ``end``, and the month before it."""
    starts = sorted(set(when.dt.to_period("M").dt.start_time))
    done = [s for s in starts if s + MONTH + pd.Timedelta(days=lag_days) <= end]
    return done[-1], done[-1] - MONTH


def _share_change(k1, n1, k0, n0):
    p1, p0 = k1 / n1, k0 / n0
    se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return p1 - p0, se


def _check(row, metric, diff, se, month):
    assert row[f"{metric}_change"] == pytest.approx(diff, rel=1e-9)
    assert (row[f"{metric}_change_ci_lower"], row[f"{metric}_change_ci_upper"]) == pytest.approx(
        (diff - 1.959963984540054 * se, diff + 1.959963984540054 * se), rel=1e-9)
    assert row[f"{metric}_change_p"] == pytest.approx(2 * norm.sf(abs(diff) / se), rel=1e-9)
    assert pd.Timestamp(row[f"{metric}_change_period"]) == month


def _reach(ev):
    t0 = ev[ev.event_name == "signup"].groupby("customer_id")["event_time"].min()
    s = ev[ev.event_name == "setup"].merge(t0.rename("t0"), left_on="customer_id", right_index=True)
    t1 = s[s.event_time >= s.t0].groupby("customer_id")["event_time"].min()
    b = ev[ev.event_name == "buy"].merge(t1.rename("t1"), left_on="customer_id", right_index=True)
    t2 = b[b.event_time >= b.t1].groupby("customer_id")["event_time"].min()
    return pd.DataFrame({"t0": t0, "t1": t1, "t2": t2})


def test_conversion_and_reach_promise_changes(tables, result):
    ev = tables[0]
    ev = ev[ev["event_time"] <= AS_OF]  # later events are left out by the map
    w, end = _reach(ev), ev["event_time"].max()
    m = result.set_index("stage")
    for stage, prev, cur, days, metric in (("Set-up", "t0", "t1", 30, "conversion"),
                                           ("Buy", "t1", "t2", 30, "conversion"),
                                           ("Set-up", "t0", "t1", 7, "promise"), ("Buy", "t1", "t2", 30, "promise")):
        g = w[w[prev].notna() & (w[prev] + pd.Timedelta(days=days) <= end)]
        got = g[cur].notna() & (g[cur] - g[prev] <= pd.Timedelta(days=days))
        month = g[prev].dt.to_period("M").dt.start_time
        this, before = _months(w.loc[w[prev].notna(), prev], days, end)
        k1, n1 = int(got[month == this].sum()), int((month == this).sum())
        k0, n0 = int(got[month == before].sum()), int((month == before).sum())
        _check(m.loc[stage], metric, *_share_change(k1, n1, k0, n0), this)
    # a 30-day window leaves March open; a 7-day one closes it
    assert m.loc["Set-up", "conversion_change_period"] == pd.Timestamp("2026-02-01")
    assert m.loc["Set-up", "promise_change_period"] == pd.Timestamp("2026-03-01")


def test_first_reply_promise_change(tables, result):
    tk = tables[2]
    end = tk["created_at"].max()
    lim = pd.to_timedelta(tk["channel"].map(TARGETS), unit="h")
    elig = tk[tk["created_at"] + lim <= end]
    got = elig["first_response_at"] - elig["created_at"] <= lim[elig.index]
    month = elig["created_at"].dt.to_period("M").dt.start_time
    this, before = _months(tk["created_at"], 12 / 24, end)
    k1, n1 = int(got[month == this].sum()), int((month == this).sum())
    k0, n0 = int(got[month == before].sum()), int((month == before).sum())
    _check(result.set_index("stage").loc["Support"], "promise", *_share_change(k1, n1, k0, n0), this)


def test_score_changes_at_the_touchpoint(tables, result):
    resp = tables[1]
    end = min(AS_OF, resp["response_time"].max())
    this, before = _months(resp["response_time"], 0, end)
    assert (this, before) == (pd.Timestamp("2026-03-01"), pd.Timestamp("2026-02-01"))
    month = resp["response_time"].dt.to_period("M").dt.start_time
    m = result.set_index("stage")
    for stage, tp in (("Sign-up", "discovery"), ("Set-up", "onboarding"), ("Support", "support")):
        a, b = resp[(resp.touchpoint == tp) & (month == this)], resp[(resp.touchpoint == tp) & (month == before)]
        row = m.loc[stage]

        def nps(x):
            p, d = (x.nps >= 9).mean(), (x.nps <= 6).mean()
            return 100 * (p - d), 100 ** 2 * (p + d - (p - d) ** 2) / len(x)
        (na, va), (nb, vb) = nps(a), nps(b)
        _check(row, "nps", na - nb, np.sqrt(va + vb), this)
        _check(row, "csat", *_share_change((a.csat >= 4).sum(), len(a), (b.csat >= 4).sum(), len(b)), this)
        _check(row, "ces", a.ces.mean() - b.ces.mean(),
               np.sqrt(a.ces.var(ddof=1) / len(a) + b.ces.var(ddof=1) / len(b)), this)
    # a detractor target's promise: the share of answers at the touchpoint that are not detractors
    a, b = resp[(resp.touchpoint == "discovery") & (month == this)], resp[(resp.touchpoint == "discovery")
                                                                          & (month == before)]
    _check(m.loc["Sign-up"], "promise", *_share_change((a.nps > 6).sum(), len(a), (b.nps > 6).sum(), len(b)), this)
    # the planted March fall of NPS at onboarding is found
    assert m.loc["Set-up", "nps_change"] < -20 and m.loc["Set-up", "nps_change_beyond_noise"]


def test_beyond_noise_after_benjamini_hochberg_over_all_stages_and_metrics(result):
    cols = [f"{x}_change_p" for x in METRICS]
    p = result[cols].to_numpy(float)
    ok = np.isfinite(p)
    assert ok.sum() == result.attrs["changes_tested"] >= 12  # several stages and every metric, one family
    assert {c for j, c in enumerate(cols) if ok[:, j].any()} == set(cols)
    reject, q, _, _ = multipletests(p[ok], alpha=0.05, method="fdr_bh")
    got_q = result[[f"{x}_change_q" for x in METRICS]].to_numpy(float)
    got_flag = result[[f"{x}_change_beyond_noise" for x in METRICS]].to_numpy(bool)
    np.testing.assert_allclose(got_q[ok], q, rtol=1e-12)
    assert (got_flag[ok] == reject).all()
    assert not got_flag[~ok].any() and np.isnan(got_q[~ok]).all()
    # one family: BH within each metric alone would give other q-values
    per_metric = np.concatenate([multipletests(p[ok[:, j], j], method="fdr_bh")[1] for j in range(len(cols))])
    assert not np.allclose(np.sort(per_metric), np.sort(q))
