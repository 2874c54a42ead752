"""`dataprep slice`: output file, summary, errors and exit codes."""

import json
import re

from conftest import FIXTURES
from typer.testing import CliRunner

from dataprep.cli import app

HOTEL = FIXTURES / "hotel-booking"


def run(*args):
    return CliRunner().invoke(app, ["slice", *map(str, args)])


def test_slice_writes_units_and_summary(tmp_path):
    out = tmp_path / "units.jsonl"
    result = run(HOTEL, "-o", out, "--jobs", "2")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) > 300
    assert len({r["id"] for r in rows}) == len(rows)
    required = {
        "id",
        "kind",
        "name",
        "qualified_name",
        "path",
        "start_line",
        "end_line",
        "code",
        "language",
        "repo",
        "commit",
    }
    assert all(required <= row.keys() for row in rows)
    assert {r["repo"] for r in rows} == {"hotel-booking"} and {r["commit"] for r in rows} == {None}
    output = result.output
    assert re.search(r"files parsed\s+│\s+50 ", output)  # Java, docs, configuration, SQL
    assert "skipped: ignored by .gitignore" in output
    assert "units: method" in output and "parse errors" in output
    assert f"wrote {len(rows)} units to {out}" in output.replace("\n", "")


def test_slice_to_stdout_matches_file(tmp_path):
    out = tmp_path / "units.jsonl"
    assert run(HOTEL, "-o", out, "-q").exit_code == 0
    result = CliRunner().invoke(app, ["slice", str(HOTEL), "-o", "-", "-q"])
    assert result.exit_code == 0
    assert result.stdout == out.read_text()


def test_slice_bad_path_is_one_line_error(tmp_path):
    result = run(tmp_path / "nope")
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: {tmp_path / 'nope'}: no such folder: give the path of a repository checkout"
    )
    assert "Traceback" not in result.output


def test_slice_empty_repository(tmp_path):
    result = run(tmp_path, "-o", tmp_path / "u.jsonl")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {tmp_path}: the folder is empty: point dataprep at a repository with Java or docs"
    )
    assert not (tmp_path / "u.jsonl").exists()


def test_slice_unknown_parser(tmp_path):
    result = run(HOTEL, "--parser", "antlr", "-o", tmp_path / "u.jsonl")
    assert result.exit_code == 1
    assert (
        result.output.strip() == "Error: --parser 'antlr' is not known: use tree-sitter or javalang"
    )


def test_slice_reports_parse_errors(tmp_path):
    (tmp_path / "B.java").write_text("class B {\n  void f( {\n}\n")
    result = run(tmp_path, "-o", tmp_path / "u.jsonl")
    assert result.exit_code == 0
    assert "B.java:2: syntax error" in result.output


def test_slice_help_has_example():
    result = CliRunner().invoke(app, ["slice", "--help"])
    assert result.exit_code == 0
    assert "Example: dataprep slice fixtures/hotel-booking -o units.jsonl" in result.output
