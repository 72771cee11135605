"""CSV exports write no cell a spreadsheet evaluates: every formula start, in any locale's separator, width or
encoding, gets a leading apostrophe; numbers we write stay numbers."""
from __future__ import annotations

import csv
import io
import re
import unicodedata

import pytest

from exams.exports import gradebook_csv, rows_to_csv, safe_cell
from tests.exams_personas import classroom, fast_passwords  # noqa: F401 - fixtures

PAYLOADS = [
    "=1+1", "+1+1", "-1+1", "@SUM(1+1)", "\t=1+1", "\r=1+1", "\n=1+1", "\tplain", "\rplain",
    "x;=1+1", "x,=1+1", "x; =1+1", "a;b;+cmd", "x,@SUM(A1)", "x;-2+3",
    "＝1+1", "＋1+1", "－1+1", "＠SUM(1)", "﹦1+1", "＋1",
    " =1+1", "   @A1", "\u00a0=1+1", "\u200b=1+1", "\ufeff=1+1", "\u3000=1+1",
    "=cmd|' /C calc'!A0", "cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\",\"y\")",
    "%0A=1+1", "x%0A=1+1", "x%0d+1", "x%09=1",
    "line\u2028=1+1", "line\u2029@A1", "line\x85-1+1", "a\n=1", "a\r\n+1",
    "|=1", "x|=1",
]
_SEPARATORS = re.compile(r"[;,\t\r\n\v\f\x1c-\x1e\x85\u2028\u2029]|%0[9aAdD]")
_ASCII_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def visible_start(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if not (c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp")))[:1]


def assert_inert(cell: str) -> None:
    assert not cell[:1] in ("\t", "\r", "\n"), repr(cell)
    assert visible_start(cell) not in ("=", "+", "-", "@"), repr(cell)
    for piece in _SEPARATORS.split(cell)[1:]:
        if _ASCII_NUMBER.fullmatch(piece.strip()):
            continue
        assert visible_start(piece) not in ("=", "+", "-", "@"), f"{cell!r}: a formula starts after a separator"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_written_as_a_cell_no_spreadsheet_evaluates(payload):
    assert_inert(safe_cell(payload))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_survives_the_csv_writer_as_one_inert_cell_that_keeps_the_original_text(payload):
    text = "".join(rows_to_csv([["header"], [payload, "after"]]))
    cells = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))[1]
    assert len(cells) == 2 and cells[1] == "after"
    assert_inert(cells[0])
    assert cells[0].replace("'", "") == payload.replace("'", "")


@pytest.mark.parametrize("number", ["-3.5", "+2", "12.50", "0", "-1e3", ".5"])
def test_plain_numbers_stay_numbers_for_an_lms_import(number):
    assert safe_cell(number) == number


def test_values_we_write_as_numbers_are_never_changed():
    assert [safe_cell(value) for value in (-3, -2.5, 0, 7, None)] == [-3, -2.5, 0, 7, None]


def test_ordinary_text_and_number_lists_in_answers_are_left_alone():
    for text in ("Leyla Aliyeva", "leyla@example.edu", "[1, -2, 3]", "x = 1", "A100", "It keeps the mean; 2x"):
        assert safe_cell(text) == text


def test_a_students_formula_name_in_the_gradebook_export_is_neutralised(classroom):
    classroom.student.first_name, classroom.student.last_name = "x;=1+1", "＝2+2"
    classroom.student.email = "@evil.example"
    classroom.student.save()
    text = "".join(gradebook_csv(classroom.course))
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    mine = next(row for row in rows if row["Student ID"] == "S001")
    assert mine["Name"] == "x;'=1+1 ＝2+2"
    assert mine["Email"] == "'@evil.example"
    for cell in mine.values():
        assert_inert(cell)
