"""The issue's security list, each with a test: no answer key reaches a student before release; another
student's attempt is a 404; every POST needs CSRF; the session key changes at login (login limits: test_views_login_limits.py);
autosave checks owner, state and deadline on the server; staff only see their own courses."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from exams import clock
from exams.models import Attempt, Course, Membership, Response
from tests.web_fixtures import *  # noqa: F403


def start(client, quiz) -> Attempt:
    response = client.post(f"/assessments/{quiz.pk}/start")
    assert response.status_code == 302, response.content
    return Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def everything_the_student_can_fetch(client, attempt) -> str:
    """Every page, JSON answer and script the student's browser receives while taking the quiz."""
    slot = attempt.slots.first()
    bodies = [
        client.get("/").content,
        client.get(f"/assessments/{attempt.assessment_id}/").content,
        client.get(f"/attempts/{attempt.pk}/").content,
        client.get(f"/attempts/{attempt.pk}/state").content,
        client.post(f"/attempts/{attempt.pk}/save", data=json.dumps({"slot": slot.pk, "response": "1"}),
                    content_type="application/json").content,
    ]
    return b"\n".join(bodies).decode()


# --- answer keys ----------------------------------------------------------------------------------------
def test_no_answer_key_reaches_the_student_while_answering(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    sent = everything_the_student_can_fetch(client, attempt)
    for secret in answer_key_strings(attempt):
        assert secret not in sent
    assert "RUBRIC-SECRET" not in sent and "option_sources" not in sent and "Two times" not in sent


def test_the_correct_numeric_answer_is_not_in_the_quiz_page(quiz, student):
    from quizbank.services import variant_for

    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    key = variant_for(slot.template_version, slot.seed).key
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    a = key["params"]["a"]
    assert f"2 × {a}" in page  # the stem is there...
    assert f'"answer": {key["answer"]}' not in page and f">{key['answer']}<" not in page  # ...its answer is not


def test_after_submission_but_before_release_nothing_of_the_key_is_shown(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    client.post(f"/attempts/{attempt.pk}/submit")
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Correct answer" not in page and "RUBRIC-SECRET" not in page and "Two times" not in page


def test_released_results_without_released_answers_still_hide_the_key(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    client.post(f"/attempts/{attempt.pk}/submit")
    quiz.results_released_at = clock.now() - timedelta(minutes=1)
    quiz.save()
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Your score" in page
    assert "Correct answer" not in page and "RUBRIC-SECRET" not in page and "Two times" not in page


# --- other people's work ----------------------------------------------------------------------------------
def test_another_students_attempt_and_its_endpoints_are_404(quiz, student, other_student):
    attempt = start(logged_in(other_student), quiz)
    intruder = logged_in(student)
    slot = attempt.slots.first()
    assert intruder.get(f"/attempts/{attempt.pk}/").status_code == 404
    assert intruder.get(f"/attempts/{attempt.pk}/state").status_code == 404
    assert intruder.post(f"/attempts/{attempt.pk}/save", data=json.dumps({"slot": slot.pk, "response": "x"}),
                         content_type="application/json").status_code == 404
    assert intruder.post(f"/attempts/{attempt.pk}/submit").status_code == 404
    attempt.refresh_from_db()
    assert attempt.is_open and Response.objects.get(slot=slot).text == ""


def test_saving_into_a_slot_of_another_attempt_is_404(quiz, student, other_student):
    theirs = start(logged_in(other_student), quiz)
    client = logged_in(student)
    mine = start(client, quiz)
    their_slot = theirs.slots.first()
    response = client.post(f"/attempts/{mine.pk}/save", data=json.dumps({"slot": their_slot.pk, "response": "x"}),
                           content_type="application/json")
    assert response.status_code == 404
    assert Response.objects.get(slot=their_slot).text == ""


def test_students_cannot_open_staff_pages(quiz, student):
    client = logged_in(student)
    for url in (f"/courses/{quiz.course_id}/", f"/courses/{quiz.course_id}/gradebook/",
                f"/courses/{quiz.course_id}/gradebook.csv", f"/manage/assessments/{quiz.pk}/",
                f"/manage/assessments/{quiz.pk}/responses.csv", f"/manage/assessments/{quiz.pk}/progress.json",
                f"/manage/assessments/{quiz.pk}/grading/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/manage/assessments/{quiz.pk}/publish").status_code == 404


def test_staff_of_another_course_see_nothing_of_this_one(quiz, outsider):
    other = Course.objects.create(code="OTHER1", title="Other")
    Membership.objects.create(course=other, user=outsider, role=Membership.INSTRUCTOR)
    client = logged_in(outsider)
    assert client.get(f"/courses/{quiz.course_id}/gradebook/").status_code == 404
    assert client.get(f"/manage/assessments/{quiz.pk}/").status_code == 404
    assert client.get(f"/assessments/{quiz.pk}/").status_code == 404
    assert "CSCI4701" not in client.get("/").content.decode()


def test_a_student_of_another_course_cannot_see_or_start_this_assessment(quiz, outsider):
    client = logged_in(outsider)
    assert client.get(f"/assessments/{quiz.pk}/").status_code == 404
    assert client.post(f"/assessments/{quiz.pk}/start").status_code == 404
    assert not Attempt.objects.exists()


def test_a_ta_can_grade_but_not_publish(course, bank, ta):
    draft = make_quiz(course, slugs=["web-double"], published=False)
    client = logged_in(ta)
    assert client.get(f"/manage/assessments/{draft.pk}/").status_code == 200
    assert client.post(f"/manage/assessments/{draft.pk}/publish").status_code == 404
    draft.refresh_from_db()
    assert not draft.is_published


# --- CSRF -------------------------------------------------------------------------------------------------
def test_every_post_endpoint_refuses_a_request_without_a_csrf_token(quiz, student, instructor):
    student_client = logged_in(student, csrf=True)
    attempt = start(logged_in(student), quiz)
    slot = attempt.slots.first()
    staff_client = logged_in(instructor, csrf=True)
    student_posts = [
        (f"/assessments/{quiz.pk}/start", {}),
        (f"/attempts/{attempt.pk}/save", {"slot": slot.pk, "response": "x"}),
        (f"/attempts/{attempt.pk}/submit", {}),
        ("/accounts/logout/", {}),
    ]
    for url, data in student_posts:
        assert student_client.post(url, data=json.dumps(data), content_type="application/json").status_code == 403, url
    staff_posts = [f"/manage/assessments/{quiz.pk}/publish", f"/manage/assessments/{quiz.pk}/regrade",
                   f"/manage/responses/{slot.response.pk}/grade", f"/manage/assessments/{quiz.pk}/overrides",
                   f"/manage/assessments/{quiz.pk}/excuse", f"/manage/assessments/{quiz.pk}/unexcuse",
                   f"/courses/{quiz.course_id}/roster"]
    for url in staff_posts:
        assert staff_client.post(url, {"score_percent": 100, "template_id": 1, "student": student.pk,
                                       "extra_minutes": 10}).status_code == 403, url
    from exams.models import ManualGradeItem, StudentOverride, Excusal

    item = ManualGradeItem.objects.create(course=quiz.course, title="Team project")
    assert staff_client.post(f"/courses/{quiz.course_id}/manual/{item.pk}/",
                             {"student": student.pk, "points": 90}).status_code == 403
    assert not StudentOverride.objects.exists() and not Excusal.objects.exists() and not item.entries.exists()
    assert Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "sam", "password": PASSWORD}).status_code == 403
    attempt.refresh_from_db()
    assert attempt.is_open and Response.objects.get(slot=slot).text == ""


def test_autosave_with_the_csrf_header_is_accepted(quiz, student):
    client = logged_in(student, csrf=True)
    client.get(f"/assessments/{quiz.pk}/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(f"/assessments/{quiz.pk}/start", {"csrfmiddlewaretoken": token})
    attempt = Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    saved = client.post(f"/attempts/{attempt.pk}/save", data=json.dumps({"slot": attempt.slots.first().pk, "response": "3"}),
                        content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert saved.status_code == 200


# --- login ------------------------------------------------------------------------------------------------
@pytest.fixture
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_session_key_changes_at_login(student, empty_cache):
    client = Client()
    client.get("/accounts/login/")
    session = client.session
    session["before_login"] = True
    session.save()
    key_before = session.session_key
    response = client.post("/accounts/login/", {"username": "sam", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.session_key != key_before
    assert client.session["_auth_user_id"] == str(student.pk)


def test_logout_needs_a_post_and_ends_the_session(student):
    client = logged_in(student)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


# --- autosave server checks ---------------------------------------------------------------------------------
def test_autosave_refuses_saves_to_a_submitted_attempt(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.first()
    client.post(f"/attempts/{attempt.pk}/submit")
    refused = client.post(f"/attempts/{attempt.pk}/save", data=json.dumps({"slot": slot.pk, "response": "late"}),
                          content_type="application/json")
    assert refused.status_code == 409
    assert Response.objects.get(slot=slot).text == ""


def test_autosave_accepts_a_save_within_the_grace_and_refuses_one_after_it(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.first()
    body = lambda text: json.dumps({"slot": slot.pk, "response": text})  # noqa: E731
    try:
        clock.freeze(attempt.deadline + timedelta(seconds=5))
        in_grace = client.post(f"/attempts/{attempt.pk}/save", data=body("in flight"), content_type="application/json")
        clock.freeze(attempt.deadline + timedelta(seconds=60))
        too_late = client.post(f"/attempts/{attempt.pk}/save", data=body("too late"), content_type="application/json")
    finally:
        clock.unfreeze()
    assert in_grace.status_code == 200
    assert too_late.status_code == 409
    assert Response.objects.get(slot=slot).text == "in flight"
