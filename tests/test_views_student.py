"""The student's pages through Django's test client: dashboard, start page, quiz page, autosave, submit, results."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from exams import clock
from exams.models import Attempt, Response
from tests.web_fixtures import *  # noqa: F403


def start(client, quiz) -> Attempt:
    response = client.post(f"/assessments/{quiz.pk}/start")
    assert response.status_code == 302, response.content
    return Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def save(client, attempt, slot_id, text, **extra):
    return client.post(f"/attempts/{attempt.pk}/save", data=json.dumps({"slot": slot_id, "response": text, **extra}),
                       content_type="application/json")


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_dashboard_lists_the_students_published_assessments_but_not_drafts(course, bank, student):
    make_quiz(course, slugs=["web-double"], title="Quiz 1")
    make_quiz(course, slugs=["web-double"], title="Quiz 2 draft", published=False)
    page = logged_in(student).get("/").content.decode()
    assert "Quiz 1" in page and "Open" in page
    assert "Quiz 2 draft" not in page


def test_the_start_page_states_the_rules(quiz, student):
    page = logged_in(student).get(f"/assessments/{quiz.pk}/").content.decode()
    assert "30 minutes" in page
    assert "0 of 1 used" in page
    assert "Start Quiz 1" in page


def test_a_draft_assessment_is_not_found_for_students(course, bank, student):
    draft = make_quiz(course, slugs=["web-double"], published=False)
    assert logged_in(student).get(f"/assessments/{draft.pk}/").status_code == 404


def test_starting_twice_resumes_the_same_attempt(quiz, student):
    client = logged_in(student)
    assert start(client, quiz) == start(client, quiz)
    assert Attempt.objects.filter(student=student).count() == 1


def test_the_quiz_page_shows_every_question_with_its_control_and_the_remaining_time(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert page.count('class="question"') == 4
    assert 'type="radio"' in page  # MCQ
    assert "What is 2 × " in page  # short answer stem
    assert "What does the program print?" in page  # output prediction textarea label
    assert 'data-remaining="18' in page or 'data-remaining="17' in page  # ~1800 s left
    assert "bundles/quiz.js" in page and "bundles/quiz.css" in page  # quiz.js, CodeMirror and KaTeX
    assert "/pygments.css" not in page  # its colours are in the stylesheet bundle


def test_autosave_stores_the_answer_and_the_page_shows_it_after_a_reload(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    result = save(client, attempt, slot.pk, "14", seq=5)
    assert result.status_code == 200 and result.json()["ok"] is True
    assert 0 < result.json()["remaining_seconds"] <= 1800
    assert Response.objects.get(slot=slot).text == "14"
    assert 'value="14"' in client.get(f"/attempts/{attempt.pk}/").content.decode()


def test_an_older_save_never_overwrites_a_newer_one(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    save(client, attempt, slot.pk, "new", seq=20)
    assert save(client, attempt, slot.pk, "old", seq=10).json()["stale"] is True
    assert Response.objects.get(slot=slot).text == "new"


def test_autosave_rejects_malformed_requests_with_a_message(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    bad = client.post(f"/attempts/{attempt.pk}/save", data="not json", content_type="application/json")
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    assert save(client, attempt, "1", "x").status_code == 400
    assert save(client, attempt, attempt.slots.first().pk, "x" * 20_001).status_code == 400
    for absurd_slot in (0, -3, 2**70):  # 2**70 would overflow a PostgreSQL bigint: a 500 if it reached the database
        assert save(client, attempt, absurd_slot, "x").status_code == 400


def test_the_state_endpoint_reports_the_server_clock(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    state = client.get(f"/attempts/{attempt.pk}/state").json()
    assert state["open"] is True and 1790 <= state["remaining_seconds"] <= 1800


def test_submitting_closes_the_attempt_and_shows_the_submitted_page(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    response = client.post(f"/attempts/{attempt.pk}/submit", {"reason": "student"})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.state == Attempt.SUBMITTED and attempt.submitted_by == Attempt.BY_STUDENT
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Submitted" in page and "Results are not released yet" in page


def test_a_save_after_submission_is_refused_with_409_and_the_closed_flag(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    client.post(f"/attempts/{attempt.pk}/submit")
    refused = save(client, attempt, attempt.slots.first().pk, "late")
    assert refused.status_code == 409 and refused.json()["closed"] is True


def test_a_save_past_the_deadline_and_grace_is_refused(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    clock.freeze(clock.now() + timedelta(minutes=31))
    try:
        refused = save(client, attempt, attempt.slots.first().pk, "too late")
        page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    finally:
        clock.unfreeze()
    assert refused.status_code == 409 and "Time is up" in refused.json()["error"]
    assert 'id="quiz"' not in page  # no answer form once time is up


def test_after_release_the_student_sees_score_feedback_and_correct_answers(quiz, student):
    client = logged_in(student)
    attempt = start(client, quiz)
    slot = attempt.slots.get(template__slug="web-double")
    save(client, attempt, slot.pk, "0")
    client.post(f"/attempts/{attempt.pk}/submit")
    quiz.results_released_at = quiz.answers_released_at = clock.now() - timedelta(minutes=1)
    quiz.save()
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Your score" in page
    assert "Correct answer:" in page
    assert "Two times" in page  # the explanation


def test_the_pygments_stylesheet_is_served(db):
    response = Client().get("/pygments.css")
    assert response.status_code == 200 and ".highlight" in response.content.decode()


def test_a_code_completion_question_gets_an_editor_prefilled_with_the_starter(course, student):
    from quizbank.services import save_spec

    save_spec(SQUARE_COMPLETION)
    completion_quiz = make_quiz(course, slugs=["web-square"])
    client = logged_in(student)
    attempt = start(client, completion_quiz)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert 'data-editor="python"' in page
    assert "return x</textarea>" in page  # the starter region (dedented)
    assert '<span class="nf">square</span>' in page  # the scaffold around it, highlighted
    assert "bundles/quiz.js" in page  # CodeMirror is in the quiz bundle
