"""Secrets and personal data: recall on the planted secrets, clean units left alone,
stable placeholders, push scanning, and nothing planted left after `dataprep run`."""

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.models import Unit
from dataprep.secrets import Finding, Redactor, find_secrets, looks_random, scan_rows, scan_text
from dataprep.store import Store
from tests.conftest import FIXTURES

PROJECT = FIXTURES / "hotel-booking"
PLANTED = json.loads((FIXTURES / "planted-secrets.json").read_text(encoding="utf-8"))
PROVIDER_KINDS = {
    "aws_access_key_id",
    "github_token",
    "huggingface_token",
    "slack_token",
    "stripe_key",
    "pem_private_key",
}


def fragments(value: str) -> list[str]:
    """What must not survive of a planted value: the value, or each body line of a PEM block."""
    lines = [line for line in value.splitlines() if len(line) > 8 and "-----" not in line]
    return lines or [value]


def leaked(secret: dict, text: str) -> bool:
    return any(fragment in text for fragment in fragments(secret["value"]))


def test_planted_secrets_are_planted():
    for secret in PLANTED:
        assert secret["value"] in (PROJECT / secret["file"]).read_text(encoding="utf-8"), secret[
            "kind"
        ]


def test_every_planted_secret_is_redacted_from_its_file():
    redactor = Redactor()
    missed = []
    for secret in PLANTED:
        redacted, rules = redactor.redact((PROJECT / secret["file"]).read_text(encoding="utf-8"))
        assert rules, secret["file"]
        if leaked(secret, redacted):
            missed.append(secret["kind"])
    provider_missed = [k for k in missed if k in PROVIDER_KINDS]
    assert provider_missed == [], "every provider-format and PEM secret must go"
    recall = 1 - len(missed) / len(PLANTED)
    assert recall >= 0.95, f"recall {recall:.2%}, missed {missed}"


def test_clean_units_are_left_alone():
    from dataprep.slicing import slice_repo

    units = slice_repo(PROJECT).units
    clean = [u for u in units if not any(leaked(s, u.code + (u.javadoc or "")) for s in PLANTED)]
    redactor = Redactor()
    altered = [u.qualified_name for u in clean if redactor.redact_unit(u)[1]]
    assert len(clean) > 200
    assert len(altered) / len(clean) <= 0.05, altered
    dirty = [u for u in units if u not in clean]
    assert dirty and all(redactor.redact_unit(u)[1] for u in dirty)


@pytest.mark.parametrize(
    "text",
    [
        "cache at 10.0.0.5, 172.16.4.1, 192.168.1.20 and 127.0.0.1",
        "resolvers 8.8.8.8, 1.1.1.1 and 9.9.9.9",
        "see JLS section 15.12.4.4 and OID 2.5.4.10",
        "mail someone@example.com",
        'String password = request.getPassword(); if (password == null) { token = "" ; }',
        "spring.datasource.password=${DB_PASSWORD}",
        'static final String ERROR_CODE = "ROOM_NOT_FOUND_ERROR_CODE";',
        'super("PBEWithHmacSHA256AndAES_128");',
        "aws example key AKIAIOSFODNN7EXAMPLE",
        'psA("SecretKeyFactory", "PBEWithMD5AndDES");',
        'keyMaterialAlg = "SunTls12KeyMaterial";',
        "    token-lifetime: 8h30m",
        '{ "keystore.password", "Keystore-Kennwort" },',
    ],
)
def test_clean_text_is_not_a_secret(text):
    assert scan_text(text) == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("ops ops-oncall@grandhotel.io", "email"),
        ("balancer 52.28.119.40", "public_ip"),
        ("jdbc:mysql://db/x?user=a&password=Zz9-pass", "url_password"),
        ("https://admin:Hunter2x9@db.internal/x", "url_password"),
        ('<property name="password" value="Smtp-9x"/>', "password"),
        ("<password>Pa55-word</password>", "password"),
        ('DB_PASSWORD = "Pa55-word"', "password"),
        ("  bind-password: 'Ld4p-9!'", "password"),
        ('String k = "MWy2xdKbiGpW5B9G0xQLOry7eJZXwoR4";', "high_entropy"),
        ("token xoxp-12345678901-abcdefghijkl", "slack_token"),
        ("key sk_test_" + "a1B2" * 6, "stripe_key"),
        ("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", "private_key"),
    ],
)
def test_each_rule_finds_its_kind(text, rule):
    assert scan_text(text) == [rule]


def test_looks_random_example():
    assert looks_random("MWy2xdKbiGpW5B9G0xQLOry7eJZXwoR4")
    assert not looks_random("ROOM_NOT_FOUND_ERROR_CODE")


def test_placeholders_are_stable_within_a_store_and_hold_no_value(tmp_path):
    value = "ops-oncall@grandhotel.io"
    store = Store.open(tmp_path)
    first, _ = Redactor(store).redact(f"a {value} b 52.28.119.40")
    assert first == "a <SECRET:email:1> b <SECRET:public_ip:1>"
    again, _ = Redactor(store).redact(f"{value} and other@grandhotel.io")
    assert again == "<SECRET:email:1> and <SECRET:email:2>"
    store.close()
    db = (tmp_path / "dataprep.db").read_bytes()
    assert value.encode() not in db
    assert Redactor(Store.open(tmp_path)).redact(value)[0] == "<SECRET:email:1>"


def test_redacting_twice_changes_nothing():
    redactor = Redactor()
    once, _ = redactor.redact("key AKIA7LRWFVEALKXWKKXZ mail a.b@grandhotel.io")
    assert redactor.redact(once) == (once, [])


def test_redact_unit_recomputes_the_id_and_follows_parents():
    code = 'static final String KEY = "MWy2xdKbiGpW5B9G0xQLOry7eJZXwoR4";'
    field = Unit(
        id=Unit.make_id("A.java", "field", "A.KEY", None, code),
        kind="field", name="KEY", qualified_name="A.KEY", path="A.java", start_line=2, end_line=2,
        code=code, language="java", repo="r", initializer='"MWy2xdKbiGpW5B9G0xQLOry7eJZXwoR4"',
    )  # fmt: skip
    child = field.model_copy(
        update={"id": "child", "parent": field.id, "code": "int x;", "initializer": None}
    )
    (new, kid), findings = Redactor().redact_units([field, child])
    assert "MWy2" not in new.model_dump_json()
    assert new.id == Unit.make_id("A.java", "field", "A.KEY", None, new.code) != field.id
    assert kid.parent == new.id
    assert {f.rule for f in findings} == {"token", "high_entropy"}
    assert {f.field for f in findings} == {"code", "initializer"}


def test_scan_rows_names_row_field_and_rule_never_the_value():
    rows = [
        {"instruction": "q", "output": "fine"},
        {"instruction": "q", "output": "hf_" + "Ab1" * 12},
    ]
    findings = scan_rows(rows)
    assert findings == [Finding(rule="huggingface_token", field="output", row=1)]
    assert "Ab1" not in repr(findings)
    assert scan_rows(rows, fields=["instruction"]) == []


def test_find_secrets_spans_do_not_overlap():
    text = "url=jdbc:postgresql://u:Pa55-x9@db/x?password=Pa55-x9 AKIA7LRWFVEALKXWKKXZ"
    spans = [(m.start, m.end) for m in find_secrets(text)]
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.slow
def test_no_planted_secret_survives_dataprep_run(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(PROJECT), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "dataprep.db").is_file() and (out / "dataset").is_dir()
    assert (out / "report.html").is_file() and (out / "report.json").is_file()
    files = [p for p in out.rglob("*") if p.is_file()]
    texts = {p: p.read_bytes().decode("utf-8", "replace") for p in files}
    db = sqlite3.connect(out / "dataprep.db")
    rows = [
        " ".join(str(v) for v in row)
        for table in ("units", "pairs", "decisions", "candidates", "llm_cache", "meta", "runs")
        for row in db.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
    ]
    db.close()
    texts[Path("db-rows")] = "\n".join(rows)
    texts[Path("cli-output")] = result.output
    leaks = [(s["kind"], str(p)) for s in PLANTED for p, text in texts.items() if leaked(s, text)]
    assert leaks == []
    assert "<SECRET:" in texts[Path("db-rows")]
