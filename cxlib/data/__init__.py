"""The data contracts: checked tables of each kind, or one :class:`CXDataError`.

Everything a user hands to cxlib goes through :func:`as_table` (from :mod:`cxlib.sources`): a pandas
DataFrame, a CSV / Parquet path or glob, a DuckDB file plus table, an Ibis connection URL plus table,
a source spec, or an Ibis table on any backend. Row-level work then stays in the engine
(:mod:`cxlib.engine`, embedded DuckDB by default).

The rooms of this package (each name below stays importable from ``cxlib.data``):

- :mod:`~cxlib.data.checks`: required columns, unique ids, segments, arm spellings, :func:`find_column`;
- :mod:`~cxlib.data.cleaning`: numbers, ratings and 0/1 flags;
- :mod:`~cxlib.data.timestamps`: timestamps and time zones;
- :mod:`~cxlib.data.dates`: the analysis date (``as_of``) and reporting periods;
- :mod:`~cxlib.data.validation`: :func:`validate`, the contract of each table kind;
- :mod:`~cxlib.data.personal` and :mod:`~cxlib.data.manifest`: personal columns, source fingerprints.

Bad input raises :class:`CXDataError` (a ``ValueError``) with a message of a few lines that names the
source, the column, what was expected and up to three offending rows, e.g.::

    responses.csv: column 'nps' has 3 values outside 0..10 (rows 17, 208, 991: 11, -1, 12)

Inputs are never modified: files are only read, DataFrames are wrapped, never written to.

Example
-------
>>> from cxlib import data
>>> v = data.validate("data/sample/responses.csv", kind="responses")
>>> v.n_rows > 1000
True
"""
from __future__ import annotations

# Every name cxlib.data has offered stays importable here (private ones too: other modules and tests use
# them); the foundation's and the sources' are re-exported from their homes.
from cxlib.engine import (_CACHE_MAX, _CHECK_CACHE, _CLEAN_CACHE, _CREDENTIALS, _CSV_CACHE, _FILE_CONNECTIONS,
                          _MATERIALIZE_MAX_BYTES, _PARQUET_CACHE, _PARQUET_FILES, _PARQUET_PREFIX, _PASSED,
                          _RAW_CACHE, _SESSION_TABLE_PREFIXES, _SOURCES, _SQL_CACHE, _URL_CONNECTIONS,
                          ENGINE_THREADS_ENV, _check_key, _checked, _connect, _csv_select, _duckdb_file, _execute,
                          _expand_secrets, _file_key, _friendly_engine_message, _leaves, _materialize, _memo_key,
                          _on_session_tables, _postgres_bool_to_int, _read_error, _register, _remember, _Source,
                          _source_of, default_backend, memo_plan, redact_credentials, source_name, to_pandas)
from cxlib.errors import CXDataError
from cxlib.paths import PROJECT_ROOT
from cxlib.schema import KINDS, NULL_STRINGS
from cxlib.schema import ROLES as _SPECS
from cxlib.sources import as_table
from cxlib.sources.plain import (_BLANK_LINE, _CONVERSION, _FULL_SNIFF_BYTES, _check_header_case, _drop_blank_rows,
                                 _duplicated_header, _header_fields, _materialize_csv, _mixed_objects, _ragged,
                                 _raw_strings, _read_csv, _read_parquet, _resolve_path)

# The contracts.
from cxlib.data.checks import (_MAX_EXAMPLES, _ROW, _examples, _fmt, _is_missing_text, _missing, _raise, as_list,
                               check_not_empty, check_order, check_segments, check_unique, check_variant_case,
                               find_column, require_columns)
from cxlib.data.cleaning import _clean_numeric, _rating_scale, _rating_value, clean_binary, clean_numeric
from cxlib.data.timestamps import (_TZ_SUFFIX, _TZ_UDFS, _check_mixed_tz, _clean_timestamp, _to_local, _tz_udfs,
                                   _utc_naive, clean_timestamp)
from cxlib.data.dates import (PERIOD_LENGTH, PERIODS, RECORD_TIMES, RUN_DATE_ENV, SAMPLE_AS_OF, after_as_of,
                              default_as_of, ends_early, is_sample, last_record, local_as_of, observed_end,
                              period_start, upto_as_of)
from cxlib.data.personal import PERSONAL_DATA_DEFAULT, drop_personal
from cxlib.data.manifest import _SHA_CACHE, fingerprint
from cxlib.data.validation import Validation, validate

__all__ = [
    "CXDataError", "as_table", "source_name", "require_columns", "clean_timestamp", "clean_numeric",
    "clean_binary", "check_unique", "check_not_empty", "validate", "Validation", "to_pandas",
    "default_backend", "PERSONAL_DATA_DEFAULT", "drop_personal", "fingerprint", "NULL_STRINGS",
    "redact_credentials", "is_sample", "check_order", "check_segments", "check_variant_case", "find_column",
    "default_as_of", "after_as_of", "RUN_DATE_ENV", "SAMPLE_AS_OF",
]

