"""Instructors build assessments in the staff pages: create, edit, duplicate, delete, the blueprint with the
size of each draw's pool, and the release of results and answers. Every change is recorded in the audit log.

Decisions where the syllabus is silent:
- A quiz's or exam's blueprint is locked once a student has started: attempts freeze their questions, and a
  changed blueprint would give later students a different paper. Practice sets stay editable (only new
  attempts use the change). Other settings (dates, instructions, late policy) stay editable.
- An assessment with attempts cannot be deleted (it would delete students' work and grades).
- Answers imply results: releasing answers at T releases results at T at the latest; hiding results hides
  answers too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from exams import assembly, audit, clock, publishing, releases
from exams.assembly import AssemblyError
from exams.models import Assessment, Attempt, Course, GradeCategory, new_seed_salt
from quizbank.models import Template

QTYPES = ("mcq", "short", "code")
# The syllabus: a quiz is 4 MCQ + 3 short + 3 code in 30 minutes; an exam 8 + 6 + 6 in 60 minutes.
PRESETS: dict[str, dict[str, Any]] = {
    "quiz": {"label": "Quiz (4 MCQ + 3 short + 3 code, 30 min)", "kind": Assessment.QUIZ, "minutes": 30,
             "counts": {"mcq": 4, "short": 3, "code": 3}},
    "exam": {"label": "Exam (8 MCQ + 6 short + 6 code, 60 min)", "kind": Assessment.EXAM, "minutes": 60,
             "counts": {"mcq": 8, "short": 6, "code": 6}},
}
# Fields a person edits on the form (the blueprint is handled on its own: it may be locked).
SETTING_FIELDS = ("title", "kind", "category", "instructions", "time_limit_minutes", "opens_at", "due_at",
                  "closes_at", "attempts_allowed", "late_policy", "position")
VARIETY_FACTOR = 2  # a draw from fewer than 2x its count gives neighbours the same questions


class AuthoringError(ValueError):
    """A refused change; `problems` are shown to the instructor, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# --- blueprints -------------------------------------------------------------------------------------------
def drawable_bank() -> list[Template]:
    """What draws choose from: assembly's drawable templates (active, ready, with a version; drafts are never
    drawn)."""
    return assembly.drawable_templates()


def preset_blueprint(name: str, lectures: list[int] | None = None) -> list[dict[str, Any]]:
    preset = PRESETS[name]
    draws = []
    for qtype in QTYPES:
        draw: dict[str, Any] = {"qtype": qtype, "count": preset["counts"][qtype]}
        if lectures:
            draw["lectures"] = list(lectures)
        draws.append(draw)
    return draws


def parse_lectures(text: str) -> list[int] | dict[str, list[int]] | None:
    """"3-5" -> [3, 5] (a range); "1, 5, 7" -> {"any": [1, 5, 7]}; "4" -> [4, 4]; "" -> None (any lecture)."""
    text = (text or "").strip()
    if not text:
        return None
    span = re.fullmatch(r"([0-9]{1,4})\s*[-–]\s*([0-9]{1,4})", text)
    if span:
        low, high = sorted((int(span.group(1)), int(span.group(2))))
        return [low, high]
    parts = [p for p in re.split(r"[,\s]+", text) if p]
    if not parts or not all(re.fullmatch(r"[0-9]{1,4}", p) for p in parts):
        raise AuthoringError([f"Lectures {text!r}: write a range such as 3-5 or a list such as 1, 5, 7."])
    numbers = sorted({int(p) for p in parts})
    return [numbers[0], numbers[0]] if len(numbers) == 1 else {"any": numbers}


def lectures_text(lectures: Any) -> str:
    if not lectures:
        return ""
    if isinstance(lectures, dict):
        return ", ".join(str(x) for x in lectures.get("any", []))
    if isinstance(lectures, int):
        return str(lectures)
    if len(lectures) == 2:
        return str(lectures[0]) if lectures[0] == lectures[1] else f"{lectures[0]}-{lectures[1]}"
    return ", ".join(str(x) for x in lectures)


def build_blueprint(rows: list[dict[str, str]], picked: list[str]) -> list[dict[str, Any]]:
    """The editor's rows (qtype, count, lectures, tags as text) and hand-picked slugs -> blueprint JSON.
    Rows without a count are empty rows of the table and are skipped."""
    problems: list[str] = []
    draws: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 1):
        count_text = (row.get("count") or "").strip()
        if not count_text or count_text == "0":
            continue
        qtype = (row.get("qtype") or "").strip()
        if qtype not in QTYPES:
            problems.append(f"Draw {number}: choose a question type ({', '.join(QTYPES)}).")
            continue
        if not re.fullmatch(r"[0-9]{1,3}", count_text) or not 0 < int(count_text) <= 100:
            problems.append(f"Draw {number}: the count must be a whole number from 1 to 100.")
            continue
        draw: dict[str, Any] = {"qtype": qtype, "count": int(count_text)}
        try:
            lectures = parse_lectures(row.get("lectures", ""))
        except AuthoringError as error:
            problems.extend(f"Draw {number}: {p}" for p in error.problems)
            continue
        if lectures is not None:
            draw["lectures"] = lectures
        tags = [t for t in re.split(r"[,\s]+", row.get("tags") or "") if t]
        if tags:
            draw["tags"] = tags
        draws.append(draw)
    slugs = list(dict.fromkeys(s.strip() for s in picked if s.strip()))
    if slugs:
        known = {t.slug for t in drawable_bank()}
        unknown = [s for s in slugs if s not in known]
        if unknown:
            problems.append("Not templates that can be drawn (inactive or without a version): " + ", ".join(unknown))
        draws.append({"templates": slugs})
    if problems:
        raise AuthoringError(problems)
    return draws


def editor_rows(blueprint: list[dict[str, Any]], blank: int = 1) -> tuple[list[dict[str, str]], list[str]]:
    """Blueprint JSON -> the editor's random-draw rows (plus `blank` empty ones) and the hand-picked slugs."""
    rows, picked = [], []
    for draw in blueprint or []:
        if draw.get("templates"):
            picked.extend(draw["templates"])
            continue
        rows.append({"qtype": draw.get("qtype", ""), "count": str(draw.get("count", "")),
                     "lectures": lectures_text(draw.get("lectures")), "tags": ", ".join(draw.get("tags") or [])})
    rows.extend({"qtype": "", "count": "", "lectures": "", "tags": ""} for _ in range(blank))
    return rows, list(dict.fromkeys(picked))


@dataclass(frozen=True)
class DrawPool:
    number: int
    description: str
    count: int
    pool: int                  # templates this draw can choose from
    status: str                # "ok" | "thin" (pool < 2x count) | "short" (pool < count)
    message: str
    slugs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BlueprintReport:
    draws: list[DrawPool]
    question_count: int
    problems: list[str]        # assembly's own check: the blueprint cannot be drawn as a whole

    @property
    def ok(self) -> bool:
        return not self.problems and all(d.status != "short" for d in self.draws)


def blueprint_report(blueprint: list[dict[str, Any]], title: str = "This assessment") -> BlueprintReport:
    """How many templates each draw can choose from (the same matching as assembly, so a draft template or an
    inactive one is never counted), with a warning per draw that is too small for variety or cannot be filled."""
    bank = drawable_bank()
    by_slug = {t.slug: t for t in bank}
    fixed = {slug for draw in blueprint for slug in draw.get("templates") or []}
    reports: list[DrawPool] = []
    for number, draw in enumerate(blueprint, 1):
        if draw.get("templates"):
            missing = [s for s in draw["templates"] if s not in by_slug]
            count = len(draw["templates"])
            status = "short" if missing else "ok"
            message = ("Not drawable: " + ", ".join(missing)) if missing else "The same questions for everyone."
            reports.append(DrawPool(number, f"{count} hand-picked question(s)", count, count - len(missing),
                                    status, message, list(draw["templates"])))
            continue
        pool = [t.slug for t in bank if t.slug not in fixed and assembly.draw_matches(t, draw)]
        count = int(draw.get("count", 0))
        if len(pool) < count:
            status, message = "short", f"{count} needed, only {len(pool)} in the bank."
        elif len(pool) < VARIETY_FACTOR * count:
            status, message = "thin", (f"{len(pool)} templates for {count} questions: students "
                                       f"will mostly get the same ones (aim for {VARIETY_FACTOR * count}+).")
        else:
            status, message = "ok", f"{len(pool)} templates to choose {count} from."
        description = assembly._describe_draw(draw, assembly._lecture_set(draw.get("lectures")))
        reports.append(DrawPool(number, description, count, len(pool), status, message,
                                pool))
    problems: list[str] = []
    if blueprint:
        probe = Assessment(title=title, blueprint=blueprint)
        problems = assembly.check_blueprint(probe)
    return BlueprintReport(reports, sum(d.count for d in reports), problems)


# --- assessments ------------------------------------------------------------------------------------------
def started(assessment: Assessment) -> int:
    """How many students have started (their questions are frozen)."""
    if assessment.pk is None:
        return 0
    return Attempt.objects.filter(assessment=assessment).values("student").distinct().count()


def blueprint_locked(assessment: Assessment) -> bool:
    return assessment.kind != Assessment.PRACTICE and started(assessment) > 0


def _snapshot(assessment: Assessment) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in (*SETTING_FIELDS, "blueprint"):
        value = getattr(assessment, "category_id" if name == "category" else name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _check(course: Course, values: dict[str, Any], *, exclude_pk: int | None = None) -> None:
    problems: list[str] = []
    title = (values.get("title") or "").strip()
    if not title:
        problems.append("Give the assessment a title.")
    elif Assessment.objects.filter(course=course, title=title).exclude(pk=exclude_pk).exists():
        problems.append(f"{course.code} already has an assessment called {title!r}.")
    category = values.get("category")
    if category is not None and category.course_id != course.pk:
        problems.append("That grade category belongs to another course.")
    opens, due, closes = values.get("opens_at"), values.get("due_at"), values.get("closes_at")
    if opens and closes and closes <= opens:
        problems.append("The closing time must be after the opening time.")
    if opens and due and due < opens:
        problems.append("The due time must not be before the opening time.")
    if due and closes and closes < due:
        problems.append("The closing time must not be before the due time (late submissions need the window open).")
    problems.extend(late_policy_problems(values.get("late_policy") or {}))
    if problems:
        raise AuthoringError(problems)


def late_policy_problems(policy: dict[str, Any]) -> list[str]:
    problems = []
    last = 0
    for tier in policy.get("tiers") or []:
        minutes, penalty = tier.get("up_to_minutes"), tier.get("penalty_percent")
        if not isinstance(minutes, int) or minutes <= last:
            problems.append("Late-policy tiers must be in increasing order of minutes.")
            break
        if not isinstance(penalty, (int, float)) or not 0 <= penalty <= 100:
            problems.append("A late penalty is a percent from 0 to 100.")
            break
        last = minutes
    after = policy.get("after_last_tier_percent", 100)
    if not isinstance(after, (int, float)) or not 0 <= after <= 100:
        problems.append("The penalty after the last tier is a percent from 0 to 100.")
    return problems


@transaction.atomic
def create_assessment(course: Course, values: dict[str, Any], blueprint: list[dict[str, Any]], *,
                      by: Any) -> Assessment:
    _check(course, values)
    assessment = Assessment(course=course, blueprint=blueprint, state=Assessment.DRAFT)
    for name in SETTING_FIELDS:
        if name in values:
            setattr(assessment, name, values[name])
    assessment.title = assessment.title.strip()
    assessment.save()
    audit.record(actor=by, action=audit.ASSESSMENT_EDIT, course=course, target=assessment,
                 after={"operation": "create", **_snapshot(assessment)})
    return assessment


@transaction.atomic
def update_assessment(assessment: Assessment, values: dict[str, Any], blueprint: list[dict[str, Any]] | None, *,
                      by: Any) -> Assessment:
    """Save the settings and (unless None) the blueprint. A changed blueprint of a quiz or exam that students
    have started is refused (AuthoringError); everything else is saved. A changed blueprint of a published
    assessment goes through the publication's pre-flight again (draft until it passes), so no template the new
    draws can reach is unchecked and the class's questions are prepared before anyone starts."""
    locked = Assessment.objects.select_for_update(no_key=True).get(pk=assessment.pk)
    _check(locked.course, values, exclude_pk=locked.pk)
    before = _snapshot(locked)
    for name in SETTING_FIELDS:
        if name in values:
            setattr(locked, name, values[name])
    locked.title = locked.title.strip()
    if blueprint is not None and blueprint != locked.blueprint:
        if blueprint_locked(locked):
            raise AuthoringError([f"{started(locked)} student(s) have started {locked.title}: their questions are "
                                  f"frozen, so the blueprint is locked (every student sits the same blueprint)."])
        locked.blueprint = blueprint
        republish = locked.is_published
        if republish:
            locked.state = Assessment.DRAFT
    else:
        republish = False
    locked.save()
    if republish:
        try:
            locked = publishing.start_publishing(locked, by=by)
        except AssemblyError as error:
            raise AuthoringError([f"The new blueprint cannot be drawn: {error}"]) from error
    old, new = _changes(before, _snapshot(locked))
    if new:
        audit.record(actor=by, action=audit.ASSESSMENT_EDIT, course=locked.course_id, target=locked,
                     before=old, after={"operation": "edit", **new})
    return locked


def _copy_title(course: Course, title: str) -> str:
    base = f"{title} (copy)"
    candidate, number = base[:200], 2
    while Assessment.objects.filter(course=course, title=candidate).exists():
        candidate, number = f"{base} {number}"[:200], number + 1
    return candidate


@transaction.atomic
def duplicate_assessment(assessment: Assessment, *, by: Any) -> Assessment:
    """A draft copy with the same settings and blueprint: new title, new seed salt (different questions per
    student), nothing released, no attempts."""
    copy = Assessment(course=assessment.course, blueprint=list(assessment.blueprint or []), state=Assessment.DRAFT,
                      seed_salt=new_seed_salt())
    for name in SETTING_FIELDS:
        setattr(copy, name, getattr(assessment, name))
    copy.title = _copy_title(assessment.course, assessment.title)
    copy.save()
    audit.record(actor=by, action=audit.ASSESSMENT_EDIT, course=assessment.course_id, target=copy,
                 after={"operation": "duplicate", "copied_from": assessment.pk, **_snapshot(copy)})
    return copy


@transaction.atomic
def delete_assessment(assessment: Assessment, *, by: Any) -> None:
    locked = Assessment.objects.select_for_update(no_key=True).get(pk=assessment.pk)
    if Attempt.objects.filter(assessment=locked).exists():
        raise AuthoringError([f"{locked.title} has attempts: deleting it would delete students' work. "
                              f"Hide it by closing it instead."])
    audit.record(actor=by, action=audit.ASSESSMENT_EDIT, course=locked.course_id, target=locked,
                 before={"operation": "delete", **_snapshot(locked)}, after={"operation": "delete"})
    locked.delete()


def categories_for(course: Course):
    return GradeCategory.objects.filter(course=course).order_by("position", "name")


# --- releases ---------------------------------------------------------------------------------------------
NOW, AT, HIDE, KEEP = "now", "at", "hide", "keep"


def release_assessment(assessment: Assessment, *, results: str, results_at: datetime | None = None,
                       answers: str, answers_at: datetime | None = None, by: Any,
                       now: datetime | None = None) -> Assessment:
    """Each of results/answers is "now", "at" (with the time), "hide" or "keep". Answers imply results:
    answers released at T release results at T at the latest; hiding the results hides the answers too."""
    now = now or clock.now()

    def resolve(choice: str, at: datetime | None, current: datetime | None, what: str) -> datetime | None:
        if choice == NOW:
            return now
        if choice == AT:
            if at is None:
                raise AuthoringError([f"Choose when the {what} are released."])
            return at
        if choice == HIDE:
            return None
        if choice == KEEP:
            return current
        raise AuthoringError([f"Unknown choice for the {what}: {choice!r}."])

    with transaction.atomic():
        # "keep" keeps what is stored now, under the row's lock: not what this caller's copy (loaded when the
        # form was shown) says, which another instructor's release may have changed since.
        current = Assessment.objects.select_for_update(no_key=True).get(pk=assessment.pk)
        results_when = resolve(results, results_at, current.results_released_at, "results")
        answers_when = resolve(answers, answers_at, current.answers_released_at, "answers")
        if results == HIDE:
            answers_when = None
        elif answers_when is not None and (results_when is None or answers_when < results_when):
            results_when = answers_when
        return releases.set_release(current, results_released_at=results_when, answers_released_at=answers_when,
                                    by=by)


@dataclass(frozen=True)
class ReleaseState:
    results_at: datetime | None
    answers_at: datetime | None
    results_released: bool
    answers_released: bool


def release_state(assessment: Assessment, now: datetime | None = None) -> ReleaseState:
    now = now or clock.now()
    results, answers = assessment.results_released_at, assessment.answers_released_at
    return ReleaseState(results, answers, results is not None and results <= now, answers is not None and answers <= now)
