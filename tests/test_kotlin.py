"""Kotlin, the second language: the slicer on a mixed Java/Kotlin Gradle project (golden
units, exact code and spans, every kind), and the language-neutral template tasks on it."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import FIXTURES, check_golden

from dataprep import languages
from dataprep.generate import java_facts as jf
from dataprep.generate import templates as tg
from dataprep.languages.kotlin.facts import signature_of, skip_annotations
from dataprep.languages.kotlin.slicer import normalize_type, slice_kotlin
from dataprep.slicing import slice_repo, walk

MIXED = FIXTURES / "kotlin-mixed"
MAIN = "src/main/kotlin/com/example/shop"
PKG = "com.example.shop"


@pytest.fixture(scope="module")
def mixed():
    return slice_repo(MIXED)


@pytest.fixture(scope="module")
def pairs(mixed):
    return tg.generate_template_pairs(mixed.units)


def one(result, qualified_name: str, kind: str | None = None):
    found = [
        u for u in result.units if u.qualified_name == qualified_name and kind in (None, u.kind)
    ]
    assert len(found) == 1, [(u.kind, u.signature) for u in found]
    return found[0]


# -- the fixture ---------------------------------------------------------------------


def test_mixed_units_match_golden(mixed, update_golden):
    # the source units (Kotlin and Java); the README's sections are the doc slicer's
    text = "".join(u.model_dump_json() + "\n" for u in mixed.units if u.kind != "doc_section")
    check_golden("kotlin-mixed.units.jsonl", text, update_golden)


def test_mixed_summary(mixed):
    assert mixed.parse_errors == []
    assert dict(mixed.skipped) == {
        "build.gradle.kts": walk.UNSUPPORTED,
        "settings.gradle.kts": walk.UNSUPPORTED,
    }
    assert walk.UNSUPPORTED == "not Java, Kotlin or docs"
    languages_by_path = {u.path: u.language for u in mixed.units}
    assert languages_by_path[f"{MAIN}/Cart.kt"] == "kotlin"
    assert languages_by_path["src/main/java/com/example/shop/legacy/LegacyTaxTable.java"] == "java"
    assert languages_by_path["README.md"] == "markdown"
    kotlin = Counter(u.kind for u in mixed.units if u.language == "kotlin")
    assert kotlin == {
        "method": 28, "property": 22, "class": 9, "file": 6, "enum_constant": 3, "object": 5,
        "function": 3, "constructor": 1, "enum": 1, "interface": 1,
    }  # fmt: skip


def test_every_unit_is_exact_code_within_its_span(mixed):
    for unit in mixed.units:
        if unit.kind == "doc_section":
            continue
        lines = (MIXED / unit.path).read_text(encoding="utf-8").split("\n")
        span = "\n".join(lines[unit.start_line - 1 : unit.end_line])
        assert unit.code in span, (unit.qualified_name, unit.start_line, unit.end_line)
        assert unit.code.split("\n")[0] in span.split("\n")[0]
        assert unit.id == unit.make_id(
            unit.path, unit.kind, unit.qualified_name, unit.signature, unit.code
        )


def test_data_class_with_constructor_properties_and_companion(mixed):
    money = one(mixed, f"{PKG}.Money", "class")
    assert money.code == (
        'data class Money(val cents: Long, val currency: String = "EUR") : Comparable<Money>'
    )
    assert money.declaration == money.code + " {}"
    assert (money.start_line, money.end_line) == (14, 47)
    assert money.modifiers == ["data"] and money.implements == ["Comparable<Money>"]
    assert money.parameters == ["val cents: Long", 'val currency: String = "EUR"']
    assert money.javadoc.startswith("/**\n * An amount of money in minor units")
    currency = one(mixed, f"{PKG}.Money.currency", "property")
    assert (currency.code, currency.signature, currency.initializer, currency.parent) == (
        'val currency: String = "EUR"',
        "currency: String",
        '"EUR"',
        f"{PKG}.Money",
    )
    companion = one(mixed, f"{PKG}.Money.Companion", "object")
    assert companion.code == "companion object" and companion.modifiers == ["companion"]
    parse = one(mixed, f"{PKG}.Money.Companion.parse", "method")
    assert parse.signature == "parse(String, String)"
    assert parse.parameters == ["text: String", 'currency: String = "EUR"']
    assert parse.declaration == 'fun parse(text: String, currency: String = "EUR"): Money'
    assert parse.javadoc.startswith("/**\n         * Parses a decimal amount")
    const = one(mixed, f"{PKG}.Money.Companion.CENTS_PER_UNIT", "property")
    assert (const.code, const.modifiers, const.javadoc) == (
        "const val CENTS_PER_UNIT = 100",
        ["const"],
        "/** Minor units in one major unit. */",
    )


def test_members_functions_and_properties(mixed):
    times = one(mixed, f"{PKG}.Money.times", "method")
    assert (
        times.code == "operator fun times(quantity: Int): Money = Money(cents * quantity, currency)"
    )
    assert (times.modifiers, times.type, times.signature) == (["operator"], "Money", "times(Int)")
    is_zero = one(mixed, f"{PKG}.Money.isZero", "property")
    assert is_zero.code == "val isZero: Boolean\n        get() = cents == 0L"
    assert is_zero.declaration == "val isZero: Boolean"
    assert (is_zero.start_line, is_zero.end_line) == (27, 28)
    assert is_zero.javadoc == "/** True when the amount is exactly zero. */"
    status = one(mixed, f"{PKG}.Cart.status", "property")
    assert status.code == "var status: CartStatus = CartStatus.OPEN\n        private set"
    assert (status.type, status.initializer) == ("CartStatus", "CartStatus.OPEN")
    constructor = one(mixed, f"{PKG}.Cart.Cart", "constructor")
    assert constructor.code == "constructor(catalog: Catalog) : this(catalog, DEFAULT_REGION)"
    assert constructor.signature == "Cart(Catalog)"
    add = one(mixed, f"{PKG}.Cart.addItem", "method")
    assert (add.start_line, add.end_line) == (47, 55)
    assert add.code.startswith("fun addItem(sku: String, quantity: Int = 1): CartLine {")
    assert add.code.endswith("return line\n    }")


def test_extension_functions_and_properties_are_top_level(mixed):
    fmt = one(mixed, f"{PKG}.format", "function")
    assert (fmt.signature, fmt.parent, fmt.type) == ("Money.format()", None, "String")
    assert fmt.javadoc.startswith("/** Formats the amount with two decimals")
    # tree-sitter-kotlin reads this annotation as a statement beside the function: it is
    # still the function's (code, span, annotations, KDoc)
    total = one(mixed, f"{PKG}.sum", "function")
    assert total.code.startswith('@JvmName("sumOfMoney")\nfun Iterable<Money>.sum(): Money =')
    assert total.annotations == ['@JvmName("sumOfMoney")'] and total.start_line == 57
    assert total.signature == "Iterable<Money>.sum()"
    assert total.javadoc == "/** The sum of a list of amounts; zero for an empty list. */"
    units = one(mixed, f"{PKG}.units", "property")
    assert units.signature == "Money.units: BigDecimal" and units.parent is None
    lookup = one(mixed, f"{PKG}.lookup", "function")
    assert lookup.signature == "Catalog.lookup(String)" and lookup.end_line == 50


def test_interface_object_sealed_class_and_enum(mixed):
    catalog = one(mixed, f"{PKG}.Catalog", "interface")
    assert catalog.code == "interface Catalog"
    contains = one(mixed, f"{PKG}.Catalog.contains", "method")
    assert contains.code == "fun contains(sku: String): Boolean = find(sku) != null"
    memory = one(mixed, f"{PKG}.InMemoryCatalog", "object")
    assert (memory.code, memory.implements) == ("object InMemoryCatalog : Catalog", ["Catalog"])
    assert one(mixed, f"{PKG}.InMemoryCatalog.find", "method").modifiers == ["override"]
    lookup = one(mixed, f"{PKG}.Lookup", "class")
    assert lookup.modifiers == ["sealed"]
    found = one(mixed, f"{PKG}.Lookup.Found", "class")
    assert (found.code, found.extends, found.parent) == (
        "data class Found(val product: Product) : Lookup()",
        ["Lookup"],
        f"{PKG}.Lookup",
    )
    unavailable = one(mixed, f"{PKG}.Lookup.Unavailable", "object")
    assert unavailable.declaration == "object Unavailable : Lookup() {}"
    status = one(mixed, f"{PKG}.CartStatus", "enum")
    assert status.code == "enum class CartStatus(val label: String)"
    abandoned = one(mixed, f"{PKG}.CartStatus.ABANDONED", "enum_constant")
    assert (abandoned.signature, abandoned.type, abandoned.initializer) == (
        "ABANDONED: CartStatus",
        "CartStatus",
        '("abandoned")',
    )
    assert abandoned.javadoc == "/** Abandoned carts are kept for a week. */"
    inner = one(mixed, f"{PKG}.CartStatus.ABANDONED.isFinal", "method")
    assert inner.code == "override fun isFinal() = true"


def test_file_units(mixed):
    money = one(mixed, f"{MAIN}/Money.kt", "file")
    assert money.code.startswith('@file:JvmName("MoneyKt")\n\npackage com.example.shop')
    assert money.code.endswith("import java.math.RoundingMode")
    assert money.imports == ["java.math.BigDecimal", "java.math.RoundingMode"]
    assert money.annotations == ['@file:JvmName("MoneyKt")'] and money.package == PKG


def test_test_class_units_carry_what_test_tasks_need(mixed):
    test_path = "src/test/kotlin/com/example/shop/CartTest.kt"
    tests = [u for u in mixed.units if u.path == test_path and u.kind == "method"]
    assert [(u.name, jf.is_test_answer(u.annotations, u.name)) for u in tests] == [
        ("setUp", "no"),
        ("addItem_mergesLinesOfTheSameProduct", "yes"),
        ("addItem_rejectsUnknownSku", "yes"),
        ("removeItem_returnsFalseWhenAbsent", "yes"),
        ("total_addsTheRegionsTax", "yes"),
        ("`an empty cart cannot be checked out`", "yes"),
    ]
    assert all(jf.is_test_path(u.path) and u.parent == f"{PKG}.CartTest" for u in tests)
    assert jf.test_subject(test_path) == "Cart"


# -- the slicer on its own -------------------------------------------------------------


def test_local_declarations_and_object_expressions_are_not_units():
    text = (
        "class Outer {\n    fun f() {\n        class Local\n        val a = object : Runnable {\n"
        "            override fun run() {}\n        }\n        fun g() = 2\n    }\n\n"
        "    init {\n        println()\n    }\n}\n\ntypealias Cents = Long\n"
    )
    units, errors = slice_kotlin("A.kt", text, "r", None)
    assert errors == [] and [u.qualified_name for u in units] == ["Outer", "Outer.f"]


def test_syntax_errors_are_listed_and_the_rest_is_sliced():
    text = "package p\n\nclass A {\n    fun f() = 1\n}\n\nfun broken( {\n"
    units, errors = slice_kotlin("p/A.kt", text, "r", None)
    assert errors == ["p/A.kt:7: syntax error"]
    assert [u.qualified_name for u in units][:3] == ["p/A.kt", "p.A", "p.A.f"]
    assert units[0].parse_errors == errors


def test_destructuring_gives_one_property_per_name():
    units, _ = slice_kotlin("A.kt", "class A {\n    private val (x, y) = 1 to 2\n}\n", "r", None)
    assert [(u.name, u.code, u.modifiers) for u in units[1:]] == [
        ("x", "private val (x, y) = 1 to 2", ["private"]),
        ("y", "private val (x, y) = 1 to 2", ["private"]),
    ]


@pytest.mark.parametrize(
    ("written", "normal"),
    [("Map< String ,List<Int> >?", "Map<String, List<Int>>?"), ("(Int) -> Unit", "(Int) -> Unit")],
)
def test_normalize_type(written, normal):
    assert normalize_type(written) == normal


def test_javalang_leaves_kotlin_to_tree_sitter():
    result = slice_repo(MIXED, parser="javalang")
    kotlin = [u.model_dump_json() for u in result.units if u.language == "kotlin"]
    assert kotlin == [
        u.model_dump_json() for u in slice_repo(MIXED).units if u.language == "kotlin"
    ]


# -- facts and templates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rest"),
    [
        ('@Suppress("x") @JvmStatic fun f()', "fun f()"),
        ('@get:JsonProperty("a(b)")\nval x: Int', "val x: Int"),
        ("@Test\n    fun t()", "fun t()"),
        ("fun plain()", "fun plain()"),
    ],
)
def test_skip_annotations(code, rest):
    assert skip_annotations(code) == rest


def test_signature_of_has_no_body_even_for_an_expression_body(mixed):
    subtotal = one(mixed, f"{PKG}.Cart.subtotal", "method")
    assert signature_of(subtotal) == "fun subtotal(): Money"
    assert jf.signature_of(subtotal) == "fun subtotal(): Money"  # the generator's entry point
    assert signature_of(one(mixed, f"{PKG}.sum", "function")) == "fun Iterable<Money>.sum(): Money"
    assert signature_of(one(mixed, f"{PKG}.Money", "class")) is None


# answers that are a name or sentences: a qualified name, prose rendered from the KDoc,
# "`call` returns `value`.", "Yes: `signature`."
SENTENCES = {"member.owner", "method.explain", "type.explain", "constructor.explain",
             "method.usage", "type.has_method", "constant.explain"}  # fmt: skip


def kotlin_pairs(pairs, mixed):
    kotlin = {u.id for u in mixed.units if u.language == "kotlin"}
    return [p for p in pairs if p.unit_id in kotlin]


def test_language_neutral_tasks_give_kotlin_pairs(pairs, mixed):
    tasks = Counter(p.task for p in kotlin_pairs(pairs, mixed))
    for task in ("method.code", "method.explain", "type.explain", "type.declaration"):
        assert tasks[task] > 0, task
    assert (tasks["test.covers"], tasks["test.write"], tasks["method.usage"]) == (5, 4, 4)
    # tasks phrased for Java (a Java package, a Java method, a Javadoc) are left to Java
    assert not {"method.is_test", "file.package", "javadoc.signature", "method.implement"} & set(
        tasks
    )
    kotlin = languages.get("kotlin")
    assert all(kotlin.applies(task) for task in tasks)


def test_kotlin_pairs_answer_with_the_source(pairs, mixed):
    units = {u.id: u for u in mixed.units}
    for pair in kotlin_pairs(pairs, mixed):
        if pair.task in SENTENCES:
            continue
        unit = units[pair.unit_id]
        text = (MIXED / unit.path).read_text(encoding="utf-8")
        if pair.task == "test.write":  # the method's unit, the test file's code
            text = "".join(p.read_text() for p in (MIXED / "src/test/kotlin").rglob("*.kt"))
        for line in pair.output.split("\n"):  # dedented: each line is one of the file's
            # a list item is a name or signature, and an enum constant's KDoc summary
            for part in line.strip().removeprefix("- `").removesuffix("`").split("`: ", 1):
                assert part in text, pair.output


def test_code_recall_explanation_from_kdoc_and_tests(pairs, mixed):
    by_task = {}
    for pair in kotlin_pairs(pairs, mixed):
        by_task.setdefault(pair.task, []).append(pair)
    code = {p.output for p in by_task["method.code"]}
    assert "fun checkout(): Money {\n    check(lines.isNotEmpty())" in "\n".join(code)
    explain = {(p.instruction.split(" of ")[-1], p.output) for p in by_task["method.explain"]}
    assert any(out == "Closes the cart; no line can change afterwards." for _, out in explain)
    types = {p.output for p in by_task["type.explain"]}
    assert "A catalog held in memory, for tests and demos." in types  # an object's KDoc
    covers = {p.output.split("(")[0].split()[-1] for p in by_task["test.covers"]}
    assert covers == {
        "addItem_mergesLinesOfTheSameProduct",
        "removeItem_returnsFalseWhenAbsent",
        "total_addsTheRegionsTax",
        "percentFor_startsAtFiveItems",
        "priceFor_takesTheDiscountOff",
    }
    usage = {p.output for p in by_task["method.usage"]}
    assert "`Discounts.percentFor(12)` returns `10`." in usage  # from an assertion of a test
    written = {p.input.split("(")[0]: p.output for p in by_task["test.write"]}
    assert written["fun total"].startswith("@Test\nfun total_addsTheRegionsTax() {")
    methods = {p.output for p in by_task["type.methods"]}
    assert "- `fun find(sku: String): Product?`\n- `fun all(): List<Product>`" in "\n".join(methods)
