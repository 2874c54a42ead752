"""Canonical JSON and content hashes: a documented, versioned contract.

Ids are content hashes so that the same unit or pair gets the same id on every
machine and every run. The contract (version HASH_VERSION):

- canonical JSON: `json.dumps(value, sort_keys=True, separators=(",", ":"),
  ensure_ascii=False)`, UTF-8 encoded;
- a content hash is the SHA-256 of the canonical JSON of `[HASH_VERSION, kind, *parts]`,
  hex, truncated to 16 characters (64 bits: a collision needs ~4e9 records).

Changing any of this changes every id: bump HASH_VERSION when you do.
"""

import hashlib
import json
from json.encoder import encode_basestring
from typing import Any

HASH_VERSION = 1
# what `json.dumps` builds on each call with these arguments, built once
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Serialise `value` deterministically.

    Example: canonical_json({"b": 1, "a": [1, "é"]}) -> '{"a":[1,"é"],"b":1}'
    """
    return _ENCODER.encode(value)


def content_hash(kind: str, *parts: Any) -> str:
    """Hash `parts` under a record `kind` ("unit", "pair", "llm", ...).

    Example: content_hash("unit", "A.java", "class", "A") -> 16 hex characters, the same
    on every machine; content_hash("pair", ...) never collides with a unit of the same parts.
    """
    if all(type(part) is str for part in parts):  # the usual case: the JSON written here
        text = f"[{HASH_VERSION},{','.join(map(encode_basestring, (kind, *parts)))}]"
    else:
        text = canonical_json([HASH_VERSION, kind, *parts])
    data = text.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]
