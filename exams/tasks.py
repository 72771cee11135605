"""Celery tasks of the exams app. Each takes ids (never model instances), is safe to run twice, and is sent
with `transaction.on_commit` by the services so a worker never looks for a row that is not committed yet."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db.models import Q

from quizbank.engine import RunnerUnavailable

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, name="exams.pregenerate_assessment")
def pregenerate_assessment_task(assessment_id: int) -> None:
    """Routed to the `bulk` queue (settings): a publication's pre-flight and the class's variants."""
    from exams.publishing import pregenerate_or_publish

    pregenerate_or_publish(assessment_id)


@shared_task(bind=True, acks_late=True, name="exams.grade_code_response", max_retries=20,
             autoretry_for=(RunnerUnavailable,), retry_backoff=5, retry_backoff_max=300, retry_jitter=True)
def grade_code_response(self, response_id: int) -> bool:
    from exams import clock
    from exams.fair_use import dispatch_waiting
    from exams.grading import grade_code_response as grade, stale_claim

    graded = grade(response_id)
    if graded:  # one of the student's jobs ended: their next queued responses may run now
        # Which worker stored the grade: operators (and the two-worker test) read it from the worker's log.
        logger.info("code response %s graded by %s", response_id, self.request.hostname or "this process")
        dispatch_waiting(response_id, clock.now(), stale_claim())
    return graded


@shared_task(acks_late=True, name="exams.grade_unprepared_responses", ignore_result=True, max_retries=20,
             autoretry_for=(RunnerUnavailable,), retry_backoff=5, retry_backoff_max=300, retry_jitter=True)
def grade_unprepared_responses(attempt_id: int) -> int:
    """Routed to the `grading` queue (settings): a submit found variants missing and, on the production
    profile, left them to a worker (exams.grading.grade_unprepared_responses)."""
    from exams.grading import grade_unprepared_responses as grade

    return grade(attempt_id)


@shared_task(acks_late=True, name="exams.auto_submit_expired", ignore_result=True)
def auto_submit_expired() -> int:
    from exams.attempts import expire_overdue_attempts

    return expire_overdue_attempts()


@shared_task(acks_late=True, name="exams.redispatch_stalled_grading")
def redispatch_stalled_grading() -> int:
    """Re-send code grading that is still queued after a while (a lost message, the broker down at submit,
    a worker killed with its prefetched messages unacknowledged) or whose worker died mid-grading (its claim
    is older than GRADING_STALE_CLAIM_SECONDS); the conditional claim makes a duplicate harmless.
    Returns how many were sent."""
    from exams import clock
    from exams.dispatch import send_code_grading
    from exams.grading import stale_claim
    from exams.models import Response

    now = clock.now()
    cutoff = now - stale_claim()
    # On a QUEUED response grading_claimed_at marks the last re-send: a backlog longer than the stale time is
    # re-sent once per stale time, not on every sweep (each duplicate would cost a worker a claim).
    waiting = Q(grading_state=Response.QUEUED, attempt__submitted_at__lt=cutoff) & (
        Q(grading_claimed_at__isnull=True) | Q(grading_claimed_at__lt=cutoff))
    stalled = list(Response.objects.filter(waiting | Q(grading_state=Response.GRADING, grading_claimed_at__lt=cutoff))
                   .order_by("pk").values_list("pk", flat=True)[:500])
    Response.objects.filter(pk__in=stalled, grading_state=Response.QUEUED).update(grading_claimed_at=now)
    sent = sum(send_code_grading(response_id) for response_id in stalled)
    return sent + _redispatch_unprepared(cutoff)


def _redispatch_unprepared(cutoff) -> int:
    """Attempts with answers still waiting for a variant whose worker was last asked before `cutoff` (the
    message was lost, or the broker was down at submit): sent again, once per stale time (a runner down for an
    hour, the task retrying, must not have the sweep pile up messages); the task takes only what still waits,
    so a duplicate is harmless."""
    from exams import clock
    from exams.dispatch import GRADE_UNPREPARED_RESPONSES, send_or_log
    from exams.grading import WAITING_FOR_VARIANT
    from exams.models import Response

    # grading_claimed_at: when a worker was last asked (the submit, a re-send, each run of the task itself).
    waiting = Response.objects.filter(WAITING_FOR_VARIANT).filter(
        Q(grading_claimed_at__isnull=True) | Q(grading_claimed_at__lt=cutoff))
    attempt_ids = list(waiting.order_by().values_list("attempt_id", flat=True).distinct()[:500])
    Response.objects.filter(pk__in=waiting.filter(attempt_id__in=attempt_ids).values("pk")).update(
        grading_claimed_at=clock.now())
    return sum(send_or_log(GRADE_UNPREPARED_RESPONSES, attempt_id) for attempt_id in attempt_ids)


@shared_task(acks_late=True, name="exams.regrade_template")
def regrade_template_task(template_id: int, version_id: int | None = None, course_id: int | None = None) -> int:
    from exams.grading import regrade_template
    from exams.models import Course
    from quizbank.models import Template, TemplateVersion

    template = Template.objects.get(pk=template_id)
    version = TemplateVersion.objects.get(pk=version_id) if version_id else None
    course = Course.objects.get(pk=course_id) if course_id else None
    return regrade_template(template, version, course=course).responses


@shared_task(acks_late=True, name="exams.group_answers", ignore_result=True)
def group_answers_task(grouping_id: int) -> bool:
    """Routed to the `bulk` queue (settings): suggested answer groups for one question (exams.answer_groups).
    The run is claimed with a conditional UPDATE, so a duplicate message (acks_late) does nothing."""
    from exams.answer_groups import run_grouping

    return run_grouping(grouping_id)


@shared_task(acks_late=True, name="exams.prepare_attempt_variants", ignore_result=True)
def prepare_attempt_variants(attempt_id: int) -> int:
    """Routed to the `grading` queue (settings): a student's quiz page is waiting for these variants."""
    from exams.assembly import prepare_attempt_variants as prepare

    return prepare(attempt_id)
