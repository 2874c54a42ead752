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

The package, one module per part: `matching` (Finding, Match, placeholders, shared pattern
helpers), `values` (stand-ins, entropy, random-looking tokens), the rule families
`providers`, `credentials`, `prose` and `shapes`, `scanner` (find_secrets, scan_rows: the
families together) and `redaction` (Redactor).

Example:
    redactor = Redactor(store)
    unit, findings = redactor.redact_unit(unit)   # unit.id recomputed from redacted code
    scan_rows([{"output": "key AKIA..."}])
        -> [Finding(rule="aws_access_key", field="output", row=0)]
"""

from dataprep.secrets.matching import PLACEHOLDER_RE, Finding, Match
from dataprep.secrets.redaction import UNIT_LIST_FIELDS, UNIT_TEXT_FIELDS, Redactor
from dataprep.secrets.scanner import find_secrets, scan_rows, scan_text
from dataprep.secrets.values import looks_random, shannon_entropy

__all__ = [
    "PLACEHOLDER_RE",
    "UNIT_LIST_FIELDS",
    "UNIT_TEXT_FIELDS",
    "Finding",
    "Match",
    "Redactor",
    "find_secrets",
    "looks_random",
    "scan_rows",
    "scan_text",
    "shannon_entropy",
]
