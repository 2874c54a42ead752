"""The measures, their titles and goals: a goal is `value op target`, a share or a count."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    """A target for a measure: `value op target`, a share (0..1) or a count."""

    op: str
    target: float
    share: bool = True

    def met(self, value: float) -> bool:
        return value <= self.target if self.op == "<=" else value >= self.target

    def shown(self, value: float) -> str:
        """`fmt(value)`, with one more decimal where rounding would show a missed goal's
        value as its target. Example: Goal(">=", 0.95).shown(0.9462) -> "94.6%"."""
        shown = fmt(value, self.share)
        if self.share and not self.met(value) and shown == fmt(self.target, self.share):
            for digits in (1, 2, 3, 4):
                shown = f"{value * 100:.{digits}f}%"
                if float(shown[:-1]) != round(self.target * 100, digits):
                    break
        return shown

    def text(self) -> str:
        sign = "≤" if self.op == "<=" else "≥"
        return f"{sign} {fmt(self.target, self.share)}"


def fmt(value: float, share: bool = True) -> str:
    """A share as a percent, a count as an integer. Example: fmt(0.3125) -> "31.2%"."""
    if not share:
        return str(int(value))
    pct = value * 100
    return (f"{pct:.0f}" if pct >= 10 else f"{pct:.1f}").removesuffix(".0") + "%"


# name -> (title, goal), in the order of the report's table
MEASURES: dict[str, tuple[str, Goal]] = {
    "answerable": ("rows answerable from the prompt", Goal("<=", 0.03)),
    "undedented": ("multi-line code not dedented", Goal("<=", 0.005)),
    "explanation_without_prose": (
        "explanation instructions answered without prose",
        Goal("<=", 0.05),
    ),
    "markup_in_prose": ("raw markup in prose answers", Goal("<=", 0.02)),
    "coverage": (
        "non-private main-code methods and types with a knowledge pair",
        Goal(">=", 0.95),
    ),
    "test_trivia": ("trivia about test code", Goal("<=", 0.05)),
    "bare_annotations": ("bare-annotation answers", Goal("<=", 0.01)),
    "non_doc_docs": ("doc rows from non-doc files", Goal("<=", 0, share=False)),
    "replacement_chars": ("rows with replacement characters (U+FFFD)", Goal("<=", 0, False)),
    "families": ("knowledge families beyond code recall with ≥ 1% of rows", Goal(">=", 5, False)),
}
SHORT_NAMES = {
    "answerable": "answerable from the prompt",
    "undedented": "undedented code",
    "explanation_without_prose": "explanations without prose",
    "markup_in_prose": "markup in prose",
    "coverage": "main-code coverage",
    "test_trivia": "test trivia",
    "bare_annotations": "bare annotations",
    "non_doc_docs": "non-doc doc rows",
    "replacement_chars": "U+FFFD rows",
    "families": "knowledge families",
}
