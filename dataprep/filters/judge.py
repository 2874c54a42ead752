"""The optional LLM judge: scores each pair 0-100 against its source unit.

`JudgeTask` is the two pure ends of the call (pair and unit -> messages, reply -> score);
`make_judge` puts the generator's LLM backend, at temperature 0 and cached in the store,
between them.
"""

from __future__ import annotations

import json
import re

from dataprep.filters.core import Context, FilterConfig, register
from dataprep.models import Pair, Unit

JUDGE_VERSION = 1
JUDGE_SYSTEM = (
    "You grade instruction/answer pairs written about a source code repository. "
    "Judge only against the source unit shown. Reply with JSON only."
)


@register(
    "judge",
    "optional LLM judge: scores each pair 0-100 against its source unit (temperature 0)",
    ("judge", "judge_threshold"),
    optional=True,
)
def judge(pair: Pair, ctx: Context) -> str | None:
    if ctx.judge is None:
        return None
    score, why = ctx.judge(pair)
    ctx.details[pair.id] = json.dumps({"judge_score": score, "why": why[:500]}, ensure_ascii=False)
    if score is None:
        return "judge gave no score"
    if score < ctx.config.judge_threshold:
        return f"judge score {score} < {ctx.config.judge_threshold}"
    return None


class JudgeTask:
    """(pair, source unit) -> score 0-100: format_input and format_output around one call."""

    @staticmethod
    def format_input(pair: Pair, unit: Unit | None) -> list[dict[str, str]]:
        source = unit.code if unit else "(the source unit is no longer in the repository)"
        if unit and unit.javadoc:
            source = f"{unit.javadoc}\n{source}"
        where = f"{unit.kind} {unit.qualified_name} in {unit.path}" if unit else pair.path
        user = (
            f"Source unit ({where}):\n```\n{source}\n```\n\n"
            f"Instruction:\n{pair.instruction}\n\n"
            + (f"Input:\n{pair.input}\n\n" if pair.input else "")
            + f"Answer:\n{pair.output}\n\n"
            "Score the answer from 0 to 100: is it correct, supported by the source unit, and a "
            "complete answer to the instruction? 0 means wrong or invented, 100 means correct "
            'and complete. Reply as JSON: {"score": <integer 0-100>, "reason": "<one sentence>"}'
        )
        return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]

    @staticmethod
    def format_output(text: str) -> tuple[int | None, str]:
        """The score and the reason. Example: '{"score": 85, "reason": "ok"}' -> (85, "ok");
        a bare 'Score: 70' -> (70, "Score: 70")."""
        body = text.strip().strip("`").removeprefix("json").strip()
        try:
            data = json.loads(body)
            score = int(round(float(data["score"])))
            return max(0, min(100, score)), str(data.get("reason", ""))
        except (ValueError, KeyError, TypeError):
            match = re.search(r"\b(100|\d{1,2})\b", text)
            return (
                (int(match.group(1)), text.strip()[:200]) if match else (None, text.strip()[:200])
            )


def make_judge(store, config: FilterConfig, llm=None):
    """The judge callable for `config.judge`: the generator's LLM backend, temperature 0,
    every call cached in the store (a re-run asks nothing twice)."""
    from dataprep.generate.llm import CachedLLM, LLMOptions, parse_llm_spec

    backend = llm or parse_llm_spec(
        config.judge, options=LLMOptions(temperature=0.0, seed=0, max_tokens=200)
    )
    cached = CachedLLM(backend, store, stage_version=JUDGE_VERSION)
    units: dict[str, Unit | None] = {}

    def judge_pair(pair: Pair) -> tuple[int | None, str]:
        if pair.unit_id not in units:
            units[pair.unit_id] = store.unit(pair.unit_id)
        completion = cached.chat(
            JudgeTask.format_input(pair, units[pair.unit_id]), unit=pair.unit_id
        )
        return JudgeTask.format_output(completion.text)

    return judge_pair
