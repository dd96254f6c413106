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


def notebook_parameters(path) -> list[Parameter]:
    """Parameters declared in the cell tagged ``parameters`` of a notebook (type, default, help, choices)."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return []
    source = cell.source
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
    if param.choices and out is not None:
        items = out if isinstance(out, list) else [out]
        bad = [v for v in items if str(v) not in param.choices]
        if bad:
            raise ParameterError(f"parameter '{param.name}' must be one of {', '.join(param.choices)}; "
                                 f"got {', '.join(map(str, bad))}")
    return out


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


def render_html(ipynb_path, html_path, *, footer: str = "") -> None:
    """Executed notebook -> self-contained HTML: code hidden, stderr dropped, figures inline with alt
    text, no script fetched from the network, readable on a phone and printed."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(ipynb_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("name") != "stderr"]
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
    if footer:
        body = body.replace("</body>", f'<footer class="cx-footer">{footer}</footer></body>', 1)
    Path(html_path).write_text(body, encoding="utf-8")


# ------------------------------------------------------------------------------------------ running

#: Kernel housekeeping lines, not errors: the TCP notice at start-up and the interrupt nbclient sends
#: while shutting a finished kernel down.
_KERNEL_NOISE = ("without encryption", "KeyboardInterrupt caught in kernel")


@contextlib.contextmanager
def _quiet_kernel_stderr():
    """Kernels inherit this process's stderr: capture it, so ipykernel's start-up notice ("running over
    TCP without encryption") does not end up in cron mail; anything else is passed on."""
    err_file = tempfile.TemporaryFile(mode="w+b")
    saved_fd = os.dup(2)
    sys.stderr.flush()
    os.dup2(err_file.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        err_file.seek(0)
        rest = [ln for ln in err_file.read().decode("utf-8", "replace").splitlines()
                if ln.strip() and not any(k in ln for k in _KERNEL_NOISE)]
        err_file.close()
        if rest:
            print("\n".join(rest), file=sys.stderr)


def _execute(slug: str, notebook: str, output: str, parameters: dict, tables: str, cwd: str,
             progress: bool) -> dict:
    """Worker (own process): execute one notebook with papermill, then render its HTML."""
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.WARNING)
    # logged here, in the worker, so the line appears when the notebook really starts (jobs are queued)
    print(f"cx [{dt.datetime.now():%H:%M:%S}] {slug}: started", file=sys.stderr, flush=True)
    os.environ[TABLES_ENV] = tables
    os.environ.setdefault("MPLBACKEND", "Agg")
    start = time.time()
    status, error = "ok", None
    try:
        quiet = contextlib.nullcontext() if progress else _quiet_kernel_stderr()  # tqdm writes to stderr
        with quiet, contextlib.redirect_stdout(io.StringIO()):
            pm.execute_notebook(notebook, output, parameters=parameters, kernel_name="python3", cwd=cwd,
                                progress_bar=progress, log_output=False, request_save_on_cell_execute=False)
    except Exception as exc:  # a failing notebook is reported, the run goes on
        status = "failed"
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        error = re.sub(r"\x1b\[[0-9;]*m", "", error)[:500]
    end = time.time()
    html_path = str(Path(output).with_suffix(".html"))
    if Path(output).exists():
        stamp = dt.datetime.fromtimestamp(end, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        footer = f"Generated {stamp} by cx-workbook from {html.escape(Path(notebook).name)}"
        if status != "ok":
            footer += f" &middot; <strong>this run failed</strong>: {html.escape(error or '')}"
        try:
            render_html(output, html_path, footer=footer)
        except Exception as exc:  # pragma: no cover - rendering problems are reported, not fatal
            status, error = "failed", f"HTML export: {exc}"
    return {"notebook": slug, "status": status, "error": error, "start": _iso(start), "end": _iso(end),
            "duration_s": round(end - start, 2), "parameters": parameters, "headline": _headline(output)}


def _headline(ipynb_path) -> str | None:
    """The first line of the notebook's first Markdown result (its plain-language answer), as plain text,
    for the index page."""
    import nbformat

    try:
        nb = nbformat.read(str(ipynb_path), as_version=4)
    except (OSError, ValueError):
        return None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown")
            if text:
                lines = [ln for ln in text.splitlines() if ln.strip()]
                # the first emphasised statement, skipping lead-ins such as "Week of 16 Nov:"
                first = next((ln for ln in lines if "**" in ln and not ln.rstrip().endswith(":")),
                             lines[0] if lines else "")
                first = re.sub(r"^[-*]\s+", "", first)
                plain = re.sub(r"\\(.)", r"\1", re.sub(r"\*\*|`", "", first))  # drop emphasis, keep escaped chars
                return html.unescape(plain).strip()[:300] or None
    return None


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("cxlib", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "ibis-framework",
                "duckdb", "papermill", "nbconvert"):
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
        if isinstance(value, str) and value:
            try:
                out[key] = {"source": value, **cxdata.fingerprint(value)}
            except Exception as exc:  # the notebook reports bad data itself; keep the manifest honest
                out[key] = {"source": value, "error": str(exc).splitlines()[0]}
    return out


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


@dataclass
class RunResult:
    """Outcome of :func:`run_reports`: the dated folder, the index and one record per notebook."""

    folder: Path
    index: Path
    notebooks: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [n for n in self.notebooks if n["status"] != "ok"]


def run_reports(names=None, *, date: str | dt.date | None = None, file_params: dict | None = None,
                overrides: dict | None = None, reports_dir=None, notebooks_dir=None, jobs: int = 2,
                log=None, progress: bool = False) -> RunResult:
    """Execute notebooks into ``reports_dir/DATE/`` atomically and rebuild the index.

    Raises :class:`ParameterError` (nothing written) for unknown notebooks or parameters and bad values,
    :class:`LockedError` when another run holds the reports folder.
    """
    from filelock import FileLock, Timeout

    log = log or (lambda msg: None)
    day = dt.date.fromisoformat(str(date)) if date else dt.date.today()
    reports = Path(reports_dir or paths.REPORTS_DIR)
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

    reports.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(reports / ".cx.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockedError(f"another `cx run` is writing to {reports} (lock {reports / '.cx.lock'}); "
                          "try again when it has finished") from None
    try:
        final = reports / day.isoformat()
        tmp = reports / f".tmp-{day.isoformat()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            records = []
            with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(notebooks) or 1))) as pool:
                futures = {}
                for nb in notebooks:
                    futures[nb.stem] = pool.submit(
                        _execute, nb.stem, str(nb), str(tmp / f"{nb.stem}.ipynb"), resolved[nb.stem],
                        str(tmp / "tables" / nb.stem), str(nb_dir), progress)
                for slug, fut in futures.items():
                    rec = fut.result()
                    rec["inputs"] = _fingerprints(rec["parameters"])
                    records.append(rec)
                    log(f"{slug}: {rec['status']} ({rec['duration_s']:.1f} s)"
                        + (f" - {rec['error']}" if rec["error"] else ""))
            _carry_forward(final, tmp, {r["notebook"] for r in records})
            manifest = _merge_manifest(final, records, day)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
            _swap(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        index = write_index(reports)
    finally:
        lock.release()
    return RunResult(folder=final, index=index, notebooks=records)


def _carry_forward(final: Path, tmp: Path, rerun: set[str]) -> None:
    """Keep the pages of notebooks not re-run in this date's folder (re-run ones are replaced whole)."""
    if not final.exists():
        return
    for item in final.iterdir():
        if item.name == "manifest.json" or item.name == "tables":
            continue
        if item.stem not in rerun:
            shutil.copy2(item, tmp / item.name)
    if (final / "tables").exists():
        for item in (final / "tables").iterdir():
            if item.name not in rerun:
                shutil.copytree(item, tmp / "tables" / item.name)


def _merge_manifest(final: Path, records: list[dict], day: dt.date) -> dict:
    old = {}
    if (final / "manifest.json").exists():
        with contextlib.suppress(ValueError, OSError):
            old = {n["notebook"]: n for n in json.loads((final / "manifest.json").read_text())["notebooks"]}
    for rec in records:
        old[rec["notebook"]] = rec
    return {"date": day.isoformat(), "generated": _iso(time.time()), "git_commit": _git_commit(),
            "versions": _versions(), "notebooks": sorted(old.values(), key=lambda r: r["notebook"])}


def _swap(tmp: Path, final: Path) -> None:
    """Move the complete new folder into place; the old one is removed only afterwards."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    try:
        tmp.rename(final)
    except OSError:
        if old is not None:
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------------------ index

def write_index(reports_dir=None) -> Path:
    """Rebuild ``reports/index.html``: every dated run, newest first, each notebook with status and link."""
    reports = Path(reports_dir or paths.REPORTS_DIR)
    reports.mkdir(parents=True, exist_ok=True)
    rows = []
    for manifest in sorted(reports.glob("*/manifest.json"), reverse=True):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", manifest.parent.name):
            continue
        try:
            m = json.loads(manifest.read_text())
        except (ValueError, OSError):
            continue
        items = []
        for n in m.get("notebooks", []):
            slug = html.escape(n["notebook"])
            ok = n.get("status") == "ok"
            badge = '<span class="ok">ok</span>' if ok else '<span class="failed">failed</span>'
            title = html.escape(_page_title(manifest.parent / f"{n['notebook']}.html") or n["notebook"])
            link = f'<a href="{manifest.parent.name}/{slug}.html">{title}</a>'
            head = f"<br><span class=\"head\">{html.escape(n['headline'])}</span>" if n.get("headline") else ""
            items.append(f"<li>{link} {badge} <small>{n.get('duration_s', 0):.0f} s</small>{head}</li>")
        rows.append(f"<section><h2>{html.escape(manifest.parent.name)}</h2><ul>{''.join(items)}</ul>"
                    f"<p><small>tables and manifest: <a href=\"{manifest.parent.name}/manifest.json\">"
                    f"manifest.json</a></small></p></section>")
    body = "".join(rows) or "<p>No reports yet. Run <code>make report</code> or <code>cx run</code>.</p>"
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
