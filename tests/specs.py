"""Small hand-written templates, one per kind, that tests generate and check."""
from __future__ import annotations

from dataclasses import replace

from quizbank.spec import TemplateSpec

CONV_MCQ = TemplateSpec(
    slug="test-conv-mcq", title="Conv output height", kind="mcq", qtype="mcq", lectures=(8,), tags=("cnn",),
    parameters="h = rng.choice([28, 32, 64])\nk = rng.choice([3, 5])\ns = 2\np = 1\n",
    stem="Input ${{ h }}\\times{{ h }}$, `Conv2d(kernel_size={{ k }}, stride={{ s }}, padding={{ p }})`. Output height?",
    solution="answer = torch.nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, h, h)).shape[-1]\n",
    misconceptions=("misconceptions = {'ignores padding': (h - k) // s + 1, 'ignores stride': h + 2 * p - k + 1,\n"
                    "                  'uses the kernel size as the stride': (h + 2 * p - k) // k + 1}\n"),
    explanation="$(H + 2P - K)/S + 1 = {{ answer }}$",
)

SOFTMAX_SHORT = TemplateSpec(
    slug="test-softmax-short", title="Softmax probability", kind="short", qtype="short", lectures=(14,),
    parameters="logits = [round(rng.uniform(-2, 2), 1) for _ in range(3)]\n",
    stem="Logits {{ logits }}. Probability of class 0 under softmax (3 decimals)?",
    solution="answer = torch.softmax(torch.tensor(logits), dim=0)[0].item()\n",
    answer={"format": "numeric", "atol": 0.0005, "rtol": 0},
)

SHAPE_SHORT = TemplateSpec(
    slug="test-shape-short", title="Matmul shape", kind="short", qtype="short", lectures=(2,),
    parameters="n = rng.randint(2, 9)\nm = rng.randint(2, 9)\nk = rng.randint(2, 9)\n",
    stem="`torch.randn({{ n }}, {{ m }}) @ torch.randn({{ m }}, {{ k }})` has which shape?",
    solution="answer = (torch.randn(n, m) @ torch.randn(m, k)).shape\n",
    answer={"format": "shape"},
)

TEXT_SHORT = TemplateSpec(
    slug="test-text-short", title="Activation name", kind="short", qtype="short", lectures=(5,),
    parameters="x = rng.choice([-2, -1, 1, 2])\n",
    stem="Which activation maps {{ x }} to {{ [x, 0]|max }} ?",
    solution="answer = ['ReLU', 'rectified linear unit']\n",
    answer={"format": "text"},
)

MANUAL_SHORT = TemplateSpec(
    slug="test-manual-short", title="Explain dropout", kind="short", qtype="short", lectures=(10,),
    parameters="p = rng.choice([0.1, 0.2, 0.5])\n",
    stem="Explain why dropout with p = {{ p }} scales activations at training time.",
    answer={"format": "manual", "rubric": "Mentions expected value preserved (1/(1-p) scaling)."},
)

OUTPUT_PREDICTION = TemplateSpec(
    slug="test-output-view", title="view vs reshape", kind="output", qtype="code", lectures=(7,),
    parameters="a = rng.randint(2, 4)\nb = rng.randint(2, 4)\n",
    stem="What does this program print?",
    program="import torch\nx = torch.arange({{ a * b }})\nprint(x.view({{ a }}, {{ b }}).shape)\nprint(x.view(-1, {{ b }}).sum().item())\n",
)

COMPLETION = TemplateSpec(
    slug="test-relu-completion", title="Complete ReLU", kind="completion", qtype="code", lectures=(5,),
    parameters="n = rng.randint(3, 8)\n",
    stem="Complete `relu(x)` for a tensor of {{ n }} values.",
    scaffold="import torch\n\ndef relu(x):\n    # >>> your code\n    return x\n    # <<< your code\n",
    reference="return torch.clamp(x, min=0)\n",
    public_tests="def test_positive_values_pass():\n    return relu(torch.arange(1.0, n + 1))\n",
    tests=("def test_negative_values_become_zero():\n    return relu(-torch.arange(1.0, n + 1))\n\n"
           "def test_random_values():\n    return relu(torch.randn(n))\n"),
)

ALL_KINDS = [CONV_MCQ, SOFTMAX_SHORT, SHAPE_SHORT, TEXT_SHORT, MANUAL_SHORT, OUTPUT_PREDICTION, COMPLETION]


def edited(spec: TemplateSpec, **changes) -> TemplateSpec:
    return replace(spec, **changes)
