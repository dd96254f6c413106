"""Report pipeline: parameters, papermill runs, self-contained HTML, manifest and index.

``cx run`` (see :mod:`cxlib.cli`) calls :func:`run_reports`; notebooks call :func:`publish` for every
result table they show. This module knows notebooks and files, not statistics.

Flow of one run (DESIGN.md, "Reports"):

1. read each notebook's ``parameters`` cell (:func:`notebook_parameters`), merge defaults < YAML file
   < ``-p key=value`` and validate / coerce them (:func:`resolve_parameters`): an unknown name or a bad
   value raises :class:`ParameterError` before anything is written;
2. take a lock on the reports folder (a second concurrent run fails with :class:`LockedError`);
3. execute the notebooks with papermill in parallel worker processes into a temporary folder
   ``reports/.tmp-DATE-*``, each with ``CX_TABLES_DIR`` pointing at ``tables/<slug>/``;
4. render each executed notebook (also a failed one, which shows papermill's error) to HTML with the
   code hidden, figures and CSS inline, no network scripts, alt text on figures;
5. write ``manifest.json``, move the folder into place (the previous version of that date is removed
   only after the new one is complete) and rebuild ``reports/index.html``.
"""
from __future__ import annotations

import ast
import contextlib
import datetime as dt
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxlib import paths

#: Set by the runner for each notebook run: where published result tables go.
TABLES_ENV = "CX_TABLES_DIR"
#: Set by the runner for each notebook run: the report date (cxlib.data.default_as_of reads it).
RUN_DATE_ENV = "CX_RUN_DATE"
#: Data-source parameter names (fingerprinted in the manifest).
SOURCE_PARAMETERS = paths.KINDS


class ParameterError(ValueError):
    """A parameter that does not exist or whose value does not fit its declared type or choices."""


class LockedError(RuntimeError):
    """Another run holds the lock on the reports folder."""


# ------------------------------------------------------------------------------------------ publish

def publish(table: pd.DataFrame, name: str, *, caption: str | None = None) -> pd.DataFrame:
    """Register a result table of the notebook: written to ``tables/<slug>/<name>.csv`` in a report run.

    Returns the table so a notebook cell can end with ``publish(df, 'nps_by_week')`` and show it.
    Interactively (no report run) nothing is written. ``caption`` is kept in ``tables/<slug>/index.json``.

    Examples
    --------
    >>> from cxlib import metrics
    >>> publish(metrics.nps("data/sample/responses.csv"), "nps_overall")  # doctest: +SKIP
    """
    out = os.environ.get(TABLES_ENV)
    if out:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"table name {name!r}: use letters, digits, '_', '-' or '.'")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        table.to_csv(folder / f"{name}.csv", index=False)
        index = folder / "index.json"
        entries = json.loads(index.read_text()) if index.exists() else {}
        entries[name] = {"caption": caption, "rows": int(len(table)), "columns": list(map(str, table.columns))}
        index.write_text(json.dumps(entries, indent=2))
    return table


# ------------------------------------------------------------------------------------------ parameters

@dataclass
class Parameter:
    """One line of a notebook's parameters cell: ``name: type = default  # help. One of: a, b.``"""

    name: str
    type: str
    default: Any
    help: str = ""
    choices: list[str] | None = None

    def describe(self) -> str:
        choice = f" (one of: {', '.join(self.choices)})" if self.choices else ""
        return f"{self.name}: {self.type} = {self.default!r}  {self.help}{choice}".rstrip()


_CHOICES = re.compile(r"One of:\s*(.+?)\.?\s*$")


_PARAMETER_CACHE: dict[tuple, list] = {}


def notebook_parameters(path) -> list[Parameter]:
    """Parameters declared in the cell tagged ``parameters`` of a notebook (type, default, help, choices)."""
    # The committed notebooks carry their outputs (megabytes): read the JSON once per file version, without
    # nbformat's schema validation (papermill validates the notebook it runs).
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_mtime_ns, st.st_size)
    if key not in _PARAMETER_CACHE:
        _PARAMETER_CACHE[key] = _read_parameters(path)
    import copy

    return copy.deepcopy(_PARAMETER_CACHE[key])  # defaults may be dicts or lists: callers get their own


def _read_parameters(path) -> list[Parameter]:
    with open(path, encoding="utf-8") as fh:
        cells = json.load(fh).get("cells", [])
    cell = next((c for c in cells if "parameters" in (c.get("metadata") or {}).get("tags", [])), None)
    if cell is None:
        return []
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    lines = source.splitlines()
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            rest = lines[node.end_lineno - 1][node.end_col_offset:]
            comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
            m = _CHOICES.search(comment)
            choices = [c.strip() for c in m.group(1).split(",")] if m else None
            help_text = comment[: m.start()].strip() if m else comment
            default = ast.literal_eval(node.value) if node.value is not None else None
            out.append(Parameter(node.target.id, ast.unparse(node.annotation), default, help_text, choices))
    return out


_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def coerce(param: Parameter, value: Any) -> Any:
    """Coerce a value (from YAML or a ``-p key=value`` string) to the parameter's declared type."""
    typ = param.type.replace(" ", "")
    optional = typ.startswith("Optional[")
    base = typ[len("Optional["):-1] if optional else typ
    if value is None or (optional and isinstance(value, str) and value.strip().lower() in ("none", "null", "")):
        if optional:
            return None
        raise ParameterError(f"parameter '{param.name}' needs a {base}, got nothing")

    def fail(what):
        raise ParameterError(f"parameter '{param.name}' expects {what}, got {value!r}")

    if param.name in SOURCE_PARAMETERS:  # a plain source (text) or a source spec (mapping, or YAML text)
        if isinstance(value, str) and value.strip().startswith("{"):
            import yaml

            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                fail("a source: a path, URL::table, or a spec such as {path: file.csv, layout: qualtrics}")
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            return value
        fail("a source: a path, URL::table, or a spec such as {path: file.csv, layout: qualtrics}")

    if base == "bool":
        if isinstance(value, bool):
            out = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            out = value.strip().lower() in _TRUE
        else:
            fail("true or false")
    elif base == "int":
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            out = int(value)
        except (TypeError, ValueError):
            fail("an integer")
    elif base == "float":
        try:
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
        except (TypeError, ValueError):
            fail("a number")
    elif base in ("list", "dict"):
        if isinstance(value, str):
            import yaml

            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                fail(f"a {base} (YAML, e.g. {'[a, b]' if base == 'list' else '{a: 1}'})")
            if base == "list" and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list if base == "list" else dict):
            fail(f"a {base}")
        out = value
    elif base == "date":
        try:
            out = dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            fail("a date YYYY-MM-DD")
    elif base == "str":
        if isinstance(value, (dict, list)):
            fail("a text value")
        out = value.isoformat() if isinstance(value, dt.date) else str(value)
    else:
        out = value
    _check_bounds(param, out)
    if param.choices and out is not None:
        items = out if isinstance(out, list) else [out]
        bad = [v for v in items if str(v) not in param.choices]
        if bad:
            raise ParameterError(f"parameter '{param.name}' must be one of {', '.join(param.choices)}; "
                                 f"got {', '.join(map(str, bad))}")
    return out


_AT_LEAST = re.compile(r"\bAt least (-?\d+(?:\.\d+)?)", re.I)
_BETWEEN = re.compile(r"\bBetween (-?\d+(?:\.\d+)?) and (-?\d+(?:\.\d+)?)", re.I)
_DATE_HELP = re.compile(r"YYYY-MM-DD")


def _check_bounds(param: Parameter, value: Any) -> None:
    """Bounds a parameter's help declares ("At least 1.", "Between 0 and 1.", "YYYY-MM-DD"); whole-number
    parameters are never negative (sizes, counts, seeds)."""
    if value is None:
        return
    text = param.help or ""
    if _DATE_HELP.search(text) and isinstance(value, str):
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError(f"parameter '{param.name}' expects a date YYYY-MM-DD, got {value!r}") from None
    size = len(value) if isinstance(value, (list, dict)) else None
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    m = _AT_LEAST.search(text)
    lo = float(m.group(1)) if m else (0.0 if isinstance(number, int) else None)
    b = _BETWEEN.search(text)
    if size is not None and lo is not None and size < lo:
        raise ParameterError(f"parameter '{param.name}' needs at least {lo:g} item{'s' if lo != 1 else ''}, "
                             f"got {value!r}")
    if number is not None and lo is not None and number < lo:
        raise ParameterError(f"parameter '{param.name}' must be at least {lo:g}, got {value!r}")
    if number is not None and b and not float(b.group(1)) <= number <= float(b.group(2)):
        raise ParameterError(f"parameter '{param.name}' must be between {b.group(1)} and {b.group(2)}, "
                             f"got {value!r}")


def given_parameters(notebook, *, file_params: dict | None = None, overrides: dict | None = None) -> set[str]:
    """Names of ``notebook``'s parameters the user gave (``-p`` or a parameters file), not defaulted.

    A page needs this, not only the merged values: a default that names a sample column is skipped on a
    user's table, while the same name given by the user is an error when the column is missing.
    """
    declared = {p.name for p in notebook_parameters(notebook)}
    slug = Path(notebook).stem
    file_params = file_params or {}
    shared = {k for k, v in file_params.items() if not isinstance(v, dict) or k in declared}
    section = file_params.get(slug) if isinstance(file_params.get(slug), dict) and slug not in declared else {}
    return (shared | set(section or {}) | set(overrides or {})) & declared


def resolve_parameters(notebook, *, file_params: dict | None = None, overrides: dict | None = None) -> dict:
    """Defaults < ``file_params`` (YAML, shared or per-notebook) < ``overrides``, validated and coerced.

    ``file_params`` may hold values for every notebook and per-notebook sections keyed by the notebook
    name (``nps_drivers: {min_n: 50}``). Only names the notebook declares are taken from the shared part
    of the file; ``overrides`` (``-p``) must name a parameter of at least one notebook being run, which
    :func:`run_reports` checks across the notebooks.
    """
    declared = {p.name: p for p in notebook_parameters(notebook)}
    slug = Path(notebook).stem
    values = {name: p.default for name, p in declared.items()}
    file_params = file_params or {}
    shared = {k: v for k, v in file_params.items() if not isinstance(v, dict) or k in declared}
    section = file_params.get(slug) if isinstance(file_params.get(slug), dict) and slug not in declared else {}
    for source in (shared, section, overrides or {}):
        for key, value in source.items():
            if key in declared:
                values[key] = coerce(declared[key], value)
    for key in section:
        if key not in declared:
            raise ParameterError(f"unknown parameter '{key}' for {slug}; it has: {', '.join(declared)}")
    return values


# ------------------------------------------------------------------------------------------ HTML

_CSS = """
<style>
  body { max-width: 62rem; margin: 0 auto; padding: 0 1rem; font-size: 16px; line-height: 1.5; }
  .jp-Notebook { padding: 0 !important; }
  img { max-width: 100%; height: auto; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  .jp-RenderedHTMLCommon table { display: block; overflow-x: auto; max-width: 100%; font-size: 0.9em; }
  .cx-demo { background: #fff4d6; border: 1px solid #b38600; padding: 0.4rem 0.8rem; margin: 0.5rem 0; }
  .cx-footer { color: #555; font-size: 0.85em; border-top: 1px solid #ddd; margin-top: 2rem; padding: 0.5rem 0; }
  @media (max-width: 40rem) { body { font-size: 15px; padding: 0 0.5rem; } }
  @media print { body { max-width: none; } .jp-OutputArea-output img { page-break-inside: avoid; } }
</style>
"""


def notebook_title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "Report"


def _figure_alts(nb, title: str) -> list[str]:
    """Alt text for each PNG output, in order: the figure's title if the notebook set one, else the
    section heading it sits under."""
    alts, heading, k = [], title, 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                k += 1
                label = out.get("metadata", {}).get("cx_alt") or heading
                alts.append(f"Figure {k}: {label}")
    return alts


_SCRIPT = re.compile(r"<script\b.*?(?:</script\s*>|$)", re.I | re.S)
_HANDLER = re.compile(r"""(<[^>]*?)\s+on[a-z]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_JS_URL = re.compile(r"""((?:href|src|action|formaction|xlink:href)\s*=\s*["']?)\s*javascript:""", re.I)


def defuse_html(markup: str) -> str:
    """Second line of defence for notebook output HTML (the first is escaping by construction in
    cxlib.present): drop <script> elements, on* event-handler attributes and javascript: URLs.

    nbconvert's own ``sanitize_html`` would also drop the <style>, <thead> and <th> that Great Tables
    needs, so this narrower pass is used instead.
    """
    out = _SCRIPT.sub("", markup)
    while True:
        new = _HANDLER.sub(r"\1", out)
        if new == out:
            break
        out = new
    return _JS_URL.sub(r"\1#", out)


def render_html(ipynb_path, html_path, *, footer: str = "", demo: bool = False) -> None:
    """Executed notebook -> self-contained HTML: code hidden, stderr dropped, figures inline with alt
    text, no script fetched from the network, readable on a phone and printed."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(ipynb_path), as_version=4)
    # code cells without output would leave empty boxes (blank strips) on the page
    nb.cells = [c for c in nb.cells if c.cell_type != "code"
                or any(o.get("name") != "stderr" for o in c.get("outputs", []))]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("name") != "stderr"]
            for o in cell.outputs:
                data = o.get("data", {})
                for mime in ("text/html", "text/markdown"):
                    if mime in data:
                        raw = data[mime]
                        data[mime] = defuse_html("".join(raw) if isinstance(raw, list) else raw)
        elif cell.cell_type == "markdown":
            cell.source = defuse_html(cell.source)
    title = notebook_title(nb)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    # Self-contained: drop scripts loaded from the network (require.js, MathJax CDN).
    body = re.sub(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", "", body)
    body = re.sub(r"<script\b[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>", "", body,
                  flags=re.S)  # inline loaders that import from a CDN (mermaid)
    alts = iter(_figure_alts(nb, title))

    def alt(m):
        tag = re.sub(r'\salt="[^"]*"', "", m.group(0))
        text = next(alts, f"Figure: {title}")
        return tag.replace("<img", f'<img alt="{html.escape(text, quote=True)}"', 1)

    body = re.sub(r"<img\b[^>]*>", alt, body)
    body = body.replace("</head>", _CSS + "</head>", 1)
    if demo:
        body = re.sub(r"(<body[^>]*>)", r'\1<div class="cx-demo" role="note"><strong>Demo data.</strong> This page '
                      r"was made from the bundled sample data, not from your own sources.</div>", body, count=1)
    if footer:
        body = body.replace("</body>", f'<footer class="cx-footer">{footer}</footer></body>', 1)
    Path(html_path).write_text(body, encoding="utf-8")


# ------------------------------------------------------------------------------------------ running

#: Kernel housekeeping lines, not errors: the TCP notice at start-up and the interrupt nbclient sends
#: while shutting a finished kernel down.
_KERNEL_NOISE = ("without encryption", "KeyboardInterrupt caught in kernel")


class ReportsDirError(OSError):
    """The reports (or logs) folder cannot be written: names the path and the reason."""


class PreflightError(ValueError):
    """Bad input data or an unreadable source found before any notebook started (one line per problem)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def log_line(msg: str) -> None:
    """One log line on stderr as a single write() call, so parallel workers never merge lines."""
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    os.write(2, f"cx [{stamp}] {msg}\n".encode("utf-8", "replace"))


@contextlib.contextmanager
def _quiet_kernel_stderr():
    """Kernels inherit this process's stderr: capture it, so ipykernel's start-up notice ("running over
    TCP without encryption") does not end up in cron mail; anything else is passed on."""
    err_file = tempfile.TemporaryFile(mode="w+b")
    saved_fd = os.dup(2)
    sys.stderr.flush()
    os.dup2(err_file.fileno(), 2)
    try:
        yield saved_fd
    finally:
        sys.stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        err_file.seek(0)
        rest = [ln for ln in err_file.read().decode("utf-8", "replace").splitlines()
                if ln.strip() and not any(k in ln for k in _KERNEL_NOISE)]
        err_file.close()
        if rest:
            os.write(2, ("\n".join(rest) + "\n").encode("utf-8", "replace"))


def _worker_init() -> None:
    """Workers die with the run: SIGKILL when the parent dies (even by kill -9), default signals."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it kills us on Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    except OSError:  # pragma: no cover - not Linux: kernels still stop via ipykernel's parent poller
        pass


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s'\"/:]+)+/([^\s'\"/:]+)")


def people_message(error: str) -> str:
    """An error for the shared page: no machine paths (file names only), no credentials, one line."""
    from cxlib.data import redact_credentials

    text = redact_credentials(re.sub(r"\x1b\[[0-9;]*m", "", error or "")).strip()
    text = _PATH.sub(lambda m: m.group(1), text)
    return (text.splitlines()[0] if text else "unknown error")[:400]


def _error_text(exc: Exception) -> tuple[str, str]:
    """(one-line message, details for the log) of a notebook failure."""
    import traceback

    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        short = f"{evalue}" if ename == "CXDataError" else f"{ename}: {evalue}"
        details = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(getattr(exc, "traceback", []) or [])) or str(exc)
    else:
        lines = str(exc).strip().splitlines()
        short = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
        details = "".join(traceback.format_exception(exc))
    return short, details


def _page_footer(end_iso: str, notebook_name: str, demo: bool) -> str:
    stamp_text = dt.datetime.fromisoformat(end_iso).strftime("%Y-%m-%d %H:%M UTC")
    footer = f"Generated {stamp_text} by cx-workbook from {html.escape(notebook_name)}"
    return footer + (" &middot; Demo data (the bundled sample)" if demo else "")


def _execute(slug: str, notebook: str, output: str, parameters: dict, tables: str, cwd: str,
             progress: bool, secrets: dict, log_path: str, run_date: str, page: str | None = None,
             demo: bool = False, given: list | None = None) -> dict:
    """Worker (own process): execute one notebook with papermill into ``output`` (private folder) and,
    when it ran, render its page into ``page`` (pages are made in parallel, beside other kernels)."""
    import logging

    import papermill as pm

    from cxlib import kernels

    logging.getLogger("papermill").setLevel(logging.WARNING)
    os.environ.update(secrets)  # connection passwords reach the kernel by environment, never the notebook
    os.environ[RUN_DATE_ENV] = run_date  # analyses default their as_of to the report date
    from cxlib.pages import GIVEN_ENV

    os.environ[GIVEN_ENV] = json.dumps(sorted(given or []))  # the page tells given from defaulted values
    # logged here, in the worker, so the line appears when the notebook really starts (jobs are queued)
    log_line(f"{slug}: started")
    os.environ[TABLES_ENV] = tables
    os.environ.setdefault("MPLBACKEND", "Agg")
    start = time.time()
    status, error, details = "ok", None, ""
    try:
        quiet = contextlib.nullcontext() if progress else _quiet_kernel_stderr()  # tqdm writes to stderr
        with quiet, contextlib.redirect_stdout(io.StringIO()):
            pm.execute_notebook(notebook, output, parameters=parameters, kernel_name="python3", cwd=cwd,
                                progress_bar=progress, log_output=False, request_save_on_cell_execute=False,
                                kernel_manager_class=kernels.KernelManager)
    except Exception as exc:  # a failing notebook is reported, the run goes on
        status = "failed"
        error, details = _error_text(exc)
    end = time.time()
    if status == "ok" and page:
        try:
            render_html(output, page, footer=_page_footer(_iso(end), Path(notebook).name, demo), demo=demo)
        except Exception:  # the parent renders it again and reports a real problem there
            with contextlib.suppress(OSError):
                Path(page).unlink()
    with contextlib.suppress(OSError):
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(log_path).write_text(f"{slug}: {status} at {_iso(end)}\n{error or ''}\n\n{details}\n", encoding="utf-8")
    return {"notebook": slug, "status": status, "error": people_message(error) if error else None,
            "start": _iso(start), "end": _iso(end), "duration_s": round(end - start, 2),
            "parameters": _redacted(parameters), "headline": _headline(output) if status == "ok" else None,
            "key_figures": _key_figures(output) if status == "ok" else []}


def _redacted(value):
    from cxlib.data import redact_credentials

    if isinstance(value, str):
        return redact_credentials(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _headline(ipynb_path) -> str | None:
    """The notebook's plain-language answer for the index: the first output marked as an answer
    (``cx-answer``), else its first Markdown result's first emphasised line, as plain text."""
    import nbformat

    try:
        nb = nbformat.read(str(ipynb_path), as_version=4)
    except (OSError, ValueError):
        return None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            htm = data.get("text/html")
            if isinstance(htm, list):
                htm = "".join(htm)
            if htm and "cx-answer" in htm:
                block = htm[htm.index("cx-answer"):]
                # the lead sentence, unless it only introduces the list ("Week of 16 Nov 2026:")
                for m in re.finditer(r"<(p|li)\b[^>]*>(.*?)</\1>", block, re.S):
                    plain = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", m.group(2)))).strip()
                    if plain and not plain.endswith(":"):
                        return plain[:300]
            text = data.get("text/markdown")
            if text:
                lines = [ln for ln in text.splitlines() if ln.strip()]
                # the first emphasised statement, skipping lead-ins such as "Week of 16 Nov:"
                first = next((ln for ln in lines if "**" in ln and not ln.rstrip().endswith(":")),
                             lines[0] if lines else "")
                first = re.sub(r"^[-*]\s+", "", first)
                plain = re.sub(r"\\(.)", r"\1", re.sub(r"\*\*|`", "", first))  # drop emphasis, keep escaped chars
                plain = html.unescape(re.sub(r"<[^>]+>", "", plain))  # tags out first: escaped text stays text
                return plain.strip()[:300] or None
    return None


def _key_figures(ipynb_path) -> list[dict]:
    """The key-figure tiles of an executed notebook (``present.key_figures``): label, value, interval."""
    import nbformat

    try:
        nb = nbformat.read(str(ipynb_path), as_version=4)
    except (OSError, ValueError):
        return []
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            htm = o.get("data", {}).get("text/html")
            htm = "".join(htm) if isinstance(htm, list) else htm
            if not htm or "cx-tile" not in htm:
                continue
            for tile in re.findall(r'<div class="cx-tile"[^>]*>(.*?)</div>\s*(?=<div class="cx-tile"|</div>)', htm, re.S):
                part = {k: html.unescape(re.sub(r"<[^>]+>", "", v)).strip()
                        for k, v in re.findall(r'<div class="cx-tile-(label|value|interval)">(.*?)</div>', tile, re.S)}
                if part.get("label") and part.get("value"):
                    out.append(part)
    return out[:6]


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("cxlib", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "ibis-framework",
                "duckdb", "papermill", "nbconvert", "great-tables"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _git_commit() -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.PROJECT_ROOT, capture_output=True,
                           text=True, timeout=5)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _fingerprints(parameters: dict) -> dict:
    from cxlib import data as cxdata

    out = {}
    for key in SOURCE_PARAMETERS:
        value = parameters.get(key)
        if not value:
            continue
        shown = _redacted(value)
        try:
            out[key] = {"source": shown, **cxdata.fingerprint(value)}
        except Exception as exc:  # the notebook reports bad data itself; keep the manifest honest
            out[key] = {"source": shown, "error": people_message(str(exc))}
    return out


def effective_parameters(slug: str, parameters: dict, given=None) -> dict:
    """The values a page runs with: :func:`cxlib.pages.resolve` applied (demo tables beside a user's
    table left out, sample-column defaults skipped on a user's table); unchanged for other notebooks."""
    from cxlib import pages

    if slug not in pages.PAGES:
        return dict(parameters)
    return {**parameters, **pages.resolve(slug, parameters, given=set(given or ())).values}


def _is_demo(parameters: dict) -> bool:
    """True when every data source of the notebook is the bundled sample (pages then say 'Demo data')."""
    from cxlib import data as cxdata

    values = [parameters.get(k) for k in SOURCE_PARAMETERS if parameters.get(k)]
    return bool(values) and all(cxdata.is_sample(v) for v in values)


def find_notebooks(names=None, *, notebooks_dir=None) -> list[Path]:
    """Notebook paths by name (slug), or all of ``notebooks/*.ipynb``; unknown names raise ParameterError."""
    folder = Path(notebooks_dir or paths.NOTEBOOKS_DIR)
    available = {p.stem: p for p in sorted(folder.glob("*.ipynb"))}
    if not names:
        return list(available.values())
    missing = [n for n in names if Path(n).stem not in available]
    if missing:
        raise ParameterError(f"unknown notebook {', '.join(missing)}; available: "
                             f"{', '.join(available) or '(none)'}")
    return [available[Path(n).stem] for n in names]


# ------------------------------------------------------------------------------------------ pre-flight

#: Notebook parameter -> the validate() role it names, per source kind (a parameter named like a role
#: of the table maps that role; ``score`` is the responses' NPS column).
_ROLE_PARAMETERS = {
    "events": {"customer": "customer", "time": "time", "value": "value", "event": "event"},
    "subscriptions": {"customer": "customer", "start": "start", "end": "end", "mrr": "mrr"},
    "responses": {"score": "nps", "time": "time", "comment": "comment", "respondent": "respondent"},
    "tickets": {"ticket": "ticket", "channel": "channel"},
    "experiment": {"unit": "unit", "variant": "variant"},
    "mrr_history": {"customer": "customer"},
}


def _validate_arguments(kind: str, params: dict) -> dict:
    """The keyword arguments of :func:`cxlib.data.validate` that a notebook's parameters imply.

    ``time`` names one table's time column: that of the first data source the notebook declares among
    those with a time role (the cohort page's ``time`` is the events', not the responses').
    """
    kw = {}
    timed = [k for k in params if k in _ROLE_PARAMETERS and "time" in _ROLE_PARAMETERS[k]]
    for param, role in _ROLE_PARAMETERS[kind].items():
        if param == "time" and timed and timed[0] != kind:
            continue
        value = params.get(param)
        if isinstance(value, str) and value:
            kw[role] = value
    if kind == "events" and "customer" in kw and "time" not in kw and "time" in params:
        pass
    if kind == "responses" and "drivers" in params:
        kw["drivers"] = params["drivers"] or None
    if kind == "responses" and "drivers" not in params:
        kw["drivers"] = None
    if kind == "experiment":
        metric_cols = list((params.get("metrics") or {}).keys())
        for num, den in (params.get("ratios") or {}).items():
            metric_cols += [num, den]
        metric_cols += [c for c in (params.get("covariates") or {}).values() if isinstance(c, str)]
        kw["metrics"] = list(dict.fromkeys(metric_cols))
    return kw


@contextlib.contextmanager
def report_date(day) -> Any:
    """The report date as the analyses' default analysis date (:data:`RUN_DATE_ENV`) inside the block,
    as in each notebook of the run (pre-flight judges a reporting week against the same date)."""
    old = os.environ.get(RUN_DATE_ENV)
    if day is not None:
        os.environ[RUN_DATE_ENV] = str(day)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(RUN_DATE_ENV, None)
        else:
            os.environ[RUN_DATE_ENV] = old


def preflight(resolved: dict[str, dict], given: dict[str, set] | None = None) -> list[str]:
    """Resolve and validate every data source of every notebook about to run; one line per problem.

    Each page's inputs are resolved first (:func:`effective_parameters`, with the names in ``given``
    counted as the user's): a demo table left out is not checked, a skipped sample default is not asked
    for, and a given parameter naming a missing column (or a reporting week not yet over) is a problem.

    Each source goes through :func:`cxlib.data.validate` (the checks ``cx validate`` and the notebooks
    make) with the column roles the notebook's parameters name; a source used by several notebooks with
    the same roles is checked once.
    """
    from cxlib import data as cxdata

    problems, seen = [], {}
    for slug, params in resolved.items():
        try:
            params = effective_parameters(slug, params, (given or {}).get(slug))
        except (cxdata.CXDataError, ValueError, TypeError) as exc:
            line = people_message(str(exc)) if "/" in str(exc) else str(exc)
            problems.append(line if line.startswith(f"{slug}: ") else f"{slug}: {line}")  # pages name the page
            continue
        for kind in SOURCE_PARAMETERS:
            if kind not in params:
                continue
            value = params[kind]
            if value is None or value == "":
                continue
            kw = _validate_arguments(kind, params)
            key = json.dumps([kind, value, kw], sort_keys=True, default=str)
            if key not in seen:
                try:
                    cxdata.validate(value, kind=kind, **kw)
                    seen[key] = None
                except (cxdata.CXDataError, ValueError, TypeError) as exc:
                    lines = getattr(exc, "problems", None) or [str(exc)]
                    seen[key] = [people_message(ln) if "/" in ln else cxdata.redact_credentials(ln)
                                 for ln in lines]
                except Exception as exc:  # an unreadable URL, a driver error: still one line, no traceback
                    seen[key] = [f"could not read the source: {people_message(str(exc))}"]
            for line in seen[key] or []:
                problems.append(f"{slug}: parameter '{kind}': {line}")
    return problems


def _protect_secrets(resolved: dict[str, dict]) -> dict[str, str]:
    """Move passwords out of connection URLs: the notebook gets ``${CX_SECRET_n}`` (expanded by
    cxlib.data at connect time) and the worker's environment holds the value."""
    secrets: dict[str, str] = {}
    pattern = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):([^@\s]+)@")

    def fix(value):
        if isinstance(value, str):
            m = pattern.match(value)
            if m and not m.group(2).startswith("${"):
                from urllib.parse import unquote

                password = unquote(m.group(2))  # _expand_secrets quotes it again at connect time
                name = next((k for k, v in secrets.items() if v == password), None)
                if name is None:
                    name = f"CX_SECRET_{len(secrets) + 1}"
                    secrets[name] = password
                return f"{m.group(1)}:${{{name}}}@" + value[m.end():]
            return value
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    for slug, params in resolved.items():
        resolved[slug] = {k: fix(v) for k, v in params.items()}
    return secrets


# ------------------------------------------------------------------------------------------ the run

@dataclass
class RunResult:
    """Outcome of :func:`run_reports`: the dated folder, the index and one record per notebook."""

    folder: Path
    index: Path
    notebooks: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [n for n in self.notebooks if n["status"] != "ok"]


def default_logs_dir(reports_dir=None) -> Path:
    """Private folder for logs and executed notebooks (never shared): ``logs/`` beside the default
    reports folder, else ``<reports>-logs`` beside a custom one."""
    reports = Path(reports_dir or paths.REPORTS_DIR)
    if reports.resolve() == paths.REPORTS_DIR.resolve():
        return paths.PROJECT_ROOT / "logs"
    return reports.parent / f"{reports.name}-logs"


def _fs_error(path, exc: OSError) -> ReportsDirError:
    reason = exc.strerror or type(exc).__name__
    if isinstance(exc, FileExistsError) or (isinstance(exc, NotADirectoryError)):
        reason = f"{reason} (a file is where a folder should be)"
    return ReportsDirError(f"cannot write {path}: {reason}")


def run_reports(names=None, *, date: str | dt.date | None = None, file_params: dict | None = None,
                overrides: dict | None = None, reports_dir=None, notebooks_dir=None, jobs: int = 2,
                log=None, progress: bool = False, logs_dir=None) -> RunResult:
    """Execute notebooks into ``reports_dir/DATE/`` and rebuild the index, never losing a good page.

    Order: parameters (:class:`ParameterError`), pre-flight of every data source
    (:class:`PreflightError`), lock (:class:`LockedError`), then the run. Each run builds a new version
    folder ``reports/.runs/DATE.<stamp>`` (a copy of the date's current pages plus the new ones) and
    switches the ``reports/DATE`` link to it with one atomic rename: there is no moment without a
    complete folder. A failed notebook keeps its last good page; the attempt is recorded in the
    manifest and index with its own error page. Filesystem problems raise :class:`ReportsDirError`.
    """
    from filelock import FileLock, Timeout

    log = log or (lambda msg: None)
    day = dt.date.fromisoformat(str(date)) if date else dt.date.today()
    reports = Path(reports_dir or paths.REPORTS_DIR)
    logs = Path(logs_dir) if logs_dir else default_logs_dir(reports)
    nb_dir = Path(notebooks_dir or paths.NOTEBOOKS_DIR)
    notebooks = find_notebooks(names, notebooks_dir=nb_dir)
    overrides = dict(overrides or {})
    declared_any = {p.name for nb in notebooks for p in notebook_parameters(nb)}
    unknown = sorted(set(overrides) - declared_any)
    if unknown:
        raise ParameterError(f"unknown parameter {', '.join(repr(u) for u in unknown)}; the notebooks run "
                             f"declare: {', '.join(sorted(declared_any)) or '(none)'}")
    if file_params:
        every = find_notebooks(notebooks_dir=nb_dir)
        known = {p.name for nb in every for p in notebook_parameters(nb)} | {nb.stem for nb in every}
        stray = sorted(k for k in file_params if k not in known)
        if stray:
            raise ParameterError(f"parameters file: unknown name {', '.join(repr(s) for s in stray)}; neither a "
                                 f"parameter nor a notebook (notebooks: {', '.join(nb.stem for nb in every)})")
    resolved = {nb.stem: resolve_parameters(nb, file_params=file_params, overrides=overrides) for nb in notebooks}
    given = {nb.stem: given_parameters(nb, file_params=file_params, overrides=overrides) for nb in notebooks}
    from cxlib import kernels

    # one process imports the notebooks' libraries while the data is pre-flighted, then forks the kernels
    parent = kernels.start()
    try:
        _preload_workers()
        with report_date(day.isoformat()):
            problems = preflight(resolved, given)
            if problems:
                raise PreflightError(problems)
            # what each page really reads (demo tables beside a user's table are left out), before the
            # passwords move out of the URLs
            used = {slug: effective_parameters(slug, params, given.get(slug)) for slug, params in resolved.items()}
        secrets = _protect_secrets(resolved)

        try:
            reports.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(reports / ".cx.lock"))
            lock.acquire(timeout=0)
        except Timeout:
            raise LockedError(f"another `cx run` is writing to {reports} (lock {reports / '.cx.lock'}); "
                              "try again when it has finished") from None
        except OSError as exc:
            raise _fs_error(reports, exc) from None
        try:
            _clean_stale(reports)
            return _run_locked(notebooks, resolved, secrets, day, reports, logs, nb_dir, jobs, log, progress,
                               given, used)
        finally:
            lock.release()
    finally:
        kernels.stop(parent)


def _expected_work(nb: Path) -> int:
    try:
        return nb.stat().st_size
    except OSError:
        return 0


def _preload_workers() -> None:
    """Import what every worker needs (papermill, nbconvert) once here: the workers are forked from this
    process, so they share it instead of importing it each (about 1.9 s of CPU per worker)."""
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401
    from nbconvert import HTMLExporter  # noqa: F401

    from cxlib import kernels  # noqa: F401 - imports jupyter_client's kernel manager


def _run_locked(notebooks, resolved, secrets, day, reports, logs, nb_dir, jobs, log, progress,
                given=None, used=None) -> RunResult:
    final = reports / day.isoformat()
    runs = reports / ".runs"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    version = runs / f"{day.isoformat()}.{stamp}-{uuid.uuid4().hex[:6]}"
    private = logs / day.isoformat()
    try:
        runs.mkdir(parents=True, exist_ok=True)
        private.mkdir(parents=True, exist_ok=True)
        if final.exists():
            shutil.copytree(final, version, symlinks=False)
            shutil.rmtree(version / ".staging", ignore_errors=True)
        else:
            version.mkdir()
        staging = version / ".staging"
        staging.mkdir()
    except OSError as exc:
        shutil.rmtree(version, ignore_errors=True)
        raise _fs_error(getattr(exc, "filename", None) or reports, exc) from None
    _ACTIVE_RUN["version"] = version
    old_manifest = _read_manifest(final)
    records = []
    try:
        workers = max(1, min(jobs, len(notebooks) or 1))
        # the notebooks running side by side share the cores: each kernel's engine gets its part (on small
        # tables a second engine thread per kernel only adds coordination between busy cores)
        from cxlib.data import ENGINE_THREADS_ENV

        os.environ.setdefault(ENGINE_THREADS_ENV, str(max(1, (os.cpu_count() or 1) // workers)))
        with ProcessPoolExecutor(max_workers=workers,
                                 initializer=_worker_init) as pool:
            futures, paths = {}, {nb.stem: nb for nb in notebooks}
            # longest first (a notebook's size, outputs included, stands in for its run time), so the last
            # notebook to start is a short one and the two workers finish close together
            given = given or {}
            used = used or resolved
            for nb in sorted(notebooks, key=_expected_work, reverse=True):
                slug = nb.stem
                futures[slug] = pool.submit(
                    _execute, slug, str(nb), str(private / f"{slug}-{stamp}.ipynb"), resolved[slug],
                    str(staging / "tables" / slug), str(nb_dir), progress, secrets,
                    str(private / f"{slug}-{stamp}.log"), day.isoformat(),
                    str(staging / f"{slug}.html"), _is_demo(used[slug]), sorted(given.get(slug, ())))
            for slug in paths:  # reported in the notebooks' own order
                rec = futures[slug].result()
                rec["inputs"] = _fingerprints(used[slug])
                rec["demo"] = _is_demo(used[slug])
                rec["given"] = sorted(given.get(slug, ()))
                rec["log"] = str(Path(os.path.relpath(private / f"{slug}-{stamp}.log", reports)))
                _place(rec, version, staging, private / f"{slug}-{stamp}.ipynb", old_manifest.get(slug),
                       paths[slug], day)
                records.append(rec)
                log(f"{slug}: {rec['status']} ({rec['duration_s']:.1f} s)"
                    + (f" - {rec['error']}" if rec["error"] else ""))
        shutil.rmtree(staging, ignore_errors=True)
        manifest = _merge_manifest(old_manifest, records, day)
        (version / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        _point(final, version)
    except OSError as exc:
        shutil.rmtree(version, ignore_errors=True)
        raise _fs_error(getattr(exc, "filename", None) or reports, exc) from None
    finally:
        _ACTIVE_RUN.pop("version", None)
    _clean_versions(reports, final)
    index = write_index(reports)
    return RunResult(folder=final, index=index, notebooks=records)


#: The version folder being built, for the signal handler (cleaned when a run is stopped).
_ACTIVE_RUN: dict = {}


def _place(rec: dict, version: Path, staging: Path, ipynb: Path, previous: dict | None, nb: Path,
           day: dt.date) -> None:
    """Move one notebook's new page and tables into the version folder, or keep its last good page."""
    slug = rec["notebook"]
    end = dt.datetime.fromisoformat(rec["end"])
    stamp_text = end.strftime("%Y-%m-%d %H:%M UTC")
    if rec["status"] == "ok":
        page = staging / f"{slug}.html"
        if not page.exists():  # normally rendered by the worker that ran it
            render_html(ipynb, page, footer=_page_footer(rec["end"], nb.name, rec.get("demo", False)),
                        demo=rec.get("demo", False))
        page.replace(version / f"{slug}.html")
        new_tables = staging / "tables" / slug
        if (version / "tables" / slug).exists():
            shutil.rmtree(version / "tables" / slug)
        if new_tables.exists():
            (version / "tables").mkdir(exist_ok=True)
            new_tables.rename(version / "tables" / slug)
        return
    # failed: its own error page; the shared page stays the last good one when there is one
    (version / "failed").mkdir(exist_ok=True)
    error_page = f"failed/{slug}-{end:%H%M%S}.html"
    title = _notebook_title_of(nb)
    write_failure_page(version / error_page, title=title, slug=slug, message=rec["error"] or "",
                       when=stamp_text, log=rec["log"])
    attempt = {"time": rec["end"], "status": "failed", "message": rec["error"], "page": error_page,
               "log": rec["log"]}
    good = previous if previous and previous.get("status") == "ok" and (version / f"{slug}.html").exists() else None
    if good:
        keep = {k: v for k, v in good.items() if k not in ("attempts",)}
        keep["attempts"] = (good.get("attempts") or []) + [attempt]
        keep["last_attempt"] = attempt
        rec.clear()
        rec.update(keep)
        rec["status_of_last_attempt"] = "failed"
        rec["run_failed"] = True
    else:
        (version / error_page).replace(version / f"{slug}.html") if False else shutil.copy2(
            version / error_page, version / f"{slug}.html")
        rec["attempts"] = [attempt]
        rec["last_attempt"] = attempt
        rec["run_failed"] = True


def _notebook_title_of(nb: Path) -> str:
    import nbformat

    try:
        return notebook_title(nbformat.read(str(nb), as_version=4))
    except (OSError, ValueError):
        return nb.stem


def write_failure_page(path: Path, *, title: str, slug: str, message: str, when: str, log: str) -> None:
    """A short page for people: what failed, what to do, where the details are (no traceback)."""
    e = html.escape
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}: not updated</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem;
line-height: 1.5; }} .msg {{ background: #fff4e5; border-left: 4px solid #b35900; padding: 0.5rem 1rem; }}</style>
</head><body>
<h1>{e(title)}</h1>
<p><strong>This report could not be produced</strong> in the run of {e(when)}.</p>
<p class="msg">{e(message)}</p>
<p>What to do: fix the input or parameter named above, then run <code>cx run {e(slug)}</code> again.
The technical details are in the run log <code>{e(log)}</code> on the machine that ran the report.</p>
</body></html>
"""
    path.write_text(body, encoding="utf-8")


def _read_manifest(folder: Path) -> dict:
    try:
        return {n["notebook"]: n for n in json.loads((folder / "manifest.json").read_text())["notebooks"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _merge_manifest(old: dict, records: list[dict], day: dt.date) -> dict:
    merged = dict(old)
    for rec in records:
        merged[rec["notebook"]] = rec
    return {"date": day.isoformat(), "generated": _iso(time.time()), "git_commit": _git_commit(),
            "versions": _versions(), "notebooks": sorted(merged.values(), key=lambda r: r["notebook"])}


def _point(final: Path, version: Path) -> None:
    """Make ``final`` (reports/DATE) point at ``version`` with one atomic rename of a symlink."""
    link = final.with_name(f".link-{final.name}-{uuid.uuid4().hex[:6]}")
    link.symlink_to(os.path.relpath(version, final.parent), target_is_directory=True)
    if final.exists() and not final.is_symlink():  # a folder from an older cx: keep it as a version
        final.rename(version.parent / f"{final.name}.legacy-{uuid.uuid4().hex[:6]}")
    os.replace(link, final)


def _clean_versions(reports: Path, final: Path) -> None:
    """Remove this date's older version folders (the link now points at the new one)."""
    current = final.resolve()
    for old in (reports / ".runs").glob(f"{final.name}.*"):
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


def _clean_stale(reports: Path) -> None:
    """Leftovers of killed runs (called under the lock): temporary links and unreferenced versions."""
    for item in list(reports.glob(".tmp-*")) + list(reports.glob(".old-*")) + list(reports.glob(".link-*")):
        if item.is_symlink() or item.is_file():
            item.unlink(missing_ok=True)
        else:
            shutil.rmtree(item, ignore_errors=True)
    runs = reports / ".runs"
    if runs.is_dir():
        live = {p.resolve() for p in reports.iterdir() if p.is_symlink()}
        for v in runs.iterdir():
            if v.resolve() not in live:
                shutil.rmtree(v, ignore_errors=True)


def stop_run(signum: int) -> None:
    """Signal handler body: kill every worker and kernel of this run, remove the half-built version."""
    try:
        import psutil

        me = psutil.Process()
        kids = me.children(recursive=True)
        for k in kids:
            with contextlib.suppress(psutil.Error):
                k.kill()
        psutil.wait_procs(kids, timeout=5)
    except ImportError:  # pragma: no cover
        pass
    version = _ACTIVE_RUN.get("version")
    if version is not None:
        shutil.rmtree(version, ignore_errors=True)
    from cxlib import kernels

    kernels.remove_folder(os.environ.get(kernels.ENV))  # the kernel parent's and kernels' sockets


# ------------------------------------------------------------------------------------------ index

def _manifests(reports: Path) -> list[tuple[Path, dict]]:
    """(path, content) of every dated run's manifest that can be read, newest first."""
    out = []
    for manifest in sorted(reports.glob("*/manifest.json"), reverse=True):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", manifest.parent.name):
            continue
        try:
            out.append((manifest, json.loads(manifest.read_text())))
        except (ValueError, OSError):
            continue
    return out


def write_index(reports_dir=None) -> Path:
    """Rebuild ``reports/index.html``: every dated run, newest first, each notebook with status and link."""
    reports = Path(reports_dir or paths.REPORTS_DIR)
    reports.mkdir(parents=True, exist_ok=True)
    rows = []
    for manifest, m in _manifests(reports):
        items = []
        folder = manifest.parent.name
        for n in m.get("notebooks", []):
            slug = html.escape(n["notebook"])
            ok = n.get("status") == "ok"
            badge = '<span class="ok">ok</span>' if ok else '<span class="failed">failed</span>'
            demo = ' <span class="demo">Demo data</span>' if n.get("demo") else ""
            title = html.escape(_page_title(manifest.parent / f"{n['notebook']}.html") or n["notebook"])
            link = f'<a href="{folder}/{slug}.html">{title}</a>'
            head = f"<br><span class=\"head\">{html.escape(n['headline'])}</span>" if ok and n.get("headline") else ""
            attempt = n.get("last_attempt")
            note = ""
            if attempt and attempt.get("status") == "failed":
                when = html.escape(str(attempt.get("time", ""))[11:16])
                what = "a later attempt" if ok else "the run"
                note = (f'<br><span class="attempt">{what} at {when} UTC failed: '
                        f'{html.escape(attempt.get("message") or "")} '
                        f'(<a href="{folder}/{html.escape(attempt.get("page", ""))}">error page</a>, '
                        f'<a href="{html.escape(attempt.get("log", ""))}">log</a>)</span>')
            items.append(f"<li>{link} {badge}{demo} <small>{n.get('duration_s', 0):.0f} s</small>{head}{note}</li>")
        rows.append(f"<section><h2>{html.escape(manifest.parent.name)}</h2><ul>{''.join(items)}</ul>"
                    f"<p><small>tables and manifest: <a href=\"{manifest.parent.name}/manifest.json\">"
                    f"manifest.json</a></small></p></section>")
    body = _trends(reports) + ("".join(rows) or "<p>No reports yet. Run <code>make report</code> or "
                               "<code>cx run</code>.</p>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>CX reports</title>
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }}
 h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.2rem; border-bottom: 1px solid #ddd; }}
 ul {{ list-style: none; padding: 0; }} li {{ margin: 0.6rem 0; }}
 .head {{ color: #444; font-size: 0.9em; }}
 .ok, .failed {{ font-size: 0.8em; padding: 0 0.4em; border-radius: 0.3em; color: white; }}
 .ok {{ background: #1b7e5f; }} .failed {{ background: #b03a00; }}
 .demo {{ font-size: 0.8em; padding: 0 0.4em; border: 1px solid #555; border-radius: 0.3em; }}
 .attempt {{ color: #8a3b00; font-size: 0.9em; }}
 .trends table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
 .trends td, .trends th {{ padding: 0.2rem 0.4rem; text-align: left; border-bottom: 1px solid #eee; }}
 .trends .num {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
 .trends tr.page th {{ padding-top: 0.6rem; border-bottom: 1px solid #ccc; }}
 @media (max-width: 30rem) {{ .trends .runs {{ display: none; }} }}
</style></head>
<body><h1>CX reports</h1>
<p>Each dated run of the workbook, newest first. Every page states its question, answer, method and caveats.</p>
{body}
</body></html>
"""
    out = reports / "index.html"
    tmp = out.with_name(f".index-{uuid.uuid4().hex[:8]}.html")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


def _number(value: str) -> float | None:
    m = re.search(r"([+\-\u2212]?)(\d[\d,]*(?:\.\d+)?)", value or "")
    if not m:
        return None
    return float(m.group(2).replace(",", "")) * (-1 if m.group(1) in ("-", "\u2212") else 1)


def _sparkline(values: list[float | None]) -> str:
    """A tiny inline SVG line of the values (oldest left), with the last point marked."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return ""
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = (hi - lo) or 1.0
    w, h, n = 96, 24, max(len(values) - 1, 1)
    xy = [(2 + i * (w - 4) / n, h - 3 - (v - lo) / span * (h - 6)) for i, v in pts]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    x, y = xy[-1]
    return (f'<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" aria-hidden="true">'
            f'<polyline fill="none" stroke="#0072B2" stroke-width="1.5" points="{line}"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#0072B2"/></svg>')


def _trends(reports: Path, weeks: int = 8) -> str:
    """The headline key figures of the last ``weeks`` dated runs, per notebook: values and a sparkline."""
    series: dict[tuple[str, str], dict[str, str]] = {}
    dates = []
    for manifest, m in _manifests(reports)[:weeks]:
        dates.append(manifest.parent.name)
        for n in m.get("notebooks", []):
            for f in (n.get("key_figures") or [])[:3]:
                series.setdefault((n["notebook"], f["label"]), {})[manifest.parent.name] = f["value"]
    dates = sorted(dates)
    if not series or len(dates) < 2:  # a trend needs at least two runs
        return ""
    rows, current = [], None
    for (slug, label), vals in sorted(series.items(), key=lambda kv: kv[0][0]):
        if slug != current:
            current = slug
            title = _page_title(reports / dates[-1] / f"{slug}.html") or slug
            rows.append(f'<tr class="page"><th colspan="4">{html.escape(title)}</th></tr>')
        shown = [vals.get(d) for d in dates]
        latest = next((v for v in reversed(shown) if v), "")
        spark = _sparkline([_number(v) if v else None for v in shown])
        rows.append(f"<tr><td>{html.escape(label)}</td><td class=\"num\">{html.escape(latest)}</td>"
                    f"<td>{spark}</td><td class=\"runs\">{sum(1 for v in shown if v)} of {len(dates)}</td></tr>")
    return ("<section class=\"trends\"><h2>Headline figures over the last runs</h2><table><thead><tr>"
            "<th>Figure</th><th>Latest</th><th>Trend</th><th class=\"runs\">Runs</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></section>")


def _page_title(path: Path) -> str | None:
    if not path.exists():
        return None
    m = re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8", errors="replace")[:20000], re.S)
    return html.unescape(m.group(1).strip()) if m else None


# ------------------------------------------------------------------------------------------ in place

def execute_in_place(names=None, *, notebooks_dir=None, timeout: int = 900, log=None) -> list[str]:
    """Re-execute notebooks in place (outputs on the sample data), for committing; returns failures."""
    import nbformat
    from nbclient import NotebookClient

    log = log or (lambda msg: None)
    failed = []
    nb_dir = Path(notebooks_dir or paths.NOTEBOOKS_DIR)
    for path in find_notebooks(names, notebooks_dir=nb_dir):
        nb = nbformat.read(str(path), as_version=4)
        client = NotebookClient(nb, kernel_name="python3", timeout=timeout,
                                resources={"metadata": {"path": str(nb_dir)}})
        t0 = time.time()
        try:
            with _quiet_kernel_stderr():
                client.execute()
        except Exception as exc:
            failed.append(path.stem)
            log(f"{path.stem}: failed - {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc}")
            continue
        nbformat.write(nb, str(path))
        log(f"{path.stem}: ok ({time.time() - t0:.1f} s)")
    return failed
