"""The Ollama Modelfile of a run: the adapter on the very base it was trained on.

An adapter only fits the weights it was trained against. Trained on a `.gguf` file, those
are the file's weights dequantized to full precision (dataprep caches them as safetensors),
not the quantized file itself: the Modelfile points at that copy, or at the GGUF file when
it is full precision already (F32, F16, BF16). Trained on a model directory or a Hub id,
it points at the safetensors on this disk. When no such base is here (a Hub id not in the
cache, a directory without safetensors), the Modelfile says that `--merge` is needed and
builds from `./merged`, which `finetune train --merge` writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataprep.hashing import canonical_json
from dataprep.prompts import alpaca_prompt
from finetune.modeling import ModelSource

FULL_PRECISION_GGUF = {0: "F32", 1: "F16", 32: "BF16"}  # general.file_type values


@dataclass(frozen=True)
class OllamaBase:
    """What the Modelfile builds FROM: a path Ollama reads (None when --merge is needed)
    and why."""

    path: str | None
    note: str


def gguf_file_type(path: Path) -> int | None:
    """A GGUF file's `general.file_type` (0 F32, 1 F16, 3 Q4_1, 32 BF16...), None if absent."""
    try:
        from gguf import GGUFReader
    except ImportError:
        return None
    field = GGUFReader(str(path)).fields.get("general.file_type")
    return int(field.parts[field.data[0]][0]) if field is not None else None


def _hub_snapshot(repo_id: str) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(repo_id, "config.json")
    return Path(found).parent if isinstance(found, str) else None


def _has_safetensors(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.safetensors"))


def ollama_base(source: ModelSource) -> OllamaBase:
    """The full-precision base an adapter trained on `source` applies to, for Ollama.

    Example: a Q4_1 `.gguf` -> its dequantized safetensors copy in the dataprep cache;
    an F16 `.gguf` -> the file itself; a Hub id not on this disk -> None (use --merge).
    """
    if source.gguf is not None:
        kind = gguf_file_type(source.gguf)
        if kind in FULL_PRECISION_GGUF:
            return OllamaBase(str(source.gguf), f"{source.gguf.name} ({FULL_PRECISION_GGUF[kind]})")
        return OllamaBase(
            source.path,
            f"the full-precision weights of {source.gguf.name} that the adapter was trained "
            "on (dequantized into the dataprep cache); the quantized file itself does not fit "
            "the adapter",
        )
    local = Path(source.path)
    if not local.is_dir():
        local = _hub_snapshot(source.path) or local
    if _has_safetensors(local):
        return OllamaBase(str(local.resolve()), f"{source.given} as safetensors")
    where = "has no safetensors weights" if local.is_dir() else "is not on this disk"
    return OllamaBase(None, f"{source.given} {where}, and Ollama reads safetensors or GGUF")


def modelfile_text(base: str, eos: str, adapter: str | None, comments: list[str] = ()) -> str:
    """An Ollama Modelfile: the base (or merged model), the adapter, the Alpaca TEMPLATE, EOS stop.

    Ollama passes one prompt, so the template is the no-input Alpaca prompt around it.
    """
    template = alpaca_prompt("{{ .Prompt }}") + "{{ .Response }}"
    lines = ["# Ollama: ollama create NAME -f Modelfile   (written by dataprep finetune train)"]
    lines += [f"# {line}" for line in comments]
    lines.append(f"FROM {base}")
    if adapter:
        lines.append(f"ADAPTER {adapter}")
    lines += [
        f'TEMPLATE """{template}"""',
        f"PARAMETER stop {canonical_json(eos)}",
        'PARAMETER stop "### Instruction:"',
        "PARAMETER temperature 0",
        "",
    ]
    return "\n".join(lines)


def write_modelfile(run_dir: Path, source: ModelSource, eos: str, merged: bool) -> OllamaBase:
    """RUN_DIR/Modelfile: FROM the merged model, or FROM the full-precision base with the
    adapter; when there is no such base, FROM ./merged with a note that --merge is needed.
    Returns the base (path None when --merge is needed)."""
    if merged:
        base = OllamaBase("./merged", "the merged model (base and adapter, full precision)")
        text = modelfile_text("./merged", eos, adapter=None)
    else:
        base = ollama_base(source)
        if base.path is not None:
            text = modelfile_text(base.path, eos, "./", [f"Base: {base.note}."])
        else:
            comments = [
                f"--merge is needed: {base.note}.",
                "Run the same `dataprep finetune train` with --merge; it writes ./merged.",
            ]
            text = modelfile_text("./merged", eos, None, comments)
    (run_dir / "Modelfile").write_text(text, encoding="utf-8")
    return base
