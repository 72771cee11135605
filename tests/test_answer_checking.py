"""Checking a response never crashes: it scores it, or says it is invalid and why."""
from __future__ import annotations

import pytest

from quizbank.checking import (check, check_integer, check_numeric, check_output, check_shape, check_text,
                               parse_number, parse_shape)

MCQ_PUBLIC = {"kind": "mcq", "options": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}
MCQ_KEY = {"correct_index": 2}


def short(fmt: str) -> dict:
    return {"kind": "short", "answer_format": fmt}


def test_the_chosen_correct_option_scores_one_and_another_scores_zero():
    assert check(MCQ_PUBLIC, MCQ_KEY, {}, "2").score == 1.0
    assert check(MCQ_PUBLIC, MCQ_KEY, {}, "0").score == 0.0


@pytest.mark.parametrize("response", ["7", "-1", "b", "1.5"])
def test_an_option_that_does_not_exist_is_invalid(response):
    result = check(MCQ_PUBLIC, MCQ_KEY, {}, response)
    assert not result.valid and result.score is None and "Choose one" in result.feedback


@pytest.mark.parametrize("text, value", [("0.25", 0.25), ("-3", -3.0), ("1.5e-3", 0.0015), ("3/4", 0.75),
                                         (" 2.5 × 10^-3 ", 0.0025), ("−0.5", -0.5), (".5", 0.5)])
def test_numbers_are_read_as_students_write_them(text, value):
    assert parse_number(text)[0] == pytest.approx(value)


@pytest.mark.parametrize("text, message", [("abc", "is not a number"), ("0,25", "decimal comma"),
                                           ("1/0", "Division by zero"), ("nan", "is not a number"),
                                           ("", "Enter a number")])
def test_unreadable_numbers_are_invalid_with_a_message(text, message):
    value, error = parse_number(text)
    assert value is None and message in error


def test_a_numeric_answer_within_relative_tolerance_is_right_and_outside_is_wrong():
    assert check_numeric("0.3320", 0.3318, {"rtol": 0.01}).score == 1.0
    assert check_numeric("0.35", 0.3318, {"rtol": 0.01}).score == 0.0


def test_the_default_tolerance_is_one_percent():
    assert check_numeric("101", 100.0, {}).score == 1.0
    assert check_numeric("102", 100.0, {}).score == 0.0


def test_absolute_tolerance_handles_answers_near_zero():
    assert check_numeric("0.0004", 0.0, {"rtol": 0, "atol": 0.0005}).score == 1.0
    assert check_numeric("0.0006", 0.0, {"rtol": 0, "atol": 0.0005}).score == 0.0


def test_significant_figures_compare_to_the_requested_precision():
    assert check_numeric("2.30", 2.3026, {"sigfigs": 3}).score == 1.0
    assert check_numeric("2.31", 2.3026, {"sigfigs": 3}).score == 0.0
    assert check_numeric("2.3", 2.3026, {"sigfigs": 2}).score == 1.0


def test_a_numeric_response_that_cannot_be_read_is_invalid_not_zero():
    result = check(short("numeric"), {"answer": 1.0}, {"format": "numeric"}, "abc")
    assert result.valid is False and result.score is None and "is not a number" in result.feedback


def test_an_empty_response_is_a_valid_unanswered_zero():
    result = check(short("numeric"), {"answer": 1.0}, {"format": "numeric"}, "  ")
    assert result.valid and result.score == 0.0


@pytest.mark.parametrize("text", ["12", "12.0", " 12 ", "1_2"])
def test_integers_accept_whole_values(text):
    assert check_integer(text, 12).score == 1.0


def test_a_fractional_integer_answer_is_invalid():
    result = check_integer("12.5", 12)
    assert not result.valid and "whole number" in result.feedback


@pytest.mark.parametrize("text", ["(3, 4)", "[3,4]", "torch.Size([3, 4])", "3x4", "3 × 4", "3, 4", "(3, 4,)"])
def test_shapes_are_read_in_every_common_spelling(text):
    assert parse_shape(text)[0] == [3, 4]


def test_a_one_dimensional_shape_keeps_its_trailing_comma_meaning():
    assert parse_shape("(5,)")[0] == [5]


@pytest.mark.parametrize("text", ["(3,4", "(a, b)", "3.5, 4", "{3, 4}"])
def test_a_malformed_shape_is_invalid_with_a_message(text):
    result = check_shape(text, [3, 4])
    assert not result.valid and result.feedback


def test_a_shape_in_the_wrong_order_is_wrong():
    assert check_shape("(4, 3)", [3, 4]).score == 0.0


def test_text_answers_ignore_case_spacing_and_trailing_punctuation_by_default():
    assert check_text("  rectified   LINEAR unit. ", ["ReLU", "rectified linear unit"], {}).score == 1.0
    assert check_text("sigmoid", ["ReLU"], {}).score == 0.0


def test_case_sensitive_text_answers_keep_case():
    assert check_text("relu", ["ReLU"], {"case_sensitive": True}).score == 0.0


def test_output_predictions_ignore_trailing_whitespace_but_not_content():
    assert check_output("torch.Size([2, 3])   \n15\n\n", "torch.Size([2, 3])\n15").score == 1.0
    wrong = check_output("torch.Size([2, 3])\n16", "torch.Size([2, 3])\n15")
    assert wrong.score == 0.0 and "Line 2" in wrong.feedback


def test_manual_and_code_answers_wait_for_a_grader_or_the_runner():
    manual = check(short("manual"), {"answer": ""}, {"format": "manual"}, "because...")
    code = check({"kind": "completion"}, {}, {}, "return x")
    assert (manual.pending, manual.score) == ("manual", None)
    assert (code.pending, code.score) == ("runner", None)


def test_a_response_that_is_absurdly_long_is_invalid():
    result = check(short("numeric"), {"answer": 1.0}, {"format": "numeric"}, "1" * 30_000)
    assert not result.valid
