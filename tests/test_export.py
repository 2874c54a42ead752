"""Splits, rows, files, card and review-aware selection of dataprep.export."""

import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml
from factories import MIT_TEXT, drop, shop_pair, shop_store, shop_unit

from dataprep import export as ex
from dataprep import quality as dq
from dataprep.card import size_category
from dataprep.dataset_dir import load_manifest
from dataprep.errors import DataprepError, ExportError
from dataprep.licenses import detect_license, license_from_name
from dataprep.models import SPLITS, Review
from dataprep.prompts import render_alpaca, render_chatml, system_prompt
from dataprep.rows import row_columns
from dataprep.store import Store

COLUMNS = row_columns(text=False)  # the built-in styles write no `text` column


def _pairs(n_files=200, per=lambda i: 1 + (i * 7) % 11, modules=0, task="method.implement"):
    """Pairs of a task that generalises (held-out files keep them) unless `task` says."""
    pairs = []
    for i in range(n_files):
        module = f"mod{i % modules}" if modules else None
        unit = shop_unit(f"src/C{i:03d}.java", f"m{i}", 1 + i)
        pairs += [shop_pair(unit, task, n, module) for n in range(per(i))]
    return pairs


def _side(split: str) -> str:
    """In training (train; knowledge asks facts of train files) or held out."""
    return "training" if split in ("train", "knowledge") else "held out"


# splits ---------------------------------------------------------------------------
def test_no_file_in_two_splits_and_ratios_hold():
    pairs = _pairs()
    splits = ex.assign_splits(pairs)
    by_file = defaultdict(set)
    for p in pairs:
        by_file[p.path].add(_side(splits[p.id]))
    assert all(len(s) == 1 for s in by_file.values())
    counts = Counter(splits.values())
    assert counts["knowledge"] > 0 and "withheld" not in counts  # every pair generalises
    counts["train"] += counts.pop("knowledge")
    biggest = max(Counter(p.path for p in pairs).values())
    for split, ratio in zip(("train", "validation", "test"), ex.DEFAULT_RATIOS, strict=True):
        # within one group (the one a cut falls in) of the target
        assert abs(counts[split] - ratio * len(pairs)) <= biggest, (split, counts)


def test_split_is_deterministic_and_the_seed_changes_it():
    pairs = _pairs()
    assert ex.assign_splits(pairs, seed=0) == ex.assign_splits(list(reversed(pairs)), seed=0)
    assert ex.assign_splits(pairs, seed=0) != ex.assign_splits(pairs, seed=1)


def test_adding_a_file_moves_few_others():
    pairs = _pairs()
    before = ex.assign_splits(pairs)
    extra = shop_pair(shop_unit("src/New.java", "n", 1), "method.implement", 0)
    after = ex.assign_splits([*pairs, extra])
    moved = {p.path for p in pairs if before[p.id] != after[p.id]}
    assert len(moved) <= 2  # at most the groups lying on a cut


@pytest.mark.parametrize("n_groups", [3, 4, 5])
def test_small_repos_get_validation_and_test(n_groups):
    sizes = {f"g{i}": 10 + i for i in range(n_groups)}
    where = ex.split_groups(sizes)
    assert set(where.values()) == {"train", "validation", "test"}


def test_few_big_groups_come_as_close_as_they_can():
    # the fixture's modules: the cuts alone give validation 28 and test 7 of 1270
    sizes = {"booking": 514, "room": 256, "common": 248, "auth": 217, "docs": 28, "README.md": 7}
    where = ex.split_groups(sizes)
    counts = Counter()
    for group, n in sizes.items():
        counts[where[group]] += n
    assert dict(counts) == {"train": 1018, "validation": 217, "test": 35}


def test_many_groups_come_within_a_row_or_two():
    sizes = {f"f{i}": (i * 7) % 11 + 1 for i in range(40)}
    where = ex.split_groups(sizes)
    counts = Counter()
    for group, n in sizes.items():
        counts[where[group]] += n
    assert dict(counts) == {"train": 206, "validation": 24, "test": 12}  # targets 205.7/24.2/12.1


def test_one_or_two_groups_stay_in_train_first():
    assert set(ex.split_groups({"a": 5}).values()) == {"train"}
    assert "train" in ex.split_groups({"a": 5, "b": 5}).values()


def test_split_by_module_keeps_modules_whole():
    pairs = _pairs(n_files=60, modules=6)
    splits = ex.assign_splits(pairs, by="module")
    by_module = defaultdict(set)
    for p in pairs:
        by_module[p.module].add(_side(splits[p.id]))
    assert all(len(s) == 1 for s in by_module.values())
    assert set(splits.values()) == {"train", "validation", "test", "knowledge"}


def test_bad_ratios_and_grouping_are_one_line_errors():
    with pytest.raises(ExportError, match="split ratios"):
        ex.split_groups({"a": 1}, ratios=(1, 0))
    with pytest.raises(ExportError, match="use --split-by file or --split-by module"):
        ex.assign_splits(_pairs(3), by="package")


# export ---------------------------------------------------------------------------
@pytest.fixture
def exported(tmp_path):
    store = shop_store(tmp_path / "out", repo_root=tmp_path / "repo")
    summary = ex.export_dataset(store, tmp_path / "out")
    yield store, summary, tmp_path / "out" / "dataset"
    store.close()


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_files_written(exported):
    _, summary, ds = exported
    names = sorted(p.name for p in ds.iterdir())
    assert names == [
        "README.md",
        "axolotl-dataset.yml",
        "dataset_info.json",
        "export.json",
        "hf",
        "knowledge.jsonl",
        "knowledge.parquet",
        "test.jsonl",
        "test.parquet",
        "train.jsonl",
        "train.parquet",
        "validation.jsonl",
        "validation.parquet",
    ]
    assert not any(p.name.startswith(".") for p in ds.parent.iterdir() if p.name != ".")
    assert json.loads((ds / "export.json").read_text())["splits"] == summary["splits"]


def test_rows_carry_alpaca_fields_prompt_completion_and_provenance(exported):
    store, summary, ds = exported
    pairs = {p.id: p for p in store.kept_pairs()}
    total = 0
    for split in SPLITS:
        rows = _read_jsonl(ds / f"{split}.jsonl")
        assert len(rows) == summary["splits"][split]
        total += len(rows)
        for row in rows:
            assert list(row) == list(COLUMNS)
            pair = pairs[row["id"]]
            whole = row["prompt"] + row["completion"]
            assert whole == render_alpaca(pair.instruction, pair.input, pair.output)
            for key in (
                "instruction",
                "input",
                "output",
                "task",
                "template",
                "generator",
                "unit_id",
            ):
                assert row[key] == getattr(pair, key)
            assert (row["path"], row["start_line"], row["end_line"]) == (
                pair.path,
                pair.start_line,
                pair.end_line,
            )
            assert (row["commit"], row["repo"], row["review"]) == (
                "0123abc",
                "acme/shop",
                "unreviewed",
            )
    assert total == len(pairs) == summary["rows"]


def test_one_row_exactly(exported):
    _, _, ds = exported
    row = json.loads((ds / "train.jsonl").read_text().splitlines()[0])
    instruction = "How does C000.run0 work? (method.code 0)"
    assert row["prompt"] + row["completion"] == (
        "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n### Instruction:\n" + instruction + "\n\n### Response:\n"
        "public void run0() { return; }"
    )


def test_splits_are_stored(exported):
    store, summary, _ = exported
    stored = store.splits()
    counts = Counter(stored.values())
    withheld = {pid for pid, split in stored.items() if split == "withheld"}
    assert counts.pop("withheld") == len(withheld) > 0
    assert counts == Counter({k: v for k, v in summary["splits"].items() if v})
    assert withheld <= set(store.dropped())  # the held-out files' other pairs: in no split
    groups = {pid: grp for pid, _, grp in store.split_assignments()}
    assert all(groups[p.id] == p.path for p in store.kept_pairs())


def test_export_is_byte_identical_when_repeated(tmp_path, exported):
    store, _, ds = exported

    def snapshot():
        return {str(p.relative_to(ds)): p.read_bytes() for p in ds.rglob("*") if p.is_file()}

    first = snapshot()
    assert "hf/train/state.json" in first
    ex.export_dataset(store, tmp_path / "out")
    assert snapshot() == first


def test_a_second_store_gives_the_same_jsonl(tmp_path, exported):
    _, _, ds = exported
    other = shop_store(tmp_path / "other", repo_root=tmp_path / "repo2")
    ex.export_dataset(other, tmp_path / "other")
    for split in SPLITS:
        name = f"{split}.jsonl"
        assert (tmp_path / "other" / "dataset" / name).read_bytes() == (ds / name).read_bytes()


def test_load_from_disk_and_load_dataset_read_the_export(exported):
    import datasets

    _, summary, ds = exported
    dd = datasets.load_from_disk(str(ds / "hf"))
    assert {s: dd[s].num_rows for s in SPLITS} == summary["splits"]
    assert dd["train"].column_names == list(COLUMNS)
    files = {s: str(ds / f"{s}.jsonl") for s in SPLITS}
    js = datasets.load_dataset("json", data_files=files)
    assert {s: js[s].num_rows for s in SPLITS} == summary["splits"]
    assert js["test"][0]["prompt"] == dd["test"][0]["prompt"]
    # the card's configs point at the Parquet files: loading the directory uses them
    pq = datasets.load_dataset(str(ds))
    assert {s: pq[s].num_rows for s in SPLITS} == summary["splits"]


def test_card_parses_with_license_and_counts(exported):
    from huggingface_hub import DatasetCard

    _, summary, ds = exported
    card = DatasetCard.load(ds / "README.md")
    assert card.data.license == "mit"
    assert card.data.size_categories == ["n<1K"]
    assert card.data.task_categories == ["text-generation", "question-answering"]
    assert _card_splits(card) == summary["splits"]
    data_files = card.data.configs[0]["data_files"]
    assert data_files == [{"split": s, "path": f"{s}.parquet"} for s in SPLITS]
    assert "MIT (detected from `LICENSE` in the source repository)" in card.text
    assert "acme/shop" in card.text and "`0123abc`" in card.text
    assert f"| train | {summary['splits']['train']} |" in card.text
    store = exported[0]
    for task, n in summary["tasks"].items():
        templates = {p.template for p in store.kept_pairs() if p.task == task}
        assert f"| {task} | {n} | {len(templates)} |" in card.text
    assert "No pair has been reviewed by a person yet" in card.text


def _card_splits(card) -> dict[str, int]:
    """num_examples per split of the card's default config."""
    default = next(i for i in card.data.dataset_info if i["config_name"] == "default")
    return {s["name"]: s["num_examples"] for s in default["splits"]}


def test_card_says_other_when_no_license(tmp_path):
    store = shop_store(tmp_path / "out", n_files=5)
    summary = ex.export_dataset(store, tmp_path / "out")
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(tmp_path / "out" / "dataset" / "README.md")
    assert summary["license"] == "other" and card.data.license == "other"
    assert "no license file was found" in card.text


def test_trainer_configs(exported):
    _, _, ds = exported
    axo = yaml.safe_load((ds / "axolotl-dataset.yml").read_text())
    assert axo["datasets"] == [  # relative to the dataset folder: it travels with `push`
        {"path": "train.parquet", "ds_type": "parquet", "type": "alpaca", "split": "train"}
    ]
    assert axo["test_datasets"][0]["path"] == "validation.parquet"
    info = json.loads((ds / "dataset_info.json").read_text())
    assert sorted(info) == [
        "acme_shop_knowledge",
        "acme_shop_test",
        "acme_shop_train",
        "acme_shop_validation",
    ]
    assert info["acme_shop_train"] == {
        "file_name": "train.parquet",
        "formatting": "alpaca",
        "columns": {"prompt": "instruction", "query": "input", "response": "output"},
    }


def test_chatml_style(tmp_path):
    store = shop_store(tmp_path / "out", n_files=6)
    ex.export_dataset(store, tmp_path / "out", style="chatml")
    rows = _read_jsonl(tmp_path / "out" / "dataset" / "train.jsonl")
    system = system_prompt("acme/shop")
    for row in rows:
        whole = row["prompt"] + row["completion"] + "\n"
        assert whole == render_chatml(row["instruction"], row["input"], row["output"], system)
        assert row["messages"][0] == {"role": "system", "content": system}


def test_unknown_style_is_an_error_and_keeps_the_old_export(tmp_path, exported):
    store, _, ds = exported
    before = (ds / "train.jsonl").read_bytes()
    with pytest.raises(DataprepError, match="unknown prompt style 'nope'"):
        ex.export_dataset(store, tmp_path / "out", style="nope")
    assert (ds / "train.jsonl").read_bytes() == before


def test_killed_export_leaves_the_previous_one(tmp_path, exported, monkeypatch):
    store, _, ds = exported
    before = {p.name: p.read_bytes() for p in ds.iterdir() if p.is_file()}
    drop(store, [store.kept_pairs()[0].id])

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ex, "_save_dataset_dict", killed)
    with pytest.raises(KeyboardInterrupt):
        ex.export_dataset(store, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in ds.iterdir() if p.is_file()} == before
    monkeypatch.undo()
    summary = ex.export_dataset(store, tmp_path / "out")
    assert summary["rows"] == len(store.kept_pairs())
    assert not (tmp_path / "out" / ".dataset.partial").exists()


def test_dropped_pairs_are_not_exported(tmp_path):
    store = shop_store(tmp_path / "out", n_files=10)
    gone = store.kept_pairs()[:3]
    drop(store, [p.id for p in gone])
    summary = ex.export_dataset(store, tmp_path / "out")
    ids = {
        r["id"] for s in SPLITS for r in _read_jsonl(tmp_path / "out" / "dataset" / f"{s}.jsonl")
    }
    withheld = sum(split == "withheld" for split in store.splits().values())
    assert summary["rows"] == len(ids) == len(store.pairs()) - 3 - withheld
    assert not ids & {p.id for p in gone}


def test_empty_store_is_an_error(tmp_path):
    store = Store.open(tmp_path / "out")
    with pytest.raises(ExportError, match=r"holds no units: run `dataprep run PATH --out .*` on a"):
        ex.export_dataset(store, tmp_path / "out")


# review-aware selection -----------------------------------------------------------
def test_once_reviewed_only_accepted_and_edited_are_exported(tmp_path):
    store = shop_store(tmp_path / "out", n_files=12)
    pairs = store.kept_pairs()
    accepted, edited, rejected = pairs[0], pairs[1], pairs[2]
    store.put_review(Review(pair_id=accepted.id, status="accepted"))
    store.put_review(
        Review(pair_id=edited.id, status="edited", output="Revised answer.", instruction="Better?")
    )
    store.put_review(Review(pair_id=rejected.id, status="rejected", reason="wrong"))
    store.put_review(
        Review(pair_id=pairs[3].id, status="unreviewed", flagged=True, note="look later")
    )
    summary = ex.export_dataset(store, tmp_path / "out")
    rows = {
        r["id"]: r for s in SPLITS for r in _read_jsonl(tmp_path / "out" / "dataset" / f"{s}.jsonl")
    }
    assert set(rows) == {accepted.id, edited.id}
    row = rows[edited.id]
    assert (row["instruction"], row["input"], row["output"], row["review"]) == (
        "Better?",
        edited.input,
        "Revised answer.",
        "edited",
    )
    assert row["prompt"] + row["completion"] == render_alpaca(
        "Better?", edited.input, "Revised answer."
    )
    assert rows[accepted.id]["review"] == "accepted"
    assert summary["reviewed"] == 3
    card = (tmp_path / "out" / "dataset" / "README.md").read_text()
    assert "A person reviewed 3 pairs in `dataprep review` (1 rejected)" in card
    # splits cover every kept pair, so the review page can filter by split
    assert set(store.splits()) == {p.id for p in pairs}


def test_include_unreviewed_widens_but_never_takes_rejected(tmp_path):
    store = shop_store(tmp_path / "out", n_files=12)
    pairs = store.kept_pairs()
    store.put_review(Review(pair_id=pairs[0].id, status="rejected"))
    store.put_review(Review(pair_id=pairs[1].id, status="accepted"))
    summary = ex.export_dataset(store, tmp_path / "out", include_unreviewed=True)
    kept = {p.id for p in store.kept_pairs()}  # less the held-out files' withheld pairs
    assert len(kept) < len(pairs) and summary["rows"] == len(kept - {pairs[0].id})
    selected, _ = ex.select_pairs(store, include_unreviewed=True)
    assert pairs[0].id not in {p.id for p in selected}


def test_all_rejected_names_the_fix(tmp_path):
    store = shop_store(tmp_path / "out", n_files=3, pairs_per_file=lambda i: 1)
    for p in store.kept_pairs():
        store.put_review(Review(pair_id=p.id, status="rejected"))
    with pytest.raises(
        ExportError, match="accept pairs in `dataprep review`, or pass --include-unreviewed"
    ):
        ex.export_dataset(store, tmp_path / "out")


# license detection -----------------------------------------------------------------
APACHE = "                 Apache License\n               Version 2.0, January 2004\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"LICENSE": MIT_TEXT}, ("MIT", "LICENSE")),
        ({"LICENSE.txt": APACHE}, ("Apache-2.0", "LICENSE.txt")),
        (
            {"COPYING": "GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007"},
            ("GPL-3.0-only", "COPYING"),
        ),
        (
            {
                "pom.xml": "<project><licenses><license><name>Apache License, Version 2.0</name>"
                "</license></licenses></project>"
            },
            ("Apache-2.0", "pom.xml"),
        ),
        ({"package.json": json.dumps({"name": "x", "license": "MIT"})}, ("MIT", "package.json")),
        (
            {"pyproject.toml": '[project]\nname = "x"\nlicense = "BSD-3-Clause"\n'},
            ("BSD-3-Clause", "pyproject.toml"),
        ),
        ({"LICENSE": "All rights reserved."}, ("other", None)),
        ({}, ("other", None)),
    ],
)
def test_detect_license(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert detect_license(tmp_path) == expected


def test_fixture_project_license():
    root = Path(__file__).resolve().parent.parent / "fixtures" / "hotel-booking"
    assert detect_license(root) == ("MIT", "LICENSE")


def test_license_names_and_sizes():
    assert license_from_name("The Apache Software License, Version 2.0") == "Apache-2.0"
    assert license_from_name("https://opensource.org/licenses/MIT") == "MIT"
    assert license_from_name("Proprietary") is None
    assert [size_category(n) for n in (0, 999, 1000, 12_000, 150_000)] == [
        "n<1K",
        "n<1K",
        "1K<n<10K",
        "10K<n<100K",
        "100K<n<1M",
    ]


def test_repo_path_is_remembered_for_later_exports(tmp_path):
    store = shop_store(tmp_path / "out", n_files=5)
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "LICENSE").write_text(APACHE)
    assert ex.export_dataset(store, tmp_path / "out", repo_path=tmp_path / "repo")["license"] == (
        "Apache-2.0"
    )
    assert ex.export_dataset(store, tmp_path / "out")["license"] == "Apache-2.0"


# end to end on the fixture project ---------------------------------------------------
@pytest.fixture
def hotel(hotel_run):
    return hotel_run[0]  # the session's run of the fixture, read only


def test_fixture_export_keeps_files_whole_and_rows_true(hotel):
    from dataprep.splits import GENERALISATION_TASKS, subject_files

    rows = {s: _read_jsonl(hotel / "dataset" / f"{s}.jsonl") for s in SPLITS}
    assert all(rows[s] for s in SPLITS)
    subject = subject_files({r["path"] for rs in rows.values() for r in rs})
    where = defaultdict(set)
    for split, split_rows in rows.items():
        for row in split_rows:
            where[subject.get(row["path"], row["path"])].add(_side(split))
            whole = row["prompt"] + row["completion"]
            assert whole == render_alpaca(row["instruction"], row["input"], row["output"])
            assert row["repo"] == "hotel-booking" and row["generator"] == "template"
    assert all(len(s) == 1 for s in where.values())  # a file (with its test) is on one side
    held = [r for s in ("validation", "test") for r in rows[s]]
    assert {r["task"] for r in held} <= GENERALISATION_TASKS
    train_files = {r["path"] for r in rows["train"]}
    assert all(r["path"] in train_files for r in rows["knowledge"])
    with Store.open(hotel) as store:
        kept = {p.id: p for p in store.kept_pairs()}
    exported = {r["id"] for rs in rows.values() for r in rs}
    assert set(kept) <= exported
    # the rest are train facts asked in another phrasing: a train row's unit, task and answer
    train = {(r["unit_id"], r["task"], r["input"], r["output"]) for r in rows["train"]}
    again = [r for r in rows["knowledge"] if r["id"] not in kept]
    assert again and len(exported) == len(kept) + len(again)
    assert all((r["unit_id"], r["task"], r["input"], r["output"]) in train for r in again)


def test_fixture_card_and_loaders(hotel):
    import datasets
    from huggingface_hub import DatasetCard

    manifest = load_manifest(hotel)
    card = DatasetCard.load(hotel / "dataset" / "README.md")
    assert card.data.license == "mit"
    assert _card_splits(card) == manifest["splits"]
    assert "MIT (detected from `LICENSE` in the source repository)" in card.text
    js = datasets.load_dataset(
        "json", data_files={s: str(hotel / "dataset" / f"{s}.jsonl") for s in SPLITS}
    )
    assert {s: js[s].num_rows for s in SPLITS} == manifest["splits"]
    assert (
        datasets.load_from_disk(str(hotel / "dataset" / "hf"))["test"].num_rows
        == (manifest["splits"]["test"])
    )


def test_fixture_card_and_report_say_what_the_held_out_sets_hold(hotel):
    knowledge = _read_jsonl(hotel / "dataset" / "knowledge.jsonl")
    with Store.open(hotel) as store:
        stored = store.splits()
        withheld = sum(split == "withheld" for split in stored.values())
    facts = sum(r["id"] in stored for r in knowledge)
    assert facts >= 20 and len(knowledge) - facts >= 20 and withheld > 0
    families = {dq.family_of(r["task"]) for r in knowledge}
    assert len(families) >= 8  # a set that measures more than one kind of fact
    card = (hotel / "dataset" / "README.md").read_text()
    assert f"({withheld}) are in no split" in card
    assert f"{facts} held-out facts" in card
    assert f"{len(knowledge) - facts} train pairs asked" in card
    report = json.loads((hotel / "report.json").read_text())
    assert report["decontamination"]["withheld"] == withheld
    assert report["distributions"]["after_balance"]["split"]["withheld"] == withheld
    coverage = report["quality"]["measures"]["coverage"]
    assert coverage["passed"] and report["quality"]["held_out_units"] > 0
    page = (hotel / "report.html").read_text()
    assert f"<p>{withheld} pairs of the held-out files are in no split" in page
    assert f"Coverage leaves out the {report['quality']['held_out_units']} methods" in page


def test_fixture_split_by_module_and_review(hotel, tmp_path):
    shutil.copytree(hotel, tmp_path / "out")
    with Store.open(tmp_path / "out") as store:
        ex.export_dataset(store, tmp_path / "out", split_by="module")
        rows = {s: _read_jsonl(tmp_path / "out" / "dataset" / f"{s}.jsonl") for s in SPLITS}
        where = defaultdict(set)
        for split, split_rows in rows.items():
            for row in split_rows:
                where[row["module"] or row["path"]].add(_side(split))
        assert all(len(s) == 1 for s in where.values())
        assert len({r["module"] for rs in rows.values() for r in rs if r["module"]}) > 1
        chosen = store.kept_pairs()[:5]
        for pair in chosen:
            store.put_review(Review(pair_id=pair.id, status="accepted"))
        summary = ex.export_dataset(store, tmp_path / "out")
        assert summary["rows"] == 5 and summary["reviewed"] == 5


def test_fixture_export_passes_the_push_checks(hotel):
    # the fixture's planted secrets were redacted before generation: the push scan is clean
    from dataprep.push import check_secrets, plan_push

    plan = plan_push(hotel, "tester/hotel-booking")
    assert [f.path_in_repo for f in plan.files] == [
        "README.md",
        "train.parquet",
        "validation.parquet",
        "test.parquet",
        "knowledge.parquet",
        "axolotl-dataset.yml",
        "dataset_info.json",
    ]
    assert check_secrets(plan) == load_manifest(hotel)["rows"]


def test_export_drops_held_out_copies_of_train_pairs_and_stays_put(tmp_path):
    # Every file gets the same long answer with one word changed: any held-out pair nearly
    # copies a train pair, so decontamination must leave validation and test empty of them.
    body = " ".join(f"step{k} of the booking flow checks the room and the guest" for k in range(8))
    store = Store.open(tmp_path)
    pairs = []
    for i in range(30):
        unit = shop_unit(f"core/src/C{i:03d}.java", f"run{i}", 10)
        store.put_file(unit.path, f"d{i}", "ok", [unit])
        # distinct templates, so the shared words are not discounted as template boilerplate
        pairs.append(  # a task that generalises, so held-out files keep it
            shop_pair(
                unit,
                "method.implement",
                output=f"{body} variant{i}",
                instruction=f"Explain run{i}.",
                template=f"t{i}",
            )
        )
    store.put_pairs(pairs)
    first = ex.export_dataset(store, tmp_path)
    held = [r for s in ("validation", "test") for r in _rows(tmp_path, s)]
    assert held == [] and first["splits"]["train"] == 30 - len(store.dropped())
    reasons = {d.stage for d in store.dropped().values()}
    assert reasons == {"decontaminate"}
    before = (tmp_path / "dataset" / "train.jsonl").read_bytes()
    ex.export_dataset(store, tmp_path)  # the verdicts are re-derived, not flip-flopped
    assert (tmp_path / "dataset" / "train.jsonl").read_bytes() == before


def _rows(out: Path, split: str) -> list[dict]:
    text = (out / "dataset" / f"{split}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_check_card_reads_front_matter_like_the_hub(tmp_path):
    from huggingface_hub import repocard

    from dataprep.card import CARD_YAML_RE, check_card
    from dataprep.errors import ExportError

    assert CARD_YAML_RE.pattern == repocard.REGEX_YAML_BLOCK.pattern
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: mit\nconfigs:\n- config_name: default\n---\n# Card\n")
    check_card(card)
    for text in ("# no metadata\n", "---\nlicense: mit\n---\n", "---\n- a list\n---\n"):
        card.write_text(text)
        with pytest.raises(ExportError, match="lacks license or configs"):
            check_card(card)
    card.write_text("---\nlicense: [mit\n---\n")
    with pytest.raises(ExportError, match="does not parse"):
        check_card(card)
