"""The fine-tune config: Axolotl keys, defaults from the field notes, strict validation."""

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.errors import ConfigError
from finetune.config import FinetuneConfig, load_config, parse_config, shipped_configs


def test_defaults_are_the_qlora_recipe():
    cfg = FinetuneConfig()
    assert (cfg.adapter, cfg.load_in_4bit, cfg.lora_target_linear) == ("qlora", True, True)
    assert (cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout) == (32, 16, 0.05)
    assert (cfg.learning_rate, cfg.lr_scheduler, cfg.warmup_ratio) == (2e-4, "cosine", 0.03)
    assert (cfg.max_grad_norm, cfg.optimizer) == (0.3, "paged_adamw_32bit")
    assert cfg.train_on_inputs is False


@pytest.mark.parametrize("path", shipped_configs(), ids=lambda p: p.name)
def test_every_shipped_config_parses(path):
    cfg = load_config(path)
    assert isinstance(cfg, FinetuneConfig)


def test_shipped_configs_exist():
    names = {p.name for p in shipped_configs()}
    assert {"qlora.yaml", "lora-cpu-smoke.yaml"} <= names


def test_unknown_key_names_the_key_and_the_fix(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("lora_rr: 16\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value) == (
        "unknown key 'lora_rr' in cfg.yaml (did you mean 'lora_r'?): "
        "see finetune/configs/qlora.yaml for the keys"
    )


def test_bad_value_names_the_key(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("lora_r: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^bad value for 'lora_r' in cfg.yaml: Input should be"):
        load_config(path)


def test_adapter_and_bits_must_agree():
    with pytest.raises(ConfigError, match="adapter: lora needs load_in_4bit: false"):
        parse_config({"adapter": "lora"})
    assert parse_config({"adapter": "lora", "load_in_4bit": False}).adapter == "lora"


def test_invalid_yaml_and_non_mapping(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lora_r: [1,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^bad.yaml line \d+ is not valid YAML"):
        load_config(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_config(listed)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_overrides_win_and_none_is_ignored(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("max_steps: 5\nlora_r: 8\n", encoding="utf-8")
    assert load_config(path, max_steps=20).max_steps == 20
    assert load_config(path, max_steps=None).max_steps == 5


@pytest.mark.parametrize(
    ("ratio", "steps", "explicit", "expected"),
    [
        (0.03, 100, None, 3),
        (0.03, 1000, None, 30),
        (0.03, 10, None, 1),
        (0.0, 50, None, 0),
        (0.03, 100, 7, 7),
    ],
)
def test_warmup_steps_are_integers(ratio, steps, explicit, expected):
    cfg = FinetuneConfig(warmup_ratio=ratio, warmup_steps=explicit)
    assert cfg.warmup_steps_for(steps) == expected


def test_field_docstrings_feed_help():
    field = FinetuneConfig.model_fields["sequence_len"]
    assert "dropped, never truncated" in field.description


def test_cli_config_reports_unknown_key(tmp_path):
    from dataprep.cli import app

    path = tmp_path / "cfg.yaml"
    path.write_text("lora_rr: 16\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["finetune", "config", "--config", str(path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: unknown key 'lora_rr' in cfg.yaml (did you mean 'lora_r'?): "
        "see finetune/configs/qlora.yaml for the keys"
    )


def test_cli_config_prints_resolved_config():
    from dataprep.cli import app

    qlora = Path(__file__).resolve().parent.parent / "finetune" / "configs" / "qlora.yaml"
    result = CliRunner().invoke(app, ["finetune", "config", "--config", str(qlora)])
    assert result.exit_code == 0, result.output
    assert "adapter: qlora\n" in result.output and "lora_r: 32\n" in result.output
    keys = CliRunner().invoke(app, ["finetune", "config"])
    assert keys.output.startswith("base_model (None): Hub id")


def test_dataprep_help_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; from typer.testing import CliRunner; from dataprep.cli import app; "
        "r = CliRunner().invoke(app, ['finetune', '--help']); assert r.exit_code == 0; "
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_train_with_a_missing_model_is_one_line(tmp_path):
    from finetune_tiny import write_dataset

    from dataprep.cli import app

    data = write_dataset(tmp_path / "dataset")
    args = ["finetune", "train", "--data", str(data), "--output", str(tmp_path / "run")]
    result = CliRunner().invoke(app, [*args, "--model", str(tmp_path / "m.gguf")])
    no_torch = "torch is not installed: pip install 'dataprep[finetune]' for the fine-tune stage"
    has_torch = importlib.util.find_spec("torch") is not None  # without it, that is the line
    gguf = f"GGUF file {tmp_path / 'm.gguf'} not found: pass an existing .gguf file"
    assert result.exit_code == 1 and result.output == f"Error: {gguf if has_torch else no_torch}\n"
    result = CliRunner().invoke(app, [*args, "--model", str(tmp_path)])
    folder = f"{tmp_path} has no config.json: pass a transformers model directory"
    assert result.output == f"Error: {folder if has_torch else no_torch}\n"


def test_presets_by_name_and_their_list():
    from dataprep.cli import app

    assert load_config("lora-cpu-smoke").adapter == "lora"
    assert load_config("qlora").sequence_len == 2048
    with pytest.raises(
        ConfigError, match=r"^config qlorra not found: pass a YAML file or a preset"
    ):
        load_config("qlorra")
    listed = CliRunner().invoke(app, ["finetune", "config", "--list"])
    assert listed.exit_code == 0
    names = [line.split()[0] for line in listed.output.splitlines()]
    assert names == ["lora-cpu", "lora-cpu-smoke", "qlora", "qlora-cpu"]
    assert "QLoRA on a 4-bit NF4 base" in listed.output
    shown = CliRunner().invoke(app, ["finetune", "config", "--config", "lora-cpu-smoke"])
    assert shown.exit_code == 0 and "adapter: lora\n" in shown.output


def test_report_to_takes_one_tracker_or_a_list():
    assert FinetuneConfig().report_to == ["none"]
    assert parse_config({"report_to": "tensorboard"}).report_to == ["tensorboard"]
    assert parse_config({"report_to": ["wandb", "mlflow"]}).report_to == ["wandb", "mlflow"]
    with pytest.raises(ConfigError, match="report_to: none cannot go with a tracker"):
        parse_config({"report_to": ["none", "wandb"]})
    with pytest.raises(ConfigError, match=r"^bad value for 'report_to.0'"):
        parse_config({"report_to": "comet"})
