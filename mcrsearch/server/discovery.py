"""How the CLI finds a running `mcrsearch serve` for its collection: a small JSON file in the home.

The file is keyed by (store location, collection), written when the server starts and removed when it
stops. A file left by a killed server is stale: its process is gone, or the address no longer answers
as that collection's server; such a file is ignored and removed.
"""

from __future__ import annotations

import hashlib
import json
import os
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_server(settings: "Settings") -> ServerInfo | None:
    """The live server for this collection, or None (a stale record is removed)."""
    path = discovery_file(settings)
    try:
        info = ServerInfo(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if info.collection == settings.collection and info.location == location_of(settings) \
            and _alive(info.pid) and _answers(info):
        return info
    remove(settings, info.pid)
    return None


def _answers(info: ServerInfo) -> bool:
    """Whether the recorded address answers as this collection's server. A server too busy to answer in
    time still counts (its process is alive and it holds the store); a refused connection or another
    identity means the record is stale."""
    import httpx

    headers = {"Authorization": f"Bearer {info.token}"} if info.token else {}
    try:
        r = httpx.get(f"{info.url}/api/health", headers=headers, timeout=HEALTH_TIMEOUT_S)
        body = r.json()
    except httpx.TimeoutException:
        return True
    except (httpx.HTTPError, ValueError):
        return False
    return r.status_code == 200 and body.get("collection") == info.collection \
        and body.get("location") == info.location
