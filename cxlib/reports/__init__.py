"""Report pipeline: parameters, papermill runs, self-contained HTML, manifest and index.

``cx run`` (see :mod:`cxlib.cli`) calls :func:`run_reports`; notebooks call :func:`publish` for every
result table they show, and their headline (``present.headline_frame``) as the table ``headline``. This
package knows notebooks and files, not statistics. Its rooms, in the order of a run:

- :mod:`~cxlib.reports.parameters`: read each notebook's ``parameters`` cell
  (:func:`notebook_parameters`), merge defaults < YAML file < ``-p key=value`` and validate / coerce them
  (:func:`resolve_parameters`): an unknown name or a bad value raises :class:`ParameterError` before
  anything is written;
- :mod:`~cxlib.reports.checks`: pre-flight of every data source (:class:`PreflightError`) and passwords
  moved out of connection URLs;
- :mod:`~cxlib.reports.run`: take a lock on the reports folder (a second concurrent run fails with
  :class:`LockedError`), execute the notebooks with papermill in parallel worker processes, each with
  ``CX_TABLES_DIR`` pointing at ``tables/<slug>/``, and switch ``reports/DATE`` to the new version
  atomically;
- :mod:`~cxlib.reports.html`: render each executed notebook (also a failed one) to HTML with the code
  hidden, figures and CSS inline, no network scripts, alt text on figures;
- :mod:`~cxlib.reports.tables`: :func:`publish`, and :func:`read_headline` (a page's answer and key
  figures, read from the table it published: data, never its HTML);
- :mod:`~cxlib.reports.manifest`: ``manifest.json`` (records, input and parameter-file fingerprints);
- :mod:`~cxlib.reports.index`: ``reports/index.html`` from the manifests.

Examples
--------
>>> from cxlib.reports import Parameter, coerce
>>> coerce(Parameter("flag", "bool", True), "no")
False
"""
from __future__ import annotations

from cxlib.reports.checks import RUN_DATE_ENV, PreflightError, preflight, report_date  # noqa: F401
from cxlib.reports.html import defuse_html, notebook_title, render_html, write_failure_page  # noqa: F401
from cxlib.reports.index import write_index  # noqa: F401
from cxlib.reports.parameters import (  # noqa: F401
    SOURCE_PARAMETERS, Parameter, ParameterError, coerce, effective_parameters, find_notebooks,
    given_parameters, notebook_parameters, resolve_parameters,
)
from cxlib.reports.redact import people_message  # noqa: F401
from cxlib.reports.run import (  # noqa: F401
    LockedError, ReportsDirError, RunResult, default_logs_dir, execute_in_place, log_line, run_reports,
    stop_run,
)
from cxlib.reports.tables import (  # noqa: F401
    CONFIG_FILES, HEADLINE, TABLES_ENV, publish, read_config_files, read_headline,
)

__all__ = [
    "CONFIG_FILES", "HEADLINE", "RUN_DATE_ENV", "SOURCE_PARAMETERS", "TABLES_ENV",
    "LockedError", "Parameter", "ParameterError", "PreflightError", "ReportsDirError", "RunResult",
    "coerce", "default_logs_dir", "defuse_html", "effective_parameters", "execute_in_place", "find_notebooks",
    "given_parameters", "log_line", "notebook_parameters", "notebook_title", "people_message", "preflight",
    "publish", "read_config_files", "read_headline", "render_html", "report_date", "resolve_parameters", "run_reports", "stop_run",
    "write_failure_page", "write_index",
]
