"""The export's folder, `DIR/dataset/`: its manifest (`export.json`, written last) and the
rules that keep a user's files safe in it. dataprep replaces the folder on every export,
built beside it and swapped in, and only when everything in it is what it wrote itself;
a file a user put there, or a link, is refused (one line), never deleted.
"""

import json
import os
import shutil
from pathlib import Path
from typing import Any

from dataprep import outdir
from dataprep.errors import ExportError

DATASET_DIR = "dataset"
MANIFEST = "export.json"
HF_DIR = "hf"
PARTIAL_MARK = ".dataprep-partial"


def check_dataset_dir(final: Path) -> None:
    """Refuse to replace a `dataset/` folder that dataprep did not write, or files a user put
    into ours: everything in it must be listed in its manifest."""
    if final.is_symlink():
        raise ExportError(
            f"{final} is a symbolic link: dataprep writes the dataset folder itself; "
            "remove the link (the files it points to are yours) or choose another --out"
        )
    if not final.exists():
        return
    if not final.is_dir():
        raise ExportError(f"{final} is not a folder: move it away, or choose another --out")
    manifest = final / MANIFEST
    try:
        listed = {f["path"] for f in json.loads(manifest.read_text(encoding="utf-8"))["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise ExportError(
            f"{final} was not written by dataprep (no valid {MANIFEST}): move it away, "
            "or choose another --out; dataprep replaces that folder on every export"
        ) from None
    old_hf = not any(p.startswith(f"{HF_DIR}/") for p in listed)  # manifests before hf/ entries
    foreign = [
        rel
        for f in sorted(final.rglob("*"))
        if (f.is_file() or f.is_symlink())
        and (rel := f.relative_to(final).as_posix()) not in listed | {MANIFEST}
        and not (old_hf and rel.startswith(f"{HF_DIR}/"))
    ]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ExportError(
            f"{final} holds files dataprep did not write ({shown}): move them out of it; "
            "dataprep replaces that folder on every export"
        )


def file_stats(out_dir: Path) -> dict[str, list[int]]:
    """Size and modification time (ns) of each file of the export's manifest, as written."""
    final = Path(out_dir) / DATASET_DIR
    out = {}
    for entry in load_manifest(out_dir).get("files", []):
        stat = (final / entry["path"]).stat()
        out[entry["path"]] = [stat.st_size, stat.st_mtime_ns]
    return out


def verify_dataset(out_dir: Path, written: dict[str, list[int]] | None = None) -> str | None:
    """None when every file of the last export matches its manifest (size, sha256), else
    what does not (a file deleted, changed, or the export half done). A file whose size and
    modification time are still those recorded when it was `written` (`file_stats`) is not
    hashed again, as make and rsync trust them: a re-run of a 1 GB export checks in
    milliseconds, and a file edited or replaced since is hashed and caught."""
    final = Path(out_dir) / DATASET_DIR
    written = written or {}
    try:
        manifest = load_manifest(out_dir)
    except (ExportError, ValueError):
        return f"no complete export in {final}"
    for entry in manifest.get("files", []):
        path = final / entry["path"]
        if path.is_symlink() or not path.is_file():
            return f"{path} is missing"
        stat = path.stat()
        if stat.st_size == entry["bytes"] and written.get(entry["path"]) == [
            stat.st_size,
            stat.st_mtime_ns,
        ]:
            continue  # as it was written: not hashed again
        if stat.st_size != entry["bytes"] or outdir.sha256_file(path) != entry["sha256"]:
            return f"{path} changed since the export"
    return None


def remove_own(path: Path) -> None:
    """Remove one of dataprep's own temporary folders (`.dataset.partial`, `.dataset.old`)
    left by a killed export; anything else at that name is refused, never deleted."""
    if path.is_symlink():
        path.unlink()
    elif path.is_dir():
        if not ((path / PARTIAL_MARK).is_file() or (path / MANIFEST).is_file()):
            raise ExportError(
                f"{path} was not written by dataprep: move it away, or choose another --out"
            )
        shutil.rmtree(path)
    elif path.exists():
        raise ExportError(f"{path} was not written by dataprep: move it away")


def swap_in(stage: Path, final: Path) -> None:
    """Replace `final` with the finished `stage` directory (two renames, old one removed last)."""
    old = final.with_name(f".{final.name}.old")
    remove_own(old)
    check_dataset_dir(final)  # again: another process may have put files there meanwhile
    if final.exists():
        os.replace(final, old)
    os.replace(stage, final)
    remove_own(old)


def load_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest of the last complete export under `out_dir`, or a one-line error."""
    path = Path(out_dir) / DATASET_DIR / MANIFEST
    if not path.exists():
        raise ExportError(
            f"no complete export in {path.parent}: run `dataprep export --out {out_dir}` first"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(
            f"{path} cannot be read ({exc}): run `dataprep export --out {out_dir}` again"
        ) from None
