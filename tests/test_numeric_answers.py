"""Numeric answers: every way students write a number is read, and every unreadable one says what to change."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizbank.checking import CheckResult, check, format_verdict, parse_number

PUBLIC = {"kind": "short", "answer_format": "numeric"}
NUMERIC = {"format": "numeric"}


def grade(response: str, answer: float = 3e-8, config: dict | None = None) -> CheckResult:
    return check(PUBLIC, {"answer": answer}, config or NUMERIC, response)


@pytest.mark.parametrize("response", ["3*10**-8", "3×10^-8", "3e-8", "3 x 10^-8", "3·10^-8", r"3\times10^{-8}",
                                      "3E-8", "3.0 × 10^-8", "3⋅10^-8", "3×10⁻⁸", r"$3 \times 10^{-8}$", "3x10^-8",
                                      "0.00000003", "３e-8"])
def test_every_common_spelling_of_scientific_notation_is_read(response):
    assert grade(response).score == 1.0


@pytest.mark.parametrize("response, answer", [("10^-3", 0.001), ("-10^3", -1000.0), ("3/4", 0.75), ("−0.5", -0.5),
                                              ("-3/-4", 0.75), ("0.25.", 0.25), (".5", 0.5), ("5.", 5.0)])
def test_powers_of_ten_fractions_and_unicode_minus_are_read(response, answer):
    assert grade(response, answer).score == 1.0


@pytest.mark.parametrize("response", ["1x10^999", "2 × 10^400", "1e400000", "1e1000000", "9" * 400 + "/1",
                                      "1" * 5000 + "/1", "1" * 5000, "1e-400"])
def test_a_number_too_large_small_or_long_is_invalid_with_a_message_not_an_error(response):
    result = grade(response)
    assert (result.valid, result.score) == (False, None)
    assert any(word in result.feedback for word in ("too large", "too small", "too long"))


@pytest.mark.parametrize("response, advice", [
    ("abc", "is not a number"),
    ("16,56", "decimal comma; write it with a decimal point, e.g. 16.56"),
    ("inf", "finite"),
    ("3 4", "space between digits"),
    ("3e", "no exponent after the 'e'"),
    ("3x10-8", "with ^ or **"),
    ("x = 3.5", "enter only the number, e.g. 3.5"),
    ("sqrt(2)", "looks like a calculation"),
    ("1/0", "Division by zero"),
])
def test_an_unreadable_number_is_invalid_and_says_what_to_change(response, advice):
    result = grade(response)
    assert not result.valid and advice in result.feedback


def test_a_thousands_separator_is_refused_without_suggesting_a_decimal_point():
    result = grade("1,000", 1000.0)
    assert not result.valid and "thousands separator" in result.feedback
    assert "1.000" not in result.feedback
    assert "thousands separators" in grade("12,345,678", 12345678.0).feedback


@pytest.mark.parametrize("response, hint", [("3.14 m", "enter only the number, e.g. 3.14"), ("3 kg", "unit")])
def test_a_unit_after_the_number_is_named_in_the_message(response, hint):
    result = grade(response, 3.14)
    assert not result.valid and hint in result.feedback


def test_a_percent_sign_is_explained_when_the_question_does_not_read_percentages():
    result = grade("93%", 0.93)
    assert not result.valid
    assert "percent sign" in result.feedback and "93" in result.feedback and "0.93" in result.feedback


@pytest.mark.parametrize("response", ["93%", "93 %", "0.93", "93/100"])
def test_a_question_that_opts_in_reads_a_percent_as_a_fraction(response):
    assert grade(response, 0.93, {"format": "numeric", "percent": True}).score == 1.0


def test_an_answer_exactly_on_the_relative_tolerance_boundary_is_accepted():
    config = {"format": "numeric", "rtol": 0.1, "atol": 0}
    assert grade("6.3", 7.0, config).score == 1.0
    assert grade("7.7", 7.0, config).score == 1.0
    assert grade("7.71", 7.0, config).score == 0.0
    assert grade("6.29", 7.0, config).score == 0.0


def test_an_answer_exactly_on_the_absolute_tolerance_boundary_is_accepted():
    config = {"format": "numeric", "rtol": 0, "atol": 0.2}
    assert grade("0.3", 0.1, config).score == 1.0
    assert grade("-0.1", 0.1, config).score == 1.0
    assert grade("0.30001", 0.1, config).score == 0.0


def test_the_grading_message_for_an_unreadable_number_is_the_autosave_message():
    for response in ["abc", "93%", "1,000", "3.14 m", "1x10^999"]:
        assert grade(response).feedback == format_verdict(PUBLIC, NUMERIC, response).message


@settings(max_examples=200, deadline=None, database=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_as_python_prints_it_is_read_back_exactly(value):
    assert parse_number(repr(value)) == (value, "")
    assert parse_number(f"{value:e}".replace("e", " × 10^"))[0] == pytest.approx(float(f"{value:e}"), rel=1e-15)
