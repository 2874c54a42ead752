"""How the store keeps large texts: JSON compressed with zstd and a preset dictionary.

Rows of the store are small JSON documents (a unit, a pair, a file's template candidates)
whose keys and phrasings repeat from row to row. A 700-byte pair hardly compresses alone;
with a dictionary of typical rows it takes less than half. zstd (not zlib) because it
sets up a dictionary once per process, not once per row: zlib's set-up cost about 100 us
a row, zstd's compress and decompress cost 10-30 us. The first byte names the format, so a
later dictionary gets a new byte and old rows stay readable:

- `\\x01` + a zstd frame compressed with the dictionary `zdict-1.zstd` (frozen: never
  replace that file; zstd trained it on this project's own fixture output: pairs, units,
  template candidates and filter verdicts);
- `\\x02` + a zstd frame compressed with `zdict-2.zstd` (frozen too; 128 kB, trained by
  `bench/train_zdict.py` on the pairs and units of three JDK modules that are not the
  benchmark's (jdk.compiler, java.management, java.net.http: 880 files): Java's and the
  templates' phrasings; a pair of java.base takes 11% less than with `zdict-1`, a unit 5%
  less). What `pack` writes;
- a `str` is plain JSON (rows written before the store was compacted).

Example: unpack(pack('{"a": 1}')) -> '{"a": 1}'
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import zstandard

FORMAT_1 = b"\x01"
FORMAT_2 = b"\x02"
LEVEL = 5  # java.base pairs: level 6 took 14 us a pair, 5 takes 9 (and 1% less); 3 is 10% larger
QUICK = 1
CACHE_LEVEL = 3  # a file's template candidates: level 6 took 4x the time for 12% less
_DICTIONARIES = {FORMAT_1: "zdict-1.zstd", FORMAT_2: "zdict-2.zstd"}


@cache
def _codecs(form: bytes) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    raw = Path(__file__).with_name(_DICTIONARIES[form]).read_bytes()
    zdict = zstandard.ZstdCompressionDict(raw)
    zdict.precompute_compress(level=LEVEL)
    compressor = zstandard.ZstdCompressor(
        level=LEVEL, dict_data=zdict, write_checksum=False, write_dict_id=False
    )
    return compressor, zstandard.ZstdDecompressor(dict_data=zdict)


@cache
def _compressor(level: int) -> zstandard.ZstdCompressor:
    """A compressor with the dictionary `pack` writes, at another level than `LEVEL`."""
    raw = Path(__file__).with_name(_DICTIONARIES[FORMAT_2]).read_bytes()
    zdict = zstandard.ZstdCompressionDict(raw)
    zdict.precompute_compress(level=level)
    return zstandard.ZstdCompressor(
        level=level, dict_data=zdict, write_checksum=False, write_dict_id=False
    )


def pack(text: str | bytes, quick: bool = False, level: int = LEVEL) -> bytes:
    """`text` (JSON, or JSON encoded in UTF-8) as the store keeps it, compressed at `level`;
    `quick`: at level `QUICK` (for a row written again soon: 4x quicker, 30% larger)."""
    level = QUICK if quick else level
    compressor = _codecs(FORMAT_2)[0] if level == LEVEL else _compressor(level)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return FORMAT_2 + compressor.compress(data)


def squeeze(data: bytes) -> bytes:
    """Bytes compressed at level `QUICK` with the dictionary, for memory, not the store
    (no format byte)."""
    return _compressor(QUICK).compress(data)


def unsqueeze(data: bytes) -> bytes:
    """The bytes `squeeze` compressed."""
    return _codecs(FORMAT_2)[1].decompress(data)


def unpack(data: bytes | str | None) -> str | None:
    """The JSON text of a stored value (plain text is returned as it is)."""
    if data is None or isinstance(data, str):
        return data
    form = bytes(data[:1])
    if form in _DICTIONARIES:
        return _codecs(form)[1].decompress(memoryview(data)[1:]).decode("utf-8")
    raise ValueError(f"unknown stored format {data[:1]!r}: upgrade dataprep")


def load(data: bytes | str) -> Any:
    """The value a stored JSON holds (`pack`'s, or plain JSON text), decoded by orjson
    straight from the decompressed bytes: 4.4x quicker than `json.loads(unpack(data))` on
    java.base's pairs (2.0 against 8.8 us a pair), the same value. What orjson refuses and
    `json` reads (a lone surrogate's escape, NaN, a number past a double's range) goes to
    `json`. One difference is left: an integer past 64 bits comes back as a float (the
    store's rows hold none: their numbers are line numbers, rounds and counts).

    Example: load(pack('{"a": 1}')) -> {"a": 1}
    """
    if isinstance(data, str):
        raw: bytes | str = data
    else:
        form = bytes(data[:1])
        if form not in _DICTIONARIES:
            raise ValueError(f"unknown stored format {data[:1]!r}: upgrade dataprep")
        raw = _codecs(form)[1].decompress(memoryview(data)[1:])
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw if isinstance(raw, str) else raw.decode("utf-8"))
