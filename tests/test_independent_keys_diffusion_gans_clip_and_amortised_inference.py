"""Independent keys for the second-edition templates of lectures 26-29: amortised inference, a discrete ELBO,
active latent dimensions, the DDPM reverse step, the noise-prediction loss, score matching, sampler cost and
trajectories, GANs (beyond the syllabus, tagged `gan`), and CLIP's contrastive loss when one pair's similarity
rises.

Every answer is recomputed here in plain Python (`math`, lists), by a different route where one exists:
finite differences for scores and gradients, the x_0 form of the posterior mean, counting loop iterations,
explicit softmaxes, a grid search for the optimal discriminator, reading the printed logs like a student.
"""
from __future__ import annotations

import math

import pytest

from tests.bank_support import assert_full_marks_only_for_the_correct_fragment, correct_option, variants

SEEDS = (0, 5, 11, 23)
MANY_SEEDS = tuple(range(12))


def options(variant) -> list[str]:
    return [option["text"] for option in variant.public["options"]]


def assert_options_apart(variant, step: float) -> None:
    values = sorted(float(text) for text in options(variant))
    assert min(b - a for a, b in zip(values, values[1:])) >= step


# --- lecture 25: cross-entropy = entropy + KL (manually graded) -------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_model_answer_gives_the_mean_nll_of_the_counted_labels(seed: int) -> None:
    for p, _answer, variant in variants("cross-entropy-kl-decomposition-explained", (seed,)):
        q, counts, n = p["q"], p["counts"], p["N"]
        assert sum(counts) == n
        labels = [k for k, c in enumerate(counts) for _ in range(c)]  # the training set, one label per example
        mean_nll = sum(-math.log(q[k]) for k in labels) / n
        freqs = [c / n for c in counts]
        entropy = -sum(f * math.log(f) for f in freqs)
        kl = sum(f * math.log(f / qk) for f, qk in zip(freqs, q))
        assert mean_nll == pytest.approx(entropy + kl, abs=1e-9)
        model_answer = variant.key["model_answer_md"]
        for value in (mean_nll, entropy, kl):
            assert f"{value:.3f}" in model_answer
        assert isinstance(variant.key["rubric"], list)


# --- lecture 26: amortised inference ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_per_datapoint_inference_grows_with_n_and_the_encoder_does_not(seed: int) -> None:
    for p, _answer, variant in variants("amortised-inference-parameter-count", (seed,)):
        n, dz, d, h = p["N"], p["dz"], p["D"], p["H"]
        per_image = [0] * n
        for i in range(n):  # a mean and a log-variance for every latent dimension of every image
            per_image[i] = dz + dz
        encoder = (d * h + h) + (h * 2 * dz + 2 * dz)
        expected = sum(per_image) if p["ask"] == "per_datapoint" else encoder
        assert correct_option(variant) == str(expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_discrete_elbo_is_log_evidence_minus_the_kl_to_the_exact_posterior(seed: int) -> None:
    for p, _answer, variant in variants("discrete-latent-elbo-value", (seed,)):
        joint = [a * b for a, b in zip(p["prior"], p["lik"])]
        evidence = sum(joint)
        posterior = [j / evidence for j in joint]
        kl = sum(qk * math.log(qk / pk) for qk, pk in zip(p["q"], posterior))
        assert kl > 0
        assert correct_option(variant) == f"{math.log(evidence) - kl:.3f}"
        assert_options_apart(variant, 0.01)


# --- lecture 27: active latent dimensions ----------------------------------------------------------------

@pytest.mark.parametrize("seed", MANY_SEEDS)
def test_active_dimensions_are_the_ones_whose_kl_is_clearly_above_zero(seed: int) -> None:
    for p, _answer, variant in variants("vae-active-latent-dimensions", (seed,)):
        kl = [float(v) for v in p["kl_text"].split(", ")]
        assert len(kl) == p["dz"]
        collapsed = [v for v in kl if v < 0.05]
        assert all(v <= 0.02 for v in collapsed) and all(v >= 0.25 for v in kl if v >= 0.05)
        assert correct_option(variant) == str(len(kl) - len(collapsed))


# --- lecture 28: diffusion -------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_reverse_mean_equals_the_posterior_mean_written_with_the_x0_estimate(seed: int) -> None:
    for p, _answer, variant in variants("ddpm-reverse-mean-from-predicted-noise", (seed,)):
        beta, ab, x_t, eps = p["beta_t"], p["alpha_bar_t"], p["x_t"], p["eps_hat"]
        alpha = 1 - beta
        ab_prev = ab / alpha
        x0_hat = (x_t - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
        # mean of q(x_{t-1} | x_t, x_0): a weighted average of x_0 and x_t
        mean = (math.sqrt(ab_prev) * beta / (1 - ab)) * x0_hat + (math.sqrt(alpha) * (1 - ab_prev) / (1 - ab)) * x_t
        assert correct_option(variant) == f"{mean:.3f}"
        assert_options_apart(variant, 0.01)


def test_eps_loss_completion_accepts_another_correct_loss_and_rejects_an_x0_target() -> None:
    correct = ("a = alpha_bar.gather(0, t).reshape(len(t), 1, 1, 1)\n"
               "noisy = torch.sqrt(a) * x0 + torch.sqrt(1.0 - a) * noise\n"
               "return torch.mean((noise - model(noisy, t)) ** 2)\n")
    x0_target = ("a = alpha_bar[t].reshape(-1, 1, 1, 1)\n"
                 "noisy = a.sqrt() * x0 + (1 - a).sqrt() * noise\n"
                 "return ((model(noisy, t) - x0) ** 2).mean()\n")
    assert_full_marks_only_for_the_correct_fragment("diffusion-eps-prediction-loss-completion", correct, x0_target)


@pytest.mark.parametrize("seed", SEEDS)
def test_eps_loss_reference_gives_a_perfect_noise_predictor_zero_loss(seed: int) -> None:
    for _p, _answer, variant in variants("diffusion-eps-prediction-loss-completion", (seed,)):
        values = {entry["name"]: entry["value"] for entry in variant.key["expected_tests"]}
        assert values["test_a_perfect_noise_predictor_has_zero_loss"] == 0.0
        assert values["test_loss_is_a_scalar"] == []


@pytest.mark.parametrize("seed", MANY_SEEDS)
def test_score_is_the_finite_difference_derivative_of_the_log_density(seed: int) -> None:
    for p, _answer, variant in variants("diffusion-score-from-noise-prediction", (seed,)):
        if p["case"] == "gaussian":
            mean, var, x = p["mu"], p["sigma"] ** 2, p["x"]
        else:  # q(x_t | x_0) = N(sqrt(ab) x_0, 1 - ab); take x_0 = 0 and x_t made with the predicted noise
            ab = p["alpha_bar_t"]
            mean, var, x = 0.0, 1 - ab, math.sqrt(1 - ab) * p["eps_hat"]

        def log_density(v):
            return -0.5 * (v - mean) ** 2 / var - 0.5 * math.log(2 * math.pi * var)

        h = 1e-5
        score = (log_density(x + h) - log_density(x - h)) / (2 * h)
        assert abs(float(correct_option(variant)) - score) <= 0.0005 + 1e-6
        assert_options_apart(variant, 0.01)


@pytest.mark.parametrize("seed", MANY_SEEDS)
def test_sampler_calls_are_the_loop_iterations_times_the_calls_per_update(seed: int) -> None:
    for p, _answer, variant in variants("diffusion-sampler-network-evaluations", (seed,)):
        calls = 0
        for _t in range(p["T"], 0, -p["k"]):  # one update per visited level; the batch goes in one call
            calls += 2 if p["guided"] else 1
        assert correct_option(variant) == str(calls)


@pytest.mark.parametrize("seed", MANY_SEEDS)
def test_trajectory_diagnosis_matches_how_the_printed_spread_ends(seed: int) -> None:
    for p, _answer, variant in variants("diffusion-sampling-trajectory-diagnosis", (seed,)):
        rows = p["trajectory"].split("\n")
        first, last = rows[0], rows[-1]

        def field(row, name):
            return float(row.split(name + "=")[1].split()[0])

        assert abs(field(first, "mean")) < 0.1 and abs(field(first, "std") - 1) < 0.1  # x_T is N(0, 1)
        final_std = field(last, "std")
        if final_std > 100:
            expected = "The predicted noise is added instead of removed"
        elif final_std < 0.2 * p["s"]:
            expected = "The fresh noise sigma_t * z is not added"
        else:
            assert abs(final_std - p["s"]) < 0.15 * p["s"] and abs(field(last, "mean") - p["m"]) < 0.15 * abs(p["m"])
            expected = "The sampler works"
        assert correct_option(variant).startswith(expected)


# --- lecture 28, beyond the syllabus: GANs ------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_minimax_value_is_the_mean_log_of_d_on_real_plus_mean_log_of_one_minus_d_on_fake(seed: int) -> None:
    for p, _answer, variant in variants("gan-minimax-value-from-discriminator-outputs", (seed,)):
        real = [float(v) for v in p["d_real_text"].split(", ")]
        fake = [float(v) for v in p["d_fake_text"].split(", ")]
        value = sum(math.log(v) for v in real) / len(real) + sum(math.log(1 - v) for v in fake) / len(fake)
        assert value < 0
        assert correct_option(variant) == f"{value:.3f}"
        assert_options_apart(variant, 0.01)


@pytest.mark.parametrize("seed", SEEDS)
def test_optimal_discriminator_maximises_the_pointwise_objective_on_a_grid(seed: int) -> None:
    for p, _answer, variant in variants("gan-optimal-discriminator-from-densities", (seed,)):
        assert sum(p["p_data"]) == pytest.approx(1) and sum(p["p_g"]) == pytest.approx(1)
        a, b = p["p_data"][p["j"]], p["p_g"][p["j"]]
        grid = [i / 100000 for i in range(1, 100000)]
        best = max(grid, key=lambda d: a * math.log(d) + b * math.log(1 - d))
        assert abs(float(correct_option(variant)) - best) <= 0.0005 + 1e-5
        assert_options_apart(variant, 0.01)


@pytest.mark.parametrize("seed", MANY_SEEDS)
def test_gan_diagnosis_follows_where_the_samples_fall(seed: int) -> None:
    for p, _answer, variant in variants("gan-mode-collapse-diagnosis", (seed,)):
        counts, n = p["counts"], p["n"]
        assert sum(counts) == n and len(counts) == p["K"] + 1
        on_modes = sorted(counts[:-1], reverse=True)
        if counts[-1] > n / 2:
            expected = "D wins"
        elif sum(on_modes[:2]) > 0.9 * n:
            expected = "Mode collapse"
        else:
            assert min(on_modes) > 0.5 * n / p["K"]
            expected = "Training is healthy"
        assert correct_option(variant).startswith(expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_non_saturating_model_answer_gives_the_finite_difference_gradients_at_the_logit(seed: int) -> None:
    for p, answer, variant in variants("gan-non-saturating-loss-explained", (seed,)):
        d = p["d"]
        a = math.log(d / (1 - d))
        h = 1e-6

        def sigmoid(v):
            return 1 / (1 + math.exp(-v))

        minimax = (math.log(1 - sigmoid(a + h)) - math.log(1 - sigmoid(a - h))) / (2 * h)
        non_saturating = (-math.log(sigmoid(a + h)) + math.log(sigmoid(a - h))) / (2 * h)
        model_answer = variant.key["model_answer_md"]
        assert f"-D = {float(format(minimax, '.4g')):.4g}" in model_answer
        assert f"-(1 - D) = {float(format(non_saturating, '.4g')):.4g}" in model_answer
        assert f"(1 - D)/D = {non_saturating / minimax:.4g}" in model_answer
        assert f"{non_saturating / minimax:.4g} times larger" in answer


# --- lecture 29: CLIP ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_clip_loss_with_one_raised_pair_matches_explicit_row_and_column_softmaxes(seed: int) -> None:
    for p, _answer, variant in variants("clip-contrastive-loss-one-pair-raised", (seed,)):
        n, k, tau = p["N"], p["k"] - 1, p["tau"]
        sims = [[p["c1"] if (i == k and j == k) else p["c0"] for j in range(n)] for i in range(n)]

        def cross_entropy(rows):
            total = 0.0
            for i, row in enumerate(rows):
                logits = [s / tau for s in row]
                top = max(logits)
                log_norm = top + math.log(sum(math.exp(v - top) for v in logits))
                total += log_norm - logits[i]
            return total / len(rows)

        columns = [[sims[i][j] for i in range(n)] for j in range(n)]
        loss = 0.5 * (cross_entropy(sims) + cross_entropy(columns))
        assert loss < math.log(n)
        assert correct_option(variant) == f"{loss:.3f}"
        assert_options_apart(variant, 0.005)
