"""Personal-data rules: which columns are personal, which values look like contact details, hashing.

A column is personal data when a *word* of its name (case- and separator-insensitive; camelCase and
digits split words, so ``RecipientEmail`` is ``recipient email`` and ``Billing Address1`` is
``billing address 1``) is one of :data:`PERSONAL_WORDS`, or the name is ``name`` alone or a name
qualified as a person's (``Customer Name``, ``RecipientFirstName``; not ``Plan Name`` or
``Product name``), or a layout or the user (``personal:``) declares it.

Decision on flags such as ``Email Opt-in``: the rule is by name, so it counts as personal (it holds
the word *email*). A false positive only costs a segment; a false negative would leak an address.

Example
-------
>>> from cxlib.sources.personal import is_personal
>>> [is_personal(c) for c in ("E-mail", "Customer Name", "Plan Name", "LocationLatitude")]
[True, True, False, True]
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from typing import Iterable, Sequence

import pandas as pd

from cxlib.sources import layouts

__all__ = ["PERSONAL_WORDS", "NAME_QUALIFIERS", "words", "is_personal", "personal_columns",
           "looks_like_contact", "pseudonymize", "session_salt"]

#: A column whose name holds one of these words is personal data.
PERSONAL_WORDS = frozenset({
    "email", "e_mail", "mail", "phone", "mobile", "telephone", "ip", "ipaddress", "address", "street",
    "zip", "postal", "latitude", "longitude",
})
#: Names written as one word that mean the same (``emailaddress``, ``firstname`` ...).
_JOINED = frozenset({
    "emailaddress", "phonenumber", "ipaddress", "firstname", "lastname", "fullname", "surname",
    "zipcode", "postalcode", "postcode", "streetaddress", "telephonenumber", "mobilenumber",
    "username", "customername", "contactname", "recipientname", "respondentname",
})
#: ``<qualifier> name`` is a person's name; ``plan name``, ``product name`` are not.
NAME_QUALIFIERS = frozenset({
    "first", "last", "full", "customer", "recipient", "billing", "shipping", "requester", "contact",
    "respondent", "given", "family", "middle", "sur", "user", "person", "client", "submitter",
    "assignee", "agent", "display",
})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,20}$")
_DATE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(\s.*)?$")


def words(column: str) -> list[str]:
    """Lower-case words of a column name: ``'RecipientEmail'`` -> ``['recipient', 'email']``."""
    text = _CAMEL.sub(" ", str(column))
    return [w for w in re.split(r"[^0-9a-zA-Z]+", text.lower()) if w]


def is_personal(column: str) -> bool:
    """Whether a column name denotes personal data (see the module docstring).

    Example
    -------
    >>> is_personal("customer_email"), is_personal("Product name"), is_personal("Email Opt-in")
    (True, False, True)
    """
    ws = words(column)
    if not ws:
        return False
    joined = "".join(ws)
    if joined in _JOINED or joined in PERSONAL_WORDS:
        return True
    if any(w in PERSONAL_WORDS for w in ws):
        return True
    # 'e mail' / 'e_mail' split into two words
    if any(a == "e" and b == "mail" for a, b in zip(ws, ws[1:])):
        return True
    if joined.endswith(("email", "emailaddress", "ipaddress", "phonenumber")):
        return True
    if any(w in _JOINED for w in ws):
        return True
    if ws == ["name"]:
        return True
    for i, w in enumerate(ws):
        if w == "name" and i > 0 and ws[i - 1] in NAME_QUALIFIERS:
            return True
    return False


def personal_columns(columns: Iterable[str], extra: Iterable[str] = (), layout=None) -> list[str]:
    """The personal-data columns among ``columns``, in their order.

    Parameters
    ----------
    columns : iterable of str
    extra : iterable of str
        Columns declared personal by the user (a spec's ``personal:``), matched exactly or
        case-insensitively.
    layout : str or module, optional
        A known export layout (name or module) whose ``PERSONAL`` declaration is added.

    Example
    -------
    >>> personal_columns(["ResponseId", "IPAddress", "Q1"], extra=["Q1"])
    ['IPAddress', 'Q1']
    """
    declared = {str(c).lower() for c in extra}
    if layout is not None:
        mod = layouts.get(layout) if isinstance(layout, str) else layout
        declared |= {str(c).lower() for c in getattr(mod, "PERSONAL", ())}
    return [c for c in columns if str(c).lower() in declared or is_personal(str(c))]


def looks_like_contact(values: Iterable, *, share: float = 0.5) -> bool:
    """Whether most non-blank values look like email addresses or phone numbers.

    Example
    -------
    >>> looks_like_contact(["ann@example.com", "bob@example.com", None])
    True
    >>> looks_like_contact(["C0001", "C0002"])
    False
    """
    vals = [str(v).strip() for v in values if v is not None and not (isinstance(v, float) and pd.isna(v))]
    vals = [v for v in vals if v and v.lower() not in ("nan", "<na>", "none")]
    if not vals:
        return False

    def contact(v: str) -> bool:
        if _EMAIL.match(v):
            return True
        # a phone number has 7+ digits and some formatting (+, spaces, dashes, brackets); a bare run
        # of digits is taken as a numeric id
        return (bool(_PHONE.match(v)) and not _DATE.match(v) and sum(ch.isdigit() for ch in v) >= 7
                and (v.startswith("+") or not v.isdigit()) and not re.match(r"^\d+\.\d+$", v))

    return sum(contact(v) for v in vals) >= share * len(vals)


def pseudonymize(values, salt: str):
    """Replace each value by ``'id-'`` plus the first 10 hex digits of sha256(salt + value).

    Equal values get equal pseudonyms (so counts and joins still work); blanks stay blank. Works on a
    pandas Series (returns a Series) or any iterable (returns a list).

    Example
    -------
    >>> pseudonymize(["ann@example.com", None], salt="s")[0].startswith("id-")
    True
    """
    def one(v):
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
            return None
        return "id-" + hashlib.sha256((salt + str(v).strip()).encode("utf-8")).hexdigest()[:10]

    if isinstance(values, pd.Series):
        return values.map(one, na_action="ignore").astype("string")
    return [one(v) for v in values]


_SALT: list[str] = []


_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"(?<![\w])(?:\+|\(\+?)?\d[\d ()./-]{6,}\d(?![\w])")  # "(555) 123-4567" whole


def mask_contacts(text):
    """Free text with e-mail addresses and phone numbers replaced by '[email]' / '[phone]' (comments
    are shown on pages; a customer's own contact details in them are personal data).

    Example
    -------
    >>> mask_contacts("call me on +1 555 123 4567 or ann@example.com")
    'call me on [phone] or [email]'
    """
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return text
    def phone(m):  # at least 9 digits and not a date: "order 12345" and "2026-11-02" stay
        digits = sum(ch.isdigit() for ch in m.group(0))
        return "[phone]" if digits >= 9 and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", m.group(0)) else m.group(0)
    return _PHONE_IN_TEXT.sub(phone, _EMAIL_IN_TEXT.sub("[email]", str(text)))


def session_salt() -> str:
    """The salt used by :func:`cxlib.sources.read`: ``$CX_PSEUDONYM_SALT`` if set (stable pseudonyms
    across runs), else a random salt per Python process (stable within a run, so tables still join)."""
    if not _SALT:
        _SALT.append(os.environ.get("CX_PSEUDONYM_SALT") or secrets.token_hex(16))
    return _SALT[0]


def contract_ids(kind: str | None) -> Sequence[str]:
    """Id columns of a table kind that are hashed when their values look like contact details."""
    return {
        "events": ("customer_id",), "subscriptions": ("customer_id",),
        "responses": ("respondent_id", "customer_id"), "tickets": ("ticket_id", "customer_id"),
        "experiment": ("unit_id",), "mrr_history": ("customer_id",),
    }.get(kind or "", ("customer_id", "respondent_id", "ticket_id", "unit_id"))
