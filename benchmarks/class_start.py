"""A class of N students (default 500) takes Quiz 1 of the demo course, through the same services the web
and the Celery tasks use, on a fresh SQLite database (or DATABASE_URL):

1. publish + pre-generate every student's variants (the Celery job's body), as STACK "deploys" variants;
2. N students start in the same minute (the start-of-quiz spike: with variants cached, no heavy work);
3. every student autosaves each question twice;
4. every student submits (MCQ / short / output graded inline; manual ones queued);
5. every code-completion answer is graded through the sandboxed runner (the Celery task's body), with
   a thread per runner slot as the threaded Celery worker does.

    .venv/bin/python benchmarks/class_start.py [--students 500]

Prints a Markdown section for docs/benchmarks.md and, last, one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DLQUIZ_VAR_DIR"] = tempfile.mkdtemp(prefix="dlquiz-bench-")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402

from exams.assembly import pregenerate_assessment  # noqa: E402
from exams.attempts import attempt_questions, autosave, start_attempt, submit_attempt  # noqa: E402
from exams.grading import grade_code_response  # noqa: E402
from exams.models import Assessment, Course, Membership, Response  # noqa: E402
from exams.roster import enroll  # noqa: E402


def timed(label: str, results: dict, func, *args):
    start = time.perf_counter()
    value = func(*args)
    results[label] = time.perf_counter() - start
    return value


def answer_for(public: dict) -> str:
    kind = public["kind"]
    if kind == "mcq":
        return "0"
    if kind == "completion":
        return public.get("starter") or "pass"
    if kind == "output":
        return "1\n2"
    return "0.5"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--quiz", default="Quiz 1")
    args = parser.parse_args()
    n = args.students
    seconds: dict[str, float] = {}

    call_command("migrate", verbosity=0)
    call_command("import_templates", str(ROOT / "bank"), "--no-run", verbosity=0)
    call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))
    course = Course.objects.get(code="CSCI4701")
    quiz = Assessment.objects.get(course=course, title=args.quiz)
    user_model = get_user_model()
    students = user_model.objects.bulk_create(
        [user_model(username=f"bench{i:04d}", email=f"bench{i:04d}@example.edu") for i in range(n)])
    students = list(user_model.objects.filter(username__startswith="bench").order_by("username"))
    for i, student in enumerate(students):
        enroll(course, student, Membership.STUDENT, f"B{i:04d}")

    timed("pregenerate", seconds, pregenerate_assessment, quiz.pk)
    quiz.refresh_from_db()
    variants = quiz.pregen_total

    attempts = timed("start", seconds, lambda: [start_attempt(quiz, s) for s in students])
    questions = [attempt_questions(a) for a in attempts]

    def save_all():
        count = 0
        for attempt, student, views in zip(attempts, students, questions):
            for view in views:
                for sequence in (1, 2):
                    autosave(attempt, view.slot_id, answer_for(view.public), user=student, client_seq=sequence)
                    count += 1
        return count

    saves = timed("autosave", seconds, save_all)
    timed("submit", seconds, lambda: [submit_attempt(a, user=s) for a, s in zip(attempts, students)])

    code_ids = list(Response.objects.filter(attempt__assessment=quiz, grading_state=Response.QUEUED)
                    .values_list("pk", flat=True))

    def grade(response_id: int) -> bool:
        close_old_connections()
        try:
            return grade_code_response(response_id)
        finally:
            connection.close()

    width = int(os.environ.get("RUNNER_POOL_SIZE") or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=width * 2) as executor:
        timed("grade_code", seconds, lambda: list(executor.map(grade, code_ids)))
    graded = Response.objects.filter(pk__in=code_ids, grading_state=Response.GRADED).count()

    rates = {
        "variants": variants, "variants_per_s": variants / seconds["pregenerate"],
        "starts_per_s": n / seconds["start"], "autosaves": saves, "autosaves_per_s": saves / seconds["autosave"],
        "submits_per_s": n / seconds["submit"], "code_answers": len(code_ids), "code_graded": graded,
        "code_grades_per_s": len(code_ids) / seconds["grade_code"] if code_ids else 0.0,
    }
    engine = connection.vendor
    print(f"### A class of {n} takes {args.quiz} ({time.strftime('%Y-%m-%d')})\n")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; database "
          f"{engine}; services called in one process, sequentially except code grading ({width * 2} threads "
          f"over {width} sandboxes).\n")
    print("| step | work | time | rate |")
    print("|---|---|---:|---:|")
    print(f"| pre-generate (publish) | {variants} variants | {seconds['pregenerate']:.1f} s | "
          f"{rates['variants_per_s']:.0f} variants/s |")
    print(f"| start (the spike) | {n} attempts | {seconds['start']:.1f} s | {rates['starts_per_s']:.0f} starts/s |")
    print(f"| autosave | {saves} saves | {seconds['autosave']:.1f} s | {rates['autosaves_per_s']:.0f} saves/s |")
    print(f"| submit + inline grading | {n} attempts | {seconds['submit']:.1f} s | {rates['submits_per_s']:.0f} submits/s |")
    print(f"| code grading (runner) | {len(code_ids)} answers ({graded} graded) | {seconds['grade_code']:.1f} s | "
          f"{rates['code_grades_per_s']:.0f} answers/s |\n")
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in rates.items()}))


if __name__ == "__main__":
    main()
