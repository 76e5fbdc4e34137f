"""One file over HTTP(S), resumable and checked: the weights catalog's only network code.

Why its own module: a 1.86 GB checkpoint over a flaky line must survive an interruption. Bytes go to
`<name>.part` beside the target; a later call sends `Range: bytes=N-` and appends when the server answers 206
(a server that ignores the range answers 200 and the file restarts). A download shorter than the server or the
catalog said is left as `.part` to resume, never filed. A complete file that fails a check (size, sha256, git
blob id, or the caller's own recognition) is kept aside as `<name>.rejected` with `<name>.rejected.txt` saying
why and from where, so a user can inspect it instead of downloading 1.86 GB again to find out.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from mcrsearch.errors import OfflineError, WeightsInvalidError, WeightsMissingError

Progress = Callable[[int], None]
ProgressFactory = Callable[[str, "int | None"], Progress]
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Expected:
    """What is known about the file (None: unknown)."""

    size: int | None = None
    sha256: str | None = None
    git_blob: str | None = None


def part_path(dst: Path) -> Path:
    """Where an unfinished download of `dst` accumulates."""
    return dst.with_name(dst.name + ".part")


def rejected_path(dst: Path) -> Path:
    """Where a downloaded file that failed a check is kept aside (its reason in `<that>.txt`)."""
    return dst.with_name(dst.name + ".rejected")


def set_aside(path: Path, dst: Path, reason: str, url: str) -> Path:
    """Move a file that failed a check to `dst.rejected` and write why beside it; returns the new path."""
    aside = rejected_path(dst)
    os.replace(path, aside)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    aside.with_name(aside.name + ".txt").write_text(f"{reason}\nsource: {url}\nwhen: {stamp}\n", encoding="utf-8")
    return aside


def _hash_existing(path: Path, digests: list) -> None:
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            for d in digests:
                d.update(chunk)


def _total_from(resp, have: int) -> int | None:
    """Whole-file size from Content-Range (206) or Content-Length (200), else None."""
    rng = resp.headers.get("Content-Range") or ""
    if "/" in rng and rng.rsplit("/", 1)[1].strip().isdigit():
        return int(rng.rsplit("/", 1)[1])
    length = resp.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (have if resp.status == 206 else 0)
    return None


def download(url: str, dst: Path, expected: Expected, timeout: float = 30.0,
             progress: ProgressFactory | None = None) -> Path:
    """Fetch `url` into `dst`, resuming `dst.part`; check size and hashes; file it atomically.

    Args:
        url: the address.
        dst: the final path (its folder is created).
        expected: known size / sha256 / git blob id of the file.
        timeout: seconds for the connection and each read.
        progress: `progress(name, total)` returns a callback taking the bytes just read.

    Returns:
        `dst`.

    Raises:
        WeightsMissingError: the server answered an HTTP error (the file is not there).
        OfflineError: the host could not be reached or the transfer broke off (the `.part` file stays to resume).
        WeightsInvalidError: the file arrived whole but is not the expected one (kept aside as `.rejected`).
    """

    dst.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dst)
    have = part.stat().st_size if part.is_file() else 0
    if expected.size is not None and have > expected.size:
        part.unlink()
        have = 0
    headers = {"User-Agent": "mcrsearch"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    sha = hashlib.sha256()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            if have and resp.status != 206:           # the server ignored the range: start again
                have = 0
            total = _total_from(resp, have) or expected.size
            blob = hashlib.sha1(f"blob {total}\0".encode()) if expected.git_blob and total else None
            digests = [d for d in (sha, blob) if d is not None]
            if have:
                _hash_existing(part, digests)
            advance = progress(dst.name, total) if progress else None
            if advance is not None and have:
                advance(have)
            with part.open("ab" if have else "wb") as out:
                for chunk in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(chunk)
                    for d in digests:
                        d.update(chunk)
                    if advance is not None:
                        advance(len(chunk))
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have and expected.size == have:      # the part is already whole
            return download_complete(part, dst, expected, url)
        raise WeightsMissingError(f"The server answered HTTP {exc.code} ({exc.reason}) for {url}.") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        kept = part.stat().st_size if part.is_file() else 0
        tail = f"; {kept} bytes are kept in {part.name} and the next fetch resumes there" if kept else ""
        raise OfflineError(f"Downloading {url} failed ({reason}){tail}.") from exc
    got = part.stat().st_size
    if total is not None and got < total:
        raise OfflineError(f"The download of {dst.name} stopped at {got} of {total} bytes (truncated); it is kept "
                           f"in {part.name} and the next fetch resumes there.")
    problem = None
    if expected.size is not None and got != expected.size:
        problem = f"it has {got} bytes instead of {expected.size}"
    elif expected.sha256 and sha.hexdigest() != expected.sha256:
        problem = "its sha256 differs from the released file"
    elif blob is not None and got == total and blob.hexdigest() != expected.git_blob:
        problem = "its git blob hash differs from the released file"
    return _file(part, dst, url, problem)


def _file(part: Path, dst: Path, url: str, problem: str | None) -> Path:
    """File a checked `.part` as `dst`, or keep it aside with the problem and say so in one sentence."""
    if problem:
        aside = set_aside(part, dst, f"The download of {dst.name} is not the released file: {problem}.", url)
        raise WeightsInvalidError(f"The download of {dst.name} from {url} is not the released file: {problem} "
                                  f"(kept aside as {aside.name}).")
    os.replace(part, dst)
    return dst


def download_complete(part: Path, dst: Path, expected: Expected, url: str) -> Path:
    """A `.part` file that already holds every byte: check it like a fresh download and file it."""
    from mcrsearch.checkpoint import file_sha256, git_blob_sha1

    problem = None
    if expected.sha256 and file_sha256(part) != expected.sha256:
        problem = "its sha256 differs from the released file"
    elif expected.git_blob and git_blob_sha1(part) != expected.git_blob:
        problem = "its git blob hash differs from the released file"
    return _file(part, dst, url, problem)


__all__ = ["Expected", "download", "part_path", "rejected_path", "set_aside"]
