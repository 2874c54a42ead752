"""Base against fine-tuned, per held-out set and per task family, side by side.

The sets (`finetune.data.EVAL_SETS`): *knowledge* (the knowledge split: facts about files
in training, held out or asked in another phrasing) and *generalisation* (the test split:
held-out files, tasks that generalise). An export without a knowledge split has one set,
`test`. `--limit N` takes N rows of each set, round-robin over its task families.

Both models get the same Alpaca prompt the trainer saw (`alpaca_prompt`), greedy decoding,
and stop at EOS; a row may use at most twice its expected answer's tokens plus 16 (and
`max_new_tokens`), so a yes/no question does not run on for 256 tokens. Each row is
scored by its kind (`finetune.data.answer_kind`):

- code: exact match (after stripping surrounding whitespace) and edit similarity, which
  here is difflib's `SequenceMatcher(None, answer, expected, autojunk=False).ratio()`
  (2*matches / total length, the `fuzz.ratio` repository benchmarks report, / 100);
- prose: an optional LLM judge, 0-100 against the expected answer (`--judge`, through the
  generator's backends: ollama:, openai:, transformers:); without one, edit similarity as
  a rough stand-in, named so;
- yes/no (`method.is_test`, `type.has_method`): accuracy of the first word, against the
  majority baseline (always the label most frequent for that task in train).
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from dataprep.console import progress, warn
from dataprep.errors import DataprepError, InputError
from finetune import data as fdata
from finetune.modeling import load_model, load_tokenizer, pick_device, pick_dtype, resolve_model
from finetune.progress import quiet_libraries

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


def answer_budget(tokenizer, row: dict, max_new_tokens: int) -> int:
    """New tokens a row may use: twice its expected answer's tokens plus 16, at most
    `max_new_tokens`. Example: an expected "no" (1 token), max 256 -> 18."""
    expected = len(tokenizer(row["output"], add_special_tokens=False)["input_ids"])
    return min(max_new_tokens, 2 * expected + 16)


def generate_answers(
    model, tokenizer, rows: list[dict], max_new_tokens: int, batch_size: int = 4, label: str = ""
) -> list[str]:
    """Greedy answers to each row's Alpaca prompt, stopping at EOS (left-padded batches of
    rows with similar budgets, `answer_budget`)."""
    import torch

    tokenizer.padding_side = "left"
    budgets = [answer_budget(tokenizer, r, max_new_tokens) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: (budgets[i], i))
    answers: list[str] = [""] * len(rows)
    model.eval()
    with progress() as bar:
        task = bar.add_task(f"generate {label}".strip(), total=len(rows))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            prompts = [fdata.row_prompt(rows[i]) for i in batch]
            enc = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
            with torch.no_grad():
                out = model.generate(
                    **enc,
                    max_new_tokens=max(budgets[i] for i in batch),
                    do_sample=False,
                    eos_token_id=tokenizer.eos_token_id,
                    pad_token_id=tokenizer.pad_token_id,
                )
            new = out[:, enc["input_ids"].shape[1] :]
            texts = tokenizer.batch_decode(new, skip_special_tokens=True)
            for i, text in zip(batch, texts, strict=True):
                answers[i] = text.strip()
            bar.advance(task, len(batch))
    return answers


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def majority_labels(train_rows: list[dict]) -> dict[str, str]:
    """Task -> its most frequent yes/no label in train (ties: `no`).

    Example: 20 `no` and 7 `yes` method.is_test rows -> {"method.is_test": "no"}
    """
    counts: dict[str, Counter] = {}
    for row in train_rows:
        if row.get("task") in fdata.CLASSIFICATION_TASKS:
            label = fdata.label_of(row["output"])
            if label:
                counts.setdefault(row["task"], Counter())[label] += 1
    return {task: max(("no", "yes"), key=lambda x: c[x]) for task, c in counts.items()}


def score_rows(
    rows: list[dict],
    answers: dict[str, list[str]],
    judge: dict[str, list[int | None]] | None = None,
    majority: dict[str, str] | None = None,
) -> dict:
    """The scores of some rows for every model: exact match and edit similarity of the code
    answers, accuracy of the yes/no answers (and the majority baseline's), the judge's mean
    on prose (or prose edit similarity without a judge).
    """
    judge = judge or {}
    kinds = [fdata.answer_kind(r) for r in rows]
    code = [i for i, k in enumerate(kinds) if k == "code"]
    prose = [i for i, k in enumerate(kinds) if k == "prose"]
    labels = [i for i, k in enumerate(kinds) if k == "label"]
    expected = {i: fdata.label_of(rows[i]["output"]) for i in labels}
    out: dict = {
        "rows": len(rows),
        "code_rows": len(code),
        "prose_rows": len(prose),
        "label_rows": len(labels),
        "majority": None,
        "models": {},
    }
    if labels:
        majority = majority or {}
        local = Counter(expected.values()).most_common(1)[0][0]
        guess = {i: majority.get(rows[i].get("task"), local) for i in labels}
        out["majority"] = {
            "labels": dict(sorted(Counter(guess.values()).items())),
            "accuracy": _mean([float(guess[i] == expected[i]) for i in labels]),
        }
    for name, said in answers.items():
        scores = {
            "exact_match": _mean([float(exact_match(said[i], rows[i]["output"])) for i in code]),
            "edit_similarity": _mean([edit_similarity(said[i], rows[i]["output"]) for i in code]),
            "accuracy": _mean([float(fdata.label_of(said[i]) == expected[i]) for i in labels]),
            "judge": None,
            "prose_edit_similarity": _mean(
                [edit_similarity(said[i], rows[i]["output"]) for i in prose]
            ),
        }
        if name in judge:
            scores["judge"] = _mean(
                [float(judge[name][i]) for i in prose if judge[name][i] is not None]
            )
        out["models"][name] = scores
    return out


def score_set(
    rows: list[dict],
    answers: dict[str, list[str]],
    judge: dict[str, list[int | None]] | None = None,
    majority: dict[str, str] | None = None,
) -> dict:
    """`score_rows` for the whole set (`all`) and for each task family (`families`)."""
    by_family: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_family.setdefault(fdata.row_family(row), []).append(i)

    def pick(values: dict[str, list], idx: list[int]) -> dict[str, list]:
        return {k: [v[i] for i in idx] for k, v in values.items()}

    families = {
        family: score_rows(
            [rows[i] for i in idx], pick(answers, idx), pick(judge or {}, idx), majority
        )
        for family, idx in sorted(by_family.items())
    }
    return {"all": score_rows(rows, answers, judge, majority), "families": families}


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
    """Numbers and answers of one evaluation: each row's set, the answers of each model."""

    summary: dict
    rows: list[dict]
    answers: dict[str, list[str]]
    judge: dict[str, list[int | None]] = field(default_factory=dict)
    sets: list[str] = field(default_factory=list)


def pick_rows(rows: list[dict], limit: int | None) -> list[dict]:
    """At most `limit` rows, taken round-robin over the task families (in name order), each
    family's rows in file order, so a small limit still covers every family.

    Example: 3 code rows and 1 labels row, limit 2 -> the first code row, the labels row
    """
    if not limit or len(rows) <= limit:
        return rows
    by_family: dict[str, list[dict]] = {}
    for row in rows:
        by_family.setdefault(fdata.row_family(row), []).append(row)
    queues = [by_family[f] for f in sorted(by_family)]
    out: list[dict] = []
    depth = 0
    while len(out) < limit:
        for queue in queues:
            if depth < len(queue) and len(out) < limit:
                out.append(queue[depth])
        depth += 1
    return out


def eval_sets(
    splits: dict[str, list[dict]], sets: list[str] | None = None, limit: int | None = None
) -> dict[str, list[dict]]:
    """Set name -> its rows (`pick_rows`): knowledge and generalisation when the export has
    a knowledge split, else the test split alone (named `test`)."""
    if "knowledge" in splits:
        names = {name: split for name, split in fdata.EVAL_SETS.items()}
    else:
        names = {"test": "test"}
    wanted = sets or list(names)
    unknown = [s for s in wanted if s not in names]
    if unknown:
        raise InputError(
            f"no {unknown[0]} set in this export: choose from {', '.join(names)}"
            + ("" if "knowledge" in splits else " (re-export for the knowledge set)")
        )
    out = {name: pick_rows(splits.get(names[name]) or [], limit) for name in wanted}
    out = {name: rows for name, rows in out.items() if rows}
    if not out:
        raise InputError(f"no rows in the {', '.join(wanted)} split(s): export a held-out set")
    return out


def evaluate(
    data: Path | str,
    model: str,
    adapter: Path | str | None = None,
    judge: str | None = None,
    limit: int | None = None,
    max_new_tokens: int = 256,
    batch_size: int = 4,
    sets: list[str] | None = None,
) -> EvalReport:
    """Answer each held-out set with the base model and, given `adapter`, the fine-tuned
    one; score per set and per family."""
    with quiet_libraries():
        return _evaluate(data, model, adapter, judge, limit, max_new_tokens, batch_size, sets)


def _evaluate(data, model, adapter, judge, limit, max_new_tokens, batch_size, sets) -> EvalReport:
    from transformers import set_seed

    started = time.time()
    splits = fdata.load_splits(data)
    chosen = eval_sets(splits, sets, limit)
    rows = [row for set_rows in chosen.values() for row in set_rows]
    row_sets = [name for name, set_rows in chosen.items() for _ in set_rows]
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
    report = EvalReport(summary={}, rows=rows, answers=answers, sets=row_sets)
    if judge:
        report.judge = _judge_prose(judge, rows, answers)
    majority = majority_labels(splits.get("train") or [])
    report.summary = {
        "model": model,
        "adapter": str(adapter) if adapter else None,
        "data": str(fdata.resolve_dataset_dir(data)),
        "rows": {name: len(set_rows) for name, set_rows in chosen.items()},
        "max_new_tokens": max_new_tokens,
        "decoding": "greedy; at most twice the expected answer's tokens + 16",
        "edit_similarity": "difflib.SequenceMatcher ratio (autojunk off) of stripped strings",
        "judge": judge if report.judge else None,
        "sets": {},
        "seconds": 0.0,
    }
    for name in chosen:
        idx = [i for i, s in enumerate(row_sets) if s == name]
        report.summary["sets"][name] = score_set(
            [rows[i] for i in idx],
            {k: [v[i] for i in idx] for k, v in answers.items()},
            {k: [v[i] for i in idx] for k, v in report.judge.items()},
            majority,
        )
    from finetune.eval_report import verdicts  # the report module imports this one

    report.summary["verdicts"] = verdicts(report.summary)
    report.summary["seconds"] = round(time.time() - started, 1)
    return report


def _judge_prose(spec: str, rows: list[dict], answers: dict[str, list[str]]) -> dict:
    """Judge scores of the prose rows (None elsewhere) for every model; {} if the judge fails."""
    prose = [i for i, r in enumerate(rows) if fdata.answer_kind(r) == "prose"]
    out: dict[str, list[int | None]] = {}
    try:
        for name, said in answers.items():
            scores = judge_answers(spec, [rows[i] for i in prose], [said[i] for i in prose], name)
            full: list[int | None] = [None] * len(rows)
            for i, score in zip(prose, scores, strict=True):
                full[i] = score
            out[name] = full
    except DataprepError as exc:
        warn(f"LLM judge skipped: {exc}")
        return {}
    return out


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
