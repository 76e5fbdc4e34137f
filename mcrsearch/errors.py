"""User-facing errors: each carries one sentence for the user and an exit code for scripts."""

from __future__ import annotations

import os


class McrError(Exception):
    """Base of every error the CLI reports as a single sentence (traceback only with --debug)."""

    exit_code = 1


class ConfigError(McrError):
    """The settings (file, environment or flags) are inconsistent or invalid."""

    exit_code = 2


class WeightsMissingError(McrError):
    """A model artifact is not on disk; the message names the file and the command that gets it."""

    exit_code = 3


class WeightsInvalidError(McrError):
    """A file exists but is not the artifact it claims to be (wrong keys, shapes, hash or kind)."""

    exit_code = 3


class OfflineError(McrError):
    """A download was needed but no network (or model hub) is reachable."""

    exit_code = 3


class MediaError(McrError):
    """A file could not be decoded into model input; `path` and `reason` say which and why."""

    exit_code = 4

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnsupportedMediaError(MediaError):
    """The file type is not one mcrsearch reads."""


class StoreError(McrError):
    """The vector store refused an operation (missing collection, foreign space, server unreachable)."""

    exit_code = 5


class SpaceMismatchError(StoreError):
    """Vectors of one space were about to be mixed with a collection built in another."""


class DamagedStoreError(StoreError):
    """The embedded index's files are damaged (truncated, overwritten); the message says how to rebuild it."""


class DiskFullError(StoreError):
    """The disk holding the index has too little free space to write safely; nothing was half-written."""


class RemoteError(McrError):
    """A running `mcrsearch serve` refused a request; the exit code follows its HTTP status."""

    _EXIT_BY_STATUS = {400: 2, 401: 2, 403: 2, 404: 2, 413: 4, 422: 4, 409: 5, 503: 3}

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        self.exit_code = self._EXIT_BY_STATUS.get(status, 1)
        super().__init__(message)
