"""The OpenAI-compatible backend (vLLM, llama.cpp's server, LM Studio, Ollama's `/v1`),
with plain httpx."""

from __future__ import annotations

import os
from typing import Any

from dataprep.errors import LLMError
from dataprep.generate.llm.base import (
    LLM,
    Completion,
    Messages,
    TransientError,
    one_line,
    transport_error,
)
from dataprep.settings import LLMOptions


def _check_base_url(url: str) -> None:
    """A base URL httpx can send to, or a one-line LLMError (not a traceback at the first call)."""
    import httpx

    try:
        port = httpx.URL(url).port
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range 1-65535")
    except (ValueError, httpx.InvalidURL) as exc:
        raise LLMError(
            f"the base URL {url!r} is not a valid URL ({one_line(exc)}): "
            "use openai:MODEL@http://HOST:PORT/v1"
        ) from None


class OpenAILLM(LLM):
    """`openai:MODEL@BASE_URL`: POST BASE_URL/chat/completions (BASE_URL ends in /v1)."""

    def __init__(self, model: str, base_url: str, api_key: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        import httpx

        self.model = model
        self.base_url = base_url.rstrip("/")
        _check_base_url(self.base_url)
        self.name = f"openai:{model}"
        self.where = f"the OpenAI-compatible server at {self.base_url}"
        self.schema_supported = True  # cleared when the server rejects response_format
        key = api_key or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(timeout=self.timeout, headers=headers)

    def _start_hint(self) -> str:
        return (
            "start it, or fix the URL after @ in --llm (e.g. openai:MODEL@http://127.0.0.1:8000/v1)"
        )

    def _chat_once(
        self, messages: Messages, options: LLMOptions, json_schema: dict | None
    ) -> Completion:
        import httpx

        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": options.temperature,
            "seed": options.seed,
            "max_tokens": options.max_tokens,
        }
        if json_schema and self.schema_supported:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": json_schema.get("title", "answer"), "schema": json_schema},
            }
        try:
            r = self.client.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.TransportError as exc:
            raise transport_error(exc) from None
        if r.status_code == 404:
            raise LLMError(
                f"model {self.model!r} or its endpoint not found at {self.base_url} (404): "
                f"check the model name ({self.base_url}/models) and that the URL ends in /v1"
            )
        if r.status_code in (429, 500, 502, 503, 504):
            raise TransientError("server", f"status {r.status_code}: {one_line(r.text, 200)}")
        if r.status_code == 400 and "response_format" in body:
            # a server without structured output: ask again in words, validate on return
            self.schema_supported = False
            return self._chat_once(messages, options, json_schema)
        if r.status_code >= 400:
            raise LLMError(
                f"{self.where} refused the request ({r.status_code}: {one_line(r.text, 200)})"
            )
        try:
            data = r.json()
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return Completion(
                text=choice["message"].get("content") or "",
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                done_reason=choice.get("finish_reason") or "stop",
            )
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TransientError("server", f"malformed response ({type(exc).__name__})") from None

    def close(self) -> None:
        self.client.close()
