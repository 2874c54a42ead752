"""CachedLLM: every call cached in the store, every answer redacted before it is stored or
used, and the call statistics."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from dataprep.generate.llm.base import LLM, Completion, Messages
from dataprep.hashing import content_hash
from dataprep.settings import LLMOptions


@dataclass
class CallStats:
    """Counters shown in the progress bar and the summary."""

    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, c: Completion, seconds: float) -> None:
        with self.lock:
            if c.cached:
                self.cached += 1
                return
            self.calls += 1
            self.prompt_tokens += c.prompt_tokens
            self.completion_tokens += c.completion_tokens
            self.seconds += seconds


def redact_answer(redactor: Any, text: str, structured: bool = False) -> str:
    """`text` with every secret replaced by its store-stable placeholder.

    A structured (JSON) answer is redacted value by value and stays valid JSON, so a key
    hidden behind an escape (`\\u0041KIA...`, `\\/`) is found as the parser will read it.
    Example: '{"q": ["use AKIA7LRWFVEALKXWKKXZ"]}' -> '{"q": ["use <SECRET:aws_access_key:1>"]}'
    """
    if structured:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, (dict, list)):
            new, changed = _redact_json(redactor, data)
            return json.dumps(new, ensure_ascii=False) if changed else text
    return redactor.redact(text)[0]


def _redact_json(redactor: Any, value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        new = redactor.redact(value)[0]
        return new, new != value
    if isinstance(value, list):
        items = [_redact_json(redactor, v) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    if isinstance(value, dict):
        items = [(_redact_json(redactor, k), _redact_json(redactor, v)) for k, v in value.items()]
        changed = any(kc or vc for (_, kc), (_, vc) in items)
        return {k: v for (k, _), (v, _) in items}, changed
    return value, False


class CachedLLM:
    """An LLM whose every request/response is committed to the store's `llm_cache`.

    The key hashes (model, messages, options, schema, stage version), so re-running an
    unchanged repository makes no call, and a killed run redoes only calls in flight.
    `lock` serialises store access: threads share one SQLite connection and writer.
    Every answer is redacted (`dataprep.secrets.Redactor`, the store's placeholders)
    before it is cached or returned: what the caller gets, and so every pair, candidate
    and later prompt built from it, holds placeholders, never the values.
    """

    def __init__(
        self, llm: LLM, store: Any, stage_version: int, lock: threading.Lock | None = None
    ):
        self.llm = llm
        self.store = store
        self.stage_version = stage_version
        self.lock = lock or threading.Lock()
        self.stats = CallStats()
        self._checked = False
        self._check_lock = threading.Lock()
        self._inflight: dict[str, threading.Event] = {}
        self._inflight_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.llm.name

    def key(self, messages: Messages, options: LLMOptions, schema: type[BaseModel] | None) -> str:
        """The cache key of one request."""
        schema_json = schema.model_json_schema() if schema else None
        return content_hash(
            "llm", self.llm.identity, messages, options.as_dict(), schema_json, self.stage_version
        )

    def is_cached(self, messages: Messages, options: LLMOptions | None = None, schema=None) -> bool:
        options = options or self.llm.options
        with self.lock:
            return self.store.cache_get(self.key(messages, options, schema)) is not None

    def chat(
        self,
        messages: Messages,
        options: LLMOptions | None = None,
        schema: type[BaseModel] | None = None,
        unit: str | None = None,
    ) -> Completion:
        """One request, answered from the cache when it can be. `unit` names the unit the
        request is about: it is stored beside the answer (never part of the key), so a
        many-source run can export each work item's answers with its shards."""
        options = options or self.llm.options
        key = self.key(messages, options, schema)
        hit = self._lookup(key, messages, options, schema, unit)
        if hit is not None:
            return hit
        with self._inflight_lock:  # the same request already in flight: wait for its answer
            event = self._inflight.get(key)
            owner = event is None
            if owner:
                event = self._inflight[key] = threading.Event()
        if not owner:
            event.wait()
            hit = self._lookup(key, messages, options, schema, unit)
            if hit is not None:
                return hit
        try:
            return self._call(key, messages, options, schema, unit)
        finally:
            if owner:
                with self._inflight_lock:
                    self._inflight.pop(key, None)
                event.set()

    def _lookup(
        self, key: str, messages: Messages, options: LLMOptions, schema, unit: str | None = None
    ) -> Completion | None:
        with self.lock:
            hit = self.store.cache_get(key)
            if hit is None:
                return None
            # a store written before answers were redacted: clean the row as it is read
            text = self._redact(hit["text"], schema)
            if text != hit["text"]:
                hit["text"] = text
                self.store.cache_put(
                    key, self.llm.name, self._request(messages, options, schema, unit), hit
                )
        c = Completion(**hit, cached=True, num_ctx=options.num_ctx)
        self.stats.add(c, 0.0)
        return c

    def _redact(self, text: str, schema) -> str:
        """The answer with secrets replaced (the caller holds `lock`: placeholders are stored)."""
        from dataprep.secrets import Redactor

        # a fresh Redactor reads the store's current placeholders, so numbering stays
        # consistent with any other writer (the slicer, a reviewer's edit)
        redactor = Redactor(self.store)
        text = redact_answer(redactor, text, structured=schema is not None)
        redactor.save()  # before the text that uses a new placeholder is written
        return text

    @staticmethod
    def _request(
        messages: Messages, options: LLMOptions, schema, unit: str | None = None
    ) -> dict[str, Any]:
        request = {"messages": messages, "options": options.as_dict(), "schema": bool(schema)}
        if unit is not None:
            request["unit"] = unit
        return request

    def _call(
        self, key: str, messages: Messages, options: LLMOptions, schema, unit: str | None = None
    ) -> Completion:
        with self._check_lock:  # fail early on a missing model, but only if a call is needed
            if not self._checked:
                self.llm.check()
                self._checked = True
        start = time.monotonic()
        c = self.llm.chat(messages, options, schema)
        with self.lock:
            c.text = self._redact(c.text, schema)
            self.store.cache_put(
                key, self.llm.name, self._request(messages, options, schema, unit), c.to_cache()
            )
        self.stats.add(c, time.monotonic() - start)
        return c
