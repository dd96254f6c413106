"""cxlib.reports and the `cx` command end to end, run as a scheduler would (subprocess, no TTY)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cxlib import reports
from cxlib.reports import Parameter, ParameterError

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
CX = [sys.executable, "-m", "cxlib.cli"]


def cx(*args, cwd=None):
    return subprocess.run([*CX, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          cwd=cwd, timeout=600)


# ------------------------------------------------------------------------------------------ parameters

def test_parameters_cell_is_read_with_types_defaults_help_and_choices():
    params = {p.name: p for p in reports.notebook_parameters(FIXTURES / "good.ipynb")}
    assert list(params) == ["responses", "grain", "min_n", "flag", "segments", "week"]
    assert params["grain"].choices == ["week", "month"]
    assert params["grain"].help == "Period of the trend."
    assert params["min_n"].type == "int" and params["min_n"].default == 30
    assert params["week"].type == "Optional[str]" and params["week"].default is None
    assert params["segments"].default == ["channel"]


@pytest.mark.parametrize("typ,value,expected", [
    ("bool", "false", False), ("bool", "True", True), ("bool", "0", False), ("int", "12", 12),
    ("float", "0.5", 0.5), ("list", "[a, b]", ["a", "b"]), ("list", "a,b", ["a", "b"]),
    ("dict", "{email: 24}", {"email": 24}), ("Optional[int]", "none", None), ("date", "2026-11-16", "2026-11-16"),
    ("Optional[date]", "2026-11-16", "2026-11-16"), ("str", "x=y", "x=y"),
])
def test_values_are_coerced_to_declared_types(typ, value, expected):
    assert reports.coerce(Parameter("p", typ, None), value) == expected


@pytest.mark.parametrize("typ,value", [("bool", "maybe"), ("int", "1.5"), ("int", "ten"), ("float", "x"),
                                       ("date", "2026-13-01"), ("list", "{a: 1}"), ("int", None)])
def test_bad_values_are_errors_naming_the_parameter(typ, value):
    with pytest.raises(ParameterError, match="parameter 'p'"):
        reports.coerce(Parameter("p", typ, None), value)


def test_choice_outside_allowed_set_is_an_error():
    p = Parameter("grain", "str", "month", choices=["week", "month"])
    with pytest.raises(ParameterError, match="one of week, month; got fortnight"):
        reports.coerce(p, "fortnight")


def test_merge_order_defaults_then_file_then_overrides():
    got = reports.resolve_parameters(FIXTURES / "good.ipynb", file_params={"min_n": 10, "grain": "month",
                                     "good": {"min_n": 20}}, overrides={"min_n": "40"})
    assert got["grain"] == "month" and got["min_n"] == 40
    got = reports.resolve_parameters(FIXTURES / "good.ipynb", file_params={"min_n": 10, "good": {"min_n": 20}})
    assert got["min_n"] == 20


# ------------------------------------------------------------------------------------------ the command

@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    r = cx("run", "good", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(out), "--date", "2026-11-23",
           "-p", "flag=false", "-p", "segments=[channel]")
    return out, r


def test_run_writes_dated_folder_with_html_tables_manifest_and_index(good_run):
    out, r = good_run
    assert r.returncode == 0, r.stderr
    day = out / "2026-11-23"
    assert {p.name for p in day.iterdir()} >= {"good.html", "manifest.json", "tables"}
    # the executed notebook (it holds parameters and any traceback) stays in the private logs folder
    assert "good.ipynb" not in {p.name for p in day.iterdir()}
    assert list((out.parent / f"{out.name}-logs" / "2026-11-23").glob("good-*.ipynb"))
    assert (day / "tables" / "good" / "nps_by_channel.csv").read_text().startswith("channel,n,nps")
    manifest = json.loads((day / "manifest.json").read_text())
    rec = manifest["notebooks"][0]
    assert rec["status"] == "ok" and rec["parameters"]["flag"] is False
    assert len(rec["inputs"]["responses"]["sha256"]) == 64 and rec["inputs"]["responses"]["rows"] > 1000
    assert manifest["versions"]["pandas"]
    page = (day / "good.html").read_text()
    assert "flag is False (bool)" in page            # the boolean arrived as a boolean
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert "def " not in page and "import matplotlib" not in page  # code hidden
    assert "cdnjs" not in page and 'alt="Figure 1: NPS by channel"' in page
    assert "2026-11-23/good.html" in (out / "index.html").read_text()
    assert "index:" in r.stdout and "without encryption" not in r.stderr


@pytest.mark.parametrize("args,message", [
    (["-p", "grain=fortnight"], "one of week, month"),
    (["-p", "nonsense=1"], "unknown parameter 'nonsense'"),
    (["-p", "min_n=ten"], "parameter 'min_n' expects an integer"),
    (["--date", "2026-02-30"], "--date expects YYYY-MM-DD"),
])
def test_parameter_errors_exit_2_and_write_nothing(tmp_path, args, message):
    r = cx("run", "good", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(tmp_path / "rep"), *args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "rep").exists() or not any((tmp_path / "rep").glob("20*"))


def test_unknown_notebook_exit_2(tmp_path):
    r = cx("run", "nope", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(tmp_path))
    assert r.returncode == 2 and "unknown notebook nope" in r.stderr


def test_failure_exits_1_keeps_html_and_never_damages_earlier_report(tmp_path):
    rep = tmp_path / "rep"
    first = cx("run", "good", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(rep), "--date", "2026-11-16")
    assert first.returncode == 0, first.stderr
    before = (rep / "2026-11-16" / "good.html").read_bytes()
    r = cx("run", "good", "bad", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(rep), "--date", "2026-11-23")
    assert r.returncode == 1 and "failed: bad" in r.stderr
    day = rep / "2026-11-23"
    assert "planted failure for the tests" in (day / "bad.html").read_text()
    assert (day / "good.html").exists()                     # the other notebook still ran
    assert (rep / "2026-11-16" / "good.html").read_bytes() == before
    statuses = {n["notebook"]: n["status"] for n in json.loads((day / "manifest.json").read_text())["notebooks"]}
    assert statuses == {"good": "ok", "bad": "failed"}
    assert not list(rep.glob(".tmp-*")) and not list(rep.glob(".old-*"))
    index = (rep / "index.html").read_text()
    assert index.index("2026-11-23") < index.index("2026-11-16")   # newest first
    # re-running one notebook of a date replaces its page and keeps the others
    again = cx("run", "bad", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(rep), "--date", "2026-11-23")
    assert again.returncode == 1 and (day / "good.html").exists()


def test_second_concurrent_run_is_refused_with_exit_3(tmp_path):
    from filelock import FileLock

    rep = tmp_path / "rep"
    rep.mkdir()
    with FileLock(str(rep / ".cx.lock")):
        r = cx("run", "good", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(rep))
    assert r.returncode == 3 and "another `cx run`" in r.stderr


def test_list_shows_parameters():
    r = cx("list", "--notebooks-dir", str(FIXTURES))
    assert r.returncode == 0
    assert "good - Fixture report" in r.stdout
    assert "grain: str = 'week'  Period of the trend. (one of: week, month)" in r.stdout


def test_validate_accepts_sample_and_rejects_corrupted_copy(tmp_path, sample_dir):
    ok = cx("validate", str(sample_dir / "responses.csv"), "--kind", "responses")
    assert ok.returncode == 0 and "valid responses table" in ok.stdout
    lines = (sample_dir / "responses.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    i = header.index("nps")
    row = lines[5].split(",")
    row[i] = "12"
    lines[5] = ",".join(row)
    bad = tmp_path / "responses.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cx("validate", str(bad), "--kind", "responses")
    assert r.returncode == 2
    assert "responses.csv: column 'nps' has 1 value outside 0..10 (row 5: 12)" in r.stderr
    assert "Traceback" not in r.stderr


def test_sample_command_writes_files(tmp_path):
    r = cx("sample", "--out", str(tmp_path), "--scale", "1")
    assert r.returncode == 0
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == sorted(f"{k}.csv" for k in reports.SOURCE_PARAMETERS)


def test_help_for_every_command():
    for command in ("run", "list", "index", "validate", "sample", "notebooks"):
        r = cx(command, "--help")
        assert r.returncode == 0 and "usage: cx" in r.stdout


def test_publish_is_a_noop_interactively(tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.delenv(reports.TABLES_ENV, raising=False)
    df = pd.DataFrame({"a": [1]})
    assert reports.publish(df, "x") is df
    monkeypatch.setenv(reports.TABLES_ENV, str(tmp_path))
    reports.publish(df, "x", caption="A table")
    assert (tmp_path / "x.csv").read_text() == "a\n1\n"
    assert json.loads((tmp_path / "index.json").read_text())["x"]["caption"] == "A table"


def test_weekly_config_fits_every_notebook():
    import yaml

    from cxlib.paths import CONFIG_DIR, NOTEBOOKS_DIR

    params = yaml.safe_load((CONFIG_DIR / "weekly.yaml").read_text())
    for nb in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        values = reports.resolve_parameters(nb, file_params=params)
        if nb.stem == "cx_scorecard":
            assert values["targets"] == {"email": 12, "chat": 0.1, "phone": 0.05} and values["week"] is None


def test_unknown_name_in_parameters_file_is_an_error(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("min_nn: 5\n")
    r = cx("run", "good", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(tmp_path / "rep"),
           "--params", str(bad))
    assert r.returncode == 2 and "unknown name 'min_nn'" in r.stderr


def test_bad_data_is_found_before_anything_runs_exit_2_one_clear_message(tmp_path):
    bad = tmp_path / "responses.csv"
    bad.write_text("respondent_id,response_time,nps,channel\nR1,2026-03-01,11,web\nR2,2026-03-02,5,web\n")
    r = cx("run", "good", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(tmp_path / "rep"),
           "-p", f"responses={bad}", "--date", "2026-11-23")
    assert r.returncode == 2, r.stderr
    assert "good: parameter 'responses': responses.csv: column 'nps' has 1 value outside 0..10 (row 1: 11)" \
        in r.stderr
    assert "Traceback" not in r.stderr and "site-packages" not in r.stderr
    assert not (tmp_path / "rep" / "2026-11-23").exists()


def test_index_shows_each_page_headline(good_run):
    out, _ = good_run
    index = (out / "index.html").read_text()
    # the answer the fixture published in its headline table, as plain escaped text
    assert "flag is False (bool), grain week, comment: &lt;script&gt;" in index
    assert '<a href="2026-11-23/good.html">Fixture report</a>' in index   # the notebook's title, from data


def test_manifest_takes_headline_and_key_figures_from_the_published_table(good_run):
    import pandas as pd

    out, _ = good_run
    day = out / "2026-11-23"
    rec = json.loads((day / "manifest.json").read_text())["notebooks"][0]
    first = pd.read_csv(day / "tables" / "good" / "nps_by_channel.csv").iloc[0]
    assert rec["title"] == "Fixture report"
    assert rec["headline"] == "flag is False (bool), grain week, comment: <script>"
    [fig] = rec["key_figures"]
    assert fig["label"] == "NPS" and fig["value"].startswith(("+", "\u2212", "0"))
    assert fig["estimate"] == pytest.approx(first["nps"], rel=1e-12)
    assert (fig["ci_lower"], fig["ci_upper"]) == pytest.approx((first["ci_lower"], first["ci_upper"]), rel=1e-12)


def test_a_page_without_a_headline_table_has_no_headline_and_no_figures(tmp_path):
    from cxlib.reports.tables import read_headline

    assert read_headline(tmp_path) == (None, [])
    (tmp_path / "headline_figures.csv").write_text("")                  # empty or foreign: still no error
    assert read_headline(tmp_path) == (None, [])
    (tmp_path / "headline_figures.csv").write_text("a,b\n1,2\n")
    assert read_headline(tmp_path) == (None, [])


def test_index_shows_the_last_runs_headline_figures_as_a_trend(tmp_path):
    from cxlib import present
    from cxlib.reports.tables import read_headline

    headline = present.headline_frame(present.answer(["NPS is +13.2."], lead="Week of 16 Nov 2026:"),
                                      [present.figure("nps", 13.2, 3.2, 23.1, kind="points"),
                                       present.figure("csat", 0.81, 0.78, 0.84, kind="share")])
    (tmp_path / "tables").mkdir()
    headline.to_csv(tmp_path / "tables" / "headline_figures.csv", index=False)
    answer, figures = read_headline(tmp_path / "tables")
    assert answer == "NPS is +13.2."
    assert [f["label"] for f in figures] == ["NPS", "CSAT"] and figures[0]["value"] == "+13.2"
    assert figures[1]["estimate"] == 0.81 and figures[1]["ci_upper"] == 0.84
    for i, day in enumerate(("2026-11-02", "2026-11-09", "2026-11-16")):
        (tmp_path / "rep" / day).mkdir(parents=True)
        rec = {"notebook": "cx_scorecard", "status": "ok",
               "key_figures": [{"label": "NPS", "value": f"+{20 - 3 * i}.0", "estimate": 20.0 - 3 * i}]}
        (tmp_path / "rep" / day / "manifest.json").write_text(json.dumps({"notebooks": [rec]}))
    index = reports.write_index(tmp_path / "rep").read_text()
    assert "Headline figures over the last runs" in index and "<svg class=\"spark\"" in index
    assert "+14.0" in index and "3 of 3" in index


@pytest.mark.parametrize("raw,gone", [
    ('<img src=x onerror="window.x=1">', "onerror"),
    ("<script>window.x=1</script>", "<script"),
    ("<svg onload=window.x=1><circle/></svg>", "onload"),
    ("<a href=' javascript:window.x=1'>a</a>", "javascript:"),
    ('<div class="a" ONCLICK = "x" id=q ONMOUSEOVER=y>', "on"),
])
def test_output_html_is_defused_as_a_second_line_of_defence(raw, gone):
    out = reports.defuse_html(raw)
    assert gone not in out.lower().replace("class", "").replace(" id", "")


def test_defusing_keeps_escaped_text_and_table_styles():
    keep = '<style>.t > td { color: red; }</style><table><thead><tr><th>Plan</th></tr></thead></table>&lt;script&gt;'
    assert reports.defuse_html(keep) == keep
