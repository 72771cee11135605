"""Regrade requests: after results release a student asks once per graded answer, with a reason; staff answer
with a reply and perhaps a new score, which goes through grade_manually; both are in the audit log."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from exams import audit, clock, regrade_requests, rubrics
from exams.models import AuditEvent, RegradeRequest
from quizbank.services import save_spec
from tests.rubric_support import EXPLAIN_RUBRIC, submit_answer
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def graded(course, ta, student):
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    response = submit_answer(quiz, student, "Because.")
    return rubrics.apply_rubric(response, ta, [rubrics.items_for(quiz, template)[1].pk])


def release(response) -> None:
    assessment = response.attempt.assessment
    assessment.results_released_at = clock.now()
    assessment.save()


def test_a_student_cannot_ask_before_results_release(graded, student):
    with pytest.raises(ValueError, match="results are released"):
        regrade_requests.request_regrade(graded, student, "I named the vanishing gradient.")


def test_a_student_asks_once_with_a_reason(graded, student, other_student):
    release(graded)
    with pytest.raises(ValueError, match="Say why"):
        regrade_requests.request_regrade(graded, student, "  ")
    with pytest.raises(PermissionDenied):
        regrade_requests.request_regrade(graded, other_student, "Not mine.")
    request = regrade_requests.request_regrade(graded, student, "I named the vanishing gradient.")
    assert (request.state, request.score_before) == (RegradeRequest.OPEN, pytest.approx(1 / 3))
    with pytest.raises(ValueError, match="already asked"):
        regrade_requests.request_regrade(graded, student, "Again.")
    event = AuditEvent.objects.get(action=regrade_requests.REGRADE_REQUEST)
    assert (event.actor, event.reason) == (student, "I named the vanishing gradient.")


def test_staff_answer_with_a_new_score_and_the_change_is_recorded(graded, ta, student):
    release(graded)
    request = regrade_requests.request_regrade(graded, student, "I named the vanishing gradient.")
    answered = regrade_requests.answer_request(request, ta, "Yes, second sentence.", 1.0)
    graded.refresh_from_db()
    assert (answered.state, answered.score_after, graded.score) == (RegradeRequest.ANSWERED, 1.0, 1.0)
    change = AuditEvent.objects.filter(action=audit.GRADE_MANUAL).latest("pk")
    assert change.reason == "regrade request: Yes, second sentence." and change.after["score"] == 1.0
    answer = AuditEvent.objects.get(action=regrade_requests.REGRADE_ANSWER)
    assert (answer.before["score"], answer.after["score"], answer.after["changed"]) == (pytest.approx(1 / 3), 1.0, True)
    with pytest.raises(ValueError, match="already been answered"):
        regrade_requests.answer_request(answered, ta, "Again.", 0.0)


def test_staff_may_answer_without_changing_the_grade(graded, ta, student):
    release(graded)
    request = regrade_requests.request_regrade(graded, student, "Please look again.")
    answered = regrade_requests.answer_request(request, ta, "The rubric needs the chain rule.")
    graded.refresh_from_db()
    assert (answered.score_after, graded.score) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert AuditEvent.objects.get(action=regrade_requests.REGRADE_ANSWER).after["changed"] is False


def test_a_ta_cannot_change_an_instructors_grade_through_a_regrade_request(graded, instructor, ta, student):
    rubrics.apply_rubric(graded, instructor, [])
    release(graded)
    request = regrade_requests.request_regrade(graded, student, "Please look again.")
    with pytest.raises(PermissionDenied):
        regrade_requests.answer_request(request, ta, "Sure.", 1.0)
    request.refresh_from_db()
    assert request.state == RegradeRequest.OPEN
