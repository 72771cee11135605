"""Real processes for the production-lane fault tests: a Redis server of the test's own (so it can be stopped
without touching the machine's Redis on 6379 that everyone shares), Celery workers on it, and the students.

Every process here is started by the test and ended by its own id (or its own process group).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from django.db import connection

from exams import attempts
from exams.models import Assessment, Attempt, Course, Membership
from exams.roster import enroll
from quizbank import services as bank
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate: Callable[[], Any], timeout: float = 90.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def class_load_benchmark():
    """benchmarks/class_load.py as a module (benchmarks/ is not a package): the load tests drive it."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "class_load.py"
    spec = importlib.util.spec_from_file_location("class_load", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def http_class_quiz(code: str, *, per_type: dict[str, int]) -> Assessment:
    """A classroom `code` and a quiz of `per_type` questions ({"mcq": n, ...}) over a bank of exactly those,
    for the tests that drive a class over HTTP with benchmarks/class_load.py."""
    from tests.exams_personas import build_bank, build_classroom, make_assessment

    classroom = build_classroom(code)
    build_bank(mcq=per_type.get("mcq", 0), short=per_type.get("short", 0), code=per_type.get("code", 0),
               prefix=code.lower())
    return make_assessment(classroom.course, f"{code} quiz", blueprint=[
        {"qtype": qtype, "count": count, "lectures": [1, 1]} for qtype, count in per_type.items()])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of this test alone, on a free port, in memory only; `stop()` and `start()` again on the
    same port make a broker outage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, timeout=10, interval=0.05)

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class CeleryWorker:
    """A real `celery worker` process (threads pool, its own runner pool) on the test database and `broker`,
    logging to a file; started in its own process group so a kill takes its sandboxes with it."""

    def __init__(self, name: str, broker: str, log_dir: Path, *, concurrency: int = 2, **env: str) -> None:
        self.name, self.broker, self.concurrency = name, broker, concurrency
        self.log = log_dir / f"{name}.log"
        self.env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker,
                    "RUNNER_POOL_SIZE": "1", **env}
        self.process: subprocess.Popen | None = None

    def start(self) -> "CeleryWorker":
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [CELERY, "-A", "config", "worker", "--pool", "threads", "--concurrency", str(self.concurrency),
                 "--loglevel", "INFO", "--without-mingle", "--without-gossip", "--without-heartbeat",
                 "-n", f"{self.name}-{os.getpid()}@%h"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: " ready." in self.log.read_text()[offset:] or self.process.poll() is not None, timeout=120)
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        return self

    def kill(self) -> None:
        """kill -9 of the worker (and, with it, the sandboxes it started: a machine losing the process)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # anything of its group left behind
        except ProcessLookupError:
            pass

    def graded_ids(self) -> list[int]:
        """Response ids this worker stored a grade for, from its log (exams.tasks logs each one)."""
        text = self.log.read_text() if self.log.exists() else ""
        return [int(line.split("code response ", 1)[1].split()[0]) for line in text.splitlines()
                if "code response " in line and " graded by " in line]


@contextmanager
def publishing_to(broker: str) -> Iterator[None]:
    """This test process sends its Celery messages to `broker`: the app's pooled connections are dropped so
    the next send connects there (and again on the way out)."""
    from config.celery import app

    def reset(url: str | None) -> None:
        # broker_write_url: broker_url itself is read from the CELERY_BROKER_URL environment variable first.
        app.conf.broker_write_url = url
        app._pool = None
        app.amqp._producer_pool = None

    reset(broker)
    try:
        yield
    finally:
        reset(None)


def published_quiz(code: str, specs: list) -> Assessment:
    """A published, untimed quiz made of exactly these templates (real time: workers are separate processes)."""
    for spec in specs:
        bank.save_spec(spec)
    course = Course.objects.create(code=code, title="Production faults")
    return Assessment.objects.create(course=course, title=f"{code} quiz", kind=Assessment.QUIZ,
                                     state=Assessment.PUBLISHED, blueprint=[{"templates": [s.slug for s in specs]}])


def started_students(assessment: Assessment, count: int, *, now: Any = None) -> list[tuple[Any, Attempt]]:
    """`count` enrolled students with a started attempt each; every variant generated up front, on all
    sandboxes at once, as pre-generation does before a class."""
    started = []
    for i in range(count):
        student = make_user(f"{assessment.course.code.lower()}-{i:03d}")
        enroll(assessment.course, student, Membership.STUDENT, f"{assessment.course.code}{i:03d}")
        started.append((student, attempts.start_attempt(assessment, student, now=now)))
    bank.pregenerate([(slot.template_version, slot.seed) for _, attempt in started
                      for slot in attempt.slots.select_related("template_version")])
    return started


def run_at_once(actions: list[Callable[[], Any]], timeout: float = 180) -> list[BaseException]:
    """Run every action in its own thread (its own database connection, closed at the end), released
    together by a barrier; returns what they raised."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=60)
            action()
        except BaseException as error:  # collected for the caller's assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting (a lock never released?)"
    return errors



def assert_the_class_ran_clean(result: dict[str, Any], checks: dict[str, Any], students: int) -> None:
    """What every small class over HTTP must show: no failed request, every acknowledged answer stored, every
    attempt submitted once."""
    assert result["errors"] == []
    assert all(endpoint["failures"] == 0 for endpoint in result["endpoints"].values())
    assert checks["acked_answers"] > students and checks["lost_answers"] == 0
    assert checks["attempts"] == checks["submitted"] == checks["submits_acknowledged"] == students
    assert checks["students_with_two_attempts"] == 0
