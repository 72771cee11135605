"""Text and program-output answers compare what the student meant, not how their keyboard encoded it."""
from __future__ import annotations

from quizbank.checking import check

PUBLIC = {"kind": "short", "answer_format": "text"}
TEXT = {"format": "text"}


def test_an_accent_typed_as_one_code_point_matches_an_accent_typed_as_a_combining_mark():
    assert check(PUBLIC, {"answer": ["cafe\u0301"]}, TEXT, "caf\u00e9").score == 1.0
    assert check(PUBLIC, {"answer": ["caf\u00e9"]}, TEXT, "CAFE\u0301").score == 1.0


def test_full_width_letters_smart_quotes_and_invisible_characters_do_not_change_the_answer():
    assert check(PUBLIC, {"answer": ["ReLU"]}, TEXT, "ＲｅＬＵ").score == 1.0
    assert check(PUBLIC, {"answer": ["it's"]}, TEXT, "it’s").score == 1.0
    assert check(PUBLIC, {"answer": ["softmax"]}, TEXT, "soft\u00admax\u200b").score == 1.0
    assert check(PUBLIC, {"answer": ["cross-entropy"]}, TEXT, "cross–entropy").score == 1.0


def test_case_folding_handles_letters_without_a_simple_lowercase():
    assert check(PUBLIC, {"answer": ["strasse"]}, TEXT, "STRAẞE").score == 1.0


def test_a_case_sensitive_answer_is_still_unicode_normalised():
    config = {"format": "text", "case_sensitive": True}
    assert check(PUBLIC, {"answer": ["Café"]}, config, "Cafe\u0301").score == 1.0
    assert check(PUBLIC, {"answer": ["Café"]}, config, "café").score == 0.0


def test_surrounding_punctuation_counts_when_the_question_keeps_it():
    assert check(PUBLIC, {"answer": ["ReLU"]}, TEXT, "ReLU?").score == 1.0
    assert check(PUBLIC, {"answer": ["ReLU"]}, {"format": "text", "strip_punctuation": False}, "ReLU.").score == 0.0


def test_a_single_accepted_string_works_like_a_list_of_one():
    assert check(PUBLIC, {"answer": "ReLU"}, TEXT, "relu").score == 1.0


def test_program_output_is_compared_after_canonical_unicode_normalisation():
    result = check({"kind": "output"}, {"answer": "caf\u00e9\r\n"}, {}, "cafe\u0301\n\n")
    assert result.score == 1.0
