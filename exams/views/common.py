"""The dashboard (students and staff) and the Pygments stylesheet."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exams import clock, student_home
from exams.permissions import courses_taken_by, courses_taught_by


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    student_courses = [
        {"course": course, "assessments": student_home.assessments_for_student(course, request.user)}
        for course in courses_taken_by(request.user)
    ]
    return render(request, "exams/dashboard.html", {
        "student_courses": student_courses,
        "taught_courses": list(courses_taught_by(request.user)),
        "now": clock.now(),
    })


@require_GET
def pygments_stylesheet(request: HttpRequest) -> HttpResponse:
    from quizbank.rendering import pygments_css  # cached there: the same text as the quiz stylesheet bundle's

    response = HttpResponse(pygments_css(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
