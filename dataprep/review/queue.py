"""The review queue: one light row per live pair, filters over them, facet counts.

Pure functions over the store's tables; the web app renders what they return. A row is
read with one SQL query (no pydantic parsing of every pair), so a queue of tens of
thousands of pairs stays quick.
"""

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from dataprep.models import Pair
from dataprep.store import Store

PAGE_SIZE = 50
STATUSES = ("unreviewed", "accepted", "rejected", "edited")
REVIEWED = ("accepted", "rejected", "edited")
# Flag filter values besides "dropped:<stage>"; the default shows what export would use.
FLAG_VALUES = ("kept", "dropped", "flagged", "all")
DEFAULT_FLAG = "kept"


@dataclass
class Row:
    """What the queue shows of one pair."""

    id: str
    instruction: str
    generator: str
    task: str
    kind: str
    path: str
    start_line: int
    end_line: int
    split: str | None = None
    status: str = "unreviewed"
    flagged: bool = False
    dropped: list[str] = field(default_factory=list)  # the stages that dropped it
    reasons: list[str] = field(default_factory=list)  # "stage: reason" for each
    judge_score: float | None = None


@dataclass
class Filters:
    """The queue's filters, read from and written to a query string."""

    status: str = ""
    task: str = ""
    kind: str = ""
    generator: str = ""
    split: str = ""
    flag: str = DEFAULT_FLAG
    judge_min: float | None = None
    judge_max: float | None = None

    FACETS = ("status", "task", "kind", "generator", "split", "flag")

    @classmethod
    def from_query(cls, query) -> "Filters":
        """Filters from a mapping of query parameters; unknown or empty values are ignored."""
        f = cls(**{name: str(query.get(name, "") or "") for name in cls.FACETS[:-1]})
        f.flag = str(query.get("flag") or DEFAULT_FLAG)
        f.judge_min = _number(query.get("judge_min"))
        f.judge_max = _number(query.get("judge_max"))
        return f

    def to_query(self, **overrides: object) -> str:
        """The query string for these filters (defaults left out), e.g. `status=accepted&page=2`."""
        values: dict[str, object] = {name: getattr(self, name) for name in self.FACETS}
        values.update(judge_min=self.judge_min, judge_max=self.judge_max)
        values.update(overrides)
        if values.get("flag") == DEFAULT_FLAG:
            values.pop("flag")
        return urlencode({k: _fmt(v) for k, v in values.items() if v not in ("", None)})

    def matches(self, row: Row, skip: str = "") -> bool:
        """Whether `row` passes every filter except `skip` (used for facet counts)."""
        for name in ("status", "task", "kind", "generator", "split"):
            wanted = getattr(self, name)
            if wanted and name != skip and _value(row, name) != wanted:
                return False
        if skip != "flag" and not flag_matches(self.flag, row):
            return False
        if skip != "judge" and (self.judge_min is not None or self.judge_max is not None):
            if row.judge_score is None:
                return False
            if self.judge_min is not None and row.judge_score < self.judge_min:
                return False
            if self.judge_max is not None and row.judge_score > self.judge_max:
                return False
        return True


def flag_matches(flag: str, row: Row) -> bool:
    """Whether a row passes the flag filter: kept, dropped, flagged, all or `dropped:<stage>`."""
    if flag == "kept":
        return not row.dropped
    if flag == "dropped":
        return bool(row.dropped)
    if flag == "flagged":
        return row.flagged
    if flag.startswith("dropped:"):
        return flag.removeprefix("dropped:") in row.dropped
    return True


def load_rows(store: Store) -> list[Row]:
    """Every live pair (its unit still exists), ordered by path and line, with its state."""
    reviews = store.reviews()
    splits = store.splits()
    dropped, reasons, scores = _decisions(store)
    rows = []
    for pid, instruction, gen, task, kind, path, start, end, score in store.queue_rows():
        review = reviews.get(pid)
        row = Row(pid, instruction or "", gen, task, kind or "", path, start or 0, end or 0)
        row.split = splits.get(pid)
        row.status = review.status if review else "unreviewed"
        row.flagged = bool(review and review.flagged)
        row.dropped = dropped.get(pid, [])
        row.reasons = reasons.get(pid, [])
        row.judge_score = _number(score) if score is not None else scores.get(pid)
        rows.append(row)
    rows.sort(key=lambda r: (r.path, r.start_line, r.task, r.id))
    return rows


def unreviewed_left_out(store: Store, kept: Iterable[Pair] | None = None) -> int:
    """How many kept pairs export leaves out as unreviewed (0 until a person decides one).

    Once any review carries a verdict (accepted, rejected, edited; a flag alone is none),
    export takes accepted and edited pairs only unless `--include-unreviewed`: this counts
    the kept pairs without a verdict. `kept` defaults to `store.kept_pairs()`; export
    passes its own list.

    Example: 5 kept pairs, one accepted -> 4; no verdict yet -> 0.
    """
    decided = {pid for pid, review in store.reviews().items() if review.status in REVIEWED}
    if not decided:
        return 0
    pairs = store.kept_pairs() if kept is None else kept
    return sum(1 for pair in pairs if pair.id not in decided)


def _decisions(
    store: Store,
) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, float]]:
    """Pair id -> the stages that dropped it, -> `stage: reason` of each, -> judge score.

    A judge score is read from a decision's detail when that is a JSON object with a
    `judge_score` (or, for a stage named like `judge`, a `score`) key.
    """
    dropped: dict[str, list[str]] = {}
    reasons: dict[str, list[str]] = {}
    scores: dict[str, float] = {}
    for pair_id, stage, kept, reason, detail in store.notable_decisions():
        if not kept:
            dropped.setdefault(pair_id, []).append(stage)
            reasons.setdefault(pair_id, []).append(f"{stage}: {reason}" if reason else stage)
        score = _judge_score(stage, detail)
        if score is not None:
            scores[pair_id] = score
    return dropped, reasons, scores


def _judge_score(stage: str, detail: str | None) -> float | None:
    if not detail or not detail.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(detail)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if "judge_score" in data:
        return _number(data["judge_score"])
    if "judge" in stage and "score" in data:
        return _number(data["score"])
    return None


def facet_counts(rows: list[Row], filters: Filters) -> dict[str, Counter]:
    """For each facet, value -> count among rows passing every other filter."""
    counts: dict[str, Counter] = {name: Counter() for name in Filters.FACETS}
    for row in rows:
        for name in ("status", "task", "kind", "generator", "split"):
            if filters.matches(row, skip=name):
                counts[name][_value(row, name) or ""] += 1
        if filters.matches(row, skip="flag"):
            counts["flag"]["all"] += 1
            counts["flag"]["kept" if not row.dropped else "dropped"] += 1
            counts["flag"]["flagged"] += row.flagged
            for why in row.dropped:
                counts["flag"][f"dropped:{why}"] += 1
    return counts


def progress(rows: list[Row]) -> dict[str, int]:
    """Counts by status over `rows`, plus `reviewed` and `total`."""
    by_status = Counter(row.status for row in rows)
    out = {status: by_status.get(status, 0) for status in STATUSES}
    out["reviewed"] = sum(out[s] for s in REVIEWED)
    out["total"] = len(rows)
    out["flagged"] = sum(row.flagged for row in rows)
    return out


def page_of(rows: list, page: int, size: int = PAGE_SIZE) -> tuple[list, int, int]:
    """The rows of a 1-based page, the page number clamped into range, and the page count."""
    pages = max(1, math.ceil(len(rows) / size))
    page = min(max(1, page), pages)
    return rows[(page - 1) * size : page * size], page, pages


def neighbours(rows: list[Row], filters: Filters, pair_id: str) -> tuple[str | None, str | None]:
    """The previous and next pair ids around `pair_id` among the rows passing `filters`.

    The pair itself need not pass them (it may have just been accepted out of an
    "unreviewed" queue): its place in the queue's order decides.
    """
    prev = nxt = None
    seen = False
    for row in rows:
        if row.id == pair_id:
            seen = True
        elif filters.matches(row):
            if seen:
                nxt = row.id
                break
            prev = row.id
    return (prev, nxt) if seen else (None, None)


def _value(row: Row, name: str) -> str:
    return getattr(row, name) or ""


def _number(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
