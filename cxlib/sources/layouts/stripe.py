"""Stripe subscriptions export (Dashboard -> Billing -> Subscriptions -> Export, CSV).

Columns like ``id``, ``Customer ID``, ``Customer Description``, ``Customer Email``, ``Plan``,
``Product``, ``Quantity``, ``Currency``, ``Interval``, ``Amount``, ``Status``, ``Created (UTC)``,
``Start Date (UTC)``, ``Current Period Start (UTC)``, ``Current Period End (UTC)``, ``Trial End
(UTC)``, ``Canceled At (UTC)``, ``Cancel At Period End``, ``Ended At (UTC)``. One row per customer
(the contract's unit): start = first start, end = last end (blank while any subscription is live),
``mrr`` = amount x quantity per month (yearly / 12, weekly x 52 / 12) of the live subscriptions (or
the last one). ``Amount`` with a decimal point or currency symbol is in currency units; whole numbers
only (API-style ``unit_amount``) are cents. Incomplete subscriptions that never started are dropped.

Example
-------
>>> # subscriptions = sources.read({"path": "subscriptions.csv", "layout": "stripe"})
"""
from __future__ import annotations

import pandas as pd

from cxlib.sources.layouts.base import Frame, norm
from cxlib.sources.parse import Where, missing, to_money, to_number

NAME = "stripe"
KIND = "subscriptions"
COLUMNS = {
    "customer_id": ["Customer ID", "customer", "Customer"],
    "start_time": ["Start Date (UTC)", "Start (UTC)", "Created (UTC)", "start_date", "created"],
    "plan": ["Plan", "Plan Name", "Product", "Price"],
}
TIMESTAMPS = ["Created (UTC)", "Current Period Start (UTC)", "Current Period End (UTC)", "Trial Start (UTC)",
              "Trial End (UTC)", "Canceled At (UTC)", "Ended At (UTC)", "canceled_at", "ended_at"]
TZ = "UTC"
PERSONAL = ["Customer Email", "Customer Name", "Customer Description", "customer_email", "customer_name"]
_PER_MONTH = {"day": 365.25 / 12, "week": 52 / 12, "month": 1.0, "year": 1 / 12}


def detect(header):
    first = {norm(c) for c in header[0]} if header else set()
    return "customerid" in first and bool(first & {"canceledatutc", "endedatutc"}) and bool(
        first & {"interval", "plan", "amount", "status"})


def prepare(frame: Frame) -> None:
    df = frame.df
    amount = frame.col("Amount", "Plan Amount", "unit_amount", "Price Amount")
    if amount:
        text = df[amount].astype("string").str.strip()
        cents = (norm(amount).endswith("cents") or amount == "unit_amount" or
                 bool(text[~missing(text)].str.fullmatch(r"\d+").all()))
        value = to_money(text, where=Where(frame.label, amount, df["__line"]))
        if cents:
            value = value / 100
            frame.notes.append(f"'{amount}' read as cents (whole numbers only).")
        qcol = frame.col("Quantity")
        qty = to_number(df[qcol], where=Where(frame.label, qcol, df["__line"])).fillna(1) if qcol else 1
        icol = frame.col("Interval", "Plan Interval")
        per = (df[icol].astype("string").str.lower().str.strip().map(_PER_MONTH).astype("float64").fillna(1.0)
               if icol else 1.0)
        ccol = frame.col("Interval Count", "Plan Interval Count")
        count = to_number(df[ccol]).fillna(1) if ccol else 1
        df["mrr"] = (value * qty * per / count).round(2)
    status = frame.col("Status")
    if status:
        never = df[status].astype("string").str.lower().isin(["incomplete", "incomplete_expired"]).fillna(False)
        if never.any():
            frame.notes.append(f"{int(never.sum())} incomplete subscriptions (never started) dropped.")
            df = df[~never.astype(bool)]
    frame.df = df


def finish(frame: Frame) -> None:
    df = frame.df
    ended, canceled = frame.col("Ended At (UTC)", "ended_at"), frame.col("Canceled At (UTC)", "canceled_at")
    status = frame.col("Status")
    end = df[ended] if ended else pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    if canceled is not None and status is not None:
        done = df[status].astype("string").str.lower().eq("canceled").fillna(False).astype(bool)
        end = end.where(end.notna() | ~done, df[canceled])
    df["end_time"] = end.astype("datetime64[us]")
    if df["customer_id"].duplicated().any():
        n_before = len(df)
        df = df.sort_values(["customer_id", "start_time"], kind="stable")
        live = df["end_time"].isna()
        g = df.groupby("customer_id", sort=False)
        out = g.tail(1).set_index("customer_id")
        out["start_time"] = g["start_time"].min()
        out["end_time"] = g["end_time"].max().where(~live.groupby(df["customer_id"]).any())
        if "mrr" in df.columns:
            live_mrr = df["mrr"].where(live).groupby(df["customer_id"]).sum(min_count=1)
            out["mrr"] = live_mrr.fillna(out["mrr"])
        out["subscriptions"] = g.size()
        df = out.reset_index()
        frame.notes.append(f"{n_before} subscriptions collapsed to {len(df)} customers.")
    frame.df = df
