"""`--llm-endpoint`: one model on several real HTTP servers (the Ollama-compatible harness),
least-in-flight routing under per-endpoint caps, failover and back-off, one shared cache."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from ollama_harness import Harness, evol_script, evol_store, free_port, scripted
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.errors import LLMError
from dataprep.generate.evol import EVOL_STAGE_VERSION, EvolConfig, run_evol
from dataprep.generate.llm import CachedLLM, OllamaLLM, parse_llm_spec
from dataprep.generate.llm.endpoints import Endpoint, EndpointPool, parse_endpoint, parse_endpoints

FAST = {"timeout": 5, "retries": 2, "backoff": 0.02}


def pool(*servers: tuple[str, int], **kw) -> EndpointPool:
    endpoints = [Endpoint(url, cap) for url, cap in servers]
    return parse_llm_spec("ollama:smollm2", endpoints=endpoints, **{**FAST, **kw})


def ask(llm, text: str) -> str:
    return llm.chat([{"role": "user", "content": text}]).text


class Gauge:
    """A responder that sleeps `latency` and records the most requests it held at once."""

    def __init__(self, latency: float = 0.0, release: threading.Event | None = None):
        self.latency, self.release = latency, release
        self.now = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, messages, body):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if self.release is not None and "slow" in messages[-1]["content"]:
                self.release.wait(10)
            time.sleep(self.latency)
            return "answer to " + messages[-1]["content"]
        finally:
            with self.lock:
                self.now -= 1


# --- parsing -----------------------------------------------------------------------------


def test_endpoint_parsing():
    assert parse_endpoint("http://gpu1:11434,8", 4) == Endpoint("http://gpu1:11434", 8)
    assert parse_endpoint("http://gpu2:11434/", 4) == Endpoint("http://gpu2:11434", 4)
    assert parse_endpoint(" https://h/v1 , 2", 4) == Endpoint("https://h/v1", 2)
    for bad, message in [
        ("gpu1:11434", "is not an http\\(s\\) URL: give --llm-endpoint as URL\\[,max_inflight\\]"),
        ("http://gpu1:11434,many", "max_inflight must be a number"),
        ("http://gpu1:11434,0", "max_inflight must be at least 1"),
    ]:
        with pytest.raises(LLMError, match=message):
            parse_endpoint(bad, 4)
    with pytest.raises(LLMError, match="given twice"):
        parse_endpoints(["http://a:1,2", "http://a:1"], 4)


def test_one_host_or_none_builds_the_plain_backend_and_bad_mixes_are_one_line_errors():
    plain = parse_llm_spec("ollama:m", host="http://127.0.0.1:9")
    assert type(plain) is OllamaLLM and plain.host == "http://127.0.0.1:9"
    assert type(parse_llm_spec("ollama:m")) is OllamaLLM
    two = [Endpoint("http://127.0.0.1:9", 1), Endpoint("http://127.0.0.1:10", 3)]
    p = parse_llm_spec("ollama:m", endpoints=two)
    assert isinstance(p, EndpointPool) and p.capacity == 4 and p.name == "ollama:m"
    o = parse_llm_spec("openai:m", endpoints=[Endpoint("http://127.0.0.1:9/v1", 2)])
    assert o.slots[0].backend.base_url == "http://127.0.0.1:9/v1"
    with pytest.raises(LLMError, match="either --llm-host or --llm-endpoint"):
        parse_llm_spec("ollama:m", host="http://x:1", endpoints=two)
    with pytest.raises(LLMError, match="give openai:MODEL and each server"):
        parse_llm_spec("openai:m@http://x:1/v1", endpoints=two)
    with pytest.raises(LLMError, match="needs a server backend"):
        parse_llm_spec("transformers:/nowhere", endpoints=two)


# --- routing ------------------------------------------------------------------------------


def test_a_request_goes_to_the_endpoint_with_fewest_in_flight():
    release = threading.Event()
    with Harness(Gauge(release=release)) as a, Harness(Gauge(release=release)) as b:
        llm = pool((a.url, 2), (b.url, 2))
        with ThreadPoolExecutor(1) as ex:
            slow = ex.submit(ask, llm, "slow one")
            while a.calls + b.calls == 0:
                time.sleep(0.005)
            first = a if a.calls else b
            other = b if first is a else a
            answers = [ask(llm, f"fast {i}") for i in range(3)]  # one at a time
            assert (first.calls, other.calls) == (1, 3)  # the idle one takes each of them
            release.set()
            assert slow.result() == "answer to slow one"
        assert answers == [f"answer to fast {i}" for i in range(3)]
        # once both are idle, a lone caller evens out what each has started, then alternates
        for i in range(6):
            ask(llm, f"turn {i}")
        assert (first.calls, other.calls) == (5, 5)


def test_each_endpoint_keeps_its_cap_and_load_follows_capacity():
    gauges = [Gauge(latency=0.03) for _ in range(3)]
    with Harness(gauges[0]) as a, Harness(gauges[1]) as b, Harness(gauges[2]) as c:
        llm = pool((a.url, 1), (b.url, 2), (c.url, 4))
        with ThreadPoolExecutor(llm.capacity) as ex:
            answers = list(ex.map(lambda i: ask(llm, f"q{i}"), range(70)))
        assert answers == [f"answer to q{i}" for i in range(70)]
        assert [g.most for g in gauges] == [1, 2, 4]  # each cap reached, never passed
        assert a.calls + b.calls + c.calls == 70
        assert a.calls < b.calls < c.calls
        assert llm.counts() == {f"Ollama at {h.url}": h.calls for h in (a, b, c)}  # answered there


# --- failures -----------------------------------------------------------------------------


def test_a_failing_endpoint_is_skipped_and_probed_again_after_a_backoff():
    with Harness(Gauge()) as a, Harness(Gauge()) as b:
        a.set_fault("503", times=1)
        llm = pool((a.url, 2), (b.url, 2), backoff=0.3)
        assert ask(llm, "one") == "answer to one"  # a answered 503: retried on b
        assert (a.calls, b.calls) == (1, 1)
        for i in range(3):  # a is resting: everything goes to b
            ask(llm, f"x{i}")
        assert (a.calls, b.calls) == (1, 4)
        time.sleep(0.35)
        ask(llm, "probe")  # back-off over: a is probed, answers, and is back
        ask(llm, "again")
        assert a.calls == 3


def test_a_server_down_from_the_start_is_skipped(tmp_path):
    from dataprep.store import Store

    dead = f"http://127.0.0.1:{free_port()}"
    with Harness(Gauge()) as live:
        llm = pool((dead, 4), (live.url, 1))
        cached = CachedLLM(llm, Store.open(tmp_path / "out"), EVOL_STAGE_VERSION)
        answers = [cached.chat([{"role": "user", "content": f"q{i}"}]).text for i in range(3)]
        assert answers == [f"answer to q{i}" for i in range(3)] and live.calls == 3
        assert llm.counts() == {f"Ollama at {dead}": 0, f"Ollama at {live.url}": 3}


def test_all_endpoints_down_is_the_one_line_error():
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    llm = pool((urls[0], 2), (urls[1], 2), backoff=0.01)
    start = time.monotonic()
    with pytest.raises(LLMError) as err:
        ask(llm, "anyone?")
    message = str(err.value)
    assert message == (
        f"cannot reach any of the 2 LLM endpoints (Ollama at {urls[0]}, Ollama at {urls[1]}) "
        "after 6 attempts: start them, or check the URLs given with --llm-endpoint"
    )
    assert "\n" not in message and time.monotonic() - start < 5


def test_a_model_missing_on_an_endpoint_stops_the_run():
    with Harness(Gauge(), models=("other",)) as a:
        with pytest.raises(LLMError, match="ollama pull smollm2"):
            ask(pool((a.url, 1)), "hello")


# --- a run: killed server, same pairs, shared cache -----------------------------------------


class Killable:
    """evol_script answers after `latency`; once `killed`, every request is cut (a crash)."""

    def __init__(self, latency: float):
        self.script, self.latency, self.killed = evol_script(), latency, threading.Event()

    def __call__(self, messages, body):
        time.sleep(self.latency)
        if self.killed.is_set():
            raise ConnectionResetError("killed")  # the harness drops the connection
        return self.script(messages, body)


def _evol_pairs(tmp_path, name, llm):
    store = evol_store(tmp_path / name)
    config = EvolConfig(rounds=2, questions_per_unit=1, progress=False, concurrency=4)
    summary = run_evol(store, config, llm)
    return store, summary, sorted(p.id for p in store.pairs(generator="evol"))


def test_a_server_killed_mid_run_changes_nothing_and_the_cache_is_shared(tmp_path):
    with Harness(evol_script()) as one:
        single = parse_llm_spec("ollama:smollm2", host=one.url, **FAST)
        s1, _, expected = _evol_pairs(tmp_path, "one", single)
        s1.close()
    assert len(expected) == 18

    doomed = Killable(latency=0.01)
    with Harness(doomed) as a, Harness(Killable(latency=0.01)) as b:

        def kill_after(n: int) -> None:
            while a.calls < n:
                time.sleep(0.002)
            doomed.killed.set()
            a.stop()

        killer = threading.Thread(target=kill_after, args=(10,))
        killer.start()
        llm = pool((a.url, 2), (b.url, 2))
        store, summary, got = _evol_pairs(tmp_path, "two", llm)
        killer.join()
        assert got == expected
        assert a.calls >= 10 and b.calls > 10
        assert summary.calls == 48  # every answer once, the cut ones again on b
        answered = llm.counts()
        assert answered[f"Ollama at {a.url}"] < a.calls  # some of a's requests failed
        assert sum(answered.values()) == 48

    # the cache key names no URL: a re-run against another server makes no call
    with Harness(evol_script()) as c:
        config = EvolConfig(rounds=2, questions_per_unit=1, progress=False)
        again = run_evol(store, config, pool((c.url, 3)))
        assert c.calls == 0 and again.calls == 0 and again.cached_calls == 50
        single = parse_llm_spec("ollama:smollm2", host=c.url)
        key = CachedLLM(single, store, EVOL_STAGE_VERSION).key
        pooled = CachedLLM(pool((a.url, 1), (c.url, 1)), store, EVOL_STAGE_VERSION).key
        messages = [{"role": "user", "content": "x"}]
        assert key(messages, single.options, None) == pooled(messages, single.options, None)
    store.close()


# --- the command line ---------------------------------------------------------------------


def test_generate_spreads_over_endpoints_and_a_bad_endpoint_is_one_line(tmp_path):
    out = tmp_path / "out"
    evol_store(out).close()
    with Harness(evol_script()) as a, Harness(evol_script()) as b:
        args = ["generate", "--out", str(out), "--llm", "ollama:smollm2"]
        args += ["--llm-endpoint", f"{a.url},2", "--llm-endpoint", b.url]
        args += ["--evol-rounds", "1", "--evol-questions", "1", "--llm-concurrency", "1"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        # 4 units x (question, answer, 3 calls a round) + 3 template seeds x 3, less the one
        # judge request two units share (asked once, then cached)
        assert a.calls > 0 and b.calls > 0 and a.calls + b.calls == 4 * 5 + 3 * 3 - 1
    bad = CliRunner().invoke(
        app, ["generate", "--out", str(out), "--llm", "ollama:m", "--llm-endpoint", "gpu1:11434"]
    )
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == [
        "Error: --llm-endpoint 'gpu1:11434' is not an http(s) URL: give --llm-endpoint as "
        "URL[,max_inflight], e.g. http://10.0.0.5:11434,4"
    ]


def test_scripted_answers_are_the_same_from_every_endpoint():
    script = scripted([(r"ping", "pong")])
    with Harness(script) as a, Harness(script) as b:
        llm = pool((a.url, 1), (b.url, 1))
        assert {ask(llm, "ping") for _ in range(4)} == {"pong"}
        assert (a.calls, b.calls) == (2, 2)


def test_run_with_two_endpoints_then_a_rerun_on_a_third_makes_no_call(tmp_path):
    from conftest import FIXTURES

    out = tmp_path / "out"
    base = ["run", str(FIXTURES / "hotel-booking"), "--out", str(out), "--jobs", "1"]
    base += ["--llm", "ollama:smollm2", "--evol-units", "4", "--evol-rounds", "1"]
    base += ["--evol-questions", "1"]
    with Harness(evol_script()) as a, Harness(evol_script()) as b:
        first = CliRunner().invoke(
            app, [*base, "--llm-endpoint", f"{a.url},2", "--llm-endpoint", f"{b.url},2"]
        )
        assert first.exit_code == 0, first.output
        assert a.calls > 3 and b.calls > 3
    with Harness(evol_script()) as c:
        again = CliRunner().invoke(app, [*base, "--llm-endpoint", c.url])
        assert again.exit_code == 0, again.output
        assert c.calls == 0
    assert "LLM generator:" in again.output
