"""Grade files in the import layouts of Blackboard Learn, Canvas and Moodle (docs/lms-exports.md says which
documentation each follows and how to import them).

Every layout writes one column per quiz/exam of the gradebook, in points out of 100 (our percent after the late
penalty), with a '.' decimal point and no thousands separator. A grade that is not final yet (not open, open,
in progress, waiting for grading, results held back) is an EMPTY cell: an LMS import leaves an empty cell's
grade alone, where a 0 would record a fail. A missing assessment (closed, nothing submitted) is 0. Every
cell goes through exams.exports.safe_cell (rows_to_csv), so a student's name never runs as a formula.

Our drop-lowest and weighted total are not exported as LMS columns: a column an LMS does not know becomes a new
graded item there. The LMS computes its own totals; our own CSV (exams.exports) has ours.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.text import slugify

from exams.exports import rows_to_csv
from exams.gradebook import EXCUSED, MISSING, GRADED, Cell, Column, Gradebook, StudentRow, gradebook
from exams.models import Course

POINTS_POSSIBLE = 100

# --- Blackboard Learn (Original) Grade Center: "Work Offline" download / "Upload" -----------------------------
# The user columns Blackboard writes first; it matches rows on Username (required).
BLACKBOARD_USER_COLUMNS = ("Last Name", "First Name", "Username", "Student ID")
# An existing Grade Center column is "<name> [Total Pts: <points> <primary display>] |<column id>"; a header
# without " |<id>" makes Blackboard create a new column of that name.
BLACKBOARD_COLUMN = "{title} [Total Pts: {points} Score] |{column_id}"
BLACKBOARD_NEW_COLUMN = "{title}"
BLACKBOARD_DELIMITERS = {"comma": ",", "tab": "\t"}
BLACKBOARD_EXTENSIONS = {"comma": "csv", "tab": "xls"}  # Blackboard's own tab-delimited downloads are .xls
# "Data in each column of comma-delimited files must be contained within a quote character" (Grade Center help,
# "Uploading or Downloading Grade Center Items for Working Offline"); tab-delimited cells need none.
BLACKBOARD_QUOTE_ALL_IN_CSV = True

# --- Canvas: Grades > Import (the layout of Grades > Export) ------------------------------------------------
CANVAS_USER_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# "<assignment name> (<assignment id>)" updates that assignment; a name without "(id)" creates one.
CANVAS_COLUMN = "{title} ({column_id})"
CANVAS_NEW_COLUMN = "{title}"
# The second row; Canvas writes the label indented by four spaces and skips the row on import.
CANVAS_POINTS_ROW_LABEL = "    Points Possible"
CANVAS_EXCUSED = "EX"  # Canvas's import value for an excused assignment

# --- Moodle: Grades > Import > CSV file ---------------------------------------------------------------------
# Any one identifier column is mapped to a user field in the import form ("Map from" / "Map to"): we write
# Moodle's own export names, so "ID number" maps to idnumber and "Email address" to email.
MOODLE_USER_COLUMNS = ("First name", "Last name", "ID number", "Email address")
MOODLE_IDENTIFIERS = {"idnumber": "ID number", "email": "Email address"}
MOODLE_COLUMN = "{title}"
MOODLE_FEEDBACK_COLUMN = "{title} (Feedback)"

LAYOUTS = ("blackboard", "blackboard-tab", "canvas", "moodle")


@dataclass(frozen=True)
class LayoutInfo:
    key: str
    label: str
    description: str


LAYOUT_INFO = [
    LayoutInfo("blackboard", "Blackboard Learn (CSV)", "Grade Center > Work Offline > Upload, comma delimited"),
    LayoutInfo("blackboard-tab", "Blackboard Learn (tab)", "Grade Center > Work Offline > Upload, tab delimited"),
    LayoutInfo("canvas", "Canvas", "Grades > Import"),
    LayoutInfo("moodle", "Moodle", "Grades > Import > CSV file (map ID number to idnumber)"),
]


def preferred_layout() -> str:
    """The layout offered first on the gradebook page: the course of seed 002 keeps its grades in Blackboard."""
    layout = getattr(settings, "DLQUIZ_PREFERRED_LMS", "blackboard")
    return layout if layout in LAYOUTS else "blackboard"


def points(value: float | None) -> str:
    """Points with a '.' decimal point and two decimals, no thousands separator; None is an empty cell."""
    return "" if value is None else f"{value:.2f}"


def _grade(cell: Cell) -> str:
    if cell.status in (GRADED, MISSING):
        return points(cell.percent)
    return ""  # not final yet (or excused, where a layout has no better value): the LMS keeps what it has


def _assessment_columns(book: Gradebook) -> list[Column]:
    return [column for column in book.columns if column.kind != "manual"]


def _names(row: StudentRow) -> tuple[str, str]:
    user = row.user
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if not first and not last:
        return row.name, ""
    return first, last


def _header(column: Column, ids: dict[str, str], known: str, new: str) -> str:
    column_id = ids.get(column.key)
    if column_id:
        return known.format(title=column.title, points=POINTS_POSSIBLE, column_id=column_id)
    return new.format(title=column.title)


def blackboard_rows(book: Gradebook, column_ids: dict[str, str] | None = None) -> Iterator[list[Any]]:
    ids = column_ids or {}
    columns = _assessment_columns(book)
    yield list(BLACKBOARD_USER_COLUMNS) + [_header(c, ids, BLACKBOARD_COLUMN, BLACKBOARD_NEW_COLUMN) for c in columns]
    for row in book.rows:
        first, last = _names(row)
        yield [last, first, row.user.username, row.student_id] + [_grade(row.cells[c.key]) for c in columns]


def canvas_rows(book: Gradebook, column_ids: dict[str, str] | None = None) -> Iterator[list[Any]]:
    ids = column_ids or {}
    columns = _assessment_columns(book)
    yield list(CANVAS_USER_COLUMNS) + [_header(c, ids, CANVAS_COLUMN, CANVAS_NEW_COLUMN) for c in columns]
    yield [CANVAS_POINTS_ROW_LABEL, "", "", "", ""] + [points(POINTS_POSSIBLE) for _ in columns]
    for row in book.rows:
        first, last = _names(row)
        student = f"{last}, {first}" if last else first
        grades = [CANVAS_EXCUSED if row.cells[c.key].status == EXCUSED else _grade(row.cells[c.key]) for c in columns]
        # The Canvas user ID is Canvas's own; rows match on SIS User ID / SIS Login ID instead.
        yield [student, "", row.student_id, row.user.username, ""] + grades


def _moodle_feedback(cell: Cell) -> str:
    if cell.status == EXCUSED:
        return "Excused"
    if cell.late_penalty_percent and cell.status in (GRADED, MISSING):
        return (f"Submitted {late_minutes_text(cell.late_minutes)} late: -{cell.late_penalty_percent:g}% "
                f"(score {cell.raw_percent:.2f} -> {cell.percent:.2f})")
    return ""


def moodle_rows(book: Gradebook, *, feedback: bool = False) -> Iterator[list[Any]]:
    columns = _assessment_columns(book)
    header = list(MOODLE_USER_COLUMNS)
    for column in columns:
        header.append(MOODLE_COLUMN.format(title=column.title))
        if feedback:
            header.append(MOODLE_FEEDBACK_COLUMN.format(title=column.title))
    yield header
    for row in book.rows:
        first, last = _names(row)
        cells: list[Any] = [first, last, row.student_id, row.email]
        for column in columns:
            cells.append(_grade(row.cells[column.key]))
            if feedback:
                cells.append(_moodle_feedback(row.cells[column.key]))
        yield cells


def late_minutes_text(minutes: float) -> str:
    """Whole minutes, rounded up: 20 seconds late is "1 min", as the late tiers count it."""
    whole = int(-(-minutes // 1))
    return f"{whole} min" if whole < 120 else f"{whole // 60} h {whole % 60} min"


def lms_export(course: Course, layout: str, now: datetime | None = None, *,
               column_ids: dict[str, str] | None = None) -> Iterator[str]:
    """The course's gradebook in one LMS layout (see LAYOUTS). Raises ValueError for an unknown layout."""
    book = gradebook(course, now)
    if layout == "blackboard":
        return rows_to_csv(blackboard_rows(book, column_ids), BLACKBOARD_DELIMITERS["comma"],
                           quote_all=BLACKBOARD_QUOTE_ALL_IN_CSV)
    if layout == "blackboard-tab":
        return rows_to_csv(blackboard_rows(book, column_ids), BLACKBOARD_DELIMITERS["tab"])
    if layout == "canvas":
        return rows_to_csv(canvas_rows(book, column_ids))
    if layout == "moodle":
        return rows_to_csv(moodle_rows(book, feedback=True))
    raise ValueError(f"Unknown layout {layout!r}: one of {', '.join(LAYOUTS)}")


def lms_export_filename(course: Course, layout: str) -> str:
    extension = BLACKBOARD_EXTENSIONS["tab"] if layout == "blackboard-tab" else "csv"
    return f"{slugify(course.code)}-grades-{layout}.{extension}"


def lms_export_content_type(layout: str) -> str:
    return "text/tab-separated-values; charset=utf-8" if layout == "blackboard-tab" else "text/csv; charset=utf-8"
