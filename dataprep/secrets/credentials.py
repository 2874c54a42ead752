"""Credentials found by what names them: secret-named keys (configuration, code, Spring
defaults), passwords in URLs, Authorization headers, and passwords passed as arguments."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from dataprep.secrets.matching import Folded, Match, word_char
from dataprep.secrets.values import (
    DOTTED_NAME_RE,
    IDENTIFIER_RE,
    class_changes,
    keyed_secret,
    literal_secret,
    looks_random,
    stand_in,
)

KEY_END = (
    r"(?:pass(?:word|wd|phrase)?|pwd|pw|secret|credentials?|creds|token|auth|key|salt|signature)"
)
# Keys end with the keyword (`DB_PASSWORD`, `apiKey`, `db.pass`): `SecretKeyFactory`,
# `token-lifetime` and `keyMaterialAlg` name other things.
PASSWORD_KEY_RE = re.compile(r"(?i)(?:pass(?:word|wd|phrase)?|pwd|pw)[_\d]*$")
SECRET_KEY_RE = re.compile(
    r"(?i)(?:secret|credentials?|creds|(?:api|access|private|secret|signing|encryption|master"
    r"|client|app|auth)[-_.]?(?:key|token))[_\d]*$"
)
NOT_SECRET_KEY_RE = re.compile(
    r"(?i)(?:public|primary|foreign|sort|partition|cache|map|hash|row|group|lookup|idempotency"
    r"|routing|message|i18n|translation|sequence|natural|bucket|schema|csrf|xsrf|next|page"
    r"|continuation|cursor|type|field|column|table|property|event|no)[-_.]?(?:key|token)[_\d]*$"
)
WEAK_KEY_RE = re.compile(r"(?i)(?:token|auth|key|salt|signature)[_\d]*$")


def key_kind(key: str) -> tuple[str, str] | None:
    """(rule, strength) for a key that names a secret, else None.

    Example: key_kind("spring.datasource.password") -> ("password", "strong").
    """
    if PASSWORD_KEY_RE.search(key):
        return "password", "strong"
    if NOT_SECRET_KEY_RE.search(key):
        return None
    if SECRET_KEY_RE.search(key):
        return "secret", "strong"
    if WEAK_KEY_RE.search(key):
        return "token", "weak"
    return None


def value_ok(kind: tuple[str, str], value: str) -> bool:
    """Is `value` a secret under a key of this kind? A token-like key (`token`, `key`) needs
    a random-looking value, or 16+ characters of one case that mix letters and digits at
    every other character ("tkn_5f4e3d2c1b0a9988", not "SHA1withDSAinP1363Format")."""
    if kind[1] == "strong":
        return keyed_secret(value)
    if len(value) < 8 or not literal_secret(value) or DOTTED_NAME_RE.fullmatch(value):
        return False
    if "\\" in value:
        return False  # "\u30B3\u30F3...": an escaped message, not a token
    mixed = len(value) >= 16 and class_changes(value) >= 0.5 * (len(value) - 1)
    return looks_random(value, 3.0) or (mixed and token_value(value))


KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.-[]")


def _key_start(text: str, end: int) -> int:
    """Where the key that ends at `end` starts (keys are at most 100 characters)."""
    start, limit = end, max(0, end - 100)
    while start > limit and text[start - 1] in KEY_CHARS:
        start -= 1
    return start


# The keyword comes first (one cheap scan), then what may follow it: a separator and a
# quoted value (code, JSON, YAML), a separator and a bare value to the end of the line
# (.properties, .env, YAML), an XML element's text, or an XML attribute pair.
_GAP = r"[ \t]{0,16}(?:\r?\n[ \t]{0,64})?"
KEYED_RE = Folded(
    rf"(?P<kw>{KEY_END})(?P<suffix>[_\d]{{0,8}})(?:"
    rf"[\"']?{_GAP}(?P<sep>:=|=>|==|=|:(?!:)|,){_GAP}"
    r"(?:(?P<q>[\"'`])(?P<v>[^\"'`\n]{1,512}+)(?P=q)"
    r"|(?P<bare>[^\s#\"'`,;(){}<>]{1,512}+)(?P<eol>[ \t]*+(?:#[^\n]*+)?(?=\r?\n|\Z))?)"
    r"|(?P<xq>\")?>(?P<xml>[^<\n]{1,512}+)</"
    r"|\"[ \t\r\n]{1,16}value[ \t]{0,8}=[ \t]{0,8}\"(?P<attr>[^\"\n]{1,512}+)\")"
)
CONFIG_LEAD_RE = re.compile(r"[ \t]{0,64}(?:[-*][ \t]{1,8})?(?:export[ \t]{1,8})?[\"']?")
ATTR_LEAD_RE = re.compile(r"(?:name|key)[ \t]{0,8}=[ \t]{0,8}\"$")
ENV_KEY_RE = re.compile(r"[A-Z][A-Z0-9_]*")
# Spring placeholders with a default: `@Value("${db.password:X}")`, `${JWT_SECRET:X}`.
SPRING_RE = re.compile(r"\$\{(?P<k>[\w.\-\[\]]{1,128}):(?P<v>[^{}\s\"'$]{1,512})\}")


def _keyed_value(text: str, m: re.Match[str], key_start: int) -> tuple[int, int] | None:
    """The span of the value a KEYED_RE match assigns, if its context fits its form."""
    if m["v"] is not None:
        return m.span("v")
    key = text[key_start : m.end("suffix")]
    if m["bare"] is not None:
        if m["eol"] is not None:  # a line of its own: `db.password=X`, `- pwd: X`, `export X=Y`
            line_start = text.rfind("\n", max(0, key_start - 100), key_start) + 1
            lead = (line_start > 0 or key_start <= 100) and CONFIG_LEAD_RE.fullmatch(
                text, line_start, key_start
            )
            if lead:
                return m.span("bare")
        # a shell variable anywhere: `ENV DB_PASSWORD=X`, `docker run -e API_TOKEN=X img`
        env = ENV_KEY_RE.fullmatch(key) and m.start("bare") == m.end("suffix") + 1
        before = text[key_start - 1 : key_start]
        return m.span("bare") if env and before in ("", " ", "\t", "\n", '"', "'") else None
    if m["xml"] is not None:  # `<password>X</password>`, `<property name="password">X<`
        if m["xq"] is not None:
            lead = ATTR_LEAD_RE.search(text[max(0, key_start - 24) : key_start])
            return m.span("xml") if lead else None
        closing = text.startswith(key + ">", m.end())
        return m.span("xml") if key_start > 0 and text[key_start - 1] == "<" and closing else None
    lead = ATTR_LEAD_RE.search(text[max(0, key_start - 24) : key_start])
    return m.span("attr") if lead else None  # `name="db.password" value="X"`


def _may_hold_key_end(text: str, lower: str) -> bool:
    """Whether KEYED_RE can match: a word of KEY_END is in the lower-cased text (which it
    searches when lower-casing kept the length; else it searches the text itself)."""
    return len(lower) != len(text) or any(word in lower for word in KEY_END_WORDS)


KEY_END_WORDS = ("pass", "pw", "secret", "cred", "token", "auth", "key", "salt", "signature")


def keyed_matches(text: str, lower: str, out: list[Match]) -> None:
    # the next search starts after the keyword, not after the value: in
    # `<add key="ClearTextPassword" value="X"/>` the value of `key` holds the next key
    pos, searching = 0, _may_hold_key_end(text, lower)
    while searching and (m := KEYED_RE.search(text, lower, pos)) is not None:
        pos = m.end("suffix")
        if word_char(text, pos):
            continue  # `keySet`, `tokens`: the keyword does not end the key
        key_start = _key_start(text, m.start("kw"))
        kind = key_kind(text[key_start:pos])
        span = _keyed_value(text, m, key_start) if kind else None
        if span and value_ok(kind, text[span[0] : span[1]]):
            out.append(Match(kind[0], *span, 3))
    if "${" in text:
        for m in SPRING_RE.finditer(text):
            kind = key_kind(m.group("k"))
            start, end = m.span("v")
            start += text[start] == "-"  # the shell's `${DB_PASSWORD:-X}`
            value = text[start:end]
            if kind and (literal_secret(value) if kind[1] == "strong" else value_ok(kind, value)):
                out.append(Match(kind[0], start, end, 3))


# --- passwords in URLs ------------------------------------------------------------------

URL_PASSWORD_RE = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}+://[^/\s:@\"'<>]{0,256}+:"
    r"(?P<v>[^@\s/\"'<>]{1,256}+)@[\w.-]{1,256}"
)
# Oracle's thin driver: `jdbc:oracle:thin:scott/tiger@db:1521:orcl`
ORACLE_RE = re.compile(r"jdbc:oracle:[a-z]{1,8}:[\w$#.-]{1,64}+/(?P<v>[^@\s\"'/]{1,256}+)@")
URL_QUERY_HINT_RE = re.compile(rf"{KEY_END}=")
URL_QUERY_RE = Folded(rf"[?&;](?P<k>[\w.-]{{0,40}}?{KEY_END})=(?P<v>[^&;\s\"'<>#]{{1,512}}+)")


def url_matches(text: str, lower: str, out: list[Match]) -> None:
    if "://" in text:
        for m in URL_PASSWORD_RE.finditer(text):
            if keyed_secret(m["v"]):
                out.append(Match("url_password", *m.span("v"), 2))
    if "jdbc:oracle:" in text:
        for m in ORACLE_RE.finditer(text):
            if literal_secret(m["v"]):
                out.append(Match("url_password", *m.span("v"), 2))
    if "=" in text and URL_QUERY_HINT_RE.search(lower):
        for m in URL_QUERY_RE.finditer(text, lower):
            kind = key_kind(text[m.start("k") : m.end("k")])
            start, end = m.span("v")
            while end > start and text[end - 1] in ".,;:)]}!?":  # the sentence's, not the value's
                end -= 1
            if kind and end > start and value_ok(kind, text[start:end]):
                rule = "url_password" if kind[0] == "password" else kind[0]
                out.append(Match(rule, start, end, 2))


# --- Authorization headers ---------------------------------------------------------------

_HEADER_TOKEN = r"(?P<v>[A-Za-z0-9._~+/-]{16,4096}+=*+)(?![A-Za-z0-9._~+/=-])"
BASIC_RE = re.compile(  # also `"Basic " + "dXNlcjpwdw=="`
    r"Basic[ \t]{1,8}(?:\"[ \t]{0,4}\+[ \t]{0,4}\")?(?P<v>[A-Za-z0-9+/]{6,1024}+={0,2})"
    r"(?![A-Za-z0-9+/=])"
)
BEARER_RE = re.compile(
    r"(?:[Bb]earer|BEARER)[ \t]{1,8}(?P<v>[A-Za-z0-9._~+/-]{10,4096}+=*+)(?![A-Za-z0-9._~+/=-])"
)
AUTH_HEADER_RE = Folded(
    r"authorization[\"']?[ \t]{0,8}[:=,][ \t]{0,8}[\"']?"
    r"(?:(?:token|bot|apikey|api-key|key)[ \t]{1,8})?" + _HEADER_TOKEN
)


def _basic_credentials(value: str) -> bool:
    """Is `value` the base64 of "user:password" (what a Basic Authorization header holds)?"""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep and user and decoded.isprintable() and literal_secret(password))


def token_value(value: str) -> bool:
    return (
        any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
        and not stand_in(value)
        and not IDENTIFIER_RE.fullmatch(value)
    )


def auth_matches(text: str, lower: str, out: list[Match]) -> None:
    if "Basic" in text:
        for m in BASIC_RE.finditer(text):
            if not word_char(text, m.start() - 1) and _basic_credentials(m["v"]):
                out.append(Match("basic_auth", *m.span("v"), 2))
    if "bearer" in lower:
        for m in BEARER_RE.finditer(text):
            if not word_char(text, m.start() - 1) and token_value(m["v"]):
                out.append(Match("bearer_token", *m.span("v"), 2))
    if "authorization" in lower:
        for m in AUTH_HEADER_RE.finditer(text, lower):
            if token_value(text[m.start("v") : m.end("v")]):
                out.append(Match("auth_token", *m.span("v"), 2))


# --- passwords passed as arguments ---------------------------------------------------------

# An argument before the one we want: a string, a char, or an expression with at most one
# parenthesised group, not nested (`url`, `cfg.user()`, `new FileInputStream("ks.jks")`).
_ARG = (
    r"(?:\"[^\"\\\n]{0,256}+\"|'[^'\\\n]{0,4}+'|[^,()\"\n]{0,160}"
    r"(?:\((?:[^()\"\n]{1,160}+|\"[^\"\\\n]{0,256}+\"){0,8}+\)[^,()\"\n]{0,40})?)"
    r"[ \t\r\n]{0,16},[ \t\r\n]{0,16}"
)
_LIT = (
    r"\"(?P<v>[^\"\\\n]{1,256}+)\""
    r"(?P<chars>[ \t]{0,4}\.[ \t]{0,4}toCharArray[ \t]{0,4}\([ \t]{0,4}\))?[ \t\r\n]{0,16}[,)]"
)
_SETTER = (
    r"(?:set|with|use|change|update|reset|check|verify)(?:[A-Z][a-z0-9]{0,20}){0,3}"
    r"(?:Password|Passwd|Passphrase|Pwd|Secret)|password|passwd|passphrase|pwd|secret"
)


@dataclass(frozen=True)
class CredentialCall:
    """Calls that take a password as their `index`-th argument. `hints`: one must be in the
    lower-cased text for the regex to run; `chars_only`: names that count only with a
    `"X".toCharArray()` argument (`load`, `init` are common names)."""

    regex: re.Pattern[str]
    hints: tuple[str, ...]
    chars_only: frozenset[str] = frozenset()
    token: bool = False  # the argument is a token: it must look like one


def _call(names: str, index: int, hints: tuple[str, ...], chars_only=(), token=False):
    regex = re.compile(
        rf"(?P<name>{names})[ \t]{{0,4}}\([ \t\r\n]{{0,16}}(?:{_ARG}){{{index}}}{_LIT}"
    )
    return CredentialCall(regex, hints, frozenset(chars_only), token)


CREDENTIAL_CALLS = [
    _call(_SETTER + r"|PasswordProtection|PBEKeySpec|PasswordCallback", 0,
          ("pass", "pwd", "secret", "pbekeyspec"), {"PasswordCallback"}),
    _call(r"PasswordAuthentication|UsernamePasswordCredentials|login|basicAuth"
          r"|basicAuthentication|setBasicAuth|basic|addIdentity|authenticate", 1,
          ("password", "login", "basic", "identity", "authenticate")),
    _call(r"UsernamePasswordAuthenticationToken", 1, ("authenticationtoken",)),
    _call(r"load|store|getKey|init|getEntry", 1, ("tochararray",),
          {"load", "store", "getKey", "init", "getEntry"}),
    _call(r"getConnection|connect|NtlmPasswordAuthentication", 2,
          ("getconnection", "connect(", "ntlmpassword")),
    _call(r"(?:set|with|use)(?:[A-Z][a-z0-9]{0,20}){0,3}(?:Token|ApiKey|AccessKey|SecretKey)"
          r"|apiKey|accessToken|bearerToken|bearerAuth|setBearerAuth|oauth2", 0,
          ("token", "apikey", "accesskey", "secretkey", "bearer", "oauth2"), token=True),
    _call(r"setKeyEntry", 2, ("tochararray",), {"setKeyEntry"}),
    _call(r"connect", 3, ("connect(",)),
]  # fmt: skip
# Any other call named for a password, whose last argument is the literal: `createCredential(
# "app", "db", "X".toCharArray())`, `new DriverManagerDataSource(url, "sa", "X")`.
CREDENTIAL_NAME_RE = re.compile(
    r"(?:Password|Passwd|Passphrase|Credentials?|DataSource|Login|Auth(?:entication)?)"
    r"[ \t]{0,4}\("
)
LAST_LITERAL_RE = re.compile(
    rf"[ \t\r\n]{{0,16}}(?:{_ARG}){{1,3}}\"(?P<v>[^\"\\\n]{{1,256}}+)\""
    r"(?P<chars>[ \t]{0,4}\.[ \t]{0,4}toCharArray[ \t]{0,4}\([ \t]{0,4}\))?[ \t\r\n]{0,16}\)"
)
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
GETTER_RE = re.compile(r"(?:get|is|has|read|find|lookup|resolve|prompt|request|encode|hash)[A-Z]")
# `"user:password".getBytes()` (the makings of a Basic header), `"X".equals(password)`.
USER_PASSWORD_RE = re.compile(
    r"\"[\w.@+-]{1,64}+:(?P<v>[^\"\\\s:]{1,256}+)\"[ \t]{0,4}\.[ \t]{0,4}getBytes[ \t]{0,4}\("
)
_PASSWORD_NAME = r"(?i:[\w$]{0,40}?(?:pass(?:word|wd)?|pwd|secret))[_\d]{0,4}"
EQUALS_RES = [
    re.compile(
        rf"{_PASSWORD_NAME}[ \t]{{0,4}}(?:\)[ \t]{{0,4}})?\.[ \t]{{0,4}}equals(?:IgnoreCase)?"
        r"[ \t]{0,4}\([ \t]{0,4}\"(?P<v>[^\"\\\n]{1,256}+)\"[ \t]{0,4}\)"
    ),
    re.compile(
        r"\"(?P<v>[^\"\\\n]{1,256}+)\"[ \t]{0,4}\.[ \t]{0,4}equals(?:IgnoreCase)?[ \t]{0,4}"
        rf"\([ \t]{{0,4}}(?:[\w$]{{1,40}}\.){{0,3}}{_PASSWORD_NAME}[ \t]{{0,4}}[)(]"
    ),
]


def argument_matches(text: str, lower: str, out: list[Match]) -> None:
    if '"' not in text or "(" not in text:
        return
    for call in CREDENTIAL_CALLS:
        if not any(hint in lower for hint in call.hints):
            continue
        for m in call.regex.finditer(text):
            if word_char(text, m.start() - 1) or (m["name"] in call.chars_only and not m["chars"]):
                continue
            value = m["v"]
            if literal_secret(value) and (
                not call.token or len(value) >= 12 and token_value(value)
            ):
                out.append(Match("token" if call.token else "password", *m.span("v"), 3))
    if any(
        hint in lower
        for hint in ("passw", "passphrase", "credential", "datasource", "login", "auth")
    ):
        for m in CREDENTIAL_NAME_RE.finditer(text):
            start = m.start()
            while start > 0 and text[start - 1] in NAME_CHARS and m.start() - start < 60:
                start -= 1
            if (
                GETTER_RE.match(text, start)
                or (arg := LAST_LITERAL_RE.match(text, m.end())) is None
            ):
                continue
            if literal_secret(arg["v"]):
                out.append(Match("password", *arg.span("v"), 3))
    if ".getBytes" in text:
        for m in USER_PASSWORD_RE.finditer(text):
            if literal_secret(m["v"]):
                out.append(Match("password", *m.span("v"), 3))
    if ".equals" in text and ("pass" in lower or "pwd" in lower or "secret" in lower):
        for regex in EQUALS_RES:
            for m in regex.finditer(text):
                if literal_secret(m["v"]):
                    out.append(Match("password", *m.span("v"), 3))
