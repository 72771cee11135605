"""Regrade requests on the web: the student asks from the results page after release, once; staff see the
queue and answer; the student sees the reply; other students and outsiders get 404."""
from __future__ import annotations

import pytest

from exams import clock, rubrics
from exams.models import RegradeRequest
from quizbank.services import save_spec
from tests.rubric_support import EXPLAIN_RUBRIC, submit_answer
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def released(course, ta, student):
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    response = rubrics.apply_rubric(submit_answer(quiz, student, "Because."), ta,
                                    [rubrics.items_for(quiz, template)[1].pk])
    quiz.results_released_at = clock.now()
    quiz.save()
    return response


def test_a_student_asks_from_the_results_page_and_staff_answer_from_the_queue(released, ta, student):
    client = logged_in(student)  # noqa: F405
    result_url = f"/attempts/{released.attempt_id}/"
    assert "Ask for a regrade" in client.get(result_url).content.decode()
    sent = client.post(f"/attempts/{released.attempt_id}/regrade-request",
                       {"slot_id": released.slot_id, "reason": "I named the vanishing gradient."}, follow=True)
    page = sent.content.decode()
    assert "was sent" in page and "waiting for an answer" in page and "Ask for a regrade" not in page
    again = client.post(f"/attempts/{released.attempt_id}/regrade-request",
                        {"slot_id": released.slot_id, "reason": "Again"}, follow=True)
    assert "already asked" in again.content.decode() and RegradeRequest.objects.count() == 1
    staff = logged_in(ta)  # noqa: F405
    queue_url = f"/manage/assessments/{released.attempt.assessment_id}/regrade-requests/"
    assert "(1 open)" in staff.get(f"/manage/assessments/{released.attempt.assessment_id}/grading/").content.decode()
    assert "I named the vanishing gradient." in staff.get(queue_url).content.decode()
    request = RegradeRequest.objects.get()
    staff.post(f"/manage/regrade-requests/{request.pk}/answer", {"reply": "Agreed.", "score_percent": "100"})
    released.refresh_from_db()
    assert released.score == 1.0
    page = client.get(result_url).content.decode()
    assert "Agreed." in page and "score changed to 100%" in page


def test_others_get_404(released, other_student, outsider, student):
    for person in (other_student, outsider):
        client = logged_in(person)  # noqa: F405
        assert client.post(f"/attempts/{released.attempt_id}/regrade-request",
                           {"slot_id": released.slot_id, "reason": "x"}).status_code == 404
        assert client.get(f"/manage/assessments/{released.attempt.assessment_id}/regrade-requests/").status_code == 404
    logged_in(student).post(f"/attempts/{released.attempt_id}/regrade-request",  # noqa: F405
                            {"slot_id": released.slot_id, "reason": "Please."})
    request = RegradeRequest.objects.get()
    for person in (student, other_student, outsider):
        assert logged_in(person).post(f"/manage/regrade-requests/{request.pk}/answer",  # noqa: F405
                                      {"reply": "x", "score_percent": "100"}).status_code == 404
    request.refresh_from_db()
    assert request.state == RegradeRequest.OPEN


def test_a_question_id_that_is_not_one_of_the_attempt_is_a_404_not_a_500(released, student):
    client = logged_in(student)  # noqa: F405
    for slot_id in ("9" * 5000, "-1", "abc", ""):
        sent = client.post(f"/attempts/{released.attempt_id}/regrade-request", {"slot_id": slot_id, "reason": "x"})
        assert sent.status_code == 404, slot_id
    assert not RegradeRequest.objects.exists()
