"""Reading files as text grids: CSV / TSV / .csv.gz, Excel (.xlsx via python-calamine), JSON lines,
Parquet. Every cell comes back as text ('' for blank) so layouts and the reader options decide types.

Example
-------
>>> from cxlib.sources.files import read_grid
>>> header, body = read_grid("tests/fixtures/exports/european.csv", {"sep": ";", "encoding": "latin-1"})
>>> header[0][:2]
['Antwort-ID', 'Datum']
"""
from __future__ import annotations

import csv
import datetime as _dt
import glob as _glob
import gzip
import io
import json
import math
from pathlib import Path

import pandas as pd

from cxlib.errors import CXDataError
from cxlib.paths import PROJECT_ROOT

__all__ = ["resolve", "read_grid", "suffix_of", "TEXT_SUFFIXES", "EXCEL_SUFFIXES", "JSON_SUFFIXES",
           "PARQUET_SUFFIXES", "ACCEPTED"]

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: What a plain path or a spec's ``path:`` may name (for messages).
ACCEPTED = (".csv, .tsv, .txt (or .gz of them), Excel .xlsx / .xlsm / .xls / .ods, JSON lines .jsonl / "
            ".ndjson / .json, Parquet .parquet, or a DuckDB file .duckdb::table")
# bytes read to find a file's header rows (layout detection); more only when the header is longer
_HEAD_BYTES = 64 * 1024


def suffix_of(path: str | Path) -> str:
    """``'a/b.csv.gz'`` -> ``'.csv.gz'``; ``'b.CSV'`` -> ``'.csv'``."""
    sfx = [s.lower() for s in Path(path).suffixes]
    if len(sfx) >= 2 and sfx[-1] == ".gz":
        return "".join(sfx[-2:])
    return sfx[-1] if sfx else ""


def resolve(path: str | Path, *, base: str | Path | None = None) -> list[str]:
    """Files matching a path or glob; relative paths are tried against ``base`` (a spec file's folder),
    the working directory, then the project root."""
    p = Path(str(path)).expanduser()
    cands = [p] if p.is_absolute() else [Path(b) / p for b in (base, Path.cwd(), PROJECT_ROOT) if b is not None]
    for cand in cands:
        if _glob.has_magic(str(cand)):
            hits = sorted(_glob.glob(str(cand)))
        else:
            hits = [str(cand)] if cand.is_file() else []
        if hits:
            return hits
    return []


def _sniff_sep(first_line: str) -> str:
    counts = {}
    for sep in (",", ";", "\t", "|"):
        try:
            counts[sep] = len(next(csv.reader([first_line], delimiter=sep))) - 1
        except (csv.Error, StopIteration):
            counts[sep] = 0
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] > 0 else ","


def _read_bytes(path: str, limit: int | None = None) -> tuple[bytes, bool]:
    """The file's bytes (decompressed for .gz), or only its first ``limit`` bytes cut after the last
    complete line; the flag says whether the text was cut."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read() if limit is None else fh.read(limit + 1)
    if limit is None or len(raw) <= limit:
        return raw, False
    raw = raw[:limit]
    return raw[: raw.rfind(b"\n") + 1] or raw, True


def _open_text(path: str, encoding: str, label: str, limit: int | None = None) -> tuple[str, bool]:
    raw, cut = _read_bytes(path, limit)
    return _decode(raw, encoding, label), cut


def _decode(raw: bytes, encoding: str, label: str) -> str:
    enc = encoding or "utf-8-sig"
    if enc.lower().replace("_", "-") in ("utf-8", "utf8"):
        enc = "utf-8-sig"  # a byte-order mark is never part of the first column's name
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CXDataError(
            f"{label}: the file is not valid {encoding or 'UTF-8'} text (undecodable byte near line "
            f"{line}). Set encoding: 'latin-1' (or 'cp1252' for Windows exports) in the source spec, "
            "or re-save the file as UTF-8.", source=label) from None
    except LookupError:
        raise CXDataError(f"{label}: unknown encoding {encoding!r}; use e.g. 'utf-8', 'latin-1', "
                          "'cp1252'.", source=label) from None


def _text_rows(text: str, opts: dict, sfx: str, skip: int, max_rows: int | None, label: str) -> list[list[str]]:
    lines = text.splitlines()
    sep = opts.get("sep") or ("\t" if sfx.startswith(".tsv") else
                              _sniff_sep(lines[skip] if len(lines) > skip else ""))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows: list[list[str]] = []
    try:
        for i, r in enumerate(reader):
            rows.append(r)
            if max_rows is not None and i >= max_rows + skip:
                break
    except csv.Error as exc:
        raise CXDataError(f"{label}: could not read the CSV near record {len(rows) + 1}: {exc}",
                          source=label) from None
    return rows


def _cell(v) -> str:
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        ts = pd.Timestamp(v)
        return ts.isoformat(sep=" ") if (ts.hour or ts.minute or ts.second or ts.tzinfo) else ts.strftime("%Y-%m-%d")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, _dt.time):
        return v.isoformat()
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _grid_from_frame(df: pd.DataFrame) -> list[list[str]]:
    rows = [[str(c) for c in df.columns]]
    rows += [[_cell(v) for v in r] for r in df.itertuples(index=False, name=None)]
    return rows


def read_grid(path: str, opts: dict | None = None, *, label: str | None = None,
              max_rows: int | None = None) -> tuple[list[list[str]], pd.DataFrame]:
    """Read a file as text.

    Returns
    -------
    header : list of list of str
        The first rows after ``skip_rows`` (up to 4), the first being the column names.
    body : pandas.DataFrame
        Every row after ``skip_rows`` (including header rows; the caller drops them), columns
        numbered 0..n-1, all text, '' for blank; column ``__line`` holds the 1-based record number in
        the file.
    """
    opts = opts or {}
    label = label or Path(path).name
    sfx = suffix_of(path)
    skip = int(opts.get("skip_rows") or 0)
    if sfx in EXCEL_SUFFIXES:
        try:
            sheet = opts.get("sheet", 0)
            df = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, header=None,
                               engine="calamine", dtype=object, nrows=None if max_rows is None else max_rows + skip)
        except ValueError as exc:
            raise CXDataError(f"{label}: could not read sheet {opts.get('sheet', 0)!r}: {exc}. Set "
                              "sheet: to a sheet name or 0-based number.", source=label) from None
        except Exception as exc:
            raise CXDataError(f"{label}: could not read the workbook: {exc}", source=label) from None
        rows = [[_cell(v) for v in r] for r in df.itertuples(index=False, name=None)]
    elif sfx in JSON_SUFFIXES:
        enc = opts.get("encoding") or "utf-8"
        try:
            df = pd.read_json(path, lines=sfx != ".json", dtype=False, encoding=enc)
        except ValueError:
            try:
                df = pd.read_json(path, lines=sfx == ".json", dtype=False, encoding=enc)
            except ValueError as exc:
                raise CXDataError(f"{label}: could not read JSON (lines): {exc}", source=label) from None
        rows = _grid_from_frame(df)
    elif sfx in PARQUET_SUFFIXES:
        rows = _grid_from_frame(pd.read_parquet(path))
    elif sfx in TEXT_SUFFIXES or not sfx:
        # the header rows alone (layout detection) need only the file's first lines, however big it is
        limit = None if max_rows is None else _HEAD_BYTES
        while True:
            text, cut = _open_text(path, opts.get("encoding"), label, limit)
            rows = _text_rows(text, opts, sfx, skip, max_rows, label)
            if not cut or len(rows) > max_rows + skip:
                break
            limit *= 16  # header rows longer than the head read: read more
    else:
        raise CXDataError(f"{label}: unsupported file type {sfx!r}; expected {ACCEPTED}.", source=label)
    rows = rows[skip:]
    numbered = [(i + skip + 1, r) for i, r in enumerate(rows) if any(str(c).strip() for c in r)]
    if not numbered:
        raise CXDataError(f"{label}: the file is empty (no header row"
                          f"{' after skip_rows' if skip else ''}).", source=label)
    width = max(len(r) for _, r in numbered)
    body = pd.DataFrame([r + [""] * (width - len(r)) for _, r in numbered], dtype="string")
    body.columns = list(range(width))
    body["__line"] = [n for n, _ in numbered]
    # rows with every cell blank after the header (',,,,' lines a spreadsheet leaves) are not records
    body.attrs["blank_rows"] = sum(1 for i, r in enumerate(rows) if i + skip + 1 > numbered[0][0] and r
                                   and not any(str(c).strip() for c in r))
    header = [list(r) + [""] * (width - len(r)) for _, r in numbered[:4]]
    return header, body
