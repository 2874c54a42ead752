"""The sources of a run: local folders and git repositories, each pinned to a commit.

`dataprep run SOURCE [SOURCE ...]` takes local folders, git URLs (`https://...`,
`git@host:owner/name`, `ssh://...`, `file://...`, each with an optional `@REF`) and
`--sources FILE` (one source a line, `#` starts a comment). Each source is pinned:
- a git URL to the commit `git ls-remote` gives for its ref (HEAD when none; a 40-hex ref
  is taken as the commit), then shallow-cloned once into the cache
  (`$XDG_CACHE_HOME/dataprep/sources/<url hash>/<commit>/<name>`), which later runs reuse;
- a local git checkout to its HEAD (the folder is read as it is, like today's one-source run);
- a local folder without git to a digest of its files' paths and bytes.

A source that cannot be reached raises `SourceError` naming it; the caller reports it in one
line and goes on with the others (unless `--strict`).

Example:
    specs = read_specs(["../shop", "https://github.com/acme/billing@v2"], None)
    sources = [resolve(spec, priority=i) for i, spec in enumerate(specs)]
    sources[1].commit -> "3f2a..."; sources[1].root -> ~/.cache/dataprep/sources/.../billing
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dataprep.errors import DataprepError, InputError

GIT_TIMEOUT = 300
_SHA = re.compile(r"^[0-9a-f]{40}$")
_SCP = re.compile(r"^[\w.-]+@[\w.-]+:")


class SourceError(DataprepError):
    """A source that cannot be reached or read (one line; the run goes on without it)."""


@dataclass
class Source:
    """One pinned source of a run."""

    spec: str
    """As the user gave it."""
    kind: str
    """`git` (a URL, cloned into the cache) or `local` (a folder read in place)."""
    url: str
    """Where it came from, without credentials: the URL, or the folder's absolute path."""
    ref: str | None
    commit: str
    """The pinned commit, or `digest:<sha256>` for a local folder without git."""
    root: Path | None
    """The checkout (None until `checkout`)."""
    name: str
    priority: int
    """The order given: the first source's units win dedup ties."""
    license: str | None = None
    state: str | None = None
    """What the files are, when the commit alone does not say it: the digest of a local
    checkout with uncommitted changes (a work item's settings include it)."""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["root"] = str(self.root) if self.root else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Source:
        data = dict(data)
        data["root"] = Path(data["root"]) if data.get("root") else None
        return cls(**data)


def read_specs(args: list[str], sources_file: Path | None) -> list[str]:
    """The sources in the order given: arguments first, then the file's lines."""
    specs = [a.strip() for a in args if a.strip()]
    if sources_file is not None:
        try:
            text = Path(sources_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"--sources {sources_file}: cannot read it ({exc.strerror or exc}): "
                "pass a text file with one source a line"
            ) from None
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
            if line:
                specs.append(line)
    seen: set[str] = set()
    unique = [s for s in specs if not (s in seen or seen.add(s))]
    if not unique:
        raise InputError("no source given: pass a folder or git URL, or --sources FILE")
    return unique


def is_git_url(spec: str) -> bool:
    return spec.startswith(("https://", "http://", "ssh://", "git://", "file://")) or bool(
        _SCP.match(spec)
    )


def split_ref(spec: str) -> tuple[str, str | None]:
    """`URL@REF` -> (URL, REF); an `@` before the path's last `/` is a user name, not a ref.

    Example: split_ref("git@github.com:a/b.git@v1") -> ("git@github.com:a/b.git", "v1")
    """
    at = spec.rfind("@")
    if at > max(spec.rfind("/"), spec.rfind(":")):
        return spec[:at], spec[at + 1 :] or None
    return spec, None


def clean_url(url: str) -> str:
    """The URL without a user name or password (it goes into the card and the rows)."""
    if _SCP.match(url) and "://" not in url:
        return url.split("@", 1)[1]
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def _name_of(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
    return re.sub(r"[^\w.-]+", "-", tail).strip("-.") or "repository"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dataprep" / "sources"


def _git(*args: str, cwd: Path | None = None, timeout: int = GIT_TIMEOUT) -> str:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except FileNotFoundError:
        raise SourceError("git is not installed: install git to read git sources") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"git {args[0]} took over {timeout} s") from None
    if out.returncode != 0:
        lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
        raise SourceError(lines[-1].removeprefix("fatal: ") if lines else f"git {args[0]} failed")
    return out.stdout


def resolve(spec: str, priority: int) -> Source:
    """Pin one source to a commit (no clone yet); raises SourceError when unreachable."""
    if is_git_url(spec):
        url, ref = split_ref(spec)
        if ref and _SHA.match(ref):
            commit = ref
        else:
            try:
                listing = _git("ls-remote", url, ref or "HEAD", timeout=60)
            except SourceError as exc:
                raise SourceError(f"{clean_url(url)}: cannot be reached ({exc})") from None
            shas = [line.split()[0] for line in listing.splitlines() if line.strip()]
            if not shas:
                raise SourceError(
                    f"{clean_url(url)}: has no ref {ref or 'HEAD'!r}: "
                    "check the branch or tag after @"
                )
            commit = shas[0]
        return Source(spec, "git", clean_url(url), ref, commit, None, _name_of(url), priority)
    path = Path(spec).expanduser()
    if not path.is_dir():
        raise SourceError(f"{spec}: not a folder nor a git URL (https://, git@, file://)")
    root = path.resolve()
    from dataprep.slicing import repo_info

    name, commit = repo_info(root)
    state = None
    if commit:
        try:
            dirty = _git("status", "--porcelain", "--untracked-files=normal", cwd=root).strip()
        except SourceError:
            dirty = "unknown"
        state = folder_digest(root) if dirty else None  # edits not committed yet
    pin = commit or folder_digest(root)
    return Source(spec, "local", str(root), None, pin, root, name, priority, state=state)


def folder_digest(root: Path) -> str:
    """`digest:<sha256>` of a folder's files (paths and bytes, .git and links left out)."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            try:
                with open(path, "rb") as fh:
                    for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        digest.update(chunk)
            except OSError:
                continue
            digest.update(b"\0")
    return "digest:" + digest.hexdigest()


def checkout(source: Source, cache: Path | None = None) -> Path:
    """The source's files on this machine: the local folder, or the cached shallow clone of
    its pinned commit (cloned now when missing; a later run reuses it)."""
    if source.kind == "local":
        assert source.root is not None
        return source.root
    cache = cache or cache_dir()
    url_key = hashlib.sha256(source.url.encode()).hexdigest()[:16]
    final = cache / url_key / source.commit / source.name
    if (final / ".git").is_dir():
        try:
            if _git("rev-parse", "HEAD", cwd=final).strip() == source.commit:
                source.root = final
                return final
        except SourceError:
            pass
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{source.name}."))
    url = split_ref(source.spec)[0]  # with its credentials, if any: never stored
    try:
        _git("init", "-q", str(tmp))
        _git("remote", "add", "origin", url, cwd=tmp)
        try:
            _git("fetch", "-q", "--depth", "1", "origin", source.commit, cwd=tmp)
        except SourceError:  # a server that refuses a commit by id: fetch the ref, then check
            _git("fetch", "-q", "--depth", "1", "origin", source.ref or "HEAD", cwd=tmp)
        _git("-c", "advice.detachedHead=false", "checkout", "-q", source.commit, cwd=tmp)
        if final.exists():
            shutil.rmtree(final)  # a broken earlier clone of ours (no matching HEAD)
        os.replace(tmp, final)
    except SourceError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SourceError(
            f"{source.url}: cannot be cloned at {source.commit[:12]} ({exc})"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    source.root = final
    return final


def unique_names(sources: list[Source]) -> None:
    """Give every source a distinct name (`repo`): `name`, then `owner-name`, then `name-2`."""
    counts: dict[str, int] = {}
    for s in sources:
        counts[s.name] = counts.get(s.name, 0) + 1
    taken: set[str] = set()
    for s in sources:
        name = s.name
        if counts[name] > 1:
            parts = re.split(r"[/:]", s.url.rstrip("/").removesuffix(".git"))
            owner = parts[-2] if len(parts) >= 2 else ""
            owner = re.sub(r"[^\w.-]+", "-", owner).strip("-.")
            name = f"{owner}-{name}" if owner else name
        base, n = name, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        s.name = name


def detect(source: Source) -> None:
    """Fill in the source's licence (SPDX id, or None when unknown)."""
    from dataprep.licenses import detect_license

    if source.root is not None:
        source.license = detect_license(source.root)[0]
