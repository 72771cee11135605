"""The instructor's and TA's pages through Django's test client."""
from __future__ import annotations

from exams import attempts as attempt_service
from exams.models import Assessment, Response
from tests.web_fixtures import *  # noqa: F403


def submitted_attempt(quiz, student, answers: dict[str, str]):
    attempt = attempt_service.start_attempt(quiz, student)
    for slug, text in answers.items():
        attempt_service.autosave(attempt, attempt.slots.get(template__slug=slug).pk, text, user=student)
    return attempt_service.submit_attempt(attempt, user=student)


def test_the_course_page_lists_assessments_with_attempt_and_grading_counts(quiz, instructor, student):
    submitted_attempt(quiz, student, {"web-explain": "Because of the expectation."})
    page = logged_in(instructor).get(f"/courses/{quiz.course_id}/").content.decode()
    assert "Quiz 1" in page and "Published" in page
    assert f'href="/manage/assessments/{quiz.pk}/grading/">1</a>' in page


def test_the_dashboard_links_staff_to_their_courses(course, instructor):
    page = logged_in(instructor).get("/").content.decode()
    assert f"/courses/{course.pk}/" in page and "Gradebook" in page


def test_publishing_a_drawable_draft_starts_its_publication_and_shows_the_progress_bar(course, bank, instructor):
    draft = make_quiz(course, slugs=["web-double"], published=False)
    client = logged_in(instructor)
    response = client.post(f"/manage/assessments/{draft.pk}/publish", follow=True)
    draft.refresh_from_db()
    # A draft until the pre-flight and the class's variants are done (tests/test_publishing_preflight.py).
    assert draft.state == Assessment.DRAFT and draft.pregen_state == Assessment.PREGEN_QUEUED
    page = response.content.decode()
    assert "Publishing Quiz 1" in page and f'data-progress-url="/manage/assessments/{draft.pk}/progress.json"' in page
    progress = client.get(f"/manage/assessments/{draft.pk}/progress.json").json()
    assert set(progress) >= {"status", "done", "total", "message"}


def test_publishing_a_blueprint_the_bank_cannot_fill_says_what_is_missing(course, bank, instructor):
    draft = make_quiz(course, slugs=["no-such-template"], published=False)
    response = logged_in(instructor).post(f"/manage/assessments/{draft.pk}/publish", follow=True)
    draft.refresh_from_db()
    assert draft.state == Assessment.DRAFT
    assert "Not published" in response.content.decode()


def test_grading_a_written_answer_stores_score_and_feedback_and_moves_to_the_next(quiz, instructor, student,
                                                                                  other_student):
    submitted_attempt(quiz, student, {"web-explain": "First answer"})
    submitted_attempt(quiz, other_student, {"web-explain": "Second answer"})
    queue = Response.objects.filter(grading_state=Response.MANUAL).order_by("attempt__student__username")
    assert queue.count() == 2
    client = logged_in(instructor)
    first = queue.first()
    page = client.get(f"/manage/responses/{first.pk}/grade").content.decode()
    assert "RUBRIC-SECRET" in page and "Next" in page
    response = client.post(f"/manage/responses/{first.pk}/grade",
                           {"score_percent": "50", "feedback": "Half right.", "go_next": "on"})
    assert response.status_code == 302 and response["Location"] != f"/manage/responses/{first.pk}/grade"
    first.refresh_from_db()
    assert first.score == 0.5 and first.feedback == "Half right." and first.graded_by == instructor


def test_a_score_outside_0_to_100_is_refused_by_the_grading_form(quiz, instructor, student):
    submitted_attempt(quiz, student, {"web-explain": "An answer"})
    response_row = Response.objects.get(grading_state=Response.MANUAL)
    page = logged_in(instructor).post(f"/manage/responses/{response_row.pk}/grade", {"score_percent": "150"})
    assert page.status_code == 200 and "less than or equal to 100" in page.content.decode()
    response_row.refresh_from_db()
    assert response_row.score is None


def test_a_ta_can_grade(quiz, ta, student):
    submitted_attempt(quiz, student, {"web-explain": "An answer"})
    response_row = Response.objects.get(grading_state=Response.MANUAL)
    logged_in(ta).post(f"/manage/responses/{response_row.pk}/grade", {"score_percent": "100"})
    response_row.refresh_from_db()
    assert response_row.score == 1.0


def test_the_gradebook_shows_every_student_and_the_weighted_total(quiz, instructor, student, other_student):
    submitted_attempt(quiz, student, {"web-double": "0"})
    page = logged_in(instructor).get(f"/courses/{quiz.course_id}/gradebook/").content.decode()
    assert "Sam" in page and "Olga" in page and "S001" in page and "Quiz 1" in page and "Total" in page


def test_the_gradebook_csv_is_streamed_as_an_attachment(quiz, instructor, student):
    submitted_attempt(quiz, student, {"web-double": "0"})
    response = logged_in(instructor).get(f"/courses/{quiz.course_id}/gradebook.csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "S001" in text and "Quiz 1" in text


def test_the_responses_csv_is_streamed_with_one_row_per_answer(quiz, instructor, student):
    submitted_attempt(quiz, student, {"web-double": "7"})
    response = logged_in(instructor).get(f"/manage/assessments/{quiz.pk}/responses.csv")
    assert response.streaming and "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "web-double" in text and "sam" in text.lower()


def test_regrading_a_template_used_by_the_assessment_reports_what_it_did(quiz, instructor, student):
    submitted_attempt(quiz, student, {"web-double": "0"})
    template_id = quiz.attempts.first().slots.get(template__slug="web-double").template_id
    response = logged_in(instructor).post(f"/manage/assessments/{quiz.pk}/regrade", {"template_id": template_id},
                                          follow=True)
    assert "Regraded web-double" in response.content.decode()


def test_regrading_a_template_the_assessment_does_not_use_is_refused(quiz, instructor, student):
    from quizbank.models import Template

    submitted_attempt(quiz, student, {})
    unused = Template.objects.exclude(slug__in=["web-double", "web-pick", "web-explain", "web-print"]).first()
    bogus_id = unused.pk if unused else 999_999
    response = logged_in(instructor).post(f"/manage/assessments/{quiz.pk}/regrade", {"template_id": bogus_id},
                                          follow=True)
    assert "not used by this assessment" in response.content.decode()
