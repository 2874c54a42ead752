"""Per-pair verdicts kept in the store, so an incremental run checks only new pairs."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from functools import lru_cache
from pathlib import Path

from dataprep.filters.core import REGISTRY, Context, FilterConfig, FilterSpec
from dataprep.models import Pair
from dataprep.store_schema import verdict_texts

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

    The key of a pair (64 bits: a collision among a million pairs has odds of 1 in 3e7)
    hashes every field those filters read (instruction, input, output,
    task, unit kind, generator, label), all the filter settings and the source of the filters
    and the redactor; the value maps a filter name to its reason ("" when kept). A pair only
    gets verdicts for the filters the chain showed it, so each is looked up lazily.

    With a store, verdicts are read a batch of pairs at a time and new ones written as the
    chain goes (`flush`): memory holds the keys in use (8 bytes each), not the verdicts.
    A `cold` cache (its store held no verdict when loaded: a first run) reads nothing and
    has nothing stale to forget: it only computes keys and writes the new verdicts.
    """

    FLUSH_EVERY = 32768  # verdicts per write: 3x quicker than 4,096 (a B-tree of random keys)

    def __init__(
        self, config: FilterConfig, stored: dict[str, dict[str, str]] | None = None, store=None
    ):
        self.names = {
            spec.name
            for spec in REGISTRY.values()
            if spec.cacheable and not (config.tokenizer and "tokenizer" in spec.settings)
        }
        self.salt = json.dumps([code_fingerprint(), config.settings()], sort_keys=True)
        self._salted = _salted(self.salt)
        self.store = store
        self.stored = stored if stored is not None else {}  # the verdicts read or made lately
        self.used: set[bytes] = set()  # the keys of every pair looked at
        self.dirty: set[str] = set()
        self._keys: dict[str, str] = {}  # pair id -> key, of the pairs of the last batches
        self.hits = self.misses = 0
        self.cold = False  # the store held no verdict when loaded (`load`)
        self.pending: list[tuple[str, str]] = []  # (key, verdict JSON) absorbed, to write

    def key(self, pair: Pair) -> str:
        known = self._keys.get(pair.id)
        if known is not None:
            return known
        fields_ = (pair.instruction, pair.input, pair.output, pair.task, pair.unit_kind,
                   pair.generator, pair.label)  # fmt: skip
        # sha256 of the salt (its part hashed once), then each field as "<length>:<text>"
        # ("N": None): one string that tells the fields apart, 4x quicker to make than JSON
        digest = self._salted.copy()
        blob = "".join(["N" if v is None else f"{len(v)}:{v}" for v in fields_])
        digest.update(blob.encode("utf-8", "surrogatepass"))
        key = digest.hexdigest()[:16]
        self._keys[pair.id] = key
        if not self.cold:  # a cold cache has nothing stale to tell apart
            self.used.add(bytes.fromhex(key))
        return key

    def _verdicts(self, key: str) -> dict[str, str]:
        found = self.stored.get(key)
        if found is None:
            if self.store is not None and not self.cold:
                found = self.store.filter_verdicts_of([key]).get(key)
            found = self.stored[key] = found or {}
        return found

    def check(self, spec: FilterSpec, pair: Pair, ctx: Context) -> str | None:
        if spec.name not in self.names:
            return spec.check(pair, ctx)
        key = self.key(pair)
        verdicts = self._verdicts(key)
        if spec.name in verdicts:
            self.hits += 1
            return verdicts[spec.name] or None
        self.misses += 1
        reason = spec.check(pair, ctx)
        verdicts[spec.name] = reason or ""
        self.dirty.add(key)
        return reason

    def run(self, pair: Pair, specs, ctx: Context, seen: list, seconds: list):
        """`specs` in order on `pair` until one drops it, the cacheable ones' verdicts read
        or kept here (`check`, with the pair's verdicts looked up once): (index of the last
        one run, its reason or None). Counts what each saw and its seconds in `seen` and
        `seconds` (`chain._check_pair`)."""
        names, verdicts, key, reason = self.names, None, "", None
        clock = time.perf_counter
        for k, spec in enumerate(specs):
            seen[k] += 1
            started = clock()
            if spec.name in names:
                if verdicts is None:
                    key = self.key(pair)
                    verdicts = self._verdicts(key)
                found = verdicts.get(spec.name)
                if found is not None:
                    self.hits += 1
                    reason = found or None
                else:
                    self.misses += 1
                    reason = spec.check(pair, ctx)
                    verdicts[spec.name] = reason or ""
                    self.dirty.add(key)
            else:
                reason = spec.check(pair, ctx)
            seconds[k] += clock() - started
            if reason:
                break
        return k, reason

    def flush(self) -> None:
        """Write the new verdicts to the store and let go of those read (with a store)."""
        if self.store is None:
            return
        if self.dirty:
            self.store.put_filter_verdicts({k: self.stored[k] for k in self.dirty})
        if self.pending:
            self.store.put_filter_verdict_texts(self.pending)
        self.dirty.clear()
        self.stored.clear()
        self.pending = []

    def prefetch(self, pairs: list[Pair], store=None) -> list[str]:
        """Read the stored verdicts of these pairs in one go (from this cache's store, or
        `store`: a forked worker's own connection); first write the new ones made since
        the last batch. Returns the pairs' keys."""
        store = store or self.store
        if store is None:
            return []
        if len(self.stored) >= self.FLUSH_EVERY:
            self.flush()
            self._keys.clear()
        keys = [self.key(p) for p in pairs]
        if self.cold:  # nothing stored to read
            for key in keys:
                self.stored.setdefault(key, {})
            return keys
        found = store.filter_verdicts_of(k for k in keys if k not in self.stored)
        for key in keys:
            self.stored.setdefault(key, found.get(key, {}))
        return keys

    def detached(self) -> VerdictCache:
        """A cache of the same filters and key, without a store or verdicts: a worker's,
        filled with `stored` and read back with `absorb`."""
        other = VerdictCache.__new__(VerdictCache)
        other.names, other.salt, other.store = self.names, self.salt, None
        other._salted = self._salted
        other.stored, other.used, other.dirty, other._keys = {}, set(), set(), {}
        other.hits = other.misses = 0
        other.cold, other.pending = self.cold, []
        return other

    def made(self) -> list[tuple[str, str]]:
        """(key, verdict JSON) of the verdicts this cache added to (`verdict_texts`): what a
        worker sends back for `absorb`."""
        return verdict_texts((key, self.stored[key]) for key in self.dirty)

    def absorb(self, keys: list[str], made: list[tuple[str, str]], hits: int, misses: int):
        """Take in what a worker's cache did for a batch of pairs (`keys`: theirs, `made`:
        the verdicts it added to, whole, encoded: `made`): as if this cache had checked
        them; new verdicts are written with the next `flush`."""
        if not self.cold:
            self.used.update(map(bytes.fromhex, keys))
        self.pending.extend(made)
        self.hits += hits
        self.misses += misses
        if len(self.pending) >= self.FLUSH_EVERY:
            self.flush()

    @classmethod
    def load(cls, store, config: FilterConfig) -> VerdictCache:
        cache = cls(config, store=store)
        cache.cold = not store.has_filter_verdicts()
        return cache

    def save(self, store) -> None:
        """Write new verdicts and forget those of pairs this run did not look at (none when
        `cold`: every stored verdict is one of this run's)."""
        self.store = self.store or store
        self.flush()
        if self.cold and self.store is store:
            return
        stale = [k for k in store.filter_verdict_keys() if bytes.fromhex(k) not in self.used]
        store.put_filter_verdicts({}, forget=stale)


def _salted(salt: str):
    """sha256 fed with what starts every key, the salt (`VerdictCache.key`)."""
    return hashlib.sha256(f"{len(salt)}:{salt}".encode("utf-8", "surrogatepass"))
