"""read_csv.py on real files: encodings (mixed UTF-8 + Windows-1252, Shift-JIS, GB18030, an
ambiguous one), the header below titles and notes, and the limits on lines and columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkio.errors import InputFileError
from bulkio.read import open_table
from bulkio.read_guard import ReadLimits

DATA = Path(__file__).parent / "data" / "read"


def read_all(path: Path | str, **kw: Any) -> tuple[Any, list[tuple[int, list[Any]]]]:
    with open_table(path, **kw) as t:
        rows = [(r.number, r.cells) for r in t.rows]
    return t, rows


# --- encodings --------------------------------------------------------------------------------------


def test_mostly_utf8_with_a_cp1252_row_is_repaired_never_mojibake() -> None:
    t, rows = read_all(DATA / "mixed_utf8_cp1252.csv")
    assert t.encoding == "utf-8+cp1252"
    assert rows == [
        (2, ["Zürich Labs", "MIX-1", "Zürich"]),
        (3, ["Łódź Works", "MIX-2", "Łódź"]),
        (4, ["Café Müller", "MIX-3", "Genève"]),  # the Windows-1252 row
        (5, ["Straße AG", "MIX-4", "Köln"]),
    ]
    assert "Ã" not in repr(rows)
    assert [(i.code, i.severity, i.row, i.column, i.value) for i in t.issues] == [
        ("encoding_repaired", "warning", 4, "A", "Café Müller")
    ]
    # the same decoding on request (a re-read, or a user who knows)
    assert read_all(DATA / "mixed_utf8_cp1252.csv", encoding="utf-8+cp1252")[1] == rows


@pytest.mark.parametrize("stray", ["株式会社テスト,東京", "テスト,K", "ﾃｽﾄ,K"])
def test_mixed_file_whose_stray_bytes_are_not_latin_is_refused(tmp_path: Path, stray: str) -> None:
    p = tmp_path / "mixed.csv"
    p.write_bytes("Name,City\nZürich Labs,Zürich\nÜber GmbH,Köln\n".encode() + (stray + "\n").encode("cp932"))
    with pytest.raises(InputFileError, match=r"mostly UTF-8.*line 4.*CSV UTF-8, or pass --encoding") as exc:
        open_table(p)
    assert str(p) in str(exc.value)


def test_shift_jis_is_read_and_named() -> None:
    t, rows = read_all(DATA / "shift_jis.csv")
    assert (t.encoding, t.headers) == ("cp932", ["会社名", "external_id", "都市"])
    assert rows == [(2, ["株式会社テスト", "JP-1", "東京"]), (3, ["山田商事", "JP-2", "大阪"])]
    [issue] = t.issues
    assert (issue.code, issue.severity, issue.value) == ("encoding_guessed", "warning", "cp932")
    assert "Shift-JIS (cp932)" in issue.message and "株式会社テスト" in issue.message


def test_gb18030_is_not_read_as_half_width_katakana() -> None:
    t, rows = read_all(DATA / "gb18030.csv")
    assert t.encoding == "gb18030" and rows[0] == (2, ["测试公司", "北京"])


def test_an_encoding_that_cannot_be_told_is_an_error_naming_what_to_pass() -> None:
    with pytest.raises(InputFileError) as exc:
        open_table(DATA / "ambiguous_cjk.csv")
    message = str(exc.value)
    assert "cannot be told with confidence" in message and "--encoding" in message
    assert "GB18030" in message and str(DATA / "ambiguous_cjk.csv") in message
    t, rows = read_all(DATA / "ambiguous_cjk.csv", encoding="gbk")
    assert t.headers == ["名称"] and rows == [(2, ["北京"])] and t.issues == []


def test_western_files_keep_reading_as_cp1252_with_a_sample() -> None:
    t, rows = read_all(DATA / "cp1252.csv")
    assert t.encoding == "cp1252" and rows[0][1][0] == "Café Müller"
    assert "Café" in t.issues[0].message and "--encoding" in t.issues[0].message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(
        st.lists(
            st.sampled_from(
                ["Café", "Müller", "Straße", "Genève", "Zürich", "Crème brûlée", "Ærø", "€uro", "Año", "Acme"]
            ),
            min_size=1,
            max_size=3,
        ).map(" ".join),
        min_size=2,
        max_size=10,
    ),
    bad=st.integers(0, 9),
)
def test_utf8_with_stray_cp1252_rows_never_gives_mojibake(tmp_path: Path, words: list[str], bad: int) -> None:
    lines = [f"{w},K{i}" for i, w in enumerate(words)]
    data = b"Name,Key\n" + b"".join(
        (line + "\n").encode("cp1252" if i == bad % len(lines) else "utf-8") for i, line in enumerate(lines)
    )
    p = tmp_path / "m.csv"
    p.write_bytes(data)
    t, rows = read_all(p)
    assert [r[1] for r in rows] == [[w.strip() or None, f"K{i}"] for i, w in enumerate(words)]
    assert t.encoding in ("utf-8", "utf-8+cp1252", "cp1252")


# --- the header ------------------------------------------------------------------------------------


def test_header_below_a_title_a_dated_note_and_a_blank_line() -> None:
    t, rows = read_all(DATA / "title_rows.csv")
    assert (t.header_row, t.headers, t.delimiter) == (4, ["Name", "external_id", "City"], ",")
    assert rows == [(5, ["Acme", "ACC-1", "Berlin"]), (6, ["Beta", "ACC-2", "Paris"])]
    assert [(i.code, i.row) for i in t.issues] == [("header_not_first", 4)]
    assert "rows 1–2" in t.issues[0].message


@pytest.mark.parametrize(
    ("text", "header_row"),
    [
        ("Name,Email\nAcme,a@x.com\n", 1),
        ("Report: deals\n\nName,Amount,Stage\nAcme,10,Lead\nBeta,20,Won\n", 3),
        ("Deals,2026-01-05\nName,Amount,Stage\nAcme,10,Lead\n", 2),  # a dated note is not a header
        ("Name\nAcme, Inc.\nBeta\n", 1),  # one column
        ("2024,2025\n1,2\n", 1),  # nothing reads as names: the first row
        ("Title only\n", 1),
    ],
)
def test_header_detection(tmp_path: Path, text: str, header_row: int) -> None:
    p = tmp_path / "h.csv"
    p.write_text(text, encoding="utf-8")
    assert read_all(p, delimiter=",")[0].header_row == header_row


def test_unnamed_column_with_values(tmp_path: Path) -> None:
    p = tmp_path / "u.csv"
    p.write_text("Name,,City\nAcme,,Berlin\nBeta,x,Paris\n", encoding="utf-8")
    t, rows = read_all(p)
    assert t.headers == ["Name", "", "City"] and rows[1] == (3, ["Beta", "x", "Paris"])
    assert [(i.code, i.row, i.column, i.value) for i in t.issues] == [("unnamed_column", 3, "B", "x")]


# --- limits ----------------------------------------------------------------------------------------


def test_line_and_column_limits(tmp_path: Path) -> None:
    limits = ReadLimits(max_line_bytes=5_000_000, max_columns=100)
    p = tmp_path / "long.csv"
    p.write_bytes(b"Name,Key\n" + b"x" * 6_000_000 + b",1\n")
    with pytest.raises(InputFileError, match="a line of the file is 6,000,002 bytes long"):
        open_table(p, limits=limits)
    p.write_bytes(b"Name,Key\n" + b"x" * 3_000_000 + b",1\n")  # under the line limit: a cell too large
    t, rows = read_all(p, limits=limits)
    assert rows == [(2, [None, "1"])] and t.issues[0].code == "cell_too_large"
    p.write_text(",".join(f"c{i}" for i in range(101)) + "\n1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 1: refused: the header has more than 100 columns"):
        open_table(p, limits=limits)
    p.write_text("A,B\n1,2\n" + ",".join("x" * 101) + "\n3,4\n", encoding="utf-8")  # a wide data row
    t, rows = read_all(p, limits=limits)
    assert rows == [(2, ["1", "2"]), (3, ["x", "x"]), (4, ["3", "4"])]
    assert [(i.code, i.row) for i in t.issues] == [("ragged_row", 3)]


def test_a_warning_on_every_row_is_listed_a_thousand_times_only(tmp_path: Path) -> None:
    """An unquoted comma in every name: each row is ragged, but the issue list stays bounded."""
    p = tmp_path / "commas.csv"
    p.write_text("Name,Key\n" + "".join(f"Acme {i}, Inc.,K{i}\n" for i in range(3000)), encoding="utf-8")
    t, rows = read_all(p)
    assert len(rows) == 3000 and rows[0] == (2, ["Acme 0", "Inc."])
    assert [i.code for i in t.issues] == ["ragged_row"] * 1000
    assert t.issues[-1].row == 1001 and "later ones are not listed" in t.issues[-1].message
