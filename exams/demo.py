"""The syllabus's course as a demo (load_demo) and a simulated class taking it (simulate_class).

Both go through the same services the web uses. Safe to run twice: existing rows are kept, not duplicated.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from exams import clock
from exams.assembly import AssemblyError, publish_assessment
from exams.attempts import AttemptError, attempt_questions, autosave, start_attempt, submit_attempt
from exams.gradebook import set_manual_grade
from exams.models import Assessment, Course, GradeCategory, ManualGradeItem, Membership, Response
from exams.roster import enroll

logger = logging.getLogger(__name__)

COURSE_CODE = "CSCI4701"
COURSE_TITLE = "Deep Learning"
QUIZ_LECTURES = {1: (1, 3), 2: (5, 6), 3: (7, 8), 4: (10, 11), 5: (14, 14), 6: (18, 19), 7: (20, 21), 8: (22, 23),
                 9: (25, 27)}
# (username, password, role, student id, first name, last name). Demo only: printed by load_demo.
DEMO_PEOPLE = [
    ("instructor", "instructor-pass", Membership.INSTRUCTOR, "", "Ismayil", "Shahaliyev"),
    ("ta", "ta-pass", Membership.TA, "", "Tural", "Assistant"),
    ("student1", "student1-pass", Membership.STUDENT, "S0001", "Leyla", "Aliyeva"),
    ("student2", "student2-pass", Membership.STUDENT, "S0002", "Murad", "Huseynov"),
    ("student3", "student3-pass", Membership.STUDENT, "S0003", "Aysel", "Karimova"),
]


def blueprint(mcq: int, short: int, code: int, lectures: tuple[int, int] | None) -> list[dict]:
    span = list(lectures) if lectures else None
    draws = [{"qtype": "mcq", "count": mcq}, {"qtype": "short", "count": short}, {"qtype": "code", "count": code}]
    for draw in draws:
        if span:
            draw["lectures"] = span
    return draws


@dataclass
class DemoReport:
    people: list[tuple[str, str, str]] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    not_published: list[tuple[str, str]] = field(default_factory=list)


def _person(username: str, password: str, first: str, last: str) -> Any:
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={
        "email": f"{username}@demo.example.edu", "first_name": first, "last_name": last})
    user.set_password(password)  # always the documented password, even if someone changed it
    user.save()
    return user


QUESTION_AUTHORS = "Question authors"
AUTHOR_PERMISSIONS = [("quizbank", "template", ("add", "change", "view")), ("quizbank", "templateversion", ("view",))]


def question_authors_group() -> Group:
    """Staff who author templates in the admin (Quizbank -> Templates): instructors, not TAs or students."""
    group, _ = Group.objects.get_or_create(name=QUESTION_AUTHORS)
    for app_label, model, actions in AUTHOR_PERMISSIONS:
        for action in actions:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=f"{action}_{model}"))
    return group


def load_demo() -> DemoReport:
    report = DemoReport()
    now = clock.now()
    with transaction.atomic():
        course, _ = Course.objects.get_or_create(code=COURSE_CODE, defaults={"title": COURSE_TITLE})
        authors = question_authors_group()
        for username, password, role, student_id, first, last in DEMO_PEOPLE:
            person = _person(username, password, first, last)
            enroll(course, person, role, student_id)
            if role == Membership.INSTRUCTOR:
                person.is_staff = True
                person.save(update_fields=["is_staff"])
                person.groups.add(authors)
            report.people.append((username, password, role))
        categories = {}
        for position, (name, drop) in enumerate([("Team project", 0), ("Quizzes", 1), ("Midterm", 0), ("Final", 0)]):
            categories[name], _ = GradeCategory.objects.get_or_create(
                course=course, name=name, defaults={"weight": Decimal(25), "drop_lowest": drop, "position": position})
        ManualGradeItem.objects.get_or_create(course=course, title="Team project",
                                              defaults={"category": categories["Team project"], "max_points": 100})
        opens = now - timedelta(hours=1)
        closes = now + timedelta(days=120)
        # Quizzes and exams are open for the whole demo term; results show on submit, answers after closing.
        specs = [(f"Quiz {n}", Assessment.QUIZ, categories["Quizzes"], blueprint(4, 3, 3, span), 30, n, 1)
                 for n, span in QUIZ_LECTURES.items()]
        specs += [("Midterm", Assessment.EXAM, categories["Midterm"], blueprint(8, 6, 6, (1, 15)), 60, 20, 1),
                  ("Final", Assessment.EXAM, categories["Final"], blueprint(8, 6, 6, (1, 29)), 60, 30, 1),
                  ("Sample questions", Assessment.PRACTICE, None, blueprint(1, 1, 1, None), None, 0, 20)]
        assessments = []
        for title, kind, category, draws, minutes, position, attempts in specs:
            assessment, _ = Assessment.objects.get_or_create(course=course, title=title, defaults={
                "kind": kind, "category": category, "blueprint": draws, "time_limit_minutes": minutes,
                "opens_at": opens, "closes_at": closes, "due_at": closes if kind != Assessment.PRACTICE else None,
                "attempts_allowed": attempts, "results_released_at": opens,
                "answers_released_at": opens if kind == Assessment.PRACTICE else closes,
                "position": position,
                "instructions": "Answers are saved as you type. The timer is kept by the server." if minutes else
                "Practice: one question of each type, as many tries as you like, answers shown after each try."})
            assessments.append(assessment)
    for assessment in assessments:
        if assessment.is_published:
            report.published.append(assessment.title)
            continue
        try:
            publish_assessment(assessment)
            report.published.append(assessment.title)
        except AssemblyError as error:
            report.not_published.append((assessment.title, str(error)))
    return report


@dataclass
class SimulationReport:
    students: int = 0
    attempts: int = 0
    skipped: int = 0
    refused: list[str] = field(default_factory=list)
    code_graded: int = 0


def _plausible_answer(public: dict, key: dict, knows_it: bool, rng: random.Random) -> str | None:
    kind = public.get("kind")
    if rng.random() < 0.05:
        return None  # left blank
    if kind == "mcq":
        options = len(public.get("options") or [])
        return str(key["correct_index"] if knows_it or options < 2 else rng.choice(
            [i for i in range(options) if i != key["correct_index"]]))
    if kind == "completion":
        return str(key.get("reference", "")) if knows_it else public.get("starter", "")
    if public.get("answer_format") == "manual":
        return rng.choice(["It keeps the expected activation the same.", "Because of the gradient.",
                           "I am not sure, something about scaling."])
    answer = key.get("answer")
    if knows_it:
        return answer[0] if isinstance(answer, list) and answer and isinstance(answer[0], str) else str(answer)
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        return str(round(answer * rng.choice([0.5, 2, -1, 1.5]) + rng.choice([0, 1]), 3))
    return rng.choice(["0", "I don't know", "(1, 2)"])


def _simulated_student(course: Course, index: int) -> Any:
    username = f"sim-{course.code.lower()}-{index:04d}"
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={
        "email": f"{username}@sim.example.edu", "first_name": "Simulated", "last_name": f"Student {index:04d}"})
    if created:
        user.set_unusable_password()
        user.save()
    enroll(course, user, Membership.STUDENT, f"SIM{index:04d}")
    return user


def simulate_class(course: Course, students: int, *, seed: int = 4701, grade_code_inline: bool = True,
                   progress=None) -> SimulationReport:
    """N students take every published assessment through the services (random but plausible answers; some
    quizzes skipped). Code completion is graded inline (through the runner) unless grade_code_inline=False."""
    from exams.grading import grade_code_response

    rng = random.Random(seed)
    report = SimulationReport()
    assessments = list(course.assessments.filter(state=Assessment.PUBLISHED).order_by("position", "id"))
    project = course.manual_items.filter(title="Team project").first()
    for index in range(1, students + 1):
        student = _simulated_student(course, index)
        report.students += 1
        ability = rng.uniform(0.35, 0.95)
        for assessment in assessments:
            skip = {Assessment.QUIZ: 0.12, Assessment.EXAM: 0.03, Assessment.PRACTICE: 0.5}[assessment.kind]
            if rng.random() < skip:
                report.skipped += 1
                continue
            try:
                attempt = start_attempt(assessment, student)
            except (AttemptError, AssemblyError) as error:
                report.refused.append(f"{student.username} / {assessment.title}: {error}")
                continue
            if not attempt.is_open:
                continue
            from quizbank.models import Variant

            for question in attempt_questions(attempt):
                if question.public.get("unavailable"):
                    continue
                slot = attempt.slots.get(pk=question.slot_id)
                key = Variant.objects.get(version_id=slot.template_version_id, seed=slot.seed).key
                text = _plausible_answer(question.public, key, rng.random() < ability, rng)
                if text is not None:
                    autosave(attempt, question.slot_id, text, user=student)
            attempt = submit_attempt(attempt, user=student)
            report.attempts += 1
            if grade_code_inline:
                for response_id in Response.objects.filter(attempt=attempt, grading_state=Response.QUEUED) \
                        .values_list("pk", flat=True):
                    try:
                        report.code_graded += int(grade_code_response(response_id))
                    except Exception as error:  # the runner may be down; the Celery task will retry later
                        report.refused.append(f"code grading of response {response_id}: {error}")
        if project is not None:
            set_manual_grade(project, student, Decimal(rng.randint(60, 100)))
        if progress is not None:
            progress(index, students)
    return report
