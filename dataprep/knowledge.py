"""The knowledge split: facts about files that are in training, asked of the tuned model.

Two kinds of row (dataprep.splits says where they sit among the splits):
- held-out facts (`hold_out_facts`): about `KNOWLEDGE_SHARE` of each task's train pairs,
  each from a unit that keeps another pair in train, so what it says stays learnable;
- rephrasings (`rephrasings_of`, at export): train facts asked again in another of their
  task's phrasings (`rephrase`), so the set measures knowledge, not recall of a wording.

Example: "Explain what login in AuthController does." (method.explain.1, in train) ->
    "What does the method login of AuthController do?" (method.explain.0, in knowledge)
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from string import Formatter

import numpy as np

from dataprep.models import Pair

KNOWLEDGE_SHARE = 0.05
"""Held-out facts: about this share of the train files' pairs of each task."""
REPHRASE_SHARE = 0.05
"""Facts asked again in another phrasing: about this share of each task's train pairs."""


def rank(seed: int, salt: str, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}\0{salt}\0{key}".encode()).digest()[:8], "big")


def _quota(n: int, share: float) -> int:
    """How many of n to take: the share rounded, at least one from ten up.

    Example: _quota(27, 0.05) -> 1; _quota(112, 0.05) -> 6; _quota(4, 0.05) -> 0
    """
    return max(round(n * share), 1 if n * share >= 0.5 else 0)


def hold_out_facts(train: list[Pair], seed: int = 0, share: float = KNOWLEDGE_SHARE) -> list[str]:
    """Ids of train pairs to hold out as knowledge: about `share` of each task's pairs, in
    seeded hash order, each from a unit that keeps at least one other pair in train and
    gives no other held-out fact (so what the fact says stays learnable from training).

    Example: a unit with method.code and member.signature pairs may lose the signature
    pair to knowledge; a unit with a single pair never loses it.
    """
    left = Counter(p.unit_id for p in train)
    by_task: dict[str, list[Pair]] = defaultdict(list)
    for pair in train:
        by_task[pair.task].append(pair)
    taken: set[str] = set()
    out: list[str] = []
    for task in sorted(by_task):
        members = sorted(by_task[task], key=lambda p: (rank(seed, "knowledge", p.id), p.id))
        wanted = _quota(len(members), share)
        for pair in members:
            if wanted <= 0:
                break
            if left[pair.unit_id] < 2 or pair.unit_id in taken:
                continue
            out.append(pair.id)
            taken.add(pair.unit_id)
            left[pair.unit_id] -= 1
            wanted -= 1
    return sorted(out)


def rephrase(pair: Pair, phrasings: list[str], qualifier: str | None, seed: int = 0) -> Pair | None:
    """The same fact asked in another of its task's phrasings, or None when the instruction
    does not read back through its own phrasing (an edited pair, a changed template).

    The instruction is parsed with its phrasing (and qualifier, when one was appended),
    and another phrasing that uses only the values found is filled in; a seeded hash
    picks it.
    Example: "Explain what login in AuthController does." (method.explain.1) ->
        "What does the method login of AuthController do?" (method.explain.0)
    """
    index = _phrasing_index(pair)
    if index is None or index >= len(phrasings):
        return None
    found = _parse(pair.instruction, phrasings[index], qualifier)
    if found is None:
        return None
    values, qualified = found
    others = [
        i for i, text in enumerate(phrasings) if i != index and _placeholders(text) <= set(values)
    ]
    if not others:
        return None
    chosen = others[rank(seed, "phrasing", pair.id) % len(others)]
    instruction = phrasings[chosen].format(**values)
    if qualified:
        instruction = f"{instruction} {qualifier.format(**values)}"
    template = f"{pair.task}.{chosen}"
    return pair.model_copy(
        update={
            "id": Pair.make_id(pair.unit_id, template, instruction, pair.input, pair.output),
            "instruction": instruction,
            "template": template,
        }
    )


def question(instruction: str, input: str) -> bytes:
    """A question's key: a hash of its instruction and input (`rephrasings_of`)."""
    text = f"{instruction}\0{input}".encode()
    return hashlib.blake2b(text, digest_size=16).digest()


def rephrasings_of(
    selected: Iterable[tuple[Pair, str | None]],
    fetch: Callable[[str], Pair],
    seed: int = 0,
    share: float = REPHRASE_SHARE,
) -> list[tuple[Pair, str]]:
    """(rephrased pair, its train pair's id) for about `share` of each template task's train
    pairs, in seeded hash order; a rephrasing whose instruction and input are already asked
    elsewhere is skipped, so no question gets two answers. `selected` yields each exported
    pair with its split once, and `fetch(id)` gives a pair back when it is chosen, so only
    the questions' hashes and the train pairs' ids are held.
    """
    from dataprep.generate.tasks import load_templates

    tasks = load_templates()
    asked: set[bytes] = set()
    candidates: list[tuple[str, str]] = []
    for pair, split in selected:
        asked.add(question(pair.instruction, pair.input))
        if split == "train" and pair.generator == "template" and pair.task in tasks:
            candidates.append((pair.task, pair.id))
    return choose_rephrasings(asked, candidates, fetch, seed, share)


def choose_rephrasings(
    asked: set[bytes] | Questions,
    candidates: Iterable[tuple[str, str]] | Mapping[str, np.ndarray],
    fetch: Callable[[str], Pair],
    seed: int = 0,
    share: float = REPHRASE_SHARE,
) -> list[tuple[Pair, str]]:
    """`rephrasings_of`, given the `question`s of every exported pair (`asked`, added to)
    and the (task, id) of its train pairs of template tasks (`candidates`, in any order; or
    task -> a bytes column of their ids, UTF-8, as the export gives them)."""
    from dataprep.generate.tasks import load_templates

    tasks = load_templates()
    if isinstance(candidates, Mapping):
        by_task = dict(candidates)
    else:
        listed: dict[str, list[bytes]] = defaultdict(list)
        for task, pair_id in candidates:
            listed[task].append(pair_id.encode("utf-8"))
        by_task = {task: np.array(ids, dtype="S") for task, ids in listed.items()}
    out: list[tuple[Pair, str]] = []
    for task in sorted(by_task):
        ids = by_task.pop(task)
        ranks = np.fromiter(
            (rank(seed, "rephrase", pid.decode("utf-8")) for pid in ids.tolist()),
            dtype=np.uint64,
            count=len(ids),
        )
        wanted = _quota(len(ids), share)
        for at in np.lexsort((ids, ranks)).tolist():  # by (rank, id)
            if wanted <= 0:
                break
            pid = ids[at].decode("utf-8")
            pair = fetch(pid)
            again = rephrase(pair, tasks[task].phrasings, tasks[task].qualifier, seed)
            if again is None or question(again.instruction, again.input) in asked:
                continue
            asked.add(question(again.instruction, again.input))
            out.append((again, pid))
            wanted -= 1
    return out


class Questions:
    """The `question`s of many pairs as one sorted 16-byte column, plus those added one at
    a time: what `choose_rephrasings` asks of a set of them, in about 16 bytes a question.

    Example: q = Questions(np.array([question("a", "")], "S16")); question("a", "") in q -> True
    """

    def __init__(self, found: np.ndarray):
        self.sorted = np.unique(found)
        self.added: set[bytes] = set()

    def __contains__(self, key: bytes) -> bool:
        if key in self.added:
            return True
        at = int(np.searchsorted(self.sorted, np.array([key], dtype="S16")[0]))
        # a column's values read back without their trailing zero bytes
        return at < len(self.sorted) and self.sorted[at] == key.rstrip(b"\x00")

    def add(self, key: bytes) -> None:
        self.added.add(key)


def _phrasing_index(pair: Pair) -> int | None:
    task, _, number = pair.template.rpartition(".")
    return int(number) if task == pair.task and number.isdigit() else None


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def _parse(text: str, phrasing: str, qualifier: str | None) -> tuple[dict[str, str], bool] | None:
    """The placeholder values that make `phrasing` (then, maybe, " " + `qualifier`) read
    `text`, and whether the qualifier was there; None when neither reads it back.

    Example: _parse("Explain a in B.", "Explain {member} in {type}.", None)
        -> ({"member": "a", "type": "B"}, False)
    """
    forms = [(phrasing, False)]
    if qualifier:
        forms.append((f"{phrasing} {qualifier}", True))
    for form, qualified in forms:
        match = _pattern(form).fullmatch(text)
        if match is None:
            continue
        values = match.groupdict()
        if form.format(**values) == text:
            return values, qualified
    return None


def _pattern(form: str):
    parts, seen = [], set()
    for literal, name, _, _ in Formatter().parse(form):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("".join(parts), re.S)
