"""Grounded template pairs: questions about units whose answers are the source itself.

Instruction phrasings live in `templates/instructions/*.yaml` (data, dataprep.generate.tasks);
what each task answers is code (dataprep.generate.candidates), from a fixed set of answer
builders, so every output is text the source says: a unit's code, a name, a header, an
annotation as written.

Generation runs in two steps, so that the pipeline can redo only what changed:
1. `candidates.file_candidates(units_of_one_file)`: per-file candidates, each carrying its
   instruction at four qualification levels (0 simple names, 1 qualified type names,
   2 member signatures, 3 the file's path);
2. `resolve(candidates)` (here), with the repository-level families' candidates: raises
   the level of every candidate whose subject collides with another one that has a
   different answer, until each (instruction, input) has one output; whatever still
   conflicts is dropped.

`generate_template_pairs(units)` is both steps over a whole repository.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from dataprep.generate.candidates import Candidate, default_module, file_candidates
from dataprep.generate.tasks import TaskTemplate, shipped_tasks
from dataprep.models import Pair, Unit


def resolve(candidates: list[Candidate]) -> tuple[list[Pair], dict[str, int]]:
    """Qualify colliding instructions until each has one answer; drop what still conflicts.

    Returns the pairs (sorted by id) and counters: `qualified` (candidates raised above
    level 0) and `conflicts_dropped`.
    """
    keys = [[c.key(level) for level in range(c.max_level + 1)] for c in candidates]
    for cand in candidates:
        cand.level = 0
    while True:
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, cand in enumerate(candidates):
            groups[keys[i][cand.level]].append(i)
        raised = False
        for group in groups.values():
            if len({candidates[i].output for i in group}) < 2:
                continue
            for i in group:
                if candidates[i].level < candidates[i].max_level:
                    candidates[i].level += 1
                    raised = True
        if not raised:
            break
    # Subjects that still collide (in any phrasing) are ambiguous questions: drop them all.
    answers: dict[tuple, set[str]] = defaultdict(set)
    for i, cand in enumerate(candidates):
        answers[keys[i][cand.level]].add(cand.output)
    clear = [c for i, c in enumerate(candidates) if len(answers[keys[i][c.level]]) == 1]
    clear = _with_both_labels(clear)
    pairs, stats = _final_check(clear)
    stats["conflicts_dropped"] += len(candidates) - len(clear)
    stats["qualified"] = sum(1 for c in candidates if c.level > 0)
    return pairs, stats


def _with_both_labels(candidates: list[Candidate]) -> list[Candidate]:
    """Drop a classification task whose candidates all carry one label: a repository with
    no tests gives only `no` to "is this a test?", which teaches nothing."""
    labels: dict[str, set[str]] = defaultdict(set)
    for cand in candidates:
        if cand.label is not None:
            labels[cand.task].add(cand.label)
    one = {task for task, seen in labels.items() if len(seen) < 2}
    return [c for c in candidates if c.task not in one] if one else candidates


def _final_check(candidates: list[Candidate]) -> tuple[list[Pair], dict[str, int]]:
    pairs = [c.to_pair() for c in candidates]
    outputs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pair in pairs:
        outputs[(pair.instruction, pair.input)].add(pair.output)
    kept = {p.id: p for p in pairs if len(outputs[(p.instruction, p.input)]) == 1}
    stats = {
        "qualified": sum(1 for c in candidates if c.level > 0),
        "conflicts_dropped": len(pairs) - sum(1 for p in pairs if p.id in kept),
    }
    return sorted(kept.values(), key=lambda p: p.id), stats


def generate_template_pairs(
    units: list[Unit],
    seed: int = 0,
    module_of: Callable[[str], str | None] = default_module,
) -> list[Pair]:
    """Grounded pairs for a repository's units, deterministic for a seed.

    Example: generate_template_pairs(slice_repo("fixtures/hotel-booking").units)
    -> [Pair(task="method.explain", instruction="How does getBooking of BookingController
    work?", output="@GetMapping(...) public Booking getBooking(...) {...}", ...), ...]
    """
    by_path: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_path[unit.path].append(unit)
    candidates = [
        c
        for path in sorted(by_path)
        for c in file_candidates(by_path[path], seed, module_of=module_of)
    ]
    candidates += repo_level_candidates(units, seed, module_of=module_of)
    return resolve(candidates)[0]


def repo_level_candidates(
    units: list[Unit],
    seed: int = 0,
    tasks: dict[str, TaskTemplate] | None = None,
    module_of: Callable[[str], str | None] = default_module,
) -> list[Candidate]:
    """The candidates of the repository-level families (tests, usage, API, relations)."""
    from dataprep.generate.families.repo import RepoView, repo_candidates

    tasks = tasks if tasks is not None else shipped_tasks()
    return repo_candidates(RepoView(units, module_of), tasks, seed)
