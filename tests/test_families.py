"""Repository-level task families (usage, API existence, package overviews, inherited
explanations) and the per-file prose, fill-in-the-middle and dedent helpers they rely on."""

import pytest

from dataprep.generate import templates as tg
from dataprep.generate.code_text import dedent_code, fim_split, mask_name
from dataprep.generate.families.api import plausible_names
from dataprep.generate.families.usage import assertions, javadoc_examples, self_contained
from dataprep.generate.javadoc import parse_javadoc, render_markdown
from dataprep.languages.java.slicer import slice_java
from dataprep.quality import undedented

STRINGS = """package org.acme.text;

/** Helpers for strings. */
public class Strings {
    /**
     * Abbreviates a string with ellipses.
     *
     * <pre>
     * Strings.abbreviate("abcdefg", 6) = "abc..."
     * Strings.abbreviate(null, 4)      = null
     * </pre>
     *
     * @param str the string, may be null
     * @param max the largest length, at least 4
     * @return the abbreviated string, {@code null} for null input
     */
    public static String abbreviate(String str, int max) {
        if (str == null || str.length() <= max) {
            return str;
        }
        return str.substring(0, max - 3) + "...";
    }

    /** Whether a string is empty or null. */
    public static boolean isEmpty(String str) {
        return str == null || str.isEmpty();
    }

    /** The length of a string, 0 for null. */
    public static int size(String str) {
        return str == null ? 0 : str.length();
    }
}
"""
STRINGS_TEST = """package org.acme.text;

class StringsTest {
    @Test
    void abbreviates() {
        assertEquals("ab...", Strings.abbreviate("abcdefgh", 5));
        assertTrue(Strings.isEmpty(""));
        String local = "x";
        assertEquals(1, Strings.size(local));   // names a local variable: not a question
        assertThat(Strings.size("abc")).isEqualTo(3);
    }
}
"""
SHAPES = {
    "src/main/java/org/acme/shape/Shape.java": """package org.acme.shape;
/** A plane figure. */
public interface Shape {
    /**
     * The area of this shape, in square units.
     *
     * @return the area, never negative
     */
    double area();
    /** The perimeter of this shape. */
    double perimeter();
    /** A name for the shape, for display. */
    String name();
}
""",
    "src/main/java/org/acme/shape/Circle.java": """package org.acme.shape;
/** A circle of a given radius. */
public class Circle implements Shape {
    private final double r;
    public Circle(double r) { this.r = r; }
    /** {@inheritDoc} */
    @Override
    public double area() {
        return Math.PI * r * r;
    }
    @Override
    public double perimeter() { return 2 * Math.PI * r; }
    @Override
    public String name() { return "circle"; }
}
""",
}


def _slice(files: dict[str, str]):
    units = []
    for path, text in files.items():
        units += slice_java(path, text, "acme", None)[0]
    return units


def _pairs(files, task):
    return [p for p in tg.generate_template_pairs(_slice(files)) if p.task == task]


# -- usage and values ------------------------------------------------------------------------


def test_usage_from_assertions_and_javadoc_examples():
    pairs = _pairs(
        {
            "src/main/java/org/acme/text/Strings.java": STRINGS,
            "src/test/java/org/acme/text/StringsTest.java": STRINGS_TEST,
        },
        "method.usage",
    )
    answers = sorted(p.output for p in pairs)
    assert answers == [
        '`Strings.abbreviate("abcdefg", 6)` returns `"abc..."`.',
        '`Strings.abbreviate("abcdefgh", 5)` returns `"ab..."`.',
        "`Strings.abbreviate(null, 4)` returns `null`.",
        '`Strings.isEmpty("")` returns `true`.',
        '`Strings.size("abc")` returns `3`.',
    ]
    assert all(p.path.endswith("Strings.java") for p in pairs)  # the method called is the unit
    assert all("`" + p.output.split("`")[1] + "`" in p.instruction for p in pairs)


def test_assertion_and_example_readers():
    code = (
        "assertEquals(3, Calc.add(1, 2));\nassertThat(Calc.neg(1), is(-1));\n"
        "assertNull(Calc.none());"
    )
    assert assertions(code) == [
        ("Calc.add(1, 2)", "3"),
        ("Calc.neg(1)", "-1"),
        ("Calc.none()", "null"),
    ]
    assert javadoc_examples("/** <pre>\n * A.b(1) = 2\n * not an example\n * </pre> */") == [
        ("A.b(1)", "2")
    ]
    assert self_contained('Strings.abbreviate("a", 4)', {"Strings"})
    assert not self_contained("Strings.abbreviate(text, 4)", {"Strings"})
    assert not self_contained("fresh().size()", set())


# -- API existence and packages -------------------------------------------------------------


def test_existence_questions_are_true_of_the_declared_methods():
    pairs = _pairs({"src/main/java/org/acme/text/Strings.java": STRINGS}, "type.has_method")
    by_answer = {p.output.split(".")[0]: p for p in pairs}
    yes = next(p for p in pairs if p.output.startswith("Yes: "))
    no = next(p for p in pairs if p.output.startswith("No. "))
    assert len(by_answer) == 2
    declared = {"abbreviate", "isEmpty", "size"}
    asked_yes = yes.instruction.split("`")[1]
    asked_no = no.instruction.split("`")[1]
    assert asked_yes in declared and asked_no not in declared
    assert asked_no in {n for d in declared for n in plausible_names(d)}
    assert "the closest are `" in no.output


def test_plausible_names_swap_one_word():
    assert plausible_names("getSize") == ["findSize", "fetchSize", "getCount", "getLength"]
    assert plausible_names("x") == []


def test_a_name_a_supertype_declares_is_never_asked_as_missing():
    pairs = _pairs(SHAPES, "type.has_method")
    missing = [p.instruction.split("`")[1] for p in pairs if p.output.startswith("No. ")]
    assert not {"area", "perimeter", "name"} & set(missing)


def test_package_overview_lists_public_types_with_summaries():
    (pair,) = _pairs(SHAPES, "package.overview")
    assert "org.acme.shape" in pair.instruction
    assert pair.output == (
        "Its public types:\n- `Circle` (class): A circle of a given radius.\n"
        "- `Shape` (interface): A plane figure."
    )


def test_package_overview_starts_with_the_package_info_javadoc():
    info = (
        "/*\n * Licence.\n */\n\n/**\n * Plane figures and their measures.\n *\n"
        " * <p>Start with {@link org.acme.shape.Shape}.\n */\n@NullMarked\n"
        "package org.acme.shape;\n\nimport org.jspecify.annotations.NullMarked;\n"
    )  # an annotated package: its file unit's package is the name, its Javadoc the package's
    files = {**SHAPES, "src/main/java/org/acme/shape/package-info.java": info}
    (pair,) = _pairs(files, "package.overview")
    assert "org.acme.shape" in pair.instruction and "@NullMarked" not in pair.instruction
    assert pair.path.endswith("package-info.java")
    assert pair.output == (
        "Plane figures and their measures.\n\nStart with `Shape`.\n\n"
        "Its public types:\n- `Circle` (class): A circle of a given radius.\n"
        "- `Shape` (interface): A plane figure."
    )


# -- inherited explanations -------------------------------------------------------------------


def test_inherit_doc_and_undocumented_overrides_are_explained_by_the_supertype():
    pairs = {p.instruction: p.output for p in _pairs(SHAPES, "method.explain_inherited")}
    area = next(o for i, o in pairs.items() if "area" in i)
    assert area.startswith("It implements `Shape.area`, documented there:\n\nThe area of this")
    assert "**Returns** the area, never negative" in area
    assert any("perimeter" in i for i in pairs) and any("name" in i for i in pairs)
    explained = {p.instruction for p in _pairs(SHAPES, "method.explain")}
    assert not any("Circle" in i and "area" in i for i in explained)  # no prose of its own


# -- prose, code and fill-in-the-middle ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "markdown"),
    [
        ("/** Adds {@code n} to {@link java.util.List#add(Object) the list}. */",
         "Adds `n` to `the list`."),
        ("/** See {@link #size()} and {@linkplain Foo foo}. */", "See `size()` and foo."),
        ("/** Makes an {@link java.io.OutputStreamWriter\n * OutputStreamWriter}. */",
         "Makes an `OutputStreamWriter`."),
        # a parameter list with spaces is part of the target, not the label
        ("/** Like {@link #put(Object, Object)} and {@link Reader#read(char[], int, int) read}. */",
         "Like `put(Object, Object)` and `read`."),
        ("/** Calls {@linkplain java.util.Map#put(Object,\n * Object) put}. */", "Calls put."),
        ("/** Use {@link java.util.Map#put(Object,\n * Object)} or {@link Foo#Foo(int)}. */",
         "Use `Map.put(Object, Object)` or `Foo(int)`."),
        ("/** With a {@linkplain\n * A#s(B) query on {@code JShell}} or {@link #m() {@code m}}. */",
         "With a query on `JShell` or `m`."),
        ("/** {@return the {@code n} items of {@link #all()}}\n * <p>{@summary Some.} */",
         "Returns the `n` items of `all()`\n\nSome."),
        ("/** <p>One.</p><p>Two &amp; three.</p> */", "One.\n\nTwo & three."),
        # a link's tag alone on its line does not break the paragraph
        ("/** Returns (a\n * <a href=\"u#h\">\n * high unit</a>) of it. */",
         "Returns (a high unit) of it."),
        ("/** Then {@link #f f}{@code (x)} holds. <pre>\n a``b\n</pre> */",
         "Then `f(x)` holds.\n\n```\na``b\n```"),
        # a type's parameters in code are no HTML tags
        ("/** A {@code List<String>} or {@link Stream}{@code <T>}. */",
         "A `List<String>` or `Stream<T>`."),
        ("/** <ul><li>a</li>\n * <li>b</li></ul> */", "- a\n- b"),
        ("/** Runs <script>x</script> as text. */", "Runs `<script>`x`</script>` as text."),
    ],
)  # fmt: skip
def test_javadoc_as_markdown(raw, markdown):
    assert render_markdown(parse_javadoc(raw)) == markdown


def test_javadoc_tags_become_sections_and_inherit_doc_is_noted():
    doc = parse_javadoc(
        "/**\n * Parses.\n * @param s the text\n * @throws java.io.IOException on error\n */"
    )
    assert render_markdown(doc) == (
        "Parses.\n\n**Parameters**\n- `s`: the text\n\n**Throws**\n- `IOException`: on error"
    )
    assert parse_javadoc("/** {@inheritDoc} */").inherits


def test_inherit_doc_tags_are_left_out_of_an_answer_with_words_of_its_own():
    doc = parse_javadoc(
        "/**\n * {@inheritDoc}\n *\n * <p> Fewer than {@code len} are read. {@inheritDoc} Then.\n"
        " * @param cbuf {@inheritDoc}\n * @return {@inheritDoc}\n"
        " * @throws java.io.IOException {@inheritDoc}\n */"
    )
    assert doc.inherits
    assert render_markdown(doc) == (
        "Fewer than `len` are read. Then.\n\n**Parameters**\n- `cbuf`\n\n"
        "**Throws**\n- `IOException`"
    )


def test_dedent_keeps_relative_indentation():
    code = (
        "public int a() {\n        if (x) {\n            return 1;\n        }\n"
        "        return 2;\n    }"
    )
    assert dedent_code(code) == (
        "public int a() {\n    if (x) {\n        return 1;\n    }\n    return 2;\n}"
    )
    assert undedented(code) and not undedented(dedent_code(code))  # what quality measures
    field = "private static final Map<String, Integer> M =\n            new HashMap<>();"
    assert (
        dedent_code(field) == "private static final Map<String, Integer> M =\n    new HashMap<>();"
    )


def test_mask_name_masks_whole_words_only():
    assert mask_name("int size() { return sizes + size(); }", "size") == (
        "int ____() { return sizes + ____(); }"
    )


def test_fill_in_the_middle_takes_whole_balanced_lines():
    code = (
        "int f(int x) {\n        int a = x;\n        a++;\n        if (a > 3) {\n"
        "            a *= 2;\n        }\n        return a;\n    }"
    )
    seen = set()
    for key in "abcdefghijklmnopqrstuvwxyz":
        masked, middle = fim_split(code, key)
        assert masked.count("<FILL") == 1
        indent = next(line for line in masked.split("\n") if "<FILL" in line).split("//")[0]
        placed = "\n".join(indent + line if line else line for line in middle.split("\n"))
        lines = [placed if "<FILL" in line else line for line in masked.split("\n")]
        assert "\n".join(lines) == dedent_code(code)
        assert not middle[0].isspace()  # an answer starting with spaces merges with the prompt
        assert middle.count("{") == middle.count("}")
        seen.add(middle)
    assert len(seen) >= 3
    assert fim_split("int f() {\n    return 1;\n}", "a") is None


def test_fill_in_the_middle_ends_on_code_and_never_inside_a_comment():
    code = (
        "void f() {\n    int a = 1;\n    /*\n     * Why the loop\n     * stops here.\n     */\n"
        "    a++;\n    // only a remark\n    a *= 2;\n    b(a); // a call\n    return;\n}"
    )
    middles = {fim_split(code, key)[1] for key in map(str, range(300))}
    assert len(middles) >= 5
    for middle in middles:
        last = middle.split("\n")[-1].strip()
        assert not last.startswith(("//", "/*", "*")), middle  # no answer ends on a comment
        assert not middle.startswith(("*", "Why", "stops")), middle  # nor starts inside one


def test_fill_in_the_middle_is_whole_statements():
    code = (
        "int f(int x) {\n    int a = x;\n    int b =\n        a + 1;\n    if (a > b)\n"
        '        a--;\n    else\n        b--;\n    String s = "a"\n        + "b";\n'
        "    a += s.length();\n    switch (a) {\n    case 1:\n        b++;\n        break;\n"
        "    }\n    return a + b;\n}"
    )
    middles = {fim_split(code, key)[1] for key in map(str, range(300))}
    assert {"a--;", "b--;", "a += s.length();", "b++;"} <= middles
    for middle in middles:
        assert middle.rstrip().endswith((";", "}")), middle  # not `if (a > b)`, `else`, `b =`
        assert not middle.startswith(("+", "a + 1", "else")), middle  # nor the rest of one


def test_kotlin_fill_in_ends_where_a_statement_does_without_semicolons():
    code = (
        "fun f(x: Int): Int {\n    val a = x\n    val b =\n        a + 1\n    if (a > b)\n"
        "        println(a)\n    val s = listOf(a, b)\n        .map { it * 2 }\n"
        "    return s.sum()\n}"
    )
    middles = {fim_split(code, key, semicolons=False)[1] for key in map(str, range(300))}
    assert {
        "println(a)",
        "val b =\n    a + 1",
        "val s = listOf(a, b)\n    .map { it * 2 }",
    } <= middles
    assert "val s = listOf(a, b)" not in middles  # its statement goes on at `.map`
    for middle in middles:
        assert not middle.rstrip().endswith(("=", "(", ",")), middle
        assert not middle.startswith((".map", "a + 1")), middle


def test_abstract_methods_get_no_code_or_implementation_question():
    files = {
        "src/main/java/org/acme/Shape.java": "package org.acme;\npublic abstract class Shape {\n"
        "    /** The area of the shape, in square units. */\n    public abstract double area();\n"
        "    /** The name of the shape, for display. */\n"
        '    public String name() {\n        return "shape";\n    }\n}\n'
    }
    pairs = tg.generate_template_pairs(_slice(files))
    coded = {p.task: p for p in pairs if p.task in ("method.code", "method.implement")}
    assert {p.output.split("(")[0] for p in coded.values()} == {"public String name"}


def test_a_wrapped_signature_keeps_its_alignment():
    from dataprep.generate.java_facts import signature_of

    files = {
        "src/main/java/org/acme/F.java": "package org.acme;\npublic abstract class F {\n"
        "    /** Formats. */\n    public String format(Object obj,\n"
        "                         int width) {\n        return null;\n    }\n"
        "    /**\n     * Parses.\n     */\n    public abstract Object parse(String text,\n"
        "                                 int at);\n"
        "    public abstract Object read(String text,\n            int at);\n}\n"
    }
    found = {u.name: signature_of(u) for u in _slice(files) if u.kind == "method"}
    existence = [p.output for p in _pairs(files, "type.has_method")]
    assert existence and not any("\n" in o for o in existence)  # inline code on one line
    assert found == {
        "format": "public String format(Object obj,\n                     int width)",
        "parse": "public abstract Object parse(String text,\n                             int at)",
        # no body and no Javadoc to tell the member's column: one step in
        "read": "public abstract Object read(String text,\n    int at)",
    }


def test_initializers_are_dedented():
    files = {
        "src/main/java/org/acme/T.java": "package org.acme;\nclass T {\n"
        "    static final int[] TABLE = {\n        1, 2,\n        3, 4,\n    };\n}\n"
    }
    (pair,) = [
        p for p in tg.generate_template_pairs(_slice(files)) if p.task == "field.initializer"
    ]
    assert pair.output == "{\n    1, 2,\n    3, 4,\n}"
