"""A backend from its spec string (`ollama:MODEL`, `openai:MODEL@BASE_URL`,
`transformers:PATH`), alone or one per endpoint behind a pool, with a one-line error for a
missing optional dependency."""

from __future__ import annotations

from typing import Any

from dataprep.errors import LLMError
from dataprep.generate.llm.base import LLM
from dataprep.generate.llm.local import TransformersLLM
from dataprep.generate.llm.ollama import OllamaLLM
from dataprep.generate.llm.openai_compat import OpenAILLM
from dataprep.settings import DEFAULT_TIMEOUT, LLMOptions

SPEC_HELP = "use ollama:MODEL, openai:MODEL@BASE_URL or transformers:PATH"

# backend -> (modules it imports, the extra that installs them)
_NEEDS = {
    "ollama": (("ollama", "httpx"), "llm"),
    "openai": (("httpx",), "llm"),
    "transformers": (("torch", "transformers", "accelerate"), "finetune"),
}


def _require(kind: str, rest: str) -> None:
    """A missing optional dependency is a one-line error naming the extra, not a traceback."""
    import importlib.util

    modules, extra = _NEEDS[kind]
    if kind == "transformers" and rest.endswith(".gguf"):
        modules = (*modules, "gguf")
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise LLMError(
            f"the {kind} backend needs {', '.join(missing)}: pip install 'dataprep[{extra}]'"
        )


def parse_llm_spec(
    spec: str,
    host: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    options: LLMOptions | None = None,
    endpoints: list | None = None,
    **kwargs: Any,
) -> LLM:
    """Build a backend from its spec string; with `endpoints` (`dataprep.generate.llm.endpoints.
    Endpoint`s), one backend per server behind an `EndpointPool`.

    Example: parse_llm_spec("ollama:llama3.2:3b") -> OllamaLLM(model="llama3.2:3b");
    parse_llm_spec("openai:qwen@http://127.0.0.1:8000/v1") -> OpenAILLM.
    """
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise LLMError(f"--llm {spec!r} has no backend prefix: {SPEC_HELP}")
    if kind in _NEEDS:
        _require(kind, rest)
    common = {"timeout": timeout, "options": options, **kwargs}
    if endpoints:
        return _pool(kind, rest, spec, host, endpoints, common)
    if kind == "ollama":
        return OllamaLLM(rest, host=host, **common)
    if kind == "openai":
        model, at, base = rest.rpartition("@")
        if not at or not model or not base.startswith(("http://", "https://")):
            raise LLMError(f"--llm {spec!r} needs a base URL: openai:MODEL@http://HOST:PORT/v1")
        return OpenAILLM(model, base, **common)
    if kind == "transformers":
        return TransformersLLM(rest, **common)
    raise LLMError(f"--llm {spec!r}: unknown backend {kind!r}; {SPEC_HELP}")


def _pool(kind: str, rest: str, spec: str, host: str | None, endpoints: list, common: dict):
    from dataprep.generate.llm.endpoints import build_pool

    if kind not in ("ollama", "openai"):
        raise LLMError(
            f"--llm-endpoint needs a server backend (ollama:MODEL or openai:MODEL), not {spec!r}"
        )
    if host:
        raise LLMError(
            "give either --llm-host or --llm-endpoint: pass each server as --llm-endpoint"
        )
    if kind == "openai" and "@" in rest:
        raise LLMError(
            f"--llm {spec!r} names a server and --llm-endpoint names others: give "
            "openai:MODEL and each server's base URL (ending in /v1) as --llm-endpoint"
        )
    return build_pool(kind, rest, endpoints, common)
