"""The CLI's side of a running server: the Client methods the commands use, answered over HTTP.

`mcrsearch query`, `info` and `index` call these exactly as they call `mcrsearch.Client`, so their output is
the same whichever answers; the server does the work with its warm encoders and its open store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import httpx

from mcrsearch.errors import RemoteError

if TYPE_CHECKING:
    from mcrsearch_indexer.report import IndexProgress, IndexReport
    from mcrsearch.search import Hit
    from mcrsearch.server.discovery import ServerInfo

class RemoteClient:
    """Speaks to one `mcrsearch serve` (found by mcrsearch.server.discovery)."""

    def __init__(self, server: "ServerInfo", timeout: float = 600.0) -> None:
        self.server = server
        headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
        self._http = httpx.Client(base_url=server.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RemoteClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            r = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(f"The mcrsearch server at {self.server.url} did not answer ({exc}); stop it or "
                              "rerun with --no-server.", 0) from exc
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail")
            except ValueError:
                detail = None
            raise RemoteError(str(detail or f"The server answered HTTP {r.status_code}."), r.status_code)
        return r.json()

    def info(self) -> dict[str, Any]:
        return self._call("GET", "/api/info")

    def query(self, audio: Sequence[str] = (), image: Sequence[str] = (), text: Sequence[str] = (),
              points: Sequence[str] = (), like: Sequence[str] = (), target: str = "any", k: int = 10,
              weights: Mapping[Any, float] | None = None, space: str | None = None, offset: int = 0,
              min_score: float | None = None, *, not_audio: Sequence[str] = (), not_image: Sequence[str] = (),
              not_text: Sequence[str] = (), not_points: Sequence[str] = (), not_like: Sequence[str] = (),
              where: Mapping[str, Any] | None = None) -> list["Hit"]:
        """Query files are uploaded (the server reads no path it is sent); `like` items go by path or id;
        negatives and filters go as the API's fields (see Client.query)."""
        from mcrsearch.search import Hit

        files = [(kind, (Path(p).name, _read(p))) for kind, paths in
                 (("audio", audio), ("image", image), ("points", points), ("not_audio", not_audio),
                  ("not_image", not_image), ("not_points", not_points)) for p in _seq(paths)]
        form: dict[str, Any] = {"text": _seq(text), "like": [_like_value(v) for v in _seq(like)], "target": target,
                                "k": str(k), "offset": str(offset), "not_text": _seq(not_text),
                                "not_like": [_like_value(v) for v in _seq(not_like)],
                                "weight": [f"{getattr(m, 'value', m)}={w}" for m, w in (weights or {}).items()]}
        if space:
            form["space"] = space
        if min_score is not None:
            form["min_score"] = str(min_score)
        form.update(where_fields(where))
        body = self._call("POST", "/api/search", data=form, files=files or None)
        return [Hit(h["id"], h["path"], h["modality"], h["details"], score=h["score"], cosine=h["cosine"],
                    inputs=h.get("inputs") or [], new=h.get("new")) for h in body["hits"]]

    def duplicates(self, modality: str | None = None, threshold: float | None = None, near: bool = True,
                   space: str | None = None) -> list[Any]:
        """As Client.duplicates, answered by the server (its own space)."""
        from mcrsearch.duplicates import DuplicateGroup

        params: dict[str, Any] = {"modality": getattr(modality, "value", modality) or "any",
                                  "identical": str(not near).lower(), "limit": 1000}
        if threshold is not None:
            params["threshold"] = str(threshold)
        body = self._call("GET", "/api/duplicates", params=params)
        return [DuplicateGroup(g["kind"], g["modality"], g["items"], g["min_cosine"]) for g in body["groups"]]

    def saved_searches(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/saved")["saved"]

    def save_search(self, name: str, **query: Any) -> dict[str, Any]:
        """As Client.save_search; through the server a saved search holds texts and indexed items, not files."""
        spec = {k: v for k, v in query.items() if v not in (None, [], (), "")}
        if "where" in spec:
            spec["where"] = {k: v for k, v in spec["where"].items() if v not in (None, [], (), "")} or None
            spec = {k: v for k, v in spec.items() if v is not None}
        for key in ("like", "not_like"):
            if key in spec:
                spec[key] = [_like_value(v) for v in _seq(spec[key])]
        if "weights" in spec:
            spec["weights"] = {getattr(m, "value", m): w for m, w in dict(spec["weights"]).items()}
        return self._call("POST", "/api/saved", json={"name": name, "query": spec})

    def run_saved(self, name: str, k: int | None = None) -> list["Hit"]:
        from mcrsearch.search import Hit

        body = self._call("POST", f"/api/saved/{name}/run", params={"k": k} if k else None)
        return [Hit(h["id"], h["path"], h["modality"], h["details"], score=h["score"], cosine=h["cosine"],
                    inputs=h.get("inputs") or [], new=h.get("new")) for h in body["hits"]]

    def delete_saved(self, name: str) -> bool:
        try:
            self._call("DELETE", f"/api/saved/{name}")
        except RemoteError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def index(self, path: str | Path, space: str | None = None, *,
              progress: "Callable[[IndexProgress], None] | None" = None,
              cancel: Callable[[], bool] | None = None, ray: Any = None, rebuild: bool = False) -> "IndexReport":
        """Run the folder as a job in the server, follow its progress, return its report.

        Interrupted (Ctrl-C), the job is cancelled in the server too. Ray and rebuilds run on the direct path.
        """
        from mcrsearch_indexer.report import Failure, IndexProgress, IndexReport
        from mcrsearch.errors import ConfigError

        if ray or rebuild:
            raise ConfigError("Stop `mcrsearch serve` first: a rebuild or a Ray run needs the collection itself.")

        job = self._call("POST", "/api/jobs", json={"path": os.path.abspath(Path(path).expanduser()),
                                                    "space": space})
        try:
            for event in self._events(job["id"]):
                job = event
                if progress is not None:
                    progress(IndexProgress(job["total"], job["done"], job["indexed"], job["unchanged"],
                                           job["removed"], job["failed"]))
                if cancel is not None and cancel():
                    self._call("DELETE", f"/api/jobs/{job['id']}")
        except KeyboardInterrupt:
            self._call("DELETE", f"/api/jobs/{job['id']}")
            raise
        if job["state"] == "failed":
            raise RemoteError(job["error"] or "The index job failed.", 409)
        rep = job["report"]
        if rep is None:                     # cancelled before it started
            return IndexReport(cancelled=True)
        return IndexReport(**{**rep, "failed": [Failure(**f) for f in rep["failed"]]})

    def _events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's server-sent events, as Job dicts, until its `end` event."""
        with self._http.stream("GET", f"/api/jobs/{job_id}/events", timeout=None) as r:
            event = ""
            for line in r.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    yield json.loads(line[5:])
                    if event == "end":
                        return
        yield self._call("GET", f"/api/jobs/{job_id}")


def _seq(value: Any) -> list[Any]:
    """None -> [], one value -> [it], a sequence -> its items (a string is one value)."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def where_fields(where: Mapping[str, Any] | None) -> dict[str, Any]:
    """Client.query's `where` as the API's filter fields (user spellings are parsed by the server)."""
    from mcrsearch.filters import parse_filters

    f = parse_filters(where)          # relative folders and dates are read here, on the caller's side
    out: dict[str, Any] = {}
    if f.under:
        out["under"] = list(f.under)
    if f.types:
        out["type"] = list(f.types)
    for key in ("modified_after", "modified_before", "min_duration", "max_duration", "min_points", "max_points",
                "min_width", "min_height"):
        value = getattr(f, key)
        if value is not None:
            out[key] = str(value)
    return out


def _read(path: str) -> bytes:
    from mcrsearch.errors import ConfigError

    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"The query file {p} does not exist.")
    return p.read_bytes()


def _like_value(value: str) -> str:
    """An indexed item by id as given, or by its absolute path (the server looks the path's id up)."""
    from mcrsearch.store import is_item_id

    return value if is_item_id(value) else os.path.abspath(Path(value).expanduser())
