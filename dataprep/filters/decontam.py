"""Decontamination, after the splits exist: validation/test pairs that nearly copy a train
pair are dropped (or moved to train). Same shingles, MinHash and LSH as `near_duplicate`.

Only the generalisation splits (validation, test) are checked. The knowledge split is left
alone by design: its rows ask about facts that are in train (dataprep.splits), so they are
near-copies of train rows on purpose. The `withheld` pairs (a held-out file's pairs that
are not generalisation tasks) are dropped here, each with its reason.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dataprep.filters.benchmarks import SIZE
from dataprep.filters.core import DECONTAMINATE_STAGE, FilterConfig, check_config
from dataprep.filters.dedup import (
    InstructionFrequency,
    Shingler,
    _FetchedSets,
    _Listed,
    jaccard,
    lsh_params,
)
from dataprep.models import Decision, Pair
from dataprep.procs import give_back_memory
from dataprep.splits import GENERALISATION_SPLITS, GENERALISATION_TASKS, WITHHELD

WITHHELD_REASON = (
    "withheld: in a held-out file, and not a task a model can answer without the file "
    f"({', '.join(sorted(GENERALISATION_TASKS))})"
)


@dataclass
class DecontamReport:
    """Validation/test pairs that nearly copy a train pair, and what was done with them."""

    checked: int = 0
    train: int = 0
    contaminated: int = 0
    withheld: int = 0
    action: str = "drop"
    by_split: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    append: dict[str, Any] | None = None
    """With `--append DIR1`: its published rows, and the pairs dropped as copies of one."""
    benchmark: dict[str, Any] | None = None
    """With an index of benchmark snippets: snippets, files, pairs checked and dropped (by
    split and by file), examples."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def contaminated_pairs(
    train: list[Pair],
    held_out: list[Pair],
    threshold: float = 0.5,
    num_perm: int = 256,
    size: int = 5,
) -> dict[str, tuple[str, float]]:
    """Held-out pair id -> (train pair id, Jaccard) for every held-out near-copy of a train pair.

    LSH runs at a lower threshold than `threshold` (at the threshold itself it finds only
    about half of the pairs), and exact Jaccard over the shingles confirms each candidate.
    """
    if not train or not held_out:
        return {}
    both = _Listed([*train, *held_out])
    return _contaminated(
        both, [p.id for p in train], [p.id for p in held_out], threshold, num_perm, size
    )


def _contaminated(
    source, train: list[str], held_out: list[str], threshold: float, num_perm: int, size: int
) -> dict[str, tuple[str, float]]:
    """`contaminated_pairs` over a source of pairs (iterable again, `fetch` by id) whose
    pairs are those of `train` and `held_out` (ids, each in the source's order): memory
    holds ids and LSH band keys, and the pairs that share a bucket are read again by id."""
    frequency = InstructionFrequency(size)
    order: list[str] = []
    for pair in source:
        frequency.add(pair)
        order.append(pair.id)
    shingler = Shingler([], size, common=frequency.common())
    del frequency
    bands, rows = lsh_params(round(min(round(max(0.05, threshold * 0.6), 2), 0.9), 2), num_perm)
    keys = shingler.band_keys(source, len(order), num_perm, bands, rows, np.zeros(len(order)))
    position = {pid: i for i, pid in enumerate(order)}
    ids = [*train, *held_out]
    at = np.asarray([position[pid] for pid in ids], dtype=np.int64)  # keys' row of each id
    del position, order
    n = len(train)
    candidates: list[set[int]] = [set() for _ in held_out]
    for band in range(bands):  # the keys' rows stay in the source's order (no second copy)
        bucket = np.unique(keys[:, band], return_inverse=True)[1].reshape(-1)[at]
        wanted = set(bucket[n:].tolist())
        table: dict[int, list[int]] = {}
        for row, key in enumerate(bucket[:n].tolist()):
            if key in wanted:
                table.setdefault(key, []).append(row)
        for j, key in enumerate(bucket[n:].tolist()):
            found = table.get(key)
            if found:
                candidates[j].update(found)
    del keys, at
    sets = _FetchedSets(shingler, source, ids)
    found: dict[str, tuple[str, float]] = {}
    for j, pair_id in enumerate(held_out):
        if not candidates[j]:
            continue
        sets.want([n + j, *candidates[j]])
        best = max(
            ((jaccard(sets[n + j], sets[c]), train[c]) for c in candidates[j]),
            default=None,
            key=lambda x: (x[0], x[1]),
        )
        if best and best[0] >= threshold:
            found[pair_id] = (best[1], round(best[0], 3))
    return found


class _Held:
    """The pairs alive before decontamination that are in train or a generalisation split,
    read from the store on each pass (as `PairText`s)."""

    def __init__(self, store, splits: dict[str, str], dropped: set[str] | frozenset = frozenset()):
        self.store, self.splits, self.dropped = store, splits, dropped

    def __iter__(self):
        checked = {"train", *GENERALISATION_SPLITS}
        for pair in self.store.iter_kept_texts(before=DECONTAMINATE_STAGE):
            if self.splits.get(pair.id) in checked and pair.id not in self.dropped:
                yield pair

    def fetch(self, pair_ids):
        return self.store.pair_texts(pair_ids)


def benchmark_copies(pairs, index: Any) -> dict[str, tuple[str, str, float]]:
    """Pair id -> (snippet name, field, overlap) for every pair whose instruction, input or
    output nearly copies a snippet of `index` (a `benchmarks.BenchmarkIndex`)."""
    found: dict[str, tuple[str, str, float]] = {}
    for pair in pairs:
        for name in ("instruction", "input", "output"):
            hit = index.match(getattr(pair, name) or "")
            if hit is not None:
                found[pair.id] = (hit[0], name, hit[1])
                break
    return found


def decontaminate(
    store,
    config: FilterConfig | None = None,
    run_id: int | None = None,
    benchmarks: Any = None,
    published: Any = None,
) -> DecontamReport:
    """Check the stored splits: drop (or move to train) validation/test pairs that nearly
    copy a train pair. Call it right after the splits are written (`store.put_splits`).

    Every held-out pair gets a `decontaminate` decision; a dropped one says which train
    pair it copies and the Jaccard similarity. Its own earlier verdicts are set aside.
    With `benchmarks` (a `benchmarks.BenchmarkIndex`), a pair of any split that nearly
    copies a benchmark snippet is dropped; with `published` (`--append`), one equal or near
    to a row DIR1 published already.
    """
    config = config or FilterConfig()
    check_config(config)
    started = time.perf_counter()
    splits = store.splits()
    ids = [pid for pid in store.kept_ids(before=DECONTAMINATE_STAGE) if pid in splits]
    checked = [pid for pid in ids if splits[pid] != WITHHELD]
    copies: dict[str, tuple[str, str, float]] = {}
    if benchmarks is not None:  # any split: a benchmark's solution is never trained on
        copies = benchmark_copies(_Checked(store, splits), benchmarks)
    repeats: dict[str, tuple[str, float]] = {}
    if published is not None:  # --append: what DIR1 published already is not made again
        repeats = published_copies(
            _Checked(store, splits, set(copies)),
            published,
            config.near_dup_threshold,
            config.num_perm,
            config.shingle_size,
        )
    repeated = [pid for pid in ids if pid in repeats]
    copied = [pid for pid in ids if pid in copies]
    dropped = set(copies) | set(repeats)
    ids = [pid for pid in ids if pid not in dropped]
    train = [pid for pid in ids if splits[pid] == "train"]
    held = [pid for pid in ids if splits[pid] in GENERALISATION_SPLITS]
    withheld = [pid for pid in ids if splits[pid] == WITHHELD]
    del ids
    found = {}
    if train and held:
        found = _contaminated(
            _Held(store, splits, dropped),
            train,
            held,
            config.decontam_threshold,
            config.num_perm,
            config.shingle_size,
        )
    report = DecontamReport(
        checked=len(held),
        train=len(train),
        contaminated=len(found),
        withheld=len(withheld),
        action=config.decontam_action,
    )
    decisions = [
        Decision(pair_id=pid, stage=DECONTAMINATE_STAGE, kept=False, reason=WITHHELD_REASON)
        for pid in withheld
    ]
    if benchmarks is not None:
        report.benchmark = _benchmark_report(benchmarks, len(checked), copied, copies, splits)
    if published is not None:
        report.append = {
            "dir": str(published.dir),
            "rows": len(published),
            "checked": len(checked) - len(copied),
            "dropped": len(repeated),
        }
    for pair_id in repeated:
        row, score = repeats[pair_id]
        what = "is" if row == pair_id else f"nearly copies (Jaccard {score})"
        decisions.append(
            Decision(
                pair_id=pair_id,
                stage=DECONTAMINATE_STAGE,
                kept=False,
                reason=f"{what} row {row} published in {published.dir} (--append)",
                detail=json.dumps({"published_row": row, "jaccard": score}),
            )
        )
    for pair_id in copied:
        name, where, score = copies[pair_id]
        decisions.append(
            Decision(
                pair_id=pair_id,
                stage=DECONTAMINATE_STAGE,
                kept=False,
                reason=f"{where} nearly copies benchmark snippet {name} "
                f"(word {SIZE}-gram overlap {score})",
                detail=json.dumps({"benchmark": name, "field": where, "overlap": score}),
            )
        )
    for pair_id in held:
        if pair_id not in found:
            decisions.append(Decision(pair_id=pair_id, stage=DECONTAMINATE_STAGE, kept=True))
            continue
        twin, score = found[pair_id]
        split = splits[pair_id]
        report.by_split[split] = report.by_split.get(split, 0) + 1
        reason = f"{split} pair nearly copies train pair {twin} (Jaccard {score})"
        detail = json.dumps({"train_pair": twin, "jaccard": score, "split": split})
        moved = config.decontam_action == "move"
        decisions.append(
            Decision(
                pair_id=pair_id,
                stage=DECONTAMINATE_STAGE,
                kept=moved,
                reason=("moved to train: " if moved else "") + reason,
                detail=detail,
            )
        )
        if len(report.examples) < 3:
            report.examples.append({"pair_id": pair_id, "reason": reason})
    with store.transaction():
        store.put_decisions(DECONTAMINATE_STAGE, decisions, run_id=run_id)
        if config.decontam_action == "move" and found:
            store.put_splits(
                (pid, "train" if pid in found else split, grp)
                for pid, split, grp in store.split_assignments()
            )
    report.seconds = round(time.perf_counter() - started, 4)
    store.set_meta("decontaminate_report", report.to_dict())
    del decisions, found, splits
    give_back_memory()
    return report


class _Checked:
    """The pairs alive before decontamination in any split but `withheld`, read from the
    store one at a time (as `PairText`s): what the benchmark and --append checks read."""

    def __init__(self, store, splits: dict[str, str], skip: set[str] | frozenset = frozenset()):
        self.store, self.splits, self.skip = store, splits, skip

    def __iter__(self):
        for pair in self.store.iter_kept_texts(before=DECONTAMINATE_STAGE):
            if self.splits.get(pair.id, WITHHELD) != WITHHELD and pair.id not in self.skip:
                yield pair

    def fetch(self, pair_ids):
        return self.store.pair_texts(pair_ids)


def _benchmark_report(index, checked: int, copied, copies, splits) -> dict[str, Any]:
    by_split: dict[str, int] = {}
    by_file: dict[str, int] = {}
    for pair_id in copied:
        split = splits[pair_id]
        by_split[split] = by_split.get(split, 0) + 1
        file = copies[pair_id][0].split("#", 1)[0]
        by_file[file] = by_file.get(file, 0) + 1
    return {
        "snippets": len(index.snippets),
        "files": [path for path, _ in index.files],
        "checked": checked,
        "dropped": len(copied),
        "by_split": dict(sorted(by_split.items())),
        "by_file": dict(sorted(by_file.items())),
        "examples": [
            {"pair_id": pid, "snippet": copies[pid][0], "field": copies[pid][1]}
            for pid in copied[:3]
        ],
    }


def published_copies(
    pairs, published, threshold: float, num_perm: int, size: int
) -> dict[str, tuple[str, float]]:
    """Pair id -> (published row id, Jaccard) for every pair equal or near to a row.

    `pairs` is iterable again and has `fetch` by id (`_Checked`, `_Listed`); `published` the
    same over the rows (`append.Published`). Memory holds ids and LSH band keys."""
    same = published.position if hasattr(published, "position") else {r.id for r in published}
    found: dict[str, tuple[str, float]] = {}
    rest: list[str] = []
    for pair in pairs:
        if pair.id in same:
            found[pair.id] = (pair.id, 1.0)
        else:
            rest.append(pair.id)
    if not rest or not len(same):
        return found
    both = _RowsThenPairs(published, pairs, set(found))
    rows = [_ROW + r.id for r in published]
    near = _contaminated(both, rows, rest, threshold, num_perm, size)
    found.update({pid: (row[len(_ROW) :], score) for pid, (row, score) in near.items()})
    return found


_ROW = "\0row:"  # published row ids, kept apart from the new pairs' ids in one source


class _RowsThenPairs:
    """The published rows (ids prefixed with `_ROW`), then the pairs not in `skip`: one
    source for `_contaminated`, iterable again, `fetch` by id."""

    def __init__(self, rows, pairs, skip: set[str]):
        self.rows, self.pairs, self.skip = rows, pairs, skip

    def __iter__(self):
        for row in self.rows:
            yield _Renamed(_ROW + row.id, row.instruction, row.input, row.output)
        for pair in self.pairs:
            if pair.id not in self.skip:
                yield pair

    def fetch(self, ids):
        ids = list(ids)
        rows = [i[len(_ROW) :] for i in ids if i.startswith(_ROW)]
        found = {
            _ROW + r.id: _Renamed(_ROW + r.id, r.instruction, r.input, r.output)
            for r in self.rows.fetch(rows).values()
        } if rows else {}  # fmt: skip
        others = [i for i in ids if not i.startswith(_ROW)]
        if others:
            found.update(self.pairs.fetch(others))
        return found


@dataclass(frozen=True)
class _Renamed:
    id: str
    instruction: str
    input: str
    output: str
