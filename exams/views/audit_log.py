"""The course's audit log, for its instructors (TAs, students and other courses' staff get a 404): who changed
which grade, excusal, extra time, release or roster, when, before and after; filterable and exportable."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exams import audit_log
from exams.forms import AuditFilterForm
from exams.permissions import course_for_manager

PAGE_SIZE = 50


def _filters(request: HttpRequest, course) -> tuple[AuditFilterForm, str, int | None]:
    form = AuditFilterForm(course, audit_log.ACTION_LABELS, request.GET or None)
    if not form.is_valid():
        return form, "", None
    student = form.cleaned_data.get("student")
    return form, form.cleaned_data.get("action") or "", student.pk if student else None


@login_required
@require_GET
def audit_page(request: HttpRequest, course_id: int) -> HttpResponse:
    course = course_for_manager(request.user, course_id)
    form, action, student_id = _filters(request, course)
    page = Paginator(audit_log.course_events(course, action=action, student_id=student_id), PAGE_SIZE).get_page(
        request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "exams/audit_log.html", {
        "course": course, "form": form, "page": page, "rows": audit_log.event_rows(page.object_list),
        "query": query.urlencode(),
    })


@login_required
@require_GET
def audit_csv(request: HttpRequest, course_id: int) -> StreamingHttpResponse:
    course = course_for_manager(request.user, course_id)
    _, action, student_id = _filters(request, course)
    response = StreamingHttpResponse(audit_log.audit_csv(course, action=action, student_id=student_id),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{audit_log.audit_csv_filename(course)}"'
    response["Cache-Control"] = "no-store, private"
    return response
