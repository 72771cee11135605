"""Realistic short written answers to "Why do gradients vanish in a deep sigmoid network?" for the answer
group tests and benchmarks/answer_groups.py: paraphrases of a few correct and incorrect explanations, with
hedges, casing, punctuation and typos varied, plus blanks and noise. Deterministic for a seed; each answer
comes with the explanation it was written from, so a grouping can be scored."""
from __future__ import annotations

import random

import pytest

EXPLANATIONS: dict[str, list[str]] = {
    "chain-rule-product": [
        "the gradient is a product of many sigmoid derivatives, each at most 0.25, so it shrinks exponentially with depth",
        "backprop multiplies the derivative of the sigmoid at every layer and since it is below 1/4 the product goes to zero",
        "each layer multiplies the gradient by sigma'(x) <= 0.25 so after many layers the gradient becomes tiny",
        "by the chain rule the early layers get a product of small derivatives which vanishes as the network gets deeper",
        "multiplying lots of numbers smaller than a quarter (the max slope of the sigmoid) makes the gradient shrink geometrically",
        "the derivative of the sigmoid is at most 1/4, and the chain rule multiplies one such factor per layer, so the gradient decays exponentially",
    ],
    "saturation": [
        "the sigmoid saturates for large inputs so its derivative is almost zero and no gradient flows back",
        "when the neurons saturate near 0 or 1 the slope of the sigmoid is flat and the gradient is close to zero",
        "large pre-activations push the sigmoid into its flat regions where the derivative vanishes",
        "saturated sigmoid units have near zero gradient so learning stops in those units",
        "if the inputs to the sigmoid are big in magnitude the curve is flat there and the gradient disappears",
    ],
    "learning-rate": [
        "the learning rate is too small so the updates are tiny",
        "because the step size is set too low and the weights barely change",
        "a low learning rate makes the gradients vanish during training",
        "you picked a learning rate that is too small, so gradient descent hardly moves",
    ],
    "overfitting": [
        "the network overfits the training data because it has too many parameters",
        "deep networks memorise the training set, which is overfitting, so the gradient goes away",
        "too many layers means too many weights and the model overfits",
        "overfitting happens when the model is too deep and this kills the gradient",
    ],
    "relu-fix": [
        "use relu instead of sigmoid",
        "switch the activation to ReLU and it goes away",
        "replace sigmoids with relus",
        "the fix is to use ReLU activations or batch norm",
    ],
}
NOISE = ["I don't know", "no idea sorry", "?", "idk", "see lecture 4", "because of the math", "the computer is slow",
         "it just happens in deep networks", "because neural networks are hard to train"]
HEDGES = ["", "", "", "I think ", "Basically, ", "Because ", "It's because ", "In short, ", "Well, ", "Mostly because "]
ENDINGS = ["", ".", ".", "!", " I think.", " (see the lecture).", "..."]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 12 or rng.random() < 0.6:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]  # two letters swapped


def _vary(text: str, rng: random.Random) -> str:
    text = _typo(rng.choice(HEDGES) + text, rng) + rng.choice(ENDINGS)
    roll = rng.random()
    if roll < 0.1:
        text = text.upper()
    elif roll < 0.5:
        text = text[0].upper() + text[1:]
    if rng.random() < 0.1:
        text = "  " + text.replace(" ", "  ", 2) + "\n"
    return text


def realistic_answers(count: int = 500, seed: int = 15, blank_share: float = 0.03,
                      noise_share: float = 0.05) -> list[tuple[str, str]]:
    """`count` (answer, explanation) pairs: explanation is a key of EXPLANATIONS, "noise" or "blank"."""
    rng = random.Random(seed)
    weights = {"chain-rule-product": 0.4, "saturation": 0.25, "learning-rate": 0.13, "overfitting": 0.1,
               "relu-fix": 0.12}
    answers: list[tuple[str, str]] = []
    for _ in range(count):
        roll = rng.random()
        if roll < blank_share:
            answers.append((rng.choice(["", "   ", "\n"]), "blank"))
        elif roll < blank_share + noise_share:
            answers.append((rng.choice(NOISE), "noise"))
        else:
            kind = rng.choices(list(weights), weights=list(weights.values()))[0]
            answers.append((_vary(rng.choice(EXPLANATIONS[kind]), rng), kind))
    return answers


def enrol_students(course, count: int, prefix: str = "student"):
    """`count` students of `course`, named prefix01, prefix02, ... (they sort in that order)."""
    from exams.models import Membership
    from tests.conftest import make_user

    people = []
    for number in range(1, count + 1):
        user = make_user(f"{prefix}{number:02d}")
        Membership.objects.create(course=course, user=user, role=Membership.STUDENT, student_id=f"C{number:03d}")
        people.append(user)
    return people


def submit_class(quiz, course, texts: list[str], prefix: str = "student") -> list:
    """One student per text, each submitting it as their answer to the rubric question: the responses, in
    the students' order (the grading page's order)."""
    from tests.rubric_support import submit_answer

    return [submit_answer(quiz, student, text)
            for student, text in zip(enrol_students(course, len(texts), prefix), texts)]


@pytest.fixture
def eager_celery():
    """Tasks run where they are sent, as a worker would run them (lane 1 has no worker)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
