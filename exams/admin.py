from __future__ import annotations

from django.contrib import admin, messages

from exams.assembly import AssemblyError, publish_assessment
from exams.models import (
    Assessment, Attempt, AttemptSlot, Course, Excusal, GradeCategory, ManualGradeEntry, ManualGradeItem, Membership,
    Response, StudentOverride,
)


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


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "role", "student_id"]
    list_filter = ["course", "role"]
    search_fields = ["user__username", "user__email", "student_id"]
    autocomplete_fields = ["user"]


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

    @admin.action(description="Publish (check the bank and pre-generate variants)")
    def publish(self, request, queryset):
        for assessment in queryset:
            try:
                publish_assessment(assessment, by=request.user)
                self.message_user(request, f"Published {assessment.title}; variants are being generated.")
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
    readonly_fields = ["slot", "attempt", "saved_at", "save_count", "client_seq", "graded_version"]


@admin.register(Excusal)
class ExcusalAdmin(admin.ModelAdmin):
    list_display = ["student", "assessment", "reason", "created_by"]
    autocomplete_fields = ["student"]


class ManualGradeEntryInline(admin.TabularInline):
    model = ManualGradeEntry
    extra = 0
    autocomplete_fields = ["student"]


@admin.register(ManualGradeItem)
class ManualGradeItemAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "category", "max_points"]
    inlines = [ManualGradeEntryInline]
