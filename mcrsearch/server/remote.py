"""`mcrsearch.Client`'s surface (mcrsearch.surface.SearchClient) answered by a running `mcrsearch serve`.

The CLI's `query`, `info` and `index` call it exactly as they call `mcrsearch.Client`, so their output is the
same whichever answers; the server does the work with its warm encoders and its open store. Its errors come
back as their own class (a bad query file is a `MediaError` here as there). tests/test_congruence.py runs
every operation on both clients and compares the answers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import httpx
import numpy as np

from mcrsearch.errors import ConfigError, McrError, RemoteError, from_wire
from mcrsearch.surface import QUERY_INPUTS, SearchClient, gather_inputs, many, query_arguments

if TYPE_CHECKING:
    from mcrsearch_indexer.report import IndexProgress, IndexReport

    from mcrsearch.duplicates import DuplicateGroup
    from mcrsearch.explain import HeatMap
    from mcrsearch.modality import Modality
    from mcrsearch.search import Hit, Item
    from mcrsearch.server.discovery import ServerInfo

SCROLL_PAGE = 500       # the server's largest /api/items page


class RemoteClient(SearchClient):
    """Speaks to one `mcrsearch serve` (found by mcrsearch.server.discovery).

    Args:
        server: the server's record (its URL and token).
        timeout: seconds to wait for one answer.
        http: an httpx.Client to send requests with instead (its base URL points at the server), e.g.
            FastAPI's TestClient over the app in this process.
    """

    def __init__(self, server: "ServerInfo | None" = None, timeout: float = 600.0, *,
                 http: httpx.Client | None = None) -> None:
        if server is None and http is None:
            raise ConfigError("A RemoteClient needs a server record or an HTTP client.")
        self.server = server
        headers = {"Authorization": f"Bearer {server.token}"} if server is not None and server.token else {}
        if http is None:
            assert server is not None
            http = httpx.Client(base_url=server.url, headers=headers, timeout=timeout)
        else:
            http.headers.update(headers)
        self._http = http
        self.url = server.url if server is not None else str(http.base_url)

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
            raise RemoteError(f"The mcrsearch server at {self.url} did not answer ({exc}); stop it or "
                              "rerun with --no-server.", 0) from exc
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {}
            raise from_wire(body if isinstance(body, dict) else {}, r.status_code)
        return r.json()

    # -- reading
    def info(self) -> dict[str, Any]:
        return self._call("GET", "/api/info")

    def retrieve(self, ids: Sequence[str]) -> list["Item"]:
        from mcrsearch.server.schemas import MAX_IDS, ItemList

        items: list["Item"] = []
        ids = list(ids)
        for start in range(0, len(ids), MAX_IDS):
            body = self._call("POST", "/api/items/retrieve", json={"ids": ids[start:start + MAX_IDS]})
            items += [i.to_item() for i in ItemList.model_validate(body).items]
        return items

    def scroll(self, modality: "str | Modality | None" = None, limit: int = 50, offset: int = 0) -> list["Item"]:
        from mcrsearch.server.schemas import ItemsPage

        if limit < 1 or offset < 0:
            raise ConfigError("limit must be at least 1 and offset zero or more.")
        items: list["Item"] = []
        while len(items) < limit:
            ask = min(SCROLL_PAGE, limit - len(items))
            body = self._call("GET", "/api/items", params={"modality": _name(modality), "limit": ask,
                                                           "offset": offset + len(items)})
            page = [i.to_item() for i in ItemsPage.model_validate(body).items]
            items += page
            if len(page) < ask:
                break
        return items

    def count(self, target: "str | Modality | None" = None) -> int:
        return int(self._call("GET", "/api/items/count", params={"modality": _name(target)})["count"])

    # -- searching
    def query(self, *args: Any, **kwargs: Any) -> list["Hit"]:
        """`mcrsearch.Client.query`, answered by the server: query files are uploaded (the server reads no
        path it is sent), indexed items go by id or absolute path, texts and vectors as fields."""
        from mcrsearch.server.schemas import SearchOut

        a = query_arguments(*args, **kwargs)
        given = gather_inputs(a)
        files: list[tuple[str, tuple[str, bytes]]] = []
        form: dict[str, Any] = {"target": _name(a["target"]), "k": str(a["k"]), "offset": str(a["offset"]),
                                "weight": [f"{_name(m)}={float(w)!r}" for m, w in (a["weights"] or {}).items()]}
        labels: dict[str, str] = {}        # an upload's label in the server's hits -> as Client labels it
        for name, kind in QUERY_INPUTS.items():
            values = [v for v in given[name] if not (isinstance(v, str) and not v.strip())]   # as the server does
            if kind.is_file:
                for v in values:
                    files.append((name, _upload(v)))
                    sign = "not " if kind.negative else ""
                    if isinstance(v, (str, Path)):
                        labels.setdefault(sign + files[-1][1][0], sign + str(v))
            else:
                form[name] = [_like_value(str(v)) if kind.is_like else str(v) for v in values]
        if a["space"]:
            form["space"] = a["space"]
        if a["min_score"] is not None:
            form["min_score"] = repr(float(a["min_score"]))
        form.update(where_fields(a["where"]))
        if a["vectors"]:          # a file part: a vector's JSON outgrows the cap on a form field
            data = json.dumps({_name(m): [float(x) for x in _flat(v)] for m, v in a["vectors"].items()})
            files.append(("vectors", ("vectors.json", data.encode())))
        body = self._call("POST", "/api/search", data=form, files=files or None)
        hits = [h.to_hit() for h in SearchOut.model_validate(body).hits]
        for hit in hits:          # the server names an uploaded file by its name; Client by the path given
            for part in hit.inputs:
                _relabel(part, labels)
        return hits

    def explain(self, image: Any = None, points: Any = None, *, item: str | None = None, audio: Any = None,
                text: str | None = None, like: "str | Path | None" = None, space: str | None = None,
                method: str = "", overlay: bool = False, at: float | None = None) -> "HeatMap":
        """`mcrsearch.Client.explain`, answered by the server: files are uploaded, indexed items go by id or
        absolute path (the server takes ids only: a path is looked up here first)."""
        from mcrsearch.server.schemas import ExplainOut

        form: dict[str, Any] = {"method": method, "overlay": "true" if overlay else "false"}
        if at is not None:
            form["at"] = repr(float(at))
        for key, value in (("text", text), ("space", space)):
            if value is not None:
                form[key] = value
        for key, given in (("like", like), ("item", item)):
            if given is not None:
                form[key] = self._item_id(str(given))
        files = [(name, _upload(v)) for name, v in (("image", image), ("points", points), ("audio", audio))
                 if v is not None]
        body = self._call("POST", "/api/explain", data=form, files=files or None)
        return ExplainOut.model_validate(body).to_heat_map()

    def _item_id(self, value: str) -> str:
        """An indexed item's id: as given, or the id of the indexed file at that path."""
        from mcrsearch.store import is_item_id, point_id

        if is_item_id(value):
            return value
        return point_id(os.path.abspath(Path(value).expanduser()))

    # -- writing
    def delete(self, paths: Iterable[str | Path]) -> int:
        from mcrsearch.server.schemas import MAX_IDS

        targets = [os.path.abspath(Path(p).expanduser()) for p in paths]
        return sum(int(self._call("POST", "/api/items/delete", json={"paths": targets[i:i + MAX_IDS]})["removed"])
                   for i in range(0, len(targets), MAX_IDS))

    # -- duplicates and saved searches
    def duplicates(self, modality: "str | Modality | None" = None, threshold: float | None = None,
                   near: bool = True, space: str | None = None) -> list["DuplicateGroup"]:
        """As Client.duplicates, answered by the server (its own space)."""
        from mcrsearch.duplicates import DuplicateGroup

        params: dict[str, Any] = {"modality": _name(modality), "identical": str(not near).lower(), "limit": 1000}
        if threshold is not None:
            params["threshold"] = repr(float(threshold))
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
                spec[key] = [_like_value(str(v)) for v in many(spec[key])]
        if "weights" in spec:
            spec["weights"] = {_name(m): w for m, w in dict(spec["weights"]).items()}
        return self._call("POST", "/api/saved", json={"name": name, "query": spec})

    def run_saved(self, name: str, k: int | None = None) -> list["Hit"]:
        from mcrsearch.server.schemas import HitOut

        body = self._call("POST", f"/api/saved/{name}/run", params={"k": k} if k else None)
        return [HitOut.model_validate(h).to_hit() for h in body["hits"]]

    def delete_saved(self, name: str) -> bool:
        try:
            self._call("DELETE", f"/api/saved/{name}")
        except McrError as exc:
            if exc.http_status == 404 or getattr(exc, "status", None) == 404:
                return False
            raise
        return True

    def index(self, path: str | Path, space: str | None = None, *,
              progress: "Callable[[IndexProgress], None] | None" = None,
              cancel: Callable[[], bool] | None = None, ray: str | bool | None = None,
              rebuild: bool = False) -> "IndexReport":
        """Run the folder as a job in the server, follow its progress, return its report.

        Interrupted (Ctrl-C), the job is cancelled in the server too. Ray and rebuilds run on the direct path.
        """
        from mcrsearch_indexer.report import Failure, IndexProgress, IndexReport

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
            raise from_wire({"detail": job["error"] or "The index job failed.", "error": job.get("error_type")}, 409)
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


def _name(value: Any) -> str:
    """A modality (enum or spelling) or 'any' as the server reads it."""
    return "any" if value is None else str(getattr(value, "value", value))


def where_fields(where: Any) -> dict[str, Any]:
    """Client.query's `where` as the API's filter fields (relative folders and dates are read here, on the
    caller's side; the server parses the rest)."""
    from mcrsearch.filters import parse_filters

    f = parse_filters(where)
    out: dict[str, Any] = {}
    if f.under:
        out["under"] = list(f.under)
    if f.types:
        out["type"] = list(f.types)
    for key in ("modified_after", "modified_before", "min_duration", "max_duration", "min_points", "max_points",
                "min_width", "min_height"):
        value = getattr(f, key)
        if value is not None:
            out[key] = repr(value) if isinstance(value, float) else str(value)
    return out


def _relabel(part: dict[str, Any], labels: dict[str, str]) -> None:
    """An input's label with the uploaded file's name put back as the path given (a video's two inputs are
    labelled 'NAME (picture)' and 'NAME (sound)')."""
    label = str(part.get("input", ""))
    for served, given in labels.items():
        if label == served or label.startswith(served + " ("):
            part["input"] = given + label[len(served):]
            return


def _upload(value: Any) -> tuple[str, bytes]:
    """A query file as (name, bytes) to upload: a path read here, or an upload already in bytes."""
    from mcrsearch.search import MediaBytes

    if isinstance(value, MediaBytes):
        return value.name, value.data
    if not isinstance(value, (str, Path)):
        raise ConfigError("A running `mcrsearch serve` takes query files as paths or MediaBytes, not decoded "
                          "media; pass the file, or add --no-server.")
    p = Path(value).expanduser()
    if not p.is_file():
        raise ConfigError(f"The query file {p} does not exist.")
    return p.name, p.read_bytes()


def _like_value(value: str) -> str:
    """An indexed item by id as given, or by its absolute path (the server looks the path's id up); a video's
    moment (`@SECONDS`) stays attached."""
    from mcrsearch.search import split_moment
    from mcrsearch.store import is_item_id

    item, at = split_moment(str(value))
    moment = str(value)[len(item):] if at is not None else ""
    return (item if is_item_id(item) else os.path.abspath(Path(item).expanduser())) + moment


def _flat(vector: Any) -> list[Any]:
    return np.asarray(vector, dtype=np.float64).ravel().tolist()
