"""A class of N students takes a quiz over HTTP against a real server, driven by locust
(benchmarks/class_load_driver.py): the start spike (N students start within T seconds, already logged in),
autosave at the browser's rhythm, the submit wave, then the grading drain. It prints p50/p95/p99 and errors
per endpoint, and checks in the database that every acknowledged answer is stored and every attempt was
submitted and graded.

    # against a server it starts itself (gunicorn with config/gunicorn.conf.py + a Celery worker):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dlquiz_load CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \\
      DJANGO_CACHE_URL=redis://127.0.0.1:6379/8 .venv/bin/python benchmarks/class_load.py --students 500 --serve
    # the embedded default (SQLite, filesystem broker) in a scratch var/ directory:
    DLQUIZ_VAR_DIR=/tmp/dlquiz-sqlite .venv/bin/python benchmarks/class_load.py --students 500 --serve
    # against a server already running (bash scripts/prod.sh --load) on the same database:
    .venv/bin/python benchmarks/class_load.py --students 500 --base-url http://127.0.0.1:8000

Students `load0000`... are created and enrolled in the demo course (loaded if missing); their sessions are
made with Django's session store before the measured phase (students log in before the start, not at it).
Exits 1 if any request failed or any acknowledged answer is missing.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT_ORDER = ["start page", "start", "quiz page", "stylesheet", "static file", "autosave", "submit", "result page",
                  "result page refresh"]


def demo_quiz(title: str) -> Any:
    """Django set up on this process's settings, the database migrated, the bank and the demo course loaded if
    missing; returns the demo course's assessment of that title."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from exams.models import Assessment, Course

    call_command("migrate", verbosity=0)
    if not Course.objects.filter(code="CSCI4701").exists():
        call_command("import_templates", str(ROOT / "bank"), "--no-run", verbosity=0)
        call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))
    return Assessment.objects.get(course__code="CSCI4701", title=title)


def prepare(assessment: Any, students: int, *, prefix: str = "load", pregenerate: bool = True) -> list[dict[str, str]]:
    """Enrol `students` students in the assessment's course, clear their earlier attempts at it, open it,
    pre-generate its variants, and give each a logged-in session. Returns [{username, session}]."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from importlib import import_module

    from django.conf import settings

    from exams import clock
    from exams.assembly import pregenerate_assessment
    from exams.models import Assessment, Attempt, Membership
    from exams.session_idle import LAST_SEEN_KEY

    users = get_user_model()
    names = [f"{prefix}{i:04d}" for i in range(students)]
    existing = set(users.objects.filter(username__in=names).values_list("username", flat=True))
    users.objects.bulk_create([users(username=name, password="!") for name in names if name not in existing])
    people = list(users.objects.filter(username__in=names).order_by("username"))
    Membership.objects.bulk_create([Membership(course_id=assessment.course_id, user=person, role=Membership.STUDENT,
                                               student_id=person.username) for person in people],
                                   ignore_conflicts=True)
    Attempt.objects.filter(assessment=assessment, student__in=people).delete()
    from django.db import connection

    if connection.vendor == "postgresql":  # a class's first start finds no dead rows of an earlier run to skip
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE exams_attempt, exams_attemptslot, exams_response, django_session")
    now = clock.now()
    Assessment.objects.filter(pk=assessment.pk).update(
        state=Assessment.PUBLISHED, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
        attempts_allowed=1, time_limit_minutes=max(assessment.time_limit_minutes or 0, 60))
    if pregenerate:
        pregenerate_assessment(assessment.pk)
    sessions = []
    backend = "django.contrib.auth.backends.ModelBackend"
    # The session store the server reads: the production profile keeps sessions in Redis with the database row
    # as the durable copy (config/settings.py), and a login writes both; a row alone would make every student's
    # first request a cache miss that a real class does not have.
    engine = ("django.contrib.sessions.backends.cached_db" if settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
              else settings.SESSION_ENGINE)
    SessionStore = import_module(engine).SessionStore  # noqa: N806
    for person in people:
        store = SessionStore()
        store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(person.pk), backend
        store[HASH_SESSION_KEY] = person.get_session_auth_hash()
        store[LAST_SEEN_KEY] = int(time.time())  # logged in a moment ago, as the login's next page leaves it
        store.create()
        sessions.append({"username": person.username, "session": store.session_key})
    return sessions


def drive(base_url: str, assessment_id: int, sessions: list[dict[str, str]], *, start_seconds: float,
          autosave_seconds: float, autosave_every: float, submit_seconds: float,
          cached_static: bool = False) -> dict[str, Any]:
    """Run the locust driver in its own process (gevent patches everything it imports)."""
    from django.conf import settings

    with tempfile.TemporaryDirectory(prefix="dlquiz-load-") as scratch:
        plan, result = Path(scratch, "plan.json"), Path(scratch, "result.json")
        plan.write_text(json.dumps({
            "base_url": base_url, "assessment": assessment_id, "students": sessions,
            "session_cookie": settings.SESSION_COOKIE_NAME, "start_seconds": start_seconds,
            "autosave_seconds": autosave_seconds, "autosave_every": autosave_every, "submit_seconds": submit_seconds,
            "cached_static": cached_static,
        }))
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "class_load_driver.py"), str(plan), str(result)],
                       cwd=ROOT, check=True)
        return json.loads(result.read_text())


def wait_for_grading(assessment: Any, usernames: list[str], timeout: float) -> float:
    """Seconds until no response of these students is queued or being graded (or the timeout)."""
    from exams.models import Response

    started = time.monotonic()
    waiting = Response.objects.filter(attempt__assessment=assessment, attempt__student__username__in=usernames,
                                      grading_state__in=[Response.QUEUED, Response.GRADING])
    while waiting.exists() and time.monotonic() - started < timeout:
        time.sleep(0.5)
    return time.monotonic() - started


def verify(assessment: Any, result: dict[str, Any]) -> dict[str, Any]:
    """Compare what the server acknowledged with what the database holds."""
    from django.db.models import Count

    from exams.models import Attempt, Response

    students = result["students"]
    usernames = list(students)
    stored = {(username, str(slot)): text for username, slot, text in Response.objects.filter(
        attempt__assessment=assessment, attempt__student__username__in=usernames).values_list(
        "attempt__student__username", "slot_id", "text")}
    acked = lost = 0
    for username, record in students.items():
        for slot, text in record["acked"].items():
            acked += 1
            later = record.get("unacked", {}).get(slot)  # sent after the last ack, answer lost in transit
            if stored.get((username, slot)) not in {text, later}:
                lost += 1
    attempts = Attempt.objects.filter(assessment=assessment, student__username__in=usernames)
    per_student = attempts.values("student").annotate(n=Count("id"))
    states = dict(Response.objects.filter(attempt__in=attempts).values_list("grading_state").annotate(n=Count("id")))
    return {
        "students": len(students), "acked_answers": acked, "lost_answers": lost,
        "attempts": attempts.count(), "students_with_two_attempts": sum(1 for row in per_student if row["n"] > 1),
        "submitted": attempts.filter(state=Attempt.SUBMITTED).count(),
        "submits_acknowledged": sum(1 for record in students.values() if record["submitted"]),
        "responses_by_state": {state or "unsubmitted": n for state, n in states.items()},
        "attempts_with_pending_grades": attempts.filter(pending_count__gt=0).count(),
    }


def _process_table() -> dict[int, tuple[str, int, float]]:
    """pid: (command, parent pid, CPU seconds so far) of every process (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        command = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        table[int(entry.name)] = (command, int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return table


def cpu_by_pid(roots: dict[str, int]) -> dict[int, tuple[str, float]]:
    """pid: (role, CPU seconds so far) of every process in the trees of `roots` (role: pid; a tree stops at
    another role's root: the load generator starts the server with --serve) and of the PostgreSQL backends of
    this database (role "postgres")."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found: dict[int, tuple[str, float]] = {}
    for role, root in roots.items():
        stack = [root]
        while stack:
            pid = stack.pop()
            if pid in table:
                found[pid] = (role, table[pid][2])
            stack.extend(child for child in children.get(pid, []) if child not in roots.values())
    from django.db import connection

    if connection.vendor == "postgresql":  # the backends serving this database (their title names it)
        name = f" {connection.settings_dict['NAME']} ".encode()
        for pid, (command, _, cpu) in table.items():
            try:
                if command.startswith("postgres") and name in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found[pid] = ("postgres", cpu)
            except OSError:
                continue
    return found


class CpuSampler:
    """Samples every role's CPU once a second in a thread, to split the server's CPU by phase afterwards. A
    process that has ended keeps the CPU it was last seen with (its /proc entry is gone; the driver, a backend
    of a closed connection), so a phase's figure never goes negative."""

    def __init__(self, roots: dict[str, int]) -> None:
        import threading

        self.roots, self.samples = roots, []
        self._last_seen: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._last_seen.update(cpu_by_pid(self.roots))
            totals: dict[str, float] = {}
            for role, cpu in self._last_seen.values():
                totals[role] = totals.get(role, 0.0) + cpu
            self.samples.append((time.time(), totals))
            self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per role from the last sample at or before `start` to the first at or after `end`."""
        before = max((s for s in self.samples if s[0] <= start), default=self.samples[0], key=lambda s: s[0])
        after = min((s for s in self.samples if s[0] >= end), default=self.samples[-1], key=lambda s: s[0])
        return {role: round(after[1][role] - before[1].get(role, 0.0), 2) for role in after[1]}


SERVED: dict[str, int] = {}
# As scripts/prod.sh: when the cores are short a save runs before a page, and pre-generation last.
PAGES_NICE = int(os.environ.get("PAGES_NICE", "10"))
WORKER_NICE = int(os.environ.get("WORKER_NICE", "10"))


@contextlib.contextmanager
def serve(*, bind: str, web_workers: int, web_threads: int, log_dir: Path,
          static_manifest: bool = True, proxy: bool = False, saves_workers: int = 2) -> Iterator[str]:
    """gunicorn (the production profile's config) and a Celery worker on every queue, on this process's
    database, broker and cache; all stopped on exit. Yields the base URL. `static_manifest=False` serves
    static/ as it is instead of collecting and compressing it first (~40 s here). `proxy=True` is
    scripts/prod.sh's layout: nginx on `bind` (static files from STATIC_ROOT) in front of a pages pool of
    `web_workers` and a saves pool of `saves_workers` (config/proxy.py)."""
    from django.conf import settings
    from django.db import connection

    from config.proxy import ProxyLayout, write_nginx_conf

    db = connection.settings_dict  # this process's database, which may be a test database
    database_url = (f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
                    if connection.vendor == "postgresql" else f"sqlite:///{Path(db['NAME']).resolve()}")
    env = {**os.environ, "DATABASE_URL": database_url, "DLQUIZ_PRODUCTION": "1",
           "DJANGO_SECRET_KEY": settings.SECRET_KEY, "WEB_BIND": bind,
           "WEB_WORKERS": str(web_workers), "WEB_THREADS": str(web_threads), "DJANGO_DB_CONN_MAX_AGE": "60"}
    log_dir.mkdir(parents=True, exist_ok=True)
    static_root = Path(settings.STATIC_ROOT)
    # nginx's workers (www-data when started as root) must reach its folders: not under a 0700 pytest tmp_path.
    proxy_dir = Path(tempfile.mkdtemp(prefix="dlquiz-proxy-")) if proxy else None
    if proxy_dir:
        proxy_dir.chmod(0o755)
    if not static_manifest:
        env["DJANGO_STATIC_MANIFEST"] = "0"
        if proxy_dir:  # nginx needs the files collected: plain copies, in this run's own folder (seconds)
            static_root = proxy_dir / "static"
            env["DJANGO_STATIC_ROOT"] = str(static_root)
            subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                           check=True)
    manifest = static_root / "staticfiles.json"
    sources = [path for path in (ROOT / "static").rglob("*") if path.is_file()]
    newest_source = max(path.stat().st_mtime for path in [*sources, ROOT / "config" / "static_bundles.py"])
    if static_manifest and (not manifest.exists() or manifest.stat().st_mtime < newest_source):  # compressing takes a while: once
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                       check=True)
    bin_dir = Path(sys.executable).parent
    # Loading the demo course publishes its other assessments, whose pre-generation would otherwise run on this
    # worker during the measured spike (a real deployment pre-generates long before a class starts).
    subprocess.run([str(bin_dir / "celery"), "-A", "config", "purge", "-f"], cwd=ROOT, env=env, check=True,
                   capture_output=True)

    def gunicorn(pool_bind: str, workers: int, log_name: str, nice: int = 0) -> subprocess.Popen:
        return subprocess.Popen(
            [*(["nice", "-n", str(nice)] if nice else []), str(bin_dir / "gunicorn"), "-c", "config/gunicorn.conf.py",
             "config.wsgi:application"], cwd=ROOT,
            env={**env, "WEB_BIND": pool_bind, "WEB_WORKERS": str(workers),
                 **({"WEB_ACCESS_LOG": str(log_dir / f"{log_name}-access.log")} if proxy else {})},
            stdout=open(log_dir / f"{log_name}.log", "w"), stderr=subprocess.STDOUT)

    processes: list[subprocess.Popen] = []
    if proxy:
        env["DJANGO_TRUSTED_PROXIES"] = "127.0.0.1/32"
        pages_bind, saves_bind = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        processes.append(gunicorn(pages_bind, web_workers, "gunicorn", nice=PAGES_NICE))
        processes.append(gunicorn(saves_bind, saves_workers, "gunicorn-saves"))
        conf = write_nginx_conf(ProxyLayout(listen=bind, pages_upstream=pages_bind, saves_upstream=saves_bind,
                                            static_root=static_root, var_dir=proxy_dir))
        processes.append(subprocess.Popen(["nginx", "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"],
                                          cwd=ROOT, stdout=open(log_dir / "nginx.log", "w"),
                                          stderr=subprocess.STDOUT))
        SERVED.update(saves=processes[1].pid, proxy=processes[2].pid)
    else:
        processes.append(gunicorn(bind, web_workers, "gunicorn"))
    processes.append(subprocess.Popen(
        [*(["nice", "-n", str(WORKER_NICE)] if proxy else []), str(bin_dir / "celery"), "-A", "config", "worker",
         "-Q", "grading,celery,practice,bulk",
         "--pool", "threads", "--concurrency", "4", "--without-mingle", "--without-gossip",
         "-n", f"load-{os.getpid()}@%h", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=open(log_dir / "celery.log", "w"), stderr=subprocess.STDOUT))
    url = f"http://{bind}"
    SERVED.update(web=processes[0].pid, worker=processes[-1].pid)
    try:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + 60
        probes = [url + "/accounts/login/", url + "/attempts/0/state"] if proxy else [url + "/accounts/login/"]
        for probe in probes:  # the saves pool too: a 404/403 from Django is an answer
            while True:
                try:
                    urllib.request.urlopen(probe, timeout=5).close()
                    break
                except urllib.error.HTTPError as answer:
                    if answer.code < 500:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                    raise RuntimeError(f"the server did not answer {probe}; see {log_dir}") from None
                time.sleep(0.3)
        yield url
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if proxy_dir:
            for log in (proxy_dir / "log").glob("*.log"):
                shutil.copy(log, log_dir / log.name)
            shutil.rmtree(proxy_dir, ignore_errors=True)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def report_markdown(title: str, result: dict[str, Any], checks: dict[str, Any], drain_s: float) -> str:
    lines = [f"### {title}\n", "| endpoint | requests | failures | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    endpoints = result["endpoints"]
    for name in [n for n in ENDPOINT_ORDER if n in endpoints] + [n for n in endpoints if n not in ENDPOINT_ORDER]:
        e = endpoints[name]
        lines.append(f"| {name} | {e['requests']} | {e['failures']} | {e['p50_ms']:.0f} | {e['p95_ms']:.0f} | "
                     f"{e['p99_ms']:.0f} | {e['max_ms']:.0f} |")
    lines.append(f"\ngrading drain after the last submit: {drain_s:.1f} s; checks: {json.dumps(checks)}")
    for error in result["errors"][:10]:
        lines.append(f"- error x{error['occurrences']} {error['name']}: {error['error']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--quiz", default="Quiz 1")
    parser.add_argument("--start-seconds", type=float, default=10.0, help="every student starts within this")
    parser.add_argument("--autosave-seconds", type=float, default=60.0, help="how long students answer")
    parser.add_argument("--autosave-every", type=float, default=15.0)
    parser.add_argument("--submit-seconds", type=float, default=10.0, help="every student submits within this")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--serve", action="store_true", help="start gunicorn + a Celery worker for the run")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--web-threads", type=int, default=1)
    parser.add_argument("--proxy", action=argparse.BooleanOptionalAction, default=shutil.which("nginx") is not None,
                        help="scripts/prod.sh's layout: nginx, a pages pool and a saves pool (default: if nginx "
                             "is installed)")
    parser.add_argument("--saves-workers", type=int, default=2)
    parser.add_argument("--cached-static", action="store_true",
                        help="students' browsers already hold the static files (no stylesheet or static requests)")
    args = parser.parse_args()

    quiz = demo_quiz(args.quiz)
    from django.db import connection

    started = time.monotonic()
    sessions = prepare(quiz, args.students)
    print(f"prepared {len(sessions)} students and pre-generated {args.quiz} in {time.monotonic() - started:.0f} s",
          flush=True)
    connection.close()
    load_before = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        url = args.base_url
        if args.serve:
            url = stack.enter_context(serve(bind=args.base_url.split("//", 1)[-1], web_workers=args.web_workers,
                                            web_threads=args.web_threads, proxy=args.proxy,
                                            saves_workers=args.saves_workers,
                                            log_dir=Path(os.environ.get("DLQUIZ_VAR_DIR", ROOT / "var")) / "log" / "load"))
        sampler = CpuSampler({**SERVED, "load generator": os.getpid()})
        result = drive(url, quiz.pk, sessions, start_seconds=args.start_seconds,
                       autosave_seconds=args.autosave_seconds, autosave_every=args.autosave_every,
                       submit_seconds=args.submit_seconds, cached_static=args.cached_static)
        drain = wait_for_grading(quiz, list(result["students"]), args.drain_timeout)
        sampler.stop()
    checks = verify(quiz, result)
    spike_end = max((r.get("started_at", 0) for r in result["students"].values()), default=result["t0"])
    cpu = {"spike": sampler.between(result["t0"], spike_end),
           "submit and drain": sampler.between(result["submit_at"], time.time())}
    checks["spike_seconds"] = round(spike_end - result["t0"], 1)
    checks["server_cpu_seconds"] = cpu
    worker = f"{args.web_workers} {'sync' if args.web_threads == 1 else f'gthread x{args.web_threads}'} workers"
    if args.serve and args.proxy:
        worker = f"nginx + {worker} + {args.saves_workers} for saves"
    title = (f"{args.students} students, {connection.vendor}, gunicorn {worker if args.serve else '(external)'} "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}\n")
    print(report_markdown(title, result, checks, drain))
    print(json.dumps({"endpoints": result["endpoints"], "checks": checks, "drain_s": round(drain, 1)}))
    failed = sum(e["failures"] for e in result["endpoints"].values())
    sys.exit(1 if failed or checks["lost_answers"] else 0)


if __name__ == "__main__":
    main()
