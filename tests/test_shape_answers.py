"""Shape answers: torch, tuple, list and 3x4 spellings are read; each malformed one names its real problem."""
from __future__ import annotations

import pytest

from quizbank.checking import CheckResult, check

PUBLIC = {"kind": "short", "answer_format": "shape"}
SHAPE = {"format": "shape"}


def grade(response: str, answer: list[int]) -> CheckResult:
    return check(PUBLIC, {"answer": answer}, SHAPE, response)


@pytest.mark.parametrize("response", ["torch.Size((3, 4))", "torch.Size([3, 4])", "(3, 4)", "[3,4]", "3x4",
                                      "3 × 4", "3, 4", "(3, 4,)", "Size([3, 4])", "torch.Size(3, 4)", "（３，４）"])
def test_every_common_spelling_of_a_two_dimensional_shape_is_read(response):
    assert grade(response, [3, 4]).score == 1.0


@pytest.mark.parametrize("response, answer", [("(3,)", [3]), ("()", []), ("[]", []), ("torch.Size([])", []),
                                              ("5", [5]), ("3 x 4 x 5", [3, 4, 5])])
def test_one_and_zero_dimensional_shapes_are_read(response, answer):
    assert grade(response, answer).score == 1.0


@pytest.mark.parametrize("response, problem", [
    ("(3,4", "unclosed '('"),
    ("3,4)", "')' with no '('"),
    ("(3, 4]", "opens with '(' but closes with ']'"),
    ("{3, 4}", "braces"),
    ("(3.5, 4)", "'3.5' is not a whole number"),
    ("(-1, 4)", "'-1' is negative"),
    ("(a, b)", "'a' is not a dimension"),
    ("((3, 4))", "brackets inside brackets"),
    ("(3, 4) x", "text outside the brackets"),
    ("(3,,4)", "empty dimension"),
    ("3 4", "separate the dimensions with commas"),
    ("(" + ",".join(["1"] * 70) + ")", "70 dimensions"),
    ("(" + "5" * 5000 + ")", "too long"),
    ("(" + "1" * 30 + ", 2)", "too large"),
])
def test_a_malformed_shape_names_its_real_problem(response, problem):
    result = grade(response, [3, 4])
    assert (result.valid, result.score) == (False, None) and problem in result.feedback
