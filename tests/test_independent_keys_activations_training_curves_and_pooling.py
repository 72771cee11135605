"""Lectures 5-8, second edition: activations that keep gradients alive, dead ReLU units, reading first losses and
training curves, batched accuracy, receptive fields, conv configurations and max pooling.

Every computed key is checked against an independent calculation in plain Python (math only: no torch, not the
template's own code) over a few seeds; the completion template must give full marks to another correct fragment
and less to typical mistakes; the manually graded templates must carry point-valued rubric items and a model
answer with the variant's own numbers. No database is needed: notebooks are read from disk and run through the
runner.
"""
from __future__ import annotations

import math
import re

from tests.bank_support import (assert_full_marks_only_for_the_correct_fragment, correct_option, spec_of,
                                variants)

SEEDS = range(6)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def out_size(n: int, k: int, s: int = 1, p: int = 0) -> int:
    return (n + 2 * p - k) // s + 1


# ---------------------------------------------------------------------------------------------- lecture 5

def test_activation_with_the_largest_mean_local_derivative_is_the_key():
    for p, answer, variant in variants("activation-gradient-for-preactivations", seeds=SEEDS):
        z, alpha = p["z"], p["alpha"]
        means = {
            "sigmoid": sum(sigmoid(v) * (1 - sigmoid(v)) for v in z) / len(z),
            "tanh": sum(1 - math.tanh(v) ** 2 for v in z) / len(z),
            "ReLU": sum(1.0 if v > 0 else 0.0 for v in z) / len(z),
            f"LeakyReLU (slope {alpha} for z < 0)": sum(1.0 if v > 0 else alpha for v in z) / len(z),
        }
        best = max(means, key=means.get)
        assert answer == best == correct_option(variant)
        assert sorted(means.values())[-1] >= 1.3 * sorted(means.values())[-2]


def test_leaky_relu_always_passes_at_least_as_much_gradient_as_relu_so_relu_is_never_the_key():
    keys = {answer for _, answer, _ in variants("activation-gradient-for-preactivations", seeds=range(12))}
    assert "ReLU" not in keys and len(keys) >= 2


def test_dead_unit_has_a_negative_column_of_pre_activations_and_the_model_answer_shows_it():
    for p, answer, variant in variants("dead-relu-unit-explanation", seeds=SEEDS):
        X, W, b, j = p["X"], p["W"], p["b"], p["j"]
        Z = [[sum(W[u][i] * row[i] for i in range(3)) + b[u] for u in range(3)] for row in X]
        assert Z == p["Z"]
        dead = [u for u in range(3) if all(Z[n][u] < 0 for n in range(4))]
        assert dead == [j]
        assert p["H"] == [[max(v, 0) for v in row] for row in Z]
        column = [Z[n][j] for n in range(4)]
        assert "(" + ", ".join(str(v) for v in column) + ")" in variant.key["model_answer_md"]
        assert f"Unit {j + 1}" in answer and str(column) in answer


def test_manual_templates_have_point_valued_rubric_items_and_a_model_answer():
    for slug in ("dead-relu-unit-explanation", "explain-linear-layers-collapse", "shift-conv-pool-explanation"):
        spec = spec_of(slug)
        rubric = spec.answer["rubric"]
        assert isinstance(rubric, list) and all(set(item) == {"points", "text"} for item in rubric), slug
        assert sum(item["points"] for item in rubric if item["points"] > 0) >= 4, slug
        assert spec.model_answer.strip(), slug


def test_linear_collapse_model_answer_shows_the_product_w2_w1_of_the_variant():
    for p, _, variant in variants("explain-linear-layers-collapse"):
        W1, W2 = p["W1"], p["W2"]
        M = [[sum(W2[i][k] * W1[k][j] for k in range(2)) for j in range(2)] for i in range(2)]
        shown = " \\\\ ".join(" & ".join(str(v) for v in row) for row in M)
        assert shown in variant.key["model_answer_md"]


def test_shift_model_answer_shifts_the_pooled_map_only_by_whole_pool_cells():
    for p, _, variant in variants("shift-conv-pool-explanation", seeds=SEEDS):
        d, k, text = p["d"], p["k"], variant.key["model_answer_md"]
        assert f"shifted by exactly\n{d} pixel" in text or f"shifted by exactly {d} pixel" in text
        if d % k == 0:
            assert f"{d // k} cell" in text
        else:
            assert "not an exact shifted copy" in text


# ---------------------------------------------------------------------------------------------- lectures 6-7

def test_first_loss_is_diagnosed_by_comparing_it_with_ln_c_and_b_ln_c():
    for p, answer, variant in variants("initial-loss-diagnosis", seeds=SEEDS):
        loss, C, B = float(p["printed"]), p["C"], p["B"]
        ln_c = math.log(C)
        if abs(loss - ln_c) <= 0.15 * ln_c:
            expected = "Nothing points to a bug yet"
        elif abs(loss / B - ln_c) <= 0.15 * ln_c:
            expected = "The loss is summed over the batch"
        else:
            assert loss > 3 * ln_c
            expected = "The initial logits are far too large"
        assert answer.startswith(expected) and answer == correct_option(variant)
        assert not any(o["text"].startswith("The labels are shuffled") and i == variant.key["correct_index"]
                       for i, o in enumerate(variant.public["options"]))


def test_training_curve_that_blows_up_calls_for_a_smaller_rate_and_a_flat_one_for_a_larger_rate():
    for p, answer, variant in variants("training-curve-learning-rate-fix", seeds=SEEDS):
        losses = p["losses"]
        printed = [float(line.split()[-1]) for line in p["curve_text"].splitlines()]
        assert printed == [float(f"{v:.4g}") for v in losses]
        if losses[-1] > 2 * losses[0]:
            expected = "Lower the learning rate"
        elif abs(losses[-1] - losses[0]) < 0.01 * losses[0]:
            expected = "Raise the learning rate"
            assert abs(losses[0] - math.log(p["C"])) < 0.2 * math.log(p["C"])  # flat at the untrained value
        else:
            assert all(b < a for a, b in zip(losses, losses[1:]))
            expected = "Change nothing"
        assert answer.startswith(expected) and answer == correct_option(variant)


def test_batched_accuracy_averages_over_examples_not_over_batches():
    for p, answer, _ in variants("batched-accuracy-output", seeds=SEEDS):
        logits, labels, B = p["logits"], p["labels"], p["B"]
        preds = [row.index(max(row)) for row in logits]
        batches = [list(range(i, min(i + B, len(labels)))) for i in range(0, len(labels), B)]
        hits = [sum(preds[n] == labels[n] for n in batch) for batch in batches]
        accs = [round(h / len(batch), 3) for h, batch in zip(hits, batches)]
        expected = [f"{len(batches)} ({len(batches[-1])},)", str(accs), str(round(sum(hits) / len(labels), 3)),
                    str(round(sum(accs) / len(accs), 3))]
        assert answer.split("\n") == expected
        assert expected[2] != expected[3]


# ---------------------------------------------------------------------------------------------- lecture 8

def test_receptive_field_adds_k_minus_1_times_the_product_of_earlier_strides():
    for p, answer, _ in variants("cnn-receptive-field-growth", seeds=SEEDS):
        r, jump = 1, 1
        for _kind, k, s, _pad in p["layers"]:
            r += (k - 1) * jump
            jump *= s
        assert answer == r


def test_only_the_keyed_conv_layer_produces_the_target_shape():
    pattern = re.compile(r"nn\.Conv2d\((\d+), (\d+), kernel_size=(\d+), stride=(\d+), padding=(\d+)\)")
    for p, answer, variant in variants("conv-config-for-target-shape", seeds=SEEDS):
        target = (p["target"][0], p["target"][1])
        for index, option in enumerate(variant.public["options"]):
            c_in, c_out, k, s, pad = (int(v) for v in pattern.search(option["text"]).groups())
            assert (c_in, c_out) == (p["c_in"], p["c_out"])
            shape = (out_size(p["H"], k, s, pad), out_size(p["W"], k, s, pad))
            assert (shape == target) == (index == variant.key["correct_index"]), (option["text"], shape, target)
        assert answer == correct_option(variant)


MAXPOOL_LOOPS = """
s = stride or kernel_size
C, H, W = X.shape
rows = [[float("-inf")] * (W + 2 * padding) for _ in range(H + 2 * padding)]
out = []
for c in range(C):
    grid = [r[:] for r in rows]
    for i in range(H):
        for j in range(W):
            grid[i + padding][j + padding] = float(X[c, i, j])
    n_h = (H + 2 * padding - kernel_size) // s + 1
    n_w = (W + 2 * padding - kernel_size) // s + 1
    out.append([[max(grid[i * s + a][j * s + b] for a in range(kernel_size) for b in range(kernel_size))
                 for j in range(n_w)] for i in range(n_h)])
return torch.tensor(out, dtype=X.dtype)
"""
MAXPOOL_ZERO_PADDING = """
import torch.nn.functional as F
s = kernel_size if stride is None else stride
Xp = F.pad(X, (padding, padding, padding, padding))
return Xp.unfold(1, kernel_size, s).unfold(2, kernel_size, s).amax(dim=(-1, -2))
"""
MAXPOOL_LIBRARY = """
import torch.nn.functional as F
return F.max_pool2d(X[None], kernel_size, stride, padding)[0]
"""


def test_max_pooling_accepts_plain_loops_and_rejects_zero_padding():
    assert_full_marks_only_for_the_correct_fragment("maxpool2d-stride-padding-completion", MAXPOOL_LOOPS,
                                                    MAXPOOL_ZERO_PADDING)


def test_max_pooling_refuses_the_library_pooling_function():
    from quizbank.completion import grade_completion
    from quizbank.engine import generate

    spec = spec_of("maxpool2d-stride-padding-completion")
    expected = generate(spec, 0).key["expected_tests"]
    assert grade_completion(spec, 0, expected, MAXPOOL_LIBRARY).score == 0.0
