"""The report of `finetune eval`: tables per held-out set and family, the verdict of what
improved, an HTML page and eval.json."""

from __future__ import annotations

import html
import json
from pathlib import Path

from dataprep.console import console
from finetune import data as fdata
from finetune.evaluate import EvalReport, edit_similarity

MEASURES = (  # (key in a model's scores, label, rows key)
    ("exact_match", "code: exact match", "code_rows"),
    ("edit_similarity", "code: edit sim.", "code_rows"),
    ("accuracy", "yes/no: accuracy", "label_rows"),
    ("judge", "prose: judge 0-100", "prose_rows"),
    ("prose_edit_similarity", "prose: edit sim.*", "prose_rows"),
)


def measure_lines(block: dict) -> list[tuple[str, int, dict[str, float | None], str]]:
    """(measure, rows, model -> value, baseline) for each measure a block has rows for; the
    prose edit similarity only when there is no judge score."""
    out = []
    models = block["models"]
    for key, label, rows_key in MEASURES:
        if not block[rows_key]:
            continue
        values = {name: scores[key] for name, scores in models.items()}
        if key == "prose_edit_similarity" and any(s["judge"] is not None for s in models.values()):
            continue
        if key == "judge" and all(v is None for v in values.values()):
            continue
        baseline = ""
        if key == "accuracy" and block["majority"]:
            m = block["majority"]
            baseline = f"{m['accuracy']:.3f} ({'/'.join(m['labels'])})"
        out.append((label, block[rows_key], values, baseline))
    return out


def verdicts(report_summary: dict) -> dict[str, dict[str, list[str]]]:
    """Set -> {"better": [...], "worse": [...], "same": [...]}: each family's main measure
    (code edit similarity, yes/no accuracy, prose judge or edit similarity), tuned vs base.

    Example: {"knowledge": {"better": ["code (code edit similarity 0.132 -> 0.324)"], ...}}
    """
    out = {}
    for name, scores in report_summary["sets"].items():
        found: dict[str, list[str]] = {"better": [], "worse": [], "same": []}
        for family, block in scores["families"].items():
            for label, _, values, _ in measure_lines(block)[:3]:
                if label == "code: exact match" or "tuned" not in values:
                    continue
                base, tuned = values.get("base"), values.get("tuned")
                if base is None or tuned is None:
                    continue
                way = (
                    "better" if tuned > base + 1e-9 else "worse" if tuned < base - 1e-9 else "same"
                )
                found[way].append(f"{family} ({label} {_fmt(base)} -> {_fmt(tuned)})")
                break
        out[name] = found
    return out


def render_table(report: EvalReport):
    """Rich tables, one per set: per family, each measure for base and fine-tuned, and the
    majority baseline of yes/no questions."""
    from rich.console import Group
    from rich.table import Table

    names = list(report.answers)
    tables = []
    for set_name, scores in report.summary["sets"].items():
        table = Table(title=f"{set_name}: {report.summary['rows'][set_name]} rows")
        for column in ("family", "measure", "rows", *names, "majority"):
            table.add_column(column, justify="right" if column in ("rows", *names) else "left")
        for family, block in [("(all)", scores["all"]), *scores["families"].items()]:
            for label, n, values, baseline in measure_lines(block):
                table.add_row(family, label, str(n), *(_fmt(values[m]) for m in names), baseline)
        tables.append(table)
    tables.append("* edit similarity of prose: a rough stand-in, without --judge")
    return Group(*tables)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def render_html(report: EvalReport) -> str:
    """A self-contained HTML page: the numbers per set and family, then each row with the
    answers of both models."""
    esc = html.escape
    names = list(report.answers)
    head = "".join(f"<th>{esc(n)}</th>" for n in names)
    score_rows = []
    for set_name, scores in report.summary["sets"].items():
        for family, block in [("(all)", scores["all"]), *scores["families"].items()]:
            for label, n, values, baseline in measure_lines(block):
                cells = "".join(f"<td>{_fmt(values[m])}</td>" for m in names)
                score_rows.append(
                    f"<tr><td>{esc(set_name)}</td><td>{esc(family)}</td><td>{esc(label)}</td>"
                    f"<td>{n}</td>{cells}<td>{esc(baseline)}</td></tr>"
                )
    examples = []
    for i, row in enumerate(report.rows):
        cells = "".join(
            f"<td><pre>{esc(report.answers[n][i])}</pre>"
            f"<small>edit sim {edit_similarity(report.answers[n][i], row['output']):.3f}"
            f"{_judge_note(report, n, i)}</small></td>"
            for n in names
        )
        where = f"{report.sets[i] if report.sets else ''} / {fdata.row_family(row)}"
        examples.append(
            f"<tr><td>{esc(where)}</td><td><pre>{esc(fdata.row_prompt(row))}</pre></td>"
            f"<td><pre>{esc(row['output'])}</pre></td>{cells}</tr>"
        )
    summary = report.summary
    counts = ", ".join(f"{esc(k)} {v}" for k, v in summary["rows"].items())
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>dataprep finetune eval</title>"
        "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
        "pre{white-space:pre-wrap;max-width:40em;margin:0}</style></head><body>"
        f"<h1>Base vs fine-tuned: {counts} rows</h1>"
        f"<p>model {esc(str(summary['model']))}, adapter {esc(str(summary['adapter']))}; "
        f"greedy, {summary['max_new_tokens']} new tokens at most; edit similarity: "
        f"{esc(summary['edit_similarity'])}</p>"
        f"<table><tr><th>set</th><th>family</th><th>measure</th><th>rows</th>{head}"
        f"<th>majority</th></tr>{''.join(score_rows)}</table>"
        "<p>* edit similarity of prose: a rough stand-in, without --judge</p>"
        f"<h2>Answers</h2><table><tr><th>set / family</th><th>prompt</th><th>expected</th>"
        f"{head}</tr>" + "".join(examples) + "</table></body></html>\n"
    )


def _judge_note(report: EvalReport, name: str, index: int) -> str:
    scores = report.judge.get(name)
    if not scores or scores[index] is None:
        return ""
    return f", judge {scores[index]}"


def write_report(report: EvalReport, out_dir: Path | str) -> dict[str, Path]:
    """eval.json (numbers and answers) and eval.html in `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        **report.summary,
        "answers": [
            {
                "set": report.sets[i] if report.sets else None,
                "family": fdata.row_family(row),
                "task": row.get("task"),
                "kind": fdata.answer_kind(row),
                "instruction": row["instruction"],
                "input": row.get("input") or "",
                "expected": row["output"],
                **{name: report.answers[name][i] for name in report.answers},
                **{f"{name}_judge": report.judge[name][i] for name in report.judge},
            }
            for i, row in enumerate(report.rows)
        ],
    }
    paths = {"json": out_dir / "eval.json", "html": out_dir / "eval.html"}
    paths["json"].write_text(
        json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["html"].write_text(render_html(report), encoding="utf-8")
    console.print(f"wrote {paths['json']} and {paths['html']}", highlight=False)
    return paths
