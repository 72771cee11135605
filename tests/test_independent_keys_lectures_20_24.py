"""The question bank for lectures 20-24 (Quiz 7: 20-21, Quiz 8: 22-23, lecture 24 for the exams).

Every template with a closed form has its computed answer checked against an independent calculation in plain
Python (math only: no torch, not the template's own code) for three seeds; output-prediction and "which line
raises" templates are checked against the shapes and lines worked out by hand. Completion templates are checked
by grading a correct alternative answer (full marks) and a typical mistake (not full marks). Every notebook of
these lectures passes the self-test on a few seeds. No database is needed: notebooks are read from disk and
run through the runner.
"""
from __future__ import annotations

import math

import pytest

from quizbank.completion import grade_completion
from quizbank.engine import generate

from tests.bank_support import fmt4, spec_of, variants


def softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    return [e / sum(exps) for e in exps]


def dot(a, b) -> float:
    return sum(x * y for x, y in zip(a, b))


def shape_line(*dims: int) -> str:
    return "torch.Size([" + ", ".join(str(d) for d in dims) + "])"


def correct_option_is_shown(variant) -> None:
    options = [option["text"] for option in variant.public["options"]]
    assert options[variant.key["correct_index"]] == variant.key["answer"]
    assert len(set(options)) == len(options) >= 4


# ------------------------------------------------------------------------------------ lecture 20: RNN / LSTM

def test_lstm_hidden_state_is_output_gate_times_tanh_of_the_gated_cell_state():
    for p, answer, variant in variants("lstm-cell-hidden-update"):
        c_t = p["f"] * p["c_prev"] + p["i"] * p["g"]
        assert answer == format(p["o"] * math.tanh(c_t), ".3f")
        correct_option_is_shown(variant)


def test_bptt_gradient_through_a_linear_rnn_is_w_to_the_distance():
    for p, answer, variant in variants("rnn-gradient-through-time"):
        assert answer == fmt4(p["w"] ** (p["T"] - p["k"]))
        correct_option_is_shown(variant)


def test_lstm_parameter_count_is_four_blocks_of_input_recurrent_weights_and_two_biases():
    for p, answer, _ in variants("lstm-parameter-count"):
        d, h = p["d"], p["h"]
        assert answer == str(4 * (d * h + h * h + 2 * h))


def test_longer_ngram_context_adds_only_hidden_layer_input_weights():
    for p, answer, _ in variants("ngram-context-parameter-growth"):
        assert answer == str((p["n2"] - p["n1"]) * p["e"] * p["H"])


def test_sequence_nll_is_the_mean_of_minus_log_conditionals():
    for p, answer, _ in variants("autoregressive-sequence-nll"):
        expected = -sum(math.log(q) for q in p["probs"]) / len(p["probs"])
        assert answer == pytest.approx(expected, abs=1e-12)


def test_scalar_rnn_state_after_three_steps_matches_a_hand_loop():
    for p, answer, _ in variants("rnn-hidden-state-three-steps"):
        h = 0.0
        for x in p["xs"]:
            h = math.tanh(p["w"] * h + p["u"] * x + p["b"])
        assert answer == pytest.approx(h, abs=1e-12)


def test_two_layer_gru_count_uses_the_hidden_size_as_the_second_layers_input():
    for p, answer, _ in variants("gru-two-layer-parameter-count"):
        d, h = p["d"], p["h"]
        assert answer == 3 * (d * h + h * h + 2 * h) + 3 * (2 * h * h + 2 * h)


def test_rnn_output_and_final_state_shapes_follow_batch_first_and_directions():
    for p, answer, _ in variants("rnn-lstm-output-shapes"):
        dirs = 2 if p["bidir"] else 1
        B, T = p["B"], p["Tlen"]
        out = (B, T, dirs * p["h"]) if p["batch_first"] else (T, B, dirs * p["h"])
        assert answer == shape_line(*out) + "\n" + shape_line(p["L"] * dirs, B, p["h"])


# ------------------------------------------------------------------------------------ lecture 21: attention

def test_raw_score_spread_is_variance_times_sqrt_dk():
    for p, answer, variant in variants("attention-score-spread"):
        assert answer == format(p["s2"] * math.sqrt(p["d_k"]), ".4g")
        correct_option_is_shown(variant)


def test_attention_output_is_the_softmax_weighted_average_of_the_values():
    for p, answer, variant in variants("attention-output-scalar-values"):
        weights = softmax([dot(p["q"], k) / math.sqrt(2) for k in p["keys"]])
        assert answer == format(dot(weights, p["values"]), ".3f")
        correct_option_is_shown(variant)


def test_single_attention_weight_matches_a_hand_softmax():
    for p, answer, _ in variants("attention-weight-single-key"):
        weights = softmax([dot(p["q"], k) / 2 for k in p["keys"]])
        assert answer == pytest.approx(weights[p["j"] - 1], abs=1e-12)


def test_cross_attention_shapes_have_one_row_per_query_and_one_column_per_key():
    for p, answer, _ in variants("cross-attention-tensor-shape"):
        expected = {"weights": [p["B"], p["T_q"], p["S"]], "output": [p["B"], p["T_q"], p["d_v"]],
                    "keys": [p["B"], p["S"], p["d_k"]]}[p["ask"]]
        assert answer == expected


def test_batched_attention_prints_shapes_and_whether_rows_are_normalised():
    for p, answer, _ in variants("attention-shapes-softmax-dim"):
        expected = "\n".join([shape_line(p["B"], p["n_q"], p["n_k"]), shape_line(p["B"], p["n_q"], p["d_v"]),
                              str(p["sdim"] != 1)])
        assert answer == expected


def test_cross_attention_bug_raises_on_the_first_product_that_uses_the_bad_tensor():
    expected_line = {"wk_rows": 10, "v_from_x": 14, "no_transpose": 12, "v_times_w": 14}
    for p, answer, variant in variants("attention-projection-error-line"):
        assert answer.startswith(f"line {expected_line[p['bug']]}:")
        correct_option_is_shown(variant)


# ------------------------------------------------------------------ lecture 22: self-attention, masks, PE

def test_multihead_attention_has_four_d_by_d_projections_whatever_the_head_count():
    for p, answer, variant in variants("multihead-attention-parameter-count"):
        assert answer == str(4 * p["d"] ** 2 + 4 * p["d"])
        correct_option_is_shown(variant)


def test_causal_mask_keeps_the_lower_triangle_with_the_diagonal():
    for p, answer, _ in variants("causal-mask-entry-count"):
        T = p["T"]
        assert answer == str(T * (T + 1) // 2 if p["ask"] == "kept" else T * (T - 1) // 2)


def test_sinusoidal_encoding_entry_matches_the_paper_formula():
    for p, answer, variant in variants("sinusoidal-positional-encoding-value"):
        j, pos, d = p["j"], p["pos"], p["d_model"]
        angle = pos / 10000 ** (2 * (j // 2) / d)
        assert answer == format(math.sin(angle) if j % 2 == 0 else math.cos(angle), ".4f")
        correct_option_is_shown(variant)


def test_causal_weight_renormalises_over_the_visible_prefix():
    for p, answer, _ in variants("causal-attention-weight"):
        weights = softmax(p["row"][: p["t"]])
        assert answer == pytest.approx(weights[p["j"] - 1], abs=1e-12)


def test_score_tensor_memory_is_batch_heads_t_squared_times_bytes():
    for p, answer, _ in variants("attention-score-memory"):
        bytes_per = {"float32": 4, "float16": 2}[p["dtype_name"]]
        assert answer == pytest.approx(p["B"] * p["n_heads"] * p["T"] ** 2 * bytes_per / 2 ** 20)


def test_head_split_prints_shapes_contiguity_and_an_exact_round_trip():
    for p, answer, _ in variants("split-heads-view-transpose-output"):
        B, T, h, hd = p["B"], p["T"], p["n_heads"], p["head_dim"]
        expected = "\n".join([shape_line(B, T, h, hd), f"{shape_line(B, h, T, hd)} {p['contig']}",
                              shape_line(B, h, T, T), f"{shape_line(B, T, h * hd)} True"])
        assert answer == expected


def test_multihead_bug_raises_where_the_bad_shape_or_stride_is_used():
    expected_line = {"view_after_transpose": 15, "heads_not_divisible": 7, "mask_too_big": 11}
    for p, answer, variant in variants("multihead-mask-error-line"):
        assert answer.startswith(f"line {expected_line[p['bug']]}:")
        correct_option_is_shown(variant)


# ------------------------------------------------------------------------ lecture 23: Transformer blocks

def test_residual_stream_variance_grows_linearly_with_depth():
    for p, answer, _ in variants("residual-stream-variance-growth"):
        assert answer == fmt4(1 + p["L"] * p["v"])


def test_warmup_schedule_takes_the_smaller_branch_times_inverse_sqrt_width():
    for p, answer, variant in variants("transformer-warmup-learning-rate"):
        s, w = p["step"], p["warmup"]
        assert answer == format(p["d_model"] ** -0.5 * min(s ** -0.5, s * w ** -1.5), ".3e")
        correct_option_is_shown(variant)


def test_block_parameters_are_attention_plus_ffn_plus_two_layernorms():
    for p, answer, _ in variants("transformer-block-parameter-count"):
        d, d_ff = p["d"], p["d_ff"]
        assert answer == (4 * d * d + 4 * d) + (2 * d * d_ff + d_ff + d) + 4 * d


# ----------------------------------------------------------------------------- lecture 24: ViT and Swin

def test_vit_tokens_are_patches_plus_the_class_token():
    for p, answer, _ in variants("vit-sequence-length"):
        tokens = (p["H"] // p["P"]) * (p["W"] // p["P"]) + 1
        assert answer == (tokens if p["ask"] == "tokens" else tokens ** 2)


def test_patch_embedding_has_c_p_squared_d_weights_plus_d_biases():
    for p, answer, variant in variants("vit-patch-embedding-parameters"):
        assert answer == str(p["C"] * p["P"] ** 2 * p["D"] + p["D"])
        correct_option_is_shown(variant)


def test_window_attention_costs_tokens_times_window_area():
    for p, answer, variant in variants("swin-window-attention-cost"):
        assert answer == str(p["h"] * p["w"] * p["M"] ** 2)
        correct_option_is_shown(variant)


# ------------------------------------------------------------------------------- completions are graded

COMPLETIONS = {
    "rnn-forward-loop-completion": (
        # correct alternative: preallocate the output and fill it step by step
        "h = h0\nout = torch.empty(x.shape[0], h0.shape[0], h0.shape[1])\n"
        "for t in range(len(x)):\n    h = torch.tanh(torch.matmul(x[t], W_xh) + torch.matmul(h, W_hh) + b)\n"
        "    out[t] = h\nreturn out",
        # typical mistake: the state is not carried (h0 used at every step)
        "return torch.stack([torch.tanh(x[t] @ W_xh + h0 @ W_hh + b) for t in range(x.shape[0])])",
    ),
    "causal-attention-completion": (
        "T = Q.shape[-2]\nscores = (Q @ K.transpose(-1, -2)) * Q.shape[-1] ** -0.5\n"
        "keep = torch.tril(torch.ones(T, T)).bool()\n"
        "return torch.softmax(scores.masked_fill(~keep, -1e9), dim=-1) @ V",
        # typical mistake: no causal mask, so every position also attends to the future
        "T = Q.shape[-2]\nscores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])\n"
        "return torch.softmax(scores, dim=-1) @ V",
    ),
    "layernorm-forward-completion": (
        "mu = x.mean(-1, keepdim=True)\nsigma2 = ((x - mu) ** 2).mean(-1, keepdim=True)\n"
        "return (x - mu) * torch.rsqrt(sigma2 + eps) * gamma + beta",
        # typical mistake: unbiased variance
        "return gamma * (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, keepdim=True) + eps) + beta",
    ),
    "pre-ln-block-forward-completion": (
        "y = self.ln1(x)\nx = x + self.attn(y, y, y, attn_mask=causal_mask, need_weights=False)[0]\n"
        "y = self.ln2(x)\nreturn x + self.ffn(y)",
        # typical mistake: post-LN
        "x = self.ln1(x + self.attn(x, x, x, attn_mask=causal_mask)[0])\nreturn self.ln2(x + self.ffn(x))",
    ),
    "attention-weights-completion": (
        "return torch.nn.functional.softmax(torch.matmul(Q, K.transpose(-1, -2)) / Q.shape[-1] ** 0.5, dim=-1)",
        # typical mistake: no scaling
        "return torch.softmax(Q @ K.transpose(-2, -1), dim=-1)",
    ),
}


@pytest.mark.parametrize("slug", sorted(COMPLETIONS))
def test_completion_gives_full_marks_to_a_correct_alternative_and_not_to_a_typical_mistake(slug):
    spec = spec_of(slug)
    right, wrong = COMPLETIONS[slug]
    variant = generate(spec, 4)
    expected = variant.key["expected_tests"]
    assert grade_completion(spec, 4, expected, right).score == 1.0
    assert grade_completion(spec, 4, expected, wrong).score < 1.0

