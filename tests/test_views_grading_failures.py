"""Through the client: an answer whose checking raises never blocks the student's submit or any page; staff
see it in the grading queue with its reason and retry it; stuck attempts are listed with a force-submit."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exams import attempts as attempt_service
from exams import audit, clock
from exams.grading import ERROR_FEEDBACK
from exams.models import Attempt, AuditEvent, Response
from tests.grading_faults import BROKEN_SLUG, broken_template, fix_template
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def broken_quiz(course, bank):
    broken_template()
    return make_quiz(course, slugs=["web-double", BROKEN_SLUG], results_released_at=clock.now())


def answer_everything(quiz, student) -> Attempt:
    attempt = attempt_service.start_attempt(quiz, student)
    attempt_service.attempt_questions(attempt)
    for slot in attempt.slots.all():
        attempt_service.autosave(attempt, slot.pk, "4", user=student)
    return attempt


def broken_response(attempt: Attempt) -> Response:
    return Response.objects.get(attempt=attempt, slot__template__slug=BROKEN_SLUG)


@pytest.fixture
def failed(broken_quiz, student) -> Response:
    """The student submitted through the page; their answer to the broken template is in ERROR."""
    attempt = answer_everything(broken_quiz, student)
    assert logged_in(student).post(f"/attempts/{attempt.pk}/submit").status_code == 302
    return broken_response(attempt)


def test_the_students_submit_goes_through_and_the_result_page_says_staff_will_grade_it(failed, student):
    attempt = Attempt.objects.get(pk=failed.attempt_id)
    assert attempt.state == Attempt.SUBMITTED
    assert Response.objects.get(attempt=attempt, slot__template__slug="web-double").grading_state == Response.GRADED
    page = logged_in(student).get(f"/attempts/{attempt.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "could not be graded automatically; your instructor has been told" in html
    assert "OverflowError" not in html and failed.grading_error not in html


def test_the_grading_queue_shows_the_error_with_its_staff_only_reason_and_a_retry_button(failed, ta):
    page = logged_in(ta).get(f"/manage/assessments/{failed.attempt.assessment_id}/grading/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="grading-errors"' in html and "OverflowError: int too large to convert to float" in html
    assert f'action="/manage/responses/{failed.pk}/retry"' in html


def test_a_ta_retries_after_the_template_is_fixed_and_the_answer_is_graded(failed, ta):
    fix_template(failed.slot.template)
    client = logged_in(ta, csrf=True)
    queue = f"/manage/assessments/{failed.attempt.assessment_id}/grading/"
    client.get(queue)
    token = client.cookies["csrftoken"].value
    page = client.post(f"/manage/responses/{failed.pk}/retry", {"csrfmiddlewaretoken": token}, follow=True)
    assert page.redirect_chain[-1][0] == queue
    assert "was graded automatically" in page.content.decode()
    failed.refresh_from_db()
    assert (failed.grading_state, failed.grading_error) == (Response.GRADED, "")
    assert AuditEvent.objects.filter(action=audit.GRADE_RETRY, actor=ta, target_id=failed.pk).exists()


def test_a_retry_that_still_fails_says_why_and_the_answer_stays_in_the_queue(failed, instructor):
    page = logged_in(instructor).post(f"/manage/responses/{failed.pk}/retry", follow=True)
    assert "still cannot be graded automatically: OverflowError" in page.content.decode()
    assert 'id="grading-errors"' in page.content.decode()
    failed.refresh_from_db()
    assert failed.grading_state == Response.ERROR


def test_only_course_staff_may_retry_and_only_by_a_post_with_the_csrf_token(failed, student, outsider, ta):
    url = f"/manage/responses/{failed.pk}/retry"
    assert logged_in(student).post(url).status_code == 404
    assert logged_in(outsider).post(url).status_code == 404
    assert logged_in(ta).get(url).status_code == 405
    assert logged_in(ta, csrf=True).post(url).status_code == 403
    failed.refresh_from_db()
    assert failed.grading_state == Response.ERROR and not AuditEvent.objects.exists()


def test_the_course_page_and_the_gradebook_load_and_show_the_answer_as_waiting(failed, instructor):
    client = logged_in(instructor)
    course_page = client.get(f"/courses/{failed.attempt.assessment.course_id}/")
    assert course_page.status_code == 200 and "1 failed" in course_page.content.decode()
    gradebook = client.get(f"/courses/{failed.attempt.assessment.course_id}/gradebook/")
    assert gradebook.status_code == 200
    assert '<td class="num" title="Waiting for grading: not counted yet">' in gradebook.content.decode()


def test_the_grading_page_of_an_answer_to_a_broken_template_still_loads(failed, ta):
    assert logged_in(ta).get(f"/manage/responses/{failed.pk}/grade").status_code == 200


def test_a_students_dashboard_closes_their_overdue_attempt_even_when_an_answer_cannot_be_checked(broken_quiz,
                                                                                                 student):
    attempt = answer_everything(broken_quiz, student)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=clock.now() - timedelta(minutes=5))
    assert logged_in(student).get("/").status_code == 200
    attempt.refresh_from_db()
    assert (attempt.state, attempt.submitted_by) == (Attempt.SUBMITTED, Attempt.BY_TIMER)
    assert broken_response(attempt).feedback == ERROR_FEEDBACK


@pytest.fixture
def stuck(quiz, student) -> Attempt:
    attempt = attempt_service.start_attempt(quiz, student)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=clock.now() - timedelta(minutes=10),
                                                 close_error="RuntimeError: the database refused the write",
                                                 close_failed_at=clock.now() - timedelta(minutes=9))
    return attempt


def test_staff_pages_count_the_attempts_that_could_not_be_closed_and_offer_a_force_submit(stuck, ta):
    client = logged_in(ta)
    for url in (f"/courses/{stuck.assessment.course_id}/", f"/manage/assessments/{stuck.assessment_id}/grading/"):
        html = client.get(url).content.decode()
        assert "1 attempt could not be closed automatically" in html
        assert "RuntimeError: the database refused the write" in html
        assert f'action="/manage/attempts/{stuck.pk}/force-submit"' in html


def test_a_ta_force_submits_a_stuck_attempt_from_the_course_page(stuck, ta):
    client = logged_in(ta, csrf=True)
    client.get(f"/courses/{stuck.assessment.course_id}/")
    page = client.post(f"/manage/attempts/{stuck.pk}/force-submit",
                       {"back": "course", "csrfmiddlewaretoken": client.cookies["csrftoken"].value}, follow=True)
    assert page.redirect_chain[-1][0] == f"/courses/{stuck.assessment.course_id}/"
    assert "could not be closed automatically" not in page.content.decode()
    stuck.refresh_from_db()
    assert (stuck.state, stuck.submitted_by, stuck.close_error) == (Attempt.SUBMITTED, Attempt.BY_STAFF, "")
    assert AuditEvent.objects.filter(action=audit.ATTEMPT_FORCE_SUBMIT, actor=ta).count() == 1


def test_only_course_staff_may_force_submit_and_only_by_a_post_with_the_csrf_token(stuck, student, outsider, ta):
    url = f"/manage/attempts/{stuck.pk}/force-submit"
    assert logged_in(student).post(url).status_code == 404
    assert logged_in(outsider).post(url).status_code == 404
    assert logged_in(ta).get(url).status_code == 405
    assert logged_in(ta, csrf=True).post(url).status_code == 403
    stuck.refresh_from_db()
    assert stuck.state == Attempt.IN_PROGRESS


def test_force_submitting_twice_says_it_was_already_submitted(stuck, instructor):
    client = logged_in(instructor)
    client.post(f"/manage/attempts/{stuck.pk}/force-submit")
    page = client.post(f"/manage/attempts/{stuck.pk}/force-submit", follow=True)
    assert "already submitted" in page.content.decode()


def test_the_gradebook_offers_the_force_submit_on_a_stuck_attempts_cell_and_comes_back_to_it(stuck, instructor):
    client = logged_in(instructor)
    gradebook = f"/courses/{stuck.assessment.course_id}/gradebook/"
    assert f'action="/manage/attempts/{stuck.pk}/force-submit"' in client.get(gradebook).content.decode()
    page = client.post(f"/manage/attempts/{stuck.pk}/force-submit", {"back": "gradebook"})
    assert page["Location"] == gradebook
    assert f'action="/manage/attempts/{stuck.pk}/force-submit"' not in client.get(gradebook).content.decode()
