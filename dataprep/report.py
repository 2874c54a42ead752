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

import base64
import hashlib
import html
import io
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
    dropped = store.dropped()
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
            decision = dropped.get(pair.id)
            if before_counts is not None and (decision is None or decision.stage == BALANCE_STAGE):
                for c in columns:
                    before_counts[c][column_value(pair, c)] += 1
            # after balancing: before decontamination, which drops the held-out files'
            # `withheld` pairs (shown in the split column) and held-out near-copies of train
            if decision is None or decision.stage == DECONTAMINATE_STAGE:
                for c in columns:
                    after_counts[c][column_value(pair, c)] += 1
                split_counts[split or "(unsplit)"] += 1
            if decision is not None:
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


# --- plots ----------------------------------------------------------------------------


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(data: dict[str, Any]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots: dict[str, str] = {}
    funnel = data["funnel"]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(funnel) + 1))
    ax.barh([s["stage"] for s in funnel][::-1], [s["count"] for s in funnel][::-1], color="#4c78a8")
    ax.set_xlabel("count")
    ax.set_title("Funnel")
    plots["funnel"] = _png(fig)
    values = data["token_lengths"]["_values"]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.hist(
        [values["prompt"], values["output"]],
        bins=30,
        label=["prompt", "output"],
        color=["#4c78a8", "#f58518"],
    )
    ax.set_xlabel(f"tokens ({data['token_lengths']['tokenizer']})")
    ax.set_ylabel("pairs")
    ax.legend()
    ax.set_title("Token lengths of kept pairs")
    plots["tokens"] = _png(fig)
    before, after = data["distributions"]["before_balance"], data["distributions"]["after_balance"]
    for column in ("task", "kind", "generator", *(c for c in before if c == "label")):
        names = sorted(set(before.get(column, {})) | set(after.get(column, {})))
        if not names:
            continue
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1))
        y = range(len(names))
        ax.barh(
            [i + 0.2 for i in y],
            [before.get(column, {}).get(n, 0) for n in names],
            0.4,
            label="before",
        )
        ax.barh(
            [i - 0.2 for i in y],
            [after.get(column, {}).get(n, 0) for n in names],
            0.4,
            label="after",
        )
        ax.set_yticks(list(y), names)
        ax.legend()
        ax.set_title(f"Pairs per {column}, before and after balancing")
        plots[column] = _png(fig)
    return plots


# --- HTML -----------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}td.n{text-align:right}code{font-size:12px;background:#f6f6f6}
img{max-width:100%}h2{border-bottom:1px solid #ddd;margin-top:1.8em}
td.q{white-space:pre-wrap;font:12px monospace;max-width:420px;vertical-align:top}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_e(c)}</td>' if isinstance(c, int | float) else f"<td>{_e(c)}</td>"
            for c in r
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(plots: dict[str, str], name: str, alt: str) -> str:
    return (
        f'<img alt="{_e(alt)}" src="data:image/png;base64,{plots[name]}">' if name in plots else ""
    )


def render_html(data: dict[str, Any], plots: dict[str, str]) -> str:
    """The report page: one file, no script, no remote resource."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">",
        f"<title>dataprep report</title><style>{CSS}</style></head><body>",
        "<h1>dataprep funnel report</h1>",
        f"<p>Generated {_e(data['generated_at'])}; {data['kept']} pairs kept.</p>",
        "<h2>Counts at every stage</h2>",
        _table(
            ["stage", "count", "dropped"],
            [[s["stage"], s["count"], s.get("dropped", "")] for s in data["funnel"]],
        ),
        _img(plots, "funnel", "funnel"),
        "<h2>Drops per filter</h2>",
    ]
    for stage, entry in sorted(data["drops"].items()):
        parts.append(f"<h3>{_e(stage)}: {entry['dropped']} of {entry['seen']} dropped</h3>")
        parts.append(
            _table(
                ["pair", "reason", "instruction", "output"],
                [
                    [x["pair_id"], x["reason"], x["instruction"], x["output"]]
                    for x in entry["examples"]
                ],
            )
        )
    if data.get("sources"):
        parts.append("<h2>Per source</h2>")
        parts.append(
            _table(
                ["source", "url", "commit", "licence", "status", "units", "pairs", "kept",
                 "per split", "per family"],
                [
                    [
                        x["name"], x["url"], (x["commit"] or "")[:12],
                        x["license"] if x["license"] not in (None, "other") else "UNKNOWN",
                        x["status"], x["units"], x["pairs"], x["kept"],
                        ", ".join(f"{k} {v}" for k, v in x["splits"].items()),
                        ", ".join(f"{k} {v}" for k, v in x["families"].items()),
                    ]
                    for x in data["sources"]
                ],
            )
        )  # fmt: skip
    parts.append("<h2>Distributions before and after balancing</h2>")
    parts += _balance_html(data)
    before, after = data["distributions"]["before_balance"], data["distributions"]["after_balance"]
    extra = [c for c in before if c not in ("task", "kind", "generator", "split")]
    for column in ("task", "kind", "generator", "split", *extra):
        names = sorted(set(before.get(column, {})) | set(after.get(column, {})))
        parts.append(f"<h3>{_e(column)}</h3>")
        parts.append(
            _table(
                [column, "before", "after"],
                [
                    [n, before.get(column, {}).get(n, "—"), after.get(column, {}).get(n, 0)]
                    for n in names
                ],
            )
        )
        parts.append(_img(plots, column, f"pairs per {column}"))
    tl = data["token_lengths"]
    parts.append(f"<h2>Token lengths</h2><p>Counted with {_e(tl['tokenizer'])}.</p>")
    parts.append(
        _table(
            ["", "min", "p50", "mean", "p95", "max"],
            [
                [k, tl[k]["min"], tl[k]["p50"], tl[k]["mean"], tl[k]["p95"], tl[k]["max"]]
                for k in ("prompt", "output")
            ],
        )
    )
    parts.append(_img(plots, "tokens", "token length histogram"))
    dec = data.get("decontamination")
    if dec:
        parts.append("<h2>Decontamination</h2>")
        parts.append(
            f"<p>{dec['contaminated']} of {dec['checked']} validation/test pairs nearly copy a "
            f"train pair ({_e(dec['action'])}).</p>"
        )
        appended = dec.get("append")
        if appended:
            parts.append(
                f"<p>Append: {appended['dropped']} of {appended['checked']} pairs are equal or "
                f"near to one of the {appended['rows']} rows published in "
                f"{_e(appended['dir'])}, and were dropped.</p>"
            )
        bench = dec.get("benchmark")
        if bench:
            by = ", ".join(f"{_e(k)} {v}" for k, v in bench.get("by_file", {}).items())
            parts.append(
                f"<p>Benchmark snippets: {bench['dropped']} of {bench['checked']} pairs (every "
                f"split) nearly copy one of {bench['snippets']} snippets and were dropped"
                + (f" ({by})" if by else "")
                + ".</p>"
            )
        if dec.get("withheld"):
            parts.append(
                f"<p>{dec['withheld']} pairs of the held-out files are in no split: they are "
                "not tasks a model can answer about a file it never saw, and training on them "
                "would give the file away. The knowledge split is not checked: its rows ask "
                "about facts of the training files by design.</p>"
            )
    parts += _quality_html(data.get("quality"))
    held = (data.get("quality") or {}).get("held_out_units")
    if held:
        parts.append(
            f"<p>Coverage leaves out the {held} methods and types of the held-out files "
            "(validation, test): their code is never trained on, by design.</p>"
        )
    parts.append("<h2>Time per stage</h2>")
    times = [[k, round(v, 3)] for k, v in data["timings"]["stages"].items()]
    times += [[f"filter.{k}", round(v, 3)] for k, v in data["timings"]["filters"].items()]
    parts.append(_table(["stage", "seconds"], times))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    store, out_dir: Path, timings: dict[str, float] | None = None, run_stats: dict | None = None
) -> dict[str, Any]:
    """Write DIR/report.json and DIR/report.html; returns the report data (without raw values)."""
    out_dir = Path(out_dir)
    data = build_report(store, timings, run_stats)
    plots = _plots(data)
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


def _balance_html(data: dict[str, Any]) -> list[str]:
    """The balanced column's targets, and what output-first generation added."""
    parts = []
    bal = data.get("balance") or {}
    if bal.get("by") and bal.get("before"):
        parts.append(f"<p>Balanced by {_e(bal['by'])} (seed {_e(bal['seed'])}).</p>")
        rows = [
            [v, n, (bal.get("targets") or {}).get(v, ""), (bal.get("after") or {}).get(v, "")]
            for v, n in bal["before"].items()
        ]
        parts.append(_table([bal["by"], "before", "target", "after"], rows))
    fill = data.get("output_first")
    if fill:
        parts.append(f"<p>Output-first generation for {_e(fill['task'])}:</p>")
        rows = [
            [v, n, fill["targets"].get(v, ""), fill["generated"].get(v, 0)]
            for v, n in fill["before"].items()
        ]
        parts.append(_table(["label", "before", "target", "generated"], rows))
    return parts


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


def _quality_html(quality: dict[str, Any] | None) -> list[str]:
    """The quality measures against their goals, the examples of each defect, the families."""
    if not quality:
        return []
    measures = quality["measures"]
    parts = [
        "<h2>Quality</h2>",
        f"<p>{quality['met']} of {quality['goals']} goals met over {quality['rows']} rows.</p>",
        _table(
            ["measure", "value", "count", "of", "goal", "status"],
            [
                [m["title"], m["display"], m["count"], m["of"], m["goal"], _status(m)]
                for m in measures.values()
            ],
        ),
    ]
    for m in measures.values():
        if not m["examples"]:
            continue
        parts.append(f"<h3>{_e(m['title'])}: examples</h3>")
        headers = list(dict.fromkeys(k for x in m["examples"] for k in x))
        rows = [[x.get(h, "") for h in headers] for x in m["examples"]]
        parts.append(_table(headers, rows).replace("<td>", '<td class="q">'))
    parts.append("<h3>Families</h3>")
    parts.append(
        _table(
            ["family", "rows", "share", "kind"],
            [
                [
                    f,
                    v["rows"],
                    f"{v['share'] * 100:.1f}%",
                    "knowledge" if v["knowledge"] else "trivia",
                ]
                for f, v in quality["families"].items()
            ],
        )
    )
    return parts


def _status(measure: dict[str, Any]) -> str:
    return "met" if measure["passed"] else "missed"
