"""The funnel report: `DIR/report.json` and a self-contained `DIR/report.html`.

It reads what the stages committed to the store (units, pairs, decisions, splits and the
filter/balance/decontamination reports in `meta`) and shows: counts at every stage, drops
per filter with three examples each, distributions per task, kind, split and generator
before and after balancing, token-length histograms (inline PNG plots, matplotlib's Agg
backend, no CDN or script), and the time each stage took. Every text is HTML-escaped.

Example:
    data = write_report(store, Path("out"), timings={"slice": 2.1, "filter": 0.8})
    print("\\n".join(summary_lines(data)))
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from dataprep import outdir
from dataprep.balance import STAGE as BALANCE_STAGE
from dataprep.balance import column_value, report_columns
from dataprep.filters import DECONTAMINATE_STAGE, STAGE_PREFIX, estimate_tokens
from dataprep.prompts import alpaca_prompt
from dataprep.quality import (
    COVERED_KINDS,
    LABEL_CUES,
    UNIT_FIELDS,
    coverage_targets,
    leaky_labels,
    measure_quality,
)
from dataprep.quality import summary_line as quality_line
from dataprep.report_html import render_html, render_plots
from dataprep.settings import CHARS_PER_TOKEN
from dataprep.splits import held_out_paths_of

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
    dropped = store.dropped_stages()  # pair id -> stage: not every drop's reason
    balance = store.get_meta("balance_report") or {}
    columns = report_columns(balance.get("by"))
    before = balance.get("distributions", {}).get("before")
    before_counts = None if before else {c: Counter() for c in columns}
    after_counts = {c: Counter() for c in columns}
    split_counts: Counter[str] = Counter()
    filter_config = store.get_meta("filter_config") or {}
    try:
        count = token_counter(filter_config.get("tokenizer"))
        tokenizer = filter_config.get("tokenizer") or ESTIMATE
    except Exception:  # the tokenizer of an earlier run may be gone: fall back to the estimate
        count, tokenizer = estimate_tokens, ESTIMATE
    lengths: dict[str, list[int]] = {"prompt": [], "output": []}
    made: Counter[str] = Counter()  # live pairs per repository (its name), for many sources
    held: dict[str, dict[str, Any]] = {}

    def kept_pairs():
        """The kept pairs, by id, one at a time; counted as they pass (one pass, so the
        report's memory does not grow with the pairs' text)."""
        for pair, split in store.live_pairs():
            made[pair.repo] += 1
            dropped_by = dropped.get(pair.id)
            if before_counts is not None and (dropped_by is None or dropped_by == BALANCE_STAGE):
                for c in columns:
                    before_counts[c][column_value(pair, c)] += 1
            # after balancing: before decontamination, which drops the held-out files'
            # `withheld` pairs (shown in the split column) and held-out near-copies of train
            if dropped_by is None or dropped_by == DECONTAMINATE_STAGE:
                for c in columns:
                    after_counts[c][column_value(pair, c)] += 1
                split_counts[split or "(unsplit)"] += 1
            if dropped_by is not None:
                continue
            entry = held.setdefault(pair.repo, {"kept": 0, "splits": Counter(), "tasks": Counter()})
            entry["kept"] += 1
            entry["splits"][split or "(unsplit)"] += 1
            entry["tasks"][pair.task.split(".")[0]] += 1
            lengths["prompt"].append(count(alpaca_prompt(pair.instruction, pair.input)))
            lengths["output"].append(count(pair.output))
            yield pair

    leaks = leaky_labels(p for p, _ in store.export_pairs(tasks=LABEL_CUES))
    # coverage counts the units of the files in training (a held-out file's code is never
    # trained on, by design)
    held_out = held_out_paths_of(store)
    units = store.unit_summaries(COVERED_KINDS, UNIT_FIELDS)
    quality = measure_quality(
        kept_pairs(), [u for u in units if u["path"] not in held_out], leaks=leaks
    )
    quality["held_out_units"] = len(coverage_targets(u for u in units if u["path"] in held_out))
    after = {c: dict(sorted(after_counts[c].items())) for c in columns}
    after["split"] = dict(sorted(split_counts.items()))
    if before is None:
        before = {c: dict(sorted(before_counts[c].items())) for c in columns}
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
    } | ({"sources": per} if (per := _per_source(store, made, held)) else {})


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
