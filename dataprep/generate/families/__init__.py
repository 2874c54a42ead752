"""Repository-level task families: questions whose answers need more than one file.

A family is a function `(repo, tasks, seed) -> candidates` registered for the answer kinds
it builds (`@family("usage")`); a task in `templates/instructions/*.yaml` whose `answer` is
one of those kinds is built by it, after the per-file candidates. Adding a family touches
one module here, one line in `MODULES` and its task file.

This module is the registry only: it imports no family, no candidate and no task code, so
the task schema (dataprep.generate.tasks) can ask it which answer kinds exist. The family
modules are loaded on first use, like plugins; `families.repo` holds the repository view
they work on and `repo_candidates`, which runs them all.

Example:
    repo = RepoView(units)  # dataprep.generate.families.repo
    candidates = repo_candidates(repo, load_templates(), seed=0)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataprep.generate.families.repo import RepoView

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


def builders() -> dict[str, Builder]:
    """Answer kind -> the family builder that makes it (every family module loaded)."""
    _load()
    return dict(_FAMILIES)
