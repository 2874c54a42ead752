"""Axolotl interop: the written config has Axolotl's shape and reads back into ours."""

import pytest
import yaml
from factories import shop_store
from finetune_tiny import write_dataset
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.errors import ConfigError
from dataprep.export import export_dataset
from finetune.axolotl import (
    axolotl_config,
    is_chat_model,
    load_any_config,
    read_axolotl_config,
    write_axolotl_config,
)
from finetune.config import FinetuneConfig, load_config, shipped_configs

MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
BASE = "HuggingFaceTB/SmolLM2-135M"

# Every top-level key of Axolotl's config schema this module writes (axolotl-ai-cloud/axolotl,
# src/axolotl/utils/schemas: config.py, model.py, peft.py, training.py, datasets.py). A key
# outside the schema is dropped by Axolotl without a word, as bnb_4bit_quant_type was.
AXOLOTL_SCHEMA_KEYS = {
    "base_model", "load_in_4bit", "adapter", "lora_r", "lora_alpha", "lora_dropout",
    "lora_target_linear", "lora_target_modules", "sequence_len", "micro_batch_size",
    "gradient_accumulation_steps", "num_epochs", "max_steps", "learning_rate", "lr_scheduler",
    "warmup_ratio", "warmup_steps", "optimizer", "max_grad_norm", "weight_decay",
    "train_on_inputs", "sample_packing", "neftune_noise_alpha", "gradient_checkpointing",
    "val_set_size", "eval_steps", "seed", "bnb_config_kwargs", "chat_template", "datasets",
    "test_datasets", "dataset_prepared_path", "output_dir", "bf16", "tf32",
    "evals_per_epoch", "saves_per_epoch", "logging_steps",
}  # fmt: skip
SFT_DATASET_KEYS = {
    "path", "split", "type", "ds_type", "chat_template", "field_messages", "roles_to_train",
}  # fmt: skip


def _export(tmp_path, style="alpaca"):
    """A real export (every column, export.json) of a small synthetic store."""
    store = shop_store(tmp_path / "out", n_files=12)
    export_dataset(store, tmp_path / "out", style=style)
    store.close()
    return tmp_path / "out" / "dataset"


def test_written_config_is_qlora_alpaca_with_validation(tmp_path):
    data = write_dataset(tmp_path / "out" / "dataset")
    doc = axolotl_config(data, BASE, FinetuneConfig())
    assert doc["base_model"] == BASE
    assert (doc["adapter"], doc["load_in_4bit"], doc["train_on_inputs"]) == ("qlora", True, False)
    assert doc["bnb_config_kwargs"] == {
        "bnb_4bit_quant_type": "nf4",
        "bnb_4bit_use_double_quant": True,
    }
    assert doc["datasets"] == [
        {"path": str((data / "train.jsonl").resolve()), "ds_type": "json", "type": "alpaca"}
    ]
    assert doc["test_datasets"] == [
        {
            "path": str((data / "validation.jsonl").resolve()),
            "ds_type": "json",
            "type": "alpaca",
            "split": "train",
        }
    ]
    assert doc["val_set_size"] == 0.0  # validation comes from test_datasets
    assert (doc["lora_r"], doc["lora_alpha"], doc["learning_rate"]) == (32, 16, 2e-4)
    assert "eval_max_new_tokens" not in doc
    assert set(doc) <= AXOLOTL_SCHEMA_KEYS


@pytest.mark.parametrize("style", ["alpaca", "chatml", "repo"])
def test_every_written_key_is_in_axolotls_schema(tmp_path, style):
    data = _export(tmp_path, style)
    for model in (BASE, MODEL):
        doc = axolotl_config(data, model, FinetuneConfig())
        assert set(doc) <= AXOLOTL_SCHEMA_KEYS
        assert not {k for k in doc if k.startswith("bnb_4bit")}  # under bnb_config_kwargs
        for item in doc["datasets"] + doc["test_datasets"]:
            assert set(item) <= SFT_DATASET_KEYS


def test_an_instruct_model_trains_in_its_own_chat_template(tmp_path):
    data = _export(tmp_path)  # alpaca, with the messages column
    doc = axolotl_config(data, MODEL, FinetuneConfig())
    assert doc["datasets"] == [
        {
            "path": str((data / "train.jsonl").resolve()),
            "ds_type": "json",
            "type": "chat_template",
            "chat_template": "tokenizer_default",
            "field_messages": "messages",
            "roles_to_train": ["assistant"],
        }
    ]
    assert doc["test_datasets"][0]["type"] == "chat_template"
    assert "chat_template" not in doc  # the model's own template: nothing to override
    assert axolotl_config(data, BASE, FinetuneConfig())["datasets"][0]["type"] == "alpaca"


def test_a_chatml_export_gives_chatml_for_any_model(tmp_path):
    data = _export(tmp_path, "chatml")
    doc = axolotl_config(data, BASE, FinetuneConfig())
    assert doc["chat_template"] == "chatml"
    assert doc["datasets"][0]["chat_template"] == "chatml"
    assert doc["datasets"][0]["field_messages"] == "messages"


def test_a_style_file_export_gives_the_prompt_completion_format(tmp_path):
    data = _export(tmp_path, "repo")
    doc = axolotl_config(data, MODEL, FinetuneConfig())
    assert doc["datasets"][0]["type"] == {
        "field_instruction": "prompt",
        "field_output": "completion",
        "format": "{instruction}",
        "no_input_format": "{instruction}",
    }


@pytest.mark.parametrize(
    ("model", "chat"),
    [
        (MODEL, True),
        (BASE, False),
        ("google/gemma-3-270m-it", True),
        ("Qwen/Qwen2.5-0.5B", False),
        ("meta-llama/Llama-2-7b-chat-hf", True),
        ("/models/SmolLM2-135M-Instruct.Q4_1.gguf", True),
        ("runs/italian-base", False),
    ],
)
def test_is_chat_model(model, chat):
    assert is_chat_model(model) is chat


@pytest.mark.parametrize("path", shipped_configs(), ids=lambda p: p.name)
def test_round_trip_keeps_every_hyperparameter(tmp_path, path):
    data = write_dataset(tmp_path / "dataset", fmt="parquet")
    cfg = load_config(path)
    out = write_axolotl_config(data, MODEL, cfg, tmp_path / "axolotl.yml")
    back, extra = read_axolotl_config(out)
    skip = {"base_model", "eval_max_new_tokens", "val_set_size", "val_max_rows"}
    assert back.model_dump(exclude=skip) == cfg.model_dump(exclude=skip)
    assert back.base_model == MODEL
    assert extra["datasets"][0]["ds_type"] == "parquet"


def test_reading_an_unknown_key_names_it(tmp_path):
    path = tmp_path / "axolotl.yml"
    path.write_text("base_model: x\nlora_alpah: 8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'lora_alpah' in axolotl.yml"):
        read_axolotl_config(path)


def test_cli_writes_the_file(tmp_path):
    data = write_dataset(tmp_path / "out" / "dataset")
    out = tmp_path / "axolotl.yml"
    result = CliRunner().invoke(
        app, ["finetune", "axolotl-config", "--data", str(data), "--model", BASE, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {out}; on a GPU box: axolotl train axolotl.yml\n"
    text = out.read_text(encoding="utf-8")
    assert "# Datasets: type alpaca (the export's prompt style, alpaca).\n" in text
    assert yaml.safe_load(text)["datasets"][0]["type"] == "alpaca"


def test_an_old_export_without_messages_says_why_it_stays_alpaca(tmp_path):
    data = write_dataset(tmp_path / "out" / "dataset")  # no messages column
    out = tmp_path / "axolotl.yml"
    args = ["finetune", "axolotl-config", "--data", str(data), "--model", MODEL, "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "is a chat model, but" in result.stderr and "export again" in result.stderr
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["datasets"][0]["type"] == "alpaca"


def test_the_written_file_reads_back_as_a_config(tmp_path):
    data = _export(tmp_path)
    cfg = load_config(shipped_configs()[0])
    path = write_axolotl_config(data, MODEL, cfg, tmp_path / "axolotl.yml")
    back = load_any_config(path)
    skip = {"base_model", "eval_max_new_tokens", "val_set_size", "val_max_rows", "report_to"}
    assert back.model_dump(exclude=skip) == cfg.model_dump(exclude=skip)
    assert load_any_config(shipped_configs()[0]) == cfg  # a stage config reads as before


def test_cli_missing_dataset_is_exit_1(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "finetune",
            "axolotl-config",
            "--data",
            str(tmp_path / "x"),
            "--model",
            MODEL,
            "-o",
            "a.yml",
        ],
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: dataset {tmp_path / 'x'} not found")


def test_finetune_config_accepts_the_projects_own_axolotl_file(tmp_path):
    data = _export(tmp_path)
    out = tmp_path / "axolotl.yml"
    args = ["finetune", "axolotl-config", "--data", str(data), "--model", MODEL, "-o", str(out)]
    assert CliRunner().invoke(app, [*args, "--config", "lora-cpu-smoke"]).exit_code == 0
    result = CliRunner().invoke(app, ["finetune", "config", "--config", str(out)])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.stdout)
    smoke = load_config("lora-cpu-smoke")
    assert (shown["adapter"], shown["lora_r"], shown["max_steps"]) == ("lora", smoke.lora_r, 60)
    assert shown["base_model"] == MODEL


def test_eval_steps_replace_evals_per_epoch(tmp_path):
    data = _export(tmp_path)
    doc = axolotl_config(data, BASE, FinetuneConfig(eval_steps=50, report_to=["none"]))
    assert doc["eval_steps"] == 50 and "evals_per_epoch" not in doc  # Axolotl refuses both
    assert "report_to" not in doc  # not an Axolotl key: it would be dropped without a word
    assert "evals_per_epoch" in axolotl_config(data, BASE, FinetuneConfig())
