"""The load generator of benchmarks/class_load.py: N students over HTTP with locust (FastHttpUser on gevent).
It imports no Django (gevent patches this process): it reads the plan that class_load.py wrote (base URL,
assessment, each student's session cookie) and writes what it measured and what the server acknowledged.

    .venv/bin/python benchmarks/class_load_driver.py PLAN.json RESULT.json

Each student, at their own moment within `start_seconds` of the start: the start page, POST start, the quiz
page, its stylesheet and static files (a cold browser cache); then an autosave every `autosave_every`
seconds (the first after a random delay) for `autosave_seconds`, sending `seq` as static/js/quiz.js does,
and retrying a failed save with the same text and a higher seq; then all submit within `submit_seconds`,
and load the result page, and load it again when it says to (code still being graded: static/js/result.js).
"""
from __future__ import annotations

import os

# Addresses here are IP literals: resolving one in gevent's default thread pool cost ~15% of this process's CPU
# (sync gunicorn closes every connection, so each request connects anew).
os.environ.setdefault("GEVENT_RESOLVER", "block")

from gevent import monkey  # noqa: E402

monkey.patch_all()

import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

SLOT = re.compile(rb' data-slot="(\d+)"')
ASSET = re.compile(rb'(?:href|src)="(/static/[^"]+)"')
REFRESH = re.compile(rb'data-reload-after-ms="(\d+)" data-reload-url="([^"]+)"')
MAX_RESULT_REFRESHES = 4
PLAN: dict[str, Any] = {}
RESULTS: dict[str, dict[str, Any]] = {}
T0 = 0.0


class Student(FastHttpUser):
    host = "http://127.0.0.1:8000"
    network_timeout = 120.0
    connection_timeout = 120.0

    @task
    def take_the_quiz(self) -> None:
        index = len(RESULTS)
        person = PLAN["students"][index]
        record: dict[str, Any] = {"username": person["username"], "acked": {}, "submitted": False, "errors": []}
        RESULTS[person["username"]] = record
        self.client.cookiejar.set_cookie(self._cookie(PLAN["session_cookie"], person["session"]))
        gevent.sleep(max(0.0, T0 + index * PLAN["start_seconds"] / len(PLAN["students"]) - time.time()))
        try:
            self._run(record)
        finally:
            record["done"] = True
        raise StopUser()

    def _cookie(self, name: str, value: str):
        from http.cookiejar import Cookie

        return Cookie(0, name, value, None, False, "127.0.0.1", False, False, "/", True, False, None, False, None,
                      None, {})

    def _csrf(self) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    def _run(self, record: dict[str, Any]) -> None:
        start_url = f"/assessments/{PLAN['assessment']}/"
        with self.client.get(start_url, name="start page", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
        with self.client.post(start_url + "start", data={"csrfmiddlewaretoken": self._csrf()}, name="start",
                              allow_redirects=False, catch_response=True,
                              headers={"Referer": self.host + start_url}) as response:
            location = response.headers.get("Location", "") if response.status_code == 302 else ""
            if "/attempts/" not in location:
                response.failure(f"status {response.status_code} location {location!r}")
                return
        attempt_url = "/attempts/" + location.rstrip("/").rsplit("/", 1)[-1] + "/"
        record["attempt_url"] = attempt_url
        with self.client.get(attempt_url, name="quiz page", catch_response=True) as response:
            body = response.content or b""
            slots = [int(s) for s in SLOT.findall(body)]
            if response.status_code != 200 or not slots:
                response.failure(f"status {response.status_code}, {len(slots)} questions")
                return
        if not PLAN.get("cached_static"):  # a cold browser cache (the default); warm: the files are cached
            if b'href="/pygments.css"' in body:  # the highlighting's colours, when not in a bundle
                self.client.get("/pygments.css", name="stylesheet")
            for asset in dict.fromkeys(a.decode() for a in ASSET.findall(body)):
                self.client.get(asset, name="static file")
        record["started_at"] = time.time()  # the end of this student's part of the start spike
        record["slots"] = slots
        self._autosave(record, attempt_url, slots)
        gevent.sleep(max(0.0, PLAN["submit_at"] + random.uniform(0, PLAN["submit_seconds"]) - time.time()))
        with self.client.post(attempt_url + "submit", data={"csrfmiddlewaretoken": self._csrf(), "reason": "student"},
                              name="submit", allow_redirects=False, catch_response=True,
                              headers={"Referer": self.host + attempt_url}) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")
                return
            record["submitted"] = True
        url, name = attempt_url, "result page"
        for _ in range(MAX_RESULT_REFRESHES):  # as static/js/result.js: look again while code is being graded
            with self.client.get(url, name=name, catch_response=True) as response:
                found = REFRESH.search(response.content or b"")
                if response.status_code != 200:
                    response.failure(f"status {response.status_code}")
                    return
            if not found:
                return
            gevent.sleep(int(found.group(1)) / 1000)
            url, name = attempt_url + found.group(2).decode(), "result page refresh"

    def _autosave(self, record: dict[str, Any], attempt_url: str, slots: list[int]) -> None:
        seq = int(time.time() * 1000) % 1_000_000 * 2_097_152  # as quiz.js: the tab's start, then a counter
        next_save = time.time() + random.uniform(0, PLAN["autosave_every"])
        saves = 0
        while next_save < PLAN["submit_at"]:
            gevent.sleep(max(0.0, next_save - time.time()))
            slot = slots[saves % len(slots)]
            text = f"{record['username']} answer {saves}"
            record.setdefault("unacked", {})[str(slot)] = text  # sent: stored or not, until acknowledged
            for _ in range(4):  # a failed save is sent again, with a higher seq, as the page does
                seq += 1
                with self.client.post(attempt_url + "save", name="autosave", catch_response=True,
                                      data=json.dumps({"slot": slot, "response": text, "seq": seq}),
                                      headers={"Content-Type": "application/json", "X-CSRFToken": self._csrf(),
                                               "X-Requested-With": "fetch"}) as response:
                    if response.status_code == 200:
                        reply = json.loads(response.content)
                        if reply.get("ok") and not reply.get("stale"):
                            record["acked"][str(slot)] = text
                            record["unacked"].pop(str(slot), None)
                        break
                    response.failure(f"status {response.status_code}")
                gevent.sleep(1.0)
            saves += 1
            next_save += PLAN["autosave_every"]


def main() -> None:
    global T0
    plan_path, result_path = sys.argv[1], sys.argv[2]
    PLAN.update(json.load(open(plan_path)))
    Student.host = PLAN["base_url"]
    count = len(PLAN["students"])
    env = Environment(user_classes=[Student], events=events)
    runner = env.create_local_runner()
    T0 = time.time() + 2.0
    PLAN["submit_at"] = T0 + PLAN["start_seconds"] + PLAN["autosave_seconds"]
    runner.start(count, spawn_rate=max(count, 1) * 10)
    deadline = PLAN["submit_at"] + PLAN["submit_seconds"] + 600
    while time.time() < deadline and sum(1 for r in RESULTS.values() if r.get("done")) < count:
        gevent.sleep(0.5)
    runner.quit()
    endpoints = {}
    for (name, method), entry in sorted(env.stats.entries.items()):
        endpoints[name] = {
            "requests": entry.num_requests, "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5), "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99), "max_ms": round(entry.max_response_time or 0, 1),
        }
    errors = [{"name": e.name, "error": str(e.error)[:300], "occurrences": e.occurrences}
              for e in env.stats.errors.values()]
    json.dump({"endpoints": endpoints, "errors": errors, "students": RESULTS,
               "t0": T0, "submit_at": PLAN["submit_at"]}, open(result_path, "w"))


if __name__ == "__main__":
    main()
