"""Read a CSV file: its encoding, its delimiter, its rows, within limits.

**Encoding**, in this order (``encoding=`` skips it all):

1. a byte order mark: UTF-8, UTF-16 or UTF-32;
2. UTF-16 without a mark, when every other byte is zero;
3. UTF-8 when every byte sequence in the file is valid UTF-8;
4. mostly UTF-8 with a few single bytes that are not (a UTF-8 file that someone edited in a
   Windows-1252 program, or two exports pasted together): each stray byte is read as
   Windows-1252 and the row gets an ``encoding_repaired`` warning that shows what was read.
   Stray bytes that do not read as Latin letters are refused with the line;
5. Windows-1252 when the non-ASCII bytes stand alone among ASCII letters, as accents do in Western
   European text (``encoding_guessed`` warning that shows a sample: pass ``--encoding`` when the
   letters look wrong, e.g. ``cp1250`` for Polish);
6. otherwise charset-normalizer (Shift-JIS/cp932, GB18030, Big5, EUC-KR, Cyrillic and Greek code
   pages…): used when it is sure, with ``encoding_guessed``; refused when two readings are as
   plausible, naming the encodings to pass.

A guess never reads silently: there is always a warning, or an error that says what to pass.

**Limits**: a physical line longer than ``ReadLimits.max_line_bytes`` and a header with more than
``ReadLimits.max_columns`` columns are refused before the rows are buffered. A field longer than
``CSV_FIELD_LIMIT`` stops the read. A cell longer than ``MAX_CELL_CHARS`` is dropped with a
``cell_too_large`` error on its row.
"""

from __future__ import annotations

import codecs
import csv
import io
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import InputFileError
from .issues import Issue
from .read import (
    DELIMITERS,
    MAX_CELL_CHARS,
    SourceTable,
    _clean_csv,
    _Scan,
    _start,
    _take,
    column_letter,
)
from .read_guard import ReadLimits
from .sheets import FORMULA_TRIGGERS

_SAMPLE = 64 * 1024
#: The ``encoding`` of a mostly-UTF-8 file whose stray bytes are read as Windows-1252.
MIXED = "utf-8+cp1252"
_DETECT_BYTES = 256 * 1024
#: Encodings charset-normalizer may name, with how to say them to a person.
_LABELS = {
    "cp932": "Shift-JIS (cp932)",
    "shift_jis": "Shift-JIS",
    "euc_jp": "EUC-JP",
    "euc_jis_2004": "EUC-JP (euc_jis_2004)",
    "gb18030": "GB18030 (Simplified Chinese)",
    "gb2312": "GB2312 (Simplified Chinese)",
    "big5": "Big5 (Traditional Chinese)",
    "euc_kr": "EUC-KR (Korean)",
    "cp949": "cp949 (Korean)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "koi8_r": "KOI8-R (Cyrillic)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1255": "Windows-1255 (Hebrew)",
    "cp1256": "Windows-1256 (Arabic)",
    "cp874": "Windows-874 (Thai)",
}
#: Latin-script single-byte code pages: charset-normalizer cannot tell these apart on CSV-sized
#: samples (it names cp775 for a French cp1252 file), so they never count as a confident answer.
_LATIN = {
    "cp1250",
    "cp1252",
    "cp1254",
    "cp1257",
    "cp1258",
    "cp437",
    "cp775",
    "cp850",
    "cp852",
    "cp858",
    "cp860",
    "cp861",
    "cp863",
    "cp865",
    "latin_1",
    "iso8859_2",
    "iso8859_3",
    "iso8859_4",
    "iso8859_9",
    "iso8859_10",
    "iso8859_13",
    "iso8859_14",
    "iso8859_15",
    "iso8859_16",
    "mac_latin2",
    "mac_roman",
    "mac_iceland",
    "mac_turkish",
    "hp_roman8",
}
_NON_ASCII = re.compile(rb"[\x80-\xff]+")
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


# --- encoding ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Encoding:
    """How to decode a file: ``codec`` for :func:`open`, or ``mixed`` for the line-by-line repair."""

    codec: str
    guessed: bool = False
    mixed: bool = False
    sample: str = ""  # some non-ASCII text as read, shown in the warning


#: What Windows-1252 bytes spell in Western European text: accented letters and a few signs.
_WESTERN_SIGNS = frozenset("ŒœŠšŽžŸ€£¥©®°±µ·«»‘’“”–—…§¢ªº\xa0")


def _latin_run(run: bytes) -> bool:
    """A short run of non-UTF-8 bytes that Windows-1252 reads as Western European letters or
    signs: accents stand alone among ASCII letters. Shift-JIS or GB bytes read that way give
    ``ƒ``, ``¿``, ``½``…; Cyrillic or Greek code pages give whole words of non-ASCII bytes."""
    if len(run) > 3 or any(b in _CP1252_UNDEFINED for b in run):
        return False
    return all(
        ("\xc0" <= ch <= "\xff" and ch.isalpha()) or ch in _WESTERN_SIGNS for ch in run.decode("cp1252")
    )


def _mixed_decode(data: bytes) -> tuple[str, int]:
    """UTF-8 where the bytes are UTF-8, Windows-1252 for each run that is not; returns the text
    and how many runs were repaired."""
    repaired = 0
    out: list[str] = []
    pos = 0
    for m in _NON_ASCII.finditer(data):
        out.append(data[pos : m.start()].decode("ascii"))
        run = m.group()
        pos = m.end()
        try:
            out.append(run.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        text = run.decode("utf-8", "surrogateescape")
        fixed = []
        for ch in text:
            if "\udc80" <= ch <= "\udcff":
                fixed.append(bytes([ord(ch) - 0xDC00]).decode("cp1252", "replace"))
            else:
                fixed.append(ch)
        repaired += 1
        out.append("".join(fixed))
    out.append(data[pos:].decode("ascii"))
    return "".join(out), repaired


@dataclass(slots=True)
class _Strays:
    """What a file that is not valid UTF-8 holds: valid multi-byte sequences, runs that are
    not UTF-8 (the first few with their line), and whether every such run reads as Latin."""

    valid: int = 0
    invalid: int = 0
    latin: bool = True
    firsts: list[tuple[int, bytes]] = field(default_factory=list)


def _strays(p: Path) -> _Strays:
    out = _Strays()
    line = 1
    carry = b""
    with open(p, "rb") as fh:
        while True:
            chunk = fh.read(1024 * 1024)
            buf = carry + chunk
            cut = (buf.rfind(b"\n") + 1 or len(buf)) if chunk else len(buf)
            piece, carry = buf[:cut], buf[cut:]
            last = 0
            for m in _NON_ASCII.finditer(piece):
                run = m.group()
                try:
                    run.decode("utf-8")
                    out.valid += 1
                except UnicodeDecodeError:
                    out.invalid += 1
                    if out.latin and not _latin_run(run):
                        out.latin = False
                    if len(out.firsts) < 5:
                        line += piece.count(b"\n", last, m.start())
                        last = m.start()
                        out.firsts.append((line, run))
            line += piece.count(b"\n", last)
            if not chunk:
                return out


def detect_encoding(p: Path, name: str, scan: _Scan) -> Encoding:
    """Decide how to decode a CSV file that came without ``encoding=`` (see the module doc)."""
    head = scan.head
    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig")
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return Encoding("utf-32")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16")
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 4 >= len(sample):
        odd_zero = sample[1::2].count(0)
        even_zero = sample[0::2].count(0)
        return Encoding("utf-16-le" if odd_zero >= even_zero else "utf-16-be", guessed=True)
    if scan.utf8:
        return Encoding("utf-8")
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 0))
    if controls * 20 > len(sample):
        raise _NotText()
    strays = _strays(p)
    if strays.valid and strays.invalid:
        if strays.latin:
            return Encoding("utf-8", mixed=True)
        if strays.valid >= strays.invalid:
            line, run = strays.firsts[0]
            raise InputFileError(
                f"the file is mostly UTF-8, but {strays.invalid:,} byte sequences are not (first on "
                f"line {line}: {run[:8]!r}) and they do not read as Western European letters; save "
                "the file as CSV UTF-8, or pass --encoding",
                path=name,
            )
    return _single_byte_or_detected(p, name, scan)


def _single_byte_or_detected(p: Path, name: str, scan: _Scan) -> Encoding:
    with open(p, "rb") as fh:
        data = fh.read(_DETECT_BYTES)
    if scan.stray_offset is not None and scan.stray_offset > len(data):
        with open(p, "rb") as fh:
            fh.seek(max(0, scan.stray_offset - 4096))
            data += b"\n" + fh.read(_DETECT_BYTES // 2)
    runs = _NON_ASCII.findall(data)
    nbytes = sum(map(len, runs))
    lone = sum(1 for r in runs if len(r) == 1)
    if runs and lone * 10 >= len(runs) * 8 and all(_latin_run(r) for r in runs if len(r) <= 3):
        return Encoding("cp1252", guessed=True, sample=_sample(data, "cp1252"))
    from charset_normalizer import from_bytes

    results = [r for r in from_bytes(data) if _plausible(r.encoding, data)]
    best = results[0] if results else None
    if best is None or best.encoding in _LATIN or nbytes == 0:
        if runs and all(_latin_run(r) for r in runs if len(r) <= 3) and lone * 2 >= len(runs):
            return Encoding("cp1252", guessed=True, sample=_sample(data, "cp1252"))
        raise InputFileError(
            "the file is not UTF-8 and its encoding cannot be told with confidence; save it as "
            "CSV UTF-8, or pass --encoding (e.g. cp1252 for Western European, cp1250 for "
            "Central European, cp932 for Japanese)",
            path=name,
        )
    rivals = [
        r
        for r in results[1:]
        if r.chaos - best.chaos < 0.1 and _decode(data, r.encoding) != _decode(data, best.encoding)
    ]
    if best.chaos > 0.2 or rivals:
        names = [best.encoding, *(r.encoding for r in rivals)][:3]
        raise InputFileError(
            "the file is not UTF-8 and its encoding cannot be told with confidence: it reads as "
            + " or as ".join(_label(n) for n in names)
            + f"; pass --encoding {names[0]} (or the right one), or save it as CSV UTF-8",
            path=name,
        )
    return Encoding(best.encoding, guessed=True, sample=_sample(data, best.encoding))


_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")


def _plausible(codec: str, data: bytes) -> bool:
    """Drop readings that decode but are not how such text is written: Korean that needs the
    cp949 extension (Shift-JIS bytes read as Korean), or Japanese that is mostly half-width
    katakana (GB18030 or Big5 bytes read as Shift-JIS)."""
    if codec.startswith(("utf", "ascii")):
        return False  # UTF-16 without zero bytes is not a CSV; UTF-8/ASCII were ruled out before
    cut = data[: data.rfind(b"\n") + 1] or data
    try:
        text = cut.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    if codec in ("cp949", "uhc", "johab"):
        try:
            cut.decode("euc_kr")
        except UnicodeDecodeError:
            return False
    if codec in ("cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213"):
        wide = sum(1 for ch in text if ord(ch) > 127)
        if wide and len(_HALFWIDTH_KANA.findall(text)) * 10 > wide * 3:
            return False
    return True


def _decode(data: bytes, codec: str) -> str:
    return data.decode(codec, "replace")


def _label(codec: str) -> str:
    return _LABELS.get(codec, codec)


def _sample(data: bytes, codec: str) -> str:
    """A few words that hold non-ASCII letters, as read with ``codec``."""
    text = data.decode(codec, "replace")
    words = re.findall(r"[^\s,;\t|\"]*[^\x00-\x7f][^\s,;\t|\"]*", text)
    seen: list[str] = []
    for w in words:
        if w not in seen:
            seen.append(w)
        if len(seen) >= 3:
            break
    return ", ".join(seen)


class _NotText(Exception):
    """The bytes are binary, not text in any encoding we read."""


# --- delimiter -----------------------------------------------------------------------------------


def sniff_delimiter(sample: str) -> str:
    """Pick the delimiter that splits the first lines into the most, and most consistent,
    columns; csv.Sniffer breaks ties."""
    cut = sample.rfind("\n")
    text = sample[: cut + 1] if cut > 0 else sample
    sniffed = None
    try:
        sniffed = csv.Sniffer().sniff(text[:16384], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        pass
    best: tuple[int, float, int, int] | None = None
    choice = sniffed or ","
    for d in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=d) if r][:50]
        except csv.Error:
            continue
        if not rows:
            continue
        # the first line should split; when it does not for any delimiter (a title line above
        # the header), the first line that does sets the width
        ref = rows[0] if len(rows[0]) > 1 else next((r for r in rows[:10] if len(r) > 1), rows[0])
        width = len(ref)
        if width < 2:
            continue
        consistent = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (int(len(rows[0]) > 1), round(consistent, 2), width, int(d == sniffed))
        if best is None or score > best:
            best, choice = score, d
    return choice


# --- rows ----------------------------------------------------------------------------------------


def open_csv(
    p: Path,
    name: str,
    scan: _Scan,
    *,
    encoding: str | None,
    delimiter: str | None,
    header_row: int | None,
    limits: ReadLimits,
) -> SourceTable:
    """Open a CSV file as a :class:`~bulkio.read.SourceTable`."""
    if delimiter is not None and len(delimiter) != 1:
        raise InputFileError(f"the delimiter must be one character, not {delimiter!r}", path=name)
    if scan.longest_line > limits.max_line_bytes:
        raise InputFileError(
            f"refused: a line of the file is {scan.longest_line:,} bytes long (at most "
            f"{limits.max_line_bytes:,} are read); is it really CSV?",
            path=name,
        )
    if encoding and encoding.replace("_", "-").lower() == MIXED:
        enc = Encoding("utf-8", mixed=True)
    elif encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputFileError(f"unknown encoding {encoding!r}", path=name) from None
        enc = Encoding(encoding)
    else:
        try:
            enc = detect_encoding(p, name, scan)
        except _NotText:
            raise InputFileError(
                "not a text CSV file (it holds binary data); expected a .csv saved as text, or an .xlsx workbook",
                path=name,
            ) from None
    table = SourceTable(
        path=name,
        sheet=None,
        headers=[],
        header_row=1,
        rows=iter(()),
        fingerprint=scan.sha256,
        encoding=MIXED if enc.mixed else enc.codec,
        kind="csv",
    )
    lines: Iterable[str]
    if enc.mixed:
        raw = open(p, "rb")  # noqa: SIM115 - closed by the table
        table._closers.append(raw)
        repaired: dict[int, str] = {}
        lines = _mixed_lines(raw, repaired)
        sample = _mixed_decode(p.read_bytes()[:_SAMPLE])[0] if p.stat().st_size < _SAMPLE else _head_text(p)
    else:
        errors = "replace" if enc.guessed and enc.codec == "cp1252" else "strict"
        fh = open(p, encoding=enc.codec, errors=errors, newline="")  # noqa: SIM115 - closed by the table
        table._closers.append(fh)
        try:
            sample = fh.read(_SAMPLE)
            fh.seek(0)
        except UnicodeDecodeError as exc:
            table.close()
            raise InputFileError(
                f"cannot be decoded as {enc.codec} ({exc.reason} at byte {exc.start}); pass the right encoding",
                path=name,
            ) from None
        if enc.codec.startswith("utf-16") and sample[:1] == "\ufeff":
            sample = sample[1:]
        lines = fh
        repaired = {}
    table.delimiter = delimiter or sniff_delimiter(sample)
    if enc.guessed:
        label = "Windows-1252 (cp1252)" if enc.codec == "cp1252" else _label(enc.codec)
        if enc.codec.startswith("utf-16"):
            label = enc.codec.upper()
        shown = f" ({enc.sample})" if enc.sample else ""
        table.issues.append(
            Issue(
                "encoding_guessed",
                f"the file is not UTF-8; it was read as {label}{shown}; if these letters look "
                "wrong, pass the right --encoding",
                file=name,
                value=enc.codec,
                expected="UTF-8",
                severity="warning",
            )
        )
    table.untouched = bytearray(1)  # record numbers start at 1
    records = _records(table, lines, limits, repaired)
    try:
        head = _take(records, header_row)
        _start(table, head, header_row, records, max_columns=limits.max_columns)
    except InputFileError:
        table.close()
        raise
    return table


def _head_text(p: Path) -> str:
    with open(p, "rb") as fh:
        data = fh.read(_SAMPLE)
    cut = data.rfind(b"\n") + 1 or len(data)
    return _mixed_decode(data[:cut])[0]


def _mixed_lines(fh: IO[bytes], repaired: dict[int, str]) -> Iterator[str]:
    """Decoded lines of a mostly-UTF-8 file; ``repaired`` gets line number -> repaired text."""
    for number, raw in enumerate(fh, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            text, n = _mixed_decode(raw)
            if n:
                repaired[number] = text
            yield text


def _records(
    table: SourceTable, lines: Iterable[str], limits: ReadLimits, repaired: dict[int, str]
) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(lines, delimiter=table.delimiter or ",")
    number = 0
    seen_line = 0
    cap = limits.max_columns + 1
    untouched = table.untouched  # see SourceTable.untouched: 1 per record taken as it is
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputFileError(
                f"cannot be parsed as CSV ({exc})", path=table.path, row=number + 1
            ) from None
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"cannot be decoded as {table.encoding} ({exc.reason}); pass the right encoding",
                path=table.path,
                row=number + 1,
            ) from None
        number += 1
        whole = True  # every cell kept as it was read
        if len(raw) > cap:
            del raw[cap:]
            whole = False
        joined = "".join(raw)  # one C pass tells whether any cell needs more than a strip
        if len(joined) > MAX_CELL_CHARS and max(map(len, raw)) > MAX_CELL_CHARS:
            whole = False
            for i, v in enumerate(raw):
                if len(v) > MAX_CELL_CHARS:
                    table.issues.append(
                        Issue(
                            "cell_too_large",
                            f"the cell holds {len(v):,} characters; at most {MAX_CELL_CHARS:,} are "
                            "accepted, so it is ignored",
                            file=table.path,
                            row=number,
                            column=column_letter(i),
                            expected=f"at most {MAX_CELL_CHARS:,} characters",
                        )
                    )
            raw = [v if len(v) <= MAX_CELL_CHARS else "" for v in raw]
        if repaired:
            lines_here = range(seen_line + 1, reader.line_num + 1)
            for line in lines_here:
                text = repaired.pop(line, None)
                if text is not None:
                    _repair_issue(table, number, raw, text)
        one_line = reader.line_num == seen_line + 1
        seen_line = reader.line_num
        if "'" in joined or "\x00" in joined:
            if untouched is not None:
                untouched.append(0)
            yield number, [_clean_csv(v) for v in raw]
        else:  # what _clean_csv does to a cell without a quote or NUL
            cells = [v.strip() or None for v in raw]
            if untouched is not None:
                # nothing trimmed (the stripped cells are as long), no cell the writer escapes
                kept = list(filter(None, cells))
                untouched.append(
                    whole
                    and one_line
                    and len("".join(kept)) == len(joined)
                    and _TRIGGERS.isdisjoint(map(_first, kept))
                )
            yield number, cells


#: First characters of a cell that a results CSV escapes.
_TRIGGERS = frozenset(FORMULA_TRIGGERS)
_first = operator.itemgetter(0)


def _repair_issue(table: SourceTable, number: int, raw: list[str], text: str) -> None:
    col = next((i for i, v in enumerate(raw) if v and any(ord(ch) > 127 for ch in v) and v in text), 0)
    value = raw[col] if col < len(raw) else None
    table.warn(
        Issue(
            "encoding_repaired",
            f"the row has bytes that are not UTF-8 in a UTF-8 file; they were read as Windows-1252: {value!r}",
            file=table.path,
            row=number,
            column=column_letter(col),
            value=value,
            expected="UTF-8 text",
            severity="warning",
        )
    )


__all__ = ["Encoding", "detect_encoding", "open_csv", "sniff_delimiter"]
