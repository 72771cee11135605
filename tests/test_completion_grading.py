"""A student's code fragment is graded by running the template's tests in the sandbox and comparing values."""
from __future__ import annotations

import json

import pytest

from quizbank.completion import HIDDEN_FAILED, compare_values, grade_completion
from quizbank.engine import build_hidden_job, build_visible_job, generate
from tests.specs import COMPLETION


@pytest.fixture(scope="module")
def variant():
    return generate(COMPLETION, seed=2)


def grade(variant, code: str):
    return grade_completion(COMPLETION, variant.seed, variant.key["expected_tests"], code)


def test_a_correct_fragment_passes_every_test(variant):
    result = grade(variant, "return x.clamp(min=0)")
    assert result.score == 1.0 and result.summary == "3 of 3 tests passed."


def test_a_differently_written_correct_fragment_also_passes(variant):
    result = grade(variant, "out = x.clone()\nout[out < 0] = 0\nreturn out\n")
    assert result.score == 1.0


def test_a_partly_wrong_fragment_scores_the_fraction_of_tests_passed(variant):
    result = grade(variant, "return x.abs()")
    assert result.score == pytest.approx(1 / 3)
    failed = sorted(o.name for o in result.outcomes if not o.passed)
    assert failed == ["test_negative_values_become_zero", "test_random_values"]


def test_a_syntax_error_is_feedback_with_the_students_own_line_number(variant):
    result = grade(variant, "y = x\nreturn y +\n")
    assert result.score == 0.0
    assert "SyntaxError" in result.summary and "line 2 of your code" in result.summary


def test_an_exception_is_feedback_naming_the_line_of_the_students_code(variant):
    result = grade(variant, "a = 1\nreturn x / undefined_thing\n")
    assert result.score == 0.0
    visible = [o for o in result.outcomes if o.visible]
    assert visible and all("NameError" in o.message and "line 2 of your code" in o.message for o in visible)


def test_a_hidden_tests_failure_says_only_that_it_failed(variant):
    result = grade(variant, "a = 1\nreturn x / undefined_thing\n")
    hidden = [o for o in result.outcomes if not o.visible]
    assert len(hidden) == 2 and {o.message for o in hidden} == {HIDDEN_FAILED}


def test_code_passing_the_visible_tests_only_gets_no_hidden_credit(variant):
    result = grade(variant, "return x\n")
    feedback = result.student_feedback()
    assert [t["passed"] for t in feedback["visible"]] == [True]
    assert (feedback["hidden_passed"], feedback["hidden_total"]) == (0, 2)
    assert result.score == pytest.approx(1 / 3)


def test_the_visible_job_holds_no_hidden_test_and_neither_job_holds_the_reference(variant):
    visible, hidden = build_visible_job(COMPLETION, 2, "return x"), build_hidden_job(COMPLETION, 2, "return x")
    visible_text = json.dumps(visible.to_json())
    assert "test_negative_values_become_zero" not in visible_text and "test_random_values" not in visible_text
    assert COMPLETION.reference not in visible_text and COMPLETION.reference not in json.dumps(hidden.to_json())
    assert set(visible.inputs["__spec__"]) == set(hidden.inputs["__spec__"]) == {"kind", "scaffold"}


def test_an_infinite_loop_is_a_timeout_not_a_crash(variant):
    result = grade(variant, "while True:\n    pass\n")
    assert result.score == 0.0 and "time limit" in result.summary


def test_students_see_details_of_visible_tests_only(variant):
    feedback = grade(variant, "return x.abs()").student_feedback()
    assert [t["name"] for t in feedback["visible"]] == ["test_positive_values_pass"]
    assert feedback["hidden_total"] == 2 and feedback["hidden_passed"] == 0
    assert "test_negative_values_become_zero" not in str(feedback)


def test_patching_the_test_machinery_cannot_fake_a_pass(variant):
    cheat = ("import torch\n"
             "torch.allclose = lambda *a, **k: True\n"
             "globals()['_qb_run_tests'] = lambda *a, **k: [{'name': 'test_random_values', 'visible': False, 'value': 0}]\n"
             "return x\n")
    result = grade(variant, cheat)
    assert result.score < 1.0


def test_all_or_nothing_templates_give_zero_unless_every_test_passes(variant):
    from dataclasses import replace

    strict = replace(COMPLETION, answer={"all_or_nothing": True})
    result = grade_completion(strict, variant.seed, variant.key["expected_tests"], "return x.abs()")
    assert result.score == 0.0


@pytest.mark.parametrize("expected, actual, ok, message", [
    ({"__array__": [2], "dtype": "float32", "data": [1.0, 2.0]}, {"__array__": [3], "dtype": "float32", "data": [1, 2, 3]},
     False, "expected shape (2,)"),
    ({"__array__": [2], "dtype": "float32", "data": [1.0, 2.0]}, {"__array__": [2], "dtype": "float64", "data": [1.0, 2.00001]},
     True, ""),
    ({"__array__": [2], "dtype": "float32", "data": [1.0, 2.0]}, 3.0, False, "expected a tensor"),
    (1.5, 1.5000001, True, ""),
    ([1, 2], [1, 2, 3], False, "expected 2 items"),
    ("relu", "relu", True, ""),
    (True, 1, False, "expected True"),
])
def test_values_are_compared_with_tolerance_and_explained(expected, actual, ok, message):
    passed, text = compare_values(expected, actual, 1e-4, 1e-6)
    assert passed is ok and message in text
