"""The ``cx`` command: argument parsing only; the work is in :mod:`cxlib.reports`, ``data`` and ``sample``.

Exit codes: 0 success; 1 a notebook failed while running (its last good page is kept); 2 bad usage,
parameter or input data (found before anything runs; nothing written); 3 another run holds the reports
folder; 4 the reports folder cannot be written; 130 / 143 stopped by SIGINT / SIGTERM. No prompts: safe
under cron, systemd and Airflow.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_FILESYSTEM = 0, 1, 2, 3, 4

# nbformat -> jsonschema imports the optional 'rfc3987_syntax' (installed with JupyterLab's jupyter-events),
# which builds a grammar at import: ~1 s of CPU in every `cx` process for an IRI format check no notebook
# schema uses. Marking it absent makes jsonschema skip that one checker (its ImportError path).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _log(msg: str) -> None:
    from cxlib.reports import log_line

    log_line(msg)


def _on_signal(signum, frame):  # pragma: no cover - exercised by the end-to-end kill tests
    """SIGTERM / SIGINT: stop workers and kernels, drop the half-built folder, one line, exit 143 / 130."""
    import os
    import signal

    from cxlib.reports import stop_run

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop_run(signum)
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
    _log(f"stopped by {name}; earlier reports are untouched")
    os._exit(128 + signum)


def _pairs(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise _Usage(f"-p expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


class _Usage(Exception):
    pass


def _cmd_run(args) -> int:
    import signal

    from cxlib import reports

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    file_params = {}
    if args.params:
        import yaml

        path = Path(args.params)
        if not path.exists():
            raise _Usage(f"parameters file not found: {path}")
        try:
            file_params = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise _Usage(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(file_params, dict):
            raise _Usage(f"{path}: expected a mapping of parameter names to values")
    if args.date:
        try:
            dt.date.fromisoformat(args.date)
        except ValueError:
            raise _Usage(f"--date expects YYYY-MM-DD, got {args.date!r}") from None
    result = reports.run_reports(args.names, date=args.date, file_params=file_params,
                                 overrides=_pairs(args.param), reports_dir=args.reports_dir,
                                 notebooks_dir=args.notebooks_dir, jobs=args.jobs, log=_log,
                                 progress=sys.stderr.isatty(), logs_dir=args.logs_dir)
    for rec in result.notebooks:
        page = result.folder / f"{rec['notebook']}.html"
        print(f"{rec['status']:>6}  {rec['notebook']:<24} {page}")
    print(f"index: {result.index}")
    if result.failed:
        print("failed: " + ", ".join(r["notebook"] for r in result.failed)
              + " (see the index and the run log)", file=sys.stderr)
        return EXIT_FAILED
    if any(r.get("run_failed") for r in result.notebooks):
        kept = [r["notebook"] for r in result.notebooks if r.get("run_failed")]
        print("failed: " + ", ".join(kept) + " (their last good pages are kept; see the index)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _cmd_list(args) -> int:
    from cxlib import reports

    for nb in reports.find_notebooks(notebooks_dir=args.notebooks_dir):
        import nbformat

        title = reports.notebook_title(nbformat.read(str(nb), as_version=4))
        print(f"{nb.stem} - {title}")
        for p in reports.notebook_parameters(nb):
            print(f"    {p.describe()}")
    return EXIT_OK


def _cmd_index(args) -> int:
    from cxlib import reports

    print(reports.write_index(args.reports_dir))
    return EXIT_OK


def _cmd_validate(args) -> int:
    from cxlib import data

    columns = _pairs(args.column)
    source = args.source
    if str(source).lower().endswith((".yaml", ".yml")):  # a file holding one source spec
        import yaml

        path = Path(source)
        if not path.is_file():
            raise _Usage(f"spec file not found: {path}")
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise _Usage(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if isinstance(spec, dict) and len(spec) == 1 and isinstance(next(iter(spec.values())), dict) \
                and next(iter(spec)) == args.kind:
            spec = next(iter(spec.values()))  # `responses: {path: ...}` as in a params file
        if not isinstance(spec, dict):
            raise _Usage(f"{path}: expected a source spec (a mapping with path: or url:)")
        if spec.get("path") and not Path(str(spec["path"])).is_absolute() and "://" not in str(spec["path"]):
            spec = {**spec, "path": str(path.parent / spec["path"])}  # relative to the spec file
        source = spec
    try:
        v = data.validate(source, kind=args.kind, table=args.table, **columns)
    except (data.CXDataError, _Usage):
        raise
    except Exception as exc:  # an engine or library error: one line and exit 2, never a traceback
        shown = source.get("path") or source.get("url") if isinstance(source, dict) else source
        first = (data._friendly_engine_message(exc) or type(exc).__name__).splitlines()[0]
        raise _Usage(f"{shown}: could not be checked as a {args.kind} table ({first}).") from None
    print(v.summary())
    return EXIT_OK


def _cmd_sample(args) -> int:
    from cxlib import sample

    written = sample.write_sample(args.out, scale=args.scale, seed=args.seed, format=args.format)
    for kind, path in written.items():
        print(f"{kind}: {path}")
    return EXIT_OK


def _cmd_notebooks(args) -> int:
    from cxlib import reports

    failed = reports.execute_in_place(args.names, log=_log)
    return EXIT_FAILED if failed else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from cxlib.paths import KINDS

    parser = argparse.ArgumentParser(prog="cx", description="cx-workbook: run the CX notebooks into dated "
                                     "HTML reports, check data files, make sample data.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute notebooks into reports/DATE/ (HTML, tables, manifest)",
                         description="Execute notebooks with papermill into reports/DATE/ and rebuild the "
                         "index. Exit 0 ok, 1 a notebook failed, 2 bad parameter or input data, 3 locked, "
                         "4 reports folder not writable.")
    run.add_argument("names", nargs="*", help="notebooks to run (default: all in notebooks/)")
    run.add_argument("--date", help="report date YYYY-MM-DD (default: today)")
    run.add_argument("--params", help="YAML file of parameter values (shared, or per notebook name)")
    run.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="set a parameter (repeatable)")
    run.add_argument("--reports-dir", help="reports folder (default: reports/)")
    run.add_argument("--notebooks-dir", help="notebooks folder (default: notebooks/)")
    run.add_argument("--jobs", type=int, default=2, help="notebooks run in parallel (default 2)")
    run.add_argument("--logs-dir", help="private folder for logs and executed notebooks (default: logs/)")
    run.set_defaults(func=_cmd_run)

    ls = sub.add_parser("list", help="list notebooks and their parameters (type, default, help)")
    ls.add_argument("--notebooks-dir", help="notebooks folder (default: notebooks/)")
    ls.set_defaults(func=_cmd_list)

    ix = sub.add_parser("index", help="rebuild reports/index.html")
    ix.add_argument("--reports-dir", help="reports folder (default: reports/)")
    ix.set_defaults(func=_cmd_index)

    va = sub.add_parser("validate", help="check a data file against its table contract (data/README.md)")
    va.add_argument("source", help="CSV / Parquet / Excel path or glob, file.duckdb::table, URL::table, a "
                    "spec file (.yaml) or a spec in YAML ('{path: q3.csv, layout: qualtrics}')")
    va.add_argument("--kind", required=True, choices=KINDS, help="table kind")
    va.add_argument("--table", help="table name inside a database file")
    va.add_argument("-c", "--column", action="append", metavar="ROLE=NAME",
                    help="map a column role to your column name, e.g. -c respondent=answer_id")
    va.set_defaults(func=_cmd_validate)

    sa = sub.add_parser("sample", help="write the seeded sample data (or benchmark-size data)")
    sa.add_argument("--out", help="output folder (default: data/sample)")
    sa.add_argument("--scale", type=int, default=1, help="blocks of the sample design (default 1)")
    sa.add_argument("--seed", type=int, default=20261124)
    sa.add_argument("--format", choices=("csv", "parquet"), default="csv")
    sa.set_defaults(func=_cmd_sample)

    nbs = sub.add_parser("notebooks", help="re-execute the committed notebooks in place on the sample data")
    nbs.add_argument("names", nargs="*")
    nbs.set_defaults(func=_cmd_notebooks)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cx`` console script."""
    from cxlib.data import CXDataError
    from cxlib.reports import LockedError, ParameterError, PreflightError, ReportsDirError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PreflightError as exc:
        print(f"cx {args.command}: bad input data, nothing was run or written "
              f"({len(exc.problems)} problem{'s' if len(exc.problems) > 1 else ''}):", file=sys.stderr)
        for line in exc.problems:
            print(f"  - {line}", file=sys.stderr)
        return EXIT_USAGE
    except ReportsDirError as exc:
        print(f"cx {args.command}: {exc}", file=sys.stderr)
        return EXIT_FILESYSTEM
    except (CXDataError, ParameterError, _Usage, ValueError) as exc:
        from cxlib.data import redact_credentials

        print(f"cx {args.command}: {redact_credentials(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except LockedError as exc:
        print(f"cx {args.command}: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as exc:  # a folder that cannot be written, a full disk
        print(f"cx {args.command}: cannot write {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FILESYSTEM
    except KeyboardInterrupt:  # pragma: no cover
        print("cx: interrupted; earlier reports are untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
