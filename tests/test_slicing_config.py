"""The configuration slicer: which files are configuration (and why others are not),
.properties and YAML keys, SQL tables, view templates."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from dataprep.slicing import configfiles as cf
from dataprep.slicing import slice_file, slice_repo, walk
from dataprep.slicing.config import properties_entries, slice_config, split_property, yaml_entries
from dataprep.slicing.sql import foreign_keys, parse_column, primary_key, slice_sql, statements

HOTEL = FIXTURES / "hotel-booking"


@pytest.fixture(scope="module")
def hotel():
    return slice_repo(HOTEL)


def _by_kind(result, kind: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for unit in result.units:
        if unit.kind == kind:
            out.setdefault(unit.qualified_name, []).append(unit)
    return out


# -- which files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "language", "reason"),
    [
        ("booking/src/main/resources/application.properties", "properties", None),
        ("src/main/resources/application-dev.yaml", "yaml", None),
        ("config/application.yml", "yaml", None),
        ("src/main/resources/bootstrap.yml", "yaml", None),
        ("src/main/resources/quartz.properties", "properties", None),
        ("src/main/resources/db/migration/V1__init.sql", "sql", None),
        ("sql/schema.sql", "sql", None),
        ("web/src/main/resources/templates/rooms/list.html", "view", None),
        ("web/src/main/resources/templates/mail.ftlh", "view", None),
        ("web/src/main/resources/messages.properties", "properties", cf.MESSAGES),
        ("web/src/main/resources/messages_de.properties", "properties", cf.MESSAGES),
        ("web/src/main/resources/labels_pt_BR.properties", "properties", cf.MESSAGES),
        ("web/src/main/resources/i18n/texts.properties", "properties", cf.MESSAGES),
        ("gradle.properties", "properties", cf.TOOL_PROPERTIES),
        ("gradle/wrapper/gradle-wrapper.properties", "properties", cf.TOOL_PROPERTIES),
        (".github/workflows/ci.yml", "yaml", cf.TOOL_YAML),
        ("src/main/resources/openapi.yaml", "yaml", cf.TOOL_YAML),
        ("web/src/test/java/app/application.properties", "properties", cf.TEST_CONFIG),
        ("src/integrationTest/sql/seed.sql", "sql", cf.TEST_CONFIG),
    ],
)
def test_which_files_are_configuration(path, language, reason):
    assert cf.config_language(path) == language
    assert walk.language_of(path) == language
    assert cf.skip_reason(path) == reason


def test_other_files_are_no_configuration():
    assert cf.config_language("docs/guide/index.html") is None  # a doc page, not a template
    assert walk.language_of("docs/guide/index.html") == "html"
    assert cf.config_language("pom.xml") is None and cf.skip_reason("pom.xml") is None
    assert cf.view_name("a/src/main/resources/templates/rooms/list.html") == "rooms/list"
    assert cf.profile_of("src/main/resources/application-prod.properties") == "prod"
    assert cf.profile_of("src/main/resources/application.properties") is None


def test_the_walk_gives_each_left_out_config_file_its_reason(tmp_path):
    files = {
        "src/main/resources/application.properties": "a=1\n",
        "src/main/resources/messages_fr.properties": "hello=Bonjour\n",
        "gradle.properties": "org.gradle.jvmargs=-Xmx2g\n",
        ".github/workflows/ci.yml": "on: push\n",
        "src/test/resources/application.yml": "a: 2\n",
        "src/main/resources/static/app.js": "let a = 1;\n",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    entries = {e.path: e.skip for e in walk.iter_files(tmp_path)}
    assert entries == {
        ".github/workflows/ci.yml": cf.TOOL_YAML,
        "gradle.properties": cf.TOOL_PROPERTIES,
        "src/main/resources/application.properties": None,
        "src/main/resources/messages_fr.properties": cf.MESSAGES,
        "src/main/resources/static/app.js": walk.UNSUPPORTED,
        "src/test/resources/": walk.TEST_RESOURCE,
    }


def test_a_licence_header_does_not_make_a_migration_a_licence(tmp_path):
    header = '-- Licensed under the Apache License, Version 2.0 (the "License");\n' * 30
    data = (header + "CREATE TABLE t (id INT);\n").encode()
    result = slice_file(tmp_path, "db/migration/V1__t.sql", data)
    assert result.skipped is None and [u.name for u in result.units] == ["t"]


# -- .properties ------------------------------------------------------------------------------


def test_properties_read_as_java_properties_reads_them():
    text = (
        "# the port\n! old style\nserver.port = 8080\n\n"
        "a\\ b:c d  \n"
        "long.value=one, \\\n    two\n"
        "unicode=caf\\u00e9\\tx\n"
        "  indented.key  value\n"
        "empty=\n"
    )
    entries = properties_entries(text)
    got = [(e.key, e.value, e.code, e.start_line, e.end_line, e.comment) for e in entries]
    assert got == [
        ("server.port", "8080", "server.port = 8080", 3, 3, "# the port\n! old style"),
        ("a b", "c d", "a\\ b:c d", 5, 5, None),
        ("long.value", "one, two", "long.value=one, \\\n    two", 6, 7, None),
        ("unicode", "café\tx", "unicode=caf\\u00e9\\tx", 8, 8, None),
        ("indented.key", "value", "indented.key  value", 9, 9, None),
        ("empty", "", "empty=", 10, 10, None),
    ]
    assert split_property("key") == ("key", "")


def test_config_units_keep_code_exact_and_mark_profiles():
    text = "# pool\nspring.datasource.url=jdbc:h2:mem:x\r\nserver.port=${PORT:8080}\n"
    path = "src/main/resources/application-dev.properties"
    units, errors = slice_config(path, text, "repo", None, "properties")
    assert errors == []
    assert [(u.qualified_name, u.initializer, u.modifiers) for u in units] == [
        ("spring.datasource.url", "jdbc:h2:mem:x", ["profile:dev"]),
        ("server.port", "${PORT:8080}", ["profile:dev"]),
    ]
    lines = text.splitlines(keepends=True)
    for unit in units:
        assert unit.code in "".join(lines[unit.start_line - 1 : unit.end_line])
        assert unit.kind == "config" and unit.name == unit.qualified_name
    assert units[0].javadoc == "# pool"


# -- YAML ---------------------------------------------------------------------------------------


def test_yaml_keys_are_flattened_as_spring_flattens_them():
    text = (
        "spring:\n"
        "  datasource:\n"
        "    # the JDBC URL\n"
        '    url: "jdbc:postgresql://db/x"\n'
        "management.endpoints.web.exposure.include:\n"
        "  - health\n"
        "  - info\n"
        "cloud:\n"
        "  gateway:\n"
        "    routes:\n"
        "      - id: rooms\n"
        "        uri: http://rooms\n"
        "banner: |\n"
        "  Hotel\n"
        "  v1\n"
        "nothing:\n"
        "---\n"
        "spring.config.activate.on-profile: prod\n"
        "server:\n"
        "  port: 80\n"
    )
    entries, errors = yaml_entries(text)
    assert errors == []
    got = [(e.key, e.value, e.code, e.start_line, e.end_line, e.profile) for e in entries]
    assert got == [
        ("spring.datasource.url", "jdbc:postgresql://db/x", 'url: "jdbc:postgresql://db/x"', 4, 4,
         None),
        ("management.endpoints.web.exposure.include", "[health, info]",
         "management.endpoints.web.exposure.include:\n  - health\n  - info", 5, 7, None),
        ("cloud.gateway.routes[0].id", "rooms", "id: rooms", 11, 11, None),
        ("cloud.gateway.routes[0].uri", "http://rooms", "uri: http://rooms", 12, 12, None),
        ("banner", "Hotel\nv1\n", "banner: |\n  Hotel\n  v1", 13, 15, None),
        ("nothing", None, "nothing:", 16, 16, None),
        ("spring.config.activate.on-profile", "prod", "spring.config.activate.on-profile: prod",
         18, 18, "prod"),
        ("server.port", "80", "port: 80", 20, 20, "prod"),
    ]  # fmt: skip
    assert entries[0].comment == "# the JDBC URL"


def test_a_yaml_syntax_error_is_reported_not_raised():
    units, errors = slice_config("application.yml", "a: 1\nb: [\n", "repo", None, "yaml")
    assert [u.qualified_name for u in units] == [] and errors
    assert errors[0].startswith("application.yml:")


# -- SQL ----------------------------------------------------------------------------------------


def test_statements_skip_comments_strings_and_dollar_quotes():
    text = (
        "-- header; with a semicolon\n"
        "CREATE TABLE a (x TEXT DEFAULT 'a;b'); /* c; */\n"
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n"
        "DROP TABLE IF EXISTS b, c"
    )
    got = [text[s:e] for s, e, _ in statements(text)]
    assert got == [
        "CREATE TABLE a (x TEXT DEFAULT 'a;b');",
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;",
        "DROP TABLE IF EXISTS b, c",
    ]


@pytest.mark.parametrize(
    ("item", "name", "type", "constraints"),
    [
        ("id BIGSERIAL PRIMARY KEY", "id", "BIGSERIAL", ["PRIMARY KEY"]),
        ("price NUMERIC(10, 2) NOT NULL DEFAULT 0", "price", "NUMERIC(10, 2)",
         ["NOT NULL", "DEFAULT 0"]),
        ('"Order" VARCHAR(20) NULL', "Order", "VARCHAR(20)", ["NULL"]),
        ("at TIMESTAMP WITH TIME ZONE DEFAULT now()", "at", "TIMESTAMP WITH TIME ZONE",
         ["DEFAULT now()"]),
        ("id BIGINT GENERATED ALWAYS AS IDENTITY", "id", "BIGINT",
         ["GENERATED ALWAYS AS IDENTITY"]),
        ("room_id BIGINT CONSTRAINT fk_r REFERENCES room (id) ON DELETE CASCADE", "room_id",
         "BIGINT", ["CONSTRAINT fk_r REFERENCES room (id) ON DELETE CASCADE"]),
        ("`id` int(11) NOT NULL AUTO_INCREMENT", "id", "int(11)", ["NOT NULL", "AUTO_INCREMENT"]),
        ("adults INT CHECK (adults > 0)", "adults", "INT", ["CHECK (adults > 0)"]),
        ("id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "id", "INTEGER",
         ["GENERATED BY DEFAULT AS IDENTITY", "PRIMARY KEY"]),
        ("key VARCHAR(20) UNIQUE", "key", "VARCHAR(20)", ["UNIQUE"]),
    ],
)  # fmt: skip
def test_a_column_is_its_name_type_and_constraints_as_written(item, name, type, constraints):
    column = parse_column(item)
    assert (column.name, column.type, column.constraints) == (name, type, constraints)


def test_table_constraints_are_no_columns_and_foreign_keys_are_read():
    items = [
        "id INT",
        "room_id INT REFERENCES room",
        "guest_id INT",
        "CONSTRAINT fk_guest FOREIGN KEY (guest_id) REFERENCES public.guest (id)",
        "PRIMARY KEY (id)",
    ]
    assert [parse_column(i) is None for i in items] == [False, False, False, True, True]
    assert [(f.columns, f.table, f.target) for f in foreign_keys(items)] == [
        (["room_id"], "room", None),
        (["guest_id"], "public.guest", ["id"]),
    ]
    assert primary_key(items) == ["id"]


def test_sql_units_are_create_alter_and_drop_statements():
    text = (
        "DROP TABLE IF EXISTS room, booking;\n"
        'CREATE TABLE IF NOT EXISTS "public"."room" (\n  id INT PRIMARY KEY -- the id\n);\n'
        "ALTER TABLE ONLY room ADD COLUMN floor INT, DROP COLUMN IF EXISTS legacy;\n"
        "CREATE INDEX i ON room (floor);\n"
        "CREATE TABLE copy AS SELECT * FROM room;\n"
    )
    units, errors = slice_sql("schema.sql", text, "repo", None)
    assert errors == []
    got = [
        (u.name, u.qualified_name, u.type, u.start_line, u.end_line, u.parameters) for u in units
    ]
    assert got == [
        ("room", "room", "DROP TABLE", 1, 1, []),
        ("booking", "booking", "DROP TABLE", 1, 1, []),
        ("room", "public.room", "CREATE TABLE", 2, 4, ["id INT PRIMARY KEY"]),
        ("room", "room", "ALTER TABLE", 5, 5,
         ["ADD COLUMN floor INT", "DROP COLUMN IF EXISTS legacy"]),
    ]  # fmt: skip
    assert (
        units[2].code
        == 'CREATE TABLE IF NOT EXISTS "public"."room" (\n  id INT PRIMARY KEY -- the id\n);'
    )
    assert len({u.id for u in units}) == len(units)


def test_h2_drops_and_mysql_indexes():
    text = "DROP TABLE vets IF EXISTS;\nCREATE TABLE v (a INT, key INT, INDEX(a), KEY k (key));\n"
    units, _ = slice_sql("db/h2/schema.sql", text, "repo", None)
    assert [(u.qualified_name, u.type) for u in units] == [
        ("vets", "DROP TABLE"),
        ("v", "CREATE TABLE"),
    ]
    assert [parse_column(p) is None for p in units[1].parameters] == [False, False, True, True]


def test_a_create_table_not_understood_is_a_parse_error():
    units, errors = slice_sql("schema.sql", "CREATE TABLE broken id INT;\n", "repo", None)
    assert units == [] and errors == ["schema.sql:1: CREATE TABLE not understood"]


# -- the fixture ---------------------------------------------------------------------------------


def test_the_fixture_config_units(hotel):
    config = _by_kind(hotel, "config")
    url = config["spring.datasource.url"][0]
    assert url.path == "booking/src/main/resources/application.properties"
    assert url.code.startswith("spring.datasource.url=jdbc:postgresql://db:5432/hotel")
    assert config["hotel.payment.api-key"][0].initializer == "${PAYMENT_API_KEY}"
    lifetimes = config["hotel.auth.token-lifetime"]
    assert [(u.initializer, u.modifiers) for u in lifetimes] == [
        ("8h", []),
        ("1h", ["profile:prod"]),
    ]
    assert config["hotel.auth.github.token"][0].javadoc == (
        "# token used by the release job to tag builds"
    )


def test_the_fixture_schema_and_templates(hotel):
    tables = _by_kind(hotel, "table")
    assert {name: [u.type for u in units] for name, units in tables.items()} == {
        "room": ["CREATE TABLE"],
        "room_feature": ["CREATE TABLE"],
        "booking": ["CREATE TABLE", "ALTER TABLE"],
    }
    views = _by_kind(hotel, "view_template")
    assert sorted(views) == ["bookings/form", "home", "rooms/choose"]
    assert views["home"][0].language == "html"


def test_the_fixture_keeps_nothing_unaccounted(hotel):
    parsed = set(hotel.parsed)
    assert "booking/src/main/resources/db/migration/V2__add_booking_notes.sql" in parsed
    assert "auth/src/main/resources/application.yml" in parsed
    assert dict(hotel.skipped)["booking/src/main/resources/notifications.xml"] == walk.UNSUPPORTED
