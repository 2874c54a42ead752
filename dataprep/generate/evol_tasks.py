"""The Evol-Instruct stage's LLM tasks, as pure ends around the model call.

Each task is `format_input` (records -> chat messages, rendered from the prompts in
templates/evol/, written for this project) and `format_output` (raw text -> record, or
`Eliminated` with a named reason). The elimination rules are the Evol-Instruct paper's
four failure cases. Nothing here calls a model or touches the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from dataprep.errors import TemplateError
from dataprep.generate.llm import Messages, OutputError, parse_structured
from dataprep.models import Unit
from dataprep.resources import template_path

PROMPT_WORDS = (
    "#given prompt#",
    "#rewritten prompt#",
    "#created prompt#",
    "given prompt",
    "rewritten prompt",
    "created prompt",
)

# --- templates (data) ---------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Operation(_Strict):
    name: str
    family: Literal["depth", "breadth", "code"]
    weight: float = Field(gt=0)
    text: str


class _Operations(_Strict):
    operations: list[Operation]


class _Prompt(_Strict):
    system: str | None = None
    user: str


class _Sections(_Strict):
    path: str
    imports: str
    header: str
    code: str
    input: str
    evolve_input: str


class EvolTemplates(_Strict):
    data_open: str
    data_close: str
    data_rule: str
    sections: _Sections
    seed_questions: _Prompt
    evolve_depth: _Prompt
    evolve_breadth: _Prompt
    judge: _Prompt
    answer: _Prompt


def _read_yaml(name: str) -> Any:
    path = template_path("evol", name)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path} is not valid YAML ({exc}): fix the file") from None


@cache
def load_templates() -> EvolTemplates:
    """The prompts in templates/evol/tasks.yaml, validated."""
    try:
        return EvolTemplates.model_validate(_read_yaml("tasks.yaml"))
    except ValueError as exc:
        raise TemplateError(f"templates/evol/tasks.yaml does not validate: {exc}") from None


@cache
def load_operations() -> dict[str, Operation]:
    """The evolution operations in templates/evol/operations.yaml, by name."""
    try:
        ops = _Operations.model_validate(_read_yaml("operations.yaml")).operations
    except ValueError as exc:
        raise TemplateError(f"templates/evol/operations.yaml does not validate: {exc}") from None
    return {op.name: op for op in ops}


@cache
def stop_words() -> frozenset[str]:
    text = template_path("evol", "stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def render(template: str, **values: Any) -> str:
    """Fill `{{name}}` placeholders (single pass, so data cannot inject placeholders).

    Example: render("Hi {{who}}", who="{{x}}") -> "Hi {{x}}"
    """

    def sub(m: re.Match) -> str:
        if m.group(1) not in values:
            raise TemplateError(
                f"placeholder {{{{{m.group(1)}}}}} has no value: fix templates/evol"
            )
        return str(values[m.group(1)])

    return re.sub(r"\{\{(\w+)\}\}", sub, template)


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitContext:
    """What an answer may draw on: the unit, its enclosing type's header, its file's imports."""

    unit: Unit
    header: str | None = None
    imports: str | None = None


@dataclass(frozen=True)
class Seed:
    """An instruction to evolve, and the pair it came from (None for a fresh question)."""

    instruction: str
    input: str
    unit_id: str
    parent_id: str | None
    module: str | None = None


class Eliminated(Exception):
    """A candidate failed a check; `reason` is one of the stage's named reasons."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class SeedQuestions(BaseModel):
    questions: list[str]


class Verdict(BaseModel):
    verdict: Literal["Equal", "Not Equal"]


# --- elimination (the paper's four failure cases) -----------------------------------------


def copies_prompt_words(instruction: str) -> bool:
    """Case 4: the evolved instruction copies words of the evolving prompt.

    Example: copies_prompt_words("#Rewritten Prompt#: explain foo()") -> True
    """
    low = instruction.lower()
    return any(w in low for w in PROMPT_WORDS)


def is_sorry_short(answer: str) -> bool:
    """Case 2: the answer contains "sorry" and is shorter than 80 words."""
    return "sorry" in answer.lower() and len(answer.split()) < 80


def only_punctuation_and_stop_words(text: str) -> bool:
    """Case 3: nothing but punctuation and stop words (an empty text included).

    Example: only_punctuation_and_stop_words("It is, of course!") -> False ("course")
    """
    words = re.findall(r"[^\W_]+", text.lower())
    return all(w in stop_words() for w in words)


def check_instruction(text: str) -> None:
    if only_punctuation_and_stop_words(text):
        raise Eliminated("only_punctuation_and_stop_words", "instruction")
    if copies_prompt_words(text):
        raise Eliminated("copies_prompt_words")


def check_answer(text: str) -> None:
    if is_sorry_short(text):
        raise Eliminated("sorry_short_answer")
    if only_punctuation_and_stop_words(text):
        raise Eliminated("only_punctuation_and_stop_words", "answer")


# --- tasks: format_input / format_output --------------------------------------------------


def _data(t: EvolTemplates, text: str) -> str:
    """Repository text with the closing delimiter defused, so data cannot end the block."""
    return text.replace(t.data_close, t.data_close.replace(">>>", ">> >"))


def format_context(ctx: UnitContext, input: str = "", t: EvolTemplates | None = None) -> str:
    """The delimited block of repository data shown with seed-question and answer prompts."""
    t = t or load_templates()
    u = ctx.unit
    s = t.sections
    parts = [render(s.path, path=u.path, start_line=u.start_line, end_line=u.end_line)]
    if ctx.imports:
        parts.append(render(s.imports, imports=ctx.imports))
    if ctx.header:
        parts.append(render(s.header, header=ctx.header))
    parts.append(render(s.code, kind=u.kind.replace("_", " "), name=u.qualified_name, code=u.code))
    if input:
        parts.append(render(s.input, input=input))
    body = _data(t, "\n\n".join(parts))
    return f"{t.data_open}\n{body}\n{t.data_close}"


def _messages(t: EvolTemplates, prompt: Any, **values: Any) -> Messages:
    values.setdefault("data_rule", t.data_rule.strip())
    out: Messages = []
    if prompt.system:
        out.append({"role": "system", "content": render(prompt.system, **values)})
    out.append({"role": "user", "content": render(prompt.user, **values)})
    return out


class SeedQuestionTask:
    """Unit -> questions about it, written by the LLM with the code in view."""

    schema = SeedQuestions

    @staticmethod
    def format_input(ctx: UnitContext, n: int) -> Messages:
        t = load_templates()
        u = ctx.unit
        kind = u.kind.replace("_", " ")
        return _messages(
            t, t.seed_questions, context=format_context(ctx, t=t), n=n, kind=kind, name=u.name
        )

    @staticmethod
    def format_output(text: str, n: int) -> list[str]:
        try:
            parsed = parse_structured(text, SeedQuestions)
        except OutputError as exc:
            raise Eliminated(exc.reason, exc.detail) from None
        questions = [q.strip() for q in parsed.questions if q.strip()][:n]  # type: ignore[attr-defined]
        if not questions:
            raise Eliminated("only_punctuation_and_stop_words", "no questions")
        return questions


class EvolveTask:
    """(instruction, operation) -> a harder or a new instruction."""

    @staticmethod
    def format_input(op: Operation, seed: Seed, unit: Unit) -> Messages:
        t = load_templates()
        prompt = t.evolve_breadth if op.family == "breadth" else t.evolve_depth
        # the task's input (often code) is carried over unchanged and shown only as data
        block = ""
        if seed.input:
            data = f"{t.data_open}\n{_data(t, seed.input)}\n{t.data_close}"
            block = render(t.sections.evolve_input, input=data) + "\n\n"
        return _messages(
            t,
            prompt,
            operation=op.text.strip(),
            instruction=seed.instruction,
            input_block=block,
            kind=unit.kind.replace("_", " "),
            name=unit.name,
        )

    @staticmethod
    def format_output(text: str) -> str:
        instruction = text.strip().strip('"').strip()
        check_instruction(instruction)
        return instruction


class JudgeTask:
    """(previous, evolved) -> is there information gain? ("Equal" means none)."""

    schema = Verdict

    @staticmethod
    def format_input(first: str, second: str) -> Messages:
        t = load_templates()
        return _messages(t, t.judge, first=first, second=second)

    @staticmethod
    def format_output(text: str) -> bool:
        """True when the two are Equal (no information gain)."""
        try:
            return parse_structured(text, Verdict).verdict == "Equal"  # type: ignore[attr-defined]
        except OutputError as exc:
            plain = text.strip().strip(".\"'").lower()
            if plain in ("equal", "not equal"):
                return plain == "equal"
            raise Eliminated(f"judge_{exc.reason}", exc.detail) from None


class AnswerTask:
    """(instruction, unit context) -> a grounded answer."""

    @staticmethod
    def format_input(instruction: str, input: str, ctx: UnitContext) -> Messages:
        t = load_templates()
        return _messages(
            t, t.answer, context=format_context(ctx, input, t), instruction=instruction
        )

    @staticmethod
    def format_output(text: str) -> str:
        answer = text.strip()
        check_answer(answer)
        return answer
