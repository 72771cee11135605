"""Rubrics as data: point-valued items seeded from the template's rubric text, a grade is the applied items
plus an adjustment, clamped into [0, max]; the score goes through grade_manually (audit log, permissions); an
instructor changing an item's points regrades every response graded with it; ungraded answers split evenly
among the TAs; the student never sees the rubric."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from exams import audit, rubrics
from exams.grading import attempt_review
from exams.models import AuditEvent, GradingAssignment, Membership
from quizbank.services import save_spec
from tests.conftest import make_user
from tests.rubric_support import EXPLAIN_RUBRIC, submit_answer
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def rubric_quiz(course):
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    return quiz, template


def items_by_text(quiz, template) -> dict[str, object]:
    return {item.text: item for item in rubrics.items_for(quiz, template)}


def test_a_rubric_text_becomes_items_with_leading_signed_points_and_one_point_lines():
    assert rubrics.parse_rubric("+2 names the vanishing gradient\n\n-1: wrong sign\nmentions ReLU\n1.5 pts gives an example") == [
        (2.0, "names the vanishing gradient"), (-1.0, "wrong sign"), (1.0, "mentions ReLU"), (1.5, "gives an example")]


def test_the_items_are_seeded_once_from_the_templates_rubric(rubric_quiz):
    quiz, template = rubric_quiz
    first = rubrics.items_for(quiz, template)
    assert [(item.points, item.text) for item in first] == [
        (2.0, "names the vanishing gradient"), (1.0, "mentions ReLU"), (-1.0, "claims sigmoid never saturates")]
    assert [item.pk for item in rubrics.items_for(quiz, template)] == [item.pk for item in first]
    assert rubrics.max_points(first) == 3.0


def test_the_score_is_the_applied_items_plus_the_adjustment_clamped_to_the_maximum(rubric_quiz, ta, student):
    quiz, template = rubric_quiz
    response = submit_answer(quiz, student, "Sigmoid derivatives multiply.")
    items = items_by_text(quiz, template)
    graded = rubrics.apply_rubric(response, ta, [items["names the vanishing gradient"].pk,
                                                 items["claims sigmoid never saturates"].pk], 0, "Mostly right.")
    assert graded.score == pytest.approx(1 / 3) and graded.feedback == "Mostly right."
    assert rubrics.apply_rubric(response, ta, [items["names the vanishing gradient"].pk, items["mentions ReLU"].pk],
                                5).score == 1.0
    assert rubrics.apply_rubric(response, ta, [items["claims sigmoid never saturates"].pk], 0).score == 0.0
    assert rubrics.apply_rubric(response, ta, [], 1.5).score == pytest.approx(0.5)


def test_a_rubric_grade_goes_through_grade_manually_and_is_in_the_audit_log(rubric_quiz, ta, student):
    quiz, template = rubric_quiz
    response = submit_answer(quiz, student, "Because.")
    items = items_by_text(quiz, template)
    rubrics.apply_rubric(response, ta, [items["mentions ReLU"].pk])
    event = AuditEvent.objects.get(action=audit.GRADE_MANUAL)
    assert (event.actor, event.before["score"], event.after["score"]) == (ta, None, pytest.approx(1 / 3))
    assert response.rubric_grade.items.get() == items["mentions ReLU"]


def test_an_item_of_another_question_cannot_be_applied(rubric_quiz, course, ta, student, bank):
    quiz, template = rubric_quiz
    response = submit_answer(quiz, student, "Because.")
    other_quiz = make_quiz(course, slugs=["web-explain"], title="Quiz 2")  # noqa: F405
    (foreign,) = rubrics.items_for(other_quiz, bank["web-explain"])
    with pytest.raises(ValueError):
        rubrics.apply_rubric(response, ta, [foreign.pk])


def test_changing_an_items_points_regrades_every_response_that_used_it(rubric_quiz, instructor, ta, student,
                                                                        other_student):
    quiz, template = rubric_quiz
    items = items_by_text(quiz, template)
    relu = items["mentions ReLU"]
    with_relu = rubrics.apply_rubric(submit_answer(quiz, student, "ReLU."), ta, [relu.pk])
    without = rubrics.apply_rubric(submit_answer(quiz, other_student, "Chain rule."), ta,
                                   [items["names the vanishing gradient"].pk])
    changed = rubrics.change_item(relu, instructor, points=4)
    with_relu.refresh_from_db()
    without.refresh_from_db()
    assert changed == 2  # the maximum went from 3 to 6: both scores move
    assert (with_relu.score, without.score) == (pytest.approx(4 / 6), pytest.approx(2 / 6))
    regrades = AuditEvent.objects.filter(reason=rubrics.ITEM_CHANGED_REASON, action__startswith="grade.")
    assert regrades.count() == 2
    edit = AuditEvent.objects.get(action=rubrics.RUBRIC_EDIT)
    assert (edit.before["points"], edit.after["points"], edit.after["regraded"]) == (1.0, 4.0, 2)
    history = AuditEvent.objects.filter(target_id=with_relu.pk, action__startswith="grade.").order_by("created_at", "pk")
    assert [event.after["score"] for event in history] == [pytest.approx(1 / 3), pytest.approx(4 / 6)]


def test_a_negative_item_change_regrades_only_the_responses_that_used_it(rubric_quiz, instructor, ta, student,
                                                                           other_student):
    quiz, template = rubric_quiz
    items = items_by_text(quiz, template)
    wrong = items["claims sigmoid never saturates"]
    penalised = rubrics.apply_rubric(submit_answer(quiz, student, "Never saturates."), ta,
                                     [items["names the vanishing gradient"].pk, wrong.pk])
    untouched = rubrics.apply_rubric(submit_answer(quiz, other_student, "Chain rule."), ta,
                                     [items["names the vanishing gradient"].pk])
    assert rubrics.change_item(wrong, instructor, points=-2) == 1
    penalised.refresh_from_db()
    untouched.refresh_from_db()
    assert (penalised.score, untouched.score) == (0.0, pytest.approx(2 / 3))


def test_a_ta_cannot_change_an_items_points(rubric_quiz, ta):
    quiz, template = rubric_quiz
    item = rubrics.items_for(quiz, template)[0]
    with pytest.raises(PermissionDenied):
        rubrics.change_item(item, ta, points=10)
    item.refresh_from_db()
    assert item.points == 2.0


def test_the_ungraded_answers_are_split_evenly_among_the_tas_and_a_second_split_keeps_them(
        rubric_quiz, course, instructor, ta, student, other_student):
    quiz, template = rubric_quiz
    second_ta = make_user("tina")
    Membership.objects.create(course=course, user=second_ta, role=Membership.TA)
    people = [student, other_student]
    for name in ("sven", "sara", "stan"):
        person = make_user(name)
        Membership.objects.create(course=course, user=person, role=Membership.STUDENT)
        people.append(person)
    responses = [submit_answer(quiz, person, "An answer.") for person in people]
    assert rubrics.split_ungraded(quiz, template, instructor) == {"tariq": 3, "tina": 2}
    before = dict(GradingAssignment.objects.values_list("response_id", "grader_id"))
    assert set(before) == {response.pk for response in responses}
    assert rubrics.split_ungraded(quiz, template, instructor) == {"tariq": 3, "tina": 2}
    assert dict(GradingAssignment.objects.values_list("response_id", "grader_id")) == before
    assert AuditEvent.objects.filter(action=rubrics.GRADING_ASSIGN).count() == 2
    with pytest.raises(PermissionDenied):
        rubrics.split_ungraded(quiz, template, ta)


def test_after_answers_release_the_student_sees_the_model_answer_never_the_rubric(rubric_quiz, ta, student):
    from exams import clock

    quiz, template = rubric_quiz
    response = submit_answer(quiz, student, "Because.")
    rubrics.apply_rubric(response, ta, [rubrics.items_for(quiz, template)[0].pk])
    quiz.results_released_at = quiz.answers_released_at = clock.now()
    quiz.save()
    (item,) = attempt_review(response.attempt).items
    assert item.correct_answer is None
    assert "MODEL-ANSWER" in item.explanation_html
    assert "names the vanishing gradient" not in repr(item) and "never saturates" not in repr(item)
