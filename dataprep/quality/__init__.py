"""Quality measures of a dataset: what a reviewer of training data checks first.

Pure functions over rows (Pair records, or dicts with the export's columns: id,
instruction, input, output, task, path, unit_kind, unit_id, label) and, for coverage, the
repository's units (Unit records or dicts). No SQL and no parser: precompiled regexes and
one pass over the rows, so 250k rows take seconds.

Each measure has a value, its goal (the project's quality goals), pass/fail and three examples
of each defect found. How each is detected:

- answerable: the output (whitespace-normalised) occurs in the instruction + input at word
  boundaries (outputs of 4+ characters that are not a bare identifier); an identifier
  answer occurs as a declared name in the input (`void NAME(`, `class NAME`, `NAME =`); the
  answer is the path's package (or package.Type, or the file's stem) and the prompt shows
  the path; a label task whose input shows the give-away (`LABEL_CUES`): a `yes` row with
  the cue, or a `no` row without it when most `yes` rows of the task show it.
- undedented: a multi-line code (or doc comment) output or input whose first line is less
  indented than every other line, where that cannot be a continuation: the last line is a
  closing `}`, or the first line ends a statement (`;`, `{`, `}`); a doc comment's ` * `
  lines may sit one column in; also an annotation line with the declaration below it
  further in. Blocks separated by a blank line and a line at column 0 count one by one.
- explanation_without_prose: the instruction asks to explain, describe, summarise, "how
  does", "how is X implemented", "what does X do", "what is X for", and the output is not
  prose (`text_kind`: at least half of its lines look like code, or it is a short token).
- markup_in_prose: a prose output with `{@link`, `{@code`, `{@inheritDoc}`, HTML tags or
  entities, `@param`/`@return`/`@throws` lines, a `/**`, `*/` or a lone `*` line.
- coverage: non-private types and methods (not in anonymous or private types) of main
  (non-test) paths with a knowledge pair: a knowledge family, an answer in prose or
  multi-line code, not answerable from the prompt.
- families: each row's family (`TASK_FAMILY`, then `FAMILY_RULES` on the task id); an
  explanation or overview answered without prose counts as code recall. The goal counts
  the knowledge families other than code recall that hold at least 1% of the rows.
- test_trivia: rows about units on test paths whose family is neither tests nor usage.
- bare_annotations: an output that is only annotations without arguments (`@Test`).
- non_doc_docs: doc_section rows from files that are not documentation (`non_doc_reason`).
- replacement_chars: rows with U+FFFD in instruction, input or output.

The package: `goals` (the measures and their goals), `families` (task families), `text`
(code or prose, undedented code), `answerable` (answers shown in the prompt), `detectors`
(the other checks on a row) and `measure` (one pass over the rows: the report's section).

Example:
    q = measure_quality(store.kept_pairs(), store.units())
    q["met"], q["goals"]  # -> (4, 10)
"""

from dataprep.quality.answerable import (
    LABEL_CUES,
    answerable,
    declares,
    leaky_labels,
    shows_test_cue,
)
from dataprep.quality.detectors import non_doc_reason
from dataprep.quality.families import FAMILIES, family_of
from dataprep.quality.goals import MEASURES, Goal, fmt
from dataprep.quality.measure import (
    COVERED_KINDS,
    UNIT_FIELDS,
    QualityTally,
    coverage_targets,
    measure_quality,
    summary_line,
)
from dataprep.quality.text import text_kind, undedented

__all__ = [
    "COVERED_KINDS",
    "coverage_targets",
    "LABEL_CUES",
    "QualityTally",
    "UNIT_FIELDS",
    "leaky_labels",
    "FAMILIES",
    "MEASURES",
    "Goal",
    "answerable",
    "declares",
    "family_of",
    "fmt",
    "measure_quality",
    "non_doc_reason",
    "shows_test_cue",
    "summary_line",
    "text_kind",
    "undedented",
]
