"""`dataprep run` end to end on the fixture project: summary, golden rows, split rule,
no conflicting instructions, and the export reads back with `datasets`."""

import json
from collections import defaultdict

import pytest
from conftest import HOTEL, check_golden
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.models import SPLITS
from dataprep.store import Store

COLUMNS = "instruction input output prompt completion task template unit_id path start_line"
COLUMNS = (*COLUMNS.split(), "end_line", "commit", "generator", "module", "repo")
GOLDEN_PATHS = (
    "booking/src/main/java/com/example/hotel/booking/BookingController.java",
    "docs/architecture.md",
)


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def run_out(hotel_run):
    return hotel_run  # (out, summary): the session's run of the fixture, read only


def _rows(out) -> dict[str, list[dict]]:
    return {
        s: [json.loads(line) for line in (out / "dataset" / f"{s}.jsonl").read_text().splitlines()]
        for s in SPLITS
    }


def test_the_closing_summary(run_out):
    out, output = run_out
    lines = output.splitlines()
    assert lines[0].startswith("Sliced 51 files (51 new or changed, 0 unchanged, 0 removed) into ")
    assert "method " in lines[0] and "doc_section " in lines[0]
    assert any(line.startswith("Pairs kept: ") and "method.explain " in line for line in lines)
    rows = _rows(out)
    split_line = ", ".join(f"{s} {len(rows[s])}" for s in SPLITS)
    assert f"Rows per split: {split_line}" in lines
    assert f"Dataset: {out / 'dataset'} (train.jsonl, " in output
    assert f"Report: {out / 'report.html'}" in output


def test_the_run_ends_with_the_next_steps(run_out):
    out, output = run_out
    data = out / "dataset"
    model = "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert output.splitlines()[-8:] == [
        "Next steps:",
        "  1. Review the pairs (once any is reviewed, only accepted ones are exported):",
        f"     dataprep review --out {out}",
        "  2. Fine-tune an adapter, then compare it with the base model:",
        f"     dataprep finetune train --data {data} --model {model} --output runs/hotel-booking",
        f"     dataprep finetune eval --data {data} --model {model} --adapter runs/hotel-booking",
        "  3. Publish the dataset on the Hugging Face Hub (private; the dry run shows the files):",
        f"     dataprep push --out {out} YOUR_HF_USER/hotel-booking-instructions --dry-run",
    ]


def test_rows_carry_the_alpaca_fields_prompt_completion_and_provenance(run_out):
    out, _ = run_out
    for split, rows in _rows(out).items():
        assert rows, split
        for row in rows:
            assert set(COLUMNS) <= set(row)
            assert row["generator"] == "template"
            assert row["prompt"].endswith("### Response:\n") and "text" not in row
            assert row["completion"] == row["output"]


def test_no_file_contributes_to_two_splits(run_out):
    out, _ = run_out
    seen = defaultdict(set)
    for split, rows in _rows(out).items():
        for row in rows:  # knowledge rows ask about files in train, by design
            seen[row["path"]].add("train" if split == "knowledge" else split)
    assert {p: s for p, s in seen.items() if len(s) > 1} == {}
    assert {"validation", "test"} <= {s for splits in seen.values() for s in splits}


def test_no_instruction_has_two_outputs_in_the_export(run_out):
    out, _ = run_out
    outputs = defaultdict(set)
    for rows in _rows(out).values():
        for row in rows:
            outputs[(row["instruction"], row["input"])].add(row["output"])
    assert {k: v for k, v in outputs.items() if len(v) > 1} == {}


def test_golden_rows(run_out, update_golden):
    out, _ = run_out
    keep = ("instruction", "input", "output", "task", "template", "start_line", "end_line")
    lines = [
        json.dumps({"split": split, **{k: row[k] for k in keep}}, ensure_ascii=False)
        for split, rows in _rows(out).items()
        for row in rows
        if row["path"] in GOLDEN_PATHS
    ]
    check_golden("run/hotel_booking_rows.jsonl", "\n".join(sorted(lines)) + "\n", update_golden)


def test_the_export_loads_with_datasets(run_out, tmp_path):
    from datasets import load_dataset, load_from_disk

    out, _ = run_out
    rows = _rows(out)
    saved = load_from_disk(str(out / "dataset" / "hf"))
    assert {s: saved[s].num_rows for s in SPLITS} == {s: len(rows[s]) for s in SPLITS}
    files = {s: str(out / "dataset" / f"{s}.jsonl") for s in SPLITS}
    loaded = load_dataset("json", data_files=files, cache_dir=str(tmp_path / "hf-cache"))
    assert loaded["train"][0]["instruction"] == rows["train"][0]["instruction"]
    assert {s: loaded[s].num_rows for s in SPLITS} == {s: len(rows[s]) for s in SPLITS}


def test_a_second_run_does_nothing_and_says_so(hotel_out):
    out = hotel_out
    result = _invoke("run", str(HOTEL), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "(0 new or changed, 51 unchanged, 0 removed)" in result.output
    assert "Template pairs: 0 units regenerated, 0 new pairs, 0 removed" in result.output


def test_chatml_and_module_splits(tmp_path):
    out = tmp_path / "out"
    result = _invoke(
        "run", str(HOTEL), "--out", str(out), "--style", "chatml", "--split-by", "module",
        "--jobs", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    modules = defaultdict(set)
    for split, rows in _rows(out).items():
        for row in rows:
            system = "<|im_start|>system\nYou are an expert on the hotel-booking code base."
            assert row["prompt"].startswith(system)
            assert "<|im_start|>user\n" + row["instruction"] in row["prompt"]
            # knowledge asks about modules in train: a module is in training or held out
            modules[row["module"]].add("train" if split == "knowledge" else split)
    assert {m: s for m, s in modules.items() if len(s) > 1} == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["no/such/dir"],
            "Error: no/such/dir is not a directory: pass the repository's root folder",
        ),
        (
            [str(HOTEL), "--parser", "antlr"],
            "Error: --parser 'antlr' is not known: use tree-sitter",
        ),
        (
            [str(HOTEL), "--split-by", "row"],
            "Error: --split-by 'row' is not known: use file or module",
        ),
        (
            [str(HOTEL), "--style", "vicuna"],
            "Error: unknown prompt style 'vicuna': use one of alpaca",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(tmp_path, args, message):
    result = _invoke("run", *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_help_has_an_example():
    result = _invoke("run", "--help")
    assert result.exit_code == 0
    assert "Example: dataprep run fixtures/hotel-booking --out out" in result.output
    for option in ("--out", "--parser", "--jobs", "--seed", "--style", "--split-by", "--llm"):
        assert option in result.output


def test_templates_command_lists_tasks_and_styles():
    result = _invoke("templates")
    assert result.exit_code == 0
    assert "method.explain" in result.output and "http.handler" in result.output
    assert "styles: alpaca, chatml, repo" in result.output


def test_llm_generator_joins_the_run_and_a_rerun_calls_nothing(tmp_path):
    from ollama_harness import Harness, evol_script

    out = tmp_path / "out"
    args = ["run", str(HOTEL), "--out", str(out), "--jobs", "1", "--llm", "ollama:smollm2"]
    args += ["--evol-units", "2", "--evol-rounds", "1", "--evol-questions", "1"]
    with Harness(evol_script()) as harness:
        result = _invoke(*args, "--llm-host", harness.url)
        assert result.exit_code == 0, result.output
        calls = harness.calls
        assert calls > 0
        assert "LLM generator: " in result.output
        again = _invoke(*args, "--llm-host", harness.url)
        assert again.exit_code == 0, again.output
        assert harness.calls == calls  # every answer came from the store's cache
    with Store.open(out) as store:
        evol = store.pairs(generator="evol")
    assert evol and all(p.model == "ollama:smollm2" for p in evol)
    generators = {row["generator"] for rows in _rows(out).values() for row in rows}
    assert generators == {"template", "evol"}
