"""Celery tasks of the item analysis; both take scopes (strings), are safe to run twice and cheap when
nothing changed."""
from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, name="exams.refresh_statistics", ignore_result=True)
def refresh_statistics(scope: str) -> bool:
    from exams.analytics.caching import refresh

    return refresh(scope)


@shared_task(acks_late=True, name="exams.refresh_stale_statistics", ignore_result=True)
def refresh_stale_statistics() -> int:
    from exams.analytics.caching import refresh_stale

    return refresh_stale()
