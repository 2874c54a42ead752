"""Cross-source unit dedup: exact and MinHash near-duplicate units, before any pair is made.

Forks and vendored copies repeat units across repositories; dropping them before
generation saves their LLM calls and keeps one copy of each in the dataset. Two passes:

1. exact duplicates: units whose code is equal once whitespace is collapsed (a 128-bit
   hash of it);
2. near-duplicates over code shingles, token 5-grams where a token is an identifier, a
   number or one punctuation character (no English tokenizer: `a.b(c)` is six tokens).
   Each shingle is hashed to 32 bits (token hashes combined in a rolling polynomial, all
   in numpy: no shingle string is built). MinHash signatures (`affine_minhash`, the pair
   filter's vectorised MinHash) go through LSH bands (`band_buckets`) 0.25 below the
   threshold to propose candidates, and a candidate counts only when its Jaccard,
   computed on the two units' bottom-k sketches (the k smallest shingle hashes: exact for
   units of up to k shingles, a low-variance estimate beyond), reaches the threshold.
   The MinHash estimate alone errs by about 0.02 at 256 permutations: enough to drop
   pairs at 0.83 and keep pairs at 0.87.

The copy kept is the one with the smallest canonical key (source priority, source URL,
path, unit id), whatever the order or batching of the input: units are visited in key
order and each is compared with the units kept before it (`greedy_near_duplicates`, the
pair filter's pass). Only hashes are held, never the code: at most (128 + 256) x 4 bytes
per distinct unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b
from itertools import islice

import numpy as np

from dataprep.filters.core import normalize
from dataprep.filters.dedup import (
    _grams,
    _mix64,
    _TokenHashes,
    affine_minhash,
    band_buckets,
    greedy_near_duplicates,
    window_hashes,
)

NUM_PERM = 128
SKETCH = 256
SHINGLE_SIZE = 5
CODE_TOKEN_RE = re.compile(r"[\w$]+|[^\w\s]")
_U32_MAX = np.iinfo(np.uint32).max


@dataclass(frozen=True)
class UnitRef:
    """What dedup needs of a unit: its canonical key, its id and the code compared."""

    key: tuple
    """(source priority, source url, path, unit id): the smallest of a cluster is kept."""
    unit_id: str
    code: str


def code_tokens(code: str) -> list[str]:
    """Identifiers, numbers and single punctuation characters.

    Example: code_tokens("return a.b(c);") -> ["return", "a", ".", "b", "(", "c", ")", ";"]
    """
    return CODE_TOKEN_RE.findall(code)


def code_shingles(code: str, size: int = SHINGLE_SIZE) -> set[str]:
    """Token n-grams of code (a shorter text is one shingle); `shingle_hashes` hashes them.

    Example: code_shingles("f(x);", 3) -> {"f ( x", "( x )", "x ) ;"}
    """
    return _grams(code_tokens(code), size)


def exact_key(code: str) -> bytes:
    """The hash that makes two units exact duplicates: whitespace-collapsed code."""
    return blake2b(normalize(code).encode("utf-8"), digest_size=16).digest()


def shingle_hashes(
    code: str, size: int = SHINGLE_SIZE, cache: _TokenHashes | None = None
) -> np.ndarray:
    """The sorted distinct 32-bit hashes of `code_shingles(code, size)`; `cache` keeps
    token hashes between calls (a batch's, dropped by the caller).

    Example: len(shingle_hashes("f(x);", 3)) -> 3
    """
    tokens = code_tokens(code)
    if not tokens:
        return np.zeros(0, dtype=np.uint32)
    cache = _TokenHashes() if cache is None else cache
    hashes = np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    hashed = window_hashes(_mix64(hashes), min(size, len(hashes)))
    return np.unique((hashed >> np.uint64(32)).astype(np.uint32))


def sketch_jaccard(a: np.ndarray, b: np.ndarray, k: int = SKETCH) -> float:
    """Jaccard of two sets from their bottom-k sketches (sorted, the k smallest hashes):
    exact when both hold under k hashes; otherwise counted over the hashes below the
    smaller of the full sketches' largest, where both sketches are complete.

    Example: sketch_jaccard([1, 2, 3], [2, 3, 4, 5]) -> 0.4
    """
    a, b = np.asarray(a), np.asarray(b)
    top = min(x[-1] if len(x) >= k else _U32_MAX for x in (a, b))
    a, b = a[a <= top], b[b <= top]
    union = len(np.union1d(a, b))
    return len(np.intersect1d(a, b, assume_unique=True)) / union if union else 1.0


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    a = rng.integers(1, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def minhash_signatures(hash_sets: list[np.ndarray], num_perm: int = NUM_PERM) -> np.ndarray:
    """MinHash signatures (one row per set of 32-bit shingle hashes), seeded: the same
    sets give the same rows in every process."""
    lengths = np.fromiter(map(len, hash_sets), dtype=np.int64, count=len(hash_sets))
    values = np.concatenate(hash_sets) if hash_sets else np.zeros(0, dtype=np.uint32)
    init = np.full(num_perm, _U32_MAX, dtype=np.uint32)
    return affine_minhash(values, lengths, _permutations(num_perm), init)


def find_duplicates(
    units: Iterable[UnitRef],
    threshold: float = 0.85,
    *,
    num_perm: int = NUM_PERM,
    size: int = SHINGLE_SIZE,
    batch: int = 1024,
) -> dict[str, str]:
    """unit_id of each dropped copy -> unit_id of the copy kept.

    `units` is read once, `batch` units at a time. Example: three units with the same code
    (keys k1 < k2 < k3) -> {id2: id1, id3: id1}.
    """
    index = _Index(num_perm, size)
    for chunk in _batched(units, batch):
        index.add(chunk)
    return index.resolve(threshold)


def _batched(items: Iterable[UnitRef], n: int) -> Iterator[list[UnitRef]]:
    it = iter(items)
    while chunk := list(islice(it, n)):
        yield chunk


class _Index:
    """Distinct texts ("slots"): each one's smallest key and id, and its signature; the
    ids of the exact copies that lost to a smaller key."""

    def __init__(self, num_perm: int, size: int):
        self.num_perm, self.size = num_perm, size
        self.slot_of: dict[bytes, int] = {}
        self.keys: list[tuple] = []
        self.ids: list[str] = []
        self.copies: list[tuple[int, str]] = []  # (slot, unit id of an exact copy dropped)
        self.sigs: list[np.ndarray] = []
        self.sketches: list[np.ndarray] = []

    def add(self, units: list[UnitRef]) -> None:
        fresh: list[np.ndarray] = []
        tokens = _TokenHashes()
        for unit in units:
            digest = exact_key(unit.code)
            slot = self.slot_of.get(digest)
            if slot is None:
                self.slot_of[digest] = len(self.keys)
                self.keys.append(unit.key)
                self.ids.append(unit.unit_id)
                fresh.append(shingle_hashes(unit.code, self.size, tokens))
                self.sketches.append(fresh[-1][:SKETCH].copy())
            elif unit.unit_id == self.ids[slot]:
                continue  # the same unit given twice
            elif unit.key < self.keys[slot]:
                self.copies.append((slot, self.ids[slot]))
                self.keys[slot], self.ids[slot] = unit.key, unit.unit_id
            else:
                self.copies.append((slot, unit.unit_id))
        if fresh:
            self.sigs.append(minhash_signatures(fresh, self.num_perm))

    def resolve(self, threshold: float) -> dict[str, str]:
        if not self.keys:
            return {}
        order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        sigs = np.concatenate(self.sigs)[order]
        self.sigs = []
        buckets = band_buckets(sigs, max(0.1, threshold - 0.25), self.num_perm)
        del sigs
        sketches = [self.sketches[slot] for slot in order]
        self.sketches = []

        def match(i: int, candidates: set[int]) -> int | None:
            return next(
                (
                    o
                    for o in sorted(candidates)
                    if sketch_jaccard(sketches[i], sketches[o]) >= threshold
                ),
                None,
            )

        near = greedy_near_duplicates(buckets, match)
        # slot -> slot of the copy kept (itself when kept)
        keeper = np.asarray(order)
        rank = np.empty(len(order), dtype=np.int64)
        rank[keeper] = np.arange(len(order))
        kept_slot = keeper.copy()
        for row, kept_row in near.items():
            kept_slot[row] = keeper[kept_row]
        dropped = {self.ids[keeper[row]]: self.ids[keeper[k]] for row, k in near.items()}
        for slot, unit_id in self.copies:
            dropped[unit_id] = self.ids[kept_slot[rank[slot]]]
        return dropped


def unit_text(kind: str, qualified_name: str, code: str) -> str:
    """What dedup compares: the code, with the kind and the qualified name (a file header's
    is its path: its file name only), so one-line getters of unrelated classes stay apart
    and a vendored copy of a file at another path is still a copy."""
    name = qualified_name.rsplit("/", 1)[-1] if kind == "file" else qualified_name
    return f"{kind} {name}\n{code}"
