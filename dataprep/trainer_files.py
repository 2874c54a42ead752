"""Trainer files written beside the dataset: an Axolotl dataset entry and a LLaMA-Factory
`dataset_info.json`, both following the prompt style of the export.

- `alpaca`: Axolotl `type: alpaca` (byte for byte the `prompt` + `completion` columns),
  LLaMA-Factory alpaca formatting over instruction/input/output.
- `chatml` and `chat-template:MODEL`: Axolotl `type: chat_template` over the `messages`
  column (`chat_template: chatml`, or `tokenizer_default`: the base model's own template),
  LLaMA-Factory `sharegpt` formatting over `messages` in the OpenAI role/content layout.
- any other style (a shipped or user style file): Axolotl's user-defined format over the
  `prompt` and `completion` columns, which renders the prompt verbatim and trains on the
  completion; LLaMA-Factory alpaca formatting.

Paths are relative to the dataset folder and name the Parquet files, the ones `dataprep
push` uploads with these two files.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from dataprep.chat_template import is_chat_template
from dataprep.models import SPLITS

# style family -> what a reader is told the trainer files hold
FORMATS = {
    "alpaca": "Axolotl `type: alpaca` and LLaMA-Factory alpaca formatting",
    "chatml": "Axolotl `type: chat_template` (chatml) over `messages`, LLaMA-Factory sharegpt",
    "chat_template": "Axolotl `type: chat_template` (the model's template) over `messages`, "
    "LLaMA-Factory sharegpt",
    "prompt_completion": "Axolotl's user-defined format over `prompt`/`completion`, "
    "LLaMA-Factory alpaca formatting",
}


def style_format(style: str) -> str:
    """How trainers should read an export in this style.

    Example: style_format("alpaca") -> "alpaca"; style_format("chat-template:x") ->
        "chat_template"; style_format("repo") -> "prompt_completion"
    """
    if style in ("alpaca", "chatml"):
        return style
    if is_chat_template(style):
        return "chat_template"
    return "prompt_completion"


def axolotl_dataset(fmt: str, path: str, ds_type: str, split: str | None = None) -> dict:
    """One Axolotl `datasets:` item reading `path` in the format `fmt` (see style_format)."""
    item: dict[str, Any] = {"path": path, "ds_type": ds_type}
    if fmt == "alpaca":
        item["type"] = "alpaca"
    elif fmt in ("chatml", "chat_template"):
        item.update(
            type="chat_template",
            chat_template="chatml" if fmt == "chatml" else "tokenizer_default",
            field_messages="messages",
            roles_to_train=["assistant"],
        )
    else:
        item["type"] = {
            "field_instruction": "prompt",
            "field_output": "completion",
            "format": "{instruction}",
            "no_input_format": "{instruction}",
        }
    if split:
        item["split"] = split
    return item


def axolotl_entry(style: str, splits: dict[str, int] | None = None) -> str:
    """The `axolotl-dataset.yml` of an export: `datasets:` (train) and `test_datasets:`
    (validation, when it has rows: `splits` gives the rows per split) over the Parquet
    files, paths relative to the dataset folder. The test and knowledge splits are test
    sets (`dataprep finetune eval`): Axolotl neither trains nor picks checkpoints on them."""
    fmt = style_format(style)
    doc = {"datasets": [axolotl_dataset(fmt, "train.parquet", "parquet", "train")]}
    if splits is None or splits.get("validation"):
        doc["test_datasets"] = [axolotl_dataset(fmt, "validation.parquet", "parquet", "train")]
    model = style.split(":", 1)[1] if fmt == "chat_template" else None
    head = [
        f"# Axolotl dataset entry written by `dataprep export` (prompt style {style}: "
        f"{FORMATS[fmt]}).",
        "# Paths are relative to this folder: run Axolotl here, or put the folder's path in",
        "# front of them; once pushed, use `path: OWNER/NAME` (and no ds_type) instead.",
        "# The held-out sets, for evaluation only: test.parquet (held-out files) and",
        "# knowledge.parquet (facts about the training files); never train on them.",
    ]
    if model:
        head.append(f"# Rendered with the chat template of {model}: use it as base_model.")
    return "\n".join(head) + "\n" + yaml.safe_dump(doc, sort_keys=False)


def llama_factory_info(name: str, style: str, splits: dict[str, int] | None = None) -> str:
    """A LLaMA-Factory `dataset_info.json` naming one dataset per split (`NAME_SPLIT`), each
    split that has rows when `splits` gives the rows per split."""
    fmt = style_format(style)
    if fmt in ("chatml", "chat_template"):
        described: dict[str, Any] = {
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "system_tag": "system",
            },
        }
    else:
        described = {
            "formatting": "alpaca",
            "columns": {"prompt": "instruction", "query": "input", "response": "output"},
        }
    info = {
        f"{name}_{split}": {"file_name": f"{split}.parquet", **described}
        for split in SPLITS
        if splits is None or splits.get(split)
    }
    return json.dumps(info, indent=2) + "\n"
