"""The report page: `DIR/report.html` as one self-contained file (inline SVG charts drawn
here, no script, no remote resource; every text HTML-escaped), from the data
dataprep.report builds.
"""

from __future__ import annotations

import html
from typing import Any

BLUE, ORANGE = "#4c78a8", "#f58518"
WIDTH = 760  # a chart's width in pixels
LABEL = 260  # the label column of a bar chart
ROW = 18  # a bar's height


def _svg(title: str, height: int, body: list[str]) -> str:
    """An inline SVG chart (no script, nothing remote) with its title on top."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(title)}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        'font-family="system-ui,sans-serif" font-size="12">'
        f'<text x="{WIDTH // 2}" y="16" text-anchor="middle" font-size="14">{_e(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _legend(x: int, y: int, names: list[tuple[str, str]]) -> list[str]:
    out = []
    for i, (name, color) in enumerate(names):
        top = y + i * 16
        out.append(f'<rect x="{x}" y="{top}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{x + 16}" y="{top + 10}">{_e(name)}</text>')
    return out


def _bars(title: str, names: list[str], series: list[tuple[str, str, list[int]]]) -> str:
    """Horizontal bars, a group per name (one bar per series: label, colour, values), each
    bar's value written after it."""
    per = len(series)
    group = ROW * per + 6
    top = 28 + (16 * per if per > 1 else 0)
    most = max((v for _, _, values in series for v in values), default=0) or 1
    room = WIDTH - LABEL - 70
    body = _legend(LABEL, 26, [(s[0], s[1]) for s in series]) if per > 1 else []
    for i, name in enumerate(names):
        y = top + i * group
        body.append(
            f'<text x="{LABEL - 6}" y="{y + group / 2 + 1:.0f}" text-anchor="end" '
            f'dominant-baseline="middle">{_e(name)}</text>'
        )
        for k, (_, color, values) in enumerate(series):
            length = values[i] * room / most
            at = y + k * ROW
            body.append(
                f'<rect x="{LABEL}" y="{at}" width="{length:.1f}" height="{ROW - 2}" '
                f'fill="{color}"/>'
                f'<text x="{LABEL + length + 4:.1f}" y="{at + ROW - 5}">{values[i]}</text>'
            )
    return _svg(title, top + len(names) * group + 8, body)


def _histogram(title: str, axis: str, series: list[tuple[str, str, list[int]]]) -> str:
    """Side-by-side bars of each series' counts in 30 equal bins over all the values."""
    values = [v for _, _, vs in series for v in vs]
    lo, hi = (min(values), max(values)) if values else (0, 1)
    bins = 30
    width = (hi - lo) / bins or 1
    counts = []
    for _, _, vs in series:
        found = [0] * bins
        for v in vs:
            found[min(int((v - lo) / width), bins - 1)] += 1
        counts.append(found)
    left, top, plot_w, plot_h = 60, 30, WIDTH - 80, 200
    most = max((c for found in counts for c in found), default=0) or 1
    step = plot_w / bins
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 6}" text-anchor="end">{most}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<text x="{left}" y="{top + plot_h + 16}">{lo:g}</text>',
        f'<text x="{left + plot_w}" y="{top + plot_h + 16}" text-anchor="end">{hi:g}</text>',
        f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h + 32}" '
        f'text-anchor="middle">{_e(axis)}</text>',
    ]
    bar = step / max(1, len(series))
    for k, ((_, color, _), found) in enumerate(zip(series, counts, strict=True)):
        for i, n in enumerate(found):
            if n:
                h = n * plot_h / most
                body.append(
                    f'<rect x="{left + i * step + k * bar:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{bar:.1f}" height="{h:.1f}" fill="{color}"><title>{n}</title></rect>'
                )
    body += _legend(left + plot_w - 90, top, [(s[0], s[1]) for s in series])
    return _svg(title, top + plot_h + 40, body)


def render_plots(data: dict[str, Any]) -> dict[str, str]:
    """The report's charts as inline SVG, by name: the funnel, the token lengths and the
    distributions before and after balancing."""
    plots: dict[str, str] = {}
    funnel = data["funnel"]
    counts = [s["count"] for s in funnel]
    plots["funnel"] = _bars("Funnel", [s["stage"] for s in funnel], [("count", BLUE, counts)])
    values = data["token_lengths"]["_values"]
    plots["tokens"] = _histogram(
        "Token lengths of kept pairs",
        f"tokens ({data['token_lengths']['tokenizer']})",
        [("prompt", BLUE, values["prompt"]), ("output", ORANGE, values["output"])],
    )
    before, after = data["distributions"]["before_balance"], data["distributions"]["after_balance"]
    for column in ("task", "kind", "generator", *(c for c in before if c == "label")):
        names = sorted(set(before.get(column, {})) | set(after.get(column, {})))
        if not names:
            continue
        plots[column] = _bars(
            f"Pairs per {column}, before and after balancing",
            names,
            [
                ("before", BLUE, [before.get(column, {}).get(n, 0) for n in names]),
                ("after", ORANGE, [after.get(column, {}).get(n, 0) for n in names]),
            ],
        )
    return plots


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}td.n{text-align:right}code{font-size:12px;background:#f6f6f6}
svg{max-width:100%;height:auto}figure{margin:.5em 0}
h2{border-bottom:1px solid #ddd;margin-top:1.8em}
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
    """A chart of `render_plots` (inline SVG, labelled `alt`), or nothing."""
    chart = plots.get(name)
    return f'<figure aria-label="{_e(alt)}">{chart}</figure>' if chart else ""


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
