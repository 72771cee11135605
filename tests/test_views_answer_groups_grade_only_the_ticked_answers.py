"""Applying rubric items to an answer group grades exactly the answers the grader ticked, each through the
rubric grading service (its own grade, rubric grade and audit event), plus one audit event for the group;
answers a person already graded are kept unless the grader asks to replace them, and a TA still cannot
replace an instructor's grade."""
from __future__ import annotations

import pytest

from exams import answer_groups, audit, rubrics
from exams.models import AuditEvent, Response
from quizbank.services import save_spec
from tests.answer_group_support import EXPLANATIONS, submit_class
from tests.rubric_support import EXPLAIN_RUBRIC
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def grouped(course, instructor):
    """Four paraphrases of the saturation explanation: one group."""
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    responses = submit_class(quiz, course, EXPLANATIONS["saturation"][:4])
    run = answer_groups.request_grouping(quiz, template, instructor)
    answer_groups.run_grouping(run.pk)
    group = run.groups.get()
    assert group.size == 4
    return quiz, template, group, responses


def apply(client, group, responses, items, **extra):
    return client.post(f"/manage/answer-groups/{group.pk}/apply",
                       {"items": [item.pk for item in items], "responses": [r.pk for r in responses], **extra},
                       follow=True)


def test_applying_items_grades_exactly_the_ticked_answers_each_with_its_audit_event(grouped, ta):
    quiz, template, group, responses = grouped
    items = rubrics.items_for(quiz, template)
    ticked, unticked = responses[:3], responses[3]
    page = apply(logged_in(ta), group, ticked, [items[0], items[1]], adjustment="-0.5",  # noqa: F405
                 comment="Saturation, yes.")
    assert "Graded 3 answers of group 1." in page.content.decode()
    for response in ticked:
        response.refresh_from_db()
        assert (response.grading_state, response.graded_by, response.feedback) == (Response.GRADED, ta,
                                                                                   "Saturation, yes.")
        assert response.score == pytest.approx(2.5 / 3)
        assert sorted(i.pk for i in response.rubric_grade.items.all()) == [items[0].pk, items[1].pk]
    unticked.refresh_from_db()
    assert unticked.grading_state == Response.MANUAL and not hasattr(unticked, "rubric_grade")
    graded_events = AuditEvent.objects.filter(action=audit.GRADE_MANUAL)
    assert sorted(graded_events.values_list("target_id", flat=True)) == sorted(r.pk for r in ticked)
    group_event = AuditEvent.objects.get(action=answer_groups.GROUP_APPLY)
    assert (group_event.actor, group_event.target_id) == (ta, group.pk)
    assert sorted(group_event.after["graded"]) == sorted(r.pk for r in ticked)


def test_answers_already_graded_by_a_person_are_kept_unless_the_grader_asks(grouped, ta):
    quiz, template, group, responses = grouped
    items = rubrics.items_for(quiz, template)
    rubrics.apply_rubric(responses[0], ta, [items[1].pk], comment="By hand.")
    client = logged_in(ta)  # noqa: F405
    page = apply(client, group, responses, [items[0]])
    assert "Graded 3 answers" in page.content.decode() and "Kept 1 already graded by a person" in page.content.decode()
    responses[0].refresh_from_db()
    assert (responses[0].score, responses[0].feedback) == (pytest.approx(1 / 3), "By hand.")
    apply(client, group, responses[:1], [items[0]], replace_graded="1")
    responses[0].refresh_from_db()
    assert (responses[0].score, responses[0].feedback) == (pytest.approx(2 / 3), "")


def test_a_ta_cannot_replace_an_instructors_grade_through_a_group(grouped, instructor, ta):
    quiz, template, group, responses = grouped
    items = rubrics.items_for(quiz, template)
    rubrics.apply_rubric(responses[0], instructor, [], comment="Instructor's zero.")
    page = apply(logged_in(ta), group, responses, [items[0]], replace_graded="1").content.decode()  # noqa: F405
    assert "Graded 3 answers" in page and "1 not changed" in page
    responses[0].refresh_from_db()
    assert (responses[0].score, responses[0].graded_by) == (0.0, instructor)


def test_an_item_of_another_question_or_no_ticked_answer_is_refused_with_a_message(grouped, ta):
    quiz, template, group, responses = grouped
    page = logged_in(ta).post(f"/manage/answer-groups/{group.pk}/apply",  # noqa: F405
                              {"items": ["999999"], "responses": [responses[0].pk]}, follow=True)
    assert "is not part of this question" in page.content.decode()
    page = logged_in(ta).post(f"/manage/answer-groups/{group.pk}/apply", {"items": []}, follow=True)  # noqa: F405
    assert "Tick at least one answer" in page.content.decode()
    assert not Response.objects.filter(pk__in=[r.pk for r in responses], grading_state=Response.GRADED).exists()


def test_ids_that_are_not_ours_are_ignored_not_a_500(grouped, ta):
    quiz, template, group, responses = grouped
    huge = "9" * 5000
    page = logged_in(ta).post(f"/manage/answer-groups/{group.pk}/apply",  # noqa: F405
                              {"items": [huge, "x"], "responses": [huge, "-3"], "adjustment": "1e999"}, follow=True)
    assert page.status_code == 200 and "Tick at least one answer" in page.content.decode()
    assert all(Response.objects.get(pk=r.pk).grading_state == Response.MANUAL for r in responses)
