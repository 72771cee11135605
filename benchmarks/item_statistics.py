"""How long the item analysis of a large class takes: what the Celery task (exams.refresh_statistics) does.

    .venv/bin/python benchmarks/item_statistics.py [--students 500] [--questions 10] [--repeat 5]

Synthetic data straight into a fresh SQLite database (or DATABASE_URL): a quiz of `questions` fixed
templates (half MCQ, half numeric short answers with named misconceptions), `students` submitted attempts
whose marks follow a 2PL model, and one cached variant key per answer (as the engine stores them). Times
the whole recomputation (queries, statistics, misconceptions, storing the snapshot), the page's freshness
check, and the pure numpy statistics. Prints a Markdown section for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DLQUIZ_VAR_DIR"] = tempfile.mkdtemp(prefix="dlquiz-bench-")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from exams import clock  # noqa: E402
from exams.analytics import caching  # noqa: E402
from exams.analytics.data import responses_signature  # noqa: E402
from exams.analytics.item_statistics import item_statistics, test_statistics  # noqa: E402
from exams.models import Assessment, Attempt, AttemptSlot, Course, Membership, Response  # noqa: E402
from quizbank import services as bank  # noqa: E402
from quizbank.models import Variant  # noqa: E402
from quizbank.spec import TemplateSpec  # noqa: E402

MCQ_NAMES = ["ignores padding", "ignores stride", "uses the kernel size as the stride"]
SHORT_NAMES = ["forgot to double", "squared instead"]


def build(students: int, questions: int, seed: int = 1) -> Assessment:
    rng = np.random.default_rng(seed)
    course = Course.objects.create(code="BENCH", title="Benchmark")
    versions = []
    for q in range(questions):
        kind = "mcq" if q % 2 == 0 else "short"
        spec = TemplateSpec(slug=f"bench-{q}", title=f"Bench {q}", kind=kind, qtype=kind, lectures=(1,),
                            stem="{{ a }}", parameters="a = rng.randint(3, 9)\n", solution="answer = 2 * a\n",
                            misconceptions="misconceptions = {'x': a}\n",
                            answer={} if kind == "mcq" else {"format": "numeric"})
        versions.append(bank.save_spec(spec).current_version)
    quiz = Assessment.objects.create(course=course, title="Quiz", blueprint=[{"templates": [f"bench-{q}" for q in range(questions)]}],
                                     state=Assessment.PUBLISHED)
    user_model = get_user_model()
    users = user_model.objects.bulk_create([user_model(username=f"b{i:04d}") for i in range(students)])
    Membership.objects.bulk_create([Membership(course=course, user=u, role="student", student_id=f"B{i:04d}")
                                    for i, u in enumerate(users)])
    now = clock.now()
    attempts = Attempt.objects.bulk_create([Attempt(assessment=quiz, student=u, seed=i, state=Attempt.SUBMITTED,
                                                    started_at=now, submitted_at=now, score=0.0)
                                            for i, u in enumerate(users)])
    abilities = rng.normal(0, 1, students)
    difficulties = np.linspace(-1.5, 1.5, questions)
    slots, variants, answers = [], [], []
    for i, attempt in enumerate(attempts):
        for q, version in enumerate(versions):
            seed = i * questions + q
            slots.append(AttemptSlot(attempt=attempt, position=q + 1, template=version.template,
                                     template_version=version, seed=seed, qtype=version.template.qtype))
            right = rng.random() < 1 / (1 + math.exp(-1.7 * (abilities[i] - difficulties[q])))
            a = int(rng.integers(3, 10))
            if version.template.kind == "mcq":
                sources = ["correct"] + [f"misconception:{n}" for n in MCQ_NAMES]
                order = list(rng.permutation(4))
                key = {"answer": str(2 * a), "params": {"a": a}, "correct_index": order.index(0),
                       "option_sources": [sources[k] for k in order]}
                text = str(order.index(0) if right else order.index(int(rng.integers(1, 4))))
            else:
                key = {"answer": 2.0 * a, "params": {"a": a}, "misconception_values": {"forgot to double": a,
                                                                                       "squared instead": a * a}}
                text = str(2 * a if right else (a if rng.random() < 0.6 else 1000))
            variants.append(Variant(version=version, seed=seed, public={}, key=key))
            answers.append((text, 1.0 if right else 0.0))
    AttemptSlot.objects.bulk_create(slots, batch_size=2000)
    Variant.objects.bulk_create(variants, batch_size=2000)
    Response.objects.bulk_create([Response(slot=slot, attempt=slot.attempt, text=text, score=score,
                                           grading_state=Response.GRADED, graded_at=now)
                                  for slot, (text, score) in zip(slots, answers)], batch_size=2000)
    return quiz


def timed(function, repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(1000 * (time.perf_counter() - started))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    quiz = build(args.students, args.questions)
    scope = caching.assessment_scope(quiz)
    full = timed(lambda: caching.compute(scope, quiz, None), args.repeat)
    check = timed(lambda: responses_signature(Response.objects.filter(attempt__assessment=quiz,
                                                                       attempt__state=Attempt.SUBMITTED)), args.repeat)
    marks = np.random.default_rng(2).integers(0, 2, (args.students, args.questions)).astype(float)
    ones = np.ones(args.questions)
    numpy_only = timed(lambda: (item_statistics(marks, ones, [str(q) for q in range(args.questions)],
                                                [None] * args.questions), test_statistics(marks, ones)), args.repeat)
    data = caching.compute(scope, quiz, None).data
    print(f"## Item analysis: {args.students} students x {args.questions} questions\n")
    print(f"`.venv/bin/python benchmarks/item_statistics.py --students {args.students} --questions {args.questions} "
          f"--repeat {args.repeat}` ({platform.python_version()}, {os.cpu_count()} cores, "
          f"{'DATABASE_URL' if 'DATABASE_URL' in os.environ else 'SQLite'}):\n")
    print("| what | median ms | fastest ms |\n|---|---:|---:|")
    for label, runs in (("whole recomputation (the Celery task: queries, statistics, misconceptions, store)", full),
                        ("freshness check on page view (one aggregate query)", check),
                        ("numpy statistics alone (items + test)", numpy_only)):
        print(f"| {label} | {statistics.median(runs):.1f} | {min(runs):.1f} |")
    print(f"\nAnswers analysed: {args.students * args.questions}; Cronbach's alpha {data['test']['cronbach_alpha']:.1f}%.")


if __name__ == "__main__":
    main()
