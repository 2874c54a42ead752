"""Errors the library raises. Each message is one line that names the fix.

The CLI turns a DataprepError into `Error: <message>` and exit code 1; anything else
escaping a command is a bug.
"""


class DataprepError(Exception):
    """Base class: a problem the user can fix, described in one line."""


class InputError(DataprepError):
    """A path, file or argument the user gave cannot be used."""


class StoreError(DataprepError):
    """The working store cannot be opened or is from a newer version."""


class TemplateError(DataprepError):
    """A template file is missing or does not validate."""


class LLMError(DataprepError):
    """An LLM backend failed in a way a retry will not fix."""


class ExportError(DataprepError):
    """The dataset cannot be exported or pushed."""


class ConfigError(DataprepError):
    """A configuration file or value is invalid."""


def system_error(exc: BaseException, store: object = None) -> DataprepError | None:
    """The one-line error for a system failure the user can act on (a full disk, a damaged
    store), or None for anything else (a bug, to be shown as one).

    Example: system_error(OSError(28, "No space left on device")) ->
        DataprepError("no space left on the disk: free some space, or ...")
    """
    import errno
    import sqlite3

    text = " ".join(str(exc).split())
    where = f" {store}" if store else ""
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or any(
        marker in text for marker in ("No space left on device", "database or disk is full")
    ):
        return DataprepError(
            f"no space left on the disk (writing{where or ' the output'}): free some space, or "
            "use an --out on a larger disk; what was committed is kept, run again to continue"
        )
    if isinstance(exc, sqlite3.DatabaseError) and any(
        marker in text for marker in ("malformed", "not a database", "file is encrypted")
    ):
        return StoreError(
            f"the store{where} is damaged ({text}): start again with a new --out folder"
        )
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
        name = exc.filename or where.strip() or "a file"
        return DataprepError(f"cannot write {name} ({exc.strerror}): choose an --out you can write")
    return None
