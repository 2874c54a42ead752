"""`dataprep balance --by label` on the fixture run, and `--fill method.is_test` through the
official ollama client against the local harness: the LLM writes test methods (the short
label), the filters check them like any other pair, and the labels hit their targets."""

import json
from collections import Counter

import pytest
from factories import pair, store_with
from ollama_harness import Harness, scripted
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.store import Store

NEW_TESTS = [  # what the scripted LLM answers, in order: four good, one broken, one not a test
    "```java\n@Test\nvoid cancelTwice_keepsTheFirstCancellation() {\n"
    "    Booking booking = service.createBooking(request(2));\n"
    "    service.cancelBooking(booking.getId());\n"
    "    assertThrows(IllegalStateException.class, () -> service.cancelBooking(booking.getId()));\n"
    "}\n```",
    "@ParameterizedTest\n@ValueSource(ints = {0, -1, 7})\n"
    "void capacityOutOfRange_isRejected(int n) {\n"
    "    assertThrows(IllegalArgumentException.class,\n"
    '        () -> new Room("12", RoomType.SINGLE, n));\n}',
    "@Test\npublic void money_roundsHalfUp() {\n"
    '    Money price = Money.of(new BigDecimal("10.005"), "EUR");\n'
    '    assertEquals(new BigDecimal("10.01"), price.getAmount());\n}',
    "@RepeatedTest(3)\nvoid tokens_areNeverReused() {\n"
    "    Set<String> seen = new HashSet<>();\n"
    "    for (int i = 0; i < 50; i++) {\n"
    '        assertTrue(seen.add(tokenService.issue("guest" + i)));\n    }\n}',
    "@Test\nvoid broken( {\n    assertTrue(;\n}",
    "public int nightsBetween(LocalDate from, LocalDate to) {\n"
    "    return (int) ChronoUnit.DAYS.between(from, to);\n}",
]


def _invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def out(hotel_out):
    """A private copy of the fixture run (each test balances its own)."""
    return hotel_out


def _kept_labels(out, before_balance: bool = False) -> Counter:
    """Labels of the pairs balancing kept (or of those the filters kept, before any
    balancing). Decontamination's drops come after balancing and are not counted: most are
    the held-out files' pairs withheld from every split, redone by the next export."""
    with Store.open(out, create=False) as store:
        dropped = {k: d for k, d in store.dropped().items() if d.stage != "decontaminate"}
        if before_balance:
            dropped = {k: d for k, d in dropped.items() if d.stage != "balance"}
        return Counter(p.label or "(none)" for p in store.pairs() if p.id not in dropped)


def _balance_lines(output: str) -> dict[str, tuple[int, int]]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Balanced by label"))
    rows = {}
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        value, before, _, after = line.split()
        rows[value] = (int(before), int(after))
    return rows


def test_balance_by_label_evens_yes_and_no_and_leaves_unlabelled_pairs(out):
    before = _kept_labels(out, before_balance=True)
    assert before["yes"] == 16 and before["no"] > 3 * before["yes"]  # the fixture's tests
    result = _invoke("balance", "--out", out, "--by", "label")
    assert result.exit_code == 0, result.output
    rows = _balance_lines(result.output)
    assert rows == {
        "(none)": (before["(none)"], before["(none)"]),
        "no": (before["no"], 16),
        "yes": (16, 16),
    }
    assert _kept_labels(out) == {"(none)": before["(none)"], "no": 16, "yes": 16}
    report = json.loads((out / "report.json").read_text())
    assert report["balance"]["by"] == "label" and report["balance"]["after"]["no"] == 16
    assert report["distributions"]["before_balance"]["label"]["no"] == before["no"]
    assert report["distributions"]["after_balance"]["label"] == {
        "(none)": before["(none)"], "no": 16, "yes": 16
    }  # fmt: skip
    page = (out / "report.html").read_text()
    assert "Balanced by label (seed 0)." in page and 'aria-label="pairs per label"' in page


@pytest.mark.parametrize(("weights", "ratio"), [("yes=1,no=2", 2), ("no=3", 3)])
def test_weighted_labels_hit_their_targets_within_rounding(out, weights, ratio):
    result = _invoke("balance", "--out", out, "--by", "label", "--weights", weights, "--no-report")
    assert result.exit_code == 0, result.output
    kept = _kept_labels(out)
    assert kept["yes"] == 16 and abs(kept["no"] - ratio * 16) < 1


def test_fill_asks_the_llm_for_tests_and_checks_them_like_any_other_pair(out):
    before = _kept_labels(out, before_balance=True)
    prompts: list[str] = []
    answers = iter(NEW_TESTS)

    def write_a_test(_match, messages):
        prompts.append(messages[-1]["content"])
        return next(answers)

    script = scripted([(r"correct answer is exactly: yes\n", write_a_test)])
    with Harness(script) as h:
        result = _invoke(
            "balance", "--out", out, "--by", "label", "--fill", "method.is_test",
            "--llm", "ollama:smollm2", "--llm-host", h.url, "--max-new", len(NEW_TESTS),
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Output-first for method.is_test: 5 new pairs (yes +5)" in result.output
    assert len(prompts) == 6  # asked for the short label only, with an example that has it
    # the example is shown as written (annotations included): the new input must carry its own
    assert all("yes or no" in p and "\n\nIts answer: yes\n" in p for p in prompts)
    assert all("Example input:\n@Test" in p for p in prompts)
    with Store.open(out, create=False) as store:
        new = store.pairs(generator="output_first")
        dropped = store.dropped()
    assert {(p.label, p.output, p.task) for p in new} == {("yes", "yes", "method.is_test")}
    reasons = sorted(dropped[p.id].reason for p in new if p.id in dropped)
    assert reasons == ["code block 1 of the input does not parse as Java"]
    kept_new = [p for p in new if p.id not in dropped]
    # stored without the annotations that gave the answer away, like the template pairs
    assert len(kept_new) == 4 and not any("@Test" in p.input for p in kept_new)
    # the labels hit their target: the filled yes count, and no cut down to it
    rows = _balance_lines(result.output)
    assert rows["yes"] == (16 + 4, 16 + 4) and rows["no"] == (before["no"], 16 + 4)
    assert _kept_labels(out) == {"(none)": before["(none)"], "no": 20, "yes": 20}
    report = json.loads((out / "report.json").read_text())
    assert report["output_first"]["generated"] == {"yes": 5}
    assert report["output_first"]["mismatched"] == 1
    assert report["distributions"]["after_balance"]["generator"]["output_first"] == 4


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("a=inf", "--weights a=inf: a weight is 0 or a number from 1e-06 to 1e+06, e.g. a=2"),
        ("a=1e400", "--weights a=1e400: a weight is 0 or a number from 1e-06 to 1e+06, e.g. a=2"),
        ("a=nan", "--weights a=nan: a weight is 0 or a number from 1e-06 to 1e+06, e.g. a=2"),
        ("a=-2", "--weights a=-2: a weight is 0 or a number from 1e-06 to 1e+06, e.g. a=2"),
        ("a=x", "--weights 'a=x': write VALUE=WEIGHT pairs, e.g. a=1,b=2, or 'uniform'"),
        ("a=1,a=2", "--weights names 'a' twice: give each value one weight"),
        (
            "a=0,b=0",
            "--weights gives every task weight 0, which would drop every pair: "
            "give at least one value a positive weight",
        ),
        ("a=1,zz=2", "--weights names 'zz', which is not a task of the kept pairs: use a, b"),
    ],
)
def test_bad_weights_are_one_line_and_change_nothing(tmp_path, weights, message):
    pairs = [
        pair(f"Q {t} {i}?", f"A {t} {i}.", task=t)
        for t, n in (("a", 5), ("b", 3))
        for i in range(n)
    ]
    store_with(tmp_path, pairs).close()
    out = tmp_path / "out"
    result = _invoke("balance", "--out", out, "--weights", weights)
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"Error: {message}"]
    with Store.open(out, create=False) as store:
        assert store.dropped() == {} and store.get_meta("balance_report") is None
    assert not (out / "report.html").exists()


def test_unknown_weights_name_the_values_of_the_chosen_column(tmp_path):
    pairs = [pair("Q?", "A.", label="yes"), pair("R?", "B.", label="no"), pair("S?", "C.")]
    store_with(tmp_path, pairs).close()
    result = _invoke("balance", "--out", tmp_path / "out", "--by", "label", "--weights", "Yes=2")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: --weights names 'Yes', which is not a label of the kept pairs: use no, yes"
    ]
