"""Configuration slicer: Spring-style `.properties` and YAML files into one unit per key,
and view templates into one unit per file (which files: configfiles.py; SQL: sql.py).

A key's unit (`kind` "config"): `name` and `qualified_name` are the full key as Spring
sees it (`spring.datasource.url`; YAML nesting joined with dots, a list of mappings
flattened as `routes[0].id`, a list of scalars kept as one key); `code` runs from the key
(its own segment in YAML) to the end of its value, as written; `initializer` is the value
as the application reads it (escapes resolved, quotes removed, a YAML list of scalars as
`[a, b]`; None for an empty YAML value); `javadoc` the comment lines right above the key
(no blank line between), each stripped of its indentation; `modifiers` ["profile:NAME"]
when the key belongs to a Spring profile (the file `application-NAME.*`, or a YAML
document activated with `spring.config.activate.on-profile` or `spring.profiles`).

    units, errors = slice_config("src/main/resources/application.properties",
                                 "server.port=8080\\n", "repo", None, "properties")
    units[0].qualified_name, units[0].initializer  # -> ("server.port", "8080")

A view template's unit (`kind` "view_template"): `qualified_name` the view name a
controller returns (`rooms/list` for `templates/rooms/list.html`), `name` the file name,
`code` the whole template (leading and trailing blank lines aside).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import yaml

from dataprep.models import Unit
from dataprep.slicing import configfiles
from dataprep.slicing.configfiles import PROPERTIES, SQL, VIEW, YAML

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_PROFILE_KEYS = ("spring.config.activate.on-profile", "spring.profiles")


def slice_config(
    relpath: str, text: str, repo: str, commit: str | None, language: str
) -> tuple[list[Unit], list[str]]:
    """Units of a configuration file, SQL file or view template, and its syntax errors."""
    if language == SQL:
        from dataprep.slicing.sql import slice_sql

        return slice_sql(relpath, text, repo, commit)
    if language == VIEW:
        return _view_units(relpath, text, repo, commit), []
    if language == YAML:
        entries, errors = yaml_entries(text, relpath)
    else:
        entries, errors = properties_entries(text), []
    profile = configfiles.profile_of(relpath)
    units: list[Unit] = []
    seen: dict[tuple, int] = {}
    for entry in entries:
        own = entry.profile or profile
        key = (entry.key, entry.code)
        repeat = seen.get(key, 0)
        seen[key] = repeat + 1
        units.append(
            Unit(
                id=Unit.make_id(relpath, "config", entry.key, None, entry.code, repeat=repeat),
                kind="config",
                name=entry.key,
                qualified_name=entry.key,
                path=relpath,
                start_line=entry.start_line,
                end_line=entry.end_line,
                code=entry.code,
                language=language,
                repo=repo,
                commit=commit,
                initializer=entry.value,
                javadoc=entry.comment,
                modifiers=[f"profile:{own}"] if own else [],
            )
        )
    return units, errors


class Entry:
    """One key of a configuration file, before it becomes a Unit."""

    __slots__ = ("key", "value", "code", "start_line", "end_line", "comment", "profile")

    def __init__(self, key, value, code, start_line, end_line, comment=None, profile=None):
        self.key, self.value, self.code = key, value, code
        self.start_line, self.end_line = start_line, end_line
        self.comment, self.profile = comment, profile


# -- .properties -----------------------------------------------------------------------


def properties_entries(text: str) -> list[Entry]:
    """The keys of a `.properties` file, as java.util.Properties reads them: `#`/`!`
    comments, `=`, `:` or blanks between key and value, a line ending in an odd number of
    backslashes continued on the next, `\\uXXXX` and `\\t`-style escapes.

    Example: properties_entries("# port\\na.b = 1\\n")[0] -> key "a.b", value "1",
    code "a.b = 1", comment "# port"
    """
    lines = text.split("\n")
    out: list[Entry] = []
    comment: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        body = line.lstrip(" \t\f")
        if not body or body[0] in "#!":
            comment = [*comment, body] if body else []  # a blank line ends a comment
            i += 1
            continue
        first, indent, logical = i, len(line) - len(body), [body]
        while _continues(logical[-1]) and i + 1 < len(lines):
            i += 1
            logical[-1] = logical[-1][:-1]
            logical.append(lines[i].rstrip("\r").lstrip(" \t\f"))
        key, value = split_property("".join(logical))
        code = "\n".join([line[indent:], *(x.rstrip("\r") for x in lines[first + 1 : i + 1])])
        out.append(Entry(key, value, code.rstrip(), first + 1, i + 1, "\n".join(comment) or None))
        comment = []
        i += 1
    return out


def _continues(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def split_property(logical: str) -> tuple[str, str]:
    """(key, value) of one logical `.properties` line, escapes resolved.

    Example: split_property("a\\\\ b = c d") -> ("a b", "c d")
    """
    n, i = len(logical), 0
    while i < n and logical[i] not in "=: \t\f":
        i += 2 if logical[i] == "\\" else 1
    key, j = logical[:i], min(i, n)
    while j < n and logical[j] in " \t\f":
        j += 1
    if j < n and logical[j] in "=:":
        j += 1
    while j < n and logical[j] in " \t\f":
        j += 1
    return _unescape(key), _unescape(logical[j:]).rstrip()


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 == len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


# -- YAML --------------------------------------------------------------------------------


def yaml_entries(text: str, relpath: str = "") -> tuple[list[Entry], list[str]]:
    """The keys of a YAML file, every document of it, flattened as Spring flattens them.

    Example: yaml_entries("a:\\n  b: 1\\n")[0][0] -> key "a.b", value "1", code "b: 1"
    """
    lines = text.split("\n")
    out: list[Entry] = []
    try:
        for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
            found: list[Entry] = []
            if document is not None:
                _flatten(document, "", text, lines, found)
            profile = next((e.value for e in found if e.key in _PROFILE_KEYS and e.value), None)
            for entry in found:
                entry.profile = profile
            out += found
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        return out, [f"{relpath}{where}: YAML syntax error ({problem})"]
    return out, []


def _join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def _flatten(node, prefix: str, text: str, lines: list[str], out: list[Entry]) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
            continue  # a merge key or a complex key: not a setting of its own
        key = _join(prefix, key_node.value)
        if isinstance(value, yaml.MappingNode) and value.value:
            _flatten(value, key, text, lines, out)
        elif isinstance(value, yaml.SequenceNode) and any(
            not isinstance(item, yaml.ScalarNode) for item in value.value
        ):
            for index, item in enumerate(value.value):
                if isinstance(item, yaml.MappingNode):
                    _flatten(item, f"{key}[{index}]", text, lines, out)
        else:
            out.append(_leaf(key, key_node, value, text, lines))


def _leaf(key: str, key_node, value, text: str, lines: list[str]) -> Entry:
    start = key_node.start_mark.index
    end = max(value.end_mark.index, key_node.end_mark.index)
    code = text[start:end].rstrip()
    if code == text[start : key_node.end_mark.index]:  # `key:` with nothing after it
        line_end = text.find("\n", start)
        code = text[start : line_end if line_end >= 0 else len(text)].rstrip()
    first = key_node.start_mark.line + 1
    last = first + code.count("\n")
    return Entry(key, _yaml_value(value), code, first, last, _comment_above(lines, first))


def _yaml_value(node) -> str | None:
    """The value as the application reads it. Example: `[a, "b"]` -> "[a, b]"."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:null" and node.value in ("", "~", "null", "Null"):
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return "[" + ", ".join(_yaml_value(item) or "" for item in node.value) + "]"
    return "{}"


def _comment_above(lines: list[str], line_number: int) -> str | None:
    """The comment lines right above a 1-based line (no blank line between), unindented."""
    found: list[str] = []
    i = line_number - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        found.append(lines[i].strip())
        i -= 1
    return "\n".join(reversed(found)) or None


def value_from_code(unit: Unit) -> str | None:
    """A config unit's value read again from its `code`: after redaction, the value follows
    the code (a password keyed by its name is found in the code, not in the bare value).

    Example: value_from_code(unit with code "db.password=<SECRET:password:1>")
    -> "<SECRET:password:1>"
    """
    if unit.language == PROPERTIES:
        entries = properties_entries(unit.code)
    else:
        entries, errors = yaml_entries(unit.code)
        if errors:
            return unit.initializer
    return entries[0].value if len(entries) == 1 else unit.initializer


def follow_redaction(units: list[Unit]) -> list[Unit]:
    """Config units whose value no longer matches their (redacted) code get the value the
    code now holds. Example: code "db.password=<SECRET:password:1>", initializer "hunter2!"
    -> initializer "<SECRET:password:1>"."""
    out = []
    for unit in units:
        if unit.kind == "config" and unit.initializer is not None:
            value = value_from_code(unit)
            if value != unit.initializer:
                unit = unit.model_copy(update={"initializer": value})
        out.append(unit)
    return out


# -- view templates ------------------------------------------------------------------------


def _view_units(relpath: str, text: str, repo: str, commit: str | None) -> list[Unit]:
    view = configfiles.view_name(relpath)
    code = text.strip()
    if not view or not code:
        return []
    start = text.index(code)
    first = text.count("\n", 0, start) + 1
    suffix = PurePosixPath(relpath).suffix.lower()
    return [
        Unit(
            id=Unit.make_id(relpath, "view_template", view, None, code),
            kind="view_template",
            name=PurePosixPath(relpath).name,
            qualified_name=view,
            path=relpath,
            start_line=first,
            end_line=first + code.count("\n"),
            code=code,
            language=configfiles.VIEW_SUFFIXES.get(suffix, "html"),
            repo=repo,
            commit=commit,
        )
    ]
