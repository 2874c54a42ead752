"""The main code's Java types, indexed once: members, supertypes, imports, and names
resolved the way Java resolves them, as far as the text tells.

A type name is looked up through the enclosing types (and their member types), the
file's single-type imports, its package, its on-demand imports, and java.lang. An enum
constant with a body is a scope of its own, whose supertype is its enum. Two main-code
types of one qualified name (copies in two modules) are left out, and so is anything
that would resolve to them. Test code and other languages are not indexed.

Example:
    types = TypeIndex(units)
    types.resolve_type("Discount", "com.x.PriceCalculator", path, "com.x")
    -> "com.x.PriceCalculator.Discount"
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from dataprep.generate.java_calls import (
    erasure,
    parameter_types,
    signature_params,
    strip_noise,
    type_parameters,
    type_words,
)
from dataprep.generate.java_facts import is_test_path
from dataprep.generate.javadoc import parse_javadoc
from dataprep.languages import find as find_language
from dataprep.models import TYPE_KINDS, Unit

EXTERNAL, UNKNOWN = "", None  # a type outside the repository, or one the text cannot tell
# Members that hold a value of a declared type (an enum constant is an `enum_constant`
# unit, a `field` in stores sliced before that kind existed).
FIELD_KINDS = ("field", "enum_constant")


@dataclass
class Scope:
    """A type, or an enum constant's body, with its members and resolved supertypes."""

    qname: str
    unit: Unit | None
    path: str
    package: str
    outer: str | None
    methods: dict[str, list[Unit]] = field(default_factory=lambda: defaultdict(list))
    fields: dict[str, str] = field(default_factory=dict)  # name -> declared type
    supers: list[str] = field(default_factory=list)
    external_super: bool = False


@dataclass
class _Imports:
    single: dict[str, str] = field(default_factory=dict)  # simple name -> imported name
    wildcard: list[str] = field(default_factory=list)  # `p` of `import p.*`
    static: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    static_wildcard: list[str] = field(default_factory=list)


class TypeIndex:
    """The main-code Java types of a repository and their members."""

    def __init__(self, units: list[Unit]):
        self.scopes: dict[str, Scope] = {}
        self.imports: dict[str, _Imports] = defaultdict(_Imports)
        self._cache: dict[tuple, object] = {}
        self._index_units(units)
        for scope in self.scopes.values():
            self._resolve_supers(scope)

    def _index_units(self, units: list[Unit]) -> None:
        main = [u for u in units if not is_test_path(u.path)]
        # what is read here is Java; another language's code could call or extend it unseen
        self.mixed = any(u.language != "java" and find_language(u.language) for u in main)
        main = [u for u in main if u.language == "java"]
        types = [u for u in main if u.kind in TYPE_KINDS and "$" not in u.qualified_name]
        seen: dict[str, int] = defaultdict(int)
        for unit in types:
            seen[unit.qualified_name] += 1
        for unit in main:
            if unit.kind == "file":
                self._read_imports(unit)
        for unit in types:
            if seen[unit.qualified_name] > 1:
                continue  # two types of one name (copies in two modules): neither is resolved
            outer = unit.parent if unit.parent and "$" not in unit.parent else None
            self.scopes[unit.qualified_name] = Scope(
                unit.qualified_name, unit, unit.path, unit.package or "", outer
            )
        self.members: list[Unit] = []  # of named scopes, in path and line order
        self.by_name: dict[str, list[Unit]] = defaultdict(list)  # method name -> methods
        self.unplaced_names: set[str] = set()  # methods of the types left out above
        for unit in sorted(main, key=lambda u: (u.path, u.start_line, u.id)):
            if unit.kind not in ("method", "constructor", *FIELD_KINDS) or not unit.parent:
                continue
            scope = self._member_scope(unit)
            if scope is None:
                if unit.kind == "method" and "$" not in unit.parent:
                    self.unplaced_names.add(unit.name)
                continue  # a member of an anonymous class: its code is its method's
            self.members.append(unit)
            if unit.kind == "method":
                scope.methods[unit.name].append(unit)
                self.by_name[unit.name].append(unit)
            elif unit.kind in FIELD_KINDS:
                scope.fields.setdefault(unit.name, erasure(unit.type or scope.qname))
        for scope in self.scopes.values():  # a record's components are its fields
            if scope.unit is not None and scope.unit.kind == "record":
                for name, type_text in parameter_types(scope.unit.parameters).items():
                    scope.fields.setdefault(name, type_text)

    def _member_scope(self, unit: Unit) -> Scope | None:
        parent = unit.parent or ""
        if "$" in parent:
            return None
        if parent in self.scopes:
            return self.scopes[parent]
        enum = parent.rpartition(".")[0]  # an enum constant's body: `pkg.RoomType.SUITE`
        if enum in self.scopes and self.scopes[enum].unit.kind == "enum":
            base = self.scopes[enum]
            scope = Scope(parent, None, base.path, base.package, enum, supers=[enum])
            self.scopes[parent] = scope
            return scope
        return None

    def _read_imports(self, file_unit: Unit) -> None:
        imports = self.imports[file_unit.path]
        for name in file_unit.imports:
            static = name.startswith("static ")
            name = name.removeprefix("static ").strip()
            owner, _, last = name.rpartition(".")
            if static and last == "*":
                imports.static_wildcard.append(owner)
            elif static:
                imports.static[last].append(owner)
            elif last == "*":
                imports.wildcard.append(owner)
            else:
                imports.single[last] = name

    def _resolve_supers(self, scope: Scope) -> None:
        if scope.unit is None:
            return
        for written in [*scope.unit.extends, *scope.unit.implements]:
            found = self.resolve_type(erasure(written), scope.outer, scope.path, scope.package)
            if found:
                scope.supers.append(found)
            else:
                scope.external_super = True

    # -- names ----------------------------------------------------------------------------

    def resolve_type(self, name: str, within: str | None, path: str, package: str) -> str | None:
        """The repository type that `name` (simple or dotted, as written in `path` inside the
        type `within`) denotes, or None (a JDK or library type, a type variable)."""
        if not name or name[0].islower() and "." not in name:
            return None
        if "." in name and name in self.scopes and name[0].islower():
            return name  # fully qualified
        first, _, rest = name.partition(".")
        found = self._resolve_simple(first, within, path, package)
        if found and rest:
            found = f"{found}.{rest}"
        return found if found in self.scopes and self.scopes[found].unit is not None else None

    def _resolve_simple(self, name: str, within: str | None, path: str, package: str):
        scope = within
        while scope:  # the enclosing types, then their member types
            if scope.rpartition(".")[2] == name and scope in self.scopes:
                return scope
            if f"{scope}.{name}" in self.scopes:
                return f"{scope}.{name}"
            scope = self.scopes[scope].outer if scope in self.scopes else None
        imports = self.imports[path]
        if name in imports.single:
            return imports.single[name]
        local = f"{package}.{name}" if package else name
        if local in self.scopes:
            return local
        found = {f"{p}.{name}" for p in imports.wildcard if f"{p}.{name}" in self.scopes}
        if len(found) == 1:
            return found.pop()
        return f"java.lang.{name}" if not found else None

    def declared(self, type_text: str, within: str, path: str, package: str):
        """The repository type of something declared as `type_text` (erased), EXTERNAL (a
        primitive, an array, a library type) or UNKNOWN (a type variable; `?` is one)."""
        if type_text == "?":
            return UNKNOWN
        if "[" in type_text or type_text[:1].islower():
            return EXTERNAL
        found = self.resolve_type(type_text, within, path, package)
        if found:
            return found
        if type_text in self.type_variables(within) or _type_variable(type_text):
            return UNKNOWN
        return EXTERNAL

    def type_variables(self, qname: str | None) -> set[str]:
        """The type parameters in scope in a type (its own and its outer types')."""
        key = ("t", qname)
        if key not in self._cache:
            names: set[str] = set()
            while qname in self.scopes:
                unit = self.scopes[qname].unit
                names |= set(type_parameters(unit.type_parameters)) if unit else set()
                qname = self.scopes[qname].outer
            self._cache[key] = names
        return self._cache[key]

    def field(self, scope_name: str | None, name: str, outward: bool = True):
        """(declared type, declaring type) of the field `name` seen from a scope: its own,
        its supertypes', its outer types'; None when the repository declares none."""
        while scope_name:
            for qname in self.hierarchy(scope_name):
                type_text = self.scopes[qname].fields.get(name)
                if type_text is not None:
                    return type_text, qname
            scope_name = self.scopes[scope_name].outer if outward else None
        return None

    def field_type(self, type_text: str, owner: str):
        """The repository type of a field declared as `type_text` in the type `owner`."""
        scope = self.scopes[owner]
        return self.declared(type_text, owner, scope.path, scope.package)

    def hierarchy(self, qname: str) -> list[str]:
        """The scope and its repository supertypes, nearest first (breadth first)."""
        key = ("h", qname)
        if key not in self._cache:
            order, queue = [], [qname]
            while queue:
                name = queue.pop(0)
                if name in order or name not in self.scopes:
                    continue
                order.append(name)
                queue += self.scopes[name].supers
            self._cache[key] = order
        return self._cache[key]

    def closed(self, qname: str) -> bool:
        """No type of the hierarchy extends one outside the repository."""
        return not any(self.scopes[q].external_super for q in self.hierarchy(qname))

    # -- overrides, subtypes, users ---------------------------------------------------------

    def overridden(self, method: Unit) -> list[Unit]:
        """The nearest supertype declarations that `method` overrides or implements."""
        if method.kind != "method" or {"static", "private"} & set(method.modifiers):
            return []
        scope = self.scopes.get(method.parent or "")
        if scope is None:
            return []
        params = [_simple(p) for p in signature_params(method.signature)]
        level = list(scope.supers)
        seen = {scope.qname}
        while level:
            found = [
                other
                for qname in level
                for other in self.scopes[qname].methods.get(method.name, [])
                if not {"static", "private"} & set(other.modifiers) and _same_params(params, other)
            ]
            if found:
                return found
            seen.update(level)
            level = [s for q in level for s in self.scopes[q].supers if s not in seen]
        return []

    @cached_property
    def subtypes(self) -> dict[str, list[Unit]]:
        """Type -> the main-code types that name it in `extends` or `implements`."""
        out: dict[str, list[Unit]] = defaultdict(list)
        for scope in self.scopes.values():
            if scope.unit is not None:
                for qname in dict.fromkeys(scope.supers):
                    out[qname].append(scope.unit)
        return out

    @cached_property
    def users(self) -> dict[str, set[str]]:
        """Type -> the other main-code types whose header or members name it (its own
        member types aside)."""
        words: dict[str, set[str]] = defaultdict(set)
        for scope in self.scopes.values():
            if scope.unit is not None:
                words[scope.qname] |= type_words(strip_noise(scope.unit.code))
        for unit in self.members:
            words[self._named_type(unit.parent)] |= type_words(strip_noise(unit.code))
        out: dict[str, set[str]] = defaultdict(set)
        for user, names in words.items():
            scope = self.scopes[user]
            for name in names:
                found = self.resolve_type(name, user, scope.path, scope.package)
                if found and found != user and not user.startswith(found + "."):
                    out[found].add(user)
        return out

    def collaborators(self, qname: str) -> set[str]:
        """The types whose methods a type's code calls as a component would: its own and
        its supertypes, and its fields' types (injected services, repositories)."""
        out = set(self.hierarchy(qname))
        for owner in self.hierarchy(qname):
            for type_text in self.scopes[owner].fields.values():
                found = self.field_type(type_text, owner)
                if found:
                    out.update(self.hierarchy(found))
        return out

    def _named_type(self, qname: str) -> str:
        while self.scopes[qname].unit is None:
            qname = self.scopes[qname].outer
        return qname

    # -- how things are shown ---------------------------------------------------------------

    @cached_property
    def _short_names(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for scope in self.scopes.values():
            counts[_short(scope)] += 1
        return counts

    def type_name(self, qname: str) -> str:
        """A type as the answers name it: without its package, unless that is ambiguous."""
        short = _short(self.scopes[qname])
        return short if self._short_names[short] == 1 else qname

    def display(self, unit: Unit) -> str:
        """`Owner.method`, `Owner.method(T)` for an overload, `Owner` for a constructor."""
        owner = self.type_name(unit.parent)
        if unit.kind == "constructor":
            return f"`{owner}` (constructor)"
        if unit.kind in FIELD_KINDS:
            return f"`{owner}.{unit.name}` ({unit.kind.replace('_', ' ')})"
        overloads = self.scopes[unit.parent].methods.get(unit.name, [])
        name = unit.signature if len(overloads) > 1 and unit.signature else unit.name
        return f"`{owner}.{name}`"

    def summary(self, unit: Unit) -> str:
        """The first sentence of a unit's Javadoc; for a method without one (or with only
        `{@inheritDoc}`), that of the method it overrides, as the javadoc tool does."""
        key = ("s", unit.id)  # a unit is listed in many answers: its Javadoc is parsed once
        if key not in self._cache:
            self._cache[key] = self._summary(unit)
        return self._cache[key]

    def _summary(self, unit: Unit) -> str:
        text = own_summary(unit)
        if not text and unit.kind == "method":
            for other in self.overridden(unit)[:1]:
                text = own_summary(other)
        return text


def own_summary(unit: Unit) -> str:
    """The first sentence of a unit's own Javadoc (`{@inheritDoc}` left out), or ""."""
    text = parse_javadoc(unit.javadoc).summary if unit.javadoc else ""
    return " ".join(text.replace("{@inheritDoc}", "").split())


def _short(scope: Scope) -> str:
    prefix = scope.package + "." if scope.package else ""
    return scope.qname.removeprefix(prefix)


def _simple(type_text: str) -> str:
    return erasure(type_text).rpartition(".")[2]


def _same_params(params: list[str], other: Unit) -> bool:
    theirs = [_simple(p) for p in signature_params(other.signature)]
    if len(theirs) != len(params):
        return False
    # a type variable (`T`, `ID`) stands for any type: compare the others by simple name
    return all(
        a == b or _type_variable(a) or _type_variable(b)
        for a, b in zip(params, theirs, strict=True)
    )


def _type_variable(name: str) -> bool:
    """A name that reads as a type variable: `T`, `ID`, `E[]`."""
    bare = name.rstrip("[]")
    return bare.isupper() and len(bare) <= 3
