"""Secrets benchmark: recall and false positives on the corpus, alterations of a real tree,
and the time of find_secrets on 1 MB single-line texts.

Prints, from one run:
- recall per kind on fixtures/secrets/planted.yaml: a case counts as found when every
  planted value is gone from `Redactor.redact`'s output and `scan_rows` (the push gate)
  refuses the raw text; the misses are named (kind and file, never the value);
- false positives on fixtures/secrets/negatives.yaml: texts with any finding;
- CPU seconds of `find_secrets` on 1 MB lines (random tokens, one character, quotes,
  keywords, PEM headers, printable noise): linear patterns keep each to about a second;
- given TREE (the JDK's java.base sources, say): TREE sliced as `dataprep slice` does, every
  unit scanned as the slice stage of `dataprep run` redacts it; the share of units altered
  (goal: at most 0.1 %) and a listing of every alteration: rule, path:line, field and the
  context with the value replaced by a placeholder (`--show-values` prints the value
  itself: only for public code).

    .venv/bin/python bench/bench_secrets.py [TREE] [--jobs 2] [--show-values]
    .venv/bin/python bench/bench_secrets.py /work/jdk/java.base    # JDK 17 src.zip, unpacked
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections import Counter
from pathlib import Path

import yaml

from dataprep.secrets import UNIT_LIST_FIELDS, UNIT_TEXT_FIELDS, Redactor, find_secrets, scan_rows

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "secrets"
TOKEN_CHARS = string.ascii_letters + string.digits + "+/_-"


def recall(path: Path = CORPUS / "planted.yaml") -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Per kind (found, cases), and the misses as "kind file"."""
    per_kind: dict[str, tuple[int, int]] = {}
    misses = []
    for kind, cases in yaml.safe_load(path.read_text(encoding="utf-8")).items():
        found = 0
        for case in cases:
            redacted, _ = Redactor().redact(case["text"])
            values = [case["secret"], *case.get("also", [])]
            refused = scan_rows([{"output": case["text"]}]) != []
            if refused and not any(value in redacted for value in values):
                found += 1
            else:
                misses.append(f"{kind} {case['file']}")
        per_kind[kind] = (found, len(cases))
    return per_kind, misses


def false_positives(path: Path = CORPUS / "negatives.yaml") -> tuple[int, list[str]]:
    """How many negatives, and the ones with a finding ("kind: rules: text")."""
    negatives = yaml.safe_load(path.read_text(encoding="utf-8"))
    flagged = []
    for kind, texts in negatives.items():
        for text in texts:
            if rules := [m.rule for m in find_secrets(text)]:
                flagged.append(f"{kind}: {','.join(rules)}: {text[:100]}")
    return sum(len(texts) for texts in negatives.values()), flagged


def long_lines() -> dict[str, str]:
    rnd = random.Random(0)
    tokens = " ".join(
        "".join(rnd.choices(TOKEN_CHARS, k=rnd.randint(3, 40))) for _ in range(1_000_000 // 22)
    )
    return {
        "random tokens": tokens,
        "one character": "a" * 1_000_000,
        "quotes": '"' * 1_000_000,
        "keywords": "password=" * 111_111,
        "private key headers": "-----BEGIN PRIVATE KEY-----" * 37_000,
        "printable noise": "".join(rnd.choices(string.printable[:94], k=1_000_000)),
    }


def time_long_lines() -> list[tuple[str, int, float, int]]:
    """(name, length, CPU seconds of find_secrets, findings) per 1 MB line."""
    out = []
    for name, text in long_lines().items():
        start = time.process_time()
        found = find_secrets(text)
        out.append((name, len(text), time.process_time() - start, len(found)))
    return out


def unit_texts(unit) -> list[tuple[str, str]]:
    """(field, text) for every text the slice stage redacts."""
    out = [(name, getattr(unit, name)) for name in UNIT_TEXT_FIELDS]
    out += [(name, value) for name in UNIT_LIST_FIELDS for value in getattr(unit, name)]
    return [(name, text) for name, text in out if isinstance(text, str) and text]


def line_of(root: Path, unit, value: str, cache: dict[str, str]) -> int:
    """The line of `value` in the unit's file nearest to the unit (javadoc is above it)."""
    if unit.path not in cache:
        cache[unit.path] = (root / unit.path).read_text(encoding="utf-8", errors="replace")
    source = cache[unit.path]
    lines, best, pos = [], unit.start_line, source.find(value)
    while pos >= 0:
        lines.append(source.count("\n", 0, pos) + 1)
        pos = source.find(value, pos + 1)
    return min(lines, key=lambda line: abs(line - unit.start_line)) if lines else best


def scan_tree(root: Path, jobs: int, show_values: bool) -> None:
    from dataprep.slicing import slice_repo

    start = time.perf_counter()
    result = slice_repo(root, jobs=jobs)
    sliced = time.perf_counter() - start
    units = result.units
    redactor, rules, listing, altered, cache = Redactor(), Counter(), [], 0, {}
    cpu = time.process_time()
    for unit in units:
        hit = False
        for field, text in unit_texts(unit):
            for m in find_secrets(text):
                hit = True
                rules[m.rule] += 1
                value = text[m.start : m.end]
                shown = value if show_values else redactor.placeholder(m.rule, value)
                context = text[max(0, m.start - 40) : m.start] + shown + text[m.end : m.end + 30]
                where = f"{unit.path}:{line_of(root, unit, value, cache)}"
                listing.append((m.rule, where, field, unit.kind, context.replace("\n", "⏎")))
        altered += hit
    cpu = time.process_time() - cpu
    print(f"\ntree: {root}: {len(result.parsed):,} files, {len(units):,} units")
    print(f"  sliced in {sliced:.1f} s ({jobs} jobs), every unit scanned in {cpu:.1f} CPU s")
    share = altered / len(units) if units else 0.0
    print(f"units altered: {altered:,} of {len(units):,} ({share:.4%})   (goal <= 0.1%)")
    print("findings by rule: " + ", ".join(f"{rule} {n}" for rule, n in rules.most_common()))
    print("alterations (rule, path:line, field of the unit kind, context):")
    for rule, where, field, kind, context in sorted(set(listing), key=lambda x: (x[1], x[0])):
        print(f"  {rule:14s} {where:60s} {field} of {kind}: {context}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree", nargs="?", type=Path, help="a source tree to slice and scan")
    ap.add_argument("--jobs", type=int, default=2, help="slicer worker processes")
    ap.add_argument(
        "--show-values", action="store_true", help="print matched values (public code only)"
    )
    args = ap.parse_args()

    per_kind, misses = recall()
    print(f"recall on {CORPUS / 'planted.yaml'} (found / planted cases):")
    for kind, (found, cases) in per_kind.items():
        print(f"  {kind:22s} {found:3d} / {cases:3d}   {found / cases:7.1%}")
    found = sum(f for f, _ in per_kind.values())
    cases = sum(c for _, c in per_kind.values())
    print(f"  {'all':22s} {found:3d} / {cases:3d}   {found / cases:7.1%}   (goal: 100%)")
    for miss in misses:
        print(f"  missed: {miss}")
    total, flagged = false_positives()
    print(f"false positives on {CORPUS / 'negatives.yaml'}: {len(flagged)} of {total} texts")
    for line in flagged:
        print(f"  flagged: {line}")
    print("find_secrets on a 1 MB single line (CPU s):")
    for name, length, seconds, count in time_long_lines():
        print(f"  {name:22s} {length:>9,} chars  {seconds:6.2f} s  ({count} findings)")
    if args.tree:
        scan_tree(args.tree, args.jobs, args.show_values)


if __name__ == "__main__":
    main()
