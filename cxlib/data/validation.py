"""Validation of each table kind against its contract (:data:`cxlib.schema.ROLES`): :func:`validate`
returns the cleaned table and what was noticed (:class:`Validation`), or raises one
:class:`~cxlib.errors.CXDataError` listing every problem.

Example
-------
>>> from cxlib.data.validation import validate
>>> validate("data/sample/tickets.csv", kind="tickets").columns["created"]
'created_at'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from cxlib import sources
from cxlib.data.checks import (_examples, _raise, check_not_empty, check_unique, check_variant_case,
                               require_columns)
from cxlib.data.cleaning import clean_binary, clean_numeric
from cxlib.data.timestamps import clean_timestamp
from cxlib.engine import _source_of, source_name, to_pandas
from cxlib.errors import CXDataError
from cxlib.schema import KINDS
from cxlib.schema import ROLES as _SPECS
from cxlib.sources import as_table
from cxlib.sources.plain import _duplicated_header

@dataclass
class Validation:
    """Outcome of :func:`validate`: the cleaned table plus what was noticed on the way.

    Attributes
    ----------
    table : ibis.Table
        The source with checked columns cleaned (timestamps naive UTC, scores float, 0/1 as int).
    kind, source : str
    n_rows : int
    columns : dict
        Role -> column actually used.
    notes : list of str
        Things that are allowed but worth knowing (e.g. N/A counts per rating column).
    missing : dict
        Column -> number of blank / N/A values among optional rating columns.
    """

    table: Any
    kind: str
    source: str
    n_rows: int
    columns: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    missing: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.source}: valid {self.kind} table, {self.n_rows:,} rows.",
                 "Columns: " + ", ".join(f"{r}={c}" for r, c in self.columns.items())]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def validate(data: Any, *, kind: str, table: str | None = None, name: str | None = None,
             drivers: Sequence[str] | str | None = "drv_", metrics: Sequence[str] | None = None,
             scales: Mapping[str, tuple[float, float]] | None = None, **columns: str) -> Validation:
    """Check a source against the contract of its table kind (see data/README.md).

    Every problem found is reported in one :class:`CXDataError` (one line per problem, each naming the
    column, the expectation and up to three offending rows). Missing optional ratings are allowed and
    counted in ``notes``.

    Parameters
    ----------
    data : DataFrame, path or Ibis table
        See :func:`as_table`.
    kind : {'events', 'subscriptions', 'responses', 'tickets', 'experiment'}
    table, name : str, optional
        See :func:`as_table`.
    drivers : str or list of str, optional
        Responses only: driver rating columns, or a prefix selecting them (default ``'drv_'``).
    metrics : list of str, optional
        Experiment only: metric columns that must be numeric.
    scales : mapping, optional
        Override score ranges, e.g. ``{'csat': (1, 10)}``.
    **columns : str
        Column mapping by role, e.g. ``customer='user_id'``, ``time='ts'`` (roles per kind: events:
        customer, time, event, value; subscriptions: customer, start, end, duration, event, mrr;
        responses: respondent, time, nps, csat, ces, comment; tickets: ticket, customer, created,
        first_response, resolved, channel, reopened; experiment: unit, variant, time).

    Example
    -------
    >>> v = validate("data/sample/tickets.csv", kind="tickets")
    >>> v.columns["created"]
    'created_at'
    """
    if kind not in _SPECS:
        raise CXDataError(f"unknown table kind {kind!r}; expected one of {', '.join(KINDS)}.")
    spec = _SPECS[kind]
    unknown = set(columns) - set(spec)
    if unknown:
        raise CXDataError(f"unknown column role(s) for {kind}: {', '.join(sorted(unknown))}; "
                          f"roles are {', '.join(spec)}.")
    t = sources.read(data, kind=kind) if sources.is_spec(data) else as_table(data, table=table, name=name)
    label = source_name(t, name)
    meta = sources.metadata(t)
    if kind == "responses" and drivers == "drv_" and meta.get("drivers"):
        drivers = list(meta["drivers"])  # the spec's / layout's driver columns
        if meta.get("driver_scale"):
            lo_s, hi_s = meta["driver_scale"]
            scales = {**{d: (lo_s, hi_s) for d in drivers}, **(scales or {})}
    problems: list[str] = []
    columns_hit: list[str | None] = []
    notes: list[str] = []
    used: dict[str, str] = {}
    missing_counts: dict[str, int] = {}

    try:
        n_rows = check_not_empty(t, name=label)
    except CXDataError as exc:
        raise exc
    n_blank = getattr(_source_of(t), "blank_rows", 0) or sum(
        int(n.get("count", 0)) for n in meta.get("notes") or () if getattr(n, "code", None) == "blank_rows_skipped")
    if n_blank:
        notes.append(f"{n_blank:,} blank row{'s' if n_blank > 1 else ''} (every cell empty, as a spreadsheet "
                     "leaves at the end) skipped: not records.")
    roles = {}
    required = []
    for role, (default, _check, req) in spec.items():
        col = columns.get(role, default)
        roles[col] = role
        if req or role in columns:
            required.append(col)
    if kind == "subscriptions" and "start_time" not in t.columns and "start" not in columns:
        required += [columns.get("duration", "duration"), columns.get("event", "event")]
    elif kind == "subscriptions":
        required.append(columns.get("start", "start_time"))
    try:
        require_columns(t, required, name=label, roles=roles)
    except CXDataError as exc:
        raise CXDataError(str(exc), source=label, column=exc.column) from None

    score_ranges = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    score_ranges.update(scales or {})

    def run(fn):
        nonlocal t
        try:
            t = fn(t)
        except CXDataError as exc:
            problems.append(str(exc))
            columns_hit.append(exc.column)

    score_columns: list[tuple[str, str]] = []
    dup_header = _duplicated_header(t)
    if dup_header:
        problems.append(f"{label}: {dup_header}")
    for role, (default, check, req) in spec.items():
        col = columns.get(role, default)
        if col not in t.columns:
            continue
        used[role] = col
        if kind == "experiment" and role == "variant":
            n_blank, ex = _examples(t, lambda y, col=col: y[col].isnull() | (y[col].cast("string").strip() == ""),
                                    col, name=label)
            if n_blank:
                notes.append(f"{n_blank:,} unit{'s have' if n_blank > 1 else ' has'} no variant {ex}; they are "
                             "left out of every comparison and counted on the page.")
            continue
        if check in ("id", "uid"):
            def _nonnull(x, col=col):
                n, ex = _examples(x, lambda y: y[col].isnull(), col, name=label)
                if n:
                    _raise(label, col, f"{label}: column '{col}' is an id and must not be blank, but "
                                       f"{n} row{'s are' if n > 1 else ' is'} blank {ex}.")
                return x
            run(_nonnull)
            if check == "uid":
                run(lambda x, col=col: (check_unique(x, col, name=label), x)[1])
        elif check in ("ts", "ts?"):
            run(lambda x, col=col, req=(check == "ts"): clean_timestamp(x, col, required=req, name=label))
        elif check == "nonneg":
            run(lambda x, col=col: clean_numeric(x, col, lo=0, name=label))
        elif check == "bin":
            run(lambda x, col=col: clean_binary(x, col, name=label))
        elif check.startswith("score"):
            lo, hi = score_ranges.get(role, tuple(float(v) for v in check.split(":")[1:]))
            run(lambda x, col=col, lo=lo, hi=hi: clean_numeric(x, col, lo=lo, hi=hi, integer=True, name=label))
            score_columns.append((role, col))

    if score_columns and not any(c in (columns_hit or []) for _, c in score_columns):
        blank = to_pandas(t.aggregate(**{c: t[c].isnull().sum() for _, c in score_columns}), name=label)
        for role, c in score_columns:
            k = int(blank[c].iloc[0] or 0)
            if k == n_rows and role == "nps":
                problems.append(f"{label}: column '{c}' (the {role.upper()} score) has no answers at all: every "
                                f"one of the {n_rows:,} rows is blank. Map the score column with "
                                f"columns: {{nps: <your column>}}.")
            elif k == n_rows:
                notes.append(f"'{c}' has no answers at all; the {role.upper()} sections will say so.")
            elif k:
                notes.append(f"'{c}' is unanswered in {k:,} of {n_rows:,} rows; those rows are not counted for "
                             f"{role.upper()}.")
                missing_counts[c] = k
    if kind == "responses":
        drv_cols = ([c for c in t.columns if c.startswith(drivers)] if isinstance(drivers, str)
                    else list(drivers or []))
        twice = sorted({c for c in drv_cols if drv_cols.count(c) > 1})
        if twice:
            problems.append(f"{label}: driver column{'s' if len(twice) > 1 else ''} "
                            f"{', '.join(repr(c) for c in twice)} listed more than once in drivers.")
            drv_cols = list(dict.fromkeys(drv_cols))
        try:
            require_columns(t, drv_cols, name=label)
        except CXDataError as exc:
            problems.append(str(exc))
            columns_hit.append(exc.column)
            drv_cols = [c for c in drv_cols if c in t.columns]
        for col in drv_cols:
            run(lambda x, col=col: clean_numeric(x, col, lo=(scales or {}).get(col, (None, None))[0],
                                                 hi=(scales or {}).get(col, (None, None))[1], name=label,
                                                 ratings=True))
        if drv_cols and not problems:
            nn = to_pandas(t.aggregate(**{c: t[c].isnull().sum() for c in drv_cols}), name=label)
            for c in drv_cols:
                k = int(nn[c].iloc[0] or 0)
                missing_counts[c] = k
                if k:
                    notes.append(f"'{c}' is blank or N/A in {k:,} of {n_rows:,} rows "
                                 f"({k / n_rows:.0%}); allowed, excluded per analysis.")
                if k == n_rows:
                    problems.append(f"{label}: driver column '{c}' has no answers at all (every row is "
                                    "blank or N/A).")
            used["drivers"] = ", ".join(drv_cols)
        personal = sources.personal_columns(t.columns)
        if personal:
            notes.append("personal-data column(s) " + ", ".join(personal) +
                         " present: they are dropped before anything reaches a report.")
    if kind == "experiment":
        metric_cols = [c for c in dict.fromkeys(metrics or [])]
        try:
            require_columns(t, metric_cols, name=label)
        except CXDataError as exc:
            problems.append(str(exc))
            columns_hit.append(exc.column)
            metric_cols = [c for c in metric_cols if c in t.columns]
        for col in metric_cols:
            run(lambda x, col=col: clean_numeric(x, col, name=label))
        if metric_cols and not problems:
            blank = to_pandas(t.aggregate(**{c: t[c].isnull().sum() for c in metric_cols}), name=label)
            for c in metric_cols:
                if int(blank[c].iloc[0] or 0) == n_rows:
                    problems.append(f"{label}: metric column '{c}' is blank in every one of the {n_rows:,} rows.")
        if not problems:
            vcol = used["variant"]
            trimmed = t[vcol].cast("string").strip()
            arms = to_pandas(t.filter(trimmed.notnull() & (trimmed != "")).select(v=trimmed).distinct()
                             .order_by("v"), name=label)["v"]
            k = len(arms)
            if k < 2:
                problems.append(f"{label}: column '{vcol}' has {k} variant; an experiment needs a control "
                                "and at least one treatment.")
            try:  # the arm names compare reads: 'Control' and 'control' are for the user to settle
                check_variant_case(arms, vcol, label)
            except CXDataError as exc:
                problems.append(str(exc))
                columns_hit.append(exc.column)
    if kind == "subscriptions" and not problems and "start" in used and "end" in used:
        s, e = used["start"], used["end"]
        n, ex = _examples(t, lambda x: x[e].notnull() & (x[e] < x[s]), e, name=label)
        if n:
            problems.append(f"{label}: column '{e}' is before '{s}' in {n} row{'s' if n > 1 else ''} {ex}.")
    if kind == "tickets" and not problems:
        c0 = used["created"]
        for role in ("first_response", "resolved"):
            if role in used:
                c = used[role]
                n, ex = _examples(t, lambda x, c=c: x[c].notnull() & (x[c] < x[c0]), c, name=label)
                if n:
                    problems.append(f"{label}: column '{c}' is before '{c0}' in {n} row"
                                    f"{'s' if n > 1 else ''} {ex}.")

    if problems:
        head = f"{label} is not a valid {kind} table ({len(problems)} problem{'s' if len(problems) > 1 else ''}):"
        msg = head + "\n" + "\n".join(f"  - {p}" for p in problems) if len(problems) > 1 else problems[0]
        # the column is named when every problem is about the same one
        column = columns_hit[0] if len(set(columns_hit)) == 1 and len(columns_hit) == len(problems) else None
        raise CXDataError(msg, source=label, column=column, problems=problems)
    return Validation(table=t, kind=kind, source=label, n_rows=n_rows, columns=used, notes=notes,
                      missing=missing_counts)
