"""Journey analytics on the bundled sample: the planted churn effects (data/README.md) are recovered within
their intervals, and churn_by_touch / step_times match a direct pandas computation on the raw CSV rows.

The reference computations here read the CSV files with pandas and follow each function's documented
definition customer by customer (statsmodels PHReg / SurvfuncRight on per-customer rows, numpy
quantiles), independently of the engine code.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.proportion import proportion_confint

from cxlib import journey, sample
from cxlib.data import SAMPLE_AS_OF

DAY = 86400.0
Z = 1.959963984540054
#: Planted truths (cxlib.sample, data/README.md).
HR_FAST_VALUE = sample.FAST_VALUE_FACTOR / sample.NO_FAST_VALUE_FACTOR   # 0.6
HR_SLOW_REPLY = sample.SLOW_REPLY_FACTOR                                 # 2.0
HR_PRO = np.log1p(-0.03) / np.log1p(-0.06)                               # monthly 3% vs 6%: 0.49


def _secs(s: pd.Series) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' text (blank = missing) -> epoch seconds as float (NaN when missing)."""
    t = pd.to_datetime(s, format="%Y-%m-%d %H:%M:%S")
    out = (t - pd.Timestamp("1970-01-01")).dt.total_seconds()
    return out.to_numpy(dtype=float)


@pytest.fixture(scope="module")
def raw(sample_dir):
    read = {k: pd.read_csv(sample_dir / f"{k}.csv", dtype=str, keep_default_na=False)
            for k in ("subscriptions", "events", "tickets", "responses")}
    s = read["subscriptions"]
    subs = pd.DataFrame({"cid": s.customer_id, "start": _secs(s.start_time),
                         "end": _secs(s.end_time.replace("", None)), "plan": s.plan})
    e = read["events"]
    ev = pd.DataFrame({"cid": e.customer_id, "t": _secs(e.event_time), "name": e.event_name, "plan": e.plan})
    k = read["tickets"]
    tk = pd.DataFrame({"cid": k.customer_id, "created": _secs(k.created_at),
                       "reply": _secs(k.first_response_at.replace("", None)), "channel": k.channel})
    r = read["responses"]
    rs = pd.DataFrame({"cid": r.customer_id, "t": _secs(r.response_time), "nps": r.nps.astype(int)})
    return {"subs": subs, "events": ev, "tickets": tk, "responses": rs}


def _slow_moments(tk: pd.DataFrame, targets_hours: dict) -> pd.DataFrame:
    """Tickets answered later than their channel's target (or never): the moment the target passed."""
    target = tk.channel.map(targets_hours).astype(float) * 3600
    late = target.notna() & (tk.reply.isna() | (tk.reply - tk.created > target))
    return pd.DataFrame({"cid": tk.cid[late], "t": (tk.created + target)[late]})


# ------------------------------------------------------------------------------ planted effects recovered

def test_fast_first_value_hazard_ratio_recovered_by_churn_by_touch(sample_dir):
    """Landmark at 7 days = the planted definition (first_value within 7 days of signup)."""
    ct = journey.churn_by_touch(sample_dir / "subscriptions.csv", events=sample_dir / "events.csv",
                                window=7).set_index("touch")
    fv = ct.loc["step:first_value"]
    assert fv["ci_lower"] <= HR_FAST_VALUE <= fv["ci_upper"], fv
    assert fv["ci_upper"] < 1 and fv["p_value"] < 0.001 and fv["retention_90d_diff"] > 0
    assert min(fv["n_with"], fv["n_without"]) > 500


def test_slow_first_reply_hazard_ratio_recovered_by_churn_by_touch(sample_dir):
    ct = journey.churn_by_touch(sample_dir / "subscriptions.csv", tickets=sample_dir / "tickets.csv",
                                window=30).set_index("touch")
    slow = ct.loc["slow_first_response"]
    assert slow["ci_lower"] <= HR_SLOW_REPLY <= slow["ci_upper"], slow
    assert slow["ci_lower"] > 1 and slow["p_value"] < 0.05 and slow["retention_90d_diff"] < 0
    # a support contact as such carries no planted effect: its interval covers 1
    contact = ct.loc["support_contact"]
    assert contact["ci_lower"] <= 1 <= contact["ci_upper"], contact


def test_targets_of_the_generator_are_the_scorecards():
    assert {k: v / 3600 for k, v in sample.FIRST_RESPONSE_TARGETS.items()} == journey.DEFAULT_TARGETS


def test_all_planted_hazard_ratios_recovered_by_a_time_varying_cox_model(raw):
    """Counting-process Cox model on the raw rows: plan, fast first value (fixed) and a slow reply
    (time-varying, from the moment the target passed), each hazard ratio within its 95% interval."""
    subs, ev = raw["subs"], raw["events"]
    end_data = float((SAMPLE_AS_OF - pd.Timestamp("1970-01-01")).total_seconds())
    fv = ev[ev.name == "first_value"].groupby("cid").t.min().reindex(subs.cid).to_numpy()
    fast = ((fv - subs.start.to_numpy()) <= 7 * DAY).astype(float)  # NaN (never) compares False
    slow_at = _slow_moments(raw["tickets"], journey.DEFAULT_TARGETS).groupby("cid").t.min()
    slow_at = slow_at.reindex(subs.cid).to_numpy()
    rows = []
    for i, s in enumerate(subs.itertuples()):
        churned = not np.isnan(s.end) and s.end <= end_data
        stop = (s.end if churned else end_data) - s.start
        x = [fast[i], float(s.plan == "pro")]
        sl = slow_at[i] - s.start
        if not np.isnan(sl) and 0 <= sl < stop:
            rows += [(0.0, sl, 0.0, *x, 0.0), (sl, stop, float(churned), *x, 1.0)]
        else:
            rows.append((0.0, stop, float(churned), *x, 0.0))
    r = np.array(rows)
    fit = PHReg(r[:, 1] / DAY, r[:, 3:], status=r[:, 2], entry=r[:, 0] / DAY, ties="breslow").fit()
    lo, hi = np.exp(fit.params - Z * fit.bse), np.exp(fit.params + Z * fit.bse)
    for j, truth in enumerate((HR_FAST_VALUE, HR_PRO, HR_SLOW_REPLY)):
        assert lo[j] <= truth <= hi[j], (j, np.exp(fit.params[j]), lo[j], hi[j], truth)


# ------------------------------------------------------------------------------ numbers match pandas

def _landmark_rows(raw, window_days: float, as_of: pd.Timestamp) -> pd.DataFrame:
    """churn_by_touch's documented landmark design, customer by customer, with pandas; censored at the
    earlier of ``as_of`` and the subscriptions' last start or end on or before it."""
    w = window_days * DAY
    as_sec = float((as_of - pd.Timestamp("1970-01-01")).total_seconds())
    times = np.concatenate([raw["subs"].start.to_numpy(), raw["subs"].end.to_numpy()])
    as_sec = min(as_sec, np.nanmax(times[times <= as_sec]))
    ev, tk, rs = raw["events"], raw["tickets"], raw["responses"]
    cover = {"events": (ev.t.min(), ev.t.max()), "tickets": (tk.created.min(), tk.created.max()),
             "responses": (rs.t.min(), rs.t.max())}
    occ = [pd.DataFrame({"cid": ev.cid, "touch": "step:" + ev.name, "t": ev.t})[ev.name.isin(journey.TOUCH_STEPS)],
           pd.DataFrame({"cid": tk.cid, "touch": "support_contact", "t": tk.created}),
           _slow_moments(tk, journey.DEFAULT_TARGETS).assign(touch="slow_first_response"),
           pd.DataFrame({"cid": rs.cid, "touch": "detractor_answer", "t": rs.t})[rs.nps <= 6]]
    occ = pd.concat(occ, ignore_index=True)
    first = occ.groupby(["cid", "touch"]).t.min().unstack()   # a touch "at or before L" = its first time <= L
    out = []
    for s in raw["subs"].itertuples():
        L = s.start + w
        if L > as_sec or (not np.isnan(s.end) and s.end <= L):
            continue
        churned = not np.isnan(s.end) and s.end <= as_sec
        stop = s.end if churned else as_sec
        row = {"time": np.floor((stop - L) / DAY + 0.5), "event": int(churned)}
        f = first.loc[s.cid] if s.cid in first.index else pd.Series(dtype=float)
        for touch in [f"step:{x}" for x in journey.TOUCH_STEPS] + ["support_contact", "slow_first_response",
                                                                   "detractor_answer"]:
            src = "events" if touch.startswith("step:") else ("responses" if touch == "detractor_answer" else "tickets")
            lo, hi = cover[src]
            if s.start >= lo and L <= hi:
                row[touch] = int(f.get(touch, np.nan) <= L)
        out.append(row)
    return pd.DataFrame(out)


def test_churn_by_touch_matches_pandas_on_the_sample(sample_dir, raw):
    got = journey.churn_by_touch(sample_dir / "subscriptions.csv", events=sample_dir / "events.csv",
                                 tickets=sample_dir / "tickets.csv", responses=sample_dir / "responses.csv",
                                 window=30)
    assert got.attrs["as_of"] == SAMPLE_AS_OF
    bf = _landmark_rows(raw, 30, SAMPLE_AS_OF)
    for r in got.itertuples():
        b = bf[bf[r.touch].notna()]
        x = b[r.touch].to_numpy(int)
        time, event = b.time.to_numpy(float), b.event.to_numpy(float)
        assert (r.n_with, r.n_without) == ((x == 1).sum(), (x == 0).sum()), r.touch
        assert (r.churned_with, r.churned_without) == (event[x == 1].sum(), event[x == 0].sum()), r.touch
        if r.suppressed:
            continue
        fit = PHReg(time, x[:, None].astype(float), status=event, ties="breslow").fit()
        b_, se = fit.params[0], fit.bse[0]
        assert r.hazard_ratio == pytest.approx(np.exp(b_), rel=1e-6), r.touch
        assert (r.ci_lower, r.ci_upper) == pytest.approx((np.exp(b_ - Z * se), np.exp(b_ + Z * se)), rel=1e-6)
        assert r.p_value == pytest.approx(survdiff(time, event, x)[1], rel=1e-6)
        for flag, col in ((1, "retention_90d_with"), (0, "retention_90d_without")):
            sf = SurvfuncRight(time[x == flag], event[x == flag])
            k = np.searchsorted(sf.surv_times, 90, side="right")
            assert getattr(r, col) == pytest.approx(sf.surv_prob[k - 1] if k else 1.0), (r.touch, col)


def test_step_times_match_pandas_on_the_sample(sample_dir, raw):
    got = journey.step_times(sample_dir / "events.csv", by="plan")
    ev = raw["events"]
    last = min(ev.t.max(), (SAMPLE_AS_OF - pd.Timestamp("1970-01-01")).total_seconds())
    assert got.attrs["as_of"] == pd.Timestamp(last, unit="s")
    s = ev[ev.name == "signup"].groupby("cid").t.min()
    e = ev[ev.name == "first_value"].groupby("cid").t.min().reindex(s.index)
    plan = ev.groupby("cid").plan.first().reindex(s.index)
    for p, r in got.set_index("plan").iterrows():
        mine = plan == p
        dur = (e - s)[mine]
        done = dur[dur >= 0]                         # first_value at or after signup
        hours = done.to_numpy() / 3600
        assert (r["n_start"], r["n"]) == (mine.sum(), len(hours))
        assert r["median"] == pytest.approx(np.quantile(hours, 0.5, method="inverted_cdf"))
        assert r["p90"] == pytest.approx(np.quantile(hours, 0.9, method="inverted_cdf"))
        lo_r = int(np.argmax(stats.binom.cdf(np.arange(len(hours) + 1), len(hours), 0.5) >= 0.025))
        assert r["ci_lower"] == pytest.approx(np.sort(hours)[lo_r - 1])
        for d in (1, 7, 30):
            eligible = s[mine] <= last - d * DAY
            hit = eligible & (e[mine] - s[mine] >= 0) & (e[mine] - s[mine] <= d * DAY)
            assert r[f"within_{d}d_n"] == eligible.sum()
            assert r[f"within_{d}d"] == pytest.approx(hit.sum() / eligible.sum())
            lo, hi = proportion_confint(hit.sum(), eligible.sum(), method="wilson")
            assert (r[f"within_{d}d_ci_lower"], r[f"within_{d}d_ci_upper"]) == pytest.approx((lo, hi))


def test_fast_first_value_and_plan_recovered_by_survival_cox(raw):
    """survival.cox on the subscriptions with a fixed 'first value within 7 days' column (built with
    pandas): both planted hazard ratios inside their intervals (the slow reply, left out, is independent
    of both and only dilutes them slightly)."""
    from cxlib import survival

    subs, ev = raw["subs"].copy(), raw["events"]
    fv = ev[ev.name == "first_value"].groupby("cid").t.min().reindex(subs.cid).to_numpy()
    subs["fast_value"] = np.where((fv - subs.start.to_numpy()) <= 7 * DAY, "yes", "no")
    subs["start_time"] = pd.to_datetime(subs.start, unit="s")
    subs["end_time"] = pd.to_datetime(subs.end, unit="s")
    got = survival.cox(subs[["start_time", "end_time", "plan", "fast_value"]], start="start_time", end="end_time",
                       as_of=SAMPLE_AS_OF, covariates={"fast_value": "no", "plan": "basic"}).set_index("term")
    for term, truth in (("fast_value=yes", HR_FAST_VALUE), ("plan=pro", HR_PRO)):
        r = got.loc[term]
        assert r["ci_lower"] <= truth <= r["ci_upper"], (term, r["hazard_ratio"], r["ci_lower"], r["ci_upper"])
