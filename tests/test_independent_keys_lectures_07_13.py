"""The question bank for lectures 7-13 (Quiz 3: 7-8, lecture 9, Quiz 4: 10-11, lectures 12 and 13).

Every template whose answer has a closed form is checked against an independent calculation in plain Python
(math only: no torch, not the template's own code) for three seeds; completion templates must give full marks
to a different correct answer and less to a typical mistake; and every notebook of these lectures passes the
self-test on a few seeds. No database is needed: notebooks are read from disk and run through the runner.
"""
from __future__ import annotations

import ast
import math

import pytest


from tests.bank_support import assert_full_marks_only_for_the_correct_fragment, correct_option, fmt4, variants


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def out_size(h: int, k: int, s: int = 1, p: int = 0) -> int:
    return (h + 2 * p - k) // s + 1


# ---------------------------------------------------------------------------------------------- Quiz 3: lecture 7

def test_untrained_classifier_loss_is_ln_c_times_the_batch_size_only_for_sum_reduction():
    for p, answer, variant in variants("initial-loss-ln-classes"):
        expected = math.log(p["C"]) * (p["B"] if p["reduction"] == "sum" else 1)
        assert answer == fmt4(expected) == correct_option(variant)


def test_optimizer_steps_are_epochs_times_batches_rounded_per_epoch():
    for p, answer, _ in variants("dataloader-steps-per-epoch"):
        per_epoch = p["N"] // p["B"] if p["drop_last"] else -(-p["N"] // p["B"])
        assert answer == str(p["E"] * per_epoch)


def test_cross_entropy_is_log_sum_exp_minus_the_true_logit():
    for p, answer, _ in variants("cross-entropy-from-logits"):
        z = p["logits"]
        assert answer == pytest.approx(math.log(sum(math.exp(v) for v in z)) - z[p["target"]], abs=1e-9)


def test_last_batch_holds_the_remainder_of_the_images():
    for p, answer, _ in variants("last-batch-shape"):
        rest = p["N"] % p["B"] or p["B"]
        shape = [rest, p["C"] * p["H"] * p["W"]] if p["flatten"] else [rest, p["C"], p["H"], p["W"]]
        assert answer == shape


def test_permuted_image_batch_is_n_c_h_w():
    for p, answer, _ in variants("image-batch-permute-shapes"):
        assert answer.split("\n")[0] == f"torch.Size([{p['B']}, {p['C']}, {p['H']}, {p['W']}])"
        assert answer.split("\n")[1] == ("True" if p["C"] == 1 else "False")


# ---------------------------------------------------------------------------------------------- Quiz 3: lecture 8

def test_conv_output_size_is_floor_of_h_plus_2p_minus_k_over_s_plus_1():
    for p, answer, _ in variants("conv-output-size"):
        assert answer == str(out_size(p["h"], p["k"], p["s"], p["p"]))


def test_conv_parameters_are_c_out_c_in_k_squared_plus_bias():
    for p, answer, _ in variants("conv-layer-parameter-count"):
        expected = p["c_out"] * p["c_in"] * p["k"] ** 2 + (p["c_out"] if p["bias"] else 0)
        assert answer == str(expected)


def test_maxpool_stride_defaults_to_the_kernel_size():
    for p, answer, _ in variants("maxpool-default-stride-shape"):
        k = p["k"]
        assert answer == f"({p['n']}, {p['c']}, {out_size(p['h'], k, k)}, {out_size(p['w'], k, k)})"


def test_lenet_flatten_size_follows_conv_pool_conv_pool():
    for p, answer, _ in variants("lenet-flatten-features"):
        side = out_size(p["H"], p["k"], 1, p["p"]) // 2
        side = out_size(side, p["k"]) // 2
        assert answer == str(p["c2"] * side * side)


def test_cross_correlation_entry_matches_a_plain_python_sliding_window():
    for p, answer, _ in variants("cross-correlation-output-entry"):
        n, k, pad, s = p["n"], len(p["K"]), p["p"], p["s"]
        padded = [[0] * (n + 2 * pad) for _ in range(n + 2 * pad)]
        for r in range(n):
            for c in range(n):
                padded[r + pad][c + pad] = p["X"][r][c]
        i, j = p["i"], p["j"]
        expected = sum(padded[i * s + a][j * s + b] * p["K"][a][b] for a in range(k) for b in range(k))
        assert answer == expected


def test_dense_to_conv_parameter_ratio():
    for p, answer, _ in variants("mlp-vs-cnn-parameter-ratio"):
        n_in, n_out = p["c_in"] * p["H"] ** 2, p["c_out"] * p["H"] ** 2
        conv = p["c_out"] * p["c_in"] * p["k"] ** 2 + p["c_out"]
        assert answer == pytest.approx((n_in * n_out + n_out) / conv, rel=1e-12)


@pytest.mark.parametrize("bug, line", [
    ("channels", "h = pool(F.relu(conv(x)))"), ("fc_size", "logits = fc(h)"), ("flatten_batch", "logits = fc(h)"),
    ("labels_from_one", "loss = F.cross_entropy(logits, y)"), ("loss_not_scalar", "loss.backward()"),
])
def test_cnn_error_is_raised_where_the_bad_tensor_is_first_used(bug, line):
    found = 0
    for p, answer, variant in variants("cnn-error-line", seeds=range(40)):
        if p["bug"] == bug:
            assert answer == f"`{line}`" == correct_option(variant)
            found += 1
        if found == 2:
            break
    assert found


# ---------------------------------------------------------------------------------------------- lecture 9

def test_pmf_variance_is_second_moment_minus_squared_mean():
    for p, answer, _ in variants("pmf-variance"):
        mean = sum(x * q for x, q in zip(p["values"], p["probs"]))
        second = sum(x * x * q for x, q in zip(p["values"], p["probs"]))
        assert answer == format(second - mean ** 2, ".2f")


def test_bayes_posterior_after_a_flag():
    for p, answer, _ in variants("bayes-rule-positive-alarm"):
        joint = p["tpr"] * p["prior"]
        assert answer == pytest.approx(joint / (joint + p["fpr"] * (1 - p["prior"])), rel=1e-12)


def test_variance_of_linear_combination_includes_twice_the_covariance():
    for p, answer, _ in variants("variance-of-linear-combination"):
        a, b = p["a"], p["b"]
        assert answer == str(a * a * p["var_x"] + b * b * p["var_y"] + 2 * a * b * p["cov"])


# ---------------------------------------------------------------------------------------------- Quiz 4: lecture 10

def test_he_std_is_sqrt_two_over_fan_in():
    for p, answer, _ in variants("he-init-relu-std"):
        assert answer == format(math.sqrt(2 / p["n_in"]), ".5f")


def test_inverted_dropout_scales_survivors_in_training_and_is_identity_in_eval():
    for p, answer, _ in variants("dropout-train-eval-value", seeds=range(6)):
        expected = p["a"] / (1 - p["p"]) if p["mode"] == "train" else p["a"]
        assert answer == format(expected, "#.4g")


def test_weight_decay_adds_lambda_w_to_the_gradient():
    for p, answer, _ in variants("weight-decay-sgd-step"):
        assert answer == format(p["w0"] - p["lr"] * (p["g"] + p["wd"] * p["w0"]), ".5f")


def test_early_stopping_restores_the_best_epoch_before_patience_runs_out():
    for p, answer, _ in variants("early-stopping-restored-epoch", seeds=range(5)):
        best_loss, best, wait = math.inf, 0, 0
        for epoch, loss in enumerate(p["val"], start=1):
            if loss < best_loss:
                best_loss, best, wait = loss, epoch, 0
            else:
                wait += 1
                if wait == p["patience"]:
                    break
        assert answer == f"epoch {best}"


def test_clipped_component_is_scaled_by_max_norm_over_global_norm():
    for p, answer, _ in variants("clip-grad-norm-value"):
        norm = math.sqrt(sum(g * g for g in p["g_w"] + p["g_b"]))
        g = (p["g_w"] if p["which"] == "w" else p["g_b"])[p["idx"]]
        expected = g * min(1.0, p["max_norm"] / norm)
        assert answer == pytest.approx(expected, abs=1e-5)


def test_sigmoid_chain_gradient_is_a_product_of_local_derivatives():
    for p, answer, _ in variants("sigmoid-depth-gradient-shrinkage"):
        h, grad = p["x"], 1.0
        for _ in range(p["L"]):
            h = sigmoid(p["w"] * h)
            grad *= p["w"] * h * (1 - h)
        assert answer == pytest.approx(grad, rel=1e-9)


def test_dropout_is_identity_in_eval_and_still_active_under_no_grad():
    for p, answer, _ in variants("dropout-modes-output"):
        c, scaled = p["c"], p["c"] / (1 - p["p"])
        mode = "train"  # a new module starts in training mode; no_grad does not change it
        for step, line in zip(p["order"], answer.split("\n")):
            if step != "nograd":
                mode = step
            printed = ast.literal_eval(line.split(":", 1)[1].strip())
            assert printed == ([c] if mode == "eval" else pytest.approx([0.0, scaled]))


def test_l2_penalty_gradient_is_x_plus_lambda_or_two_lambda_w():
    for p, answer, _ in variants("l2-penalty-gradient-output"):
        factor = 2 * p["lam"] if p["squared"] else p["lam"]
        grad = [x + factor * w for x, w in zip(p["x"], p["w"])]
        loss = sum(w * x for w, x in zip(p["w"], p["x"])) + factor / 2 * sum(w * w for w in p["w"])
        first, second = answer.split("\n")
        assert ast.literal_eval(first) == pytest.approx(grad)
        assert float(second) == pytest.approx(loss)


# ---------------------------------------------------------------------------------------------- Quiz 4: lecture 11

def test_momentum_long_run_step_is_lr_g_over_one_minus_beta():
    for p, answer, _ in variants("momentum-terminal-step"):
        assert answer == format(p["lr"] * p["g"] / (1 - p["beta"]), "#.4g")


def test_steplr_rate_is_lr0_times_gamma_to_the_number_of_boundaries_passed():
    for p, answer, _ in variants("steplr-learning-rate", seeds=range(6)):
        if p["kind"] == "step":
            decays = p["epoch"] // p["step_size"]
        else:
            decays = sum(p["epoch"] >= m for m in p["milestones"])
        assert answer == format(p["lr0"] * p["gamma"] ** decays, "#.3g")


def test_two_adam_steps_match_the_textbook_update():
    b1, b2, eps = 0.9, 0.999, 1e-8
    for p, answer, _ in variants("adam-two-steps"):
        w, m, v = p["w0"], 0.0, 0.0
        for t, g in enumerate((p["g1"], p["g2"]), start=1):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            w -= p["lr"] * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
        assert answer == pytest.approx(w, abs=1e-9)


def test_three_momentum_steps_on_a_quadratic():
    for p, answer, _ in variants("sgd-momentum-three-steps"):
        w, v = float(p["w0"]), 0.0
        for _ in range(3):
            v = p["beta"] * v + p["a"] * (w - p["c"])
            w -= p["lr"] * v
        assert answer == pytest.approx(w, abs=1e-9)


@pytest.mark.parametrize("bug, line", [
    ("zero_before_update", "model.zero_grad("), ("rebinds_p", "p = p - "), ("ascent", "p += "),
])
def test_loss_not_decreasing_bug_is_the_line_that_breaks_the_update(bug, line):
    found = 0
    for p, answer, _ in variants("loss-not-decreasing-bug", seeds=range(30)):
        if p["bug"] == bug:
            assert answer.startswith(f"`{line}")
            found += 1
        if found == 2:
            break
    assert found


def test_optimizer_templates_agree_with_torch_optim():
    """The optimizer templates write PyTorch's update rules out by hand (in the sandbox the first optimizer.step()
    imports torch._dynamo, which takes seconds); here the same numbers come from torch.optim itself."""
    import torch

    def run(params, opt_factory, grads):
        w = torch.tensor([float(params)], dtype=torch.float64, requires_grad=True)
        opt = opt_factory([w])
        for g in grads:
            w.grad = torch.tensor([float(g)], dtype=torch.float64)
            opt.step()
        return w.item()

    for p, answer, _ in variants("weight-decay-sgd-step", seeds=(0,)):
        w1 = run(p["w0"], lambda ps: torch.optim.SGD(ps, lr=p["lr"], weight_decay=p["wd"]), [p["g"]])
        assert answer == format(w1, ".5f")
    for p, answer, _ in variants("adam-two-steps", seeds=(0,)):
        w2 = run(p["w0"], lambda ps: torch.optim.Adam(ps, lr=p["lr"]), [p["g1"], p["g2"]])
        assert answer == pytest.approx(w2, abs=1e-12)
    for p, answer, _ in variants("momentum-terminal-step", seeds=(0,)):
        w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w], lr=p["lr"], momentum=p["beta"])
        for _ in range(800):
            before = w.item()
            w.grad = torch.full((1,), p["g"], dtype=torch.float64)
            opt.step()
        assert answer == format(round(abs(w.item() - before), 10), "#.4g")
    for p, answer, _ in variants("steplr-learning-rate", seeds=(0, 1, 2, 3)):
        w = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([w], lr=p["lr0"], momentum=0.9)
        if p["kind"] == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=p["step_size"], gamma=p["gamma"])
        else:
            sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=p["milestones"], gamma=p["gamma"])
        for _ in range(p["epoch"]):
            opt.step()
            sched.step()
        assert answer == format(opt.param_groups[0]["lr"], "#.3g")


# ---------------------------------------------------------------------------------------------- lectures 12 and 13

def test_curve_diagnosis_follows_the_gap_and_the_level():
    starts = {"overfit": "Add regularization", "underfit": "Increase capacity", "diverge": "Lower the learning rate"}
    for p, answer, _ in variants("diagnose-training-curves", seeds=range(6)):
        assert answer.startswith(starts[p["case"]])


def test_cifar_cnn_parameter_count_sums_conv_bn_and_linear_layers():
    for p, answer, _ in variants("cifar-cnn-parameter-count"):
        c1, c2, hid, bn = p["c1"], p["c2"], p["hidden"], p["use_bn"]
        conv = c1 * 3 * 9 + c2 * c1 * 9 + (0 if bn else c1 + c2)
        norm = 2 * (c1 + c2) if bn else 0
        dense = c2 * 64 * hid + hid + hid * 10 + 10
        assert answer == conv + norm + dense


def test_weight_decay_groups_split_matrices_from_vectors():
    for p, answer, _ in variants("weight-decay-param-groups-output"):
        c1, c2, k, out = p["c1"], p["c2"], p["k"], p["out"]
        decay = c1 * 3 * k * k + c2 * c1 * k * k + out * c2
        no_decay = 3 * (c1 + c2) + out
        names = ["0.bias", "1.weight", "1.bias", "4.bias", "5.weight", "5.bias", "9.bias"]
        assert answer.split("\n") == ["3 7", f"{decay} {no_decay}", str(names)]


def test_alexnet_layer_parameters_respect_the_two_gpu_grouping():
    for p, answer, _ in variants("alexnet-layer-parameters", seeds=range(5)):
        if p["lkind"] == "conv":
            weights = p["n_out"] * (p["n_in"] // p["groups"]) * p["ksize"] ** 2
        else:
            weights = p["n_in"] * p["n_out"]
        assert answer == weights + (p["n_out"] if p["bias"] else 0)


def test_overlapping_pooling_output_size():
    for p, answer, _ in variants("overlapping-pooling-output"):
        assert answer == str(out_size(p["h"], p["z"], p["s"]))


def test_crop_and_flip_views_count_every_offset_inclusive():
    for p, answer, _ in variants("alexnet-crop-augmentation-count"):
        assert answer == str((p["S"] - p["C"] + 1) ** 2 * (2 if p["flips"] else 1))


# ---------------------------------------------------------------------------------------------- completion grading

CORR2D_ALTERNATIVE = """
H, W = X.shape
kh, kw = K.shape
Xp = torch.zeros(H + 2 * padding, W + 2 * padding, dtype=X.dtype)
Xp[padding:padding + H, padding:padding + W] = X
rows = range(0, H + 2 * padding - kh + 1, stride)
cols = range(0, W + 2 * padding - kw + 1, stride)
return torch.stack([torch.stack([(Xp[r:r + kh, c:c + kw] * K).sum() for c in cols]) for r in rows])
"""
CORR2D_FLIPPED = """
import torch.nn.functional as F
return F.conv2d(X[None, None], torch.flip(K, (0, 1))[None, None], stride=stride, padding=padding)[0, 0]
"""
CE_ALTERNATIVE = """
shifted = logits - logits.max(dim=1, keepdim=True).values
log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
return -log_probs.gather(1, targets[:, None]).mean()
"""
CE_NAIVE = """
probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
return -torch.log(probs[torch.arange(len(targets)), targets]).mean()
"""
ADAM_ALTERNATIVE = """
m_new = m + (1 - beta1) * (g - m)
v_new = v + (1 - beta2) * (g ** 2 - v)
step = lr * (m_new / (1 - beta1 ** t)) / ((v_new / (1 - beta2 ** t)).sqrt() + eps)
return p - step, m_new, v_new
"""
ADAM_NO_BIAS_CORRECTION = """
m = beta1 * m + (1 - beta1) * g
v = beta2 * v + (1 - beta2) * g * g
return p - lr * m / (torch.sqrt(v) + eps), m, v
"""
CLIP_ALTERNATIVE = """
norm = float(torch.cat([g.flatten() for g in grads]).norm())
factor = min(1.0, max_norm / norm)
return [g * factor for g in grads], norm
"""
CLIP_PER_TENSOR = """
out = []
for g in grads:
    n = float(g.norm())
    out.append(g * (max_norm / n) if n > max_norm else g.clone())
return out, float(torch.cat([g.flatten() for g in grads]).norm())
"""


@pytest.mark.parametrize("slug, correct, mistaken", [
    ("corr2d-padding-stride-completion", CORR2D_ALTERNATIVE, CORR2D_FLIPPED),
    ("stable-cross-entropy-completion", CE_ALTERNATIVE, CE_NAIVE),
    ("adam-step-completion", ADAM_ALTERNATIVE, ADAM_NO_BIAS_CORRECTION),
    ("clip-grad-norm-completion", CLIP_ALTERNATIVE, CLIP_PER_TENSOR),
])
def test_completion_accepts_another_correct_answer_and_rejects_a_typical_mistake(slug, correct, mistaken):
    assert_full_marks_only_for_the_correct_fragment(slug, correct, mistaken)

