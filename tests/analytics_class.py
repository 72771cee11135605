"""A simulated class whose abilities and item difficulties are known, answering a quiz through the real
services (start, autosave, submit; the real sandboxed engine generates every variant).

Each student has an ability θ ~ N(0, 1); each item a difficulty b and discrimination a (2PL):
P(right) = sigmoid(a (θ - b)). One item is reversed (a < 0): the stronger the student, the likelier they get
it wrong, so its discrimination must come out negative. A wrong answer is the value of a named
misconception drawn with known weights (or, for short answers, an unrelated number), and the simulation
records which one each student chose: the analytics must find exactly those.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from exams.attempts import autosave, start_attempt, submit_attempt
from exams.models import Assessment, AttemptSlot, Membership
from exams.roster import enroll
from quizbank import services as bank
from quizbank.models import Variant
from quizbank.spec import TemplateSpec
from tests.conftest import make_user
from tests.exams_personas import T0, make_assessment

MCQ_MISCONCEPTIONS = {"off by one": 0.6, "one short": 0.3, "forgot to double": 0.1}
SHORT_MISCONCEPTIONS = {"forgot to double": 0.5, "squared instead": 0.3}  # the remaining 0.2: "1000"


def mcq_spec(slug: str, show: bool = False) -> TemplateSpec:
    return TemplateSpec(
        slug=slug, title=f"Double ({slug})", kind="mcq", qtype="mcq", lectures=(1,), stem="Twice {{ a }}?",
        parameters="a = rng.randint(3, 9)\n", solution="answer = 2 * a\n",
        misconceptions="misconceptions = {'off by one': 2 * a + 1, 'one short': 2 * a - 1, 'forgot to double': a}\n",
        answer={"show_misconception": True} if show else {})


def short_spec(slug: str, show: bool = False) -> TemplateSpec:
    answer = {"format": "numeric", "rtol": 0.01}
    if show:
        answer["show_misconception"] = True
    return TemplateSpec(
        slug=slug, title=f"Double, typed ({slug})", kind="short", qtype="short", lectures=(1,),
        stem="Twice {{ a }}?", parameters="a = rng.randint(3, 9)\n", solution="answer = 2 * a\n",
        misconceptions="misconceptions = {'forgot to double': a, 'squared instead': a * a}\n", answer=answer)


@dataclass
class Item:
    slug: str
    kind: str
    difficulty: float
    discrimination: float = 1.7


@dataclass
class SimulatedClass:
    quiz: Assessment
    items: list[Item]
    abilities: list[float]
    # chosen[slug][student id] = "correct" | misconception name | "unrelated"
    chosen: dict[str, dict[int, str]] = field(default_factory=dict)


def _wrong_choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    probabilities = list(weights.values())
    rest = 1.0 - sum(probabilities)
    if rest > 1e-9:
        names.append("unrelated")
        probabilities.append(rest)
    return str(rng.choice(names, p=np.array(probabilities) / sum(probabilities)))


def _answer_text(slot: AttemptSlot, kind: str, choice: str) -> str:
    variant = Variant.objects.get(version=slot.template_version, seed=slot.seed)
    if kind == "mcq":
        sources = variant.key["option_sources"]
        wanted = "correct" if choice == "correct" else f"misconception:{choice}"
        return str(sources.index(wanted))
    if choice == "correct":
        return str(variant.key["answer"])
    if choice == "unrelated":
        return "1000"
    return str(variant.key["misconception_values"][choice])


def simulate(course, items: list[Item], students: int, *, seed: int = 14, title: str = "Quiz 1",
             show: bool = False, **quiz_fields) -> SimulatedClass:
    specs = {item.slug: (mcq_spec if item.kind == "mcq" else short_spec)(item.slug, show) for item in items}
    for spec in specs.values():
        bank.save_spec(spec)
    fields = {"results_released_at": T0, "answers_released_at": T0 + timedelta(days=2), **quiz_fields}
    quiz = make_assessment(course, title, blueprint=[{"templates": [item.slug for item in items]}], **fields)
    rng = np.random.default_rng(seed)
    abilities = [float(x) for x in rng.normal(0.0, 1.0, students)]
    people = []
    for index in range(students):
        user = make_user(f"sim{seed}-{index:03d}")
        enroll(course, user, Membership.STUDENT, f"X{seed}{index:03d}")
        people.append(user)
    attempts = [start_attempt(quiz, user) for user in people]
    bank.pregenerate([(slot.template_version, slot.seed)
                      for slot in AttemptSlot.objects.filter(attempt__assessment=quiz).select_related("template_version")])
    simulated = SimulatedClass(quiz, items, abilities, {item.slug: {} for item in items})
    by_slug = {item.slug: item for item in items}
    for user, theta, attempt in zip(people, abilities, attempts):
        # In the items' order, not the attempt's: the draw order follows database ids, and the class simulated
        # must not (a PostgreSQL lane with other tests before it gave another class).
        slots = sorted(attempt.slots.select_related("template", "template_version"),
                       key=lambda slot: [item.slug for item in items].index(slot.template.slug))
        for slot in slots:
            item = by_slug[slot.template.slug]
            p_right = 1.0 / (1.0 + math.exp(-item.discrimination * (theta - item.difficulty)))
            if rng.random() < p_right:
                choice = "correct"
            else:
                choice = _wrong_choice(rng, MCQ_MISCONCEPTIONS if item.kind == "mcq" else SHORT_MISCONCEPTIONS)
            simulated.chosen[item.slug][user.pk] = choice
            autosave(attempt, slot.pk, _answer_text(slot, item.kind, choice), user=user)
        submit_attempt(attempt, user=user)
    return simulated
