"""The gradebook in the import layouts of Blackboard Learn, Canvas and Moodle: exact header rows, identifiers,
points with a '.' decimal point and no thousands separator, empty cells (never 0) for grades not final yet,
and CSV safety through exams.exports.safe_cell."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from exams.gradebook import excuse
from exams.lms_exports import (
    BLACKBOARD_USER_COLUMNS, CANVAS_POINTS_ROW_LABEL, CANVAS_USER_COLUMNS, MOODLE_USER_COLUMNS, lms_export,
    lms_export_filename, points,
)
from exams.models import Assessment, Attempt, GradeCategory
from tests.exams_personas import T0, classroom, fast_passwords, frozen_clock, make_assessment  # noqa: F401
from tests.web_fixtures import logged_in

DAY = timedelta(days=1)


@pytest.fixture
def term(classroom, frozen_clock):
    """Quiz 1 graded (72.5%, Sam 12 min late), Quiz 2 still open, Quiz 3 closed and not taken, the midterm
    waiting for grading for Sam and excused for Olga."""
    course = classroom.course
    quizzes = GradeCategory.objects.create(course=course, name="Quizzes", weight=25, drop_lowest=1)
    classroom.student.first_name, classroom.student.last_name = "Sam", "=cmd|' /C calc'!A0"
    classroom.student.save()
    classroom.other_student.first_name, classroom.other_student.last_name = "Olga", "Petrova"
    classroom.other_student.save()
    quiz1 = make_assessment(course, "Quiz 1", category=quizzes, position=1, opens_at=T0, closes_at=T0 + DAY,
                            due_at=T0 + DAY)
    quiz2 = make_assessment(course, "Quiz 2", category=quizzes, position=2, opens_at=T0 + DAY,
                            closes_at=T0 + 10 * DAY)
    quiz3 = make_assessment(course, "Quiz 3", category=quizzes, position=3, opens_at=T0, closes_at=T0 + DAY)
    midterm = make_assessment(course, "Midterm", kind=Assessment.EXAM, position=20, opens_at=T0, closes_at=T0 + DAY)

    def submit(assessment, student, score, at=T0 + timedelta(hours=1), pending=0):
        Attempt.objects.create(assessment=assessment, student=student, number=1, seed=1, started_at=T0,
                               state=Attempt.SUBMITTED, submitted_at=at, score=score, pending_count=pending)

    submit(quiz1, classroom.student, 0.8, at=quiz1.due_at + timedelta(minutes=12))  # 80 - 10% = 72
    submit(quiz1, classroom.other_student, 0.725)
    submit(midterm, classroom.student, 0.5, pending=1)
    excuse(midterm, classroom.other_student)
    frozen_clock.freeze(T0 + 2 * DAY)
    return {"quiz1": quiz1, "quiz2": quiz2, "quiz3": quiz3, "midterm": midterm}


def read(chunks, delimiter=",") -> list[list[str]]:
    text = "".join(chunks)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def test_points_use_a_dot_decimal_and_no_thousands_separator():
    assert (points(1234.5), points(72.0), points(0.0), points(None)) == ("1234.50", "72.00", "0.00", "")


def test_blackboard_has_the_grade_center_user_columns_username_first_identifier_and_empty_open_cells(classroom, term):
    rows = read(lms_export(classroom.course, "blackboard"))
    assert rows[0] == ["Last Name", "First Name", "Username", "Student ID", "Quiz 1", "Quiz 2", "Quiz 3", "Midterm"]
    assert tuple(rows[0][:4]) == BLACKBOARD_USER_COLUMNS
    sam, olga = rows[1], rows[2]
    assert sam[:4] == ["'=cmd|' /C calc'!A0", "Sam", classroom.student.username, "S001"]  # safe_cell
    assert sam[4:] == ["72.00", "", "0.00", ""]  # late penalty applied; open and pending are empty, never 0
    assert olga[4:] == ["72.50", "", "0.00", ""]  # excused: Blackboard's upload cannot exempt, left empty


def test_blackboard_comma_files_quote_every_cell_as_the_grade_center_requires(classroom, term):
    lines = "".join(lms_export(classroom.course, "blackboard")).lstrip("\ufeff").splitlines()
    header, first = lines[0], lines[1]
    assert header.startswith('"Last Name","First Name","Username","Student ID","Quiz 1"')
    assert first.startswith('"') and first.endswith('"') and '","' in first


def test_blackboard_names_known_columns_with_points_and_the_column_id_and_writes_tabs(classroom, term):
    ids = {f"a{term['quiz1'].pk}": "_12345_1"}
    rows = read(lms_export(classroom.course, "blackboard", column_ids=ids))
    assert rows[0][4] == "Quiz 1 [Total Pts: 100 Score] |_12345_1"
    tab_rows = read(lms_export(classroom.course, "blackboard-tab"), delimiter="\t")
    assert tab_rows[0][:4] == list(BLACKBOARD_USER_COLUMNS) and tab_rows[1][4] == "72.00"
    assert lms_export_filename(classroom.course, "blackboard-tab").endswith(".xls")


def test_canvas_has_its_five_user_columns_the_points_possible_row_and_ex_for_excused(classroom, term):
    ids = {f"a{term['quiz2'].pk}": "991"}
    rows = read(lms_export(classroom.course, "canvas", column_ids=ids))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 1", "Quiz 2 (991)", "Quiz 3",
                       "Midterm"]
    assert tuple(rows[0][:5]) == CANVAS_USER_COLUMNS
    assert rows[1] == [CANVAS_POINTS_ROW_LABEL, "", "", "", "", "100.00", "100.00", "100.00", "100.00"]
    sam, olga = rows[2], rows[3]
    assert sam[:5] == ["'=cmd|' /C calc'!A0, Sam", "", "S001", classroom.student.username, ""]
    assert sam[5:] == ["72.00", "", "0.00", ""]
    assert olga[:5] == ["Petrova, Olga", "", "S002", classroom.other_student.username, ""]
    assert olga[5:] == ["72.50", "", "0.00", "EX"]


def test_moodle_has_identifier_columns_to_map_a_column_per_item_and_feedback_columns(classroom, term):
    rows = read(lms_export(classroom.course, "moodle"))
    assert rows[0] == ["First name", "Last name", "ID number", "Email address",
                       "Quiz 1", "Quiz 1 (Feedback)", "Quiz 2", "Quiz 2 (Feedback)", "Quiz 3", "Quiz 3 (Feedback)",
                       "Midterm", "Midterm (Feedback)"]
    assert tuple(rows[0][:4]) == MOODLE_USER_COLUMNS
    sam, olga = rows[1], rows[2]
    assert sam[:4] == ["Sam", "'=cmd|' /C calc'!A0", "S001", classroom.student.email]
    assert sam[4:] == ["72.00", "Submitted 12 min late: -10% (score 80.00 -> 72.00)", "", "", "0.00", "", "", ""]
    assert olga[4] == "72.50" and olga[10:] == ["", "Excused"]


def test_an_unknown_layout_is_refused(classroom, term):
    with pytest.raises(ValueError):
        lms_export(classroom.course, "sakai")


def test_the_gradebook_page_offers_every_layout_with_blackboard_highlighted(classroom, term):
    client = logged_in(classroom.instructor)
    page = client.get(f"/courses/{classroom.course.pk}/gradebook/").content.decode()
    assert 'class="button" href="/courses/%d/gradebook/export/blackboard"' % classroom.course.pk in page
    for layout in ("blackboard-tab", "canvas", "moodle"):
        assert f'class="button secondary" href="/courses/{classroom.course.pk}/gradebook/export/{layout}"' in page
    response = client.get(f"/courses/{classroom.course.pk}/gradebook/export/canvas")
    assert response["Content-Disposition"] == 'attachment; filename="dl101-grades-canvas.csv"'
    assert b"".join(response.streaming_content).decode().startswith("\ufeffStudent,ID,SIS User ID")


def test_downloads_are_for_the_courses_staff_only(classroom, term):
    url = f"/courses/{classroom.course.pk}/gradebook/export/blackboard"
    assert logged_in(classroom.ta).get(url).status_code == 200
    assert logged_in(classroom.student).get(url).status_code == 404
    assert logged_in(classroom.outsider).get(url).status_code == 404
    assert logged_in(classroom.instructor).get(f"/courses/{classroom.course.pk}/gradebook/export/nope").status_code == 404
