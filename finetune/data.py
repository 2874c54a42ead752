"""The exported dataset, read back and tokenized with an exact loss mask.

The prompt is `dataprep.prompts.alpaca_prompt` (Axolotl's `type: alpaca`, byte for byte,
the same function the export uses). Prompt and answer are tokenized separately, as
Axolotl does: the prompt keeps whatever special tokens the tokenizer adds in front (BOS
for Llama, nothing for SmolLM2), the answer loses a leading BOS, and exactly one EOS
ends it. Labels are -100 over the prompt unless `train_on_inputs`. A row longer than
`sequence_len` is dropped and counted, never truncated (a truncated answer teaches the
model to stop mid-sentence, or never to stop).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dataprep.errors import InputError
from dataprep.hashing import content_hash
from dataprep.prompts import alpaca_prompt

SPLITS = ("train", "validation", "test", "knowledge")
FIELDS = ("instruction", "input", "output")
IGNORE_INDEX = -100
# What `finetune eval` asks, and from which split: facts about the repository (the knowledge
# split: held-out facts and phrasings about files in train) and tasks on held-out files.
EVAL_SETS = {"knowledge": "knowledge", "generalisation": "test"}
# Yes/no questions, scored by accuracy against the majority label.
CLASSIFICATION_TASKS = frozenset({"method.is_test", "type.has_method"})


def resolve_dataset_dir(path: Path | str) -> Path:
    """The directory holding the splits: PATH itself, or PATH/dataset (an export's --out)."""
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"dataset {path} not found: run `dataprep export --out DIR` and pass DIR/dataset"
        )
    if path.is_dir() and not _has_splits(path) and _has_splits(path / "dataset"):
        return path / "dataset"
    if not path.is_dir() or not _has_splits(path):
        raise InputError(
            f"no train split in {path}: pass the export's dataset directory "
            "(train.jsonl, train.parquet or a saved DatasetDict)"
        )
    return path


def _has_splits(path: Path) -> bool:
    return path.is_dir() and (
        (path / "train.jsonl").is_file()
        or (path / "train.parquet").is_file()
        or (path / "dataset_dict.json").is_file()
    )


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise InputError(
                    f"{path.name} line {number} is not JSON: re-run the export"
                ) from None
    return rows


def _read_split(directory: Path, split: str) -> list[dict] | None:
    if (directory / f"{split}.jsonl").is_file():
        return _read_jsonl(directory / f"{split}.jsonl")
    if (directory / f"{split}.parquet").is_file():
        import pyarrow.parquet as pq

        return pq.read_table(directory / f"{split}.parquet").to_pylist()
    return None


def load_splits(path: Path | str) -> dict[str, list[dict]]:
    """Rows of each split present: {"train": [...], "validation": [...], "test": [...]}.

    Reads `SPLIT.jsonl`, else `SPLIT.parquet`, else a DatasetDict saved with
    `save_to_disk`. Every row needs `instruction`, `input` and `output` strings.
    """
    directory = resolve_dataset_dir(path)
    splits: dict[str, list[dict]] = {}
    for split in SPLITS:
        rows = _read_split(directory, split)
        if rows is not None:
            splits[split] = rows
    if not splits and (directory / "dataset_dict.json").is_file():
        from datasets import load_from_disk

        saved = load_from_disk(str(directory))
        splits = {name: saved[name].to_list() for name in SPLITS if name in saved}
    if not splits.get("train"):
        raise InputError(f"the train split in {directory} is empty: export some pairs first")
    for name, rows in splits.items():
        _check_rows(rows, name)
    return splits


def _check_rows(rows: list[dict], split: str) -> None:
    for number, row in enumerate(rows, 1):
        for key in FIELDS:
            value = row.get(key, "" if key == "input" else None)
            if not isinstance(value, str):
                raise InputError(
                    f"{split} row {number} has no string '{key}': the dataset must be Alpaca "
                    "rows (instruction, input, output); re-run the export"
                )


def dataset_fingerprint(splits: dict[str, list[dict]]) -> str:
    """A content hash of the (instruction, input, output) triples of every split, in order."""
    parts = {
        name: [[r["instruction"], r.get("input") or "", r["output"]] for r in rows]
        for name, rows in sorted(splits.items())
    }
    return content_hash("finetune-dataset", parts)


def row_prompt(row: dict) -> str:
    """The Alpaca prompt of a row (up to and including `### Response:\\n`)."""
    return alpaca_prompt(row["instruction"], row.get("input") or "")


@dataclass
class Encoded:
    """Tokenized rows ready for the trainer, and what was dropped."""

    rows: list[dict] = field(default_factory=list)
    dropped_too_long: int = 0
    longest_kept: int = 0


def encode_row(tokenizer, row: dict, train_on_inputs: bool = False) -> dict:
    """`input_ids` and `labels` for one row: prompt tokens, answer tokens, one EOS.

    Example (a tokenizer with BOS 1, EOS 2; prompt -> [1, 5, 6], output -> [7, 8]):
        {"input_ids": [1, 5, 6, 7, 8, 2], "labels": [-100, -100, -100, 7, 8, 2]}
    """
    eos = tokenizer.eos_token_id
    if eos is None:
        raise InputError(
            "the tokenizer has no EOS token: choose a model whose tokenizer defines one"
        )
    bos = tokenizer.bos_token_id
    prompt_ids = list(tokenizer(row_prompt(row), add_special_tokens=True)["input_ids"])
    if prompt_ids and prompt_ids[-1] == eos:  # some tokenizers also append EOS; a prompt has none
        prompt_ids.pop()
    answer_ids = list(tokenizer(row["output"], add_special_tokens=False)["input_ids"])
    if answer_ids and bos is not None and answer_ids[0] == bos:
        answer_ids.pop(0)
    while answer_ids and answer_ids[-1] == eos:
        answer_ids.pop()
    answer_ids.append(eos)
    prompt_labels = prompt_ids if train_on_inputs else [IGNORE_INDEX] * len(prompt_ids)
    return {"input_ids": prompt_ids + answer_ids, "labels": list(prompt_labels) + answer_ids}


def encode_rows(
    tokenizer, rows: list[dict], sequence_len: int, train_on_inputs: bool = False
) -> Encoded:
    """Encode every row; rows longer than `sequence_len` tokens are dropped and counted."""
    out = Encoded()
    for row in rows:
        encoded = encode_row(tokenizer, row, train_on_inputs)
        if len(encoded["input_ids"]) > sequence_len:
            out.dropped_too_long += 1
            continue
        out.longest_kept = max(out.longest_kept, len(encoded["input_ids"]))
        out.rows.append(encoded)
    return out


def row_family(row: dict) -> str:
    """The task family of a row (dataprep.quality's), or `all` for a row without a task.

    Example: {"task": "method.is_test", ...} -> "labels"; {"task": "method.code"} -> "code"
    """
    task = row.get("task")
    if not task:
        return "all"
    from dataprep.quality import family_of

    return family_of(task)


def answer_kind(row: dict) -> str:
    """How a row's answer is scored: `label` (a yes/no question), `prose` or `code`.

    Example: {"task": "type.has_method", "output": "Yes: `int size()`."} -> "label";
    {"task": "method.explain", "output": "Returns the booking, or null."} -> "prose"
    """
    if row.get("task") in CLASSIFICATION_TASKS:
        return "label"
    if row.get("task"):
        from dataprep.quality import text_kind

        return "prose" if text_kind(row["output"]) == "prose" else "code"
    return "code" if is_code_answer(row) else "prose"


def label_of(text: str) -> str | None:
    """`yes` or `no` when an answer starts with that word, else None.

    Example: label_of("Yes: `public int size()`.") -> "yes"; label_of("Maybe.") -> None
    """
    words = text.strip().split(maxsplit=1)
    first = words[0].strip(".,:;!*`'\"").lower() if words else ""
    return first if first in ("yes", "no") else None


def is_code_answer(row: dict) -> bool:
    """Whether the expected answer is code (scored by exact match and edit similarity).

    Uses the row's `answer_kind`/`kind` field when present; documentation rows
    (`unit_kind` doc_*) count only with a fenced block; template pairs (`generator`
    template) quote the source, so they count; else (LLM answers) it looks at the text: a
    fenced block, or a line ending in `;`, `{` or `}` or starting with `@`.
    Example: {"output": "public int size() {\\n  return n;\\n}"} -> True
    """
    for key in ("answer_kind", "output_kind", "kind"):
        value = row.get(key)
        if isinstance(value, str) and value:
            return value.lower() in {"code", "source", "java"}
    text = row["output"]
    if str(row.get("unit_kind") or "").startswith("doc"):
        return "```" in text  # documentation prose, unless it quotes a code block
    if row.get("generator") == "template":
        return True  # grounded template answers quote the source (code, signatures, Javadoc)
    if "```" in text:
        return True
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return any(line.endswith((";", "{", "}")) or line.startswith("@") for line in lines)
