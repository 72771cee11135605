"""A student's "My grades" page: every assessment with its status, score and late penalty, the dropped quiz,
category averages and the course total so far; released results only; their own grades only."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from exams import clock
from exams.gradebook import excuse, set_manual_grade
from exams.models import Attempt, GradeCategory, ManualGradeItem
from tests.web_fixtures import *  # noqa: F403


def graded(quiz, student, score: float, *, late_minutes: float = 0) -> Attempt:
    submitted_at = (quiz.due_at + timedelta(minutes=late_minutes)) if late_minutes else quiz.opens_at + timedelta(minutes=20)
    return Attempt.objects.create(assessment=quiz, student=student, number=1, seed=1, started_at=quiz.opens_at,
                                  state=Attempt.SUBMITTED, submitted_at=submitted_at, score=score)


def closed_quiz(course, title: str, position: int, **fields):
    now = clock.now()
    values = {"opens_at": now - timedelta(days=10), "closes_at": now - timedelta(days=9),
              "due_at": now - timedelta(days=9), "results_released_at": now - timedelta(days=8), "position": position}
    values.update(fields)
    return make_quiz(course, slugs=["web-double"], title=title, **values)


def test_the_dashboard_links_each_course_to_the_students_grades(course, student):
    page = logged_in(student).get("/").content.decode()
    assert f'href="/courses/{course.pk}/grades/"' in page


def test_my_grades_lists_every_assessment_score_penalty_category_average_and_total(course, bank, student, instructor):
    quiz1 = closed_quiz(course, "Quiz 1", 1)
    quiz2 = closed_quiz(course, "Quiz 2", 2)
    make_quiz(course, slugs=["web-double"], title="Quiz 3", position=3)  # open now: not counted
    graded(quiz1, student, 0.9)
    graded(quiz2, student, 0.8, late_minutes=12)
    project_category = GradeCategory.objects.create(course=course, name="Team project", weight=25, position=0)
    project = ManualGradeItem.objects.create(course=course, title="Team project", category=project_category)
    set_manual_grade(project, student, Decimal("70"), by=instructor)
    page = logged_in(student).get(f"/courses/{course.pk}/grades/").content.decode()
    assert "Quiz 1" in page and "90.0%" in page
    assert "late −10%" in page and "submitted 12 min late (80.0% → 72.0" in page
    assert "Open: not counted yet" in page
    assert "best 2 of 3: 2 final so far" in page  # drop 1 of 3, nothing dropped while Quiz 3 is open
    assert "81.0%" in page  # the quiz average (90 + 72) / 2
    assert 'id="total-so-far">75.5%' in page  # (70 + 81) / 2 over the two categories with grades


def test_the_dropped_quiz_is_marked_once_every_quiz_is_final(course, bank, student):
    quizzes = [closed_quiz(course, f"Quiz {n}", n) for n in (1, 2, 3)]
    for quiz, score in zip(quizzes, (0.4, 0.9, 0.8)):
        graded(quiz, student, score)
    page = logged_in(student).get(f"/courses/{course.pk}/grades/").content.decode()
    row = page[page.index(f'id="grade-a{quizzes[0].pk}"'):]
    assert row[:row.index("</tr>")].count("dropped") >= 2  # the row class and the tag
    assert "lowest dropped" in page
    assert 'id="total-so-far">85.0%' in page


def test_results_not_released_are_neither_shown_nor_counted(course, bank, student):
    quiz = closed_quiz(course, "Quiz 1", 1, results_released_at=None)
    graded(quiz, student, 0.3)
    page = logged_in(student).get(f"/courses/{course.pk}/grades/").content.decode()
    assert "Submitted: results not released yet" in page
    assert "30.0%" not in page
    assert 'id="total-so-far">—' in page


def test_an_excused_assessment_is_shown_as_excused(course, bank, student, instructor):
    quiz = closed_quiz(course, "Quiz 1", 1)
    excuse(quiz, student, by=instructor, reason="medical")
    page = logged_in(student).get(f"/courses/{course.pk}/grades/").content.decode()
    assert "Excused: not counted" in page


def test_a_student_sees_only_their_own_grades(course, bank, student, other_student):
    quiz = closed_quiz(course, "Quiz 1", 1)
    graded(quiz, other_student, 0.77)
    page = logged_in(student).get(f"/courses/{course.pk}/grades/").content.decode()
    assert "77.0" not in page and "Missing: counts 0" in page


def test_someone_not_enrolled_as_a_student_gets_a_404(course, outsider, instructor):
    assert logged_in(outsider).get(f"/courses/{course.pk}/grades/").status_code == 404
    assert logged_in(instructor).get(f"/courses/{course.pk}/grades/").status_code == 404
