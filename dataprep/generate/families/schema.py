"""The application's SQL schema, from its `table` units (no LLM).

Schema (`table` units): the migrations of a folder (Flyway's `V1__x.sql`, numbered change
sets) are applied in order (Flyway versions, then repeatable migrations); any other SQL
file (`schema.sql`, one schema per database) is a schema of its own, and a table defined
in several is asked about with its file. Applied: CREATE, DROP, and the
ALTER actions that add, drop, rename or change columns and constraints. A table that an
action we do not understand touches is not asked about (its column list could be wrong).
- "Which columns does the table `booking` have?" -> each column with its type and its
  constraints as written, the migrations that added columns later, the table constraints.
- "Which tables reference `room`?" -> the tables whose foreign keys point at it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from dataprep.generate.families import family
from dataprep.generate.families.config import emit, values_with
from dataprep.generate.families.repo import RepoView
from dataprep.generate.java_facts import is_test_path
from dataprep.models import Unit
from dataprep.slicing import sql


@dataclass
class Table:
    """A table as the migrations leave it."""

    unit: Unit  # its CREATE TABLE
    columns: list[sql.Column]
    constraints: list[str]
    added: dict[str, str] = field(default_factory=dict)  # column -> the file that added it
    uncertain: bool = False


def migration_key(path: str) -> tuple:
    """Where a SQL file runs among its module's: Flyway versions in order (`V1_1__` after
    `V1__`), then other files by path, then repeatable (`R__`) migrations.

    Example: sorted(["V10__b.sql", "V2__a.sql"], key=migration_key) -> ["V2__a.sql", "V10__b.sql"]
    """
    name = PurePosixPath(path).name
    m = re.match(r"(?i)^V(\d+(?:[._]\d+)*)__", name)
    if m:
        return (1, tuple(int(p) for p in re.split(r"[._]", m.group(1))), path)
    if re.match(r"(?i)^R__", name):
        return (2, (), path)
    return (0, (), path)


def schema_of(path: str, module: str | None) -> tuple[str, str]:
    """Which schema a SQL file builds: the migrations of one folder (Flyway `V1__x.sql`,
    `R__x.sql`, numbered change sets `001-x.sql`) build one together, in order; any other
    file (`schema.sql`, `db/mysql/schema.sql`: one per database) builds its own.

    Example: schema_of("a/db/migration/V2__x.sql", "a") -> ("a", "a/db/migration");
    schema_of("a/db/h2/schema.sql", "a") -> ("a", "a/db/h2/schema.sql")
    """
    name = PurePosixPath(path).name
    if re.match(r"(?i)^(?:[VR]\d*(?:[._]\d+)*__|\d)", name):
        return (module or "", str(PurePosixPath(path).parent))
    return (module or "", path)


def schema(units: list[Unit]) -> dict[str, Table]:
    """The tables (lower-case name -> Table) that the `table` units of one schema
    (`schema_of`) leave, applied in migration order."""
    tables: dict[str, Table] = {}
    order = sorted(units, key=lambda u: (migration_key(u.path), u.start_line, u.id))
    for unit in order:
        name = sql.simple(unit.qualified_name)
        if unit.type == "DROP TABLE":
            tables.pop(name, None)
        elif unit.type == "CREATE TABLE":
            if name in tables:
                tables[name].uncertain = True  # two definitions (one per database?)
                continue
            columns = [c for c in map(sql.parse_column, unit.parameters) if c is not None]
            rest = [p for p in unit.parameters if sql.is_table_constraint(p)]
            tables[name] = Table(unit, columns, rest)
        elif unit.type == "ALTER TABLE" and name in tables:
            for action in unit.parameters:
                if not _alter(tables[name], action, unit.path):
                    tables[name].uncertain = True
    return tables


_IGNORED_ACTIONS = re.compile(
    r"(?i)^(?:OWNER\s+TO|ENABLE|DISABLE|FORCE|NO\s+FORCE|CLUSTER|SET\s+(?:WITH|WITHOUT|"
    r"TABLESPACE|LOGGED|UNLOGGED|ACCESS)|REPLICA|INHERIT|NO\s+INHERIT|VALIDATE\s+CONSTRAINT)\b"
)


def _alter(table: Table, action: str, path: str) -> bool:
    """Apply one ALTER TABLE action; False when it is not understood."""
    words = action.split()
    upper = [w.upper() for w in words]
    if _IGNORED_ACTIONS.match(action):
        return True
    if upper[0] == "ADD":
        rest = " ".join(words[2:] if upper[1:2] == ["COLUMN"] else words[1:])
        rest = re.sub(r"(?i)^IF\s+NOT\s+EXISTS\s+", "", rest)
        if sql.is_table_constraint(rest):
            table.constraints.append(rest)
            return True
        column = sql.parse_column(rest)
        if column is None:
            return False
        table.columns.append(column)
        if path != table.unit.path:
            table.added[column.name.lower()] = PurePosixPath(path).name
        return True
    m = re.match(r"(?i)^DROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?(\S+)", action)
    if m:
        return _drop_constraint(table, sql.unquote(m.group(1)))
    if upper[0] == "DROP":
        rest = words[2:] if upper[1:2] == ["COLUMN"] else words[1:]
        rest = rest[2:] if [w.upper() for w in rest[:2]] == ["IF", "EXISTS"] else rest
        return _drop_column(table, sql.unquote(rest[0])) if rest else False
    m = re.match(r"(?i)^RENAME\s+(?:COLUMN\s+)?(\S+)\s+TO\s+(\S+)$", action)
    if m and m.group(1).upper() != "TO":
        column = _column(table, sql.unquote(m.group(1)))
        if column is not None:
            column.name = sql.unquote(m.group(2))
        return column is not None
    m = re.match(r"(?i)^ALTER\s+(?:COLUMN\s+)?(\S+)\s+(.*)$", action)
    if m:
        column = _column(table, sql.unquote(m.group(1)))
        return column is not None and _alter_column(column, m.group(2))
    m = re.match(r"(?i)^(MODIFY|CHANGE)\s+(?:COLUMN\s+)?(.*)$", action)
    if m:
        old, rest = None, m.group(2)
        if m.group(1).upper() == "CHANGE":
            old, _, rest = rest.partition(" ")
        column = sql.parse_column(rest)
        if column is None:
            return False
        return _replace_column(table, sql.unquote(old) if old else column.name, column)
    return False


def _replace_column(table: Table, name: str, column: sql.Column) -> bool:
    found = _column(table, name)
    if found is not None:
        table.columns[table.columns.index(found)] = column
    return found is not None


def _drop_constraint(table: Table, name: str) -> bool:
    """Drop a named constraint, of the table or of one of its columns."""
    named = re.compile(rf"(?i)^CONSTRAINT\s+[\"`\[]?{re.escape(name)}[\"`\]]?\s")
    before = len(table.constraints) + sum(len(c.constraints) for c in table.columns)
    table.constraints = [c for c in table.constraints if not named.match(c)]
    for column in table.columns:
        column.constraints = [c for c in column.constraints if not named.match(c)]
    return before > len(table.constraints) + sum(len(c.constraints) for c in table.columns)


def _column(table: Table, name: str) -> sql.Column | None:
    return next((c for c in table.columns if c.name.lower() == name.lower()), None)


def _drop_column(table: Table, name: str) -> bool:
    column = _column(table, name)
    if column is not None:
        table.columns.remove(column)
    return column is not None


def _alter_column(column: sql.Column, change: str) -> bool:
    m = re.match(r"(?i)^(?:SET\s+DATA\s+)?TYPE\s+(.*?)(?:\s+USING\s+.*)?$", change)
    if m:
        column.type = m.group(1)
        return True
    upper = " ".join(change.upper().split())
    if upper == "SET NOT NULL":
        column.constraints.append("NOT NULL")
    elif upper == "DROP NOT NULL":
        column.constraints = [c for c in column.constraints if c.upper() != "NOT NULL"]
    elif upper.startswith("SET DEFAULT "):
        column.constraints = [c for c in column.constraints if not c.upper().startswith("DEFAULT")]
        column.constraints.append("DEFAULT " + change.split(None, 2)[2])
    elif upper == "DROP DEFAULT":
        column.constraints = [c for c in column.constraints if not c.upper().startswith("DEFAULT")]
    else:
        return False
    return True


def columns_answer(table: Table) -> str:
    """The column list of a table (see the module docstring)."""
    unit = table.unit
    lines = []
    for column in table.columns:
        parts = [f"`{column.type}`"] if column.type else []
        parts += [f"`{c}`" for c in column.constraints]
        added = table.added.get(column.name.lower())
        line = f"- `{column.name}`" + (": " + ", ".join(parts) if parts else "")
        lines.append(line + (f" (added by {added})" if added else ""))
    count = f"{len(table.columns)} column" + ("s" if len(table.columns) != 1 else "")
    text = f"`{unit.name}` (created in {unit.path}) has {count}:\n"
    text += "\n".join(lines)
    constraints = [c for c in table.constraints if not sql.is_index(c)]
    indexes = [c for c in table.constraints if sql.is_index(c)]
    if constraints:
        text += "\n\nTable constraints: " + ", ".join(f"`{c}`" for c in constraints)
    if indexes:
        text += ("\n\n" if not constraints else "\n") + "Indexes: "
        text += ", ".join(f"`{c}`" for c in indexes)
    return text


def _references(tables: dict[str, Table]) -> dict[str, list[str]]:
    """Table (lower case) -> the lines naming each foreign key that points at it."""
    out: dict[str, list[str]] = defaultdict(list)
    for _, table in sorted(tables.items()):
        items = [*(_column_text(c) for c in table.columns), *table.constraints]
        for fk in sql.foreign_keys(items):
            target = sql.simple(fk.table)
            if target not in tables:
                continue
            keys = fk.target or _primary(tables[target])
            if not keys or len(keys) != len(fk.columns):
                continue
            pairs = ", ".join(
                f"`{table.unit.name}.{a}` -> `{tables[target].unit.name}.{b}`"
                for a, b in zip(fk.columns, keys, strict=True)
            )
            out[target].append(f"- `{table.unit.name}`: {pairs}")
    return out


def _column_text(column: sql.Column) -> str:
    return " ".join([column.name, column.type, *column.constraints])


def _primary(table: Table) -> list[str]:
    return sql.primary_key([*(_column_text(c) for c in table.columns), *table.constraints])


@family("table_columns", "table_references")
def tables(repo: RepoView, tasks: dict, seed: int) -> list:
    by_schema: dict[tuple, list[Unit]] = defaultdict(list)
    for unit in repo.units:
        if unit.kind == "table" and not is_test_path(unit.path):
            by_schema[schema_of(unit.path, repo.module_of(unit.path))].append(unit)
    out = []
    for key in sorted(by_schema):
        found = schema(by_schema[key])
        refs = {} if any(t.uncertain for t in found.values()) else _references(found)
        for name, table in sorted(found.items()):
            unit = table.unit
            values = values_with(repo, unit, table=unit.name)
            if not table.uncertain and table.columns:
                text = columns_answer(table)
                out += emit(repo, tasks, "table_columns", unit, values, text, seed)
            if refs.get(name):
                lines = refs[name]
                head = (
                    "One table references" if len(lines) == 1 else f"{len(lines)} tables reference"
                )
                text = f"{head} `{unit.name}`:\n" + "\n".join(lines)
                out += emit(repo, tasks, "table_references", unit, values, text, seed)
    return out
