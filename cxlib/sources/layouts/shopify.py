"""Shopify orders export (Orders -> Export, CSV for Excel / plain CSV).

One order spans several rows, one per line item: only the first carries the order fields (``Email``,
``Financial Status``, ``Total``, ``Created at`` ...); the others repeat ``Name`` (``#1001``) with the
line-item fields (``Lineitem quantity``, ``Lineitem name``, ``Lineitem price``). Rows collapse to one
``purchase`` event per order: ``customer_id`` = the customer email (hashed on read) or ``Customer
ID`` when present (orders without either get ``guest:#1001``), ``event_time`` = ``Created at``
(``2025-03-04 10:15:00 -0500``), ``revenue`` = ``Total`` (``$1,234.50`` read as money), plus
``order_name`` (``#1001``), ``items`` (line-item quantity), ``refunded`` and ``cancelled`` (0/1). Addresses, names, phones and
notes are personal data.

Example
-------
>>> # events = sources.read({"path": "orders_export.csv", "layout": "shopify"})
"""
from __future__ import annotations

import pandas as pd

from cxlib.sources.layouts.base import Frame
from cxlib.sources.parse import Where, missing, to_money, to_number

NAME = "shopify"
KIND = "events"
SIGNATURE = ["Name", "Financial Status", "Lineitem name"]
COLUMNS = {
    "customer_id": ["Customer ID", "Email"],
    "event_time": ["Created at"],
    "revenue": ["Total"],
}
TIMESTAMPS = ["Paid at", "Fulfilled at", "Cancelled at"]
MONEY = ["Subtotal", "Shipping", "Taxes", "Total", "Discount Amount", "Refunded Amount", "Lineitem price",
         "Lineitem compare at price", "Lineitem discount", "Outstanding Balance"]
PERSONAL = ["Email", "Phone", "Notes", "Note Attributes", "Billing Name", "Billing Street",
            "Billing Address1", "Billing Address2", "Billing Zip", "Billing Phone", "Shipping Name",
            "Shipping Street", "Shipping Address1", "Shipping Address2", "Shipping Zip", "Shipping Phone",
            "Payment Reference", "Receipt Number"]


def prepare(frame: Frame) -> None:
    """Collapse line-item rows: order fields from the order's first row, quantities summed."""
    df = frame.df
    name = frame.col("Name")
    qty = frame.col("Lineitem quantity")
    items = (to_number(df[qty], where=Where(frame.label, qty, df["__line"])).fillna(0)
             .groupby(df[name], sort=False).sum() if qty else None)
    first = df.groupby(name, sort=False).head(1).copy()
    # order-level fields blank on the first row but present on another row: take the first non-blank
    if len(first) < len(df):
        filled = df.mask(df.apply(missing)).groupby(df[name], sort=False).first()
        first = first.set_index(name, drop=False)
        for c in first.columns:
            if c not in ("__line", name) and not c.lower().startswith("lineitem"):
                first[c] = first[c].where(~missing(first[c]), filled[c].reindex(first.index))
        first = first.reset_index(drop=True)
    if items is not None:
        first["items"] = items.reindex(first[name]).to_numpy()
    email = frame.col("Email")
    cust = frame.col("Customer ID")
    if cust is None and email is not None:
        guest = missing(first[email])
        if guest.any():
            first[email] = first[email].where(~guest, "guest:" + first[name].astype(str))
            frame.notes.append(f"{int(guest.sum())} orders without a customer email counted as guests.")
    if len(first) < len(df):
        frame.notes.append(f"{len(df)} line-item rows collapsed to {len(first)} orders.")
    # line-item fields describe one item of the order only; 'Name' is the order number, not a person's
    first = first.drop(columns=[c for c in first.columns if c.lower().startswith("lineitem")])
    frame.df = first.rename(columns={name: "order_name"})


def finish(frame: Frame) -> None:
    df = frame.df
    df["event_name"] = "purchase"
    cancelled = frame.col("Cancelled at")
    if cancelled:
        df["cancelled"] = df[cancelled].notna().astype("Int64")
    refunded = frame.col("Refunded Amount")
    if refunded:
        df["refunded"] = df[refunded]
    frame.df = df
    _ = (pd, to_money)
