"""What each review action does to a pair's Review. Pure: the app commits the result.

Status rules (what export reads from `Store.reviews()`):
- accept: `accepted`, or `edited` when the review holds a revision (accepting keeps it);
- reject: `rejected` with an optional reason; a revision already made is kept in the
  review (undo or a later accept brings it back), export ignores rejected pairs;
- edit: `edited`, with all three of `instruction`, `input`, `output` holding the revision
  (the pair itself never changes); an edit identical to the original is an accept;
- flag / unflag: sets `flagged` and `note`, leaving the status alone.

Secrets a reviewer types (an edit, a reason, a note) are redacted like the repository's own
before the review is stored: `redact_payload` runs over the form first.
"""

from collections.abc import Callable

from dataprep.errors import InputError
from dataprep.models import Pair, Review

ACTIONS = ("accept", "reject", "edit", "flag", "unflag")
BULK_ACTIONS = ("accept", "reject")
MAX_TEXT = 200_000  # characters per edited field or note
TEXT_FIELDS = ("instruction", "input", "output", "reason", "note")


def redact_payload(
    payload: dict[str, object], redact: Callable[[str], tuple[str, list[str]]]
) -> tuple[dict[str, object], list[str]]:
    """The form with every secret in its text fields replaced, and the rules that matched.

    `redact` is `dataprep.secrets.Redactor(store).redact`, so a value gets the same
    placeholder here as in the repository's own text.

    Example: redact_payload({"output": "key AKIA7LRWFVEALKXWKKXZ"}, Redactor().redact) ->
        ({"output": "key <SECRET:aws_access_key:1>"}, ["aws_access_key"])
    """
    out, rules = dict(payload), []
    for name in TEXT_FIELDS:
        value = payload.get(name)
        if isinstance(value, str) and value:
            out[name], found = redact(value)
            rules += found
    return out, rules


def redaction_note(rules: list[str]) -> str | None:
    """What the reviewer is told, or None when nothing was redacted.

    Example: ["password", "email", "password"] ->
        "3 secrets were redacted before saving (email, password)"
    """
    if not rules:
        return None
    what = "1 secret was" if len(rules) == 1 else f"{len(rules)} secrets were"
    return f"{what} redacted before saving ({', '.join(sorted(set(rules)))})"


def has_revision(review: Review) -> bool:
    """Whether the review holds an edited instruction/input/output."""
    return any(v is not None for v in (review.instruction, review.input, review.output))


def next_review(
    current: Review | None, pair: Pair, action: str, payload: dict[str, object]
) -> Review:
    """The review after applying `action` (with its form `payload`) to `current`.

    Example: next_review(None, pair, "reject", {"reason": "wrong"}).status -> "rejected"
    """
    review = current or Review(pair_id=pair.id, status="unreviewed")
    if action == "accept":
        return review.model_copy(
            update={"status": "edited" if has_revision(review) else "accepted", "reason": None}
        )
    if action == "reject":
        return review.model_copy(update={"status": "rejected", "reason": _text(payload, "reason")})
    if action == "edit":
        return _edit(review, pair, payload)
    if action == "flag":
        return review.model_copy(update={"flagged": True, "note": _text(payload, "note")})
    if action == "unflag":
        return review.model_copy(update={"flagged": False, "note": None})
    raise InputError(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")


def bulk_review(action: str, payload: dict[str, object]) -> tuple[str, str | None]:
    """The (status, reason) a bulk `action` gives, for `Store.bulk_review`, which applies
    `next_review`'s accept and reject rules to many pairs in SQL (a test holds them equal).

    Example: bulk_review("reject", {"reason": " vague "}) -> ("rejected", "vague")
    """
    if action == "accept":
        return "accepted", None
    if action == "reject":
        return "rejected", _text(payload, "reason")
    raise InputError(f"bulk action must be one of {', '.join(BULK_ACTIONS)}, not {action!r}")


def _edit(review: Review, pair: Pair, payload: dict[str, object]) -> Review:
    revision = {}
    for name in ("instruction", "input", "output"):
        value = payload.get(name)
        if not isinstance(value, str):
            raise InputError(f"edit needs {name} as text")
        if len(value) > MAX_TEXT:
            raise InputError(f"{name} is longer than {MAX_TEXT} characters: shorten it")
        revision[name] = value.replace("\r\n", "\n")
    if not revision["instruction"].strip() or not revision["output"].strip():
        raise InputError("instruction and output cannot be empty: reject the pair instead")
    if revision == {"instruction": pair.instruction, "input": pair.input, "output": pair.output}:
        cleared = dict.fromkeys(revision)
        return review.model_copy(update={"status": "accepted", "reason": None, **cleared})
    return review.model_copy(update={"status": "edited", "reason": None, **revision})


def _text(payload: dict[str, object], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{name} must be text")
    if len(value) > MAX_TEXT:
        raise InputError(f"{name} is longer than {MAX_TEXT} characters: shorten it")
    return value.strip() or None
