"""Repository-level task families: questions whose answers need more than one file.

A family is a function `(repo, tasks, seed) -> candidates` registered for the answer kinds
it builds (`@family("usage")`); a task in `templates/instructions/*.yaml` whose `answer` is
one of those kinds is built by it, after the per-file candidates. Adding a family touches
one module here, one line in `MODULES` and its task file.

Example:
    repo = RepoView(units)
    candidates = repo_candidates(repo, load_templates(), seed=0)
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from functools import cached_property

from dataprep.generate.java_facts import is_test_path
from dataprep.languages import task_applies
from dataprep.models import TYPE_KINDS, Unit

# The family modules, imported on first use; each registers its answer kinds.
MODULES = ("coverage", "usage", "api", "relations", "inherited", "config", "schema", "views")

Builder = Callable[["RepoView", dict, int], list]
_FAMILIES: dict[str, Builder] = {}


def family(*answers: str) -> Callable[[Builder], Builder]:
    """Register a builder for the answer kinds of its tasks."""

    def wrap(func: Builder) -> Builder:
        for answer in answers:
            _FAMILIES[answer] = func
        return func

    return wrap


def answer_kinds() -> frozenset[str]:
    """The answer kinds repository-level families build (file candidates skip them)."""
    _load()
    return frozenset(_FAMILIES)


def _load() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")


def repo_candidates(repo: RepoView, tasks: dict, seed: int = 0) -> list:
    """Every repository-level family's candidates, in `MODULES` order."""
    _load()
    builders = list(dict.fromkeys(_FAMILIES.values()))
    out = []
    for build in builders:
        wanted = {tid: t for tid, t in tasks.items() if _FAMILIES.get(t.answer) is build}
        if wanted:
            out += [c for c in build(repo, wanted, seed) if repo.takes(c)]
    return out


class RepoView:
    """The units of a repository, indexed for the families (built once per generation)."""

    def __init__(self, units: list[Unit], module_of: Callable[[str], str | None] | None = None):
        from dataprep.generate.templates import default_module

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
        from dataprep.generate.templates import _FileContext

        if path not in self._contexts:
            self._contexts[path] = _FileContext(self.by_path[path], self.module_of)
        return self._contexts[path]

    def values(self, unit: Unit) -> list[dict[str, str]]:
        """The placeholder values of `unit` at each qualification level."""
        from dataprep.generate.templates import _subject_values

        return _subject_values(unit, self.context(unit.path))

    def candidate(self, task_id, task, unit, values, input, answer, seed):
        from dataprep.generate.templates import _candidate

        module = self.module_of(unit.path)
        return _candidate(task_id, task, unit, values, input, answer, module, seed)
