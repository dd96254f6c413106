"""journey_map: every stage's numbers equal an independent pandas computation on hand-made tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from cxlib import journey

AS_OF = pd.Timestamp("2026-03-31 23:59:59")
JOURNEY = {"stages": [
    {"name": "Sign-up", "promise": "Quick sign-up.", "events": ["signup"], "touchpoint": "discovery",
     "target": {"max_detractors": 0.3}, "owner": "Marketing"},
    {"name": "Set-up", "promise": "Set up within a week.", "events": ["setup", "setup_done"],
     "touchpoint": "onboarding", "target": {"share": 0.7, "within_days": 7}, "owner": "Onboarding"},
    {"name": "Buy", "promise": "A purchase within 30 days.", "events": ["buy"],
     "target": {"max_share": 0.5}, "owner": "Growth"},
    {"name": "Support", "promise": "Fast first replies.", "ticket_channels": ["email", "chat"],
     "touchpoint": "support", "target": {"share": 0.9, "first_response": True}, "owner": "Support"},
]}
TARGETS = {"email": 12.0, "chat": 0.1}


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(7)
    n = 400
    ids = [f"C{i:04d}" for i in range(n)]
    start = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 80, n), unit="D")
    rows = []
    for c, t0 in zip(ids, start):
        rows.append((c, t0, "signup"))
        if rng.random() < 0.1:  # a buy before sign-up: never counts for Buy
            rows.append((c, t0 - pd.Timedelta(hours=5), "buy"))
        if rng.random() < 0.75:
            t1 = t0 + pd.Timedelta(days=float(rng.exponential(4)))
            rows.append((c, t1, "setup" if rng.random() < 0.5 else "setup_done"))
            if rng.random() < 0.3:
                rows.append((c, t1 + pd.Timedelta(days=1), "setup"))  # a repeat: the first counts
            if rng.random() < 0.55:
                rows.append((c, t1 + pd.Timedelta(days=float(rng.exponential(6))), "buy"))
    ev = pd.DataFrame(rows, columns=["customer_id", "event_time", "event_name"])
    ev.loc[len(ev)] = ["C9999", AS_OF + pd.Timedelta(days=3), "signup"]  # after as_of: left out
    resp = pd.DataFrame({
        "respondent_id": [f"R{i}" for i in range(600)],
        "customer_id": rng.choice(ids, 600),
        "response_time": pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.uniform(0, 85, 600), unit="D"),
        "touchpoint": rng.choice(["discovery", "onboarding", "support", "use"], 600),
        "nps": rng.integers(0, 11, 600), "csat": rng.integers(1, 6, 600), "ces": rng.integers(1, 8, 600),
        "comment": rng.choice(["too expensive", "setup was hard", "great", None], 600)})
    created = pd.Timestamp("2026-01-02") + pd.to_timedelta(rng.uniform(0, 88, 500), unit="D")
    wait_h = rng.exponential(6, 500)
    tk = pd.DataFrame({"ticket_id": range(500), "customer_id": rng.choice(ids, 500), "created_at": created,
                       "first_response_at": created + pd.to_timedelta(wait_h, unit="h"),
                       "channel": rng.choice(["email", "chat", "phone"], 500)})
    tk.loc[tk.index[:20], "first_response_at"] = pd.NaT  # never answered
    return ev, resp, tk


@pytest.fixture(scope="module")
def result(tables):
    ev, resp, tk = tables
    return journey.journey_map(ev, responses=resp, tickets=tk, journey=JOURNEY, as_of=AS_OF, targets=TARGETS)


def _reach(ev):
    """The funnel rule in pandas: first signup; Set-up = first setup/setup_done at or after it; Buy = first
    buy at or after Set-up's time."""
    ev = ev[ev["event_time"] <= AS_OF]
    t0 = ev[ev.event_name == "signup"].groupby("customer_id")["event_time"].min()
    s = ev[ev.event_name.isin(["setup", "setup_done"])].merge(t0.rename("t0"), left_on="customer_id",
                                                               right_index=True)
    t1 = s[s.event_time >= s.t0].groupby("customer_id")["event_time"].min()
    b = ev[ev.event_name == "buy"].merge(t1.rename("t1"), left_on="customer_id", right_index=True)
    t2 = b[b.event_time >= b.t1].groupby("customer_id")["event_time"].min()
    return pd.DataFrame({"t0": t0, "t1": t1, "t2": t2})


def _row(result, stage):
    return result.set_index("stage").loc[stage]


def test_reach_conversion_and_wilson(tables, result):
    w = _reach(tables[0])
    for stage, k, prev in (("Set-up", "t1", "t0"), ("Buy", "t2", "t1")):
        r = _row(result, stage)
        reached, before = int(w[k].notna().sum()), int(w[prev].notna().sum())
        assert r["customers"] == reached and r["previous"] == before
        assert r["conversion"] == pytest.approx(reached / before)
        lo, hi = proportion_confint(reached, before, method="wilson")
        assert (r["conversion_ci_lower"], r["conversion_ci_upper"]) == pytest.approx((lo, hi))
    assert _row(result, "Sign-up")["customers"] == w["t0"].notna().sum()


def test_reach_equals_the_funnel(tables, result):
    ev = tables[0].assign(event_name=tables[0]["event_name"].replace({"setup_done": "setup"}))
    f = journey.funnel(ev, steps=["signup", "setup", "buy"], as_of=AS_OF, min_n=0)
    assert list(f["reached"]) == list(result["customers"].iloc[:3].astype(int))


def test_kaplan_meier_median_censors_customers_on_their_way(tables, result):
    w = _reach(tables[0])
    end = tables[0].loc[tables[0]["event_time"] <= AS_OF, "event_time"].max()
    for stage, k, prev in (("Set-up", "t1", "t0"), ("Buy", "t2", "t1")):
        g = w[w[prev].notna()]
        done = g[k].notna()
        d = np.where(done, (g[k] - g[prev]).dt.total_seconds(), (end - g[prev]).dt.total_seconds()) / 86400
        sf = SurvfuncRight(d, done.astype(int).to_numpy())
        assert _row(result, stage)["median_days"] == pytest.approx(sf.quantile(0.5), nan_ok=True)
    assert np.isfinite(_row(result, "Set-up")["median_days"])  # one median is reached and compared


def test_reach_promise_counts_only_ended_windows(tables, result):
    w = _reach(tables[0])
    end = tables[0].loc[tables[0]["event_time"] <= AS_OF, "event_time"].max()
    for stage, k, prev, days, target in (("Set-up", "t1", "t0", 7, 0.7), ("Buy", "t2", "t1", 30, 0.5)):
        g = w[w[prev].notna() & (w[prev] + pd.Timedelta(days=days) <= end)]
        got = g[k].notna() & (g[k] - g[prev] <= pd.Timedelta(days=days))
        r = _row(result, stage)
        assert (r["promise_n"], r["promise_k"]) == (len(g), int(got.sum()))
        assert r["promise_share"] == pytest.approx(got.mean())
        assert r["target"] == target
        lo, hi = proportion_confint(int(got.sum()), len(g), method="wilson")
        assert (r["promise_ci_lower"], r["promise_ci_upper"]) == pytest.approx((lo, hi))


def test_first_response_promise(tables, result):
    tk = tables[2]
    tk = tk[tk.channel.isin(["email", "chat"]) & (tk.created_at <= AS_OF)]
    end = tk.created_at.max()
    lim = pd.to_timedelta(tk.channel.map(TARGETS), unit="h")
    elig = tk[tk.created_at + lim <= end]
    lim = lim[elig.index]
    got = elig.first_response_at.notna() & (elig.first_response_at - elig.created_at <= lim)
    r = _row(result, "Support")
    assert r["customers"] == tk.customer_id.nunique()
    assert (r["promise_n"], r["promise_k"]) == (len(elig), int(got.sum()))


def test_scores_at_the_touchpoint(tables, result):
    resp = tables[1]
    for stage, tp in (("Sign-up", "discovery"), ("Set-up", "onboarding"), ("Support", "support")):
        a = resp[resp.touchpoint == tp]
        nps = 100 * ((a.nps >= 9).mean() - (a.nps <= 6).mean())
        r = _row(result, stage)
        assert r["answers"] == len(a)
        assert r["nps"] == pytest.approx(nps)
        assert r["csat"] == pytest.approx((a.csat >= 4).mean())
        assert r["ces"] == pytest.approx(a.ces.mean())
        rest = resp[(resp.touchpoint != tp) & resp.touchpoint.isin(["discovery", "onboarding", "support"])]
        gap = nps - 100 * ((rest.nps >= 9).mean() - (rest.nps <= 6).mean())
        assert r["nps_gap"] == pytest.approx(gap)
    s = _row(result, "Sign-up")
    a = resp[resp.touchpoint == "discovery"]
    assert (s["promise_n"], s["promise_k"]) == (len(a), int((a.nps > 6).sum()))


def test_response_rate_is_answering_customers_over_reached(tables, result):
    w = _reach(tables[0])
    resp = tables[1]
    for stage, tp, k in (("Sign-up", "discovery", "t0"), ("Set-up", "onboarding", "t1")):
        reached = set(w.index[w[k].notna()])
        answered = set(resp.loc[resp.touchpoint == tp, "customer_id"]) & reached
        assert _row(result, stage)["response_rate"] == pytest.approx(len(answered) / len(reached))


def test_top_theme_is_the_detractors(tables, result):
    resp = tables[1]
    a = resp[(resp.touchpoint == "onboarding") & (resp.nps <= 6) & resp.comment.notna()]
    counts = {"pricing": a.comment.str.contains("expensive").sum(), "setup": a.comment.str.contains("setup").sum(),
              "praise": a.comment.str.contains("great").sum()}
    assert _row(result, "Set-up")["top_theme"] == max(counts, key=counts.get)


def test_every_estimate_has_an_interval(result):
    for est in ("conversion", "median", "promise", "nps", "csat", "ces", "nps_gap", "response_rate"):
        lo = f"{est}_ci_lower" if est != "promise" else "promise_ci_lower"
        assert lo in result.columns and lo.replace("lower", "upper") in result.columns
    ok = result[result["promise_share"].notna()]
    assert (ok["promise_ci_lower"] <= ok["promise_share"]).all() and (ok["promise_share"] <= ok["promise_ci_upper"]).all()


def test_hash_and_notes(result):
    assert len(result.attrs["journey_sha256"]) == 64
    assert result.attrs["as_of"] == AS_OF
    assert any(getattr(n, "code", "") == "rows_after_as_of" for n in result.attrs["notes"])
