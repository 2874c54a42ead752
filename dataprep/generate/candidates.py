"""Template candidates: a question about one unit, before its qualification level is known.

A candidate carries its instruction's placeholder values at four qualification levels (0
simple names, 1 qualified type names, 2 member signatures, 3 the file's path);
`dataprep.generate.templates.resolve` picks each candidate's level. `file_candidates`
builds the per-file ones (what the pipeline caches per file), from a fixed set of answer
builders, so that every output is text the source says; the repository-level families
(dataprep.generate.families) build theirs with `FileContext`, `subject_values` and
`make_candidate`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import PurePosixPath

from pydantic_core import from_json, to_json

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
    is_test_path,
    join_route,
    mapping_method,
    mapping_path,
    member_params,
    signature_of,
    skip_annotations,
)
from dataprep.generate.javadoc import javadoc_has_prose, parse_javadoc, render_markdown
from dataprep.generate.tasks import (
    FILE_ANSWERS,
    LABEL_READERS,
    LEVELS,
    TaskTemplate,
    placeholders,
    shipped_tasks,
    subject_names,
)
from dataprep.languages import semicolons, task_applies
from dataprep.models import MEMBER_KINDS, TYPE_KINDS, Pair, Unit
from dataprep.secrets import PLACEHOLDER_RE
from dataprep.slicing.changelog import changelog_version

MAX_CONSTANTS = 40  # an enum's constants listed in one answer (then "and N more")

# Annotations that say little on their own: an answer made only of these is trivia.
BARE_ANNOTATIONS = frozenset(
    "Override Test Deprecated FunctionalInterface SafeVarargs Nullable NonNull Nonnull "
    "BeforeEach AfterEach BeforeAll AfterAll Before After".split()
)


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
        names = self.subject + self.qualifier_subject if level else self.subject
        values = self.values[level]
        return (self.task, tuple([values.get(n, "") for n in names]), self.input)

    def instruction(self, level: int) -> str:
        values = self.values[level]
        text = self.phrasing.format_map(values)
        if level and self.qualifier and text == self.phrasing.format_map(self.values[0]):
            text = f"{text} {self.qualifier.format_map(values)}"
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
        return {name: self.__dict__[name] for name in _FIELD_NAMES}


def dump_candidates(candidates: list[Candidate], encoded: bool = False) -> str | bytes:
    """`candidates_data` as JSON (`encoded`: in UTF-8, what the store compresses)."""
    data = to_json(candidates_data(candidates))
    return data if encoded else data.decode("utf-8")


def candidates_data(candidates: list[Candidate]) -> dict:
    """`{"values": [...], "candidates": [row, ...]}`: a unit's candidates share values."""
    values = {id(cand.values): cand.values for cand in candidates}  # in order, shared once
    at = {key: i for i, key in enumerate(values)}
    rows = [dict(c.__dict__) if len(c.__dict__) == _N_FIELDS else c.to_json() for c in candidates]
    for row in rows:  # a candidate's own dict holds its fields in order (`to_json` builds one)
        row["values"] = at[id(row["values"])]
    return {"values": list(values.values()), "candidates": rows}


def load_candidates(text: str | dict) -> list[Candidate]:
    """The inverse of `dump_candidates` (of its JSON, or of that JSON read)."""
    data = from_json(text) if isinstance(text, str) else text
    values, out = data["values"], []
    for row in data["candidates"]:
        row["values"] = values[row["values"]]
        if len(row) == _N_FIELDS:  # every field, as `to_json` writes them: no __init__ needed
            cand = object.__new__(Candidate)
            cand.__dict__ = row
        else:
            cand = Candidate(**row)
        out.append(cand)
    return out


_FIELD_NAMES = tuple(f.name for f in fields(Candidate))
_N_FIELDS = len(_FIELD_NAMES)


@lru_cache(maxsize=1 << 16)
def default_module(path: str) -> str | None:
    """The first path component, when the file is not at the top: `auth/src/A.java` -> `auth`."""
    parts = PurePosixPath(path).parts
    return parts[0] if len(parts) > 1 else None


def _stable_index(seed: int, unit_id: str, task: str, n: int) -> int:
    """Which phrasing a unit gets for a task: a hash, so re-runs choose the same one."""
    digest = hashlib.blake2b(f"{seed}\x00{unit_id}\x00{task}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


# -- per-file candidates ------------------------------------------------------------


class FileContext:
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


def subject_values(unit: Unit, ctx: FileContext) -> list[dict[str, str]]:
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


@lru_cache(maxsize=64)
def _fim_split(code: str, key: str, language: str) -> tuple[str, str] | None:
    """`fim_split`, once a unit: its task's input and its answer both ask for it."""
    return fim_split(code, key, semicolons=semicolons(language))


def _in_scope(scope: str, unit: Unit) -> bool:
    if scope == "any":
        return True
    return is_test_path(unit.path) == (scope == "test")


def meets(req: str, unit: Unit, ctx: FileContext) -> bool:
    if req == "not_changelog":
        return changelog_version(unit) is None
    if req == "changelog":
        return changelog_version(unit) is not None
    if req == "javadoc":
        return bool(unit.javadoc and unit.javadoc.strip())
    if req == "prose":
        return bool(unit.javadoc) and javadoc_has_prose(unit.javadoc)
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


def _api_methods(unit: Unit, ctx: FileContext) -> list[Unit]:
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


def _answer(kind: str, unit: Unit, ctx: FileContext) -> tuple[str, int, int] | None:
    """(output, first line, last line) for an answer builder, or None if it has nothing."""
    span = (unit.start_line, unit.end_line)
    if kind == "code":
        text = dedent_code(unit.code)
    elif kind == "fim_middle":
        split = _fim_split(unit.code, unit.id, unit.language)
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


def _input(kind: str, unit: Unit, ctx: FileContext | None = None) -> str | None:
    if kind == "none":
        return ""
    if kind == "code":
        return dedent_code(unit.code)
    if kind == "fim_code":
        split = _fim_split(unit.code, unit.id, unit.language)
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
    tasks = tasks if tasks is not None else shipped_tasks()
    ctx = FileContext(units, module_of)
    out: list[Candidate] = []
    by_kind: dict[str, list[tuple[str, TaskTemplate]]] = {}  # the file-local tasks of a kind
    for unit in sorted(units, key=lambda u: (u.start_line, u.kind, u.id)):
        if unit.kind in MEMBER_KINDS and ctx.owner(unit) is None:
            continue
        if unit.kind not in by_kind:
            by_kind[unit.kind] = [
                (task_id, task)
                for task_id, task in tasks.items()
                if unit.kind in task.kinds and task.answer in FILE_ANSWERS
            ]
        values = None
        known: dict[tuple[str, str], object] = {}  # what its tasks share, built once
        for task_id, task in by_kind[unit.kind]:
            if not _in_scope(task.scope, unit) or not task_applies(unit.language, task_id):
                continue  # (a task its language does not take: Language.families)
            if not all(_known(known, meets, r, unit, ctx) for r in task.requires):
                continue
            answer = _known(known, _answer, task.answer, unit, ctx)
            input = _known(known, _input, task.input, unit, ctx)
            if answer is None or input is None:
                continue
            values = values or subject_values(unit, ctx)
            out.append(make_candidate(task_id, task, unit, values, input, answer, ctx.module, seed))
    return out


def _known(known: dict, build: Callable, kind: str, unit: Unit, ctx: FileContext):
    """`build(kind, unit, ctx)` (`meets`, `_answer`, `_input`), once a unit (`known`)."""
    if (build.__name__, kind) not in known:
        known[build.__name__, kind] = build(kind, unit, ctx)
    return known[build.__name__, kind]


def make_candidate(task_id, task, unit, values, input, answer, module, seed) -> Candidate:
    index = _stable_index(seed, unit.id, task_id, len(task.phrasings))
    output, first, last = answer
    cand = object.__new__(Candidate)  # its fields as `Candidate(...)` sets them, in order
    cand.__dict__ = {
        "task": task_id,
        "template": f"{task_id}.{index}",
        "phrasing": task.phrasings[index],
        "qualifier": task.qualifier,
        "values": values,
        "max_level": task.max_level,
        "input": input,
        "output": output,
        "unit_id": unit.id,
        "unit_kind": unit.kind,
        "path": unit.path,
        "start_line": first,
        "end_line": last,
        "repo": unit.repo,
        "commit": unit.commit,
        "module": module,
        "level": 0,
        "requires_symbol": [],
        "subject": subject_names(*task.phrasings),
        "qualifier_subject": placeholders(task.qualifier) if task.qualifier else [],
        "label": output if task.answer in LABEL_READERS else None,
    }
    return cand
