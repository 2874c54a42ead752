"""Rows answerable from their own prompt: the answer shown in the instruction or input,
declared there, read off the path, or given away by a label task's cue."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath
from typing import Any

from dataprep.generate.java_facts import TEST_ANNOTATIONS

IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
LABEL_ANSWERS = frozenset({"yes", "no", "true", "false"})
TEST_ANNOTATION_RE = re.compile(
    r"@\s*(?:[\w$]+\s*\.\s*)*(?:" + "|".join(sorted(TEST_ANNOTATIONS)) + r")\b"
)
TEST_NAME_RE = re.compile(r"[\w$>\]][ \t\n]+(?:test[\w$]*|[\w$]*Test(?:[A-Z\d_][\w$]*)?)\s*\(")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def shows_test_cue(text: str) -> bool:
    """The give-away of `method.is_test`: a test annotation, or a method named like a test.

    Example: shows_test_cue("@Test void cancels() {}") -> True;
    shows_test_cue("void cancel() {}") -> False.
    """
    if TEST_ANNOTATION_RE.search(text):
        return True
    brace = text.find("{")
    return bool(TEST_NAME_RE.search(text[: brace if brace >= 0 else len(text)]))


# label task -> the cue in its input that tells the `yes` label
LABEL_CUES: dict[str, Callable[[str], bool]] = {"method.is_test": shows_test_cue}


def _occurs(haystack: str, needle: str) -> bool:
    """`needle` in `haystack`, not inside a longer word at either end."""
    at, n = 0, len(needle)
    word_start, word_end = needle[0] in _WORD_CHARS, needle[-1] in _WORD_CHARS
    while (at := haystack.find(needle, at)) >= 0:
        before = haystack[at - 1] if at else " "
        after = haystack[at + n] if at + n < len(haystack) else " "
        if not (word_start and before in _WORD_CHARS) and not (word_end and after in _WORD_CHARS):
            return True
        at += 1
    return False


_DECL_BEFORE = re.compile(r"(?:[\w$>\]]|\bclass|\binterface|\benum|\brecord|@interface)\s+$")
_DECL_AFTER = re.compile(r"\s*(?:[(<{=;,]|extends\b|implements\b|permits\b|$)")
_NOT_TYPES = frozenset({"return", "new", "throw", "else", "case", "yield", "assert"})


def declares(text: str, name: str) -> bool:
    """True when `text` declares `name` (a type, method, field or variable).

    Example: declares("public int nights() { return n; }", "nights") -> True;
    declares("return nights();", "nights") -> False.
    """
    at = 0
    while (at := text.find(name, at)) >= 0:
        end = at + len(name)
        before = text[max(0, at - 40) : at]
        ok_edges = (not at or text[at - 1] not in _WORD_CHARS) and (
            end >= len(text) or text[end] not in _WORD_CHARS
        )
        if ok_edges and _DECL_BEFORE.search(before) and _DECL_AFTER.match(text, end):
            words = before.split()
            if not words or words[-1] not in _NOT_TYPES:
                return True
        at = end
    return False


def _path_names(path: str) -> tuple[str, str, str]:
    """(dotted directory, dotted directory + stem, stem) of a source path."""
    p = PurePosixPath(path)
    directory = ".".join(p.parent.parts)
    return directory, f"{directory}.{p.stem}" if directory else p.stem, p.stem


def _from_path(path: str, answer: str, prompt: str) -> bool:
    if not path or path not in prompt or not IDENT_RE.fullmatch(answer):
        return False
    directory, qualified, stem = _path_names(path)
    return (
        answer == stem
        or any(answer == d or d.endswith("." + answer) for d in (directory, qualified) if d)
        and "." in answer
    )


def answerable(row: dict, label_leaks: set[str] = frozenset()) -> str | None:
    """Why the row's answer can be read from its prompt (None when it cannot).

    `label_leaks`: label tasks whose `yes` rows mostly show the cue, so that its absence
    gives `no` away too.

    Example: answerable({"task": "method.name", "instruction": "Name this method.",
    "input": "void cancel() {}", "output": "cancel", ...}) -> "declared name in the input"
    """
    output = " ".join(row["output"].split())
    if not output:
        return None
    task, text = row["task"], row["input"] or ""
    cue = LABEL_CUES.get(task)
    if cue is not None or row.get("label") or output.lower() in LABEL_ANSWERS:
        if cue is None:
            return None
        shown = cue(text)
        if output.lower() == "yes" and shown:
            return "label cue in the input"
        if output.lower() == "no" and not shown and task in label_leaks:
            return "label cue absent (the task's yes rows show it)"
        return None
    prompt = row["instruction"] + "\n" + text
    if len(output) > len(prompt):  # whitespace-normalised, it still could not occur
        return None
    if _from_path(row.get("path") or "", output, prompt):
        return "the path shows it"
    if IDENT_RE.fullmatch(output):
        if "." not in output:
            return "declared name in the input" if declares(text, output) else None
        return "in the prompt" if _occurs(prompt, output) else None
    if len(output) >= 4 and _occurs(" ".join(prompt.split()), output):
        return "in the prompt"
    return None


def leaky_labels(rows: Iterable[Any]) -> set[str]:
    """Label tasks whose `yes` rows mostly (≥ 50%) show the cue in their input."""
    shown, yes = Counter(), Counter()
    for row in rows:
        row = row if isinstance(row, dict) else row.__dict__
        cue = LABEL_CUES.get(row["task"])
        if cue is not None and row["output"].strip().lower() == "yes":
            yes[row["task"]] += 1
            shown[row["task"]] += cue(row["input"] or "")
    return {task for task, n in yes.items() if shown[task] * 2 >= n}
