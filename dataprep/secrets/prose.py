"""Credentials in prose ("the password is X", "log in as admin / X") and Markdown tables
with a password column."""

from __future__ import annotations

import re

from dataprep.secrets.credentials import key_kind, token_value, value_ok
from dataprep.secrets.matching import Folded, Match, word_char
from dataprep.secrets.values import keyed_secret, prose_secret

_MARK = r"[ \t*_`'\"]{0,12}"
_VALUE = r"(?P<v>[a-z0-9!@#$%^&+~?][^\s`'\"*<>|]{3,127}+)"
_SEP = r"(?P<sep>:|=|\bis\b|\bwas\b|->|=>|\||-|–|—)"
# "password: X", "the password is X", "password for the admin account is X", "pw X"
PROSE_RE = Folded(
    r"(?P<kw>pass(?:word|wd|phrase)?|pwd|pw|(?P<tk>api[ _-]?key|access[ _-]?key|secret[ _-]?key"
    r"|client[ _-]?secret|(?:access|auth|api)[ _-]?token|secret))(?![\w$])"
    r"(?P<clause>[ \t]{1,4}(?:for|of|on|to)[ \t][^\n:=|]{1,40}?(?=[ \t]{0,4}(?:is\b|was\b|:|=)))?"
    rf"(?P<mid>{_MARK}{_SEP}?{_MARK}){_VALUE}"
)
# "log in as admin / X", "user admin, password X", netrc's "login bob password X"
LOGIN_RE = Folded(
    r"(?:log(?:ged)?[ \t-]?(?:in|on)|sign(?:ed)?[ \t-]?in|credentials?|creds|user(?:name)?"
    r"|account|connect)(?:[ \t]{1,8}(?:(?:as|with|is|are)[ \t]{1,8})?|[ \t]{0,8}[:=][ \t]{0,8})"
    r"[*_`'\"]{0,3}[\w.@+-]{1,64}+[*_`'\"]{0,3}[ \t]{0,8}"
    r"(?:(?:/|:|,|\band\b|\bwith\b)[ \t]{0,8}(?:(?:password|pass|pwd)[ \t]{0,8}[:=]?[ \t]{0,8})?"
    rf"|(?:password|pass|pwd)[ \t]{{0,8}}[:=]?[ \t]{{0,8}})[*_`'\"]{{0,3}}{_VALUE}"
)
# mysql's `-pX` (no space), the one short flag common enough to know
MYSQL_RE = re.compile(
    r"mysql(?:dump|admin|import|sh)?[ \t][^\n]{0,200}?[ \t]-p(?P<v>[^\s'\"`]{1,256}+)"
)
# command-line flags: `keytool -storepass X`, `--password=X`, `mvn -Dgpg.passphrase=X`
CLI_FLAG_RE = Folded(
    r"-{1,2}[a-z.]{0,30}(?:pass(?:word|wd|phrase)?|pwd|secret)(?:[ \t]{1,4}|=)"
    r"(?P<v>[^\s'\"`<>\[\](){}|;,]{4,256}+)"
)
LOGIN_HINTS = (
    "log in",
    "login",
    "logon",
    "log on",
    "sign in",
    "signin",
    "cred",
    "user",
    "account",
    "connect",
)


def _login_hint(lower: str) -> bool:
    """`any(hint in lower for hint in LOGIN_HINTS)`, the four with "log" and the two with
    "sign" looked for only when that is there."""
    return (
        "cred" in lower
        or "user" in lower
        or "account" in lower
        or "connect" in lower
        or ("log" in lower and any(hint in lower for hint in LOGIN_HINTS[:4]))
        or ("sign" in lower and ("sign in" in lower or "signin" in lower))
    )


def _prose_value(text: str, m: re.Match[str]) -> tuple[int, int]:
    """The value's span without the sentence's closing punctuation ("... Summer2024!x.")."""
    start, end = m.span("v")
    if end == len(text) or text[end].isspace():
        while end > start and text[end - 1] in ".,;:)]}":
            end -= 1
    return start, end


def prose_matches(text: str, lower: str, out: list[Match]) -> None:
    if "pass" in lower or "pw" in lower or "secret" in lower or "key" in lower or "token" in lower:
        for m in PROSE_RE.finditer(text, lower):
            if word_char(text, m.start() - 1) or text[m.end("v") - 1] == ";":
                continue  # `userPassword: X`, `password = password2;`: code, not prose
            if m["sep"] is None and (
                m["clause"]
                or not any(ch.isspace() for ch in m["mid"])
                or m["kw"].lower() == "pass"  # "pass X": the verb far more often than the noun
            ):
                continue  # `password.length`, `pw-hash`: a name, not "password X"
            start, end = _prose_value(text, m)
            value = text[start:end]
            if m["tk"] is not None:  # "API key: X": a token's shape, not a password's
                ok = m["sep"] is not None and len(value) >= 12 and token_value(value)
                if ok and keyed_secret(value) and not any(ch in "()[]{}<>;,=" for ch in value):
                    out.append(Match("secret", start, end, 4))
                continue
            strict = m["sep"] is None or m["sep"].lower() in ("is", "was")
            if prose_secret(value, strict):
                out.append(Match("password", start, end, 4))
    if "mysql" in lower:
        for m in MYSQL_RE.finditer(text):
            if keyed_secret(m["v"]):
                out.append(Match("password", *m.span("v"), 4))
    if "-" in text and ("pass" in lower or "pwd" in lower or "secret" in lower):
        for m in CLI_FLAG_RE.finditer(text, lower):
            if not word_char(text, m.start() - 1) and text[m.start() - 1 : m.start()] != "-":
                if keyed_secret(text[m.start("v") : m.end("v")]):
                    out.append(Match("password", *m.span("v"), 4))
    if _login_hint(lower):
        for m in LOGIN_RE.finditer(text, lower):
            if word_char(text, m.start() - 1):
                continue
            start, end = _prose_value(text, m)
            if prose_secret(text[start:end]):
                out.append(Match("password", start, end, 4))


# A Markdown table with a password column: `| user | password |`, `|---|---|`, `| a | X |`.
TABLE_RE = re.compile(
    r"(?m)^[ \t]{0,16}\|(?P<header>[^\n]{1,1024}+)\n[ \t]{0,16}\|[ \t]{0,4}:?-{3,}[^\n]{0,1024}+$"
)
TABLE_ROW_RE = re.compile(r"[ \t]{0,16}\|(?P<row>[^\n]{1,1024}+)")
CELL_RE = re.compile(r"[^|]++")


def table_matches(text: str, lower: str, out: list[Match]) -> None:
    for table in TABLE_RE.finditer(text):
        names = [cell.strip(" \t`*_").lower() for cell in table["header"].split("|")]
        kinds = [key_kind(name.replace(" ", "_")) if name else None for name in names]
        if not any(kinds):
            continue
        pos = table.end() + 1
        while (row := TABLE_ROW_RE.match(text, pos)) is not None:
            for kind, cell in zip(kinds, CELL_RE.finditer(text, *row.span("row")), strict=False):
                value = cell.group(0).strip(" \t`*")
                if kind and value and value_ok(kind, value):
                    start = text.index(value, cell.start())
                    out.append(Match(kind[0], start, start + len(value), 4))
            pos = row.end() + 1
