"""Evaluation pieces: the metrics, the HTML page, and the LLM judge over a real HTTP server."""

import json

import pytest
from ollama_harness import Harness, scripted

from finetune.evaluate import (
    EvalReport,
    edit_similarity,
    exact_match,
    judge_answers,
    render_html,
    score_answers,
)

ROWS = [
    {"instruction": "Show getId.", "input": "", "output": "int getId() {\n  return id;\n}"},
    {"instruction": "Quote <b>.", "input": "", "output": "List<String> names;"},
    {
        "instruction": "Explain it.",
        "input": "",
        "output": "It books a room.",
        "unit_kind": "doc_section",
    },
]


def test_exact_match_and_edit_similarity():
    assert exact_match("int x;\n", "int x;") and not exact_match("int y;", "int x;")
    assert edit_similarity("return a;", "return b;") == pytest.approx(16 / 18)
    assert edit_similarity("abc", "abc") == 1.0 and edit_similarity("", "xyz") == 0.0


def test_scores_split_code_answers_from_prose():
    answers = ["int getId() {\n  return id;\n}", "List<String> name;", "It books a room."]
    scores = score_answers(ROWS, answers)
    assert scores["code"]["rows"] == 2 and scores["all"]["rows"] == 3
    assert scores["code"]["exact_match"] == 0.5
    assert scores["code"]["edit_similarity"] == round(
        (1 + edit_similarity(answers[1], ROWS[1]["output"])) / 2, 4
    )
    assert scores["all"]["exact_match"] == round(2 / 3, 4)


def test_html_escapes_everything_and_shows_both_models():
    answers = {"base": ["<script>alert(1)</script>", "x", "y"], "tuned": ["a", "b", "c"]}
    summary = {
        "test_rows": 3,
        "model": "m<1>",
        "adapter": None,
        "max_new_tokens": 8,
        "edit_similarity": "difflib",
        "scores": {k: score_answers(ROWS, v) for k, v in answers.items()},
    }
    page = render_html(EvalReport(summary=summary, rows=ROWS, answers=answers))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "List&lt;String&gt; names;" in page and "m&lt;1&gt;" in page
    assert "<th>base</th><th>tuned</th>" in page


def _judge_script():
    pattern = r"### Expected answer:\n(.*?)\n\n### Model answer:\n(.*?)\n\nReply with JSON"

    def verdict(m, _messages):
        return json.dumps({"score": 100 if m.group(1) == m.group(2) else 20})

    return scripted([(pattern, verdict)], default="no idea")


def test_judge_scores_through_the_ollama_client(monkeypatch):
    with Harness(_judge_script(), models=("judge",)) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        scores = judge_answers("ollama:judge", ROWS[:2], [ROWS[0]["output"], "wrong"])
        assert scores == [100, 20]
        request = server.requests[0]
        assert request["model"] == "judge"
        assert request["options"]["temperature"] == 0.0
        prompt = request["messages"][0]["content"]
        assert (
            "### Expected answer:\nint getId() {\n  return id;\n}\n\n### Model answer:\n" in prompt
        )


def test_unparsable_verdict_is_none_and_warned(monkeypatch, capsys):
    with Harness(scripted([], default="I cannot grade this."), models=("judge",)) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        assert judge_answers("ollama:judge", ROWS[:1], ["x"]) == [None]
    assert "the judge gave no score for 1 of 1" in capsys.readouterr().err
