"""The review queue's queries (dataprep.review): the `review_rows` table and the
`review_search` full-text index (migration 5), kept in step with the store, and the
filtered, sorted, sampled and bulk-edited pages the review server asks for. `Store`
inherits them; they use its connection and its transaction.
"""

import hashlib
import json
import re
import time
from typing import Any

from dataprep.codec import load
from dataprep.models import Review
from dataprep.store_schema import PAIR_PATH_LOOKUP, REASON_SQL


class ReviewQueries:
    """The review queue's half of `Store` (a mixin: `self.conn`, `self.transaction()`,
    `self.get_meta` and `self.set_meta` are the store's)."""

    def refresh_review_rows(self) -> int:
        """Bring the store into `review_rows` and `review_search`: a row and a search entry
        for each pair added since, none for a pair gone; then each pair's state: whether its
        unit exists, its split, the stages that dropped it, its judge score, and (when pairs
        came) its place in the default order (path, start line, task, id). Writes only the
        rows that changed; returns how many. The review app calls it when it starts and
        after another process wrote the store (the first call on a store of 250k pairs
        takes seconds; later ones, a second at most). Nothing is read when no table the
        queue shows was written since the last call (the store's write counters).
        """
        marks = self._review_marks()
        if self.get_meta("review_rows_marks") == marks:
            return 0
        temp_store = self.conn.execute("PRAGMA temp_store").fetchone()[0]
        self.conn.execute("PRAGMA temp_store = MEMORY")  # a few MB, not a temporary file
        try:
            changed = self._refresh_review_rows()
        finally:
            self.conn.execute(f"PRAGMA temp_store = {temp_store}")
        self.set_meta("review_rows_marks", self._review_marks())
        return changed

    def _review_marks(self) -> list[int]:
        """The write counters of what the queue shows, and its own rows' count (a migration
        may empty them)."""
        rows = self.conn.execute("SELECT count(*) FROM review_rows").fetchone()[0]
        return [*self.write_marks(), rows]

    def review_rows_missing(self) -> int:
        """Live pairs with no review row yet: what the next `refresh_review_rows` indexes."""
        pairs = self.conn.execute("SELECT count(*) FROM pairs").fetchone()[0]
        rows = self.conn.execute("SELECT count(*) FROM review_rows").fetchone()[0]
        return max(0, pairs - rows)

    def _refresh_review_rows(self) -> int:
        with self.transaction():
            # a first build makes the queue's indexes afresh, each sorted once, after its
            # rows and their state (kept up a row at a time, they took most of the build)
            first = not self.conn.execute("SELECT 1 FROM review_rows LIMIT 1").fetchone()
            indexes = self._review_indexes() if first else []
            for name, _ in indexes:
                self.conn.execute(f'DROP INDEX "{name}"')
            changed = self._review_pairs(first)
            if self.conn.execute("SELECT 1 FROM review_rows WHERE pos IS NULL").fetchone():
                changed += self.conn.execute(_REVIEW_ORDER).rowcount
            for sql in _REVIEW_STATE:
                rows = self.conn.execute(sql).rowcount
                changed += rows if sql.lstrip().startswith("UPDATE") else 0
            self.conn.execute("DROP TABLE temp.review_verdicts")
            for _, sql in indexes:
                self.conn.execute(sql)
            if changed:  # the planner's statistics of review_rows, from a sample (fast)
                self.conn.execute("PRAGMA analysis_limit = 1000")
                self.conn.execute("ANALYZE review_rows")
        return changed

    def _review_indexes(self) -> list[tuple[str, str]]:
        """(name, SQL) of the review queue's own indexes."""
        return self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'review_rows' AND sql IS NOT NULL"
        ).fetchall()

    def _review_pairs(self, first: bool) -> int:
        """Rows (and search entries) for the pairs added since, none for the pairs gone; the
        search index is built again once the entries of gone pairs pass a quarter of it."""
        gone = self.conn.execute(  # through the pair ids' indexes, not the rows
            "DELETE FROM review_rows WHERE n IN (SELECT n FROM review_rows "
            "WHERE pair_id NOT IN (SELECT id FROM pairs))"
        ).rowcount
        stale = self.get_meta("review_search_stale", 0) + gone
        last = self.conn.execute("SELECT coalesce(max(n), 0) FROM review_rows").fetchone()[0]
        added = self._add_review_rows(numbered=first)
        rows = self.conn.execute("SELECT count(*) FROM review_rows").fetchone()[0]
        if stale >= 1000 and stale * 4 > rows:
            self.conn.execute("INSERT INTO review_search(review_search) VALUES ('delete-all')")
            last, stale = 0, 0
        if added or not last:
            self._index_review_rows(last)
        if gone or stale != self.get_meta("review_search_stale", 0):
            self.set_meta("review_search_stale", stale)
        return gone + added

    def _add_review_rows(self, numbered: bool) -> int:
        """A row for each pair without one, in the default order (path, start line, task,
        id), numbered in it (`pos`) when `numbered`. The pairs are read in table order and
        each decoded once, here, for what its row keeps (SQL's `json_extract(unpack(...))`
        decompressed it once per field, and the rows were then read again by id); SQLite
        sorts the narrow rows. Returns how many were added."""
        self.conn.execute("DROP TABLE IF EXISTS temp.review_fresh")
        self.conn.execute(
            "CREATE TEMP TABLE review_fresh (pair_id TEXT, unit_id TEXT, task TEXT, kind TEXT, "
            "generator TEXT, start_line INTEGER, instruction TEXT, output TEXT, path TEXT)"
        )
        paths = dict(self.conn.execute("SELECT id, path FROM units"))
        fresh = self.conn.execute(
            "SELECT id, unit_id, task, generator, path, data FROM pairs "
            "WHERE id NOT IN (SELECT pair_id FROM review_rows)"
        )
        while batch := fresh.fetchmany(4096):
            self.conn.executemany(
                "INSERT INTO temp.review_fresh VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_review_head(row, paths) for row in batch],
            )
        added = self.conn.execute(
            _REVIEW_ADD.format(pos="ROW_NUMBER() OVER sorted" if numbered else "NULL")
        ).rowcount
        self.conn.execute("DROP TABLE temp.review_fresh")
        return added

    def _index_review_rows(self, last: int) -> None:
        """Search entries for the rows numbered after `last`, each pair decoded once."""
        rows = self.conn.execute(
            "SELECT q.n, p.data FROM review_rows q JOIN pairs p ON p.id = q.pair_id WHERE q.n > ?",
            (last,),
        )
        while batch := rows.fetchmany(4096):
            self.conn.executemany(
                "INSERT INTO review_search (rowid, instruction, input, output) VALUES (?, ?, ?, ?)",
                [_review_texts(n, data) for n, data in batch],
            )

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
            f"SELECT pair_id, stage, {REASON_SQL} FROM decisions d WHERE kept = 0 "
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
    f"{PAIR_PATH_LOOKUP}, json_extract(unpack(p.data), '$.start_line'), "
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
# The rows of the pairs in temp.review_fresh (`_add_review_rows`), in the default order;
# {pos}: their places in it (on a first build), or NULL (`_REVIEW_ORDER` numbers them).
_REVIEW_ADD = """
    INSERT INTO review_rows (pair_id, unit_id, task, kind, generator, start_line, instruction,
        output, status, flagged, pos)
    SELECT f.pair_id, f.unit_id, f.task, f.kind, f.generator, f.start_line, f.instruction,
        f.output, coalesce(json_extract(r.data, '$.status'), 'unreviewed'),
        coalesce(json_extract(r.data, '$.flagged'), 0), {pos}
    FROM temp.review_fresh f LEFT JOIN reviews r ON r.pair_id = f.pair_id
    WINDOW sorted AS (ORDER BY f.path, f.start_line, f.task, f.pair_id)
    ORDER BY f.path, f.start_line, f.task, f.pair_id
"""


def _review_head(row: tuple, paths: dict[str, str]) -> tuple:
    """A fresh review row (temp.review_fresh) of a stored pair's columns and JSON: its path
    is its own or its unit's (None when the unit is gone, as SQL's lookup gives), the
    instruction and output cut to their first 24 characters."""
    pair_id, unit_id, task, generator, path, data = row
    fields = load(data)
    return (
        pair_id,
        unit_id,
        task,
        fields.get("unit_kind") or "",
        generator,
        fields.get("start_line") or 0,
        fields["instruction"][:24],
        fields["output"][:24],
        path or paths.get(unit_id),
    )


def _review_texts(n: int, data: Any) -> tuple:
    """A search entry of a stored pair: (row number, instruction, input, output)."""
    fields = load(data)
    return n, fields["instruction"], fields.get("input", ""), fields["output"]


# The default order of the queue: review_rows.pos, renumbered when pairs were added.
_REVIEW_ORDER = f"""
    UPDATE review_rows SET pos = t.pos FROM (
        SELECT q.n AS n,
            ROW_NUMBER() OVER (ORDER BY {PAIR_PATH_LOOKUP}, q.start_line, q.task, q.pair_id) AS pos
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
