"""`run_pipeline`: incremental (no work twice, only changed files redone) and resumable
(a run killed with SIGKILL, started again, ends with the same dataset)."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES

from dataprep.errors import InputError, TemplateError
from dataprep.models import SPLITS
from dataprep.pipeline import RunConfig, module_finder, run_pipeline
from dataprep.store import Store

SPLIT_FILES = tuple(f"{split}.jsonl" for split in SPLITS)
MONEY = "common/src/main/java/com/example/hotel/common/Money.java"


def _repo(tmp_path: Path, extra_files: int = 0) -> Path:
    repo = tmp_path / "hotel-booking"
    shutil.copytree(FIXTURES / "hotel-booking", repo)
    for n in range(extra_files):
        _write_class(repo / f"extra/src/main/java/com/example/gen/Gen{n}.java", n)
    return repo


def _write_class(path: Path, n: int) -> None:
    methods = "\n".join(
        f"    /**\n     * Step {m} of generator {n}.\n     *\n     * @param x the input\n"
        f"     * @return x plus {m}\n     */\n    public int step{m}(int x) {{\n"
        f"        return x + {m * n + 1};\n    }}\n"
        for m in range(6)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"package com.example.gen;\n\nimport java.util.List;\n\n/** Generated class {n}. */\n"
        f"public class Gen{n} {{\n    private final int seed = {n};\n\n{methods}}}\n"
    )


def _dataset(out: Path) -> dict[str, bytes]:
    return {name: (out / "dataset" / name).read_bytes() for name in SPLIT_FILES}


def _rows(out: Path) -> list[dict]:
    return [
        json.loads(line)
        for name in SPLIT_FILES
        for line in (out / "dataset" / name).read_text().splitlines()
    ]


def _pair_ids(out: Path, path_prefix: str = "") -> set[str]:
    with Store.open(out) as store:
        return {p.id for p in store.pairs() if p.path.startswith(path_prefix)}


def test_rerun_does_no_work_twice_and_an_edit_redoes_only_that_file(tmp_path):
    repo, out = _repo(tmp_path), tmp_path / "out"
    first = run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    sl, gen = first["counters"]["slice"], first["counters"]["generate"]
    assert sl["sliced"] == sl["files"] > 40 and sl["unchanged"] == 0
    assert gen["units_generated"] == sum(first["units_by_kind"].values())
    assert gen["pairs_new"] > 1000
    assert sum(first["rows_per_split"].values()) == len(_rows(out)) > 0
    exported = _dataset(out)

    again = run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    c = again["counters"]
    assert (c["slice"]["sliced"], c["slice"]["unchanged"]) == (0, sl["files"])
    assert c["generate"] == {
        "files_generated": 0, "units_generated": 0, "pairs_new": 0, "pairs_removed": 0,
        "skipped": True,
    }  # fmt: skip
    for stage in ("filter", "balance", "export", "report"):
        assert c[stage]["skipped"] is True, stage
    assert _dataset(out) == exported
    assert again["rows_per_split"] == first["rows_per_split"]

    others = _pair_ids(out) - _pair_ids(out, MONEY)
    money = repo / MONEY
    money.write_text(
        money.read_text().rstrip().removesuffix("}")
        + "\n    /** Half of it. */\n    public Money halved() {\n        return this;\n    }\n}\n"
    )
    edited = run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    c = edited["counters"]
    with Store.open(out) as store:
        money_units = [u for u in store.units() if u.path == MONEY]
    assert c["slice"]["sliced"] == 1 and c["slice"]["unchanged"] == sl["files"] - 1
    assert c["generate"]["files_generated"] == 1
    assert c["generate"]["units_generated"] == len(money_units)
    assert c["generate"]["pairs_new"] > 0
    assert _pair_ids(out) - _pair_ids(out, MONEY) == others  # nothing else changed
    halved = [r for r in _rows(out) if r["task"] == "method.code" and "halved" in r["output"]]
    assert len(halved) == 1 and halved[0]["path"] == MONEY

    (repo / "docs" / "operations.rst").unlink()
    removed = run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    assert removed["counters"]["slice"]["forgotten"] == 1
    assert removed["counters"]["generate"]["pairs_removed"] > 0
    assert not [r for r in _rows(out) if r["path"] == "docs/operations.rst"]
    assert _pair_ids(out, "docs/operations.rst") == set()

    with Store.open(out) as store:
        runs = store.conn.execute("SELECT command, status, stats FROM runs ORDER BY id").fetchall()
    assert [(cmd, status) for cmd, status, _ in runs] == [("run", "done")] * 4
    stats = json.loads(runs[-1][2])
    assert set(stats["timings"]) >= {"slice", "generate", "filter", "export"}
    assert stats["counters"]["slice"]["forgotten"] == 1


def _run_cli(repo: Path, out: Path) -> subprocess.Popen:
    code = "from dataprep.cli import main; main()"
    args = [sys.executable, "-c", code, "run", str(repo), "--out", str(out), "--jobs", "1"]
    return subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def _kill_when(proc: subprocess.Popen, db: Path, sql: str, at_least: int) -> int:
    """SIGKILL the run (its whole process group) once `sql` counts `at_least`."""
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        seen = _count(db, sql)
        if seen >= at_least:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return seen
        time.sleep(0.01)
    pytest.fail(f"the run ended (rc {proc.returncode}) before {sql} reached {at_least}")


def test_a_killed_run_resumes_to_the_same_dataset(tmp_path):
    repo = _repo(tmp_path, extra_files=80)
    baseline = tmp_path / "baseline"
    run_pipeline(RunConfig(path=repo, out=baseline, jobs=1))

    out = tmp_path / "out"
    db = out / "dataprep.db"
    total = _count(baseline / "dataprep.db", "SELECT COUNT(*) FROM files")
    # killed while slicing: some files are committed, not all
    seen = _kill_when(_run_cli(repo, out), db, "SELECT COUNT(*) FROM files", total // 3)
    assert seen < total
    assert not (out / "dataset").exists()
    # killed again after the templates were being cached
    _kill_when(_run_cli(repo, out), db, "SELECT COUNT(*) FROM template_cache", 1)
    assert _count(db, "SELECT COUNT(*) FROM runs WHERE status = 'running'") == 2

    resumed = run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    assert resumed["counters"]["slice"]["sliced"] < total  # committed files were kept
    assert _dataset(out) == _dataset(baseline)
    assert _pair_ids(out) == _pair_ids(baseline)
    with Store.open(out) as store, Store.open(baseline) as base:
        assert store.splits() == base.splits()
        assert {u.id for u in store.units()} == {u.id for u in base.units()}


def test_parallel_slicing_gives_the_same_dataset(tmp_path):
    repo = _repo(tmp_path, extra_files=20)
    one = run_pipeline(RunConfig(path=repo, out=tmp_path / "one", jobs=1))
    two = run_pipeline(RunConfig(path=repo, out=tmp_path / "two", jobs=2))
    assert one["units_by_kind"] == two["units_by_kind"]
    assert _dataset(tmp_path / "one") == _dataset(tmp_path / "two")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"path": Path("no/such/repo")}, InputError, r"no/such/repo is not a directory: pass"),
        ({"parser": "antlr"}, InputError, r"--parser 'antlr' is not known: use tree-sitter or"),
        ({"split_by": "row"}, InputError, r"--split-by 'row' is not known: use file or module"),
        ({"style": "vicuna"}, TemplateError, r"unknown prompt style 'vicuna': use one of alpaca"),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, change, error, message):
    config = RunConfig(**{"path": FIXTURES / "hotel-booking", "out": tmp_path / "out", **change})
    with pytest.raises(error, match=message):
        run_pipeline(config)
    assert not (tmp_path / "out").exists()


def test_a_folder_with_nothing_to_slice(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no Java or documentation files to slice"):
        run_pipeline(RunConfig(path=tmp_path / "empty", out=tmp_path / "out"))


def test_module_finder_uses_maven_modules(tmp_path):
    (tmp_path / "services" / "auth").mkdir(parents=True)
    (tmp_path / "services" / "auth" / "pom.xml").write_text("<project/>")
    (tmp_path / "pom.xml").write_text("<project/>")
    module_of = module_finder(tmp_path)
    assert module_of("services/auth/src/main/java/A.java") == "services/auth"
    assert module_of("docs/guide.md") == "docs"  # no module: the first path component
    assert module_of("README.md") is None


def test_an_output_folder_inside_the_repository_is_never_sliced(tmp_path):
    repo = tmp_path / "tiny"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "A.java").write_text(
        "package a;\n\n/** A. */\npublic class A {\n    int x = 1;\n}\n"
    )
    (repo / "README.md").write_text("# Tiny\n\nIt adds.\n")
    first = run_pipeline(RunConfig(path=repo, out=repo / "data" / "hotel-ds", jobs=1))
    assert (repo / "data" / "hotel-ds" / "dataset" / "README.md").is_file()
    again = run_pipeline(RunConfig(path=repo, out=repo / "data" / "hotel-ds", jobs=1))
    assert again["counters"]["slice"]["files"] == first["counters"]["slice"]["files"] == 2
    assert again["counters"]["slice"]["sliced"] == 0


def test_a_changed_style_file_is_exported_again(tmp_path):
    repo = tmp_path / "tiny"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "A.java").write_text("package a;\n\npublic class A {\n    int x = 1;\n}\n")
    style = tmp_path / "mine.txt"
    style.write_text("Q: {instruction}\n{input}\nA: {output}")
    config = RunConfig(path=repo, out=tmp_path / "out", jobs=1, style=str(style))
    run_pipeline(config)
    style.write_text("Question: {instruction}\n{input}\nAnswer: {output}")
    again = run_pipeline(config)
    assert "skipped" not in again["counters"]["export"]
    texts = [
        json.loads(r)["prompt"]
        for r in (tmp_path / "out/dataset/train.jsonl").read_text().splitlines()
    ]
    assert texts and all(t.startswith("Question: ") for t in texts)


def test_verdicts_of_the_exports_own_decontamination_do_not_export_again(tmp_path):
    repo, out = _repo(tmp_path), tmp_path / "out"
    run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    with Store.open(out) as store:  # as if the export had found a held-out near-copy
        (pair_id,) = store.conn.execute(
            "SELECT pair_id FROM splits WHERE split IN ('validation', 'test') LIMIT 1"
        ).fetchone()
        store.conn.execute(
            "INSERT OR REPLACE INTO decisions (pair_id, stage, kept, reason) "
            "VALUES (?, 'decontaminate', 0, 'test pair nearly copies a train pair')",
            (pair_id,),
        )
    again = run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    # decontamination's own verdicts are not its input: it is not run again, and the export
    # (whose input they are) runs once, then settles
    assert again["counters"]["decontaminate"] == {"skipped": True}
    assert "skipped" not in again["counters"]["export"]
    third = run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    for stage in ("filter", "balance", "split", "decontaminate", "export", "report"):
        assert third["counters"][stage]["skipped"] is True, stage


def test_the_summary_counts_the_kept_pairs_from_the_exports_counts_while_they_stand(tmp_path):
    from dataprep.export_rows import handed_column_counts

    repo, out = _repo(tmp_path), tmp_path / "out"
    summary = run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    with Store.open(out) as store:
        assert handed_column_counts(store, "task") == summary["pairs_by_task"]
        assert summary["pairs_by_task"] == store.kept_counts("task")
        assert summary["pairs_by_generator"] == store.kept_counts("generator")
        dropped = next(iter(store.kept_ids()))
        with store.transaction():  # a stage drops one more pair: the export's counts are old
            store.conn.execute(
                "INSERT INTO decisions (pair_id, stage, kept) VALUES (?, 'balance', 0)",
                (dropped,),
            )
        assert handed_column_counts(store, "task") is None
        assert sum(store.kept_counts("task").values()) == sum(summary["pairs_by_task"].values()) - 1
