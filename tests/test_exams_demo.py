"""load_demo builds the syllabus's course idempotently; simulate_class fills a gradebook through the services."""
from __future__ import annotations

import pytest

from exams.demo import QUIZ_LECTURES, load_demo, simulate_class
from exams.gradebook import gradebook
from exams.models import Assessment, Attempt, Course, GradeCategory, Membership
from tests.exams_personas import build_bank, fast_passwords  # noqa: F401 - fixtures


@pytest.fixture
def small_bank(db, fast_passwords):
    # Enough for Quiz 1 (lectures 1-3) and the practice set, nothing for the later quizzes or the exams.
    build_bank(mcq=4, short=3, code=3, lectures=(2,))


def test_load_demo_creates_the_syllabus_course_and_is_safe_to_run_twice(small_bank):
    first = load_demo()
    second = load_demo()
    course = Course.objects.get(code="CSCI4701")
    titles = list(course.assessments.order_by("position").values_list("title", flat=True))
    assert titles == ["Sample questions"] + [f"Quiz {n}" for n in range(1, 10)] + ["Midterm", "Final"]
    assert course.assessments.count() == 12 and course.memberships.count() == 5
    assert course.memberships.filter(role=Membership.STUDENT).count() == 3
    assert sorted((c.name, int(c.weight), c.drop_lowest) for c in GradeCategory.objects.filter(course=course)) == [
        ("Final", 25, 0), ("Midterm", 25, 0), ("Quizzes", 25, 1), ("Team project", 25, 0)]
    quiz5 = course.assessments.get(title="Quiz 5")
    assert quiz5.blueprint[0] == {"qtype": "mcq", "count": 4, "lectures": [14, 14]} and quiz5.time_limit_minutes == 30
    final = course.assessments.get(title="Final")
    assert [d["count"] for d in final.blueprint] == [8, 6, 6] and final.blueprint[0]["lectures"] == [1, 29]
    assert set(first.published) == set(second.published) == {"Quiz 1", "Sample questions"}
    quiz2_problem = dict(first.not_published)["Quiz 2"]
    assert "needs 4 multiple-choice question(s) from lectures 5-6, the bank has 0" in quiz2_problem
    assert len(QUIZ_LECTURES) == 9


def test_simulate_class_makes_students_take_published_assessments_through_the_services(small_bank):
    load_demo()
    course = Course.objects.get(code="CSCI4701")
    report = simulate_class(course, 2, seed=1)  # two students: every variant and code answer goes through the runner
    assert report.students == 2 and report.refused == []
    attempts = Attempt.objects.filter(assessment__course=course)
    assert attempts.count() == report.attempts > 0
    assert not attempts.filter(state=Attempt.IN_PROGRESS).exists()
    quiz1 = course.assessments.get(title="Quiz 1")
    simulated = [row for row in gradebook(course).rows if row.student_id.startswith("SIM")]
    assert len(simulated) == 2
    assert all(row.cells[f"a{quiz1.pk}"].percent is not None for row in simulated)
    assert all(row.weighted_total is not None for row in simulated)
    assert quiz1.state == Assessment.PUBLISHED


def test_the_demo_instructor_can_author_templates_in_the_admin_and_students_cannot(small_bank, client):
    from django.contrib.auth import get_user_model

    load_demo()
    users = get_user_model().objects
    instructor, ta, student = (users.get(username=name) for name in ("instructor", "ta", "student1"))
    assert instructor.is_staff and instructor.has_perm("quizbank.change_template")
    assert not ta.has_perm("quizbank.change_template") and not student.is_staff
    client.force_login(instructor)
    assert client.get("/admin/quizbank/template/").status_code == 200
    client.force_login(student)
    assert client.get("/admin/quizbank/template/").status_code == 302
