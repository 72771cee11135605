"""The student's side of misconception analytics: after results are released, an answer that shows a named
misconception says so, where the template allows it (`answer.show_misconception: true`)."""
from __future__ import annotations

from typing import Any

from exams.analytics import misconceptions as mc
from exams.analytics.data import FORMAT_OF_KIND
from exams.models import StatisticsSnapshot
from quizbank.models import Variant


def _known_patterns(attempt: Any, template_id: int, version_id: int) -> list[dict[str, Any]]:
    """The known mistakes' outcome patterns from the assessment's cached analysis (grading mistakes needs
    the runner: the analysis did it in the worker; a page view does not)."""
    data = (StatisticsSnapshot.objects.filter(scope=f"assessment:{attempt.assessment_id}")
            .values_list("data", flat=True).first()) or {}
    for table in data.get("completion") or []:
        if table.get("template_id") == template_id:
            by_version = table.get("mistake_patterns") or {}
            return by_version.get(str(version_id)) or [m for found in by_version.values() for m in found]
    return []


def misconception_notes(attempt: Any, review: Any) -> dict[int, str]:
    """{slot id: the misconception's name} for the released, not fully right answers of `attempt` whose
    template shows misconceptions. Empty before results are released."""
    if not review.results_released:
        return {}
    wrong = {item.slot_id: item for item in review.items
             if item.score is not None and item.score < 0.999 and item.grading_state == "graded"}
    if not wrong:
        return {}
    # The two spec keys read here, not each version's whole spec; the keys of those variants in one query.
    rows = [row for row in attempt.slots.filter(pk__in=wrong).order_by("position").values_list(
                "pk", "template_id", "template_version_id", "seed", "template_version__spec__kind",
                "template_version__spec__answer")
            if isinstance(row[5], dict) and row[5].get("show_misconception") is True]
    if not rows:
        return {}
    keys = {(version_id, seed): key for version_id, seed, key in
            Variant.objects.filter(version_id__in={row[2] for row in rows}, seed__in={row[3] for row in rows})
            .values_list("version_id", "seed", "key")}
    notes: dict[int, str] = {}
    for slot_id, template_id, version_id, seed, kind, answer_config in rows:
        variant = keys.get((version_id, seed))
        if not variant:
            continue
        item = wrong[slot_id]
        kind = kind if isinstance(kind, str) else ""
        if kind == "completion":
            name = mc.mistake_for_pattern(mc.outcome_pattern(item.feedback_data),
                                          _known_patterns(attempt, template_id, version_id))
        else:
            answer_format = FORMAT_OF_KIND.get(kind) or answer_config.get("format", "numeric")
            name = mc.attribute(kind, answer_format, variant, answer_config, item.text, item.score)
        if name:
            notes[slot_id] = name
    return notes
