"""The grading-by-question page: every answer to one question with the rubric items, the model answer beside
each answer, progress and filters; TAs and instructors grade, students and outsiders get 404; only an
instructor edits item points or splits the grading; a TA sees the answers assigned to them by default; the
student's result page shows the model answer, never the rubric."""
from __future__ import annotations

import pytest

from exams import clock, rubrics
from exams.models import GradingAssignment, Response
from quizbank.services import save_spec
from tests.rubric_support import EXPLAIN_RUBRIC, submit_answer
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def rubric_quiz(course):
    template = save_spec(EXPLAIN_RUBRIC)
    return make_quiz(course, slugs=["rubric-explain"]), template  # noqa: F405


def page_url(quiz, template) -> str:
    return f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/"


def test_a_ta_sees_every_answer_with_the_rubric_items_the_model_answer_and_the_progress(
        rubric_quiz, ta, student, other_student):
    quiz, template = rubric_quiz
    submit_answer(quiz, student, "SAM-ANSWER")
    submit_answer(quiz, other_student, "OLGA-ANSWER")
    page = logged_in(ta).get(page_url(quiz, template)).content.decode()  # noqa: F405
    assert "SAM-ANSWER" in page and "OLGA-ANSWER" in page
    assert "names the vanishing gradient" in page and 'data-item-key="3"' in page
    assert "MODEL-ANSWER" in page
    assert 'data-graded="0" data-left="2"' in page
    assert "js/grade_by_question.js" in page and "<script>" not in page


def test_the_grading_queue_links_to_grading_by_question(rubric_quiz, ta, student):
    quiz, template = rubric_quiz
    submit_answer(quiz, student, "Because.")
    page = logged_in(ta).get(f"/manage/assessments/{quiz.pk}/grading/").content.decode()  # noqa: F405
    assert page_url(quiz, template) in page


def test_students_and_outsiders_get_404_everywhere(rubric_quiz, student, outsider):
    quiz, template = rubric_quiz
    response = submit_answer(quiz, student, "Because.")
    item = rubrics.items_for(quiz, template)[0]
    for person in (student, outsider):
        client = logged_in(person)  # noqa: F405
        assert client.get(page_url(quiz, template)).status_code == 404
        assert client.post(f"/manage/responses/{response.pk}/rubric", {"items": [item.pk]}).status_code == 404
        assert client.post(f"/manage/rubric-items/{item.pk}/", {"points": "9"}).status_code == 404
        assert client.post(page_url(quiz, template) + "split").status_code == 404
    response.refresh_from_db()
    item.refresh_from_db()
    assert (response.grading_state, item.points) == (Response.MANUAL, 2.0)


def test_a_ta_grades_with_rubric_items_and_the_page_comes_back_at_the_next_answer(
        rubric_quiz, ta, student, other_student):
    quiz, template = rubric_quiz
    first = submit_answer(quiz, student, "Because.")
    second = submit_answer(quiz, other_student, "Because.")
    items = rubrics.items_for(quiz, template)
    saved = logged_in(ta).post(f"/manage/responses/{first.pk}/rubric", {  # noqa: F405
        "items": [items[0].pk, items[2].pk], "adjustment": "0.5", "comment": "Close.", "state": "ungraded",
        "next_id": str(second.pk)})
    assert saved.status_code == 302 and saved["Location"].endswith(f"?state=ungraded#response-{second.pk}")
    first.refresh_from_db()
    assert (first.score, first.feedback, first.graded_by) == (pytest.approx(1.5 / 3), "Close.", ta)
    page = logged_in(ta).get(page_url(quiz, template) + "?state=ungraded").content.decode()  # noqa: F405
    assert f'id="response-{second.pk}"' in page and f'id="response-{first.pk}"' not in page
    assert 'data-graded="1" data-left="1"' in page


def test_a_bad_adjustment_is_refused_with_a_message_not_a_500(rubric_quiz, ta, student):
    quiz, template = rubric_quiz
    response = submit_answer(quiz, student, "Because.")
    page = logged_in(ta).post(f"/manage/responses/{response.pk}/rubric",  # noqa: F405
                              {"adjustment": "lots"}, follow=True)
    assert page.status_code == 200 and "is not a number of points" in page.content.decode()
    response.refresh_from_db()
    assert response.grading_state == Response.MANUAL


def test_filters_by_grader_and_by_score(rubric_quiz, instructor, ta, student, other_student):
    quiz, template = rubric_quiz
    items = rubrics.items_for(quiz, template)
    full = submit_answer(quiz, student, "FULL-MARKS")
    zero = submit_answer(quiz, other_student, "NO-MARKS")
    rubrics.apply_rubric(full, ta, [items[0].pk, items[1].pk])
    rubrics.apply_rubric(zero, instructor, [])
    client = logged_in(ta)  # noqa: F405
    by_score = client.get(page_url(quiz, template) + "?score=full").content.decode()
    assert "FULL-MARKS" in by_score and "NO-MARKS" not in by_score
    by_grader = client.get(page_url(quiz, template) + f"?grader={instructor.pk}").content.decode()
    assert "NO-MARKS" in by_grader and "FULL-MARKS" not in by_grader


def test_only_an_instructor_edits_item_points_and_the_edit_regrades(rubric_quiz, instructor, ta, student):
    quiz, template = rubric_quiz
    response = submit_answer(quiz, student, "Because.")
    relu = rubrics.items_for(quiz, template)[1]
    rubrics.apply_rubric(response, ta, [relu.pk])
    assert 'action="/manage/rubric-items/' not in logged_in(ta).get(page_url(quiz, template)).content.decode()  # noqa: F405
    assert logged_in(ta).post(f"/manage/rubric-items/{relu.pk}/", {"points": "4"}).status_code == 404  # noqa: F405
    relu.refresh_from_db()
    assert relu.points == 1.0
    page = logged_in(instructor).post(f"/manage/rubric-items/{relu.pk}/", {"points": "4"}, follow=True)  # noqa: F405
    assert "1 grade changed" in page.content.decode()
    response.refresh_from_db()
    assert response.score == pytest.approx(4 / 6)


def test_an_instructor_splits_the_grading_and_a_ta_sees_their_share_by_default(rubric_quiz, instructor, ta, student,
                                                                              other_student):
    quiz, template = rubric_quiz
    submit_answer(quiz, student, "SAM-ANSWER")
    submit_answer(quiz, other_student, "OLGA-ANSWER")
    assert logged_in(ta).post(page_url(quiz, template) + "split").status_code == 404  # noqa: F405
    logged_in(instructor).post(page_url(quiz, template) + "split")  # noqa: F405
    assert GradingAssignment.objects.filter(grader=ta).count() == 2
    mine = logged_in(ta).get(page_url(quiz, template)).content.decode()  # noqa: F405
    assert "SAM-ANSWER" in mine and "yours: 0 graded, 2 left" in mine
    GradingAssignment.objects.filter(response__attempt__student=other_student).delete()
    mine = logged_in(ta).get(page_url(quiz, template)).content.decode()  # noqa: F405
    assert "SAM-ANSWER" in mine and "OLGA-ANSWER" not in mine
    everyone = logged_in(ta).get(page_url(quiz, template) + "?who=all").content.decode()  # noqa: F405
    assert "OLGA-ANSWER" in everyone


def test_the_student_sees_the_model_answer_after_answers_release_and_never_the_rubric(rubric_quiz, ta, student):
    quiz, template = rubric_quiz
    response = submit_answer(quiz, student, "Because.")
    rubrics.apply_rubric(response, ta, [rubrics.items_for(quiz, template)[0].pk], comment="Good start.")
    client = logged_in(student)  # noqa: F405
    quiz.results_released_at = clock.now()
    quiz.save()
    before = client.get(f"/attempts/{response.attempt_id}/").content.decode()
    assert "Good start." in before and "MODEL-ANSWER" not in before
    quiz.answers_released_at = clock.now()
    quiz.save()
    after = client.get(f"/attempts/{response.attempt_id}/").content.decode()
    assert "Model answer" in after and "MODEL-ANSWER" in after
    for page in (before, after):
        assert "names the vanishing gradient" not in page and "never saturates" not in page


def test_a_nonsense_grader_filter_or_page_number_shows_the_list_not_a_500(rubric_quiz, ta, student):
    quiz, template = rubric_quiz
    submit_answer(quiz, student, "SAM-ANSWER")
    client = logged_in(ta)  # noqa: F405
    for query in ("?grader=" + "9" * 5000, "?grader=-1", "?page=abc", "?page=99999999999999999999999"):
        page = client.get(page_url(quiz, template) + query)
        assert page.status_code == 200 and "SAM-ANSWER" in page.content.decode(), query
