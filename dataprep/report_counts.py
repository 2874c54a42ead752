"""What the report counts of each kept pair (the distributions after balancing, the splits,
the token lengths), counted where the pair is read: by the export, which reads every kept
pair anyway and hands the counts over (`export_rows.hand_over`), or by the report's own
pass over the live pairs when it cannot take them.

Example:
    counts = KeptCounts(("task", "kind", "generator"))
    counts.see({"task": "method.name", "unit_kind": "method", ...}, "train")
    counts.values["task"]  # -> Counter({"method.name": 1})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from dataprep.balance import COLUMN_ALIASES, shown
from dataprep.filters.core import estimate_tokens
from dataprep.models import Pair
from dataprep.prompts import alpaca_prompt


def countable(columns: Iterable[str]) -> bool:
    """Whether every column is a pair field (the report refuses the others, one line)."""
    return all(COLUMN_ALIASES.get(c, c) in Pair.model_fields for c in columns)


class KeptCounts:
    """The kept pairs counted by each column's shown value (`values`), by split, and by
    their token lengths under the estimate (`estimate_tokens`: the prompt as
    `alpaca_prompt` writes it, and the output), as {length: pairs}. Counts of parts of the
    pairs `merge` into those of all of them, in any order."""

    def __init__(self, columns: Iterable[str]) -> None:
        self.columns = tuple(columns)
        self._names = [(c, COLUMN_ALIASES.get(c, c)) for c in self.columns]
        self.values: dict[str, Counter[str]] = {c: Counter() for c in self.columns}
        self.splits: Counter[str] = Counter()
        self.prompt: Counter[int] = Counter()
        self.output: Counter[int] = Counter()

    def see(self, pair: Mapping[str, Any], split: str | None) -> None:
        for c, name in self._names:
            self.values[c][shown(pair[name])] += 1
        self.splits[split or "(unsplit)"] += 1
        self.prompt[estimate_tokens(alpaca_prompt(pair["instruction"], pair["input"]))] += 1
        self.output[estimate_tokens(pair["output"])] += 1

    def merge(self, later: KeptCounts) -> None:
        for c in self.columns:
            self.values[c].update(later.values[c])
        self.splits.update(later.splits)
        self.prompt.update(later.prompt)
        self.output.update(later.output)

    def to_json(self) -> dict[str, Any]:
        """The counts as JSON-ready data (`from_json` reads them back)."""
        return {
            "columns": list(self.columns),
            "values": {c: dict(n) for c, n in self.values.items()},
            "splits": dict(self.splits),
            "prompt": [[k, n] for k, n in sorted(self.prompt.items())],
            "output": [[k, n] for k, n in sorted(self.output.items())],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeptCounts:
        out = cls(data["columns"])
        for c in out.columns:
            out.values[c].update(data["values"][c])
        out.splits.update(data["splits"])
        out.prompt.update({k: n for k, n in data["prompt"]})
        out.output.update({k: n for k, n in data["output"]})
        return out

    def lengths(self, which: str) -> list[int]:
        """The token lengths of `which` ("prompt" or "output"), one a pair, in order."""
        counts = self.prompt if which == "prompt" else self.output
        return [k for k, n in sorted(counts.items()) for _ in range(n)]
