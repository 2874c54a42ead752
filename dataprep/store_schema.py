"""The store's schema and row encoding: the numbered migrations `Store.open` applies, and how
a unit or a pair is packed into its row (a few columns the pipeline queries on, the rest as
compressed JSON: dataprep.codec).
"""

import json
import sqlite3
from collections.abc import Iterable, Iterator
from json.decoder import scanstring
from typing import Any, NamedTuple

from pydantic_core import to_json

from dataprep.codec import load, pack, unpack
from dataprep.models import UNSET, Pair, Unit

# The stages that write decisions, in pipeline order; "filter.NAME" ranks as "filter", and
# any other stage (one before the filters, e.g. "evol.eliminate") ranks before them all.
STAGE_ORDER = ("filter", "balance", "decontaminate")
RANK_SQL = (
    "(CASE WHEN stage = 'balance' THEN 2 WHEN stage = 'decontaminate' THEN 3"
    " WHEN substr(stage, 1, 7) = 'filter.' THEN 1 ELSE 0 END)"
)


def stage_rank(stage: str | None) -> int:
    """A decision stage's rank: 0 before the filters, then 1 + its place in `STAGE_ORDER`
    (None: after every stage). `RANK_SQL` is the same rule in SQL.

    Example: stage_rank("evol.eliminate") -> 0; stage_rank("filter.length") -> 1;
    stage_rank("decontaminate") -> 3
    """
    if stage is None:
        return len(STAGE_ORDER) + 1
    head = "filter" if stage.startswith("filter.") else stage
    return STAGE_ORDER.index(head) + 1 if head in STAGE_ORDER else 0


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
    # 8: change counters (`state_counters`)
    lambda conn: _change_counters(conn),
    # 9: values stored once, not once a row (`_shared_values`)
    lambda conn: _shared_values(conn),
    # 10: smaller keys and caches (`_slim`)
    lambda conn: _slim(conn),
    # 11: the pairs whose path is not their unit's, found without a pass over every pair
    # (`Store.export_rows` merges them into the rows it reads in the units' path order)
    "CREATE INDEX IF NOT EXISTS pairs_path ON pairs(path) WHERE path != '';",
]

COMPACT = 7  # the migration that compacts the store
SHARED = 9  # the migration that stores repeated values once
SLIM = 10  # the migration that shortens the filter verdicts' keys

# The pair fields kept in columns of `pairs`, not in its JSON.
PAIR_COLUMNS = ("id", "unit_id", "generator", "task", "path")
# `pairs.path` is '' when it is its unit's: read from the unit (joined as `u`, or looked up).
PAIR_PATH = "coalesce(nullif(p.path, ''), u.path)"
UNIT_PATH = "(SELECT path FROM units WHERE id = {unit_id})"
PAIR_PATH_LOOKUP = f"coalesce(nullif(p.path, ''), {UNIT_PATH.format(unit_id='p.unit_id')})"
UNIT_OF_PAIR = "units u ON u.id = p.unit_id"
PAIR_SQL = f"p.id, p.unit_id, p.generator, p.task, {PAIR_PATH}, p.data"  # u joined
STORED_PATH = f"CASE WHEN ?5 = {UNIT_PATH.format(unit_id='?2')} THEN '' ELSE ?5 END"
REASON_SQL = "coalesce(d.reason, (SELECT text FROM reasons WHERE id = d.reason_id))"


def pack_pair(pair: Pair) -> bytes:
    return pack(pair.model_dump_json(exclude_defaults=True, exclude=set(PAIR_COLUMNS)))


def pair_row(pair: Pair) -> tuple:
    """A pair as `pairs` keeps it: its `PAIR_COLUMNS`, then its packed JSON."""
    return (pair.id, pair.unit_id, pair.generator, pair.task, pair.path, pack_pair(pair))


def pair_row_of(fields: dict[str, Any]) -> tuple:
    """`pair_row(Pair(**fields))` without building the model (a quarter quicker): `fields`
    in `Pair`'s field order, each of its field's type, none that holds its default."""
    rest = {name: value for name, value in fields.items() if name not in _COLUMNS}
    return (*[fields[name] for name in PAIR_COLUMNS], pack(to_json(rest)))


_COLUMNS = frozenset(PAIR_COLUMNS)


def read_pair(row: tuple) -> Pair:
    """A pair from its columns and JSON (`PAIR_SQL`)."""
    *columns, data = row
    fields = load(data)  # validated as a dict: 40% quicker than splicing JSON
    if "id" in fields:  # written before the columns left the JSON
        return Pair.model_validate_json(unpack(data))
    fields.update(zip(PAIR_COLUMNS, columns, strict=True))
    return Pair.model_validate(fields)


# A pair's fields that its packed JSON leaves out when they hold their default.
PAIR_DEFAULTS = {
    name: field.default for name, field in Pair.model_fields.items() if not field.is_required()
}


def read_pair_fields(row: tuple) -> dict[str, Any]:
    """A pair's fields as a dict (`Pair.model_dump` of `read_pair`, without building the
    model: 3x quicker), from its columns and JSON (`PAIR_SQL`)."""
    *columns, data = row
    fields = dict(PAIR_DEFAULTS)
    fields.update(load(data))
    fields.update(zip(PAIR_COLUMNS, columns, strict=True))
    return fields


class PairText(NamedTuple):
    """What the set filters read of a pair, without building the model (3x quicker)."""

    id: str
    generator: str
    task: str
    instruction: str
    input: str
    output: str


def read_pair_text(row: tuple) -> PairText:
    """A PairText from a pair's columns and JSON (`PAIR_SQL`)."""
    pair_id, _, generator, task, _, data = row
    fields = load(data)
    return PairText(
        pair_id, generator, task, fields["instruction"], fields.get("input", ""), fields["output"]
    )


_INSTRUCTION_HEAD = '{"instruction":"'  # how `pack_pair`'s JSON starts (the field order)
_INPUT_NEXT = ',"input":"'


def read_question(data: bytes | str) -> tuple[str, str]:
    """A stored pair's instruction and input (its packed JSON, `PAIR_SQL`'s last column),
    read off the head of the JSON without decoding the rest: `pack_pair` writes the fields
    in the model's order, `instruction` first, then `input` unless it is the default ''.
    Other JSON (an older store's) is decoded whole."""
    text = unpack(data)
    if text.startswith(_INSTRUCTION_HEAD):
        instruction, end = scanstring(text, len(_INSTRUCTION_HEAD))
        if not text.startswith(_INPUT_NEXT, end):
            return instruction, PAIR_DEFAULTS["input"]
        return instruction, scanstring(text, end + len(_INPUT_NEXT))[0]
    fields = json.loads(text)
    return fields["instruction"], fields.get("input", PAIR_DEFAULTS["input"])


UNIT_COLUMNS = ("id", "path", "kind")  # not in its JSON (`qualified_name`: its column '')
_UNIT_SKIPPED = frozenset(UNIT_COLUMNS)
UNIT_SQL = "id, path, kind, data"


def pack_unit(unit: Unit) -> bytes:
    return pack(unit.model_dump_json(exclude_defaults=True, exclude=set(UNIT_COLUMNS)))


def unit_row(unit: Unit) -> tuple:
    """A unit as `units` keeps it: id, path, kind, qualified name ('': in the JSON), packed
    JSON."""
    return (unit.id, unit.path, unit.kind, "", pack_unit(unit))  # qualified_name ''


def unit_row_of(row: dict[str, Any]) -> tuple:
    """`unit_row` of a slicer's plain row (every `Unit` field in field order, unset ones
    None or (): `slicing.slice_file_rows`), without building the `Unit`: the same bytes
    (`pack_unit`'s JSON keeps the fields set to something other than their default, and
    every default is None or [])."""
    skip = _UNIT_SKIPPED
    fields = {k: v for k, v in row.items() if k not in skip and v not in UNSET}
    return (row["id"], row["path"], row["kind"], "", pack(to_json(fields)))


assert all(
    info.is_required() or info.get_default(call_default_factory=True) in UNSET
    for info in Unit.model_fields.values()
), "a Unit default that is not None or []: make unit_row_of leave it out too"


def unit_fields(row: tuple) -> dict[str, Any]:  # the stored fields (`UNIT_SQL`)
    return {**load(row[-1]), **dict(zip(UNIT_COLUMNS, row, strict=False))}


def read_unit(row: tuple) -> Unit:
    """A unit: columns spliced into its JSON (`UNIT_SQL`; a dict took 40% longer)."""
    unit_id, path, kind, data = row
    rest = unpack(data)
    if rest.startswith('{"id":'):  # written before the columns left the JSON
        return Unit.model_validate_json(rest)
    head = f'{{"id":"{unit_id}","path":{json.dumps(path)},"kind":"{kind}"'
    return Unit.model_validate_json(head + ("," + rest[1:] if rest != "{}" else "}"))


def verdict_key(key: str | bytes) -> bytes:
    """A filter verdict's key as stored: 8 bytes (`VerdictCache.key`'s 16 hex digits; the
    first 8 of a longer key, as stores before `SLIM` kept 16)."""
    return bytes.fromhex(key)[:8] if isinstance(key, str) else key[:8]


def verdict_texts(verdicts: Iterable[tuple[str, dict[str, str]]]) -> list[tuple[str, str]]:
    """(key, the verdict's JSON as the store keeps it) of (key, verdict) pairs; most pairs
    get the same few verdicts (every filter kept them): each distinct one is encoded once."""
    encoded: dict[tuple, str] = {}
    out = []
    for key, verdict in verdicts:
        items = tuple(sorted(verdict.items()))
        text = encoded.get(items)
        if text is None:
            text = encoded[items] = json.dumps(dict(items))
        out.append((key, text))
    return out


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
        [(pack_pair(Pair.model_validate_json(d)), k) for k, d in rows],
    )
    conn.execute("DROP INDEX IF EXISTS pairs_path")
    conn.execute(
        "CREATE TABLE filter_cache_7 (key BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID"
    )
    conn.executemany(
        "INSERT INTO filter_cache_7 (key, data) VALUES (?, ?)",
        [
            (
                verdict_key(k),
                pack(d) if isinstance(d, str) else d,
            )
            for k, d in conn.execute("SELECT key, data FROM filter_cache").fetchall()
        ],
    )
    for statement in statements(
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


def statements(script: str) -> Iterator[str]:
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


# The tables whose writes a stage's fingerprint cares about; decisions count per stage rank.
COUNTED = ("units", "pairs", "splits", "reviews")


def _change_counters(conn: sqlite3.Connection) -> None:
    """Migration 8: `changes` counts the writes to each table a fingerprint reads (and to
    decisions per stage rank), bumped by triggers, so no writer can forget; `state_cache`
    keeps a state's digest with the counters it was computed at (`Store.state_digest`).
    A migration that rebuilds one of these tables must create its triggers again."""
    ranks = [f"decisions.{r}" for r in range(len(STAGE_ORDER) + 1)]
    conn.execute("CREATE TABLE changes (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
    conn.executemany("INSERT INTO changes VALUES (?, 0)", [(n,) for n in (*COUNTED, *ranks)])
    conn.execute(
        "CREATE TABLE state_cache (key TEXT PRIMARY KEY, counters TEXT NOT NULL, "
        "value TEXT NOT NULL) WITHOUT ROWID"
    )
    bump = "UPDATE changes SET n = n + 1 WHERE name = {name};"
    for table in COUNTED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(
                f"CREATE TRIGGER changes_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {bump.format(name=repr(table))} END"
            )
    for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        body = " ".join(
            bump.format(name=f"'decisions.' || {RANK_SQL.replace('stage', f'{row}.stage')}")
            for row in rows
        )
        conn.execute(
            f"CREATE TRIGGER changes_decisions_{event.lower()} AFTER {event} ON decisions "
            f"BEGIN {body} END"
        )


_UNITS_9 = """CREATE TABLE units_9 (id TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL,
    qualified_name TEXT NOT NULL, data TEXT NOT NULL);
    INSERT INTO units_9 SELECT id, path, kind, qualified_name, data FROM units ORDER BY rowid;
    DROP TABLE units; ALTER TABLE units_9 RENAME TO units;
    CREATE UNIQUE INDEX units_id_path ON units(id, path); CREATE INDEX units_path ON units(path);
"""


def _shared_values(conn: sqlite3.Connection) -> None:
    """Migration 9, values stored once: a pair's path, '' when it is its unit's (`PAIR_PATH`;
    units keyed by a unique index on (id, path) alone, read without the row; a trigger keeps
    a deleted unit's path in its pairs); a reason given more than once (`REASON_SQL`); a
    filter verdict (`verdict_values`). Run again, the steps change nothing."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(decisions)")]
    if conn.execute("SELECT 1 FROM pragma_index_list('units') WHERE origin = 'pk'").fetchone():
        for statement in statements(_UNITS_9):
            conn.execute(statement)
        bump = "BEGIN UPDATE changes SET n = n + 1 WHERE name = 'units'; END"
        for event in ("insert", "update", "delete"):  # migration 8's, gone with the table
            conn.execute(f"CREATE TRIGGER changes_units_{event} AFTER {event} ON units {bump}")
    for statement in statements(
        f"""
        UPDATE pairs SET path = '' WHERE path != ''
            AND path = (SELECT u.path FROM units u WHERE u.id = pairs.unit_id);
        CREATE TRIGGER IF NOT EXISTS pairs_keep_path AFTER DELETE ON units BEGIN
            UPDATE pairs SET path = OLD.path WHERE unit_id = OLD.id AND path = '';
        END;
        CREATE TABLE IF NOT EXISTS reasons (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
        {"" if "reason_id" in columns else "ALTER TABLE decisions ADD COLUMN reason_id INTEGER;"}
        INSERT OR IGNORE INTO reasons (text) SELECT reason FROM decisions
            WHERE reason IS NOT NULL GROUP BY reason HAVING count(*) > 1 ORDER BY reason;
        UPDATE decisions SET reason = NULL, reason_id = (SELECT id FROM reasons
            WHERE text = decisions.reason) WHERE reason IN (SELECT text FROM reasons);
        CREATE TABLE IF NOT EXISTS verdict_values (id INTEGER PRIMARY KEY, text TEXT UNIQUE);
        INSERT OR IGNORE INTO verdict_values (text) SELECT DISTINCT unpack(data)
            FROM filter_cache WHERE typeof(data) != 'integer';
        UPDATE filter_cache SET data = (SELECT id FROM verdict_values
            WHERE text = unpack(filter_cache.data)) WHERE typeof(data) != 'integer';
        """
    ):
        conn.execute(statement)


def state_counters(conn: sqlite3.Connection, names: tuple[str, ...]) -> list[int]:
    """The write counters of `names` (tables, or `decisions.R` for stage rank R)."""
    marks = ", ".join("?" * len(names))
    found = dict(conn.execute(f"SELECT name, n FROM changes WHERE name IN ({marks})", names))
    return [found.get(name, 0) for name in names]


def _slim(conn: sqlite3.Connection) -> None:
    """Migration 10: a filter verdict keyed by 8 bytes, not 16 (`verdict_key`: the first 8
    of the old key, so a verdict is found as before); the template cache's meta forgotten,
    so the next generate pass (which then reads every file's cached candidates, regenerating
    none) writes each file's candidates without the texts its stored pairs hold
    (`dataprep.generate.template_stage`)."""
    for statement in statements(
        """
        CREATE TABLE filter_cache_10 (key BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO filter_cache_10 (key, data)
            SELECT substr(key, 1, 8), data FROM filter_cache ORDER BY key;
        DROP TABLE filter_cache;
        ALTER TABLE filter_cache_10 RENAME TO filter_cache;
        DELETE FROM meta WHERE key = 'pipeline.templates';
        """
    ):
        conn.execute(statement)
