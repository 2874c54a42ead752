"""Push an exported dataset to the Hugging Face Hub: the Parquet splits, the card and the
trainer files (the Axolotl entry and LLaMA-Factory's dataset_info.json, which name the
Parquet files by relative path).

Everything goes up in ONE commit (`HfApi.create_commit`), so the Hub holds the whole
dataset or none of it. Before anything leaves the machine the files are checked against
the export's manifest and the rows are scanned for secrets. The token comes from
`HF_TOKEN` or the saved login and is never printed; any message that could hold it is
scrubbed. Each way a push fails (offline, no network, no token, a rejected token, no
permission, a missing namespace) is one line naming the fix.
"""

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataprep.dataset_dir import DATASET_DIR, load_manifest
from dataprep.errors import ExportError
from dataprep.models import SPLITS

UPLOAD_FILES = (
    "README.md",
    *(f"{s}.parquet" for s in SPLITS),
    "axolotl-dataset.yml",
    "dataset_info.json",
)
SCANNED_FIELDS = ("instruction", "input", "output")
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")


@dataclass
class UploadFile:
    path_in_repo: str
    local: Path
    bytes: int
    rows: int | None = None


@dataclass
class PushPlan:
    """What a push would upload: the repository, its visibility and the files."""

    repo_id: str
    private: bool
    endpoint: str
    token_source: str | None
    files: list[UploadFile] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def total_rows(self) -> int:
        return sum(f.rows or 0 for f in self.files)

    @property
    def url(self) -> str:
        return f"{self.endpoint}/datasets/{self.repo_id}"


def token_source() -> tuple[str | None, str | None]:
    """(token, where it came from: "HF_TOKEN" or "saved login"); (None, None) when there is none."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        return None, None
    env = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    return token, "HF_TOKEN" if env and env.strip() == token else "saved login"


def _endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def plan_push(out_dir: Path, repo_id: str, public: bool = False) -> PushPlan:
    """Check the export is complete and unchanged, and list what would be uploaded."""
    if not _REPO_ID.match(repo_id):
        raise ExportError(
            f"repository id {repo_id!r} is not OWNER/NAME: pass one like alice/hotel-booking-pairs"
        )
    manifest = load_manifest(out_dir)
    dataset_dir = Path(out_dir) / DATASET_DIR
    recorded = {f["path"]: f for f in manifest["files"]}
    plan = PushPlan(repo_id, not public, _endpoint(), token_source()[1])
    for name in UPLOAD_FILES:
        path = dataset_dir / name
        entry = recorded.get(name)
        if entry is None or not path.is_file():
            raise ExportError(
                f"{path} is missing: run `dataprep export --out {out_dir}` again before pushing"
            )
        if hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            raise ExportError(
                f"{path} changed since the export: run `dataprep export --out {out_dir}` again"
            )
        plan.files.append(UploadFile(name, path, path.stat().st_size, entry.get("rows")))
    check_current(out_dir, manifest)
    return plan


def check_current(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Refuse an export older than the store's reviews, filters or edits (a rejected pair
    must never reach the Hub because the export predates the rejection)."""
    from dataprep.export import select_pairs, selection_digest
    from dataprep.store import Store, locate

    if not locate(out_dir).exists() or "selection" not in manifest:
        return
    with Store.open(out_dir, create=False) as store:
        pairs, _ = select_pairs(store, manifest.get("include_unreviewed", False))
    if selection_digest(pairs) != manifest["selection"]:
        raise ExportError(
            f"the export in {Path(out_dir) / DATASET_DIR} is older than the reviews or pairs in "
            f"the store: run `dataprep export --out {out_dir}` again before pushing"
        )


def check_secrets(plan: PushPlan) -> int:
    """Scan every row about to be uploaded; refuse with the file, row and rule of the first find.

    Returns the number of rows scanned.
    """
    import pyarrow.parquet as pq

    from dataprep.secrets import scan_rows

    scanned = 0
    for item in plan.files:
        if item.rows is None:
            continue
        rows = pq.read_table(item.local, columns=["id", *SCANNED_FIELDS]).to_pylist()
        findings = scan_rows(rows, fields=SCANNED_FIELDS)
        if findings:
            first = findings[0]
            row = rows[int(first.row)] if isinstance(first.row, int) else {}
            raise ExportError(
                f"refusing to push: {item.path_in_repo} row {first.row} (pair {row.get('id')}) "
                f"field {first.field} matches secret rule {first.rule} ({len(findings)} finding(s) "
                "in all): run `dataprep filter` to redact, or reject the pair in "
                "`dataprep review`, then export again"
            )
        scanned += len(rows)
    return scanned


def describe_plan(plan: PushPlan, scanned: int) -> str:
    """The dry run's report: exactly what `push` would send, and nothing secret."""
    visibility = "private" if plan.private else "public"
    token = (
        f"from {plan.token_source}"
        if plan.token_source
        else "none found (a real push needs one: run `hf auth login` or set HF_TOKEN)"
    )
    width = max(len(f.path_in_repo) for f in plan.files)
    lines = [
        "Dry run: nothing was uploaded.",
        f"Repository: {plan.url} ({visibility}, dataset)",
        f"Token: {token}",
        "Files, in one commit:",
    ]
    for f in plan.files:
        rows = f"  {f.rows:>8,} rows" if f.rows is not None else ""
        lines.append(f"  {f.path_in_repo:<{width}}  {f.bytes:>12,} bytes{rows}")
    lines.append(
        f"Total: {len(plan.files)} files, {plan.total_bytes:,} bytes, {plan.total_rows:,} rows"
    )
    lines.append(f"Secret check: no findings in {scanned:,} rows")
    return "\n".join(lines)


def push_dataset(
    out_dir: Path, repo_id: str, public: bool = False, dry_run: bool = False
) -> dict[str, Any]:
    """Upload `out_dir/dataset/` (UPLOAD_FILES) to the Hub dataset `repo_id`.

    Returns {"plan": PushPlan, "scanned": rows, "dry_run": bool, "commit": oid, "created": bool}.
    """
    plan = plan_push(out_dir, repo_id, public)
    scanned = check_secrets(plan)
    result: dict[str, Any] = {"plan": plan, "scanned": scanned, "dry_run": dry_run}
    if dry_run:
        return result
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    if constants.is_offline_mode():  # the library's own flag: fail before looking for a token
        raise ExportError(explain_failure(OfflineModeIsEnabled(), plan))
    token, _ = token_source()
    if not token:
        raise ExportError(
            "no Hugging Face token: run `hf auth login` or set HF_TOKEN to a write token"
        )
    try:
        result.update(_upload(plan, token))
    except ExportError:
        raise
    except Exception as exc:  # library and transport errors become one line
        message = explain_failure(exc, plan) or (
            f"the push to {plan.repo_id} failed ({type(exc).__name__}: {_first_line(exc)}): "
            f"check {plan.url} on the Hub, then push again"
        )
        raise ExportError(message.replace(token, "***")) from None
    return result


def _upload(plan: PushPlan, token: str) -> dict[str, Any]:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    api = HfApi(endpoint=plan.endpoint, token=token)
    who = api.whoami()
    role = ((who.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise ExportError(
            "the Hugging Face token is read-only: create a write token and set HF_TOKEN "
            "(or run `hf auth login`)"
        )
    created, note = False, None
    try:
        info = api.repo_info(plan.repo_id, repo_type="dataset")
    except RepositoryNotFoundError:
        api.create_repo(plan.repo_id, repo_type="dataset", private=plan.private)
        created = True
    else:
        if info.private is False and plan.private:
            raise ExportError(
                f"{plan.repo_id} exists and is public: pass --public to push to it, "
                "or make it private on the Hub first"
            )
        if info.private and not plan.private:
            note = (
                f"{plan.repo_id} already exists and stays private: change its visibility "
                "in the repository's settings on the Hub to publish it"
            )
        plan.private = bool(info.private)
    operations = [CommitOperationAdd(f.path_in_repo, str(f.local)) for f in plan.files]
    commit = api.create_commit(
        plan.repo_id,
        operations,
        commit_message=f"Upload dataset ({plan.total_rows} rows) with dataprep",
        repo_type="dataset",
    )
    return {"commit": commit.oid, "created": created, "user": who.get("name"), "note": note}


def explain_failure(exc: BaseException, plan: PushPlan) -> str | None:
    """One line naming the fix for a failed push, or None for an error we do not know."""
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

    nothing = f"nothing was pushed to {plan.repo_id}"
    if isinstance(exc, OfflineModeIsEnabled):
        var = next((v for v in _OFFLINE_VARS if os.environ.get(v)), _OFFLINE_VARS[0])
        return (
            f"cannot push in offline mode ({var} is set), {nothing}: unset {var} "
            "and retry, or use --dry-run to see what would be uploaded"
        )
    if isinstance(exc, LocalTokenNotFoundError):
        return "no Hugging Face token: run `hf auth login` or set HF_TOKEN to a write token"
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        return _explain_status(exc.response.status_code, plan, nothing)
    if _is_connection_error(exc):
        return (
            f"cannot reach the Hub at {plan.endpoint} ({type(exc).__name__}), {nothing}: "
            "check the network connection (or HF_ENDPOINT) and retry"
        )
    return None


def _explain_status(status: int, plan: PushPlan, nothing: str) -> str:
    source = plan.token_source or "the saved login"
    if status == 401:
        return (
            f"the Hub rejected the token from {source} (401 Unauthorized), {nothing}: "
            "run `hf auth login` or set HF_TOKEN to a valid write token"
        )
    if status == 403:
        return (
            f"the token may not write to {plan.repo_id} (403 Forbidden), {nothing}: use a token "
            "with write access to that namespace, or push to your own namespace"
        )
    if status == 404:
        return (
            f"{plan.repo_id} was not found and cannot be created there (404 Not Found), {nothing}: "
            "check the owner part of REPO_ID (your user name or an organization you belong to)"
        )
    return f"the Hub answered {status}, {nothing}: retry later, or check the Hub's status page"


def _is_connection_error(exc: BaseException) -> bool:
    # by name: huggingface_hub's HTTP library has changed (requests, httpx, httpx2) and may again
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"ConnectionError", "TransportError", "ConnectError", "TimeoutException"})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"
