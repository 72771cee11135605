"""Celery tasks of the exams app. Each takes ids (never model instances), is safe to run twice, and is sent
with `transaction.on_commit` by the services so a worker never looks for a row that is not committed yet."""
from __future__ import annotations

import logging

from celery import shared_task

from quizbank.engine import RunnerUnavailable

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, name="exams.pregenerate_assessment")
def pregenerate_assessment_task(assessment_id: int) -> None:
    from exams.assembly import pregenerate_assessment

    pregenerate_assessment(assessment_id)


@shared_task(bind=True, acks_late=True, name="exams.grade_code_response", max_retries=20,
             autoretry_for=(RunnerUnavailable,), retry_backoff=5, retry_backoff_max=300, retry_jitter=True)
def grade_code_response(self, response_id: int) -> bool:
    from exams import clock
    from exams.fair_use import dispatch_waiting
    from exams.grading import STALE_CLAIM, grade_code_response as grade

    graded = grade(response_id)
    if graded:  # one of the student's jobs ended: their next queued responses may run now
        dispatch_waiting(response_id, clock.now(), STALE_CLAIM)
    return graded


@shared_task(acks_late=True, name="exams.auto_submit_expired", ignore_result=True)
def auto_submit_expired() -> int:
    from exams.attempts import expire_overdue_attempts

    return expire_overdue_attempts()


@shared_task(acks_late=True, name="exams.redispatch_stalled_grading")
def redispatch_stalled_grading() -> int:
    """Re-send code grading that is still queued after a while (a lost message, a broker restart) or whose
    worker died mid-grading; the conditional claim makes a duplicate harmless."""
    from datetime import timedelta

    from django.db.models import Q

    from exams import clock
    from exams.grading import STALE_CLAIM
    from exams.models import Response

    cutoff = clock.now() - STALE_CLAIM
    stalled = list(Response.objects.filter(
        Q(grading_state=Response.QUEUED, attempt__submitted_at__lt=cutoff - timedelta(minutes=1))
        | Q(grading_state=Response.GRADING, grading_claimed_at__lt=cutoff)).values_list("pk", flat=True)[:500])
    for response_id in stalled:
        grade_code_response.delay(response_id)
    return len(stalled)


@shared_task(acks_late=True, name="exams.regrade_template")
def regrade_template_task(template_id: int, version_id: int | None = None, course_id: int | None = None) -> int:
    from exams.grading import regrade_template
    from exams.models import Course
    from quizbank.models import Template, TemplateVersion

    template = Template.objects.get(pk=template_id)
    version = TemplateVersion.objects.get(pk=version_id) if version_id else None
    course = Course.objects.get(pk=course_id) if course_id else None
    return regrade_template(template, version, course=course).responses
