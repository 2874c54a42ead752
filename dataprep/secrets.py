"""Secrets and personal data: detect, redact with stable placeholders, refuse to publish.

Detection combines rules of our own (exact spans for provider tokens, PEM private keys,
passwords in URLs and configuration, high-entropy quoted strings, e-mail addresses and
public IPv4 addresses) with the regex detectors of `detect-secrets` (a maintained
catalogue of provider formats: Azure, Discord, IBM, Mailchimp, PyPI, Twilio, ...).

Redaction replaces each value by a placeholder such as `<SECRET:aws_access_key:1>`; the
same value always gets the same placeholder within one store. The store keeps only a
salted hash of each value (meta `secrets.salt`, `secrets.placeholders`), never the value.
Findings name the rule and where, never the value.

Left alone on purpose: private, loopback, link-local and documentation IP ranges, the
well-known public DNS resolvers, reserved example domains (example.com/.org/.net),
AWS's documented example key, and values that are references (`${DB_PASSWORD}`).

Example:
    redactor = Redactor(store)
    unit, findings = redactor.redact_unit(unit)   # unit.id recomputed from redacted code
    scan_rows([{"output": "key AKIA..."}])
        -> [Finding(rule="aws_access_key", field="output", row=0)]
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import secrets as _random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dataprep.models import Unit

PLACEHOLDER_RE = re.compile(r"<SECRET:[a-z0-9_]+:\d+>")


@dataclass(frozen=True)
class Finding:
    """A secret found: the rule that matched and where (never the value)."""

    rule: str
    field: str | None = None
    row: int | str | None = None


@dataclass(frozen=True)
class Match:
    """A span of text that holds a secret (internal: the caller owns the text)."""

    rule: str
    start: int
    end: int
    priority: int = 5


# --- rules of our own ---------------------------------------------------------------

# Provider formats: the whole match is the secret.
PROVIDER_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b")),
    ("github_token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b")),
    ("github_token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{60,255}\b")),
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{30,40}\b")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,250}")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}")),
    ("stripe_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,99}\b")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    (
        "openai_key",
        re.compile(
            r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}\b"
        ),
    ),
    ("openai_key", re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}\b")),
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{32,}\b")),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("pypi_token", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}")),
    ("sendgrid_key", re.compile(r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b")),
    ("twilio_key", re.compile(r"\bSK[0-9a-f]{32}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
]
# A substring each provider rule's match must contain (checked before the regex runs).
PROVIDER_LITERALS = [
    "A", "_", "github_pat_", "hf_", "xox", "hooks.slack", "_", "AIza", "sk-", "sk-", "sk-ant-",
    "glpat-", "npm_", "pypi-", "SG.", "SK", "eyJ",
]  # fmt: skip
ALLOWED_VALUES = {
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}  # AWS docs examples

PEM_RE = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----"
    # a block without its END line: redact the body that follows
    r"(?:.*?-----END \1-----|[A-Za-z0-9+/=\s\\n\"'+,:-]*)",
    re.S,
)

# Passwords inside URLs: `jdbc:...?user=app&password=X`, `;password=X`, `scheme://user:X@host`.
URL_PASSWORD_RES = [
    re.compile(r"(?i)[?&;](?:password|passwd|pwd)=(?P<v>[^&;\s\"'<>]+)"),
    re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@\"'<>]+:(?P<v>[^@\s/\"'<>]+)@[\w.-]+"),
]

STRONG_KEY = (
    r"(?:password|passwd|passphrase|pwd|secret|private[-_.]?key|api[-_.]?key|access[-_.]?key"
    r"|credentials?)"
)
WEAK_KEY = r"(?:token|auth|key|salt|signature)"
# `key = value` / `key: value` configuration lines (.properties, .yml, .env, docs quoting them)
CONFIG_RE = re.compile(
    r"(?im)^[ \t]*(?:[-*][ \t]+)?(?:export[ \t]+)?[\"']?(?P<k>[\w.\-\[\]]*?"
    rf"(?:{STRONG_KEY}|{WEAK_KEY})[_\d]*)[\"']?[ \t]*(?:=|:(?!:))[ \t]*"
    r"(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s#]+)[ \t]*(?:#.*)?$"
)
# quoted assignments in code and JSON: `SECRET = "X"`, `"password": "X"`, `put("token", "X")`.
# Keys end with the keyword (`DB_PASSWORD`, `apiKey`): `SecretKeyFactory`, `token-lifetime`
# and `keyMaterialAlg` name other things.
CODE_RE = re.compile(
    rf"(?i)\b(?P<k>\w*(?:{STRONG_KEY}|{WEAK_KEY})[_\d]*)[\"']?\s*(?:=|:|,)\s*"
    r"(?P<q>[\"'])(?P<v>[^\"'\n]+)(?P=q)"
)
# XML: `<property name="password" value="X"/>` and `<password>X</password>`
XML_RES = [
    re.compile(
        rf"(?i)name\s*=\s*\"(?P<k>[^\"]*(?:{STRONG_KEY}|{WEAK_KEY})[_\d]*)\"\s+value\s*=\s*\"(?P<v>[^\"]+)\""
    ),
    re.compile(rf"(?i)<(?P<k>[\w.:-]*(?:{STRONG_KEY}|{WEAK_KEY})[_\d]*)>(?P<v>[^<\n]+)</(?P=k)>"),
]
KEYWORD_HINT_RE = re.compile(r"pass|pwd|secret|key|token|auth|salt|signature|credential")
REFERENCE_RE = re.compile(
    r"^(?:\$\{.*\}|\$\w+|#\{.*\}|%\(.*\)s?|\{\{.*\}\}|<[^>]*>|\*+|x+|\.+|null|none|true|false)$",
    re.I,
)

QUOTED_RE = re.compile(r"([\"'])([A-Za-z0-9+/=_-]{16,})\1")
BARE_TOKEN_RE = re.compile(r"(?<![\w+/=.-])[A-Za-z0-9+/_-]{32,}={0,2}(?![\w+/=.-])")
EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b"
)
IPV4_RE = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.]\d)"
)
SECTION_RE = re.compile(r"(?i)(?:@jls|@jvms|section|chapter|rfc|§|version)\s*[{]?\S*\s*$")
RESOLVERS = {
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112",
    "208.67.222.222", "208.67.220.220", "64.6.64.6", "64.6.65.6", "94.140.14.14", "94.140.15.15",
}  # fmt: skip
EXAMPLE_DOMAINS_RE = re.compile(
    r"(?i)@(?:[\w-]+\.)*(?:example\.(?:com|org|net)|localhost|[\w-]+\.(?:test|invalid|example))$"
)


def shannon_entropy(text: str) -> float:
    """Bits per character. Example: shannon_entropy("aabb") -> 1.0."""
    counts, n = Counter(text), len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def class_changes(value: str) -> int:
    """How often the character class (upper, lower, digit, other) changes between neighbours.

    Random base64 changes class at about 65% of positions, CamelCase words far less.
    Example: class_changes("aB1") -> 2.
    """
    classes = [
        "u" if c.isupper() else "l" if c.islower() else "d" if c.isdigit() else "o" for c in value
    ]
    return sum(a != b for a, b in zip(classes, classes[1:], strict=False))


def looks_random(value: str, min_entropy: float = 4.0) -> bool:
    """A token that mixes letters and digits and has high entropy (base64) or is long hex.

    Example: looks_random("MWy2xdKbiGpW5B9G0xQLOry7eJZXwoR4") -> True;
    looks_random("ROOM_NOT_FOUND_ERROR_CODE") -> False.
    """
    digits = sum(ch.isdigit() for ch in value)
    letters = sum(ch.isalpha() for ch in value)
    if digits == 0 or letters == 0:
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", value):
        return len(value) >= 32 and shannon_entropy(value) >= 3.3
    if class_changes(value) < 0.5 * (len(value) - 1):
        return False  # words in CamelCase ("PBEWithHmacSHA256AndAES_128"), not noise
    upper = sum(ch.isupper() for ch in value)
    lower = sum(ch.islower() for ch in value)
    if upper == 0 or lower == 0:
        return len(value) >= 24 and shannon_entropy(value) >= min_entropy
    return shannon_entropy(value) >= min_entropy


def _secret_value(value: str, strong: bool) -> bool:
    """Is a configured value an actual secret (not a reference, a flag or a word)?"""
    value = value.strip().strip("\"'")
    if value in ALLOWED_VALUES or REFERENCE_RE.match(value) or PLACEHOLDER_RE.fullmatch(value):
        return False
    if "(" in value or value.endswith((";", ",")) or " " in value or "\\" in value:
        return False  # an expression, a sentence or an escaped message, not a literal
    if re.fullmatch(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$-]*)+", value):
        return False  # a dotted name (class, property or message key)
    if (
        strong
    ):  # a password has a digit or a symbol; words ("Keystore-Kennwort", "TlsPrf") are labels
        return len(value) >= 4 and not re.fullmatch(r"[A-Za-z]+(?:[-_.][A-Za-z]+)*", value)
    return len(value) >= 8 and looks_random(value, 3.0)


def _value_span(m: re.Match[str]) -> tuple[int, int]:
    start, end = m.span("v")
    value = m.group("v")
    if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
        start, end = start + 1, end - 1
    return start, end


def _keyed_matches(text: str) -> Iterable[Match]:
    for regex in (CONFIG_RE, CODE_RE, *XML_RES):
        for m in regex.finditer(text):
            key = m.group("k")
            strong = re.search(STRONG_KEY, key, re.I) is not None
            start, end = _value_span(m)
            if end > start and _secret_value(text[start:end], strong):
                password = re.search(r"pass|pwd", key, re.I) is not None
                yield Match(
                    "password" if password else "secret" if strong else "token", start, end, 3
                )


def _public_ip(value: str) -> bool:
    octets = value.split(".")
    if value in RESOLVERS or (len(octets[0]) == 1 and len(octets[1]) == 1):
        return False  # "8.1.1.2", "2.5.4.10": section numbers and OIDs far more often than IPs
    ip = ipaddress.ip_address(value)
    return ip.is_global and not ip.is_multicast


@lru_cache(maxsize=1)
def _detect_secrets_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """The regex catalogue of detect-secrets, minus detectors we replace with exact rules."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    # ours are stricter (word boundaries, whole PEM blocks, resolvers left alone)
    skip = {"IPPublicDetector", "PrivateKeyDetector", "BasicAuthDetector", "AWSKeyDetector"}
    out = []
    for secret_type, cls in get_mapping_from_secret_type_to_class().items():
        if cls.__name__ in skip or not hasattr(cls, "denylist"):
            continue
        rule = "ds_" + re.sub(r"[^a-z0-9]+", "_", secret_type.lower()).strip("_")
        out.extend((rule, pattern) for pattern in cls().denylist)
    return out


TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/=_-]")
# The detect-secrets formats we rely on hold a run of 16+ token characters with two digits;
# only lines with such a run are handed to its (slow, keyword-heavy) patterns.
CANDIDATE_RE = re.compile(r"[A-Za-z0-9_+/=-]*\d[A-Za-z0-9_+/=-]*")


def _detect_secrets_matches(text: str) -> Iterable[Match]:
    lines: set[tuple[int, int]] = set()
    for m in CANDIDATE_RE.finditer(text):
        if m.end() - m.start() >= 16 and sum(ch.isdigit() for ch in m.group(0)) >= 2:
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.end())
            lines.add((start, len(text) if end < 0 else end))
    for line_start, line_end in sorted(lines):
        line = text[line_start:line_end]
        for rule, regex in _detect_secrets_patterns():
            for m in regex.finditer(line):
                span = m.span(1) if m.groups() and m.group(1) and len(m.group(1)) >= 8 else m.span()
                start, end = _expand(line, *span)
                if end - start >= 8 and line[start:end] not in ALLOWED_VALUES:
                    yield Match(rule, line_start + start, line_start + end, 4)


def _expand(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a span to the whole token around it (detectors sometimes capture a prefix)."""
    while start > 0 and TOKEN_CHARS.match(text[start - 1]):
        start -= 1
    while end < len(text) and TOKEN_CHARS.match(text[end]):
        end += 1
    return start, end


def find_secrets(text: str) -> list[Match]:
    """Non-overlapping spans of `text` that hold secrets or personal data, in order.

    Example: find_secrets("key=AKIA7LRWFVEALKXWKKXZ") -> [Match("aws_access_key", 4, 24, 1)].
    """
    if not text:
        return []
    found: list[Match] = []
    # Each family runs only when a substring it needs is present: most code has none.
    if "PRIVATE KEY" in text:
        found += [Match("private_key", m.start(), m.end(), 0) for m in PEM_RE.finditer(text)]
    for (rule, regex), literal in zip(PROVIDER_RULES, PROVIDER_LITERALS, strict=True):
        if literal in text:
            found += [
                Match(rule, *m.span(), 1)
                for m in regex.finditer(text)
                if m.group(0) not in ALLOWED_VALUES
            ]
    lower = text.lower()
    if "://" in text or "pass" in lower or "pwd" in lower:
        for regex in URL_PASSWORD_RES:
            found += [
                Match("url_password", *m.span("v"), 2)
                for m in regex.finditer(text)
                if _secret_value(m["v"], True)
            ]
    if KEYWORD_HINT_RE.search(lower):
        found += list(_keyed_matches(text))
    found += list(_detect_secrets_matches(text))
    if '"' in text or "'" in text:
        for m in QUOTED_RE.finditer(text):
            value = m.group(2)
            if looks_random(value) and ("/" not in value or len(value) >= 32):
                found.append(Match("high_entropy", *m.span(2), 6))
    for m in BARE_TOKEN_RE.finditer(text):
        if looks_random(m.group(0), 4.5) and sum(ch.isdigit() for ch in m.group(0)) >= 2:
            found.append(Match("high_entropy", *m.span(), 7))
    if "@" in text:
        for m in EMAIL_RE.finditer(text):
            if not EXAMPLE_DOMAINS_RE.search(m.group(0)):
                found.append(Match("email", *m.span(), 8))
    if "." in text:
        for m in IPV4_RE.finditer(text):
            if _public_ip(m.group(0)) and not SECTION_RE.search(
                text[max(0, m.start() - 12) : m.start()]
            ):
                found.append(Match("public_ip", *m.span(), 9))
    return _non_overlapping(text, found)


def _non_overlapping(text: str, found: list[Match]) -> list[Match]:
    """Keep the strongest match where spans overlap; never split a placeholder."""
    chosen: list[Match] = []
    taken: list[tuple[int, int]] = [m.span() for m in PLACEHOLDER_RE.finditer(text)]
    for match in sorted(found, key=lambda m: (m.priority, m.start, -(m.end - m.start))):
        if match.end <= match.start:
            continue
        if any(match.start < end and start < match.end for start, end in taken):
            continue
        chosen.append(match)
        taken.append((match.start, match.end))
    return sorted(chosen, key=lambda m: m.start)


def scan_text(text: str) -> list[str]:
    """The rules that match in `text`, one per finding (no values). Example: ["email"]."""
    return [m.rule for m in find_secrets(text)]


def scan_rows(
    rows: Iterable[Mapping[str, Any]], fields: Iterable[str] | None = None
) -> list[Finding]:
    """Findings in dataset rows (what `dataprep push` refuses on): row index, field, rule.

    Example: scan_rows([{"output": "mail ops@grandhotel.io"}]) ->
        [Finding(rule="email", field="output", row=0)]
    """
    wanted = set(fields) if fields is not None else None
    out: list[Finding] = []
    for index, row in enumerate(rows):
        for name, value in row.items():
            if isinstance(value, str) and (wanted is None or name in wanted):
                out.extend(Finding(rule, name, index) for rule in scan_text(value))
    return out


# --- redaction ----------------------------------------------------------------------

UNIT_TEXT_FIELDS = (
    "name", "qualified_name", "code", "signature", "declaration", "javadoc", "initializer",
    "type", "type_parameters", "package",
)  # fmt: skip
UNIT_LIST_FIELDS = (
    "modifiers", "annotations", "parameters", "extends", "implements", "permits", "throws",
    "imports", "heading_path",
)  # fmt: skip


class Redactor:
    """Replaces secrets with stable, numbered placeholders; the numbering lives in the store.

    Example:
        r = Redactor(store)
        r.redact("user ops@grandhotel.io") -> ("user <SECRET:email:1>", ["email"])
    """

    def __init__(self, store=None):
        self.store = store
        meta = store.get_meta if store is not None else (lambda key, default=None: default)
        self.salt: str = meta("secrets.salt") or _random.token_hex(16)
        self.placeholders: dict[str, str] = dict(meta("secrets.placeholders", {}) or {})
        self._counts = Counter(p.split(":")[1] for p in self.placeholders.values())
        self._dirty = store is not None and meta("secrets.salt") is None

    def placeholder(self, rule: str, value: str) -> str:
        """The placeholder of `value` (the same value always gets the same one)."""
        key = hashlib.sha256(f"{self.salt}\x00{value}".encode()).hexdigest()[:24]
        if key not in self.placeholders:
            self._counts[rule] += 1
            self.placeholders[key] = f"<SECRET:{rule}:{self._counts[rule]}>"
            self._dirty = True
        return self.placeholders[key]

    def redact(self, text: str) -> tuple[str, list[str]]:
        """`text` with every secret replaced, and the rules that matched (no values)."""
        matches = find_secrets(text)
        if not matches:
            return text, []
        parts, last = [], 0
        for m in matches:
            parts += [text[last : m.start], self.placeholder(m.rule, text[m.start : m.end])]
            last = m.end
        parts.append(text[last:])
        return "".join(parts), [m.rule for m in matches]

    def redact_unit(self, unit: Unit) -> tuple[Unit, list[Finding]]:
        """The unit with every text field redacted (id recomputed when the code changed)."""
        changes: dict[str, Any] = {}
        findings: list[Finding] = []
        for name in UNIT_TEXT_FIELDS:
            value = getattr(unit, name)
            if isinstance(value, str) and value:
                new, rules = self.redact(value)
                if rules:
                    changes[name] = new
                    findings += [Finding(rule, name, unit.path) for rule in rules]
        for name in UNIT_LIST_FIELDS:
            values = getattr(unit, name)
            redacted = [self.redact(v) for v in values]
            if any(rules for _, rules in redacted):
                changes[name] = [new for new, _ in redacted]
                findings += [
                    Finding(rule, name, unit.path) for _, rules in redacted for rule in rules
                ]
        if not changes:
            return unit, []
        new_unit = unit.model_copy(update=changes)
        new_unit.id = Unit.make_id(
            new_unit.path, new_unit.kind, new_unit.qualified_name, new_unit.signature, new_unit.code
        )
        self.save()
        return new_unit, findings

    def redact_units(self, units: list[Unit]) -> tuple[list[Unit], list[Finding]]:
        """Redact many units; `parent` links that named a changed unit id follow it."""
        out, findings, renamed = [], [], {}
        for unit in units:
            new, found = self.redact_unit(unit)
            if new.id != unit.id:
                renamed[unit.id] = new.id
            out.append(new)
            findings += found
        if renamed:
            out = [
                u.model_copy(update={"parent": renamed[u.parent]}) if u.parent in renamed else u
                for u in out
            ]
        return out, findings

    def save(self) -> None:
        """Persist the salt and the hash -> placeholder map (never the values)."""
        if self.store is None or not self._dirty:
            return
        self.store.set_meta("secrets.salt", self.salt)
        self.store.set_meta("secrets.placeholders", self.placeholders)
        self._dirty = False
