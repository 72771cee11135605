"""Input parsing for the exams pages. Forms validate shape and size only; services decide what is allowed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms

MAX_RESPONSE_CHARS = 20_000  # the same bound quizbank.checking applies


@dataclass(frozen=True)
class AutosaveInput:
    slot_id: int
    text: str
    client_seq: int | None


class AutosaveError(ValueError):
    pass


def parse_autosave(body: bytes) -> AutosaveInput:
    """The quiz page sends JSON `{"slot": <slot id>, "response": "<text>", "seq": <int, optional>}`."""
    try:
        data: Any = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
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
