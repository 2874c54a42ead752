"""Docs that are documentation: which files, changelog versions, parts
named without numbers, HTML/xdoc/changes.xml, charset detection, unique ids."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.generate.templates import generate_template_pairs
from dataprep.hashing import content_hash
from dataprep.models import Unit
from dataprep.slicing import slice_file, slice_repo, walk
from dataprep.slicing.changelog import changelog_version, version_of
from dataprep.slicing.docfiles import is_changelog, is_mostly_licence
from dataprep.slicing.docs import MAX_SECTION_CHARS, slice_doc
from dataprep.slicing.markup import changes_to_markdown, html_to_markdown

MIX = FIXTURES / "docs-mix"
LATIN1_JAVA = "src/main/java/org/example/textkit/Latin1Names.java"


@pytest.fixture(scope="module")
def mix():
    return slice_repo(MIX)


def units_of(result, path: str) -> list[Unit]:
    return [u for u in result.units if u.path == path]


def names(result, path: str) -> list[str]:
    return [u.qualified_name for u in units_of(result, path)]


# -- which files ------------------------------------------------------------------------


def test_files_that_are_not_docs_are_skipped_each_with_its_reason(mix):
    assert dict(mix.skipped) == {
        "LICENSE.txt": walk.LICENCE,
        "NOTICE.txt": walk.LICENCE,
        "src/etc/source-header.txt": walk.LICENCE,  # by content: a licence header only
        "src/main/resources/banner.txt": walk.BANNER,
        "src/test/java/org/example/textkit/WrapperTest.wrapsAtWidth.approved.txt": walk.APPROVAL,
        "src/test/resources/": walk.TEST_RESOURCE,
    }
    assert sorted(mix.parsed) == [
        "CHANGES.md",
        "README.md",
        "RELEASE-NOTES.txt",
        "docs/faq.md",
        "docs/guide/index.html",
        "docs/guide/performance.adoc",
        "docs/notes-fr.md",
        "src/changes/changes.xml",
        "src/main/java/org/example/textkit/Latin1Names.java",
        "src/main/java/org/example/textkit/package-info.java",
        "src/site/xdoc/userguide.xml",
        "src/test/java/org/example/textkit/WrapperTest.java",
    ]


def test_slice_summary_counts_each_reason(tmp_path):
    result = CliRunner().invoke(app, ["slice", str(MIX), "-o", str(tmp_path / "u.jsonl")])
    assert result.exit_code == 0, result.output
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in result.output.splitlines()
        if line.count("│") == 3
    }
    assert {k: v for k, v in rows.items() if k.startswith("skipped")} == {
        "skipped: approval-test file (*.approved.*, *.received.*)": "1",
        "skipped: banner (banner.txt)": "1",
        "skipped: licence text": "3",
        "skipped: test resource, not docs": "1",
    }


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/site/xdoc/userguide.xml", "xdoc"),
        ("src/changes/changes.xml", "maven-changes"),
        ("docs/guide/index.html", "html"),
        ("src/main/java/org/x/package.html", "html"),
        ("src/main/resources/static/index.html", None),  # a web page, not a guide
        ("docs/apidocs/index.html", None),  # generated Javadoc
        ("CHANGES", "text"),
        ("pom.xml", None),
        ("src/main/java/org/x/package-info.java", "java"),
    ],
)
def test_doc_languages_by_path(path, language):
    assert walk.language_of(path) == language


def test_test_data_and_changelog_fragments_are_not_docs(tmp_path):
    (tmp_path / "src/test/java/x").mkdir(parents=True)
    (tmp_path / "src/test/java/x/input.md").write_text("# Input\n\nA test's input.\n")
    (tmp_path / "src/test/java/x/ATest.java").write_text("class ATest {}\n")
    (tmp_path / "src/integrationTest/resources").mkdir(parents=True)
    (tmp_path / "src/integrationTest/resources/data.txt").write_text("data\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/README.md").write_text("# Fixtures\n\nInputs of the parser tests.\n")
    (tmp_path / "docs/testdata").mkdir(parents=True)
    (tmp_path / "docs/testdata/sample.md").write_text("# Sample\n\nA sample page.\n")
    (tmp_path / "changelog.d").mkdir()
    (tmp_path / "changelog.d/412.bugfix.md").write_text("Long words stay whole.\n")
    (tmp_path / "docs/guide.md").write_text("# Guide\n\nRead me first, then the API.\n")
    result = slice_repo(tmp_path)
    assert dict(result.skipped) == {
        "changelog.d/": walk.CHANGELOG_FRAGMENTS,
        "docs/testdata/": walk.TEST_RESOURCE,
        "src/integrationTest/resources/": walk.TEST_RESOURCE,
        "src/test/java/x/input.md": walk.TEST_RESOURCE,
        "tests/README.md": walk.TEST_RESOURCE,
    }
    assert result.parsed == ["docs/guide.md", "src/test/java/x/ATest.java"]


def test_licence_text_by_content():
    header = "Copyright 2024 ACME\n\nLicensed under the Apache License, Version 2.0 (the"
    header += ' "License");\nyou may not use this file except in compliance with the License.\n'
    assert is_mostly_licence(header)
    assert is_mostly_licence("<!--\n" + header + "-->\n# Title\n")
    page = "<!--\n" + header + "-->\n<document><body><section name='Use'>"
    page += "<p>Call the wrapper with a width and read the lines it returns to you.</p>"
    assert not is_mostly_licence(page + "</section></body></document>")
    readme = "# Lib\n\nParses dates in any locale and formats them back.\n\n## License\n\n"
    assert not is_mostly_licence(readme + "Licensed under the Apache License, Version 2.0.\n")


# -- changelogs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "version"),
    [
        ("1.17.1 (2023-Nov-27)", "1.17.1"),
        ("[1.0.0] - 2017-06-20", "1.0.0"),
        ("[2.1.0](https://github.com/o/r/compare/v2.0.0...v2.1.0) (2024-01-02)", "2.1.0"),
        ("*** Release 1.1.1 [2010-Jun-08]", "1.1.1"),
        ("Version 3.7", "3.7"),
        ("Release Notes for version 2.3.0", "2.3.0"),
        ("v2.0.0-rc1", "2.0.0-rc1"),
        ("Version 2", "2"),
        ("2 things to know", None),
        ("Unreleased", None),
        ("Known issues", None),
        ("Version 2.0 requires Java 17 from now on.", None),
        ("Java 1.8 support", None),
    ],
)
def test_version_titles(title, version):
    assert version_of(title) == version


def test_changelog_names():
    for name in ("CHANGES", "CHANGES.md", "CHANGELOG.txt", "RELEASE-NOTES-3.14.0.txt", "NEWS"):
        assert is_changelog(name), name
    for name in ("docs/changes-guide.md", "README.md", "changes-report.xml"):
        assert not is_changelog(name), name


def test_markdown_changelog_one_unit_per_version(mix):
    units = units_of(mix, "CHANGES.md")
    assert [u.qualified_name for u in units] == [
        "Changelog > 2.5.0",
        "Changelog > 2.4.1",
        # 2.4.0 is longer than MAX_VERSION_CHARS: cut at its subsections, named by them
        "Changelog > 2.4.0 > Changes",
        "Changelog > 2.4.0 > Improvements",
        "Changelog > 2.4.0 > Bug Fixes",
        "Changelog > 2.3.0",
    ]
    assert {tuple(u.heading_path) for u in units} == {
        ("Changelog", v) for v in ("2.5.0", "2.4.1", "2.4.0", "2.3.0")
    }
    assert [changelog_version(u) for u in units] == [
        "2.5.0",
        "2.4.1",
        "2.4.0 (Changes)",
        "2.4.0 (Improvements)",
        "2.4.0 (Bug Fixes)",
        "2.3.0",
    ]
    assert units[1].code.startswith("## 2.4.1 (2024-Mar-02)\n\n### Bug Fixes\n\n* `Abbreviator")
    assert units[2].code.startswith("### Changes\n\n* The minimum Java version")
    assert not units[4].code.endswith("---")  # the rule between versions is left out
    text = (MIX / "CHANGES.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    for unit in units:
        assert unit.code in text
        assert lines[unit.start_line - 1].strip() == unit.code.splitlines()[0]
        assert lines[unit.end_line - 1].strip() == unit.code.splitlines()[-1].strip()


def test_plain_text_release_notes_versions_from_title_blocks(mix):
    units = units_of(mix, "RELEASE-NOTES.txt")
    assert [(u.qualified_name, u.start_line, u.end_line) for u in units] == [
        ("Changelog > 2.4.1", 16, 34),
        ("Changelog > 2.4.0", 38, 58),
        ("Changelog > 2.3.0", 62, 67),
    ]
    # the licence header before the first version is no unit; a title block starts the
    # version (no leading spaces), the ===== rule between versions ends none
    assert units[0].code.startswith("Example textkit\n")
    assert "Version 2.4.1" in units[0].code and "Licensed" not in units[0].code
    assert all("=" * 20 not in u.code for u in units)
    assert units[0].code.endswith("Thanks to\n          Lena Park.")
    assert units[2].code.startswith("Release Notes for version 2.3.0\n\nNEW FEATURES")


def test_a_version_without_a_dot_needs_its_word():
    text = "# Changelog\n\n## Version 2\n\nRewritten parser.\n\n## Version 1\n\nFirst.\n"
    units, _ = slice_doc("CHANGELOG.md", text, "r", None, "markdown")
    assert [(u.qualified_name, changelog_version(u)) for u in units] == [
        ("Changelog > 2", "2"),
        ("Changelog > 1", "1"),
    ]


def test_plain_text_changelog_with_release_lines():
    text = "textkit changelog\n\n*** Release 1.1 (pending)\n * Added wrap\n\n * Fixed a loop\n"
    text += "\n*** Release 1.0 [2020-Jan-08]\n * Initial release\n"
    units, _ = slice_doc("CHANGES", text, "r", None, "text")
    assert [(u.qualified_name, u.code) for u in units] == [
        ("Changelog > 1.1", "*** Release 1.1 (pending)\n * Added wrap\n\n * Fixed a loop"),
        ("Changelog > 1.0", "*** Release 1.0 [2020-Jan-08]\n * Initial release"),
    ]  # the title line before the first version is no unit


def test_changes_xml_versions_as_markdown(mix):
    units = units_of(mix, "src/changes/changes.xml")
    assert [(u.qualified_name, u.start_line, u.end_line, u.language) for u in units] == [
        ("Changelog > 2.4.1", 11, 13, "maven-changes"),
        ("Changelog > 2.4.0", 15, 19, "maven-changes"),
    ]
    assert units[1].code == (
        "## 2.4.0 (2024-01-15)\n\n"
        "New features and bug fixes. Requires Java 8, builds with JDK 17.\n\n"
        "- Added: Hyphenation of long words for English, German and French (TK-377).\n"
        "- Added: Wide East Asian characters count as two columns (TK-380).\n"
        "- Removed the deprecated TextUtils class (TK-388).\n"
        "- Changed: Bump JUnit from 5.10.0 to 5.10.1."
    )
    assert "Thanks to Lena Park." in units[0].code


def test_changelog_task_asks_what_changed_in_a_version(mix):
    pairs = [p for p in generate_template_pairs(mix.units) if p.task == "doc.changelog"]
    assert sorted(p.instruction for p in pairs) == [
        "List the changes in docs-mix 2.4.0, as the changelog records them. "
        "The changelog is src/changes/changes.xml.",
        "Show the release notes of docs-mix 2.4.0 (Improvements).",
        "Show the release notes of docs-mix 2.4.1. The changelog is CHANGES.md.",
        "Show the release notes of docs-mix 2.4.1. The changelog is RELEASE-NOTES.txt.",
        "What changed in docs-mix 2.4.0 (Changes)?",
        "What changed in docs-mix 2.4.1? The changelog is src/changes/changes.xml.",
        "What does the changelog of docs-mix list for 2.4.0 (Bug Fixes)?",
        "What is new in docs-mix 2.3.0? The changelog is RELEASE-NOTES.txt.",
        "What is new in docs-mix 2.4.0? The changelog is RELEASE-NOTES.txt.",
        "Which changes came with docs-mix 2.3.0? The changelog is CHANGES.md.",
        "Which changes came with docs-mix 2.5.0?",
    ]
    by_unit = {u.id: u for u in mix.units}
    assert all(p.output == by_unit[p.unit_id].code for p in pairs)


# -- sections and parts -------------------------------------------------------------------


def test_long_section_cut_at_paragraphs_never_in_a_code_block(mix):
    units = units_of(mix, "docs/guide/performance.adoc")
    assert [u.qualified_name for u in units] == [
        "Performance guide > Measuring",  # the title with only `:toc:` is no unit
        'Performance guide > Wrapping large texts (from "A wrapper holds no state between…")',
        'Performance guide > Wrapping large texts (from "The output writer is not flushed…")',
        "Performance guide > Abbreviating",
    ]
    first, second = units[1], units[2]
    assert first.code.startswith("== Wrapping large texts\n\nA wrapper holds")
    assert first.code.endswith("    Wrapper.wrap(in, out, 100);\n}\n----")  # the whole block
    assert first.code.count("----") == 2 and "\n\n     Writer out" in first.code
    assert second.code.startswith("The output writer is not flushed")
    assert len(first.code) <= MAX_SECTION_CHARS and len(second.code) <= MAX_SECTION_CHARS


def test_no_part_is_numbered_and_no_unit_is_a_heading_alone(mix):
    hotel = slice_repo(FIXTURES / "hotel-booking")
    for unit in [*mix.units, *hotel.units]:
        if unit.kind != "doc_section":
            continue
        assert "(part " not in unit.qualified_name
        body = unit.code.split("\n", 1)[1] if "\n" in unit.code else ""
        assert body.strip("=-#~ \n"), unit.qualified_name


def test_heading_stays_with_its_first_paragraph():
    long = ("Added a method that does one more useful thing. " * 32).strip()
    text = f"NEW FEATURES\n============\n\n{long}\n\nFIXED BUGS\n==========\n\nNone.\n"
    text = text.replace("FIXED BUGS\n==========\n\n", "") + "\n" + "More text here. " * 40
    units, _ = slice_doc("notes.txt", text, "r", None, "text")
    assert len(units) == 2
    assert units[0].code == f"NEW FEATURES\n============\n\n{long}"  # not the heading alone
    assert units[1].code.startswith("None.")
    assert units[1].qualified_name == 'NEW FEATURES (from "None. More text here. More text…")'


def test_parts_with_the_same_first_words_take_more_words():
    filler = "The service reads it once at start-up and keeps it for the whole run. " * 11
    starts = ["restart the service", "reload the page", "run the migration"]
    text = "# Setup\n\n" + "\n\n".join(
        f"Set the option in the file, then {s}. {filler}".strip() for s in starts
    )  # three paragraphs of about 850 characters: one part each
    units, _ = slice_doc("setup.md", text, "r", None, "markdown")
    assert [u.qualified_name for u in units] == [
        'Setup (from "Set the option in the file, then restart the service.…")',
        'Setup (from "Set the option in the file, then reload the page.…")',
        'Setup (from "Set the option in the file, then run the migration.…")',
    ]


def test_a_long_list_is_cut_between_items():
    items = [f"o TK-{k}: Fixed a problem with wrapping case number {k}." for k in range(60)]
    text = "FIXED BUGS\n==========\n\n" + "\n".join(items) + "\n"  # one paragraph
    units, _ = slice_doc("notes.txt", text, "r", None, "text")
    assert len(units) == 3 and all(len(u.code) <= MAX_SECTION_CHARS for u in units)
    assert units[0].code.startswith("FIXED BUGS\n==========\n\no TK-0:")
    assert all(u.code.startswith("o TK-") for u in units[1:])
    lines = [line for u in units for line in u.code.splitlines() if line.startswith("o TK-")]
    assert lines == items  # every item once, in order, none cut


def test_identical_sections_of_one_file_get_distinct_ids(mix):
    twins = [u for u in units_of(mix, "docs/faq.md") if u.name == "Where are the logs?"]
    assert len(twins) == 2
    a, b = twins
    assert (a.qualified_name, a.code) == (b.qualified_name, b.code)
    assert a.id != b.id
    parts = (a.path, a.kind, a.qualified_name, a.signature, a.code)
    assert a.id == Unit.make_id(*parts)  # the first keeps the id it always had
    assert b.id == Unit.make_id(*parts, repeat=1)
    assert len({u.id for u in mix.units}) == len(mix.units)


def test_make_id_without_a_repeat_is_unchanged():
    parts = ("a.md", "doc_section", "A", None, "# A\n\ntext")
    assert Unit.make_id(*parts) == content_hash("unit", *parts)
    assert Unit.make_id(*parts, repeat=0) == Unit.make_id(*parts)
    assert Unit.make_id(*parts, repeat=1) != Unit.make_id(*parts, repeat=2)


def test_preamble_licence_comment_and_badges_are_no_unit(mix):
    assert names(mix, "README.md") == [
        "textkit",
        "textkit > Getting started",
        "textkit > Building",
        "textkit > License",
    ]
    assert units_of(mix, "README.md")[0].start_line == 9


# -- xdoc and HTML --------------------------------------------------------------------------


def test_xdoc_page_as_markdown_sections(mix):
    units = units_of(mix, "src/site/xdoc/userguide.xml")
    assert [(u.qualified_name, u.start_line, u.end_line) for u in units] == [
        ("textkit - User guide > Wrapping text", 13, 18),
        ("textkit - User guide > Wrapping text > Options", 24, 30),
        ("textkit - User guide > Abbreviating", 33, 42),
    ]
    assert units[0].code == (
        "## Wrapping text\n\n`Wrapper` breaks a text into lines of at most a given width. "
        "Words longer than the width stay whole on a line of their own.\n\n```\n"
        'String wrapped = Wrapper.wrap("The quick brown fox jumps over the lazy dog", 16);\n'
        "// The quick brown\n// fox jumps over\n// the lazy dog\n```"
    )
    assert units[1].code == (
        "### Options\n\nA `Wrapper.Builder` sets the options:\n\n"
        "| Option | Default | Meaning |\n| --- | --- | --- |\n"
        "| `tabSize` | 8 | Columns a tab advances to. |\n"
        "| `hyphenate` | false | Break long words at syllables. |"
    )
    assert "[Javadoc](https://example.org/textkit/apidocs/)" in units[2].code
    assert {u.language for u in units} == {"xdoc"}


def test_html_guide_without_navigation_or_scripts(mix):
    units = units_of(mix, "docs/guide/index.html")
    assert [u.qualified_name for u in units] == [
        "Cleaning log lines",
        "Cleaning log lines > Removing colours",
        "Cleaning log lines > Control characters",
    ]
    text = "\n".join(u.code for u in units)
    assert "Home" not in text and "console.log" not in text and "font-family" not in text
    assert units[1].code.endswith(
        '```\nString plain = Cleaner.stripAnsi("\\u001b[31merror\\u001b[0m: disk full");\n'
        '// plain is "error: disk full"\n```'
    )


def test_html_to_markdown_inline_markup():
    markdown, lines = html_to_markdown(
        "<h1>Guide</h1>\n<p>Use <code>x</code>, see <a href='https://a.b/c'>this</a>\n"
        "or <a href='local.html'>that</a>.</p>\n<ol><li>one</li><li>two</li></ol>"
    )
    assert markdown == "# Guide\n\nUse `x`, see [this](https://a.b/c) or that.\n\n1. one\n2. two\n"
    assert lines == [1, 1, 2, 3, 4, 4]


def test_changes_xml_fixes_and_thanks():
    markdown, _ = changes_to_markdown(
        '<release version="1.2" date="2024-01-05"><action type="fix">Null check.'
        '<fixes issue="X-1"/><dueto name="Ann"/></action></release>'
    )
    assert markdown == "## 1.2 (2024-01-05)\n\n- Fixed: Null check (X-1). Thanks to Ann.\n"


# -- encodings ------------------------------------------------------------------------------


def test_latin1_java_decoded_by_detection(mix):
    data = (MIX / "src/main/java/org/example/textkit/Latin1Names.java").read_bytes()
    text = data.decode("cp1252")
    units = units_of(mix, "src/main/java/org/example/textkit/Latin1Names.java")
    assert units and all("\ufffd" not in u.code for u in units)
    for unit in units:
        lines = text.splitlines(keepends=True)
        assert unit.code in "".join(lines[unit.start_line - 1 : unit.end_line])
    by_name = {u.name: u for u in units if u.kind != "constructor"}
    assert by_name["MARKER"].initializer == '"«...»"'
    assert by_name["greet"].javadoc == '/** Greets in French: "Ça va ?" */'
    assert by_name["Latin1Names"].javadoc.endswith("José, François, Müller. */")
    assert (
        "src/main/java/org/example/textkit/Latin1Names.java: not UTF-8 (invalid at byte 78): "
        "decoded as cp1252 (detected)"
    ) in mix.warnings


def test_latin1_markdown_decoded_by_detection(mix):
    units = units_of(mix, "docs/notes-fr.md")
    assert [u.qualified_name for u in units] == [
        "Notes de version",
        "Notes de version > Problèmes connus",
    ]
    assert units[1].code == (
        "## Problèmes connus\n\nLes ligatures « æ » et « œ » comptent pour une colonne."
    )
    assert "docs/notes-fr.md: not UTF-8 (invalid at byte 34): decoded as cp1252 (detected)" in (
        mix.warnings
    )


def test_other_encodings_are_detected_not_replaced():
    polish = "# Uwagi\n\nZażółć gęślą jaźń: tekst w kodowaniu Windows-1250.\n".encode("cp1250")
    result = slice_file(".", "uwagi.md", polish)
    assert result.units[0].code == "# Uwagi\n\nZażółć gęślą jaźń: tekst w kodowaniu Windows-1250."
    assert result.warnings == [
        "uwagi.md: not UTF-8 (invalid at byte 11): decoded as cp1250 (detected)"
    ]
    utf8 = slice_file(".", "a.md", "# Ünïcödé\n\ntext\n".encode())
    assert utf8.warnings == [] and utf8.units[0].name == "Ünïcödé"


def test_every_doc_unit_is_text_of_its_file(mix):
    kinds = Counter()
    for unit in mix.units:
        if unit.language in ("html", "xdoc", "maven-changes"):
            kinds["converted"] += 1
            continue
        data = (MIX / unit.path).read_bytes()
        latin1 = unit.path in ("docs/notes-fr.md", LATIN1_JAVA)
        text = data.decode("cp1252" if latin1 else "utf-8")
        assert unit.code in text, unit.qualified_name
        kinds["exact"] += 1
    assert kinds["converted"] == 8 and kinds["exact"] > 20
