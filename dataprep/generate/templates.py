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

from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from dataprep.generate.candidates import Candidate, default_module, file_candidates
from dataprep.generate.tasks import LEVELS, TaskTemplate, shipped_tasks
from dataprep.models import Pair, Unit


def resolve(candidates: list[Candidate]) -> tuple[list[Pair], dict[str, int]]:
    """Qualify colliding instructions until each has one answer; drop what still conflicts.

    Returns the pairs (sorted by id) and counters: `qualified` (candidates raised above
    level 0) and `conflicts_dropped`.
    """
    resolved = plan(candidates)
    pairs = {p.id: p for p in resolved.pairs(candidates)}
    return sorted(pairs.values(), key=lambda p: p.id), resolved.stats


def plan(candidates: Iterable[Candidate]) -> Plan:
    """Each candidate's level and whether it becomes a pair, from one pass over them that
    keeps only their conflict keys (hashes), never the candidates: `Plan.pairs` then
    builds the pairs in a second pass over the same candidates in the same order.

    The rules, over all candidates at once:
    1. while two candidates at their levels ask the same (`Candidate.key`) with different
       outputs, every one of them that can is raised a level;
    2. what still collides (in any phrasing) is an ambiguous question: dropped;
    3. a classification task whose remaining candidates all carry one label is dropped
       (a repository with no tests gives only `no` to "is this a test?");
    4. pairs whose (instruction, input) still has several outputs are dropped.
    """
    return plan_keys([conflict_keys(candidates)])


_PROBE = "dataprep conflict keys"


class ConflictKeys(NamedTuple):
    """What `plan` keeps of some candidates, in their order: hashes (`hash`, so only keys
    hashed in processes that share this one's hash seed, forked ones, go together: `probe`
    tells) and their tasks and labels."""

    keys: bytes  # int64, LEVELS a candidate: `Candidate.key` at each level
    asks: bytes  # int64, LEVELS a candidate: (instruction, input) at each level
    outputs: bytes  # int64 a candidate
    tops: bytes  # int8 a candidate: its highest level
    tasks: list[str]
    labels: list[str | None]
    probe: int  # hash(_PROBE) where these were hashed

    def __len__(self) -> int:
        return len(self.tops)

    def usable(self) -> bool:
        """Hashed with this process's hash seed."""
        return self.probe == hash(_PROBE)


def conflict_keys(candidates: Iterable[Candidate]) -> ConflictKeys:
    """The conflict keys of candidates (see `plan`): wherever the candidates are, once."""
    keys, asks, outputs, tops = array("q"), array("q"), array("q"), array("b")
    tasks: list[str] = []
    labels: list[str | None] = []
    for cand in candidates:
        # `Candidate.key` and `Candidate.instruction` at each level, inlined (once a level,
        # the level-0 instruction once a candidate: the qualifier compares with it)
        top, task, input, phrasing = cand.max_level, cand.task, cand.input, cand.phrasing
        values, subject = cand.values, cand.subject
        first = values[0]
        plain = phrasing.format_map(first)
        key = hash((task, tuple([first.get(n, "") for n in subject]), input))
        ask = hash((plain, input))
        keys.append(key)
        asks.append(ask)
        last = min(top, LEVELS - 1)
        if last > 0:
            names = subject + cand.qualifier_subject
            qualifier = cand.qualifier
            for at in range(1, last + 1):
                at_values = values[at]
                key = hash((task, tuple([at_values.get(n, "") for n in names]), input))
                text = phrasing.format_map(at_values)
                if qualifier and text == plain:
                    text = f"{text} {qualifier.format_map(at_values)}"
                ask = hash((text, input))
                keys.append(key)
                asks.append(ask)
        for _ in range(max(last, 0) + 1, LEVELS):  # above its top a candidate asks as at it
            keys.append(key)
            asks.append(ask)
        outputs.append(hash(cand.output))
        tops.append(top)
        tasks.append(task)
        labels.append(cand.label)
    return ConflictKeys(
        keys.tobytes(),
        asks.tobytes(),
        outputs.tobytes(),
        tops.tobytes(),
        tasks,
        labels,
        hash(_PROBE),
    )


def joined_keys(parts: list[ConflictKeys]) -> ConflictKeys:
    """The conflict keys of consecutive runs of candidates, as those of all of them."""
    if not parts:
        return conflict_keys([])
    return ConflictKeys(
        b"".join(p.keys for p in parts),
        b"".join(p.asks for p in parts),
        b"".join(p.outputs for p in parts),
        b"".join(p.tops for p in parts),
        [t for p in parts for t in p.tasks],
        [label for p in parts for label in p.labels],
        parts[0].probe,
    )


def plan_keys(parts: Iterable[ConflictKeys]) -> Plan:
    """`plan` from the conflict keys of all candidates, in parts, in their order."""
    keys, asks, outputs, tops = bytearray(), bytearray(), bytearray(), bytearray()
    tasks, labels = array("q"), array("q")
    task_ids: dict[str, int] = {}
    label_ids: dict[str, int] = {}
    for part in parts:
        if not part.usable():
            raise ValueError("conflict keys hashed with another hash seed")
        keys += part.keys
        asks += part.asks
        outputs += part.outputs
        tops += part.tops
        tasks.extend(task_ids.setdefault(t, len(task_ids)) for t in part.tasks)
        labels.extend(
            -1 if label is None else label_ids.setdefault(label, len(label_ids))
            for label in part.labels
        )
    n = len(tops)
    key = np.frombuffer(keys, dtype=np.int64).reshape(n, LEVELS)
    ask = np.frombuffer(asks, dtype=np.int64).reshape(n, LEVELS)
    output = np.frombuffer(outputs, dtype=np.int64)
    top = np.frombuffer(tops, dtype=np.int8)
    rows = np.arange(n)
    level = np.zeros(n, dtype=np.int8)
    while True:
        colliding = _several_outputs(key[rows, level], output)
        raise_ = colliding & (level < top)
        if not raise_.any():
            break
        level[raise_] += 1
    clear = ~colliding
    task = np.frombuffer(tasks, dtype=np.int64)
    label = np.frombuffer(labels, dtype=np.int64)
    for t in np.unique(task[clear & (label >= 0)]).tolist():
        if len(np.unique(label[clear & (label >= 0) & (task == t)])) < 2:
            clear &= task != t
    keep = clear.copy()
    if clear.any():
        keep[clear] = ~_several_outputs(ask[rows, level][clear], output[clear])
    stats = {
        "qualified": int((level > 0).sum()),
        "conflicts_dropped": int(n - keep.sum()),
    }
    return Plan(level, keep, stats)


def _several_outputs(key: np.ndarray, output: np.ndarray) -> np.ndarray:
    """Per row, whether another row with its key has a different output."""
    if not len(key):
        return np.zeros(0, dtype=bool)
    order = np.lexsort((output, key))
    k, o = key[order], output[order]
    starts = np.r_[True, k[1:] != k[:-1]]
    distinct = np.r_[True, starts[1:] | (o[1:] != o[:-1])]
    group = np.cumsum(starts) - 1
    several = np.bincount(group, weights=distinct)[group] > 1
    out = np.empty(len(key), dtype=bool)
    out[order] = several
    return out


@dataclass
class Plan:
    """What `plan` decided: each candidate's level, which become pairs, the counters."""

    level: np.ndarray
    keep: np.ndarray
    stats: dict[str, int]

    def pairs(self, candidates: Iterable[Candidate]) -> Iterator[Pair]:
        """The kept candidates' pairs (a pair id may repeat), from the candidates `plan` saw,
        in the same order."""
        for i, cand in enumerate(candidates):
            cand.level = int(self.level[i])
            if self.keep[i]:
                yield cand.to_pair()


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
    return list(iter_repo_level_candidates(units, seed, tasks, module_of))


def iter_repo_level_candidates(
    units: list,
    seed: int = 0,
    tasks: dict[str, TaskTemplate] | None = None,
    module_of: Callable[[str], str | None] = default_module,
) -> Iterator[Candidate]:
    """`repo_level_candidates` one at a time, as the families build them; `units` may be
    `families.repo.UnitFacts`."""
    from dataprep.generate.families.repo import RepoView, iter_repo_candidates

    tasks = tasks if tasks is not None else shipped_tasks()
    return iter_repo_candidates(RepoView(units, module_of), tasks, seed)
