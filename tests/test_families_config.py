"""The configuration families: settings, the SQL schema and controller views; and secrets
in configuration stay out of every pair."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES
from store_text import store_rows

from dataprep.generate import templates as tg
from dataprep.generate.families.config import placeholder_note, prefixes
from dataprep.generate.families.schema import migration_key
from dataprep.generate.families.views import returned_views
from dataprep.pipeline import RunConfig, run_pipeline
from dataprep.slicing import slice_repo

HOTEL = FIXTURES / "hotel-booking"
PROPS = "app/src/main/resources/application.properties"


def _pairs(tmp_path, files: dict[str, str], task: str | None = None) -> dict[str, str]:
    """instruction -> output of the pairs (of `task`) of a repository made of `files`."""
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    pairs = tg.generate_template_pairs(slice_repo(tmp_path).units)
    return {p.instruction: p.output for p in pairs if task is None or p.task == task}


def _only(answers: dict[str, str]) -> str:
    assert len(answers) == 1, answers
    return next(iter(answers.values()))


@pytest.fixture(scope="module")
def hotel_pairs():
    return tg.generate_template_pairs(slice_repo(HOTEL).units)


def _answer(pairs, task: str, path_end: str, start_line: int) -> str:
    found = [
        p.output
        for p in pairs
        if p.task == task and p.path.endswith(path_end) and p.start_line == start_line
    ]
    assert len(found) == 1, found
    return found[0]


# -- settings -------------------------------------------------------------------------------


def test_a_default_names_key_value_and_file_and_explains_placeholders(tmp_path):
    text = "server.port=8080\ndb.password=${DB_PASSWORD}\nbucket=${BUCKET:invoices}\n"
    answers = _pairs(tmp_path, {PROPS: text}, "config.default")
    assert sorted(answers.values()) == [
        f"`bucket` is set to `${{BUCKET:invoices}}` in {PROPS}. It is read from `BUCKET` (an "
        "environment variable or another setting), or `invoices` when that is not set.",
        f"`db.password` is set to `${{DB_PASSWORD}}` in {PROPS}. It is read from `DB_PASSWORD` "
        "(an environment variable or another setting), with no default.",
        f"`server.port` is `8080` by default, set in {PROPS}.",
    ]
    assert placeholder_note("jdbc:${HOST:db}:${PORT}") == (
        " Its placeholders are resolved at start-up: `HOST` (default `db`), `PORT`."
    )
    assert placeholder_note("classpath:db/${database}/schema.sql") == (
        " Its placeholder is resolved at start-up: `database`."
    )


def test_a_profile_is_asked_for_its_profile_and_named_by_the_default(tmp_path):
    files = {
        PROPS: "server.port=8080\nspring.profiles.active=dev\n",
        "app/src/main/resources/application-prod.properties": "server.port=80\n",
        "app/src/main/resources/application.yml": (
            "---\nspring.config.activate.on-profile: dev\nserver.port: 8081\n"
        ),
    }
    defaults = _pairs(tmp_path, files, "config.default")
    assert f"`server.port` is `8080` by default, set in {PROPS}. The `prod` profile sets it to " \
        "`80`. The `dev` profile sets it to `8081`." in defaults.values()  # fmt: skip
    profiles = _pairs(tmp_path, files, "config.profile")
    assert sorted(profiles.values()) == [
        "In the `dev` profile, `server.port` is `8081` (app/src/main/resources/application.yml).",
        "In the `prod` profile, `server.port` is `80` "
        "(app/src/main/resources/application-prod.properties).",
    ]
    assert not any("on-profile" in q for q in profiles)  # the document's own switch


def test_a_key_set_twice_counts_once_the_last(tmp_path):
    answers = _pairs(tmp_path, {PROPS: "a.b=1\na.b=2\n"}, "config.default")
    assert _only(answers) == f"`a.b` is `2` by default, set in {PROPS}."


def test_which_setting_uses_documented_purposes_and_own_comments(tmp_path):
    text = (
        "server.port=8080\n\n"
        "# How many nights one booking may span\nhotel.max-nights=30\n\n"
        "# Mail\nmail.host=smtp\nmail.port=25\n\n"
        "# hotel.old=1\nhotel.new=2\n\n"
        "# Web\nspring.thymeleaf.mode=HTML\n"
    )
    settings = _pairs(tmp_path, {PROPS: text}, "config.setting")
    assert list(settings.values()) == [f"`server.port`, set to `8080` in {PROPS}."]
    assert "the HTTP port the server listens on" in next(iter(settings))
    described = _pairs(tmp_path, {PROPS: text}, "config.described")
    assert list(described.values()) == [f"`hotel.max-nights`, set to `30` in {PROPS}."]
    assert '"How many nights one booking may span"' in next(iter(described))


def test_prefixes_are_asked_at_their_longest_form():
    keys = ["cloud.aws.a", "cloud.aws.b", "spring.x.y", "spring.x.z", "spring.w", "solo"]
    assert prefixes(keys) == {
        "cloud.aws": ["cloud.aws.a", "cloud.aws.b"],
        "spring": ["spring.x.y", "spring.x.z", "spring.w"],
        "spring.x": ["spring.x.y", "spring.x.z"],
    }


def test_a_prefix_lists_its_keys_and_hides_redacted_values(tmp_path):
    text = "db.url=jdbc:h2:mem\ndb.password=<SECRET:password:1>\ndb.pool.size=5\n"
    answer = _only(_pairs(tmp_path, {PROPS: text}, "config.prefix"))
    assert answer == (
        f"{PROPS} sets 3 settings under `db`:\n- `db.url` = `jdbc:h2:mem`\n"
        "- `db.password` (value redacted)\n- `db.pool.size` = `5`"
    )
    assert "db.password" not in " ".join(_pairs(tmp_path, {PROPS: text}, "config.default"))


def test_the_same_key_in_two_modules_is_qualified_by_its_file(tmp_path):
    files = {
        PROPS: "server.port=8080\n",
        "b/src/main/resources/application.yml": "server:\n  port: 9090\n",
    }
    answers = _pairs(tmp_path, files, "config.default")
    assert len(answers) == 2
    assert all(q.endswith(f"Look in {a.split('set in ')[1][:-1]}.") for q, a in answers.items())


# -- the schema ------------------------------------------------------------------------------


MIGRATIONS = "app/src/main/resources/db/migration/"


def test_migrations_apply_in_version_order(tmp_path):
    files = {
        MIGRATIONS + "V1__init.sql": "CREATE TABLE t (id INT PRIMARY KEY, old TEXT, n INT);\n",
        MIGRATIONS + "V2__more.sql": (
            "ALTER TABLE t ADD COLUMN note TEXT NOT NULL DEFAULT '', DROP COLUMN old;\n"
            "ALTER TABLE t RENAME COLUMN n TO count;\n"
            "ALTER TABLE t ALTER COLUMN count TYPE BIGINT;\n"
            "ALTER TABLE t OWNER TO app;\n"
        ),
        MIGRATIONS + "V10__last.sql": "ALTER TABLE t ALTER COLUMN count SET NOT NULL;\n",
    }
    assert sorted(files, key=migration_key)[-1].endswith("V10__last.sql")
    answer = _only(_pairs(tmp_path, files, "schema.columns"))
    assert answer == (
        f"`t` (created in {MIGRATIONS}V1__init.sql) has 3 columns:\n"
        "- `id`: `INT`, `PRIMARY KEY`\n- `count`: `BIGINT`, `NOT NULL`\n"
        "- `note`: `TEXT`, `NOT NULL`, `DEFAULT ''` (added by V2__more.sql)"
    )


def test_a_table_changed_in_a_way_not_understood_is_not_asked(tmp_path):
    files = {
        MIGRATIONS + "V1__init.sql": "CREATE TABLE t (id INT);\nCREATE TABLE u (id INT);\n",
        MIGRATIONS + "V2__x.sql": "ALTER TABLE t INHERIT s;\nALTER TABLE t SPLIT PARTITION p;\n",
    }
    assert [a.split("`")[1] for a in _pairs(tmp_path, files, "schema.columns").values()] == ["u"]


def test_a_dropped_table_is_gone_and_a_recreated_one_is_new(tmp_path):
    files = {
        "app/src/main/resources/schema.sql": (
            "CREATE TABLE a (id INT);\nDROP TABLE a;\nCREATE TABLE b (id INT);\n"
            "DROP TABLE IF EXISTS b;\nCREATE TABLE b (key TEXT);\n"
        )
    }
    answer = _only(_pairs(tmp_path, files, "schema.columns"))
    assert answer.startswith("`b` (") and answer.endswith("has 1 column:\n- `key`: `TEXT`")


def test_a_schema_per_database_is_asked_with_its_file(tmp_path):
    files = {
        "app/src/main/resources/db/h2/schema.sql": (
            "DROP TABLE vets IF EXISTS;\n"
            "CREATE TABLE vets (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);\n"
        ),
        "app/src/main/resources/db/mysql/schema.sql": (
            "CREATE TABLE IF NOT EXISTS vets (\n  id INT(4) UNSIGNED NOT NULL AUTO_INCREMENT "
            "PRIMARY KEY,\n  name VARCHAR(30),\n  INDEX(name)\n) engine=InnoDB;\n"
        ),
    }
    answers = _pairs(tmp_path, files, "schema.columns")
    assert sorted(answers.values()) == [
        "`vets` (created in app/src/main/resources/db/h2/schema.sql) has 1 column:\n"
        "- `id`: `INTEGER`, `GENERATED BY DEFAULT AS IDENTITY`, `PRIMARY KEY`",
        "`vets` (created in app/src/main/resources/db/mysql/schema.sql) has 2 columns:\n"
        "- `id`: `INT(4) UNSIGNED`, `NOT NULL`, `AUTO_INCREMENT`, `PRIMARY KEY`\n"
        "- `name`: `VARCHAR(30)`\n\nIndexes: `INDEX(name)`",
    ]
    assert all(q.endswith("schema.sql.") and "Look in app/" in q for q in answers)


def test_references_name_every_foreign_key_to_a_table(tmp_path):
    files = {
        "app/src/main/resources/schema.sql": (
            "CREATE TABLE room (id BIGINT PRIMARY KEY);\n"
            "CREATE TABLE booking (id INT, room_id BIGINT REFERENCES room);\n"
            "CREATE TABLE feature (room BIGINT, name TEXT);\n"
            "ALTER TABLE feature ADD CONSTRAINT fk FOREIGN KEY (room) REFERENCES room (id);\n"
        )
    }
    assert _only(_pairs(tmp_path, files, "schema.references")) == (
        "2 tables reference `room`:\n- `booking`: `booking.room_id` -> `room.id`\n"
        "- `feature`: `feature.room` -> `room.id`"
    )


# -- views ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "views"),
    [
        ('String a() { return "home"; }', ["home"]),
        ('String a(boolean b) { if (b) return "x"; return b ? "y" : "redirect:/"; }',
         ["x", "y", "redirect:/"]),
        ("String a() { return VIEW; }", ["rooms/list"]),
        ('ModelAndView a() { return new ModelAndView("rooms/list", "m", 1); }', ["rooms/list"]),
        ('String a() { Runnable r = () -> { return; }; return "x"; }', ["x"]),
        ('String a(Owner o) { return "redirect:/owners/" + o.getId(); }',
         ["redirect:/owners/{o.getId()}"]),
        ('ModelAndView a() { ModelAndView m = new ModelAndView("o/x"); m.addObject(1); return m; }',
         ["o/x"]),
        ('ModelAndView a() { ModelAndView m = new ModelAndView("o/x"); m.setViewName("y"); '
         "return m; }", None),
        ('String a(String v) { return v; }', None),
        ('String a() { return "rooms/" + id; }', None),
        ("String a() { return OTHER; }", None),
    ],
)  # fmt: skip
def test_returned_views(code, views):
    assert returned_views(code, {"VIEW": "rooms/list"}) == views


CONTROLLER = """package app;

import org.springframework.stereotype.Controller;

@Controller
@RequestMapping("/rooms")
public class RoomPages {
    private static final String LIST = "rooms/list";

    @GetMapping
    public String list() { return LIST; }

    @GetMapping("/{id}")
    public String one() { return "rooms/one"; }

    @GetMapping("/raw")
    @ResponseBody
    public String raw() { return "plain text"; }

    public String helper() { return "not/a/handler"; }
}
"""


def test_a_controller_view_names_its_template_when_there_is_one(tmp_path):
    files = {
        "web/src/main/java/app/RoomPages.java": CONTROLLER,
        "web/src/main/resources/templates/rooms/list.html": "<p>rooms</p>\n",
        "web/src/main/java/app/Api.java": CONTROLLER.replace(
            "@Controller", "@RestController"
        ).replace("RoomPages", "Api"),
    }
    answers = _pairs(tmp_path, files, "method.view")
    assert sorted(answers.values()) == [
        "The view `rooms/list`, rendered from web/src/main/resources/templates/rooms/list.html.",
        "The view `rooms/one`.",
    ]
    assert all("RoomPages" in q for q in answers)


def test_the_fixture_config_rows(hotel_pairs):
    props = "booking/src/main/resources/application.properties"
    assert _answer(hotel_pairs, "config.default", props, 2) == (
        f"`server.port` is `8080` by default, set in {props}."
    )
    assert _answer(hotel_pairs, "schema.columns", "V1__create_rooms_and_bookings.sql", 11) == (
        "`room_feature` (created in booking/src/main/resources/db/migration/"
        "V1__create_rooms_and_bookings.sql) has 2 columns:\n"
        "- `room_id`: `BIGINT`, `NOT NULL`, `REFERENCES room (id) ON DELETE CASCADE`\n"
        "- `feature`: `VARCHAR(100)`, `NOT NULL`\n\n"
        "Table constraints: `PRIMARY KEY (room_id, feature)`"
    )
    assert _answer(hotel_pairs, "method.view", "PageController.java", 35) == (
        "One of these, depending on the request:\n"
        "- the view `rooms/choose`, rendered from booking/src/main/resources/templates/rooms/"
        "choose.html\n- the view `bookings/form`, rendered from booking/src/main/resources/"
        "templates/bookings/form.html"
    )
    assert _answer(hotel_pairs, "method.view", "PageController.java", 49) == (
        "A redirect to `/bookings/new` (no view is rendered)."
    )


# -- secrets --------------------------------------------------------------------------------------


SECRET_PROPS = (
    "spring.datasource.url=jdbc:postgresql://db/x?user=app&password=Pg-Url-Pa55!word\n"
    "spring.datasource.password=Hunter2-Db-Pa55!\n"
    "spring.datasource.username=${DB_USER}\n"
    "app.api.password=${API_PASSWORD}\n"
)
SECRET_YAML = 'app:\n  ldap:\n    bind-password: "Ld4p-Yaml-Pa55!"\n    url: ldap://10.0.0.5\n'


def test_a_password_is_redacted_in_every_pair_and_store_row_and_placeholders_stay(tmp_path):
    repo = tmp_path / "repo"
    for path, text in {
        PROPS: SECRET_PROPS,
        "app/src/main/resources/application.yml": SECRET_YAML,
        "app/src/main/java/app/A.java": "package app;\n\n/** A. */\npublic class A {}\n",
    }.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    out = tmp_path / "out"
    run_pipeline(RunConfig(path=repo, out=out))
    # every stored row, unpacked (tests/store_text.py): units' and pairs' JSON (a unit's
    # id, path and kind in their columns)
    units = [
        {**json.loads(row[4]), "id": row[0], "path": row[1], "kind": row[2]}
        for _, row in store_rows(out / "dataprep.db", ("units",))
    ]
    pairs = [row[5] for _, row in store_rows(out / "dataprep.db", ("pairs",))]
    texts = [json.dumps(u) for u in units] + pairs
    for secret in ("Pg-Url-Pa55!word", "Hunter2-Db-Pa55!", "Ld4p-Yaml-Pa55!"):
        assert not any(secret in text for text in texts), secret
    by_key = {u["qualified_name"]: u for u in units if u["kind"] == "config"}
    assert by_key["spring.datasource.password"]["initializer"].startswith("<SECRET:")
    assert by_key["app.ldap.bind-password"]["initializer"].startswith("<SECRET:")
    assert by_key["app.api.password"]["initializer"] == "${API_PASSWORD}"
    outputs = [json.loads(p)["output"] for p in pairs]
    assert any("`${API_PASSWORD}`" in o for o in outputs)
    assert any("`spring.datasource.password` (value redacted)" in o for o in outputs)
