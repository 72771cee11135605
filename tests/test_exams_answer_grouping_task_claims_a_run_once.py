"""The answer grouping task: sent on commit to the `bulk` queue, acks_late; it claims its run with a
conditional UPDATE (a second claim, or a duplicate message, does nothing), records its progress, stores the
groups as data, and a finished recomputation replaces the question's previous suggestion. Nothing is graded."""
from __future__ import annotations

import pytest

from exams import answer_groups
from exams.models import AnswerGroup, AnswerGroupMember, AnswerGrouping, Response
from quizbank.services import save_spec
from tests.answer_group_support import EXPLANATIONS, eager_celery, submit_class  # noqa: F401 - fixture
from tests.rubric_support import EXPLAIN_RUBRIC
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def rubric_quiz(course):
    template = save_spec(EXPLAIN_RUBRIC)
    return make_quiz(course, slugs=["rubric-explain"]), template  # noqa: F405


TEXTS = EXPLANATIONS["saturation"][:3] + ["use relu instead of sigmoid", "...", "Use ReLU instead of sigmoid."]  # "..." is blank


def test_the_task_is_routed_to_the_bulk_queue_and_acknowledged_late():
    from config.celery import app
    from exams.tasks import group_answers_task

    assert app.amqp.router.route({}, answer_groups.GROUP_ANSWERS)["queue"].name == "bulk"
    assert group_answers_task.acks_late is True


def test_requesting_groups_runs_the_task_on_commit_and_stores_the_groups_without_grading(
        rubric_quiz, course, instructor, eager_celery, django_capture_on_commit_callbacks):  # noqa: F811
    quiz, template = rubric_quiz
    responses = submit_class(quiz, course, TEXTS)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = answer_groups.request_grouping(quiz, template, instructor)
    assert run.state == AnswerGrouping.QUEUED and len(callbacks) == 1
    callbacks[0]()  # the commit: the task runs (eagerly, as a worker would)
    run.refresh_from_db()
    assert run.state == AnswerGrouping.DONE and run.answers == 6
    assert (run.done, run.total) == (4, 4)  # the distinct non-blank answers, all embedded
    assert set(run.timings) == {"load", "embed", "cluster", "total"}
    groups = list(run.groups.all())
    assert sum(group.size for group in groups) == 6 and groups[-1].is_blank
    members = {m.response_id: m.group_id for m in AnswerGroupMember.objects.filter(group__grouping=run)}
    assert members[responses[0].pk] == members[responses[1].pk] == members[responses[2].pk]
    assert members[responses[3].pk] == members[responses[5].pk] != members[responses[0].pk]
    assert set(Response.objects.filter(pk__in=[r.pk for r in responses]).values_list("grading_state", flat=True)) == {
        Response.MANUAL}


def test_a_second_claim_of_the_same_run_does_nothing(rubric_quiz, course, instructor):
    quiz, template = rubric_quiz
    submit_class(quiz, course, TEXTS[:2])
    run = answer_groups.request_grouping(quiz, template, instructor)  # not eager, not committed: not run yet
    assert answer_groups.claim(run.pk) is True
    assert answer_groups.claim(run.pk) is False
    assert answer_groups.run_grouping(run.pk) is False  # a duplicate message: the run is someone else's
    run.refresh_from_db()
    assert run.state == AnswerGrouping.RUNNING and not run.groups.exists()


def test_asking_twice_while_a_run_is_queued_queues_one_run(rubric_quiz, course, instructor, ta):
    quiz, template = rubric_quiz
    submit_class(quiz, course, TEXTS[:2])
    first = answer_groups.request_grouping(quiz, template, instructor)
    assert answer_groups.request_grouping(quiz, template, ta) == first
    assert AnswerGrouping.objects.count() == 1


def test_recomputing_replaces_the_previous_suggestion(rubric_quiz, course, instructor):
    quiz, template = rubric_quiz
    submit_class(quiz, course, TEXTS)
    old = answer_groups.request_grouping(quiz, template, instructor)
    assert answer_groups.run_grouping(old.pk)
    old_groups = set(AnswerGroup.objects.filter(grouping=old).values_list("pk", flat=True))
    new = answer_groups.request_grouping(quiz, template, instructor)
    assert new != old
    assert answer_groups.latest_done(quiz, template) == old  # the old suggestion stays until the new one is done
    assert answer_groups.run_grouping(new.pk)
    assert list(AnswerGrouping.objects.values_list("pk", flat=True)) == [new.pk]
    assert not AnswerGroup.objects.filter(pk__in=old_groups).exists()
    assert answer_groups.latest_done(quiz, template) == new and new.groups.count() == old_groups.__len__()
