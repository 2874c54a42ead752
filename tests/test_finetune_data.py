"""The fine-tune data path: the Alpaca prompt verbatim, exact masking, dropping, loading."""

import json

import pytest
from conftest import check_golden
from finetune_tiny import ROWS, build_tokenizer, write_dataset

from dataprep.errors import InputError
from finetune import data as fdata

WITH_INPUT = {"instruction": "Name the field.", "input": "class A { int x; }", "output": "x"}
NO_INPUT = {"instruction": "Name the class.", "input": "", "output": "A"}


def test_prompt_without_input_is_axolotl_alpaca_verbatim():
    assert fdata.row_prompt(NO_INPUT) == (
        "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n### Instruction:\nName the class.\n\n### Response:\n"
    )


def test_prompt_with_input_is_axolotl_alpaca_verbatim():
    assert fdata.row_prompt(WITH_INPUT) == (
        "Below is an instruction that describes a task, paired with an input that provides "
        "further context. Write a response that appropriately completes the request.\n\n"
        "### Instruction:\nName the field.\n\n### Input:\nclass A { int x; }\n\n### Response:\n"
    )


def test_prompts_golden(update_golden):
    text = "".join(f"{fdata.row_prompt(r)}{r['output']}<EOS>\n----\n" for r in ROWS[:2])
    check_golden("finetune_prompts.txt", text, update_golden)


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer(bos=True)


def test_mask_is_exact_prompt_then_answer_then_one_eos(tok):
    enc = fdata.encode_row(tok, WITH_INPUT)
    prompt = tok(fdata.row_prompt(WITH_INPUT))["input_ids"]
    answer = tok("x", add_special_tokens=False)["input_ids"]
    assert prompt[0] == tok.bos_token_id  # BOS kept on the prompt
    assert enc["input_ids"] == prompt + answer + [tok.eos_token_id]
    assert enc["labels"] == [-100] * len(prompt) + answer + [tok.eos_token_id]
    assert enc["input_ids"].count(tok.eos_token_id) == 1
    assert enc["input_ids"].count(tok.bos_token_id) == 1


def test_train_on_inputs_labels_everything(tok):
    enc = fdata.encode_row(tok, NO_INPUT, train_on_inputs=True)
    assert enc["labels"] == enc["input_ids"]


def test_answer_ending_in_eos_text_still_gets_exactly_one_eos(tok):
    row = {**NO_INPUT, "output": "A</s>"}
    enc = fdata.encode_row(tok, row)
    assert enc["input_ids"][-1] == tok.eos_token_id
    assert enc["input_ids"].count(tok.eos_token_id) == 1


def test_tokenizer_without_bos_adds_none():
    tok = build_tokenizer(bos=False)
    enc = fdata.encode_row(tok, NO_INPUT)
    assert tok.bos_token_id not in enc["input_ids"]
    assert enc["input_ids"] == tok(fdata.row_prompt(NO_INPUT))["input_ids"] + tok(
        "A", add_special_tokens=False
    )["input_ids"] + [tok.eos_token_id]


def test_long_rows_are_dropped_and_counted_never_truncated(tok):
    lengths = [len(fdata.encode_row(tok, r)["input_ids"]) for r in ROWS]
    limit = sorted(lengths)[len(lengths) // 2]
    out = fdata.encode_rows(tok, ROWS, sequence_len=limit)
    assert out.dropped_too_long == sum(n > limit for n in lengths)
    assert out.dropped_too_long > 0
    assert sorted(len(r["input_ids"]) for r in out.rows) == sorted(n for n in lengths if n <= limit)
    assert all(r["input_ids"][-1] == tok.eos_token_id for r in out.rows)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_load_splits_reads_the_export(tmp_path, fmt):
    write_dataset(tmp_path / "out" / "dataset", fmt=fmt)
    splits = fdata.load_splits(tmp_path / "out")  # the export's --out works too
    assert {k: len(v) for k, v in splits.items()} == {"train": 8, "validation": 2, "test": 2}
    assert splits["train"][0]["instruction"] == ROWS[0]["instruction"]


def test_load_splits_reads_a_saved_datasetdict(tmp_path):
    from datasets import Dataset, DatasetDict

    DatasetDict(
        {"train": Dataset.from_list(ROWS[:3]), "test": Dataset.from_list(ROWS[3:4])}
    ).save_to_disk(str(tmp_path / "hf"))
    splits = fdata.load_splits(tmp_path / "hf")
    assert {k: len(v) for k, v in splits.items()} == {"train": 3, "test": 1}


def test_missing_or_bad_dataset_is_a_one_line_error(tmp_path):
    with pytest.raises(InputError, match="not found: run `dataprep export"):
        fdata.load_splits(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no train split"):
        fdata.load_splits(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.jsonl").write_text(json.dumps({"instruction": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="train row 1 has no string 'output'"):
        fdata.load_splits(bad)


def test_fingerprint_follows_content(tmp_path):
    a = fdata.load_splits(write_dataset(tmp_path / "a"))
    b = fdata.load_splits(write_dataset(tmp_path / "b"))
    assert fdata.dataset_fingerprint(a) == fdata.dataset_fingerprint(b)
    b["train"][0]["output"] += " "
    assert fdata.dataset_fingerprint(a) != fdata.dataset_fingerprint(b)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"output": "public int size() {\n  return n;\n}"}, True),
        ({"output": '@GetMapping("/x")'}, True),
        ({"output": "The booking is confirmed by email."}, False),
        ({"output": "Run it.\n```\nmvn test\n```", "unit_kind": "doc_section"}, True),
        ({"output": "Call it; then wait {x}", "unit_kind": "doc_section"}, False),
        ({"output": "x", "answer_kind": "code"}, True),
        ({"output": "com.example.Room", "generator": "template", "unit_kind": "class"}, True),
        ({"output": "Use the index.", "generator": "template", "unit_kind": "doc_section"}, False),
        ({"output": "It returns the room.", "generator": "evol", "unit_kind": "method"}, False),
    ],
)
def test_is_code_answer(row, expected):
    assert fdata.is_code_answer(row) is expected
