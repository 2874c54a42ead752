"""Changelog versions: which headings and lines name a version, and a unit's version.

A version title is a version number, optionally after "Release", "Version", "Changes
in", "Release notes for", "What's new in" (and markers such as `***`), followed by at
most three words once dates, links and parenthesised or bracketed text are taken out:
"1.17.1 (2023-Nov-27)", "[1.0.0] - 2017-06-20", "*** Release 1.1.1 [2010-Jun-08]",
"Version 3.7", "v2.0.0-rc1", "Version 2" (a number without a dot needs the word or the
"v"). A sentence that mentions a version is not one.
"""

from __future__ import annotations

import re

from dataprep.models import Unit

CHANGELOG = "Changelog"  # the first heading of every version's heading path

_VERSION_TITLE = re.compile(
    r"""(?ix)^[*#=\-~+\s]*
    (?:(?:release\s+notes\s+for|changes\s+in|what'?s\s+new\s+in|noteworthy\s+changes\s+in)\s+)?
    (?P<word>(?:release|version|ver\.?)\s+)?
    \[?(?P<v>v)?(?P<version>\d+(?:\.\d+){0,3}
      (?:[-.]?(?:alpha|beta|rc|m|milestone|cr|snapshot|final|ga|release)[-.]?\d*)?)\]?
    (?P<rest>(?:\s|[-:/,(\[–—]).*|)$"""
)
_DATE = re.compile(
    r"(?i)\b\d{4}[-/.](?:\d{1,2}|[a-z]{3,9})[-/.]\d{1,2}\b|"
    r"\b\d{1,2}[-/. ](?:\d{1,2}|[a-z]{3,9})[-/., ]+\d{4}\b|"
    r"\b[a-z]{3,9}\.? \d{1,2},? \d{4}\b"
)
_NOISE = re.compile(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>|https?://\S+")


def version_of(title: str) -> str | None:
    """The version a heading or line names, or None.

    Example: version_of("## 1.17.1 (2023-Nov-27)") -> "1.17.1";
    version_of("Version 2.0 requires Java 17 from now on.") -> None
    """
    if len(title) > 120:
        return None
    m = _VERSION_TITLE.match(title.strip())
    if m is None or ("." not in m.group("version") and not (m.group("word") or m.group("v"))):
        return None  # a bare number is a version only as "Version 2", "Release 3", "v4"
    rest = _DATE.sub(" ", _NOISE.sub(" ", m.group("rest")))
    if len(re.findall(r"[^\W\d_]+", rest)) > 3 or re.search(r"\w[.!?]\s*$", rest):
        return None
    return m.group("version")


def changelog_version(unit: Unit) -> str | None:
    """For a changelog version's unit, the version it is about, with the sub-topic of a
    part: "1.17.1", "1.17.1 (Bug Fixes)", '1.17.1 (from "Fixed a leak…")'; None otherwise.

    Example: a unit with heading_path ["Changelog", "1.17.1"] and qualified_name
    "Changelog > 1.17.1 > Bug Fixes" -> "1.17.1 (Bug Fixes)"
    """
    path = unit.heading_path
    if unit.kind != "doc_section" or len(path) != 2 or path[0] != CHANGELOG:
        return None
    if version_of(f"Version {path[1]}") != path[1]:
        return None
    rest = unit.qualified_name.removeprefix(f"{CHANGELOG} > {path[1]}")
    if not rest:
        return path[1]
    if rest.startswith(" > "):
        sub, _, lead = rest[3:].partition(" (from ")
        return f"{path[1]} ({sub}, from {lead}" if lead else f"{path[1]} ({sub})"
    return f"{path[1]}{rest}"
