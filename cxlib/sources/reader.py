"""Reading a source spec into an Ibis table with the contract's column names.

Two paths, one result:

- a spec with reader options or a known layout is read as text (:mod:`cxlib.sources.files`), typed
  with the options (:mod:`cxlib.sources.parse`), shaped by the layout, and loaded once into the
  embedded DuckDB as a table;
- a spec with only ``columns`` / ``drivers`` / ``labels`` on a plain CSV / Parquet / database source
  stays in the engine (:func:`cxlib.sources.plain.open_plain`, then a rename), so large files are never pulled
  into pandas.

Either way personal columns are dropped, contact-like ids hashed, and the spec's metadata is kept
for :func:`cxlib.sources.metadata`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import pandas as pd

from cxlib.engine import _register, _Source, _source_of, default_backend, to_pandas
from cxlib.errors import CXDataError
from cxlib.notes import note
from cxlib.schema import CONTRACT
from cxlib.sources import files, layouts, parse
from cxlib.sources.names import Names
from cxlib.sources.plain import open_plain
from cxlib.sources.personal import contract_ids, looks_like_contact, personal_columns, pseudonymize, session_salt
from cxlib.sources.spec import READER_OPTIONS, check_spec

_META: dict[Any, dict] = {}


def infer_kind(columns: list[str]) -> str | None:
    """The table kind whose contract columns a table has most of (ids and times count), or None."""
    best, score = None, 1
    for k, spec in CONTRACT.items():
        n = sum(1 for c in spec if c in columns and c != "customer_id")
        if n > score:
            best, score = k, n
    return best
_CACHE: dict[tuple, ibis.Table] = {}
_LINE = "__line"


def metadata_of(t: ibis.Table) -> dict | None:
    node = t.op()
    if node in _META:
        return _META[node]
    try:
        for leaf in node.find(ops.PhysicalTable):
            if leaf in _META:
                return _META[leaf]
    except Exception:  # pragma: no cover - graph walking is best effort
        return None
    return None


# --------------------------------------------------------------------------------------------------
# mapping

def _mapping(names: Names, layout_map: dict, user_map: dict, label: str) -> dict[str, str]:
    """contract column -> source column: the layout's defaults, overridden by the user's.

    The user's column may be named by its name, its contract name, or the export's header text (see
    :mod:`cxlib.sources.names`); mapping a contract column to the column the layout maps there is a no-op.
    """
    columns = names.columns
    out: dict[str, str] = {}
    user_sources = set()
    for target, src in (user_map or {}).items():
        src = str(src)
        found = names.one(src, label=label, what=f"columns: maps '{target}' to")
        if found is None:
            avail = ", ".join(columns[:25]) + (" ..." if len(columns) > 25 else "")
            raise CXDataError(f"{label}: columns: maps '{target}' to '{src}', but the file has no column "
                              f"'{src}' (it has: {avail}).", source=label, column=src)
        out[str(target)] = found
        user_sources.add(found)
    for target, alts in layout_map.items():
        if target in out:
            continue
        alts = [alts] if isinstance(alts, str) else list(alts)
        found = layouts.find(columns, *alts)
        if found is not None and found not in user_sources:
            out[target] = found
    return out


def _rename_plan(columns: list[str], mapping: dict[str, str]) -> list[tuple[str, str]]:
    """(source, new name) pairs: mapped columns under their contract names, the others under their own;
    a pass-through column whose name collides (case-insensitively) with a target is dropped."""
    targets = {t.lower() for t in mapping}
    sources = set(mapping.values())
    plan = [(src, tgt) for tgt, src in mapping.items()]
    for c in columns:
        if c in sources or c.lower() in targets:
            continue
        plan.append((c, c))
    return plan


def _rename_frame(df: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    cols = [c for c in df.columns if c != _LINE]
    plan = _rename_plan(cols, mapping)
    out = pd.DataFrame({new: df[src] for src, new in plan}, index=df.index)
    out[_LINE] = df[_LINE]
    return out


# --------------------------------------------------------------------------------------------------
# drivers, labels, scale

def _drivers(spec_drivers, default: list[str], names: Names, label: str) -> tuple[list[str], dict]:
    """The driver columns a spec's ``drivers:`` names (a list, a prefix or {column: label}); a name may
    be a header text, and a matrix question's text stands for all its rows."""
    columns = names.columns
    labels: dict[str, str] = {}
    if spec_drivers is None:
        return [c for c in default if c in columns], labels
    if isinstance(spec_drivers, str):
        hits = names.find(spec_drivers, loose=False)
        chosen = hits if hits and spec_drivers not in columns else [c for c in columns if c.startswith(spec_drivers)]
        if not chosen:
            raise CXDataError(f"{label}: drivers: '{spec_drivers}' matches no column (columns: "
                              f"{', '.join(columns[:25])}).", source=label)
        return chosen, labels
    given = {str(k): (str(v) if isinstance(spec_drivers, dict) else None)
             for k, v in (spec_drivers.items() if isinstance(spec_drivers, dict) else
                          ((c, None) for c in spec_drivers))}
    chosen, missing = [], []
    for name, text in given.items():
        hits = names.find(name)
        if not hits:
            missing.append(name)
        for c in hits:
            chosen.append(c)
            if text is not None:
                labels[c] = text
    if missing:
        raise CXDataError(f"{label}: drivers: names {', '.join(repr(c) for c in missing)}, not in the "
                          f"table (columns: {', '.join(columns[:25])}).", source=label, column=missing[0])
    return chosen, labels


def _named(names: Names, given, label: str, what: str, *, strict: bool = True) -> list[str]:
    """Columns named by a spec list (``currency:``, ``personal:``); unknown names stay as given unless
    ``strict`` (then an error lists the table's columns)."""
    out, missing = [], []
    for g in given or ():
        hits = names.find(str(g))
        if not hits:
            missing.append(str(g))
        out.extend(hits or [str(g)])
    if missing and strict:
        raise CXDataError(f"{label}: {what}: names {', '.join(map(repr, missing))}, not in the file "
                          f"(columns: {', '.join(names.columns[:25])}).", source=label, column=missing[0])
    return list(dict.fromkeys(out))


def _labels(names: Names, given) -> dict[str, str]:
    """A spec's ``labels:``: a key naming one column (by any of its names) labels that column; other
    keys (answer values) are kept as given."""
    out = {}
    for k, v in (given or {}).items():
        hits = names.find(str(k), loose=False)
        out[hits[0] if len(hits) == 1 else str(k)] = str(v)
    return out


def _scale(values: pd.DataFrame) -> list[float] | None:
    """The rating scale the driver answers use: [1, 5], [1, 7], [0, 10] or [1, 10] (or observed)."""
    if values.empty:
        return None
    lo, hi = values.min().min(), values.max().max()
    if pd.isna(lo) or pd.isna(hi):
        return None
    for a, b in ((1, 5), (1, 7), (1, 10), (0, 10), (0, 5), (1, 4), (1, 3)):
        if lo >= a and hi <= b:
            return [float(a), float(b)]
    return [float(lo), float(hi)]


# --------------------------------------------------------------------------------------------------
# typing the text

def _convert(df: pd.DataFrame, kind: str | None, mod, spec: dict, mapping: dict, drivers: list[str],
             tz: str | None, label: str, currency: list[str] = ()) -> pd.DataFrame:
    ren = {src: tgt for tgt, src in mapping.items()}
    contract = CONTRACT.get(kind or "", {})
    money = {ren.get(c, c) for c in getattr(mod, "MONEY", ())} | set(currency)
    stamps = {ren.get(c, c) for c in getattr(mod, "TIMESTAMPS", ())}
    numbers = {ren.get(c, c) for c in getattr(mod, "NUMBERS", ())}
    formats = list(getattr(mod, "FORMATS", ()))
    dec, thou, fmt = spec.get("decimal") or ".", spec.get("thousands"), spec.get("date_format")
    cols = [c for c in df.columns if c != _LINE]
    out = {}
    for c in cols:
        s = df[c]
        where = parse.Where(label, mapping.get(c, c), df[_LINE])  # messages name the user's column
        role = contract.get(c)
        if c in money:
            out[c] = parse.to_money(s, decimal=spec.get("decimal"), where=where)
        elif role == "ts" or c in stamps:
            out[c] = parse.to_timestamp(s, date_format=fmt, formats=formats, tz=tz, where=where)
        elif role == "score" or c in drivers:
            out[c] = parse.to_score(s, decimal=dec, where=where)
        elif role == "num" or c in numbers:
            out[c] = parse.to_number(s, decimal=dec, thousands=thou, where=where)
        elif role in ("id", "text"):
            out[c] = parse._clean(s)
        elif fmt and parse.looks_timestamp(s, date_format=fmt):
            out[c] = parse.to_timestamp(s, date_format=fmt, formats=formats, tz=tz, where=where)
        elif parse.looks_numeric(s, decimal=dec, thousands=thou):
            num = parse.to_number(s, decimal=dec, thousands=thou)
            whole = num.dropna()
            out[c] = num.astype("Int64") if len(whole) and (whole == whole.round()).all() and \
                whole.abs().max() < 2**53 else num
        elif parse.looks_timestamp(s, date_format=fmt):
            try:
                out[c] = parse.to_timestamp(s, date_format=fmt, formats=formats, tz=tz, where=where)
            except CXDataError:
                out[c] = parse._clean(s)
        else:
            out[c] = parse._clean(s)
    res = pd.DataFrame(out, index=df.index)
    res[_LINE] = df[_LINE]
    return res


# --------------------------------------------------------------------------------------------------
# the two paths

def _pandas_path(paths: list[str], spec: dict, kind: str | None, label: str) -> tuple[pd.DataFrame, dict]:
    opts = {k: spec[k] for k in READER_OPTIONS if spec.get(k) is not None}
    parts, header = [], None
    for p in paths:
        h, body = files.read_grid(p, opts, label=Path(p).name if len(paths) == 1 else label)
        header = header or h
        parts.append((h, body))
    layout = spec.get("layout") or layouts.detect(header)
    mod = layouts.get(layout) if layout else None
    lkind = getattr(mod, "KIND", None)
    if kind and lkind and kind != lkind:
        raise CXDataError(f"{label}: the {layout} layout makes a {lkind} table, but this source is read "
                          f"as {kind}. Use it for {lkind}= or drop layout: and map columns with columns:.",
                          source=label)
    kind = kind or lkind
    n_head = layouts.header_rows(mod, header) if mod else 1
    frames = []
    for h, body in parts:
        if [str(c) for c in h[0]] != [str(c) for c in header[0]]:
            raise CXDataError(f"{label}: the files of the glob have different columns.", source=label)
        frames.append(body.iloc[n_head:])
    body = pd.concat(frames, ignore_index=True)
    n_blank = sum(int(b.attrs.get("blank_rows", 0)) for _, b in parts)
    names = [str(c).strip() or f"column_{i + 1}" for i, c in enumerate(header[0])]
    seen: dict[str, str] = {}
    for n in names:  # 'NPS' and 'nps' are one name to the engine: say so instead of renaming one
        if seen.setdefault(n.lower(), n) != n:
            raise CXDataError(f"{label}: the header has columns '{seen[n.lower()]}' and '{n}', which differ only "
                              "by case; they cannot be told apart. Rename one of them in the file.",
                              source=label, column=n)
    body.columns = [*names, _LINE] if len(body.columns) == len(names) + 1 else [
        *names, *[f"column_{i + 1}" for i in range(len(names), len(body.columns) - 1)], _LINE]
    body = body.reset_index(drop=True)
    read_lines = body[_LINE].to_numpy(dtype="int64")  # position = data row - 1, before a layout drops rows
    frame = layouts.Frame(df=body, header=header, label=label, options=opts,
                          tz=getattr(mod, "TZ", None) if mod else None)
    if mod is not None and hasattr(mod, "prepare"):
        mod.prepare(frame)
    cols = [c for c in frame.df.columns if c != _LINE]
    layout_map = dict(getattr(mod, "COLUMNS", {}) if mod else {})
    layout_map.update({k: [v] for k, v in frame.columns.items()})
    # what the export called each column (its header cell, question texts) and the layout's contract names
    header_of = dict(zip(cols, [str(c) for c in header[0]])) if len(cols) == len(header[0]) else {}
    names = Names(cols, header=header_of, questions=frame.questions, labels=frame.labels,
                  contract=_mapping(Names(cols), layout_map, {}, label))
    mapping = _mapping(names, layout_map, spec.get("columns") or {}, label)
    frame.mapping = mapping
    df = _rename_frame(frame.df, mapping)
    kind = kind or infer_kind(list(df.columns))
    ren = {src: tgt for tgt, src in mapping.items()}
    new_cols = [c for c in df.columns if c != _LINE]
    names = names.renamed(mapping, new_cols)
    default_drivers = [ren.get(c, c) for c in frame.drivers]
    drivers, drv_labels = _drivers(spec.get("drivers"), default_drivers, names, label)
    currency = _named(names, spec.get("currency"), label, "currency")
    # the export's own time zone (Qualtrics) beats the reporting tz for naive times
    tz_naive = frame.tz or spec.get("tz")
    frame.df = _convert(df, kind, mod, spec, mapping, drivers, tz_naive, label, currency)
    if mod is not None and hasattr(mod, "finish"):
        mod.finish(frame)
    labels = {ren.get(k, k): v for k, v in frame.labels.items() if v}
    labels.update(drv_labels)
    labels.update(_labels(names, spec.get("labels")))
    declared = [ren.get(c, c) for c in list(getattr(mod, "PERSONAL", ()) if mod else ()) + frame.personal]
    declared += _named(names, spec.get("personal"), label, "personal", strict=False)
    meta = {
        "layout": layout, "labels": labels, "drivers": drivers,
        "questions": {ren.get(k, k): v for k, v in frame.questions.items() if v}, "kind": kind,
        "columns": mapping, "declared_personal": declared,
        "notes": list(frame.notes) + ([note("blank_rows_skipped", table=label, count=n_blank)] if n_blank else []),
        "source_tz": frame.tz,
        "data_rows": _data_rows(frame.df, read_lines),
    }
    return frame.df.drop(columns=[_LINE]), meta


def _data_rows(df: pd.DataFrame, read_lines):
    """The 1-based data row of the file (as read, header rows left out) of each row of ``df``, for
    messages that name rows (:func:`cxlib.data._examples`) once a layout has dropped rows (partial
    responses, previews); None when no row was dropped or the rows cannot be traced back (a layout that
    merged rows)."""
    idx = df.index
    if _LINE not in df.columns or not len(df) or not pd.api.types.is_integer_dtype(idx) or not idx.is_unique:
        return None
    pos = idx.to_numpy()
    if pos.min() < 0 or pos.max() >= len(read_lines):
        return None
    if (read_lines[pos] != df[_LINE].to_numpy(dtype="int64")).any():  # not the record read at that position
        return None
    if idx.equals(pd.RangeIndex(len(read_lines))):  # every row kept, in order: row numbers already right
        return None
    return pos + 1


def _engine_path(source: Any, spec: dict, kind: str | None, label: str) -> tuple[ibis.Table, dict]:
    t = open_plain(source, table=spec.get("table"), name=label)
    n_blank = getattr(_source_of(t), "blank_rows", 0)
    cols = list(t.columns)
    names = Names(cols)
    mapping = _mapping(names, {}, spec.get("columns") or {}, label)
    plan = _rename_plan(cols, mapping)
    t = t.select(**{new: t[src] for src, new in plan}) if mapping else t
    names = names.renamed(mapping, list(t.columns))
    drivers, drv_labels = _drivers(spec.get("drivers"), [], names, label)
    labels = dict(drv_labels)
    labels.update(_labels(names, spec.get("labels")))
    meta = {"layout": None, "kind": kind, "labels": labels, "drivers": drivers, "questions": {},
            "columns": mapping, "source_tz": None,
            "notes": [note("blank_rows_skipped", table=label, count=n_blank)] if n_blank else [],
            "declared_personal": _named(names, spec.get("personal"), label, "personal", strict=False)}
    return t, meta


@ibis.udf.scalar.builtin(name="sha256")
def _sha256(value: str) -> str:  # type: ignore[empty-body]
    ...


def _protect_ibis(t: ibis.Table, kind: str | None, meta: dict, spec: dict, label: str) -> ibis.Table:
    extra = list(spec.get("personal") or ()) + meta["declared_personal"]
    ids = [c for c in contract_ids(kind) if c in t.columns]
    personal = [c for c in personal_columns(t.columns, extra=extra) if c not in ids and c not in meta["drivers"]]
    strings = [c for c in t.columns if t[c].type().is_string() and c not in personal]
    sample = to_pandas(t.select(*strings).limit(200), name=label) if strings else pd.DataFrame()
    hashed = []
    for c in strings:
        if looks_like_contact(sample[c]):
            if c in ids:
                hashed.append(c)
            elif c not in meta["drivers"]:
                personal.append(c)
    if personal:
        t = t.drop(*personal)
    if hashed:
        salt = session_salt()
        t = t.mutate(**{c: ibis.ifelse(t[c].isnull(), ibis.null("string"),
                                       ibis.literal("id-") + _sha256(ibis.literal(salt) + t[c].strip()).substr(0, 10))
                        for c in hashed})
    meta["personal"] = sorted(set(personal))
    meta["pseudonymized"] = hashed
    return t


def _protect_frame(df: pd.DataFrame, kind: str | None, meta: dict, spec: dict) -> pd.DataFrame:
    extra = list(spec.get("personal") or ()) + meta["declared_personal"]
    ids = [c for c in contract_ids(kind) if c in df.columns]
    personal = [c for c in personal_columns(df.columns, extra=extra) if c not in ids and c not in meta["drivers"]]
    hashed = []
    for c in df.columns:
        if c in personal or not (pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object):
            continue
        if looks_like_contact(df[c].dropna().head(200)):
            if c in ids:
                hashed.append(c)
            elif c not in meta["drivers"] and c not in CONTRACT.get(kind or "", {}):
                personal.append(c)
    df = df.drop(columns=personal)
    salt = session_salt()
    for c in hashed:
        df[c] = pseudonymize(df[c], salt)
    meta["personal"] = sorted(set(personal))
    meta["pseudonymized"] = hashed
    return df


def _unique_names(df: pd.DataFrame) -> pd.DataFrame:
    seen, names = set(), []
    for c in df.columns:
        name, k = str(c), 2
        while name.lower() in seen:
            name, k = f"{c}_{k}", k + 1
        seen.add(name.lower())
        names.append(name)
    df.columns = names
    return df


def read_spec(spec: dict, *, kind: str | None = None, base: str | Path | None = None) -> ibis.Table:
    """Read a checked spec (see :func:`cxlib.sources.read`)."""
    spec = check_spec(dict(spec))
    opts = [k for k in READER_OPTIONS if spec.get(k) is not None]
    if spec.get("url") is not None:
        if opts or spec.get("layout"):
            raise CXDataError(f"reader options ({', '.join(opts) or 'layout'}) apply to files; a url: source "
                              "is read by its database (map columns with columns:).")
        url = str(spec["url"])
        label = re.sub(r"//[^@/]*@", "//***@", url.split("::")[0]) + ("::" + url.split("::")[1] if "::" in url else "")
        t, meta = _engine_path(url, spec, kind, label)
        t = _protect_ibis(t, kind, meta, spec, label)
        return _finish(t, meta, spec, _Source(label, "url"))
    paths = files.resolve(spec["path"], base=base)
    label = Path(paths[0]).name if len(paths) == 1 else str(spec["path"])
    if not paths:
        raise CXDataError(f"{Path(str(spec['path'])).name}: file not found (looked for "
                          f"{str(spec['path'])!r} in {base or Path.cwd()}).", source=str(spec["path"]))
    stat = tuple((p, Path(p).stat().st_mtime_ns, Path(p).stat().st_size) for p in paths)
    key = (stat, json.dumps(spec, sort_keys=True, default=str), kind)
    if key in _CACHE:
        return _CACHE[key]
    sfx = files.suffix_of(paths[0])
    plain = (not opts and not spec.get("layout") and spec.get("tz") in (None, "UTC") and sfx in (".csv", ".parquet", ".pq", ".tsv", ".csv.gz")
             and layouts.detect(files.read_grid(paths[0], {}, label=label, max_rows=4)[0]) is None
             and sfx != ".tsv")
    if plain:
        t, meta = _engine_path(paths[0] if len(paths) == 1 else str(spec["path"]), spec, kind, label)
        t = _protect_ibis(t, kind, meta, spec, label)
        drv = [c for c in meta["drivers"] if c in t.columns]
        if drv and spec.get("driver_scale") is None:
            num = {c: t[c].cast("float64") for c in drv}
            agg = to_pandas(t.aggregate(**{f"lo{i}": num[c].min() for i, c in enumerate(drv)},
                                        **{f"hi{i}": num[c].max() for i, c in enumerate(drv)}), name=label)
            meta["driver_scale"] = _scale(pd.DataFrame({"v": agg.iloc[0].astype("float64")}))
    else:
        df, meta = _pandas_path(paths, spec, kind, label)
        df = _unique_names(_protect_frame(df, meta.get("kind"), meta, spec))
        if meta["drivers"]:
            meta["driver_scale"] = _scale(df[[c for c in meta["drivers"] if c in df.columns]])
        name = "cx_src_" + hashlib.sha1(repr(key).encode()).hexdigest()[:12]
        t = default_backend().create_table(name, df.reset_index(drop=True), temp=True, overwrite=True)
    t = _finish(t, meta, spec, _Source(label, "spec", tuple(paths)))
    _CACHE[key] = t
    return t


def _finish(t: ibis.Table, meta: dict, spec: dict, src: _Source) -> ibis.Table:
    if spec.get("driver_scale") is not None:
        meta["driver_scale"] = [float(v) for v in spec["driver_scale"]]
        meta["driver_scale_source"] = "declared"
    elif meta.get("driver_scale"):
        meta["driver_scale_source"] = "data"
    meta.setdefault("driver_scale", None)
    meta["tz"] = spec.get("tz") or "UTC"
    meta["source"] = src.label
    meta.pop("declared_personal", None)
    before = _source_of(t)
    if before is not None and before.blank_rows and not src.blank_rows:  # the CSV read skipped blank rows
        src = dataclasses.replace(src, blank_rows=before.blank_rows)
    _register(t, src)
    _META[t.op()] = meta
    return t


_ = dt
