"""Code filters: Java in outputs (and LLM-written inputs) must parse, and a classification
pair's label must be what its input tells."""

from __future__ import annotations

import re
from functools import lru_cache

from dataprep.filters.core import Context, DigestMemo, FilterConfig, register
from dataprep.generate.tasks import input_kind, label_reader
from dataprep.models import Pair

FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)
CODE_START_RE = re.compile(
    r"^\s*(?:@\w+|(?:public|private|protected|static|final|abstract|default|synchronized|native|"
    r"sealed|non-sealed|strictfp|transient|volatile)\b|(?:class|interface|enum|record|package|import)\s)"
)


def code_blocks(pair: Pair, config: FilterConfig, text: str | None = None) -> list[str]:
    """Java code in the output (or `text`): fenced blocks (java or unlabelled), or the whole
    text when the task is a code task or the text reads like a declaration."""
    text = pair.output if text is None else text
    blocks = [body for lang, body in FENCE_RE.findall(text) if lang.lower() in ("", "java")]
    if blocks:
        return blocks
    if "```" not in text and (pair.task in config.code_tasks or CODE_START_RE.match(text)):
        if pair.unit_kind != "doc_section":
            return [text]
    return []


@lru_cache(maxsize=1)
def _java_parser():
    import tree_sitter_java
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_java.language()))


def _parses(source: str) -> bool:
    return not _java_parser().parse(source.encode("utf-8")).root_node.has_error


def java_parses(code: str) -> bool:
    """Does `code` parse as Java as a file, a type header, a member or statements?

    Example: java_parses("int x = 1;") -> True; java_parses("int x = ;") -> False.
    """
    return _JAVA_PARSES.get_or(code, _java_parses)  # a unit's code is in several pairs


def _java_parses(code: str) -> bool:
    stripped = code.strip()
    if not stripped:
        return False
    tries = [
        stripped,
        f"class __Wrap__ {{\n{stripped}\n}}",
        f"{stripped} {{}}",
        f"class __Wrap__ {{ void __m__() {{\n{stripped}\n}} }}",
        f"class __Wrap__ {{\n{stripped} {{}}\n}}",  # a member's signature line
        f"{stripped}\nclass __Wrap__ {{}}",  # annotations alone
        f"record __Wrap__() {{\n{stripped} {{}}\n}}",  # a compact constructor's header
    ]
    if not stripped.endswith(("}", ";")):  # a header or a signature: their wrappings first
        tries = [tries[2], tries[4], tries[0], tries[1], tries[3], tries[5], tries[6]]
    # Any order gives the same answer; this one parses 1.2 times a block on java.base (2.0)
    return any(_parses(source) for source in tries)


@register(
    "code_validity",
    "code in outputs parses in its source's language with tree-sitter (no ERROR/MISSING nodes)",
    ("code_tasks",),
    cacheable=True,
)
def code_validity(pair: Pair, ctx: Context) -> str | None:
    name, parses = _language_of(pair)
    for number, block in enumerate(code_blocks(pair, ctx.config), start=1):
        if not parses(block):
            return f"code block {number} does not parse as {name}"
    if pair.generator == "output_first" and pair.input:  # the LLM wrote the input: check it too
        for number, block in enumerate(_input_code(pair, ctx.config), start=1):
            if not parses(block):
                return f"code block {number} of the input does not parse as {name}"
    return None


def _language_of(pair: Pair):
    """(title, validity parser) of the pair's source language; Java for docs and unknowns."""
    from dataprep import languages

    language = languages.language_for_path(pair.path)
    if language is None or language.name == "java":
        return "Java", java_parses
    return language.title, _cached(language.parses)


@lru_cache(maxsize=16)
def _cached(parses):
    memo = DigestMemo()
    return lambda text: memo.get_or(text, parses)


_JAVA_PARSES = DigestMemo()


def _input_code(pair: Pair, config: FilterConfig) -> list[str]:
    """Code in an LLM-written input: its fenced blocks, else all of it when the task's
    input is code (a method that starts `void x()` reads like prose to CODE_START_RE)."""
    blocks = code_blocks(pair, config, pair.input)
    if not blocks and "```" not in pair.input and input_kind(pair.task) in CODE_INPUTS:
        return [pair.input]
    return blocks


# Inputs that are code: as written, with its annotations stripped, or with its name masked.
CODE_INPUTS = ("code", "bare_code", "masked_code")


@register(
    "label_mismatch",
    "a classification pair's input must have its label where the source tells it "
    "(method.is_test: a test annotation on the method); an input that hides what gives the "
    "label away was checked where it was written (the slicer, output-first generation)",
)
def label_mismatch(pair: Pair, ctx: Context) -> str | None:
    if not pair.label or input_kind(pair.task) == "bare_code":
        return None
    read = label_reader(pair.task)
    if read is None:
        return None
    found = read(pair.input)
    if found != pair.label:
        told = f"says {found!r}" if found else "does not tell"
        return f"label {pair.label!r} but the input {told}"
    return None
