"""Models for the fine-tune stage: where MODEL comes from, which device and dtype, 4 bits or not.

MODEL is a Hub id, a local model directory or a `.gguf` file. A `.gguf` is dequantized
once through transformers' GGUF loading and cached as a plain checkpoint (the quantized
flag cleared), so later runs load it in seconds. Heavy imports stay inside functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataprep.errors import InputError
from dataprep.gguf import dequantize_gguf
from finetune.config import FinetuneConfig


@dataclass(frozen=True)
class ModelSource:
    """Where a base model loads from: `path` (a directory or Hub id) and what the user gave."""

    given: str
    path: str
    gguf: Path | None = None


def resolve_model(model: str) -> ModelSource:
    """Turn MODEL (Hub id, directory or .gguf file) into something from_pretrained loads."""
    path = Path(model).expanduser()
    if model.endswith(".gguf"):
        if not path.is_file():
            raise InputError(f"GGUF file {model} not found: pass an existing .gguf file")
        return ModelSource(model, str(dequantize_gguf(path.resolve())), gguf=path.resolve())
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InputError(f"{model} has no config.json: pass a transformers model directory")
        return ModelSource(model, str(path.resolve()))
    if path.exists() or model.startswith((".", "/", "~")):
        raise InputError(
            f"model {model} not found: pass a Hub id, a model directory or a .gguf file"
        )
    return ModelSource(model, model)


def pick_device() -> str:
    """`cuda` when a GPU is visible, else `cpu`."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str):
    """bf16 on GPUs that support it, fp16 on older GPUs, fp32 on the CPU."""
    import torch

    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def quantization_config(dtype):
    """NF4 with double quantization, computing in `dtype` (QLoRA)."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=dtype,
    )


def load_tokenizer(source: ModelSource):
    """The base model's tokenizer (a pad token is set to EOS when it has none)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source.path)
    except OSError as exc:
        raise InputError(_not_found(source, exc)) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(source: ModelSource, device: str, dtype, four_bit: bool):
    """The base model on `device`: 4-bit NF4 when `four_bit`, else in `dtype`."""
    from transformers import AutoModelForCausalLM

    kwargs = {"dtype": dtype}
    if four_bit:
        kwargs["quantization_config"] = quantization_config(dtype)
        kwargs["device_map"] = {"": device if device == "cpu" else 0}
    try:
        model = AutoModelForCausalLM.from_pretrained(source.path, **kwargs)
    except OSError as exc:
        raise InputError(_not_found(source, exc)) from None
    if not four_bit:
        model.to(device)
    return model


def _not_found(source: ModelSource, exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"cannot load model {source.given} ({first}): pass a local model directory or a .gguf "
        "file when the Hub is unreachable"
    )


def four_bit_supported(device: str) -> bool:
    """Whether bitsandbytes runs NF4 here: CUDA, or x86-64 CPUs with bitsandbytes 0.47+."""
    import platform

    try:
        import bitsandbytes
    except ImportError:
        return False
    if device == "cuda":
        return True
    major, minor = (int(x) for x in bitsandbytes.__version__.split(".")[:2])
    return (major, minor) >= (0, 47) and platform.machine().lower() in {"x86_64", "amd64"}


def lora_config(cfg: FinetuneConfig):
    """The PEFT LoRA config: every linear layer, or the listed modules."""
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules="all-linear" if cfg.lora_target_linear else cfg.lora_target_modules,
        bias="none",
        task_type="CAUSAL_LM",
    )
