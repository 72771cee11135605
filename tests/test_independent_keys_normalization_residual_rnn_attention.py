"""Independent keys for the templates added or reworked in lectures 18-21 (second edition of the bank).

Batch norm with tiny batches, the gradient through a residual block, sequential steps of an RNN against a
self-attention stack, an LSTM step, which changes leave attention unchanged, and the manually graded
explanations (point-valued rubrics, a model answer per variant). Every computed key is recalculated here in
plain Python (math and random only: no torch, not the template's code) for a few seeds; completions are graded
with a correct alternative (full marks) and a typical mistake (not full marks).
"""
from __future__ import annotations

import math
import random

import pytest

from tests.bank_support import (assert_full_marks_only_for_the_correct_fragment, correct_option, spec_of,
                                variants)


def options_of(variant) -> list[str]:
    return [option["text"] for option in variant.public["options"]]


def matvec(M, v):
    return [sum(a * b for a, b in zip(row, v)) for row in M]


def transpose(M):
    return [list(column) for column in zip(*M)]


def softmax(row):
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    return [e / sum(exps) for e in exps]


def attention(Q, K, V):
    """Plain-Python scaled dot-product attention: (weights, output)."""
    d_k = len(Q[0])
    A = [softmax([sum(q * k for q, k in zip(qr, kr)) / math.sqrt(d_k) for kr in K]) for qr in Q]
    out = [[sum(a * V[j][c] for j, a in enumerate(row)) for c in range(len(V[0]))] for row in A]
    return A, out


def close(X, Y, tol=1e-9):
    return all(abs(a - b) <= tol for rx, ry in zip(X, Y) for a, b in zip(rx, ry))


# ---------------------------------------------------------------------------------------------- lecture 18

def test_batch_norm_on_two_examples_maps_each_feature_to_beta_plus_or_minus_gamma():
    for p, answer, variant in variants("batchnorm-two-example-batch", seeds=range(6)):
        j = p["j"]
        a, b = p["x1"][j], p["x2"][j]
        mean = (a + b) / 2
        std = math.sqrt(((a - mean) ** 2 + (b - mean) ** 2) / 2)   # biased: divide by B = 2
        expected = p["gamma"] * (a - mean) / std + p["beta"]
        assert expected == pytest.approx(p["beta"] + p["gamma"] * (1 if a > b else -1))
        assert answer == format(expected, ".3f") == correct_option(variant)
        assert len(set(options_of(variant))) == len(options_of(variant)) >= 4


def test_batch_mean_noise_factor_is_the_square_root_of_the_batch_size_ratio_in_both_directions():
    seen = set()
    for p, answer, variant in variants("batchnorm-batch-size-noise", seeds=range(8)):
        assert answer == format(math.sqrt(p["B_from"] / p["B_to"]), ".3f") == correct_option(variant)
        seen.add(p["shrink"])
    assert seen == {True, False}


def test_batchnorm_forward_gives_full_marks_to_nn_batchnorm_itself_and_not_to_batch_statistics_in_eval():
    # a correct alternative that delegates to PyTorch's own functional batch norm (momentum and unbiased running
    # variance included), so full marks also confirm the reference convention
    correct = ("y = torch.nn.functional.batch_norm(x, running_mean.clone(), running_var.clone(), gamma, beta,\n"
               "                                 training=training, momentum=MOMENTUM, eps=EPS)\n"
               "if not training:\n"
               "    return y, running_mean, running_var\n"
               "n = x.shape[0]\n"
               "new_mean = (1 - MOMENTUM) * running_mean + MOMENTUM * x.mean(0)\n"
               "new_var = (1 - MOMENTUM) * running_var + MOMENTUM * x.var(0, unbiased=False) * n / (n - 1)\n"
               "return y, new_mean, new_var\n")
    mistaken = ("y = torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS)\n"
                "if not training:\n"
                "    return y, running_mean, running_var\n"
                "new_mean = (1 - MOMENTUM) * running_mean + MOMENTUM * x.mean(0)\n"
                "new_var = (1 - MOMENTUM) * running_var + MOMENTUM * x.var(0, unbiased=True)\n"
                "return y, new_mean, new_var\n")
    assert_full_marks_only_for_the_correct_fragment("batchnorm-forward-completion", correct, mistaken)


def test_batchnorm_forward_mistakes_are_capped_at_half_marks():
    assert all(m["max_score"] <= 0.5 for m in spec_of("batchnorm-forward-completion").mistakes)


# ---------------------------------------------------------------------------------------------- lecture 19

def test_residual_block_input_gradient_is_the_upstream_gradient_plus_the_masked_branch():
    for p, answer, variant in variants("residual-block-input-gradient", seeds=range(6)):
        W1, W2, x, g = p["W1"], p["W2"], p["x"], p["g"]
        active = [1 if pre > 0 else 0 for pre in matvec(W1, x)]
        back = [m * v for m, v in zip(active, matvec(transpose(W2), g))]   # through W2^T, then the ReLU mask
        expected = [gi + bi for gi, bi in zip(g, matvec(transpose(W1), back))]
        text = "(" + ", ".join(str(v) for v in expected) + ")"
        assert correct_option(variant) == text
        assert 0 in active   # every variant has an inactive unit, so the ReLU matters
        assert len(set(options_of(variant))) == len(options_of(variant)) >= 4


def test_residual_gradient_through_depth_uses_the_same_small_branches_with_and_without_skips():
    for p, answer, _ in variants("residual-gradient-through-depth", seeds=range(8)):
        assert abs(p["a"]) <= 0.1 and 0.25 <= (1 + p["a"]) ** p["L"] <= 4
        assert not p["a_tex"].startswith("-")   # a negative base is parenthesised: (-0.05)^{8}
        factor = 1 + p["a"] if p["residual"] else p["a"]
        assert answer == format(factor ** p["L"], "#.4g")


def test_zero_initialised_residual_branch_is_the_identity_and_gives_fc1_no_first_gradient():
    seen = set()
    for p, answer, _ in variants("residual-ngram-zero-branch-output", seeds=range(8)):
        B, d, H = p["B"], p["n"] * p["e"], p["H"]
        shape = f"torch.Size([{B}, {d}])"
        params = (d * H + H) + (H * d + d)
        last = "True False" if p["zero"] else "False False"
        assert answer.splitlines() == [shape, shape, str(p["zero"]), str(params), last]
        seen.add(p["zero"])
    assert seen == {True, False}


# ---------------------------------------------------------------------------------------------- lecture 20

def test_rnn_needs_t_plus_l_minus_1_sequential_steps_and_self_attention_one_per_layer():
    asked = set()
    for p, answer, variant in variants("rnn-vs-attention-sequential-steps", seeds=range(8)):
        T, L = p["T"], p["L"]
        # wavefront schedule: state (l, t) can run at tick t + l - 1 (1-based), the last one at T + L - 1
        expected = T + L - 1 if p["ask"] == "rnn" else L
        assert answer == str(expected) == correct_option(variant)
        asked.add(p["ask"])
    assert asked == {"rnn", "attention"}


def test_rnn_sequential_steps_match_a_tick_by_tick_simulation_on_small_sizes():
    # the closed forms of the previous test, checked by simulating unlimited parallel hardware
    for T, L in ((5, 3), (7, 2), (4, 4)):
        done: dict[tuple[int, int], bool] = {}
        ticks = 0
        while len(done) < T * L:
            ready = [(l, t) for l in range(1, L + 1) for t in range(T) if (l, t) not in done
                     and (l == 1 or (l - 1, t) in done) and (t == 0 or (l, t - 1) in done)]
            for state in ready:
                done[state] = True
            ticks += 1
        assert ticks == T + L - 1


def test_lstm_step_gives_full_marks_to_nn_lstmcell_and_not_to_a_missing_tanh():
    correct = ("cell = torch.nn.LSTMCell(x.shape[1], h.shape[1])\n"
               "with torch.no_grad():\n"
               "    cell.weight_ih.copy_(W_ih)\n"
               "    cell.weight_hh.copy_(W_hh)\n"
               "    cell.bias_ih.copy_(b)\n"
               "    cell.bias_hh.zero_()\n"
               "    h_new, c_new = cell(x, (h, c))\n"
               "return h_new, c_new\n")
    mistaken = ("i, f, g, o = (x @ W_ih.T + h @ W_hh.T + b).chunk(4, dim=1)\n"
                "c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n"
                "return torch.sigmoid(o) * c_new, c_new\n")
    assert_full_marks_only_for_the_correct_fragment("lstm-cell-step-completion", correct, mistaken)


def test_lstm_parameter_count_key_is_four_blocks_and_not_always_at_one_end():
    ranks = set()
    for p, answer, variant in variants("lstm-parameter-count", seeds=range(12)):
        d, h = p["d"], p["h"]
        assert answer == str(4 * (d * h + h * h + 2 * h)) == correct_option(variant)
        numbers = sorted(int(t) for t in options_of(variant))
        ranks.add(numbers.index(int(answer)))
    assert len(ranks) >= 2 and ranks != {len(numbers) - 1}


def test_bptt_options_are_at_least_three_percent_apart():
    for p, answer, variant in variants("rnn-gradient-through-time", seeds=range(8)):
        assert float(answer) == pytest.approx(p["w"] ** (p["T"] - p["k"]), rel=1e-3)
        values = sorted(float(t) for t in options_of(variant))
        assert all(b - a > 0.02 * b for a, b in zip(values, values[1:]))


def test_lstm_hidden_update_options_are_more_than_rounding_apart():
    for p, answer, variant in variants("lstm-cell-hidden-update", seeds=range(8)):
        c_t = p["f"] * p["c_prev"] + p["i"] * p["g"]
        assert answer == format(p["o"] * math.tanh(c_t), ".3f")
        values = sorted(float(t) for t in options_of(variant))
        assert min(b - a for a, b in zip(values, values[1:])) >= 0.002


# ---------------------------------------------------------------------------------------------- lecture 21

CHANGES = {
    "add the same vector `c` to every key": lambda Q, K, V, c, perm: (Q, [[k + ci for k, ci in zip(r, c)] for r in K], V),
    "add the same vector `c` to every query": lambda Q, K, V, c, perm: ([[q + ci for q, ci in zip(r, c)] for r in Q], K, V),
    "double every query": lambda Q, K, V, c, perm: ([[2 * q for q in r] for r in Q], K, V),
    "double every key": lambda Q, K, V, c, perm: (Q, [[2 * k for k in r] for r in K], V),
    "reorder the keys and the values": lambda Q, K, V, c, perm: (Q, [K[i] for i in perm], [V[i] for i in perm]),
    "reorder the keys only": lambda Q, K, V, c, perm: (Q, [K[i] for i in perm], V),
    "add 1 to every value": lambda Q, K, V, c, perm: (Q, K, [[v + 1 for v in r] for r in V]),
    "double every value": lambda Q, K, V, c, perm: (Q, K, [[2 * v for v in r] for r in V]),
}


def keeps(change_text: str, ask: str, n_q: int, n_k: int, d_k: int, d_v: int, trials: int = 3) -> bool:
    """Whether the change leaves the weights / the output unchanged for random inputs (plain Python)."""
    change = next(f for prefix, f in CHANGES.items() if change_text.startswith(prefix))
    gen = random.Random(12345)
    for _ in range(trials):
        Q = [[gen.gauss(0, 1) for _ in range(d_k)] for _ in range(n_q)]
        K = [[gen.gauss(0, 1) for _ in range(d_k)] for _ in range(n_k)]
        V = [[gen.gauss(0, 1) for _ in range(d_v)] for _ in range(n_k)]
        c = [gen.gauss(0, 1) for _ in range(d_k)]
        perm = list(range(n_k))
        while perm == sorted(perm):
            gen.shuffle(perm)
        index = 0 if ask == "weights" else 1
        if not close(attention(Q, K, V)[index], attention(*change(Q, K, V, c, perm))[index], 1e-9):
            return False
    return True


def test_attention_change_key_is_the_only_shown_change_that_keeps_weights_or_output():
    asked = set()
    for p, answer, variant in variants("attention-change-that-keeps-the-output", seeds=range(8)):
        sizes = (p["n_q"], p["n_k"], p["d_k"], p["d_v"])
        assert correct_option(variant) == answer
        for text in options_of(variant):
            assert keeps(text, p["ask"], *sizes) == (text == answer), (p["ask"], text)
        asked.add(p["ask"])
    assert asked == {"weights", "output"}


def test_attention_output_scalar_values_key_is_not_stuck_in_the_middle():
    ranks = []
    for p, answer, variant in variants("attention-output-scalar-values", seeds=range(12)):
        weights = softmax([sum(a * b for a, b in zip(p["q"], k)) / math.sqrt(2) for k in p["keys"]])
        assert answer == format(sum(w * v for w, v in zip(weights, p["values"])), ".3f") == correct_option(variant)
        values = sorted(float(t) for t in options_of(variant))
        assert min(b - a for a, b in zip(values, values[1:])) >= 0.002
        ranks.append(values.index(float(answer)))
    assert len(set(ranks)) >= 3


def test_attention_weights_completion_accepts_q_times_k_transposed_on_two_dimensional_inputs():
    # the stem promises Q of shape (n_q, d_k): a solution written for 2-D tensors must get full marks
    assert_full_marks_only_for_the_correct_fragment(
        "attention-weights-completion",
        "return torch.softmax(Q @ K.T / math.sqrt(K.shape[1]), dim=1)\n",
        "return torch.softmax(Q @ K.T / K.shape[1], dim=1)\n")


# ---------------------------------------------------------------------------------------------- manual answers

MANUAL = ("batchnorm-train-eval-explanation", "residual-identity-explanation", "rnn-long-range-gradient-explain",
          "attention-softmax-dim-explain")


@pytest.mark.parametrize("slug", MANUAL)
def test_manual_question_has_point_valued_rubric_items_and_a_model_answer(slug):
    spec = spec_of(slug)
    rubric = spec.answer["rubric"]
    assert isinstance(rubric, list) and all(set(item) == {"points", "text"} for item in rubric)
    assert sum(item["points"] for item in rubric if item["points"] > 0) >= 4
    assert any(item["points"] < 0 for item in rubric)
    for _, _, variant in variants(slug, seeds=(0, 1)):
        assert variant.public["answer_format"] == "manual"
        assert len(variant.key["model_answer_md"]) > 200


def test_softmax_dim_model_answer_quotes_the_printed_row_sums_and_their_total_n_k():
    for p, _, variant in variants("attention-softmax-dim-explain", seeds=range(4)):
        assert p["total"] == pytest.approx(p["n_k"], abs=5e-3)   # each of the n_k columns sums to 1
        assert p["row_sums_text"] in variant.key["model_answer_md"]
        assert p["row_sums_text"].split(", ")[0] in p["printed"]


def test_batch_norm_model_answer_names_the_noise_factor_or_the_single_example_error():
    for p, _, variant in variants("batchnorm-train-eval-explanation", seeds=range(6)):
        text = variant.key["model_answer_md"]
        if p["B_test"] == 1:
            assert "Expected more than 1 value" in text
        else:
            assert format(math.sqrt(p["B_train"] / p["B_test"]), ".3g") in text
        assert str(p["momentum"]) in text


def test_residual_model_answer_gives_a_vanishing_plain_factor_and_an_order_one_residual_factor():
    for p, _, variant in variants("residual-identity-explanation", seeds=range(6)):
        extra = p["L_deep"] - p["L_shallow"]
        assert p["a"] ** extra < 1e-10 and 1 <= (1 + p["a"]) ** extra <= 4
        assert format((1 + p["a"]) ** extra, ".2f") in variant.key["model_answer_md"]


def test_rnn_model_answer_uses_the_distance_between_the_two_positions():
    for p, _, variant in variants("rnn-long-range-gradient-explain", seeds=range(4)):
        distance = p["j"] - p["i"]
        text = variant.key["model_answer_md"]
        assert f"{distance} factors" in text
        mantissa, exponent = format(0.9 ** distance, ".1e").split("e")
        assert f"{mantissa} \\times 10^{{{int(exponent)}}}" in text
