"""Releasing results and correct answers to students, recorded in the audit log."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from exams import audit
from exams.models import Assessment, AuditEvent

RELEASE_FIELDS = ("results_released_at", "answers_released_at")


def release_values(assessment: Assessment) -> dict[str, str | None]:
    return {name: value.isoformat() if value else None
            for name in RELEASE_FIELDS for value in [getattr(assessment, name)]}


def record_release_change(assessment: Assessment, before: dict[str, str | None], *, by: Any) -> AuditEvent | None:
    """Call inside the transaction that saved `assessment`, with release_values() from before the change."""
    after = release_values(assessment)
    if after == before:
        return None
    return audit.record(actor=by, action=audit.RELEASE, course=assessment.course_id, target=assessment,
                        before=before, after=after)


@transaction.atomic
def set_release(assessment: Assessment, *, results_released_at: datetime | None,
                answers_released_at: datetime | None, by: Any) -> Assessment:
    locked = Assessment.objects.select_for_update(no_key=True).get(pk=assessment.pk)
    before = release_values(locked)
    locked.results_released_at, locked.answers_released_at = results_released_at, answers_released_at
    locked.save(update_fields=list(RELEASE_FIELDS))
    record_release_change(locked, before, by=by)
    return locked
