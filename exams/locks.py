"""Row locks of the attempt path, in one place so that every service takes them the same way.

What PostgreSQL taught us (issue 13): `select_for_update()` locks EVERY row of every table in the query, and
Django adds tables silently: `select_related`, and a model's default ordering (Response orders by attempt,
whose ordering joins assessment and course). The first version's submit locked each slot's template version
and then the class's assessment and course rows, in slot order, which differs per student: every submit of a
class queued on the same rows and the queue deadlocked (a waiter held version X and wanted the assessment; the
holder of the assessment wanted X). So:

- lock only the table you mean (`of=("self",)`), with an explicit order (`order_by("pk")`) or none;
- FOR NO KEY UPDATE (`no_key=True`): what an UPDATE of non-key columns takes anyway. It still serialises
  two writers of one row, but does not block inserts that merely reference the row (a foreign key check takes
  KEY SHARE), e.g. a student's new attempt while their code answer is being claimed;
- never lock a row that other students share (assessment, course, template, template version) on this path.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from exams.models import Attempt, Response


def lock_attempt(attempt_id: int, *, student_id: int | None = None) -> Attempt:
    """The attempt row alone (FOR NO KEY UPDATE OF exams_attempt): one student's own row. With `student_id`,
    only if it is theirs (Attempt.DoesNotExist otherwise, and nothing is locked)."""
    owner = {} if student_id is None else {"student_id": student_id}
    return Attempt.objects.select_for_update(of=("self",), no_key=True).get(pk=attempt_id, **owner)


def locked_responses(*conditions: Q, **filters: Any) -> QuerySet[Response]:
    """Responses locked by primary key order, whatever else the caller joins for reading
    (FOR NO KEY UPDATE OF exams_response)."""
    return Response.objects.select_for_update(of=("self",), no_key=True).filter(*conditions, **filters).order_by("pk")


def lock_student(student_id: int) -> None:
    """The student's user row: serialises that student's code-grading claims (exams.fair_use)."""
    list(get_user_model().objects.select_for_update(of=("self",), no_key=True).filter(pk=student_id)
         .order_by("pk").values_list("pk", flat=True))
