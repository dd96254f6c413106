"""Voice of the customer: tag free-text comments with a YAML taxonomy, count themes, measure their impact.

Tagging runs in the engine as case-insensitive regular expressions (one flag per theme), so it scales
with the data; the results are counts per theme (and segment / period). Comments are data, never
markup: anything this module renders as Markdown is HTML-escaped.

Methods: a theme's share = comments mentioning it / comments, with a Wilson 95% interval; its *impact*
= NPS of commenters who mention it minus NPS of those who don't (points, trinomial variance, normal
interval). A theme is *rising* when this period's share is significantly above the prior periods'
(two-proportion z-test).

Themes you didn't write down (:func:`propose_themes`): the comments no taxonomy theme matches are
clustered offline (TF-IDF + NMF with scikit-learn, seeded, any language) into proposed themes with their
top words, size, NPS impact and masked example comments, so the taxonomy can grow from the data.

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

import ibis
import numpy as np
import pandas as pd
import yaml

from cxlib import data as cxdata
from cxlib import segments
from cxlib import metrics
from cxlib.empty import nothing_before

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


def _prepared(data, comment, columns, name, *, as_of=None, time=None, tz=None, periods=False, by=()):
    """The non-blank comments of the answers on or before the analysis date, and the facts for ``attrs``
    (``as_of``, ``notes``, ``zone``). ``time``: the answer time (default the contract's 'response_time'
    when the table has one; none: nothing is left out); with ``periods`` it is required and read on the
    reporting clock (``tz``, else the spec's ``tz:``, else UTC), as periods are cut. ``by``: segment
    columns, read by :func:`cxlib.segments.prepare` (``facts['by']``: as the table names them)."""
    t = cxdata.as_table(data, name=name)
    seg_notes: list = []
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[comment, *columns])
    as_of = cxdata.default_as_of(as_of, data)
    time = time if time is not None else (TIME if TIME in t.columns else None)
    zone = metrics._reporting_tz(t, tz) if periods else None
    read = t  # before the cut: an empty result says whether the table has no rows or only later ones
    t, late = cxdata.upto_as_of(t, time, as_of, tz=zone, required=periods, name=name)
    answers = t  # every answer, with a comment or not: it sets the table's last record
    t = t.filter(t[comment].notnull() & (t[comment].strip() != ""))
    return t, {"as_of": as_of, "notes": ([late] if late else []) + seg_notes, "zone": zone, "by": by,
               "answers": answers, "read": read, "time": time}


def _nothing(facts, name, *, whole: bool) -> None:
    """A result without comments: the table has no rows (an error), or every answer is after ``as_of``
    (an error for a ``whole``-table summary, else a ``nothing_before_as_of`` note in ``facts['notes']``);
    else (blank comments only) nothing to say here. One query, spent only on an empty result."""
    nothing_before(facts["read"], facts["time"], facts["as_of"], name=name, what="answers",
                           tz=facts["zone"], notes=None if whole else facts["notes"])


#: The answer time of the responses contract.
TIME = "response_time"


def tag_comments(data, *, comment: str = "comment", id: str = "respondent_id", keep=(), taxonomy=None,
                 name: str | None = None, as_of=None, time: str | None = None) -> pd.DataFrame:
    """Long table of theme mentions: one row per comment x theme it mentions.

    Columns: ``id`` column, ``theme``, ``label``, any ``keep`` columns (e.g. 'nps', 'touchpoint') and
    ``comment`` (raw text: escape it before rendering it yourself; DataFrame display escapes it).
    Answers dated after ``as_of`` (in ``time``, default 'response_time' when present; ``as_of`` default
    :func:`cxlib.data.default_as_of`) are left out and counted in ``attrs['notes']``.
    """
    tax = load_taxonomy(taxonomy)
    keep = [k for k in cxdata.as_list(list(keep)) if k not in (id, comment)]
    personal = {c.lower() for c in cxdata.PERSONAL_DATA_DEFAULT}
    bad = [k for k in keep if k.lower() in personal]
    if bad:
        raise cxdata.CXDataError(f"keep= names personal-data column(s) {', '.join(bad)}; they never leave cxlib.")
    t, facts = _prepared(data, comment, [id, *keep], name, as_of=as_of, time=time)
    parts = []
    for theme, spec in tax["themes"].items():
        hit = t.filter(_flag(t[comment], spec["pattern"]))
        parts.append(hit.select(id, *keep, comment).mutate(theme=ibis.literal(theme)))
    expr = parts[0]
    for p in parts[1:]:
        expr = expr.union(p, distinct=False)
    out = cxdata.to_pandas(expr, name=name)
    out["label"] = out["theme"].map({k: v["label"] for k, v in tax["themes"].items()})
    out = out[[id, "theme", "label", *keep, comment]].sort_values([id, "theme"]).reset_index(drop=True)
    if out.empty:  # a list of mentions: none is a finding (a note when every answer is after as_of)
        _nothing(facts, name, whole=False)
    out.attrs.update(as_of=facts["as_of"], notes=facts["notes"])
    return out


def theme_counts(data, *, comment: str = "comment", by=None, time: str | None = None, period: str | None = None,
                 taxonomy=None, alpha: float = 0.05, min_n: int = 30, tz: str | None = None,
                 week_start: str = "monday", name: str | None = None, as_of=None) -> pd.DataFrame:
    """Comments mentioning each theme, per segment and/or period, with share and Wilson 95% interval.

    Periods are cut as in :func:`cxlib.metrics.nps`: in the reporting time zone ``tz`` (default: the
    source spec's ``tz:``, else UTC), weeks starting on ``week_start``. Comments dated after ``as_of``
    (in ``time``, default 'response_time' when present; ``as_of`` default
    :func:`cxlib.data.default_as_of`) are left out and counted in ``attrs['notes']``; a trend whose
    comments end more than one period before it gets a ``data_ends_early`` note.

    Returns one row per (segment x period x) theme: ``theme``, ``label``, ``stage``, ``comments`` (n),
    ``mentions``, ``share``, ``ci_lower``, ``ci_upper``, ``suppressed`` (+ ``complete`` with ``period``:
    the period ended by the earlier of ``as_of`` and the answers' last record, ``attrs['data_end']``).
    """
    tax = load_taxonomy(taxonomy)
    by = cxdata.as_list(by)
    if period and not time:
        raise cxdata.CXDataError("period= needs the time column: pass time='response_time' (or yours).")
    t, facts = _prepared(data, comment, [time] if time else [], name, as_of=as_of, time=time, tz=tz,
                         periods=bool(period), by=by)
    by = facts["by"]
    keys = list(by)
    if period:
        t = t.mutate(period=metrics.period_start(t[time], period, week_start=week_start).cast("date"))
        keys.append("period")
    aggs = {"comments": t.count(), **{f"_t_{k}": _flag(t[comment], v["pattern"]).cast("int64").sum()
                                      for k, v in tax["themes"].items()}}
    wide = cxdata.to_pandas(t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs), name=name)
    if wide.empty or not (wide["comments"] > 0).any():  # whole table: an error; per segment / period: a note
        _nothing(facts, name, whole=not keys)
        wide = wide.fillna(0)  # the sums over no comments are 0
    notes, attrs = list(facts["notes"]), {}
    if period:  # the answers' last record (on the periods' clock): does the trend end early, which periods ended?
        local = cxdata.local_as_of(facts["as_of"], facts["zone"])
        seen = cxdata.last_record(facts["answers"], [time], local, name=name)
        early = cxdata.ends_early(t, seen, local, period, name=name)
        if early is not None:
            notes.append(early)
        attrs = {"data_end": seen, "period": period, "_end": cxdata.observed_end(local, seen)}
    long = wide.melt(id_vars=[*keys, "comments"], var_name="theme", value_name="mentions")
    long["theme"] = long["theme"].str.removeprefix("_t_")
    long["label"] = long["theme"].map({k: v["label"] for k, v in tax["themes"].items()})
    long["stage"] = long["theme"].map({k: v["stage"] for k, v in tax["themes"].items()})
    if "period" in long:
        long["period"] = pd.to_datetime(long["period"])
    k = long["mentions"].to_numpy(float)
    n = long["comments"].to_numpy(float)
    long["share"] = k / np.where(n > 0, n, np.nan)
    from cxlib.stats import wilson

    long["ci_lower"], long["ci_upper"] = wilson(k, n, alpha)
    long["suppressed"] = long["comments"] < min_n
    long.loc[long["suppressed"], ["share", "ci_lower", "ci_upper"]] = np.nan
    order = [*keys, "theme", "label", "stage", "comments", "mentions", "share", "ci_lower", "ci_upper", "suppressed"]
    if period:  # the period ended by the earlier of as_of and the answers' last record
        long["complete"] = metrics.period_complete(long["period"], period, attrs.pop("_end"))
        order.append("complete")
    out = long[order].sort_values([*keys, "mentions"], ascending=[True] * len(keys) + [False]).reset_index(drop=True)
    out.attrs.update(as_of=facts["as_of"], notes=notes, **attrs)
    return out


def theme_impact(data, *, comment: str = "comment", score: str = "nps", taxonomy=None, alpha: float = 0.05,
                 min_n: int = 30, name: str | None = None, as_of=None, time: str | None = None) -> pd.DataFrame:
    """NPS of commenters who mention each theme vs those who don't (points, 95% interval, p-value).

    Answers after ``as_of`` are left out (``time``, ``as_of`` and ``attrs['notes']`` as in
    :func:`tag_comments`).

    Returns one row per theme: ``theme``, ``label``, ``mentions``, ``nps_with``, ``nps_without``,
    ``impact`` (difference), ``ci_lower``, ``ci_upper``, ``p_value``, ``suppressed``.
    """
    tax = load_taxonomy(taxonomy)
    t, facts = _prepared(data, comment, [score], name, as_of=as_of, time=time)
    t = cxdata.clean_numeric(t, score, lo=0, hi=10, integer=True, name=name)
    t = t.filter(t[score].notnull())
    s = t[score]
    themes_ = list(tax["themes"].items())
    # one query for every theme: counts of commenters who mention it and who don't (a theme a query cost
    # more in compiling than in running)
    aggs = {}
    for i, (_theme, spec) in enumerate(themes_):
        f = _flag(t[comment], spec["pattern"])
        for side, cond in (("hit", f), ("miss", ~f)):
            aggs[f"n_{side}_{i}"] = cond.cast("int64").sum()
            aggs[f"promoters_{side}_{i}"] = (cond & (s >= 9)).cast("int64").sum()
            aggs[f"detractors_{side}_{i}"] = (cond & (s <= 6)).cast("int64").sum()
    got = cxdata.to_pandas(t.aggregate(**aggs), name=name).iloc[0] if themes_ else None
    if got is not None and not int(got["n_hit_0"] or 0) + int(got["n_miss_0"] or 0):
        _nothing(facts, name, whole=True)  # no rows, or none on or before as_of: an error that says which
    rows = []
    for i, (theme, spec) in enumerate(themes_):
        def side(k):
            n = int(got[f"n_{k}_{i}"] or 0)
            return None if n == 0 else pd.Series({"n": n, "promoters": int(got[f"promoters_{k}_{i}"] or 0),
                                                  "detractors": int(got[f"detractors_{k}_{i}"] or 0)})
        with_, without = side("hit"), side("miss")
        row = {"theme": theme, "label": spec["label"], "mentions": int(with_["n"]) if with_ is not None else 0}
        if with_ is None or without is None or with_["n"] < min_n:
            row.update(nps_with=np.nan, nps_without=np.nan, impact=np.nan, ci_lower=np.nan, ci_upper=np.nan,
                       p_value=np.nan, suppressed=True)
        else:
            ch = metrics.nps_change(with_, without, alpha=alpha)
            row.update(nps_with=ch["current"], nps_without=ch["baseline"], impact=ch["change"],
                       ci_lower=ch["ci_lower"], ci_upper=ch["ci_upper"], p_value=ch["p_value"], suppressed=False)
        rows.append(row)
    out = pd.DataFrame(rows).sort_values("impact").reset_index(drop=True)
    out.attrs.update(as_of=facts["as_of"], notes=facts["notes"])
    return out


def trouble_word_counts(data, *, comment: str = "comment", by=None, taxonomy=None,
                        name: str | None = None, as_of=None, time: str | None = None) -> pd.DataFrame:
    """How many comments contain each trouble word ('confusing', 'gave up', ...), per segment.

    Answers after ``as_of`` are left out (as in :func:`tag_comments`)."""
    tax = load_taxonomy(taxonomy)
    by = cxdata.as_list(by)
    t, facts = _prepared(data, comment, [], name, as_of=as_of, time=time, by=by)
    by = facts["by"]
    words = tax["trouble_words"]
    aggs = {"comments": t.count(), **{f"_w{i}": _flag(t[comment], _WORD_START + re.escape(w)).cast("int64").sum()
                                      for i, w in enumerate(words)}}
    wide = cxdata.to_pandas(t.group_by(by).aggregate(**aggs) if by else t.aggregate(**aggs), name=name)
    if wide.empty or not (wide["comments"] > 0).any():  # whole table: an error; per segment: a note
        _nothing(facts, name, whole=not by)
        wide = wide.fillna(0)  # the sums over no comments are 0
    long = wide.melt(id_vars=[*by, "comments"], var_name="word", value_name="mentions")
    long["word"] = long["word"].map({f"_w{i}": w for i, w in enumerate(words)})
    long["share"] = long["mentions"] / long["comments"].where(long["comments"] > 0)
    out = long.sort_values([*by, "mentions"], ascending=[True] * len(by) + [False]).reset_index(drop=True)
    out.attrs.update(as_of=facts["as_of"], notes=facts["notes"])
    return out


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
                     keep=("nps",), taxonomy=None, seed: int = 0, name: str | None = None, as_of=None,
                     time: str | None = None) -> pd.DataFrame:
    """A few comments of one theme (by id only, never personal data), for quoting in a report; none dated
    after ``as_of`` (as in :func:`tag_comments`)."""
    tagged = tag_comments(data, comment=comment, id=id, keep=keep, taxonomy=taxonomy, name=name, as_of=as_of,
                          time=time)
    hits = tagged[tagged["theme"] == theme]
    if len(hits) > n:
        hits = hits.sample(n=n, random_state=seed)
    out = hits.reset_index(drop=True)
    out.attrs.update(as_of=tagged.attrs["as_of"], notes=list(tagged.attrs["notes"]))
    return out


# ------------------------------------------------------------------------------------------ proposed themes

#: Words: runs of two or more letters in any script (digits and underscores are not words), so German,
#: Spanish, Polish ... comments tokenise as well as English ones. No stop-word list is applied by default:
#: words in more than ``max_df`` of the comments (function words of any language) are left out instead.
WORD_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"


def _untagged(data, comment, score, id, taxonomy, name, as_of=None, time=None):
    """Comments (non-blank) that no taxonomy theme matches, plus the NPS counts of every commenter and the
    facts of :func:`_prepared`."""
    import ibis

    tax = load_taxonomy(taxonomy)
    t, facts = _prepared(data, comment, [], name, as_of=as_of, time=time)
    if score is not None and score in t.columns:
        t = cxdata.clean_numeric(t, score, lo=0, hi=10, integer=True, required=False, name=name)
    else:
        score = None
    flags = [_flag(t[comment], spec["pattern"]) for spec in tax["themes"].values()]
    matched = ibis.or_(*flags) if flags else ibis.literal(False)
    t = t.mutate(_matched=matched.fill_null(False))
    aggs = {"comments": t.count(), "untagged": (~t["_matched"]).cast("int64").sum()}
    if score is not None:
        s = t[score]
        aggs.update(n=s.count(), promoters=(s >= 9).cast("int64").sum(), detractors=(s <= 6).cast("int64").sum())
    totals = cxdata.to_pandas(t.aggregate(**aggs), name=name).iloc[0].fillna(0)
    return t.filter(~t["_matched"]), totals, score, facts


def _merge_factors(x, factor, assigned, k: int, similar: float) -> np.ndarray:
    """Theme number of each NMF factor: factors whose comment groups have centroids (mean TF-IDF rows)
    at cosine similarity >= ``similar`` under average linkage share a theme; empty factors keep their own."""
    from scipy.cluster.hierarchy import fcluster, linkage

    group = np.arange(k)
    used = [j for j in range(k) if (assigned & (factor == j)).any()]
    if len(used) < 2 or similar >= 1:
        return group
    cen = np.vstack([np.asarray(x[assigned & (factor == j)].mean(axis=0)).ravel() for j in used])
    norm = np.linalg.norm(cen, axis=1, keepdims=True)
    cen = cen / np.where(norm > 0, norm, 1)
    dist = np.clip(1 - cen @ cen.T, 0, 2)
    iu = np.triu_indices(len(used), 1)
    labels = fcluster(linkage(dist[iu], method="average"), t=1 - similar, criterion="distance")
    # renumber: the merged themes first, in factor order, then the empty factors
    first = {}
    for j, lab in zip(used, labels):
        first.setdefault(lab, len(first))
    for j, lab in zip(used, labels):
        group[j] = first[lab]
    for i, j in enumerate([j for j in range(k) if j not in used]):
        group[j] = len(first) + i
    return group


def propose_themes(data, *, comment: str = "comment", score: str | None = "nps", id: str = "respondent_id",
                   taxonomy=None, n_themes: int = 6, random_state: int = 0, min_size: int = 20,
                   analyzer: str = "word", stop_words=None, max_df: float = 0.5, n_terms: int = 6,
                   n_examples: int = 3, max_comments: int = 20_000, alpha: float = 0.05,
                   merge_similar: float = 0.2, name: str | None = None, as_of=None,
                   time: str | None = None) -> pd.DataFrame:
    """Themes you didn't write down: clusters of the comments that no taxonomy theme matches.

    Method: the comments no taxonomy pattern matches are turned into TF-IDF vectors (scikit-learn
    ``TfidfVectorizer``, sublinear term frequency, l2-normalised) and factorised by non-negative matrix
    factorisation (``NMF``, ``init='nndsvda'``, seeded by ``random_state``; nothing is downloaded). Each
    comment joins the factor it loads on most (comments that load on none stay unassigned); factors with
    fewer than ``min_size`` comments are dropped. A proposed theme is described by the words with the
    largest weight in its factor and quoted by the comments that load on it most.

    Language: words are runs of letters in any script (:data:`WORD_PATTERN`), so accented and non-Latin
    words count; no English stop-word list is used by default. Words in more than ``max_df`` of the
    comments (the function words of any language) and in fewer than 3 are left out. ``analyzer='char'``
    clusters on character 3-5-grams inside words instead (inflected languages, or scripts written without
    spaces); the top terms are then the words most typical of the theme (the largest difference between
    the theme's and the other comments' average word TF-IDF).

    NPS impact: the NPS of the theme's commenters against every other commenter's (all comments, matched
    or not), as :func:`theme_impact` does for taxonomy themes: the difference in points with the normal
    interval on the sum of the two trinomial variances (:func:`cxlib.metrics.nps_change`), the theme's own
    NPS with the interval of :func:`cxlib.metrics.nps_from_counts` (adjusted Wald under 100 answers).

    Parameters
    ----------
    data : DataFrame, path, Ibis table or source spec
        Responses with a comment column (and the 0-10 score for the impact).
    comment, score, id : str
        Comment, score (None: no impact) and respondent id columns (the id is optional).
    taxonomy : path or dict, optional
        The taxonomy whose themes are already known (default: cxlib's).
    n_themes : int
        NMF factors fitted (fewer when there are few comments or words): the most themes proposed.
    merge_similar : float
        Factors that split one theme (NMF with more factors than themes splits the largest ones) are
        merged: the factors' groups of comments are joined by average-linkage clustering of their
        centroids (mean TF-IDF word vectors) while the cosine similarity between groups is at least this
        (scipy ``linkage``); 1 merges nothing. ``attrs['factors']`` and ``attrs['merged']`` record it.
    random_state : int
        Seed of the factorisation (results reproduce).
    min_size : int
        Fewest comments a proposed theme needs; its NPS and impact also need ``min_size`` scored answers.
    analyzer : {'word', 'char'}
        What the vectors count (see above).
    stop_words : list of str, optional
        Words to leave out (none by default).
    max_df : float
        Words in more than this share of the comments are left out.
    n_terms, n_examples : int
        Top terms and example comments per theme.
    max_comments : int
        Above this many untagged comments a seeded random sample of this size is clustered
        (``attrs['sampled']``); sizes are then counts in the sample, and the "other commenters" of the
        NPS comparison include the comments left out of the sample.
    as_of, time : optional
        Comments dated after ``as_of`` in ``time`` are left out (as in :func:`tag_comments`).

    Returns
    -------
    pandas.DataFrame
        One row per proposed theme, largest first: ``theme`` ('proposed_1' ...), ``label`` (its top three
        terms), ``top_terms`` (comma-separated), ``size`` (comments), ``share`` (of the untagged comments)
        with ``share_ci_lower`` / ``share_ci_upper`` (Wilson), ``n`` (scored answers), ``nps``,
        ``ci_lower``, ``ci_upper``, ``nps_rest`` (every other commenter), ``impact`` (points) with
        ``impact_ci_lower`` / ``impact_ci_upper``, ``p_value``, ``beyond_noise``, ``suppressed`` (fewer than
        ``min_size`` scored answers: no NPS), ``example`` (the most typical comment, e-mail addresses and
        phone numbers masked). ``attrs``: ``examples`` (a table of ``theme``, id, score and masked
        ``comment``, ``n_examples`` per theme), ``comments``, ``untagged``, ``clustered``, ``unassigned``,
        ``sampled``, ``method``, ``assignments`` (the id, or the masked comment when there is no id
        column, and the ``theme`` of every clustered comment: for the analyst, not for a page).

    Examples
    --------
    >>> themes.propose_themes("responses.csv", n_themes=5)[["label", "size", "impact"]]  # doctest: +SKIP
    """
    from cxlib.sources.personal import mask_contacts

    if analyzer not in ("word", "char"):
        raise cxdata.CXDataError(f"analyzer must be 'word' or 'char', not {analyzer!r}.")
    if int(n_themes) < 1 or int(min_size) < 1:
        raise cxdata.CXDataError("n_themes and min_size must be at least 1.")
    t0 = cxdata.as_table(data, name=name)
    cxdata.require_columns(t0, [comment], name=name)
    has_id = id in t0.columns
    untagged, totals, score, facts = _untagged(t0, comment, score, id, taxonomy, name,
                                               as_of=cxdata.default_as_of(as_of, data), time=time)
    n_untagged = int(totals["untagged"])
    if not int(totals["comments"]):  # no proposals is a finding; say so when every answer is after as_of
        _nothing(facts, name, whole=False)
    sampled = n_untagged > max_comments
    if sampled:
        untagged = untagged.sample(min(1.0, 1.2 * max_comments / n_untagged), seed=random_state).limit(max_comments)
    cols = [c for c in ([id] if has_id else []) + [comment] + ([score] if score else [])]
    rows = cxdata.to_pandas(untagged.select(*dict.fromkeys(cols)), name=name)
    rows = rows.sort_values([c for c in ([id] if has_id else []) + [comment]], kind="mergesort",
                            ignore_index=True)  # engines return rows in any order: the factorisation must not care
    text_in = rows[comment].astype(str).map(mask_contacts)
    attrs = {"comments": int(totals["comments"]), "untagged": n_untagged, "clustered": 0, "unassigned": 0,
             "sampled": bool(sampled), "method": "tfidf_nmf", "analyzer": analyzer, "n_themes": int(n_themes),
             "random_state": random_state, "as_of": facts["as_of"], "notes": facts["notes"]}
    out_cols = ["theme", "label", "top_terms", "size", "share", "share_ci_lower", "share_ci_upper", "n", "nps",
                "ci_lower", "ci_upper", "nps_rest", "impact", "impact_ci_lower", "impact_ci_upper", "p_value",
                "beyond_noise", "suppressed", "example"]
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in out_cols})
    empty.attrs.update(attrs, examples=pd.DataFrame(columns=["theme", *cols]))
    if len(rows) < max(min_size, 2):
        return empty
    from sklearn.decomposition import NMF  # imported only when there is something to cluster (~1 s)
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(token_pattern=WORD_PATTERN, lowercase=True, sublinear_tf=True, min_df=3, max_df=max_df,
                            stop_words=list(stop_words) if stop_words else None, dtype=np.float64)
    try:
        xw = words.fit_transform(text_in)
    except ValueError:  # no word left after the frequency limits
        return empty
    if analyzer == "char":
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True, sublinear_tf=True, min_df=3,
                                max_df=max_df, dtype=np.float64)
        try:
            x = chars.fit_transform(text_in)
        except ValueError:
            return empty
    else:
        x = xw
    k = int(max(1, min(n_themes, x.shape[0] // max(min_size, 1), x.shape[1] - 1)))
    nmf = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=1000, tol=1e-5)
    w = nmf.fit_transform(x)
    factor = w.argmax(axis=1)
    assigned = w.max(axis=1) > 1e-9
    group = _merge_factors(x, factor, assigned, k, merge_similar)  # factor -> theme
    top = group[factor]
    wg = np.zeros((w.shape[0], int(group.max()) + 1))
    np.add.at(wg.T, group, w.T)  # each comment's loading on each merged theme
    hg = np.zeros((wg.shape[1], nmf.components_.shape[1]))
    np.add.at(hg, group, nmf.components_)
    attrs.update(factors=k, merged=int(k - wg.shape[1]))
    vocab = np.asarray(words.get_feature_names_out())
    out = []
    total_n = float(totals.get("n", 0)) if score else 0.0
    for j in range(wg.shape[1]):
        members = np.nonzero(assigned & (top == j))[0]
        if len(members) < min_size:
            continue
        if analyzer == "word":
            weights = hg[j]
        else:  # the words most typical of the theme against the other comments
            inside = np.asarray(xw[members].mean(axis=0)).ravel()
            rest = np.setdiff1d(np.arange(x.shape[0]), members)
            weights = inside - (np.asarray(xw[rest].mean(axis=0)).ravel() if len(rest) else 0)
        order = [i for i in np.argsort(-weights, kind="mergesort")[:n_terms] if weights[i] > 0]
        terms = [str(vocab[i]) for i in order]
        typical = members[np.argsort(-wg[members, j], kind="mergesort")]
        seen, pick = set(), []  # the most typical comments, each wording once
        for i in typical:
            key = re.sub(r"\W+", " ", text_in.iloc[i].lower()).strip()
            if key not in seen:
                seen.add(key)
                pick.append(i)
            if len(pick) == n_examples:
                break
        ex = rows.iloc[pick].copy()
        ex[comment] = ex[comment].astype(str).map(mask_contacts)
        if score:
            ex[score] = pd.to_numeric(ex[score], errors="coerce").astype("Int64")
        named = [s for s in terms if len(s) > 2] or terms  # the label skips two-letter words ("to", "la", "zu")
        row = {"label": " / ".join(named[:3]), "top_terms": ", ".join(terms), "size": len(members),
               "example": str(ex[comment].iloc[0]), "_ex": ex, "_members": members}
        if score:
            sc = pd.to_numeric(rows.loc[members, score], errors="coerce").dropna()
            c = {"n": float(len(sc)), "promoters": float((sc >= 9).sum()), "detractors": float((sc <= 6).sum())}
            rest = {"n": total_n - c["n"], "promoters": float(totals["promoters"]) - c["promoters"],
                    "detractors": float(totals["detractors"]) - c["detractors"]}
            row["n"] = int(c["n"])
            if c["n"] >= min_size and rest["n"] > 0:
                own = metrics.nps_from_counts(pd.DataFrame([c]), alpha=alpha, min_n=1).iloc[0]
                ch = metrics.nps_change(c, rest, alpha=alpha)
                row.update(nps=own["nps"], ci_lower=own["ci_lower"], ci_upper=own["ci_upper"],
                           nps_rest=ch["baseline"], impact=ch["change"], impact_ci_lower=ch["ci_lower"],
                           impact_ci_upper=ch["ci_upper"], p_value=ch["p_value"], beyond_noise=ch["beyond_noise"],
                           suppressed=False)
            else:
                row["suppressed"] = True
        else:
            row.update(n=0, suppressed=True)
        out.append(row)
    attrs.update(clustered=int(sum(r["size"] for r in out)), unassigned=int(len(rows) - sum(r["size"] for r in out)))
    if not out:
        empty.attrs.update(attrs)
        return empty
    res = pd.DataFrame(out).sort_values("size", ascending=False, kind="mergesort").reset_index(drop=True)
    res["theme"] = [f"proposed_{i + 1}" for i in range(len(res))]
    from cxlib.stats import wilson

    sh_n = np.full(len(res), float(len(rows)))
    res["share"] = res["size"] / sh_n
    res["share_ci_lower"], res["share_ci_upper"] = wilson(res["size"].to_numpy(float), sh_n, alpha)
    for c in out_cols:
        if c not in res:
            res[c] = np.nan
    res["beyond_noise"] = [v is True or (isinstance(v, (bool, np.bool_)) and bool(v)) for v in res["beyond_noise"]]
    res["suppressed"] = [not (v is False or (isinstance(v, (bool, np.bool_)) and not bool(v)))
                         for v in res["suppressed"]]
    ex = pd.concat([e.assign(theme=th) for th, e in zip(res["theme"], res["_ex"])], ignore_index=True)
    key = id if has_id else comment
    keyvals = rows[id] if has_id else text_in  # comments masked like the examples
    assignments = pd.concat([pd.DataFrame({key: keyvals.iloc[m].to_numpy(), "theme": th})
                             for th, m in zip(res["theme"], res["_members"])], ignore_index=True)
    res = res[out_cols]
    res.attrs.update(attrs, examples=ex[["theme", *cols]], assignments=assignments)
    return res


__all__ += ["propose_themes", "WORD_PATTERN"]
