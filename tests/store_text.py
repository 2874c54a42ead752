"""Every row of a store as text, compressed values (dataprep.codec) unpacked: what tests
that look for a leaked value in the store read (the raw file bytes hide packed text)."""

import sqlite3
from pathlib import Path

from dataprep.codec import unpack


def readable(value):
    """A packed value's text; any other value (a key's bytes) as it is."""
    if isinstance(value, bytes) and value[:1] in (b"\x01", b"\x02"):  # codec formats
        try:
            return unpack(value)
        except Exception:  # bytes that only start like a packed value
            return value
    return value


def store_rows(db: Path, tables: tuple[str, ...] | None = None) -> list[tuple[str, tuple]]:
    """(table, row) of every row of `tables` (default: every table but the full-text index)."""
    conn = sqlite3.connect(db)
    try:
        if tables is None:
            tables = tuple(
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'"  # its rows are in its own tables
                )
            )
        return [
            (t, tuple(readable(v) for v in row))
            for t in tables
            for row in conn.execute(f'SELECT * FROM "{t}"')  # noqa: S608 (names from the schema)
        ]
    finally:
        conn.close()


def store_text(db: Path) -> str:
    return "\n".join(f"{t}: {row!r}" for t, row in store_rows(db))
