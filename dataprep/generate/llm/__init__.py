"""LLM backends behind one small interface, with retries, timeouts and a SQLite cache.

A backend is parsed from a spec string:

- `ollama:MODEL` talks to an Ollama server through the official `ollama` client
  (host from `--llm-host`, else `OLLAMA_HOST`, else http://127.0.0.1:11434);
- `openai:MODEL@BASE_URL` talks to an OpenAI-compatible server (vLLM, llama.cpp's
  server, LM Studio, Ollama's `/v1`) with plain httpx;
- `transformers:PATH` runs a local model in process (a model directory or a `.gguf`
  file, dequantized once and cached as a plain checkpoint).

Every backend answers `chat(messages, options, schema) -> Completion`. Transient
failures (connection refused, 503, timeouts, an error mid-stream, a connection closed in
the middle of an answer) are retried with exponential backoff; what a retry cannot fix
becomes a one-line `LLMError` naming the fix. `CachedLLM` redacts secrets in every answer
before it is stored or used, so no key the model writes reaches the store.

The package: `base` (the interface, retries, errors, structured output), one module per
backend (`ollama`, `openai_compat`, `local`), `spec` (parse_llm_spec) and `cache`
(CachedLLM).
"""

from dataprep.generate.llm.base import (
    DEFAULT_HOST,
    LLM,
    Completion,
    Messages,
    OutputError,
    TransientError,
    one_line,
    parse_structured,
    transport_error,
)
from dataprep.generate.llm.cache import CachedLLM, CallStats, redact_answer
from dataprep.generate.llm.local import TransformersLLM, model_cache_dir
from dataprep.generate.llm.ollama import OllamaLLM
from dataprep.generate.llm.openai_compat import OpenAILLM
from dataprep.generate.llm.spec import SPEC_HELP, parse_llm_spec
from dataprep.settings import DEFAULT_TIMEOUT, LLMOptions

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_TIMEOUT",
    "LLM",
    "SPEC_HELP",
    "CachedLLM",
    "CallStats",
    "Completion",
    "LLMOptions",
    "Messages",
    "OllamaLLM",
    "OpenAILLM",
    "OutputError",
    "TransformersLLM",
    "TransientError",
    "model_cache_dir",
    "one_line",
    "parse_llm_spec",
    "parse_structured",
    "redact_answer",
    "transport_error",
]
