"""dataprep.quality: each detector on small hand-written rows, and the report's section."""

import json

import pytest
from factories import pair, unit

from dataprep.quality import (
    MEASURES,
    answerable,
    declares,
    family_of,
    measure_quality,
    non_doc_reason,
    shows_test_cue,
    summary_line,
    text_kind,
    undedented,
)
from dataprep.quality.goals import Goal

MAIN = "shop/src/main/java/com/example/shop/Cart.java"
TEST = "shop/src/test/java/com/example/shop/CartTest.java"


def row(instruction="Show the method add of Cart.", output="x", input="", **kw):
    """A row as the export writes it (only the columns quality reads)."""
    out = {
        "id": kw.pop("id", f"r{abs(hash((instruction, input, output))) % 10**8}"),
        "instruction": instruction,
        "input": input,
        "output": output,
        "task": "method.code",
        "path": MAIN,
        "unit_kind": "method",
        "unit_id": "u1",
        "label": None,
    }
    out.update(kw)
    return out


def measure(rows, units=None):
    return measure_quality(rows, units)["measures"]


# --- code or prose ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Returns the total of the cart, in euros, or zero when it is empty.", "prose"),
        ("Adds an item.", "prose"),
        ("public int total() {\n    return sum;\n}", "code"),
        ("int size();", "code"),
        ("@Test\nvoid adds() {\n    cart.add(1);\n}", "code"),
        ("Outgoing(String to, String body)", "code"),
        ("void book(String guest,\n          int nights,\n          boolean paid)", "code"),
        ("public class Suite\n    extends Room\n    implements Bookable", "code"),
        (
            "Stay(Room room, LocalDate from,\n     int nights, int guests,\n     boolean paid)",
            "code",
        ),
        (
            "void visit(\n    final String name,\n    final int size,  // bytes\n    Label end)",
            "code",
        ),
        (
            "abstract int count\n    (State state, List<Room> rooms)\n    throws IOException;",
            "code",
        ),
        ("Apples, pears and plums,\nall of them ripe,\nare sold here.", "prose"),
        ('PAID("paid and shipped to the customer")', "code"),
        ("- `public int total()`\n- `public void add(Item item)`", "code"),
        ("/**\n * Adds an item.\n * @param item the item\n */", "prose"),
        (
            "# Usage\n\nCall `add` for each item, then `total`.\n\n```java\ncart.add(x);\n```",
            "prose",
        ),
        ("Returns the (possibly expanded) keystore location, or null.", "prose"),
        ("Set header(s) on the given connection, once.", "prose"),
        ("The hashCode() for this object is that of its name.", "prose"),
        ("public void foo (int a)", "code"),
        ("compiler.err.cant.read.file=\\\n    error reading source file {0}: {1}", "code"),
        ("server.port = 8080", "code"),
        ("add", "short"),
        ("com.example.shop", "short"),
        ("yes", "short"),
    ],
)
def test_text_kind(text, kind):
    assert text_kind(text) == kind


# --- undedented code --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "public int total() {\n        return sum;\n    }",  # the file's indentation kept
        "@Override\n    public String toString() {\n        return name;\n    }",
        "/**\n     * Adds an item.\n     */",  # a doc comment as it sits in a class
        "Cart() {\n    }\n\nCart(int n) {\n        this.n = n;\n    }",  # two constructors
        "@Autowired\n    private Cart cart;",
    ],
)
def test_undedented_code_is_found(text):
    assert undedented(text)


@pytest.mark.parametrize(
    "text",
    [
        "public int total() {\n    return sum;\n}",
        "public int total() {\n    return sum;\n\n}",
        "/**\n * Adds an item.\n */",
        "public Cart(int size,\n        String owner)",  # a continuation line
        "public record Item(\n        String name,\n        int price)",
        '@RestController\n@RequestMapping("/cart")\npublic class CartController',
        "int total();",
    ],
)
def test_dedented_code_and_continuations_pass(text):
    assert not undedented(text)


def test_undedented_share_counts_rows_with_multi_line_code_in_output_or_input():
    rows = [
        row(output="public int total() {\n        return sum;\n    }", id="bad"),
        row(output="public int total() {\n    return sum;\n}", id="good"),
        row(
            "Name this method.",
            "total",
            input="int total() {\n        return sum;\n    }",
            task="method.name",
            id="bad-input",
        ),
        row(output="int total();", id="one-line"),
    ]
    m = measure(rows)["undedented"]
    assert (m["count"], m["of"], m["passed"]) == (2, 3, False)
    assert {x["id"]: x["why"] for x in m["examples"]} == {"bad": "output", "bad-input": "input"}


# --- explanations without prose ---------------------------------------------------------


def test_explanation_answered_with_code_is_a_defect_and_with_prose_is_not():
    rows = [
        row("How does the method add of Cart work?", "void add(Item i) {\n    items.add(i);\n}"),
        row("How is newRequest() implemented in Connection?", "Connection newRequest();"),
        row("Explain what total does in Cart.", "Returns the sum of the prices of all items."),
        row("What does the method add of Cart do?", "Adds an item to the cart."),
        row("Show the method add of Cart.", "void add(Item i) {\n    items.add(i);\n}"),
        row("How is the method add of Cart declared?", "void add(Item i)"),
    ]
    m = measure(rows)["explanation_without_prose"]
    assert (m["count"], m["of"]) == (2, 4)
    assert {x["why"] for x in m["examples"]} == {"code"}


# --- answerable from the prompt ---------------------------------------------------------


def test_label_give_away_in_the_input():
    yes = row(
        "Is this method a test? Answer yes or no.",
        "yes",
        input="@Test\nvoid adds() {\n    assertEquals(1, cart.size());\n}",
        task="method.is_test",
        label="yes",
        path=TEST,
    )
    hidden = {**yes, "id": "hidden", "input": "void adds() {\n    assertEquals(1, c.size());\n}"}
    no = row(
        "Is this method a test? Answer yes or no.",
        "no",
        input="int size() {\n    return n;\n}",
        task="method.is_test",
        label="no",
    )
    assert answerable(yes) == "label cue in the input"
    assert answerable(hidden) is None
    # `no` is given away by the cue's absence only when the task's `yes` rows show the cue
    assert answerable(no, {"method.is_test"}).startswith("label cue absent")
    assert answerable(no, set()) is None
    m = measure([yes, no])["answerable"]
    assert (m["count"], m["of"]) == (2, 2)
    assert measure([hidden, no])["answerable"]["count"] == 0


def test_test_cue():
    assert shows_test_cue("@org.junit.jupiter.api.Test\nvoid a() {}")
    assert shows_test_cue('@ParameterizedTest\n@CsvSource({"1"})\nvoid a(int x) {}')
    assert shows_test_cue("public void testAdd() {\n    add();\n}")
    assert not shows_test_cue("void add() {\n    testHelper();\n}")
    assert not shows_test_cue("void attestation() {}")


def test_name_answers_declared_in_the_input():
    name = row("What is this method called?", "total", input="int total() {\n    return n;\n}")
    masked = {**name, "input": "int ____() {\n    return n;\n}"}
    called = {**name, "input": "int sum() {\n    return total();\n}"}
    assert answerable(name) == "declared name in the input"
    assert answerable(masked) is None and answerable(called) is None
    header = row("Name this type.", "Cart", input="public final class Cart implements Basket")
    assert answerable(header) == "declared name in the input"
    assert declares("private int total = 0;", "total")
    assert not declares("return total;", "total")


def test_package_read_from_the_path_shown():
    shown = row(f"Which package does {MAIN} belong to?", "com.example.shop", task="file.package")
    hidden = {**shown, "instruction": "Which package is the class Cart in?"}
    other = {**shown, "output": "com.example.billing"}
    assert answerable(shown) == "the path shows it"
    assert answerable(hidden) is None and answerable(other) is None


def test_output_copied_from_the_prompt():
    copied = row("What does `int n = count(items);` assign to n?", "count(items)")
    assert answerable(copied) == "in the prompt"
    assert answerable(row("What does count return?", "items.size()")) is None
    # short literals are not matched inside longer words or numbers
    assert answerable(row("What is MAX_18 set to?", "18")) is None


# --- markup, annotations, U+FFFD, docs --------------------------------------------------


def test_markup_in_prose_answers():
    rows = [
        row("Explain add.", "Adds an item; see {@link Cart#remove} for the reverse.", id="link"),
        row("Explain add.", "<p>Adds an item to the cart and updates the total.", id="html"),
        row("Explain add.", "Adds an item.\n@param item the item to add", id="param"),
        row("Explain add.", "Adds an item to the cart, see `Cart.remove`.", id="clean"),
        row("Explain map.", "Returns a Map<K, V> or a List<T> of the items.", id="generics"),
        row("Explain add.", "Adds an item.<P>Old style, in capitals.", id="caps"),
        row("Show add.", "/** Adds. */\nvoid add(Item i) {\n    items.add(i);\n}", id="code"),
    ]
    m = measure(rows)["markup_in_prose"]
    assert (m["count"], m["of"]) == (4, 6)
    found = {x["id"]: x["why"] for x in m["examples"]}
    assert found == {"link": "{@link", "html": "<p>", "param": "@param"}  # three examples


@pytest.mark.parametrize(
    "output, bare", [("@Test", True), ("@Override\n@Test", True), ("@Deprecated()", True)]
)
def test_bare_annotation_answers(output, bare):
    m = measure([row("Which annotations are on add?", output, task="member.annotations")])
    assert m["bare_annotations"]["count"] == int(bare)


@pytest.mark.parametrize("output", ['@GetMapping("/cart")', "@Test\nvoid a() {}", "Test"])
def test_annotations_with_arguments_or_code_are_not_bare(output):
    m = measure([row("Which annotations are on add?", output, task="member.annotations")])
    assert m["bare_annotations"]["count"] == 0


def test_replacement_characters_anywhere_in_a_row():
    rows = [row(output="Caf\ufffd"), row(input="na\ufffdve"), row(output="Café")]
    m = measure(rows)["replacement_chars"]
    assert (m["value"], m["passed"], len(m["examples"])) == (2, False, 2)


@pytest.mark.parametrize(
    "path, reason",
    [
        ("docs/guide.md", None),
        ("README.md", None),
        ("src/test/resources/fixture.md", "test resource"),
        ("src/test/java/CartTest.approved.txt", "approval file"),
        ("src/main/resources/banner.txt", "banner"),
        ("LICENSE", "licence text"),
        ("NOTICE.txt", "licence text"),
        ("changelog.d/123.bugfix.md", "changelog fragment"),
        ("CHANGELOG.md", None),
    ],
)
def test_non_doc_reason(path, reason):
    assert non_doc_reason(path) == reason


def test_doc_rows_from_non_doc_files_are_counted():
    rows = [
        row("Quote the licence.", "MIT License ...", task="doc.section", unit_kind="doc_section",
            path="LICENSE"),
        row("What does the guide say?", "Install it.", task="doc.section",
            unit_kind="doc_section", path="docs/guide.md"),
    ]  # fmt: skip
    m = measure(rows)["non_doc_docs"]
    assert (m["value"], m["of"], m["examples"][0]["why"]) == (1, 2, "licence text")


# --- families, test trivia, coverage ----------------------------------------------------


@pytest.mark.parametrize(
    "task, family",
    [
        ("method.code", "code"),
        ("method.explain", "explanation"),
        ("method.is_test", "labels"),
        ("member.owner", "names"),
        ("test.write", "tests"),
        ("method.usage", "usage"),
        ("type.callers", "relations"),
        ("config.key", "configuration"),
        ("changelog.version", "changelog"),
        ("zzz.unknown", "other"),
    ],
)
def test_family_of(task, family):
    assert family_of(task) == family


def test_test_trivia_and_family_shares():
    rows = [
        row("Which annotations are on adds?", "@Test", task="member.annotations", path=TEST),
        row("Write a test for add.", "@Test\nvoid adds() {\n}", task="test.write", path=TEST),
        row("Explain add.", "Adds an item to the cart.", task="method.explain"),
        row("How does add work?", "void add() {\n    n++;\n}", task="method.explain"),
    ]
    q = measure_quality(rows)
    trivia = q["measures"]["test_trivia"]
    assert (trivia["count"], trivia["of"]) == (1, 4)
    # an explanation answered with code is code recall
    assert {f: v["rows"] for f, v in q["families"].items()} == {
        "annotations": 1,
        "tests": 1,
        "explanation": 1,
        "code": 1,
    }
    # by rows, ties by name: the table does not depend on the order rows come in
    assert q["measures"]["families"]["families"] == ["explanation", "tests"]
    assert measure_quality(rows[::-1])["families"] == q["families"]


def _unit(name, kind="method", path=MAIN, modifiers=("public",), parent="com.example.shop.Cart"):
    qualified = f"{parent}.{name}" if parent else f"com.example.shop.{name}"
    return unit(
        "", name, path=path, id=f"id-{name}", kind=kind, qualified_name=qualified,
        start_line=1, end_line=3, repo="shop", modifiers=list(modifiers), parent=parent,
        signature=None,
    )  # fmt: skip


def test_coverage_of_main_code_methods_and_types():
    units = [
        _unit("Cart", kind="class", parent=None),
        _unit("add"),
        _unit("total"),
        _unit("size"),
        _unit("helper", modifiers=("private",)),  # private: not counted
        _unit("adds", path=TEST),  # test code: not counted
        _unit("run", parent="com.example.shop.Cart$1"),  # anonymous class: not counted
    ]
    rows = [
        row("Explain add.", "Adds an item to the cart.", task="method.explain", unit_id="id-add"),
        row("Show total.", "int total() {\n    return n;\n}", unit_id="id-total"),
        row("Show size.", "int size();", unit_id="id-size"),  # one line of code: not knowledge
        row("Who owns add?", "com.example.shop.Cart", task="member.owner", unit_id="id-Cart"),
    ]
    m = measure(rows, units)["coverage"]
    assert (m["count"], m["of"], m["value"], m["passed"]) == (2, 4, 0.5, False)
    assert [x["name"] for x in m["examples"]] == [
        "com.example.shop.Cart",
        "com.example.shop.Cart.size",
    ]
    assert m["by_kind"] == {
        "class": {"covered": 0, "total": 1},
        "method": {"covered": 2, "total": 3},
    }


def test_every_measure_has_a_value_a_goal_a_status_and_examples():
    q = measure_quality([row(output="@Test", task="member.annotations")], [])
    assert list(q["measures"]) == list(MEASURES)
    for m in q["measures"].values():
        assert {"title", "value", "display", "count", "of", "goal", "passed", "examples"} <= set(m)
    assert q["measures"]["bare_annotations"]["display"] == "100%"
    assert summary_line(q).startswith(f"Quality: {q['met']} of 10 goals met (")
    assert "bare annotations 100% (goal ≤ 1%)" in summary_line(q)


def test_pairs_and_dicts_give_the_same_figures():
    pairs = [
        pair("How does capacity work in Room?", "int capacity() {\n        return n;\n    }"),
        pair("Explain capacity.", "Returns how many guests fit.", task="method.explain"),
    ]
    a = measure_quality(pairs)
    b = measure_quality([json.loads(p.model_dump_json()) for p in pairs])
    a.pop("seconds"), b.pop("seconds")
    assert a == b


# --- the report -------------------------------------------------------------------------

CART = """package com.example.shop;

/** A shopping cart. */
public class Cart {
    private int n;

    /**
     * Adds an item.
     *
     * @param price the price in cents
     */
    public void add(int price) {
        n += price;
    }

    public int total() {
        return n;
    }
}
"""
CART_TEST = """package com.example.shop;

import org.junit.jupiter.api.Test;

class CartTest {
    @Test
    void addsPrices() {
        Cart cart = new Cart();
        cart.add(3);
    }
}
"""


def test_report_of_a_pipeline_run_has_the_quality_section(tmp_path):
    from dataprep.pipeline import RunConfig, run_pipeline

    repo = tmp_path / "shop"
    (repo / "src/main/java/com/example/shop").mkdir(parents=True)
    (repo / "src/test/java/com/example/shop").mkdir(parents=True)
    (repo / "src/main/java/com/example/shop/Cart.java").write_text(CART)
    (repo / "src/test/java/com/example/shop/CartTest.java").write_text(CART_TEST)
    (repo / "README.md").write_text("# Shop\n\nA cart that adds prices.\n")
    out = tmp_path / "out"
    run_pipeline(RunConfig(path=repo, out=out, jobs=1))
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    quality = data["quality"]
    assert list(quality["measures"]) == list(MEASURES)
    assert quality["rows"] == data["kept"] > 0
    assert quality["goals"] == 10 and 0 <= quality["met"] <= 10
    assert quality["measures"]["coverage"]["of"] == 3  # Cart, add, total
    assert sum(v["rows"] for v in quality["families"].values()) == quality["rows"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Quality</h2>" in html
    for title, _goal in MEASURES.values():
        assert title.replace("≥", "&ge;") in html or title in html


def test_quality_html_escapes_the_examples():
    from dataprep.report_html import _quality_html

    q = measure_quality([row("Explain add.", "<script>alert(1)</script> adds an item to a cart.")])
    assert q["measures"]["markup_in_prose"]["count"] == 1
    html = "\n".join(_quality_html(q))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; adds an item" in html
    assert "<td>raw markup in prose answers</td><td>100%</td>" in html


@pytest.mark.parametrize(
    "text",
    [
        "int a = 1;\n\nfoo bar baz qux\nb();",
        "Returns the size.\nint size();\nSee the list.\nvoid clear();\nAnd more words here.",
        "\f;\nsome words here and there\n\x0b x;",  # form feeds and vertical tabs: blank?
        "a;\n \n\t\nb;\nThe end of it all.",
        "one two three four\nfive six seven eight\nnine();",
        "x\n" * 30 + "done();",
    ],
)
def test_text_kind_tries_lines_until_it_knows(text):
    """The lines are tried one at a time, stopping once the answer is known: the same
    answer as counting every match of CODE_LINE_RE over the text."""
    from dataprep.quality import text as qt

    lines = len(qt.NONBLANK_RE.findall(text.strip()))
    code = len(qt.CODE_LINE_RE.findall(text.strip()))
    assert qt._mostly_code(text.strip(), lines) == bool(code and code * 2 >= lines)


@pytest.mark.parametrize(
    ("op", "target", "value", "shown"),
    [
        (">=", 0.95, 0.9462, "94.6%"),  # a missed goal never reads as its target
        (">=", 0.95, 0.9496, "94.96%"),
        (">=", 0.95, 0.951, "95%"),
        ("<=", 0.05, 0.0502, "5.02%"),
        ("<=", 0.05, 0.049, "4.9%"),
        ("<=", 0.05, 0.2, "20%"),
    ],
)
def test_a_value_is_shown_apart_from_the_goal_it_misses(op, target, value, shown):
    assert Goal(op, target).shown(value) == shown
