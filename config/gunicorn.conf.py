"""gunicorn settings for the production profile (scripts/prod.sh; docs/deploy.md). Every value can be
overridden with the environment variable named beside it.

The application is loaded once in the master (`preload_app`) and warmed there: URL patterns, the page
templates and the Pygments lexer (its ~100 regular expressions cost ~100 ms the first time a code question
is shown), so every forked worker starts with them in shared memory instead of paying them on a student's
request. No database connection is opened before the fork.
"""
from __future__ import annotations

import gc
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("WEB_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
preload_app = True
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 20
# gthread keeps idle connections open this long: longer than the quiz page's 15 s autosave rhythm, so a
# browser's next save does not race the server closing its connection (measured: "connection reset" errors).
keepalive = int(os.environ.get("WEB_KEEPALIVE", "20"))
backlog = 2048  # a class arriving at once queues in the kernel, not refused
accesslog = os.environ.get("WEB_ACCESS_LOG") or None  # off by default: a log line per request costs CPU
# gunicorn 23+ opens a control socket in the home directory by default, shared by every gunicorn of the user:
# two servers on one machine (prod.sh and the load test) would fight over it, and nothing here uses it.
control_socket_disable = True


def when_ready(server) -> None:  # runs in the master, after the app is loaded and before workers fork
    from django.db import connections
    from django.template.loader import get_template
    from django.urls import get_resolver

    from quizbank.rendering import highlight_python

    get_resolver().url_patterns  # noqa: B018  (imports every view module)
    for name in ("base.html", "exams/dashboard.html", "exams/assessment_start.html", "exams/attempt_quiz.html",
                 "exams/_question.html", "exams/attempt_result.html", "registration/login.html"):
        try:
            get_template(name)
        except Exception as error:  # a renamed template must not stop the server from starting
            server.log.warning("warm-up: template %s: %s", name, error)
    highlight_python("def f(x):\n    return x\n")
    connections.close_all()
    # What the master loaded is kept out of the garbage collector's scans in every worker: the collections a
    # request triggers no longer walk the whole application, and the pages stay shared copy-on-write.
    gc.freeze()
    server.log.info("warm-up done: URL patterns, page templates and the Python lexer are loaded")
