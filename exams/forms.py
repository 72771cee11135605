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
    if isinstance(slot, bool) or not isinstance(slot, int):
        raise AutosaveError("Which question? (slot must be an integer)")
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
