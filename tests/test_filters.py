"""The filter chain: the per-pair filters, the chain and its decisions, the judge, the cache."""

import dataclasses
import json

import pytest
from factories import ROOM_CODE, pair, store_with, unit

from dataprep.errors import ConfigError
from dataprep.filters import (
    CHAIN,
    REGISTRY,
    Context,
    FilterConfig,
    RepoIndex,
    apply_filters,
    describe_filters,
    estimate_tokens,
    java_parses,
    repo_like_names,
    run_filters,
    token_counter,
)
from dataprep.models import Decision


def check(name: str, p, config: FilterConfig | None = None, index: RepoIndex | None = None):
    ctx = Context(config=config or FilterConfig(), index=index or RepoIndex.from_units([unit()]))
    return REGISTRY[name].check(p, ctx)


@pytest.mark.parametrize(
    ("output", "dropped"),
    [
        ("", True),
        ("   ", True),
        ("TODO", True),
        ("N/A.", True),
        ("...", True),
        ("`null`", True),
        ("?!", True),
        ("it is the of and", True),
        ("Returns the capacity for a number of guests.", False),
        ("yes", False),
    ],
)
def test_empty_output(output, dropped):
    assert (check("empty_output", pair("Explain capacity.", output)) is not None) is dropped


def test_empty_output_reads_words_one_at_a_time_as_the_whole_list_would_tell():
    from dataprep.filters.core import WORD_RE
    from dataprep.filters.text import STOP_WORDS, _only_stop_words

    texts = ["", "?!", "it is", "It IS the", "the the the rooms", "rooms the the", "a, b; the.",
             "it\nis\tthe\u00e9", "IS_IT the of", "x$ the of", "of of of of", "the  "]  # fmt: skip
    for text in texts:
        words = WORD_RE.findall(text)
        assert _only_stop_words(text) is (
            len(words) > 2 and all(w.lower() in STOP_WORDS for w in words)
        ), text


def test_length_bounds_in_characters_and_tokens():
    cfg = FilterConfig(min_output_chars=5, max_output_chars=50, max_output_tokens=10)
    assert check("length", pair("q", "abc"), cfg) == "output has 3 characters < 5"
    assert check("length", pair("q", "x" * 51), cfg) == "output has 51 characters > 50"
    assert check("length", pair("q", "x" * 40), cfg) == "output has 14 tokens > 10"
    assert check("length", pair("q", "x" * 20), cfg) is None


def test_refusal_only_in_short_outputs():
    assert check("refusal", pair("q", "Sorry, I cannot help with that.")) is not None
    assert check("refusal", pair("q", "As an AI language model I can't see the file.")) is not None
    long_answer = "Sorry for the long answer. " + "The method validates guests and computes. " * 20
    assert check("refusal", pair("q", long_answer)) is None
    assert check("refusal", pair("q", "Returns the room's capacity.")) is None


def test_refusal_reads_prose_only_never_a_code_answer():
    code = 'if (rooms.isEmpty()) {\n    return "Sorry, we are full";\n}'
    assert check("refusal", pair("Show the code of full.", code)) is None
    fenced = 'It answers in the guest\'s language:\n```java\nsay("Sorry, I cannot help");\n```'
    assert check("refusal", pair("How does say work?", fenced)) is None
    assert check("refusal", pair("q", "Sorry, I cannot see `Room`.")) is not None


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("instruction", "#Rewritten Prompt#: explain capacity"),
        ("instruction", "Rewrite the given prompt to explain capacity"),
        ("output", "### Response:\nIt returns the capacity."),
        ("output", "<|im_start|>assistant\nok"),
        ("input", "Below is an instruction that describes a task."),
    ],
)
def test_template_words(field, text):
    kwargs = {"instruction": "Explain.", "output": "It returns.", "input": ""}
    kwargs[field] = text
    assert field in check("template_words", pair(**kwargs))


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        (ROOM_CODE, True),
        ("int x = 1;", True),
        ("return guests * 2;", True),
        ("public final class Room extends Base implements Comparable<Room>", True),
        ("@Override", True),
        ("public record Money(long cents) {}", True),
        ("private final Map<String, List<Room>> byType = new HashMap<>();", True),
        ("int x = ;", False),
        ("public int capacity(int guests) {\n    return guests *;\n}", False),
        ("public void foo(", False),
        ("class {", False),
    ],
)
def test_java_parses(code, ok):
    assert java_parses(code) is ok


def test_code_validity_checks_fenced_blocks_and_code_outputs():
    good = pair("Write it.", "Here:\n```java\nint x = 1;\n```\nDone.")
    bad = pair("Write it.", "Here:\n```java\nint x = ;\n```")
    other_language = pair("Run it.", "```bash\nmvn -q test (\n```")
    whole = pair("Show the code.", "public int capacity(int guests) { return guests *; }")
    prose = pair("Explain.", "It returns the capacity (guests times the rate).")
    assert check("code_validity", good) is None
    assert check("code_validity", bad) == "code block 1 does not parse as Java"
    assert check("code_validity", other_language) is None
    assert check("code_validity", whole) is not None
    assert check("code_validity", prose) is None
    code_task = pair("Show it.", "return guests *;", task="method.body")
    assert check("code_validity", code_task, FilterConfig(code_tasks=("method.body",))) is not None


def test_output_first_inputs_of_code_tasks_are_parsed_whole():
    q = "Is this method a test? Answer yes or no."
    plain = "void f() { int x = ; }"  # no modifier: does not read like code to CODE_START_RE
    made = pair(q, "no", plain, generator="output_first", task="method.is_test", label="no")
    assert check("code_validity", made) == "code block 1 of the input does not parse as Java"
    assert check("code_validity", made.model_copy(update={"generator": "template"})) is None
    fixed = made.model_copy(update={"input": "void f() { int x = 1; }"})
    assert check("code_validity", fixed) is None


@pytest.mark.parametrize(
    ("code", "label"),
    [("void cancels() { }", "yes"), ("public void testLegacy() { }", "no")],
)
def test_label_mismatch_leaves_inputs_that_hide_the_label_to_where_they_were_written(code, label):
    # method.is_test shows the method without its annotations (they would give the answer
    # away): its label is read from the code as written, by the slicer or by output-first
    # generation (tests/test_balance.py), not from the input
    q = "Is this method a test? Answer yes or no."
    made = pair(q, label, code, generator="output_first", task="method.is_test", label=label)
    assert check("label_mismatch", made) is None
    unlabelled = pair("Explain cancels.", "It cancels.", code)  # not a classification pair
    assert check("label_mismatch", unlabelled) is None


def test_repo_like_names_example():
    assert repo_like_names("Call `roomService.findFree()` on RoomService") == {
        "RoomService",
        "findFree",
    }


def test_grounding_drops_invented_names_in_llm_pairs_only():
    index = RepoIndex.from_units([unit()])
    invented = pair(
        "How is capacity used?", "It calls RoomPricingEngine.computeRate() first.", generator="evol"
    )
    grounded = pair(
        "How is capacity used?",
        "It calls `rateFor(type)` and Math.min on maxGuests.",
        generator="evol",
    )
    new_code = pair(
        "Add a helper.",
        "```java\nprivate int doubleRate(int rate) { return rate * 2; }\n```\n"
        "Then call doubleRate(rate).",
        generator="evol",
    )
    from_instruction = pair(
        "What does RoomBooker.bookNow() do?", "RoomBooker.bookNow() is not shown.", generator="evol"
    )
    template = pair("Explain.", "It calls RoomPricingEngine.computeRate().", generator="template")
    reason = check("grounding", invented, index=index)
    assert reason == "names not in the repository: RoomPricingEngine, computeRate"
    assert check("grounding", grounded, index=index) is None
    assert check("grounding", new_code, index=index) is None
    assert check("grounding", from_instruction, index=index) is None
    assert check("grounding", template, index=index) is None


def test_context_length_with_the_estimate():
    cfg = FilterConfig(max_seq_len=100)
    short = pair("Explain capacity.", "It returns the capacity.")
    long = pair("Explain capacity.", "word " * 200)
    assert check("context_length", short, cfg) is None
    assert check("context_length", long, cfg).endswith("> max_seq_len 100")
    assert estimate_tokens("abcdef") == 2


def _word_tokenizer(tmp_path):
    """A real tokenizer built in the test (one token per word), saved like a Hub model."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "</s>": 1}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="</s>")
    path = tmp_path / "tok"
    fast.save_pretrained(path)
    return path


def test_context_length_with_a_real_tokenizer_drops_and_never_truncates(tmp_path):
    path = _word_tokenizer(tmp_path)
    count = token_counter(str(path))
    assert count("one two three") == 3
    long_output = " ".join(["word"] * 80)
    pairs = [
        pair("Explain capacity.", "It returns the capacity."),
        pair("Explain it.", long_output),
    ]
    store = store_with(tmp_path, pairs)
    report = run_filters(store, FilterConfig(max_seq_len=64, tokenizer=str(path)))
    assert report.dropped["context_length"] == 1
    dropped = store.dropped()
    assert [d.stage for d in dropped.values()] == ["filter.context_length"]
    kept_back = store.pair(next(iter(dropped)))
    assert kept_back.output == long_output  # still whole, in the store, with its reason


def test_token_counter_names_the_fix_for_a_missing_tokenizer(tmp_path):
    with pytest.raises(ConfigError, match="cannot load tokenizer"):
        token_counter(str(tmp_path / "nope"))


def test_run_filters_records_a_decision_per_pair_and_stage(tmp_path):
    pairs = [pair("Explain capacity.", "It returns the capacity."), pair("Explain it.", "TODO")]
    store = store_with(tmp_path, pairs)
    report = run_filters(store)
    counts = {(stage, kept): n for stage, kept, n in store.decision_counts()}
    assert counts[("filter.empty_output", 1)] == counts[("filter.empty_output", 0)] == 1
    # the dropped pair is not shown again: the near-duplicate filter saw one pair
    assert counts[("filter.near_duplicate", 1)] == 1
    assert ("filter.near_duplicate", 0) not in counts
    # only drops are rows: a pair without one was kept
    assert {d.stage for d in store.dropped().values()} == {"filter.empty_output"}
    assert report.stages[0] == {"stage": "empty_output", "in": 2, "out": 1}
    assert len(store.pairs()) == 2  # dropped pairs stay, with their reason
    again = run_filters(store)
    assert again.to_dict()["dropped"] == report.to_dict()["dropped"]


def test_pairs_dropped_upstream_are_not_filtered_again(tmp_path):
    a, b = (
        pair("Explain capacity.", "It returns it."),
        pair("Explain rate.", "It returns the rate."),
    )
    store = store_with(tmp_path, [a, b])
    store.put_decisions(
        "evol.eliminate", [Decision(pair_id=a.id, stage="evol.eliminate", kept=False, reason="x")]
    )
    assert run_filters(store).total == 1


def test_secrets_filter_names_the_rule_not_the_value():
    p = pair("Who runs it?", "Write to ops-oncall@grandhotel.io for access.")
    assert check("secrets", p) == "email in the output"


def test_disabled_filters_and_bad_settings(tmp_path):
    store = store_with(tmp_path, [pair("Explain it.", "TODO")])
    assert run_filters(store, FilterConfig(disabled=("empty_output", "length"))).kept == 1
    with pytest.raises(ConfigError, match="unknown filter"):
        run_filters(store, FilterConfig(disabled=("nope",)))
    with pytest.raises(ConfigError, match="near_dup_threshold"):
        run_filters(store, FilterConfig(near_dup_threshold=1.5))


def test_describe_filters_lists_every_filter_with_its_settings():
    rows = {r["name"]: r for r in describe_filters(FilterConfig(judge="ollama:x"))}
    assert set(rows) == set(REGISTRY)
    assert rows["near_duplicate"]["settings"]["near_dup_threshold"] == 0.7
    assert rows["judge"]["enabled"] is True
    assert {r["name"] for r in describe_filters() if not r["enabled"]} == {"judge"}


def test_apply_filters_is_a_pure_chain():
    pairs = [pair("Explain capacity.", "It returns the capacity."), pair("Explain it.", "")]
    ctx = Context(config=FilterConfig(), index=RepoIndex.from_units([unit()]))
    alive, report, decisions = apply_filters(pairs, FilterConfig(), ctx)
    assert [p.id for p in alive] == [pairs[0].id]
    assert report.total == 2 and report.kept == 1
    # the stage's notable verdicts: its one drop (the kept pair is counted in the report)
    [dropped] = decisions["filter.empty_output"]
    assert dropped.pair_id == pairs[1].id and dropped.reason.startswith("empty or placeholder")
    assert report.stages[0] == {"stage": "empty_output", "in": 2, "out": 1}


def test_the_judge_scores_through_an_ollama_server_and_caches_its_calls(tmp_path):
    # the scores it records are read back by the review page: test_review.py
    import re

    from ollama_harness import Harness, scripted

    from dataprep.generate.llm import LLMOptions, parse_llm_spec

    def score(m, _messages):
        return json.dumps({"score": 20 if "invented" in m.group(1) else 90, "reason": "checked"})

    good = pair("Explain capacity.", "It returns the capacity.")
    bad = pair("What does capacity do?", "It is invented nonsense.")
    store = store_with(tmp_path, [good, bad])
    with Harness(scripted([(r"Answer:\n(.*?)\n\nScore", score)])) as h:
        llm = parse_llm_spec("ollama:smollm2", host=h.url, options=LLMOptions(temperature=0))
        report = run_filters(
            store, FilterConfig(judge="ollama:smollm2", judge_threshold=50), judge=llm
        )
        calls = h.calls
    assert report.dropped["judge"] == 1
    assert re.match(r"judge score 20 < 50", store.dropped()[bad.id].reason)
    with Harness(scripted([], default="unused")) as h:  # cached: nothing is asked again
        llm = parse_llm_spec("ollama:smollm2", host=h.url, options=LLMOptions(temperature=0))
        run_filters(store, FilterConfig(judge="ollama:smollm2"), judge=llm)
        assert h.calls == 0 and calls == 2


def test_an_incremental_run_reuses_per_pair_verdicts(tmp_path, monkeypatch):
    from dataprep import filters

    units = [unit(), *(unit(name=f"m{i}") for i in range(10))]
    pairs = [
        pair(f"Explain m{i}.", f"It returns the value number {i}.", source=units[i + 1])
        for i in range(10)
    ]
    pairs.append(pair("Explain it.", "TODO"))
    store = store_with(tmp_path, pairs, units)
    first = run_filters(store)
    assert first.stages[2] == {"stage": "refusal", "in": 10, "out": 10}
    calls = []
    original = filters.REGISTRY["refusal"]
    spy = dataclasses.replace(
        original, check=lambda p, ctx: calls.append(p.id) or original.check(p, ctx)
    )
    monkeypatch.setitem(filters.REGISTRY, "refusal", spy)
    again = run_filters(store)
    assert calls == [] and again.to_dict()["dropped"] == first.to_dict()["dropped"]
    extra = pair("Explain capacity.", "Sorry, I cannot help with that.")
    store.put_pairs([extra])
    report = run_filters(store)
    assert calls == [extra.id] and report.dropped["refusal"] == 1  # only the new pair
    run_filters(store, FilterConfig(refusal_max_words=3))  # other settings: all again
    assert len(calls) == 1 + report.stages[2]["in"] == 12
    assert len(store.filter_verdicts()) == len(store.pairs())  # stale verdicts are forgotten


def test_the_chain_list_orders_every_registered_filter():
    assert list(REGISTRY) == list(CHAIN)
    families = {spec.name: (spec.check or spec.check_all).__module__ for spec in REGISTRY.values()}
    assert families["near_duplicate"] == "dataprep.filters.dedup"
    assert families["secrets"] == "dataprep.filters.secrets"
    assert {m.rsplit(".", 1)[1] for m in families.values()} == {
        "text", "code", "grounding", "secrets", "dedup", "judge"
    }  # fmt: skip


def test_a_registered_filter_missing_from_the_chain_is_an_error(monkeypatch):
    from dataprep.filters import chain

    monkeypatch.setitem(REGISTRY, "extra", dataclasses.replace(REGISTRY["length"], name="extra"))
    with pytest.raises(RuntimeError, match=r"not in CHAIN \['extra'\]"):
        chain._order_registry()


def test_the_cache_fingerprint_covers_every_file_of_the_package_and_the_redactor(monkeypatch):
    from pathlib import Path

    from dataprep import secrets
    from dataprep.filters import cache

    package = Path(cache.__file__).parent
    files = [*sorted(package.glob("*.py")), *sorted(Path(secrets.__file__).parent.glob("*.py"))]
    assert len(files) >= 11
    before = cache.code_fingerprint.__wrapped__()
    read = Path.read_bytes
    for changed in files:
        monkeypatch.setattr(Path, "read_bytes", lambda p, c=changed: read(p) + (p == c) * b"#")
        assert cache.code_fingerprint.__wrapped__() != before, changed.name
    monkeypatch.setattr(Path, "read_bytes", read)
    assert cache.code_fingerprint.__wrapped__() == before


def test_the_filters_package_holds_no_sql():
    from pathlib import Path

    from dataprep.filters import core

    for path in Path(core.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in (".conn", "execute(", "SELECT ", "INSERT ", "DELETE "):
            assert word not in text, f"{path.name} has {word!r}"


def test_the_chain_sees_what_earlier_stages_kept_and_sets_later_verdicts_aside(tmp_path):
    a, b, c = (
        pair("Explain capacity.", "It returns it."),
        pair("Explain rate.", "It returns the rate."),
        pair("Explain fee.", "It returns the fee."),
    )
    store = store_with(tmp_path, [a, b, c])
    for stage, dropped in (("evol.eliminate", [a]), ("balance", [a, b]), ("decontaminate", [b])):
        store.put_decisions(
            stage, [Decision(pair_id=p.id, stage=stage, kept=False) for p in dropped]
        )
    assert run_filters(store).total == 2  # b and c: a was dropped before the filters
