"""Many repositories, one dataset: `dataprep run SOURCE...` on datatrove's executors.

The sources are real git repositories made here (`git init`) from parts of the hotel
fixture: the original, a fork with small edits, and a project that vendors one of its
modules; they are read through `file://` URLs (nothing leaves the machine).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.models import SPLITS

HOTEL = FIXTURES / "hotel-booking"
PARTS = ("pom.xml", "LICENSE", "README.md", "room", "common", "docs/architecture.md")


def _git(repo: Path, *args: str) -> str:
    env = dict(
        os.environ, GIT_AUTHOR_DATE="2026-01-01T00:00:00", GIT_COMMITTER_DATE="2026-01-01T00:00:00"
    )
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return out.stdout.strip()


def _commit(repo: Path) -> str:
    if not (repo / ".git").exists():
        _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "snapshot")
    return _git(repo, "rev-parse", "HEAD")


def _copy(parts, dest: Path) -> None:
    for part in parts:
        src, to = HOTEL / part, dest / part
        to.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, to)
        else:
            shutil.copy2(src, to)


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    base = tmp_path_factory.mktemp("repos")
    hotel, fork, vendor = base / "hotel", base / "fork", base / "vendor"
    _copy(PARTS, hotel)
    _commit(hotel)
    _copy(PARTS, fork)
    room = next(fork.rglob("RoomService.java"))
    room.write_text(room.read_text() + "\n// fork: kept in sync by hand\n")
    extra = room.with_name("RoomAudit.java")
    package = room.read_text().split(";", 1)[0]
    extra.write_text(
        f"{package};\n\n/** Counts changes to rooms. */\npublic class RoomAudit {{\n"
        "    private int changes;\n\n    /** Records one change. */\n"
        "    public void record() {\n        changes++;\n    }\n}\n"
    )
    _commit(fork)
    shutil.copytree(HOTEL / "common", vendor / "libs" / "hotel-common")  # not a vendor/ folder
    (vendor / "src/main/java/org/acme").mkdir(parents=True)
    (vendor / "src/main/java/org/acme/Greeter.java").write_text(
        "package org.acme;\n\n/** Says hello. */\npublic class Greeter {\n"
        "    /** The greeting for a name. */\n    public String greet(String name) {\n"
        '        return "Hello, " + name;\n    }\n}\n'
    )
    _commit(vendor)
    return {"hotel": hotel, "fork": fork, "vendor": vendor}


@pytest.fixture(autouse=True)
def _home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    for key, value in {
        "HOME": home,
        "XDG_CACHE_HOME": home / "cache",
        "HF_HOME": home / "hf",
        "HF_HUB_OFFLINE": "1",
    }.items():
        monkeypatch.setenv(key, str(value))


def _urls(repos, *names):
    return [f"file://{repos[n]}" for n in names]


def _run(*args: str):
    return CliRunner().invoke(app, ["run", *args, "--jobs", "1"])


def _rows(out: Path) -> dict[str, list[str]]:
    """Each split's Parquet rows, as sorted canonical JSON."""
    return {
        s: sorted(
            json.dumps(r, sort_keys=True)
            for r in pq.read_table(out / "dataset" / f"{s}.parquet").to_pylist()
        )
        for s in SPLITS
    }


@pytest.fixture(scope="module")
def one_task(repos, tmp_path_factory):
    out = tmp_path_factory.mktemp("t1") / "out"
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.getbasetemp() / "home"
        mp.setenv("XDG_CACHE_HOME", str(home / "cache"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        result = _run(
            *_urls(repos, "hotel", "fork", "vendor"),
            "--out",
            str(out),
            "--tasks",
            "1",
            "--workers",
            "1",
        )
    assert result.exit_code == 0, result.output
    return out, result


def test_tasks_and_workers_do_not_change_the_rows(one_task, repos, tmp_path):
    out1, _ = one_task
    out4 = tmp_path / "out"
    result = _run(
        *_urls(repos, "hotel", "fork", "vendor"),
        "--out",
        str(out4),
        "--tasks",
        "4",
        "--workers",
        "2",
    )
    assert result.exit_code == 0, result.output
    rows1, rows4 = _rows(out1), _rows(out4)
    assert sum(len(r) for r in rows1.values()) > 300
    assert rows1 == rows4
    units = lambda out: sorted(  # noqa: E731
        (p.parent.name, pq.read_table(p).to_pylist().__len__())
        for p in (out / "shards").glob("*/units.parquet")
    )
    assert units(out1) == units(out4)


def test_each_items_decisions_are_a_shard_of_its_own(one_task):
    from dataprep.scaleout import items as it
    from dataprep.scaleout import llmshards
    from dataprep.store import Store

    out, _ = one_task
    shards = sorted((out / "shards").glob(f"*/{llmshards.DECISIONS_FILE}"))
    assert len(shards) == 3  # one per work item (a source each here)
    rows = []
    for path in shards:
        assert it.verify(path.parent, llmshards.DECISIONS_PHASE, llmshards.DECISIONS_SETTINGS)
        rows += pq.read_table(path).to_pylist()
    with Store.open(out, create=False) as store:
        stored = {
            (pid, stage): (bool(kept), reason)
            for pid, _, stage, kept, reason, _ in store.decision_rows()
        }
    assert rows and {(r["pair_id"], r["stage"]): (r["kept"], r["reason"]) for r in rows} == stored
    assert any(not r["kept"] and r["stage"].startswith("filter.") for r in rows)
    # a tampered shard no longer verifies, so it is never taken for the record
    shards[0].write_bytes(shards[0].read_bytes()[:-8] + b"tampered")
    assert (
        it.verify(shards[0].parent, llmshards.DECISIONS_PHASE, llmshards.DECISIONS_SETTINGS) is None
    )


def test_provenance_card_and_report_name_every_source(one_task, repos):
    out, result = one_task
    rows = [json.loads(x) for s in SPLITS for x in _rows(out)[s]]
    commits = {n: _git(repos[n], "rev-parse", "HEAD") for n in repos}
    by_repo = {r["repo"]: (r["source_url"], r["commit"]) for r in rows}
    assert by_repo["hotel"] == (f"file://{repos['hotel']}", commits["hotel"])
    assert by_repo["fork"] == (f"file://{repos['fork']}", commits["fork"])
    card = (out / "dataset" / "README.md").read_text()
    assert "## Sources" in card
    for name in repos:
        assert commits[name] in card
    assert "| vendor |" in card and "**unknown**" in card  # no LICENSE in the vendoring repo
    report = json.loads((out / "report.json").read_text())
    assert [s["name"] for s in report["sources"]] == ["hotel", "fork", "vendor"]
    assert "Per source" in (out / "report.html").read_text()
    assert "licence UNKNOWN" in result.output


def test_cross_source_copies_make_no_pairs(one_task, repos):
    out, _ = one_task
    dedup = json.loads((out / "shards" / "dedup.json").read_text())
    assert dedup["dropped_by_source"]["fork"] > 100
    assert dedup["dropped_by_source"]["vendor"] > 5  # libs/hotel-common is a copy of hotel's common
    rows = [json.loads(x) for s in SPLITS for x in _rows(out)[s]]
    fork_paths = {r["path"] for r in rows if r["repo"] == "fork"}
    # the fork's own file and its edited one make pairs; its unchanged files do not
    assert any(p.endswith("RoomAudit.java") for p in fork_paths)
    assert not any(p.startswith("common/") for p in fork_paths)
    vendor_paths = {r["path"] for r in rows if r["repo"] == "vendor"}
    assert any(p.endswith("Greeter.java") for p in vendor_paths)
    assert not any(p.startswith("libs/hotel-common/") and p.endswith(".java") for p in vendor_paths)
    # no unit text is generated twice across sources: every dropped unit has no pair
    dropped = set(dedup["dropped"])
    pair_units = {f"{r['repo']}:{r['unit_id']}" for r in rows}
    assert not (pair_units & dropped)


def test_a_finished_job_skips_every_item(one_task, repos):
    out, _ = one_task
    before = _rows(out)
    start = time.perf_counter()
    result = _run(
        *_urls(repos, "hotel", "fork", "vendor"),
        "--out",
        str(out),
        "--tasks",
        "1",
        "--workers",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert "(3 sliced and 3 generated before, skipped)" in result.output
    assert "0 new pairs, 0 removed" in result.output
    assert _rows(out) == before
    assert time.perf_counter() - start < 60


def test_one_source_on_the_executor_matches_the_one_repository_run(repos, tmp_path):
    plain, scaled = tmp_path / "plain", tmp_path / "scaled"
    assert _run(str(repos["hotel"]), "--out", str(plain)).exit_code == 0
    result = _run(str(repos["hotel"]), "--out", str(scaled), "--executor", "local", "--tasks", "2")
    assert result.exit_code == 0, result.output
    strip = lambda rows: {  # noqa: E731
        s: sorted(
            json.dumps({k: v for k, v in json.loads(r).items() if k != "source_url"}) for r in rs
        )
        for s, rs in rows.items()
    }
    assert strip(_rows(plain)) == strip(_rows(scaled))


def test_an_unreachable_source_is_one_line_and_the_others_go_on(repos, tmp_path):
    gone = f"file://{tmp_path / 'missing'}"
    result = _run(f"file://{repos['hotel']}", gone, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    lines = [x for x in result.output.splitlines() if x.startswith("Source left out:")]
    assert len(lines) == 1 and str(tmp_path / "missing") in lines[0]
    strict = _run(f"file://{repos['hotel']}", gone, "--out", str(tmp_path / "o2"), "--strict")
    assert strict.exit_code == 1
    assert strict.output.count("\n") == 1 and "missing" in strict.output
    assert "Traceback" not in strict.output


def test_licenses_keep_only_allowed_sources(repos, tmp_path):
    result = _run(
        *_urls(repos, "hotel", "vendor"),
        "--out",
        str(tmp_path / "out"),
        "--licenses",
        "MIT,Apache-2.0",
    )
    assert result.exit_code == 0, result.output
    assert "licence unknown is not in --licenses" in result.output
    rows = [json.loads(x) for s in SPLITS for x in _rows(tmp_path / "out")[s]]
    assert {r["repo"] for r in rows} == {"hotel"}


def test_sources_file_and_refs(repos, tmp_path):
    first = _git(repos["hotel"], "rev-parse", "HEAD")
    listing = tmp_path / "repos.txt"
    listing.write_text(
        f"# the original, pinned\nfile://{repos['hotel']}@{first}\n\nfile://{repos['fork']}@main\n"
    )
    result = _run("--sources", str(listing), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert f"@ {first[:12]}" in result.output
    plan = json.loads((tmp_path / "out" / "shards" / "plan.json").read_text())
    assert [p["source"]["name"] for p in plan] == ["hotel", "fork"]


def test_a_killed_job_resumes_without_duplicate_rows(one_task, repos, tmp_path):
    out = tmp_path / "out"
    args = ["run", *_urls(repos, "hotel", "fork", "vendor"), "--out", str(out)]
    args += ["--tasks", "3", "--workers", "1", "--jobs", "1"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dataprep.cli import main; main()", *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "shards").glob("*/slice.json")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole job, its workers too
    proc.wait()
    done = list((out / "shards").glob("*/slice.json"))
    assert 1 <= len(done) < 3, "killed too late to test a resume"
    result = _run(
        *_urls(repos, "hotel", "fork", "vendor"),
        "--out",
        str(out),
        "--tasks",
        "3",
        "--workers",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert "(1 sliced" in result.output or "(2 sliced" in result.output, [
        line for line in result.output.splitlines() if "slice" in line
    ]
    rows = _rows(out)
    ids = [json.loads(r)["id"] for s in SPLITS for r in rows[s]]
    assert len(ids) == len(set(ids))
    assert rows == _rows(one_task[0])


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("ray") is None, reason="ray is not installed"
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # datatrove's Ray placement options
def test_the_ray_executor_gives_the_same_rows(one_task, repos, tmp_path):
    import ray

    out = tmp_path / "out"
    try:
        result = _run(
            *_urls(repos, "hotel", "fork", "vendor"), "--out", str(out),
            "--executor", "ray", "--tasks", "4", "--workers", "2",
        )  # fmt: skip
    finally:
        ray.shutdown()
    assert result.exit_code == 0, result.output
    assert _rows(out) == _rows(one_task[0])


def test_source_specs_refs_and_credentials(tmp_path):
    from dataprep import sources as src

    assert src.split_ref("git@github.com:a/b.git@v1") == ("git@github.com:a/b.git", "v1")
    assert src.split_ref("git@github.com:a/b.git") == ("git@github.com:a/b.git", None)
    assert src.split_ref("https://u@host/x/y@main") == ("https://u@host/x/y", "main")
    assert src.split_ref("https://u@host/x/y") == ("https://u@host/x/y", None)
    assert src.clean_url("https://me:tok@host:8443/a/b.git") == "https://host:8443/a/b.git"
    listing = tmp_path / "s.txt"
    listing.write_text("# repos\nfile:///a  # the first\n\nfile:///b\nfile:///a\n")
    assert src.read_specs(["../c"], listing) == ["../c", "file:///a", "file:///b"]
    with pytest.raises(src.InputError):
        src.read_specs([], tmp_path / "missing.txt")


def test_a_large_source_is_split_into_items_whatever_the_tasks(repos, tmp_path):
    from dataprep import outdir
    from dataprep import sources as src
    from dataprep.pipeline import RunConfig
    from dataprep.scaleout.items import count_files
    from dataprep.scaleout.runner import ScaleOptions, run_items
    from dataprep.store import Store

    outputs = []
    for tasks in (1, 3):
        source = src.resolve(str(repos["hotel"]), 0)
        out = tmp_path / f"t{tasks}"
        out.mkdir()
        with outdir.locked(out):
            Store.open(out).close()
            opts = ScaleOptions(tasks=tasks, workers=2, max_files=5)
            result = run_items(RunConfig(path=None, out=out, jobs=1), [source], opts)
        items = result["items"]
        assert len(items) >= 3 and all(i.buckets == len(items) for i in items)
        files = [m["counts"]["files"] for m in result["sliced"]]
        assert sum(files) == count_files(repos["hotel"]) and max(files) < sum(files)
        shards = sorted((out / "shards").glob("*/*.parquet"))
        outputs.append(
            {p.relative_to(out).as_posix(): pq.read_table(p).to_pylist() for p in shards}
        )
    assert outputs[0] == outputs[1]


def test_a_bad_executor_is_one_line_before_any_work(repos, tmp_path):
    result = _run(str(repos["hotel"]), "--out", str(tmp_path / "out"), "--executor", "spark")
    assert result.exit_code == 1
    assert result.output == "Error: --executor 'spark' is not known: use local, ray or slurm\n"
    assert not (tmp_path / "out").exists()


def test_a_plain_install_pulls_no_ray():
    import tomllib
    from importlib.metadata import requires

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    core = [d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]]
    assert "datatrove" in core and "ray" not in core
    assert project["optional-dependencies"]["ray"] == ["ray>=2.40"]
    unconditional = [r for r in requires("datatrove") or [] if "extra ==" not in r]
    assert not [r for r in unconditional if r.lower().startswith("ray")]


def test_export_of_a_many_source_store_gives_the_same_rows(one_task):
    out, _ = one_task
    before = _rows(out)
    result = CliRunner().invoke(app, ["export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _rows(out) == before  # same project in the system prompt, same source_url column


def test_with_llm_forks_cost_no_call(repos, tmp_path):
    from ollama_harness import Harness, evol_script

    from dataprep.store import Store

    out = tmp_path / "out"
    with Harness(evol_script()) as harness:
        args = [*_urls(repos, "hotel", "fork"), "--out", str(out), "--llm", "ollama:smollm2"]
        args += ["--llm-host", harness.url, "--evol-units", "400", "--evol-rounds", "1"]
        result = _run(*args, "--evol-questions", "1")
        calls = harness.calls
    assert result.exit_code == 0, result.output
    dedup = json.loads((out / "shards" / "dedup.json").read_text())
    with Store.open(out) as store:
        evolved = store.pairs(generator="evol")
        units = store.units()
    fork_units = {u.id for u in units if u.repo == "fork"}
    assert calls > 0 and evolved
    # --evol-units above the store's units: the LLM may take any, and no fork copy is there
    assert {p.unit_id for p in evolved if p.repo == "fork"} <= fork_units
    assert not {f"{p.repo}:{p.unit_id}" for p in evolved} & set(dedup["dropped"])
    assert len(fork_units) < 40 < len(dedup["dropped"])


def test_one_git_url_is_the_one_repository_run_on_its_cached_clone(repos, tmp_path):
    plain, cloned = tmp_path / "plain", tmp_path / "cloned"
    assert _run(str(repos["hotel"]), "--out", str(plain)).exit_code == 0
    result = _run(f"file://{repos['hotel']}", "--out", str(cloned))
    assert result.exit_code == 0, result.output
    assert "Work items" not in result.output and not (cloned / "shards").exists()
    assert _rows(plain) == _rows(cloned)
    commit = _git(repos["hotel"], "rev-parse", "HEAD")
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "dataprep" / "sources"
    assert [p.name for p in cache.glob(f"*/{commit}/*")] == ["hotel"]


def test_a_failing_task_is_one_line_and_the_job_resumes(repos, tmp_path, monkeypatch):
    from dataprep.scaleout import steps

    out = tmp_path / "out"
    args = [*_urls(repos, "hotel", "vendor"), "--out", str(out), "--tasks", "2", "--workers", "1"]
    real = steps.SliceItems.process

    def flaky(self, item, *rest):
        if item.source["name"] == "vendor":
            raise RuntimeError("disk on fire")
        return real(self, item, *rest)

    monkeypatch.setattr(steps.SliceItems, "process", flaky)
    failed = _run(*args)
    assert failed.exit_code == 1
    errors = [x for x in failed.output.splitlines() if x.startswith("Error:")]
    assert len(errors) == 1 and "RuntimeError: disk on fire" in errors[0]
    assert "Traceback" not in failed.output
    assert len(list((out / "shards").glob("*/slice.json"))) == 1  # hotel's item is kept
    monkeypatch.setattr(steps.SliceItems, "process", real)
    again = _run(*args)
    assert again.exit_code == 0, again.output
    assert "(1 sliced and 0 generated before, skipped)" in again.output
