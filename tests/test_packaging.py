"""The wheel works on its own: built offline, installed into a fresh venv, it finds its
templates and runs `dataprep run` from outside the checkout.

Offline and fast: the wheel is built without isolation (hatchling comes with the dev
extra), the fresh venv gets the wheel with `--no-deps --no-index`, and its dependencies
come from this venv's site-packages through a `.pth` line (not processed recursively, so
this checkout's editable install stays invisible to it).
"""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JAVA = """package com.example.tiny;

import java.util.List;

/** Adds numbers. */
public class Adder {
    private final int base = 1;

    /**
     * Adds the base to x.
     *
     * @param x the number
     * @return x plus the base
     */
    public int add(int x) {
        return x + base;
    }

    /** Sums a list. */
    public int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }
}
"""


def _run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, ROOT],
        cwd=work,
    )
    (wheel,) = dist.glob("dataprep-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=work)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], cwd=work)
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work
        ).stdout.strip()
    )
    (site / "_dataprep_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.mark.slow
def test_the_installed_package_uses_its_own_files(fresh_venv, tmp_path):
    code = (
        "import json, dataprep, dataprep.resources as r;"
        "print(json.dumps([dataprep.__file__, str(r.templates_dir())]))"
    )
    module, templates = json.loads(
        _run([fresh_venv / "bin" / "python", "-c", code], tmp_path).stdout
    )
    assert module.startswith(str(fresh_venv)) and templates.startswith(str(fresh_venv))
    assert templates.endswith("dataprep/_templates")


@pytest.mark.slow
def test_templates_and_run_from_outside_the_checkout(fresh_venv, tmp_path):
    cli = fresh_venv / "bin" / "dataprep"
    listed = _run([cli, "templates"], tmp_path).stdout
    assert "method.explain" in listed and "styles: alpaca, chatml, repo" in listed

    repo = tmp_path / "tiny"
    (repo / "src" / "main" / "java" / "com" / "example" / "tiny").mkdir(parents=True)
    (repo / "src" / "main" / "java" / "com" / "example" / "tiny" / "Adder.java").write_text(JAVA)
    (repo / "README.md").write_text("# Tiny\n\nAdds numbers.\n\n## Usage\n\nCall `add`.\n")
    env = {"HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    result = _run([cli, "run", "tiny", "--out", "out", "--style", "repo"], tmp_path, env)
    assert "Sliced 2 files" in result.stdout
    rows = (tmp_path / "out" / "dataset" / "train.jsonl").read_text().splitlines()
    rows += (tmp_path / "out" / "dataset" / "validation.jsonl").read_text().splitlines()
    rows += (tmp_path / "out" / "dataset" / "test.jsonl").read_text().splitlines()
    texts = [json.loads(row)["prompt"] for row in rows]
    assert texts and all("asks about the code base of tiny" in t for t in texts)
