"""Input parsing for the assessment editor and the release controls (shape and size only; exams.authoring
decides what is allowed). Times are entered in the course's zone (settings.TIME_ZONE, Asia/Baku)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from exams import authoring, clock
from exams.models import Assessment, Course

MAX_ROWS = 30


def zone_label(now: datetime | None = None) -> str:
    """e.g. "Asia/Baku (UTC+04:00)": shown next to every date field."""
    zone = timezone.get_current_timezone()
    offset = (now or clock.now()).astimezone(zone).strftime("%z")
    return f"{zone} (UTC{offset[:3]}:{offset[3:]})"


def _when(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=False, help_text=help_text,
                               widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))


class CategoryField(forms.ModelChoiceField):
    def label_from_instance(self, category: Any) -> str:
        return f"{category.name} ({category.weight.normalize():f}%)"


class AssessmentForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    kind = forms.ChoiceField(label="Kind", choices=Assessment.KIND_CHOICES)
    category = CategoryField(label="Grade category", queryset=None, required=False,
                                      empty_label="— not graded —")
    time_limit_minutes = forms.IntegerField(label="Time limit (minutes)", min_value=1, max_value=24 * 60,
                                            required=False, help_text="Empty: no time limit.")
    attempts_allowed = forms.IntegerField(label="Attempts allowed", min_value=1, max_value=100, initial=1)
    position = forms.IntegerField(label="Order in the gradebook", min_value=0, max_value=1000, initial=0)
    opens_at = _when("Opens")
    due_at = _when("Due", "Later submissions lose marks (late policy).")
    closes_at = _when("Closes", "No attempt runs past this time.")
    instructions = forms.CharField(label="Instructions (Markdown)", required=False, max_length=20_000,
                                   widget=forms.Textarea(attrs={"rows": 5}))
    after_last_tier_percent = forms.IntegerField(label="Penalty after the last tier (%)", min_value=0,
                                                 max_value=100, initial=100)

    def __init__(self, course: Course, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = authoring.categories_for(course)
        self.tier_rows: list[dict[str, str]] = []
        self.tier_problems: list[str] = []

    def late_policy(self, data: QueryDict) -> dict[str, Any]:
        tiers = []
        self.tier_rows = _rows(data, ("tier_minutes", "tier_penalty"))
        for row in self.tier_rows:
            minutes, penalty = row["tier_minutes"].strip(), row["tier_penalty"].strip()
            if not minutes and not penalty:
                continue
            try:
                tiers.append({"up_to_minutes": int(minutes), "penalty_percent": _number(penalty)})
            except ValueError:
                self.tier_problems.append(f"Late-policy tier {minutes or '?'} min / {penalty or '?'}%: "
                                          f"write whole minutes and a percent.")
        return {"tiers": tiers, "after_last_tier_percent": self.cleaned_data.get("after_last_tier_percent", 100)}

    def values(self, data: QueryDict) -> dict[str, Any]:
        values = {name: self.cleaned_data.get(name) for name in
                  ("title", "kind", "category", "time_limit_minutes", "attempts_allowed", "position", "opens_at",
                   "due_at", "closes_at", "instructions")}
        values["late_policy"] = self.late_policy(data)
        return values


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _rows(data: QueryDict, names: tuple[str, ...]) -> list[dict[str, str]]:
    columns = [data.getlist(name)[:MAX_ROWS] for name in names]
    length = max((len(c) for c in columns), default=0)
    return [{name: (column[i] if i < len(column) else "") for name, column in zip(names, columns)}
            for i in range(length)]


def draw_rows(data: QueryDict) -> list[dict[str, str]]:
    rows = _rows(data, ("draw_qtype", "draw_count", "draw_lectures", "draw_tags"))
    return [{"qtype": r["draw_qtype"], "count": r["draw_count"], "lectures": r["draw_lectures"],
             "tags": r["draw_tags"]} for r in rows]


def picked_slugs(data: QueryDict) -> list[str]:
    return [s[:80] for s in data.getlist("picked")[:200]]


def initial_for(assessment: Assessment) -> dict[str, Any]:
    return {"title": assessment.title, "kind": assessment.kind, "category": assessment.category_id,
            "time_limit_minutes": assessment.time_limit_minutes, "attempts_allowed": assessment.attempts_allowed,
            "position": assessment.position, "opens_at": assessment.opens_at, "due_at": assessment.due_at,
            "closes_at": assessment.closes_at, "instructions": assessment.instructions,
            "after_last_tier_percent": (assessment.late_policy or {}).get("after_last_tier_percent", 100)}


def tier_rows_for(policy: dict[str, Any], blank: int = 1) -> list[dict[str, str]]:
    rows = [{"tier_minutes": str(t.get("up_to_minutes", "")), "tier_penalty": str(t.get("penalty_percent", ""))}
            for t in (policy or {}).get("tiers", [])]
    return rows + [{"tier_minutes": "", "tier_penalty": ""} for _ in range(blank)]


RELEASE_CHOICES = [(authoring.KEEP, "Leave as it is"), (authoring.NOW, "Release now"),
                   (authoring.AT, "Release at…"), (authoring.HIDE, "Hide")]


class ReleaseForm(forms.Form):
    results = forms.ChoiceField(label="Results (scores and feedback)", choices=RELEASE_CHOICES,
                                widget=forms.RadioSelect, initial=authoring.KEEP)
    results_at = _when("Results released at")
    answers = forms.ChoiceField(label="Correct answers", choices=RELEASE_CHOICES, widget=forms.RadioSelect,
                                initial=authoring.KEEP)
    answers_at = _when("Answers released at")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for what in ("results", "answers"):
            if data.get(what) == authoring.AT and not data.get(f"{what}_at"):
                self.add_error(f"{what}_at", "Choose a date and time.")
        return data
