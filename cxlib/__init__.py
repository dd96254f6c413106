"""cxlib: the helper package behind the cx-workbook notebooks.

Modules are named for what they answer: ``data`` (validation; ``CXDataError`` lives in ``errors``), ``sample``,
``metrics``, ``cohorts``, ``survival``, ``drivers``, ``themes``, ``experiments``, ``plots``,
``reports``; the ``cx`` command lives in ``cli``.
"""
import warnings

# ibis 12 calls DuckDB 2.0's deprecated fetch_arrow_table() on every read; the pinned pair is known to
# work, so this one dependency-internal notice is silenced rather than shown in every report.
warnings.filterwarnings("ignore", message=r"fetch_arrow_table\(\) is deprecated", category=DeprecationWarning)
# ... and ibis 12 reads pandas 3's deprecated 'future.infer_string' option (same reasoning).
warnings.filterwarnings("ignore", message=r"The 'future.infer_string' option is deprecated",
                        category=DeprecationWarning)

from cxlib.errors import CXDataError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["CXDataError", "__version__"]


def _short_data_errors_in_ipython() -> None:
    """In a notebook, show a CXDataError as its message only (file, column, expectation, rows), not as a
    stack of cxlib / engine frames; the cell still fails, so papermill still marks the run failed."""
    import sys

    if "IPython" not in sys.modules:  # not inside IPython: importing it (~0.4 s) would only find no shell
        return
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks only
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return

    def show(shell, etype, evalue, tb, tb_offset=None):
        shell._showtraceback(etype, evalue, [f"Data problem — {etype.__name__}: {evalue}"])

    shell.set_custom_exc((CXDataError,), show)


_short_data_errors_in_ipython()
