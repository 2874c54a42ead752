"""Facts read from Java source text as written: signatures, mappings, test names.

Small pure helpers for the template generator; each works on the exact text of a unit,
so what it returns is a substring of the source (or a name taken from it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import PurePosixPath

from dataprep.generate.indent import dedent_by, dedent_code, indent
from dataprep.languages.java.comments import without_comments
from dataprep.models import Unit

MAPPINGS = {
    "GetMapping": "GET",
    "PostMapping": "POST",
    "PutMapping": "PUT",
    "DeleteMapping": "DELETE",
    "PatchMapping": "PATCH",
    "RequestMapping": None,
}
TEST_SUFFIXES = ("IntegrationTest", "Tests", "Test", "IT", "TestCase")
# Annotations that make a method a test for JUnit 4/5 and TestNG (TestNG's is `@Test` too).
TEST_ANNOTATIONS = frozenset(
    {"Test", "ParameterizedTest", "RepeatedTest", "TestFactory", "TestTemplate"}
)


_GAP = re.compile(r"(?:\s+|//[^\r\n]*|/\*.*?\*/)*", re.S)  # blanks and comments


def skip_annotations(code: str) -> int:
    """Index of the first character after the leading annotations (not `@interface`) and
    the blanks and comments after them.

    Example: skip_annotations("@Override // why\nint f()") -> 17 (the `int`)
    """
    i = 0
    while True:
        i = _GAP.match(code, i).end()
        if not code.startswith("@", i) or code.startswith("@interface", i):
            return i
        match = re.compile(r"@\s*[\w.$]+\s*").match(code, i)
        if not match:
            return i
        i = match.end()
        if code.startswith("(", i):
            i = close_paren(code, i) + 1


def close_paren(code: str, i: int) -> int:
    """Index of the `)` matching the `(` at i, skipping string and char literals."""
    depth, n = 0, len(code)
    while i < n:
        found = _PAREN_STOP.search(code, i)  # what else there is only moves on
        if found is None:
            break
        i = found.start()
        ch = code[i]
        if ch in "\"'":
            i = skip_literal(code, i)
            continue
        if ch == "(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return n - 1


_PAREN_STOP = re.compile(r"[\"'()]")
_HEADER_STOP = re.compile(r"[\"'/(){;]")


def skip_literal(code: str, i: int) -> int:
    if code.startswith('"""', i):
        end = code.find('"""', i + 3)
        return len(code) if end < 0 else end + 3
    quote, i = code[i], i + 1
    while i < len(code) and code[i] != quote:
        i += 2 if code[i] == "\\" else 1
    return i + 1


def header_end(code: str, start: int = 0) -> int:
    """Index of the body's `{` (or the `;`) of a declaration, outside parentheses,
    literals and comments."""
    depth, i, n = 0, start, len(code)
    while i < n:
        found = _HEADER_STOP.search(code, i)  # what else there is only moves on
        if found is None:
            break
        i = found.start()
        ch = code[i]
        if ch in "\"'":
            i = skip_literal(code, i)
            continue
        if ch == "/" and code.startswith(("//", "/*"), i):
            i = max(_GAP.match(code, i).end(), i + 1)  # an unclosed `/*`: go on
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch in "{;" and depth == 0:
            return i
        i += 1
    return n


def signature_of(unit: Unit) -> str | None:
    """A method's or constructor's header as written, without annotations, comments and
    body; its continuation lines keep their place relative to its first line (`_dedented`),
    so a wrapped parameter list stays aligned under its parenthesis.

    Example: "@GetMapping(\"/{id}\")\\npublic Booking get(@PathVariable long id) {...}"
    -> "public Booking get(@PathVariable long id)"
    A unit of another language takes that language's rule (dataprep.languages).
    """
    if unit.language != "java":
        from dataprep import languages

        other = languages.find(unit.language)
        if other is not None:
            return other.signature_of(unit)
    if unit.kind not in ("method", "constructor"):
        return None
    return _signature(_dedented(unit.code, _doc_indent(unit.javadoc)))


def _doc_indent(javadoc: str | None) -> int | None:
    """The column a member starts at, read off its Javadoc's closing line (` */` one
    space in), or None."""
    lines = (javadoc or "").rstrip().split("\n")
    if len(lines) < 2 or lines[-1].strip() != "*/":
        return None
    return max(0, indent(lines[-1]) - 1)


def _dedented(code: str, base: int | None) -> str:
    """`code` with its first line's column taken from the others: `base` where the member's
    Javadoc tells it, else what `dedent_code` reads off the code (the closing brace; for a
    member without a body, its continuation lines are taken as one step in)."""
    return dedent_code(code) if base is None else dedent_by(code, base)


@lru_cache(maxsize=1024)
def _signature(code: str) -> str | None:
    start = skip_annotations(code)
    text = without_comments(code[start : header_end(code, start)]).rstrip()
    return text or None


def member_params(unit: Unit, signature: str | None) -> str:
    """`name(params)` with whitespace collapsed, for telling overloads apart."""
    if not signature:
        return unit.name
    name, at = unit.name, 0
    while (at := signature.find(name, at)) >= 0:
        before = signature[at - 1] if at else " "
        after = signature[at + len(name) :].lstrip()
        at += len(name)
        if not (before.isalnum() or before in "_$") and after.startswith("("):
            open_ = signature.index("(", at)
            close = close_paren(signature, open_)
            return " ".join(f"{name}{signature[open_ : close + 1]}".split())
    return name


def annotation_name(annotation: str) -> str:
    return re.sub(r"^@\s*", "", annotation).split("(", 1)[0].strip().rsplit(".", 1)[-1]


def mapping_path(annotation: str) -> str:
    """The first path of a mapping annotation: `@GetMapping("/{id}")` -> `/{id}`."""
    args = annotation.split("(", 1)[1] if "(" in annotation else ""
    named = re.search(r'\b(?:value|path)\s*=\s*\{?\s*"([^"]*)"', args)
    if named:
        return named.group(1)
    positional = re.match(r'\s*\{?\s*"([^"]*)"', args)
    return positional.group(1) if positional else ""


def mapping_method(annotation: str) -> str | None:
    name = annotation_name(annotation)
    if name not in MAPPINGS:
        return None
    if MAPPINGS[name]:
        return MAPPINGS[name]
    found = re.search(r"RequestMethod\.(\w+)", annotation)
    return found.group(1) if found else None


def join_route(prefix: str, path: str) -> str:
    route = "/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
    return route


@lru_cache(maxsize=1 << 16)
def is_test_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return "test" in parts or "tests" in parts


def test_subject(path: str) -> str | None:
    stem = PurePosixPath(path).stem
    for suffix in TEST_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return None


def test_target(test_name: str, method_names: Iterable[str]) -> str | None:
    """The method a test's name points at: `createBooking_tooMany` or `testCancelBooking`.

    Example: test_target("testCancelBooking", ["cancel", "cancelBooking"]) -> "cancelBooking"
    """
    name = re.sub(r"^(test|should)_?", "", test_name)
    if not name:
        return None
    name = name[0].lower() + name[1:]
    best = None
    for method in method_names:
        if name.startswith(method):
            rest = name[len(method) :]
            if (not rest or rest[0] in "_$" or rest[0].isupper() or rest[0].isdigit()) and (
                best is None or len(method) > len(best)
            ):
                best = method
    return best


def is_test_answer(annotations: Iterable[str], name: str) -> str | None:
    """`yes` when a test annotation is on the method, `no` when the source says it is not
    a test, None when it cannot tell (a JUnit 3 style `testX()` with no annotation).

    Example: is_test_answer(["@Test"], "cancels") -> "yes"; is_test_answer([], "cancel") -> "no";
    is_test_answer([], "testCancel") -> None.
    """
    if any(annotation_name(a) in TEST_ANNOTATIONS for a in annotations):
        return "yes"
    return None if name.startswith("test") else "no"


HEADER_ANNOTATION_RE = re.compile(r"@\s*((?!interface\b)[\w$]+(?:\s*\.\s*[\w$]+)*)")
METHOD_NAME_RE = re.compile(r"([\w$]+)\s*\($")
LEADING_COMMENTS_RE = re.compile(r"\A(?:\s*(?:/\*.*?\*/|//[^\n]*))*", re.S)


def is_test_answer_of_code(code: str) -> str | None:
    """`is_test_answer` read from a method's code as written (its header, before the body),
    for text that did not come from the slicer (an LLM-written method).

    Example: is_test_answer_of_code("@Test\nvoid cancels() { }") -> "yes".
    """
    text = LEADING_COMMENTS_RE.sub("", code)  # a Javadoc or comment above the method
    header = text[: header_end(text)]
    annotations = ["@" + m.group(1) for m in HEADER_ANNOTATION_RE.finditer(header)]
    paren = header.find("(", skip_annotations(header))
    named = METHOD_NAME_RE.search(header[: paren + 1]) if paren >= 0 else None
    return is_test_answer(annotations, named.group(1) if named else "")
