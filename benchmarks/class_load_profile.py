"""Where a student's time goes, per request: query count and server CPU of the start page, the POST that
starts an attempt, the quiz page and the Pygments stylesheet (the start spike), then an autosave of every
question, the submit and the result page (the end-of-quiz wave), for a few students of Quiz 1.

Runs the real views in-process through Django's test client (no network), on DATABASE_URL or a fresh
SQLite database, after the bank and the demo course are loaded and Quiz 1 is pre-generated for the class:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dlquiz_load .venv/bin/python benchmarks/class_load_profile.py \
        [--students 20] [--profile quiz]

CPU is `time.process_time()` of this process around each request (the client's own share is small).
`--profile KIND` prints the top cProfile entries of that request kind. Code answers are sent to the broker
of CELERY_BROKER_URL at submit and not graded here (no worker): point it at a Redis database no worker reads.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DLQUIZ_VAR_DIR"] = tempfile.mkdtemp(prefix="dlquiz-profile-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from exams.assembly import pregenerate_assessment  # noqa: E402
from exams.models import Assessment, Attempt, Course, Membership  # noqa: E402
from exams.session_idle import LAST_SEEN_KEY  # noqa: E402


def prepared_quiz(students: int, title: str) -> tuple[Assessment, list]:
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the production profile's hashed names
    if not Course.objects.filter(code="CSCI4701").exists():
        call_command("import_templates", str(ROOT / "bank"), "--no-run", verbosity=0)
        call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))
    course = Course.objects.get(code="CSCI4701")
    quiz = Assessment.objects.get(course=course, title=title)
    users = get_user_model()
    existing = set(users.objects.filter(username__startswith="prof").values_list("username", flat=True))
    users.objects.bulk_create([users(username=f"prof{i:04d}") for i in range(students)
                               if f"prof{i:04d}" not in existing])
    people = list(users.objects.filter(username__startswith="prof").order_by("username")[:students])
    Membership.objects.bulk_create([Membership(course=course, user=u, role=Membership.STUDENT, student_id=u.username)
                                    for u in people], ignore_conflicts=True)
    Attempt.objects.filter(assessment=quiz, student__in=people).delete()
    pregenerate_assessment(quiz.pk)
    return quiz, people


LAST_SQL: list[str] = []


KINDS = ("start_page", "start", "quiz", "stylesheet", "autosave", "submit", "result")


def measure(client: Client, method: str, url: str, profiler: cProfile.Profile | None,
            **request: object) -> tuple[int, float, int]:
    with CaptureQueriesContext(connection) as queries:
        cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        response = getattr(client, method)(url, **request)
        if profiler is not None:
            profiler.disable()
        cpu = time.process_time() - cpu
    LAST_SQL[:] = [query["sql"] for query in queries.captured_queries]
    if response.status_code >= 400:
        raise SystemExit(f"{method.upper()} {url}: {response.status_code}")
    return len(queries), cpu * 1000, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--quiz", default="Quiz 1")
    parser.add_argument("--profile", choices=KINDS)
    parser.add_argument("--sql", choices=KINDS,
                        help="print the SQL of the last request of this kind")
    args = parser.parse_args()
    setup_test_environment()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    quiz, people = prepared_quiz(args.students, args.quiz)
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waiting
    rows: dict[str, list[tuple[int, float]]] = {kind: [] for kind in KINDS}
    client = Client()  # one handler, as in a server process: its middleware (WhiteNoise's file scan) loads once
    for index, person in enumerate(people):
        client.cookies.clear()
        client.force_login(person)
        session = client.session
        session[LAST_SEEN_KEY] = int(time.time())  # logged in a moment ago, as the login's next page leaves it
        session.save()
        warm = index > 0  # the first student pays each process's one-off work (imports, caches)
        start_url = f"/assessments/{quiz.pk}/"
        for kind, method, url in (("start_page", "get", start_url), ("start", "post", start_url + "start")):
            queries, cpu, status = measure(client, method, url, profiler if kind == args.profile and warm else None)
            rows[kind].append((queries, cpu))
            if kind == args.sql:
                sql = list(LAST_SQL)
        attempt = Attempt.objects.get(assessment=quiz, student=person)
        queries, cpu, _ = measure(client, "get", f"/attempts/{attempt.pk}/", profiler if args.profile == "quiz" and warm else None)
        rows["quiz"].append((queries, cpu))
        if args.sql == "quiz":
            sql = list(LAST_SQL)
        queries, cpu, _ = measure(client, "get", "/pygments.css", profiler if args.profile == "stylesheet" and warm else None)
        rows["stylesheet"].append((queries, cpu))
        headers = {"content_type": "application/json", "headers": {"X-Requested-With": "fetch"}}
        for seq, (slot_id, qtype) in enumerate(attempt.slots.order_by("position").values_list("pk", "qtype"), 1):
            answer = {"mcq": "0", "short": "0.5", "code": "return x"}.get(qtype, "an answer")
            queries, cpu, _ = measure(client, "post", f"/attempts/{attempt.pk}/save",
                                      profiler if args.profile == "autosave" and warm else None,
                                      data=json.dumps({"slot": slot_id, "response": answer, "seq": seq}), **headers)
            rows["autosave"].append((queries, cpu))
            if args.sql == "autosave":
                sql = list(LAST_SQL)
        for kind, method, url in (("submit", "post", f"/attempts/{attempt.pk}/submit"),
                                  ("result", "get", f"/attempts/{attempt.pk}/")):
            queries, cpu, _ = measure(client, method, url, profiler if kind == args.profile and warm else None)
            rows[kind].append((queries, cpu))
            if kind == args.sql:
                sql = list(LAST_SQL)
    summary = {}
    print(f"database {connection.vendor}, cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, "
          f"{len(people)} students (first excluded from the medians)\n")
    print("| request | queries | CPU ms p50 | CPU ms max | first student CPU ms |")
    print("|---|---:|---:|---:|---:|")
    for kind, values in rows.items():
        warm_values = values[1:] or values
        cpu_p50 = statistics.median(v[1] for v in warm_values)
        summary[kind] = {"queries": max(v[0] for v in warm_values), "cpu_ms_p50": round(cpu_p50, 2)}
        print(f"| {kind} | {summary[kind]['queries']} | {cpu_p50:.1f} | {max(v[1] for v in warm_values):.1f} | "
              f"{values[0][1]:.1f} |")
    spike = sum(summary[kind]["cpu_ms_p50"] for kind in ("start_page", "start", "quiz", "stylesheet"))
    wave = summary["submit"]["cpu_ms_p50"] + summary["result"]["cpu_ms_p50"]
    print(f"\nstart path CPU per student (p50 sum): {spike:.1f} ms; submit + result page: {wave:.1f} ms; "
          f"autosave {summary['autosave']['cpu_ms_p50']:.1f} ms each")
    if args.sql:
        print("\n".join(sql))
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("PROFILE_LINES", "35")))
        if os.environ.get("PROFILE_CALLERS"):
            stats.print_callers(os.environ["PROFILE_CALLERS"])
        print(out.getvalue())
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
