"""Independent keys for the second-edition templates of lectures 10, 11, 14 and 15: saddle points, RMSProp and the
comparison of optimizers (Quiz 4), the bigram model's loss, likelihood, smoothing, softmax and counts (Quiz 5), and
mini-batch noise and N-gram training contexts (lecture 15).

Every computed answer is recomputed here in plain Python (math only: not the template's code, no torch except where a
test checks a hand-written update against torch.optim itself); completion templates must give full marks to another
correct fragment and less to a typical mistake; manually graded templates must carry a point-valued rubric and a
model answer with the variant's numbers. No database is needed: notebooks are read from disk and run through the runner.
"""
from __future__ import annotations

import ast
import math

import pytest

from tests.bank_support import assert_full_marks_only_for_the_correct_fragment, correct_option, variants

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def bigrams_of(word):
    chs = ["."] + list(word) + ["."]
    return list(zip(chs, chs[1:]))


def assert_point_valued_rubric(variant):
    rubric = variant.key["rubric"]
    assert isinstance(rubric, list) and rubric
    assert all(isinstance(item["points"], (int, float)) and item["text"].strip() for item in rubric)
    assert sum(item["points"] for item in rubric if item["points"] > 0) >= 4
    assert variant.key["model_answer_md"].strip()


# ---------------------------------------------------------------------------------------------- lecture 10: saddle points

def test_critical_point_is_classified_by_the_signs_of_the_hessian_determinant_and_trace():
    seen = set()
    for p, answer, variant in variants("saddle-point-hessian-classification", seeds=range(12)):
        a, b, c = p["a"], p["b"], p["c"]
        det, trace = 4 * a * c - b * b, 2 * a + 2 * c   # Hessian [[2a, b], [b, 2c]]; the cubic term vanishes at 0
        expected = "a saddle point" if det < 0 else ("a local minimum" if trace > 0 else "a local maximum")
        assert answer == expected == correct_option(variant), (p, answer)
        seen.add(expected)
    assert seen == {"a saddle point", "a local minimum", "a local maximum"}


def test_hidden_saddle_has_diagonal_entries_of_one_sign():
    for p, answer, _ in variants("saddle-point-hessian-classification", seeds=range(12)):
        if p["case"] == "hidden-saddle":
            assert p["a"] * p["c"] > 0 and answer == "a saddle point"


def test_saddle_escape_takes_the_steps_of_geometric_growth_by_one_plus_eta_c():
    for p, answer, variant in variants("saddle-escape-explanation"):
        x, y, steps = p["x0"], 10.0 ** -p["eps_exp"], 0
        while abs(y) <= 0.1:
            x, y = x - p["lr"] * p["a"] * x, y - p["lr"] * (-p["c"] * y + y ** 3)
            steps += 1
        assert steps == p["steps_to_escape"]
        estimate = math.log(0.1 * 10 ** p["eps_exp"]) / math.log(1 + p["lr"] * p["c"])
        assert abs(estimate - steps) <= 0.05 * steps
        assert str(steps) in answer and str(steps) in variant.key["model_answer_md"]
        assert f"{round(estimate)}" in variant.key["model_answer_md"]


def test_saddle_escape_is_graded_by_point_valued_items_with_a_penalty_for_calling_it_a_minimum():
    for _, _, variant in variants("saddle-escape-explanation", seeds=(0,)):
        assert_point_valued_rubric(variant)
        assert variant.public["answer_format"] == "manual"
        assert any(item["points"] < 0 and "minimum" in item["text"] for item in variant.key["rubric"])


def test_relu_xavier_explanation_has_a_point_valued_rubric_and_the_variants_factor():
    for p, _, variant in variants("relu-xavier-variance-explanation", seeds=(0, 1)):
        assert_point_valued_rubric(variant)
        assert f"{0.5 ** p['depth']:.1e}" in variant.key["model_answer_md"]
        assert f"2/{p['n']}" in variant.key["model_answer_md"]


# ---------------------------------------------------------------------------------------------- lecture 11: optimizers

def _step(name, w, state, t, p):
    """One step of each optimizer on f = (a w1^2 + b w2^2)/2, written from the textbook rules."""
    g = [p["a"] * w[0], p["b"] * w[1]]
    new = []
    for i in range(2):
        if name == "SGD":
            new.append(w[i] - p["lr_sgd"] * g[i])
        elif name == "SGD with momentum":
            state["v"][i] = 0.9 * state["v"][i] + g[i]
            new.append(w[i] - p["lr_sgd"] * state["v"][i])
        elif name == "RMSProp":
            state["s"][i] = 0.99 * state["s"][i] + 0.01 * g[i] * g[i]
            new.append(w[i] - p["lr_rms"] * g[i] / (math.sqrt(state["s"][i]) + 1e-8))
        else:
            state["m"][i] = 0.9 * state["m"][i] + 0.1 * g[i]
            state["s"][i] = 0.999 * state["s"][i] + 0.001 * g[i] * g[i]
            m_hat, v_hat = state["m"][i] / (1 - 0.9 ** t), state["s"][i] / (1 - 0.999 ** t)
            new.append(w[i] - p["lr_adam"] * m_hat / (math.sqrt(v_hat) + 1e-8))
    return new


def test_optimizer_table_rows_are_the_first_three_steps_of_each_optimizer():
    for p, answer, variant in variants("optimizer-trajectories-identification", seeds=range(6)):
        rows = {row[0]: row[1:] for row in p["table"]}
        for name, letter in p["letter_of"].items():
            w, state = list(p["w0"]), {"v": [0.0, 0.0], "s": [0.0, 0.0], "m": [0.0, 0.0]}
            for t in range(1, 4):
                w = _step(name, w, state, t, p)
                assert rows[letter][t - 1] == f"({w[0]:.4f}, {w[1]:.4f})", (name, t)
        assert answer == f"run {p['letter_of'][p['target']]}" == correct_option(variant)


def test_first_steps_tell_adam_rmsprop_and_the_two_sgd_runs_apart():
    for p, _, _ in variants("optimizer-trajectories-identification", seeds=range(6)):
        first = p["first_steps"]
        assert first["Adam"] == pytest.approx((p["lr_adam"], p["lr_adam"]), abs=1e-6)
        assert first["RMSProp"] == pytest.approx((10 * p["lr_rms"], 10 * p["lr_rms"]), abs=1e-6)
        assert first["SGD"] == first["SGD with momentum"] != first["Adam"]
        assert 10 * p["lr_rms"] != pytest.approx(p["lr_adam"])


def test_learning_rate_regime_follows_the_factor_one_minus_eta_times_the_curvature():
    seen = set()
    for p, answer, variant in variants("learning-rate-regime-on-a-quadratic", seeds=range(10)):
        factor = 1 - p["lr"] * p["lam"]
        if factor > 0:
            expected = "it moves towards 0 without changing sign"
        elif factor > -1:
            expected = "it flips sign at every step while its size shrinks"
        else:
            expected = "it flips sign at every step and grows"
        assert answer.startswith(expected) and correct_option(variant) == answer
        assert p["w20"] == pytest.approx(p["w0"] * factor ** 20, rel=1e-9)
        seen.add(expected)
    assert len(seen) == 3


def test_adam_explanation_states_the_sgd_step_count_of_a_factor_one_minus_lr_per_step():
    for p, _, variant in variants("adam-faster-ill-conditioned-explanation", seeds=(0, 1, 2)):
        lr, w2, steps = p["lr_sgd"], abs(p["w0"][1]), 0
        while w2 >= 0.1 * abs(p["w0"][1]):
            w2 *= 1 - lr
            steps += 1
        assert steps == p["steps_sgd"]
        assert p["lr_sgd"] < 2 / p["a"] and p["steps_adam"] < steps
        estimate = round(math.log(10) / -math.log(1 - lr))
        assert abs(estimate - steps) <= 1 and str(estimate) in variant.key["model_answer_md"]
        assert_point_valued_rubric(variant)


def test_rmsprop_step_divides_by_the_root_of_the_running_square_as_torch_optim_does():
    import torch

    for p, _, _ in variants("rmsprop-step-completion", seeds=(0, 1)):
        w, s = [0.3, -0.2], [0.0, 0.0]
        grads = [[1e-3, -2e-3], [3e-3, 1e-3], [-1e-3, 5e-4]]
        for g in grads:
            for i in range(2):
                s[i] = p["alpha"] * s[i] + (1 - p["alpha"]) * g[i] ** 2
                w[i] -= p["lr"] * g[i] / (math.sqrt(s[i]) + p["eps"])
        param = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.RMSprop([param], lr=p["lr"], alpha=p["alpha"], eps=p["eps"])
        for g in grads:
            param.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
        assert param.tolist() == pytest.approx(w, rel=1e-9)


RMSPROP_ALTERNATIVE = """
s_new = s.clone()
s_new.mul_(alpha).addcmul_(g, g, value=1 - alpha)
return p - lr * g / (s_new.sqrt() + eps), s_new
"""
RMSPROP_EPS_INSIDE = """
s = alpha * s + (1 - alpha) * g * g
return p - lr * g / torch.sqrt(s + eps), s
"""
COUNTS_ALTERNATIVE = """
from collections import Counter
pairs = Counter((a, b) for w in words for a, b in zip("." + w, w + "."))
for (a, b), n in pairs.items():
    N[stoi[a], stoi[b]] = n
"""
COUNTS_SWAPPED = """
for w in words:
    chs = ["."] + list(w) + ["."]
    for a, b in zip(chs, chs[1:]):
        N[stoi[b], stoi[a]] += 1
"""


@pytest.mark.parametrize("slug, correct, mistaken", [
    ("rmsprop-step-completion", RMSPROP_ALTERNATIVE, RMSPROP_EPS_INSIDE),
    ("bigram-count-matrix-completion", COUNTS_ALTERNATIVE, COUNTS_SWAPPED),
])
def test_completion_accepts_another_correct_answer_and_rejects_a_typical_mistake(slug, correct, mistaken):
    assert_full_marks_only_for_the_correct_fragment(slug, correct, mistaken)


# ---------------------------------------------------------------------------------------------- lecture 14: bigram model

def test_trained_loss_is_read_as_e_to_the_loss_equally_likely_characters():
    for p, answer, variant in variants("bigram-trained-loss-perplexity"):
        assert 0 < float(p["loss_text"]) < math.log(p["V"])
        assert answer == f"{math.exp(float(p['loss_text'])):.3g}" == correct_option(variant)


def test_softmax_of_log_counts_gives_the_smoothed_counts_shift_invariant_and_sharpened_by_scaling():
    for p, answer, _ in variants("softmax-log-counts-output"):
        row = [c + p["k"] for c in p["N"][p["i"]]]
        smoothed = [round(c / sum(row), 3) for c in row]
        powered = [round(c ** p["scale"] / sum(x ** p["scale"] for x in row), 3) for c in row]
        lines = [ast.literal_eval(line) for line in answer.splitlines()]
        assert lines[0] == pytest.approx(smoothed, abs=1e-9) and lines[1] == pytest.approx(smoothed, abs=1e-9)
        assert lines[2] == pytest.approx(powered, abs=1e-9)


def test_longer_name_can_have_the_lower_average_nll_but_not_the_higher_likelihood_for_free():
    disagreements = 0
    for p, answer, variant in variants("bigram-likelihood-vs-average-nll", seeds=range(8)):
        chars, P = p["chars"], p["P"]

        def probs(word):
            return [P[chars.index(x)][chars.index(y)] for x, y in bigrams_of(word)]

        likelihood = {w: math.prod(probs(w)) for w in (p["short"], p["long"])}
        average = {w: -sum(math.log(q) for q in probs(w)) / len(probs(w)) for w in (p["short"], p["long"])}
        higher = max(likelihood, key=likelihood.get)
        lower = min(average, key=average.get)
        assert answer == f"`{higher}` has the higher likelihood; `{lower}` has the lower average NLL per bigram"
        assert correct_option(variant) == answer
        disagreements += higher != lower
    assert disagreements  # some variants separate the two notions


def test_add_k_smoothed_name_nll_adds_k_to_every_count_and_k_times_v_to_every_row():
    for p, answer, variant in variants("bigram-smoothed-unseen-name-nll"):
        chars, counts, k = p["chars"], p["counts"], p["k"]
        pairs = [(chars.index(x), chars.index(y)) for x, y in bigrams_of(p["word"])]
        assert any(counts[i][j] == 0 for i, j in pairs)
        nll = [-math.log((counts[i][j] + k) / (sum(counts[i]) + k * len(chars))) for i, j in pairs]
        assert answer == f"{sum(nll) / len(nll):.3f}" == correct_option(variant)


def test_name_length_probability_sums_every_path_from_the_start_token_back_to_it():
    import itertools

    for p, answer, variant in variants("bigram-sampled-name-length-probability", seeds=range(6)):
        P, chars = p["P"], p["chars"]
        total = 0.0
        for letters in itertools.product(range(1, 4), repeat=p["L"]):
            path = (0, *letters, 0)
            total += math.prod(P[i][j] for i, j in zip(path, path[1:]))
        assert answer == f"{total:.4f}" == correct_option(variant)


def test_one_hot_inputs_give_gradient_only_to_the_rows_of_the_input_characters():
    for p, answer, _ in variants("bigram-neural-rows-updated", seeds=range(8)):
        inputs = {a for w in p["words"] for a, _ in bigrams_of(w)}
        rows = 27 if p["reg"] else len(inputs)
        assert answer == (rows if p["ask"] == "rows" else rows * 27)


# ---------------------------------------------------------------------------------------------- lecture 15

def test_larger_batches_divide_the_gradient_noise_by_the_root_of_the_batch_ratio():
    for p, answer, variant in variants("minibatch-gradient-noise-vs-batch-size", seeds=range(6)):
        sigma = float(p["sigma_text"])
        assert p["s1_text"] == f"{sigma / math.sqrt(p['B1']):.4f}"
        expected = f"std {sigma / math.sqrt(p['B2']):.4f}, {p['N'] // p['B2']} updates per epoch"
        assert correct_option(variant) == expected


def test_random_batch_indices_use_one_minus_e_to_the_minus_k_of_the_examples():
    for p, answer, variant in variants("minibatch-sampling-with-replacement-coverage", seeds=range(5)):
        draws = p["steps"] * p["B"]
        used = 1 - math.exp(draws * math.log1p(-1 / p["N"]))
        assert answer == f"{100 * used:.1f}%" == correct_option(variant)
        assert used == pytest.approx(1 - math.exp(-p["k"]), abs=0.01)
        assert p["simulated"] == pytest.approx(used, abs=0.01)


def test_ngram_contexts_are_one_per_character_and_end_token_padded_with_dots():
    for p, answer, _ in variants("ngram-training-contexts-output"):
        examples = []
        for w in p["words"]:
            context = "." * p["block_size"]
            for ch in w + ".":
                examples.append((context, ch))
                context = context[1:] + ch
        n = len(examples)
        context, target = examples[p["k"]]
        assert answer.splitlines() == [f"({n}, {p['block_size']}) ({n},)", f"{context} -> {target}"]
