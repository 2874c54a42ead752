"""Slicing: walk, tree-sitter Java slicer, doc slicer, slice_repo."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, check_golden

from dataprep.errors import InputError
from dataprep.languages.java.slicer import normalize_type, slice_java
from dataprep.slicing import PARSERS, java_backend, slice_file, slice_repo, walk
from dataprep.slicing.docs import MAX_SECTION_CHARS, slice_doc

HOTEL = FIXTURES / "hotel-booking"


@pytest.fixture(scope="module")
def hotel():
    return slice_repo(HOTEL)


def by_qname(result, qualified_name: str, kind: str | None = None):
    found = [
        u for u in result.units if u.qualified_name == qualified_name and kind in (None, u.kind)
    ]
    assert found, f"no unit {qualified_name} ({kind})"
    return found


def one(result, qualified_name: str, kind: str | None = None, signature: str | None = None):
    found = [u for u in by_qname(result, qualified_name, kind) if signature in (None, u.signature)]
    assert len(found) == 1, [(u.kind, u.signature) for u in found]
    return found[0]


# -- golden ---------------------------------------------------------------------------


def test_hotel_units_match_golden(hotel, update_golden):
    text = "".join(unit.model_dump_json() + "\n" for unit in hotel.units)
    check_golden("hotel-booking.units.jsonl", text, update_golden)


def test_hotel_summary(hotel):
    assert hotel.repo == "hotel-booking"
    assert hotel.commit is None  # not its own git work tree
    assert hotel.parse_errors == []
    skipped = dict(hotel.skipped)
    assert skipped["target/"] == walk.IGNORED
    assert skipped["logs/app.log"] == walk.IGNORED
    assert skipped["third_party/"] == walk.VENDORED
    assert (
        skipped["common/src/main/java/com/example/hotel/common/generated/BuildInfo.java"]
        == walk.GENERATED
    )
    assert skipped["pom.xml"] == walk.UNSUPPORTED
    kinds = hotel.units_by_kind()
    for kind in (
        "file",
        "class",
        "interface",
        "enum",
        "record",
        "annotation_type",
        "field",
        "enum_constant",
        "constructor",
        "method",
        "doc_section",
    ):
        assert kinds[kind] > 0, kind


# -- invariants -------------------------------------------------------------------------


def test_ids_unique(hotel):
    ids = [u.id for u in hotel.units]
    assert len(ids) == len(set(ids))


def test_code_is_exact_substring_within_its_lines(hotel):
    for unit in hotel.units:
        text = (HOTEL / unit.path).read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        assert 1 <= unit.start_line <= unit.end_line <= len(lines)
        span = "".join(lines[unit.start_line - 1 : unit.end_line])
        assert unit.code and unit.code in span, (unit.path, unit.qualified_name)
        assert unit.code.lstrip() == unit.code or unit.kind == "doc_section"
        assert unit.id == unit.make_id(
            unit.path, unit.kind, unit.qualified_name, unit.signature, unit.code
        )


def test_member_code_starts_at_annotation_and_keeps_javadoc_out(hotel):
    handler = one(hotel, "com.example.hotel.booking.BookingController.cancelBooking", "method")
    assert handler.code.startswith(
        '@DeleteMapping(value = "/{id}")\n    public ResponseEntity<Void> cancelBooking('
    )
    assert handler.code.endswith("}")
    assert handler.annotations == ['@DeleteMapping(value = "/{id}")']
    assert handler.modifiers == ["public"]
    assert handler.parameters == ["@PathVariable long id"]
    assert "/**" not in handler.code
    assert handler.javadoc.startswith("/**") and "@param id the booking id" in handler.javadoc


# -- fields -------------------------------------------------------------------------------


def test_two_variables_in_one_declaration_are_two_units(hotel):
    number = one(hotel, "com.example.hotel.common.Page.number", "field")
    size = one(hotel, "com.example.hotel.common.Page.size", "field")
    assert number.code == size.code == "private final int number, size;"
    assert number.declaration == "private final int number;"
    assert size.declaration == "private final int size;"
    adults = one(hotel, "com.example.hotel.booking.Booking.adults", "field")
    children = one(hotel, "com.example.hotel.booking.Booking.children", "field")
    assert (adults.initializer, children.initializer) == ("1", None)
    assert adults.declaration == "private int adults = 1;"
    assert adults.signature == "int adults" and adults.type == "int"


def test_field_modifiers_all_kept(hotel):
    created = one(hotel, "com.example.hotel.booking.Booking.createdAt", "field")
    assert created.modifiers == ["protected", "transient"]
    assert created.initializer == "Instant.now()"
    zero = one(hotel, "com.example.hotel.common.Money.ZERO_EUR", "field")
    assert zero.modifiers == ["public", "static", "final"]


# -- methods, overloads, constructors -------------------------------------------------


def test_overloads_are_distinct(hotel):
    overloads = by_qname(hotel, "com.example.hotel.room.Room.addFeature", "method")
    assert sorted(u.signature for u in overloads) == [
        "addFeature(String)",
        "addFeature(String, boolean)",
        "addFeature(String...)",
    ]
    create = by_qname(hotel, "com.example.hotel.booking.BookingService.createBooking", "method")
    assert sorted(u.signature for u in create) == [
        "createBooking(BookingRequest)",
        "createBooking(BookingRequest, PriceCalculator.Discount)",
    ]
    ctors = by_qname(hotel, "com.example.hotel.booking.Booking.Booking", "constructor")
    assert sorted(u.signature for u in ctors) == [
        "Booking(long, String, DateRange)",
        "Booking(long, String, DateRange, int, int)",
    ]


def test_method_details(hotel):
    get = one(hotel, "com.example.hotel.room.RoomService.getRoom", "method")
    assert get.type == "Room" and get.throws == ["NoSuchElementException"]
    assert get.declaration.endswith("public Room getRoom(long id) throws NoSuchElementException")
    mapper = one(hotel, "com.example.hotel.common.Page.map", "method")
    assert mapper.type_parameters == "<R extends Comparable<? super R>>"
    assert mapper.signature == "map(Function<? super T, ? extends R>)"
    assert mapper.parent == "com.example.hotel.common.Page"
    assert mapper.package == "com.example.hotel.common"


def test_spring_controller_annotations(hotel):
    controller = one(hotel, "com.example.hotel.booking.BookingController", "class")
    assert controller.annotations == ["@RestController", '@RequestMapping("/booking")']
    get = one(hotel, "com.example.hotel.booking.BookingController.getBooking", "method")
    assert get.annotations == ['@GetMapping("/{id}")']
    create = one(hotel, "com.example.hotel.booking.BookingController.createBooking", "method")
    assert create.annotations == ["@PostMapping", "@ResponseStatus(HttpStatus.CREATED)"]
    assert create.parameters == ["@Valid @RequestBody BookingRequest request"]


# -- types and modern Java ------------------------------------------------------------------


def test_type_header_and_declaration(hotel):
    page = one(hotel, "com.example.hotel.common.Page", "class")
    assert page.code == "public final class Page<T extends Comparable<? super T>>"
    assert page.declaration == page.code + " {}"
    assert page.type_parameters == "<T extends Comparable<? super T>>"
    assert page.modifiers == ["public", "final"]
    text = (HOTEL / page.path).read_text()
    assert page.end_line == len(text.splitlines())  # the span covers the body
    repo = one(hotel, "com.example.hotel.room.RoomRepository", "interface")
    assert repo.extends == ["Repository<Room, Long>"]


def test_records_and_compact_constructors(hotel):
    money = one(hotel, "com.example.hotel.common.Money", "record")
    assert (
        money.code
        == "public record Money(BigDecimal amount, Currency currency) implements Comparable<Money>"
    )
    assert money.parameters == ["BigDecimal amount", "Currency currency"]
    assert money.implements == ["Comparable<Money>"]
    compact = one(hotel, "com.example.hotel.common.Money.Money", "constructor")
    assert compact.signature == "Money(BigDecimal, Currency)"
    assert compact.code.startswith("public Money {")
    request = one(hotel, "com.example.hotel.booking.BookingRequest", "record")
    assert "@Min(1) int adults" in request.parameters


def test_sealed_interfaces_and_permits(hotel):
    result = one(hotel, "com.example.hotel.common.Result", "interface")
    assert result.modifiers == ["public", "sealed"]
    assert result.permits == ["Result.Success", "Result.Failure"]
    assert result.type_parameters == "<T>"
    success = one(hotel, "com.example.hotel.common.Result.Success", "record")
    assert (
        success.implements == ["Result<T>"] and success.parent == "com.example.hotel.common.Result"
    )
    discount = one(hotel, "com.example.hotel.booking.PriceCalculator.Discount", "interface")
    assert discount.permits == ["Percentage", "FixedAmount", "NoDiscount"]


def test_enums_with_bodies_and_constructors(hotel):
    family = one(hotel, "com.example.hotel.room.RoomType.FAMILY", "enum_constant")
    assert family.initializer == '(4, "189.00")' and family.type == "RoomType"
    assert family.code.startswith('FAMILY(4, "189.00") {')
    inside = one(hotel, "com.example.hotel.room.RoomType.FAMILY.allowsChildren", "method")
    assert inside.parent == "com.example.hotel.room.RoomType.FAMILY"
    assert inside.annotations == ["@Override"]
    ctor = one(hotel, "com.example.hotel.room.RoomType.RoomType", "constructor")
    assert ctor.signature == "RoomType(int, String)"
    status = one(hotel, "com.example.hotel.booking.BookingStatus.canMoveTo", "method")
    assert "return switch (this) {" in status.code  # switch expression


def test_annotation_type_with_elements_and_defaults(hotel):
    audited = one(hotel, "com.example.hotel.common.Audited", "annotation_type")
    assert audited.annotations == [
        "@Documented",
        "@Retention(RetentionPolicy.RUNTIME)",
        "@Target({ElementType.METHOD, ElementType.TYPE})",
    ]
    level = one(hotel, "com.example.hotel.common.Audited.level", "method")
    assert (level.signature, level.type, level.initializer) == ("level()", "int", "1")
    tags = one(hotel, "com.example.hotel.common.Audited.tags", "method")
    assert tags.type == "String[]" and tags.initializer == '{"booking", "audit"}'
    charge = one(hotel, "com.example.hotel.booking.payment.PaymentGateway.charge", "method")
    assert charge.annotations == ['@Audited(action = "charge", level = 3, tags = {"payment"})']


def test_text_blocks_patterns_var_lambdas(hotel):
    confirm = one(hotel, "com.example.hotel.booking.Notifier.confirm", "method")
    assert '"""\n                Dear %s,' in confirm.code
    apply = one(hotel, "com.example.hotel.booking.PriceCalculator.apply", "method")
    assert "case Percentage(int percent) when percent == 0 -> total;" in apply.code
    describe = one(hotel, "com.example.hotel.booking.PriceCalculator.describe", "method")
    assert "instanceof FixedAmount(Money amount)" in describe.code
    find = one(hotel, "com.example.hotel.room.RoomService.findRoomsFor", "method")
    assert "var matching" in find.code and "Room::getType" in find.code


def test_anonymous_inner_and_local_types(hotel):
    run = one(hotel, "com.example.hotel.booking.Notifier$1.run", "method")
    assert run.parent == "com.example.hotel.booking.Notifier$1"
    attempts = one(hotel, "com.example.hotel.booking.Notifier$1.attempts", "field")
    assert attempts.initializer == "0"
    view = one(hotel, "com.example.hotel.auth.User.View.displayName", "method")
    assert view.parent == "com.example.hotel.auth.User.View"
    in_test = one(hotel, "com.example.hotel.room.RoomServiceTest$1.findByType", "method")
    assert in_test.signature == "findByType(RoomType)"
    nested_test = one(
        hotel, "com.example.hotel.booking.BookingServiceTest.StatusLabel.statusLabel_pending"
    )
    assert nested_test.annotations == ["@Test"]


def test_same_simple_name_in_two_modules(hotel):
    tokens = [u for u in hotel.units if u.name == "Token" and u.kind in ("class", "record")]
    assert sorted(u.qualified_name for u in tokens) == [
        "com.example.hotel.auth.Token",
        "com.example.hotel.booking.payment.Token",
    ]


def test_file_units(hotel):
    unit = one(
        hotel, "booking/src/test/java/com/example/hotel/booking/BookingServiceTest.java", "file"
    )
    assert unit.name == "BookingServiceTest.java" and unit.package == "com.example.hotel.booking"
    assert unit.imports[0] == "static org.junit.jupiter.api.Assertions.assertEquals"
    assert "java.util.List" in unit.imports
    assert unit.code.startswith("package com.example.hotel.booking;")
    assert unit.code.endswith("import org.junit.jupiter.api.Test;")


def test_javadoc_with_xss_payload_kept_verbatim(hotel):
    controller = one(hotel, "com.example.hotel.booking.BookingController", "class")
    assert "<script>alert('xss')</script>" in controller.javadoc
    assert '<img src=x onerror="alert(1)">' in controller.javadoc


def test_normalize_type():
    assert normalize_type("Map< String ,List<Integer> >") == "Map<String, List<Integer>>"
    assert normalize_type("Function<? super T,? extends R>") == "Function<? super T, ? extends R>"
    assert normalize_type("int [ ]") == "int[]"


# -- syntax errors ----------------------------------------------------------------------------

BROKEN = """package p;

import java.util.List;

public class Broken {
    private int ok = 1;

    void fine() {
        System.out.println("fine");
    }

    void broken( {
        int x = ;
    }

    int after() {
        return 2;
    }
}
"""


def test_syntax_error_file_keeps_parsable_units_and_reports_line(tmp_path):
    (tmp_path / "Broken.java").write_text(BROKEN)
    result = slice_repo(tmp_path)
    names = {u.qualified_name for u in result.units}
    assert {"p.Broken", "p.Broken.ok", "p.Broken.fine", "p.Broken.after"} <= names
    assert "p.Broken.broken" not in names
    assert result.parse_errors and all(e.startswith("Broken.java:") for e in result.parse_errors)
    lines = {int(e.split(":")[1]) for e in result.parse_errors}
    assert lines <= {12, 13} and lines
    file_unit = next(u for u in result.units if u.kind == "file")
    assert file_unit.parse_errors == result.parse_errors


def test_slice_java_shape_matches_backend_contract():
    units, errors = slice_java("A.java", "class A { int a, b; void f() {} }", "r", None)
    assert [(u.kind, u.qualified_name) for u in units] == [
        ("class", "A"),
        ("field", "A.a"),
        ("field", "A.b"),
        ("method", "A.f"),
    ]
    assert errors == []


# -- docs ----------------------------------------------------------------------------------


def test_markdown_sections_and_heading_paths(hotel):
    units = [u for u in hotel.units if u.path == "README.md"]
    assert [u.qualified_name for u in units] == [
        "Hotel Booking",
        "Hotel Booking > Modules",
        "Hotel Booking > Building",
        "Hotel Booking > Running",
        "Hotel Booking > Running > Configuration",
        "Hotel Booking > Contact",
        "Hotel Booking > License",
    ]
    building = units[2]
    assert "# This line starts with a hash but is not a heading" in building.code
    assert building.heading_path == ["Hotel Booking", "Building"]
    assert building.language == "markdown" and building.name == "Building"


def test_long_section_split_on_paragraphs(hotel):
    parts = [
        u for u in hotel.units if u.qualified_name.startswith("Architecture > Design decisions")
    ]
    # parts are named by their first words, never "(part k of n)"
    assert [u.qualified_name for u in parts] == [
        'Architecture > Design decisions (from "This section records the decisions that…")',
        'Architecture > Design decisions (from "Money is a record of an…")',
    ]
    for part in parts:
        assert len(part.code) <= MAX_SECTION_CHARS
        assert not part.code.startswith(("\n", " ")) and not part.code.endswith("\n")
        assert part.heading_path == ["Architecture", "Design decisions"]
    assert parts[0].code.startswith("## Design decisions\n\nThis section records")
    assert parts[1].code.startswith("Money is a record")  # a paragraph boundary


def test_other_doc_formats(hotel):
    def names(path):
        return [u.qualified_name for u in hotel.units if u.path == path]

    assert names("docs/deployment.adoc")[:4] == [
        "Deployment Guide",
        "Deployment Guide > Prerequisites",
        "Deployment Guide > Configuration",
        "Deployment Guide > Configuration > Model registry",
    ]
    assert names("docs/operations.rst") == [
        "Operations",
        "Operations > Monitoring",
        "Operations > Monitoring > Alerts",
        "Operations > Monitoring > On-call",
        "Operations > Maintenance",
    ]
    assert names("docs/CHANGELOG.txt") == [
        "Changelog > 0.1.0",  # a version of a changelog
        "Hotel Booking change log > Known issues",
    ]


def test_doc_without_headings_and_overlong_line():
    # a paragraph longer than the limit is one part of its own, never cut
    text = "first paragraph here.\n\n" + "x" * (MAX_SECTION_CHARS * 2 + 10) + "\n"
    units, _ = slice_doc("notes.txt", text, "r", None, "text")
    assert [u.code for u in units] == ["first paragraph here.", "x" * (MAX_SECTION_CHARS * 2 + 10)]
    assert [u.qualified_name for u in units] == [
        'notes.txt (from "first paragraph here.")',
        'notes.txt (from "' + "x" * 80 + '…")',
    ]
    assert units[0].name == "notes.txt" and units[0].heading_path == []


# -- walking, repo info, parsers -------------------------------------------------------------


def test_repo_info_of_a_git_work_tree(tmp_path):
    (tmp_path / "A.java").write_text("class A {}\n")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for args in (["init", "-q"], ["add", "A.java"], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    assert walk.repo_info(tmp_path) == (tmp_path.name, head)
    result = slice_repo(tmp_path)
    assert {u.commit for u in result.units} == {head}
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "B.java").write_text("class B {}\n")
    assert walk.repo_info(tmp_path / "sub") == ("sub", None)  # inside, but not the top


def test_nested_gitignore_and_negation(tmp_path):
    (tmp_path / ".gitignore").write_text("*.log\nbuild/\n")
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / ".gitignore").write_text("Skip*.java\n!SkipNot.java\n")
    for name in ("Skip1.java", "SkipNot.java", "Keep.java"):
        (tmp_path / "mod" / name).write_text(f"class {name[:-5]} {{}}\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "Out.java").write_text("class Out {}\n")
    (tmp_path / "LICENSE.txt").write_text("MIT License\n")
    (tmp_path / "requirements.txt").write_text("pytest\n")
    result = slice_repo(tmp_path)
    assert sorted(result.parsed) == ["mod/Keep.java", "mod/SkipNot.java"]
    assert dict(result.skipped)["mod/Skip1.java"] == walk.IGNORED
    assert dict(result.skipped)["build/"] == walk.IGNORED
    assert dict(result.skipped)["LICENSE.txt"] == walk.LICENCE
    assert dict(result.skipped)["requirements.txt"] == walk.NOT_DOCS


def test_parallel_equals_serial(hotel):
    parallel = slice_repo(HOTEL, jobs=2)
    assert [u.id for u in parallel.units] == [u.id for u in hotel.units]
    assert parallel.skipped == hotel.skipped


def test_parser_registry():
    assert set(PARSERS) >= {"tree-sitter", "javalang"}
    assert java_backend("tree-sitter") is slice_java
    assert callable(java_backend("javalang"))
    with pytest.raises(InputError, match="unknown parser 'antlr'"):
        java_backend("antlr")


def test_bad_paths(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        slice_repo(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        slice_repo(tmp_path / "file.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty"):
        slice_repo(tmp_path / "empty")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "data.bin").write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match="no Java or documentation files"):
        slice_repo(tmp_path / "nothing")


def test_slice_file_content_checks():
    assert slice_file(".", "A.java", b"class A {\x00}").skipped == walk.BINARY
    assert (
        slice_file(".", "A.java", b"// Generated by protoc\nclass A {}").skipped == walk.GENERATED
    )
    assert slice_file(".", "A.java", b'@Generated("x")\nclass A {}').skipped == walk.GENERATED
    assert (
        slice_file(".", "A.java", b"class A {}\n" + b" " * (walk.MAX_BYTES + 1)).skipped
        == walk.TOO_LARGE
    )
    latin1 = slice_file(".", "A.java", b'class A { String s = "caf\xe9"; }')
    assert latin1.skipped is None and latin1.warnings == [
        "A.java: not UTF-8 (invalid at byte 25): decoded as cp1252 (detected)"
    ]
    assert latin1.units[1].initializer == '"café"'


# -- hostile repository ----------------------------------------------------------------------


def build_hostile_repo(base: Path) -> Path:
    """A repository that tries every trick: symlinks out and in loops, a FIFO, a binary
    .java, a 5 MB one-line file, invalid UTF-8, deep nesting, generated code."""
    outside = base / "outside"
    outside.mkdir()
    (outside / "Secret.java").write_text('class Secret { String s = "OUTSIDE_MARKER"; }\n')
    root = base / "repo"
    (root / "src" / "deep").mkdir(parents=True)
    (root / "src" / "Ok.java").write_text("package x;\n\nclass Ok {\n    int a, b;\n}\n")
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (root / "SecretLink.java").symlink_to(outside / "Secret.java")
    (root / "src" / "deep" / "loop").symlink_to(root / "src", target_is_directory=True)
    (root / "self").symlink_to(root, target_is_directory=True)
    (root / "dangling.java").symlink_to(base / "nowhere.java")
    (root / "ring_a.java").symlink_to(root / "ring_b.java")
    (root / "ring_b.java").symlink_to(root / "ring_a.java")
    (root / "Inside.java").symlink_to(root / "src" / "Ok.java")  # inside: fine to read
    (root / "src_link").symlink_to(root / "src", target_is_directory=True)  # walked as src/
    os.mkfifo(root / "Pipe.java")
    (root / "Binary.java").write_bytes(b"class B {}\x00\x01\x02" * 100)
    (root / "Huge.java").write_bytes(b"class Huge { int x = " + b"1 + " * 1_250_000 + b"1; }")
    (root / "Latin1.java").write_bytes(b'class Latin1 { String s = "na\xefve"; }\n')
    depth = 400
    nested = "".join(f"class N{i} {{ " for i in range(depth)) + "int leaf;" + " }" * depth
    nested += "\nclass Exprs { int e = " + "(" * 2000 + "1" + ")" * 2000 + "; }\n"
    (root / "Deep.java").write_text(nested)
    (root / "Gen.java").write_text("/* Code generated by a tool. DO NOT EDIT. */\nclass Gen {}\n")
    return root


def test_hostile_repository(tmp_path, monkeypatch):
    root = build_hostile_repo(tmp_path)
    opened: list[str] = []
    real_open = os.open

    def spy_open(path, flags, *args, **kwargs):
        opened.append(os.path.realpath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_open)
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("slicing hung (a FIFO was opened?)"))
    signal.alarm(60)
    try:
        result = slice_repo(root)
    finally:
        signal.alarm(0)
    real_root = os.path.realpath(root)
    assert opened and all(p.startswith(real_root + os.sep) for p in opened), opened
    assert not any("OUTSIDE_MARKER" in u.code for u in result.units)
    skipped = dict(result.skipped)
    assert skipped == {
        "Binary.java": walk.BINARY,
        "Gen.java": walk.GENERATED,
        "Huge.java": walk.TOO_LARGE,
        "Pipe.java": walk.SPECIAL,
        "SecretLink.java": walk.SYMLINK_OUT,
        "dangling.java": walk.SYMLINK_BROKEN,
        "link_out/": walk.SYMLINK_OUT,
        "ring_a.java": walk.SYMLINK_LOOP,
        "ring_b.java": walk.SYMLINK_LOOP,
        "self/": walk.SYMLINK_LOOP,
        "src/deep/loop/": walk.SYMLINK_LOOP,
        "src_link/": walk.SYMLINK_DIR,
    }
    assert sorted(result.parsed) == ["Deep.java", "Inside.java", "Latin1.java", "src/Ok.java"]
    # every entry of the tree is accounted for: parsed or skipped with a reason
    for entry in os.listdir(root):
        assert any(p == entry or p.startswith(entry + "/") for p in [*result.parsed, *skipped]), (
            entry
        )
    assert result.warnings == [
        "Latin1.java: not UTF-8 (invalid at byte 29): decoded as cp1252 (detected)"
    ]
    names = {u.qualified_name for u in result.units if u.path == "Deep.java"}
    assert "N0" in names and ".".join(f"N{i}" for i in range(400)) + ".leaf" in names
    assert "Exprs.e" in names


def test_slicer_ids_equal_make_id_with_odd_characters():
    # the slicer quotes the code for the id with pydantic's serializer, not json's
    odd = 'class Odd {\n\tString s = "tab\there \u2028 \x7f \x1f é \\" \\\\";\x0c\n'
    odd += "  /** a\x01b */ int x;\n  void f() { char c = '\\u0000'; }\r\n}\n"
    units, _ = slice_java("Odd.java", odd, "r", None)
    assert [u.kind for u in units] == ["class", "field", "field", "method"]
    for u in units:
        assert u.id == u.make_id(u.path, u.kind, u.qualified_name, u.signature, u.code)


def test_fast_json_equals_model_dump_json(hotel, tmp_path):
    assert hotel.jsonl() == "".join(u.model_dump_json() + "\n" for u in hotel.units)
    odd = 'class Odd {\n\tString s = "tab\there \u2028 \x7f é \\" \\\\";\x0c\n'
    odd += "  /** a\x01b */ int x;\n}\n"
    (tmp_path / "Odd.java").write_text(odd, encoding="utf-8")
    result = slice_repo(tmp_path)
    units, _ = slice_java("Odd.java", odd, tmp_path.name, None)
    assert result.jsonl() == "".join(u.model_dump_json() + "\n" for u in units)
    assert [u.model_dump() for u in result.units] == [u.model_dump() for u in units]


TRICKY = """package t;

import java.util.*;

class Tricky {
    static final Comparator<String> BY_LENGTH = new Comparator<String>() {
        public int compare(String a, String b) { return a.length() - b.length(); }
    };
    static { Runnable r = new Runnable() { public void run() { class InInit {} } }; }
    String s = "new Foo() { class Fake {} }";
    Class<?> k = Tricky.class;
    int record = 1;

    enum Op {
        PLUS(new Object() { int weight() { return 1; } }) { int apply(int a) { return a; } };
        Op(Object o) {}
        int apply(int a) { return 0; }
    }

    void m() {
        record Point(int x, int y) { int sum() { return x + y; } }
        enum Local { A, B }
        interface Shape { double area(); }
        Runnable r = () -> {
            Object o = new Object() /* comment */ {
                public String toString() { return new Object() { }.toString(); }
            };
        };
        new Thread(() -> { }) {
            public void run() { }
        }.start();
    }
}
"""


def test_declaration_walk_finds_what_the_query_finds():
    from dataprep.languages.java.slicer import declaration_nodes, parser, query_nodes

    sources = [TRICKY.encode()] + [p.read_bytes() for p in sorted(HOTEL.rglob("*.java"))]
    for src in sources:
        root = parser().parse(src).root_node
        assert not root.has_error
        walked = {(n.start_byte, n.end_byte, w) for n, w in declaration_nodes(root, src)}
        queried = {(n.start_byte, n.end_byte, w) for n, w in query_nodes(root)}
        assert walked == queried
    units, errors = slice_java("Tricky.java", TRICKY, "r", None)
    names = {(u.kind, u.qualified_name) for u in units}
    assert errors == []
    assert {
        ("method", "t.Tricky$1.compare"),
        ("class", "t.Tricky$2.InInit"),
        ("method", "t.Tricky.Op.PLUS.apply"),
        ("method", "t.Tricky.Op$1.weight"),
        ("record", "t.Tricky.Point"),
        ("method", "t.Tricky.Point.sum"),
        ("enum", "t.Tricky.Local"),
        ("enum_constant", "t.Tricky.Local.A"),
        ("method", "t.Tricky.Shape.area"),
        ("method", "t.Tricky$3.toString"),
        ("method", "t.Tricky$4.run"),
        ("field", "t.Tricky.record"),
    } <= names
    assert not any("Fake" in q for _, q in names)
    assert not any(".PLUS$" in q for _, q in names)  # the argument's class is Op's, not PLUS's


def test_markdown_front_matter_is_not_a_heading():
    text = "---\ntitle: Guide\nlayout: page\n---\n\nIntro text.\n\n## Setup\n\nRun it.\n"
    units, _ = slice_doc("guide.md", text, "r", None, "markdown")
    assert [(u.qualified_name, u.code) for u in units] == [
        ("guide.md", "Intro text."),
        ("Setup", "## Setup\n\nRun it."),
    ]
    assert units[0].start_line == 6


def test_crlf_bom_and_unicode_identifiers(tmp_path):
    java = "\ufeffpackage ü;\r\n\r\n/** Grüße */\r\nclass Café {\r\n    int größe = 1, ß;\r\n}\r\n"
    (tmp_path / "Café.java").write_bytes(java.encode("utf-8"))
    (tmp_path / "notes.md").write_bytes(
        b"# T\xc3\xadtle\r\n\r\nText.\r\n\r\n## Next\r\n\r\nMore.\r\n"
    )
    result = slice_repo(tmp_path)
    by_name = {u.qualified_name: u for u in result.units}
    cafe = by_name["ü.Café"]
    assert cafe.javadoc == "/** Grüße */" and cafe.start_line == 4 and cafe.end_line == 6
    assert by_name["ü.Café.größe"].code == "int größe = 1, ß;"
    assert by_name["ü.Café.ß"].start_line == 5
    assert by_name["Títle > Next"].code == "## Next\r\n\r\nMore."
    for unit in result.units:
        text = (tmp_path / unit.path).read_bytes().decode("utf-8-sig")
        assert unit.code in text


def test_rows_fast_path_stores_the_same_bytes_as_units():
    """The slice stage packs a file's plain rows (`unit_row_of`) instead of building Unit
    records: every fixture Java file gives the stored rows, errors and lines the records'
    `unit_row` gives, and `Unit.of_row` the records themselves."""
    from dataprep.models import Unit
    from dataprep.slicing import slice_file_rows
    from dataprep.store_schema import unit_row, unit_row_of

    files = sorted(FIXTURES.rglob("*.java"))
    assert len(files) > 40
    for path in files:
        root = path.parents[len(path.relative_to(FIXTURES).parts) - 1]
        relpath, data = path.relative_to(root).as_posix(), path.read_bytes()
        result, rows = slice_file_rows(relpath, data, "tree-sitter", "repo", "abc123")
        records = slice_file(root, relpath, data, "tree-sitter", "repo", "abc123")
        assert [unit_row_of(r) for r in rows] == [unit_row(u) for u in records.units], relpath
        assert [Unit.of_row(r) for r in rows] == records.units
        assert (result.errors, result.warnings, result.skipped, result.lines) == (
            records.errors,
            records.warnings,
            records.skipped,
            records.lines,
        )
    assert slice_file_rows("README.md", b"# Title\n", "tree-sitter", "repo", None) is None
    assert slice_file_rows("A.java", b"class A {}", "javalang", "repo", None) is None
