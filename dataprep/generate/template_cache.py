"""The per-file template cache as the store keeps it: a file's candidates
(`candidates.dump_candidates`' JSON), where each candidate that became a pair keeps, in place
of what that pair holds too (`PAIR_FIELDS`: the answer, often the code it asks about, and
its place), its level and a mark `"pair"`: "" when its pair is the one template pair of its
unit and task, else the pair's id (a task may make several pairs of a unit, e.g. one per
method asked about). On every 4th java.base file the cache took 5.2 MB whole, 3.3 so.

A pass of the generate stage reads a cached file's candidates with `read` (the marked ones
completed from their pairs) and, once resolved, writes them back with `slimmed` (in the
pairs pass, where the stage knows each candidate's level and whether it became a pair). A
candidate whose pair cannot be found again (gone, or no longer the only one of its unit and
task: the store edited by hand) makes `read` build the file's candidates again from its
units (`rebuild`).

Example:
    data, refs, marks, _ = read(store, "src/A.java", rebuild)  # refs[i]: candidate i's pair
    text = slimmed(data, refs, marks, levels, keeps, pair_ids)  # None: stored as it should be
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

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


def read(store, path: str, rebuild: Rebuild, levels: bytes = b"", keeps: bytes = b"") -> Read:
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
    data = json.loads(text)
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
    levels: bytes,
    keeps: bytes,
    pair_ids: list[str | None],
) -> str | None:
    """The JSON to store for a file's candidates (`data`, `refs` and `marks` as `read` gave
    them, its rows before `load_candidates` changed them), each one that became a pair
    (`keeps`, its id in `pair_ids`) as its level, its mark and its fields but `PAIR_FIELDS`,
    the others whole; None when the store holds that already."""
    rows = data["candidates"]
    kept = Counter((row["unit_id"], row["task"]) for i, row in enumerate(rows) if keeps[i])
    out, changed = [], len(marks) != len(rows)
    for i, row in enumerate(rows):
        mark = marks[i] if i < len(marks) else None
        if keeps[i]:
            slim = {name: value for name, value in row.items() if name not in PAIR_FIELDS}
            one = kept[(row["unit_id"], row["task"])] == 1
            slim["level"], slim["pair"] = levels[i], "" if one else pair_ids[i]
            ref = refs[i] if i < len(refs) else None
            changed = changed or mark != slim["pair"] or ref != pair_ids[i]
            changed = changed or row["level"] != levels[i]
            out.append(slim)
        else:
            changed = changed or mark is not None
            out.append(row)
    if not changed:
        return None
    return json.dumps({"values": data["values"], "candidates": out}, separators=(",", ":"))
