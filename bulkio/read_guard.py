"""Look at a workbook before a parser does: refuse what would blow up.

python-calamine (Rust) is fast, but it trusts the file. It builds a *dense* grid from the first to
the last cell it sees: one cell at A1 and one at XFD1048576 would ask for 17 billion cells. It
loads every shared string when the workbook opens, and for .xls and .ods every sheet as well. So
before calamine sees a file, this module streams the parts it will parse and works out what
calamine would need. Only then does it hand the file over.

* **Zip packages** (.xlsx, .ods): it counts the entries from the end-of-central-directory record,
  before :mod:`zipfile` builds one object per entry. It checks the declared sizes and compression
  ratios, streams each XML part through :mod:`zipfile`, which stops at the declared size and checks
  the CRC, so a part cannot lie about its size. It refuses any ``<!DOCTYPE``/``<!ENTITY``.
* **Shared strings** (.xlsx): their count and size.
* **The cells** of the chosen sheet (.xlsx) or of every sheet (.xls, .ods): :mod:`bulkio.read_scan`.

:func:`estimate` turns these facts into bytes, using figures measured on python-calamine 0.9
(bench/README.md). A file over ``ReadLimits.max_workbook_bytes`` is refused with one line that
gives the size and suggests CSV, which bulkio streams in constant memory.
"""

from __future__ import annotations

import html
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .errors import InputFileError

_CHUNK = 1024 * 1024
#: One worksheet row (or cell) bigger than this is refused before it is buffered.
MAX_PIECE_BYTES = 64 * 1024 * 1024
#: Formula-without-value and error cells noted per sheet; beyond, the sheet is refused.
MAX_FLAGS = 100_000
#: Calamine's cost of a cell in its dense grid, and of a cell it parsed, in bytes (measured).
DENSE_CELL_BYTES = 32
PARSED_CELL_BYTES = 48
STRING_OVERHEAD_BYTES = 56


@dataclass(frozen=True, kw_only=True)
class ReadLimits:
    """How much a file may ask of the reader. The defaults keep any input, hostile or not,
    within about 10 s and 300 MB on a small machine. Raise them for big workbooks when memory
    allows, e.g. ``open_table(path, limits=ReadLimits(max_workbook_bytes=2 * 1024**3))``."""

    #: Estimated peak memory of parsing one workbook (all its parsed sheets and strings).
    max_workbook_bytes: int = 200 * 1024**2
    #: Columns in a header row (Excel stops at 16,384, Google Sheets at 18,278).
    max_columns: int = 32_768
    #: One physical CSV line, in bytes (a cell is at most ``MAX_CELL_CHARS`` characters anyway).
    max_line_bytes: int = 32 * 1024**2
    #: Entries in a zip package.
    max_zip_entries: int = 10_000
    #: One uncompressed zip part, and all of them together.
    max_part_bytes: int = 512 * 1024**2
    max_total_bytes: int = 1024**3
    #: Compression ratio allowed for parts above ``ratio_min_bytes`` (zip bombs).
    max_ratio: int = 200
    ratio_min_bytes: int = 16 * 1024**2
    #: An .xls file (BIFF is not compressed, so this bounds the work of reading it).
    max_xls_bytes: int = 256 * 1024**2
    #: Data read from standard input (spooled to a temporary file).
    max_stdin_bytes: int = 2 * 1024**3
    #: A web page or an Excel 2003 XML Spreadsheet saved as a workbook (parsed whole, in Python).
    max_markup_bytes: int = 64 * 1024**2


DEFAULT_LIMITS = ReadLimits()


# --- facts gathered about a workbook -------------------------------------------------------------


@dataclass(slots=True)
class CellFlag:
    """A cell whose value the parser hides: a formula with no saved value, or an error value."""

    code: str  # formula_without_value | cell_error
    detail: str  # the formula (``=A1*2``) or the error (``#N/A``)


@dataclass
class SheetFacts:
    """What the scan found in one sheet; rows and columns are 0-based."""

    rows: int = 0  # bound on the last used row + 1
    cols: int = 0  # bound on the last used column + 1
    cells: int = 0  # cells present in the file
    string_bytes: int = 0  # bound on the text the sheet holds itself (inline strings, .xls labels)
    flags: dict[int, dict[int, CellFlag]] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1
    nflags: int = 0

    @property
    def dense(self) -> int:
        return self.rows * self.cols

    def flag(self, row: int, col: int, code: str, detail: str) -> None:
        if self.nflags >= MAX_FLAGS:
            raise _TooManyFlags(code)
        self.flags.setdefault(row, {})[col] = CellFlag(code, detail)
        self.nflags += 1


class _TooManyFlags(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


def estimate(facts: SheetFacts, *, per_cell: int = 1) -> int:
    """Peak bytes python-calamine needs to parse a sheet (see module doc). ``per_cell`` is 2 for
    .xls and .ods, where calamine also keeps a grid of formula texts."""
    return per_cell * (facts.dense * DENSE_CELL_BYTES + facts.cells * PARSED_CELL_BYTES) + facts.string_bytes


def too_big(name: str, what: str, need: int, limits: ReadLimits) -> InputFileError:
    """The one line for a workbook that would take too much memory: ``what`` says why."""
    return InputFileError(
        f"refused: {what}, which would need about {need / 1024**2:,.0f} MB to read as a workbook "
        f"(the limit is {limits.max_workbook_bytes / 1024**2:,.0f} MB); save it as CSV (UTF-8), "
        "which bulkio reads in constant memory",
        path=name,
    )


def size_text(n: int) -> str:
    """``10 bytes``, ``512 KB``, ``2 GB``: a size for a message."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:,.0f} {unit}"
    return f"{n:,} bytes"


def column_index(letters: bytes | str) -> int:
    """``b"A"`` -> 0, ``b"AB"`` -> 27."""
    n = 0
    for ch in letters.encode() if isinstance(letters, str) else letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _letters(col: int) -> str:
    s = ""
    col += 1
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


def cell_name(row: int, col: int) -> str:
    """0-based (row, col) -> ``B3``."""
    return f"{_letters(col)}{row + 1}"


# --- zip packages ----------------------------------------------------------------------------------

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))


def _zip_entry_count(p: Path) -> int | None:
    """Entries declared by the end-of-central-directory record (None when it cannot be found)."""
    size = p.stat().st_size
    with open(p, "rb") as fh:
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        return None
    count = int(struct.unpack_from("<H", tail, at + 10)[0])
    loc = tail.rfind(_EOCD64_LOCATOR, 0, at)
    if count == 0xFFFF and loc >= 0 and loc + 20 <= len(tail):
        offset = struct.unpack_from("<Q", tail, loc + 8)[0]
        with open(p, "rb") as fh:
            fh.seek(offset)
            rec = fh.read(56)
        if rec[:4] == b"PK\x06\x06" and len(rec) >= 40:
            return int(struct.unpack_from("<Q", rec, 32)[0])
    return count


def open_zip(p: Path, name: str, limits: ReadLimits, *, kind: str) -> zipfile.ZipFile:
    """Open a zip package after checking its entry count, sizes and compression ratios."""
    try:
        count = _zip_entry_count(p)
    except OSError as exc:
        raise InputFileError(f"cannot read the file ({exc.strerror or exc})", path=name) from None
    if count is not None and count > limits.max_zip_entries:
        raise InputFileError(
            f"refused: the {kind} package holds {count:,} parts (at most {limits.max_zip_entries:,} "
            "are read); it is not a normal workbook",
            path=name,
        )
    try:
        zf = zipfile.ZipFile(p)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, struct.error) as exc:
        raise InputFileError(
            f"not an {kind} workbook: the zip structure is damaged or truncated ({exc})", path=name
        ) from None
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.max_part_bytes or (
            info.file_size > limits.ratio_min_bytes and ratio > limits.max_ratio
        ):
            zf.close()
            raise InputFileError(
                f"refused: workbook part {info.filename} would expand to {info.file_size:,} bytes "
                f"(ratio {ratio:.0f}:1); it looks like a zip bomb",
                path=name,
            )
    if total > limits.max_total_bytes:
        zf.close()
        raise InputFileError(
            f"refused: the workbook would expand to {total:,} bytes; it looks like a zip bomb", path=name
        )
    return zf


def stream_part(zf: zipfile.ZipFile, member: str, name: str) -> Iterator[bytes]:
    """Yield a part's bytes in chunks; any DTD or entity declaration is refused. zipfile stops at
    the declared size and raises on a CRC mismatch, so a fully read part is what it claims."""
    tail = b""
    try:
        with zf.open(member) as fh:
            while chunk := fh.read(_CHUNK):
                window = tail + chunk[:64]
                if any(f in chunk or f in window for f in _FORBIDDEN):
                    raise InputFileError(
                        f"refused: workbook part {member} declares a DTD or entities, which are "
                        "forbidden for safety (XML entity attacks); expected a plain workbook",
                        path=name,
                    )
                tail = chunk[-64:]
                yield chunk
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib and lzma raise many types on damage
        raise InputFileError(
            f"not a readable workbook: part {member} is damaged ({type(exc).__name__}: {exc})", path=name
        ) from None


def read_part(zf: zipfile.ZipFile, member: str, name: str, *, limit: int = 16 * 1024**2) -> bytes:
    """A small XML part, whole (checked like :func:`stream_part`)."""
    out = bytearray()
    for chunk in stream_part(zf, member, name):
        out += chunk
        if len(out) > limit:
            raise InputFileError(f"refused: workbook part {member} is larger than {limit:,} bytes", path=name)
    return bytes(out)


#: A part that is neither a worksheet nor the shared strings (styles, workbook, relationships…).
MAX_SMALL_PART_BYTES = 32 * 1024**2


def verify_parts(zf: zipfile.ZipFile, name: str, *, skip: set[str]) -> None:
    """Stream every XML part not in ``skip`` once: sizes, CRCs and DTDs are checked. These parts
    (styles, workbook, relationships) are parsed whole by calamine, so they must stay small."""
    for info in zf.infolist():
        lower = info.filename.lower()
        if info.filename in skip or info.is_dir() or not lower.endswith((".xml", ".rels")):
            continue
        if info.file_size > MAX_SMALL_PART_BYTES:
            raise InputFileError(
                f"refused: workbook part {info.filename} is {size_text(info.file_size)} (at most "
                f"{size_text(MAX_SMALL_PART_BYTES)} are read); it is not a normal workbook",
                path=name,
            )
        for _ in stream_part(zf, info.filename, name):
            pass


_ATTRS = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def tags(data: bytes, local: bytes) -> Iterator[dict[str, str]]:
    """The attributes of every ``<local ...>`` element (any namespace prefix) of a small part.

    A regular expression, not a tree: the parts read this way (workbook, relationships, tables)
    need only attributes, and a deeply nested hostile part cannot make a regex build a huge tree.
    The part was already checked for DTDs by :func:`stream_part`."""
    pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?" + re.escape(local) + rb"(?=[\s/>])([^>]*)>")
    for m in pattern.finditer(data):
        yield {
            k.decode("utf-8", "replace"): html.unescape((v if v or not w else w).decode("utf-8", "replace"))
            for k, v, w in _ATTRS.findall(m.group(1))
        }


# --- shared strings (.xlsx) ------------------------------------------------------------------------


def scan_shared_strings(zf: zipfile.ZipFile, member: str, name: str, limits: ReadLimits) -> tuple[int, int]:
    """(count, bytes) of the shared-string table, refusing as soon as it alone is too big."""
    count = size = 0
    for chunk in stream_part(zf, member, name):
        count += chunk.count(b"<si>") + chunk.count(b"<si ") + chunk.count(b":si>") + chunk.count(b":si ")
        size += len(chunk)
        need = count * STRING_OVERHEAD_BYTES + size
        if need > limits.max_workbook_bytes:
            what = f"the shared-string table holds {count:,}+ strings ({size:,}+ bytes)"
            raise too_big(name, what, need, limits)
    return count, size


# --- spooling standard input -----------------------------------------------------------------------


def spool(source: IO[bytes], dest: IO[bytes], name: str, limit: int) -> int:
    """Copy ``source`` into ``dest`` up to ``limit`` bytes; more is refused."""
    total = 0
    while chunk := source.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise InputFileError(
                f"refused: the input is larger than {size_text(limit)}; save it to a file and import the file",
                path=name,
            )
        dest.write(chunk)
    dest.flush()
    return total


__all__ = ["DEFAULT_LIMITS", "ReadLimits"]
