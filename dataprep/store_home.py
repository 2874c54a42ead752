"""Where an output folder's SQLite store lives: in `DIR`, or on this machine's disk.

SQLite in WAL mode must not live on a network filesystem (NFS, Lustre, SMB, ...): its
locks and shared memory are not kept across machines, and a store there can be corrupted.
On a cluster `--out` is usually such a filesystem (the shards must be seen by every
node), so the working store gets a home of its own on local disk:

- `dataprep run ... --store PATH` keeps it in `PATH/dataprep.db`;
- without `--store`, an `--out` on a network filesystem keeps it under the user's cache
  folder (`$XDG_CACHE_HOME/dataprep/stores/<name>-<hash>/`), and says so;
- either way `DIR/store.json` names the place (path and host), and every command that
  reads `--out DIR` (export, review, filter, push, ...) follows it (`store.locate`).

Nothing moves a store that exists: `--store` for a folder that already keeps its store
elsewhere is refused in one line, as is a `--store` on a network filesystem itself.

Example:
    settle(Path("/shared/out"), Path("/scratch/me/store"))  # writes /shared/out/store.json
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from dataprep import outdir
from dataprep.console import note
from dataprep.errors import InputError
from dataprep.hashing import content_hash
from dataprep.store import DB_NAME, POINTER_NAME, read_pointer

# Filesystems whose files other machines share (or that go over the network): no SQLite.
# Not 9p: sandboxes (gVisor) and VMs show their own local disk as 9p.
NETWORK_FS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "lustre", "gpfs",
        "beegfs", "glusterfs", "ceph", "ocfs2", "gfs2", "panfs", "wekafs", "pvfs2",
        "orangefs", "davfs", "fuse.glusterfs", "fuse.ceph", "fuse.cephfs", "fuse.sshfs",
        "fuse.s3fs", "fuse.gcsfuse", "fuse.juicefs", "fuse.rclone", "fuse.lxcfs_remote",
    }
)  # fmt: skip


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (`\\040`)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_types(mountinfo: str) -> dict[str, str]:
    """Mount point -> filesystem type, from the text of `/proc/self/mountinfo` (the last
    mount on a point wins, as it hides the earlier ones).

    Example: mount_types("36 1 0:33 / /shared rw - nfs4 srv:/x rw") -> {"/shared": "nfs4"}
    """
    points: dict[str, str] = {}
    for line in mountinfo.splitlines():
        head, sep, tail = line.partition(" - ")
        fields = head.split()
        if not sep or len(fields) < 5 or not tail.split():
            continue
        points[_unescape(fields[4])] = tail.split()[0]
    return points


def filesystem_type(path: Path) -> str | None:
    """The filesystem type of the mount holding `path` (or the nearest folder above it
    that exists); None where the system does not say (no /proc: macOS)."""
    try:
        text = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    points = mount_types(text)
    try:
        here = Path(path).absolute()
        while not here.exists() and here != here.parent:
            here = here.parent
        here = here.resolve()
    except OSError:  # a folder above it that cannot be read: no answer, not an error
        return None
    for candidate in (here, *here.parents):
        if str(candidate) in points:
            return points[str(candidate)]
    return None


def is_network(path: Path) -> str | None:
    """The network filesystem type `path` is on, or None for local disk."""
    kind = filesystem_type(path)
    return kind if kind in NETWORK_FS else None


def default_home(out: Path) -> Path:
    """The local folder for `out`'s store when `--out` is on a network filesystem."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    resolved = Path(out).resolve()
    key = content_hash("store-home", str(resolved))
    return Path(cache) / "dataprep" / "stores" / f"{resolved.name}-{key}"


def _write_pointer(out: Path, home: Path) -> None:
    data = {"path": str(home / DB_NAME), "host": socket.gethostname(), "out": str(out.resolve())}
    outdir.write_file(out, out / POINTER_NAME, (json.dumps(data, indent=1) + "\n").encode())


def settle(out: Path, store: Path | None = None) -> Path:
    """Decide where `out`'s store lives before `run` opens it, and record it in
    `out/store.json` when that is not `out` itself; returns the store's path. Call with
    the output folder's lock held (the pointer is a file of `out`)."""
    out = Path(out)
    inside = out / DB_NAME
    pointer = read_pointer(out)
    if store is not None:
        home = Path(store).expanduser().absolute()
        if home.exists() and not home.is_dir():
            raise InputError(f"--store {store} is a file: name a folder on this machine's disk")
        if home.resolve() == out.resolve():
            if pointer is not None:
                raise InputError(
                    f"--out {out} keeps its store at {pointer['path']}: pass that folder as "
                    "--store, or leave --store out"
                )
            return inside
        if kind := is_network(home):
            raise InputError(
                f"--store {store} is on a network filesystem ({kind}), where SQLite must not "
                "live: choose a folder on this machine's disk"
            )
        if inside.exists():
            raise InputError(
                f"--out {out} already keeps its store in {inside}: leave --store out, or "
                "choose a new --out"
            )
        if pointer is not None and Path(pointer["path"]) != home / DB_NAME:
            if Path(pointer["path"]).exists():
                raise InputError(
                    f"--out {out} keeps its store at {pointer['path']}: pass that folder as "
                    "--store, or leave --store out"
                )
            note(f"{out}'s store was at {pointer['path']} ({pointer.get('host')}); a new one "
                 f"is made at {home / DB_NAME}")  # fmt: skip
        home.mkdir(parents=True, exist_ok=True)
        if pointer is None or Path(pointer["path"]) != home / DB_NAME:
            _write_pointer(out, home)
        return home / DB_NAME
    if inside.exists():
        return inside
    if pointer is not None:
        path = Path(pointer["path"])
        if not path.exists() and pointer.get("host") == socket.gethostname():
            note(f"the store of {out} ({path}) is gone: a new one is made there")
            path.parent.mkdir(parents=True, exist_ok=True)
        return path
    if kind := is_network(out):
        home = default_home(out)
        home.mkdir(parents=True, exist_ok=True)
        _write_pointer(out, home)
        note(
            f"--out {out} is on a network filesystem ({kind}), where SQLite must not live: "
            f"the working store is kept at {home / DB_NAME} (--store PATH chooses the place)"
        )
        return home / DB_NAME
    return inside


__all__ = ["settle", "is_network", "filesystem_type", "mount_types", "default_home"]
