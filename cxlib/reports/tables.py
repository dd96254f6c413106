"""The tables a page publishes: :func:`publish` writes them in a report run; :func:`read_headline` reads a
page's headline table back for the index and the manifest.

Figures reach the index as data: each page publishes ``present.headline_frame(answer, figures)`` as
``headline``; nothing is read out of a page's HTML.

Examples
--------
>>> import pandas as pd
>>> publish(pd.DataFrame({"a": [1]}), "x")  # interactively (no report run) nothing is written
   a
0  1
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pandas as pd

#: Set by the runner for each notebook run: where published result tables go.
TABLES_ENV = "CX_TABLES_DIR"
#: The name of the table with a page's answer sentence and key figures (``present.headline_frame``).
HEADLINE = "headline_figures"  # not "headline": the scorecard publishes its scores table under that name
#: A page that reads a configuration file (the journey map's journey) publishes its name and sha256 here,
#: so the manifest shows which version of the file a page used, default files included.
CONFIG_FILES = "config_files"
#: Key figures kept per page in the manifest (the index trend shows the first three).
MAX_KEY_FIGURES = 6


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
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):  # the name becomes a file name
            raise ValueError(f"table name {name!r}: use letters, digits, '_', '-' or '.'")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        table.to_csv(folder / f"{name}.csv", index=False)
        index = folder / "index.json"
        entries = json.loads(index.read_text()) if index.exists() else {}
        entries[name] = {"caption": caption, "rows": int(len(table)), "columns": list(map(str, table.columns))}
        index.write_text(json.dumps(entries, indent=2))
    return table


def _number(value) -> float | None:
    """A finite float from a CSV cell, else None (JSON has no NaN)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _cell(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def read_headline(folder) -> tuple[str | None, list[dict]]:
    """A page's answer sentence and key figures from its published ``headline_figures.csv`` in ``folder``.

    A page that published no headline (or an unreadable one) has none: ``(None, [])``, never an error.

    Returns
    -------
    tuple
        The answer as plain text (or None) and up to six figures, each a dict with ``label``, ``value``
        (the text shown), ``interval`` and ``change`` when shown, and ``estimate``, ``ci_lower``,
        ``ci_upper`` (numbers or None).

    Examples
    --------
    >>> import tempfile
    >>> from cxlib import present
    >>> folder = tempfile.mkdtemp()
    >>> present.headline_frame("NPS is +13.2.", [present.figure("nps", 13.16, 3.2, 23.1, kind="points")]
    ...                        ).to_csv(f"{folder}/headline_figures.csv", index=False)
    >>> answer, figures = read_headline(folder)
    >>> answer, figures[0]["label"], figures[0]["value"], figures[0]["estimate"]
    ('NPS is +13.2.', 'NPS', '+13.2', 13.16)
    """
    path = Path(folder) / f"{HEADLINE}.csv"
    try:
        # text columns as text: a value such as "+13.2" or "NA" stays what the page showed
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError):
        return None, []
    if "kind" not in df.columns:
        return None, []
    headline, figures = None, []
    for row in df.to_dict("records"):
        kind = _cell(row.get("kind"))
        if kind == "answer" and headline is None:
            headline = _cell(row.get("value"))[:300] or None
        elif kind == "figure" and _cell(row.get("label")) and _cell(row.get("value")):
            fig = {"label": _cell(row.get("label")), "value": _cell(row.get("value"))}
            fig.update({k: _cell(row.get(k)) for k in ("interval", "change") if _cell(row.get(k))})
            fig.update({k: _number(row.get(k)) for k in ("estimate", "ci_lower", "ci_upper")})
            figures.append(fig)
    return headline, figures[:MAX_KEY_FIGURES]


def read_config_files(folder) -> list[dict]:
    """The configuration files a page says it used (its published ``config_files.csv`` in ``folder``):
    one dict per file with ``name`` (the file name, never a path) and ``sha256``; none, never an error.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"name": ["journey.yaml"], "sha256": ["ab" * 32]}).to_csv(f"{folder}/config_files.csv",
    ...                                                                    index=False)
    >>> read_config_files(folder)[0]["name"]
    'journey.yaml'
    """
    try:
        df = pd.read_csv(Path(folder) / f"{CONFIG_FILES}.csv", dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError):
        return []
    if not {"name", "sha256"} <= set(df.columns):
        return []
    # a name only: whatever the page wrote, no folder of the machine reaches the manifest
    return [{"name": Path(_cell(r["name"]).replace("\\", "/")).name, "sha256": _cell(r["sha256"])}
            for r in df.to_dict("records") if _cell(r["name"]) and _cell(r["sha256"])]
