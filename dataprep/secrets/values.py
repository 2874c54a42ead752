"""What a secret value looks like: references and stand-ins are not secrets; entropy,
character classes and identifier shapes tell a random token from a word."""

from __future__ import annotations

import math
import re
from collections import Counter

from dataprep.secrets.matching import MAX_TOKEN, PLACEHOLDER_RE

ALLOWED_VALUES = {
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}  # AWS docs examples
REFERENCE_RE = re.compile(
    r"(?i)^(?:\$\{.*\}|\$\(.*\)|\$\w+|#\{.*\}|%\(.*\)s?|%\w+%|@\w+@|\{\{.*\}\}|<[^>]*>"
    r"|\[[^]]*\]|\*+|x+|\.+|#+|_+|-+|\?+|0+|null|none|nil|true|false|undefined|empty|n/?a)$"
)
STAND_IN_RE = re.compile(
    r"(?i)^(?:(?:your|my|the|some|dummy|fake|sample|example|test|default|placeholder|enter)"
    r"[-_.]?)?(?:pass(?:word|wd|phrase)?|pwd|pw|secret|token|api[-_.]?key|key|credentials?"
    r"|value|here|changeme|change[-_.]?me|change[-_.]?it|dummy|example|sample|placeholder"
    r"|redacted|hidden|masked|todo|fixme|tbd|test|testing|unknown|notset|not[-_.]set|required)"
    r"(?:[-_.]?here)?$"
)
EMAIL_ADDRESS_RE = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
PATH_RE = re.compile(r"^(?:~|\.{1,2})?/[\w./-]*$|^[A-Za-z]:\\")
WORDS_RE = re.compile(r"[A-Za-z]+(?:[-_.][A-Za-z]+)*[.,:;]?")
DOTTED_NAME_RE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$-]*)+")


def stand_in(value: str) -> bool:
    """A reference, a mask or a stand-in word, not a secret. Example: "${DB_PASS}" -> True."""
    return (
        value in ALLOWED_VALUES
        or REFERENCE_RE.match(value) is not None
        or STAND_IN_RE.match(value) is not None
        or PLACEHOLDER_RE.search(value) is not None
        or len(set(value)) == 1
    )


def literal_secret(value: str) -> bool:
    """A string literal in a place that only holds a secret (`getConnection(u, s, "X")`).

    Example: literal_secret("admin") -> True; literal_secret("changeme") -> False.
    """
    return (
        4 <= len(value) <= MAX_TOKEN
        and not any(ch.isspace() for ch in value)
        and not stand_in(value)
        and not PATH_RE.match(value)
        and not EMAIL_ADDRESS_RE.fullmatch(value)  # the e-mail rule decides on addresses
    )


def keyed_secret(value: str) -> bool:
    """A configured value under a password-like key: a literal with a digit or a symbol.

    Words ("Keystore-Kennwort", "TlsPrf") are labels; expressions, sentences, dotted names
    and paths are not literals. Example: keyed_secret("Pa55-word") -> True.
    """
    if not literal_secret(value) or "(" in value or "\\" in value or value[-1] in ";,":
        return False
    return not (WORDS_RE.fullmatch(value) or DOTTED_NAME_RE.fullmatch(value))


def prose_secret(value: str, strict: bool = False) -> bool:
    """A password written in prose: keyed_secret, 5+ characters, no brackets, a letter.

    `strict` (no "password:" separator before it) also needs 6+ characters, a digit and a
    symbol.
    Example: prose_secret("Summer2024!x", strict=True) -> True.
    """
    if len(value) < (6 if strict else 5) or not keyed_secret(value):
        return False
    if any(ch in "()[]{}<>;,=" for ch in value):
        return False
    letter = any(ch.isalpha() for ch in value)
    if not strict:
        return letter
    return letter and any(ch.isdigit() for ch in value) and not value.isalnum()


def shannon_entropy(text: str) -> float:
    """Bits per character. Example: shannon_entropy("aabb") -> 1.0."""
    counts, n = Counter(text), len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


_ASCII_CLASSES = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "u" * 26 + "l" * 26 + "d" * 10
)
_CLASS_RUN_RE = re.compile(r"u+|l+|d+|[^uld]+")


def _classes(value: str) -> str:
    """One letter per character: u(pper), l(ower), d(igit), anything else for the rest."""
    if value.isascii():
        return value.translate(_ASCII_CLASSES)  # one pass in C
    return "".join(
        "u" if c.isupper() else "l" if c.islower() else "d" if c.isdigit() else "o" for c in value
    )


def class_changes(value: str) -> int:
    """How often the character class (upper, lower, digit, other) changes between neighbours.

    Random base64 changes class at about 65% of positions, CamelCase words far less.
    Example: class_changes("aB1") -> 2.
    """
    return max(0, len(_CLASS_RUN_RE.findall(_classes(value))) - 1)


HEX_RE = re.compile(r"[0-9a-fA-F]+(?:[-:][0-9a-fA-F]+)*")
# snake and CONSTANT case: parts are words with at most 3 digits ("RC2", "MD5", "40")
IDENTIFIER_RE = re.compile(
    r"(?:[A-Z]+\d{0,3}|\d{1,3})(?:_(?:[A-Z]+\d{0,3}|\d{1,3}))+"
    r"|(?:[a-z]+\d{0,3}|\d{1,3})(?:_(?:[a-z]+\d{0,3}|\d{1,3}))+"
)


# words in camel case, acronyms and short numbers ("myRefedMBeanObjName2RelIdsMap"); atomic
# alternatives, so that a string that is no such name fails in linear time
CAMEL_RE = re.compile(r"(?:[A-Z]{0,4}+[a-z]{2,}+|[A-Z]++(?![a-z])|\d{1,4}+|[_$.-])++")


def looks_random(value: str, min_entropy: float = 4.0) -> bool:
    """A token that mixes letters and digits and has high entropy (base64) or is long hex.

    Example: looks_random("MWy2xdKbiGpW5B9G0xQLOry7eJZXwoR4") -> True;
    looks_random("ROOM_NOT_FOUND_ERROR_CODE") -> False.
    """
    classes = _classes(value)
    digits, upper, lower = classes.count("d"), classes.count("u"), classes.count("l")
    if digits == 0 or upper + lower == 0 or IDENTIFIER_RE.fullmatch(value):
        return False
    if HEX_RE.fullmatch(value) and "-" not in value and ":" not in value:
        return len(value) >= 32 and shannon_entropy(value) >= 3.3
    if len(_CLASS_RUN_RE.findall(classes)) - 1 < 0.5 * (len(value) - 1) or CAMEL_RE.fullmatch(
        value
    ):
        return False  # words in CamelCase ("PBEWithHmacSHA256AndAES_128"), not noise
    if upper == 0 or lower == 0:
        return len(value) >= 24 and shannon_entropy(value) >= min_entropy
    return shannon_entropy(value) >= min_entropy


def random_token(value: str, min_entropy: float = 4.0) -> bool:
    """looks_random, less hashes and digests: hex (git SHAs, UUIDs, fingerprints) and SRI.

    Example: random_token("sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC")
    -> False.
    """
    if HEX_RE.fullmatch(value) or value.startswith(("sha1-", "sha256-", "sha384-", "sha512-")):
        return False
    return looks_random(value, min_entropy)
