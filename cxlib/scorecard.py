"""The weekly CX scorecard: a few indicators, each with its interval and an honest "beyond noise?" flag.

- Headline: NPS, CSAT and CES of the chosen week (default: the last complete Monday-Sunday week), the
  change against the previous week and against the average of the prior four weeks (pooled answers),
  with a 95% interval and a two-sided z-test; ``beyond_noise`` when p < alpha.
- Support: this week's first-response times per channel against the prior four weeks' (Mann-Whitney U
  test on the two samples of tickets; medians and their ratio reported).
- Close the loop: detractors who commented this week, with their themes and their latest ticket's
  status, by id only; personal-data columns never leave this module.

Examples
--------
>>> from cxlib import scorecard
>>> scorecard.headline("data/sample/responses.csv")  # doctest: +SKIP
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib import metrics, support, themes

__all__ = ["last_complete_week", "headline", "weekly_trends", "segment_table", "support_changes", "close_the_loop",
           "summarize"]


def last_complete_week(as_of) -> pd.Timestamp:
    """Monday of the last Monday-Sunday week that has ended by ``as_of`` (a Sunday counts as ended)."""
    d = pd.Timestamp(as_of).normalize()
    this_monday = d - pd.Timedelta(days=d.day_of_week)
    return this_monday if d.day_of_week == 6 else this_monday - pd.Timedelta(weeks=1)


def _week(week, data, time, name):
    if week is not None:
        w = pd.Timestamp(str(week))
        if w.day_of_week != 0:
            w = w - pd.Timedelta(days=w.day_of_week)
        return w
    t = cxdata.as_table(data, name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    # the last complete week of the data, but never after the analysis date (a row dated 2099 is a typo)
    last = cxdata.to_pandas(t[time].max(), name=name)
    return last_complete_week(min(pd.Timestamp(last), cxdata.default_as_of(None, data)))


def headline(responses, *, week=None, time: str = "response_time", nps: str = "nps", csat: str | None = "csat",
             ces: str | None = "ces", prior_weeks: int = 4, alpha: float = 0.05, min_n: int = 30,
             name: str | None = None) -> pd.DataFrame:
    """This week's NPS / CSAT / CES against last week and the prior ``prior_weeks`` weeks.

    Returns one row per metric x comparison ('previous week', 'prior 4 weeks'): ``metric``, ``week``,
    ``n``, ``value``, ``ci_lower``, ``ci_upper``, ``comparison``, ``baseline``, ``baseline_n``,
    ``change``, ``change_ci_lower``, ``change_ci_upper``, ``p_value``, ``beyond_noise``.
    NPS in points; CSAT as a share (top-2-box); CES as a mean.
    """
    w = _week(week, responses, time, name)
    rows = []
    specs = [("nps", nps, metrics.nps_counts, metrics.nps_from_counts)]
    if csat:
        specs.append(("csat", csat, metrics.csat_counts, metrics.csat_from_counts))
    if ces:
        specs.append(("ces", ces, metrics.ces_counts, metrics.ces_from_counts))
    for label, col, counts_fn, est_fn in specs:
        c = counts_fn(responses, score=col, time=time, period="week", name=name).set_index("period")
        if w not in c.index:
            raise cxdata.CXDataError(f"no {label} answers in the week of {w:%Y-%m-%d}.")
        cur = c.loc[w]
        est = est_fn(c.loc[[w]].reset_index(), alpha=alpha, min_n=min_n).iloc[0]
        comparisons = {"previous week": c.loc[[w - pd.Timedelta(weeks=1)]] if (w - pd.Timedelta(weeks=1)) in c.index else c.iloc[:0],
                       f"prior {prior_weeks} weeks": c.loc[w - pd.Timedelta(weeks=prior_weeks): w - pd.Timedelta(weeks=1)]}
        for comp, base_rows in comparisons.items():
            row = {"metric": label, "week": w.date(), "n": int(cur["n"]), "value": est["estimate"],
                   "ci_lower": est["ci_lower"], "ci_upper": est["ci_upper"], "comparison": comp}
            base = base_rows.sum(numeric_only=True)
            if base_rows.empty or base.get("n", 0) < min_n or cur["n"] < min_n:
                row.update(baseline=np.nan, baseline_n=int(base.get("n", 0)), change=np.nan, change_ci_lower=np.nan,
                           change_ci_upper=np.nan, p_value=np.nan, beyond_noise=False)
            else:
                if label == "nps":
                    ch = metrics.nps_change(cur, base, alpha=alpha)
                elif label == "csat":
                    ch = metrics.proportion_change(cur["satisfied"], cur["n"], base["satisfied"], base["n"], alpha=alpha)
                else:
                    ch = metrics.mean_change(cur, base, alpha=alpha)
                row.update(baseline=ch["baseline"], baseline_n=int(base["n"]), change=ch["change"],
                           change_ci_lower=ch["ci_lower"], change_ci_upper=ch["ci_upper"], p_value=ch["p_value"],
                           beyond_noise=ch["beyond_noise"])
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(week=w, prior_weeks=prior_weeks, alpha=alpha)
    return out


def segment_table(responses, *, week=None, by=("channel", "plan", "region", "touchpoint"),
                  time: str = "response_time", score: str = "nps", min_n: int = 30,
                  name: str | None = None) -> pd.DataFrame:
    """This week's NPS per segment value (one block per ``by`` column), small segments suppressed."""
    w = _week(week, responses, time, name)
    t = cxdata.as_table(responses, name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    t = t.filter((t[time] >= w.to_pydatetime()) & (t[time] < (w + pd.Timedelta(weeks=1)).to_pydatetime()))
    parts = []
    for b in cxdata.as_list(list(by)):
        r = metrics.nps(t, score=score, by=b, min_n=min_n)
        parts.append(r.rename(columns={b: "value"}).assign(segment=b))
    out = pd.concat(parts, ignore_index=True)
    return out[["segment", "value", "n", "nps", "ci_lower", "ci_upper", "suppressed"]].assign(week=w.date())


def support_changes(tickets, *, week=None, measure: str = "first_response", by: str = "channel",
                    prior_weeks: int = 4, alpha: float = 0.05, min_n: int = 20, created: str = "created_at",
                    **columns) -> pd.DataFrame:
    """Did this week's response time per channel change against the prior weeks? (median test)

    Returns per channel: ``median_hours`` this week and ``prior_median_hours``, ``ratio``,
    ``slower_share`` (share of this week's tickets slower than the prior median), ``p_value``
    (Mann-Whitney U, two-sided), ``beyond_noise``.
    """
    w = _week(week, tickets, created, None)
    counts = support.durations(tickets, measure=measure, by=by, period="week", created=created, **columns)
    rows = []
    for ch, g in counts.groupby(by):
        cur = g[g["period"] == w]
        prior = g[(g["period"] >= w - pd.Timedelta(weeks=prior_weeks)) & (g["period"] < w)]
        n, n0 = int(cur["n"].sum()), int(prior["n"].sum())
        if n < min_n or n0 < min_n:
            rows.append({by: ch, "n": n, "prior_n": n0, "median_hours": np.nan, "prior_median_hours": np.nan,
                         "ratio": np.nan, "slower_share": np.nan, "p_value": np.nan, "beyond_noise": False})
            continue
        x0 = np.repeat(prior["seconds"].to_numpy(float), prior["n"].to_numpy())
        x1 = np.repeat(cur["seconds"].to_numpy(float), cur["n"].to_numpy())
        med0, med = float(np.median(x0)), float(np.median(x1))
        p = stats.mannwhitneyu(x1, x0, alternative="two-sided").pvalue
        rows.append({by: ch, "n": n, "prior_n": n0, "median_hours": med / 3600, "prior_median_hours": med0 / 3600,
                     "ratio": med / med0 if med0 > 0 else np.nan, "slower_share": float((x1 > med0).mean()),
                     "p_value": p, "beyond_noise": bool(p < alpha)})
    out = pd.DataFrame(rows)
    out.attrs.update(week=w, measure=measure)
    return out


def close_the_loop(responses, *, tickets=None, week=None, time: str = "response_time", score: str = "nps",
                   comment: str = "comment", respondent: str = "respondent_id", customer: str = "customer_id",
                   segments=("touchpoint", "channel"), taxonomy=None, detractor_max: int = 6,
                   personal=None, name: str | None = None) -> pd.DataFrame:
    """Detractors who commented in the week, to call back: ids, score, themes, latest ticket status.

    Personal-data columns (``personal``, default :data:`cxlib.data.PERSONAL_DATA_DEFAULT`) are dropped
    first, so they cannot reach a report. The comment text is returned as data (escape it to render it).
    """
    w = _week(week, responses, time, name)
    t = cxdata.as_table(responses, name=name)
    t = cxdata.drop_personal(t, personal)
    segments = [s for s in cxdata.as_list(list(segments)) if s in t.columns]
    cxdata.require_columns(t, [respondent, time, score, comment], name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    t = cxdata.clean_numeric(t, score, lo=0, hi=10, integer=True, name=name)
    t = t.filter((t[time] >= w.to_pydatetime()) & (t[time] < (w + pd.Timedelta(weeks=1)).to_pydatetime())
                 & (t[score] <= detractor_max) & t[comment].notnull() & (t[comment].strip() != ""))
    cols = [respondent, *([customer] if customer in t.columns else []), time, score, *segments, comment]
    out = cxdata.to_pandas(t.select(*cols), name=name)
    tagged = themes.tag_comments(t.select(respondent, comment), comment=comment, id=respondent, taxonomy=taxonomy)
    labels = tagged.groupby(respondent)["label"].apply(lambda s: ", ".join(sorted(s)))
    out["themes"] = out[respondent].map(labels).fillna("(no theme)")
    if tickets is not None and customer in out.columns:
        tk = cxdata.as_table(tickets)
        tk = cxdata.clean_timestamp(tk, "created_at")
        tk = tk.filter(tk[customer].isin(list(out[customer].dropna().unique())))
        latest = cxdata.to_pandas(tk.select(customer, "created_at", *(c for c in ("resolved_at",) if c in tk.columns)))
        latest = latest.sort_values("created_at").groupby(customer).tail(1).set_index(customer)
        status = np.where(latest.get("resolved_at", pd.Series(index=latest.index)).isna(), "open", "resolved")
        out["latest_ticket"] = out[customer].map(pd.Series(status, index=latest.index)).fillna("none")
    # ids that are e-mail addresses or phone numbers (a Shopify or Stripe export) are shown hashed;
    # contact details typed into a comment are masked
    from cxlib.sources.personal import looks_like_contact, mask_contacts, pseudonymize, session_salt

    for col in (respondent, customer):
        if col in out.columns and looks_like_contact(out[col].dropna().astype(str).head(200)):
            out[col] = pseudonymize(out[col].astype("string"), session_salt())
    out[comment] = out[comment].map(mask_contacts)
    return out.sort_values([score, time]).reset_index(drop=True)


def _duration(hours: float) -> str:
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"


def _pct_points(label, v):
    return f"{v:+.1f} points" if label == "nps" else (f"{100 * v:+.1f} pp" if label == "csat" else f"{v:+.2f}")


def _value(label, v):
    return f"{v:+.1f}" if label == "nps" else (f"{v:.0%}" if label == "csat" else f"{v:.2f}")


def summarize(head: pd.DataFrame, *, support_table: pd.DataFrame | None = None,
              rising: pd.DataFrame | None = None, stages: pd.DataFrame | None = None) -> str:
    """The scorecard's plain-language summary: each headline metric, what changed beyond noise.

    Returns :class:`cxlib.present.Text`: safe HTML in which every data value (channels, themes, stages)
    is escaped (wording in :func:`cxlib.present.scorecard_summary`).
    """
    from cxlib import present  # present sits above the analyses; imported here to keep imports one-way

    return present.scorecard_summary(head, support_table=support_table, rising=rising, stages=stages)


def weekly_trends(responses, *, time: str = "response_time", nps: str = "nps", csat: str | None = "csat",
                  ces: str | None = "ces", weeks: int | None = 26, min_n: int = 30,
                  name: str | None = None) -> pd.DataFrame:
    """Long table of weekly NPS / CSAT / CES (``metric``, ``period``, ``n``, ``estimate``, ``ci_lower``,
    ``ci_upper``, ``suppressed``), the last ``weeks`` weeks."""
    parts = [metrics.nps(responses, score=nps, time=time, period="week", min_n=min_n, name=name)]
    if csat:
        parts.append(metrics.csat(responses, score=csat, time=time, period="week", min_n=min_n, name=name))
    if ces:
        parts.append(metrics.ces(responses, score=ces, time=time, period="week", min_n=min_n, name=name))
    cols = ["metric", "period", "n", "estimate", "ci_lower", "ci_upper", "suppressed"]
    out = pd.concat([p[cols] for p in parts], ignore_index=True)
    if weeks:
        last = out["period"].max()
        out = out[out["period"] > last - pd.Timedelta(weeks=weeks)]
    return out.reset_index(drop=True)
