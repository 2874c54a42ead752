"""The review queue: its filters, sort and sample read from a query string, its rows, and
the counts the page shows.

The store does the work in SQL over `review_rows` (`Store.review_page`, `review_counts`,
`review_neighbours`, `review_sample`), so a page costs the same on 250k pairs as on 50.
`review_counts` groups the live pairs by every facet at once (a few thousand groups at
most); the facet counts, the number matched and the progress figures are added up here.
"""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from dataprep.models import Pair
from dataprep.store import Store
from dataprep.store_review import NOT_NULL, REVIEW_SORTS

PAGE_SIZE = 50
STATUSES = ("unreviewed", "accepted", "rejected", "edited")
REVIEWED = ("accepted", "rejected", "edited")
# The flag filter: kept (the default: what export would use), dropped, flagged, all, or
# dropped:<stage>.
DEFAULT_FLAG = "kept"
DEFAULT_SORT = "source"
SORTS = tuple(REVIEW_SORTS)
MAX_SAMPLE = 100  # pairs per task
MAX_SEARCH = 500  # characters
SHORT_OUTPUT = 120  # characters of an output the queue shows


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
    output: str = ""  # its first SHORT_OUTPUT characters, on one line

    @classmethod
    def of(cls, values: tuple, reasons: list[str] | None = None) -> "Row":
        """A row from a `store_review.REVIEW_ROW` tuple."""
        pid, instruction, output, gen, task, kind, path, start, end = values[:9]
        split, status, flagged, dropped, judge = values[9:]
        return cls(
            pid, instruction or "", gen, task, kind, path, start or 0, end or 0,
            split=split or None, status=status, flagged=bool(flagged),
            dropped=dropped.split(",") if dropped else [], reasons=reasons or [],
            judge_score=judge, output=shorten(output or ""),
        )  # fmt: skip


@dataclass
class Filters:
    """The queue's filters, search, sort and sample, read from and written to a query string."""

    status: str = ""
    task: str = ""
    kind: str = ""
    generator: str = ""
    split: str = ""
    flag: str = DEFAULT_FLAG
    judge_min: float | None = None
    judge_max: float | None = None
    q: str = ""  # full-text search over instruction, input and output (Store.search_query)
    sort: str = DEFAULT_SORT  # a SORTS name, "-name" for descending
    sample: int | None = None  # at most this many pairs per task
    seed: str = ""  # which sample

    FACETS = ("status", "task", "kind", "generator", "split", "flag")

    @classmethod
    def from_query(cls, query) -> "Filters":
        """Filters from a mapping of query parameters; unknown or empty values are ignored."""
        f = cls(**{name: str(query.get(name, "") or "") for name in cls.FACETS[:-1]})
        f.flag = str(query.get("flag") or DEFAULT_FLAG)
        f.judge_min = _number(query.get("judge_min"))
        f.judge_max = _number(query.get("judge_max"))
        f.q = str(query.get("q") or "").strip()[:MAX_SEARCH]
        sort = str(query.get("sort") or "")
        f.sort = sort if sort.removeprefix("-") in SORTS else DEFAULT_SORT
        sample = _number(query.get("sample"))
        f.sample = min(int(sample), MAX_SAMPLE) if sample and sample >= 1 else None
        f.seed = "".join(c for c in str(query.get("seed") or "") if c.isalnum())[:16]
        return f

    def to_query(self, **overrides: object) -> str:
        """The query string for these filters (defaults left out), e.g. `status=accepted&page=2`."""
        values: dict[str, object] = {name: getattr(self, name) for name in self.FACETS}
        values.update(judge_min=self.judge_min, judge_max=self.judge_max, q=self.q)
        values.update(sort=self.sort, sample=self.sample, seed=self.seed)
        values.update(overrides)
        if values.get("flag") == DEFAULT_FLAG:
            values.pop("flag")
        if values.get("sort") == DEFAULT_SORT:
            values.pop("sort")
        if not values.get("sample"):
            values.pop("seed")
        return urlencode({k: _fmt(v) for k, v in values.items() if v not in ("", None)})

    @property
    def order(self) -> tuple[str, bool]:
        """(sort name, descending), e.g. "-task" -> ("task", True)."""
        return self.sort.removeprefix("-"), self.sort.startswith("-")

    def sorted_by(self, name: str) -> str:
        """The sort a column heading links to: by `name`, or reversed when already so."""
        return f"-{name}" if self.sort == name else name

    @property
    def narrowed(self) -> bool:
        """Whether the search or the judge range leaves pairs out of every facet count."""
        return bool(self.q) or self.judge_min is not None or self.judge_max is not None


def flag_matches(flag: str, dropped: list[str], flagged: bool) -> bool:
    """Whether a pair passes the flag filter: kept, dropped, flagged, all or `dropped:<stage>`."""
    if flag == "kept":
        return not dropped
    if flag == "dropped":
        return bool(dropped)
    if flag == "flagged":
        return flagged
    if flag.startswith("dropped:"):
        return flag.removeprefix("dropped:") in dropped
    return True


@dataclass
class Group:
    """Live pairs alike in every facet, and how many (a `Store.review_counts` row)."""

    status: str
    task: str
    kind: str
    generator: str
    split: str
    dropped: list[str]
    flagged: bool
    judged: int  # how many have a judge score
    n: int

    @classmethod
    def of(cls, values: tuple) -> "Group":
        status, task, kind, gen, split, dropped, flagged, judged, n = values
        stages = dropped.split(",") if dropped else []
        return cls(status, task, kind, gen, split, stages, bool(flagged), judged, n)

    def passes(self, filters: Filters, skip: str = "") -> bool:
        """Whether these pairs pass every facet and flag filter except `skip`."""
        for name in Filters.FACETS[:-1]:
            wanted = getattr(filters, name)
            if wanted and name != skip and getattr(self, name) != wanted:
                return False
        return skip == "flag" or flag_matches(filters.flag, self.dropped, self.flagged)


def groups(store: Store, filters: Filters, ids: list[str] | None = None) -> list[Group]:
    """The live pairs passing the search and judge range of `filters`, grouped by facet."""
    return [Group.of(values) for values in store.review_counts(filters, ids)]


def facet_counts(groups: Iterable[Group], filters: Filters) -> dict[str, Counter]:
    """For each facet, value -> count among the pairs passing every other filter."""
    counts: dict[str, Counter] = {name: Counter() for name in Filters.FACETS}
    for g in groups:
        for name in Filters.FACETS[:-1]:
            if g.passes(filters, skip=name):
                counts[name][getattr(g, name)] += g.n
        if g.passes(filters, skip="flag"):
            counts["flag"]["all"] += g.n
            counts["flag"]["dropped" if g.dropped else "kept"] += g.n
            counts["flag"]["flagged"] += g.n * g.flagged
            for why in g.dropped:
                counts["flag"][f"dropped:{why}"] += g.n
    return counts


def progress(groups: Iterable[Group], filters: Filters) -> dict[str, int]:
    """Counts by status of the pairs passing `filters`, plus `reviewed`, `total`, `flagged`."""
    by_status: Counter = Counter()
    flagged = 0
    for g in groups:
        if g.passes(filters):
            by_status[g.status] += g.n
            flagged += g.n * g.flagged
    out = {status: by_status.get(status, 0) for status in STATUSES}
    out["reviewed"] = sum(out[s] for s in REVIEWED)
    out["total"] = sum(by_status.values())
    out["flagged"] = flagged
    return out


def rows(store: Store, values: list[tuple]) -> list[Row]:
    """Rows from `store_review.REVIEW_ROW` tuples, with the reasons of the stages that
    dropped them."""
    dropped = [v[0] for v in values if v[12]]
    reasons = store.review_reasons(dropped) if dropped else {}
    return [Row.of(v, reasons.get(v[0])) for v in values]


# Sorts by a facet's column go a value at a time (see `blocks`); "filters" is `dropped`.
FACET_SORTS = {name: name for name in Filters.FACETS[:-1]} | {"filters": "dropped"}


@dataclass
class Block:
    """The pairs of one value of the sort's column: in the queue's order, block after block,
    each in source order. `equal` is the value (for `Store.review_page`); `n` how many pass
    the filters (from the groups), so a page skips whole blocks without asking the store."""

    sort: str
    equal: dict
    n: int


def blocks(groups: Iterable[Group], filters: Filters, value: object = None) -> list[Block]:
    """The blocks of a sort by a facet or by the judge score (None for another sort), with
    the block of `value` even when no pair of it passes the filters.

    Sorting 250k rows by a column without an index would read them all; a block is read
    through the source order's index instead, and most pages touch one block.
    Example: sort "status" -> [accepted 12, rejected 3, unreviewed 9000] (ascending)
    """
    sort, desc = filters.order
    passing = [g for g in groups if g.passes(filters)]
    if sort == "judge":
        judged = sum(g.judged for g in passing)
        out = [
            Block("source", {"judge": None}, sum(g.n for g in passing) - judged),
            Block("judge", {"judge": NOT_NULL}, judged),
        ]
        return out[::-1] if desc else out
    column = FACET_SORTS.get(sort)
    if column is None:
        return []
    counts: Counter = Counter()
    for g in passing:
        counts[",".join(g.dropped) if column == "dropped" else getattr(g, column)] += g.n
    if value is not None:
        counts[value] += 0
    return [Block("source", {column: v}, counts[v]) for v in sorted(counts, reverse=desc)]


def page(
    store: Store, filters: Filters, groups: list[Group], offset: int, walk: bool
) -> list[tuple]:
    """The `store_review.REVIEW_ROW` tuples of one page of the queue, from `offset` on."""
    sort, desc = filters.order
    found: list[tuple] = []
    order = blocks(groups, filters)
    if not order:
        return store.review_page(filters, sort, desc, PAGE_SIZE, offset, walk=walk)
    for block in order:
        if offset >= block.n:
            offset -= block.n
            continue
        found += store.review_page(
            filters, block.sort, desc, PAGE_SIZE - len(found), offset, equal=block.equal,
            walk=walk and block.n * 20 >= sum(b.n for b in order),
        )  # fmt: skip
        offset = 0
        if len(found) >= PAGE_SIZE:
            break
    return found


def neighbours(
    store: Store, filters: Filters, groups: list[Group], pair_id: str, walk: bool
) -> tuple[str | None, str | None]:
    """The previous and next pair ids around `pair_id` in the queue's order (the pair
    itself need not pass the filters: its place in the order decides)."""
    sort, desc = filters.order
    here = store.review_row(pair_id)
    order = blocks(groups, filters, _sort_value(here, sort)) if here else []
    if not order:
        return store.review_neighbours(pair_id, filters, sort, desc, walk=walk)
    i = next(i for i, b in enumerate(order) if b.equal == _block_of(here, sort))
    walk = walk and order[i].n * 20 >= sum(b.n for b in order)
    prev, nxt = store.review_neighbours(
        pair_id, filters, order[i].sort, desc, equal=order[i].equal, walk=walk
    )
    for block in order[i + 1 :] if nxt is None else ():
        if block.n and (
            rows := store.review_page(filters, block.sort, desc, 1, 0, equal=block.equal)
        ):
            nxt = rows[0][0]
            break
    for block in order[:i][::-1] if prev is None else ():
        if block.n and (
            rows := store.review_page(filters, block.sort, not desc, 1, 0, equal=block.equal)
        ):
            prev = rows[0][0]
            break
    return prev, nxt


def _sort_value(values: tuple, sort: str) -> object:
    """A `REVIEW_ROW`'s value of a facet sort's column (None for other sorts)."""
    column = FACET_SORTS.get(sort)
    return values[_ROW_INDEX[column]] if column else None


def _block_of(values: tuple, sort: str) -> dict:
    """The `Block.equal` of the block a `REVIEW_ROW` belongs to."""
    if sort == "judge":
        return {"judge": None if values[13] is None else NOT_NULL}
    column = FACET_SORTS[sort]
    return {column: values[_ROW_INDEX[column]]}


# Where a facet's value is in a `store_review.REVIEW_ROW` tuple.
_ROW_INDEX = {"generator": 3, "task": 4, "kind": 5, "split": 9, "status": 10, "dropped": 12}


def page_count(matched: int, page: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    """The 1-based page number clamped into range, and the page count."""
    pages = max(1, math.ceil(matched / size))
    return min(max(1, page), pages), pages


def shorten(text: str, limit: int = SHORT_OUTPUT) -> str:
    """`text` on one line (runs of whitespace as one space), cut to `limit` characters.

    Example: shorten("int count() {\\n    return n;\\n}", 20) -> "int count() { retur…"
    """
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


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
