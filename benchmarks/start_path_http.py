"""The start path's server CPU per request over HTTP, one student at a time: gunicorn (the production config,
one sync worker) + the database and cache of this process, N students each loading the start page, POSTing
start and loading the quiz page, sequentially. Without a crowd, the CPU of the worker and of the PostgreSQL
backends per request is the cost a spike multiplies (benchmarks/class_load.py measures the crowd).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dlquiz_load CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \\
      DJANGO_CACHE_URL=redis://127.0.0.1:6379/8 .venv/bin/python benchmarks/start_path_http.py --students 200

CPU comes from /proc in clock ticks (10 ms), summed over all requests of a kind, so the means are exact to
well under a millisecond with a few hundred students. The first student is left out (each process's first
requests load code).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("start page", "start", "quiz page")


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the gunicorn master and its worker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for each in [pid, *map(int, children)]:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Browser:
    """One student's cookies over plain http.client (a new connection per request, as sync gunicorn closes)."""

    def __init__(self, port: int, cookies: dict[str, str]) -> None:
        self.port, self.cookies = port, dict(cookies)

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection.request(method, path, body=body, headers={"Cookie": cookie, **(headers or {})})
        response = connection.getresponse()
        response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        connection.close()
        return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--quiz", default="Quiz 1")
    parser.add_argument("--port", type=int, default=8013)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    import class_load

    quiz = class_load.demo_quiz(args.quiz)
    from django.conf import settings
    from django.db import connection

    sessions = class_load.prepare(quiz, args.students)
    postgres = connection.vendor == "postgresql"
    connection.close()
    log_dir = Path(os.environ.get("DLQUIZ_VAR_DIR", ROOT / "var")) / "log" / "start-path"
    cpu = {kind: 0.0 for kind in KINDS}
    database_cpu = 0.0
    with class_load.serve(bind=f"127.0.0.1:{args.port}", web_workers=1, web_threads=1, log_dir=log_dir) as url:
        web = class_load.SERVED["web"]

        def backends() -> float:
            return sum(seconds for role, seconds in class_load.cpu_by_pid({}).values() if role == "postgres")

        for index, person in enumerate(sessions):
            measured = index > 0
            if index == 1 and postgres:
                database_before = backends()
            browser = Browser(args.port, {settings.SESSION_COOKIE_NAME: person["session"]})
            start_url = f"/assessments/{quiz.pk}/"
            steps = [("start page", "GET", start_url, None, {}),
                     ("start", "POST", start_url + "start", "", {
                         "Content-Type": "application/x-www-form-urlencoded", "Referer": url + start_url})]
            location = ""
            for kind, method, path, body, headers in steps:
                if body is not None:
                    body = f"csrfmiddlewaretoken={browser.cookies.get('csrftoken', '')}"
                before = _tree_cpu(web)
                response = browser.request(method, path, body, headers)
                if measured:
                    cpu[kind] += _tree_cpu(web) - before
                location = response.getheader("Location") or location
            if "/attempts/" not in location:
                raise SystemExit(f"start did not lead to an attempt (Location {location!r})")
            before = _tree_cpu(web)
            if browser.request("GET", location).status != 200:
                raise SystemExit(f"quiz page {location} failed")
            if measured:
                cpu["quiz page"] += _tree_cpu(web) - before
        if postgres:
            database_cpu = backends() - database_before
    count = max(len(sessions) - 1, 1)
    result = {kind: round(seconds / count * 1000, 1) for kind, seconds in cpu.items()}
    result["web per student"] = round(sum(cpu.values()) / count * 1000, 1)
    if postgres:
        result["postgres per student"] = round(database_cpu / count * 1000, 1)
    print(f"{connection.vendor}, {count} students measured, load average {os.getloadavg()[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: mean server CPU ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
