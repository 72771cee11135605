"""Grading written answers by question with a rubric kept as data (issue 15).

A question's rubric in one assessment is a list of RubricItem rows, seeded from the template's rubric text
(one item per line; a leading signed number is the item's points, a line without one is worth 1 point). A
grade is the set of applied items plus an optional adjustment and a comment:

    score = clamp(sum of applied items + adjustment, 0, max points) / max points

where max points is the sum of the positive items. The score goes into Response.score through
exams.grading.grade_manually, so the permissions (exams.grade_changes) and the audit log apply to every
grade; an instructor changing an item's points regrades every response graded with that rubric, each with
the reason "rubric item changed". Ungraded answers can be split evenly among the course's TAs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from exams import audit, clock
from exams.grading import grade_manually
from exams.models import Assessment, Attempt, GradingAssignment, Membership, Response, RubricGrade, RubricItem
from exams.permissions import can_manage
from quizbank.models import Template

RUBRIC_EDIT = audit.RUBRIC_EDIT          # an item added or its points/text changed (after: regraded count)
GRADING_ASSIGN = audit.GRADING_ASSIGN    # ungraded answers split among TAs
ITEM_CHANGED_REASON = "rubric item changed"

_LEADING_POINTS = re.compile(r"^\s*([+\-]?\s*\d+(?:\.\d+)?)\s*(?:pts?|points?)?\s*[:.)\-–]?\s*(.*)$", re.ASCII)


@dataclass(frozen=True)
class Progress:
    graded: int
    left: int

    @property
    def total(self) -> int:
        return self.graded + self.left


def parse_rubric(rubric: str | list[Any]) -> list[tuple[float, str]]:
    """The items of a template's rubric. The structured form is a list of {"points": 2, "text": "..."}; the
    text form has one item per line: "+2 names the vanishing gradient" -> (2.0, "names the vanishing
    gradient"), a line without a leading number is a 1-point item, blank lines are skipped."""
    if isinstance(rubric, list):
        return [(float(item["points"]), str(item["text"]).strip()[:500]) for item in rubric
                if isinstance(item, dict) and str(item.get("text", "")).strip()]
    items: list[tuple[float, str]] = []
    for raw_line in (rubric or "").splitlines():
        line = raw_line.strip().lstrip("*•").strip()
        if not line:
            continue
        match = _LEADING_POINTS.match(line.replace("−", "-"))
        if match and match.group(2).strip():
            items.append((float(match.group(1).replace(" ", "")), match.group(2).strip()[:500]))
        else:
            items.append((1.0, line[:500]))
    return items


def rubric_text(rubric: str | list[Any]) -> str:
    """A rubric as graders read it: one "+points text" line per item."""
    if isinstance(rubric, list):
        return "\n".join(f"{points:+g} {text}" for points, text in parse_rubric(rubric))
    return str(rubric or "")


def _template_rubric(template: Template) -> str | list[Any]:
    version = template.current_version
    spec = (version.spec if version is not None else {}) or {}
    rubric = (spec.get("answer") or {}).get("rubric", "")
    return rubric if isinstance(rubric, list) else str(rubric)


def question_templates(assessment: Assessment) -> QuerySet[Template]:
    """The manually graded templates that appear in the assessment's submitted attempts."""
    template_ids = (Response.objects.filter(attempt__assessment=assessment, attempt__state=Attempt.SUBMITTED)
                    .filter(Q(grading_state=Response.MANUAL) | Q(graded_by__isnull=False))
                    .values_list("slot__template_id", flat=True))
    return Template.objects.filter(pk__in=template_ids).order_by("slug")


def items_for(assessment: Assessment, template: Template) -> list[RubricItem]:
    """The question's rubric items in this assessment, seeded from the template's rubric text the first time."""
    items = list(RubricItem.objects.filter(assessment=assessment, template=template))
    if items:
        return items
    parsed = parse_rubric(_template_rubric(template)) or [(1.0, "Correct")]
    with transaction.atomic():
        Assessment.objects.select_for_update().filter(pk=assessment.pk).first()  # two first visits seed once
        if not RubricItem.objects.filter(assessment=assessment, template=template).exists():
            RubricItem.objects.bulk_create([
                RubricItem(assessment=assessment, template=template, position=i, points=points, text=text)
                for i, (points, text) in enumerate(parsed, start=1)])
    return list(RubricItem.objects.filter(assessment=assessment, template=template))


def max_points(items: Iterable[RubricItem]) -> float:
    return sum(item.points for item in items if item.points > 0)


def rubric_score(applied: Iterable[RubricItem], adjustment: float, maximum: float) -> float:
    """The fraction of the question a rubric grade is worth, in [0, 1]."""
    if maximum <= 0:
        raise ValueError("This rubric has no item worth points: add one before grading.")
    total = sum(item.points for item in applied) + float(adjustment)
    return min(max(total, 0.0), maximum) / maximum


def question_responses(assessment: Assessment, template: Template) -> QuerySet[Response]:
    """Every submitted answer to `template` in `assessment` that a person grades."""
    return (Response.objects
            .filter(attempt__assessment=assessment, attempt__state=Attempt.SUBMITTED, slot__template=template)
            .filter(Q(grading_state=Response.MANUAL) | Q(graded_by__isnull=False))
            .select_related("attempt__student", "slot__template_version", "graded_by",
                            "grading_assignment__grader", "rubric_grade")
            .prefetch_related("rubric_grade__items")
            .order_by("attempt__student__username", "attempt__number", "pk"))


def progress(responses: QuerySet[Response]) -> Progress:
    counts = responses.aggregate(left=Count("pk", filter=Q(grading_state=Response.MANUAL)), total=Count("pk"))
    return Progress(graded=counts["total"] - counts["left"], left=counts["left"])


SCORE_FILTERS = {"zero": Q(score=0), "partial": Q(score__gt=0, score__lt=1), "full": Q(score=1)}


def filtered(responses: QuerySet[Response], *, mine_of: Any = None, state: str = "", grader_id: int | None = None,
             score: str = "") -> QuerySet[Response]:
    """The list's filters: answers assigned to one grader, ungraded or graded, graded by one person, by score."""
    if mine_of is not None:
        responses = responses.filter(grading_assignment__grader=mine_of)
    if state == "ungraded":
        responses = responses.filter(grading_state=Response.MANUAL)
    elif state == "graded":
        responses = responses.exclude(grading_state=Response.MANUAL)
    if grader_id is not None:
        responses = responses.filter(graded_by_id=grader_id)
    if score in SCORE_FILTERS:
        responses = responses.exclude(grading_state=Response.MANUAL).filter(SCORE_FILTERS[score])
    return responses


def apply_rubric(response: Response, grader: Any, item_ids: Iterable[int], adjustment: float = 0.0,
                 comment: str = "", *, reason: str = "", now: datetime | None = None) -> Response:
    """Grade `response` with the rubric items `item_ids` (of its question in its assessment), an adjustment in
    points and a comment the student sees. Permissions and the audit log are grade_manually's."""
    assessment = response.attempt.assessment
    template = response.slot.template
    items = items_for(assessment, template)
    by_id = {item.pk: item for item in items}
    wanted = {int(item_id) for item_id in item_ids}
    if not wanted <= by_id.keys():
        raise ValueError("An applied rubric item is not part of this question's rubric.")
    applied = [by_id[item_id] for item_id in sorted(wanted)]
    score = rubric_score(applied, adjustment, max_points(items))
    now = now or clock.now()
    with transaction.atomic():
        graded = grade_manually(response, grader, score, comment, reason=reason, now=now)
        rubric_grade, _ = RubricGrade.objects.update_or_create(
            response=response, defaults={"adjustment": float(adjustment), "comment": comment, "updated_at": now})
        rubric_grade.items.set(applied)
    return graded


def _require_instructor(assessment: Assessment, user: Any) -> None:
    if not can_manage(user, assessment.course):
        raise PermissionDenied("Only an instructor changes a rubric's items.")


def _regrade_all(assessment: Assessment, template: Template, by: Any, now: datetime) -> int:
    """Re-score every rubric grade of the question after its items changed; returns how many scores moved."""
    items = items_for(assessment, template)
    maximum = max_points(items)
    changed = 0
    grades = (RubricGrade.objects.filter(response__attempt__assessment=assessment, response__slot__template=template)
              .select_related("response__attempt__assessment__course", "response__slot__template")
              .prefetch_related("items"))
    for rubric_grade in grades:
        response = rubric_grade.response
        score = rubric_score(rubric_grade.items.all(), rubric_grade.adjustment, maximum)
        if response.score is not None and abs(response.score - score) < 1e-12:
            continue
        grade_manually(response, by, score, response.feedback, reason=ITEM_CHANGED_REASON, now=now)
        changed += 1
    return changed


def change_item(item: RubricItem, by: Any, *, points: float, text: str | None = None,
                now: datetime | None = None) -> int:
    """An instructor changes an item's points (and text); every response graded with the rubric is regraded.
    Returns how many grades changed. Recorded in the audit log."""
    assessment = item.assessment
    _require_instructor(assessment, by)
    now = now or clock.now()
    with transaction.atomic():
        before = {"points": item.points, "text": item.text}
        item.points = float(points)
        if text is not None and text.strip():
            item.text = text.strip()[:500]
        if max_points(RubricItem.objects.filter(assessment=assessment, template=item.template)
                      .exclude(pk=item.pk)) + max(item.points, 0) <= 0:
            raise ValueError("A rubric needs at least one item worth points.")
        item.save(update_fields=["points", "text"])
        changed = _regrade_all(assessment, item.template, by, now)
        audit.record(actor=by, action=RUBRIC_EDIT, course=assessment.course, target=item, before=before,
                     after={"points": item.points, "text": item.text, "template": item.template.slug,
                            "regraded": changed}, reason=ITEM_CHANGED_REASON, now=now)
    return changed


def add_item(assessment: Assessment, template: Template, by: Any, *, points: float, text: str,
             now: datetime | None = None) -> RubricItem:
    """An instructor adds an item; a positive one raises the maximum, so graded responses are re-scored."""
    _require_instructor(assessment, by)
    if not text.strip():
        raise ValueError("Describe the rubric item.")
    now = now or clock.now()
    with transaction.atomic():
        existing = items_for(assessment, template)
        item = RubricItem.objects.create(assessment=assessment, template=template, points=float(points),
                                         text=text.strip()[:500],
                                         position=max((i.position for i in existing), default=0) + 1)
        changed = _regrade_all(assessment, template, by, now)
        audit.record(actor=by, action=RUBRIC_EDIT, course=assessment.course, target=item, before={},
                     after={"points": item.points, "text": item.text, "template": template.slug,
                            "regraded": changed, "operation": "add"}, reason="rubric item added", now=now)
    return item


def split_ungraded(assessment: Assessment, template: Template, by: Any) -> dict[str, int]:
    """Give the question's ungraded, unassigned answers to the course's TAs, evenly: each answer goes to the TA
    with the fewest ungraded answers of this question so far. Returns {username: ungraded answers now theirs}."""
    _require_instructor(assessment, by)
    tas = list(assessment.course.memberships.filter(role=Membership.TA).select_related("user")
               .order_by("user__username"))
    if not tas:
        raise ValueError("This course has no TAs to share the grading with.")
    ungraded = question_responses(assessment, template).filter(grading_state=Response.MANUAL)
    with transaction.atomic():
        load = {membership.user.pk: 0 for membership in tas}
        GradingAssignment.objects.filter(response__in=ungraded).exclude(grader_id__in=load).delete()  # ex-TAs
        for grader_id in (GradingAssignment.objects.filter(response__in=ungraded)
                          .values_list("grader_id", flat=True)):
            load[grader_id] += 1
        fresh = list(ungraded.filter(grading_assignment__isnull=True).values_list("pk", flat=True))
        order = [membership.user.pk for membership in tas]
        new_rows = []
        for response_id in fresh:
            grader_id = min(order, key=lambda pk: (load[pk], order.index(pk)))
            load[grader_id] += 1
            new_rows.append(GradingAssignment(response_id=response_id, grader_id=grader_id))
        GradingAssignment.objects.bulk_create(new_rows)
        shares = {membership.user.username: load[membership.user.pk] for membership in tas}
        audit.record(actor=by, action=GRADING_ASSIGN, course=assessment.course, target=assessment,
                     after={"template": template.slug, "assigned": len(new_rows), "shares": shares})
    return shares
