"""Input parsing for the exams pages. Forms validate shape and size only; services decide what is allowed."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django import forms

from quizbank.checking import MAX_RESPONSE_CHARS  # one limit: what can be saved can be graded


@dataclass(frozen=True)
class AutosaveInput:
    slot_id: int
    text: str
    client_seq: int | None


class AutosaveError(ValueError):
    pass


def unstorable_text_problem(text: str) -> str:
    """Why `text` cannot be stored as it is ("" if it can). The answer is refused rather than silently altered,
    so what is saved is always exactly what the student sees."""
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        return "The answer contains a NUL character (often pasted from a binary file); remove it and it will save."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: half of an emoji, e.g. cut by a length limit
        return "The answer contains a broken character (half of an emoji or symbol); remove it and it will save."
    return ""


def parse_autosave(body: bytes) -> AutosaveInput:
    """The quiz page sends JSON `{"slot": <slot id>, "response": "<text>", "seq": <int, optional>}`."""
    try:
        data: Any = json.loads(body.decode("utf-8") or "{}")
    except UnicodeDecodeError:
        raise AutosaveError("The request was not valid UTF-8 text.") from None
    # ValueError also covers integers longer than sys.get_int_max_str_digits(); RecursionError is deep nesting.
    except (ValueError, RecursionError):
        raise AutosaveError("The request was not valid JSON.") from None
    if not isinstance(data, dict):
        raise AutosaveError("The request was not a JSON object.")
    slot, text, seq = data.get("slot"), data.get("response", ""), data.get("seq")
    if isinstance(slot, bool) or not isinstance(slot, int) or not 0 < slot < 2**63:
        raise AutosaveError("Which question? (slot must be a positive integer id)")
    if not isinstance(text, str):
        raise AutosaveError("The answer must be text.")
    if len(text) > MAX_RESPONSE_CHARS:
        raise AutosaveError(f"The answer is longer than {MAX_RESPONSE_CHARS} characters.")
    problem = unstorable_text_problem(text)
    if problem:
        raise AutosaveError(problem)
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**62):
        raise AutosaveError("seq must be a non-negative integer.")
    return AutosaveInput(slot_id=slot, text=text, client_seq=seq)


class ManualGradeForm(forms.Form):
    score_percent = forms.DecimalField(
        label="Score (%)", min_value=0, max_value=100, decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "5", "min": "0", "max": "100", "inputmode": "decimal"}),
    )
    feedback = forms.CharField(label="Feedback for the student", required=False, max_length=5000,
                               widget=forms.Textarea(attrs={"rows": 5}))
    go_next = forms.BooleanField(required=False)
    reason = forms.CharField(label="Reason for changing this grade (kept in the audit log)", required=False,
                             max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, override: bool = False, **kwargs: Any):
        """`override`: the answer already has an automatic or an instructor's grade, so a reason is required."""
        super().__init__(*args, **kwargs)
        self.override = override
        if override:
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]

    @property
    def score_fraction(self) -> float:
        return float(self.cleaned_data["score_percent"]) / 100.0


class RegradeForm(forms.Form):
    template_id = forms.IntegerField(min_value=1)


# --- staff records: overrides, excusals, manual grades, roster ---------------------------------------------
MAX_ROSTER_BYTES = 2_000_000  # a roster of a few thousand students is well under this


class StudentField(forms.ModelChoiceField):
    """A student of the course, shown as "Name (student id)"."""

    def __init__(self, course: Any, **kwargs: Any):
        from django.contrib.auth import get_user_model

        from exams.models import Membership

        self.student_ids = dict(Membership.objects.filter(course=course, role=Membership.STUDENT)
                                .values_list("user_id", "student_id"))
        users = get_user_model().objects.filter(pk__in=self.student_ids).order_by("last_name", "first_name", "username")
        super().__init__(queryset=users, empty_label="— choose a student —", **kwargs)

    def label_from_instance(self, user: Any) -> str:
        name = user.get_full_name() or user.username
        student_id = self.student_ids.get(user.pk)
        return f"{name} ({student_id})" if student_id else name


def _when_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class OverrideForm(forms.Form):
    """Accommodations for one student; every field replaces the student's previous override."""

    extra_minutes = forms.IntegerField(label="Extra minutes", min_value=0, max_value=10_000, required=False, initial=0)
    extra_percent = forms.IntegerField(label="Extra time (%)", min_value=0, max_value=500, required=False, initial=0,
                                       help_text="50 = time and a half")
    opens_at = forms.DateTimeField(label="Opens", required=False, widget=_when_widget())
    closes_at = forms.DateTimeField(label="Closes", required=False, widget=_when_widget())
    due_at = forms.DateTimeField(label="Due", required=False, widget=_when_widget())
    attempts_allowed = forms.IntegerField(label="Attempts", min_value=1, max_value=100, required=False)
    note = forms.CharField(label="Note", max_length=200, required=False)

    def __init__(self, course: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields = {"student": StudentField(course, label="Student"), **self.fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The closing time must be after the opening time.")
        data["extra_minutes"] = data.get("extra_minutes") or 0
        data["extra_percent"] = data.get("extra_percent") or 0
        return data


class ExcuseForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=200, required=False)

    def __init__(self, course: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields = {"student": StudentField(course, label="Student"), **self.fields}


class UnexcuseForm(forms.Form):
    def __init__(self, course: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["student"] = StudentField(course)


class ManualEntryForm(forms.Form):
    points = forms.DecimalField(label="Points", min_value=0, max_digits=7, decimal_places=2,
                                widget=forms.NumberInput(attrs={"step": "0.5", "min": "0", "inputmode": "decimal"}))
    feedback = forms.CharField(label="Feedback", required=False, max_length=5000,
                               widget=forms.TextInput(attrs={"placeholder": "optional"}))

    def __init__(self, course: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields = {"student": StudentField(course, widget=forms.HiddenInput), **self.fields}


class RosterUploadForm(forms.Form):
    file = forms.FileField(label="Roster CSV (student id, name, email)")

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_ROSTER_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_ROSTER_BYTES // 1_000_000} MB.")
        return upload.read()


class RosterConfirmForm(forms.Form):
    """The previewed roster sent back unchanged (base64, so no browser rewrites its line breaks) with the
    fingerprint of the preview's plan; the import refuses a plan that differs from what was shown."""

    roster = forms.CharField(widget=forms.HiddenInput, strip=False, max_length=MAX_ROSTER_BYTES * 2)
    digest = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)

    @staticmethod
    def encode(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    def clean_roster(self) -> bytes:
        try:
            return base64.b64decode(self.cleaned_data["roster"].encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise forms.ValidationError("The roster was damaged in transit; upload the file again.") from None


class AuditFilterForm(forms.Form):
    """The audit log's filters (GET): one action, one student of the course."""

    action = forms.ChoiceField(label="Action", required=False)

    def __init__(self, course: Any, action_labels: dict[str, str], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "every action"), *action_labels.items()]
        self.fields["student"] = StudentField(course, label="Student", required=False)
        self.fields["student"].empty_label = "every student"
