"""Who to save first: paying customers with warning signs, ranked by the revenue at stake.

A close-the-loop list for the customer team. A customer is listed when they are subscribed on the
analysis date and show at least one warning sign:

- **cancellation pending**: their subscription ends after the analysis date (they have already cancelled);
- **detractor**: their latest survey answer in the last ``survey_days`` days scored 0-6;
- **support**: ``min_tickets`` or more support tickets in the last ``ticket_days`` days, or a ticket
  still open after ``open_days`` days;
- **inactive**: no event for ``inactive_days`` days (or none at all since they started that long ago);
- **contraction**: their MRR fell over the last ``contraction_months`` months (with an MRR history);
- **lapsing** (with ``clv=``, a :func:`cxlib.clv.clv_table` result): the BG/NBD probability that they are
  still an active buyer is below ``lapsing_below``.

Each sign is measured to the end of its own table (the earlier of the analysis date and the table's last
record): a log that stops in 1998 makes nobody "inactive for 10,000 days" in a 2026 report.

Value at risk is ``months`` (default 12) of their current MRR: what a year of their subscription brings,
lost if they leave. For a transactional business (no subscriptions), give ``clv=`` alone: every customer
of the CLV table is considered and the value at risk is their expected CLV (BG/NBD x Gamma-Gamma revenue
over the table's horizon). The list is ordered by value at risk, then by the number of signs. Customer ids are
replaced by pseudonyms (:func:`cxlib.sources.personal.pseudonymize`, salted with the session salt or
``$CX_PSEUDONYM_SALT``; set it to map pseudonyms back to your own ids). Every per-customer step runs in
the engine; only the listed customers come back.

The signs are associations with leaving that the cohort page measures (hazard ratios), not proof a
customer will leave; the list says whom to talk to first, not how likely each is to go.

Examples
--------
>>> from cxlib import at_risk
>>> at_risk.who_to_save("data/sample/subscriptions.csv", responses="data/sample/responses.csv",
...                     tickets="data/sample/tickets.csv", events="data/sample/events.csv",
...                     mrr_history="data/sample/mrr_history.csv", top=10)  # doctest: +SKIP
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from cxlib import data as cxdata
from cxlib import segments
from cxlib.notes import note

__all__ = ["who_to_save", "SIGNALS", "REASONS"]

#: Signal columns of :func:`who_to_save`, in the order reasons are given.
SIGNALS = ("cancel_pending", "detractor", "support", "inactive", "contraction", "lapsing")


def _per_customer(t, customer):
    return t.rename({"_c": customer}) if customer != "_c" else t


def who_to_save(subscriptions, *, responses=None, tickets=None, events=None, mrr_history=None, clv=None,
                customer: str = "customer_id", start: str = "start_time", end: str = "end_time",
                mrr: str | None = "mrr", event_time: str = "event_time", keep=None, as_of=None,
                months: float = 12, survey_days: int = 90, ticket_days: int = 30, min_tickets: int = 2,
                open_days: int = 7, inactive_days: int = 45, contraction_months: int = 3,
                lapsing_below: float = 0.5, top: int | None = None, salt: str | None = None,
                pseudonymize: bool = True, currency: str = "", name: str | None = None) -> pd.DataFrame:
    """Subscribed customers with warning signs, ranked by value at risk, with the reasons as codes.

    Parameters
    ----------
    subscriptions : DataFrame, path, Ibis table, source spec, or None
        One row per customer lifetime with ``start`` / ``end`` (blank while active) and ``mrr``. None for
        a transactional business: then ``clv`` is required and is the customer base.
    responses, tickets, events, mrr_history : optional
        Survey answers (``customer``, ``response_time``, ``nps``), support tickets (``customer``,
        ``created_at``, optional ``resolved_at``), events (``customer``, ``event_time``) and an MRR history
        (``customer``, ``month``, ``mrr``; see :func:`cxlib.revenue.net_revenue_retention`). Each one
        given adds its signal; the current MRR and LTV to date come from the MRR history when given.
    customer, start, end, mrr : str
        Columns of the subscriptions (``customer`` is also the id column of the other tables).
    event_time : str
        Timestamp column of ``events``.
    keep : str or list of str, optional
        Subscription columns to carry along (e.g. ``plan``); personal-data columns are refused.
    as_of : date-like, optional
        Analysis date (default :func:`cxlib.data.default_as_of`): who is subscribed, and whether a
        cancellation is pending. Every "time since" sign is measured to the end of the table it comes
        from, the earlier of ``as_of`` and that table's last record (:func:`cxlib.data.observed_end`):
        days inactive to the events' end (as :func:`cxlib.clv.rfm` ages ``T``), the survey and ticket
        windows and a ticket's open age to the answers' / tickets' end, the MRR months to the history's
        last month; ``.attrs['ends']`` holds them per table. Rows after ``as_of`` are left out
        (``rows_after_as_of`` notes) and a table ending more than a month before it is noted
        (``data_ends_early``); ``.attrs['data_end']``: the subscriptions' last record.
    months : float
        Value at risk = ``months`` x current MRR.
    survey_days, ticket_days, min_tickets, open_days, inactive_days, contraction_months
        Thresholds of the signals (module docstring).
    clv : DataFrame, optional
        A :func:`cxlib.clv.clv_table` result (``customer``, ``expected_clv``, ``p_alive``): adds those
        columns and the lapsing sign; without subscriptions it is the customer base and the value.
    lapsing_below : float
        Probability alive under which a buyer counts as lapsing.
    top : int, optional
        Return only the first ``top`` customers.
    salt : str, optional
        Salt of the pseudonyms (default the session salt).
    pseudonymize : bool
        Replace ids by pseudonyms (default). Turn off only for a list that stays inside the CRM.
    currency : str
        The currency of the money amounts, kept in ``.attrs['currency']`` for the words of the page.

    Returns
    -------
    pandas.DataFrame
        One row per listed customer, best first: ``rank``, ``customer`` (pseudonym), ``keep`` columns,
        ``mrr`` (current), ``value_at_risk``, ``ltv_to_date`` (sum of the MRR history to date; NaN
        without it), ``signals`` (how many), one 0/1 column per signal in :data:`SIGNALS`, the evidence
        (``ends_on``, ``last_nps``, ``last_nps_on``, ``tickets_recent``, ``open_ticket_days``,
        ``days_inactive``, ``mrr_before``, ``expected_clv``, ``p_alive``), ``reason`` (the signs' codes of
        :data:`REASONS`, ";"-separated, e.g. ``"detractor;support_tickets"``: the page says them in words,
        :func:`cxlib.present.at_risk_reason`). ``.attrs['counts']``: customers per signal among all
        subscribed; ``.attrs['subscribed']``: subscribed customers; ``.attrs['listed']``: customers
        with a sign (before ``top``).

    Examples
    --------
    >>> who_to_save("data/sample/subscriptions.csv", responses="data/sample/responses.csv",
    ...             top=10)  # doctest: +SKIP
    """
    from cxlib.sources import personal

    keep = cxdata.as_list(keep)
    as_of = cxdata.default_as_of(as_of, subscriptions, *(s for s in (responses, tickets, events, mrr_history)
                                                          if s is not None))
    cut = as_of.to_pydatetime()
    notes, data_end = [], None  # notes on the tables given (later rows, early ends); the subscriptions' last record
    if isinstance(clv, pd.DataFrame) and clv.attrs:  # fit summaries in .attrs are not table data
        clv = clv.copy(deep=False)
        clv.attrs = {}
    if subscriptions is None and clv is None:
        raise cxdata.CXDataError("who_to_save needs subscriptions (customers paying now) or clv= (a "
                                 "cxlib.clv.clv_table result, for a transactional business).")
    if subscriptions is not None:
        s = cxdata.as_table(subscriptions, name=name)
        cxdata.require_columns(s, [customer, start, end, *([mrr] if mrr else [])], name=name,
                               roles={customer: "customer", start: "start", end: "end"})
        s, keep = segments.prepare(s, keep, name=name, notes=notes)  # named as the export shows them; trimmed
        s = cxdata.clean_timestamp(s, start, name=name)
        s = cxdata.clean_timestamp(s, end, required=False, name=name)
        if mrr:
            s = cxdata.clean_numeric(s, mrr, lo=0, name=name)
        notes.append(cxdata.after_as_of(s, [start, end], as_of, name=name))
        data_end = cxdata.last_record(s, [start, end], as_of, name=name)
        notes.append(cxdata.ends_early(s, data_end, as_of, "month", name=name))
        s = s.filter((s[start] <= cut) & (s[end].isnull() | (s[end] > cut)) & s[customer].notnull())
        s = s.select(_c=s[customer].cast("string"), _start=s[start], _end=s[end],
                     _mrr=(s[mrr].fill_null(0.0) if mrr else ibis.literal(0.0)), **{k: s[k] for k in keep})
        # one row per customer: several live subscriptions add up (their MRR is at risk together); a
        # cancellation booked on any of them counts
        base = s.group_by("_c").aggregate(_start=s["_start"].min(), _end=s["_end"].max(), _mrr=s["_mrr"].sum(),
                                          **{k: s[k].min() for k in keep})
    else:  # transactional: every customer of the CLV table, valued by their expected CLV
        c = cxdata.as_table(clv, name=name)
        cxdata.require_columns(c, [customer, "expected_clv", "p_alive"], name=name)
        c, keep = segments.prepare(c, keep, name=name, notes=notes)
        base = c.select(_c=c[customer].cast("string"), _start=ibis.literal(cut), _end=ibis.null("timestamp"),
                        _mrr=ibis.literal(0.0), **{k: c[k] for k in keep})
    if clv is not None:
        c = cxdata.as_table(clv, name=name)
        cxdata.require_columns(c, [customer, "expected_clv", "p_alive"], name=name)
        c = c.select(_c=c[customer].cast("string"), expected_clv=c["expected_clv"].cast("float64"),
                     p_alive=c["p_alive"].cast("float64"))
        base = base.left_join(c, "_c").drop("_c_right")
    else:
        base = base.mutate(expected_clv=ibis.null("float64"), p_alive=ibis.null("float64"))
    base = base.mutate(cancel_pending=base["_end"].notnull().cast("int64"),
                       lapsing=(base["p_alive"].notnull() & (base["p_alive"] < lapsing_below)).cast("int64"))
    day = 86400.0
    ends = {}  # each table's own end (DESIGN "The analysis date"): its last record on or before as_of

    def table_end(kind, t, cols):
        """The observed end of table ``kind`` (the earlier of as_of and its last record), with its notes:
        rows after as_of, and a table that ends more than a month before as_of."""
        notes.append(cxdata.after_as_of(t, cols, as_of))
        last = cxdata.last_record(t, cols, as_of)
        notes.append(cxdata.ends_early(t, last, as_of, "month"))
        ends[kind] = cxdata.observed_end(as_of, last)
        return ends[kind]

    def ago(end, days):
        return (end - pd.Timedelta(days=days)).to_pydatetime()

    if responses is not None:
        r = cxdata.as_table(responses)
        cxdata.require_columns(r, [customer, "response_time", "nps"], roles={customer: "customer"})
        r = cxdata.clean_timestamp(cxdata.clean_numeric(r, "nps", lo=0, hi=10), "response_time")
        # "the last survey_days days" of the answers: up to their own end, not to an as_of long after it
        r_end = table_end("responses", r, ["response_time"])
        r = r.filter(r["nps"].notnull() & r[customer].notnull() & (r["response_time"] <= cut)
                     & (r["response_time"] > ago(r_end, survey_days)))
        r = r.group_by(_c=r[customer].cast("string")).aggregate(
            last_nps=r["nps"].argmax(r["response_time"]), last_nps_on=r["response_time"].max())
        base = base.left_join(r, "_c").drop("_c_right")
    else:
        base = base.mutate(last_nps=ibis.null("float64"), last_nps_on=ibis.null("timestamp"))
    base = base.mutate(detractor=(base["last_nps"].notnull() & (base["last_nps"] <= 6)).cast("int64"))

    if tickets is not None:
        k = cxdata.as_table(tickets)
        cxdata.require_columns(k, [customer, "created_at"], roles={customer: "customer"})
        k = cxdata.clean_timestamp(k, "created_at")
        has_resolved = "resolved_at" in k.columns
        if has_resolved:
            k = cxdata.clean_timestamp(k, "resolved_at", required=False)
        k_end = table_end("tickets", k, [c for c in cxdata.RECORD_TIMES["tickets"] if c in k.columns])
        k = k.filter(k[customer].notnull() & (k["created_at"] <= cut))
        recent = (k["created_at"] > ago(k_end, ticket_days)).cast("int64")
        if has_resolved:
            # open for how long: up to the tickets' own end (the last time the export saw them), since a
            # ticket open when the export ends may have been answered the next day
            still_open = k["resolved_at"].isnull() | (k["resolved_at"] > cut)
            age = (ibis.literal(k_end.to_pydatetime()).epoch_seconds() - k["created_at"].epoch_seconds()) / day
            open_age = still_open.ifelse(age, None)
        else:
            open_age = ibis.null("float64")
        k = k.mutate(_recent=recent, _open=open_age)
        k = k.group_by(_c=k[customer].cast("string")).aggregate(tickets_recent=k["_recent"].sum(),
                                                                 open_ticket_days=k["_open"].max())
        base = base.left_join(k, "_c").drop("_c_right")
        base = base.mutate(tickets_recent=base["tickets_recent"].fill_null(0))
    else:
        base = base.mutate(tickets_recent=ibis.literal(0, "int64"), open_ticket_days=ibis.null("float64"))
    base = base.mutate(support=((base["tickets_recent"] >= min_tickets)
                                | (base["open_ticket_days"].fill_null(0) >= open_days)).cast("int64"))

    if events is not None:
        e = cxdata.as_table(events)
        tcol = event_time
        cxdata.require_columns(e, [customer, tcol], roles={customer: "customer"})
        e = cxdata.clean_timestamp(e, tcol)
        # "inactive" is measured to the log's own end (any event, as cxlib.clv's T and recency): a log that
        # ends in 1998 says nothing about 2026, so no buyer is "inactive for 10,000 days"
        e_end = table_end("events", e, [tcol])
        e = e.filter(e[customer].notnull() & (e[tcol] <= cut))
        e = e.group_by(_c=e[customer].cast("string")).aggregate(_last=e[tcol].max())
        base = base.left_join(e, "_c").drop("_c_right")
        since = base["_last"].fill_null(base["_start"])
        idle = ((ibis.literal(e_end.to_pydatetime()).epoch_seconds() - since.epoch_seconds()) / day).floor()
        # a customer with no event who started after the log ends: not observed, not inactive
        base = base.mutate(days_inactive=(idle >= 0).ifelse(idle, ibis.null("float64")))
        base = base.mutate(inactive=(base["days_inactive"] >= inactive_days).cast("int64"))
    else:
        base = base.mutate(days_inactive=ibis.null("float64"), inactive=ibis.literal(0, "int64"))

    if mrr_history is not None:
        h = cxdata.as_table(mrr_history)
        cxdata.require_columns(h, [customer, "month", "mrr"], roles={customer: "customer"})
        h = cxdata.clean_timestamp(cxdata.clean_numeric(h, "mrr", lo=0), "month")
        h_end = table_end("mrr_history", h, ["month"])  # "now" and "n months ago" in the history's own months
        h = h.filter(h[customer].notnull() & (h["month"] <= cut))
        now_m = h_end.year * 12 + h_end.month - 1
        hm = h["month"].year() * 12 + h["month"].month() - 1
        h = h.mutate(_m=hm, _v=h["mrr"].fill_null(0.0))
        h = h.group_by(_c=h[customer].cast("string")).aggregate(
            _now=(h["_m"] == now_m).ifelse(h["_v"], 0.0).sum(),
            mrr_before=(h["_m"] == now_m - contraction_months).ifelse(h["_v"], 0.0).sum(),
            ltv_to_date=h["_v"].sum())
        base = base.left_join(h, "_c").drop("_c_right")
        cur = base["_now"].fill_null(0.0)
        base = base.mutate(mrr_now=(cur > 0).ifelse(cur, base["_mrr"]),
                           mrr_before=base["mrr_before"].fill_null(0.0))
        base = base.mutate(contraction=((base["mrr_before"] > 0) & (base["mrr_now"] < base["mrr_before"]))
                           .cast("int64"))
    else:
        base = base.mutate(mrr_now=base["_mrr"], mrr_before=ibis.null("float64"), ltv_to_date=ibis.null("float64"),
                           contraction=ibis.literal(0, "int64"))

    value = (base["expected_clv"].fill_null(0.0) if subscriptions is None else base["mrr_now"] * float(months))
    base = base.mutate(signals=sum(base[c] for c in SIGNALS), value_at_risk=value)
    counts = cxdata.to_pandas(base.aggregate(subscribed=base.count(), listed=(base["signals"] > 0).cast("int64").sum(),
                                             **{c: base[c].sum() for c in SIGNALS}), name=name).iloc[0]
    flagged = base.filter(base["signals"] > 0)
    flagged = flagged.order_by([ibis.desc("value_at_risk"), ibis.desc("signals"),
                                ibis.desc(flagged["days_inactive"].fill_null(0)), "_c"])
    if top is not None:
        flagged = flagged.limit(int(top))
    df = cxdata.to_pandas(flagged, name=name)
    ids = df["_c"].astype(str)
    if pseudonymize:
        ids = personal.pseudonymize(ids, salt if salt is not None else personal.session_salt())
    out = pd.DataFrame({"rank": np.arange(1, len(df) + 1), "customer": ids.to_numpy()})
    for k_ in keep:
        out[k_] = df[k_].to_numpy()
    out["mrr"] = df["mrr_now"].astype(float).to_numpy()
    out["value_at_risk"] = df["value_at_risk"].astype(float).to_numpy()
    out["ltv_to_date"] = pd.to_numeric(df["ltv_to_date"], errors="coerce").astype(float).to_numpy()
    out["signals"] = df["signals"].astype("int64").to_numpy()
    for c in SIGNALS:
        out[c] = df[c].astype("int64").to_numpy()
    out["ends_on"] = pd.to_datetime(df["_end"]).to_numpy()
    out["last_nps"] = pd.to_numeric(df["last_nps"], errors="coerce").astype(float).to_numpy()
    out["last_nps_on"] = pd.to_datetime(df["last_nps_on"]).to_numpy()
    out["tickets_recent"] = df["tickets_recent"].astype("int64").to_numpy()
    out["open_ticket_days"] = pd.to_numeric(df["open_ticket_days"], errors="coerce").astype(float).to_numpy()
    out["days_inactive"] = pd.to_numeric(df["days_inactive"], errors="coerce").astype(float).to_numpy()
    out["mrr_before"] = pd.to_numeric(df["mrr_before"], errors="coerce").astype(float).to_numpy()
    out["expected_clv"] = pd.to_numeric(df["expected_clv"], errors="coerce").astype(float).to_numpy()
    out["p_alive"] = pd.to_numeric(df["p_alive"], errors="coerce").astype(float).to_numpy()
    thresholds = dict(survey_days=survey_days, ticket_days=ticket_days, min_tickets=min_tickets,
                      open_days=open_days, inactive_days=inactive_days, contraction_months=contraction_months,
                      lapsing_below=lapsing_below)
    out["reason"] = [_reason(r, **thresholds) for _, r in out.iterrows()]
    out.attrs.update(as_of=as_of, months=months, subscribed=int(counts["subscribed"]),
                     listed=int(counts["listed"] or 0), counts={c: int(counts[c] or 0) for c in SIGNALS},
                     inputs=[k_ for k_, v in (("responses", responses), ("tickets", tickets), ("events", events),
                                             ("mrr_history", mrr_history), ("clv", clv)) if v is not None],
                     value="expected_clv" if subscriptions is None else "mrr",
                     thresholds=thresholds, currency=currency, data_end=data_end, ends=ends, notes=[n for n in notes if n])
    return out


#: Codes of the ``reason`` column, in the order they are given: a support sign is split into its two
#: triggers. The values behind each are in the row's own columns (``ends_on``, ``last_nps`` ...).
REASONS = ("cancel_pending", "detractor", "support_tickets", "support_open", "inactive", "contraction", "lapsing")


def _reason(r, *, min_tickets, open_days, **_thresholds) -> str:
    """The codes of one row's signs, ";"-separated (e.g. ``"detractor;inactive"``): no words."""
    codes = []
    if r["cancel_pending"]:
        codes.append("cancel_pending")
    if r["detractor"]:
        codes.append("detractor")
    if r["support"]:
        if r["tickets_recent"] >= min_tickets:
            codes.append("support_tickets")
        if pd.notna(r["open_ticket_days"]) and r["open_ticket_days"] >= open_days:
            codes.append("support_open")
    for c in ("inactive", "contraction", "lapsing"):
        if r[c]:
            codes.append(c)
    return ";".join(codes)


def buyers_to_save(events, *, customer: str = "customer_id", time: str = "event_time", value: str = "revenue",
                   event_name: str | None = "purchase", as_of=None, horizon_weeks: float = 52, min_buyers: int = 30,
                   **kwargs) -> tuple[pd.DataFrame | None, list[str]]:
    """:func:`who_to_save` for a transactional business, straight from an events table, for a page.

    Fits :func:`cxlib.clv.clv_table` (BG/NBD + Gamma-Gamma on weekly recency / age, expected revenue over
    ``horizon_weeks``) and lists buyers with warning signs (``kwargs`` go to :func:`who_to_save`: responses,
    tickets, top ...; ``events`` is also the activity signal). Returns ``(list, notes)``; the list is
    None, with a note code why (``clv_not_fitted``, ``clv_too_few_buyers``, ``clv_not_finite``), when the models cannot be fitted (fewer than ``min_buyers`` buyers,
    too few repeat buyers); a BG/NBD fit at the edge of its parameter space (no drop-out) is kept and noted.

    Examples
    --------
    >>> buyers, notes = buyers_to_save("data/sample/events.csv", top=10)  # doctest: +SKIP
    """
    from cxlib import clv

    try:
        table = clv.clv_table(events, customer=customer, time=time, value=value, event_name=event_name, as_of=as_of,
                              unit="week", horizon=horizon_weeks)
    except cxdata.CXDataError as exc:
        return None, [note("clv_not_fitted", error=str(exc))]
    bg, gg = table.attrs["bgnbd"], table.attrs["gamma_gamma"]
    if len(table) < min_buyers:
        return None, [note("clv_too_few_buyers", buyers=len(table), min_buyers=min_buyers)]
    if not np.isfinite(table["expected_clv"]).all():
        return None, [note("clv_not_finite")]
    notes = []
    if bg.get("at_boundary"):
        notes.append(note("clv_at_boundary"))
    out = who_to_save(None, clv=table, events=events, customer=customer, event_time=time, as_of=as_of, **kwargs)
    out.attrs.update(bgnbd=bg, gamma_gamma=gg, horizon_weeks=horizon_weeks, buyers=len(table))
    return out, notes


__all__ += ["buyers_to_save"]
