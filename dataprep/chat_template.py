"""`--style chat-template:MODEL`: render pairs with a model's own chat template, offline.

MODEL is a local model folder (with its tokenizer files), a `.gguf` file (or a folder
holding one), or a Hub id already in the Hugging Face cache. The tokenizer of a `.gguf`
takes about 20 s to read, so it is saved once under `cache_dir()/tokenizers/` (keyed by
the file's SHA-256) and loads in a second afterwards. Nothing is downloaded when
HF_HUB_OFFLINE is set; a missing model is then a one-line error naming the fix.
transformers is imported only here, and only for this style.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dataprep.errors import TemplateError

PREFIX = "chat-template:"
_TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")


@dataclass(frozen=True)
class ChatTemplateStyle:
    """A loaded model tokenizer whose chat template renders the `prompt`/`completion` columns."""

    model: str
    tokenizer: Any = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        return PREFIX + self.model

    @property
    def end_of_turn(self) -> str:
        """The token that ends the assistant's turn (the tokenizer's EOS)."""
        return self.tokenizer.eos_token or ""

    def render(self, messages: list[dict[str, str]]) -> str:
        """The whole conversation as the model's template writes it."""
        return self._apply(messages, add_generation_prompt=False)

    def render_prompt(self, messages: list[dict[str, str]]) -> str:
        """Every turn but the last, then the header that opens the assistant's answer."""
        return self._apply(messages[:-1], add_generation_prompt=True)

    def _apply(self, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
        try:
            return self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=add_generation_prompt
            )
        except Exception as exc:  # jinja errors: the template rejects our roles
            first = " ".join(str(exc).split())[:200]
            raise TemplateError(
                f"the chat template of {self.model} cannot render a system, user and assistant "
                f"turn ({first}): use --style chatml, or another model's template"
            ) from None


def is_chat_template(spec: str) -> bool:
    """Whether a --style value names a model's chat template. Example: "chat-template:x" -> True."""
    return isinstance(spec, str) and spec.startswith(PREFIX)


@lru_cache(maxsize=4)
def load_chat_template(spec: str) -> ChatTemplateStyle:
    """The style for `chat-template:MODEL`, its tokenizer loaded once per process."""
    model = spec[len(PREFIX) :].strip()
    if not model:
        raise TemplateError(
            "--style chat-template: needs a model: chat-template:PATH (a model folder or .gguf "
            "file) or chat-template:OWNER/NAME (a model in the Hugging Face cache)"
        )
    tokenizer = _load_tokenizer(model)
    if not getattr(tokenizer, "chat_template", None):
        raise TemplateError(
            f"{model} has no chat template (a base model?): use --style chatml or alpaca, "
            "or the Instruct version of the model"
        )
    return ChatTemplateStyle(model, tokenizer)


def _load_tokenizer(model: str):
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise TemplateError(
            "--style chat-template needs transformers: pip install 'dataprep[finetune]'"
        ) from None
    path = Path(model).expanduser()
    if path.exists():
        return _local_tokenizer(AutoTokenizer, model, path)
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise TemplateError(
            f"chat-template:{model}: no such file or folder: pass a model folder, a .gguf file "
            "or a Hub id such as HuggingFaceTB/SmolLM2-135M-Instruct"
        )
    return _hub_tokenizer(AutoTokenizer, model)


def _local_tokenizer(auto, model: str, path: Path):
    if path.is_dir() and not any((path / f).is_file() for f in _TOKENIZER_FILES):
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) != 1:
            raise TemplateError(
                f"chat-template:{model}: the folder has no tokenizer files "
                f"({' or '.join(_TOKENIZER_FILES)}) and {len(ggufs)} .gguf files: "
                "pass the model folder or one .gguf file"
            )
        path = ggufs[0]
    if path.is_file() and path.suffix != ".gguf":
        raise TemplateError(
            f"chat-template:{model} is a file but not a .gguf: pass a model folder or a .gguf file"
        )
    try:
        if path.is_file():
            return auto.from_pretrained(_gguf_tokenizer_dir(auto, path.resolve()))
        return auto.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise TemplateError(
            f"cannot load the tokenizer of {model} ({_first_line(exc)}): "
            "pass a transformers model folder or a .gguf file"
        ) from None


def _gguf_tokenizer_dir(auto, path: Path) -> Path:
    """The tokenizer of a .gguf saved as plain files, made once (a rename makes it visible)."""
    from dataprep.gguf import file_sha256
    from dataprep.resources import cache_dir

    target = cache_dir() / "tokenizers" / f"{path.stem}-{file_sha256(path)[:16]}"
    if (target / _TOKENIZER_FILES[0]).is_file():
        return target
    tokenizer = auto.from_pretrained(path.parent, gguf_file=path.name)
    partial = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    tokenizer.save_pretrained(partial)
    try:
        partial.rename(target)
    except OSError:  # another process saved it first
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) as set now: the library reads it at import."""
    from huggingface_hub import constants

    values = (os.environ.get(v, "").upper() for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return constants.is_offline_mode() or any(v in ("1", "ON", "YES", "TRUE") for v in values)


def _hub_tokenizer(auto, model: str):
    offline = _offline()
    try:
        return auto.from_pretrained(model, local_files_only=offline)
    except (OSError, ValueError) as exc:
        if offline:
            raise TemplateError(
                f"chat-template:{model}: the tokenizer is not in the Hugging Face cache and "
                f"HF_HUB_OFFLINE is set: run `hf download {model}` where there is network, "
                "or pass a local model folder or .gguf file"
            ) from None
        raise TemplateError(
            f"cannot load the tokenizer of {model} ({_first_line(exc)}): check the Hub id, "
            "or pass a local model folder or .gguf file"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
