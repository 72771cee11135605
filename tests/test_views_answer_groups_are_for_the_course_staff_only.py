"""Answer groups are for the course's staff: a student, an outsider and a TA of another course get 404 on the
groups page, the suggest button, the progress JSON and applying rubric items to a group, and nothing changes."""
from __future__ import annotations

import pytest

from exams import answer_groups, rubrics
from exams.models import AnswerGrouping, AuditEvent, Course, Membership, Response
from quizbank.services import save_spec
from tests.answer_group_support import submit_class
from tests.conftest import make_user
from tests.rubric_support import EXPLAIN_RUBRIC
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def grouped(course, instructor):
    template = save_spec(EXPLAIN_RUBRIC)
    quiz = make_quiz(course, slugs=["rubric-explain"])  # noqa: F405
    responses = submit_class(quiz, course, ["use relu instead of sigmoid", "Use ReLU instead of sigmoid."])
    run = answer_groups.request_grouping(quiz, template, instructor)
    answer_groups.run_grouping(run.pk)
    return quiz, template, run.groups.get(), responses


@pytest.fixture
def other_course_ta(db, fast_hashing):
    other = Course.objects.create(code="CSCI9999", title="Another course")
    user = make_user("tom")
    Membership.objects.create(course=other, user=user, role=Membership.TA)
    return user


def test_students_outsiders_and_a_ta_of_another_course_get_404_and_nothing_changes(
        grouped, student, outsider, other_course_ta):
    quiz, template, group, responses = grouped
    base = f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/groups/"
    item = rubrics.items_for(quiz, template)[0]
    for person in (student, outsider, other_course_ta):
        client = logged_in(person)  # noqa: F405
        assert client.get(base).status_code == 404
        assert client.get(base + "status.json").status_code == 404
        assert client.post(base + "suggest").status_code == 404
        assert client.post(f"/manage/answer-groups/{group.pk}/apply",
                           {"items": [item.pk], "responses": [r.pk for r in responses]}).status_code == 404
    assert AnswerGrouping.objects.count() == 1
    assert set(Response.objects.filter(pk__in=[r.pk for r in responses]).values_list("grading_state", flat=True)) == {
        Response.MANUAL}
    assert not AuditEvent.objects.filter(action__in=["grade.manual", answer_groups.GROUP_APPLY]).exists()


def test_the_course_ta_sees_the_groups_and_their_progress(grouped, ta):
    quiz, template, group, responses = grouped
    client = logged_in(ta)  # noqa: F405
    base = f"/manage/assessments/{quiz.pk}/grading/questions/{template.pk}/groups/"
    page = client.get(base).content.decode()
    assert f'id="group-{group.pk}"' in page and "use relu instead of sigmoid" in page
    assert "js/answer_groups.js" in page and "<script>" not in page
    status = client.get(base + "status.json").json()
    assert status["state"] == "done" and status["message"] == "1 group of 2 answers."
