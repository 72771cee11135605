"""The audit log: one call, `record()`, that every service changing grades, accommodations, releases, rosters
or templates makes inside its own transaction, so the record and the change commit together."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models

from exams import clock
from exams.models import AuditEvent, Course

# Actions, as stored in AuditEvent.action.
GRADE_MANUAL = "grade.manual"            # a person grades an answer that waits for a person
GRADE_OVERRIDE = "grade.override"        # a person replaces an automatic grade (instructor only, with a reason)
GRADE_RETRY = "grade.retry"              # staff retry automatic grading of a response that failed
GRADE_REGRADE = "grade.regrade"          # a template regrade changed stored grades
ATTEMPT_FORCE_SUBMIT = "attempt.force_submit"
EXCUSAL_ADD = "excusal.add"
EXCUSAL_REMOVE = "excusal.remove"
OVERRIDE_SET = "override.set"            # extra time, other dates or attempts for one student
MANUAL_ENTRY = "manual_entry.set"
RELEASE = "assessment.release"
ROSTER = "roster.change"
TEMPLATE_EDIT = "template.edit"
ASSESSMENT_EDIT = "assessment.edit"      # created, edited, duplicated or deleted (after["operation"])
RUBRIC_EDIT = "rubric.edit"              # a rubric item added or its points/text changed (exams.rubrics)
GRADING_ASSIGN = "grading.assign"        # ungraded written answers split among the TAs
GROUP_APPLY = "grading.group_apply"      # rubric items applied to the ticked answers of an answer group
REGRADE_REQUEST = "regrade.request"      # a student asked for a regrade of one answer (exams.regrade_requests)
REGRADE_ANSWER = "regrade.answer"        # staff answered a regrade request (after["changed"])


def record(*, actor: Any, action: str, course: Course | int | None, target: models.Model | None = None,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, reason: str = "",
           now: datetime | None = None) -> AuditEvent:
    """Append one event. `before`/`after` hold plain JSON values (what changed, not whole rows)."""
    course_id = course.pk if isinstance(course, Course) else course
    actor_obj = actor if getattr(actor, "pk", None) is not None else None
    return AuditEvent.objects.create(
        course_id=course_id,
        actor=actor_obj,
        actor_name=getattr(actor_obj, "username", "") if actor_obj else "system",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=target.pk if target is not None else None,
        target_label=str(target)[:300] if target is not None else "",
        before=before or {},
        after=after or {},
        reason=reason,
        created_at=now or clock.now(),
    )
