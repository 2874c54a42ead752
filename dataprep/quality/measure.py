"""The measure: one pass over the rows tallies every detector; coverage of the main code;
the report's section and summary line."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

from dataprep.quality.answerable import answerable, leaky_labels
from dataprep.quality.detectors import (
    BARE_ANNOTATIONS_RE,
    MARKUP_RE,
    asks_explanation,
    is_test_path,
    non_doc_reason,
)
from dataprep.quality.families import FAMILIES, PROSE_FAMILIES, TEST_FAMILIES, family_of
from dataprep.quality.goals import MEASURES, SHORT_NAMES
from dataprep.quality.text import multiline_code, text_kind, undedented

EXAMPLES = 3
SHORT = 200


COVERED_KINDS = frozenset({"method", "class", "interface", "enum", "record", "annotation_type"})


def _get(record: Any, key: str) -> Any:
    return record.get(key) if isinstance(record, dict) else getattr(record, key, None)


# The unit fields `coverage_targets` reads (Store.unit_summaries gives just these).
UNIT_FIELDS = ("id", "kind", "qualified_name", "path", "modifiers", "parent")


def coverage_targets(units: Iterable[Any]) -> list[dict]:
    """The non-private types and methods of main code that should have a knowledge pair:
    not on a test path, not private, not inside an anonymous class or a private type."""
    units = [u for u in units if _get(u, "kind") in COVERED_KINDS]
    private = {
        _get(u, "qualified_name")
        for u in units
        if _get(u, "kind") != "method" and "private" in (_get(u, "modifiers") or ())
    }
    out = []
    for u in units:
        qualified = _get(u, "qualified_name")
        if is_test_path(_get(u, "path")) or "private" in (_get(u, "modifiers") or ()):
            continue
        if "$" in qualified or (private and _inside(_get(u, "parent") or "", private)):
            continue
        out.append(
            {
                "id": _get(u, "id"),
                "kind": _get(u, "kind"),
                "name": qualified,
                "path": _get(u, "path"),
            }
        )
    return out


def _inside(parent: str, private: set[str]) -> bool:
    """True when `parent` or a type enclosing it is in `private` (qualified names)."""
    while parent:
        if parent in private:
            return True
        parent = parent.rpartition(".")[0]
    return False


# --- the measure ------------------------------------------------------------------------


def _short(text: str, n: int = SHORT) -> str:
    """Shortened, newlines kept (they show indentation), at most 6 lines."""
    text = "\n".join(text.strip("\n").split("\n")[:6])
    return text if len(text) <= n else text[: n - 1] + "…"


def _example(row: dict, why: str | None = None) -> dict[str, Any]:
    out = {
        "id": row["id"],
        "task": row["task"],
        "instruction": _short(row["instruction"]),
        "input": _short(row["input"] or ""),
        "output": _short(row["output"]),
    }
    if why:
        out["why"] = why
    return out


def _rows(pairs: Iterable[Any]) -> list[dict]:
    return [p if isinstance(p, dict) else p.__dict__ for p in pairs]


def _spread(items: list, k: int = EXAMPLES) -> list:
    """k items spread evenly over the list (examples from all over, not the first file)."""
    if len(items) <= k:
        return list(items)
    return [items[i * len(items) // k] for i in range(k)]


KEPT_EXAMPLES = 50  # a measure keeps its first defects' examples (`_spread` picks from them)


class _Tally:
    """Count, denominator and examples of one measure."""

    def __init__(self) -> None:
        self.count, self.of, self.examples = 0, 0, []

    def see(self, defect: bool, row: dict | None = None, why: str | None = None) -> None:
        self.of += 1
        if defect:
            self.count += 1
            if row is not None and len(self.examples) < KEPT_EXAMPLES:
                self.examples.append(_example(row, why))

    def merge(self, later: _Tally) -> None:
        """Add the tally of later rows: its counts, and its examples while there is room."""
        self.count += later.count
        self.of += later.of
        self.examples += later.examples[: KEPT_EXAMPLES - len(self.examples)]

    def kept(self) -> list[dict]:
        """The examples kept (`_spread` picks the shown ones from them)."""
        return self.examples


class _ByIdTally(_Tally):
    """A tally that keeps the examples of the defects with the smallest ids: what a tally
    of the same rows seen by id keeps, whatever order they come in."""

    def __init__(self) -> None:
        super().__init__()
        self.bound: str | None = None  # the largest id kept, once KEPT_EXAMPLES are

    def see(self, defect: bool, row: dict | None = None, why: str | None = None) -> None:
        self.of += 1
        if defect:
            self.count += 1
            if row is not None and (self.bound is None or row["id"] < self.bound):
                self.examples.append(_example(row, why))
                if len(self.examples) >= 2 * KEPT_EXAMPLES:
                    self._trim()

    def _trim(self) -> None:
        self.examples.sort(key=lambda e: e["id"])
        del self.examples[KEPT_EXAMPLES:]
        if len(self.examples) == KEPT_EXAMPLES:
            self.bound = self.examples[-1]["id"]

    def merge(self, later: _Tally) -> None:
        self.count += later.count
        self.of += later.of
        self.examples += later.examples
        self._trim()

    def kept(self) -> list[dict]:
        self._trim()
        return self.examples


def measure_quality(
    pairs: Iterable[Any], units: Iterable[Any] | None = None, leaks: set[str] | None = None
) -> dict[str, Any]:
    """Every measure over `pairs` (the kept or exported rows); coverage needs `units`.
    With `leaks` (`leaky_labels` of the same rows, found beforehand), `pairs` is read once,
    as it comes: an export measures the rows it streams to its files.

    Returns {"rows", "met", "goals", "measures": {name: {title, value, display, count, of,
    goal, passed, examples, ...}}, "families": {family: {rows, share, knowledge}}, "seconds"}.
    """
    start = time.perf_counter()
    if leaks is None:
        pairs = _rows(pairs)
        leaks = leaky_labels(pairs)
    tally = QualityTally(leaks)
    for row in pairs:
        tally.see(row)
    return tally.result(units, start)


class QualityTally:
    """The measures' counts over rows seen one at a time (`see`); tallies of consecutive
    parts of the rows, made apart (in forked workers), `merge` in order into the tally of
    all of them, examples included. `result` is `measure_quality`'s answer."""

    def __init__(self, leaks: set[str], by_id: bool = False) -> None:
        self.leaks = leaks
        self.rows = 0
        kind = _ByIdTally if by_id else _Tally
        self.t = {name: kind() for name in MEASURES if name not in ("coverage", "families")}
        self.families: Counter[str] = Counter()
        self.knowledge_units: set[str] = set()

    def see(self, row: Any, also: QualityTally | None = None) -> None:
        """Measure one row; count it here, and in `also` when given (measured once)."""
        row = row if isinstance(row, dict) else row.__dict__
        marks: list[tuple[str, bool, Any]] = []  # (measure, defect, why)
        output = _output_facts(row["output"])
        out_kind = output.kind
        why = answerable(row, self.leaks)
        marks.append(("answerable", bool(why), why))
        _undedented(marks, row, output)
        if _asks_explanation(row["instruction"]):
            marks.append(("explanation_without_prose", out_kind != "prose", out_kind))
        if out_kind == "prose":
            marks.append(("markup_in_prose", output.markup is not None, output.markup))
        family = family_of(row["task"])
        if family in PROSE_FAMILIES and out_kind != "prose":
            family = "code"
        trivia = is_test_path(row["path"]) and family not in TEST_FAMILIES
        marks.append(("test_trivia", trivia, family))
        marks.append(("bare_annotations", output.bare, None))
        if row["unit_kind"] == "doc_section":
            reason = non_doc_reason(row["path"])
            marks.append(("non_doc_docs", bool(reason), reason))
        fffd = "\ufffd" in row["instruction"] or "\ufffd" in (row["input"] or "") or output.fffd
        marks.append(("replacement_chars", fffd, None))
        unit = None
        if FAMILIES[family][0] and not why and output.shows_knowledge:
            unit = row["unit_id"]
        for tally in (self, also) if also is not None else (self,):
            tally.rows += 1
            t = tally.t
            for name, defect, detail in marks:
                if defect:
                    t[name].see(defect, row, detail)
                else:  # what `see` does with a row without the defect
                    t[name].of += 1
            tally.families[family] += 1
            if unit is not None:
                tally.knowledge_units.add(unit)

    def merge(self, later: QualityTally) -> None:
        """Add the tally of the rows that come after this one's."""
        self.rows += later.rows
        for name, tally in self.t.items():
            tally.merge(later.t[name])
        self.families.update(later.families)
        self.knowledge_units |= later.knowledge_units

    def result(
        self, units: Iterable[Any] | None, start: float, targets: list[dict] | None = None
    ) -> dict[str, Any]:
        """The measures (coverage of `units`, or of their `coverage_targets` when given),
        timed from `start` (`time.perf_counter`)."""
        t = self.t
        measures = {name: _share_measure(name, tally) for name, tally in t.items()}
        for name in ("non_doc_docs", "replacement_chars"):
            measures[name] = _count_measure(name, t[name])
        measures["coverage"] = _coverage(units, self.knowledge_units, targets)
        measures["families"], family_table = _families(self.families, self.rows)
        ordered = {name: measures[name] for name in MEASURES}
        return {
            "rows": self.rows,
            "met": sum(m["passed"] for m in ordered.values()),
            "goals": len(ordered),
            "measures": ordered,
            "families": family_table,
            "seconds": round(time.perf_counter() - start, 3),
        }


class _Output(NamedTuple):
    """What the measures read of an output alone (`_output_facts`)."""

    kind: str  # text_kind
    multiline: bool  # multiline_code
    undedented: bool  # multi-line code, undedented
    markup: str | None  # prose: the markup found (stripped), None when none is
    bare: bool  # only annotations
    fffd: bool  # holds U+FFFD
    shows_knowledge: bool  # prose, or code of more than one line


@lru_cache(maxsize=1024)  # a unit's pairs come together, and share their outputs
def _output_facts(output: str) -> _Output:
    kind = text_kind(output)
    multiline = multiline_code(output, kind)
    markup = None
    if kind == "prose" and (found := MARKUP_RE.search(output)):
        markup = found.group(0).strip()
    stripped = output.strip()
    return _Output(
        kind,
        multiline,
        multiline and undedented(output),
        markup,
        bool(BARE_ANNOTATIONS_RE.fullmatch(stripped)),
        "\ufffd" in output,
        kind == "prose" or (kind == "code" and "\n" in stripped),
    )


_asks_explanation = lru_cache(maxsize=1024)(asks_explanation)  # templates repeat phrasings


@lru_cache(maxsize=256)  # an input is mostly its unit's code, shared by the unit's pairs
def _input_undedented(text: str) -> bool | None:
    """Whether a multi-line input of code is undedented; None when it is not such code."""
    return undedented(text) if multiline_code(text, text_kind(text)) else None


def _undedented(marks: list, row: dict, output: _Output) -> None:
    """Count the row when its output or input holds multi-line code; a defect when either
    is not dedented (`why` says which)."""
    multi = [("output", output.undedented)] if output.multiline else []
    text = row["input"] or ""
    if "\n" in text and (found := _input_undedented(text)) is not None:
        multi.append(("input", found))
    if multi:
        bad = [name for name, defect in multi if defect]
        marks.append(("undedented", bool(bad), " and ".join(bad)))


def _share_measure(name: str, tally: _Tally) -> dict[str, Any]:
    title, goal = MEASURES[name]
    value = tally.count / tally.of if tally.of else 0.0
    return {
        "title": title,
        "value": round(value, 4),
        "display": goal.shown(value),
        "count": tally.count,
        "of": tally.of,
        "goal": goal.text(),
        "passed": goal.met(value),
        "examples": _spread(tally.kept()),
    }


def _count_measure(name: str, tally: _Tally) -> dict[str, Any]:
    title, goal = MEASURES[name]
    return {
        **_share_measure(name, tally),
        "value": tally.count,
        "display": str(tally.count),
        "goal": goal.text(),
        "passed": goal.met(tally.count),
    }


def _coverage(
    units: Iterable[Any] | None, covered: set[str], targets: list[dict] | None = None
) -> dict[str, Any]:
    title, goal = MEASURES["coverage"]
    if targets is None:
        targets = coverage_targets(units or [])
    missing = [u for u in targets if u["id"] not in covered]
    value = 1 - len(missing) / len(targets) if targets else 1.0
    by_kind: dict[str, list[int]] = {}
    for u in targets:
        entry = by_kind.setdefault(u["kind"], [0, 0])
        entry[0] += u["id"] in covered
        entry[1] += 1
    return {
        "title": title,
        "value": round(value, 4),
        "display": goal.shown(value),
        "count": len(targets) - len(missing),
        "of": len(targets),
        "goal": goal.text(),
        "passed": goal.met(value),
        "by_kind": {k: {"covered": c, "total": n} for k, (c, n) in sorted(by_kind.items())},
        "examples": _spread(missing),
    }


def _families(counts: Counter[str], total: int) -> tuple[dict[str, Any], dict[str, Any]]:
    title, goal = MEASURES["families"]
    table = {
        f: {"rows": n, "share": round(n / total, 4) if total else 0.0, "knowledge": FAMILIES[f][0]}
        for f, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))  # ties by name
    }
    beyond = [f for f, v in table.items() if v["knowledge"] and f != "code" and v["share"] >= 0.01]
    knowledge = sum(v["rows"] for v in table.values() if v["knowledge"])
    return {
        "title": title,
        "value": len(beyond),
        "display": str(len(beyond)),
        "count": len(beyond),
        "of": len(table),
        "goal": goal.text(),
        "passed": goal.met(len(beyond)),
        "families": beyond,
        "knowledge_share": round(knowledge / total, 4) if total else 0.0,
        "examples": [],
    }, table


def summary_line(quality: dict[str, Any]) -> str:
    """One line for the terminal: goals met and the measures that miss theirs.

    Example: "Quality: 4 of 10 goals met (answerable from the prompt 31% > 3%, ...)"
    """
    missed = [
        f"{SHORT_NAMES[name]} {m['display']} (goal {m['goal']})"
        for name, m in quality["measures"].items()
        if not m["passed"]
    ]
    tail = f" ({', '.join(missed)})" if missed else ""
    return f"Quality: {quality['met']} of {quality['goals']} goals met{tail}"
