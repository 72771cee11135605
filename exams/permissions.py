"""Who may see what. Every view fetches its objects through these functions, so a missing right is a 404
(we do not confirm that another student's attempt exists) and a role check never lives in a template.

- Students see published assessments of courses they are enrolled in, and their own attempts only.
- Instructors and TAs see their own courses only; both grade and read the gradebook.
- Publishing, regrading and overrides are for instructors (and superusers), not TAs.
"""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from exams import access
from exams.models import Assessment, Attempt, Course, Membership, Response

User = AbstractBaseUser | AnonymousUser


def is_superuser(user: User) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active)


def can_teach(user: User, course: Course) -> bool:
    return access.is_course_staff(course, user)


def can_manage(user: User, course: Course) -> bool:
    """Publish, regrade, change settings: instructors (and superusers) only, not TAs."""
    return is_superuser(user) or access.role_in(course, user) == Membership.INSTRUCTOR


def courses_taught_by(user: User) -> QuerySet[Course]:
    if not user.is_authenticated:
        return Course.objects.none()
    return access.staff_courses_for(user)


def courses_taken_by(user: User) -> QuerySet[Course]:
    if not user.is_authenticated:
        return Course.objects.none()
    return Course.objects.filter(memberships__user=user, memberships__role=Membership.STUDENT).distinct()


# --- staff -----------------------------------------------------------------------------------------------
def course_for_staff(user: User, course_id: int) -> Course:
    course = courses_taught_by(user).filter(pk=course_id).first()
    if course is None:
        raise Http404("No such course")
    return course


def course_for_manager(user: User, course_id: int) -> Course:
    course = course_for_staff(user, course_id)
    if not can_manage(user, course):
        raise Http404("No such course")
    return course


def assessment_for_staff(user: User, assessment_id: int) -> Assessment:
    assessment = Assessment.objects.select_related("course").filter(
        pk=assessment_id, course__in=courses_taught_by(user)).first()
    if assessment is None:
        raise Http404("No such assessment")
    return assessment


def assessment_for_manager(user: User, assessment_id: int) -> Assessment:
    assessment = assessment_for_staff(user, assessment_id)
    if not can_manage(user, assessment.course):
        raise Http404("No such assessment")
    return assessment


def response_for_staff(user: User, response_id: int) -> Response:
    response = Response.objects.select_related(
        "attempt__assessment__course", "attempt__student", "slot__template", "slot__template_version",
    ).filter(pk=response_id, attempt__assessment__course__in=courses_taught_by(user)).first()
    if response is None:
        raise Http404("No such response")
    return response


def attempt_for_staff(user: User, attempt_id: int) -> Attempt:
    attempt = Attempt.objects.select_related("assessment__course", "student").filter(
        pk=attempt_id, assessment__course__in=courses_taught_by(user)).first()
    if attempt is None:
        raise Http404("No such attempt")
    return attempt


# --- students --------------------------------------------------------------------------------------------
def assessment_for_student(user: User, assessment_id: int) -> Assessment:
    """A published assessment of a course the user is a student of (one membership per course and user: a plain
    join, cheaper to build on every start request than the courses_taken_by subquery)."""
    if not user.is_authenticated:
        raise Http404("No such assessment")
    assessment = Assessment.objects.select_related("course").filter(
        pk=assessment_id, state=Assessment.PUBLISHED, course__memberships__user=user,
        course__memberships__role=Membership.STUDENT).first()
    if assessment is None:
        raise Http404("No such assessment")
    return assessment


def attempt_for_student(user: User, attempt_id: int) -> Attempt:
    """The student's own attempt, or 404: another student's attempt is indistinguishable from none."""
    try:
        return access.attempt_for_student(user, attempt_id)
    except Attempt.DoesNotExist:
        raise Http404("No such attempt") from None
