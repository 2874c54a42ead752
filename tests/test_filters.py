"""The filter chain: each filter, duplicates, near-duplicates, decontamination, the judge."""

import json

import pytest

from dataprep.errors import ConfigError
from dataprep.filters import (
    REGISTRY,
    Context,
    FilterConfig,
    RepoIndex,
    apply_filters,
    contaminated_pairs,
    decontaminate,
    describe_filters,
    estimate_tokens,
    jaccard,
    java_parses,
    judge_scores,
    near_duplicate_groups,
    repo_like_names,
    run_filters,
    shingles,
    token_counter,
)
from dataprep.models import Decision
from tests.pair_helpers import ROOM_CODE, pair, store_with, unit


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
    ("code", "label", "reason"),
    [
        ("@Test\nvoid cancels() { }", "yes", None),
        ("void cancels() { }", "no", None),
        ("void cancels() { }", "yes", "label 'yes' but the input says 'no'"),
        ("@ParameterizedTest\nvoid adds(int x) { }", "no", "label 'no' but the input says 'yes'"),
        ("public void testLegacy() { }", "no", "label 'no' but the input does not tell"),
    ],
)
def test_label_mismatch_reads_the_label_from_the_input(code, label, reason):
    q = "Is this method a test? Answer yes or no."
    made = pair(q, label, code, generator="output_first", task="method.is_test", label=label)
    assert check("label_mismatch", made) == reason
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


def test_exact_duplicates_keep_the_template_pair_and_conflicts_drop_all(tmp_path):
    a = pair("Explain capacity.", "It returns the capacity.", generator="evol")
    b = pair("Explain  capacity.", "It returns the capacity. ", generator="template")
    c1 = pair("Name the method.", "capacity", task="method.name")
    c2 = pair("Name the method.", "rateFor", task="method.name", source=unit(name="rateFor"))
    store = store_with(tmp_path, [a, b, c1, c2], [unit(), unit(name="rateFor")])
    report = run_filters(store)
    dropped = store.dropped()
    assert dropped[a.id].stage == "filter.exact_duplicate" and b.id in dropped[a.id].reason
    assert b.id not in dropped
    assert {c1.id, c2.id} <= set(dropped) and dropped[c1.id].stage == "filter.conflict"
    assert report.kept == 1 and [p.id for p in store.kept_pairs()] == [b.id]


def test_near_duplicate_methods_collapse_and_different_ones_stay():
    copy = ROOM_CODE.replace("maxGuests", "maximumGuests").replace("    ", "  ")
    other = """public String label() {
    StringBuilder out = new StringBuilder(type.name().toLowerCase());
    for (String feature : features) {
        out.append(", ").append(feature);
    }
    return out.toString();
}"""
    a = pair("Write the method capacity of Room.", ROOM_CODE, task="method.code")
    b = pair(
        "Write the method capacity of Room.",
        copy,
        task="method.code",
        source=unit(path="b/Room.java"),
    )
    c = pair(
        "Write the method label of Room.", other, task="method.code", source=unit(other, "label")
    )
    assert jaccard(shingles(a.output), shingles(b.output)) < 1.0
    dropped = near_duplicate_groups([a, b, c])
    assert len(dropped) == 1
    ((loser, keeper),) = dropped.items()
    assert {loser, keeper} == {a.id, b.id} and keeper == min(a.id, b.id)
    assert near_duplicate_groups([a, b, c], threshold=0.99) == {}


def test_near_duplicate_scope_task_compares_within_a_task():
    a = pair("Write the method capacity.", ROOM_CODE, task="method.code")
    b = pair("Write the method capacity.", ROOM_CODE + " ", task="method.copy")
    assert near_duplicate_groups([a, b], scope="task") == {}
    assert len(near_duplicate_groups([a, b], scope="all")) == 1


def _split_store(tmp_path, contaminate: bool):
    bodies = [
        f"public int total{i}(int nights, int guests) {{\n"
        f"    int base{i} = nights * rate{i};\n"
        f"    int extra{i} = guests > 2 ? (guests - 2) * fee{i} : 0;\n"
        f"    int tax{i} = (base{i} + extra{i}) * {i} / 100;\n"
        f"    return base{i} + extra{i} + tax{i};\n}}"
        for i in range(12)
    ]
    units = [unit(code, f"total{i}", f"Type{i}") for i, code in enumerate(bodies)]
    pairs = [
        pair(f"Write total{i} of Type{i}.", code, task="method.code", source=u)
        for i, (code, u) in enumerate(zip(bodies, units, strict=True))
    ]
    if contaminate:  # train pair 0, copied into another module with one word added
        leaked = bodies[0].replace("int tax0", "final int tax0")
        extra = unit(leaked, "total0", "Type0", path="other/Type0.java")
        units.append(extra)
        pairs.append(pair("Write total0 of Type0.", leaked, task="method.code", source=extra))
    store = store_with(tmp_path, pairs, units)
    splits = [(p.id, "train" if i < 9 else "test", p.path) for i, p in enumerate(pairs[:12])]
    if contaminate:
        splits.append((pairs[12].id, "test", pairs[12].path))
    store.put_splits(splits)
    return store, pairs


def test_a_contaminated_test_split_is_caught(tmp_path):
    store, pairs = _split_store(tmp_path, contaminate=True)
    report = decontaminate(store)
    assert report.contaminated == 1 and report.by_split == {"test": 1}
    decision = store.dropped()[pairs[12].id]
    assert decision.stage == "decontaminate" and pairs[0].id in decision.reason
    assert json.loads(decision.detail)["train_pair"] == pairs[0].id
    assert pairs[12].id not in {p.id for p in store.kept_pairs()}


def test_a_clean_split_passes_and_move_moves_to_train(tmp_path):
    store, _ = _split_store(tmp_path, contaminate=False)
    assert decontaminate(store).contaminated == 0
    store2, pairs = _split_store(tmp_path / "b", contaminate=True)
    decontaminate(store2, FilterConfig(decontam_action="move"))
    assert store2.splits()[pairs[12].id] == "train"
    assert pairs[12].id not in store2.dropped()


def test_contaminated_pairs_confirms_with_exact_jaccard():
    a = pair("Write it.", ROOM_CODE)
    b = pair("Write it.", ROOM_CODE.replace("must be positive", "must be above zero"))
    found = contaminated_pairs([a], [b], threshold=0.3)
    score = found[b.id][1]
    assert found[b.id][0] == a.id and 0.3 <= score < 1
    assert contaminated_pairs([a], [b], threshold=min(1.0, score + 0.05)) == {}


def test_run_filters_records_a_decision_per_pair_and_stage(tmp_path):
    pairs = [pair("Explain capacity.", "It returns the capacity."), pair("Explain it.", "TODO")]
    store = store_with(tmp_path, pairs)
    report = run_filters(store)
    rows = store.conn.execute(
        "SELECT stage, COUNT(*), SUM(kept) FROM decisions GROUP BY stage"
    ).fetchall()
    by_stage = {stage: (n, kept) for stage, n, kept in rows}
    assert by_stage["filter.empty_output"] == (2, 1)
    assert by_stage["filter.near_duplicate"] == (1, 1)  # the dropped pair is not shown again
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
    assert decisions["filter.empty_output"][1].reason.startswith("empty or placeholder output")


def test_the_judge_scores_through_an_ollama_server_and_keeps_the_score(tmp_path):
    import re

    from dataprep.generate.llm import LLMOptions, parse_llm_spec
    from tests.ollama_harness import Harness, scripted

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
    assert judge_scores(store) == {good.id: 90, bad.id: 20}
    assert re.match(r"judge score 20 < 50", store.dropped()[bad.id].reason)
    with Harness(scripted([], default="unused")) as h:  # cached: nothing is asked again
        llm = parse_llm_spec("ollama:smollm2", host=h.url, options=LLMOptions(temperature=0))
        run_filters(store, FilterConfig(judge="ollama:smollm2"), judge=llm)
        assert h.calls == 0 and calls == 2


def test_code_cloned_into_many_files_still_collapses():
    # a clone in a dozen files is not "template boilerplate": only instruction wording is
    code = ROOM_CODE.replace(
        "return Math",
        'log.info("capacity for {} guests", guests);\n'
        "    audit.record(type, guests, maxGuests);\n    return Math",
    )
    clones = [
        pair(
            f"Write the method capacity of Room{i}.",
            code,
            task="method.code",
            source=unit(path=f"m{i}/Room{i}.java", type_name=f"Room{i}"),
        )
        for i in range(12)
    ]
    dropped = near_duplicate_groups(clones)
    assert len(dropped) == 11 and set(dropped.values()) == {min(p.id for p in clones)}


def _variants(n: int):
    """n method pairs, each a small edit of ROOM_CODE or of a few other bodies."""
    out = []
    for i in range(n):
        code = ROOM_CODE.replace("maxGuests", f"max{i % 3}")
        if i % 5 == 0:
            code = f'public void m{i}() {{ log("{i} {i * 7}"); }}'
        task = "method.code" if i % 2 else "method.name"
        out.append(pair(f"Write method {i} of Room.", code, task=task, source=unit(name=f"m{i}")))
    return out


def test_signatures_equal_datasketch_minhashes():
    from datasketch import MinHash

    from dataprep.filters import content_shingles, signatures

    sets = [*content_shingles(_variants(12)), set(), {"one"}]
    sigs = signatures(sets, 64)
    for row, shingle_set in zip(sigs, sets, strict=True):
        mh = MinHash(num_perm=64, seed=1)
        mh.update_batch([s.encode("utf-8") for s in shingle_set])
        assert row.tolist() == mh.hashvalues.tolist()


def test_content_shingles_equal_the_shingles_of_the_whole_text():
    from dataprep.filters import content_shingles, pair_text

    short = pair("Name it.", "x", input="int a;")
    pairs = [*_variants(6), short, pair("One two three four five six", "seven")]
    for p, sh in zip(pairs, content_shingles(pairs, max_df=1.0, min_df=10**6), strict=True):
        assert sh == shingles(pair_text(p))  # nothing is common: the full text's shingles


@pytest.mark.parametrize("scope", ["task", "all"])
def test_near_duplicates_are_the_ones_datasketch_lsh_finds(scope):
    from datasketch import MinHashLSH

    from dataprep.filters import _lsh_params, content_shingles, minhashes, preference

    pairs = _variants(40)
    ordered = sorted(pairs, key=preference)
    sets = content_shingles(ordered)
    lsh = MinHashLSH(num_perm=256, params=_lsh_params(0.5, 256))
    kept, expected = {}, {}
    for p, sh, mh in zip(ordered, sets, minhashes(sets, 256), strict=True):
        key = p.task if scope == "task" else ""
        match = next(
            (
                o
                for o in sorted(lsh.query(mh))
                if kept[o][0] == key and jaccard(sh, kept[o][1]) >= 0.7
            ),
            None,
        )
        if match:
            expected[p.id] = match
        else:
            lsh.insert(p.id, mh)
            kept[p.id] = (key, sh)
    assert expected  # the variants do collapse
    assert near_duplicate_groups(pairs, scope=scope) == expected


def test_an_incremental_run_reuses_per_pair_verdicts(tmp_path, monkeypatch):
    from dataprep import filters

    pairs = [*_variants(10), pair("Explain it.", "TODO")]
    store = store_with(tmp_path, pairs)
    first = run_filters(store)
    calls = []
    original = filters.REGISTRY["refusal"]
    spy = filters.FilterSpec(
        original.name,
        original.description,
        original.settings,
        check=lambda p, ctx: calls.append(p.id) or original.check(p, ctx),
    )
    monkeypatch.setitem(filters.REGISTRY, "refusal", spy)
    again = run_filters(store)
    assert calls == [] and again.to_dict()["dropped"] == first.to_dict()["dropped"]
    extra = pair("Explain capacity.", "Sorry, I cannot help with that.")
    store.put_pairs([extra])
    report = run_filters(store)
    assert calls == [extra.id] and report.dropped["refusal"] == 1  # only the new pair
    run_filters(store, FilterConfig(refusal_max_words=3))  # other settings: all again
    assert len(calls) == 1 + report.stages[2]["in"]
    rows = store.conn.execute("SELECT COUNT(*) FROM filter_cache").fetchone()[0]
    assert rows == len(store.pairs())  # stale verdicts are forgotten
