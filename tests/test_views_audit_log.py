"""The audit log page and its CSV: the course's instructors see who changed what; TAs, students, outsiders and
other courses' instructors get a 404."""
from __future__ import annotations

import csv
import io

import pytest

from exams import audit
from exams.gradebook import excuse, unexcuse
from exams.models import Course, Membership
from exams.policy import set_override
from tests.conftest import make_user
from tests.web_fixtures import *  # noqa: F403


@pytest.fixture
def history(course, bank, instructor, student, other_student):
    quiz = make_quiz(course, slugs=["web-double"])
    excuse(quiz, student, by=instructor, reason="medical note")
    set_override(quiz, other_student, extra_minutes=15, by=instructor, note="ILP")
    unexcuse(quiz, student, by=instructor)
    return quiz


def csv_rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_instructor_sees_every_event_newest_first_with_before_and_after(history, instructor):
    page = logged_in(instructor).get(f"/courses/{history.course_id}/audit/")
    html = page.content.decode()
    assert page.status_code == 200
    actions = [chunk.split('"', 1)[0] for chunk in html.split('data-action="')[1:]]
    assert actions == [audit.EXCUSAL_REMOVE, audit.OVERRIDE_SET, audit.EXCUSAL_ADD]
    assert "medical note" in html and "extra_minutes: 15" in html and "excused: true → false" in html
    assert html.count("<td>irene</td>") == 3


def test_the_log_filters_by_action_and_by_student(history, instructor, student, other_student):
    client = logged_in(instructor)
    by_action = client.get(f"/courses/{history.course_id}/audit/", {"action": audit.OVERRIDE_SET}).content.decode()
    assert by_action.count('data-action="') == 1 and f'data-action="{audit.OVERRIDE_SET}"' in by_action
    by_student = client.get(f"/courses/{history.course_id}/audit/", {"student": student.pk}).content.decode()
    assert by_student.count('data-action="') == 2 and audit.OVERRIDE_SET not in by_student.split("<tbody>")[1]


def test_the_log_is_paginated(course, instructor, student, bank):
    quiz = make_quiz(course, slugs=["web-double"])
    for _ in range(51):
        excuse(quiz, student, by=instructor)
    client = logged_in(instructor)
    first = client.get(f"/courses/{course.pk}/audit/").content.decode()
    assert first.count('data-action="') == 50 and "Page 1 of 2" in first
    assert client.get(f"/courses/{course.pk}/audit/", {"page": 2}).content.decode().count('data-action="') == 1


def test_the_instructor_downloads_the_log_as_csv_with_no_cell_a_spreadsheet_evaluates(history, instructor, student):
    student.first_name, student.last_name = "=HYPERLINK(1)", ""
    student.save()
    excuse(history, student, by=instructor, reason="@SUM(1)")
    response = logged_in(instructor).get(f"/courses/{history.course_id}/audit.csv")
    assert response.status_code == 200 and response.streaming and "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row["Action"] for row in rows] == ["Excused", "Excusal removed", "Dates or extra time set", "Excused"]
    assert (rows[0]["Student"], rows[0]["Reason"]) == ("'=HYPERLINK(1)", "'@SUM(1)")
    filtered = csv_rows(logged_in(instructor).get(f"/courses/{history.course_id}/audit.csv",
                                                  {"action": audit.OVERRIDE_SET}))
    assert [row["Action"] for row in filtered] == ["Dates or extra time set"]


def test_the_course_page_links_the_audit_log_for_instructors_only(course, instructor, ta):
    assert 'id="audit-log-link"' in logged_in(instructor).get(f"/courses/{course.pk}/").content.decode()
    assert 'id="audit-log-link"' not in logged_in(ta).get(f"/courses/{course.pk}/").content.decode()


@pytest.mark.parametrize("who", ["ta", "student", "outsider", "elsewhere"])
def test_everyone_but_the_courses_instructors_gets_a_404(who, history, request):
    if who == "elsewhere":
        other = Course.objects.create(code="OTHER1", title="Other course")
        person = make_user("ingrid")
        Membership.objects.create(course=other, user=person, role=Membership.INSTRUCTOR)
    else:
        person = request.getfixturevalue(who)
    client = logged_in(person)
    assert client.get(f"/courses/{history.course_id}/audit/").status_code == 404
    assert client.get(f"/courses/{history.course_id}/audit.csv").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(history, client):
    response = client.get(f"/courses/{history.course_id}/audit/")
    assert response.status_code == 302 and "login" in response["Location"]
