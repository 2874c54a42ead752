"""The SQLite working store: `DIR/dataprep.db`, WAL, numbered migrations applied on open.

Every stage reads what the last one committed and writes in transactions, so a run
killed at any moment loses nothing that was committed. Records are stored as their
JSON (the `data` column, compressed: `dataprep.codec`) beside the columns the pipeline
queries on; SQL reads a stored JSON through the `unpack(data)` function of the connection.
"""

import hashlib
import heapq
import json
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from operator import itemgetter
from pathlib import Path
from typing import Any

from dataprep.codec import load, pack, unpack
from dataprep.errors import StoreError, system_error
from dataprep.models import Decision, Pair, Review, Unit
from dataprep.store_review import ReviewQueries
from dataprep.store_schema import (
    MIGRATIONS,
    PAIR_COLUMNS,
    PAIR_PATH,
    PAIR_PATH_LOOKUP,
    PAIR_SQL,
    RANK_SQL,
    REASON_SQL,
    SLIM,
    STORED_PATH,
    UNIT_COLUMNS,
    UNIT_OF_PAIR,
    UNIT_SQL,
    PairText,
    pair_row,
    read_pair,
    read_pair_fields,
    read_pair_text,
    read_unit,
    stage_rank,
    state_counters,
    statements,
    unit_fields,
    unit_row,
    verdict_key,
    verdict_texts,
)

DB_NAME = "dataprep.db"
POINTER_NAME = "store.json"  # DIR/store.json: DIR's store lives elsewhere (store_home)
_LAST_OPENED: Path | None = None


def last_opened() -> Path | None:
    """The store this process opened last (named in errors about a damaged store)."""
    return _LAST_OPENED


def read_pointer(out_dir: Path) -> dict[str, Any] | None:
    """`out_dir/store.json` (where the store of `out_dir` lives, when not in it), or None."""
    path = Path(out_dir) / POINTER_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("path"), str):
            raise ValueError("no path")
    except (OSError, ValueError, AttributeError) as exc:
        raise StoreError(
            f"{path} is damaged ({exc}): it names where the store of {out_dir} lives; "
            f"write it again with `dataprep run ... --out {out_dir} --store FOLDER`"
        ) from None
    return data


def locate(out_dir: Path) -> Path:
    """The store file of output folder `out_dir`: `out_dir/dataprep.db`, or the one its
    `store.json` names (a store kept on local disk while `out_dir` is on a network
    filesystem: `dataprep.store_home`).

    Example: locate(Path("out")) -> Path("out/dataprep.db")
    """
    inside = Path(out_dir) / DB_NAME
    if inside.exists() or inside.is_symlink():
        return inside
    pointer = read_pointer(out_dir)
    return Path(pointer["path"]) if pointer is not None else inside


def _alive_inputs(rank: int) -> tuple[str, ...]:
    """The write counters the pairs alive before stage rank `rank` depend on."""
    return ("units", "pairs", *(f"decisions.{r}" for r in range(rank)))


# A filter verdict's row (`filter_cache` as `f`): key, and the JSON of `verdict_values` that
# `data` names by id, else (a row stored before `store_schema.SHARED`) the packed JSON.
VERDICT_SQL = (
    "SELECT f.key, coalesce(v.text, f.data) FROM filter_cache f "
    "LEFT JOIN verdict_values v ON typeof(f.data) = 'integer' AND v.id = f.data"
)


def _field_sql(field: str, none: str) -> str:
    """SQL for a pair's value of `field` (pairs `p` joined with their units `u`): its
    column, or else its JSON's field; NULL and '' read `none`. A pair's `unit_kind` is its
    unit's `kind` (`Pair.from_unit` copies it, and a unit's id hashes it): read from the
    unit's column, without decompressing the pair."""
    if field == "path":
        expr = PAIR_PATH
    elif field in PAIR_COLUMNS:
        expr = f"p.{field}"
    elif field == "unit_kind":
        expr = "u.kind"
    elif field.isidentifier():
        expr = f"json_extract(unpack(p.data), '$.{field}')"
    else:
        raise ValueError(f"not a pair field: {field}")
    quoted = none.replace("'", "''")
    return f"coalesce(nullif({expr}, ''), '{quoted}')"


class Store(ReviewQueries):
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

    def forget(self) -> None:
        """Drop what `_remembered` and `kept_unit_sizes` keep (a stage's ids and unit
        counts): read again when asked, they are not held through the stages after."""
        self._memo.clear()

    @classmethod
    def open(cls, out_dir: Path, create: bool = True) -> "Store":
        """Open (or create) the store of output folder `out_dir` (`out_dir/dataprep.db`, or
        where its `store.json` says: `locate`) and apply pending migrations."""
        out_dir = Path(out_dir)
        db_path = locate(out_dir)
        pointed = db_path.parent != out_dir
        if not db_path.exists() and (not create or (pointed and not db_path.parent.is_dir())):
            host = (read_pointer(out_dir) or {}).get("host")
            if pointed and host == socket.gethostname():
                raise StoreError(
                    f"the store of {out_dir} ({db_path}) is gone: run `dataprep run ... --out "
                    f"{out_dir}` again to make it anew (the dataset and shards are kept)"
                )
            if pointed:
                raise StoreError(
                    f"the store of {out_dir} is {db_path} on host {host}, not on this machine: "
                    f"run there, or make a new one here with `dataprep run ... --out {out_dir} "
                    "--store FOLDER`"
                )
            raise StoreError(
                f"no working store at {db_path}: run `dataprep run PATH --out {out_dir}` first"
            )
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
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
                    for statement in statements(script):
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={number}")
        if 0 < version < SLIM <= len(MIGRATIONS):
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

    def writes(self) -> int:
        """How many writes the change counters have seen (`changes`): rows of units, pairs,
        splits, reviews and decisions written, by any connection."""
        return self.conn.execute("SELECT coalesce(sum(n), 0) FROM changes").fetchone()[0]

    def pack_pages(self, wrote: bool) -> None:
        """Rewrite the file with its B-trees packed and no free page (VACUUM), after a pass
        that `wrote` rows (rows keyed by hashes, pair ids and verdict keys, go in at random
        places and leave pages part empty) or left a sixteenth of the pages free (rewritten
        caches). Measured on every 4th java.base file: 3% of the store, in 0.3 s; all of
        java.base: 1.0 s. Skipped while another connection keeps the store busy."""
        free = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
        if wrote or free * 16 > self.conn.execute("PRAGMA page_count").fetchone()[0]:
            try:
                self.conn.execute("VACUUM")
            except sqlite3.OperationalError:
                pass

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
        self.put_file_rows(path, digest, status, [unit_row(u) for u in units], reason, run_id)

    def put_file_rows(
        self,
        path: str,
        digest: str | None,
        status: str,
        rows: list[tuple],
        reason: str | None = None,
        run_id: int | None = None,
    ) -> None:
        """`put_file` with the units already packed (`store_schema.unit_row`: a slicing
        worker packs them)."""
        with self.transaction():
            gone = self.conn.execute("DELETE FROM units WHERE path = ?", (path,)).rowcount
            self.conn.executemany(
                "INSERT OR REPLACE INTO units (id, path, kind, qualified_name, data) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            if gone:
                self._share_paths([(row[0], row[1]) for row in rows])
            self.conn.execute(
                "INSERT OR REPLACE INTO files (path, digest, status, reason, n_units, run_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (path, digest, status, reason, len(rows), run_id),
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
        units = list(units)
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO units (id, path, kind, qualified_name, data) "
                "VALUES (?, ?, ?, ?, ?)",
                [unit_row(u) for u in units],
            )
            self._share_paths([(u.id, u.path) for u in units])

    def _share_paths(self, units: list[tuple[str, str]]) -> None:
        """The pairs of these units ((id, path) each) that hold their unit's path (a trigger
        wrote it back when the unit was deleted) store it as '' again (`PAIR_PATH`)."""
        self.conn.executemany("UPDATE pairs SET path = '' WHERE unit_id = ? AND path = ?", units)

    def units(self, kind: str | None = None) -> list[Unit]:
        sql, args = f"SELECT {UNIT_SQL} FROM units", ()
        if kind:
            sql, args = sql + " WHERE kind = ?", (kind,)
        return [read_unit(row) for row in self.conn.execute(sql + " ORDER BY path, id", args)]

    def iter_units(self) -> Iterator[Unit]:
        """Every unit, one at a time (by path and id)."""
        for row in self.conn.execute(f"SELECT {UNIT_SQL} FROM units ORDER BY path, id"):
            yield read_unit(row)

    def unit(self, unit_id: str) -> Unit | None:
        row = self.conn.execute(f"SELECT {UNIT_SQL} FROM units WHERE id = ?", (unit_id,))
        found = row.fetchone()
        return read_unit(found) if found else None

    # pairs ------------------------------------------------------------------------
    def put_pairs(self, pairs: Iterable[Pair], run_id: int | None = None) -> int:
        """Insert pairs not yet stored; returns how many were new."""
        return self.put_pair_rows([pair_row(p) for p in pairs], run_id)

    def put_pair_rows(self, rows: list[tuple], run_id: int | None = None) -> int:
        """`put_pairs` of pairs already made rows (`store_schema.pair_row`, wherever they
        were built: a worker process packs them). Bulk: the triggers that count the writes
        run once a call, not once a row (`_counted_once`: 27% of the insert's time)."""
        if not rows:
            return 0
        with self.transaction(), self._counted_once("pairs"):
            cur = self.conn.executemany(
                "INSERT OR IGNORE INTO pairs (id, unit_id, generator, task, path, data, run_id) "
                f"VALUES (?1, ?2, ?3, ?4, {STORED_PATH}, ?6, ?7)",
                [(*row, run_id) for row in rows],
            )
            return cur.rowcount  # the rows this statement inserted, not its triggers' (FTS)

    def pairs(self, generator: str | None = None, live_only: bool = True) -> list[Pair]:
        """Stored pairs, by id; `live_only` keeps those whose unit still exists."""
        sql = f"SELECT {PAIR_SQL} FROM pairs p"
        sql += f" JOIN {UNIT_OF_PAIR}" if live_only else f" LEFT JOIN {UNIT_OF_PAIR}"
        args: tuple[str, ...] = ()
        if generator:
            sql, args = sql + " WHERE p.generator = ?", (generator,)
        return [read_pair(row) for row in self.conn.execute(sql + " ORDER BY p.id", args)]

    def pair(self, pair_id: str) -> Pair | None:
        row = self.conn.execute(
            f"SELECT {PAIR_SQL} FROM pairs p LEFT JOIN {UNIT_OF_PAIR} WHERE p.id = ?",
            (pair_id,),
        ).fetchone()
        return read_pair(row) if row else None

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
                    f"SELECT pair_id, kept, {REASON_SQL}, detail FROM decisions d WHERE stage = ?",
                    (stage,),
                )
            }
            new = {d.pair_id: d for d in notable}
            gone = [(stage, pid) for pid in old if pid not in new]
            changed = [
                d for d in new.values() if old.get(d.pair_id) != (bool(d.kept), d.reason, d.detail)
            ]
            bulk = len(gone) + len(changed) > 1000  # every row of one stage: one counter
            counted = f"decisions.{stage_rank(stage)}"
            texts = Counter(d.reason for d in changed if d.reason is not None)
            reasons = self._reason_ids({t for t, n in texts.items() if n > 1}, set(texts))
            with self._counted_once("decisions", counted) if bulk else nullcontext():
                self.conn.executemany("DELETE FROM decisions WHERE stage = ? AND pair_id = ?", gone)
                self.conn.executemany(
                    "INSERT OR REPLACE INTO decisions "
                    "(pair_id, stage, kept, reason, reason_id, detail, run_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (d.pair_id, stage, int(d.kept), None, reasons[d.reason], d.detail, run_id)
                        if d.reason in reasons
                        else (d.pair_id, stage, int(d.kept), d.reason, None, d.detail, run_id)
                        for d in changed
                    ],
                )
        return len(gone) + len(changed)

    def _reason_ids(self, repeated: set[str], texts: set[str]) -> dict[str, int]:
        """The ids in `reasons` of those of `texts` it holds, `repeated` ones added (a reason
        given once is kept in its decision's row: in `reasons` it would take twice that)."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO reasons (text) VALUES (?)", [(t,) for t in sorted(repeated)]
        )
        return dict(self._where_in("SELECT text, id FROM reasons WHERE text", texts))

    def _where_in(self, sql: str, values: Iterable[Any]) -> Iterator[tuple]:
        """The rows of `sql` + " IN (...)" over `values`, 500 at a time (SQLite's limit on
        bound parameters). Example: _where_in("SELECT id FROM pairs WHERE id", ids)."""
        wanted = list(values)
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            yield from self.conn.execute(f"{sql} IN ({', '.join('?' * len(chunk))})", chunk)

    def dropped(self, ignore: tuple[str, ...] = ()) -> dict[str, Decision]:
        """Pair id -> the first decision that dropped it (by stage name), `ignore`d stages aside."""
        out: dict[str, Decision] = {}
        rows = self.conn.execute(
            f"SELECT pair_id, stage, {REASON_SQL}, detail FROM decisions d WHERE kept = 0 "
            "ORDER BY stage"
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
        return [read_pair(r) for r in self._alive(PAIR_SQL, before, generator=generator)]

    def iter_kept_pairs(self, before: str | None = None) -> Iterator[Pair]:
        """`kept_pairs(before=...)` one at a time, by id: memory holds one pair."""
        for row in self._alive(PAIR_SQL, before):
            yield read_pair(row)

    def kept_split_facts(self, before: str | None = None, module: bool = False) -> Iterator[tuple]:
        """(id, unit id, task, path, module) of the pairs alive when `before` starts, in
        table order (by id, through the index, took twice as long):
        what the split reads of a pair, the module (None unless `module`) from its JSON in
        SQL; no other pair is decompressed. The repo is its unit's (`unit_repos`)."""
        extra = "json_extract(unpack(p.data), '$.module')" if module else "NULL"
        return iter(self._alive(f"p.id, p.unit_id, p.task, {PAIR_PATH}, {extra}", before, tail=" "))

    def unit_repos(self) -> dict[str, str]:
        """Unit id -> its repository (a pair's `repo` is its unit's: `Pair.from_unit`). A
        file's units are sliced and written together (`put_file_rows`), so one unit a path
        is decompressed to read it, not every unit."""
        repos = dict(
            self.conn.execute(
                "SELECT path, json_extract(unpack(data), '$.repo') FROM units "
                "WHERE rowid IN (SELECT min(rowid) FROM units GROUP BY path)"
            )
        )
        return {
            unit_id: repos[path]
            for unit_id, path in self.conn.execute("SELECT id, path FROM units")
        }

    def iter_kept_rows(
        self, before: str | None = None, first: str | None = None, last: str | None = None
    ) -> Iterator[tuple]:
        """`iter_kept_pairs` as their stored rows (`PAIR_SQL`: `read_pair` and
        `read_pair_text` make them), for workers that read and decode them themselves:
        by id, or with `first` and `last` only the pairs of the units with ids between
        them (both included), by unit then id (`kept_unit_sizes`)."""
        if first is None or last is None:
            return iter(self._alive(PAIR_SQL, before))
        return iter(
            self._alive(
                PAIR_SQL,
                before,
                tail=" ORDER BY p.unit_id, p.id",
                where="p.unit_id BETWEEN ? AND ?",
                where_args=(first, last),
                batch=True,
            )
        )

    def kept_unit_sizes(self, before: str | None = None) -> tuple[list[str], list[int]]:
        """(unit ids in order, how many pairs alive before `before` each has): what the
        passes of a stage cut into batches of whole units. Kept in memory while the pairs
        alive before `before` stay the same (their change counters), so the several passes
        of a stage do not sort every pair again."""
        rank = stage_rank(before)
        counters = tuple(state_counters(self.conn, _alive_inputs(rank)))
        hit = self._memo.get(("unit_sizes", rank))
        if hit is not None and hit[0] == counters:
            return hit[1]
        rows = self._alive("p.unit_id, COUNT(*)", before, tail=" GROUP BY 1 ORDER BY 1")
        value: tuple[list[str], list[int]] = ([], [])
        for unit_id, size in rows:
            value[0].append(unit_id)
            value[1].append(size)
        self._memo[("unit_sizes", rank)] = (counters, value)
        return value

    def units_of(self, pair_ids: Iterable[str]) -> dict[str, str]:
        """Pair id -> its unit id, for the ids that exist."""
        return dict(self._where_in("SELECT id, unit_id FROM pairs WHERE id", pair_ids))

    def iter_kept_texts(self, before: str | None = None) -> Iterator[PairText]:
        """`iter_kept_pairs`, as `PairText`s (what the set filters read)."""
        for row in self._alive(PAIR_SQL, before):
            yield read_pair_text(row)

    def pair_texts(self, pair_ids: Iterable[str]) -> dict[str, PairText]:
        """`PairText`s of these ids (those that exist), by id."""
        sql = f"SELECT {PAIR_SQL} FROM pairs p LEFT JOIN {UNIT_OF_PAIR} WHERE p.id"
        return {row[0]: read_pair_text(row) for row in self._where_in(sql, dict.fromkeys(pair_ids))}

    def pair_fields(self, pair_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each stored pair's fields (`read_pair_fields`) of these ids, by id."""
        sql = f"SELECT {PAIR_SQL} FROM pairs p LEFT JOIN {UNIT_OF_PAIR} WHERE p.id"
        rows = self._where_in(sql, dict.fromkeys(pair_ids))
        return {row[0]: read_pair_fields(row) for row in rows}

    def template_pairs_of(self, unit_ids: Iterable[str]) -> list[tuple[str, str, str]]:
        """(id, unit, task) of the template pairs of these units."""
        sql = "SELECT id, unit_id, task FROM pairs WHERE generator = 'template' AND unit_id"
        return list(self._where_in(sql, unit_ids))

    def stored_pair_ids(self, pair_ids: Iterable[str]) -> set[str]:
        """Those of these pair ids that are stored."""
        return {row[0] for row in self._where_in("SELECT id FROM pairs WHERE id", pair_ids)}

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
        batch: bool = False,
    ) -> sqlite3.Cursor:
        """The one rule for the pairs alive when stage `before` starts (None: after every
        stage): live pairs (their unit exists) that no decision of an earlier-ranked stage
        (`stage_rank`) dropped. Rows of `columns`, by pair id unless `tail` says otherwise.

        `batch`: `where` picks a batch (a range of ids): each pair looks its own decisions
        up (`NOT EXISTS`, by their primary key), since SQLite builds a `NOT IN` list of
        every dropped id again for each query (every 4th `java.base` file: 84 ranges of
        1,000 ids, 0.22 s against 1.58 s). A whole pass keeps that list, built once:
        15% quicker than a lookup a pair (all of `java.base`)."""
        alive = (
            "NOT EXISTS (SELECT 1 FROM decisions d WHERE d.pair_id = p.id AND d.kept = 0 AND "
            if batch
            else "p.id NOT IN (SELECT pair_id FROM decisions WHERE kept = 0 AND "
        )
        sql = (
            f"SELECT {columns} FROM pairs p JOIN {UNIT_OF_PAIR}{join} WHERE {alive}{RANK_SQL} < ?)"
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
        path, batch = None, []
        for *row, split in self.export_rows(tasks):
            if row[4] != path:
                yield from sorted(batch, key=lambda b: (b[0].start_line, b[0].task, b[0].id))
                path, batch = row[4], []
            batch.append((read_pair(row), split))
        yield from sorted(batch, key=lambda b: (b[0].start_line, b[0].task, b[0].id))

    def export_rows(self, tasks: Iterable[str] | None = None) -> Iterator[tuple]:
        """`export_pairs` as stored rows (the `PAIR_SQL` columns, then the split), by path
        (a file's rows together, in no set order), for workers that decode them and sort a
        file's rows by start line, task and id; `tasks` narrows to those tasks.

        The rows come in the order of the units' path index, so the first comes at once:
        ordering every row by path first took 1.35 s on all of `java.base`, on one core
        while the workers waited. The few pairs whose path is not their unit's (stored,
        `pairs_path`) are merged in by path."""
        where, args = "", ()
        if tasks is not None:
            args = tuple(sorted(set(tasks)))
            where = f" AND p.task IN ({', '.join('?' * len(args))})" if args else " AND 0"

        def rows(own: bool) -> sqlite3.Cursor:
            return self._alive(
                f"{PAIR_SQL}, s.split",
                None,
                tail=" ORDER BY u.path" if own else " ORDER BY p.path",
                join=" LEFT JOIN splits s ON s.pair_id = p.id",
                where=("p.path = ''" if own else "p.path != ''") + where,
                where_args=args,
            )

        return heapq.merge(rows(True), rows(False), key=itemgetter(4))  # PAIR_SQL: path 5th

    def majority_repo(self) -> str | None:
        """The repository most units come from (ties: the first by name)."""
        counts = {r: n for r, n in self.unit_counts("repo").items() if r}
        return min(counts, key=lambda r: (-counts[r], r)) if counts else None

    def live_pairs(self) -> Iterator[tuple[Pair, str | None]]:
        """Every live pair (its unit exists; whatever the stages decided) with its split
        (None: not split), one at a time by id: what `pairs()` lists, streamed."""
        rows = self.conn.execute(
            f"SELECT {PAIR_SQL}, s.split FROM pairs p JOIN {UNIT_OF_PAIR} "
            "LEFT JOIN splits s ON s.pair_id = p.id ORDER BY p.id"
        )
        for *row, split in rows:
            yield read_pair(row), split

    def pair_id_ranges(self, size: int) -> Iterator[tuple[str, str]]:
        """(first id, last id) of consecutive batches of `size` stored pairs (the last one
        smaller), by id, read off the id index alone: what `live_rows` reads a batch at a
        time (the live ones among them)."""
        first = last = None
        count = 0
        for (pair_id,) in self.conn.execute("SELECT id FROM pairs ORDER BY id"):
            if count == size:
                yield first, last
                first, count = None, 0
            first = first or pair_id
            last, count = pair_id, count + 1
        if count:
            yield first, last

    def kept_rows(self, first: str | None = None, last: str | None = None) -> Iterator[tuple]:
        """The kept pairs of `live_rows` (no decision dropped them) as `export_rows` gives
        them (the `PAIR_SQL` columns, then the split), by id; with `first` and `last` the
        ids between them only."""
        where, args = "", ()
        if first is not None and last is not None:
            where, args = "p.id BETWEEN ? AND ?", (first, last)
        join = " LEFT JOIN splits s ON s.pair_id = p.id"
        return iter(
            self._alive(
                f"{PAIR_SQL}, s.split",
                None,
                join=join,
                where=where,
                where_args=args,
                batch=bool(where),
            )
        )

    def live_rows(self, first: str | None = None, last: str | None = None) -> Iterator[tuple]:
        """`live_pairs` as stored rows, by id: the `PAIR_SQL` columns, the split (None: not
        split) and the stage whose decision dropped the pair (the first by name, as
        `dropped` picks; None: kept); with `first` and `last` the ids between them only."""
        where, args = "", ()
        if first is not None and last is not None:
            where, args = "WHERE p.id BETWEEN ? AND ? ", (first, last)
        return iter(
            self.conn.execute(
                f"SELECT {PAIR_SQL}, s.split, (SELECT min(d.stage) FROM decisions d "
                "WHERE d.pair_id = p.id AND d.kept = 0) FROM pairs p "
                "JOIN units u ON u.id = p.unit_id LEFT JOIN splits s ON s.pair_id = p.id "
                f"{where}ORDER BY p.id",
                args,
            )
        )

    def live_rows_of(
        self, stages: Iterable[str], kept: bool, first: str | None = None, last: str | None = None
    ) -> Iterator[tuple]:
        """The rows of `live_rows` (the same columns, by id) of the pairs that one of
        `stages` dropped (the stage `live_rows` names), and of the kept pairs when `kept`:
        a pass that counts only those reads no other pair's data."""
        names = tuple(sorted(set(stages)))
        where, args = "", ()
        if first is not None and last is not None:
            where, args = "WHERE p.id BETWEEN ? AND ? ", (first, last)
        keep = "dropped IS NULL OR " if kept else ""
        return iter(
            self.conn.execute(
                f"SELECT * FROM (SELECT {PAIR_SQL}, s.split, (SELECT min(d.stage) FROM "
                "decisions d WHERE d.pair_id = p.id AND d.kept = 0) AS dropped FROM pairs p "
                "JOIN units u ON u.id = p.unit_id LEFT JOIN splits s ON s.pair_id = p.id "
                f"{where}) WHERE {keep}dropped IN ({', '.join('?' * len(names))}) ORDER BY 1",
                (*args, *names),
            )
        )

    def paths_in_splits(self, splits: Iterable[str]) -> set[str]:
        """The paths of the pairs assigned to any of `splits`."""
        names = tuple(sorted(set(splits)))
        marks = ", ".join("?" * len(names))
        rows = self.conn.execute(
            f"SELECT DISTINCT {PAIR_PATH_LOOKUP} FROM splits s JOIN pairs p ON p.id = s.pair_id "
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
        value = field if field in UNIT_COLUMNS else f"json_extract(unpack(data), '$.{field}')"
        rows = self.conn.execute(f"SELECT {value} AS v, COUNT(*) FROM units GROUP BY v")
        return {v: n for v, n in rows if v is not None}

    def unit_summaries(self, kinds: Iterable[str], fields: Iterable[str]) -> list[dict[str, Any]]:
        """Some fields of the units of some kinds, as dicts (not whole units: their code)."""
        kinds, fields = tuple(kinds), tuple(fields)
        marks = ", ".join("?" * len(kinds))
        sql = f"SELECT {UNIT_SQL} FROM units WHERE kind IN ({marks}) ORDER BY path, id"
        out = []
        for row in self.conn.execute(sql, kinds):
            unit = unit_fields(row)
            out.append({f: unit.get(f) for f in fields})
        return out

    # state the stages read (fingerprints) and count ---------------------------------
    def kept_ids(self, before: str | None = None) -> list[str]:
        """Ids of the live pairs no stage dropped (what `kept_pairs` returns, in SQL); with
        `before`, the pairs alive when that stage starts: its own verdicts and those of the
        stages after it (`STAGE_ORDER`) set aside.

        Example: kept_ids(before="balance") -> the pairs the filters kept
        """
        rank = stage_rank(before)
        return list(self._remembered(("kept_ids", rank), lambda: tuple(self._alive_ids(rank))))

    def _alive_ids(self, rank: int | None) -> list[str]:
        """Ids of the live pairs no decision of a stage ranked below `rank` dropped (None:
        the live pairs, decisions aside), by id: `_alive`'s rule as sets, since SQL's
        join and ordering by id (random reads of the table through its index) took 2-4x
        as long on 250k pairs."""
        units = {r[0] for r in self.conn.execute("SELECT id FROM units")}
        dropped = (
            set()
            if rank is None
            else {
                r[0]
                for r in self.conn.execute(
                    f"SELECT pair_id FROM decisions WHERE kept = 0 AND {RANK_SQL} < ?", (rank,)
                )
            }
        )
        rows = self.conn.execute("SELECT id, unit_id FROM pairs")
        return sorted(i for i, unit in rows if unit in units and i not in dropped)

    def kept_counts(self, column: str, before: str | None = None) -> dict[str, int]:
        """Kept pairs (alive when `before` starts) counted by `column` (task, generator...)."""
        if column not in ("task", "generator", "path", "unit_id"):
            raise ValueError(f"not a pairs column: {column}")
        if column in ("task", "generator"):  # one query gives both (the run's summary)
            rank = stage_rank(before)
            groups = self._cached_state(
                f"kept_groups:{rank}",
                _alive_inputs(rank),
                lambda: [
                    list(row)
                    for row in self._alive(
                        "p.task, p.generator, COUNT(*)", before, tail=" GROUP BY 1, 2"
                    )
                ],
            )
            counts: dict[str, int] = {}
            for task, generator, n in groups:
                key = task if column == "task" else generator
                counts[key] = counts.get(key, 0) + n
            return dict(sorted(counts.items()))
        value = PAIR_PATH if column == "path" else f"p.{column}"
        rows = self._alive(f"{value}, COUNT(*)", before, tail=" GROUP BY 1")
        return dict(sorted(rows))

    def kept_field_counts(
        self, fields: Iterable[str], before: str | None = None, none: str = ""
    ) -> list[tuple]:
        """The pairs alive when `before` starts, counted by the values of `fields` (a pair
        column or a field of its JSON; a missing or empty value reads `none`): rows of
        (value, ..., count). Example: kept_field_counts(["task"]) -> [("method.code", 12)]"""
        exprs = [_field_sql(f, none) for f in fields]
        groups = ", ".join(str(i + 1) for i in range(len(exprs)))
        return self._alive(
            f"{', '.join(exprs)}, COUNT(*)", before, tail=f" GROUP BY {groups}"
        ).fetchall()

    def kept_fields_where(
        self,
        field: str,
        values: Iterable[str],
        fields: Iterable[str],
        before: str | None = None,
        none: str = "",
    ) -> Iterator[tuple]:
        """(pair id, `field`, then the values of `fields`) of the pairs alive when `before`
        starts whose `field` is one of `values` (read as `kept_field_counts` reads them)."""
        values = tuple(sorted(set(values)))
        if not values:
            return iter(())
        where = f"{_field_sql(field, none)} IN ({', '.join('?' * len(values))})"
        columns = ", ".join(_field_sql(f, none) for f in (field, *fields))
        return iter(  # in table order (by id, through the index, took twice as long)
            self._alive(f"p.id, {columns}", before, tail=" ", where=where, where_args=values)
        )

    def state_digest(self, state: str, before: str | None = None) -> str:
        """A digest of one state the stages' fingerprints read: "live" (the pairs whose
        unit exists), "kept" (the pairs alive when stage `before` starts: `kept_ids`),
        "splits" (each pair's split) or "reviews" (each review's last change).

        Computed from the rows once, then kept in `state_cache` with the write counters of
        the tables it depends on (`changes`, bumped by triggers): while they stand still it
        is read back, not computed (an unchanged re-run of a repository of 250k pairs reads
        a few rows instead of every pair id several times).

        Example: state_digest("kept", before="balance") -> "9f86d081..." (the same until a
        unit, a pair or a verdict of the filters changes)
        """
        rank = stage_rank(before)
        if state == "live":
            names: tuple[str, ...] = ("units", "pairs")
            sql = None
        elif state == "kept":
            names, sql = _alive_inputs(rank), None
        elif state == "splits":
            names, sql = ("splits",), "SELECT pair_id || ' ' || split FROM splits ORDER BY pair_id"
        elif state == "reviews":
            names = ("reviews",)
            sql = "SELECT pair_id || ' ' || updated_at FROM reviews ORDER BY pair_id"
        else:
            raise ValueError(f"not a store state: {state}")

        def digest() -> str:
            if state == "live":
                ids = self._alive_ids(None)
            elif state == "kept":
                # the alive pairs are the live ones less those an earlier stage dropped: the
                # live pairs' digest (kept apart) and the dropped ids (a fraction) tell them,
                # without a pass over every pair for each stage (0.7 s on 375 k pairs)
                ids = [self.state_digest("live")] + [
                    r[0]
                    for r in self.conn.execute(
                        "SELECT DISTINCT pair_id FROM decisions "
                        f"WHERE kept = 0 AND {RANK_SQL} < ? ORDER BY pair_id",
                        (rank,),
                    )
                ]
            else:
                ids = [r[0] for r in self.conn.execute(sql)]
            return hashlib.sha256("\n".join(ids).encode()).hexdigest()

        return self._cached_state(f"{state}:{rank}", names, digest)

    def write_marks(self) -> list[int]:
        """The write counters (`changes`) of the units, pairs, every stage's decisions,
        the splits and the reviews: the same twice when none of them was written between."""
        names = (*_alive_inputs(stage_rank(None)), "splits", "reviews")
        return state_counters(self.conn, names)

    def _cached_state(self, key: str, names: tuple[str, ...], compute: Any) -> Any:
        """`compute()` (JSON), kept in `state_cache` with the counters of `names`."""
        counters = json.dumps(state_counters(self.conn, names))
        found = self.conn.execute(
            "SELECT counters, value FROM state_cache WHERE key = ?", (key,)
        ).fetchone()
        if found is not None and found[0] == counters:
            return json.loads(found[1])
        value = compute()
        self.conn.execute(
            "INSERT OR REPLACE INTO state_cache (key, counters, value) VALUES (?, ?, ?)",
            (key, counters, json.dumps(value)),
        )
        return value

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
        """The units' languages. A file's units share its language (a slicer sets it per
        file), so one unit a path is decompressed to read it, not every unit."""
        rows = self.conn.execute(
            "SELECT DISTINCT json_extract(unpack(data), '$.language') FROM units "
            "WHERE rowid IN (SELECT min(rowid) FROM units GROUP BY path)"
        )
        return sorted(lang for (lang,) in rows if lang)

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
            f"SELECT d.pair_id, {REASON_SQL}, {PAIR_SQL} FROM decisions d "
            f"JOIN pairs p ON p.id = d.pair_id LEFT JOIN {UNIT_OF_PAIR} "
            "WHERE d.stage = ? AND d.kept = 0 ORDER BY d.pair_id LIMIT ?",
            (stage, limit),
        )
        return [(pid, reason, read_pair(row)) for pid, reason, *row in rows]

    def decisions_of(self, pair_id: str) -> list[tuple[str, int, str | None, str | None]]:
        """(stage, kept, reason, detail) of every decision about one pair, by stage."""
        return self.conn.execute(
            f"SELECT stage, kept, {REASON_SQL}, detail FROM decisions d WHERE pair_id = ? "
            "ORDER BY stage",
            (pair_id,),
        ).fetchall()

    def notable_decisions(self) -> Iterator[tuple[str, str, int, str | None, str | None]]:
        """(pair, stage, kept, reason, detail) of drops and of verdicts that carry a score."""
        yield from self.conn.execute(
            f"SELECT pair_id, stage, kept, {REASON_SQL}, detail FROM decisions d "
            "WHERE kept = 0 OR detail LIKE '%score%' ORDER BY stage"
        )

    def unit_ids_by_path(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for path, unit_id in self.conn.execute("SELECT path, id FROM units ORDER BY path, id"):
            out.setdefault(path, []).append(unit_id)
        return out

    def units_in(self, path: str) -> list[Unit]:
        rows = self.conn.execute(
            f"SELECT {UNIT_SQL} FROM units WHERE path = ? ORDER BY id", (path,)
        )
        return [read_unit(r) for r in rows]

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

    def put_templates(self, path: str, key: str, data: str | bytes) -> None:
        """A file's candidates: JSON, or JSON already `pack`ed (by a worker process)."""
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO template_cache (path, key, data) VALUES (?, ?, ?)",
                (path, key, data if isinstance(data, bytes) else pack(data)),
            )

    def template_blobs(self) -> Iterator[str]:
        for (blob,) in self.conn.execute("SELECT data FROM template_cache ORDER BY path"):
            yield unpack(blob)

    def template_blob(self, path: str) -> str | None:
        row = self.conn.execute("SELECT data FROM template_cache WHERE path = ?", (path,))
        found = row.fetchone()
        return unpack(found[0]) if found else None

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

    def decision_rows(self) -> Iterator[tuple[str, str, str, int, str | None, str | None]]:
        """Every stored decision with its pair's unit: (pair id, unit id, stage, kept,
        reason, detail), by pair id and stage."""
        yield from self.conn.execute(
            f"SELECT d.pair_id, p.unit_id, d.stage, d.kept, {REASON_SQL}, d.detail "
            "FROM decisions d JOIN pairs p ON p.id = d.pair_id ORDER BY d.pair_id, d.stage"
        )

    def cache_rows(self) -> Iterator[tuple[str, str, str, str]]:
        """Every cached answer as (key, model, request JSON, response JSON), by key."""
        yield from self.conn.execute(
            "SELECT key, model, request, response FROM llm_cache ORDER BY key"
        )

    def cache_import(self, rows: Iterable[tuple[str, str, str, str]]) -> int:
        """Add cached answers (key, model, request JSON, response JSON) the store lacks;
        returns how many were new. An answer already there is kept as it is."""
        now, added = time.time(), 0
        with self.transaction():
            for key, model, request, response in rows:
                cur = self.conn.execute(
                    "INSERT OR IGNORE INTO llm_cache (key, model, request, response, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (key, model, request, response, now),
                )
                added += cur.rowcount
        return added

    # per-pair filter verdicts (dataprep.filters.cache.VerdictCache) -----------------
    def filter_verdicts(self) -> dict[str, dict[str, str]]:
        """Cache key -> {filter name: reason, "" when kept} of every stored verdict."""
        rows = self.conn.execute(VERDICT_SQL)
        return {key.hex(): load(data) for key, data in rows}

    def filter_verdicts_of(self, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        """`filter_verdicts` of these keys only (those stored)."""
        wanted = [verdict_key(k) for k in dict.fromkeys(keys)]
        rows = self._where_in(f"{VERDICT_SQL} WHERE f.key", wanted)
        return {key.hex(): load(data) for key, data in rows}

    def filter_verdict_keys(self) -> Iterator[str]:
        """The keys of every stored filter verdict, one at a time."""
        for (key,) in self.conn.execute("SELECT key FROM filter_cache"):
            yield key.hex()

    def has_filter_verdicts(self) -> bool:
        """Whether any filter verdict is stored (a first run's cache is empty)."""
        return self.conn.execute("SELECT 1 FROM filter_cache LIMIT 1").fetchone() is not None

    def put_filter_verdict_texts(
        self, rows: Iterable[tuple[str, str]], forget: Iterable[str] = ()
    ) -> None:
        """Store (replace) verdicts given already encoded: (key, its verdict's JSON as
        `put_filter_verdicts` writes it), and forget the keys of `forget`, in one
        transaction."""
        rows = list(rows)
        with self.transaction():
            self.conn.executemany(
                "DELETE FROM filter_cache WHERE key = ?", [(verdict_key(k),) for k in forget]
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO verdict_values (text) VALUES (?)",
                [(t,) for t in sorted({t for _, t in rows})],
            )
            ids = dict(self.conn.execute("SELECT text, id FROM verdict_values"))
            self.conn.executemany(
                "INSERT OR REPLACE INTO filter_cache (key, data) VALUES (?, ?)",
                sorted((verdict_key(k), ids[t]) for k, t in rows),
            )

    def put_filter_verdicts(
        self, verdicts: dict[str, dict[str, str]], forget: Iterable[str] = ()
    ) -> None:
        """Store (replace) the verdicts of some keys and forget others, in one transaction
        (`verdict_texts`: each distinct verdict encoded once per call)."""
        self.put_filter_verdict_texts(verdict_texts(verdicts.items()), forget)

    # splits -----------------------------------------------------------------------
    def put_splits(self, assignments: Iterable[tuple[str, str, str]]) -> None:
        """Replace split assignments: (pair_id, split, group). A group that is the pair's
        own path (splits by file) is stored as NULL."""
        with self.transaction():
            self.conn.execute("DELETE FROM splits")
            self.conn.executemany(
                "INSERT INTO splits (pair_id, split, grp) VALUES (?1, ?2, CASE WHEN ?3 = "
                f"(SELECT {PAIR_PATH_LOOKUP} FROM pairs p WHERE p.id = ?1) THEN NULL ELSE ?3 END)",
                assignments,
            )

    def put_split_rows(self, rows: Iterable[tuple[str, str, str | None]]) -> None:
        """Replace split assignments: (pair_id, split, group), the group None where it is
        the pair's own path (`put_splits` without looking the path up)."""
        with self.transaction(), self._counted_once("splits"):
            self.conn.execute("DELETE FROM splits")
            self.conn.executemany("INSERT INTO splits (pair_id, split, grp) VALUES (?, ?, ?)", rows)

    @contextmanager
    def _counted_once(self, table: str, counter: str | None = None) -> Iterator[None]:
        """Inside a transaction: the triggers that count the writes to `table` (`changes`)
        set aside, and its counter (`counter`: the one every row written bumps, `table`
        unless said) bumped once at the end, so that a bulk write does not run them once
        per row (4x its own time). The triggers are made again before the commit, and a
        rollback restores them: no other writer ever sees them missing."""
        assert self.conn.in_transaction
        triggers = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
            "AND name LIKE 'changes!_%' ESCAPE '!'",
            (table,),
        ).fetchall()
        for name, _ in triggers:
            self.conn.execute(f'DROP TRIGGER "{name}"')
        yield
        if triggers:
            self.conn.execute("UPDATE changes SET n = n + 1 WHERE name = ?", (counter or table,))
        for _, sql in triggers:
            self.conn.execute(sql)

    def splits(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT pair_id, split FROM splits"))

    def split_assignments(self) -> list[tuple[str, str, str]]:
        """(pair_id, split, group) of every assignment, as `put_splits` takes them."""
        return self.conn.execute(
            f"SELECT s.pair_id, s.split, coalesce(s.grp, {PAIR_PATH_LOOKUP}) FROM splits s "
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
