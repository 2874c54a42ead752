"""Set filters: exact duplicates, conflicts, and MinHash LSH near-duplicates.

Each keeps one pair of a group deterministically: template pairs over output-first over
evol, then the smallest id (`preference`).

Near-duplicates use datasketch's MinHash and MinHashLSH through their public API, on a
vectorised path: `signatures` computes, for all pairs at once, exactly the hash values
of `MinHash(num_perm, seed=1)` updated with each pair's shingles (its permutations are
read from a public `MinHash`, and a first call checks the result against one, falling
back to `MinHash.bulk` if they ever differ); `band_buckets` puts rows in the buckets of
the bands and rows that `MinHashLSH(threshold, num_perm)` chooses, so two pairs share a
bucket exactly when that index would return one for the other. The tests hold both to
datasketch itself.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from hashlib import sha1
from struct import unpack_from

import numpy as np

from dataprep import procs
from dataprep.filters.core import WORD_RE, Context, normalize, preference, register
from dataprep.models import Pair

MINHASH_SEED = 1


@register(
    "exact_duplicate",
    "same instruction, input and output (whitespace-normalised); one kept",
    on_set=True,
)
def exact_duplicate(pairs: list[Pair], ctx: Context) -> dict[str, str]:
    seen: dict[str, Pair] = {}
    dropped: dict[str, str] = {}
    for pair in sorted(pairs, key=preference):
        key = "\x00".join(normalize(x) for x in (pair.instruction, pair.input, pair.output))
        if key in seen:
            dropped[pair.id] = f"exact duplicate of {seen[key].id}"
        else:
            seen[key] = pair
    return dropped


@register(
    "conflict",
    "same instruction and input with different outputs: all of them dropped",
    on_set=True,
)
def conflict(pairs: list[Pair], ctx: Context) -> dict[str, str]:
    groups: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        groups[normalize(pair.instruction) + "\x00" + normalize(pair.input)].append(pair)
    dropped: dict[str, str] = {}
    for group in groups.values():
        outputs = {normalize(p.output) for p in group}
        if len(outputs) > 1:
            for pair in group:
                others = sorted(p.id for p in group if p.id != pair.id)
                dropped[pair.id] = (
                    f"conflict: same instruction and input as {len(others)} other pair(s) with "
                    f"different outputs ({', '.join(others[:3])})"
                )
    return dropped


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
    if text.isascii():  # lower-casing ASCII moves no word boundary: one pass in C
        return WORD_RE.findall(text.lower())
    return [w.lower() for w in WORD_RE.findall(text)]


def _grams(words: list[str], size: int) -> set[str]:
    """`shingles` over a word list already split and lower-cased."""
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


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

    def __init__(self, pairs: list[Pair], size: int = 5, max_df: float = 0.01, min_df: int = 5):
        self.pairs, self.size = pairs, size
        # document frequency of instruction shingles, counted over their hashes
        hashed = [
            np.fromiter({hash(sh) for sh in _grams(_words(p.instruction), size)}, dtype=np.int64)
            for p in pairs
        ]
        values, counts = np.unique(
            np.concatenate(hashed) if hashed else np.zeros(0), return_counts=True
        )
        limit = max(min_df, max_df * len(pairs))
        self.common = set(values[counts > limit].tolist())
        self._memo: dict[tuple[str, str], tuple[list[str], set[str]]] = {}

    def shingles(self, i: int) -> set[str]:
        """The shingle set of pair `i`."""
        pair, size = self.pairs[i], self.size
        wi = _words(pair.instruction)
        a = _grams(wi, size)
        key = (pair.input, pair.output)
        if key not in self._memo:
            if len(self._memo) > 4096:
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
            global _FORKED
            _FORKED = self
            try:
                with procs.process_pool(workers) as pool:
                    parts = list(pool.map(_forked_signatures, spans))
            finally:
                _FORKED = None
        else:
            parts = [self._signatures(span) for span in spans]
        self._memo.clear()
        return np.concatenate(parts)

    def _signatures(self, span: tuple[int, int, int]) -> np.ndarray:
        start, end, num_perm = span
        return signatures([self.shingles(i) for i in range(start, end)], num_perm)


_FORKED: Shingler | None = None  # the Shingler forked workers compute for


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
    """datasketch MinHashes of many shingle sets (`MinHash.bulk`, seed 1): the reference
    `signatures` equals, and its fallback."""
    from datasketch import MinHash

    encoded = [[s.encode("utf-8") for s in shingle_set] for shingle_set in sets]
    return MinHash.bulk(encoded, num_perm=num_perm, seed=MINHASH_SEED)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which datasketch's "affine32" scheme applies to each
    input hash before its permutations (uint32 arithmetic wraps: that is the modulo)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _sha1_32(shingle: str) -> int:
    """datasketch's default hash (`sha1_hash32`): the first 4 bytes of SHA-1, little-endian."""
    return unpack_from("<I", sha1(shingle.encode("utf-8")).digest())[0]


def _affine32(sets: list[set[str]], permutations, init: np.ndarray) -> np.ndarray:
    """Signatures under the affine32 scheme: min over a set of a * fmix32(sha1_32(s)) + b.

    Every distinct shingle is hashed once (`affine_minhash` does the rest).
    """
    codes = {sh: i for i, sh in enumerate(set().union(*sets))}
    flat: list[int] = []
    for shingle_set in sets:
        flat.extend(map(codes.__getitem__, shingle_set))
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    base = _fmix32(np.fromiter(map(_sha1_32, codes), dtype=np.uint32, count=len(codes)))
    return affine_minhash(base[np.asarray(flat, dtype=np.int64)], lengths, permutations, init)


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
    a, b = (np.asarray(p, dtype=np.uint32) for p in permutations)
    starts = np.concatenate(([0], np.cumsum(lengths)))
    out = np.empty((len(lengths), num_perm), dtype=np.uint32)
    out[:] = init
    step = max(1, (1 << 22) // max(1, num_perm))
    first = 0
    while first < len(lengths):
        last = first + 1
        while last < len(lengths) and starts[last + 1] - starts[first] <= step:
            last += 1
        lo, hi = starts[first], starts[last]
        if hi > lo:
            # one row per permutation: the minima run over contiguous memory (4x faster)
            phv = a.reshape(-1, 1) * values[lo:hi] + b.reshape(-1, 1)
            rows = np.arange(first, last)
            filled = rows[lengths[first:last] > 0]
            mins = np.minimum.reduceat(phv, starts[filled] - lo, axis=1)
            out[filled] = np.minimum(init, mins.T)
        first = last
    return out


@lru_cache(maxsize=16)
def _prototype(num_perm: int):
    """A public MinHash(num_perm, seed=1) whose permutations the fast path uses, or None
    when that path does not reproduce datasketch (another scheme or hash function)."""
    from datasketch import MinHash

    proto = MinHash(num_perm=num_perm, seed=MINHASH_SEED)
    if getattr(proto, "scheme", "legacy") != "affine32":  # datasketch < 2.0: legacy only
        return None
    sample = {"public int capacity", "int capacity int guests", "é ü"}
    check = MinHash(num_perm=num_perm, seed=MINHASH_SEED)
    check.update_batch([s.encode("utf-8") for s in sample])
    got = _affine32([sample, set()], proto.permutations, proto.hashvalues)
    same = got[0].tolist() == check.hashvalues.tolist()
    return proto if same and got[1].tolist() == proto.hashvalues.tolist() else None


def signatures(sets: list[set[str]], num_perm: int) -> np.ndarray:
    """MinHash signatures (one row per set) equal to datasketch's `MinHash(num_perm, seed=1)`
    updated with each set's UTF-8 shingles, computed for all sets at once.

    Example: signatures([{"a b"}], 4)[0] == MinHash(4, seed=1) after update(b"a b").
    """
    proto = _prototype(num_perm)
    if proto is None:
        hashes = minhashes(sets, num_perm)
        return np.array([m.hashvalues for m in hashes]).reshape(len(sets), num_perm)
    return _affine32(sets, proto.permutations, proto.hashvalues)


# --- LSH ------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) `MinHashLSH(threshold, num_perm)` chooses (it integrates for them,
    slowly, so once). Example: lsh_params(0.5, 256) -> (bands, rows) with bands * rows <= 256.
    """
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
        mixed = np.zeros(len(block), dtype=np.uint64)
        for column in block.T:
            mixed = (mixed ^ column) * np.uint64(0x9E3779B97F4A7C15)
            mixed ^= mixed >> np.uint64(29)
        _, first, inverse = np.unique(mixed, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        if not (block == block[first[inverse]]).all():
            _, inverse = np.unique(block, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
        out.append(inverse)
    return out


class _SetCache:
    """`cache[i]`: pair i's shingle set, recomputed when not among the recent ones (the
    greedy pass looks at few pairs, and each one's candidates are few)."""

    def __init__(self, shingler: Shingler, size: int = 8192):
        self.shingler, self.size = shingler, size
        self._sets: dict[int, set[str]] = {}

    def __getitem__(self, i: int) -> set[str]:
        found = self._sets.get(i)
        if found is None:
            if len(self._sets) >= self.size:
                self._sets.pop(next(iter(self._sets)))
            found = self._sets[i] = self.shingler.shingles(i)
        return found


def near_duplicate_groups(
    pairs: list[Pair],
    threshold: float = 0.7,
    num_perm: int = 256,
    size: int = 5,
    scope: str = "task",
) -> dict[str, str]:
    """Pair id -> id of the kept pair it nearly duplicates (LSH candidates, exact Jaccard confirms).

    Pairs are visited in preference order; each is compared with the pairs kept so far
    (of the same task when `scope` is "task"). LSH looks for candidates 0.2 below the
    threshold: at the threshold itself it finds only about half of the true pairs.
    """
    ordered = sorted(pairs, key=preference)
    if not ordered:
        return {}
    shingler = Shingler(ordered, size)
    sets = _SetCache(shingler)
    scopes: dict[str, int] = {}
    groups = np.array(
        [scopes.setdefault(p.task if scope == "task" else "", len(scopes)) for p in ordered],
        dtype=np.int64,
    )
    sigs = shingler.signatures(num_perm)
    buckets = band_buckets(sigs, max(0.1, threshold - 0.2), num_perm, groups)
    del sigs

    def match(i: int, candidates: set[int]) -> int | None:
        return next(
            (
                o
                for o in sorted(candidates, key=lambda o: ordered[o].id)
                if jaccard(sets[i], sets[o]) >= threshold
            ),
            None,
        )

    return {ordered[i].id: ordered[o].id for i, o in greedy_near_duplicates(buckets, match).items()}


def greedy_near_duplicates(
    buckets: list[np.ndarray], match: Callable[[int, set[int]], int | None]
) -> dict[int, int]:
    """Row -> the kept row it nearly duplicates, rows visited in their order (0, 1, ...).

    `buckets` are `band_buckets`' per-band bucket numbers; each row's candidates are the
    rows kept so far that share a bucket with it in some band, and `match(row, candidates)`
    names the one it duplicates (or None: the row is kept). A row never points at a
    dropped one. Example: rows 0, 1, 2 all alike -> {1: 0, 2: 0}.
    """
    # A row alone in its bucket in every band has no LSH candidate and none has it: kept
    # without a look (most rows). The others go through the greedy pass in order.
    shared = np.zeros(len(buckets[0]) if buckets else 0, dtype=bool)
    for bucket in buckets:
        shared |= np.bincount(bucket)[bucket] > 1
    tables: list[dict[int, list[int]]] = [{} for _ in buckets]
    columns = [bucket.tolist() for bucket in buckets]
    dropped: dict[int, int] = {}
    for i in np.flatnonzero(shared).tolist():
        candidates: set[int] = set()
        for table, column in zip(tables, columns, strict=True):
            found = table.get(column[i])
            if found:
                candidates.update(found)
        kept = match(i, candidates) if candidates else None
        if kept is not None:
            dropped[i] = kept
        else:
            for table, column in zip(tables, columns, strict=True):
                table.setdefault(column[i], []).append(i)
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
