"""The working store on local disk while --out is on a network filesystem (`store_home`)."""

import json
import socket
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep import store_home
from dataprep.cli import app
from dataprep.store import Store, locate

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
36 22 0:33 / /shared rw,relatime shared:7 - nfs4 filer:/export rw,vers=4.2
37 36 0:34 / /shared/scratch rw - tmpfs tmpfs rw
38 22 0:35 / /mnt/my\\040disk rw - lustre 10.0.0.1@tcp:/fs rw
"""


def test_mount_points_and_their_types_are_read_from_mountinfo():
    assert store_home.mount_types(MOUNTINFO) == {
        "/": "ext4",
        "/shared": "nfs4",
        "/shared/scratch": "tmpfs",
        "/mnt/my disk": "lustre",
    }


def test_the_filesystem_of_a_path_is_its_deepest_mount(tmp_path, monkeypatch):
    real = store_home.filesystem_type(tmp_path / "not" / "made" / "yet")
    if real is None:
        pytest.skip("this system has no /proc/self/mountinfo")
    assert real not in store_home.NETWORK_FS  # the suite's temp folder is local disk
    assert store_home.is_network(tmp_path) is None


def _java_repo(root: Path, name: str) -> Path:
    pkg = root / "src" / "main" / "java" / "com" / name
    pkg.mkdir(parents=True)
    (pkg / "Ledger.java").write_text(
        f"package com.{name};\n\n/** The {name} ledger. */\npublic class Ledger {{\n"
        "    private int total;\n\n"
        "    /** Adds an amount to the total and returns the new total. */\n"
        "    public int add(int amount) {\n        total += amount;\n        return total;\n"
        "    }\n}\n",
        encoding="utf-8",
    )
    for args in (["init", "-q", "-b", "main"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one"],
        cwd=root,
        check=True,
    )
    return root


@pytest.fixture
def network(tmp_path, monkeypatch):
    """`tmp_path/shared` looks like an NFS mount; the rest is local disk."""
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def kind(path):
        path = Path(path).absolute()
        return "nfs4" if path == shared or shared in path.parents else "ext4"

    monkeypatch.setattr(store_home, "filesystem_type", kind)
    return shared


def _run(*args):
    return CliRunner().invoke(app, ["run", *map(str, args), "--jobs", "1"])


def test_many_sources_on_a_shared_out_keep_the_store_on_local_disk(tmp_path, network):
    a, b = _java_repo(tmp_path / "a", "alpha"), _java_repo(tmp_path / "b", "beta")
    out = network / "out"
    result = _run(f"file://{a}", f"file://{b}", "--out", out, "--tasks", "1", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "network filesystem (nfs4)" in result.output
    # nothing of SQLite on the shared filesystem: no store, no WAL, no scratch store
    assert not list(out.rglob("*.db*")), sorted(map(str, out.rglob("*.db*")))
    pointer = json.loads((out / "store.json").read_text())
    home = tmp_path / "home-cache" / "dataprep" / "stores"
    assert Path(pointer["path"]).parent.parent == home
    assert pointer["host"] == socket.gethostname()
    assert (out / "shards" / "plan.json").is_file() and (out / "dataset").is_dir()
    assert f"Store: {pointer['path']}" in result.output
    # every later command given --out finds it
    with Store.open(out, create=False) as store:
        assert store.path == locate(out) == Path(pointer["path"])
        assert store.kept_count(before="balance") > 0
    exported = CliRunner().invoke(app, ["export", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    again = _run(f"file://{a}", f"file://{b}", "--out", out, "--tasks", "1", "--workers", "1")
    assert again.exit_code == 0, again.output
    assert "network filesystem" not in again.output  # the place is known now
    assert not list(out.rglob("*.db*"))


def test_store_option_places_the_store_and_is_checked(tmp_path, network):
    repo = _java_repo(tmp_path / "repo", "gamma")
    out, home = network / "out", tmp_path / "local" / "store"
    result = _run(repo, "--out", out, "--store", home)
    assert result.exit_code == 0, result.output
    assert (home / "dataprep.db").is_file() and not (out / "dataprep.db").exists()
    assert "network filesystem" not in result.output
    assert _run(repo, "--out", out, "--store", home).exit_code == 0  # the same place: fine

    def error(*args) -> str:
        res = _run(repo, *args)
        assert res.exit_code == 1 and "Traceback" not in res.output, res.output
        return res.output

    assert "keeps its store at" in error("--out", out, "--store", tmp_path / "elsewhere")
    assert "network filesystem" in error("--out", tmp_path / "o2", "--store", network / "st")
    (tmp_path / "afile").write_text("x")
    assert "is a file" in error("--out", tmp_path / "o3", "--store", tmp_path / "afile")
    local_out = tmp_path / "o4"
    assert _run(repo, "--out", local_out).exit_code == 0
    assert "already keeps its store" in error("--out", local_out, "--store", tmp_path / "s4")
    # a store left on another machine is named, with the fix
    pointer = json.loads((out / "store.json").read_text())
    (out / "store.json").write_text(json.dumps({**pointer, "host": "node-7", "path": "/no/x.db"}))
    res = CliRunner().invoke(app, ["export", "--out", str(out)])
    assert res.exit_code == 1 and "on host node-7, not on this machine" in res.output, res.output
