"""The SQLite working store: `DIR/dataprep.db`, WAL, numbered migrations applied on open.

Every stage reads what the last one committed and writes in transactions, so a run
killed at any moment loses nothing that was committed. Records are stored as their
JSON (the `data` column, compressed: `dataprep.codec`) beside the columns the pipeline
queries on; SQL reads a stored JSON through the `unpack(data)` function of the connection.
"""

import hashlib
import json
import re
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from dataprep.codec import pack, unpack
from dataprep.errors import StoreError, system_error
from dataprep.models import Decision, Pair, Review, Unit

DB_NAME = "dataprep.db"
_LAST_OPENED: Path | None = None


def last_opened() -> Path | None:
    """The store this process opened last (named in errors about a damaged store)."""
    return _LAST_OPENED


# Append only: a shipped migration never changes. Each runs in one transaction; a migration
# is a SQL script or a function of the connection.
MIGRATIONS: list[Any] = [
    # 1: the working set
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        args TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        status TEXT NOT NULL DEFAULT 'running',
        stats TEXT
    );
    CREATE TABLE files (
        path TEXT PRIMARY KEY,
        digest TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        n_units INTEGER NOT NULL DEFAULT 0,
        run_id INTEGER
    );
    CREATE TABLE units (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        qualified_name TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX units_path ON units(path);
    CREATE TABLE pairs (
        id TEXT PRIMARY KEY,
        unit_id TEXT NOT NULL,
        generator TEXT NOT NULL,
        task TEXT NOT NULL,
        path TEXT NOT NULL,
        data TEXT NOT NULL,
        run_id INTEGER
    );
    CREATE INDEX pairs_unit ON pairs(unit_id);
    CREATE INDEX pairs_path ON pairs(path);
    CREATE TABLE decisions (
        pair_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        kept INTEGER NOT NULL,
        reason TEXT,
        detail TEXT,
        run_id INTEGER,
        PRIMARY KEY (pair_id, stage)
    );
    CREATE INDEX decisions_stage ON decisions(stage, kept);
    CREATE TABLE candidates (
        id TEXT PRIMARY KEY,
        unit_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        reason TEXT,
        data TEXT NOT NULL,
        run_id INTEGER
    );
    CREATE TABLE llm_cache (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        request TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE splits (
        pair_id TEXT PRIMARY KEY,
        split TEXT NOT NULL,
        grp TEXT NOT NULL
    );
    CREATE TABLE reviews (
        pair_id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE review_events (
        id INTEGER PRIMARY KEY,
        pair_id TEXT NOT NULL,
        before TEXT,
        after TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: review events of one bulk action share a batch id, so one undo reverts them all
    """
    ALTER TABLE review_events ADD COLUMN batch TEXT;
    CREATE INDEX review_events_pair ON review_events(pair_id, id);
    """,
    # 3: template candidates per file, so a run regenerates only the files that changed
    """
    CREATE TABLE template_cache (
        path TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        data TEXT NOT NULL
    );
    """,
    # 4: per-pair filter verdicts, keyed by the pair's content, the filter settings and the
    # filters' code, so a run re-checks only new pairs (dataprep.filters.VerdictCache)
    """
    CREATE TABLE filter_cache (
        key TEXT PRIMARY KEY,
        data TEXT NOT NULL
    );
    """,
    # 5: the review events of one bulk action found by their batch (one undo reverts them).
    # Drafts of this migration, never released, also built the review queue's tables with
    # triggers on pairs; 6 replaces whatever a store got from them.
    """
    CREATE INDEX IF NOT EXISTS review_events_batch ON review_events(batch)
        WHERE batch IS NOT NULL;
    """,
    # 6: the review queue at any size (dataprep.review). review_rows: one narrow row per pair
    # with what the queue filters, sorts and counts on (instruction and output cut to their
    # first 24 characters, for sorting); review_search: FTS5 over each pair's instruction,
    # input and output, contentless, under the review_rows rowid (never reused, so an entry
    # of a pair gone since matches nothing). Both are filled by Store.refresh_review_rows when
    # the review app starts, from the pairs added since (no triggers: the pipeline pays
    # nothing). Rows are keyed by pair id, a content hash: a migration that rewrites
    # pairs.data in another format must empty both, and the next review start refills them.
    """
    DROP TRIGGER IF EXISTS review_rows_insert;
    DROP TRIGGER IF EXISTS review_rows_delete;
    DROP TRIGGER IF EXISTS review_rows_update;
    DROP TRIGGER IF EXISTS review_rows_reviewed;
    DROP TRIGGER IF EXISTS review_rows_rereviewed;
    DROP TRIGGER IF EXISTS review_rows_unreviewed;
    DROP VIEW IF EXISTS review_new;
    DROP TABLE IF EXISTS review_rows;
    DROP TABLE IF EXISTS review_search;
    CREATE TABLE review_rows (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        pair_id TEXT NOT NULL UNIQUE,
        unit_id TEXT NOT NULL,
        task TEXT NOT NULL,
        kind TEXT NOT NULL,
        generator TEXT NOT NULL,
        start_line INTEGER NOT NULL,
        instruction TEXT NOT NULL,
        output TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'unreviewed',
        flagged INTEGER NOT NULL DEFAULT 0,
        pos INTEGER,
        live INTEGER NOT NULL DEFAULT 1,
        split TEXT NOT NULL DEFAULT '',
        dropped TEXT NOT NULL DEFAULT '',
        judge REAL
    );
    CREATE VIRTUAL TABLE review_search USING fts5(
        instruction, input, output, content='', columnsize=0);
    CREATE INDEX review_rows_facets ON review_rows(
        task, kind, generator, split, dropped, status, flagged, judge, live);
    CREATE INDEX review_rows_pos ON review_rows(pos);
    CREATE INDEX review_rows_instruction ON review_rows(instruction, pos);
    CREATE INDEX review_rows_output ON review_rows(output, pos);
    CREATE INDEX review_rows_task ON review_rows(task, pair_id);
    CREATE INDEX review_rows_flagged ON review_rows(pos) WHERE flagged = 1;
    CREATE INDEX review_rows_judge ON review_rows(judge, pos) WHERE judge IS NOT NULL;
    """,
    # 7: a compact store (`_compact`)
    lambda conn: _compact(conn),
]

_COMPACT = 7  # the migration that compacts the store

# The pair fields kept in columns of `pairs`, not in its JSON.
_PAIR_COLUMNS = ("id", "unit_id", "generator", "task", "path")
_PAIR_SQL = "p.id, p.unit_id, p.generator, p.task, p.path, p.data"


def _pack_pair(pair: Pair) -> bytes:
    return pack(pair.model_dump_json(exclude_defaults=True, exclude=set(_PAIR_COLUMNS)))


def _pair(row: tuple) -> Pair:
    """A pair from its columns and JSON (`_PAIR_SQL`)."""
    *columns, data = row
    rest = unpack(data)
    if rest.startswith('{"id":'):  # written before the columns left the JSON
        return Pair.model_validate_json(rest)
    fields = json.loads(rest)  # then validated as a dict: 40% quicker than splicing JSON
    fields.update(zip(_PAIR_COLUMNS, columns, strict=True))
    return Pair.model_validate(fields)


class PairText(NamedTuple):
    """What the set filters read of a pair, without building the model (3x quicker)."""

    id: str
    generator: str
    task: str
    instruction: str
    input: str
    output: str


def _pair_text(row: tuple) -> PairText:
    """A PairText from a pair's columns and JSON (`_PAIR_SQL`)."""
    pair_id, _, generator, task, _, data = row
    fields = json.loads(unpack(data))
    return PairText(
        pair_id, generator, task, fields["instruction"], fields.get("input", ""), fields["output"]
    )


class PairFacts(NamedTuple):
    """A pair without its texts: what the split reads (provenance and task)."""

    id: str
    unit_id: str
    generator: str
    task: str
    path: str
    template: str
    unit_kind: str
    repo: str
    module: str | None
    label: str | None
    start_line: int
    end_line: int


def _pair_facts(row: tuple) -> PairFacts:
    """PairFacts from a pair's columns and JSON (`_PAIR_SQL`); repeated values shared."""
    pair_id, unit_id, generator, task, path, data = row
    f = json.loads(unpack(data))
    intern = sys.intern
    module, label = f.get("module"), f.get("label")
    return PairFacts(
        pair_id,
        unit_id,
        intern(generator),
        intern(task),
        intern(path),
        intern(f["template"]),
        intern(f["unit_kind"]),
        intern(f["repo"]),
        intern(module) if module else module,
        intern(label) if label else label,
        f["start_line"],
        f["end_line"],
    )


def _pack_unit(unit: Unit) -> bytes:
    return pack(unit.model_dump_json(exclude_defaults=True))


def _unit(data: bytes | str) -> Unit:
    return Unit.model_validate_json(unpack(data))


def _key(key: str | bytes) -> bytes:
    """A filter verdict's key as stored: 16 bytes (`VerdictCache.key`'s 32 hex digits)."""
    return bytes.fromhex(key)[:16] if isinstance(key, str) else key


def _compact(conn: sqlite3.Connection) -> None:
    """Migration 7, the compact store: a unit's, a pair's, a file's template candidates' and
    a filter verdict's JSON compressed (`dataprep.codec`; a pair's id, unit, generator, task
    and path live in their columns only); decisions keep what a later query reads (drops
    and scored verdicts: a pair no decision dropped is kept) in a table without rowid, with
    the number of pairs each stage looked at in `stage_seen`; splits without rowid, a
    group that is the pair's own path stored as NULL; no
    index on `pairs.path` (nothing looks a pair up by path). Measured on 387 java.base
    files (6.2 MB): the store went from 167 MB to about 25. The review tables hold pairs'
    text, so they are emptied and the next review start refills them.
    """
    text = "WHERE typeof(data) = 'text'"  # a store set back to an older version is compact
    for table, key in (("units", "id"), ("template_cache", "path")):
        rows = conn.execute(f"SELECT {key}, data FROM {table} {text}").fetchall()
        conn.executemany(
            f"UPDATE {table} SET data = ? WHERE {key} = ?", [(pack(d), k) for k, d in rows]
        )
    rows = conn.execute(f"SELECT id, data FROM pairs {text}").fetchall()
    conn.executemany(
        "UPDATE pairs SET data = ? WHERE id = ?",
        [(_pack_pair(Pair.model_validate_json(d)), k) for k, d in rows],
    )
    conn.execute("DROP INDEX IF EXISTS pairs_path")
    conn.execute(
        "CREATE TABLE filter_cache_7 (key BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID"
    )
    conn.executemany(
        "INSERT INTO filter_cache_7 (key, data) VALUES (?, ?)",
        [
            (
                _key(k),
                pack(d) if isinstance(d, str) else d,
            )
            for k, d in conn.execute("SELECT key, data FROM filter_cache").fetchall()
        ],
    )
    for statement in _statements(
        """
        DROP TABLE filter_cache;
        ALTER TABLE filter_cache_7 RENAME TO filter_cache;
        CREATE TABLE IF NOT EXISTS stage_seen (
            stage TEXT PRIMARY KEY, seen INTEGER NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO stage_seen SELECT stage, COUNT(*) FROM decisions GROUP BY stage;
        CREATE TABLE decisions_7 (
            pair_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            kept INTEGER NOT NULL,
            reason TEXT,
            detail TEXT,
            run_id INTEGER,
            PRIMARY KEY (pair_id, stage)
        ) WITHOUT ROWID;
        INSERT INTO decisions_7 SELECT pair_id, stage, kept, reason, detail, run_id
            FROM decisions WHERE kept = 0 OR detail IS NOT NULL;
        DROP TABLE decisions;
        ALTER TABLE decisions_7 RENAME TO decisions;
        CREATE INDEX decisions_stage ON decisions(stage, kept);
        CREATE TABLE splits_7 (
            pair_id TEXT PRIMARY KEY,
            split TEXT NOT NULL,
            grp TEXT
        ) WITHOUT ROWID;
        INSERT INTO splits_7 SELECT s.pair_id, s.split,
            CASE WHEN s.grp = (SELECT path FROM pairs WHERE id = s.pair_id) THEN NULL ELSE s.grp END
            FROM splits s;
        DROP TABLE splits;
        ALTER TABLE splits_7 RENAME TO splits;
        DELETE FROM review_rows;
        INSERT INTO review_search(review_search) VALUES('delete-all');
        """
    ):
        conn.execute(statement)


# The stages that write decisions, in pipeline order; "filter.NAME" ranks as "filter", and
# any other stage (one before the filters, e.g. "evol.eliminate") ranks before them all.
STAGE_ORDER = ("filter", "balance", "decontaminate")
_RANK = (
    "(CASE WHEN stage = 'balance' THEN 2 WHEN stage = 'decontaminate' THEN 3"
    " WHEN substr(stage, 1, 7) = 'filter.' THEN 1 ELSE 0 END)"
)


def stage_rank(stage: str | None) -> int:
    """A decision stage's rank: 0 before the filters, then 1 + its place in `STAGE_ORDER`
    (None: after every stage). `_RANK` is the same rule in SQL.

    Example: stage_rank("evol.eliminate") -> 0; stage_rank("filter.length") -> 1;
    stage_rank("decontaminate") -> 3
    """
    if stage is None:
        return len(STAGE_ORDER) + 1
    head = "filter" if stage.startswith("filter.") else stage
    return STAGE_ORDER.index(head) + 1 if head in STAGE_ORDER else 0


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration script, a trigger's body (with its own ';') kept whole.

    Example: "CREATE TABLE t (a); CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END;"
        -> "CREATE TABLE t (a);", " CREATE TRIGGER x ... BEGIN SELECT 1; END;"
    """
    buffer = ""
    for part in script.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                yield buffer
            buffer = ""


class Store:
    """The working store of one output directory.

    Example:
        store = Store.open(Path("out"))
        with store.transaction():
            store.put_file("src/A.java", digest, "ok", units)
    """

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        self._memo: dict[tuple, tuple[tuple[int, int], Any]] = {}

    def _remembered(self, key: tuple, compute: Any) -> Any:
        """`compute()`, remembered until the store changes: a row written by this
        connection (`total_changes`) or a commit by another (`PRAGMA data_version`). The
        stages' fingerprints read the same large states several times in a run."""
        stamp = (
            self.conn.total_changes,
            self.conn.execute("PRAGMA data_version").fetchone()[0],
        )
        hit = self._memo.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = compute()
        self._memo[key] = (stamp, value)
        return value

    @classmethod
    def open(cls, out_dir: Path, create: bool = True) -> "Store":
        """Open (or create) `out_dir/dataprep.db` and apply pending migrations."""
        out_dir = Path(out_dir)
        db_path = out_dir / DB_NAME
        if not create and not db_path.exists():
            raise StoreError(
                f"no working store at {db_path}: run `dataprep run PATH --out {out_dir}` first"
            )
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                db_path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.create_function("unpack", 1, unpack, deterministic=True)
        except (OSError, sqlite3.Error) as exc:
            if (damaged := system_error(exc, db_path)) is not None:
                raise damaged from None
            raise StoreError(
                f"cannot open the store at {db_path} ({exc}): check the --out directory"
            ) from exc
        global _LAST_OPENED
        _LAST_OPENED = db_path
        store = cls(conn, db_path)
        try:
            store._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            if (damaged := system_error(exc, db_path)) is not None:
                raise damaged from None
            raise
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} was written by a newer dataprep (schema {version}): upgrade dataprep"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                if callable(script):
                    script(self.conn)
                else:
                    for statement in _statements(script):
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={number}")
        if 0 < version < _COMPACT <= len(MIGRATIONS):
            self.conn.execute("VACUUM")  # a compacted store gives its old pages back

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; nested calls join the outer transaction."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # runs -------------------------------------------------------------------------
    def start_run(self, command: str, args: dict[str, Any]) -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO runs (command, args, started_at) VALUES (?, ?, ?)",
                (command, json.dumps(args, default=str), time.time()),
            )
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str, stats: dict[str, Any] | None = None) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE id = ?",
                (time.time(), status, json.dumps(stats or {}, default=str), run_id),
            )

    # meta -------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, default=str)),
            )

    # files and units --------------------------------------------------------------
    def file_digests(self) -> dict[str, str | None]:
        """Path -> digest of every file recorded by the last slice."""
        return dict(self.conn.execute("SELECT path, digest FROM files"))

    def put_file(
        self,
        path: str,
        digest: str | None,
        status: str,
        units: list[Unit],
        reason: str | None = None,
        run_id: int | None = None,
    ) -> None:
        """Replace everything known about one file (its record and its units) atomically."""
        with self.transaction():
            self.conn.execute("DELETE FROM units WHERE path = ?", (path,))
            self.conn.executemany(
                "INSERT OR REPLACE INTO units (id, path, kind, qualified_name, data) "
                "VALUES (?, ?, ?, ?, ?)",
                [(u.id, u.path, u.kind, u.qualified_name, _pack_unit(u)) for u in units],
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO files (path, digest, status, reason, n_units, run_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (path, digest, status, reason, len(units), run_id),
            )

    def forget_files(self, paths: Iterable[str]) -> None:
        """Drop files (and their units) that are no longer in the repository."""
        with self.transaction():
            for path in paths:
                self.conn.execute("DELETE FROM units WHERE path = ?", (path,))
                self.conn.execute("DELETE FROM files WHERE path = ?", (path,))

    def clear_units(self) -> None:
        """Empty the units table: a many-source run merges its shards into it again (their
        files and digests live in the shards, not here)."""
        with self.transaction():
            self.conn.execute("DELETE FROM units")

    def add_units(self, units: Iterable[Unit]) -> None:
        """Insert units as they are (no file record, no path replaced): the merge."""
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO units (id, path, kind, qualified_name, data) "
                "VALUES (?, ?, ?, ?, ?)",
                [(u.id, u.path, u.kind, u.qualified_name, _pack_unit(u)) for u in units],
            )

    def units(self, kind: str | None = None) -> list[Unit]:
        sql, args = "SELECT data FROM units", ()
        if kind:
            sql, args = sql + " WHERE kind = ?", (kind,)
        return [_unit(row[0]) for row in self.conn.execute(sql + " ORDER BY path, id", args)]

    def iter_units(self) -> Iterator[Unit]:
        """Every unit, one at a time (by path and id)."""
        for (data,) in self.conn.execute("SELECT data FROM units ORDER BY path, id"):
            yield _unit(data)

    def unit(self, unit_id: str) -> Unit | None:
        row = self.conn.execute("SELECT data FROM units WHERE id = ?", (unit_id,)).fetchone()
        return _unit(row[0]) if row else None

    # pairs ------------------------------------------------------------------------
    def put_pairs(self, pairs: Iterable[Pair], run_id: int | None = None) -> int:
        """Insert pairs not yet stored; returns how many were new."""
        with self.transaction():
            cur = self.conn.executemany(
                "INSERT OR IGNORE INTO pairs (id, unit_id, generator, task, path, data, run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (p.id, p.unit_id, p.generator, p.task, p.path, _pack_pair(p), run_id)
                    for p in pairs
                ],
            )
            return cur.rowcount  # the rows this statement inserted, not its triggers' (FTS)

    def pairs(self, generator: str | None = None, live_only: bool = True) -> list[Pair]:
        """Stored pairs, by id; `live_only` keeps those whose unit still exists."""
        sql = f"SELECT {_PAIR_SQL} FROM pairs p"
        if live_only:
            sql += " JOIN units u ON u.id = p.unit_id"
        args: tuple[str, ...] = ()
        if generator:
            sql, args = sql + " WHERE p.generator = ?", (generator,)
        return [_pair(row) for row in self.conn.execute(sql + " ORDER BY p.id", args)]

    def pair(self, pair_id: str) -> Pair | None:
        row = self.conn.execute(
            f"SELECT {_PAIR_SQL} FROM pairs p WHERE p.id = ?", (pair_id,)
        ).fetchone()
        return _pair(row) if row else None

    def delete_pairs(self, pair_ids: Iterable[str]) -> None:
        with self.transaction():
            self.conn.executemany("DELETE FROM pairs WHERE id = ?", [(i,) for i in pair_ids])

    # decisions --------------------------------------------------------------------
    def put_decisions(
        self,
        stage: str,
        decisions: Iterable[Decision],
        run_id: int | None = None,
        seen: int | None = None,
    ) -> int:
        """Replace a stage's verdicts: the stage has just looked at every pair again.

        The one decision writer. `decisions` are `Decision`s or records with the same
        fields (the filter chain's `Verdict`s), all of `stage`. Only the rows that changed
        are written (an incremental run re-decides every pair but changes few verdicts), so
        a row keeps the id of the run that first gave its verdict. Only drops and verdicts
        with a detail are rows (a pair without a row was kept); `stage_seen` counts the pairs
        the stage looked at: `seen`, or else one per decision given. Returns the rows written.
        """
        count = 0
        notable: list[Decision] = []
        for d in decisions:
            count += 1
            if not d.kept or d.detail is not None:
                notable.append(d)
        seen = count if seen is None else seen
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO stage_seen (stage, seen) VALUES (?, ?)", (stage, seen)
            )
            old = {
                pid: (bool(kept), reason, detail)
                for pid, kept, reason, detail in self.conn.execute(
                    "SELECT pair_id, kept, reason, detail FROM decisions WHERE stage = ?", (stage,)
                )
            }
            new = {d.pair_id: d for d in notable}
            gone = [(stage, pid) for pid in old if pid not in new]
            changed = [
                (d.pair_id, stage, int(d.kept), d.reason, d.detail, run_id)
                for d in new.values()
                if old.get(d.pair_id) != (bool(d.kept), d.reason, d.detail)
            ]
            self.conn.executemany("DELETE FROM decisions WHERE stage = ? AND pair_id = ?", gone)
            self.conn.executemany(
                "INSERT OR REPLACE INTO decisions (pair_id, stage, kept, reason, detail, run_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                changed,
            )
        return len(gone) + len(changed)

    def dropped(self, ignore: tuple[str, ...] = ()) -> dict[str, Decision]:
        """Pair id -> the first decision that dropped it (by stage name), `ignore`d stages aside."""
        out: dict[str, Decision] = {}
        rows = self.conn.execute(
            "SELECT pair_id, stage, reason, detail FROM decisions WHERE kept = 0 ORDER BY stage"
        )
        for pair_id, stage, reason, detail in rows:
            if stage in ignore:
                continue
            out.setdefault(
                pair_id,
                Decision(pair_id=pair_id, stage=stage, kept=False, reason=reason, detail=detail),
            )
        return out

    def kept_pairs(
        self, generator: str | None = None, ignore: tuple[str, ...] = (), before: str | None = None
    ) -> list[Pair]:
        """Live pairs that no stage dropped, by id; with `before`, the pairs alive when that
        stage starts (`kept_ids`). `ignore` sets the verdicts of the named stages aside.

        Example: kept_pairs(before="filter") -> what the filter chain looks at
        """
        if ignore:
            dropped = self.dropped(ignore)
            return [p for p in self.pairs(generator) if p.id not in dropped]
        return [_pair(r) for r in self._alive(_PAIR_SQL, before, generator=generator)]

    def iter_kept_pairs(self, before: str | None = None) -> Iterator[Pair]:
        """`kept_pairs(before=...)` one at a time, by id: memory holds one pair."""
        for row in self._alive(_PAIR_SQL, before):
            yield _pair(row)

    def kept_facts(self, ignore: tuple[str, ...] = ()) -> list[PairFacts]:
        """`kept_pairs(ignore=...)` without their texts (`PairFacts`), by id."""
        marks = ", ".join("?" * len(ignore))
        rows = self.conn.execute(
            f"SELECT {_PAIR_SQL} FROM pairs p JOIN units u ON u.id = p.unit_id WHERE p.id NOT IN "
            f"(SELECT pair_id FROM decisions WHERE kept = 0 AND stage NOT IN ({marks})) "
            "ORDER BY p.id",
            ignore,
        )
        return [_pair_facts(row) for row in rows]

    def iter_kept_texts(self, before: str | None = None) -> Iterator[PairText]:
        """`iter_kept_pairs`, as `PairText`s (what the set filters read)."""
        for row in self._alive(_PAIR_SQL, before):
            yield _pair_text(row)

    def pair_texts(self, pair_ids: Iterable[str]) -> dict[str, PairText]:
        """`PairText`s of these ids (those that exist), by id."""
        ids = list(dict.fromkeys(pair_ids))
        out: dict[str, PairText] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self.conn.execute(
                f"SELECT {_PAIR_SQL} FROM pairs p WHERE p.id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update((row[0], _pair_text(row)) for row in rows)
        return out

    def kept_count(self, before: str | None = None) -> int:
        """How many pairs `kept_pairs(before=...)` lists."""
        return self._alive("count(*)", before, tail=" ").fetchone()[0]

    def _alive(
        self,
        columns: str,
        before: str | None,
        generator: str | None = None,
        tail: str = "",
        join: str = "",
        where: str = "",
        where_args: tuple[Any, ...] = (),
    ) -> sqlite3.Cursor:
        """The one rule for the pairs alive when stage `before` starts (None: after every
        stage): live pairs (their unit exists) that no decision of an earlier-ranked stage
        (`stage_rank`) dropped. Rows of `columns`, by pair id unless `tail` says otherwise."""
        sql = (
            f"SELECT {columns} FROM pairs p JOIN units u ON u.id = p.unit_id{join} "
            f"WHERE p.id NOT IN (SELECT pair_id FROM decisions WHERE kept = 0 AND {_RANK} < ?)"
        )
        args: tuple[Any, ...] = (stage_rank(before),)
        if generator:
            sql, args = sql + " AND p.generator = ?", (*args, generator)
        if where:
            sql, args = f"{sql} AND {where}", (*args, *where_args)
        return self.conn.execute(sql + (tail or " ORDER BY p.id"), args)

    def export_pairs(self, tasks: Iterable[str] | None = None) -> Iterator[tuple[Pair, str | None]]:
        """The pairs no stage dropped with their split (None: not split yet), one at a time
        in the export's order: by path, then start line, task and id. Memory holds one
        file's pairs at a time; `tasks` narrows to those tasks.

        Example: next(store.export_pairs()) -> (Pair(path="a/A.java", ...), "train")
        """
        where, args = "", ()
        if tasks is not None:
            args = tuple(sorted(set(tasks)))
            where = f"p.task IN ({', '.join('?' * len(args))})" if args else "0"
        rows = self._alive(
            f"{_PAIR_SQL}, s.split",
            None,
            tail=" ORDER BY p.path, p.id",
            join=" LEFT JOIN splits s ON s.pair_id = p.id",
            where=where,
            where_args=args,
        )
        path, batch = None, []
        for *row, split in rows:
            if row[4] != path:
                yield from sorted(batch, key=lambda b: (b[0].start_line, b[0].task, b[0].id))
                path, batch = row[4], []
            batch.append((_pair(row), split))
        yield from sorted(batch, key=lambda b: (b[0].start_line, b[0].task, b[0].id))

    def majority_repo(self) -> str | None:
        """The repository most units come from (ties: the first by name)."""
        counts = {r: n for r, n in self.unit_counts("repo").items() if r}
        return min(counts, key=lambda r: (-counts[r], r)) if counts else None

    def live_pairs(self) -> Iterator[tuple[Pair, str | None]]:
        """Every live pair (its unit exists; whatever the stages decided) with its split
        (None: not split), one at a time by id: what `pairs()` lists, streamed."""
        rows = self.conn.execute(
            f"SELECT {_PAIR_SQL}, s.split FROM pairs p JOIN units u ON u.id = p.unit_id "
            "LEFT JOIN splits s ON s.pair_id = p.id ORDER BY p.id"
        )
        for *row, split in rows:
            yield _pair(row), split

    def paths_in_splits(self, splits: Iterable[str]) -> set[str]:
        """The paths of the pairs assigned to any of `splits`."""
        names = tuple(sorted(set(splits)))
        marks = ", ".join("?" * len(names))
        rows = self.conn.execute(
            f"SELECT DISTINCT p.path FROM splits s JOIN pairs p ON p.id = s.pair_id "
            f"WHERE s.split IN ({marks})",
            names,
        )
        return {r[0] for r in rows}

    def split_count(self, split: str) -> int:
        """Pairs assigned to one split (`withheld` included: in no exported file)."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM splits WHERE split = ?", (split,)
        ).fetchone()[0]

    def unit_counts(self, field: str) -> dict[str, int]:
        """Units counted by a field of their JSON (`repo`, `language`...)."""
        if not field.isidentifier():
            raise ValueError(f"not a unit field: {field}")
        rows = self.conn.execute(
            f"SELECT json_extract(unpack(data), '$.{field}') AS v, COUNT(*) FROM units GROUP BY v"
        )
        return {v: n for v, n in rows if v is not None}

    def unit_summaries(self, kinds: Iterable[str], fields: Iterable[str]) -> list[dict[str, Any]]:
        """Some fields of the units of some kinds, as dicts (not whole units: their code)."""
        kinds, fields = tuple(kinds), tuple(fields)
        marks = ", ".join("?" * len(kinds))
        sql = f"SELECT data FROM units WHERE kind IN ({marks}) ORDER BY path, id"
        out = []
        for (data,) in self.conn.execute(sql, kinds):
            unit = json.loads(unpack(data))
            out.append({f: unit.get(f) for f in fields})
        return out

    # state the stages read (fingerprints) and count ---------------------------------
    def kept_ids(self, before: str | None = None) -> list[str]:
        """Ids of the live pairs no stage dropped (what `kept_pairs` returns, in SQL); with
        `before`, the pairs alive when that stage starts: its own verdicts and those of the
        stages after it (`STAGE_ORDER`) set aside.

        Example: kept_ids(before="balance") -> the pairs the filters kept
        """
        ids = self._remembered(
            ("kept_ids", stage_rank(before)),
            lambda: tuple(r[0] for r in self._alive("p.id", before)),
        )
        return list(ids)

    def kept_counts(self, column: str, before: str | None = None) -> dict[str, int]:
        """Kept pairs (alive when `before` starts) counted by `column` (task, generator...)."""
        if column not in ("task", "generator", "path", "unit_id"):
            raise ValueError(f"not a pairs column: {column}")
        if column in ("task", "generator"):  # one query gives both (the run's summary)
            groups = self._remembered(
                ("kept_groups", stage_rank(before)),
                lambda: tuple(
                    self._alive("p.task, p.generator, COUNT(*)", before, tail=" GROUP BY 1, 2")
                ),
            )
            counts: dict[str, int] = {}
            for task, generator, n in groups:
                key = task if column == "task" else generator
                counts[key] = counts.get(key, 0) + n
            return dict(sorted(counts.items()))
        rows = self._alive(f"p.{column}, COUNT(*)", before, tail=f" GROUP BY p.{column}")
        return dict(sorted(rows))

    def live_ids(self) -> list[str]:
        """Ids of the pairs whose unit still exists, whatever the stages decided."""
        sql = "SELECT p.id FROM pairs p JOIN units u ON u.id = p.unit_id ORDER BY p.id"
        return [r[0] for r in self.conn.execute(sql)]

    def reviews_state(self) -> list[tuple[str, float]]:
        """(pair id, last change) of every review: changes when a person decides."""
        return list(self.conn.execute("SELECT pair_id, updated_at FROM reviews ORDER BY pair_id"))

    def splits_state(self) -> list[tuple[str, str]]:
        rows = self._remembered(
            ("splits_state",),
            lambda: tuple(self.conn.execute("SELECT pair_id, split FROM splits ORDER BY pair_id")),
        )
        return list(rows)

    def units_by_kind(self) -> dict[str, int]:
        return dict(sorted(self.conn.execute("SELECT kind, COUNT(*) FROM units GROUP BY kind")))

    def count(self, table: str) -> int:
        """Rows of one of the store's tables."""
        if table not in ("units", "pairs", "files", "decisions", "candidates", "reviews"):
            raise ValueError(f"not a store table: {table}")
        return self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def live_count(self) -> int:
        """Pairs whose unit still exists (what `pairs()` returns), counted in SQL."""
        sql = "SELECT COUNT(*) FROM pairs p JOIN units u ON u.id = p.unit_id"
        return self.conn.execute(sql).fetchone()[0]

    def finished_runs(self) -> int:
        sql = "SELECT COUNT(*) FROM runs WHERE status != 'running'"
        return self.conn.execute(sql).fetchone()[0]

    def unit_languages(self) -> list[str]:
        return sorted(lang for lang in self.unit_counts("language") if lang)

    def decision_counts(self) -> list[tuple[str, int, int]]:
        """(stage, kept, count) of every decision stage's verdicts, by stage (kept: the pairs
        it looked at and did not drop)."""
        sql = """
            SELECT s.stage, 1, s.seen - (SELECT COUNT(*) FROM decisions d
                WHERE d.stage = s.stage AND d.kept = 0) FROM stage_seen s
            UNION ALL SELECT stage, 0, COUNT(*) FROM decisions WHERE kept = 0 GROUP BY stage
            ORDER BY 1, 2"""
        return [row for row in self.conn.execute(sql) if row[2]]

    def dropped_examples(self, stage: str, limit: int) -> list[tuple[str, str | None, Pair]]:
        """(pair id, reason, pair) of the first `limit` pairs `stage` dropped, by id."""
        rows = self.conn.execute(
            f"SELECT d.pair_id, d.reason, {_PAIR_SQL} FROM decisions d "
            "JOIN pairs p ON p.id = d.pair_id "
            "WHERE d.stage = ? AND d.kept = 0 ORDER BY d.pair_id LIMIT ?",
            (stage, limit),
        )
        return [(pid, reason, _pair(row)) for pid, reason, *row in rows]

    def decisions_of(self, pair_id: str) -> list[tuple[str, int, str | None, str | None]]:
        """(stage, kept, reason, detail) of every decision about one pair, by stage."""
        return self.conn.execute(
            "SELECT stage, kept, reason, detail FROM decisions WHERE pair_id = ? ORDER BY stage",
            (pair_id,),
        ).fetchall()

    def notable_decisions(self) -> Iterator[tuple[str, str, int, str | None, str | None]]:
        """(pair, stage, kept, reason, detail) of drops and of verdicts that carry a score."""
        yield from self.conn.execute(
            "SELECT pair_id, stage, kept, reason, detail FROM decisions "
            "WHERE kept = 0 OR detail LIKE '%score%' ORDER BY stage"
        )

    def unit_ids_by_path(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for path, unit_id in self.conn.execute("SELECT path, id FROM units ORDER BY path, id"):
            out.setdefault(path, []).append(unit_id)
        return out

    def units_in(self, path: str) -> list[Unit]:
        rows = self.conn.execute("SELECT data FROM units WHERE path = ? ORDER BY id", (path,))
        return [_unit(r[0]) for r in rows]

    def pair_ids(self, generator: str) -> set[str]:
        rows = self.conn.execute("SELECT id FROM pairs WHERE generator = ?", (generator,))
        return {r[0] for r in rows}

    # template candidates per file (dataprep.generate.candidates) ---------------------
    def template_keys(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT path, key FROM template_cache"))

    def forget_templates(self, paths: Iterable[str]) -> None:
        with self.transaction():
            self.conn.executemany(
                "DELETE FROM template_cache WHERE path = ?", [(p,) for p in paths]
            )

    def put_templates(self, path: str, key: str, data: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO template_cache (path, key, data) VALUES (?, ?, ?)",
                (path, key, pack(data)),
            )

    def template_blobs(self) -> Iterator[str]:
        for (blob,) in self.conn.execute("SELECT data FROM template_cache ORDER BY path"):
            yield unpack(blob)

    # candidates (eliminated LLM output, kept with its reason) ---------------------
    def put_candidate(
        self, cand_id: str, unit_id: str, stage: str, reason: str | None, data: dict
    ) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO candidates (id, unit_id, stage, reason, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (cand_id, unit_id, stage, reason, json.dumps(data, default=str)),
            )

    # LLM cache --------------------------------------------------------------------
    def cache_get(self, key: str) -> dict | None:
        row = self.conn.execute("SELECT response FROM llm_cache WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def cache_put(self, key: str, model: str, request: dict, response: dict) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO llm_cache (key, model, request, response, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    model,
                    json.dumps(request, default=str),
                    json.dumps(response, default=str),
                    time.time(),
                ),
            )

    # per-pair filter verdicts (dataprep.filters.cache.VerdictCache) -----------------
    def filter_verdicts(self) -> dict[str, dict[str, str]]:
        """Cache key -> {filter name: reason, "" when kept} of every stored verdict."""
        rows = self.conn.execute("SELECT key, data FROM filter_cache")
        return {key.hex(): json.loads(unpack(data)) for key, data in rows}

    def filter_verdicts_of(self, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        """`filter_verdicts` of these keys only (those stored)."""
        wanted = [_key(k) for k in dict.fromkeys(keys)]
        out: dict[str, dict[str, str]] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            rows = self.conn.execute(
                f"SELECT key, data FROM filter_cache WHERE key IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update((key.hex(), json.loads(unpack(data))) for key, data in rows)
        return out

    def filter_verdict_keys(self) -> Iterator[str]:
        """The keys of every stored filter verdict, one at a time."""
        for (key,) in self.conn.execute("SELECT key FROM filter_cache"):
            yield key.hex()

    def put_filter_verdicts(
        self, verdicts: dict[str, dict[str, str]], forget: Iterable[str] = ()
    ) -> None:
        """Store (replace) the verdicts of some keys and forget others, in one transaction."""
        with self.transaction():
            self.conn.executemany(
                "DELETE FROM filter_cache WHERE key = ?", [(_key(k),) for k in forget]
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO filter_cache (key, data) VALUES (?, ?)",
                [(_key(k), pack(json.dumps(v, sort_keys=True))) for k, v in verdicts.items()],
            )

    # splits -----------------------------------------------------------------------
    def put_splits(self, assignments: Iterable[tuple[str, str, str]]) -> None:
        """Replace split assignments: (pair_id, split, group). A group that is the pair's
        own path (splits by file) is stored as NULL."""
        with self.transaction():
            self.conn.execute("DELETE FROM splits")
            self.conn.executemany(
                "INSERT INTO splits (pair_id, split, grp) VALUES (?1, ?2, CASE WHEN ?3 = "
                "(SELECT path FROM pairs WHERE id = ?1) THEN NULL ELSE ?3 END)",
                assignments,
            )

    def splits(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT pair_id, split FROM splits"))

    def split_assignments(self) -> list[tuple[str, str, str]]:
        """(pair_id, split, group) of every assignment, as `put_splits` takes them."""
        return self.conn.execute(
            "SELECT s.pair_id, s.split, coalesce(s.grp, p.path) FROM splits s "
            "LEFT JOIN pairs p ON p.id = s.pair_id"
        ).fetchall()

    # reviews ----------------------------------------------------------------------
    def put_review(self, review: Review, batch: str | None = None) -> None:
        """Commit a person's decision at once, logging the previous state for undo.

        Reviews written with the same `batch` (one bulk action, one review a pair) are
        undone together.
        """
        with self.transaction():
            row = self.conn.execute(
                "SELECT data FROM reviews WHERE pair_id = ?", (review.pair_id,)
            ).fetchone()
            self.conn.execute(
                "INSERT INTO review_events (pair_id, before, after, at, batch) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    review.pair_id,
                    row[0] if row else None,
                    review.model_dump_json(),
                    time.time(),
                    batch,
                ),
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO reviews (pair_id, data, updated_at) VALUES (?, ?, ?)",
                (review.pair_id, review.model_dump_json(), time.time()),
            )
            self._review_status("SELECT ? AS pair_id", (review.pair_id,))

    def reviews(self) -> dict[str, Review]:
        return {
            pair_id: Review.model_validate_json(data)
            for pair_id, data in self.conn.execute("SELECT pair_id, data FROM reviews")
        }

    def decided_reviews(self) -> dict[str, Review]:
        """Reviews that carry a person's verdict (a flag or a note alone is not one)."""
        return {pid: r for pid, r in self.reviews().items() if r.status != "unreviewed"}

    def review(self, pair_id: str) -> Review | None:
        row = self.conn.execute("SELECT data FROM reviews WHERE pair_id = ?", (pair_id,)).fetchone()
        return Review.model_validate_json(row[0]) if row else None

    def undo_review(self, pair_id: str | None = None) -> list[str]:
        """Revert the latest review action (of one pair, or of any); returns the pair ids restored.

        Undoing the latest action overall reverts a whole bulk action (its batch); undoing
        one pair's latest action reverts that pair only. Undone events leave the log, so
        repeated undos walk further back.
        """
        with self.transaction():
            sql, args = "SELECT id, batch FROM review_events", ()
            if pair_id is not None:
                sql, args = sql + " WHERE pair_id = ?", (pair_id,)
            last = self.conn.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
            if last is None:
                return []
            event_id, batch = last
            if batch is not None and pair_id is None:
                return self._undo_batch(batch)
            rows = self.conn.execute(
                "SELECT id, pair_id, before FROM review_events WHERE id = ?", (event_id,)
            ).fetchall()
            for row_id, row_pair, before in rows:
                if before is None:
                    self.conn.execute("DELETE FROM reviews WHERE pair_id = ?", (row_pair,))
                else:
                    self.conn.execute(
                        "INSERT OR REPLACE INTO reviews (pair_id, data, updated_at) "
                        "VALUES (?, ?, ?)",
                        (row_pair, before, time.time()),
                    )
                self.conn.execute("DELETE FROM review_events WHERE id = ?", (row_id,))
                self._review_status("SELECT ? AS pair_id", (row_pair,))
            return [row_pair for _, row_pair, _ in rows]

    # the review queue (dataprep.review): review_rows and review_search, migration 5 ----
    def sizes(self) -> dict[str, int]:
        """Bytes of each table and index in the store file (SQLite's dbstat; {} without it)."""
        try:
            rows = self.conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
            return dict(rows.fetchall())
        except sqlite3.OperationalError:
            return {}

    def use_cache(self, megabytes: int) -> None:
        """Let this connection keep up to `megabytes` of the store's pages in memory (the
        review server reads the same tables again and again; a bulk action rewrites many)."""
        self.conn.execute(f"PRAGMA cache_size = {-1024 * int(megabytes)}")

    def data_version(self) -> int:
        """A number that changes when another connection commits (`PRAGMA data_version`)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def refresh_review_rows(self) -> int:
        """Bring the store into `review_rows` and `review_search`: a row and a search entry
        for each pair added since, none for a pair gone; then each pair's state: whether its
        unit exists, its split, the stages that dropped it, its judge score, and (when pairs
        came) its place in the default order (path, start line, task, id). Writes only the
        rows that changed; returns how many. The review app calls it when it starts and
        after another process wrote the store (the first call on a store of 250k pairs
        takes seconds; later ones, a second at most).
        """
        temp_store = self.conn.execute("PRAGMA temp_store").fetchone()[0]
        self.conn.execute("PRAGMA temp_store = MEMORY")  # a few MB, not a temporary file
        try:
            return self._refresh_review_rows()
        finally:
            self.conn.execute(f"PRAGMA temp_store = {temp_store}")

    def _refresh_review_rows(self) -> int:
        with self.transaction():
            changed = self._review_pairs()
            if self.conn.execute("SELECT 1 FROM review_rows WHERE pos IS NULL").fetchone():
                changed += self.conn.execute(_REVIEW_ORDER).rowcount
            for sql in _REVIEW_STATE:
                rows = self.conn.execute(sql).rowcount
                changed += rows if sql.lstrip().startswith("UPDATE") else 0
            self.conn.execute("DROP TABLE temp.review_verdicts")
            if changed:  # the planner's statistics of review_rows, from a sample (fast)
                self.conn.execute("PRAGMA analysis_limit = 1000")
                self.conn.execute("ANALYZE review_rows")
        return changed

    def _review_pairs(self) -> int:
        """Rows (and search entries) for the pairs added since, none for the pairs gone; the
        search index is built again once the entries of gone pairs pass a quarter of it."""
        gone = self.conn.execute(  # through the pair ids' indexes, not the rows
            "DELETE FROM review_rows WHERE n IN (SELECT n FROM review_rows "
            "WHERE pair_id NOT IN (SELECT id FROM pairs))"
        ).rowcount
        stale = self.get_meta("review_search_stale", 0) + gone
        last = self.conn.execute("SELECT coalesce(max(n), 0) FROM review_rows").fetchone()[0]
        added = self.conn.execute(_REVIEW_ADD).rowcount
        rows = self.conn.execute("SELECT count(*) FROM review_rows").fetchone()[0]
        if stale >= 1000 and stale * 4 > rows:
            self.conn.execute("INSERT INTO review_search(review_search) VALUES ('delete-all')")
            last, stale = 0, 0
        if added or not last:
            self.conn.execute(_REVIEW_INDEX, (last,))
        if gone or stale != self.get_meta("review_search_stale", 0):
            self.set_meta("review_search_stale", stale)
        return gone + added

    def review_counts(self, filters: Any, ids: list[str] | None = None) -> list[tuple]:
        """(status, task, kind, generator, split, dropped, flagged, judged, count) of the live
        pairs passing the search and judge parts of `filters` (and among `ids`), grouped:
        the few rows every facet count and progress figure of the queue adds up (`judged`:
        how many of them have a judge score)."""
        where, args = _review_where(filters, ids, facets=False)
        sql = (
            "SELECT status, task, kind, generator, split, dropped, flagged, "
            f"sum(judge IS NOT NULL), COUNT(*) FROM review_rows WHERE {where} "
            "GROUP BY task, kind, generator, split, dropped, status, flagged"
        )
        return self.conn.execute(sql, args).fetchall()

    def review_count(self, filters: Any, ids: list[str] | None = None) -> int:
        """Live pairs passing `filters` (and among `ids`)."""
        where, args = _review_where(filters, ids)
        return self.conn.execute(
            f"SELECT COUNT(*) FROM review_rows WHERE {where}", args
        ).fetchone()[0]

    def review_page(
        self,
        filters: Any,
        sort: str = "source",
        desc: bool = False,
        limit: int = 50,
        offset: int = 0,
        ids: list[str] | None = None,
        equal: dict[str, Any] | None = None,
        walk: bool = False,
    ) -> list[tuple]:
        """A page of the queue: `REVIEW_ROW` tuples of the live pairs passing `filters` (and
        among `ids`, and with the column values `equal` gives: None for NULL, NOT_NULL), in
        `sort` order (a `REVIEW_SORTS` key; ties in source order). `walk`: the filters pass
        most pairs, so walk the order's index rather than sort what they select."""
        where, args = _review_where(filters, ids, equal=equal)
        sql = (
            f"SELECT n FROM review_rows {_review_index(sort, walk)} WHERE {where} "
            f"ORDER BY {_review_order(sort, desc)} LIMIT ? OFFSET ?"
        )
        return self._review_rows_of([r[0] for r in self.conn.execute(sql, (*args, limit, offset))])

    def review_row(self, pair_id: str) -> tuple | None:
        """The `REVIEW_ROW` tuple of one pair, live or not; None when it is not stored."""
        row = self.conn.execute(
            "SELECT n FROM review_rows WHERE pair_id = ?", (pair_id,)
        ).fetchone()
        rows = self._review_rows_of([row[0]]) if row else []
        return rows[0] if rows else None

    def _review_rows_of(self, ns: list[int]) -> list[tuple]:
        if not ns:
            return []
        rows = self.conn.execute(
            f"SELECT q.n, {REVIEW_ROW} FROM review_rows q JOIN pairs p ON p.id = q.pair_id "
            "WHERE q.n IN (SELECT value FROM json_each(?))",
            (json.dumps(ns),),
        )
        by_n = {row[0]: row[1:] for row in rows}
        return [by_n[n] for n in ns if n in by_n]

    def review_reasons(self, pair_ids: list[str]) -> dict[str, list[str]]:
        """Pair id -> "stage: reason" of each stage that dropped it, by stage."""
        rows = self.conn.execute(
            "SELECT pair_id, stage, reason FROM decisions WHERE kept = 0 "
            "AND pair_id IN (SELECT value FROM json_each(?)) ORDER BY pair_id, stage",
            (json.dumps(pair_ids),),
        )
        out: dict[str, list[str]] = {}
        for pair_id, stage, reason in rows:
            out.setdefault(pair_id, []).append(f"{stage}: {reason}" if reason else stage)
        return out

    def review_neighbours(
        self,
        pair_id: str,
        filters: Any,
        sort: str = "source",
        desc: bool = False,
        ids: list[str] | None = None,
        equal: dict[str, Any] | None = None,
        walk: bool = False,
    ) -> tuple[str | None, str | None]:
        """The previous and next pair ids around `pair_id` in the queue's order, among the
        pairs `review_page` would show. The pair itself need not pass the filters (it may
        have just been accepted out of an "unreviewed" queue): its place decides."""
        key = _review_key(sort)
        here = self.conn.execute(
            f"SELECT {key}, pos FROM review_rows WHERE pair_id = ?", (pair_id,)
        ).fetchone()
        if here is None:
            return None, None
        where, args = _review_where(filters, ids, equal=equal)
        found: list[str | None] = []
        for ahead in (desc, not desc):  # the previous pair, then the next
            cmp = ">" if ahead else "<"
            after, values = (f"({key}, pos) {cmp} (?, ?)", here)
            if key == "pos":
                after, values = f"pos {cmp} ?", here[1:]
            sql = (
                f"SELECT pair_id FROM review_rows {_review_index(sort, walk)} "
                f"WHERE {where} AND {after} ORDER BY {_review_order(sort, not ahead)} LIMIT 1"
            )
            row = self.conn.execute(sql, (*args, *values)).fetchone()
            found.append(row[0] if row else None)
        return found[0], found[1]

    def review_sample(self, filters: Any, per_task: int, seed: str) -> list[str]:
        """Ids of up to `per_task` pairs of each task among the live pairs passing `filters`,
        picked by `seed`. Ids are content hashes, so the pairs from a point of the id space
        on (a hash of the seed) are a random sample; another seed, another sample."""
        where, args = _review_where(filters)
        start = hashlib.sha256(f"sample:{seed}".encode()).hexdigest()[:16]
        tasks = [filters.task] if filters.task else self._review_tasks()
        sql = (
            "SELECT pair_id FROM review_rows INDEXED BY review_rows_task "
            f"WHERE task = ? AND pair_id {{}} ? AND {where} ORDER BY pair_id LIMIT ?"
        )
        out: list[str] = []
        for task in tasks:
            picked = 0
            for cmp in (">=", "<"):  # from the seed's point on, then round from the start
                rows = self.conn.execute(
                    sql.format(cmp), (task, start, *args, per_task - picked)
                ).fetchall()
                out += [r[0] for r in rows]
                picked += len(rows)
        return out

    def _review_tasks(self) -> list[str]:
        """Every task of review_rows, read through its index a task at a time."""
        return [
            r[0]
            for r in self.conn.execute(
                "WITH RECURSIVE t(task) AS (SELECT min(task) FROM review_rows UNION ALL "
                "SELECT (SELECT min(task) FROM review_rows WHERE task > t.task) FROM t "
                "WHERE t.task IS NOT NULL) SELECT task FROM t WHERE task IS NOT NULL"
            )
        ]

    def bulk_review(
        self,
        filters: Any,
        status: str,
        reason: str | None,
        batch: str,
        ids: list[str] | None = None,
        expected: int | None = None,
    ) -> tuple[int, int]:
        """Accept (`status` "accepted") or reject ("rejected", with `reason`) every live pair
        passing `filters` (and among `ids`) in one transaction, as
        `dataprep.review.actions.next_review` does for one pair: accepting a revised pair
        makes it "edited", a flag and its note stay, a pair already so is left alone. Every
        change is logged under `batch`, so one `undo_review()` reverts them all. Returns
        (matched, changed); with `expected` given and not matched, writes nothing.
        """
        if status not in ("accepted", "rejected"):
            raise ValueError(f"not a bulk review status: {status}")
        where, args = _review_where(filters, ids, alias="q")
        fresh = Review(pair_id="", status=status, reason=reason).model_dump_json()
        new_status = "'rejected'" if status == "rejected" else _ACCEPTED
        with self.transaction():
            matched = self.review_count(filters, ids)
            if expected is not None and matched != expected:
                return matched, 0
            changed = self.conn.execute(
                "INSERT INTO review_events (pair_id, before, after, at, batch) "
                "SELECT q.pair_id, r.data, CASE WHEN r.data IS NULL "
                "THEN json_set(?, '$.pair_id', q.pair_id) "
                f"ELSE json_set(r.data, '$.status', {new_status}, '$.reason', ?) END, ?, ? "
                "FROM review_rows q LEFT JOIN reviews r ON r.pair_id = q.pair_id "
                f"WHERE {where} AND (r.data IS NULL "
                f"OR json_extract(r.data, '$.status') IS NOT {new_status} "
                "OR json_extract(r.data, '$.reason') IS NOT ?)",
                (fresh, reason, time.time(), batch, *args, reason),
            ).rowcount
            self.conn.execute(
                "INSERT OR REPLACE INTO reviews (pair_id, data, updated_at) "
                "SELECT pair_id, after, at FROM review_events WHERE batch = ?",
                (batch,),
            )
            # review_rows last (the filters read its status): one plain update a status
            revised = f"SELECT pair_id FROM reviews WHERE {_REVISED}"
            updates = [("rejected", "")]
            if status == "accepted":
                updates = [
                    ("accepted", f"AND q.pair_id NOT IN ({revised})"),
                    ("edited", f"AND q.pair_id IN ({revised})"),
                ]
            for new, only in updates:
                sql = f"UPDATE review_rows AS q SET status = ? WHERE {where} AND q.status != ?"
                self.conn.execute(f"{sql} {only}", (new, *args, new))
        return matched, changed

    def _undo_batch(self, batch: str) -> list[str]:
        """Revert every review of one bulk action in a few statements (see `undo_review`);
        a batch holds one event a pair (`bulk_review`)."""
        events = "SELECT pair_id FROM review_events WHERE batch = ?"
        self.conn.execute(
            f"DELETE FROM reviews WHERE pair_id IN ({events} AND before IS NULL)", (batch,)
        )
        self.conn.execute(
            "INSERT OR REPLACE INTO reviews (pair_id, data, updated_at) "
            "SELECT pair_id, before, ? FROM review_events WHERE batch = ? AND before IS NOT NULL",
            (time.time(), batch),
        )
        self.conn.execute(  # by rowid, in its order: the quickest way through 100k rows
            "UPDATE review_rows SET status = 'unreviewed' WHERE n IN (SELECT q.n "
            "FROM review_events e JOIN review_rows q ON q.pair_id = e.pair_id "
            "WHERE e.batch = ? AND e.before IS NULL)",
            (batch,),
        )
        self._review_status(f"{events} AND before IS NOT NULL", (batch,))
        rows = self.conn.execute(
            "SELECT pair_id FROM review_events WHERE batch = ? ORDER BY id DESC", (batch,)
        ).fetchall()
        self.conn.execute("DELETE FROM review_events WHERE batch = ?", (batch,))
        return [r[0] for r in rows]

    def _review_status(self, pair_ids: str, args: tuple) -> None:
        """Copy the status and flag of the pairs that `pair_ids` (a SELECT of a `pair_id`
        column) selects from their reviews into review_rows."""
        self.conn.execute(
            "UPDATE review_rows SET "
            "status = coalesce(json_extract(r.data, '$.status'), 'unreviewed'), "
            "flagged = coalesce(json_extract(r.data, '$.flagged'), 0) "
            f"FROM (SELECT e.pair_id AS pair_id, v.data AS data FROM ({pair_ids}) AS e "
            "LEFT JOIN reviews v ON v.pair_id = e.pair_id) AS r "
            "WHERE r.pair_id = review_rows.pair_id",
            args,
        )


# The review queue's row (Store.review_page, review_row): pair id, instruction and output
# (their first 300 characters), generator, task, unit kind, path, start and end line,
# split ('' when none), status, flagged, the stages that dropped it (comma-separated),
# judge score.
REVIEW_ROW = (
    "q.pair_id, substr(json_extract(unpack(p.data), '$.instruction'), 1, 300), "
    "substr(json_extract(unpack(p.data), '$.output'), 1, 300), q.generator, q.task, q.kind, "
    "p.path, json_extract(unpack(p.data), '$.start_line'), "
    "json_extract(unpack(p.data), '$.end_line'), q.split, "
    "q.status, q.flagged, q.dropped, q.judge"
)
# What the queue sorts by: a column's name -> its review_rows expression.
REVIEW_SORTS = {
    "source": "pos",
    "status": "status",
    "instruction": "instruction",
    "output": "output",
    "task": "task",
    "kind": "kind",
    "generator": "generator",
    "split": "split",
    "filters": "dropped",
    "judge": "judge",
}
REVIEW_FACETS = ("status", "task", "kind", "generator", "split")
NOT_NULL = "NOT NULL"  # a value of `equal` (Store.review_page): the column has a value


def _revised(data: str) -> str:
    """Whether the review JSON `data` holds a revision (actions.has_revision), in SQL."""
    fields = ", ".join(
        f"json_extract({data}, '$.{name}')" for name in ("instruction", "input", "output")
    )
    return f"coalesce({fields}) IS NOT NULL"


_REVISED = _revised("data")
# The status a bulk accept gives a review `r`: "edited" when it holds a revision.
_ACCEPTED = f"(CASE WHEN {_revised('r.data')} THEN 'edited' ELSE 'accepted' END)"
# A judge stage's score of a pair: `judge_score` (or `score`) of its decision's JSON detail.
_JUDGE = (
    "(CASE WHEN json_valid(detail) AND json_type(detail) = 'object' THEN coalesce("
    "json_extract(detail, '$.judge_score'), json_extract(detail, '$.score')) END)"
)
# The queue's rows of the pairs not in it yet, and their search entries (rowid past `?`).
_REVIEW_ADD = """
    INSERT INTO review_rows (pair_id, unit_id, task, kind, generator, start_line, instruction,
        output, status, flagged)
    WITH fresh AS MATERIALIZED (  -- through the ids' index, not the pairs' 1 kB rows
        SELECT id FROM pairs WHERE id NOT IN (SELECT pair_id FROM review_rows)
    )
    SELECT p.id, p.unit_id, p.task, coalesce(json_extract(unpack(p.data), '$.unit_kind'), ''),
        p.generator, coalesce(json_extract(unpack(p.data), '$.start_line'), 0),
        substr(json_extract(unpack(p.data), '$.instruction'), 1, 24),
        substr(json_extract(unpack(p.data), '$.output'), 1, 24),
        coalesce(json_extract(r.data, '$.status'), 'unreviewed'),
        coalesce(json_extract(r.data, '$.flagged'), 0)
    FROM fresh JOIN pairs p ON p.id = fresh.id LEFT JOIN reviews r ON r.pair_id = p.id
    ORDER BY p.path, 6, p.task, p.id
"""
_REVIEW_INDEX = """
    INSERT INTO review_search (rowid, instruction, input, output)
    SELECT q.n, json_extract(unpack(p.data), '$.instruction'),
        json_extract(unpack(p.data), '$.input'), json_extract(unpack(p.data), '$.output')
    FROM review_rows q JOIN pairs p ON p.id = q.pair_id WHERE q.n > ?
"""
# The default order of the queue: review_rows.pos, renumbered when pairs were added.
_REVIEW_ORDER = """
    UPDATE review_rows SET pos = t.pos FROM (
        SELECT q.n AS n,
            ROW_NUMBER() OVER (ORDER BY p.path, q.start_line, q.task, q.pair_id) AS pos
        FROM review_rows q JOIN pairs p ON p.id = q.pair_id
    ) AS t
    WHERE t.n = review_rows.n AND review_rows.pos IS NOT t.pos
"""
# The pipeline's state of every pair into review_rows, each statement writing only the rows
# that changed: whether its unit exists, its split, the verdicts that matter (the drops, and
# a judge's scores, read stage by stage through the decisions_stage index), and its review
# (kept in step by the store's review methods; read again here should another writer not).
_REVIEW_STATE = (
    "DROP TABLE IF EXISTS temp.review_verdicts",
    """
    UPDATE review_rows SET live = 1 - live
    WHERE live != EXISTS (SELECT 1 FROM units WHERE id = review_rows.unit_id)
    """,
    """
    UPDATE review_rows SET split = s.split FROM splits s
    WHERE s.pair_id = review_rows.pair_id AND review_rows.split != s.split
    """,
    """
    UPDATE review_rows SET split = ''
    WHERE split != '' AND pair_id NOT IN (SELECT pair_id FROM splits)
    """,
    """
    CREATE TEMP TABLE review_verdicts (pair_id TEXT PRIMARY KEY, dropped TEXT, judge REAL)
    """,
    f"""
    INSERT INTO temp.review_verdicts
    WITH RECURSIVE stages(stage) AS (
        SELECT min(stage) FROM decisions
        UNION ALL
        SELECT (SELECT min(stage) FROM decisions WHERE stage > stages.stage) FROM stages
        WHERE stages.stage IS NOT NULL
    ), notable AS (
        SELECT pair_id, stage, kept, CASE WHEN instr(stage, 'judge') THEN {_JUDGE} END AS score
        FROM decisions WHERE stage IN (SELECT stage FROM stages) AND kept = 0
        UNION ALL
        SELECT pair_id, stage, kept, {_JUDGE} AS score
        FROM decisions WHERE stage IN (SELECT stage FROM stages WHERE instr(stage, 'judge'))
            AND kept = 1
    )
    SELECT pair_id, coalesce(group_concat(CASE WHEN kept = 0 THEN stage END), ''),
        max(CASE WHEN typeof(score) IN ('integer', 'real') THEN score END)
    FROM (SELECT * FROM notable ORDER BY pair_id, stage)
    GROUP BY pair_id
    """,
    """
    UPDATE review_rows SET dropped = v.dropped, judge = v.judge FROM temp.review_verdicts v
    WHERE v.pair_id = review_rows.pair_id
        AND (review_rows.dropped != v.dropped OR review_rows.judge IS NOT v.judge)
    """,
    """
    UPDATE review_rows SET dropped = '', judge = NULL
    WHERE (dropped != '' OR judge IS NOT NULL)
        AND pair_id NOT IN (SELECT pair_id FROM temp.review_verdicts)
    """,
    """
    UPDATE review_rows SET status = json_extract(r.data, '$.status'),
        flagged = coalesce(json_extract(r.data, '$.flagged'), 0)
    FROM reviews r WHERE r.pair_id = review_rows.pair_id
        AND (review_rows.status IS NOT json_extract(r.data, '$.status')
            OR review_rows.flagged IS NOT coalesce(json_extract(r.data, '$.flagged'), 0))
    """,
    """
    UPDATE review_rows SET status = 'unreviewed', flagged = 0
    WHERE (status != 'unreviewed' OR flagged != 0)
        AND pair_id NOT IN (SELECT pair_id FROM reviews)
    """,
)


def _review_where(
    filters: Any,
    ids: list[str] | None = None,
    facets: bool = True,
    alias: str = "",
    equal: dict[str, Any] | None = None,
) -> tuple[str, list]:
    """(SQL, arguments) over review_rows (named `alias`) for the queue's `filters`, an object
    with the attributes of `dataprep.review.queue.Filters`; `facets=False` leaves out the
    facet and flag filters (the queue counts those itself from `review_counts`); `equal`
    adds column values (None: NULL; NOT_NULL: any value).

    Example: Filters(task="method.code", flag="kept") ->
        ("+live = 1 AND task = ? AND +dropped = ''", ["method.code"])
    """
    a = f"{alias}." if alias else ""
    # `+` keeps the planner off an index for a term most rows pass
    sql, args = [f"+{a}live = 1"], []
    if facets:
        for name in REVIEW_FACETS:
            if value := getattr(filters, name):
                sql.append(f"{a}{name} = ?")
                args.append(value)
        flag = filters.flag
        if flag == "kept":
            sql.append(f"+{a}dropped = ''")
        elif flag == "dropped":
            sql.append(f"+{a}dropped != ''")
        elif flag == "flagged":
            sql.append(f"{a}flagged = 1")
        elif flag.startswith("dropped:"):
            sql.append(f"instr(',' || {a}dropped || ',', ?) > 0")
            args.append(f",{flag.removeprefix('dropped:')},")
    if filters.judge_min is not None:
        sql.append(f"{a}judge >= ?")
        args.append(filters.judge_min)
    if filters.judge_max is not None:
        sql.append(f"{a}judge <= ?")
        args.append(filters.judge_max)
    if filters.q and (match := search_query(filters.q)):
        sql.append(f"{a}n IN (SELECT rowid FROM review_search WHERE review_search MATCH ?)")
        args.append(match)
    if ids is not None:
        sql.append(f"{a}pair_id IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(ids))
    for column, value in (equal or {}).items():
        if column not in (*REVIEW_FACETS, "dropped", "judge"):
            raise ValueError(f"not a review_rows column to match: {column}")
        if value is None or value == NOT_NULL:
            sql.append(f"{a}{column} IS {value or 'NULL'}")
        else:
            sql.append(f"{a}{column} = ?")
            args.append(value)
    return " AND ".join(sql), args


def _review_key(sort: str) -> str:
    if sort not in REVIEW_SORTS:
        raise ValueError(f"not a review sort: {sort}")
    return REVIEW_SORTS[sort]


def _review_index(sort: str, walk: bool) -> str:
    """`INDEXED BY` the index of the order `sort`, when the query should walk it."""
    index = {"source": "pos", "instruction": "instruction", "output": "output"}.get(sort)
    return f"INDEXED BY review_rows_{index}" if walk and index else ""


def _review_order(sort: str, desc: bool) -> str:
    way = " DESC" if desc else ""
    key = _review_key(sort)
    return f"pos{way}" if key == "pos" else f"{key}{way}, pos{way}"


def search_query(text: str) -> str:
    """A search box's text as an FTS5 query: every word must occur (in the instruction,
    input or output), "words in quotes" together, and a word ending in * as a prefix. Each
    word is quoted, so FTS5's operators and punctuation in the text are searched as text.

    Example: 'HashMap "get or" comput*' -> '"HashMap" "get or" "comput"*'
    """
    terms = []
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', text):
        prefix = not phrase and word.endswith("*")
        term = (phrase or word).rstrip("*") if prefix else (phrase or word)
        if term.strip():
            terms.append('"' + term.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms)
