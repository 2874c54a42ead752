"""Base against fine-tuned: greedy answers on the test split, scored and shown side by side.

Both models get the same Alpaca prompt the trainer saw (`alpaca_prompt`), greedy decoding,
and stop at EOS. Code answers (`finetune.data.is_code_answer`) are scored by exact match
(after stripping surrounding whitespace) and edit similarity, which here is difflib's
`SequenceMatcher(None, answer, expected, autojunk=False).ratio()` (2*matches / total
length, the `fuzz.ratio` that repository benchmarks report, divided by 100). An optional
LLM judge scores every answer 0-100 against the expected one, through the generator's
backends (`dataprep.generate.llm.parse_llm_spec`: ollama:, openai:, transformers:).
"""

from __future__ import annotations

import difflib
import html
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from dataprep.console import console, progress, warn
from dataprep.errors import DataprepError, InputError
from finetune import data as fdata
from finetune.modeling import load_model, load_tokenizer, pick_device, pick_dtype, resolve_model

JUDGE_PROMPT = (
    "You grade answers about a code base. Compare the model's answer with the expected "
    "answer for the task below and give an integer score from 0 (wrong or unrelated) to "
    "100 (correct and complete, equivalent to the expected answer).\n\n"
    "### Task:\n{prompt}\n\n### Expected answer:\n{expected}\n\n### Model answer:\n{answer}\n\n"
    'Reply with JSON only: {{"score": <integer 0-100>}}'
)


class JudgeScore(BaseModel):
    """The judge's structured answer."""

    score: int = Field(ge=0, le=100)


def exact_match(answer: str, expected: str) -> bool:
    """Equal after stripping surrounding whitespace.

    Example: exact_match("int x;\\n", "int x;") -> True
    """
    return answer.strip() == expected.strip()


def edit_similarity(answer: str, expected: str) -> float:
    """difflib ratio in [0, 1] of the stripped strings.

    Example: edit_similarity("return a;", "return b;") -> 0.888...
    """
    return difflib.SequenceMatcher(None, answer.strip(), expected.strip(), autojunk=False).ratio()


def generate_answers(
    model, tokenizer, rows: list[dict], max_new_tokens: int, batch_size: int = 4, label: str = ""
) -> list[str]:
    """Greedy answers to each row's Alpaca prompt, stopping at EOS (left-padded batches)."""
    import torch

    tokenizer.padding_side = "left"
    answers: list[str] = []
    model.eval()
    with progress() as bar:
        task = bar.add_task(f"generate {label}".strip(), total=len(rows))
        for start in range(0, len(rows), batch_size):
            prompts = [fdata.row_prompt(r) for r in rows[start : start + batch_size]]
            enc = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
            with torch.no_grad():
                out = model.generate(
                    **enc,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    eos_token_id=tokenizer.eos_token_id,
                    pad_token_id=tokenizer.pad_token_id,
                )
            new = out[:, enc["input_ids"].shape[1] :]
            answers += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
            bar.advance(task, len(prompts))
    return answers


def score_answers(rows: list[dict], answers: list[str]) -> dict:
    """Exact match and mean edit similarity over the code answers, and over all rows."""
    code = [i for i, r in enumerate(rows) if fdata.is_code_answer(r)]

    def summary(indexes: list[int]) -> dict:
        if not indexes:
            return {"rows": 0, "exact_match": None, "edit_similarity": None}
        em = sum(exact_match(answers[i], rows[i]["output"]) for i in indexes) / len(indexes)
        es = sum(edit_similarity(answers[i], rows[i]["output"]) for i in indexes) / len(indexes)
        return {"rows": len(indexes), "exact_match": round(em, 4), "edit_similarity": round(es, 4)}

    return {"code": summary(code), "all": summary(list(range(len(rows))))}


def _parse_score(text: str) -> int | None:
    try:
        from dataprep.generate.llm import OutputError, parse_structured

        return parse_structured(text, JudgeScore).score
    except (OutputError, ImportError):
        found = re.search(r"\b(100|[1-9]?\d)\b", text)
        return int(found.group(1)) if found else None


def judge_answers(
    spec: str, rows: list[dict], answers: list[str], label: str = ""
) -> list[int | None]:
    """0-100 scores from an LLM judge at temperature 0; an unparsable verdict is None."""
    from dataprep.generate.llm import LLMOptions, parse_llm_spec

    llm = parse_llm_spec(spec, options=LLMOptions(temperature=0.0, max_tokens=32))
    llm.check()
    scores: list[int | None] = []
    with progress() as bar:
        task = bar.add_task(f"judge {label}".strip(), total=len(rows))
        for row, answer in zip(rows, answers, strict=True):
            prompt = JUDGE_PROMPT.format(
                prompt=fdata.row_prompt(row), expected=row["output"], answer=answer
            )
            completion = llm.chat([{"role": "user", "content": prompt}], schema=JudgeScore)
            scores.append(_parse_score(completion.text))
            bar.advance(task)
    llm.close()
    unparsed = sum(s is None for s in scores)
    if unparsed:
        warn(f"the judge gave no score for {unparsed} of {len(scores)} {label} answers")
    return scores


@dataclass
class EvalReport:
    """Numbers and answers of one evaluation."""

    summary: dict
    rows: list[dict]
    answers: dict[str, list[str]]
    judge: dict[str, list[int | None]] = field(default_factory=dict)


def evaluate(
    data: Path | str,
    model: str,
    adapter: Path | str | None = None,
    judge: str | None = None,
    limit: int | None = None,
    max_new_tokens: int = 256,
    batch_size: int = 4,
) -> EvalReport:
    """Answer the test split with the base model and, given `adapter`, the fine-tuned one."""
    from transformers import set_seed

    started = time.time()
    splits = fdata.load_splits(data)
    rows = splits.get("test") or []
    if not rows:
        raise InputError(
            f"no test rows in {fdata.resolve_dataset_dir(data)}: export with a test split"
        )
    rows = rows[:limit] if limit else rows
    if adapter is not None and not (Path(adapter) / "adapter_config.json").is_file():
        raise InputError(
            f"{adapter} has no adapter_config.json: pass the RUN_DIR of `finetune train`"
        )
    source = resolve_model(model)
    device = pick_device()
    set_seed(0)
    tokenizer = load_tokenizer(source)
    base = load_model(source, device, pick_dtype(device), four_bit=False)
    answers = {"base": generate_answers(base, tokenizer, rows, max_new_tokens, batch_size, "base")}
    if adapter is not None:
        tuned = _with_adapter(base, Path(adapter), model)
        answers["tuned"] = generate_answers(
            tuned, tokenizer, rows, max_new_tokens, batch_size, "fine-tuned"
        )
    report = EvalReport(summary={}, rows=rows, answers=answers)
    if judge:
        try:
            report.judge = {k: judge_answers(judge, rows, v, k) for k, v in answers.items()}
        except DataprepError as exc:
            warn(f"LLM judge skipped: {exc}")
    report.summary = {
        "model": model,
        "adapter": str(adapter) if adapter else None,
        "data": str(fdata.resolve_dataset_dir(data)),
        "test_rows": len(rows),
        "max_new_tokens": max_new_tokens,
        "decoding": "greedy",
        "edit_similarity": "difflib.SequenceMatcher ratio (autojunk off) of stripped strings",
        "judge": judge if report.judge else None,
        "scores": {k: score_answers(rows, v) for k, v in answers.items()},
        "seconds": round(time.time() - started, 1),
    }
    for name, scores in report.judge.items():
        valid = [s for s in scores if s is not None]
        report.summary["scores"][name]["judge"] = (
            round(sum(valid) / len(valid), 2) if valid else None
        )
    return report


def _with_adapter(base, adapter_dir: Path, model: str = ""):
    from peft import PeftModel

    if not (adapter_dir / "adapter_config.json").is_file():
        raise InputError(
            f"{adapter_dir} has no adapter_config.json: pass the RUN_DIR of `finetune train`"
        )
    run_file = adapter_dir / "run.json"
    if model and run_file.is_file():
        trained_on = json.loads(run_file.read_text(encoding="utf-8")).get("model")
        if trained_on and trained_on != model:
            warn(f"the adapter was trained on {trained_on}, not {model}: scores may mean little")
    return PeftModel.from_pretrained(base, str(adapter_dir))


def render_table(report: EvalReport):
    """A rich table: one row per model, exact match, edit similarity, judge."""
    from rich.table import Table

    table = Table(title=f"test split: {report.summary['test_rows']} rows")
    for column in (
        "model",
        "code rows",
        "exact match",
        "edit similarity",
        "all rows: edit sim.",
        "judge",
    ):
        table.add_column(column, justify="right" if column != "model" else "left")
    for name, scores in report.summary["scores"].items():
        code, every = scores["code"], scores["all"]
        table.add_row(
            name,
            str(code["rows"]),
            _fmt(code["exact_match"]),
            _fmt(code["edit_similarity"]),
            _fmt(every["edit_similarity"]),
            _fmt(scores.get("judge")),
        )
    return table


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def render_html(report: EvalReport) -> str:
    """A self-contained HTML page: the numbers, then each test row with both answers."""
    esc = html.escape
    names = list(report.answers)
    head = "".join(f"<th>{esc(n)}</th>" for n in names)
    score_rows = "".join(
        f"<tr><td>{esc(n)}</td><td>{_fmt(s['code']['exact_match'])}</td>"
        f"<td>{_fmt(s['code']['edit_similarity'])}</td><td>{_fmt(s['all']['edit_similarity'])}</td>"
        f"<td>{_fmt(s.get('judge'))}</td></tr>"
        for n, s in report.summary["scores"].items()
    )
    examples = []
    for i, row in enumerate(report.rows):
        cells = "".join(
            f"<td><pre>{esc(report.answers[n][i])}</pre>"
            f"<small>edit sim {edit_similarity(report.answers[n][i], row['output']):.3f}"
            f"{_judge_note(report, n, i)}</small></td>"
            for n in names
        )
        examples.append(
            f"<tr><td><pre>{esc(fdata.row_prompt(row))}</pre></td>"
            f"<td><pre>{esc(row['output'])}</pre></td>{cells}</tr>"
        )
    summary = report.summary
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>dataprep finetune eval</title>"
        "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
        "pre{white-space:pre-wrap;max-width:40em;margin:0}</style></head><body>"
        f"<h1>Base vs fine-tuned on {summary['test_rows']} test rows</h1>"
        f"<p>model {esc(str(summary['model']))}, adapter {esc(str(summary['adapter']))}; "
        f"greedy, {summary['max_new_tokens']} new tokens at most; edit similarity: "
        f"{esc(summary['edit_similarity'])}</p>"
        "<table><tr><th>model</th><th>code exact match</th><th>code edit similarity</th>"
        f"<th>all rows edit similarity</th><th>judge</th></tr>{score_rows}</table>"
        f"<h2>Examples</h2><table><tr><th>prompt</th><th>expected</th>{head}</tr>"
        + "".join(examples)
        + "</table></body></html>\n"
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
