"""The management commands, run as an operator would: `export_grades COURSE --out FILE` and
`import_roster COURSE FILE` (exit code, output, and what ends up in the database)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command, execute_from_command_line

from exams.attempts import attempt_questions, autosave, start_attempt, submit_attempt
from exams.models import GradeCategory, Membership
from tests.exams_personas import (  # noqa: F401 - fixtures
    build_bank, classroom, correct_text, fast_passwords, frozen_clock, make_assessment,
)


def run(*argv: str) -> int:
    """Run a command through Django's command-line entry point; returns its exit code (0 when it returns).
    The entry point closes every database connection when it ends, which on PostgreSQL would close the test's
    own transaction; keep it open for the assertions that follow."""
    from unittest import mock

    from django.db import connections

    with mock.patch.object(connections, "close_all"):
        try:
            execute_from_command_line(["manage.py", *argv])
        except SystemExit as exit_:
            return int(exit_.code or 0)
    return 0


def take(quiz, student, right: bool) -> None:
    attempt = start_attempt(quiz, student)
    attempt_questions(attempt)
    for slot in attempt.slots.all():
        autosave(attempt, slot.pk, correct_text(slot) if right else "1", user=student)
    submit_attempt(attempt, user=student)


@pytest.fixture
def graded_class(classroom, frozen_clock):
    """Two one-question quizzes (drop lowest 1): the student gets Quiz 1 right and Quiz 2 wrong; the other
    student takes neither. Answers go through the real engine."""
    build_bank(mcq=0, short=1, code=0)
    quizzes_category = GradeCategory.objects.create(course=classroom.course, name="Quizzes", weight=25, drop_lowest=1)
    blueprint = [{"templates": ["t-short-0"]}]
    quiz1 = make_assessment(classroom.course, "Quiz 1", blueprint=blueprint, category=quizzes_category, position=1)
    quiz2 = make_assessment(classroom.course, "Quiz 2", blueprint=blueprint, category=quizzes_category, position=2)
    take(quiz1, classroom.student, right=True)
    take(quiz2, classroom.student, right=False)
    return classroom


def read_rows(path: Path) -> tuple[str, list[dict[str, str]]]:
    text = path.read_text(encoding="utf-8")
    return text, list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_grades_writes_the_gradebook_csv_with_percentages_and_the_dropped_quiz(graded_class, tmp_path, capsys,
                                                                                    frozen_clock):
    frozen_clock.advance(days=2)  # both quizzes have closed: the quizzes not taken are missing
    out = tmp_path / "grades.csv"
    assert run("export_grades", graded_class.course.code, "--out", str(out)) == 0
    assert f"wrote 2 rows to {out}" in capsys.readouterr().out
    text, rows = read_rows(out)
    assert text.startswith("\ufeff")
    assert list(rows[0]) == ["Student ID", "Name", "Email", "Quiz 1", "Quiz 1 late (min)", "Quiz 1 late penalty (%)",
                             "Quiz 2", "Quiz 2 late (min)", "Quiz 2 late penalty (%)", "Dropped quiz", "Quiz average",
                             "Quizzes (25%)", "Weighted total"]
    student = next(row for row in rows if row["Student ID"] == "S001")
    assert (student["Name"], student["Email"]) == (graded_class.student.get_full_name(), graded_class.student.email)
    assert (student["Quiz 1"], student["Quiz 2"]) == ("100.00", "0.00")
    assert (student["Dropped quiz"], student["Quiz average"], student["Weighted total"]) == ("Quiz 2", "100.00", "100.00")
    absent = next(row for row in rows if row["Student ID"] == "S002")
    assert (absent["Quiz 1"], absent["Quiz 2"], absent["Dropped quiz"]) == ("0.00", "0.00", "Quiz 1")


def test_export_grades_with_responses_writes_one_assessments_answers(graded_class, tmp_path):
    out = tmp_path / "quiz1.csv"
    assert run("export_grades", graded_class.course.code, "--out", str(out), "--responses", "Quiz 1") == 0
    _, rows = read_rows(out)
    assert [(row["Student ID"], row["Template"], row["Score (%)"]) for row in rows] == [("S001", "t-short-0", "100.00")]


def test_export_grades_for_an_unknown_course_fails_with_a_message(db, tmp_path, capsys):
    assert run("export_grades", "NOPE", "--out", str(tmp_path / "x.csv")) == 1
    assert "no course with code 'NOPE'" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_import_roster_enrols_every_student_of_a_good_file(classroom, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student ID,Name,Email\nA100,Leyla Aliyeva,leyla@example.edu\nA101,Murad Huseynov,murad@example.edu\n",
                      encoding="utf-8")
    assert run("import_roster", classroom.course.code, str(roster)) == 0
    assert "2 enrolled (2 new accounts, 0 existing, 0 skipped)" in capsys.readouterr().out
    enrolled = Membership.objects.filter(course=classroom.course, student_id__in=["A100", "A101"])
    assert sorted(enrolled.values_list("user__email", "role")) == [("leyla@example.edu", "student"),
                                                                  ("murad@example.edu", "student")]


def test_import_roster_reports_bad_rows_by_line_imports_nothing_and_exits_non_zero(classroom, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\nA100,Leyla Aliyeva,leyla@example.edu\nA101,,murad@example.edu\n"
                      "A102,Aysel Karimova,not-an-email\n", encoding="utf-8")
    members_before = Membership.objects.filter(course=classroom.course).count()
    assert run("import_roster", classroom.course.code, str(roster)) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "line 3: missing name" in err and "line 4: 'not-an-email' is not an email address" in err
    assert "line 2" not in err
    assert Membership.objects.filter(course=classroom.course).count() == members_before


def test_import_roster_through_call_command_raises_the_same_error(classroom, tmp_path):
    from django.core.management import CommandError

    roster = tmp_path / "roster.csv"
    roster.write_text("A100,Leyla Aliyeva,leyla@example\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 1: 'leyla@example' is not an email address"):
        call_command("import_roster", classroom.course.code, str(roster))
