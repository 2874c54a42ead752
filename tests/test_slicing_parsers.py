"""The two Java parsers: javalang (pure Python) against tree-sitter (the default).

On Java 8 sources both must produce the same units, field for field; on later syntax
javalang refuses the file with one error line naming the file, the line and the fix,
and the run goes on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import javalang
import pytest
from conftest import FIXTURES, check_golden
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.generate.java_facts import signature_of
from dataprep.languages.java import javalang_backend
from dataprep.languages.java import slicer as java
from dataprep.languages.java.comments import comment_spans
from dataprep.models import Unit
from dataprep.slicing import java_backend, slice_repo

JAVA8 = FIXTURES / "java8"
HOTEL = FIXTURES / "hotel-booking"
PARSER_NAMES = ["tree-sitter", "javalang"]
FIX = "use the default parser (--parser tree-sitter)"

# tree-sitter node types that only exist after Java 8: a file holding none is Java 8
# (as far as the slicer cares), and javalang must read it.
POST_JAVA8_NODES = {
    "record_declaration",
    "switch_rule",
    "yield_statement",
    "pattern",
    "type_pattern",
    "record_pattern",
    "guard",
    "permits",
    "sealed",
    "non-sealed",
    "multiline_string_fragment",
    "module_declaration",
    "string_interpolation",
}


def post_java8_syntax(text: str) -> dict[str, list[tuple[int, int]]]:
    """The post-Java-8 constructs tree-sitter finds in `text`, each with the line spans
    (first, last) of the nodes around them (iterative walk)."""
    found: dict[str, list[tuple[int, int]]] = {}
    stack = [java.parser().parse(text.encode("utf-8")).root_node]
    while stack:
        node = stack.pop()
        what = None
        if node.type in POST_JAVA8_NODES:
            what = node.type
        elif node.type == "instanceof_expression" and node.child_by_field_name("name"):
            what = "instanceof pattern"  # `o instanceof String s`
        elif node.type == "resource" and node.named_child_count == 1:
            if node.child_by_field_name("type") is None:
                what = "resource by name"  # Java 9 `try (r) {...}`
        if what is not None:
            around = node.parent or node
            found.setdefault(what, []).append((around.start_point[0] + 1, around.end_point[0] + 1))
        stack.extend(node.children)
    return found


def java_files(root: Path) -> list[tuple[Path, str]]:
    """(root, path relative to root) of every .java file under root."""
    return [(root, p.relative_to(root).as_posix()) for p in sorted(root.rglob("*.java"))]


ALL_FILES = java_files(JAVA8) + java_files(HOTEL)
TEXTS = {(root, rel): (root / rel).read_text(encoding="utf-8") for root, rel in ALL_FILES}
JAVA8_FILES = [f for f in ALL_FILES if not post_java8_syntax(TEXTS[f])]
LATER_FILES = [f for f in ALL_FILES if f not in JAVA8_FILES]


def file_id(item: tuple[Path, str]) -> str:
    return f"{item[0].name}/{item[1]}"


def both(root: Path, rel: str):
    text = TEXTS[(root, rel)]
    return (
        java.slice_java(rel, text, "repo", "abc123"),
        javalang_backend.slice_java(rel, text, "repo", "abc123"),
    )


def key(unit) -> tuple:
    return (
        unit.kind,
        unit.name,
        unit.qualified_name,
        unit.signature,
        unit.code,
        unit.start_line,
        unit.end_line,
    )


# -- which files take part ------------------------------------------------------------


def test_the_differential_test_covers_enough_files():
    java8_in_hotel = [f for f in JAVA8_FILES if f[0] == HOTEL]
    assert len([f for f in JAVA8_FILES if f[0] == JAVA8]) == len(java_files(JAVA8)) >= 5
    assert len(java8_in_hotel) >= 15, java8_in_hotel
    assert len(LATER_FILES) >= 8  # records, text blocks, switch expressions, sealed, ...


@pytest.mark.parametrize("item", JAVA8_FILES, ids=file_id)
def test_javalang_itself_reads_every_java8_file(item):
    tree = javalang.parse.parse(TEXTS[item])  # raises JavaSyntaxError when it cannot
    declared = re.search(r"^package\s+([\w.]+)\s*;", TEXTS[item], re.MULTILINE)
    assert (tree.package and tree.package.name) == (declared and declared.group(1))


# -- the differential test -------------------------------------------------------------


@pytest.mark.parametrize("item", JAVA8_FILES, ids=file_id)
def test_both_parsers_produce_the_same_units(item):
    (ts_units, ts_errors), (jl_units, jl_errors) = both(*item)
    assert ts_errors == [] and jl_errors == []
    assert len(ts_units) >= len(javalang.parse.parse(TEXTS[item]).types)
    assert sorted(map(key, jl_units)) == sorted(map(key, ts_units))
    # every other field too (declaration, modifiers, annotations, javadoc, parent, types,
    # parameters, throws, imports, ...), and the same source order
    assert [u.model_dump() for u in jl_units] == [u.model_dump() for u in ts_units]


@pytest.mark.parametrize("item", LATER_FILES, ids=file_id)
def test_javalang_refuses_later_java_with_one_clear_error(item):
    root, rel = item
    units, errors = javalang_backend.slice_java(rel, TEXTS[item], "repo", None)
    assert units == []
    assert len(errors) == 1
    where, _, rest = errors[0].partition(": ")
    path, _, line = where.rpartition(":")
    assert path == rel and line.isdigit()
    spans = [span for spans in post_java8_syntax(TEXTS[item]).values() for span in spans]
    assert any(first <= int(line) <= last for first, last in spans), (line, spans)
    assert rest.startswith("javalang cannot ") and rest.endswith(": " + FIX)
    assert "Java 9+ syntax?" in rest and "\n" not in errors[0]


# Corners the fixtures do not reach: comments around Javadoc, C-style array dimensions,
# nested and argument-held anonymous classes, empty and trailing-comma enums, generic
# constructors, annotation elements with array defaults, parameter annotations, CRLF
# line ends and tabs, non-ASCII identifiers (compiles with javac --release 8).
EDGE_CASES = {
    "Edge.java": r"""// leading line comment
/* block */
package edge.cases;

import java.util.*;
import static java.lang.Math.max;

/** Doc for Edge. */
@SuppressWarnings({"unchecked", "rawtypes"})
@java.lang.Deprecated
public abstract strictfp class Edge<T extends Comparable<? super T>>
        extends AbstractList<T>
        implements RandomAccess, Cloneable /* trailing */ {
    ;
    /* plain block */ /** doc x */ int x;
    /** doc y */
    // a line comment in between
    int y;
    String[] a[], b;
    int c = 1, d[] = {1}, e = max(1, 2);
    Map<String, List<Integer>> m = new HashMap<String, List<Integer>>(), n;
    final Runnable r = new Runnable() {
        int counter;
        public void run() {
            new Thread(new Runnable() { public void run() { counter++; } }).start();
        }
    };
    static final Comparator<String> CMP;
    static {
        CMP = new Comparator<String>() {
            @Override public int compare(String p, String q) { return p.compareTo(q); }
        };
    }
    Object[] handlers = new Object[] { new Object() { public String toString() { return "h"; } } };

    public native int nativeCall(int v);
    protected abstract <R> R apply(java.util.function.Function<? super T, ? extends R> f)
        throws java.io.IOException, RuntimeException;
    <S> Edge(S seed, final @Deprecated int... rest) { }
    Edge() { this(null); }
    int legacy()[] { return new int[0]; }
    synchronized void sync(@SuppressWarnings("x") final String s, int[] arr, int arr2[]) {}
    public T get(int i) { return null; }
    public int size() { return 0; }

    @interface Marker {
        String value() default "";
        int[] ints() default {1, 2};
        Class<?> type() default Object.class;
        class Nested { int z; }
    }

    enum Empty { ; void f() {} }

    enum Trailing {
        A, B,
        ;
    }

    enum WithArgs {
        /** the one */
        @Deprecated ONE(new Object() { public String toString() { return "one"; } }),
        TWO(null) { @Override int weight() { return 2; } },
        THREE(new Object() { public int hashCode() { return 3; } }) { int weight() { return 3; } };
        WithArgs(Object o) {}
        int weight() { return 1; }
    }

    interface Shape {
        double PI = 3.14, E = 2.71;
        <U> U accept(U visitor);
        default Shape self() { return this; }
        Shape UNIT = new Shape() { public <U> U accept(U visitor) { return visitor; } };
    }

    class Inner<V> {
        V value;
        Inner(V value) { this.value = value; }
        class Deeper { void go() { Inner.this.value = null; } }
    }

    void locals() {
        class Local implements Runnable { public void run() {} }
        Runnable lambda = () -> { new Local().run(); };
        Object o = this.new Inner<String>("s") {
            @Override public String toString() { return "inner"; }
        };
        String s = "braces { } in strings ( [ ", c2 = "\u0041\"";
        char ch = '{';
    }
}

class Second { int only; }
interface Third extends Comparable<Third>, java.io.Serializable {}
""",
    "Crlf.java": (
        "package crlf;\r\n\r\n/** Doc\r\n * more\r\n */\r\npublic class Crlf {\r\n"
        '\t/** f */\r\n\tint\tf = 1;\r\n\tvoid m() {\r\n\t\tString s = "é ü";\r\n\t}\r\n}\r\n'
    ),
    "Cast.java": (  # javalang keeps the selectors after a parenthesised cast off its tree
        "class Cast {\n  void f(Object o) {\n"
        "    ((Runnable) o).equals(new Object() { public int hashCode() { return 1; } });\n"
        "  }\n}\n"
    ),
    "Bom.java": "\ufeffpackage bom;\n\n/** Starts with a byte-order mark. */\nclass Bom {}\n",
    "Uni.java": (
        'class Uni {\n    String naïve = "ünïcödé ✓";\n    int größe() { return 1; }\n'
        "    /** ✓ */ void ok() {}\n}\n"
    ),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_both_parsers_agree_on_corner_cases(name):
    text = EDGE_CASES[name]
    assert not post_java8_syntax(text)
    ts_units, ts_errors = java.slice_java(name, text, "r", None)
    jl_units, jl_errors = javalang_backend.slice_java(name, text, "r", None)
    assert ts_errors == jl_errors == []
    assert [u.model_dump() for u in jl_units] == [u.model_dump() for u in ts_units]


def test_corner_cases_read_right():
    units = {
        (u.qualified_name, u.signature): u
        for u in javalang_backend.slice_java("Edge.java", EDGE_CASES["Edge.java"], "r", None)[0]
    }
    names = {qualified_name for qualified_name, _ in units}
    assert {"edge.cases.Edge$1$1.run", "edge.cases.Edge$3.toString"} <= names
    assert {"edge.cases.Edge.WithArgs$1.toString", "edge.cases.Edge.WithArgs.TWO.weight"} <= names
    # an anonymous class in a constant's arguments belongs to the enum, not the body
    assert {"edge.cases.Edge.WithArgs$2.hashCode", "edge.cases.Edge.WithArgs.THREE.weight"} <= names
    assert {"edge.cases.Edge.Trailing.B", "edge.cases.Edge.Empty.f", "edge.cases.Third"} <= names
    assert units[("edge.cases.Edge.x", "int x")].javadoc == "/** doc x */"
    assert units[("edge.cases.Edge.y", "int y")].javadoc is None  # a line comment between
    assert units[("edge.cases.Edge.a", "String[][] a")].declaration == "String[] a[];"
    assert units[("edge.cases.Edge.d", "int[] d")].initializer == "{1}"
    ctor = units[("edge.cases.Edge.Edge", "Edge(S, int...)")]
    assert ctor.type_parameters == "<S>" and ctor.parameters[1] == "final @Deprecated int... rest"
    assert units[("edge.cases.Edge.Marker.ints", "ints()")].initializer == "{1, 2}"
    edge = units[("edge.cases.Edge", None)]
    assert edge.code.endswith("implements RandomAccess, Cloneable /* trailing */")
    assert edge.implements == ["RandomAccess", "Cloneable"]
    apply = units[
        ("edge.cases.Edge.apply", "apply(java.util.function.Function<? super T, ? extends R>)")
    ]
    assert apply.throws == ["java.io.IOException", "RuntimeException"]
    cast = javalang_backend.slice_java("Cast.java", EDGE_CASES["Cast.java"], "r", None)[0]
    assert [u.qualified_name for u in cast] == ["Cast", "Cast.f", "Cast$1.hashCode"]
    crlf = javalang_backend.slice_java("Crlf.java", EDGE_CASES["Crlf.java"], "r", None)[0]
    assert [(u.name, u.start_line, u.end_line) for u in crlf] == [
        ("Crlf.java", 1, 1),
        ("Crlf", 6, 12),
        ("f", 8, 8),
        ("m", 9, 11),
    ]
    assert crlf[1].javadoc == "/** Doc\r\n * more\r\n */"


# -- facts the slicers must get right -------------------------------------------------

FACTS = {
    "org/acme/package-info.java": """/*
 * A licence header: not the package's Javadoc.
 */

/**
 * Money and prices.
 *
 * <p>Start with {@link org.acme.Remarks}.
 */
@NullMarked
@Deprecated
package org.acme;

import org.jspecify.annotations.NullMarked;
""",
    "org/acme/Remarks.java": """package org.acme;

/** Declarations with remarks in their headers. */
@SuppressWarnings("serial") // a remark after an annotation
public class Remarks /* header remark */ implements java.io.Serializable {
    @SuppressWarnings("unchecked") // raw types below
    private Object cache = null; // trailing

    @Override // a remark between the annotation and the method
    public String toString() { return "r"; }

    @Deprecated /* inline */ public int count(int /* how many */ n) { return n; }

    /** Doc. */
    @Deprecated
    // a whole line of remark, with a brace { and a parenthesis (
    public Remarks() {}

    abstract static class Base { abstract int size() /* no body */; }

    /** HTTP methods. */
    enum Method {
        /** Reads a resource. */
        GET(false) /* no body */ {
            @Override boolean body() { return false; }
        },
        @Deprecated // use PUT
        POST(true),
        PUT;

        private final boolean body;
        Method(boolean body) { this.body = body; }
        Method() { this(true); }
        boolean body() { return body; }
    }
}
""",
    "org/acme/Twins.java": """package org.acme;

class Twins {
    void first() {
        class Local {
            int size = 1;
            Runnable task = new Runnable() { public void run() { size = 0; } };
            void reset() { size = 0; }
        }
    }

    void second() {
        class Local {
            int size = 1;
            Runnable task = new Runnable() { public void run() { size = 0; } };
            void reset() { size = 0; }
        }
    }
}
""",
}
BACKENDS = {"tree-sitter": java.slice_java, "javalang": javalang_backend.slice_java}


def facts(parser: str, path: str) -> list:
    units, errors = BACKENDS[parser](path, FACTS[path], "acme", None)
    assert errors == []
    for unit in units:
        assert unit.code in FACTS[path]  # exact, comments and all
    return units


def by_name(units: list, kind: str | None = None) -> dict:
    return {u.qualified_name: u for u in units if kind in (None, u.kind)}


@pytest.mark.parametrize("path", sorted(FACTS))
def test_both_parsers_agree_on_the_facts(path):
    jl_units, ts_units = facts("javalang", path), facts("tree-sitter", path)
    assert [u.model_dump() for u in jl_units] == [u.model_dump() for u in ts_units]


@pytest.mark.parametrize("parser", PARSER_NAMES)
def test_package_info_names_its_package_and_carries_its_javadoc(parser):
    (info,) = facts(parser, "org/acme/package-info.java")
    assert (info.kind, info.package) == ("file", "org.acme")  # never "@NullMarked"
    assert info.code.startswith("@NullMarked\n@Deprecated\npackage org.acme;")
    assert info.javadoc == (
        "/**\n * Money and prices.\n *\n * <p>Start with {@link org.acme.Remarks}.\n */"
    )
    other = facts(parser, "org/acme/Remarks.java")[0]
    assert other.kind == "file" and other.javadoc is None  # only a package-info's is the package's


@pytest.mark.parametrize("parser", PARSER_NAMES)
def test_declarations_and_signatures_hold_no_comments(parser):
    units = by_name(facts(parser, "org/acme/Remarks.java"))
    to_string = units["org.acme.Remarks.toString"]
    assert to_string.code.startswith("@Override // a remark between the annotation")
    assert to_string.declaration == "@Override\n    public String toString()"
    assert signature_of(to_string) == "public String toString()"
    count = units["org.acme.Remarks.count"]
    assert count.declaration == "@Deprecated public int count(int n)"
    assert signature_of(count) == "public int count(int n)"
    constructor = units["org.acme.Remarks.Remarks"]
    assert constructor.declaration == "@Deprecated\n    public Remarks()"
    assert signature_of(constructor) == "public Remarks()"
    assert units["org.acme.Remarks.Base.size"].declaration == "abstract int size()"
    assert units["org.acme.Remarks"].declaration == (
        '@SuppressWarnings("serial")\npublic class Remarks implements java.io.Serializable {}'
    )
    assert units["org.acme.Remarks"].code.endswith(
        "/* header remark */ implements java.io.Serializable"
    )
    assert units["org.acme.Remarks.cache"].declaration == (
        '@SuppressWarnings("unchecked")\n    private Object cache = null;'
    )
    assert not [u.qualified_name for u in units.values() if comment_spans(u.declaration or "")]


@pytest.mark.parametrize("parser", PARSER_NAMES)
def test_enum_constants_are_units_of_their_own(parser):
    units = facts(parser, "org/acme/Remarks.java")
    constants = by_name(units, "enum_constant")
    assert list(constants) == [f"org.acme.Remarks.Method.{n}" for n in ("GET", "POST", "PUT")]
    get = constants["org.acme.Remarks.Method.GET"]
    assert get.code.startswith("GET(false) /* no body */ {") and get.code.endswith("}")
    assert (get.declaration, get.signature, get.type) == ("GET(false)", "Method GET", "Method")
    assert (get.initializer, get.javadoc) == ("(false)", "/** Reads a resource. */")
    post = constants["org.acme.Remarks.Method.POST"]
    assert post.declaration == "@Deprecated\n        POST(true)"  # annotation kept, remark not
    assert post.annotations == ["@Deprecated"] and post.parent == "org.acme.Remarks.Method"
    assert constants["org.acme.Remarks.Method.PUT"].declaration == "PUT"
    fields = by_name(units, "field")
    assert [q for q in fields if ".Method." in q] == ["org.acme.Remarks.Method.body"]
    body = by_name(units, "method")["org.acme.Remarks.Method.GET.body"]
    assert body.parent == "org.acme.Remarks.Method.GET"  # a constant's body is still a scope


@pytest.mark.parametrize("parser", PARSER_NAMES)
def test_identical_members_of_one_file_get_distinct_ids(parser):
    units = facts(parser, "org/acme/Twins.java")
    ids = [u.id for u in units]
    assert len(ids) == len(set(ids))
    seen: dict[tuple, int] = {}
    twins = 0
    for unit in units:  # the first keeps the id it has alone; a twin adds its repeat number
        parts = (unit.path, unit.kind, unit.qualified_name, unit.signature, unit.code)
        repeat = seen.get(parts, 0)
        seen[parts] = repeat + 1
        twins += repeat > 0
        assert unit.id == Unit.make_id(*parts, repeat=repeat)
    assert twins == 4  # Local, Local.size, Local.task and Local.reset of the second method
    runs = [u.qualified_name for u in units if u.name == "run"]
    assert runs == ["org.acme.Twins.Local$1.run", "org.acme.Twins.Local$2.run"]


def test_java8_fixture_units_match_golden(update_golden):
    units = []
    for root, rel in java_files(JAVA8):
        got, errors = javalang_backend.slice_java(rel, TEXTS[(root, rel)], "java8", None)
        assert errors == []
        units += got
    text = "".join(unit.model_dump_json() + "\n" for unit in units)
    check_golden("java8.units.jsonl", text, update_golden)


# -- both parsers, the same properties on the Java 8 fixtures -------------------------


@pytest.fixture(scope="module", params=PARSER_NAMES)
def java8(request):
    return slice_repo(JAVA8, parser=request.param)


def units_named(result, qualified_name: str, kind: str | None = None) -> list:
    return [
        u for u in result.units if u.qualified_name == qualified_name and kind in (None, u.kind)
    ]


def one(result, qualified_name: str, kind: str | None = None, signature: str | None = None):
    found = [
        u for u in units_named(result, qualified_name, kind) if signature in (None, u.signature)
    ]
    assert len(found) == 1, (qualified_name, [(u.kind, u.signature) for u in found])
    return found[0]


PKG = "org.example.inventory"


def test_code_is_an_exact_substring_within_its_lines(java8):
    assert java8.parse_errors == []
    for unit in java8.units:
        lines = (JAVA8 / unit.path).read_text(encoding="utf-8").splitlines(keepends=True)
        assert 1 <= unit.start_line <= unit.end_line <= len(lines)
        span = "".join(lines[unit.start_line - 1 : unit.end_line])
        assert unit.code in span and unit.code == unit.code.strip(), unit.qualified_name
        code_lines = unit.code.splitlines()
        assert code_lines[0] in lines[unit.start_line - 1]  # starts on its first line
        assert code_lines[-1] in lines[unit.end_line - 1] or unit.kind in (
            "class",
            "interface",
            "enum",
            "annotation_type",
        )  # a type's code is its header; its span runs to the closing brace


def test_ids_are_unique_content_hashes(java8):
    ids = [u.id for u in java8.units]
    assert len(ids) == len(set(ids))
    for u in java8.units:
        assert u.id == u.make_id(u.path, u.kind, u.qualified_name, u.signature, u.code)


def test_every_member_sits_inside_its_parent(java8):
    types = {
        u.qualified_name: u
        for u in java8.units
        if u.kind in ("class", "interface", "enum", "annotation_type")
    }
    members = [
        u for u in java8.units if u.kind in ("field", "enum_constant", "method", "constructor")
    ]
    assert len(members) > 60
    for u in members:
        assert u.qualified_name == f"{u.parent}.{u.name}"
        outer = types.get(u.parent.split("$")[0]) or types[u.parent.rsplit(".", 1)[0]]
        assert outer.start_line <= u.start_line <= u.end_line <= outer.end_line


def test_units_by_kind(java8):
    assert java8.units_by_kind() == {
        "file": 5,
        "class": 6,
        "interface": 3,
        "enum": 2,
        "annotation_type": 1,
        "field": 26,
        "enum_constant": 7,
        "constructor": 8,
        "method": 44,
    }


def test_multi_variable_fields_and_c_style_arrays(java8):
    low = one(java8, f"{PKG}.Inventory.lowWater")
    high = one(java8, f"{PKG}.Inventory.highWater")
    assert low.code == high.code == "protected int lowWater, highWater = 100;"
    assert low.declaration == "protected int lowWater;" and low.initializer is None
    assert high.declaration == "protected int highWater = 100;" and high.initializer == "100"
    history = one(java8, f"{PKG}.Inventory.history")
    recent = one(java8, f"{PKG}.Inventory.recent")
    assert history.type == "int[][]" and history.signature == "int[][] history"
    assert recent.type == "int[]" and recent.initializer == "{1, 2, 3}"
    quote = one(java8, f"{PKG}.StockService.QUOTE")
    assert quote.declaration == "private static final char QUOTE = '\\'';"
    version = one(java8, f"{PKG}.Inventory.version")
    assert version.modifiers == ["private", "transient", "volatile"]
    assert version.code == "private transient volatile long version;"  # comment left out


def test_overloads_varargs_generics_and_throws(java8):
    gets = units_named(java8, f"{PKG}.Inventory.get", "method")
    assert sorted(u.signature for u in gets) == ["get(K)", "get(K, V)"]
    put_all = one(java8, f"{PKG}.Inventory.putAll")
    assert put_all.signature == "putAll(K, V...)" and put_all.annotations == ["@SafeVarargs"]
    assert put_all.modifiers == ["public", "final"] and put_all.parameters == ["K key", "V... more"]
    maximum = one(java8, f"{PKG}.StockService.max")
    assert maximum.type_parameters == "<T extends Comparable<? super T>>"
    assert maximum.signature == "max(List<? extends T>, Function<String, T>)"
    assert maximum.type == "T"
    assert one(java8, f"{PKG}.Inventory.unitSize").throws == ["IllegalArgumentException"]
    load = one(java8, f"{PKG}.StockService.load")
    assert load.throws == ["IOException"] and load.declaration.endswith("throws IOException")
    ctors = units_named(java8, f"{PKG}.Inventory.Inventory", "constructor")
    assert sorted(u.signature for u in ctors) == ["Inventory()", "Inventory(String)"]


def test_type_headers(java8):
    inventory = one(java8, f"{PKG}.Inventory", "class")
    assert inventory.code == (
        "public class Inventory<K extends Comparable<K>, V extends Inventory.Item>"
        " implements Serializable, Iterable<V>"
    )
    assert inventory.declaration == inventory.code + " {}"
    assert inventory.type_parameters == "<K extends Comparable<K>, V extends Inventory.Item>"
    assert inventory.implements == ["Serializable", "Iterable<V>"]
    assert (inventory.start_line, inventory.end_line) == (23, 205)
    assert inventory.javadoc.startswith("/**\n * An in-memory inventory")
    service = one(java8, f"{PKG}.StockService", "class")
    assert service.annotations == [
        '@Audited(value = "stock", level = Audited.Level.HIGH, tags = {"ledger", "warehouse"})'
    ]
    assert one(java8, f"{PKG}.BadLedgerLine").extends == ["RuntimeException"]
    audited = one(java8, f"{PKG}.Audited", "annotation_type")
    assert audited.annotations[-1] == "@Target({ElementType.METHOD, ElementType.TYPE})"
    assert audited.code.endswith("public @interface Audited")


def test_enums_interfaces_and_annotation_elements(java8):
    draft = one(java8, f"{PKG}.OrderStatus.DRAFT", "enum_constant")
    assert draft.signature == "OrderStatus DRAFT" and draft.initializer == '("draft", false)'
    assert draft.code.startswith('DRAFT("draft", false) {') and draft.code.endswith("}")
    assert draft.declaration == 'DRAFT("draft", false)'  # up to its class body
    assert draft.javadoc == "/** Just created, not yet sent to the supplier. */"
    assert one(java8, f"{PKG}.OrderStatus.CANCELLED").annotations == ["@Deprecated"]
    assert one(java8, f"{PKG}.OrderStatus.DRAFT.next").parent == f"{PKG}.OrderStatus.DRAFT"
    assert one(java8, f"{PKG}.OrderStatus.RECEIVED.describe").start_line == 26
    assert one(java8, f"{PKG}.OrderStatus.next").modifiers == ["public", "abstract"]
    headline = one(java8, f"{PKG}.Describable.headline")
    assert headline.modifiers == ["default"] and headline.code.startswith("default String")
    assert one(java8, f"{PKG}.Describable.SEPARATOR").signature == "String SEPARATOR"
    assert one(java8, f"{PKG}.Describable.Constant.of").modifiers == ["static"]
    tags = one(java8, f"{PKG}.Audited.tags", "method")
    assert tags.type == "String[]" and tags.initializer == "{}"
    assert tags.declaration == "String[] tags() default {}"
    assert one(java8, f"{PKG}.Audited.Level.HIGH").type == "Level"


def test_anonymous_inner_and_local_classes(java8):
    assert one(java8, f"{PKG}.Inventory$1.compare").annotations == ["@Override"]
    assert one(java8, f"{PKG}.Inventory$2.inner").type == "java.util.Iterator<V>"
    assert one(java8, f"{PKG}.Inventory$2.next").signature == "next()"
    assert one(java8, f"{PKG}.StockService$1.run").parent == f"{PKG}.StockService$1"
    assert one(java8, f"{PKG}.StockService.Line", "class").start_line == 95
    assert one(java8, f"{PKG}.Inventory.Shortage.Shortage", "constructor").modifiers == []
    # initializer blocks are no declarations
    assert not [
        u for u in java8.units if u.start_line in (32, 45) and u.path.endswith("Inventory.java")
    ]


def test_file_units(java8):
    stock = one(java8, "src/main/java/org/example/inventory/StockService.java", "file")
    assert stock.code.startswith("package org.example.inventory;")
    assert stock.code.endswith("import java.util.function.Function;")
    assert stock.imports[0] == "static java.util.Objects.requireNonNull"
    assert (stock.start_line, stock.end_line) == (1, 12)
    inventory = one(java8, "src/main/java/org/example/inventory/Inventory.java", "file")
    assert inventory.start_line == 4 and inventory.javadoc is None  # licence comment left out


# -- javalang's errors: one line per file, and the run goes on ------------------------

JAVA17 = """package demo;

public record Point(int x, int y) {
}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            JAVA17,
            "demo/Point.java:3: javalang cannot parse this (Expected type declaration at "
            "'record'; Java 9+ syntax?): " + FIX,
        ),
        (
            'class A {\n  String s = """\n    hi\n    """;\n}\n',
            "demo/Point.java:2: javalang cannot parse this (a text block; Java 9+ syntax?): " + FIX,
        ),
        (
            "class A {\n  record R(int a) {}\n}\n",
            "demo/Point.java:2: javalang cannot parse this (a record; Java 9+ syntax?): " + FIX,
        ),
        (
            "class A {\n  int x = 1 # 2;\n}\n",
            'demo/Point.java:2: javalang cannot read this (Could not process token at "#"): ' + FIX,
        ),
        (
            "class A { int f(Object o) { return switch (o) { default -> 1; }; } }",
            "demo/Point.java:1: javalang cannot parse this (Expected expression at 'switch'; "
            "Java 9+ syntax?): " + FIX,
        ),
    ],
    ids=["record", "text-block", "nested-record", "lexer", "switch-expression"],
)
def test_javalang_error_names_file_line_and_fix(text, expected):
    assert javalang_backend.slice_java("demo/Point.java", text, "r", None) == ([], [expected])


def test_javalang_any_other_failure_is_an_error_line_not_a_traceback():
    deep = "class A { int x = " + "(" * 3000 + "1" + ")" * 3000 + "; }"
    units, errors = javalang_backend.slice_java("A.java", deep, "r", None)
    assert units == []
    assert len(errors) == 1 and errors[0].endswith(f": {FIX}")
    assert errors[0].startswith("A.java: javalang failed (RecursionError: maximum recursion")


def test_run_goes_on_past_a_file_javalang_cannot_read(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Point.java").write_text(JAVA17)
    (tmp_path / "src" / "Old.java").write_text("package demo;\n\nclass Old {\n  int a, b;\n}\n")
    result = slice_repo(tmp_path, parser="javalang")
    assert result.parse_errors == [
        "src/Point.java:3: javalang cannot parse this (Expected type declaration at "
        "'record'; Java 9+ syntax?): " + FIX
    ]
    assert [(u.kind, u.qualified_name) for u in result.units] == [
        ("file", "src/Old.java"),
        ("class", "demo.Old"),
        ("field", "demo.Old.a"),
        ("field", "demo.Old.b"),
    ]
    assert sorted(result.parsed) == ["src/Old.java", "src/Point.java"]


# -- the command line ------------------------------------------------------------------


def test_cli_slice_with_javalang_writes_the_same_units_as_tree_sitter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["slice", str(JAVA8), "--parser", "javalang", "-o", "units.jsonl"])
    assert result.exit_code == 0, result.output
    assert "wrote 102 units to units.jsonl" in result.output.replace("\n", "")
    rows = [json.loads(line) for line in (tmp_path / "units.jsonl").read_text().splitlines()]
    assert len(rows) == 102 and {r["language"] for r in rows} == {"java"}
    result = runner.invoke(app, ["slice", str(JAVA8), "-o", "ts.jsonl", "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ts.jsonl").read_text() == (tmp_path / "units.jsonl").read_text()


def test_cli_slice_with_javalang_warns_and_goes_on(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Point.java").write_text(JAVA17)
    (repo / "Old.java").write_text("class Old { void f() {} }\n")
    out = tmp_path / "units.jsonl"
    result = CliRunner().invoke(app, ["slice", str(repo), "--parser", "javalang", "-o", str(out)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "Point.java:3: javalang cannot parse this" in flat and FIX in flat
    assert "Traceback" not in result.output
    names = [json.loads(line)["qualified_name"] for line in out.read_text().splitlines()]
    assert names == ["Old", "Old.f"]


@pytest.mark.parametrize("parser", PARSER_NAMES)
def test_registry_gives_both_backends(parser):
    units, errors = java_backend(parser)("A.java", "class A { int a, b; }", "r", None)
    assert errors == [] and [u.qualified_name for u in units] == ["A", "A.a", "A.b"]
