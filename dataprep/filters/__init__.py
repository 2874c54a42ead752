"""Filters: a registry of named checks, each `pair -> reason or None`, run as one chain.

One module per family, each filter a function registered with `register`:

    core       settings (FilterConfig), Context, FilterSpec, the registry, the report
    text       empty_output, length, refusal, template_words, context_length
    code       code_validity (Java parses), label_mismatch
    grounding  grounding (names exist in the repository: RepoIndex)
    secrets    secrets (the redactor's rules over each pair)
    dedup      exact_duplicate, conflict, near_duplicate (MinHash LSH)
    judge      judge (optional LLM judge), JudgeTask, make_judge
    decontam   decontaminate (after the splits: held-out near-copies of train pairs)
    cache      VerdictCache (per-pair verdicts kept in the store)
    chain      CHAIN (the order, in one list), apply_filters, run_filters

Per-pair filters are pure functions of `(pair, ctx)`; `ctx` carries the configuration,
the repository's symbol index and the token counter. Set filters (`exact_duplicate`,
`conflict`, `near_duplicate`) look at all surviving pairs at once and keep one
deterministically: template pairs over output-first over evol, then the smallest id.
The filters hold no SQL: they read and write through the store's methods.

Example:
    report = run_filters(store, FilterConfig(max_seq_len=1024))
    report.kept, report.dropped["near_duplicate"]
"""

from dataprep.filters.cache import VerdictCache, code_fingerprint
from dataprep.filters.chain import CHAIN, Verdict, apply_filters, run_filters
from dataprep.filters.code import (
    CODE_START_RE,
    FENCE_RE,
    code_blocks,
    code_validity,
    java_parses,
    label_mismatch,
)
from dataprep.filters.core import (
    CHARS_PER_TOKEN_ESTIMATE,
    DECONTAMINATE_STAGE,
    GENERATOR_RANK,
    REGISTRY,
    STAGE_PREFIX,
    WORD_RE,
    Context,
    FilterConfig,
    FilterReport,
    FilterSpec,
    PairFilter,
    SetFilter,
    active_filters,
    check_config,
    describe_filters,
    estimate_tokens,
    normalize,
    pair_text,
    preference,
    register,
    token_counter,
)
from dataprep.filters.decontam import DecontamReport, contaminated_pairs, decontaminate
from dataprep.filters.dedup import (
    conflict,
    content_shingles,
    exact_duplicate,
    jaccard,
    lsh_params,
    minhashes,
    near_duplicate,
    near_duplicate_groups,
    shingles,
    signatures,
)
from dataprep.filters.grounding import (
    COMMON_NAMES,
    JAVA_WORDS,
    RepoIndex,
    declared_in,
    repo_like_names,
)
from dataprep.filters.judge import (
    JUDGE_SYSTEM,
    JUDGE_VERSION,
    JudgeTask,
    make_judge,
)
from dataprep.filters.secrets import leaked_secret
from dataprep.filters.text import (
    PLACEHOLDERS,
    REFUSAL_RE,
    STOP_WORDS,
    TEMPLATE_WORDS_RE,
    context_length,
    empty_output,
    length,
    refusal,
    template_words,
)

# The filter functions `grounding` and `judge` are reached through REGISTRY: their names
# here are the family modules.
__all__ = [
    "CHAIN",
    "CHARS_PER_TOKEN_ESTIMATE",
    "CODE_START_RE",
    "COMMON_NAMES",
    "DECONTAMINATE_STAGE",
    "FENCE_RE",
    "GENERATOR_RANK",
    "JAVA_WORDS",
    "JUDGE_SYSTEM",
    "JUDGE_VERSION",
    "PLACEHOLDERS",
    "REFUSAL_RE",
    "REGISTRY",
    "STAGE_PREFIX",
    "STOP_WORDS",
    "TEMPLATE_WORDS_RE",
    "WORD_RE",
    "Context",
    "DecontamReport",
    "FilterConfig",
    "FilterReport",
    "FilterSpec",
    "JudgeTask",
    "PairFilter",
    "RepoIndex",
    "SetFilter",
    "Verdict",
    "VerdictCache",
    "active_filters",
    "apply_filters",
    "check_config",
    "code_blocks",
    "code_fingerprint",
    "code_validity",
    "conflict",
    "contaminated_pairs",
    "content_shingles",
    "context_length",
    "declared_in",
    "decontaminate",
    "describe_filters",
    "empty_output",
    "estimate_tokens",
    "exact_duplicate",
    "jaccard",
    "java_parses",
    "label_mismatch",
    "leaked_secret",
    "length",
    "lsh_params",
    "make_judge",
    "minhashes",
    "near_duplicate",
    "near_duplicate_groups",
    "normalize",
    "pair_text",
    "preference",
    "refusal",
    "register",
    "repo_like_names",
    "run_filters",
    "shingles",
    "signatures",
    "template_words",
    "token_counter",
]
