"""The funnel report: `DIR/report.json` and a self-contained `DIR/report.html`.

It reads what the stages committed to the store (units, pairs, decisions, splits and the
filter/balance/decontamination reports in `meta`) and shows: counts at every stage, drops
per filter with three examples each, distributions per task, kind, split and generator
before and after balancing, token-length histograms (inline SVG charts drawn by
dataprep.report_html, no CDN or script), and the time each stage took. Every text is HTML-escaped.

Example:
    data = write_report(store, Path("out"), timings={"slice": 2.1, "filter": 0.8})
    print("\\n".join(summary_lines(data)))
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataprep import outdir, procs
from dataprep.balance import COLUMN_ALIASES, column_value, report_columns
from dataprep.balance import STAGE as BALANCE_STAGE
from dataprep.balance import shown as _shown
from dataprep.export_rows import (
    handed_column_counts,
    handed_counts,
    handed_quality,
    unit_summaries,
)
from dataprep.filters import DECONTAMINATE_STAGE, STAGE_PREFIX, estimate_tokens, passes
from dataprep.models import Pair
from dataprep.prompts import alpaca_prompt
from dataprep.quality import (
    COVERED_KINDS,
    LABEL_CUES,
    UNIT_FIELDS,
    QualityTally,
    coverage_targets,
    leaky_labels,
)
from dataprep.quality import summary_line as quality_line
from dataprep.report_counts import KeptCounts
from dataprep.report_html import render_html, render_plots
from dataprep.settings import CHARS_PER_TOKEN
from dataprep.splits import held_out_paths_of
from dataprep.store_schema import read_pair_fields

ESTIMATE = f"estimate (chars / {CHARS_PER_TOKEN})"  # the token count without a tokenizer

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
EXAMPLES = 3
SNIPPET = 160


def _snippet(text: str, n: int = SNIPPET) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _stage_drops(store) -> dict[str, dict[str, Any]]:
    """Per decision stage: pairs seen, dropped, and three examples with their reasons."""
    out: dict[str, dict[str, Any]] = {}
    for stage, kept, n in store.decision_counts():
        entry = out.setdefault(stage, {"seen": 0, "dropped": 0, "examples": []})
        entry["seen"] += n
        if not kept:
            entry["dropped"] += n
    for stage, entry in out.items():
        for pair_id, reason, pair in store.dropped_examples(stage, EXAMPLES):
            entry["examples"].append(
                {
                    "pair_id": pair_id,
                    "reason": reason,
                    "instruction": _snippet(pair.instruction),
                    "output": _snippet(pair.output),
                }
            )
    return out


def _funnel(store, drops: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts at every stage, in pipeline order."""
    units = store.count("units")
    generated = store.live_count()  # the live pairs, as `store.pairs()` counts them
    steps = [{"stage": "units", "count": units}, {"stage": "pairs generated", "count": generated}]
    upstream = [
        s for s in drops if not s.startswith((STAGE_PREFIX, BALANCE_STAGE, DECONTAMINATE_STAGE))
    ]
    filter_report = store.get_meta("filter_report") or {}
    order = [s["stage"] for s in filter_report.get("stages", [])]
    filters = [STAGE_PREFIX + name for name in order if STAGE_PREFIX + name in drops]
    filters += sorted(s for s in drops if s.startswith(STAGE_PREFIX) and s not in filters)
    count = generated
    for stage in [*upstream, *filters, BALANCE_STAGE, DECONTAMINATE_STAGE]:
        if stage in drops:
            count -= drops[stage]["dropped"]
            steps.append({"stage": stage, "count": count, "dropped": drops[stage]["dropped"]})
    export = store.get_meta("export")
    if export:
        steps.append(
            {
                "stage": "exported rows",
                "count": export.get("rows", 0),
                "splits": export.get("splits", {}),
            }
        )
    return steps


def _histogram(values: list[int], bins: int = 20) -> dict[str, Any]:
    if not values:
        return {"min": 0, "max": 0, "mean": 0, "p50": 0, "p95": 0, "bins": []}
    ordered = sorted(values)
    lo, hi = ordered[0], ordered[-1]
    width = max(1, -(-(hi - lo + 1) // bins))
    counts = Counter((v - lo) // width for v in values)
    return {
        "min": lo,
        "max": hi,
        "mean": round(sum(values) / len(values), 1),
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "bins": [
            [lo + i * width, lo + (i + 1) * width, counts.get(i, 0)] for i in range(max(counts) + 1)
        ],
    }


def build_report(
    store, timings: dict[str, float] | None = None, run_stats: dict | None = None
) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data."""
    from dataprep.filters import token_counter

    drops = _stage_drops(store)
    balance = store.get_meta("balance_report") or {}
    columns = report_columns(balance.get("by"))
    before = balance.get("distributions", {}).get("before")
    filter_config = store.get_meta("filter_config") or {}
    try:
        count = token_counter(filter_config.get("tokenizer"))
        tokenizer = filter_config.get("tokenizer") or ESTIMATE
    except Exception:  # the tokenizer of an earlier run may be gone: fall back to the estimate
        count, tokenizer = estimate_tokens, ESTIMATE
    tasks = handed_column_counts(store, "task")  # the kept pairs' tasks, where they stand
    if tasks is not None and not any(task in tasks for task in LABEL_CUES):
        leaks: set[str] = set()  # no kept pair has a cue to leak: none is read for it
    else:
        leaks = leaky_labels(p for p, _ in store.export_pairs(tasks=LABEL_CUES))
    handed = handed_quality(store, leaks)  # the export measured the kept pairs already
    start = time.perf_counter()
    sources = bool(store.get_meta("scaleout.sources"))
    kept = None  # and counted them, when its counts are those this pass would make
    if handed is not None and not sources and tokenizer == ESTIMATE:
        kept = handed_counts(store, leaks)
        kept = kept if kept is not None and kept.columns == columns else None
    how = _LivePass(columns, before is None, count, leaks, handed is None, sources, kept is None)
    read_units = handed is None or "held_out_units" not in handed  # else the export's count
    counts, units = _count_live(store, how, read_units)
    if kept is not None:
        counts.add_kept(kept)
    # coverage counts the units of the files in training (a held-out file's code is never
    # trained on, by design)
    held_out = held_out_paths_of(store)
    if handed is None:
        quality = counts.quality.result([u for u in units if u["path"] not in held_out], start)
    else:
        quality = handed
    if read_units:
        held = coverage_targets(u for u in units if u["path"] in held_out)
        quality["held_out_units"] = len(held)
    lengths = counts.lengths
    after = {c: dict(sorted(counts.after[c].items())) for c in columns}
    after["split"] = dict(sorted(counts.splits.items()))
    if before is None:
        before = {c: dict(sorted(counts.before[c].items())) for c in columns}
    stage_times = dict(timings or (run_stats or {}).get("timings") or {})
    filter_report = store.get_meta("filter_report") or {}
    return {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "funnel": _funnel(store, drops),
        "drops": {s: d for s, d in drops.items() if d["dropped"]},
        "kept": quality["rows"],
        "distributions": {"before_balance": before, "after_balance": after},
        "balance": {
            k: balance.get(k) for k in ("by", "seed", "before", "targets", "after", "dropped")
        },
        "output_first": store.get_meta("fill_report"),
        "decontamination": store.get_meta("decontaminate_report"),
        "quality": quality,
        "token_lengths": {
            "tokenizer": tokenizer,
            "prompt": _histogram(lengths["prompt"]),
            "output": _histogram(lengths["output"]),
            "_values": lengths,
        },
        "timings": {"stages": stage_times, "filters": filter_report.get("seconds", {})},
        "run": run_stats or {},
    } | ({"sources": per} if (per := _per_source(store, counts.made, counts.held)) else {})


BATCH = 8192  # live pairs a forked worker of the report's pass reads and counts at a time


@dataclass(frozen=True)
class _LivePass:
    """What the pass over the live pairs counts by (the forked workers inherit it)."""

    columns: tuple[str, ...]  # the distributions' columns (`report_columns`)
    before: bool  # count the distributions before balancing too (balance did not keep them)
    count: Callable[[str], int]  # tokens of a text
    leaks: set[str]  # `leaky_labels` of the kept pairs
    measure: bool  # measure the kept pairs' quality (unless the export handed it over)
    sources: bool = True  # count the pairs made per source (`_per_source`: many sources)
    kept: bool = True  # count the kept pairs (else the export's counts of them are added)


class _LiveCounts:
    """What the report counts over the live pairs, one at a time: pairs per repository
    (`made`, for a many-source store only), the distributions before and after balancing,
    the kept pairs per split, per repository (`held`: kept, splits, task families), their
    token lengths and quality.
    Counts of consecutive batches of pairs (by id) `merge` in order into those of all."""

    def __init__(self, how: _LivePass) -> None:
        self.made: Counter[str] = Counter()
        self.before = {c: Counter() for c in how.columns} if how.before else None
        self.after = {c: Counter() for c in how.columns}
        self.splits: Counter[str] = Counter()
        self.held: dict[str, dict[str, Any]] = {}
        self.lengths: dict[str, list[int]] = {"prompt": [], "output": []}
        self.quality = QualityTally(how.leaks)

    def merge(self, later: _LiveCounts) -> None:
        self.made.update(later.made)
        for mine, theirs in ((self.before, later.before), (self.after, later.after)):
            for c, counter in (mine or {}).items():
                counter.update(theirs[c])
        self.splits.update(later.splits)
        for repo, entry in later.held.items():
            if repo not in self.held:
                self.held[repo] = entry
                continue
            mine = self.held[repo]
            mine["kept"] += entry["kept"]
            mine["splits"].update(entry["splits"])
            mine["tasks"].update(entry["tasks"])
        for key, values in later.lengths.items():
            self.lengths[key] += values
        self.quality.merge(later.quality)

    def add_kept(self, kept: KeptCounts) -> None:
        """Add the kept pairs' counts (`KeptCounts`, handed over by the export) that a pass
        without them (`_LivePass.kept` False) left out: their distributions (after
        balancing, and before when counted), splits and token lengths."""
        for c in kept.columns:
            self.after[c].update(kept.values[c])
            if self.before is not None:
                self.before[c].update(kept.values[c])
        self.splits.update(kept.splits)
        for key in ("prompt", "output"):
            self.lengths[key] += kept.lengths(key)


_PASS: _LivePass | None = None  # the pass the forked workers run


def _count_live(
    store, how: _LivePass, read_units: bool = True
) -> tuple[_LiveCounts, list[dict[str, Any]]]:
    """`_LiveCounts` of every live pair (by id, its split and the decision that dropped it,
    if one did), in `procs.jobs()` forked workers that read batches of pairs themselves;
    and the units coverage counts (`Store.unit_summaries`, read by a worker beside them;
    none unless `read_units`)."""
    global _PASS
    for c in how.columns:  # a column that is not a pair field: the one-line error of balance
        if COLUMN_ALIASES.get(c, c) not in Pair.model_fields:
            column_value(None, c)
    workers = procs.jobs()
    few = not how.kept and not how.sources  # only what balance or decontamination dropped
    if workers < 2 or not hasattr(os, "fork") or few or store.live_count() <= BATCH:
        units = store.unit_summaries(COVERED_KINDS, UNIT_FIELDS) if read_units else []
        return _count_rows(how, _live_rows(store, how)), units
    _PASS = how
    try:
        jobs = ((_count_batch, ids) for ids in store.pair_id_ranges(BATCH))
        total = _LiveCounts(how)
        with passes.reading((store, None, frozenset())), procs.process_pool(workers) as pool:
            units = pool.submit(unit_summaries) if read_units else None
            for part in passes.in_order(pool, jobs, workers):
                total.merge(part)
            return total, [] if units is None else units.result()
    finally:
        _PASS = None


def _count_batch(first: str, last: str) -> _LiveCounts:
    """Worker: the counts of the live pairs with ids from `first` to `last`."""
    assert _PASS is not None
    return _count_rows(_PASS, _live_rows(passes.worker_store(), _PASS, first, last))


def _counted(how: _LivePass) -> set[str | None]:
    """The stages whose drops the pass counts beyond the count per source (None: the kept
    pairs): the kept pairs (unless the export counted them: `add_kept`), the pairs balance
    dropped (before balancing, unless balance kept those counts) and those decontamination
    dropped (after balancing)."""
    counted: set[str | None] = {DECONTAMINATE_STAGE}
    counted |= {None} if how.kept else set()
    counted |= {BALANCE_STAGE} if how.before else set()
    return counted


def _live_rows(store, how: _LivePass, first: str | None = None, last: str | None = None):
    """The live rows the pass counts (`Store.live_rows`; for one source only the pairs of
    the `_counted` stages: `Store.live_rows_of`)."""
    if how.sources:
        return store.live_rows(first, last)
    counted = _counted(how)
    return store.live_rows_of(counted - {None}, None in counted, first, last)


def _count_rows(how: _LivePass, rows: Iterable[tuple]) -> _LiveCounts:
    """`_LiveCounts` of `Store.live_rows` (the pairs are read as dicts, no model built)."""
    out = _LiveCounts(how)
    names = [(c, COLUMN_ALIASES.get(c, c)) for c in how.columns]
    count = how.count
    counted = _counted(how)
    for row in rows:
        split, dropped_by = row[-2], row[-1]
        if dropped_by not in counted and not how.sources:  # nothing left to count
            continue
        pair = read_pair_fields(row[:-2])
        repo = pair["repo"]
        if how.sources:
            out.made[repo] += 1
        if out.before is not None and dropped_by in (None, BALANCE_STAGE):
            for c, name in names:
                out.before[c][_shown(pair[name])] += 1
        # after balancing: before decontamination, which drops the held-out files'
        # `withheld` pairs (shown in the split column) and held-out near-copies of train
        if dropped_by is None or dropped_by == DECONTAMINATE_STAGE:
            for c, name in names:
                out.after[c][_shown(pair[name])] += 1
            out.splits[split or "(unsplit)"] += 1
        if dropped_by is not None:
            continue
        entry = out.held.get(repo)
        if entry is None:
            entry = out.held[repo] = {"kept": 0, "splits": Counter(), "tasks": Counter()}
        entry["kept"] += 1
        entry["splits"][split or "(unsplit)"] += 1
        entry["tasks"][pair["task"].split(".")[0]] += 1
        out.lengths["prompt"].append(count(alpaca_prompt(pair["instruction"], pair["input"])))
        out.lengths["output"].append(count(pair["output"]))
        if how.measure:
            out.quality.see(pair)
    return out


def _per_source(store, made: Counter, held: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A many-source store: per source, its commit and licence, units, pairs made and kept,
    kept rows per split and per task family (empty for one repository). `made` counts the
    live pairs per repository name, `held` the kept ones (build_report counts both)."""
    sources = store.get_meta("scaleout.sources") or []
    if not sources:
        return []
    units = store.unit_counts("repo")
    out = []
    for s in sources:
        entry = held.get(s.get("name"), {"kept": 0, "splits": Counter(), "tasks": Counter()})
        out.append(
            {
                **{k: s.get(k) for k in ("name", "url", "commit", "license", "status")},
                "units": units.get(s.get("name"), 0),
                "pairs": made.get(s.get("name"), 0),
                "kept": entry["kept"],
                "splits": dict(sorted(entry["splits"].items())),
                "families": dict(entry["tasks"].most_common()),
            }
        )
    return out


def write_report(
    store, out_dir: Path, timings: dict[str, float] | None = None, run_stats: dict | None = None
) -> dict[str, Any]:
    """Write DIR/report.json and DIR/report.html; returns the report data (without raw values)."""
    out_dir = Path(out_dir)
    data = build_report(store, timings, run_stats)
    plots = render_plots(data)
    data["token_lengths"].pop("_values")
    texts = {
        REPORT_JSON: json.dumps(data, indent=2, default=str) + "\n",
        REPORT_HTML: render_html(data, plots),
    }
    write_outputs(store, out_dir, {name: text.encode("utf-8") for name, text in texts.items()})
    return data


def check_outputs(store, out_dir: Path, names=(REPORT_JSON, REPORT_HTML)) -> dict[str, str]:
    """Refuse (one line) when a file dataprep would replace in DIR is not one it wrote;
    returns the sha256 of the files it wrote (meta `outputs`)."""
    written = dict(store.get_meta("outputs") or {})
    fresh = not written and store.finished_runs() == 0
    for name in names:
        outdir.ensure_own_file(Path(out_dir) / name, written, fresh)
    return written


def write_outputs(store, out_dir: Path, files: dict[str, bytes]) -> None:
    """Write files into DIR that dataprep owns (the reports): each only over a file dataprep
    wrote itself, through a temporary file and a rename; their sha256 go to meta `outputs`."""
    written = check_outputs(store, out_dir, files)
    for name, data in files.items():
        outdir.write_file(out_dir, out_dir / name, data)
        written[name] = hashlib.sha256(data).hexdigest()
    store.set_meta("outputs", written)


def summary_lines(data: dict[str, Any]) -> list[str]:
    """The short version for the terminal."""
    lines = ["Funnel: " + " -> ".join(f"{s['stage']} {s['count']}" for s in data["funnel"])]
    drops = sorted(data["drops"].items(), key=lambda kv: -kv[1]["dropped"])
    if drops:
        lines.append(
            "Dropped: "
            + ", ".join(f"{s.removeprefix(STAGE_PREFIX)} {d['dropped']}" for s, d in drops)
        )
    tl = data["token_lengths"]
    prompt, output = tl["prompt"], tl["output"]
    lines.append(
        f"Tokens per pair: prompt p50 {prompt['p50']}, output p50 {output['p50']}, "
        f"output p95 {output['p95']}"
    )
    if data.get("quality"):
        lines.append(quality_line(data["quality"]))
    return lines
