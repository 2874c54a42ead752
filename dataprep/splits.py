"""Split pairs into train, two held-out sets and the rest, by source file (or module), seeded.

A model tuned on a repository should know that repository, so what is held out measures two
things, never Java style on files the model never saw:

- *generalisation* (`validation`, `test`): held-out files, and only the tasks that can be
  answered without having seen the file (`GENERALISATION_TASKS`: write a test, implement
  from a contract, fill in the middle, usage). A held-out file's other pairs are `withheld`:
  in no split (decontamination drops them with that reason), since training on them would
  give the file away and asking them measures style. A test file goes with its subject
  (`FooTest.java` with `Foo.java`), so a test to write is not in train as the test's code.
- *knowledge* (`knowledge`): facts about files that are in training. Held-out facts
  (`hold_out_facts`: a pair whose unit keeps other pairs in train), and, at export,
  facts that stay in train asked again in another of their task's phrasings
  (dataprep.knowledge). Decontamination never looks at it: a knowledge row is a
  near-copy of a train row by design.

Files are ordered by a seeded hash, so an assignment never depends on input order, and
adding or changing one file moves only the files next to a cut. Sizes follow the ratios by
generalisation pair count as closely as whole files allow; small repositories still get a
validation and a test split when they have three files with such tasks.
"""

import hashlib
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from operator import itemgetter
from typing import Literal, NamedTuple

from dataprep import models
from dataprep.errors import ExportError
from dataprep.knowledge import hold_out_facts
from dataprep.models import Pair

DEFAULT_RATIOS = (0.85, 0.10, 0.05)
FEW_GROUPS = 48  # up to this many groups, the cut assignment is refined by moves and swaps
SplitBy = Literal["file", "module"]

# The splits whole files are cut into (by the ratios), in ratio order.
SPLITS = ("train", "validation", "test")
GENERALISATION_SPLITS = ("validation", "test")
KNOWLEDGE = "knowledge"
WITHHELD = "withheld"
# Tasks a model can answer about a file it never saw: the generalisation set holds only these.
GENERALISATION_TASKS = frozenset(
    {"test.write", "method.implement", "method.fill_in", "method.usage"}
)


def split_group(pair: Pair, by: SplitBy = "file") -> str:
    """The group a pair is split with: its source file, or its module (file when unknown).

    Example: a pair from `room/src/A.java` in module `room` -> "room/src/A.java" (by file),
    "room" (by module).
    """
    if by == "module":
        return f"module:{pair.module}" if pair.module else pair.path
    if by != "file":
        raise ExportError(
            f"unknown split grouping {by!r}: use --split-by file or --split-by module"
        )
    return pair.path


def _group_rank(seed: int, group: str) -> int:
    """A seeded, stable position for a group: its hash, so unrelated groups never move it."""
    return int.from_bytes(hashlib.sha256(f"{seed}\0{group}".encode()).digest()[:8], "big")


def _check_ratios(ratios: tuple[float, ...]) -> tuple[float, float, float]:
    if len(ratios) != 3 or any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise ExportError(
            f"split ratios {ratios} are invalid: give three non-negative numbers, "
            "e.g. 0.85 0.10 0.05"
        )
    total = sum(ratios)
    return (ratios[0] / total, ratios[1] / total, ratios[2] / total)


def split_groups(
    sizes: dict[str, int], ratios: tuple[float, ...] = DEFAULT_RATIOS, seed: int = 0
) -> dict[str, str]:
    """Assign whole groups to splits so pair counts come close to `ratios`.

    Groups are laid out in hash order (seeded) and cut where the cumulative pair count
    crosses the ratios, each group going to the split its midpoint falls in. A change to
    one group moves only groups near a cut. With three or more groups, validation and test
    are never empty: the smallest group of the fullest split moves there. With few groups
    (modules, small repositories) the cuts can land far from the ratios, so single moves
    and swaps that bring the counts closer are then applied.

    Example: split_groups({"a": 10, "b": 10, "c": 10}) -> one group per split.
    """
    train_r, val_r, test_r = _check_ratios(ratios)
    order = sorted(sizes, key=lambda g: (_group_rank(seed, g), g))
    total = sum(sizes.values()) or 1
    out: dict[str, str] = {}
    seen = 0
    for group in order:
        middle = (seen + sizes[group] / 2) / total
        seen += sizes[group]
        out[group] = (
            "train" if middle < train_r else "validation" if middle < train_r + val_r else "test"
        )
    if len(order) >= 3:
        for split in ("test", "validation"):
            if ratios[SPLITS.index(split)] > 0 and split not in out.values():
                _move_smallest_into(out, sizes, order, split)
    if len(order) <= FEW_GROUPS:
        total = sum(sizes.values())
        targets = {"train": train_r * total, "validation": val_r * total, "test": test_r * total}
        _improve(out, sizes, order, targets, keep_nonempty=len(order) >= 3)
    return out


def _improve(
    out: dict[str, str],
    sizes: dict[str, int],
    order: list[str],
    targets: dict[str, float],
    keep_nonempty: bool,
) -> None:
    """Best-first single moves and swaps while they cut the distance to the targets.

    The distance is the sum over splits of |pairs - target| / target; ties go to the first
    move in hash order, so the result stays deterministic.
    """
    counts = Counter({s: 0 for s in SPLITS})
    members = Counter()
    for group in order:
        counts[out[group]] += sizes[group]
        members[out[group]] += 1

    def distance(c: Counter) -> float:  # relative: 7 rows for a test target of 60 is far off
        return sum(abs(c[s] - targets[s]) / max(targets[s], 1.0) for s in SPLITS)

    def allowed(m: Counter) -> bool:
        return not keep_nonempty or all(m[s] > 0 for s in SPLITS if targets[s] > 0)

    for _ in range(4 * len(order)):
        best: tuple[float, list[tuple[str, str]]] | None = None
        now = distance(counts)
        moves = [[(g, s)] for g in order for s in SPLITS if s != out[g]]
        moves += [
            [(a, out[b]), (b, out[a])]
            for i, a in enumerate(order)
            for b in order[i + 1 :]
            if out[a] != out[b]
        ]
        for move in moves:
            c, m = counts.copy(), members.copy()
            for group, split in move:
                c[out[group]] -= sizes[group]
                m[out[group]] -= 1
                c[split] += sizes[group]
                m[split] += 1
            gain = now - distance(c)
            if gain > 1e-9 and allowed(m) and (best is None or gain > best[0] + 1e-9):
                best = (gain, move)
        if best is None:
            return
        for group, split in best[1]:
            counts[out[group]] -= sizes[group]
            members[out[group]] -= 1
            counts[split] += sizes[group]
            members[split] += 1
            out[group] = split


def _move_smallest_into(
    out: dict[str, str], sizes: dict[str, int], order: list[str], split: str
) -> None:
    members: dict[str, list[str]] = defaultdict(list)
    for group in order:
        members[out[group]].append(group)
    donor = max(members, key=lambda s: (len(members[s]), s == "train"))
    if len(members[donor]) < 2:
        return
    # the smallest group; among equals the last in hash order, so the choice is stable
    candidates = members[donor]
    smallest = min(range(len(candidates)), key=lambda i: (sizes[candidates[i]], -i))
    out[candidates[smallest]] = split


def knowledge_enabled() -> bool:
    """Whether the two held-out sets are on: the data model declares the knowledge split
    (`models.SPLITS`), so the export writes it. Until then the split is the plain one
    (`split_by_group`: held-out files, every pair of them in validation/test).
    """
    return KNOWLEDGE in models.SPLITS


def empty_reason(split: str) -> str:
    """Why an exported split can be empty, for the note the export prints.

    Example: empty_reason("knowledge") -> "too few train pairs to hold facts out or ask
        again, or none of its pairs selected"
    """
    if split in GENERALISATION_SPLITS and knowledge_enabled():
        return "too few files with tasks that generalise, or none of its pairs selected"
    if split == KNOWLEDGE:
        return "too few train pairs to hold facts out or ask again, or none of its pairs selected"
    return "too few files, or none of its pairs selected"


class SplitFacts(NamedTuple):
    """What the split reads of a pair (`assign_with_groups`), without its texts."""

    id: str
    unit_id: str
    task: str
    path: str
    repo: str
    module: str | None


def split_facts(store, by: SplitBy = "file", before: str | None = None) -> list[SplitFacts]:
    """`SplitFacts` of the pairs alive when stage `before` starts, by id, read in SQL
    without decompressing a pair (the module, when the split is by module, aside); the
    repo is the pair's unit's. Repeated values are shared."""
    intern = sys.intern
    repos = store.unit_repos()
    facts = [
        SplitFacts(
            pair_id,
            intern(unit_id),
            intern(task),
            intern(path),
            repos[unit_id],
            intern(module) if module else module,
        )
        for pair_id, unit_id, task, path, module in store.kept_split_facts(
            before, module=by == "module"
        )
    ]
    facts.sort(key=itemgetter(0))  # by id (unique; 4x quicker than comparing whole tuples)
    return facts


def held_out_paths(pairs: Iterable[Pair], splits: dict[str, str]) -> set[str]:
    """The files held out whole (their pairs in validation, test or withheld): a model tuned
    on the export never sees their code, so measures of what training covers leave them out.
    Empty without the two held-out sets (`knowledge_enabled`).

    Example: Money.java's method.implement pair in test, its method.code pair withheld ->
        {"src/main/java/Money.java"}
    """
    if not knowledge_enabled():
        return set()
    held = {*GENERALISATION_SPLITS, WITHHELD}
    return {p.path for p in pairs if splits.get(p.id) in held}


def held_out_paths_of(store) -> set[str]:
    """`held_out_paths` of a store's pairs and splits, asked of the store (no pair loaded)."""
    if not knowledge_enabled():
        return set()
    return store.paths_in_splits({*GENERALISATION_SPLITS, WITHHELD})


def generalises(pair: Pair) -> bool:
    """Whether a pair can be asked about a file the model never saw (`GENERALISATION_TASKS`)."""
    return pair.task in GENERALISATION_TASKS


def assign_splits(
    pairs: Iterable[Pair],
    ratios: tuple[float, ...] = DEFAULT_RATIOS,
    seed: int = 0,
    by: SplitBy = "file",
    knowledge: bool | None = None,
) -> dict[str, str]:
    """Pair id -> split (`assign_with_groups` without the groups)."""
    pairs = list(pairs)
    return {
        pid: split
        for pid, (split, _) in assign_with_groups(pairs, ratios, seed, by, knowledge).items()
    }


def assign_with_groups(
    pairs: list[Pair],
    ratios: tuple[float, ...],
    seed: int,
    by: SplitBy,
    knowledge: bool | None = None,
) -> dict[str, tuple[str, str]]:
    """Pair id -> (split, group): what `Store.put_splits` stores.

    With the two held-out sets (`knowledge`, default `knowledge_enabled()`): whole groups
    (files with their tests, or modules) are cut into train/validation/test by their
    generalisation pairs (`split_groups` over those counts; a group without any stays in
    train); in a held-out group only generalisation pairs keep their split, the others are
    `withheld`; then some train pairs become held-out facts (`hold_out_facts`). Without
    them, `split_by_group`.

    Example: a held-out `Money.java` -> its `method.implement` pairs in test, its
    `method.code` pairs withheld; `Token.java` in train -> one of its `member.signature`
    pairs in knowledge while its `method.code` pairs stay in train.
    """
    if not (knowledge_enabled() if knowledge is None else knowledge):
        return split_by_group(pairs, ratios, seed, by)
    groups = pair_groups(pairs, by)
    tasks = GENERALISATION_TASKS  # `generalises`, inlined: it runs once a pair
    sizes = Counter(groups[p.id] for p in pairs if p.task in tasks)
    where = split_groups(dict(sorted(sizes.items())), ratios, seed) if sizes else {}
    out: dict[str, tuple[str, str]] = {}
    for pair in pairs:
        group = groups[pair.id]
        split = where.get(group, "train")
        if split != "train" and pair.task not in tasks:
            split = WITHHELD
        out[pair.id] = (split, group)
    train = [p for p in pairs if out[p.id][0] == "train"]
    for pid in hold_out_facts(train, seed):
        out[pid] = (KNOWLEDGE, out[pid][1])
    return out


def split_by_group(
    pairs: list[Pair], ratios: tuple[float, ...], seed: int, by: SplitBy
) -> dict[str, tuple[str, str]]:
    """Pair id -> (split, group) by whole groups alone, sized by all their pairs: the rule
    before the two held-out sets."""
    groups = _by_source(pairs, {p.id: split_group(p, by) for p in pairs})
    where = split_groups(dict(Counter(groups.values())), ratios, seed)
    return {pid: (where[group], group) for pid, group in groups.items()}


def pair_groups(pairs: list[Pair], by: SplitBy) -> dict[str, str]:
    """Pair id -> its group (`split_group`); by file, a test file joins its subject's file."""
    if by != "file":
        return _by_source(pairs, {p.id: split_group(p, by) for p in pairs})
    paths: dict[str, set[str]] = defaultdict(set)  # by repo
    for pair in pairs:
        paths[pair.repo].add(pair.path)
    joined = {repo: subject_files(files) for repo, files in paths.items()}
    return _by_source(pairs, {p.id: joined[p.repo].get(p.path, p.path) for p in pairs})


def _by_source(pairs: list[Pair], groups: dict[str, str]) -> dict[str, str]:
    """Pairs of several sources (a many-repository run) are grouped by (source, group): a
    fork's file is not its original's. One source keeps its groups as they are."""
    if len({p.repo for p in pairs}) < 2:
        return groups
    repo_of = {p.id: p.repo for p in pairs}
    return {pid: f"{repo_of[pid]}:{group}" for pid, group in groups.items()}


def subject_files(paths: Iterable[str]) -> dict[str, str]:
    """Test file -> the main file it tests, found by name (`FooTest.java` -> `Foo.java`).

    Among main files of that name, the one sharing the longest folder suffix wins
    (`src/test/java/a/FooTest.java` -> `src/main/java/a/Foo.java`, not `b/Foo.java`).
    Example: {"m/src/test/java/a/MoneyTest.java", "m/src/main/java/a/Money.java"} ->
        {"m/src/test/java/a/MoneyTest.java": "m/src/main/java/a/Money.java"}
    """
    from pathlib import PurePosixPath

    from dataprep.generate.java_facts import is_test_path, test_subject

    by_stem: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(paths):
        if not is_test_path(path):
            p = PurePosixPath(path)
            by_stem[(p.stem, p.suffix)].append(path)
    out: dict[str, str] = {}
    for path in sorted(paths):
        subject = test_subject(path) if is_test_path(path) else None
        p = PurePosixPath(path)
        found = by_stem.get((subject, p.suffix), []) if subject else []
        if found:
            out[path] = max(found, key=lambda m: (_shared_suffix(m, path), m))
    return out


def _shared_suffix(a: str, b: str) -> int:
    """How many trailing folders two paths share. Example: ("x/a/b/F.java", "y/a/b/G.java") -> 2"""
    n = 0
    for x, y in zip(reversed(a.split("/")[:-1]), reversed(b.split("/")[:-1]), strict=False):
        if x != y:
            break
        n += 1
    return n
