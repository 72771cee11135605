"""Fixtures for the web tests (views, security, browser): a course with staff and two students, small
question templates, and an assessment built from them. Import with `from tests.web_fixtures import *`.

The templates are deliberately tiny so that generating a variant is a few milliseconds in the runner.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from exams import clock
from exams.models import Assessment, Course, GradeCategory, Membership
from quizbank.services import save_spec
from quizbank.spec import TemplateSpec
from tests.conftest import PASSWORD, make_user

__all__ = [
    "PASSWORD", "DOUBLE_SHORT", "PICK_MCQ", "EXPLAIN_MANUAL", "PRINT_OUTPUT", "SQUARE_COMPLETION",
    "course", "instructor", "ta", "student", "other_student", "outsider", "bank", "quiz", "make_quiz",
    "logged_in", "answer_key_strings", "fast_hashing",
]

DOUBLE_SHORT = TemplateSpec(
    slug="web-double", title="Double it", kind="short", qtype="short", lectures=(1,),
    parameters="a = rng.randint(2, 9)\n", stem="What is 2 × {{ a }}?", solution="answer = a * 2\n",
    answer={"format": "numeric"}, explanation="Two times {{ a }} is {{ answer }}.",
)
PICK_MCQ = TemplateSpec(
    slug="web-pick", title="Pick the square", kind="mcq", qtype="mcq", lectures=(1,),
    parameters="b = rng.randint(3, 9)\n", stem="Which is $b^2$ for $b = {{ b }}$?", solution="answer = b * b\n",
    misconceptions="misconceptions = {'doubles': 2 * b, 'adds one': b + 1, 'cubes': b ** 3}\n",
)
EXPLAIN_MANUAL = TemplateSpec(
    slug="web-explain", title="Explain dropout", kind="short", qtype="short", lectures=(1,),
    parameters="p = rng.choice([0.1, 0.2, 0.5])\n",
    stem="Explain in one sentence why dropout with p = {{ p }} rescales activations.",
    answer={"format": "manual", "rubric": "RUBRIC-SECRET: expected value is preserved by 1/(1-p)."},
)
PRINT_OUTPUT = TemplateSpec(
    slug="web-print", title="Predict the print", kind="output", qtype="code", lectures=(1,),
    parameters="n = rng.randint(2, 5)\n", stem="What does this program print?",
    program="print({{ n }} * 3)\n",
)
SQUARE_COMPLETION = TemplateSpec(
    slug="web-square", title="Complete square", kind="completion", qtype="code", lectures=(1,),
    parameters="n = rng.randint(3, 8)\n",
    stem="Complete `square(x)` so that it returns $x^2$.",
    scaffold="def square(x):\n    # >>> your code\n    return x\n    # <<< your code\n\nprint(square({{ n }}))\n",
    reference="return x * x\n",
    tests="def test_square():\n    return square(n)\n",
)


@pytest.fixture
def fast_hashing(settings) -> None:
    # The default PBKDF2 costs ~1 s per user on these shared cores; these tests are not about hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def course(db, fast_hashing) -> Course:
    course = Course.objects.create(code="CSCI4701", title="Deep Learning")
    GradeCategory.objects.create(course=course, name="Quizzes", weight=25, drop_lowest=1, position=1)
    return course


def _member(course: Course, username: str, role: str, student_id: str = "", **extra: Any):
    user = make_user(username, **extra)
    Membership.objects.create(course=course, user=user, role=role, student_id=student_id)
    return user


@pytest.fixture
def instructor(course):
    return _member(course, "irene", Membership.INSTRUCTOR)


@pytest.fixture
def ta(course):
    return _member(course, "tariq", Membership.TA)


@pytest.fixture
def student(course):
    return _member(course, "sam", Membership.STUDENT, student_id="S001")


@pytest.fixture
def other_student(course):
    return _member(course, "olga", Membership.STUDENT, student_id="S002")


@pytest.fixture
def outsider(db, fast_hashing):
    return make_user("otto")


@pytest.fixture
def bank(db) -> dict[str, Any]:
    """The small templates, saved (each gets a first version)."""
    return {spec.slug: save_spec(spec) for spec in (DOUBLE_SHORT, PICK_MCQ, EXPLAIN_MANUAL, PRINT_OUTPUT)}


def make_quiz(course: Course, *, slugs: list[str], title: str = "Quiz 1", minutes: int | None = 30,
              published: bool = True, **fields: Any) -> Assessment:
    now = clock.now()
    values: dict[str, Any] = {
        "course": course, "title": title, "kind": Assessment.QUIZ,
        "category": course.categories.filter(name="Quizzes").first(),
        "blueprint": [{"templates": slugs}], "time_limit_minutes": minutes,
        "opens_at": now - timedelta(hours=1), "closes_at": now + timedelta(days=1),
        "state": Assessment.PUBLISHED if published else Assessment.DRAFT,
    }
    values.update(fields)
    return Assessment.objects.create(**values)


@pytest.fixture
def quiz(course, bank) -> Assessment:
    return make_quiz(course, slugs=["web-double", "web-pick", "web-explain", "web-print"])


def logged_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def answer_key_strings(attempt) -> list[str]:
    """Every fragment of every answer key of an attempt that must never reach the student before release."""
    from quizbank.services import variant_for

    secrets: list[str] = []
    for slot in attempt.slots.select_related("template_version"):
        key = variant_for(slot.template_version, slot.seed).key
        if key.get("rubric"):
            secrets.append(key["rubric"])
        if key.get("explanation_html"):
            secrets.append(key["explanation_html"])
        if "correct_index" in key:
            secrets.append(f'"correct_index"')
        if key.get("option_sources"):
            secrets.append("misconception:")
    return secrets
