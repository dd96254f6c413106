"""Voice of the customer: tag free-text comments with a YAML taxonomy, count themes, measure their impact.

Tagging runs in the engine as case-insensitive regular expressions (one flag per theme), so it scales
with the data; the results are counts per theme (and segment / period). Comments are data, never
markup: anything this module renders as Markdown is HTML-escaped.

Methods: a theme's share = comments mentioning it / comments, with a Wilson 95% interval; its *impact*
= NPS of commenters who mention it minus NPS of those who don't (points, trinomial variance, normal
interval). A theme is *rising* when this period's share is significantly above the prior periods'
(two-proportion z-test).

Examples
--------
>>> from cxlib import themes
>>> themes.theme_counts("data/sample/responses.csv")  # doctest: +SKIP
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cxlib import data as cxdata
from cxlib import metrics

__all__ = ["load_taxonomy", "tag_comments", "theme_counts", "theme_impact", "trouble_word_counts",
           "rising_themes", "example_comments", "escape_text"]

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.yaml")


@lru_cache(maxsize=8)
def _load(path: str) -> dict:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise cxdata.CXDataError(f"{Path(path).name}: cannot read the taxonomy ({str(exc).splitlines()[0]}).") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("themes"), dict):
        raise cxdata.CXDataError(f"{Path(path).name}: a taxonomy needs a 'themes:' mapping of theme -> patterns.")
    return raw


def load_taxonomy(taxonomy=None) -> dict:
    """The taxonomy as ``{'themes': {theme: {'label', 'stage', 'pattern'}}, 'trouble_words': [...]}``.

    ``taxonomy`` is a path to a YAML file (default: cxlib's ``taxonomy.yaml``) or an already loaded dict.
    Each theme's patterns are joined into one regular expression anchored at word starts.
    """
    raw = taxonomy if isinstance(taxonomy, dict) else _load(str(taxonomy or DEFAULT_TAXONOMY))
    out = {}
    for theme, spec in raw["themes"].items():
        pats = spec.get("patterns", []) if isinstance(spec, dict) else spec
        pattern = _WORD_START + "(" + "|".join(re.escape(p) for p in pats) + ")"
        out[theme] = {"label": (spec.get("label") if isinstance(spec, dict) else None) or theme,
                      "stage": spec.get("stage") if isinstance(spec, dict) else None, "pattern": pattern}
    return {"themes": out, "trouble_words": list(raw.get("trouble_words", []))}


#: A word start on every engine: "\b" is a backspace in PostgreSQL's regular expressions. Comments are
#: lower-cased before matching, so this is DuckDB's ASCII \b.
_WORD_START = r"(^|[^a-z0-9_])"


def _flag(col, pattern):
    return col.lower().re_search(pattern.lower())


def _prepared(data, comment, columns, name):
    t = cxdata.as_table(data, name=name)
    cxdata.require_columns(t, [comment, *columns], name=name)
    t = t.filter(t[comment].notnull() & (t[comment].strip() != ""))
    return t


def tag_comments(data, *, comment: str = "comment", id: str = "respondent_id", keep=(), taxonomy=None,
                 name: str | None = None) -> pd.DataFrame:
    """Long table of theme mentions: one row per comment x theme it mentions.

    Columns: ``id`` column, ``theme``, ``label``, any ``keep`` columns (e.g. 'nps', 'touchpoint') and
    ``comment`` (raw text: escape it before rendering it yourself; DataFrame display escapes it).
    """
    tax = load_taxonomy(taxonomy)
    keep = [k for k in cxdata.as_list(list(keep)) if k not in (id, comment)]
    personal = {c.lower() for c in cxdata.PERSONAL_DATA_DEFAULT}
    bad = [k for k in keep if k.lower() in personal]
    if bad:
        raise cxdata.CXDataError(f"keep= names personal-data column(s) {', '.join(bad)}; they never leave cxlib.")
    t = _prepared(data, comment, [id, *keep], name)
    parts = []
    for theme, spec in tax["themes"].items():
        hit = t.filter(_flag(t[comment], spec["pattern"]))
        parts.append(hit.select(id, *keep, comment).mutate(theme=__import__("ibis").literal(theme)))
    expr = parts[0]
    for p in parts[1:]:
        expr = expr.union(p, distinct=False)
    out = cxdata.to_pandas(expr, name=name)
    out["label"] = out["theme"].map({k: v["label"] for k, v in tax["themes"].items()})
    return out[[id, "theme", "label", *keep, comment]].sort_values([id, "theme"]).reset_index(drop=True)


def theme_counts(data, *, comment: str = "comment", by=None, time: str | None = None, period: str | None = None,
                 taxonomy=None, alpha: float = 0.05, min_n: int = 30, name: str | None = None) -> pd.DataFrame:
    """Comments mentioning each theme, per segment and/or period, with share and Wilson 95% interval.

    Returns one row per (segment x period x) theme: ``theme``, ``label``, ``stage``, ``comments`` (n),
    ``mentions``, ``share``, ``ci_lower``, ``ci_upper``, ``suppressed``.
    """
    tax = load_taxonomy(taxonomy)
    by = cxdata.as_list(by)
    if period and not time:
        raise cxdata.CXDataError("period= needs the time column: pass time='response_time' (or yours).")
    t = _prepared(data, comment, [*by, *([time] if period else [])], name)
    keys = list(by)
    if period:
        t = cxdata.clean_timestamp(t, time, name=name)
        t = t.mutate(period=cxdata.period_start(t[time], period).cast("date"))
        keys.append("period")
    aggs = {"comments": t.count(), **{f"_t_{k}": _flag(t[comment], v["pattern"]).cast("int64").sum()
                                      for k, v in tax["themes"].items()}}
    wide = cxdata.to_pandas(t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs), name=name)
    long = wide.melt(id_vars=[*keys, "comments"], var_name="theme", value_name="mentions")
    long["theme"] = long["theme"].str.removeprefix("_t_")
    long["label"] = long["theme"].map({k: v["label"] for k, v in tax["themes"].items()})
    long["stage"] = long["theme"].map({k: v["stage"] for k, v in tax["themes"].items()})
    if "period" in long:
        long["period"] = pd.to_datetime(long["period"])
    k = long["mentions"].to_numpy(float)
    n = long["comments"].to_numpy(float)
    long["share"] = k / np.where(n > 0, n, np.nan)
    from cxlib.cohorts import _wilson

    long["ci_lower"], long["ci_upper"] = _wilson(k, n, alpha)
    long["suppressed"] = long["comments"] < min_n
    long.loc[long["suppressed"], ["share", "ci_lower", "ci_upper"]] = np.nan
    order = [*keys, "theme", "label", "stage", "comments", "mentions", "share", "ci_lower", "ci_upper", "suppressed"]
    return long[order].sort_values([*keys, "mentions"], ascending=[True] * len(keys) + [False]).reset_index(drop=True)


def theme_impact(data, *, comment: str = "comment", score: str = "nps", taxonomy=None, alpha: float = 0.05,
                 min_n: int = 30, name: str | None = None) -> pd.DataFrame:
    """NPS of commenters who mention each theme vs those who don't (points, 95% interval, p-value).

    Returns one row per theme: ``theme``, ``label``, ``mentions``, ``nps_with``, ``nps_without``,
    ``impact`` (difference), ``ci_lower``, ``ci_upper``, ``p_value``, ``suppressed``.
    """
    tax = load_taxonomy(taxonomy)
    t = _prepared(data, comment, [score], name)
    t = cxdata.clean_numeric(t, score, lo=0, hi=10, integer=True, name=name)
    t = t.filter(t[score].notnull())
    s = t[score]
    rows = []
    for theme, spec in tax["themes"].items():
        f = _flag(t[comment], spec["pattern"])
        agg = t.group_by(f.name("_hit")).aggregate(n=t.count(), promoters=(s >= 9).cast("int64").sum(),
                                                   detractors=(s <= 6).cast("int64").sum())
        c = cxdata.to_pandas(agg, name=name).set_index("_hit")
        with_ = c.loc[True] if True in c.index else None
        without = c.loc[False] if False in c.index else None
        row = {"theme": theme, "label": spec["label"], "mentions": int(with_["n"]) if with_ is not None else 0}
        if with_ is None or without is None or with_["n"] < min_n:
            row.update(nps_with=np.nan, nps_without=np.nan, impact=np.nan, ci_lower=np.nan, ci_upper=np.nan,
                       p_value=np.nan, suppressed=True)
        else:
            ch = metrics.nps_change(with_, without, alpha=alpha)
            row.update(nps_with=ch["current"], nps_without=ch["baseline"], impact=ch["change"],
                       ci_lower=ch["ci_lower"], ci_upper=ch["ci_upper"], p_value=ch["p_value"], suppressed=False)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("impact").reset_index(drop=True)


def trouble_word_counts(data, *, comment: str = "comment", by=None, taxonomy=None,
                        name: str | None = None) -> pd.DataFrame:
    """How many comments contain each trouble word ('confusing', 'gave up', ...), per segment."""
    tax = load_taxonomy(taxonomy)
    by = cxdata.as_list(by)
    t = _prepared(data, comment, by, name)
    words = tax["trouble_words"]
    aggs = {"comments": t.count(), **{f"_w{i}": _flag(t[comment], _WORD_START + re.escape(w)).cast("int64").sum()
                                      for i, w in enumerate(words)}}
    wide = cxdata.to_pandas(t.group_by(by).aggregate(**aggs) if by else t.aggregate(**aggs), name=name)
    long = wide.melt(id_vars=[*by, "comments"], var_name="word", value_name="mentions")
    long["word"] = long["word"].map({f"_w{i}": w for i, w in enumerate(words)})
    long["share"] = long["mentions"] / long["comments"]
    return long.sort_values([*by, "mentions"], ascending=[True] * len(by) + [False]).reset_index(drop=True)


def rising_themes(counts: pd.DataFrame, *, period, prior: int = 4, alpha: float = 0.05) -> pd.DataFrame:
    """Compare each theme's share in ``period`` with the ``prior`` periods before it.

    ``counts`` is :func:`theme_counts` with ``period=``. Returns one row per theme: ``share``,
    ``prior_share``, ``ratio``, ``change`` (difference of shares) with ``ci_lower``, ``ci_upper``,
    ``p_value`` and ``rising`` (significantly higher).
    """
    period = pd.Timestamp(period)
    periods = sorted(counts["period"].unique())
    before = [p for p in periods if p < period][-prior:]
    cur = counts[counts["period"] == period].set_index("theme")
    old = counts[counts["period"].isin(before)].groupby("theme")[["mentions", "comments"]].sum()
    rows = []
    for theme in cur.index:
        k1, n1 = cur.loc[theme, "mentions"], cur.loc[theme, "comments"]
        k0, n0 = old.loc[theme, "mentions"], old.loc[theme, "comments"]
        ch = metrics.proportion_change(k1, n1, k0, n0, alpha=alpha)
        rows.append({"theme": theme, "label": cur.loc[theme, "label"], "mentions": int(k1), "comments": int(n1),
                     "share": ch["current"], "prior_share": ch["baseline"],
                     "ratio": ch["current"] / ch["baseline"] if ch["baseline"] > 0 else np.nan,
                     "change": ch["change"], "ci_lower": ch["ci_lower"], "ci_upper": ch["ci_upper"],
                     "p_value": ch["p_value"], "rising": bool(ch["beyond_noise"] and ch["change"] > 0)})
    out = pd.DataFrame(rows).sort_values("change", ascending=False).reset_index(drop=True)
    out.attrs.update(period=period, prior=[pd.Timestamp(p) for p in before])
    return out


def escape_text(text) -> str:
    """Customer text made safe for Markdown/HTML: HTML-escaped, Markdown emphasis characters neutralised."""
    # quotes stay as they are: they are harmless in text, and entities like &#x27; would show verbatim
    s = html.escape("" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text), quote=False)
    return re.sub(r"([\\`*_\[\]#|])", r"\\\1", s)


def example_comments(data, *, theme: str, comment: str = "comment", id: str = "respondent_id", n: int = 3,
                     keep=("nps",), taxonomy=None, seed: int = 0, name: str | None = None) -> pd.DataFrame:
    """A few comments of one theme (by id only, never personal data), for quoting in a report."""
    tagged = tag_comments(data, comment=comment, id=id, keep=keep, taxonomy=taxonomy, name=name)
    hits = tagged[tagged["theme"] == theme]
    if len(hits) > n:
        hits = hits.sample(n=n, random_state=seed)
    return hits.reset_index(drop=True)
