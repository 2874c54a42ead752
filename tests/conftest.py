"""Shared test set-up: an isolated home, a model cache outside it, no network, and the
fixture project's run made once per session.

Tests import their helpers plainly (`from conftest import ...`, `from factories import ...`):
pyproject puts tests/ on the path, so each module loads once.
"""

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
HOTEL = FIXTURES / "hotel-booking"
GOLDEN = Path(__file__).resolve().parent / "golden"

# A test that calls an LLM backend without the local harness (which skips by itself).
needs_llm = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("ollama", "httpx")),
    reason="pip install dataprep[llm]",
)


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden", action="store_true", help="Rewrite golden files instead of comparing."
    )


def model_cache() -> Path:
    """The tests' cache of derived models (dequantized GGUF checkpoints, converted
    tokenizers): $DATAPREP_TEST_CACHE, else dataprep-test-cache in the system temp dir. It
    outlives a session, so only the first pays for dequantizing SmolLM2 (20-40 s), and it
    lies outside every HOME the tests see."""
    default = Path(tempfile.gettempdir()) / "dataprep-test-cache"
    path = Path(os.environ.get("DATAPREP_TEST_CACHE") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _isolate(mp: pytest.MonkeyPatch, home: Path) -> None:
    mp.setenv("DATAPREP_CACHE_DIR", str(model_cache()))
    mp.setenv("HOME", str(home))
    mp.setenv("HF_HOME", str(home / "hf"))
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("HF_DATASETS_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    mp.delenv("HF_TOKEN", raising=False)
    mp.delenv("OLLAMA_HOST", raising=False)


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory):
    """A home of its own for what session and module fixtures run (set up before them)."""
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, tmp_path_factory.mktemp("home"))
        yield


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """A fresh home for every test."""
    _isolate(monkeypatch, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def hotel_run(tmp_path_factory) -> tuple[Path, str]:
    """`dataprep run fixtures/hotel-booking --jobs 1`, once per session: (out, its summary).

    Read it only; a test that writes (re-runs, balances, exports again) takes `hotel_out`.
    """
    from typer.testing import CliRunner

    from dataprep.cli import app

    out = tmp_path_factory.mktemp("hotel-run") / "out"
    result = CliRunner().invoke(app, ["run", str(HOTEL), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return out, result.stdout  # the summary; stderr has a log line per stage


@pytest.fixture
def hotel_out(hotel_run, tmp_path) -> Path:
    """A private copy of the session's fixture run, for a test that writes to it."""
    copy = tmp_path / "out"
    shutil.copytree(hotel_run[0], copy)
    return copy


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


def check_golden(name: str, actual: str, update: bool) -> None:
    """Compare `actual` with tests/golden/NAME, or rewrite it under --update-golden."""
    path = GOLDEN / name
    if update or not path.exists():
        if not update:
            pytest.fail(f"golden file {path} missing: run pytest --update-golden")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from its golden file: inspect, then run pytest --update-golden"
    )
