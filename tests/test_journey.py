"""cxlib.journey: step times, step conversion, the weakest step and churn by touch, checked against
independent computations (pandas loops, numpy, statsmodels on per-customer rows) and planted truths."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from cxlib import journey
from cxlib.data import CXDataError

T0 = pd.Timestamp("2026-01-01")


def _order_stat_ci(x, q, alpha=0.05):
    """Independent order-statistic interval: ranks found by walking the binomial CDF."""
    x = np.sort(x)
    n = len(x)
    cdf = stats.binom.cdf(np.arange(n + 1), n, q)
    lo_r = int(np.argmax(cdf >= alpha / 2))            # smallest r with P(B <= r) >= alpha/2
    hi_r = int(np.argmax(cdf >= 1 - alpha / 2)) + 1
    lo = x[lo_r - 1] if lo_r >= 1 else np.nan
    hi = x[hi_r - 1] if hi_r <= n else np.nan
    return lo, hi


# ------------------------------------------------------------------------------------------ step_times

@pytest.fixture(scope="module")
def small_events():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(240):
        cid, plan = f"c{i:03d}", ("basic" if i % 3 else "pro")
        if rng.random() < 0.9:  # reached start (sometimes twice)
            t_start = T0 + pd.Timedelta(seconds=int(rng.integers(0, 120 * 86400)))
            rows.append((cid, t_start, "signup", plan))
            if rng.random() < 0.1:
                rows.append((cid, t_start + pd.Timedelta(hours=5), "signup", plan))
            u = rng.random()
            if u < 0.6:  # reached end after start, sometimes twice
                t_end = t_start + pd.Timedelta(seconds=int(rng.exponential(3 * 86400)))
                rows.append((cid, t_end, "first_value", plan))
                rows.append((cid, t_end + pd.Timedelta(days=2), "first_value", plan))
            elif u < 0.7:  # only before start: not a completion
                rows.append((cid, t_start - pd.Timedelta(hours=3), "first_value", plan))
        elif rng.random() < 0.5:
            rows.append((cid, T0 + pd.Timedelta(days=10), "first_value", plan))
        rows.append((cid, T0 + pd.Timedelta(days=int(rng.integers(0, 130))), "login", plan))
    return pd.DataFrame(rows, columns=["customer_id", "event_time", "event_name", "plan"])


def _brute_firsts(ev):
    out = {}
    for cid, g in ev.groupby("customer_id"):
        s = g.loc[g.event_name == "signup", "event_time"]
        e = g.loc[g.event_name == "first_value", "event_time"]
        if len(s):
            out[cid] = (s.min(), e.min() if len(e) else pd.NaT, g.sort_values("event_time")
                        .query("event_name in ['signup', 'first_value']")["plan"].iloc[0])
    return out


def test_step_times_match_brute_force(small_events):
    ev = small_events
    got = journey.step_times(ev, by="plan", min_n=1).set_index("plan")
    firsts = _brute_firsts(ev)
    data_end = ev.event_time.max()
    for plan in ["basic", "pro"]:
        mine = {c: v for c, v in firsts.items() if v[2] == plan}
        hours = np.array([(e - s).total_seconds() / 3600 for s, e, _ in mine.values() if pd.notna(e) and e >= s])
        r = got.loc[plan]
        assert (r["start"], r["end"]) == ("signup", "first_value")
        assert r["n_start"] == len(mine) and r["n"] == len(hours)
        assert r["median"] == pytest.approx(np.quantile(hours, 0.5, method="inverted_cdf"))
        assert r["p90"] == pytest.approx(np.quantile(hours, 0.9, method="inverted_cdf"))
        lo, hi = _order_stat_ci(hours, 0.5)
        assert (r["ci_lower"], r["ci_upper"]) == (pytest.approx(lo), pytest.approx(hi))
        lo, hi = _order_stat_ci(hours, 0.9)
        assert r["p90_ci_lower"] == pytest.approx(lo)
        assert np.isnan(r["p90_ci_upper"]) if np.isnan(hi) else r["p90_ci_upper"] == pytest.approx(hi)
        for d in (1, 7, 30):
            den = num = 0
            for s, e, _ in mine.values():
                if s <= data_end - pd.Timedelta(days=d):
                    den += 1
                    num += bool(pd.notna(e) and s <= e <= s + pd.Timedelta(days=d))
            wl, wh = proportion_confint(num, den, method="wilson")
            assert r[f"within_{d}d_n"] == den
            assert r[f"within_{d}d"] == pytest.approx(num / den)
            assert (r[f"within_{d}d_ci_lower"], r[f"within_{d}d_ci_upper"]) == (pytest.approx(wl), pytest.approx(wh))


def test_step_times_defaults_cohorts_tz_and_suppression(small_events):
    ev = small_events
    assert journey.step_times(ev, steps=["signup", "first_value", "login"])["end"].iloc[0] == "first_value"
    assert journey.step_times(ev, steps=["signup", "login"])["end"].iloc[0] == "login"
    # a start at 23:30 UTC on 31 January is February in Berlin
    extra = pd.DataFrame({"customer_id": ["z1", "z1"], "event_name": ["signup", "first_value"],
                          "event_time": pd.to_datetime(["2026-01-31 23:30", "2026-02-01 02:30"]), "plan": "x"})
    ev2 = pd.concat([ev, extra], ignore_index=True)
    utc = journey.step_times(ev2, cohort="month", min_n=1).set_index("cohort")
    berlin = journey.step_times(ev2, cohort="month", tz="Europe/Berlin", min_n=1).set_index("cohort")
    jan, feb = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")
    assert berlin.loc[feb, "n"] == utc.loc[feb, "n"] + 1 and berlin.loc[jan, "n"] == utc.loc[jan, "n"] - 1
    assert utc["n_start"].sum() == len(_brute_firsts(ev2))
    # suppression below min_n
    sup = journey.step_times(ev, by="plan", min_n=60).set_index("plan")
    assert sup.loc["pro", "suppressed"] and np.isnan(sup.loc["pro", ["median", "within_7d"]].astype(float)).all()
    assert not sup.loc["basic", "suppressed"]
    with pytest.raises(CXDataError, match="no step 'purchase'"):
        journey.step_times(ev, end="purchase")


def test_order_statistic_interval_coverage_by_simulation():
    rng = np.random.default_rng(11)
    reps, n, rate = 300, 60, 1 / 40.0  # exponential durations, mean 40 h
    hours = rng.exponential(1 / rate, (reps, n))
    rows = []
    for r in range(reps):
        for i in range(n):
            s = T0 + pd.Timedelta(days=int(i % 20))
            rows.append((f"{r}-{i}", s, "signup", r))
            rows.append((f"{r}-{i}", s + pd.Timedelta(seconds=round(hours[r, i] * 3600)), "first_value", r))
    ev = pd.DataFrame(rows, columns=["customer_id", "event_time", "event_name", "rep"])
    got = journey.step_times(ev, by="rep", min_n=1)
    assert len(got) == reps and (got["n"] == n).all()
    med, p90 = np.log(2) / rate, np.log(10) / rate
    cover50 = ((got.ci_lower <= med) & (med <= got.ci_upper)).mean()
    cover90 = ((got.p90_ci_lower <= p90) & (p90 <= got.p90_ci_upper)).mean()
    assert cover50 >= 0.93 and cover90 >= 0.93, (cover50, cover90)


# ------------------------------------------------------------------------------- conversion and weakest

def _funnel_events(counts, steps, seed=0):
    """Customers reaching steps[:k] for each k, in order, one day apart."""
    rng = np.random.default_rng(seed)
    rows, cid = [], 0
    reach = list(counts) + [0]
    for k in range(1, len(steps) + 1):
        for _ in range(reach[k - 1] - reach[k]):
            t = T0 + pd.Timedelta(hours=int(rng.integers(0, 1000)))
            for j in range(k):
                rows.append((f"u{cid}", steps[j], t + pd.Timedelta(days=j)))
            cid += 1
    return pd.DataFrame(rows, columns=["customer_id", "event_name", "event_time"])


def test_step_conversion_and_weakest_against_hand_counts():
    steps = ["signup", "a", "b", "c"]
    ev = _funnel_events([1000, 900, 450, 300], steps)
    conv = journey.step_conversion(ev, steps=steps).set_index("step")
    assert list(conv.index) == ["a", "b", "c"] and conv.loc["b", "previous_step"] == "a"
    for step, k, n in [("a", 900, 1000), ("b", 450, 900), ("c", 300, 450)]:
        lo, hi = proportion_confint(k, n, method="wilson")
        r = conv.loc[step]
        assert (r["entered"], r["converted"]) == (n, k)
        assert r["conversion"] == pytest.approx(k / n) and r["abandonment"] == pytest.approx(1 - k / n)
        assert (r["ci_lower"], r["ci_upper"]) == (pytest.approx(lo), pytest.approx(hi))
        assert (r["abandonment_ci_lower"], r["abandonment_ci_upper"]) == (pytest.approx(1 - hi), pytest.approx(1 - lo))
    w = journey.weakest_step(ev, steps=steps).iloc[0]
    assert (w["step"], w["next_step"]) == ("b", "c")
    z, p = proportions_ztest([450, 300], [900, 450])
    assert w["z"] == pytest.approx(z) and w["p_value"] == pytest.approx(p) and w["beyond_noise"]
    # Newcombe's hybrid score interval from the two Wilson intervals, by hand
    p1, p2 = 450 / 900, 300 / 450
    l1, u1 = proportion_confint(450, 900, method="wilson")
    l2, u2 = proportion_confint(300, 450, method="wilson")
    assert w["diff_ci_lower"] == pytest.approx(p1 - p2 - np.hypot(p1 - l1, u2 - p2))
    assert w["diff_ci_upper"] == pytest.approx(p1 - p2 + np.hypot(u1 - p1, p2 - l2))
    # the same from a precomputed table
    again = journey.weakest_step(conv.reset_index()).iloc[0]
    assert again["p_value"] == pytest.approx(w["p_value"])


def test_weakest_step_close_call_is_not_beyond_noise_and_by_segment():
    steps = ["signup", "a", "b", "c"]
    x = _funnel_events([400, 200, 102, 52], steps).assign(plan="x")  # 50%, 51%, 51%
    y = _funnel_events([400, 360, 180, 90], steps, seed=1).assign(plan="y")
    y["customer_id"] = "y" + y["customer_id"]
    w = journey.weakest_step(pd.concat([x, y]), steps=steps, by="plan").set_index("plan")
    assert w.loc["x", "step"] == "a" and not w.loc["x", "beyond_noise"] and w.loc["x", "p_value"] > 0.5
    assert w.loc["x", "diff_ci_lower"] < 0 < w.loc["x", "diff_ci_upper"]
    assert w.loc["y", "steps_compared"] == 3
    few = journey.weakest_step(x, steps=steps, min_n=150).iloc[0]  # only 'a' (n = 400) and 'b' (n = 200)
    assert few["steps_compared"] == 2
    one = journey.weakest_step(x, steps=steps, min_n=300).iloc[0]
    assert one["step"] == "a" and np.isnan(one["p_value"]) and not one["beyond_noise"]


# ------------------------------------------------------------------------------------------ churn by touch

def _simulate(n=4000, hr=1.5, lam=0.004, seed=5, years=2.0):
    """Subscriptions with exponential lifetimes; a ticket in the first 30 days for 60% of customers,
    half of them answered late (email, 20 h > 12 h target): late repliers churn at ``hr`` x the hazard."""
    rng = np.random.default_rng(seed)
    span = years * 365
    start_days = rng.uniform(0, span, n)
    has_ticket = rng.random(n) < 0.6
    slow = has_ticket & (rng.random(n) < 0.5)
    life = rng.exponential(1 / (lam * np.where(slow, hr, 1.0)))
    start = T0 + pd.to_timedelta(np.round(start_days * 86400), unit="s")
    end = T0 + pd.to_timedelta(np.round((start_days + life) * 86400), unit="s")
    as_of = T0 + pd.Timedelta(days=span)
    subs = pd.DataFrame({"customer_id": [f"s{i}" for i in range(n)], "start_time": start,
                         "end_time": end.where(end <= as_of)})
    idx = np.nonzero(has_ticket)[0]
    created = start[idx] + pd.to_timedelta(np.round(rng.uniform(0, 29, len(idx)) * 86400), unit="s")
    wait = np.where(slow[idx], 20.0, 1.0)
    tickets = pd.DataFrame({"ticket_id": np.arange(len(idx)), "customer_id": subs.customer_id.to_numpy()[idx],
                            "created_at": created, "first_response_at": created + pd.to_timedelta(wait, unit="h"),
                            "channel": "email"})
    # a ticket from someone else at the very start and end keeps the tickets' coverage = the subscriptions'
    pad = pd.DataFrame({"ticket_id": [-1, -2], "customer_id": ["other", "other"], "created_at": [T0, as_of],
                        "first_response_at": [T0, as_of], "channel": "chat"})
    tickets = pd.concat([tickets[tickets.created_at <= as_of], pad], ignore_index=True)
    return subs, tickets, as_of


def _brute_landmark(subs, tickets, as_of, window_days, targets):
    """Per-customer landmark rows built with pandas: duration (days, rounded), churned, contact, slow.

    Censored at the earlier of ``as_of`` and the subscriptions' last start or end on or before it."""
    w = pd.Timedelta(days=window_days)
    times = pd.concat([subs.start_time, subs.end_time]).dropna()
    as_of = min(as_of, times[times <= as_of].max())
    t_lo, t_hi = tickets.created_at.min(), tickets.created_at.max()
    rows = []
    for _, s in subs.iterrows():
        L = s.start_time + w
        if L > as_of or (pd.notna(s.end_time) and s.end_time <= L):
            continue
        if s.start_time < t_lo or L > t_hi:
            continue
        churned = pd.notna(s.end_time) and s.end_time <= as_of
        stop = s.end_time if churned else as_of
        mine = tickets[(tickets.customer_id == s.customer_id)]
        target = mine.channel.map(targets).astype(float) * 3600
        waited = (mine.first_response_at - mine.created_at).dt.total_seconds()
        late_at = mine.created_at + pd.to_timedelta(target, unit="s")
        rows.append({"time": round((stop - L).total_seconds() / 86400), "event": int(churned),
                     "support_contact": int((mine.created_at <= L).any()),
                     "slow_first_response": int((((waited > target) | mine.first_response_at.isna())
                                                 & (late_at <= L)).any())})
    return pd.DataFrame(rows)


def test_churn_by_touch_matches_per_customer_statsmodels():
    subs, tickets, as_of = _simulate(n=700, seed=8)
    targets = {"email": 12.0, "chat": 0.1}
    got = journey.churn_by_touch(subs, tickets=tickets, window=30, as_of=as_of, targets=targets,
                                 min_n=5).set_index("touch")
    assert list(got.index) == ["support_contact", "slow_first_response"]
    bf = _brute_landmark(subs, tickets, as_of, 30, targets)
    for touch in got.index:
        r, x = got.loc[touch], bf[touch].to_numpy()
        assert (r["n_with"], r["n_without"]) == ((x == 1).sum(), (x == 0).sum())
        assert r["churned_with"] == bf.event[x == 1].sum()
        fit = PHReg(bf.time.to_numpy(float), x[:, None].astype(float), status=bf.event.to_numpy(float)).fit()
        b, se = fit.params[0], fit.bse[0]
        assert r["hazard_ratio"] == pytest.approx(np.exp(b), rel=1e-6)
        assert r["ci_lower"] == pytest.approx(np.exp(b - 1.959964 * se), rel=1e-5)
        assert r["p_value"] == pytest.approx(survdiff(bf.time.to_numpy(float), bf.event.to_numpy(float), x)[1])
        km = {}
        for flag in (0, 1):
            g = bf[x == flag]
            sf = SurvfuncRight(g.time.to_numpy(float), g.event.to_numpy(float))
            k = np.searchsorted(sf.surv_times, 90, side="right")
            km[flag] = sf.surv_prob[k - 1]
        assert r["retention_90d_with"] == pytest.approx(km[1])
        assert r["retention_90d_without"] == pytest.approx(km[0])
        assert r["retention_90d_diff"] == pytest.approx(km[1] - km[0])
        assert r["diff_ci_lower"] < r["retention_90d_diff"] < r["diff_ci_upper"]


def test_planted_hazard_ratio_recovered_within_its_interval():
    lam, hr = 0.004, 1.5
    subs, tickets, as_of = _simulate(n=4000, hr=hr, lam=lam, seed=21)
    got = journey.churn_by_touch(subs, tickets=tickets, window="30D", as_of=as_of).set_index("touch")
    slow = got.loc["slow_first_response"]
    assert slow["ci_lower"] <= hr <= slow["ci_upper"] and slow["ci_lower"] > 1, slow
    assert slow["p_value"] < 0.001 and not slow["suppressed"]
    # exponential lifetimes: retention 90 days after the landmark is exp(-hazard * 90) in each group
    true_diff = np.exp(-hr * lam * 90) - np.exp(-lam * 90)
    assert slow["diff_ci_lower"] <= true_diff <= slow["diff_ci_upper"]
    assert slow["retention_90d_diff"] < 0
    assert got.attrs["window_days"] == 30 and got.attrs["design"] == "landmark"


def test_touch_coverage_window_and_errors():
    subs, tickets, as_of = _simulate(n=600, seed=4)
    late = tickets[tickets.created_at >= T0 + pd.Timedelta(days=365)]  # tickets tracked only in year two
    got = journey.churn_by_touch(subs, tickets=late, as_of=as_of, min_n=1).set_index("touch")
    bf = _brute_landmark(subs, late, as_of, 30, journey.DEFAULT_TARGETS)
    assert got.loc["support_contact", "n_with"] + got.loc["support_contact", "n_without"] == len(bf)
    with pytest.raises(CXDataError, match="window"):
        journey.churn_by_touch(subs, tickets=tickets, window="soon")
    with pytest.raises(CXDataError, match="at least one"):
        journey.churn_by_touch(subs)


def test_last_touch_before_churn_matches_brute_force():
    rng = np.random.default_rng(2)
    n = 300
    start = T0 + pd.to_timedelta(rng.integers(0, 200 * 86400, n), unit="s")
    end = start + pd.to_timedelta(rng.integers(20 * 86400, 300 * 86400, n), unit="s")
    as_of = T0 + pd.Timedelta(days=400)
    subs = pd.DataFrame({"customer_id": np.arange(n), "start_time": start, "end_time": end.where(end <= as_of)})
    created = start + pd.to_timedelta(rng.integers(0, 400 * 86400, n), unit="s")
    tickets = pd.DataFrame({"ticket_id": np.arange(n), "customer_id": rng.integers(0, n, n), "created_at": created,
                            "first_response_at": created + pd.to_timedelta(rng.choice([1, 30], n), unit="h"),
                            "channel": "email"})
    tickets = tickets[tickets.created_at <= as_of]
    rt = start + pd.to_timedelta(rng.integers(0, 400 * 86400, n), unit="s")
    responses = pd.DataFrame({"customer_id": rng.integers(0, n, n), "response_time": rt,
                              "nps": rng.integers(0, 11, n)})
    responses = responses[responses.response_time <= as_of]
    got = journey.last_touch_before_churn(subs, tickets=tickets, responses=responses, window=30, as_of=as_of)
    # brute force
    occ = [(r.customer_id, "support_contact", r.created_at) for r in tickets.itertuples()]
    occ += [(r.customer_id, "slow_first_response", r.created_at + pd.Timedelta(hours=12))
            for r in tickets.itertuples() if r.first_response_at - r.created_at > pd.Timedelta(hours=12)]
    occ += [(r.customer_id, "detractor_answer", r.response_time) for r in responses.itertuples() if r.nps <= 6]
    occ = pd.DataFrame(occ, columns=["cid", "touch", "t"])
    lo = max(tickets.created_at.min(), responses.response_time.min())
    hi = min(tickets.created_at.max(), responses.response_time.max())
    counts = {}
    for s in subs.itertuples():
        if pd.isna(s.end_time) or s.end_time > as_of or s.end_time - pd.Timedelta(days=30) < lo or s.end_time > hi:
            continue
        mine = occ[(occ.cid == s.customer_id) & (occ.t < s.end_time) & (occ.t >= s.end_time - pd.Timedelta(days=30))]
        last = mine.sort_values("t")["touch"].iloc[-1] if len(mine) else "none"
        counts[last] = counts.get(last, 0) + 1
    assert dict(zip(got.touch, got.churns)) == counts
    assert got.attrs["churns"] == sum(counts.values()) and got["share"].sum() == pytest.approx(1)
    k, m = got["churns"].iloc[0], got.attrs["churns"]
    assert got["ci_lower"].iloc[0] == pytest.approx(proportion_confint(k, m, method="wilson")[0])


# ------------------------------------------------------------------------------------------ sample data

def test_sample_step_times(sample_dir):
    ev = sample_dir / "events.csv"
    overall = journey.step_times(ev)
    assert overall.shape[0] == 1 and not overall["suppressed"].any()
    r = overall.iloc[0]
    assert (r["start"], r["end"]) == ("signup", "first_value")
    assert 30 < r["median"] < 50 and r["ci_lower"] < r["median"] < r["ci_upper"]  # about 1.7 days
    assert r["within_1d"] < r["within_7d"] <= r["within_30d"] + 0.01
    by_plan = journey.step_times(ev, by="plan")
    assert set(by_plan["plan"]) == {"basic", "pro"}
    for t in (overall, by_plan):
        ok = t[~t["suppressed"]]
        assert not ok.drop(columns=["suppressed"]).isna().any().any()
    cohorts = journey.step_times(ev, cohort="month", min_n=20)
    assert cohorts["cohort"].is_monotonic_increasing and cohorts["n_start"].sum() == r["n_start"]
    assert cohorts.loc[~cohorts["suppressed"], "median"].notna().all()


def test_sample_conversion_and_weakest(sample_dir):
    steps = list(journey.DEFAULT_STEPS)
    conv = journey.step_conversion(sample_dir / "events.csv", steps=steps, by="plan")
    assert conv.shape == (8, 13) and not conv[~conv.suppressed].isna().any().any()
    w = journey.weakest_step(sample_dir / "events.csv", steps=steps).iloc[0]
    assert w["step"] == "purchase" and w["next_step"] == "checkout_started" and w["beyond_noise"]  # 55% vs 65%


def test_sample_churn_by_touch_and_last_touch(sample_dir):
    kw = {"events": sample_dir / "events.csv", "tickets": sample_dir / "tickets.csv",
          "responses": sample_dir / "responses.csv"}
    ct = journey.churn_by_touch(sample_dir / "subscriptions.csv", **kw)
    assert list(ct["touch"]) == [f"step:{s}" for s in journey.TOUCH_STEPS] + [
        "support_contact", "slow_first_response", "detractor_answer"]
    cols = ["touch", "hazard_ratio", "ci_lower", "ci_upper", "p_value", "n_with", "n_without",
            "retention_90d_with", "retention_90d_without", "retention_90d_diff", "diff_ci_lower", "diff_ci_upper"]
    assert set(cols) <= set(ct.columns)
    ok = ct[~ct["suppressed"]]
    assert len(ok) >= 5 and not ok[cols].isna().any().any()
    assert ((ok.ci_lower < ok.hazard_ratio) & (ok.hazard_ratio < ok.ci_upper)).all()
    # tickets start in 2026: fewer customers are compared for ticket touches than for journey steps
    n = ct.set_index("touch")[["n_with", "n_without"]].sum(axis=1)
    assert n["support_contact"] < n["step:first_value"]
    lt = journey.last_touch_before_churn(sample_dir / "subscriptions.csv", **kw)
    assert lt["share"].sum() == pytest.approx(1) and lt["churns"].sum() == lt.attrs["churns"] > 100
    assert set(lt["touch"]) <= set(ct["touch"]) | {"none"}


# ------------------------------------------------------------------------------------------ Spark

@pytest.mark.spark
def test_same_results_on_spark_and_duckdb(small_events, spark_backend):
    ev = small_events
    sp_ev = spark_backend.create_table("cx_test_journey_events", ev, overwrite=True)
    kw = dict(by="plan", cohort="month", min_n=1)
    pd.testing.assert_frame_equal(journey.step_times(sp_ev, **kw), journey.step_times(ev, **kw), check_dtype=False)
    steps = ["signup", "first_value", "login"]
    pd.testing.assert_frame_equal(journey.step_conversion(sp_ev, steps=steps, min_n=1),
                                  journey.step_conversion(ev, steps=steps, min_n=1), check_dtype=False)
    subs, tickets, as_of = _simulate(n=400, seed=3)
    sp_subs = spark_backend.create_table("cx_test_journey_subs", subs, overwrite=True)
    sp_tk = spark_backend.create_table("cx_test_journey_tickets", tickets, overwrite=True)
    on_spark = journey.churn_by_touch(sp_subs, tickets=sp_tk, as_of=as_of, min_n=5)
    on_duckdb = journey.churn_by_touch(subs, tickets=tickets, as_of=as_of, min_n=5)
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False)
    last = dict(as_of=as_of, window=60)
    pd.testing.assert_frame_equal(journey.last_touch_before_churn(sp_subs, tickets=sp_tk, **last),
                                  journey.last_touch_before_churn(subs, tickets=tickets, **last), check_dtype=False)
