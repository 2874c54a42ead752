"""Axolotl interop: the written config has Axolotl's shape and reads back into ours."""

import pytest
import yaml
from finetune_tiny import write_dataset
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.errors import ConfigError
from finetune.axolotl import axolotl_config, read_axolotl_config, write_axolotl_config
from finetune.config import FinetuneConfig, load_config, shipped_configs

MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_written_config_is_qlora_alpaca_with_validation(tmp_path):
    data = write_dataset(tmp_path / "out" / "dataset")
    doc = axolotl_config(data, MODEL, FinetuneConfig())
    assert doc["base_model"] == MODEL
    assert (doc["adapter"], doc["load_in_4bit"], doc["train_on_inputs"]) == ("qlora", True, False)
    assert doc["datasets"] == [
        {"path": str((data / "train.jsonl").resolve()), "type": "alpaca", "ds_type": "json"}
    ]
    assert doc["test_datasets"] == [
        {
            "path": str((data / "validation.jsonl").resolve()),
            "type": "alpaca",
            "ds_type": "json",
            "split": "train",
        }
    ]
    assert doc["val_set_size"] == 0.0  # validation comes from test_datasets
    assert (doc["lora_r"], doc["lora_alpha"], doc["learning_rate"]) == (32, 16, 2e-4)
    assert "eval_max_new_tokens" not in doc


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
        app, ["finetune", "axolotl-config", "--data", str(data), "--model", MODEL, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {out}; on a GPU box: axolotl train axolotl.yml\n"
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["datasets"][0]["type"] == "alpaca"


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
