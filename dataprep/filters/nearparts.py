"""Near-duplicate signatures in parts, made by the chain's per-pair pass as it reads the
pairs it keeps, so that the near-duplicate filter reads no pair again.

A pair's shingle set (`Shingler.shingles_of`) is its shingles less its instruction's
boilerplate: the instruction's shingles found in many instructions
(`InstructionFrequency.common`) and not in its input or output, known only once every
pair was seen. A MinHash of a union is the element-wise minimum of the MinHashes of its
parts, so a pair's set is split in two (`Shingler.parts_of`): `rest`, its shingles that
can never be boilerplate, of which the pass keeps the signature (of its input and
output's shingles and of the few others, each hashed as they are, not copied into one
set) and the Python hashes; and its instruction's other shingles, of which it keeps the
SHA-1 value MinHash reads (`_sha1_32`) and the Python hash `common` holds. The
near-duplicate filter takes the boilerplate out of those and adds the others to
`rest`'s signature (`NearParts.band_keys`) and hashes (`NearParts.shingle_hashes`):
equal to `signatures` and `_shingle_hashes` of `Shingler.shingles_of` (the tests hold
that).

The signatures (num_perm values of 4 bytes a pair) and hashes wait in unlinked temporary
files beside the store, read back a chunk of rows or a row at a time (not mapped: their
pages would count as the process's memory); memory holds the instruction shingles' values
(12 bytes each).

Example: parts = NearParts(5, 256); parts.add(batch_parts(pairs, 5, 256)[0]); parts.done()
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Callable
from itertools import chain

import numpy as np

from dataprep.filters.dedup import (
    Shingler,
    _fmix32,
    _prototype,
    _sha1_32_all,
    affine_minhash,
    band_keys_of,
    signatures,
)

CHUNK = 1024  # rows whose band keys are made at a time (a few MB of signatures)


def batch_parts(batch: list, size: int, num_perm: int) -> tuple[tuple, list[set[str]]]:
    """The parts of a batch of pairs (`NearParts.add`): their `rest` signatures (rows x
    num_perm, uint32), `rest` Python hashes (concatenated) and counts, and their
    instruction shingles' SHA-1 values and Python hashes (concatenated) and counts; and
    each pair's instruction shingles (`fact_columns` counts them too)."""
    shingler = Shingler([], size, common=set())
    pieces: list = []  # each pair's `shared` and `extra` (`Shingler.parts_of`)
    own: list[str] = []
    counts = array("q")
    grams = []
    for pair in batch:
        shared, extra, mine, a = shingler.parts_of(pair)
        pieces.append(shared)
        pieces.append(extra)
        own.extend(mine)
        counts.append(len(mine))
        grams.append(a)
    sizes = np.fromiter(map(len, pieces), np.int64, len(pieces))
    total = int(sizes.sum())
    rest_hashes = np.fromiter(map(hash, chain.from_iterable(pieces)), np.int64, total)
    if pieces:  # a MinHash of a union: the minimum of its parts'
        sigs = signatures(pieces, num_perm)
        sigs = np.minimum(sigs[0::2], sigs[1::2])
    else:
        sigs = np.zeros((0, num_perm), np.uint32)
    part = (
        np.ascontiguousarray(sigs, dtype=np.uint32),
        rest_hashes,
        sizes[0::2] + sizes[1::2],
        _sha1_32_all(own, len(own)),
        np.fromiter(map(hash, own), np.int64, len(own)),
        np.frombuffer(counts, dtype=np.int64).copy(),
    )
    return part, grams


class NearParts:
    """The parts of many pairs' shingle sets (`batch_parts`), in the order added: what the
    near-duplicate filter reads instead of the pairs (`band_keys`, `shingle_hashes`)."""

    def __init__(self, size: int, num_perm: int, folder: str | None = None):
        self.size, self.num_perm, self.n = size, num_perm, 0
        self._sigs = tempfile.TemporaryFile(dir=folder)
        self._hashes = tempfile.TemporaryFile(dir=folder)
        self._columns: list[list[np.ndarray]] = [[] for _ in range(4)]
        self._keep: tuple[int, np.ndarray] | None = None  # (id of common, its keep mask)

    def fits(self, size: int, num_perm: int) -> bool:
        """Whether these parts are of sets of this shingle size and signatures this long."""
        return (size, num_perm) == (self.size, self.num_perm)

    def add(self, part: tuple) -> None:
        sigs, rest_hashes, *columns = part
        self._sigs.write(memoryview(sigs).cast("B"))
        self._hashes.write(memoryview(rest_hashes).cast("B"))
        for kept, values in zip(self._columns, columns, strict=True):
            kept.append(values)
        self.n += len(sigs)

    def done(self) -> NearParts:
        rest_counts, self.sha, self.hash, counts = (
            np.concatenate(c) if c else np.zeros(0, dtype)
            for c, dtype in zip(
                self._columns, (np.int64, np.uint32, np.int64, np.int64), strict=True
            )
        )
        del self._columns
        self.rest_start = np.concatenate(([0], np.cumsum(rest_counts)))
        self.start = np.concatenate(([0], np.cumsum(counts)))
        self.counts = counts
        self._sigs.flush()
        self._hashes.flush()
        return self

    def close(self) -> None:
        self._sigs.close()
        self._hashes.close()

    def _sig_rows(self, first: int, last: int) -> np.ndarray:
        """The `rest` signatures of rows `first` to `last` - 1."""
        out = np.empty((last - first, self.num_perm), dtype=np.uint32)
        width = 4 * self.num_perm
        if os.preadv(self._sigs.fileno(), [out], first * width) != out.nbytes:
            raise OSError("the near-duplicate signatures' temporary file was cut short")
        return out

    def _rest_hashes(self, row: int) -> np.ndarray:
        first, last = int(self.rest_start[row]), int(self.rest_start[row + 1])
        out = np.empty(last - first, dtype=np.int64)
        if out.nbytes and os.preadv(self._hashes.fileno(), [out], 8 * first) != out.nbytes:
            raise OSError("the near-duplicate hashes' temporary file was cut short")
        return out

    def _kept(self, common: set[int]) -> np.ndarray:
        """Per instruction shingle (`own`): kept in its pair's set (not boilerplate, or
        every one of a pair that would keep none and has no `rest`: `shingles_of`'s `or
        full`)."""
        if self._keep is not None and self._keep[0] == id(common):
            return self._keep[1]
        values = np.sort(np.fromiter(common, np.int64, len(common)))
        keep = np.ones(len(self.hash), dtype=bool)
        for first in range(0, len(self.hash), 1 << 16):  # a chunk at a time: little memory
            part = self.hash[first : first + (1 << 16)]
            at = np.minimum(np.searchsorted(values, part), max(len(values) - 1, 0))
            if len(values):
                keep[first : first + len(part)] = values[at] != part
        kept = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        left = kept[self.start[1:]] - kept[self.start[:-1]]
        for row in np.flatnonzero((left == 0) & (np.diff(self.rest_start) == 0)).tolist():
            keep[self.start[row] : self.start[row + 1]] = True  # nothing left: all of it
        self._keep = (id(common), keep)
        return keep

    def band_keys(
        self,
        rows: np.ndarray,
        common: set[int],
        groups: np.ndarray,
        spec: tuple[int, int, int],
        add: Callable[[int, np.ndarray], None],
    ) -> None:
        """The LSH band keys (`Shingler.band_keys`) of the sets of `rows` (of these parts,
        in that order) less the boilerplate of `common`, with their `groups` values (one a
        row of `rows`), a chunk at a time to `add(start, keys)`."""
        num_perm, bands, band_rows = spec
        proto = _prototype(num_perm)
        keep = self._kept(common)
        for first in range(0, len(rows), CHUNK):
            chunk = rows[first : first + CHUNK]
            at = _spans(self.start[chunk], self.counts[chunk])
            kept = keep[at]
            owner = np.repeat(np.arange(len(chunk)), self.counts[chunk])[kept]
            own = affine_minhash(
                _fmix32(self.sha[at][kept]),
                np.bincount(owner, minlength=len(chunk)),
                proto.permutations,
                proto.hashvalues,
            )
            base = int(chunk[0])
            sigs = np.minimum(self._sig_rows(base, int(chunk[-1]) + 1)[chunk - base], own)
            add(first, band_keys_of(sigs, groups[first : first + CHUNK], bands, band_rows))

    def shingle_hashes(
        self, rows: np.ndarray, wanted: np.ndarray, common: set[int]
    ) -> dict[int, np.ndarray]:
        """Position -> the sorted Python hashes of the set of `rows[position]`, for the
        positions `wanted` (`_shingle_hashes`)."""
        keep = self._kept(common)
        out: dict[int, np.ndarray] = {}
        for position in wanted.tolist():
            row = int(rows[position])
            first, last = self.start[row], self.start[row + 1]
            values = np.concatenate(
                (
                    self._rest_hashes(row),
                    self.hash[first:last][keep[first:last]],
                )
            )
            values.sort()
            out[position] = values
        return out


def _spans(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices starts[i] .. starts[i] + counts[i] - 1 of each i, concatenated."""
    total = int(counts.sum())
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return np.arange(total, dtype=np.int64) + offsets
