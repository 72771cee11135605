"""A manually graded question with a multi-line rubric and a per-variant model answer, for the rubric and
grading-by-question tests."""
from __future__ import annotations

from exams import attempts as attempt_service
from exams.models import Response
from quizbank.spec import TemplateSpec

RUBRIC_TEXT = "+2 names the vanishing gradient\n+1 mentions ReLU\n-1 claims sigmoid never saturates"
EXPLAIN_RUBRIC = TemplateSpec(
    slug="rubric-explain", title="Explain vanishing gradients", kind="short", qtype="short", lectures=(1,),
    parameters="depth = rng.randint(10, 30)\n",
    stem="Why do gradients vanish in a {{ depth }}-layer sigmoid network?",
    answer={"format": "manual", "rubric": RUBRIC_TEXT, "max_words": 120},
    explanation="MODEL-ANSWER: the product of {{ depth }} sigmoid derivatives, each at most 1/4, shrinks.",
)


def submit_answer(quiz, student, text: str) -> Response:
    attempt = attempt_service.start_attempt(quiz, student)
    attempt_service.autosave(attempt, attempt.slots.get(template__slug="rubric-explain").pk, text, user=student)
    attempt_service.submit_attempt(attempt, user=student)
    return Response.objects.get(attempt=attempt, slot__template__slug="rubric-explain")
