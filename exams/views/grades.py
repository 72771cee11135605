"""Grades pages outside the gradebook table: a student's own grades, one attempt as staff see it, and the
gradebook in the import layouts of an LMS. Lookups go through exams.permissions (outside the course: 404)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from exams import attempt_record, lms_exports
from exams import gradebook as gradebook_service
from exams.models import Membership
from exams.permissions import attempt_for_staff, can_manage, course_for_staff, courses_taken_by
from exams.views.presentation import question_context, student_grades_table


@never_cache
@login_required
@require_GET
def my_grades(request: HttpRequest, course_id: int) -> HttpResponse:
    course = courses_taken_by(request.user).filter(pk=course_id).first()
    if course is None:
        raise Http404("No such course")
    book = gradebook_service.student_gradebook(course, request.user)
    return render(request, "exams/my_grades.html", {"course": course, "grades": student_grades_table(book)})


@login_required
@require_GET
def staff_attempt(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_staff(request.user, attempt_id)
    record = attempt_record.staff_attempt_record(attempt)
    membership = Membership.objects.filter(course=attempt.assessment.course, user=attempt.student).first()
    items = []
    for item in record.review.items:
        context = question_context(item.public, item=item)
        context["response"] = record.responses.get(item.slot_id)
        items.append(context)
    response = render(request, "exams/staff_attempt.html", {
        "attempt": attempt,
        "assessment": attempt.assessment,
        "course": attempt.assessment.course,
        "student": attempt.student,
        "student_id": membership.student_id if membership else "",
        "record": record,
        "items": items,
        "may_override": can_manage(request.user, attempt.assessment.course),
    })
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
@require_GET
def lms_export(request: HttpRequest, course_id: int, layout: str) -> StreamingHttpResponse:
    course = course_for_staff(request.user, course_id)
    if layout not in lms_exports.LAYOUTS:
        raise Http404("No such layout")
    response = StreamingHttpResponse(lms_exports.lms_export(course, layout),
                                     content_type=lms_exports.lms_export_content_type(layout))
    response["Content-Disposition"] = f'attachment; filename="{lms_exports.lms_export_filename(course, layout)}"'
    response["Cache-Control"] = "no-store, private"
    return response
