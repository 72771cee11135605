"""Staff pages for overrides, excusals, manual grade entries, roster upload and course-scoped regrade, through
Django's test client. Instructors change; TAs see; students and outsiders get 404s."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exams import attempts as attempt_service
from exams import clock
from exams.models import Course, Excusal, ManualGradeItem, Membership, Response, StudentOverride
from quizbank.models import Variant
from quizbank.services import save_spec
from tests.conftest import make_user
from tests.web_fixtures import *  # noqa: F403

BAKU = ZoneInfo("Asia/Baku")


@pytest.fixture
def single(course, bank):
    """A one-question published quiz (the 'double it' short answer)."""
    return make_quiz(course, slugs=["web-double"])


@pytest.fixture
def project(course) -> ManualGradeItem:
    return ManualGradeItem.objects.create(course=course, title="Team project", max_points=Decimal(100),
                                          category=course.categories.create(name="Team project", weight=25, position=0))


def right_answer(attempt) -> str:
    slot = attempt.slots.get()
    return str(Variant.objects.get(version=slot.template_version, seed=slot.seed).key["answer"])


def take(quiz, student, *, right: bool = True):
    attempt = attempt_service.start_attempt(quiz, student)
    attempt_service.attempt_questions(attempt)  # the quiz page: generates the variant in the runner
    attempt_service.autosave(attempt, attempt.slots.get().pk, right_answer(attempt) if right else "-1", user=student)
    return attempt_service.submit_attempt(attempt, user=student)


# --- overrides --------------------------------------------------------------------------------------------
def test_an_instructor_gives_a_student_extra_time_and_other_dates_on_the_assessment_page(single, instructor, student):
    client = logged_in(instructor)
    response = client.post(f"/manage/assessments/{single.pk}/overrides", {
        "student": student.pk, "extra_minutes": "10", "extra_percent": "50", "opens_at": "2026-03-02T09:00",
        "closes_at": "2026-03-02T18:00", "due_at": "", "attempts_allowed": "2", "note": "DSP letter"}, follow=True)
    override = StudentOverride.objects.get(assessment=single, student=student)
    assert (override.extra_minutes, override.extra_percent, override.attempts_allowed, override.note) == (10, 50, 2, "DSP letter")
    assert override.opens_at == datetime(2026, 3, 2, 9, 0, tzinfo=BAKU)
    assert override.closes_at == datetime(2026, 3, 2, 18, 0, tzinfo=BAKU) and override.due_at is None
    page = response.content.decode()
    assert "Override saved for Sam" in page and 'id="override-table"' in page and "DSP letter" in page


def test_extra_time_given_on_the_page_moves_a_running_attempts_deadline(single, instructor, student):
    attempt = attempt_service.start_attempt(single, student)
    before = attempt.deadline
    logged_in(instructor).post(f"/manage/assessments/{single.pk}/overrides", {"student": student.pk, "extra_minutes": "15"})
    attempt.refresh_from_db()
    assert (attempt.deadline - before).total_seconds() == 15 * 60


def test_an_override_that_closes_before_it_opens_is_refused_with_the_reason(single, instructor, student):
    response = logged_in(instructor).post(f"/manage/assessments/{single.pk}/overrides", {
        "student": student.pk, "opens_at": "2026-03-02T18:00", "closes_at": "2026-03-02T09:00"}, follow=True)
    assert "Override not saved" in response.content.decode()
    assert "closing time must be after the opening time" in response.content.decode()
    assert not StudentOverride.objects.exists()


def test_a_student_of_another_course_cannot_be_given_an_override_or_excused(single, instructor):
    elsewhere = Course.objects.create(code="OTHER1", title="Other")
    stranger = make_user("stella")
    Membership.objects.create(course=elsewhere, user=stranger, role=Membership.STUDENT, student_id="X1")
    client = logged_in(instructor)
    first = client.post(f"/manage/assessments/{single.pk}/overrides", {"student": stranger.pk, "extra_minutes": "5"},
                        follow=True)
    second = client.post(f"/manage/assessments/{single.pk}/excuse", {"student": stranger.pk}, follow=True)
    assert "Override not saved" in first.content.decode() and "Excusal not saved" in second.content.decode()
    assert not StudentOverride.objects.exists() and not Excusal.objects.exists()


# --- excusals ---------------------------------------------------------------------------------------------
def test_an_instructor_excuses_and_unexcuses_a_student_and_the_gradebook_follows(single, instructor, student):
    client = logged_in(instructor)
    page = client.post(f"/manage/assessments/{single.pk}/excuse", {"student": student.pk, "reason": "medical"},
                       follow=True).content.decode()
    assert "Sam is excused from Quiz 1" in page and "medical" in page
    assert Excusal.objects.get(assessment=single, student=student).created_by == instructor
    gradebook = client.get(f"/courses/{single.course_id}/gradebook/").content.decode()
    assert '<span class="cell-tag excused">excused</span></td>' in gradebook
    page = client.post(f"/manage/assessments/{single.pk}/unexcuse", {"student": student.pk}, follow=True).content.decode()
    assert "no longer excused" in page and not Excusal.objects.exists()


# --- who may do what ----------------------------------------------------------------------------------------
def test_a_ta_sees_overrides_and_excusals_but_gets_no_forms_and_cannot_change_them(single, ta, student, project):
    StudentOverride.objects.create(assessment=single, student=student, extra_minutes=20, note="visible to TAs")
    client = logged_in(ta)
    page = client.get(f"/manage/assessments/{single.pk}/").content.decode()
    assert "visible to TAs" in page
    assert 'id="override-form"' not in page and 'id="excuse-form"' not in page
    assert client.post(f"/manage/assessments/{single.pk}/overrides", {"student": student.pk, "extra_minutes": "99"}).status_code == 404
    assert client.post(f"/manage/assessments/{single.pk}/excuse", {"student": student.pk}).status_code == 404
    assert client.post(f"/manage/assessments/{single.pk}/unexcuse", {"student": student.pk}).status_code == 404
    assert StudentOverride.objects.get().extra_minutes == 20 and not Excusal.objects.exists()
    manual_page = client.get(f"/courses/{single.course_id}/manual/{project.pk}/")
    assert manual_page.status_code == 200 and "<form" not in manual_page.content.decode().split("<main", 1)[1]
    assert client.post(f"/courses/{single.course_id}/manual/{project.pk}/", {"student": student.pk, "points": "50"}).status_code == 404
    assert not project.entries.exists()
    course_page = client.get(f"/courses/{single.course_id}/").content.decode()
    assert 'id="roster-form"' not in course_page and "Only instructors can import a roster" in course_page
    roster = SimpleUploadedFile("r.csv", b"A1,Ann Lee,ann@example.edu\n", content_type="text/csv")
    assert client.post(f"/courses/{single.course_id}/roster", {"file": roster}).status_code == 404
    assert not Membership.objects.filter(student_id="A1").exists()


@pytest.mark.parametrize("who", ["student", "outsider"])
def test_students_and_outsiders_get_404_from_every_staff_record_page_and_action(who, single, project, request):
    person = request.getfixturevalue(who)
    client = logged_in(person)
    target = request.getfixturevalue("student")
    for url, data in [(f"/manage/assessments/{single.pk}/overrides", {"student": target.pk, "extra_minutes": "60"}),
                      (f"/manage/assessments/{single.pk}/excuse", {"student": target.pk}),
                      (f"/manage/assessments/{single.pk}/unexcuse", {"student": target.pk}),
                      (f"/courses/{single.course_id}/manual/{project.pk}/", {"student": target.pk, "points": "100"}),
                      (f"/courses/{single.course_id}/roster", {"file": SimpleUploadedFile("r.csv", b"A1,Ann Lee,a@x.edu\n")})]:
        assert client.post(url, data).status_code == 404, url
    assert client.get(f"/courses/{single.course_id}/manual/{project.pk}/").status_code == 404
    assert not StudentOverride.objects.exists() and not Excusal.objects.exists() and not project.entries.exists()
    assert not Membership.objects.filter(student_id="A1").exists()


def test_staff_forms_work_with_csrf_checks_enforced_when_the_token_is_sent(single, instructor, student):
    client = logged_in(instructor, csrf=True)
    client.get(f"/manage/assessments/{single.pk}/")  # sets the csrftoken cookie, as the browser would
    token = client.cookies["csrftoken"].value
    response = client.post(f"/manage/assessments/{single.pk}/excuse",
                           {"student": student.pk, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Excusal.objects.filter(student=student).exists()


# --- manual grade entries -------------------------------------------------------------------------------------
def test_an_instructor_enters_project_points_per_student_and_the_gradebook_shows_the_percent(course, project, instructor,
                                                                                              student, other_student):
    client = logged_in(instructor)
    page = client.get(f"/courses/{course.pk}/manual/{project.pk}/").content.decode()
    assert "Sam" in page and "Olga" in page and f'id="entry-{student.pk}"' in page
    response = client.post(f"/courses/{course.pk}/manual/{project.pk}/",
                           {"student": student.pk, "points": "87.5", "feedback": "Solid report."}, follow=True)
    entry = project.entries.get(student=student)
    assert (entry.points, entry.feedback, entry.entered_by) == (Decimal("87.5"), "Solid report.", instructor)
    assert "Team project: 87.5 points for Sam" in response.content.decode()
    gradebook = client.get(f"/courses/{course.pk}/gradebook/").content.decode()
    assert '<span class="score">87.5</span>' in gradebook
    assert f'href="/courses/{course.pk}/manual/{project.pk}/"' in gradebook


def test_points_above_the_maximum_are_refused_on_that_students_row_and_nothing_is_stored(course, project, instructor,
                                                                                          student):
    response = logged_in(instructor).post(f"/courses/{course.pk}/manual/{project.pk}/",
                                          {"student": student.pk, "points": "120"})
    assert response.status_code == 400
    assert "Points must be between 0 and 100" in response.content.decode()
    assert not project.entries.exists()


def test_a_manual_item_of_another_course_is_404(course, instructor, student):
    elsewhere = Course.objects.create(code="OTHER2", title="Other")
    foreign = ManualGradeItem.objects.create(course=elsewhere, title="Their project")
    client = logged_in(instructor)
    assert client.get(f"/courses/{course.pk}/manual/{foreign.pk}/").status_code == 404
    assert client.post(f"/courses/{course.pk}/manual/{foreign.pk}/", {"student": student.pk, "points": "1"}).status_code == 404


# --- roster upload ------------------------------------------------------------------------------------------
def test_an_instructor_uploads_a_roster_csv_and_every_student_is_enrolled(course, instructor):
    roster = SimpleUploadedFile("roster.csv", "\ufeffStudent ID,Name,Email\nA100,Leyla Aliyeva,leyla@example.edu\n"
                                "A101,Murad Huseynov,murad@example.edu\n".encode(), content_type="text/csv")
    client = logged_in(instructor)
    preview = client.post(f"/courses/{course.pk}/roster", {"file": roster}).content.decode()
    assert preview.count('data-action="create"') == 2 and not Membership.objects.filter(student_id="A100").exists()
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', preview).group(1) for name in ("roster", "digest")}
    response = client.post(f"/courses/{course.pk}/roster/confirm", fields, follow=True)
    assert "Roster imported: 2 students enrolled (2 new accounts, 0 existing)" in response.content.decode()
    assert sorted(Membership.objects.filter(course=course, role="student").values_list("student_id", flat=True)) == \
        ["A100", "A101"]


def test_a_roster_with_bad_rows_is_reported_by_line_and_nothing_is_imported(course, instructor):
    roster = SimpleUploadedFile("roster.csv", b"student_id,name,email\nA100,Leyla Aliyeva,leyla@example.edu\n"
                                b"A101,,murad@example.edu\nA102,Aysel Karimova,not-an-email\n", content_type="text/csv")
    response = logged_in(instructor).post(f"/courses/{course.pk}/roster", {"file": roster})
    page = response.content.decode()
    assert response.status_code == 400 and "Nothing was imported" in page
    assert "<li>Line 3: missing name</li>" in page and "<li>Line 4: &#x27;not-an-email&#x27; is not an email address</li>" in page
    assert not Membership.objects.filter(course=course, student_id__in=["A100", "A101", "A102"]).exists()


def test_a_roster_that_is_not_utf8_text_is_refused_without_importing(course, instructor):
    roster = SimpleUploadedFile("roster.csv", "A100,Léyla Aliyeva,leyla@example.edu\n".encode("latin-1"))
    response = logged_in(instructor).post(f"/courses/{course.pk}/roster", {"file": roster}, follow=True)
    assert "not UTF-8" in response.content.decode()
    assert not Membership.objects.filter(course=course, student_id="A100").exists()


# --- regrade is scoped to the course ------------------------------------------------------------------------
def test_regrading_from_one_courses_page_leaves_another_courses_responses_to_the_same_template_unchanged(
        single, instructor, student):
    elsewhere = Course.objects.create(code="DL-B", title="Deep Learning, section B")
    their_student = make_user("bora")
    Membership.objects.create(course=elsewhere, user=their_student, role=Membership.STUDENT, student_id="B001")
    their_quiz = make_quiz(elsewhere, slugs=["web-double"], category=None)
    mine, theirs = take(single, student), take(their_quiz, their_student)
    assert (mine.score, theirs.score) == (1.0, 1.0)
    fixed = save_spec(replace(DOUBLE_SHORT, solution="answer = a * 3\n"))  # the 'fix' changes every key
    response = logged_in(instructor).post(f"/manage/assessments/{single.pk}/regrade", {"template_id": fixed.pk},
                                          follow=True)
    assert "1 responses checked, 1 scores changed" in response.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.score == 0.0
    assert theirs.score == 1.0
    assert Response.objects.get(attempt=theirs).graded_version == theirs.slots.get().template_version


def test_the_gradebook_marks_dropped_excused_missing_and_late_cells_with_visible_words(course, bank, instructor,
                                                                                        student):
    from datetime import timedelta

    now = clock.now()
    on_time = make_quiz(course, slugs=["web-double"], title="Quiz 1", position=1)
    late = make_quiz(course, slugs=["web-double"], title="Quiz 2", position=2, due_at=now - timedelta(minutes=10))
    make_quiz(course, slugs=["web-double"], title="Quiz 3", position=3,  # closed, never taken: missing, dropped
              opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1))
    excused = make_quiz(course, slugs=["web-double"], title="Quiz 4", position=4)
    take(on_time, student)
    take(late, student)
    logged_in(instructor).post(f"/manage/assessments/{excused.pk}/excuse", {"student": student.pk})
    page = logged_in(instructor).get(f"/courses/{course.pk}/gradebook/").content.decode()
    row = page[page.index("S001"):page.index("</tr>", page.index("S001"))]
    assert 'class="score">100.0</a></td>' in row  # the score opens the staff attempt page
    assert 'class="score">90.0</a> <span class="cell-tag late">late −10%</span>' in row
    assert 'class="num dropped missing" title="Dropped (lowest quiz): not counted"' in row
    assert '<span class="cell-tag missing">missing</span> <span class="cell-tag dropped">dropped</span>' in row
    assert '<span class="cell-tag excused">excused</span>' in row
