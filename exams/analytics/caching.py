"""Cached analyses: computed once, kept in `StatisticsSnapshot`, recomputed when the grades they came from
change. A page view never waits for a large class: below `INLINE_LIMIT` answers a stale analysis is simply
recomputed (tens of milliseconds), above it the worker is asked (at most once per `DEBOUNCE`) and the page
shows the previous figures with the time they were computed. A beat task (`exams.refresh_stale_statistics`)
recomputes stale analyses that someone looked at recently, so the next view is fresh.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from exams import clock, dispatch
from exams.analytics.data import responses_signature
from exams.analytics.report import FORMAT, assessment_analysis, template_analysis
from exams.models import Assessment, Attempt, Course, Response, StatisticsSnapshot
from quizbank.models import Template

INLINE_LIMIT = 3000  # answers; a recomputation of this many takes well under a second
DEBOUNCE = timedelta(seconds=30)
KEEP_FRESH_FOR = timedelta(days=14)  # the beat task refreshes analyses viewed within this time


@dataclass(frozen=True)
class Analysis:
    data: dict[str, Any]
    computed_at: datetime | None
    compute_ms: float
    stale: bool  # grades changed since it was computed
    updating: bool  # the worker has been asked to recompute it


def assessment_scope(assessment: Assessment) -> str:
    return f"assessment:{assessment.pk}"


def template_scope(template: Template, course_ids: list[int] | None) -> str:
    courses = "all" if course_ids is None else ",".join(str(pk) for pk in sorted(course_ids)) or "none"
    return f"template:{template.pk}:{courses}"


def _parse(scope: str) -> tuple[Any, Any] | None:
    """(assessment, None) or (template, courses) for a scope; None if its objects are gone."""
    parts = scope.split(":")
    try:
        if parts[0] == "assessment":
            return Assessment.objects.get(pk=int(parts[1])), None
        if parts[0] == "template":
            template = Template.objects.get(pk=int(parts[1]))
            if parts[2] == "all":
                return template, Course.objects.all()
            ids = [int(pk) for pk in parts[2].split(",") if pk.isdigit()]
            return template, Course.objects.filter(pk__in=ids)
    except (Assessment.DoesNotExist, Template.DoesNotExist, IndexError, ValueError):
        return None
    return None


def _responses(subject: Any, courses: Any) -> Any:
    submitted = Response.objects.filter(attempt__state=Attempt.SUBMITTED)
    if isinstance(subject, Assessment):
        return submitted.filter(attempt__assessment=subject)
    return submitted.filter(slot__template=subject, attempt__assessment__course__in=courses)


def _answer_count(signature: str) -> int:
    head = signature.split("|", 1)[0]
    return int(head) if head.isdigit() else 0


def compute(scope: str, subject: Any, courses: Any, *, now: datetime | None = None,
            grade_mistakes: bool = True) -> StatisticsSnapshot:
    """Compute and store the analysis of `scope` now (the Celery task and small page views call this; a page
    view passes `grade_mistakes=False` so no runner job runs in a web request)."""
    now = now or clock.now()
    signature = responses_signature(_responses(subject, courses))
    started = time.perf_counter()
    if isinstance(subject, Assessment):
        data = assessment_analysis(subject, grade_mistakes)
    else:
        data = template_analysis(subject, courses, grade_mistakes)
    elapsed = 1000.0 * (time.perf_counter() - started)
    snapshot, _ = StatisticsSnapshot.objects.update_or_create(scope=scope, defaults={
        "assessment": subject if isinstance(subject, Assessment) else None, "signature": signature,
        "data": data, "computed_at": now, "compute_ms": elapsed, "queued_at": None})
    return snapshot


def _queue() -> str | None:
    # The bulk queue where the deployment declares one; otherwise the default queue every worker consumes.
    return "bulk" if "bulk" in getattr(settings, "CELERY_TASK_QUEUES", {}) else None


def _ask_worker(snapshot: StatisticsSnapshot, now: datetime) -> None:
    asked = (StatisticsSnapshot.objects.filter(pk=snapshot.pk)
             .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - DEBOUNCE)).update(queued_at=now))
    if asked:
        dispatch.send_on_commit(dispatch.REFRESH_STATISTICS, snapshot.scope, queue=_queue())


def _analysis(scope: str, subject: Any, courses: Any, now: datetime | None) -> Analysis:
    now = now or clock.now()
    signature = responses_signature(_responses(subject, courses))
    snapshot = StatisticsSnapshot.objects.filter(scope=scope).first()
    usable = snapshot is not None and snapshot.data.get("format") == FORMAT
    if usable and snapshot.signature == signature:
        StatisticsSnapshot.objects.filter(pk=snapshot.pk).update(viewed_at=now)
        return Analysis(snapshot.data, snapshot.computed_at, snapshot.compute_ms, False, False)
    if not usable or _answer_count(signature) <= INLINE_LIMIT:
        snapshot = compute(scope, subject, courses, now=now, grade_mistakes=False)
        StatisticsSnapshot.objects.filter(pk=snapshot.pk).update(viewed_at=now)
        if snapshot.data.get("mistakes_pending"):
            _ask_worker(snapshot, now)
        return Analysis(snapshot.data, snapshot.computed_at, snapshot.compute_ms, False, False)
    StatisticsSnapshot.objects.filter(pk=snapshot.pk).update(viewed_at=now)
    _ask_worker(snapshot, now)
    return Analysis(snapshot.data, snapshot.computed_at, snapshot.compute_ms, True, True)


def assessment_statistics(assessment: Assessment, *, now: datetime | None = None) -> Analysis:
    return _analysis(assessment_scope(assessment), assessment, None, now)


def template_statistics(template: Template, courses: Any, *, all_courses: bool = False,
                        now: datetime | None = None) -> Analysis:
    """Over `courses` only (a staff member's own courses); `all_courses` for a superuser."""
    course_ids = None if all_courses else list(courses.values_list("pk", flat=True))
    return _analysis(template_scope(template, course_ids), template, courses, now)


def refresh(scope: str, *, now: datetime | None = None) -> bool:
    """Task body: recompute `scope` if its grades changed. True if it was recomputed."""
    parsed = _parse(scope)
    if parsed is None:
        StatisticsSnapshot.objects.filter(scope=scope).delete()
        return False
    subject, courses = parsed
    snapshot = StatisticsSnapshot.objects.filter(scope=scope).first()
    signature = responses_signature(_responses(subject, courses))
    if (snapshot is not None and snapshot.signature == signature and snapshot.data.get("format") == FORMAT
            and not snapshot.data.get("mistakes_pending")):
        StatisticsSnapshot.objects.filter(pk=snapshot.pk).update(queued_at=None)
        return False
    compute(scope, subject, courses, now=now)
    return True


def refresh_stale(*, now: datetime | None = None) -> int:
    """Beat body: recompute every analysis viewed within KEEP_FRESH_FOR whose grades changed."""
    now = now or clock.now()
    scopes = StatisticsSnapshot.objects.filter(viewed_at__gte=now - KEEP_FRESH_FOR).values_list("scope", flat=True)
    return sum(refresh(scope, now=now) for scope in list(scopes))
