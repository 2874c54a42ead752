"""Task families: which family a task belongs to, and which families teach the codebase."""

from __future__ import annotations

import re
from functools import lru_cache

# family -> (knowledge?, what it holds). Knowledge families teach the codebase; the others
# are trivia (names, declarations, labels) that a model can read off the source.
FAMILIES: dict[str, tuple[bool, str]] = {
    "code": (True, "code recall: a declaration's code"),
    "explanation": (True, "what a method or constructor does, in prose"),
    "overview": (True, "what a type or package is for"),
    "docs": (True, "documentation sections and Javadoc"),
    "usage": (True, "usage and values from tests and examples"),
    "tests": (True, "which tests cover a unit, writing a test"),
    "implement": (True, "implement from the contract, fill in the middle"),
    "relations": (True, "callers, callees, subtypes, overrides, routes to handlers"),
    "api": (True, "the API a type offers, whether a member exists"),
    "configuration": (True, "configuration keys, SQL schema, views"),
    "changelog": (True, "what changed in a version"),
    "names": (False, "names and owners of declarations, packages"),
    "declarations": (False, "signatures, headers, field declarations and values"),
    "annotations": (False, "annotations and route mappings as written"),
    "imports": (False, "import lists"),
    "labels": (False, "classification labels (is this a test)"),
    "other": (False, "tasks no rule maps"),
}
TASK_FAMILY: dict[str, str] = {
    "method.code": "code",
    "constructor.code": "code",
    "type.constructors": "code",
    "method.explain": "explanation",
    "constructor.explain": "explanation",
    "type.explain": "overview",
    "doc.section": "docs",
    "signature.javadoc": "docs",
    "javadoc.signature": "docs",
    "test.covers": "tests",
    "test.write": "tests",
    "method.implement": "implement",
    "http.handler": "relations",
    "method.overridden_by": "relations",
    "http.flow": "relations",
    "type.users": "relations",
    "type.methods": "api",
    "enum.constants": "api",
    "constant.explain": "explanation",
    "method.name": "names",
    "type.name": "names",
    "member.owner": "names",
    "file.package": "names",
    "member.signature": "declarations",
    "type.declaration": "declarations",
    "type.fields": "declarations",
    "field.declaration": "declarations",
    "field.initializer": "declarations",
    "member.annotations": "annotations",
    "type.annotations": "annotations",
    "http.route": "annotations",
    "file.imports": "imports",
    "method.is_test": "labels",
}
# For task ids not in TASK_FAMILY (the first rule whose pattern occurs in the id wins).
FAMILY_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), f)
    for p, f in [
        (r"\.is_|\.has_|label", "labels"),
        (r"test", "tests"),
        (r"usage|example|value|returns", "usage"),
        (r"implement|fim|fill|body|contract", "implement"),
        (r"call|relation|override|subtype|super|hierarch|uses|handler", "relations"),
        (r"exist|api|methods", "api"),
        (r"overview|package\.|purpose|type\.explain", "overview"),
        (r"config|propert|yaml|schema|sql|view", "configuration"),
        (r"changelog|release|version|changes", "changelog"),
        (r"explain|describe|summar", "explanation"),
        (r"doc", "docs"),
        (r"code", "code"),
        (r"name|owner", "names"),
        (r"signature|declaration|initializer|field", "declarations"),
        (r"annotation|route", "annotations"),
        (r"import", "imports"),
    ]
]
# Families of tasks that may be about test code (their subject is a test, not trivia).
TEST_FAMILIES = frozenset({"tests", "usage"})
PROSE_FAMILIES = frozenset({"explanation", "overview"})


@lru_cache(maxsize=4096)
def family_of(task: str) -> str:
    """The family of a task id. Example: family_of("method.is_test") -> "labels"."""
    if task in TASK_FAMILY:
        return TASK_FAMILY[task]
    for pattern, family in FAMILY_RULES:
        if pattern.search(task):
            return family
    return "other"
