"""The grading page: a TA grades answers waiting for a grader; changing an automatic or an instructor's grade
is an override that only an instructor makes, with a reason; regrade says which hand grades it left alone."""
from __future__ import annotations

from exams import attempts as attempt_service
from exams import audit
from exams.models import AuditEvent, Response
from tests.web_fixtures import *  # noqa: F403


def submitted(quiz, student, answers: dict[str, str]):
    attempt = attempt_service.start_attempt(quiz, student)
    for slug, text in answers.items():
        attempt_service.autosave(attempt, attempt.slots.get(template__slug=slug).pk, text, user=student)
    return attempt_service.submit_attempt(attempt, user=student)


def auto_graded(quiz, student) -> Response:
    attempt = submitted(quiz, student, {"web-double": "0", "web-explain": "Because."})
    return Response.objects.get(attempt=attempt, slot__template__slug="web-double")


def test_a_ta_is_told_only_an_instructor_can_change_an_automatic_grade_and_a_post_is_refused(quiz, ta, student):
    response_row = auto_graded(quiz, student)
    client = logged_in(ta)
    page = client.get(f"/manage/responses/{response_row.pk}/grade").content.decode()
    assert 'id="override-refused"' in page and "only an instructor can change its grade" in page
    assert client.post(f"/manage/responses/{response_row.pk}/grade",
                       {"score_percent": "100", "reason": "generous"}).status_code == 403
    response_row.refresh_from_db()
    assert (response_row.score, response_row.graded_by) == (0.0, None)
    assert not AuditEvent.objects.filter(action__startswith="grade.").exists()


def test_an_instructor_overriding_an_automatic_grade_must_give_a_reason(quiz, instructor, student):
    response_row = auto_graded(quiz, student)
    client = logged_in(instructor)
    page = client.get(f"/manage/responses/{response_row.pk}/grade").content.decode()
    assert 'id="override-notice"' in page and 'name="reason"' in page
    refused = client.post(f"/manage/responses/{response_row.pk}/grade", {"score_percent": "100"})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    response_row.refresh_from_db()
    assert response_row.score == 0.0
    saved = client.post(f"/manage/responses/{response_row.pk}/grade",
                        {"score_percent": "100", "reason": "Accepted 2a as an answer"})
    assert saved.status_code == 302
    response_row.refresh_from_db()
    assert (response_row.score, response_row.graded_by) == (1.0, instructor)
    event = AuditEvent.objects.get(action=audit.GRADE_OVERRIDE)
    assert (event.reason, event.before["score"], event.after["score"]) == ("Accepted 2a as an answer", 0.0, 1.0)


def test_a_ta_grades_an_answer_waiting_for_a_grader_without_a_reason(quiz, ta, student):
    submitted(quiz, student, {"web-explain": "Because."})
    waiting = Response.objects.get(grading_state=Response.MANUAL)
    client = logged_in(ta)
    assert 'name="reason"' not in client.get(f"/manage/responses/{waiting.pk}/grade").content.decode()
    assert client.post(f"/manage/responses/{waiting.pk}/grade", {"score_percent": "50"}).status_code == 302
    event = AuditEvent.objects.get(action=audit.GRADE_MANUAL)
    assert (event.actor, event.after["score"]) == (ta, 0.5)


def test_the_regrade_message_says_how_many_responses_staff_graded_by_hand_were_left_alone(quiz, instructor, student,
                                                                                          other_student):
    client = logged_in(instructor)
    for person in (student, other_student):
        row = auto_graded(quiz, person)
        client.post(f"/manage/responses/{row.pk}/grade", {"score_percent": "40", "reason": "partial credit"})
    template_id = row.slot.template_id
    page = client.post(f"/manage/assessments/{quiz.pk}/regrade", {"template_id": template_id}, follow=True)
    assert "2 responses were left alone because staff graded them by hand" in page.content.decode()
