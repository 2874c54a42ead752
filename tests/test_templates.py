"""Grounded template pairs: templates validate, every family fires on the fixture, answers
are the source itself, no instruction has two answers, and re-runs give the same pairs."""

import json
import re
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import pytest
from conftest import FIXTURES, check_golden

from dataprep.errors import TemplateError
from dataprep.generate import candidates as gc
from dataprep.generate import java_facts as jf
from dataprep.generate import tasks as tk
from dataprep.generate import templates as tg
from dataprep.generate.code_text import dedent_code
from dataprep.languages.java.slicer import slice_java
from dataprep.resources import templates_dir
from dataprep.slicing import slice_repo

HOTEL = FIXTURES / "hotel-booking"
SHIPPED = sorted((templates_dir() / "instructions").glob("*.yaml"))
FAMILIES = {
    "type declaration": "type.declaration",
    "fields and initial values": "field.initializer",
    "what a method does": "method.explain",
    "code of a method": "method.code",
    "implement from the contract": "method.implement",
    "what a type is for": "type.explain",
    "the API of a type": "type.methods",
    "write a test": "test.write",
    "constructors": "constructor.code",
    "annotations": "type.annotations",
    "package and imports": "file.imports",
    "signature lookup": "member.signature",
    "javadoc to signature": "javadoc.signature",
    "which type declares a member": "member.owner",
    "docs sections": "doc.section",
    "controller handlers": "http.handler",
    "tests covering a method": "test.covers",
    "is this method a test (classification)": "method.is_test",
}
# Answers composed of several pieces of one file; every other task's output is one
# exact substring of the file within the pair's line span.
COMPOSED = {
    "test.write",
    "type.fields",
    "type.constructors",
    "type.annotations",
    "member.annotations",
    "file.imports",
    "http.route",
    "test.covers",
}
# Classification tasks: the output is a label, not text of the file (see _label_from_span).
LABELLED = {"method.is_test"}
TEST_ANNOTATION_RE = re.compile(
    r"@\s*(?:[\w$]+\s*\.\s*)*(?:Test|ParameterizedTest|RepeatedTest|TestFactory|TestTemplate)\b"
)


@pytest.fixture(scope="module")
def units():
    return slice_repo(HOTEL).units


@pytest.fixture(scope="module")
def pairs(units):
    return tg.generate_template_pairs(units)


# -- the template files ---------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_template_file_parses(path):
    parsed = tk.load_template_file(path)
    assert parsed.tasks
    for task in parsed.tasks.values():
        assert len(task.phrasings) >= 5


def test_the_shipped_tasks():
    assert set(tk.load_templates()) == {
        "type.declaration", "type.explain", "type.methods", "type.fields", "type.constructors",
        "type.annotations", "field.declaration", "field.initializer", "method.explain",
        "method.code", "method.implement", "method.name", "constructor.code",
        "constructor.explain", "member.signature", "javadoc.signature", "test.write",
        "method.usage", "type.has_method", "package.overview", "method.fill_in",
        "method.explain_inherited",
        "member.annotations", "member.owner", "file.package", "file.imports", "doc.section",
        "doc.changelog", "http.handler", "http.route", "test.covers", "method.is_test",
        "type.subtypes", "method.overrides", "method.overridden_by", "method.callers",
        "method.callees", "type.users", "http.flow", "enum.constants", "constant.explain",
        "config.default", "config.profile", "config.setting", "config.described", "config.prefix",
        "schema.columns", "schema.references", "method.view",
    }  # fmt: skip


GOOD_TASK = """
family: x
tasks:
  x.ask:
    kinds: [method]
    answer: code
    phrasings: ["a {member}", "b {member}", "c {member}", "d {member}", "e {member}"]
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("answer: code", "answer: vibes"),
            r"tasks\.x\.ask\.answer: unknown answer 'vibes'; use one of annotations, ",
        ),
        (
            ('"e {member}"]', '"e {member}"]\n    colour: red'),
            r"colour: Extra inputs are not permitted",
        ),
        ((', "e {member}"', ""), r"phrasings: List should have at least 5 items"),
        (
            ('"a {member}"', '"a {methd}"'),
            r"unknown placeholder \{methd\} in 'a \{methd\}'; use one of",
        ),
        (('"b {member}"', '"a {member}"'), r"two phrasings are the same"),
        (("x.ask", "Ask"), r"task id 'Ask' must look like 'method.explain'"),
        (("kinds: [method]", "kinds: [methods]"), r"kinds\.0: Input should be 'file'"),
        (("family: x", "family: [x"), r"is not valid YAML"),
    ],
)
def test_a_bad_template_file_names_the_file_and_the_fix(tmp_path, change, message):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD_TASK.replace(*change))
    with pytest.raises(TemplateError, match=message) as info:
        tk.load_templates(tmp_path)
    assert str(path) in str(info.value)


def test_the_good_file_loads(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD_TASK)
    assert list(tk.load_templates(tmp_path)) == ["x.ask"]


def test_a_task_defined_twice_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD_TASK)
    (tmp_path / "b.yaml").write_text(GOOD_TASK)
    with pytest.raises(TemplateError, match=r"b.yaml: task x.ask is defined twice; rename one"):
        tk.load_templates(tmp_path)


def test_an_empty_template_folder_is_an_error(tmp_path):
    with pytest.raises(TemplateError, match="no instruction templates"):
        tk.load_templates(tmp_path)


# -- pairs on the fixture project ----------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_produces_pairs_on_the_fixture(pairs, family):
    assert any(p.task == FAMILIES[family] for p in pairs)


def test_every_shipped_task_fires_on_the_fixture(pairs):
    # the fixture's paths all show their package, so its package is never asked; its
    # overrides all have Javadoc of their own (tests/test_families.py covers the inherited)
    unfired = {"file.package", "method.explain_inherited"}
    assert {p.task for p in pairs} == set(tk.load_templates()) - unfired


def test_no_answer_can_be_read_from_the_prompt():
    units = _slice(
        {"src/Flat.java": "package com.acme.flat;\nimport java.util.List;\nclass Flat {\n"
         "  /** Sums the list, twice over. */\n  @Test int sum(List<Integer> xs) {\n"
         "    return xs.isEmpty() ? 0 : sum(xs.subList(1, xs.size())) + 2 * xs.get(0);\n  }\n"
         "  int one() { return 1; }\n}\n",
         "com/acme/deep/Deep.java":
             "package com.acme.deep;\nimport java.util.Map;\nclass Deep {}\n"}
    )  # fmt: skip
    pairs = {p.task: p for p in tg.generate_template_pairs(units)}
    named = pairs["method.name"]
    assert "sum" not in named.input.replace("subList", "") and named.output == "sum"
    assert "____(xs.subList" in named.input  # the recursive call is masked too
    labelled = [p for p in tg.generate_template_pairs(units) if p.task == "method.is_test"]
    assert sorted(p.output for p in labelled) == ["no", "yes"]
    assert not any("@Test" in p.input for p in labelled)
    # with one label only (a repository without tests), the task teaches nothing: dropped
    alone = [u for u in units if u.name != "one"]
    assert "method.is_test" not in {p.task for p in tg.generate_template_pairs(alone)}
    packages = [p for p in tg.generate_template_pairs(units) if p.task == "file.package"]
    assert [(p.path, p.output) for p in packages] == [("src/Flat.java", "com.acme.flat")]
    assert "type.name" not in pairs  # a header shows its own name: no such task


def test_no_instruction_has_two_outputs(pairs):
    outputs = defaultdict(set)
    for pair in pairs:
        outputs[(pair.instruction, pair.input)].add(pair.output)
    assert {k: v for k, v in outputs.items() if len(v) > 1} == {}


def _lines(path: str) -> list[str]:
    return (HOTEL / path).read_text(encoding="utf-8").splitlines(keepends=True)


def _label_from_span(span: str) -> str:
    """`yes` when a test annotation lies in the span before the method's body."""
    header = span.split("{", 1)[0]
    return "yes" if TEST_ANNOTATION_RE.search(header) else "no"


def _traceable(pair) -> bool:
    lines = _lines(pair.path)
    span = "".join(lines[pair.start_line - 1 : pair.end_line])
    if pair.task in LABELLED:  # the label is read from the annotations in the span
        return _lines_in(pair.input, span) and pair.output == pair.label == _label_from_span(span)
    if pair.task in RELATIONS:
        return _relation_traceable(pair, span)
    if pair.task in CONFIG:
        return _config_traceable(pair)
    if pair.output in span:
        return True
    if pair.task in PROSE:  # Javadoc as Markdown: its words, from just above the member
        above = "".join(lines[max(0, pair.start_line - 60) : pair.start_line])
        return _words(pair.output) - MARKDOWN_WORDS <= _words(above)
    if pair.task == "test.write":  # the tests of the method: lines of its test file
        tests = "".join(_lines(pair.path.replace("/main/", "/test/").replace(".java", "Test.java")))
        return _lines_in(pair.output, tests) and _lines_in(pair.input, span)
    if pair.task == "method.usage":  # `call` returns `value`: an assertion of its tests
        call, value = re.findall(r"`([^`]+)`", pair.output)
        tests = " ".join(
            " ".join("".join(_lines(t.relative_to(HOTEL).as_posix())).split())
            for t in HOTEL.rglob("*Test.java")
        )
        return call in tests and value in tests and call in pair.instruction
    if pair.task == "type.has_method":  # yes: the signatures, in the span; no: real names
        names = re.findall(r"`([^`]+)`", pair.output)
        if pair.output.startswith("Yes: "):
            return all(n in span for n in names)
        fake, *closest = names
        text = "".join(lines)
        declared = re.compile(r"[\w>\]]\s+(\w+)\s*\(")  # `int size(`: a declaration
        known = set(declared.findall(text))
        return fake not in known and all(c.split("(")[0] in known for c in closest)
    if pair.task == "package.overview":  # each listed type is a public type of the package
        package = re.search(r"\b[a-z]\w*(?:\.[a-z]\w*)+", pair.instruction).group(0)
        folder = HOTEL.joinpath(pair.path).parent
        listed = re.findall(r"^- `(\w+)` \(", pair.output, re.M)
        return bool(listed) and all(
            (folder / f"{name}.java").is_file() and f"package {package};" in
            (folder / f"{name}.java").read_text() for name in listed
        )  # fmt: skip
    if pair.task == "enum.constants":  # its constants and their summaries, in the enum's span
        items = [re.fullmatch(r"- `(\w+)`(?:: (.+))?", ln) for ln in pair.output.splitlines()]
        return all(m and m[1] in span and _words(m[2] or "") <= _words(span) for m in items)
    if pair.task == "type.methods":  # the signatures of the type's methods, in its span
        return all(ln.strip("- `") in span for ln in pair.output.splitlines())
    if _lines_in(pair.output, span):  # code, dedented: the same lines
        return True
    if pair.task == "member.owner":  # package (from the file) + the type names in the span
        package = next(ln.split()[1].rstrip(";") for ln in lines if ln.startswith("package "))
        names = pair.output.removeprefix(package + ".").split(".")
        return pair.output.startswith(package + ".") and all(n in span for n in names)
    if pair.task == "signature.javadoc":  # cleaned Javadoc: its lines, just above the member
        above = "".join(lines[max(0, pair.start_line - 40) : pair.start_line - 1])
        return all(line.strip() in above for line in pair.output.splitlines())
    if pair.task in COMPOSED:
        return all(part.strip() in span for part in pair.output.split("\n"))
    return False


RELATIONS = {
    "type.subtypes", "method.overrides", "method.overridden_by", "method.callers",
    "method.callees", "type.users", "http.flow",
}  # fmt: skip
_DECLARES = re.compile(r"\b(?:class|interface|enum|record)\s+(\w+)")


@lru_cache(maxsize=1)
def _main_sources() -> dict[str, str]:
    """Type name, simple and qualified -> the text of the main-code file that declares it."""
    out = {}
    for path in HOTEL.rglob("*.java"):
        if "/main/" in path.as_posix():
            text = path.read_text(encoding="utf-8")
            package = re.search(r"^package ([\w.]+);", text, re.M)
            prefix = package.group(1) + "." if package else ""
            for name in _DECLARES.findall(text):
                out.update({name: text, prefix + name: text})
    return out


def _source_of(owner: str, sources: dict[str, str]) -> str:
    """`pkg.Type`, `Type`, `Outer.Inner` or `Enum.CONSTANT`: the file that declares it."""
    if owner in sources:
        return sources[owner]
    return next((sources[p] for p in owner.split(".") if p in sources), "")


def _relation_traceable(pair, span: str) -> bool:
    """Each type or method a relations answer names is declared in the fixture's main code,
    and the relation shows in the source: the subject's name in the subtype's header, in
    the user's file, called in the caller's file; the callee's name called in the span."""
    sources = _main_sources()
    names = re.findall(r"`([^`]+)`", pair.output)
    if pair.task.startswith("type."):
        subject = re.search(r"(?:class|interface|enum|record)\s+(\w+)", span).group(1)
    else:  # a method: the name before its parameters, annotations aside
        header = re.sub(r"@\w+(?:\([^()]*\))?", "", span).split("{", 1)[0]
        subject = re.search(r"(\w+)\s*\(", header).group(1)

    def declared(owner_member: str) -> str | None:
        owner, _, member = owner_member.split("(")[0].rpartition(".")
        text = _source_of(owner, sources)
        return text if re.search(rf"\b{re.escape(member)}\s*\(", text) else None

    if pair.task in ("type.subtypes", "type.users"):
        word = rf"\b{subject}\b"
        if pair.task == "type.subtypes":
            word = rf"(?:extends|implements)[^{{]*\b{subject}\b"
        return all(re.search(word, _source_of(q, sources)) for q in names)
    if pair.task == "method.overrides":  # `SIGNATURE` of `Owner`
        signature, owner = names
        return f"{subject}(" in signature and signature in _source_of(owner, sources)
    if pair.task == "method.overridden_by":  # `Owner.subject`, each declared there
        same = all(n.split("(")[0].rpartition(".")[2] == subject for n in names)
        return same and all(declared(n) for n in names)
    if pair.task == "method.callers":
        callers = [declared(n) for n in names]
        return all(t and re.search(rf"\b{subject}\s*\(|::\s*{subject}\b", t) for t in callers)
    listed = names[1:] if pair.task == "http.flow" else names
    if pair.task == "http.flow" and not names[0].endswith("." + subject):
        return False
    top = [n.split("(")[0].rpartition(".")[2] for n in listed if f"\n- `{n}`" in "\n" + pair.output]
    called = all(re.search(rf"\b{n}\s*\(|::\s*{n}\b", span.split("{", 1)[1]) for n in top)
    return called and all(declared(n) for n in listed)


CONFIG = {
    "config.default", "config.profile", "config.setting", "config.described", "config.prefix",
    "schema.columns", "schema.references", "method.view",
}  # fmt: skip


def _config_traceable(pair) -> bool:
    """Every file a configuration answer names exists, and every key, value, column
    definition or view name it shows in backticks is in its module's configuration, SQL or
    Java files (a YAML key as its segments, `a.b -> c.d` as its names)."""
    module = HOTEL / pair.path.split("/")[0]
    sources = [p for p in module.rglob("*") if p.suffix in (".properties", ".yml", ".sql", ".java")]
    text = " ".join(" ".join(p.read_text(encoding="utf-8").split()) for p in sources)
    named = re.findall(r"[\w/.-]+/[\w.-]+\.(?:properties|yml|sql|html)\b", pair.output)
    if not all((HOTEL / path).is_file() for path in named):
        return False
    tokens = re.findall(r"`([^`]+)`", pair.output)
    return bool(tokens) and all(
        token in text or all(part in text for part in re.split(r"\.", token)) for token in tokens
    )


PROSE = {"method.explain", "constructor.explain", "type.explain", "constant.explain"}
MARKDOWN_WORDS = {"Parameters", "Returns", "Throws", "Deprecated"}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z0-9_]+", text))


def _lines_in(text: str, span: str) -> bool:
    """Every line of `text` occurs in `span` (code shown dedented keeps its lines)."""
    return all(line.strip() in span for line in text.splitlines())


def test_every_output_is_traceable_to_its_source_lines(pairs):
    assert RELATIONS <= {p.task for p in pairs}  # the relations checks below do run
    untraceable = [
        (p.template, p.path, p.start_line, p.output[:60]) for p in pairs if not _traceable(p)
    ]
    assert untraceable == []


def test_only_classification_pairs_carry_a_label(pairs):
    assert {p.task for p in pairs if p.label is not None} == LABELLED
    assert all(p.label == p.output for p in pairs if p.task in LABELLED)


def test_is_test_labels_on_the_fixture(pairs, units):
    labelled = [p for p in pairs if p.task == "method.is_test"]
    tests = [
        u
        for u in units
        if u.kind == "method" and any(TEST_ANNOTATION_RE.match(a) for a in u.annotations)
    ]
    assert Counter(p.label for p in labelled) == {"yes": len(tests), "no": len(labelled) - 16}
    assert len(tests) == 16  # every @Test of the fixture's six test classes
    assert {p.unit_id for p in labelled if p.label == "yes"} == {u.id for u in tests}
    assert all(jf.is_test_path(p.path) for p in labelled if p.label == "yes")
    assert {p.instruction for p in labelled} >= {"Is this method a test? Answer yes or no."}


def test_is_test_reads_junit5_and_testng_annotations_and_skips_what_it_cannot_tell():
    units = _slice(
        {"a/src/test/CalcTest.java": "package p;\nclass CalcTest {\n"
         " @ParameterizedTest\n @ValueSource(ints = {1, 2})\n void adds(int x) { }\n"
         " @org.testng.annotations.Test(groups = \"fast\")\n public void subtracts() { }\n"
         " @RepeatedTest(3) void repeats() { }\n"
         " @TestFactory Stream<DynamicTest> dyn() { return null; }\n"
         " public void testLegacy() { }\n private Calc calc() { return new Calc(); }\n}\n"}
    )  # fmt: skip
    names = {u.id: u.name for u in units}
    labels = {
        names[p.unit_id]: p.label
        for p in tg.generate_template_pairs(units)
        if p.task == "method.is_test"
    }
    assert labels == {
        "adds": "yes", "subtracts": "yes", "repeats": "yes", "dyn": "yes", "calc": "no"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("@Test\nvoid cancels() { }", "yes"),
        ("/** Checks it.\n * @return x */\n@Test public void cancels() {}", "yes"),
        ('@Test(expected = IllegalStateException.class)\npublic void f() { g("{"); }', "yes"),
        ("@org.junit.jupiter.api.RepeatedTest(2) void r(@TempDir Path dir) {}", "yes"),
        ('@Override public String toString() { return "@Test"; }', "no"),
        ("public int rate() { return rate; }", "no"),
        ("public void testLegacy() { }", None),
    ],
)
def test_is_test_answer_of_code(code, label):
    assert jf.is_test_answer_of_code(code) == label
    assert tk.label_reader("method.is_test")(code) == label


def test_label_reader_is_only_for_classification_tasks():
    assert tk.label_reader("method.explain") is None and tk.label_reader("nope") is None
    assert tk.input_kind("method.is_test") == "bare_code" and tk.input_kind("nope") is None


def _made_of(output: str, pieces: set[str]) -> bool:
    """`output` is whole pieces joined by line breaks, nothing else."""
    rest = output
    for piece in sorted((p for p in pieces if p in output), key=len, reverse=True):
        rest = rest.replace(piece, "")
    return rest.replace("\n", "") == ""


def test_composed_answers_are_whole_pieces_of_the_file(pairs, units):
    pieces = {
        "type.fields": {u.code for u in units if u.kind == "field"},
        "type.constructors": {u.code for u in units if u.kind == "constructor"},
        "test.covers": {u.code for u in units if u.kind == "method"},
        "type.annotations": {a for u in units for a in u.annotations},
        "member.annotations": {a for u in units for a in u.annotations},
        "http.route": {a for u in units for a in u.annotations},
    }
    pieces = {task: {dedent_code(p) for p in found} for task, found in pieces.items()}
    for pair in pairs:
        if pair.task in pieces:
            assert _made_of(pair.output, pieces[pair.task]), (pair.template, pair.output)


def test_pairs_record_their_provenance(pairs, units):
    by_id = {u.id: u for u in units}
    for pair in pairs:
        unit = by_id[pair.unit_id]
        assert pair.generator == "template"
        assert pair.template.startswith(pair.task + ".")
        assert pair.unit_kind == unit.kind and pair.path == unit.path
        assert pair.repo == "hotel-booking" and pair.commit is None
        assert pair.module == (pair.path.split("/")[0] if "/" in pair.path else None)
        assert 1 <= pair.start_line <= pair.end_line


def test_generation_is_deterministic_and_seeded(units, pairs):
    assert [p.model_dump() for p in tg.generate_template_pairs(units)] == [
        p.model_dump() for p in pairs
    ]
    other = tg.generate_template_pairs(units, seed=1)
    assert {p.output for p in other} == {p.output for p in pairs}
    assert {p.template for p in other} != {p.template for p in pairs}


def test_golden_sample_of_pairs(pairs, update_golden):
    sample = [
        {
            k: p.model_dump()[k]
            for k in ("template", "instruction", "input", "output", "start_line", "end_line")
        }
        for p in sorted(pairs, key=lambda p: (p.start_line, p.template, p.instruction))
        if p.path == "booking/src/main/java/com/example/hotel/booking/BookingController.java"
    ]
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in sample)
    check_golden("templates/booking_controller.jsonl", text, update_golden)


def test_controller_routes_join_the_class_prefix(pairs):
    handlers = {p.instruction: p.output for p in pairs if p.task == "http.handler"}
    confirm = [i for i in handlers if "POST /booking/{id}/confirm" in i]
    assert len(confirm) == 1
    assert "public String confirmBooking(" in handlers[confirm[0]]


def test_tests_are_matched_by_name(pairs):
    covers = {(p.instruction, p.output) for p in pairs if p.task == "test.covers"}
    create = [
        o
        for i, o in covers
        if "createBooking of BookingService" in i or "createBooking in BookingService" in i
    ]
    assert len(create) == 1
    assert "void createBooking_freeRoom_returnsPendingBookingWithTotal()" in create[0]
    assert "void createBooking_tooManyGuests_fails()" in create[0]


# -- qualification -------------------------------------------------------------------------


def _slice(files: dict[str, str]):
    units = []
    for path, text in files.items():
        units += slice_java(path, text, "r", None)[0]
    return units


def _instructions(pairs, task):
    return sorted(p.instruction for p in pairs if p.task == task)


def test_overloads_are_told_apart_by_their_signature():
    units = _slice(
        {"a/src/Finder.java": "package p;\nclass Finder {\n int find(int id) { return id; }\n"
         " int find(String name) { return 0; }\n int size() { return 1; }\n}\n"}
    )  # fmt: skip
    pairs = tg.generate_template_pairs(units)
    explain = [p for p in pairs if p.task == "method.code"]
    assert len(explain) == 3
    texts = " | ".join(p.instruction for p in explain)
    assert "find(int id)" in texts and "find(String name)" in texts
    assert "size()" not in texts  # a unique name stays short


def test_same_named_types_across_modules_get_their_path():
    same = "package com.x;\npublic class Token {\n  String value;\n}\n"
    units = _slice(
        {"auth/src/Token.java": same, "pay/src/Token.java": same.replace("String", "long")}
    )
    pairs = tg.generate_template_pairs(units)
    fields = {p.instruction: p.output for p in pairs if p.task == "field.declaration"}
    assert len(fields) == 2
    auth = [i for i in fields if "com.x.Token in auth/src/Token.java" in i]
    pay = [i for i in fields if "com.x.Token in pay/src/Token.java" in i]
    assert [fields[i] for i in auth + pay] == ["String value;", "long value;"]
    # the same header twice is one answer: no need to qualify "How is Token declared?"
    assert {p.instruction.count(" in ") for p in pairs if p.task == "type.declaration"} == {0}
    # "which type declares value?" has one answer here, in both modules
    assert {p.output for p in pairs if p.task == "member.owner"} == {"com.x.Token"}


def test_different_packages_are_told_apart_by_qualified_name():
    units = _slice(
        {
            "a/A.java": "package one;\nclass Token { int a; }\n",
            "b/B.java": "package two;\nclass Token { long a; }\n",
        }
    )
    fields = _instructions(tg.generate_template_pairs(units), "field.declaration")
    assert len(fields) == 2
    assert any("one.Token" in i for i in fields) and any("two.Token" in i for i in fields)
    assert not any(".java" in i for i in fields)


METHOD = """package p;

/** HTTP methods. */
public enum Method {
    /** Reads a resource. It sends no request body. */
    GET(false) {
        @Override boolean hasBody() { return false; }
    },
    POST(true),
    @SerializedName("put") PUT(true);

    private final boolean body;

    Method(boolean body) { this.body = body; }

    boolean hasBody() { return body; }
}
"""


def test_enum_constants_are_asked_as_constants_never_as_fields():
    pairs = defaultdict(list)
    for pair in tg.generate_template_pairs(_slice({"p/Method.java": METHOD})):
        pairs[pair.task].append(pair)
    (listed,) = pairs["enum.constants"]
    assert "Method" in listed.instruction and listed.input == ""
    assert listed.output == "- `GET`: Reads a resource.\n- `POST`\n- `PUT`"  # summaries only
    (meaning,) = pairs["constant.explain"]
    assert "GET" in meaning.instruction and "Method" in meaning.instruction
    assert meaning.output == "Reads a resource. It sends no request body."  # prose
    assert meaning.unit_kind == "enum_constant"
    # fields are the enum's own fields; no constant is asked for its "initial value"
    assert [p.output for p in pairs["type.fields"]] == ["private final boolean body;"]
    field_pairs = [p for task, found in pairs.items() if task.startswith("field.") for p in found]
    assert field_pairs and all("body" in p.instruction for p in field_pairs)
    assert "(false)" not in {p.output for found in pairs.values() for p in found}
    (annotated,) = pairs["member.annotations"]
    assert "PUT" in annotated.instruction and annotated.output == '@SerializedName("put")'


def test_an_enum_lists_at_most_max_constants():
    names = [f"C{i:02}" for i in range(gc.MAX_CONSTANTS + 3)]  # on one line: by name
    source = "package p;\n\nenum Many { " + ", ".join(reversed(names)) + " }\n"
    (listed,) = [p for p in tg.generate_template_pairs(_slice({"p/Many.java": source}))
                 if p.task == "enum.constants"]  # fmt: skip
    lines = listed.output.split("\n")
    assert lines[: gc.MAX_CONSTANTS] == [f"- `{n}`" for n in names[: gc.MAX_CONSTANTS]]
    assert lines[gc.MAX_CONSTANTS :] == ["- and 3 more constants"]


def test_resolve_drops_what_cannot_be_qualified():
    units = _slice({"A.java": "class A { int x = 1; }\n", "B.java": "class B { int x = 2; }\n"})
    pairs = tg.generate_template_pairs(units)
    outputs = defaultdict(set)
    for pair in pairs:
        outputs[(pair.instruction, pair.input)].add(pair.output)
    assert all(len(v) == 1 for v in outputs.values())
    assert sorted(p.output for p in pairs if p.task == "field.initializer") == ["1", "2"]
    # "Which type declares the field x?" has two answers and naming the type would give it
    # away: dropped, not qualified
    assert [p for p in pairs if p.task == "member.owner"] == []


def test_resolution_in_parts_is_resolution_over_all(units):
    """The stage hashes each file's conflict keys where it builds its candidates and
    resolves on the parts: the same levels and pairs as one pass over every candidate, and
    keys hashed with another hash seed are refused, not mixed."""
    by_path = defaultdict(list)
    for unit in units:
        by_path[unit.path].append(unit)
    files = [gc.file_candidates(by_path[p]) for p in sorted(by_path)]
    files.append(tg.repo_level_candidates(units))
    whole = tg.plan([c for found in files for c in found])
    parts = tg.plan_keys(tg.conflict_keys(found) for found in files)
    assert parts.stats == whole.stats and whole.stats["qualified"] > 0
    assert (parts.level == whole.level).all() and (parts.keep == whole.keep).all()
    assert 0 < whole.keep.sum() < len(whole.keep)
    foreign = tg.conflict_keys(files[0])._replace(probe=hash("another seed"))
    assert not foreign.usable()
    with pytest.raises(ValueError, match="hash seed"):
        tg.plan_keys([foreign])


# -- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "signature"),
    [
        ('@GetMapping("/{id}")\npublic Booking get(@PathVariable long id) {\n  return x;\n}',
         "public Booking get(@PathVariable long id)"),
        ('@RequestMapping(value = {"/a", "/b"}, method = RequestMethod.GET)\nvoid f() { }',
         "void f()"),
        ("abstract int size();", "abstract int size()"),
        ("<T> List<T> of(T... items)\n    throws IOException {\n}",
         "<T> List<T> of(T... items)\n    throws IOException"),
        # a remark between the annotations and the method is no part of its signature
        ("@Override // see f(\npublic int f() { return 1; }", "public int f()"),
        ("@Deprecated /* { */ int g(int /* n */ n) { return n; }", "int g(int n)"),
    ],
)  # fmt: skip
def test_signature_of(code, signature):
    unit = _slice({"A.java": "class A {\n" + code + "\n}\n"})
    method = next(u for u in unit if u.kind == "method")
    assert jf.signature_of(method) == signature


@pytest.mark.parametrize(
    ("test_name", "target"),
    [
        ("testCancelBooking", "cancelBooking"),
        ("cancelBooking_twice_fails", "cancelBooking"),
        ("shouldCancelBooking", "cancelBooking"),
        ("cancelBookingsInBulk", "cancel"),  # "cancelBookings" is not "cancelBooking" + a word
        ("cancel", "cancel"),
        ("getIdentity", None),
    ],
)
def test_test_target(test_name, target):
    assert jf.test_target(test_name, ["cancel", "cancelBooking", "getId"]) == target


@pytest.mark.parametrize(
    ("annotation", "path", "method"),
    [
        ('@GetMapping("/{id}")', "/{id}", "GET"),
        ("@PostMapping", "", "POST"),
        ('@DeleteMapping(value = "/{id}")', "/{id}", "DELETE"),
        ('@RequestMapping(path = "/x", method = RequestMethod.PUT)', "/x", "PUT"),
        ('@RequestMapping("/booking")', "/booking", None),
    ],
)
def test_mapping_annotations(annotation, path, method):
    assert jf.mapping_path(annotation) == path
    assert jf.mapping_method(annotation) == method


def test_templates_fingerprint_changes_with_the_templates(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD_TASK)
    first = tk.templates_fingerprint(tmp_path)
    (tmp_path / "good.yaml").write_text(GOOD_TASK.replace('"a {member}"', '"z {member}"'))
    tk._shipped.cache_clear()
    assert tk.templates_fingerprint(tmp_path) != first
    assert tk.templates_fingerprint() == tk.templates_fingerprint(
        Path(templates_dir() / "instructions")
    )


def test_a_fill_in_answer_starts_at_column_0(monkeypatch):
    """A span that starts on a continuation line (`.anyMatch(...)`) would dedent to an answer
    starting with spaces, which merges with the prompt's last newline into one token."""
    from dataprep.generate import code_text

    code = (
        "boolean f(List<B> bs) {\n"
        "    int n = 0;\n"
        "    boolean taken = bs.stream()\n"
        "        .anyMatch(b -> b.ok());\n"
        "    if (taken) {\n"
        "        n++;\n"
        "    }\n"
        "    return taken;\n"
        "}"
    )

    def answers() -> list[str]:
        return [code_text.fim_split(code, f"key{i}")[1] for i in range(60)]

    assert not any(a[:1].isspace() or a.startswith(".") for a in answers())
    # without the rules (a span led by its least indented line, and not by a line that
    # carries on the statement above)
    monkeypatch.setattr(code_text, "_leads", lambda lines, start, most: most)
    monkeypatch.setattr(code_text, "_continues", lambda code: False)
    assert any(a[:1].isspace() for a in answers())


def test_a_candidates_pair_row_is_the_row_of_its_pair(units):
    """The pairs pass builds a candidate's store row without the `Pair` model: the same row,
    byte for byte, at every level (defaults left out as `Pair` leaves them out)."""
    from dataprep.generate.template_stage import _pair_fields
    from dataprep.store_schema import pair_row, pair_row_of

    cands = tg.repo_level_candidates(units) + [
        c for path in sorted({u.path for u in units}) for c in gc.file_candidates(
            [u for u in units if u.path == path]
        )
    ]  # fmt: skip
    assert any(c.label is not None for c in cands) and any(c.input == "" for c in cands)
    assert all(tuple(vars(c)) == gc._FIELD_NAMES for c in cands)  # as `Candidate(...)` has them
    for cand in cands:
        for level in range(cand.max_level + 1):
            cand.level = level
            assert pair_row_of(_pair_fields(cand)) == pair_row(cand.to_pair())


def test_a_javadoc_that_is_a_resource_line_or_a_c_prototype_is_not_explained():
    units = _slice(
        {
            "r/CompilerProperties.java": (
                "package p;\npublic class CompilerProperties {\n"
                "  public static class Errors {\n"
                "    /**\n     * compiler.err.cant.read.file=\\\n"
                "     *    error reading source file {0}: {1}\n     */\n"
                "    public static String CantReadFile(String a, String b) {\n"
                '      return "cant.read.file";\n    }\n  }\n}\n'
            ),
            "r/Native.java": (
                "package p;\nclass Native {\n"
                "  /**\n   * mknod(const char* path, mode_t mode, dev_t dev)\n   */\n"
                "  static native int mknod(long path, int mode, long dev);\n"
                "  /**\n   * Returns the (possibly expanded) keystore location, or null\n"
                "   * if the expansion fails.\n   *\n   * <pre>{@code\n"
                "   * String where = location();\n   * }</pre>\n   */\n"
                "  static String location() { return null; }\n}\n"
            ),
        }
    )
    pairs = tg.generate_template_pairs(units)
    explained = {p.output for p in pairs if p.task in PROSE}
    assert len(explained) == 1  # the summary in prose, its example after it
    assert next(iter(explained)).startswith("Returns the (possibly expanded) keystore location")
    assert "method.code" in {p.task for p in pairs if p.path == "r/CompilerProperties.java"}


def test_an_interface_method_is_asked_which_methods_implement_it():
    units = _slice(
        {
            "a/src/main/java/p/Filter.java": "package p;\npublic interface Filter {\n"
            "  void request(String r);\n}\n",
            "a/src/main/java/p/Cookies.java": "package p;\n"
            "public class Cookies implements Filter {\n"
            "  /** Adds the stored cookies. */\n  public void request(String r) { }\n}\n",
            "a/src/main/java/p/Auth.java": "package p;\npublic class Auth implements Filter {\n"
            "  public void request(String r) { r.trim(); }\n}\n",
        }
    )
    pairs = tg.generate_template_pairs(units)
    by = [p for p in pairs if p.task == "method.overridden_by"]
    assert [p.output for p in by] == [
        "- `Auth.request`\n- `Cookies.request`: Adds the stored cookies."
    ]
    assert "request" in by[0].instruction and "Filter" in by[0].instruction
