"""`/healthz` for a load balancer or an uptime check: is this web node able to serve a class?

The database decides (without it nothing works): 200 when a query answers, 503 when it does not. The cache is
reported but does not fail the check: with Redis away, autosave and submit still work (tests/
test_production_faults.py), so taking the node out of rotation would turn a degraded service into none.
No login, no session, no template: a probe every few seconds costs a query and a cache round trip."""
from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = {"database": _database(), "cache": _cache()}
    return JsonResponse(report, status=200 if report["database"] == "ok" else 503)
