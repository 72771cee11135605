"""Hand-built people, course and question bank for the exams service tests.

`classroom` gives a course with an instructor, a TA, two students and an outsider (logged in, no course).
`fake_engine` replaces the runner-backed variant generation with a deterministic stand-in, so the exams tests
do not depend on the sandbox (tests/test_exams_integration.py uses the real engine).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from exams import clock
from exams.models import Assessment, Course, GradeCategory, Membership
from exams.roster import enroll
from quizbank import services as bank
from quizbank.engine import GeneratedVariant
from quizbank.models import Template, Variant
from quizbank.spec import TemplateSpec
from tests.conftest import make_user

T0 = datetime(2026, 2, 3, 10, 0, tzinfo=dt_timezone.utc)
QUIZ_BLUEPRINT = [{"qtype": "mcq", "count": 4, "lectures": [1, 3]}, {"qtype": "short", "count": 3, "lectures": [1, 3]},
                  {"qtype": "code", "count": 3, "lectures": [1, 3]}]


@dataclass
class Classroom:
    course: Course
    instructor: object
    ta: object
    student: object
    other_student: object
    outsider: object


def build_classroom(code: str = "DL101") -> Classroom:
    course = Course.objects.create(code=code, title="Deep Learning")
    people = {name: make_user(f"{name}-{code.lower()}") for name in ("instructor", "ta", "student", "other", "outsider")}
    enroll(course, people["instructor"], Membership.INSTRUCTOR)
    enroll(course, people["ta"], Membership.TA)
    enroll(course, people["student"], Membership.STUDENT, "S001")
    enroll(course, people["other"], Membership.STUDENT, "S002")
    return Classroom(course, people["instructor"], people["ta"], people["student"], people["other"], people["outsider"])


def spec_for(slug: str, kind: str, qtype: str, lectures: tuple[int, ...] = (1,), tags: tuple[str, ...] = (),
             answer: dict | None = None) -> TemplateSpec:
    extra: dict = {}
    if kind == "mcq":
        extra["misconceptions"] = "misconceptions = {'off by one': answer + 1}\n"
    if kind == "output":
        extra["program"] = "print(a)\n"
    if kind == "completion":
        extra.update(scaffold="def f(x):\n    # >>> your code\n    return x\n    # <<< your code\n",
                     reference="return 2 * x\n", tests="def test_double():\n    return f(a)\n")
    return TemplateSpec(slug=slug, title=slug.replace("-", " "), kind=kind, qtype=qtype, lectures=lectures, tags=tags,
                        stem="Twice {{ a }}?", parameters="a = rng.randint(2, 9)\n", solution="answer = a * 2\n",
                        answer=answer or ({"format": "numeric"} if kind == "short" else {}), **extra)


def build_bank(mcq: int = 4, short: int = 3, code: int = 3, lectures: tuple[int, ...] = (1,), prefix: str = "t") -> list[Template]:
    """`code` questions alternate between code-output and code-completion templates."""
    templates = []
    for i in range(mcq):
        templates.append(bank.save_spec(spec_for(f"{prefix}-mcq-{i}", "mcq", "mcq", lectures)))
    for i in range(short):
        templates.append(bank.save_spec(spec_for(f"{prefix}-short-{i}", "short", "short", lectures)))
    for i in range(code):
        kind = "output" if i % 2 == 0 else "completion"
        templates.append(bank.save_spec(spec_for(f"{prefix}-code-{i}", kind, "code", lectures)))
    return templates


def fake_generate(spec: TemplateSpec, seed: int, *, check: bool = True) -> GeneratedVariant:
    a = 2 + seed % 8
    factor = re.search(r"answer = a \* (\d+)", spec.solution)
    answer = a * (int(factor.group(1)) if factor else 2)  # so a fixed template (new version) has a new key
    public = {"kind": spec.kind, "qtype": spec.qtype, "answer_format": spec.answer_format, "title": spec.title,
              "stem_md": f"Twice {a}?", "stem_html": f"<p>Twice {a}?</p>", "program": "", "program_html": ""}
    key = {"answer": answer, "explanation_md": "", "explanation_html": "<p>double it</p>", "params": {"a": a}}
    if spec.kind == "mcq":
        correct = seed % 4
        values = [answer + 1 + i for i in range(4)]
        values[correct] = answer
        public["options"] = [{"text": str(v), "html": f"<p>{v}</p>"} for v in values]
        key["correct_index"] = correct
    if spec.kind == "output":
        key["answer"] = str(answer)
    if spec.kind == "completion":
        public.update(scaffold=spec.scaffold, starter="return x", visible_tests=["test_double"])
        key.update(expected_tests=[{"name": "test_double", "visible": True, "value": answer}], reference=spec.reference)
    if spec.answer.get("format") == "manual":
        key["rubric"] = spec.answer.get("rubric", "")
    return GeneratedVariant(seed=seed, public=public, key=key, wall_ms=0.1)


def correct_text(slot) -> str:
    """The right answer for a slot, as a student would type it (tests only)."""
    variant = Variant.objects.get(version=slot.template_version, seed=slot.seed)
    if variant.public["kind"] == "mcq":
        return str(variant.key["correct_index"])
    if variant.public["kind"] == "completion":
        return "    return 2 * x\n"
    return str(variant.key["answer"])


def make_assessment(course: Course, title: str = "Quiz 1", *, blueprint: list | None = None, minutes: int | None = 30,
                    opens_at: datetime | None = T0, closes_at: datetime | None = T0 + timedelta(days=1),
                    category: GradeCategory | None = None, kind: str = Assessment.QUIZ, publish: bool = True,
                    **extra) -> Assessment:
    assessment = Assessment.objects.create(
        course=course, title=title, kind=kind, blueprint=blueprint if blueprint is not None else QUIZ_BLUEPRINT,
        time_limit_minutes=minutes, opens_at=opens_at, closes_at=closes_at, category=category,
        state=Assessment.PUBLISHED if publish else Assessment.DRAFT, **extra)
    return assessment


@pytest.fixture
def fake_engine(monkeypatch):
    monkeypatch.setattr(bank, "generate", fake_generate)
    return fake_generate


@pytest.fixture
def frozen_clock():
    clock.freeze(T0)
    yield clock
    clock.unfreeze()


@pytest.fixture
def fast_passwords(settings):
    # The default PBKDF2 costs ~1 s per user on these cores; these tests are not about hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def classroom(db, fast_passwords) -> Classroom:
    return build_classroom()
