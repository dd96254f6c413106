"""Deterministic sample data with planted truth (the bundled demo data and benchmark-size data).

Every table of data/README.md is generated from one seeded :class:`numpy.random.Generator`, so the same
seed gives byte-identical CSV files on every machine with the pinned numpy. The planted truth (funnel
rates, retention curve, driver weights, the week-of-2026-11-16 NPS drop, experiment effects...) is
documented in data/README.md and recovered by the tests of each analysis.

Examples
--------
>>> from cxlib import sample
>>> tables = sample.generate()          # dict of pandas DataFrames, the bundled sample
>>> sorted(tables)
['events', 'experiment', 'responses', 'subscriptions', 'tickets']
>>> sample.write_sample("data/sample")  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261124

#: Data run from START to END (inclusive, a Sunday); times in UTC.
START = np.datetime64("2025-01-01T00:00:00", "s")
END = np.datetime64("2026-11-22T23:59:59", "s")

DRIVERS = ("drv_ease_of_use", "drv_reliability", "drv_responsiveness", "drv_value_for_money",
           "drv_onboarding", "drv_features", "drv_trust")
#: True weights of each standardized driver rating on the latent recommend score.
DRIVER_WEIGHTS = {"drv_responsiveness": 0.30, "drv_reliability": 0.22, "drv_value_for_money": 0.16,
                  "drv_ease_of_use": 0.12, "drv_onboarding": 0.08, "drv_features": 0.05,
                  "drv_trust": 0.02}
#: Mean rating of each driver (1-10): responsiveness is the weakest ("fix first").
DRIVER_MEANS = {"drv_ease_of_use": 7.4, "drv_reliability": 7.2, "drv_responsiveness": 5.9,
                "drv_value_for_money": 6.6, "drv_onboarding": 6.9, "drv_features": 7.1,
                "drv_trust": 7.8}
FUNNEL = (("signup", 1.0), ("onboarding_done", 0.75), ("first_value", 0.80),
          ("checkout_started", 0.65), ("purchase", 0.55))
PLANTED_WEEK = np.datetime64("2026-11-16")
EXPERIMENT_START = np.datetime64("2026-10-01T00:00:00", "s")
EXPERIMENT_END = np.datetime64("2026-10-28T23:59:59", "s")

_HOUR = 3600
_DAY = 86400
_MONTH_DAYS = 30.4375  # average month, for subscription lifetimes given in months

TABLES = ("events", "subscriptions", "responses", "tickets", "experiment")


# ------------------------------------------------------------------------------------------ helpers

def _month_starts() -> np.ndarray:
    months = np.arange(np.datetime64("2025-01"), np.datetime64("2026-12"), dtype="datetime64[M]")
    return months.astype("datetime64[s]")


def _lognormal(rng, median, sigma, size):
    return np.exp(np.log(median) + sigma * rng.standard_normal(size))


def _fmt_times(seconds: np.ndarray) -> pd.Series:
    """Integer epoch seconds (NaN = missing) as 'YYYY-MM-DD HH:MM:SS' strings (blank when missing)."""
    s = pd.Series(seconds, dtype="float64")
    ok = s.notna()
    out = pd.Series([""] * len(s), dtype=object)
    if ok.any():
        ts = pd.to_datetime(s[ok].astype("int64"), unit="s")
        out[ok] = ts.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    return out


def _as_epoch(t) -> int:
    return int(np.datetime64(t, "s").astype("int64"))


# Uniform draws times whole numbers (rng.random(n) * (hi - lo)) are correctly rounded IEEE products, the
# same on every CPU; only values that went through exp / log need _whole.
def _whole(x) -> np.ndarray:
    """Float seconds -> whole seconds (int64), rounded to the millisecond before truncating.

    exp/log (and so every log-normal draw) may differ in the last bits between CPUs (SIMD kernels); a
    value that is a whole number in exact arithmetic (e.g. a journey compressed to end exactly at the
    month's last second) would then truncate to n on one machine and n - 1 on another. Rounding first
    makes the files byte-identical on any CPU.
    """
    return np.floor(np.round(np.asarray(x, dtype=float), 3)).astype("int64")


# ------------------------------------------------------------------------------------------ events

def _customers(rng, offset: int = 0) -> pd.DataFrame:
    months = _month_starts()
    end = _as_epoch(END) + 1
    rows = []
    for i, m in enumerate(months):
        n = rng.poisson(104)
        lo = _as_epoch(m)
        hi = min(_as_epoch(months[i + 1]) if i + 1 < len(months) else end, end)
        signup = lo + np.floor(rng.random(n) * (hi - lo)).astype("int64")
        rows.append(pd.DataFrame({"month": i, "signup": np.sort(signup), "window_end": hi}))
    c = pd.concat(rows, ignore_index=True)
    n = len(c)
    c["customer_id"] = [f"C{offset + k + 1:07d}" for k in range(n)]
    c["plan"] = np.where(rng.random(n) < 0.35, "pro", "basic")
    c["region"] = rng.choice(np.array(["AMER", "EMEA", "APAC"]), size=n, p=[0.45, 0.35, 0.20])
    c["acquisition_channel"] = rng.choice(np.array(["organic", "paid_search", "referral", "social"]),
                                          size=n, p=[0.40, 0.30, 0.15, 0.15])
    return c


def retention_probability(k, plan, cohort_2026, december):
    """Planted P(active in month k >= 1 after signup): see data/README.md."""
    k = np.asarray(k, dtype=float)
    p = 0.15 + 0.40 * np.exp(-0.25 * (k - 1))
    p = p + 0.12 * (np.asarray(plan) == "pro") + 0.05 * np.asarray(cohort_2026)
    return p * np.where(december, 0.8, 1.0)


def _events(rng, c: pd.DataFrame):
    n = len(c)
    # Journey: each step among those who reached the previous one; offsets in seconds after signup.
    reached = np.ones((n, len(FUNNEL)), dtype=bool)
    for j, (_, rate) in enumerate(FUNNEL[1:], start=1):
        reached[:, j] = reached[:, j - 1] & (rng.random(n) < rate)
    onboard = _lognormal(rng, 6 * _HOUR, 0.8, n)
    first_value = onboard + _lognormal(rng, 36 * _HOUR, 0.6, n)
    checkout = first_value + _lognormal(rng, 20 * _HOUR, 0.9, n)
    purchase = checkout + _lognormal(rng, 15 * 60, 0.7, n)
    offsets = np.column_stack([np.zeros(n), onboard, first_value, checkout, purchase])
    # Keep the journey inside the signup month (and the data window), so month-k activity is only the
    # planted retention: compress the offsets of customers whose last step would spill over.
    last = np.where(reached, offsets, 0).max(axis=1)
    room = (c["window_end"].to_numpy() - c["signup"].to_numpy() - 1).astype(float)
    factor = np.where(last > room, room / np.maximum(last, 1), 1.0)
    times = c["signup"].to_numpy()[:, None] + _whole(offsets * factor[:, None])
    cust_idx, step = np.nonzero(reached)
    journey = pd.DataFrame({"i": cust_idx, "t": times[cust_idx, step],
                            "event_name": np.array([s for s, _ in FUNNEL])[step]})
    purchased = reached[:, -1]

    # Retention: month k >= 1 after the signup month is an independent draw.
    months = _month_starts()
    n_months = len(months)
    edges = np.append([_as_epoch(m) for m in months], _as_epoch(END) + 1)
    m0 = c["month"].to_numpy()
    k = np.arange(1, n_months)[None, :]
    cal = m0[:, None] + k
    valid = cal < n_months
    cal_c = np.minimum(cal, n_months - 1)
    december = (months[cal_c].astype("datetime64[M]").astype(int) % 12) == 11
    cohort_2026 = (months[m0].astype("datetime64[Y]").astype(int) + 1970 >= 2026)[:, None]
    p = retention_probability(k, c["plan"].to_numpy()[:, None], cohort_2026, december)
    active = valid & (rng.random(cal.shape) < p)
    ci, kk = np.nonzero(active)
    calm = cal[ci, kk]
    n_login = 1 + rng.poisson(1.0, len(ci))
    li = np.repeat(ci, n_login)
    lm = np.repeat(calm, n_login)
    lo, hi = edges[lm], edges[lm + 1]
    login_t = lo + np.floor(rng.random(len(li)) * (hi - lo)).astype("int64")
    buy = purchased[ci] & (rng.random(len(ci)) < 0.5)
    bi, bm = ci[buy], calm[buy]
    lo, hi = edges[bm], edges[bm + 1]
    buy_t = lo + np.floor(rng.random(len(bi)) * (hi - lo)).astype("int64")
    ev = pd.concat([
        journey,
        pd.DataFrame({"i": li, "t": login_t, "event_name": "login"}),
        pd.DataFrame({"i": bi, "t": buy_t, "event_name": "purchase"}),
    ], ignore_index=True)
    is_buy = ev["event_name"].to_numpy() == "purchase"
    plan = c["plan"].to_numpy()[ev["i"].to_numpy()]
    mean = np.where(plan == "pro", 90.0, 40.0)
    sigma = 0.5  # log-normal with the planted mean: mu = log(mean) - sigma^2 / 2
    rev = np.exp(np.log(mean) - sigma ** 2 / 2 + sigma * rng.standard_normal(len(ev)))
    ev["revenue"] = np.where(is_buy, np.round(rev, 2), np.nan)
    order = {name: j for j, name in enumerate([s for s, _ in FUNNEL] + ["login"])}
    ev["o"] = ev["event_name"].map(order)
    ev = ev.sort_values(["t", "i", "o"], kind="mergesort").reset_index(drop=True)
    out = pd.DataFrame({
        "customer_id": c["customer_id"].to_numpy()[ev["i"]],
        "event_time": ev["t"].to_numpy(),
        "event_name": ev["event_name"].to_numpy(),
        "revenue": ev["revenue"].to_numpy(),
        "plan": c["plan"].to_numpy()[ev["i"]],
        "region": c["region"].to_numpy()[ev["i"]],
        "acquisition_channel": c["acquisition_channel"].to_numpy()[ev["i"]],
    })
    return out


#: First-response targets in seconds per channel (the scorecard's and journey.DEFAULT_TARGETS' hours).
FIRST_RESPONSE_TARGETS = {"email": 12 * _HOUR, "chat": 6 * 60, "phone": 3 * 60}
#: Planted churn-hazard multipliers (data/README.md): reaching first_value within FAST_VALUE_DAYS of
#: signup (for the whole subscription; 0.66 / 1.1 = 0.6) and, from the moment a first reply's target
#: passed unanswered, SLOW_REPLY_FACTOR.
FAST_VALUE_DAYS = 7
FAST_VALUE_FACTOR, NO_FAST_VALUE_FACTOR = 0.66, 1.1
SLOW_REPLY_FACTOR = 2.0


def _first_slow_reply(c: pd.DataFrame, tickets: pd.DataFrame) -> np.ndarray:
    """Per customer, the first moment (epoch s) a ticket's first-response target passed unanswered
    (created + target, when the reply came later or not by END); -1 when never."""
    target = tickets["channel"].map(FIRST_RESPONSE_TARGETS).to_numpy(dtype="int64")
    created = tickets["created_at"].to_numpy(dtype="int64")
    reply = tickets["first_response_at"].to_numpy(dtype=float)
    due = created + target
    slow = (np.isnan(reply) | (reply > due)) & (due <= _as_epoch(END))
    first = pd.Series(due[slow]).groupby(tickets["customer_id"].to_numpy()[slow]).min()
    return first.reindex(c["customer_id"]).fillna(-1).to_numpy(dtype="int64")


def _subscriptions(rng, c: pd.DataFrame, events: pd.DataFrame | None = None,
                   tickets: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer, starting at signup: monthly churn hazard 6% (basic) / 3% (pro), times the
    planted journey factors (first value within 7 days, slow first reply; see data/README.md)."""
    idx = np.arange(len(c))
    plan = c["plan"].to_numpy()[idx]
    hazard = np.where(plan == "pro", 0.03, 0.06)
    months = rng.exponential(1.0, len(idx)) / -np.log1p(-hazard)
    start = c["signup"].to_numpy()[idx]
    if events is not None:  # seconds at the hazard of the first value factor, then the slow-reply change
        fv = events.loc[events["event_name"] == "first_value"].groupby("customer_id")["event_time"].min()
        fv = fv.reindex(c["customer_id"]).to_numpy(dtype=float) - start
        fast = ~np.isnan(fv) & (fv <= FAST_VALUE_DAYS * _DAY)
        months = months / np.where(fast, FAST_VALUE_FACTOR, NO_FAST_VALUE_FACTOR)
    secs = months * _MONTH_DAYS * _DAY
    if tickets is not None:
        slow_at = _first_slow_reply(c, tickets) - start  # seconds after start (< 0: never)
        later = (slow_at >= 0) & (secs > slow_at)
        secs = np.where(later, slow_at + (secs - slow_at) / SLOW_REPLY_FACTOR, secs)
    end = start + _whole(secs)
    censored = end > _as_epoch(END)
    mrr = np.where(plan == "pro", 79.0, 29.0)
    return pd.DataFrame({
        "customer_id": c["customer_id"].to_numpy()[idx],
        "start_time": start,
        "end_time": np.where(censored, np.nan, end.astype(float)),
        "mrr": mrr,
        "plan": plan,
        "region": c["region"].to_numpy()[idx],
    })


# ------------------------------------------------------------------------------------------ responses

def _signed_up_before(rng, customers: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Row numbers of random customers who had signed up before each time (customers sorted by signup)."""
    known = np.maximum(np.searchsorted(customers["signup"].to_numpy(), t), 1)
    return np.floor(rng.random(len(t)) * known).astype("int64")


_THEME_TEXTS = {
    "pricing": ["Too expensive for what it does.", "The new price is hard to justify.",
                "Pricing went up again, not happy.", "Good tool but the cost is too high for a small team.",
                "I pay too much compared to other options."],
    "setup": ["The setup was confusing.", "Onboarding was confusing and I gave up halfway.",
              "I didn't know where to start after signing up.", "Setup took far too long.",
              "The onboarding emails didn't help me get started."],
    "speed": ["The app is slow to load.", "Pages are slow, everything takes ages.",
              "Reports load too slowly.", "Speed has gotten worse lately."],
    "bugs": ["It crashed twice this week.", "Too many bugs in the export.", "The app froze and I lost my work.",
             "Got an error every time I saved."],
    "trust": ["Felt a bit sketchy asking for my card details.", "Not sure my data is secure.",
              "The permissions it asks for look sketchy."],
    "support": ["Support took days to reply.", "Nobody from support answered my question.",
                "Waited too long for an agent.", "Support was quick and helpful."],
    "missing_features": ["Missing an integration with our CRM.", "I wish it had a dark mode.",
                         "Please add bulk editing.", "The feature I need is missing."],
    "praise": ["Love it, works great.", "Great product, easy to use.", "Saves me hours every week.",
               "Excellent, the team loves it.", "Simple and reliable."],
}
_MARKUP_TEXTS = ["<b>Love</b> the new dashboard, great work.",
                 "<script>alert('hi')</script> the app froze again.",
                 "Price <i>doubled</i> & nobody told us."]
_THEME_PROBS = {  # by NPS category: detractor, passive, promoter
    "pricing": (0.22, 0.12, 0.04), "setup": (0.14, 0.10, 0.03), "speed": (0.14, 0.10, 0.03),
    "bugs": (0.15, 0.08, 0.02), "trust": (0.07, 0.04, 0.01), "support": (0.18, 0.11, 0.07),
    "missing_features": (0.10, 0.25, 0.10), "praise": (0.00, 0.20, 0.70),
}
_FIRST = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Robin", "Kim"]
_LAST = ["Smith", "Garcia", "Müller", "Kowalski", "Tanaka", "Okafor", "Silva", "Nguyen", "Dubois", "Rossi"]
_TOUCHPOINTS = ("discovery", "checkout", "onboarding", "use", "support", "renewal")


def _responses(rng, customers: pd.DataFrame, offset: int = 0) -> pd.DataFrame:
    first_week = np.datetime64("2026-01-05")
    weeks = np.arange(first_week, PLANTED_WEEK + 7, 7)
    # The survey programme ramps up over the year (about 30 to 230 answers a week).
    lam = 30 + 200 * np.arange(len(weeks)) / (len(weeks) - 1)
    counts = rng.poisson(lam)
    week = np.repeat(weeks, counts)
    n = len(week)
    t = week.astype("datetime64[s]").astype("int64") + np.floor(rng.random(n) * 7 * _DAY).astype("int64")
    order = np.argsort(t, kind="mergesort")
    t, week = t[order], week[order]

    common = rng.standard_normal(n)
    z = {d: 0.6 * common + 0.8 * rng.standard_normal(n) for d in DRIVERS}
    ratings = {d: np.clip(np.round(DRIVER_MEANS[d] + 1.9 * z[d]), 1, 10) for d in DRIVERS}
    # The latent score uses the standardized (observed-scale) ratings, so the planted weights are
    # the weights a regression on the ratings recovers.
    latent = sum(DRIVER_WEIGHTS[d] * (ratings[d] - ratings[d].mean()) / ratings[d].std() for d in DRIVERS)
    latent = latent + 0.55 * rng.standard_normal(n)
    touch = rng.choice(np.array(_TOUCHPOINTS), size=n, p=[0.10, 0.15, 0.20, 0.30, 0.15, 0.10])
    shift = np.where(touch == "onboarding", -0.19, 0.0) + np.where(week == PLANTED_WEEK, -0.18, 0.0)
    score = latent + shift
    nps = np.clip(np.round(8.3 + 2.3 * score), 0, 10).astype(int)
    csat = np.clip(np.round(4.0 + 0.9 * score + 0.6 * rng.standard_normal(n)), 1, 5).astype(int)
    ces = np.clip(np.round(5.2 + 1.1 * score + 0.8 * rng.standard_normal(n)), 1, 7).astype(int)

    # Missing ratings: responsiveness only for those who contacted support (~75%), ~3% elsewhere;
    # ~3% halo respondents give every driver one score.
    halo = rng.random(n) < 0.03
    halo_score = np.clip(np.round(nps * 0.8 + 1.5), 1, 10)
    shown = {}
    for d in DRIVERS:
        r = np.where(halo, halo_score, ratings[d])
        na = rng.random(n) < (0.25 if d == "drv_responsiveness" else 0.03)
        shown[d] = np.where(na & ~halo, np.nan, r)

    cat = np.where(nps <= 6, 0, np.where(nps <= 8, 1, 2))
    themes = list(_THEME_PROBS)
    probs = np.array([_THEME_PROBS[th] for th in themes]).T  # category x theme
    probs = probs / probs.sum(axis=1, keepdims=True)
    u = rng.random(n)
    theme_idx = (u[:, None] > np.cumsum(probs[cat], axis=1)).sum(axis=1)
    theme_idx = np.minimum(theme_idx, len(themes) - 1)
    theme = np.array(themes)[theme_idx]
    theme = np.where((touch == "onboarding") & (cat < 2) & (rng.random(n) < 0.35), "setup", theme)
    # The planted price rise: the pricing theme's share about triples in the planted week.
    theme = np.where((week == PLANTED_WEEK) & (rng.random(n) < 0.40), "pricing", theme)
    pick = rng.random(n)
    comment = np.array([_THEME_TEXTS[th][int(p * len(_THEME_TEXTS[th]))] for th, p in zip(theme, pick)],
                       dtype=object)
    markup = rng.random(n) < 0.004
    comment[markup] = np.array(_MARKUP_TEXTS, dtype=object)[rng.integers(0, len(_MARKUP_TEXTS), markup.sum())]
    answered = rng.random(n) < 0.60
    comment[~answered] = ""

    cust = customers.iloc[_signed_up_before(rng, customers, t)]
    rid = np.arange(offset + 1, offset + n + 1)
    first = np.array(_FIRST)[rng.integers(0, len(_FIRST), n)]
    last = np.array(_LAST)[rng.integers(0, len(_LAST), n)]
    out = pd.DataFrame({
        "respondent_id": [f"R{k:07d}" for k in rid],
        "customer_id": cust["customer_id"].to_numpy(),
        "response_time": t,
        "nps": nps, "csat": csat, "ces": ces,
        **{d: shown[d] for d in DRIVERS},
        "comment": comment,
        "channel": rng.choice(np.array(["email", "in_app", "web"]), size=n, p=[0.40, 0.35, 0.25]),
        "plan": cust["plan"].to_numpy(),
        "region": cust["region"].to_numpy(),
        "touchpoint": touch,
        "email": [f"{f.lower()}.{l.lower()}{k}@example.com".replace("ü", "ue") for f, l, k in zip(first, last, rid)],
        "name": [f"{f} {l}" for f, l in zip(first, last)],
        "phone": [f"+1-555-{k % 10000:04d}" for k in rid],
    })
    return out


# ------------------------------------------------------------------------------------------ tickets

def _tickets(rng, customers: pd.DataFrame, offset: int = 0) -> pd.DataFrame:
    lo, hi = _as_epoch("2026-01-01T00:00:00"), _as_epoch(END) + 1
    n0 = rng.poisson(5000)
    created = lo + np.floor(rng.random(n0) * (hi - lo)).astype("int64")
    who = _signed_up_before(rng, customers, created)
    # About 20% of contacts are followed by another from the same customer within 7 days.
    again = rng.random(n0) < 0.20
    created2 = created[again] + np.floor(rng.random(again.sum()) * 7 * _DAY).astype("int64")
    created = np.concatenate([created, created2])
    who = np.concatenate([who, who[again]])
    keep = created < hi
    created, who = created[keep], who[keep]
    order = np.argsort(created, kind="mergesort")
    created, who = created[order], who[order]
    n = len(created)
    channel = rng.choice(np.array(["email", "chat", "phone"]), size=n, p=[0.45, 0.35, 0.20])
    first_median = np.select([channel == "email", channel == "chat"], [6 * _HOUR, 4 * 60], 2 * 60)
    week = (created - _as_epoch("2026-11-16T00:00:00")) // (7 * _DAY)
    first_median = np.where((channel == "email") & (week == 0), 2 * first_median, first_median)
    resolve_median = np.select([channel == "email", channel == "chat"], [24 * _HOUR, 3 * _HOUR], 2 * _HOUR)
    first = created + _whole(_lognormal(rng, 1.0, 0.8, n) * first_median)
    resolved = first + _whole(_lognormal(rng, 1.0, 0.9, n) * resolve_median)
    first_f = np.where(first > hi - 1, np.nan, first.astype(float))
    resolved_f = np.where(resolved > hi - 1, np.nan, resolved.astype(float))
    reopened = np.where(np.isnan(resolved_f), 0, (rng.random(n) < 0.08).astype(int))
    return pd.DataFrame({
        "ticket_id": [f"T{k:07d}" for k in range(offset + 1, offset + n + 1)],
        "customer_id": customers["customer_id"].to_numpy()[who],
        "created_at": created,
        "first_response_at": first_f,
        "resolved_at": resolved_f,
        "channel": channel,
        "reopened": reopened,
    })


# ------------------------------------------------------------------------------------------ experiment

def _experiment(rng, n: int = 60_000, offset: int = 0) -> pd.DataFrame:
    variant = rng.choice(np.array(["control", "new_checkout", "one_click"]), size=n)
    exp_lo, exp_hi = _as_epoch(EXPERIMENT_START), _as_epoch(EXPERIMENT_END) + 1
    exposure = np.sort(exp_lo + np.floor(rng.random(n) * (exp_hi - exp_lo)).astype("int64"))
    device = np.where(rng.random(n) < 0.55, "desktop", "mobile")
    # Regular buyers (15%) convert often, in the pre-period and now: that shared propensity (and the
    # basket size) is what makes pre_revenue a good CUPED covariate for revenue.
    regular = rng.random(n) < 0.15
    basket = _lognormal(rng, 45.0, 0.45, n)
    pre_orders = rng.poisson(np.where(regular, 4.0, 0.05))
    pre_revenue = np.round(pre_orders * basket * _lognormal(rng, 1.0, 0.15, n), 2)
    p_convert = np.where(regular, 0.55, 0.0206) * np.where(variant == "new_checkout", 1.15, 1.0)
    converted = (rng.random(n) < p_convert).astype(int)
    revenue = np.round(converted * basket * _lognormal(rng, 1.0, 0.25, n) * np.where(regular, 1.6, 1.0), 2)

    csat_p = {"control": [0.04, 0.06, 0.15, 0.35, 0.40], "new_checkout": [0.04, 0.06, 0.15, 0.35, 0.40],
              "one_click": [0.05, 0.08, 0.18, 0.34, 0.35]}  # means 4.01 vs 3.86: one_click -0.15
    csat = np.empty(n)
    u = rng.random(n)
    for v, p in csat_p.items():
        m = variant == v
        csat[m] = 1 + (u[m][:, None] > np.cumsum(p)[None, :]).sum(axis=1)
    csat = np.where(rng.random(n) < 0.40, np.minimum(csat, 5), np.nan)

    # NPS categories: control 45/30/25 (NPS 20), new_checkout 48/29/23 (NPS 25).
    nps_p = np.where((variant == "new_checkout")[:, None], [0.48, 0.29, 0.23], [0.45, 0.30, 0.25])
    u = rng.random(n)
    cat = (u[:, None] > np.cumsum(nps_p, axis=1)).sum(axis=1)
    cat = np.minimum(cat, 2)
    promoter = rng.choice(np.array([9, 10]), size=n)
    passive = rng.choice(np.array([7, 8]), size=n)
    detractor = rng.choice(np.arange(7), size=n, p=[0.04, 0.04, 0.06, 0.10, 0.14, 0.26, 0.36])
    nps = np.select([cat == 0, cat == 1], [promoter, passive], detractor).astype(float)
    nps = np.where(rng.random(n) < 0.40, nps, np.nan)

    sessions = 1 + rng.poisson(3.0, n)
    clicks = rng.poisson(sessions * 0.8 * np.where(variant == "one_click", 1.08, 1.0))
    return pd.DataFrame({
        "unit_id": [f"U{k:07d}" for k in range(offset + 1, offset + n + 1)],
        "variant": variant,
        "exposure_time": exposure,
        "converted": converted,
        "revenue": revenue,
        "csat": csat,
        "nps": nps,
        "clicks": clicks,
        "sessions": sessions,
        "pre_revenue": pre_revenue,
        "device": device,
    })


# ------------------------------------------------------------------------------------------ MRR history

#: Planted seat changes of data/sample/mrr_history.csv: each month after the first, a customer adds a seat
#: with probability MRR_EXPAND and (with more than one seat) removes one with probability MRR_CONTRACT.
MRR_EXPAND, MRR_CONTRACT = 0.04, 0.02


def mrr_history(subscriptions: pd.DataFrame, *, seed: int = SEED, block: int = 0) -> pd.DataFrame:
    """Monthly MRR per customer derived from the subscriptions (its own random stream, so the five
    tables are unchanged by it): one row per calendar month in which the subscription was active at
    some point, from the start month to the end month (or END's month); ``mrr`` = the plan's price x
    seats, seats starting at 1 and changing by the planted MRR_EXPAND / MRR_CONTRACT draws."""
    rng = np.random.default_rng([seed, block, 101])
    start = subscriptions["start_time"].to_numpy(dtype="int64").astype("datetime64[s]").astype("datetime64[M]")
    end_s = subscriptions["end_time"].to_numpy(dtype=float)
    last_s = np.where(np.isnan(end_s), _as_epoch(END), np.nan_to_num(end_s)).astype("int64")
    last = last_s.astype("datetime64[s]").astype("datetime64[M]")
    months = (last - start).astype("int64") + 1
    i = np.repeat(np.arange(len(subscriptions)), months)
    k = np.arange(len(i)) - np.repeat(np.cumsum(months) - months, months)  # month number since start
    u = rng.random(len(i))
    step = np.where(k == 0, 0, np.where(u < MRR_EXPAND, 1, np.where(u > 1 - MRR_CONTRACT, -1, 0)))
    seats = np.empty(len(i), dtype="int64")
    level = 1
    for j in range(len(i)):  # sequential: a seat is removed only while there is more than one
        level = 1 if k[j] == 0 else max(1, level + int(step[j]))
        seats[j] = level
    price = subscriptions["mrr"].to_numpy(dtype=float)[i].astype("int64")
    month = (start[i] + k.astype("timedelta64[M]")).astype("datetime64[D]")
    return pd.DataFrame({"customer_id": subscriptions["customer_id"].to_numpy()[i],
                         "month": pd.Series(month).dt.strftime("%Y-%m-%d").to_numpy(),
                         "mrr": price * seats, "plan": subscriptions["plan"].to_numpy()[i]})


# ------------------------------------------------------------------------------------------ public API

def generate(*, seed: int = SEED, block: int = 0) -> dict[str, pd.DataFrame]:
    """Generate the five sample tables (one block of the default size) as pandas DataFrames.

    Timestamps are epoch seconds here (NaN when missing); :func:`write_sample` formats them.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the bundled sample uses ``SEED``.
    block : int
        Block number for benchmark-size data: ids are offset so blocks can be concatenated.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``events``, ``subscriptions``, ``responses``, ``tickets``, ``experiment``.
    """
    # One independent stream per table, so changing one table's design leaves the others as they are.
    def rng(table):
        return np.random.default_rng([seed, block, TABLES.index(table) + 1])

    c = _customers(np.random.default_rng([seed, block, 0]), offset=block * 10_000_000)
    events = _events(rng("events"), c)
    responses = _responses(rng("responses"), c, offset=block * 10_000_000)
    tickets = _tickets(rng("tickets"), c, offset=block * 10_000_000)
    subscriptions = _subscriptions(rng("subscriptions"), c, events, tickets)  # planted journey effects
    experiment = _experiment(rng("experiment"), offset=block * 10_000_000)
    return {"events": events, "subscriptions": subscriptions, "responses": responses,
            "tickets": tickets, "experiment": experiment}


_TIME_COLUMNS = {"events": ["event_time"], "subscriptions": ["start_time", "end_time"],
                 "responses": ["response_time"], "tickets": ["created_at", "first_response_at", "resolved_at"],
                 "experiment": ["exposure_time"]}


def _for_csv(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in _TIME_COLUMNS[kind]:
        out[col] = _fmt_times(out[col].to_numpy(dtype=float))
    return out


def _for_parquet(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in _TIME_COLUMNS[kind]:
        out[col] = pd.to_datetime(out[col], unit="s")
    return out


def write_sample(out=None, *, scale: int = 1, seed: int = SEED, format: str = "csv",
                 tables=TABLES) -> dict[str, Path]:
    """Write the sample tables to ``out`` (default ``data/sample``) and return their paths.

    ``scale=1`` (CSV) is the bundled sample, byte for byte. ``scale=N`` writes N independent blocks
    of the same design (ids offset per block, so e.g. ``scale=350`` gives about 10M events); use
    ``format='parquet'`` for those, written block by block to bound memory.

    Examples
    --------
    >>> write_sample("/tmp/cx-sample")  # doctest: +SKIP
    """
    from cxlib.paths import SAMPLE_DIR

    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', not {format!r}")
    if int(scale) < 1:
        raise ValueError(f"scale must be a positive integer, not {scale!r}")
    out = Path(out) if out is not None else SAMPLE_DIR
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"{kind}.{format}" for kind in tables}
    writers: dict = {}
    tmp = {kind: p.with_name(p.name + ".tmp") for kind, p in paths.items()}
    try:
        for block in range(int(scale)):
            frames = generate(seed=seed, block=block)
            for kind in tables:
                df = frames[kind]
                if format == "csv":
                    _for_csv(kind, df).to_csv(tmp[kind], index=False, mode="w" if block == 0 else "a",
                                              header=block == 0, lineterminator="\n", float_format="%.10g")
                else:
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    tbl = pa.Table.from_pandas(_for_parquet(kind, df), preserve_index=False)
                    if kind not in writers:
                        writers[kind] = pq.ParquetWriter(tmp[kind], tbl.schema)
                    writers[kind].write_table(tbl)
        for w in writers.values():
            w.close()
        for kind in tables:  # move into place only when complete
            tmp[kind].replace(paths[kind])
    finally:
        for kind in tables:
            if tmp[kind].exists():
                tmp[kind].unlink()
    if int(scale) == 1 and format == "csv" and "subscriptions" in tables:  # derived: MRR month by month
        paths["mrr_history"] = out / "mrr_history.csv"
        mrr_history(frames["subscriptions"], seed=seed).to_csv(paths["mrr_history"], index=False, lineterminator="\n")
    return paths
