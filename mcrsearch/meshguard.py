"""Declared sizes of mesh files, checked before trimesh allocates anything for them.

Why: a mesh loader sizes its arrays from the counts a file declares (PLY `element vertex N`, the OFF
counts line, a binary STL's triangle count, glTF accessor counts and buffer lengths). A 1 KB file can
declare a billion vertices; these checks refuse such a file with a reason while it is still a few bytes
in memory: each count must fit the element limit and the bytes the file (or its buffer) really holds.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from mcrsearch.errors import MediaError

_PLY_TYPE_BYTES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2,
                   "uint16": 2, "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4,
                   "double": 8, "float64": 8}
_HEADER_BYTES = 1 << 16
_GLTF_COMPONENT_BYTES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
_GLTF_TYPE_COUNT = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


def check_declared_sizes(path: Path, suffix: str, size: int, max_elements: int, data: bytes | None = None) -> None:
    """Raise MediaError when the file declares more elements than `max_elements` (0: no limit) or more
    data than it holds. Formats without declared counts pass; their parsers are bounded by the file size."""
    checks = {".ply": _ply, ".off": _off, ".stl": _stl, ".obj": _obj, ".glb": _glb, ".gltf": _gltf}
    check = checks.get(suffix)
    if check is None:
        return
    check(_Guard(path, size, max_elements, data))


class _Guard:
    """The file being checked: its path, size, limit and (lazily) its bytes."""

    def __init__(self, path: Path, size: int, max_elements: int, data: bytes | None) -> None:
        self.path, self.size, self.max_elements, self._data = path, size, max_elements, data

    def head(self, n: int = _HEADER_BYTES) -> bytes:
        if self._data is not None:
            return self._data[:n]
        with open(self.path, "rb") as fh:
            return fh.read(n)

    def data(self) -> bytes:
        if self._data is None:
            with open(self.path, "rb") as fh:
                self._data = fh.read()
        return self._data

    def fail(self, reason: str) -> None:
        raise MediaError(self.path, reason)

    def count(self, what: str, n: int) -> None:
        if n < 0:
            self.fail(f"corrupt header (negative {what} count {n})")
        if self.max_elements and n > self.max_elements:
            self.fail(f"declares {n:,} {what}, over the limit of {self.max_elements:,}")

    def fits(self, what: str, needed: int, available: int) -> None:
        if needed > available:
            self.fail(f"truncated file (its header declares {what} needing at least {needed:,} bytes, "
                      f"only {max(available, 0):,} are there)")


def _ply(g: _Guard) -> None:
    head = g.head()
    end = head.find(b"end_header")
    if not head.startswith(b"ply") or end < 0:
        return  # not a PLY header we can read: trimesh reports it
    body_start = head.find(b"\n", end)
    body = g.size - (body_start + 1 if body_start >= 0 else len(head))
    lines = head[:end].decode("ascii", errors="replace").splitlines()
    binary = any(line.startswith("format binary") for line in lines)
    elements: list[tuple[str, int, int]] = []     # (name, count, minimum bytes per element)
    for line in lines:
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "element":
            try:
                elements.append((parts[1], int(parts[2]), 0))
            except ValueError:
                g.fail(f"corrupt PLY header (element count {parts[2]!r})")
        elif len(parts) >= 3 and parts[0] == "property" and elements:
            name, count, per = elements[-1]
            if parts[1] == "list":      # a list: its count, then items (possibly none)
                step = _PLY_TYPE_BYTES.get(parts[2], 1) if binary else 2
            else:
                step = _PLY_TYPE_BYTES.get(parts[1], 1) if binary else 2
            elements[-1] = (name, count, per + step)
    needed = 0
    for name, count, per in elements:
        g.count(f"PLY {name} elements", count)
        needed += count * per
    g.fits("its elements", needed, body)


def _off(g: _Guard) -> None:
    tokens: list[str] = []
    for line in g.head(4096).decode("ascii", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            tokens.extend(line.split())
        if len(tokens) >= 4:
            break
    if not tokens or not tokens[0].upper().endswith("OFF"):
        return
    try:
        n_vertices, n_faces = int(tokens[1]), int(tokens[2])
    except (IndexError, ValueError):
        return  # trimesh reports a broken counts line
    g.count("vertices", n_vertices)
    g.count("faces", n_faces)
    g.fits(f"{n_vertices:,} vertices and {n_faces:,} faces", n_vertices * 6 + n_faces * 2, g.size)


def _stl(g: _Guard) -> None:
    head = g.head(84)
    if len(head) < 84 or head.lstrip().lower().startswith(b"solid"):
        if g.size and g.max_elements:   # ASCII STL: count the facets
            g.count("triangles", g.data().count(b"facet normal"))
        return
    (n_triangles,) = struct.unpack("<I", head[80:84])
    g.count("triangles", n_triangles)
    g.fits(f"{n_triangles:,} triangles", 84 + 50 * n_triangles, g.size)


def _obj(g: _Guard) -> None:
    if not g.max_elements:
        return
    data = g.data()
    g.count("vertices", data.count(b"\nv ") + data.startswith(b"v "))
    g.count("faces", data.count(b"\nf ") + data.startswith(b"f "))


def _glb(g: _Guard) -> None:
    head = g.head(20)
    if len(head) < 20 or head[:4] != b"glTF":
        return
    _, _, total, json_len, json_type = struct.unpack("<4sIIII", head)
    g.fits("a glTF container", total, g.size)
    g.fits("a JSON chunk", 20 + json_len, g.size)
    if json_type != 0x4E4F534A:
        g.fail("corrupt glTF binary (first chunk is not JSON)")
    data = g.data()
    doc = _json(g, data[20:20 + json_len])
    bin_at = 20 + json_len + (-json_len % 4)
    bin_len = struct.unpack("<I", data[bin_at:bin_at + 4])[0] if len(data) >= bin_at + 8 else 0
    if bin_len:
        g.fits("a binary chunk", bin_at + 8 + bin_len, g.size)
    _gltf_doc(g, doc, lambda i, buf: bin_len if i == 0 and "uri" not in buf else _uri_bytes(g, buf))


def _gltf(g: _Guard) -> None:
    doc = _json(g, g.data())
    _gltf_doc(g, doc, lambda i, buf: _uri_bytes(g, buf))


def _json(g: _Guard, raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        g.fail(f"corrupt glTF JSON ({str(exc)[:120]})")
    if not isinstance(doc, dict):
        g.fail("corrupt glTF JSON (not an object)")
    return doc


def _uri_bytes(g: _Guard, buf: dict[str, Any]) -> int:
    """Bytes a glTF buffer really has: a data: URI's payload, or the size of the file it names."""
    uri = buf.get("uri")
    if not isinstance(uri, str):
        return 0
    if uri.startswith("data:"):
        payload = uri.split(",", 1)[1] if "," in uri else ""
        return len(payload) * 3 // 4 if ";base64" in uri.split(",", 1)[0] else len(payload)

    target = (g.path.parent / unquote(uri)).resolve()
    try:
        return os.stat(target).st_size
    except OSError:
        g.fail(f"glTF refers to a missing file ({uri[:120]})")
    return 0


def _int(g: _Guard, value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        g.fail(f"corrupt glTF ({what} is {str(value)[:40]!r}, not a whole number)")
    if value < 0:
        g.fail(f"corrupt glTF (negative {what})")
    return int(value)


def _gltf_doc(g: _Guard, doc: dict[str, Any], available: Any) -> None:
    """Each buffer's byteLength must be there; each view inside its buffer; each accessor inside its view."""
    buffers = doc.get("buffers") or []
    views = doc.get("bufferViews") or []
    accessors = doc.get("accessors") or []
    if not all(isinstance(x, list) for x in (buffers, views, accessors)):
        g.fail("corrupt glTF (buffers, bufferViews or accessors is not a list)")
    lengths = []
    for i, buf in enumerate(buffers):
        if not isinstance(buf, dict):
            g.fail("corrupt glTF (a buffer is not an object)")
        length = _int(g, buf.get("byteLength", 0), "buffer byteLength")
        g.fits(f"a {length:,}-byte buffer", length, available(i, buf))
        lengths.append(length)
    view_lengths = []
    for view in views:
        if not isinstance(view, dict):
            g.fail("corrupt glTF (a bufferView is not an object)")
        index = _int(g, view.get("buffer", 0), "bufferView buffer")
        if index >= len(lengths):
            g.fail(f"corrupt glTF (bufferView refers to buffer {index}, there are {len(lengths)})")
        offset = _int(g, view.get("byteOffset", 0), "byteOffset")
        length = _int(g, view.get("byteLength", 0), "byteLength")
        g.fits("a buffer view", offset + length, lengths[index])
        view_lengths.append(length)
    for acc in accessors:
        if not isinstance(acc, dict):
            g.fail("corrupt glTF (an accessor is not an object)")
        count = _int(g, acc.get("count", 0), "accessor count")
        g.count("glTF accessor elements", count // 3 if acc.get("type") == "SCALAR" else count)
        if "bufferView" in acc:
            index = _int(g, acc["bufferView"], "accessor bufferView")
            if index >= len(view_lengths):
                g.fail(f"corrupt glTF (accessor refers to bufferView {index}, there are {len(view_lengths)})")
            item = _GLTF_COMPONENT_BYTES.get(acc.get("componentType"), 1) * _GLTF_TYPE_COUNT.get(acc.get("type"), 1)
            g.fits("an accessor", _int(g, acc.get("byteOffset", 0), "byteOffset") + count * item,
                   view_lengths[index])
