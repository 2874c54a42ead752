"""The backend interface: `LLM.chat` with retries and backoff, the Completion it returns,
the errors a retry can and cannot fix, and structured output parsing."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from dataprep.errors import LLMError
from dataprep.settings import DEFAULT_TIMEOUT, LLMOptions

DEFAULT_HOST = "http://127.0.0.1:11434"
Messages = list[dict[str, str]]


@dataclass
class Completion:
    """One model answer and what the server said about it."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    done_reason: str = "stop"
    cached: bool = False
    num_ctx: int | None = None

    @property
    def truncation(self) -> str | None:
        """Why this answer cannot be trusted whole, or None.

        Example: done_reason "length" -> "truncated_output"; a prompt that filled the
        whole context (Ollama cuts it with only a server log line) -> "truncated_prompt".
        """
        # Ollama cuts an over-long prompt (or shifts the context once it fills up, dropping
        # the prompt's start) with only a server log line: a full context means a cut prompt
        if self.num_ctx and self.prompt_tokens + self.completion_tokens >= self.num_ctx:
            return "truncated_prompt"
        if self.done_reason == "length":
            return "truncated_output"
        return None

    def to_cache(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "done_reason": self.done_reason,
        }


class TransientError(Exception):
    """A failure worth retrying (connection refused, 503, timeout, broken stream).

    `kind` is "connection" (nothing answered), "cut" (the server closed the connection
    before the answer was complete), "timeout" or "server" (it answered with an error).
    """

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class OutputError(ValueError):
    """Model output that does not parse or does not match its schema."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_structured(text: str, schema: type[BaseModel]) -> BaseModel:
    """Validate a structured answer; raises OutputError("malformed_json"/"off_schema").

    Example: parse_structured('{"verdict": "Equal"}', Verdict) -> Verdict(verdict="Equal")
    """
    body = text.strip()
    if body.startswith("```"):  # models often fence JSON even when asked not to
        body = body.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise OutputError("malformed_json", f"{exc.msg} at char {exc.pos}") from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise OutputError(
            "off_schema", f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        ) from None


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so an error message stays on one line, and cap its length.

    Example: one_line("bad\n  gateway") -> "bad gateway"
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def transport_error(exc: Exception) -> TransientError:
    """Classify an httpx transport failure: never connected, cut mid-answer, or timed out.

    Example: httpx.RemoteProtocolError("incomplete chunked read") -> kind "cut";
    httpx.ConnectError -> kind "connection".
    """
    import httpx

    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return TransientError("timeout", type(exc).__name__)
    # the request reached a server that then dropped the connection (crash, restart, proxy)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return TransientError("cut", detail)
    return TransientError("connection", detail)


class LLM:
    """A chat model. Subclasses implement `_chat_once`; retries live here.

    Example:
        llm = parse_llm_spec("ollama:qwen2.5-coder:7b", timeout=60)
        c = llm.chat([{"role": "user", "content": "Hi"}])
        c.text, c.prompt_tokens, c.completion_tokens, c.done_reason
    """

    #: the spec without host or path details, used in cache keys and pair provenance
    name: str = ""
    #: where the backend lives, for error messages
    where: str = ""

    @property
    def identity(self) -> str:
        """What the cache key names: the spec, or for a local model its content too."""
        return self.name

    def __init__(
        self,
        options: LLMOptions | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 4,
        backoff: float = 0.5,
    ):
        self.options = options or LLMOptions()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        #: timeouts tried before giving up (each one already waited `timeout` seconds)
        self.timeout_attempts = 2

    def chat(
        self,
        messages: Messages,
        options: LLMOptions | None = None,
        schema: type[BaseModel] | None = None,
    ) -> Completion:
        """Ask the model; retry transient failures, then raise LLMError."""
        options = options or self.options
        json_schema = schema.model_json_schema() if schema else None
        last: TransientError | None = None
        attempts = timeouts = 0
        kinds: set[str] = set()
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            attempts += 1
            try:
                completion = self._chat_once(messages, options, json_schema)
            except TransientError as exc:
                last = exc
                kinds.add(exc.kind)
                timeouts += exc.kind == "timeout"
                if timeouts >= self.timeout_attempts:  # a hung server: do not wait N x timeout
                    break
                continue
            completion.num_ctx = options.num_ctx
            return completion
        assert last is not None
        raise self._give_up(last, attempts, cut_before="cut" in kinds)

    def check(self) -> None:
        """Fail early, with the fix, when the model or the server is not there."""

    def close(self) -> None:
        """Release connections or memory."""

    def _chat_once(
        self, messages: Messages, options: LLMOptions, json_schema: dict | None
    ) -> Completion:
        raise NotImplementedError

    def _give_up(self, last: TransientError, tries: int, cut_before: bool = False) -> LLMError:
        detail = one_line(last.detail)
        if last.kind == "connection":
            cut = " (it had closed the connection mid-answer before)" if cut_before else ""
            return LLMError(
                f"cannot reach {self.where} after {tries} attempts{cut}: {self._start_hint()}"
            )
        if last.kind == "cut":
            return LLMError(
                f"{self.where} closed the connection in the middle of an answer ({detail}; "
                f"{tries} attempts): it may have crashed or restarted, check its log; "
                "run again to continue (finished answers are kept)"
            )
        if last.kind == "timeout":
            return LLMError(
                f"{self.name} timed out after {self.timeout:g} s on each of {tries} attempts: "
                "raise --llm-timeout, lower --llm-max-tokens or use a smaller model"
            )
        return LLMError(
            f"{self.name} failed {tries} times in a row ({detail}): "
            "check the server's log, then run again (finished work is kept)"
        )

    def _start_hint(self) -> str:
        return "start the server or check --llm-host"
