"""LLM backends against the Ollama-compatible harness, through the official clients."""

import json
import time

import pytest
from conftest import needs_llm
from ollama_harness import Harness, Reply, free_port, load_smollm2, model_responder, scripted
from pydantic import BaseModel

from dataprep.errors import LLMError
from dataprep.generate.llm import (
    CachedLLM,
    Completion,
    LLMOptions,
    OllamaLLM,
    OpenAILLM,
    OutputError,
    TransientError,
    parse_llm_spec,
    parse_structured,
    redact_answer,
)
from dataprep.secrets import Redactor
from dataprep.store import Store

USE = "use ollama:MODEL, openai:MODEL@BASE_URL or transformers:PATH"
HELLO = [{"role": "user", "content": "Say hello."}]


class Answer(BaseModel):
    answer: str
    confidence: int


@pytest.fixture
def harness():
    with Harness(scripted([(r"hello", "Hello there!")], default="ok")) as h:
        yield h


def ollama(h: Harness, model: str = "smollm2", **kw) -> OllamaLLM:
    kw.setdefault("timeout", 5)
    return parse_llm_spec(f"ollama:{model}", host=h.url, retries=2, backoff=0.01, **kw)


# --- spec parsing ------------------------------------------------------------------------


@needs_llm
def test_spec_ollama_host_precedence(monkeypatch):
    assert parse_llm_spec("ollama:qwen2.5-coder:7b").host == "http://127.0.0.1:11434"
    monkeypatch.setenv("OLLAMA_HOST", "http://10.0.0.5:11434")
    llm = parse_llm_spec("ollama:qwen2.5-coder:7b")
    assert (llm.model, llm.host, llm.name) == (
        "qwen2.5-coder:7b",
        "http://10.0.0.5:11434",
        "ollama:qwen2.5-coder:7b",
    )
    assert parse_llm_spec("ollama:m", host="http://h:1").host == "http://h:1"


def test_spec_openai():
    llm = parse_llm_spec("openai:Qwen/Qwen2.5-7B@http://127.0.0.1:8000/v1/", timeout=9)
    assert isinstance(llm, OpenAILLM)
    assert (llm.model, llm.base_url, llm.timeout) == (
        "Qwen/Qwen2.5-7B",
        "http://127.0.0.1:8000/v1",
        9,
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("llama3", f"--llm 'llama3' has no backend prefix: {USE}"),
        ("vllm:x", f"--llm 'vllm:x': unknown backend 'vllm'; {USE}"),
        ("openai:gpt", "--llm 'openai:gpt' needs a base URL: openai:MODEL@http://HOST:PORT/v1"),
        ("transformers:/nowhere/m.gguf",
         "model path /nowhere/m.gguf does not exist: give a model directory or a .gguf file"),
    ],
)  # fmt: skip
def test_spec_errors(spec, message):
    with pytest.raises(LLMError) as exc:
        parse_llm_spec(spec)
    assert str(exc.value) == message


def test_spec_missing_extra_is_one_line(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda m: None if m == "ollama" else real(m))
    with pytest.raises(LLMError) as exc:
        parse_llm_spec("ollama:llama3")
    assert str(exc.value) == "the ollama backend needs ollama: pip install 'dataprep[llm]'"


# --- pure helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        (Completion("a", 10, 5, "stop", num_ctx=2048), None),
        (Completion("a", 10, 5, "length", num_ctx=2048), "truncated_output"),
        (Completion("a", 2048, 5, "stop", num_ctx=2048), "truncated_prompt"),
        (Completion("a", 2000, 48, "length", num_ctx=2048), "truncated_prompt"),  # context full
    ],
)
def test_truncation(completion, expected):
    assert completion.truncation == expected


def test_parse_structured():
    assert parse_structured('```json\n{"answer": "x", "confidence": 3}\n```', Answer) == Answer(
        answer="x", confidence=3
    )
    with pytest.raises(OutputError) as exc:
        parse_structured('{"answer": "x"', Answer)
    assert exc.value.reason == "malformed_json"
    with pytest.raises(OutputError) as exc:
        parse_structured('{"answer": "x"}', Answer)
    assert (exc.value.reason, exc.value.detail) == ("off_schema", "confidence: Field required")


# --- Ollama through the official client ---------------------------------------------------


def test_ollama_chat_streams_and_maps_options(harness):
    llm = ollama(harness, options=LLMOptions(temperature=0.2, seed=7, num_ctx=1024, max_tokens=33))
    c = llm.chat(HELLO)
    assert c.text == "Hello there!"
    assert (c.done_reason, c.truncation, c.completion_tokens) == ("stop", None, 3)
    body = harness.requests[-1]
    assert body["stream"] is True
    assert body["options"] == {"temperature": 0.2, "seed": 7, "num_ctx": 1024, "num_predict": 33}


def test_ollama_structured_output_sends_schema(harness):
    harness.responder = scripted([], default='{"answer": "hi", "confidence": 9}')
    c = ollama(harness).chat(HELLO, schema=Answer)
    assert harness.requests[-1]["format"] == Answer.model_json_schema()
    assert parse_structured(c.text, Answer).confidence == 9


def test_ollama_model_missing(harness):
    with pytest.raises(LLMError) as exc:
        ollama(harness, "qwen2.5-coder:7b").chat(HELLO)
    assert str(exc.value) == (
        f"model 'qwen2.5-coder:7b' not found on Ollama at {harness.url}: "
        "run `ollama pull qwen2.5-coder:7b`"
    )
    with pytest.raises(LLMError, match="ollama pull qwen2.5-coder:7b"):
        ollama(harness, "qwen2.5-coder:7b").check()
    ollama(harness).check()


@needs_llm
def test_ollama_server_down():
    host = f"http://127.0.0.1:{free_port()}"
    llm = parse_llm_spec("ollama:smollm2", host=host, retries=1, backoff=0.01)
    with pytest.raises(LLMError) as exc:
        llm.chat(HELLO)
    assert str(exc.value) == (
        f"cannot reach Ollama at {host} after 2 attempts: start it with `ollama serve`, "
        "or point --llm-host (or OLLAMA_HOST) at a running server"
    )
    with pytest.raises(LLMError, match="--llm-host"):
        llm.check()


def test_ollama_retries_503_then_succeeds(harness):
    harness.set_fault("503", times=2)
    assert ollama(harness).chat(HELLO).text == "Hello there!"
    assert harness.calls == 3


def test_ollama_repeated_errors(harness):
    harness.set_fault("503")
    with pytest.raises(LLMError) as exc:
        ollama(harness).chat(HELLO)
    assert str(exc.value).startswith("ollama:smollm2 failed 3 times in a row (server busy")
    assert harness.calls == 3


def test_ollama_hang_times_out(harness):
    harness.set_fault("hang")
    start = time.monotonic()
    with pytest.raises(LLMError) as exc:
        ollama(harness, timeout=0.3).chat(HELLO)
    assert str(exc.value) == (
        "ollama:smollm2 timed out after 0.3 s on each of 2 attempts: "
        "raise --llm-timeout, lower --llm-max-tokens or use a smaller model"
    )
    assert time.monotonic() - start < 5 and harness.calls == 2  # a hang is retried once


@pytest.mark.parametrize("fault", ["midstream", "bad_ndjson"])
def test_ollama_error_mid_stream_is_an_error(harness, fault):
    harness.responder = scripted([], default="one two three four five six")
    harness.set_fault(fault)
    with pytest.raises(LLMError, match="failed 3 times in a row"):
        ollama(harness).chat(HELLO)
    harness.set_fault(fault, times=1)  # a transient one is retried, never returned half-done
    assert ollama(harness).chat(HELLO).text == "one two three four five six"


CUT_STREAM = "RemoteProtocolError: peer closed connection without sending complete message body"


def test_ollama_connection_cut_mid_answer_is_not_cannot_reach(harness):
    harness.responder = scripted([], default="one two three four five six")
    harness.set_fault("cut")
    with pytest.raises(LLMError) as exc:
        ollama(harness).chat(HELLO)
    assert str(exc.value) == (
        f"Ollama at {harness.url} closed the connection in the middle of an answer "
        f"({CUT_STREAM} (incomplete chunked read); 3 attempts): it may have crashed or "
        "restarted, check its log; run again to continue (finished answers are kept)"
    )
    assert harness.calls == 3  # the cut is retried like any transient failure
    harness.set_fault("cut", times=1)  # once: the retry gets the whole answer
    assert ollama(harness).chat(HELLO).text == "one two three four five six"


def test_openai_connection_cut_mid_body(harness):
    """A non-streamed answer cut after half its announced Content-Length."""
    llm = parse_llm_spec(f"openai:smollm2@{harness.url}/v1", retries=1, backoff=0.01)
    harness.set_fault("cut")
    with pytest.raises(LLMError) as exc:
        llm.chat(HELLO)
    message = str(exc.value)
    assert message.startswith(
        f"the OpenAI-compatible server at {harness.url}/v1 closed the connection in the "
        f"middle of an answer ({CUT_STREAM} (received "
    )
    assert message.endswith(
        "; 2 attempts): it may have crashed or restarted, check its log; "
        "run again to continue (finished answers are kept)"
    )
    harness.set_fault("cut", times=1)
    assert llm.chat(HELLO).text == "Hello there!"


@needs_llm
def test_a_server_gone_after_a_cut_is_cannot_reach_and_says_so():
    llm = parse_llm_spec("ollama:smollm2", host="http://127.0.0.1:9")
    error = llm._give_up(TransientError("connection", "refused"), 3, cut_before=True)
    assert str(error).startswith(
        "cannot reach Ollama at http://127.0.0.1:9 after 3 attempts (it had closed the "
        "connection mid-answer before): start it with `ollama serve`"
    )
    error = llm._give_up(TransientError("server", "bad\n  gateway"), 2)
    assert str(error) == (
        "ollama:smollm2 failed 2 times in a row (bad gateway): "
        "check the server's log, then run again (finished work is kept)"
    )


@needs_llm
@pytest.mark.parametrize(
    ("spec", "host", "message"),
    [
        ("ollama:m", "http://127.0.0.1:99999",
         "the Ollama host 'http://127.0.0.1:99999' is not a valid URL (Port out of range "
         "0-65535): give --llm-host (or OLLAMA_HOST) as http://HOST:PORT, "
         "e.g. http://127.0.0.1:11434"),
        ("ollama:m", "http://[::1", "the Ollama host 'http://[::1' is not a valid URL (Invalid"),
        ("openai:m@http://256.1.1.1:1/v1", None,
         "the base URL 'http://256.1.1.1:1/v1' is not a valid URL (Invalid IPv4 address: "
         "'256.1.1.1'): use openai:MODEL@http://HOST:PORT/v1"),
        ("openai:m@http://h:70000/v1", None,
         "the base URL 'http://h:70000/v1' is not a valid URL (port 70000 is out of range"),
    ],
)  # fmt: skip
def test_a_bad_host_url_is_one_line(spec, host, message):
    with pytest.raises(LLMError) as exc:
        parse_llm_spec(spec, host=host)
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


@pytest.fixture
def not_ollama():
    """An HTTP server that answers 200 with bodies that are not Ollama's."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b"<html>\nhello\n</html>" if self.path == "/api/show" else b'{"foo": 1}\n'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@needs_llm
def test_a_server_that_is_not_ollama_is_one_line(not_ollama):
    llm = parse_llm_spec("ollama:m", host=not_ollama, retries=1, backoff=0.01)
    fix = (
        "point --llm-host (or OLLAMA_HOST) at Ollama, or use openai:MODEL@URL for an "
        "OpenAI-compatible server"
    )
    with pytest.raises(LLMError) as exc:
        llm.check()
    assert str(exc.value) == (
        f"Ollama at {not_ollama} did not answer like an Ollama server "
        f"(Expecting value: line 1 column 1 (char 0)): {fix}"
    )
    with pytest.raises(LLMError) as exc:
        llm.chat(HELLO)
    assert str(exc.value) == (
        f"Ollama at {not_ollama} did not answer like an Ollama server "
        f"(message: Field required): {fix}"
    )


def test_ollama_truncation_is_reported(harness):
    harness.set_fault("truncate")
    c = ollama(harness, options=LLMOptions(num_ctx=512)).chat(HELLO)
    assert (c.prompt_tokens, c.done_reason, c.truncation) == (512, "length", "truncated_prompt")
    harness.set_fault(None)
    harness.responder = lambda messages, body: Reply("cut", done_reason="length")
    assert ollama(harness).chat(HELLO).truncation == "truncated_output"


def test_harness_speaks_ollama_to_the_official_client(harness):
    client = pytest.importorskip("ollama", reason="pip install dataprep[llm]")

    c = client.Client(host=harness.url, timeout=5)
    assert [m.model for m in c.list().models] == ["smollm2"]
    assert c.show("smollm2").details.parameter_size == "135M"
    g = c.generate(model="smollm2", prompt="Say hello.", stream=False)
    assert (g.response, g.done, g.done_reason) == ("Hello there!", True, "stop")
    pieces = list(c.generate(model="smollm2", prompt="Say hello.", stream=True))
    assert "".join(p.response for p in pieces) == "Hello there!" and pieces[-1].done
    chat = c.chat(model="smollm2", messages=HELLO, stream=False)
    assert chat.message.content == "Hello there!" and chat.eval_count == 3
    with pytest.raises(client.ResponseError) as exc:
        c.chat(model="nope", messages=HELLO)
    assert (exc.value.status_code, exc.value.error) == (
        404,
        'model "nope" not found, try pulling it first',
    )


# --- OpenAI-compatible -----------------------------------------------------------------------


def test_openai_backend(harness):
    llm = parse_llm_spec(f"openai:smollm2@{harness.url}/v1", retries=1, backoff=0.01)
    c = llm.chat(HELLO, LLMOptions(max_tokens=21, seed=3), schema=Answer)
    assert c.text == "Hello there!"
    body = harness.requests[-1]
    assert (body["max_tokens"], body["seed"]) == (21, 3)
    assert body["response_format"]["json_schema"]["schema"] == Answer.model_json_schema()
    harness.set_fault("503", times=1)
    assert llm.chat(HELLO).text == "Hello there!"
    harness.openai_rejects_schema = True  # no structured output there: asked again without
    assert llm.chat(HELLO, schema=Answer).text == "Hello there!"
    assert "response_format" not in harness.requests[-1] and not llm.schema_supported
    with pytest.raises(LLMError, match="model 'gpt-x' or its endpoint not found"):
        parse_llm_spec(f"openai:gpt-x@{harness.url}/v1").chat(HELLO)


# --- cache -------------------------------------------------------------------------------------


def test_cache_serves_repeats_and_commits_at_once(harness, tmp_path):
    store = Store.open(tmp_path)
    cached = CachedLLM(ollama(harness), store, stage_version=1)
    first = cached.chat(HELLO)
    assert (first.cached, harness.calls) == (False, 1)
    again = cached.chat(HELLO)
    assert (again.cached, again.text, harness.calls) == (True, "Hello there!", 1)
    cached.chat(HELLO, LLMOptions(temperature=0.0))  # other options: another key
    assert harness.calls == 2
    with Store.open(tmp_path) as other:  # committed, visible to another connection
        assert other.conn.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0] == 2
    other_stage = CachedLLM(ollama(harness), store, stage_version=2)
    other_stage.chat(HELLO)
    assert harness.calls == 3
    assert (cached.stats.calls, cached.stats.cached) == (2, 1)


AWS = "AKIAQ7RZ3KXW5TNV2MLP"


def test_answers_are_redacted_before_they_are_cached_or_returned(harness, tmp_path):
    harness.responder = scripted(
        [(r"JSON", json.dumps({"answer": f"key {AWS}", "confidence": 1}))],
        default=f"Use {AWS} twice: {AWS}.",
    )
    store = Store.open(tmp_path)
    cached = CachedLLM(ollama(harness), store, stage_version=1)
    c = cached.chat(HELLO)
    assert c.text == "Use <SECRET:aws_access_key:1> twice: <SECRET:aws_access_key:1>."
    structured = cached.chat([{"role": "user", "content": "JSON please"}], schema=Answer)
    assert parse_structured(structured.text, Answer).answer == "key <SECRET:aws_access_key:1>"
    rows = store.conn.execute("SELECT request, response FROM llm_cache").fetchall()
    assert len(rows) == 2 and AWS not in repr(rows)
    again = cached.chat(HELLO)
    assert (again.cached, again.text) == (True, c.text)


def test_a_cached_answer_stored_unredacted_is_cleaned_when_read(harness, tmp_path):
    """A store written before answers were redacted: its raw row is rewritten on read."""
    store = Store.open(tmp_path)
    cached = CachedLLM(ollama(harness), store, stage_version=1)
    key = cached.key(HELLO, cached.llm.options, None)
    store.cache_put(key, "ollama:smollm2", {"messages": HELLO}, {"text": f"k={AWS}"})
    assert cached.chat(HELLO).text == "k=<SECRET:aws_access_key:1>" and harness.calls == 0
    assert AWS not in repr(store.conn.execute("SELECT * FROM llm_cache").fetchall())


@pytest.mark.parametrize(
    ("text", "structured", "expected"),
    [
        (f"key {AWS}", False, "key <SECRET:aws_access_key:1>"),
        # an escaped key is found as the JSON parser reads it, and the JSON stays valid
        ('{"q": ["\\u0041KIAQ7RZ3KXW5TNV2MLP"]}', True, '{"q": ["<SECRET:aws_access_key:1>"]}'),
        ('{"q": ["nothing here"]}', True, '{"q": ["nothing here"]}'),
        (f'{{"q": ["{AWS}"', True, '{"q": ["<SECRET:aws_access_key:1>"'),  # malformed JSON
    ],
)
def test_redact_answer(text, structured, expected):
    assert redact_answer(Redactor(), text, structured) == expected


# --- a real model: SmolLM2-135M-Instruct through the transformers backend ---------------------


@pytest.fixture(scope="session")
def smollm2():
    """The real model, loaded once; the dequantized checkpoint is cached across sessions."""
    return load_smollm2()


@pytest.mark.slow
def test_transformers_backend_real_model(smollm2):
    assert smollm2.name == "transformers:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert any(
        p.name.startswith("SmolLM2-135M-Instruct.Q4_1-") for p in smollm2.cache_dir.iterdir()
    )
    c = smollm2.chat(
        [{"role": "user", "content": "What is the capital of France?"}],
        LLMOptions(temperature=0, max_tokens=6),
    )
    assert c.text.strip() and 0 < c.completion_tokens <= 6 and c.prompt_tokens > 5
    assert c.done_reason in ("stop", "length")
    # the cached plain checkpoint is itself a model directory the backend loads
    (ckpt,) = [p for p in smollm2.cache_dir.iterdir() if (p / ".complete").is_file()]
    again = parse_llm_spec(f"transformers:{ckpt}")
    assert (
        again.identity.startswith(f"transformers:{ckpt.name}@")
        and again.identity != smollm2.identity
    )
    messages = [{"role": "user", "content": "Say hi."}]
    greedy = LLMOptions(temperature=0, max_tokens=4)
    assert again.chat(messages, greedy).text == smollm2.chat(messages, greedy).text
    short = smollm2.chat(messages, LLMOptions(temperature=0, max_tokens=1))
    assert (short.completion_tokens, short.done_reason) == (1, "length")


@pytest.mark.slow
def test_ollama_client_against_real_model(smollm2):
    with Harness(model_responder(smollm2)) as h:
        client = pytest.importorskip("ollama", reason="pip install dataprep[llm]")

        r = client.Client(host=h.url, timeout=60).chat(
            model="smollm2",
            messages=[{"role": "user", "content": "Name one Java keyword."}],
            options={"temperature": 0, "num_predict": 10, "num_ctx": 512},
        )
        assert r.message.content.strip() and 0 < r.eval_count <= 10
        c = ollama(
            h, timeout=60, options=LLMOptions(temperature=0, max_tokens=8, num_ctx=512)
        ).chat([{"role": "user", "content": "Say yes."}])
        assert c.text.strip() and c.completion_tokens <= 8
        g = client.Client(host=h.url, timeout=60).generate(
            model="smollm2",
            prompt="Say no.",
            options={"num_predict": 6, "temperature": 0},
            stream=False,
        )
        assert g.response.strip() and g.done
