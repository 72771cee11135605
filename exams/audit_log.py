"""Reading the audit log: a course's events, newest first, filtered by action and by student, as rows for the
page and for the CSV export (written by exports.rows_to_csv, so no cell is a formula)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from exams import audit
from exams.exports import rows_to_csv
from exams.models import AuditEvent, Course

ACTION_LABELS = {
    audit.GRADE_MANUAL: "Grade given by hand",
    audit.GRADE_OVERRIDE: "Grade overridden",
    audit.GRADE_RETRY: "Grading retried",
    audit.GRADE_REGRADE: "Template regraded",
    audit.ATTEMPT_FORCE_SUBMIT: "Attempt submitted by staff",
    audit.EXCUSAL_ADD: "Excused",
    audit.EXCUSAL_REMOVE: "Excusal removed",
    audit.OVERRIDE_SET: "Dates or extra time set",
    audit.MANUAL_ENTRY: "Manual grade entered",
    audit.RELEASE: "Results or answers release changed",
    audit.ROSTER: "Roster imported",
    audit.TEMPLATE_EDIT: "Template edited",
    audit.ASSESSMENT_EDIT: "Assessment created, edited or deleted",
    audit.RUBRIC_EDIT: "Rubric item changed",
    audit.GRADING_ASSIGN: "Grading split among TAs",
    audit.GROUP_APPLY: "Rubric applied to an answer group",
    audit.REGRADE_REQUEST: "Regrade requested",
    audit.REGRADE_ANSWER: "Regrade request answered",
}
CSV_HEADER = ["When", "Who", "Action", "Target", "Student", "Changes", "Reason", "Before (JSON)", "After (JSON)"]


def course_events(course: Course, *, action: str = "", student_id: int | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(course=course).order_by("-created_at", "-id")
    if action:
        events = events.filter(action=action)
    if student_id is not None:
        events = events.filter(Q(after__student=student_id) | Q(before__student=student_id))
    return events


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    label: str
    student: str
    changes: list[str]


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def describe(event: AuditEvent) -> list[str]:
    """What changed, one line per field ("score: 1.0 → 0.5"); a roster import lists its accounts."""
    if event.action == audit.ROSTER:
        counts = event.after.get("counts", {})
        lines = [", ".join(f"{action}: {count}" for action, count in counts.items())]
        for account in event.after.get("accounts", []):
            detail = "; ".join(account.get("notes") or [])
            changed = ", ".join(f"{key} {account['before'].get(key, '—')} → {value}"
                                for key, value in (account.get("after") or {}).items() if key in account.get("before", {}))
            lines.append(f"line {account.get('line')} {account.get('email')}: {account.get('action')}"
                         + (f" ({changed})" if changed else "") + (f" — {detail}" if detail else ""))
        return lines
    skip = {"student", "student_name"}
    lines = []
    for key in dict.fromkeys([*event.before, *event.after]):
        if key in skip:
            continue
        old, new = event.before.get(key), event.after.get(key)
        if key not in event.before:
            lines.append(f"{key}: {_value(new)}")
        elif old != new:
            lines.append(f"{key}: {_value(old)} → {_value(new)}")
    return lines


def event_rows(events: Any) -> list[EventRow]:
    return [EventRow(event, ACTION_LABELS.get(event.action, event.action),
                     event.after.get("student_name") or event.before.get("student_name") or "", describe(event))
            for event in events]


def audit_rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    yield CSV_HEADER
    for row in event_rows(events.iterator(chunk_size=500)):
        event = row.event
        yield [timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S"), event.actor_name, row.label,
               event.target_label, row.student, "\n".join(row.changes), event.reason,
               json.dumps(event.before, ensure_ascii=False, sort_keys=True),
               json.dumps(event.after, ensure_ascii=False, sort_keys=True)]


def audit_csv(course: Course, *, action: str = "", student_id: int | None = None) -> Iterator[str]:
    return rows_to_csv(audit_rows(course_events(course, action=action, student_id=student_id)))


def audit_csv_filename(course: Course) -> str:
    return f"{slugify(course.code)}-audit-log.csv"
