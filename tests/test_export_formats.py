"""The trainer forms of every row (prompt/completion, messages), the trainer files per
style, and the card: dataset_info that `load_dataset` reads without a warning, the source
URL and commit, the quality figures and one example per family."""

import json
import logging
import re
import subprocess
import warnings

import pytest
import yaml
from factories import shop_store
from typer.testing import CliRunner

from dataprep import export as ex
from dataprep import quality as dq
from dataprep.cli import app
from dataprep.dataset_dir import load_manifest
from dataprep.errors import InputError
from dataprep.models import SPLITS
from dataprep.prompts import alpaca_prompt, render_alpaca, render_chatml, system_prompt
from dataprep.rows import row_columns
from dataprep.source import check_source_url, public_url

COLUMNS = row_columns(text=False)  # the built-in styles write no `text` column

SYSTEM = system_prompt("acme/shop")


@pytest.fixture
def exported(tmp_path):
    store = shop_store(tmp_path / "out", repo_root=tmp_path / "repo")
    summary = ex.export_dataset(store, tmp_path / "out")
    yield store, summary, tmp_path / "out" / "dataset"
    store.close()


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _export(tmp_path, style="alpaca", **kw):
    store = shop_store(tmp_path / "out", n_files=10, **kw)
    summary = ex.export_dataset(store, tmp_path / "out", style=style)
    store.close()
    return summary, tmp_path / "out" / "dataset"


# rows ----------------------------------------------------------------------------------
def test_every_row_carries_prompt_completion_and_messages(exported):
    _, _, ds = exported
    for split in SPLITS:
        for row in _jsonl(ds / f"{split}.jsonl"):
            instruction, input_, output = row["instruction"], row["input"], row["output"]
            assert row["prompt"] == alpaca_prompt(instruction, input_)
            assert row["completion"] == output
            assert "text" not in row  # the style does not ask for it
            user = f"{instruction}\n\n{input_}" if input_ else instruction
            assert row["messages"] == [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": user},
                {"role": "assistant", "content": output},
            ]


def test_parquet_and_the_datasetdict_hold_the_same_forms(exported):
    import datasets
    import pyarrow.parquet as pq

    _, _, ds = exported
    first = _jsonl(ds / "train.jsonl")[0]
    table = pq.read_table(ds / "train.parquet")
    assert table.column_names == list(COLUMNS)
    messages = table.schema.field("messages").type
    assert str(messages.value_type) == "struct<role: string, content: string>"
    assert table.slice(0, 1).to_pylist()[0] == first
    saved = datasets.load_from_disk(str(ds / "hf"))["train"][0]
    assert {k: saved[k] for k in ("prompt", "completion", "messages")} == {
        k: first[k] for k in ("prompt", "completion", "messages")
    }


def test_chatml_completion_ends_with_the_end_of_turn_token(tmp_path):
    _, ds = _export(tmp_path, "chatml")
    row = _jsonl(ds / "train.jsonl")[0]
    assert row["prompt"] == (
        f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
        f"<|im_start|>user\n{row['instruction']}<|im_end|>\n<|im_start|>assistant\n"
    )
    assert row["completion"] == row["output"] + "<|im_end|>"  # TRL adds no second EOS
    whole = render_chatml(row["instruction"], row["input"], row["output"], SYSTEM)
    assert row["prompt"] + row["completion"] + "\n" == whole


def test_the_manifest_describes_the_columns(exported):
    _, summary, ds = exported
    manifest = json.loads((ds / "export.json").read_text())
    assert manifest["columns"] == list(COLUMNS)
    assert (manifest["format"], manifest["system_prompt"]) == ("alpaca", SYSTEM)
    assert manifest["commit"] == "0123abc" and manifest["source_url"] is None


# trainer files --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("style", "kind", "formatting"),
    [
        ("alpaca", "alpaca", "alpaca"),
        ("chatml", "chat_template", "sharegpt"),
        ("repo", "user-defined", "alpaca"),
    ],
)
def test_trainer_files_follow_the_style(tmp_path, style, kind, formatting):
    _, ds = _export(tmp_path, style)
    text = (ds / "axolotl-dataset.yml").read_text()
    assert f"(prompt style {style}: " in text.splitlines()[0]
    entry = yaml.safe_load(text)["datasets"][0]
    assert (entry["path"], entry["ds_type"], entry["split"]) == (
        "train.parquet",
        "parquet",
        "train",
    )
    if kind == "chat_template":
        assert entry["type"] == "chat_template" and entry["chat_template"] == "chatml"
        assert entry["field_messages"] == "messages" and entry["roles_to_train"] == ["assistant"]
    elif kind == "user-defined":
        assert entry["type"]["field_instruction"] == "prompt"
        assert entry["type"]["field_output"] == "completion"
    else:
        assert entry["type"] == "alpaca"
    info = json.loads((ds / "dataset_info.json").read_text())["acme_shop_train"]
    assert info["file_name"] == "train.parquet" and info["formatting"] == formatting
    if formatting == "sharegpt":
        assert info["columns"] == {"messages": "messages"}
        assert info["tags"]["role_tag"] == "role" and info["tags"]["system_tag"] == "system"


def test_the_trainer_files_name_files_that_exist(exported):
    _, _, ds = exported
    doc = yaml.safe_load((ds / "axolotl-dataset.yml").read_text())
    for item in doc["datasets"] + doc["test_datasets"]:
        assert (ds / item["path"]).is_file()
    for entry in json.loads((ds / "dataset_info.json").read_text()).values():
        assert (ds / entry["file_name"]).is_file()


# the card --------------------------------------------------------------------------------
def _card(ds):
    from huggingface_hub import DatasetCard

    return DatasetCard.load(ds / "README.md")


def test_card_metadata_has_sizes_per_config_and_split(exported):
    _, summary, ds = exported
    card = _card(ds)
    infos = {i["config_name"]: i for i in card.data.dataset_info}
    assert sorted(infos) == ["default", "messages", "prompt_completion"]
    parquet = sum((ds / f"{s}.parquet").stat().st_size for s in SPLITS)
    for info in infos.values():
        assert [s["name"] for s in info["splits"]] == list(SPLITS)
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == summary["splits"]
        assert all(s["num_bytes"] > 0 for s in info["splits"] if s["num_examples"])
        assert info["dataset_size"] == sum(s["num_bytes"] for s in info["splits"])
        assert info["download_size"] == parquet
    names = [f["name"] for f in infos["prompt_completion"]["features"]]
    assert names == ["prompt", "completion"]
    assert infos["messages"]["features"] == [
        {
            "name": "messages",
            "list": [{"name": "role", "dtype": "string"}, {"name": "content", "dtype": "string"}],
        }
    ]
    configs = {c["config_name"]: c for c in card.data.configs}
    assert configs["default"]["default"] is True and "columns" not in configs["default"]
    assert configs["prompt_completion"]["columns"] == ["prompt", "completion"]
    assert configs["messages"]["columns"] == ["messages"]


def test_card_metadata_says_how_the_rows_were_made(exported):
    card = _card(exported[2])
    assert card.data.annotations_creators == ["machine-generated"]
    assert card.data.source_datasets == ["original"]
    assert card.data.language == ["en", "code"]
    assert "code" in card.data.tags
    assert "&id" not in (exported[2] / "README.md").read_text()  # no YAML anchors


def _load_quietly(path, name=None, cache=None):
    """load_dataset with every warning and datasets log record at WARNING or above captured."""
    import datasets

    records: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())
    logger = logging.getLogger("datasets")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = datasets.load_dataset(str(path), name, cache_dir=str(cache))
    finally:
        logger.removeHandler(handler)
    return loaded, records + [str(w.message) for w in caught]


def test_load_dataset_on_the_folder_gives_no_warning(exported, tmp_path):
    _, summary, ds = exported
    for name, columns in [
        (None, list(COLUMNS)),
        ("prompt_completion", ["prompt", "completion"]),
        ("messages", ["messages"]),
    ]:
        loaded, said = _load_quietly(ds, name, tmp_path / f"cache-{name}")
        assert said == []
        assert loaded["train"].column_names == columns
        assert {s: loaded[s].num_rows for s in SPLITS} == summary["splits"]


def test_an_export_without_tasks_that_generalise_loads_quietly(tmp_path):
    """No task that generalises: validation and test are empty, and an empty Parquet file
    is one `load_dataset` cannot read, so the card, the trainer files and axolotl-config
    leave them out (the files are still written, with no rows)."""
    from factories import shop_pair as make_pair
    from factories import shop_unit as make_unit

    from dataprep.store import Store
    from finetune.axolotl import axolotl_config
    from finetune.config import FinetuneConfig

    store = Store.open(tmp_path / "out")
    for i in range(12):
        unit = make_unit(f"core/src/main/java/acme/C{i:02d}.java", f"run{i}", 10)
        store.put_file(unit.path, f"d{i}", "ok", [unit])
        store.put_pairs([make_pair(unit, t, n) for n, t in enumerate(("method.code", "x.y"))])
    summary = ex.export_dataset(store, tmp_path / "out")
    store.close()
    ds = tmp_path / "out" / "dataset"
    splits = summary["splits"]
    assert (splits["validation"], splits["test"]) == (0, 0) and splits["knowledge"] > 0
    assert (ds / "validation.parquet").is_file() and (ds / "test.jsonl").read_text() == ""
    loaded, said = _load_quietly(ds, None, tmp_path / "cache")
    assert said == []
    assert {s: loaded[s].num_rows for s in loaded} == {"train": 22, "knowledge": 2}
    card = _card(ds)
    assert [f["split"] for f in card.data.configs[0]["data_files"]] == ["train", "knowledge"]
    axo = yaml.safe_load((ds / "axolotl-dataset.yml").read_text())
    assert "test_datasets" not in axo
    info = json.loads((ds / "dataset_info.json").read_text())
    assert sorted(info) == ["acme_shop_knowledge", "acme_shop_train"]
    config = axolotl_config(ds, "HuggingFaceTB/SmolLM2-135M", FinetuneConfig())
    assert "test_datasets" not in config  # and val_set_size as configured
    assert config["val_set_size"] == FinetuneConfig().val_set_size


def test_the_old_card_did_warn(exported, tmp_path):
    # the check above can fail: a card whose splits lack num_bytes makes datasets warn
    _, _, ds = exported
    text = (ds / "README.md").read_text()
    old = re.sub(r"\n    num_bytes: \d+", "", text)  # the splits as the old card wrote them
    (ds / "README.md").write_text(old)
    _, said = _load_quietly(ds, None, tmp_path / "cache")
    assert any("splits" in s and "malformed" in s for s in said)


def test_card_shows_the_quality_figures_of_the_report(exported):
    store, _, ds = exported
    text = (ds / "README.md").read_text()
    from dataprep.splits import held_out_paths

    held = held_out_paths(store.pairs(), store.splits())  # coverage: the files in training
    assert held
    units = [u for k in dq.COVERED_KINDS for u in store.units(k) if u.path not in held]
    q = dq.measure_quality(store.kept_pairs(), units)
    assert f"**{q['met']} of {q['goals']} goals met**" in text
    for m in q["measures"].values():
        yes = "yes" if m["passed"] else "**no**"
        assert f"| {m['title']} | {m['display']} | {m['goal']} | {yes} |" in text
    for family, v in q["families"].items():
        assert f"| {family} | {v['rows']} | {dq.fmt(v['share'])} |" in text


def test_card_has_an_example_row_per_family(exported):
    store, _, ds = exported
    text = (ds / "README.md").read_text()
    families = {dq.family_of(p.task) for p in store.kept_pairs()}
    assert families  # the synthetic tasks fall into families
    for family in families:
        assert f"### {family}: {dq.FAMILIES[family][1]} (" in text
    first = _jsonl(ds / "train.jsonl")[0]
    assert f"```text\n{first['instruction']}\n```" in text


def test_card_names_the_url_and_commit_of_a_git_checkout(tmp_path):
    repo = tmp_path / "repo"
    store = shop_store(tmp_path / "out", n_files=6, repo_root=repo)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    remote = "https://bob:ghp_secret@github.com/acme/shop.git"
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", remote], check=True)
    summary = ex.export_dataset(store, tmp_path / "out")
    store.close()
    text = (tmp_path / "out" / "dataset" / "README.md").read_text()
    assert "ghp_secret" not in text and "bob" not in text
    assert "[acme/shop](https://github.com/acme/shop), at commit `0123abc`" in text
    assert _card(tmp_path / "out" / "dataset").data.pretty_name == "acme/shop instructions"
    manifest = load_manifest(tmp_path / "out")
    assert manifest["source_url"] == "https://github.com/acme/shop" == summary["source_url"]


def test_source_url_option_is_recorded_and_remembered(tmp_path):
    shop_store(tmp_path / "out", n_files=6).close()  # no checkout: no URL
    out = str(tmp_path / "out")
    assert CliRunner().invoke(app, ["export", "--out", out]).exit_code == 0
    text = (tmp_path / "out" / "dataset" / "README.md").read_text()
    assert "The repository's URL is not known" in text and "`--source-url`" in text
    url = "https://gitlab.com/acme/shop"
    result = CliRunner().invoke(app, ["export", "--out", out, "--source-url", url])
    assert result.exit_code == 0, result.output
    assert f"[acme/shop]({url})" in (tmp_path / "out" / "dataset" / "README.md").read_text()
    assert CliRunner().invoke(app, ["export", "--out", out]).exit_code == 0  # remembered
    assert load_manifest(tmp_path / "out")["source_url"] == url


def test_a_source_url_with_a_token_is_refused(tmp_path):
    shop_store(tmp_path / "out", n_files=6).close()
    url = "https://bob:ghp_x@github.com/acme/shop"
    result = CliRunner().invoke(
        app, ["export", "--out", str(tmp_path / "out"), "--source-url", url]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --source-url holds a user name or token: pass the address without them "
        "(https://HOST/OWNER/NAME), it is written into the public dataset card\n"
    )
    assert not (tmp_path / "out" / "dataset").exists()


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:acme/shop.git", "https://github.com/acme/shop"),
        ("https://x:tok@gitlab.com/a/b.git", "https://gitlab.com/a/b"),
        ("ssh://git@github.com:22/acme/shop.git", "https://github.com/acme/shop"),
        ("https://host.example:8443/a/b/", "https://host.example:8443/a/b"),
        ("/home/me/repo", None),
        ("file:///srv/git/repo.git", None),
        ("../sibling", None),
    ],
)
def test_public_url(remote, url):
    assert public_url(remote) == url


def test_check_source_url():
    assert check_source_url(" https://github.com/a/b ") == "https://github.com/a/b"
    with pytest.raises(InputError, match="is not an http"):
        check_source_url("github.com/a/b")


def test_alpaca_prompt_and_completion_are_axolotls_text(exported):
    _, _, ds = exported
    row = _jsonl(ds / "train.jsonl")[0]
    whole = row["prompt"] + row["completion"]
    assert whole == render_alpaca(row["instruction"], row["input"], row["output"])


def test_a_style_file_that_asks_for_text_gets_the_column(tmp_path):
    style = tmp_path / "mine.yaml"
    style.write_text(
        "name: mine\ntext: true\n"
        "with_input: |-\n  Q: {instruction}\n  {input}\n  A: {output}{eos}\n"
        "without_input: |-\n  Q: {instruction}\n  A: {output}{eos}\n"
    )
    summary, ds = _export(tmp_path, str(style))
    rows = _jsonl(ds / "train.jsonl")
    assert rows and all(r["text"] == r["prompt"] + r["completion"] for r in rows)
    assert all(r["text"].startswith("Q: ") for r in rows)
    columns = json.loads((ds / "export.json").read_text())["columns"]
    assert columns == list(row_columns(text=True)) == list(rows[0])
    assert "\n- `text`: the whole rendered row" in (ds / "README.md").read_text()
    assert import_parquet_columns(ds / "train.parquet") == columns


def import_parquet_columns(path):
    import pyarrow.parquet as pq

    return pq.read_schema(path).names


@pytest.mark.parametrize(
    "columns", [row_columns(False), row_columns(True), row_columns(False, source_url=True)]
)
def test_dataset_info_json_is_what_save_to_disk_writes(columns):
    """The hf/ split's dataset_info.json, written without importing `datasets`, is what
    `datasets` itself writes for the installed version (and the export takes it only for
    the versions whose format it knows)."""
    import datasets
    from datasets.utils.py_utils import asdict

    from dataprep.rows import arrow_schema, dataset_info_json

    info = asdict(
        datasets.DatasetInfo(features=datasets.Features.from_arrow_schema(arrow_schema(columns)))
    )
    expected = json.dumps({key: info[key] for key in sorted(info)}, indent=2)
    assert ex._dataset_info_json(columns) == expected
    if datasets.__version__.split(".")[0] in ("4", "5"):
        assert dataset_info_json(columns) == expected


@pytest.mark.parametrize(
    "columns", [row_columns(False), row_columns(True), row_columns(False, source_url=True)]
)
@pytest.mark.parametrize(
    ("splits", "sizes"),
    [
        ({"train": 9, "validation": 0, "test": 2, "knowledge": 3}, None),
        (
            {"train": 5, "validation": 1, "test": 0, "knowledge": 0},
            {"num_bytes": {"default": {"train": 500, "validation": 70}}, "download_size": 321},
        ),
    ],
)
def test_card_dataset_info_is_what_datasets_writes(columns, splits, sizes):
    """The card's `dataset_info`, made without importing `datasets`, is what `datasets`'
    own `DatasetInfosDict.to_dataset_card_data` writes for the installed version."""
    import datasets
    from huggingface_hub import DatasetCardData

    from dataprep import card

    facts = {"columns": list(columns), "splits": splits, "sizes": sizes}
    expected = DatasetCardData()
    card._dataset_infos(facts).to_dataset_card_data(expected)
    made = card._card_infos(facts)
    if datasets.__version__.split(".")[0] not in ("4", "5"):
        assert made is None
        return
    assert made == expected.to_dict()["dataset_info"]
    assert yaml.safe_dump(made, sort_keys=False) == yaml.safe_dump(
        expected.to_dict()["dataset_info"], sort_keys=False
    )
    assert "&id" not in yaml.dump(made)  # no anchors: each config its own lists
