"""The output folder `DIR`: whose it is, one writer at a time, and writes that cannot destroy.

Rules (each refuses rather than destroys; every refusal is one line naming the fix):
- `check_out_dir`: `dataprep run` writes into a new or empty folder, or one that holds a
  `dataprep.db` made from the same repository; anything else needs `--force`.
- `locked`: one writing command per `DIR` at a time. The lock is an `flock` on
  `DIR/.dataprep.lock`, which the kernel releases when its holder dies, so a lock left by a
  killed process is simply taken over; the file names the holder (pid, command, start).
- `write_file`: every output is written to a temporary file in the same folder, synced and
  renamed over the old one. A rename replaces a symbolic link instead of following it, and
  a folder that resolves outside `DIR` is refused, so nothing outside `DIR` is written.
- `ensure_own_file`: a file dataprep would replace (`report.html`) must be one it wrote.

Example:
    with locked(Path("out"), "run"):
        write_file(Path("out"), Path("out/report.json"), b"{}")
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dataprep.console import warn
from dataprep.errors import InputError, StoreError

LOCK_NAME = ".dataprep.lock"
DB_NAME = "dataprep.db"  # also dataprep.store.DB_NAME (the store imports nothing from here)
POINTER_NAME = "store.json"  # also dataprep.store.POINTER_NAME: where DIR's store lives
# Files dataprep itself keeps in DIR; a folder holding only these counts as empty.
_OWN_NAMES = {
    LOCK_NAME, DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal", POINTER_NAME
}  # fmt: skip


class LockError(InputError):
    """Another dataprep process is writing to the same output folder."""


# -- whose folder ------------------------------------------------------------------------


def check_out_dir(out: Path, repo: Path, force: bool = False) -> None:
    """Refuse an --out that is not dataprep's to write: a non-empty folder with no store.

    Example: check_out_dir(Path("~/Documents"), Path("repo")) raises
        InputError("--out ~/Documents is not empty and holds no dataprep.db: ...")
    """
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise InputError(f"--out {out} is a broken symbolic link: choose another --out folder")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder: choose another --out folder")
    db = out / DB_NAME
    if db.is_symlink():
        raise InputError(f"{db} is a symbolic link: dataprep keeps its store there itself")
    if force or not out.is_dir() or db.is_file() or (out / POINTER_NAME).is_file():
        return
    own = set(_OWN_NAMES)
    if (out / "shards" / "plan.json").is_file():  # a many-source run's shards, copied here
        own.add("shards")
    others = sorted(p.name for p in out.iterdir() if p.name not in own)
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise InputError(
            f"--out {out} is not empty ({shown}) and holds no {DB_NAME}: choose a new or empty "
            "folder, or pass --force to write beside those files (dataprep never deletes them)"
        )


def check_same_source(recorded: str | None, repo: Path, out: Path, force: bool) -> None:
    """Refuse a store made from another repository unless --force."""
    here = str(Path(repo).resolve())
    if recorded and recorded != here and not force:
        raise InputError(
            f"the store in {out} was made from {recorded}, not {here}: choose a new --out, "
            "or pass --force to replace its contents with this repository's"
        )


# -- one writer at a time -----------------------------------------------------------------


def _holder_text(raw: bytes) -> str:
    try:
        info = json.loads(raw.decode("utf-8"))
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["started"]))
        return f"pid {info['pid']}, `{info['command']}`, started {started}"
    except (ValueError, KeyError, TypeError, OverflowError):
        return "holder unknown"


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _command_line() -> str:
    args = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["dataprep"]
    text = " ".join(args)
    return text if len(text) <= 200 else text[:197] + "..."


@contextmanager
def locked(out: Path, command: str | None = None, create: bool = True) -> Iterator[None]:
    """Hold the output folder's lock for the block; a second holder fails in one line.
    Without `create`, the folder must already hold a store (the stages after `run`).

    Example: with locked(Path("out")): ...   # another `dataprep run --out out` now fails
    """
    out = Path(out)
    if not create and not (out / DB_NAME).is_file() and not (out / POINTER_NAME).is_file():
        raise StoreError(
            f"no working store at {out / DB_NAME}: run `dataprep run PATH --out {out}` first"
        )
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path} is a symbolic link: remove it") from None
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder_text(os.pread(fd, 4096, 0))
        os.close(fd)
        raise LockError(
            f"{out} is in use by another dataprep ({holder}): wait for it to finish, "
            "or choose another --out"
        ) from None
    previous = os.pread(fd, 4096, 0)
    if previous.strip():  # the last holder ended without releasing: it was killed
        try:
            pid = json.loads(previous)["pid"]
        except (ValueError, KeyError, TypeError):
            pid = None
        if pid != os.getpid() and not (isinstance(pid, int) and pid_alive(pid)):
            holder = _holder_text(previous)
            warn(f"took over the lock of {out} left by a process that ended ({holder})")
    info = {"pid": os.getpid(), "command": command or _command_line(), "started": time.time()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    try:
        yield
    finally:
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)


# -- writes that stay inside DIR ----------------------------------------------------------


def inside(root: Path, path: Path) -> bool:
    """Whether `path`'s folder, with links resolved, lies in `root` (resolved)."""
    try:
        Path(path).parent.resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return True


def write_file(root: Path, path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename.

    A link at `path` is replaced, never followed; a folder outside `root` is refused.
    """
    path = Path(path)
    if not inside(root, path):
        raise InputError(
            f"{path.parent} leads outside {root} (a symbolic link?): dataprep writes only "
            "inside --out; remove the link"
        )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks (exports can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_own_file(path: Path, written: dict[str, str], fresh_store: bool) -> None:
    """Refuse to replace `path` unless dataprep wrote it (its sha256 is in `written`).

    Files from before this record existed count as dataprep's when the store is not new.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    known = written.get(path.name)
    if path.is_symlink() or not path.is_file():
        ours = False
    elif known is None:
        ours = not fresh_store
    else:
        ours = sha256_file(path) == known
    if not ours:
        raise InputError(
            f"{path} was not written by dataprep (or was changed since): move it out of the "
            "way; dataprep replaces that file on every run and never overwrites yours"
        )
