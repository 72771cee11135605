"""Code and essays get advice on save (a syntax error, a word count over the limit) but are still graded."""
from __future__ import annotations

from pathlib import Path

import pytest

from quizbank.checking import MAX_RESPONSE_CHARS, FormatVerdict, check, format_verdict
from quizbank.notebooks import find_notebooks, read_notebook

COMPLETION = {"kind": "completion", "starter": "return x\n"}
ESSAY = {"kind": "short", "answer_format": "manual", "max_words": 5}
MANUAL = {"format": "manual"}
BANK = Path(__file__).resolve().parent.parent / "bank"


def bank_references() -> list[tuple[str, str]]:
    specs = [read_notebook(path) for path in find_notebooks(BANK)]
    return [(spec.slug, spec.reference) for spec in specs if spec.kind == "completion"]


@pytest.mark.parametrize("slug, reference", bank_references())
def test_every_reference_solution_in_the_bank_is_judged_readable(slug, reference):
    assert format_verdict(COMPLETION, {}, reference).valid, slug


@pytest.mark.parametrize("fragment", ["return 2 * x\n", "    return 2 * x\n", "\tif x:\n\t\treturn 1\n\treturn 0",
                                      "yield x", "# nothing yet", "total = 0\r\nfor v in x:\r\n    total += v\r\n"])
def test_an_indented_or_bare_return_fragment_is_readable(fragment):
    assert format_verdict(COMPLETION, {}, fragment).valid


@pytest.mark.parametrize("fragment, message", [
    ("y = 1\nz = 2\nw = = 3\n", "Line 3: invalid syntax"),
    ("x = (1,\ny = 2\n", "Line 1: '(' was never closed"),
    ("a = 1\n  b = 2\n", "Line 2: unexpected indent"),
    ("\n\nreturn (", "Line 3: '(' was never closed"),
])
def test_a_syntax_error_is_reported_with_the_line_of_the_students_own_code(fragment, message):
    verdict = format_verdict(COMPLETION, {}, fragment)
    assert (verdict.valid, verdict.advisory) == (False, True) and verdict.message.startswith(message)


@pytest.mark.parametrize("fragment", ["x = " + "1+" * 9000 + "1", "(" * 5000, "-" * 19_000 + "1", "\x00", "\ud800",
                                      "1" * 5000, "not " * 4000 + "x"])
def test_code_python_cannot_read_gets_a_message_instead_of_an_error(fragment):
    verdict = format_verdict(COMPLETION, {}, fragment)
    assert not verdict.valid and verdict.advisory and verdict.message


def test_code_with_a_syntax_error_still_goes_to_the_runner():
    result = check(COMPLETION, {}, {}, "def f(:\n")
    assert (result.valid, result.pending, result.score) == (True, "runner", None)


def test_code_longer_than_the_limit_is_invalid_and_not_sent_to_the_runner():
    result = check(COMPLETION, {}, {}, "x = 1\n" * (MAX_RESPONSE_CHARS // 6 + 1))
    assert (result.valid, result.pending) == (False, "")


def test_windows_line_endings_do_not_count_twice_towards_the_limit():
    fragment = "x = 1\r\n" * (MAX_RESPONSE_CHARS // 6)
    assert len(fragment) > MAX_RESPONSE_CHARS
    assert check(COMPLETION, {}, {}, fragment).pending == "runner"


def test_an_essay_over_its_word_limit_is_told_its_word_count():
    verdict = format_verdict(ESSAY, MANUAL, "one two three four five six seven")
    assert (verdict.valid, verdict.advisory, verdict.message) == (False, True, "7 words: the limit is 5.")


def test_an_essay_over_its_word_limit_still_goes_to_a_grader_with_the_count_noted():
    result = check(ESSAY, {"answer": ""}, MANUAL, "one two three four five six seven")
    assert (result.valid, result.pending, result.score) == (True, "manual", None)
    assert "7 words: the limit is 5." in result.feedback


def test_an_essay_within_its_limit_or_without_one_has_no_advice():
    assert format_verdict(ESSAY, MANUAL, "one two three four five") == FormatVerdict(valid=True)
    assert format_verdict({"kind": "short", "max_words": None}, MANUAL, "word " * 3000) == FormatVerdict(valid=True)
