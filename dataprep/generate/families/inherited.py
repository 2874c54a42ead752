"""Explanations a method inherits: a method whose Javadoc is only `{@inheritDoc}` (or that
has none and overrides a documented one) is explained by the overridden declaration's
Javadoc, found in a supertype in the repository with the same name and parameter count.
"""

from __future__ import annotations

from dataprep.generate.families import family
from dataprep.generate.families.api import _supertypes
from dataprep.generate.families.repo import RepoView
from dataprep.generate.java_facts import annotation_name, is_test_path, signature_of
from dataprep.generate.javadoc import has_prose, parse_javadoc, render_markdown
from dataprep.models import Unit


def _arity(unit: Unit) -> int:
    params = (signature_of(unit) or "").partition("(")[2].rpartition(")")[0].strip()
    if not params:
        return 0
    depth, count = 0, 1
    for ch in params:
        depth += ch in "<(["
        depth -= ch in ">)]"
        count += ch == "," and depth == 0
    return count


def _needs_inherited(unit: Unit) -> bool:
    if unit.javadoc:
        if "{@inheritDoc}" not in unit.javadoc:
            return False  # what parse_javadoc would say, without parsing
        doc = parse_javadoc(unit.javadoc)
        return doc.inherits and not has_prose(doc)
    return any(annotation_name(a) == "Override" for a in unit.annotations)


@family("inherited_prose")
def inherited(repo: RepoView, tasks: dict, seed: int) -> list:
    out = []
    owners = {u.qualified_name: u for us in repo.main_types.values() for u in us}
    owners.update({u.id: u for us in repo.main_types.values() for u in us})
    for unit in repo.units:
        if unit.kind != "method" or is_test_path(unit.path) or not _needs_inherited(unit):
            continue
        owner = owners.get(unit.parent or "")
        if owner is None:
            continue
        found = None
        for sup in _supertypes(owner, repo):
            for method in repo.methods_of(sup):
                if method.name == unit.name and _arity(method) == _arity(unit):
                    doc = parse_javadoc(method.javadoc) if method.javadoc else None
                    if doc is not None and has_prose(doc):
                        found = (sup, doc)
                        break
            if found:
                break
        if found is None:
            continue
        sup, doc = found
        text = (
            f"It implements `{sup.name}.{unit.name}`, documented there:\n\n{render_markdown(doc)}"
        )
        values = repo.values(unit)
        answer = (text, unit.start_line, unit.end_line)
        for task_id, task in tasks.items():
            out.append(repo.candidate(task_id, task, unit, values, "", answer, seed))
    return out
