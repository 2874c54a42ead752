"""Text filters: empty or placeholder outputs, length bounds, refusals, template words,
and the context length of the rendered prompt."""

from __future__ import annotations

import re

from dataprep.filters.core import WORD_RE, Context, register
from dataprep.models import Pair
from dataprep.prompts import render_alpaca

PLACEHOLDERS = {
    "",
    "todo",
    "tbd",
    "n/a",
    "na",
    "none",
    "null",
    "...",
    "…",
    "-",
    "placeholder",
    "lorem ipsum",
    "your answer here",
    "answer here",
    "insert answer here",
    "output",
    "response",
    "<output>",
    "<response>",
    "[output]",
}
STOP_WORDS = set(
    "a an the and or but if of to in on at by for with as is are was were be been it this that "
    "these those i you he she we they me my your our their its not no yes so do does did".split()
)


@register(
    "empty_output",
    "outputs that are empty, a placeholder, or only punctuation and stop words",
    cacheable=True,
)
def empty_output(pair: Pair, ctx: Context) -> str | None:
    text = pair.output.strip()
    if text.strip("`'\"").strip().lower().rstrip(".") in PLACEHOLDERS:
        return f"empty or placeholder output ({text[:20]!r})"
    if WORD_RE.search(text) is None:
        return "output is only punctuation"
    if pair.label is None and _only_stop_words(text):
        return "output is only stop words"
    return None


def _only_stop_words(text: str) -> bool:
    """Whether `text` has more than two words, all of them stop words: its words read one
    at a time, never all of them (the first that is not a stop word ends the look).
    Example: _only_stop_words("it is the") -> True; _only_stop_words("it is rooms") -> False."""
    count = 0
    for m in WORD_RE.finditer(text):
        if m.group(0).lower() not in STOP_WORDS:
            return False
        count += 1
    return count > 2


@register(
    "length",
    "output length bounds in characters and tokens",
    ("min_output_chars", "max_output_chars", "min_output_tokens", "max_output_tokens", "tokenizer"),
    cacheable=True,
)
def length(pair: Pair, ctx: Context) -> str | None:
    cfg, n = ctx.config, len(pair.output.strip())
    if n < cfg.min_output_chars:
        return f"output has {n} characters < {cfg.min_output_chars}"
    if n > cfg.max_output_chars:
        return f"output has {n} characters > {cfg.max_output_chars}"
    tokens = ctx.count_tokens(pair.output)
    if tokens < cfg.min_output_tokens:
        return f"output has {tokens} tokens < {cfg.min_output_tokens}"
    if tokens > cfg.max_output_tokens:
        return f"output has {tokens} tokens > {cfg.max_output_tokens}"
    return None


REFUSAL_HINTS = (
    "sorry",
    "apologi",
    "as an ai",
    "language model",
    "can't",
    "cannot",
    "unable",
    "not able",
)
REFUSAL_RE = re.compile(
    r"\b(sorry|i apologi[sz]e|as an ai|as a language model"
    r"|i can(?:'|no)t (?:help|assist|provide|answer|do)"
    r"|i am (?:not able|unable) to|i'm (?:not able|unable) to"
    r"|i cannot (?:help|assist|provide|answer|determine|access|see))\b",
    re.I,
)


@register(
    "refusal",
    "refusals and apologies in short outputs (Evol-Instruct case 2)",
    ("refusal_max_words",),
    cacheable=True,
)
def refusal(pair: Pair, ctx: Context) -> str | None:
    lower = pair.output.lower()
    if not any(hint in lower for hint in REFUSAL_HINTS):  # substring checks before the regex
        return None
    prose = prose_part(pair.output)  # "Sorry" in a string literal of code is not a refusal
    match = REFUSAL_RE.search(prose)
    if match and len(prose.split()) < ctx.config.refusal_max_words:
        return f"refusal ({match.group(0)!r} in a short output)"
    return None


_FENCED = re.compile(r"```.*?(?:```|\Z)", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_CODE_LINE = re.compile(
    r"^\s*(?:[@}{]|//|/?\*|import\s|package\s|return\b|(?:public|private|protected|static|"
    r"final|void|class|interface|enum|record|if|for|while|try|catch|throw|new)\b)|[;{}]\s*$"
)


def prose_part(text: str) -> str:
    """The prose of an answer: without fenced or inline code, code lines, string literals.

    Example: prose_part('throw new E("Sorry, no room");') -> ""
    """
    text = _INLINE_CODE.sub(" ", _FENCED.sub(" ", text))
    lines = [line for line in text.splitlines() if not _CODE_LINE.search(line)]
    return _STRING.sub(" ", "\n".join(lines))


TEMPLATE_HINTS = (
    "prompt",
    "###",
    "<|im_",
    "below is an instruction",
    "inst]",
    "<<sys>>",
    "<</sys>>",
)
TEMPLATE_WORDS_RE = re.compile(
    r"#?(?:given|rewritten|created|original) prompt#?|### (?:instruction|input|response):"
    r"|<\|im_(?:start|end)\|>|below is an instruction that describes a task|\[/?inst\]|<</?sys>>",
    re.I,
)


@register(
    "template_words",
    "prompt-template words leaking into a pair (Evol-Instruct case 4, Alpaca markers)",
    cacheable=True,
)
def template_words(pair: Pair, ctx: Context) -> str | None:
    for name in ("instruction", "input", "output"):
        text = getattr(pair, name)
        lower = text.lower()
        if not any(hint in lower for hint in TEMPLATE_HINTS):
            continue
        match = TEMPLATE_WORDS_RE.search(text)
        if match:
            return f"template words {match.group(0).strip()!r} in the {name}"
    return None


@register(
    "context_length",
    "rendered Alpaca prompt + answer + EOS fits --max-seq-len",
    ("max_seq_len", "tokenizer"),
    cacheable=True,
)
def context_length(pair: Pair, ctx: Context) -> str | None:
    tokens = (
        ctx.count_tokens(render_alpaca(pair.instruction, pair.input, pair.output)) + 2
    )  # BOS + EOS
    if tokens > ctx.config.max_seq_len:
        return f"{tokens} tokens > max_seq_len {ctx.config.max_seq_len}"
    return None
