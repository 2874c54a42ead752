"""Filters: a registry of named checks, each `pair -> reason or None`, run as one chain.

Every pair that reaches a filter gets a `Decision` under the stage `filter.<name>`
(kept or dropped, with the reason), so a dropped pair stays in the store and says why.
The chain runs in registry order and a pair dropped by one filter is not shown to the
next, so the counts form a funnel.

Per-pair filters are pure functions of `(pair, ctx)`; `ctx` carries the configuration,
the repository's symbol index and the token counter. Set filters (`exact_duplicate`,
`conflict`, `near_duplicate`) look at all surviving pairs at once and keep one
deterministically: template pairs over output-first over evol, then the smallest id.

Example:
    report = run_filters(store, FilterConfig(max_seq_len=1024))
    report.kept, report.dropped["near_duplicate"]
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any

import numpy as np

from dataprep.errors import ConfigError
from dataprep.generate.templates import input_kind, label_reader
from dataprep.models import Decision, Pair, Unit
from dataprep.prompts import render_alpaca

STAGE_PREFIX = "filter."
DECONTAMINATE_STAGE = "decontaminate"
GENERATOR_RANK = {"template": 0, "output_first": 1, "evol": 2}

# A documented estimate when no tokenizer is given: code and English average 3.5 to 4
# characters per token in current BPE vocabularies; 3.0 over-counts on purpose, so an
# estimated pair that fits also fits the real tokenizer (a dropped row is cheaper than
# a row the trainer silently drops or truncates).
CHARS_PER_TOKEN_ESTIMATE = 3.0


@dataclass
class FilterConfig:
    """Settings of the filter chain (each filter reads only its own)."""

    min_output_chars: int = 1
    """Outputs shorter than this (stripped) are dropped."""
    max_output_chars: int = 20_000
    """Outputs longer than this are dropped."""
    min_output_tokens: int = 1
    """Outputs with fewer tokens than this are dropped."""
    max_output_tokens: int = 4_096
    """Outputs with more tokens than this are dropped."""
    max_seq_len: int = 2_048
    """Rendered Alpaca prompt + answer + EOS longer than this (tokens) is dropped."""
    tokenizer: str | None = None
    """Local path or Hub id of the target model's tokenizer; None: chars/3.0 estimate."""
    refusal_max_words: int = 80
    """A refusal phrase drops the pair only when the output is shorter than this."""
    code_tasks: tuple[str, ...] = ()
    """Tasks whose whole output is Java code (besides outputs that look like code)."""
    grounding_generators: tuple[str, ...] = ("evol", "output_first")
    """Generators whose outputs are checked against the symbol table (template answers
    are the source itself)."""
    near_dup_threshold: float = 0.7
    """Jaccard similarity (word 5-grams) above which two pairs are near-duplicates."""
    near_dup_scope: str = "task"
    """Compare pairs of the same `task` only, or `all` pairs."""
    num_perm: int = 256
    """MinHash permutations (BigCode's Java near-dedup setting)."""
    shingle_size: int = 5
    """Words per shingle."""
    decontam_threshold: float = 0.7
    """Jaccard above which a validation/test pair counts as a copy of a train pair."""
    decontam_action: str = "drop"
    """`drop` a contaminated validation/test pair, or `move` it to train."""
    judge: str | None = None
    """LLM spec for the optional judge (e.g. `ollama:llama3`); None disables it."""
    judge_threshold: int = 50
    """Pairs the judge scores below this (0-100) are dropped."""
    disabled: tuple[str, ...] = ()
    """Filter names to skip."""

    def settings(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """What a per-pair filter may look at besides the pair."""

    config: FilterConfig
    index: RepoIndex | None = None
    count_tokens: Callable[[str], int] = field(default=lambda text: estimate_tokens(text))
    judge: Any = None  # a callable (pair) -> (score, why), set when the judge is on
    details: dict[str, str] = field(default_factory=dict)  # pair id -> JSON detail of a decision
    scans: dict[str, list[str]] = field(default_factory=dict)  # text -> secret rules found in it


PairFilter = Callable[[Pair, Context], str | None]
SetFilter = Callable[[list[Pair], Context], dict[str, str]]


@dataclass(frozen=True)
class FilterSpec:
    """A registered filter: its name, what it checks, the settings it reads."""

    name: str
    description: str
    settings: tuple[str, ...]
    check: PairFilter | None = None
    check_all: SetFilter | None = None
    optional: bool = False  # runs only when configured (the LLM judge)


REGISTRY: dict[str, FilterSpec] = {}


def register(
    name: str,
    description: str,
    settings: Iterable[str] = (),
    *,
    on_set: bool = False,
    optional: bool = False,
):
    """Decorator adding a filter to the registry (chain order is registration order)."""

    def wrap(func):
        REGISTRY[name] = FilterSpec(
            name,
            description,
            tuple(settings),
            check=None if on_set else func,
            check_all=func if on_set else None,
            optional=optional,
        )
        return func

    return wrap


# --- text helpers -------------------------------------------------------------------

WORD_RE = re.compile(r"[A-Za-z0-9_$]+")
FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)


def estimate_tokens(text: str) -> int:
    """Token estimate without a tokenizer: ceil(chars / 3.0). Example: "abcdef" -> 2."""
    return math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)


def normalize(text: str) -> str:
    """Whitespace-collapsed text for exact comparisons. Example: " a \\n b" -> "a b"."""
    return " ".join(text.split())


def pair_text(pair: Pair) -> str:
    return f"{pair.instruction}\n{pair.input}\n{pair.output}"


def preference(pair: Pair) -> tuple[int, str]:
    """Sort key of the pair to keep among duplicates: template first, then smallest id."""
    return (GENERATOR_RANK.get(pair.generator, 9), pair.id)


# --- per-pair filters: length, placeholders, refusals, template words ---------------

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
    "empty_output", "outputs that are empty, a placeholder, or only punctuation and stop words"
)
def empty_output(pair: Pair, ctx: Context) -> str | None:
    text = pair.output.strip()
    if text.strip("`'\"").strip().lower().rstrip(".") in PLACEHOLDERS:
        return f"empty or placeholder output ({text[:20]!r})"
    words = [w.lower() for w in WORD_RE.findall(text)]
    if not words:
        return "output is only punctuation"
    if pair.label is None and all(w in STOP_WORDS for w in words) and len(words) > 2:
        return "output is only stop words"
    return None


@register(
    "length",
    "output length bounds in characters and tokens",
    ("min_output_chars", "max_output_chars", "min_output_tokens", "max_output_tokens", "tokenizer"),
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
)
def refusal(pair: Pair, ctx: Context) -> str | None:
    lower = pair.output.lower()
    if not any(hint in lower for hint in REFUSAL_HINTS):  # substring checks before the regex
        return None
    match = REFUSAL_RE.search(pair.output)
    if match and len(pair.output.split()) < ctx.config.refusal_max_words:
        return f"refusal ({match.group(0)!r} in a short output)"
    return None


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


# --- code validity ------------------------------------------------------------------

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


@lru_cache(maxsize=65536)  # a unit's code is the output of several phrasings
def java_parses(code: str) -> bool:
    """Does `code` parse as Java as a file, a type header, a member or statements?

    Example: java_parses("int x = 1;") -> True; java_parses("int x = ;") -> False.
    """
    stripped = code.strip()
    if not stripped:
        return False
    tries = (
        stripped,
        f"class __Wrap__ {{\n{stripped}\n}}",
        f"{stripped} {{}}",
        f"class __Wrap__ {{ void __m__() {{\n{stripped}\n}} }}",
        f"class __Wrap__ {{\n{stripped} {{}}\n}}",  # a member's signature line
        f"{stripped}\nclass __Wrap__ {{}}",  # annotations alone
        f"record __Wrap__() {{\n{stripped} {{}}\n}}",  # a compact constructor's header
    )
    return any(_parses(source) for source in tries)


@register(
    "code_validity",
    "Java code in outputs parses with tree-sitter (no ERROR/MISSING nodes)",
    ("code_tasks",),
)
def code_validity(pair: Pair, ctx: Context) -> str | None:
    for number, block in enumerate(code_blocks(pair, ctx.config), start=1):
        if not java_parses(block):
            return f"code block {number} does not parse as Java"
    if pair.generator == "output_first" and pair.input:  # the LLM wrote the input: check it too
        for number, block in enumerate(_input_code(pair, ctx.config), start=1):
            if not java_parses(block):
                return f"code block {number} of the input does not parse as Java"
    return None


def _input_code(pair: Pair, config: FilterConfig) -> list[str]:
    """Code in an LLM-written input: its fenced blocks, else all of it when the task's
    input is code (a method that starts `void x()` reads like prose to CODE_START_RE)."""
    blocks = code_blocks(pair, config, pair.input)
    if not blocks and "```" not in pair.input and input_kind(pair.task) == "code":
        return [pair.input]
    return blocks


@register(
    "label_mismatch",
    "a classification pair's input must have its label where the source tells it "
    "(method.is_test: a test annotation on the method)",
)
def label_mismatch(pair: Pair, ctx: Context) -> str | None:
    if not pair.label:
        return None
    read = label_reader(pair.task)
    if read is None:
        return None
    found = read(pair.input)
    if found != pair.label:
        told = f"says {found!r}" if found else "does not tell"
        return f"label {pair.label!r} but the input {told}"
    return None


# --- grounding ----------------------------------------------------------------------

IDENT_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
CAMEL_TYPE_RE = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b")
CALL_RE = re.compile(r"\b([a-z_$][A-Za-z0-9_$]*)\s*\(")
MEMBER_RE = re.compile(r"\b(?:this|[a-z_$][A-Za-z0-9_$]*)\.([a-z_$][A-Za-z0-9_$]*)\b")
DECLARED_RE = re.compile(
    r"\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)"
    r"|\b[\w$<>\[\],.?]+\s+([a-z_$][\w$]*)\s*(?:\(|=|;|:)"
)
JAVA_WORDS = set(
    "abstract assert boolean break byte case catch char class const continue default do double "
    "else enum extends final finally float for goto if implements import instanceof int "
    "interface long native new package private protected public return short static strictfp "
    "super switch synchronized this throw throws transient try void volatile while var record "
    "yield sealed permits true false null".split()
)
# Names from java.lang/java.util and common libraries that any Java answer may use.
COMMON_NAMES = set(
    "String Object Integer Long Double Float Boolean Character Byte Short Math System "
    "StringBuilder List ArrayList LinkedList Map HashMap LinkedHashMap TreeMap Set HashSet "
    "TreeSet Optional Collections Arrays Objects Stream Collectors Iterator Iterable Comparable "
    "Comparator Exception RuntimeException IllegalArgumentException IllegalStateException "
    "NullPointerException UnsupportedOperationException IOException LocalDate LocalDateTime "
    "Instant Duration UUID BigDecimal BigInteger Thread Runnable Override Deprecated "
    "FunctionalInterface SuppressWarnings Function Supplier Consumer Predicate JUnit Test "
    "BeforeEach AfterEach Assertions JavaDoc Javadoc README JSON HashCode toString equals "
    "hashCode get set put add remove size isEmpty contains of stream map filter collect forEach "
    "orElse orElseThrow isPresent ifPresent valueOf parseInt format println print append length "
    "charAt substring trim split getClass compareTo iterator hasNext next clear addAll "
    "containsKey getOrDefault keySet values entrySet getKey getValue sort asList toList "
    "requireNonNull now plusDays isBefore isAfter assertEquals assertTrue assertFalse "
    "assertNotNull assertNull assertThrows".split()
)


@dataclass
class RepoIndex:
    """The repository's symbol table: declared names plus every identifier its code uses."""

    declared: set[str]
    used: set[str]

    @classmethod
    def from_units(cls, units: Iterable[Unit]) -> RepoIndex:
        """Build from `store.units()`. Example: a unit `Room.getId` adds `Room` and `getId`."""
        declared: set[str] = set()
        used: set[str] = set()
        for unit in units:
            declared.add(unit.name)
            declared.update(
                part for part in unit.qualified_name.replace("#", ".").split(".") if part
            )
            used.update(IDENT_RE.findall(unit.code))
            used.update(IDENT_RE.findall(unit.javadoc or ""))
            for imp in unit.imports:
                used.add(imp.rstrip(";").split(".")[-1])
        return cls(declared, used)

    def knows(self, name: str) -> bool:
        return name in self.declared or name in self.used


def repo_like_names(text: str) -> set[str]:
    """Identifiers that look like repository names: CamelCase types, method calls, fields.

    Example: "Call `roomService.findFree()` on RoomService" -> {"RoomService", "findFree"}
    (the receiver `roomService` is a local name, not checked).
    """
    names = set(CAMEL_TYPE_RE.findall(text))
    names.update(CALL_RE.findall(text))
    names.update(MEMBER_RE.findall(text))
    return names


def declared_in(text: str) -> set[str]:
    """Names the text itself declares (so new code written in an answer is not ungrounded)."""
    out: set[str] = set()
    for type_name, member in DECLARED_RE.findall(text):
        out.add(type_name or member)
    return out


@register(
    "grounding",
    "names in LLM outputs must exist in the repository's symbol table",
    ("grounding_generators",),
)
def grounding(pair: Pair, ctx: Context) -> str | None:
    if ctx.index is None or pair.generator not in ctx.config.grounding_generators:
        return None
    given = set(IDENT_RE.findall(pair.instruction)) | set(IDENT_RE.findall(pair.input))
    allowed = given | declared_in(pair.output) | JAVA_WORDS | COMMON_NAMES
    unknown = sorted(
        n for n in repo_like_names(pair.output) if n not in allowed and not ctx.index.knows(n)
    )
    if unknown:
        return f"names not in the repository: {', '.join(unknown[:5])}"
    return None


# --- context length -----------------------------------------------------------------


def token_counter(tokenizer: str | None) -> Callable[[str], int]:
    """A token counter for the target model (`AutoTokenizer`), or the chars/3.0 estimate.

    `tokenizer` is a local directory or a Hub id (resolved from the local cache offline).
    """
    if not tokenizer:
        return estimate_tokens
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tokenizer)
    except ImportError as exc:
        raise ConfigError(
            "--tokenizer needs transformers: pip install 'dataprep[finetune]'"
        ) from exc
    except Exception as exc:  # OSError, ValueError, offline errors: all mean "cannot load"
        raise ConfigError(
            f"cannot load tokenizer {tokenizer!r} ({type(exc).__name__}): give a local directory "
            "with tokenizer files or a cached Hub id, or leave --tokenizer out for the estimate"
        ) from exc
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])


@register(
    "context_length",
    "rendered Alpaca prompt + answer + EOS fits --max-seq-len",
    ("max_seq_len", "tokenizer"),
)
def context_length(pair: Pair, ctx: Context) -> str | None:
    tokens = (
        ctx.count_tokens(render_alpaca(pair.instruction, pair.input, pair.output)) + 2
    )  # BOS + EOS
    if tokens > ctx.config.max_seq_len:
        return f"{tokens} tokens > max_seq_len {ctx.config.max_seq_len}"
    return None


# --- secrets that reached a pair (LLM output, a unit stored before redaction) -------


@register("secrets", "secrets or personal data left in a pair (the redactor's own rules)")
def leaked_secret(pair: Pair, ctx: Context) -> str | None:
    from dataprep.secrets import scan_text

    for name in ("instruction", "input", "output"):
        text = getattr(pair, name)
        rules = ctx.scans.get(text)  # a unit's code is the input or output of many pairs
        if rules is None:
            rules = ctx.scans[text] = scan_text(text)
        if rules:
            return f"{rules[0]} in the {name}"  # the rule, never the value
    return None


# --- set filters: duplicates and conflicts ------------------------------------------


@register(
    "exact_duplicate",
    "same instruction, input and output (whitespace-normalised); one kept",
    on_set=True,
)
def exact_duplicate(pairs: list[Pair], ctx: Context) -> dict[str, str]:
    seen: dict[str, Pair] = {}
    dropped: dict[str, str] = {}
    for pair in sorted(pairs, key=preference):
        key = "\x00".join(normalize(x) for x in (pair.instruction, pair.input, pair.output))
        if key in seen:
            dropped[pair.id] = f"exact duplicate of {seen[key].id}"
        else:
            seen[key] = pair
    return dropped


@register(
    "conflict",
    "same instruction and input with different outputs: all of them dropped",
    on_set=True,
)
def conflict(pairs: list[Pair], ctx: Context) -> dict[str, str]:
    groups: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        groups[normalize(pair.instruction) + "\x00" + normalize(pair.input)].append(pair)
    dropped: dict[str, str] = {}
    for group in groups.values():
        outputs = {normalize(p.output) for p in group}
        if len(outputs) > 1:
            for pair in group:
                others = sorted(p.id for p in group if p.id != pair.id)
                dropped[pair.id] = (
                    f"conflict: same instruction and input as {len(others)} other pair(s) with "
                    f"different outputs ({', '.join(others[:3])})"
                )
    return dropped


def shingles(text: str, size: int = 5) -> set[str]:
    """Word n-gram shingles, lower-cased. Example: shingles("a b c", 2) -> {"a b", "b c"}."""
    words = [w.lower() for w in WORD_RE.findall(text)]
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity. Example: jaccard({"a", "b"}, {"b", "c"}) -> 1/3."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def minhash(shingle_set: set[str], num_perm: int):
    from datasketch import MinHash

    mh = MinHash(num_perm=num_perm, seed=1)
    mh.update_batch([s.encode("utf-8") for s in shingle_set])
    return mh


def minhashes(sets: list[set[str]], num_perm: int) -> list:
    """MinHashes of many shingle sets, batched (datasketch's bulk path is much faster)."""
    from datasketch import MinHash

    encoded = [[s.encode("utf-8") for s in shingle_set] for shingle_set in sets]
    return MinHash.bulk(encoded, num_perm=num_perm, seed=1)


def _words(text: str) -> list[str]:
    if text.isascii():  # lower-casing ASCII moves no word boundary: one pass in C
        return WORD_RE.findall(text.lower())
    return [w.lower() for w in WORD_RE.findall(text)]


def _grams(words: list[str], size: int) -> set[str]:
    """`shingles` over a word list already split and lower-cased."""
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def content_shingles(
    pairs: list[Pair], size: int = 5, max_df: float = 0.01, min_df: int = 5
) -> list[set[str]]:
    """Shingle sets of instruction, input and output, with template boilerplate removed.

    A shingle of an *instruction* found in more than max(min_df, max_df * len(pairs))
    instructions is the wording of a template ("say what the method is called"), not
    content: two short template pairs about different units share it and would otherwise
    look alike. Input and output shingles are always kept: code repeated across many files
    (clones) is exactly what near-duplicate detection and decontamination must see.
    Example: 1,000 pairs of one phrasing keep only the instruction shingles around their
    names, plus all of their code.

    Each field is split into words once, and the shingles of an input and output shared by
    several pairs (template questions about one unit) are built once: the full text's
    shingles are the instruction's, the input's and output's, and the few windows that
    straddle the instruction's end (`shingles(pair_text(pair))`, computed in parts).
    """
    asked_words = [_words(pair.instruction) for pair in pairs]
    asked = [_grams(words, size) for words in asked_words]
    df = Counter(sh for s in asked for sh in s)
    limit = max(min_df, max_df * len(pairs))
    common = {sh for sh, n in df.items() if n > limit}
    memo: dict[tuple[str, str], tuple[list[str], set[str]]] = {}
    out = []
    for pair, wi, a in zip(pairs, asked_words, asked, strict=True):
        key = (pair.input, pair.output)
        if key not in memo:
            wio = _words(pair.input) + _words(pair.output)
            memo[key] = (wio, _grams(wio, size))
        wio, g = memo[key]
        total = len(wi) + len(wio)
        if total <= size:
            full = {" ".join(wi + wio)} if total else set()
        else:
            full = set(a) if len(wi) >= size else set()
            if len(wio) >= size:
                full |= g
            cross = wi[max(0, len(wi) - size + 1) :] + wio[: size - 1]
            first = max(0, len(wi) - size + 1)
            for i in range(first, min(len(wi), total - size + 1)):
                full.add(" ".join(cross[i - first : i - first + size]))
        out.append((full - ((a & common) - g)) or full)
    return out


def signatures(sets: list[set[str]], num_perm: int) -> np.ndarray:
    """MinHash signatures (one row per set) equal to datasketch's `MinHash(num_perm, seed=1)`
    updated with each set's UTF-8 shingles, computed for all sets at once: every distinct
    shingle is hashed once, and the permutations and minima run vectorised in chunks.
    Example: signatures([{"a b"}], 4)[0] == MinHash(4, seed=1) after update(b"a b")."""
    from hashlib import sha1
    from struct import unpack_from

    from datasketch import MinHash
    from datasketch import minhash as dm
    from datasketch.hashfunc import sha1_hash32

    proto = MinHash(num_perm=num_perm, seed=1)
    fmix = getattr(dm, "_fmix", None)
    widths = getattr(dm, "_SCHEME_WIDTHS", {})
    scheme = getattr(proto, "scheme", "legacy")
    if fmix is None or scheme not in widths or scheme == "legacy":  # datasketch < 2.0
        hashes = minhashes(sets, num_perm)
        return np.array([m.hashvalues for m in hashes]).reshape(len(sets), num_perm)
    a, b = proto.permutations
    init = proto.hashvalues
    distinct = set().union(*sets)  # each distinct shingle is hashed once
    codes = {sh: i for i, sh in enumerate(distinct)}
    flat: list[int] = []
    for shingle_set in sets:
        flat.extend(map(codes.__getitem__, shingle_set))
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    if proto.hashfunc is sha1_hash32:  # the default, inlined (same value)
        raw = [unpack_from("<I", sha1(sh.encode("utf-8")).digest())[0] for sh in codes]
    else:
        raw = [proto.hashfunc(sh.encode("utf-8")) for sh in codes]
    base = fmix(proto._hash_input_array(raw), widths[scheme]) if raw else init[:0]
    index = np.asarray(flat, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)))
    out = np.empty((len(sets), num_perm), dtype=init.dtype)
    out[:] = init
    step = max(1, (1 << 22) // max(1, num_perm))  # about 16 MiB of hash values per chunk
    first = 0
    while first < len(sets):
        last = first + 1
        while last < len(sets) and starts[last + 1] - starts[first] <= step:
            last += 1
        lo, hi = starts[first], starts[last]
        if hi > lo:
            # one row per permutation: the minima run over contiguous memory (4x faster)
            phv = a.reshape(-1, 1) * base[index[lo:hi]] + b.reshape(-1, 1)
            rows = np.arange(first, last)
            filled = rows[lengths[first:last] > 0]
            mins = np.minimum.reduceat(phv, starts[filled] - lo, axis=1)
            out[filled] = np.minimum(init, mins.T)
        first = last
    return out


def _band_buckets(
    sigs: np.ndarray, threshold: float, num_perm: int, groups: np.ndarray | None = None
) -> list[np.ndarray]:
    """Per LSH band (datasketch's bands and rows for `threshold`), each row's bucket number:
    two rows share a bucket exactly when their band values (and `groups` value) are equal,
    which is when datasketch's `MinHashLSH` returns one for the other."""
    bands, rows = _lsh_params(round(min(threshold, 0.9), 2), num_perm)
    out = []
    for band in range(bands):
        block = sigs[:, band * rows : (band + 1) * rows].astype(np.uint64)
        if groups is not None:
            block = np.column_stack([groups.astype(np.uint64), block])
        # One 64-bit mix per row sorts fast; rows are then compared with their bucket's
        # first row, and a (never seen) collision falls back to sorting the rows themselves.
        mixed = np.zeros(len(block), dtype=np.uint64)
        for column in block.T:
            mixed = (mixed ^ column) * np.uint64(0x9E3779B97F4A7C15)
            mixed ^= mixed >> np.uint64(29)
        _, first, inverse = np.unique(mixed, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        if not (block == block[first[inverse]]).all():
            _, inverse = np.unique(block, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
        out.append(inverse)
    return out


@lru_cache(maxsize=16)
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) for a threshold: datasketch integrates for them, slowly, so once."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def new_lsh(threshold: float, num_perm: int):
    """An LSH index finding candidates at `threshold` (at most 0.9: datasketch needs two
    bands; candidates are confirmed with exact Jaccard, so a lower one only adds recall)."""
    from datasketch import MinHashLSH

    return MinHashLSH(
        num_perm=num_perm, params=_lsh_params(round(min(threshold, 0.9), 2), num_perm)
    )


def near_duplicate_groups(
    pairs: list[Pair],
    threshold: float = 0.7,
    num_perm: int = 256,
    size: int = 5,
    scope: str = "task",
) -> dict[str, str]:
    """Pair id -> id of the kept pair it nearly duplicates (LSH candidates, exact Jaccard confirms).

    Pairs are visited in preference order; each is compared with the pairs kept so far
    (of the same task when `scope` is "task"). LSH looks for candidates 0.2 below the
    threshold: at the threshold itself it finds only about half of the true pairs.
    """
    ordered = sorted(pairs, key=preference)
    if not ordered:
        return {}
    sets = content_shingles(ordered, size)
    scopes: dict[str, int] = {}
    groups = np.array(
        [scopes.setdefault(p.task if scope == "task" else "", len(scopes)) for p in ordered],
        dtype=np.int64,
    )
    buckets = _band_buckets(signatures(sets, num_perm), max(0.1, threshold - 0.2), num_perm, groups)
    # A pair alone in its bucket in every band has no LSH candidate and none has it: kept
    # without a look (most pairs). The others go through the greedy pass in preference order.
    shared = np.zeros(len(ordered), dtype=bool)
    for bucket in buckets:
        shared |= np.bincount(bucket)[bucket] > 1
    tables: list[dict[int, list[int]]] = [{} for _ in buckets]
    columns = [bucket.tolist() for bucket in buckets]
    dropped: dict[str, str] = {}
    for i in np.flatnonzero(shared).tolist():
        candidates: set[int] = set()
        for table, column in zip(tables, columns, strict=True):
            found = table.get(column[i])
            if found:
                candidates.update(found)
        match = next(
            (
                ordered[o].id
                for o in sorted(candidates, key=lambda o: ordered[o].id)
                if jaccard(sets[i], sets[o]) >= threshold
            ),
            None,
        )
        if match is not None:
            dropped[ordered[i].id] = match
        else:
            for table, column in zip(tables, columns, strict=True):
                table.setdefault(column[i], []).append(i)
    return dropped


@register(
    "near_duplicate",
    "MinHash LSH near-duplicates (word 5-grams, Jaccard); one kept",
    ("near_dup_threshold", "num_perm", "shingle_size", "near_dup_scope"),
    on_set=True,
)
def near_duplicate(pairs: list[Pair], ctx: Context) -> dict[str, str]:
    cfg = ctx.config
    groups = near_duplicate_groups(
        pairs, cfg.near_dup_threshold, cfg.num_perm, cfg.shingle_size, cfg.near_dup_scope
    )
    return {
        pid: f"near-duplicate (Jaccard >= {cfg.near_dup_threshold}) of {kept}"
        for pid, kept in groups.items()
    }


# --- the optional LLM judge ---------------------------------------------------------


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


JUDGE_VERSION = 1
JUDGE_SYSTEM = (
    "You grade instruction/answer pairs written about a source code repository. "
    "Judge only against the source unit shown. Reply with JSON only."
)


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
        completion = cached.chat(JudgeTask.format_input(pair, units[pair.unit_id]))
        return JudgeTask.format_output(completion.text)

    return judge_pair


def judge_scores(store) -> dict[str, int]:
    """Pair id -> the judge's score, for every pair the judge looked at."""
    rows = store.conn.execute(
        "SELECT pair_id, detail FROM decisions WHERE stage = ? AND detail IS NOT NULL",
        (STAGE_PREFIX + "judge",),
    )
    out = {}
    for pair_id, detail in rows:
        score = json.loads(detail).get("judge_score")
        if score is not None:
            out[pair_id] = score
    return out


# --- decontamination (after splits exist) ------------------------------------------


@dataclass
class DecontamReport:
    """Validation/test pairs that nearly copy a train pair, and what was done with them."""

    checked: int = 0
    train: int = 0
    contaminated: int = 0
    action: str = "drop"
    by_split: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def contaminated_pairs(
    train: list[Pair],
    held_out: list[Pair],
    threshold: float = 0.5,
    num_perm: int = 256,
    size: int = 5,
) -> dict[str, tuple[str, float]]:
    """Held-out pair id -> (train pair id, Jaccard) for every held-out near-copy of a train pair.

    LSH runs at a lower threshold than `threshold` (at the threshold itself it finds only
    about half of the pairs), and exact Jaccard over the shingles confirms each candidate.
    """
    if not train or not held_out:
        return {}
    all_sets = content_shingles([*train, *held_out], size)
    n = len(train)
    buckets = _band_buckets(
        signatures(all_sets, num_perm), round(max(0.05, threshold * 0.6), 2), num_perm
    )
    candidates: list[set[int]] = [set() for _ in held_out]
    for bucket in buckets:
        wanted = set(bucket[n:].tolist())
        table: dict[int, list[int]] = {}
        for row, key in enumerate(bucket[:n].tolist()):
            if key in wanted:
                table.setdefault(key, []).append(row)
        for j, key in enumerate(bucket[n:].tolist()):
            found = table.get(key)
            if found:
                candidates[j].update(found)
    found: dict[str, tuple[str, float]] = {}
    for j, pair in enumerate(held_out):
        best = max(
            ((jaccard(all_sets[n + j], all_sets[c]), train[c].id) for c in candidates[j]),
            default=None,
            key=lambda x: (x[0], x[1]),
        )
        if best and best[0] >= threshold:
            found[pair.id] = (best[1], round(best[0], 3))
    return found


def decontaminate(
    store, config: FilterConfig | None = None, run_id: int | None = None
) -> DecontamReport:
    """Check the stored splits: drop (or move to train) validation/test pairs that nearly
    copy a train pair. Call it right after the splits are written (`store.put_splits`).

    Every held-out pair gets a `decontaminate` decision; a dropped one says which train
    pair it copies and the Jaccard similarity.
    """
    config = config or FilterConfig()
    check_config(config)
    started = time.perf_counter()
    splits = store.splits()
    skip = {pid for pid, d in store.dropped().items() if d.stage != DECONTAMINATE_STAGE}
    pairs = [p for p in store.pairs() if p.id in splits and p.id not in skip]
    train = [p for p in pairs if splits[p.id] == "train"]
    held = [p for p in pairs if splits[p.id] != "train"]
    found = contaminated_pairs(
        train, held, config.decontam_threshold, config.num_perm, config.shingle_size
    )
    report = DecontamReport(
        checked=len(held), train=len(train), contaminated=len(found), action=config.decontam_action
    )
    decisions = []
    for pair in held:
        if pair.id not in found:
            decisions.append(Decision(pair_id=pair.id, stage=DECONTAMINATE_STAGE, kept=True))
            continue
        twin, score = found[pair.id]
        split = splits[pair.id]
        report.by_split[split] = report.by_split.get(split, 0) + 1
        reason = f"{split} pair nearly copies train pair {twin} (Jaccard {score})"
        detail = json.dumps({"train_pair": twin, "jaccard": score, "split": split})
        moved = config.decontam_action == "move"
        decisions.append(
            Decision(
                pair_id=pair.id,
                stage=DECONTAMINATE_STAGE,
                kept=moved,
                reason=("moved to train: " if moved else "") + reason,
                detail=detail,
            )
        )
        if len(report.examples) < 3:
            report.examples.append({"pair_id": pair.id, "reason": reason})
    with store.transaction():
        store.put_decisions(DECONTAMINATE_STAGE, decisions, run_id=run_id)
        if config.decontam_action == "move" and found:
            rows = store.conn.execute("SELECT pair_id, split, grp FROM splits").fetchall()
            store.put_splits(
                (pid, "train" if pid in found else split, grp) for pid, split, grp in rows
            )
    report.seconds = round(time.perf_counter() - started, 4)
    store.set_meta("decontaminate_report", report.to_dict())
    return report


# --- the chain ----------------------------------------------------------------------


@dataclass
class FilterReport:
    """What the chain did: counts at each stage, drops per filter with examples, timings."""

    total: int = 0
    kept: int = 0
    stages: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_config(config: FilterConfig) -> None:
    """Reject settings that cannot work, naming the fix."""
    unknown = [name for name in config.disabled if name not in REGISTRY]
    if unknown:
        raise ConfigError(f"unknown filter(s) {', '.join(unknown)}: see `dataprep filter --list`")
    for name in ("near_dup_threshold", "decontam_threshold"):
        if not 0 < getattr(config, name) <= 1:
            raise ConfigError(f"{name} must be in (0, 1], got {getattr(config, name)}")
    if config.near_dup_scope not in ("task", "all"):
        raise ConfigError(f"near_dup_scope must be 'task' or 'all', got {config.near_dup_scope!r}")
    if config.decontam_action not in ("drop", "move"):
        raise ConfigError(
            f"decontam_action must be 'drop' or 'move', got {config.decontam_action!r}"
        )
    if config.max_seq_len < 16:
        raise ConfigError(f"--max-seq-len {config.max_seq_len} is too small: give at least 16")
    if not 0 <= config.judge_threshold <= 100:
        raise ConfigError(f"--judge-threshold must be 0..100, got {config.judge_threshold}")


def active_filters(config: FilterConfig, judge: bool = False) -> list[FilterSpec]:
    return [
        spec
        for spec in REGISTRY.values()
        if spec.name not in config.disabled and (not spec.optional or config.judge or judge)
    ]


def upstream_dropped(store) -> set[str]:
    """Pairs dropped by stages before filtering (e.g. Evol-Instruct elimination)."""
    mine = (STAGE_PREFIX, DECONTAMINATE_STAGE, "balance")
    return {pid for pid, d in store.dropped().items() if not d.stage.startswith(mine)}


# Per-pair filters whose verdict depends on nothing but the pair's fields and the settings
# (grounding reads the repository's symbol table and the judge an LLM: never cached; the
# token filters are cached only with the built-in estimate, as a tokenizer's files may change).
CACHEABLE = ("empty_output", "length", "refusal", "template_words", "code_validity",
             "context_length", "secrets")  # fmt: skip
TOKEN_FILTERS = ("length", "context_length")


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """The filters' and the redactor's source: any change to a rule invalidates the cache."""
    from pathlib import Path

    from dataprep import secrets

    digest = hashlib.sha256()
    for module in (__file__, secrets.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


class VerdictCache:
    """Per-pair verdicts of the CACHEABLE filters kept in the store's `filter_cache` table, so
    an incremental run computes them only for new pairs.

    The key of a pair hashes every field those filters read (instruction, input, output,
    task, unit kind, generator, label), all the filter settings and the source of the filters
    and the redactor; the value maps a filter name to its reason ("" when kept). A pair only
    gets verdicts for the filters the chain showed it, so each is looked up lazily.
    """

    def __init__(self, config: FilterConfig, rows: Iterable[tuple[str, str]] = ()):
        self.names = {n for n in CACHEABLE if not (config.tokenizer and n in TOKEN_FILTERS)}
        self.salt = json.dumps([_code_fingerprint(), config.settings()], sort_keys=True)
        self.stored = {key: json.loads(data) for key, data in rows}
        self.keys: dict[str, str] = {}  # pair id -> key
        self.dirty: set[str] = set()
        self.hits = self.misses = 0

    def key(self, pair: Pair) -> str:
        key = self.keys.get(pair.id)
        if key is None:
            fields_ = (pair.instruction, pair.input, pair.output, pair.task, pair.unit_kind,
                       pair.generator, pair.label)  # fmt: skip
            blob = json.dumps([self.salt, fields_], ensure_ascii=False)
            key = self.keys[pair.id] = hashlib.sha256(blob.encode("utf-8")).hexdigest()
        return key

    def check(self, spec: FilterSpec, pair: Pair, ctx: Context) -> str | None:
        if spec.name not in self.names:
            return spec.check(pair, ctx)
        key = self.key(pair)
        verdicts = self.stored.setdefault(key, {})
        if spec.name in verdicts:
            self.hits += 1
            return verdicts[spec.name] or None
        self.misses += 1
        reason = spec.check(pair, ctx)
        verdicts[spec.name] = reason or ""
        self.dirty.add(key)
        return reason

    @classmethod
    def load(cls, store, config: FilterConfig) -> VerdictCache:
        return cls(config, store.conn.execute("SELECT key, data FROM filter_cache"))

    def save(self, store) -> None:
        """Write new verdicts and forget those of pairs this run did not look at."""
        used = set(self.keys.values())
        stale = [(k,) for k in self.stored if k not in used]
        with store.transaction():
            store.conn.executemany("DELETE FROM filter_cache WHERE key = ?", stale)
            store.conn.executemany(
                "INSERT OR REPLACE INTO filter_cache (key, data) VALUES (?, ?)",
                [(k, json.dumps(self.stored[k], sort_keys=True)) for k in self.dirty if k in used],
            )


@dataclass(slots=True)
class Verdict:
    """A `Decision` of the chain, as a plain record: a stage decides on tens of thousands of
    pairs and pydantic's construction cost more than most filters. Same fields."""

    pair_id: str
    stage: str
    kept: bool
    reason: str | None = None
    detail: str | None = None


def write_decisions(store, stage: str, decisions: list, run_id: int | None = None) -> int:
    """Replace a stage's verdicts like `Store.put_decisions`, writing only the rows that
    changed (an incremental run re-decides every pair but changes few verdicts); a row
    keeps the id of the run that first gave its verdict. Returns the rows written."""
    old = {
        pid: (bool(kept), reason, detail)
        for pid, kept, reason, detail in store.conn.execute(
            "SELECT pair_id, kept, reason, detail FROM decisions WHERE stage = ?", (stage,)
        )
    }
    new = {d.pair_id: d for d in decisions}
    gone = [(stage, pid) for pid in old if pid not in new]
    changed = [
        (d.pair_id, stage, int(d.kept), d.reason, d.detail, run_id)
        for d in new.values()
        if old.get(d.pair_id) != (bool(d.kept), d.reason, d.detail)
    ]
    store.conn.executemany("DELETE FROM decisions WHERE stage = ? AND pair_id = ?", gone)
    store.conn.executemany(
        "INSERT OR REPLACE INTO decisions (pair_id, stage, kept, reason, detail, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        changed,
    )
    return len(gone) + len(changed)


def apply_filters(
    pairs: list[Pair], config: FilterConfig, ctx: Context, on_stage=None, cache=None
) -> tuple[list[Pair], FilterReport, dict[str, list[Verdict]]]:
    """The pure chain: surviving pairs, the report and each stage's decisions (`Verdict`s).

    `cache` (a VerdictCache) returns stored per-pair verdicts instead of recomputing them.
    """
    report = FilterReport(total=len(pairs))
    decisions: dict[str, list[Decision]] = {}
    alive = list(pairs)
    for spec in active_filters(config, judge=ctx.judge is not None):
        started = time.perf_counter()
        stage = STAGE_PREFIX + spec.name
        if spec.check_all is not None:
            reasons = spec.check_all(alive, ctx)
        else:
            reasons = {}
            for pair in alive:
                reason = cache.check(spec, pair, ctx) if cache else spec.check(pair, ctx)
                if reason:
                    reasons[pair.id] = reason
        judged = spec.name == "judge"
        decisions[stage] = [
            Verdict(
                p.id,
                stage,
                p.id not in reasons,
                reasons.get(p.id),
                ctx.details.get(p.id) if judged else None,
            )  # fmt: skip
            for p in alive
        ]
        report.examples[spec.name] = [
            {"pair_id": p.id, "reason": reasons[p.id]} for p in alive if p.id in reasons
        ][:3]
        report.dropped[spec.name] = len(reasons)
        report.stages.append(
            {"stage": spec.name, "in": len(alive), "out": len(alive) - len(reasons)}
        )
        alive = [p for p in alive if p.id not in reasons]
        report.seconds[spec.name] = round(time.perf_counter() - started, 4)
        if on_stage:
            on_stage(spec.name, len(alive))
    report.kept = len(alive)
    return alive, report, decisions


def run_filters(
    store, config: FilterConfig | None = None, run_id: int | None = None, judge=None, on_stage=None
) -> FilterReport:
    """Run the chain over the store's live pairs and record every stage's decisions.

    `judge` is an optional LLM backend object for the judge filter (else built from
    `config.judge`). Returns the FilterReport (also saved in the store's meta as
    `filter_report`). `on_stage(name, alive)` is called after each filter (progress).
    """
    config = config or FilterConfig()
    check_config(config)
    skip = upstream_dropped(store)
    pairs = [p for p in store.pairs() if p.id not in skip]
    ctx = Context(
        config=config,
        index=RepoIndex.from_units(store.units()),
        count_tokens=token_counter(config.tokenizer),
    )
    if config.judge or judge is not None:
        ctx.judge = (
            judge
            if callable(judge) and not hasattr(judge, "chat")
            else make_judge(store, config, judge)
        )
    cache = VerdictCache.load(store, config)
    _, report, decisions = apply_filters(pairs, config, ctx, on_stage=on_stage, cache=cache)
    cache.save(store)
    with store.transaction():
        for spec in REGISTRY.values():
            stage = STAGE_PREFIX + spec.name
            write_decisions(store, stage, decisions.get(stage, []), run_id=run_id)
    store.set_meta("filter_report", report.to_dict())
    store.set_meta("filter_config", config.settings())
    return report


def describe_filters(config: FilterConfig | None = None) -> list[dict[str, Any]]:
    """Each filter's name, description, whether it is on, and its current settings."""
    config = config or FilterConfig()
    names = {f.name for f in fields(config)}
    active = {spec.name for spec in active_filters(config)}
    return [
        {
            "name": spec.name,
            "description": spec.description,
            "enabled": spec.name in active,
            "settings": {s: getattr(config, s) for s in spec.settings if s in names},
        }
        for spec in REGISTRY.values()
    ]
