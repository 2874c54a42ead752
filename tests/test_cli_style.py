"""A bad prompt style file is one line, exit 1, for `dataprep run` (before any slicing)
and `dataprep export`: naming the file, the placeholder and the fix, with no traceback."""

import pytest
import yaml
from conftest import FIXTURES
from factories import review_store
from typer.testing import CliRunner

from dataprep.cli import app

HOTEL = FIXTURES / "hotel-booking"
BAD = {
    "{output:zz}": "{output:zz}: Unknown format code 'z' for object of type 'str'; "
    "write {output}, or pad it as {output:<20}",
    "{instruction:>999999999999}{output}": "{instruction:>999999999999}: a width or precision "
    "above 1000 is not allowed; write {instruction} or a smaller width such as {instruction:<20}",
    "{instruction!r}{output}": "{instruction!r}: conversions (!r, !s, !a) are not allowed; "
    "write {instruction}",
    "{answer}{output}": "unknown placeholder {answer}; use only {instruction} {input} {output} "
    "{project} {eos}",
    "{0}{output}": "unknown placeholder {0}; use only {instruction} {input} {output} "
    "{project} {eos}",
    "{instruction.__class__}{output}": "{instruction.__class__}: attribute and index access "
    "are not allowed; write {instruction}",
    "{instruction[0]}{output}": "{instruction[0]}: attribute and index access are not allowed; "
    "write {instruction}",
}


def _style(tmp_path, template: str):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", "with_input": template}))
    return path


@pytest.mark.parametrize("template", list(BAD))
def test_run_with_a_bad_style_stops_before_slicing(tmp_path, template):
    style, out = _style(tmp_path, template), tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(HOTEL), "--out", str(out), "--style", str(style)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: prompt style {style}: with_input: {BAD[template]}"
    ]
    assert not (out / "dataprep.db").exists()  # nothing was sliced


@pytest.mark.parametrize("template", ["{output:zz}", "{instruction!r}{output}"])
def test_export_with_a_bad_style_is_one_line(tmp_path, template):
    out = tmp_path / "out"
    review_store(out)
    style = _style(tmp_path, template)
    result = CliRunner().invoke(app, ["export", "--out", str(out), "--style", str(style)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: prompt style {style}: with_input: {BAD[template]}"
    ]
    assert not (out / "dataset").exists()
