"""The question bank for lectures 14, 15, 18 and 19 (Quiz 5: 14, lecture 15, Quiz 6: 18-19).

Every template's computed answer is checked against an independent calculation in plain Python (math only: no
torch, not the template's own code) for a few seeds, and every notebook passes the self-test on a few seeds.
Completion templates are checked by grading a correct alternative answer (full marks) and a typical mistake
(not full marks). No database is needed: notebooks are read from disk and run through the runner.
"""
from __future__ import annotations

import math

import pytest


from tests.bank_support import assert_full_marks_only_for_the_correct_fragment, fmt4, variants


def mean(values):
    return sum(values) / len(values)


def biased_var(values):
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)


def unbiased_var(values):
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / (len(values) - 1)


def name_bigrams(word):
    chs = ["."] + list(word) + ["."]
    return list(zip(chs, chs[1:]))


# ---------------------------------------------------------------------------------------------- Quiz 5 (lecture 14)

def test_name_likelihood_is_the_product_of_its_bigram_probabilities_including_start_and_end():
    for p, answer, _ in variants("bigram-name-likelihood"):
        index = {c: i for i, c in enumerate(p["chars"])}
        likelihood = math.prod(p["counts"][index[a]][index[b]] / 20 for a, b in name_bigrams(p["word"]))
        assert answer == format(likelihood, "#.4g")


def test_mean_reduced_loss_is_minus_the_average_natural_log_of_the_probabilities():
    for p, answer, _ in variants("bigram-average-nll-from-probabilities"):
        assert answer == format(-mean([math.log(q) for q in p["probs"]]), ".3f")


def test_add_k_smoothing_gives_k_over_row_total_plus_k_times_v():
    for p, answer, _ in variants("bigram-add-k-smoothing-unseen"):
        assert answer == fmt4(p["k"] / (p["row_total"] + p["k"] * p["V"]))


def test_temperature_sampling_probability_is_the_softmax_of_the_logits_over_t():
    for p, answer, _ in variants("softmax-temperature-sampling-probability"):
        exps = [math.exp(z / p["T"]) for z in p["logits"]]
        assert answer == format(max(exps) / sum(exps), ".3f")


def test_maximum_likelihood_estimate_is_the_bigram_count_over_the_row_count():
    for p, answer, _ in variants("bigram-maximum-likelihood-estimate"):
        assert answer == format(p["n_pair"] / p["n_c"], ".3f")


def test_average_nll_of_a_name_matches_a_hand_computation():
    for p, answer, _ in variants("bigram-name-average-nll"):
        index = {c: i for i, c in enumerate(p["chars"])}
        nlls = [-math.log(p["counts"][index[a]][index[b]] / 20) for a, b in name_bigrams(p["word"])]
        assert answer == pytest.approx(mean(nlls), abs=1e-9)


def test_softmax_probability_matches_exp_over_sum_of_exps():
    for p, answer, _ in variants("softmax-probability-from-logits"):
        exps = [math.exp(z) for z in p["logits"]]
        assert answer == pytest.approx(exps[p["letters"].index(p["target"])] / sum(exps), rel=1e-9)


def test_count_based_bigram_probability_matches_counting_by_hand():
    for p, answer, _ in variants("bigram-conditional-probability-from-names"):
        pairs = [pair for word in p["words"] for pair in name_bigrams(word)]
        row = [b for a, b in pairs if a == p["cur"]]
        assert answer == pytest.approx(row.count(p["nxt"]) / len(row), rel=1e-6)


def test_training_pair_counts_match_counting_by_hand():
    for p, answer, _ in variants("bigram-training-pairs-count", seeds=range(6)):
        pairs = [pair for word in p["words"] for pair in name_bigrams(word)]
        expected = {"total": len(pairs),
                    "target": sum(b == p["letter"] for _, b in pairs),
                    "input": sum(a == p["letter"] for a, _ in pairs)}[p["ask"]]
        assert answer == expected


def test_manual_likelihood_question_carries_point_valued_items_and_the_right_order_of_magnitude():
    for p, answer, variant in variants("nll-instead-of-likelihood-explanation"):
        rubric = variant.key["rubric"]
        assert isinstance(rubric, list) and all(isinstance(item["points"], (int, float)) for item in rubric)
        assert any("underflow" in item["text"] for item in rubric)
        k = round(p["n_bigrams"] * p["avg_nll"] / math.log(10))
        assert f"10^-{k}" in answer and f"10^{{-{k}}}" in variant.key["model_answer_md"]


def test_normalising_without_keepdim_divides_column_j_by_the_sum_of_row_j():
    for p, answer, _ in variants("bigram-normalisation-broadcast-output", seeds=range(6)):
        sums = [sum(row) for row in p["N"]]
        row = p["N"][p["r"]]
        divisors = [sums[p["r"]]] * 3 if p["keepdim"] else sums
        values = [row[j] / divisors[j] for j in range(3)]
        assert answer.splitlines() == [str([round(v, 3) for v in values]), str(round(sum(values), 3))]


def test_bigram_training_error_line_names_the_statement_the_bug_breaks():
    statement = {"nofloat": "logits = xenc @ W", "numclasses": "xenc = F.one_hot", "nograd": "loss.backward()",
                 "arange": "loss = -probs[", "gradnone": "W.data +=", "nokeepdim": "probs = counts /"}
    exception = {"nofloat": "RuntimeError", "numclasses": "RuntimeError", "nograd": "RuntimeError",
                 "arange": "IndexError", "gradnone": "TypeError", "nokeepdim": "RuntimeError"}
    for p, answer, _ in variants("bigram-training-error-line", seeds=range(6)):
        assert answer.startswith("`" + statement[p["bug"]]), (p["bug"], answer)
        assert answer.endswith("raises " + exception[p["bug"]])


# ---------------------------------------------------------------------------------------------- lecture 15

def test_ngram_mlp_parameter_count_is_embedding_plus_two_linear_layers():
    for p, answer, _ in variants("ngram-mlp-parameter-count"):
        V, d, n, H = p["V"], p["d"], p["block"], p["H"]
        assert answer == V * d + (n * d * H + H) + (H * V + V)


def test_embedding_lookup_adds_a_trailing_embedding_dimension():
    for p, answer, _ in variants("embedding-lookup-shapes-output"):
        assert answer.splitlines()[0] == f"torch.Size([{p['B']}, {p['block']}, {p['d']}])"


def test_embedding_gradient_counts_occurrences_of_each_index():
    for p, answer, _ in variants("embedding-gradient-counts-output"):
        counts = [sum(row.count(i) for row in p["X"]) for i in range(p["V"])]
        assert answer.splitlines() == [str([p["scale"] * c for c in counts]), str(sum(c > 0 for c in counts))]


# ---------------------------------------------------------------------------------------------- Quiz 6 (lectures 18-19)

def test_batch_mean_noise_changes_by_the_square_root_of_the_batch_size_ratio():
    for p, answer, _ in variants("batchnorm-batch-size-noise"):
        assert answer == format(math.sqrt(p["B_from"] / p["B_to"]), ".3f")


def test_running_mean_is_an_exponential_moving_average_starting_at_zero():
    for p, answer, _ in variants("batchnorm-running-mean-momentum"):
        r = 0.0
        for m in p["batch_means"]:
            r = (1 - p["momentum"]) * r + p["momentum"] * m
        assert answer == format(r, ".3f")


def test_eval_mode_batch_norm_uses_the_running_statistics():
    for p, answer, _ in variants("batchnorm-eval-mode-output"):
        y = p["gamma"] * (p["batch"][0] - p["running_mean"]) / math.sqrt(p["running_var"]) + p["beta"]
        assert answer == format(y, ".3f")


def test_layer_norm_computes_one_mean_per_example_and_position_and_batch_norm_one_per_channel():
    for p, answer, _ in variants("normalization-statistics-count", seeds=range(6)):
        assert answer == str(p["B"] * p["T"] if p["which"] == "layer" else p["C"])


def test_gradient_through_residual_blocks_is_one_plus_a_to_the_depth():
    for p, answer, _ in variants("residual-gradient-through-depth", seeds=range(5)):
        factor = 1 + p["a"] if p["residual"] else p["a"]
        assert answer == format(factor ** p["L"], "#.4g")


def test_batch_norm_makes_exactly_the_linear_bias_redundant():
    for p, answer, _ in variants("batchnorm-redundant-linear-bias"):
        assert answer == str(p["d_out"])


def test_training_mode_batch_norm_uses_batch_mean_and_biased_variance():
    for p, answer, _ in variants("batchnorm-normalised-value"):
        x = p["batch"]
        y = p["gamma"] * (x[p["i"]] - mean(x)) / math.sqrt(biased_var(x)) + p["beta"]
        assert answer == pytest.approx(y, abs=1e-9)


def test_running_variance_update_uses_the_unbiased_batch_variance():
    for p, answer, _ in variants("batchnorm-running-var-update"):
        expected = (1 - p["momentum"]) * 1.0 + p["momentum"] * unbiased_var(p["batch"])
        assert answer == pytest.approx(expected, abs=1e-9)


def test_layer_norm_output_uses_the_statistics_of_one_example():
    for p, answer, _ in variants("layernorm-output-value"):
        x = p["x"]
        assert answer == pytest.approx((x[p["j"]] - mean(x)) / math.sqrt(biased_var(x)), abs=1e-9)


def test_residual_block_parameter_count_adds_a_projection_only_when_sizes_differ():
    for p, answer, _ in variants("residual-block-parameter-count", seeds=range(6)):
        d_in, h, d_out = p["d_in"], p["d_hidden"], p["d_out"]
        shortcut = 0 if d_in == d_out else d_in * d_out
        assert answer == (d_in * h + h) + (h * d_out + d_out) + shortcut


def test_manual_batch_norm_question_carries_a_rubric():
    for _, _, variant in variants("batchnorm-train-eval-explanation", seeds=(0,)):
        assert any("running" in item["text"] for item in variant.key["rubric"])
        assert variant.public["answer_format"] == "manual"


def test_manual_residual_question_carries_a_rubric_and_the_vanishing_factor():
    for p, answer, variant in variants("residual-identity-explanation", seeds=(0, 1)):
        assert any("identity" in item["text"] for item in variant.key["rubric"])
        assert f"{p['a'] ** (p['L_deep'] - p['L_shallow']):.1e}" in answer


def test_batch_norm_train_then_eval_output_matches_the_formulas():
    for p, answer, _ in variants("batchnorm-train-eval-output"):
        x, m, eps = p["x"], p["momentum"], 1e-5
        train = [round((v - mean(x)) / math.sqrt(biased_var(x) + eps), 2) for v in x]
        rm = m * mean(x)
        rv = (1 - m) + m * unbiased_var(x)
        ev = (x[0] - rm) / math.sqrt(rv + eps)
        lines = answer.splitlines()
        assert lines[0] == str(train)
        rm_text, rv_text = lines[1].split()
        assert float(rm_text) == pytest.approx(rm, abs=6e-4) and float(rv_text) == pytest.approx(rv, abs=6e-4)
        assert float(lines[2]) == pytest.approx(ev, abs=6e-3)


def test_normalisation_statistics_shapes_follow_the_reduced_dimensions():
    for p, answer, _ in variants("normalization-stats-shape-output"):
        B, T, C = p["B"], p["T"], p["C"]
        bn_shape = f"torch.Size([1, 1, {C}])" if p["keep"] else f"torch.Size([{C}])"
        assert answer.splitlines() == [bn_shape, f"torch.Size([{B}, {T}, 1])", f"torch.Size([{B}, {T}, {C}])",
                                       f"torch.Size([{C}])", f"torch.Size([{B}, {C}, {T}])"]


def test_residual_block_error_line_is_where_the_mismatched_operation_runs():
    statement = {"no_projection": "return x + h", "fc2_in": "h = self.fc2(h)",
                 "proj_reversed": "return self.proj(x) + h", "input_dim": "h = torch.relu(self.fc1(x))"}
    for p, answer, _ in variants("residual-block-error-line", seeds=range(6)):
        assert answer == f"`{statement[p['bug']]}` raises RuntimeError"


def test_batch_norm_model_error_line_matches_the_injected_bug():
    expected = {"predict_single_train": ("pred = model(x_new)", "ValueError"),
                "bn_features": ("loss = nn.functional.cross_entropy", "RuntimeError"),
                "train_batch_one": ("loss = nn.functional.cross_entropy", "ValueError"),
                "predict_1d": ("pred = model(x_new)", "ValueError")}
    for p, answer, _ in variants("batchnorm-model-error-line", seeds=range(6)):
        line, exception = expected[p["bug"]]
        assert answer.startswith("`" + line) and answer.endswith("raises " + exception), (p["bug"], answer)


# ---------------------------------------------------------------------------------------------- completions

def test_bigram_sampling_accepts_an_equivalent_loop_and_rejects_appending_the_end_token():
    correct = ("nxt = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()\n"
               "if nxt == 0:\n    break\nix = nxt\nout.append(itos[ix])\n")
    mistaken = ("ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()\n"
                "out.append(itos[ix])\nif ix == 0:\n    break\n")
    assert_full_marks_only_for_the_correct_fragment("bigram-sampling-completion", correct, mistaken)


def test_bigram_loss_accepts_cross_entropy_and_rejects_a_missing_regulariser():
    correct = "return F.cross_entropy(W[xs], ys) + REG * W.pow(2).mean()\n"
    mistaken = "return F.cross_entropy(W[xs], ys)\n"
    assert_full_marks_only_for_the_correct_fragment("bigram-nll-loss-completion", correct, mistaken)


def test_batchnorm_forward_accepts_an_equivalent_version_and_rejects_the_biased_running_variance():
    correct = ("if not training:\n"
               "    return gamma * (x - running_mean) / (running_var + EPS).sqrt() + beta, running_mean, running_var\n"
               "mu = x.mean(0)\n"
               "var = ((x - mu) ** 2).mean(0)\n"
               "n = x.shape[0]\n"
               "new_mean = running_mean + MOMENTUM * (mu - running_mean)\n"
               "new_var = running_var + MOMENTUM * (var * n / (n - 1) - running_var)\n"
               "return gamma * (x - mu) / (var + EPS).sqrt() + beta, new_mean, new_var\n")
    mistaken = correct.replace("var * n / (n - 1)", "var")
    assert_full_marks_only_for_the_correct_fragment("batchnorm-forward-completion", correct, mistaken)


def test_residual_block_forward_accepts_either_order_and_rejects_a_missing_shortcut():
    correct = "return self.fc2(self.act(self.fc1(x))) + self.shortcut(x)\n"
    mistaken = "return self.fc2(self.act(self.fc1(x)))\n"
    assert_full_marks_only_for_the_correct_fragment("residual-block-forward-completion", correct, mistaken)


def test_ngram_forward_accepts_reshape_and_rejects_a_missing_tanh():
    correct = "flat = C[X].reshape(len(X), -1)\nreturn torch.tanh(flat @ W1 + b1) @ W2 + b2\n"
    mistaken = "flat = C[X].reshape(len(X), -1)\nreturn (flat @ W1 + b1) @ W2 + b2\n"
    assert_full_marks_only_for_the_correct_fragment("ngram-mlp-forward-completion", correct, mistaken)

