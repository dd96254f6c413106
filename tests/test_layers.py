"""The layers of DESIGN.md ("Layers"): what import-linter enforces, and what it cannot (checked here).

- import-linter's contracts in pyproject.toml pass (layers, present/plots import no analysis and no
  scipy/statsmodels, no circles between siblings);
- no circle between any two cxlib modules in grimp's graph (imports inside functions included, parent
  packages included);
- no module over 1,000 lines;
- every notebook is thin: at most 120 code lines outside the parameters cell, no loops or
  comprehensions, no function definitions or lambdas, no private names;
- no lazy import hides an edge from the graph (``importlib.import_module``, ``__import__``, a module
  ``__getattr__``);
- no regular expression in cxlib.reports reads a page or a notebook's outputs (figures travel as data);
- analyses return numbers and codes: they import no presentation module and define no ``summarize``.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp
import nbformat
import pytest

from cxlib.paths import PROJECT_ROOT

CXLIB = PROJECT_ROOT / "cxlib"
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
MAX_LINES = 1000
MAX_NOTEBOOK_CODE_LINES = 120
#: The analyses of DESIGN.md's table (numbers and note codes).
ANALYSES = ("metrics", "cohorts", "churn", "survival", "drivers", "themes", "journey", "support", "revenue",
            "clv", "at_risk", "comparisons", "scorecard", "experiments", "segments", "periods", "empty")


def _modules() -> list[Path]:
    return sorted(CXLIB.rglob("*.py"))


@pytest.fixture(scope="module")
def graph():
    # grimp reads every import statement, those inside functions included
    return grimp.build_graph("cxlib", cache_dir=None)


# ------------------------------------------------------------------------------------------ import-linter

def test_import_linter_contracts_pass():
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"lint-imports failed:\n{r.stdout}\n{r.stderr}"


def test_contracts_have_no_exceptions():
    import tomllib

    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = config["contracts"]
    assert not [c["name"] for c in contracts if c.get("ignore_imports")], "no ignore_imports"
    assert {c["type"] for c in contracts} >= {"layers", "forbidden", "acyclic_siblings"}
    layers = next(c for c in contracts if c["type"] == "layers")
    listed = {m.strip(" ()") for layer in layers["layers"] for m in re.split(r"[:|]", layer)}
    # every module of DESIGN.md's table has its layer
    design = {"errors", "paths", "schema", "engine", "stats", "notes", "sources", "data", *ANALYSES, "pages",
              "present", "plots", "reports", "kernels", "cli", "sample"}
    assert design <= listed, sorted(design - listed)
    assert layers.get("exhaustive") is True  # and every module of cxlib is in the table


# ------------------------------------------------------------------------------------------ circles

def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    nodes = sorted(m for m in graph.modules if m == "cxlib" or m.startswith("cxlib."))
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m)
                       if i == "cxlib" or i.startswith("cxlib.")) for m in nodes}
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_cycle_finder_finds_a_planted_circle():
    g = grimp.ImportGraph()
    for m in ("cxlib", "cxlib.a", "cxlib.b", "cxlib.c", "cxlib.d"):
        g.add_module(m)
    g.add_import(importer="cxlib.a", imported="cxlib.b")
    g.add_import(importer="cxlib.b", imported="cxlib.c")
    g.add_import(importer="cxlib.c", imported="cxlib.a")
    g.add_import(importer="cxlib.d", imported="cxlib.a")
    assert _cycles(g) == [["cxlib.a", "cxlib.b", "cxlib.c"]]


def test_no_import_circle_between_any_two_cxlib_modules(graph):
    problems = []
    for comp in _cycles(graph):
        a, b = comp[0], comp[1]
        there = graph.find_shortest_chain(importer=a, imported=b, as_packages=False) or ()
        back = graph.find_shortest_chain(importer=b, imported=a, as_packages=False) or ()
        problems.append(f"{len(comp)} modules in a circle: {', '.join(comp)}\n"
                        f"    e.g. {' -> '.join(there)} and {' -> '.join(back)}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------ room size

def test_no_module_over_1000_lines():
    big = {str(p.relative_to(PROJECT_ROOT)): n for p in _modules()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines (split them along their seams): {big}"


# ------------------------------------------------------------------------------------------ notebooks

def notebook_code(path: Path) -> dict:
    """The thin-notebook measure (as the layering work measures it): code lines outside the parameters
    cell (non-blank, non-comment), lines with a loop or comprehension, with def/class/lambda, and
    private names (``x._y``)."""
    nb = nbformat.read(str(path), as_version=4)
    n, loops, defs, private = 0, [], [], set()
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        for line in cell.source.splitlines():
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            n += 1
            if re.match(r"(for|while)\b", s) or re.search(r"\bfor\b.+\bin\b", s):
                loops.append(s)
            if s.startswith(("def ", "class ", "lambda")) or "lambda" in s:
                defs.append(s)
            private.update(re.findall(r"\.(_[a-z]\w*)", s))
    return {"lines": n, "loops": loops, "defs": defs, "private": sorted(private)}


def test_notebook_measure_counts_what_it_should(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook

    params = new_code_cell("x = 1\ny = [i for i in range(3)]")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell("# a comment\n\nres = page.result(x)\n"
                                                   "sq = [v * v for v in res]\nf = lambda v: v\n"
                                                   "present._span(res)\nfor v in res:\n    print(v)")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    got = notebook_code(path)
    assert got["lines"] == 6 and len(got["loops"]) == 2 and len(got["defs"]) == 1 and got["private"] == ["_span"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_thin(path):
    got = notebook_code(path)
    assert got["lines"] <= MAX_NOTEBOOK_CODE_LINES, f"{path.name}: {got['lines']} code lines outside parameters"
    assert not got["loops"], f"{path.name}: loops or comprehensions: {got['loops']}"
    assert not got["defs"], f"{path.name}: function definitions: {got['defs']}"
    assert not got["private"], f"{path.name}: private names: {got['private']}"


# ------------------------------------------------------------------------------------------ lazy imports

def lazy_imports(source: str) -> list[str]:
    """Imports hidden from the graph: importlib.import_module / __import__ calls, a module __getattr__."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == "import_module":
                found.append(f"importlib.import_module (line {node.lineno})")
            elif isinstance(f, ast.Name) and f.id in ("import_module", "__import__"):
                found.append(f"{f.id} (line {node.lineno})")
    found += [f"module-level __getattr__ (line {n.lineno})" for n in tree.body
              if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in ("__getattr__", "__dir__")]
    return found


def test_lazy_import_check_finds_each_kind():
    src = ("import importlib\nfrom importlib import import_module\nm = importlib.import_module('x')\n"
           "n = import_module('y')\no = __import__('z')\ndef __getattr__(name):\n    return name\n")
    assert len(lazy_imports(src)) == 4
    assert lazy_imports("class A:\n    def __getattr__(self, n):\n        return n\n") == []


def test_no_lazy_import_hides_an_edge_from_the_graph():
    found = {str(p.relative_to(PROJECT_ROOT)): hits for p in _modules()
             if (hits := lazy_imports(p.read_text(encoding="utf-8")))}
    assert not found, f"imports the graph cannot see: {found}"


# ------------------------------------------------------------------------------------------ reports

_READS = {"search", "match", "fullmatch", "findall", "finditer"}


def regex_reads_of_pages(source: str) -> list[str]:
    """Regular expressions in ``source`` that read data out of markup or a notebook's outputs.

    Flagged: a reading call (search, match, findall, ...) whose pattern looks for a tag (``<``), literal
    or compiled at module level; any reading call in a function that touches notebook outputs or parses
    HTML; and the class names of present's tiles and answers (``cx-tile``, ``cx-answer``). Substitutions
    that write a page (``re.sub`` in the renderer, the sanitiser) are not reads.
    """
    tree = ast.parse(source)
    compiled = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "compile"
                and node.value.args and isinstance(node.value.args[0], ast.Constant)):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    compiled[t.id] = str(node.value.args[0].value)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                "cx-tile" in node.value or "cx-answer" in node.value):
            found.append(f"line {node.lineno}: reads present's markup ({node.value[:40]!r})")
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        text = ast.unparse(fn)
        touches_outputs = any(k in text for k in ("'outputs'", '"outputs"', ".outputs", "text/html", "<title"))
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _READS):
                continue
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "re":
                pattern = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else ""
            elif isinstance(owner, ast.Name) and owner.id in compiled:
                pattern = compiled[owner.id]
            else:
                continue
            if "<" in str(pattern) or touches_outputs:
                found.append(f"{fn.name} line {node.lineno}: re.{node.func.attr}({str(pattern)[:40]!r})")
    return found


def test_page_reading_check_finds_the_old_scrapers():
    old = ('import re\n_T = re.compile(r"<title>(.*?)</title>")\n'
           'def _page_title(text):\n    return _T.search(text)\n'
           'def _headline(nb):\n    for o in nb["outputs"]:\n        m = re.search(r"\\*\\*(.*)", o)\n'
           'def _key(htm):\n    return re.findall(r\'<div class="x">(.*?)</div>\', htm)\n')
    assert [f.split(" ")[0] for f in regex_reads_of_pages(old)] == ["_page_title", "_headline", "_key"]
    ok = 'import re\n_S = re.compile(r"<script>")\ndef defuse(m):\n    return _S.sub("", m)\n'
    assert regex_reads_of_pages(ok) == []


def test_reports_read_no_page_with_a_regular_expression():
    found = {p.name: hits for p in sorted((CXLIB / "reports").glob("*.py"))
             if (hits := regex_reads_of_pages(p.read_text(encoding="utf-8")))}
    assert not found, f"regular expressions reading pages or outputs in cxlib.reports: {found}"


# ------------------------------------------------------------------------------------------ analyses

def test_analyses_import_no_presentation(graph):
    bad = []
    for name in ANALYSES:
        root = f"cxlib.{name}"
        if root not in graph.modules:
            continue
        for mod in sorted({root} | graph.find_descendants(root)):
            for imported in sorted(graph.find_modules_directly_imported_by(mod)):
                if imported.startswith(("cxlib.present", "cxlib.plots")):
                    bad.append(f"{mod} -> {imported}")
    assert not bad, "analyses return numbers and codes; present words them:\n" + "\n".join(bad)


def test_analyses_define_no_summarize():
    bad = []
    for name in ANALYSES:
        files = [CXLIB / f"{name}.py"] + sorted((CXLIB / name).rglob("*.py"))
        for p in files:
            if p.exists() and any(isinstance(n, ast.FunctionDef) and n.name == "summarize"
                                  for n in ast.parse(p.read_text(encoding="utf-8")).body):
                bad.append(str(p.relative_to(PROJECT_ROOT)))
    assert not bad, f"summarize (sentences) belongs in cxlib.present, not in: {bad}"


def _sentences_added_to_notes(source: str) -> list[int]:
    """Lines where a string or f-string is appended to (or listed in) something named like notes / warnings /
    reasons: an analysis writing a sentence for a reader instead of a note code."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "extend")
                and isinstance(node.func.value, (ast.Name, ast.Attribute))):
            target = node.func.value.id if isinstance(node.func.value, ast.Name) else node.func.value.attr
            if any(w in target.lower() for w in ("note", "warning", "reason")) and node.args and isinstance(
                    node.args[0], ast.JoinedStr) or (
                    any(w in target.lower() for w in ("note", "warning", "reason")) and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                    and " " in node.args[0].value):
                lines.append(node.lineno)
    return lines


def test_sentence_check_finds_a_planted_sentence():
    assert _sentences_added_to_notes('notes = []\nnotes.append(f"{n} rows were left out.")\n') == [2]
    assert _sentences_added_to_notes('warnings.append("Two drivers overlap.")\n') == [1]
    assert _sentences_added_to_notes('notes.append(note("rows_left_out", n=n))\nparts.append("a b")\n') == []


def test_analyses_add_no_sentences_to_their_notes():
    bad = []
    for name in ANALYSES:
        files = [CXLIB / f"{name}.py"] + sorted((CXLIB / name).rglob("*.py"))
        for p in files:
            if p.exists():
                bad += [f"{p.relative_to(PROJECT_ROOT)}:{n}" for n in _sentences_added_to_notes(p.read_text(encoding="utf-8"))]
    assert not bad, f"analyses return note codes (cxlib.notes.note), not sentences: {bad}"
