"""Explain a match: where a sound, a text or an indexed item's vector lights up a picture (or a shape).

The picture is an indexed item (by id: read only while it still is the file that was indexed, see
`safefile`) or an upload; the query is a text, an indexed item (`like`, by id) or an uploaded sound.
One request costs one part-level pass of the image (or 3D) encoder and two query embeddings; uploads are
capped like search uploads, texts and ids by length. An indexed video is explained at one frame (`at`): one
seek and one decoded frame under the indexer's caps and decode deadline, read where the file lies (as a
hit's poster is) only while it still is what was indexed.
"""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from mcrsearch.api import Client
from mcrsearch.config import Settings
from mcrsearch.errors import ConfigError
from mcrsearch.search import MediaBytes
from mcrsearch.server.deps import find_item, get_client, get_settings, require_token
from mcrsearch.server.routers.search import MAX_LIKE_CHARS, MAX_TEXT_CHARS, read_upload
from mcrsearch.server.safefile import open_indexed, read_indexed
from mcrsearch.server.schemas import ExplainOut

router = APIRouter(prefix="/api", tags=["explain"], dependencies=[Depends(require_token)])


def _explain(client: Client, item: Optional[str], image: Optional[MediaBytes], points: Optional[MediaBytes],
             audio: Optional[MediaBytes], text: Optional[str], like: Optional[str], space: Optional[str],
             method: str, overlay: bool, at: Optional[float] = None) -> ExplainOut:
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise ConfigError(f"A query text may have at most {MAX_TEXT_CHARS} characters.")
    if like is not None:
        like = find_item(client, like[:MAX_LIKE_CHARS]).id           # by id only: the server reads no path sent
    subject_image, subject_points = image, points
    if item is not None:
        it = find_item(client, item[:MAX_LIKE_CHARS])
        if it.modality == "video":
            open_indexed(it).close()                # only while it still is the file that was indexed
            heat = client.explain(item=it.id, audio=audio, text=text, like=like, space=space or None,
                                  method=method, overlay=overlay, at=at or 0.0)
            return ExplainOut.of(heat)
        data = MediaBytes(it.path.rsplit("/", 1)[-1], read_indexed(it, int(client.settings.max_file_mb * 2**20)))
        if it.modality == "image":
            subject_image = data
        elif it.modality == "3d":
            subject_points = data
        else:
            raise ConfigError(f"Item {it.id} is {it.modality}; only pictures, 3D shapes and video frames can be "
                              "explained.")
    if at is not None:
        raise ConfigError("A time (at) picks a frame of an indexed video; pictures and shapes have none.")
    heat = client.explain(image=subject_image, points=subject_points, audio=audio, text=text, like=like,
                          space=space or None, method=method, overlay=overlay)
    return ExplainOut.of(heat)


@router.post("/explain", response_model=ExplainOut)
async def explain(item: Optional[str] = Form(None), text: Optional[str] = Form(None),
                  like: Optional[str] = Form(None), space: Optional[str] = Form(None), method: str = Form(""),
                  overlay: bool = Form(False), at: Optional[float] = Form(None, ge=0, le=10**6),
                  image: Optional[UploadFile] = File(None),
                  points: Optional[UploadFile] = File(None), audio: Optional[UploadFile] = File(None),
                  client: Client = Depends(get_client), settings: Settings = Depends(get_settings)) -> ExplainOut:
    """Heat map and verdict: the subject is `item` (an indexed picture or shape, by id) or an uploaded
    `image` / `points`, or a video's frame at `at` seconds; the query is `text`, `like` (an indexed item's id) or an uploaded `audio`."""
    limit = int(settings.max_upload_mb * 2**20)
    files = {name: None if f is None else await read_upload(f, limit)
             for name, f in (("image", image), ("points", points), ("audio", audio))}
    return await run_in_threadpool(_explain, client, item or None, files["image"], files["points"], files["audio"],
                                   text or None, like or None, space, method, overlay, at)
