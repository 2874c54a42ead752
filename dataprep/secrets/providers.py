"""Provider formats in the style of gitleaks' rule set, and PEM private key blocks: the whole
match is the secret."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dataprep.secrets.matching import Match, trie_regex
from dataprep.secrets.values import ALLOWED_VALUES

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
PROVIDER_LITERAL_RE = re.compile(trie_regex(PROVIDERS_BY_LITERAL))
# Characters about from the rarest to the most common in code and prose (a rough order).
_RARITY = "~=_-:.ZXJQKYVWBMRLGDHNUOPFCTIESA0123456789zqjxkvbpywgfmdculhrsnitoae"


def _hint_regex(literals) -> str:
    """A regex found in a text exactly when one of `literals` is: each literal is looked
    for at its rarest character, with its other characters around it as look-behind and
    look-ahead, so the regex tries few places (PROVIDER_LITERAL_RE tries most: most
    literals start with a common letter). Example: ["dapi"] -> "p(?<=dap)(?=i)"."""
    by_char: dict[str, list[str]] = {}
    for literal in literals:
        rank = [_RARITY.find(ch) % (len(_RARITY) + 1) for ch in literal]  # unknown: last
        at = rank.index(min(rank))
        behind = f"(?<={re.escape(literal[: at + 1])})" if at else ""
        ahead = f"(?={re.escape(literal[at + 1 :])})" if at + 1 < len(literal) else ""
        by_char.setdefault(literal[at], []).append(behind + ahead)
    return "|".join(
        re.escape(ch) + (f"(?:{'|'.join(rest)})" if len(rest) > 1 else rest[0])
        for ch, rest in by_char.items()
    )


PROVIDER_HINT_RE = re.compile(_hint_regex(PROVIDERS_BY_LITERAL))


def provider_matches(text: str, lower: str, out: list[Match]) -> None:
    if not PROVIDER_HINT_RE.search(text):  # no literal in the text: no provider can match
        return
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


def pem_matches(text: str, lower: str, out: list[Match]) -> None:
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
