"""A broken template shows its author the part and the line where it broke."""
from __future__ import annotations

import pytest

from quizbank.engine import generate
from quizbank.selftest import selftest
from quizbank.spec import TemplateError
from tests.specs import CONV_MCQ, COMPLETION, OUTPUT_PREDICTION, SOFTMAX_SHORT, edited


def problem_of(spec, seed=0):
    with pytest.raises(TemplateError) as caught:
        generate(spec, seed)
    return caught.value.problems[0]


def test_a_syntax_error_names_the_cell_and_line():
    problem = problem_of(edited(SOFTMAX_SHORT, solution="x = 1\nanswer = (\n"))
    assert (problem.part, problem.line) == ("solution", 2)
    assert "syntax error" in problem.message


def test_an_exception_names_the_authors_cell_and_line():
    problem = problem_of(edited(SOFTMAX_SHORT, solution="a = 1\nb = 0\nanswer = a / b\n"))
    assert (problem.part, problem.line) == ("solution", 3)
    assert "ZeroDivisionError" in problem.message


def test_an_undefined_name_in_the_stem_is_located_in_the_stem():
    problem = problem_of(edited(SOFTMAX_SHORT, stem="Logits:\n{{ logits }}\n{{ temperature }}\n"))
    assert problem.part == "stem" and problem.line == 3
    assert "temperature" in problem.message


def test_a_solution_that_never_sets_answer_is_reported():
    problem = problem_of(edited(SOFTMAX_SHORT, solution="result = 1\n"))
    assert problem.part == "solution" and "answer" in problem.message


def test_a_nan_answer_is_reported():
    problem = problem_of(edited(SOFTMAX_SHORT, solution="answer = float('nan')\n"))
    assert "nan" in problem.message.lower()


def test_an_infinite_loop_times_out_instead_of_hanging():
    spec = edited(SOFTMAX_SHORT, solution="while True:\n    pass\nanswer = 1.0\n", limits={"wall_seconds": 1, "cpu_seconds": 1})
    problem = problem_of(spec)
    assert problem.part == "runtime" and "timed out" in problem.message


def test_colliding_mcq_options_are_an_error_naming_both_sources():
    spec = edited(CONV_MCQ, misconceptions="misconceptions = {'copy of the answer': (h + 2 * p - k) // s + 1, 'other': 1}\n")
    problem = problem_of(spec)
    assert "options collide" in problem.message and "copy of the answer" in problem.message


def test_a_shown_program_that_raises_is_a_template_error_with_its_line():
    spec = edited(OUTPUT_PREDICTION, program="import torch\nx = torch.zeros(2, 3)\nprint(x.view(4))\n")
    problem = problem_of(spec)
    assert problem.part == "program" and problem.line == 3 and "RuntimeError" in problem.message


def test_a_reference_solution_that_fails_its_own_tests_is_reported():
    problem = problem_of(edited(COMPLETION, reference="return torch.clamp(x, min=0) + undefined_name\n"))
    assert problem.part == "reference" and "NameError" in problem.message


def test_tests_that_rely_on_the_solution_cell_are_reported_since_grading_runs_without_it():
    spec = edited(COMPLETION, solution="_limit = n * 2\n",
                  tests="def test_clamped():\n    return relu(torch.arange(-1.0, _limit))\n")
    problem = problem_of(spec)
    assert problem.part == "tests" and "`_limit` is defined only in the solution cell" in problem.message


def test_a_public_test_that_calls_a_hidden_test_is_reported_since_they_run_apart():
    spec = edited(COMPLETION, public_tests="def test_positive_values_pass():\n    return test_random_values()\n")
    problem = problem_of(spec)
    assert problem.part == "public_tests" and "calls the hidden test `test_random_values`" in problem.message


def test_the_self_test_summarises_failures_by_kind_with_their_seeds():
    spec = edited(SOFTMAX_SHORT, solution="assert seed % 2 == 0, 'odd seed'\nanswer = 1.0\n")
    report = selftest(spec, seeds=6)
    assert not report.ok
    failure = report.failures[0]
    assert failure.category == "exception" and failure.seeds == (1, 3, 5) and "line 1" in failure.message
    assert report.variants_ok == 3


def test_the_self_test_flags_a_program_that_prints_a_negative_zero():
    spec = edited(OUTPUT_PREDICTION, program="x = -0.0 * {{ a }}\nprint(x)\n")
    report = selftest(spec, seeds=2, determinism_sample=0)
    assert [f.category for f in report.failures] == ["ambiguous"] and report.failures[0].seeds == (0, 1)
