"""`dataprep run --llm`: one run does all its LLM work, so an unchanged re-run calls nothing;
keys the model writes reach no file of the run.

The scripted Ollama-compatible harness answers through the official client; some answers
are written to be eliminated (each of the paper's failure cases, and malformed JSON).
"""

import re
import zlib

from conftest import FIXTURES
from ollama_harness import Harness, evol_script
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.store import Store

HOTEL = FIXTURES / "hotel-booking"


def eliminating_script():
    """evol_script, but about one prompt in seven of each kind gets an answer that is
    eliminated: copied prompt words, no information gain, a short sorry, malformed JSON."""
    base = evol_script()

    def respond(messages, body):
        prompt = messages[-1]["content"]
        pick = zlib.crc32(prompt.encode()) % 7
        if "#Given Prompt#" in prompt and pick == 0:
            return "#Rewritten Prompt#: the same task again"
        if "Second instruction:" in prompt and pick == 1:
            return '{"verdict": "Equal"}'
        if "Answer the task" in prompt and pick == 2:
            return "Sorry, I cannot answer that."
        if '"questions"' in prompt and pick == 3:
            return '{"questions": ["unterminated'
        return base(messages, body)

    return respond


def _run(out, url):
    args = ["run", str(HOTEL), "--out", str(out), "--jobs", "1", "--llm", "ollama:smollm2"]
    args += ["--llm-host", url, "--evol-units", "20", "--evol-rounds", "2"]
    args += ["--evol-questions", "1"]
    # a tight context length drops long template pairs after the LLM stage: some of them
    # were its seeds, which is what once made a re-run send new prompts
    args += ["--max-seq-len", "160"]
    return CliRunner().invoke(app, args)


def _evol_state(out):
    with Store.open(out) as store:
        pairs = store.pairs(generator="evol")
        dropped = store.dropped()
        templates = [p for p in store.pairs(generator="template") if p.id in dropped]
        reasons = {
            r[0] for r in store.conn.execute("SELECT reason FROM candidates WHERE stage = 'evol'")
        }
    return pairs, templates, reasons


def test_an_unchanged_rerun_makes_no_llm_call(tmp_path):
    out = tmp_path / "out"
    with Harness(eliminating_script()) as harness:
        first = _run(out, harness.url)
        assert first.exit_code == 0, first.output
        calls = harness.calls
        pairs, dropped_templates, reasons = _evol_state(out)
        given = {
            m.group(1)
            for r in harness.requests
            if (m := re.search(r"#Given Prompt#:\n(.*?)\n\n#", r["messages"][-1]["content"], re.S))
        }
        again = _run(out, harness.url)
        assert again.exit_code == 0, again.output
        new = harness.calls - calls
        assert new == 0, f"the re-run made {new} calls; the first made {calls}"
    assert calls > 150
    assert sorted(p.id for p in _evol_state(out)[0]) == sorted(p.id for p in pairs)
    # what makes this a real test: several files, eliminated candidates, and template
    # pairs that seeded evolutions were dropped by the first run's later stages
    assert len({p.path for p in pairs}) >= 5
    assert {"copies_prompt_words", "no_information_gain", "sorry_short_answer"} <= reasons
    assert "malformed_json" in reasons
    assert [p for p in dropped_templates if p.instruction in given]


AWS = "AKIAQ7RZ3KXW5TNV2MLP"
GITHUB = "ghp_R8mK2vT9xQ4wZ7nB3pL6cY1sD5fH0jG8aE2u"
PASSWORD = "Tr0ub4dor-77x"
JDBC = f"jdbc:postgresql://localhost:5432/hotel?user=app&password={PASSWORD}"


def leaky_script():
    """evol_script, but evolved tasks carry a GitHub token and answers a JDBC password
    and an AWS key."""
    base = evol_script()

    def respond(messages, body):
        prompt, text = messages[-1]["content"], base(messages, body)
        if "#Given Prompt#" in prompt:
            return f"{text} Use the token {GITHUB}."
        if "Answer the task" in prompt:
            return f"{text} The database is {JDBC} and the key {AWS}."
        return text

    return respond


def test_keys_the_model_writes_reach_no_file_of_the_run(tmp_path):
    import sqlite3

    out = tmp_path / "out"
    with Harness(leaky_script()) as harness:
        args = ["run", str(HOTEL), "--out", str(out), "--jobs", "1", "--llm", "ollama:smollm2"]
        args += ["--llm-host", harness.url, "--evol-units", "4", "--evol-rounds", "1"]
        result = CliRunner().invoke(app, [*args, "--evol-questions", "1"])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(out / "dataprep.db")
    conn.execute("PRAGMA wal_checkpoint(FULL)")
    conn.close()
    files = [p for p in out.rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for value in (AWS, GITHUB, PASSWORD):
            assert value.encode() not in data, path
    rows = "".join((out / "dataset" / f"{s}.jsonl").read_text() for s in ("train", "validation"))
    assert "<SECRET:aws_access_key:" in rows and "<SECRET:url_password:" in rows
