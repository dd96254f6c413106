"""The weekly CX scorecard: a few indicators, each with its interval and an honest "beyond noise?" flag.

- Headline: NPS, CSAT and CES of the chosen week (default: the last complete week before the analysis date), the
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

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib import segments as cxseg
from cxlib import metrics, support, themes
from cxlib.notes import note

__all__ = ["last_complete_week", "reporting_week", "headline", "weekly_trends", "segment_table", "support_changes", "close_the_loop"]


def _week_of(day, week_start: str = "monday") -> pd.Timestamp:
    """First day (midnight) of the week starting on ``week_start`` that holds ``day``."""
    d = pd.Timestamp(day).normalize()
    first = (7 - metrics.WEEK_STARTS[metrics._check_week_start(week_start)]) % 7  # 0 = Monday ... 6 = Sunday
    return d - pd.Timedelta(days=(d.day_of_week - first) % 7)


def last_complete_week(as_of, *, week_start: str = "monday") -> pd.Timestamp:
    """First day of the last week (default Monday-Sunday; ``week_start='sunday'``: Sunday-Saturday) that
    has ended by ``as_of``; the week's last day counts as ended (``as_of`` is usually its end of day).

    Examples
    --------
    >>> last_complete_week("2026-11-22")                         # a Sunday
    Timestamp('2026-11-16 00:00:00')
    >>> last_complete_week("2026-11-22", week_start="sunday")
    Timestamp('2026-11-15 00:00:00')
    """
    d = pd.Timestamp(as_of).normalize()
    start = _week_of(d, week_start)
    return start if d == start + pd.Timedelta(days=6) else start - pd.Timedelta(weeks=1)


def _local(t, time, tz, name, as_of):
    """``t`` with ``time`` cleaned and on the clock of the reporting zone (``tz``, else the source spec's
    ``tz:``, else UTC), rows after the analysis date ``as_of`` left out; that zone (None for UTC) and the
    note counting the rows left out (None when there are none)."""
    zone = metrics._reporting_tz(t, tz)
    t, late = cxdata.upto_as_of(t, time, as_of, tz=zone, required=True, name=name)
    return t, zone, late


def reporting_week(week, t, as_of, *, tz=None, week_start="monday") -> pd.Timestamp:
    """The reported week: the week holding ``week``, or by default :func:`last_complete_week` of the
    analysis date ``as_of`` (read on the reporting clock). A week that ends after ``as_of`` is an error:
    it is not complete, and its answers would be cut short (or come from rows left out as too late).

    The default is the week before the analysis date even when the data end earlier: a week without
    answers is reported as such (a holiday, a survey that started later), never skipped in silence.
    """
    week_start = metrics._check_week_start(week_start)
    local = cxdata.local_as_of(as_of, metrics._reporting_tz(t, tz))
    last = last_complete_week(local, week_start=week_start)
    if week is None or (isinstance(week, str) and not week.strip()):
        return last
    try:
        w = _week_of(str(week), week_start)
    except (ValueError, TypeError):
        raise cxdata.CXDataError(f"week must be a date YYYY-MM-DD (any day of the week), got {week!r}.") from None
    if w > last:
        raise cxdata.CXDataError(
            f"the week of {w:%Y-%m-%d} ends on {w + pd.Timedelta(days=6):%Y-%m-%d}, after the analysis date "
            f"{local:%Y-%m-%d}: a week is reported once it is complete. Give an earlier week, or a later as_of "
            f"(the last complete week is that of {last:%Y-%m-%d}).")
    return w


def _add_notes(notes: list, more) -> list:
    """``notes`` with each of ``more`` appended once (several metrics read the same rows)."""
    for n in more or ():
        if n is not None and n not in notes:
            notes.append(n)
    return notes


def _last_answered(c: pd.DataFrame, w: pd.Timestamp, label: str, est_fn, alpha: float, min_n: int):
    """The ``no_answers_in_week`` note for metric ``label`` in week ``w``: the latest earlier week with
    answers in the weekly counts ``c`` (indexed by period) and its figures, or ``last_week=None``."""
    earlier = c[(c.index < w) & (c["n"] > 0)]
    if earlier.empty:
        return note("no_answers_in_week", metric=label, week=w, last_week=None)
    lw = earlier.index.max()
    e = est_fn(c.loc[[lw]].reset_index(), alpha=alpha, min_n=min_n).iloc[0]
    return note("no_answers_in_week", metric=label, week=w, last_week=lw, value=float(e["estimate"]),
                ci_lower=float(e["ci_lower"]), ci_upper=float(e["ci_upper"]), n=int(c.loc[lw, "n"]),
                min_n=int(min_n), alpha=float(alpha))


def headline(responses, *, week=None, time: str = "response_time", nps: str = "nps", csat: str | None = "csat",
             ces: str | None = "ces", prior_weeks: int = 4, alpha: float = 0.05, min_n: int = 30,
             tz: str | None = None, week_start: str = "monday", sequential: bool = False, n_opt=None,
             name: str | None = None, as_of=None) -> pd.DataFrame:
    """This week's NPS / CSAT / CES against last week and the prior ``prior_weeks`` weeks.

    Weeks are cut in the reporting time zone ``tz`` (default: the source spec's ``tz:``, else UTC) and
    start on ``week_start`` (default Monday); ``week`` is any day of the week wanted, by default the last
    complete week before the analysis date ``as_of`` (default :func:`cxlib.data.default_as_of`). A week
    that ends after ``as_of`` is a :class:`~cxlib.data.CXDataError`; answers after ``as_of`` are left out
    (one note counts them).

    A week without answers for a metric is a finding, not an error: its rows have ``n`` = 0 and no
    estimate, and ``attrs['notes']`` holds a ``no_answers_in_week`` note (``metric``, ``week``,
    ``last_week``: the latest earlier week with answers or None, and that week's ``value``, ``ci_lower``,
    ``ci_upper``, ``n``). ``attrs['scores']`` lists the scores measured (``csat`` / ``ces`` None: not).

    Returns one row per metric x comparison ('previous week', 'prior 4 weeks'): ``metric``, ``week``,
    ``n``, ``value``, ``ci_lower``, ``ci_upper``, ``comparison``, ``baseline``, ``baseline_n``,
    ``change``, ``change_ci_lower``, ``change_ci_upper``, ``p_value``, ``beyond_noise``.
    NPS in points; CSAT as a share (top-2-box); CES as a mean.

    ``sequential=True`` makes the "beyond noise?" flags safe to check as often as wanted (e.g. every day
    while the week's answers come in, or every week): each change's interval becomes an always-valid
    confidence sequence and ``p_value`` the always-valid p-value (:func:`cxlib.experiments.confidence_sequence`,
    the experiments' method, from the same estimate and standard error, with n = answers this week +
    baseline answers), and ``beyond_noise`` is p < alpha on it. ``n_opt`` (default: the current n, right
    for a single look) is the total where the sequence is tightest: fix it in advance, e.g. a usual
    week's answers plus its baseline's. ``attrs['sequential']`` says which kind the flags are.
    """
    as_of = cxdata.default_as_of(as_of, responses)
    w = reporting_week(week, cxdata.as_table(responses, name=name), as_of, tz=tz, week_start=week_start)
    rows, notes = [], []
    specs = [("nps", nps, metrics.nps_counts, metrics.nps_from_counts)]
    if csat:
        specs.append(("csat", csat, metrics.csat_counts, metrics.csat_from_counts))
    if ces:
        specs.append(("ces", ces, metrics.ces_counts, metrics.ces_from_counts))
    for label, col, counts_fn, est_fn in specs:
        c = counts_fn(responses, score=col, time=time, period="week", tz=tz, week_start=week_start,
                      name=name, as_of=as_of)
        _add_notes(notes, c.attrs.get("notes"))
        c = c.set_index("period")
        if w in c.index and c.loc[w, "n"] > 0:
            cur = c.loc[w]
            est = est_fn(c.loc[[w]].reset_index(), alpha=alpha, min_n=min_n).iloc[0]
        else:  # an empty week: n = 0, no estimate, and the last week that had answers in a note
            cur = pd.Series(0, index=c.columns.drop("metric", errors="ignore"), dtype="int64")
            est = {"estimate": np.nan, "ci_lower": np.nan, "ci_upper": np.nan}
            notes.append(_last_answered(c, w, label, est_fn, alpha, min_n))
        comparisons = {"previous week": c.loc[[w - pd.Timedelta(weeks=1)]] if (w - pd.Timedelta(weeks=1)) in c.index else c.iloc[:0],
                       f"prior {prior_weeks} weeks": c.loc[w - pd.Timedelta(weeks=prior_weeks): w - pd.Timedelta(weeks=1)]}
        for comp, base_rows in comparisons.items():
            row = {"metric": label, "week": w.date(), "n": int(cur["n"]), "value": est["estimate"],
                   "ci_lower": est["ci_lower"], "ci_upper": est["ci_upper"], "comparison": comp}
            base = base_rows.sum(numeric_only=True)
            if base_rows.empty or base.get("n", 0) < max(min_n, 1) or cur["n"] < max(min_n, 1):
                row.update(baseline=np.nan, baseline_n=int(base.get("n", 0)), change=np.nan, change_ci_lower=np.nan,
                           change_ci_upper=np.nan, p_value=np.nan, beyond_noise=False)
            else:
                ch = metrics.score_change(label, cur, base, alpha=alpha)
                if sequential:  # always-valid interval and p-value from the same estimate and standard error
                    from cxlib.experiments import confidence_sequence

                    se = (ch["ci_upper"] - ch["change"]) / stats.norm.ppf(1 - alpha / 2)
                    lo, hi, pav = confidence_sequence(ch["change"], se, float(cur["n"] + base["n"]), alpha=alpha,
                                                      n_opt=n_opt)
                    ch = {**ch, "ci_lower": float(lo), "ci_upper": float(hi), "p_value": float(pav),
                          "beyond_noise": bool(pav < alpha)}
                row.update(baseline=ch["baseline"], baseline_n=int(base["n"]), change=ch["change"],
                           change_ci_lower=ch["ci_lower"], change_ci_upper=ch["ci_upper"], p_value=ch["p_value"],
                           beyond_noise=ch["beyond_noise"])
            rows.append(row)
    out = pd.DataFrame(rows)
    # the scores measured (their columns given): a score not here is not in the survey, unlike an empty week
    out.attrs.update(week=w, prior_weeks=prior_weeks, alpha=alpha, sequential=bool(sequential), as_of=as_of,
                     notes=notes, scores=[s[0] for s in specs])
    return out


def segment_table(responses, *, week=None, by=("channel", "plan", "region", "touchpoint"),
                  time: str = "response_time", score: str = "nps", min_n: int = 30, tz: str | None = None,
                  week_start: str = "monday", name: str | None = None, as_of=None,
                  alpha: float = 0.05) -> pd.DataFrame:
    """This week's NPS per segment value (one block per ``by`` column), small segments suppressed.

    The week is cut in the reporting time zone ``tz`` and starts on ``week_start`` (as in :func:`headline`);
    answers after ``as_of`` are left out. A segment value that has answers up to ``as_of`` but none this
    week is a row with ``n`` = 0 (suppressed), not a missing row. A week without any answer gives no rows
    and in ``attrs['notes']`` the ``no_answers_in_week`` note :func:`headline` gives (the last week with
    answers and its NPS, at level ``alpha``), so a page listing both says it once.
    """
    t0 = cxdata.as_table(responses, name=name)
    as_of = cxdata.default_as_of(as_of, responses)
    w = reporting_week(week, t0, as_of, tz=tz, week_start=week_start)
    seg_notes: list = []  # segments named as the export shows them; trimmed, case variants merged (a note each)
    t, by = cxseg.prepare(t0, by, name=name, notes=seg_notes, need=[score])
    t, zone, late = _local(t, time, tz, name, as_of)
    t = cxdata.clean_numeric(t, score, lo=0, hi=10, integer=True, name=name)
    t = t.filter(t[score].notnull())
    # every value each segment column has up to the analysis date, in one query: an absent value is n = 0
    seen = cxdata.to_pandas(t.aggregate(**{f"_v{i}": t[b].cast("string").collect(distinct=True)
                                           for i, b in enumerate(by)}), name=name).iloc[0] if by else None
    t = t.filter((t[time] >= w.to_pydatetime()) & (t[time] < (w + pd.Timedelta(weeks=1)).to_pydatetime()))
    cols = ["segment", "value", "n", "nps", "ci_lower", "ci_upper", "suppressed"]
    notes = ([late] if late else []) + seg_notes
    n_week = int(cxdata.to_pandas(t.count(), name=name))
    if n_week == 0:
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in cols}).assign(week=pd.Series(dtype="object"))
        # the note headline() gives for the same week (last week with answers and its NPS): one fact, said once
        c = metrics.nps_counts(responses, score=score, time=time, period="week", tz=tz, week_start=week_start,
                               name=name, as_of=as_of).set_index("period")
        empty = _last_answered(c, w, "nps", metrics.nps_from_counts, alpha, min_n)
        out.attrs.update(week=w, as_of=as_of, notes=notes + [empty])
        return out
    parts = []
    for i, b in enumerate(by):
        # the rows are on the reporting clock, already cut at the analysis date read on that clock
        r = metrics.nps(t, score=score, by=b, min_n=min_n, alpha=alpha, as_of=cxdata.local_as_of(as_of, zone))
        r = r.rename(columns={b: "value"}).assign(segment=b)
        shown = set(r["value"].dropna().astype(str))
        absent = sorted(v for v in (seen[f"_v{i}"] or []) if v is not None and str(v) not in shown)
        if absent:  # no answers this week from a value seen before: a row that says so
            r = pd.concat([r, pd.DataFrame({"segment": b, "value": absent, "n": 0, "nps": np.nan, "ci_lower": np.nan,
                                            "ci_upper": np.nan, "suppressed": True})], ignore_index=True)
        parts.append(r)
    out = pd.concat(parts, ignore_index=True)
    out = out[cols].assign(week=w.date())
    out.attrs.update(week=w, as_of=as_of, notes=notes)
    return out


def support_changes(tickets, *, week=None, measure: str = "first_response", by: str = "channel",
                    prior_weeks: int = 4, alpha: float = 0.05, min_n: int = 20, created: str = "created_at",
                    tz: str | None = None, week_start: str = "monday", as_of=None, **columns) -> pd.DataFrame:
    """Did this week's response time per channel change against the prior weeks? (median test)

    Returns per channel: ``median_hours`` this week and ``prior_median_hours``, ``ratio``,
    ``slower_share`` (share of this week's tickets slower than the prior median), ``p_value``
    (Mann-Whitney U, two-sided), ``beyond_noise``. A ticket's week is that of its creation in the
    reporting time zone ``tz``, weeks starting on ``week_start`` (as in :func:`headline`).

    Tickets created after ``as_of`` are left out (one note); a reply or resolution after ``as_of`` had not
    happened yet, so that ticket counts as still waiting. A channel with tickets in the prior weeks but
    none this week has ``n`` = 0; with no ticket in the weeks compared the result has no rows (its
    columns kept) and a ``no_tickets_in_week`` note.
    """
    as_of = cxdata.default_as_of(as_of, tickets)
    t = cxdata.as_table(tickets)
    w = reporting_week(week, t, as_of, tz=tz, week_start=week_start)
    t, late = cxdata.upto_as_of(t, created, as_of, required=True)
    end_role = support.MEASURES[measure][1] if measure in support.MEASURES else None
    end_col = columns.get(end_role, f"{end_role}_at" if end_role == "first_response" else "resolved_at")
    if end_col in t.columns:  # a reply after the analysis date: still waiting at that date
        t = cxdata.clean_timestamp(t, end_col, required=False)
        t = t.mutate(**{end_col: ibis.ifelse(t[end_col] <= as_of.to_pydatetime(), t[end_col],
                                             ibis.null(t[end_col].type()))})
    counts = support.durations(t, measure=measure, by=by, period="week", created=created, tz=tz,
                               week_start=week_start, **columns)
    rows = []
    for ch, g in counts.groupby(by):
        cur = g[g["period"] == w]
        prior = g[(g["period"] >= w - pd.Timedelta(weeks=prior_weeks)) & (g["period"] < w)]
        n, n0 = int(cur["n"].sum()), int(prior["n"].sum())
        if n < max(min_n, 1) or n0 < max(min_n, 1):
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
    cols = [by, "n", "prior_n", "median_hours", "prior_median_hours", "ratio", "slower_share", "p_value",
            "beyond_noise"]
    out = pd.DataFrame(rows, columns=cols)
    out["beyond_noise"] = out["beyond_noise"].astype(bool)
    notes = [late] if late else []
    if out.empty or not (out["n"] > 0).any():
        notes.append(note("no_tickets_in_week", week=w, measure=measure))
    out.attrs.update(week=w, measure=measure, as_of=as_of, notes=notes)
    return out


def close_the_loop(responses, *, tickets=None, week=None, time: str = "response_time", score: str = "nps",
                   comment: str = "comment", respondent: str = "respondent_id", customer: str = "customer_id",
                   segments=("touchpoint", "channel"), taxonomy=None, detractor_max: int = 6,
                   personal=None, tz: str | None = None, week_start: str = "monday",
                   name: str | None = None, as_of=None) -> pd.DataFrame:
    """Detractors who commented in the week, to call back: ids, score, themes, latest ticket status.

    The week is cut in the reporting time zone ``tz`` (``time`` is returned in it) and starts on
    ``week_start`` (as in :func:`headline`); answers after ``as_of`` are left out, and so are tickets
    created after it (a ticket resolved after it is still open). A week without answers gives no rows.

    Personal-data columns (``personal``, default :data:`cxlib.data.PERSONAL_DATA_DEFAULT`) are dropped
    first, so they cannot reach a report. The comment text is returned as data (escape it to render it).
    """
    as_of = cxdata.default_as_of(as_of, responses)
    t = cxdata.as_table(responses, name=name)
    w = reporting_week(week, t, as_of, tz=tz, week_start=week_start)
    t = cxdata.drop_personal(t, personal)
    segments = [s for s in cxdata.as_list(segments) if s in t.columns]
    cxdata.require_columns(t, [respondent, time, score, comment], name=name)
    t, _, late = _local(t, time, tz, name, as_of)
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
        tk = tk.filter(tk[customer].isin(list(out[customer].dropna().unique()))
                       & (tk["created_at"] <= as_of.to_pydatetime()))
        latest = cxdata.to_pandas(tk.select(customer, "created_at", *(c for c in ("resolved_at",) if c in tk.columns)))
        latest = latest.sort_values("created_at").groupby(customer).tail(1).set_index(customer)
        done = pd.to_datetime(latest.get("resolved_at", pd.Series(index=latest.index)), errors="coerce", format="mixed")
        if getattr(done.dt, "tz", None) is not None:
            done = done.dt.tz_convert("UTC").dt.tz_localize(None)
        status = np.where(done.isna() | (done > as_of), "open", "resolved")  # resolved later: open then
        out["latest_ticket"] = out[customer].map(pd.Series(status, index=latest.index)).fillna("none")
    # ids that are e-mail addresses or phone numbers (a Shopify or Stripe export) are shown hashed;
    # contact details typed into a comment are masked
    from cxlib.sources.personal import looks_like_contact, mask_contacts, pseudonymize, session_salt

    for col in (respondent, customer):
        if col in out.columns and looks_like_contact(out[col].dropna().astype(str).head(200)):
            out[col] = pseudonymize(out[col].astype("string"), session_salt())
    out[comment] = out[comment].map(mask_contacts)
    out = out.sort_values([score, time]).reset_index(drop=True)
    out.attrs.update(week=w, as_of=as_of, notes=[late] if late else [])
    return out


def weekly_trends(responses, *, time: str = "response_time", nps: str = "nps", csat: str | None = "csat",
                  ces: str | None = "ces", weeks: int | None = 26, min_n: int = 30, tz: str | None = None,
                  week_start: str = "monday", name: str | None = None, as_of=None) -> pd.DataFrame:
    """Long table of weekly NPS / CSAT / CES (``metric``, ``period``, ``n``, ``estimate``, ``ci_lower``,
    ``ci_upper``, ``suppressed``), the last ``weeks`` weeks up to the last complete week before ``as_of``
    (the scorecard's default week), cut in the reporting time zone ``tz`` with weeks starting on
    ``week_start``. Answers after ``as_of`` are left out, and so is the week still under way at ``as_of``
    (not observed yet); a week without answers has no row. ``attrs['notes']``: the metrics' data notes."""
    as_of = cxdata.default_as_of(as_of, responses)
    kw = dict(time=time, period="week", min_n=min_n, tz=tz, week_start=week_start, name=name, as_of=as_of)
    parts = [metrics.nps(responses, score=nps, **kw)]
    if csat:
        parts.append(metrics.csat(responses, score=csat, **kw))
    if ces:
        parts.append(metrics.ces(responses, score=ces, **kw))
    notes = []
    for p in parts:
        _add_notes(notes, p.attrs.get("notes"))
    cols = ["metric", "period", "n", "estimate", "ci_lower", "ci_upper", "suppressed"]
    out = pd.concat([p[cols] for p in parts], ignore_index=True)
    last = reporting_week(None, cxdata.as_table(responses, name=name), as_of, tz=tz, week_start=week_start)
    out = out[out["period"] <= last]
    if weeks:
        out = out[out["period"] > last - pd.Timedelta(weeks=weeks)]
    out = out.reset_index(drop=True)
    out.attrs.update(week=last, as_of=as_of, notes=notes)
    return out


# ------------------------------------------------------------------------------------------ what changed

#: Score categories and the value each contributes to the metric (NPS in points, CSAT as a share).
_WHAT_CHANGED_METRICS = ("nps", "csat")


def _shift_share(n0: np.ndarray, n1: np.ndarray, values: np.ndarray):
    """Symmetric shift-share split of the change in a mean score between two periods.

    ``n0``, ``n1``: answer counts per segment x category, shape ``(..., S, C)`` (leading axes are
    bootstrap draws); ``values``: the metric's value of each category, shape ``(C,)``.
    Returns ``(total, mix, within, mix_s, within_s)`` where the per-segment parts have shape
    ``(..., S)`` and ``mix_s.sum(-1) + within_s.sum(-1) == total`` exactly (up to rounding).

    A segment with no answers in one period has weight 0 there; its value in that period is taken as
    its value in the other period, so its whole contribution is mix (it appeared or disappeared).
    """
    n0 = np.asarray(n0, float)
    n1 = np.asarray(n1, float)
    s0, s1 = n0.sum(-1), n1.sum(-1)                       # (..., S)
    w0 = s0 / s0.sum(-1, keepdims=True)
    w1 = s1 / s1.sum(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        m0 = (n0 @ values) / s0
        m1 = (n1 @ values) / s1
    m0 = np.where(s0 > 0, m0, np.where(s1 > 0, m1, 0.0))
    m1 = np.where(s1 > 0, m1, m0)
    mix_s = (w1 - w0) * (m0 + m1) / 2
    within_s = (w0 + w1) / 2 * (m1 - m0)
    total = (w1 * m1).sum(-1) - (w0 * m0).sum(-1)
    return total, mix_s.sum(-1), within_s.sum(-1), mix_s, within_s


def what_changed(responses, *, week=None, by, metric: str = "nps", time: str = "response_time",
                 score: str | None = None, scale: tuple[int, int] = (1, 5), prior_weeks: int = 4,
                 alpha: float = 0.05, bootstrap: int = 500, seed: int = 20261124, tz: str | None = None,
                 week_start: str = "monday", name: str | None = None, as_of=None) -> pd.DataFrame:
    """What moved this week's NPS (or CSAT share): a shift in segment mix, or change within segments?

    The change from the prior ``prior_weeks`` weeks (answers pooled) to the week of ``week`` (default:
    the last complete week) is split exactly, by the symmetric shift-share decomposition::

        total = sum_s (w1_s - w0_s) * mean(m0_s, m1_s)  +  sum_s mean(w0_s, w1_s) * (m1_s - m0_s)
                \\____________ mix ____________________/    \\____________ within _______________/

        w_s: segment s's share of the period's answers;  m_s: the metric within segment s.

    The two parts add up to the total exactly (no interaction remainder). A segment absent from one
    period contributes only to mix.

    Parameters
    ----------
    responses : DataFrame, path or Ibis table
    by : str or list of str
        Segment column(s) (several columns: their combinations). Blank values form '(missing)'.
    metric : {'nps', 'csat'}
        NPS in points (promoters 9-10 count +100, detractors 0-6 count -100) or the CSAT top-2-box
        share (0-1) on ``scale``.
    score : str, optional
        Score column (default: the metric's name).
    bootstrap : int
        Resamples for the intervals (0: no intervals). Each period's answers are resampled with
        replacement, as counts: one multinomial draw over the segment x category cells with the
        period's number of answers (a respondent bootstrap within each period, no row loops).
    seed : int
        Seed of the bootstrap.
    tz, week_start
        Weeks are cut in the reporting time zone ``tz`` and start on ``week_start`` (as in :func:`headline`).
    as_of : date-like, optional
        The analysis date (default :func:`cxlib.data.default_as_of`): the default week is the last
        complete one before it; answers after it are left out (one note).

    Returns
    -------
    pandas.DataFrame
        With no answers this week (or none in the prior weeks): no rows, the columns below, and a
        ``no_answers_in_week`` (or ``no_answers_before_week``) note in ``attrs['notes']``. Otherwise
        rows ``part`` = 'total', 'mix', 'within' (``segment`` empty), then one row per segment
        (``part`` = 'segment'), largest absolute contribution first. Columns: ``part``, ``segment``,
        ``estimate`` (a segment's row: its mix + within contribution), ``ci_lower``, ``ci_upper``
        (percentile bootstrap), ``beyond_noise`` (interval excludes 0), ``mix_contribution``,
        ``mix_ci_lower``, ``mix_ci_upper``, ``within_contribution``, ``within_ci_lower``,
        ``within_ci_upper`` (segment rows), ``n_before``, ``n_now``, ``share_before``, ``share_now``,
        ``value_before``, ``value_now``. ``attrs``: ``week``, ``metric``, ``by``, ``prior_weeks``,
        ``alpha``, ``bootstrap``, ``seed``, ``value_before``, ``value_now``.
    """
    import ibis

    if metric not in _WHAT_CHANGED_METRICS:
        raise cxdata.CXDataError(f"metric must be one of {', '.join(_WHAT_CHANGED_METRICS)}, not {metric!r}.")
    by_cols = cxdata.as_list(by)
    if not by_cols:
        raise cxdata.CXDataError("what_changed needs a segment column: by='channel' (for example).")
    score = score or metric
    as_of = cxdata.default_as_of(as_of, responses)
    t = cxdata.as_table(responses, name=name)
    w = reporting_week(week, t, as_of, tz=tz, week_start=week_start)
    seg_notes: list = []
    t, by_cols = cxseg.prepare(t, by_cols, name=name, notes=seg_notes, need=[time, score])
    t, _, late = _local(t, time, tz, name, as_of)
    notes = ([late] if late else []) + seg_notes
    if metric == "nps":
        t = cxdata.clean_numeric(t, score, lo=0, hi=10, integer=True, name=name)
        s = t[score]
        cat = ibis.cases((s >= 9, 0), (s <= 6, 2), else_=1)
        labels, values = ["promoter", "passive", "detractor"], np.array([100.0, 0.0, -100.0])
    else:
        lo, hi = scale
        t = cxdata.clean_numeric(t, score, lo=lo, hi=hi, integer=True, name=name)
        s = t[score]
        cat = ibis.cases((s >= hi - 1, 0), else_=1)
        labels, values = ["satisfied", "not satisfied"], np.array([1.0, 0.0])
    start = (w - pd.Timedelta(weeks=prior_weeks)).to_pydatetime()
    end = (w + pd.Timedelta(weeks=1)).to_pydatetime()
    t = t.filter(s.notnull() & (t[time] >= start) & (t[time] < end))
    seg = [t[b].cast("string").fill_null("(missing)") for b in by_cols]
    seg_e = seg[0] if len(seg) == 1 else ibis.literal(" / ").join(seg)
    t = t.mutate(_now=(t[time] >= w.to_pydatetime()).cast("int64"), _segment=seg_e, _cat=cat)
    counts = cxdata.to_pandas(t.group_by(["_now", "_segment", "_cat"]).aggregate(n=t.count()), name=name)
    cols = ["part", "segment", "estimate", "ci_lower", "ci_upper", "beyond_noise", "mix_contribution",
            "mix_ci_lower", "mix_ci_upper", "within_contribution", "within_ci_lower", "within_ci_upper",
            "n_before", "n_now", "share_before", "share_now", "value_before", "value_now"]
    if counts.empty or set(counts["_now"]) != {0, 1}:  # nothing to split: a finding, not a failure
        empty_now = counts.empty or 1 not in set(counts["_now"])
        notes.append(note("no_answers_in_week", metric=metric, week=w) if empty_now else
                     note("no_answers_before_week", metric=metric, week=w, prior_weeks=int(prior_weeks)))
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
        out.attrs.update(week=w, metric=metric, by=by_cols, prior_weeks=prior_weeks, alpha=alpha,
                         bootstrap=bootstrap, seed=seed, value_before=np.nan, value_now=np.nan, categories=labels,
                         as_of=as_of, notes=notes)
        return out
    segments = sorted(counts["_segment"].unique())
    cube = (counts.pivot_table(index=["_now", "_segment"], columns="_cat", values="n", aggfunc="sum", fill_value=0)
            .reindex(pd.MultiIndex.from_product([[0, 1], segments]), fill_value=0)
            .reindex(columns=range(len(values)), fill_value=0))
    n0 = cube.loc[0].to_numpy(float)
    n1 = cube.loc[1].to_numpy(float)
    total, mix, within, mix_s, within_s = _shift_share(n0, n1, values)

    def interval(draws):
        return np.quantile(draws, alpha / 2, axis=0), np.quantile(draws, 1 - alpha / 2, axis=0)

    if bootstrap:
        rng = np.random.default_rng(seed)
        shape = n0.shape
        b0 = rng.multinomial(int(n0.sum()), n0.ravel() / n0.sum(), size=bootstrap).reshape(bootstrap, *shape)
        b1 = rng.multinomial(int(n1.sum()), n1.ravel() / n1.sum(), size=bootstrap).reshape(bootstrap, *shape)
        bt, bm, bw, bms, bws = _shift_share(b0, b1, values)
        ci = {k: interval(v) for k, v in {"total": bt, "mix": bm, "within": bw, "mix_s": bms, "within_s": bws,
                                          "seg": bms + bws}.items()}
    else:
        nan = np.full(len(segments), np.nan)
        ci = {"total": (np.nan, np.nan), "mix": (np.nan, np.nan), "within": (np.nan, np.nan),
              "mix_s": (nan, nan), "within_s": (nan, nan), "seg": (nan, nan)}

    def noise(lo, hi):
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        return np.isfinite(lo) & np.isfinite(hi) & ((lo > 0) | (hi < 0))

    s0, s1 = n0.sum(1), n1.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        v0, v1 = (n0 @ values) / s0, (n1 @ values) / s1
    value_before, value_now = float(n0.sum(0) @ values / n0.sum()), float(n1.sum(0) @ values / n1.sum())
    top = pd.DataFrame({"part": ["total", "mix", "within"], "segment": [None] * 3,
                        "estimate": [float(total), float(mix), float(within)],
                        "ci_lower": [float(ci[k][0]) for k in ("total", "mix", "within")],
                        "ci_upper": [float(ci[k][1]) for k in ("total", "mix", "within")],
                        "n_before": [int(n0.sum())] * 3, "n_now": [int(n1.sum())] * 3,
                        "value_before": [value_before] * 3, "value_now": [value_now] * 3})
    seg_rows = pd.DataFrame({"part": "segment", "segment": segments, "estimate": mix_s + within_s,
                             "ci_lower": ci["seg"][0], "ci_upper": ci["seg"][1],
                             "mix_contribution": mix_s, "mix_ci_lower": ci["mix_s"][0], "mix_ci_upper": ci["mix_s"][1],
                             "within_contribution": within_s, "within_ci_lower": ci["within_s"][0],
                             "within_ci_upper": ci["within_s"][1],
                             "n_before": s0.astype(int), "n_now": s1.astype(int),
                             "share_before": s0 / s0.sum(), "share_now": s1 / s1.sum(),
                             "value_before": np.where(s0 > 0, v0, np.nan), "value_now": np.where(s1 > 0, v1, np.nan)})
    seg_rows = seg_rows.reindex(seg_rows["estimate"].abs().sort_values(ascending=False, kind="mergesort").index)
    out = pd.concat([top, seg_rows], ignore_index=True)
    out["beyond_noise"] = noise(out["ci_lower"], out["ci_upper"])
    out = out[cols]
    out.attrs.update(week=w, metric=metric, by=by_cols, prior_weeks=prior_weeks, alpha=alpha, bootstrap=bootstrap,
                     seed=seed, value_before=value_before, value_now=value_now, categories=labels, as_of=as_of,
                     notes=notes)
    return out


__all__ += ["what_changed"]
