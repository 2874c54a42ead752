"""The output folder is never destroyed: whose folder it is, one run at a time, writes that
stay inside it, a dataset checked against its manifest, and one-line errors for a damaged
store, a full disk, SIGTERM and SIGKILL."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from factories import shop_store
from typer.testing import CliRunner

from dataprep import outdir
from dataprep.cli import app
from dataprep.dataset_dir import DATASET_DIR, MANIFEST, verify_dataset
from dataprep.errors import ExportError, InputError
from dataprep.export import export_dataset
from dataprep.store import Store

DATAPREP = str(Path(sys.executable).parent / "dataprep")


def make_repo(root: Path, n_files: int = 3, methods: int = 3) -> Path:
    """A small Java repository of our own: `n_files` classes with documented methods."""
    for i in range(n_files):
        pkg = root / "src" / "main" / "java" / "com" / "acme" / f"m{i % 7}"
        pkg.mkdir(parents=True, exist_ok=True)
        body = "\n".join(
            f"""    /** Returns the {j}th score of the ledger, scaled by {i + 2}. */
    public int score{j}(int base) {{
        int total = base * {i + 2};
        for (int k = 0; k < {j + 3}; k++) {{
            total += k * {j + 1};
        }}
        return total;
    }}
"""
            for j in range(methods)
        )
        (pkg / f"Ledger{i}.java").write_text(
            f"package com.acme.m{i % 7};\n\n/** Ledger number {i}. */\n"
            f"public class Ledger{i} {{\n    private final int size = {i};\n\n{body}}}\n",
            encoding="utf-8",
        )
    (root / "README.md").write_text(
        "# Ledger\n\nThe ledger keeps scores per account.\n\n## Usage\n\nCall score0.\n"
    )
    return root


def run(*args: str):
    return CliRunner().invoke(app, ["run", *map(str, args), "--jobs", "1"])


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.fixture
def repo(tmp_path) -> Path:
    return make_repo(tmp_path / "repo")


# -- whose folder ------------------------------------------------------------------------


def test_a_non_empty_folder_without_a_store_is_refused_and_left_alone(tmp_path, repo):
    out = tmp_path / "mine"
    (out / "dataset").mkdir(parents=True)
    (out / "dataset" / "notes.txt").write_text("mine")
    (out / "report.html").write_text("my report")
    line = one_error_line(run(repo, "--out", out))
    assert "is not empty" in line and "--force" in line and "dataprep.db" in line
    assert sorted(p.name for p in out.iterdir()) == ["dataset", "report.html"]


def test_force_writes_beside_a_users_files_but_never_over_them(tmp_path, repo):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / "report.html").write_text("my report")
    line = one_error_line(run(repo, "--out", out, "--force"))
    assert "report.html was not written by dataprep" in line
    assert (out / "report.html").read_text() == "my report"
    (out / "report.html").unlink()
    (out / "dataset").mkdir()
    (out / "dataset" / "Row.java").write_text("class Row {}")
    line = one_error_line(run(repo, "--out", out, "--force"))
    assert "dataset was not written by dataprep" in line
    assert (out / "dataset" / "Row.java").read_text() == "class Row {}"
    (out / "dataset" / "Row.java").unlink()
    (out / "dataset").rmdir()
    assert run(repo, "--out", out, "--force").exit_code == 0
    assert (out / "keep.txt").read_text() == "mine"
    assert verify_dataset(out) is None


def test_out_inside_the_repository(tmp_path, repo):
    module = repo / "room"
    (module / "dataset").mkdir(parents=True)
    (module / "dataset" / "Row.java").write_text("package room;\nclass Row { int a; }\n")
    line = one_error_line(run(repo, "--out", module))
    assert "is not empty" in line
    line = one_error_line(run(repo, "--out", module, "--force"))
    assert "not written by dataprep" in line
    assert (module / "dataset" / "Row.java").is_file()
    # a new folder inside the repository: left out of the walk, and said so
    result = run(repo, "--out", repo / "gen")
    assert result.exit_code == 0, result.output
    assert "gen/ is left out of the slice" in result.output
    with Store.open(repo / "gen") as store:
        paths = {u.path for u in store.units()}
    assert not any(p.startswith("gen/") for p in paths)
    assert "room/dataset/Row.java" in paths  # the module is sliced, not left out


def test_a_store_from_another_repository_needs_force(tmp_path, repo):
    out = tmp_path / "out"
    assert run(repo, "--out", out).exit_code == 0
    other = make_repo(tmp_path / "other", n_files=2)
    line = one_error_line(run(other, "--out", out))
    assert f"was made from {repo.resolve()}" in line and "--force" in line
    assert run(other, "--out", out, "--force").exit_code == 0


def test_a_gitignore_that_excludes_everything_is_named(tmp_path, repo):
    (repo / ".gitignore").write_text("*\n")
    line = one_error_line(run(repo, "--out", tmp_path / "out"))
    assert "every file is excluded by .gitignore" in line


# -- the dataset against its manifest ------------------------------------------------------


def test_a_deleted_or_changed_split_file_is_exported_again(tmp_path, repo):
    out = tmp_path / "out"
    assert run(repo, "--out", out).exit_code == 0
    manifest = json.loads((out / DATASET_DIR / MANIFEST).read_text())
    assert any(f["path"].startswith("hf/") for f in manifest["files"])
    (out / DATASET_DIR / "train.jsonl").unlink()
    result = run(repo, "--out", out)
    assert result.exit_code == 0 and "running export again" in result.output
    assert verify_dataset(out) is None
    (out / DATASET_DIR / "test.parquet").write_bytes(b"overwritten by hand")
    assert "test.parquet changed since the export" in verify_dataset(out)
    result = run(repo, "--out", out)
    assert "running export again" in result.output and verify_dataset(out) is None
    result = run(repo, "--out", out)
    assert "running export again" not in result.output
    # the same size, other bytes: its modification time changed, so it is hashed and caught
    train = out / DATASET_DIR / "train.jsonl"
    data = train.read_bytes()
    train.write_bytes(data[:-2] + b"X\n")
    result = run(repo, "--out", out)
    assert "running export again" in result.output and train.read_bytes() == data


def test_a_file_put_into_the_dataset_folder_stops_the_export(tmp_path):
    out = tmp_path / "out"
    store = shop_store(out, n_files=8)
    export_dataset(store, out)
    (out / DATASET_DIR / "my-notes.md").write_text("notes")
    with pytest.raises(ExportError, match=r"did not write \(my-notes.md\): move them out of it"):
        export_dataset(store, out)
    assert (out / DATASET_DIR / "my-notes.md").read_text() == "notes"


# -- symbolic links ----------------------------------------------------------------------


def test_no_output_is_written_through_a_symbolic_link(tmp_path, repo):
    out = tmp_path / "out"
    assert run(repo, "--out", out).exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "report.html").unlink()
    (out / "report.html").symlink_to(victim)
    (repo / "README.md").write_text("# Ledger\n\nChanged, so the report is written again.\n")
    line = one_error_line(run(repo, "--out", out))
    assert "report.html was not written by dataprep" in line
    assert victim.read_text() == "precious"


def test_a_dataset_folder_that_is_a_symbolic_link(tmp_path, repo):
    out = tmp_path / "out"
    assert run(repo, "--out", out).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    (out / DATASET_DIR).rename(elsewhere)
    (out / DATASET_DIR).symlink_to(elsewhere, target_is_directory=True)
    for _ in range(2):  # every later run says the same, and leaves nothing behind
        line = one_error_line(run(repo, "--out", out))
        assert "dataset is a symbolic link" in line
    assert not (out / ".dataset.old").exists() and not (out / ".dataset.partial").exists()
    assert verify_dataset(elsewhere.parent / "x") is not None
    assert (elsewhere / MANIFEST).is_file()


def test_write_file_refuses_a_folder_outside_the_root(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputError, match="leads outside"):
        outdir.write_file(root, root / "sub" / "a.txt", b"x")
    assert not (outside / "a.txt").exists()
    (root / "link.txt").symlink_to(outside / "b.txt")
    outdir.write_file(root, root / "link.txt", b"new")
    assert not (outside / "b.txt").exists() and (root / "link.txt").read_bytes() == b"new"


# -- one run at a time ---------------------------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from dataprep.outdir import locked
with locked(Path(sys.argv[1]), "dataprep run repo --out out"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_fails_naming_the_holder_and_a_dead_ones_lock_is_taken(tmp_path, repo):
    out = tmp_path / "out"
    assert run(repo, "--out", out).exit_code == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        for args in (["run", str(repo), "--out", str(out)], ["export", "--out", str(out)]):
            line = one_error_line(CliRunner().invoke(app, args))
            assert f"is in use by another dataprep (pid {holder.pid}, " in line
            assert "`dataprep run repo --out out`, started " in line
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    result = run(repo, "--out", out)
    assert result.exit_code == 0, result.output
    assert "took over the lock" in result.output


def test_two_concurrent_runs_one_fails_in_one_line_the_other_completes(tmp_path):
    repo = make_repo(tmp_path / "repo", n_files=30)
    out = tmp_path / "out"
    cmd = [DATAPREP, "run", str(repo), "--out", str(out), "--jobs", "1"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    results = [(p.wait(timeout=300), p.stderr.read().decode()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    failed = next(err for code, err in results if code == 1)
    assert "is in use by another dataprep" in failed and "Traceback" not in failed
    assert verify_dataset(out) is None


# -- a damaged store, a full disk ----------------------------------------------------------


def test_a_damaged_store_is_one_line_naming_it(tmp_path, repo):
    out = tmp_path / "out"
    assert run(repo, "--out", out).exit_code == 0
    db = out / "dataprep.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    with open(db, "r+b") as fh:  # trash every page but the first (the schema stays readable)
        for page in range(1, pages):
            fh.seek(page * size)
            fh.write(os.urandom(size))
    for args in (["run", str(repo), "--out", str(out)], ["export", "--out", str(out)]):
        line = one_error_line(CliRunner().invoke(app, [*args]))
        assert f"{db} is damaged" in line and "new --out" in line
    db.write_bytes(b"this is not a database, only text" * 100)
    line = one_error_line(run(repo, "--out", out))
    assert f"{db} is damaged" in line


@pytest.fixture
def tiny_disk(tmp_path):
    """A 400 KB filesystem (tmpfs), where the machine lets the tests mount one."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_one_line(tmp_path, tiny_disk):
    repo = make_repo(tmp_path / "repo", n_files=40, methods=6)
    done = subprocess.run(
        [DATAPREP, "run", str(repo), "--out", str(tiny_disk / "out"), "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "no space left on the disk" in errors[0], done.stderr


# -- signals -------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_ends_the_run_in_one_line_and_sigkill_leaves_no_worker(tmp_path):
    repo = make_repo(tmp_path / "repo", n_files=600, methods=8)
    out = tmp_path / "out"
    cmd = [DATAPREP, "run", str(repo), "--out", str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = _wait_for_workers(proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert [line for line in err.splitlines() if line.startswith("Error: ")] == [
        "Error: interrupted: what was committed is kept; run again to continue"
    ]
    with sqlite3.connect(out / "dataprep.db") as conn:
        assert conn.execute("SELECT status FROM runs ORDER BY id DESC").fetchone() == (
            "interrupted",
        )
    time.sleep(0.5)
    assert not [w for w in workers if _alive(w)]

    (repo / "src" / "Touch.java").write_text("class Touch { int a; }\n")  # slice again
    for path in (repo / "src" / "main" / "java" / "com" / "acme").rglob("Ledger1*.java"):
        path.write_text(path.read_text() + "\n// changed\n")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    workers = _wait_for_workers(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while [w for w in workers if _alive(w)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)]


def _wait_for_workers(proc) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = _children(proc.pid)
        if len(workers) >= 2:
            return workers
        assert proc.poll() is None, "the run ended before its workers started"
        time.sleep(0.05)
    pytest.fail("no worker process started")
