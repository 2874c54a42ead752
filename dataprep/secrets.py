"""Secrets and personal data: detect, redact with stable placeholders, refuse to publish.

Detection is a catalogue of our own rules (see "Linear time" for how they are written):
- provider formats in the style of gitleaks' rule set: AWS, GitHub, GitLab, Slack, Stripe,
  Google, OpenAI, Anthropic, Hugging Face, npm, PyPI, SendGrid, Twilio, JWTs, Azure,
  DigitalOcean, Databricks, Shopify, Square, Grafana, Vault, Docker Hub, ... and PEM
  private key blocks, with or without their END line;
- passwords in URLs and connection strings (`scheme://user:X@host`, `?password=X`,
  `;Password=X`, `jdbc:oracle:thin:user/X@host`);
- `Authorization` values: `Basic <base64 of user:password>`, `Bearer X`, `token X`;
- values of keys that end in a secret's name (`pass`, `pwd`, `passwd`, `password`,
  `passphrase`, `secret`, `credentials`, `api_key`, `token`, ...) in .properties, YAML,
  .env and shell (`ENV DB_PASSWORD=X`), JSON, XML, INI, text and code; Spring defaults
  (`${db.password:X}`, `${DB_PASSWORD:-X}`); Markdown tables with a password column;
- passwords passed as arguments: `DriverManager.getConnection(url, user, "X")`,
  `new PasswordAuthentication(user, "X".toCharArray())`, `keyStore.load(in, "X".toCharArray())`,
  `setPassword("X")`, `.basic(user, "X")`, `"user:X".getBytes()`, `"X".equals(password)`,
  `setApiKey("X")`, and command-line flags (`-storepass X`, `--password=X`);
- credentials in prose: "password: X", "the password for the admin account is X",
  "log in as admin / X", "user admin, password X", netrc's "login bob password X";
- high-entropy strings (quoted, or bare and 32+ characters), e-mail addresses and public
  IPv4 addresses.

Redaction replaces each value by a placeholder such as `<SECRET:aws_access_key:1>`; the
same value always gets the same placeholder within one store. The store keeps only a
salted hash of each value (meta `secrets.salt`, `secrets.placeholders`), never the value.
Findings name the rule and where, never the value.

Left alone on purpose (each a decision, tested in tests/test_secrets.py with the corpus in
fixtures/secrets/):
- values that are references or stand-ins: `${DB_PASSWORD}`, `$X`, `%X%`, `{{x}}`,
  `<password>`, empty values, masks (`***`, `xxx`, `...`), words that name the field or
  stand in for a value (`password`, `secret`, `changeme`, `changeit`, `your-password`,
  `my_token`, `dummy`, `example`, `test`), paths and e-mail addresses (the e-mail rule
  decides on those). A value keyed by a password name in configuration, code or prose
  must hold a digit or a symbol (`Keystore-Kennwort` is a label in a resource bundle);
  one in a place that only holds a password (an argument, a Spring default) need not;
- hexadecimal strings that are not keyed or in a provider format: hashes, git SHAs, Docker
  digests, certificate fingerprints and UUIDs far outnumber hex secrets; SRI hashes
  (`sha384-...`), names in camel, snake and CONSTANT case, and random strings next to
  words like `sha256`, `digest`, `checksum` or `expected` (test vectors) are not secrets;
- private, loopback, link-local, documentation and multicast IP ranges, the well-known
  public DNS resolvers, and dotted numbers that are versions or section numbers
  (`Chrome/137.0.0.0`, `v1.2.3.4`, `section 13.2.6.3`, three or more one-digit parts,
  a last part of `0`);
- e-mail addresses at reserved domains (RFC 2606/6761: `example.com/.org/.net`, `*.example`,
  `*.test`, `*.invalid`, `*.localhost`), at the stand-in domains of fixtures (`email.com`,
  `domain.com`, `test.com`, `foo.com`, `yourcompany.com`, ...), `git@host:` remotes and
  Kerberos principals (`host/a.com@REALM.COM`: all upper case after the `@`).
  Any other address is redacted wherever it appears, `@author` lines included: the
  author's name stays, the address is personal data the dataset does not need;
- AWS's documented example keys.

Linear time: no pattern nests quantifiers that can backtrack, every repetition is bounded
(a token is at most 1,024 characters, a key 100) and possessive where a run cannot give
characters back; a pattern that scans a run of token characters starts with a look-behind,
so it can start only where the run starts; keyword patterns run on the lower-cased text
(case-insensitive matching is several times slower) and each family runs only when a
literal it needs is in the text. A 1 MB line takes about a second at most
(tests/test_secrets.py, bench/bench_secrets.py).

Example:
    redactor = Redactor(store)
    unit, findings = redactor.redact_unit(unit)   # unit.id recomputed from redacted code
    scan_rows([{"output": "key AKIA..."}])
        -> [Finding(rule="aws_access_key", field="output", row=0)]
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import ipaddress
import math
import re
import secrets as _random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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


MAX_TOKEN = 1024  # the longest value any rule takes as one secret


def _word_char(text: str, i: int) -> bool:
    """Is text[i] part of an identifier (and inside the text)?"""
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "_$")


class _Folded:
    """A case-insensitive regex, run on the lower-cased text: several times faster than
    re.IGNORECASE. Spans are the text's unless lower-casing changed the length (a few
    non-ASCII letters), where the IGNORECASE twin runs on the text. Read values from the
    text by span: the match's groups may be lower-cased."""

    def __init__(self, pattern: str):
        self.lower = re.compile(pattern)
        self.ignorecase = re.compile(pattern, re.IGNORECASE)

    def finditer(self, text: str, lower: str) -> Iterator[re.Match[str]]:
        if len(lower) == len(text):
            return self.lower.finditer(lower)
        return self.ignorecase.finditer(text)

    def search(self, text: str, lower: str, pos: int) -> re.Match[str] | None:
        if len(lower) == len(text):
            return self.lower.search(lower, pos)
        return self.ignorecase.search(text, pos)


def _trie_regex(words: Iterable[str]) -> str:
    """One alternation of literal words, factored by prefix, so that the regex engine tries
    one branch per position instead of one per word. Example: ["ab", "ac"] -> "a(?:b|c)"."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


# --- values: what is a secret, what is a reference or a stand-in ---------------------

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


def _stand_in(value: str) -> bool:
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
        and not _stand_in(value)
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


# --- provider formats (gitleaks-style): the whole match is the secret ---------------------

_START = r"(?<![A-Za-z0-9_-])"  # a token starts where a run of token characters starts
_END = r"(?![A-Za-z0-9_-])"


@dataclass(frozen=True)
class Provider:
    """A provider's token format: the rule, literals one of which the token holds (found for
    all providers in one pass before any provider regex runs) and the regex."""

    rule: str
    literals: tuple[str, ...]
    regex: re.Pattern[str]


def _provider(rule: str, literals: str, body: str, start: str = _START, end: str = _END):
    return Provider(rule, tuple(literals.split()), re.compile(start + body + end))


_NO_START = ""
PROVIDERS = [
    _provider("aws_access_key", "AKIA ASIA ABIA ACCA A3T",
              r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}"),
    _provider("github_token", "ghp_ gho_ ghu_ ghs_ ghr_", r"gh[pousr]_[A-Za-z0-9]{30,255}"),
    _provider("github_token", "github_pat_", r"github_pat_[A-Za-z0-9_]{60,255}"),
    _provider("gitlab_token", "glpat- gldt- glft- glsoat- glrt- glcbt- glptt- glimt- gloas- "
              "glagent- glffct-",
              r"gl(?:pat|dt|ft|soat|rt|cbt|ptt|imt|oas|agent|ffct)-[A-Za-z0-9_-]{20,1024}"),
    _provider("gitlab_token", "GR1348941", r"GR1348941[A-Za-z0-9_-]{20,50}"),
    _provider("slack_token", "xox", r"xox[abposre](?:\.xox[bp])?-[A-Za-z0-9-]{10,250}"),
    _provider("slack_token", "xapp-", r"xapp-\d-[A-Z0-9]{1,40}-\d{1,20}-[A-Za-z0-9]{1,100}"),
    _provider("slack_webhook", "hooks.slack.com", r"(?:https?://)?hooks\.slack\.com/"
              r"(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,256}", _NO_START),
    _provider("stripe_key", "k_live_ k_test_ k_prod_",
              r"[sr]k_(?:live|test|prod)_[A-Za-z0-9]{10,247}"),
    _provider("stripe_key", "whsec_", r"whsec_[A-Za-z0-9+/=]{24,128}"),
    _provider("google_api_key", "AIza", r"AIza[0-9A-Za-z_-]{35}"),
    _provider("google_oauth", "GOCSPX-", r"GOCSPX-[A-Za-z0-9_-]{28}"),
    _provider("google_oauth", "ya29.", r"ya29\.[0-9A-Za-z_-]{20,1024}"),
    _provider("openai_key", "T3BlbkFJ",
              r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,200}T3BlbkFJ[A-Za-z0-9_-]{16,200}"),
    _provider("openai_key", "sk-proj- sk-svcacct- sk-admin-",
              r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,512}"),
    _provider("anthropic_key", "sk-ant-", r"sk-ant-[A-Za-z0-9_-]{32,512}"),
    _provider("huggingface_token", "hf_", r"hf_[A-Za-z0-9]{30,40}"),
    _provider("huggingface_token", "api_org_", r"api_org_[A-Za-z]{34}"),
    _provider("npm_token", "npm_", r"npm_[A-Za-z0-9]{36}"),
    _provider("pypi_token", "pypi-AgE",
              r"pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000}"),
    _provider("sendgrid_key", "SG.", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    _provider("twilio_key", "SK", r"SK[0-9a-fA-F]{32}"),
    _provider("jwt", "eyJ",
              r"eyJ[A-Za-z0-9_-]{10,4096}\.eyJ[A-Za-z0-9_-]{10,8192}\.[A-Za-z0-9_-]{0,1024}",
              end=r"(?![A-Za-z0-9_.-])"),
    _provider("age_key", "AGE-SECRET-KEY-1",
              r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
    _provider("azure_key", "AccountKey=", r"(?<=AccountKey=)[A-Za-z0-9+/]{86}==", _NO_START,
              r"(?![A-Za-z0-9+/=])"),
    _provider("azure_key", "Q~", r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",
              r"(?<![A-Za-z0-9_~.-])", r"(?![A-Za-z0-9_~.-])"),
    _provider("azure_key", "sig=", r"(?<=[?&]sig=)[A-Za-z0-9%+/=]{30,256}", _NO_START,
              r"(?![A-Za-z0-9%+/=])"),
    _provider("digitalocean_token", "dop_v1_ doo_v1_ dor_v1_", r"do[por]_v1_[a-f0-9]{64}"),
    _provider("databricks_token", "dapi", r"dapi[a-f0-9]{32}(?:-\d)?"),
    _provider("doppler_token", "dp.pt.", r"dp\.pt\.[A-Za-z0-9]{43}"),
    _provider("dynatrace_token", "dt0c01.", r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"),
    _provider("shopify_token", "shpat_ shpca_ shppa_ shpss_",
              r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    _provider("square_token", "sq0atp- sq0csp-",
              r"sq0(?:atp-[0-9A-Za-z_-]{22}|csp-[0-9A-Za-z_-]{43})"),
    _provider("mailchimp_key", "-us", r"[0-9a-f]{32}-us\d{1,2}"),
    _provider("mailgun_key", "key-", r"key-[0-9a-f]{32}"),
    _provider("telegram_token", ":AA", r"\d{8,10}:AA[0-9A-Za-z_-]{33}", r"(?<![0-9A-Za-z_:-])"),
    _provider("discord_token", "discord Discord DISCORD",
              r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}"),
    _provider("discord_webhook", "discord", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com"
              r"/api/webhooks/\d{5,30}/[A-Za-z0-9_-]{30,100}", _NO_START),
    _provider("teams_webhook", "webhook.office.com", r"https://[a-z0-9-]{1,64}"
              r"\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/-]{40,400}", _NO_START),
    _provider("atlassian_token", "ATATT3", r"ATATT3[A-Za-z0-9_=-]{186}"),
    _provider("postman_key", "PMAK-", r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}"),
    _provider("grafana_token", "glc_ glsa_ eyJrIjoi",
              r"(?:glc_[A-Za-z0-9+/]{32,400}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"
              r"|eyJrIjoi[A-Za-z0-9]{70,400}={0,3})"),
    _provider("newrelic_key", "NRAK- NRII- NRJS-",
              r"NR(?:AK-[A-Z0-9]{27}|II-[A-Za-z0-9-]{32}|JS-[a-f0-9]{19})"),
    _provider("pulumi_token", "pul-", r"pul-[a-f0-9]{40}"),
    _provider("sentry_token", "sntryu_ sntrys_",
              r"sntry(?:u_[a-f0-9]{64}|s_[A-Za-z0-9+/=_]{60,400})"),
    _provider("linear_key", "lin_api_", r"lin_api_[A-Za-z0-9]{40}"),
    _provider("vault_token", "hvs. hvb.", r"hv[sb]\.[A-Za-z0-9_-]{90,300}"),
    _provider("terraform_token", ".atlasv1.", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}"),
    _provider("docker_token", "dckr_pat_", r"dckr_pat_[A-Za-z0-9_-]{27,64}"),
    _provider("supabase_token", "sbp_", r"sbp_[a-f0-9]{40}"),
    _provider("alibaba_key", "LTAI", r"LTAI[A-Za-z0-9]{20}"),
    _provider("facebook_token", "EAAC EAAM", r"EAA[CM][A-Za-z0-9]{100,512}"),
    _provider("artifactory_key", "AKCp", r"AKCp[A-Za-z0-9]{69}"),
    _provider("planetscale_token", "pscale_", r"pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,64}"),
    _provider("rubygems_token", "rubygems_", r"rubygems_[a-f0-9]{48}"),
    _provider("perplexity_key", "pplx-", r"pplx-[A-Za-z0-9]{48}"),
    _provider("heroku_key", "HRKU-", r"HRKU-AA[0-9A-Za-z_-]{58}"),
    _provider("sendinblue_key", "xkeysib-", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    _provider("shippo_token", "shippo_", r"shippo_(?:live|test)_[a-fA-F0-9]{40}"),
    _provider("clojars_token", "CLOJARS_", r"CLOJARS_[A-Za-z0-9]{60}"),
    _provider("easypost_key", "EZAK EZTK", r"EZ[AT]K[A-Za-z0-9]{54}"),
    _provider("flyio_token", "fo1_", r"fo1_[A-Za-z0-9_-]{43}"),
    _provider("prefect_token", "pnu_", r"pnu_[A-Za-z0-9]{36}"),
    _provider("openshift_token", "sha256~", r"sha256~[A-Za-z0-9_-]{43}"),
    _provider("twitter_token", "AAAAAAAAAAAAAAAAAAAAA", r"A{22}[A-Za-z0-9%]{80,200}"),
    _provider("cloudflare_key", "v1.0-", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
    _provider("notion_token", "ntn_", r"ntn_\d{11}[A-Za-z0-9]{35}"),
]  # fmt: skip
PROVIDERS_BY_LITERAL: dict[str, list[Provider]] = {}
for _p in PROVIDERS:
    for _literal in _p.literals:
        PROVIDERS_BY_LITERAL.setdefault(_literal, []).append(_p)
PROVIDER_LITERAL_RE = re.compile(_trie_regex(PROVIDERS_BY_LITERAL))


def _provider_matches(text: str, lower: str, out: list[Match]) -> None:
    literals = {m.group(0) for m in PROVIDER_LITERAL_RE.finditer(text)}
    providers = {id(p): p for lit in literals for p in PROVIDERS_BY_LITERAL[lit]}
    for p in providers.values():
        for m in p.regex.finditer(text):
            value = m.group(0)
            if value not in ALLOWED_VALUES and not value.endswith("EXAMPLE"):
                out.append(Match(p.rule, m.start(), m.end(), 1))


# PEM private keys: the block to its END line, or the body that follows a lone BEGIN line.
PEM_BEGIN_RE = re.compile(r"-----BEGIN ((?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?)-----")
PEM_BODY_RE = re.compile(r"(?:[A-Za-z0-9+/=\s\\\"'+,:.]|-(?!-)){0,65536}")
PEM_MAX = 65536


def _pem_matches(text: str, lower: str, out: list[Match]) -> None:
    pos = 0
    next_end: dict[str, int] = {}  # END line -> where it next starts (-1: nowhere after)
    while (begin := PEM_BEGIN_RE.search(text, pos)) is not None:
        end_line = f"-----END {begin.group(1)}-----"
        end = next_end.get(end_line, -2)
        if end == -2 or 0 <= end < begin.end():
            end = next_end[end_line] = text.find(end_line, begin.end())
        if 0 <= end - begin.end() <= PEM_MAX:
            stop = end + len(end_line)
        else:
            stop = PEM_BODY_RE.match(text, begin.end()).end()
        out.append(Match("private_key", begin.start(), stop, 0))
        pos = max(stop, begin.end())


# --- secret-named keys: what a key is, and where its value is ----------------------------

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


def _key_kind(key: str) -> tuple[str, str] | None:
    """(rule, strength) for a key that names a secret, else None.

    Example: _key_kind("spring.datasource.password") -> ("password", "strong").
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


def _value_ok(kind: tuple[str, str], value: str) -> bool:
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
    return looks_random(value, 3.0) or (mixed and _token_value(value))


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
KEYED_RE = _Folded(
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


def _keyed_matches(text: str, lower: str, out: list[Match]) -> None:
    pos = 0
    # the next search starts after the keyword, not after the value: in
    # `<add key="ClearTextPassword" value="X"/>` the value of `key` holds the next key
    while (m := KEYED_RE.search(text, lower, pos)) is not None:
        pos = m.end("suffix")
        if _word_char(text, pos):
            continue  # `keySet`, `tokens`: the keyword does not end the key
        key_start = _key_start(text, m.start("kw"))
        kind = _key_kind(text[key_start:pos])
        span = _keyed_value(text, m, key_start) if kind else None
        if span and _value_ok(kind, text[span[0] : span[1]]):
            out.append(Match(kind[0], *span, 3))
    if "${" in text:
        for m in SPRING_RE.finditer(text):
            kind = _key_kind(m.group("k"))
            start, end = m.span("v")
            start += text[start] == "-"  # the shell's `${DB_PASSWORD:-X}`
            value = text[start:end]
            if kind and (literal_secret(value) if kind[1] == "strong" else _value_ok(kind, value)):
                out.append(Match(kind[0], start, end, 3))


# --- passwords in URLs ------------------------------------------------------------------

URL_PASSWORD_RE = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}+://[^/\s:@\"'<>]{0,256}+:"
    r"(?P<v>[^@\s/\"'<>]{1,256}+)@[\w.-]{1,256}"
)
# Oracle's thin driver: `jdbc:oracle:thin:scott/tiger@db:1521:orcl`
ORACLE_RE = re.compile(r"jdbc:oracle:[a-z]{1,8}:[\w$#.-]{1,64}+/(?P<v>[^@\s\"'/]{1,256}+)@")
URL_QUERY_HINT_RE = re.compile(rf"{KEY_END}=")
URL_QUERY_RE = _Folded(rf"[?&;](?P<k>[\w.-]{{0,40}}?{KEY_END})=(?P<v>[^&;\s\"'<>#]{{1,512}}+)")


def _url_matches(text: str, lower: str, out: list[Match]) -> None:
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
            kind = _key_kind(text[m.start("k") : m.end("k")])
            start, end = m.span("v")
            while end > start and text[end - 1] in ".,;:)]}!?":  # the sentence's, not the value's
                end -= 1
            if kind and end > start and _value_ok(kind, text[start:end]):
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
AUTH_HEADER_RE = _Folded(
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


def _token_value(value: str) -> bool:
    return (
        any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
        and not _stand_in(value)
        and not IDENTIFIER_RE.fullmatch(value)
    )


def _auth_matches(text: str, lower: str, out: list[Match]) -> None:
    if "Basic" in text:
        for m in BASIC_RE.finditer(text):
            if not _word_char(text, m.start() - 1) and _basic_credentials(m["v"]):
                out.append(Match("basic_auth", *m.span("v"), 2))
    if "bearer" in lower:
        for m in BEARER_RE.finditer(text):
            if not _word_char(text, m.start() - 1) and _token_value(m["v"]):
                out.append(Match("bearer_token", *m.span("v"), 2))
    if "authorization" in lower:
        for m in AUTH_HEADER_RE.finditer(text, lower):
            if _token_value(text[m.start("v") : m.end("v")]):
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


def _argument_matches(text: str, lower: str, out: list[Match]) -> None:
    if '"' not in text or "(" not in text:
        return
    for call in CREDENTIAL_CALLS:
        if not any(hint in lower for hint in call.hints):
            continue
        for m in call.regex.finditer(text):
            if _word_char(text, m.start() - 1) or (m["name"] in call.chars_only and not m["chars"]):
                continue
            value = m["v"]
            if literal_secret(value) and (
                not call.token or len(value) >= 12 and _token_value(value)
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


# --- credentials in prose ----------------------------------------------------------------

_MARK = r"[ \t*_`'\"]{0,12}"
_VALUE = r"(?P<v>[a-z0-9!@#$%^&+~?][^\s`'\"*<>|]{3,127}+)"
_SEP = r"(?P<sep>:|=|\bis\b|\bwas\b|->|=>|\||-|–|—)"
# "password: X", "the password is X", "password for the admin account is X", "pw X"
PROSE_RE = _Folded(
    r"(?P<kw>pass(?:word|wd|phrase)?|pwd|pw|(?P<tk>api[ _-]?key|access[ _-]?key|secret[ _-]?key"
    r"|client[ _-]?secret|(?:access|auth|api)[ _-]?token|secret))(?![\w$])"
    r"(?P<clause>[ \t]{1,4}(?:for|of|on|to)[ \t][^\n:=|]{1,40}?(?=[ \t]{0,4}(?:is\b|was\b|:|=)))?"
    rf"(?P<mid>{_MARK}{_SEP}?{_MARK}){_VALUE}"
)
# "log in as admin / X", "user admin, password X", netrc's "login bob password X"
LOGIN_RE = _Folded(
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
CLI_FLAG_RE = _Folded(
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


def _prose_value(text: str, m: re.Match[str]) -> tuple[int, int]:
    """The value's span without the sentence's closing punctuation ("... Summer2024!x.")."""
    start, end = m.span("v")
    if end == len(text) or text[end].isspace():
        while end > start and text[end - 1] in ".,;:)]}":
            end -= 1
    return start, end


def _prose_matches(text: str, lower: str, out: list[Match]) -> None:
    if "pass" in lower or "pw" in lower or "secret" in lower or "key" in lower or "token" in lower:
        for m in PROSE_RE.finditer(text, lower):
            if _word_char(text, m.start() - 1) or text[m.end("v") - 1] == ";":
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
                ok = m["sep"] is not None and len(value) >= 12 and _token_value(value)
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
            if not _word_char(text, m.start() - 1) and text[m.start() - 1 : m.start()] != "-":
                if keyed_secret(text[m.start("v") : m.end("v")]):
                    out.append(Match("password", *m.span("v"), 4))
    if any(hint in lower for hint in LOGIN_HINTS):
        for m in LOGIN_RE.finditer(text, lower):
            if _word_char(text, m.start() - 1):
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


def _table_matches(text: str, lower: str, out: list[Match]) -> None:
    for table in TABLE_RE.finditer(text):
        names = [cell.strip(" \t`*_").lower() for cell in table["header"].split("|")]
        kinds = [_key_kind(name.replace(" ", "_")) if name else None for name in names]
        if not any(kinds):
            continue
        pos = table.end() + 1
        while (row := TABLE_ROW_RE.match(text, pos)) is not None:
            for kind, cell in zip(kinds, CELL_RE.finditer(text, *row.span("row")), strict=False):
                value = cell.group(0).strip(" \t`*")
                if kind and value and _value_ok(kind, value):
                    start = text.index(value, cell.start())
                    out.append(Match(kind[0], start, start + len(value), 4))
            pos = row.end() + 1


# --- high entropy, e-mail, IP -----------------------------------------------------------

QUOTED_RE = re.compile(r"([\"'])([A-Za-z0-9+/=_-]{16,1024}+)\1")
BARE_TOKEN_RE = re.compile(r"(?<![\w+/=.-])[A-Za-z0-9+/_-]{32,1024}+={0,2}(?![\w+/=.-])")


# hashes and digests are random too: not where the code says so (`expected`, `sha256`, ...)
HASH_CONTEXT_RE = re.compile(
    r"(?i)hash|digest|sha-?\d|md5|checksum|fingerprint|crc|integrity|expected|vector"
)


def _entropy_matches(text: str, lower: str, out: list[Match]) -> None:
    candidates = []
    if '"' in text or "'" in text:
        for m in QUOTED_RE.finditer(text):
            value = m.group(2)
            if random_token(value) and ("/" not in value or len(value) >= 32):
                candidates.append(Match("high_entropy", *m.span(2), 6))
    if len(text) >= 32:
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


def _email_matches(text: str, lower: str, out: list[Match]) -> None:
    for m in EMAIL_DOMAIN_RE.finditer(text):
        at = start = m.start()
        while start > at - 65 and start > 0 and text[start - 1] in LOCAL_CHARS:
            start -= 1
        if start == at or start == at - 65 or _word_char(text, start - 1):
            continue
        if text[start:at] == "git" or m.group(0).isupper():
            continue  # `git@github.com:org/repo.git`, `host/x.com@REALM.COM`: not a person
        if text[start].isalnum() and not KEPT_EMAIL_DOMAINS_RE.search(m.group(0)):
            out.append(Match("email", start, m.end(), 8))


IPV4_RE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
OCTET_RE = re.compile(r"25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d")
VERSION_CONTEXT_RE = re.compile(
    r"(?i)(?:@jls|@jvms|section|sections|chapter|clause|rfc|§|version|release|build|update|oid"
    r"|table|figure|appendix|step|item|paragraph)[\s*{@:,.\w>-]{0,12}$|[A-Za-z]/$|[vV_-]$"
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


def _ip_matches(text: str, lower: str, out: list[Match]) -> None:
    for m in IPV4_RE.finditer(text):
        start, end = m.span()
        if start > 0 and (text[start - 1] == "." or _word_char(text, start - 1)):
            continue
        if _word_char(text, end) or (text[end : end + 1] == "." and _word_char(text, end + 1)):
            continue
        if public_ip(text, start, end):
            out.append(Match("public_ip", start, end, 9))


# --- all together -----------------------------------------------------------------------


def find_secrets(text: str) -> list[Match]:
    """Non-overlapping spans of `text` that hold secrets or personal data, in order.

    Example: find_secrets("key=AKIA7LRWFVEALKXWKKXZ") -> [Match("aws_access_key", 4, 24, 1)].
    """
    if len(text) < 6:  # the shortest finding, an e-mail address, has six characters
        return []
    lower = text.lower()
    found: list[Match] = []
    # each family is called only when a character or word it needs is in the text
    if "PRIVATE KEY" in text:
        _pem_matches(text, lower, found)
    if len(text) >= 16:
        _provider_matches(text, lower, found)
    _url_matches(text, lower, found)
    _auth_matches(text, lower, found)
    _keyed_matches(text, lower, found)
    _argument_matches(text, lower, found)
    _prose_matches(text, lower, found)
    if "|-" in text or "| -" in text or "|:-" in text:
        _table_matches(text, lower, found)
    if len(text) >= 16:
        _entropy_matches(text, lower, found)
    if "@" in text:
        _email_matches(text, lower, found)
    if "." in text:
        _ip_matches(text, lower, found)
    return _non_overlapping(text, found) if found else []


def _non_overlapping(text: str, found: list[Match]) -> list[Match]:
    """Keep the strongest match where spans overlap; never split a placeholder.

    The spans taken so far are kept sorted, so each check is a binary search.
    """
    starts: list[int] = []
    ends: list[int] = []
    for m in PLACEHOLDER_RE.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    chosen: list[Match] = []
    for match in sorted(found, key=lambda m: (m.priority, m.start, -(m.end - m.start))):
        if match.end <= match.start:
            continue
        i = bisect.bisect_right(starts, match.start)
        if (i > 0 and ends[i - 1] > match.start) or (i < len(starts) and starts[i] < match.end):
            continue
        starts.insert(i, match.start)
        ends.insert(i, match.end)
        chosen.append(match)
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


def _follow(unit: Unit, changes: dict[str, Any], seen: dict[str, str]) -> None:
    """A value found in one field (`"X"` in a field's code, where the key names it) is
    replaced in every other field too: the `initializer` `"X"` alone says nothing that
    detection could see, yet it is the same secret."""
    values = sorted((v for v in seen if len(v) >= 4), key=len, reverse=True)
    if not values:
        return

    def scrub(text: str) -> str:
        for value in values:
            if value in text:
                text = text.replace(value, seen[value])
        return text

    for name in UNIT_TEXT_FIELDS:
        text = changes.get(name, getattr(unit, name))
        if isinstance(text, str) and text:
            fixed = scrub(text)
            if fixed != text:
                changes[name] = fixed
    for name in UNIT_LIST_FIELDS:
        items = changes.get(name, getattr(unit, name))
        fixed_items = [scrub(v) for v in items]
        if fixed_items != list(items):
            changes[name] = fixed_items


def _repeat_of(unit: Unit) -> int:
    """The repeat number the unit's id was made with (0 unless its text repeats in its file)."""
    fields = (unit.path, unit.kind, unit.qualified_name, unit.signature, unit.code)
    for repeat in range(64):
        if Unit.make_id(*fields, repeat=repeat) == unit.id:
            return repeat
    return 0


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

    def redact(self, text: str, seen: dict[str, str] | None = None) -> tuple[str, list[str]]:
        """`text` with every secret replaced, and the rules that matched (no values).
        `seen`, when given, collects value -> placeholder of what was replaced."""
        matches = find_secrets(text)
        if not matches:
            return text, []
        parts, last = [], 0
        for m in matches:
            value = text[m.start : m.end]
            placeholder = self.placeholder(m.rule, value)
            if seen is not None:
                seen[value] = placeholder
            parts += [text[last : m.start], placeholder]
            last = m.end
        parts.append(text[last:])
        return "".join(parts), [m.rule for m in matches]

    def redact_unit(self, unit: Unit) -> tuple[Unit, list[Finding]]:
        """The unit with every text field redacted (id recomputed when the code changed)."""
        new_unit, findings = self._redact_unit(unit)
        self.save()
        return new_unit, findings

    def _redact_unit(self, unit: Unit) -> tuple[Unit, list[Finding]]:
        changes: dict[str, Any] = {}
        findings: list[Finding] = []
        seen: dict[str, str] = {}
        for name in UNIT_TEXT_FIELDS:
            value = getattr(unit, name)
            if isinstance(value, str) and value:
                new, rules = self.redact(value, seen)
                if rules:
                    changes[name] = new
                    findings += [Finding(rule, name, unit.path) for rule in rules]
        for name in UNIT_LIST_FIELDS:
            values = getattr(unit, name)
            redacted = [self.redact(v, seen) for v in values]
            if any(rules for _, rules in redacted):
                changes[name] = [new for new, _ in redacted]
                findings += [
                    Finding(rule, name, unit.path) for _, rules in redacted for rule in rules
                ]
        if not changes:
            return unit, []
        _follow(unit, changes, seen)
        new_unit = unit.model_copy(update=changes)
        new_unit.id = Unit.make_id(
            new_unit.path,
            new_unit.kind,
            new_unit.qualified_name,
            new_unit.signature,
            new_unit.code,
            repeat=_repeat_of(unit),
        )
        return new_unit, findings

    def redact_units(self, units: list[Unit]) -> tuple[list[Unit], list[Finding]]:
        """Redact many units; `parent` links that named a changed unit id follow it. The
        placeholders are saved once, after the last unit (not once per unit)."""
        out, findings, renamed = [], [], {}
        for unit in units:
            new, found = self._redact_unit(unit)
            if new.id != unit.id:
                renamed[unit.id] = new.id
            out.append(new)
            findings += found
        if renamed:
            out = [
                u.model_copy(update={"parent": renamed[u.parent]}) if u.parent in renamed else u
                for u in out
            ]
        self.save()
        return out, findings

    def save(self) -> None:
        """Persist the salt and the hash -> placeholder map (never the values)."""
        if self.store is None or not self._dirty:
            return
        self.store.set_meta("secrets.salt", self.salt)
        self.store.set_meta("secrets.placeholders", self.placeholders)
        self._dirty = False
