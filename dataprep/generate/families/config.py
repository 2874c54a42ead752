"""The application's settings, from its configuration files (no LLM; the SQL schema is
in schema.py, the views controllers return in views.py).

Settings (`config` units, main code only; a key set twice in one file counts once, the
last, as Spring reads it):
- "What is the default of `server.port`?" -> "`server.port` is `8080` by default, set in
  FILE.", with the profiles that override it. A Spring placeholder is explained:
  `${DB_PASSWORD}` is read from `DB_PASSWORD` with no default, `${PORT:8080}` falls back
  to `8080`. A profile's key is asked for that profile. A value that is wholly a redacted
  secret is not asked about; the keys that choose a YAML document's profile neither.
- "Which setting configures the HTTP port?" -> the key, its value and file; the purpose is
  the documented meaning of a well-known Spring Boot key (`PURPOSES`). A key with a comment
  of its own right above it (not a comment heading a group of keys, not a commented-out
  setting) is asked by that comment: "Which setting does the comment \"...\" describe?".
- "Which settings does the application define for `spring.datasource`?" -> the keys of a
  file under that prefix, each with its value (a redacted one is not shown); a prefix is
  asked when it holds 2 to MAX_PREFIX keys, at its longest form for that set of keys.
"""

from __future__ import annotations

import re
from collections import defaultdict

from dataprep.generate.families import family
from dataprep.generate.families.repo import RepoView
from dataprep.generate.java_facts import is_test_path
from dataprep.models import Unit
from dataprep.secrets import PLACEHOLDER_RE

MAX_PREFIX = 30  # keys a prefix question lists at most
MAX_INLINE = 160  # a longer value is shown as a block
MIN_COMMENT_WORDS = 3  # a shorter comment above a key is a section heading
# Well-known Spring Boot keys -> what they configure (Spring Boot's documentation).
PURPOSES = {
    "server.port": "the HTTP port the server listens on",
    "server.address": "the network address the server binds to",
    "server.servlet.context-path": "the application's context path",
    "server.servlet.session.timeout": "the HTTP session timeout",
    "server.ssl.enabled": "TLS on the server",
    "server.ssl.key-store": "the key store of the server's TLS certificate",
    "spring.application.name": "the application's name",
    "spring.profiles.active": "the active Spring profiles",
    "spring.datasource.url": "the JDBC URL of the database",
    "spring.datasource.username": "the database user",
    "spring.datasource.password": "the database password",
    "spring.datasource.driver-class-name": "the JDBC driver class",
    "spring.jpa.hibernate.ddl-auto": "Hibernate's schema handling at start-up",
    "spring.jpa.show-sql": "the logging of the SQL that JPA runs",
    "spring.jpa.open-in-view": "the JPA session kept open while a view renders",
    "spring.jpa.database-platform": "the Hibernate SQL dialect",
    "spring.jpa.properties.hibernate.dialect": "the Hibernate SQL dialect",
    "spring.flyway.enabled": "Flyway's database migrations at start-up",
    "spring.flyway.locations": "the folders Flyway reads migrations from",
    "spring.liquibase.change-log": "the Liquibase change log",
    "spring.sql.init.mode": "the database initialisation with schema.sql and data.sql",
    "spring.mvc.view.prefix": "the prefix added to view names",
    "spring.mvc.view.suffix": "the suffix added to view names",
    "spring.thymeleaf.cache": "Thymeleaf's template cache",
    "spring.servlet.multipart.max-file-size": "the maximum size of an uploaded file",
    "spring.mail.host": "the SMTP server that sends mail",
    "spring.mail.port": "the SMTP server's port",
    "spring.data.redis.host": "the Redis host",
    "spring.redis.host": "the Redis host",
    "spring.kafka.bootstrap-servers": "the Kafka brokers",
    "spring.rabbitmq.host": "the RabbitMQ host",
    "spring.cache.type": "the cache provider",
    "spring.main.banner-mode": "the start-up banner",
    "spring.h2.console.enabled": "the H2 web console",
    "spring.security.user.name": "the default user's name",
    "spring.security.user.password": "the default user's password",
    "management.endpoints.web.exposure.include": "the actuator endpoints exposed over HTTP",
    "management.server.port": "the port of the actuator endpoints",
    "logging.file.name": "the log file",
    "logging.file.path": "the folder of the log files",
    "logging.level.root": "the root log level",
    "cloud.aws.region.static": "the AWS region",
    "cloud.aws.credentials.access-key": "the AWS access key",
    "cloud.aws.credentials.secret-key": "the AWS secret key",
}  # noun phrases: each reads in every phrasing of config.setting
# Keys that choose the profile of their YAML document: not settings to ask about.
PROFILE_KEYS = frozenset({"spring.config.activate.on-profile", "spring.profiles"})
_PLACEHOLDER = re.compile(r"\$\{([^}:]+)(?::([^}]*))?\}")
_COMMENTED_OUT = re.compile(r"^[\w.\[\]-]+\s*[=:]")


def _config_units(repo: RepoView) -> list[Unit]:
    """The main code's config units, a key set twice in one file (and profile) once: the
    last, as Spring reads it; the keys that choose a YAML document's profile left out."""
    last: dict[tuple, Unit] = {}
    for unit in repo.units:
        if unit.kind != "config" or is_test_path(unit.path) or unit.name in PROFILE_KEYS:
            continue
        last[(unit.path, _profile(unit), unit.qualified_name)] = unit
    return sorted(last.values(), key=lambda u: (u.path, u.start_line, u.id))


def _profile(unit: Unit) -> str | None:
    return next((m.split(":", 1)[1] for m in unit.modifiers if m.startswith("profile:")), None)


def _secret(value: str | None) -> bool:
    return value is not None and PLACEHOLDER_RE.fullmatch(value.strip()) is not None


def show_value(value: str) -> str:
    """A value as inline Markdown code (`is_block` values are shown as a block instead).

    Example: show_value("8080") -> "`8080`"; show_value("") -> "an empty value"
    """
    if value == "":
        return "an empty value"
    tick = "``" if "`" in value else "`"
    pad = " " if tick == "``" else ""
    return f"{tick}{pad}{value}{pad}{tick}"


def is_block(value: str) -> bool:
    """A value too long or too many lines to show inline."""
    return "\n" in value or len(value) > MAX_INLINE


def _block(value: str) -> str:
    return f"\n\n```\n{value}\n```"


def placeholder_note(value: str) -> str:
    """What the Spring placeholders of a value mean, or "".

    Example: placeholder_note("${DB_PASSWORD}") -> " It is read from `DB_PASSWORD` (an
    environment variable or another setting), with no default."
    """
    found = _PLACEHOLDER.findall(value)
    if len(found) == 1 and _PLACEHOLDER.fullmatch(value.strip()):
        name, default = found[0]
        rest = f"or `{default}` when that is not set" if default else "with no default"
        return f" It is read from `{name}` (an environment variable or another setting), {rest}."
    if not found:
        return ""
    parts = ", ".join(f"`{name}`" + (f" (default `{d}`)" if d else "") for name, d in found)
    what = "placeholders are" if len(found) > 1 else "placeholder is"
    return f" Its {what} resolved at start-up: {parts}."


def _where(unit: Unit) -> str:
    profile = _profile(unit)
    return f"in the `{profile}` profile ({unit.path})" if profile else f"in {unit.path}"


def _setting_answer(unit: Unit) -> str:
    """The key, its value and where it is set (a redacted value is not shown)."""
    value = unit.initializer
    if value is None or _secret(value):
        return f"`{unit.qualified_name}`, {_where(unit)}."
    if is_block(value):
        return f"`{unit.qualified_name}`, set {_where(unit)} to:{_block(value)}"
    return f"`{unit.qualified_name}`, set to {show_value(value)} {_where(unit)}." + (
        placeholder_note(value)
    )


def _value_answer(unit: Unit, profile: str | None, overrides: list[Unit]) -> str:
    """What a key is set to: by default (with the profiles that override it), or in its
    profile. A value with placeholders is "set to", not a default: its note says which."""
    key, value = unit.qualified_name, unit.initializer or ""
    if profile is not None:
        if is_block(value):
            return f"In the `{profile}` profile ({unit.path}), `{key}` is:{_block(value)}"
        text = f"In the `{profile}` profile, `{key}` is {show_value(value)} ({unit.path})."
        return text + placeholder_note(value)
    if is_block(value):
        text = f"`{key}` is set by default in {unit.path} to:{_block(value)}"
    elif _PLACEHOLDER.search(value):
        text = f"`{key}` is set to {show_value(value)} in {unit.path}." + placeholder_note(value)
    else:
        text = f"`{key}` is {show_value(value)} by default, set in {unit.path}."
    for other in overrides:
        shown = "another value" if _secret(other.initializer) else show_value(other.initializer)
        if not is_block(other.initializer or ""):
            text += f" The `{_profile(other)}` profile sets it to {shown}."
    return text


def purpose_of(key: str) -> str | None:
    """What a well-known Spring Boot key configures. Example: purpose_of("logging.level.
    com.example") -> "the log level of `com.example`" """
    if key in PURPOSES:
        return PURPOSES[key]
    if key.startswith("logging.level.") and key != "logging.level.root":
        return f"the log level of `{key.removeprefix('logging.level.')}`"
    return None


def own_comment(unit: Unit, next_start: int | None) -> str | None:
    """The comment right above a key when it describes that key alone: the next key does
    not follow on the next line (no group), and it is no commented-out setting, ruler or
    section heading (fewer than MIN_COMMENT_WORDS words: "# Web").

    Example: "# token used by the release job" above a key with a blank line after it
    -> "token used by the release job"
    """
    if not unit.javadoc or next_start == unit.end_line + 1:
        return None
    lines = [ln.lstrip("#!").strip() for ln in unit.javadoc.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines or any(_COMMENTED_OUT.match(ln) or not re.search(r"[A-Za-z]{3}", ln)
                        for ln in lines):  # fmt: skip
        return None
    text = " ".join(lines)
    if len(text.split()) < MIN_COMMENT_WORDS or len(text) > 200:
        return None  # "# Web", "# JPA": a section heading, not a description of the key
    return text


def values_with(repo: RepoView, unit: Unit, **extra: str) -> list[dict[str, str]]:
    return [dict(v, **extra) for v in repo.values(unit)]


def emit(repo, tasks, answer_kind, unit, values, text, seed, span=None) -> list:
    span = span or (unit.start_line, unit.end_line)
    return [
        repo.candidate(task_id, task, unit, values, "", (text, *span), seed)
        for task_id, task in tasks.items()
        if task.answer == answer_kind and unit.kind in task.kinds
    ]


@family("config_default", "config_profile", "config_setting", "config_described", "config_prefix")
def settings(repo: RepoView, tasks: dict, seed: int) -> list:
    units = _config_units(repo)
    overrides: dict[tuple, list[Unit]] = defaultdict(list)  # (module, key) -> profiles' units
    for unit in units:
        if _profile(unit) is not None and unit.initializer is not None:
            overrides[(repo.module_of(unit.path), unit.qualified_name)].append(unit)
    by_file: dict[tuple, list[Unit]] = defaultdict(list)
    for unit in units:
        by_file[(unit.path, _profile(unit) or "")].append(unit)
    out = []
    for (_, profile), group in sorted(by_file.items()):
        starts = sorted(u.start_line for u in group)
        for unit in group:
            found = overrides.get((repo.module_of(unit.path), unit.qualified_name), [])
            out += _key_candidates(repo, tasks, unit, profile or None, starts, found, seed)
        if not profile:
            out += _prefix_candidates(repo, tasks, group, seed)
    return out


def _key_candidates(repo, tasks, unit: Unit, profile, starts, overrides, seed: int) -> list:
    out = []
    key, value = unit.qualified_name, unit.initializer
    values = values_with(repo, unit, key=key, profile=profile or "")
    if value is not None and not _secret(value):
        kind = "config_default" if profile is None else "config_profile"
        text = _value_answer(unit, profile, overrides)
        out += emit(repo, tasks, kind, unit, values, text, seed)
    answer = _setting_answer(unit)
    purpose = purpose_of(key)
    if purpose:
        vals = values_with(repo, unit, key=key, purpose=purpose, profile=profile or "")
        out += emit(repo, tasks, "config_setting", unit, vals, answer, seed)
    later = [s for s in starts if s > unit.start_line]
    comment = own_comment(unit, later[0] if later else None)
    if comment:
        vals = values_with(repo, unit, key=key, purpose=comment, profile=profile or "")
        out += emit(repo, tasks, "config_described", unit, vals, answer, seed)
    return out


def prefixes(keys: list[str]) -> dict[str, list[str]]:
    """Prefixes worth asking about -> their keys: 2 to MAX_PREFIX keys, and the longest
    prefix of each set of keys (`cloud` and `cloud.aws` holding the same keys: `cloud.aws`).

    Example: prefixes(["a.b.x", "a.b.y", "c"]) -> {"a.b": ["a.b.x", "a.b.y"]}
    """
    under: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts)):
            under[".".join(parts[:n])].append(key)
    best: dict[tuple, str] = {}
    for prefix, found in under.items():
        if 2 <= len(found) <= MAX_PREFIX:
            group = tuple(found)
            if len(prefix) > len(best.get(group, "")):
                best[group] = prefix
    return {prefix: list(group) for group, prefix in sorted(best.items(), key=lambda kv: kv[1])}


def _prefix_candidates(repo, tasks, group: list[Unit], seed: int) -> list:
    by_key = {u.qualified_name: u for u in group}
    out = []
    for prefix, keys in prefixes(list(by_key)).items():
        lines = []
        for key in keys:
            value = by_key[key].initializer
            if value is None:
                lines.append(f"- `{key}` (no value)")
            elif _secret(value):
                lines.append(f"- `{key}` (value redacted)")
            elif is_block(value):
                lines.append(f"- `{key}` (a value of {len(value.splitlines())} lines)")
            else:
                lines.append(f"- `{key}` = {show_value(value)}")
        first = by_key[keys[0]]
        text = f"{first.path} sets {len(keys)} settings under `{prefix}`:\n" + "\n".join(lines)
        span = (min(by_key[k].start_line for k in keys), max(by_key[k].end_line for k in keys))
        values = values_with(repo, first, prefix=prefix)
        out += emit(repo, tasks, "config_prefix", first, values, text, seed, span)
    return out
