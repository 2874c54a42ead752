"""Per-pair verdicts kept in the store, so an incremental run checks only new pairs."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import lru_cache
from pathlib import Path

from dataprep.filters.core import REGISTRY, Context, FilterConfig, FilterSpec
from dataprep.models import Pair

# The code a cached verdict depends on: every file of this package and the redactor.
CODE_MODULES = ("dataprep.filters", "dataprep.secrets")


def _source_files(module: str) -> list[Path]:
    """The source files of a module, or every file of a package (sorted)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return []
    origin = Path(spec.origin)
    return sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the filters' and the redactor's source: a changed rule invalidates the cache."""
    digest = hashlib.sha256()
    for module in CODE_MODULES:
        root = None
        for path in _source_files(module):
            root = root or path.parent
            digest.update(f"{module}:{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class VerdictCache:
    """Per-pair verdicts of the cacheable filters (`register(..., cacheable=True)`), kept in
    the store (`Store.filter_verdicts`), so an incremental run computes them only for new pairs.

    The key of a pair hashes every field those filters read (instruction, input, output,
    task, unit kind, generator, label), all the filter settings and the source of the filters
    and the redactor; the value maps a filter name to its reason ("" when kept). A pair only
    gets verdicts for the filters the chain showed it, so each is looked up lazily.
    """

    def __init__(self, config: FilterConfig, stored: dict[str, dict[str, str]] | None = None):
        self.names = {
            spec.name
            for spec in REGISTRY.values()
            if spec.cacheable and not (config.tokenizer and "tokenizer" in spec.settings)
        }
        self.salt = json.dumps([code_fingerprint(), config.settings()], sort_keys=True)
        self.stored = stored if stored is not None else {}
        self.keys: dict[str, str] = {}  # pair id -> key
        self.dirty: set[str] = set()
        self.hits = self.misses = 0

    def key(self, pair: Pair) -> str:
        key = self.keys.get(pair.id)
        if key is None:
            fields_ = (pair.instruction, pair.input, pair.output, pair.task, pair.unit_kind,
                       pair.generator, pair.label)  # fmt: skip
            blob = json.dumps([self.salt, fields_], ensure_ascii=False)
            key = self.keys[pair.id] = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
        return key

    def check(self, spec: FilterSpec, pair: Pair, ctx: Context) -> str | None:
        if spec.name not in self.names:
            return spec.check(pair, ctx)
        key = self.key(pair)
        verdicts = self.stored.setdefault(key, {})
        if spec.name in verdicts:
            self.hits += 1
            return verdicts[spec.name] or None
        self.misses += 1
        reason = spec.check(pair, ctx)
        verdicts[spec.name] = reason or ""
        self.dirty.add(key)
        return reason

    @classmethod
    def load(cls, store, config: FilterConfig) -> VerdictCache:
        return cls(config, store.filter_verdicts())

    def save(self, store) -> None:
        """Write new verdicts and forget those of pairs this run did not look at."""
        used = set(self.keys.values())
        store.put_filter_verdicts(
            {k: self.stored[k] for k in self.dirty if k in used},
            forget=[k for k in self.stored if k not in used],
        )
