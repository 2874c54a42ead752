"""The per-file template cache as the store keeps it: a file's candidates
(`candidates.dump_candidates`' JSON), where each candidate that became a pair keeps, in place
of what that pair holds too (`PAIR_FIELDS`: the answer, often the code it asks about, and
its place), its level and a mark `"pair"`: "" when its pair is the one template pair of its
unit and task, else the pair's id (a task may make several pairs of a unit, e.g. one per
method asked about). A row also leaves out what its task and unit give (`derived`: the
phrasing the seed picks, the task's qualifier and placeholders) and its unit's id when it is
the one of its level values (`"units"`, beside `"values"`), and a unit's level values as
`{"delta": [level 0, then what each level changes]}` (`_delta`: three of its four dicts
repeat the others' path, kind and names). On every 4th java.base file the cache took 5.2
MB whole, 2.2 so; its JSON 39 MB before zstd, 18 with the deltas.

A pass of the generate stage reads a cached file's candidates with `read` (the marked ones
completed from their pairs) and, once resolved, writes them back with `slimmed` (in the
pairs pass, where the stage knows each candidate's level and whether it became a pair). A
candidate whose pair cannot be found again (gone, or no longer the only one of its unit and
task: the store edited by hand) makes `read` build the file's candidates again from its
units (`rebuild`).

Example:
    data, refs, marks, _ = read(store, "src/A.java", rebuild, seed)  # refs[i]: i's pair
    text = slimmed(data, refs, marks, seed, levels, keeps, pair_ids)  # None: stored so already
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from functools import lru_cache
from typing import Any

from pydantic_core import from_json, to_json

from dataprep.generate import candidates as gcand
from dataprep.generate.tasks import placeholders, shipped_tasks, subject_names

# A candidate's fields that its pair holds with the same value.
PAIR_FIELDS = (
    "input",
    "output",
    "template",
    "label",
    "unit_kind",
    "path",
    "start_line",
    "end_line",
    "repo",
    "commit",
    "module",
)

Rebuild = Callable[[], dict[str, Any]]
Read = tuple[dict[str, Any], list[str | None], list[str | None], set[int]]


@lru_cache(maxsize=1024)
def _task_fields(task_id: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """What `candidates.make_candidate` takes from a task, and its phrasings; ({}, ()) for
    a task not shipped."""
    task = shipped_tasks().get(task_id)
    if task is None:
        return {}, ()
    fields = {
        "subject": subject_names(*task.phrasings),
        "qualifier_subject": placeholders(task.qualifier) if task.qualifier else [],
        "qualifier": task.qualifier,
        "max_level": task.max_level,
        "requires_symbol": [],
    }
    return fields, tuple(task.phrasings)


def derived(task_id: str, unit_id: str, seed: int) -> dict[str, Any]:
    """A candidate's fields its task, its unit and the seed give, as `make_candidate` sets
    them (a row keeps a field only where it holds another value)."""
    fields, phrasings = _task_fields(task_id)
    if not phrasings:
        return {}
    index = gcand._stable_index(seed, unit_id, task_id, len(phrasings))
    return {**fields, "template": f"{task_id}.{index}", "phrasing": phrasings[index]}


def _expand(data: dict[str, Any], seed: int) -> None:
    """Give each row what `slimmed` left out of it (its unit's id, then what its task and
    unit give: `derived`)."""
    if "units" not in data:  # whole rows (`dump_candidates`)
        return
    data["values"] = [_levels(v) if type(v) is dict else v for v in data["values"]]
    units = data.pop("units")
    for row in data["candidates"]:
        if "unit_id" not in row:
            row["unit_id"] = units[row["values"]]
        fields, phrasings = _task_fields(row["task"])
        for name, value in fields.items():
            if name not in row:
                row[name] = value
        if phrasings and ("template" not in row or "phrasing" not in row):
            given = derived(row["task"], row["unit_id"], seed)
            row.setdefault("template", given["template"])
            row.setdefault("phrasing", given["phrasing"])


def _delta(levels: list[dict[str, Any]]) -> list | dict:
    """A unit's level values as `slimmed` stores them: `{"delta": [level 0, then each level's
    values that differ from the level before]}`; as they are when a level lacks a key."""
    out = levels[:1]
    for before, level in zip(levels[:-1], levels[1:], strict=True):
        if level.keys() != before.keys():
            return levels
        out.append({name: value for name, value in level.items() if before[name] != value})
    return {"delta": out}


def _levels(stored: dict) -> list[dict[str, Any]]:
    """The level values `_delta` stored."""
    levels = stored["delta"][:1]
    for change in stored["delta"][1:]:
        levels.append({**levels[-1], **change})
    return levels


def _to_store(
    row: dict[str, Any], keep: tuple[str, ...], unit_id: str | None, seed: int, made: bool
) -> dict:
    """A row as `slimmed` stores it: the fields `keep` names, then those `derived` gives
    where they hold another value; its unit's id left out when it is `unit_id`. `made`: a
    row as `make_candidate` made it from a shipped task (what `derived` gives is its own)."""
    if len(row) != len(_FIELDS):  # not as `Candidate.to_json` writes rows: keep every field
        keep = tuple(row)
    elif made:
        out = {name: row[name] for name in keep if name not in _GIVEN}
        if out.get("unit_id") == unit_id:
            del out["unit_id"]
        return out
    out = {name: row[name] for name in keep if name in row}
    fields, phrasings = _task_fields(row["task"])
    for name in _TASK:
        if name in row and fields.get(name, _NONE) != row[name]:
            out[name] = row[name]
    if phrasings:
        index = gcand._stable_index(seed, row["unit_id"], row["task"], len(phrasings))
        given = (f"{row['task']}.{index}", phrasings[index])
        for name, value in zip(("template", "phrasing"), given, strict=True):
            if row[name] == value:
                out.pop(name, None)
            elif name not in keep:
                out[name] = row[name]
    if out.get("unit_id") == unit_id:
        del out["unit_id"]
    return out


_NONE = object()
_FIELDS = tuple(f.name for f in dataclass_fields(gcand.Candidate))
_TASK = ("qualifier", "max_level", "requires_symbol", "subject", "qualifier_subject")
_WHOLE = tuple(name for name in _FIELDS if name not in _TASK)
_SLIM = tuple(name for name in _WHOLE if name not in PAIR_FIELDS)
_GIVEN = frozenset(("template", "phrasing"))


def read(
    store, path: str, rebuild: Rebuild, seed: int, levels: bytes = b"", keeps: bytes = b""
) -> Read:
    """A file's cached candidates, `{"values": [...], "candidates": [row, ...]}`, with the
    pair each row was stored as (`refs`, None: stored whole), its stored mark (`marks`) and
    the rows left slim. Every row is completed from its pair, but with `levels` and `keeps`
    (the pairs pass): a row stored as its pair at the level it keeps (its pair stands as it
    is) stays slim, without its `PAIR_FIELDS`. `rebuild()` makes the data from the file's
    units (nothing stored as a pair) when the cache has no row for the file or a pair cannot
    be found."""
    text = store.template_blob(path)
    if text is None:
        return rebuild(), [], [], set()
    data = from_json(text)
    _expand(data, seed)
    rows = data["candidates"]
    marks = [row.pop("pair", None) for row in rows]
    if all(mark is None for mark in marks):
        return data, marks, marks, set()
    refs = _refs(store, rows, marks)
    if refs is None:
        return rebuild(), [], [], set()
    slim = {
        i
        for i, ref in enumerate(refs)
        if ref is not None and keeps and keeps[i] and rows[i]["level"] == levels[i]
    }
    wanted = [ref for i, ref in enumerate(refs) if ref is not None and i not in slim]
    found = store.pair_fields(wanted) if wanted else {}
    for i, (row, ref) in enumerate(zip(rows, refs, strict=True)):
        if ref is not None and i not in slim:
            fields = found[ref]
            row.update({name: fields[name] for name in PAIR_FIELDS})
    return data, refs, marks, slim


def _refs(store, rows: list[dict], marks: list[str | None]) -> list[str | None] | None:
    """Each row's pair id (None: stored whole), or None when one cannot be found."""
    units = {row["unit_id"] for row, mark in zip(rows, marks, strict=True) if mark == ""}
    by_task: dict[tuple[str, str], list[str]] = {}
    for pair_id, unit_id, task in store.template_pairs_of(units):
        by_task.setdefault((unit_id, task), []).append(pair_id)
    named = [mark for mark in marks if mark]
    if named and len(store.stored_pair_ids(named)) < len(set(named)):
        return None
    refs: list[str | None] = []
    for row, mark in zip(rows, marks, strict=True):
        if mark == "":
            found = by_task.get((row["unit_id"], row["task"]), [])
            if len(found) != 1:
                return None
            mark = found[0]
        refs.append(mark)
    return refs


def slimmed(
    data: dict[str, Any],
    refs: list[str | None],
    marks: list[str | None],
    seed: int,
    levels: bytes,
    keeps: bytes,
    pair_ids: list[str | None],
    made: bool = False,
) -> bytes | None:
    """The JSON to store, in UTF-8, for a file's candidates (`data`, `refs` and `marks` as
    `read` gave them, its rows before `load_candidates` changed them), each one that became
    a pair (`keeps`, its id in `pair_ids`) as its level, its mark and its fields but
    `PAIR_FIELDS`, the others whole, all without what `_expand` gives back; None when the
    store holds that already. `made`: the rows are `file_candidates`' own, just built
    (their task's and unit's fields are those `derived` gives: not checked again)."""
    rows = data["candidates"]
    kept = Counter((row["unit_id"], row["task"]) for i, row in enumerate(rows) if keeps[i])
    new_marks = [
        ("" if kept[(row["unit_id"], row["task"])] == 1 else pair_ids[i]) if keeps[i] else None
        for i, row in enumerate(rows)
    ]
    if len(marks) == len(rows) and all(
        marks[i] == new_marks[i]
        and (not keeps[i] or (refs[i] == pair_ids[i] and row["level"] == levels[i]))
        for i, row in enumerate(rows)
    ):
        return None
    units: list[str | None] = [None] * len(data["values"])
    for row in rows:
        if units[row["values"]] is None:
            units[row["values"]] = row["unit_id"]
    out = []
    for i, row in enumerate(rows):
        stored = _to_store(row, _SLIM if keeps[i] else _WHOLE, units[row["values"]], seed, made)
        if keeps[i]:
            stored["level"], stored["pair"] = levels[i], new_marks[i]
        out.append(stored)
    stored_data = {"values": [_delta(v) for v in data["values"]], "units": units, "candidates": out}
    return to_json(stored_data)
