"""The fine-tune configuration: Axolotl's key names, QLoRA defaults, strict validation.

A YAML file holds any subset of the keys of `FinetuneConfig`; everything else keeps the
defaults below (see finetune/configs/qlora.yaml). Unknown keys are errors that name the key,
so a typo such as `lora_rr: 16` never silently trains with r 32. The shipped files are
presets: `--config qlora` is finetune/configs/qlora.yaml (`dataprep finetune config --list`).
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dataprep.errors import ConfigError

CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
TRACKERS = ("wandb", "mlflow", "tensorboard", "trackio")


class FinetuneConfig(BaseModel):
    """Hyperparameters of one fine-tune run (keys as in Axolotl)."""

    model_config = ConfigDict(
        extra="forbid", use_attribute_docstrings=True, validate_assignment=True
    )

    base_model: str | None = None
    """Hub id, local model directory or .gguf file (the --model option overrides it)."""
    load_in_4bit: bool = True
    """Load the frozen base in 4-bit NF4 with double quantization (QLoRA)."""
    adapter: Literal["lora", "qlora"] = "qlora"
    """`qlora` trains LoRA on a 4-bit base; `lora` on a base in 16/32 bits."""
    lora_r: int = Field(32, ge=1)
    """LoRA rank."""
    lora_alpha: int = Field(16, ge=1)
    """LoRA scaling numerator (updates are scaled by alpha / r)."""
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0)
    """Dropout on the LoRA branch."""
    lora_target_linear: bool = True
    """Put LoRA on every linear layer of the model (except the output head)."""
    lora_target_modules: list[str] | None = None
    """Module names to adapt when lora_target_linear is false, e.g. [q_proj, v_proj]."""
    sequence_len: int = Field(2048, ge=16)
    """Longest row in tokens (prompt + answer + EOS); longer rows are dropped, never truncated."""
    micro_batch_size: int = Field(2, ge=1)
    """Rows per device per step."""
    gradient_accumulation_steps: int = Field(4, ge=1)
    """Micro-batches per optimizer step."""
    num_epochs: float = Field(3, gt=0)
    """Passes over the training split (max_steps, when set, wins)."""
    max_steps: int | None = Field(None, ge=1)
    """Stop after this many optimizer steps (a smoke test or a time budget)."""
    learning_rate: float = Field(2e-4, gt=0)
    """Peak learning rate."""
    lr_scheduler: Literal[
        "cosine", "linear", "constant", "constant_with_warmup", "polynomial", "cosine_with_restarts"
    ] = "cosine"
    """Learning-rate schedule after warm-up."""
    warmup_ratio: float = Field(0.03, ge=0.0, lt=1.0)
    """Share of the optimizer steps spent warming up (turned into an integer warmup_steps)."""
    warmup_steps: int | None = Field(None, ge=0)
    """Explicit warm-up steps (wins over warmup_ratio)."""
    optimizer: str = "paged_adamw_32bit"
    """A transformers optimizer name; paged optimizers need CUDA and fall back to adamw_torch."""
    max_grad_norm: float = Field(0.3, ge=0.0)
    """Gradient clipping norm."""
    weight_decay: float = Field(0.0, ge=0.0)
    """AdamW weight decay."""
    train_on_inputs: bool = False
    """Compute the loss over the prompt too (default: the answer and its EOS only)."""
    sample_packing: bool = False
    """Pack rows into shared sequences (TRL bfd, padding-free; epochs become approximate)."""
    neftune_noise_alpha: float | None = Field(None, ge=0.0)
    """NEFTune embedding-noise strength (e.g. 5); off when unset."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: less memory, about 30% slower."""
    val_set_size: float = Field(0.0, ge=0.0, lt=1.0)
    """Share of train held out for validation when the dataset has no validation split."""
    val_max_rows: int | None = Field(64, ge=1)
    """Use at most N rows (a seeded sample) of each held-out set for its loss; null for all."""
    eval_steps: int | None = Field(None, ge=1)
    """Optimizer steps between held-out losses and checkpoints (default: once per epoch)."""
    report_to: list[Literal["none", "wandb", "mlflow", "tensorboard", "trackio"]] = ["none"]
    """Where the losses are also logged: none, or installed trackers (wandb, mlflow, ...)."""
    eval_max_new_tokens: int = Field(256, ge=1)
    """Longest generated answer in `dataprep finetune eval`."""
    seed: int = 42
    """Seed for shuffling, LoRA initialisation and dropout."""

    @field_validator("report_to", mode="before")
    @classmethod
    def _one_or_more(cls, value):
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> FinetuneConfig:
        if self.adapter == "lora" and self.load_in_4bit:
            # Axolotl's `adapter: lora` means a full-precision base; say so instead of guessing.
            raise ValueError(
                "adapter: lora needs load_in_4bit: false (use adapter: qlora for 4 bits)"
            )
        if self.adapter == "qlora" and not self.load_in_4bit:
            raise ValueError(
                "adapter: qlora needs load_in_4bit: true (use adapter: lora for 16 bits)"
            )
        if not self.lora_target_linear and not self.lora_target_modules:
            raise ValueError("set lora_target_linear: true or list lora_target_modules")
        if "none" in self.report_to and len(self.report_to) > 1:
            raise ValueError("report_to: none cannot go with a tracker; list the trackers only")
        return self

    def warmup_steps_for(self, total_steps: int) -> int:
        """Integer warm-up steps: explicit warmup_steps, else ceil(warmup_ratio * total).

        Example: warmup_ratio 0.03, 100 steps -> 3
        """
        if self.warmup_steps is not None:
            return self.warmup_steps
        return math.ceil(round(self.warmup_ratio * total_steps, 6))


KEYS = list(FinetuneConfig.model_fields)


def _format_error(exc: ValidationError, source: str) -> str:
    """One line naming the first bad key and the fix."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "config"
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(key, KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return (
            f"unknown key '{key}' in {source}{hint}: see finetune/configs/qlora.yaml for the keys"
        )
    msg = err["msg"].removeprefix("Value error, ")
    if err["loc"]:
        return f"bad value for '{key}' in {source}: {msg}"
    return f"bad config in {source}: {msg}"


def parse_config(data: dict, source: str = "config") -> FinetuneConfig:
    """Validate a mapping of Axolotl-style keys; a ConfigError names the bad key."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source} must be a YAML mapping of keys (see finetune/configs/qlora.yaml)"
        )
    try:
        return FinetuneConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, source)) from None


def resolve_config(config: Path | str) -> Path:
    """A config file, or the shipped preset of that name (`qlora` -> finetune/configs/qlora.yaml).

    Example: resolve_config("lora-cpu-smoke") -> .../finetune/configs/lora-cpu-smoke.yaml
    """
    path = Path(config)
    if path.is_file():
        return path
    preset = CONFIGS_DIR / f"{config}.yaml"
    if "/" not in str(config) and path.suffix not in (".yaml", ".yml") and preset.is_file():
        return preset
    raise ConfigError(
        f"config {config} not found: pass a YAML file or a preset ({', '.join(preset_names())}); "
        "`dataprep finetune config --list` shows them"
    )


def load_config(path: Path | str | None = None, **overrides) -> FinetuneConfig:
    """The config from a YAML file or a preset name (or the defaults), with non-None
    overrides applied.

    Example: load_config("cfg.yaml", max_steps=20).max_steps -> 20
    """
    data: dict = {}
    source = "defaults"
    if path is not None:
        path = resolve_config(path)
        source = path.name
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            where = f" line {line + 1}" if line is not None else ""
            raise ConfigError(f"{path.name}{where} is not valid YAML: fix the syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source} must be a YAML mapping of keys (see finetune/configs/qlora.yaml)"
        )
    data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    return parse_config(data, source)


def shipped_configs() -> list[Path]:
    """The example configs shipped in finetune/configs/."""
    return sorted(CONFIGS_DIR.glob("*.yaml"), key=lambda p: p.stem)


def preset_names() -> list[str]:
    """Names of the shipped presets. Example: ["lora-cpu-smoke", "qlora", "qlora-cpu"]"""
    return [p.stem for p in shipped_configs()]


def describe_presets() -> str:
    """`name  what it is for` lines: each preset's first comment line."""
    lines = []
    width = max(map(len, preset_names()), default=0)
    for path in shipped_configs():
        first = next(
            (
                line.lstrip("# ").strip()
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.startswith("#")
            ),
            "",
        )
        lines.append(f"{path.stem.ljust(width)}  {first}")
    return "\n".join(lines)


def describe_keys() -> str:
    """`key (default): docstring` lines, for --help and the docs."""
    lines = []
    for name, field in FinetuneConfig.model_fields.items():
        lines.append(f"{name} ({field.default!r}): {field.description or ''}")
    return "\n".join(lines)
