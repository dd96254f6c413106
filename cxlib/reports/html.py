"""Pages from executed notebooks: self-contained HTML (code hidden, figures inline with alt text, no
network scripts), the page footer and the short failure page for people.

This module writes pages; it never reads figures or sentences back out of one (those travel as data:
:mod:`cxlib.reports.tables`).
"""
from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path


_CSS = """
<style>
  body { max-width: 62rem; margin: 0 auto; padding: 0 1rem; font-size: 16px; line-height: 1.5; }
  .jp-Notebook { padding: 0 !important; }
  img { max-width: 100%; height: auto; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  .jp-RenderedHTMLCommon table { display: block; overflow-x: auto; max-width: 100%; font-size: 0.9em; }
  .cx-demo { background: #fff4d6; border: 1px solid #b38600; padding: 0.4rem 0.8rem; margin: 0.5rem 0; }
  .cx-footer { color: #555; font-size: 0.85em; border-top: 1px solid #ddd; margin-top: 2rem; padding: 0.5rem 0; }
  @media (max-width: 40rem) { body { font-size: 15px; padding: 0 0.5rem; } }
  @media print { body { max-width: none; } .jp-OutputArea-output img { page-break-inside: avoid; } }
</style>
"""


def notebook_title(nb) -> str:
    """The notebook's first level-1 Markdown heading (its page title), else "Report".

    Examples
    --------
    >>> from nbformat.v4 import new_markdown_cell, new_notebook
    >>> notebook_title(new_notebook(cells=[new_markdown_cell("# NPS drivers")]))
    'NPS drivers'
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "Report"


def _figure_alts(nb, title: str) -> list[str]:
    """Alt text for each PNG output, in order: the figure's title if the notebook set one, else the
    section heading it sits under."""
    alts, heading, k = [], title, 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                k += 1
                label = out.get("metadata", {}).get("cx_alt") or heading
                alts.append(f"Figure {k}: {label}")
    return alts


_SCRIPT = re.compile(r"<script\b.*?(?:</script\s*>|$)", re.I | re.S)
_HANDLER = re.compile(r"""(<[^>]*?)\s+on[a-z]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_JS_URL = re.compile(r"""((?:href|src|action|formaction|xlink:href)\s*=\s*["']?)\s*javascript:""", re.I)


def defuse_html(markup: str) -> str:
    """Second line of defence for notebook output HTML (the first is escaping by construction in
    cxlib.present): drop <script> elements, on* event-handler attributes and javascript: URLs.

    nbconvert's own ``sanitize_html`` would also drop the <style>, <thead> and <th> that Great Tables
    needs, so this narrower pass is used instead.
    """
    out = _SCRIPT.sub("", markup)
    while True:
        new = _HANDLER.sub(r"\1", out)
        if new == out:
            break
        out = new
    return _JS_URL.sub(r"\1#", out)


def render_html(ipynb_path, html_path, *, footer: str = "", demo: bool = False) -> str:
    """Executed notebook -> self-contained HTML: code hidden, stderr dropped, figures inline with alt
    text, no script fetched from the network, readable on a phone and printed. Returns the page's title
    (:func:`notebook_title`), which the manifest keeps for the index."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(ipynb_path), as_version=4)
    # code cells without output would leave empty boxes (blank strips) on the page
    nb.cells = [c for c in nb.cells if c.cell_type != "code"
                or any(o.get("name") != "stderr" for o in c.get("outputs", []))]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("name") != "stderr"]
            for o in cell.outputs:
                data = o.get("data", {})
                for mime in ("text/html", "text/markdown"):
                    if mime in data:
                        raw = data[mime]
                        data[mime] = defuse_html("".join(raw) if isinstance(raw, list) else raw)
        elif cell.cell_type == "markdown":
            cell.source = defuse_html(cell.source)
    title = notebook_title(nb)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    # Self-contained: drop scripts loaded from the network (require.js, MathJax CDN).
    body = re.sub(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", "", body)
    body = re.sub(r"<script\b[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>", "", body,
                  flags=re.S)  # inline loaders that import from a CDN (mermaid)
    alts = iter(_figure_alts(nb, title))

    def alt(m):
        tag = re.sub(r'\salt="[^"]*"', "", m.group(0))
        text = next(alts, f"Figure: {title}")
        return tag.replace("<img", f'<img alt="{html.escape(text, quote=True)}"', 1)

    body = re.sub(r"<img\b[^>]*>", alt, body)
    body = body.replace("</head>", _CSS + "</head>", 1)
    if demo:
        body = re.sub(r"(<body[^>]*>)", r'\1<div class="cx-demo" role="note"><strong>Demo data.</strong> This page '
                      r"was made from the bundled sample data, not from your own sources.</div>", body, count=1)
    if footer:
        body = body.replace("</body>", f'<footer class="cx-footer">{footer}</footer></body>', 1)
    Path(html_path).write_text(body, encoding="utf-8")
    return title


def _page_footer(end_iso: str, notebook_name: str, demo: bool) -> str:
    """The page's footer: when and from which notebook it was made, and whether on demo data."""
    stamp_text = dt.datetime.fromisoformat(end_iso).strftime("%Y-%m-%d %H:%M UTC")
    footer = f"Generated {stamp_text} by cx-workbook from {html.escape(notebook_name)}"
    return footer + (" &middot; Demo data (the bundled sample)" if demo else "")



def _notebook_title_of(nb: Path) -> str:
    """:func:`notebook_title` of a notebook file (its file name's stem when it cannot be read)."""
    import nbformat

    try:
        return notebook_title(nbformat.read(str(nb), as_version=4))
    except (OSError, ValueError):
        return nb.stem


def write_failure_page(path: Path, *, title: str, slug: str, message: str, when: str, log: str) -> None:
    """A short page for people: what failed, what to do, where the details are (no traceback)."""
    e = html.escape
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}: not updated</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem;
line-height: 1.5; }} .msg {{ background: #fff4e5; border-left: 4px solid #b35900; padding: 0.5rem 1rem; }}</style>
</head><body>
<h1>{e(title)}</h1>
<p><strong>This report could not be produced</strong> in the run of {e(when)}.</p>
<p class="msg">{e(message)}</p>
<p>What to do: fix the input or parameter named above, then run <code>cx run {e(slug)}</code> again.
The technical details are in the run log <code>{e(log)}</code> on the machine that ran the report.</p>
</body></html>
"""
    path.write_text(body, encoding="utf-8")

