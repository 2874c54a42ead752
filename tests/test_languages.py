"""The language registry: names and suffixes to languages, parser backends, validity parsers,
facts hooks and the template tasks each language takes."""

from __future__ import annotations

import pytest

from dataprep import languages
from dataprep.errors import InputError
from dataprep.filters.code import java_parses
from dataprep.languages import Language
from dataprep.languages.java import javalang_backend
from dataprep.languages.java.slicer import slice_java
from dataprep.languages.kotlin.slicer import slice_kotlin
from dataprep.slicing import PARSERS, slice_file


def test_the_builtin_languages():
    assert list(languages.languages()) == ["java", "kotlin"]
    assert languages.titles() == "Java, Kotlin"
    assert PARSERS == languages.parsers() == ("tree-sitter", "javalang")
    java, kotlin = languages.get("java"), languages.get("kotlin")
    assert (java.suffixes, kotlin.suffixes) == ((".java",), (".kt",))
    assert java.slicer() is slice_java and java.slicer("javalang") is javalang_backend.slice_java
    assert kotlin.slicer() is slice_kotlin and kotlin.slicer("javalang") is slice_kotlin


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("src/A.java", "java"),
        ("src/Money.kt", "kotlin"),
        ("SRC/MONEY.KT", "kotlin"),
        ("build.gradle.kts", None),
        ("notes.md", None),
        ("a.kt/README", None),
        ("Makefile", None),
    ],
)
def test_language_for_path(path, name):
    found = languages.language_for_path(path)
    assert (found.name if found else None) == name


def test_get_and_find():
    assert languages.find("markdown") is None and languages.find(None) is None
    with pytest.raises(InputError, match="unknown language 'cobol': choose one of java, kotlin"):
        languages.get("cobol")


def test_unknown_or_missing_parser_names_the_choices():
    with pytest.raises(InputError, match="unknown parser 'antlr': choose one of javalang, tree-"):
        languages.slicer_for("antlr")
    languages.slicer_for("javalang")


SNIPPETS = [
    "int x = 1;",
    "int x = ;",
    "public int f(int a) { return a; }",
    "@Override",
    "class A extends B",
    "void f()",
    "return x +;",
    "",
    "fun f() = 1",
]


@pytest.mark.parametrize("code", SNIPPETS)
def test_java_parses_is_the_code_filters_check(code):
    assert languages.get("java").parses(code) == java_parses(code)


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("val x = 1", True),
        ("val x = ", False),
        ("fun total(): Money = lines.values.map { it.total }.sum()", True),
        ("data class Money(val cents: Long) : Comparable<Money>", True),
        ("companion object", True),
        ("x += 1\nprintln(x)", True),
        ("@Test", True),
        ("fun f( {", False),
        ("", False),
    ],
)
def test_kotlin_parses(code, ok):
    assert languages.get("kotlin").parses(code) is ok


def test_families_gate_template_tasks():
    assert languages.task_applies("java", "method.is_test")
    assert languages.task_applies("markdown", "doc.section")  # not a registered language
    assert languages.task_applies("kotlin", "method.explain")
    assert not languages.task_applies("kotlin", "method.is_test")
    assert Language("x", "X", (".x",), {}, "", "", families=("type.*",)).applies("type.name")


def test_register_a_language(tmp_path):
    snake = Language(
        name="snake",
        title="Snake",
        suffixes=(".snk",),
        parsers={"tree-sitter": "dataprep.languages.kotlin.slicer:slice_kotlin"},
        validity="dataprep.languages.kotlin.validity:parses",
        facts="dataprep.languages.kotlin.facts",
    )
    try:
        languages.register(snake)
        assert languages.language_for_path("a/b.snk") is snake
        (tmp_path / "A.snk").write_text("class A {\n    fun f() = 1\n}\n")
        result = slice_file(tmp_path, "A.snk", (tmp_path / "A.snk").read_bytes())
        assert [u.qualified_name for u in result.units] == ["A", "A.f"]
        clash = Language("other", "Other", (".snk",), {}, "", "")
        with pytest.raises(InputError, match=r"suffix \.snk is already 'snake'"):
            languages.register(clash)
    finally:
        languages._REGISTRY.pop("snake", None)
        languages._SUFFIXES.pop(".snk", None)
