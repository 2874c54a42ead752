"""The Ollama backend, through the official `ollama` client."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from pydantic import ValidationError

from dataprep.errors import LLMError
from dataprep.generate.llm.base import (
    DEFAULT_HOST,
    LLM,
    Completion,
    Messages,
    TransientError,
    one_line,
    transport_error,
)
from dataprep.settings import LLMOptions


class OllamaLLM(LLM):
    """`ollama:MODEL` through the official client, streaming so mid-stream errors show."""

    def __init__(self, model: str, host: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        import httpx
        import ollama

        self.model = model
        self.host = host or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST
        self.name = f"ollama:{model}"
        self.where = f"Ollama at {self.host}"
        try:
            self.client = ollama.Client(host=self.host, timeout=self.timeout)
        except (ValueError, httpx.InvalidURL) as exc:
            raise LLMError(
                f"the Ollama host {self.host!r} is not a valid URL ({one_line(exc)}): give "
                "--llm-host (or OLLAMA_HOST) as http://HOST:PORT, e.g. http://127.0.0.1:11434"
            ) from None

    def _start_hint(self) -> str:
        return (
            "start it with `ollama serve`, or point --llm-host (or OLLAMA_HOST) at a running server"
        )

    def check(self) -> None:
        import httpx
        import ollama

        try:
            self.client.show(self.model)
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise self._missing() from None
            raise LLMError(
                f"{self.where} answered {exc.status_code} ({one_line(exc.error)}): check its log"
            ) from None
        except ConnectionError:
            raise LLMError(f"cannot reach {self.where}: {self._start_hint()}") from None
        except httpx.TransportError as exc:
            error = transport_error(exc)
            if error.kind != "cut":
                raise LLMError(f"cannot reach {self.where}: {self._start_hint()}") from None
            raise self._give_up(error, 1) from None
        except ValueError as exc:  # a body that is not Ollama's JSON (another kind of server)
            raise self._not_ollama(exc) from None

    def _not_ollama(self, exc: ValueError) -> LLMError:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            detail = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        else:
            detail = one_line(exc)
        return LLMError(
            f"{self.where} did not answer like an Ollama server ({detail}): point --llm-host "
            "(or OLLAMA_HOST) at Ollama, or use openai:MODEL@URL for an OpenAI-compatible server"
        )

    def _missing(self) -> LLMError:
        return LLMError(
            f"model {self.model!r} not found on {self.where}: run `ollama pull {self.model}`"
        )

    def _chat_once(
        self, messages: Messages, options: LLMOptions, json_schema: dict | None
    ) -> Completion:
        import httpx
        import ollama

        opts = {
            "temperature": options.temperature,
            "seed": options.seed,
            "num_ctx": options.num_ctx,
            "num_predict": options.max_tokens,
        }
        parts: list[str] = []
        deadline = time.monotonic() + self.timeout * 4
        try:
            stream = self.client.chat(
                model=self.model, messages=messages, options=opts, format=json_schema, stream=True
            )
            final = None
            for chunk in stream:  # read to the end, so the connection goes back to the pool
                parts.append(chunk.message.content or "")
                if time.monotonic() > deadline:
                    raise TransientError("timeout", "answer still streaming past the deadline")
                if chunk.done:
                    final = chunk
            if final is not None:
                return Completion(
                    text="".join(parts),
                    prompt_tokens=final.prompt_eval_count or 0,
                    completion_tokens=final.eval_count or 0,
                    done_reason=final.done_reason or "stop",
                )
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise self._missing() from None
            if exc.status_code in (-1, 429, 500, 502, 503, 504):  # -1: error arrived mid-stream
                raise TransientError("server", f"{exc.error} (status {exc.status_code})") from None
            raise LLMError(
                f"{self.where} refused the request ({one_line(exc)}): check the model and options"
            ) from None
        except ConnectionError as exc:  # the client's own: nothing listens at the host
            raise TransientError("connection", str(exc)) from None
        except httpx.TransportError as exc:
            raise transport_error(exc) from None
        except json.JSONDecodeError as exc:
            raise TransientError("server", f"malformed stream line ({exc.msg})") from None
        except ValidationError as exc:  # JSON, but not the shape of Ollama's answers
            raise self._not_ollama(exc) from None
        raise TransientError("server", "stream ended before the answer was done")

    def close(self) -> None:
        self.client.close()
