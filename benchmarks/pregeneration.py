"""Pre-generating a class's variants as the product runs it: the `exams.pregenerate_assessment` task sent to a
real Celery worker (threads pool, as scripts/run.sh starts it) on its own broker database and database.

    createdb -h 127.0.0.1 -U postgres dlquiz_pregen
    .venv/bin/python benchmarks/pregeneration.py [--students 500] [--runs 2] [--publish]

Defaults: DATABASE_URL postgres://postgres@127.0.0.1:5432/dlquiz_pregen, CELERY_BROKER_URL
redis://127.0.0.1:6379/8. A quiz like the demo's Quiz 1 (4 MCQ + 3 short + 3 code over lectures 1-3) for N
students. Each run empties the variant cache and times the task from sending it to the state the worker
writes at the end ("done"). The first run includes the worker's sandbox pool start. `--publish` times the
whole publication instead (pre-flight self-test of every template the blueprint can draw, then the class).
Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dlquiz_pregen")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/8")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from exams.demo import blueprint  # noqa: E402
from exams.models import Assessment, Course, Membership  # noqa: E402
from quizbank.models import Template, Variant  # noqa: E402


def start_worker(log_path: Path) -> subprocess.Popen:
    celery = str(Path(sys.executable).with_name("celery"))
    env = dict(os.environ)
    subprocess.run([celery, "-A", "config", "purge", "-f"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(log_path, "w")
    worker = subprocess.Popen([celery, "-A", "config", "worker", "--pool", "threads", "--concurrency", "4",
                               "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "ready." not in log_path.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    return worker


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--publish", action="store_true", help="time the whole publication (pre-flight included)")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if not Template.objects.exists():
        call_command("import_templates", str(ROOT / "bank"), "--no-run", verbosity=0)
    course, _ = Course.objects.get_or_create(code="BENCH", defaults={"title": "Pre-generation benchmark"})
    quiz, _ = Assessment.objects.get_or_create(course=course, title="Quiz 1",
                                               defaults={"blueprint": blueprint(4, 3, 3, (1, 3))})
    users = get_user_model().objects
    have = Membership.objects.filter(course=course, role=Membership.STUDENT).count()
    if have < args.students:
        created = users.bulk_create([users.model(username=f"pregen{i:04d}") for i in range(have, args.students)])
        Membership.objects.bulk_create([Membership(course=course, user=u, role=Membership.STUDENT) for u in created])

    from exams.tasks import pregenerate_assessment_task

    log_path = Path("/tmp") / f"dlquiz-pregen-worker-{os.getpid()}.log"
    worker = start_worker(log_path)
    runs = []
    try:
        for _ in range(args.runs):
            Variant.objects.all().delete()
            fields = {"pregen_state": Assessment.PREGEN_QUEUED, "pregen_done": 0, "pregen_total": 0,
                      "pregen_message": ""}
            if args.publish:
                fields.update(state=Assessment.DRAFT, excluded_templates={}, preflight_problems=[])
            else:
                fields.update(state=Assessment.PUBLISHED)
            Assessment.objects.filter(pk=quiz.pk).update(**fields)
            started = time.perf_counter()
            pregenerate_assessment_task.delay(quiz.pk)
            while True:
                quiz.refresh_from_db()
                if quiz.pregen_state in (Assessment.PREGEN_DONE, Assessment.PREGEN_FAILED):
                    break
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            runs.append({"seconds": round(seconds, 2), "state": quiz.pregen_state, "variants": quiz.pregen_total,
                         "variants_per_s": round(quiz.pregen_total / seconds, 1),
                         "stored": Variant.objects.count(), "message": quiz.pregen_message[:300]})
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(json.dumps({"students": args.students, "publish": args.publish, "cores": os.cpu_count(),
                      "load_average_1min_before": os.getloadavg()[0], "runs": runs}))


if __name__ == "__main__":
    main()
