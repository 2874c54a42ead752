"""The task templates as data: the schema of `templates/instructions/*.yaml`, its loader,
and what the rest of the code asks of a task (its input kind, its label reader, trivia).

A task says which units it applies to, what it answers (a per-file answer kind of
`Answer`, or a repository-level family's kind: dataprep.generate.families), what goes in
`input`, and five or more phrasings of its instruction.

Example:
    tasks = load_templates()
    tasks["method.explain"].phrasings[0]  # -> "How does {member} of {type} work?" (say)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dataprep.errors import TemplateError
from dataprep.generate.families import answer_kinds
from dataprep.generate.java_facts import (
    is_test_answer_of_code,
)
from dataprep.hashing import content_hash
from dataprep.models import UnitKind
from dataprep.resources import templates_dir

# Bump when the generator's output changes for the same units and templates.
GENERATOR_VERSION = "7"
LEVELS = 4

Answer = Literal[
    "code",
    "name",
    "signature",
    "javadoc",
    "initializer",
    "annotations",
    "fields",
    "constructors",
    "owner",
    "package",
    "imports",
    "route_annotations",
    "tests",
    "is_test",
    "prose",
    "methods",
    "test_code",
    "fim_middle",
    "enum_constants",
]
FILE_ANSWERS = frozenset(get_args(Answer)) - {"tests", "test_code"}
# Classification answers: a short label (`yes`/`no`) that is also the pair's `label`,
# with the reader that tells it from an input's code (to check LLM-written inputs).
LABEL_READERS: dict[str, Callable[[str], str | None]] = {"is_test": is_test_answer_of_code}
InputKind = Literal[
    "fim_code", "none", "code", "javadoc", "signature", "masked_code", "bare_code", "contract"
]
Scope = Literal["main", "test", "any"]
Requirement = Literal[
    "javadoc", "initializer", "annotations", "fields", "constructors", "package", "imports",
    "route", "body", "test_target", "prose", "informative_annotations", "package_not_in_path",
    "methods", "not_changelog", "changelog", "enum_constants",
]  # fmt: skip

PLACEHOLDERS = frozenset(
    "name type member kind owner_kind file package topic http_method route version project "
    "call method".split()
    + "key prefix purpose profile table".split()  # configuration (families/config.py)
)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# -- templates as data ------------------------------------------------------------


class TaskTemplate(BaseModel):
    """One task: which units it applies to, what it answers, and how it is asked."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[UnitKind] = Field(min_length=1)
    answer: str
    """What the answer is: a per-file answer (`Answer`) or a repository-level family's kind
    (dataprep.generate.families)."""
    input: InputKind = "none"
    requires: list[Requirement] = Field(default_factory=list)
    max_level: int = Field(default=LEVELS - 1, ge=0, le=LEVELS - 1)
    qualifier: str | None = None
    scope: Scope = "main"
    """Which code the task asks about: main code (not tests), test code, or any."""
    trivia: bool = False
    """A fact a model can look up rather than knowledge of the codebase; balancing caps it."""
    phrasings: list[str] = Field(min_length=5)

    @field_validator("phrasings")
    @classmethod
    def _distinct(cls, phrasings: list[str]) -> list[str]:
        for text in phrasings:
            _check_placeholders(text)
        if len(set(phrasings)) != len(phrasings):
            raise ValueError("two phrasings are the same; make each one different")
        return phrasings

    @field_validator("answer")
    @classmethod
    def _answer_kind(cls, answer: str) -> str:
        known = set(get_args(Answer)) | answer_kinds()
        if answer not in known:
            raise ValueError(f"unknown answer {answer!r}; use one of {', '.join(sorted(known))}")
        return answer

    @field_validator("qualifier")
    @classmethod
    def _qualifier(cls, text: str | None) -> str | None:
        return _check_placeholders(text) if text is not None else None


def _check_placeholders(text: str) -> str:
    try:
        names = {name for _, name, _, _ in Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{exc} in {text!r}; write literal braces as {{{{ and }}}}") from None
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{unknown[0]}}} in {text!r}; use one of "
            + " ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
        )
    return text


class TemplateFile(BaseModel):
    """A file of templates/instructions/: one task family."""

    model_config = ConfigDict(extra="forbid")

    family: str
    description: str = ""
    tasks: dict[str, TaskTemplate] = Field(min_length=1)

    @field_validator("tasks")
    @classmethod
    def _task_ids(cls, tasks: dict[str, TaskTemplate]) -> dict[str, TaskTemplate]:
        for task_id in tasks:
            if not re.fullmatch(r"[a-z]+(\.[a-z_]+)+", task_id):
                raise ValueError(f"task id {task_id!r} must look like 'method.explain'")
        return tasks


def load_template_file(path: Path) -> TemplateFile:
    """Read and validate one instruction template file; errors name the file and the fix."""
    try:
        # libyaml's loader when PyYAML has it: the shipped tasks load 8x faster
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read template file {path} ({exc}): check the file") from exc
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise TemplateError(
            f"template file {path} is not valid YAML ({detail}): fix its syntax"
        ) from exc
    if not isinstance(data, dict):
        raise TemplateError(f"template file {path}: expected a mapping with family and tasks")
    try:
        return TemplateFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "file"
        msg = err["msg"].removeprefix("Value error, ")
        raise TemplateError(f"template file {path}: {where}: {msg}") from exc


def load_templates(directory: Path | None = None) -> dict[str, TaskTemplate]:
    """All tasks of `directory` (default: the shipped templates/instructions/), by task id."""
    directory = directory or templates_dir() / "instructions"
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise TemplateError(f"no instruction templates (*.yaml) in {directory}: reinstall dataprep")
    tasks: dict[str, TaskTemplate] = {}
    for path in files:
        for task_id, task in load_template_file(path).tasks.items():
            if task_id in tasks:
                raise TemplateError(
                    f"template file {path}: task {task_id} is defined twice; rename one"
                )
            tasks[task_id] = task
    return tasks


@lru_cache(maxsize=8)
def _shipped(directory: str) -> tuple[dict[str, TaskTemplate], str]:
    from dataprep.stages import code_version

    tasks = load_templates(Path(directory))
    # the generator's code is part of the key: a changed family or answer builder regenerates
    code = code_version(("dataprep.generate", "dataprep.languages", "dataprep.quality.text"))
    fingerprint = content_hash(
        "templates", GENERATOR_VERSION, code, {k: t.model_dump() for k, t in sorted(tasks.items())}
    )
    return tasks, fingerprint


def templates_fingerprint(directory: Path | None = None) -> str:
    """A hash of the templates and the generator version: the cache key of generated pairs."""
    return _shipped(str(directory or templates_dir() / "instructions"))[1]


# -- candidates and their qualification levels --------------------------------------


@lru_cache(maxsize=256)
def placeholders(*texts: str) -> list[str]:
    """Placeholders used by any of the texts, in a fixed order."""
    names = {n for text in texts for _, n, _, _ in Formatter().parse(text) if n}
    return sorted(names)


@lru_cache(maxsize=256)
def subject_names(*phrasings: str) -> list[str]:
    """Placeholders that every phrasing shows: only those tell two questions apart.

    Example: ("Show the constructors of {type}.", "Which constructors does the {kind} {type}
    declare?") -> ["type"]: a reader of the first cannot tell a class Token from a record
    Token, so the two are one question and must be qualified.
    """
    shown = [{n for _, n, _, _ in Formatter().parse(text) if n} for text in phrasings]
    return sorted(set.intersection(*shown)) if shown else []


def shipped_tasks() -> dict[str, TaskTemplate]:
    """The shipped tasks (templates/instructions/), loaded and validated once."""
    return _shipped(str(templates_dir() / "instructions"))[0]


def trivia_tasks() -> frozenset[str]:
    """The shipped tasks marked `trivia` (facts to look up, not knowledge of the code)."""
    tasks = shipped_tasks()
    return frozenset(tid for tid, task in tasks.items() if task.trivia)


def label_reader(task_id: str, tasks: dict[str, TaskTemplate] | None = None):
    """For a classification task, the function that reads its label from an input's code
    (None for other tasks). Example: label_reader("method.is_test")("@Test void a() {}")
    -> "yes"."""
    tasks = tasks if tasks is not None else shipped_tasks()
    task = tasks.get(task_id)
    return LABEL_READERS.get(task.answer) if task is not None else None


def input_kind(task_id: str) -> str | None:
    """What a shipped task puts in `input` (code, javadoc, signature, none), or None for a
    task that is not a template task. Example: input_kind("method.is_test") -> "code"."""
    task = shipped_tasks().get(task_id)
    return task.input if task is not None else None


# -- cross-file candidates: which test covers a method ----------------------------------
