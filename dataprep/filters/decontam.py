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
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from dataprep.filters.benchmarks import SIZE
from dataprep.filters.core import DECONTAMINATE_STAGE, FilterConfig, check_config
from dataprep.filters.dedup import (
    InstructionFrequency,
    Shingler,
    _FetchedSets,
    _grams,
    _Listed,
    _words,
    jaccard,
    lsh_params,
)
from dataprep.filters.passes import map_batches
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
    pairs are those of `train` and `held_out` (ids): memory holds ids, the held-out pairs'
    shingles and LSH band keys, and the pairs that share a bucket are read again by id.

    One pass over the source (in forked workers where `map_batches` can: its order does not
    matter) counts the instruction shingles and keeps the train pairs that share enough
    shingles with the held-out pairs to be a near-copy of one (`_Reach`): only those, a few
    in a hundred, and the held-out pairs are hashed (MinHash). A train pair left out has a
    Jaccard below `threshold` with every held-out pair, so it would never be confirmed.
    """
    if not train or not held_out:
        return {}
    held = set(held_out)
    reach = _Reach(source.fetch(held_out).values(), size, threshold)
    frequency = InstructionFrequency(size)
    near: set[str] = set()

    def work(start: int, batch: list) -> tuple[int, np.ndarray, list[str]]:
        hashes: list[int] = []  # each pair's distinct instruction shingles (`instruction_hashes`)
        ids: list[str] = []
        for pair in batch:
            words = _words(pair.instruction)
            grams = _grams(words, size)
            hashes.extend({hash(gram) for gram in grams})
            if pair.id not in held and reach.may_copy(pair, words, len(grams)):
                ids.append(pair.id)
        return len(batch), np.array(hashes, dtype=np.int64), ids

    count = len(train) + len(held_out)
    for pairs, hashes, ids in map_batches(source, work, light=_light, count=count):
        frequency.add_hashes(hashes, pairs)
        near.update(ids)
    reach.shingles.clear()
    train = [pid for pid in train if pid in near]
    if not train:
        return {}
    shingler = Shingler([], size, common=frequency.common())
    shingler.memo_size = 64  # few pairs here share an input and output; many are long
    del frequency, near
    bands, rows = lsh_params(round(min(round(max(0.05, threshold * 0.6), 2), 0.9), 2), num_perm)
    ids = [*train, *held_out]
    # small batches: the held-out pairs come last, and they are the long ones (tests, bodies)
    zeros = np.zeros(len(ids))
    keys = shingler.band_keys(_InOrder(source, ids), len(ids), num_perm, bands, rows, zeros, 256)
    n = len(train)
    candidates: list[set[int]] = [set() for _ in held_out]
    for band in range(bands):
        bucket = np.unique(keys[:, band], return_inverse=True)[1].reshape(-1)
        wanted = set(bucket[n:].tolist())
        table: dict[int, list[int]] = {}
        for row, key in enumerate(bucket[:n].tolist()):
            if key in wanted:
                table.setdefault(key, []).append(row)
        for j, key in enumerate(bucket[n:].tolist()):
            found = table.get(key)
            if found:
                candidates[j].update(found)
    del keys
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


class _Reach:
    """The held-out pairs' shingles, template wording included, and whether a pair shares
    enough of them to be a near-copy of one: a superset of `Shingler`'s sets, so a test
    that never says no to a pair with Jaccard >= `threshold` with a held-out pair.

    A pair's set (`Shingler.shingles_of`) is its word `size`-grams (`full`) less at most
    its instruction's own grams, and a held-out set is within the union kept here; so
    Jaccard >= t needs `shared` (its grams in the union) >= t * (|full| - |instruction
    grams|). A pair without words (an empty set) always passes: two empty sets are alike.
    Example: a train pair about another file shares a few 5-grams of Java (`public static
    void main string`) of its hundred: no.
    """

    def __init__(self, pairs: Iterable, size: int, threshold: float):
        self.size, self.threshold = size, threshold
        self.shingles: set[str] = set()
        for pair in pairs:
            self.shingles |= self._grams(pair, _words(pair.instruction))

    def _grams(self, pair, words: list[str]) -> set[str]:
        return _grams(words + _words(pair.input) + _words(pair.output), self.size)

    def may_copy(self, pair, words: list[str], instruction_grams: int) -> bool:
        """`words`: the pair's instruction's (`_words`), which make `instruction_grams`."""
        full = self._grams(pair, words)
        if not full or self.threshold <= 0:
            return True
        if self.shingles.isdisjoint(full):
            return False
        shared = len(full & self.shingles)
        return shared * (1 + 1e-9) >= self.threshold * (len(full) - instruction_grams)


class _Light(NamedTuple):
    """What the first pass reads of a pair, sent to a worker (`map_batches`)."""

    id: str
    instruction: str
    input: str
    output: str


def _light(pair) -> _Light:
    return _Light(pair.id, pair.instruction, pair.input, pair.output)


class _InOrder:
    """The pairs of `ids` from `source`, in that order, read by id a chunk at a time."""

    def __init__(self, source, ids: list[str], chunk: int = 1024):
        self.source, self.ids, self.chunk = source, ids, chunk

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self):
        for start in range(0, len(self.ids), self.chunk):
            part = self.ids[start : start + self.chunk]
            found = self.source.fetch(part)
            yield from (found[pid] for pid in part)


class _Held:
    """The pairs alive before decontamination that are in train or a generalisation split,
    read from the store on each pass (as `PairText`s); `gone`: the other alive pairs' ids,
    so that forked workers read the same pairs themselves (`stored`)."""

    def __init__(
        self,
        store,
        splits: dict[str, str],
        dropped: set[str] | frozenset = frozenset(),
        gone: set[str] | None = None,
    ):
        self.store, self.splits, self.dropped, self.gone = store, splits, dropped, gone

    def __iter__(self):
        checked = {"train", *GENERALISATION_SPLITS}
        for pair in self.store.iter_kept_texts(before=DECONTAMINATE_STAGE):
            if self.splits.get(pair.id) in checked and pair.id not in self.dropped:
                yield pair

    def fetch(self, pair_ids):
        return self.store.pair_texts(pair_ids)

    def stored(self) -> tuple | None:
        """(store, stage, ids to skip) for `passes.map_batches`, when `gone` is known."""
        if self.gone is None:
            return None
        return self.store, DECONTAMINATE_STAGE, self.gone


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
        checked_ids = {*train, *held}
        gone = {pid for pid in store.kept_ids(before=DECONTAMINATE_STAGE) if pid not in checked_ids}
        del checked_ids
        found = _contaminated(
            _Held(store, splits, dropped, gone),
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
