"""Where a dataset came from: the source repository's public URL.

From `--source-url`, else from the checkout's git remote (`origin`, else the first one),
turned into a browsable https URL without credentials. A local path, a `file://` URL or a
remote git cannot be read from give None: the card then says the URL is unknown.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dataprep.errors import InputError

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+\.[a-z]{2,}):(?P<path>[^/].*)$", re.I)


def check_source_url(url: str) -> str:
    """`--source-url` as given, if it is an http(s) URL without credentials, else an error.

    Example: check_source_url("https://github.com/acme/shop") -> "https://github.com/acme/shop"
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"--source-url {url!r} is not an http(s) URL: pass the repository's web address, "
            "such as https://github.com/OWNER/NAME"
        )
    if parts.username or parts.password:
        raise InputError(
            "--source-url holds a user name or token: pass the address without them "
            "(https://HOST/OWNER/NAME), it is written into the public dataset card"
        )
    return url.strip()


def public_url(remote: str) -> str | None:
    """A git remote as a browsable https URL, credentials and `.git` removed; None when it
    is a local path or cannot be one.

    Example: public_url("git@github.com:acme/shop.git") -> "https://github.com/acme/shop";
        public_url("https://x:tok@gitlab.com/a/b.git") -> "https://gitlab.com/a/b"
    """
    remote = remote.strip()
    scp = _SCP_LIKE.match(remote)
    if scp and "://" not in remote:
        host, path = scp.group("host"), scp.group("path")
    else:
        parts = urlsplit(remote)
        if parts.scheme not in ("http", "https", "ssh", "git", "git+ssh") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
        if parts.scheme in ("http", "https") and parts.port:
            host = f"{host}:{parts.port}"
    path = path.strip("/").removesuffix(".git")
    if not path:
        return None
    return urlunsplit(("https", host, "/" + path, "", ""))


def remote_url(root: Path | None) -> str | None:
    """The public URL of the checkout at `root` (its top level), or None."""
    if root is None or not Path(root).is_dir():
        return None
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != Path(root).resolve():
        return None  # not a checkout, or a folder inside another project's checkout
    names = (_git(root, "remote") or "").split()
    if not names:
        return None
    name = "origin" if "origin" in names else names[0]
    url = _git(root, "remote", "get-url", name)
    return public_url(url) if url else None


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None
