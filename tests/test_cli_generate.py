"""`dataprep generate`: output, errors, rerun without calls, and resume after SIGKILL."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import types

import pytest
from conftest import ROOT, needs_llm
from ollama_harness import Harness, evol_script, evol_store, free_port, scripted
from store_text import store_text
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.generate.evol import EvolConfig, run_evol
from dataprep.generate.llm import parse_llm_spec
from dataprep.store import Store

runner = CliRunner()


@pytest.fixture
def out(tmp_path):
    evol_store(tmp_path / "out").close()
    return tmp_path / "out"


@pytest.fixture
def harness():
    with Harness(evol_script()) as h:
        yield h


def generate(out, h_url, *extra):
    args = ["generate", "--out", str(out), "--llm", "ollama:smollm2", "--llm-host", h_url]
    return runner.invoke(app, [*args, "--evol-rounds", "2", "--evol-questions", "1", *extra])


def test_help_has_an_example():
    result = runner.invoke(app, ["generate", "--help"])
    assert result.exit_code == 0
    assert "Example: dataprep generate --out out --llm ollama:qwen2.5-coder:7b" in result.output


def test_run_then_rerun_makes_no_call(out, harness):
    result = generate(out, harness.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("evol: 18 pairs (18 new) on 4 units; 48 LLM calls (2 cached), ")
    calls = harness.calls
    result = generate(out, harness.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "evol: 18 pairs (0 new) on 4 units; 0 LLM calls (50 cached), 0 tokens"
    )
    assert harness.calls == calls
    with Store.open(out) as store:
        run = store.conn.execute("SELECT command, status FROM runs ORDER BY id DESC").fetchone()
        assert run == ("generate", "done")


def test_dry_run_calls_nothing(out, harness):
    result = generate(out, harness.url, "--dry-run", "--evol-units", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("dry run: 2 units, ")
    assert "LLM calls, about " in result.stdout and result.stdout.rstrip().endswith(
        "nothing was called"
    )
    assert harness.calls == 0


@needs_llm
def test_server_down_is_one_line_and_exit_1(out):
    url = f"http://127.0.0.1:{free_port()}"
    result = generate(out, url, "--llm-timeout", "2")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: cannot reach Ollama at {url}: start it with `ollama serve`, "
        "or point --llm-host (or OLLAMA_HOST) at a running server\n"
    )


def test_a_connection_cut_mid_answer_is_one_line_and_not_cannot_reach(out, harness, monkeypatch):
    import dataprep.generate.llm as llm_module

    # no backoff waits between the retries (time.sleep of the llm module only)
    fast = types.SimpleNamespace(sleep=lambda s: None, monotonic=time.monotonic)
    monkeypatch.setattr(llm_module, "time", fast)
    harness.set_fault("cut")
    result = generate(out, harness.url)
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error: Ollama at {harness.url} closed the connection in the middle of an answer ("
    )
    assert result.output.endswith(
        "; 5 attempts): it may have crashed or restarted, check its log; "
        "run again to continue (finished answers are kept)\n"
    )
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    harness.set_fault(None)  # the server is back: a rerun continues and finishes
    result = generate(out, harness.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("evol: 18 pairs (18 new) on 4 units; ")


def test_model_missing_names_the_pull(out, harness):
    args = [
        "generate",
        "--out",
        str(out),
        "--llm",
        "ollama:qwen2.5-coder:7b",
        "--llm-host",
        harness.url,
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: model 'qwen2.5-coder:7b' not found on Ollama at {harness.url}: "
        "run `ollama pull qwen2.5-coder:7b`\n"
    )


def test_no_store_and_bad_spec(tmp_path, harness):
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "none"), "--llm", "ollama:x"])
    assert result.exit_code == 1 and result.output.startswith("Error: no working store at ")
    evol_store(tmp_path / "o").close()
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "o"), "--llm", "gpt4"])
    assert result.exit_code == 1 and "has no backend prefix" in result.output


def test_sigkill_then_restart_finishes_with_no_duplicate_and_few_extra_calls(tmp_path):
    """Kill a real `dataprep generate` process mid-run; the restart completes the same pairs."""
    args = ["--evol-rounds", "3", "--evol-questions", "2", "--llm-concurrency", "4"]
    with Harness(evol_script(), latency=0.03) as ref_h:  # the uninterrupted reference
        ref = evol_store(tmp_path / "ref")
        config = EvolConfig(rounds=3, questions_per_unit=2, concurrency=4, progress=False)
        run_evol(ref, config, parse_llm_spec("ollama:smollm2", host=ref_h.url))
        expected = sorted(p.id for p in ref.pairs(generator="evol"))
        ref_calls = ref_h.calls
        ref.close()
    assert ref_calls > 100

    out = tmp_path / "out"
    evol_store(out).close()
    with Harness(evol_script(), latency=0.03) as h:
        cmd = [
            sys.executable,
            "-c",
            "from dataprep.cli import main; main()",
            "generate",
            "--out",
            str(out),
        ]
        cmd += ["--llm", "ollama:smollm2", "--llm-host", h.url, *args]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while h.calls < ref_calls // 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        killed_at = h.calls
        assert 0 < killed_at < ref_calls
        with Store.open(out) as store:
            partial = len(store.pairs(generator="evol"))
        assert 0 < partial < len(expected)
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        total_calls = h.calls
    with Store.open(out) as store:
        pairs = store.pairs(generator="evol")
    assert sorted(p.id for p in pairs) == expected  # none missing, none extra
    assert len({(p.unit_id, p.instruction, p.output) for p in pairs}) == len(pairs)
    assert total_calls <= ref_calls * 1.05, (total_calls, ref_calls)


# --- secrets the model writes never reach the store ----------------------------------------

AWS = "AKIAQ7RZ3KXW5TNV2MLP"
GITHUB = "ghp_R8mK2vT9xQ4wZ7nB3pL6cY1sD5fH0jG8aE2u"
PASSWORD = "Tr0ub4dor-77x"
JDBC = f"jdbc:postgresql://db.internal:5432/hotel?user=app&password={PASSWORD}"
PLANTED = (AWS, GITHUB, PASSWORD)


def leaky_script():
    """A model that writes keys into every kind of answer, kept and eliminated alike."""

    def questions(m, messages):
        if "method nights shown above" in messages[-1]["content"].replace("\n", " "):
            return '{"questions": ["Which key is ' + AWS  # malformed: a candidate's raw text
        return json.dumps({"questions": [f"Which of {AWS} and {GITHUB} does this code use?"]})

    def evolve(m, messages):
        given = m.group(1).strip()
        if "overlaps" in given:
            return f"#Rewritten Prompt#: {given} with {GITHUB}"  # copies prompt words
        return f"{given} Authenticate with {GITHUB} first."

    def judge(m, messages):
        if "Booking(int" in messages[-1]["content"]:
            return f"Not Equal, as {AWS} says"  # neither JSON nor a verdict
        return '{"verdict": "Not Equal"}'

    def answer(m, messages):
        if "nights" in m.group(1):
            return f"Sorry, I cannot share {GITHUB}."
        return f"Connect with {JDBC} and sign with {AWS}; then call it."

    return scripted(
        [
            (r"REPOSITORY DATA>>>.*\"questions\"", questions),
            (r"#Given Prompt#:\n(.*?)\n\n#(?:Rewritten|Created) Prompt#", evolve),
            (r"Second instruction:", judge),
            (r"Task:\n(.*?)\n\nAnswer the task", answer),
        ]
    )


def _dump(db) -> str:
    """Every row of every table, as text."""
    return store_text(db)


def _file_bytes(db) -> bytes:
    """The database file and its WAL, after a checkpoint."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(FULL)")
    conn.close()
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_keys_the_model_writes_are_redacted_before_they_are_stored(out):
    with Harness(leaky_script()) as h:
        result = generate(out, h.url)
        prompts = "\n".join(m["content"] for r in h.requests for m in r["messages"])
    assert result.exit_code == 0, result.output
    assert "eliminated: " in result.stdout
    db = out / "dataprep.db"
    dump = _dump(db)
    for value in PLANTED:
        assert value not in dump
        assert value.encode() not in _file_bytes(db)
        assert value not in prompts  # later prompts are built from the redacted answers
    with Store.open(out) as store:
        pairs = store.pairs(generator="evol")
        cands = store.conn.execute("SELECT reason, data FROM candidates").fetchall()
        cache = store.conn.execute("SELECT response FROM llm_cache").fetchall()
    kept = "\n".join(p.instruction + "\n" + p.output for p in pairs)
    for rule in ("aws_access_key", "github_token", "url_password"):
        assert f"<SECRET:{rule}:1>" in kept
    assert {"malformed_json", "copies_prompt_words", "judge_malformed_json"} <= {
        reason for reason, _ in cands
    } and "sorry_short_answer" in {reason for reason, _ in cands}
    assert "<SECRET:aws_access_key:1>" in "".join(data for _, data in cands)
    assert "<SECRET:github_token:1>" in "".join(r[0] for r in cache)
    # the same value gets the same placeholder everywhere in the store
    assert set(re.findall(r"<SECRET:aws_access_key:\d+>", dump)) == {"<SECRET:aws_access_key:1>"}
    assert set(re.findall(r"<SECRET:github_token:\d+>", dump)) == {"<SECRET:github_token:1>"}
