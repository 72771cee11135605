"""Staff pages for what used to be admin-only: per-student overrides and excusals (on the assessment page),
manual grade entries (the team project) and roster upload (on the course page).

Instructors change these; TAs see them (the forms are not shown to them and their POSTs are 404, like every
manager action). Each view parses a form and calls ONE service: exams.policy, exams.gradebook, exams.roster.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from exams import gradebook as gradebook_service
from exams import policy, roster
from exams.forms import ExcuseForm, ManualEntryForm, OverrideForm, RosterConfirmForm, RosterUploadForm, UnexcuseForm
from exams.models import ManualGradeItem
from exams.permissions import assessment_for_manager, can_manage, course_for_manager, course_for_staff
from exams.views.staff import course_context


def _name(user) -> str:
    return user.get_full_name() or user.username


def _invalid(request: HttpRequest, form, what: str) -> None:
    problems = "; ".join(f"{form.fields[field].label or field}: {' '.join(errors)}" if field != "__all__" else
                         " ".join(errors) for field, errors in form.errors.items())
    messages.error(request, f"{what} not saved: {problems}")


@login_required
@require_POST
def set_override(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    form = OverrideForm(assessment.course, request.POST)
    if not form.is_valid():
        _invalid(request, form, "Override")
    else:
        data = form.cleaned_data
        policy.set_override(assessment, data["student"], extra_minutes=data["extra_minutes"],
                            extra_percent=data["extra_percent"], opens_at=data["opens_at"],
                            closes_at=data["closes_at"], due_at=data["due_at"],
                            attempts_allowed=data["attempts_allowed"], note=data["note"], by=request.user)
        messages.success(request, f"Override saved for {_name(data['student'])}.")
    return redirect("exams:manage_assessment", assessment_id=assessment.pk)


@login_required
@require_POST
def excuse_student(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    form = ExcuseForm(assessment.course, request.POST)
    if not form.is_valid():
        _invalid(request, form, "Excusal")
    else:
        gradebook_service.excuse(assessment, form.cleaned_data["student"], by=request.user,
                                 reason=form.cleaned_data["reason"])
        messages.success(request, f"{_name(form.cleaned_data['student'])} is excused from {assessment.title}.")
    return redirect("exams:manage_assessment", assessment_id=assessment.pk)


@login_required
@require_POST
def unexcuse_student(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_for_manager(request.user, assessment_id)
    form = UnexcuseForm(assessment.course, request.POST)
    if not form.is_valid():
        _invalid(request, form, "Change")
    else:
        gradebook_service.unexcuse(assessment, form.cleaned_data["student"], by=request.user)
        messages.success(request, f"{_name(form.cleaned_data['student'])} is no longer excused from {assessment.title}.")
    return redirect("exams:manage_assessment", assessment_id=assessment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def manual_item_page(request: HttpRequest, course_id: int, item_id: int) -> HttpResponse:
    """Every student's entry for one manual item (the team project); instructors enter points per student."""
    course = course_for_manager(request.user, course_id) if request.method == "POST" else \
        course_for_staff(request.user, course_id)
    item = get_object_or_404(ManualGradeItem, pk=item_id, course=course)
    failed: tuple[int, ManualEntryForm] | None = None
    if request.method == "POST":
        form = ManualEntryForm(course, request.POST)
        if form.is_valid():
            student = form.cleaned_data["student"]
            try:
                gradebook_service.set_manual_grade(item, student, form.cleaned_data["points"], by=request.user,
                                                   feedback=form.cleaned_data["feedback"])
            except ValueError as problem:
                form.add_error("points", str(problem))
            else:
                messages.success(request, f"{item.title}: {form.cleaned_data['points']} points for {_name(student)}.")
                return redirect("exams:manual_item", course_id=course.pk, item_id=item.pk)
        failed = (int(request.POST.get("student") or 0), form)
    entries = {entry.student_id: entry for entry in item.entries.all()}
    rows = []
    for membership in gradebook_service.student_memberships(course):
        entry = entries.get(membership.user_id)
        if failed is not None and failed[0] == membership.user_id:
            form = failed[1]
        else:
            form = ManualEntryForm(course, initial={"student": membership.user_id,
                                                    "points": entry.points if entry else None,
                                                    "feedback": entry.feedback if entry else ""})
        rows.append({"membership": membership, "entry": entry, "form": form})
    return render(request, "exams/manual_item.html", {
        "course": course, "item": item, "rows": rows, "can_manage": can_manage(request.user, course),
    }, status=400 if failed is not None else 200)


@login_required
@require_POST
def upload_roster(request: HttpRequest, course_id: int) -> HttpResponse:
    """Step 1: check every row and show the planned changes; nothing changes until the instructor confirms.
    A bad row is reported with its line number and nothing is planned."""
    course = course_for_manager(request.user, course_id)
    form = RosterUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        _invalid(request, form, "Roster")
        return redirect("exams:course", course_id=course.pk)
    data = form.cleaned_data["file"]
    try:
        plan = roster.plan_roster(course, data)
    except roster.RosterError as error:
        return render(request, "exams/course.html", {**course_context(request, course),
                                                     "roster_problems": error.problems}, status=400)
    except UnicodeDecodeError:
        messages.error(request, "Roster not imported: the file is not UTF-8 text (save it as CSV UTF-8).")
        return redirect("exams:course", course_id=course.pk)
    return _roster_preview(request, course, plan, data)


def _roster_preview(request: HttpRequest, course, plan: roster.RosterPlan, data: bytes, *, changed: bool = False,
                    status: int = 200) -> HttpResponse:
    confirm = RosterConfirmForm(initial={"roster": RosterConfirmForm.encode(data), "digest": plan.digest})
    return render(request, "exams/roster_preview.html", {
        "course": course, "plan": plan, "counts": plan.counts, "confirm_form": confirm, "changed": changed,
        "labels": roster.ACTION_LABELS,
    }, status=status)


@login_required
@require_POST
def confirm_roster(request: HttpRequest, course_id: int) -> HttpResponse:
    """Step 2: apply exactly the previewed plan; if the accounts or the roster changed since, show the new plan."""
    course = course_for_manager(request.user, course_id)
    form = RosterConfirmForm(request.POST)
    if not form.is_valid():
        _invalid(request, form, "Roster")
        return redirect("exams:course", course_id=course.pk)
    data = form.cleaned_data["roster"]
    try:
        result = roster.apply_roster(course, data, by=request.user, expected_digest=form.cleaned_data["digest"])
    except roster.RosterChanged as change:
        return _roster_preview(request, course, change.plan, data, changed=True, status=409)
    except roster.RosterError as error:
        return render(request, "exams/course.html", {**course_context(request, course),
                                                     "roster_problems": error.problems}, status=400)
    except UnicodeDecodeError:
        messages.error(request, "Roster not imported: the file is not UTF-8 text (save it as CSV UTF-8).")
        return redirect("exams:course", course_id=course.pk)
    skipped = result.plan.count(roster.SKIP) if result.plan else 0
    messages.success(request, f"Roster imported: {len(result.memberships)} students enrolled "
                              f"({result.created} new accounts, {result.updated} existing)"
                              + (f"; {skipped} row{'s' if skipped != 1 else ''} skipped (see the audit log)."
                                 if skipped else "."))
    return redirect("exams:course", course_id=course.pk)
