"""The SQLite working store: `DIR/dataprep.db`, WAL, numbered migrations applied on open.

Every stage reads what the last one committed and writes in transactions, so a run
killed at any moment loses nothing that was committed. Records are stored as their
JSON (the `data` column) beside the columns the pipeline queries on.
"""

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dataprep.errors import StoreError, system_error
from dataprep.models import Decision, Pair, Review, Unit

DB_NAME = "dataprep.db"
_LAST_OPENED: Path | None = None


def last_opened() -> Path | None:
    """The store this process opened last (named in errors about a damaged store)."""
    return _LAST_OPENED


# Append only: a shipped migration never changes. Each runs in one transaction.
MIGRATIONS: list[str] = [
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
]


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


class Store:
    """The working store of one output directory.

    Example:
        store = Store.open(Path("out"))
        with store.transaction():
            store.put_units("src/A.java", units)
    """

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

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
                for statement in script.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={number}")

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
                [(u.id, u.path, u.kind, u.qualified_name, u.model_dump_json()) for u in units],
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

    def units(self, kind: str | None = None) -> list[Unit]:
        sql, args = "SELECT data FROM units", ()
        if kind:
            sql, args = sql + " WHERE kind = ?", (kind,)
        return [
            Unit.model_validate_json(row[0])
            for row in self.conn.execute(sql + " ORDER BY path, id", args)
        ]

    def unit(self, unit_id: str) -> Unit | None:
        row = self.conn.execute("SELECT data FROM units WHERE id = ?", (unit_id,)).fetchone()
        return Unit.model_validate_json(row[0]) if row else None

    # pairs ------------------------------------------------------------------------
    def put_pairs(self, pairs: Iterable[Pair], run_id: int | None = None) -> int:
        """Insert pairs not yet stored; returns how many were new."""
        with self.transaction():
            before = self.conn.total_changes
            self.conn.executemany(
                "INSERT OR IGNORE INTO pairs (id, unit_id, generator, task, path, data, run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (p.id, p.unit_id, p.generator, p.task, p.path, p.model_dump_json(), run_id)
                    for p in pairs
                ],
            )
            return self.conn.total_changes - before

    def pairs(self, generator: str | None = None, live_only: bool = True) -> list[Pair]:
        """Stored pairs, by id; `live_only` keeps those whose unit still exists."""
        sql = "SELECT p.data FROM pairs p"
        if live_only:
            sql += " JOIN units u ON u.id = p.unit_id"
        args: tuple[str, ...] = ()
        if generator:
            sql, args = sql + " WHERE p.generator = ?", (generator,)
        return [
            Pair.model_validate_json(row[0])
            for row in self.conn.execute(sql + " ORDER BY p.id", args)
        ]

    def pair(self, pair_id: str) -> Pair | None:
        row = self.conn.execute("SELECT data FROM pairs WHERE id = ?", (pair_id,)).fetchone()
        return Pair.model_validate_json(row[0]) if row else None

    def delete_pairs(self, pair_ids: Iterable[str]) -> None:
        with self.transaction():
            self.conn.executemany("DELETE FROM pairs WHERE id = ?", [(i,) for i in pair_ids])

    # decisions --------------------------------------------------------------------
    def put_decisions(
        self, stage: str, decisions: Iterable[Decision], run_id: int | None = None
    ) -> int:
        """Replace a stage's verdicts: the stage has just looked at every pair again.

        The one decision writer. `decisions` are `Decision`s or records with the same
        fields (the filter chain's `Verdict`s), all of `stage`. Only the rows that changed
        are written (an incremental run re-decides every pair but changes few verdicts), so
        a row keeps the id of the run that first gave its verdict. Returns the rows written.
        """
        with self.transaction():
            old = {
                pid: (bool(kept), reason, detail)
                for pid, kept, reason, detail in self.conn.execute(
                    "SELECT pair_id, kept, reason, detail FROM decisions WHERE stage = ?", (stage,)
                )
            }
            new = {d.pair_id: d for d in decisions}
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

    def decision_details(self, stage: str) -> dict[str, str]:
        """Pair id -> the detail (JSON) of `stage`'s decisions that have one."""
        rows = self.conn.execute(
            "SELECT pair_id, detail FROM decisions WHERE stage = ? AND detail IS NOT NULL",
            (stage,),
        )
        return dict(rows)

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
        rows = self._alive("p.data", before, generator=generator)
        return [Pair.model_validate_json(r[0]) for r in rows]

    def _alive(
        self, columns: str, before: str | None, generator: str | None = None, tail: str = ""
    ) -> sqlite3.Cursor:
        """The one rule for the pairs alive when stage `before` starts (None: after every
        stage): live pairs (their unit exists) that no decision of an earlier-ranked stage
        (`stage_rank`) dropped. Rows of `columns`, by pair id unless `tail` says otherwise."""
        sql = (
            f"SELECT {columns} FROM pairs p JOIN units u ON u.id = p.unit_id WHERE p.id NOT IN "
            f"(SELECT pair_id FROM decisions WHERE kept = 0 AND {_RANK} < ?)"
        )
        args: tuple[Any, ...] = (stage_rank(before),)
        if generator:
            sql, args = sql + " AND p.generator = ?", (*args, generator)
        return self.conn.execute(sql + (tail or " ORDER BY p.id"), args)

    # state the stages read (fingerprints) and count ---------------------------------
    def kept_ids(self, before: str | None = None) -> list[str]:
        """Ids of the live pairs no stage dropped (what `kept_pairs` returns, in SQL); with
        `before`, the pairs alive when that stage starts: its own verdicts and those of the
        stages after it (`STAGE_ORDER`) set aside.

        Example: kept_ids(before="balance") -> the pairs the filters kept
        """
        return [r[0] for r in self._alive("p.id", before)]

    def kept_counts(self, column: str, before: str | None = None) -> dict[str, int]:
        """Kept pairs (alive when `before` starts) counted by `column` (task, generator...)."""
        if column not in ("task", "generator", "path", "unit_id"):
            raise ValueError(f"not a pairs column: {column}")
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
        return list(self.conn.execute("SELECT pair_id, split FROM splits ORDER BY pair_id"))

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
        rows = self.conn.execute("SELECT DISTINCT json_extract(data, '$.language') FROM units")
        return sorted(r[0] for r in rows if r[0])

    def decision_counts(self) -> list[tuple[str, int, int]]:
        """(stage, kept, count) of every decision, by stage."""
        sql = "SELECT stage, kept, COUNT(*) FROM decisions GROUP BY stage, kept ORDER BY stage"
        return list(self.conn.execute(sql))

    def dropped_examples(self, stage: str, limit: int) -> list[tuple[str, str | None, Pair]]:
        """(pair id, reason, pair) of the first `limit` pairs `stage` dropped, by id."""
        rows = self.conn.execute(
            "SELECT d.pair_id, d.reason, p.data FROM decisions d JOIN pairs p ON p.id = d.pair_id "
            "WHERE d.stage = ? AND d.kept = 0 ORDER BY d.pair_id LIMIT ?",
            (stage, limit),
        )
        return [(pid, reason, Pair.model_validate_json(data)) for pid, reason, data in rows]

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

    def queue_rows(self) -> Iterator[tuple]:
        """(id, instruction, generator, task, unit kind, path, start, end, judge score) of
        every live pair: the review queue's columns, read without loading whole pairs."""
        yield from self.conn.execute(
            "SELECT p.id, json_extract(p.data, '$.instruction'), p.generator, p.task, "
            "json_extract(p.data, '$.unit_kind'), p.path, json_extract(p.data, '$.start_line'), "
            "json_extract(p.data, '$.end_line'), json_extract(p.data, '$.judge_score') "
            "FROM pairs p JOIN units u ON u.id = p.unit_id"
        )

    def unit_ids_by_path(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for path, unit_id in self.conn.execute("SELECT path, id FROM units ORDER BY path, id"):
            out.setdefault(path, []).append(unit_id)
        return out

    def units_in(self, path: str) -> list[Unit]:
        rows = self.conn.execute("SELECT data FROM units WHERE path = ? ORDER BY id", (path,))
        return [Unit.model_validate_json(r[0]) for r in rows]

    def pair_ids(self, generator: str) -> set[str]:
        rows = self.conn.execute("SELECT id FROM pairs WHERE generator = ?", (generator,))
        return {r[0] for r in rows}

    # template candidates per file (dataprep.generate.templates) ---------------------
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
                (path, key, data),
            )

    def template_blobs(self) -> Iterator[str]:
        for (blob,) in self.conn.execute("SELECT data FROM template_cache ORDER BY path"):
            yield blob

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
        return {key: json.loads(data) for key, data in rows}

    def put_filter_verdicts(
        self, verdicts: dict[str, dict[str, str]], forget: Iterable[str] = ()
    ) -> None:
        """Store (replace) the verdicts of some keys and forget others, in one transaction."""
        with self.transaction():
            self.conn.executemany("DELETE FROM filter_cache WHERE key = ?", [(k,) for k in forget])
            self.conn.executemany(
                "INSERT OR REPLACE INTO filter_cache (key, data) VALUES (?, ?)",
                [(k, json.dumps(v, sort_keys=True)) for k, v in verdicts.items()],
            )

    # splits -----------------------------------------------------------------------
    def put_splits(self, assignments: Iterable[tuple[str, str, str]]) -> None:
        """Replace split assignments: (pair_id, split, group)."""
        with self.transaction():
            self.conn.execute("DELETE FROM splits")
            self.conn.executemany(
                "INSERT INTO splits (pair_id, split, grp) VALUES (?, ?, ?)", assignments
            )

    def splits(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT pair_id, split FROM splits"))

    def split_assignments(self) -> list[tuple[str, str, str]]:
        """(pair_id, split, group) of every assignment, as `put_splits` takes them."""
        return self.conn.execute("SELECT pair_id, split, grp FROM splits").fetchall()

    # reviews ----------------------------------------------------------------------
    def put_review(self, review: Review, batch: str | None = None) -> None:
        """Commit a person's decision at once, logging the previous state for undo.

        Reviews written with the same `batch` (one bulk action) are undone together.
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

    def reviews(self) -> dict[str, Review]:
        return {
            pair_id: Review.model_validate_json(data)
            for pair_id, data in self.conn.execute("SELECT pair_id, data FROM reviews")
        }

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
                where, key = "batch = ?", batch
            else:
                where, key = "id = ?", event_id
            rows = self.conn.execute(
                f"SELECT id, pair_id, before FROM review_events WHERE {where} ORDER BY id DESC",
                (key,),
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
            return [row_pair for _, row_pair, _ in rows]
