"""Sending Celery tasks by name. Service modules call this instead of importing exams.tasks, so the tasks
(which call the services) sit on top and no service imports back up into them. Routing (settings
CELERY_TASK_ROUTES) works on the name, as it does for `.delay`."""
from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

GRADE_CODE_RESPONSE = "exams.grade_code_response"
PREGENERATE_ASSESSMENT = "exams.pregenerate_assessment"
REFRESH_STATISTICS = "exams.refresh_statistics"
GROUP_ANSWERS = "exams.group_answers"
PREPARE_ATTEMPT_VARIANTS = "exams.prepare_attempt_variants"
GRADE_UNPREPARED_RESPONSES = "exams.grade_unprepared_responses"


def send(task_name: str, *args: Any, **options: Any) -> None:
    app = current_app
    if app.conf.task_always_eager:  # tests and CELERY_TASK_ALWAYS_EAGER: run here, as .delay() would
        app.loader.import_default_modules()
        app.tasks[task_name].apply(args=args, **options)
        return
    app.send_task(task_name, args=args, **options)


def send_on_commit(task_name: str, *args: Any, **options: Any) -> None:
    """After the current transaction commits, so a worker never looks for a row that is not committed yet."""
    transaction.on_commit(lambda: send(task_name, *args, **options))


def send_or_log(task_name: str, *args: Any) -> bool:
    """Send now; a broker that is down (Redis restarting) only logs, so what already committed stands: the
    redispatch sweep (exams.redispatch_stalled_grading) sends the work later. True iff it was sent."""
    try:
        send(task_name, *args)
    except Exception as error:
        logger.warning("%s%r not sent: the broker refused it (%s: %s); the redispatch sweep will send it",
                       task_name, args, type(error).__name__, error)
        return False
    return True


def send_safely_on_commit(task_name: str, *args: Any) -> None:
    """send_or_log after the current transaction commits."""
    transaction.on_commit(lambda: send_or_log(task_name, *args))


def send_code_grading(response_id: int) -> bool:
    """Send one code grading; with the broker down the response stays QUEUED for the redispatch sweep."""
    return send_or_log(GRADE_CODE_RESPONSE, response_id)


def send_code_grading_on_commit(response_id: int) -> None:
    transaction.on_commit(lambda: send_code_grading(response_id))
