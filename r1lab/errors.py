"""The one error base for mistakes a user can fix: a bad flag, config key, data file, model name.

The CLI catches `UserError` and prints it as one line (exit status 2); everything else is a bug and
keeps its traceback. Library code raises these and never imports the CLI. Each subclass exists only
where a caller needs to tell it apart; the message always names the file, line or key at fault.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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


# A full disk, or a full quota: the user frees space and runs again.
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(err: BaseException) -> bool:
    """Whether `err` says the disk (or the user's quota) is full: an OSError with that errno, or the
    same I/O error passed up by a Rust extension under its own type (safetensors raises SafetensorError
    "Error while serializing: I/O error: No space left on device (os error 28)"; Rust's io::Error
    ends its message with "(os error N)")."""
    if isinstance(err, OSError):
        return err.errno in DISK_FULL_ERRNOS
    return any(f"(os error {code})" in str(err) for code in DISK_FULL_ERRNOS)


@contextmanager
def writing(path: str | Path, then: str = "free some space and run the command again (zero, rl and demo "
                                          "continue from their last checkpoint with --resume)") -> Iterator[None]:
    """Around a write of `path`: a full disk becomes one UserError line naming the path and what to do
    (`then`); every other error passes through unchanged."""
    try:
        yield
    except Exception as err:
        if is_disk_full(err):
            raise UserError(f"no space left on the device while writing {path}; {then}") from None
        raise
