"""``reports/index.html``: every dated run, newest first, each page with its status, title and answer, and
the headline figures of the last runs as a trend.

Everything shown comes from the manifests (which take each page's title from its notebook and its answer
and key figures from the ``headline`` table the page published); no page's HTML is read.

Examples
--------
>>> _sparkline([1.0, None, 3.0]).startswith('<svg class="spark"')
True
"""
from __future__ import annotations

import html
import uuid
from pathlib import Path

from cxlib import paths
from cxlib.reports.html import _notebook_title_of
from cxlib.reports.manifest import _manifests


def _title(record: dict) -> str:
    """A page's title: from its manifest record, else its notebook's heading, else its name."""
    if record.get("title"):
        return str(record["title"])
    notebook = paths.NOTEBOOKS_DIR / f"{record['notebook']}.ipynb"
    return _notebook_title_of(notebook) if notebook.exists() else record["notebook"]


def write_index(reports_dir=None) -> Path:
    """Rebuild ``reports/index.html``: every dated run, newest first, each notebook with status and link."""
    reports = Path(reports_dir or paths.REPORTS_DIR)
    reports.mkdir(parents=True, exist_ok=True)
    rows = []
    for manifest, m in _manifests(reports):
        items = []
        folder = manifest.parent.name
        for n in m.get("notebooks", []):
            slug = html.escape(n["notebook"])
            ok = n.get("status") == "ok"
            badge = '<span class="ok">ok</span>' if ok else '<span class="failed">failed</span>'
            demo = ' <span class="demo">Demo data</span>' if n.get("demo") else ""
            link = f'<a href="{folder}/{slug}.html">{html.escape(_title(n))}</a>'
            head = f"<br><span class=\"head\">{html.escape(n['headline'])}</span>" if ok and n.get("headline") else ""
            attempt = n.get("last_attempt")
            note = ""
            if attempt and attempt.get("status") == "failed":
                when = html.escape(str(attempt.get("time", ""))[11:16])
                what = "a later attempt" if ok else "the run"
                note = (f'<br><span class="attempt">{what} at {when} UTC failed: '
                        f'{html.escape(attempt.get("message") or "")} '
                        f'(<a href="{folder}/{html.escape(attempt.get("page", ""))}">error page</a>, '
                        f'<a href="{html.escape(attempt.get("log", ""))}">log</a>)</span>')
            items.append(f"<li>{link} {badge}{demo} <small>{n.get('duration_s', 0):.0f} s</small>{head}{note}</li>")
        rows.append(f"<section><h2>{html.escape(manifest.parent.name)}</h2><ul>{''.join(items)}</ul>"
                    f"<p><small>tables and manifest: <a href=\"{manifest.parent.name}/manifest.json\">"
                    f"manifest.json</a></small></p></section>")
    body = _trends(reports) + ("".join(rows) or "<p>No reports yet. Run <code>make report</code> or "
                               "<code>cx run</code>.</p>")
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
 .demo {{ font-size: 0.8em; padding: 0 0.4em; border: 1px solid #555; border-radius: 0.3em; }}
 .attempt {{ color: #8a3b00; font-size: 0.9em; }}
 .trends table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
 .trends td, .trends th {{ padding: 0.2rem 0.4rem; text-align: left; border-bottom: 1px solid #eee; }}
 .trends .num {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
 .trends tr.page th {{ padding-top: 0.6rem; border-bottom: 1px solid #ccc; }}
 @media (max-width: 30rem) {{ .trends .runs {{ display: none; }} }}
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


def _sparkline(values: list[float | None]) -> str:
    """A tiny inline SVG line of the values (oldest left), with the last point marked."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return ""
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = (hi - lo) or 1.0
    w, h, n = 96, 24, max(len(values) - 1, 1)
    xy = [(2 + i * (w - 4) / n, h - 3 - (v - lo) / span * (h - 6)) for i, v in pts]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    x, y = xy[-1]
    return (f'<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" aria-hidden="true">'
            f'<polyline fill="none" stroke="#0072B2" stroke-width="1.5" points="{line}"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#0072B2"/></svg>')


def _estimate(figure: dict) -> float | None:
    """The number behind a key figure (its ``estimate``; a record from before the headline table has none)."""
    value = figure.get("estimate")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _trends(reports: Path, weeks: int = 8) -> str:
    """The headline key figures of the last ``weeks`` dated runs, per notebook: values and a sparkline."""
    series: dict[tuple[str, str], dict[str, dict]] = {}
    titles: dict[str, str] = {}
    dates = []
    for manifest, m in _manifests(reports)[:weeks]:
        dates.append(manifest.parent.name)
        for n in m.get("notebooks", []):
            titles.setdefault(n["notebook"], _title(n))  # newest first: the latest run's title
            for f in (n.get("key_figures") or [])[:3]:
                series.setdefault((n["notebook"], f["label"]), {})[manifest.parent.name] = f
    dates = sorted(dates)
    if not series or len(dates) < 2:  # a trend needs at least two runs
        return ""
    rows, current = [], None
    for (slug, label), figs in sorted(series.items(), key=lambda kv: kv[0][0]):
        if slug != current:
            current = slug
            rows.append(f'<tr class="page"><th colspan="4">{html.escape(titles.get(slug, slug))}</th></tr>')
        shown = [figs.get(d) for d in dates]
        latest = next((f["value"] for f in reversed(shown) if f and f.get("value")), "")
        spark = _sparkline([_estimate(f) if f else None for f in shown])
        rows.append(f"<tr><td>{html.escape(label)}</td><td class=\"num\">{html.escape(latest)}</td>"
                    f"<td>{spark}</td><td class=\"runs\">{sum(1 for f in shown if f and f.get('value'))} of "
                    f"{len(dates)}</td></tr>")
    return ("<section class=\"trends\"><h2>Headline figures over the last runs</h2><table><thead><tr>"
            "<th>Figure</th><th>Latest</th><th>Trend</th><th class=\"runs\">Runs</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></section>")
