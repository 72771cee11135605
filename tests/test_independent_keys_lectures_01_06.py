"""The question bank for lectures 1-6 (Quiz 1: 1-3, lecture 4, Quiz 2: 5-6).

Every template's computed answer is checked against an independent calculation in plain Python (no torch,
not the template's own code) for a few seeds, and every notebook passes the self-test on a few seeds.
Completion templates are checked by grading a correct alternative answer (full marks) and a typical
mistake (not full marks). No database is needed: notebooks are read from disk and run through the runner.
"""
from __future__ import annotations

import math

import pytest


from tests.bank_support import assert_full_marks_only_for_the_correct_fragment, fmt4, variants


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# ---------------------------------------------------------------------------------------------- Quiz 1

def test_chain_rule_answer_is_k_u_to_the_k_minus_1_times_a():
    for p, answer, _ in variants("chain-rule-partial-derivative"):
        u = p["a"] * p["x"] + p["b"] * p["y"] ** 2
        assert answer == str(p["k"] * u ** (p["k"] - 1) * p["a"])


def test_quadratic_form_gradient_is_a_plus_a_transpose_times_x():
    for p, answer, _ in variants("quadratic-form-gradient"):
        A, x = p["A"], p["x"]
        g = [sum((A[i][j] + A[j][i]) * x[j] for j in range(2)) for i in range(2)]
        assert answer == f"$({g[0]},\\ {g[1]})^\\top$"


def test_batched_matmul_broadcasts_the_batch_dimensions():
    for p, answer, _ in variants("batched-matmul-broadcast-shape"):
        assert answer == f"({p['B']}, {p['K']}, {p['m']}, {p['p']})"


def test_one_gradient_descent_step_subtracts_lr_times_the_derivative():
    for p, answer, _ in variants("gradient-descent-one-step"):
        w1 = p["w0"] - p["lr"] * 2 * p["a"] * (p["w0"] - p["c"])
        assert answer == format(w1, ".3f")


def test_stable_learning_rate_is_one_over_the_largest_coefficient():
    for p, answer, _ in variants("gradient-descent-stable-learning-rate"):
        assert answer == format(1.0 / max(p["a1"], p["a2"]), "#.4g")


def test_micrograd_overwrite_bug_keeps_a_single_path_contribution():
    single_path = {"a * a": lambda a, b: a, "(a + a) * b": lambda a, b: b,
                   "(a * a) * b": lambda a, b: a * b, "a * b + a * b": lambda a, b: b}
    for p, answer, _ in variants("micrograd-overwrite-bug"):
        assert answer == str(single_path[p["expr"]](p["a_val"], p["b_val"]))


def test_vector_norm_distance_matches_the_definition():
    for p, answer, _ in variants("vector-norm-distance"):
        diff = [abs(a - b) for a, b in zip(p["u"], p["v"])]
        expected = {"L1": sum(diff), "L2": math.sqrt(sum(d * d for d in diff)), "Linf": max(diff)}[p["p_name"]]
        assert answer == pytest.approx(expected, abs=1e-9)


def test_computational_graph_gradient_matches_central_differences():
    for p, answer, _ in variants("computational-graph-backward"):
        def f(**inputs):
            env = dict(inputs)
            for line in p["code_lines"]:
                exec(line.replace("torch.maximum", "max"), {}, env)
            return env["f"]
        point = {"x": p["x"], "y": p["y"], "z": p["z"]}
        h = 1e-6
        up, down = dict(point), dict(point)
        up[p["wrt"]] += h
        down[p["wrt"]] -= h
        assert answer == round((f(**up) - f(**down)) / (2 * h))


def test_k_gradient_descent_steps_follow_the_geometric_closed_form():
    for p, answer, _ in variants("gradient-descent-k-steps"):
        expected = p["c"] + (1 - 2 * p["a"] * p["lr"]) ** p["k"] * (p["w0"] - p["c"])
        assert answer == pytest.approx(expected, abs=1e-9)


def test_missing_zero_grad_model_answer_sums_both_gradients():
    for p, answer, variant in variants("explain-missing-zero-grad"):
        g1 = 2 * p["a"] * p["w0"]
        g2 = 2 * p["a"] * (p["w0"] - p["lr"] * g1)
        assert f"{g1 + g2:g}" in answer
        assert f"{g1 + g2:.4g}" in variant.key["model_answer_md"]


def test_broadcasting_output_prints_the_broadcast_and_reduced_shapes():
    for p, answer, _ in variants("broadcasting-shape-output"):
        a = [1] * (3 - len(p["sa"])) + p["sa"]
        b = [1] * (3 - len(p["sb"])) + p["sb"]
        shape = [max(x, y) for x, y in zip(a, b)]
        dim = p["dim"] % 3
        reduced = [1 if i == dim else s for i, s in enumerate(shape)] if p["keep"] else \
            [s for i, s in enumerate(shape) if i != dim]
        assert answer == f"{tuple(shape)}\n{tuple(reduced)}"


def test_shape_mismatch_is_raised_where_the_shapes_are_combined():
    for p, answer, _ in variants("shape-mismatch-error-line"):
        line = 7 if p["bug"] == "w2_orientation" else 6
        assert answer.startswith(f"line {line}: ")


def test_autograd_gradient_output_matches_hand_derivatives():
    for p, answer, _ in variants("autograd-gradient-output"):
        x, c, n = p["xs"], p["c"], len(p["xs"])
        total = sum(x)
        grads = {
            f"({c} * x ** 2).sum()": [2 * c * v for v in x],
            "(x ** 3).sum()": [3 * v * v for v in x],
            "(x * x.sum()).sum()": [2 * total for _ in x],
            "x.prod()": [math.prod(x) / v for v in x],
            f"({c} * x.relu()).sum()": [float(c) if v > 0 else 0.0 for v in x],
            "x.max()": [1.0 if v == max(x) else 0.0 for v in x],
            "(x ** 2).mean()": [2 * v / n for v in x],
        }[p["expr"]]
        assert answer == str([float(g) for g in grads])


def test_accumulated_gradients_add_up_until_zeroed():
    for p, answer, _ in variants("gradient-accumulation-output"):
        g, running, lines = 2 * p["a"] * p["w0"] + p["b"], 0, []
        for step in range(p["n"]):
            if step == p["zero_at"]:
                running = 0
            running += g
            lines.append(str(float(running)))
        assert answer == "\n".join(lines)


def test_autograd_error_line_depends_on_the_failure():
    for p, answer, _ in variants("autograd-error-line"):
        marker = {"non_scalar": "z.backward()", "second_backward": "loss.backward()", "numpy": "arr = w.numpy()",
                  "no_grad": "y.backward()"}[p["case"]]
        lines = p["lines"]
        hits = [i + 1 for i, line in enumerate(lines) if line.strip() == marker]
        expected = hits[-1]  # the second backward in the second_backward case
        assert answer == f"line {expected}: `{lines[expected - 1].strip()}`"


def test_view_shares_memory_and_reshape_of_a_transpose_copies():
    for p, answer, _ in variants("tensor-view-aliasing-output"):
        n, m = p["n"], p["m"]
        flat = list(range(n * m))
        transposed = [flat[r * m + col] for col in range(m) for r in range(n)]  # a.t() in reading order
        c = [transposed[r * m:(r + 1) * m] for r in range(n)]
        flat[p["i"] * n + p["j"]] = p["value"]
        a = [flat[r * m:(r + 1) * m] for r in range(n)]
        assert answer == f"{a}\n{c}\nFalse"


def test_dtype_promotion_follows_the_category_rules():
    expected = {
        "(i + f).dtype": "torch.float32", "(i / 2).dtype": "torch.float32", "(i // 2).dtype": "torch.int64",
        "(i * 2.5).dtype": "torch.float32", "(f + d).dtype": "torch.float64", "(i + j).dtype": "torch.int64",
        "(f + torch.tensor(1.0, dtype=torch.float64)).dtype": "torch.float32",
        "(j + torch.tensor(3.0, dtype=torch.float64)).dtype": "torch.float64",
        "(j + 7).dtype": "torch.int32", "(i > 1).dtype": "torch.bool", "(i + (i > 1)).dtype": "torch.int64",
    }
    for p, answer, _ in variants("dtype-promotion-output"):
        assert answer == "\n".join(expected[e] for e in p["exprs"])


# ---------------------------------------------------------------------------------------------- lecture 4
def test_batch_gradient_sums_or_averages_the_per_example_gradients():
    for p, answer, _ in variants("batch-reduction-gradient-output"):
        X, w, N = p["X"], p["w"], p["N"]
        scores = [sum(x * v for x, v in zip(row, w)) for row in X]
        factors = [2 * s if p["square"] else 1 for s in scores]
        grad = [sum(f * row[k] for f, row in zip(factors, X)) for k in range(len(w))]
        if p["reduction"] == "mean":
            grad = [g / N for g in grad]
        assert answer == str([float(g) for g in grad])



def test_two_layer_backprop_matches_the_chain_rule():
    for p, answer, _ in variants("two-layer-scalar-backprop"):
        z = p["w1"] * p["x"] + p["b1"]
        h = max(z, 0.0)
        dy = p["w2"] * h + p["b2"] - p["t"]
        dz = dy * p["w2"] * (1.0 if z > 0 else 0.0)
        expected = {"w_1": dz * p["x"], "b_1": dz, "w_2": dy * h}[p["wrt"]]
        assert answer == pytest.approx(expected, abs=1e-9)


def test_softmax_cross_entropy_gradient_is_p_minus_one_hot():
    for p, answer, _ in variants("softmax-cross-entropy-logit-gradient"):
        exps = [math.exp(v) for v in p["logits"]]
        prob = exps[p["j"]] / sum(exps)
        assert answer == format(prob - (1.0 if p["j"] == p["target"] else 0.0), ".3f")


# ---------------------------------------------------------------------------------------------- Quiz 2

def test_activation_derivatives_follow_the_textbook_formulas():
    for p, answer, _ in variants("activation-derivative-value"):
        z = p["z"]
        if p["act"] == "sigmoid":
            expected = sigmoid(z) * (1 - sigmoid(z))
        elif p["act"] == "tanh":
            expected = 1 - math.tanh(z) ** 2
        else:
            expected = p["alpha"] if z < 0 else 1.0
        assert answer == format(expected, ".4f")


def test_sigmoid_chain_bound_is_quarter_w_to_the_depth():
    for p, answer, _ in variants("sigmoid-chain-vanishing-gradient"):
        assert answer == format((p["w"] / 4) ** p["L"], ".3g")


def test_dead_relu_count_checks_every_example():
    for p, answer, _ in variants("dead-relu-units-on-batch"):
        X, W, b = p["X"], p["W"], p["b"]
        dead = sum(all(sum(W[j][k] * row[k] for k in range(2)) + b[j] <= 0 for row in X) for j in range(4))
        assert answer == str(dead)


def test_mlp_parameter_count_includes_weights_and_biases():
    for p, answer, _ in variants("mlp-parameter-count"):
        sizes = p["sizes"]
        assert answer == str(sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:])))


def test_linear_stack_rank_is_the_narrowest_width():
    for p, answer, _ in variants("linear-stack-max-rank"):
        assert answer == str(min(p["widths"]))


def test_neuron_output_applies_the_activation_to_the_weighted_sum():
    for p, answer, _ in variants("neuron-output-value"):
        z = sum(w * x for w, x in zip(p["w"], p["x"])) + p["b"]
        expected = {"sigmoid": sigmoid, "tanh": math.tanh, "relu": lambda v: max(v, 0.0)}[p["act"]](z)
        assert answer == pytest.approx(expected, abs=1e-9)


def test_neuron_weight_gradient_is_error_times_slope_times_input():
    for p, answer, _ in variants("neuron-weight-gradient"):
        z = sum(w * x for w, x in zip(p["w"], p["x"])) + p["b"]
        y = sigmoid(z) if p["act"] == "sigmoid" else math.tanh(z)
        slope = y * (1 - y) if p["act"] == "sigmoid" else 1 - y * y
        assert answer == pytest.approx((y - p["t"]) * slope * p["x"][p["i"]], abs=1e-9)


def test_mlp_forward_integer_output():
    for p, answer, _ in variants("mlp-forward-integer"):
        hidden = [max(sum(w * x for w, x in zip(row, p["x"])) + b, 0) for row, b in zip(p["W1"], p["b1"])]
        assert answer == sum(w * h for w, h in zip(p["w2"], hidden)) + p["b2"]


def test_linear_layer_output_shape_follows_the_last_dimension_rule():
    for p, answer, _ in variants("linear-layer-output-shape"):
        shape, c = list(p["in_shape"]), p["c"]
        expected = shape[:-1] + [c] if p["case"] in ("sequence", "image_no_flatten") else [shape[0], c]
        assert answer == expected


def test_linear_collapse_model_answer_gives_w2_times_w1():
    for p, answer, _ in variants("explain-linear-layers-collapse"):
        W1, W2 = p["W1"], p["W2"]
        M = [[sum(W2[i][k] * W1[k][j] for k in range(2)) for j in range(2)] for i in range(2)]
        assert f"M = W2 W1 = {M}" in answer


def test_softmax_rows_sum_to_one_only_over_the_class_dimension():
    for p, answer, _ in variants("softmax-dim-output"):
        rows_ok = p["dim"] in (1, -1)
        assert answer == f"({p['N']}, {p['C']})\n{rows_ok}\n{not rows_ok}"


class _F:
    """Plain-Python versions of the activation calls the program may print."""

    @staticmethod
    def relu(x):
        return [max(v, 0.0) for v in x]

    @staticmethod
    def leaky_relu(x, negative_slope):
        return [v if v > 0 else v * negative_slope for v in x]

    @staticmethod
    def hardtanh(x, min_val, max_val):
        return [min(max(v, min_val), max_val) for v in x]

    @staticmethod
    def relu6(x):
        return [min(max(v, 0.0), 6.0) for v in x]

    @staticmethod
    def threshold(x, t, value):
        return [v if v > t else value for v in x]

    @staticmethod
    def clamp(x, min):  # noqa: A002 - torch's keyword
        return [v if v > min else min for v in x]


class _List(list):
    def tolist(self):
        return [float(v) for v in self]


def test_activation_functions_output_matches_elementwise_definitions():
    for p, answer, _ in variants("activation-functions-output"):
        namespace = {"F": _F, "torch": _F, "x": p["xs"]}
        printed = [str(_List(eval(call, namespace)).tolist()) for call in p["calls"]]
        assert answer == "\n".join(printed)


def test_inplace_error_line_depends_on_what_autograd_saved():
    for p, answer, _ in variants("inplace-activation-error-line"):
        expected = {"saved_output": "line 6", "leaf": "line 3", "safe_relu": None, "safe_clone": None}[p["case"]]
        if expected is None:
            assert answer.startswith("No error")
        else:
            assert answer.startswith(f"`RuntimeError` at {expected}:")


def test_training_loop_bug_is_the_line_that_was_broken():
    for p, answer, _ in variants("training-loop-bug-line"):
        marker = {"zero_grad_after_backward": "model.zero_grad(set_to_none=False)", "rebinding_update": "p = p - lr * p.grad",
                  "negative_lr": f"lr = -{p['lr']}"}[p["bug"]]
        line = next(i + 1 for i, text in enumerate(p["lines"]) if text.strip() == marker)
        assert answer == f"line {line}: `{marker}`"


# ---------------------------------------------------------------------------------------------- completions

COMPLETION_CASES = [
    ("sgd-step-completion",
     "with torch.no_grad():\n    for q in params:\n        q.sub_(lr * q.grad)\n        q.grad.zero_()",
     "for q in params:\n    q.data = q.data - lr * q.grad"),
    ("numerical-gradient-completion",
     "out = torch.empty_like(x)\nfor idx in range(x.numel()):\n    xp = x.clone().reshape(-1); xm = x.clone().reshape(-1)\n"
     "    xp[idx] += h; xm[idx] -= h\n    out.reshape(-1)[idx] = (f(xp.reshape(x.shape)) - f(xm.reshape(x.shape))) / (2 * h)\nreturn out",
     "out = torch.empty_like(x)\nfor idx in range(x.numel()):\n    xp = x.clone().reshape(-1)\n"
     "    xp[idx] += h\n    out.reshape(-1)[idx] = (f(xp.reshape(x.shape)) - f(x)) / h\nreturn out"),
    ("linear-layer-backward-completion",
     "dX = torch.einsum('nj,ji->ni', dY, W)\ndW = torch.einsum('nj,ni->ji', dY, X)\ndb = dY.sum(0)",
     "dX = dY @ W\ndW = X.T @ dY\ndb = dY.mean(0)"),
    ("micrograd-tanh-backward-completion",
     "self.grad = self.grad + (1 - out.data * out.data) * out.grad",
     "self.grad = (1 - t ** 2) * out.grad"),
    ("mlp-forward-completion",
     "lin = lambda A, W, b: A @ W.T + b\nH = {'relu': torch.relu, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid}[act](lin(X, W1, b1))\nreturn lin(H, W2, b2)",
     "return torch.relu(X @ W1.T + b1) @ W2.T"),
    ("training-step-completion",
     "opt.zero_grad()\nlogits = model(X)\nloss = nn.CrossEntropyLoss()(logits, y)\nloss.backward()\nopt.step()\nreturn float(loss)",
     "loss = F.cross_entropy(model(X), y)\nloss.backward()\nopt.step()\nreturn loss.item()"),
]


@pytest.mark.parametrize("slug, correct, mistaken", COMPLETION_CASES, ids=[c[0] for c in COMPLETION_CASES])
def test_completion_accepts_another_correct_answer_and_rejects_a_typical_mistake(slug, correct, mistaken):
    assert_full_marks_only_for_the_correct_fragment(slug, correct, mistaken)

