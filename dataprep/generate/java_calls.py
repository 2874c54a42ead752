"""Call sites, variable declarations and type references read from Java code as written:
the raw facts of the relations family (dataprep.generate.families.relations).

Pure helpers on text, no parser: comments and literals are blanked first, so a call in a
string or a comment is not a call. What they cannot tell (the type of a chained call's
result, of a `var` or of a lambda parameter) they leave to the caller to call unknown.

Example:
    calls("return bookings.findById(id).orElseThrow(() -> fail(id));")
    -> [Call("bookings", "findById", 1), Call(")", "orElseThrow", 1), Call(None, "fail", 1)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dataprep.generate.java_facts import close_paren, header_end, skip_annotations

_NOISE = re.compile(
    r'"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|//[^\n]*|/\*[\s\S]*?\*/'
)
_NAME_CALL = re.compile(r"(?<![\w$@])([A-Za-z_$][\w$]*)\s*\(|::\s*([A-Za-z_$][\w$]*)")
_IDENT_BEFORE = re.compile(r"([A-Za-z_$][\w$]*)\s*$")
# Words that may precede a call (`return f(x)`); any other word makes `word name(` a
# declaration (`void run(`), and `new Name(` a constructor call.
_BEFORE_CALL = frozenset("return throw else case yield assert do default".split())
_NOT_CALLS = frozenset(
    "if for while switch catch synchronized return new super this throw assert try else do "
    "case yield instanceof".split()
)
_DECLARATION = re.compile(  # led by a look at its first letter: most places fail there
    r"(?=[A-Zbcdfils])(?<![\w$.])([A-Z][\w$]*(?:\s*\.\s*[A-Z][\w$]*)*"
    r"|boolean|byte|char|short|int|long|float|double)\s*(<[^;=(){}]*>)?\s*"
    r"((?:\[\s*\])*)\s+([a-z_$][\w$]*)\s*(?=[=;:,)&|])"
)
_VAR_NEW = re.compile(r"\bvar\s+([a-z_$][\w$]*)\s*=\s*new\s+([A-Z][\w$]*(?:\.[A-Z][\w$]*)*)")
_TYPE_WORD = re.compile(r"(?=[A-Z])(?<![\w$.])[A-Z][\w$]*(?:\s*\.\s*[A-Z][\w$]*)*(?![\w$])")
_ANNOTATION = re.compile(r"@\s*[\w$.]+(?:\s*\([^()]*(?:\([^()]*\)[^()]*)*\))?")
_BRACKET = re.compile(r"[()\[\]{}]")
_LOOK_BACK = 400  # characters before a call's name that can hold its receiver


@dataclass(frozen=True)
class Call:
    """One call site: `receiver` is None (unqualified), `this`, `super`, a dotted chain of
    names (`bookings`, `RoomType.SUITE`), or `)` for an expression; `arity` is None for a
    method reference (`Type::name`). `close` is the index of the call's `)` and `after` that
    of the `)` its receiver ends with (`a.b().c()`: c's `after` is b's `close`), or -1."""

    receiver: str | None
    name: str
    arity: int | None
    close: int = -1
    after: int = -1


def strip_noise(code: str) -> str:
    """`code` with string and char literals emptied and comments blanked.

    Example: strip_noise('f("a(b)"); // g(x)') -> 'f(""); '
    """

    def blank(match: re.Match[str]) -> str:
        first = match.group(0)[0]
        return first * 2 if first in "\"'" else " "

    return _NOISE.sub(blank, code)


def body_of(code: str) -> str:
    """A method's or constructor's code from its body's `{` on (no annotations, header)."""
    start = skip_annotations(code)
    return code[header_end(code, start) :]


def arity(text: str, open_at: int) -> tuple[int, int]:
    """(number of top-level arguments, index of the `)`) of the call whose `(` is at
    `open_at`."""
    close = close_paren(text, open_at)
    inner = text[open_at + 1 : close]
    if not inner.strip():
        return 0, close
    if "," not in inner:
        return 1, close
    if _BRACKET.search(inner) is None:  # every comma a top-level one
        return inner.count(",") + 1, close
    depth, count = 0, 1
    for ch in inner:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            count += 1
    return count, close


def calls(text: str) -> list[Call]:
    """The call sites and method references of stripped code, in order of appearance."""
    out = []
    for match in _NAME_CALL.finditer(text):
        name, reference = match.groups()
        if name is not None and (name in _NOT_CALLS or name[0].isupper()):
            continue  # keywords, constructors and record patterns: `case Point(int x)`
        if reference == "new":
            continue
        start = match.start()
        before = text[max(0, start - _LOOK_BACK) : start].rstrip()
        offset = start - _LOOK_BACK if start > _LOOK_BACK else 0
        if reference is not None:  # a method reference: Type::name, this::name
            receiver, after = _chain_before(before, offset)
            out.append(Call(receiver, reference, None, -1, after))
            continue
        receiver, after = _receiver(before, offset)
        if receiver == "":
            continue  # a declaration
        count, close = arity(text, match.end() - 1)
        out.append(Call(receiver, name, count, close, after))
    return out


def _receiver(before: str, offset: int) -> tuple[str | None, int]:
    """What precedes a call's name (right-stripped, starting at `offset` of the text):
    None (unqualified), a dotted chain, `)` (an expression) or "" (not a call: the name is
    declared); and the index of the `)` an expression receiver ends with."""
    if not before:
        return None, -1
    last = before[-1]
    if last == ".":
        return _chain_before(before[:-1].rstrip(), offset)
    if last.isalnum() or last in "_$":
        word = _IDENT_BEFORE.search(before[-80:])
        return (None if word and word.group(1) in _BEFORE_CALL else ""), -1
    if before.endswith("->"):
        return None, -1  # a lambda's body: `x -> f(x)`
    if last in ">]":
        return "", -1  # `List<String> name(`, `int[] name(`: declarations
    return None, -1


def _chain_before(text: str, offset: int) -> tuple[str, int]:
    """The dotted chain of names that `text` ends with (`this.rooms`, `RoomType.SUITE`), or
    `)` when it ends with an expression (`f()`, `a[0]`, `a.b().c`), with the index of the
    `)` that ends it when it is a call's result."""
    if text.endswith(")"):
        return ")", offset + len(text) - 1
    parts, i = [], len(text)
    while True:  # read `name`, then `. name` backwards, without a regex search
        j = i
        while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_$"):
            j -= 1
        if j == i:
            return ")", -1  # `a[0].`, `"x".`: not a name
        parts.append(text[j:i])
        k = j
        while k > 0 and text[k - 1].isspace():
            k -= 1
        if k == 0 or text[k - 1] != ".":
            return ".".join(reversed(parts)), -1
        i = k - 1
        while i > 0 and text[i - 1].isspace():
            i -= 1
        if i > 0 and text[i - 1] in ")]":
            return ")", -1  # a.b().c: the chain hangs off an expression


def local_types(text: str) -> dict[str, str]:
    """Variable name -> its declared type (generics and arrays kept off) in stripped code:
    locals, catch and for-each variables, typed lambda and pattern variables, and
    `var x = new T(...)`. The first declaration of a name wins.

    Example: local_types("Room room = rooms.get(id); for (Booking b : all) {}")
    -> {"room": "Room", "b": "Booking"}
    """
    found: dict[str, str] = {}
    for match in _DECLARATION.finditer(text):
        type_text, _, dims, name = match.groups()
        type_text = "".join(type_text.split())  # whitespace out (`Map . Entry`)
        found.setdefault(name, type_text + ("[]" if dims else ""))
    for match in _VAR_NEW.finditer(text) if "var" in text else ():
        found.setdefault(match.group(1), match.group(2))
    return found


def parameter_types(parameters: list[str]) -> dict[str, str]:
    """Parameter name -> type as written, without annotations, `final` and generics.

    Example: parameter_types(["@PathVariable long id", "final List<Booking> all"])
    -> {"id": "long", "all": "List"}
    """
    out = {}
    for param in parameters:
        text = _ANNOTATION.sub(" ", param).replace("final ", " ")
        text = re.sub(r"<[^<>]*(?:<[^<>]*(?:<[^<>]*>[^<>]*)*>[^<>]*)*>", "", text)
        words = text.replace("...", "[] ").split()
        if len(words) < 2:
            continue
        name = words[-1]
        dims = name.count("[")
        out[name.split("[")[0]] = "".join(words[:-1]) + "[]" * dims
    return out


def erasure(type_text: str) -> str:
    """A type as written with generics, annotations and whitespace removed.

    Example: erasure("Map<Long, List<Money>>") -> "Map"; erasure("int []") -> "int[]"
    """
    text = _ANNOTATION.sub(" ", type_text or "")
    depth, out = 0, []
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0 and not ch.isspace():
            out.append(ch)
    return "".join(out).replace("...", "[]")


def type_words(text: str) -> set[str]:
    """Capitalised names of stripped code (types, constants), not after a lower-case name,
    with the prefixes of a dotted one (`Result.Success`: an outer and a nested type).

    Example: type_words("Money m = Money.euros(x); this.Total; Result.Success s")
    -> {"Money", "Result", "Result.Success"}
    """
    out = set()
    for chain in set(_TYPE_WORD.findall(text)):
        parts = [p.strip() for p in chain.split(".")]
        out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return out


def signature_params(signature: str | None) -> list[str]:
    """Parameter types of a unit's `signature` (`name(T1, T2)`), top-level commas only.

    Example: signature_params("put(Map<K, V>, int)") -> ["Map<K, V>", "int"]
    """
    if not signature or "(" not in signature:
        return []
    inner = signature[signature.index("(") + 1 : signature.rindex(")")]
    out, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(inner[start:i].strip())
            start = i + 1
    last = inner[start:].strip()
    return out + [last] if last else out


def type_parameters(text: str | None) -> list[str]:
    """The names a type-parameter list declares.

    Example: type_parameters("<K, V extends Map<K, List<V>>>") -> ["K", "V"]
    """
    if not text:
        return []
    names, depth, expect = [], 0, True
    for match in re.finditer(r"[<>,]|[A-Za-z_$][\w$]*|@[\w$.]+", text):
        token = match.group(0)
        if token == "<":
            depth += 1
            expect = depth == 1
        elif token == ">":
            depth -= 1
        elif token == ",":
            expect = depth == 1
        elif expect and depth == 1 and not token.startswith("@"):
            names.append(token)
            expect = False
    return names
