"""Every command has help with an example and is documented in the README (sqlite-utils style)."""

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from dataprep import __version__
from dataprep.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def _commands(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


COMMANDS = sorted(_commands(typer.main.get_command(app)))


def test_the_stages_are_all_there():
    names = {" ".join(c) for c in COMMANDS}
    assert {"slice", "run", "generate", "filter", "balance", "review", "export", "push"} <= names
    assert {"finetune train", "finetune eval", "finetune axolotl-config"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_is_documented_in_the_readme(command):
    assert f"dataprep {' '.join(command)}" in README


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"dataprep {__version__}\n"


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from dataprep.cli import app; "
        "heavy = {'torch', 'transformers', 'starlette', 'ollama', 'datasets'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_library_error_is_one_line_and_exit_1(tmp_path):
    result = runner.invoke(
        app, ["slice", str(tmp_path / "missing"), "-o", str(tmp_path / "u.jsonl")]
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
