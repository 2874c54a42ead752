"""The repository as the task families see it (`RepoView`), and `repo_candidates`, which
runs every registered family over it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cached_property

from dataprep.generate.candidates import FileContext, default_module, make_candidate, subject_values
from dataprep.generate.families import builders
from dataprep.generate.java_facts import is_test_path
from dataprep.languages import task_applies
from dataprep.models import TYPE_KINDS, Unit


def repo_candidates(repo: RepoView, tasks: dict, seed: int = 0) -> list:
    """Every repository-level family's candidates, in `MODULES` order."""
    families = builders()
    order = list(dict.fromkeys(families.values()))
    out = []
    for build in order:
        wanted = {tid: t for tid, t in tasks.items() if families.get(t.answer) is build}
        if wanted:
            out += [c for c in build(repo, wanted, seed) if repo.takes(c)]
    return out


class RepoView:
    """The units of a repository, indexed for the families (built once per generation)."""

    def __init__(self, units: list[Unit], module_of: Callable[[str], str | None] | None = None):
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
