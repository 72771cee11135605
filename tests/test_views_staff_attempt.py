"""The staff attempt page (a gradebook cell opens it): the student's answers, the key, feedback and the grading
history from the audit log, with the grading links; for the course's instructors and TAs only."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import attempts, clock, grading
from exams.gradebook import gradebook
from exams.models import Course, Membership, Response
from quizbank.models import Variant
from tests.conftest import make_user
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def graded_attempt(course, bank, student, instructor):
    """Sam's submitted attempt: the short question right, the essay graded by hand with feedback."""
    quiz = make_quiz(course, slugs=["web-double", "web-explain"], due_at=clock.now() + timedelta(hours=1))
    attempt = attempts.start_attempt(quiz, student)
    attempts.attempt_questions(attempt)
    for slot in attempt.slots.select_related("template"):
        key = Variant.objects.get(version=slot.template_version, seed=slot.seed).key
        text = f"{key['answer']:g}" if slot.template.slug == "web-double" else "It keeps the EXPECTED-VALUE-ESSAY."
        attempts.autosave(attempt, slot.pk, text, user=student)
    attempts.submit_attempt(attempt, user=student)
    essay = Response.objects.get(attempt=attempt, slot__template__slug="web-explain")
    grading.grade_manually(essay, instructor, 0.5, "HALF-MARKS-FEEDBACK: say why 1/(1-p).")
    attempt.refresh_from_db()
    return attempt


def test_the_instructor_sees_answers_key_feedback_and_grading_history(graded_attempt, instructor):
    page = logged_in(instructor).get(f"/manage/attempts/{graded_attempt.pk}/").content.decode()
    double = graded_attempt.slots.get(template__slug="web-double")
    key = Variant.objects.get(version=double.template_version, seed=double.seed).key
    assert "EXPECTED-VALUE-ESSAY" in page  # the student's answer
    assert f"{key['answer']:g}" in page and "Key:" in page  # the key
    assert "HALF-MARKS-FEEDBACK" in page  # the feedback
    history = page[page.index('id="grading-history"'):]
    assert "Grade given by hand" in history and instructor.username in history
    essay = graded_attempt.responses.get(slot__template__slug="web-explain")
    assert f'href="/manage/responses/{essay.pk}/grade"' in page  # the existing grading link


def test_a_ta_of_the_course_may_open_it(graded_attempt, ta):
    assert logged_in(ta).get(f"/manage/attempts/{graded_attempt.pk}/").status_code == 200


def test_the_student_and_outsiders_get_a_404(graded_attempt, student, other_student, outsider):
    for user in (student, other_student, outsider):
        assert logged_in(user).get(f"/manage/attempts/{graded_attempt.pk}/").status_code == 404


def test_staff_of_another_course_get_a_404(graded_attempt):
    elsewhere = Course.objects.create(code="OTHER1", title="Other")
    stranger = make_user("stranger-instructor")
    Membership.objects.create(course=elsewhere, user=stranger, role=Membership.INSTRUCTOR)
    assert logged_in(stranger).get(f"/manage/attempts/{graded_attempt.pk}/").status_code == 404


def test_an_attempt_without_changes_by_hand_says_so(course, bank, student, instructor):
    quiz = make_quiz(course, slugs=["web-double"])
    attempt = attempts.start_attempt(quiz, student)
    attempts.submit_attempt(attempt, user=student)
    page = logged_in(instructor).get(f"/manage/attempts/{attempt.pk}/").content.decode()
    assert 'id="no-history"' in page and "No answer." in page


def test_the_gradebook_cell_links_to_the_staff_attempt_page(graded_attempt, instructor, course):
    page = logged_in(instructor).get(f"/courses/{course.pk}/gradebook/").content.decode()
    assert f'href="/manage/attempts/{graded_attempt.pk}/"' in page
    cell = gradebook(course).rows[0].cells[f"a{graded_attempt.assessment_id}"]
    assert cell.attempt_id == graded_attempt.pk and cell.status == "graded"


def test_the_history_includes_the_students_excusal_and_override_for_that_assessment(graded_attempt, instructor):
    from exams.gradebook import excuse
    from exams.policy import set_override

    excuse(graded_attempt.assessment, graded_attempt.student, by=instructor, reason="MEDICAL-NOTE")
    set_override(graded_attempt.assessment, graded_attempt.student, extra_minutes=15, by=instructor)
    page = logged_in(instructor).get(f"/manage/attempts/{graded_attempt.pk}/").content.decode()
    history = page[page.index('id="grading-history"'):]
    assert "Excused" in history and "MEDICAL-NOTE" in history and "Dates or extra time set" in history
