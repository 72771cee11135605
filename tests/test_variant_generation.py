"""Each kind of template turns (spec, seed) into a variant whose answer was computed by running its code."""
from __future__ import annotations

import math

import pytest
import torch

from quizbank.engine import generate
from tests.specs import (COMPLETION, CONV_MCQ, MANUAL_SHORT, OUTPUT_PREDICTION, SHAPE_SHORT, SOFTMAX_SHORT,
                         TEXT_SHORT)


def test_an_mcq_variant_has_the_computed_answer_among_shuffled_named_misconceptions():
    variant = generate(CONV_MCQ, seed=4)
    params = variant.key["params"]
    h, k, s, p = params["h"], params["k"], params["s"], params["p"]
    expected = (h + 2 * p - k) // s + 1
    options = [o["text"] for o in variant.public["options"]]
    assert options[variant.key["correct_index"]] == str(expected)
    assert sorted(variant.key["option_sources"]) == sorted(
        ["correct", "misconception:ignores padding", "misconception:ignores stride",
         "misconception:uses the kernel size as the stride"])
    assert len(set(options)) == 4
    assert f"{h}\\times{h}" in variant.public["stem_html"]


def test_mcq_options_are_shuffled_differently_across_seeds():
    positions = {generate(CONV_MCQ, seed=seed).key["correct_index"] for seed in range(12)}
    assert len(positions) > 1


def test_a_numeric_short_answer_is_the_softmax_torch_computes():
    variant = generate(SOFTMAX_SHORT, seed=7)
    logits = variant.key["params"]["logits"]
    exps = [math.exp(x) for x in logits]
    assert variant.key["answer"] == pytest.approx(exps[0] / sum(exps), rel=1e-6)
    assert variant.public["answer_format"] == "numeric"
    assert "answer" not in variant.public


def test_a_shape_answer_is_a_list_of_dimensions():
    variant = generate(SHAPE_SHORT, seed=2)
    params = variant.key["params"]
    assert variant.key["answer"] == [params["n"], params["k"]]


def test_a_text_answer_keeps_every_accepted_spelling():
    assert generate(TEXT_SHORT, seed=0).key["answer"] == ["ReLU", "rectified linear unit"]


def test_a_manual_answer_carries_its_rubric_for_graders_only():
    variant = generate(MANUAL_SHORT, seed=1)
    assert variant.key["rubric"].startswith("Mentions expected value")
    assert "rubric" not in str(variant.public)


def test_the_output_answer_is_what_the_shown_program_really_prints():
    variant = generate(OUTPUT_PREDICTION, seed=3)
    a, b = variant.key["params"]["a"], variant.key["params"]["b"]
    assert variant.public["program"].startswith("import torch\nx = torch.arange(")
    expected_sum = sum(range(a * b))
    assert variant.key["answer"] == f"{torch.Size([a, b])}\n{expected_sum}"
    assert "highlight" in variant.public["program_html"]


def test_a_completion_variant_shows_the_scaffold_and_keeps_the_reference_values_secret():
    variant = generate(COMPLETION, seed=5)
    assert variant.public["starter"].strip() == "return x"
    assert variant.public["visible_tests"] == ["test_positive_values_pass"]
    names = [t["name"] for t in variant.key["expected_tests"]]
    assert names == ["test_negative_values_become_zero", "test_random_values", "test_positive_values_pass"]
    negative = variant.key["expected_tests"][0]["value"]
    assert negative["__array__"] == [variant.key["params"]["n"]] and set(negative["data"]) == {0.0}
    assert "expected_tests" not in variant.public


def test_math_in_the_stem_is_left_for_katex_and_protected_from_markdown():
    stem_html = generate(CONV_MCQ, seed=0).public["stem_html"]
    assert '<span class="math inline">\\(' in stem_html
    assert "<em>" not in stem_html


def test_an_mcq_explanation_can_show_the_correct_option_exactly_as_displayed():
    from dataclasses import replace

    spec = replace(CONV_MCQ, solution="answer = (h + 2 * p - k) / s + 1.0 / 3\n",
                   misconceptions="misconceptions = {'a': answer + 1, 'b': answer + 2}\n",
                   explanation="The answer is {{ answer_text }}.")
    variant = generate(spec, seed=1)
    shown = variant.public["options"][variant.key["correct_index"]]["text"]
    assert variant.key["explanation_md"] == f"The answer is {shown}." and len(shown) < 8
