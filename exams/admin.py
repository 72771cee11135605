from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from exams import audit
from exams.assembly import AssemblyError
from exams.publishing import start_publishing
from exams.releases import RELEASE_FIELDS, record_release_change, release_values
from exams.models import (
    Assessment, Attempt, AttemptSlot, Course, Excusal, GradeCategory, ManualGradeEntry, ManualGradeItem, Membership,
    Response, StudentOverride,
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _snapshot(obj: Any) -> dict[str, Any]:
    values = {field.attname: _jsonable(getattr(obj, field.attname)) for field in obj._meta.concrete_fields}
    student = getattr(obj, "student_id", None) or getattr(obj, "user_id", None)
    if student is not None:
        values["student"] = student
    return values


def _course_of(obj: Any) -> int | None:
    for path in ("course_id", "assessment.course_id", "item.course_id"):
        target = obj
        for part in path.split("."):
            target = getattr(target, part, None)
        if target is not None:
            return target
    return None


def _audited_save(request: HttpRequest, obj: Any, action: str) -> None:
    """Save one admin-edited row and record it (the admin's changeform is one transaction)."""
    previous = type(obj).objects.filter(pk=obj.pk).first() if obj.pk else None
    before = _snapshot(previous) if previous else {}
    obj.save()
    audit.record(actor=request.user, action=action, course=_course_of(obj), target=obj, before=before,
                 after=_snapshot(obj), reason="changed in the admin")


def _audited_delete(request: HttpRequest, obj: Any, action: str) -> None:
    before = _snapshot(obj)
    after = {"deleted": True, **({"student": before["student"]} if "student" in before else {})}
    audit.record(actor=request.user, action=action, course=_course_of(obj), target=obj, before=before, after=after,
                 reason="deleted in the admin")
    obj.delete()


def _audited_formset(request: HttpRequest, formset: Any, action: str) -> None:
    instances = formset.save(commit=False)
    for obj in formset.deleted_objects:
        _audited_delete(request, obj, action)
    for obj in instances:
        _audited_save(request, obj, action)
    formset.save_m2m()


def _save_audited_overrides(request: HttpRequest, formset: Any) -> None:
    _audited_formset(request, formset, audit.OVERRIDE_SET)


class AuditedAdmin(admin.ModelAdmin):
    """Every save and delete through this admin goes to the audit log as `audit_save_action` /
    `audit_delete_action`."""

    audit_save_action = ""
    audit_delete_action = ""

    def save_model(self, request, obj, form, change):
        _audited_save(request, obj, self.audit_save_action)

    def delete_model(self, request, obj):
        _audited_delete(request, obj, self.audit_delete_action)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            _audited_delete(request, obj, self.audit_delete_action)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class GradeCategoryInline(admin.TabularInline):
    model = GradeCategory
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title"]
    search_fields = ["code", "title"]
    inlines = [GradeCategoryInline, MembershipInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            _audited_formset(request, formset, audit.ROSTER)
        else:
            super().save_formset(request, form, formset, change)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "course", "role", "student_id"]
    list_filter = ["course", "role"]
    search_fields = ["user__username", "user__email", "student_id"]
    autocomplete_fields = ["user"]
    audit_save_action = audit_delete_action = audit.ROSTER


class StudentOverrideInline(admin.TabularInline):
    model = StudentOverride
    extra = 0
    autocomplete_fields = ["student"]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "kind", "state", "opens_at", "closes_at", "time_limit_minutes", "pregen_state",
                    "pregen_done", "pregen_total"]
    list_filter = ["course", "kind", "state"]
    search_fields = ["title"]
    readonly_fields = ["published_at", "pregen_state", "pregen_done", "pregen_total", "pregen_message",
                       "pregen_updated_at"]
    inlines = [StudentOverrideInline]
    actions = ["publish"]

    def save_model(self, request, obj, form, change):
        # The admin's changeform runs in a transaction: the audit event commits with the change.
        previous = Assessment.objects.filter(pk=obj.pk).first() if obj.pk else None
        before = release_values(previous) if previous else {name: None for name in RELEASE_FIELDS}
        super().save_model(request, obj, form, change)
        record_release_change(obj, before, by=request.user)

    def save_formset(self, request, form, formset, change):
        _save_audited_overrides(request, formset)

    @admin.action(description="Publish (pre-flight check of the templates, pre-generate variants)")
    def publish(self, request, queryset):
        for assessment in queryset:
            try:
                start_publishing(assessment, by=request.user)
                self.message_user(request, f"Publishing {assessment.title}: its templates are checked and the class's "
                                           "variants generated; it is published when that passes.")
            except AssemblyError as error:
                self.message_user(request, f"{assessment.title} not published: {error}", level=messages.ERROR)


class AttemptSlotInline(admin.TabularInline):
    model = AttemptSlot
    extra = 0
    can_delete = False
    readonly_fields = ["position", "template", "template_version", "seed", "qtype"]


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["assessment", "student", "number", "state", "started_at", "deadline", "submitted_at", "score",
                    "pending_count"]
    list_filter = ["assessment__course", "assessment", "state"]
    search_fields = ["student__username", "student__email"]
    readonly_fields = ["seed", "started_at", "submitted_at", "submitted_by", "score", "pending_count"]
    inlines = [AttemptSlotInline]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["slot", "grading_state", "score", "valid", "graded_at", "graded_by"]
    list_filter = ["grading_state", "attempt__assessment"]
    # Grades change on the grading page only, where overrides need an instructor and a reason and are audited.
    readonly_fields = ["slot", "attempt", "saved_at", "save_count", "client_seq", "graded_version", "grading_state",
                       "score", "valid", "feedback", "feedback_data", "graded_at", "graded_by", "grading_error"]


@admin.register(Excusal)
class ExcusalAdmin(AuditedAdmin):
    list_display = ["student", "assessment", "reason", "created_by"]
    autocomplete_fields = ["student"]
    audit_save_action, audit_delete_action = audit.EXCUSAL_ADD, audit.EXCUSAL_REMOVE


class ManualGradeEntryInline(admin.TabularInline):
    model = ManualGradeEntry
    extra = 0
    autocomplete_fields = ["student"]


@admin.register(ManualGradeItem)
class ManualGradeItemAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "category", "max_points"]
    inlines = [ManualGradeEntryInline]

    def save_formset(self, request, form, formset, change):
        _audited_formset(request, formset, audit.MANUAL_ENTRY)
