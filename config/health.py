"""`/healthz` for a load balancer or an uptime check: is this web node able to serve a class?

The database decides (without it nothing works): 200 when a query answers, 503 when it does not. The cache is
reported but does not fail the check: with Redis away, autosave and submit still work (tests/
test_production_faults.py), so taking the node out of rotation would turn a degraded service into none.

Answered by the first middleware, before SecurityMiddleware and before anything asks for the host: a probe
over plain HTTP to a node that redirects browsers to HTTPS (`DJANGO_HTTPS=1`), or one that names the node by
its IP (not in ALLOWED_HOSTS), must still get the answer, not a 301 or a 400. It reports nothing but ok or
unavailable. GET and HEAD; no session, no template: a probe every few seconds costs a query and a cache
round trip."""
from __future__ import annotations

import json
import logging
from typing import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)
PATH = "/healthz"


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means the node cannot serve
        logger.warning("health check: the database did not answer (%s: %s)", type(error).__name__, error)
        return "unavailable"


def _cache() -> str:
    try:
        cache.set("healthz", 1, 30)
        return "ok" if cache.get("healthz") == 1 else "unavailable"
    except Exception as error:  # noqa: BLE001
        logger.warning("health check: the cache did not answer (%s: %s)", type(error).__name__, error)
        return "unavailable"


def health_report() -> tuple[dict[str, str], int]:
    report = {"database": _database(), "cache": _cache()}
    return report, 200 if report["database"] == "ok" else 503


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        report, status = health_report()
        response = HttpResponse(json.dumps(report), status=status, content_type="application/json")
        response["Cache-Control"] = "no-store"
        return response
