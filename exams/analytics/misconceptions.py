"""Which named mistake a student's answer shows.

- MCQ: the chosen option's source in the variant key (`option_sources`: "correct", "misconception:<name>",
  "fixed"). Options are shuffled per variant, so letters mean nothing across students; sources do.
- Any other kind: a wrong answer equal (within the template's own tolerance) to the value a named
  misconception computes for that student's variant (`key["misconception_values"]`, stored at generation).
  Variants generated before that key existed attribute nothing.
- Code completion: the failing submission's test-outcome pattern (visible tests failed, hidden tests
  passed), matched against the patterns the template's known mistakes give when graded (mistake_patterns).
"""
from __future__ import annotations

from typing import Any

from quizbank.checking import (
    normalise_output,
    normalise_text,
    numeric_matches,
    parse_choice,
    parse_integer,
    parse_number,
    parse_shape,
)

CORRECT, OTHER, BLANK, FIXED = "correct", "other", "blank", "fixed"


def chosen_source(key: dict[str, Any], text: str) -> str:
    """For an MCQ answer: "correct", "fixed" (a hand-typed distractor), "blank", or the misconception's name
    prefixed "misconception:"."""
    sources = key.get("option_sources") or []
    if not str(text or "").strip():
        return BLANK
    index, _ = parse_choice(str(text), len(sources))
    if index is None:
        return OTHER
    return str(sources[index])


def _matches(answer_format: str, answer_config: dict[str, Any], text: str, value: Any) -> bool:
    try:
        if answer_format == "numeric":
            submitted, _ = parse_number(text, percent=answer_config.get("percent") is True)
            return submitted is not None and numeric_matches(submitted, float(value), answer_config)
        if answer_format == "integer":
            submitted, _ = parse_integer(text)
            return submitted is not None and submitted == int(float(value))
        if answer_format == "shape":
            submitted, _ = parse_shape(text)
            return submitted is not None and submitted == [int(x) for x in value]
        if answer_format == "text":
            accepted = value if isinstance(value, list) else [value]
            return normalise_text(text, answer_config) in {normalise_text(str(a), answer_config) for a in accepted}
        if answer_format == "output":
            return normalise_output(text) == normalise_output(str(value))
    except (TypeError, ValueError, OverflowError):
        return False
    return False


def attribute(kind: str, answer_format: str, key: dict[str, Any], answer_config: dict[str, Any], text: str,
              score: float | None) -> str | None:
    """The name of the misconception this answer shows, or None (right, blank, or no named mistake fits)."""
    if kind == "mcq":
        source = chosen_source(key, text)
        return source.split(":", 1)[1] if source.startswith("misconception:") else None
    if score is not None and score >= 0.999 or not str(text or "").strip():
        return None
    values = key.get("misconception_values")
    if not isinstance(values, dict):
        return None
    for name, value in values.items():
        if _matches(answer_format, answer_config or {}, str(text), value):
            return str(name)
    return None


def outcome_pattern(feedback_data: dict[str, Any]) -> tuple[tuple[str, ...], int, int] | None:
    """(visible tests failed, hidden tests passed, hidden tests in all) of a graded completion answer."""
    if not isinstance(feedback_data, dict) or "hidden_total" not in feedback_data:
        return None
    failed = tuple(sorted(str(test.get("name")) for test in feedback_data.get("visible") or []
                          if isinstance(test, dict) and not test.get("passed")))
    return failed, int(feedback_data.get("hidden_passed") or 0), int(feedback_data.get("hidden_total") or 0)


def describe_pattern(pattern: tuple[tuple[str, ...], int, int]) -> str:
    failed, hidden_passed, hidden_total = pattern
    visible = "fails " + ", ".join(failed) if failed else "passes the visible tests"
    return f"{visible}; hidden {hidden_passed} of {hidden_total} passed"


def known_mistakes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A completion template's known mistakes (quizbank.spec: {name, code, max_score}) that have code."""
    mistakes = spec.get("mistakes") or []
    return [m for m in mistakes if isinstance(m, dict) and m.get("name") and str(m.get("code", "")).strip()]


def mistake_patterns(spec: dict[str, Any], seeds_and_expected: list[tuple[int, list[dict[str, Any]]]]
                     ) -> list[dict[str, Any]]:
    """Each known mistake graded through the real runner on a few variants: the outcome patterns it gives
    ({"name", "patterns": [[visible failed], hidden passed, hidden total]}). A failing answer with one of
    those patterns resembles that mistake. A variant whose grading fails is skipped."""
    from quizbank.completion import grade_completion
    from quizbank.spec import TemplateError, TemplateSpec

    mistakes = known_mistakes(spec)
    if not mistakes or not seeds_and_expected:
        return []
    try:
        template_spec = TemplateSpec.from_dict(spec)
    except TemplateError:
        return []
    found = []
    for mistake in mistakes:
        patterns: list[list[Any]] = []
        for seed, expected in seeds_and_expected:
            try:
                grade = grade_completion(template_spec, seed, expected, str(mistake["code"]))
            except Exception:  # noqa: BLE001 - the runner down or a broken variant: this sample says nothing
                continue
            pattern = outcome_pattern(grade.student_feedback())
            if pattern is not None and grade.score < 0.999:
                entry = [list(pattern[0]), pattern[1], pattern[2]]
                if entry not in patterns:
                    patterns.append(entry)
        found.append({"name": str(mistake["name"]), "patterns": patterns})
    return found


def mistake_for_pattern(pattern: tuple[tuple[str, ...], int, int] | None, patterns: list[dict[str, Any]]) -> str | None:
    """The first known mistake (in the template's order) that gave this outcome pattern."""
    if pattern is None:
        return None
    wanted = [list(pattern[0]), pattern[1], pattern[2]]
    for mistake in patterns:
        if wanted in mistake["patterns"]:
            return str(mistake["name"])
    return None
