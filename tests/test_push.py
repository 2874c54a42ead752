"""`dataprep push`: the dry run, a real upload to a local Hub-like server, every failure mode.

The real `huggingface_hub` client talks HTTP to tests/fake_hub.py on 127.0.0.1 (set as the
endpoint); nothing reaches the network. In-process tests set the library's offline flag
explicitly, because `huggingface_hub` reads HF_HUB_OFFLINE once, at import; the subprocess
tests at the end go through the environment variables as a user does.
"""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
from factories import shop_store
from fake_hub import FakeHub, HubState
from huggingface_hub import constants
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.export import export_dataset
from dataprep.models import Review
from dataprep.push import UPLOAD_FILES

runner = CliRunner()


@pytest.fixture(scope="module")
def _exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("push")
    store = shop_store(base / "out", n_files=40, repo_root=base / "repo")
    export_dataset(store, base / "out")
    store.close()
    return base / "out"


@pytest.fixture
def out(_exported, tmp_path):
    shutil.copytree(_exported, tmp_path / "out")
    return tmp_path / "out"


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


@pytest.fixture
def hub(online, monkeypatch):
    with FakeHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def _push(out, *args, token: str | None = "hf_good"):
    env = {"HF_TOKEN": token} if token else {}
    return runner.invoke(app, ["push", "--out", str(out), *args], env=env)


def _expected_dry_run(out, repo: str, endpoint: str, visibility: str, token: str) -> str:
    import json

    manifest = json.loads((out / "dataset" / "export.json").read_text())
    rows = {f["path"]: f.get("rows") for f in manifest["files"]}
    lines = [
        "Dry run: nothing was uploaded.",
        f"Repository: {endpoint}/datasets/{repo} ({visibility}, dataset)",
        f"Token: {token}",
        "Files, in one commit:",
    ]
    total = 0
    width = len("axolotl-dataset.yml")  # the longest name
    for name in UPLOAD_FILES:
        size = (out / "dataset" / name).stat().st_size
        total += size
        extra = f"  {rows[name]:>8,} rows" if rows[name] is not None else ""
        lines.append(f"  {name:<{width}}  {size:>12,} bytes{extra}")
    lines.append(f"Total: {len(UPLOAD_FILES)} files, {total:,} bytes, {manifest['rows']:,} rows")
    lines.append(f"Secret check: no findings in {manifest['rows']:,} rows")
    return "\n".join(lines) + "\n"


# dry run --------------------------------------------------------------------------
def test_dry_run_shows_exactly_what_would_go_and_uploads_nothing(out, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # works offline: it sends nothing
    result = _push(out, "alice/shop-pairs", "--dry-run", token=None)
    assert result.exit_code == 0, result.output
    none = "none found (a real push needs one: run `hf auth login` or set HF_TOKEN)"
    endpoint = constants.ENDPOINT.rstrip("/")
    assert result.stdout == _expected_dry_run(out, "alice/shop-pairs", endpoint, "private", none)


def test_dry_run_names_the_token_source_never_the_token(out, hub):
    result = _push(out, "tester/shop", "--dry-run", "--public", token="hf_good")
    assert result.exit_code == 0
    assert result.stdout == _expected_dry_run(
        out, "tester/shop", hub.url, "public", "from HF_TOKEN"
    )
    assert "hf_good" not in result.output
    assert hub.state.seen_auth == []  # not one request


def test_saved_login_is_used(out, hub, tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("hf_good")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(token_file))
    result = _push(out, "tester/shop", "--dry-run", token=None)
    assert "Token: from saved login\n" in result.stdout
    result = _push(out, "tester/shop", token=None)
    assert result.exit_code == 0, result.output
    assert hub.state.seen_auth[0] == "Bearer hf_good"


# a real push to the local server ----------------------------------------------------
def test_push_uploads_card_parquet_and_trainer_files_in_one_private_commit(out, hub):
    result = _push(out, "tester/shop")
    assert result.exit_code == 0, result.output
    assert hub.state.created == [("tester/shop", True)]
    assert len(hub.state.commits) == 1
    repo, files = hub.state.commits[0]
    assert repo == "tester/shop"
    assert files == {name: (out / "dataset" / name).read_bytes() for name in UPLOAD_FILES}
    assert {"axolotl-dataset.yml", "dataset_info.json"} <= set(files)
    total = sum(len(b) for b in files.values())
    assert len(files) == 7  # the card, four Parquet splits (knowledge too), two trainer files
    rows = json.loads((out / "dataset" / "export.json").read_text())["rows"]
    assert (
        rows == 138
    )  # 155 pairs less the 17 withheld (held-out files, tasks that do not generalise)
    assert result.stdout == (
        f"Pushed 7 files ({total:,} bytes, {rows} rows) to {hub.url}/datasets/tester/shop "
        f"(created, private) in commit c0ffee000000\n"
    )
    assert "hf_good" not in result.output


def test_public_flag_creates_a_public_repo(out, hub):
    result = _push(out, "acme-org/shop", "--public")
    assert result.exit_code == 0, result.output
    assert hub.state.created == [("acme-org/shop", False)]


def test_existing_private_repo_gets_a_new_commit(out, hub):
    hub.state.repos["tester/shop"] = True
    result = _push(out, "tester/shop")
    assert result.exit_code == 0, result.output
    assert hub.state.created == [] and len(hub.state.commits) == 1
    assert "(private) in commit" in result.stdout


def test_public_flag_leaves_an_existing_private_repo_private_and_says_so(out, hub):
    hub.state.repos["tester/shop"] = True
    result = _push(out, "tester/shop", "--public")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("/datasets/tester/shop (private) in commit c0ffee000000")
    assert lines[1] == (
        "Note: tester/shop already exists and stays private: change its visibility in the "
        "repository's settings on the Hub to publish it"
    )


def test_existing_public_repo_needs_public(out, hub):
    hub.state.repos["tester/shop"] = False
    result = _push(out, "tester/shop")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: tester/shop exists and is public: pass --public to push to it, "
        "or make it private on the Hub first\n",
    )
    assert hub.state.commits == []


# failure modes: one line naming the fix, exit 1, nothing reported as done --------------
def test_offline(out, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    result = _push(out, "tester/shop")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "Error: cannot push in offline mode (HF_HUB_OFFLINE is set), nothing was pushed to "
        "tester/shop: unset HF_HUB_OFFLINE and retry, or use --dry-run to see what would be "
        "uploaded\n",
    )


def test_no_network(out, online, monkeypatch):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    result = _push(out, "tester/shop")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: cannot reach the Hub at http://127.0.0.1:{port} (ConnectError), nothing was "
        "pushed to tester/shop: check the network connection (or HF_ENDPOINT) and retry\n",
    )


def test_no_token(out, hub):
    result = _push(out, "tester/shop", token=None)
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: no Hugging Face token: run `hf auth login` or set HF_TOKEN to a write token\n",
    )
    assert hub.state.seen_auth == []


def test_bad_token(out, hub):
    result = _push(out, "tester/shop", token="hf_wrong_secret")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "Error: the Hub rejected the token from HF_TOKEN (401 Unauthorized), nothing was pushed "
        "to tester/shop: run `hf auth login` or set HF_TOKEN to a valid write token\n",
    )
    assert "hf_wrong_secret" not in result.output


def test_read_only_token(out, hub):
    result = _push(out, "tester/shop", token="hf_read")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: the Hugging Face token is read-only: create a write token and set HF_TOKEN "
        "(or run `hf auth login`)\n",
    )


def test_no_permission_on_namespace(out, hub):
    result = _push(out, "someone-else/shop")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: the token may not write to someone-else/shop (403 Forbidden), nothing was pushed "
        "to someone-else/shop: use a token with write access to that namespace, or push to your "
        "own namespace\n",
    )
    assert hub.state.commits == []


def test_missing_namespace(out, hub):
    result = _push(out, "ghost/shop")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: ghost/shop was not found and cannot be created there (404 Not Found), nothing "
        "was pushed to ghost/shop: check the owner part of REPO_ID (your user name or an "
        "organization you belong to)\n",
    )


def test_failed_commit_is_not_reported_as_done(out, hub):
    hub.state.fail_commit = 500
    result = _push(out, "tester/shop")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "Error: the Hub answered 500, nothing was pushed to tester/shop: retry later, or check "
        "the Hub's status page\n",
    )
    assert hub.state.commits == []


def test_bad_repo_id(out):
    result = _push(out, "just-a-name")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: repository id 'just-a-name' is not OWNER/NAME: pass one like "
        "alice/hotel-booking-pairs\n",
    )


def test_no_export(tmp_path):
    result = _push(tmp_path / "none", "tester/shop", "--dry-run")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: no complete export in {tmp_path / 'none' / 'dataset'}: run `dataprep export "
        f"--out {tmp_path / 'none'}` first\n",
    )


def test_changed_export_is_refused(out):
    (out / "dataset" / "train.parquet").write_bytes(b"not parquet")
    result = _push(out, "tester/shop", "--dry-run")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {out / 'dataset' / 'train.parquet'} changed since the export: run "
        f"`dataprep export --out {out}` again\n",
    )


def test_secret_in_a_row_stops_the_push(tmp_path, hub):
    store = shop_store(tmp_path / "out", n_files=12)
    pair = store.kept_pairs()[0]
    store.put_review(
        Review(pair_id=pair.id, status="edited", output="Write to ops@grandhotel.io for access.")
    )
    export_dataset(store, tmp_path / "out", include_unreviewed=True)
    split = store.splits()[pair.id]
    rows = (tmp_path / "out" / "dataset" / f"{split}.jsonl").read_text().splitlines()
    index = next(i for i, line in enumerate(rows) if pair.id in line)
    result = _push(tmp_path / "out", "tester/shop")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: refusing to push: {split}.parquet row {index} (pair {pair.id}) field output "
        "matches secret rule email (1 finding(s) in all): run `dataprep filter` to redact"
    )
    assert "grandhotel" not in result.stderr  # the value is never echoed
    assert hub.state.seen_auth == []


# through the environment, as a user runs it -------------------------------------------
def _run_cli(args, env_extra):
    drop = ("HF_", "HUGGING", "TRANSFORMERS_OFFLINE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(HOME=os.environ["HOME"], HF_HOME=os.environ["HF_HOME"], **env_extra)
    code = "from dataprep.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_env_offline_fails_at_once(out):
    proc = _run_cli(
        ["push", "--out", str(out), "tester/shop"], {"HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_good"}
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: cannot push in offline mode (HF_HUB_OFFLINE is set)")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_env_endpoint_and_token_push(out):
    with FakeHub(HubState()) as server:
        proc = _run_cli(
            ["push", "--out", str(out), "tester/shop"],
            {"HF_ENDPOINT": server.url, "HF_TOKEN": "hf_good"},
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Pushed 7 files (")
        assert len(server.state.commits) == 1
        assert "hf_good" not in proc.stdout + proc.stderr


def test_export_older_than_a_review_is_refused(out):
    from dataprep.store import Store

    with Store.open(out) as store:
        pair = store.kept_pairs()[0]
        store.put_review(Review(pair_id=pair.id, status="rejected", reason="wrong"))
    result = _push(out, "tester/shop", "--dry-run")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: the export in {out / 'dataset'} is older than the reviews or pairs in the "
        f"store: run `dataprep export --out {out}` again before pushing\n",
    )
    assert runner.invoke(app, ["export", "--out", str(out)]).exit_code == 1  # nothing accepted
    with Store.open(out) as store:
        store.put_review(Review(pair_id=store.kept_pairs()[1].id, status="accepted"))
    assert runner.invoke(app, ["export", "--out", str(out)]).exit_code == 0
    result = _push(out, "tester/shop", "--dry-run")
    assert result.exit_code == 0 and "Total: 7 files, " in result.stdout
    assert "1 rows" in result.stdout


def test_help_has_an_example():
    result = runner.invoke(app, ["push", "--help"])
    assert result.exit_code == 0
    assert "Example: dataprep push --out out alice/hotel-booking-pairs --dry-run" in result.output
