"""Tests and the methods they cover (matched by name): which tests cover a method, and
the tests to write for a method."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from dataprep.generate.candidates import Candidate, default_module, make_candidate, meets
from dataprep.generate.code_text import dedent_code
from dataprep.generate.families import family
from dataprep.generate.families.repo import RepoView
from dataprep.generate.java_facts import annotation_name, is_test_path, test_subject, test_target
from dataprep.generate.tasks import LEVELS, TaskTemplate, shipped_tasks
from dataprep.models import TYPE_KINDS, Unit


@family("tests", "test_code")
def coverage(repo: RepoView, tasks: dict, seed: int) -> list:
    return coverage_candidates(repo.units, seed, tasks, module_of=repo.module_of)


def coverage_candidates(
    units: list[Unit],
    seed: int = 0,
    tasks: dict[str, TaskTemplate] | None = None,
    module_of: Callable[[str], str | None] = default_module,
) -> list[Candidate]:
    """`test.covers` candidates: test methods matched by name to the methods they test."""
    tasks = tasks if tasks is not None else shipped_tasks()
    covers = [(tid, t) for tid, t in tasks.items() if t.answer in ("tests", "test_code")]
    if not covers:
        return []
    types: dict[str, list[Unit]] = defaultdict(list)
    methods: dict[str, dict[str, list[Unit]]] = defaultdict(lambda: defaultdict(list))
    by_path: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_path[unit.path].append(unit)
        if unit.kind in TYPE_KINDS and not is_test_path(unit.path):
            types[unit.name].append(unit)
        elif unit.kind == "method" and unit.parent and not is_test_path(unit.path):
            methods[unit.parent][unit.name].append(unit)
    out: list[Candidate] = []
    for path in sorted(by_path):
        subject_name = test_subject(path)
        if not (is_test_path(path) and subject_name and subject_name in types):
            continue
        module = module_of(path)
        subjects = types[subject_name]
        same_module = [t for t in subjects if module_of(t.path) == module]
        if len(subjects) > 1 and len(same_module) != 1:
            continue  # the name does not make the subject clear
        subject = same_module[0] if same_module else subjects[0]
        out += _covers_for_file(by_path[path], subject, methods, covers, module, seed)
    return out


def _covers_for_file(file_units, subject, methods, covers, module, seed) -> list[Candidate]:
    targets = {**methods.get(subject.id, {}), **methods.get(subject.qualified_name, {})}
    names = set(targets)
    tests = [
        u
        for u in file_units
        if u.kind == "method"
        and (any(annotation_name(a) == "Test" for a in u.annotations) or u.name.startswith("test"))
    ]
    by_target: dict[str, list[Unit]] = defaultdict(list)
    for test in sorted(tests, key=lambda u: u.start_line):
        target = test_target(test.name, names)
        if target:
            by_target[target].append(test)
    top = next((u for u in file_units if u.kind in TYPE_KINDS and u.parent is None), None)
    out = []
    for target, found in sorted(by_target.items()):
        unit = found[0] if len(found) == 1 or top is None else top
        output = "\n\n".join(dedent_code(t.code) for t in found)
        span = (min(t.start_line for t in found), max(t.end_line for t in found))
        values = []
        for level in range(LEVELS):
            type_name = subject.name if level == 0 else subject.qualified_name
            if level == 3:
                type_name = f"{subject.qualified_name} in {subject.path}"
            values.append({"type": type_name, "member": target, "name": target, "file": unit.path})
        for task_id, task in covers:
            if task.answer == "tests":
                answer = (output, *span)
                cand = make_candidate(task_id, task, unit, values, "", answer, module, seed)
            else:  # write a test: the method under test is the unit, its code the input
                main = sorted(targets[target], key=lambda u: (u.start_line, u.id))
                if len(main) != 1 or not meets("body", main[0], None):
                    continue  # overloads: the test name does not say which one
                input = dedent_code(main[0].code)
                answer = (output, main[0].start_line, main[0].end_line)  # the unit's span
                cand = make_candidate(task_id, task, main[0], values, input, answer, module, seed)
            cand.requires_symbol = [subject.qualified_name, target]
            out.append(cand)
    return out


# -- resolution -----------------------------------------------------------------------
