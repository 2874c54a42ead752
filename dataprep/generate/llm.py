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
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from dataprep.errors import LLMError
from dataprep.gguf import file_sha256
from dataprep.hashing import canonical_json, content_hash
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


# --- Ollama -------------------------------------------------------------------------


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


# --- OpenAI-compatible ----------------------------------------------------------------


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


# --- transformers (in process) ----------------------------------------------------------


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


# --- spec parsing ------------------------------------------------------------------------

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
    """Build a backend from its spec string; with `endpoints` (`dataprep.generate.endpoints.
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
    from dataprep.generate.endpoints import build_pool

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


# --- cache ------------------------------------------------------------------------------


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
    ) -> Completion:
        options = options or self.llm.options
        key = self.key(messages, options, schema)
        hit = self._lookup(key, messages, options, schema)
        if hit is not None:
            return hit
        with self._inflight_lock:  # the same request already in flight: wait for its answer
            event = self._inflight.get(key)
            owner = event is None
            if owner:
                event = self._inflight[key] = threading.Event()
        if not owner:
            event.wait()
            hit = self._lookup(key, messages, options, schema)
            if hit is not None:
                return hit
        try:
            return self._call(key, messages, options, schema)
        finally:
            if owner:
                with self._inflight_lock:
                    self._inflight.pop(key, None)
                event.set()

    def _lookup(
        self, key: str, messages: Messages, options: LLMOptions, schema
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
                    key, self.llm.name, self._request(messages, options, schema), hit
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
    def _request(messages: Messages, options: LLMOptions, schema) -> dict[str, Any]:
        return {"messages": messages, "options": options.as_dict(), "schema": bool(schema)}

    def _call(self, key: str, messages: Messages, options: LLMOptions, schema) -> Completion:
        with self._check_lock:  # fail early on a missing model, but only if a call is needed
            if not self._checked:
                self.llm.check()
                self._checked = True
        start = time.monotonic()
        c = self.llm.chat(messages, options, schema)
        with self.lock:
            c.text = self._redact(c.text, schema)
            self.store.cache_put(
                key, self.llm.name, self._request(messages, options, schema), c.to_cache()
            )
        self.stats.add(c, time.monotonic() - start)
        return c
