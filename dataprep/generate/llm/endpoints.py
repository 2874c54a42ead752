"""One model served by several servers: `--llm-endpoint URL[,max_inflight]`, repeated.

`EndpointPool` is an `LLM` over one backend per endpoint (the same model on each). Each
endpoint has its own cap on requests in flight; a request goes to the endpoint with the
fewest in flight (ties: the one that has started fewest, so one caller alone goes round
the endpoints). A failed attempt (connection refused, cut, timeout, 5xx) marks its
endpoint down for a back-off that doubles with each failure in a row (0.5 s, 1 s, 2 s,
... up to 30 s); the request is retried at once on another endpoint, and a down endpoint
is probed again by one request at a time once its back-off is over. When every endpoint
has failed `retries + 1` times in a row (or timed out twice), the run stops with the
error one server gives today.

The pool's name and identity are the backend's (`ollama:MODEL`), never a URL: the cache
key (model, messages, sampling options with seed, schema, stage version) is the same
whichever endpoint answers, so endpoints share the cache and a re-run against other
servers makes no call.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from dataprep.errors import LLMError
from dataprep.generate.llm.base import LLM, Completion, Messages, TransientError
from dataprep.settings import LLMOptions

ENDPOINT_HELP = "give --llm-endpoint as URL[,max_inflight], e.g. http://10.0.0.5:11434,4"
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class Endpoint:
    """A server URL and how many requests it may have in flight."""

    url: str
    max_inflight: int


def parse_endpoint(text: str, default_inflight: int) -> Endpoint:
    """Parse `URL[,max_inflight]`.

    Example: parse_endpoint("http://gpu1:11434,8", 4) -> Endpoint("http://gpu1:11434", 8);
    parse_endpoint("http://gpu2:11434", 4) -> Endpoint("http://gpu2:11434", 4)
    """
    url, comma, cap = text.strip().rpartition(",")
    if not comma:
        url, cap = text.strip(), ""
    if comma and not cap.strip().isdigit():
        raise LLMError(f"--llm-endpoint {text!r}: max_inflight must be a number; {ENDPOINT_HELP}")
    inflight = int(cap) if cap else default_inflight
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        raise LLMError(f"--llm-endpoint {text!r} is not an http(s) URL: {ENDPOINT_HELP}")
    if inflight < 1:
        raise LLMError(f"--llm-endpoint {text!r}: max_inflight must be at least 1")
    return Endpoint(url, inflight)


def parse_endpoints(texts: list[str], default_inflight: int) -> list[Endpoint]:
    """Every `--llm-endpoint`, in order; the same URL twice is an error."""
    endpoints = [parse_endpoint(t, default_inflight) for t in texts]
    urls = [e.url for e in endpoints]
    for url in urls:
        if urls.count(url) > 1:
            raise LLMError(f"--llm-endpoint {url} is given twice: give each server once")
    return endpoints


class _Slot:
    """One endpoint's state; read and written under the pool's condition."""

    def __init__(self, backend: LLM, cap: int, index: int):
        self.backend, self.cap, self.index = backend, cap, index
        self.inflight = self.started = self.answered = 0
        self.failures = self.timeouts = 0  # in a row
        self.down_until = 0.0

    def free(self, now: float) -> bool:
        # a down endpoint is probed by one request at a time once its back-off is over
        cap = 1 if self.failures else self.cap
        return self.down_until <= now and self.inflight < cap

    def exhausted(self, retries: int, timeout_attempts: int) -> bool:
        return self.failures >= retries + 1 or self.timeouts >= timeout_attempts


class EndpointPool(LLM):
    """One model on several servers: least-in-flight routing, per-endpoint caps, back-off.

    Example: EndpointPool([OllamaLLM("qwen", host=a), OllamaLLM("qwen", host=b)], [4, 2])
    """

    def __init__(
        self,
        backends: list[LLM],
        caps: list[int],
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = MAX_BACKOFF,
    ):
        first = backends[0]
        super().__init__(first.options, first.timeout, retries, backoff)
        self.slots = [_Slot(b, c, i) for i, (b, c) in enumerate(zip(backends, caps, strict=True))]
        self.max_backoff = max_backoff
        self.name = first.name
        self.where = (
            f"any of the {len(backends)} LLM endpoints ("
            + ", ".join(b.where for b in backends)
            + ")"
        )
        self._cond = threading.Condition()
        self._last: TransientError | None = None
        self._cut_seen = False

    @property
    def identity(self) -> str:
        return self.slots[0].backend.identity

    @property
    def capacity(self) -> int:
        """Requests the pool takes at once: the sum of the endpoints' caps."""
        return sum(s.cap for s in self.slots)

    def counts(self) -> dict[str, int]:
        """Answers per endpoint. Example: {"Ollama at http://a:11434": 12, ...}."""
        with self._cond:
            return {s.backend.where: s.answered for s in self.slots}

    def _start_hint(self) -> str:
        return "start them, or check the URLs given with --llm-endpoint"

    def check(self) -> None:
        """Every endpoint is checked; one that fails is marked down (probed later) unless
        all fail, which raises the first one's error."""
        errors: list[LLMError] = []
        for slot in self.slots:
            try:
                slot.backend.check()
            except LLMError as exc:
                errors.append(exc)
                with self._cond:
                    slot.failures = max(slot.failures, 1)
                    slot.down_until = time.monotonic() + self.backoff
                    self._last = self._last or TransientError("connection", str(exc))
        if len(errors) == len(self.slots):
            raise errors[0]

    def chat(
        self,
        messages: Messages,
        options: LLMOptions | None = None,
        schema: type[BaseModel] | None = None,
    ) -> Completion:
        """Ask the endpoint with the fewest requests in flight; move on when it fails."""
        options = options or self.options
        json_schema = schema.model_json_schema() if schema else None
        while True:
            slot = self._acquire()
            try:
                completion = slot.backend._chat_once(messages, options, json_schema)
            except TransientError as exc:
                self._release(slot, exc)
                continue
            except BaseException:
                self._release(slot, None, answered=False)
                raise
            self._release(slot, None)
            completion.num_ctx = options.num_ctx
            return completion

    def _acquire(self) -> _Slot:
        with self._cond:
            while True:
                if all(s.exhausted(self.retries, self.timeout_attempts) for s in self.slots):
                    assert self._last is not None
                    tries = sum(s.failures for s in self.slots)
                    raise self._give_up(self._last, tries, cut_before=self._cut_seen)
                now = time.monotonic()
                free = [s for s in self.slots if s.free(now)]
                if free:
                    slot = min(free, key=lambda s: (s.inflight, s.started, s.index))
                    slot.inflight += 1
                    slot.started += 1
                    return slot
                waits = [s.down_until - now for s in self.slots if s.down_until > now]
                self._cond.wait(min([1.0, *waits]))

    def _release(self, slot: _Slot, error: TransientError | None, answered: bool = True) -> None:
        with self._cond:
            slot.inflight -= 1
            if error is None:
                if answered:
                    slot.answered += 1
                    slot.failures = slot.timeouts = 0
                    slot.down_until = 0.0
            else:
                slot.failures += 1
                slot.timeouts += error.kind == "timeout"
                delay = min(self.max_backoff, self.backoff * 2 ** (slot.failures - 1))
                slot.down_until = time.monotonic() + delay
                self._last = error
                self._cut_seen |= error.kind == "cut"
            self._cond.notify_all()

    def close(self) -> None:
        for slot in self.slots:
            slot.backend.close()


def build_pool(
    kind: str, model: str, endpoints: list[Endpoint], common: dict[str, Any]
) -> EndpointPool:
    """An `EndpointPool` of `kind` ("ollama" or "openai") backends, one per endpoint."""
    from dataprep.generate.llm.ollama import OllamaLLM
    from dataprep.generate.llm.openai_compat import OpenAILLM

    if kind == "ollama":
        backends: list[LLM] = [OllamaLLM(model, host=e.url, **common) for e in endpoints]
    else:
        backends = [OpenAILLM(model, e.url, **common) for e in endpoints]
    extra = {k: common[k] for k in ("retries", "backoff") if k in common}
    return EndpointPool(backends, [e.max_inflight for e in endpoints], **extra)
