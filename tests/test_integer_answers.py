"""Whole-number answers: commas only as thousands separators, and no input that takes long to read."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizbank.checking import CheckResult, check, parse_integer

PUBLIC = {"kind": "short", "answer_format": "integer"}
INTEGER = {"format": "integer"}


def grade(response: str, answer: int) -> CheckResult:
    return check(PUBLIC, {"answer": answer}, INTEGER, response)


@pytest.mark.parametrize("response", ["1,1", "0,0", "1,00", "1,0000", ",100", "100,", "1,000.0"])
def test_a_comma_that_is_not_a_thousands_separator_is_refused(response):
    result = grade(response, 11)
    assert not result.valid and "not a thousands separator" in result.feedback


def test_a_comma_between_digits_never_scores_as_the_digits_run_together():
    assert not grade("1,1", 11).valid
    assert not grade("0,0", 0).valid


@pytest.mark.parametrize("response, answer", [("1,000", 1000), ("12,345,678", 12345678), ("-1,000", -1000),
                                              ("1_000", 1000), ("1e3", 1000), ("3 × 10^6", 3_000_000),
                                              ("12.0", 12), ("１２", 12), ("−4", -4)])
def test_correctly_grouped_thousands_and_exact_powers_of_ten_are_whole_numbers(response, answer):
    assert grade(response, answer).score == 1.0


@pytest.mark.parametrize("response", ["1e400000", "1e1000000", "1" * 5000, "9" * 400 + "/1"])
def test_a_huge_integer_is_invalid_at_once_instead_of_being_computed(response):
    result = grade(response, 1)
    assert not result.valid and ("too large" in result.feedback or "too long" in result.feedback)


@pytest.mark.parametrize("response, hint", [("12.5", "not a whole number"), ("6/2", "fraction"),
                                            ("1 000", "space between digits"), ("3 m", "unit"),
                                            ("99%", "percent sign"), ("abc", "not a whole number")])
def test_an_unreadable_integer_says_what_to_change(response, hint):
    result = grade(response, 12)
    assert not result.valid and hint in result.feedback


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=-(10**99) + 1, max_value=10**99 - 1))
def test_any_whole_number_up_to_99_digits_is_read_plain_or_grouped_in_thousands(value):
    assert parse_integer(str(value)) == (value, "")
    assert parse_integer(f"{value:,}") == (value, "")
    assert parse_integer(f"{value:_}") == (value, "")
