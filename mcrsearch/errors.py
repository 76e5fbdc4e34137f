"""User-facing errors: each carries one sentence for the user, an exit code for scripts and an HTTP status
for the server.

This module is the one table of both: each class declares its `exit_code` and `http_status` (subclasses
inherit them). The server answers an error as `{"detail": sentence, "error": class name}` with the class's
status, and `RemoteClient` raises the same class again (`error_class`), so a caller sees the same error
whichever client answered; the CLI exits with the class's code either way.
"""

from __future__ import annotations

import os


class McrError(Exception):
    """Base of every error the CLI reports as a single sentence (traceback only with --debug)."""

    exit_code = 1
    http_status = 500
    #: attributes besides the sentence that cross the wire (the server sends them, RemoteClient restores them)
    wire_fields: tuple[str, ...] = ()


class ConfigError(McrError):
    """The settings (file, environment or flags) are inconsistent or invalid."""

    exit_code = 2
    http_status = 400


class NotFoundError(ConfigError):
    """A request named an item or an index job that does not exist."""

    http_status = 404


class WeightsMissingError(McrError):
    """A model artifact is not on disk; the message names the file and the command that gets it."""

    exit_code = 3
    http_status = 503


class WeightsInvalidError(McrError):
    """A file exists but is not the artifact it claims to be (wrong keys, shapes, hash or kind)."""

    exit_code = 3
    http_status = 503


class OfflineError(McrError):
    """A download was needed but no network (or model hub) is reachable."""

    exit_code = 3
    http_status = 503


class MediaError(McrError):
    """A file could not be decoded into model input; `path` and `reason` say which and why."""

    exit_code = 4
    http_status = 422
    wire_fields = ("path", "reason")

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnsupportedMediaError(MediaError):
    """The file type is not one mcrsearch reads."""


class UploadTooLargeError(MediaError):
    """An uploaded query file is over the server's upload cap (it is not read further)."""

    http_status = 413


class StoreError(McrError):
    """The vector store refused an operation (missing collection, foreign space, server unreachable)."""

    exit_code = 5
    http_status = 409


class SpaceMismatchError(StoreError):
    """Vectors of one space were about to be mixed with a collection built in another."""


class DamagedStoreError(StoreError):
    """The embedded index's files are damaged (truncated, overwritten); the message says how to rebuild it."""


class DiskFullError(StoreError):
    """The disk holding the index has too little free space to write safely; nothing was half-written."""


class FileGoneError(StoreError):
    """An indexed item's file is no longer where it was indexed (moved or removed since)."""

    http_status = 410


class RemoteError(McrError):
    """A running `mcrsearch serve` did not answer, or refused a request with an error of no known class (its
    token, host and origin checks, a malformed request); the exit code follows the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        self.exit_code = exit_code_for_status(status)
        super().__init__(message)


def _classes() -> list[type[McrError]]:
    """McrError and every subclass, parents before children."""
    found: list[type[McrError]] = [McrError]
    for cls in found:
        found += [sub for sub in cls.__subclasses__() if sub not in found]
    return found


def error_class(name: str) -> type[McrError] | None:
    """The error class of this name (as the server sends it in `error`), or None when there is none."""
    return next((cls for cls in _classes() if cls.__name__ == name and cls is not RemoteError), None)


def exit_code_for_status(status: int) -> int:
    """The exit code of an HTTP refusal that names no error class: that of the least specific class
    answered with the same status, else 2 for another 4xx (a bad request) and 1 otherwise."""
    same = next((cls for cls in _classes() if cls.http_status == status and cls is not McrError), None)
    if same is not None:
        return same.exit_code
    return 2 if 400 <= status < 500 else 1


def to_wire(exc: McrError) -> dict[str, object]:
    """The JSON body of an error response: its sentence, its class and the class's extra fields."""
    return {"detail": str(exc), "error": type(exc).__name__,
            **{f: getattr(exc, f, None) for f in type(exc).wire_fields}}


def from_wire(body: dict[str, object], status: int) -> McrError:
    """The error a server's response describes, as the same class when this side knows it."""
    detail = str(body.get("detail") or f"The server answered HTTP {status}.")
    cls = error_class(str(body.get("error", "")))
    if cls is None:
        return RemoteError(detail, status)
    exc = cls.__new__(cls)
    Exception.__init__(exc, detail)
    for f in cls.wire_fields:
        setattr(exc, f, str(body.get(f, "")))
    return exc
