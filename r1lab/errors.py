"""The one error base for mistakes a user can fix: a bad flag, config key, data file, model name.

The CLI catches `UserError` and prints it as one line (exit status 2); everything else is a bug and
keeps its traceback. Library code raises these and never imports the CLI. Each subclass exists only
where a caller needs to tell it apart; the message always names the file, line or key at fault.
"""

from __future__ import annotations


class UserError(Exception):
    """An error in the user's input, printed as one clear line."""


class ConfigError(UserError, ValueError):
    """A configuration problem, with the offending key (and file) in the message."""


class DataError(UserError, ValueError):
    """A malformed data file; the message names file:line (or the row, for parquet)."""


class UnknownTaskError(UserError, ValueError):
    """A task or benchmark name that resolves to nothing; the message lists the names that work."""


class ModelNotFoundError(UserError, FileNotFoundError):
    """A model name or directory that cannot be loaded."""
