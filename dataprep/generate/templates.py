"""Grounded template pairs: questions about units whose answers are the source itself.

Instruction phrasings live in `templates/instructions/*.yaml` (data); what each task
answers is code here, from a fixed set of answer builders, so every output is text the
source says: a unit's code, a name, a header, an annotation as written.

Generation runs in two steps, so that the pipeline can redo only what changed:
1. `file_candidates(units_of_one_file)`: per-file candidates, each carrying its
   instruction at four qualification levels (0 simple names, 1 qualified type names,
   2 member signatures, 3 the file's path);
2. `resolve(candidates)`: cross-file tasks aside, raises the level of every candidate
   whose subject collides with another one that has a different answer, until each
   (instruction, input) has one output; whatever still conflicts is dropped.

`generate_template_pairs(units)` is both steps over a whole repository.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path, PurePosixPath
from string import Formatter
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dataprep.errors import TemplateError
from dataprep.generate.code_text import (
    dedent_code,
    dedent_comment,
    fim_split,
    mask_name,
    strip_annotations,
)
from dataprep.generate.java_facts import (
    annotation_name,
    header_end,
    is_test_answer,
    is_test_answer_of_code,
    is_test_path,
    join_route,
    mapping_method,
    mapping_path,
    member_params,
    signature_of,
    skip_annotations,
    test_subject,
    test_target,
)
from dataprep.generate.javadoc import has_prose, parse_javadoc, render_markdown
from dataprep.hashing import content_hash
from dataprep.languages import task_applies
from dataprep.models import MEMBER_KINDS, TYPE_KINDS, Pair, Unit, UnitKind
from dataprep.resources import templates_dir
from dataprep.secrets import PLACEHOLDER_RE
from dataprep.slicing.changelog import changelog_version

# Bump when the generator's output changes for the same units and templates.
GENERATOR_VERSION = "6"
LEVELS = 4
MAX_CONSTANTS = 40  # an enum's constants listed in one answer (then "and N more")

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
# Annotations that say little on their own: an answer made only of these is trivia.
BARE_ANNOTATIONS = frozenset(
    "Override Test Deprecated FunctionalInterface SafeVarargs Nullable NonNull Nonnull "
    "BeforeEach AfterEach BeforeAll AfterAll Before After".split()
)

PLACEHOLDERS = frozenset(
    "name type member kind owner_kind file package topic http_method route version project "
    "call method".split()
    + "key prefix purpose profile table".split()  # configuration (families/config.py)
)


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
        from dataprep.generate.families import answer_kinds

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
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    code = code_version(("dataprep.generate", "dataprep.languages"))
    fingerprint = content_hash(
        "templates", GENERATOR_VERSION, code, {k: t.model_dump() for k, t in sorted(tasks.items())}
    )
    return tasks, fingerprint


def templates_fingerprint(directory: Path | None = None) -> str:
    """A hash of the templates and the generator version: the cache key of generated pairs."""
    return _shipped(str(directory or templates_dir() / "instructions"))[1]


# -- candidates and their qualification levels --------------------------------------


@dataclass
class Candidate:
    """A pair before qualification: its instruction's values at each level."""

    task: str
    template: str
    phrasing: str
    qualifier: str | None
    values: list[dict[str, str]]
    max_level: int
    input: str
    output: str
    unit_id: str
    unit_kind: str
    path: str
    start_line: int
    end_line: int
    repo: str
    commit: str | None
    module: str | None
    level: int = 0
    requires_symbol: list[str] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    qualifier_subject: list[str] = field(default_factory=list)
    label: str | None = None

    def key(self, level: int) -> tuple:
        """What the instruction asks about at a level, whatever the phrasing: the values of
        the placeholders the task's phrasings use (and its qualifier's, above level 0)."""
        names = self.subject + (self.qualifier_subject if level else [])
        values = self.values[level]
        return (self.task, tuple(values.get(n, "") for n in names), self.input)

    def instruction(self, level: int) -> str:
        text = self.phrasing.format(**self.values[level])
        if level and self.qualifier and text == self.phrasing.format(**self.values[0]):
            text = f"{text} {self.qualifier.format(**self.values[level])}"
        return text

    def to_pair(self) -> Pair:
        instruction = self.instruction(self.level)
        return Pair(
            id=Pair.make_id(self.unit_id, self.template, instruction, self.input, self.output),
            instruction=instruction,
            input=self.input,
            output=self.output,
            generator="template",
            task=self.task,
            template=self.template,
            unit_id=self.unit_id,
            unit_kind=self.unit_kind,
            path=self.path,
            start_line=self.start_line,
            end_line=self.end_line,
            repo=self.repo,
            commit=self.commit,
            module=self.module,
            label=self.label,
        )

    def to_json(self) -> dict:
        # shallow: the values are plain JSON already (dataclasses.asdict deep-copies, 10x slower)
        return {f.name: getattr(self, f.name) for f in fields(self)}


def dump_candidates(candidates: list[Candidate]) -> str:
    """JSON for the per-file cache; the candidates of one unit share their level values."""
    shared: dict[int, int] = {}
    values, rows = [], []
    for cand in candidates:
        row = cand.to_json()
        if id(cand.values) not in shared:
            shared[id(cand.values)] = len(values)
            values.append(cand.values)
        row["values"] = shared[id(cand.values)]
        rows.append(row)
    return json.dumps({"values": values, "candidates": rows}, separators=(",", ":"))


def load_candidates(text: str) -> list[Candidate]:
    """The inverse of `dump_candidates`."""
    data = json.loads(text)
    return [
        Candidate(**{**row, "values": data["values"][row["values"]]}) for row in data["candidates"]
    ]


def default_module(path: str) -> str | None:
    """The first path component, when the file is not at the top: `auth/src/A.java` -> `auth`."""
    parts = PurePosixPath(path).parts
    return parts[0] if len(parts) > 1 else None


def _stable_index(seed: int, unit_id: str, task: str, n: int) -> int:
    """Which phrasing a unit gets for a task: a hash, so re-runs choose the same one."""
    digest = hashlib.blake2b(f"{seed}\x00{unit_id}\x00{task}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


# -- per-file candidates ------------------------------------------------------------


class _FileContext:
    """The units of one file, indexed for the answer builders."""

    def __init__(self, units: list[Unit], module_of: Callable[[str], str | None]):
        self.units = units
        self.by_qname = {u.qualified_name: u for u in units if u.kind in TYPE_KINDS}
        self.by_id = {u.id: u for u in units}
        self.children: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            if unit.kind in MEMBER_KINDS and unit.parent:
                self.children[unit.parent].append(unit)
        self.file_unit = next((u for u in units if u.kind == "file"), None)
        self.module = module_of(units[0].path) if units else None

    def owner(self, unit: Unit) -> Unit | None:
        """The nearest enclosing type unit (an enum constant's body is not one)."""
        parent = unit.parent
        if not parent or "$" in parent:
            return None  # anonymous and local classes have no name to ask about
        if parent in self.by_id:
            return self.by_id[parent]
        while parent:
            if parent in self.by_qname:
                return self.by_qname[parent]
            parent = parent.rpartition(".")[0]
        return None

    def members(self, type_unit: Unit, kind: str) -> list[Unit]:
        found = self.children.get(type_unit.qualified_name, []) + self.children.get(
            type_unit.id, []
        )
        return sorted((u for u in found if u.kind == kind), key=lambda u: (u.start_line, u.id))

    def route(self, unit: Unit) -> tuple[str, str, list[str]] | None:
        """(HTTP method, full path, the mapping annotations as written) of a handler."""
        if unit.kind != "method":
            return None
        mapping = next((a for a in unit.annotations if mapping_method(a)), None)
        if mapping is None:
            return None
        owner = self.owner(unit)
        prefix_ann = None
        if owner is not None:
            prefix_ann = next(
                (a for a in owner.annotations if annotation_name(a) == "RequestMapping"), None
            )
        prefix = mapping_path(prefix_ann) if prefix_ann else ""
        route = join_route(prefix, mapping_path(mapping))
        annotations = [a for a in (prefix_ann, mapping) if a]
        return mapping_method(mapping) or "", route, annotations


def _subject_values(unit: Unit, ctx: _FileContext) -> list[dict[str, str]]:
    """The placeholders' values at each qualification level."""
    owner = ctx.owner(unit)
    is_type = unit.kind in TYPE_KINDS
    type_unit = unit if is_type else owner
    simple = type_unit.name if type_unit else ""
    qualified = type_unit.qualified_name if type_unit else ""
    if owner is not None and unit.parent and unit.parent.startswith(qualified + "."):
        # a member of an enum constant's body: `RoomType.DOUBLE`, not `RoomType`
        simple += unit.parent[len(qualified) :]
        qualified = unit.parent
    signature = signature_of(unit)
    member_plain = unit.name
    member_sig = (
        member_params(unit, signature) if unit.kind in ("method", "constructor") else unit.name
    )
    # a doc section's qualified name is its heading path, and names the part when split
    topic = unit.qualified_name or " > ".join(unit.heading_path) or unit.name
    route = ctx.route(unit)
    base = {
        "name": unit.name,
        "kind": unit.kind.replace("_", " ")
        if unit.kind != "annotation_type"
        else "annotation type",
        "owner_kind": (
            type_unit.kind.replace("annotation_type", "annotation type") if type_unit else ""
        ),
        "file": unit.path,
        "package": unit.package or "",
        "http_method": route[0] if route else "",
        "route": route[1] if route else "",
        "version": changelog_version(unit) or "",  # a changelog version's section
        "project": unit.repo,
    }
    levels = []
    for level in range(LEVELS):
        values = dict(base)
        values["type"] = simple if level == 0 else qualified
        if level == 3 and type_unit:
            values["type"] = f"{qualified} in {unit.path}"
        values["member"] = member_sig if level >= 2 else member_plain
        values["topic"] = topic if level == 0 else f"{topic} in {unit.path}"
        levels.append(values)
    return levels


@lru_cache(maxsize=4096)
def _doc(javadoc: str):
    return parse_javadoc(javadoc)


def _in_scope(scope: str, unit: Unit) -> bool:
    if scope == "any":
        return True
    return is_test_path(unit.path) == (scope == "test")


def _meets(req: str, unit: Unit, ctx: _FileContext) -> bool:
    if req == "not_changelog":
        return changelog_version(unit) is None
    if req == "changelog":
        return changelog_version(unit) is not None
    if req == "javadoc":
        return bool(unit.javadoc and unit.javadoc.strip())
    if req == "prose":
        return bool(unit.javadoc) and has_prose(_doc(unit.javadoc))
    if req == "informative_annotations":  # one with arguments: `@Test` alone says little
        return any(
            "(" in a and annotation_name(a) not in BARE_ANNOTATIONS for a in unit.annotations
        )
    if req == "package_not_in_path":
        return bool(unit.package) and unit.package.replace(".", "/") not in unit.path
    if req == "methods":
        return bool(_api_methods(unit, ctx))
    if req == "initializer":
        return bool(unit.initializer)
    if req == "annotations":
        return bool(unit.annotations)
    if req == "fields":
        return bool(ctx.members(unit, "field"))
    if req == "enum_constants":
        return bool(ctx.members(unit, "enum_constant"))
    if req == "constructors":
        return bool(ctx.members(unit, "constructor"))
    if req == "package":
        return bool(unit.package)
    if req == "imports":
        return bool(_import_lines(unit))
    if req == "route":
        return ctx.route(unit) is not None
    if req == "body":  # a block after the header: not `abstract void f();`
        end = header_end(unit.code, skip_annotations(unit.code))
        return end < len(unit.code) and unit.code[end] == "{"
    return False


def _api_methods(unit: Unit, ctx: _FileContext) -> list[Unit]:
    """The non-private methods a type declares, in file order."""
    return [
        m for m in ctx.members(unit, "method") if "private" not in m.modifiers and signature_of(m)
    ]


def _enum_constants(constants: list[Unit]) -> str:
    """An enum's constants as a Markdown list, each with its Javadoc summary when it has one,
    in line order (constants that share a line by name: a unit has no column).

    Example: -> "- `GET`: Reads a resource.\n- `POST`"
    """
    lines = []
    constants = sorted(constants, key=lambda u: (u.start_line, u.name))
    for unit in constants[:MAX_CONSTANTS]:
        summary = " ".join(_doc(unit.javadoc).summary.split()) if unit.javadoc else ""
        lines.append(f"- `{unit.name}`" + (f": {summary}" if summary else ""))
    if len(constants) > MAX_CONSTANTS:
        lines.append(f"- and {len(constants) - MAX_CONSTANTS} more constants")
    return "\n".join(lines)


def _import_lines(unit: Unit) -> list[str]:
    return [ln.strip() for ln in unit.code.splitlines() if ln.strip().startswith("import ")]


def _answer(kind: str, unit: Unit, ctx: _FileContext) -> tuple[str, int, int] | None:
    """(output, first line, last line) for an answer builder, or None if it has nothing."""
    span = (unit.start_line, unit.end_line)
    if kind == "code":
        text = dedent_code(unit.code)
    elif kind == "fim_middle":
        split = fim_split(unit.code, unit.id)
        text = split[1] if split else ""
    elif kind == "prose":
        text = render_markdown(_doc(unit.javadoc)) if unit.javadoc else ""
    elif kind == "methods":
        text = "\n".join(
            f"- `{' '.join((signature_of(m) or '').split())}`" for m in _api_methods(unit, ctx)
        )
    elif kind == "enum_constants":
        text = _enum_constants(ctx.members(unit, "enum_constant"))
    elif kind == "name":
        text = unit.name
    elif kind == "signature":
        text = signature_of(unit) or ""
    elif kind == "javadoc":
        text = unit.javadoc or ""
    elif kind == "initializer":
        text = dedent_code(unit.initializer or "")
    elif kind == "annotations":
        text = "\n".join(unit.annotations)
    elif kind in ("fields", "constructors"):
        members = ctx.members(unit, "field" if kind == "fields" else "constructor")
        codes = list(dict.fromkeys(dedent_code(m.code) for m in members))
        text = ("\n" if kind == "fields" else "\n\n").join(codes)
    elif kind == "owner":
        owner = ctx.owner(unit)
        if owner is None:
            return None
        top = owner
        while (outer := ctx.owner(top)) is not None:
            top = outer  # the outer types' names are part of the qualified name
        text, span = owner.qualified_name, (top.start_line, owner.end_line)
    elif kind == "package":
        text = unit.package or ""
    elif kind == "imports":
        text = "\n".join(_import_lines(unit))
    elif kind == "is_test":
        text = is_test_answer(unit.annotations, unit.name) or ""  # "": the source cannot tell
    elif kind == "route_annotations":
        route = ctx.route(unit)
        if route is None:
            return None
        owner = ctx.owner(unit)
        text = "\n".join(route[2])
        if owner is not None and len(route[2]) > 1:
            span = (owner.start_line, owner.end_line)
    else:
        return None
    text = text.strip("\n")
    if PLACEHOLDER_RE.fullmatch(text.strip("\"'")):
        return None  # a redacted value: nothing left to learn
    return (text, *span) if text.strip() else None


def _input(kind: str, unit: Unit) -> str | None:
    if kind == "none":
        return ""
    if kind == "code":
        return dedent_code(unit.code)
    if kind == "fim_code":
        split = fim_split(unit.code, unit.id)
        return split[0] if split else None
    if kind == "masked_code":
        return mask_name(dedent_code(unit.code), unit.name)
    if kind == "bare_code":
        return strip_annotations(unit.code)
    if kind == "javadoc":
        return dedent_comment(unit.javadoc) if unit.javadoc else None
    if kind == "signature":
        return signature_of(unit)
    if kind == "contract":
        signature = signature_of(unit)
        if not (unit.javadoc and signature):
            return None
        return f"{dedent_comment(unit.javadoc)}\n{signature}"
    return None


def file_candidates(
    units: list[Unit],
    seed: int = 0,
    tasks: dict[str, TaskTemplate] | None = None,
    module_of: Callable[[str], str | None] = default_module,
) -> list[Candidate]:
    """Candidates for the units of one file (file-local tasks only)."""
    if not units:
        return []
    tasks = tasks if tasks is not None else _shipped(str(templates_dir() / "instructions"))[0]
    ctx = _FileContext(units, module_of)
    out: list[Candidate] = []
    for unit in sorted(units, key=lambda u: (u.start_line, u.kind, u.id)):
        if unit.kind in MEMBER_KINDS and ctx.owner(unit) is None:
            continue
        values = None
        for task_id, task in tasks.items():
            if unit.kind not in task.kinds or task.answer not in FILE_ANSWERS:
                continue
            if not _in_scope(task.scope, unit):
                continue
            if not task_applies(unit.language, task_id):
                continue  # a task its language does not take (Language.families)
            if not all(_meets(r, unit, ctx) for r in task.requires):
                continue
            answer = _answer(task.answer, unit, ctx)
            input = _input(task.input, unit)
            if answer is None or input is None:
                continue
            values = values or _subject_values(unit, ctx)
            out.append(_candidate(task_id, task, unit, values, input, answer, ctx.module, seed))
    return out


@lru_cache(maxsize=256)
def _placeholders(*texts: str) -> list[str]:
    """Placeholders used by any of the texts, in a fixed order."""
    names = {n for text in texts for _, n, _, _ in Formatter().parse(text) if n}
    return sorted(names)


@lru_cache(maxsize=256)
def _subject_names(*phrasings: str) -> list[str]:
    """Placeholders that every phrasing shows: only those tell two questions apart.

    Example: ("Show the constructors of {type}.", "Which constructors does the {kind} {type}
    declare?") -> ["type"]: a reader of the first cannot tell a class Token from a record
    Token, so the two are one question and must be qualified.
    """
    shown = [{n for _, n, _, _ in Formatter().parse(text) if n} for text in phrasings]
    return sorted(set.intersection(*shown)) if shown else []


def _candidate(task_id, task, unit, values, input, answer, module, seed) -> Candidate:
    index = _stable_index(seed, unit.id, task_id, len(task.phrasings))
    output, first, last = answer
    return Candidate(
        subject=_subject_names(*task.phrasings),
        qualifier_subject=_placeholders(task.qualifier) if task.qualifier else [],
        task=task_id,
        template=f"{task_id}.{index}",
        phrasing=task.phrasings[index],
        qualifier=task.qualifier,
        values=values,
        max_level=task.max_level,
        input=input,
        output=output,
        unit_id=unit.id,
        unit_kind=unit.kind,
        path=unit.path,
        start_line=first,
        end_line=last,
        repo=unit.repo,
        commit=unit.commit,
        module=module,
        label=output if task.answer in LABEL_READERS else None,
    )


def trivia_tasks() -> frozenset[str]:
    """The shipped tasks marked `trivia` (facts to look up, not knowledge of the code)."""
    tasks = _shipped(str(templates_dir() / "instructions"))[0]
    return frozenset(tid for tid, task in tasks.items() if task.trivia)


def label_reader(task_id: str, tasks: dict[str, TaskTemplate] | None = None):
    """For a classification task, the function that reads its label from an input's code
    (None for other tasks). Example: label_reader("method.is_test")("@Test void a() {}")
    -> "yes"."""
    tasks = tasks if tasks is not None else _shipped(str(templates_dir() / "instructions"))[0]
    task = tasks.get(task_id)
    return LABEL_READERS.get(task.answer) if task is not None else None


def input_kind(task_id: str) -> str | None:
    """What a shipped task puts in `input` (code, javadoc, signature, none), or None for a
    task that is not a template task. Example: input_kind("method.is_test") -> "code"."""
    task = _shipped(str(templates_dir() / "instructions"))[0].get(task_id)
    return task.input if task is not None else None


# -- cross-file candidates: which test covers a method ----------------------------------


def coverage_candidates(
    units: list[Unit],
    seed: int = 0,
    tasks: dict[str, TaskTemplate] | None = None,
    module_of: Callable[[str], str | None] = default_module,
) -> list[Candidate]:
    """`test.covers` candidates: test methods matched by name to the methods they test."""
    tasks = tasks if tasks is not None else _shipped(str(templates_dir() / "instructions"))[0]
    covers = [(tid, t) for tid, t in tasks.items() if t.answer in ("tests", "test_code")]
    if not covers:
        return []
    types: dict[str, list[Unit]] = defaultdict(list)
    methods: dict[str, dict[str, list[Unit]]] = defaultdict(lambda: defaultdict(list))
    by_path: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_path[unit.path].append(unit)
        if unit.kind in TYPE_KINDS and not is_test_path(unit.path):
            types[unit.name].append(unit)
        elif unit.kind == "method" and unit.parent and not is_test_path(unit.path):
            methods[unit.parent][unit.name].append(unit)
    out: list[Candidate] = []
    for path in sorted(by_path):
        subject_name = test_subject(path)
        if not (is_test_path(path) and subject_name and subject_name in types):
            continue
        module = module_of(path)
        subjects = types[subject_name]
        same_module = [t for t in subjects if module_of(t.path) == module]
        if len(subjects) > 1 and len(same_module) != 1:
            continue  # the name does not make the subject clear
        subject = same_module[0] if same_module else subjects[0]
        out += _covers_for_file(by_path[path], subject, methods, covers, module, seed)
    return out


def _covers_for_file(file_units, subject, methods, covers, module, seed) -> list[Candidate]:
    targets = {**methods.get(subject.id, {}), **methods.get(subject.qualified_name, {})}
    names = set(targets)
    tests = [
        u
        for u in file_units
        if u.kind == "method"
        and (any(annotation_name(a) == "Test" for a in u.annotations) or u.name.startswith("test"))
    ]
    by_target: dict[str, list[Unit]] = defaultdict(list)
    for test in sorted(tests, key=lambda u: u.start_line):
        target = test_target(test.name, names)
        if target:
            by_target[target].append(test)
    top = next((u for u in file_units if u.kind in TYPE_KINDS and u.parent is None), None)
    out = []
    for target, found in sorted(by_target.items()):
        unit = found[0] if len(found) == 1 or top is None else top
        output = "\n\n".join(dedent_code(t.code) for t in found)
        span = (min(t.start_line for t in found), max(t.end_line for t in found))
        values = []
        for level in range(LEVELS):
            type_name = subject.name if level == 0 else subject.qualified_name
            if level == 3:
                type_name = f"{subject.qualified_name} in {subject.path}"
            values.append({"type": type_name, "member": target, "name": target, "file": unit.path})
        for task_id, task in covers:
            if task.answer == "tests":
                answer = (output, *span)
                cand = _candidate(task_id, task, unit, values, "", answer, module, seed)
            else:  # write a test: the method under test is the unit, its code the input
                main = sorted(targets[target], key=lambda u: (u.start_line, u.id))
                if len(main) != 1 or not _meets("body", main[0], None):
                    continue  # overloads: the test name does not say which one
                input = dedent_code(main[0].code)
                answer = (output, main[0].start_line, main[0].end_line)  # the unit's span
                cand = _candidate(task_id, task, main[0], values, input, answer, module, seed)
            cand.requires_symbol = [subject.qualified_name, target]
            out.append(cand)
    return out


# -- resolution -----------------------------------------------------------------------


def resolve(candidates: list[Candidate]) -> tuple[list[Pair], dict[str, int]]:
    """Qualify colliding instructions until each has one answer; drop what still conflicts.

    Returns the pairs (sorted by id) and counters: `qualified` (candidates raised above
    level 0) and `conflicts_dropped`.
    """
    keys = [[c.key(level) for level in range(c.max_level + 1)] for c in candidates]
    for cand in candidates:
        cand.level = 0
    while True:
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, cand in enumerate(candidates):
            groups[keys[i][cand.level]].append(i)
        raised = False
        for group in groups.values():
            if len({candidates[i].output for i in group}) < 2:
                continue
            for i in group:
                if candidates[i].level < candidates[i].max_level:
                    candidates[i].level += 1
                    raised = True
        if not raised:
            break
    # Subjects that still collide (in any phrasing) are ambiguous questions: drop them all.
    answers: dict[tuple, set[str]] = defaultdict(set)
    for i, cand in enumerate(candidates):
        answers[keys[i][cand.level]].add(cand.output)
    clear = [c for i, c in enumerate(candidates) if len(answers[keys[i][c.level]]) == 1]
    clear = _with_both_labels(clear)
    pairs, stats = _final_check(clear)
    stats["conflicts_dropped"] += len(candidates) - len(clear)
    stats["qualified"] = sum(1 for c in candidates if c.level > 0)
    return pairs, stats


def _with_both_labels(candidates: list[Candidate]) -> list[Candidate]:
    """Drop a classification task whose candidates all carry one label: a repository with
    no tests gives only `no` to "is this a test?", which teaches nothing."""
    labels: dict[str, set[str]] = defaultdict(set)
    for cand in candidates:
        if cand.label is not None:
            labels[cand.task].add(cand.label)
    one = {task for task, seen in labels.items() if len(seen) < 2}
    return [c for c in candidates if c.task not in one] if one else candidates


def _final_check(candidates: list[Candidate]) -> tuple[list[Pair], dict[str, int]]:
    pairs = [c.to_pair() for c in candidates]
    outputs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pair in pairs:
        outputs[(pair.instruction, pair.input)].add(pair.output)
    kept = {p.id: p for p in pairs if len(outputs[(p.instruction, p.input)]) == 1}
    stats = {
        "qualified": sum(1 for c in candidates if c.level > 0),
        "conflicts_dropped": len(pairs) - sum(1 for p in pairs if p.id in kept),
    }
    return sorted(kept.values(), key=lambda p: p.id), stats


def generate_template_pairs(
    units: list[Unit],
    seed: int = 0,
    module_of: Callable[[str], str | None] = default_module,
) -> list[Pair]:
    """Grounded pairs for a repository's units, deterministic for a seed.

    Example: generate_template_pairs(slice_repo("fixtures/hotel-booking").units)
    -> [Pair(task="method.explain", instruction="How does getBooking of BookingController
    work?", output="@GetMapping(...) public Booking getBooking(...) {...}", ...), ...]
    """
    by_path: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_path[unit.path].append(unit)
    candidates = [
        c
        for path in sorted(by_path)
        for c in file_candidates(by_path[path], seed, module_of=module_of)
    ]
    candidates += repo_level_candidates(units, seed, module_of=module_of)
    return resolve(candidates)[0]


def repo_level_candidates(
    units: list[Unit],
    seed: int = 0,
    tasks: dict[str, TaskTemplate] | None = None,
    module_of: Callable[[str], str | None] = default_module,
) -> list[Candidate]:
    """The candidates of the repository-level families (tests, usage, API, relations)."""
    from dataprep.generate.families import RepoView, repo_candidates

    tasks = tasks if tasks is not None else _shipped(str(templates_dir() / "instructions"))[0]
    return repo_candidates(RepoView(units, module_of), tasks, seed)
