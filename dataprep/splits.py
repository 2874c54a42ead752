"""Split pairs into train / validation / test by source file (or module), seeded.

No group (file or module) lands in two splits. Groups are ordered by a seeded hash, so an
assignment never depends on input order, and adding or changing one file moves only the
groups next to a cut. Sizes follow the ratios by pair count as closely as whole groups
allow; small repositories still get a validation and a test split.
"""

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Literal

from dataprep.errors import ExportError
from dataprep.models import SPLITS, Pair

DEFAULT_RATIOS = (0.85, 0.10, 0.05)
FEW_GROUPS = 48  # up to this many groups, the cut assignment is refined by moves and swaps
SplitBy = Literal["file", "module"]


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


def assign_splits(
    pairs: Iterable[Pair],
    ratios: tuple[float, ...] = DEFAULT_RATIOS,
    seed: int = 0,
    by: SplitBy = "file",
) -> dict[str, str]:
    """Pair id -> split, grouped by source file (or module): no group lands in two splits."""
    return {
        pid: split for pid, (split, _) in assign_with_groups(list(pairs), ratios, seed, by).items()
    }


def assign_with_groups(
    pairs: list[Pair], ratios: tuple[float, ...], seed: int, by: SplitBy
) -> dict[str, tuple[str, str]]:
    """Pair id -> (split, group): what `Store.put_splits` stores."""
    groups = {p.id: split_group(p, by) for p in pairs}
    sizes = Counter(groups.values())
    where = split_groups(dict(sizes), ratios, seed)
    return {pid: (where[group], group) for pid, group in groups.items()}
