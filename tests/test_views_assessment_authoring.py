"""The instructor builds assessments in the staff pages: create (presets, Baku-time dates, late-policy table,
blueprint rows and picked templates), edit with pool counts and warnings, duplicate, delete, template preview.
TAs, students and outsiders get 404s (like other courses' staff); every change is in the audit log."""
from __future__ import annotations

from datetime import datetime, timezone as dt_timezone

import pytest
from django.urls import reverse

from exams import audit
from exams.models import Assessment, Attempt, AuditEvent
from tests.web_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def form_data(**extra):
    data = {
        "action": "save", "title": "Quiz 2", "kind": "quiz", "category": "", "time_limit_minutes": "30",
        "attempts_allowed": "1", "position": "2", "opens_at": "2026-02-10T09:00", "due_at": "2026-02-12T23:00",
        "closes_at": "2026-02-13T23:00", "instructions": "Calculators *allowed*.", "after_last_tier_percent": "100",
        "tier_minutes": ["30", "1440", ""], "tier_penalty": ["10", "25", ""],
        "draw_qtype": ["mcq", "short", ""], "draw_count": ["1", "2", ""], "draw_lectures": ["1", "1-3", ""],
        "draw_tags": ["", "", ""], "picked": ["web-print"],
    }
    data.update(extra)
    return data


def test_the_instructor_creates_a_quiz_with_baku_dates_a_late_policy_and_a_blueprint(course, instructor, bank):
    client = logged_in(instructor)
    page = client.get(reverse("exams:new_assessment", args=[course.pk]))
    assert page.status_code == 200
    assert "Asia/Baku (UTC+04:00)" in page.content.decode()
    response = client.post(reverse("exams:new_assessment", args=[course.pk]), form_data())
    quiz = Assessment.objects.get(title="Quiz 2")
    assert response.status_code == 302 and response["Location"] == reverse("exams:edit_assessment", args=[quiz.pk])
    assert quiz.due_at == datetime(2026, 2, 12, 19, 0, tzinfo=dt_timezone.utc)  # 23:00 in Baku is 19:00 UTC
    assert quiz.late_policy == {"tiers": [{"up_to_minutes": 30, "penalty_percent": 10},
                                          {"up_to_minutes": 1440, "penalty_percent": 25}],
                                "after_last_tier_percent": 100}
    assert quiz.blueprint == [{"qtype": "mcq", "count": 1, "lectures": [1, 1]},
                              {"qtype": "short", "count": 2, "lectures": [1, 3]}, {"templates": ["web-print"]}]
    assert quiz.state == Assessment.DRAFT and quiz.instructions == "Calculators *allowed*."
    assert AuditEvent.objects.get(action=audit.ASSESSMENT_EDIT).after["operation"] == "create"


def test_the_edit_page_shows_each_draws_pool_and_warns_when_it_is_small_or_short(course, instructor, bank):
    quiz = make_quiz(course, slugs=["web-print"], published=False,
                     blueprint=[{"qtype": "mcq", "count": 1}, {"qtype": "short", "count": 3},
                                {"templates": ["web-print"]}])
    page = logged_in(instructor).get(reverse("exams:edit_assessment", args=[quiz.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-pool="1" data-count="1" data-status="thin"' in html  # one MCQ in the bank: no variety
    assert 'data-pool="2" data-count="3" data-status="short"' in html  # two short templates for three questions
    assert "Cannot be filled" in html and "Little variety" in html
    assert 'value="web-print" id="pick-web-print" checked' in html


def test_check_pools_counts_the_posted_blueprint_without_saving(course, instructor, bank):
    quiz = make_quiz(course, slugs=["web-print"], published=False)
    response = logged_in(instructor).post(reverse("exams:edit_assessment", args=[quiz.pk]),
                                          form_data(action="check", title=quiz.title))
    assert response.status_code == 200 and 'data-pool="2" data-count="2"' in response.content.decode()
    quiz.refresh_from_db()
    assert quiz.blueprint == [{"templates": ["web-print"]}] and not AuditEvent.objects.exists()


def test_the_live_pool_counts_answer_the_editor(course, instructor, bank):
    response = logged_in(instructor).post(reverse("exams:blueprint_pools", args=[course.pk]),
                                          {"draw_qtype": ["short"], "draw_count": ["1"], "draw_lectures": [""]})
    body = response.json()
    assert body["draws"] == [{"pool": 2, "count": 1, "status": "ok"}] and body["question_count"] == 1
    assert "pool-table" in body["html"]


def test_a_preset_fills_the_syllabus_quiz_over_the_given_lectures_without_saving(course, instructor, bank):
    response = logged_in(instructor).post(reverse("exams:new_assessment", args=[course.pk]),
                                          form_data(action="preset-exam", preset_lectures="1-15", picked=[]))
    html = response.content.decode()
    assert response.status_code == 200 and not Assessment.objects.exists()
    assert html.count('value="1-15"') == 4  # three draws and the lectures box
    assert 'name="draw_count" min="0" max="100" value="8"' in html and 'name="time_limit_minutes" value="60"' in html


def test_a_bad_row_or_bad_dates_save_nothing_and_say_why(course, instructor, bank):
    client = logged_in(instructor)
    response = client.post(reverse("exams:new_assessment", args=[course.pk]),
                           form_data(draw_lectures=["one", "1", ""], closes_at="2026-02-01T23:00"))
    html = response.content.decode()
    assert response.status_code == 400 and not Assessment.objects.exists()
    assert "Draw 1" in html
    response = client.post(reverse("exams:new_assessment", args=[course.pk]), form_data(closes_at="2026-02-01T23:00"))
    assert response.status_code == 400 and "closing time must be after" in response.content.decode()


def test_editing_a_started_quiz_refuses_a_new_blueprint_and_keeps_the_settings_editable(course, instructor, student, bank):
    quiz = make_quiz(course, slugs=["web-print"])
    Attempt.objects.create(assessment=quiz, student=student, seed=1, started_at=quiz.opens_at)
    client = logged_in(instructor)
    page = client.get(reverse("exams:edit_assessment", args=[quiz.pk])).content.decode()
    assert 'id="blueprint-locked"' in page and "fieldset class=\"plain\" disabled" in page
    refused = client.post(reverse("exams:edit_assessment", args=[quiz.pk]), form_data(title=quiz.title))
    assert refused.status_code == 400 and "blueprint is locked" in refused.content.decode()
    unchanged = form_data(title=quiz.title, time_limit_minutes="40")
    for name in ("draw_qtype", "draw_count", "draw_lectures", "draw_tags", "picked"):
        unchanged.pop(name)  # what the disabled editor posts
    assert client.post(reverse("exams:edit_assessment", args=[quiz.pk]), unchanged).status_code == 302
    quiz.refresh_from_db()
    assert quiz.time_limit_minutes == 40 and quiz.blueprint == [{"templates": ["web-print"]}]


def test_the_instructor_duplicates_and_deletes(course, instructor, bank):
    quiz = make_quiz(course, slugs=["web-print"])
    client = logged_in(instructor)
    response = client.post(reverse("exams:duplicate_assessment", args=[quiz.pk]))
    copy = Assessment.objects.get(title="Quiz 1 (copy)")
    assert response["Location"] == reverse("exams:edit_assessment", args=[copy.pk]) and copy.state == Assessment.DRAFT
    assert "Delete Quiz 1 (copy)" in client.get(reverse("exams:delete_assessment", args=[copy.pk])).content.decode()
    response = client.post(reverse("exams:delete_assessment", args=[copy.pk]))
    assert response["Location"] == reverse("exams:course", args=[course.pk])
    assert not Assessment.objects.filter(pk=copy.pk).exists()
    assert AuditEvent.objects.filter(action=audit.ASSESSMENT_EDIT).count() == 2


def test_an_assessment_with_attempts_is_not_deleted(course, instructor, student, bank):
    quiz = make_quiz(course, slugs=["web-print"])
    Attempt.objects.create(assessment=quiz, student=student, seed=1, started_at=quiz.opens_at)
    client = logged_in(instructor)
    assert 'id="delete-refused"' in client.get(reverse("exams:delete_assessment", args=[quiz.pk])).content.decode()
    client.post(reverse("exams:delete_assessment", args=[quiz.pk]))
    assert Assessment.objects.filter(pk=quiz.pk).exists()


def test_the_template_preview_shows_the_question_and_its_answer_key(course, instructor, bank):
    page = logged_in(instructor).get(reverse("exams:template_preview", args=[course.pk, "web-double"]))
    html = page.content.decode()
    assert page.status_code == 200 and "What is 2 ×" in html and "Answer key" in html
    assert html.count('class="card preview-card"') == 3


def test_the_course_and_assessment_pages_link_to_the_builder(course, instructor, bank):
    quiz = make_quiz(course, slugs=["web-print"])
    client = logged_in(instructor)
    assert reverse("exams:new_assessment", args=[course.pk]) in client.get(
        reverse("exams:course", args=[course.pk])).content.decode()
    manage = client.get(reverse("exams:manage_assessment", args=[quiz.pk])).content.decode()
    assert reverse("exams:edit_assessment", args=[quiz.pk]) in manage
    assert reverse("exams:release_controls", args=[quiz.pk]) in manage


@pytest.mark.parametrize("who", ["ta", "student", "outsider"])
def test_only_the_instructor_builds_assessments(who, request, course, instructor, bank):
    quiz = make_quiz(course, slugs=["web-print"], published=False)
    client = logged_in(request.getfixturevalue(who))
    gets = [reverse("exams:new_assessment", args=[course.pk]), reverse("exams:edit_assessment", args=[quiz.pk]),
            reverse("exams:delete_assessment", args=[quiz.pk]),
            reverse("exams:template_preview", args=[course.pk, "web-double"])]
    posts = gets[:3] + [reverse("exams:duplicate_assessment", args=[quiz.pk]),
                        reverse("exams:blueprint_pools", args=[course.pk])]
    assert [client.get(url).status_code for url in gets] == [404] * len(gets)
    assert [client.post(url, form_data()).status_code for url in posts] == [404] * len(posts)
    assert Assessment.objects.count() == 1 and not AuditEvent.objects.exists()
    if who == "ta":  # the TA still sees the course page, without the builder's links
        assert reverse("exams:new_assessment", args=[course.pk]) not in client.get(
            reverse("exams:course", args=[course.pk])).content.decode()


def test_logged_out_visitors_are_sent_to_log_in(course, bank):
    from django.test import Client

    response = Client().get(reverse("exams:new_assessment", args=[course.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_start_page_renders_the_instructions_as_markdown_without_raw_html(course, student, bank):
    quiz = make_quiz(course, slugs=["web-double"], instructions="Closed **book**.\n\n<script>alert(1)</script>")
    page = logged_in(student).get(reverse("exams:assessment", args=[quiz.pk])).content.decode()
    assert "Closed <strong>book</strong>." in page and "<script>alert(1)" not in page
