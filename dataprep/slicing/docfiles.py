"""Which files are documentation: doc formats by path, and the text files that are not docs.

Documentation: READMEs, guides, `docs/` folders, Markdown, AsciiDoc, reStructuredText,
plain text, Maven site xdoc pages (`src/site/xdoc/*.xml`), HTML user guides (`*.html`
under a docs or site folder, `package.html` and `overview.html` beside the sources),
changelogs (`CHANGELOG.md`, `CHANGES`, `RELEASE-NOTES*.txt`, `NEWS`, Maven `changes.xml`).

Not documentation, each with its own skip reason (see walk.py): test resources
(`src/test/resources/**`, `testdata/`, doc files under a `test`/`tests` folder or a test
source set), changelog fragments (`changelog.d/`, `newsfragments/`), approval-test files
(`*.approved.*`, `*.received.*`), Spring banners (`banner.txt`), licence texts
(LICENSE, NOTICE, COPYING, and doc files that are mostly a licence header).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# doc files known by their name alone (no suffix): README, CHANGES, NEWS, ...
_BARE_DOC_NAMES = re.compile(
    r"(?i)^(?:readme|changes|changelog|change[-_]log|news|history|release[-_]?notes?|"
    r"install|contributing|authors|faq|building|upgrading|migration)$"
)
_CHANGELOG = re.compile(
    r"(?i)^(?:change[-_ ]?log|changes|release[-_]?notes?|history|news|whats[-_]?new)"
    r"(?:[-_.]v?\d[\w.-]*)?(?:\.(?:md|markdown|txt|rst|adoc|asciidoc|xml))?$"
)
_LICENCE_NAMES = re.compile(
    r"(?i)^(?:(?:un)?licen[cs]e|copying|copyright|notice|third[-_]?party[-_]?notices?|"
    r"licen[cs]e[-_]header)(?:[-_.][\w.-]*)?$"
)
_APPROVAL = re.compile(r"(?i)\.(?:approved|received)\.\w+$")
_BANNER = re.compile(r"(?i)^banner\.txt$")
_DOC_DIRS = frozenset(
    "doc docs documentation site manual guide guides userguide user-guide tutorial".split()
)
_GENERATED_DOC_DIRS = frozenset("apidocs testapidocs javadoc javadocs xref xref-test".split())
_SOURCE_ROOTS = ("src/main/java/", "src/main/javadoc/", "src/java/")


def doc_language(path: str) -> str | None:
    """The doc slicer language of a path, for the formats known by folder or name.

    Example: doc_language("src/site/xdoc/guide.xml") -> "xdoc";
    doc_language("CHANGES") -> "text"; doc_language("docs/guide/intro.html") -> "html"
    """
    posix = PurePosixPath(path)
    name = posix.name.lower()
    folders = [p.lower() for p in posix.parts[:-1]]
    if name == "changes.xml":
        return "maven-changes"
    if name.endswith(".xml") and "xdoc" in folders:
        return "xdoc"
    if name.endswith((".html", ".htm")):
        if _GENERATED_DOC_DIRS & set(folders):
            return None
        if _DOC_DIRS & set(folders):
            return "html"
        if name in ("package.html", "overview.html") and _under_sources(path):
            return "html"
        return None
    if "." not in name and _BARE_DOC_NAMES.match(name):
        return "text"
    return None


def _under_sources(path: str) -> bool:
    lower = path.lower()
    return any(lower.startswith(root) or f"/{root}" in lower for root in _SOURCE_ROOTS)


def is_changelog(path: str) -> bool:
    """Whether a doc file is a changelog or release notes (sliced into one unit per version).

    Example: is_changelog("CHANGES.md") -> True; is_changelog("docs/changes-guide.md") -> False;
    is_changelog("RELEASE-NOTES-3.14.0.txt") -> True
    """
    return bool(_CHANGELOG.match(PurePosixPath(path).name))


def is_licence_name(name: str) -> bool:
    """LICENSE, NOTICE, COPYING, license-header.txt and the like (a file's name, no folder)."""
    return bool(_LICENCE_NAMES.match(name))


def is_approval_file(name: str) -> bool:
    """An approval-test file: `FooTest.approved.txt`, `FooTest.received.txt`."""
    return bool(_APPROVAL.search(name))


def is_banner(name: str) -> bool:
    """A Spring Boot start-up banner."""
    return bool(_BANNER.match(name))


_TEST_DATA_DIRS = frozenset("testdata test-data test_data test-resources".split())
_FRAGMENT_DIRS = frozenset("changelog.d newsfragments .changeset .changes unreleased".split())


def is_test_resources_dir(rel: str) -> bool:
    """A test resource folder: `resources` in a test source set (`src/test/resources`,
    `src/integrationTest/resources`, `src/it/resources`, `test/resources`), or a test
    data folder (`testdata/`, `test-data/`)."""
    parts = rel.lower().split("/")
    if parts[-1] in _TEST_DATA_DIRS:
        return True
    if len(parts) < 2 or parts[-1] != "resources":
        return False
    return "test" in parts[-2] or parts[-2] == "it"


def is_changelog_fragments_dir(rel: str) -> bool:
    """A folder of changelog fragments that a tool merges into the changelog at release
    (`changelog.d/`, `newsfragments/`, `.changeset/`, `.changes/`, `unreleased/`)."""
    return rel.lower().rsplit("/", 1)[-1] in _FRAGMENT_DIRS


def is_test_doc(rel: str) -> bool:
    """A doc file among tests (a `test` or `tests` folder, a test source set such as
    `src/integrationTest/`): test data, not documentation."""
    parts = rel.lower().split("/")[:-1]
    if "test" in parts or "tests" in parts:
        return True
    pairs = zip(parts, parts[1:], strict=False)
    return any(a == "src" and ("test" in b or b == "it") for a, b in pairs)


# -- licence text ------------------------------------------------------------------------

_LICENCE_PHRASES = re.compile(
    r"(?i)licensed to the apache software foundation|licensed under the apache license|"
    r"apache license,? version 2\.0|you may not use this file except in compliance|"
    r"www\.apache\.org/licenses/license-2\.0|without warranties or conditions of any kind|"
    r"distributed under the license is distributed on an|permission is hereby granted|"
    r"the above copyright notice and this permission notice|"
    r"the software is provided \"?as is\"?|this program is free software|"
    r"gnu (?:lesser |library |affero )?general public license|"
    r"redistribution and use in source and binary forms|eclipse public license|"
    r"mozilla public license|see the notice file distributed with|"
    r"contributor license agreements|all rights reserved|spdx-license-identifier|"
    r"^\W*copyright\b.{0,80}\b(?:19|20)\d\d"
)
_COMMENT_DECORATION = re.compile(r"(?m)^[ \t]*(?:<!--|-->|/\*+|\*+/|\*|#|//|;|--)?[ \t]?")


_TAG = re.compile(r"</?[?!]?[A-Za-z][^>]*>")  # tags, not comments


def licence_share(text: str) -> tuple[float, int]:
    """(the share of a text's non-blank characters that lie in paragraphs of licence
    boilerplate, the number of words outside them); a paragraph counts when it has a
    licence phrase. Comment markers and markup tags are not counted.

    Example: licence_share("Licensed under the Apache License, Version 2.0 ...") -> (1.0, 0)
    """
    plain = _COMMENT_DECORATION.sub("", _TAG.sub(" ", text))
    total = licence = other_words = 0
    for paragraph in re.split(r"\n[ \t]*\n", plain):
        size = len("".join(paragraph.split()))
        total += size
        if size and _LICENCE_PHRASES.search(paragraph):
            licence += size
        else:
            other_words += len(re.findall(r"[^\W\d_]{2,}", paragraph))
    return (licence / total if total else 0.0), other_words


def is_mostly_licence(text: str) -> bool:
    """Whether a doc text is a licence and little else: at least 60% licence paragraphs
    and fewer than 12 words outside them (a page with a licence comment and real
    content is not).

    Example: is_mostly_licence("Copyright 2020 ACME\\n\\nLicensed under the Apache
    License, Version 2.0 ...") -> True; a README with a one-line licence section -> False
    """
    share, other_words = licence_share(text)
    return share >= 0.6 and other_words < 12
