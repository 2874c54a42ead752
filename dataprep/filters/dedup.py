"""Set filters: exact duplicates, conflicts, and MinHash LSH near-duplicates.

Each keeps one pair of a group deterministically: template pairs over output-first over
evol, then the smallest id (`preference`).

Near-duplicates are datasketch's MinHash and MinHashLSH, on a vectorised path:
`Shingler.batch_signatures` computes, for a batch of pairs at once, exactly the hash
values of `MinHash(num_perm, seed=1, hashfunc=...)` (its default "affine32" scheme)
updated with each pair's shingles, each hashed by `shingle_hash32` (its words' hashes
combined: numpy does it for every window of a batch, and no shingle string is built),
with the permutations drawn as datasketch draws them (`permutations`: no
datasketch import in a run); `band_buckets` puts rows in the buckets of
the bands and rows that `MinHashLSH(threshold, num_perm)` chooses, so two pairs share a
bucket exactly when that index would return one for the other. The tests hold both to
datasketch itself.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from array import array
from collections.abc import Callable, Iterable
from functools import lru_cache
from hashlib import blake2b
from pathlib import Path
from typing import NamedTuple

import numpy as np

from dataprep import procs
from dataprep.filters.core import GENERATOR_RANK, WORD_RE, Context, normalize, register
from dataprep.filters.passes import map_batches, map_fetched, stored
from dataprep.models import Pair

MINHASH_SEED = 1


def _digest(text: str) -> bytes:
    return blake2b(text.encode("utf-8"), digest_size=16).digest()


@register(
    "exact_duplicate",
    "same instruction, input and output (whitespace-normalised); one kept",
    on_set=True,
)
def exact_duplicate(pairs: Iterable[Pair], ctx: Context) -> dict[str, str]:
    """Over each pair's rank, id and a 16-byte hash of its texts, as numpy columns
    (`DedupFacts`: one pass for the three dedup filters), not a Python object each."""
    facts, alive = dedup_facts(pairs, ctx.config.shingle_size)
    ranks, ids, keys = facts.ranks[alive], facts.ids[alive], facts.exact[alive]
    if not len(ids):
        return {}
    order = np.lexsort((ids, ranks))  # `preference`
    keys = keys[order]
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    seen = first[inverse.reshape(-1)]  # each row's first row of its key, in that order
    later = np.flatnonzero(seen != np.arange(len(keys)))
    return {
        _id(ids[order[j]]): f"exact duplicate of {_id(ids[order[seen[j]]])}" for j in later.tolist()
    }


@register(
    "conflict",
    "same instruction and input with different outputs: all of them dropped",
    on_set=True,
)
def conflict(pairs: Iterable[Pair], ctx: Context) -> dict[str, str]:
    """Over each pair's id and 16-byte hashes of its question and answer, as numpy columns
    (`DedupFacts`)."""
    facts, alive = dedup_facts(pairs, ctx.config.shingle_size)
    questions, outputs, ids = facts.questions[alive], facts.outputs[alive], facts.ids[alive]
    dropped: dict[str, str] = {}
    if not len(ids):
        return dropped
    order = np.argsort(questions, kind="stable")
    asked = questions[order]
    starts = np.flatnonzero(np.concatenate(([True], asked[1:] != asked[:-1])))
    ends = np.append(starts[1:], len(asked))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if end - start < 2:
            continue
        group = order[start:end]
        if len(set(outputs[group].tolist())) > 1:
            members = sorted(_id(i) for i in ids[group].tolist())
            for pair_id in members:
                others = [o for o in members if o != pair_id]
                dropped[pair_id] = (
                    f"conflict: same instruction and input as {len(others)} other pair(s) with "
                    f"different outputs ({', '.join(others[:3])})"
                )
    return dropped


class DedupFacts:
    """What the dedup set filters read of each pair, gathered in one pass (`collect`) for
    all three: its id, rank (`preference`), task, 16-byte hashes of its whole text, of its
    question and of its answer (whitespace-normalised), and the document frequency of the
    instruction shingles (`InstructionFrequency`). Numpy columns, not texts.

    The chain's later dedup filters are given fewer pairs (the earlier ones dropped some):
    they take the rows still alive (`dedup_facts`), and the near-duplicate filter takes
    the instruction shingles of the rows dropped since out of the frequency again.
    """

    def __init__(self, size: int):
        self.size = size
        self.tasks: dict[str, int] = {}  # task -> its number in `task_codes`
        self.frequency = InstructionFrequency(size)
        parts: list[list[np.ndarray]] = [[] for _ in range(5)]
        self._parts, self._codes = parts, array("q")

    def add(self, part: tuple) -> None:
        """One batch's columns (`fact_columns`)."""
        *columns, tasks, hashes = part
        for column, values in zip(self._parts, columns, strict=True):
            column.append(values)
        self._codes.extend(self.tasks.setdefault(t, len(self.tasks)) for t in tasks)
        self.frequency.add_hashes(hashes, len(tasks))

    def done(self) -> DedupFacts:
        self.ids, self.ranks, self.exact, self.questions, self.outputs = (
            np.concatenate(c) if c else np.zeros(0, dtype) for c, dtype in
            zip(self._parts, ("S1", np.int64, "S16", "S16", "S16"), strict=True)
        )  # fmt: skip
        self.task_codes = np.frombuffer(self._codes, dtype=np.int64)
        del self._parts, self._codes
        return self

    @classmethod
    def collect(cls, pairs, size: int) -> DedupFacts:
        """One pass over `pairs` (`map_batches`: in forked workers where it can)."""
        facts = cls(size)
        for part in map_batches(pairs, lambda start, batch: fact_columns(batch, size)):
            facts.add(part)
        return facts.done()

    def alive(self, gone: set[str] | None) -> np.ndarray:
        """A mask of the rows whose ids are not in `gone`."""
        if not gone:
            return np.ones(len(self.ids), dtype=bool)
        ids = self.ids.tolist()
        return np.fromiter((_id(i) not in gone for i in ids), dtype=bool, count=len(ids))


def fact_columns(batch: list, size: int) -> tuple:
    """A batch's `DedupFacts` columns: ids, ranks, the three text hashes, tasks (a list)
    and the batch's instruction shingle hashes (each pair's distinct ones, concatenated)."""
    exact, questions, outputs, grams = [], [], [], []
    for p in batch:
        instruction, given, output = (
            normalize(p.instruction),
            normalize(p.input),
            normalize(p.output),
        )
        question = instruction + "\x00" + given
        exact.append(_digest(question + "\x00" + output))
        questions.append(_digest(question))
        outputs.append(_digest(output))
        grams.extend({hash(sh) for sh in _grams(_words(p.instruction), size)})
    return (
        _ids([p.id for p in batch]),
        np.fromiter((GENERATOR_RANK.get(p.generator, 9) for p in batch), np.int64, len(batch)),
        np.array(exact, dtype="S16"),
        np.array(questions, dtype="S16"),
        np.array(outputs, dtype="S16"),
        [p.task for p in batch],
        np.array(grams, dtype=np.int64),  # each pair's distinct ones (`instruction_hashes`)
    )


def dedup_facts(pairs, size: int) -> tuple[DedupFacts, np.ndarray]:
    """(`DedupFacts`, a mask of its rows that are `pairs`). The chain's pairs (`Alive`) keep
    the facts in their source's `memo`, read in one pass by the first dedup filter: the
    next ones mask the rows dropped since (the chain only adds to `gone`). Otherwise (a
    list, another shingle size) one pass over `pairs`."""
    memo = getattr(pairs, "memo", None)
    gone = getattr(pairs, "gone", None)
    found = memo.get("dedup") if memo is not None else None
    if found is not None and found.size == size:
        alive = found.alive(gone)
        if int(alive.sum()) == len(pairs):
            return found, alive
    facts = DedupFacts.collect(pairs, size)
    if memo is not None:
        memo["dedup"] = facts
    return facts, np.ones(len(facts.ids), dtype=bool)


def _ids(ids: list[str]) -> np.ndarray:
    """Pair ids as a numpy bytes column (UTF-8): 16 bytes an id instead of a Python string
    each; sorted, they keep the strings' order (UTF-8 keeps code point order)."""
    return np.array([i.encode("utf-8") for i in ids], dtype="S") if ids else np.zeros(0, "S1")


def _id(value: bytes) -> str:
    """An id of an `_ids` column back as a string."""
    return value.decode("utf-8")


# --- shingles -------------------------------------------------------------------------


def shingles(text: str, size: int = 5) -> set[str]:
    """Word n-gram shingles, lower-cased. Example: shingles("a b c", 2) -> {"a b", "b c"}."""
    words = [w.lower() for w in WORD_RE.findall(text)]
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity. Example: jaccard({"a", "b"}, {"b", "c"}) -> 1/3."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _words(text: str) -> list[str]:
    """`WORD_RE`'s words of `text`, lower-cased."""
    if text.isascii():  # lower-casing ASCII moves no word boundary: C passes over bytes
        return text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
    return [w.lower() for w in WORD_RE.findall(text)]


# An ASCII byte lower-cased, or a space where it is not one of `WORD_RE`'s characters: one
# `bytes.translate` (a table lookup a byte) does what `str.lower().translate(dict)` did in
# two passes, the second a dict lookup a character (2.1x quicker over java.base's pairs)
_ASCII_WORDS = bytes(
    c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789_$" else c + 32 if 65 <= c <= 90 else 32
    for c in range(256)
)


def _grams(words: list[str], size: int) -> set[str]:
    """`shingles` over a word list already split and lower-cased."""
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return set(map(" ".join, zip(*[words[k:] for k in range(size)], strict=False)))


class Shingler:
    """Shingle sets of pairs' instruction, input and output, template boilerplate removed,
    built on demand: memory holds the few sets in use, never all of them (a repository's
    pairs' shingles are many times its text).

    A shingle of an *instruction* found in more than max(min_df, max_df * len(pairs))
    instructions is the wording of a template ("say what the method is called"), not
    content: two short template pairs about different units share it and would otherwise
    look alike. Input and output shingles are always kept: code repeated across many files
    (clones) is exactly what near-duplicate detection and decontamination must see.
    Example: 1,000 pairs of one phrasing keep only the instruction shingles around their
    names, plus all of their code.

    Each field is split into words once per batch, and the shingles of an input and output
    shared by several pairs (template questions about one unit) are built once: the full
    text's shingles are the instruction's, the input's and output's, and the few windows
    that straddle the instruction's end (`shingles(pair_text(pair))`, computed in parts).
    """

    def __init__(
        self,
        pairs: list[Pair],
        size: int = 5,
        max_df: float = 0.01,
        min_df: int = 5,
        common: set[int] | None = None,
    ):
        self.pairs, self.size = pairs, size
        if common is None:
            frequency = InstructionFrequency(size)
            for pair in pairs:
                frequency.add(pair)
            common = frequency.common(max_df, min_df)
        self.common = common
        self.memo_size = 1024  # (input, output) texts whose words and shingles are kept
        self._memo: dict[tuple[str, str], tuple[list[str], set[str]]] = {}
        self._tokens = _TokenHashes()

    def shingles(self, i: int) -> set[str]:
        """The shingle set of pair `i`."""
        return self.shingles_of(self.pairs[i])

    def shingles_of(self, pair: Pair) -> set[str]:
        """The shingle set of a pair."""
        size = self.size
        wi = _words(pair.instruction)
        a = _grams(wi, size)
        key = (pair.input, pair.output)
        if key not in self._memo:
            if len(self._memo) > self.memo_size:
                self._memo.clear()
            wio = _words(pair.input) + _words(pair.output)
            self._memo[key] = (wio, _grams(wio, size))
        wio, g = self._memo[key]
        total = len(wi) + len(wio)
        if total <= size:
            full = {" ".join(wi + wio)} if total else set()
        else:
            full = set(a) if len(wi) >= size else set()
            if len(wio) >= size:
                full |= g
            cross = wi[max(0, len(wi) - size + 1) :] + wio[: size - 1]
            first = max(0, len(wi) - size + 1)
            for j in range(first, min(len(wi), total - size + 1)):
                full.add(" ".join(cross[j - first : j - first + size]))
        boiler = {sh for sh in a if hash(sh) in self.common} - g
        if not boiler:  # most pairs: no copy of the set
            return full
        return (full - boiler) or full

    def signatures(self, num_perm: int, batch: int = 2048) -> np.ndarray:
        """MinHash signatures of every pair, computed a batch of sets at a time; the
        batches in forked worker processes when `procs.jobs()` allows and there are
        several (the workers inherit the pairs: nothing but the signatures is sent)."""
        if not self.pairs:
            return np.zeros((0, num_perm), dtype=np.uint64)
        spans = [
            (start, min(start + batch, len(self.pairs)), num_perm)
            for start in range(0, len(self.pairs), batch)
        ]
        workers = min(procs.jobs(), len(spans))
        if workers > 1 and hasattr(os, "fork"):  # fork: the workers share this object
            permutations(num_perm)  # drawn once, here: the workers inherit them
            global _FORKED
            _FORKED = self
            try:
                with procs.process_pool(workers) as pool:
                    parts = list(pool.map(_forked_signatures, spans))
            finally:
                _FORKED = None
        else:
            parts = [self._signatures(span) for span in spans]
        self._tokens.clear()  # the pass's word hashes (shingles_of's memo is not used)
        return np.concatenate(parts)

    def band_keys(
        self,
        source,
        n: int,
        num_perm: int,
        bands: int,
        rows: int,
        groups: np.ndarray | dict[str, int],
        batch: int | None = None,
        into: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    ) -> np.ndarray | None:
        """Per pair of `source` (in its order), a 64-bit key of each LSH band of its
        MinHash signature (and its `groups` value: by position, or given a task's by
        the pair's task): equal keys are equal bands (`band_buckets` compares the rows
        themselves; a 64-bit collision is not expected in a repository's pairs).
        Signatures are computed a batch at a time, in forked workers when `procs.jobs()`
        allows; only the keys are kept, all of them (n x bands) or, with `into`, none:
        each batch's go to `into(start, keys, ids)` (ids: an `_ids` column), in order."""
        out = np.zeros((n, bands), dtype=np.uint64) if into is None else None
        spec = (num_perm, bands, rows)
        if n and procs.jobs() > 1 and hasattr(os, "fork"):
            permutations(num_perm)  # drawn once, here, before the workers fork

        def work(start: int, pairs: list) -> tuple[int, np.ndarray, np.ndarray | None]:
            if isinstance(groups, dict):
                of = np.fromiter((groups[p.task] for p in pairs), np.int64, len(pairs))
            else:
                of = groups[start : start + len(pairs)]
            keys = self._band_keys((pairs, of, spec))
            return start, keys, _ids([p.id for p in pairs]) if into is not None else None

        for start, keys, ids in map_batches(source, work, batch, light=_light, count=n):
            if out is None:
                into(start, keys, ids)
            else:
                out[start : start + len(keys)] = keys
        self._tokens.clear()  # the pass's word hashes
        return out

    def _band_keys(self, job) -> np.ndarray:
        pairs, groups, (num_perm, bands, rows) = job
        sigs = self.batch_signatures(pairs, num_perm)
        keys = np.empty((len(pairs), bands), dtype=np.uint64)
        for band in range(bands):
            block = sigs[:, band * rows : (band + 1) * rows].astype(np.uint64)
            keys[:, band] = _mix(np.column_stack([groups.astype(np.uint64), block]))
        return keys

    def _signatures(self, span: tuple[int, int, int]) -> np.ndarray:
        start, end, num_perm = span
        return self.batch_signatures(self.pairs[start:end], num_perm)

    def batch_signatures(self, pairs: list, num_perm: int) -> np.ndarray:
        """`signatures([self.shingles_of(p) for p in pairs], num_perm)`, without a shingle
        string: each pair's words are hashed once (`_TokenHashes`) and its windows of
        `size` words combined in numpy over the whole batch (`window_hashes`); only the
        instruction's windows are joined, to look their template wording up in `common`.
        The tests hold the two equal."""
        values, lengths = self.hashed_sets(pairs)
        return affine_minhash(
            _fmix32((values >> np.uint64(32)).astype(np.uint32)),
            lengths,
            permutations(num_perm),
            np.full(num_perm, _EMPTY32, np.uint32),
        )

    def hashed_sets(self, pairs: list) -> tuple[np.ndarray, np.ndarray]:
        """(values, lengths): set i is the next `lengths[i]` uint64 `values`, a 64-bit hash
        of each shingle of `shingles_of(pairs[i])` (whose top half is its `shingle_hash32`),
        a shingle repeated in a pair possibly more than once (a MinHash does not count)."""
        size, common, tokens = self.size, self.common, self._tokens
        if len(tokens) > 1 << 17:  # a batch's words are hashed again, not a repository's kept
            tokens.clear()
        words: list[str] = []
        totals, instruction = [], []
        boiler: list[int] = []  # window numbers of instruction windows that are wording
        windows = 0
        for pair in pairs:
            before = len(words)
            wi = _words(pair.instruction)
            words += wi
            words += _words(pair.input)
            words += _words(pair.output)
            total = len(words) - before
            totals.append(total)
            instruction.append(len(wi))
            if len(wi) >= size and common:
                grams = map(" ".join, zip(*[wi[k:] for k in range(size)], strict=False))
                hits = map(common.__contains__, map(hash, grams))
                boiler.extend(windows + j for j, hit in enumerate(hits) if hit)
            windows += total - size + 1 if total >= size else min(total, 1)
        n = len(pairs)
        totals_a = np.array(totals, dtype=np.int64)
        counts = np.where(totals_a >= size, totals_a - size + 1, np.minimum(totals_a, 1))
        mixed = _mix64(np.fromiter(map(tokens.__getitem__, words), np.uint64, len(words)))
        hashed = window_hashes(np.concatenate([mixed, np.zeros(size - 1, np.uint64)]), size)
        starts = np.concatenate(([0], np.cumsum(totals_a)[:-1])) if n else totals_a
        firsts = np.concatenate(([0], np.cumsum(counts)[:-1])) if n else counts
        owner = np.repeat(np.arange(n), counts)
        at = np.arange(windows) - firsts[owner] + starts[owner]  # each window's first word
        values = hashed[at]
        for i in np.flatnonzero((totals_a < size) & (totals_a > 0)).tolist():
            start = int(starts[i])  # a text of under `size` words: one shingle, all of it
            values[firsts[i]] = window_hashes(mixed[start : start + totals[i]], totals[i])[0]
        if boiler:
            flagged = np.array(boiler, dtype=np.int64)
            io = at - starts[owner] >= np.array(instruction, dtype=np.int64)[owner]
            # a wording's hash is one of a few: the windows that may carry one are found
            # by value, and only they are told apart by pair (`_owned`). The input's and
            # output's windows are never dropped: wording also found there stays
            found = _among(values, np.unique(values[flagged]))
            wording = _owned(values, owner, flagged)
            maybe = np.flatnonzero(found & ~io)
            drop = np.zeros(len(values), dtype=bool)
            drop[maybe] = np.isin(_owned(values, owner, maybe), wording)
            left = np.bincount(owner[~drop], minlength=n)
            drop &= (left > 0)[owner]  # a pair that is all wording keeps it all
            values, counts = values[~drop], np.where(left > 0, left, counts)
        return values, counts


def instruction_hashes(pair: Pair, size: int = 5) -> np.ndarray:
    """The distinct hashes of a pair's instruction shingles (what `InstructionFrequency`
    counts)."""
    grams = {hash(sh) for sh in _grams(_words(pair.instruction), size)}
    return np.fromiter(grams, dtype=np.int64, count=len(grams))


class InstructionFrequency:
    """The document frequency of instruction shingles (over their hashes), counted a pair at
    a time: memory holds each distinct shingle's hash and count, never the texts."""

    def __init__(self, size: int = 5, batch: int = 4096):
        self.size, self.batch = size, batch
        self.n = 0
        self._pending: list[np.ndarray] = []
        self._signs: list[int] = []
        self._pending_values = 0
        self._values = np.zeros(0, dtype=np.int64)
        self._counts = np.zeros(0, dtype=np.int64)

    def add(self, pair: Pair) -> None:
        self.add_hashes(instruction_hashes(pair, self.size), 1)

    def add_hashes(self, values: np.ndarray, pairs: int) -> None:
        """Count `pairs` pairs whose `hashes` together are `values`; `pairs` -1: take one
        pair counted before (its hashes `values`) out again."""
        self._pending.append(values)
        self._signs.append(-1 if pairs < 0 else 1)
        self._pending_values += len(values)
        self.n += pairs
        if len(self._pending) >= self.batch or self._pending_values >= 64 * self.batch:
            self._merge()

    def _merge(self) -> None:
        if not self._pending:
            return
        values = np.concatenate([self._values, *self._pending])
        weights = np.concatenate(
            [self._counts]
            + [
                np.full(len(v), sign, np.int64)
                for v, sign in zip(self._pending, self._signs, strict=True)
            ]
        )
        self._pending, self._signs, self._pending_values = [], [], 0
        self._values, inverse = np.unique(values, return_inverse=True)
        self._counts = np.bincount(inverse.reshape(-1), weights=weights).astype(np.int64)

    def copy(self) -> InstructionFrequency:
        self._merge()
        other = InstructionFrequency(self.size, self.batch)
        other.n, other._values, other._counts = self.n, self._values, self._counts
        return other

    def common(self, max_df: float = 0.01, min_df: int = 5) -> set[int]:
        """The shingles found in more than max(min_df, max_df * pairs) instructions."""
        self._merge()
        limit = max(min_df, max_df * self.n)
        return set(self._values[self._counts > limit].tolist())


_FORKED: Shingler | None = None  # the Shingler forked workers compute for


class _Texts(NamedTuple):
    id: str
    task: str
    instruction: str
    input: str
    output: str


def _light(pair) -> _Texts:
    """What the band keys read of a pair, sent to a worker (`map_batches`)."""
    return _Texts(pair.id, pair.task, pair.instruction, pair.input, pair.output)


def _mix(block: np.ndarray) -> np.ndarray:
    """One 64-bit mix per row of a uint64 block (`band_buckets`' bucket key)."""
    mixed = np.zeros(len(block), dtype=np.uint64)
    for column in block.T:
        mixed = (mixed ^ column) * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= mixed >> np.uint64(29)
    return mixed


def _forked_signatures(span: tuple[int, int, int]) -> np.ndarray:
    """Worker: one batch's signatures from the Shingler the parent forked with."""
    assert _FORKED is not None
    return _FORKED._signatures(span)


def content_shingles(
    pairs: list[Pair], size: int = 5, max_df: float = 0.01, min_df: int = 5
) -> list[set[str]]:
    """Every pair's shingle set (`Shingler`), all at once: for small inputs and tests."""
    shingler = Shingler(pairs, size, max_df, min_df)
    return [shingler.shingles(i) for i in range(len(pairs))]


# --- MinHash signatures -----------------------------------------------------------------


def minhashes(sets: list[set[str]], num_perm: int) -> list:
    """datasketch MinHashes of many shingle sets (`MinHash.bulk`, seed 1, `shingle_hash32`
    as its hash function): the reference `signatures` equals."""
    from datasketch import MinHash

    encoded = [[s.encode("utf-8") for s in shingle_set] for shingle_set in sets]
    return MinHash.bulk(encoded, num_perm=num_perm, seed=MINHASH_SEED, hashfunc=_datasketch_hash)


def _datasketch_hash(data: bytes) -> int:
    """`shingle_hash32` of a shingle as datasketch hands it over (UTF-8 bytes)."""
    return shingle_hash32(data.decode("utf-8"))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which datasketch's "affine32" scheme applies to each
    input hash before its permutations (uint32 arithmetic wraps: that is the modulo)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _among(values: np.ndarray, few: np.ndarray) -> np.ndarray:
    """A mask of the `values` found in `few` (sorted, distinct: a handful)."""
    if not len(few):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(few, values), len(few) - 1)
    return few[at] == values


def _owned(values: np.ndarray, owner: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A 64-bit key of each of `rows`' (value, owner): equal only within one owner."""
    return _mix64(values[rows] ^ (owner[rows].astype(np.uint64) * _POLY))


def _token_hash(token: str) -> int:
    """A word's 64-bit hash: its CRC-32 and its length (deterministic in every process)."""
    return zlib.crc32(token.encode("utf-8")) | (len(token) << 32)


class _TokenHashes(dict):
    """word -> `_token_hash(word)`, computed the first time a word is seen."""

    def __missing__(self, token: str) -> int:
        value = self[token] = _token_hash(token)
        return value


_POLY = np.uint64(0x100000001B3)  # odd: the rolling combination loses no word


def _mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: every input bit moves every output bit."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def window_hashes(mixed: np.ndarray, width: int) -> np.ndarray:
    """The 64-bit hash of each window of `width` consecutive words, given their
    `_mix64(_token_hash(word))`: a rolling polynomial of the words, mixed again.
    Example: len(window_hashes(np.zeros(7, np.uint64), 5)) -> 3"""
    n = len(mixed) - width + 1
    acc = np.zeros(max(n, 0), dtype=np.uint64)
    for k in range(width):
        acc = acc * _POLY + mixed[k : k + n]
    return _mix64(acc)


def shingle_hash32(shingle: str) -> int:
    """The 32-bit hash MinHash takes of a shingle (its words joined by a space): the top
    half of `window_hashes` over its words. `Shingler.hashed_sets` computes the same
    without building the string. Example: shingle_hash32("a b") < 2**32"""
    words = shingle.split(" ")
    mixed = _mix64(np.fromiter(map(_token_hash, words), np.uint64, len(words)))
    return int(window_hashes(mixed, len(words))[0] >> np.uint64(32))


def _affine32(sets: list[set[str]], perms, init: np.ndarray) -> np.ndarray:
    """Signatures under datasketch's affine32 scheme with `shingle_hash32` as its hash
    function: min over a set of a * fmix32(shingle_hash32(s)) + b (the reference
    `Shingler.batch_signatures` equals: a Python call per shingle)."""
    sets = sets if isinstance(sets, list) else list(sets)
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    total = int(lengths.sum())
    flat = np.fromiter(map(shingle_hash32, _flat(sets)), dtype=np.uint32, count=total)
    return affine_minhash(_fmix32(flat), lengths, perms, init)


def _flat(sets: list[set[str]]):
    """Every shingle of every set, in order."""
    return [shingle for shingle_set in sets for shingle in shingle_set]


def affine_minhash(
    values: np.ndarray, lengths: np.ndarray, permutations, init: np.ndarray
) -> np.ndarray:
    """MinHash signatures of sets given as hash values: set i is the next `lengths[i]` of
    the uint32 `values`; row i is min over its values of a * v + b (uint32), or `init`
    for an empty set. The permutations and minima run vectorised in chunks of about
    16 MiB of hash values.

    Example: affine_minhash([3, 1], [2], ([1], [0]), [2**32 - 1]) -> [[1]]
    """
    num_perm = len(init)
    init = np.asarray(init, dtype=np.uint32)
    values = np.asarray(values, dtype=np.uint32)
    lengths = np.asarray(lengths, dtype=np.int64)
    a, b = (np.asarray(p, dtype=np.uint32).reshape(-1, 1) for p in permutations)
    starts = np.concatenate(([0], np.cumsum(lengths)))
    bounds = starts.tolist()
    out = np.empty((len(lengths), num_perm), dtype=np.uint32)
    out[:] = init
    step = max(1, (1 << 22) // max(1, num_perm))
    buffer = np.empty((num_perm, step), dtype=np.uint32)  # a * v + b, computed in place
    first, n = 0, len(lengths)
    while first < n:
        last = first + 1
        while last < n and bounds[last + 1] - bounds[first] <= step:
            last += 1
        lo, hi = bounds[first], bounds[last]
        if hi > lo:
            # one row per permutation: the minima run over contiguous memory (4x faster)
            phv = (
                buffer[:, : hi - lo]
                if hi - lo <= step
                else np.empty((num_perm, hi - lo), np.uint32)
            )
            np.multiply(a, values[lo:hi], out=phv)
            phv += b
            rows = np.arange(first, last)
            filled = rows[lengths[first:last] > 0]
            mins = np.minimum.reduceat(phv, starts[filled] - lo, axis=1)
            out[filled] = np.minimum(init, mins.T)
        first = last
    return out


_EMPTY32 = np.uint32(0xFFFFFFFF)  # an empty set's hash values (affine32's maximum)


@lru_cache(maxsize=16)
def permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) uint32 permutations of datasketch's `MinHash(num_perm, seed=1)` under its
    "affine32" scheme (datasketch >= 2.0), drawn here the way it draws them (numpy's
    `RandomState(1)`: a odd, b any), so a run never imports datasketch (and the scipy it
    brings: half a second) to get them; the tests hold them and `signatures` to datasketch.
    """
    gen = np.random.RandomState(MINHASH_SEED)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def signatures(sets: list[set[str]], num_perm: int) -> np.ndarray:
    """MinHash signatures (one row per set) equal to datasketch's `MinHash(num_perm, seed=1,
    hashfunc=...)` (affine32, its default scheme since 2.0) hashing each shingle with
    `shingle_hash32` (`minhashes`), computed for all sets at once.

    Example: signatures([{"a b"}], 4)[0] == minhashes([{"a b"}], 4)[0].hashvalues
    """
    return _affine32(sets, permutations(num_perm), np.full(num_perm, _EMPTY32, np.uint32))


# --- LSH ------------------------------------------------------------------------------


# What `MinHashLSH` chooses for the defaults' LSH thresholds (near duplicates 0.7 - 0.2,
# decontamination 0.7 * 0.6), which it takes about a second to integrate for.
KNOWN_LSH_PARAMS = {(0.5, 256): (42, 6), (0.42, 256): (51, 5)}


@lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) `MinHashLSH(threshold, num_perm)` chooses (it integrates for them,
    slowly, so once; the defaults' are known). Example: lsh_params(0.5, 256) -> (42, 6).
    """
    known = KNOWN_LSH_PARAMS.get((threshold, num_perm))
    if known is not None:
        return known
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def band_buckets(
    sigs: np.ndarray, threshold: float, num_perm: int, groups: np.ndarray | None = None
) -> list[np.ndarray]:
    """Per LSH band (datasketch's bands and rows for `threshold`), each row's bucket number:
    two rows share a bucket exactly when their band values (and `groups` value) are equal,
    which is when datasketch's `MinHashLSH` returns one for the other.

    `threshold` is capped at 0.9 (datasketch needs two bands; candidates are confirmed with
    exact Jaccard, so a lower one only adds recall).
    """
    bands, rows = lsh_params(round(min(threshold, 0.9), 2), num_perm)
    out = []
    for band in range(bands):
        block = sigs[:, band * rows : (band + 1) * rows].astype(np.uint64)
        if groups is not None:
            block = np.column_stack([groups.astype(np.uint64), block])
        # One 64-bit mix per row sorts fast; rows are then compared with their bucket's
        # first row, and a (never seen) collision falls back to sorting the rows themselves.
        mixed = _mix(block)
        _, first, inverse = np.unique(mixed, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        if not (block == block[first[inverse]]).all():
            _, inverse = np.unique(block, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
        out.append(inverse)
    return out


class _Listed:
    """A list of pairs as the chain's sources look (iterable again, `fetch` by id)."""

    def __init__(self, pairs: list[Pair]):
        self.items = pairs
        self.by_id = {p.id: p for p in pairs}

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def fetch(self, pair_ids: Iterable[str]) -> dict[str, Pair]:
        return {i: self.by_id[i] for i in pair_ids}


class _FetchedSets:
    """`sets[i]`: the shingle set of the i-th pair of `ids`, its pair read from `source`
    when not among the recent sets; `want` reads the missing ones of many in one go."""

    def __init__(self, shingler: Shingler, source, ids: list[str], size: int = 4096):
        self.shingler, self.source, self.ids, self.size = shingler, source, ids, size
        self._sets: dict[int, set[str]] = {}

    def want(self, rows: Iterable[int]) -> None:
        missing = [i for i in rows if i not in self._sets]
        if not missing:
            return
        found = self.source.fetch([self.ids[i] for i in missing])
        for i in missing:
            if len(self._sets) >= self.size:
                self._sets.pop(next(iter(self._sets)))
            self._sets[i] = self.shingler.shingles_of(found[self.ids[i]])

    def __getitem__(self, i: int) -> set[str]:
        if i not in self._sets:
            self.want([i])
        return self._sets[i]


def near_duplicate_groups(
    pairs,
    threshold: float = 0.7,
    num_perm: int = 256,
    size: int = 5,
    scope: str = "task",
) -> dict[str, str]:
    """Pair id -> id of the kept pair it nearly duplicates (LSH candidates, exact Jaccard confirms).

    Pairs are visited in preference order; each is compared with the pairs kept so far
    (of the same task when `scope` is "task"). LSH looks for candidates 0.2 below the
    threshold: at the threshold itself it finds only about half of the true pairs.

    `pairs` is a list or a source the chain gives (iterable again, `fetch` by id): the
    instruction shingle frequencies, ranks and tasks come from its `DedupFacts` (gathered
    by the chain's per-pair pass, or one pass here), then one pass computes signatures a
    batch at a time, each reduced at once to its LSH band keys (in forked workers where
    `map_batches` can), and the pairs that share a bucket are read again by id, once each,
    for the exact Jaccard (`_shingle_hashes`). Memory holds the ids as a bytes column, the
    bucket numbers of the rows that share a bucket (`_BandKeys`: the band keys wait on
    disk, a band read back at a time) and those rows' shingle hashes, not texts, nor a key
    of every row.
    """
    source = pairs if hasattr(pairs, "fetch") else _Listed(list(pairs))
    facts, alive = dedup_facts(source, size)
    if not alive.any():
        return {}
    frequency = facts.frequency.copy()
    if not alive.all():  # rows dropped since the facts were read: their instructions leave
        dropped = [_id(i) for i in facts.ids[~alive].tolist()]
        for chunk in range(0, len(dropped), 4096):
            found = source.fetch(dropped[chunk : chunk + 4096])
            for pair in found.values():
                frequency.add_hashes(instruction_hashes(pair, size), -1)
    shingler = Shingler([], size, common=frequency.common())
    del frequency
    bands, rows = lsh_params(round(min(max(0.1, threshold - 0.2), 0.9), 2), num_perm)
    groups = facts.tasks if scope == "task" else dict.fromkeys(facts.tasks, 0)
    id_parts: list[np.ndarray] = []
    with _BandKeys(bands, _spill_folder(source)) as keys:

        def into(start: int, batch_keys: np.ndarray, batch_ids: np.ndarray) -> None:
            keys.add(start, batch_keys)
            id_parts.append(batch_ids)

        n = int(alive.sum())
        shingler.band_keys(source, n, num_perm, bands, rows, groups, into=into)
        ids = np.concatenate(id_parts)  # in the source's order (that of the band keys)
        id_parts.clear()
        # each row's rank, from the facts (in the order of their pass)
        known = facts.ids[alive]
        by_id = np.argsort(known)
        ranks = facts.ranks[alive][by_id[np.searchsorted(known, ids, sorter=by_id)]]
        del known, by_id
        order = np.lexsort((ids, ranks))  # `preference`
        at = np.empty(len(order), dtype=np.int64)
        at[order] = np.arange(len(order))  # a row of the source -> its place in that order
        shared = keys.shared(at)
    ordered = ids[order]
    del ids, order, at, ranks
    sets = _shingle_hashes(shingler, source, ordered, np.unique(shared[0]))

    def match(i: int, candidates: set[int]) -> int | None:
        mine = sets[i]
        return next(
            (
                o
                for o in sorted(candidates, key=ordered.__getitem__)
                if _hashed_jaccard(mine, sets[o]) >= threshold
            ),
            None,
        )

    dropped = _greedy(*shared, bands, match)
    return {_id(ordered[i]): _id(ordered[o]) for i, o in dropped.items()}


def _spill_folder(source) -> str | None:
    """Where a source's band keys wait: beside its store (local disk), else the temp dir."""
    found = stored(source)
    return None if found is None else str(Path(found[0].path).parent)


class _BandKeys:
    """The LSH band keys of many rows (`Shingler.band_keys(into=add)`), kept band-major in
    an unlinked temporary file, `chunk` rows a block, so memory holds one block and then
    one band at a time, never n x bands keys; `shared` reduces them to the bucket numbers
    of the rows that share a bucket."""

    def __init__(self, bands: int, folder: str | None = None, chunk: int = 16384):
        self.bands, self.chunk = bands, chunk
        self.file = tempfile.TemporaryFile(dir=folder)
        self.blocks: list[tuple[int, int]] = []  # (offset, rows) of each block
        self.pending: list[np.ndarray] = []
        self.n = self.offset = 0

    def __enter__(self) -> _BandKeys:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def add(self, start: int, keys: np.ndarray) -> None:
        """The keys (rows x bands) of the rows from `start`, which must follow the last."""
        assert start == self.n, "band keys come in order"
        self.pending.append(keys)
        self.n += len(keys)
        if sum(map(len, self.pending)) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        block = np.ascontiguousarray(np.concatenate(self.pending).T)  # bands x rows
        self.pending = []
        self.file.write(memoryview(block).cast("B"))
        self.blocks.append((self.offset, block.shape[1]))
        self.offset += block.nbytes

    def band(self, band: int) -> np.ndarray:
        """Every row's key of one band."""
        self._flush()
        out = np.empty(self.n, dtype=np.uint64)
        at = 0
        for offset, rows in self.blocks:
            self.file.seek(offset + band * rows * 8)
            if self.file.readinto(out[at : at + rows]) != rows * 8:
                raise OSError("the band keys' temporary file was cut short")
            at += rows
        return out

    def shared(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, band, bucket) of every row that shares its bucket of a band with another
        row, sorted by row then band; rows are renumbered by `at` (a row -> its place)."""
        buckets = (
            np.unique(self.band(band), return_inverse=True)[1].reshape(-1)
            for band in range(self.bands)
        )
        return _sharing(buckets, at)


def _shingle_hashes(
    shingler: Shingler, source, ids: np.ndarray, rows: np.ndarray, chunk: int = 4096
) -> dict[int, np.ndarray]:
    """Row -> the sorted distinct 64-bit hashes of its shingle set (`Shingler.hashed_sets`),
    for `rows` (of `ids`, an `_ids` column), read from `source` by id once each, in id
    order, a chunk at a time (in forked workers where `map_fetched` can): the rows that
    share an LSH bucket, the only ones the greedy pass compares (a few in ten). Hashes, not
    texts, stay in memory: about as much as their MinHash signatures would take. A 64-bit
    collision between two of a pair's shingles is not expected (the band keys make the
    same assumption)."""
    wanted = rows[np.argsort(ids[rows], kind="stable")].tolist()
    parts = [wanted[start : start + chunk] for start in range(0, len(wanted), chunk)]

    def work(found: dict) -> dict[str, np.ndarray]:
        names = list(found)
        values, lengths = shingler.hashed_sets([found[name] for name in names])
        parts = np.split(values, np.cumsum(lengths)[:-1])
        return {name: np.unique(part) for name, part in zip(names, parts, strict=True)}

    out: dict[int, np.ndarray] = {}
    chunks = [[_id(ids[row]) for row in part] for part in parts]
    for part, names, hashed in zip(parts, chunks, map_fetched(source, chunks, work), strict=True):
        for row, name in zip(part, names, strict=True):
            out[row] = hashed[name]
    shingler._tokens.clear()
    return out


def _hashed_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """`jaccard` of two sets given as their sorted distinct hashes."""
    if not len(a) and not len(b):
        return 1.0
    both = len(np.intersect1d(a, b, assume_unique=True))
    return both / (len(a) + len(b) - both)


def greedy_near_duplicates(
    buckets: list[np.ndarray], match: Callable[[int, set[int]], int | None]
) -> dict[int, int]:
    """Row -> the kept row it nearly duplicates, rows visited in their order (0, 1, ...).

    `buckets` are `band_buckets`' per-band bucket numbers; each row's candidates are the
    rows kept so far that share a bucket with it in some band, and `match(row, candidates)`
    names the one it duplicates (or None: the row is kept). A row never points at a
    dropped one. Example: rows 0, 1, 2 all alike -> {1: 0, 2: 0}.
    """
    return _greedy(*_sharing(buckets), len(buckets), match)


def _sharing(
    buckets: Iterable[np.ndarray], at: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, band, bucket) of every row that shares its bucket of a band with another row,
    given each band's bucket numbers in turn; sorted by row then band, rows renumbered by
    `at` (a row -> its place) when given."""
    found = [(np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0, np.int64))]
    for band, bucket in enumerate(buckets):
        rows = np.flatnonzero(np.bincount(bucket)[bucket] > 1)
        found.append(
            (rows if at is None else at[rows], np.full(len(rows), band, np.int16), bucket[rows])
        )
    rows, bands, keys = (np.concatenate(c) for c in zip(*found, strict=True))
    by = np.lexsort((bands, rows))
    return rows[by], bands[by], keys[by]


def _greedy(
    rows: np.ndarray,
    bands: np.ndarray,
    buckets: np.ndarray,
    band_count: int,
    match: Callable[[int, set[int]], int | None],
    chunk: int = 1 << 16,
) -> dict[int, int]:
    """`greedy_near_duplicates` over (row, band, bucket) of the rows that share a bucket,
    sorted by row then band (`_BandKeys.shared`). A row alone in its bucket in every band
    has no LSH candidate and none has it: kept without a look (most rows), and not listed.
    Memory holds the kept rows' tables; the triples become Python values a chunk at a time."""
    tables: list[dict[int, list[int]]] = [{} for _ in range(band_count)]
    dropped: dict[int, int] = {}
    if not len(rows):
        return dropped
    starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    ends = np.append(starts[1:], len(rows))
    for first in range(0, len(starts), chunk):
        lo, hi = int(starts[first]), int(ends[min(first + chunk, len(starts)) - 1])
        row_list = rows[lo:hi].tolist()
        band_list, key_list = bands[lo:hi].tolist(), buckets[lo:hi].tolist()
        edges = (starts[first : first + chunk] - lo).tolist() + [hi - lo]
        for a, b in zip(edges, edges[1:], strict=False):
            i = row_list[a]
            candidates: set[int] = set()
            for k in range(a, b):
                found = tables[band_list[k]].get(key_list[k])
                if found:
                    candidates.update(found)
            kept = match(i, candidates) if candidates else None
            if kept is not None:
                dropped[i] = kept
            else:
                for k in range(a, b):
                    tables[band_list[k]].setdefault(key_list[k], []).append(i)
    return dropped


@register(
    "near_duplicate",
    "MinHash LSH near-duplicates (word 5-grams, Jaccard); one kept",
    ("near_dup_threshold", "num_perm", "shingle_size", "near_dup_scope"),
    on_set=True,
)
def near_duplicate(pairs: list[Pair], ctx: Context) -> dict[str, str]:
    cfg = ctx.config
    groups = near_duplicate_groups(
        pairs, cfg.near_dup_threshold, cfg.num_perm, cfg.shingle_size, cfg.near_dup_scope
    )
    return {
        pid: f"near-duplicate (Jaccard >= {cfg.near_dup_threshold}) of {kept}"
        for pid, kept in groups.items()
    }
