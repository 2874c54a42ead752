"""The repository as the task families see it (`RepoView`), and `repo_candidates`, which
runs every registered family over it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property

from dataprep.generate.candidates import FileContext, default_module, make_candidate, subject_values
from dataprep.generate.families import builders
from dataprep.generate.java_facts import is_test_path
from dataprep.languages import task_applies
from dataprep.models import TYPE_KINDS, Unit


def repo_candidates(repo: RepoView, tasks: dict, seed: int = 0) -> list:
    """Every repository-level family's candidates, in `MODULES` order."""
    return list(iter_repo_candidates(repo, tasks, seed))


def iter_repo_candidates(repo: RepoView, tasks: dict, seed: int = 0) -> Iterator:
    """`repo_candidates` one at a time, as the families build them (a family may yield
    its own one at a time: memory then holds what the caller keeps)."""
    families = builders()
    order = list(dict.fromkeys(families.values()))
    for build in order:
        wanted = {tid: t for tid, t in tasks.items() if families.get(t.answer) is build}
        if wanted:
            yield from (c for c in build(repo, wanted, seed) if repo.takes(c))


class UnitFacts:
    """A unit as the families read it: every field of `Unit` in a slot, its lists as
    tuples (the empty ones shared), read-only by convention. A repository's units are all
    held at once here, and a pydantic model's per-instance dict and field set cost about
    three times what its values do.

    Example: facts_of(store.iter_units()) -> [UnitFacts, ...] (one pydantic unit at a time)
    """

    __slots__ = tuple(Unit.model_fields)

    def __init__(self, unit: Unit):
        fields = unit.__dict__  # a pydantic model's field values
        for name in self.__slots__:
            value = fields[name]
            if type(value) is list:
                value = tuple(value) if value else ()
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"UnitFacts({self.kind} {self.qualified_name} {self.id[:12]})"


def facts_of(units: Iterable[Unit]) -> list[UnitFacts]:
    """The units as `UnitFacts`, converted one at a time (pass an iterator to hold only
    the compact ones)."""
    return [UnitFacts(unit) for unit in units]


class RepoView:
    """The units of a repository, indexed for the families (built once per generation);
    `Unit`s or, to hold a large repository, `UnitFacts`."""

    def __init__(self, units: list, module_of: Callable[[str], str | None] | None = None):
        self.units = units
        self.module_of = module_of or default_module
        self.by_path: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            self.by_path[unit.path].append(unit)
        self._contexts: dict[str, object] = {}

    @cached_property
    def languages(self) -> dict[str, str]:
        """Unit id -> the unit's language."""
        return {unit.id: unit.language for unit in self.units}

    def takes(self, candidate) -> bool:
        """Whether the language of the candidate's unit takes its task (Language.families)."""
        return task_applies(self.languages.get(candidate.unit_id), candidate.task)

    @cached_property
    def main_types(self) -> dict[str, list[Unit]]:
        """Simple name -> the main-code (not test) type units of that name."""
        out: dict[str, list[Unit]] = defaultdict(list)
        for unit in self.units:
            if unit.kind in TYPE_KINDS and not is_test_path(unit.path):
                out[unit.name].append(unit)
        return out

    @cached_property
    def members(self) -> dict[str, list[Unit]]:
        """Parent (qualified name or id) -> its member units, in file order."""
        out: dict[str, list[Unit]] = defaultdict(list)
        for unit in sorted(self.units, key=lambda u: (u.path, u.start_line, u.id)):
            if unit.parent and unit.kind in ("method", "constructor", "field"):
                out[unit.parent].append(unit)
        return out

    def methods_of(self, type_unit: Unit) -> list[Unit]:
        found = self.members.get(type_unit.qualified_name, []) or self.members.get(type_unit.id, [])
        return [m for m in found if m.kind == "method"]

    def context(self, path: str):
        """The per-file context the template answers use (cached per file)."""
        if path not in self._contexts:
            self._contexts[path] = FileContext(self.by_path[path], self.module_of)
        return self._contexts[path]

    def values(self, unit: Unit) -> list[dict[str, str]]:
        """The placeholder values of `unit` at each qualification level."""
        return subject_values(unit, self.context(unit.path))

    def candidate(self, task_id, task, unit, values, input, answer, seed):
        module = self.module_of(unit.path)
        return make_candidate(task_id, task, unit, values, input, answer, module, seed)
