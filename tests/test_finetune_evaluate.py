"""Evaluation pieces: the metrics per set and family, the majority baseline of yes/no
questions, the row sampling, the HTML page, and the LLM judge over a real HTTP server."""

import json

import pytest
from ollama_harness import Harness, scripted

from dataprep.errors import InputError
from finetune.data import answer_kind, label_of, row_family
from finetune.eval_report import render_html, verdicts
from finetune.evaluate import (
    EvalReport,
    answer_budget,
    edit_similarity,
    eval_sets,
    exact_match,
    judge_answers,
    majority_labels,
    pick_rows,
    score_rows,
    score_set,
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
    scores = score_rows(ROWS, {"base": answers})
    assert (scores["code_rows"], scores["prose_rows"], scores["label_rows"]) == (2, 1, 0)
    base = scores["models"]["base"]
    assert base["exact_match"] == 0.5
    assert base["edit_similarity"] == round(
        (1 + edit_similarity(answers[1], ROWS[1]["output"])) / 2, 4
    )
    assert base["prose_edit_similarity"] == 1.0 and base["accuracy"] is None


LABELS = [
    {"task": "method.is_test", "instruction": "Is it a test?", "input": "void a()", "output": o}
    for o in ("no", "no", "yes", "no")
] + [
    {
        "task": "type.has_method",
        "instruction": "Does Money declare plus?",
        "input": "",
        "output": "Yes: `public Money plus(Money other)`.",
    }
]
CODE = [
    {
        "task": "method.code",
        "instruction": f"Show m{i}.",
        "input": "",
        "output": f"void m{i}() {{}}",
    }
    for i in range(3)
]


def test_yes_no_answers_are_scored_by_accuracy_against_the_majority_label():
    train = LABELS[:4] + [dict(LABELS[2]), dict(LABELS[4])]  # is_test: 3 no, 2 yes
    majority = majority_labels(train)
    assert majority == {"method.is_test": "no", "type.has_method": "yes"}
    answers = {"base": ["No.", "Yes", "yes, it is", "**No**", "No such method"]}
    answers["tuned"] = ["no", "no", "yes", "no", "Yes: `plus`"]
    scores = score_rows(LABELS, answers, majority=majority)
    assert scores["label_rows"] == 5 and scores["code_rows"] == 0
    assert scores["majority"] == {"labels": {"no": 4, "yes": 1}, "accuracy": 0.8}
    assert scores["models"]["base"]["accuracy"] == 0.6
    assert scores["models"]["tuned"]["accuracy"] == 1.0


def test_scores_per_family_and_the_verdict_names_what_improved():
    rows = LABELS[:4] + CODE
    answers = {
        "base": ["yes", "yes", "no", "yes", "x", "y", "z"],
        "tuned": ["no", "no", "yes", "no", "void m0() {}", "void m1() {}", "z"],
    }
    scores = score_set(rows, answers, majority={"method.is_test": "no"})
    assert set(scores["families"]) == {"labels", "code"}
    assert scores["families"]["labels"]["models"]["tuned"]["accuracy"] == 1.0
    assert scores["families"]["code"]["models"]["tuned"]["exact_match"] == round(2 / 3, 4)
    found = verdicts({"sets": {"knowledge": scores}})["knowledge"]
    assert [v.split(" ")[0] for v in found["better"]] == ["code", "labels"]
    assert found["better"][1] == "labels (yes/no: accuracy 0.000 -> 1.000)"
    assert found["worse"] == found["same"] == []


def test_answer_kinds_families_and_labels():
    assert [answer_kind(r) for r in (LABELS[0], CODE[0], ROWS[2])] == ["label", "code", "prose"]
    explain = {"task": "method.explain", "output": "Logs a user in, and returns the token."}
    assert answer_kind(explain) == "prose" and row_family(explain) == "explanation"
    assert row_family(LABELS[4]) == "labels" and row_family(ROWS[0]) == "all"
    assert [label_of(t) for t in ("Yes: `x`.", "no", "*No*, never", "Maybe")] == [
        "yes",
        "no",
        "no",
        None,
    ]


def test_a_limit_takes_rows_round_robin_over_families():
    rows = CODE + LABELS[:2]
    assert pick_rows(rows, 3) == [CODE[0], LABELS[0], CODE[1]]
    assert pick_rows(rows, None) == rows and pick_rows(rows, 10) == rows


def test_eval_sets_are_knowledge_and_generalisation_or_the_test_split():
    splits = {"train": CODE, "test": CODE[:1], "knowledge": LABELS}
    assert {k: len(v) for k, v in eval_sets(splits).items()} == {
        "knowledge": 5,
        "generalisation": 1,
    }
    assert list(eval_sets(splits, ["knowledge"], limit=2)) == ["knowledge"]
    old = {"train": CODE, "test": CODE[:2]}
    assert list(eval_sets(old)) == ["test"]
    with pytest.raises(InputError, match="no knowledge set in this export: choose from test"):
        eval_sets(old, ["knowledge"])


class _Tokens:
    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": text.split()}


def test_an_answer_may_use_twice_the_expected_tokens_plus_16():
    assert answer_budget(_Tokens(), {"output": "no"}, 256) == 18
    assert answer_budget(_Tokens(), {"output": "a " * 200}, 256) == 256


def test_html_escapes_everything_and_shows_both_models():
    answers = {"base": ["<script>alert(1)</script>", "x", "y"], "tuned": ["a", "b", "c"]}
    summary = {
        "rows": {"test": 3},
        "model": "m<1>",
        "adapter": None,
        "max_new_tokens": 8,
        "edit_similarity": "difflib",
        "sets": {"test": score_set(ROWS, answers)},
    }
    report = EvalReport(summary=summary, rows=ROWS, answers=answers, sets=["test"] * 3)
    page = render_html(report)
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
