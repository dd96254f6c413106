"""The run: ``cx run`` executes notebooks with papermill in parallel workers into a new version folder,
renders their pages, records the manifest and switches ``reports/DATE`` to it atomically.

Order of :func:`run_reports`: parameters (:class:`~cxlib.reports.parameters.ParameterError`), pre-flight
of every data source (:class:`~cxlib.reports.checks.PreflightError`), lock (:class:`LockedError`), then
the run. A failed notebook keeps its last good page; filesystem problems raise :class:`ReportsDirError`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import glob
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cxlib import paths
from cxlib.reports.checks import RUN_DATE_ENV, PreflightError, _protect_secrets, preflight, report_date
from cxlib.reports.html import _notebook_title_of, _page_footer, render_html, write_failure_page
from cxlib.reports.index import write_index
from cxlib.reports.manifest import _fingerprints, _iso, _merge_manifest, _read_manifest
from cxlib.reports.parameters import (ParameterError, _is_demo, effective_parameters, find_notebooks,
                                      given_parameters, notebook_parameters, resolve_parameters)
from cxlib.reports.redact import _redacted, people_message
from cxlib.reports.tables import TABLES_ENV, read_config_files, read_headline


class LockedError(RuntimeError):
    """Another run holds the lock on the reports folder."""



#: Kernel housekeeping lines, not errors: the TCP notice at start-up and the interrupt nbclient sends
#: while shutting a finished kernel down.
_KERNEL_NOISE = ("without encryption", "KeyboardInterrupt caught in kernel")


class ReportsDirError(OSError):
    """The reports (or logs) folder cannot be written: names the path and the reason."""



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



#: Parameters that name files: every data source, and the journey map's journey file.
FILE_PARAMETERS = (*paths.KINDS, "journey")


def _anchor(value, cwd: Path, roots):
    """``value`` (a path, a glob, or a spec's ``path:``) made absolute when only the caller's folder ``cwd``
    holds it: the pre-flight ran there, the kernel runs in the notebooks' folder and also looks in ``roots``
    (the notebooks' folder and the project), so what it finds itself is left as given."""
    if isinstance(value, str) and value.lstrip().startswith("{"):  # a spec as YAML text (-p 'x={path: ...}')
        import yaml

        try:
            spec = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        return _anchor(spec, cwd, roots) if isinstance(spec, dict) and "path" in spec else value
    if isinstance(value, dict) and isinstance(value.get("path"), str):
        return {**value, "path": _anchor(value["path"], cwd, roots)}
    if not isinstance(value, str) or not value.strip() or "::" in value or "://" in value:
        return value
    p = Path(value).expanduser()
    if p.is_absolute():
        return value

    def found(base: Path) -> bool:
        return bool(glob.glob(str(base / p))) if any(c in value for c in "*?[") else (base / p).exists()

    return str(cwd / p) if found(cwd) and not any(found(Path(r)) for r in roots) else value


def _anchored(parameters: dict, roots) -> dict:
    """The parameters the kernel gets: file parameters the caller named relative to their own folder, made
    absolute (the manifest keeps them as given)."""
    cwd = Path.cwd()
    return {k: _anchor(v, cwd, roots) if k in FILE_PARAMETERS else v for k, v in parameters.items()}


def _execute(slug: str, notebook: str, output: str, parameters: dict, tables: str, cwd: str,
             progress: bool, secrets: dict, log_path: str, run_date: str, page: str | None = None,
             demo: bool = False, given: list | None = None) -> dict:
    """Worker (own process): execute one notebook with papermill into ``output`` (private folder) and,
    when it ran, render its page into ``page`` (pages are made in parallel, beside other kernels).

    The record's headline and key figures come from the table the page published
    (``tables/<slug>/headline_figures.csv``, see :func:`~cxlib.reports.tables.read_headline`), never from its HTML.
    """
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
            pm.execute_notebook(notebook, output, parameters=_anchored(parameters, (cwd, paths.PROJECT_ROOT)),
                                kernel_name="python3", cwd=cwd,
                                progress_bar=progress, log_output=False, request_save_on_cell_execute=False,
                                kernel_manager_class=kernels.KernelManager)
    except Exception as exc:  # a failing notebook is reported, the run goes on
        status = "failed"
        error, details = _error_text(exc)
    end = time.time()
    title = None
    if status == "ok" and page:
        try:
            title = render_html(output, page, footer=_page_footer(_iso(end), Path(notebook).name, demo), demo=demo)
        except Exception:  # the parent renders it again and reports a real problem there
            with contextlib.suppress(OSError):
                Path(page).unlink()
    with contextlib.suppress(OSError):
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(log_path).write_text(f"{slug}: {status} at {_iso(end)}\n{error or ''}\n\n{details}\n", encoding="utf-8")
    headline, figures = read_headline(tables) if status == "ok" else (None, [])
    return {"notebook": slug, "status": status, "error": people_message(error) if error else None,
            "start": _iso(start), "end": _iso(end), "duration_s": round(end - start, 2),
            "parameters": _redacted(parameters), "title": title, "headline": headline, "key_figures": figures,
            "config_files": read_config_files(tables) if status == "ok" else []}


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
                rec["inputs"] = _fingerprints(used[slug], [nb_dir])
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
            rec["title"] = render_html(ipynb, page, footer=_page_footer(rec["end"], nb.name, rec.get("demo", False)),
                                       demo=rec.get("demo", False))
        rec["title"] = rec.get("title") or _notebook_title_of(nb)
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
    title = rec["title"] = _notebook_title_of(nb)
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
