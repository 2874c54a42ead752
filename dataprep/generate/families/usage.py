"""Usage and values: what a call returns, read from the repository's own tests and from
the examples in its Javadoc. No LLM: each answer is what an assertion or an example says.

From a test: `assertEquals("abc...", StringUtils.abbreviate("abcdefg", 6))` asks "What
does `StringUtils.abbreviate("abcdefg", 6)` return?" and answers `"abc..."`. Likewise
`assertTrue(X.f(1))` (true), `assertFalse`, `assertNull`, AssertJ's
`assertThat(call).isEqualTo(v)` and Hamcrest's `assertThat(call, is(v))`.
From Javadoc: `<pre>` lines such as `StringUtils.isEmpty(null) = true`.

A call qualifies when it is self-contained: a static call on a main-code type of the
repository (or on a `new` instance of one), whose arguments and expected value name no
local variable, so the question can be answered without the test's set-up. The pair's
unit is the method called, so the pair teaches that method.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict

from dataprep.generate.code_text import dedent_code
from dataprep.generate.families import family
from dataprep.generate.families.repo import RepoView
from dataprep.generate.java_facts import close_paren, is_test_path, skip_literal
from dataprep.models import Unit

PER_METHOD = 3  # usage pairs per method at most (parameterised tests repeat themselves)
MAX_CALL = 160  # characters of a call or a value shown in an instruction

_ASSERT = re.compile(
    r"\b(?:Assert(?:ions)?\.)?(assertEquals|assertSame|assertTrue|assertFalse|assertNull|"
    r"assertThat)\s*\("
)
_FLUENT = re.compile(r"^\s*\.\s*(isEqualTo|isTrue|isFalse|isNull)\s*\(")
_HAMCREST = re.compile(r"^\s*(?:is|equalTo)\s*\((.*)\)\s*$", re.S)
_CALL = re.compile(r"^(?:new\s+([A-Z][\w$]*)\s*\(|([A-Z][\w$]*)\s*\.\s*([a-z][\w$]*)\s*\()")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_LITERAL_WORDS = frozenset("null true false new".split())
_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.S | re.I)
_EXAMPLE = re.compile(r"^\s*\*?\s*([A-Z][\w$]*\.[a-z][\w$]*\s*\(.*\))\s+=\s+(\S.*?)\s*$")


def split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments of a call's argument list (without parens).

    Example: split_args('"a,b", f(1, 2), 3') -> ['"a,b"', 'f(1, 2)', '3']
    """
    out, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = skip_literal(text, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        i += 1
    out.append(text[start:].strip())
    return [a for a in out if a]


def self_contained(expr: str, known_types: set[str]) -> bool:
    """No local variable in `expr`: every identifier is a literal word, a member after a
    dot, a type (capitalised) or a CONSTANT; a bare lower-case name is a local or a helper.

    Example: self_contained('StringUtils.abbreviate("abcdefg", 6)', {"StringUtils"}) -> True;
    self_contained('util.abbreviate(s, 6)', {"StringUtils"}) -> False
    """
    code = _strip_literals(expr)
    for match in _IDENT.finditer(code):
        word = match.group(0)
        if word in _LITERAL_WORDS or word in known_types:
            continue
        if code[: match.start()].rstrip().endswith("."):
            continue  # a member: X.y, x.y()
        if word[0].isupper():
            continue  # a type (String, List.of) or a CONSTANT
        return False
    return True


def _strip_literals(expr: str) -> str:
    out, i = [], 0
    while i < len(expr):
        if expr[i] in "\"'":
            j = skip_literal(expr, i)
            out.append('""')
            i = j
            continue
        out.append(expr[i])
        i += 1
    return re.sub(r"\b\d[\w.]*", "0", "".join(out))


def assertions(code: str) -> list[tuple[str, str]]:
    """(call, expected value) of each assertion in a test method's code, as written."""
    found = []
    for match in _ASSERT.finditer(code):
        kind, open_at = match.group(1), match.end() - 1
        close = close_paren(code, open_at)
        args = split_args(code[open_at + 1 : close])
        if kind in ("assertEquals", "assertSame") and len(args) >= 2:
            found.append((args[1], args[0]))
        elif kind in ("assertTrue", "assertFalse", "assertNull") and args:
            found.append(
                (args[0], {"assertTrue": "true", "assertFalse": "false"}.get(kind, "null"))
            )
        elif kind == "assertThat" and len(args) == 2:
            hamcrest = _HAMCREST.match(args[1])
            if hamcrest:
                found.append((args[0], hamcrest.group(1).strip()))
        elif kind == "assertThat" and len(args) == 1:
            fluent = _FLUENT.match(code[close + 1 :])
            if fluent:
                verb = fluent.group(1)
                if verb == "isEqualTo":
                    start = close + 1 + fluent.end() - 1
                    value = code[start + 1 : close_paren(code, start)].strip()
                else:
                    value = {"isTrue": "true", "isFalse": "false", "isNull": "null"}[verb]
                found.append((args[0], value))
    return found


def javadoc_examples(javadoc: str) -> list[tuple[str, str]]:
    """(call, value) of the `<pre>` examples of a Javadoc comment (`X.f(a) = b` lines)."""
    found = []
    for block in _PRE.findall(javadoc or ""):
        for line in html.unescape(block).splitlines():
            match = _EXAMPLE.match(line)
            if match:
                found.append((match.group(1).strip(), match.group(2).strip()))
    return found


def _target(call: str, repo: RepoView) -> Unit | None:
    """The main-code method a call invokes: `Type.method(...)` or `new Type(...).method(...)`."""
    match = _CALL.match(call)
    if not match:
        return None
    if match.group(1):  # new Type(...).method(...)
        type_name = match.group(1)
        after = call[close_paren(call, match.end() - 1) + 1 :]
        method = re.match(r"\s*\.\s*([a-z][\w$]*)\s*\(", after)
        if not method or close_paren(after, method.end() - 1) != len(after) - 1:
            return None
        name = method.group(1)
    else:
        type_name, name = match.group(2), match.group(3)
        rest = call[close_paren(call, match.end() - 1) + 1 :]
        while rest.strip():  # a fluent chain: Money.euros("1").plus(...) asks about plus
            step = re.match(r"\s*\.\s*([a-z][\w$]*)\s*\(", rest)
            if not step:
                return None
            name = step.group(1)
            rest = rest[close_paren(rest, step.end() - 1) + 1 :]
    types = repo.main_types.get(type_name, [])
    if len(types) != 1:
        return None
    methods = [m for m in repo.methods_of(types[0]) if m.name == name]
    return min(methods, key=lambda m: (m.start_line, m.id)) if methods else None


@family("usage")
def usage(repo: RepoView, tasks: dict, seed: int) -> list:
    known = set(repo.main_types)
    examples: dict[str, list[tuple[str, str, Unit]]] = defaultdict(list)
    for unit in repo.units:
        if unit.kind != "method":
            continue
        if is_test_path(unit.path):
            pairs = assertions(unit.code)
        elif unit.javadoc and "<pre" in unit.javadoc:
            pairs = javadoc_examples(unit.javadoc)
        else:
            continue
        for call, expected in pairs:
            call, expected = " ".join(call.split()), dedent_code(expected.strip())
            if len(call) > MAX_CALL or len(expected) > MAX_CALL or "\n" in expected:
                continue
            if not (self_contained(call, known) and self_contained(expected, known)):
                continue
            target = _target(call, repo)
            if target is not None:
                examples[target.id].append((call, expected, target))
    out = []
    for target_id in sorted(examples):
        seen: dict[str, str] = {}
        for call, expected, _ in examples[target_id]:
            seen.setdefault(call, expected)
        calls = sorted(seen)[:PER_METHOD]
        for call in calls:
            target = examples[target_id][0][2]
            values = [dict(v, call=call) for v in repo.values(target)]
            answer = (f"`{call}` returns `{seen[call]}`.", target.start_line, target.end_line)
            for task_id, task in tasks.items():
                out.append(repo.candidate(task_id, task, target, values, "", answer, seed))
    return out
