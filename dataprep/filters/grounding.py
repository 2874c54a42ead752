"""Grounding: the names an LLM-written answer uses must exist in the repository."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dataprep.filters.core import Context, register
from dataprep.models import Pair, Unit

IDENT_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
CAMEL_TYPE_RE = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b")
CALL_RE = re.compile(r"\b([a-z_$][A-Za-z0-9_$]*)\s*\(")
MEMBER_RE = re.compile(r"\b(?:this|[a-z_$][A-Za-z0-9_$]*)\.([a-z_$][A-Za-z0-9_$]*)\b")
DECLARED_RE = re.compile(
    r"\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)"
    r"|\b[\w$<>\[\],.?]+\s+([a-z_$][\w$]*)\s*(?:\(|=|;|:)"
)
JAVA_WORDS = set(
    "abstract assert boolean break byte case catch char class const continue default do double "
    "else enum extends final finally float for goto if implements import instanceof int "
    "interface long native new package private protected public return short static strictfp "
    "super switch synchronized this throw throws transient try void volatile while var record "
    "yield sealed permits true false null".split()
)
# Names from java.lang/java.util and common libraries that any Java answer may use.
COMMON_NAMES = set(
    "String Object Integer Long Double Float Boolean Character Byte Short Math System "
    "StringBuilder List ArrayList LinkedList Map HashMap LinkedHashMap TreeMap Set HashSet "
    "TreeSet Optional Collections Arrays Objects Stream Collectors Iterator Iterable Comparable "
    "Comparator Exception RuntimeException IllegalArgumentException IllegalStateException "
    "NullPointerException UnsupportedOperationException IOException LocalDate LocalDateTime "
    "Instant Duration UUID BigDecimal BigInteger Thread Runnable Override Deprecated "
    "FunctionalInterface SuppressWarnings Function Supplier Consumer Predicate JUnit Test "
    "BeforeEach AfterEach Assertions JavaDoc Javadoc README JSON HashCode toString equals "
    "hashCode get set put add remove size isEmpty contains of stream map filter collect forEach "
    "orElse orElseThrow isPresent ifPresent valueOf parseInt format println print append length "
    "charAt substring trim split getClass compareTo iterator hasNext next clear addAll "
    "containsKey getOrDefault keySet values entrySet getKey getValue sort asList toList "
    "requireNonNull now plusDays isBefore isAfter assertEquals assertTrue assertFalse "
    "assertNotNull assertNull assertThrows".split()
)


@dataclass
class RepoIndex:
    """The repository's symbol table: declared names plus every identifier its code uses."""

    declared: set[str]
    used: set[str]

    @classmethod
    def from_units(cls, units: Iterable[Unit]) -> RepoIndex:
        """Build from `store.units()`. Example: a unit `Room.getId` adds `Room` and `getId`."""
        declared: set[str] = set()
        used: set[str] = set()
        for unit in units:
            declared.add(unit.name)
            declared.update(
                part for part in unit.qualified_name.replace("#", ".").split(".") if part
            )
            used.update(IDENT_RE.findall(unit.code))
            used.update(IDENT_RE.findall(unit.javadoc or ""))
            for imp in unit.imports:
                used.add(imp.rstrip(";").split(".")[-1])
        return cls(declared, used)

    def knows(self, name: str) -> bool:
        return name in self.declared or name in self.used


def repo_like_names(text: str) -> set[str]:
    """Identifiers that look like repository names: CamelCase types, method calls, fields.

    Example: "Call `roomService.findFree()` on RoomService" -> {"RoomService", "findFree"}
    (the receiver `roomService` is a local name, not checked).
    """
    names = set(CAMEL_TYPE_RE.findall(text))
    names.update(CALL_RE.findall(text))
    names.update(MEMBER_RE.findall(text))
    return names


def declared_in(text: str) -> set[str]:
    """Names the text itself declares (so new code written in an answer is not ungrounded)."""
    out: set[str] = set()
    for type_name, member in DECLARED_RE.findall(text):
        out.add(type_name or member)
    return out


@register(
    "grounding",
    "names in LLM outputs must exist in the repository's symbol table",
    ("grounding_generators",),
)
def grounding(pair: Pair, ctx: Context) -> str | None:
    if ctx.index is None or pair.generator not in ctx.config.grounding_generators:
        return None
    given = set(IDENT_RE.findall(pair.instruction)) | set(IDENT_RE.findall(pair.input))
    allowed = given | declared_in(pair.output) | JAVA_WORDS | COMMON_NAMES
    unknown = sorted(
        n for n in repo_like_names(pair.output) if n not in allowed and not ctx.index.knows(n)
    )
    if unknown:
        return f"names not in the repository: {', '.join(unknown[:5])}"
    return None
