"""SQL schema slicer: one `table` unit per `CREATE TABLE`, `ALTER TABLE` and `DROP TABLE`
statement of a `.sql` file (schema.sql, Flyway `V1__x.sql` migrations, Liquibase formatted
SQL), and the parsers the schema tasks read them with.

A unit: `name` the table (`booking`), `qualified_name` as written without quotes
(`public.booking`), `type` the statement (`CREATE TABLE`, `ALTER TABLE`, `DROP TABLE`),
`code` the statement as written, from its first word to its `;` (comments inside kept),
`parameters` its column and constraint definitions (CREATE) or its actions (ALTER), each
with whitespace collapsed and comments removed. `DROP TABLE a, b` gives one unit per table.
Other statements (indexes, views, functions, inserts) give none.

    units, errors = slice_sql("db/migration/V1__init.sql",
                              "CREATE TABLE room (id BIGINT PRIMARY KEY);", "repo", None)
    parse_column("room_id BIGINT NOT NULL REFERENCES room (id)")
    # -> Column(name="room_id", type="BIGINT", constraints=["NOT NULL", "REFERENCES room (id)"])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dataprep.models import Unit

_IDENT = r'(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+)'
_NAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT})*"
_CREATE = re.compile(
    r"(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMPORARY|TEMP)\s+)?"
    rf"(?:UNLOGGED\s+|CACHED\s+|MEMORY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?({_NAME})\s*\("
)
_ALTER = re.compile(
    rf"(?is)^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_NAME})\s+(.*)$"
)  # fmt: skip
_DROP = re.compile(  # H2 and HSQLDB write `DROP TABLE x IF EXISTS`
    r"(?is)^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(.+?)(?:\s+IF\s+EXISTS)?(?:\s+(?:CASCADE|RESTRICT))?$"
)
# a definition that is no column: a constraint or an index (a column may be named `key`,
# `index` or `period`: MySQL's `KEY name (cols)` has column names in its parentheses, a
# column `key VARCHAR(20)` a number)
_TABLE_ITEM = re.compile(
    r"(?i)^(?:CONSTRAINT\s|PRIMARY\s+KEY\b|FOREIGN\s+KEY\b|CHECK\s*\(|LIKE\s|PERIOD\s+FOR\b"
    r"|EXCLUDE\s|UNIQUE\s*(?:KEY\b|INDEX\b|\(|[\w`\"]+\s*\()"
    r"|(?:(?:FULLTEXT|SPATIAL)\s+)?(?:KEY|INDEX)\s*(?:[\w`\"]+\s*)?\((?!\s*\d))"
)
# words that start a column constraint (the column's type is what comes before the first)
_STARTS = frozenset(
    "CONSTRAINT NOT NULL PRIMARY UNIQUE DEFAULT REFERENCES CHECK GENERATED AUTO_INCREMENT "
    "AUTOINCREMENT IDENTITY COLLATE COMMENT".split()
)
_FOREIGN = re.compile(
    rf"(?is)FOREIGN\s+KEY\s*\(([^)]*)\)\s*REFERENCES\s+({_NAME})\s*(?:\(([^)]*)\))?"
)
_REFERENCES = re.compile(rf"(?is)^REFERENCES\s+({_NAME})\s*(?:\(([^)]*)\))?")
_PRIMARY = re.compile(r"(?is)PRIMARY\s+KEY\s*\(([^)]*)\)")


@dataclass
class Column:
    """A column definition: its name, its type as written and its constraints as written."""

    name: str
    type: str
    constraints: list[str] = field(default_factory=list)


@dataclass
class ForeignKey:
    """Columns of a table that reference columns of another (None: its primary key)."""

    columns: list[str]
    table: str
    target: list[str] | None


def unquote(name: str) -> str:
    """An identifier without its quotes, dotted parts joined. Example: '"public"."Room"'
    -> "public.Room" """
    parts = re.findall(_IDENT, name)
    return ".".join(p[1:-1] if p[0] in '"`[' else p for p in parts)


def simple(name: str) -> str:
    """The table's own name, lower case, without its schema (for matching references)."""
    return unquote(name).rsplit(".", 1)[-1].lower()


# -- statements ---------------------------------------------------------------------------


def statements(text: str) -> list[tuple[int, int, str]]:
    """(start, end, masked text) of each statement: `end` just after its `;` (or at the end
    of the text), the masked text with comments blanked out (string literals kept).

    Example: statements("-- a\\nSELECT 1; SELECT ';';") -> [(5, 14, "SELECT 1;"),
    (15, 26, "SELECT ';';")]
    """
    out, masked = [], list(text)
    start, i, n = None, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i) or c == "#" and start is None:
            end = text.find("\n", i)
            end = n if end < 0 else end
            masked[i:end] = " " * (end - i)
            i = end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            masked[i:end] = [ch if ch == "\n" else " " for ch in text[i:end]]
            i = end
            continue
        if start is None and not c.isspace():
            start = i
        if c in "'\"`":
            i = _quote_end(text, i, c)
            continue
        if c == "$" and (m := re.match(r"\$\w*\$", text[i:])):
            end = text.find(m.group(0), i + len(m.group(0)))
            i = n if end < 0 else end + len(m.group(0))
            continue
        if c == ";":
            if start is not None:
                out.append((start, i + 1, "".join(masked[start : i + 1])))
            start = None
        i += 1
    if start is not None and text[start:].strip():
        end = len(text.rstrip())
        out.append((start, end, "".join(masked[start:end])))
    return out


def _quote_end(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == quote:
            if text.startswith(quote * 2, j):
                j += 2
                continue
            return j + 1
        if text[j] == "\\" and quote == "'":
            j += 2
            continue
        j += 1
    return len(text)


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside parentheses and quotes, each part's whitespace collapsed.

    Example: split_top("a INT, b NUMERIC(10, 2), CHECK (a > 0)")
    -> ["a INT", "b NUMERIC(10, 2)", "CHECK (a > 0)"]
    """
    parts, depth, last, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "'\"`":
            i = _quote_end(text, i, c)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[last:i])
            last = i + 1
        i += 1
    parts.append(text[last:])
    return [" ".join(p.split()) for p in parts if p.strip()]


def _body(masked: str, open_at: int) -> str | None:
    """The text inside the parenthesis that opens at `open_at`."""
    depth, i = 0, open_at
    while i < len(masked):
        c = masked[i]
        if c in "'\"`":
            i = _quote_end(masked, i, c)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return masked[open_at + 1 : i]
        i += 1
    return None


# -- definitions ----------------------------------------------------------------------------


def create_items(masked: str) -> tuple[str, list[str]] | None:
    """(table as written, its column and constraint definitions) of a CREATE TABLE."""
    m = _CREATE.match(masked.strip())
    if m is None:
        return None
    body = _body(masked.strip(), m.end() - 1)
    return (m.group(1), split_top(body)) if body is not None else None


def is_index(item: str) -> bool:
    """A MySQL index among a table's definitions. Example: is_index("KEY k (a)") -> True"""
    return bool(re.match(r"(?i)^(?:(?:FULLTEXT|SPATIAL)\s+)?(?:KEY|INDEX)\b", item))


def is_table_constraint(item: str) -> bool:
    """A definition of a CREATE TABLE that is no column. Example: "PRIMARY KEY (id)" -> True"""
    return bool(_TABLE_ITEM.match(item))


def _words(text: str) -> list[tuple[int, str]]:
    """(offset, word) of the words outside parentheses and quotes."""
    out, depth, i = [], 0, 0
    while i < len(text):
        c = text[i]
        if c in "'\"`" and depth == 0:
            end = _quote_end(text, i, c)
            out.append((i, text[i:end]))
            i = end
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and not c.isspace() and (i == 0 or text[i - 1].isspace() or
                                                 text[i - 1] == ")"):  # fmt: skip
            m = re.match(r"[^\s(]+", text[i:])
            out.append((i, m.group(0) if m else c))
        i += 1
    return out


def parse_column(item: str) -> Column | None:
    """A column definition's name, type and constraints (each as written), or None for a
    table constraint.

    Example: parse_column("status VARCHAR(20) DEFAULT 'PENDING' NOT NULL")
    -> Column("status", "VARCHAR(20)", ["DEFAULT 'PENDING'", "NOT NULL"])
    """
    item = " ".join(item.split())
    if not item or is_table_constraint(item):
        return None
    m = re.match(_IDENT, item)
    if m is None:
        return None
    name, rest = unquote(m.group(0)), item[m.end() :].strip()
    starts = []
    for offset, word in _words(rest):
        upper = word.upper()
        if upper not in _STARTS:
            continue
        previous = rest[:offset].split()[-1].upper() if rest[:offset].strip() else ""
        if upper == "NULL" and previous == "NOT":
            continue
        if (upper, previous) in (("IDENTITY", "AS"), ("DEFAULT", "BY")):
            continue  # GENERATED BY DEFAULT AS IDENTITY: one constraint
        if (
            starts
            and rest[starts[-1] :].upper().startswith("CONSTRAINT")
            and len(rest[starts[-1] : offset].split()) <= 2
        ):
            continue  # `CONSTRAINT name REFERENCES ...`: one constraint
        starts.append(offset)
    cut = starts[0] if starts else len(rest)
    ends = [*starts[1:], len(rest)] if starts else []
    constraints = [rest[a:b].strip() for a, b in zip(starts, ends, strict=True)]
    return Column(name, rest[:cut].strip(), constraints)


def foreign_keys(items: list[str]) -> list[ForeignKey]:
    """The foreign keys of a table's definitions (column REFERENCES and FOREIGN KEY).

    Example: foreign_keys(["room_id BIGINT REFERENCES room (id)"])
    -> [ForeignKey(["room_id"], "room", ["id"])]
    """
    out = []
    for item in items:
        column = parse_column(item)
        if column is not None:
            for constraint in column.constraints:
                body = re.sub(r"(?is)^CONSTRAINT\s+\S+\s+", "", constraint)
                m = _REFERENCES.match(body)
                if m:
                    out.append(ForeignKey([column.name], unquote(m.group(1)), _names(m.group(2))))
            continue
        for m in _FOREIGN.finditer(item):
            out.append(
                ForeignKey(_names(m.group(1)) or [], unquote(m.group(2)), _names(m.group(3)))
            )
    return out


def primary_key(items: list[str]) -> list[str]:
    """The primary key's columns. Example: primary_key(["id INT PRIMARY KEY"]) -> ["id"]"""
    for item in items:
        column = parse_column(item)
        if column is not None and any(
            re.match(r"(?i)(?:CONSTRAINT\s+\S+\s+)?PRIMARY\s+KEY", c) for c in column.constraints
        ):
            return [column.name]
        if column is None and (m := _PRIMARY.search(item)):
            return _names(m.group(1)) or []
    return []


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [unquote(part.split()[0]) for part in split_top(text) if part.split()]


# -- the slicer -------------------------------------------------------------------------------


def slice_sql(
    relpath: str, text: str, repo: str, commit: str | None
) -> tuple[list[Unit], list[str]]:
    """The `table` units of a SQL file (see the module docstring), and its parse problems."""
    units, errors, seen = [], [], {}
    for start, end, masked in statements(text):
        code = text[start:end]
        first = text.count("\n", 0, start) + 1
        for name, verb, items in _tables_of(masked):
            key = (unquote(name), verb, code)
            repeat = seen.get(key, 0)
            seen[key] = repeat + 1
            units.append(
                Unit(
                    id=Unit.make_id(relpath, "table", key[0], None, code, repeat=repeat),
                    kind="table",
                    name=key[0].rsplit(".", 1)[-1],
                    qualified_name=key[0],
                    path=relpath,
                    start_line=first,
                    end_line=first + code.count("\n"),
                    code=code,
                    language="sql",
                    repo=repo,
                    commit=commit,
                    type=verb,
                    parameters=items,
                )
            )
        if re.match(r"(?is)\s*CREATE\s+(?:\w+\s+){0,3}TABLE\b", masked) and not _tables_of(masked):
            if not re.search(r"(?is)\bTABLE\b[^(]*\bAS\b", masked):  # CREATE TABLE x AS SELECT
                errors.append(f"{relpath}:{first}: CREATE TABLE not understood")
    return units, errors


def _tables_of(masked: str) -> list[tuple[str, str, list[str]]]:
    """(table, statement, definitions or actions) of a CREATE, ALTER or DROP TABLE."""
    stripped = masked.strip().rstrip(";").strip()
    created = create_items(stripped)
    if created is not None:
        return [(created[0], "CREATE TABLE", created[1])]
    m = _ALTER.match(stripped)
    if m:
        return [(m.group(1), "ALTER TABLE", split_top(m.group(2)))]
    m = _DROP.match(stripped)
    if m:
        return [(name, "DROP TABLE", []) for name in split_top(m.group(1))]
    return []
