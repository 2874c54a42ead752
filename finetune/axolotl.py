"""Axolotl interop: write a config Axolotl runs as is, and read one back.

The written file trains the same recipe as `dataprep finetune train` on a GPU box:
`type: alpaca` datasets (the exported train split), `test_datasets` (the validation
split), QLoRA (`adapter: qlora`, `load_in_4bit: true`), `train_on_inputs: false`, and
every hyperparameter of the stage's config under the same key.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from dataprep.console import warn
from dataprep.errors import ConfigError, InputError
from finetune import data as fdata
from finetune.config import FinetuneConfig, parse_config

# Keys the stage's config has that Axolotl does not know.
STAGE_ONLY = {"eval_max_new_tokens", "val_max_rows"}
# Axolotl keys this module writes that the stage's config does not model (ignored on read).
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
    "bnb_4bit_use_double_quant",
    "bnb_4bit_quant_type",
}


def _split_file(directory: Path, split: str) -> tuple[Path, str] | None:
    for ext, ds_type in (("jsonl", "json"), ("parquet", "parquet")):
        path = directory / f"{split}.{ext}"
        if path.is_file():
            return path.resolve(), ds_type
    return None


def axolotl_config(data: Path | str, model: str, cfg: FinetuneConfig) -> dict:
    """The Axolotl config (a dict in Axolotl's key order) for DATA and MODEL.

    Example: axolotl_config("out/dataset", "HuggingFaceTB/SmolLM2-135M", FinetuneConfig())
        -> {"base_model": ..., "adapter": "qlora", "datasets": [{"path": ".../train.jsonl",
            "type": "alpaca", "ds_type": "json"}], "test_datasets": [...], ...}
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
    out: dict = {"base_model": model}
    settings = cfg.model_dump(exclude={"base_model", *STAGE_ONLY}, exclude_none=True)
    settings["val_set_size"] = 0.0 if _split_file(directory, "validation") else cfg.val_set_size
    out.update(settings)
    if out.get("load_in_4bit"):
        out["bnb_4bit_quant_type"] = "nf4"
        out["bnb_4bit_use_double_quant"] = True
    out["datasets"] = [{"path": str(train[0]), "type": "alpaca", "ds_type": train[1]}]
    validation = _split_file(directory, "validation")
    if validation:
        out["test_datasets"] = [
            {
                "path": str(validation[0]),
                "type": "alpaca",
                "ds_type": validation[1],
                "split": "train",
            }
        ]
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
    return out


def write_axolotl_config(
    data: Path | str, model: str, cfg: FinetuneConfig, path: Path | str
) -> Path:
    """Write the Axolotl YAML to `path`."""
    path = Path(path)
    config = axolotl_config(data, model, cfg)
    header = (
        "# Axolotl config written by `dataprep finetune axolotl-config`.\n"
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
