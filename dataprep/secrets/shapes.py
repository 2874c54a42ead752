"""Values found by their shape alone: high-entropy tokens, e-mail addresses, public IPv4
addresses."""

from __future__ import annotations

import ipaddress
import re

from dataprep.secrets.matching import Match, word_char
from dataprep.secrets.values import random_token

QUOTED_RE = re.compile(r"([\"'])([A-Za-z0-9+/=_-]{16,1024}+)\1")
BARE_TOKEN_RE = re.compile(r"(?<![\w+/=.-])[A-Za-z0-9+/_-]{32,1024}+={0,2}(?![\w+/=.-])")
# A text's UTF-8 with BARE_TOKEN_RE's characters as "a", every other byte as " ": a bare
# token needs 32 "a" in a row (a quick look before the regex, which tries most places).
_TOKEN_BYTES = bytes(
    b"a"[0] if chr(i).isascii() and (chr(i).isalnum() or chr(i) in "+/_-") else b" "[0]
    for i in range(256)
)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


# hashes and digests are random too: not where the code says so (`expected`, `sha256`, ...)
HASH_CONTEXT_RE = re.compile(
    r"(?i)hash|digest|sha-?\d|md5|checksum|fingerprint|crc|integrity|expected|vector"
)


def entropy_matches(text: str, lower: str, out: list[Match]) -> None:
    candidates = []
    if '"' in text or "'" in text:
        for m in QUOTED_RE.finditer(text):
            value = m.group(2)
            if random_token(value) and ("/" not in value or len(value) >= 32):
                candidates.append(Match("high_entropy", *m.span(2), 6))
    if len(text) >= 32 and b"a" * 32 in _utf8(text).translate(_TOKEN_BYTES):
        for m in BARE_TOKEN_RE.finditer(text):
            value = m.group(0)
            if random_token(value, 4.5) and sum(ch.isdigit() for ch in value) >= 2:
                candidates.append(Match("high_entropy", *m.span(), 7))
    for match in candidates:
        before = HASH_CONTEXT_RE.search(text, max(0, match.start - 120), match.start)
        if not before and not HASH_CONTEXT_RE.search(text, match.end, match.end + 60):
            out.append(match)


# the domain first (found by its "@"), then the local part backwards, at most 64 characters
EMAIL_DOMAIN_RE = re.compile(r"@(?:[A-Za-z0-9-]{1,63}+\.){1,8}[A-Za-z]{2,24}\b")
LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
KEPT_EMAIL_DOMAINS_RE = re.compile(
    r"(?i)@(?:[\w-]+\.)*(?:example\.(?:com|org|net)|[\w-]+\.(?:test|invalid|example|localhost)"
    r"|(?:email|domain|test|foo|bar|foobar|company|yourcompany|yourdomain|mydomain|somedomain"
    r"|somewhere|acme)\.com)$"
)


def email_matches(text: str, lower: str, out: list[Match]) -> None:
    for m in EMAIL_DOMAIN_RE.finditer(text):
        at = start = m.start()
        while start > at - 65 and start > 0 and text[start - 1] in LOCAL_CHARS:
            start -= 1
        if start == at or start == at - 65 or word_char(text, start - 1):
            continue
        if text[start:at] == "git" or m.group(0).isupper():
            continue  # `git@github.com:org/repo.git`, `host/x.com@REALM.COM`: not a person
        if text[start].isalnum() and not KEPT_EMAIL_DOMAINS_RE.search(m.group(0)):
            out.append(Match("email", start, m.end(), 8))


IPV4_RE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
# An ASCII text with digits as "d", dots as ".", every other character as " ": a dotted
# quad needs "d.d" (`\d` is any Unicode digit: other texts go straight to the regex).
_DIGIT_DOTS = (
    bytes(
        b"d"[0] if chr(i).isdigit() else b"."[0] if chr(i) == "." else b" "[0] for i in range(128)
    )
    + b" " * 128
)
OCTET_RE = re.compile(r"25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d")
VERSION_CONTEXT_RE = re.compile(
    r"(?i)(?:@?jls|@?jvms|section|sections|chapter|clause|rfc|§|version|release|build|update|oid"
    r"|table|figure|appendix|step|item|paragraph|(?:described|defined|specified) in|as per)"
    r"[\s*{@:,.\w>(-]{0,12}$|[A-Za-z\d]/$|[vV_-]$"
)
RESOLVERS = {
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112",
    "208.67.222.222", "208.67.220.220", "64.6.64.6", "64.6.65.6", "94.140.14.14", "94.140.15.15",
}  # fmt: skip


def public_ip(text: str, start: int, end: int) -> bool:
    """Is the dotted quad at text[start:end] a public host's address, not a version or a
    section number? Example: public_ip("at 52.28.119.40", 3, 15) -> True."""
    value = text[start:end]
    octets = value.split(".")
    if not all(OCTET_RE.fullmatch(o) for o in octets):
        return False
    if value in RESOLVERS or octets[-1] == "0" or sum(len(o) == 1 for o in octets) >= 3:
        return False  # "137.0.0.0", "13.2.6.3", "1.2.3.4": versions and sections
    if len(octets[0]) == 1 and len(octets[1]) == 1:
        return False  # "8.1.1.2", "2.5.4.10": section numbers and OIDs far more often than IPs
    if VERSION_CONTEXT_RE.search(text[max(0, start - 24) : start]):
        return False
    ip = ipaddress.ip_address(value)
    return ip.is_global and not ip.is_multicast


def ip_matches(text: str, lower: str, out: list[Match]) -> None:
    if text.isascii() and b"d.d" not in text.encode("ascii").translate(_DIGIT_DOTS):
        return
    for m in IPV4_RE.finditer(text):
        start, end = m.span()
        if start > 0 and (text[start - 1] == "." or word_char(text, start - 1)):
            continue
        if word_char(text, end) or (text[end : end + 1] == "." and word_char(text, end + 1)):
            continue
        if public_ip(text, start, end):
            out.append(Match("public_ip", start, end, 9))
