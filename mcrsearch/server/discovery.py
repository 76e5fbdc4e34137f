"""How the CLI finds a running `mcrsearch serve` for its collection: a small JSON file in the home.

The file is keyed by (store location, collection), written when the server starts (owner-only: it holds
the token) and removed when it stops. It records the address the server actually bound, its process
(pid and start time, so a reused pid is not taken for it) and a per-server nonce that never leaves
the file or the server. Before the CLI sends the token anywhere it proves the server's identity: it
sends a random challenge to /api/health, which must answer with HMAC(nonce, challenge); anyone else
listening on that port (another local user who bound it after the server died) cannot.

A record whose process is gone is stale and removed. A record whose process is alive is never removed,
even when it does not answer (busy, or a twin would start on a locked store).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcrsearch.config import Settings

HEALTH_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ServerInfo:
    """Where a server listens and what it serves."""

    url: str
    pid: int
    collection: str
    location: str
    token: str | None = None
    nonce: str | None = None         # the server's identity secret (see module doc)
    started: int | None = None       # the process's start time (clock ticks since boot), when known


def new_nonce() -> str:
    """A fresh per-server identity secret."""
    return secrets.token_urlsafe(24)


def proof(nonce: str, challenge: str) -> str:
    """What a server holding `nonce` answers to `challenge` (hex HMAC-SHA256)."""
    return hmac.new(nonce.encode(), challenge.encode(), hashlib.sha256).hexdigest()


def process_started(pid: int) -> int | None:
    """The start time of a process (Linux /proc; None elsewhere): with the pid, who it is."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def location_of(settings: "Settings") -> str:
    """The store location a server owns: the Qdrant URL, or the embedded collection's folder."""
    return settings.qdrant_url or str((Path(settings.index_dir) / settings.collection).resolve())


def discovery_file(settings: "Settings") -> Path:
    key = hashlib.sha1(f"{location_of(settings)}\0{settings.collection}".encode()).hexdigest()[:16]
    return Path(settings.home) / "run" / f"server-{key}.json"


def write(settings: "Settings", info: ServerInfo) -> Path:
    """Record a started server (readable by this user only: it may hold the token)."""
    from mcrsearch.atomic import write_text_atomic

    path = discovery_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(asdict(info)), mode=0o600)
    return path


def remove(settings: "Settings", pid: int | None = None) -> None:
    """Forget the server (only our own record when `pid` is given)."""
    path = discovery_file(settings)
    try:
        if pid is None or json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def alive(info: ServerInfo) -> bool:
    """Whether the recorded server's process still runs (same pid and, where known, same start time)."""
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if info.started is not None:
        now = process_started(info.pid)
        return now is None or now == info.started
    return True


def read_record(settings: "Settings") -> ServerInfo | None:
    """The record for this collection as written, or None when there is none (or it is unreadable)."""
    try:
        info = ServerInfo(**json.loads(discovery_file(settings).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if info.collection != settings.collection or info.location != location_of(settings):
        return None
    return info


def find_server(settings: "Settings") -> ServerInfo | None:
    """The live server for this collection whose identity is proven, or None.

    A record whose process is gone is removed; one whose process lives is kept even when it does not
    prove itself (then None: the token is sent nowhere)."""
    info = read_record(settings)
    if info is None:
        return None
    if not alive(info):
        remove(settings, info.pid)
        return None
    return info if _answers(info) else None


def _answers(info: ServerInfo) -> bool:
    """Whether the recorded address answers as that server: HMAC(nonce, challenge), asked without the
    token. A server too busy to answer in time still counts: its process is alive (same pid and start
    time) and holds the socket it bound, so no one else can listen there."""
    import httpx

    if not info.nonce:
        return False                     # a record without a nonce cannot be told from an impostor
    challenge = secrets.token_urlsafe(16)
    try:
        r = httpx.get(f"{info.url}/api/health", params={"challenge": challenge}, timeout=HEALTH_TIMEOUT_S)
        body = r.json()
    except httpx.TimeoutException:
        return True
    except (httpx.HTTPError, ValueError):
        return False
    given = body.get("proof") if isinstance(body, dict) else None
    return r.status_code == 200 and isinstance(given, str) and hmac.compare_digest(given, proof(info.nonce, challenge))
