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
