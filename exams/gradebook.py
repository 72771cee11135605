"""The course gradebook: per-assessment percent (best attempt, late penalty applied), excusals, drop-lowest
per category, manual items, category averages and the weighted total.

Rules where the syllabus is silent (see docs/exams-services.md, "Gradebook rules"):
- an assessment counts 0 ("missing") only once its close time (else its due time) has passed for that
  student, overrides included; before it opens it is "not_open", while open it is "open": neither counts;
- an attempt in progress, or submitted and still waiting for grading, is not counted yet;
- an excused assessment leaves the category: it is not in the mean and not in the category's total;
- a cell is *final* when it is graded, or missing after close; a manual item is final once entered;
- drop-lowest works over final cells only and drops max(0, final - (total - drop_lowest)): with nine quizzes
  and "drop 1" nothing is dropped until all nine are final, so a mid-semester average is the plain mean of
  the quizzes done so far and never jumps when one more opens or is in progress;
- drop-lowest never drops a category's last counted item (ties: the earlier one is dropped);
- the weighted total is over categories with at least one counted item, renormalised to their weights.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from exams import audit, clock
from exams.policy import Window, effective_window
from exams.models import (
    Assessment, Attempt, Course, Excusal, GradeCategory, ManualGradeEntry, ManualGradeItem, Membership,
    StudentOverride,
)

GRADED, PENDING, MISSING, EXCUSED, NOT_OPEN, IN_PROGRESS, NOT_ENTERED = (
    "graded", "pending", "missing", "excused", "not_open", "in_progress", "not_entered")
OPEN = "open"  # opened, not closed yet for this student, nothing submitted: not counted
UNRELEASED = "unreleased"  # the student's own view: submitted, results not released yet: not counted
FINAL_STATUSES = frozenset({GRADED, MISSING})


@dataclass(frozen=True)
class Column:
    key: str  # "a<assessment id>" or "m<manual item id>"
    title: str
    kind: str  # quiz | exam | manual
    category: GradeCategory | None
    position: int


@dataclass
class Cell:
    percent: float | None
    status: str
    dropped: bool = False
    late_penalty_percent: float = 0.0
    attempt_id: int | None = None
    late_minutes: float = 0.0
    raw_percent: float | None = None  # before the late penalty
    provisional_percent: float | None = None  # pending: the score so far, shown, not counted
    closes_at: datetime | None = None  # open: when it becomes missing if nothing is submitted

    @property
    def counted(self) -> bool:
        return self.percent is not None and not self.dropped

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def late_whole_minutes(self) -> int:
        """Rounded up, as the late tiers count: 20 seconds late is 1 minute late."""
        return math.ceil(self.late_minutes)


@dataclass(frozen=True)
class CategoryProgress:
    """How far a category is: `total` items (excused ones left out), `final` of them final, `dropping` now."""
    total: int
    final: int
    drop_lowest: int
    dropping: int

    @property
    def keep(self) -> int:
        return max(0, self.total - self.drop_lowest)


@dataclass
class StudentRow:
    user: Any
    student_id: str
    name: str
    email: str
    cells: dict[str, Cell] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    category_averages: dict[str, float | None] = field(default_factory=dict)
    weighted_total: float | None = None
    category_progress: dict[str, CategoryProgress] = field(default_factory=dict)


@dataclass
class Gradebook:
    course: Course
    columns: list[Column]
    categories: list[GradeCategory]
    rows: list[StudentRow]
    quiz_category: GradeCategory | None


def minutes_late(submitted_at: datetime | None, due_at: datetime | None) -> float:
    if due_at is None or submitted_at is None or submitted_at <= due_at:
        return 0.0
    return (submitted_at - due_at).total_seconds() / 60


def late_penalty_percent(policy: dict | None, submitted_at: datetime | None, due_at: datetime | None) -> float:
    """The percent taken OFF the score for lateness: the first tier whose `up_to_minutes` covers it."""
    if not policy or due_at is None or submitted_at is None or submitted_at <= due_at:
        return 0.0
    minutes_late = (submitted_at - due_at).total_seconds() / 60
    for tier in sorted(policy.get("tiers") or [], key=lambda t: float(t["up_to_minutes"])):
        if minutes_late <= float(tier["up_to_minutes"]):
            return float(tier["penalty_percent"])
    if not policy.get("tiers") and "after_last_tier_percent" not in policy:
        return 0.0
    return float(policy.get("after_last_tier_percent", 100))


def _columns(course: Course) -> tuple[list[Column], dict[str, Assessment], dict[str, ManualGradeItem]]:
    assessments = list(course.assessments.filter(state=Assessment.PUBLISHED).exclude(kind=Assessment.PRACTICE)
                       .select_related("category").order_by("position", "id"))
    items = list(course.manual_items.select_related("category").order_by("position", "id"))
    columns = [Column(f"a{a.pk}", a.title, a.kind, a.category, a.position) for a in assessments]
    columns += [Column(f"m{i.pk}", i.title, "manual", i.category, i.position) for i in items]
    return columns, {f"a{a.pk}": a for a in assessments}, {f"m{i.pk}": i for i in items}


def _attempt_cell(assessment: Assessment, attempt: Attempt, due_at: datetime | None) -> Cell:
    penalty = late_penalty_percent(assessment.late_policy, attempt.submitted_at, due_at)
    raw = (attempt.score or 0.0) * 100
    percent = round(raw * (1 - penalty / 100), 4)
    late = round(minutes_late(attempt.submitted_at, due_at), 2) if penalty else 0.0
    if attempt.pending_count:
        return Cell(None, PENDING, late_penalty_percent=penalty, attempt_id=attempt.pk, late_minutes=late,
                    raw_percent=round(raw, 4), provisional_percent=percent)
    return Cell(percent, GRADED, late_penalty_percent=penalty, attempt_id=attempt.pk, late_minutes=late,
                raw_percent=round(raw, 4))


def _assessment_cell(assessment: Assessment, attempts: list[Attempt], override: StudentOverride | None,
                     excused: bool, now: datetime, student: Any = None, *, released_only: bool = False) -> Cell:
    if excused:
        return Cell(None, EXCUSED)
    window = effective_window(assessment, student, override) if override is not None else Window(
        assessment.opens_at, assessment.closes_at, assessment.due_at, None, assessment.attempts_allowed)
    in_progress = [a for a in attempts if a.state == Attempt.IN_PROGRESS]
    if in_progress:
        # Another attempt may still beat a graded one: nothing about this assessment is final yet.
        return Cell(None, IN_PROGRESS, attempt_id=in_progress[-1].pk)
    submitted = [a for a in attempts if a.state == Attempt.SUBMITTED]
    if submitted:
        if released_only and (assessment.results_released_at is None or assessment.results_released_at > now):
            return Cell(None, UNRELEASED, attempt_id=submitted[-1].pk)
        cells = [_attempt_cell(assessment, attempt, window.due_at) for attempt in submitted]
        pending = [cell for cell in cells if cell.status == PENDING]
        if pending:
            return max(pending, key=lambda cell: cell.provisional_percent or 0.0)
        return max(cells, key=lambda cell: cell.percent or 0.0)
    if window.opens_at is not None and now < window.opens_at:
        return Cell(None, NOT_OPEN)
    ends_at = window.closes_at or window.due_at
    if ends_at is None or now < ends_at:
        return Cell(None, OPEN, closes_at=ends_at)
    return Cell(0.0, MISSING)


def _finish_row(row: StudentRow, columns: list[Column], categories: list[GradeCategory]) -> None:
    weighted_sum = Decimal(0)
    weight_sum = Decimal(0)
    for category in categories:
        in_category = [(index, column) for index, column in enumerate(columns)
                       if column.category is not None and column.category.pk == category.pk
                       and row.cells[column.key].status != EXCUSED]
        members = [(index, column) for index, column in in_category if row.cells[column.key].percent is not None]
        final = sum(1 for _, column in in_category if row.cells[column.key].is_final)
        # Drop only as many as can no longer be among the kept ones: see the module docstring.
        wanted = max(0, final - (len(in_category) - category.drop_lowest))
        drop = min(category.drop_lowest, wanted, max(0, len(members) - 1))
        row.category_progress[category.name] = CategoryProgress(len(in_category), final, category.drop_lowest, drop)
        lowest_first = sorted(members, key=lambda pair: (row.cells[pair[1].key].percent, pair[0]))
        for _, column in lowest_first[:drop]:
            row.cells[column.key].dropped = True
            row.dropped.append(column.title)
        kept = [row.cells[column.key].percent for _, column in members if not row.cells[column.key].dropped]
        average = sum(kept) / len(kept) if kept else None
        row.category_averages[category.name] = average
        if average is not None:
            weighted_sum += category.weight * Decimal(str(average))
            weight_sum += category.weight
    row.weighted_total = float(weighted_sum / weight_sum) if weight_sum else None


def _rows(course: Course, memberships: list[Membership], now: datetime, *, released_only: bool = False) -> Gradebook:
    columns, assessments, items = _columns(course)
    categories = list(course.categories.order_by("position", "name"))
    student_ids = [m.user_id for m in memberships]
    attempts: dict[tuple[int, int], list[Attempt]] = defaultdict(list)
    for attempt in (Attempt.objects.filter(assessment__in=assessments.values(), student_id__in=student_ids)
                    .only("id", "assessment_id", "student_id", "state", "score", "pending_count", "submitted_at",
                          "number").order_by("number")):
        attempts[(attempt.assessment_id, attempt.student_id)].append(attempt)
    overrides = {(o.assessment_id, o.student_id): o
                 for o in StudentOverride.objects.filter(assessment__in=assessments.values(), student_id__in=student_ids)}
    excused = set(Excusal.objects.filter(assessment__in=assessments.values(), student_id__in=student_ids)
                  .values_list("assessment_id", "student_id"))
    entries = {(e.item_id, e.student_id): e
               for e in ManualGradeEntry.objects.filter(item__in=items.values(), student_id__in=student_ids)}
    rows = []
    for membership in memberships:
        user = membership.user
        row = StudentRow(user=user, student_id=membership.student_id,
                         name=user.get_full_name() or user.username, email=user.email)
        for key, assessment in assessments.items():
            row.cells[key] = _assessment_cell(
                assessment, attempts.get((assessment.pk, user.pk), []), overrides.get((assessment.pk, user.pk)),
                (assessment.pk, user.pk) in excused, now, user, released_only=released_only)
        for key, item in items.items():
            entry = entries.get((item.pk, user.pk))
            if entry is None:
                row.cells[key] = Cell(None, NOT_ENTERED)
            else:
                percent = float(entry.points / item.max_points * 100) if item.max_points else 0.0
                row.cells[key] = Cell(round(percent, 4), GRADED)
        _finish_row(row, columns, categories)
        rows.append(row)
    quiz_category = next((c.category for c in columns if c.kind == Assessment.QUIZ and c.category is not None), None)
    return Gradebook(course, columns, categories, rows, quiz_category)


def student_memberships(course: Course):
    return (Membership.objects.filter(course=course, role=Membership.STUDENT).select_related("user")
            .order_by("student_id", "user__username"))


def gradebook(course: Course, now: datetime | None = None) -> Gradebook:
    return _rows(course, list(student_memberships(course)), now or clock.now())


def student_gradebook(course: Course, student: Any, now: datetime | None = None) -> Gradebook:
    """The student's own gradebook (one row, released results only), with the columns to show it."""
    membership = student_memberships(course).get(user=student)
    return _rows(course, [membership], now or clock.now(), released_only=True)


@dataclass(frozen=True)
class LateInfo:
    minutes: float
    penalty_percent: float
    raw_percent: float | None
    final_percent: float | None

    @property
    def whole_minutes(self) -> int:
        return math.ceil(self.minutes)


def attempt_late_info(attempt: Attempt) -> LateInfo | None:
    """How late a submitted attempt was against the student's own due time, and what it cost; None if on time."""
    if attempt.submitted_at is None:
        return None
    assessment = attempt.assessment
    due_at = effective_window(assessment, attempt.student).due_at
    penalty = late_penalty_percent(assessment.late_policy, attempt.submitted_at, due_at)
    late = minutes_late(attempt.submitted_at, due_at)
    if not late:
        return None
    raw = None if attempt.score is None else attempt.score * 100
    return LateInfo(late, penalty, raw, None if raw is None else raw * (1 - penalty / 100))


def _who(student: Any) -> dict[str, Any]:
    return {"student": student.pk, "student_name": student.get_full_name() or student.username}


@transaction.atomic
def excuse(assessment: Assessment, student: Any, *, by: Any = None, reason: str = "") -> Excusal:
    previous = Excusal.objects.select_for_update().filter(assessment=assessment, student=student).first()
    excusal, _ = Excusal.objects.update_or_create(assessment=assessment, student=student,
                                                  defaults={"reason": reason, "created_by": by})
    audit.record(actor=by, action=audit.EXCUSAL_ADD, course=assessment.course_id, target=excusal, reason=reason,
                 before={**_who(student), "excused": True, "reason": previous.reason} if previous else
                 {**_who(student), "excused": False},
                 after={**_who(student), "assessment": assessment.title, "excused": True, "reason": reason})
    return excusal


@transaction.atomic
def unexcuse(assessment: Assessment, student: Any, *, by: Any = None) -> None:
    previous = Excusal.objects.select_for_update().filter(assessment=assessment, student=student).first()
    if previous is None:
        return
    audit.record(actor=by, action=audit.EXCUSAL_REMOVE, course=assessment.course_id, target=previous,
                 before={**_who(student), "assessment": assessment.title, "excused": True, "reason": previous.reason},
                 after={**_who(student), "assessment": assessment.title, "excused": False})
    previous.delete()


@transaction.atomic
def set_manual_grade(item: ManualGradeItem, student: Any, points: Decimal | float | str, *, by: Any = None,
                     feedback: str = "") -> ManualGradeEntry:
    points = Decimal(str(points))
    if points < 0 or points > item.max_points:
        raise ValueError(f"Points must be between 0 and {item.max_points}.")
    previous = ManualGradeEntry.objects.select_for_update().filter(item=item, student=student).first()
    entry, _ = ManualGradeEntry.objects.update_or_create(
        item=item, student=student, defaults={"points": points, "feedback": feedback, "entered_by": by})
    audit.record(actor=by, action=audit.MANUAL_ENTRY, course=item.course_id, target=entry,
                 before={**_who(student), "item": item.title, "points": str(previous.points),
                         "feedback": previous.feedback} if previous else {**_who(student), "item": item.title},
                 after={**_who(student), "item": item.title, "points": str(points), "feedback": feedback})
    return entry
