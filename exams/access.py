"""Who may see what: staff see their courses; students see their own work only."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from exams.models import Assessment, Attempt, Course, Membership


def role_in(course: Course, user: Any) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(course=course, user=user).values_list("role", flat=True).first()


def is_course_staff(course: Course, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or role_in(course, user) in Membership.STAFF_ROLES


def courses_for(user: Any) -> QuerySet[Course]:
    if not getattr(user, "is_authenticated", False):
        return Course.objects.none()
    return Course.objects.filter(memberships__user=user).distinct()


def staff_courses_for(user: Any) -> QuerySet[Course]:
    if getattr(user, "is_superuser", False):
        return Course.objects.all()
    return Course.objects.filter(memberships__user=user, memberships__role__in=Membership.STAFF_ROLES).distinct()


def attempt_for_student(user: Any, attempt_id: int) -> Attempt:
    """The user's own attempt; anybody else's raises Attempt.DoesNotExist (a 404, not a 403)."""
    attempt = Attempt.objects.select_related("assessment__course").get(pk=attempt_id, student_id=getattr(user, "pk", None))
    attempt.student = user  # it is theirs: pages that name the student need not load the user again
    return attempt


def attempt_for_staff(user: Any, attempt_id: int) -> Attempt:
    attempt = Attempt.objects.select_related("assessment__course", "student").get(pk=attempt_id)
    if not is_course_staff(attempt.assessment.course, user):
        raise Attempt.DoesNotExist
    return attempt
