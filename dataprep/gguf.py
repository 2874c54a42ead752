"""GGUF files as plain transformers checkpoints, dequantized once and cached.

Both the `transformers:PATH` LLM backend and the fine-tune stage load `.gguf` files
through transformers' GGUF support (which dequantizes to torch tensors, tens of seconds
for a small model). The result is saved once under `cache_dir()/models/STEM-SHA[:16]/`
with a `.complete` marker, so every later load takes seconds. Heavy imports stay inside
functions.
"""

import hashlib
import os
import shutil
from pathlib import Path

from dataprep.console import console
from dataprep.errors import InputError
from dataprep.resources import cache_dir


def file_sha256(path: Path) -> str:
    """SHA-256 of a (large) file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def clear_quantized_flag(model) -> None:
    """GGUF loading flags the model as quantized, which blocks saving and training; clear it."""
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    try:
        model.is_quantized = False
    except AttributeError:  # a read-only property in some versions; hf_quantizer=None suffices
        pass


def dequantize_gguf(path: Path, models_dir: Path | None = None) -> Path:
    """A plain checkpoint of a `.gguf` file, made once and cached (keyed by the file's SHA-256).

    Safe when two processes race: each writes its own temporary folder and the first
    rename wins.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path).resolve()
    target = (models_dir or cache_dir() / "models") / f"{path.stem}-{file_sha256(path)[:16]}"
    if (target / ".complete").is_file():
        return target
    console.print(f"dequantizing {path.name} once (cached in {target})", highlight=False)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise InputError(
            f"cannot load {path} as a GGUF model ({exc}): pass a transformers-supported GGUF"
        ) from None
    clear_quantized_flag(model)
    partial = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / ".complete").write_text(f"{path}\n", encoding="utf-8")
    try:
        partial.rename(target)
    except OSError:  # another process cached it first
        shutil.rmtree(partial, ignore_errors=True)
    return target
