"""Relations across files: subtypes, overrides, callers and callees, the types that use a
type, and what an HTTP route runs (handler, then the services and repositories it calls).

No LLM and no compiler. Types are resolved as Java resolves them (dataprep.generate.
java_types); a call through its receiver's declared type (a field, parameter or local, or
the method a chained call's receiver comes from), through the enclosing types for an
unqualified call, and otherwise only when its name is declared once in the main code (or
by one method and its overrides: the call is the root's) and is not a common JDK method
name. A call that none of these settles is *uncertain*: the methods it might reach get
no callers pair, and the method that makes it gets no callees pair, so a list is complete
or absent. Main code only (tests neither ask nor answer). The calls of each member are
read once (`RelationGraph`).

Example:
    graph = RelationGraph(RepoView(units))
    [graph.display(m) for m in graph.callees[handler.id]]  # -> ["`BookingService.getBooking`"]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from functools import cached_property

from dataprep.generate.families import family
from dataprep.generate.families.repo import RepoView, UnitFacts
from dataprep.generate.java_calls import (
    body_of,
    calls,
    erasure,
    local_types,
    parameter_types,
    signature_params,
    strip_noise,
    type_parameters,
)
from dataprep.generate.java_facts import header_end, signature_of, skip_annotations
from dataprep.generate.java_types import EXTERNAL, FIELD_KINDS, UNKNOWN, TypeIndex, own_summary
from dataprep.models import Unit

CAP = 10  # items of a list answer; the rest are counted
MAX_USERS = 40  # a type used by more types than this is everywhere: its list says little
FLOW_WIDTH = 6  # calls shown per step of an HTTP flow
# Method names that JDK types declare everywhere: a call of one on a receiver of unknown
# type is not taken for the repository's method of that name.
COMMON_NAMES = frozenset(
    "get set add put remove size isEmpty equals hashCode toString of apply accept test run "
    "call close length contains stream map filter forEach compareTo valueOf getName getValue "
    "getKey iterator next hasNext clear append format build orElse orElseThrow collect toList "
    "count max min sum charAt substring indexOf startsWith endsWith trim split replace join "
    "getClass name ordinal values println print write read flush start stop find matches "
    "getMessage getCause addAll putAll containsKey keySet entrySet getOrDefault asList parse "
    "isPresent ifPresent requireNonNull clone wait notify notifyAll lock unlock submit execute "
    "sort copyOf newInstance getType getId getInstance init reset update create handle "
    "compare identity empty from with".split()
)
# Methods of library types whose result is a library type again (a stream, an optional, a
# string): `list.stream().filter(...).map(...)` calls none of the repository's `map`.
FLUENT = frozenset(
    "stream parallelStream filter map flatMap sorted distinct limit skip peek boxed mapToInt "
    "mapToLong mapToDouble mapToObj entrySet keySet values trim strip toLowerCase "
    "toUpperCase substring append insert reverse subList iterator".split()
)


class RelationGraph(TypeIndex):
    """The main code's types, and the calls of its members, resolved once."""

    def __init__(self, repo: RepoView):
        super().__init__(repo.units)
        self.repo = repo
        self.callees: dict[str, list[Unit]] = {}
        self.callers: dict[str, list[Unit]] = defaultdict(list)
        self.uncertain_units: set[str] = set()
        self.uncertain_names: set[str] = set()
        self._found: dict[tuple, object] = {}
        self._index_calls()

    @cached_property
    def overriders(self) -> dict[str, list[Unit]]:
        """Method id -> the main code's methods that override or implement it directly
        (`overridden`, turned round)."""
        out: dict[str, list[Unit]] = defaultdict(list)
        for unit in self.members:
            if unit.kind == "method":
                for other in self.overridden(unit):
                    out[other.id].append(unit)
        return out

    def _index_calls(self) -> None:
        for unit in self.members:
            if unit.kind in FIELD_KINDS:
                text = strip_noise(unit.initializer or "")
            else:
                text = strip_noise(body_of(unit.code))
            if "(" not in text and "::" not in text:
                continue
            found: dict[str, Unit] = {}
            variables: dict[str, str] | None = None
            results: dict[int, object] = {}  # a call's `)` -> the type of its result
            for call in calls(text):
                if variables is None:
                    variables = {**parameter_types(unit.parameters), **local_types(text)}
                    own = type_parameters(unit.type_parameters)
                    variables = {k: "?" if v in own else v for k, v in variables.items()}
                target, receiver = self._target(unit, call, variables, results)
                if call.close >= 0:
                    results[call.close] = self._result(target, receiver, call.name)
                if target is UNKNOWN:
                    self.uncertain_units.add(unit.id)
                    self.uncertain_names.add(call.name)
                elif target is not EXTERNAL and target.id not in found and target is not unit:
                    found[target.id] = target  # itself: recursion, or a delegate's same method
            if found:
                self.callees[unit.id] = list(found.values())
                for target in found.values():
                    self.callers[target.id].append(unit)

    def _target(self, unit: Unit, call, variables: dict[str, str], results: dict[int, object]):
        """(the method a call reaches, EXTERNAL or UNKNOWN; its receiver's type)."""
        scope = unit.parent
        if call.receiver is None:
            return self._unqualified(scope, unit.path, call), None
        if call.receiver == "super":
            found = [self._find(s, call.name, call.arity) for s in self.scopes[scope].supers]
            found = [f for f in found if f is not EXTERNAL]
            return (found[0] if len(found) == 1 else EXTERNAL if not found else UNKNOWN), None
        if call.receiver == ")":
            receiver = results.get(call.after, UNKNOWN)
        else:
            receiver = self._chain_type(unit, call, variables)
        if receiver is UNKNOWN:
            return self._by_unique_name(call), receiver
        if receiver is EXTERNAL:
            return EXTERNAL, receiver
        return self._find(receiver, call.name, call.arity), receiver

    def _result(self, target, receiver, name: str):
        """The type of a call's result: its method's return type; a library type for the
        fluent methods of a library type (`list.stream().filter(...)`); else UNKNOWN."""
        if isinstance(target, (Unit, UnitFacts)):
            if not target.type:
                return UNKNOWN
            scope = self.scopes[target.parent]
            return self.declared(erasure(target.type), target.parent, scope.path, scope.package)
        if receiver is EXTERNAL and name in FLUENT:
            return EXTERNAL
        return UNKNOWN

    def _unqualified(self, scope: str | None, path: str, call):
        while scope:
            found = self._find(scope, call.name, call.arity)
            if found is not EXTERNAL:
                return found
            scope = self.scopes[scope].outer
        imports = self.imports[path]
        owners = imports.static.get(call.name, []) + imports.static_wildcard
        found = [self._find(o, call.name, call.arity) for o in owners if o in self.scopes]
        found = [f for f in found if f is not EXTERNAL]
        return found[0] if len(found) == 1 else (EXTERNAL if not found else UNKNOWN)

    def _chain_type(self, unit: Unit, call, variables: dict[str, str]):
        """The repository type of a receiver chain (`rooms`, `this.rooms`, `RoomType.SUITE`)."""
        parts = call.receiver.split(".")
        scope = self.scopes[unit.parent]
        if parts[0] == "this":
            current, parts = unit.parent, parts[1:]
        elif parts[0] in variables:
            current = self.declared(variables[parts[0]], unit.parent, unit.path, scope.package)
            parts = parts[1:]
        elif (holder := self.field(unit.parent, parts[0])) is not None:
            current = self.field_type(*holder)
            parts = parts[1:]
        else:
            current, parts = self._type_prefix(parts, unit.parent, unit.path, scope.package)
        for part in parts:
            if current is EXTERNAL or current is UNKNOWN:
                return current
            if f"{current}.{part}" in self.scopes:
                current = f"{current}.{part}"
            elif (holder := self.field(current, part, outward=False)) is not None:
                current = self.field_type(*holder)
            else:  # a field the repository does not declare: inherited from outside, or none
                return EXTERNAL if self.closed(current) else UNKNOWN
        return current

    def _type_prefix(self, parts: list[str], within: str, path: str, package: str):
        """(type, the parts after it) for a chain that starts with a type name: `Money`,
        `RoomType.SUITE`, `java.math.BigDecimal`; UNKNOWN for a name it cannot place."""
        if parts[0][0].isupper():
            found = self.resolve_type(parts[0], within, path, package)
            return (found, parts[1:]) if found else (EXTERNAL, [])
        for i in range(1, len(parts)):
            if parts[i][:1].isupper():  # a qualified name: pkg.Type
                qname = ".".join(parts[: i + 1])
                return (qname, parts[i + 1 :]) if qname in self.scopes else (EXTERNAL, [])
        return UNKNOWN, []  # a field inherited from outside the repository

    def _find(self, qname: str, name: str, arity: int | None):
        """The method `name` a call with `arity` arguments reaches on type `qname`."""
        key = (qname, name, arity)
        if key in self._found:
            return self._found[key]
        found = EXTERNAL
        for owner in self.hierarchy(qname):
            matching = [m for m in self.scopes[owner].methods.get(name, []) if _fits(m, arity)]
            if matching:
                found = _pick(matching)
                break
        self._found[key] = found
        return found

    def _by_unique_name(self, call):
        declared = self.by_name.get(call.name, [])
        if not declared:
            return EXTERNAL
        if call.name in COMMON_NAMES or call.name in self.unplaced_names:
            return UNKNOWN
        matching = [m for m in declared if _fits(m, call.arity)]
        if not matching:
            return EXTERNAL
        owners = {m.parent for m in matching}
        if len(owners) > 1:  # one method and its overrides: the call is to the root's
            roots = [o for o in owners if all(o in self.hierarchy(p) for p in owners)]
            if len(roots) != 1:
                return UNKNOWN
            matching = [m for m in matching if m.parent == roots[0]]
        return _pick(matching)


def _one_line(code: str) -> str:
    """A header on one line. Example: "read(\n    final int a)" -> "read(final int a)"."""
    return " ".join(code.split()).replace("( ", "(").replace(" )", ")")


def _varargs(method: Unit) -> bool:
    params = signature_params(method.signature)
    return bool(params) and params[-1].endswith("...")


def _pick(matching: list[Unit]):
    """The one overload a call reaches; a fixed-arity one wins over varargs (as in Java)."""
    if len(matching) > 1:
        matching = [m for m in matching if not _varargs(m)]
    return matching[0] if len(matching) == 1 else UNKNOWN


def _fits(method: Unit, arity: int | None) -> bool:
    if arity is None:
        return True
    params = signature_params(method.signature)
    if params and params[-1].endswith("..."):
        return arity >= len(params) - 1
    return arity == len(params)


def _is_abstract(method: Unit, owner: Unit | None) -> bool:
    if "abstract" in method.modifiers:
        return True
    code = method.code
    has_body = code[header_end(code, skip_annotations(code)) :][:1] == "{"
    return not has_body and owner is not None and owner.kind == "interface"


# -- the tasks ----------------------------------------------------------------------------


def _bullets(items: list[str], cap: int = CAP) -> str:
    lines = [f"- {item}" for item in items[:cap]]
    if len(items) > cap:
        lines.append(f"- and {len(items) - cap} more")
    return "\n".join(lines)


def _with_summary(graph: RelationGraph, unit: Unit, shown: str) -> str:
    summary = graph.summary(unit)
    return f"{shown}: {summary}" if summary else shown


def _subtypes(graph: RelationGraph, unit: Unit) -> str | None:
    found = sorted(graph.subtypes.get(unit.qualified_name, []), key=lambda u: u.qualified_name)
    items = [_with_summary(graph, u, f"`{u.qualified_name}`") for u in found]
    return _bullets(items) if items else None


def _overrides(graph: RelationGraph, unit: Unit) -> str | None:
    found = graph.overridden(unit)
    if not found:
        return None
    parts = []
    for other in found:
        owner = graph.scopes[other.parent].unit
        verb = "implements" if _is_abstract(other, owner) else "overrides"
        signature = _one_line(signature_of(other) or other.name)
        parts.append(f"{verb} `{signature}` of `{other.parent}`")
    return f"It {' and '.join(parts)}."


def _overridden_by(graph: RelationGraph, unit: Unit) -> str | None:
    """The main code's methods that override or implement `unit` directly, each with the
    first sentence of its own Javadoc: what an abstract or interface method without a
    body or documentation can be asked about beyond its signature."""
    found = graph.overriders.get(unit.id)
    if not found:
        return None
    items = []
    for method in sorted(found, key=graph.display):
        own = own_summary(method)
        items.append(f"{graph.display(method)}: {own}" if own else graph.display(method))
    return _bullets(items)


def _callers(graph: RelationGraph, unit: Unit) -> str | None:
    if unit.name in graph.uncertain_names:
        return None  # some call of this name could not be placed: the list may be short
    shown = sorted({graph.display(u) for u in graph.callers.get(unit.id, [])})
    return _bullets(shown) if shown else None


def _callees(graph: RelationGraph, unit: Unit) -> str | None:
    if unit.id in graph.uncertain_units:
        return None
    found = graph.callees.get(unit.id, [])
    return _bullets([_with_summary(graph, u, graph.display(u)) for u in found]) or None


def _users(graph: RelationGraph, unit: Unit) -> str | None:
    found = sorted(graph.users.get(unit.qualified_name, set()))
    if not found or len(found) > MAX_USERS:
        return None
    return _bullets([f"`{q}`" for q in found])


def _flow(graph: RelationGraph, unit: Unit) -> str | None:
    if not any("Mapping" in a for a in unit.annotations):
        return None
    route = graph.repo.context(unit.path).route(unit)
    if route is None or not route[0] or unit.id in graph.uncertain_units:
        return None
    steps = graph.callees.get(unit.id, [])
    if not steps:
        return None
    lines = [_with_summary(graph, unit, f"The handler is {graph.display(unit)}"), "", "It calls:"]
    shown = {unit.id}
    for step in steps[:FLOW_WIDTH]:
        shown.add(step.id)
        lines.append("- " + _with_summary(graph, step, graph.display(step)))
        if step.id in graph.uncertain_units:
            continue
        around = graph.collaborators(step.parent)  # services and repositories, not getters
        inner = [
            u for u in graph.callees.get(step.id, []) if u.id not in shown and u.parent in around
        ]
        for call in inner[:FLOW_WIDTH]:
            lines.append("  - " + _with_summary(graph, call, graph.display(call)))
        if len(inner) > FLOW_WIDTH:
            lines.append(f"  - and {len(inner) - FLOW_WIDTH} more")
    if len(steps) > FLOW_WIDTH:
        lines.append(f"- and {len(steps) - FLOW_WIDTH} more")
    return "\n".join(lines)


ANSWERS = {
    "subtypes": _subtypes,
    "overrides": _overrides,
    "overridden_by": _overridden_by,
    "callers": _callers,
    "callees": _callees,
    "users": _users,
    "flow": _flow,
}


@family(*ANSWERS)
def relations(repo: RepoView, tasks: dict, seed: int) -> Iterator:
    graph = RelationGraph(repo)
    subjects = [s.unit for s in graph.scopes.values() if s.unit is not None] + graph.members
    overloaded = Counter((u.parent, u.kind, u.name) for u in graph.members)
    if graph.mixed:  # a list could miss what another language's code does: overrides only
        tasks = {tid: t for tid, t in tasks.items() if t.answer == "overrides"}
    for unit in sorted(subjects, key=lambda u: (u.path, u.start_line, u.id)):
        values = None
        for task_id, task in tasks.items():
            if unit.kind not in task.kinds:
                continue
            answer = ANSWERS[task.answer](graph, unit)
            if answer is None:
                continue
            values = values or _values(repo, unit, overloaded[unit.parent, unit.kind, unit.name])
            if not values[0]["type"]:
                break  # nothing to call it by
            span = (answer, unit.start_line, unit.end_line)
            yield repo.candidate(task_id, task, unit, values, "", span, seed)


def _values(repo: RepoView, unit: Unit, overloads: int) -> list[dict[str, str]]:
    """The placeholder values; an overloaded method is named with its parameters at every
    level: only some overloads may have an answer, so no other one would qualify it."""
    values = repo.values(unit)
    if overloads > 1:
        values = [dict(v, member=values[2]["member"]) for v in values]
    return values
