"""cxlib: the helper package behind the cx-workbook notebooks.

Modules are named for what they answer: ``data`` (sources, validation, ``CXDataError``), ``sample``,
``metrics``, ``cohorts``, ``survival``, ``drivers``, ``themes``, ``experiments``, ``plots``,
``reports``; the ``cx`` command lives in ``cli``.
"""
from cxlib.data import CXDataError

__version__ = "0.1.0"
__all__ = ["CXDataError", "__version__"]
