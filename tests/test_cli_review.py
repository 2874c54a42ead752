"""`dataprep review` as a command: help, errors with exit codes, and a real server."""

import socket
import subprocess
import sys
import urllib.request

import pytest

pytest.importorskip("starlette", reason="pip install dataprep[review]")
from factories import review_store  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from dataprep.cli import app  # noqa: E402
from dataprep.errors import StoreError  # noqa: E402
from dataprep.review.app import create_app
from dataprep.review.guards import CSP  # noqa: E402


def test_help_has_an_example():
    result = CliRunner().invoke(app, ["review", "--help"])
    assert result.exit_code == 0
    assert "Example: dataprep review --out out --port 8765 --no-browser" in result.output


def test_a_missing_store_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["review", "--out", str(tmp_path / "none"), "--no-browser"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: no working store at {tmp_path / 'none' / 'dataprep.db'}: "
        f"run `dataprep run PATH --out {tmp_path / 'none'}` first"
    ]
    assert not (tmp_path / "none").exists()
    with pytest.raises(StoreError):
        create_app(tmp_path / "none")


def test_a_taken_port_is_a_one_line_error(tmp_path):
    review_store(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        args = ["review", "--out", str(tmp_path), "--no-browser", "--port", str(port)]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: port {port} on 127.0.0.1 is in use: "
        "pick another with --port, or --port 0 for a free one"
    )


def test_serves_the_store_on_127_0_0_1_until_stopped(tmp_path):
    review_store(tmp_path)
    code = "from dataprep.cli import main; main()"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "review",
            "--out",
            str(tmp_path),
            "--no-browser",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Security-Policy"] == CSP
            assert "5</b> pairs match" in response.read().decode()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert f"Reviewing {tmp_path}; press Ctrl+C to stop." in err
    assert "Traceback" not in err
