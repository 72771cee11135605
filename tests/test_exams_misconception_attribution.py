"""Which named mistake a wrong answer shows, for MCQ (by the chosen option's source, whatever its letter),
numeric short answers (equal to a misconception's value within the template's tolerance) and code
completion (failing answers grouped by test-outcome pattern, named by the known mistake that gives it).
Students answer through the real services; variants come from the real sandboxed engine."""
from __future__ import annotations

from dataclasses import replace

import pytest

from exams.analytics.report import assessment_analysis
from exams.attempts import autosave, start_attempt, submit_attempt
from exams.grading import grade_code_response
from exams.models import Membership, Response
from exams.roster import enroll
from quizbank import services as bank
from quizbank.models import Variant
from tests.analytics_class import mcq_spec, short_spec
from tests.conftest import make_user
from tests.exams_personas import classroom, fast_passwords, frozen_clock, make_assessment, runner_calls  # noqa: F401
from tests.specs import COMPLETION

pytestmark = pytest.mark.sandbox

# Fixed hidden inputs (not random ones), so every variant gives each mistake the same outcome.
RELU_WITH_MISTAKES = replace(COMPLETION, slug="ia-relu", tests=(
    "def test_negative_values_become_zero():\n    return relu(-torch.arange(1.0, n + 1))\n\n"
    "def test_mixed_values():\n    return relu(torch.tensor([-1.0, 2.0, -3.0, float(n)]))\n"), mistakes=(
    {"name": "returns the input unchanged", "code": "return x\n", "max_score": 0.5},
    {"name": "returns zeros", "code": "return torch.zeros_like(x)\n", "max_score": 0.5},
))


def _students(course, count: int) -> list:
    people = [make_user(f"ma-{i}") for i in range(count)]
    for i, user in enumerate(people):
        enroll(course, user, Membership.STUDENT, f"M{i:03d}")
    return people


def _answer_all(quiz, people, answer_for) -> None:
    for user in people:
        attempt = start_attempt(quiz, user)
        for slot in attempt.slots.select_related("template", "template_version"):
            variant = bank.variant_for(slot.template_version, slot.seed)
            autosave(attempt, slot.pk, answer_for(user, slot, variant), user=user)
        submit_attempt(attempt, user=user)


def _table(analysis: dict, slug: str) -> dict:
    return next(t for t in analysis["misconceptions"] + analysis["completion"] if t["slug"] == slug)


def test_an_mcq_answer_counts_for_the_misconception_whose_option_was_chosen_whatever_its_letter(classroom, frozen_clock):
    bank.save_spec(mcq_spec("ma-mcq"))
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["ma-mcq"]}])
    people = _students(classroom.course, 6)
    letters = set()

    def answer(user, slot, variant):
        wanted = "misconception:one short" if people.index(user) < 4 else "correct"
        index = variant.key["option_sources"].index(wanted)
        letters.add(index)
        return str(index)

    _answer_all(quiz, people, answer)
    table = _table(assessment_analysis(quiz), "ma-mcq")
    counts = {row["name"]: row["count"] for row in table["rows"]}
    assert counts == {"one short": 4, "off by one": 0, "forgot to double": 0}
    assert table["correct"] == 2 and table["n"] == 6
    assert next(row["share"] for row in table["rows"] if row["name"] == "one short") == pytest.approx(100 * 4 / 6)
    assert len(letters) > 1, "the options were shuffled differently per variant"


def test_a_numeric_answer_within_the_templates_tolerance_of_a_misconceptions_value_counts_for_it(classroom, frozen_clock):
    bank.save_spec(short_spec("ma-short"))  # rtol 0.01
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["ma-short"]}])
    people = _students(classroom.course, 4)
    plans = ["squared, 0.5% off", "squared, 5% off", "forgot to double", "right"]

    def answer(user, slot, variant):
        values = variant.key["misconception_values"]
        plan = plans[people.index(user)]
        if plan == "squared, 0.5% off":
            return str(values["squared instead"] * 1.005)
        if plan == "squared, 5% off":
            return str(values["squared instead"] * 1.05)
        if plan == "forgot to double":
            return str(values["forgot to double"])
        return str(variant.key["answer"])

    _answer_all(quiz, people, answer)
    table = _table(assessment_analysis(quiz), "ma-short")
    assert {row["name"]: row["count"] for row in table["rows"]} == {"squared instead": 1, "forgot to double": 1}
    assert (table["correct"], table["unexplained"]) == (1, 1)


def test_variants_cached_before_misconception_values_existed_attribute_nothing(classroom, frozen_clock):
    bank.save_spec(short_spec("ma-old"))
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["ma-old"]}])
    people = _students(classroom.course, 2)
    for user in people:
        attempt = start_attempt(quiz, user)
        slot = attempt.slots.get()
        variant = bank.variant_for(slot.template_version, slot.seed)
        variant.key.pop("misconception_values")  # as a variant generated by the previous engine
        Variant.objects.filter(pk=variant.pk).update(key=variant.key)
        autosave(attempt, slot.pk, "1000", user=user)
        submit_attempt(attempt, user=user)
    table = _table(assessment_analysis(quiz), "ma-old")
    assert table["rows"] == [] and table["unexplained"] == 2


def test_failing_code_is_grouped_by_outcome_pattern_and_named_by_the_known_mistake_that_gives_it(classroom, frozen_clock):
    bank.save_spec(RELU_WITH_MISTAKES)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["ia-relu"]}])
    people = _students(classroom.course, 4)
    code = {0: "return x * 1\n", 1: "return x.clone()\n", 2: "return x - x\n", 3: "return torch.clamp(x, min=0)\n"}
    _answer_all(quiz, people, lambda user, slot, variant: code[people.index(user)])
    for response in Response.objects.filter(attempt__assessment=quiz, grading_state=Response.QUEUED):
        assert grade_code_response(response.pk) is True
    table = _table(assessment_analysis(quiz), "ia-relu")
    assert table["failing"] == 3 and table["n"] == 4
    by_mistake = {row["mistake"]: row for row in table["patterns"]}
    unchanged, zeros = by_mistake["returns the input unchanged"], by_mistake["returns zeros"]
    # Echoing the input passes the visible test (positive values) and fails both hidden tests...
    assert (unchanged["count"], unchanged["visible_failed"], unchanged["hidden_passed"]) == (2, [], 0)
    # ...zeros fail the visible test and pass the hidden one with negative inputs.
    assert (zeros["count"], zeros["visible_failed"], zeros["hidden_passed"]) == (1, ["test_positive_values_pass"], 1)
    assert zeros["hidden_total"] == 2


def test_a_page_view_runs_no_runner_job_and_leaves_naming_mistakes_to_the_worker(
        classroom, frozen_clock, runner_calls, django_capture_on_commit_callbacks, monkeypatch):
    from exams import dispatch
    from exams.analytics.caching import assessment_statistics, refresh

    bank.save_spec(RELU_WITH_MISTAKES)
    quiz = make_assessment(classroom.course, blueprint=[{"templates": ["ia-relu"]}])
    people = _students(classroom.course, 2)
    _answer_all(quiz, people, lambda user, slot, variant: "return x\n")
    for response in Response.objects.filter(attempt__assessment=quiz, grading_state=Response.QUEUED):
        assert grade_code_response(response.pk) is True
    sent: list[tuple] = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args, **options: sent.append((name, *args)))
    runner_calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = assessment_statistics(quiz)
    assert runner_calls == [] and page.data["mistakes_pending"] is True
    assert [name for name, *_ in sent] == [dispatch.REFRESH_STATISTICS]
    assert refresh(sent[0][1]) is True  # the worker's run grades the known mistakes
    table = _table(assessment_statistics(quiz).data, "ia-relu")
    assert {row["mistake"] for row in table["patterns"]} == {"returns the input unchanged"}
