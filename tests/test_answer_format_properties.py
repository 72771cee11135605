"""For every answer format, any text up to the response limit is scored or invalid-with-a-message, never an
error; an invalid answer's grading message is the autosave message; and readability never depends on the key."""
from __future__ import annotations

import inspect
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizbank.checking import (MAX_RESPONSE_CHARS, CheckResult, FormatVerdict, check, format_verdict, parse_choice,
                               parse_integer, parse_number, parse_shape)

PROPERTY = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example, HealthCheck.filter_too_much])

SHORT = {"kind": "short"}
NUMERIC, NUMERIC_PERCENT = {"format": "numeric"}, {"format": "numeric", "percent": True}
MCQ = {"kind": "mcq", "options": [{"text": t} for t in "abcd"]}
COMPLETION = {"kind": "completion", "starter": "return x\n"}

long_digits = st.text(alphabet="0123456789", min_size=1, max_size=6000)
few_digits = st.text(alphabet="0123456789", min_size=1, max_size=12)
signs = st.sampled_from(["", "-", "+", "−", "⁻"])
joiners = st.sampled_from(["e", "E", "e+", "e-", "x10^", " × 10^", "*10**", "·10^", "\\times10^{", "x 10^", "/", "%",
                           ",", ".", ", ", "_", " ", "⁸"])
number_like = st.builds(
    lambda sign, whole, point, part, joiner, sign2, power, tail: f"{sign}{whole}{point}{part}{joiner}{sign2}{power}{tail}",
    signs, st.one_of(few_digits, long_digits), st.sampled_from(["", ".", ",", ",000"]),
    st.one_of(st.just(""), few_digits, long_digits), joiners, signs, st.one_of(few_digits, long_digits),
    st.sampled_from(["", "}", "%", " m", ".", "$", " kg", "e"]),
)
bracket_soup = st.lists(st.sampled_from(list("()[]{},x×* 0123456789-.") + ["torch.Size", "Size", "torch."]),
                        max_size=3000).map("".join)
nested = st.builds(lambda opened, inner, closed: "(" * opened + inner + ")" * closed,
                   st.integers(0, 6000), st.sampled_from(["", "3, 4", "3,", "-1"]), st.integers(0, 6000))
odd_unicode = st.text(alphabet=st.sampled_from(list("−⁻⁸⁰¹²³％，．（）　\u00a0\u200b\ufeff\u0301\u00adﷺ﷽ẞßİıé\r\n\t")
                                               + ["\ud800", "\x00", "e", "1", "3", "x", "^"]), max_size=3000)
repeated = st.builds(lambda piece, times: (piece * times)[:MAX_RESPONSE_CHARS + 20],
                     st.text(min_size=1, max_size=8), st.integers(0, 6000))
code_like = st.lists(st.sampled_from(["return", " ", "x", "(", ")", ":", "\n", "    ", "\t", "def ", "if ", "=", "'",
                                      '"', '"""', "#", "\\", "lambda", "[", "]", "{", "}", "1", "f'{", "yield", "await ",
                                      "\r\n", "-", "+", "not ", ".a"]), max_size=5000).map("".join)
any_answer = st.one_of(st.text(max_size=300), st.text(max_size=MAX_RESPONSE_CHARS + 10), number_like, bracket_soup,
                       nested, odd_unicode, repeated, code_like)


def assert_consistent(public: dict[str, Any], config: dict[str, Any], response: str,
                      keys: list[dict[str, Any]]) -> list[CheckResult]:
    verdict = format_verdict(public, config, response)
    assert isinstance(verdict, FormatVerdict)
    results = [check(public, key, config, response) for key in keys]
    for result in results:
        assert isinstance(result, CheckResult)
        assert result.score is None or 0.0 <= result.score <= 1.0
        if verdict.empty:
            assert (result.valid, result.score) == (True, 0.0)
        elif verdict.valid or verdict.advisory:
            assert result.valid
        else:
            assert verdict.message
            assert (result.valid, result.score, result.feedback) == (False, None, verdict.message)
    assert len({result.valid for result in results}) == 1
    return results


def readable(public: dict[str, Any], config: dict[str, Any], response: str) -> bool:
    verdict = format_verdict(public, config, response)
    return verdict.valid and not verdict.empty


def test_format_verdict_cannot_see_the_answer_key():
    assert list(inspect.signature(format_verdict).parameters) == ["public", "answer_config", "response"]


@PROPERTY
@given(any_answer, st.sampled_from([NUMERIC, NUMERIC_PERCENT]))
def test_any_text_in_a_numeric_field_is_scored_or_invalid_with_the_autosave_message(response, config):
    value, _ = parse_number(response, percent=config.get("percent") is True)
    keys = [{"answer": 1.0}] if value is None else [{"answer": value}, {"answer": -abs(value) - 1.0}]
    results = assert_consistent({**SHORT, "answer_format": "numeric"}, config, response, keys)
    if value is not None and readable(SHORT, config, response):
        assert results[0].score == 1.0


@PROPERTY
@given(any_answer)
def test_any_text_in_an_integer_field_is_scored_or_invalid_with_the_autosave_message(response):
    config = {"format": "integer"}
    value, _ = parse_integer(response)
    keys = [{"answer": 1}] if value is None else [{"answer": value}, {"answer": value + 1}]
    results = assert_consistent({**SHORT, "answer_format": "integer"}, config, response, keys)
    if value is not None and readable(SHORT, config, response):
        assert results[0].score == 1.0


@PROPERTY
@given(any_answer)
def test_any_text_in_a_shape_field_is_scored_or_invalid_with_the_autosave_message(response):
    config = {"format": "shape"}
    dims, _ = parse_shape(response)
    keys = [{"answer": [3, 4]}] if dims is None else [{"answer": dims}, {"answer": [*dims, 1]}]
    results = assert_consistent({**SHORT, "answer_format": "shape"}, config, response, keys)
    if dims is not None and readable(SHORT, config, response):
        assert results[0].score == 1.0


@PROPERTY
@given(any_answer, st.sampled_from([{}, {"case_sensitive": True}, {"strip_punctuation": False}]))
def test_any_text_in_a_text_field_is_scored_and_matches_itself(response, options):
    config = {"format": "text", **options}
    results = assert_consistent({**SHORT, "answer_format": "text"}, config, response,
                                [{"answer": [response]}, {"answer": ["\x00 not this"]}])
    if readable(SHORT, config, response):
        assert results[0].score == 1.0


@PROPERTY
@given(any_answer)
def test_any_predicted_output_is_scored_and_matches_itself(response):
    results = assert_consistent({"kind": "output"}, {}, response,
                                [{"answer": response}, {"answer": response + "\nanother line"}])
    if readable({"kind": "output"}, {}, response):
        assert results[0].score == 1.0


@PROPERTY
@given(st.one_of(any_answer, st.integers(-5, 10).map(str)))
def test_any_choice_is_scored_or_invalid_with_the_autosave_message(response):
    chosen, _ = parse_choice(response, 4)
    keys = [{"correct_index": 0}] if chosen is None else [{"correct_index": chosen}, {"correct_index": (chosen + 1) % 4}]
    results = assert_consistent(MCQ, {}, response, keys)
    if chosen is not None and readable(MCQ, {}, response):
        assert results[0].score == 1.0


@PROPERTY
@given(st.one_of(code_like, any_answer))
def test_any_code_gets_an_advisory_verdict_and_still_goes_to_the_runner(response):
    verdict = format_verdict(COMPLETION, {}, response)
    (result,) = assert_consistent(COMPLETION, {}, response, [{}])
    if verdict.advisory:
        assert verdict.message.startswith("Line ") or "Python" in verdict.message
    if not verdict.empty and (verdict.valid or verdict.advisory):
        assert result.pending == "runner"


@PROPERTY
@given(any_answer, st.one_of(st.none(), st.integers(1, 500)))
def test_any_essay_gets_a_word_count_verdict_and_still_goes_to_a_grader(response, max_words):
    public = {**SHORT, "answer_format": "manual", "max_words": max_words}
    config = {"format": "manual"}
    verdict = format_verdict(public, config, response)
    (result,) = assert_consistent(public, config, response, [{"answer": "", "rubric": "r"}])
    if verdict.advisory:
        assert verdict.message == f"{len(response.split())} words: the limit is {max_words}."
    if not verdict.empty and (verdict.valid or verdict.advisory):
        assert result.pending == "manual"
