"""Which files are the application's configuration, schema and view templates.

Sliced (dataprep/slicing/config.py, sql.py):
- Spring Boot configuration: `application*.properties`, `application*.yml|yaml` and
  `bootstrap*.properties|yml|yaml` wherever they are (`config/application.yml` included),
  and any other `*.properties` under `src/main/resources` (`mail.properties`,
  `quartz.properties`): one `config` unit per key;
- SQL: every `*.sql` file outside the tests (`schema.sql`, Flyway's `db/migration/V1__x.sql`,
  Liquibase formatted SQL): one `table` unit per `CREATE TABLE` and `ALTER TABLE`;
- view templates under `src/main/resources/templates/` (Thymeleaf `.html`, FreeMarker
  `.ftlh`/`.ftl`, Mustache, Pebble): one `view_template` unit per file, named by its view.

Left out, each with its reason in the slice summary:
- configuration, SQL and templates among tests (`src/test/resources` is left out as a whole
  by the walk; a `test` folder or test source set here): test fixtures, not the application;
- message bundles (`messages*.properties`, `ValidationMessages*.properties`, a locale
  suffix such as `labels_de.properties`, anything under an `i18n` folder): texts shown to
  users, keyed by message codes, not settings;
- other `.properties` (`gradle.properties`, `gradle-wrapper.properties`,
  `sonar-project.properties`) and other YAML (CI workflows, docker-compose, OpenAPI specs,
  Helm charts): build and tool files that the application does not read.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from dataprep.slicing.docfiles import is_test_doc

# the slicer languages of this module (walk.language_of), besides the registry's and docs'
PROPERTIES, YAML, SQL, VIEW = "properties", "yaml", "sql", "view"
LANGUAGES = frozenset({PROPERTIES, YAML, SQL, VIEW})

# skip reasons (the slice summary groups by these)
TEST_CONFIG = "test configuration, SQL or template, not the application's"
MESSAGES = "message bundle (i18n texts), not configuration"
TOOL_PROPERTIES = "build or tool properties, not application configuration"
TOOL_YAML = "YAML the application does not read as configuration (CI, build, tool, API)"

_SPRING_NAME = re.compile(r"(?i)^(?:application|bootstrap)(?:-[\w.-]+)?\.(?:properties|ya?ml)$")
_MESSAGES = re.compile(
    r"^(?:[Mm]essages|ValidationMessages|i18n)(?:[_-][\w-]*)?\.properties$"
    r"|_[a-z]{2}(?:_[A-Z]{2})?\.properties$"  # a locale suffix: labels_de, texts_pt_BR
)
_RESOURCES = "src/main/resources/"
_TEMPLATES = "src/main/resources/templates/"
# view template suffix -> the unit's language
VIEW_SUFFIXES = {
    ".html": "html",
    ".htm": "html",
    ".ftlh": "freemarker",
    ".ftl": "freemarker",
    ".mustache": "mustache",
    ".peb": "pebble",
}


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder) or f"/{folder}" in path


def config_language(path: str) -> str | None:
    """The slicer language of a configuration, SQL or view template file, or None.

    Example: config_language("booking/src/main/resources/application.properties")
    -> "properties"; config_language("x/src/main/resources/templates/rooms/list.html")
    -> "view"; config_language(".github/workflows/ci.yml") -> "yaml" (skip_reason tells
    why it is not sliced)
    """
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".properties":
        return PROPERTIES
    if suffix in (".yml", ".yaml"):
        return YAML
    if suffix == ".sql":
        return SQL
    if suffix in VIEW_SUFFIXES and _under(path, _TEMPLATES):
        return VIEW
    return None


def skip_reason(path: str) -> str | None:
    """Why a configuration-like file (by its suffix) is not sliced, or None when it is
    sliced (or is no configuration-like file at all).

    Example: skip_reason("web/src/main/resources/messages_de.properties") -> MESSAGES;
    skip_reason("gradle.properties") -> TOOL_PROPERTIES; skip_reason("application.yml") -> None
    """
    language = config_language(path)
    if language is None:
        return None
    if is_test_doc(path):
        return TEST_CONFIG
    name = PurePosixPath(path).name
    if language == PROPERTIES:
        if _MESSAGES.search(name) or "i18n" in path.lower().split("/")[:-1]:
            return MESSAGES
        if _SPRING_NAME.match(name) or _under(path, _RESOURCES):
            return None
        return TOOL_PROPERTIES
    if language == YAML and not _SPRING_NAME.match(name):
        return TOOL_YAML
    return None


def profile_of(path: str) -> str | None:
    """The Spring profile a configuration file belongs to, by its name.

    Example: profile_of("src/main/resources/application-dev.yml") -> "dev";
    profile_of("application.properties") -> None
    """
    match = re.match(r"(?i)^(?:application|bootstrap)-([\w.-]+)\.(?:properties|ya?ml)$",
                     PurePosixPath(path).name)  # fmt: skip
    return match.group(1) if match else None


def view_name(path: str) -> str | None:
    """The view name a template under `src/main/resources/templates/` renders, or None.

    Example: view_name("room/src/main/resources/templates/rooms/list.html") -> "rooms/list"
    """
    at = path.find(_TEMPLATES)
    if at < 0 or (at > 0 and path[at - 1] != "/"):
        return None
    rest = path[at + len(_TEMPLATES) :]
    suffix = PurePosixPath(rest).suffix
    return rest[: -len(suffix)] if suffix else rest
