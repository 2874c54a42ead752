"""The transformers backend: a local model in process (a model directory or a `.gguf` file,
dequantized once and cached as a plain checkpoint)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dataprep.errors import LLMError
from dataprep.generate.llm.base import LLM, Completion, Messages
from dataprep.gguf import file_sha256
from dataprep.hashing import canonical_json, content_hash
from dataprep.settings import LLMOptions


def model_cache_dir() -> Path:
    """Where dequantized checkpoints live: cache_dir()/models ($DATAPREP_CACHE_DIR or ~/.cache).

    Same layout as the fine-tune stage (`STEM-SHA256[:16]/` with a `.complete` marker), so a
    model dequantized by one is loaded in seconds by the other.
    """
    from dataprep.resources import cache_dir

    return cache_dir() / "models"


class TransformersLLM(LLM):
    """`transformers:PATH`: a model directory or a `.gguf` file, run in this process.

    A `.gguf` file is dequantized once (tens of seconds) and saved as a plain checkpoint
    under `model_cache_dir()`, so the next load takes seconds. Calls are serialised: one
    model, one generate at a time.
    """

    def __init__(self, path: str | Path, cache_dir: Path | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise LLMError(
                f"model path {self.path} does not exist: give a model directory or a .gguf file"
            )
        self.name = f"transformers:{self.path.name}"
        self.where = str(self.path)
        self.cache_dir = cache_dir or model_cache_dir()
        self._lock = threading.Lock()
        self.model, self.tokenizer = self._load()
        self._identity = f"{self.name}@{self._fingerprint()}"

    @property
    def identity(self) -> str:
        """Two local models with the same file name must not share cached answers."""
        return self._identity

    def _fingerprint(self) -> str:
        if self.path.is_file():
            return file_sha256(self.path)[:16]
        files = sorted(p for p in self.path.iterdir() if p.is_file())
        config = self.path / "config.json"
        text = config.read_text(encoding="utf-8") if config.is_file() else ""
        return content_hash("model-dir", [(p.name, p.stat().st_size) for p in files], text)

    def _load(self):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = self.path
        if self.path.is_file():
            source = self._plain_checkpoint()
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(source)
        except (OSError, ValueError) as exc:
            raise LLMError(
                f"cannot load a model from {source} ({exc}): give a model directory or .gguf"
            ) from None
        model.eval()
        if tokenizer.chat_template is None:
            raise LLMError(f"{self.path} has no chat template: use an instruction-tuned model")
        return model, tokenizer

    def _plain_checkpoint(self) -> Path:
        """Dequantize a .gguf once; later loads read the cached plain checkpoint."""
        from dataprep.gguf import dequantize_gguf

        return dequantize_gguf(self.path, self.cache_dir)

    def _chat_once(
        self, messages: Messages, options: LLMOptions, json_schema: dict | None
    ) -> Completion:
        import torch

        if json_schema:  # no constrained decoding here: ask in words, validate on return
            hint = "Answer with JSON only, matching this JSON schema: " + canonical_json(
                json_schema
            )
            messages = [
                *messages[:-1],
                {**messages[-1], "content": messages[-1]["content"] + "\n\n" + hint},
            ]
        enc = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        ids = enc["input_ids"]
        prompt_tokens = ids.shape[1]
        if prompt_tokens > options.num_ctx:  # as Ollama does: keep the end, say so in the count
            ids = ids[:, -options.num_ctx :]
            prompt_tokens = options.num_ctx
        max_new = max(1, min(options.max_tokens, options.num_ctx - ids.shape[1]))
        sampling = {"do_sample": False}
        if options.temperature > 0:
            sampling = {"do_sample": True, "temperature": options.temperature, "top_p": 0.95}
        with self._lock, torch.no_grad():
            torch.manual_seed(options.seed)
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_new,
                pad_token_id=self.tokenizer.eos_token_id,
                **sampling,
            )
        new = out[0, ids.shape[1] :]
        eos = self.tokenizer.eos_token_id
        stopped = len(new) > 0 and int(new[-1]) == eos
        return Completion(
            text=self.tokenizer.decode(new, skip_special_tokens=True),
            prompt_tokens=prompt_tokens,
            completion_tokens=len(new),
            done_reason="stop" if stopped or len(new) < max_new else "length",
        )
