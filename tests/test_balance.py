"""Label balancing: targets within rounding, seeded downsampling, decisions, output-first."""

import json
import math
import re

import pytest
from factories import pair, store_with, unit

from dataprep.balance import (
    BalanceConfig,
    OutputFirstTask,
    balance_pairs,
    column_value,
    distributions,
    fill_labels,
    parse_weights,
    report_columns,
    run_balance,
    targets,
    trivia_targets,
)
from dataprep.errors import ConfigError
from dataprep.filters import run_filters


def pairs_by(counts: dict[str, int], column: str = "task"):
    out = []
    for value, n in counts.items():
        for i in range(n):
            kwargs = {"task": value} if column == "task" else {"task": "t", column: value}
            out.append(pair(f"Question {value} {i}?", f"Answer {value} {i}.", **kwargs))
    return out


def test_targets_examples():
    assert targets({"a": 100, "b": 10}, weights="uniform") == {"a": 10, "b": 10}
    assert targets({"a": 100, "b": 10}, cap=50) == {"a": 50, "b": 10}
    assert targets({"a": 100, "b": 10, "c": 40}, weights={"a": 2}) == {"a": 20, "b": 10, "c": 10}
    assert targets({"a": 100, "b": 10}, weights={"a": 1, "b": 0}) == {"a": 100, "b": 0}
    assert targets({"a": 100, "b": 10, "c": 20}, median_cap=2.0) == {"a": 40, "b": 10, "c": 20}
    assert targets({"a": 100, "b": 10}) == {"a": 100, "b": 10}


@pytest.mark.parametrize("seed", range(5))
def test_weighted_targets_are_hit_within_rounding(seed):
    import random

    rng = random.Random(seed)
    counts = {f"v{i}": rng.randint(5, 300) for i in range(6)}
    weights = {v: rng.choice([0.5, 1, 2, 3]) for v in counts}
    result = targets(counts, weights=weights)
    k = min(counts[v] / weights[v] for v in counts)
    for v in counts:
        assert result[v] <= counts[v]
        assert abs(result[v] - k * weights[v]) < 1  # proportional to the weights, within rounding
    total = sum(result.values())
    for v in counts:  # each value's share is its weight's share, within one pair
        assert abs(result[v] - total * weights[v] / sum(weights.values())) <= len(counts)


def test_balance_pairs_hits_uniform_targets_and_caps():
    pairs = pairs_by({"a": 30, "b": 12, "c": 7})
    kept, dropped, report = balance_pairs(pairs, BalanceConfig(by="task", weights="uniform"))
    assert report.after == {"a": 7, "b": 7, "c": 7} and len(kept) == 21 and len(dropped) == 28
    kept, _, report = balance_pairs(pairs, BalanceConfig(by="task", cap=10))
    assert report.after == {"a": 10, "b": 10, "c": 7}
    assert {column_value(p, "task") for p in kept} == {"a", "b", "c"}


def test_downsampling_is_seeded():
    pairs = pairs_by({"a": 40, "b": 10})
    config = BalanceConfig(by="task", cap=10, seed=1)
    first = [p.id for p in balance_pairs(pairs, config)[0]]
    assert first == [p.id for p in balance_pairs(list(reversed(pairs)), config)[0]]
    other = [p.id for p in balance_pairs(pairs, BalanceConfig(by="task", cap=10, seed=2))[0]]
    assert first != other and len(first) == len(other) == 20


def test_columns_kind_label_module_and_missing_values():
    p = pair("q", "a", label="yes", module="booking")
    assert column_value(p, "kind") == "method"
    assert column_value(p, "label") == "yes"
    assert column_value(p, "module") == "booking"
    assert column_value(pair("q", "a"), "label") == "(none)"
    with pytest.raises(ConfigError, match="not a pair column"):
        column_value(p, "colour")


def test_parse_weights():
    assert parse_weights("a=1,b=2.5") == {"a": 1.0, "b": 2.5}
    assert parse_weights(" a = 0 , b=1e6") == {"a": 0.0, "b": 1e6}
    assert parse_weights("uniform") == "uniform"
    assert parse_weights(None) is None
    for bad in ("a", "a=x", "=1", "a=1,", "uniform,a=1"):
        with pytest.raises(ConfigError, match="VALUE=WEIGHT"):
            parse_weights(bad)


@pytest.mark.parametrize("number", ["inf", "1e400", "nan", "-1", "-inf", "1e7", "1e-7"])
def test_a_weight_out_of_range_names_the_range(number):
    with pytest.raises(ConfigError) as info:
        parse_weights(f"b=1,a={number}")
    assert str(info.value) == (
        f"--weights a={number}: a weight is 0 or a number from 1e-06 to 1e+06, e.g. a=2"
    )


def test_a_value_named_twice_is_refused():
    with pytest.raises(
        ConfigError, match=r"^--weights names 'a' twice: give each value one weight$"
    ):
        parse_weights("a=1,b=2,a=3")


def test_unknown_or_all_zero_weights_name_the_known_values():
    pairs = pairs_by({"a": 5, "b": 3})
    with pytest.raises(ConfigError) as info:
        balance_pairs(pairs, BalanceConfig(by="task", weights={"a": 1, "A": 2}))
    assert str(info.value) == "--weights names 'A', which is not a task of the kept pairs: use a, b"
    with pytest.raises(ConfigError) as info:
        balance_pairs(pairs, BalanceConfig(by="task", weights={"a": 0, "b": 0}))
    assert str(info.value) == (
        "--weights gives every task weight 0, which would drop every pair: "
        "give at least one value a positive weight"
    )
    # one value at 0 is a choice (drop that value), and unlisted values weigh 1
    assert balance_pairs(pairs, BalanceConfig(by="task", weights={"a": 0}))[2].after == {
        "a": 0, "b": 3
    }  # fmt: skip
    # by label, unlabelled pairs are not a value to weigh; a library caller is checked too
    labelled = pairs_by({"yes": 2, "no": 4}, column="label") + pairs_by({"t": 3})
    with pytest.raises(ConfigError, match=r"'\(none\)', which is not a label .*: use no, yes$"):
        balance_pairs(labelled, BalanceConfig(by="label", weights={"(none)": 1}))
    with pytest.raises(ConfigError, match=r"^--weights yes=inf: a weight is 0 or a number"):
        balance_pairs(labelled, BalanceConfig(by="label", weights={"yes": math.inf}))


def test_a_long_list_of_known_values_is_shortened():
    pairs = pairs_by({f"t{i:02d}": 1 for i in range(30)})
    with pytest.raises(ConfigError) as info:
        balance_pairs(pairs, BalanceConfig(by="task", weights={"zz": 1}))
    known = ", ".join(f"t{i:02d}" for i in range(20))
    assert str(info.value).endswith(f"use {known}, ... (30 in all)")


def test_run_balance_records_decisions_and_distributions(tmp_path):
    pairs = pairs_by({"yes": 12, "no": 3}, column="label")
    store = store_with(tmp_path, pairs)
    report = run_balance(store, BalanceConfig(by="label", weights="uniform", seed=0))
    assert report.before == {"no": 3, "yes": 12} and report.after == {"no": 3, "yes": 3}
    dropped = store.dropped()
    assert len(dropped) == 9 and {d.stage for d in dropped.values()} == {"balance"}
    reason = next(iter(dropped.values())).reason
    assert reason == "label=yes over its target 3 (12 available, seed 0)"
    assert report.distributions["after"]["task"] == {"t": 6}
    assert store.get_meta("balance_report")["after"] == {"no": 3, "yes": 3}
    # balancing again with a looser cap brings pairs back: only its own old verdicts are replaced
    assert run_balance(store, BalanceConfig(by="label", cap=100)).dropped == 0
    assert store.dropped() == {}


@pytest.mark.parametrize(
    "config",
    [
        BalanceConfig(by="label", weights="uniform", seed=1),
        BalanceConfig(by="module", cap=4, seed=2),
        BalanceConfig(by="kind", weights={"field": 2}, seed=3),
        BalanceConfig(by="task", trivia_share=0.25, seed=4),
    ],
    ids=["label", "module", "kind", "trivia"],
)
def test_run_balance_in_sql_decides_as_balance_pairs(tmp_path, config):
    # values counted in SQL (columns and JSON fields, missing and empty ones alike) drop the
    # same pairs with the same reasons as the pure function over the pairs themselves
    field = unit("int rooms;", "rooms", kind="field")
    method = unit()
    pairs = []
    for i in range(40):
        extra = {"label": ["yes", "no", None][i % 3], "module": ["a", "", None, "b"][i % 4]}
        task = ["member.owner", "method.explain", "member.signature"][i % 3]
        source = field if i % 5 == 0 else method
        pairs.append(pair(f"Q{i}?", f"A{i}.", task=task, source=source, **extra))
    store = store_with(tmp_path, pairs, [field, method])
    kept, dropped, expected = balance_pairs(pairs, config)
    report = run_balance(store, config)
    assert {pid: d.reason for pid, d in store.dropped().items()} == dropped and dropped
    expected.distributions = {
        "before": distributions(pairs, report_columns(config.by)),
        "after": distributions(kept, report_columns(config.by)),
    }
    assert report == expected


def test_run_balance_default_caps_only_trivia_tasks(tmp_path):
    # member.owner and member.signature are trivia; method.explain and method.code knowledge
    counts = {"method.explain": 80, "method.code": 120, "member.owner": 300, "member.signature": 40}
    store = store_with(tmp_path, pairs_by(counts))
    report = run_balance(store, seed=3)
    assert report.seed == 3
    assert report.targets == {
        "member.owner": 33, "member.signature": 33, "method.code": 120, "method.explain": 80,
    }  # fmt: skip
    trivia = report.after["member.owner"] + report.after["member.signature"]
    assert (
        trivia / sum(report.after.values())
        <= 0.25
        < (trivia + 2) / (sum(report.after.values()) + 2)
    )
    reason = next(d.reason for d in store.dropped().values())
    assert reason == "task=member.owner (a trivia task) over its target 33 (300 available, seed 3)"


def test_trivia_targets_keep_everything_under_the_share():
    assert trivia_targets({"method.code": 100, "member.owner": 10}, 0.25) == {
        "method.code": 100, "member.owner": 10,
    }  # fmt: skip
    assert trivia_targets({"member.owner": 10}, 0.25) == {"member.owner": 10}  # nothing else
    assert trivia_targets({"method.code": 9, "member.owner": 10}, 1.0)["member.owner"] == 10


def test_balancing_by_label_leaves_unlabelled_pairs_alone():
    pairs = pairs_by({"yes": 5, "no": 40}, column="label") + pairs_by({"a": 30})
    kept, dropped, report = balance_pairs(pairs, BalanceConfig(by="label", weights="uniform"))
    assert report.before == {"(none)": 30, "no": 40, "yes": 5}
    assert report.targets == report.after == {"(none)": 30, "no": 5, "yes": 5}
    assert len(kept) == 40 and len(dropped) == 35
    assert all(p.label == "no" for p in pairs if p.id in dropped)
    # a module without a name is a value like any other: only `label` is sparse
    by_module = pairs_by({"m": 9}, column="module") + pairs_by({"b": 3})
    assert balance_pairs(by_module, BalanceConfig(by="module", weights="uniform"))[2].after == {
        "(none)": 3, "m": 3
    }  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_label_targets_are_hit_within_rounding(seed):
    import random

    rng = random.Random(seed)
    counts = {"yes": rng.randint(3, 40), "no": rng.randint(41, 400), "maybe": rng.randint(5, 60)}
    weights = {"yes": rng.choice([1, 2]), "no": rng.choice([1, 2.5, 4]), "maybe": 0.5}
    pairs = pairs_by(counts, column="label") + pairs_by({"other": 25})
    config = BalanceConfig(by="label", weights=weights, seed=seed)
    kept, _, report = balance_pairs(pairs, config)
    got = {v: sum(1 for p in kept if p.label == v) for v in counts}
    k = min(counts[v] / weights[v] for v in counts)
    for v in counts:
        assert got[v] == report.after[v] <= counts[v]
        assert abs(got[v] - k * weights[v]) < 1  # within rounding of its weighted share
    assert sum(1 for p in kept if p.label is None) == 25


def test_output_first_format_output():
    assert OutputFirstTask.format_output("```java\nint x;\n```") == "int x;"
    assert OutputFirstTask.format_output("  plain  ") == "plain"


def test_output_first_fills_a_short_label_through_an_ollama_server(tmp_path):
    from ollama_harness import Harness, scripted

    from dataprep.generate.llm import parse_llm_spec

    question = "Is this method a test? Answer yes or no."
    methods = [
        unit(f"@Test\nvoid checks{i}() {{ assertEquals({i}, room.capacity({i})); }}", f"checks{i}")
        for i in range(4)
    ]
    prod = unit("public int rate() { return rate; }", "rate")
    labelled = [
        pair(question, "yes", m.code, task="method.is_test", source=m, label="yes") for m in methods
    ]
    labelled.append(pair(question, "no", prod.code, task="method.is_test", source=prod, label="no"))
    store = store_with(tmp_path, labelled, [*methods, prod])
    answers = iter(
        [
            "```java\npublic int nights() { return nights; }\n```",
            "public boolean isFree() { return free; }",
            "public void broken( {",
        ]
    )
    with Harness(scripted([(r"correct answer is exactly: no", lambda m, _: next(answers))])) as h:
        report = fill_labels(store, parse_llm_spec("ollama:smollm2", host=h.url), "method.is_test")
    assert report.before == {"no": 1, "yes": 4} and report.targets == {"no": 4, "yes": 4}
    assert report.generated == {"no": 3}
    new = store.pairs(generator="output_first")
    assert len(new) == 3 and {p.label for p in new} == {"no"} and {p.output for p in new} == {"no"}
    assert "public int nights() { return nights; }" in {p.input for p in new}
    filtered = run_filters(store)  # checked like any other pair: the broken input is dropped
    assert filtered.dropped["code_validity"] == 1
    reasons = [d.reason for d in store.dropped().values()]
    assert reasons == ["code block 1 of the input does not parse as Java"]
    after = run_balance(store, BalanceConfig(by="label", weights="uniform"))
    assert after.before == {"no": 3, "yes": 4} and after.after == {"no": 3, "yes": 3}


TEST_CLASS = """package com.example.hotel.room;

class RoomServiceTest {
    @Test
    void findFree_skipsBookedRooms() {
        assertEquals(List.of(room("2")), service.findFree(day()));
    }

    private Room room(String number) {
        return new Room(number, RoomType.SINGLE, 1);
    }

    private LocalDate day() {
        return LocalDate.of(2026, 1, 5);
    }

    private RoomService fresh() {
        return new RoomService(new InMemoryRooms());
    }
}
"""


def test_fill_labels_on_generated_pairs_reaches_the_targets(tmp_path):
    """The template generator labels a test class's methods; output-first asks the harness
    for tests (the short label); the filters check them; balancing then hits its targets."""
    from ollama_harness import Harness, scripted

    from dataprep.generate.llm import parse_llm_spec
    from dataprep.generate.templates import generate_template_pairs
    from dataprep.languages.java.slicer import slice_java

    path = "room/src/test/java/com/example/hotel/room/RoomServiceTest.java"
    units = slice_java(path, TEST_CLASS, "hotel-booking", None)[0]
    pairs = [p for p in generate_template_pairs(units) if p.task == "method.is_test"]
    assert sorted(p.label for p in pairs) == ["no", "no", "no", "yes"]
    store = store_with(tmp_path, pairs, units)
    answers = iter(
        [
            "@Test\nvoid findFree_onAnEmptyHotel_returnsEveryRoom() {\n"
            "    assertEquals(3, fresh().findFree(day()).size());\n}",
            "void notATest() { }",
        ]
    )
    script = scripted([(r"correct answer is exactly: yes\n", lambda m, _: next(answers))])
    with Harness(script) as h:
        report = fill_labels(store, parse_llm_spec("ollama:smollm2", host=h.url), "method.is_test")
    assert (report.before, report.targets) == ({"no": 3, "yes": 1}, {"no": 3, "yes": 3})
    # the second answer is not a test: checked on its code as written, it never becomes a pair
    assert report.generated == {"yes": 1} and report.mismatched == 1 and h.calls == 2
    assert store.get_meta("fill_report")["generated"] == {"yes": 1}
    (new,) = store.pairs(generator="output_first")
    assert new.input.startswith("void findFree_onAnEmptyHotel") and "@Test" not in new.input
    filtered = run_filters(store)
    assert filtered.kept == 5
    after = run_balance(store, BalanceConfig(by="label", weights="uniform"))
    assert after.before == {"no": 3, "yes": 2} and after.after == {"no": 2, "yes": 2}
    assert after.distributions["after"]["label"] == {"no": 2, "yes": 2}
    assert after.distributions["after"]["generator"] == {"output_first": 1, "template": 3}


def test_fill_labels_checks_the_weights_before_asking_the_llm(tmp_path):
    store = store_with(tmp_path, pairs_by({"yes": 2, "no": 4}, column="label"))
    for weights, message in (
        ({"maybe": 1}, "--weights names 'maybe', which is not a label of the kept pairs: use no, "),
        ({"yes": 0, "no": 0}, "--weights gives every label weight 0"),
    ):
        with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
            fill_labels(store, llm=None, task="t", weights=weights)


def test_fill_labels_needs_labelled_pairs(tmp_path):
    store = store_with(tmp_path, [pair("q", "a")])
    with pytest.raises(ConfigError, match="carries a label"):
        fill_labels(store, llm=None, task="method.explain")


def test_balance_report_is_json_ready(tmp_path):
    store = store_with(tmp_path, pairs_by({"a": 3, "b": 2}))
    report = run_balance(store, BalanceConfig(by="task", weights={"a": 1, "b": 1}))
    assert json.loads(json.dumps(report.to_dict()))["after"] == {"a": 2, "b": 2}
    assert math.isclose(sum(report.after.values()), 4)
