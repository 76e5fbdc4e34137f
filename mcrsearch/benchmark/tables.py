"""CSV annotation files as people have them: any encoding, `,` `;` or tab delimited, with bad rows.

A row that cannot be read (more fields than the header, e.g. an unquoted comma inside a caption)
costs that row only, reported with its line number; the rest of the file is read. The encoding is
UTF-8 when the bytes are valid UTF-8 and detected by charset-normalizer otherwise, and the reader
says which one was used, as it says which delimiter it found.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from charset_normalizer import from_bytes

if TYPE_CHECKING:
    from mcrsearch.benchmark.dataset import Dataset

_DELIMITERS = ",;\t|"
# Legacy encodings spreadsheets and old tools save most often (Windows code pages first). On a short
# file the detector finds several encodings nearly as plausible (a 5-line French CSV scores a Baltic
# DOS page best); among those within _NEAR of the best, the most common one wins.
_COMMON = ("cp1252", "latin_1", "iso8859_15", "gb18030", "gbk", "gb2312", "cp932", "shift_jis", "euc_jp",
           "big5", "cp949", "euc_kr", "cp1251", "koi8_r", "cp1250", "iso8859_2", "cp1253", "cp1254",
           "cp1256", "cp1255", "cp874", "cp1258")
_NEAR = 0.05


@dataclass
class Table:
    """Rows as column -> value (stripped), each with the physical line number it starts on."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)   # (line, reason)
    error: str | None = None                                        # the whole file could not be read

    def describe(self) -> str:
        """'utf-8, ',' delimited' for the report's list of files read."""
        shown = {"\t": "tab", ",": "','", ";": "';'", "|": "'|'"}.get(self.delimiter, repr(self.delimiter))
        return f"{self.encoding}, {shown} delimited"


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 (with or without BOM) when valid, else the detector's best guess."""
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass

    matches = list(from_bytes(data))
    if not matches:
        raise UnicodeError("the encoding could not be detected (not UTF-8 and no other encoding fits)")
    best = min(m.chaos for m in matches)
    near = [m for m in matches if m.chaos <= best + _NEAR]
    rank = {name: n for n, name in enumerate(_COMMON)}
    pick = min(near, key=lambda m: (rank.get(m.encoding, len(rank)), m.chaos))
    return str(pick), str(pick.encoding)


def _delimiter(text: str, expect: tuple[str, ...] = ()) -> str:
    """The delimiter that splits the header into the `expect`ed columns, else csv.Sniffer's guess."""
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    if expect:
        for d in _DELIMITERS:
            fields = {f.strip().strip('"') for f in header.split(d)}
            if all(c in fields for c in expect):
                return d
    sample = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_table(path: Path, expect: tuple[str, ...] = ()) -> Table:
    """Read a CSV file whatever its encoding and delimiter; never raises for its content.

    `expect`: column names the header should have, which settle the delimiter when they are found."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Table(path, "?", ",", error=f"unreadable file ({exc.strerror or exc})")
    try:
        text, encoding = decode_text(data)
    except UnicodeError as exc:
        return Table(path, "?", ",", error=str(exc))
    delimiter = _delimiter(text, expect)
    table = Table(path, encoding, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for fields in reader:
            start, line = line, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue
            if not table.header:
                table.header = [f.strip() for f in fields]
                continue
            while len(fields) > len(table.header) and not fields[-1].strip():
                fields = fields[:-1]                # a trailing delimiter (Excel exports) is not data
            if len(fields) > len(table.header):
                table.bad_rows.append((start, f"row has {len(fields)} fields but the header has "
                                              f"{len(table.header)} (an unquoted '{delimiter}' inside a value?)"))
                continue
            values = [f.strip() for f in fields] + [""] * (len(table.header) - len(fields))
            table.rows.append((start, dict(zip(table.header, values))))
    except csv.Error as exc:                        # e.g. a NUL byte: the rest of the file is unreadable
        table.bad_rows.append((line, f"unreadable from this line on ({exc})"))
    return table


def load_rows(ds: "Dataset", path: Path, role: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Read a dataset's CSV into `ds`: the file goes to `ds.sources`, each bad row to `ds.problems`
    as `path:line`, a non-UTF-8 encoding or unusual delimiter to `ds.notes`. Returns (line, row) pairs
    that have every `required` column filled."""
    table = read_table(path, required)
    if table.error:
        ds.missing(path, f"unreadable CSV: {table.error}")
        return []
    ds.read_from(role, path, table.describe())
    if table.encoding not in ("utf-8", "utf-8-sig", "ascii"):
        ds.notes.append(f"{path.name} is not UTF-8; read it as {table.encoding} (detected by charset-normalizer)")
    if table.delimiter != ",":
        ds.notes.append(f"{path.name} is {table.describe().split(', ', 1)[1]}, not comma delimited")
    lacking = [c for c in required if c not in table.header]
    if lacking:
        ds.missing(path, f"CSV lacks the column(s) {', '.join(lacking)} (header: {', '.join(table.header)})")
        return []
    for line, reason in table.bad_rows:
        ds.missing(f"{path}:{line}", reason)
    out = []
    for line, row in table.rows:
        empty = [c for c in required if not row.get(c)]
        if empty:
            ds.missing(f"{path}:{line}", f"row has no {', '.join(empty)}")
            continue
        out.append((line, row))
    return out
