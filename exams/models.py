"""Courses, people, assessments, attempts and grades.

Scores are stored as fractions in [0, 1] (a slot's score, an attempt's score); percentages appear only in the
gradebook and exports. Every time is an aware datetime; services take `now` from `exams.clock`.
"""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

# The syllabus's deadline policy: up to 30 min late -10%, up to one day -25%, later zero.
SYLLABUS_LATE_POLICY: dict = {
    "tiers": [
        {"up_to_minutes": 30, "penalty_percent": 10},
        {"up_to_minutes": 24 * 60, "penalty_percent": 25},
    ],
    "after_last_tier_percent": 100,
}


def default_late_policy() -> dict:
    return {"tiers": [dict(tier) for tier in SYLLABUS_LATE_POLICY["tiers"]],
            "after_last_tier_percent": SYLLABUS_LATE_POLICY["after_last_tier_percent"]}


def new_seed_salt() -> str:
    return secrets.token_hex(16)


class Course(models.Model):
    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Membership(models.Model):
    INSTRUCTOR, TA, STUDENT = "instructor", "ta", "student"
    ROLE_CHOICES = [(INSTRUCTOR, "Instructor"), (TA, "Teaching assistant"), (STUDENT, "Student")]
    STAFF_ROLES = (INSTRUCTOR, TA)

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_memberships")
    role = models.CharField(max_length=12, choices=ROLE_CHOICES, default=STUDENT)
    student_id = models.CharField(max_length=40, blank=True, help_text="The university's id (students only).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "role", "student_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="unique_course_member"),
            models.UniqueConstraint(fields=["course", "student_id"], condition=~Q(student_id=""),
                                    name="unique_course_student_id"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.course}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in self.STAFF_ROLES


class GradeCategory(models.Model):
    """A weighted part of the final grade (e.g. Quizzes 25%, drop the lowest 1)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=100)
    weight = models.DecimalField(max_digits=6, decimal_places=2, help_text="Percent of the final grade.")
    drop_lowest = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "position", "name"]
        verbose_name_plural = "grade categories"
        constraints = [models.UniqueConstraint(fields=["course", "name"], name="unique_category_name")]

    def __str__(self) -> str:
        return f"{self.course}: {self.name} ({self.weight}%)"


class Assessment(models.Model):
    QUIZ, EXAM, PRACTICE = "quiz", "exam", "practice"
    KIND_CHOICES = [(QUIZ, "Quiz"), (EXAM, "Exam"), (PRACTICE, "Practice")]
    DRAFT, PUBLISHED = "draft", "published"
    STATE_CHOICES = [(DRAFT, "Draft"), (PUBLISHED, "Published")]
    PREGEN_IDLE, PREGEN_QUEUED, PREGEN_RUNNING, PREGEN_DONE, PREGEN_FAILED = "idle", "queued", "running", "done", "failed"
    PREGEN_CHOICES = [(s, s) for s in (PREGEN_IDLE, PREGEN_QUEUED, PREGEN_RUNNING, PREGEN_DONE, PREGEN_FAILED)]

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assessments")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default=QUIZ)
    category = models.ForeignKey(GradeCategory, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assessments")
    instructions = models.TextField(blank=True, help_text="Markdown shown on the start page.")
    blueprint = models.JSONField(
        default=list, blank=True,
        help_text='List of draws: {"qtype": "mcq", "count": 4, "lectures": [1, 3] (a range) or [[1, 2, 5]] '
                  '(a list), "tags": [...]} or {"templates": ["slug", ...]} for fixed questions.')
    time_limit_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no time limit.")
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True, help_text="No attempt may run past this time.")
    due_at = models.DateTimeField(null=True, blank=True, help_text="Submissions after this are late (late policy).")
    attempts_allowed = models.PositiveSmallIntegerField(default=1)
    results_released_at = models.DateTimeField(null=True, blank=True, help_text="Scores and feedback visible from.")
    answers_released_at = models.DateTimeField(null=True, blank=True, help_text="Correct answers visible from.")
    late_policy = models.JSONField(default=default_late_policy, blank=True)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=DRAFT)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the gradebook.")
    seed_salt = models.CharField(max_length=64, default=new_seed_salt, editable=False,
                                 help_text="Secret per assessment: students cannot predict each other's seeds.")
    published_at = models.DateTimeField(null=True, blank=True)
    # Pre-generation of the class's variants (a Celery job); the UI shows pregen_done / pregen_total.
    pregen_state = models.CharField(max_length=10, choices=PREGEN_CHOICES, default=PREGEN_IDLE)
    pregen_done = models.PositiveIntegerField(default=0)
    pregen_total = models.PositiveIntegerField(default=0)
    pregen_message = models.TextField(blank=True)
    pregen_updated_at = models.DateTimeField(null=True, blank=True)
    # Publishing's pre-flight (exams.publishing): templates the draws go around, {slug: reason}, honoured by
    # plan_questions; and every failure found, [{slug, template_id, seed, cell, line, message, excluded}].
    excluded_templates = models.JSONField(default=dict, blank=True)
    preflight_problems = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["course", "title"], name="unique_assessment_title")]

    def __str__(self) -> str:
        return f"{self.course}: {self.title}"

    @property
    def is_published(self) -> bool:
        return self.state == self.PUBLISHED

    @property
    def question_count(self) -> int:
        return sum(int(draw.get("count", len(draw.get("templates", [])))) for draw in self.blueprint or [])


class StudentOverride(models.Model):
    """Accommodations for one student: extra time (minutes and/or percent of the limit) and other dates."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="overrides")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessment_overrides")
    extra_minutes = models.PositiveIntegerField(default=0)
    extra_percent = models.PositiveIntegerField(default=0, help_text="e.g. 50 for time and a half.")
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    attempts_allowed = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assessment", "student"], name="unique_override")]

    def __str__(self) -> str:
        return f"override for {self.student} on {self.assessment}"


class Attempt(models.Model):
    IN_PROGRESS, SUBMITTED = "in_progress", "submitted"
    STATE_CHOICES = [(IN_PROGRESS, "In progress"), (SUBMITTED, "Submitted")]
    BY_STUDENT, BY_TIMER, BY_STAFF = "student", "timer", "staff"
    SUBMITTED_BY_CHOICES = [(BY_STUDENT, "Student"), (BY_TIMER, "Time ran out"), (BY_STAFF, "Staff")]

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="attempts")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField(default=1)
    seed = models.BigIntegerField()
    state = models.CharField(max_length=12, choices=STATE_CHOICES, default=IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True, help_text="Server-owned end; empty = untimed.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.CharField(max_length=10, choices=SUBMITTED_BY_CHOICES, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="Sum of slot scores / slot count, in [0, 1].")
    pending_count = models.PositiveSmallIntegerField(default=0, help_text="Responses still waiting for a grade.")
    # The sweeper that closes overdue attempts records why it could not (shown to staff, cleared on success).
    close_error = models.TextField(blank=True)
    close_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assessment", "student", "number"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "student", "number"], name="unique_attempt_number"),
        ]
        indexes = [models.Index(fields=["state", "deadline"], name="attempt_state_deadline")]

    def __str__(self) -> str:
        return f"{self.student} on {self.assessment} #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.state == self.IN_PROGRESS

    @property
    def is_fully_graded(self) -> bool:
        return self.state == self.SUBMITTED and self.pending_count == 0


class AttemptSlot(models.Model):
    """One question of an attempt: a frozen template version and the seed of this student's variant."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="slots")
    position = models.PositiveSmallIntegerField(help_text="1-based order shown to the student.")
    template = models.ForeignKey("quizbank.Template", on_delete=models.PROTECT, related_name="+")
    template_version = models.ForeignKey("quizbank.TemplateVersion", on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField()
    qtype = models.CharField(max_length=8)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="unique_slot_position"),
            models.UniqueConstraint(fields=["attempt", "template"], name="unique_slot_template"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} Q{self.position}"


class Response(models.Model):
    """The student's answer to a slot (created empty with the slot, overwritten by autosave) and its grade."""

    UNSUBMITTED, GRADED, QUEUED, GRADING, MANUAL, ERROR = "", "graded", "queued", "grading", "manual", "error"
    GRADING_CHOICES = [(UNSUBMITTED, "Not submitted"), (GRADED, "Graded"), (QUEUED, "Waiting for the runner"),
                       (GRADING, "Being graded"), (MANUAL, "Waiting for a grader"), (ERROR, "Grading failed")]
    PENDING_STATES = (QUEUED, GRADING, MANUAL, ERROR)

    slot = models.OneToOneField(AttemptSlot, on_delete=models.CASCADE, related_name="response")
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    text = models.TextField(blank=True)
    saved_at = models.DateTimeField(null=True, blank=True)
    save_count = models.PositiveIntegerField(default=0)
    client_seq = models.BigIntegerField(default=0, help_text="Highest save sequence seen: older saves are ignored.")
    grading_state = models.CharField(max_length=10, choices=GRADING_CHOICES, default=UNSUBMITTED, blank=True)
    grading_claimed_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    valid = models.BooleanField(default=True, help_text="False: the answer could not be read (scores 0).")
    feedback = models.TextField(blank=True)
    feedback_data = models.JSONField(default=dict, blank=True, help_text="Code completion: visible test results.")
    grading_error = models.TextField(blank=True, help_text="Staff only: why automatic grading failed (state error).")
    graded_at = models.DateTimeField(null=True, blank=True)
    graded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    graded_version = models.ForeignKey("quizbank.TemplateVersion", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", help_text="The version whose answer key graded this.")

    class Meta:
        ordering = ["attempt", "slot__position"]
        indexes = [models.Index(fields=["grading_state"], name="response_grading_state")]

    def __str__(self) -> str:
        return f"response to {self.slot}"

    @property
    def is_pending(self) -> bool:
        return self.grading_state in self.PENDING_STATES


class Excusal(models.Model):
    """An excused assessment: removed from the student's category mean (not counted as zero)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="excusals")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="excusals")
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assessment", "student"], name="unique_excusal")]

    def __str__(self) -> str:
        return f"{self.student} excused from {self.assessment}"


class ManualGradeItem(models.Model):
    """A graded item the system does not deliver (the team project), entered by staff."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="manual_items")
    category = models.ForeignKey(GradeCategory, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="manual_items")
    title = models.CharField(max_length=200)
    max_points = models.DecimalField(max_digits=7, decimal_places=2, default=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["course", "title"], name="unique_manual_item_title")]

    def __str__(self) -> str:
        return f"{self.course}: {self.title}"


class ManualGradeEntry(models.Model):
    item = models.ForeignKey(ManualGradeItem, on_delete=models.CASCADE, related_name="entries")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="manual_grades")
    points = models.DecimalField(max_digits=7, decimal_places=2)
    feedback = models.TextField(blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "manual grade entries"
        constraints = [models.UniqueConstraint(fields=["item", "student"], name="unique_manual_entry")]

    def __str__(self) -> str:
        return f"{self.student}: {self.points} on {self.item}"


class AuditEvent(models.Model):
    """Who changed what, when: grade changes and overrides, excusals, extra time, releases, roster changes and
    template edits. Written by exams.audit.record() only; never edited or deleted by the product."""

    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True, help_text="Kept if the account is deleted.")
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["course", "created_at"], name="audit_course_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_label}"


class StatisticsSnapshot(models.Model):
    """A cached item analysis (exams.analytics): of one assessment, or of one template over a set of courses.
    `signature` summarises the grades it was computed from; a different signature now means it is stale."""

    scope = models.CharField(max_length=200, unique=True, help_text='"assessment:<id>" or "template:<id>:<courses>".')
    assessment = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    compute_ms = models.FloatField(default=0.0)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="A recomputation was sent to the worker.")
    viewed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"statistics {self.scope}"


class RubricItem(models.Model):
    """One point-valued line of a question's rubric in one assessment (exams.rubrics): positive items add
    points, negative ones take them away; the question's maximum is the sum of the positive items."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="rubric_items")
    template = models.ForeignKey("quizbank.Template", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    points = models.FloatField()
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["assessment", "template", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.points:+g} {self.text}"


class RubricGrade(models.Model):
    """How a grader applied the rubric to one response: the items, an adjustment and a comment. The score it
    gives is stored in Response.score through exams.grading.grade_manually (audit log and permissions)."""

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="rubric_grade")
    items = models.ManyToManyField(RubricItem, blank=True, related_name="grades")
    adjustment = models.FloatField(default=0.0)
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rubric grade of response {self.response_id}"


class GradingAssignment(models.Model):
    """Which grader a written answer was given to when the ungraded answers were split among the TAs."""

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="grading_assignment")
    grader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"response {self.response_id} to {self.grader_id}"


class RegradeRequest(models.Model):
    """A student's request, after results release, to look again at one graded answer: once per answer, with
    a reason. Staff answer it (exams.regrade_requests); a changed score goes through grade_manually."""

    OPEN, ANSWERED = "open", "answered"
    STATE_CHOICES = [(OPEN, "Open"), (ANSWERED, "Answered")]

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="regrade_request")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=OPEN)
    created_at = models.DateTimeField()
    reply = models.TextField(blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    score_before = models.FloatField(null=True, blank=True)
    score_after = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"regrade request for response {self.response_id}"


class AnswerGrouping(models.Model):
    """One computation of suggested answer groups for a question of an assessment (exams.answer_groups), run
    by a worker on the `bulk` queue. Only a suggestion: nothing is graded until a person applies rubric items
    to a group. A finished run replaces the question's previous one."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATE_CHOICES = [(QUEUED, "Queued"), (RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed")]

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answer_groupings")
    template = models.ForeignKey("quizbank.Template", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0, help_text="Answers embedded so far.")
    total = models.PositiveIntegerField(default=0, help_text="Distinct non-blank answers to embed.")
    answers = models.PositiveIntegerField(default=0, help_text="Submitted answers grouped, blanks included.")
    model_name = models.CharField(max_length=200, blank=True)
    threshold = models.FloatField(default=0.0, help_text="Cosine distance at which clustering stops merging.")
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds: load, embed, cluster, total.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["assessment", "template", "state"], name="grouping_question_state")]

    def __str__(self) -> str:
        return f"answer grouping {self.pk} ({self.state})"


class AnswerGroup(models.Model):
    """Answers the grouping found similar. `label` is its most central answer, shortened."""

    grouping = models.ForeignKey(AnswerGrouping, on_delete=models.CASCADE, related_name="groups")
    position = models.PositiveIntegerField(default=0, help_text="1 = the largest group.")
    label = models.CharField(max_length=200)
    size = models.PositiveIntegerField(default=0)
    is_blank = models.BooleanField(default=False)

    class Meta:
        ordering = ["grouping", "position", "pk"]

    def __str__(self) -> str:
        return f"group {self.position}: {self.label}"


class AnswerGroupMember(models.Model):
    """One answer in a group and its cosine distance to the group's centre; a far one is an exception."""

    group = models.ForeignKey(AnswerGroup, on_delete=models.CASCADE, related_name="members")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    distance = models.FloatField(default=0.0)
    is_exception = models.BooleanField(default=False)

    class Meta:
        ordering = ["group", "-is_exception", "-distance", "pk"]
        constraints = [models.UniqueConstraint(fields=["group", "response"], name="unique_group_member")]

    def __str__(self) -> str:
        return f"response {self.response_id} in group {self.group_id}"
