"""Second-edition templates of lecture 9 (probability), lecture 12 (a regularised CIFAR-10 CNN and its tuning) and lecture 13
(the AlexNet paper), each checked against an independent calculation in plain Python (math, fractions, statistics: not the
template's numpy/PyTorch code) on a few seeds; completion templates give full marks to another correct fragment and less to a
typical mistake.
"""
from __future__ import annotations

import ast
import math
from fractions import Fraction
from statistics import NormalDist

import pytest

from tests.bank_support import assert_full_marks_only_for_the_correct_fragment, correct_option, fmt4, spec_of, variants

SEEDS = range(5)


def plain(x: float) -> str:
    """An integer plainly, else 4 significant digits (6 from 1000 on): the Bernoulli template's option format."""
    x = round(float(x), 10)
    return str(int(x)) if x == int(x) else format(x, ".6g" if abs(x) >= 1000 else ".4g")


def out_size(h: int, k: int, s: int = 1, p: int = 0) -> int:
    return (h + 2 * p - k) // s + 1


# ---------------------------------------------------------------------------------------------- lecture 9

def test_bernoulli_count_has_mean_np_and_variance_np_one_minus_p():
    for p, answer, variant in variants("bernoulli-sum-mean-variance", seeds=SEEDS):
        n, q = p["n"], Fraction(str(p["p"]))
        expected = f"E[S] = {plain(n * q)}, Var(S) = {plain(n * q * (1 - q))}"
        assert answer == expected == correct_option(variant)


def test_bernoulli_options_include_the_variance_of_n_copies_of_one_coin():
    for p, _, variant in variants("bernoulli-sum-mean-variance", seeds=SEEDS):
        n, q = p["n"], Fraction(str(p["p"]))
        texts = [option["text"] for option in variant.public["options"]]
        assert f"E[S] = {plain(n * q)}, Var(S) = {plain(n * n * q * (1 - q))}" in texts


def test_normal_interval_probability_uses_the_standard_deviation_not_the_variance():
    for p, answer, _ in variants("normal-interval-probability", seeds=SEEDS):
        dist = NormalDist(p["mu"], math.sqrt(p["var"]))
        assert answer == pytest.approx(dist.cdf(p["b"]) - dist.cdf(p["a"]), abs=1e-9)


def test_normal_density_after_changing_sigma_changes_height_and_exponent():
    for p, answer, variant in variants("normal-pdf-sigma-change", seeds=SEEDS):
        assert p["sigma_new"] == pytest.approx(p["k"] * p["sigma"])
        expected = NormalDist(p["mu"], p["sigma_new"]).pdf(p["y"])
        assert answer == fmt4(expected) == correct_option(variant)


def test_a_narrow_normal_density_exceeds_one_somewhere_in_the_bank():
    above_one = [float(answer) > 1 for _, answer, _ in variants("normal-pdf-sigma-change", seeds=range(30))]
    assert any(above_one) and not all(above_one)


def test_independence_verdict_follows_the_product_rule_and_the_covariance():
    seen = set()
    for p, answer, variant in variants("independence-from-joint-table", seeds=range(12)):
        table = [[Fraction(str(v)) for v in row] for row in p["table"]]
        assert sum(map(sum, table)) == 1
        p_x = [sum(row) for row in table]
        p_y = [sum(col) for col in zip(*table)]
        independent = all(table[i][j] == p_x[i] * p_y[j] for i in range(len(p_x)) for j in range(len(p_y)))
        e_xy = sum(x * y * table[i][j] for i, x in enumerate(p["xs"]) for j, y in enumerate(p["ys"]))
        cov = e_xy - sum(x * q for x, q in zip(p["xs"], p_x)) * sum(y * q for y, q in zip(p["ys"], p_y))
        if independent:
            assert answer.startswith("Independent: every cell")
            assert cov == 0
        elif cov != 0:
            assert answer.startswith("Dependent, and correlated")
        else:
            assert answer.startswith("Dependent but uncorrelated")
            assert "Independent, because E[XY] = E[X]E[Y]" in [o["text"] for o in variant.public["options"]]
        assert answer == correct_option(variant)
        seen.add(answer.split(":")[0])
    assert len(seen) == 3


def test_chain_rule_joint_sums_the_product_over_the_middle_variable():
    for p, answer, _ in variants("chain-rule-marginalise-one-variable", seeds=SEEDS):
        n = p["n"]
        p_n = p["p_night"] if n == 1 else 1 - p["p_night"]
        p_low = p["p_low"][str(n)]                                   # JSON keys of the stored parameters are strings
        table = {ast.literal_eval(key): value for key, value in p["p_correct"].items()}
        expected = p_n * ((1 - p_low) * table[(n, 0)] + p_low * table[(n, 1)])
        assert answer == pytest.approx(expected, abs=1e-12)


JOINT_LOOPS = """
rows, cols = joint.shape
p_x = torch.stack([sum(joint[i, j] for j in range(cols)) for i in range(rows)])
p_y_given_x = torch.stack([torch.stack([joint[i, j] / p_x[i] for j in range(cols)]) for i in range(rows)])
return p_x, p_y_given_x
"""
JOINT_WRONG_DIM = """
p_x = joint.sum(dim=0)
return p_x, joint / p_x
"""


def test_marginal_and_conditional_completion_needs_the_sum_over_y_and_a_row_wise_division():
    assert_full_marks_only_for_the_correct_fragment("marginal-and-conditional-from-joint-completion", JOINT_LOOPS, JOINT_WRONG_DIM)


# ---------------------------------------------------------------------------------------------- lecture 12

def test_lr_range_test_key_is_a_decade_below_the_lowest_loss_where_the_fall_is_steepest():
    for p, answer, variant in variants("lr-range-test-choice", seeds=SEEDS):
        lrs = [float(lr) for lr, _ in p["rows"]]
        losses = [math.inf if v == "nan" else float(v) for _, v in p["rows"]]
        best = min(range(len(losses)), key=losses.__getitem__)
        falls = [losses[i + 1] - losses[i] for i in range(best)]
        steepest = min(range(len(falls)), key=falls.__getitem__) + 1
        assert steepest == best - 2
        assert lrs[best] / lrs[best - 2] == pytest.approx(10)
        assert answer == format(lrs[best - 2], "g") == correct_option(variant)


def test_lr_range_key_is_not_always_at_the_same_rank_among_the_options():
    ranks = set()
    for _, answer, variant in variants("lr-range-test-choice", seeds=range(12)):
        values = sorted(float(o["text"]) for o in variant.public["options"])
        ranks.add(values.index(float(answer)))
    assert len(ranks) > 1


def test_grid_costs_the_product_of_the_value_counts_times_the_seeds_but_tries_few_learning_rates():
    for p, answer, variant in variants("grid-vs-random-search-budget", seeds=SEEDS):
        configs = math.prod(len(values) for values in p["grid"].values())
        runs = configs * p["seeds"]
        expected = f"grid: {runs} runs, {len(p['grid']['learning rate'])} learning rates; random search: {configs} learning rates"
        assert answer == expected == correct_option(variant)


NORMALISE_LOOPS = """
n, h, w, _ = train.shape
out = torch.empty(batch.shape[0], 3, h, w)
for c in range(3):
    values = [float(v) / 255 for v in train[..., c].flatten()]
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    out[:, c] = (batch[..., c].float() / 255 - mean) / std
return out
"""
NORMALISE_GLOBAL = """
x = train.float() / 255
return (batch.float().permute(0, 3, 1, 2) / 255 - x.mean()) / x.std()
"""


def test_cifar_normalisation_completion_needs_per_channel_training_statistics():
    assert_full_marks_only_for_the_correct_fragment("cifar-per-channel-normalise-completion", NORMALISE_LOOPS, NORMALISE_GLOBAL)


def test_cifar_normalisation_mistakes_are_capped_below_half_marks():
    spec = spec_of("cifar-per-channel-normalise-completion")
    assert len(spec.mistakes) >= 2 and spec.alternatives
    assert all(m["max_score"] <= 0.45 for m in spec.mistakes)


def test_cifar_cnn_feature_shapes_follow_conv_pool_arithmetic_and_global_pooling_keeps_only_channels():
    for p, answer, _ in variants("cifar-cnn-feature-shapes-output", seeds=SEEDS):
        side = out_size(32, p["k"], 1, p["p"]) // 2
        side = out_size(side, 3, p["s2"], 1) // 2
        b, c = p["B"], p["c2"]
        assert answer.split("\n") == [f"({b}, {c}, {side}, {side})", str(c * side * side), f"({b}, {c})"]


# ---------------------------------------------------------------------------------------------- lecture 13

def test_alexnet_conv1_and_overlapping_pool_shapes_and_parameters():
    for p, answer, _ in variants("alexnet-conv1-pool1-shapes-output", seeds=SEEDS):
        h1 = out_size(p["h"], p["k"], p["s"], p["p"])
        h2 = out_size(h1, 3, 2)
        b, c = p["b"], p["c"]
        assert answer.split("\n") == [f"({b}, {c}, {h1}, {h1})", f"({b}, {c}, {h2}, {h2})", str(c * 3 * p["k"] ** 2 + c)]


def alexnet_counts(grouped: bool, width: int, classes: int) -> tuple[int, int]:
    g = 2 if grouped else 1
    layers = [(3, 96, 11, 1), (96, 256, 5, g), (256, 384, 3, 1), (384, 384, 3, g), (384, 256, 3, g)]
    conv = sum(c_out * (c_in // groups) * k * k + c_out for c_in, c_out, k, groups in layers)
    fc = 9216 * width + width + width * width + width + width * classes + classes
    return conv, fc


def test_alexnet_fully_connected_share_of_the_parameters():
    for p, answer, _ in variants("alexnet-fc-parameter-share", seeds=SEEDS):
        conv, fc = alexnet_counts(p["grouped"], p["width"], p["classes"])
        assert answer == pytest.approx(100 * fc / (conv + fc), rel=1e-12)
    conv, fc = alexnet_counts(False, 4096, 1000)
    assert conv == 3747200 and 0.93 < fc / (conv + fc) < 0.95  # the paper's ~60M parameters, ~94% in fc6-fc8


def test_alexnet_outdated_explanation_gives_the_right_number_for_each_part():
    seen = set()
    for p, answer, variant in variants("alexnet-outdated-explanation", seeds=range(12)):
        part = p["part"]
        seen.add(part)
        if part == "lrn":
            assert f"{p['a'] / (2 + 1e-4 * p['sq']) ** 0.75:.4f}" in answer
        elif part == "two-gpu":
            k2 = p["ksize"] ** 2
            assert f"{p['c_out'] * p['c_in'] // 2 * k2} weights with the split, {p['c_out'] * p['c_in'] * k2} without" in answer
        elif part == "conv1":
            h = out_size(p["h_in"], 11, 4, p["pad"])
            assert answer.startswith(f"output {h} x {h}, {p['c_out'] * 364} parameters")
        else:
            conv, fc = alexnet_counts(False, 4096, p["classes"])
            assert answer.endswith(f"{100 * fc / (conv + fc):.1f}%")
        assert answer in variant.key["model_answer_md"]
    assert seen == {"lrn", "two-gpu", "conv1", "fc"}


def test_alexnet_outdated_explanation_is_graded_by_point_valued_items():
    spec = spec_of("alexnet-outdated-explanation")
    rubric = spec.answer["rubric"]
    assert spec.answer["format"] == "manual" and spec.model_answer.strip()
    assert sum(item["points"] for item in rubric if item["points"] > 0) == 7
    assert any(item["points"] < 0 for item in rubric)


def test_relu_over_tanh_gradient_ratio_is_one_over_the_product_of_tanh_derivatives_or_zero_for_negative_inputs():
    signs = set()
    for p, answer, variant in variants("alexnet-relu-vs-tanh-gradient", seeds=range(8)):
        signs.add(p["sign"])
        tanh_path = (1 - math.tanh(p["z"]) ** 2) ** p["L"]
        ratio = 1 / tanh_path
        shown = format(ratio, ".4g") if ratio < 1000 else str(round(ratio))
        if p["sign"] > 0:
            assert answer == shown
        else:
            assert answer.startswith("0 (ReLU passes no gradient")
            assert shown in [o["text"] for o in variant.public["options"]]  # the forgotten dead ReLU
        assert answer == correct_option(variant)
    assert signs == {1, -1}


PAPER_SECTION_OF = {  # read off the paper, Krizhevsky, Sutskever and Hinton (2012)
    "momentum 0.9": "5 Details of learning", "divid": "5 Details of learning", "biases": "5 Details of learning",
    "principal components": "4.1 Data Augmentation", "random 224": "4.1 Data Augmentation", "ten patches": "4.1 Data Augmentation",
    "probability 0.5": "4.2 Dropout", "CIFAR-10": "3.1 ReLU Nonlinearity", "two GPUs": "3.2 Training on Multiple GPUs",
    "adjacent kernel maps": "3.3 Local Response Normalization", "stride 2 lowering": "3.4 Overlapping Pooling",
    "layer-by-layer": "3.5 Overall Architecture", "37.5%": "6 Results", "Euclidean": "6.1 Qualitative Evaluations",
    "colour-agnostic": "6.1 Qualitative Evaluations", "middle convolutional": "7 Discussion", "shorter side": "2 The Dataset",
}


def test_paper_section_key_matches_the_paper_and_the_introduction_is_never_offered():
    for p, answer, variant in variants("alexnet-paper-section-of-a-finding", seeds=range(10)):
        sections = {section for cue, section in PAPER_SECTION_OF.items() if cue in p["finding"]}
        assert sections == {answer}, p["finding"]
        texts = [o["text"] for o in variant.public["options"]]
        assert answer == correct_option(variant) and texts.count(answer) == 1
        assert not any("Introduction" in text for text in texts)
