"""Lectures 1-4, second edition: the new lecture-1 templates (devices and dtypes, parameter memory, learned
features, compute scaling, why GPUs help), the new lecture-4 templates (a full MLP backward pass, finding the
wrong line of a manual backward with a gradient check), and the audit fixes of the older lecture 1-4 templates.

Every computed answer is checked against an independent calculation in plain Python (no torch, not the
template's code) for a few seeds; the completion template is checked by grading another correct answer (full
marks) and a typical mistake (not full marks).
"""
from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from tests.bank_support import assert_full_marks_only_for_the_correct_fragment, correct_option, variants

BYTES = {"float16": 2, "float32": 4, "float64": 8, "int64": 8, "bool": 1}
MATH_OR_CODE = re.compile(r'<(span|div) class="math[^"]*">.*?</\1>|<code>.*?</code>|<pre>.*?</pre>', re.DOTALL)


def raw_latex_left(html: str) -> list[str]:
    """LaTeX that the renderer did not turn into math (a `$` or a backslash command outside math and code)."""
    text = MATH_OR_CODE.sub("", html)
    return re.findall(r"\$|\\[a-zA-Z]+", text)


# ---------------------------------------------------------------------------------------------- lecture 1

def test_guarded_code_on_a_cpu_machine_stays_on_the_cpu_and_counts_bytes_by_dtype():
    conversions = {"half": "float16", "float": "float32", "double": "float64", "long": "int64", "bool": "bool"}
    for p, answer, _ in variants("cuda-guarded-device-output", seeds=(0, 1, 2, 3)):
        numel = p["n"] * p["m"]
        source, target = p["source"], conversions[p["conv"]]
        expected = (f"cpu torch.{source}\n"
                    f"{BYTES[source]} {numel * BYTES[source]}\n"
                    f"torch.{target} {numel * BYTES[target]} False")
        assert answer == expected


def test_device_error_is_raised_where_cpu_and_gpu_tensors_meet():
    # tensor.to() returns a copy (module.to() moves in place); creating a tensor never fails; a 0-d CPU tensor is
    # allowed with GPU tensors; .numpy() needs a CPU tensor
    raised_by = {"tensor_to_unassigned": "out = model(x)", "model_not_moved": "out = model(x)",
                 "target_on_cpu": "loss = nn.functional.cross_entropy(out, y)", "new_tensor_on_cpu": "out = out * scale",
                 "numpy": "arr = probs.detach().numpy()"}
    for p, _, variant in variants("device-mismatch-error-line", seeds=range(8)):
        marker = raised_by[p["case"]]
        assert correct_option(variant) == f"line {p['lines'].index(marker) + 1}: `{marker}`"


def test_parameter_memory_is_weights_plus_biases_times_the_bytes_of_the_dtype():
    for p, _, variant in variants("parameter-memory-dtype", seeds=(0, 1, 2, 3)):
        sizes = p["sizes"]
        count = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
        width = 8 if "64" in p["conversion"] or "double" in p["conversion"] else \
            2 if "16" in p["conversion"] or "half" in p["conversion"] else 4
        assert correct_option(variant) == f"{count * width:,} bytes"


def _threshold_separates(values, labels) -> bool:
    a = [v for v, y in zip(values, labels) if y == 1]
    b = [v for v, y in zip(values, labels) if y == 0]
    return max(a) < min(b) or max(b) < min(a)


def _some_line_separates(points, labels) -> bool:
    """Strictly separable in the plane iff some direction's projections separate: try the directions just beside
    the normals of the lines through every pair of points (a separating direction range ends at such a normal)."""
    for (x1, y1) in points:
        for (x2, y2) in points:
            if (x1, y1) == (x2, y2):
                continue
            base = math.atan2(y2 - y1, x2 - x1) + math.pi / 2
            for angle in (base - 1e-4, base + 1e-4):
                projections = [x * math.cos(angle) + y * math.sin(angle) for x, y in points]
                if _threshold_separates(projections, labels):
                    return True
    return False


FEATURES = {
    "$x_1$": lambda a, b: a, "$x_2$": lambda a, b: b, "$x_1 + x_2$": lambda a, b: a + b,
    "$x_1 - x_2$": lambda a, b: a - b, "$x_1 \\cdot x_2$": lambda a, b: a * b,
    "$x_1^2 + x_2^2$": lambda a, b: a * a + b * b, "$\\lvert x_1 - x_2 \\rvert$": lambda a, b: abs(a - b),
}


def test_only_the_keyed_feature_separates_the_classes_and_no_line_does():
    for p, _, variant in variants("feature-map-linear-separability", seeds=(0, 1, 2, 3, 4)):
        points = [tuple(pt) for pt in p["pts"]]
        labels = p["labels"]
        key = correct_option(variant)
        for option in (o["text"] for o in variant.public["options"]):
            values = [FEATURES[option](a, b) for a, b in points]
            assert _threshold_separates(values, labels) == (option == key), option
        assert not _some_line_separates(points, labels)


def test_forward_cost_grows_with_the_square_of_the_width_only_between_hidden_layers():
    for p, answer, _ in variants("mlp-width-compute-scaling", seeds=(0, 1, 2, 3)):
        d, h, c, L, k, s = p["d"], p["h"], p["c"], p["n_hidden"], p["k"], p["s"]

        def weights(width):
            return d * width + (L - 1) * width * width + width * c

        assert answer == pytest.approx(s * weights(k * h) / weights(h), rel=1e-12)


def test_gpu_model_answer_counts_the_multiply_adds_of_both_products():
    for p, _, variant in variants("explain-gpu-parallel-matmul"):
        model = variant.key["model_answer_md"]
        assert f"{p['B'] * p['d'] * p['h']:,} multiply-adds" in model
        assert f"only {p['sm'] * p['sn'] * p['sp']} multiply-adds" in model
        assert [item["points"] for item in variant.key["rubric"]] == [1, 2, 1, 1, 1, -1]


def test_representation_learning_model_answer_names_a_feature_of_the_task_s_input():
    example = {"image": "HOG", "audio": "MFCC", "text": "TF-IDF"}
    for p, _, variant in variants("explain-representation-learning", seeds=range(6)):
        task = p["task"]
        modality = "audio" if "audio" in task else "text" if ("e-mails" in task or "reviews" in task) else "image"
        assert example[modality] in variant.key["model_answer_md"]
        assert isinstance(variant.key["rubric"], list) and variant.key["rubric"][0]["points"] == 1


# ---------------------------------------------------------------------------------------------- lecture 3

def test_trajectory_factor_one_minus_two_a_eta_decides_the_learning_rate_range():
    for p, answer, _ in variants("gd-trajectory-learning-rate-range", seeds=(0, 1, 2, 3, 4, 5)):
        a, c, w = p["a"], p["c"], float(p["w0"])
        for _ in range(p["steps"]):
            w = w - p["lr"] * 2 * a * (w - c)
        factor = 1 - 2 * a * p["lr"]
        assert w == pytest.approx(c + factor ** p["steps"] * (p["w0"] - c), abs=1e-9)
        half, full = 1 / (2 * a), 1 / a
        if p["lr"] < 0:
            expected = "$\\eta < 0$"
        elif p["lr"] < half:
            expected = f"$0 < \\eta < {half:g}$"
        elif p["lr"] < full:
            expected = f"${half:g} < \\eta < {full:g}$"
        else:
            expected = f"$\\eta > {full:g}$"
        assert answer == expected


# ---------------------------------------------------------------------------------------------- lecture 4

CORRECT_BACKWARD = {
    5: "dout = 2 * (out - T) / out.numel()", 6: "dW2 = H.T @ dout", 7: "db2 = dout.sum(dim=0)",
    8: "dH = dout @ W2.T", 9: "dZ1 = dH * (Z1 > 0)", 10: "dW1 = X.T @ dZ1", 11: "db1 = dZ1.sum(dim=0)",
}
# which gradients a wrong line spoils: itself and everything computed from it later
SPOILS = {5: {"dW1", "db1", "dW2", "db2"}, 6: {"dW2"}, 7: {"db2"}, 9: {"dW1", "db1"}, 10: {"dW1"}, 11: {"db1"}}


def test_the_wrong_backward_line_is_the_one_that_differs_and_spoils_what_the_check_flags():
    for p, _, variant in variants("manual-backward-bug-line", seeds=(0, 1, 2, 3, 4, 5)):
        lines = p["lines"]
        wrong = [k for k, text in CORRECT_BACKWARD.items() if lines[k - 1] != text]
        assert len(wrong) == 1
        assert correct_option(variant) == f"line {wrong[0]}: `{lines[wrong[0] - 1]}`"
        flagged = {name for name, shown in p["zip_rel"] if float(shown) > 1e-6}
        assert flagged == SPOILS[wrong[0]]
        assert all(float(shown) < 1e-12 or float(shown) > 1e-3 for _, shown in p["zip_rel"])


def test_the_wrong_gradient_is_the_report_far_beyond_what_its_dtype_and_step_allow():
    machine_epsilon = {"float32": 2.0 ** -23, "float64": 2.0 ** -52}
    for p, _, variant in variants("gradient-check-relative-error", seeds=(0, 1, 2, 3, 4, 5)):
        rows = p["rows"]  # student, dtype, h (as shown), relative error (as shown)
        excess = [float(error) / (machine_epsilon[dtype] / float(h) + float(h) ** 2) for _, dtype, h, error in rows]
        worst = max(range(len(rows)), key=lambda k: excess[k])
        assert all(e < 50 for k, e in enumerate(excess) if k != worst)
        assert excess[worst] > 1000
        student, dtype, h, _ = rows[worst]
        assert correct_option(variant) == f"{student} ({dtype}, h = {h})"


MLP_BACKWARD_ALTERNATIVE = """onehot = torch.eye(P.shape[1], dtype=P.dtype)[y]
g_logits = (P - onehot) / len(X)
dW2 = torch.matmul(H.transpose(0, 1), g_logits)
db2 = g_logits.sum(0)
g_z1 = torch.matmul(g_logits, W2.transpose(0, 1)).masked_fill(Z1 <= 0, 0.0)
dW1 = torch.matmul(X.transpose(0, 1), g_z1)
db1 = g_z1.sum(0)"""

MLP_BACKWARD_WITHOUT_RELU_MASK = """dlogits = P.clone()
dlogits[torch.arange(N), y] -= 1
dlogits = dlogits / N
dW2 = H.T @ dlogits
db2 = dlogits.sum(0)
dZ1 = dlogits @ W2.T
dW1 = X.T @ dZ1
db1 = dZ1.sum(0)"""


def test_mlp_backward_accepts_a_one_hot_implementation_and_rejects_a_missing_relu_mask():
    assert_full_marks_only_for_the_correct_fragment("mlp-backprop-completion", MLP_BACKWARD_ALTERNATIVE,
                                                    MLP_BACKWARD_WITHOUT_RELU_MASK)


# ---------------------------------------------------------------------------------------------- audit fixes

def test_chain_rule_stem_and_explanation_render_all_their_latex():
    for p, _, variant in variants("chain-rule-partial-derivative", seeds=range(8)):
        assert "1y^2" not in variant.public["stem_md"] and "+ -" not in variant.public["stem_md"]
        assert raw_latex_left(variant.public["stem_html"]) == []
        assert raw_latex_left(variant.key["explanation_html"]) == []


def test_stable_learning_rate_key_is_not_always_at_the_same_rank():
    ranks = Counter()
    for p, answer, variant in variants("gradient-descent-stable-learning-rate", seeds=range(40)):
        numbers = sorted(float(o["text"]) for o in variant.public["options"])
        ranks[numbers.index(float(answer))] += 1
    assert max(ranks.values()) <= 0.6 * sum(ranks.values()) and len(ranks) >= 3, ranks


def test_two_layer_backprop_answer_is_zero_only_for_a_dead_relu():
    answers = list(variants("two-layer-scalar-backprop", seeds=range(40)))
    zeros = [p for p, answer, _ in answers if answer == 0]
    assert all(p["w1"] * p["x"] + p["b1"] < 0 for p in zeros)
    assert len(zeros) <= 0.3 * len(answers)


def test_autograd_output_explanation_works_out_each_printed_gradient():
    for p, answer, variant in variants("autograd-gradient-output", seeds=range(8)):
        explanation = variant.key["explanation_md"]
        for value in eval(answer):  # the printed list of floats
            assert f"{value:g}" in explanation, (p["expr"], value)
        assert raw_latex_left(variant.key["explanation_html"]) == []


def test_softmax_gradient_options_are_at_least_three_thousandths_apart():
    for _, _, variant in variants("softmax-cross-entropy-logit-gradient", seeds=range(8)):
        numbers = sorted(float(o["text"]) for o in variant.public["options"])
        assert all(b - a >= 0.003 - 1e-9 for a, b in zip(numbers, numbers[1:])), numbers


def test_micrograd_engine_visits_nodes_by_identity_not_by_id():
    from tests.bank_support import spec_of

    assert "id(" not in spec_of("micrograd-overwrite-bug").solution


def test_missing_zero_grad_rubric_is_point_valued_and_model_answer_has_both_updates():
    for p, _, variant in variants("explain-missing-zero-grad"):
        g1 = 2 * p["a"] * p["w0"]
        w1 = p["w0"] - p["lr"] * g1
        g2 = 2 * p["a"] * w1
        model = variant.key["model_answer_md"]
        assert f"{w1 - p['lr'] * (g1 + g2):.4g}" in model and f"{w1 - p['lr'] * g2:.4g}" in model
        assert sum(item["points"] for item in variant.key["rubric"] if item["points"] > 0) == 5
