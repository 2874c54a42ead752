"""Axolotl interop: write a config Axolotl runs as is, and read one back.

The written file trains the same recipe as `dataprep finetune train` on a GPU box:
`datasets` (the exported train split), `test_datasets` (the validation split), QLoRA
(`adapter: qlora`, `load_in_4bit: true`, NF4 with double quantization under
`bnb_config_kwargs`, the key Axolotl's schema reads), `train_on_inputs: false`, and every
hyperparameter of the stage's config under the same key.

The datasets follow the export's prompt style (its `export.json`): `type: alpaca` for an
alpaca export, `type: chat_template` over the `messages` column for a chatml or
chat-template export, and the prompt/completion format for a style file. An Instruct or
chat model trains in its own chat template (`type: chat_template`, `tokenizer_default`)
even on an alpaca export, as that is the prompt it answers at inference.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from dataprep.console import warn
from dataprep.errors import ConfigError, InputError
from dataprep.trainer_files import axolotl_dataset, style_format
from finetune import data as fdata
from finetune.config import FinetuneConfig, load_config, parse_config

# Keys the stage's config has that Axolotl does not know.
STAGE_ONLY = {"eval_max_new_tokens", "val_max_rows", "report_to"}
# Axolotl keys this module writes that the stage's config does not model (ignored on read);
# the two bnb_4bit_* keys are what older versions wrote at the top level.
AXOLOTL_ONLY = {
    "datasets",
    "test_datasets",
    "output_dir",
    "dataset_prepared_path",
    "bf16",
    "fp16",
    "tf32",
    "evals_per_epoch",
    "saves_per_epoch",
    "logging_steps",
    "pad_to_sequence_len",
    "strict",
    "chat_template",
    "bnb_config_kwargs",
    "bnb_4bit_use_double_quant",
    "bnb_4bit_quant_type",
}
# A model name that says it is tuned to follow instructions or chat.
_CHAT_MODEL = re.compile(r"instruct|chat|[-_.]it(?:$|[-_.])|assistant", re.IGNORECASE)


def _split_file(directory: Path, split: str) -> tuple[Path, str] | None:
    for ext, ds_type in (("jsonl", "json"), ("parquet", "parquet")):
        path = directory / f"{split}.{ext}"
        if path.is_file():
            return path.resolve(), ds_type
    return None


def _has_rows(path: Path, ds_type: str) -> bool:
    if ds_type == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows > 0
    with path.open(encoding="utf-8") as fh:
        return any(line.strip() for line in fh)


def is_chat_model(model: str) -> bool:
    """Whether MODEL's name says it is an Instruct or chat model (its own template matters).

    Example: is_chat_model("HuggingFaceTB/SmolLM2-135M-Instruct") -> True;
        is_chat_model("google/gemma-3-270m-it") -> True; is_chat_model("Qwen/Qwen2.5-0.5B") -> False
    """
    name = Path(model.rstrip("/")).name.removesuffix(".gguf")
    return bool(_CHAT_MODEL.search(name))


def dataset_format(directory: Path, model: str) -> tuple[str, str]:
    """(format, why): how Axolotl should read the export in `directory` for MODEL.

    The format is `trainer_files.style_format` of the export's style; an alpaca export
    becomes `chat_template` for an Instruct/chat model when it has the `messages` column.
    """
    style = _export_style(directory)
    fmt = style_format(style)
    if fmt != "alpaca" or not is_chat_model(model):
        return fmt, f"the export's prompt style, {style}"
    if not _has_messages(directory):
        warn(
            f"{model} is a chat model, but {directory} has no messages column (an export from "
            "an older dataprep): writing type: alpaca; export again to train in its chat template"
        )
        return fmt, "an export without a messages column"
    return "chat_template", f"{model} is a chat model: it trains in its own chat template"


def _export_style(directory: Path) -> str:
    from dataprep.dataset_dir import MANIFEST

    try:
        return json.loads((directory / MANIFEST).read_text(encoding="utf-8")).get("style", "alpaca")
    except (OSError, ValueError, AttributeError):
        return "alpaca"  # a dataset not written by `dataprep export`


def _has_messages(directory: Path) -> bool:
    found = _split_file(directory, "train")
    if found is None:
        return False
    path, ds_type = found
    if ds_type == "parquet":
        import pyarrow.parquet as pq

        return "messages" in pq.read_schema(path).names
    with path.open(encoding="utf-8") as fh:
        first = fh.readline()
    try:
        return "messages" in json.loads(first)
    except ValueError:
        return False


def axolotl_config(
    data: Path | str, model: str, cfg: FinetuneConfig, fmt: str | None = None
) -> dict:
    """The Axolotl config (a dict in Axolotl's key order) for DATA and MODEL.

    Example: axolotl_config("out/dataset", "HuggingFaceTB/SmolLM2-135M", FinetuneConfig())
        -> {"base_model": ..., "adapter": "qlora", "datasets": [{"path": ".../train.jsonl",
            "ds_type": "json", "type": "alpaca"}], "test_datasets": [...], ...}

    `fmt` (see `dataset_format`) is worked out from the export and the model when not given.
    """
    directory = fdata.resolve_dataset_dir(data)
    train = _split_file(directory, "train")
    if train is None:
        raise InputError(
            f"Axolotl reads JSONL or Parquet files and {directory} has neither: "
            "re-export with `dataprep export` (it writes train.jsonl)"
        )
    if model.endswith(".gguf"):
        warn("Axolotl loads Hub ids or model directories, not .gguf files: edit base_model")
    fmt = fmt or dataset_format(directory, model)[0]
    out: dict = {"base_model": model}
    settings = cfg.model_dump(exclude={"base_model", *STAGE_ONLY}, exclude_none=True)
    validation = _split_file(directory, "validation")
    if validation is not None and not _has_rows(*validation):
        validation = None  # an export without tasks that generalise: no validation rows
    settings["val_set_size"] = 0.0 if validation else cfg.val_set_size
    out.update(settings)
    if out.get("load_in_4bit"):
        out["bnb_config_kwargs"] = {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True}
    if fmt == "chatml":
        out["chat_template"] = "chatml"  # the tokenizer saved with the adapter renders ChatML
    out["datasets"] = [axolotl_dataset(fmt, str(train[0]), train[1])]
    if validation:
        out["test_datasets"] = [axolotl_dataset(fmt, str(validation[0]), validation[1], "train")]
    out.update(
        {
            "dataset_prepared_path": "last_run_prepared",
            "output_dir": "./outputs/dataprep-qlora",
            "bf16": "auto",
            "tf32": False,
            "evals_per_epoch": 1,
            "saves_per_epoch": 1,
            "logging_steps": 10,
        }
    )
    if out.get("eval_steps"):  # Axolotl refuses eval_steps together with evals_per_epoch
        del out["evals_per_epoch"]
    return out


def write_axolotl_config(
    data: Path | str, model: str, cfg: FinetuneConfig, path: Path | str
) -> Path:
    """Write the Axolotl YAML to `path`."""
    path = Path(path)
    fmt, why = dataset_format(fdata.resolve_dataset_dir(data), model)
    config = axolotl_config(data, model, cfg, fmt)
    kind = config["datasets"][0]["type"]
    kind = kind if isinstance(kind, str) else "prompt/completion (user-defined format)"
    header = (
        "# Axolotl config written by `dataprep finetune axolotl-config`.\n"
        f"# Datasets: type {kind} ({why}).\n"
        "# Run on a GPU box: axolotl train " + path.name + "\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    path.write_text(header + body, encoding="utf-8")
    return path


def read_axolotl_config(path: Path | str) -> tuple[FinetuneConfig, dict]:
    """An Axolotl YAML read back: the stage's config, and the Axolotl-only keys.

    Keys neither side knows are errors naming the key, as in `load_config`.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read {path} ({type(exc).__name__}): pass an Axolotl YAML file"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name} is not a YAML mapping: pass an Axolotl config")
    extra = {k: raw[k] for k in AXOLOTL_ONLY if k in raw}
    ours = {k: v for k, v in raw.items() if k not in AXOLOTL_ONLY}
    return parse_config(ours, path.name), extra


def is_axolotl_file(path: Path | str) -> bool:
    """Whether a YAML file is an Axolotl config (it holds keys only Axolotl has, such as
    `datasets`), rather than one in the stage's keys."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and any(k in raw for k in AXOLOTL_ONLY)


def load_any_config(config: Path | str | None) -> FinetuneConfig:
    """The stage's config from `--config`: an Axolotl file (as `axolotl-config` writes
    it) is read with `read_axolotl_config`, anything else (a YAML file in the stage's keys,
    a preset) with `load_config`."""
    if config is not None and Path(config).is_file() and is_axolotl_file(config):
        return read_axolotl_config(config)[0]
    return load_config(config)
