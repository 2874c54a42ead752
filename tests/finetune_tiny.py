"""Tiny real parts for fine-tune tests: a BPE tokenizer trained here, a random Llama, data."""

import json
from pathlib import Path

import pytest

from dataprep.prompts import alpaca_prompt

ROWS = [
    {
        "instruction": f"Write the Java method `get{name}` of class `Booking`.",
        "input": "" if i % 2 else f"class Booking {{ private {kind} {field}; }}",
        "output": f"public {kind} get{name}() {{\n    return {field};\n}}",
    }
    for i, (name, kind, field) in enumerate(
        [
            ("Id", "int", "id"),
            ("Name", "String", "name"),
            ("Room", "int", "room"),
            ("Price", "double", "price"),
            ("Guest", "String", "guest"),
            ("Nights", "int", "nights"),
            ("Email", "String", "email"),
            ("Paid", "boolean", "paid"),
            ("Phone", "String", "phone"),
            ("Floor", "int", "floor"),
            ("Total", "double", "total"),
            ("Notes", "String", "notes"),
        ]
    )
]


def build_tokenizer(bos: bool = True):
    """A byte-level BPE tokenizer trained on the Alpaca rows; BOS prepended when `bos`
    (the test skips without the [finetune] extra)."""
    pytest.importorskip("transformers", reason="pip install dataprep[finetune]")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [alpaca_prompt(r["instruction"], r["input"]) + r["output"] for r in ROWS]
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus * 3, trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)]
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )


def build_model_dir(path: Path) -> Path:
    """A randomly initialised 2-layer Llama with its tokenizer, saved as a model directory."""
    pytest.importorskip("torch", reason="pip install dataprep[finetune]")
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def write_dataset(path: Path, rows=ROWS, fmt: str = "jsonl", knowledge: bool = False) -> Path:
    """DIR/dataset with train (8 rows), validation (2) and test (2), as the export writes it;
    with `knowledge`, a knowledge split too: two train rows asked in other words."""
    path.mkdir(parents=True, exist_ok=True)
    parts = {"train": rows[:8], "validation": rows[8:10], "test": rows[10:12]}
    if knowledge:
        parts["knowledge"] = [
            {**r, "instruction": r["instruction"].replace("Write", "Give")} for r in rows[:2]
        ]
    for split, split_rows in parts.items():
        full = [
            {**r, "text": alpaca_prompt(r["instruction"], r["input"]) + r["output"]}
            for r in split_rows
        ]
        if fmt == "jsonl":
            with (path / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
                for row in full:
                    fh.write(json.dumps(row) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(full), path / f"{split}.parquet")
    return path
